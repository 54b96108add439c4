#!/usr/bin/env bash
# Two builds of `bandi serve` against each other with wrk on SQLite, alternated (A, B, A, B,
# ...) so that the machine's noise falls on both. One database of WRK_ENTITIES entities, a
# call and a token each is prepared once (by the second build's `bandi rehearse
# --requests-out`); every run starts its build on a fresh copy of it, sends 1 s of warm-up,
# WRK_SECONDS of GET /api/v1/health and WRK_SECONDS of submissions (scripts/wrk-submit.lua, one
# distinct entity's realistic submission per request), and reads the server's CPU time over
# the submissions from /proc/PID/stat. Prints each run and each build's medians.
#
#   ./scripts/bench-compare-wrk.sh OLD_BANDI NEW_BANDI
#   ROUNDS=5 ./scripts/bench-compare-wrk.sh old/bandi target/release/bandi
#
# Environment: ROUNDS (4), WRK_SECONDS (10), WRK_CONNECTIONS (64), WRK_ENTITIES (300000).
# Needs curl and wrk. The health phase also gives the server the time to load its tokens
# (7 s for 300,000 under load here): submissions measured during that load cost more.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ $# -eq 2 ]] || { echo "usage: $0 OLD_BANDI NEW_BANDI" >&2; exit 2; }
A=$1
B=$2
ROUNDS=${ROUNDS:-4}
WRK_SECONDS=${WRK_SECONDS:-10}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_ENTITIES=${WRK_ENTITIES:-300000}
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=target/bench-compare-wrk/$STAMP
mkdir -p "$OUT"
for tool in curl wrk; do
  command -v "$tool" >/dev/null || { echo "$0 needs $tool" >&2; exit 1; }
done

SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

source scripts/bench-lib.sh
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "== preparing $WRK_ENTITIES entities"
"$B" --database "sqlite:$OUT/prepared.db" rehearse --entities "$WRK_ENTITIES" \
  --requests-out "$OUT/requests.tsv" >"$OUT/prepare.txt" 2>&1
TICK=$(getconf CLK_TCK)

printf 'round\tbuild\tsubmit_per_s\tp99_ms\thealth_per_s\tratio\tcpu_us_per_submission\n' >"$OUT/runs.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for build in A B; do
    bin=$A
    [[ $build == B ]] && bin=$B
    db="$OUT/$round-$build.db"
    cp "$OUT/prepared.db" "$db"
    port=$(free_port 18300)
    url="http://127.0.0.1:$port"
    RUST_LOG=warn "$bin" --database "sqlite:$db" serve --listen "127.0.0.1:$port" \
      >"$OUT/$round-$build.log" 2>&1 &
    SERVER_PID=$!
    wait_healthy "$port" "$SERVER_PID" "$OUT/$round-$build.log"
    wrk -t1 -c"$WRK_CONNECTIONS" -d1s -s scripts/wrk-submit.lua "$url" >/dev/null 2>&1
    h="$OUT/$round-$build.health.txt" w="$OUT/$round-$build.submit.txt"
    wrk -t1 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" -s scripts/wrk-submit.lua "$url" >"$h" 2>&1
    c0=$(cpu_ticks "$SERVER_PID")
    wrk -t1 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency -s scripts/wrk-submit.lua "$url" \
      -- "$OUT/requests.tsv" 1 >"$w" 2>&1
    c1=$(cpu_ticks "$SERVER_PID")
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    rm -f "$db" "$db-wal" "$db-shm"
    awk -v r="$round" -v b="$build" -v n="$(wrk_field "$w" status_201)" -v d="$(wrk_field "$w" duration_us)" \
      -v p99="$(wrk_field "$w" p99_us)" -v hn="$(wrk_field "$h" status_200)" -v hd="$(wrk_field "$h" duration_us)" \
      -v ticks=$((c1 - c0)) -v tick="$TICK" 'BEGIN {
        s = n / (d / 1e6); hs = hn / (hd / 1e6)
        printf "%s\t%s\t%.0f\t%.1f\t%.0f\t%.3f\t%.1f\n", r, b, s, p99 / 1000, hs, s / hs, (n > 0 ? ticks / tick * 1e6 / n : 0)
      }' | tee -a "$OUT/runs.tsv"
  done
done

echo
echo "medians (A = $A, B = $B):"
for build in A B; do
  awk -F'\t' -v b="$build" 'NR > 1 && $2 == b' "$OUT/runs.tsv" | sort -t$'\t' -k3,3n | awk -F'\t' -v b="$build" '
    { s[NR] = $3; r[NR] = $6; c[NR] = $7 }
    END { m = int((NR + 1) / 2); printf "  %s: %s submissions/s, ratio to health %s, %s µs server CPU per submission (the run of median throughput, of %d)\n", b, s[m], r[m], c[m], NR }'
done
echo "runs: $OUT/runs.tsv"
