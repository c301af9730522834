#include "store/store.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/fault.h"
#include "store/schema.h"
#include "store/stmt.h"

#define SUBJECT_COLUMNS                                                                     \
    "id, controller_id, kind, key_version, created_at, updated_at, erased_at, pseudonym, "  \
    "coalesce(restricted_at, 0), objecting, item_count, item_digest, mac, consents"
#define CONSENT_COLUMNS                                                                     \
    "id, subject_id, purpose, state, method, recorded_by, policy_version, at, evidence, mac"

#define USER_COLUMNS                                                                        \
    "id, controller_id, username, roles, pwhash, totp, totp_last_step, failures, "          \
    "locked_until, created_at, coalesce(disabled_at, 0), mac"

#define SESSION_COLUMNS                                                                     \
    "token_hash, user_id, created_at, last_seen, coalesce(revoked_at, 0), mac"
#define TOKEN_COLUMNS                                                                       \
    "id, token_hash, controller_id, roles, name, created_at, coalesce(revoked_at, 0), mac"
#define BG_COLUMNS "id, user_id, subject_id, reason, granted_at, expires_at, mac"
#define UNSUB_COLUMNS                                                                       \
    "token_hash, subject_id, purpose, created_at, coalesce(used_at, 0), mac"

#define OBJECTION_COLUMNS                                                                   \
    "subject_id, purpose, recorded_by, lifted_by, made_at, coalesce(lifted_at, 0), seq, mac"

#define REQUEST_COLUMNS                                                                     \
    "id, controller_id, kind, channel, state, paused_from, subject_id, purpose, "           \
    "received_on, evidence_on, extended, told_on, grounds, closed_on, created_at, "         \
    "updated_at, complaint_route, mac"


static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT op",
    [ST_RELEASE] = "RELEASE op",
    [ST_ROLLBACK_TO] = "ROLLBACK TO op",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_PUT] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_KEYRING_GET] = "SELECT wrapped FROM keyring WHERE name = ?1",
    [ST_KEYRING_PUT] = "INSERT INTO keyring(name, wrapped) VALUES (?1, ?2) "
                       "ON CONFLICT(name) DO UPDATE SET wrapped = excluded.wrapped",
    [ST_KEYRING_EACH] = "SELECT name, wrapped FROM keyring ORDER BY name",
    [ST_CTL_INSERT] = "INSERT INTO controllers(id, name, created_at) VALUES (?1, ?2, ?3)",
    [ST_CTL_GET] = "SELECT name FROM controllers WHERE id = ?1",
    [ST_CTL_EACH] = "SELECT id, name, created_at FROM controllers ORDER BY created_at, id",
    [ST_CTL_ROW] = "SELECT id, name, created_at, mac FROM controllers WHERE id = ?1",
    [ST_CTL_ROWS] = "SELECT id, name, created_at, mac FROM controllers ORDER BY created_at, id",
    [ST_CTL_MAC] = "UPDATE controllers SET mac = ?2 WHERE id = ?1",
    [ST_SUBJ_INSERT] = "INSERT INTO subjects(id, controller_id, kind, key_version, created_at, "
                       "updated_at, erased_at, pseudonym, restricted_at, objecting, item_count, "
                       "item_digest, mac, consents) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                       "nullif(?7, 0), nullif(?8, ''), nullif(?9, 0), ?10, ?11, ?12, ?13, ?14)",
    [ST_SUBJ_UPDATE] = "UPDATE subjects SET key_version = ?4, updated_at = ?6, "
                       "erased_at = nullif(?7, 0), pseudonym = nullif(?8, ''), "
                       "restricted_at = nullif(?9, 0), objecting = ?10, item_count = ?11, "
                       "item_digest = ?12, mac = ?13, consents = ?14 WHERE id = ?1",
    [ST_SUBJ_GET] = "SELECT " SUBJECT_COLUMNS " FROM subjects WHERE id = ?1",
    [ST_SUBJ_TOUCH] = "UPDATE subjects SET updated_at = ?2 WHERE id = ?1",
    [ST_SUBJ_ERASED] = "UPDATE subjects SET erased_at = ?2, updated_at = ?2 WHERE id = ?1",
    [ST_SUBJ_EACH] = "SELECT " SUBJECT_COLUMNS " FROM subjects ORDER BY created_at, id",
    [ST_SUBJ_EACH_CTL] = "SELECT " SUBJECT_COLUMNS " FROM subjects WHERE "
                         "controller_id = ?1 ORDER BY created_at, id",
    [ST_SKEY_PUT] = "INSERT INTO subject_keys(subject_id, version, wrapped) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT(subject_id) DO UPDATE SET version = excluded.version, "
                    "wrapped = excluded.wrapped",
    [ST_SKEY_GET] = "SELECT version, wrapped FROM subject_keys WHERE subject_id = ?1",
    [ST_SKEY_DELETE] = "DELETE FROM subject_keys WHERE subject_id = ?1",
    [ST_SKEY_EACH] = "SELECT subject_id, version, wrapped FROM subject_keys",
    [ST_ITEM_INSERT] = "INSERT INTO items(subject_id, id, category, field, source, "
                       "collected_at, recorded_by, recorded_at, updated_at, value, version) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    /* Primary-key order: no sort, so a read never copies values into a sorter. */
    [ST_ITEM_EACH] = "SELECT id, subject_id, category, field, source, recorded_by, "
                     "collected_at, recorded_at, updated_at, value, version FROM items "
                     "WHERE subject_id = ?1 ORDER BY id",
    [ST_ITEM_GET] = "SELECT id, subject_id, category, field, source, recorded_by, "
                    "collected_at, recorded_at, updated_at, value, version FROM items "
                    "WHERE subject_id = ?1 AND id = ?2",
    [ST_ITEM_UPDATE] = "UPDATE items SET value = ?3, updated_at = ?4, version = ?5 "
                       "WHERE subject_id = ?1 AND id = ?2",
    [ST_ITEM_DELETE_SUBJ] = "DELETE FROM items WHERE subject_id = ?1",
    [ST_IDENT_INSERT] = "INSERT INTO identifiers(kind, bidx, subject_id, item_id) "
                        "VALUES (?1, ?2, ?3, ?4)",
    [ST_IDENT_FIND] = "SELECT subject_id, item_id FROM identifiers "
                      "WHERE kind = ?1 AND bidx = ?2 ORDER BY subject_id",
    [ST_IDENT_DELETE_ITEM] = "DELETE FROM identifiers WHERE subject_id = ?1 AND item_id = ?2",
    [ST_IDENT_DELETE_SUBJ] = "DELETE FROM identifiers WHERE subject_id = ?1",
    [ST_AUDIT_LAST] = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
    [ST_AUDIT_INSERT] = "INSERT INTO audit_events(seq, ts, actor, subject_id, body, hash) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_AUDIT_EACH] = "SELECT seq, ts, actor, subject_id, body, hash FROM audit_events "
                      "WHERE (?1 IS NULL OR subject_id = ?1) AND (?2 IS NULL OR actor = ?2) "
                      "AND (?3 = 0 OR ts >= ?3) AND (?4 = 0 OR ts <= ?4) AND seq > ?5 "
                      "ORDER BY seq LIMIT ?6",
    /* One subject's events through the audit_subject index (subject_id, seq):
     * the generic statement's optional terms would make SQLite scan the trail. */
    [ST_AUDIT_SUBJECT] = "SELECT seq, ts, actor, subject_id, body, hash FROM audit_events "
                         "WHERE subject_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    /* The whole trail, for verification: no filter terms to test on every row. */
    [ST_AUDIT_ALL] = "SELECT seq, ts, actor, subject_id, body, hash FROM audit_events "
                     "ORDER BY seq",
    [ST_HEAD_PUT] = "INSERT INTO audit_head(one, seq, signed_at, hash, sig) "
                    "VALUES (1, ?1, ?2, ?3, ?4) ON CONFLICT(one) DO UPDATE SET "
                    "seq = excluded.seq, signed_at = excluded.signed_at, "
                    "hash = excluded.hash, sig = excluded.sig",
    [ST_HEAD_GET] = "SELECT seq, signed_at, hash, sig FROM audit_head WHERE one = 1",
    [ST_CKPT_ADD] = "INSERT INTO audit_checkpoints(seq, signed_at, hash, sig) "
                    "VALUES (?1, ?2, ?3, ?4)",
    [ST_CKPT_LAST] = "SELECT coalesce(max(seq), 0) FROM audit_checkpoints",
    [ST_CKPT_EACH] = "SELECT seq, signed_at, hash, sig FROM audit_checkpoints ORDER BY seq",
    [ST_SUBJ_PSN_SET] = "UPDATE subjects SET pseudonym = ?2 WHERE id = ?1",
    [ST_SUBJ_BY_PSN] = "SELECT id FROM subjects WHERE pseudonym = ?1",
    [ST_SUBJ_NO_PSN] = "SELECT id, controller_id FROM subjects WHERE pseudonym IS NULL",
    [ST_USER_INSERT] = "INSERT INTO users(id, controller_id, username, roles, pwhash, totp, "
                       "created_at, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_USER_BY_NAME] = "SELECT " USER_COLUMNS " FROM users WHERE username = ?1",
    [ST_USER_BY_ID] = "SELECT " USER_COLUMNS " FROM users WHERE id = ?1",
    [ST_USER_UPDATE] = "UPDATE users SET roles = ?2, pwhash = ?3, totp = ?4, totp_last_step = ?5, "
                       "failures = ?6, locked_until = ?7, disabled_at = nullif(?8, 0), "
                       "mac = ?9 WHERE id = ?1",
    [ST_USER_ALL] = "SELECT " USER_COLUMNS " FROM users ORDER BY id",
    [ST_SESS_INSERT] = "INSERT INTO sessions(token_hash, user_id, created_at, last_seen, mac) "
                       "VALUES (?1, ?2, ?3, ?3, ?4)",
    [ST_SESS_GET] = "SELECT " SESSION_COLUMNS " FROM sessions WHERE token_hash = ?1",
    [ST_SESS_TOUCH] = "UPDATE sessions SET last_seen = ?2, mac = ?3 WHERE token_hash = ?1",
    [ST_SESS_REVOKE] = "UPDATE sessions SET revoked_at = ?2, mac = ?3 WHERE token_hash = ?1 "
                       "AND revoked_at IS NULL",
    [ST_SESS_OF_USER] = "SELECT " SESSION_COLUMNS " FROM sessions WHERE user_id = ?1",
    [ST_SESS_ALL] = "SELECT " SESSION_COLUMNS " FROM sessions ORDER BY token_hash",
    [ST_TOKEN_INSERT] = "INSERT INTO api_tokens(id, token_hash, controller_id, roles, name, "
                        "created_at, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_TOKEN_BY_HASH] = "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE token_hash = ?1",
    [ST_TOKEN_BY_ID] = "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE id = ?1",
    [ST_TOKEN_REVOKE] = "UPDATE api_tokens SET revoked_at = ?2, mac = ?3 WHERE id = ?1 "
                        "AND revoked_at IS NULL",
    [ST_TOKEN_ALL] = "SELECT " TOKEN_COLUMNS " FROM api_tokens ORDER BY id",
    [ST_CARE_ADD] = "INSERT INTO care_list(user_id, subject_id, added_at, added_by, mac) "
                    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    [ST_CARE_REMOVE] = "DELETE FROM care_list WHERE user_id = ?1 AND subject_id = ?2",
    [ST_CARE_HAS] = "SELECT user_id, subject_id, added_at, added_by, mac FROM care_list "
                    "WHERE user_id = ?1 AND subject_id = ?2",
    [ST_CARE_ALL] = "SELECT user_id, subject_id, added_at, added_by, mac FROM care_list "
                    "ORDER BY user_id, subject_id",
    [ST_BG_INSERT] = "INSERT INTO break_glass(id, user_id, subject_id, reason, granted_at, "
                     "expires_at, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_BG_ACTIVE] = "SELECT " BG_COLUMNS " FROM break_glass WHERE user_id = ?1 "
                     "AND subject_id = ?2 AND expires_at > ?3 ORDER BY expires_at DESC",
    [ST_BG_EACH] = "SELECT b.id, b.user_id, b.subject_id, b.reason, b.granted_at, "
                   "b.expires_at, b.mac, u.username FROM break_glass b "
                   "JOIN users u ON u.id = b.user_id "
                   "WHERE u.controller_id = ?1 AND b.granted_at >= ?2 ORDER BY b.granted_at",
    [ST_BG_ALL] = "SELECT " BG_COLUMNS " FROM break_glass ORDER BY id",
    [ST_MAC_USERS] = "UPDATE users SET mac = ?3 WHERE id = ?1",
    [ST_MAC_SESSIONS] = "UPDATE sessions SET mac = ?3 WHERE token_hash = ?1",
    [ST_MAC_TOKENS] = "UPDATE api_tokens SET mac = ?3 WHERE id = ?1",
    [ST_MAC_CARE] = "UPDATE care_list SET mac = ?3 WHERE user_id = ?1 AND subject_id = ?2",
    [ST_MAC_BG] = "UPDATE break_glass SET mac = ?3 WHERE id = ?1",
    [ST_MAC_POLICIES] = "UPDATE policies SET mac = ?3 WHERE controller_id = ?1 AND version = ?2",
    [ST_MAC_UNSUB] = "UPDATE unsubscribe_links SET mac = ?3 WHERE token_hash = ?1",
    [ST_MAC_CONSENTS] = "UPDATE consents SET mac = ?3 WHERE id = ?1",
    [ST_MAC_OBJECTIONS] = "UPDATE objections SET mac = ?3 WHERE seq = ?2 AND ?1 IS NOT NULL",
    [ST_MAC_REQUESTS] = "UPDATE requests SET mac = ?3 WHERE id = ?1",
    [ST_CONSENT_ALL] = "SELECT " CONSENT_COLUMNS " FROM consents ORDER BY seq",
    [ST_OBJ_ALL] = "SELECT " OBJECTION_COLUMNS " FROM objections ORDER BY seq",
    [ST_OBJ_LIFT_ONE] = "UPDATE objections SET lifted_at = ?2, lifted_by = ?3, mac = ?4 "
                        "WHERE seq = ?1 AND lifted_at IS NULL",
    [ST_POL_ALL] = "SELECT controller_id, version, applied_at, applied_by, digest, document, "
                   "mac FROM policies ORDER BY controller_id, version",
    [ST_UNSUB_ALL] = "SELECT " UNSUB_COLUMNS " FROM unsubscribe_links ORDER BY token_hash",
    [ST_POL_INSERT] = "INSERT INTO policies(controller_id, version, applied_at, applied_by, "
                      "digest, document, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_POL_GET] = "SELECT controller_id, version, applied_at, applied_by, digest, document, "
                   "mac FROM policies WHERE controller_id = ?1 AND version = ?2",
    [ST_POL_CURRENT] = "SELECT controller_id, version, applied_at, applied_by, digest, "
                       "document, mac FROM policies WHERE controller_id = ?1 "
                       "ORDER BY version DESC LIMIT 1",
    [ST_POL_EACH] = "SELECT controller_id, version, applied_at, applied_by, digest, NULL, mac "
                    "FROM policies WHERE controller_id = ?1 ORDER BY version",
    /* Keyset pagination on the primary key: a page costs its own rows. */
    [ST_ITEM_PAGE] = "SELECT id, subject_id, category, field, source, recorded_by, "
                     "collected_at, recorded_at, updated_at, value, version FROM items "
                     "WHERE subject_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [ST_ITEM_NAMED] = "SELECT id, subject_id, category, field, source, recorded_by, "
                      "collected_at, recorded_at, updated_at, value, version FROM items "
                      "WHERE subject_id = ?1 AND field IN (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                      "ORDER BY id",
    [ST_ITEM_DELETE] = "DELETE FROM items WHERE subject_id = ?1 AND id = ?2",
    [ST_ITEM_RESEAL] = "UPDATE items SET value = ?3, version = ?4 "
                       "WHERE subject_id = ?1 AND id = ?2",
    [ST_SUBJ_KEYVER] = "UPDATE subjects SET key_version = ?2 WHERE id = ?1",
    [ST_CONSENT_EVIDENCE] = "UPDATE consents SET evidence = ?2, mac = ?3 WHERE id = ?1",
    [ST_BG_SUBJECT] = "SELECT " BG_COLUMNS " FROM break_glass WHERE subject_id = ?1 ORDER BY id",
    [ST_BG_REASON] = "UPDATE break_glass SET reason = ?2, mac = ?3 WHERE id = ?1",
    [ST_CONSENT_INSERT] = "INSERT INTO consents(id, subject_id, purpose, state, method, "
                          "recorded_by, policy_version, at, evidence, mac) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_CONSENT_LATEST] = "SELECT " CONSENT_COLUMNS " FROM consents WHERE subject_id = ?1 "
                          "AND purpose = ?2 ORDER BY seq DESC LIMIT 1",
    [ST_CONSENT_COUNT] = "SELECT count(*) FROM consents WHERE subject_id = ?1",
    [ST_CONSENT_EACH] = "SELECT " CONSENT_COLUMNS " FROM consents WHERE subject_id = ?1 "
                        "ORDER BY seq",
    [ST_CONSENT_GET] = "SELECT " CONSENT_COLUMNS " FROM consents WHERE id = ?1",
    [ST_OBJ_ADD] = "INSERT INTO objections(subject_id, purpose, made_at, recorded_by) "
                   "VALUES (?1, ?2, ?3, ?4)",
    [ST_OBJ_EACH] = "SELECT " OBJECTION_COLUMNS " FROM objections WHERE subject_id = ?1 "
                    "ORDER BY seq",
    [ST_OBJ_COUNT] = "UPDATE subjects SET objecting = (SELECT count(*) FROM objections "
                     "WHERE subject_id = ?1 AND lifted_at IS NULL) WHERE id = ?1",
    [ST_SUBJ_RESTRICT] = "UPDATE subjects SET restricted_at = nullif(?2, 0) WHERE id = ?1",
    [ST_UNSUB_INSERT] = "INSERT INTO unsubscribe_links(token_hash, subject_id, purpose, mac, "
                        "created_at) VALUES (?1, ?2, ?3, ?5, ?4)",
    [ST_UNSUB_USE] = "UPDATE unsubscribe_links SET used_at = ?2, mac = ?3 WHERE token_hash = ?1 "
                     "AND used_at IS NULL",
    [ST_UNSUB_PEEK] = "SELECT " UNSUB_COLUMNS " FROM unsubscribe_links WHERE token_hash = ?1",
    [ST_RQ_INSERT] = "INSERT INTO requests(" REQUEST_COLUMNS ") VALUES "
                     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                     "?18)",
    [ST_RQ_UPDATE] = "UPDATE requests SET state = ?5, paused_from = ?6, subject_id = ?7, "
                     "purpose = ?8, evidence_on = ?10, extended = ?11, told_on = ?12, "
                     "grounds = ?13, closed_on = ?14, updated_at = ?16, complaint_route = ?17, "
                     "mac = ?18 WHERE id = ?1",
    [ST_RQ_GET] = "SELECT " REQUEST_COLUMNS " FROM requests WHERE id = ?1",
    [ST_RQ_EACH] = "SELECT " REQUEST_COLUMNS " FROM requests WHERE (?1 = 0 OR state NOT IN "
                   "('fulfilled','refused','withdrawn')) ORDER BY received_on, created_at",
    [ST_RQ_EACH_CTL] = "SELECT " REQUEST_COLUMNS " FROM requests WHERE controller_id = ?2 AND "
                       "(?1 = 0 OR state NOT IN ('fulfilled','refused','withdrawn')) "
                       "ORDER BY received_on, created_at",
    [ST_RQ_PAUSE_OPEN] = "INSERT INTO request_pauses(request_id, paused_on) VALUES (?1, ?2)",
    [ST_RQ_PAUSE_CLOSE] = "UPDATE request_pauses SET resumed_on = ?2 "
                          "WHERE request_id = ?1 AND resumed_on IS NULL",
    [ST_RQ_PAUSES] = "SELECT paused_on, coalesce(resumed_on, '') FROM request_pauses "
                     "WHERE request_id = ?1 ORDER BY seq",
    [ST_RQ_EV_INSERT] = "INSERT INTO request_events(id, request_id, at, on_date, actor, action, "
                        "from_state, to_state, sealed_by, why) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_RQ_EV_EACH] = "SELECT id, request_id, at, on_date, actor, action, "
                      "coalesce(from_state, ''), to_state, sealed_by, why, seq "
                      "FROM request_events WHERE request_id = ?1 ORDER BY seq",
    [ST_RQ_EV_RESEAL] = "UPDATE request_events SET sealed_by = ?2, why = ?3 WHERE id = ?1",
    [ST_DISC_INSERT] = "INSERT INTO disclosures(id, subject_id, recipient_id, recipient, basis, "
                       "purpose, channel, items, categories, disclosed_at, recorded_at, "
                       "recorded_by, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                       "?11, ?12, ?13)",
    [ST_DISC_EACH] = "SELECT id, subject_id, recipient_id, recipient, basis, purpose, channel, "
                     "items, categories, disclosed_at, recorded_at, recorded_by, note "
                     "FROM disclosures WHERE subject_id = ?1 ORDER BY seq",
};

