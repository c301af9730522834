/* qlinks.c — questionnaire links (store.h). Statements by id only: no SQL
 * here. */
#include <string.h>

#include "store/store_impl.h"

#define QL_ARGS(r)                                                                          \
    CU_ARGS(cu_vb((r)->hash, (r)->hash_len), cu_vt((r)->id), cu_vt((r)->controller_id),     \
            cu_vt((r)->subject_id), cu_vt((r)->url), cu_vt((r)->version),                   \
            cu_vt((r)->purpose), cu_vt((r)->issued_by), cu_vi((r)->issued_at),              \
            cu_vi((r)->expires_at), cu_vi((r)->used_at), cu_vt((r)->response_id),           \
            cu_vmac((r)->mac, (r)->mac_len))

static void ql_from_row(const cu_val *c, cu_qlink_row *r)
{
    memset(r, 0, sizeof *r);
    r->hash_len = c[0].p && c[0].n <= sizeof r->hash ? c[0].n : 0;
    if (r->hash_len)
        memcpy(r->hash, c[0].p, r->hash_len);
    (void)cu_strlcpy(r->id, cu_cs(&c[1]), sizeof r->id);
    (void)cu_strlcpy(r->controller_id, cu_cs(&c[2]), sizeof r->controller_id);
    (void)cu_strlcpy(r->subject_id, cu_cs(&c[3]), sizeof r->subject_id);
    (void)cu_strlcpy(r->url, cu_cs(&c[4]), sizeof r->url);
    (void)cu_strlcpy(r->version, cu_cs(&c[5]), sizeof r->version);
    (void)cu_strlcpy(r->purpose, cu_cs(&c[6]), sizeof r->purpose);
    (void)cu_strlcpy(r->issued_by, cu_cs(&c[7]), sizeof r->issued_by);
    r->issued_at = c[8].i;
    r->expires_at = c[9].i;
    r->used_at = c[10].i;
    (void)cu_strlcpy(r->response_id, cu_cs(&c[11]), sizeof r->response_id);
    cu_col_mac(&c[12], r->mac, &r->mac_len);
}

int cu_store_qlink_insert(cu_store *s, const cu_qlink_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_QL_INSERT, "recording a questionnaire link", QL_ARGS(r), err);
}

static int ql_one(void *ctx, const cu_val *c)
{
    ql_from_row(c, ctx);
    return CU_OK;
}

int cu_store_qlink_get(cu_store *s, const unsigned char *hash, size_t n, cu_qlink_row *out,
                       cu_err *err)
{
    memset(out, 0, sizeof *out);
    return cu_st_one(s, ST_QL_GET, "reading a questionnaire link", CU_ARGS(cu_vb(hash, n)),
                     ql_one, out, err);
}

int cu_store_qlink_use(cu_store *s, const cu_qlink_row *r, cu_err *err)
{
    return cu_st_exec1(s, ST_QL_USE, "using a questionnaire link", QL_ARGS(r), err);
}

typedef struct ql_ctx {
    cu_qlink_cb cb;
    void *ctx;
} ql_ctx;

static int ql_row(void *ctx, const cu_val *c)
{
    ql_ctx *k = ctx;
    cu_qlink_row r;
    ql_from_row(c, &r);
    return k->cb(k->ctx, &r);
}

int cu_store_qlink_each(cu_store *s, cu_qlink_cb cb, void *ctx, cu_err *err)
{
    ql_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_QL_ALL, "listing questionnaire links", CU_NOARGS, ql_row, &k, NULL,
                     err);
}

int cu_store_qlink_unused_of_subject(cu_store *s, const char *subject_id, cu_qlink_cb cb,
                                     void *ctx, cu_err *err)
{
    ql_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_QL_OPEN_OF_SUBJECT, "reading questionnaire links",
                     CU_ARGS(cu_vt(subject_id)), ql_row, &k, NULL, err);
}

int cu_store_qlink_of_subject(cu_store *s, const char *subject_id, cu_qlink_cb cb, void *ctx,
                              cu_err *err)
{
    ql_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_QL_OF_SUBJECT, "reading questionnaire links",
                     CU_ARGS(cu_vt(subject_id)), ql_row, &k, NULL, err);
}

int cu_store_qlink_set_mac(cu_store *s, const unsigned char *hash, size_t n,
                           const unsigned char *mac, size_t mac_len, cu_err *err)
{
    return cu_st_exec1(s, ST_QL_MAC, "sealing a questionnaire link",
                       CU_ARGS(cu_vb(hash, n), cu_vmac(mac, mac_len)), err);
}
