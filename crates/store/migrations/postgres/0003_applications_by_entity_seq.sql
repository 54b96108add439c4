-- Looking up an entity's earlier applications to a call (retries, one-per-entity) runs
-- for every submission, twice. With (call_code, entity_code) alone SQLite preferred the
-- (call_code, seq) index to avoid sorting and read every application of the call: the
-- intake slowed down as the call filled. The sort key in the index removes the choice.
DROP INDEX applications_by_entity;
CREATE INDEX applications_by_entity ON applications (call_code, entity_code, seq);
