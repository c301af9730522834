/* sql_disclosures.c — the SQLite statements of one table family:
 * the disclosure log.
 * SQL, the shapes of parameters and columns, and flags (driver.h). */
#include "store/sqlite/sqlite_impl.h"

const cu_stmt_entry cu_sqlite_sql_disclosures[] = {
    {ST_DISC_INSERT,
     {"INSERT INTO disclosures(id, subject_id, recipient_id, recipient, basis, "
      "purpose, channel, items, categories, disclosed_at, recorded_at, "
      "recorded_by, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
      "?11, ?12, ?13)",
      "tttbtttttiitb", "", CU_STMT_WRITE}},
    {ST_DISC_EACH,
     {"SELECT id, subject_id, recipient_id, recipient, basis, purpose, channel, "
      "items, categories, disclosed_at, recorded_at, recorded_by, note "
      "FROM disclosures WHERE subject_id = ?1 ORDER BY seq",
      "t", "tttbtttttiitb", 0}},
    {ST_COUNT, {0}},
};
