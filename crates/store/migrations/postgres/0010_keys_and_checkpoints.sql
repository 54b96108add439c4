-- The public keys that sign receipts and checkpoints, with their validity: a key in use has
-- no end; when another is registered (a rotation) the previous one ends, and stays
-- published so that what it signed can still be checked.
CREATE TABLE signing_keys (
    key_id        TEXT PRIMARY KEY,
    public_key    TEXT NOT NULL,
    valid_from_us BIGINT NOT NULL,
    valid_to_us   BIGINT
);

-- Signed checkpoints of the ledger: its size and head hash at an instant. One per size:
-- several nodes checkpointing at once keep the first.
CREATE TABLE checkpoints (
    seq       BIGINT PRIMARY KEY,
    size      BIGINT NOT NULL UNIQUE,
    head      TEXT NOT NULL,
    time_us   BIGINT NOT NULL,
    key_id    TEXT NOT NULL REFERENCES signing_keys (key_id),
    signature TEXT NOT NULL
);
