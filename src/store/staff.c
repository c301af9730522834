/* staff.c — staff accounts, sessions, API tokens, care lists, break-glass
 * grants and the row codes of authenticated tables (store.h). Statements by
 * id only: no SQL here. */
#include <string.h>

#include "store/store_impl.h"

/* ---- users ---- */

static void user_from_row(const cu_val *c, cu_user_rec *u)
{
    memset(u, 0, sizeof *u);
    (void)cu_strlcpy(u->id, cu_cs(&c[0]), sizeof u->id);
    (void)cu_strlcpy(u->controller_id, cu_cs(&c[1]), sizeof u->controller_id);
    (void)cu_strlcpy(u->username, cu_cs(&c[2]), sizeof u->username);
    (void)cu_strlcpy(u->roles, cu_cs(&c[3]), sizeof u->roles);
    (void)cu_strlcpy(u->pwhash, cu_cs(&c[4]), sizeof u->pwhash);
    if (c[5].p && c[5].n <= sizeof u->totp) {
        memcpy(u->totp, c[5].p, c[5].n);
        u->totp_len = c[5].n;
    }
    u->totp_last_step = c[6].i;
    u->failures = c[7].i;
    u->locked_until = c[8].i;
    u->created_at = c[9].i;
    u->disabled_at = c[10].i;
    cu_col_mac(&c[11], u->mac, &u->mac_len);
}

int cu_store_user_insert(cu_store *s, const cu_user_rec *u, cu_err *err)
{
    cu_err e;
    cu_err_clear(&e);
    int rc = cu_st_exec(s, ST_USER_INSERT, "adding a user",
                        CU_ARGS(cu_vt(u->id), cu_vt(u->controller_id), cu_vt(u->username),
                                cu_vt(u->roles), cu_vt(u->pwhash),
                                cu_vb(u->totp_len ? u->totp : NULL, u->totp_len),
                                cu_vi(u->created_at), cu_vmac(u->mac, u->mac_len)),
                        &e);
    if (rc == CU_ECONFLICT)
        return cu_err_set(err, CU_ECONFLICT, "a user with that name already exists");
    return rc ? cu_err_set(err, rc, "%s", e.msg) : CU_OK;
}

static int user_one(void *ctx, const cu_val *c)
{
    user_from_row(c, ctx);
    return CU_OK;
}

int cu_store_user_get(cu_store *s, const char *username, const char *id, cu_user_rec *out,
                      cu_err *err)
{
    return cu_st_one(s, username ? ST_USER_BY_NAME : ST_USER_BY_ID, "reading a user",
                     CU_ARGS(cu_vt(username ? username : id)), user_one, out, err);
}

int cu_store_user_update(cu_store *s, const cu_user_rec *u, cu_err *err)
{
    return cu_st_exec(s, ST_USER_UPDATE, "updating a user",
                      CU_ARGS(cu_vt(u->id), cu_vt(u->roles), cu_vt(u->pwhash),
                              cu_vb(u->totp_len ? u->totp : NULL, u->totp_len),
                              cu_vi(u->totp_last_step), cu_vi(u->failures),
                              cu_vi(u->locked_until), cu_vi(u->disabled_at),
                              cu_vmac(u->mac, u->mac_len)),
                      err);
}

typedef struct user_ctx {
    cu_user_cb cb;
    void *ctx;
} user_ctx;

static int user_row(void *ctx, const cu_val *c)
{
    user_ctx *k = ctx;
    cu_user_rec u;
    user_from_row(c, &u);
    return k->cb(k->ctx, &u);
}

int cu_store_user_each(cu_store *s, cu_user_cb cb, void *ctx, cu_err *err)
{
    user_ctx k = {cb, ctx};
    return cu_st_run(s, ST_USER_ALL, "listing users", CU_NOARGS, user_row, &k, NULL, err);
}

/* ---- sessions ---- */

