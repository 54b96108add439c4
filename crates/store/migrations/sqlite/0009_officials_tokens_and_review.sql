-- Bearer tokens of officials, for the review's API and the Region's back office: stored as
-- their SHA-256 only, each bound to one account (its role decides what it may do).
CREATE TABLE user_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    created_us   BIGINT NOT NULL
);

-- A request for integration closed by a decision (admitted, rejected, withdrawn) before it
-- was answered: no longer open, nor answerable, nor reminded.
ALTER TABLE integration_requests ADD COLUMN closed_ledger_seq BIGINT;

-- The budget lines' amounts as the review admitted them (a JSON array of cents, in the
-- content's order), once a reduction cut a line: the next cut starts from these.
ALTER TABLE applications ADD COLUMN admitted_lines TEXT;
