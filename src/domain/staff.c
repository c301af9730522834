#include "domain/staff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/integrity.h"
#include "domain/model.h"
#include "domain/subject.h"
#include "domain/subject_rows.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

/* ---- row authentication (integrity.h) ----
 * users, sessions, api_tokens, care_list and break_glass rows carry a code
 * over every column a decision or an answer uses, including the row's own
 * key and its parent ids. A row whose code does not match is refused where
 * it is used and reported by `custos verify`. */

static int altered(cu_err *err, const char *table, const char *row)
{
    return cu_err_set(err, CU_ETAMPER, "%s %s has been altered", table, row);
}

/* A row keyed by a token hash is named by the hash's first 8 bytes in hex. */
static void hash_name(const unsigned char *h, size_t n, char out[17])
{
    cu_hex(h, n < 8 ? n : 8, out);
}

void cu_token_keyed_hash(cu_vault *v, const char *kind, const char *token, size_t n,
                         unsigned char out[CU_HASH_BYTES])
{
    char domain[48];
    snprintf(domain, sizeof domain, "custos/v1/token/%s", kind);
    cu_blind_index(v->integrity_key, domain, token, n, out);
}

static void user_mac(cu_vault *v, const cu_user_rec *u, cu_mac *m)
{
    cu_row_mac_begin(v, m, "users");
    cu_mac_str(m, u->id);
    cu_mac_str(m, u->controller_id);
    cu_mac_str(m, u->username);
    cu_mac_str(m, u->roles);
    cu_mac_str(m, u->pwhash);
    cu_mac_bytes(m, u->totp_len ? u->totp : NULL, u->totp_len);
    cu_mac_i64(m, u->totp_last_step);
    cu_mac_i64(m, u->failures);
    cu_mac_i64(m, u->locked_until);
    cu_mac_i64(m, u->created_at);
    cu_mac_i64(m, u->disabled_at);
}

static void user_sign(cu_vault *v, cu_user_rec *u)
{
    cu_mac m;
    user_mac(v, u, &m);
    cu_mac_final(&m, u->mac);
    u->mac_len = CU_HASH_BYTES;
}

static bool user_ok(cu_vault *v, const cu_user_rec *u)
{
    cu_mac m;
    user_mac(v, u, &m);
    return cu_mac_check(&m, u->mac, u->mac_len);
}

/* A user row, authenticated: CU_ETAMPER when its code does not match. */
static int user_get(cu_vault *v, const char *username, const char *id, cu_user_rec *u,
                    cu_err *err)
{
    int rc = cu_store_user_get(v->store, username, id, u, err);
    if (!rc && !user_ok(v, u)) {
        rc = altered(err, "users", u->id);
        cu_wipe(u, sizeof *u);
    }
    return rc;
}

static int user_write(cu_vault *v, cu_user_rec *u, cu_err *err)
{
    user_sign(v, u);
    return cu_store_user_update(v->store, u, err);
}

static void session_mac(cu_vault *v, const cu_session_rec *s, cu_mac *m)
{
    cu_row_mac_begin(v, m, "sessions");
    cu_mac_bytes(m, s->hash, s->hash_len);
    cu_mac_str(m, s->user_id);
    cu_mac_i64(m, s->created_at);
    cu_mac_i64(m, s->last_seen);
    cu_mac_i64(m, s->revoked_at);
}

static void session_sign(cu_vault *v, cu_session_rec *s)
{
    cu_mac m;
    session_mac(v, s, &m);
    cu_mac_final(&m, s->mac);
    s->mac_len = CU_HASH_BYTES;
}

static bool session_ok(cu_vault *v, const cu_session_rec *s)
{
    cu_mac m;
    session_mac(v, s, &m);
    return cu_mac_check(&m, s->mac, s->mac_len);
}

static void token_mac(cu_vault *v, const cu_token_rec *t, cu_mac *m)
{
    cu_row_mac_begin(v, m, "api_tokens");
    cu_mac_str(m, t->id);
    cu_mac_bytes(m, t->hash, t->hash_len);
    cu_mac_str(m, t->controller_id);
    cu_mac_str(m, t->roles);
    cu_mac_str(m, t->name);
    cu_mac_i64(m, t->created_at);
    cu_mac_i64(m, t->revoked_at);
}

static void token_sign(cu_vault *v, cu_token_rec *t)
{
    cu_mac m;
    token_mac(v, t, &m);
    cu_mac_final(&m, t->mac);
    t->mac_len = CU_HASH_BYTES;
}

static bool token_ok(cu_vault *v, const cu_token_rec *t)
{
    cu_mac m;
    token_mac(v, t, &m);
    return cu_mac_check(&m, t->mac, t->mac_len);
}

static void care_mac(cu_vault *v, const cu_care_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "care_list");
    cu_mac_str(m, r->user_id);
    cu_mac_str(m, r->subject_id);
    cu_mac_i64(m, r->added_at);
    cu_mac_str(m, r->added_by);
}

static bool care_ok(cu_vault *v, const cu_care_row *r)
{
    cu_mac m;
    care_mac(v, r, &m);
    return cu_mac_check(&m, r->mac, r->mac_len);
}

int cu_care_add_row(cu_vault *v, const char *user_id, const char *subject_id, int64_t now,
                    const char *by, cu_err *err)
{
    unsigned char mac[CU_HASH_BYTES];
    cu_care_row r = {.user_id = user_id, .subject_id = subject_id, .added_at = now,
                     .added_by = by};
    cu_mac m;
    care_mac(v, &r, &m);
    cu_mac_final(&m, mac);
    r.mac = mac;
    r.mac_len = sizeof mac;
    return cu_store_care_set(v->store, &r, true, err);
}

typedef struct check_ctx {
    cu_vault *v;
    bool found;
    cu_err *err;
} check_ctx;

static int care_checked(void *ctx, const cu_care_row *r)
{
    check_ctx *c = ctx;
    if (!care_ok(c->v, r)) {
        char row[2 * CU_ID_STRLEN];
        snprintf(row, sizeof row, "%s/%s", r->user_id, r->subject_id);
        return altered(c->err, "care_list", row);
    }
    c->found = true;
    return CU_OK;
}

int cu_care_on_list(cu_vault *v, const char *user_id, const char *subject_id, bool *out,
                    cu_err *err)
{
    check_ctx c = {.v = v, .err = err};
    int rc = cu_store_care_get(v->store, user_id, subject_id, care_checked, &c, err);
    *out = !rc && c.found;
    return rc == CU_ENOTFOUND ? CU_OK : rc;
}

typedef struct mine_ctx {
    cu_vault *v;
    const char *user_id;
    cu_care_id_cb cb;
    void *ctx;
    cu_err *err;
} mine_ctx;

static int care_mine(void *ctx, const cu_care_row *r)
{
    mine_ctx *c = ctx;
    if (strcmp(r->user_id, c->user_id) != 0)
        return CU_OK;
    if (!care_ok(c->v, r)) {
        char row[2 * CU_ID_STRLEN];
        snprintf(row, sizeof row, "%s/%s", r->user_id, r->subject_id);
        return altered(c->err, "care_list", row);
    }
    return c->cb(c->ctx, r->subject_id);
}

int cu_care_list_of(cu_vault *v, const char *user_id, cu_care_id_cb cb, void *ctx, cu_err *err)
{
    mine_ctx c = {.v = v, .user_id = user_id, .cb = cb, .ctx = ctx, .err = err};
    int rc = cu_store_care_each(v->store, care_mine, &c, err);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot read the care list");
    return rc;
}

static void grant_mac(cu_vault *v, const cu_break_glass_row *b, cu_mac *m)
{
    cu_row_mac_begin(v, m, "break_glass");
    cu_mac_str(m, b->id);
    cu_mac_str(m, b->user_id);
    cu_mac_str(m, b->subject_id);
    cu_mac_bytes(m, b->reason, b->reason_len);
    cu_mac_i64(m, b->granted_at);
    cu_mac_i64(m, b->expires_at);
}

