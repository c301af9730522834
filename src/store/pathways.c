/* pathways.c — follow-up pathway definitions, enrolments and occurrences
 * (store.h). Statements by id only: no SQL here. */
#include <string.h>

#include "store/store_impl.h"

/* ---- definitions ---- */

int cu_store_pathway_insert(cu_store *s, const cu_pathway_row *r, cu_err *err)
{
    cu_err e;
    cu_err_clear(&e);
    int rc = cu_st_exec(s, ST_PW_INSERT, "recording a pathway",
                        CU_ARGS(cu_vt(r->id), cu_vt(r->version), cu_vb0(r->hash, r->hash_len),
                                cu_vb0(r->document, r->document_len), cu_vi(r->added_at),
                                cu_vt(r->added_by), cu_vmac(r->mac, r->mac_len)),
                        &e);
    if (rc == CU_ECONFLICT)
        return cu_err_set(err, CU_ECONFLICT, "that pathway version already exists");
    return rc ? cu_err_set(err, rc, "%s", e.msg) : CU_OK;
}

typedef struct pw_ctx {
    cu_pathway_row_cb cb;
    void *ctx;
} pw_ctx;

static int pw_row(void *ctx, const cu_val *c)
{
    pw_ctx *k = ctx;
    cu_pathway_row r = {
        .id = cu_cs(&c[0]),
        .version = cu_cs(&c[1]),
        .hash = cu_cb(&c[2]),
        .hash_len = c[2].n,
        .document = c[3].p,
        .document_len = c[3].n,
        .added_at = c[4].i,
        .added_by = cu_cs(&c[5]),
        .mac = cu_cb(&c[6]),
        .mac_len = c[6].n,
    };
    return k->cb(k->ctx, &r);
}

int cu_store_pathway_get(cu_store *s, const char *id, const char *version,
                         cu_pathway_row_cb cb, void *ctx, cu_err *err)
{
    pw_ctx k = {cb, ctx};
    if (version)
        return cu_st_one(s, ST_PW_GET, "reading a pathway", CU_ARGS(cu_vt(id), cu_vt(version)),
                         pw_row, &k, err);
    return cu_st_one(s, ST_PW_LATEST, "reading a pathway", CU_ARGS(cu_vt(id)), pw_row, &k,
                     err);
}

int cu_store_pathway_each(cu_store *s, cu_pathway_row_cb cb, void *ctx, cu_err *err)
{
    pw_ctx k = {cb, ctx};
    return cu_st_run(s, ST_PW_ALL, "listing pathways", CU_NOARGS, pw_row, &k, NULL, err);
}

int cu_store_pathway_set_mac(cu_store *s, const char *id, const char *version,
                             const unsigned char *mac, size_t n, cu_err *err)
{
    return cu_st_exec1(s, ST_PW_MAC, "sealing a pathway",
                       CU_ARGS(cu_vt(id), cu_vt(version), cu_vmac(mac, n)), err);
}

/* ---- enrolments ---- */

#define ENR_ARGS(r)                                                                         \
    CU_ARGS(cu_vt((r)->id), cu_vt((r)->controller_id), cu_vt((r)->subject_id),              \
            cu_vt((r)->pathway_id), cu_vt((r)->pathway_version), cu_vt((r)->start_date),    \
            cu_vt((r)->purpose), cu_vi((r)->occurrences), cu_vt((r)->enrolled_by),          \
            cu_vi((r)->enrolled_at), cu_vt((r)->discharged_by), cu_vi((r)->discharged_at),  \
            cu_vmac((r)->mac, (r)->mac_len))

static void enr_from_row(const cu_val *c, cu_enrolment_rec *r)
{
    memset(r, 0, sizeof *r);
    (void)cu_strlcpy(r->id, cu_cs(&c[0]), sizeof r->id);
    (void)cu_strlcpy(r->controller_id, cu_cs(&c[1]), sizeof r->controller_id);
    (void)cu_strlcpy(r->subject_id, cu_cs(&c[2]), sizeof r->subject_id);
    (void)cu_strlcpy(r->pathway_id, cu_cs(&c[3]), sizeof r->pathway_id);
    (void)cu_strlcpy(r->pathway_version, cu_cs(&c[4]), sizeof r->pathway_version);
    (void)cu_strlcpy(r->start_date, cu_cs(&c[5]), sizeof r->start_date);
    (void)cu_strlcpy(r->purpose, cu_cs(&c[6]), sizeof r->purpose);
    r->occurrences = c[7].i;
    (void)cu_strlcpy(r->enrolled_by, cu_cs(&c[8]), sizeof r->enrolled_by);
    r->enrolled_at = c[9].i;
    (void)cu_strlcpy(r->discharged_by, cu_cs(&c[10]), sizeof r->discharged_by);
    r->discharged_at = c[11].i;
    cu_col_mac(&c[12], r->mac, &r->mac_len);
}

