-- 5: the disclosure log: data sent to a recipient (Art 15(1)(c), Art 19).
-- recipient_id names a recipient of the controller's policy; a recipient
-- outside it (a named organisation) is kept only sealed under the
-- subject's key, as is any note. items lists item ids, categories their
-- category names: neither holds a value.
CREATE TABLE disclosures (
  seq           INTEGER PRIMARY KEY,
  id            TEXT NOT NULL UNIQUE,
  subject_id    TEXT NOT NULL REFERENCES subjects(id),
  recipient_id  TEXT,
  recipient     BLOB,
  basis         TEXT NOT NULL CHECK (basis IN ('a','b','c','d','e','f')),
  purpose       TEXT NOT NULL,
  channel       TEXT NOT NULL,
  items         TEXT NOT NULL,
  categories    TEXT NOT NULL,
  disclosed_at  INTEGER NOT NULL,
  recorded_at   INTEGER NOT NULL,
  recorded_by   TEXT NOT NULL,
  note          BLOB,
  CHECK (recipient_id IS NOT NULL OR recipient IS NOT NULL)
);
CREATE INDEX disclosures_subject ON disclosures(subject_id, seq);
