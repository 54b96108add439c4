-- Good practices and reusable solutions published by authorities, moderated by officials;
-- `terms` is their text as the Italian stemmer of the domain reduced it, indexed below.
CREATE TABLE practices (
    n            INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_code  TEXT NOT NULL REFERENCES entities (code),
    title        TEXT NOT NULL,
    summary      TEXT NOT NULL,
    body         TEXT NOT NULL,
    levers       TEXT NOT NULL,
    licence      TEXT NOT NULL,
    links        TEXT NOT NULL,
    call_code    TEXT,
    status       TEXT NOT NULL CHECK (status IN ('proposed', 'published', 'refused')),
    terms        TEXT NOT NULL,
    example      INTEGER NOT NULL DEFAULT 0,
    created_us   INTEGER NOT NULL,
    decided_us   INTEGER,
    decided_by   TEXT
);
CREATE INDEX practices_by_status ON practices (status, n);

-- The full-text index of the stems (rowid = practices.n), kept by the store with each write.
CREATE VIRTUAL TABLE practices_fts USING fts5 (terms, tokenize = 'unicode61');

-- Who reuses what ("riuso"): once per authority and practice.
CREATE TABLE practice_reuses (
    practice_n  INTEGER NOT NULL REFERENCES practices (n),
    entity_code TEXT NOT NULL REFERENCES entities (code),
    created_us  INTEGER NOT NULL,
    PRIMARY KEY (practice_n, entity_code)
);
