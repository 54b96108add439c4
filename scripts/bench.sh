#!/usr/bin/env bash
# Click-day benchmarks: durable submissions per second at 1, 8, 64 and 256 concurrent clients,
# on SQLite and on PostgreSQL, with the sequencer and with the naive intake (one locking
# transaction per request), each next to GET /api/v1/health on the same server in the same
# run; the server's peak RSS under each load; and, on each database after its largest run,
# `bandi verify` and the server's start-up time (spawn to the first 200 on /health); and an
# overload run per backend at ten times the 64-client rate (OVERLOAD_FACTOR; empty: none),
# from one address and from 256 (OVERLOAD_ADDRESSES).
#
# Each run is `bandi rehearse --target` against a separate `bandi serve` process started for
# that run alone (so that its VmHWM is the peak of that load). Ratios are taken inside one
# run, because the machine is shared: compare ratios more than absolute figures.
#
# Then, per backend with the sequencer, the same from outside with `wrk` (a C load generator
# that costs the server's cores little) and scripts/wrk-submit.lua: WRK_SECONDS of GET
# /api/v1/health, then WRK_SECONDS of submissions, one distinct entity's each (prepared by
# `bandi rehearse --requests-out`), at WRK_CONNECTIONS; with the server's CPU time per
# submission and bytes written per application (/proc/PID/stat and /proc/PID/io, over the
# submission phase), its peak RSS, and `bandi verify` of what it took; and where the phase's
# time went: each busy thread of the server on a core, waiting for one, and asleep
# (/proc/PID/task/*/schedstat), and the machine's CPU (/proc/stat), in <backend>-wrk.time.tsv.
#
#   ./scripts/bench.sh                          # everything, about 7 minutes on 2 cores
#   CLIENTS="64" BACKENDS=sqlite INTAKES=sequencer ./scripts/bench.sh
#   LOADS=wrk BACKENDS=sqlite ./scripts/bench.sh
#   LOADS="wrk floor" BACKENDS=sqlite ./scripts/bench.sh   # and the issue's floor beside it
#
# With "floor" in LOADS, the SQLite wrk phases run once more, with the same requests, against
# tools/floor (bandi-floor: the throwaway single-file intake issue 17 measured, built into
# target/floor unless FLOOR names its binary), and the tables end with bandi ÷ floor.
#
# Environment: LOADS (rehearse wrk), WRK_SECONDS (10), WRK_CONNECTIONS (64), WRK_ENTITIES
# (300000: more than a run can send), CLIENTS, BACKENDS (sqlite postgres), INTAKES (sequencer naive), ENTITIES
# (per run, default 5000: at 10,000/s, 2,000 lasted 0.2 s and runs spread widely),
# SERVER_LOG (the servers' RUST_LOG, default warn; bandi_store=debug traces each batch),
# OVERLOAD_FACTOR, OVERLOAD_ADDRESSES (default "1 256"), BENCH_POSTGRES_URL (server URL
# without database, default postgres://postgres@127.0.0.1:5432), BANDI (binary; default
# builds release).
# Needs curl and jq. Writes target/bench/<stamp>/: one JSON per run, runs.tsv, results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

LOADS=${LOADS:-"rehearse wrk"}
WRK_SECONDS=${WRK_SECONDS:-10}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_ENTITIES=${WRK_ENTITIES:-300000}
CLIENTS=${CLIENTS:-"1 8 64 256"}
BACKENDS=${BACKENDS:-"sqlite postgres"}
INTAKES=${INTAKES:-"sequencer naive"}
PG=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=target/bench/$STAMP
mkdir -p "$OUT"

if [[ -z "${BANDI:-}" ]]; then
  cargo build --release -p bandi
  BANDI=target/release/bandi
fi
if [[ $LOADS == *floor* && -z "${FLOOR:-}" ]]; then
  cargo build --release --manifest-path tools/floor/Cargo.toml --target-dir target/floor
  FLOOR=target/floor/release/bandi-floor
fi
tools="curl jq"
[[ $LOADS == *wrk* ]] && tools="$tools wrk"
for tool in $tools; do
  command -v "$tool" >/dev/null || { echo "bench.sh needs $tool" >&2; exit 1; }
done

# Entities (one submission each) per run, the same at every concurrency: the cost of a
# submission may grow with the applications already in its call.
ENTITIES=${ENTITIES:-5000}
entities_for() { echo "$ENTITIES"; }

