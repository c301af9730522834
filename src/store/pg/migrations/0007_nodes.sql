-- 7: several nodes on one database. node_keys records every node's Ed25519
-- public key (an authenticated row); the signed head and each checkpoint name
-- the node that signed them (NULL: the store's own key). erasure_ledger keeps
-- the erasure ledger's entries, each its signed line, so every node sees
-- every erasure; jobs records when each once-per-cluster job is next due and
-- which node last ran it.
CREATE TABLE node_keys (
  node       text COLLATE "C" PRIMARY KEY,
  public_key bytea NOT NULL,
  created_at bigint NOT NULL,
  mac        bytea
);
ALTER TABLE audit_head ADD COLUMN node text COLLATE "C";
ALTER TABLE audit_checkpoints ADD COLUMN node text COLLATE "C";
CREATE TABLE erasure_ledger (
  seq  bigint PRIMARY KEY,
  line text NOT NULL
);
CREATE TABLE jobs (
  name     text COLLATE "C" PRIMARY KEY,
  due_at   bigint NOT NULL,
  last_run bigint NOT NULL,
  node     text COLLATE "C" NOT NULL
);
