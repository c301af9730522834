-- 12: the patient portal (the SQLite store's migration 13; see there).
CREATE TABLE portal_invitations (
  token_hash     bytea PRIMARY KEY,
  id             text COLLATE "C" NOT NULL UNIQUE,
  controller_id  text COLLATE "C" NOT NULL REFERENCES controllers(id),
  subject_id     text COLLATE "C" NOT NULL REFERENCES subjects(id),
  issued_by      text COLLATE "C" NOT NULL,
  issued_at      bigint NOT NULL,
  expires_at     bigint NOT NULL,
  used_at        bigint NOT NULL DEFAULT 0,
  mac            bytea
);
CREATE INDEX portal_invitations_subject ON portal_invitations(subject_id);
CREATE TABLE portal_accounts (
  subject_id     text COLLATE "C" PRIMARY KEY REFERENCES subjects(id),
  controller_id  text COLLATE "C" NOT NULL REFERENCES controllers(id),
  name           text COLLATE "C" NOT NULL UNIQUE,
  pwhash         text COLLATE "C" NOT NULL,
  failures       bigint NOT NULL DEFAULT 0,
  locked_until   bigint NOT NULL DEFAULT 0,
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL,
  mac            bytea
);
CREATE TABLE portal_sessions (
  token_hash     bytea PRIMARY KEY,
  subject_id     text COLLATE "C" NOT NULL REFERENCES subjects(id),
  created_at     bigint NOT NULL,
  last_seen      bigint NOT NULL,
  mac            bytea
);
CREATE INDEX portal_sessions_subject ON portal_sessions(subject_id);