# free_port, now_ms, wait_healthy, wrk_field.
source scripts/bench-lib.sh

SERVER_PID=""
PG_DBS=()
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  for db in "${PG_DBS[@]}"; do
    psql -q -d "$PG/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

# Starts `bandi serve` on DB; sets SERVER_PID, PORT and STARTUP_MS (spawn to first 200).
start_server() {
  local db=$1 intake=$2 log=$3 flag=()
  [[ $intake == naive ]] && flag=(--naive-intake)
  PORT=$(free_port 18100)
  local t0; t0=$(now_ms)
  # The load generator stands for the Region's proxy: with --addresses it names its
  # clients in X-Forwarded-For, which the server believes from a trusted proxy only.
  RUST_LOG=${SERVER_LOG:-warn} "$BANDI" --database "$db" serve --listen "127.0.0.1:$PORT" --trusted-proxy 127.0.0.1 "${flag[@]}" >"$log" 2>&1 &
  SERVER_PID=$!
  wait_healthy "$PORT" "$SERVER_PID" "$log"
  STARTUP_MS=$(( $(now_ms) - t0 ))
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# A new, migrated database of backend $1 for runs named $2; sets db.
new_database() {
  case $1 in
    sqlite) db="sqlite:$OUT/$1-$2.db" ;;
    postgres)
      local name="bandi_bench_${STAMP//-/_}_$2"
      psql -q -d "$PG/postgres" -c "CREATE DATABASE $name" >/dev/null
      PG_DBS+=("$name")
      db="$PG/$name"
      ;;
    *) echo "unknown backend $1" >&2; exit 1 ;;
  esac
  "$BANDI" --database "$db" migrate >/dev/null
}

rss_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# CPU time (user + system, in clock ticks of 10 ms) and bytes written to storage so far.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
write_bytes() { awk '/^write_bytes:/ {print $2}' "/proc/$1/io"; }
# Per thread of process $1: tid, name, ns on a core, ns waiting for one (schedstat),
# voluntary switches (sleeps: waits for work, locks, I/O).
thread_stats() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s\t%s\t%s\t%s\n' "${t##*/}" "$(cat "$t/comm")" "$(cut -d' ' -f1,2 --output-delimiter=$'\t' "$t/schedstat")" \
      "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status")"
  done 2>/dev/null
}
# The machine's CPU line of /proc/stat: user nice system idle iowait irq softirq steal.
machine_cpu() { head -1 /proc/stat; }
# Where the time of the phase between two thread_stats ($1, $2) and two machine_cpu ($3, $4)
# went, over $5 seconds: each thread busy for more than 1% of it (from 0 if it started in
# the phase), then the machine.
where_the_time_went() {
  awk -F'\t' -v s="$5" 'NR == FNR { cpu[$1] = $3; wait[$1] = $4; vol[$1] = $5; next }
    ($3 - cpu[$1]) > s * 1e7 {
      printf "thread\t%s\t%s\ton-core %.0f%%\twaiting for a core %.0f%%\tsleeps %d/s\n", $1, $2,
        ($3 - cpu[$1]) / s / 1e7, ($4 - wait[$1]) / s / 1e7, ($5 - vol[$1]) / s }' "$1" "$2"
  awk -v a="$3" -v b="$4" 'BEGIN { split(a, x, " "); split(b, y, " "); t = 0
      for (i = 2; i <= 9; i++) { d[i] = y[i] - x[i]; t += d[i] }
      printf "machine\tuser %.0f%%\tsystem %.0f%%\tsoftirq %.0f%%\tiowait %.0f%%\tidle %.0f%%\tsteal %.0f%%\n",
        100 * (d[2] + d[3]) / t, 100 * d[4] / t, 100 * d[8] / t, 100 * d[6] / t, 100 * d[5] / t, 100 * d[9] / t }'
}
# The wrk phases on database $2 of backend $1 (see the header); one line in wrk.tsv. With
# LOADS containing "floor", on SQLite, the same phases against the issue's floor next.
wrk_runs() {
  local backend=$1 db=$2 requests="$OUT/$1.requests.tsv"
  echo "== $backend-wrk: preparing $WRK_ENTITIES entities"
  "$BANDI" --database "$db" rehearse --entities "$WRK_ENTITIES" --requests-out "$requests" >"$OUT/$backend-wrk.prepare.txt" 2>&1
  start_server "$db" sequencer "$OUT/$backend-wrk.server.log"
  wrk_phases "$backend" "$requests" "$db"
  if [[ $LOADS == *floor* && $backend == sqlite ]]; then
    start_floor "$OUT/floor.db" "$OUT/sqlite-floor-wrk.server.log"
    wrk_phases sqlite-floor "$requests" ""
  fi
}

