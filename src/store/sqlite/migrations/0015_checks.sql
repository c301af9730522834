-- 15: the tasks' and pathway occurrences' state checks written as
-- comparisons. SQLite evaluates a CHECK of the form "x IN (three or more
-- values)" by building a temporary B-tree on every insert and update of the
-- row; a chain of "=" tests is the same rule without it. The rows are copied
-- as they are (their codes cover the same columns).
ALTER TABLE tasks RENAME TO tasks_old;
DROP INDEX tasks_controller;
DROP INDEX tasks_subject;
CREATE TABLE tasks (
  seq            INTEGER PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,
  controller_id  TEXT NOT NULL REFERENCES controllers(id),
  subject_id     TEXT NOT NULL REFERENCES subjects(id),
  kind           TEXT NOT NULL CHECK (kind = 'urgent' OR kind = 'review'),
  reason         TEXT NOT NULL,
  detail         BLOB,
  source         TEXT NOT NULL,
  owner_user_id  TEXT,
  state          TEXT NOT NULL
                 CHECK (state = 'open' OR state = 'acknowledged' OR state = 'done'),
  created_at     INTEGER NOT NULL,
  acked_by       TEXT NOT NULL DEFAULT '',
  acked_at       INTEGER NOT NULL DEFAULT 0,
  done_by        TEXT NOT NULL DEFAULT '',
  done_at        INTEGER NOT NULL DEFAULT 0,
  mac            BLOB
);
INSERT INTO tasks SELECT seq, id, controller_id, subject_id, kind, reason, detail, source,
  owner_user_id, state, created_at, acked_by, acked_at, done_by, done_at, mac FROM tasks_old;
DROP TABLE tasks_old;
CREATE INDEX tasks_controller ON tasks(controller_id, seq);
CREATE INDEX tasks_subject ON tasks(subject_id, seq);
ALTER TABLE pathway_occurrences RENAME TO pathway_occurrences_old;
CREATE TABLE pathway_occurrences (
  enrolment_id TEXT NOT NULL REFERENCES enrolments(id),
  n            INTEGER NOT NULL,
  due_date     TEXT NOT NULL,
  state        TEXT NOT NULL
               CHECK (state = 'scheduled' OR state = 'sent' OR state = 'answered' OR
                      state = 'missed' OR state = 'stopped'),
  ref          TEXT NOT NULL DEFAULT '',
  changed_at   INTEGER NOT NULL,
  mac          BLOB,
  PRIMARY KEY (enrolment_id, n)
);
INSERT INTO pathway_occurrences SELECT enrolment_id, n, due_date, state, ref, changed_at, mac
  FROM pathway_occurrences_old;
DROP TABLE pathway_occurrences_old;
