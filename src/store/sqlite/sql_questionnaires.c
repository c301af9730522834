/* sql_questionnaires.c — the SQLite statements of one table family:
 * questionnaires (migration 9).
 * SQL, the shapes of parameters and columns, and flags (driver.h). */
#include "store/sqlite/sqlite_impl.h"

#define QN_COLUMNS "url, version, hash, document, status, added_at, added_by, mac"
#define QN_SHAPE "ttbbtitb"

const cu_stmt_entry cu_sqlite_sql_questionnaires[] = {
    {ST_QN_INSERT, {"INSERT INTO questionnaires(" QN_COLUMNS ") "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    QN_SHAPE, "", CU_STMT_WRITE}},
    {ST_QN_GET, {"SELECT " QN_COLUMNS " FROM questionnaires WHERE url = ?1 AND version = ?2",
                 "tt", QN_SHAPE, 0}},
    {ST_QN_LATEST, {"SELECT " QN_COLUMNS " FROM questionnaires WHERE url = ?1 "
                    "ORDER BY added_at DESC, version DESC LIMIT 1",
                    "t", QN_SHAPE, 0}},
    /* A list without the documents. */
    {ST_QN_EACH, {"SELECT url, version, hash, NULL, status, added_at, added_by, mac "
                  "FROM questionnaires ORDER BY url, added_at, version",
                  "", QN_SHAPE, 0}},
    {ST_QN_ALL, {"SELECT " QN_COLUMNS " FROM questionnaires ORDER BY url, added_at, version",
                 "", QN_SHAPE, 0}},
    /* custos verify --seal: the row's code recomputed. */
    {ST_QN_MAC, {"UPDATE questionnaires SET mac = ?3 WHERE url = ?1 AND version = ?2",
                 "ttb", "", CU_STMT_WRITE}},
    {ST_COUNT, {0}},
};
