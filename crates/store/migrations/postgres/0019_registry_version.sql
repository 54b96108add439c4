-- The registry's version: every import of entities moves it on, in its own transaction.
-- A server keeps every entity it has read for as long as the version stands (checked at
-- most once a second), so that a click day's submissions do not each read their entity.
CREATE TABLE registry_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO registry_version (id, version) VALUES (1, 0);
