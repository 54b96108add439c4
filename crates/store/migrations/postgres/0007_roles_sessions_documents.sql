-- Reviewers join admins and applicants; accounts can be disabled and bound to a fiscal
-- code (SPID/CIE); sessions expire after an idle time.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'reviewer', 'applicant'));
ALTER TABLE users ADD COLUMN disabled_us BIGINT;
ALTER TABLE users ADD COLUMN fiscal_code TEXT UNIQUE;
ALTER TABLE sessions ADD COLUMN last_seen_us BIGINT;
UPDATE sessions SET last_seen_us = created_us;
ALTER TABLE sessions ALTER COLUMN last_seen_us SET NOT NULL;

-- A document replaced or removed from a draft is marked, not deleted, until its entity's
-- application is submitted (the submission seals, in its own transaction, the version it
-- names) or it has been out of the draft for an hour.
ALTER TABLE documents ADD COLUMN removed_us BIGINT;
-- The bytes of a document in chunks, written from the spooled upload one chunk at a time:
-- no upload is ever held in memory whole. Documents from before keep theirs in `content`.
CREATE TABLE document_chunks (
    document_seq BIGINT NOT NULL REFERENCES documents (seq) ON DELETE CASCADE,
    n            INTEGER NOT NULL,
    bytes        BYTEA NOT NULL,
    PRIMARY KEY (document_seq, n)
);

-- Sign-in attempts counted per key (an address, an e-mail, an e-mail from an address) in
-- fixed windows, shared by every node on the database.
CREATE TABLE sign_in_attempts (
    key             TEXT PRIMARY KEY,
    window_start_us BIGINT NOT NULL,
    count           BIGINT NOT NULL
);
CREATE INDEX sign_in_attempts_by_window ON sign_in_attempts (window_start_us);
