-- Bearer tokens of officials, for the review's API and the Region's back office: stored as
-- their SHA-256 only, each bound to one account (its role decides what it may do).
CREATE TABLE user_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    created_us   BIGINT NOT NULL
);