static void session_from_row(const cu_val *c, cu_session_rec *r)
{
    memset(r, 0, sizeof *r);
    if (c[0].p && c[0].n <= sizeof r->hash) {
        memcpy(r->hash, c[0].p, c[0].n);
        r->hash_len = c[0].n;
    }
    (void)cu_strlcpy(r->user_id, cu_cs(&c[1]), sizeof r->user_id);
    r->created_at = c[2].i;
    r->last_seen = c[3].i;
    r->revoked_at = c[4].i;
    cu_col_mac(&c[5], r->mac, &r->mac_len);
}

int cu_store_session_insert(cu_store *s, const cu_session_rec *r, cu_err *err)
{
    return cu_st_exec(s, ST_SESS_INSERT, "creating a session",
                      CU_ARGS(cu_vb0(r->hash, r->hash_len), cu_vt(r->user_id),
                              cu_vi(r->created_at), cu_vmac(r->mac, r->mac_len)),
                      err);
}

static int session_one(void *ctx, const cu_val *c)
{
    session_from_row(c, ctx);
    return CU_OK;
}

int cu_store_session_get(cu_store *s, const unsigned char *hash, size_t n, cu_session_rec *out,
                         cu_err *err)
{
    return cu_st_one(s, ST_SESS_GET, "reading a session", CU_ARGS(cu_vb0(hash, n)),
                     session_one, out, err);
}

int cu_store_session_touch(cu_store *s, const cu_session_rec *r, cu_err *err)
{
    return cu_st_exec(s, ST_SESS_TOUCH, "updating a session",
                      CU_ARGS(cu_vb0(r->hash, r->hash_len), cu_vi(r->last_seen),
                              cu_vmac(r->mac, r->mac_len)),
                      err);
}

int cu_store_session_revoke(cu_store *s, const cu_session_rec *r, cu_err *err)
{
    return cu_st_exec(s, ST_SESS_REVOKE, "revoking sessions",
                      CU_ARGS(cu_vb0(r->hash, r->hash_len), cu_vi(r->revoked_at),
                              cu_vmac(r->mac, r->mac_len)),
                      err);
}

typedef struct sess_ctx {
    cu_session_cb cb;
    void *ctx;
} sess_ctx;

static int session_row(void *ctx, const cu_val *c)
{
    sess_ctx *k = ctx;
    cu_session_rec r;
    session_from_row(c, &r);
    return k->cb(k->ctx, &r);
}

int cu_store_session_each(cu_store *s, const char *user_id, cu_session_cb cb, void *ctx,
                          cu_err *err)
{
    sess_ctx k = {cb, ctx};
    if (user_id)
        return cu_st_run(s, ST_SESS_OF_USER, "listing sessions", CU_ARGS(cu_vt(user_id)),
                         session_row, &k, NULL, err);
    return cu_st_run(s, ST_SESS_ALL, "listing sessions", CU_NOARGS, session_row, &k, NULL, err);
}

/* ---- API tokens ---- */

static void token_from_row(const cu_val *c, cu_token_rec *t)
{
    memset(t, 0, sizeof *t);
    (void)cu_strlcpy(t->id, cu_cs(&c[0]), sizeof t->id);
    if (c[1].p && c[1].n <= sizeof t->hash) {
        memcpy(t->hash, c[1].p, c[1].n);
        t->hash_len = c[1].n;
    }
    (void)cu_strlcpy(t->controller_id, cu_cs(&c[2]), sizeof t->controller_id);
    (void)cu_strlcpy(t->roles, cu_cs(&c[3]), sizeof t->roles);
    (void)cu_strlcpy(t->name, cu_cs(&c[4]), sizeof t->name);
    t->created_at = c[5].i;
    t->revoked_at = c[6].i;
    cu_col_mac(&c[7], t->mac, &t->mac_len);
}

