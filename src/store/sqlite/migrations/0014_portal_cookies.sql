-- 14: the patient portal's cookie choices.
-- portal_cookie_choices: each accept or reject of the cookies a controller's
-- policy declares as not strictly necessary, made on the portal's banner or
-- cookies page. Never updated: a new choice is a new row, the latest in
-- force. Who chose: a signed-in patient's subject_id, or for a visitor not
-- signed in the keyed hash of the random id in their __Host-custos-cookies
-- cookie (visitor_hash; the id itself is never stored). policy_version is
-- the version of the controller's policy the choice was shown under. Erasure
-- of the subject deletes their rows. mac: the row code over every column.
CREATE TABLE portal_cookie_choices (
  id             TEXT PRIMARY KEY,
  controller_id  TEXT NOT NULL REFERENCES controllers(id),
  subject_id     TEXT REFERENCES subjects(id),
  visitor_hash   BLOB,
  choice         TEXT NOT NULL CHECK (choice IN ('accepted', 'rejected')),
  policy_version INTEGER NOT NULL,
  chosen_at      INTEGER NOT NULL,
  mac            BLOB,
  CHECK (subject_id IS NOT NULL OR visitor_hash IS NOT NULL)
);
CREATE INDEX portal_cookie_choices_subject
  ON portal_cookie_choices(subject_id, controller_id, chosen_at);
CREATE INDEX portal_cookie_choices_visitor
  ON portal_cookie_choices(visitor_hash, controller_id, chosen_at);
