#include "domain/erasure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/disclosure.h"
#include "domain/ledger.h"
#include "domain/pathway.h"
#include "domain/portal.h"
#include "domain/responses.h"
#include "domain/subject_rows.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

/* ---- the decision (pure) ---- */

#define US_PER_DAY 86400000000LL

static int64_t us_of_date(cu_date d)
{
    return cu_date_to_days(d) * US_PER_DAY;
}

/* The first moment after the period that starts on the date of `from`. */
static int64_t period_end(cu_date from, const cu_pol_retention *r)
{
    cu_date d = cu_date_add_months(from, r->years * 12 + r->months);
    return us_of_date(d) + (int64_t)r->days * US_PER_DAY;
}

/* Purposes whose lawful basis is a legal obligation, or which exist for legal
 * claims, use whatever is held (a disclosure to a court or the police); they
 * do not by themselves make custos keep an item that the purposes it is
 * held for would let go. They decide only when nothing else covers it. */
static bool ancillary(const cu_pol_purpose *p)
{
    return p->basis == 'c' || p->legal_claims;
}

typedef struct rule_eval {
    bool granted, unknown;
    int64_t trigger_at, earliest;
} rule_eval;

static rule_eval eval_rule(const cu_er_facts *f, const cu_pol_retention *r,
                           const cu_er_item *it, int64_t last_contact)
{
    rule_eval e = {0};
    if (r->erase_on_request) {
        e.granted = true;
        return e;
    }
    switch (r->trigger) {
    case CU_TRIGGER_COLLECTION: e.trigger_at = it->collected_at; break;
    case CU_TRIGGER_LAST_CONTACT: e.trigger_at = last_contact; break;
    case CU_TRIGGER_END_OF_TREATMENT: e.trigger_at = f->treatment_ended; break;
    case CU_TRIGGER_DEATH: e.trigger_at = f->died; break;
    case CU_TRIGGER_REQUEST: e.trigger_at = f->now; break;
    case CU_TRIGGER_BIRTHDAY:
        if (f->birth_date.year) {
            cu_date b = cu_date_add_months(f->birth_date, r->age * 12);
            e.trigger_at = us_of_date(b);
        }
        break;
    }
    if (!e.trigger_at) {
        e.unknown = true;
        return e;
    }
    e.earliest = period_end(cu_date_of_us(e.trigger_at), r);
    e.granted = f->now >= e.earliest;
    return e;
}

void cu_erasure_decide(const cu_er_facts *f, const cu_er_item *items, size_t n,
                       cu_er_decision *out)
{
    int64_t last = f->last_contact;
    if (!last)
        for (size_t i = 0; i < n; i++) {
            if (items[i].recorded_at > last)
                last = items[i].recorded_at;
            if (items[i].updated_at > last)
                last = items[i].updated_at;
        }
    const cu_policy *p = f->policy;
    for (size_t i = 0; i < n; i++) {
        const cu_er_item *it = &items[i];
        cu_er_decision *d = &out[i];
        memset(d, 0, sizeof *d);
        if (!p) {
            d->reason = "no-policy";
            continue;
        }
        unsigned cat = it->category >= 0 ? 1u << it->category : 0;
        bool primary = false;
        for (size_t k = 0; k < p->npurposes; k++) {
            const cu_pol_purpose *pp = &p->purposes[k];
            if ((pp->categories & cat) && (pp->kinds & f->kind) && !ancillary(pp))
                primary = true;
        }
        /* The deciding rule: an unknown trigger first, then the latest end. */
        const cu_pol_retention *best = NULL;
        rule_eval be = {0};
        bool any = false, all_on_request = true;
        for (size_t k = 0; k < p->npurposes; k++) {
            const cu_pol_purpose *pp = &p->purposes[k];
            if (!(pp->categories & cat) || !(pp->kinds & f->kind) ||
                (primary && ancillary(pp)) || pp->retention >= p->nretention)
                continue;
            const cu_pol_retention *r = &p->retention[pp->retention];
            rule_eval e = eval_rule(f, r, it, last);
            any = true;
            if (!r->erase_on_request)
                all_on_request = false;
            bool better;
            if (!best)
                better = true;
            else if (be.unknown != e.unknown)
                better = e.unknown;
            else if (be.granted != e.granted)
                better = !e.granted;
            else
                better = e.earliest > be.earliest;
            if (better) {
                best = r;
                be = e;
            }
        }
        if (!any) {
            d->granted = true;
            d->reason = "no-purpose";
        } else {
            d->rule = best->id;
            d->trigger = cu_pol_trigger_name(best->trigger);
            d->trigger_at = be.trigger_at;
            if (be.unknown) {
                d->reason = "trigger-date-unknown";
            } else if (!be.granted) {
                d->reason = "retention-period";
                d->earliest = be.earliest;
            } else {
                d->granted = true;
                d->reason = all_on_request ? "erase-on-request" : "retention-ended";
            }
        }
        d->needs_approval = d->granted && (it->category == CU_CAT_HEALTH ||
                                           it->category == CU_CAT_GENETIC);
    }
}

/* ---- gathering a subject's items ---- */

typedef struct held_item {
    char id[CU_ID_STRLEN], field[72], category[40];
    int cat;
    int64_t collected_at, recorded_at, updated_at, version;
    unsigned char *sealed;
    size_t sealed_len;
} held_item;

typedef struct held {
    held_item *v;
    size_t n, cap;
    cu_vault *vault;
    cu_items_sum sum; /* of the items read, against the subject's record */
} held;

static void held_release(held *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i].sealed);
    free(h->v);
    memset(h, 0, sizeof *h);
}

