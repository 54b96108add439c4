#!/usr/bin/env python3
"""Independent verifier of a bandi server's public ledger, written from docs/ledger.md.

    verify_ledger.py URL [--checkpoints PATH [--hashes FILE]] [--save-checkpoints PATH] [--no-signatures]
    verify_ledger.py receipt FILE --keys URL_OR_FILE [--ledger URL]
    verify_ledger.py --self-test
    verify_ledger.py --worked-example

Python 3.9+ standard library; `cryptography` for Ed25519 (only when signatures are
checked). Exit 0 and one summary line when everything holds; exit 1 with the first
problem otherwise (exit 2 for bad usage or an unreachable server).
"""

import argparse
import base64
import hashlib
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from datetime import datetime, timedelta, timezone

GENESIS_HASH = "0" * 64
MAX_AMOUNT = 100_000_000_000_000  # cents: Money::MAX_AMOUNT
PAGE = 1000  # the ledger's largest page
SAVED_CHECKPOINTS = "checkpoints.json"  # the names `bandi verify --public --save DIR` writes
SAVED_HASHES = "ledger-hashes.jsonl"
ROLES = ("admin", "reviewer", "applicant")
STATUSES = ("reserved", "partial", "waitlisted", "withdrawn", "rejected", "revoked")
FINAL = ("withdrawn", "rejected", "revoked")
MODES = ("waitlist", "partial", "skip")
HEX64 = re.compile(r"[0-9a-f]{64}\Z")
HEX16 = re.compile(r"[0-9a-f]{16}\Z")
INSTANT = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z\Z")
RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})\Z"
)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
CUP = re.compile(r"[A-Z]\d{2}[A-Z]\d{11}\Z")
EXPENSE_OUTCOMES = ("accepted", "partial", "refused")
PAYMENT_KINDS = ("advance", "balance")
OFFICIALS = ("reviewer", "admin")  # who may verify a report (an admin may act as a reviewer)
MAX_EXPENSES = 500  # report.rs MAX_EXPENSES
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # SHA-256 of ""
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Problem(Exception):
    """Something the ledger or the server gets wrong: exit 1."""


class Unavailable(Exception):
    """The server cannot be read: exit 2."""


class NotServed(Problem):
    """An endpoint answers 404."""


# --------------------------------------------------------------------------- JSON


def _pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k!r}")
        d[k] = v
    return d


def _no_float(s):
    raise ValueError(f"non-integer number {s}")


def strict_loads(text):
    """JSON as the ledger uses it: no duplicate keys, integers only, no NaN."""
    return json.loads(text, object_pairs_hook=_pairs, parse_float=_no_float, parse_constant=_no_float)


def _check_canonical_value(v, where="$"):
    if v is None or isinstance(v, (bool, str)):
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise Problem(f"{where}: a lone surrogate cannot be written as UTF-8")
        return
    if isinstance(v, int):
        return
    if isinstance(v, list):
        for i, x in enumerate(v):
            _check_canonical_value(x, f"{where}[{i}]")
        return
    if isinstance(v, dict):
        for k, x in v.items():
            if not isinstance(k, str):
                raise Problem(f"{where}: object key {k!r} is not a string")
            _check_canonical_value(k, where)
            _check_canonical_value(x, f"{where}.{k}")
        return
    raise Problem(f"{where}: {type(v).__name__} has no canonical JSON form (integers only)")


def canonical_json(v):
    """docs/ledger.md, "Canonical JSON": sorted keys, no whitespace, integers, minimal escapes."""
    _check_canonical_value(v)
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sorted_obj(v):
    if isinstance(v, dict):
        return {k: _sorted_obj(v[k]) for k in sorted(v)}
    if isinstance(v, list):
        return [_sorted_obj(x) for x in v]
    return v


def compact(v):
    """serde_json::to_string of a value whose objects keep their insertion order."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- instants


def micros(s, what="instant"):
    """RFC 3339 UTC with exactly six fractional digits, as the server writes instants."""
    m = INSTANT.match(s) if isinstance(s, str) else None
    if not m:
        raise Problem(f"{what} {s!r} is not RFC 3339 UTC with microseconds (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
    y, mo, d, h, mi, se, f = (int(x) for x in m.groups())
    try:
        t = datetime(y, mo, d, h, mi, se, tzinfo=timezone.utc)
    except ValueError:
        raise Problem(f"{what} {s!r} is not a valid date and time")
    return (t - EPOCH) // timedelta(microseconds=1) + f


def micros_any(s, what="instant"):
    """Any RFC 3339 instant (the rules' own form); fractions below the microsecond dropped."""
    m = RFC3339.match(s) if isinstance(s, str) else None
    if not m:
        raise Problem(f"{what} {s!r} is not an RFC 3339 instant")
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    frac = (m.group(7) or "").ljust(6, "0")[:6]
    off = m.group(8)
    t = datetime(y, mo, d, h, mi, se, tzinfo=timezone.utc)
    us = (t - EPOCH) // timedelta(microseconds=1) + int(frac)
    if off not in ("Z", "z"):
        sign = 1 if off[0] == "+" else -1
        us -= sign * (int(off[1:3]) * 3600 + int(off[4:6]) * 60) * 1_000_000
    return us


def format_micros(us):
    t = EPOCH + timedelta(microseconds=us)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}Z"


def local_year(us, tz_name):
    from zoneinfo import ZoneInfo  # Python 3.9+

    return (EPOCH + timedelta(microseconds=us)).astimezone(ZoneInfo(tz_name)).year


def local_date(us, tz_name):
    """The calendar day (YYYY-MM-DD) of an instant in a time zone: what "today" is for a call."""
    from zoneinfo import ZoneInfo

    return (EPOCH + timedelta(microseconds=us)).astimezone(ZoneInfo(tz_name)).date().isoformat()


