/* policy.c — every applied version of each controller's policy (store.h).
 * Statements by id only: no SQL here. */
#include "store/store_impl.h"

int cu_store_policy_insert(cu_store *s, const cu_policy_row *r, cu_err *err)
{
    cu_err e;
    cu_err_clear(&e);
    int rc = cu_st_exec(s, ST_POL_INSERT, "recording a policy",
                        CU_ARGS(cu_vt(r->controller_id), cu_vi(r->version),
                                cu_vi(r->applied_at), cu_vt(r->applied_by),
                                cu_vb0(r->digest, r->digest_len),
                                cu_vb0(r->document, r->document_len),
                                cu_vmac(r->mac, r->mac_len)),
                        &e);
    if (rc == CU_ECONFLICT)
        return cu_err_set(err, CU_ECONFLICT, "that policy version already exists");
    return rc ? cu_err_set(err, rc, "%s", e.msg) : CU_OK;
}

typedef struct pol_ctx {
    cu_policy_row_cb cb;
    void *ctx;
    bool with_document;
} pol_ctx;

static int policy_row(void *ctx, const cu_val *c)
{
    pol_ctx *k = ctx;
    cu_policy_row r = {
        .controller_id = cu_ct(&c[0]),
        .version = c[1].i,
        .applied_at = c[2].i,
        .applied_by = cu_ct(&c[3]),
        .digest = cu_cb(&c[4]),
        .digest_len = c[4].n,
        .document = k->with_document ? c[5].p : NULL,
        .document_len = k->with_document ? c[5].n : 0,
        .mac = cu_cb(&c[6]),
        .mac_len = c[6].n,
    };
    return k->cb(k->ctx, &r);
}

int cu_store_policy_get(cu_store *s, const char *controller_id, int64_t version,
                        cu_policy_row_cb cb, void *ctx, cu_err *err)
{
    pol_ctx k = {cb, ctx, true};
    if (version)
        return cu_st_one(s, ST_POL_GET, "reading a policy",
                         CU_ARGS(cu_vt(controller_id), cu_vi(version)), policy_row, &k, err);
    return cu_st_one(s, ST_POL_CURRENT, "reading a policy", CU_ARGS(cu_vt(controller_id)),
                     policy_row, &k, err);
}

int cu_store_policy_each(cu_store *s, const char *controller_id, cu_policy_row_cb cb, void *ctx,
                         cu_err *err)
{
    pol_ctx k = {cb, ctx, !controller_id};
    if (controller_id)
        return cu_st_run(s, ST_POL_EACH, "listing policies", CU_ARGS(cu_vt(controller_id)),
                         policy_row, &k, NULL, err);
    return cu_st_run(s, ST_POL_ALL, "listing policies", CU_NOARGS, policy_row, &k, NULL, err);
}
