/* audit.c — audit events, the signed head and kept checkpoints (store.h).
 * Statements by id only: no SQL here. */
#include <string.h>

#include "store/store_impl.h"

typedef struct last_ctx {
    int64_t *seq;
    unsigned char *hash;
    size_t hashlen;
} last_ctx;

static int last_row(void *ctx, const cu_val *c)
{
    last_ctx *k = ctx;
    *k->seq = c[0].i;
    if (c[1].n != k->hashlen)
        return CU_ETAMPER;
    memcpy(k->hash, c[1].p, k->hashlen);
    return CU_OK;
}

int cu_store_audit_last(cu_store *s, int64_t *seq, unsigned char *hash, size_t hashlen,
                        cu_err *err)
{
    *seq = 0;
    last_ctx k = {seq, hash, hashlen};
    int rc = cu_st_one(s, ST_AUDIT_LAST, "reading the audit trail", CU_NOARGS, last_row, &k,
                       err);
    if (rc == CU_ETAMPER)
        return cu_err_set(err, CU_ETAMPER, "audit event %lld has a malformed hash",
                          (long long)*seq);
    return rc == CU_ENOTFOUND ? CU_OK : rc;
}

int cu_store_audit_insert(cu_store *s, const cu_audit_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_AUDIT_INSERT, "appending an audit event",
                      CU_ARGS(cu_vi(r->seq), cu_vi(r->ts), cu_vt(r->actor),
                              cu_vt(r->subject_id), cu_vb0(r->body, r->body_len),
                              cu_vb0(r->hash, r->hash_len)),
                      err);
}

typedef struct audit_ctx {
    cu_audit_cb cb;
    void *ctx;
} audit_ctx;

static int audit_row(void *ctx, const cu_val *c)
{
    audit_ctx *k = ctx;
    cu_audit_row r = {
        .seq = c[0].i,
        .ts = c[1].i,
        .actor = cu_ct(&c[2]),
        .subject_id = cu_ct(&c[3]),
        .body = cu_cb(&c[4]),
        .body_len = c[4].n,
        .hash = cu_cb(&c[5]),
        .hash_len = c[5].n,
    };
    return k->cb(k->ctx, &r);
}

int cu_store_audit_each(cu_store *s, const cu_audit_filter *f, cu_audit_cb cb, void *ctx,
                        cu_err *err)
{
    static const cu_audit_filter none = {0};
    if (!f)
        f = &none;
    audit_ctx k = {cb, ctx};
    const char *what = "reading the audit trail";
    /* The limit -1: none. */
    int64_t limit = f->limit > 0 ? f->limit : -1;
    bool all = !f->subject_id && !f->actor && !f->since_us && !f->until_us && !f->after_seq &&
               f->limit <= 0;
    if (all)
        return cu_st_run(s, ST_AUDIT_ALL, what, CU_NOARGS, audit_row, &k, NULL, err);
    if (f->subject_id && !f->actor && !f->since_us && !f->until_us)
        return cu_st_run(s, ST_AUDIT_SUBJECT, what,
                         CU_ARGS(cu_vt(f->subject_id), cu_vi(f->after_seq), cu_vi(limit)),
                         audit_row, &k, NULL, err);
    return cu_st_run(s, ST_AUDIT_EACH, what,
                     CU_ARGS(cu_vt(f->subject_id), cu_vt(f->actor), cu_vi(f->since_us),
                             cu_vi(f->until_us), cu_vi(f->after_seq), cu_vi(limit)),
                     audit_row, &k, NULL, err);
}

/* ---- the signed head and checkpoints ---- */

#define CHECKPOINT_ARGS(c)                                                                  \
    CU_ARGS(cu_vi((c)->seq), cu_vi((c)->signed_at), cu_vb0((c)->hash, sizeof (c)->hash),   \
            cu_vb0((c)->sig, sizeof (c)->sig), cu_vopt((c)->node))

/* Reads a checkpoint row; false when its byte strings have the wrong sizes. */
static bool checkpoint_from_row(const cu_val *c, cu_checkpoint *out)
{
    memset(out, 0, sizeof *out);
    out->seq = c[0].i;
    out->signed_at = c[1].i;
    if (c[2].n != sizeof out->hash || c[3].n != sizeof out->sig)
        return false;
    memcpy(out->hash, c[2].p, sizeof out->hash);
    memcpy(out->sig, c[3].p, sizeof out->sig);
    /* The node that signed it (migration 8); NULL: the store's own key. */
    if (c[4].p && (c[4].n == 0 || c[4].n >= sizeof out->node))
        return false;
    if (c[4].p)
        memcpy(out->node, c[4].p, c[4].n + 1);
    return true;
}

int cu_store_head_put(cu_store *s, const cu_checkpoint *c, cu_err *err)
{
    return cu_st_exec(s, ST_HEAD_PUT, "signing the audit head", CHECKPOINT_ARGS(c), err);
}

static int head_row(void *ctx, const cu_val *c)
{
    return checkpoint_from_row(c, ctx) ? CU_OK : CU_ETAMPER;
}

int cu_store_head_get(cu_store *s, cu_checkpoint *out, cu_err *err)
{
    int rc = cu_st_one(s, ST_HEAD_GET, "reading the audit head", CU_NOARGS, head_row, out,
                       err);
    if (rc == CU_ETAMPER)
        return cu_err_set(err, CU_ETAMPER, "the signed audit head is malformed");
    return rc;
}

int cu_store_checkpoint_add(cu_store *s, const cu_checkpoint *c, cu_err *err)
{
    return cu_st_exec(s, ST_CKPT_ADD, "adding an audit checkpoint", CHECKPOINT_ARGS(c), err);
}

static int seq_row(void *ctx, const cu_val *c)
{
    *(int64_t *)ctx = c[0].i;
    return CU_OK;
}

int cu_store_head_read_ahead(cu_store *s, cu_err *err)
{
    const cu_stmt_call calls[] = {{ST_AUDIT_LAST, NULL, 0}, {ST_HEAD_GET, NULL, 0}};
    return cu_st_read_ahead(s, "reading the audit trail", calls, 2, err);
}

int cu_store_checkpoint_last_seq(cu_store *s, int64_t *seq, cu_err *err)
{
    int rc = cu_st_one(s, ST_CKPT_LAST, "reading audit checkpoints", CU_NOARGS, seq_row, seq,
                       err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, CU_EIO, "reading audit checkpoints: no result")
                              : rc;
}

typedef struct ckpt_ctx {
    cu_checkpoint_cb cb;
    void *ctx;
    cu_err *err;
} ckpt_ctx;

static int ckpt_row(void *ctx, const cu_val *c)
{
    ckpt_ctx *k = ctx;
    cu_checkpoint cp;
    if (!checkpoint_from_row(c, &cp))
        return cu_err_set(k->err, CU_ETAMPER, "audit checkpoint at %lld is malformed",
                          (long long)cp.seq);
    return k->cb(k->ctx, &cp);
}

int cu_store_checkpoint_each(cu_store *s, cu_checkpoint_cb cb, void *ctx, cu_err *err)
{
    ckpt_ctx k = {cb, ctx, err};
    return cu_st_run(s, ST_CKPT_EACH, "reading audit checkpoints", CU_NOARGS, ckpt_row, &k,
                     NULL, err);
}
