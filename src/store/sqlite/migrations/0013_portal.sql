-- 13: the patient portal.
-- portal_invitations: single-use, expiring invitations for one subject to
-- set (or reset) the password of their portal account. Only a keyed hash of
-- the invitation's code is kept (the code is shown once, to whoever issues
-- it). used_at 0: not used yet. mac: the row code over every column.
CREATE TABLE portal_invitations (
  token_hash     BLOB PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,
  controller_id  TEXT NOT NULL REFERENCES controllers(id),
  subject_id     TEXT NOT NULL REFERENCES subjects(id),
  issued_by      TEXT NOT NULL,
  issued_at      INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  used_at        INTEGER NOT NULL DEFAULT 0,
  mac            BLOB
);
CREATE INDEX portal_invitations_subject ON portal_invitations(subject_id);
-- portal_accounts: one per subject. name is the sign-in name the invitation
-- shows (not personal data: random), pwhash an Argon2id hash; failures and
-- locked_until throttle sign-in. mac: the row code over every column.
CREATE TABLE portal_accounts (
  subject_id     TEXT PRIMARY KEY REFERENCES subjects(id),
  controller_id  TEXT NOT NULL REFERENCES controllers(id),
  name           TEXT NOT NULL UNIQUE,
  pwhash         TEXT NOT NULL,
  failures       INTEGER NOT NULL DEFAULT 0,
  locked_until   INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  mac            BLOB
);
-- portal_sessions: a patient signed in to the portal. Only a keyed hash of
-- the session's token is kept (the token lives in the patient's cookie);
-- last_seen gives the idle expiry, created_at the absolute one. Deleted on
-- sign-out, on a new password and when the subject is erased. mac: the row
-- code over every column.
CREATE TABLE portal_sessions (
  token_hash     BLOB PRIMARY KEY,
  subject_id     TEXT NOT NULL REFERENCES subjects(id),
  created_at     INTEGER NOT NULL,
  last_seen      INTEGER NOT NULL,
  mac            BLOB
);
CREATE INDEX portal_sessions_subject ON portal_sessions(subject_id);
