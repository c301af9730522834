/* sql_policy.c — the SQLite statements of one table family:
 * policies.
 * SQL, the shapes of parameters and columns, and flags (driver.h). */
#include "store/sqlite/sqlite_impl.h"

const cu_stmt_entry cu_sqlite_sql_policy[] = {
    {ST_POL_ALL,
     {"SELECT controller_id, version, applied_at, applied_by, digest, document, "
      "mac FROM policies ORDER BY controller_id, version",
      "", "tiitbbb", 0}},
    {ST_POL_INSERT,
     {"INSERT INTO policies(controller_id, version, applied_at, applied_by, "
      "digest, document, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      "tiitbbb", "", CU_STMT_WRITE}},
    {ST_POL_GET,
     {"SELECT controller_id, version, applied_at, applied_by, digest, document, "
      "mac FROM policies WHERE controller_id = ?1 AND version = ?2",
      "ti", "tiitbbb", 0}},
    {ST_POL_CURRENT,
     {"SELECT controller_id, version, applied_at, applied_by, digest, "
      "document, mac FROM policies WHERE controller_id = ?1 "
      "ORDER BY version DESC LIMIT 1",
      "t", "tiitbbb", 0}},
    {ST_POL_EACH,
     {"SELECT controller_id, version, applied_at, applied_by, digest, NULL, mac "
      "FROM policies WHERE controller_id = ?1 ORDER BY version",
      "t", "tiitbbb", 0}},
    {ST_COUNT, {0}},
};
