/* subjects.c — subjects, their data keys, pseudonyms, restriction and
 * objections (store.h). Statements by id only: no SQL here. */
#include <string.h>

#include "store/store_impl.h"

/* The columns of ST_SUBJ_GET, ST_SUBJ_EACH and ST_SUBJ_EACH_CTL, in order. */
static void subject_from_row(const cu_val *c, cu_subject_rec *r)
{
    memset(r, 0, sizeof *r);
    (void)cu_strlcpy(r->id, cu_cs(&c[0]), sizeof r->id);
    (void)cu_strlcpy(r->controller_id, cu_cs(&c[1]), sizeof r->controller_id);
    (void)cu_strlcpy(r->kind, cu_cs(&c[2]), sizeof r->kind);
    r->key_version = c[3].i;
    r->created_at = c[4].i;
    r->updated_at = c[5].i;
    r->erased_at = c[6].i;
    (void)cu_strlcpy(r->pseudonym, cu_cs(&c[7]), sizeof r->pseudonym);
    r->restricted_at = c[8].i;
    r->objecting = c[9].i;
    r->item_count = c[10].i;
    if (c[11].p && c[11].n == 32)
        memcpy(r->item_digest, c[11].p, 32);
    else if (c[11].p)
        memset(r->item_digest, 0xff, 32); /* malformed: matches no digest of items */
    r->has_mac = c[12].p && c[12].n == 32;
    if (r->has_mac)
        memcpy(r->mac, c[12].p, 32);
    r->consents = c[13].i;
}

/* The 14 parameters of ST_SUBJ_INSERT and ST_SUBJ_UPDATE. */
#define SUBJECT_ARGS(r)                                                                     \
    CU_ARGS(cu_vt((r)->id), cu_vt((r)->controller_id), cu_vt((r)->kind),                    \
            cu_vi((r)->key_version), cu_vi((r)->created_at), cu_vi((r)->updated_at),        \
            cu_vi((r)->erased_at), cu_vt((r)->pseudonym), cu_vi((r)->restricted_at),        \
            cu_vi((r)->objecting), cu_vi((r)->item_count),                                  \
            cu_vb0((r)->item_digest, sizeof (r)->item_digest),                              \
            (r)->has_mac ? cu_vb((r)->mac, sizeof (r)->mac) : cu_vb(NULL, 0),              \
            cu_vi((r)->consents))

int cu_store_subject_insert(cu_store *s, const cu_subject_rec *r, cu_err *err)
{
    return cu_st_exec(s, ST_SUBJ_INSERT, "adding a subject", SUBJECT_ARGS(r), err);
}

int cu_store_subject_update(cu_store *s, const cu_subject_rec *r, cu_err *err)
{
    int rc = cu_st_exec1(s, ST_SUBJ_UPDATE, "updating a subject", SUBJECT_ARGS(r), err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, CU_ENOTFOUND, "no subject %s", r->id) : rc;
}

static int subject_one(void *ctx, const cu_val *c)
{
    subject_from_row(c, ctx);
    return CU_OK;
}

int cu_store_subject_get(cu_store *s, const char *id, cu_subject_rec *out, cu_err *err)
{
    return cu_st_one(s, ST_SUBJ_GET, "reading a subject", CU_ARGS(cu_vt(id)), subject_one,
                     out, err);
}

int cu_store_subject_touch(cu_store *s, const char *id, int64_t updated_at, cu_err *err)
{
    return cu_st_exec(s, ST_SUBJ_TOUCH, "updating a subject",
                      CU_ARGS(cu_vt(id), cu_vi(updated_at)), err);
}

int cu_store_subject_mark_erased(cu_store *s, const char *id, int64_t erased_at, cu_err *err)
{
    return cu_st_exec(s, ST_SUBJ_ERASED, "marking a subject erased",
                      CU_ARGS(cu_vt(id), cu_vi(erased_at)), err);
}

