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
#   ./scripts/bench.sh                          # everything, about 5 minutes on 2 cores
#   CLIENTS="64" BACKENDS=sqlite INTAKES=sequencer ./scripts/bench.sh
#
# Environment: CLIENTS, BACKENDS (sqlite postgres), INTAKES (sequencer naive), ENTITIES
# (per run, default 5000: at 10,000/s, 2,000 lasted 0.2 s and runs spread widely),
# OVERLOAD_FACTOR, OVERLOAD_ADDRESSES (default "1 256"), BENCH_POSTGRES_URL (server URL
# without database, default postgres://postgres@127.0.0.1:5432), BANDI (binary; default
# builds release).
# Needs curl and jq. Writes target/bench/<stamp>/: one JSON per run, runs.tsv, results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

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
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "bench.sh needs $tool" >&2; exit 1; }
done

# Entities (one submission each) per run, the same at every concurrency: the cost of a
# submission may grow with the applications already in its call.
ENTITIES=${ENTITIES:-5000}
entities_for() { echo "$ENTITIES"; }

free_port() {
  local p
  for p in $(seq 18100 18199); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port in 18100-18199" >&2
  exit 1
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

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
  PORT=$(free_port)
  local t0; t0=$(now_ms)
  # The load generator stands for the Region's proxy: with --addresses it names its
  # clients in X-Forwarded-For, which the server believes from a trusted proxy only.
  RUST_LOG=warn "$BANDI" --database "$db" serve --listen "127.0.0.1:$PORT" --trusted-proxy 127.0.0.1 "${flag[@]}" >"$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 3000); do
    if curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/health"; then
      STARTUP_MS=$(( $(now_ms) - t0 ))
      return
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.005
  done
  echo "the server did not answer within 30 s" >&2
  exit 1
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

rss_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

printf 'backend\tintake\tclients\tentities\tsubmit_per_s\tsubmit_p50\tsubmit_p99\thealth_per_s\thealth_p99\tratio\trss_mib\tstartup_ms\tloadavg\tok\n' >"$OUT/runs.tsv"
: >"$OUT/after.tsv"
: >"$OUT/overload.tsv"

for backend in $BACKENDS; do
  for intake in $INTAKES; do
    case $backend in
      sqlite) db="sqlite:$OUT/$backend-$intake.db" ;;
      postgres)
        name="bandi_bench_${STAMP//-/_}_$intake"
        psql -q -d "$PG/postgres" -c "CREATE DATABASE $name" >/dev/null
        PG_DBS+=("$name")
        db="$PG/$name"
        ;;
      *) echo "unknown backend $backend" >&2; exit 1 ;;
    esac
    "$BANDI" --database "$db" migrate >/dev/null
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
