-- Sign-in through an identity provider (SPID, CIE) in progress: what the browser's flow
-- cookie (kept as its SHA-256) must come back with. Each is taken once, by the provider's
-- answer, and lives a few minutes.
CREATE TABLE sign_in_flows (
    id_sha256     TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    state         TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path     TEXT NOT NULL,
    created_us    INTEGER NOT NULL
);
CREATE INDEX sign_in_flows_by_time ON sign_in_flows (created_us);
