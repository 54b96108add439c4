-- Runs of each call's fold log (bandi_domain::fold_log): in compact binary form, what the
-- call's allocation and duplicate checks read from its ledger entries after after_seq up to
-- last_seq, whose hash is last_hash. Derived from the ledger when the intake is idle, so
-- that a node restarting on a call of a million applications decodes these instead of
-- parsing a million JSON payloads; a run whose last entry no longer has last_hash is not
-- used, and `bandi verify` encodes the ledger again and compares every run.
CREATE TABLE fold_logs (
    call_code TEXT NOT NULL,
    after_seq BIGINT NOT NULL,
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    entries   BLOB NOT NULL,
    PRIMARY KEY (call_code, after_seq)
);