def valid_date(s):
    if not isinstance(s, str) or not DATE.match(s):
        return False
    try:
        datetime.strptime(s, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def format_protocol(prefix, year, seq):
    """`{prefix}-{year}/{seq:07}` (protocol.rs, format_protocol)."""
    return f"{prefix}-{year}/{seq:07d}"


def parse_protocol(s):
    """(prefix, year, seq) as protocol.rs parse_protocol reads it, or None."""
    if "/" not in s:
        return None
    head, seq = s.rsplit("/", 1)
    if "-" not in head:
        return None
    prefix, year = head.rsplit("-", 1)
    if len(seq) < 7 or not seq.isascii() or not seq.isdigit() or len(year) != 4:
        return None
    try:
        return prefix, int(year), int(seq)
    except ValueError:
        return None


# --------------------------------------------------------------------------- the chain


def entry_hash(seq, prev_hash, kind, at, payload):
    """hash(n) = SHA-256("bandi-ledger-v1\\n" n "\\n" prev "\\n" kind "\\n" at "\\n" payload)."""
    text = f"bandi-ledger-v1\n{seq}\n{prev_hash}\n{kind}\n{at}\n{payload}"
    return sha256_hex(text)


# Fields of each kind in the order the server writes them (crates/domain/src/ledger.rs,
# Record); "?" marks a field left out when empty.
KINDS = {
    "call_published": ["call:str", "budget_cents:money", "opens_at:instant", "closes_at:instant",
                       "rules:rules", "rules_sha256:hex"],
    "application_submitted": ["call:str", "seq:u64", "protocol:str", "entity:str", "admitted_at:instant",
                              "received_at:instant", "content_sha256:hex", "requested_cents:money"],
    "application_taken": ["call:str", "seq:u64", "by:role", "takeover:bool"],
    "checklist_checked": ["call:str", "seq:u64", "item:str", "passed:bool", "note_sha256:hex", "by:role"],
    "integration_requested": ["call:str", "seq:u64", "request:u32", "deadline:instant", "text_sha256:hex",
                              "by:role"],
    "integration_answered": ["call:str", "seq:u64", "request:u32", "content_sha256:hex"],
    "application_admitted": ["call:str", "seq:u64", "reason_sha256:hex", "by:role"],
    "application_reduced": ["call:str", "seq:u64", "eligible_cost_cents:money", "requested_before_cents:money",
                            "requested_cents:money", "lines?:lines", "reason_sha256:hex", "by:role"],
    "application_rejected": ["call:str", "seq:u64", "reason_sha256:hex", "by:role"],
    "application_withdrawn": ["call:str", "seq:u64", "reason_sha256:hex", "by:role"],
    "award_revoked": ["call:str", "seq:u64", "reason_sha256:hex", "act:act", "by:role"],
    "budget_changed": ["call:str", "budget_cents:money", "act:act", "by:role"],
    "list_published": ["call:str", "version:u32", "list_sha256:hex", "act:act", "by:role"],
    "cup_recorded": ["call:str", "seq:u64", "cup:str", "by:role"],
    "report_submitted": ["call:str", "seq:u64", "version:u32", "report_sha256:hex", "claimed_cents:money",
                         "eligible_claimed_cents:money", "by:role"],
    "expense_checked": ["call:str", "seq:u64", "version:u32", "line:u32", "outcome:outcome",
                        "accepted_cents:money", "reason_sha256:hex", "by:role"],
    "report_returned": ["call:str", "seq:u64", "version:u32", "reason_sha256:hex", "by:role"],
    "verification_closed": ["call:str", "seq:u64", "version:u32", "verified_eligible_cents:money",
                            "final_grant_cents:money", "granted_before_cents:money", "by:role"],
    "payment_recorded": ["call:str", "seq:u64", "payment:payment", "amount_cents:money", "paid_on:date",
                         "act:act", "by:role"],
    "report_deadline_extended": ["call:str", "seq:u64", "until:date", "reason_sha256:hex", "by:role"],
}


def _int_in(v, lo, hi):
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _typed(name, typ, v):
    """Checks one field; returns its value in the server's written form."""
    bad = lambda what: Problem(f"field {name!r}: {what}, got {json.dumps(v, ensure_ascii=False)[:80]}")
    if typ == "str":
        if not isinstance(v, str):
            raise bad("a string expected")
    elif typ == "u64":
        if not _int_in(v, 0, 2**64 - 1):
            raise bad("an unsigned 64-bit integer expected")
    elif typ == "u32":
        if not _int_in(v, 0, 2**32 - 1):
            raise bad("an unsigned 32-bit integer expected")
    elif typ == "money":
        if not _int_in(v, -(2**63), 2**63 - 1):
            raise bad("an integer number of cents expected")
    elif typ == "bool":
        if not isinstance(v, bool):
            raise bad("true or false expected")
    elif typ == "role":
        if v not in ROLES:
            raise bad("admin, reviewer or applicant expected")
    elif typ == "hex":
        if not isinstance(v, str) or not HEX64.match(v):
            raise bad("64 lower-case hex digits expected")
    elif typ == "instant":
        micros(v, f"field {name!r}")
    elif typ == "date":
        if not isinstance(v, str) or not valid_date(v):
            raise bad("a calendar date YYYY-MM-DD expected")
    elif typ == "outcome":
        if v not in EXPENSE_OUTCOMES:
            raise bad("accepted, partial or refused expected")
    elif typ == "payment":
        if v not in PAYMENT_KINDS:
            raise bad("advance or balance expected")
    elif typ == "rules":
        if not isinstance(v, dict):
            raise bad("an object expected")
        _check_canonical_value(v, "rules")
        return _sorted_obj(v)
    elif typ == "act":
        if not isinstance(v, dict):
            raise bad("an object expected")
        allowed = ["number", "date", "document_sha256"]
        if set(v) - set(allowed) or "number" not in v or "date" not in v:
            raise bad("an act {number, date[, document_sha256]} expected")
        if not isinstance(v["number"], str) or not v["number"].strip():
            raise bad("the act's number must be a non-empty string")
        if not isinstance(v["date"], str) or not valid_date(v["date"]):
            raise bad("the act's date must be a calendar date YYYY-MM-DD")
        if "document_sha256" in v and not (isinstance(v["document_sha256"], str) and HEX64.match(v["document_sha256"])):
            raise bad("the act's document_sha256 must be 64 lower-case hex digits")
        return {k: v[k] for k in allowed if k in v}
    elif typ == "lines":
        if not isinstance(v, list) or not v:
            raise bad("a non-empty array expected (an empty one is left out)")
        out = []
        for x in v:
            if not isinstance(x, dict) or set(x) != {"line", "admitted_cents"}:
                raise bad("items {line, admitted_cents} expected")
            _typed("line", "u32", x["line"])
            _typed("admitted_cents", "money", x["admitted_cents"])
            out.append({"line": x["line"], "admitted_cents": x["admitted_cents"]})
        return out
    else:  # pragma: no cover
        raise AssertionError(typ)
    return v


def parse_record(kind, payload):
    """The payload's record, checked field by field and against the server's written form."""
    try:
        data = strict_loads(payload)
    except ValueError as e:
        raise Problem(f"payload is not valid ledger JSON: {e}")
    if not isinstance(data, dict):
        raise Problem("payload is not a JSON object")
    if data.get("kind") != kind:
        raise Problem(f"kind {kind!r} but payload of kind {data.get('kind')!r}")
    if kind not in KINDS:
        raise Problem(f"unknown kind {kind!r}")
    expected = {"kind": kind}
    names = set()
    for spec in KINDS[kind]:
        name, typ = spec.split(":")
        optional = name.endswith("?")
        name = name.rstrip("?")
        names.add(name)
        if name not in data:
            if optional:
                continue
            raise Problem(f"payload of {kind} lacks field {name!r}")
        expected[name] = _typed(name, typ, data[name])
    extra = set(data) - names - {"kind"}
    if extra:
        raise Problem(f"payload of {kind} has unknown field(s) {sorted(extra)}")
    if compact(expected) != payload:
        raise Problem("payload is not in the server's form (compact JSON, fields in the documented order)")
    return data


# --------------------------------------------------------------------------- the fold


class FoldError(Problem):
    pass


def newcomer_standing(mode, remaining, anyone_waiting, requested):
    """allocation.rs newcomer_standing: (status, granted) of a new application."""
    fits = requested <= remaining
    if mode == "skip" and fits:
        return "reserved", requested
    if mode in ("waitlist", "partial") and not anyone_waiting and fits:
        return "reserved", requested
    if mode == "partial" and not anyone_waiting and remaining > 0:
        return "partial", remaining
    return "waitlisted", 0


class Allocation:
    """allocation.rs Allocation, step for step."""

    def __init__(self, mode, budget):
        if mode not in MODES:
            raise Problem(f"unknown fit mode {mode!r}")
        self.mode = mode
        self.budget = budget
        self.reserved = 0
        self.apps = []  # [requested, reserved, status], application seq = index + 1
        self.waiting = deque()
        self.waiting_count = 0

    def remaining(self):
        return self.budget - self.reserved

    def get(self, seq):
        return self.apps[seq - 1] if 1 <= seq <= len(self.apps) else None

    def _live(self, seq):
        app = self.get(seq)
        if app is None:
            raise FoldError(f"application {seq} does not exist")
        if app[2] in FINAL:
            raise FoldError(f"application {seq} is already {app[2]}")
        return app

    def _set_status(self, app, status):
        waits = lambda s: s in ("waitlisted", "partial")
        if waits(app[2]) and not waits(status):
            self.waiting_count -= 1
        elif not waits(app[2]) and waits(status):
            self.waiting_count += 1
        app[2] = status

    def _grant(self, app, cents):
        app[1] += cents
        self.reserved += cents

    def _finish(self, seq, status):
        app = self._live(seq)
        self.reserved -= app[1]
        app[1] = 0
        self._set_status(app, status)

    def submitted(self, seq, requested):
        if seq != len(self.apps) + 1:
            raise FoldError(f"application {seq} submitted out of order: the next number is {len(self.apps) + 1}")
        if requested <= 0:
            raise FoldError(f"amounts must be positive, got {requested}")
        status, granted = newcomer_standing(self.mode, self.remaining(), self.waiting_count > 0, requested)
        self.apps.append([requested, granted, status])
        self.reserved += granted
        if status != "reserved":
            self.waiting.append(seq)
            self.waiting_count += 1
        # Nothing was freed: no fill.

    def withdrawn(self, seq):
        self._finish(seq, "withdrawn")
        self._fill()

    def rejected(self, seq):
        self._finish(seq, "rejected")
        self._fill()

    def revoked(self, seq):
        app = self._live(seq)
        if app[2] not in ("reserved", "partial"):
            raise FoldError(f"only a reserved application can be revoked; {seq} is {app[2]}")
        self._finish(seq, "revoked")
        self._fill()

    def reduced(self, seq, requested):
        app = self._live(seq)
        if requested <= 0:
            raise FoldError(f"amounts must be positive, got {requested}")
        if requested >= app[0]:
            raise FoldError(f"a reduction must lower the request of application {seq}: {app[0]} -> {requested}")
        freed = app[1] - min(app[1], requested)
        app[0] = requested
        app[1] -= freed
        self.reserved -= freed
        if app[1] == requested:
            self._set_status(app, "reserved")
        self._fill()

    def budget_changed(self, budget):
        if budget < self.reserved:
            raise FoldError(f"the budget cannot go below what is already reserved ({self.reserved}); asked {budget}")
        if budget > MAX_AMOUNT:
            raise FoldError("amount overflow")
        self.budget = budget
        self._fill()

    def _fill(self):
        if self.mode in ("waitlist", "partial"):
            while self.waiting:
                seq = self.waiting[0]
                app = self.apps[seq - 1]
                if app[2] in FINAL or app[1] == app[0]:
                    if app[1] == app[0] and app[2] not in FINAL:
                        self._set_status(app, "reserved")
                    self.waiting.popleft()
                    continue
                missing = app[0] - app[1]
                remaining = self.remaining()
                if missing <= remaining:
                    self._grant(app, missing)
                    self._set_status(app, "reserved")
                    self.waiting.popleft()
                else:
                    if self.mode == "partial" and remaining > 0:
                        self._grant(app, remaining)
                        self._set_status(app, "partial")
                    break
        else:  # skip
            still = deque()
            while self.waiting:
                seq = self.waiting.popleft()
                app = self.apps[seq - 1]
                if app[2] in FINAL:
                    continue
                missing = app[0] - app[1]
                if missing <= self.remaining():
                    self._grant(app, missing)
                    self._set_status(app, "reserved")
                else:
                    still.append(seq)
            self.waiting = still


def grant_for(eligible, rate_bp, max_grant):
    """money.rs grant_for: floor(eligible × rate / 10000), capped at max_grant."""
    g = eligible * rate_bp // 10_000 if eligible >= 0 else -((-eligible * rate_bp) // 10_000)
    if max_grant is not None and g > max_grant:
        return max_grant
    return g


# --------------------------------------------------------------------------- per call


OUTCOMES = {
    "rejected": "not_admitted",
    "withdrawn": "withdrawn",
    "revoked": "revoked",
}


def outcome_of(review, status):
    """list.rs Outcome::of."""
    if review in OUTCOMES:
        return OUTCOMES[review]
    if review == "admitted":
        return {"reserved": "funded", "partial": "partly_funded"}.get(status, "admitted_not_funded")
    return "in_review"


class App:
    __slots__ = ("seq", "protocol", "entity", "received_at", "admitted_at", "requested", "entry",
                 "review", "checklist", "requests", "open_request", "open_deadline", "cup", "eligible",
                 "standing", "report_version", "report_state", "claimed", "eligible_claimed", "checks",
                 "final_grant", "verified_eligible", "paid", "report_deadline", "review_requested")

    def __init__(self, seq, protocol, entity, received_at, admitted_at, requested, entry):
        self.seq, self.protocol, self.entity = seq, protocol, entity
        self.received_at, self.admitted_at, self.requested, self.entry = received_at, admitted_at, requested, entry
        self.review = "to_review"
        self.checklist = {}
        self.requests = 0
        self.open_request = None  # number of the open request for integration
        self.open_deadline = None  # its deadline (µs)
        self.cup = None
        self.eligible = None  # not public until a reduction names it
        self.standing = None  # (status, reserved) right after its submission: the receipt's
        self.review_requested = requested  # the grant asked, after the review's reductions
        # The expense report (docs/ledger.md, section 9.7): its last version submitted (0 while
        # never), where it stands (None: never submitted, or a draft, which the ledger does not
        # show; "submitted", "returned", "verified"), the amounts of the version submitted,
        # the findings on its lines (line -> accepted cents, the last finding of each), the
        # verification's outcome, what was paid, and the deadline an extension set.
        self.report_version = 0
        self.report_state = None
        self.claimed = self.eligible_claimed = None
        self.checks = {}
        self.final_grant = self.verified_eligible = None
        self.paid = 0
        self.report_deadline = None

    def close_request(self):
        self.open_request = None
        self.open_deadline = None


# The members of a call's rules a verifier needs (docs/ledger.md, section 7.1).
RULES_USED = ("code", "budget", "opens_at", "closes_at", "when_not_fits", "protocol_prefix", "time_zone",
              "rate", "max_grant", "min_cost", "checklist")


REPORT_KINDS = ("report_submitted", "expense_checked", "report_returned", "verification_closed",
                "payment_recorded", "report_deadline_extended")


class Call:
    def __init__(self, code):
        self.code = code
        self.published = 0  # entry of the last call_published
        self.rules = None  # the rules of the last publication
        self.alloc = None
        self.apps = []
        self.lists = {}  # version -> (list_sha256, entry, rows)
        self.last_received_us = None
        self.last_entry = 0  # last ledger entry about this call
        self.prefix = None
        self.opens = self.closes = None

    def rule(self, name):
        return self.rules[name]


class Verifier:
    def __init__(self, base=None, warn=None):
        self.base = base
        self.warn = warn or (lambda m: print("warning: " + m, file=sys.stderr))
        self.hashes = [GENESIS_HASH]  # hashes[n] = hash of entry n
        self.ats = [None]
        self.last_at_us = None
        self.calls = {}
        self.run = None  # (call, at) of the current run of submissions, for admitted_at order
        self.run_admitted = None

    @property
    def size(self):
        return len(self.hashes) - 1

    # ---- one entry
    def add(self, e):
        try:
            self._add(e)
        except Problem as p:
            seq = e.get("seq") if isinstance(e, dict) else None
            if str(p).startswith("ledger entry"):
                raise
            raise Problem(f"ledger entry {seq}: {p}") from None

    def _add(self, e):
        if not isinstance(e, dict):
            raise Problem("an item of the ledger is not an object")
        for f in ("seq", "prev_hash", "hash", "kind", "at", "payload"):
            if f not in e:
                raise Problem(f"the item lacks {f!r}")
        seq = e["seq"]
        if seq != self.size + 1:
            raise Problem(f"expected entry number {self.size + 1} (entry numbers must have no gaps)")
        if e["prev_hash"] != self.hashes[-1]:
            raise Problem("prev_hash does not match the previous entry's hash")
        for f in ("kind", "at", "payload"):
            if not isinstance(e[f], str):
                raise Problem(f"{f} is not a string")
        recomputed = entry_hash(seq, e["prev_hash"], e["kind"], e["at"], e["payload"])
        if recomputed != e["hash"]:
            raise Problem(f"hash mismatch: served {e['hash']}, recomputed {recomputed}")
        at = micros(e["at"], "at")
        r = parse_record(e["kind"], e["payload"])
        if "data" in e and e["data"] != json.loads(e["payload"]):
            raise Problem("the item's data differs from its payload")
        if self.last_at_us is not None and at < self.last_at_us:
            self.warn(f"ledger entry {seq}: at {e['at']} is before the previous entry's "
                      f"(the server's clock stepped back, or nodes' clocks differ)")
        self.last_at_us = at if self.last_at_us is None else max(at, self.last_at_us)
        self.hashes.append(e["hash"])
        self.ats.append(e["at"])
        self.record(seq, e["kind"], at, e["at"], r)

    # ---- what the record means
    def record(self, n, kind, at_us, at, r):
        code = r["call"]
        if kind != "application_submitted":
            self.run = None
        if kind == "call_published":
            return self.call_published(n, at, r)
        c = self.calls.get(code)
        if c is None:
            raise Problem(f"{kind} for call {code!r}, which no call_published entry precedes")
        c.last_entry = n
        a = c.alloc
        app = None
        if "seq" in r and kind != "application_submitted":
            s = r["seq"]
            if not 1 <= s <= len(c.apps):
                raise FoldError(f"application {s} does not exist")
            app = c.apps[s - 1]
        role = r.get("by")

        if kind == "application_submitted":
            self.submitted(n, at_us, at, c, r)
        elif kind == "application_taken":
            if app.review not in ("to_review", "in_review"):
                raise Problem(f"application {app.seq} is {app.review}: it cannot be taken")
            if r["takeover"] and (app.review != "in_review" or role != "admin"):
                raise Problem("a takeover needs an application in review and an admin")
            app.review = "in_review"
        elif kind == "checklist_checked":
            self.need(app, "in_review", "checked")
            items = self.checklist_codes(c)
            if r["item"] not in items:
                raise Problem(f"the call has no checklist item {r['item']!r}")
            app.checklist[r["item"]] = r["passed"]
        elif kind == "integration_requested":
            self.need(app, "in_review", "asked for an integration")
            if r["request"] != app.requests + 1:
                raise Problem(f"request number {r['request']}, expected {app.requests + 1}")
            if app.open_request is not None and app.open_deadline > at_us:
                raise Problem(f"request {app.open_request} is still open (deadline "
                              f"{format_micros(app.open_deadline)}): no new request before it")
            deadline = micros(r["deadline"], "deadline")
            if deadline <= at_us:
                raise Problem(f"the deadline {r['deadline']} is not after the request's instant {at}")
            # A new request closes an earlier one left unanswered past its deadline.
            app.requests = r["request"]
            app.open_request, app.open_deadline = r["request"], deadline
        elif kind == "integration_answered":
            if app.open_request != r["request"]:
                raise Problem(f"answer to request {r['request']}, but the open request is {app.open_request}")
            if at_us >= app.open_deadline:
                raise Problem(f"answer at {at}, after the deadline {format_micros(app.open_deadline)}")
            app.close_request()
        elif kind == "application_admitted":
            self.need(app, "in_review", "admitted")
            missing = [i for i in self.checklist_codes(c) if app.checklist.get(i) is not True]
            if missing:
                raise Problem(f"admitted with checklist items not passed: {missing}")
            app.review = "admitted"
            app.close_request()
        elif kind == "application_reduced":
            self.reduced(c, app, r)
        elif kind == "application_rejected":
            self.need(app, "in_review", "rejected")
            a.rejected(app.seq)
            app.review = "rejected"
            app.close_request()
        elif kind == "application_withdrawn":
            if app.review in FINAL:
                raise Problem(f"application {app.seq} is {app.review}: it cannot be withdrawn")
            a.withdrawn(app.seq)
            app.review = "withdrawn"
            app.close_request()
        elif kind == "award_revoked":
            if role != "admin":
                raise Problem("only an admin revokes an award")
            self.need(app, "admitted", "revoked")
            if r["reason_sha256"] == EMPTY_SHA256:
                raise Problem("an award revoked without a reason")
            a.revoked(app.seq)
            app.review = "revoked"
            app.close_request()
        elif kind in REPORT_KINDS:
            self.report(c, app, kind, at_us, r)
        elif kind == "budget_changed":
            if role != "admin":
                raise Problem("only an admin changes a budget")
            if r["budget_cents"] <= 0:
                raise Problem("a budget must be positive")
            if at_us < c.opens:
                raise Problem(f"a budget changed at {at}, before the call opens ({format_micros(c.opens)}); "
                              f"before the opening the call is published again instead")
            a.budget_changed(r["budget_cents"])
        elif kind == "list_published":
            if role != "admin":
                raise Problem("only an admin publishes a list")
            if r["version"] != len(c.lists) + 1:
                raise Problem(f"list version {r['version']}, expected {len(c.lists) + 1}")
            rows = [self.list_row(c, x) for x in c.apps]
            c.lists[r["version"]] = (r["list_sha256"], n, rows)
        elif kind == "cup_recorded":
            self.need(app, "admitted", "given a CUP")
            if a.get(app.seq)[2] not in ("reserved", "partial"):
                raise Problem(f"a CUP for application {app.seq}, which is not funded")
            if app.cup is not None:
                raise Problem(f"application {app.seq} has its CUP already")
            if not CUP.match(r["cup"]):
                raise Problem(f"invalid CUP {r['cup']!r}")
            app.cup = r["cup"]

    # ---- the expense report, its verification, payments (docs/ledger.md, section 9.7)
    def report(self, c, app, kind, at_us, r):
        role, seq = r["by"], app.seq
        alloc = c.alloc.get(seq)
        today = local_date(at_us, c.rule("time_zone"))
        reportable = app.review == "admitted" and alloc[2] in ("reserved", "partial") and app.cup is not None

        def current_version():
            if r["version"] != app.report_version:
                raise Problem(f"version {r['version']} of the report of application {seq}, whose current "
                              f"version is {app.report_version}")

        def submitted(what):
            if app.report_state != "submitted":
                raise Problem(f"the report of application {seq} is {app.report_state or 'not submitted'}: "
                              f"it cannot be {what}")
            current_version()
            if role not in OFFICIALS:
                raise Problem(f"a report is {what} by a reviewer or an admin, not by {role}")

        if kind == "report_submitted":
            if role != "applicant":
                raise Problem("a report is submitted by its authority (by: applicant)")
            if not reportable:
                raise Problem(f"application {seq} reports its expenses only admitted, funded and with its CUP "
                              f"(it is {app.review}, {alloc[2]}, {'with' if app.cup else 'without'} a CUP)")
            if app.report_state not in (None, "returned"):
                raise Problem(f"the report of application {seq} is {app.report_state}: it cannot be submitted")
            if r["version"] != app.report_version + 1:
                raise Problem(f"report version {r['version']}, expected {app.report_version + 1}")
            deadline = self.report_deadline(c, app)
            if deadline is not None and today > deadline:
                raise Problem(f"report submitted on {today}, after its deadline {deadline}")
            if r["claimed_cents"] <= 0:
                raise Problem("a report claims no expense")
            if not 0 <= r["eligible_claimed_cents"] <= r["claimed_cents"]:
                raise Problem(f"eligible_claimed_cents {r['eligible_claimed_cents']} is not between 0 and "
                              f"claimed_cents {r['claimed_cents']}")
            app.report_version = r["version"]
            app.report_state = "submitted"
            app.claimed, app.eligible_claimed = r["claimed_cents"], r["eligible_claimed_cents"]
            app.checks = {}
        elif kind == "expense_checked":
            submitted("checked")
            outcome, accepted = r["outcome"], r["accepted_cents"]
            if outcome == "refused" and accepted != 0:
                raise Problem(f"an expense refused with {accepted} cents accepted")
            if outcome != "refused" and accepted <= 0:
                raise Problem(f"an expense {outcome} with {accepted} cents accepted")
            if outcome != "accepted" and r["reason_sha256"] == EMPTY_SHA256:
                raise Problem(f"an expense {outcome} without a reason")
            if r["line"] >= MAX_EXPENSES:
                raise Problem(f"line {r['line']}: a report has at most {MAX_EXPENSES} expenses")
            app.checks[r["line"]] = accepted
            # Each line accepts at most its amount, and the amounts add up to the claim.
            if sum(app.checks.values()) > app.claimed:
                raise Problem(f"the findings on version {app.report_version} accept "
                              f"{sum(app.checks.values())} cents, more than the report claims ({app.claimed})")
        elif kind == "report_returned":
            submitted("returned")
            if r["reason_sha256"] == EMPTY_SHA256:
                raise Problem("a report returned without a reason")
            app.report_state = "returned"
        elif kind == "verification_closed":
            submitted("closed")
            lines = sorted(app.checks)
            if not lines:
                raise Problem(f"the verification of application {seq} closed without a finding on any expense")
            missing = [x for x in range(lines[-1] + 1) if x not in app.checks]
            if missing:
                raise Problem(f"the verification of application {seq} closed without a finding on "
                              f"line(s) {missing} of version {app.report_version}")
            verified, final, before = r["verified_eligible_cents"], r["final_grant_cents"], r["granted_before_cents"]
            accepted = sum(app.checks.values())
            if not 0 <= verified <= min(accepted, app.eligible_claimed):
                raise Problem(f"verified_eligible_cents {verified}, but the findings accept {accepted} cents "
                              f"and the report claimed {app.eligible_claimed} eligible")
            if self.plain_categories(c) and verified != accepted:
                raise Problem(f"verified_eligible_cents {verified}, but the findings accept {accepted} cents "
                              f"(every category of the call is eligible without a share cap)")
            if before != alloc[1]:
                raise Problem(f"granted_before_cents {before}, but the replay reserves {alloc[1]} "
                              f"for application {seq}")
            want = min(before, grant_for(verified, c.rule("rate"), c.rule("max_grant")))
            if final != want:
                raise Problem(f"final_grant_cents {final}, but the call's rules give {want} for {verified} "
                              f"verified (never above the {before} granted)")
            app.report_state = "verified"
            app.verified_eligible, app.final_grant = verified, final
            if final < before:
                c.alloc.reduced(seq, final)
        elif kind == "payment_recorded":
            if role != "admin":
                raise Problem("only an admin records a payment")
            self.need(app, "admitted", "paid")
            amount = r["amount_cents"]
            if amount <= 0:
                raise Problem(f"a payment of {amount} cents")
            if r["payment"] == "advance":
                if app.report_state == "verified":
                    raise Problem(f"an advance to application {seq} after its verification closed")
                rate = c.rules.get("advance")
                if rate is None:
                    raise Problem("an advance, but the call's rules provide none")
                ceiling = alloc[1] * rate // 10_000
            else:
                if app.report_state != "verified":
                    raise Problem(f"a balance paid to application {seq} before its verification closed")
                ceiling = app.final_grant
            if app.paid + amount > ceiling:
                raise Problem(f"paid {app.paid} + {amount} cents to application {seq}, above the "
                              f"{ceiling} that may be paid as {r['payment']}")
            app.paid += amount
        elif kind == "report_deadline_extended":
            if role != "admin":
                raise Problem("only an admin extends a report's deadline")
            if not reportable:
                raise Problem(f"a deadline extended for application {seq}, which does not report "
                              f"(it is {app.review}, {alloc[2]}, {'with' if app.cup else 'without'} a CUP)")
            if app.report_state not in (None, "returned"):
                raise Problem(f"the report of application {seq} is {app.report_state}: its deadline cannot move")
            if r["reason_sha256"] == EMPTY_SHA256:
                raise Problem("a deadline extended without a reason")
            if r["until"] < today:
                raise Problem(f"a deadline extended until {r['until']}, before the day it was set ({today})")
            app.report_deadline = r["until"]

    @staticmethod
    def report_deadline(c, app):
        """The report's last day: the last extension's, else the call's (or none)."""
        if app.report_deadline is not None:
            return app.report_deadline
        d = c.rules.get("reporting_deadline")
        if d is not None and not valid_date(d):
            raise Problem(f"the rules' reporting_deadline {d!r} is not a date")
        return d

    @staticmethod
    def plain_categories(c):
        """Whether the call's eligible cost is the plain sum of its expenses: every category
        eligible, none with a share cap (else the verified eligible cost is only bounded)."""
        cats = c.rules.get("categories")
        return isinstance(cats, list) and bool(cats) and all(
            isinstance(x, dict) and x.get("eligible") is True and x.get("max_share") is None for x in cats)

    @staticmethod
    def need(app, state, what):
        if app.review != state:
            raise Problem(f"application {app.seq} is {app.review}: it cannot be {what}")

    @staticmethod
    def checklist_codes(c):
        return [i.get("code") for i in c.rule("checklist") if isinstance(i, dict)]

    def list_row(self, c, app):
        _, reserved, status = c.alloc.get(app.seq)
        return {
            "seq": app.seq,
            "protocol": app.protocol,
            "entity_code": app.entity,
            "received_at": app.received_at,
            # The grant asked after the review's reductions; a verification's final grant
            # shows in granted_cents only (docs/ledger.md, section 7.2).
            "requested_cents": app.review_requested,
            "granted_cents": reserved,
            "outcome": outcome_of(app.review, status),
        }

    def call_published(self, n, at, r):
        code = r["call"]
        c = self.calls.get(code)
        if c is not None and c.apps:
            raise Problem(f"call {code} published again after {len(c.apps)} application(s)")
        if c is None:
            c = self.calls[code] = Call(code)
        c.published = n
        c.last_entry = n
        opens, closes = micros(r["opens_at"]), micros(r["closes_at"])
        if closes <= opens:
            raise Problem("the call closes before it opens")
        c.opens, c.closes = opens, closes
        rules = r["rules"]
        got = sha256_hex(canonical_json(rules))
        if got != r["rules_sha256"]:
            raise Problem(f"rules_sha256 {r['rules_sha256']} but the rules hash to {got}")
        c.rules = rules
        self.check_rules(c, r)
        c.alloc = Allocation(c.rule("when_not_fits"), r["budget_cents"])
        c.prefix = c.rule("protocol_prefix")

    @staticmethod
    def check_rules(c, r):
        rules = c.rules
        missing = [m for m in RULES_USED if m not in rules]
        if missing:
            raise Problem(f"the rules lack {missing}")
        if rules["code"] != c.code:
            raise Problem(f"the rules are of call {rules['code']!r}")
        if rules["budget"] != r["budget_cents"]:
            raise Problem(f"budget_cents {r['budget_cents']} but the rules say {rules['budget']}")
        for f in ("opens_at", "closes_at"):
            if micros_any(rules[f], f"rules.{f}") != micros(r[f]):
                raise Problem(f"{f} {r[f]} but the rules say {rules[f]}")
        if rules["when_not_fits"] not in MODES:
            raise Problem(f"unknown when_not_fits {rules['when_not_fits']!r}")
        if not isinstance(rules["protocol_prefix"], str) or not isinstance(rules["time_zone"], str):
            raise Problem("protocol_prefix and time_zone must be strings")
        if not _int_in(rules["rate"], 0, 10_000):
            raise Problem(f"rate {rules['rate']!r} is not basis points 0..10000")
        for f in ("max_grant", "min_cost"):
            if rules[f] is not None and not _int_in(rules[f], 0, MAX_AMOUNT):
                raise Problem(f"{f} {rules[f]!r} is neither null nor cents")
        if not isinstance(rules["checklist"], list):
            raise Problem("checklist is not an array")

    def submitted(self, n, at_us, at, c, r):
        seq = r["seq"]
        received = micros(r["received_at"])
        admitted = micros(r["admitted_at"])
        if r["received_at"] != at:
            raise Problem("received_at differs from the entry's at")
        if c.last_received_us is not None and received < c.last_received_us:
            raise Problem("received_at goes back in time within the call")
        c.last_received_us = received
        # The window is judged at admission; the batch may commit after the closing.
        if not c.opens <= admitted < c.closes:
            raise Problem(f"admitted at {r['admitted_at']}, outside the call's window "
                          f"[{format_micros(c.opens)}, {format_micros(c.closes)})")
        if admitted > received:
            raise Problem("admitted_at is after received_at (the server writes the earlier of the two)")
        # The protocol number: prefix, year of receipt in the call's zone, number.
        tz = c.rule("time_zone")
        try:
            year = local_year(received, tz)
        except Exception as ex:  # unknown zone on this machine
            raise Problem(f"time zone {tz!r} of call {c.code} unknown here: {ex}")
        want = format_protocol(c.prefix, year, seq)
        if r["protocol"] != want:
            raise Problem(f"protocol {r['protocol']}, expected {want}")
        # Within a batch the applications are in admission order. The ledger does not mark
        # batches: a run of entries with the same instant is usually one, but two batches may
        # share an instant (other nodes, a clock that stepped back), so this only warns.
        if self.run == (c.code, at) and admitted < self.run_admitted:
            self.warn(f"ledger entry {n}: admitted_at {r['admitted_at']} before the previous application's, "
                      f"at the same received_at: not one batch, or not in admission order")
        self.run, self.run_admitted = (c.code, at), admitted
        c.alloc.submitted(seq, r["requested_cents"])
        app = App(seq, r["protocol"], r["entity"], r["received_at"], r["admitted_at"], r["requested_cents"], n)
        a = c.alloc.get(seq)
        app.standing = (a[2], a[1])
        c.apps.append(app)

    def reduced(self, c, app, r):
        role = r["by"]
        if app.review == "admitted":
            if role != "admin":
                raise Problem("only an admin reduces an admitted application")
        elif app.review != "in_review":
            raise Problem(f"application {app.seq} is {app.review}: it cannot be reduced")
        current = c.alloc.get(app.seq)[0]
        before, after, eligible = r["requested_before_cents"], r["requested_cents"], r["eligible_cost_cents"]
        if before != current:
            raise Problem(f"requested_before_cents {before}, but application {app.seq} asks {current}")
        if after > before:
            raise Problem("a reduction raises the grant")
        if eligible <= 0:
            raise Problem("nothing eligible")
        if app.eligible is not None and eligible >= app.eligible:
            raise Problem("the eligible cost does not go down")
        if "lines" in r:
            nums = [x["line"] for x in r["lines"]]
            if nums != sorted(set(nums)):
                raise Problem("lines are not in order of line number, each once")
            for x in r["lines"]:
                if x["admitted_cents"] < 0:
                    raise Problem("a line admitted below zero")
        want = min(grant_for(eligible, c.rule("rate"), c.rule("max_grant")), before)
        if after != want:
            raise Problem(f"requested_cents {after}, but the call's rules give {want} for {eligible}")
        min_cost = c.rule("min_cost")
        if min_cost is not None and eligible < min_cost:
            raise Problem("the eligible cost is below the call's minimum")
        app.eligible = eligible
        app.review_requested = after
        if after < before:
            c.alloc.reduced(app.seq, after)


# --------------------------------------------------------------------------- HTTP


def http_get(url, timeout=30):
    req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "verify_ledger.py"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            raise NotServed(f"{url} answers 404")
        raise Unavailable(f"{url} answers {e.code}")
    except (urllib.error.URLError, OSError) as e:
        raise Unavailable(f"{url}: {e}")


def get_json(url):
    body = http_get(url)
    try:
        return json.loads(body.decode("utf-8"), object_pairs_hook=_pairs)
    except (ValueError, UnicodeDecodeError) as e:
        raise Problem(f"{url} does not answer JSON: {e}")


def paged(base, path, key="items", limit=PAGE, start=0):
    """Items of a paged endpoint (`after`, `limit`, `next_after`), in order."""
    after = start
    while True:
        page = get_json(f"{base}{path}?after={after}&limit={limit}")
        items = page.get(key)
        if not isinstance(items, list):
            raise Problem(f"{path}: no {key!r} array")
        if not items:
            if page.get("next_after", after) != after:
                raise Problem(f"{path}: an empty page after {after} says next_after {page.get('next_after')}")
            return
        for it in items:
            yield it
        last = items[-1].get("seq") if isinstance(items[-1], dict) else None
        if page.get("next_after") != last:
            raise Problem(f"{path}: next_after {page.get('next_after')} but the page ends at {last}")
        if not isinstance(last, int) or last <= after:
            raise Problem(f"{path}: the page after {after} does not move forward")
        after = last


# --------------------------------------------------------------------------- signatures


def _ed25519():
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.exceptions import InvalidSignature
    except ImportError:
        raise Unavailable("the Python package `cryptography` is needed to check Ed25519 signatures "
                          "(pip install cryptography), or pass --no-signatures")
    return Ed25519PublicKey, InvalidSignature


def b64(s, length, what):
    if not isinstance(s, str):
        raise Problem(f"{what} is not a string")
    try:
        raw = base64.b64decode(s, validate=True)
    except ValueError:
        raise Problem(f"{what} is not standard padded base64")
    if len(raw) != length or base64.b64encode(raw).decode() != s:
        raise Problem(f"{what} does not decode to {length} bytes")
    return raw


def key_id_of(public_key):
    return hashlib.sha256(public_key).digest()[:8].hex()


class Keys:
    def __init__(self, doc):
        if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
            raise Problem("keys: no items array")
        self.keys = {}
        for k in doc["items"]:
            if not isinstance(k, dict):
                raise Problem("keys: an item is not an object")
            kid = k.get("key_id")
            if k.get("algorithm") != "ed25519":
                raise Problem(f"key {kid}: algorithm {k.get('algorithm')!r}, not ed25519")
            raw = b64(k.get("public_key"), 32, f"key {kid}: public_key")
            if key_id_of(raw) != kid:
                raise Problem(f"key {kid}: key_id should be {key_id_of(raw)} (first 8 bytes of SHA-256 of the key)")
            if kid in self.keys:
                raise Problem(f"key {kid} listed twice")
            frm = micros_any(k.get("valid_from"), f"key {kid}: valid_from")
            to = k.get("valid_to")
            to = None if to is None else micros_any(to, f"key {kid}: valid_to")
            if to is not None and to < frm:
                raise Problem(f"key {kid}: valid_to before valid_from")
            self.keys[kid] = (raw, frm, to)

    def verify(self, kid, text, signature, at_us, what):
        Ed25519PublicKey, InvalidSignature = _ed25519()
        if kid not in self.keys:
            raise Problem(f"{what}: signed with unknown key {kid!r}")
        raw, frm, to = self.keys[kid]
        if at_us is not None and (at_us < frm or (to is not None and at_us >= to)):
            raise Problem(f"{what}: key {kid} was not valid at {format_micros(at_us)}")
        sig = b64(signature, 64, f"{what}: signature")
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(sig, text.encode("utf-8"))
        except InvalidSignature:
            raise Problem(f"{what}: the signature does not verify with key {kid}")


def checkpoint_text(kid, size, head, time):
    return f"bandi-checkpoint-v1\nkey_id:{kid}\nsize:{size}\nhead:{head}\ntime:{time}\n"


RECEIPT_FIELDS = ["call", "protocol", "seq", "entity", "admitted_at", "received_at", "content_sha256",
                  "requested_cents", "status", "reserved_cents", "ledger_seq", "ledger_prev_hash", "ledger_hash"]


def receipt_text(r):
    lines = ["bandi-receipt-v1"] + [f"{f}:{r[f]}" for f in RECEIPT_FIELDS]
    return "\n".join(lines) + "\n"


def batch_text(kid, size, root):
    return f"bandi-receipt-batch-v1\nkey_id:{kid}\nsize:{size}\nroot:{root}\n"


# --------------------------------------------------------------------------- Merkle (RFC 9162 2.1)


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves):
    """MTH(D[n]) of the leaves' data."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = _split(n)
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def merkle_path(m, leaves):
    """PATH(m, D[n]), RFC 9162 2.1.3.1."""
    n = len(leaves)
    if n <= 1:
        return []
    k = _split(n)
    if m < k:
        return merkle_path(m, leaves[:k]) + [merkle_root(leaves[k:])]
    return merkle_path(m - k, leaves[k:]) + [merkle_root(leaves[:k])]


def root_from_path(index, size, leaf, path):
    """RFC 9162 2.1.3.2: the root an inclusion path implies, or None if it cannot be one."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def check_receipt(rc, keys):
    """A receipt JSON: its leaf, its inclusion path, the batch signature. Returns the batch."""
    if not isinstance(rc, dict):
        raise Problem("the receipt is not a JSON object")
    for f in RECEIPT_FIELDS + ["key_id", "signature", "batch"]:
        if f not in rc:
            raise Problem(f"the receipt lacks {f!r}")
    for f in ("seq", "requested_cents", "reserved_cents", "ledger_seq"):
        if not _int_in(rc[f], -(2**63), 2**64 - 1):
            raise Problem(f"receipt {f} is not an integer")
    for f in ("content_sha256", "ledger_prev_hash", "ledger_hash"):
        _typed(f, "hex", rc[f])
    for f in ("admitted_at", "received_at"):
        micros(rc[f], f"receipt {f}")
    if rc["status"] not in ("reserved", "partial", "waitlisted"):
        raise Problem(f"receipt status {rc['status']!r}")
    for f in ("call", "protocol", "entity"):
        if not isinstance(rc[f], str) or "\n" in rc[f]:
            raise Problem(f"receipt {f} is not a one-line string")
    b = rc["batch"]
    if not isinstance(b, dict) or not {"size", "index", "root", "path"} <= set(b):
        raise Problem("the receipt's batch needs size, index, root and path")
    size, index, root, path = b["size"], b["index"], b["root"], b["path"]
    if not _int_in(size, 1, 2**63) or not _int_in(index, 0, 2**63):
        raise Problem("batch size and index must be integers, size at least 1")
    _typed("batch.root", "hex", root)
    if not isinstance(path, list):
        raise Problem("batch.path is not an array")
    for p in path:
        _typed("batch.path[]", "hex", p)
    leaf = leaf_hash(receipt_text(rc).encode("utf-8"))
    got = root_from_path(index, size, leaf, [bytes.fromhex(p) for p in path])
    if got is None:
        raise Problem(f"the inclusion path does not fit leaf {index} of a batch of {size}")
    if got.hex() != root:
        raise Problem(f"the inclusion path leads to root {got.hex()}, the receipt says {root}")
    keys.verify(rc["key_id"], batch_text(rc["key_id"], size, root), rc["signature"],
                micros(rc["received_at"]), "receipt batch")
    return b


