/* sql_tx.c — the SQLite transaction statements (begin, commit, rollback,
 * savepoints), which the driver runs itself: SQL, the shapes of parameters
 * and columns, and flags (driver.h). */
#include "store/sqlite/sqlite_impl.h"

const cu_stmt_entry cu_sqlite_sql_tx[] = {
    {ST_BEGIN,
     {"BEGIN IMMEDIATE",
      "", "", 0}},
    {ST_COMMIT,
     {"COMMIT",
      "", "", 0}},
    {ST_ROLLBACK,
     {"ROLLBACK",
      "", "", 0}},
    {ST_SAVEPOINT,
     {"SAVEPOINT op",
      "", "", 0}},
    {ST_RELEASE,
     {"RELEASE op",
      "", "", 0}},
    {ST_ROLLBACK_TO,
     {"ROLLBACK TO op",
      "", "", 0}},
    {ST_COUNT, {0}},
};
