/* sql_meta.c — the SQLite statements of one table family:
 * meta, keyring, controllers, counts.
 * SQL, the shapes of parameters and columns, and flags (driver.h). */
#include "store/sqlite/sqlite_impl.h"

const cu_stmt_entry cu_sqlite_sql_meta[] = {
    {ST_META_GET,
     {"SELECT value FROM meta WHERE key = ?1",
      "t", "b", 0}},
    {ST_META_PUT,
     {"INSERT INTO meta(key, value) VALUES (?1, ?2) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      "tb", "", CU_STMT_WRITE}},
    {ST_KEYRING_GET,
     {"SELECT wrapped FROM keyring WHERE name = ?1",
      "t", "b", 0}},
    {ST_KEYRING_PUT,
     {"INSERT INTO keyring(name, wrapped) VALUES (?1, ?2) "
      "ON CONFLICT(name) DO UPDATE SET wrapped = excluded.wrapped",
      "tb", "", CU_STMT_WRITE}},
    {ST_KEYRING_EACH,
     {"SELECT name, wrapped FROM keyring ORDER BY name",
      "", "tb", 0}},
    {ST_CTL_INSERT,
     {"INSERT INTO controllers(id, name, created_at) VALUES (?1, ?2, ?3)",
      "tti", "", CU_STMT_WRITE}},
    {ST_CTL_GET,
     {"SELECT name FROM controllers WHERE id = ?1",
      "t", "t", 0}},
    {ST_CTL_EACH,
     {"SELECT id, name, created_at FROM controllers ORDER BY created_at, id",
      "", "tti", 0}},
    {ST_CTL_ROW,
     {"SELECT id, name, created_at, mac FROM controllers WHERE id = ?1",
      "t", "ttib", 0}},
    {ST_CTL_ROWS,
     {"SELECT id, name, created_at, mac FROM controllers ORDER BY created_at, id",
      "", "ttib", 0}},
    {ST_CTL_MAC,
     {"UPDATE controllers SET mac = ?2 WHERE id = ?1",
      "tb", "", CU_STMT_WRITE}},
    /* For `custos status`. */
    {ST_COUNTS,
     {"SELECT (SELECT count(*) FROM controllers), "
      "(SELECT count(*) FROM subjects WHERE erased_at IS NULL), "
      "(SELECT count(*) FROM subjects WHERE erased_at IS NOT NULL), "
      "(SELECT count(*) FROM items), (SELECT coalesce(max(seq), 0) FROM audit_events), "
      "(SELECT count(*) FROM audit_checkpoints)",
      "", "iiiiii", 0}},
    {ST_COUNT, {0}},
};