# --------------------------------------------------------------------------- the run


def load_json_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f, object_pairs_hook=_pairs)
    except (OSError, ValueError) as e:
        raise Unavailable(f"{path}: {e}")


def _read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise Unavailable(f"{path}: {e}")


def _json_or_lines(text, path):
    """One JSON document, or one JSON object per line."""
    try:
        return strict_loads(text)
    except ValueError:
        pass
    try:
        return [strict_loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as e:
        raise Unavailable(f"{path}: neither JSON nor one JSON object per line: {e}")


def load_saved(path, hashes=None):
    """Saved checkpoints, as `{"items": [...], "entries": [{"seq", "hash"}...]}`, from:
    a directory as `--save-checkpoints DIR` and `bandi verify --public --save DIR` write it
    (`checkpoints.json` and `ledger-hashes.jsonl`); the JSON of /api/v1/checkpoints
    (optionally with `"entries"`, as `--save-checkpoints FILE` writes it); or one checkpoint
    per line (the server's mirror, `checkpoints.jsonl`). `hashes`: a file of entry hashes,
    one `{"seq", "hash"}` per line (or a JSON array of them)."""
    if os.path.isdir(path):
        saved = load_saved(os.path.join(path, SAVED_CHECKPOINTS))
        h = os.path.join(path, SAVED_HASHES)
        if hashes is None and os.path.exists(h):
            hashes = h
    else:
        doc = _json_or_lines(_read_text(path), path)
        if isinstance(doc, dict) and "items" not in doc and "size" in doc:
            doc = [doc]  # a mirror of one line
        saved = {"items": doc} if isinstance(doc, list) else doc
        if not isinstance(saved, dict) or not isinstance(saved.get("items"), list):
            raise Unavailable(f"{path}: no checkpoints (an items array, or one checkpoint per line)")
    if hashes is not None:
        doc = _json_or_lines(_read_text(hashes), hashes)
        saved["entries"] = doc if isinstance(doc, list) else [doc]
    for x in saved.get("entries") or []:
        if not isinstance(x, dict) or not _int_in(x.get("seq"), 1, 2**63) or not isinstance(x.get("hash"), str):
            raise Unavailable(f"{path}: saved entry hashes must be {{\"seq\", \"hash\"}} objects")
    return saved


def save_checkpoints(path, checkpoints, hashes):
    """`--save-checkpoints`: a directory (existing, or named with a final `/`) gets
    `checkpoints.json` and `ledger-hashes.jsonl`, the layout of `bandi verify --public --save`;
    any other path one JSON file with both."""
    entries = [{"seq": i, "hash": h} for i, h in enumerate(hashes) if i]
    if os.path.isdir(path) or path.endswith(os.sep) or path.endswith("/"):
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, SAVED_CHECKPOINTS), "w", encoding="utf-8") as f:
            json.dump({"items": checkpoints}, f, indent=2)
            f.write("\n")
        with open(os.path.join(path, SAVED_HASHES), "w", encoding="utf-8") as f:
            for e in entries:
                f.write(json.dumps(e, separators=(",", ":")) + "\n")
    else:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"items": checkpoints, "entries": entries}, f)