static int hold_item(void *ctx, const cu_item_row *r)
{
    held *h = ctx;
    cu_items_sum_add(h->vault, &h->sum, r->subject_id, r);
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        held_item *n = realloc(h->v, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        h->v = n;
        h->cap = cap;
    }
    held_item *it = &h->v[h->n];
    memset(it, 0, sizeof *it);
    cu_strlcpy(it->id, r->id, sizeof it->id);
    cu_strlcpy(it->field, r->field, sizeof it->field);
    cu_strlcpy(it->category, r->category, sizeof it->category);
    it->cat = cu_category_from_name(r->category);
    it->collected_at = r->collected_at;
    it->recorded_at = r->recorded_at;
    it->updated_at = r->updated_at;
    it->version = r->version;
    if (!(it->sealed = malloc(r->value_len ? r->value_len : 1)))
        return CU_ENOMEM;
    memcpy(it->sealed, r->value, r->value_len);
    it->sealed_len = r->value_len;
    h->n++;
    return 0;
}

static int load_items(cu_vault *v, const char *subject_id, held *h, cu_err *err)
{
    h->vault = v;
    int rc = cu_store_item_each(v->store, subject_id, hold_item, h, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory reading items");
    return rc;
}

/* The subject's birth date, from its newest identifying "birth_date" item. */
static void birth_date(const cu_subject_rec *rec, const cu_key *dek, const held *h,
                       cu_date *out)
{
    const held_item *best = NULL;
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->v[i].field, "birth_date") == 0 &&
            (!best || h->v[i].recorded_at > best->recorded_at))
            best = &h->v[i];
    if (!best)
        return;
    cu_buf plain;
    cu_buf_init(&plain, CU_MAX_VALUE_BYTES + 1);
    unsigned char ad[CU_AD_MAX];
    size_t adlen = cu_ad_value(ad, rec->controller_id, rec->id, best->id, best->field,
                               rec->key_version, best->category, best->version);
    cu_date d;
    if (cu_aead_open(dek, ad, adlen, best->sealed, best->sealed_len, &plain) == CU_OK &&
        cu_date_parse((const char *)plain.data, plain.len, &d))
        *out = d;
    cu_buf_release(&plain);
}

void cu_erasure_result_release(cu_erasure_result *r)
{
    free(r->lines);
    if (r->recipients)
        cu_wipe(r->recipients, r->nrecipients * sizeof *r->recipients);
    free(r->recipients);
    memset(r, 0, sizeof *r);
}

/* Collects the recipients to tell of an erasure (Art 19). */
typedef struct notify_ctx {
    cu_erasure_result *out;
    const held *h;
    const bool *erase;
    unsigned erased_cats;
} notify_ctx;

static int notify_one(void *ctx, const cu_disclosure_view *d)
{
    notify_ctx *c = ctx;
    size_t hits = 0;
    for (size_t i = 0; i < c->h->n; i++)
        if (c->erase[i] && cu_disclosure_has_item(d, c->h->v[i].id))
            hits++;
    bool by_category = false;
    for (int k = 0; !hits && k < CU_CAT_COUNT; k++)
        if ((c->erased_cats & (1u << k)) && cu_disclosure_has_category(d, (cu_category)k))
            by_category = true;
    if (!hits && !by_category)
        return CU_OK;
    cu_erasure_result *o = c->out;
    struct cu_erasure_recipient *n = realloc(o->recipients, (o->nrecipients + 1) * sizeof *n);
    if (!n)
        return CU_ENOMEM;
    o->recipients = n;
    struct cu_erasure_recipient *r = &n[o->nrecipients++];
    memset(r, 0, sizeof *r);
    cu_strlcpy(r->recipient_id, d->recipient_id, sizeof r->recipient_id);
    if (d->recipient_name.len) {
        size_t len = d->recipient_name.len < sizeof r->name - 1 ? d->recipient_name.len
                                                                : sizeof r->name - 1;
        memcpy(r->name, d->recipient_name.data, len);
    }
    cu_strlcpy(r->channel, d->channel, sizeof r->channel);
    r->disclosed_at = d->disclosed_at;
    r->items_erased = hits;
    return CU_OK;
}

static int decide_all(cu_vault *v, const cu_subject_rec *rec, const cu_key *dek, const held *h,
                      const cu_erasure_opts *o, cu_erasure_result *out, cu_err *err)
{
    const cu_policy *pol;
    int rc = cu_vault_policy(v, rec->controller_id, &pol, err);
    if (rc)
        return rc;
    cu_er_facts f = {.policy = pol, .kind = cu_subject_kind_bit(rec->kind), .now = cu_now_us(),
                     .treatment_ended = o ? o->treatment_ended : 0, .died = o ? o->died : 0};
    birth_date(rec, dek, h, &f.birth_date);
    cu_er_item *items = calloc(h->n ? h->n : 1, sizeof *items);
    cu_er_decision *d = calloc(h->n ? h->n : 1, sizeof *d);
    out->lines = calloc(h->n ? h->n : 1, sizeof *out->lines);
    if (!items || !d || !out->lines) {
        free(items);
        free(d);
        return cu_err_set(err, CU_ENOMEM, "out of memory deciding an erasure");
    }
    for (size_t i = 0; i < h->n; i++)
        items[i] = (cu_er_item){.id = h->v[i].id, .field = h->v[i].field,
                                .category = h->v[i].cat,
                                .collected_at = h->v[i].collected_at,
                                .recorded_at = h->v[i].recorded_at,
                                .updated_at = h->v[i].updated_at};
    cu_erasure_decide(&f, items, h->n, d);
    memcpy(out->subject_id, rec->id, sizeof out->subject_id);
    memcpy(out->controller_id, rec->controller_id, sizeof out->controller_id);
    cu_strlcpy(out->kind, rec->kind, sizeof out->kind);
    out->policy_version = pol ? pol->version : 0;
    out->decided_at = f.now;
    out->n = h->n;
    /* The digest binds an approval to this exact plan: every item and its
     * answer, in id order (the store's order). */
    unsigned char acc[CU_HASH_BYTES];
    cu_hash2(rec->id, strlen(rec->id), NULL, 0, acc);
    for (size_t i = 0; i < h->n; i++) {
        cu_erasure_line *l = &out->lines[i];
        memcpy(l->id, h->v[i].id, sizeof l->id);
        memcpy(l->field, h->v[i].field, sizeof l->field);
        memcpy(l->category, h->v[i].category, sizeof l->category);
        cu_strlcpy(l->rule, d[i].rule ? d[i].rule : "", sizeof l->rule);
        cu_strlcpy(l->trigger, d[i].trigger ? d[i].trigger : "", sizeof l->trigger);
        l->reason = d[i].reason;
        l->granted = d[i].granted;
        l->needs_approval = d[i].needs_approval;
        l->collected_at = h->v[i].collected_at;
        l->trigger_at = d[i].trigger_at;
        l->earliest = d[i].earliest;
        out->ngranted += l->granted;
        out->nkept += !l->granted;
        out->napproval += l->needs_approval;
        char line[96];
        int n = snprintf(line, sizeof line, "%s %c", l->id, l->granted ? 'E' : 'K');
        cu_hash2(acc, sizeof acc, line, n > 0 ? (size_t)n : 0, acc);
    }
    cu_hex(acc, (CU_PLAN_DIGEST_STRLEN - 1) / 2, out->digest);
    free(items);
    free(d);
    return CU_OK;
}

