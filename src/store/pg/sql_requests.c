/* PostgreSQL statements: rights requests, their pauses and events. */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE

#define REQUEST_COLUMNS                                                                     \
    "id, controller_id, kind, channel, state, paused_from, subject_id, purpose, "           \
    "received_on, evidence_on, extended, told_on, grounds, closed_on, created_at, "         \
    "updated_at, complaint_route, mac"
#define REQUEST_SHAPE "ttttttttttitttiitb"

const cu_stmt_entry cu_pg_sql_requests[] = {
    {ST_RQ_INSERT, {"INSERT INTO requests(" REQUEST_COLUMNS ") VALUES "
                    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
                    "$17, $18)",
                    REQUEST_SHAPE, "", W}},
    /* The whole row is passed; what cannot change is typed and ignored. */
    {ST_RQ_UPDATE, {"UPDATE requests SET state = $5, paused_from = $6, subject_id = $7, "
                    "purpose = $8, evidence_on = $10, extended = $11, told_on = $12, "
                    "grounds = $13, closed_on = $14, updated_at = $16, complaint_route = $17, "
                    "mac = $18 WHERE id = $1",
                    REQUEST_SHAPE, "", W}},
    {ST_RQ_GET, {"SELECT " REQUEST_COLUMNS " FROM requests WHERE id = $1", "t", REQUEST_SHAPE,
                 0}},
    {ST_RQ_EACH, {"SELECT " REQUEST_COLUMNS " FROM requests WHERE ($1 = 0 OR state NOT IN "
                  "('fulfilled','refused','withdrawn')) ORDER BY received_on, created_at",
                  "i", REQUEST_SHAPE, 0}},
    {ST_RQ_EACH_CTL, {"SELECT " REQUEST_COLUMNS " FROM requests WHERE controller_id = $2 AND "
                      "($1 = 0 OR state NOT IN ('fulfilled','refused','withdrawn')) "
                      "ORDER BY received_on, created_at",
                      "it", REQUEST_SHAPE, 0}},
    {ST_RQ_PAUSE_OPEN, {"INSERT INTO request_pauses(request_id, paused_on) VALUES ($1, $2)",
                        "tt", "", W}},
    {ST_RQ_PAUSE_CLOSE, {"UPDATE request_pauses SET resumed_on = $2 "
                         "WHERE request_id = $1 AND resumed_on IS NULL",
                         "tt", "", W}},
    {ST_RQ_PAUSES, {"SELECT paused_on, coalesce(resumed_on, '') FROM request_pauses "
                    "WHERE request_id = $1 ORDER BY seq",
                    "t", "tt", 0}},
    {ST_RQ_EV_INSERT, {"INSERT INTO request_events(id, request_id, at, on_date, actor, action, "
                       "from_state, to_state, sealed_by, why) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                       "ttittttttb", "", W}},
    {ST_RQ_EV_EACH, {"SELECT id, request_id, at, on_date, actor, action, "
                     "coalesce(from_state, ''), to_state, sealed_by, why, seq "
                     "FROM request_events WHERE request_id = $1 ORDER BY seq",
                     "t", "ttittttttbi", 0}},
    {ST_RQ_EV_RESEAL, {"UPDATE request_events SET sealed_by = $2, why = $3 WHERE id = $1", "ttb",
                       "", W}},
    {ST_MAC_REQUESTS, {"UPDATE requests SET mac = $3 WHERE id = $1", "tib", "", W}},
    {ST_COUNT, {0}},
};