def read_chain(v, base, until=None):
    """Reads entries after v.size (up to `until` if given; to the end otherwise)."""
    for e in paged(base, "/api/v1/ledger", start=v.size):
        v.add(e)
        if until is not None and v.size >= until:
            return


def fetch_state(base, c):
    """The call's counters and its ranking, as served."""
    served = get_json(f"{base}/api/v1/calls/{urllib.parse.quote(c.code)}")
    ranking = get_json(f"{base}/api/v1/calls/{urllib.parse.quote(c.code)}/ranking")
    return served, ranking


def check_call(c, served, ranking):
    a = c.alloc
    want = {
        "budget_cents": a.budget,
        "reserved_cents": a.reserved,
        "remaining_cents": a.remaining(),
        "applications": len(a.apps),
        "waitlisted": a.waiting_count,
    }
    for k, x in want.items():
        if served.get(k) != x:
            raise Problem(f"call {c.code}: {k} is {served.get(k)} but the replay of the ledger gives {x}")
    if "when_not_fits" in served and served["when_not_fits"] != a.mode:
        raise Problem(f"call {c.code}: when_not_fits {served['when_not_fits']} but the ledger's rules say {a.mode}")
    items = ranking.get("items")
    if not isinstance(items, list):
        raise Problem(f"call {c.code}: the ranking has no items")
    if len(items) != len(c.apps):
        raise Problem(f"call {c.code}: the ranking lists {len(items)} applications, the ledger {len(c.apps)}")
    for row, app in zip(items, c.apps):
        _, reserved, status = a.get(app.seq)
        checks = [
            ("seq", row.get("seq"), app.seq),
            ("protocol", row.get("protocol"), app.protocol),
            ("entity_code", row.get("entity_code"), app.entity),
            ("received_at", row.get("received_at"), app.received_at),
            ("requested_cents", row.get("requested_cents"), app.requested),
            ("status", row.get("status"), status),
            ("reserved_cents", row.get("reserved_cents"), reserved),
        ]
        for name, got, exp in checks:
            if got != exp:
                raise Problem(f"call {c.code}, application {app.protocol}: ranking {name} is {got!r}, "
                              f"the replay of the ledger gives {exp!r}")


