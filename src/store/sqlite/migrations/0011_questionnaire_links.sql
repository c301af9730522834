-- 11: single-use links that ask one subject to answer one questionnaire.
-- Only a keyed hash of the link's token is kept (the token itself is shown
-- once, to whoever sends it). The questionnaire is pinned by url and version
-- when the link is made; purpose is the purpose its answers are collected
-- for. used_at 0: not used yet; response_id then names the item that holds
-- the answers. Each row carries a code (mac) under the integrity key over
-- every column.
CREATE TABLE questionnaire_links (
  token_hash     BLOB PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,
  controller_id  TEXT NOT NULL REFERENCES controllers(id),
  subject_id     TEXT NOT NULL REFERENCES subjects(id),
  url            TEXT NOT NULL,
  version        TEXT NOT NULL,
  purpose        TEXT NOT NULL,
  issued_by      TEXT NOT NULL,
  issued_at      INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  used_at        INTEGER NOT NULL DEFAULT 0,
  response_id    TEXT NOT NULL DEFAULT '',
  mac            BLOB
);
CREATE INDEX questionnaire_links_subject ON questionnaire_links(subject_id);
