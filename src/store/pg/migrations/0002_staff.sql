-- 2: staff accounts, sessions, API tokens, care lists, break-glass, and a
-- per-controller pseudonym for every subject.
ALTER TABLE subjects ADD COLUMN pseudonym text COLLATE "C";
CREATE UNIQUE INDEX subjects_pseudonym ON subjects(pseudonym) WHERE pseudonym IS NOT NULL;
CREATE TABLE users (
  id             text COLLATE "C" PRIMARY KEY,
  controller_id  text COLLATE "C" NOT NULL REFERENCES controllers(id),
  username       text COLLATE "C" NOT NULL UNIQUE,
  roles          text COLLATE "C" NOT NULL,
  pwhash         text COLLATE "C" NOT NULL,
  totp           bytea,
  totp_last_step bigint NOT NULL DEFAULT 0,
  failures       bigint NOT NULL DEFAULT 0,
  locked_until   bigint NOT NULL DEFAULT 0,
  created_at     bigint NOT NULL,
  disabled_at    bigint
);
CREATE TABLE sessions (
  token_hash bytea PRIMARY KEY,
  user_id    text COLLATE "C" NOT NULL REFERENCES users(id),
  created_at bigint NOT NULL,
  last_seen  bigint NOT NULL,
  revoked_at bigint
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
  id            text COLLATE "C" PRIMARY KEY,
  token_hash    bytea NOT NULL UNIQUE,
  controller_id text COLLATE "C" NOT NULL REFERENCES controllers(id),
  roles         text COLLATE "C" NOT NULL,
  name          text COLLATE "C" NOT NULL,
  created_at    bigint NOT NULL,
  revoked_at    bigint
);
CREATE TABLE care_list (
  user_id    text COLLATE "C" NOT NULL REFERENCES users(id),
  subject_id text COLLATE "C" NOT NULL REFERENCES subjects(id),
  added_at   bigint NOT NULL,
  added_by   text COLLATE "C" NOT NULL,
  PRIMARY KEY (user_id, subject_id)
);
CREATE TABLE break_glass (
  id          text COLLATE "C" PRIMARY KEY,
  user_id     text COLLATE "C" NOT NULL REFERENCES users(id),
  subject_id  text COLLATE "C" NOT NULL REFERENCES subjects(id),
  reason      bytea NOT NULL,
  granted_at  bigint NOT NULL,
  expires_at  bigint NOT NULL
);
CREATE INDEX break_glass_user ON break_glass(user_id, subject_id, expires_at);
