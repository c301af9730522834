-- 13: the patient portal's cookie choices (the SQLite store's migration 14;
-- see there).
CREATE TABLE portal_cookie_choices (
  id             text COLLATE "C" PRIMARY KEY,
  controller_id  text COLLATE "C" NOT NULL REFERENCES controllers(id),
  subject_id     text COLLATE "C" REFERENCES subjects(id),
  visitor_hash   bytea,
  choice         text COLLATE "C" NOT NULL CHECK (choice IN ('accepted', 'rejected')),
  policy_version bigint NOT NULL,
  chosen_at      bigint NOT NULL,
  mac            bytea,
  CHECK (subject_id IS NOT NULL OR visitor_hash IS NOT NULL)
);
CREATE INDEX portal_cookie_choices_subject
  ON portal_cookie_choices(subject_id, controller_id, chosen_at);
CREATE INDEX portal_cookie_choices_visitor
  ON portal_cookie_choices(visitor_hash, controller_id, chosen_at);
