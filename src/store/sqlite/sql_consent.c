/* sql_consent.c — the SQLite statements of one table family:
 * consent records, unsubscribe links.
 * SQL, the shapes of parameters and columns, and flags (driver.h). */
#include "store/sqlite/sqlite_impl.h"

#define CONSENT_COLUMNS                                                                     \
    "id, subject_id, purpose, state, method, recorded_by, policy_version, at, evidence, mac"

#define UNSUB_COLUMNS                                                                       \
    "token_hash, subject_id, purpose, created_at, coalesce(used_at, 0), mac"

const cu_stmt_entry cu_sqlite_sql_consent[] = {
    {ST_CONSENT_ALL,
     {"SELECT " CONSENT_COLUMNS " FROM consents ORDER BY seq",
      "", "ttttttiibb", 0}},
    {ST_UNSUB_ALL,
     {"SELECT " UNSUB_COLUMNS " FROM unsubscribe_links ORDER BY token_hash",
      "", "bttiib", 0}},
    {ST_CONSENT_EVIDENCE,
     {"UPDATE consents SET evidence = ?2, mac = ?3 WHERE id = ?1",
      "tbb", "", CU_STMT_WRITE}},
    {ST_CONSENT_INSERT,
     {"INSERT INTO consents(id, subject_id, purpose, state, method, "
      "recorded_by, policy_version, at, evidence, mac) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      "ttttttiibb", "", CU_STMT_WRITE}},
    {ST_CONSENT_LATEST,
     {"SELECT " CONSENT_COLUMNS " FROM consents WHERE subject_id = ?1 "
      "AND purpose = ?2 ORDER BY seq DESC LIMIT 1",
      "tt", "ttttttiibb", 0}},
    {ST_CONSENT_COUNT,
     {"SELECT count(*) FROM consents WHERE subject_id = ?1",
      "t", "i", 0}},
    {ST_CONSENT_EACH,
     {"SELECT " CONSENT_COLUMNS " FROM consents WHERE subject_id = ?1 " "ORDER BY seq",
      "t", "ttttttiibb", 0}},
    {ST_CONSENT_GET,
     {"SELECT " CONSENT_COLUMNS " FROM consents WHERE id = ?1",
      "t", "ttttttiibb", 0}},
    {ST_UNSUB_INSERT,
     {"INSERT INTO unsubscribe_links(token_hash, subject_id, purpose, mac, "
      "created_at) VALUES (?1, ?2, ?3, ?5, ?4)",
      "bttib", "", CU_STMT_WRITE}},
    {ST_UNSUB_USE,
     {"UPDATE unsubscribe_links SET used_at = ?2, mac = ?3 WHERE token_hash = ?1 "
      "AND used_at IS NULL",
      "bib", "", CU_STMT_WRITE}},
    {ST_UNSUB_PEEK,
     {"SELECT " UNSUB_COLUMNS " FROM unsubscribe_links WHERE token_hash = ?1",
      "b", "bttiib", 0}},
    {ST_COUNT, {0}},
};