int cu_store_token_insert(cu_store *s, const cu_token_rec *t, cu_err *err)
{
    return cu_st_exec(s, ST_TOKEN_INSERT, "creating an API token",
                      CU_ARGS(cu_vt(t->id), cu_vb0(t->hash, t->hash_len),
                              cu_vt(t->controller_id), cu_vt(t->roles), cu_vt(t->name),
                              cu_vi(t->created_at), cu_vmac(t->mac, t->mac_len)),
                      err);
}

static int token_one(void *ctx, const cu_val *c)
{
    token_from_row(c, ctx);
    return CU_OK;
}

int cu_store_token_get(cu_store *s, const unsigned char *hash, size_t n, const char *id,
                       cu_token_rec *out, cu_err *err)
{
    if (hash)
        return cu_st_one(s, ST_TOKEN_BY_HASH, "reading an API token", CU_ARGS(cu_vb0(hash, n)),
                         token_one, out, err);
    return cu_st_one(s, ST_TOKEN_BY_ID, "reading an API token", CU_ARGS(cu_vt(id)), token_one,
                     out, err);
}

int cu_store_token_revoke(cu_store *s, const cu_token_rec *t, cu_err *err)
{
    int64_t changed = 0;
    int rc = cu_st_run(s, ST_TOKEN_REVOKE, "revoking an API token",
                       CU_ARGS(cu_vt(t->id), cu_vi(t->revoked_at), cu_vmac(t->mac, t->mac_len)),
                       NULL, NULL, &changed, err);
    return !rc && changed == 0 ? CU_ENOTFOUND : rc;
}

typedef struct token_ctx {
    cu_token_cb cb;
    void *ctx;
} token_ctx;

static int token_row(void *ctx, const cu_val *c)
{
    token_ctx *k = ctx;
    cu_token_rec t;
    token_from_row(c, &t);
    return k->cb(k->ctx, &t);
}

int cu_store_token_each(cu_store *s, cu_token_cb cb, void *ctx, cu_err *err)
{
    token_ctx k = {cb, ctx};
    return cu_st_run(s, ST_TOKEN_ALL, "listing API tokens", CU_NOARGS, token_row, &k, NULL,
                     err);
}

/* ---- care lists ---- */

int cu_store_care_set(cu_store *s, const cu_care_row *r, bool on, cu_err *err)
{
    if (on)
        return cu_st_exec(s, ST_CARE_ADD, "changing a care list",
                          CU_ARGS(cu_vt(r->user_id), cu_vt(r->subject_id), cu_vi(r->added_at),
                                  cu_vt(r->added_by), cu_vmac(r->mac, r->mac_len)),
                          err);
    return cu_st_exec(s, ST_CARE_REMOVE, "changing a care list",
                      CU_ARGS(cu_vt(r->user_id), cu_vt(r->subject_id)), err);
}

typedef struct care_ctx {
    cu_care_cb cb;
    void *ctx;
} care_ctx;

static int care_row(void *ctx, const cu_val *c)
{
    care_ctx *k = ctx;
    cu_care_row r = {
        .user_id = cu_ct(&c[0]),
        .subject_id = cu_ct(&c[1]),
        .added_at = c[2].i,
        .added_by = cu_ct(&c[3]),
        .mac = cu_cb(&c[4]),
        .mac_len = c[4].n,
    };
    return k->cb(k->ctx, &r);
}

int cu_store_care_get(cu_store *s, const char *user_id, const char *subject_id, cu_care_cb cb,
                      void *ctx, cu_err *err)
{
    care_ctx k = {cb, ctx};
    return cu_st_one(s, ST_CARE_HAS, "reading a care list",
                     CU_ARGS(cu_vt(user_id), cu_vt(subject_id)), care_row, &k, err);
}

int cu_store_care_each(cu_store *s, cu_care_cb cb, void *ctx, cu_err *err)
{
    care_ctx k = {cb, ctx};
    return cu_st_run(s, ST_CARE_ALL, "listing care lists", CU_NOARGS, care_row, &k, NULL, err);
}

