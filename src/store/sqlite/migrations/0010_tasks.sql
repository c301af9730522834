-- 10: clinical tasks a questionnaire answer raises for the patient's care
-- team. reason is a code from the domain's table (never the patient's
-- words); detail, when there is any, is sealed under the subject's key like
-- an item value; source names the response it came from (opaque).
-- owner_user_id NULL: the care team (every clinician with the subject on
-- their care list); otherwise one named clinician. A task is never deleted:
-- only a person moves it open -> acknowledged -> done. Each row carries a
-- code (mac) under the integrity key; each controller's count of tasks is
-- kept in an authenticated head (meta "tasks_head/<controller>").
CREATE TABLE tasks (
  seq            INTEGER PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,
  controller_id  TEXT NOT NULL REFERENCES controllers(id),
  subject_id     TEXT NOT NULL REFERENCES subjects(id),
  kind           TEXT NOT NULL CHECK (kind IN ('urgent','review')),
  reason         TEXT NOT NULL,
  detail         BLOB,
  source         TEXT NOT NULL,
  owner_user_id  TEXT,
  state          TEXT NOT NULL CHECK (state IN ('open','acknowledged','done')),
  created_at     INTEGER NOT NULL,
  acked_by       TEXT NOT NULL DEFAULT '',
  acked_at       INTEGER NOT NULL DEFAULT 0,
  done_by        TEXT NOT NULL DEFAULT '',
  done_at        INTEGER NOT NULL DEFAULT 0,
  mac            BLOB
);
CREATE INDEX tasks_controller ON tasks(controller_id, seq);
CREATE INDEX tasks_subject ON tasks(subject_id, seq);