static unsigned held_categories(const held *h)
{
    unsigned m = 0;
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].cat >= 0)
            m |= 1u << h->v[i].cat;
    return m;
}

/* The start of a plan and of an execution: the subject (rec), its items (h)
 * and key (dek, *have_key once it is to be wiped), and the decision on each
 * item (out); op names the categories held. */
static int open_and_decide(cu_vault *v, cu_op *op, const char *subject_id,
                           const cu_erasure_opts *o, cu_subject_rec *rec, held *h, cu_key *dek,
                           bool *have_key, cu_erasure_result *out, cu_err *err)
{
    int rc = cu_op_open_subject(v, op, subject_id, rec, err);
    if (!rc)
        rc = load_items(v, rec->id, h, err);
    if (!rc)
        rc = cu_items_sum_check(v, rec, &h->sum, err);
    if (!rc && !(rc = cu_op_subject_key(v, op, rec->id, dek, NULL, err)))
        *have_key = true;
    if (!rc)
        rc = decide_all(v, rec, dek, h, o, out, err);
    op->categories = held_categories(h);
    return rc;
}

int cu_erasure_plan(cu_vault *v, const cu_actor *a, const char *subject_id,
                    const cu_erasure_opts *o, cu_erasure_result *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_ERASE, "erase.plan", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    held h = {0};
    cu_key dek;
    bool have_key = false;
    rc = open_and_decide(v, &op, subject_id, o, &rec, &h, &dek, &have_key, out, err);
    if (have_key)
        cu_key_wipe(&dek);
    held_release(&h);
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (rc)
        cu_erasure_result_release(out);
    return rc;
}

/* ---- execution ---- */

typedef struct reseal_ctx {
    const cu_subject_rec *rec;
    const cu_key *old_dek, *new_dek;
    int64_t new_version;
    bool consent; /* which table: consents or break_glass */
    cu_vault *vault;
    /* collected, then updated (no writes while a statement walks the table) */
    struct resealed {
        char id[CU_ID_STRLEN];
        cu_buf sealed;
        unsigned char mac[CU_HASH_BYTES]; /* the row's new code */
    } *v;
    size_t n, cap;
    int rc;
} reseal_ctx;

static int reseal_one(reseal_ctx *c, const char *id, const char *field, const void *sealed,
                      size_t n)
{
    if (!sealed || !n)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct resealed *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv)
            return CU_ENOMEM;
        c->v = nv;
        c->cap = cap;
    }
    struct resealed *r = &c->v[c->n];
    cu_strlcpy(r->id, id, sizeof r->id);
    cu_buf_init(&r->sealed, 1u << 20);
    c->n++;
    cu_buf plain;
    cu_buf_init(&plain, 1u << 20);
    unsigned char ad[CU_AD_MAX];
    size_t adlen = cu_ad_item(ad, c->rec->controller_id, c->rec->id, id, field,
                              c->rec->key_version);
    int rc = cu_aead_open(c->old_dek, ad, adlen, sealed, n, &plain);
    if (!rc) {
        adlen = cu_ad_item(ad, c->rec->controller_id, c->rec->id, id, field, c->new_version);
        rc = cu_aead_seal(c->new_dek, ad, adlen, plain.data, plain.len, &r->sealed);
    }
    cu_buf_release(&plain);
    return rc;
}

static int reseal_consent(void *ctx, const cu_consent_row *r)
{
    reseal_ctx *c = ctx;
    /* A record that fails its code is not authenticated anew. */
    if (cu_consent_row_check(c->vault, r, NULL))
        return CU_ETAMPER;
    size_t before = c->n;
    int rc = reseal_one(c, r->id, "consent.evidence", r->evidence, r->evidence_len);
    if (!rc && c->n > before) {
        cu_consent_row row = *r;
        row.evidence = c->v[c->n - 1].sealed.data;
        row.evidence_len = c->v[c->n - 1].sealed.len;
        cu_consent_row_sign(c->vault, &row, c->v[c->n - 1].mac);
    }
    return rc;
}

