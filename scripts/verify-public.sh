#!/usr/bin/env bash
# The public proofs end to end (docs/ledger.md), on a fresh SQLite deployment in a temp dir:
#  1. seeds it with the CLI (entities, the 2020 call opening now with a small budget, tokens,
#     an admin, a reviewer, an applicant), serves it (checkpoints every second), submits eight
#     applications with curl (a waitlist forms) and writes an entry of every one of the 20
#     kinds: the review with the CLI and the JSON API, the applicant's answer through its
#     pages, a budget change, three published lists, CUPs; after the award the authority's
#     expense report through its pages (submitted, returned, submitted again), its findings,
#     its close, a payment, an extension and a revocation with the CLI, and three refused
#     payments;
#  2. checks the deployment from its public endpoints with tools/verify_ledger.py and
#     `bandi verify --public` (saving their checkpoints), and a signed receipt with both;
#  3. rewrites history in a copy of the database, consistently (the entities of the last
#     funded and the first waitlisted applications swapped, the chain re-sealed, the lists
#     re-hashed, the checkpoints deleted), serves the copy, and checks that the copy passes
#     on its own while the saved checkpoints and the receipt catch the rewrite, naming the
#     first entry that differs.
# One line per check; exits 1 if any expectation is not met. Builds target/debug/bandi only
# if it is missing. Needs curl, python3 and its `cryptography` package.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import cryptography' 2>/dev/null; then
  echo "verify-public: the Python package cryptography is needed: pip install cryptography" >&2
  exit 1
