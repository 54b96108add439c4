CREATE TABLE entities (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    fiscal_code TEXT,
    province    TEXT,
    region_code TEXT,
    istat_code  TEXT,
    pec         TEXT,
    members     TEXT NOT NULL DEFAULT ''
);

-- One row per call: its rules as JSON and the counters the public sees. The counters are
-- derived from the ledger and rewritten in the same transaction as the entries they follow.
CREATE TABLE calls (
    code                  TEXT PRIMARY KEY,
    rules                 TEXT NOT NULL,
    rules_sha256          TEXT NOT NULL,
    budget_cents          BIGINT NOT NULL,
    reserved_cents        BIGINT NOT NULL DEFAULT 0,
    applications          BIGINT NOT NULL DEFAULT 0,
    waitlisted            BIGINT NOT NULL DEFAULT 0,
    last_received_us      BIGINT NOT NULL DEFAULT 0,
    last_event_ledger_seq BIGINT NOT NULL DEFAULT 0,
    created_us            BIGINT NOT NULL
);

-- Bearer tokens are stored as their SHA-256 only.
CREATE TABLE tokens (
    token_sha256 TEXT PRIMARY KEY,
    entity_code  TEXT NOT NULL REFERENCES entities (code),
    created_us   BIGINT NOT NULL
);

CREATE TABLE applications (
    id                  TEXT PRIMARY KEY,
    call_code           TEXT NOT NULL REFERENCES calls (code),
    seq                 BIGINT NOT NULL,
    protocol            TEXT NOT NULL,
    entity_code         TEXT NOT NULL REFERENCES entities (code),
    received_us         BIGINT NOT NULL,
    content_sha256      TEXT NOT NULL,
    content             TEXT NOT NULL,
    requested_cents     BIGINT NOT NULL,
    eligible_cost_cents BIGINT NOT NULL,
    reserved_cents      BIGINT NOT NULL,
    status              TEXT NOT NULL,
    ledger_seq          BIGINT NOT NULL,
    idempotency_key     TEXT,
    receipt             TEXT NOT NULL,
    UNIQUE (call_code, seq)
);
CREATE INDEX applications_by_entity ON applications (call_code, entity_code);
CREATE UNIQUE INDEX applications_by_idempotency_key
    ON applications (entity_code, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE ledger (
    seq       BIGINT PRIMARY KEY,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    at        TEXT NOT NULL,
    call_code TEXT,
    payload   TEXT NOT NULL
);
CREATE INDEX ledger_by_call ON ledger (call_code, seq);

-- The head of the chain. Every writer updates this row first in its transaction: that
-- update is the lock that orders all appends, on one node or many.
CREATE TABLE ledger_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO ledger_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
