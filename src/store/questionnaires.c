/* questionnaires.c — versioned questionnaire definitions (store.h).
 * Statements by id only: no SQL here. */
#include "store/store_impl.h"

int cu_store_questionnaire_insert(cu_store *s, const cu_questionnaire_row *r, cu_err *err)
{
    cu_err e;
    cu_err_clear(&e);
    int rc = cu_st_exec(s, ST_QN_INSERT, "recording a questionnaire",
                        CU_ARGS(cu_vt(r->url), cu_vt(r->version), cu_vb0(r->hash, r->hash_len),
                                cu_vb0(r->document, r->document_len), cu_vt(r->status),
                                cu_vi(r->added_at), cu_vt(r->added_by),
                                cu_vmac(r->mac, r->mac_len)),
                        &e);
    if (rc == CU_ECONFLICT)
        return cu_err_set(err, CU_ECONFLICT, "that questionnaire version already exists");
    return rc ? cu_err_set(err, rc, "%s", e.msg) : CU_OK;
}

typedef struct qn_ctx {
    cu_questionnaire_row_cb cb;
    void *ctx;
} qn_ctx;

static int qn_row(void *ctx, const cu_val *c)
{
    qn_ctx *k = ctx;
    cu_questionnaire_row r = {
        .url = cu_ct(&c[0]),
        .version = cu_ct(&c[1]),
        .hash = cu_cb(&c[2]),
        .hash_len = c[2].n,
        .document = c[3].p,
        .document_len = c[3].n,
        .status = cu_ct(&c[4]),
        .added_at = c[5].i,
        .added_by = cu_ct(&c[6]),
        .mac = cu_cb(&c[7]),
        .mac_len = c[7].n,
    };
    return k->cb(k->ctx, &r);
}

int cu_store_questionnaire_get(cu_store *s, const char *url, const char *version,
                               cu_questionnaire_row_cb cb, void *ctx, cu_err *err)
{
    qn_ctx k = {cb, ctx};
    if (version)
        return cu_st_one(s, ST_QN_GET, "reading a questionnaire",
                         CU_ARGS(cu_vt(url), cu_vt(version)), qn_row, &k, err);
    return cu_st_one(s, ST_QN_LATEST, "reading a questionnaire", CU_ARGS(cu_vt(url)), qn_row,
                     &k, err);
}

int cu_store_questionnaire_each(cu_store *s, bool with_documents, cu_questionnaire_row_cb cb,
                                void *ctx, cu_err *err)
{
    qn_ctx k = {cb, ctx};
    return cu_st_run(s, with_documents ? ST_QN_ALL : ST_QN_EACH, "listing questionnaires",
                     CU_NOARGS, qn_row, &k, NULL, err);
}

int cu_store_questionnaire_set_mac(cu_store *s, const char *url, const char *version,
                                   const unsigned char *mac, size_t n, cu_err *err)
{
    return cu_st_exec1(s, ST_QN_MAC, "sealing a questionnaire",
                       CU_ARGS(cu_vt(url), cu_vt(version), cu_vmac(mac, n)), err);
}