# The bandi-floor server (tools/floor, the issue's throwaway design) on SQLite file $1, as
# start_server does for bandi.
start_floor() {
  PORT=$(free_port 18100)
  local t0; t0=$(now_ms)
  "$FLOOR" "$1" "127.0.0.1:$PORT" >"$2" 2>&1 &
  SERVER_PID=$!
  wait_healthy "$PORT" "$SERVER_PID" "$2"
  STARTUP_MS=$(( $(now_ms) - t0 ))
}

# wrk's health and submission phases against the server at $PORT (SERVER_PID), named $1, with
# the requests of file $2; then `bandi verify` of database $3 unless it is empty.
wrk_phases() {
  local backend=$1 requests=$2 db=$3 url="http://127.0.0.1:$PORT"
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  # Warm the connections and the tokens (the first authenticated request loads them).
  wrk -t1 -c"$WRK_CONNECTIONS" -d1s -s scripts/wrk-submit.lua "$url" >/dev/null 2>&1
  wrk -t1 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency -s scripts/wrk-submit.lua "$url" >"$OUT/$backend-wrk.health.txt" 2>&1
  local cpu0 io0 cpu1 io1 m0 m1
  cpu0=$(cpu_ticks "$SERVER_PID"); io0=$(write_bytes "$SERVER_PID")
  thread_stats "$SERVER_PID" >"$OUT/$backend-wrk.threads0.tsv"; m0=$(machine_cpu)
  wrk -t1 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency -s scripts/wrk-submit.lua "$url" -- "$requests" 1 >"$OUT/$backend-wrk.submit.txt" 2>&1
  cpu1=$(cpu_ticks "$SERVER_PID"); io1=$(write_bytes "$SERVER_PID")
  thread_stats "$SERVER_PID" >"$OUT/$backend-wrk.threads1.tsv"; m1=$(machine_cpu)
  where_the_time_went "$OUT/$backend-wrk.threads0.tsv" "$OUT/$backend-wrk.threads1.tsv" "$m0" "$m1" "$WRK_SECONDS" >"$OUT/$backend-wrk.time.tsv"
  sed 's/^/   /' "$OUT/$backend-wrk.time.tsv"
  local rss; rss=$(rss_kib "$SERVER_PID")
  stop_server
  local h="$OUT/$backend-wrk.health.txt" w="$OUT/$backend-wrk.submit.txt"
  local created health_per_s per_s; created=$(wrk_field "$w" status_201)
  health_per_s=$(awk -v n="$(wrk_field "$h" status_200)" -v d="$(wrk_field "$h" duration_us)" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
  per_s=$(awk -v n="$created" -v d="$(wrk_field "$w" duration_us)" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
  local t0 verified=- verify_ms=-; t0=$(now_ms)
  if [[ -n $db ]]; then
    "$BANDI" --database "$db" verify >"$OUT/$backend-wrk.verify.txt" 2>&1 && verified=ok || verified=FAILED
    verify_ms=$(( $(now_ms) - t0 ))
  fi
  awk -v b="$backend" -v c="$WRK_CONNECTIONS" -v s="$per_s" -v h="$health_per_s" -v n="$created" \
    -v p50="$(wrk_field "$w" p50_us)" -v p99="$(wrk_field "$w" p99_us)" \
    -v other="$(wrk_field "$w" other)" -v err="$(wrk_field "$w" errors)" -v ex="$(wrk_field "$w" exhausted)" \
    -v cpu=$(( (cpu1 - cpu0) * 10000 )) -v io=$(( io1 - io0 )) -v rss="$rss" -v la="$load" -v v="$verified" -v vms="$verify_ms" \
    'BEGIN { printf "%s\t%s\t%s\t%s\t%.3f\t%.1f\t%.1f\t%s\t%s\t%s\t%.1f\t%.0f\t%.1f\t%s\t%s\t%s\n",
      b, c, s, h, (h > 0 ? s / h : 0), p50 / 1000, p99 / 1000, n, other + err, ex,
      (n > 0 ? cpu / n : 0), (n > 0 ? io / n : 0), rss / 1024, la, v, vms }' >>"$OUT/wrk.tsv"
  tail -n 1 "$OUT/wrk.tsv" | awk -F'\t' '{printf "   wrk: %s submissions/s (p99 %s ms), health %s/s, ratio %s; %s µs server CPU and %s bytes written per submission; peak RSS %s MiB; verify %s\n", $3, $7, $4, $5, $11, $12, $13, $15}'
}

printf 'backend\tintake\tclients\tentities\tsubmit_per_s\tsubmit_p50\tsubmit_p99\thealth_per_s\thealth_p99\tratio\trss_mib\tstartup_ms\tloadavg\tok\n' >"$OUT/runs.tsv"
: >"$OUT/after.tsv"
: >"$OUT/overload.tsv"
: >"$OUT/wrk.tsv"

for backend in $BACKENDS; do
  for intake in $INTAKES; do
    [[ $LOADS == *rehearse* ]] || continue
    new_database "$backend" "$intake"
    for c in $CLIENTS; do
      n=$(entities_for "$c")
      run="$backend-$intake-$c"
      start_server "$db" "$intake" "$OUT/$run.server.log"
      load=$(cut -d' ' -f1-3 /proc/loadavg)
      echo "== $run: $n entities, $c clients (server up in ${STARTUP_MS} ms; load average $load)"
      "$BANDI" --database "$db" rehearse --target "http://127.0.0.1:$PORT" \
        --entities "$n" --clients "$c" --bad-share 0 --retry-share 0 \
        --json "$OUT/$run.json" >"$OUT/$run.txt" 2>&1 || echo "   (checks failed: see $OUT/$run.txt)"
      rss=$(rss_kib "$SERVER_PID")
      stop_server
      jq -r --arg b "$backend" --arg i "$intake" --arg rss "$rss" --arg st "$STARTUP_MS" --arg la "$load" \
        '[$b, $i, .clients, .entities, .submissions.durable_per_s, .submissions.created.p50_ms,
          .submissions.created.p99_ms, .health.per_s, .health.latency.p99_ms,
          .ratio_submissions_to_health, (($rss | tonumber) / 1024 | . * 10 | round / 10), $st, $la, .ok] | @tsv' \
        "$OUT/$run.json" >>"$OUT/runs.tsv"
      tail -n 1 "$OUT/runs.tsv" | awk -F'\t' '{printf "   %s submissions/s (p99 %s ms), health %s/s, ratio %s, server peak RSS %s MiB\n", $5, $7, $8, $10, $11}'
    done
    # Overload: ten times the rate the 64-client run reached, open loop, up to 2,048
    # submissions in progress: what is admitted and how fast, what is refused and how fast;
    # from one address (the per-address limit binds) and from 256 (as a region's authorities
    # behind a proxy that names them in X-Forwarded-For: the queue's limits bind).
    if [[ $intake == sequencer && -n "${OVERLOAD_FACTOR-10}" ]]; then
      base=$(awk -F'\t' -v b="$backend" '$1 == b && $2 == "sequencer" && $3 == 64 { print int($5) }' "$OUT/runs.tsv")
      if [[ -n "$base" && "$base" -gt 0 ]]; then
        rate=$(( base * ${OVERLOAD_FACTOR:-10} ))
        for addresses in ${OVERLOAD_ADDRESSES:-1 256}; do
          run="$backend-overload-$addresses"
          start_server "$db" "$intake" "$OUT/$run.server.log"
          load=$(cut -d' ' -f1-3 /proc/loadavg)
          echo "== $run: $ENTITIES entities at $rate/s (10 × $base/s) from $addresses address(es), up to 2048 in progress (load average $load)"
          "$BANDI" --database "$db" rehearse --target "http://127.0.0.1:$PORT" \
            --entities "$ENTITIES" --rate "$rate" --clients 2048 --addresses "$addresses" \
            --bad-share 0 --retry-share 0 \
            --json "$OUT/$run.json" >"$OUT/$run.txt" 2>&1 || echo "   (checks failed: see $OUT/$run.txt)"
          rss=$(rss_kib "$SERVER_PID")
          stop_server
          jq -r --arg b "$backend" --arg r "$rate" --arg rss "$rss" --arg la "$load" --arg a "$addresses" \
            '[$b, $r, $a, .submissions.created.count, .submissions.created.p50_ms, .submissions.created.p99_ms,
              .submissions.refused_for_load.count, .submissions.refused_for_load.p50_ms,
              .submissions.refused_for_load.p99_ms, (($rss | tonumber) / 1024 | . * 10 | round / 10),
              .submissions.duration_s, $la, .ok] | @tsv' "$OUT/$run.json" >>"$OUT/overload.tsv"
          tail -n 1 "$OUT/overload.tsv" | awk -F'\t' '{printf "   admitted %s (p50 %s ms, p99 %s ms), refused for load %s (p99 %s ms), server peak RSS %s MiB\n", $4, $5, $6, $7, $9, $10}'
        done
      fi
    fi
    # With every run's applications in the database: verify, and start-up once more.
    t0=$(now_ms)
    "$BANDI" --database "$db" verify >"$OUT/$backend-$intake.verify.txt" 2>&1
    verify_ms=$(( $(now_ms) - t0 ))
    apps=$(tail -n 1 "$OUT/$backend-$intake.verify.txt")
    start_server "$db" "$intake" "$OUT/$backend-$intake.restart.log"
    stop_server
    printf '%s\t%s\t%s\t%s\t%s\n' "$backend" "$intake" "$verify_ms" "$STARTUP_MS" "$apps" >>"$OUT/after.tsv"
    echo "== $backend/$intake: verify ${verify_ms} ms, start-up ${STARTUP_MS} ms: $apps"
  done
