#!/usr/bin/env bash
# Browser tests against the real server: builds `bandi`, seeds a fresh SQLite database with
# its CLI (the Emilia-Romagna authorities, the 2020 call opening now, a copy opening in an
# hour, a copy opening 30 s after the server starts for the click day of the reserved area,
# a token for Cervia, and accounts: applicants for Cervia and for the Unione del Distretto
# Ceramico, an official), serves it on a free port and runs e2e/*.test.mjs with node's test
# runner: Playwright (playwright-core) driving Debian's Chromium, axe-core on every page
# visited. Screenshots go to e2e/screenshots/. BANDI_BIN runs another build of `bandi`.
set -euo pipefail
cd "$(dirname "$0")/.."

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "e2e: no Chromium at $CHROMIUM (apt-get install chromium)" >&2
  exit 1
fi
if [ ! -d e2e/node_modules/playwright-core ] || [ ! -d e2e/node_modules/axe-core ]; then
  npm ci --prefix e2e --no-audit --no-fund
fi

cargo build -p bandi --quiet
bin="${BANDI_BIN:-${CARGO_TARGET_DIR:-target}/debug/bandi}"

tmp=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

db="sqlite:$tmp/bandi.db"
run() { "$bin" --database "$db" "$@" 2>"$tmp/cli.err" || { cat "$tmp/cli.err" >&2; exit 1; }; }
run entities import data/istat-comuni.csv --region 08 >/dev/null
run entities import data/er-unioni.csv --region 08 >/dev/null
call=$(run calls import calls/er-2020-smart-working.toml --opens-at now | tail -n 1)
sed -e '0,/^code = .*/s//code = "er-2020-smart-working-prova"/' \
    -e 's/^protocol_prefix = .*/protocol_prefix = "ER-PR"/' \
    -e 's/^title = "/title = "Prova: /' calls/er-2020-smart-working.toml >"$tmp/future.toml"
future=$(run calls import "$tmp/future.toml" --opens-at "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" | tail -n 1)
token=$(run tokens issue --entity 039007 | tail -n 1)

# The reserved area: accounts (the password on standard input, never on the command line)
# and a call whose click day comes while the tests run: a draft first, then the submission.
password="e2e: una password lunga"
add_user() { printf '%s\n' "$password" | run users add --password-stdin "$@" >/dev/null; }
add_user --email cervia@e2e.example --name "Ufficio innovazione, Comune di Cervia" --role applicant --entity 039007
add_user --email ucdc@e2e.example --name "Unione dei Comuni del Distretto Ceramico" --role applicant --entity ucdc
add_user --email regione@e2e.example --name "Ufficio bandi della Regione" --role admin
accounts=1
# Its own protocol prefix: protocol numbers are looked up across calls.
sed -e '0,/^code = .*/s//code = "er-2020-smart-working-click"/' \
    -e 's/^protocol_prefix = .*/protocol_prefix = "ER-CD"/' \
    -e 's/^title = "/title = "Click day: /' calls/er-2020-smart-working.toml >"$tmp/click.toml"
click_opens=$(date -u -d '+30 seconds' +%Y-%m-%dT%H:%M:%SZ)
click=$(run calls import "$tmp/click.toml" --opens-at "$click_opens" | tail -n 1)

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
"$bin" --database "$db" serve --listen "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
  sleep 0.1
done

status=0
BANDI_URL="http://127.0.0.1:$port" BANDI_CALL="$call" BANDI_FUTURE_CALL="$future" BANDI_TOKEN="$token" \
  BANDI_CLICK_CALL="$click" BANDI_CLICK_OPENS_AT="$click_opens" BANDI_ACCOUNTS="$accounts" BANDI_PASSWORD="$password" \
  node --test --test-concurrency=1 e2e/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 50 lines) ---" >&2
  tail -n 50 "$tmp/server.log" >&2
fi
exit "$status"
