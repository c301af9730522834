-- 2: staff accounts, sessions, API tokens, care lists, break-glass,
-- and a per-controller pseudonym for every subject
ALTER TABLE subjects ADD COLUMN pseudonym TEXT;
CREATE UNIQUE INDEX subjects_pseudonym ON subjects(pseudonym) WHERE pseudonym IS NOT NULL;
CREATE TABLE users (
  id             TEXT PRIMARY KEY,
  controller_id  TEXT NOT NULL REFERENCES controllers(id),
  username       TEXT NOT NULL UNIQUE,
  roles          TEXT NOT NULL,
  pwhash         TEXT NOT NULL,
  totp           BLOB,
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  failures       INTEGER NOT NULL DEFAULT 0,
  locked_until   INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  disabled_at    INTEGER
) WITHOUT ROWID;
CREATE TABLE sessions (
  token_hash BLOB PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
  id            TEXT PRIMARY KEY,
  token_hash    BLOB NOT NULL UNIQUE,
  controller_id TEXT NOT NULL REFERENCES controllers(id),
  roles         TEXT NOT NULL,
  name          TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER
) WITHOUT ROWID;
CREATE TABLE care_list (
  user_id    TEXT NOT NULL REFERENCES users(id),
  subject_id TEXT NOT NULL REFERENCES subjects(id),
  added_at   INTEGER NOT NULL,
  added_by   TEXT NOT NULL,
  PRIMARY KEY (user_id, subject_id)
) WITHOUT ROWID;
CREATE TABLE break_glass (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users(id),
  subject_id  TEXT NOT NULL REFERENCES subjects(id),
  reason      BLOB NOT NULL,
  granted_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX break_glass_user ON break_glass(user_id, subject_id, expires_at);