def check_lists(v, base, c):
    for _attempt in range(3):
        listing = get_json(f"{base}/api/v1/calls/{urllib.parse.quote(c.code)}/lists")
        versions = listing.get("versions")
        if not isinstance(versions, list):
            raise Problem(f"call {c.code}: /lists has no versions array")
        served = {x.get("version"): x for x in versions if isinstance(x, dict)}
        if set(served) == set(c.lists):
            break
        read_chain(v, base)  # a list published since the chain was read?
    if set(served) != set(c.lists):
        raise Problem(f"call {c.code}: /lists serves versions {sorted(map(str, served))}, "
                      f"the ledger publishes {sorted(c.lists)}")
    for version, (sha, entry, rows) in sorted(c.lists.items()):
        x = served[version]
        if x.get("list_sha256") != sha or x.get("ledger_seq") != entry:
            raise Problem(f"call {c.code}: list {version} is listed with {x.get('list_sha256')} at entry "
                          f"{x.get('ledger_seq')}, the ledger says {sha} at entry {entry}")
        body = http_get(f"{base}/api/v1/calls/{urllib.parse.quote(c.code)}/lists/{version}")
        got = sha256_hex(body)
        if got != sha:
            raise Problem(f"call {c.code}: list {version} hashes to {got}, ledger entry {entry} says {sha}")
        try:
            doc = strict_loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise Problem(f"call {c.code}: list {version} is not valid JSON: {e}")
        if not isinstance(doc, dict) or list(doc) != ["call", "version", "rows"]:
            raise Problem(f"call {c.code}: list {version} is not {{call, version, rows}}")
        if doc["call"] != c.code or doc["version"] != version or not isinstance(doc["rows"], list):
            raise Problem(f"call {c.code}: list {version} names call {doc['call']!r} version {doc['version']!r}")
        order = ["seq", "protocol", "entity_code", "entity_name", "received_at", "requested_cents",
                 "granted_cents", "outcome"]
        for got_row in doc["rows"]:
            if not isinstance(got_row, dict) or list(got_row) != order:
                raise Problem(f"call {c.code}: list {version}: a row is not {{{', '.join(order)}}}")
        if compact(doc) != body.decode("utf-8"):
            raise Problem(f"call {c.code}: list {version} is not in the server's form (compact JSON)")
        if len(doc["rows"]) != len(rows):
            raise Problem(f"call {c.code}: list {version} has {len(doc['rows'])} rows, "
                          f"the ledger had {len(rows)} applications at entry {entry}")
        for got_row, exp in zip(doc["rows"], rows):
            for k, e in exp.items():
                if got_row[k] != e:
                    raise Problem(f"call {c.code}: list {version}, application {exp['protocol']}: {k} is "
                                  f"{got_row[k]!r}, the ledger at entry {entry} gives {e!r}")


def verify_server(args):
    base = args.url.rstrip("/")
    warnings = []
    v = Verifier(base, warn=lambda m: warnings.append(m))
    keys = None
    signatures = not args.no_signatures
    if signatures:
        try:
            keys = Keys(get_json(f"{base}/api/v1/keys"))
        except NotServed as e:
            raise Problem(f"the keys endpoint is not served ({e}); --no-signatures skips keys, checkpoints and head")
        _ed25519()

    # 1. The chain, every entry folded as it is read. If it fails, saved checkpoints first
    # say whether the part read so far was rewritten.
    try:
        read_chain(v, base)
    except Problem:
        if args.checkpoints:
            check_saved(v, None, keys, load_saved(args.checkpoints, args.hashes), None, partial=True)
        raise

    # 2. The head, read after the chain: at least as long; the same hash at its size.
    if signatures:
        try:
            head = get_json(f"{base}/api/v1/ledger/head")
        except NotServed as e:
            raise Problem(f"the ledger head is not served ({e}); --no-signatures skips it")
        size = head.get("size")
        if not _int_in(size, 0, 2**63):
            raise Problem("ledger head: size is not an integer")
        if size > v.size:
            read_chain(v, base, until=size)
        if size > v.size:
            raise Problem(f"ledger head says {size} entries, the ledger serves {v.size}")
        if head.get("head") != v.hashes[size]:
            raise Problem(f"ledger head says entry {size} is {head.get('head')}, the chain gives {v.hashes[size]}")
        if size and head.get("at") != v.ats[size]:
            raise Problem(f"ledger head says at {head.get('at')}, entry {size} is at {v.ats[size]}")

    # 3. Checkpoints, before anything is compared: a rewritten chain is the first thing to
    # say. Those saved earlier first (they name the first entry that differs), then those
    # served now.
    checkpoints = []
    if signatures:
        try:
            last = 0
            for cp in paged(base, "/api/v1/checkpoints"):
                checkpoints.append(cp)
                if cp.get("seq") != last + 1:
                    raise Problem(f"checkpoint {cp.get('seq')}: expected checkpoint number {last + 1}")
                last = cp["seq"]
        except NotServed as e:
            raise Problem(f"the checkpoints endpoint is not served ({e}); --no-signatures skips it")
    if args.checkpoints:
        check_saved(v, base, keys, load_saved(args.checkpoints, args.hashes), checkpoints if signatures else None)
    for cp in checkpoints:
        check_checkpoint(v, base, keys, cp, f"checkpoint {cp.get('seq')}")

    # 5. Every call: counters and ranking, read between two reads of the chain's end; a call
    # that moved in between is read again.
    checked = set()
    for _round in range(6):
        pending = {code: c for code, c in v.calls.items() if code not in checked}
        if not pending:
            break
        seen = {code: c.last_entry for code, c in pending.items()}
        answers = {code: fetch_state(base, c) for code, c in pending.items()}
        read_chain(v, base)
        for code, c in pending.items():
            if c.last_entry == seen[code]:
                check_call(c, *answers[code])
                checked.add(code)
    if set(v.calls) - checked:
        raise Problem(f"calls {sorted(set(v.calls) - checked)} kept changing while they were read; try again")

    # 6. Published lists.
    for c in v.calls.values():
        check_lists(v, base, c)

    if args.save_checkpoints:
        save_checkpoints(args.save_checkpoints, checkpoints, v.hashes)

    for w in warnings:
        print("warning: " + w, file=sys.stderr)
    if not v.calls:
        print("note: the ledger publishes no call", file=sys.stderr)
    extra = "" if signatures else " (signatures, checkpoints and head not checked: --no-signatures)"
    print(f"ok: {v.size} entries, {len(v.calls)} calls, {len(checkpoints)} checkpoints{extra}")


def check_checkpoint(v, base, keys, cp, what):
    if not isinstance(cp, dict):
        raise Problem(f"{what} is not an object")
    for f in ("size", "head", "time", "key_id", "signature"):
        if f not in cp:
            raise Problem(f"{what} lacks {f!r}")
    size, head, time = cp["size"], cp["head"], cp["time"]
    if not _int_in(size, 0, 2**63):
        raise Problem(f"{what}: size is not an integer")
    _typed("head", "hex", head)
    t = micros(time, f"{what}: time")
    if keys is not None:
        keys.verify(cp["key_id"], checkpoint_text(cp["key_id"], size, head, time), cp["signature"], t, what)
    if size > v.size and base is not None:
        read_chain(v, base, until=size)
    if size > v.size:
        raise Problem(f"{what} covers {size} entries, the ledger serves only {v.size}: "
                      f"entries from {v.size + 1} on are missing")
    if v.hashes[size] != head:
        raise Problem(f"{what} says entry {size} hashes to {head}, the chain served gives {v.hashes[size]}")


def check_saved(v, base, keys, saved, served, partial=False):
    """Checkpoints (and entry hashes) saved earlier against the chain served now. A rewrite
    is said first, naming the first entry that differs; then that each saved checkpoint is
    genuine and still served as it was."""
    items = saved.get("items") if isinstance(saved, dict) else None
    if not isinstance(items, list):
        raise Unavailable("the saved checkpoints have no items array")
    for cp in items:
        if not isinstance(cp, dict) or not _int_in(cp.get("size"), 0, 2**63):
            raise Problem(f"saved checkpoint {cp.get('seq') if isinstance(cp, dict) else '?'} is not a checkpoint")
    entries = {x["seq"]: x["hash"] for x in saved.get("entries") or []}
    # 1. Consistency with the chain; the first entry that differs, from the saved entry
    # hashes if any, else bracketed by the saved checkpoints that still match.
    bad = []
    for cp in sorted(items, key=lambda x: x["size"]):
        what = f"saved checkpoint {cp.get('seq')} (size {cp['size']}, signed {cp.get('time')})"
        if partial and cp["size"] > v.size:
            continue  # beyond the part of the chain that could be read
        try:
            check_checkpoint(v, base, None, cp, what)
        except Problem as p:
            bad.append((cp, str(p)))
    if base is not None and not partial and entries and max(entries) > v.size:
        read_chain(v, base, until=max(entries))
    differing = [s for s, h in sorted(entries.items())
                 if (s > v.size and not partial) or (s <= v.size and v.hashes[s] != h)]
    if bad:
        cp, why = bad[0]
        size = cp["size"]
        first = next((s for s in differing if s <= size), None)
        if first is not None:
            raise Problem(f"history rewritten: entry {first} differs from the copy saved earlier (the first entry "
                          f"that differs" + (", no longer served" if first > v.size else "") + f"); {why}")
        bad_cps = [b[0] for b in bad]
        good = [x["size"] for x in items if x["size"] < size and x not in bad_cps]
        low = max(good) + 1 if good else 1
        raise Problem(f"history rewritten: the first entry that differs is between entry {low} and entry {size}"
                      + (f" (saved checkpoint of size {low - 1} still matches)" if good else "") + f"; {why}")
    if differing:
        first = differing[0]
        raise Problem(f"entry {first} differs from the hash saved earlier (the first entry that differs"
                      + (", no longer served" if first > v.size else "")
                      + "); no saved checkpoint covers it, so no signature of the server proves the old one")
    # 2. Each saved checkpoint genuine, and still served as it was.
    by_seq = {cp.get("seq"): cp for cp in served or []}
    for cp in items:
        what = f"saved checkpoint {cp.get('seq')}"
        if keys is not None:
            keys.verify(cp.get("key_id"), checkpoint_text(cp.get("key_id"), cp["size"], cp.get("head"),
                                                          cp.get("time")),
                        cp.get("signature"), micros(cp.get("time"), f"{what}: time"), what)
        if served is not None and cp.get("seq") not in by_seq:
            raise Problem(f"{what} is no longer served by /api/v1/checkpoints")
        if served is not None and by_seq[cp["seq"]] != cp:
            raise Problem(f"{what} is served now with different content: {json.dumps(by_seq[cp['seq']])}")


def verify_receipt_cmd(args):
    src = args.keys
    if src.startswith(("http://", "https://")):
        url = src if urllib.parse.urlparse(src).path.rstrip("/").endswith("/api/v1/keys") \
            else src.rstrip("/") + "/api/v1/keys"
        keys = Keys(get_json(url))
    else:
        keys = Keys(load_json_file(src))
    rc = load_json_file(args.file)
    if isinstance(rc, dict) and isinstance(rc.get("receipt"), dict):
        rc = rc["receipt"]  # GET /api/v1/applications/{id} wraps it
    b = check_receipt(rc, keys)
    msg = f"ok: receipt {rc['protocol']}, leaf {b['index']} of a batch of {b['size']}, signed by {rc['key_id']}"
    if args.ledger:
        base = args.ledger.rstrip("/")
        v = Verifier(base)
        n = rc["ledger_seq"]
        if n < 1:
            raise Problem(f"the receipt names ledger entry {n}")
        read_chain(v, base, until=n)
        if n > v.size:
            raise Problem(f"the ledger serves {v.size} entries, the receipt names entry {n}")
        if v.hashes[n] != rc["ledger_hash"] or v.hashes[n - 1] != rc["ledger_prev_hash"]:
            raise Problem(f"ledger entry {n} served now hashes to {v.hashes[n]} after {v.hashes[n - 1]}, the "
                          f"signed receipt names {rc['ledger_hash']} after {rc['ledger_prev_hash']}: the history "
                          f"was rewritten after the receipt was given (or the receipt is not of this deployment)")
        c = v.calls.get(rc["call"])
        app = c.apps[rc["seq"] - 1] if c and 1 <= rc["seq"] <= len(c.apps) else None
        if app is None or app.entry != n:
            raise Problem(f"ledger entry {n} does not record application {rc['seq']} of {rc['call']}")
        checks = [("protocol", app.protocol), ("entity", app.entity), ("received_at", app.received_at),
                  ("admitted_at", app.admitted_at), ("requested_cents", app.requested),
                  ("status", app.standing[0]), ("reserved_cents", app.standing[1])]
        for f, want in checks:
            if rc[f] != want:
                raise Problem(f"receipt {f} is {rc[f]!r}, ledger entry {n} gives {want!r}")
        msg += f"; ledger entry {n} agrees"
    print(msg)


# --------------------------------------------------------------------------- worked example

WORKED_SEED = hashlib.sha256(b"bandi worked example key").digest()
WORKED_RULES = {
    "code": "demo-2020",
    "protocol_prefix": "DM",
    "title": {"it": "Città: bando di prova", "en": "Demo call\tone"},
    "time_zone": "Europe/Rome",
    "opens_at": "2020-04-03T07:30:00Z",
    "closes_at": "2020-07-31T16:00:00Z",
    "budget": 10000000,
    "rate": 7000,
    "max_grant": 10500000,
    "min_cost": None,
    "when_not_fits": "waitlist",
    "checklist": [],
}