struct cu_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    bool in_tx;
    /* See cu_store_auth_epoch. */
    bool stmt_auth[ST_COUNT]; /* the statement may change what a credential names */
    bool auth_seen;           /* set by the authorizer while a statement is prepared */
    bool auth_written;        /* such a statement ran in the open transaction */
    uint64_t auth_epoch;
    int64_t data_version;
    sqlite3_stmt *data_version_st;
};

int cu_store_schema_version(void)
{
    return cu_schema_count();
}

/* Maps a SQLite failure to a status and a one-line message naming what failed. */
static int db_fail(cu_store *s, int src, const char *what, cu_err *err)
{
    int primary = src & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
        return cu_err_set(err, CU_ECORRUPT,
                          "store database is damaged or not a custos store (%s)", what);
    if (primary == SQLITE_CONSTRAINT)
        return cu_err_set(err, CU_ECONFLICT, "%s: conflicts with existing data", what);
    if (primary == SQLITE_NOMEM)
        return cu_err_set(err, CU_ENOMEM, "%s: out of memory", what);
    return cu_err_set(err, CU_EIO, "%s: %s", what, s && s->db ? sqlite3_errmsg(s->db)
                                                            : sqlite3_errstr(src));
}

/* Tables whose rows say what a session or API token stands for. A statement
 * that inserts, deletes or updates any of their columns, except a session's
 * last_seen, moves the auth epoch. The authorizer sees every table and column
 * a statement writes when it is prepared, so new statements are covered too.
 * A session's code (mac) changes with its last_seen, so it does not move the
 * epoch either; a session's revocation does. */
static int auth_watch(void *ctx, int action, const char *a1, const char *a2, const char *db,
                      const char *trigger)
{
    (void)db;
    (void)trigger;
    cu_store *s = ctx;
    if ((action == SQLITE_INSERT || action == SQLITE_DELETE || action == SQLITE_UPDATE) && a1 &&
        (sqlite3_stricmp(a1, "users") == 0 || sqlite3_stricmp(a1, "sessions") == 0 ||
         sqlite3_stricmp(a1, "api_tokens") == 0) &&
        !(action == SQLITE_UPDATE && a2 && sqlite3_stricmp(a1, "sessions") == 0 &&
          (sqlite3_stricmp(a2, "last_seen") == 0 || sqlite3_stricmp(a2, "mac") == 0)))
        s->auth_seen = true;
    return SQLITE_OK;
}

static void auth_changed(cu_store *s)
{
    s->auth_epoch++;
    if (s->in_tx)
        s->auth_written = true;
}

static sqlite3_stmt *stmt(cu_store *s, enum cu_stmt_id id, cu_err *err)
{
    /* A test build may fail this call (store/fault.h); the undoing of a failed
     * transaction, whose error nobody sees (err NULL), is never failed. */
    if (err && cu_store_fault("statement", err))
        return NULL;
    if (!s->stmt[id]) {
        s->auth_seen = false;
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmt[id], NULL);
        s->stmt_auth[id] = s->auth_seen;
        if (rc != SQLITE_OK) {
            db_fail(s, rc, "preparing a statement", err);
            return NULL;
        }
    }
    /* Every use of a statement comes here first: the epoch moves before the
     * change is made, so nothing read after it can be taken for older. */
    if (s->stmt_auth[id])
        auth_changed(s);
    return s->stmt[id];
}

static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_blob(sqlite3_stmt *st, int i, const void *v, size_t n)
{
    sqlite3_bind_blob64(st, i, v ? v : "", n, SQLITE_STATIC);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* Runs a statement that returns no rows. */
static int exec_stmt(cu_store *s, sqlite3_stmt *st, const char *what, cu_err *err)
{
    int rc = sqlite3_step(st);
    done(st);
    return rc == SQLITE_DONE ? CU_OK : db_fail(s, rc, what, err);
}

static int exec_sql(cu_store *s, const char *sql, const char *what, cu_err *err)
{
    s->auth_seen = false;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (s->auth_seen)
        auth_changed(s);
    return rc == SQLITE_OK ? CU_OK : db_fail(s, rc, what, err);
}

#define PREP(var, id, what)                                                                 \
    sqlite3_stmt *var = stmt(s, id, err);                                                   \
    if (!var)                                                                               \
        return err ? err->code : CU_EIO

static int read_version(cu_store *s, int *version, cu_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, "reading the schema version", err);
    rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return *version < 0 ? db_fail(s, rc, "reading the schema version", err) : CU_OK;
}

