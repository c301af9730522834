/* PostgreSQL statements: staff accounts, sessions, API tokens, care lists
 * and break-glass grants. */
#include "store/pg/pg.h"

#define W CU_STMT_WRITE
#define WA (CU_STMT_WRITE | CU_STMT_AUTH)

#define USER_COLUMNS                                                                        \
    "id, controller_id, username, roles, pwhash, totp, totp_last_step, failures, "          \
    "locked_until, created_at, coalesce(disabled_at, 0), mac"
#define USER_SHAPE "tttttbiiiiib"
#define SESSION_COLUMNS                                                                     \
    "token_hash, user_id, created_at, last_seen, coalesce(revoked_at, 0), mac"
#define SESSION_SHAPE "btiiib"
#define TOKEN_COLUMNS                                                                       \
    "id, token_hash, controller_id, roles, name, created_at, coalesce(revoked_at, 0), mac"
#define TOKEN_SHAPE "tbtttiib"
#define CARE_COLUMNS "user_id, subject_id, added_at, added_by, mac"
#define CARE_SHAPE "ttitb"
#define BG_COLUMNS "id, user_id, subject_id, reason, granted_at, expires_at, mac"
#define BG_SHAPE "tttbiib"

const cu_stmt_entry cu_pg_sql_staff[] = {
    {ST_USER_INSERT, {"INSERT INTO users(id, controller_id, username, roles, pwhash, totp, "
                      "created_at, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                      "tttttbib", "", WA}},
    {ST_USER_BY_NAME, {"SELECT " USER_COLUMNS " FROM users WHERE username = $1", "t",
                       USER_SHAPE, 0}},
    {ST_USER_BY_ID, {"SELECT " USER_COLUMNS " FROM users WHERE id = $1", "t", USER_SHAPE, 0}},
    {ST_USER_UPDATE, {"UPDATE users SET roles = $2, pwhash = $3, totp = $4, "
                      "totp_last_step = $5, failures = $6, locked_until = $7, "
                      "disabled_at = nullif($8, 0), mac = $9 WHERE id = $1",
                      "tttbiiiib", "", WA}},
    {ST_USER_ALL, {"SELECT " USER_COLUMNS " FROM users ORDER BY id", "", USER_SHAPE, 0}},
    {ST_SESS_INSERT, {"INSERT INTO sessions(token_hash, user_id, created_at, last_seen, mac) "
                      "VALUES ($1, $2, $3, $3, $4)",
                      "btib", "", WA}},
    {ST_SESS_GET, {"SELECT " SESSION_COLUMNS " FROM sessions WHERE token_hash = $1", "b",
                   SESSION_SHAPE, 0}},
    /* last_seen and its code only: what the session stands for is unchanged. */
    {ST_SESS_TOUCH, {"UPDATE sessions SET last_seen = $2, mac = $3 WHERE token_hash = $1", "bib",
                     "", W}},
    {ST_SESS_REVOKE, {"UPDATE sessions SET revoked_at = $2, mac = $3 WHERE token_hash = $1 "
                      "AND revoked_at IS NULL",
                      "bib", "", WA}},
    {ST_SESS_OF_USER, {"SELECT " SESSION_COLUMNS " FROM sessions WHERE user_id = $1", "t",
                       SESSION_SHAPE, 0}},
    {ST_SESS_ALL, {"SELECT " SESSION_COLUMNS " FROM sessions ORDER BY token_hash", "",
                   SESSION_SHAPE, 0}},
    {ST_TOKEN_INSERT, {"INSERT INTO api_tokens(id, token_hash, controller_id, roles, name, "
                       "created_at, mac) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       "tbtttib", "", WA}},
    {ST_TOKEN_BY_HASH, {"SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE token_hash = $1", "b",
                        TOKEN_SHAPE, 0}},
    {ST_TOKEN_BY_ID, {"SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE id = $1", "t",
                      TOKEN_SHAPE, 0}},
    {ST_TOKEN_REVOKE, {"UPDATE api_tokens SET revoked_at = $2, mac = $3 WHERE id = $1 "
                       "AND revoked_at IS NULL",
                       "tib", "", WA}},
    {ST_TOKEN_ALL, {"SELECT " TOKEN_COLUMNS " FROM api_tokens ORDER BY id", "", TOKEN_SHAPE,
                    0}},
    {ST_CARE_ADD, {"INSERT INTO care_list(user_id, subject_id, added_at, added_by, mac) "
                   "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                   "ttitb", "", W}},
    {ST_CARE_REMOVE, {"DELETE FROM care_list WHERE user_id = $1 AND subject_id = $2", "tt", "",
                      W}},
    {ST_CARE_HAS, {"SELECT " CARE_COLUMNS " FROM care_list WHERE user_id = $1 "
                   "AND subject_id = $2",
                   "tt", CARE_SHAPE, 0}},
    {ST_CARE_ALL, {"SELECT " CARE_COLUMNS " FROM care_list ORDER BY user_id, subject_id", "",
                   CARE_SHAPE, 0}},
    {ST_BG_INSERT, {"INSERT INTO break_glass(id, user_id, subject_id, reason, granted_at, "
                    "expires_at, mac) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    BG_SHAPE, "", W}},
    {ST_BG_ACTIVE, {"SELECT " BG_COLUMNS " FROM break_glass WHERE user_id = $1 "
                    "AND subject_id = $2 AND expires_at > $3 ORDER BY expires_at DESC",
                    "tti", BG_SHAPE, 0}},
    {ST_BG_EACH, {"SELECT b.id, b.user_id, b.subject_id, b.reason, b.granted_at, "
                  "b.expires_at, b.mac, u.username FROM break_glass b "
                  "JOIN users u ON u.id = b.user_id "
                  "WHERE u.controller_id = $1 AND b.granted_at >= $2 ORDER BY b.granted_at",
                  "ti", BG_SHAPE "t", 0}},
    {ST_BG_ALL, {"SELECT " BG_COLUMNS " FROM break_glass ORDER BY id", "", BG_SHAPE, 0}},
    {ST_BG_SUBJECT, {"SELECT " BG_COLUMNS " FROM break_glass WHERE subject_id = $1 ORDER BY id",
                     "t", BG_SHAPE, 0}},
    {ST_BG_REASON, {"UPDATE break_glass SET reason = $2, mac = $3 WHERE id = $1", "tbb", "", W}},
    /* Row codes: (key, second key or number, code), as the store binds them;
     * a parameter a table's key does not need is typed and ignored. */
    {ST_MAC_USERS, {"UPDATE users SET mac = $3 WHERE id = $1", "tib", "", WA}},
    {ST_MAC_SESSIONS, {"UPDATE sessions SET mac = $3 WHERE token_hash = $1", "bib", "", W}},
    {ST_MAC_TOKENS, {"UPDATE api_tokens SET mac = $3 WHERE id = $1", "tib", "", WA}},
    {ST_MAC_CARE, {"UPDATE care_list SET mac = $3 WHERE user_id = $1 AND subject_id = $2", "ttb",
                   "", W}},
    {ST_MAC_BG, {"UPDATE break_glass SET mac = $3 WHERE id = $1", "tib", "", W}},
    {ST_COUNT, {0}},
};
