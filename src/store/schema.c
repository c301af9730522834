#include "store/schema.h"

#include <stddef.h>

static const char *const migrations[] = {
    /* 1: the core data model */
    "CREATE TABLE meta (\n"
    "  key   TEXT PRIMARY KEY,\n"
    "  value BLOB NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE keyring (\n"
    "  name    TEXT PRIMARY KEY,\n"
    "  wrapped BLOB NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE controllers (\n"
    "  id         TEXT PRIMARY KEY,\n"
    "  name       TEXT NOT NULL UNIQUE,\n"
    "  created_at INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE subjects (\n"
    "  id            TEXT PRIMARY KEY,\n"
    "  controller_id TEXT NOT NULL REFERENCES controllers(id),\n"
    "  kind          TEXT NOT NULL CHECK (kind IN ('patient','web_user','employee','other')),\n"
    "  key_version   INTEGER NOT NULL,\n"
    "  created_at    INTEGER NOT NULL,\n"
    "  updated_at    INTEGER NOT NULL,\n"
    "  erased_at     INTEGER\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX subjects_controller ON subjects(controller_id);\n"
    "CREATE TABLE subject_keys (\n"
    "  subject_id TEXT PRIMARY KEY REFERENCES subjects(id),\n"
    "  version    INTEGER NOT NULL,\n"
    "  wrapped    BLOB NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE items (\n"
    "  subject_id   TEXT NOT NULL REFERENCES subjects(id),\n"
    "  id           TEXT NOT NULL,\n"
    "  category     TEXT NOT NULL,\n"
    "  field        TEXT NOT NULL,\n"
    "  source       TEXT NOT NULL,\n"
    "  collected_at INTEGER NOT NULL,\n"
    "  recorded_by  TEXT NOT NULL,\n"
    "  recorded_at  INTEGER NOT NULL,\n"
    "  updated_at   INTEGER NOT NULL,\n"
    "  value        BLOB NOT NULL,\n"
    "  PRIMARY KEY (subject_id, id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE identifiers (\n"
    "  kind       TEXT NOT NULL,\n"
    "  bidx       BLOB NOT NULL,\n"
    "  subject_id TEXT NOT NULL REFERENCES subjects(id),\n"
    "  item_id    TEXT NOT NULL,\n"
    "  PRIMARY KEY (kind, bidx, subject_id, item_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX identifiers_subject ON identifiers(subject_id, item_id);\n"
    "CREATE TABLE audit_events (\n"
    "  seq        INTEGER PRIMARY KEY,\n"
    "  ts         INTEGER NOT NULL,\n"
    "  actor      TEXT NOT NULL,\n"
    "  subject_id TEXT,\n"
    "  body       BLOB NOT NULL,\n"
    "  hash       BLOB NOT NULL\n"
    ");\n"
    "CREATE INDEX audit_subject ON audit_events(subject_id, seq) WHERE subject_id IS NOT NULL;\n"
    "CREATE INDEX audit_actor ON audit_events(actor, seq);\n"
    "CREATE TABLE audit_head (\n"
    "  one       INTEGER PRIMARY KEY CHECK (one = 1),\n"
    "  seq       INTEGER NOT NULL,\n"
    "  signed_at INTEGER NOT NULL,\n"
    "  hash      BLOB NOT NULL,\n"
    "  sig       BLOB NOT NULL\n"
    ");\n"
    "CREATE TABLE audit_checkpoints (\n"
    "  seq       INTEGER PRIMARY KEY,\n"
    "  signed_at INTEGER NOT NULL,\n"
    "  hash      BLOB NOT NULL,\n"
    "  sig       BLOB NOT NULL\n"
    ");\n",
};

int cu_schema_count(void)
{
    return (int)(sizeof migrations / sizeof migrations[0]);
}

const char *cu_schema_migration(int n)
{
    return n >= 1 && n <= cu_schema_count() ? migrations[n - 1] : NULL;
}
