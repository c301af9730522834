-- 1: the core data model. Text is compared byte by byte (COLLATE "C"), so
-- ordering and keyset pagination do not depend on the database's locale.
-- schema_version records each migration applied; change_counter is bumped by
-- every committed write, so a connection can tell another's change.
CREATE TABLE schema_version (
  version    bigint PRIMARY KEY,
  applied_at bigint NOT NULL
);
CREATE TABLE change_counter (
  one bigint PRIMARY KEY CHECK (one = 1),
  n   bigint NOT NULL
);
INSERT INTO change_counter(one, n) VALUES (1, 0);
CREATE TABLE meta (
  key   text COLLATE "C" PRIMARY KEY,
  value bytea NOT NULL
);
CREATE TABLE keyring (
  name    text COLLATE "C" PRIMARY KEY,
  wrapped bytea NOT NULL
);
CREATE TABLE controllers (
  id         text COLLATE "C" PRIMARY KEY,
  name       text COLLATE "C" NOT NULL UNIQUE,
  created_at bigint NOT NULL
);
CREATE TABLE subjects (
  id            text COLLATE "C" PRIMARY KEY,
  controller_id text COLLATE "C" NOT NULL REFERENCES controllers(id),
  kind          text COLLATE "C" NOT NULL CHECK (kind IN ('patient','web_user','employee','other')),
  key_version   bigint NOT NULL,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  erased_at     bigint
);
CREATE INDEX subjects_controller ON subjects(controller_id);
CREATE TABLE subject_keys (
  subject_id text COLLATE "C" PRIMARY KEY REFERENCES subjects(id),
  version    bigint NOT NULL,
  wrapped    bytea NOT NULL
);
CREATE TABLE items (
  subject_id   text COLLATE "C" NOT NULL REFERENCES subjects(id),
  id           text COLLATE "C" NOT NULL,
  category     text COLLATE "C" NOT NULL,
  field        text COLLATE "C" NOT NULL,
  source       text COLLATE "C" NOT NULL,
  collected_at bigint NOT NULL,
  recorded_by  text COLLATE "C" NOT NULL,
  recorded_at  bigint NOT NULL,
  updated_at   bigint NOT NULL,
  value        bytea NOT NULL,
  PRIMARY KEY (subject_id, id)
);
CREATE TABLE identifiers (
  kind       text COLLATE "C" NOT NULL,
  bidx       bytea NOT NULL,
  subject_id text COLLATE "C" NOT NULL REFERENCES subjects(id),
  item_id    text COLLATE "C" NOT NULL,
  PRIMARY KEY (kind, bidx, subject_id, item_id)
);
CREATE INDEX identifiers_subject ON identifiers(subject_id, item_id);
CREATE TABLE audit_events (
  seq        bigint PRIMARY KEY,
  ts         bigint NOT NULL,
  actor      text COLLATE "C" NOT NULL,
  subject_id text COLLATE "C",
  body       bytea NOT NULL,
  hash       bytea NOT NULL
);
CREATE INDEX audit_subject ON audit_events(subject_id, seq) WHERE subject_id IS NOT NULL;
CREATE INDEX audit_actor ON audit_events(actor, seq);
CREATE TABLE audit_head (
  one       bigint PRIMARY KEY CHECK (one = 1),
  seq       bigint NOT NULL,
  signed_at bigint NOT NULL,
  hash      bytea NOT NULL,
  sig       bytea NOT NULL
);
CREATE TABLE audit_checkpoints (
  seq       bigint PRIMARY KEY,
  signed_at bigint NOT NULL,
  hash      bytea NOT NULL,
  sig       bytea NOT NULL
);