static int reseal_grant(void *ctx, const cu_break_glass_row *g)
{
    reseal_ctx *c = ctx;
    /* A grant that fails its code is not authenticated anew. */
    if (cu_break_glass_check(c->vault, g, NULL))
        return CU_ETAMPER;
    size_t before = c->n;
    int rc = reseal_one(c, g->id, "break_glass.reason", g->reason, g->reason_len);
    if (!rc && c->n > before) {
        cu_break_glass_row row = *g;
        row.reason = c->v[c->n - 1].sealed.data;
        row.reason_len = c->v[c->n - 1].sealed.len;
        cu_break_glass_sign(c->vault, &row, c->v[c->n - 1].mac);
    }
    return rc;
}

static void reseal_release(reseal_ctx *c)
{
    for (size_t i = 0; i < c->n; i++)
        cu_buf_release(&c->v[i].sealed);
    free(c->v);
}

/* Re-encrypts a subject's sealed consent evidence and break-glass reasons. */
static int reseal_side_tables(cu_vault *v, reseal_ctx *base, cu_err *err)
{
    for (int t = 0; t < 2; t++) {
        reseal_ctx c = *base;
        c.v = NULL;
        c.n = c.cap = 0;
        int rc = t == 0 ? cu_store_consent_each(v->store, c.rec->id, reseal_consent, &c, err)
                        : cu_store_break_glass_of_subject(v->store, c.rec->id, reseal_grant,
                                                          &c, err);
        if (rc && !(err && err->code))
            rc = cu_err_set(err, rc == CU_ENOMEM || rc == CU_ETAMPER ? rc : CU_ECORRUPT,
                            "cannot re-encrypt the %s of subject %s",
                            t == 0 ? "consent evidence" : "break-glass reasons", c.rec->id);
        for (size_t i = 0; !rc && i < c.n; i++)
            rc = t == 0 ? cu_store_consent_set_evidence(v->store, c.v[i].id, c.v[i].sealed.data,
                                                        c.v[i].sealed.len, c.v[i].mac,
                                                        CU_HASH_BYTES, err)
                        : cu_store_break_glass_set_reason(v->store, c.v[i].id,
                                                          c.v[i].sealed.data,
                                                          c.v[i].sealed.len, c.v[i].mac,
                                                          CU_HASH_BYTES, err);
        reseal_release(&c);
        if (rc)
            return rc;
    }
    return CU_OK;
}

/* Whole-subject crypto-shredding: keys, items, blind indexes; rec is marked
 * erased (the caller writes it). Nothing more is asked of the subject: its
 * follow-up pathways are discharged and its unused questionnaire links
 * retired and its portal account, sessions and invitations deleted, in the
 * same transaction (an erasure replayed from the ledger
 * does the same). */
static int shred_subject(cu_vault *v, cu_subject_rec *rec, int64_t now, cu_err *err)
{
    int rc = cu_pathway_erased(v, rec->id, now, NULL, err);
    if (!rc)
        rc = cu_qlink_retire_subject(v, rec->id, now, NULL, err);
    if (!rc)
        rc = cu_portal_forget_subject(v, rec->id, err);
    if (!rc)
        rc = cu_store_ident_delete_subject(v->store, rec->id, err);
    if (!rc)
        rc = cu_store_item_delete_subject(v->store, rec->id, err);
    if (!rc)
        rc = cu_store_subject_key_delete(v->store, rec->id, err);
    if (!rc) {
        rec->erased_at = rec->updated_at = now;
        rec->item_count = 0;
        memset(rec->item_digest, 0, sizeof rec->item_digest);
    }
    return rc;
}

/* Writes the subject's row after an erasure: authenticated anew when it was
 * genuine, otherwise with its old code, so that the erasure is applied and
 * the altered row is still reported (`custos verify`). */
static int write_erased(cu_vault *v, cu_subject_rec *rec, bool genuine, cu_err *err)
{
    return genuine ? cu_subject_save(v, rec, false, err)
                   : cu_store_subject_update(v->store, rec, err);
}

/* Item-level crypto-shredding: every item not erased is re-encrypted under a
 * fresh data key with the next key version (the version is in each value's
 * associated data), the subject's other sealed values likewise, the old key
 * is overwritten, and the erased items and their blind indexes are deleted.
 * A stale copy of an erased item's ciphertext (a free page, the WAL) then
 * has no key in this store. */
static int shred_items(cu_vault *v, cu_subject_rec *rec, const cu_key *old_dek,
                       const held *h, const bool *erase, int64_t *new_version, cu_err *err)
{
    cu_key dek;
    cu_key_random(&dek);
    int64_t ver = rec->key_version + 1;
    cu_buf plain, sealed;
    cu_buf_init(&plain, CU_MAX_VALUE_BYTES + 1);
    cu_buf_init(&sealed, CU_MAX_VALUE_BYTES * 2);
    int rc = CU_OK;
    for (size_t i = 0; !rc && i < h->n; i++) {
        const held_item *it = &h->v[i];
        if (erase[i]) {
            rc = cu_store_ident_delete_item(v->store, rec->id, it->id, err);
            if (!rc)
                rc = cu_store_item_delete(v->store, rec->id, it->id, err);
            if (!rc)
                cu_subject_item_removed(v, rec, it->id, it->version, it->category, it->field);
            continue;
        }
        unsigned char ad[CU_AD_MAX];
        size_t adlen = cu_ad_value(ad, rec->controller_id, rec->id, it->id, it->field,
                                   rec->key_version, it->category, it->version);
        cu_buf_reset(&plain);
        cu_buf_reset(&sealed);
        if (cu_aead_open(old_dek, ad, adlen, it->sealed, it->sealed_len, &plain)) {
            rc = cu_err_set(err, CU_ECORRUPT, "item %s of subject %s fails authentication",
                            it->id, rec->id);
            break;
        }
        adlen = cu_ad_value(ad, rec->controller_id, rec->id, it->id, it->field, ver,
                            it->category, it->version + 1);
        if (cu_aead_seal(&dek, ad, adlen, plain.data, plain.len, &sealed))
            rc = cu_err_set(err, CU_ENOMEM, "cannot seal a value");
        if (!rc)
            rc = cu_store_item_reseal(v->store, rec->id, it->id, sealed.data, sealed.len,
                                      it->version + 1, err);
        if (!rc)
            cu_subject_item_versioned(v, rec, it->id, it->version, it->version + 1,
                                      it->category, it->field);
    }
    cu_buf_release(&plain);
    cu_buf_release(&sealed);
    if (!rc) {
        reseal_ctx c = {.rec = rec, .old_dek = old_dek, .new_dek = &dek, .new_version = ver,
                        .vault = v};
        rc = reseal_side_tables(v, &c, err);
    }
    if (!rc) {
        unsigned char w[CU_WRAPPED_KEY_BYTES];
        cu_vault_wrap_subject_key(v, rec->id, ver, &dek, w);
        rc = cu_store_subject_key_put(v->store, rec->id, ver, w, sizeof w, err);
    }
    if (!rc)
        rec->key_version = ver; /* the caller writes rec */
    cu_key_wipe(&dek);
    if (!rc)
        *new_version = ver;
    return rc;
}

