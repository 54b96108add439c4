-- Files attached to a practice by its authority (a regulation, a training kit), at most a few,
-- each kept whole: they are small documents read by people, not the click day's load.
CREATE TABLE practice_files (
    id           TEXT PRIMARY KEY,
    practice_n   INTEGER NOT NULL REFERENCES practices (n),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    uploaded_us  INTEGER NOT NULL,
    uploaded_by  TEXT NOT NULL
);
CREATE INDEX practice_files_by_practice ON practice_files (practice_n, uploaded_us);
