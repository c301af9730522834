/* PostgreSQL statements: questionnaire links (migration 10). */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE

#define QL_COLUMNS                                                                          \
    "token_hash, id, controller_id, subject_id, url, version, purpose, issued_by, "         \
    "issued_at, expires_at, used_at, response_id, mac"
#define QL_SHAPE "btttttttiiitb"

const cu_stmt_entry cu_pg_sql_qlinks[] = {
    {ST_QL_INSERT, {"INSERT INTO questionnaire_links(" QL_COLUMNS ") "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    QL_SHAPE, "", W}},
    {ST_QL_GET, {"SELECT " QL_COLUMNS " FROM questionnaire_links WHERE token_hash = $1", "b",
                 QL_SHAPE, 0}},
    /* The whole row is passed; what cannot change is typed and ignored. */
    {ST_QL_USE, {"UPDATE questionnaire_links SET used_at = $11, response_id = $12, mac = $13 "
                 "WHERE token_hash = $1 AND used_at = 0",
                 QL_SHAPE, "", W}},
    {ST_QL_ALL, {"SELECT " QL_COLUMNS " FROM questionnaire_links ORDER BY token_hash", "",
                 QL_SHAPE, 0}},
    {ST_QL_MAC, {"UPDATE questionnaire_links SET mac = $2 WHERE token_hash = $1", "bb", "", W}},
    {ST_QL_OPEN_OF_SUBJECT, {"SELECT " QL_COLUMNS " FROM questionnaire_links "
                             "WHERE subject_id = $1 AND used_at = 0 ORDER BY token_hash",
                             "t", QL_SHAPE, 0}},
    {ST_QL_OF_SUBJECT, {"SELECT " QL_COLUMNS " FROM questionnaire_links "
                         "WHERE subject_id = $1 ORDER BY issued_at, id",
                         "t", QL_SHAPE, 0}},
    {ST_COUNT, {0}},
};
