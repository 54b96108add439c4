-- The regional in-house provider's catalogue of services, imported from a file. A service
-- left out of a later file is withdrawn, not deleted: applications name its code.
CREATE TABLE service_catalogue (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    provider    TEXT NOT NULL,
    imported_us BIGINT NOT NULL
);

CREATE TABLE services (
    code        TEXT PRIMARY KEY,
    position    BIGINT NOT NULL,
    content     TEXT NOT NULL,
    withdrawn   BIGINT NOT NULL DEFAULT 0,
    updated_us  BIGINT NOT NULL
);
