#include "domain/consent.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "domain/subject_rows.h"
#include "domain/integrity.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

/* ---- policies ---- */

/* ---- row authentication (integrity.h) ----
 * A policy row's code covers its controller, version, time, author and
 * digest; the document is bound by its digest (checked whenever a document
 * is read), so GET /v1/policy can never show the digest of a document other
 * than the one enforced. The latest version of each controller is recorded in
 * an authenticated head (meta "policy_head/<controller>"), so removing the
 * latest version to roll a controller back to an older policy is detected. */

static int row_altered(cu_err *err, const char *table, const char *row)
{
    return cu_err_set(err, CU_ETAMPER, "%s %s has been altered", table, row);
}

static void policy_mac(cu_vault *v, const cu_policy_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "policies");
    cu_mac_str(m, r->controller_id);
    cu_mac_i64(m, r->version);
    cu_mac_i64(m, r->applied_at);
    cu_mac_str(m, r->applied_by);
    cu_mac_bytes(m, r->digest, r->digest_len);
}

static void policy_row_name(const cu_policy_row *r, char out[CU_ID_STRLEN + 24])
{
    snprintf(out, CU_ID_STRLEN + 24, "%s/%lld", r->controller_id, (long long)r->version);
}

static void head_key(const char *controller_id, char out[CU_META_COUNTER_KEY])
{
    cu_meta_counter_key("policy_head", controller_id, out);
}

static int head_put(cu_vault *v, const char *controller_id, int64_t version, cu_err *err)
{
    return cu_meta_counter_put(v, "policy_head", controller_id, version, err);
}

/* The latest version a controller's head records (0: no head). */
static int head_get(cu_vault *v, const char *controller_id, int64_t *version, cu_err *err)
{
    return cu_meta_counter_get(v, "policy_head", controller_id, version, err);
}

int cu_policy_row_check(cu_vault *v, const cu_policy_row *r, bool current, cu_err *err)
{
    char row[CU_ID_STRLEN + 24];
    policy_row_name(r, row);
    cu_mac m;
    policy_mac(v, r, &m);
    if (!cu_mac_check(&m, r->mac, r->mac_len))
        return row_altered(err, "policies", row);
    if (r->document) {
        unsigned char d[CU_HASH_BYTES];
        cu_hash2(r->document, r->document_len, NULL, 0, d);
        if (r->digest_len != CU_HASH_BYTES || !cu_ct_equal(d, r->digest, CU_HASH_BYTES))
            return row_altered(err, "policies", row);
    }
    if (current) {
        int64_t head;
        int rc = head_get(v, r->controller_id, &head, err);
        if (rc)
            return rc;
        if (head != r->version)
            return cu_err_set(err, CU_ETAMPER, "policies %s has been altered: it is not the "
                                               "controller's latest version (%lld)",
                              row, (long long)head);
    }
    return CU_OK;
}

static void unsub_mac(cu_vault *v, const cu_unsub_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "unsubscribe_links");
    cu_mac_bytes(m, r->hash, r->hash_len);
    cu_mac_str(m, r->subject_id);
    cu_mac_str(m, r->purpose);
    cu_mac_i64(m, r->created_at);
    cu_mac_i64(m, r->used_at);
}

static void unsub_sign(cu_vault *v, const cu_unsub_row *r, unsigned char out[CU_HASH_BYTES])
{
    cu_mac m;
    unsub_mac(v, r, &m);
    cu_mac_final(&m, out);
}

static bool unsub_ok(cu_vault *v, const cu_unsub_row *r)
{
    cu_mac m;
    unsub_mac(v, r, &m);
    return cu_mac_check(&m, r->mac, r->mac_len);
}

typedef struct policy_walk {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    int rc;
    char controller[CU_ID_STRLEN];
    int64_t last; /* the highest version seen of controller */
    struct policy_mac {
        char controller[CU_ID_STRLEN];
        int64_t version;
        unsigned char key[CU_HASH_BYTES]; /* unsubscribe links: the token hash */
        bool link;
        unsigned char mac[CU_HASH_BYTES];
    } *p;
    size_t n, cap;
} policy_walk;

static int walk_note(policy_walk *w, const char *controller, int64_t version,
                     const unsigned char *key, const unsigned char mac[CU_HASH_BYTES])
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct policy_mac *np = realloc(w->p, cap * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->p = np;
        w->cap = cap;
    }
    struct policy_mac *p = &w->p[w->n++];
    memset(p, 0, sizeof *p);
    if (controller)
        cu_strlcpy(p->controller, controller, sizeof p->controller);
    p->version = version;
    p->link = key != NULL;
    if (key)
        memcpy(p->key, key, CU_HASH_BYTES);
    memcpy(p->mac, mac, CU_HASH_BYTES);
    return CU_OK;
}

/* The end of one controller's versions: its head must name the last. */
static int walk_head(policy_walk *w, cu_err *err)
{
    if (!w->controller[0])
        return CU_OK;
    if (w->seal)
        return head_put(w->v, w->controller, w->last, err);
    int64_t head = 0;
    cu_err e = {0};
    char key[CU_META_COUNTER_KEY];
    head_key(w->controller, key);
    if (head_get(w->v, w->controller, &head, &e) == CU_OK && head == w->last)
        return CU_OK;
    return w->report(w->rctx, "meta", key,
                     head ? "altered (names another latest policy version)"
                          : "missing (the latest policy version is unauthenticated)");
}