static int migrate(cu_store *s, bool create, cu_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, "reading the schema version", err);
    rc = sqlite3_step(st);
    int version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (version < 0)
        return db_fail(s, rc, "reading the schema version", err);
    int latest = cu_schema_count();
    /* Only init creates a schema: an existing file at version 0 is empty or
     * another application's database, and is left untouched. */
    if (version == 0 && !create)
        return cu_err_set(err, CU_ECORRUPT,
                          "store database is damaged or not a custos store (no custos schema)");
    if (version > latest)
        return cu_err_set(err, CU_EVERSION,
                          "store schema version %d is newer than this custos supports (%d); "
                          "use a newer custos", version, latest);
    for (int v = version + 1; v <= latest; v++) {
        char pragma[48];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v);
        if ((rc = exec_sql(s, "BEGIN IMMEDIATE", "starting a migration", err)))
            return rc;
        if ((rc = exec_sql(s, cu_schema_migration(v), "applying a migration", err)) ||
            (rc = exec_sql(s, pragma, "recording the schema version", err)) ||
            (rc = exec_sql(s, "COMMIT", "committing a migration", err))) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    return CU_OK;
}

/* The SQLite backend: one database file in the vault directory, with its
 * write-ahead log and shared-memory index beside it. */
#define STORE_FILE "custos.db"
#define STORE_SUFFIX ".db"

int cu_store_location(const char *dir, char *out, size_t n, cu_err *err)
{
    int k = snprintf(out, n, "%s/%s", dir, STORE_FILE);
    if (k < 0 || (size_t)k >= n)
        return cu_err_set(err, CU_EINVAL, "store path too long");
    return CU_OK;
}

bool cu_store_exists(const char *location)
{
    return access(location, F_OK) == 0;
}

void cu_store_remove(const char *location)
{
    char side[PATH_MAX + 8];
    (void)unlink(location);
    snprintf(side, sizeof side, "%s-wal", location);
    (void)unlink(side);
    snprintf(side, sizeof side, "%s-shm", location);
    (void)unlink(side);
}

const char *cu_store_copy_suffix(void)
{
    return STORE_SUFFIX;
}

int cu_store_open(const char *path, bool create, cu_store **out, cu_err *err)
{
    if (!create && access(path, F_OK) != 0)
        return cu_err_set(err, CU_ENOTFOUND, "no store at %s (run: custos init)", path);
    if (create && access(path, F_OK) == 0)
        return cu_err_set(err, CU_ECONFLICT, "a store already exists at %s", path);
    cu_store *s = calloc(1, sizeof *s);
    if (!s)
        return cu_err_set(err, CU_ENOMEM, "out of memory opening the store");
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        rc = db_fail(s, rc, "opening the store database", err);
        cu_store_close(s);
        return rc;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 10000);
    sqlite3_set_authorizer(s->db, auth_watch, s);
    /* Only init creates a schema: an existing file at version 0 is empty or
     * another application's database. Checked before anything is written. */
    int version = 0;
    if (!create && !(rc = read_version(s, &version, err)) && version == 0)
        rc = cu_err_set(err, CU_ECORRUPT,
                        "store database is damaged or not a custos store (no custos schema)");
    if (rc) {
        cu_store_close(s);
        return rc;
    }
    /* WAL + FULL: a commit is on disk when it returns. secure_delete overwrites
     * deleted content, so an erased key does not linger in free pages. A page
     * cache of up to 64 MiB (default 2 MiB) holds the pages a large batch
     * dirties, so they are not spilled to the WAL and read back mid-transaction. */
    rc = exec_sql(s,
                  "PRAGMA journal_mode = WAL;"
                  "PRAGMA synchronous = FULL;"
                  "PRAGMA foreign_keys = ON;"
                  "PRAGMA secure_delete = ON;"
                  "PRAGMA trusted_schema = OFF;"
                  "PRAGMA cell_size_check = ON;"
                  "PRAGMA cache_size = -65536;",
                  "configuring the store database", err);
    if (!rc)
        rc = migrate(s, create, err);
    if (rc) {
        cu_store_close(s);
        return rc;
    }
    *out = s;
    return CU_OK;
}

void cu_store_close(cu_store *s)
{
    if (!s)
        return;
    if (s->in_tx)
        cu_store_rollback(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_finalize(s->data_version_st);
    sqlite3_close_v2(s->db);
    free(s);
}

/* Another connection's commit may have changed anything: seen here, once the
 * transaction holds the write lock, so none can land while it is open. */
static int check_data_version(cu_store *s, cu_err *err)
{
    if (!s->data_version_st) {
        int rc = sqlite3_prepare_v3(s->db, "PRAGMA data_version", -1,
                                    SQLITE_PREPARE_PERSISTENT, &s->data_version_st, NULL);
        if (rc != SQLITE_OK)
            return db_fail(s, rc, "preparing a statement", err);
    }
    int rc = sqlite3_step(s->data_version_st);
    int64_t dv = rc == SQLITE_ROW ? sqlite3_column_int64(s->data_version_st, 0) : -1;
    sqlite3_reset(s->data_version_st);
    if (dv < 0)
        return db_fail(s, rc, "reading the data version", err);
    if (dv != s->data_version) {
        s->data_version = dv;
        s->auth_epoch++;
    }
    return CU_OK;
}

int cu_store_begin(cu_store *s, cu_err *err)
{
    PREP(st, ST_BEGIN, "begin");
    int rc = exec_stmt(s, st, "starting a transaction", err);
    if (!rc) {
        s->in_tx = true;
        s->auth_written = false;
        if ((rc = check_data_version(s, err)))
            cu_store_rollback(s);
    }
    return rc;
}

uint64_t cu_store_auth_epoch(const cu_store *s)
{
    return s->auth_epoch;
}

int cu_store_commit(cu_store *s, cu_err *err)
{
    /* A commit that cannot even start undoes the transaction as a failed one
     * does: the caller is never left inside it. */
    int rc = cu_store_fault("commit", err);
    sqlite3_stmt *st = rc ? NULL : stmt(s, ST_COMMIT, err);
    if (!rc)
        rc = st ? exec_stmt(s, st, "committing", err) : (err ? (int)err->code : CU_EIO);
    if (rc) {
        cu_store_rollback(s);
        return rc;
    }
    s->in_tx = false;
    s->auth_written = false;
    return CU_OK;
}

void cu_store_rollback(cu_store *s)
{
    if (sqlite3_get_autocommit(s->db) == 0) {
        sqlite3_stmt *st = stmt(s, ST_ROLLBACK, NULL);
        if (st)
            (void)exec_stmt(s, st, "rolling back", NULL);
    }
    /* What was read after an undone change may have reflected it. */
    if (s->auth_written)
        s->auth_epoch++;
    s->in_tx = false;
    s->auth_written = false;
}

bool cu_store_in_tx(const cu_store *s)
{
    return s->in_tx;
}

int cu_store_savepoint(cu_store *s, cu_err *err)
{
    PREP(st, ST_SAVEPOINT, "savepoint");
    return exec_stmt(s, st, "starting an operation", err);
}

int cu_store_release(cu_store *s, cu_err *err)
{
    PREP(st, ST_RELEASE, "release");
    return exec_stmt(s, st, "finishing an operation", err);
}

void cu_store_rollback_to(cu_store *s)
{
    if (s->auth_written)
        s->auth_epoch++;
    sqlite3_stmt *st = stmt(s, ST_ROLLBACK_TO, NULL);
    if (st)
        (void)exec_stmt(s, st, "undoing an operation", NULL);
    st = stmt(s, ST_RELEASE, NULL);
    if (st)
        (void)exec_stmt(s, st, "undoing an operation", NULL);
}

int cu_store_compact_log(cu_store *s, cu_err *err)
{
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    /* SQLITE_BUSY means another connection is reading; the WAL is then
     * checkpointed by a later writer. Not a failure of the caller's change. */
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? CU_OK
                                                : db_fail(s, rc, "checkpointing the WAL", err);
}

/* Fetches a single blob column into out; CU_ENOTFOUND when no row. */
static int get_blob(cu_store *s, sqlite3_stmt *st, const char *what, cu_buf *out, cu_err *err)
{
    int rc = sqlite3_step(st);
    int res = CU_OK;
    if (rc == SQLITE_ROW) {
        if (cu_buf_append(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)))
            res = cu_err_set(err, CU_ENOMEM, "%s: out of memory", what);
    } else if (rc == SQLITE_DONE) {
        res = CU_ENOTFOUND;
    } else {
        res = db_fail(s, rc, what, err);
    }
    done(st);
    return res;
}

int cu_store_meta_get(cu_store *s, const char *key, cu_buf *out, cu_err *err)
{
    PREP(st, ST_META_GET, "meta");
    bind_text(st, 1, key);
    return get_blob(s, st, "reading store metadata", out, err);
}

int cu_store_meta_put(cu_store *s, const char *key, const void *v, size_t n, cu_err *err)
{
    PREP(st, ST_META_PUT, "meta");
    bind_text(st, 1, key);
    bind_blob(st, 2, v, n);
    return exec_stmt(s, st, "writing store metadata", err);
}

int cu_store_keyring_get(cu_store *s, const char *name, cu_buf *out, cu_err *err)
{
    PREP(st, ST_KEYRING_GET, "keyring");
    bind_text(st, 1, name);
    return get_blob(s, st, "reading the keyring", out, err);
}

int cu_store_keyring_put(cu_store *s, const char *name, const void *wrapped, size_t n,
                         cu_err *err)
{
    PREP(st, ST_KEYRING_PUT, "keyring");
    bind_text(st, 1, name);
    bind_blob(st, 2, wrapped, n);
    return exec_stmt(s, st, "writing the keyring", err);
}

/* Steps through rows, calling fn(row) for each; fn's non-zero result stops the
 * walk and is returned. */
#define EACH_ROW(st, what, body)                                                            \
    do {                                                                                    \
        int step_, res_ = CU_OK;                                                            \
        while ((step_ = sqlite3_step(st)) == SQLITE_ROW) {                                  \
            res_ = (body);                                                                  \
            if (res_)                                                                       \
                break;                                                                      \
        }                                                                                   \
        if (!res_ && step_ != SQLITE_DONE)                                                  \
            res_ = db_fail(s, step_, what, err);                                            \
        done(st);                                                                           \
        return res_;                                                                        \
    } while (0)

int cu_store_keyring_each(cu_store *s, cu_keyring_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_KEYRING_EACH, "keyring");
    EACH_ROW(st, "reading the keyring",
             cb(ctx, col_text(st, 0), sqlite3_column_blob(st, 1),
                (size_t)sqlite3_column_bytes(st, 1)));
}

int cu_store_controller_insert(cu_store *s, const char *id, const char *name,
                               int64_t created_at, cu_err *err)
{
    PREP(st, ST_CTL_INSERT, "controller");
    bind_text(st, 1, id);
    bind_text(st, 2, name);
    sqlite3_bind_int64(st, 3, created_at);
    int rc = sqlite3_step(st);
    done(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return cu_err_set(err, CU_ECONFLICT, "a controller with that name already exists");
    return rc == SQLITE_DONE ? CU_OK : db_fail(s, rc, "adding a controller", err);
}

int cu_store_controller_get(cu_store *s, const char *id, cu_buf *name, cu_err *err)
{
    PREP(st, ST_CTL_GET, "controller");
    bind_text(st, 1, id);
    cu_buf tmp;
    cu_buf_init(&tmp, 4096);
    int rc = get_blob(s, st, "reading a controller", name ? name : &tmp, err);
    cu_buf_release(&tmp);
    return rc;
}

int cu_store_controller_each(cu_store *s, cu_controller_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_CTL_EACH, "controllers");
    EACH_ROW(st, "listing controllers",
             cb(ctx, col_text(st, 0), col_text(st, 1), sqlite3_column_int64(st, 2)));
}

static int controller_row_cb(sqlite3_stmt *st, cu_controller_row_cb cb, void *ctx)
{
    bool has_mac = sqlite3_column_type(st, 3) == SQLITE_BLOB;
    cu_controller_row r = {
        .id = col_text(st, 0),
        .name = col_text(st, 1),
        .created_at = sqlite3_column_int64(st, 2),
        .mac = has_mac ? sqlite3_column_blob(st, 3) : NULL,
        .mac_len = has_mac ? (size_t)sqlite3_column_bytes(st, 3) : 0,
    };
    return cb(ctx, &r);
}

