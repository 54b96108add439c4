-- Protocol numbers read PREFIX-YEAR/SEQ: two calls sharing a prefix would hand out the same
-- numbers. The prefix gets its own column, unique across calls.
ALTER TABLE calls ADD COLUMN protocol_prefix TEXT;
UPDATE calls SET protocol_prefix = json_extract(rules, '$.protocol_prefix');
CREATE UNIQUE INDEX calls_by_protocol_prefix ON calls (protocol_prefix);
