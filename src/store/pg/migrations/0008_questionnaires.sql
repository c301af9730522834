-- 8: questionnaire definitions (FHIR R4 Questionnaire documents), versioned
-- and store-wide. url + version is unique; document is the canonical JSON,
-- hash its BLAKE2b-256; mac the row code over url, version, hash, status,
-- added_at and added_by (the document is bound by its hash).
CREATE TABLE questionnaires (
  url      text COLLATE "C" NOT NULL,
  version  text COLLATE "C" NOT NULL,
  hash     bytea NOT NULL,
  document bytea NOT NULL,
  status   text COLLATE "C" NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
  added_at bigint NOT NULL,
  added_by text COLLATE "C" NOT NULL,
  mac      bytea,
  PRIMARY KEY (url, version)
);