void cu_break_glass_sign(cu_vault *v, const cu_break_glass_row *b,
                         unsigned char out[CU_HASH_BYTES])
{
    cu_mac m;
    grant_mac(v, b, &m);
    cu_mac_final(&m, out);
}

int cu_break_glass_check(cu_vault *v, const cu_break_glass_row *b, cu_err *err)
{
    cu_mac m;
    grant_mac(v, b, &m);
    return cu_mac_check(&m, b->mac, b->mac_len) ? CU_OK : altered(err, "break_glass", b->id);
}

static int grant_checked(void *ctx, const cu_break_glass_row *b)
{
    check_ctx *c = ctx;
    int rc = cu_break_glass_check(c->v, b, c->err);
    c->found = c->found || !rc;
    return rc;
}

int cu_break_glass_in_force(cu_vault *v, const char *user_id, const char *subject_id,
                            int64_t now, bool *out, cu_err *err)
{
    check_ctx c = {.v = v, .err = err};
    int rc = cu_store_break_glass_active(v->store, user_id, subject_id, now, grant_checked, &c,
                                         err);
    *out = !rc && c.found;
    return rc;
}

/* Row codes to write once a walk over a table is over (no writes while a
 * statement walks it). */
typedef struct pending_mac {
    cu_mac_table table;
    char key[CU_ID_STRLEN + CU_HASH_BYTES];
    size_t key_len; /* 0: key is text */
    char key2[CU_ID_STRLEN];
    unsigned char mac[CU_HASH_BYTES];
} pending_mac;

typedef struct walk_ctx {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    pending_mac *p;
    size_t n, cap;
} walk_ctx;

static int walk_note(walk_ctx *w, cu_mac_table t, const void *key, size_t key_len,
                     const char *key2, const unsigned char mac[CU_HASH_BYTES])
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        pending_mac *np = realloc(w->p, cap * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->p = np;
        w->cap = cap;
    }
    pending_mac *p = &w->p[w->n++];
    memset(p, 0, sizeof *p);
    p->table = t;
    if (key_len) {
        memcpy(p->key, key, key_len < sizeof p->key ? key_len : sizeof p->key);
        p->key_len = key_len < sizeof p->key ? key_len : sizeof p->key;
    } else {
        cu_strlcpy(p->key, key, sizeof p->key);
    }
    if (key2)
        cu_strlcpy(p->key2, key2, sizeof p->key2);
    memcpy(p->mac, mac, CU_HASH_BYTES);
    return CU_OK;
}

/* One row walked: in a check, reported when its code fails; in a seal, its
 * code (m finished here) noted for writing. */
static int walk_row(walk_ctx *w, cu_mac *m, const unsigned char *mac, size_t mac_len,
                    const char *table, const char *row, cu_mac_table t, const void *key,
                    size_t key_len, const char *key2)
{
    w->rows++;
    if (w->seal) {
        unsigned char h[CU_HASH_BYTES];
        cu_mac_final(m, h);
        return walk_note(w, t, key, key_len, key2, h);
    }
    if (cu_mac_check(m, mac, mac_len))
        return CU_OK;
    return w->report(w->rctx, table, row, mac_len ? "altered" : "forged (no row code)");
}

static int walk_user(void *ctx, const cu_user_rec *u)
{
    walk_ctx *w = ctx;
    cu_mac m;
    user_mac(w->v, u, &m);
    return walk_row(w, &m, u->mac, u->mac_len, "users", u->id, CU_MT_USERS, u->id, 0, NULL);
}

static int walk_session(void *ctx, const cu_session_rec *s)
{
    walk_ctx *w = ctx;
    cu_mac m;
    char row[17];
    hash_name(s->hash, s->hash_len, row);
    session_mac(w->v, s, &m);
    return walk_row(w, &m, s->mac, s->mac_len, "sessions", row, CU_MT_SESSIONS, s->hash,
                    s->hash_len, NULL);
}

static int walk_token(void *ctx, const cu_token_rec *t)
{
    walk_ctx *w = ctx;
    cu_mac m;
    token_mac(w->v, t, &m);
    return walk_row(w, &m, t->mac, t->mac_len, "api_tokens", t->id, CU_MT_TOKENS, t->id, 0,
                    NULL);
}

static int walk_care(void *ctx, const cu_care_row *r)
{
    walk_ctx *w = ctx;
    cu_mac m;
    char row[2 * CU_ID_STRLEN];
    snprintf(row, sizeof row, "%s/%s", r->user_id, r->subject_id);
    care_mac(w->v, r, &m);
    return walk_row(w, &m, r->mac, r->mac_len, "care_list", row, CU_MT_CARE, r->user_id, 0,
                    r->subject_id);
}

static int walk_grant(void *ctx, const cu_break_glass_row *b)
{
    walk_ctx *w = ctx;
    cu_mac m;
    grant_mac(w->v, b, &m);
    return walk_row(w, &m, b->mac, b->mac_len, "break_glass", b->id, CU_MT_BREAK_GLASS, b->id,
                    0, NULL);
}

