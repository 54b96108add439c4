-- The API loads the tokens issued since its last look in one query (a click day's first
-- requests are each their token's first): by time of issue.
CREATE INDEX tokens_by_created ON tokens (created_us);
