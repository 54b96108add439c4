-- Messages to a person's own address (a password reset), sent by the outbox as the notices
-- are; the body, which holds the link, is emptied once the relay took it.
CREATE TABLE account_mails (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_us BIGINT NOT NULL
);

-- A password reset link: its token kept as SHA-256, used once, for a short time; one per
-- account at a time.
CREATE TABLE password_resets (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_us   BIGINT NOT NULL,
    expires_us   BIGINT NOT NULL
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);

-- A delivery carries a notice or an account mail.
ALTER TABLE deliveries ALTER COLUMN notice_id DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN mail_id TEXT REFERENCES account_mails (id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_one_source CHECK ((notice_id IS NULL) <> (mail_id IS NULL));
