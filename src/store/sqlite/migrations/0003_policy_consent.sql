-- 3: policies (versioned per controller), consent records, objections,
-- restriction, and single-use unsubscribe links
CREATE TABLE policies (
  controller_id TEXT NOT NULL REFERENCES controllers(id),
  version       INTEGER NOT NULL,
  applied_at    INTEGER NOT NULL,
  applied_by    TEXT NOT NULL,
  digest        BLOB NOT NULL,
  document      BLOB NOT NULL,
  PRIMARY KEY (controller_id, version)
) WITHOUT ROWID;
CREATE TABLE consents (
  seq            INTEGER PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,
  subject_id     TEXT NOT NULL REFERENCES subjects(id),
  purpose        TEXT NOT NULL,
  policy_version INTEGER NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('given','withdrawn')),
  at             INTEGER NOT NULL,
  method         TEXT NOT NULL,
  recorded_by    TEXT NOT NULL,
  evidence       BLOB
);
CREATE INDEX consents_subject ON consents(subject_id, purpose, seq);
CREATE TABLE objections (
  seq         INTEGER PRIMARY KEY,
  subject_id  TEXT NOT NULL REFERENCES subjects(id),
  purpose     TEXT NOT NULL,
  made_at     INTEGER NOT NULL,
  recorded_by TEXT NOT NULL,
  lifted_at   INTEGER,
  lifted_by   TEXT
);
CREATE INDEX objections_subject ON objections(subject_id, purpose);
ALTER TABLE subjects ADD COLUMN restricted_at INTEGER;
ALTER TABLE subjects ADD COLUMN objecting INTEGER NOT NULL DEFAULT 0;
CREATE TABLE unsubscribe_links (
  token_hash BLOB PRIMARY KEY,
  subject_id TEXT NOT NULL REFERENCES subjects(id),
  purpose    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  used_at    INTEGER
) WITHOUT ROWID;
