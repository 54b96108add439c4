#!/usr/bin/env bash
# Two builds of `bandi serve` measured against each other in one sitting, so that the
# machine's noise falls on both: ROUNDS alternations (A, B, A, B, ...) of the same rehearsal
# (CLIENTS concurrent clients, ENTITIES entities, one submission each) on each backend, each
# run against a fresh `bandi serve` of that build on a fresh database, the load always sent
# by the same `bandi rehearse` (the second build's). Prints every run and the median of each
# build's submissions/s and ratio to GET /health measured in the same run.
#
#   ./scripts/bench-compare.sh OLD_BANDI NEW_BANDI
#   ROUNDS=5 BACKENDS=sqlite ./scripts/bench-compare.sh old/bandi target/release/bandi
#
# Environment: ROUNDS (3), CLIENTS (64), ENTITIES (5000), BACKENDS (sqlite postgres),
# BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432), LOAD (`second`: the load and the
# seeding by the second build for both; `own`: each build seeds and loads its own server,
# needed when the two builds write the ledger differently). Needs curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ $# -eq 2 ]] || { echo "usage: $0 OLD_BANDI NEW_BANDI" >&2; exit 2; }
A=$1
B=$2
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-64}
ENTITIES=${ENTITIES:-5000}
BACKENDS=${BACKENDS:-"sqlite postgres"}
LOAD=${LOAD:-second}
PG=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=target/bench-compare/$STAMP
mkdir -p "$OUT"

SERVER_PID=""
PG_DBS=()
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  for db in "${PG_DBS[@]}"; do
    psql -q -d "$PG/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

source scripts/bench-lib.sh

printf 'round\tbackend\tbuild\tsubmit_per_s\tsubmit_p99\thealth_per_s\tratio\tok\n' >"$OUT/runs.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for backend in $BACKENDS; do
    for build in A B; do
      bin=$A
      [[ $build == B ]] && bin=$B
      case $backend in
        sqlite) db="sqlite:$OUT/$round-$backend-$build.db" ;;
        postgres)
          name="bandi_cmp_${STAMP//-/_}_${round}_${build,,}"
          psql -q -d "$PG/postgres" -c "CREATE DATABASE $name" >/dev/null
          PG_DBS+=("$name")
          db="$PG/$name"
          ;;
      esac
      "$bin" --database "$db" migrate >/dev/null
      port=$(free_port 18200)
      BANDI_DATA_DIR="$OUT/data-$round-$backend-$build" RUST_LOG=warn \
        "$bin" --database "$db" serve --listen "127.0.0.1:$port" >"$OUT/$round-$backend-$build.log" 2>&1 &
      SERVER_PID=$!
      wait_healthy "$port" "$SERVER_PID" "$OUT/$round-$backend-$build.log"
      json="$OUT/$round-$backend-$build.json"
      load_bin=$B
      [[ $LOAD == own ]] && load_bin=$bin
      "$load_bin" --database "$db" rehearse --target "http://127.0.0.1:$port" \
        --entities "$ENTITIES" --clients "$CLIENTS" --bad-share 0 --retry-share 0 \
        --json "$json" >"$OUT/$round-$backend-$build.txt" 2>&1 || true
      kill -TERM "$SERVER_PID"
      wait "$SERVER_PID" 2>/dev/null || true
      SERVER_PID=""
      jq -r --arg r "$round" --arg b "$backend" --arg x "$build" \
        '[$r, $b, $x, .submissions.durable_per_s, .submissions.created.p99_ms, .health.per_s,
          .ratio_submissions_to_health, .ok] | @tsv' "$json" >>"$OUT/runs.tsv"
      tail -n 1 "$OUT/runs.tsv"
    done
  done
done

echo
echo "medians (A = $A, B = $B):"
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for backend in $BACKENDS; do
  for build in A B; do
    col() { awk -F'\t' -v b="$backend" -v x="$build" -v c="$1" '$2 == b && $3 == x { print $c }' "$OUT/runs.tsv"; }
    printf '  %s %s: %s submissions/s, ratio to health %s, p99 %s ms (medians of %s runs)\n' \
      "$backend" "$build" "$(col 4 | median)" "$(col 7 | median)" "$(col 5 | median)" "$(col 4 | wc -l)"
  done
done
echo "runs: $OUT/runs.tsv"
