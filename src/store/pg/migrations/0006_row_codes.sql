-- 6: row authentication. Every security-relevant row carries a keyed
-- BLAKE2b-256 code (mac) computed by the vault under the store's integrity
-- key; items carry a version bound into their sealed value's associated data,
-- and each subject the count and a keyed digest of its items' (id, version)
-- pairs and the count of its consent records. NULL: not yet authenticated.
ALTER TABLE controllers ADD COLUMN mac bytea;
ALTER TABLE subjects ADD COLUMN mac bytea;
ALTER TABLE subjects ADD COLUMN item_count bigint NOT NULL DEFAULT 0;
ALTER TABLE subjects ADD COLUMN item_digest bytea;
ALTER TABLE subjects ADD COLUMN consents bigint NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN mac bytea;
ALTER TABLE sessions ADD COLUMN mac bytea;
ALTER TABLE api_tokens ADD COLUMN mac bytea;
ALTER TABLE care_list ADD COLUMN mac bytea;
ALTER TABLE break_glass ADD COLUMN mac bytea;
ALTER TABLE policies ADD COLUMN mac bytea;
ALTER TABLE consents ADD COLUMN mac bytea;
ALTER TABLE objections ADD COLUMN mac bytea;
ALTER TABLE unsubscribe_links ADD COLUMN mac bytea;
ALTER TABLE requests ADD COLUMN mac bytea;
