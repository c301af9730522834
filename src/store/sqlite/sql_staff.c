/* sql_staff.c — the SQLite statements of one table family:
 * users, sessions, API tokens, care lists, break-glass grants, row codes.
 * SQL, the shapes of parameters and columns, and flags (driver.h). */
#include "store/sqlite/sqlite_impl.h"

#define USER_COLUMNS                                                                        \
    "id, controller_id, username, roles, pwhash, totp, totp_last_step, failures, "          \
    "locked_until, created_at, coalesce(disabled_at, 0), mac"

#define SESSION_COLUMNS                                                                     \
    "token_hash, user_id, created_at, last_seen, coalesce(revoked_at, 0), mac"

#define TOKEN_COLUMNS                                                                       \
    "id, token_hash, controller_id, roles, name, created_at, coalesce(revoked_at, 0), mac"

#define BG_COLUMNS "id, user_id, subject_id, reason, granted_at, expires_at, mac"

const cu_stmt_entry cu_sqlite_sql_staff[] = {
    {ST_USER_INSERT,
     {"INSERT INTO users(id, controller_id, username, roles, pwhash, totp, "
      "created_at, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
      "tttttbib", "", CU_STMT_WRITE | CU_STMT_AUTH}},
    {ST_USER_BY_NAME,
     {"SELECT " USER_COLUMNS " FROM users WHERE username = ?1",
      "t", "tttttbiiiiib", 0}},
    {ST_USER_BY_ID,
     {"SELECT " USER_COLUMNS " FROM users WHERE id = ?1",
      "t", "tttttbiiiiib", 0}},
    {ST_USER_UPDATE,
     {"UPDATE users SET roles = ?2, pwhash = ?3, totp = ?4, totp_last_step = ?5, "
      "failures = ?6, locked_until = ?7, disabled_at = nullif(?8, 0), "
      "mac = ?9 WHERE id = ?1",
      "tttbiiiib", "", CU_STMT_WRITE | CU_STMT_AUTH}},
    {ST_USER_ALL,
     {"SELECT " USER_COLUMNS " FROM users ORDER BY id",
      "", "tttttbiiiiib", 0}},
    {ST_SESS_INSERT,
     {"INSERT INTO sessions(token_hash, user_id, created_at, last_seen, mac) "
      "VALUES (?1, ?2, ?3, ?3, ?4)",
      "btib", "", CU_STMT_WRITE | CU_STMT_AUTH}},
    {ST_SESS_GET,
     {"SELECT " SESSION_COLUMNS " FROM sessions WHERE token_hash = ?1",
      "b", "btiiib", 0}},
    {ST_SESS_TOUCH,
     {"UPDATE sessions SET last_seen = ?2, mac = ?3 WHERE token_hash = ?1",
      "bib", "", CU_STMT_WRITE}},
    {ST_SESS_REVOKE,
     {"UPDATE sessions SET revoked_at = ?2, mac = ?3 WHERE token_hash = ?1 "
      "AND revoked_at IS NULL",
      "bib", "", CU_STMT_WRITE | CU_STMT_AUTH}},
    {ST_SESS_OF_USER,
     {"SELECT " SESSION_COLUMNS " FROM sessions WHERE user_id = ?1",
      "t", "btiiib", 0}},
    {ST_SESS_ALL,
     {"SELECT " SESSION_COLUMNS " FROM sessions ORDER BY token_hash",
      "", "btiiib", 0}},
    {ST_TOKEN_INSERT,
     {"INSERT INTO api_tokens(id, token_hash, controller_id, roles, name, "
      "created_at, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      "tbtttib", "", CU_STMT_WRITE | CU_STMT_AUTH}},
    {ST_TOKEN_BY_HASH,
     {"SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE token_hash = ?1",
      "b", "tbtttiib", 0}},
    {ST_TOKEN_BY_ID,
     {"SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE id = ?1",
      "t", "tbtttiib", 0}},
    {ST_TOKEN_REVOKE,
     {"UPDATE api_tokens SET revoked_at = ?2, mac = ?3 WHERE id = ?1 "
      "AND revoked_at IS NULL",
      "tib", "", CU_STMT_WRITE | CU_STMT_AUTH}},
    {ST_TOKEN_ALL,
     {"SELECT " TOKEN_COLUMNS " FROM api_tokens ORDER BY id",
      "", "tbtttiib", 0}},
    {ST_CARE_ADD,
     {"INSERT INTO care_list(user_id, subject_id, added_at, added_by, mac) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
      "ttitb", "", CU_STMT_WRITE}},
    {ST_CARE_REMOVE,
     {"DELETE FROM care_list WHERE user_id = ?1 AND subject_id = ?2",
      "tt", "", CU_STMT_WRITE}},
    {ST_CARE_HAS,
     {"SELECT user_id, subject_id, added_at, added_by, mac FROM care_list "
      "WHERE user_id = ?1 AND subject_id = ?2",
      "tt", "ttitb", 0}},
    {ST_CARE_ALL,
     {"SELECT user_id, subject_id, added_at, added_by, mac FROM care_list "
      "ORDER BY user_id, subject_id",
      "", "ttitb", 0}},
    {ST_BG_INSERT,
     {"INSERT INTO break_glass(id, user_id, subject_id, reason, granted_at, "
      "expires_at, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      "tttbiib", "", CU_STMT_WRITE}},
    {ST_BG_ACTIVE,
     {"SELECT " BG_COLUMNS " FROM break_glass WHERE user_id = ?1 "
      "AND subject_id = ?2 AND expires_at > ?3 ORDER BY expires_at DESC",
      "tti", "tttbiib", 0}},
    {ST_BG_EACH,
     {"SELECT b.id, b.user_id, b.subject_id, b.reason, b.granted_at, "
      "b.expires_at, b.mac, u.username FROM break_glass b "
      "JOIN users u ON u.id = b.user_id "
      "WHERE u.controller_id = ?1 AND b.granted_at >= ?2 ORDER BY b.granted_at",
      "ti", "tttbiibt", 0}},
    {ST_BG_ALL,
     {"SELECT " BG_COLUMNS " FROM break_glass ORDER BY id",
      "", "tttbiib", 0}},
    {ST_MAC_USERS,
     {"UPDATE users SET mac = ?3 WHERE id = ?1",
      "tib", "", CU_STMT_WRITE | CU_STMT_AUTH}},
    {ST_MAC_SESSIONS,
     {"UPDATE sessions SET mac = ?3 WHERE token_hash = ?1",
      "bib", "", CU_STMT_WRITE}},
    {ST_MAC_TOKENS,
     {"UPDATE api_tokens SET mac = ?3 WHERE id = ?1",
      "tib", "", CU_STMT_WRITE | CU_STMT_AUTH}},
    {ST_MAC_CARE,
     {"UPDATE care_list SET mac = ?3 WHERE user_id = ?1 AND subject_id = ?2",
      "ttb", "", CU_STMT_WRITE}},
    {ST_MAC_BG,
     {"UPDATE break_glass SET mac = ?3 WHERE id = ?1",
      "tib", "", CU_STMT_WRITE}},
    {ST_MAC_POLICIES,
     {"UPDATE policies SET mac = ?3 WHERE controller_id = ?1 AND version = ?2",
      "tib", "", CU_STMT_WRITE}},
    {ST_MAC_UNSUB,
     {"UPDATE unsubscribe_links SET mac = ?3 WHERE token_hash = ?1",
      "bib", "", CU_STMT_WRITE}},
    {ST_MAC_CONSENTS,
     {"UPDATE consents SET mac = ?3 WHERE id = ?1",
      "tib", "", CU_STMT_WRITE}},
    {ST_MAC_OBJECTIONS,
     {"UPDATE objections SET mac = ?3 WHERE seq = ?2 AND ?1 IS NOT NULL",
      "tib", "", CU_STMT_WRITE}},
    {ST_MAC_REQUESTS,
     {"UPDATE requests SET mac = ?3 WHERE id = ?1",
      "tib", "", CU_STMT_WRITE}},
    {ST_BG_SUBJECT,
     {"SELECT " BG_COLUMNS " FROM break_glass WHERE subject_id = ?1 ORDER BY id",
      "t", "tttbiib", 0}},
    {ST_BG_REASON,
     {"UPDATE break_glass SET reason = ?2, mac = ?3 WHERE id = ?1",
      "tbb", "", CU_STMT_WRITE}},
    {ST_COUNT, {0}},
};
