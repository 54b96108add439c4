-- Documents attached to applications, bytes included, so that a backup of the database is
-- a backup of everything. A document belongs to the draft of its entity and call until the
-- application is submitted; then `application_id` seals it and it can no longer change.
-- A replaced document is a new row: the previous one is kept until the next replacement,
-- so that a submission racing an upload still finds the bytes its content hash names.
CREATE TABLE documents (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    entity_code     TEXT NOT NULL REFERENCES entities (code),
    call_code       TEXT NOT NULL REFERENCES calls (code),
    attachment_code TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    uploaded_us     BIGINT NOT NULL,
    uploaded_by     TEXT NOT NULL,
    application_id  TEXT REFERENCES applications (id),
    content         BYTEA NOT NULL
);
CREATE INDEX documents_by_draft ON documents (entity_code, call_code, attachment_code, seq);
CREATE INDEX documents_by_application ON documents (application_id);
