/* PostgreSQL statements: policies, versioned per controller. */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE

#define POLICY_COLUMNS "controller_id, version, applied_at, applied_by, digest, document, mac"
#define POLICY_SHAPE "tiitbbb"

const cu_stmt_entry cu_pg_sql_policy[] = {
    {ST_POL_INSERT, {"INSERT INTO policies(" POLICY_COLUMNS ") "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     POLICY_SHAPE, "", W}},
    {ST_POL_GET, {"SELECT " POLICY_COLUMNS " FROM policies WHERE controller_id = $1 "
                  "AND version = $2",
                  "ti", POLICY_SHAPE, 0}},
    {ST_POL_CURRENT, {"SELECT " POLICY_COLUMNS " FROM policies WHERE controller_id = $1 "
                      "ORDER BY version DESC LIMIT 1",
                      "t", POLICY_SHAPE, 0}},
    /* A list without the documents. */
    {ST_POL_EACH, {"SELECT controller_id, version, applied_at, applied_by, digest, "
                   "NULL::bytea, mac FROM policies WHERE controller_id = $1 ORDER BY version",
                   "t", POLICY_SHAPE, 0}},
    {ST_POL_ALL, {"SELECT " POLICY_COLUMNS " FROM policies ORDER BY controller_id, version", "",
                  POLICY_SHAPE, 0}},
    {ST_MAC_POLICIES, {"UPDATE policies SET mac = $3 WHERE controller_id = $1 AND version = $2",
                       "tib", "", W}},
    {ST_COUNT, {0}},
};
