#!/usr/bin/env bash
# Web benchmarks of issue 5, on a release build and a quiet machine:
#  1. every page's latency (p50/p99/max of sequential requests, one client);
#  2. N live-counter subscribers (default 5,000) on one node, one submission, and how long
#     each waits for the update.
# Usage: scripts/bench-web.sh [SUBSCRIBERS=5000] [REQUESTS=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
subscribers="${1:-5000}"
requests="${2:-1000}"
cargo build --release -q -p bandi
bin="$PWD/target/release/bandi"
tmp=$(mktemp -d)
db="sqlite:$tmp/bench.db"
run() { "$bin" --database "$db" "$@" 2>/dev/null; }
run entities import data/istat-comuni.csv --region 08 >/dev/null
run entities import data/er-unioni.csv --region 08 >/dev/null
code=$(run calls import calls/er-2020-smart-working.toml --opens-at now | tail -n 1)
token=$(run tokens issue --entity 039007 | tail -n 1)
token2=$(run tokens issue --entity 037006 | tail -n 1)
printf '%s\n' "bench: una password lunga" | run users add --password-stdin --email bench@bench.example \
  --name "Bench" --role applicant --entity 039007 >/dev/null
# Each subscriber is one open file on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
"$bin" --database "$db" serve --listen "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fs "$base/api/v1/health" >/dev/null && break; sleep 0.1; done

# One application so that the ranking, the ledger lookup and the receipt have content.
receipt=$(curl -fs -X POST "$base/api/v1/calls/$code/applications" -H "Authorization: Bearer $token2" \
  -H 'Content-Type: application/json' \
  -d '{"title":"Smart working a Bologna","lines":[{"category":"training","description":"Formazione","amount_cents":7500000}],"indicators":{"staff_total":10,"agile_workers_before":1,"agile_workers_target":5}}')
protocol=$(printf '%s' "$receipt" | sed -e 's/.*"protocol":"\([^"]*\)".*/\1/')

# A session for the reserved pages: the sign-in form's CSRF cookie and field, then the POST.
jar="$tmp/cookies"
csrf=$(curl -fs -c "$jar" "$base/accedi" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fs -b "$jar" -c "$jar" -o /dev/null -X POST "$base/accedi" \
  --data-urlencode "csrf=$csrf" --data-urlencode "next=/area-riservata" \
  --data-urlencode "email=bench@bench.example" --data-urlencode "password=bench: una password lunga"
session=$(awk '$6 == "bandi_session" {print "bandi_session=" $7}' "$jar")

# A document in Cervia's draft, for the download's latency.
form="/area-riservata/domanda/039007/$code"
page=$(curl -fs -b "$jar" "$base$form")
form_csrf=$(printf '%s' "$page" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
printf '%%PDF-1.4\n%% bench\n%%%%EOF\n' >"$tmp/plan.pdf"
doc=$(curl -fs -b "$jar" -F "csrf=$form_csrf" -F action=save -F title=Bench \
  -F "att-project_plan=@$tmp/plan.pdf;type=application/pdf" "$base$form" |
  sed -n 's/.*href="\(\/area-riservata\/documenti\/[^"]*\)".*/\1/p' | head -n 1)

echo "## Pages ($requests sequential requests each, one client, release build)"
node e2e/bench-pages.mjs "$base" "" "$requests" / "/bandi/$code" "/bandi/$code/graduatoria" \
  /registro "/registro?protocollo=$protocol" /accedi /accessibilita /privacy /pagina-che-non-esiste
node e2e/bench-pages.mjs "$base" "$session" "$requests" /area-riservata \
  "$form" "$doc"
node e2e/bench-preview.mjs "$base" "$session" "$form_csrf" "$requests" "$form/anteprima"
echo
echo "## Live counters ($subscribers subscribers on one node)"
node e2e/bench-live.mjs "$base" "$code" "$token" "$subscribers"
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status)"