int cu_store_controller_rows(cu_store *s, const char *id, cu_controller_row_cb cb, void *ctx,
                             cu_err *err)
{
    if (!id) {
        PREP(st, ST_CTL_ROWS, "controllers");
        EACH_ROW(st, "listing controllers", controller_row_cb(st, cb, ctx));
    }
    PREP(st, ST_CTL_ROW, "controller");
    bind_text(st, 1, id);
    int rc = sqlite3_step(st), res;
    if (rc == SQLITE_ROW)
        res = controller_row_cb(st, cb, ctx);
    else if (rc == SQLITE_DONE)
        res = CU_ENOTFOUND;
    else
        res = db_fail(s, rc, "reading a controller", err);
    done(st);
    return res;
}

int cu_store_controller_set_mac(cu_store *s, const char *id, const unsigned char mac[32],
                                cu_err *err)
{
    PREP(st, ST_CTL_MAC, "controller");
    bind_text(st, 1, id);
    bind_blob(st, 2, mac, 32);
    int rc = exec_stmt(s, st, "authenticating a controller", err);
    if (!rc && sqlite3_changes(s->db) != 1)
        rc = cu_err_set(err, CU_ENOTFOUND, "no controller %s", id);
    return rc;
}

static void subject_from_row(sqlite3_stmt *st, cu_subject_rec *r)
{
    memset(r, 0, sizeof *r);
    cu_strlcpy(r->id, col_text(st, 0), sizeof r->id);
    cu_strlcpy(r->controller_id, col_text(st, 1), sizeof r->controller_id);
    cu_strlcpy(r->kind, col_text(st, 2), sizeof r->kind);
    r->key_version = sqlite3_column_int64(st, 3);
    r->created_at = sqlite3_column_int64(st, 4);
    r->updated_at = sqlite3_column_int64(st, 5);
    r->erased_at = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 6);
    if (sqlite3_column_type(st, 7) == SQLITE_TEXT)
        cu_strlcpy(r->pseudonym, col_text(st, 7), sizeof r->pseudonym);
    r->restricted_at = sqlite3_column_int64(st, 8);
    r->objecting = sqlite3_column_int64(st, 9);
    r->item_count = sqlite3_column_int64(st, 10);
    if (sqlite3_column_type(st, 11) == SQLITE_BLOB && sqlite3_column_bytes(st, 11) == 32)
        memcpy(r->item_digest, sqlite3_column_blob(st, 11), 32);
    else if (sqlite3_column_type(st, 11) != SQLITE_NULL)
        memset(r->item_digest, 0xff, 32); /* malformed: matches no digest of items */
    r->has_mac = sqlite3_column_type(st, 12) == SQLITE_BLOB && sqlite3_column_bytes(st, 12) == 32;
    if (r->has_mac)
        memcpy(r->mac, sqlite3_column_blob(st, 12), 32);
    r->consents = sqlite3_column_int64(st, 13);
}

static void bind_subject(sqlite3_stmt *st, const cu_subject_rec *r)
{
    bind_text(st, 1, r->id);
    bind_text(st, 2, r->controller_id);
    bind_text(st, 3, r->kind);
    sqlite3_bind_int64(st, 4, r->key_version);
    sqlite3_bind_int64(st, 5, r->created_at);
    sqlite3_bind_int64(st, 6, r->updated_at);
    sqlite3_bind_int64(st, 7, r->erased_at);
    bind_text(st, 8, r->pseudonym);
    sqlite3_bind_int64(st, 9, r->restricted_at);
    sqlite3_bind_int64(st, 10, r->objecting);
    sqlite3_bind_int64(st, 11, r->item_count);
    bind_blob(st, 12, r->item_digest, sizeof r->item_digest);
    if (r->has_mac)
        bind_blob(st, 13, r->mac, sizeof r->mac);
    else
        sqlite3_bind_null(st, 13);
    sqlite3_bind_int64(st, 14, r->consents);
}

int cu_store_subject_insert(cu_store *s, const cu_subject_rec *r, cu_err *err)
{
    PREP(st, ST_SUBJ_INSERT, "subject");
    bind_subject(st, r);
    return exec_stmt(s, st, "adding a subject", err);
}

int cu_store_subject_update(cu_store *s, const cu_subject_rec *r, cu_err *err)
{
    PREP(st, ST_SUBJ_UPDATE, "subject");
    bind_subject(st, r);
    int rc = exec_stmt(s, st, "updating a subject", err);
    if (!rc && sqlite3_changes(s->db) != 1)
        rc = cu_err_set(err, CU_ENOTFOUND, "no subject %s", r->id);
    return rc;
}

int cu_store_subject_get(cu_store *s, const char *id, cu_subject_rec *out, cu_err *err)
{
    PREP(st, ST_SUBJ_GET, "subject");
    bind_text(st, 1, id);
    int rc = sqlite3_step(st), res = CU_OK;
    if (rc == SQLITE_ROW)
        subject_from_row(st, out);
    else if (rc == SQLITE_DONE)
        res = CU_ENOTFOUND;
    else
        res = db_fail(s, rc, "reading a subject", err);
    done(st);
    return res;
}

int cu_store_subject_touch(cu_store *s, const char *id, int64_t updated_at, cu_err *err)
{
    PREP(st, ST_SUBJ_TOUCH, "subject");
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, updated_at);
    return exec_stmt(s, st, "updating a subject", err);
}

int cu_store_subject_mark_erased(cu_store *s, const char *id, int64_t erased_at, cu_err *err)
{
    PREP(st, ST_SUBJ_ERASED, "subject");
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, erased_at);
    return exec_stmt(s, st, "marking a subject erased", err);
}

int cu_store_subject_each(cu_store *s, const char *controller_id, cu_subject_cb cb, void *ctx,
                          cu_err *err)
{
    PREP(st, controller_id ? ST_SUBJ_EACH_CTL : ST_SUBJ_EACH, "subjects");
    if (controller_id)
        bind_text(st, 1, controller_id);
    cu_subject_rec r;
    EACH_ROW(st, "listing subjects", (subject_from_row(st, &r), cb(ctx, &r)));
}

int cu_store_subject_key_put(cu_store *s, const char *subject_id, int64_t version,
                             const void *wrapped, size_t n, cu_err *err)
{
    PREP(st, ST_SKEY_PUT, "subject key");
    bind_text(st, 1, subject_id);
    sqlite3_bind_int64(st, 2, version);
    bind_blob(st, 3, wrapped, n);
    return exec_stmt(s, st, "writing a subject key", err);
}

int cu_store_subject_key_get(cu_store *s, const char *subject_id, int64_t *version,
                             unsigned char *wrapped, size_t cap, size_t *n, cu_err *err)
{
    PREP(st, ST_SKEY_GET, "subject key");
    bind_text(st, 1, subject_id);
    int rc = sqlite3_step(st), res = CU_OK;
    if (rc == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (len > cap) {
            res = cu_err_set(err, CU_ECORRUPT, "a subject key has the wrong size");
        } else {
            *version = sqlite3_column_int64(st, 0);
            memcpy(wrapped, sqlite3_column_blob(st, 1), len);
            *n = len;
        }
    } else if (rc == SQLITE_DONE) {
        res = CU_ENOTFOUND;
    } else {
        res = db_fail(s, rc, "reading a subject key", err);
    }
    done(st);
    return res;
}

int cu_store_subject_key_delete(cu_store *s, const char *subject_id, cu_err *err)
{
    PREP(st, ST_SKEY_DELETE, "subject key");
    bind_text(st, 1, subject_id);
    return exec_stmt(s, st, "destroying a subject key", err);
}

int cu_store_subject_key_each(cu_store *s, cu_subject_key_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_SKEY_EACH, "subject keys");
    EACH_ROW(st, "reading subject keys",
             cb(ctx, col_text(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
                (size_t)sqlite3_column_bytes(st, 2)));
}

int cu_store_item_insert(cu_store *s, const cu_item_row *r, cu_err *err)
{
    PREP(st, ST_ITEM_INSERT, "item");
    bind_text(st, 1, r->subject_id);
    bind_text(st, 2, r->id);
    bind_text(st, 3, r->category);
    bind_text(st, 4, r->field);
    bind_text(st, 5, r->source);
    sqlite3_bind_int64(st, 6, r->collected_at);
    bind_text(st, 7, r->recorded_by);
    sqlite3_bind_int64(st, 8, r->recorded_at);
    sqlite3_bind_int64(st, 9, r->updated_at);
    bind_blob(st, 10, r->value, r->value_len);
    sqlite3_bind_int64(st, 11, r->version > 0 ? r->version : 1);
    return exec_stmt(s, st, "adding an item", err);
}

static int item_row_cb(sqlite3_stmt *st, cu_item_cb cb, void *ctx)
{
    cu_item_row r = {
        .id = col_text(st, 0),
        .subject_id = col_text(st, 1),
        .category = col_text(st, 2),
        .field = col_text(st, 3),
        .source = col_text(st, 4),
        .recorded_by = col_text(st, 5),
        .collected_at = sqlite3_column_int64(st, 6),
        .recorded_at = sqlite3_column_int64(st, 7),
        .updated_at = sqlite3_column_int64(st, 8),
        .value = sqlite3_column_blob(st, 9),
        .value_len = (size_t)sqlite3_column_bytes(st, 9),
        .version = sqlite3_column_int64(st, 10),
    };
    return cb(ctx, &r);
}

int cu_store_item_each(cu_store *s, const char *subject_id, cu_item_cb cb, void *ctx,
                       cu_err *err)
{
    PREP(st, ST_ITEM_EACH, "items");
    bind_text(st, 1, subject_id);
    EACH_ROW(st, "reading items", item_row_cb(st, cb, ctx));
}

int cu_store_item_page(cu_store *s, const char *subject_id, const char *after_id, size_t limit,
                       cu_item_cb cb, void *ctx, bool *more, cu_err *err)
{
    *more = false;
    if (limit == 0 || limit > CU_STORE_PAGE_MAX)
        return cu_err_set(err, CU_EINVAL, "a page holds 1 to %d items", CU_STORE_PAGE_MAX);
    PREP(st, ST_ITEM_PAGE, "items");
    bind_text(st, 1, subject_id);
    bind_text(st, 2, after_id ? after_id : "");
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit + 1); /* one more: are there more? */
    size_t n = 0;
    int step, res = CU_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == limit) {
            *more = true;
            break;
        }
        if ((res = item_row_cb(st, cb, ctx)))
            break;
    }
    if (!res && !*more && step != SQLITE_DONE)
        res = db_fail(s, step, "reading items", err);
    done(st);
    return res;
}

int cu_store_item_each_named(cu_store *s, const char *subject_id, const char *const *fields,
                             size_t n, cu_item_cb cb, void *ctx, cu_err *err)
{
    if (n > 8)
        return cu_err_set(err, CU_EINVAL, "at most 8 field names at a time");
    PREP(st, ST_ITEM_NAMED, "items");
    bind_text(st, 1, subject_id);
    for (size_t i = 0; i < 8; i++)
        bind_text(st, (int)i + 2, i < n ? fields[i] : NULL);
    EACH_ROW(st, "reading items", item_row_cb(st, cb, ctx));
}

int cu_store_item_get(cu_store *s, const char *subject_id, const char *item_id, cu_item_cb cb,
                      void *ctx, cu_err *err)
{
    PREP(st, ST_ITEM_GET, "item");
    bind_text(st, 1, subject_id);
    bind_text(st, 2, item_id);
    int rc = sqlite3_step(st), res;
    if (rc == SQLITE_ROW)
        res = item_row_cb(st, cb, ctx);
    else if (rc == SQLITE_DONE)
        res = CU_ENOTFOUND;
    else
        res = db_fail(s, rc, "reading an item", err);
    done(st);
    return res;
}

int cu_store_item_update_value(cu_store *s, const char *subject_id, const char *item_id,
                               const void *sealed, size_t n, int64_t updated_at,
                               int64_t version, cu_err *err)
{
    PREP(st, ST_ITEM_UPDATE, "item");
    bind_text(st, 1, subject_id);
    bind_text(st, 2, item_id);
    bind_blob(st, 3, sealed, n);
    sqlite3_bind_int64(st, 4, updated_at);
    sqlite3_bind_int64(st, 5, version);
    int rc = exec_stmt(s, st, "updating an item", err);
    if (!rc && sqlite3_changes(s->db) != 1)
        return CU_ENOTFOUND;
    return rc;
}

int cu_store_item_delete_subject(cu_store *s, const char *subject_id, cu_err *err)
{
    PREP(st, ST_ITEM_DELETE_SUBJ, "items");
    bind_text(st, 1, subject_id);
    return exec_stmt(s, st, "deleting items", err);
}

int cu_store_ident_insert(cu_store *s, const char *kind, const unsigned char *bidx, size_t n,
                          const char *subject_id, const char *item_id, cu_err *err)
{
    PREP(st, ST_IDENT_INSERT, "identifier");
    bind_text(st, 1, kind);
    bind_blob(st, 2, bidx, n);
    bind_text(st, 3, subject_id);
    bind_text(st, 4, item_id);
    return exec_stmt(s, st, "indexing an identifier", err);
}

