#!/usr/bin/env bash
# Browser tests against the real server: builds `bandi`, seeds a fresh SQLite database with
# its CLI (the Emilia-Romagna authorities, the 2020 call opening now, a copy opening in an
# hour, a copy opening 50 s after it is seeded for the click day of the reserved area,
# a token for Cervia, and accounts: applicants for Cervia and for the Unione del Distretto
# Ceramico, an official, a reviewer), serves it on a free port and runs e2e/*.test.mjs with
# node's test runner: Playwright (playwright-core) driving Debian's Chromium, axe-core on every
# page visited. The review after the click day (e2e/review.test.mjs) runs last, on a call of its
# own with a small budget, once five applications (Cervia's among them) have been sent to it
# through the JSON API. Screenshots go to e2e/screenshots/. BANDI_BIN runs another build of
# `bandi`. Arguments name the test files to run, all by default.
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
# The services catalogue the demo ships (example prices), for the form's catalogue lines.
run services import data/demo-services.toml >/dev/null

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
click_opens=$(date -u -d '+50 seconds' +%Y-%m-%dT%H:%M:%SZ)
click=$(run calls import "$tmp/click.toml" --opens-at "$click_opens" | tail -n 1)

# The review after the click day: a copy open now with a budget of 160,000.00, so that of five
# applications of 52,500.00 each the first three are funded and the last two wait; a reviewer;
# a token for each of the five entities (Cervia, Bologna, Modena, Ravenna, Faenza, sending in
# this order once the other tests are done).
sed -e '0,/^code = .*/s//code = "er-2020-smart-working-review"/' \
    -e 's/^protocol_prefix = .*/protocol_prefix = "ER-RV"/' \
    -e 's/^title = "/title = "Istruttoria: /' \
    -e 's/^budget = .*/budget = "160000.00"/' calls/er-2020-smart-working.toml >"$tmp/review.toml"
review=$(run calls import "$tmp/review.toml" --opens-at now | tail -n 1)
add_user --email istruttore@e2e.example --name "Istruttoria, Settore innovazione della Regione" --role reviewer
review_entities=(039007:Cervia 037006:Bologna 036023:Modena 039014:Ravenna 039010:Faenza)
review_tokens=()
for e in "${review_entities[@]}"; do review_tokens+=("$(run tokens issue --entity "${e%%:*}" | tail -n 1)"); done

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port=$(free_port)
# SPID and CIE through an OpenID Connect provider that e2e/identity.test.mjs starts on this
# port (e2e/oidc-provider.mjs); the site file is the default Region's, with both providers.
oidc_port=$(free_port)
oidc_secret="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cat >"$tmp/site.toml" <<EOF
name = "Regione Emilia-Romagna"
url = "https://www.regione.emilia-romagna.it"
fiscal_code = "80062590379"
pec = "urp@postacert.regione.emilia-romagna.it"
phone = "800 66 22 00"
address = "Viale Aldo Moro 52, 40127 Bologna"
office = "Regione Emilia-Romagna – ufficio responsabile del bando"

[[identity_providers]]
kind = "spid"
issuer = "http://127.0.0.1:$oidc_port"
client_id = "bandi-e2e"
client_secret = "$oidc_secret"
redirect_uri = "http://127.0.0.1:$port/accedi/spid/ritorno"

[[identity_providers]]
kind = "cie"
issuer = "http://127.0.0.1:$oidc_port"
client_id = "bandi-e2e"
client_secret = "$oidc_secret"
redirect_uri = "http://127.0.0.1:$port/accedi/cie/ritorno"
EOF
"$bin" --database "$db" --site "$tmp/site.toml" serve --listen "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
  sleep 0.1
done

export BANDI_URL="http://127.0.0.1:$port" BANDI_CALL="$call" BANDI_FUTURE_CALL="$future" BANDI_TOKEN="$token" \
  BANDI_CLICK_CALL="$click" BANDI_CLICK_OPENS_AT="$click_opens" BANDI_ACCOUNTS="$accounts" BANDI_PASSWORD="$password" \
  BANDI_REVIEW_CALL="$review" BANDI_OIDC_PORT="$oidc_port" BANDI_OIDC_CLIENT=bandi-e2e BANDI_OIDC_SECRET="$oidc_secret"
status=0
tests=()
# Arguments name the test files to run (e.g. e2e/layout.test.mjs); all of them by default.
if [ $# -gt 0 ]; then files=("$@"); else files=(e2e/*.test.mjs); fi
for f in "${files[@]}"; do [ "$f" = e2e/review.test.mjs ] || tests+=("$f"); done
review_too=$([ $# -eq 0 ] || printf '%s\n' "$@" | grep -qx e2e/review.test.mjs && echo 1 || echo 0)
if [ ${#tests[@]} -gt 0 ]; then node --test --test-concurrency=1 "${tests[@]}" || status=$?; fi

# The applications to review, sent only now: the tests above count Cervia's applications.
submit_review() {
  local i=0 e name
  for e in "${review_entities[@]}"; do
    name=${e#*:}
    curl -sS --fail-with-body -o "$tmp/submitted.json" -X POST "$BANDI_URL/api/v1/calls/$review/applications" \
      -H "Authorization: Bearer ${review_tokens[$i]}" -H 'Content-Type: application/json' \
      -d '{"title":"Smart working a '"$name"'","summary":"Avvio del lavoro agile, piano formativo, cloud Lepida.","lines":[{"category":"planning","description":"Avvio e gestione del cambiamento","amount_cents":1500000},{"category":"training","description":"Formazione di dipendenti e dirigenti","amount_cents":2500000},{"category":"technology","description":"Cloud e collaborazione","amount_cents":3500000}],"indicators":{"staff_total":180,"agile_workers_before":4,"agile_workers_target":90}}' \
      || { cat "$tmp/submitted.json" >&2; return 1; }
    i=$((i + 1))
  done
}
if [ "$review_too" = 1 ] && [ -f e2e/review.test.mjs ]; then
  if submit_review; then
    node --test e2e/review.test.mjs || status=$?
  else
    echo "e2e: the applications for the review could not be sent" >&2
    status=1
  fi
fi
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 50 lines) ---" >&2
  tail -n 50 "$tmp/server.log" >&2
fi
exit "$status"
