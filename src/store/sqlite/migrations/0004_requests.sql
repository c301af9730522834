-- 4: data-subject rights requests, their clarification pauses and the
-- history of their transitions (each "why" sealed: under the subject's key
-- once linked, else under the store's requests key)
CREATE TABLE requests (
  id            TEXT PRIMARY KEY,
  controller_id TEXT NOT NULL REFERENCES controllers(id),
  kind          TEXT NOT NULL,
  channel       TEXT NOT NULL,
  state         TEXT NOT NULL,
  paused_from   TEXT,
  subject_id    TEXT REFERENCES subjects(id),
  purpose       TEXT,
  received_on   TEXT NOT NULL,
  evidence_on   TEXT,
  extended      INTEGER NOT NULL DEFAULT 0,
  told_on       TEXT,
  grounds       TEXT,
  complaint_route TEXT,
  closed_on     TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX requests_controller ON requests(controller_id, state);
CREATE TABLE request_pauses (
  seq        INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL REFERENCES requests(id),
  paused_on  TEXT NOT NULL,
  resumed_on TEXT
);
CREATE INDEX request_pauses_request ON request_pauses(request_id, seq);
CREATE TABLE request_events (
  seq        INTEGER PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  request_id TEXT NOT NULL REFERENCES requests(id),
  at         INTEGER NOT NULL,
  on_date    TEXT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  sealed_by  TEXT NOT NULL CHECK (sealed_by IN ('subject','store')),
  why        BLOB NOT NULL
);
CREATE INDEX request_events_request ON request_events(request_id, seq);