static int staff_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                      int64_t *rows, cu_err *err)
{
    walk_ctx w = {.v = v, .seal = seal, .report = report, .rctx = rctx};
    int rc = cu_store_user_each(v->store, walk_user, &w, err);
    if (!rc)
        rc = cu_store_session_each(v->store, NULL, walk_session, &w, err);
    if (!rc)
        rc = cu_store_token_each(v->store, walk_token, &w, err);
    if (!rc)
        rc = cu_store_care_each(v->store, walk_care, &w, err);
    if (!rc)
        rc = cu_store_break_glass_each(v->store, NULL, 0, walk_grant, &w, err);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the staff tables");
    for (size_t i = 0; !rc && i < w.n; i++) {
        pending_mac *p = &w.p[i];
        rc = cu_store_row_mac_set(v->store, p->table, p->key, p->key_len,
                                  p->key2[0] ? p->key2 : NULL, 0, p->mac, CU_HASH_BYTES, err);
    }
    free(w.p);
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_staff_rows = {.name = "staff", .walk = staff_walk};

void cu_principal_actor(const cu_principal *p, const char *purpose, const char *via,
                        cu_actor *out)
{
    *out = (cu_actor){
        .name = p->name,
        .role = p->roles_text,
        .purpose = purpose ? purpose : cu_role_default_purpose(p->roles),
        .via = via,
        .roles = p->roles,
        /* An API token is no staff account: no care list, no break-glass. */
        .user_id = p->token ? NULL : p->id,
        .controller_id = p->controller_id,
    };
}

int cu_password_check(const char *pw, size_t n, cu_err *err)
{
    if (n < CU_PASSWORD_MIN)
        return cu_err_set(err, CU_EINVAL, "a password needs at least %d characters",
                          CU_PASSWORD_MIN);
    if (n > CU_PASSWORD_MAX)
        return cu_err_set(err, CU_EINVAL, "a password has at most %d characters",
                          CU_PASSWORD_MAX);
    if (memchr(pw, '\0', n))
        return cu_err_set(err, CU_EINVAL, "a password may not contain NUL bytes");
    size_t same = 1;
    for (size_t i = 1; i < n; i++)
        same += pw[i] == pw[0];
    if (same == n)
        return cu_err_set(err, CU_EINVAL, "a password may not repeat one character");
    return CU_OK;
}

/* The associated data of a sealed one-time-code secret. */
static size_t totp_ad(const char *user_id, unsigned char out[64])
{
    int n = snprintf((char *)out, 64, "custos/v1/totp/%s", user_id);
    return n > 0 && n < 64 ? (size_t)n : 0;
}

static int roles_valid(const char *roles, unsigned *mask, cu_err *err)
{
    *mask = cu_roles_parse(roles);
    if (!*mask || (*mask & CU_ROLE_OPERATOR))
        return cu_err_set(err, CU_EINVAL, "roles must be a comma-separated list of: clinician, "
                                          "care_admin, dpo, analyst, auditor, admin");
    return CU_OK;
}

static int controller_exists(cu_vault *v, const char *controller_id, cu_err *err)
{
    if (!cu_id_valid(controller_id))
        return cu_err_set(err, CU_EINVAL, "controller must be a controller id");
    int rc = cu_controller_load(v, controller_id, NULL, err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, rc, "no controller %s", controller_id) : rc;
}

int cu_password_hash(const char *password, size_t n, char out[CU_PWHASH_STRBYTES],
                     cu_err *err)
{
    int rc = cu_password_check(password, n, err);
    if (rc)
        return rc;
    if (cu_pwhash(password, n, out))
        return cu_err_set(err, CU_ENOMEM, "not enough memory to hash the password");
    return CU_OK;
}

/* A hash cu_password_hash made: its string form, whole. */
static int pwhash_check(const char *pwhash, cu_err *err)
{
    if (!pwhash || strncmp(pwhash, "$argon2id$", 10) != 0 ||
        strnlen(pwhash, CU_PWHASH_STRBYTES) == CU_PWHASH_STRBYTES)
        return cu_err_set(err, CU_EINTERNAL, "a password hash is malformed");
    return CU_OK;
}

int cu_user_add(cu_vault *v, const cu_actor *a, const char *controller_id,
                const char *username, const char *roles, const char *password, size_t n,
                bool want_totp, char id_out[CU_ID_STRLEN], char totp_b32_out[CU_TOTP_B32_LEN],
                cu_err *err)
{
    char hash[CU_PWHASH_STRBYTES];
    int rc = cu_password_hash(password, n, hash, err);
    if (!rc)
        rc = cu_user_add_hashed(v, a, controller_id, username, roles, hash, want_totp, id_out,
                                totp_b32_out, err);
    cu_wipe(hash, sizeof hash);
    return rc;
}

int cu_user_add_hashed(cu_vault *v, const cu_actor *a, const char *controller_id,
                       const char *username, const char *roles, const char *pwhash,
                       bool want_totp, char id_out[CU_ID_STRLEN],
                       char totp_b32_out[CU_TOTP_B32_LEN], cu_err *err)
{
    unsigned mask;
    int rc = roles_valid(roles, &mask, err);
    if (rc)
        return rc;
    if (!cu_name_valid(username))
        return cu_err_set(err, CU_EINVAL, "username must be 1-64 characters a-z 0-9 _ . - "
                                          "starting with a letter");
    if ((rc = pwhash_check(pwhash, err)))
        return rc;
    /* One-time codes are required for the roles that can change everything. */
    if (mask & (CU_ROLE_ADMIN | CU_ROLE_DPO))
        want_totp = true;
    cu_user_rec u = {.created_at = cu_now_us()};
    cu_strlcpy(u.pwhash, pwhash, sizeof u.pwhash);
    cu_op op;
    if ((rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, "user.add", err)))
        return rc;
    memcpy(op.controller_id, controller_id, strnlen(controller_id, CU_ID_STRLEN - 1));
    rc = controller_exists(v, controller_id, err);
    if (!rc)
        rc = cu_op_authorise(v, &op, err);
    unsigned char secret[CU_TOTP_SECRET_BYTES];
    if (!rc) {
        cu_random_id(u.id);
        cu_strlcpy(u.controller_id, controller_id, sizeof u.controller_id);
        cu_strlcpy(u.username, username, sizeof u.username);
        cu_roles_format(mask, u.roles, sizeof u.roles);
        if (want_totp) {
            cu_totp_secret_new(secret);
            unsigned char ad[64];
            size_t adlen = totp_ad(u.id, ad);
            cu_buf sealed;
            cu_buf_init(&sealed, sizeof u.totp);
            rc = cu_aead_seal(v->totp_key, ad, adlen, secret, sizeof secret, &sealed);
            if (!rc && sealed.len <= sizeof u.totp) {
                memcpy(u.totp, sealed.data, sealed.len);
                u.totp_len = sealed.len;
            }
            cu_buf_release(&sealed);
        }
        if (!rc) {
            user_sign(v, &u);
            rc = cu_store_user_insert(v->store, &u, err);
        }
    }
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc) {
        memcpy(id_out, u.id, CU_ID_STRLEN);
        if (want_totp)
            cu_totp_secret_b32(secret, totp_b32_out);
        else
            totp_b32_out[0] = '\0';
    }
    cu_wipe(secret, sizeof secret);
    cu_wipe(&u, sizeof u);
    return rc;
}

/* Loads a user by name inside an operation, for admin changes. */
static int admin_user(cu_vault *v, cu_op *op, const char *username, cu_user_rec *u,
                      cu_err *err)
{
    if (!cu_name_valid(username))
        return cu_err_set(err, CU_EINVAL, "not a username");
    int rc = user_get(v, username, NULL, u, err);
    if (rc == CU_ENOTFOUND)
        return cu_err_set(err, CU_ENOTFOUND, "no user %s", username);
    if (rc)
        return rc;
    memcpy(op->controller_id, u->controller_id, CU_ID_STRLEN);
    return cu_op_authorise(v, op, err);
}

typedef struct revoke_ctx {
    cu_vault *v;
    cu_session_rec *s;
    size_t n, cap;
} revoke_ctx;

static int revoke_note(void *ctx, const cu_session_rec *r)
{
    revoke_ctx *c = ctx;
    /* A row that fails its code stays as it is: refused at use, reported. */
    if (r->revoked_at || !session_ok(c->v, r))
        return CU_OK;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        cu_session_rec *ns = realloc(c->s, cap * sizeof *ns);
        if (!ns)
            return CU_ENOMEM;
        c->s = ns;
        c->cap = cap;
    }
    c->s[c->n++] = *r;
    return CU_OK;
}

/* Ends every session of a user. */
static int revoke_sessions(cu_vault *v, const char *user_id, int64_t now, cu_err *err)
{
    revoke_ctx c = {.v = v};
    int rc = cu_store_session_each(v->store, user_id, revoke_note, &c, err);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "out of memory ending sessions");
    for (size_t i = 0; !rc && i < c.n; i++) {
        c.s[i].revoked_at = now;
        session_sign(v, &c.s[i]);
        rc = cu_store_session_revoke(v->store, &c.s[i], err);
    }
    free(c.s);
    return rc;
}

typedef enum account_change_kind { ACCOUNT_DISABLE, ACCOUNT_PASSWORD, ACCOUNT_SIGNOUT } account_change_kind;

/* Disables an account, sets its password (pwhash) or only ends its sessions:
 * one audited operation, the account's sessions ended whichever. */
static int account_change(cu_vault *v, const cu_actor *a, const char *action,
                          const char *username, account_change_kind kind, const char *pwhash,
                          cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, action, err);
    if (rc)
        return rc;
    cu_user_rec u;
    int64_t now = cu_now_us();
    rc = admin_user(v, &op, username, &u, err);
    /* An administrator who disabled their own account could lock everyone
     * out of the accounts; another administrator (or the operator) can. */
    if (!rc && kind == ACCOUNT_DISABLE && a->user_id && strcmp(a->user_id, u.id) == 0)
        rc = cu_err_set(err, CU_ECONFLICT, "an account cannot disable itself");
    if (!rc && kind != ACCOUNT_SIGNOUT) {
        if (kind == ACCOUNT_PASSWORD) {
            cu_strlcpy(u.pwhash, pwhash, sizeof u.pwhash);
            u.failures = u.locked_until = 0;
        } else {
            u.disabled_at = now;
        }
        rc = user_write(v, &u, err);
    }
    if (!rc)
        rc = revoke_sessions(v, u.id, now, err);
    cu_wipe(&u, sizeof u);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_user_disable(cu_vault *v, const cu_actor *a, const char *username, cu_err *err)
{
    return account_change(v, a, "user.disable", username, ACCOUNT_DISABLE, NULL, err);
}

