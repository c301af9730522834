-- 10: single-use questionnaire links (the SQLite store's migration 11; see
-- there).
CREATE TABLE questionnaire_links (
  token_hash     bytea PRIMARY KEY,
  id             text COLLATE "C" NOT NULL UNIQUE,
  controller_id  text COLLATE "C" NOT NULL REFERENCES controllers(id),
  subject_id     text COLLATE "C" NOT NULL REFERENCES subjects(id),
  url            text COLLATE "C" NOT NULL,
  version        text COLLATE "C" NOT NULL,
  purpose        text COLLATE "C" NOT NULL,
  issued_by      text COLLATE "C" NOT NULL,
  issued_at      bigint NOT NULL,
  expires_at     bigint NOT NULL,
  used_at        bigint NOT NULL DEFAULT 0,
  response_id    text COLLATE "C" NOT NULL DEFAULT '',
  mac            bytea
);
CREATE INDEX questionnaire_links_subject ON questionnaire_links(subject_id);