int cu_store_ident_find(cu_store *s, const char *kind, const unsigned char *bidx, size_t n,
                        cu_ident_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_IDENT_FIND, "identifier");
    bind_text(st, 1, kind);
    bind_blob(st, 2, bidx, n);
    EACH_ROW(st, "searching identifiers", cb(ctx, col_text(st, 0), col_text(st, 1)));
}

int cu_store_ident_delete_item(cu_store *s, const char *subject_id, const char *item_id,
                               cu_err *err)
{
    PREP(st, ST_IDENT_DELETE_ITEM, "identifier");
    bind_text(st, 1, subject_id);
    bind_text(st, 2, item_id);
    return exec_stmt(s, st, "removing an identifier", err);
}

int cu_store_ident_delete_subject(cu_store *s, const char *subject_id, cu_err *err)
{
    PREP(st, ST_IDENT_DELETE_SUBJ, "identifiers");
    bind_text(st, 1, subject_id);
    return exec_stmt(s, st, "removing identifiers", err);
}

int cu_store_audit_last(cu_store *s, int64_t *seq, unsigned char *hash, size_t hashlen,
                        cu_err *err)
{
    PREP(st, ST_AUDIT_LAST, "audit");
    int rc = sqlite3_step(st), res = CU_OK;
    *seq = 0;
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        if ((size_t)sqlite3_column_bytes(st, 1) != hashlen)
            res = cu_err_set(err, CU_ETAMPER, "audit event %lld has a malformed hash",
                             (long long)*seq);
        else
            memcpy(hash, sqlite3_column_blob(st, 1), hashlen);
    } else if (rc != SQLITE_DONE) {
        res = db_fail(s, rc, "reading the audit trail", err);
    }
    done(st);
    return res;
}

int cu_store_audit_insert(cu_store *s, const cu_audit_row *r, cu_err *err)
{
    PREP(st, ST_AUDIT_INSERT, "audit");
    sqlite3_bind_int64(st, 1, r->seq);
    sqlite3_bind_int64(st, 2, r->ts);
    bind_text(st, 3, r->actor);
    bind_text(st, 4, r->subject_id);
    bind_blob(st, 5, r->body, r->body_len);
    bind_blob(st, 6, r->hash, r->hash_len);
    return exec_stmt(s, st, "appending an audit event", err);
}

int cu_store_audit_each(cu_store *s, const cu_audit_filter *f, cu_audit_cb cb, void *ctx,
                        cu_err *err)
{
    static const cu_audit_filter none = {0};
    if (!f)
        f = &none;
    bool all = !f->subject_id && !f->actor && !f->since_us && !f->until_us && !f->after_seq &&
               f->limit <= 0;
    bool subject = f->subject_id && !f->actor && !f->since_us && !f->until_us;
    PREP(st, all ? ST_AUDIT_ALL : subject ? ST_AUDIT_SUBJECT : ST_AUDIT_EACH, "audit");
    if (subject) {
        bind_text(st, 1, f->subject_id);
        sqlite3_bind_int64(st, 2, f->after_seq);
        sqlite3_bind_int64(st, 3, f->limit > 0 ? f->limit : -1);
    } else if (!all) {
        bind_text(st, 1, f->subject_id);
        bind_text(st, 2, f->actor);
        sqlite3_bind_int64(st, 3, f->since_us);
        sqlite3_bind_int64(st, 4, f->until_us);
        sqlite3_bind_int64(st, 5, f->after_seq);
        sqlite3_bind_int64(st, 6, f->limit > 0 ? f->limit : -1);
    }
    EACH_ROW(st, "reading the audit trail",
             cb(ctx, &(cu_audit_row){
                         .seq = sqlite3_column_int64(st, 0),
                         .ts = sqlite3_column_int64(st, 1),
                         .actor = col_text(st, 2),
                         .subject_id = col_text(st, 3),
                         .body = sqlite3_column_blob(st, 4),
                         .body_len = (size_t)sqlite3_column_bytes(st, 4),
                         .hash = sqlite3_column_blob(st, 5),
                         .hash_len = (size_t)sqlite3_column_bytes(st, 5),
                     }));
}

static void bind_checkpoint(sqlite3_stmt *st, const cu_checkpoint *c)
{
    sqlite3_bind_int64(st, 1, c->seq);
    sqlite3_bind_int64(st, 2, c->signed_at);
    bind_blob(st, 3, c->hash, sizeof c->hash);
    bind_blob(st, 4, c->sig, sizeof c->sig);
}

/* Reads a checkpoint row; false when its blobs have the wrong sizes. */
static bool checkpoint_from_row(sqlite3_stmt *st, cu_checkpoint *c)
{
    memset(c, 0, sizeof *c);
    c->seq = sqlite3_column_int64(st, 0);
    c->signed_at = sqlite3_column_int64(st, 1);
    if ((size_t)sqlite3_column_bytes(st, 2) != sizeof c->hash ||
        (size_t)sqlite3_column_bytes(st, 3) != sizeof c->sig)
        return false;
    memcpy(c->hash, sqlite3_column_blob(st, 2), sizeof c->hash);
    memcpy(c->sig, sqlite3_column_blob(st, 3), sizeof c->sig);
    return true;
}

int cu_store_head_put(cu_store *s, const cu_checkpoint *c, cu_err *err)
{
    PREP(st, ST_HEAD_PUT, "audit head");
    bind_checkpoint(st, c);
    return exec_stmt(s, st, "signing the audit head", err);
}

int cu_store_head_get(cu_store *s, cu_checkpoint *out, cu_err *err)
{
    PREP(st, ST_HEAD_GET, "audit head");
    int rc = sqlite3_step(st), res = CU_OK;
    if (rc == SQLITE_ROW) {
        if (!checkpoint_from_row(st, out))
            res = cu_err_set(err, CU_ETAMPER, "the signed audit head is malformed");
    } else if (rc == SQLITE_DONE) {
        res = CU_ENOTFOUND;
    } else {
        res = db_fail(s, rc, "reading the audit head", err);
    }
    done(st);
    return res;
}

int cu_store_checkpoint_add(cu_store *s, const cu_checkpoint *c, cu_err *err)
{
    PREP(st, ST_CKPT_ADD, "checkpoint");
    bind_checkpoint(st, c);
    return exec_stmt(s, st, "adding an audit checkpoint", err);
}

int cu_store_checkpoint_last_seq(cu_store *s, int64_t *seq, cu_err *err)
{
    PREP(st, ST_CKPT_LAST, "checkpoint");
    int rc = sqlite3_step(st), res = CU_OK;
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    else
        res = db_fail(s, rc, "reading audit checkpoints", err);
    done(st);
    return res;
}

int cu_store_checkpoint_each(cu_store *s, cu_checkpoint_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_CKPT_EACH, "checkpoints");
    cu_checkpoint c;
    EACH_ROW(st, "reading audit checkpoints",
             checkpoint_from_row(st, &c)
                 ? cb(ctx, &c)
                 : cu_err_set(err, CU_ETAMPER, "audit checkpoint at %lld is malformed",
                              (long long)c.seq));
}

int cu_store_counts_get(cu_store *s, cu_store_counts *out, cu_err *err)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM controllers),"
        " (SELECT count(*) FROM subjects WHERE erased_at IS NULL),"
        " (SELECT count(*) FROM subjects WHERE erased_at IS NOT NULL),"
        " (SELECT count(*) FROM items),"
        " (SELECT coalesce(max(seq), 0) FROM audit_events),"
        " (SELECT count(*) FROM audit_checkpoints)";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, "counting", err);
    rc = sqlite3_step(st);
    int res = CU_OK;
    if (rc == SQLITE_ROW) {
        out->controllers = sqlite3_column_int64(st, 0);
        out->subjects = sqlite3_column_int64(st, 1);
        out->erased = sqlite3_column_int64(st, 2);
        out->items = sqlite3_column_int64(st, 3);
        out->audit_events = sqlite3_column_int64(st, 4);
        out->checkpoints = sqlite3_column_int64(st, 5);
    } else {
        res = db_fail(s, rc, "counting", err);
    }
    sqlite3_finalize(st);
    return res;
}

/* ---- migration 2: pseudonyms, staff, sessions, tokens, care, break-glass ---- */

int cu_store_subject_set_pseudonym(cu_store *s, const char *id, const char *pseudonym,
                                   cu_err *err)
{
    PREP(st, ST_SUBJ_PSN_SET, "subject");
    bind_text(st, 1, id);
    bind_text(st, 2, pseudonym);
    return exec_stmt(s, st, "setting a pseudonym", err);
}

int cu_store_subject_by_pseudonym(cu_store *s, const char *pseudonym, char id[40], cu_err *err)
{
    PREP(st, ST_SUBJ_BY_PSN, "subject");
    bind_text(st, 1, pseudonym);
    int rc = sqlite3_step(st), res = CU_OK;
    if (rc == SQLITE_ROW)
        cu_strlcpy(id, col_text(st, 0), 40);
    else if (rc == SQLITE_DONE)
        res = CU_ENOTFOUND;
    else
        res = db_fail(s, rc, "finding a pseudonym", err);
    done(st);
    return res;
}

int cu_store_subject_without_pseudonym(cu_store *s, cu_ident_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_SUBJ_NO_PSN, "subjects");
    EACH_ROW(st, "listing subjects", cb(ctx, col_text(st, 0), col_text(st, 1)));
}

static void bind_mac(sqlite3_stmt *st, int i, const unsigned char *mac, size_t n)
{
    if (mac && n)
        bind_blob(st, i, mac, n);
    else
        sqlite3_bind_null(st, i);
}

/* Copies a row's code (NULL: none) into a fixed buffer; a code of another
 * length is kept as none at all, which fails authentication. */
static void col_mac(sqlite3_stmt *st, int i, unsigned char mac[32], size_t *n)
{
    *n = 0;
    if (sqlite3_column_type(st, i) == SQLITE_BLOB && sqlite3_column_bytes(st, i) == 32) {
        memcpy(mac, sqlite3_column_blob(st, i), 32);
        *n = 32;
    }
}

static void user_from_row(sqlite3_stmt *st, cu_user_rec *u)
{
    memset(u, 0, sizeof *u);
    cu_strlcpy(u->id, col_text(st, 0), sizeof u->id);
    cu_strlcpy(u->controller_id, col_text(st, 1), sizeof u->controller_id);
    cu_strlcpy(u->username, col_text(st, 2), sizeof u->username);
    cu_strlcpy(u->roles, col_text(st, 3), sizeof u->roles);
    cu_strlcpy(u->pwhash, col_text(st, 4), sizeof u->pwhash);
    size_t n = (size_t)sqlite3_column_bytes(st, 5);
    if (sqlite3_column_type(st, 5) != SQLITE_NULL && n <= sizeof u->totp) {
        memcpy(u->totp, sqlite3_column_blob(st, 5), n);
        u->totp_len = n;
    }
    u->totp_last_step = sqlite3_column_int64(st, 6);
    u->failures = sqlite3_column_int64(st, 7);
    u->locked_until = sqlite3_column_int64(st, 8);
    u->created_at = sqlite3_column_int64(st, 9);
    u->disabled_at = sqlite3_column_int64(st, 10);
    col_mac(st, 11, u->mac, &u->mac_len);
}

int cu_store_user_insert(cu_store *s, const cu_user_rec *u, cu_err *err)
{
    PREP(st, ST_USER_INSERT, "user");
    bind_text(st, 1, u->id);
    bind_text(st, 2, u->controller_id);
    bind_text(st, 3, u->username);
    bind_text(st, 4, u->roles);
    bind_text(st, 5, u->pwhash);
    if (u->totp_len)
        bind_blob(st, 6, u->totp, u->totp_len);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, u->created_at);
    bind_mac(st, 8, u->mac, u->mac_len);
    int rc = sqlite3_step(st);
    done(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return cu_err_set(err, CU_ECONFLICT, "a user with that name already exists");
    return rc == SQLITE_DONE ? CU_OK : db_fail(s, rc, "adding a user", err);
}

int cu_store_user_get(cu_store *s, const char *username, const char *id, cu_user_rec *out,
                      cu_err *err)
{
    PREP(st, username ? ST_USER_BY_NAME : ST_USER_BY_ID, "user");
    bind_text(st, 1, username ? username : id);
    int rc = sqlite3_step(st), res = CU_OK;
    if (rc == SQLITE_ROW)
        user_from_row(st, out);
    else if (rc == SQLITE_DONE)
        res = CU_ENOTFOUND;
    else
        res = db_fail(s, rc, "reading a user", err);
    done(st);
    return res;
}