int cu_user_signout(cu_vault *v, const cu_actor *a, const char *username, cu_err *err)
{
    return account_change(v, a, "user.signout", username, ACCOUNT_SIGNOUT, NULL, err);
}

int cu_user_reset_password(cu_vault *v, const cu_actor *a, const char *username,
                           const char *password, size_t n, cu_err *err)
{
    char hash[CU_PWHASH_STRBYTES];
    int rc = cu_password_hash(password, n, hash, err);
    if (!rc)
        rc = cu_user_reset_password_hashed(v, a, username, hash, err);
    cu_wipe(hash, sizeof hash);
    return rc;
}

int cu_user_reset_password_hashed(cu_vault *v, const cu_actor *a, const char *username,
                                  const char *pwhash, cu_err *err)
{
    int rc = pwhash_check(pwhash, err);
    return rc ? rc
              : account_change(v, a, "user.reset_password", username, ACCOUNT_PASSWORD, pwhash,
                               err);
}

int cu_api_token_create(cu_vault *v, const cu_actor *a, const char *controller_id,
                        const char *roles, const char *name, char token_out[CU_TOKEN_STRLEN],
                        char id_out[CU_ID_STRLEN], cu_err *err)
{
    unsigned mask;
    int rc = roles_valid(roles, &mask, err);
    if (rc)
        return rc;
    if (!cu_name_valid(name))
        return cu_err_set(err, CU_EINVAL, "a token name must be 1-64 characters a-z 0-9 _ . - "
                                          "starting with a letter");
    cu_op op;
    if ((rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, "token.create", err)))
        return rc;
    memcpy(op.controller_id, controller_id, strnlen(controller_id, CU_ID_STRLEN - 1));
    rc = controller_exists(v, controller_id, err);
    if (!rc)
        rc = cu_op_authorise(v, &op, err);
    cu_token_rec t = {.created_at = cu_now_us()};
    char token[CU_TOKEN_STRLEN];
    if (!rc) {
        cu_random_id(t.id);
        cu_strlcpy(t.controller_id, controller_id, sizeof t.controller_id);
        cu_roles_format(mask, t.roles, sizeof t.roles);
        cu_strlcpy(t.name, name, sizeof t.name);
        cu_token_new("cut_", token);
        cu_token_keyed_hash(v, "api", token, strlen(token), t.hash);
        t.hash_len = CU_HASH_BYTES;
        token_sign(v, &t);
        rc = cu_store_token_insert(v->store, &t, err);
    }
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc) {
        memcpy(token_out, token, CU_TOKEN_STRLEN);
        memcpy(id_out, t.id, CU_ID_STRLEN);
    }
    cu_wipe(token, sizeof token);
    return rc;
}

/* Revokes an unrevoked token by id; CU_ENOTFOUND when there is none. */
static int token_revoke(cu_vault *v, const char *token_id, cu_err *err)
{
    cu_token_rec t;
    int rc = cu_store_token_get(v->store, NULL, 0, token_id, &t, err);
    if (!rc && !token_ok(v, &t))
        return altered(err, "api_tokens", t.id);
    if (rc == CU_ENOTFOUND || (!rc && t.revoked_at))
        return cu_err_set(err, CU_ENOTFOUND, "no active token %s", token_id);
    if (rc)
        return rc;
    t.revoked_at = cu_now_us();
    token_sign(v, &t);
    rc = cu_store_token_revoke(v->store, &t, err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, rc, "no active token %s", token_id) : rc;
}

int cu_api_token_revoke(cu_vault *v, const cu_actor *a, const char *token_id, cu_err *err)
{
    if (!cu_id_valid(token_id))
        return cu_err_set(err, CU_EINVAL, "not a token id");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, "token.revoke", err);
    if (rc)
        return rc;
    /* The token's own controller is the target: an administrator of another
     * controller is refused as if the token did not exist. */
    cu_token_rec t;
    rc = cu_store_token_get(v->store, NULL, 0, token_id, &t, err);
    if (rc == CU_OK)
        cu_strlcpy(op.controller_id, t.controller_id, sizeof op.controller_id);
    else if (rc == CU_ENOTFOUND)
        rc = CU_OK; /* token_revoke says so, once authorised */
    cu_wipe(&t, sizeof t);
    if (!rc && (rc = cu_op_authorise(v, &op, err)) == CU_ECONCEALED) {
        /* not "no controller ...": that would name the token's controller */
        if (err)
            *err = (cu_err){0};
        rc = cu_err_set(err, CU_ENOTFOUND, "no active token %s", token_id);
    }
    if (!rc)
        rc = token_revoke(v, token_id, err);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

/* ---- listings for the administrator ---- */

typedef struct list_ctx {
    cu_vault *v;
    const char *controller_id;
    cu_account_cb ucb;
    cu_token_view_cb tcb;
    void *ctx;
    cu_err *err;
} list_ctx;

static int account_row(void *ctx, const cu_user_rec *u)
{
    list_ctx *l = ctx;
    if (strcmp(u->controller_id, l->controller_id) != 0)
        return CU_OK;
    if (!user_ok(l->v, u))
        return altered(l->err, "users", u->id);
    cu_account_view av = {.id = u->id, .username = u->username, .roles = u->roles,
                          .totp = u->totp_len > 0, .created_at = u->created_at,
                          .disabled_at = u->disabled_at, .locked_until = u->locked_until};
    return l->ucb(l->ctx, &av);
}

static int token_row(void *ctx, const cu_token_rec *t)
{
    list_ctx *l = ctx;
    if (strcmp(t->controller_id, l->controller_id) != 0)
        return CU_OK;
    if (!token_ok(l->v, t))
        return altered(l->err, "api_tokens", t->id);
    cu_token_view tv = {.id = t->id, .name = t->name, .roles = t->roles,
                        .created_at = t->created_at, .revoked_at = t->revoked_at};
    return l->tcb(l->ctx, &tv);
}