typedef struct subj_ctx {
    cu_subject_cb cb;
    void *ctx;
} subj_ctx;

static int subject_row(void *ctx, const cu_val *c)
{
    subj_ctx *k = ctx;
    cu_subject_rec r;
    subject_from_row(c, &r);
    return k->cb(k->ctx, &r);
}

int cu_store_subject_each(cu_store *s, const char *controller_id, cu_subject_cb cb, void *ctx,
                          cu_err *err)
{
    subj_ctx k = {cb, ctx};
    if (controller_id)
        return cu_st_run(s, ST_SUBJ_EACH_CTL, "listing subjects",
                         CU_ARGS(cu_vt(controller_id)), subject_row, &k, NULL, err);
    return cu_st_run(s, ST_SUBJ_EACH, "listing subjects", CU_NOARGS, subject_row, &k, NULL,
                     err);
}

int cu_store_subject_key_put(cu_store *s, const char *subject_id, int64_t version,
                             const void *wrapped, size_t n, cu_err *err)
{
    return cu_st_exec(s, ST_SKEY_PUT, "writing a subject key",
                      CU_ARGS(cu_vt(subject_id), cu_vi(version), cu_vb0(wrapped, n)), err);
}

typedef struct skey_ctx {
    int64_t *version;
    unsigned char *wrapped;
    size_t cap, *n;
    cu_subject_key_cb cb;
    void *ctx;
} skey_ctx;

static int skey_one(void *ctx, const cu_val *c)
{
    skey_ctx *k = ctx;
    if (c[1].n > k->cap)
        return CU_ECORRUPT;
    *k->version = c[0].i;
    if (c[1].n)
        memcpy(k->wrapped, c[1].p, c[1].n);
    *k->n = c[1].n;
    return CU_OK;
}

int cu_store_subject_key_get(cu_store *s, const char *subject_id, int64_t *version,
                             unsigned char *wrapped, size_t cap, size_t *n, cu_err *err)
{
    skey_ctx k = {.version = version, .wrapped = wrapped, .cap = cap, .n = n};
    int rc = cu_st_one(s, ST_SKEY_GET, "reading a subject key", CU_ARGS(cu_vt(subject_id)),
                       skey_one, &k, err);
    if (rc == CU_ECORRUPT)
        return cu_err_set(err, CU_ECORRUPT, "a subject key has the wrong size");
    return rc;
}

int cu_store_subject_key_delete(cu_store *s, const char *subject_id, cu_err *err)
{
    return cu_st_exec(s, ST_SKEY_DELETE, "destroying a subject key",
                      CU_ARGS(cu_vt(subject_id)), err);
}

static int skey_row(void *ctx, const cu_val *c)
{
    skey_ctx *k = ctx;
    return k->cb(k->ctx, cu_ct(&c[0]), c[1].i, c[2].p, c[2].n);
}

int cu_store_subject_key_each(cu_store *s, cu_subject_key_cb cb, void *ctx, cu_err *err)
{
    skey_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_SKEY_EACH, "reading subject keys", CU_NOARGS, skey_row, &k, NULL,
                     err);
}

/* ---- pseudonyms ---- */

int cu_store_subject_set_pseudonym(cu_store *s, const char *id, const char *pseudonym,
                                   cu_err *err)
{
    return cu_st_exec(s, ST_SUBJ_PSN_SET, "setting a pseudonym",
                      CU_ARGS(cu_vt(id), cu_vt(pseudonym)), err);
}

static int id_one(void *ctx, const cu_val *c)
{
    (void)cu_strlcpy(ctx, cu_cs(&c[0]), 40);
    return CU_OK;
}

int cu_store_subject_by_pseudonym(cu_store *s, const char *pseudonym, char id[40], cu_err *err)
{
    return cu_st_one(s, ST_SUBJ_BY_PSN, "finding a pseudonym", CU_ARGS(cu_vt(pseudonym)),
                     id_one, id, err);
}

