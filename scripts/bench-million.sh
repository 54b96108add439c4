#!/usr/bin/env bash
# A call of a million applications on SQLite or PostgreSQL: the rehearsal that fills it (throughput,
# latency, every check), then `bandi verify`, then three restarts of `bandi serve` on it
# with the first submissions after each: the call's view is rebuilt from its fold log (as
# the rehearsal's server left it, then as complete as an idle server writes it), then,
# with the fold log deleted, from its ledger's JSON alone.
#
#   ./scripts/bench-million.sh                 # about 6 minutes on 2 cores
#   ENTITIES=100000 ./scripts/bench-million.sh
#   DB=target/bench/million-.../million.db BANDI=other/bandi ./scripts/bench-million.sh
#       # no rehearsal: verify and restart on a database already filled (two builds on
#       # the same data, one after the other)
#   PG=postgres://postgres@127.0.0.1:5432 ./scripts/bench-million.sh
#       # on PostgreSQL: a new database bandi_million_<stamp> on that server, dropped at the
#       # end unless KEEP=1; with DB=<database name> instead, that database, filled already
#
# Needs curl, jq and sqlite3 (psql on PostgreSQL). Writes target/bench/million-<stamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."

ENTITIES=${ENTITIES:-999999}
CLIENTS=${CLIENTS:-64}
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=target/bench/million-$STAMP
mkdir -p "$OUT"
if [[ -z "${BANDI:-}" ]]; then
  cargo build --release -p bandi
  BANDI=target/release/bandi
fi
PG=${PG:-}
client=sqlite3
[[ -n $PG ]] && client=psql
for tool in curl jq "$client"; do
  command -v "$tool" >/dev/null || { echo "bench-million.sh needs $tool" >&2; exit 1; }
done
REUSE=${DB:-}
if [[ -n $PG ]]; then
  DB=${DB:-"bandi_million_${STAMP//-/_}"}
  URL="$PG/$DB"
  [[ -n $REUSE ]] || psql -q -d "$PG/postgres" -c "CREATE DATABASE $DB" >/dev/null
  # One query's value, or statements, on the call's database: sql 'SELECT ...'.
  sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$URL" -c "$1"; }
else
  DB=${DB:-"$OUT/million.db"}
  URL="sqlite:$DB"
  sql() { sqlite3 "$DB" "$1"; }
fi
PORT=${PORT:-18290}
SERVER_PID=""
finish() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null
  if [[ -n $PG && -z $REUSE && -z ${KEEP:-} ]]; then
    psql -q -d "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  fi
  true
}
trap finish EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

if [[ -z "$REUSE" ]]; then
  echo "== rehearsal: $ENTITIES entities, $CLIENTS clients (in-process server)"
  "$BANDI" --database "$URL" rehearse --entities "$ENTITIES" --clients "$CLIENTS" \
    --bad-share 0 --retry-share 0 --health-requests 1000 --json "$OUT/rehearsal.json" >"$OUT/rehearsal.txt" 2>&1 \
    || { tail -n 30 "$OUT/rehearsal.txt"; echo "the rehearsal failed" >&2; exit 1; }
  jq -r '"   \(.submissions.durable_per_s | floor) submissions/s, p99 \(.submissions.created.p99_ms) ms, all checks: \(.ok)"' "$OUT/rehearsal.json"
fi
"$BANDI" --database "$URL" migrate >/dev/null

t0=$(now_ms)
"$BANDI" --database "$URL" verify >"$OUT/verify.txt" 2>&1
echo "== verify: $(( $(now_ms) - t0 )) ms: $(tail -n 1 "$OUT/verify.txt")"

call=$(sql "SELECT code FROM calls ORDER BY created_us DESC LIMIT 1")
sql "SELECT content FROM applications WHERE call_code = '$call' LIMIT 1" >"$OUT/body.json"
post() {
  curl -s -o "$OUT/answer-$1.json" -w '%{http_code} %{time_total}\n' \
    -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    --data-binary @"$OUT/body.json" "http://127.0.0.1:$PORT/api/v1/calls/$call/applications"
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }

# A restart of `serve` on the database, and submissions of two entities added for it (which
# have not applied yet): one as soon as /health answers, one once the start-up loads are
# done, and its retry. $1 names the round.
restart() {
  local round=$1 late token1 token2 status seconds t0
  late="late$(date +%H%M%S)$round"
  sql "INSERT INTO entities (code, name, kind, province, region_code) VALUES
    ('${late}1', 'Comune di prova ritardatario 1', 'comune', 'BO', '08'),
    ('${late}2', 'Comune di prova ritardatario 2', 'comune', 'BO', '08')"
  token1=$("$BANDI" --database "$URL" tokens issue --entity "${late}1" | tail -n 1)
  token2=$("$BANDI" --database "$URL" tokens issue --entity "${late}2" | tail -n 1)
  echo "== restart ($round): fold-log runs on the call: $(sql "SELECT COUNT(*) || ' up to ledger entry ' || COALESCE(MAX(last_seq), 0) FROM fold_logs WHERE call_code = '$call'")"
  t0=$(now_ms)
  RUST_LOG=info,bandi_store::intake=debug "$BANDI" --database "$URL" serve --listen "127.0.0.1:$PORT" >"$OUT/serve-$round.log" 2>&1 &
  SERVER_PID=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/health"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/serve-$round.log" >&2; exit 1; }
    sleep 0.005
  done
  echo "   serve: first 200 on /health after $(( $(now_ms) - t0 )) ms"
  # At once: the answer waits for the loads `serve` starts with (tokens, calls still open).
  read -r status seconds < <(post "first-$round" "$token1")
  echo "   a submission as soon as /health answers: $status in $(ms "$seconds") ms ($(jq -r '.protocol // .error.code' "$OUT/answer-first-$round.json"))"
  until grep -q "API tokens and their entities loaded\|API tokens loaded" "$OUT/serve-$round.log" && grep -q "calls still to close loaded" "$OUT/serve-$round.log"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/serve-$round.log" >&2; exit 1; }
    sleep 0.01
  done
  echo "   tokens and calls loaded $(( $(now_ms) - t0 )) ms after the start: $(sed 's/\x1b\[[0-9;]*m//g' "$OUT/serve-$round.log" | grep -o 'from_fold_log=[0-9]* from_ledger=[0-9]*' | head -n 1)"
  read -r status seconds < <(post "second-$round" "$token2")
  echo "   a new entity's submission after that: $status in $(ms "$seconds") ms ($(jq -r '.protocol // .error.code' "$OUT/answer-second-$round.json"))"
  read -r status seconds < <(post "retry-$round" "$token2")
  echo "   its retry: $status in $(ms "$seconds") ms"
  echo "   server peak RSS: $(awk '/^VmHWM:/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status")"
  # Idle after its submissions, the server writes the fold log's runs the ledger fills.
  until grep -q "fold log written\|fold log up to date\|fold log not written" "$OUT/serve-$round.log" || [[ $(( $(now_ms) - t0 )) -gt 60000 ]]; do
    sleep 0.2
  done
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

# The call as the rehearsal left it (its fold log as far as its server wrote it while idle),
# then with the fold log as the server wrote it, then without one: the ledger read whole.
restart left
restart folded
sql "DELETE FROM fold_logs" >/dev/null
restart unfolded
echo "results in $OUT"
