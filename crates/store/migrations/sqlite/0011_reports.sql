-- The expense report of a funded application (rendicontazione): the draft the authority
-- writes and, once submitted, the version sealed by its SHA-256 in the ledger; then its
-- verification and final grant.
CREATE TABLE reports (
    call_code               TEXT NOT NULL,
    seq                     BIGINT NOT NULL,
    state                   TEXT NOT NULL,
    version                 BIGINT NOT NULL,
    content                 TEXT NOT NULL,
    content_sha256          TEXT,
    claimed_cents           BIGINT NOT NULL,
    eligible_claimed_cents  BIGINT NOT NULL,
    submitted_us            BIGINT,
    submitted_ledger_seq    BIGINT,
    verified_eligible_cents BIGINT,
    final_grant_cents       BIGINT,
    closed_ledger_seq       BIGINT,
    -- An extension of the call's reporting deadline for this application (YYYY-MM-DD).
    deadline                TEXT,
    updated_us              BIGINT NOT NULL,
    PRIMARY KEY (call_code, seq)
);

-- A reviewer's finding on each expense of a submitted version.
CREATE TABLE expense_checks (
    call_code      TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    version        BIGINT NOT NULL,
    line           BIGINT NOT NULL,
    outcome        TEXT NOT NULL,
    accepted_cents BIGINT NOT NULL,
    ledger_seq     BIGINT NOT NULL,
    PRIMARY KEY (call_code, seq, version, line)
);

-- Money paid to an authority, by an act.
CREATE TABLE payments (
    call_code    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    n            BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    paid_on      TEXT NOT NULL,
    act_number   TEXT NOT NULL,
    act_date     TEXT NOT NULL,
    ledger_seq   BIGINT NOT NULL,
    PRIMARY KEY (call_code, seq, n)
);

-- The act that revoked an award.
CREATE TABLE revocations (
    call_code  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    act_number TEXT NOT NULL,
    act_date   TEXT NOT NULL,
    paid_cents BIGINT NOT NULL,
    ledger_seq BIGINT NOT NULL,
    PRIMARY KEY (call_code, seq)
);

-- Documents of a report (invoices, proofs of payment): in the report's draft, then sealed
-- to the version submitted.
ALTER TABLE documents ADD COLUMN report BIGINT;
ALTER TABLE documents ADD COLUMN report_version BIGINT;