static void ledger_path(const cu_vault *v, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", v->dir, CU_LEDGER_FILE);
}

/* Records the ledger's end in the store, in the erasure's transaction. */
static int note_ledger(cu_vault *v, int64_t seq, const unsigned char hash[CU_HASH_BYTES],
                       cu_err *err)
{
    char s[24];
    int n = snprintf(s, sizeof s, "%lld", (long long)seq);
    int rc = cu_store_meta_put(v->store, "ledger_seq", s, (size_t)n, err);
    if (!rc)
        rc = cu_store_meta_put(v->store, "ledger_head", hash, CU_HASH_BYTES, err);
    return rc;
}

static void after_shred(cu_vault *v)
{
    if (v->batch)
        v->shred_pending = true;
    else if (cu_store_compact_log(v->store, NULL) != CU_OK)
        return; /* a later compaction does it */
}

/* ---- the ledger's table (migration 7) and its file mirror ----
 * The store keeps every entry's line in erasure_ledger, so every node sees
 * every erasure; each node's file mirrors the table and outlives the
 * database (a restored backup). */

static int table_line(void *ctx, int64_t seq, const char *line, size_t n)
{
    (void)seq;
    cu_buf *b = ctx;
    return cu_buf_append(b, line, n) || cu_buf_append(b, "\n", 1) ? CU_ENOMEM : CU_OK;
}

/* The table's entries as ledger text, one line each. */
static int table_text(cu_vault *v, cu_buf *out, cu_err *err)
{
    int rc = cu_store_ledger_each(v->store, table_line, out, err);
    if (rc == CU_ENOMEM && !(err && err->code))
        rc = cu_err_set(err, CU_ENOMEM, "out of memory reading the erasure ledger table");
    return rc;
}

/* Verifies the table's text: its hash chain, and the signatures of the
 * entries after sigs_after (a negative value: none, the chain alone); *last
 * receives its last seq. */
static int table_verify(cu_vault *v, const cu_buf *t, int64_t sigs_after, int64_t *last,
                        cu_err *err)
{
    unsigned char h[CU_HASH_BYTES];
    cu_err why = {0};
    int rc = cu_ledger_parse(t->data, t->len, v->store_id, sigs_after < 0 ? NULL : v->pubkey,
                             sigs_after < 0 ? 0 : sigs_after, NULL, NULL, last, h, &why);
    if (rc)
        return cu_err_set(err, CU_ETAMPER, "the store's erasure ledger table does not verify: %s",
                          why.msg);
    return CU_OK;
}

/* The entries a ledger file holds (its complete lines), to check the
 * signatures of the table's entries beyond them before they are mirrored. */
static int file_entries(const char *path, int64_t *n, cu_err *err)
{
    cu_buf f;
    cu_buf_init(&f, CU_LEDGER_MAX_BYTES + 65536);
    int rc = cu_ledger_read_text(path, &f, err);
    *n = 0;
    for (size_t i = 0; !rc && i < f.len; i++)
        *n += f.data[i] == '\n';
    cu_buf_release(&f);
    return rc;
}

/* Appends to the table the lines of text (the verified file) after the
 * table's last entry, read again inside the caller's transaction, up to
 * entry upto (what this open read and re-applied). */
static int table_catch_up(cu_vault *v, const cu_buf *text, int64_t upto, cu_err *err)
{
    cu_buf t;
    cu_buf_init(&t, CU_LEDGER_MAX_BYTES + 65536);
    int64_t have = 0;
    int rc = table_text(v, &t, err);
    if (!rc)
        rc = table_verify(v, &t, -1, &have, err);
    cu_buf_release(&t);
    const char *p = (const char *)text->data, *end = p + text->len;
    for (int64_t seq = 1; !rc && p < end && seq <= upto; seq++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (seq > have)
            rc = cu_store_ledger_add(v->store, seq, p, n, err);
        p += n + 1;
    }
    return rc;
}

/* Appends an erasure of the subject (items[0..n), or the whole subject when
 * n is 0) to the ledger file and table, and records the ledger's new end in
 * the store. Runs in the erasing transaction, under the writer lock: the
 * file first takes what other nodes added to the table. */