int cu_store_user_update(cu_store *s, const cu_user_rec *u, cu_err *err)
{
    PREP(st, ST_USER_UPDATE, "user");
    bind_text(st, 1, u->id);
    bind_text(st, 2, u->roles);
    bind_text(st, 3, u->pwhash);
    if (u->totp_len)
        bind_blob(st, 4, u->totp, u->totp_len);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, u->totp_last_step);
    sqlite3_bind_int64(st, 6, u->failures);
    sqlite3_bind_int64(st, 7, u->locked_until);
    sqlite3_bind_int64(st, 8, u->disabled_at);
    bind_mac(st, 9, u->mac, u->mac_len);
    return exec_stmt(s, st, "updating a user", err);
}

int cu_store_user_each(cu_store *s, cu_user_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_USER_ALL, "users");
    cu_user_rec u;
    EACH_ROW(st, "listing users", (user_from_row(st, &u), cb(ctx, &u)));
}

static void session_from_row(sqlite3_stmt *st, cu_session_rec *r)
{
    memset(r, 0, sizeof *r);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    if (n <= sizeof r->hash) {
        memcpy(r->hash, sqlite3_column_blob(st, 0), n);
        r->hash_len = n;
    }
    cu_strlcpy(r->user_id, col_text(st, 1), sizeof r->user_id);
    r->created_at = sqlite3_column_int64(st, 2);
    r->last_seen = sqlite3_column_int64(st, 3);
    r->revoked_at = sqlite3_column_int64(st, 4);
    col_mac(st, 5, r->mac, &r->mac_len);
}

int cu_store_session_insert(cu_store *s, const cu_session_rec *r, cu_err *err)
{
    PREP(st, ST_SESS_INSERT, "session");
    bind_blob(st, 1, r->hash, r->hash_len);
    bind_text(st, 2, r->user_id);
    sqlite3_bind_int64(st, 3, r->created_at);
    bind_mac(st, 4, r->mac, r->mac_len);
    return exec_stmt(s, st, "creating a session", err);
}

int cu_store_session_get(cu_store *s, const unsigned char *hash, size_t n, cu_session_rec *out,
                         cu_err *err)
{
    PREP(st, ST_SESS_GET, "session");
    bind_blob(st, 1, hash, n);
    int rc = sqlite3_step(st), res = CU_OK;
    if (rc == SQLITE_ROW)
        session_from_row(st, out);
    else if (rc == SQLITE_DONE)
        res = CU_ENOTFOUND;
    else
        res = db_fail(s, rc, "reading a session", err);
    done(st);
    return res;
}

int cu_store_session_touch(cu_store *s, const cu_session_rec *r, cu_err *err)
{
    PREP(st, ST_SESS_TOUCH, "session");
    bind_blob(st, 1, r->hash, r->hash_len);
    sqlite3_bind_int64(st, 2, r->last_seen);
    bind_mac(st, 3, r->mac, r->mac_len);
    return exec_stmt(s, st, "updating a session", err);
}

int cu_store_session_revoke(cu_store *s, const cu_session_rec *r, cu_err *err)
{
    PREP(st, ST_SESS_REVOKE, "session");
    bind_blob(st, 1, r->hash, r->hash_len);
    sqlite3_bind_int64(st, 2, r->revoked_at);
    bind_mac(st, 3, r->mac, r->mac_len);
    return exec_stmt(s, st, "revoking sessions", err);
}

int cu_store_session_each(cu_store *s, const char *user_id, cu_session_cb cb, void *ctx,
                          cu_err *err)
{
    PREP(st, user_id ? ST_SESS_OF_USER : ST_SESS_ALL, "sessions");
    if (user_id)
        bind_text(st, 1, user_id);
    cu_session_rec r;
    EACH_ROW(st, "listing sessions", (session_from_row(st, &r), cb(ctx, &r)));
}

static void token_from_row(sqlite3_stmt *st, cu_token_rec *t)
{
    memset(t, 0, sizeof *t);
    cu_strlcpy(t->id, col_text(st, 0), sizeof t->id);
    size_t n = (size_t)sqlite3_column_bytes(st, 1);
    if (n <= sizeof t->hash) {
        memcpy(t->hash, sqlite3_column_blob(st, 1), n);
        t->hash_len = n;
    }
    cu_strlcpy(t->controller_id, col_text(st, 2), sizeof t->controller_id);
    cu_strlcpy(t->roles, col_text(st, 3), sizeof t->roles);
    cu_strlcpy(t->name, col_text(st, 4), sizeof t->name);
    t->created_at = sqlite3_column_int64(st, 5);
    t->revoked_at = sqlite3_column_int64(st, 6);
    col_mac(st, 7, t->mac, &t->mac_len);
}

int cu_store_token_insert(cu_store *s, const cu_token_rec *t, cu_err *err)
{
    PREP(st, ST_TOKEN_INSERT, "token");
    bind_text(st, 1, t->id);
    bind_blob(st, 2, t->hash, t->hash_len);
    bind_text(st, 3, t->controller_id);
    bind_text(st, 4, t->roles);
    bind_text(st, 5, t->name);
    sqlite3_bind_int64(st, 6, t->created_at);
    bind_mac(st, 7, t->mac, t->mac_len);
    return exec_stmt(s, st, "creating an API token", err);
}

int cu_store_token_get(cu_store *s, const unsigned char *hash, size_t n, const char *id,
                       cu_token_rec *out, cu_err *err)
{
    PREP(st, hash ? ST_TOKEN_BY_HASH : ST_TOKEN_BY_ID, "token");
    if (hash)
        bind_blob(st, 1, hash, n);
    else
        bind_text(st, 1, id);
    int rc = sqlite3_step(st), res = CU_OK;
    if (rc == SQLITE_ROW)
        token_from_row(st, out);
    else if (rc == SQLITE_DONE)
        res = CU_ENOTFOUND;
    else
        res = db_fail(s, rc, "reading an API token", err);
    done(st);
    return res;
}

int cu_store_token_revoke(cu_store *s, const cu_token_rec *t, cu_err *err)
{
    PREP(st, ST_TOKEN_REVOKE, "token");
    bind_text(st, 1, t->id);
    sqlite3_bind_int64(st, 2, t->revoked_at);
    bind_mac(st, 3, t->mac, t->mac_len);
    int rc = exec_stmt(s, st, "revoking an API token", err);
    return !rc && sqlite3_changes(s->db) == 0 ? CU_ENOTFOUND : rc;
}

int cu_store_token_each(cu_store *s, cu_token_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_TOKEN_ALL, "tokens");
    cu_token_rec t;
    EACH_ROW(st, "listing API tokens", (token_from_row(st, &t), cb(ctx, &t)));
}

int cu_store_care_set(cu_store *s, const cu_care_row *r, bool on, cu_err *err)
{
    PREP(st, on ? ST_CARE_ADD : ST_CARE_REMOVE, "care list");
    bind_text(st, 1, r->user_id);
    bind_text(st, 2, r->subject_id);
    if (on) {
        sqlite3_bind_int64(st, 3, r->added_at);
        bind_text(st, 4, r->added_by);
        bind_mac(st, 5, r->mac, r->mac_len);
    }
    return exec_stmt(s, st, "changing a care list", err);
}

static cu_care_row care_from_row(sqlite3_stmt *st)
{
    int mt = sqlite3_column_type(st, 4);
    return (cu_care_row){
        .user_id = col_text(st, 0),
        .subject_id = col_text(st, 1),
        .added_at = sqlite3_column_int64(st, 2),
        .added_by = col_text(st, 3),
        .mac = mt == SQLITE_BLOB ? sqlite3_column_blob(st, 4) : NULL,
        .mac_len = mt == SQLITE_BLOB ? (size_t)sqlite3_column_bytes(st, 4) : 0,
    };
}

int cu_store_care_get(cu_store *s, const char *user_id, const char *subject_id,
                      cu_care_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_CARE_HAS, "care list");
    bind_text(st, 1, user_id);
    bind_text(st, 2, subject_id);
    int rc = sqlite3_step(st), res;
    if (rc == SQLITE_ROW) {
        cu_care_row r = care_from_row(st);
        res = cb(ctx, &r);
    } else if (rc == SQLITE_DONE) {
        res = CU_ENOTFOUND;
    } else {
        res = db_fail(s, rc, "reading a care list", err);
    }
    done(st);
    return res;
}

int cu_store_care_each(cu_store *s, cu_care_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_CARE_ALL, "care list");
    cu_care_row r;
    EACH_ROW(st, "listing care lists", (r = care_from_row(st), cb(ctx, &r)));
}

int cu_store_break_glass_insert(cu_store *s, const cu_break_glass_row *b, cu_err *err)
{
    PREP(st, ST_BG_INSERT, "break-glass");
    bind_text(st, 1, b->id);
    bind_text(st, 2, b->user_id);
    bind_text(st, 3, b->subject_id);
    bind_blob(st, 4, b->reason, b->reason_len);
    sqlite3_bind_int64(st, 5, b->granted_at);
    sqlite3_bind_int64(st, 6, b->expires_at);
    bind_mac(st, 7, b->mac, b->mac_len);
    return exec_stmt(s, st, "granting break-glass access", err);
}

/* A row of BG_COLUMNS (and the username after them when with_name). */
static cu_break_glass_row bg_from_row(sqlite3_stmt *st, bool with_name)
{
    int mt = sqlite3_column_type(st, 6);
    return (cu_break_glass_row){
        .id = col_text(st, 0),
        .user_id = col_text(st, 1),
        .subject_id = col_text(st, 2),
        .reason = sqlite3_column_blob(st, 3),
        .reason_len = (size_t)sqlite3_column_bytes(st, 3),
        .granted_at = sqlite3_column_int64(st, 4),
        .expires_at = sqlite3_column_int64(st, 5),
        .mac = mt == SQLITE_BLOB ? sqlite3_column_blob(st, 6) : NULL,
        .mac_len = mt == SQLITE_BLOB ? (size_t)sqlite3_column_bytes(st, 6) : 0,
        .username = with_name ? col_text(st, 7) : NULL,
    };
}

int cu_store_break_glass_active(cu_store *s, const char *user_id, const char *subject_id,
                                int64_t now, cu_break_glass_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_BG_ACTIVE, "break-glass");
    bind_text(st, 1, user_id);
    bind_text(st, 2, subject_id);
    sqlite3_bind_int64(st, 3, now);
    cu_break_glass_row b;
    EACH_ROW(st, "reading break-glass grants", (b = bg_from_row(st, false), cb(ctx, &b)));
}

int cu_store_break_glass_each(cu_store *s, const char *controller_id, int64_t since,
                              cu_break_glass_cb cb, void *ctx, cu_err *err)
{
    PREP(st, controller_id ? ST_BG_EACH : ST_BG_ALL, "break-glass");
    if (controller_id) {
        bind_text(st, 1, controller_id);
        sqlite3_bind_int64(st, 2, since);
    }
    cu_break_glass_row b;
    EACH_ROW(st, "listing break-glass grants",
             (b = bg_from_row(st, controller_id != NULL), cb(ctx, &b)));
}

int cu_store_row_mac_set(cu_store *s, cu_mac_table t, const void *key, size_t key_len,
                         const char *key2, int64_t num, const unsigned char *mac,
                         size_t mac_len, cu_err *err)
{
    static const enum cu_stmt_id ids[] = {
        [CU_MT_USERS] = ST_MAC_USERS,     [CU_MT_SESSIONS] = ST_MAC_SESSIONS,
        [CU_MT_TOKENS] = ST_MAC_TOKENS,   [CU_MT_CARE] = ST_MAC_CARE,
        [CU_MT_BREAK_GLASS] = ST_MAC_BG,  [CU_MT_POLICIES] = ST_MAC_POLICIES,
        [CU_MT_UNSUBSCRIBE] = ST_MAC_UNSUB, [CU_MT_CONSENTS] = ST_MAC_CONSENTS,
        [CU_MT_OBJECTIONS] = ST_MAC_OBJECTIONS, [CU_MT_REQUESTS] = ST_MAC_REQUESTS,
    };
    if ((unsigned)t >= sizeof ids / sizeof ids[0])
        return cu_err_set(err, CU_EINVAL, "no such authenticated table");
    PREP(st, ids[t], "row code");
    if (key_len)
        bind_blob(st, 1, key, key_len);
    else
        bind_text(st, 1, key);
    if (key2)
        bind_text(st, 2, key2);
    else
        sqlite3_bind_int64(st, 2, num);
    bind_mac(st, 3, mac, mac_len);
    return exec_stmt(s, st, "recording a row code", err);
}

/* ---- policies, consent, objection, restriction (migration 3) ---- */