static int admin_list(cu_vault *v, const cu_actor *a, const char *action, list_ctx *l,
                      cu_err *err)
{
    if (!a->controller_id)
        return cu_err_set(err, CU_EINVAL, "listing accounts is per controller");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, action, err);
    if (rc)
        return rc;
    memcpy(op.controller_id, a->controller_id, strnlen(a->controller_id, CU_ID_STRLEN - 1));
    rc = cu_op_authorise(v, &op, err);
    if (!rc) {
        l->v = v;
        l->controller_id = a->controller_id;
        l->err = err;
        rc = l->ucb ? cu_store_user_each(v->store, account_row, l, err)
                    : cu_store_token_each(v->store, token_row, l, err);
        if (rc && !(err && err->code))
            rc = cu_err_set(err, rc, "the listing stopped");
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_user_list(cu_vault *v, const cu_actor *a, cu_account_cb cb, void *ctx, cu_err *err)
{
    list_ctx l = {.ucb = cb, .ctx = ctx};
    return admin_list(v, a, "user.list", &l, err);
}

int cu_api_token_list(cu_vault *v, const cu_actor *a, cu_token_view_cb cb, void *ctx,
                      cu_err *err)
{
    list_ctx l = {.tcb = cb, .ctx = ctx};
    return admin_list(v, a, "token.list", &l, err);
}

/* ---- sign-in ---- */

int cu_signin_prepare(cu_vault *v, const char *username, cu_signin *s, cu_err *err)
{
    memset(s, 0, sizeof *s);
    if (!cu_name_valid(username))
        return CU_OK; /* not found; the attempt is still recorded */
    cu_strlcpy(s->username, username, sizeof s->username);
    int rc = user_get(v, username, NULL, &s->user, err);
    if (rc == CU_ENOTFOUND)
        return CU_OK;
    if (rc == CU_ETAMPER) {
        /* An account row that fails its code signs nobody in: the attempt is
         * refused (and recorded) like one for an unknown name. */
        s->tampered = true;
        cu_err_clear(err);
        return CU_OK;
    }
    if (rc)
        return rc;
    s->found = true;
    return CU_OK;
}

static void principal_from_user(const cu_user_rec *u, cu_principal *p)
{
    memset(p, 0, sizeof *p);
    cu_strlcpy(p->id, u->id, sizeof p->id);
    cu_strlcpy(p->name, u->username, sizeof p->name);
    cu_strlcpy(p->controller_id, u->controller_id, sizeof p->controller_id);
    cu_strlcpy(p->roles_text, u->roles, sizeof p->roles_text);
    p->roles = cu_roles_parse(u->roles);
}

static int64_t lockout_us(int64_t failures)
{
    int64_t extra = failures - CU_SIGNIN_MAX_FAILURES;
    int64_t us = 15LL * 60 * 1000000;
    for (int64_t i = 0; i < extra && us < 24LL * 3600 * 1000000; i++)
        us *= 2;
    return us < 24LL * 3600 * 1000000 ? us : 24LL * 3600 * 1000000;
}

int cu_signin_finish(cu_vault *v, const cu_signin *s, bool password_ok, const char *code,
                     const char *via, cu_signin_result *result, char token_out[CU_TOKEN_STRLEN],
                     cu_principal *principal, cu_err *err)
{
    const cu_user_rec *u = &s->user;
    cu_actor a = {.name = s->found ? u->username : "unknown-user",
                  .role = s->found ? u->roles : "",
                  .purpose = "authentication",
                  .via = via,
                  .roles = CU_ROLE_OPERATOR, /* the sign-in itself is always recordable */
                  .controller_id = s->found ? u->controller_id : NULL};
    cu_op op;
    int rc = cu_op_begin(v, &op, &a, CU_ACT_ADMIN, "signin", err);
    if (rc)
        return rc;
    if (s->found)
        memcpy(op.controller_id, u->controller_id, CU_ID_STRLEN);
    if ((rc = cu_op_authorise(v, &op, err)))
        return cu_op_end(v, &op, rc, NULL, NULL, err);
    int64_t now = cu_now_us();
    cu_signin_result res = CU_SIGNIN_OK;
    int64_t failures = u->failures, locked_until = u->locked_until;
    uint64_t step = (uint64_t)(now / 1000000 / 30), matched = (uint64_t)u->totp_last_step;
    cu_user_rec fresh;
    bool have_fresh = false;
    /* Re-read inside the transaction: counts from prepare may be stale. */
    if (s->found) {
        rc = user_get(v, NULL, u->id, &fresh, err);
        if (rc == CU_ENOTFOUND) {
            rc = CU_OK;
        } else if (!rc) {
            have_fresh = true;
            failures = fresh.failures;
            locked_until = fresh.locked_until;
            matched = (uint64_t)fresh.totp_last_step;
        }
    }
    if (!s->found)
        res = CU_SIGNIN_BAD_CREDENTIALS;
    else if (u->disabled_at)
        res = CU_SIGNIN_DISABLED;
    else if (locked_until > now)
        res = CU_SIGNIN_LOCKED;
    else if (!password_ok)
        res = CU_SIGNIN_BAD_CREDENTIALS;
    else if (u->totp_len) {
        unsigned char secret[CU_TOTP_SECRET_BYTES], ad[64];
        size_t adlen = totp_ad(u->id, ad);
        cu_buf plain;
        cu_buf_init(&plain, 64);
        if (!code || !*code)
            res = CU_SIGNIN_CODE_REQUIRED;
        else if (cu_aead_open(v->totp_key, ad, adlen, u->totp, u->totp_len, &plain) ||
                 plain.len != sizeof secret)
            rc = cu_err_set(err, CU_ECORRUPT, "the one-time code secret of %s does not open",
                            u->username);
        else {
            memcpy(secret, plain.data, sizeof secret);
            uint64_t m = 0;
            if (cu_totp_verify(secret, code, strlen(code), step, matched, &m))
                matched = m;
            else
                res = CU_SIGNIN_BAD_CODE;
            cu_wipe(secret, sizeof secret);
        }
        cu_buf_release(&plain);
    }
    if (!rc && s->found && (res == CU_SIGNIN_BAD_CREDENTIALS || res == CU_SIGNIN_BAD_CODE)) {
        failures++;
        if (failures >= CU_SIGNIN_MAX_FAILURES)
            locked_until = now + lockout_us(failures);
    }
    if (!rc && res == CU_SIGNIN_OK) {
        failures = 0;
        locked_until = 0;
    }
    if (!rc && have_fresh) {
        fresh.failures = failures;
        fresh.locked_until = locked_until;
        fresh.totp_last_step = (int64_t)matched;
        rc = user_write(v, &fresh, err);
    }
    if (have_fresh)
        cu_wipe(&fresh, sizeof fresh);
    char token[CU_TOKEN_STRLEN] = "";
    if (!rc && res == CU_SIGNIN_OK) {
        cu_token_new("cus_", token);
        cu_session_rec sr = {.hash_len = CU_HASH_BYTES, .created_at = now, .last_seen = now};
        cu_token_keyed_hash(v, "session", token, strlen(token), sr.hash);
        cu_strlcpy(sr.user_id, u->id, sizeof sr.user_id);
        session_sign(v, &sr);
        rc = cu_store_session_insert(v->store, &sr, err);
        if (!rc) {
            principal_from_user(u, principal);
            memcpy(principal->session_hash, sr.hash, CU_HASH_BYTES);
        }
    }
    /* A refused sign-in keeps its failure count: it is the outcome, not an undo. */
    op.keep_on_refusal = true;
    int status = rc ? rc : res == CU_SIGNIN_OK ? CU_OK : CU_EDENIED;
    rc = cu_op_end(v, &op, status, NULL, NULL, err);
    *result = res;
    if (rc == CU_EDENIED)
        rc = CU_OK;
    if (!rc && res == CU_SIGNIN_OK)
        memcpy(token_out, token, CU_TOKEN_STRLEN);
    cu_wipe(token, sizeof token);
    return rc;
}

typedef struct rehash_ctx {
    const char *user_id, *pwhash;
} rehash_ctx;

static int rehash_write(cu_vault *v, void *ctx, cu_err *err)
{
    const rehash_ctx *c = ctx;
    cu_user_rec u;
    int rc = user_get(v, NULL, c->user_id, &u, err);
    if (!rc) {
        cu_strlcpy(u.pwhash, c->pwhash, sizeof u.pwhash);
        u.failures = u.locked_until = 0;
        rc = user_write(v, &u, err);
    }
    cu_wipe(&u, sizeof u);
    return rc;
}

int cu_user_rehash(cu_vault *v, const char *user_id, const char *pwhash, cu_err *err)
{
    /* after a sign-in, so usually in the server's group commit */
    return cu_vault_write(v, rehash_write, &(rehash_ctx){user_id, pwhash}, err);
}

/* ---- authentication of requests ---- */

/* Credentials recently accepted, so that a request in use costs no session,
 * account or token query. An entry is only ever the answer the tables gave
 * inside a transaction; all are dropped when the store's auth epoch moves
 * (cu_store_auth_epoch: a change to accounts, sessions or tokens by this
 * process, an undone one, or any commit by another process, seen at the start
 * of the next batch). It is consulted only inside a batch, whose transaction
 * started after that check. Refusals are never kept. Idle and absolute expiry
 * are checked on every request against the times kept here. */
#define AUTH_CACHE_SLOTS 512 /* a power of two */

typedef struct auth_entry {
    bool used;
    unsigned char hash[CU_HASH_BYTES];
    cu_principal who;
    int64_t created_at, last_seen; /* sessions only */
} auth_entry;

struct cu_auth_cache {
    uint64_t epoch;
    size_t used;
    auth_entry e[AUTH_CACHE_SLOTS];
};

void cu_auth_cache_free(cu_auth_cache *c)
{
    if (c) {
        cu_wipe(c, sizeof *c);
        free(c);
    }
}

static void auth_cache_clear(cu_auth_cache *c)
{
    for (size_t i = 0; c->used && i < AUTH_CACHE_SLOTS; i++)
        if (c->e[i].used) {
            cu_wipe(&c->e[i], sizeof c->e[i]);
            c->used--;
        }
    c->used = 0;
}

/* The cache, if it may be used now: inside a batch, with the epoch checked. */
static cu_auth_cache *auth_cache(cu_vault *v)
{
    if (!v->batch)
        return NULL;
    if (!v->auth_cache) {
        v->auth_cache = calloc(1, sizeof *v->auth_cache);
        if (!v->auth_cache)
            return NULL;
        v->auth_cache->epoch = cu_store_auth_epoch(v->store);
    }
    cu_auth_cache *c = v->auth_cache;
    uint64_t now = cu_store_auth_epoch(v->store);
    if (c->epoch != now) {
        auth_cache_clear(c);
        c->epoch = now;
    }
    return c;
}

static auth_entry *auth_slot(cu_auth_cache *c, const unsigned char h[CU_HASH_BYTES])
{
    size_t i = ((size_t)h[0] | (size_t)h[1] << 8) & (AUTH_CACHE_SLOTS - 1);
    return &c->e[i];
}

static auth_entry *auth_find(cu_auth_cache *c, const unsigned char h[CU_HASH_BYTES])
{
    auth_entry *e = c ? auth_slot(c, h) : NULL;
    return e && e->used && cu_ct_equal(e->hash, h, CU_HASH_BYTES) ? e : NULL;
}

static void auth_keep(cu_auth_cache *c, const unsigned char h[CU_HASH_BYTES],
                      const cu_principal *who, int64_t created_at, int64_t last_seen)
{
    if (!c)
        return;
    auth_entry *e = auth_slot(c, h); /* a collision replaces the older entry */
    if (!e->used)
        c->used++;
    e->used = true;
    memcpy(e->hash, h, CU_HASH_BYTES);
    e->who = *who;
    e->created_at = created_at;
    e->last_seen = last_seen;
}

static void auth_drop(cu_auth_cache *c, auth_entry *e)
{
    if (c && e && e->used) {
        cu_wipe(e, sizeof *e);
        c->used--;
    }
}

/* Idle time is kept to the minute (or to half the idle limit, when that is
 * shorter, so a session in use never looks idle): not every request needs a
 * write. */
static int64_t touch_grain(int64_t idle_us)
{
    return idle_us / 2 < 60LL * 1000000 ? idle_us / 2 : 60LL * 1000000;
}

/* The refusal of a session past its idle or absolute limit, else CU_OK. */
static int session_expired(int64_t now, int64_t last_seen, int64_t created_at,
                           int64_t idle_us, int64_t absolute_us, cu_err *err)
{
    if (now - last_seen > idle_us)
        return cu_err_set(err, CU_EDENIED, "the session expired after inactivity");
    if (now - created_at > absolute_us)
        return cu_err_set(err, CU_EDENIED, "the session reached its maximum age");
    return CU_OK;
}

int cu_authenticate(cu_vault *v, const char *token, size_t n, int64_t idle_us,
                    int64_t absolute_us, cu_principal *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    unsigned char h[CU_HASH_BYTES];
    int64_t now = cu_now_us();
    cu_auth_cache *c = auth_cache(v);
    if (cu_token_wellformed(token, n, "cut_")) {
        cu_token_keyed_hash(v, "api", token, n, h);
        auth_entry *e = auth_find(c, h);
        if (e && e->who.token) {
            *out = e->who;
            return CU_OK;
        }
        cu_token_rec t;
        int rc = cu_store_token_get(v->store, h, sizeof h, NULL, &t, err);
        if (rc == CU_ENOTFOUND)
            return cu_err_set(err, CU_EDENIED, "unknown API token");
        if (rc)
            return rc;
        if (!token_ok(v, &t))
            return altered(err, "api_tokens", t.id);
        if (t.revoked_at)
            return cu_err_set(err, CU_EDENIED, "the API token was revoked");
        cu_strlcpy(out->id, t.id, sizeof out->id);
        snprintf(out->name, sizeof out->name, "token:%s", t.name);
        cu_strlcpy(out->controller_id, t.controller_id, sizeof out->controller_id);
        cu_strlcpy(out->roles_text, t.roles, sizeof out->roles_text);
        out->roles = cu_roles_parse(t.roles);
        out->token = true;
        auth_keep(c, h, out, 0, 0);
        return CU_OK;
    }
    if (!cu_token_wellformed(token, n, "cus_"))
        return cu_err_set(err, CU_EDENIED, "malformed credentials");
    cu_token_keyed_hash(v, "session", token, n, h);
    int64_t grain = touch_grain(idle_us);
    auth_entry *e = auth_find(c, h);
    if (e && !e->who.token) {
        int rc = session_expired(now, e->last_seen, e->created_at, idle_us, absolute_us, err);
        if (rc) {
            auth_drop(c, e);
            return rc;
        }
        *out = e->who;
        if (now - e->last_seen > grain) {
            cu_session_rec s = {.hash_len = CU_HASH_BYTES, .created_at = e->created_at,
                                .last_seen = now};
            memcpy(s.hash, h, sizeof h);
            cu_strlcpy(s.user_id, e->who.id, sizeof s.user_id);
            session_sign(v, &s);
            if ((rc = cu_store_session_touch(v->store, &s, err)))
                return rc;
            e->last_seen = now;
        }
        return CU_OK;
    }
    cu_session_rec s;
    int rc = cu_store_session_get(v->store, h, sizeof h, &s, err);
    if (rc == CU_ENOTFOUND)
        return cu_err_set(err, CU_EDENIED, "unknown session");
    if (rc)
        return rc;
    if (!session_ok(v, &s)) {
        char row[17];
        hash_name(h, sizeof h, row);
        return altered(err, "sessions", row);
    }
    if (s.revoked_at)
        return cu_err_set(err, CU_EDENIED, "the session was signed out");
    if ((rc = session_expired(now, s.last_seen, s.created_at, idle_us, absolute_us, err)))
        return rc;
    cu_user_rec u;
    if ((rc = user_get(v, NULL, s.user_id, &u, err)))
        return rc == CU_ENOTFOUND ? cu_err_set(err, CU_EDENIED, "unknown session") : rc;
    if (u.disabled_at) {
        cu_wipe(&u, sizeof u);
        return cu_err_set(err, CU_EDENIED, "the account is disabled");
    }
    principal_from_user(&u, out);
    memcpy(out->session_hash, h, sizeof h);
    cu_wipe(&u, sizeof u);
    if (now - s.last_seen > grain) {
        s.last_seen = now;
        session_sign(v, &s);
        if ((rc = cu_store_session_touch(v->store, &s, err)))
            return rc;
    }
    auth_keep(c, h, out, s.created_at, s.last_seen);
    return CU_OK;
}

int cu_signout(cu_vault *v, const cu_principal *p, const char *via, cu_err *err)
{
    cu_actor a;
    cu_principal_actor(p, "authentication", via, &a);
    a.roles = CU_ROLE_OPERATOR; /* ending one's own session is always allowed */
    cu_op op;
    int rc = cu_op_begin(v, &op, &a, CU_ACT_ADMIN, "signout", err);
    if (rc)
        return rc;
    memcpy(op.controller_id, p->controller_id, CU_ID_STRLEN);
    rc = cu_op_authorise(v, &op, err);
    /* Signing out ends the credential used: the session, or the API token. */
    if (!rc && !p->token) {
        cu_session_rec s;
        rc = cu_store_session_get(v->store, p->session_hash, CU_HASH_BYTES, &s, err);
        if (!rc && session_ok(v, &s) && !s.revoked_at) {
            s.revoked_at = cu_now_us();
            session_sign(v, &s);
            rc = cu_store_session_revoke(v->store, &s, err);
        }
    } else if (!rc) {
        rc = token_revoke(v, p->id, err);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_signout_everywhere(cu_vault *v, const cu_principal *p, const char *via, cu_err *err)
{
    if (p->token)
        return cu_err_set(err, CU_EINVAL, "an API token is not a session: sign out to revoke it");
    cu_actor a;
    cu_principal_actor(p, "authentication", via, &a);
    a.roles = CU_ROLE_OPERATOR; /* ending one's own sessions is always allowed */
    cu_op op;
    int rc = cu_op_begin(v, &op, &a, CU_ACT_ADMIN, "signout.everywhere", err);
    if (rc)
        return rc;
    memcpy(op.controller_id, p->controller_id, CU_ID_STRLEN);
    rc = cu_op_authorise(v, &op, err);
    if (!rc)
        rc = revoke_sessions(v, p->id, cu_now_us(), err);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_audit_refusal(cu_vault *v, const char *via, const char *purpose, cu_err *err)
{
    cu_actor a = {.name = "anonymous", .role = "", .purpose = purpose, .via = via,
                  .roles = CU_ROLE_OPERATOR};
    cu_op op;
    int rc = cu_op_begin(v, &op, &a, CU_ACT_ADMIN, "authenticate", err);
    if (rc)
        return rc;
    return cu_op_end(v, &op, CU_EDENIED, NULL, NULL, err) == CU_EDENIED ? CU_OK : rc;
}

/* ---- care lists and break-glass ---- */

int cu_care_set(cu_vault *v, const cu_actor *a, const char *username, const char *subject_id,
                bool on, cu_err *err)
{
    char sid[CU_ID_STRLEN];
    const char *asked = subject_id;
    int resolved = cu_subject_resolve(v, subject_id, sid, err);
    if (resolved)
        return resolved;
    subject_id = sid;
    if (!cu_name_valid(username))
        return cu_err_set(err, CU_EINVAL, "not a username");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_CARE_LIST, on ? "care_list.add" : "care_list.remove",
                         err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    cu_user_rec u;
    if ((rc = cu_op_name_subject(&op, asked, err)))
        return cu_op_end(v, &op, rc, NULL, NULL, err);
    memcpy(op.subject_id, subject_id, CU_ID_STRLEN);
    rc = cu_subject_load(v, subject_id, &rec, err);
    if (rc == CU_ENOTFOUND)
        rc = cu_err_set(err, rc, "no subject %s", subject_id);
    if (!rc) {
        memcpy(op.controller_id, rec.controller_id, CU_ID_STRLEN);
        rc = cu_op_authorise(v, &op, err);
    }
    if (!rc) {
        rc = user_get(v, username, NULL, &u, err);
        /* A user of another controller is no user here. */
        if (rc == CU_ENOTFOUND || (!rc && strcmp(u.controller_id, rec.controller_id) != 0))
            rc = cu_err_set(err, CU_EINVAL, "no user %s in this controller", username);
        else if (!rc && !(cu_roles_parse(u.roles) & CU_ROLE_CLINICIAN))
            rc = cu_err_set(err, CU_EINVAL, "user %s is not a clinician", username);
    }
    if (!rc && rec.erased_at)
        rc = cu_err_set(err, CU_EERASED, "subject %s was erased",
                        op.named[0] ? op.named : subject_id);
    if (!rc && on)
        rc = cu_care_add_row(v, u.id, subject_id, cu_now_us(), a->name, err);
    else if (!rc)
        rc = cu_store_care_set(v->store, &(cu_care_row){.user_id = u.id,
                                                        .subject_id = subject_id},
                               false, err);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

/* One code point of strict UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF) at s[*i], advancing *i; -1 when malformed. */
static long utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                       : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || *i + (size_t)len > n)
        return -1;
    long cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; k++) {
        unsigned char cc = s[*i + (size_t)k];
        if ((cc & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (cc & 0x3F);
    }
    static const long min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *i += (size_t)len;
    return cp;
}

/* Unicode White_Space. */
static bool uc_space(long c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

static bool uc_control(long c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

/* Invisible and format characters: they pad a reason without saying
 * anything, or make it read otherwise than it is written. */
static bool uc_invisible(long c)
{
    return c == 0xAD || c == 0x34F || c == 0x61C || c == 0x180E ||
           (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF || (c >= 0xFE00 && c <= 0xFE0F) ||
           (c >= 0xFFF9 && c <= 0xFFFB) || (c >= 0xE0000 && c <= 0xE0FFF);
}

/* Combining marks: part of the letter before them, counted as nothing. */
static bool uc_mark(long c)
{
    return (c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
           (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
           (c >= 0xFE20 && c <= 0xFE2F);
}

/* A letter of any script, approximately: outside ASCII and Latin-1, every
 * code point but the blocks of punctuation, symbols, digits, private use and
 * emoji counts. */
static bool uc_letter(long c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (c < 0xC0)
        return c == 0xAA || c == 0xB5 || c == 0xBA;
    if (c == 0xD7 || c == 0xF7)
        return false;
    static const long not_letters[][2] = {
        {0x0660, 0x0669}, {0x06F0, 0x06F9}, {0x0966, 0x096F}, /* digits */
        {0x2000, 0x2BFF}, /* punctuation, currency, arrows, maths, shapes, dingbats */
        {0x2E00, 0x2E7F}, {0x3000, 0x303F}, {0xE000, 0xF8FF}, {0xFE10, 0xFE1F},
        {0xFE30, 0xFE6F}, {0xFF00, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},
        {0xFFF0, 0xFFFF}, {0x1F000, 0x1FAFF}, {0xF0000, 0x10FFFF},
    };
    for (size_t i = 0; i < sizeof not_letters / sizeof not_letters[0]; i++)
        if (c >= not_letters[i][0] && c <= not_letters[i][1])
            return false;
    return true;
}

static int reason_refused(const char *rule, const char **rule_out, cu_err *err,
                          const char *what)
{
    if (rule_out)
        *rule_out = rule;
    return cu_err_set(err, CU_EINVAL, "invalid break-glass reason (%s): %s", rule, what);
}

int cu_break_glass_reason_check(const char *str, size_t n, size_t *start, size_t *len,
                                const char **rule, cu_err *err)
{
    const unsigned char *s = (const unsigned char *)str;
    if (rule)
        *rule = NULL;
    *start = *len = 0;
    /* Trim white space at both ends: find the first and last other character. */
    size_t i = 0, first = n, end = 0;
    while (i < n) {
        size_t at = i;
        long c = utf8_next(s, n, &i);
        if (c < 0)
            return reason_refused("reason-not-utf8", rule, err, "it is not valid UTF-8");
        if (!uc_space(c)) {
            if (first == n)
                first = at;
            end = i;
        }
    }
    if (first == n)
        first = end = 0;
    size_t chars = 0, nonspace = 0, letters = 0, words = 0, word_letters = 0;
    for (i = first; i < end;) {
        long c = utf8_next(s, end, &i);
        if (uc_control(c))
            return reason_refused("reason-control-character", rule, err,
                                  "it may not contain control characters (line breaks, tabs)");
        if (uc_invisible(c))
            return reason_refused("reason-invisible-character", rule, err,
                                  "it may not contain invisible or formatting characters "
                                  "(zero-width, soft hyphen, direction marks)");
        chars++;
        if (uc_space(c)) {
            words += word_letters >= 2;
            word_letters = 0;
            continue;
        }
        if (uc_mark(c))
            continue;
        nonspace++;
        if (uc_letter(c)) {
            letters++;
            word_letters++;
        }
    }
    words += word_letters >= 2;
    if (chars < CU_BREAK_GLASS_REASON_MIN)
        return reason_refused("reason-too-short", rule, err,
                              "it needs at least 10 characters besides surrounding spaces");
    if (chars > CU_BREAK_GLASS_REASON_MAX)
        return reason_refused("reason-too-long", rule, err,
                              "it may have at most 1000 characters");
    if (letters * 2 < nonspace)
        return reason_refused("reason-too-few-letters", rule, err,
                              "at least half of its characters must be letters");
    if (words < 2)
        return reason_refused("reason-too-few-words", rule, err,
                              "it needs at least two words");
    *start = first;
    *len = end - first;
    return CU_OK;
}

int cu_break_glass_grant(cu_vault *v, const cu_actor *a, const char *subject_id,
                         const char *reason, size_t n, int minutes, char id_out[CU_ID_STRLEN],
                         int64_t *expires_at, cu_err *err)
{
    char sid[CU_ID_STRLEN];
    const char *asked = subject_id;
    int resolved = cu_subject_resolve(v, subject_id, sid, err);
    if (resolved)
        return resolved;
    subject_id = sid;
    size_t at = 0;
    if ((resolved = cu_break_glass_reason_check(reason, n, &at, &n, NULL, err)))
        return resolved;
    reason += at;
    if (minutes < 1 || minutes > 240)
        return cu_err_set(err, CU_EINVAL, "break-glass access lasts 1 to 240 minutes");
    if (!a->user_id)
        return cu_err_set(err, CU_EINVAL, "break-glass access is for staff accounts");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_BREAK_GLASS, "break_glass", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    if ((rc = cu_op_name_subject(&op, asked, err)))
        return cu_op_end(v, &op, rc, NULL, NULL, err);
    memcpy(op.subject_id, subject_id, CU_ID_STRLEN);
    rc = cu_subject_load(v, subject_id, &rec, err);
    if (rc == CU_ENOTFOUND)
        rc = cu_err_set(err, rc, "no subject %s", subject_id);
    if (!rc) {
        memcpy(op.controller_id, rec.controller_id, CU_ID_STRLEN);
        rc = cu_op_authorise(v, &op, err);
    }
    if (!rc && rec.erased_at)
        rc = cu_err_set(err, CU_EERASED, "subject %s was erased",
                        op.named[0] ? op.named : subject_id);
    cu_key dek;
    cu_buf sealed;
    cu_buf_init(&sealed, 4096);
    int64_t now = cu_now_us();
    char id[CU_ID_STRLEN];
    cu_random_id(id);
    if (!rc && !(rc = cu_op_subject_key(v, &op, subject_id, &dek, NULL, err))) {
        /* The reason may describe the patient: sealed under the subject's key. */
        unsigned char ad[CU_AD_MAX];
        size_t adlen = cu_ad_item(ad, rec.controller_id, subject_id, id, "break_glass.reason",
                                  rec.key_version);
        rc = cu_aead_seal(&dek, ad, adlen, reason, n, &sealed);
        cu_key_wipe(&dek);
    }
    unsigned char mac[CU_HASH_BYTES];
    cu_break_glass_row row = {.id = id, .user_id = a->user_id, .subject_id = subject_id,
                              .reason = sealed.data, .reason_len = sealed.len,
                              .granted_at = now, .expires_at = now + minutes * 60000000LL,
                              .mac = mac, .mac_len = sizeof mac};
    if (!rc) {
        cu_break_glass_sign(v, &row, mac);
        rc = cu_store_break_glass_insert(v->store, &row, err);
    }
    cu_buf_release(&sealed);
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc) {
        memcpy(id_out, id, CU_ID_STRLEN);
        *expires_at = row.expires_at;
    }
    return rc;
}

typedef struct grant_ctx {
    cu_vault *v;
    const cu_op *op;
    bool reveal;
    cu_grant_cb cb;
    void *ctx;
    cu_err *err;
} grant_ctx;

static int grant_row(void *ctx, const cu_break_glass_row *g)
{
    grant_ctx *c = ctx;
    int checked = cu_break_glass_check(c->v, g, c->err);
    if (checked)
        return checked;
    cu_buf plain;
    cu_buf_init(&plain, 4096);
    bool shown = false;
    cu_subject_rec rec;
    cu_key dek;
    if (c->reveal && cu_subject_load(c->v, g->subject_id, &rec, NULL) == CU_OK &&
        cu_op_subject_key(c->v, c->op, g->subject_id, &dek, NULL, NULL) == CU_OK) {
        unsigned char ad[CU_AD_MAX];
        size_t adlen = cu_ad_item(ad, rec.controller_id, g->subject_id, g->id,
                                  "break_glass.reason", rec.key_version);
        shown = cu_aead_open(&dek, ad, adlen, g->reason, g->reason_len, &plain) == CU_OK;
        cu_key_wipe(&dek);
    }
    int rc = c->cb(c->ctx, g, shown ? &plain : NULL);
    cu_buf_release(&plain);
    return rc;
}

typedef struct own_ctx {
    cu_vault *v;
    cu_err *err;
    int64_t expires;
    char id[CU_ID_STRLEN];
    cu_buf *sealed;
} own_ctx;

static int own_grant(void *ctx, const cu_break_glass_row *b)
{
    own_ctx *o = ctx;
    int rc = cu_break_glass_check(o->v, b, o->err);
    if (rc)
        return rc;
    if (b->expires_at > o->expires) {
        o->expires = b->expires_at;
        cu_strlcpy(o->id, b->id, sizeof o->id);
        cu_buf_reset(o->sealed);
        if (cu_buf_append(o->sealed, b->reason, b->reason_len))
            return cu_err_set(o->err, CU_ENOMEM, "out of memory");
    }
    return CU_OK;
}

int cu_break_glass_own(cu_vault *v, const cu_actor *a, const char *subject_id,
                       int64_t *expires_at, cu_buf *reason, cu_err *err)
{
    *expires_at = 0;
    if (!a->user_id)
        return CU_OK; /* an API token has no grants */
    char sid[CU_ID_STRLEN];
    int rc = cu_subject_resolve(v, subject_id, sid, err);
    if (rc)
        return rc;
    cu_buf sealed;
    cu_buf_init(&sealed, 4096);
    own_ctx o = {.v = v, .err = err, .sealed = &sealed};
    rc = cu_store_break_glass_active(v->store, a->user_id, sid, cu_now_us(), own_grant, &o,
                                     err);
    if (!rc && o.expires && reason) {
        cu_op op;
        cu_subject_rec rec;
        rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_READ, "read", err);
        if (!rc) {
            rc = cu_op_open_subject(v, &op, sid, &rec, err);
            cu_key dek;
            if (!rc && !(rc = cu_op_subject_key(v, &op, sid, &dek, NULL, err))) {
                unsigned char ad[CU_AD_MAX];
                size_t adlen = cu_ad_item(ad, rec.controller_id, sid, o.id,
                                          "break_glass.reason", rec.key_version);
                cu_buf_reset(reason);
                if (cu_aead_open(&dek, ad, adlen, sealed.data, sealed.len, reason))
                    rc = cu_err_set(err, CU_ECORRUPT,
                                    "the reason of break-glass grant %s fails authentication",
                                    o.id);
                cu_key_wipe(&dek);
            }
            rc = cu_op_end(v, &op, rc, NULL, NULL, err);
        }
    }
    cu_buf_release(&sealed);
    if (!rc)
        *expires_at = o.expires;
    return rc;
}

int cu_break_glass_list(cu_vault *v, const cu_actor *a, int64_t since, cu_grant_cb cb, void *ctx,
                        cu_err *err)
{
    if (!a->controller_id)
        return cu_err_set(err, CU_EINVAL, "break-glass review is per controller");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_BREAK_GLASS_REVIEW, "audit", err);
    if (rc)
        return rc;
    memcpy(op.controller_id, a->controller_id, strnlen(a->controller_id, CU_ID_STRLEN - 1));
    rc = cu_op_authorise(v, &op, err);
    if (!rc) {
        grant_ctx c = {.v = v, .op = &op, .reveal = op.decision.categories == (1u << CU_CAT_COUNT) - 1,
                       .cb = cb, .ctx = ctx, .err = err};
        rc = cu_store_break_glass_each(v->store, a->controller_id, since, grant_row, &c, err);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}
