-- A receipt's notice is found through its application (applications_by_entity), not
-- through an index by entity of its own: that index put one more page at a random place
-- in every click-day commit for every receipt (the entities apply in no order). Every
-- other notice keeps it.
DROP INDEX notices_by_entity;
CREATE INDEX notices_by_entity ON notices (entity_code, created_us) WHERE kind <> 'received';