static int ledger_add(cu_vault *v, const char *subject_id, int64_t now,
                      const char (*items)[CU_ID_STRLEN], size_t n, int64_t *seq, cu_err *err)
{
    char path[PATH_MAX + 32];
    ledger_path(v, path, sizeof path);
    unsigned char hash[CU_HASH_BYTES];
    cu_buf t, f, line;
    cu_buf_init(&t, CU_LEDGER_MAX_BYTES + 65536);
    cu_buf_init(&f, CU_LEDGER_MAX_BYTES + 65536);
    cu_buf_init(&line, (size_t)CU_LEDGER_MAX_ITEMS * CU_ID_STRLEN + 4096);
    int64_t have = 0;
    /* The chain, and the signatures of the entries the file is to take. */
    int64_t in_file = 0;
    int rc = file_entries(path, &in_file, err);
    if (!rc)
        rc = table_text(v, &t, err);
    if (!rc)
        rc = table_verify(v, &t, in_file, &have, err);
    if (!rc)
        rc = cu_ledger_mirror(path, t.data, t.len, &f, err);
    if (!rc && f.len != t.len)
        rc = cu_err_set(err, CU_EIO, "the erasure ledger %s holds an erasure that did not "
                                     "complete and is not applied yet: restart custos to "
                                     "apply it",
                        path);
    if (!rc)
        rc = cu_ledger_append_line(path, v->store_id, v->signing_seed, now, subject_id, items, n,
                                   seq, hash, &line, err);
    if (!rc) {
        /* The file holds the entry from here on: should the transaction be
         * undone, the erasure is completed from it (cu_erasure_catch_up). */
        v->ledger_appends++;
        v->ledger_in_tx = true;
    }
    if (!rc && *seq != have + 1)
        rc = cu_err_set(err, CU_EIO, "the erasure ledger %s moved on while it was written",
                        path);
    if (!rc)
        rc = cu_store_ledger_add(v->store, *seq, (const char *)line.data, line.len, err);
    cu_buf_release(&t);
    cu_buf_release(&f);
    cu_buf_release(&line);
    return rc ? rc : note_ledger(v, *seq, hash, err);
}

int cu_erasure_failed(cu_vault *v, uint64_t appends_before, int rc, cu_err *err)
{
    if (!rc || v->ledger_appends == appends_before)
        return rc;
    v->ledger_ahead = true; /* the operation was undone, its entry was not */
    if (err && err->code) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n,
                 "; the erasure is in the erasure ledger and will be completed from it");
    }
    return rc;
}

int cu_erasure_catch_up(cu_vault *v, int64_t *replayed, cu_err *err)
{
    *replayed = 0;
    if (!v->ledger_ahead)
        return CU_OK;
    int rc = cu_erasure_replay(v, replayed, err);
    if (!rc)
        v->ledger_ahead = false;
    return rc;
}

int cu_erasure_ledger_subject(cu_vault *v, const char *subject_id, int64_t now, cu_err *err)
{
    int64_t seq;
    return ledger_add(v, subject_id, now, NULL, 0, &seq, err);
}

int cu_erasure_execute(cu_vault *v, const cu_actor *a, const char *subject_id,
                       const cu_erasure_opts *o, cu_erasure_result *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    uint64_t appends = v->ledger_appends;
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_ERASE, "erase", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    held h = {0};
    cu_key dek;
    bool have_key = false;
    bool *erase = NULL;
    char (*ids)[CU_ID_STRLEN] = NULL;
    rc = open_and_decide(v, &op, subject_id, o, &rec, &h, &dek, &have_key, out, err);
    /* Executed after it was decided: the certificate's times in that order. */
    int64_t now = cu_now_us();
    if (now < out->decided_at)
        now = out->decided_at;
    if (!rc && out->ngranted == 0 && h.n > 0) {
        op.rule = "retention-period";
        bool api = o && o->api;
        rc = cu_err_set(err, CU_EDENIED,
                        "refused (retention-period): every item of subject %s must be kept "
                        "for now; see: %s%s%s",
                        rec.id, api ? "POST /v1/subjects/" : "custos erasure plan ", rec.id,
                        api ? "/erasure/plan" : "");
    }
    if (!rc && out->napproval) {
        if (!o || !o->approve) {
            op.rule = "health-approval-required";
            rc = cu_err_set(err, CU_EDENIED,
                            "refused (health-approval-required): erasing %zu health item(s) "
                            "needs the DPO's approval of plan %s: %s%s%s",
                            out->napproval, out->digest,
                            o && o->api ? "send \"approve_health\": \"" : "--approve-health ",
                            out->digest, o && o->api ? "\"" : "");
        } else if (strcmp(o->approve, out->digest) != 0) {
            op.rule = "plan-changed";
            rc = cu_err_set(err, CU_EDENIED,
                            "refused (plan-changed): the approved plan %s is not the current "
                            "plan %s; review it again with: %s%s%s",
                            o->approve, out->digest,
                            o->api ? "POST /v1/subjects/" : "custos erasure plan ", rec.id,
                            o->api ? "/erasure/plan" : "");
        } else {
            out->health_approved = true;
            cu_strlcpy(out->approved_by, a->name, sizeof out->approved_by);
        }
    }
    if (!rc && out->ngranted > CU_LEDGER_MAX_ITEMS && out->nkept)
        rc = cu_err_set(err, CU_EINVAL, "more than %d items to erase in one step",
                        CU_LEDGER_MAX_ITEMS);
    if (!rc) {
        erase = calloc(h.n ? h.n : 1, sizeof *erase);
        ids = calloc(out->ngranted ? out->ngranted : 1, sizeof *ids);
        if (!erase || !ids)
            rc = cu_err_set(err, CU_ENOMEM, "out of memory erasing");
    }
    size_t k = 0;
    unsigned erased_cats = 0;
    for (size_t i = 0; !rc && i < h.n; i++)
        if ((erase[i] = out->lines[i].granted)) {
            memcpy(ids[k++], h.v[i].id, CU_ID_STRLEN);
            if (h.v[i].cat >= 0)
                erased_cats |= 1u << h.v[i].cat;
        }
    /* The event names the categories erased, not those kept. */
    if (!rc)
        op.categories = erased_cats;
    /* Art 19: who received what is erased, read while the names still open. */
    if (!rc) {
        notify_ctx nc = {.out = out, .h = &h, .erase = erase, .erased_cats = erased_cats};
        rc = cu_disclosure_each_view(v, &rec, &dek, notify_one, &nc, err);
        if (rc == CU_ENOMEM)
            rc = cu_err_set(err, rc, "out of memory erasing");
    }
    out->whole_subject = !rc && out->nkept == 0;
    if (!rc && out->whole_subject)
        rc = shred_subject(v, &rec, now, err);
    else if (!rc)
        rc = shred_items(v, &rec, &dek, &h, erase, &out->key_version, err);
    if (!rc && !out->whole_subject)
        rec.updated_at = now;
    if (!rc)
        rc = cu_subject_save(v, &rec, false, err);
    /* The last step before the commit: the ledger entry is durable before
     * the erasure commits. A crash in between leaves an entry that the next
     * open re-applies, never a committed erasure that a restore would miss;
     * a failure before it (the changes above) leaves no entry. */
    if (!rc)
        rc = ledger_add(v, rec.id, now,
                        out->whole_subject ? NULL : (const char(*)[CU_ID_STRLEN])ids,
                        out->whole_subject ? 0 : k, &out->ledger_seq, err);
    if (have_key)
        cu_key_wipe(&dek);
    free(erase);
    free(ids);
    held_release(&h);
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc) {
        out->executed = true;
        out->executed_at = now;
        after_shred(v);
    }
    return cu_erasure_failed(v, appends, rc, err);
}