static int walk_policy(void *ctx, const cu_policy_row *r)
{
    policy_walk *w = ctx;
    w->rows++;
    if (strcmp(w->controller, r->controller_id) != 0) {
        if ((w->rc = walk_head(w, NULL)))
            return w->rc;
        cu_strlcpy(w->controller, r->controller_id, sizeof w->controller);
    }
    w->last = r->version;
    if (w->seal) {
        unsigned char mac[CU_HASH_BYTES];
        cu_mac m;
        policy_mac(w->v, r, &m);
        cu_mac_final(&m, mac);
        return walk_note(w, r->controller_id, r->version, NULL, mac);
    }
    cu_err e = {0};
    if (cu_policy_row_check(w->v, r, false, &e) == CU_OK)
        return CU_OK;
    char row[CU_ID_STRLEN + 24];
    policy_row_name(r, row);
    return w->report(w->rctx, "policies", row,
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int walk_link(void *ctx, const cu_unsub_row *r)
{
    policy_walk *w = ctx;
    w->rows++;
    if (r->hash_len != CU_HASH_BYTES) {
        return w->seal ? CU_OK : w->report(w->rctx, "unsubscribe_links", "(malformed hash)",
                                           "forged");
    }
    if (w->seal) {
        unsigned char mac[CU_HASH_BYTES];
        unsub_sign(w->v, r, mac);
        return walk_note(w, NULL, 0, r->hash, mac);
    }
    if (unsub_ok(w->v, r))
        return CU_OK;
    char row[17];
    cu_hex(r->hash, 8, row);
    return w->report(w->rctx, "unsubscribe_links", row,
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int policy_family_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                              int64_t *rows, cu_err *err)
{
    policy_walk w = {.v = v, .seal = seal, .report = report, .rctx = rctx};
    int rc = cu_store_policy_each(v->store, NULL, walk_policy, &w, err);
    if (!rc)
        rc = walk_head(&w, err);
    if (!rc)
        rc = cu_store_unsubscribe_each(v->store, walk_link, &w, err);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the policies and unsubscribe links");
    for (size_t i = 0; !rc && i < w.n; i++)
        rc = w.p[i].link
                 ? cu_store_row_mac_set(v->store, CU_MT_UNSUBSCRIBE, w.p[i].key, CU_HASH_BYTES,
                                        NULL, 0, w.p[i].mac, CU_HASH_BYTES, err)
                 : cu_store_row_mac_set(v->store, CU_MT_POLICIES, w.p[i].controller, 0, NULL,
                                        w.p[i].version, w.p[i].mac, CU_HASH_BYTES, err);
    free(w.p);
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_policy_rows = {.name = "policies", .walk = policy_family_walk};


/* The canonical form of a parsed policy: compact JSON with sorted keys, so
 * that layout and key order do not make a new version. */
static int canonical(const cu_policy *p, cu_buf *out, cu_err *err)
{
    char *s = json_dumps((const json_t *)p->owner,
                         JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    if (!s)
        return cu_err_set(err, CU_ENOMEM, "out of memory encoding the policy");
    int rc = cu_buf_append(out, s, strlen(s));
    free(s);
    return rc ? cu_err_set(err, CU_ENOMEM, "the policy is too large") : CU_OK;
}

typedef struct digest_ctx {
    cu_vault *v;
    cu_err *err;
    bool found;
    int64_t version;
    unsigned char digest[CU_HASH_BYTES];
} digest_ctx;

static int current_digest(void *ctx, const cu_policy_row *r)
{
    digest_ctx *d = ctx;
    int rc = cu_policy_row_check(d->v, r, true, d->err);
    if (rc)
        return rc;
    d->found = true;
    d->version = r->version;
    if (r->digest_len == CU_HASH_BYTES)
        memcpy(d->digest, r->digest, CU_HASH_BYTES);
    return CU_OK;
}

int cu_policy_apply(cu_vault *v, const cu_actor *a, const char *controller_id, const void *doc,
                    size_t n, cu_pol_report *rep, int64_t *version, bool *changed, cu_err *err)
{
    *changed = false;
    *version = 0;
    if (!cu_id_valid(controller_id))
        return cu_err_set(err, CU_EINVAL, "controller must be a controller id");
    cu_policy *p = NULL;
    int rc = cu_policy_parse(doc, n, &p, rep, err);
    if (rc)
        return rc;
    cu_buf canon;
    cu_buf_init(&canon, CU_POLICY_MAX_BYTES * 2);
    rc = canonical(p, &canon, err);
    cu_policy_free(p);
    if (rc) {
        cu_buf_release(&canon);
        return rc;
    }
    unsigned char digest[CU_HASH_BYTES];
    cu_hash2(canon.data, canon.len, NULL, 0, digest);

    cu_op op;
    if ((rc = cu_op_begin(v, &op, a, CU_ACT_POLICY, "policy.apply", err))) {
        cu_buf_release(&canon);
        return rc;
    }
    memcpy(op.controller_id, controller_id, CU_ID_STRLEN);
    rc = cu_controller_load(v, controller_id, NULL, err);
    if (rc == CU_ENOTFOUND)
        rc = cu_err_set(err, CU_ENOTFOUND, "no controller %s", controller_id);
    if (!rc)
        rc = cu_op_authorise(v, &op, err);
    digest_ctx cur = {.v = v, .err = err};
    if (!rc) {
        rc = cu_store_policy_get(v->store, controller_id, 0, current_digest, &cur, err);
        /* No version at all: the head must not record one either. */
        int64_t head = 0;
        if (rc == CU_ENOTFOUND && !(rc = head_get(v, controller_id, &head, err)) && head)
            rc = cu_err_set(err, CU_ETAMPER, "policies %s has been altered: its latest version "
                                             "(%lld) is missing",
                            controller_id, (long long)head);
    }
    *version = cur.version;
    if (!rc && !(cur.found && cu_ct_equal(cur.digest, digest, CU_HASH_BYTES))) {
        cu_policy_row row = {
            .controller_id = controller_id, .version = cur.version + 1,
            .applied_at = cu_now_us(), .applied_by = a->name, .digest = digest,
            .digest_len = sizeof digest, .document = canon.data, .document_len = canon.len,
        };
        unsigned char mac[CU_HASH_BYTES];
        cu_mac m;
        policy_mac(v, &row, &m);
        cu_mac_final(&m, mac);
        row.mac = mac;
        row.mac_len = sizeof mac;
        rc = cu_store_policy_insert(v->store, &row, err);
        if (!rc)
            rc = head_put(v, controller_id, row.version, err);
        if (!rc) {
            *version = row.version;
            *changed = true;
            cu_vault_policies_changed(v);
        }
    }
    cu_buf_release(&canon);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct doc_ctx {
    cu_buf *out;
    int64_t version, applied_at;
    unsigned char digest[CU_HASH_BYTES];
    cu_vault *v;
    bool current;
    cu_err *err;
} doc_ctx;

static int copy_doc(void *ctx, const cu_policy_row *r)
{
    doc_ctx *d = ctx;
    int rc = cu_policy_row_check(d->v, r, d->current, d->err);
    if (rc)
        return rc;
    d->version = r->version;
    d->applied_at = r->applied_at;
    if (r->digest_len == CU_HASH_BYTES)
        memcpy(d->digest, r->digest, CU_HASH_BYTES);
    return cu_buf_append(d->out, r->document, r->document_len) ? CU_ENOMEM : CU_OK;
}

/* One stored version (0: current) of a controller's policy into d. */
static int get_doc(cu_vault *v, const char *controller_id, int64_t version, doc_ctx *d,
                   cu_err *err)
{
    if (!cu_id_valid(controller_id))
        return cu_err_set(err, CU_EINVAL, "controller must be a controller id");
    d->v = v;
    d->current = version == 0;
    d->err = err;
    int rc = cu_store_policy_get(v->store, controller_id, version, copy_doc, d, err);
    if (rc == CU_ENOTFOUND)
        return version ? cu_err_set(err, rc, "controller %s has no policy version %lld",
                                    controller_id, (long long)version)
                       : cu_err_set(err, rc, "controller %s has no policy", controller_id);
    return rc;
}

int cu_policy_document(cu_vault *v, const char *controller_id, int64_t version, cu_buf *out,
                       cu_err *err)
{
    doc_ctx d = {.out = out};
    int rc = get_doc(v, controller_id, version, &d, err);
    if (rc == CU_ENOMEM)
        return cu_err_set(err, rc, "the policy is too large");
    return rc;
}

int cu_policy_current(cu_vault *v, const char *controller_id, const cu_policy **out,
                      cu_err *err)
{
    int rc = cu_vault_policy(v, controller_id, out, err);
    if (!rc && !*out)
        rc = cu_err_set(err, CU_ENOTFOUND, "controller %s has no policy", controller_id);
    return rc;
}

int cu_policy_load(cu_vault *v, const char *controller_id, int64_t version, cu_policy **out,
                   cu_err *err)
{
    *out = NULL;
    cu_buf doc;
    cu_buf_init(&doc, CU_POLICY_MAX_BYTES * 2);
    doc_ctx d = {.out = &doc};
    int rc = get_doc(v, controller_id, version, &d, err);
    if (!rc && (rc = cu_policy_parse(doc.data, doc.len, out, NULL, err)))
        rc = cu_err_set(err, CU_ECORRUPT, "the stored policy of controller %s does not parse",
                        controller_id);
    if (!rc) {
        (*out)->version = d.version;
        (*out)->applied_at = d.applied_at;
        cu_hex(d.digest, sizeof d.digest, (*out)->digest);
    }
    cu_buf_release(&doc);
    return rc;
}

typedef struct versions_ctx {
    cu_policy_version_cb cb;
    void *ctx;
    cu_vault *v;
    cu_err *err;
} versions_ctx;

static int one_version(void *ctx, const cu_policy_row *r)
{
    versions_ctx *c = ctx;
    int rc = cu_policy_row_check(c->v, r, false, c->err);
    if (rc)
        return rc;
    cu_policy_version pv = {.version = r->version, .applied_at = r->applied_at,
                            .applied_by = r->applied_by};
    if (r->digest_len == CU_HASH_BYTES)
        cu_hex(r->digest, r->digest_len, pv.digest);
    return c->cb(c->ctx, &pv);
}

int cu_policy_versions(cu_vault *v, const char *controller_id, cu_policy_version_cb cb,
                       void *ctx, cu_err *err)
{
    if (!cu_id_valid(controller_id))
        return cu_err_set(err, CU_EINVAL, "controller must be a controller id");
    versions_ctx c = {.cb = cb, .ctx = ctx, .v = v, .err = err};
    return cu_store_policy_each(v->store, controller_id, one_version, &c, err);
}

/* ---- consent ---- */

/* ---- row authentication of consents and objections ----
 * A consent record's code covers every column (its id, subject, purpose,
 * policy version, state, time, method, recorder and sealed evidence), so a
 * forged "given" is refused. An objection's covers its seq, subject,
 * purpose, times and who made and lifted it; a deleted objection is caught
 * because the active rows must agree with subjects.objecting, which the
 * subject's own code covers. */

static void consent_mac(cu_vault *v, const cu_consent_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "consents");
    cu_mac_str(m, r->id);
    cu_mac_str(m, r->subject_id);
    cu_mac_str(m, r->purpose);
    cu_mac_i64(m, r->policy_version);
    cu_mac_str(m, r->state);
    cu_mac_i64(m, r->at);
    cu_mac_str(m, r->method);
    cu_mac_str(m, r->recorded_by);
    cu_mac_bytes(m, r->evidence, r->evidence ? r->evidence_len : 0);
}

void cu_consent_row_sign(cu_vault *v, const cu_consent_row *r, unsigned char out[CU_HASH_BYTES])
{
    cu_mac m;
    consent_mac(v, r, &m);
    cu_mac_final(&m, out);
}

int cu_consent_row_check(cu_vault *v, const cu_consent_row *r, cu_err *err)
{
    cu_mac m;
    consent_mac(v, r, &m);
    return cu_mac_check(&m, r->mac, r->mac_len)
               ? CU_OK
               : row_altered(err, "consents", r->id);
}

typedef struct checked_consents {
    cu_vault *v;
    cu_consent_cb cb;
    void *ctx;
    cu_err *err;
    bool given;
} checked_consents;

static int consent_checked(void *ctx, const cu_consent_row *r)
{
    checked_consents *c = ctx;
    int rc = cu_consent_row_check(c->v, r, c->err);
    if (!rc && c->cb)
        rc = c->cb(c->ctx, r);
    if (!rc && !c->cb)
        c->given = strcmp(r->state, "given") == 0;
    return rc;
}

/* A subject's consent records, each authenticated before cb sees it. */
static int consents_each(cu_vault *v, const char *subject_id, cu_consent_cb cb, void *ctx,
                         cu_err *err)
{
    checked_consents c = {.v = v, .cb = cb, .ctx = ctx, .err = err};
    return cu_store_consent_each(v->store, subject_id, consent_checked, &c, err);
}

int cu_consent_each_checked(cu_vault *v, const char *subject_id, cu_consent_cb cb, void *ctx,
                            cu_err *err)
{
    return consents_each(v, subject_id, cb, ctx, err);
}

int cu_consent_given(cu_vault *v, const char *subject_id, const char *purpose, bool *out,
                     cu_err *err)
{
    checked_consents c = {.v = v, .err = err};
    int rc = cu_store_consent_latest(v->store, subject_id, purpose, consent_checked, &c, err);
    *out = !rc && c.given;
    return rc == CU_ENOTFOUND ? CU_OK : rc;
}

static void objection_mac(cu_vault *v, const cu_objection_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "objections");
    cu_mac_i64(m, r->seq);
    cu_mac_str(m, r->subject_id);
    cu_mac_str(m, r->purpose);
    cu_mac_i64(m, r->made_at);
    cu_mac_str(m, r->recorded_by);
    cu_mac_i64(m, r->lifted_at);
    cu_mac_str(m, r->lifted_by);
}

static int objection_check(cu_vault *v, const cu_objection_row *r, cu_err *err)
{
    cu_mac m;
    objection_mac(v, r, &m);
    if (cu_mac_check(&m, r->mac, r->mac_len))
        return CU_OK;
    char row[24];
    snprintf(row, sizeof row, "%lld", (long long)r->seq);
    return row_altered(err, "objections", row);
}

typedef struct objection_scan {
    cu_vault *v;
    cu_err *err;
    const char *purpose; /* active: one to this purpose or to "*" */
    const char *exact;   /* lifting: the active ones to exactly this purpose */
    int64_t active;
    bool matched;
    cu_objection_cb cb;
    void *ctx;
    struct lift { int64_t seq; cu_objection_row row; char purpose[72], by[128]; } *lift;
    size_t nlift, cap;
} objection_scan;

static int objection_seen(void *ctx, const cu_objection_row *r)
{
    objection_scan *s = ctx;
    int rc = objection_check(s->v, r, s->err);
    if (rc)
        return rc;
    if (!r->lifted_at) {
        s->active++;
        if (s->purpose && (strcmp(r->purpose, s->purpose) == 0 || strcmp(r->purpose, "*") == 0))
            s->matched = true;
        if (s->exact && strcmp(r->purpose, s->exact) == 0) {
            if (s->nlift == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 4;
                struct lift *n = realloc(s->lift, cap * sizeof *n);
                if (!n)
                    return cu_err_set(s->err, CU_ENOMEM, "out of memory");
                s->lift = n;
                s->cap = cap;
            }
            struct lift *l = &s->lift[s->nlift++];
            l->seq = r->seq;
            l->row = *r;
            cu_strlcpy(l->purpose, r->purpose, sizeof l->purpose);
            cu_strlcpy(l->by, r->recorded_by, sizeof l->by);
        }
    }
    return s->cb ? s->cb(s->ctx, r) : CU_OK;
}

/* Walks a subject's objections, each authenticated, and checks that the
 * active ones are as many as the subject's authenticated count says. */
static int objections_scan(cu_vault *v, const cu_subject_rec *rec, objection_scan *s,
                           cu_err *err)
{
    s->v = v;
    s->err = err;
    int rc = cu_store_objection_each(v->store, rec->id, objection_seen, s, err);
    if (!rc && s->active != rec->objecting)
        rc = cu_err_set(err, CU_ETAMPER, "objections of subject %s have been altered: %lld "
                                         "active, the subject counts %lld",
                        rec->id, (long long)s->active, (long long)rec->objecting);
    return rc;
}

int cu_objection_active(cu_vault *v, const cu_subject_rec *rec, const char *purpose, bool *out,
                        cu_err *err)
{
    objection_scan s = {.purpose = purpose};
    int rc = objections_scan(v, rec, &s, err);
    free(s.lift);
    *out = !rc && s.matched;
    return rc;
}

int cu_objection_add(cu_vault *v, const char *subject_id, const char *purpose, int64_t now,
                     const char *by, cu_err *err)
{
    int64_t seq = 0;
    int rc = cu_store_objection_add(v->store, subject_id, purpose, now, by, &seq, err);
    if (!rc) {
        cu_objection_row r = {.subject_id = subject_id, .purpose = purpose, .recorded_by = by,
                              .made_at = now, .seq = seq};
        unsigned char mac[CU_HASH_BYTES];
        cu_mac m;
        objection_mac(v, &r, &m);
        cu_mac_final(&m, mac);
        rc = cu_store_row_mac_set(v->store, CU_MT_OBJECTIONS, "", 0, NULL, seq, mac,
                                  sizeof mac, err);
    }
    return rc ? rc : cu_store_objection_recount(v->store, subject_id, err);
}

/* Lifts the active objections of rec to exactly purpose; *lifted counts them. */
static int objection_lift(cu_vault *v, const cu_subject_rec *rec, const char *purpose,
                          int64_t now, const char *by, int64_t *lifted, cu_err *err)
{
    objection_scan s = {.exact = purpose};
    int rc = objections_scan(v, rec, &s, err);
    for (size_t i = 0; !rc && i < s.nlift; i++) {
        cu_objection_row r = s.lift[i].row;
        r.purpose = s.lift[i].purpose;
        r.recorded_by = s.lift[i].by;
        r.subject_id = rec->id;
        r.lifted_at = now;
        r.lifted_by = by;
        unsigned char mac[CU_HASH_BYTES];
        cu_mac m;
        objection_mac(v, &r, &m);
        cu_mac_final(&m, mac);
        rc = cu_store_objection_lift(v->store, r.seq, now, by, mac, sizeof mac, err);
    }
    *lifted = rc ? 0 : (int64_t)s.nlift;
    free(s.lift);
    return rc ? rc : cu_store_objection_recount(v->store, rec->id, err);
}

static int objection_walk_row(void *ctx, const cu_objection_row *r);
static int consent_walk_row(void *ctx, const cu_consent_row *r);

typedef struct consent_walk {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    /* active objections per subject, in the order met */
    struct active_count {
        char subject_id[CU_ID_STRLEN];
        int64_t n;
    } *act;
    size_t nact, capact;
    struct consent_mac_note {
        char id[CU_ID_STRLEN];
        int64_t seq;
        unsigned char mac[CU_HASH_BYTES];
    } *p;
    size_t n, cap;
} consent_walk;

static int consent_walk_note(consent_walk *w, const char *id, int64_t seq,
                             const unsigned char mac[CU_HASH_BYTES])
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct consent_mac_note *np = realloc(w->p, cap * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->p = np;
        w->cap = cap;
    }
    struct consent_mac_note *p = &w->p[w->n++];
    memset(p, 0, sizeof *p);
    if (id)
        cu_strlcpy(p->id, id, sizeof p->id);
    p->seq = seq;
    memcpy(p->mac, mac, CU_HASH_BYTES);
    return CU_OK;
}

static int consent_walk_row(void *ctx, const cu_consent_row *r)
{
    consent_walk *w = ctx;
    w->rows++;
    if (w->seal) {
        unsigned char mac[CU_HASH_BYTES];
        cu_consent_row_sign(w->v, r, mac);
        return consent_walk_note(w, r->id, 0, mac);
    }
    cu_err e = {0};
    if (cu_consent_row_check(w->v, r, &e) == CU_OK)
        return CU_OK;
    return w->report(w->rctx, "consents", r->id,
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int count_active(consent_walk *w, const char *subject_id)
{
    for (size_t i = w->nact; i-- > 0;)
        if (strcmp(w->act[i].subject_id, subject_id) == 0) {
            w->act[i].n++;
            return CU_OK;
        }
    if (w->nact == w->capact) {
        size_t cap = w->capact ? w->capact * 2 : 16;
        struct active_count *n = realloc(w->act, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        w->act = n;
        w->capact = cap;
    }
    cu_strlcpy(w->act[w->nact].subject_id, subject_id, sizeof w->act[w->nact].subject_id);
    w->act[w->nact++].n = 1;
    return CU_OK;
}

/* A deleted (or added) objection row: the subject's count disagrees. */
static int objection_count_row(void *ctx, const cu_subject_rec *rec)
{
    consent_walk *w = ctx;
    int64_t n = 0;
    for (size_t i = 0; i < w->nact; i++)
        if (strcmp(w->act[i].subject_id, rec->id) == 0)
            n = w->act[i].n;
    if (n == rec->objecting)
        return CU_OK;
    return w->report(w->rctx, "objections", rec->id,
                     "the subject's active objections do not match its count (a row deleted "
                     "or added)");
}

static int objection_walk_row(void *ctx, const cu_objection_row *r)
{
    consent_walk *w = ctx;
    w->rows++;
    if (!w->seal && !r->lifted_at && count_active(w, r->subject_id))
        return CU_ENOMEM;
    if (w->seal) {
        unsigned char mac[CU_HASH_BYTES];
        cu_mac m;
        objection_mac(w->v, r, &m);
        cu_mac_final(&m, mac);
        return consent_walk_note(w, NULL, r->seq, mac);
    }
    cu_err e = {0};
    if (objection_check(w->v, r, &e) == CU_OK)
        return CU_OK;
    char row[24];
    snprintf(row, sizeof row, "%lld", (long long)r->seq);
    return w->report(w->rctx, "objections", row,
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int consent_family_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                               int64_t *rows, cu_err *err)
{
    consent_walk w = {.v = v, .seal = seal, .report = report, .rctx = rctx};
    int rc = cu_store_consent_each(v->store, NULL, consent_walk_row, &w, err);
    if (!rc)
        rc = cu_store_objection_each(v->store, NULL, objection_walk_row, &w, err);
    if (!rc && !seal)
        rc = cu_store_subject_each(v->store, NULL, objection_count_row, &w, err);
    free(w.act);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the consents and objections");
    for (size_t i = 0; !rc && i < w.n; i++)
        rc = w.p[i].id[0]
                 ? cu_store_row_mac_set(v->store, CU_MT_CONSENTS, w.p[i].id, 0, NULL, 0,
                                        w.p[i].mac, CU_HASH_BYTES, err)
                 : cu_store_row_mac_set(v->store, CU_MT_OBJECTIONS, "", 0, NULL, w.p[i].seq,
                                        w.p[i].mac, CU_HASH_BYTES, err);
    free(w.p);
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_consent_rows = {.name = "consents", .walk = consent_family_walk};


static const char *const methods[] = {"web_form", "paper",   "staff", "api",
                                      "email",    "phone",   "unsubscribe_link", "portal",
                                      NULL};

bool cu_consent_method_valid(const char *s)
{
    for (size_t i = 0; methods[i]; i++)
        if (strcmp(s, methods[i]) == 0)
            return true;
    return false;
}

const char *cu_consent_method_list(void)
{
    return "web_form, paper, staff, api, email, phone, unsubscribe_link, portal";
}

typedef struct seen_ctx {
    const char *purpose;
    bool seen;
} seen_ctx;

static int seen_purpose(void *ctx, const cu_consent_row *r)
{
    seen_ctx *s = ctx;
    if (strcmp(r->purpose, s->purpose) == 0)
        s->seen = true;
    return CU_OK;
}

/* CU_OK when rec's consent to purpose is in force (its latest record gives
 * it); else CU_ECONFLICT "already withdrawn", or CU_EINVAL when the subject
 * never consented: a withdrawal then has nothing to withdraw. */
static int consent_in_force(cu_vault *v, const cu_subject_rec *rec, const char *purpose,
                            cu_err *err)
{
    bool given = false;
    int rc = cu_consent_given(v, rec->id, purpose, &given, err);
    if (rc || given)
        return rc;
    seen_ctx s = {.purpose = purpose};
    if ((rc = consents_each(v, rec->id, seen_purpose, &s, err)))
        return rc;
    if (!s.seen)
        return cu_err_set(err, CU_EINVAL, "subject %s never consented to %s", rec->id,
                          purpose);
    return cu_err_set(err, CU_ECONFLICT, "the consent of subject %s to %s is already withdrawn",
                      rec->id, purpose);
}

/* The body of a consent change inside an open op on rec. */
static int record_consent(cu_vault *v, cu_op *op, cu_subject_rec *rec,
                          const cu_consent_in *in, const char *recorded_by,
                          char id_out[CU_ID_STRLEN], cu_err *err)
{
    const cu_policy *pol;
    int rc = cu_vault_policy(v, rec->controller_id, &pol, err);
    if (rc)
        return rc;
    const cu_pol_purpose *p = cu_policy_purpose(pol, in->purpose);
    if (in->given) {
        if (!p)
            return cu_err_set(err, CU_EINVAL, "purpose %s is not in the controller's policy",
                              in->purpose);
        if (!p->consent_required)
            return cu_err_set(err, CU_EINVAL, "purpose %s does not rely on consent",
                              in->purpose);
        if (!(p->kinds & cu_subject_kind_bit(rec->kind)))
            return cu_err_set(err, CU_EINVAL, "purpose %s does not cover subjects of kind %s",
                              in->purpose, rec->kind);
    } else if (!p || !p->consent_required) {
        /* A purpose since removed or changed: withdrawal still works. */
        seen_ctx s = {.purpose = in->purpose};
        if ((rc = consents_each(v, rec->id, seen_purpose, &s, err)))
            return rc;
        if (!s.seen)
            return cu_err_set(err, CU_EINVAL, "subject %s never consented to %s", rec->id,
                              in->purpose);
    }
    if (!in->given && (rc = consent_in_force(v, rec, in->purpose, err)))
        return rc;
    char id[CU_ID_STRLEN];
    cu_random_id(id);
    cu_buf sealed;
    cu_buf_init(&sealed, CU_MAX_EVIDENCE_BYTES * 2);
    if (in->evidence_len) {
        cu_key dek;
        rc = cu_op_subject_key(v, op, rec->id, &dek, NULL, err);
        if (!rc) {
            unsigned char ad[CU_AD_MAX];
            size_t adlen = cu_ad_item(ad, rec->controller_id, rec->id, id, "consent.evidence",
                                      rec->key_version);
            if (cu_aead_seal(&dek, ad, adlen, in->evidence, in->evidence_len, &sealed))
                rc = cu_err_set(err, CU_ENOMEM, "cannot seal the evidence");
            cu_key_wipe(&dek);
        }
    }
    if (!rc) {
        cu_consent_row row = {
            .id = id, .subject_id = rec->id, .purpose = in->purpose,
            .state = in->given ? "given" : "withdrawn", .method = in->method,
            .recorded_by = recorded_by, .policy_version = pol ? pol->version : 0,
            .at = cu_now_us(), .evidence = in->evidence_len ? sealed.data : NULL,
            .evidence_len = sealed.len,
        };
        unsigned char mac[CU_HASH_BYTES];
        cu_consent_row_sign(v, &row, mac);
        row.mac = mac;
        row.mac_len = sizeof mac;
        rc = cu_store_consent_insert(v->store, &row, err);
    }
    /* The subject's row counts its consent records, so a removed one (a
     * withdrawal deleted to bring back the consent before it) is detected. */
    if (!rc) {
        rec->consents++;
        rc = cu_subject_save(v, rec, false, err);
    }
    cu_buf_release(&sealed);
    if (!rc && id_out)
        memcpy(id_out, id, CU_ID_STRLEN);
    (void)op;
    return rc;
}

static int check_consent_in(const cu_consent_in *in, cu_err *err)
{
    if (!in->purpose || !cu_name_valid(in->purpose))
        return cu_err_set(err, CU_EINVAL, "purpose must be a purpose id");
    if (!in->method || !cu_consent_method_valid(in->method))
        return cu_err_set(err, CU_EINVAL, "method must be one of: %s",
                          cu_consent_method_list());
    if (in->evidence_len > CU_MAX_EVIDENCE_BYTES)
        return cu_err_set(err, CU_EINVAL, "evidence is longer than %d bytes",
                          CU_MAX_EVIDENCE_BYTES);
    return CU_OK;
}

/* The view of a stored record of rec (evidence left to the caller). */
static cu_consent_view view_of(const cu_consent_row *r, const cu_subject_rec *rec)
{
    cu_consent_view cv = {.given = strcmp(r->state, "given") == 0,
                          .policy_version = r->policy_version, .at = r->at};
    cu_strlcpy(cv.id, r->id, sizeof cv.id);
    cu_strlcpy(cv.subject_id, r->subject_id, sizeof cv.subject_id);
    cu_strlcpy(cv.controller_id, rec->controller_id, sizeof cv.controller_id);
    cu_strlcpy(cv.purpose, r->purpose, sizeof cv.purpose);
    cu_strlcpy(cv.method, r->method, sizeof cv.method);
    cu_strlcpy(cv.recorded_by, r->recorded_by, sizeof cv.recorded_by);
    return cv;
}

typedef struct purpose_events {
    const cu_subject_rec *rec;
    const char *purpose;
    cu_consent_view_cb cb;
    void *ctx;
} purpose_events;

static int purpose_event(void *ctx, const cu_consent_row *r)
{
    purpose_events *p = ctx;
    if (strcmp(r->purpose, p->purpose) != 0)
        return CU_OK;
    cu_consent_view cv = view_of(r, p->rec);
    cu_buf_init(&cv.evidence, 0);
    return p->cb(p->ctx, &cv);
}

int cu_consent_record(cu_vault *v, const cu_actor *a, const char *subject_id,
                      const cu_consent_in *in, char id_out[CU_ID_STRLEN],
                      cu_consent_view_cb events, void *ctx, cu_err *err)
{
    int rc = check_consent_in(in, err);
    if (rc)
        return rc;
    /* "portal" says the patient chose, signed in: no one else may claim it. */
    if (strcmp(in->method, "portal") == 0 && !(a && a->roles == CU_ROLE_SUBJECT))
        return cu_err_set(err, CU_EINVAL, "method portal is recorded only by the patient on "
                                          "the patient portal");
    cu_op op;
    if ((rc = cu_op_begin(v, &op, a, CU_ACT_CONSENT,
                          in->given ? "consent.give" : "consent.withdraw", err)))
        return rc;
    cu_subject_rec rec;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc)
        rc = record_consent(v, &op, &rec, in, a->name, id_out, err);
    if (!rc && events) {
        purpose_events p = {.rec = &rec, .purpose = in->purpose, .cb = events, .ctx = ctx};
        rc = consents_each(v, rec.id, purpose_event, &p, err);
        if (rc == CU_ENOMEM)
            rc = cu_err_set(err, rc, "out of memory");
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct history_ctx {
    cu_vault *v;
    const cu_subject_rec *rec;
    const cu_key *dek;
    cu_consent_view_cb cb;
    void *ctx;
    cu_err *err;
} history_ctx;

static int one_consent(void *ctx, const cu_consent_row *r)
{
    history_ctx *h = ctx;
    cu_consent_view cv = view_of(r, h->rec);
    cu_buf_init(&cv.evidence, CU_MAX_EVIDENCE_BYTES + 1);
    int rc = CU_OK;
    if (r->evidence && r->evidence_len) {
        unsigned char ad[CU_AD_MAX];
        size_t adlen = cu_ad_item(ad, h->rec->controller_id, h->rec->id, r->id,
                                  "consent.evidence", h->rec->key_version);
        if (cu_aead_open(h->dek, ad, adlen, r->evidence, r->evidence_len, &cv.evidence))
            rc = cu_err_set(h->err, CU_ECORRUPT, "consent record %s fails authentication",
                            r->id);
    }
    if (!rc)
        rc = h->cb(h->ctx, &cv);
    cu_buf_release(&cv.evidence);
    return rc;
}

int cu_consent_history(cu_vault *v, const cu_actor *a, const char *subject_id,
                       cu_consent_view_cb cb, void *ctx, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_CONSENT, "consent.read", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    cu_key dek;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc && !(rc = cu_op_subject_key(v, &op, rec.id, &dek, NULL, err))) {
        history_ctx h = {.v = v, .rec = &rec, .dek = &dek, .cb = cb, .ctx = ctx, .err = err};
        rc = consents_each(v, rec.id, one_consent, &h, err);
        cu_key_wipe(&dek);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_consent_keep(void *list, const cu_consent_view *c)
{
    cu_consent_list *l = list;
    if (l->purpose && strcmp(c->purpose, l->purpose) != 0)
        return CU_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        cu_consent_view *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return CU_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    cu_consent_view *dst = &l->v[l->n++];
    *dst = *c;
    cu_buf_init(&dst->evidence, l->evidence ? CU_MAX_EVIDENCE_BYTES + 1 : 0);
    if (l->evidence && cu_buf_append(&dst->evidence, c->evidence.data, c->evidence.len))
        return CU_ENOMEM;
    return CU_OK;
}

void cu_consent_list_release(cu_consent_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        cu_buf_release(&l->v[i].evidence);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---- unsubscribe links ---- */

int cu_unsubscribe_link(cu_vault *v, const cu_actor *a, const char *subject_id,
                        const char *purpose, char token_out[CU_TOKEN_STRLEN], cu_err *err)
{
    if (!purpose || !cu_name_valid(purpose))
        return cu_err_set(err, CU_EINVAL, "purpose must be a purpose id");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_CONSENT, "consent.link", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    const cu_policy *pol = NULL;
    if (!rc)
        rc = cu_vault_policy(v, rec.controller_id, &pol, err);
    const cu_pol_purpose *p = rc ? NULL : cu_policy_purpose(pol, purpose);
    if (!rc && (!p || !p->consent_required))
        rc = cu_err_set(err, CU_EINVAL, "purpose %s is not a consent-based purpose of the "
                                        "controller's policy", purpose);
    /* A link withdraws a consent in force: without one it would promise what
     * it cannot do. */
    if (!rc)
        rc = consent_in_force(v, &rec, purpose, err);
    char token[CU_TOKEN_STRLEN];
    cu_token_new(CU_UNSUBSCRIBE_PREFIX, token);
    if (!rc) {
        unsigned char h[CU_HASH_BYTES], mac[CU_HASH_BYTES];
        cu_token_keyed_hash(v, "unsubscribe", token, strlen(token), h);
        cu_unsub_row r = {.hash = h, .hash_len = sizeof h, .subject_id = rec.id,
                          .purpose = purpose, .created_at = cu_now_us()};
        unsub_sign(v, &r, mac);
        r.mac = mac;
        r.mac_len = sizeof mac;
        rc = cu_store_unsubscribe_insert(v->store, &r, err);
    }
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc)
        memcpy(token_out, token, CU_TOKEN_STRLEN);
    cu_wipe(token, sizeof token);
    return rc;
}

static int token_hash(cu_vault *v, const char *token, size_t n, unsigned char h[CU_HASH_BYTES],
                      cu_err *err)
{
    if (!cu_token_wellformed(token, n, CU_UNSUBSCRIBE_PREFIX))
        return cu_err_set(err, CU_ENOTFOUND, "no such unsubscribe link");
    cu_token_keyed_hash(v, "unsubscribe", token, n, h);
    return CU_OK;
}

typedef struct link_ctx {
    cu_vault *v;
    cu_err *err;
    char sid[40], purpose[72];
    int64_t created_at, used_at;
} link_ctx;

static int link_row(void *ctx, const cu_unsub_row *r)
{
    link_ctx *c = ctx;
    if (!unsub_ok(c->v, r)) {
        char row[17];
        cu_hex(r->hash, r->hash_len < 8 ? r->hash_len : 8, row);
        return row_altered(c->err, "unsubscribe_links", row);
    }
    cu_strlcpy(c->sid, r->subject_id, sizeof c->sid);
    cu_strlcpy(c->purpose, r->purpose, sizeof c->purpose);
    c->created_at = r->created_at;
    c->used_at = r->used_at;
    return CU_OK;
}

/* One link, authenticated; CU_ENOTFOUND when unknown. */
static int link_get(cu_vault *v, const unsigned char h[CU_HASH_BYTES], link_ctx *c,
                    cu_err *err)
{
    *c = (link_ctx){.v = v, .err = err};
    return cu_store_unsubscribe_get(v->store, h, CU_HASH_BYTES, link_row, c, err);
}

int cu_unsubscribe_peek(cu_vault *v, const char *token, size_t n, cu_buf *purpose,
                        cu_buf *controller, bool *used, cu_err *err)
{
    unsigned char h[CU_HASH_BYTES];
    char sid[40], pname[72];
    int rc = token_hash(v, token, n, h, err);
    link_ctx l;
    if (!rc)
        rc = link_get(v, h, &l, err);
    if (!rc) {
        cu_strlcpy(sid, l.sid, sizeof sid);
        cu_strlcpy(pname, l.purpose, sizeof pname);
        *used = l.used_at != 0;
    }
    if (rc == CU_ENOTFOUND)
        return cu_err_set(err, rc, "no such unsubscribe link");
    cu_subject_rec rec;
    if (!rc)
        rc = cu_subject_load(v, sid, &rec, err);
    const cu_policy *pol = NULL;
    if (!rc)
        rc = cu_vault_policy(v, rec.controller_id, &pol, err);
    if (!rc) {
        const cu_pol_purpose *p = cu_policy_purpose(pol, pname);
        const char *d = p ? p->description : pname;
        if (cu_buf_append(purpose, d, strlen(d)))
            rc = cu_err_set(err, CU_ENOMEM, "out of memory");
        if (!rc && pol && cu_buf_append(controller, pol->controller.name,
                                        strlen(pol->controller.name)))
            rc = cu_err_set(err, CU_ENOMEM, "out of memory");
    }
    return rc;
}

int cu_unsubscribe_use(cu_vault *v, const char *token, size_t n, const char *via, cu_err *err)
{
    unsigned char h[CU_HASH_BYTES];
    int rc = token_hash(v, token, n, h, err);
    if (rc)
        return rc;
    /* The subject acts through the link: no staff member is involved. */
    cu_actor a = {.name = "unsubscribe-link", .role = "subject",
                  .roles = CU_ROLE_OPERATOR, .purpose = "consent_withdrawal", .via = via};
    cu_op op;
    if ((rc = cu_op_begin(v, &op, &a, CU_ACT_CONSENT, "consent.withdraw", err)))
        return rc;
    char sid[40], pname[72];
    link_ctx l;
    rc = link_get(v, h, &l, err);
    if (!rc && l.used_at)
        rc = CU_ENOTFOUND;
    if (!rc) {
        unsigned char mac[CU_HASH_BYTES];
        cu_unsub_row r = {.hash = h, .hash_len = sizeof h, .subject_id = l.sid,
                          .purpose = l.purpose, .created_at = l.created_at,
                          .used_at = cu_now_us()};
        unsub_sign(v, &r, mac);
        r.mac = mac;
        r.mac_len = sizeof mac;
        rc = cu_store_unsubscribe_use(v->store, &r, err);
        cu_strlcpy(sid, l.sid, sizeof sid);
        cu_strlcpy(pname, l.purpose, sizeof pname);
    }
    if (rc == CU_ENOTFOUND)
        rc = cu_err_set(err, CU_EINVAL, "no such unsubscribe link, or it was used already");
    cu_subject_rec rec;
    if (!rc)
        rc = cu_op_open_subject(v, &op, sid, &rec, err);
    /* A consent withdrawn since the link was made: the link is used up and
     * nothing more is recorded. */
    bool given = false;
    if (!rc)
        rc = cu_consent_given(v, rec.id, pname, &given, err);
    if (!rc && given) {
        cu_consent_in in = {.purpose = pname, .given = false, .method = "unsubscribe_link"};
        rc = record_consent(v, &op, &rec, &in, "subject", NULL, err);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

/* ---- restriction and objection ---- */

int cu_subject_restrict(cu_vault *v, const cu_actor *a, const char *subject_id, bool on,
                        cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_RIGHTS, on ? "restrict" : "restrict.lift", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc && on && rec.restricted_at)
        rc = cu_err_set(err, CU_ECONFLICT, "subject %s is restricted already", rec.id);
    if (!rc && !on && !rec.restricted_at)
        rc = cu_err_set(err, CU_ECONFLICT, "subject %s is not restricted", rec.id);
    if (!rc) {
        rec.restricted_at = on ? cu_now_us() : 0;
        rc = cu_subject_save(v, &rec, false, err);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct same_objection {
    const char *purpose;
    bool active;
} same_objection;

static int same_active(void *ctx, const cu_objection_row *r)
{
    same_objection *s = ctx;
    if (!r->lifted_at && strcmp(r->purpose, s->purpose) == 0)
        s->active = true;
    return CU_OK;
}

int cu_subject_object(cu_vault *v, const cu_actor *a, const char *subject_id,
                      const char *purpose, bool on, cu_err *err)
{
    if (!purpose || (strcmp(purpose, "*") != 0 && !cu_name_valid(purpose)))
        return cu_err_set(err, CU_EINVAL, "an objection names a purpose id, or * for all");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_RIGHTS, on ? "object" : "object.lift", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    const cu_policy *pol = NULL;
    if (!rc && on && strcmp(purpose, "*") != 0) {
        rc = cu_vault_policy(v, rec.controller_id, &pol, err);
        const cu_pol_purpose *p = rc ? NULL : cu_policy_purpose(pol, purpose);
        if (!rc && (!p || p->builtin))
            rc = cu_err_set(err, CU_EINVAL, "purpose %s is not in the controller's policy",
                            purpose);
    }
    if (!rc && on) {
        /* Only the same objection twice is a conflict: one to a purpose may
         * stand beside one to all (and outlive its lifting). */
        same_objection same = {.purpose = purpose};
        objection_scan scan = {.cb = same_active, .ctx = &same};
        rc = objections_scan(v, &rec, &scan, err);
        free(scan.lift);
        if (!rc && same.active)
            rc = cu_err_set(err, CU_ECONFLICT, "subject %s objects to %s already", rec.id,
                            purpose);
        if (!rc)
            rc = cu_objection_add(v, rec.id, purpose, cu_now_us(), a->name, err);
    } else if (!rc) {
        int64_t lifted = 0;
        rc = objection_lift(v, &rec, purpose, cu_now_us(), a->name, &lifted, err);
        if (!rc && !lifted)
            rc = cu_err_set(err, CU_ECONFLICT, "subject %s has no objection to %s", rec.id,
                            purpose);
    }
    if (!rc)
        rc = cu_subject_save_objections(v, &rec, err);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_subject_rights(cu_vault *v, const cu_actor *a, const char *subject_id,
                      int64_t *restricted_at, cu_objection_cb cb, void *ctx, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_RIGHTS, "rights.read", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc) {
        *restricted_at = rec.restricted_at;
        objection_scan scan = {.cb = cb, .ctx = ctx};
        rc = objections_scan(v, &rec, &scan, err);
        free(scan.lift);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}
