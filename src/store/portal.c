/* portal.c — the patient portal's invitations and accounts
 * (store_portal.h). Statements by id only: no SQL here. */
#include <string.h>

#include "crypto/crypto.h"
#include "store/store_impl.h"
#include "store/store_portal.h"

/* ---- invitations ---- */

#define PI_ARGS(r)                                                                          \
    CU_ARGS(cu_vb((r)->hash, (r)->hash_len), cu_vt((r)->id), cu_vt((r)->controller_id),     \
            cu_vt((r)->subject_id), cu_vt((r)->issued_by), cu_vi((r)->issued_at),           \
            cu_vi((r)->expires_at), cu_vi((r)->used_at), cu_vmac((r)->mac, (r)->mac_len))

static void pi_from_row(const cu_val *c, cu_pinv_row *r)
{
    memset(r, 0, sizeof *r);
    r->hash_len = c[0].p && c[0].n <= sizeof r->hash ? c[0].n : 0;
    if (r->hash_len)
        memcpy(r->hash, c[0].p, r->hash_len);
    (void)cu_strlcpy(r->id, cu_cs(&c[1]), sizeof r->id);
    (void)cu_strlcpy(r->controller_id, cu_cs(&c[2]), sizeof r->controller_id);
    (void)cu_strlcpy(r->subject_id, cu_cs(&c[3]), sizeof r->subject_id);
    (void)cu_strlcpy(r->issued_by, cu_cs(&c[4]), sizeof r->issued_by);
    r->issued_at = c[5].i;
    r->expires_at = c[6].i;
    r->used_at = c[7].i;
    cu_col_mac(&c[8], r->mac, &r->mac_len);
}

int cu_store_pinv_insert(cu_store *s, const cu_pinv_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_PI_INSERT, "recording a portal invitation", PI_ARGS(r), err);
}

static int pi_one(void *ctx, const cu_val *c)
{
    pi_from_row(c, ctx);
    return CU_OK;
}

int cu_store_pinv_get(cu_store *s, const unsigned char *hash, size_t n, cu_pinv_row *out,
                      cu_err *err)
{
    memset(out, 0, sizeof *out);
    return cu_st_one(s, ST_PI_GET, "reading a portal invitation", CU_ARGS(cu_vb(hash, n)),
                     pi_one, out, err);
}

int cu_store_pinv_use(cu_store *s, const cu_pinv_row *r, cu_err *err)
{
    return cu_st_exec1(s, ST_PI_USE, "using a portal invitation", PI_ARGS(r), err);
}

typedef struct pi_ctx {
    cu_pinv_cb cb;
    void *ctx;
} pi_ctx;

static int pi_row(void *ctx, const cu_val *c)
{
    pi_ctx *k = ctx;
    cu_pinv_row r;
    pi_from_row(c, &r);
    return k->cb(k->ctx, &r);
}

int cu_store_pinv_each(cu_store *s, cu_pinv_cb cb, void *ctx, cu_err *err)
{
    pi_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_PI_ALL, "listing portal invitations", CU_NOARGS, pi_row, &k, NULL,
                     err);
}

int cu_store_pinv_set_mac(cu_store *s, const unsigned char *hash, size_t n,
                          const unsigned char *mac, size_t mac_len, cu_err *err)
{
    return cu_st_exec1(s, ST_PI_MAC, "sealing a portal invitation",
                       CU_ARGS(cu_vb(hash, n), cu_vmac(mac, mac_len)), err);
}

/* ---- accounts ---- */

#define PA_ARGS(r)                                                                          \
    CU_ARGS(cu_vt((r)->subject_id), cu_vt((r)->controller_id), cu_vt((r)->name),            \
            cu_vt((r)->pwhash), cu_vi((r)->failures), cu_vi((r)->locked_until),             \
            cu_vi((r)->created_at), cu_vi((r)->updated_at), cu_vmac((r)->mac, (r)->mac_len))

static void pa_from_row(const cu_val *c, cu_pacct_row *r)
{
    memset(r, 0, sizeof *r);
    (void)cu_strlcpy(r->subject_id, cu_cs(&c[0]), sizeof r->subject_id);
    (void)cu_strlcpy(r->controller_id, cu_cs(&c[1]), sizeof r->controller_id);
    (void)cu_strlcpy(r->name, cu_cs(&c[2]), sizeof r->name);
    (void)cu_strlcpy(r->pwhash, cu_cs(&c[3]), sizeof r->pwhash);
    r->failures = c[4].i;
    r->locked_until = c[5].i;
    r->created_at = c[6].i;
    r->updated_at = c[7].i;
    cu_col_mac(&c[8], r->mac, &r->mac_len);
}

