-- 8: several nodes on one database. node_keys records every node's Ed25519
-- public key (an authenticated row); the signed head and each checkpoint name
-- the node that signed them (NULL: the store's own key). erasure_ledger keeps
-- the erasure ledger's entries, each its signed line, so every node sees
-- every erasure; jobs records when each once-per-cluster job is next due and
-- which node last ran it.
CREATE TABLE node_keys (
  node       TEXT PRIMARY KEY,
  public_key BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  mac        BLOB
);
ALTER TABLE audit_head ADD COLUMN node TEXT;
ALTER TABLE audit_checkpoints ADD COLUMN node TEXT;
CREATE TABLE erasure_ledger (
  seq  INTEGER PRIMARY KEY,
  line TEXT NOT NULL
);
CREATE TABLE jobs (
  name     TEXT PRIMARY KEY,
  due_at   INTEGER NOT NULL,
  last_run INTEGER NOT NULL,
  node     TEXT NOT NULL
);
