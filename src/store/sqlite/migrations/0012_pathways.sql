-- 12: follow-up pathways (docs/pathways.md).
-- pathways: versioned definitions, store-wide, like questionnaires: id +
-- version unique; document the canonical JSON, hash its BLAKE2b-256; mac the
-- row code over id, version, hash, added_at and added_by.
CREATE TABLE pathways (
  id       TEXT NOT NULL,
  version  TEXT NOT NULL,
  hash     BLOB NOT NULL,
  document BLOB NOT NULL,
  added_at INTEGER NOT NULL,
  added_by TEXT NOT NULL,
  mac      BLOB,
  PRIMARY KEY (id, version)
);
-- enrolments: one subject on one pathway version from a start date, for a
-- purpose of the controller's policy; discharged_at 0 while it runs.
-- occurrences is how many pathway_occurrences rows it has (bound by the
-- row code, so a deleted occurrence is seen). Each controller's number of
-- enrolments is kept in an authenticated head (meta
-- "enrolments_head/<controller>").
CREATE TABLE enrolments (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  controller_id   TEXT NOT NULL REFERENCES controllers(id),
  subject_id      TEXT NOT NULL REFERENCES subjects(id),
  pathway_id      TEXT NOT NULL,
  pathway_version TEXT NOT NULL,
  start_date      TEXT NOT NULL,
  purpose         TEXT NOT NULL,
  occurrences     INTEGER NOT NULL,
  enrolled_by     TEXT NOT NULL,
  enrolled_at     INTEGER NOT NULL,
  discharged_by   TEXT NOT NULL DEFAULT '',
  discharged_at   INTEGER NOT NULL DEFAULT 0,
  mac             BLOB,
  FOREIGN KEY (pathway_id, pathway_version) REFERENCES pathways(id, version)
);
CREATE INDEX enrolments_controller ON enrolments(controller_id, seq);
CREATE INDEX enrolments_subject ON enrolments(subject_id, seq);
-- pathway_occurrences: the n-th scheduled time of an enrolment, its due date
-- (YYYY-MM-DD) and state; ref names the link or response that moved it.
CREATE TABLE pathway_occurrences (
  enrolment_id TEXT NOT NULL REFERENCES enrolments(id),
  n            INTEGER NOT NULL,
  due_date     TEXT NOT NULL,
  state        TEXT NOT NULL
               CHECK (state IN ('scheduled','sent','answered','missed','stopped')),
  ref          TEXT NOT NULL DEFAULT '',
  changed_at   INTEGER NOT NULL,
  mac          BLOB,
  PRIMARY KEY (enrolment_id, n)
);
