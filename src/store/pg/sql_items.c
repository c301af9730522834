/* PostgreSQL statements: items and the blind index of identifiers. */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE

#define ITEM_COLUMNS                                                                        \
    "id, subject_id, category, field, source, recorded_by, collected_at, recorded_at, "     \
    "updated_at, value, version"
#define ITEM_SHAPE "ttttttiiibi"

const cu_stmt_entry cu_pg_sql_items[] = {
    {ST_ITEM_INSERT, {"INSERT INTO items(subject_id, id, category, field, source, "
                      "collected_at, recorded_by, recorded_at, updated_at, value, version) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                      "tttttitiibi", "", W}},
    /* Primary-key order: the index gives it without a sort. */
    {ST_ITEM_EACH, {"SELECT " ITEM_COLUMNS " FROM items WHERE subject_id = $1 ORDER BY id", "t",
                    ITEM_SHAPE, 0}},
    {ST_ITEM_GET, {"SELECT " ITEM_COLUMNS " FROM items WHERE subject_id = $1 AND id = $2", "tt",
                   ITEM_SHAPE, 0}},
    {ST_ITEM_UPDATE, {"UPDATE items SET value = $3, updated_at = $4, version = $5 "
                      "WHERE subject_id = $1 AND id = $2",
                      "ttbii", "", W}},
    {ST_ITEM_DELETE_SUBJ, {"DELETE FROM items WHERE subject_id = $1", "t", "", W}},
    {ST_IDENT_INSERT, {"INSERT INTO identifiers(kind, bidx, subject_id, item_id) "
                       "VALUES ($1, $2, $3, $4)",
                       "tbtt", "", W}},
    {ST_IDENT_FIND, {"SELECT subject_id, item_id FROM identifiers "
                     "WHERE kind = $1 AND bidx = $2 ORDER BY subject_id",
                     "tb", "tt", 0}},
    {ST_IDENT_DELETE_ITEM, {"DELETE FROM identifiers WHERE subject_id = $1 AND item_id = $2",
                            "tt", "", W}},
    {ST_IDENT_DELETE_SUBJ, {"DELETE FROM identifiers WHERE subject_id = $1", "t", "", W}},
    {ST_ITEM_DELETE, {"DELETE FROM items WHERE subject_id = $1 AND id = $2", "tt", "", W}},
    {ST_ITEM_RESEAL, {"UPDATE items SET value = $3, version = $4 "
                      "WHERE subject_id = $1 AND id = $2",
                      "ttbi", "", W}},
    /* Keyset pagination on the primary key: a page costs its own rows. */
    {ST_ITEM_PAGE, {"SELECT " ITEM_COLUMNS " FROM items WHERE subject_id = $1 AND id > $2 "
                    "ORDER BY id LIMIT $3",
                    "tti", ITEM_SHAPE, 0}},
    {ST_ITEM_NAMED, {"SELECT " ITEM_COLUMNS " FROM items WHERE subject_id = $1 "
                     "AND field IN ($2, $3, $4, $5, $6, $7, $8, $9) ORDER BY id",
                     "ttttttttt", ITEM_SHAPE, 0}},
    {ST_COUNT, {0}},
};
