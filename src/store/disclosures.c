/* disclosures.c — the disclosure log (store.h). Statements by id only: no
 * SQL here. */
#include "store/store_impl.h"

int cu_store_disclosure_insert(cu_store *s, const cu_disclosure_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_DISC_INSERT, "recording a disclosure",
                      CU_ARGS(cu_vt(r->id), cu_vt(r->subject_id), cu_vt(r->recipient_id),
                              cu_vb(r->recipient, r->recipient_len), cu_vt(r->basis),
                              cu_vt(r->purpose), cu_vt(r->channel), cu_vt(r->items),
                              cu_vt(r->categories), cu_vi(r->disclosed_at),
                              cu_vi(r->recorded_at), cu_vt(r->recorded_by),
                              cu_vb(r->note, r->note_len)),
                      err);
}

typedef struct disc_ctx {
    cu_disclosure_cb cb;
    void *ctx;
} disc_ctx;

static int disclosure_row(void *ctx, const cu_val *c)
{
    disc_ctx *k = ctx;
    cu_disclosure_row r = {
        .id = cu_ct(&c[0]),
        .subject_id = cu_ct(&c[1]),
        .recipient_id = cu_ct(&c[2]),
        .recipient = cu_cb(&c[3]),
        .recipient_len = c[3].n,
        .basis = cu_ct(&c[4]),
        .purpose = cu_ct(&c[5]),
        .channel = cu_ct(&c[6]),
        .items = cu_ct(&c[7]),
        .categories = cu_ct(&c[8]),
        .disclosed_at = c[9].i,
        .recorded_at = c[10].i,
        .recorded_by = cu_ct(&c[11]),
        .note = cu_cb(&c[12]),
        .note_len = c[12].n,
    };
    return k->cb(k->ctx, &r);
}

int cu_store_disclosure_each(cu_store *s, const char *subject_id, cu_disclosure_cb cb, void *ctx,
                             cu_err *err)
{
    disc_ctx k = {cb, ctx};
    return cu_st_run(s, ST_DISC_EACH, "listing disclosures", CU_ARGS(cu_vt(subject_id)),
                     disclosure_row, &k, NULL, err);
}
