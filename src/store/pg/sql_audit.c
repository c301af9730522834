/* PostgreSQL statements: the audit trail, its signed head and checkpoints. */
#include "store/pg/pg.h"

#define WT (CU_STMT_WRITE | CU_STMT_TRAIL)

#define AUDIT_COLUMNS "seq, ts, actor, subject_id, body, hash"
#define AUDIT_SHAPE "iittbb"

const cu_stmt_entry cu_pg_sql_audit[] = {
    {ST_AUDIT_LAST, {"SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", "", "ib",
                     0}},
    {ST_AUDIT_INSERT, {"INSERT INTO audit_events(seq, ts, actor, subject_id, body, hash) "
                       "VALUES ($1, $2, $3, $4, $5, $6)",
                       "iittbb", "", WT}},
    /* A negative limit is no limit (LIMIT NULL), as on SQLite. */
    {ST_AUDIT_EACH, {"SELECT " AUDIT_COLUMNS " FROM audit_events "
                     "WHERE ($1 IS NULL OR subject_id = $1) AND ($2 IS NULL OR actor = $2) "
                     "AND ($3 = 0 OR ts >= $3) AND ($4 = 0 OR ts <= $4) AND seq > $5 "
                     "ORDER BY seq LIMIT (CASE WHEN $6 < 0 THEN NULL ELSE $6 END)",
                     "ttiiii", AUDIT_SHAPE, 0}},
    /* One subject's events through the audit_subject index (subject_id, seq). */
    {ST_AUDIT_SUBJECT, {"SELECT " AUDIT_COLUMNS " FROM audit_events "
                        "WHERE subject_id = $1 AND seq > $2 ORDER BY seq "
                        "LIMIT (CASE WHEN $3 < 0 THEN NULL ELSE $3 END)",
                        "tii", AUDIT_SHAPE, 0}},
    /* The whole trail, for verification. */
    {ST_AUDIT_ALL, {"SELECT " AUDIT_COLUMNS " FROM audit_events ORDER BY seq", "", AUDIT_SHAPE,
                    0}},
    {ST_HEAD_PUT, {"INSERT INTO audit_head(one, seq, signed_at, hash, sig, node) "
                   "VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT(one) DO UPDATE SET "
                   "seq = excluded.seq, signed_at = excluded.signed_at, "
                   "hash = excluded.hash, sig = excluded.sig, node = excluded.node",
                   "iibbt", "", WT}},
    {ST_HEAD_GET, {"SELECT seq, signed_at, hash, sig, node FROM audit_head WHERE one = 1", "",
                   "iibbt", 0}},
    {ST_CKPT_ADD, {"INSERT INTO audit_checkpoints(seq, signed_at, hash, sig, node) "
                   "VALUES ($1, $2, $3, $4, $5)",
                   "iibbt", "", WT}},
    {ST_CKPT_LAST, {"SELECT coalesce(max(seq), 0)::bigint FROM audit_checkpoints", "", "i", 0}},
    {ST_CKPT_EACH, {"SELECT seq, signed_at, hash, sig, node FROM audit_checkpoints "
                    "ORDER BY seq", "", "iibbt", 0}},
    {ST_COUNT, {0}},
};