typedef struct pair_ctx {
    cu_ident_cb cb;
    void *ctx;
} pair_ctx;

static int pair_row(void *ctx, const cu_val *c)
{
    pair_ctx *k = ctx;
    return k->cb(k->ctx, cu_ct(&c[0]), cu_ct(&c[1]));
}

int cu_store_subject_without_pseudonym(cu_store *s, cu_ident_cb cb, void *ctx, cu_err *err)
{
    pair_ctx k = {cb, ctx};
    return cu_st_run(s, ST_SUBJ_NO_PSN, "listing subjects", CU_NOARGS, pair_row, &k, NULL,
                     err);
}

/* ---- restriction and objections ---- */

int cu_store_subject_set_restricted(cu_store *s, const char *id, int64_t at, cu_err *err)
{
    return cu_st_exec(s, ST_SUBJ_RESTRICT, "changing a restriction",
                      CU_ARGS(cu_vt(id), cu_vi(at)), err);
}

int cu_store_subject_set_key_version(cu_store *s, const char *id, int64_t version, cu_err *err)
{
    return cu_st_exec(s, ST_SUBJ_KEYVER, "recording a key version",
                      CU_ARGS(cu_vt(id), cu_vi(version)), err);
}

int cu_store_objection_recount(cu_store *s, const char *subject_id, cu_err *err)
{
    return cu_st_exec(s, ST_OBJ_COUNT, "counting objections", CU_ARGS(cu_vt(subject_id)),
                      err);
}

static int seq_one(void *ctx, const cu_val *c)
{
    *(int64_t *)ctx = c[0].i;
    return CU_OK;
}

int cu_store_objection_add(cu_store *s, const char *subject_id, const char *purpose,
                           int64_t now, const char *by, int64_t *seq, cu_err *err)
{
    /* Every row is read (one: the new objection's seq), so the statement
     * runs to its end. */
    *seq = 0;
    int rc = cu_st_run(s, ST_OBJ_ADD, "recording an objection",
                       CU_ARGS(cu_vt(subject_id), cu_vt(purpose), cu_vi(now), cu_vt(by)),
                       seq_one, seq, NULL, err);
    if (!rc && *seq <= 0)
        rc = cu_err_set(err, CU_EIO, "recording an objection: no sequence number");
    if (rc)
        *seq = 0;
    return rc;
}

int cu_store_objection_lift(cu_store *s, int64_t seq, int64_t now, const char *by,
                            const unsigned char *mac, size_t mac_len, cu_err *err)
{
    return cu_st_exec(s, ST_OBJ_LIFT_ONE, "lifting an objection",
                      CU_ARGS(cu_vi(seq), cu_vi(now), cu_vt(by), cu_vmac(mac, mac_len)), err);
}

typedef struct obj_ctx {
    cu_objection_cb cb;
    void *ctx;
} obj_ctx;

static int objection_row(void *ctx, const cu_val *c)
{
    obj_ctx *k = ctx;
    cu_objection_row r = {
        .subject_id = cu_ct(&c[0]),
        .purpose = cu_ct(&c[1]),
        .recorded_by = cu_ct(&c[2]),
        .lifted_by = cu_ct(&c[3]),
        .made_at = c[4].i,
        .lifted_at = c[5].i,
        .seq = c[6].i,
        .mac = cu_cb(&c[7]),
        .mac_len = c[7].n,
    };
    return k->cb(k->ctx, &r);
}

int cu_store_objection_each(cu_store *s, const char *subject_id, cu_objection_cb cb, void *ctx,
                            cu_err *err)
{
    obj_ctx k = {cb, ctx};
    if (subject_id)
        return cu_st_run(s, ST_OBJ_EACH, "listing objections", CU_ARGS(cu_vt(subject_id)),
                         objection_row, &k, NULL, err);
    return cu_st_run(s, ST_OBJ_ALL, "listing objections", CU_NOARGS, objection_row, &k, NULL,
                     err);
}
