-- Receipts in a table of their own, keyed by the application's ledger entry.
-- An application's row carried its receipt (about 1.1 KB of JSON beside 0.4-0.8 KB of
-- content), so that no two rows shared a 4 KB page: each submission of a click day wrote a
-- page of its own, and then its copy at the checkpoint. Apart, both tables pack several
-- rows to a page (BENCHMARKS.md, issue 17: bytes written per submission). No foreign key:
-- both rows are written by the same statement, and the check would cost a lookup each.
CREATE TABLE receipts (
    entry   BIGINT PRIMARY KEY,
    receipt TEXT NOT NULL
);
INSERT INTO receipts (entry, receipt) SELECT ledger_seq, receipt FROM applications;
ALTER TABLE applications DROP COLUMN receipt;