done

if [[ $LOADS == *wrk* ]]; then
  for backend in $BACKENDS; do
    new_database "$backend" wrk
    wrk_runs "$backend" "$db"
  done
fi

# The markdown table: each intake's figures, and the sequencer ÷ naive ratio per row.
{
  echo "| backend | clients | entities | sequencer subm./s | p50 ms | p99 ms | health req/s | subm. ÷ health | server peak RSS MiB | naive subm./s | naive p99 ms | naive RSS MiB | sequencer ÷ naive | load avg |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' '
    NR == 1 { next }
    { key = $1 FS $3; seen[key] = 1; order[++n] = key
      if ($2 == "sequencer") { s[key] = $0 } else { v[key] = $0 } }
    END {
      for (i = 1; i <= n; i++) {
        key = order[i]; if (done[key]++) continue
        split(s[key], a, FS); split(v[key], b, FS)
        backend = (a[1] != "" ? a[1] : b[1]); clients = (a[3] != "" ? a[3] : b[3])
        ratio = (a[5] != "" && b[5] > 0) ? sprintf("%.1f×", a[5] / b[5]) : "-"
        printf "| %s | %s | %s | %.0f | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n",
          backend, clients, (a[4] != "" ? a[4] : b[4]), a[5], a[6], a[7], a[8], a[10], a[11],
          (b[5] != "" ? sprintf("%.0f", b[5]) : "-"), (b[7] != "" ? b[7] : "-"), (b[11] != "" ? b[11] : "-"),
          ratio, (a[13] != "" ? a[13] : b[13])
      }
    }' "$OUT/runs.tsv"
  echo
  echo "| backend | intake | \`bandi verify\` ms | start-up ms (spawn → first 200) | verify says |"
  echo "|---|---|---:|---:|---|"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$OUT/after.tsv"
  if [[ -s "$OUT/wrk.tsv" ]]; then
    echo
    echo "| backend (wrk, ${WRK_SECONDS} s a phase) | connections | submissions/s | health req/s | subm. ÷ health | p50 ms | p99 ms | created | other answers | ran out | server CPU µs/subm. | bytes written/subm. | peak RSS MiB | load avg | verify | verify ms |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|---:|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 }' "$OUT/wrk.tsv"
    awk -F'\t' '{ s[$1] = $3; c[$1] = $11; w[$1] = $12 }
      END { if (s["sqlite-floor"] > 0 && s["sqlite"] > 0)
        printf "\nbandi ÷ floor on SQLite, same run: %.2f × the submissions/s, %.1f × the server CPU and %.1f × the bytes written per submission\n",
          s["sqlite"] / s["sqlite-floor"], c["sqlite"] / c["sqlite-floor"], w["sqlite"] / w["sqlite-floor"] }' "$OUT/wrk.tsv"
  fi
  if [[ -s "$OUT/overload.tsv" ]]; then
    echo
    echo "| backend | offered rate /s | addresses | admitted (201) | admitted p50 ms | admitted p99 ms | refused for load (429/503) | refused p50 ms | refused p99 ms | server peak RSS MiB | duration s | load avg | all checks |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }' "$OUT/overload.tsv"
  fi
} >"$OUT/results.md"

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "results in $OUT"
echo
cat "$OUT/results.md"