/* ---- replay ---- */

typedef struct pending {
    cu_ledger_entry e;
    char *items; /* copy */
} pending;

typedef struct replay_ctx {
    int64_t after;
    pending *v;
    size_t n, cap;
} replay_ctx;

static int collect_entry(void *ctx, const cu_ledger_entry *e)
{
    replay_ctx *c = ctx;
    if (e->seq <= c->after)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        pending *n = realloc(c->v, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        c->v = n;
        c->cap = cap;
    }
    pending *p = &c->v[c->n];
    p->e = *e;
    p->items = NULL;
    if (e->items_len) {
        if (!(p->items = malloc(e->items_len)))
            return CU_ENOMEM;
        memcpy(p->items, e->items, e->items_len);
        p->e.items = p->items;
    }
    c->n++;
    return 0;
}

static int replay_one(cu_vault *v, const cu_actor *a, const pending *p, bool *done,
                      cu_err *err)
{
    *done = false;
    cu_subject_rec rec;
    int rc = cu_store_subject_get(v->store, p->e.subject, &rec, err);
    if (rc == CU_ENOTFOUND || (!rc && rec.erased_at)) {
        cu_err_clear(err);
        return CU_OK;
    }
    if (rc)
        return rc;
    held h = {0};
    rc = load_items(v, rec.id, &h, err);
    /* The ledger is applied whatever the rows say; an altered row stays
     * reported as altered (it is not authenticated anew). */
    cu_err ignored = {0};
    bool genuine = !rc && cu_subject_row_check(v, &rec, &ignored) == CU_OK &&
                   cu_items_sum_check(v, &rec, &h.sum, &ignored) == CU_OK;
    bool *erase = calloc(h.n ? h.n : 1, sizeof *erase);
    size_t nerase = 0;
    if (!rc && !erase)
        rc = cu_err_set(err, CU_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < h.n; i++) {
        if (p->e.whole) {
            erase[i] = true;
        } else {
            for (size_t j = 0; j < p->e.nitems && !erase[i]; j++) {
                char id[CU_ID_STRLEN];
                cu_ledger_item(&p->e, j, id);
                erase[i] = strcmp(id, h.v[i].id) == 0;
            }
        }
        nerase += erase[i];
    }
    if (!rc && (p->e.whole || nerase)) {
        cu_op op;
        rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_ERASE, "erase", err);
        if (!rc) {
            memcpy(op.subject_id, rec.id, CU_ID_STRLEN);
            memcpy(op.controller_id, rec.controller_id, CU_ID_STRLEN);
            op.subject = &rec;
            op.categories = held_categories(&h);
            int64_t now = cu_now_us();
            rc = cu_op_authorise(v, &op, err);
            /* An item entry erases those items only, even when they are all
             * the subject has here (a restored copy may predate the rest). */
            if (!rc && p->e.whole) {
                rc = shred_subject(v, &rec, now, err);
                /* Erased when the ledger says it was; applied again to this
                 * copy now (the row's update time). */
                if (!rc && p->e.at > 0 && p->e.at < now)
                    rec.erased_at = p->e.at;
            } else if (!rc) {
                cu_key dek;
                int64_t ver;
                rc = cu_op_subject_key(v, &op, rec.id, &dek, NULL, err);
                if (!rc) {
                    rc = shred_items(v, &rec, &dek, &h, erase, &ver, err);
                    cu_key_wipe(&dek);
                }
                if (!rc)
                    rec.updated_at = now;
            }
            if (!rc)
                rc = write_erased(v, &rec, genuine, err);
            rc = cu_op_end(v, &op, rc, NULL, NULL, err);
            if (!rc)
                *done = true;
        }
    }
    free(erase);
    held_release(&h);
    return rc;
}

static int read_meta_seq(cu_vault *v, int64_t *seq, unsigned char head[CU_HASH_BYTES],
                         bool *have_head, cu_err *err)
{
    cu_buf b;
    cu_buf_init(&b, 64);
    *seq = 0;
    *have_head = false;
    int rc = cu_store_meta_get(v->store, "ledger_seq", &b, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        cu_buf_release(&b);
        return CU_OK;
    }
    if (!rc) {
        char s[24] = "";
        memcpy(s, b.data, b.len < sizeof s - 1 ? b.len : sizeof s - 1);
        *seq = strtoll(s, NULL, 10);
        cu_buf_reset(&b);
        rc = cu_store_meta_get(v->store, "ledger_head", &b, err);
        if (!rc && b.len == CU_HASH_BYTES) {
            memcpy(head, b.data, CU_HASH_BYTES);
            *have_head = true;
        }
        if (rc == CU_ENOTFOUND) {
            cu_err_clear(err);
            rc = CU_OK;
        }
    }
    cu_buf_release(&b);
    return rc;
}

