/* sql_audit.c — the SQLite statements of one table family:
 * audit events, the signed head, checkpoints.
 * SQL, the shapes of parameters and columns, and flags (driver.h). */
#include "store/sqlite/sqlite_impl.h"

const cu_stmt_entry cu_sqlite_sql_audit[] = {
    {ST_AUDIT_LAST,
     {"SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
      "", "ib", 0}},
    {ST_AUDIT_INSERT,
     {"INSERT INTO audit_events(seq, ts, actor, subject_id, body, hash) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      "iittbb", "", CU_STMT_WRITE | CU_STMT_TRAIL}},
    {ST_AUDIT_EACH,
     {"SELECT seq, ts, actor, subject_id, body, hash FROM audit_events "
      "WHERE (?1 IS NULL OR subject_id = ?1) AND (?2 IS NULL OR actor = ?2) "
      "AND (?3 = 0 OR ts >= ?3) AND (?4 = 0 OR ts <= ?4) AND seq > ?5 "
      "ORDER BY seq LIMIT ?6",
      "ttiiii", "iittbb", 0}},
    /* One subject's events through the audit_subject index (subject_id, seq):
     * the generic statement's optional terms would make SQLite scan the trail. */
    {ST_AUDIT_SUBJECT,
     {"SELECT seq, ts, actor, subject_id, body, hash FROM audit_events "
      "WHERE subject_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
      "tii", "iittbb", 0}},
    /* The whole trail, for verification: no filter terms to test on every row. */
    {ST_AUDIT_ALL,
     {"SELECT seq, ts, actor, subject_id, body, hash FROM audit_events "
      "ORDER BY seq",
      "", "iittbb", 0}},
    {ST_HEAD_PUT,
     {"INSERT INTO audit_head(one, seq, signed_at, hash, sig, node) "
      "VALUES (1, ?1, ?2, ?3, ?4, ?5) ON CONFLICT(one) DO UPDATE SET "
      "seq = excluded.seq, signed_at = excluded.signed_at, "
      "hash = excluded.hash, sig = excluded.sig, node = excluded.node",
      "iibbt", "", CU_STMT_WRITE | CU_STMT_TRAIL}},
    {ST_HEAD_GET,
     {"SELECT seq, signed_at, hash, sig, node FROM audit_head WHERE one = 1",
      "", "iibbt", 0}},
    {ST_CKPT_ADD,
     {"INSERT INTO audit_checkpoints(seq, signed_at, hash, sig, node) "
      "VALUES (?1, ?2, ?3, ?4, ?5)",
      "iibbt", "", CU_STMT_WRITE | CU_STMT_TRAIL}},
    {ST_CKPT_LAST,
     {"SELECT coalesce(max(seq), 0) FROM audit_checkpoints",
      "", "i", 0}},
    {ST_CKPT_EACH,
     {"SELECT seq, signed_at, hash, sig, node FROM audit_checkpoints ORDER BY seq",
      "", "iibbt", 0}},
    {ST_COUNT, {0}},
};
