/* sql_pathways.c — the SQLite statements of one table family: follow-up
 * pathways, enrolments and occurrences (migration 12).
 * SQL, the shapes of parameters and columns, and flags (driver.h). */
#include "store/sqlite/sqlite_impl.h"

#define PW_COLUMNS "id, version, hash, document, added_at, added_by, mac"
#define PW_SHAPE "ttbbitb"
#define ENR_COLUMNS                                                                         \
    "id, controller_id, subject_id, pathway_id, pathway_version, start_date, purpose, "     \
    "occurrences, enrolled_by, enrolled_at, discharged_by, discharged_at, mac"
#define ENR_SHAPE "tttttttititib"
#define OCC_COLUMNS "enrolment_id, n, due_date, state, ref, changed_at, mac"
#define OCC_SHAPE "titttib"

const cu_stmt_entry cu_sqlite_sql_pathways[] = {
    {ST_PW_INSERT, {"INSERT INTO pathways(" PW_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    PW_SHAPE, "", CU_STMT_WRITE}},
    {ST_PW_GET, {"SELECT " PW_COLUMNS " FROM pathways WHERE id = ?1 AND version = ?2", "tt",
                 PW_SHAPE, 0}},
    {ST_PW_LATEST, {"SELECT " PW_COLUMNS " FROM pathways WHERE id = ?1 "
                    "ORDER BY added_at DESC, version DESC LIMIT 1",
                    "t", PW_SHAPE, 0}},
    {ST_PW_ALL, {"SELECT " PW_COLUMNS " FROM pathways ORDER BY id, added_at, version", "",
                 PW_SHAPE, 0}},
    {ST_PW_MAC, {"UPDATE pathways SET mac = ?3 WHERE id = ?1 AND version = ?2", "ttb", "",
                 CU_STMT_WRITE}},
    {ST_ENR_INSERT, {"INSERT INTO enrolments(" ENR_COLUMNS ") "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                     ENR_SHAPE, "", CU_STMT_WRITE}},
    /* The whole row is passed; only the discharge and the code change. */
    {ST_ENR_UPDATE, {"UPDATE enrolments SET discharged_by = ?11, discharged_at = ?12, "
                     "mac = ?13 WHERE id = ?1",
                     ENR_SHAPE, "", CU_STMT_WRITE}},
    {ST_ENR_OF_SUBJECT, {"SELECT " ENR_COLUMNS " FROM enrolments WHERE subject_id = ?1 "
                         "ORDER BY seq",
                         "t", ENR_SHAPE, 0}},
    {ST_ENR_EACH, {"SELECT " ENR_COLUMNS " FROM enrolments WHERE controller_id = ?1 "
                   "ORDER BY seq",
                   "t", ENR_SHAPE, 0}},
    {ST_ENR_ALL, {"SELECT " ENR_COLUMNS " FROM enrolments ORDER BY seq", "", ENR_SHAPE, 0}},
    {ST_ENR_COUNT, {"SELECT count(*) FROM enrolments WHERE controller_id = ?1", "t", "i", 0}},
    {ST_OCC_INSERT, {"INSERT INTO pathway_occurrences(" OCC_COLUMNS ") "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                     OCC_SHAPE, "", CU_STMT_WRITE}},
    {ST_OCC_UPDATE, {"UPDATE pathway_occurrences SET state = ?4, ref = ?5, changed_at = ?6, "
                     "mac = ?7 WHERE enrolment_id = ?1 AND n = ?2",
                     OCC_SHAPE, "", CU_STMT_WRITE}},
    {ST_OCC_OF_ENR, {"SELECT " OCC_COLUMNS " FROM pathway_occurrences WHERE enrolment_id = ?1 "
                     "ORDER BY n",
                     "t", OCC_SHAPE, 0}},
    {ST_OCC_ALL, {"SELECT " OCC_COLUMNS " FROM pathway_occurrences ORDER BY enrolment_id, n",
                  "", OCC_SHAPE, 0}},
    {ST_COUNT, {0}},
};
