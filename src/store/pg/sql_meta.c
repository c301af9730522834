/* PostgreSQL statements: transactions, store metadata, the keyring and
 * controllers. */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE

const cu_stmt_entry cu_pg_sql_meta[] = {
    /* The driver runs its own transaction commands (begin takes the writer
     * lock and reads the change counter); these are declared so that every
     * id has SQL on both backends. */
    {ST_BEGIN, {"BEGIN", "", "", 0}},
    {ST_COMMIT, {"COMMIT", "", "", 0}},
    {ST_ROLLBACK, {"ROLLBACK", "", "", 0}},
    {ST_SAVEPOINT, {"SAVEPOINT op", "", "", 0}},
    {ST_RELEASE, {"RELEASE SAVEPOINT op", "", "", 0}},
    {ST_ROLLBACK_TO, {"ROLLBACK TO SAVEPOINT op", "", "", 0}},
    {ST_META_GET, {"SELECT value FROM meta WHERE key = $1", "t", "b", 0}},
    {ST_META_PUT, {"INSERT INTO meta(key, value) VALUES ($1, $2) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   "tb", "", W}},
    {ST_KEYRING_GET, {"SELECT wrapped FROM keyring WHERE name = $1", "t", "b", 0}},
    {ST_KEYRING_PUT, {"INSERT INTO keyring(name, wrapped) VALUES ($1, $2) "
                      "ON CONFLICT(name) DO UPDATE SET wrapped = excluded.wrapped",
                      "tb", "", W}},
    {ST_KEYRING_EACH, {"SELECT name, wrapped FROM keyring ORDER BY name", "", "tb", 0}},
    {ST_CTL_INSERT, {"INSERT INTO controllers(id, name, created_at) VALUES ($1, $2, $3)",
                     "tti", "", W}},
    {ST_CTL_GET, {"SELECT name FROM controllers WHERE id = $1", "t", "t", 0}},
    {ST_CTL_EACH, {"SELECT id, name, created_at FROM controllers ORDER BY created_at, id", "",
                   "tti", 0}},
    {ST_CTL_ROW, {"SELECT id, name, created_at, mac FROM controllers WHERE id = $1", "t",
                  "ttib", 0}},
    {ST_CTL_ROWS, {"SELECT id, name, created_at, mac FROM controllers ORDER BY created_at, id",
                   "", "ttib", 0}},
    {ST_CTL_MAC, {"UPDATE controllers SET mac = $2 WHERE id = $1", "tb", "", W}},
    {ST_COUNTS, {"SELECT (SELECT count(*) FROM controllers), "
                 "(SELECT count(*) FROM subjects WHERE erased_at IS NULL), "
                 "(SELECT count(*) FROM subjects WHERE erased_at IS NOT NULL), "
                 "(SELECT count(*) FROM items), "
                 "(SELECT coalesce(max(seq), 0)::bigint FROM audit_events), "
                 "(SELECT count(*) FROM audit_checkpoints)",
                 "", "iiiiii", 0}},
    {ST_COUNT, {0}},
};
