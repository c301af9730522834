/* consent.c — consent records and single-use unsubscribe links (store.h).
 * Statements by id only: no SQL here. */
#include "store/store_impl.h"

int cu_store_consent_insert(cu_store *s, const cu_consent_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_CONSENT_INSERT, "recording consent",
                      CU_ARGS(cu_vt(r->id), cu_vt(r->subject_id), cu_vt(r->purpose),
                              cu_vt(r->state), cu_vt(r->method), cu_vt(r->recorded_by),
                              cu_vi(r->policy_version), cu_vi(r->at),
                              cu_vb(r->evidence, r->evidence_len),
                              cu_vmac(r->mac, r->mac_len)),
                      err);
}

typedef struct consent_ctx {
    cu_consent_cb cb;
    void *ctx;
} consent_ctx;

static int consent_row(void *ctx, const cu_val *c)
{
    consent_ctx *k = ctx;
    cu_consent_row r = {
        .id = cu_ct(&c[0]),
        .subject_id = cu_ct(&c[1]),
        .purpose = cu_ct(&c[2]),
        .state = cu_ct(&c[3]),
        .method = cu_ct(&c[4]),
        .recorded_by = cu_ct(&c[5]),
        .policy_version = c[6].i,
        .at = c[7].i,
        .evidence = cu_cb(&c[8]),
        .evidence_len = c[8].n,
        .mac = cu_cb(&c[9]),
        .mac_len = c[9].n,
    };
    return k->cb(k->ctx, &r);
}

int cu_store_consent_latest(cu_store *s, const char *subject_id, const char *purpose,
                            cu_consent_cb cb, void *ctx, cu_err *err)
{
    consent_ctx k = {cb, ctx};
    return cu_st_one(s, ST_CONSENT_LATEST, "reading consent",
                     CU_ARGS(cu_vt(subject_id), cu_vt(purpose)), consent_row, &k, err);
}

static int count_row(void *ctx, const cu_val *c)
{
    *(int64_t *)ctx = c[0].i;
    return CU_OK;
}

int cu_store_consent_count(cu_store *s, const char *subject_id, int64_t *out, cu_err *err)
{
    int rc = cu_st_one(s, ST_CONSENT_COUNT, "counting consent records",
                       CU_ARGS(cu_vt(subject_id)), count_row, out, err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, CU_EIO, "counting consent records: no result")
                              : rc;
}

int cu_store_consent_each(cu_store *s, const char *subject_id, cu_consent_cb cb, void *ctx,
                          cu_err *err)
{
    consent_ctx k = {cb, ctx};
    if (subject_id)
        return cu_st_run(s, ST_CONSENT_EACH, "listing consent", CU_ARGS(cu_vt(subject_id)),
                         consent_row, &k, NULL, err);
    return cu_st_run(s, ST_CONSENT_ALL, "listing consent", CU_NOARGS, consent_row, &k, NULL,
                     err);
}

int cu_store_consent_get(cu_store *s, const char *id, cu_consent_cb cb, void *ctx, cu_err *err)
{
    consent_ctx k = {cb, ctx};
    return cu_st_one(s, ST_CONSENT_GET, "reading consent", CU_ARGS(cu_vt(id)), consent_row, &k,
                     err);
}

int cu_store_consent_set_evidence(cu_store *s, const char *id, const void *sealed, size_t n,
                                  const unsigned char *mac, size_t mac_len, cu_err *err)
{
    return cu_st_exec(s, ST_CONSENT_EVIDENCE, "re-encrypting consent evidence",
                      CU_ARGS(cu_vt(id), cu_vb0(sealed, n), cu_vmac(mac, mac_len)), err);
}

/* ---- unsubscribe links ---- */

int cu_store_unsubscribe_insert(cu_store *s, const cu_unsub_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_UNSUB_INSERT, "recording an unsubscribe link",
                      CU_ARGS(cu_vb0(r->hash, r->hash_len), cu_vt(r->subject_id),
                              cu_vt(r->purpose), cu_vi(r->created_at),
                              cu_vmac(r->mac, r->mac_len)),
                      err);
}

typedef struct unsub_ctx {
    cu_unsub_cb cb;
    void *ctx;
} unsub_ctx;

static int unsub_row(void *ctx, const cu_val *c)
{
    unsub_ctx *k = ctx;
    cu_unsub_row r = {
        .hash = cu_cb(&c[0]),
        .hash_len = c[0].n,
        .subject_id = cu_ct(&c[1]),
        .purpose = cu_ct(&c[2]),
        .created_at = c[3].i,
        .used_at = c[4].i,
        .mac = cu_cb(&c[5]),
        .mac_len = c[5].n,
    };
    return k->cb(k->ctx, &r);
}

int cu_store_unsubscribe_get(cu_store *s, const unsigned char *hash, size_t n, cu_unsub_cb cb,
                             void *ctx, cu_err *err)
{
    unsub_ctx k = {cb, ctx};
    return cu_st_one(s, ST_UNSUB_PEEK, "reading an unsubscribe link", CU_ARGS(cu_vb0(hash, n)),
                     unsub_row, &k, err);
}

int cu_store_unsubscribe_use(cu_store *s, const cu_unsub_row *r, cu_err *err)
{
    int64_t changed = 0;
    int rc = cu_st_run(s, ST_UNSUB_USE, "using an unsubscribe link",
                       CU_ARGS(cu_vb0(r->hash, r->hash_len), cu_vi(r->used_at),
                               cu_vmac(r->mac, r->mac_len)),
                       NULL, NULL, &changed, err);
    return !rc && changed == 0 ? CU_ENOTFOUND : rc;
}

int cu_store_unsubscribe_each(cu_store *s, cu_unsub_cb cb, void *ctx, cu_err *err)
{
    unsub_ctx k = {cb, ctx};
    return cu_st_run(s, ST_UNSUB_ALL, "listing unsubscribe links", CU_NOARGS, unsub_row, &k,
                     NULL, err);
}
