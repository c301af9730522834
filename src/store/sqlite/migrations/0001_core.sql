-- 1: the core data model
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE keyring (
  name    TEXT PRIMARY KEY,
  wrapped BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE controllers (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE subjects (
  id            TEXT PRIMARY KEY,
  controller_id TEXT NOT NULL REFERENCES controllers(id),
  kind          TEXT NOT NULL CHECK (kind IN ('patient','web_user','employee','other')),
  key_version   INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  erased_at     INTEGER
) WITHOUT ROWID;
CREATE INDEX subjects_controller ON subjects(controller_id);
CREATE TABLE subject_keys (
  subject_id TEXT PRIMARY KEY REFERENCES subjects(id),
  version    INTEGER NOT NULL,
  wrapped    BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE items (
  subject_id   TEXT NOT NULL REFERENCES subjects(id),
  id           TEXT NOT NULL,
  category     TEXT NOT NULL,
  field        TEXT NOT NULL,
  source       TEXT NOT NULL,
  collected_at INTEGER NOT NULL,
  recorded_by  TEXT NOT NULL,
  recorded_at  INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  value        BLOB NOT NULL,
  PRIMARY KEY (subject_id, id)
) WITHOUT ROWID;
CREATE TABLE identifiers (
  kind       TEXT NOT NULL,
  bidx       BLOB NOT NULL,
  subject_id TEXT NOT NULL REFERENCES subjects(id),
  item_id    TEXT NOT NULL,
  PRIMARY KEY (kind, bidx, subject_id, item_id)
) WITHOUT ROWID;
CREATE INDEX identifiers_subject ON identifiers(subject_id, item_id);
CREATE TABLE audit_events (
  seq        INTEGER PRIMARY KEY,
  ts         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  subject_id TEXT,
  body       BLOB NOT NULL,
  hash       BLOB NOT NULL
);
CREATE INDEX audit_subject ON audit_events(subject_id, seq) WHERE subject_id IS NOT NULL;
CREATE INDEX audit_actor ON audit_events(actor, seq);
CREATE TABLE audit_head (
  one       INTEGER PRIMARY KEY CHECK (one = 1),
  seq       INTEGER NOT NULL,
  signed_at INTEGER NOT NULL,
  hash      BLOB NOT NULL,
  sig       BLOB NOT NULL
);
CREATE TABLE audit_checkpoints (
  seq       INTEGER PRIMARY KEY,
  signed_at INTEGER NOT NULL,
  hash      BLOB NOT NULL,
  sig       BLOB NOT NULL
);