/* ---- break-glass grants ---- */

int cu_store_break_glass_insert(cu_store *s, const cu_break_glass_row *b, cu_err *err)
{
    return cu_st_exec(s, ST_BG_INSERT, "granting break-glass access",
                      CU_ARGS(cu_vt(b->id), cu_vt(b->user_id), cu_vt(b->subject_id),
                              cu_vb0(b->reason, b->reason_len), cu_vi(b->granted_at),
                              cu_vi(b->expires_at), cu_vmac(b->mac, b->mac_len)),
                      err);
}

typedef struct bg_ctx {
    cu_break_glass_cb cb;
    void *ctx;
    bool with_name; /* the username follows the grant's columns */
} bg_ctx;

static int bg_row(void *ctx, const cu_val *c)
{
    bg_ctx *k = ctx;
    cu_break_glass_row b = {
        .id = cu_ct(&c[0]),
        .user_id = cu_ct(&c[1]),
        .subject_id = cu_ct(&c[2]),
        .reason = cu_cb(&c[3]),
        .reason_len = c[3].n,
        .granted_at = c[4].i,
        .expires_at = c[5].i,
        .mac = cu_cb(&c[6]),
        .mac_len = c[6].n,
        .username = k->with_name ? cu_ct(&c[7]) : NULL,
    };
    return k->cb(k->ctx, &b);
}

int cu_store_break_glass_active(cu_store *s, const char *user_id, const char *subject_id,
                                int64_t now, cu_break_glass_cb cb, void *ctx, cu_err *err)
{
    bg_ctx k = {cb, ctx, false};
    return cu_st_run(s, ST_BG_ACTIVE, "reading break-glass grants",
                     CU_ARGS(cu_vt(user_id), cu_vt(subject_id), cu_vi(now)), bg_row, &k, NULL,
                     err);
}

int cu_store_break_glass_each(cu_store *s, const char *controller_id, int64_t since,
                              cu_break_glass_cb cb, void *ctx, cu_err *err)
{
    bg_ctx k = {cb, ctx, controller_id != NULL};
    if (controller_id)
        return cu_st_run(s, ST_BG_EACH, "listing break-glass grants",
                         CU_ARGS(cu_vt(controller_id), cu_vi(since)), bg_row, &k, NULL, err);
    return cu_st_run(s, ST_BG_ALL, "listing break-glass grants", CU_NOARGS, bg_row, &k, NULL,
                     err);
}

int cu_store_break_glass_of_subject(cu_store *s, const char *subject_id, cu_break_glass_cb cb,
                                    void *ctx, cu_err *err)
{
    bg_ctx k = {cb, ctx, false};
    return cu_st_run(s, ST_BG_SUBJECT, "listing break-glass grants",
                     CU_ARGS(cu_vt(subject_id)), bg_row, &k, NULL, err);
}

int cu_store_break_glass_set_reason(cu_store *s, const char *id, const void *sealed, size_t n,
                                    const unsigned char *mac, size_t mac_len, cu_err *err)
{
    return cu_st_exec(s, ST_BG_REASON, "re-encrypting a break-glass reason",
                      CU_ARGS(cu_vt(id), cu_vb0(sealed, n), cu_vmac(mac, mac_len)), err);
}

/* ---- row codes ---- */

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
    /* Every one of these statements takes (key, key2 or num, code): the key
     * is a byte string (a token hash) or text, as the statement declares. */
    const char *shape = s->decls[ids[t]].params;
    cu_val key1 = shape[0] == 'b' ? cu_vb0(key, key_len) : cu_vt(key);
    cu_val second = shape[1] == 't' ? cu_vt(key2) : cu_vi(num);
    return cu_st_exec(s, ids[t], "recording a row code",
                      CU_ARGS(key1, second, cu_vmac(mac, mac_len)), err);
}