def worked_example():
    """The example of docs/ledger.md, computed; returns (entries, receipts, checkpoint, key)."""
    rules_json = canonical_json(WORKED_RULES)
    records = [
        ("2020-04-01T10:00:00.000000Z", {
            "kind": "call_published", "call": "demo-2020", "budget_cents": 10000000,
            "opens_at": "2020-04-03T07:30:00.000000Z", "closes_at": "2020-07-31T16:00:00.000000Z",
            "rules": _sorted_obj(WORKED_RULES), "rules_sha256": sha256_hex(rules_json)}),
    ]
    received = "2020-04-03T07:30:00.004000Z"
    apps = [("039007", "2020-04-03T07:30:00.001250Z", 5250000),
            ("037006", "2020-04-03T07:30:00.002500Z", 4000000),
            ("ucdc", "2020-04-03T07:30:00.003750Z", 3000000)]
    for i, (entity, admitted, cents) in enumerate(apps, 1):
        records.append((received, {
            "kind": "application_submitted", "call": "demo-2020", "seq": i,
            "protocol": format_protocol("DM", 2020, i), "entity": entity, "admitted_at": admitted,
            "received_at": received, "content_sha256": sha256_hex(f"content of application {i}"),
            "requested_cents": cents}))
    records.append(("2020-06-16T08:00:00.000000Z", {
        "kind": "budget_changed", "call": "demo-2020", "budget_cents": 13000000,
        "act": {"number": "DGR 1234/2020", "date": "2020-06-15"}, "by": "admin"}))
    entries, prev = [], GENESIS_HASH
    for n, (at, rec) in enumerate(records, 1):
        payload = compact(rec)
        h = entry_hash(n, prev, rec["kind"], at, payload)
        entries.append({"seq": n, "prev_hash": prev, "hash": h, "kind": rec["kind"], "at": at, "payload": payload})
        prev = h
    # The receipts of the batch (entries 2 to 4), with the standing the fold gave each.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    sk = Ed25519PrivateKey.from_private_bytes(WORKED_SEED)
    pk = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = key_id_of(pk)
    alloc = Allocation("waitlist", 10000000)
    receipts = []
    for i, (entity, admitted, cents) in enumerate(apps, 1):
        eligible = next(x for x in range(cents * 10000 // 7000, cents * 2) if grant_for(x, 7000, 10500000) == cents)
        alloc.submitted(i, cents)
        e = entries[i]
        # Members in the server's order; id, the costs and notices are not signed.
        receipts.append({
            "id": f"{micros(received):014x}{i:016x}", "call": "demo-2020", "entity": entity,
            "protocol": format_protocol("DM", 2020, i), "seq": i, "admitted_at": admitted, "received_at": received,
            "content_sha256": sha256_hex(f"content of application {i}"),
            "ledger_seq": e["seq"], "ledger_prev_hash": e["prev_hash"], "ledger_hash": e["hash"],
            "status": alloc.get(i)[2], "total_cost_cents": eligible, "eligible_cost_cents": eligible,
            "requested_cents": cents, "reserved_cents": alloc.get(i)[1], "notices": []})
    leaves = [receipt_text(r).encode() for r in receipts]
    root = merkle_root(leaves).hex()
    sig = base64.b64encode(sk.sign(batch_text(kid, 3, root).encode())).decode()
    for i, r in enumerate(receipts):
        r["key_id"] = kid
        r["signature"] = sig
        r["batch"] = {"size": 3, "index": i, "root": root, "path": [p.hex() for p in merkle_path(i, leaves)]}
    time = "2020-06-16T08:00:01.000000Z"
    cp = {"seq": 1, "size": 5, "head": entries[4]["hash"], "time": time, "key_id": kid,
          "signature": base64.b64encode(sk.sign(checkpoint_text(kid, 5, entries[4]["hash"], time).encode())).decode()}
    key = {"key_id": kid, "algorithm": "ed25519", "public_key": base64.b64encode(pk).decode(),
           "valid_from": "2020-01-01T00:00:00.000000Z", "valid_to": None}
    return rules_json, entries, receipts, leaves, cp, key


def print_worked_example():
    rules_json, entries, receipts, leaves, cp, key = worked_example()
    print("canonical rules:", rules_json)
    print("rules_sha256:", sha256_hex(rules_json))
    for e in entries:
        print(json.dumps(e, ensure_ascii=False, indent=1))
    for i, l in enumerate(leaves):
        print(f"leaf {i} text:\n{l.decode()}leaf hash {leaf_hash(l).hex()}")
    print("node(0,1):", node_hash(leaf_hash(leaves[0]), leaf_hash(leaves[1])).hex())
    print("receipt 1:", json.dumps(receipts[1], indent=1))
    print("batch text:", repr(batch_text(key["key_id"], 3, receipts[0]["batch"]["root"])))
    print("checkpoint:", json.dumps(cp, indent=1))
    print("checkpoint text:", repr(checkpoint_text(cp["key_id"], cp["size"], cp["head"], cp["time"])))
    print("key:", json.dumps({"items": [key]}))


# --------------------------------------------------------------------------- self-test


def self_test():
    import random
    failures = []

    def check(name, cond):
        if not cond:
            failures.append(name)

    # Canonical JSON.
    check("canonical escapes", canonical_json({"b": "\x00\x08\t\n\x0b\x0c\r\x1f\x7f\"\\/é\u2028😀", "a": [1, -2, True, None]})
          == '{"a":[1,-2,true,null],"b":"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\x7f\\"\\\\/é\u2028😀"}')
    check("canonical key order is code point (= UTF-8 byte) order",
          canonical_json({"\uffff": 1, "😀": 2, "Z": 3, "a": 4, "é": 5}) == '{"Z":3,"a":4,"é":5,"\uffff":1,"😀":2}')
    for bad in (1.5, float("nan"), {1: 2}, "\ud800"):
        try:
            canonical_json(bad)
            check(f"canonical refuses {bad!r}", False)
        except Problem:
            pass

    # The chain hash, as ledger.rs's own test computes it.
    e = entry_hash(1, GENESIS_HASH, "application_submitted", "2020-04-03T07:30:00.000000Z", "{}")
    check("entry hash", e == sha256_hex(f"bandi-ledger-v1\n1\n{GENESIS_HASH}\napplication_submitted\n"
                                          "2020-04-03T07:30:00.000000Z\n{}"))
    check("payload form", compact({"kind": "budget_changed", "call": "c", "budget_cents": 345000000,
                                   "act": {"number": "DGR 1234/2020", "date": "2020-06-15"}, "by": "admin"})
          == '{"kind":"budget_changed","call":"c","budget_cents":345000000,"act":{"number":"DGR 1234/2020","date":"2020-06-15"},"by":"admin"}')
    try:
        parse_record("budget_changed", '{"kind":"budget_changed","call":"c","budget_cents":1,"act":{"number":"1","date":"2020-01-01"},"by":"admin","x":2}')
        check("unknown field refused", False)
    except Problem:
        pass
    try:
        parse_record("budget_changed", '{"kind":"budget_changed","budget_cents":1,"call":"c","act":{"number":"1","date":"2020-01-01"},"by":"admin"}')
        check("field order enforced", False)
    except Problem:
        pass

    # The fold: the cases of allocation/tests.rs.
    def st(a):
        return [(x[2], x[1] // 100) for x in a.apps]

    a = Allocation("waitlist", 2_000_000_00)
    for s in range(1, 26):
        a.submitted(s, 105_000_00)
    check("2020: 19 fit", a.reserved == 19 * 105_000_00 and a.get(20)[2] == "waitlisted")
    a.submitted(26, 10_000_00)
    check("no jumping", a.get(26)[2] == "waitlisted")
    a.budget_changed(3_450_000_00)
    check("top-up funds all", all(x[2] == "reserved" for x in a.apps) and a.reserved == (25 * 105_000 + 10_000) * 100)
    a = Allocation("waitlist", 100_00)
    for s, e in [(1, 60), (2, 30), (3, 50), (4, 5)]:
        a.submitted(s, e * 100)
    a.withdrawn(2)
    check("4 waits behind 3", a.get(4)[2] == "waitlisted")
    a.reduced(1, 50_00)
    check("freed money", st(a) == [("reserved", 50), ("withdrawn", 0), ("reserved", 50), ("waitlisted", 0)])
    a.revoked(3)
    check("revoked frees", a.get(4)[2] == "reserved" and a.remaining() == 45_00)
    a = Allocation("partial", 100_00)
    for s, e in [(1, 70), (2, 50), (3, 10)]:
        a.submitted(s, e * 100)
    check("partial", st(a) == [("reserved", 70), ("partial", 30), ("waitlisted", 0)])
    a.reduced(1, 60_00)
    check("partial top-up", st(a) == [("reserved", 60), ("partial", 40), ("waitlisted", 0)])
    a.budget_changed(115_00)
    check("partial budget", st(a) == [("reserved", 60), ("reserved", 50), ("partial", 5)] and a.waiting_count == 1)
    a = Allocation("skip", 100_00)
    for s, e in [(1, 60), (2, 50), (3, 40)]:
        a.submitted(s, e * 100)
    check("skip", st(a) == [("reserved", 60), ("waitlisted", 0), ("reserved", 40)])
    a.withdrawn(1)
    check("skip freed", st(a) == [("withdrawn", 0), ("reserved", 50), ("reserved", 40)])
    for bad in (lambda: a.submitted(9, 1), lambda: a.withdrawn(1), lambda: a.reduced(2, 60_00),
                lambda: a.budget_changed(1), lambda: a.revoked(7)):
        try:
            bad()
            check("fold refuses", False)
        except FoldError:
            pass
    check("grant floor", grant_for(12345, 7000, None) == 8641 and grant_for(200_000_00, 7000, 105_000_00) == 105_000_00)

    # Protocol numbers across New Year in the call's zone.
    ny = micros("2020-12-31T23:30:00.000000Z")  # 00:30 on 1 January in Rome
    check("new year", format_protocol("ER-SW", local_year(ny, "Europe/Rome"), 42) == "ER-SW-2021/0000042")
    check("protocol parse", parse_protocol("ER-SW-2020/0000042") == ("ER-SW", 2020, 42) and parse_protocol("ER-SW-2020/42") is None)

    # Merkle trees: every size, every leaf, against the definition.
    rnd = random.Random(7)
    for n in range(1, 34):
        leaves = [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 40))) for _ in range(n)]
        root = merkle_root(leaves)
        for m in range(n):
            path = merkle_path(m, leaves)
            check(f"merkle {n}/{m}", root_from_path(m, n, leaf_hash(leaves[m]), path) == root)
            if path:
                wrong = list(path)
                wrong[0] = bytes(32)
                check(f"merkle tamper {n}/{m}", root_from_path(m, n, leaf_hash(leaves[m]), wrong) != root)
            check(f"merkle long path {n}/{m}", root_from_path(m, n, leaf_hash(leaves[m]), path + [root]) is None)
        check(f"merkle index {n}", root_from_path(n, n, leaf_hash(leaves[0]), []) is None)
    # RFC 9162's shape for 7 leaves: d0..d6, path of d3 is [d2, H(d0,d1), H(d4,d5,d6)].
    d = [bytes([i]) for i in range(7)]
    want = [leaf_hash(d[2]), node_hash(leaf_hash(d[0]), leaf_hash(d[1])),
            node_hash(node_hash(leaf_hash(d[4]), leaf_hash(d[5])), leaf_hash(d[6]))]
    check("rfc 9162 shape", merkle_path(3, d) == want)

    # Signatures: generated keys, receipts and checkpoints, tampering caught.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    rules_json, entries, receipts, leaves, cp, key = worked_example()
    keys = Keys({"items": [key]})
    v = Verifier(None, None)
    for e in entries:
        v.add(e)
    check("worked chain", v.size == 5 and v.calls["demo-2020"].alloc.reserved == 12250000)
    check("worked fold", [x[2] for x in v.calls["demo-2020"].alloc.apps] == ["reserved"] * 3)
    for r in receipts:
        check_receipt(r, keys)
    check_checkpoint(v, None, keys, cp, "checkpoint")
    for field, value in (("reserved_cents", 1), ("status", "partial"), ("admitted_at", "2020-04-03T07:30:00.000001Z")):
        t = json.loads(json.dumps(receipts[1]))
        t[field] = value
        try:
            check_receipt(t, keys)
            check(f"receipt tamper {field}", False)
        except Problem:
            pass
    t = json.loads(json.dumps(receipts[2]))
    t["batch"]["index"] = 1
    try:
        check_receipt(t, keys)
        check("receipt index tamper", False)
    except Problem:
        pass
    other = Ed25519PrivateKey.generate()
    opk = other.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    k2 = Keys({"items": [key, {"key_id": key_id_of(opk), "algorithm": "ed25519",
                              "public_key": base64.b64encode(opk).decode(),
                              "valid_from": "2020-01-01T00:00:00.000000Z", "valid_to": None}]})
    t = json.loads(json.dumps(cp))
    t["key_id"] = key_id_of(opk)
    try:
        check_checkpoint(v, None, k2, t, "cp")
        check("checkpoint wrong key", False)
    except Problem:
        pass
    t["signature"] = base64.b64encode(other.sign(checkpoint_text(t["key_id"], 5, cp["head"], cp["time"]).encode())).decode()
    check_checkpoint(v, None, k2, t, "cp")  # signed by the other key: fine
    t = dict(cp, size=4)
    try:
        check_checkpoint(v, None, keys, t, "cp")
        check("checkpoint size tamper", False)
    except Problem:
        pass
    expired = Keys({"items": [dict(key, valid_to="2020-03-01T00:00:00.000000Z")]})
    try:
        check_checkpoint(v, None, expired, cp, "cp")
        check("expired key", False)
    except Problem:
        pass

    # Saved checkpoints against a rewritten chain.
    saved = {"items": [cp], "entries": [{"seq": x["seq"], "hash": x["hash"]} for x in entries]}
    check_saved(v, None, keys, saved, None)
    rewritten = [dict(x) for x in entries]
    p = json.loads(rewritten[2]["payload"])
    p["requested_cents"] = 4100000
    rewritten[2]["payload"] = compact(p)
    prev = rewritten[1]["hash"]
    for x in rewritten[2:]:
        x["prev_hash"] = prev
        x["hash"] = entry_hash(x["seq"], prev, x["kind"], x["at"], x["payload"])
        prev = x["hash"]
    w = Verifier(None, None)
    for x in rewritten:
        w.add(x)
    for sv, expect in ((saved, "entry 3 differs"), ({"items": [cp]}, "between entry 1 and entry 5")):
        try:
            check_saved(w, None, None, sv, None)
            check("rewrite caught", False)
        except Problem as pr:
            check(f"rewrite named: {expect}", expect in str(pr))

    # What the server guarantees and the verifier holds it to (docs/ledger.md sections 8, 9.6).
    def chain_problem(records):
        """None if the records, sealed in order as a chain, verify; else the problem."""
        w = Verifier(None, warn=lambda m: None)
        prev = GENESIS_HASH
        try:
            for n, (at, rec) in enumerate(records, 1):
                payload = compact(rec)
                h = entry_hash(n, prev, rec["kind"], at, payload)
                w.add({"seq": n, "prev_hash": prev, "hash": h, "kind": rec["kind"], "at": at, "payload": payload})
                prev = h
        except Problem as pr:
            return str(pr)
        return None

    published = (entries[0]["at"], json.loads(entries[0]["payload"]))

    def submitted(admitted, received, seq=1, year=2020):
        return (received, {"kind": "application_submitted", "call": "demo-2020", "seq": seq,
                           "protocol": format_protocol("DM", year, seq), "entity": "039007", "admitted_at": admitted,
                           "received_at": received, "content_sha256": "ab" * 32, "requested_cents": 100})

    closes = "2020-07-31T16:00:00.000000Z"
    check("admitted before the closing, committed after: counts",
          chain_problem([published, submitted("2020-07-31T15:59:59.999999Z", "2020-07-31T16:00:00.000100Z")]) is None)
    check("admitted at the closing: refused",
          "outside the call's window" in (chain_problem([published, submitted(closes, "2020-07-31T16:00:00.000100Z")]) or ""))
    check("admitted before the opening: refused",
          "outside" in (chain_problem([published, submitted("2020-04-03T07:29:59.999999Z", "2020-04-03T07:30:00.000100Z")]) or ""))
    check("admitted after received: refused",
          "after received_at" in (chain_problem([published, submitted("2020-04-03T07:30:00.000200Z", "2020-04-03T07:30:00.000100Z")]) or ""))
    check("protocol year of the commit in the call's zone",
          chain_problem([published, submitted("2020-04-03T07:30:00.000100Z", "2020-04-03T07:30:00.000200Z", year=2019)])
          is not None)
    no_admitted = dict(submitted("2020-04-03T07:30:00.000100Z", "2020-04-03T07:30:00.000200Z")[1])
    del no_admitted["admitted_at"]
    no_rules = dict(published[1])
    del no_rules["rules"]
    for name, rec in (("admitted_at", no_admitted), ("rules", no_rules)):
        try:
            parse_record(rec["kind"], compact(rec))
            check(f"{name} required", False)
        except Problem as pr:
            check(f"{name} required", f"lacks field {name!r}" in str(pr))
    warned = []
    w = Verifier(None, warn=warned.append)
    w.add(entries[0])
    prev = entries[0]["hash"]
    for n, adm in ((2, "2020-04-03T07:30:00.000300Z"), (3, "2020-04-03T07:30:00.000200Z")):
        at, rec = submitted(adm, "2020-04-03T07:30:00.000400Z", seq=n - 1)
        h = entry_hash(n, prev, rec["kind"], at, compact(rec))
        w.add({"seq": n, "prev_hash": prev, "hash": h, "kind": rec["kind"], "at": at, "payload": compact(rec)})
        prev = h
    check("admitted_at out of order at one received_at: a warning", len(warned) == 1 and "admission order" in warned[0])

    def review(kind, at, **fields):
        return (at, dict({"kind": kind, "call": "demo-2020", "seq": 1}, **fields))

    base_chain = [published, submitted("2020-04-03T07:30:00.000100Z", "2020-04-03T07:30:00.000200Z"),
                  review("application_taken", "2020-04-04T08:00:00.000000Z", by="reviewer", takeover=False)]

    def ask(n, at, deadline):
        return review("integration_requested", at, request=n, deadline=deadline, text_sha256="cd" * 32, by="reviewer")

    def answer(n, at):
        return review("integration_answered", at, request=n, content_sha256="ef" * 32)

    d1 = "2020-04-10T00:00:00.000000Z"
    check("request, answer in time", chain_problem(base_chain + [ask(1, "2020-04-05T00:00:00.000000Z", d1),
                                                                 answer(1, "2020-04-09T23:59:59.999999Z")]) is None)
    check("answer at the deadline: refused",
          "after the deadline" in (chain_problem(base_chain + [ask(1, "2020-04-05T00:00:00.000000Z", d1),
                                                               answer(1, d1)]) or ""))
    check("deadline not after the request: refused",
          "not after" in (chain_problem(base_chain + [ask(1, d1, d1)]) or ""))
    check("a second request while the first is open: refused",
          "still open" in (chain_problem(base_chain + [ask(1, "2020-04-05T00:00:00.000000Z", d1),
                                                       ask(2, "2020-04-09T00:00:00.000000Z", "2020-04-20T00:00:00.000000Z")])
                           or ""))
    check("a second request after the first expired, answered",
          chain_problem(base_chain + [ask(1, "2020-04-05T00:00:00.000000Z", d1),
                                      ask(2, "2020-04-11T00:00:00.000000Z", "2020-04-20T00:00:00.000000Z"),
                                      answer(2, "2020-04-12T00:00:00.000000Z")]) is None)
    check("an answer to the expired request: refused",
          "open request is 2" in (chain_problem(base_chain + [
              ask(1, "2020-04-05T00:00:00.000000Z", d1), ask(2, "2020-04-11T00:00:00.000000Z", "2020-04-20T00:00:00.000000Z"),
              answer(1, "2020-04-12T00:00:00.000000Z")]) or ""))
    budget = {"kind": "budget_changed", "call": "demo-2020", "budget_cents": 20000000,
              "act": {"number": "DGR 1/2020", "date": "2020-04-01"}, "by": "admin"}
    check("a budget changed before the opening: refused",
          "before the call opens" in (chain_problem([published, ("2020-04-02T00:00:00.000000Z", budget)]) or ""))
    check("a budget changed after the opening", chain_problem([published, ("2020-04-03T07:30:00.000000Z", budget)]) is None)

    # The expense report, its verification and payments (docs/ledger.md, section 9.7), on a
    # call with a reporting deadline, an advance of 30 % and one category without a cap:
    # 1 and 2 ask 10,000 € each of 15,000 €; 1 admitted with its CUP, paid an advance,
    # reports, is given back, reports again, is verified for 6,000 € (a final grant of
    # 4,200 €: 5,800 € go back and 2 is funded), paid the balance, and revoked.
    rep_rules = dict(WORKED_RULES, code="demo-rep", protocol_prefix="DR", budget=1500000, max_grant=None,
                     reporting_deadline="2020-12-31", advance=3000,
                     categories=[{"code": "training", "label": {"it": "Formazione", "en": "Training"},
                                  "eligible": True, "max_share": None}])
    rep_published = ("2020-04-01T10:00:00.000000Z", {
        "kind": "call_published", "call": "demo-rep", "budget_cents": 1500000,
        "opens_at": "2020-04-03T07:30:00.000000Z", "closes_at": "2020-07-31T16:00:00.000000Z",
        "rules": _sorted_obj(rep_rules), "rules_sha256": sha256_hex(canonical_json(rep_rules))})

    def rep(kind, at, seq=1, **fields):
        return (f"2020-{at}.000000Z", dict({"kind": kind, "call": "demo-rep", "seq": seq}, **fields))

    def rep_app(seq):
        at = f"2020-04-03T07:30:0{seq}.000000Z"
        return (at, {"kind": "application_submitted", "call": "demo-rep", "seq": seq,
                     "protocol": format_protocol("DR", 2020, seq), "entity": f"03900{seq}", "admitted_at": at,
                     "received_at": at, "content_sha256": "ab" * 32, "requested_cents": 1000000})

    act = {"number": "DD 1/2020", "date": "2020-10-01"}
    reason = "cd" * 32

    def submit(version, at="10-01T08:00:00", claimed=800000, seq=1):
        return rep("report_submitted", at, seq=seq, version=version, report_sha256="ef" * 32,
                   claimed_cents=claimed, eligible_claimed_cents=claimed, by="applicant")

    def checked(version, line, outcome="accepted", accepted=400000, at="10-02T08:00:00", why=reason, by="reviewer"):
        return rep("expense_checked", at, version=version, line=line, outcome=outcome, accepted_cents=accepted,
                   reason_sha256=why, by=by)

    def close(version, verified=600000, final=420000, before=1000000, at="10-20T08:00:00"):
        return rep("verification_closed", at, version=version, verified_eligible_cents=verified,
                   final_grant_cents=final, granted_before_cents=before, by="reviewer")

    def pay(kind, amount, at="10-25T08:00:00", seq=1):
        return rep("payment_recorded", at, seq=seq, payment=kind, amount_cents=amount, paid_on="2020-10-25",
                   act=act, by="admin")

    def extend(until, at="10-01T07:00:00", seq=1):
        return rep("report_deadline_extended", at, seq=seq, until=until, reason_sha256=reason, by="admin")

    revoke = rep("award_revoked", "11-01T08:00:00", reason_sha256=reason, act=act, by="admin")
    admitted = [rep_published, rep_app(1), rep_app(2),
                rep("application_taken", "09-01T08:00:00", by="reviewer", takeover=False),
                rep("application_admitted", "09-01T09:00:00", reason_sha256=reason, by="reviewer"),
                rep("cup_recorded", "09-01T10:00:00", cup="E41B20000150002", by="reviewer")]
    story = admitted + [
        pay("advance", 300000, at="09-02T08:00:00"),
        submit(1), checked(1, 0), rep("report_returned", "10-03T08:00:00", version=1, reason_sha256=reason,
                                      by="reviewer"),
        submit(2, at="10-10T08:00:00"), checked(2, 0, accepted=600000, at="10-11T08:00:00"),
        checked(2, 1, "partial", 100000, at="10-12T08:00:00"),
        checked(2, 1, "refused", 0, at="10-13T08:00:00"),  # a finding changed: the last one counts
        close(2), pay("balance", 120000), revoke]

    def rep_fold(records):
        w = Verifier(None, warn=lambda m: None)
        prev = GENESIS_HASH
        for n, (at, rec) in enumerate(records, 1):
            payload = compact(rec)
            h = entry_hash(n, prev, rec["kind"], at, payload)
            w.add({"seq": n, "prev_hash": prev, "hash": h, "kind": rec["kind"], "at": at, "payload": payload})
            prev = h
        return w.calls["demo-rep"]

    i_close = story.index(close(2))
    i_sub2 = story.index(submit(2, at="10-10T08:00:00"))
    check("report story verifies", chain_problem(story) is None)
    if chain_problem(story) is None:
        c = rep_fold(story[:-1])
        check("verification closed: the rest back to the call, 2 funded",
              c.alloc.get(1) == [420000, 420000, "reserved"] and c.alloc.get(2) == [1000000, 1000000, "reserved"]
              and c.alloc.reserved == 1420000 and c.apps[0].paid == 420000)
        c = rep_fold(story)
        check("revocation frees the final grant", c.alloc.get(1) == [420000, 0, "revoked"]
              and c.apps[0].review == "revoked" and c.alloc.reserved == 1000000)
        listed = rep("list_published", "10-21T08:00:00", version=1, list_sha256="12" * 32, act=act, by="admin")
        del listed[1]["seq"]
        c = rep_fold(story[:i_close + 1] + [listed])
        row = c.lists[1][2][0]
        check("a list after the verification: requested as the review left it, granted the final grant",
              (row["requested_cents"], row["granted_cents"], row["outcome"]) == (1000000, 420000, "funded"))
    cases = [
        ("a report before the CUP", admitted[:-1] + [submit(1)], "only admitted, funded and with its CUP"),
        ("a report of a waitlisted application", admitted + [
            rep("application_taken", "09-02T08:00:00", seq=2, by="reviewer", takeover=False),
            rep("application_admitted", "09-02T09:00:00", seq=2, reason_sha256=reason, by="reviewer"),
            submit(1, seq=2)], "waitlisted"),
        ("a report submitted by an official", admitted + [
            (submit(1)[0], dict(submit(1)[1], by="reviewer"))], "by its authority"),
        ("a first report numbered 2", admitted + [submit(2)], "report version 2, expected 1"),
        ("a report submitted twice", admitted + [submit(1), submit(2)], "submitted: it cannot be submitted"),
        ("a report after its deadline", admitted + [submit(1, at="12-31T23:30:00")], "after its deadline 2020-12-31"),
        ("a report on its last day (Rome)", admitted + [submit(1, at="12-31T22:59:59")], None),
        ("a report after an extension", admitted + [extend("2021-01-15"), submit(1, at="12-31T23:30:00")], None),
        ("an extension into the past", admitted + [extend("2020-09-30")], "before the day it was set"),
        ("an extension of a submitted report", admitted + [submit(1), extend("2021-01-15", at="10-02T07:00:00")],
         "submitted: its deadline cannot move"),
        ("an extension by a reviewer", admitted + [(extend("2021-01-15")[0], dict(extend("2021-01-15")[1],
                                                                                by="reviewer"))],
         "only an admin extends"),
        ("eligible above claimed", admitted + [(submit(1)[0], dict(submit(1)[1], eligible_claimed_cents=800001))],
         "not between 0 and claimed"),
        ("a check before the report", admitted + [checked(1, 0)], "not submitted: it cannot be checked"),
        ("a check of an old version", story[:i_sub2 + 1] + [checked(1, 0, at="10-11T08:00:00")],
         "version 1 of the report of application 1, whose current version is 2"),
        ("a check of a returned report", story[:i_sub2] + [checked(1, 1, at="10-04T08:00:00")],
         "returned: it cannot be checked"),
        ("a check by the applicant", admitted + [submit(1), checked(1, 0, by="applicant")], "reviewer or an admin"),
        ("a refusal with money", admitted + [submit(1), checked(1, 0, "refused", 1)], "refused with 1 cents"),
        ("a partial finding without a reason", admitted + [submit(1), checked(1, 0, "partial", 1, why=EMPTY_SHA256)],
         "partial without a reason"),
        ("an acceptance above the report", admitted + [submit(1), checked(1, 0, accepted=800001)],
         "more than the report claims"),
        ("acceptances adding up above the report", admitted + [submit(1), checked(1, 0, accepted=500000),
                                                              checked(1, 1, accepted=300001)],
         "accept 800001 cents, more than the report claims"),
        ("a line beyond the largest report", admitted + [submit(1), checked(1, 500)], "at most 500 expenses"),
        ("a close without findings", admitted + [submit(1), close(1)], "without a finding on any expense"),
        ("a close with a line unchecked", admitted + [submit(1), checked(1, 0), checked(1, 2), close(1)],
         "without a finding on line(s) [1]"),
        ("a close with the wrong final grant", story[:i_close] + [close(2, final=420001)],
         "final_grant_cents 420001"),
        ("a close with more verified than accepted", story[:i_close] + [close(2, verified=600001, final=420000)],
         "the findings accept 600000"),
        ("a close with the wrong grant before", story[:i_close] + [close(2, before=999999, final=420000)],
         "granted_before_cents 999999"),
        ("a close, then a check", story[:i_close + 1] + [checked(2, 0, at="10-21T08:00:00")],
         "verified: it cannot be checked"),
        ("a report after the close", story[:i_close + 1] + [submit(3, at="10-21T08:00:00")],
         "verified: it cannot be submitted"),
        ("an advance above the call's share", admitted + [pay("advance", 300001, at="09-02T08:00:00")],
         "above the 300000 that may be paid as advance"),
        ("two advances within the share", admitted + [pay("advance", 200000, at="09-02T08:00:00"),
                                                      pay("advance", 100000, at="09-03T08:00:00")], None),
        ("an advance on a call without one", [(rep_published[0], dict(rep_published[1], rules=_sorted_obj(
            {k: v for k, v in rep_rules.items() if k != "advance"}), rules_sha256=sha256_hex(canonical_json(
                {k: v for k, v in rep_rules.items() if k != "advance"}))))] + admitted[1:]
         + [pay("advance", 1, at="09-02T08:00:00")], "provide none"),
        ("an advance after the close", story[:i_close + 1] + [pay("advance", 1)], "after its verification closed"),
        ("a balance before the close", story[:i_close] + [pay("balance", 1)], "before its verification closed"),
        ("a balance above the final grant", story[:i_close + 1] + [pay("balance", 120001)],
         "above the 420000 that may be paid as balance"),
        ("a payment by a reviewer", admitted + [(pay("advance", 1)[0], dict(pay("advance", 1)[1], by="reviewer"))],
         "only an admin records a payment"),
        ("a payment after the revocation", story + [pay("balance", 1, at="11-02T08:00:00")],
         "revoked: it cannot be paid"),
        ("a revocation of an application in review", admitted[:4] + [revoke], "in_review: it cannot be revoked"),
        ("a revocation of an admitted application left waiting", admitted + [
            rep("application_taken", "09-02T08:00:00", seq=2, by="reviewer", takeover=False),
            rep("application_admitted", "09-02T09:00:00", seq=2, reason_sha256=reason, by="reviewer"),
            (revoke[0], dict(revoke[1], seq=2))], "only a reserved application can be revoked"),
        # Every expense refused: a final grant of 0 cannot be a reduction of the fold.
        ("a verification closed with nothing granted", admitted + [
            submit(1), checked(1, 0, "refused", 0), close(1, verified=0, final=0)], "amounts must be positive"),
        ("a revocation without a reason", admitted + [(revoke[0], dict(revoke[1], reason_sha256=EMPTY_SHA256))],
         "revoked without a reason"),
        ("a return without a reason", admitted + [submit(1), rep("report_returned", "10-03T08:00:00", version=1,
                                                                 reason_sha256=EMPTY_SHA256, by="reviewer")],
         "returned without a reason"),
        ("a revocation by a reviewer", admitted + [(revoke[0], dict(revoke[1], by="reviewer"))],
         "only an admin revokes"),
        ("revoked twice", story + [(revoke[0].replace("11-01", "11-02"), revoke[1])], "revoked: it cannot be revoked"),
        ("a report after the revocation", admitted + [revoke, submit(1, at="11-02T08:00:00")],
         "only admitted, funded and with its CUP"),
        # What the server allows after a revocation: the verification of a report submitted
        # before it goes on (checks, return, close with nothing granted before: no money moves).
        ("a report verified after the revocation", admitted + [
            submit(1), (revoke[0].replace("11-01", "10-01"), revoke[1]), checked(1, 0, at="10-02T08:00:00"),
            close(1, verified=400000, final=0, before=0)], None),
    ]
    for name, records, expect in cases:
        got = chain_problem(records)
        if expect is None:
            check(f"report case {name}: passes ({got})", got is None)
        else:
            check(f"report case {name}: refused with {expect!r} ({got})", expect in (got or ""))

    # Saved checkpoints: a directory in bandi's layout, a one-line mirror, and a rewrite named
    # before the checkpoints served now are compared with the saved ones.
    import shutil
    import tempfile
    d = tempfile.mkdtemp()
    try:
        save_checkpoints(os.path.join(d, "saved") + "/", [cp], [GENESIS_HASH] + [x["hash"] for x in entries])
        got = load_saved(os.path.join(d, "saved"))
        check("saved dir round trip", got["items"] == [cp] and len(got["entries"]) == 5
              and got["entries"][2] == {"seq": 3, "hash": entries[2]["hash"]})
        with open(os.path.join(d, "mirror.jsonl"), "w") as f:
            f.write(json.dumps(cp) + "\n")
        check("one-line mirror", load_saved(os.path.join(d, "mirror.jsonl"))["items"] == [cp])
        w = Verifier(None)
        for x in rewritten:
            w.add(x)
        new_cp = dict(cp, head=rewritten[4]["hash"])
        try:
            check_saved(w, None, None, got, [new_cp])
            check("rewrite named before served checkpoints", False)
        except Problem as pr:
            check("rewrite named before served checkpoints", "entry 3 differs" in str(pr))
    finally:
        shutil.rmtree(d)

    # Tampering with one entry names it.
    bad = [dict(x) for x in entries]
    bad[3]["payload"] = bad[3]["payload"].replace("3000000", "3000001")
    w = Verifier(None, None)
    try:
        for x in bad:
            w.add(x)
        check("tamper caught", False)
    except Problem as pr:
        check("tamper names entry 4", str(pr).startswith("ledger entry 4:"))

    # The worked example's published values (docs/ledger.md) have not drifted.
    for name, want, got in (("rules_sha256", WORKED["rules_sha256"], sha256_hex(rules_json)),
                            ("head", WORKED["head"], entries[4]["hash"]),
                            ("root", WORKED["root"], receipts[0]["batch"]["root"]),
                            ("key_id", WORKED["key_id"], key["key_id"]),
                            ("batch signature", WORKED["batch_signature"], receipts[0]["signature"])):
        check(f"worked {name}", want == got)
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "ledger.md")
    if os.path.exists(doc):
        text = open(doc, encoding="utf-8").read()
        needed = [e["hash"] for e in entries] + [sha256_hex(rules_json), receipts[0]["batch"]["root"],
                                                  receipts[0]["signature"], cp["signature"], key["public_key"],
                                                  key["key_id"]] + receipts[1]["batch"]["path"] \
            + [leaf_hash(l).hex() for l in leaves]
        for x in needed:
            check(f"docs/ledger.md shows {x}", x in text)

    # The whole run against a small server that serves the worked example.
    for name, expect in _server_cases(entries, receipts, cp, key):
        check(f"server case {name}", expect)

    if failures:
        for f in failures:
            print("FAIL", f)
        sys.exit(1)
    print("self-test ok")


