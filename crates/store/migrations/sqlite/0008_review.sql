-- The review of applications (istruttoria) and what follows from it: where each
-- application stands, who holds it, its checklist, requests for integration and their
-- answers, decisions' texts, published lists, notices and their deliveries, and the
-- entities' contact addresses. Every change here comes with a ledger entry.
ALTER TABLE applications ADD COLUMN review_state TEXT NOT NULL DEFAULT 'to_review';
ALTER TABLE applications ADD COLUMN holder_id TEXT;
ALTER TABLE applications ADD COLUMN holder_since_us INTEGER;
-- After a reduction: the eligible cost and the grant asked now (the receipt keeps those of
-- the submission).
ALTER TABLE applications ADD COLUMN current_eligible_cents INTEGER;
ALTER TABLE applications ADD COLUMN current_requested_cents INTEGER;
ALTER TABLE applications ADD COLUMN cup TEXT;
CREATE INDEX applications_by_review ON applications (call_code, review_state, seq);

-- The texts people wrote for the record (reasons, notes, requests, answers): the ledger
-- entry names their SHA-256.
CREATE TABLE ledger_texts (
    ledger_seq INTEGER PRIMARY KEY REFERENCES ledger (seq),
    text       TEXT NOT NULL
);

-- Who did what: the account behind each official's entry (the public ledger says the role).
CREATE TABLE ledger_actors (
    ledger_seq INTEGER PRIMARY KEY REFERENCES ledger (seq),
    user_id    TEXT NOT NULL
);

CREATE TABLE checklist_results (
    call_code  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    item       TEXT NOT NULL,
    passed     INTEGER NOT NULL,
    ledger_seq INTEGER NOT NULL REFERENCES ledger (seq),
    PRIMARY KEY (call_code, seq, item)
);

CREATE TABLE integration_requests (
    call_code          TEXT NOT NULL,
    seq                INTEGER NOT NULL,
    request            INTEGER NOT NULL,
    deadline_us        INTEGER NOT NULL,
    request_ledger_seq INTEGER NOT NULL REFERENCES ledger (seq),
    answer_ledger_seq  INTEGER REFERENCES ledger (seq),
    -- The answer: its text and the SHA-256 of its canonical content (text and documents).
    answer_text        TEXT,
    answer_sha256      TEXT,
    -- When the reminder before the deadline was written.
    reminded_us        INTEGER,
    PRIMARY KEY (call_code, seq, request)
);
-- The documents of an answer to a request for integration.
ALTER TABLE documents ADD COLUMN integration_request INTEGER;

-- Frozen versions of a call's list, each approved by an act.
CREATE TABLE published_lists (
    call_code    TEXT NOT NULL REFERENCES calls (code),
    version      INTEGER NOT NULL,
    list_json    TEXT NOT NULL,
    list_sha256  TEXT NOT NULL,
    act_number   TEXT NOT NULL,
    act_date     TEXT NOT NULL,
    act_document_id TEXT,
    published_us INTEGER NOT NULL,
    ledger_seq   INTEGER NOT NULL REFERENCES ledger (seq),
    PRIMARY KEY (call_code, version)
);

-- The documents of acts (a resolution's PDF), not tied to an entity.
CREATE TABLE act_documents (
    id           TEXT PRIMARY KEY,
    call_code    TEXT NOT NULL REFERENCES calls (code),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    content      BLOB NOT NULL,
    uploaded_us  INTEGER NOT NULL,
    uploaded_by  TEXT NOT NULL
);

-- Where an entity's notices go: an ordinary address and a certified one (PEC), kept by its
-- staff.
CREATE TABLE entity_contacts (
    entity_code TEXT PRIMARY KEY REFERENCES entities (code),
    email       TEXT,
    pec         TEXT,
    updated_us  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL
);

-- Notices to entities, written in the same transaction as the event they tell of (the
-- outbox). The sender gives each a delivery per address of the entity at that moment
-- (`dispatched_us`), then sends them.
CREATE TABLE notices (
    id          TEXT PRIMARY KEY,
    entity_code TEXT NOT NULL REFERENCES entities (code),
    call_code   TEXT,
    seq         INTEGER,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_us  INTEGER NOT NULL,
    ledger_seq  INTEGER,
    dispatched_us INTEGER
);
CREATE INDEX notices_to_dispatch ON notices (dispatched_us, created_us);
CREATE INDEX notices_by_entity ON notices (entity_code, created_us);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id       TEXT NOT NULL REFERENCES notices (id),
    address         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_us INTEGER NOT NULL,
    lease_until_us  INTEGER NOT NULL DEFAULT 0,
    sent_us         INTEGER,
    last_error      TEXT
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_us);
