/* sql_nodes.c — the PostgreSQL statements of one table family:
 * several nodes (node keys, the erasure ledger, once-per-cluster jobs).
 * SQL, the shapes of parameters and columns, and flags (driver.h). */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE
#define WA (CU_STMT_WRITE | CU_STMT_AUTH)

const cu_stmt_entry cu_pg_sql_nodes[] = {
    {ST_NODE_KEY_PUT, {"INSERT INTO node_keys(node, public_key, created_at, mac) "
                       "VALUES ($1, $2, $3, $4)", "tbib", "", W}},
    {ST_NODE_KEY_GET, {"SELECT node, public_key, created_at, mac FROM node_keys WHERE node = $1",
                       "t", "tbib", 0}},
    {ST_NODE_KEY_EACH, {"SELECT node, public_key, created_at, mac FROM node_keys ORDER BY node",
                        "", "tbib", 0}},
    {ST_NODE_KEY_MAC, {"UPDATE node_keys SET mac = $2 WHERE node = $1", "tb", "", W}},
    {ST_LEDGER_ADD, {"INSERT INTO erasure_ledger(seq, line) VALUES ($1, $2)", "it", "", W}},
    {ST_LEDGER_EACH, {"SELECT seq, line FROM erasure_ledger ORDER BY seq", "", "it", 0}},
    {ST_JOB_GET, {"SELECT due_at, last_run, node FROM jobs WHERE name = $1", "t", "iit", 0}},
    {ST_JOB_PUT, {"INSERT INTO jobs(name, due_at, last_run, node) VALUES ($1, $2, $3, $4) "
                  "ON CONFLICT(name) DO UPDATE SET due_at = excluded.due_at, "
                  "last_run = excluded.last_run, node = excluded.node",
                  "tiit", "", W}},
    {ST_SESS_PURGE, {"DELETE FROM sessions WHERE (revoked_at IS NOT NULL AND revoked_at < $1) "
                     "OR last_seen < $2 OR created_at < $3",
                     "iii", "", WA}},
    {ST_COUNT, {0}},
};