int cu_store_policy_insert(cu_store *s, const cu_policy_row *r, cu_err *err)
{
    PREP(st, ST_POL_INSERT, "policy");
    bind_text(st, 1, r->controller_id);
    sqlite3_bind_int64(st, 2, r->version);
    sqlite3_bind_int64(st, 3, r->applied_at);
    bind_text(st, 4, r->applied_by);
    bind_blob(st, 5, r->digest, r->digest_len);
    bind_blob(st, 6, r->document, r->document_len);
    bind_mac(st, 7, r->mac, r->mac_len);
    int rc = sqlite3_step(st);
    done(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return cu_err_set(err, CU_ECONFLICT, "that policy version already exists");
    return rc == SQLITE_DONE ? CU_OK : db_fail(s, rc, "recording a policy", err);
}

static cu_policy_row policy_from_row(sqlite3_stmt *st, bool with_document)
{
    int mt = sqlite3_column_type(st, 6);
    return (cu_policy_row){
        .controller_id = col_text(st, 0),
        .version = sqlite3_column_int64(st, 1),
        .applied_at = sqlite3_column_int64(st, 2),
        .applied_by = col_text(st, 3),
        .digest = sqlite3_column_blob(st, 4),
        .digest_len = (size_t)sqlite3_column_bytes(st, 4),
        .document = with_document ? sqlite3_column_blob(st, 5) : NULL,
        .document_len = with_document ? (size_t)sqlite3_column_bytes(st, 5) : 0,
        .mac = mt == SQLITE_BLOB ? sqlite3_column_blob(st, 6) : NULL,
        .mac_len = mt == SQLITE_BLOB ? (size_t)sqlite3_column_bytes(st, 6) : 0,
    };
}

int cu_store_policy_get(cu_store *s, const char *controller_id, int64_t version,
                        cu_policy_row_cb cb, void *ctx, cu_err *err)
{
    PREP(st, version ? ST_POL_GET : ST_POL_CURRENT, "policy");
    bind_text(st, 1, controller_id);
    if (version)
        sqlite3_bind_int64(st, 2, version);
    int rc = sqlite3_step(st), res;
    if (rc == SQLITE_ROW) {
        cu_policy_row r = policy_from_row(st, true);
        res = cb(ctx, &r);
    } else if (rc == SQLITE_DONE) {
        res = CU_ENOTFOUND;
    } else {
        res = db_fail(s, rc, "reading a policy", err);
    }
    done(st);
    return res;
}

int cu_store_policy_each(cu_store *s, const char *controller_id, cu_policy_row_cb cb, void *ctx,
                         cu_err *err)
{
    PREP(st, controller_id ? ST_POL_EACH : ST_POL_ALL, "policies");
    if (controller_id)
        bind_text(st, 1, controller_id);
    cu_policy_row r;
    EACH_ROW(st, "listing policies", (r = policy_from_row(st, !controller_id), cb(ctx, &r)));
}

int64_t cu_store_change_counter(const cu_store *s)
{
    return s->data_version;
}

int cu_store_consent_insert(cu_store *s, const cu_consent_row *r, cu_err *err)
{
    PREP(st, ST_CONSENT_INSERT, "consent");
    bind_text(st, 1, r->id);
    bind_text(st, 2, r->subject_id);
    bind_text(st, 3, r->purpose);
    bind_text(st, 4, r->state);
    bind_text(st, 5, r->method);
    bind_text(st, 6, r->recorded_by);
    sqlite3_bind_int64(st, 7, r->policy_version);
    sqlite3_bind_int64(st, 8, r->at);
    if (r->evidence)
        bind_blob(st, 9, r->evidence, r->evidence_len);
    bind_mac(st, 10, r->mac, r->mac_len);
    return exec_stmt(s, st, "recording consent", err);
}

static cu_consent_row consent_from_row(sqlite3_stmt *st)
{
    int mt = sqlite3_column_type(st, 9);
    return (cu_consent_row){
        .id = col_text(st, 0),
        .subject_id = col_text(st, 1),
        .purpose = col_text(st, 2),
        .state = col_text(st, 3),
        .method = col_text(st, 4),
        .recorded_by = col_text(st, 5),
        .policy_version = sqlite3_column_int64(st, 6),
        .at = sqlite3_column_int64(st, 7),
        .evidence = sqlite3_column_blob(st, 8),
        .evidence_len = (size_t)sqlite3_column_bytes(st, 8),
        .mac = mt == SQLITE_BLOB ? sqlite3_column_blob(st, 9) : NULL,
        .mac_len = mt == SQLITE_BLOB ? (size_t)sqlite3_column_bytes(st, 9) : 0,
    };
}

/* One row of a statement that returns at most one: cb's result, CU_ENOTFOUND
 * when there is none. */
static int consent_one(cu_store *s, sqlite3_stmt *st, cu_consent_cb cb, void *ctx,
                       cu_err *err)
{
    int rc = sqlite3_step(st), res;
    if (rc == SQLITE_ROW) {
        cu_consent_row r = consent_from_row(st);
        res = cb(ctx, &r);
    } else if (rc == SQLITE_DONE) {
        res = CU_ENOTFOUND;
    } else {
        res = db_fail(s, rc, "reading consent", err);
    }
    done(st);
    return res;
}

int cu_store_consent_latest(cu_store *s, const char *subject_id, const char *purpose,
                            cu_consent_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_CONSENT_LATEST, "consent");
    bind_text(st, 1, subject_id);
    bind_text(st, 2, purpose);
    return consent_one(s, st, cb, ctx, err);
}

int cu_store_consent_count(cu_store *s, const char *subject_id, int64_t *out, cu_err *err)
{
    PREP(st, ST_CONSENT_COUNT, "consents");
    bind_text(st, 1, subject_id);
    int rc = sqlite3_step(st), res = CU_OK;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        res = db_fail(s, rc, "counting consent records", err);
    done(st);
    return res;
}

int cu_store_consent_each(cu_store *s, const char *subject_id, cu_consent_cb cb, void *ctx,
                          cu_err *err)
{
    PREP(st, subject_id ? ST_CONSENT_EACH : ST_CONSENT_ALL, "consents");
    if (subject_id)
        bind_text(st, 1, subject_id);
    cu_consent_row r;
    EACH_ROW(st, "listing consent", (r = consent_from_row(st), cb(ctx, &r)));
}

int cu_store_consent_get(cu_store *s, const char *id, cu_consent_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_CONSENT_GET, "consent");
    bind_text(st, 1, id);
    return consent_one(s, st, cb, ctx, err);
}

int cu_store_objection_recount(cu_store *s, const char *subject_id, cu_err *err)
{
    PREP(st, ST_OBJ_COUNT, "objections");
    bind_text(st, 1, subject_id);
    return exec_stmt(s, st, "counting objections", err);
}

int cu_store_objection_add(cu_store *s, const char *subject_id, const char *purpose,
                           int64_t now, const char *by, int64_t *seq, cu_err *err)
{
    PREP(st, ST_OBJ_ADD, "objection");
    bind_text(st, 1, subject_id);
    bind_text(st, 2, purpose);
    sqlite3_bind_int64(st, 3, now);
    bind_text(st, 4, by);
    int rc = exec_stmt(s, st, "recording an objection", err);
    *seq = rc ? 0 : sqlite3_last_insert_rowid(s->db);
    return rc;
}

int cu_store_objection_lift(cu_store *s, int64_t seq, int64_t now, const char *by,
                            const unsigned char *mac, size_t mac_len, cu_err *err)
{
    PREP(st, ST_OBJ_LIFT_ONE, "objection");
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, now);
    bind_text(st, 3, by);
    bind_mac(st, 4, mac, mac_len);
    return exec_stmt(s, st, "lifting an objection", err);
}

int cu_store_objection_each(cu_store *s, const char *subject_id, cu_objection_cb cb, void *ctx,
                            cu_err *err)
{
    PREP(st, subject_id ? ST_OBJ_EACH : ST_OBJ_ALL, "objections");
    if (subject_id)
        bind_text(st, 1, subject_id);
    int mt;
    EACH_ROW(st, "listing objections",
             (mt = sqlite3_column_type(st, 7),
              cb(ctx, &(cu_objection_row){
                          .subject_id = col_text(st, 0),
                          .purpose = col_text(st, 1),
                          .recorded_by = col_text(st, 2),
                          .lifted_by = sqlite3_column_type(st, 3) == SQLITE_NULL
                                           ? NULL
                                           : col_text(st, 3),
                          .made_at = sqlite3_column_int64(st, 4),
                          .lifted_at = sqlite3_column_int64(st, 5),
                          .seq = sqlite3_column_int64(st, 6),
                          .mac = mt == SQLITE_BLOB ? sqlite3_column_blob(st, 7) : NULL,
                          .mac_len = mt == SQLITE_BLOB ? (size_t)sqlite3_column_bytes(st, 7) : 0,
                      })));
}

int cu_store_subject_set_restricted(cu_store *s, const char *id, int64_t at, cu_err *err)
{
    PREP(st, ST_SUBJ_RESTRICT, "subject");
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    return exec_stmt(s, st, "changing a restriction", err);
}

int cu_store_unsubscribe_insert(cu_store *s, const cu_unsub_row *r, cu_err *err)
{
    PREP(st, ST_UNSUB_INSERT, "unsubscribe link");
    bind_blob(st, 1, r->hash, r->hash_len);
    bind_text(st, 2, r->subject_id);
    bind_text(st, 3, r->purpose);
    sqlite3_bind_int64(st, 4, r->created_at);
    bind_mac(st, 5, r->mac, r->mac_len);
    return exec_stmt(s, st, "recording an unsubscribe link", err);
}

static cu_unsub_row unsub_from_row(sqlite3_stmt *st)
{
    int mt = sqlite3_column_type(st, 5);
    return (cu_unsub_row){
        .hash = sqlite3_column_blob(st, 0),
        .hash_len = (size_t)sqlite3_column_bytes(st, 0),
        .subject_id = col_text(st, 1),
        .purpose = col_text(st, 2),
        .created_at = sqlite3_column_int64(st, 3),
        .used_at = sqlite3_column_int64(st, 4),
        .mac = mt == SQLITE_BLOB ? sqlite3_column_blob(st, 5) : NULL,
        .mac_len = mt == SQLITE_BLOB ? (size_t)sqlite3_column_bytes(st, 5) : 0,
    };
}

int cu_store_unsubscribe_get(cu_store *s, const unsigned char *hash, size_t n,
                             cu_unsub_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_UNSUB_PEEK, "unsubscribe link");
    bind_blob(st, 1, hash, n);
    int rc = sqlite3_step(st), res;
    if (rc == SQLITE_ROW) {
        cu_unsub_row r = unsub_from_row(st);
        res = cb(ctx, &r);
    } else if (rc == SQLITE_DONE) {
        res = CU_ENOTFOUND;
    } else {
        res = db_fail(s, rc, "reading an unsubscribe link", err);
    }
    done(st);
    return res;
}

int cu_store_unsubscribe_use(cu_store *s, const cu_unsub_row *r, cu_err *err)
{
    PREP(st, ST_UNSUB_USE, "unsubscribe link");
    bind_blob(st, 1, r->hash, r->hash_len);
    sqlite3_bind_int64(st, 2, r->used_at);
    bind_mac(st, 3, r->mac, r->mac_len);
    int rc = exec_stmt(s, st, "using an unsubscribe link", err);
    return !rc && sqlite3_changes(s->db) == 0 ? CU_ENOTFOUND : rc;
}

int cu_store_unsubscribe_each(cu_store *s, cu_unsub_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_UNSUB_ALL, "unsubscribe links");
    cu_unsub_row r;
    EACH_ROW(st, "listing unsubscribe links", (r = unsub_from_row(st), cb(ctx, &r)));
}

