/* PostgreSQL statements: clinical tasks. */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE

#define TASK_COLUMNS                                                                        \
    "id, controller_id, subject_id, kind, reason, detail, source, "                         \
    "coalesce(owner_user_id, ''), state, created_at, acked_by, acked_at, done_by, "         \
    "done_at, mac"
#define TASK_SHAPE "tttttbtttititib"

const cu_stmt_entry cu_pg_sql_tasks[] = {
    {ST_TASK_INSERT, {"INSERT INTO tasks(id, controller_id, subject_id, kind, reason, detail, "
                      "source, owner_user_id, state, created_at, acked_by, acked_at, done_by, "
                      "done_at, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, nullif($8, ''), $9, "
                      "$10, $11, $12, $13, $14, $15)",
                      TASK_SHAPE, "", W}},
    /* The whole row is passed; what cannot change is typed and ignored. */
    {ST_TASK_UPDATE, {"UPDATE tasks SET state = $9, acked_by = $11, acked_at = $12, "
                      "done_by = $13, done_at = $14, mac = $15 WHERE id = $1",
                      TASK_SHAPE, "", W}},
    {ST_TASK_GET, {"SELECT " TASK_COLUMNS " FROM tasks WHERE id = $1", "t", TASK_SHAPE, 0}},
    {ST_TASK_EACH, {"SELECT " TASK_COLUMNS " FROM tasks WHERE controller_id = $1 "
                    "ORDER BY kind = 'urgent' DESC, created_at, seq",
                    "t", TASK_SHAPE, 0}},
    {ST_TASK_COUNT, {"SELECT count(*) FROM tasks WHERE controller_id = $1", "t", "i", 0}},
    {ST_COUNT, {0}},
};