int cu_store_enrolment_insert(cu_store *s, const cu_enrolment_rec *r, cu_err *err)
{
    return cu_st_exec(s, ST_ENR_INSERT, "recording an enrolment", ENR_ARGS(r), err);
}

int cu_store_enrolment_update(cu_store *s, const cu_enrolment_rec *r, cu_err *err)
{
    int rc = cu_st_exec1(s, ST_ENR_UPDATE, "changing an enrolment", ENR_ARGS(r), err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, CU_ENOTFOUND, "no enrolment %s", r->id) : rc;
}

typedef struct enr_ctx {
    cu_enrolment_cb cb;
    void *ctx;
} enr_ctx;

static int enr_row(void *ctx, const cu_val *c)
{
    enr_ctx *k = ctx;
    cu_enrolment_rec r;
    enr_from_row(c, &r);
    return k->cb(k->ctx, &r);
}

int cu_store_enrolment_of_subject(cu_store *s, const char *subject_id, cu_enrolment_cb cb,
                                  void *ctx, cu_err *err)
{
    enr_ctx k = {cb, ctx};
    return cu_st_run(s, ST_ENR_OF_SUBJECT, "reading enrolments", CU_ARGS(cu_vt(subject_id)),
                     enr_row, &k, NULL, err);
}

int cu_store_enrolment_each(cu_store *s, const char *controller_id, cu_enrolment_cb cb,
                            void *ctx, cu_err *err)
{
    enr_ctx k = {cb, ctx};
    if (!controller_id)
        return cu_st_run(s, ST_ENR_ALL, "listing enrolments", CU_NOARGS, enr_row, &k, NULL,
                         err);
    return cu_st_run(s, ST_ENR_EACH, "listing enrolments", CU_ARGS(cu_vt(controller_id)),
                     enr_row, &k, NULL, err);
}

static int count_one(void *ctx, const cu_val *c)
{
    *(int64_t *)ctx = c[0].i;
    return CU_OK;
}

int cu_store_enrolment_count(cu_store *s, const char *controller_id, int64_t *out,
                             cu_err *err)
{
    *out = 0;
    return cu_st_one(s, ST_ENR_COUNT, "counting enrolments", CU_ARGS(cu_vt(controller_id)),
                     count_one, out, err);
}

/* ---- occurrences ---- */

#define OCC_ARGS(r)                                                                         \
    CU_ARGS(cu_vt((r)->enrolment_id), cu_vi((r)->n), cu_vt((r)->due_date),                  \
            cu_vt((r)->state), cu_vt((r)->ref), cu_vi((r)->changed_at),                      \
            cu_vmac((r)->mac, (r)->mac_len))

int cu_store_occurrence_insert(cu_store *s, const cu_occurrence_rec *r, cu_err *err)
{
    return cu_st_exec(s, ST_OCC_INSERT, "recording an occurrence", OCC_ARGS(r), err);
}

int cu_store_occurrence_update(cu_store *s, const cu_occurrence_rec *r, cu_err *err)
{
    int rc = cu_st_exec1(s, ST_OCC_UPDATE, "changing an occurrence", OCC_ARGS(r), err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, CU_ENOTFOUND, "no occurrence %s/%lld",
                                           r->enrolment_id, (long long)r->n)
                              : rc;
}

typedef struct occ_ctx {
    cu_occurrence_cb cb;
    void *ctx;
} occ_ctx;

static int occ_row(void *ctx, const cu_val *c)
{
    occ_ctx *k = ctx;
    cu_occurrence_rec r;
    memset(&r, 0, sizeof r);
    (void)cu_strlcpy(r.enrolment_id, cu_cs(&c[0]), sizeof r.enrolment_id);
    r.n = c[1].i;
    (void)cu_strlcpy(r.due_date, cu_cs(&c[2]), sizeof r.due_date);
    (void)cu_strlcpy(r.state, cu_cs(&c[3]), sizeof r.state);
    (void)cu_strlcpy(r.ref, cu_cs(&c[4]), sizeof r.ref);
    r.changed_at = c[5].i;
    cu_col_mac(&c[6], r.mac, &r.mac_len);
    return k->cb(k->ctx, &r);
}

int cu_store_occurrence_each(cu_store *s, const char *enrolment_id, cu_occurrence_cb cb,
                             void *ctx, cu_err *err)
{
    occ_ctx k = {cb, ctx};
    if (!enrolment_id)
        return cu_st_run(s, ST_OCC_ALL, "listing occurrences", CU_NOARGS, occ_row, &k, NULL,
                         err);
    return cu_st_run(s, ST_OCC_OF_ENR, "reading occurrences", CU_ARGS(cu_vt(enrolment_id)),
                     occ_row, &k, NULL, err);
}
