-- Messages to a person's own address (a password reset), sent by the outbox as the notices
-- are; the body, which holds the link, is emptied once the relay took it.
CREATE TABLE account_mails (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_us INTEGER NOT NULL
);

-- A password reset link: its token kept as SHA-256, used once, for a short time; one per
-- account at a time.
CREATE TABLE password_resets (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_us   INTEGER NOT NULL,
    expires_us   INTEGER NOT NULL
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);

-- A delivery carries a notice or an account mail. SQLite cannot drop a NOT NULL in place:
-- the table is rebuilt with its rows and ids.
CREATE TABLE deliveries_v2 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id       TEXT REFERENCES notices (id),
    mail_id         TEXT REFERENCES account_mails (id) ON DELETE CASCADE,
    address         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_us INTEGER NOT NULL,
    lease_until_us  INTEGER NOT NULL DEFAULT 0,
    sent_us         INTEGER,
    last_error      TEXT,
    CHECK ((notice_id IS NULL) <> (mail_id IS NULL))
);
INSERT INTO deliveries_v2 (id, notice_id, address, state, attempts, next_attempt_us, lease_until_us, sent_us, last_error)
SELECT id, notice_id, address, state, attempts, next_attempt_us, lease_until_us, sent_us, last_error FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_us);