/* ---- rights requests (migration 4) ---- */

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        bind_text(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void bind_request(sqlite3_stmt *st, const cu_request_rec *r)
{
    bind_text(st, 1, r->id);
    bind_text(st, 2, r->controller_id);
    bind_text(st, 3, r->kind);
    bind_text(st, 4, r->channel);
    bind_text(st, 5, r->state);
    bind_opt(st, 6, r->paused_from);
    bind_opt(st, 7, r->subject_id);
    bind_opt(st, 8, r->purpose);
    bind_text(st, 9, r->received_on);
    bind_opt(st, 10, r->evidence_on);
    sqlite3_bind_int(st, 11, r->extended ? 1 : 0);
    bind_opt(st, 12, r->told_on);
    bind_opt(st, 13, r->grounds);
    bind_opt(st, 14, r->closed_on);
    sqlite3_bind_int64(st, 15, r->created_at);
    sqlite3_bind_int64(st, 16, r->updated_at);
    bind_opt(st, 17, r->complaint_route);
    bind_mac(st, 18, r->mac, r->mac_len);
}

/* A text column, "" when NULL. */
static const char *col_str(sqlite3_stmt *st, int i)
{
    const char *t = col_text(st, i);
    return t ? t : "";
}

static void request_from_row(sqlite3_stmt *st, cu_request_rec *r)
{
    memset(r, 0, sizeof *r);
    cu_strlcpy(r->id, col_str(st, 0), sizeof r->id);
    cu_strlcpy(r->controller_id, col_str(st, 1), sizeof r->controller_id);
    cu_strlcpy(r->kind, col_str(st, 2), sizeof r->kind);
    cu_strlcpy(r->channel, col_str(st, 3), sizeof r->channel);
    cu_strlcpy(r->state, col_str(st, 4), sizeof r->state);
    cu_strlcpy(r->paused_from, col_str(st, 5), sizeof r->paused_from);
    cu_strlcpy(r->subject_id, col_str(st, 6), sizeof r->subject_id);
    cu_strlcpy(r->purpose, col_str(st, 7), sizeof r->purpose);
    cu_strlcpy(r->received_on, col_str(st, 8), sizeof r->received_on);
    cu_strlcpy(r->evidence_on, col_str(st, 9), sizeof r->evidence_on);
    r->extended = sqlite3_column_int(st, 10) != 0;
    cu_strlcpy(r->told_on, col_str(st, 11), sizeof r->told_on);
    cu_strlcpy(r->grounds, col_str(st, 12), sizeof r->grounds);
    cu_strlcpy(r->closed_on, col_str(st, 13), sizeof r->closed_on);
    r->created_at = sqlite3_column_int64(st, 14);
    r->updated_at = sqlite3_column_int64(st, 15);
    cu_strlcpy(r->complaint_route, col_str(st, 16), sizeof r->complaint_route);
    col_mac(st, 17, r->mac, &r->mac_len);
}

int cu_store_request_insert(cu_store *s, const cu_request_rec *r, cu_err *err)
{
    PREP(st, ST_RQ_INSERT, "request");
    bind_request(st, r);
    return exec_stmt(s, st, "recording a request", err);
}

int cu_store_request_update(cu_store *s, const cu_request_rec *r, cu_err *err)
{
    PREP(st, ST_RQ_UPDATE, "request");
    bind_request(st, r);
    int rc = exec_stmt(s, st, "changing a request", err);
    if (!rc && sqlite3_changes64(s->db) != 1)
        rc = cu_err_set(err, CU_ENOTFOUND, "no request %s", r->id);
    return rc;
}

int cu_store_request_get(cu_store *s, const char *id, cu_request_rec *out, cu_err *err)
{
    PREP(st, ST_RQ_GET, "request");
    bind_text(st, 1, id);
    int rc = sqlite3_step(st), res = CU_OK;
    if (rc == SQLITE_ROW)
        request_from_row(st, out);
    else if (rc == SQLITE_DONE)
        res = CU_ENOTFOUND;
    else
        res = db_fail(s, rc, "reading a request", err);
    done(st);
    return res;
}

static int request_row_cb(sqlite3_stmt *st, cu_request_cb cb, void *ctx)
{
    cu_request_rec r;
    request_from_row(st, &r);
    return cb(ctx, &r);
}

int cu_store_request_each(cu_store *s, const char *controller_id, bool open_only,
                          cu_request_cb cb, void *ctx, cu_err *err)
{
    PREP(st, controller_id ? ST_RQ_EACH_CTL : ST_RQ_EACH, "requests");
    sqlite3_bind_int(st, 1, open_only ? 1 : 0);
    if (controller_id)
        bind_text(st, 2, controller_id);
    EACH_ROW(st, "listing requests", request_row_cb(st, cb, ctx));
}

int cu_store_request_pause_open(cu_store *s, const char *request_id, const char *paused_on,
                                cu_err *err)
{
    PREP(st, ST_RQ_PAUSE_OPEN, "request pause");
    bind_text(st, 1, request_id);
    bind_text(st, 2, paused_on);
    return exec_stmt(s, st, "pausing a request", err);
}

int cu_store_request_pause_close(cu_store *s, const char *request_id, const char *resumed_on,
                                 cu_err *err)
{
    PREP(st, ST_RQ_PAUSE_CLOSE, "request pause");
    bind_text(st, 1, request_id);
    bind_text(st, 2, resumed_on);
    return exec_stmt(s, st, "resuming a request", err);
}

int cu_store_request_pauses(cu_store *s, const char *request_id, cu_request_pause_cb cb,
                            void *ctx, cu_err *err)
{
    PREP(st, ST_RQ_PAUSES, "request pauses");
    bind_text(st, 1, request_id);
    EACH_ROW(st, "reading request pauses", cb(ctx, col_text(st, 0), col_text(st, 1)));
}

int cu_store_request_event_insert(cu_store *s, const cu_request_event_row *r, cu_err *err)
{
    PREP(st, ST_RQ_EV_INSERT, "request event");
    bind_text(st, 1, r->id);
    bind_text(st, 2, r->request_id);
    sqlite3_bind_int64(st, 3, r->at);
    bind_text(st, 4, r->on_date);
    bind_text(st, 5, r->actor);
    bind_text(st, 6, r->action);
    bind_opt(st, 7, r->from_state);
    bind_text(st, 8, r->to_state);
    bind_text(st, 9, r->sealed_by);
    bind_blob(st, 10, r->why, r->why_len);
    return exec_stmt(s, st, "recording a request event", err);
}

static int request_event_cb(sqlite3_stmt *st, cu_request_event_cb cb, void *ctx)
{
    cu_request_event_row r = {
        .id = col_text(st, 0), .request_id = col_text(st, 1), .at = sqlite3_column_int64(st, 2),
        .on_date = col_text(st, 3), .actor = col_text(st, 4), .action = col_text(st, 5),
        .from_state = col_text(st, 6), .to_state = col_text(st, 7),
        .sealed_by = col_text(st, 8), .why = sqlite3_column_blob(st, 9),
        .why_len = (size_t)sqlite3_column_bytes(st, 9), .seq = sqlite3_column_int64(st, 10),
    };
    return cb(ctx, &r);
}

int cu_store_request_event_each(cu_store *s, const char *request_id, cu_request_event_cb cb,
                                void *ctx, cu_err *err)
{
    PREP(st, ST_RQ_EV_EACH, "request events");
    bind_text(st, 1, request_id);
    EACH_ROW(st, "reading request events", request_event_cb(st, cb, ctx));
}

int cu_store_request_event_reseal(cu_store *s, const char *event_id, const char *sealed_by,
                                  const void *why, size_t n, cu_err *err)
{
    PREP(st, ST_RQ_EV_RESEAL, "request event");
    bind_text(st, 1, event_id);
    bind_text(st, 2, sealed_by);
    bind_blob(st, 3, why, n);
    return exec_stmt(s, st, "resealing a request event", err);
}

/* ---- item-level erasure and backups ---- */

int cu_store_item_delete(cu_store *s, const char *subject_id, const char *item_id, cu_err *err)
{
    PREP(st, ST_ITEM_DELETE, "item");
    bind_text(st, 1, subject_id);
    bind_text(st, 2, item_id);
    int rc = exec_stmt(s, st, "deleting an item", err);
    if (!rc && sqlite3_changes(s->db) != 1)
        rc = cu_err_set(err, CU_ENOTFOUND, "no item %s", item_id);
    return rc;
}

int cu_store_item_reseal(cu_store *s, const char *subject_id, const char *item_id,
                         const void *sealed, size_t n, int64_t version, cu_err *err)
{
    PREP(st, ST_ITEM_RESEAL, "item");
    bind_text(st, 1, subject_id);
    bind_text(st, 2, item_id);
    bind_blob(st, 3, sealed, n);
    sqlite3_bind_int64(st, 4, version);
    return exec_stmt(s, st, "re-encrypting an item", err);
}

int cu_store_subject_set_key_version(cu_store *s, const char *id, int64_t version, cu_err *err)
{
    PREP(st, ST_SUBJ_KEYVER, "subject");
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    return exec_stmt(s, st, "recording a key version", err);
}

int cu_store_consent_set_evidence(cu_store *s, const char *id, const void *sealed, size_t n,
                                  const unsigned char *mac, size_t mac_len, cu_err *err)
{
    PREP(st, ST_CONSENT_EVIDENCE, "consent");
    bind_text(st, 1, id);
    bind_blob(st, 2, sealed, n);
    bind_mac(st, 3, mac, mac_len);
    return exec_stmt(s, st, "re-encrypting consent evidence", err);
}

int cu_store_break_glass_of_subject(cu_store *s, const char *subject_id,
                                    cu_break_glass_cb cb, void *ctx, cu_err *err)
{
    PREP(st, ST_BG_SUBJECT, "break-glass");
    bind_text(st, 1, subject_id);
    cu_break_glass_row b;
    EACH_ROW(st, "listing break-glass grants", (b = bg_from_row(st, false), cb(ctx, &b)));
}

int cu_store_break_glass_set_reason(cu_store *s, const char *id, const void *sealed, size_t n,
                                    const unsigned char *mac, size_t mac_len, cu_err *err)
{
    PREP(st, ST_BG_REASON, "break-glass");
    bind_text(st, 1, id);
    bind_blob(st, 2, sealed, n);
    bind_mac(st, 3, mac, mac_len);
    return exec_stmt(s, st, "re-encrypting a break-glass reason", err);
}

int cu_store_backup(cu_store *s, const char *dest_path, cu_err *err)
{
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(dest_path, &dst,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE,
                             NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(dst);
        return cu_err_set(err, CU_EIO, "cannot create the backup copy (%s)",
                          sqlite3_errstr(rc));
    }
    /* A connection of its own: in WAL mode a reader is never blocked by the
     * writer, so the backup works while this connection holds a transaction. */
    sqlite3 *src = NULL;
    const char *path = sqlite3_db_filename(s->db, "main");
    rc = sqlite3_open_v2(path ? path : "", &src, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        sqlite3_busy_timeout(src, 10000);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(dst, "main", src, "main") : NULL;
    if (!b) {
        rc = rc == SQLITE_OK ? sqlite3_errcode(dst) : rc;
        sqlite3_close(dst);
        sqlite3_close(src);
        return cu_err_set(err, CU_EIO, "cannot start the backup (%s)", sqlite3_errstr(rc));
    }
    /* One step copies everything under one read transaction: a consistent
     * snapshot even while other connections write. */
    rc = sqlite3_backup_step(b, -1);
    int frc = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE && frc == SQLITE_OK)
        rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    else
        rc = rc == SQLITE_DONE ? frc : rc;
    int crc = sqlite3_close(dst);
    sqlite3_close(src);
    if (rc != SQLITE_OK || crc != SQLITE_OK)
        return cu_err_set(err, CU_EIO, "the backup copy failed (%s)",
                          sqlite3_errstr(rc != SQLITE_OK ? rc : crc));
    return CU_OK;
}

/* ---- disclosures (migration 5) ---- */

int cu_store_disclosure_insert(cu_store *s, const cu_disclosure_row *r, cu_err *err)
{
    PREP(st, ST_DISC_INSERT, "disclosure");
    bind_text(st, 1, r->id);
    bind_text(st, 2, r->subject_id);
    if (r->recipient_id)
        bind_text(st, 3, r->recipient_id);
    if (r->recipient)
        bind_blob(st, 4, r->recipient, r->recipient_len);
    bind_text(st, 5, r->basis);
    bind_text(st, 6, r->purpose);
    bind_text(st, 7, r->channel);
    bind_text(st, 8, r->items);
    bind_text(st, 9, r->categories);
    sqlite3_bind_int64(st, 10, r->disclosed_at);
    sqlite3_bind_int64(st, 11, r->recorded_at);
    bind_text(st, 12, r->recorded_by);
    if (r->note)
        bind_blob(st, 13, r->note, r->note_len);
    return exec_stmt(s, st, "recording a disclosure", err);
}

static cu_disclosure_row disclosure_from_row(sqlite3_stmt *st)
{
    return (cu_disclosure_row){
        .id = col_text(st, 0),
        .subject_id = col_text(st, 1),
        .recipient_id = sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL : col_text(st, 2),
        .recipient = sqlite3_column_blob(st, 3),
        .recipient_len = (size_t)sqlite3_column_bytes(st, 3),
        .basis = col_text(st, 4),
        .purpose = col_text(st, 5),
        .channel = col_text(st, 6),
        .items = col_text(st, 7),
        .categories = col_text(st, 8),
        .disclosed_at = sqlite3_column_int64(st, 9),
        .recorded_at = sqlite3_column_int64(st, 10),
        .recorded_by = col_text(st, 11),
        .note = sqlite3_column_blob(st, 12),
        .note_len = (size_t)sqlite3_column_bytes(st, 12),
    };
}

int cu_store_disclosure_each(cu_store *s, const char *subject_id, cu_disclosure_cb cb, void *ctx,
                             cu_err *err)
{
    PREP(st, ST_DISC_EACH, "disclosures");
    bind_text(st, 1, subject_id);
    cu_disclosure_row r;
    EACH_ROW(st, "listing disclosures", (r = disclosure_from_row(st), cb(ctx, &r)));
}