static int pa_one(void *ctx, const cu_val *c)
{
    pa_from_row(c, ctx);
    return CU_OK;
}

int cu_store_pacct_put(cu_store *s, const cu_pacct_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_PA_PUT, "writing a portal account", PA_ARGS(r), err);
}

int cu_store_pacct_get(cu_store *s, const char *subject_id, cu_pacct_row *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    return cu_st_one(s, ST_PA_GET, "reading a portal account", CU_ARGS(cu_vt(subject_id)),
                     pa_one, out, err);
}

int cu_store_pacct_by_name(cu_store *s, const char *name, cu_pacct_row *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    return cu_st_one(s, ST_PA_BY_NAME, "reading a portal account", CU_ARGS(cu_vt(name)),
                     pa_one, out, err);
}

typedef struct pa_ctx {
    cu_pacct_cb cb;
    void *ctx;
} pa_ctx;

static int pa_row(void *ctx, const cu_val *c)
{
    pa_ctx *k = ctx;
    cu_pacct_row r;
    pa_from_row(c, &r);
    int rc = k->cb(k->ctx, &r);
    cu_wipe(r.pwhash, sizeof r.pwhash);
    return rc;
}

int cu_store_pacct_each(cu_store *s, cu_pacct_cb cb, void *ctx, cu_err *err)
{
    pa_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_PA_ALL, "listing portal accounts", CU_NOARGS, pa_row, &k, NULL,
                     err);
}

int cu_store_pacct_set_mac(cu_store *s, const char *subject_id, const unsigned char *mac,
                           size_t mac_len, cu_err *err)
{
    return cu_st_exec1(s, ST_PA_MAC, "sealing a portal account",
                       CU_ARGS(cu_vt(subject_id), cu_vmac(mac, mac_len)), err);
}

int cu_store_pinv_delete_subject(cu_store *s, const char *subject_id, cu_err *err)
{
    return cu_st_exec(s, ST_PI_DELETE_SUBJECT, "deleting portal invitations",
                      CU_ARGS(cu_vt(subject_id)), err);
}

int cu_store_pacct_delete(cu_store *s, const char *subject_id, cu_err *err)
{
    return cu_st_exec(s, ST_PA_DELETE, "deleting a portal account", CU_ARGS(cu_vt(subject_id)),
                      err);
}

/* ---- sessions ---- */

#define PS_ARGS(r)                                                                          \
    CU_ARGS(cu_vb((r)->hash, (r)->hash_len), cu_vt((r)->subject_id), cu_vi((r)->created_at), \
            cu_vi((r)->last_seen), cu_vmac((r)->mac, (r)->mac_len))

static int ps_one(void *ctx, const cu_val *c)
{
    cu_psess_row *r = ctx;
    memset(r, 0, sizeof *r);
    r->hash_len = c[0].p && c[0].n <= sizeof r->hash ? c[0].n : 0;
    if (r->hash_len)
        memcpy(r->hash, c[0].p, r->hash_len);
    (void)cu_strlcpy(r->subject_id, cu_cs(&c[1]), sizeof r->subject_id);
    r->created_at = c[2].i;
    r->last_seen = c[3].i;
    cu_col_mac(&c[4], r->mac, &r->mac_len);
    return CU_OK;
}

int cu_store_psess_insert(cu_store *s, const cu_psess_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_PS_INSERT, "recording a portal session", PS_ARGS(r), err);
}

int cu_store_psess_get(cu_store *s, const unsigned char *hash, size_t n, cu_psess_row *out,
                       cu_err *err)
{
    memset(out, 0, sizeof *out);
    return cu_st_one(s, ST_PS_GET, "reading a portal session", CU_ARGS(cu_vb(hash, n)), ps_one,
                     out, err);
}

int cu_store_psess_touch(cu_store *s, const cu_psess_row *r, cu_err *err)
{
    return cu_st_exec1(s, ST_PS_TOUCH, "touching a portal session", PS_ARGS(r), err);
}

