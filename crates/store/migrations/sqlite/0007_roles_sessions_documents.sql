-- Reviewers join admins and applicants; accounts can be disabled and bound to a fiscal
-- code (SPID/CIE); sessions expire after an idle time. SQLite cannot change a CHECK
-- constraint in place: users and the two tables that refer to it are rebuilt, the
-- children first so that no cascade runs on the rows being copied.
CREATE TABLE users_v2 (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'applicant')),
    created_us    INTEGER NOT NULL,
    disabled_us   INTEGER,
    fiscal_code   TEXT UNIQUE
);
INSERT INTO users_v2 (id, email, name, password_hash, role, created_us)
SELECT id, email, name, password_hash, role, created_us FROM users;

CREATE TABLE user_entities_v2 (
    user_id     TEXT NOT NULL REFERENCES users_v2 (id) ON DELETE CASCADE,
    entity_code TEXT NOT NULL REFERENCES entities (code),
    PRIMARY KEY (user_id, entity_code)
);
INSERT INTO user_entities_v2 (user_id, entity_code) SELECT user_id, entity_code FROM user_entities;

CREATE TABLE sessions_v2 (
    id_sha256    TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users_v2 (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_us   INTEGER NOT NULL,
    expires_us   INTEGER NOT NULL,
    last_seen_us INTEGER NOT NULL
);
INSERT INTO sessions_v2 (id_sha256, user_id, csrf_token, created_us, expires_us, last_seen_us)
SELECT id_sha256, user_id, csrf_token, created_us, expires_us, created_us FROM sessions;

DROP TABLE sessions;
DROP TABLE user_entities;
DROP TABLE users;
-- Renaming updates the references of the v2 children to the new name.
ALTER TABLE users_v2 RENAME TO users;
ALTER TABLE user_entities_v2 RENAME TO user_entities;
ALTER TABLE sessions_v2 RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- A document replaced or removed from a draft is marked, not deleted, until its entity's
-- application is submitted (the submission seals, in its own transaction, the version it
-- names) or it has been out of the draft for an hour.
ALTER TABLE documents ADD COLUMN removed_us INTEGER;
-- The bytes of a document in chunks, written from the spooled upload one chunk at a time:
-- no upload is ever held in memory whole. Documents from before keep theirs in `content`.
CREATE TABLE document_chunks (
    document_seq INTEGER NOT NULL REFERENCES documents (seq) ON DELETE CASCADE,
    n            INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    PRIMARY KEY (document_seq, n)
);

-- Sign-in attempts counted per key (an address, an e-mail, an e-mail from an address) in
-- fixed windows, shared by every node on the database.
CREATE TABLE sign_in_attempts (
    key             TEXT PRIMARY KEY,
    window_start_us INTEGER NOT NULL,
    count           INTEGER NOT NULL
);
CREATE INDEX sign_in_attempts_by_window ON sign_in_attempts (window_start_us);
