-- 6: row authentication. Every security-relevant row carries a keyed
-- BLAKE2b-256 code (mac) computed by the vault under the store's
-- integrity key, so a writer without the master key cannot add, alter or
-- replay one unnoticed; items carry a version bound into their sealed
-- value's associated data, and each subject the count and a keyed digest
-- of its items' (id, version) pairs, so a removed or rolled-back item is
-- detected; and the count of its consent records, so a removed one (a
-- withdrawal deleted to bring back the consent before it) is detected.
-- NULL: not yet authenticated (a store made before this
-- migration, sealed once by the operator).
ALTER TABLE controllers ADD COLUMN mac BLOB;
ALTER TABLE subjects ADD COLUMN mac BLOB;
ALTER TABLE subjects ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subjects ADD COLUMN item_digest BLOB;
ALTER TABLE subjects ADD COLUMN consents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN mac BLOB;
ALTER TABLE sessions ADD COLUMN mac BLOB;
ALTER TABLE api_tokens ADD COLUMN mac BLOB;
ALTER TABLE care_list ADD COLUMN mac BLOB;
ALTER TABLE break_glass ADD COLUMN mac BLOB;
ALTER TABLE policies ADD COLUMN mac BLOB;
ALTER TABLE consents ADD COLUMN mac BLOB;
ALTER TABLE objections ADD COLUMN mac BLOB;
ALTER TABLE unsubscribe_links ADD COLUMN mac BLOB;
ALTER TABLE requests ADD COLUMN mac BLOB;