typedef struct head_ctx {
    int64_t seq;
    unsigned char hash[CU_HASH_BYTES];
    bool found;
} head_ctx;

static int find_head(void *ctx, const cu_ledger_entry *e)
{
    head_ctx *h = ctx;
    if (e->seq == h->seq) {
        h->found = cu_ct_equal(e->hash, h->hash, CU_HASH_BYTES);
        if (!h->found)
            return CU_ETAMPER;
    }
    return 0;
}

typedef struct both_ctx {
    head_ctx *head;
    replay_ctx *replay;
} both_ctx;

static int both_cb(void *ctx, const cu_ledger_entry *e)
{
    both_ctx *b = ctx;
    int rc = find_head(b->head, e);
    return rc ? rc : collect_entry(b->replay, e);
}

int cu_erasure_replay(cu_vault *v, int64_t *replayed, cu_err *err)
{
    *replayed = 0;
    int64_t meta_seq;
    head_ctx head = {0};
    bool have_head;
    int rc = read_meta_seq(v, &meta_seq, head.hash, &have_head, err);
    if (rc)
        return rc;
    head.seq = meta_seq;
    char path[PATH_MAX + 32];
    ledger_path(v, path, sizeof path);
    /* The file first takes the entries of the store's table it lacks (made
     * by another node); entries the file has beyond the table (the database
     * is older: a restored backup) are re-applied below and then added to
     * the table. Either one failing to verify, or the two differing, stops
     * the open. */
    cu_buf tt, ft;
    cu_buf_init(&tt, CU_LEDGER_MAX_BYTES + 65536);
    cu_buf_init(&ft, CU_LEDGER_MAX_BYTES + 65536);
    int64_t table_last = 0;
    /* The table's chain, and the signatures of its entries that this store
     * had not recorded or that the file is to take. */
    int64_t in_file = 0;
    rc = file_entries(path, &in_file, err);
    if (!rc)
        rc = table_text(v, &tt, err);
    if (!rc)
        rc = table_verify(v, &tt, in_file < meta_seq ? in_file : meta_seq, &table_last, err);
    if (!rc && tt.len)
        rc = cu_ledger_mirror(path, tt.data, tt.len, &ft, err);
    cu_buf_release(&tt);
    if (rc) {
        cu_buf_release(&ft);
        return rc;
    }
    replay_ctx rp = {.after = meta_seq};
    both_ctx both = {.head = &head, .replay = &rp};
    bool exists;
    int64_t last = 0;
    unsigned char last_hash[CU_HASH_BYTES];
    rc = cu_ledger_read(path, v->store_id, v->pubkey, meta_seq, both_cb, &both, &exists, &last,
                        last_hash, err);
    if (rc == CU_ETAMPER && !(err && err->code))
        rc = cu_err_set(err, CU_ETAMPER, "the erasure ledger %s does not continue the one this "
                                         "store recorded (entry %lld differs)",
                        path, (long long)meta_seq);
    else if (rc == CU_ENOMEM && !(err && err->code))
        rc = cu_err_set(err, CU_ENOMEM, "out of memory reading the erasure ledger");
    if (!rc && meta_seq > 0 && !exists)
        rc = cu_err_set(err, CU_ETAMPER,
                        "the erasure ledger %s is missing but this store recorded %lld "
                        "erasure(s) in it; restore it (docs/operations.md) before serving",
                        path, (long long)meta_seq);
    else if (!rc && last < meta_seq)
        rc = cu_err_set(err, CU_ETAMPER,
                        "the erasure ledger %s ends at entry %lld but this store recorded "
                        "entry %lld: it was truncated or replaced",
                        path, (long long)last, (long long)meta_seq);
    else if (!rc && meta_seq > 0 && have_head && !head.found)
        rc = cu_err_set(err, CU_ETAMPER, "the erasure ledger %s does not hold the entry this "
                                         "store recorded",
                        path);
    if (!rc && (rp.n || last > table_last)) {
        cu_actor sys = {.name = "custos", .role = "operator", .purpose = CU_PURPOSE_RIGHTS,
                        .via = "erasure-ledger replay"};
        for (size_t i = 0; !rc && i < rp.n; i++) {
            bool done;
            rc = replay_one(v, &sys, &rp.v[i], &done, err);
            *replayed += done;
        }
        /* Record that the store has caught up with the ledger, and give its
         * table the entries it lacks (read again under the writer lock: another
         * node may be doing the same). */
        cu_buf_reset(&ft);
        int64_t last2 = 0;
        unsigned char hash2[CU_HASH_BYTES];
        if (!rc && (rc = cu_ledger_read_text(path, &ft, err)) == CU_OK)
            rc = cu_ledger_parse(ft.data, ft.len, v->store_id, v->pubkey, 0, NULL, NULL, &last2,
                                 hash2, err);
        if (!rc && !(rc = cu_store_begin(v->store, err))) {
            rc = note_ledger(v, last, last_hash, err);
            if (!rc)
                rc = table_catch_up(v, &ft, last, err);
            if (!rc)
                rc = cu_store_commit(v->store, err);
            else
                cu_store_rollback(v->store);
        }
        if (!rc && *replayed && cu_store_compact_log(v->store, NULL) != CU_OK)
            rc = CU_OK; /* a later compaction does it */
    }
    cu_buf_release(&ft);
    for (size_t i = 0; i < rp.n; i++)
        free(rp.v[i].items);
    free(rp.v);
    return rc;
}
