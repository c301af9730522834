/* sql_portal.c — the SQLite statements of one table family: the patient
 * portal's invitations, accounts and sessions (migration 13) and its cookie
 * choices (migration 14). SQL, the shapes of parameters and columns, and
 * flags (driver.h). */
#include "store/sqlite/sqlite_impl.h"

#define PI_COLUMNS                                                                          \
    "token_hash, id, controller_id, subject_id, issued_by, issued_at, expires_at, used_at, " \
    "mac"
#define PI_SHAPE "bttttiiib"
#define PA_COLUMNS                                                                          \
    "subject_id, controller_id, name, pwhash, failures, locked_until, created_at, "         \
    "updated_at, mac"
#define PA_SHAPE "ttttiiiib"
#define PS_COLUMNS "token_hash, subject_id, created_at, last_seen, mac"
#define PS_SHAPE "btiib"
#define PC_COLUMNS                                                                          \
    "id, controller_id, subject_id, visitor_hash, choice, policy_version, chosen_at, mac"
#define PC_SHAPE "tttbtiib"

const cu_stmt_entry cu_sqlite_sql_portal[] = {
    {ST_PI_INSERT, {"INSERT INTO portal_invitations(" PI_COLUMNS ") "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    PI_SHAPE, "", CU_STMT_WRITE}},
    {ST_PI_GET, {"SELECT " PI_COLUMNS " FROM portal_invitations WHERE token_hash = ?1", "b",
                 PI_SHAPE, 0}},
    /* The whole row is passed; only an invitation not used yet is marked. */
    {ST_PI_USE, {"UPDATE portal_invitations SET used_at = ?8, mac = ?9 "
                 "WHERE token_hash = ?1 AND used_at = 0",
                 PI_SHAPE, "", CU_STMT_WRITE}},
    {ST_PI_ALL, {"SELECT " PI_COLUMNS " FROM portal_invitations ORDER BY token_hash", "",
                 PI_SHAPE, 0}},
    {ST_PI_MAC, {"UPDATE portal_invitations SET mac = ?2 WHERE token_hash = ?1", "bb", "",
                 CU_STMT_WRITE}},
    /* One account per subject: a new password replaces the row's. */
    {ST_PA_PUT, {"INSERT INTO portal_accounts(" PA_COLUMNS ") "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                 "ON CONFLICT(subject_id) DO UPDATE SET controller_id = ?2, name = ?3, "
                 "pwhash = ?4, failures = ?5, locked_until = ?6, created_at = ?7, "
                 "updated_at = ?8, mac = ?9",
                 PA_SHAPE, "", CU_STMT_WRITE}},
    {ST_PA_GET, {"SELECT " PA_COLUMNS " FROM portal_accounts WHERE subject_id = ?1", "t",
                 PA_SHAPE, 0}},
    {ST_PA_BY_NAME, {"SELECT " PA_COLUMNS " FROM portal_accounts WHERE name = ?1", "t",
                     PA_SHAPE, 0}},
    {ST_PA_ALL, {"SELECT " PA_COLUMNS " FROM portal_accounts ORDER BY subject_id", "",
                 PA_SHAPE, 0}},
    {ST_PA_MAC, {"UPDATE portal_accounts SET mac = ?2 WHERE subject_id = ?1", "tb", "",
                 CU_STMT_WRITE}},
    /* Erasure: nothing of the portal is left for an erased subject. */
    {ST_PI_DELETE_SUBJECT, {"DELETE FROM portal_invitations WHERE subject_id = ?1", "t", "",
                            CU_STMT_WRITE}},
    {ST_PA_DELETE, {"DELETE FROM portal_accounts WHERE subject_id = ?1", "t", "",
                    CU_STMT_WRITE}},
    {ST_PS_INSERT, {"INSERT INTO portal_sessions(" PS_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5)",
                    PS_SHAPE, "", CU_STMT_WRITE}},
    {ST_PS_GET, {"SELECT " PS_COLUMNS " FROM portal_sessions WHERE token_hash = ?1", "b",
                 PS_SHAPE, 0}},
    {ST_PS_TOUCH, {"UPDATE portal_sessions SET last_seen = ?4, mac = ?5 WHERE token_hash = ?1",
                   PS_SHAPE, "", CU_STMT_WRITE}},
    {ST_PS_DELETE, {"DELETE FROM portal_sessions WHERE token_hash = ?1", "b", "", CU_STMT_WRITE}},
    {ST_PS_DELETE_SUBJECT, {"DELETE FROM portal_sessions WHERE subject_id = ?1", "t", "",
                            CU_STMT_WRITE}},
    /* the session-purge job: sessions past their idle or absolute limit */
    {ST_PS_PURGE, {"DELETE FROM portal_sessions WHERE last_seen < ?1 OR created_at < ?2", "ii",
                   "", CU_STMT_WRITE}},
    /* The portal's cookie choices: never updated, the latest in force. */
    {ST_PCK_INSERT, {"INSERT INTO portal_cookie_choices(" PC_COLUMNS ") "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                     PC_SHAPE, "", CU_STMT_WRITE}},
    {ST_PCK_LATEST_SUBJECT, {"SELECT " PC_COLUMNS " FROM portal_cookie_choices "
                             "WHERE subject_id = ?1 AND controller_id = ?2 "
                             "ORDER BY chosen_at DESC, id DESC LIMIT 1",
                             "tt", PC_SHAPE, 0}},
    {ST_PCK_LATEST_VISITOR, {"SELECT " PC_COLUMNS " FROM portal_cookie_choices "
                             "WHERE visitor_hash = ?1 AND controller_id = ?2 "
                             "ORDER BY chosen_at DESC, id DESC LIMIT 1",
                             "bt", PC_SHAPE, 0}},
    {ST_PCK_ALL, {"SELECT " PC_COLUMNS " FROM portal_cookie_choices ORDER BY id", "", PC_SHAPE,
                  0}},
    {ST_PCK_MAC, {"UPDATE portal_cookie_choices SET mac = ?2 WHERE id = ?1", "tb", "",
                  CU_STMT_WRITE}},
    /* Erasure: a subject's choices go with them. */
    {ST_PCK_DELETE_SUBJECT, {"DELETE FROM portal_cookie_choices WHERE subject_id = ?1", "t",
                             "", CU_STMT_WRITE}},
    {ST_COUNT, {0}},
};
