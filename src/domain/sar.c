#include "domain/sar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/subject_rows.h"
#include "domain/vault_impl.h"
#include "util/clock.h"
#include "util/jsonw.h"

bool cu_sar_portable(const cu_policy *pol, const char *kind, int cat, const char *source)
{
    if (!pol || cat < 0 || !source || strcmp(source, "subject") != 0)
        return false;
    unsigned kbit = cu_subject_kind_bit(kind);
    for (size_t i = 0; i < pol->npurposes; i++) {
        const cu_pol_purpose *p = &pol->purposes[i];
        if ((p->basis == 'a' || p->basis == 'b') && (p->categories & (1u << cat)) &&
            (p->kinds & kbit))
            return true;
    }
    return false;
}

static bool reason_ok(const char *s)
{
    size_t n = strnlen(s, CU_MAX_WITHHOLD_REASON + 1);
    if (n == 0 || n > CU_MAX_WITHHOLD_REASON)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static int check_request(const cu_sar_request *req, cu_err *err)
{
    if (req->nwithhold > CU_MAX_WITHHOLD)
        return cu_err_set(err, CU_EINVAL, "at most %d items may be withheld", CU_MAX_WITHHOLD);
    if (req->portable && req->nwithhold)
        return cu_err_set(err, CU_EINVAL, "withholding applies to an access package, not to "
                                          "a portability export");
    for (size_t i = 0; i < req->nwithhold; i++) {
        if (!req->withhold[i].item_id || !cu_id_valid(req->withhold[i].item_id))
            return cu_err_set(err, CU_EINVAL, "withhold[%zu]: not an item id", i);
        if (!req->withhold[i].reason || !reason_ok(req->withhold[i].reason))
            return cu_err_set(err, CU_EINVAL,
                              "withhold[%zu]: a reason of 1-%d bytes of text is required", i,
                              CU_MAX_WITHHOLD_REASON);
        for (size_t j = 0; j < i; j++)
            if (strcmp(req->withhold[i].item_id, req->withhold[j].item_id) == 0)
                return cu_err_set(err, CU_EINVAL, "item %s is withheld twice",
                                  req->withhold[i].item_id);
    }
    bool recipient = req->recipient_id || req->recipient_name;
    if (req->portal_action && (req->portable || req->nwithhold || recipient))
        return cu_err_set(err, CU_EINVAL, "the portal shows the record as it is held");
    if (req->log_only && !req->portal_action)
        return cu_err_set(err, CU_EINVAL, "only the portal shows the access log alone");
    if (recipient && !req->portable)
        return cu_err_set(err, CU_EINVAL, "only a portability export is transmitted to a "
                                          "recipient");
    if (recipient && (!req->channel || (strcmp(req->channel, "file") != 0 &&
                                        strcmp(req->channel, "https") != 0)))
        return cu_err_set(err, CU_EINVAL, "a transmission's channel is file or https");
    return CU_OK;
}

static void *grow(void *p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 8;
    void *q = realloc(p, c * size);
    if (q)
        *cap = c;
    return q;
}

typedef struct gather {
    cu_vault *v;
    const cu_sar_request *req;
    const cu_subject_rec *rec;
    const cu_key *dek;
    cu_sar *sar;
    const cu_policy *pol;
    size_t cap_items, cap_withheld, cap_consents, cap_disc, cap_events;
    bool *withhold_found;
    unsigned categories;
    cu_items_sum sum; /* every item read, against the subject's record */
    cu_err *err;
} gather;

static int withheld_index(const cu_sar_request *req, const char *id)
{
    for (size_t i = 0; i < req->nwithhold; i++)
        if (strcmp(req->withhold[i].item_id, id) == 0)
            return (int)i;
    return -1;
}

static int gather_item(void *ctx, const cu_item_row *r)
{
    gather *g = ctx;
    cu_sar *s = g->sar;
    cu_items_sum_add(g->v, &g->sum, g->rec->id, r);
    int cat = cu_category_from_name(r->category);
    int w = withheld_index(g->req, r->id);
    if (w >= 0) {
        g->withhold_found[w] = true;
        cu_sar_withheld *n = grow(s->withheld, s->nwithheld, &g->cap_withheld, sizeof *n);
        if (!n)
            return cu_err_set(g->err, CU_ENOMEM, "out of memory");
        s->withheld = n;
        cu_sar_withheld *x = &n[s->nwithheld++];
        memset(x, 0, sizeof *x);
        cu_strlcpy(x->id, r->id, sizeof x->id);
        cu_strlcpy(x->field, r->field, sizeof x->field);
        cu_strlcpy(x->source, r->source, sizeof x->source);
        x->category = cat;
        x->collected_at = r->collected_at;
        return 0;
    }
    if (g->req->portable && !cu_sar_portable(g->pol, g->rec->kind, cat, r->source)) {
        s->nexcluded++;
        return 0;
    }
    cu_item_view *n = grow(s->sv.items, s->sv.n, &g->cap_items, sizeof *n);
    if (!n)
        return cu_err_set(g->err, CU_ENOMEM, "out of memory");
    s->sv.items = n;
    cu_item_view *iv = &n[s->sv.n];
    memset(iv, 0, sizeof *iv);
    cu_buf_init(&iv->value, CU_MAX_VALUE_BYTES + 1);
    cu_strlcpy(iv->id, r->id, sizeof iv->id);
    cu_strlcpy(iv->field, r->field, sizeof iv->field);
    cu_strlcpy(iv->source, r->source, sizeof iv->source);
    cu_strlcpy(iv->recorded_by, r->recorded_by, sizeof iv->recorded_by);
    iv->category = cat;
    iv->collected_at = r->collected_at;
    iv->recorded_at = r->recorded_at;
    iv->updated_at = r->updated_at;
    s->sv.n++;
    unsigned char ad[CU_AD_MAX];
    size_t adlen = cu_ad_value(ad, g->rec->controller_id, g->rec->id, r->id, r->field,
                               g->rec->key_version, r->category, r->version);
    if (cu_aead_open(g->dek, ad, adlen, r->value, r->value_len, &iv->value))
        return cu_err_set(g->err, CU_ECORRUPT,
                          "item %s of subject %s fails authentication (moved or altered)", r->id,
                          g->rec->id);
    if (cat >= 0)
        g->categories |= 1u << cat;
    return 0;
}

static int gather_consent(void *ctx, const cu_consent_row *r)
{
    gather *g = ctx;
    cu_sar *s = g->sar;
    cu_sar_consent *n = grow(s->consents, s->nconsents, &g->cap_consents, sizeof *n);
    if (!n)
        return cu_err_set(g->err, CU_ENOMEM, "out of memory");
    s->consents = n;
    cu_sar_consent *c = &n[s->nconsents++];
    memset(c, 0, sizeof *c);
    cu_buf_init(&c->evidence, CU_MAX_EVIDENCE_BYTES + 1);
    cu_strlcpy(c->id, r->id, sizeof c->id);
    cu_strlcpy(c->purpose, r->purpose, sizeof c->purpose);
    cu_strlcpy(c->method, r->method, sizeof c->method);
    c->given = strcmp(r->state, "given") == 0;
    c->policy_version = r->policy_version;
    c->at = r->at;
    if (r->evidence && r->evidence_len) {
        unsigned char ad[CU_AD_MAX];
        size_t adlen = cu_ad_item(ad, g->rec->controller_id, g->rec->id, r->id,
                                  "consent.evidence", g->rec->key_version);
        if (cu_aead_open(g->dek, ad, adlen, r->evidence, r->evidence_len, &c->evidence))
            return cu_err_set(g->err, CU_ECORRUPT, "consent %s fails authentication", r->id);
    }
    return 0;
}

static int gather_disclosure(void *ctx, const cu_disclosure_view *d)
{
    gather *g = ctx;
    cu_sar *s = g->sar;
    cu_sar_disclosure *n = grow(s->disclosures, s->ndisclosures, &g->cap_disc, sizeof *n);
    if (!n)
        return cu_err_set(g->err, CU_ENOMEM, "out of memory");
    s->disclosures = n;
    cu_sar_disclosure *x = &n[s->ndisclosures++];
    memset(x, 0, sizeof *x);
    cu_buf_init(&x->recipient_name, CU_MAX_RECIPIENT_BYTES + 1);
    memcpy(x->id, d->id, sizeof x->id);
    memcpy(x->recipient_id, d->recipient_id, sizeof x->recipient_id);
    memcpy(x->purpose, d->purpose, sizeof x->purpose);
    memcpy(x->channel, d->channel, sizeof x->channel);
    x->basis = d->basis;
    x->disclosed_at = d->disclosed_at;
    x->items = strdup(d->items);
    x->categories = strdup(d->categories);
    if (!x->items || !x->categories ||
        cu_buf_append(&x->recipient_name, d->recipient_name.data, d->recipient_name.len))
        return cu_err_set(g->err, CU_ENOMEM, "out of memory");
    return 0;
}

static void view_copy(char *dst, size_t cap, cu_view v)
{
    size_t n = v.n < cap - 1 ? v.n : cap - 1;
    memcpy(dst, v.p, n);
    dst[n] = '\0';
}

static int gather_event(void *ctx, const cu_audit_row *r)
{
    gather *g = ctx;
    cu_sar *s = g->sar;
    cu_audit_decoded d;
    if (cu_audit_decode(r->body, r->body_len, &d))
        return cu_err_set(g->err, CU_ETAMPER,
                          "an audit event is malformed; run: custos audit verify");
    cu_sar_event *n = grow(s->events, s->nevents, &g->cap_events, sizeof *n);
    if (!n)
        return cu_err_set(g->err, CU_ENOMEM, "out of memory");
    s->events = n;
    cu_sar_event *e = &n[s->nevents++];
    e->seq = d.seq;
    e->ts = d.ts;
    view_copy(e->role, sizeof e->role, d.role);
    view_copy(e->action, sizeof e->action, d.action);
    view_copy(e->purpose, sizeof e->purpose, d.purpose);
    view_copy(e->outcome, sizeof e->outcome, d.outcome);
    view_copy(e->via, sizeof e->via, d.via);
    view_copy(e->categories, sizeof e->categories, d.categories);
    view_copy(e->rule, sizeof e->rule, d.rule);
    e->tasks_raised = (unsigned)cu_audit_detail_count(d.detail, "task.raise");
    return 0;
}

static void sar_release(cu_sar *s)
{
    cu_subject_view_release(&s->sv);
    free(s->withheld);
    for (size_t i = 0; i < s->nconsents; i++)
        cu_buf_release(&s->consents[i].evidence);
    free(s->consents);
    for (size_t i = 0; i < s->ndisclosures; i++) {
        cu_buf_release(&s->disclosures[i].recipient_name);
        free(s->disclosures[i].items);
        free(s->disclosures[i].categories);
    }
    free(s->disclosures);
    free(s->events);
    memset(s, 0, sizeof *s);
}

static int item_order(const void *pa, const void *pb)
{
    const cu_item_view *x = pa, *y = pb;
    if (x->recorded_at != y->recorded_at)
        return x->recorded_at < y->recorded_at ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The withholding record sealed into the audit event: item ids and reasons. */
static int withhold_payload(const cu_sar_request *req, cu_buf *out, cu_err *err)
{
    cu_jw w;
    cu_jw_init(&w, out);
    cu_jw_begin_object(&w);
    cu_jw_key(&w, "withheld");
    cu_jw_begin_array(&w);
    for (size_t i = 0; i < req->nwithhold; i++) {
        cu_jw_begin_object(&w);
        cu_jw_key(&w, "item");
        cu_jw_str(&w, req->withhold[i].item_id);
        cu_jw_key(&w, "exemption");
        cu_jw_str(&w, "serious_harm");
        cu_jw_key(&w, "reason");
        cu_jw_str(&w, req->withhold[i].reason);
        cu_jw_end_object(&w);
    }
    cu_jw_end_array(&w);
    cu_jw_end_object(&w);
    return w.rc ? cu_err_set(err, CU_ENOMEM, "withholding record too large") : CU_OK;
}

int cu_sar_run(cu_vault *v, const cu_actor *a, const char *subject_id, const cu_sar_request *req,
               cu_sar_deliver deliver, void *ctx, cu_err *err)
{
    int rc = check_request(req, err);
    if (rc)
        return rc;
    /* Answering the subject's own request: the built-in purpose. */
    cu_actor act = *a;
    act.purpose = CU_PURPOSE_RIGHTS;
    cu_op op;
    if ((rc = cu_op_begin(v, &op, &act, req->portal_action ? CU_ACT_PORTAL_VIEW : CU_ACT_EXPORT,
                          req->portal_action ? req->portal_action : "export", err)))
        return rc;
    cu_sar sar;
    memset(&sar, 0, sizeof sar);
    sar.portable = req->portable;
    cu_random_id(sar.package_id);
    sar.generated_at = cu_now_us();
    cu_key dek;
    bool have_key = false;
    bool *found = calloc(req->nwithhold + 1, sizeof *found);
    cu_buf payload;
    cu_buf_init(&payload, CU_MAX_WITHHOLD * (CU_MAX_WITHHOLD_REASON * 6 + 128) + 64);
    if (!found)
        rc = cu_err_set(err, CU_ENOMEM, "out of memory");
    if (!rc)
        rc = cu_op_open_subject(v, &op, subject_id, &sar.sv.rec, err);
    const cu_subject_rec *rec = &sar.sv.rec;
    if (!rc && req->nwithhold) {
        /* The serious-harm exemption is a clinician's judgement about their
         * own patient (or recorded by the operator on their behalf). */
        bool clinician = op.decision.basis && (strcmp(op.decision.basis, "care_list") == 0 ||
                                               strcmp(op.decision.basis, "operator") == 0);
        if (!clinician) {
            op.decision.allow = false;
            op.rule = "withholding-needs-clinician";
            rc = cu_err_set(err, CU_EDENIED,
                            "refused (withholding-needs-clinician): only a clinician with the "
                            "subject on their care list may withhold items");
        }
    }
    if (!rc && !(rc = cu_op_subject_key(v, &op, rec->id, &dek, NULL, err)))
        have_key = true;
    if (!rc)
        rc = cu_vault_policy(v, rec->controller_id, &sar.policy, err);
    if (!rc) {
        cu_buf name;
        cu_buf_init(&name, CU_MAX_CONTROLLER_NAME * 4 + 1);
        rc = cu_controller_load(v, rec->controller_id, &name, err);
        if (!rc)
            cu_strlcpy(sar.controller_name, cu_buf_str(&name), sizeof sar.controller_name);
        cu_buf_release(&name);
    }
    gather g = {.v = v, .req = req, .rec = rec, .dek = &dek, .sar = &sar, .pol = sar.policy,
                .withhold_found = found, .err = err};
    if (!rc && !req->log_only)
        rc = cu_store_item_each(v->store, rec->id, gather_item, &g, err);
    if (!rc && !req->log_only)
        rc = cu_items_sum_check(v, rec, &g.sum, err);
    for (size_t i = 0; !rc && i < req->nwithhold; i++)
        if (!found[i])
            rc = cu_err_set(err, CU_EINVAL, "subject %s has no item %s", rec->id,
                            req->withhold[i].item_id);
    if (!rc && sar.sv.n > 1)
        qsort(sar.sv.items, sar.sv.n, sizeof *sar.sv.items, item_order);
    if (!rc && !req->portable) {
        if (!req->log_only)
            rc = cu_consent_each_checked(v, rec->id, gather_consent, &g, err);
        if (!rc && !req->log_only)
            rc = cu_disclosure_each_view(v, rec, &dek, gather_disclosure, &g, err);
        if (!rc) {
            cu_audit_filter f = {.subject_id = rec->id};
            rc = cu_store_audit_each(v->store, &f, gather_event, &g, err);
        }
    }
    op.categories = g.categories;
    for (size_t i = 0; i < sar.nwithheld; i++)
        if (sar.withheld[i].category >= 0)
            op.categories |= 1u << sar.withheld[i].category;
    if (!rc && (req->recipient_id || req->recipient_name)) {
        const char **ids = calloc(sar.sv.n + 1, sizeof *ids);
        if (!ids)
            rc = cu_err_set(err, CU_ENOMEM, "out of memory");
        for (size_t i = 0; ids && i < sar.sv.n; i++)
            ids[i] = sar.sv.items[i].id;
        cu_disclosure_in in = {
            .recipient_id = req->recipient_id, .recipient_name = req->recipient_name,
            .basis = 'c', .purpose = CU_PURPOSE_RIGHTS, .channel = req->channel,
            .items = ids, .nitems = sar.sv.n,
            .categories = sar.sv.n ? 0 : (1u << CU_CAT_IDENTIFYING),
        };
        if (!rc)
            rc = cu_disclosure_add(v, &op, rec, &dek, &in, NULL, err);
        free(ids);
    }
    if (!rc)
        rc = deliver(ctx, &sar, err);
    if (!rc && req->nwithhold)
        rc = withhold_payload(req, &payload, err);
    rc = cu_op_end(v, &op, rc, have_key ? &dek : NULL, &payload, err);
    if (have_key)
        cu_key_wipe(&dek);
    cu_buf_release(&payload);
    free(found);
    sar_release(&sar);
    return rc;
}