int cu_store_psess_delete(cu_store *s, const unsigned char *hash, size_t n, cu_err *err)
{
    return cu_st_exec(s, ST_PS_DELETE, "deleting a portal session", CU_ARGS(cu_vb(hash, n)),
                      err);
}

int cu_store_psess_delete_subject(cu_store *s, const char *subject_id, cu_err *err)
{
    return cu_st_exec(s, ST_PS_DELETE_SUBJECT, "deleting portal sessions",
                      CU_ARGS(cu_vt(subject_id)), err);
}

int cu_store_psess_purge(cu_store *s, int64_t seen_before, int64_t created_before,
                         int64_t *deleted, cu_err *err)
{
    *deleted = 0;
    return cu_st_run(s, ST_PS_PURGE, "deleting expired portal sessions",
                     CU_ARGS(cu_vi(seen_before), cu_vi(created_before)), NULL, NULL, deleted,
                     err);
}

/* ---- cookie choices ---- */

#define PC_ARGS(r)                                                                          \
    CU_ARGS(cu_vt((r)->id), cu_vt((r)->controller_id), cu_vopt((r)->subject_id),            \
            cu_vmac((r)->visitor_hash, (r)->visitor_hash_len), cu_vt((r)->choice),          \
            cu_vi((r)->policy_version), cu_vi((r)->chosen_at), cu_vmac((r)->mac, (r)->mac_len))

static void pc_from_row(const cu_val *c, cu_pck_row *r)
{
    memset(r, 0, sizeof *r);
    (void)cu_strlcpy(r->id, cu_cs(&c[0]), sizeof r->id);
    (void)cu_strlcpy(r->controller_id, cu_cs(&c[1]), sizeof r->controller_id);
    (void)cu_strlcpy(r->subject_id, cu_cs(&c[2]), sizeof r->subject_id);
    r->visitor_hash_len = c[3].p && c[3].n <= sizeof r->visitor_hash ? c[3].n : 0;
    if (r->visitor_hash_len)
        memcpy(r->visitor_hash, c[3].p, r->visitor_hash_len);
    (void)cu_strlcpy(r->choice, cu_cs(&c[4]), sizeof r->choice);
    r->policy_version = c[5].i;
    r->chosen_at = c[6].i;
    cu_col_mac(&c[7], r->mac, &r->mac_len);
}

static int pc_one(void *ctx, const cu_val *c)
{
    pc_from_row(c, ctx);
    return CU_OK;
}

int cu_store_pck_insert(cu_store *s, const cu_pck_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_PCK_INSERT, "recording a cookie choice", PC_ARGS(r), err);
}

int cu_store_pck_latest_subject(cu_store *s, const char *subject_id, const char *controller_id,
                                cu_pck_row *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    return cu_st_one(s, ST_PCK_LATEST_SUBJECT, "reading a cookie choice",
                     CU_ARGS(cu_vt(subject_id), cu_vt(controller_id)), pc_one, out, err);
}

int cu_store_pck_latest_visitor(cu_store *s, const unsigned char *hash, size_t n,
                                const char *controller_id, cu_pck_row *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    return cu_st_one(s, ST_PCK_LATEST_VISITOR, "reading a cookie choice",
                     CU_ARGS(cu_vb(hash, n), cu_vt(controller_id)), pc_one, out, err);
}

typedef struct pc_ctx {
    cu_pck_cb cb;
    void *ctx;
} pc_ctx;

static int pc_row(void *ctx, const cu_val *c)
{
    pc_ctx *k = ctx;
    cu_pck_row r;
    pc_from_row(c, &r);
    return k->cb(k->ctx, &r);
}

int cu_store_pck_each(cu_store *s, cu_pck_cb cb, void *ctx, cu_err *err)
{
    pc_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_PCK_ALL, "listing cookie choices", CU_NOARGS, pc_row, &k, NULL, err);
}

int cu_store_pck_set_mac(cu_store *s, const char *id, const unsigned char *mac, size_t mac_len,
                         cu_err *err)
{
    return cu_st_exec1(s, ST_PCK_MAC, "sealing a cookie choice",
                       CU_ARGS(cu_vt(id), cu_vmac(mac, mac_len)), err);
}

int cu_store_pck_delete_subject(cu_store *s, const char *subject_id, cu_err *err)
{
    return cu_st_exec(s, ST_PCK_DELETE_SUBJECT, "erasing cookie choices",
                      CU_ARGS(cu_vt(subject_id)), err);
}
