-- 9: questionnaire definitions (FHIR R4 Questionnaire documents), versioned
-- and store-wide. url + version is unique; document is the canonical JSON,
-- hash its BLAKE2b-256; mac the row code over url, version, hash, status,
-- added_at and added_by (the document is bound by its hash).
CREATE TABLE questionnaires (
  url      TEXT NOT NULL,
  version  TEXT NOT NULL,
  hash     BLOB NOT NULL,
  document BLOB NOT NULL,
  status   TEXT NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
  added_at INTEGER NOT NULL,
  added_by TEXT NOT NULL,
  mac      BLOB,
  PRIMARY KEY (url, version)
);