fi
[ -x target/debug/bandi ] || cargo build -p bandi --quiet
bin="$PWD/target/debug/bandi"
verifier="$PWD/tools/verify_ledger.py"
started=$SECONDS
tmp=$(mktemp -d)
servers=()
cleanup() {
  local p
  for p in "${servers[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
pass() { echo "ok    $*"; }
fail() {
  echo "FAIL  $*"
  failures=$((failures + 1))
}
# check NAME CMD...: the command must succeed.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    pass "$name"
  else
    fail "$name"
    printf '%s\n' "$out" | tail -n 15 | sed 's/^/      /'
  fi
}
# quiet NAME CMD...: the command must succeed with no warning.
quiet() {
  local name=$1 out
  shift
  if ! out=$("$@" 2>&1); then
    fail "$name"
    printf '%s\n' "$out" | tail -n 15 | sed 's/^/      /'
  elif grep -q warning <<<"$out"; then
    fail "$name: warnings"
    printf '%s\n' "$out" | sed 's/^/      /'
  else
    pass "$name"
  fi
}
# refuse NAME PATTERN CMD...: the command must fail, and say PATTERN (an extended regex).
refuse() {
  local name=$1 pattern=$2 out
  shift 2
  if out=$("$@" 2>&1); then
    fail "$name: it passed"
    printf '%s\n' "$out" | tail -n 5 | sed 's/^/      /'
  elif grep -Eq -- "$pattern" <<<"$out"; then
    pass "$name: fails with \"$(grep -Eo -- "$pattern" <<<"$out" | head -n 1)\""
  else
    fail "$name: fails, but without /$pattern/"
    printf '%s\n' "$out" | tail -n 5 | sed 's/^/      /'
  fi
}
# The CLI on database $db; its log goes to cli.log, and a refusal stops the script.
cli() {
  if ! "$bin" --database "$db" "$@" 2>>"$tmp/cli.log"; then
    echo "FAIL  bandi $*" >&2
    tail -n 3 "$tmp/cli.log" >&2
    exit 1
  fi
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# serve DATA_DIR PORT: a server on the database in DATA_DIR, a checkpoint every second.
serve() {
  BANDI_DATA_DIR="$1" BANDI_CHECKPOINT_EVERY_SECS=1 \
    "$bin" --database "sqlite:$1/bandi.db" serve --listen "127.0.0.1:$2" >"$1/server.log" 2>&1 &
  servers+=($!)
  local _
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$2/api/v1/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "FAIL  the server on port $2 did not start" >&2
  tail -n 5 "$1/server.log" >&2
  exit 1
}
# stop PID: a graceful stop (SIGTERM; the server signs a last checkpoint).
stop() {
  kill "$1"
  wait "$1" 2>/dev/null || true
  local kept=() p
  for p in "${servers[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  servers=("${kept[@]}")
}
# wait_checkpoint URL: until a checkpoint covers the whole ledger (at most 15 s).
wait_checkpoint() {
  python3 - "$1" <<'EOF'
import json, sys, time, urllib.request
base = sys.argv[1] + "/api/v1"
get = lambda p: json.load(urllib.request.urlopen(base + p))
for _ in range(150):
    size = get("/ledger/head")["size"]
    after, last = 0, None
    while True:
        page = get(f"/checkpoints?after={after}&limit=1000")
        if not page["items"]:
            break
        last, after = page["items"][-1], page["next_after"]
    if last is not None and last["size"] == size:
        sys.exit(0)
    time.sleep(0.1)
sys.exit(f"no checkpoint of the ledger's {size} entries after 15 s")
EOF
}

# ---------------------------------------------------------------- 1. a deployment
data="$tmp/data"
mkdir -p "$data" "$tmp/receipts"
db="sqlite:$data/bandi.db"
cli entities import data/istat-comuni.csv --region 08 >/dev/null
cli entities import data/er-unioni.csv --region 08 >/dev/null
# 200,000 € for grants of 52,500 €: three fit, the others wait.
code=$(cli calls import calls/er-2020-smart-working.toml --opens-at now --budget-cents 20000000 | tail -n 1)
applicant_entity=037006
entities=(039007 036023 034027 035033 040012 038008 ucdc)
declare -A token
for e in "$applicant_entity" "${entities[@]}"; do
  token[$e]=$(cli tokens issue --entity "$e" | tail -n 1)
done
password="una password lunga, solo per questa prova"
printf '%s\n' "$password" | cli users add --email admin@prova.example --name Admin --role admin --password-stdin >/dev/null
printf '%s\n' "$password" | cli users add --email istruttore@prova.example --name Istruttore --role reviewer \
  --password-stdin >/dev/null
printf '%s\n' "$password" | cli users add --email ente@prova.example --name Ente --role applicant \
  --entity "$applicant_entity" --password-stdin >/dev/null
reviewer_token=$(cli tokens issue --user istruttore@prova.example | tail -n 1)
port=$(free_port)
base="http://127.0.0.1:$port"
serve "$data" "$port"
server=${servers[-1]}

# Eight applications of 75,000 € at 70 %: 52,500 € each. The applicant's entity first (number
# 1), the other seven at once, so that batches hold several receipts.
body='{"title":"Lavoro agile","lines":[{"category":"training","description":"Formazione","amount_cents":7500000}],"indicators":{"staff_total":10,"agile_workers_before":1,"agile_workers_target":5}}'
submit() {
  curl -s -o "$tmp/receipts/$1.json" -w '%{http_code}' -X POST "$base/api/v1/calls/$code/applications" \
    -H "Authorization: Bearer ${token[$1]}" -H 'Content-Type: application/json' -d "$body" \
    >"$tmp/receipts/$1.status"
}
submit "$applicant_entity"
# A checkpoint before the others, and one after the first list: the mirror alone then
# brackets a rewrite between two of them.
wait_checkpoint "$base"
submitting=()
for e in "${entities[@]}"; do
  submit "$e" &
  submitting+=($!)
done
wait "${submitting[@]}"
created=0
for f in "$tmp/receipts/"*.status; do
  if [ "$(cat "$f")" = 201 ]; then created=$((created + 1)); fi
done
if [ "$created" -eq 8 ]; then pass "8 applications submitted (201 with a signed receipt each)"; else
  fail "8 applications submitted: $created answered 201"
  exit 1
fi
# seq → protocol, entity, receipt id, receipt file
declare -A protocol receipt_id receipt_file
while read -r seq p _ id f; do
  protocol[$seq]=$p
  receipt_id[$seq]=$id
  receipt_file[$seq]=$f
done < <(python3 - "$tmp/receipts" <<'EOF'
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    r = json.load(open(f))
    print(r["seq"], r["protocol"], r["entity"], r["id"], f)
EOF
)
batches=$(python3 -c 'import json, sys; print(len({json.load(open(f))["batch"]["root"] for f in sys.argv[1:]}))' \
  "$tmp/receipts/"*.json)
pass "receipts signed in $batches batches of the ledger's 8 applications"

# The review. 1 (the applicant's): taken, asked for an integration (API), answered (pages),
# checked, reduced (money freed: 4 funded), admitted. 2: checked, admitted, CUP. List 1.
# 3 rejected (5 funded), 4 withdrawn (6 funded), the budget raised (7 funded), list 2.
review() { cli review "$1" --call "$code" --protocol "${protocol[$2]}" "${@:3}" >/dev/null; }
checklist() {
  local item
  for item in eligible_body three_parts costs_eligible approving_act; do
    review check "$1" --as istruttore@prova.example --item "$item" --passed yes --note "Verificato"
  done
}
review take 1 --as istruttore@prova.example
deadline=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
status=$(curl -s -o "$tmp/request.json" -w '%{http_code}' -X POST \
  "$base/api/v1/calls/$code/applications/1/review" -H "Authorization: Bearer $reviewer_token" \
  -H 'Content-Type: application/json' \
  -d "{\"action\":\"request_integration\",\"text\":\"Inviare l'atto di approvazione del progetto.\",\"deadline\":\"$deadline\"}")
if [ "$status" = 200 ]; then pass "integration requested through the API (reviewer's token)"; else
  fail "integration requested through the API: $status $(cat "$tmp/request.json")"
fi
# The applicant answers on its receipt's page: sign in (the form's CSRF field and cookie),
# then the answer form, with a PDF.
jar="$tmp/cookies"
csrf=$(curl -fs -c "$jar" "$base/accedi" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fs -b "$jar" -c "$jar" -o /dev/null -X POST "$base/accedi" --data-urlencode "csrf=$csrf" \
  --data-urlencode "next=/area-riservata" --data-urlencode "email=ente@prova.example" \
  --data-urlencode "password=$password"
page="$base/area-riservata/ricevuta/${receipt_id[1]}"
csrf=$(curl -fs -b "$jar" "$page" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
printf '%%PDF-1.7\n%% atto di approvazione\n%%%%EOF\n' >"$tmp/atto.pdf"
where=$(curl -s -b "$jar" -o /dev/null -w '%{http_code} %{redirect_url}' -F "csrf=$csrf" -F action=answer \
  -F "text=In allegato l'atto di approvazione." -F "att-answer=@$tmp/atto.pdf;type=application/pdf" "$page")
if [[ $where == "303 "*"esito=risposta" ]]; then pass "integration answered on the applicant's pages"; else
  fail "integration answered on the applicant's pages: $where"
fi
checklist 1
review reduce 1 --as istruttore@prova.example --eligible-cents 6000000 --reason "Spese di formazione ridotte"
review admit 1 --as istruttore@prova.example --reason "Requisiti verificati"
review take 2 --as istruttore@prova.example
checklist 2
review admit 2 --as istruttore@prova.example --reason "Requisiti verificati"
review cup 2 --as istruttore@prova.example --cup E41B20000150002
cli calls publish-list "$code" --act "DD 100/2020" --as admin@prova.example >/dev/null
wait_checkpoint "$base"
review take 3 --as istruttore@prova.example
review reject 3 --as istruttore@prova.example --reason "Ente non ammissibile"
review withdraw 4 --as admin@prova.example --reason "Rinuncia dell'ente"
cli calls budget "$code" --add-cents 5300000 --act "DGR 1234/2020" --as admin@prova.example >/dev/null
cli calls publish-list "$code" --act "DD 200/2020" --as admin@prova.example >/dev/null

# After the award (docs/ledger.md, section 9.7). 1 gets its CUP; its authority reports two
# expenses on its pages (version 1); the reviewer accepts the first and gives the report back;
# the authority submits it again (version 2); the reviewer accepts the first, the second in
# part, and closes: a final grant of 28,000 € (70 % of 40,000 €) of the 42,000 € awarded, the
# rest back to the call. The admin pays the balance, extends 2's deadline, and revokes 1 (8
# still waits: 43,000 € free); then a payment to 1 is refused, and a third list published.
review cup 1 --as istruttore@prova.example --cup E41B20000150010
report_page="$base/area-riservata/rendiconto/${receipt_id[1]}"
today=$(TZ=Europe/Rome date +%F)
printf '%%PDF-1.7\n%% fattura\n%%%%EOF\n' >"$tmp/fattura.pdf"
printf '%%PDF-1.7\n%% bonifico\n%%%%EOF\n' >"$tmp/bonifico.pdf"
# submit_report AMOUNT...: the report's form posted with action=submit, one expense (training)
# per amount in euros; prints the answer's status and where it leads.
submit_report() {
  local csrf i=0 amount fields=()
  csrf=$(curl -fs -b "$jar" "$report_page" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
  fields=(-F "csrf=$csrf" -F action=submit -F ind-agile_workers_target=5 -F "notes=Progetto concluso.")
  for amount in "$@"; do
    fields+=(-F "exp-$i-supplier=Formazione Emilia Srl" -F "exp-$i-tax=02770891204" -F "exp-$i-number=FT-$((i + 1))"
      -F "exp-$i-invoice_date=$today" -F "exp-$i-category=training" -F "exp-$i-description=Corso sul lavoro agile"
      -F "exp-$i-amount=$amount" -F "exp-$i-paid_on=$today"
      -F "att-expense-$i-invoice=@$tmp/fattura.pdf;type=application/pdf"
      -F "att-expense-$i-payment=@$tmp/bonifico.pdf;type=application/pdf")
    i=$((i + 1))
  done
  curl -s -b "$jar" -o "$tmp/report.html" -w '%{http_code} %{redirect_url}' "${fields[@]}" "$report_page"
}
reports() { cli reports "$1" --call "$code" --protocol "${protocol[$2]}" --as istruttore@prova.example "${@:3}" >/dev/null; }
as_admin() { cli "$1" "$2" --call "$code" --protocol "${protocol[$3]}" --as admin@prova.example "${@:4}" >/dev/null; }
where=$(submit_report 30000,00 20000,00)
if [[ $where == "303 "*"esito=presentato" ]]; then pass "report submitted on the authority's pages (version 1)"; else
  fail "report submitted on the authority's pages: $where $(grep -o 'alert-danger[^<]*<[^<]*' "$tmp/report.html" | head -n 3)"
fi
reports verify 1 --line 1 --outcome accepted
reports return 1 --reason "Quietanza della seconda spesa illeggibile"
where=$(submit_report 30000,00 20000,00)
if [[ $where == "303 "*"esito=presentato" ]]; then pass "report returned, then submitted again on the pages (version 2)"; else
  fail "report submitted again on the pages: $where"
fi
reports verify 1 --line 1 --outcome accepted
reports verify 1 --line 2 --outcome partial --accepted-cents 1000000 --reason "IVA non ammissibile"
reports close 1
as_admin payments record 1 --kind balance --amount-cents 2800000 --paid-on "$today" --act "DD 300/2020"
refuse "a payment above the final grant" "above_payable" "$bin" --database "$db" payments record --call "$code" \
  --protocol "${protocol[1]}" --as admin@prova.example --amount-cents 1 --paid-on "$today" --act "DD 301/2020"
refuse "an advance on a call that provides none" "no_advance" "$bin" --database "$db" payments record --call "$code" \
  --protocol "${protocol[2]}" --as admin@prova.example --kind advance --amount-cents 1 --paid-on "$today" \
  --act "DD 302/2020"
as_admin awards extend 2 --until "$(TZ=Europe/Rome date -d '+400 days' +%F)" --reason "Proroga chiesta dall'ente"
as_admin awards revoke 1 --reason "Progetto non realizzato come approvato" --act "DD 400/2020"
refuse "a payment after the revocation" "not_reportable" "$bin" --database "$db" payments record --call "$code" \
  --protocol "${protocol[1]}" --as admin@prova.example --amount-cents 1 --paid-on "$today" --act "DD 401/2020"
# A third list: 1 revoked, its row still asking the 42,000 € the review left.
cli calls publish-list "$code" --act "DD 500/2020" --as admin@prova.example >/dev/null
kinds=$(python3 - "$base" <<'EOF'
import json, sys, urllib.request
kinds, after = set(), 0
while True:
    page = json.load(urllib.request.urlopen(f"{sys.argv[1]}/api/v1/ledger?after={after}&limit=1000"))
    if not page["items"]:
        break
    kinds |= {e["kind"] for e in page["items"]}
    after = page["next_after"]
sys.path.insert(0, "tools")
from verify_ledger import KINDS
missing = [k for k in KINDS if k not in kinds]
print(f"{len(kinds)} {len(KINDS)} {','.join(missing)}")
EOF
)
read -r seen known missing <<<"$kinds"
if [ -z "${missing:-}" ] && [ "$seen" = "$known" ]; then pass "the ledger holds entries of every kind ($seen)"; else
  fail "the ledger holds $seen of the $known kinds; none of ${missing:-?}"
fi
# What verify_ledger.py replays of it (section 9.7): 1's versions, final grant, payment and
# revocation, the money back to the call, 2's extension.
replay=$(python3 - "$base" "$code" <<'EOF'
import sys
sys.path.insert(0, "tools")
import verify_ledger as vl
v = vl.Verifier(sys.argv[1], warn=lambda m: None)
vl.read_chain(v, sys.argv[1])
c = v.calls[sys.argv[2]]
one, two = c.apps[0], c.apps[1]
print(one.report_version, one.report_state, one.final_grant, one.paid, one.review, c.alloc.get(1)[2],
      c.alloc.get(8)[2], c.alloc.remaining(), two.report_deadline is not None)
EOF
)
if [ "$replay" = "2 verified 2800000 2800000 revoked revoked waitlisted 4300000 True" ]; then
  pass "replayed: 1's report v2 verified, final grant 28,000 € paid, revoked; 43,000 € free, 8 waits"
else
  fail "the replay of the reports: $replay"
fi

# ---------------------------------------------------------------- 2. checked from outside
# The worked example's receipt (docs/ledger.md, section 13) is one bandi reads as genuine.
python3 - "$tmp" <<'EOF'
import json, os, sys
sys.path.insert(0, "tools")
import verify_ledger
example = verify_ledger.worked_example()
json.dump(example[2][1], open(os.path.join(sys.argv[1], "worked-receipt.json"), "w"))
json.dump({"items": [example[5]]}, open(os.path.join(sys.argv[1], "worked-keys.json"), "w"))
EOF
check "docs/ledger.md's worked receipt: bandi receipt verify --key" "$bin" receipt verify \
  "$tmp/worked-receipt.json" --key "$tmp/worked-keys.json"
check "a checkpoint covers the whole ledger" wait_checkpoint "$base"
check "bandi verify (the database)" "$bin" --database "$db" verify
quiet "verify_ledger.py URL --save-checkpoints DIR" python3 "$verifier" "$base" --save-checkpoints "$tmp/saved-py/"
check "bandi verify --public URL --save DIR" "$bin" verify --public "$base" --save "$tmp/saved-rs"
check "verify_ledger.py --checkpoints (bandi's saved DIR)" python3 "$verifier" "$base" --checkpoints "$tmp/saved-rs"
check "verify_ledger.py --checkpoints (the server's mirror)" python3 "$verifier" "$base" \
  --checkpoints "$data/checkpoints.jsonl"
check "bandi verify --public --checkpoints --hashes (verify_ledger.py's saved files)" "$bin" verify --public \
  "$base" --checkpoints "$tmp/saved-py/checkpoints.json" --hashes "$tmp/saved-py/ledger-hashes.jsonl"

# The rewrite swaps the entities of the last funded and the first waitlisted applications.
read -r last_funded first_waiting < <(python3 - "$base" "$code" <<'EOF'
import json, sys, urllib.request
rows = json.load(urllib.request.urlopen(f"{sys.argv[1]}/api/v1/calls/{sys.argv[2]}/ranking"))["items"]
funded = [r["seq"] for r in rows if r["status"] in ("reserved", "partial")]
waiting = [r["seq"] for r in rows if r["status"] == "waitlisted"]
print(max(funded), min(waiting))
EOF
)
receipt=${receipt_file[$last_funded]}
check "verify_ledger.py receipt (application $last_funded, funded)" python3 "$verifier" receipt "$receipt" \
  --keys "$base" --ledger "$base"
check "bandi receipt verify --key-url" "$bin" receipt verify "$receipt" --key-url "$base"

# ---------------------------------------------------------------- 3. history rewritten in a copy
stop "$server"
copy="$tmp/copy"
mkdir -p "$copy"
for f in bandi.db bandi.db-wal bandi.db-shm signing-key.json; do
  if [ -e "$data/$f" ]; then cp "$data/$f" "$copy/"; fi
done
first=$(python3 - "$copy/bandi.db" "$code" "$last_funded" "$first_waiting" <<'EOF'
import hashlib, json, sqlite3, sys
path, call, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
db = sqlite3.connect(path)
compact = lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)  # the server's form
sha = lambda t: hashlib.sha256(t.encode()).hexdigest()
entity = dict(db.execute("SELECT seq, entity_code FROM applications WHERE call_code = ? AND seq IN (?, ?)",
                         (call, a, b)))
swap = {entity[a]: entity[b], entity[b]: entity[a]}
names = dict(db.execute("SELECT code, name FROM entities WHERE code IN (?, ?)", (entity[a], entity[b])))
entries = db.execute("SELECT seq, prev_hash, hash, kind, at, payload FROM ledger ORDER BY seq").fetchall()
payloads = {}
# The published lists, as stored: the two rows' entity swapped, the list hashed again.
for version, text in db.execute("SELECT version, list_json FROM published_lists WHERE call_code = ?", (call,)).fetchall():
    lst = json.loads(text)
    assert compact(lst) == text
    for row in lst["rows"]:
        if row["seq"] in (a, b):
            row["entity_code"] = swap[row["entity_code"]]
            row["entity_name"] = names[row["entity_code"]]
    new = compact(lst)
    db.execute("UPDATE published_lists SET list_json = ?, list_sha256 = ? WHERE call_code = ? AND version = ?",
               (new, sha(new), call, version))
    payloads[("list", version)] = sha(new)
first = None
for seq, _, _, kind, _, payload in entries:
    record = json.loads(payload)
    assert compact(record) == payload
    if record.get("call") != call:
        continue
    if kind == "application_submitted" and record["seq"] in (a, b):
        record["entity"] = swap[record["entity"]]
    elif kind == "list_published":
        record["list_sha256"] = payloads[("list", record["version"])]
    new = compact(record)
    if new != payload:
        payloads[seq] = new
        first = seq if first is None else min(first, seq)
db.execute("UPDATE applications SET entity_code = CASE seq WHEN ? THEN ? ELSE ? END WHERE call_code = ? AND seq IN (?, ?)",
           (a, entity[b], entity[a], call, a, b))
# The chain sealed again from the first entry changed.
prev = entries[first - 2][2] if first > 1 else "0" * 64
for seq, _, _, kind, at, payload in entries[first - 1:]:
    payload = payloads.get(seq, payload)
    h = sha(f"bandi-ledger-v1\n{seq}\n{prev}\n{kind}\n{at}\n{payload}")
    db.execute("UPDATE ledger SET prev_hash = ?, hash = ?, payload = ? WHERE seq = ?", (prev, h, payload, seq))
    prev = h
db.execute("UPDATE ledger_head SET hash = ? WHERE id = 1", (prev,))
db.execute("DELETE FROM checkpoints")
db.commit()
print(first)
EOF
)
receipt_entry=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ledger_seq"])' "$receipt")
if [ "$first" = "$receipt_entry" ]; then
  pass "copy rewritten: applications $last_funded and $first_waiting swap entities; entries from $first re-sealed"
else
  fail "copy rewritten: the first entry changed is $first, the receipt's is $receipt_entry"
fi
port2=$(free_port)
base2="http://127.0.0.1:$port2"
serve "$copy" "$port2"
check "the copy signs a checkpoint of its rewritten ledger" wait_checkpoint "$base2"
check "the copy's bandi verify (the database) passes" "$bin" --database "sqlite:$copy/bandi.db" verify
quiet "a fresh verify_ledger.py of the copy passes" python3 "$verifier" "$base2"
check "a fresh bandi verify --public of the copy passes" "$bin" verify --public "$base2"
refuse "verify_ledger.py --checkpoints SAVED on the copy" "entry $first differs" \
  python3 "$verifier" "$base2" --checkpoints "$tmp/saved-py"
refuse "bandi verify --public --checkpoints --hashes on the copy" "entry $first differs" \
  "$bin" verify --public "$base2" --checkpoints "$tmp/saved-rs/checkpoints.json" \
  --hashes "$tmp/saved-rs/ledger-hashes.jsonl"
refuse "verify_ledger.py --checkpoints (the mirror, no hashes) on the copy" "between entry [0-9]+ and entry [0-9]+" \
  python3 "$verifier" "$base2" --checkpoints "$data/checkpoints.jsonl"
check "the receipt's signature still holds offline (the copy has the same key)" \
  python3 "$verifier" receipt "$receipt" --keys "$base2"
refuse "verify_ledger.py receipt --ledger on the copy" "ledger entry $first served now hashes to" \
  python3 "$verifier" receipt "$receipt" --keys "$base2" --ledger "$base2"
refuse "bandi receipt verify --key-url on the copy" "entry $first is now" \
  "$bin" receipt verify "$receipt" --key-url "$base2"

echo "$((SECONDS - started)) s"
if [ "$failures" -gt 0 ]; then
  echo "verify-public: $failures check(s) failed"
  exit 1
fi
echo "verify-public: every check passed"
