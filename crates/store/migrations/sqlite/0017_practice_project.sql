-- The project a practice came from: the protocol number of its authority's application.
ALTER TABLE practices ADD COLUMN project TEXT;
