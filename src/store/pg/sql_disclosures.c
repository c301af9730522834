/* PostgreSQL statements: the disclosure log. */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE

#define DISCLOSURE_COLUMNS                                                                  \
    "id, subject_id, recipient_id, recipient, basis, purpose, channel, items, categories, " \
    "disclosed_at, recorded_at, recorded_by, note"
#define DISCLOSURE_SHAPE "tttbtttttiitb"

const cu_stmt_entry cu_pg_sql_disclosures[] = {
    {ST_DISC_INSERT, {"INSERT INTO disclosures(" DISCLOSURE_COLUMNS ") VALUES ($1, $2, $3, $4, "
                      "$5, $6, $7, $8, $9, $10, $11, $12, $13)",
                      DISCLOSURE_SHAPE, "", W}},
    {ST_DISC_EACH, {"SELECT " DISCLOSURE_COLUMNS " FROM disclosures WHERE subject_id = $1 "
                    "ORDER BY seq",
                    "t", DISCLOSURE_SHAPE, 0}},
    {ST_COUNT, {0}},
};
