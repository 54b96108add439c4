-- People who sign in: officials of the region (admin) and staff of local authorities
-- (applicant), each bound to the entities they act for.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'applicant')),
    created_us    INTEGER NOT NULL
);

CREATE TABLE user_entities (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    entity_code TEXT NOT NULL REFERENCES entities (code),
    PRIMARY KEY (user_id, entity_code)
);

-- Sessions are stored as the SHA-256 of their cookie value.
CREATE TABLE sessions (
    id_sha256  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    expires_us INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- One draft per entity and call, kept until it is submitted.
CREATE TABLE drafts (
    entity_code TEXT NOT NULL REFERENCES entities (code),
    call_code   TEXT NOT NULL REFERENCES calls (code),
    content     TEXT NOT NULL,
    updated_us  INTEGER NOT NULL,
    PRIMARY KEY (entity_code, call_code)
);

CREATE INDEX applications_by_protocol ON applications (protocol);