def _serve(routes):
    """A local HTTP server answering `routes(path, query) -> (status, body)`; returns (base, stop)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            status, body = routes(u.path, dict(urllib.parse.parse_qsl(u.query)))
            if not isinstance(body, bytes):
                body = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}", srv.shutdown


def _server_cases(entries, receipts, cp, key):
    """(name, outcome as expected) of verify_server against the worked example, served."""
    import contextlib
    import io

    def page(items, q):
        after, limit = int(q.get("after", 0)), int(q.get("limit", 100))
        got = [x for x in items if x["seq"] > after][:limit]
        return {"items": got, "next_after": got[-1]["seq"] if got else after}

    def routes_for(tamper):
        es = [dict(e, data=json.loads(e["payload"])) for e in entries]
        cps = [dict(cp)]
        head = {"size": 5, "head": entries[4]["hash"], "at": entries[4]["at"]}
        call = {"code": "demo-2020", "budget_cents": 13000000, "reserved_cents": 12250000,
                "remaining_cents": 750000, "applications": 3, "waitlisted": 0, "when_not_fits": "waitlist",
                "co_financing_bp": 7000, "max_grant_cents": 10500000}
        ranking = {"items": [{"seq": r["seq"], "protocol": r["protocol"], "entity_code": r["entity"],
                              "entity_name": "x", "received_at": r["received_at"],
                              "requested_cents": r["requested_cents"], "reserved_cents": r["requested_cents"],
                              "status": "reserved"} for r in receipts]}
        if tamper == "checkpoint signature":
            cps[0]["time"] = "2020-06-16T08:00:02.000000Z"
        if tamper in ("checkpoint beyond chain", "checkpoint head"):
            # Signed properly, but not a state of this chain.
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            if tamper == "checkpoint beyond chain":
                cps[0]["size"] = 6
            else:
                cps[0]["head"] = entries[3]["hash"]
            text = checkpoint_text(cp["key_id"], cps[0]["size"], cps[0]["head"], cp["time"])
            sig = Ed25519PrivateKey.from_private_bytes(WORKED_SEED).sign(text.encode())
            cps[0]["signature"] = base64.b64encode(sig).decode()
        if tamper == "head":
            head["head"] = entries[3]["hash"]
        if tamper == "waitlisted":
            call["waitlisted"] = 1
        if tamper == "ranking status":
            ranking["items"][2]["status"] = "waitlisted"

        def routes(path, q):
            if path == "/api/v1/keys":
                return (404, {}) if tamper == "no keys" else (200, {"items": [key]})
            if path == "/api/v1/ledger":
                return 200, page(es, q)
            if path == "/api/v1/ledger/head":
                return (404, {}) if tamper == "no head" else (200, head)
            if path == "/api/v1/checkpoints":
                return (404, {}) if tamper == "no checkpoints" else (200, page(cps, q))
            if path == "/api/v1/calls/demo-2020":
                return 200, call
            if path == "/api/v1/calls/demo-2020/ranking":
                return 200, ranking
            if path == "/api/v1/calls/demo-2020/lists":
                return 200, {"versions": []}
            return 404, {"error": "not_found"}
        return routes

    cases = []
    for tamper, should_pass, flags in (
            (None, True, []), (None, True, ["--no-signatures"]), ("no keys", False, []),
            ("no keys", True, ["--no-signatures"]), ("no head", False, []), ("no checkpoints", False, []),
            ("checkpoint signature", False, []), ("checkpoint beyond chain", False, []),
            ("checkpoint head", False, []), ("head", False, []),
            ("waitlisted", False, []), ("ranking status", False, [])):
        base, stop = _serve(routes_for(tamper))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main([base] + flags)
        stop()
        ok = (rc == 0) == should_pass
        if ok and should_pass and not flags:
            ok = out.getvalue().startswith("ok: 5 entries, 1 calls, 1 checkpoints")
        if not ok:
            print(f"  case {tamper} {flags}: rc {rc}: {out.getvalue()}{err.getvalue()}".rstrip())
        cases.append((f"{tamper} {flags}", ok))
    return cases


WORKED = {
    "rules_sha256": "1e34ed638a0a5630a44a5f5b1c6760677a20b0697fe7d0bfc20440f7d6c50c65",
    "head": "e60f0a39b6bf200620467d5efd80391fe8f3e61d6feaeea8ce694d3d77c8f3c2",
    "root": "d186d72b7114d6709997ab2a88e0a05aa931bd88b893880ab53745db14ea4ef8",
    "key_id": "5256ad6d74deddcd",
    "batch_signature": "vRFErXNMo0DwMKKECsJ/cjgAc+Tecd8Wnsba4z9jPSngYmsjMxqtfSg1q6qmBWTkP5HZ0QjmKl1olff2NNJ5Cg==",
}


# --------------------------------------------------------------------------- main


def main(argv):
    if argv[:1] == ["receipt"]:
        p = argparse.ArgumentParser(prog="verify_ledger.py receipt",
                                    description="Verify a signed receipt: leaf, inclusion path, batch signature.")
        p.add_argument("file", help="the receipt JSON")
        p.add_argument("--keys", required=True, help="the server's base URL, its /api/v1/keys URL, or a saved keys JSON")
        p.add_argument("--ledger", help="also check the receipt against the ledger served at this base URL")
        args = p.parse_args(argv[1:])
        run = lambda: verify_receipt_cmd(args)
    else:
        p = argparse.ArgumentParser(prog="verify_ledger.py", description=__doc__.split("\n\n")[0])
        p.add_argument("url", nargs="?", help="the server's base URL, e.g. https://bandi.example")
        p.add_argument("--checkpoints", metavar="PATH",
                       help="checkpoints saved earlier, each of which must still agree with the chain served now: "
                       "a directory written by --save-checkpoints DIR/ or `bandi verify --public --save DIR`, "
                       "a file written by --save-checkpoints FILE, the JSON of /api/v1/checkpoints, or the "
                       "server's mirror (checkpoints.jsonl)")
        p.add_argument("--hashes", metavar="FILE",
                       help="entry hashes saved earlier (one {\"seq\", \"hash\"} per line, as "
                       "ledger-hashes.jsonl), to name the first entry that differs")
        p.add_argument("--save-checkpoints", metavar="PATH",
                       help="save the checkpoints served now with every entry's hash, for a later --checkpoints: "
                       "in a directory (existing, or PATH ending with /) as checkpoints.json and "
                       "ledger-hashes.jsonl, the layout of `bandi verify --public --save`; else as one JSON file")
        p.add_argument("--no-signatures", action="store_true",
                       help="skip keys, checkpoints and the ledger head (without the `cryptography` package)")
        p.add_argument("--self-test", action="store_true", help="run the built-in tests and exit")
        p.add_argument("--worked-example", action="store_true", help="print the worked example of docs/ledger.md")
        args = p.parse_args(argv)
        if args.self_test:
            run = self_test
        elif args.worked_example:
            run = print_worked_example
        elif not args.url:
            p.error("the server's URL is needed")
        elif args.hashes and not args.checkpoints:
            p.error("--hashes goes with --checkpoints")
        else:
            run = lambda: verify_server(args)
    try:
        run()
    except Unavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Problem as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
