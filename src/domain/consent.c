#include "domain/consent.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "domain/subject_rows.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

/* ---- policies ---- */

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
    bool found;
    int64_t version;
    unsigned char digest[CU_HASH_BYTES];
} digest_ctx;

static int current_digest(void *ctx, const cu_policy_row *r)
{
    digest_ctx *d = ctx;
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
    digest_ctx cur = {0};
    if (!rc) {
        rc = cu_store_policy_get(v->store, controller_id, 0, current_digest, &cur, err);
        if (rc == CU_ENOTFOUND)
            rc = CU_OK;
    }
    *version = cur.version;
    if (!rc && !(cur.found && cu_ct_equal(cur.digest, digest, CU_HASH_BYTES))) {
        cu_policy_row row = {
            .controller_id = controller_id, .version = cur.version + 1,
            .applied_at = cu_now_us(), .applied_by = a->name, .digest = digest,
            .digest_len = sizeof digest, .document = canon.data, .document_len = canon.len,
        };
        rc = cu_store_policy_insert(v->store, &row, err);
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
} doc_ctx;

static int copy_doc(void *ctx, const cu_policy_row *r)
{
    doc_ctx *d = ctx;
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
} versions_ctx;

static int one_version(void *ctx, const cu_policy_row *r)
{
    versions_ctx *c = ctx;
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
    versions_ctx c = {.cb = cb, .ctx = ctx};
    return cu_store_policy_each(v->store, controller_id, one_version, &c, err);
}

/* ---- consent ---- */

static const char *const methods[] = {"web_form", "paper",   "staff", "api",
                                      "email",    "phone",   "unsubscribe_link", NULL};

bool cu_consent_method_valid(const char *s)
{
    for (size_t i = 0; methods[i]; i++)
        if (strcmp(s, methods[i]) == 0)
            return true;
    return false;
}

const char *cu_consent_method_list(void)
{
    return "web_form, paper, staff, api, email, phone, unsubscribe_link";
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

/* The body of a consent change inside an open op on rec. */
static int record_consent(cu_vault *v, cu_op *op, const cu_subject_rec *rec,
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
        if ((rc = cu_store_consent_each(v->store, rec->id, seen_purpose, &s, err)))
            return rc;
        if (!s.seen)
            return cu_err_set(err, CU_EINVAL, "subject %s never consented to %s", rec->id,
                              in->purpose);
    }
    char id[CU_ID_STRLEN];
    cu_random_id(id);
    cu_buf sealed;
    cu_buf_init(&sealed, CU_MAX_EVIDENCE_BYTES * 2);
    if (in->evidence_len) {
        cu_key dek;
        rc = cu_vault_subject_key(v, rec->id, &dek, NULL, err);
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
        rc = cu_store_consent_insert(v->store, &row, err);
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
        rc = cu_store_consent_each(v->store, rec.id, purpose_event, &p, err);
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
    if (!rc && !(rc = cu_vault_subject_key(v, rec.id, &dek, NULL, err))) {
        history_ctx h = {.v = v, .rec = &rec, .dek = &dek, .cb = cb, .ctx = ctx, .err = err};
        rc = cu_store_consent_each(v->store, rec.id, one_consent, &h, err);
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
    char token[CU_TOKEN_STRLEN];
    cu_token_new(CU_UNSUBSCRIBE_PREFIX, token);
    if (!rc) {
        unsigned char h[CU_HASH_BYTES];
        cu_token_hash(token, strlen(token), h);
        rc = cu_store_unsubscribe_insert(v->store, h, sizeof h, rec.id, purpose, cu_now_us(),
                                         err);
    }
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc)
        memcpy(token_out, token, CU_TOKEN_STRLEN);
    cu_wipe(token, sizeof token);
    return rc;
}

static int token_hash(const char *token, size_t n, unsigned char h[CU_HASH_BYTES], cu_err *err)
{
    if (!cu_token_wellformed(token, n, CU_UNSUBSCRIBE_PREFIX))
        return cu_err_set(err, CU_ENOTFOUND, "no such unsubscribe link");
    cu_token_hash(token, n, h);
    return CU_OK;
}

int cu_unsubscribe_peek(cu_vault *v, const char *token, size_t n, cu_buf *purpose,
                        cu_buf *controller, bool *used, cu_err *err)
{
    unsigned char h[CU_HASH_BYTES];
    char sid[40], pname[72];
    int rc = token_hash(token, n, h, err);
    if (!rc)
        rc = cu_store_unsubscribe_peek(v->store, h, sizeof h, sid, pname, used, err);
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
    int rc = token_hash(token, n, h, err);
    if (rc)
        return rc;
    /* The subject acts through the link: no staff member is involved. */
    cu_actor a = {.name = "unsubscribe-link", .role = "subject",
                  .roles = CU_ROLE_OPERATOR, .purpose = "consent_withdrawal", .via = via};
    cu_op op;
    if ((rc = cu_op_begin(v, &op, &a, CU_ACT_CONSENT, "consent.withdraw", err)))
        return rc;
    char sid[40], pname[72];
    rc = cu_store_unsubscribe_use(v->store, h, sizeof h, cu_now_us(), sid, pname, err);
    if (rc == CU_ENOTFOUND)
        rc = cu_err_set(err, CU_EINVAL, "no such unsubscribe link, or it was used already");
    cu_subject_rec rec;
    if (!rc)
        rc = cu_op_open_subject(v, &op, sid, &rec, err);
    if (!rc) {
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
        rc = cu_store_objection_each(v->store, rec.id, same_active, &same, err);
        if (!rc && same.active)
            rc = cu_err_set(err, CU_ECONFLICT, "subject %s objects to %s already", rec.id,
                            purpose);
        if (!rc)
            rc = cu_store_objection_add(v->store, rec.id, purpose, cu_now_us(), a->name, err);
    } else if (!rc) {
        int64_t lifted = 0;
        rc = cu_store_objection_lift(v->store, rec.id, purpose, cu_now_us(), a->name, &lifted,
                                     err);
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
        rc = cu_store_objection_each(v->store, rec.id, cb, ctx, err);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}
