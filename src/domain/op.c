/*
 * op.c — the choke point: an operation's lifecycle (op.h) and the only access
 * to a subject's data key (op_impl.h).
 */
#include "domain/op.h"

#include <stdio.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/model.h"
#include "domain/subject.h"
#include "domain/subject_rows.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

int cu_op_begin(cu_vault *v, cu_op *op, const cu_actor *a, cu_act act, const char *action,
                cu_err *err)
{
    memset(op, 0, sizeof *op);
    op->actor = a;
    op->act = act;
    op->action = action;
    if (!a || !a->name || !cu_actor_valid(a->name))
        return cu_err_set(err, CU_EDENIED, "no authenticated actor");
    /* Only registered actions, so a subject's access log always has words. */
    if (!cu_audit_action_known(action))
        return cu_err_set(err, CU_EINTERNAL, "an operation has an unregistered audit action");
    if (!a->purpose || !cu_name_valid(a->purpose))
        return cu_err_set(err, CU_EINVAL, "a purpose is required: a name of 1-64 characters "
                                          "a-z 0-9 _ . - starting with a letter");
    int rc;
    if (v->batch && v->batch_failed)
        return cu_err_set(err, CU_EIO, "an earlier operation of this batch could not be "
                                       "written; nothing of the batch is stored");
    if (!v->batch) {
        if ((rc = cu_vault_tx_begin(v, err)))
            return rc;
        op->own_tx = true;
    }
    op->saved_seq = v->head_seq;
    memcpy(op->saved_hash, v->head_hash, CU_HASH_BYTES);
    if ((rc = cu_store_savepoint(v->store, err))) {
        if (op->own_tx)
            cu_store_rollback(v->store);
        return rc;
    }
    return CU_OK;
}

static unsigned actor_roles(const cu_actor *a)
{
    return a->roles ? a->roles : (a->role ? cu_roles_parse(a->role) : 0);
}

/* How messages call op's subject: as the caller named it. */
static const char *op_subject_name(const cu_op *op)
{
    return op->named[0] ? op->named : op->subject_id;
}

int cu_op_name_subject(cu_op *op, const char *given, cu_err *err)
{
    if (cu_pseudonym_valid(given)) {
        cu_strlcpy(op->named, given, sizeof op->named);
        return CU_OK;
    }
    const cu_actor *a = op->actor;
    if (!cu_roles_pseudonymous(actor_roles(a)))
        return CU_OK;
    /* Answered alike for every id, existing or not, so that it tells nothing
     * about ids; recorded (with the id given) where the actor works. */
    if (cu_id_valid(given))
        cu_strlcpy(op->subject_id, given, sizeof op->subject_id);
    if (a->controller_id && cu_id_valid(a->controller_id))
        cu_strlcpy(op->controller_id, a->controller_id, sizeof op->controller_id);
    op->rule = "pseudonym-required";
    return cu_err_set(err, CU_EDENIED, "refused (pseudonym-required): this role names "
                                       "subjects by pseudonym (psn_...) only");
}

/* The acts that process personal data, which the controller's policy governs.
 * Erasure, audit-trail reads, care lists and administration are governed by
 * role alone (they answer rights or accountability duties, not purposes). */
static bool policy_governed(cu_act act)
{
    switch (act) {
    case CU_ACT_SUBJECT_CREATE:
    case CU_ACT_SUBJECT_READ:
    case CU_ACT_SUBJECT_UPDATE:
    case CU_ACT_ITEMS_ADD:
    case CU_ACT_SEARCH:
    case CU_ACT_LIST:
    case CU_ACT_QUESTIONNAIRE_SEND:
    case CU_ACT_PATHWAY_ENROL:
        return true;
    default:
        return false;
    }
}

/* Gathers the facts cu_policy_decide needs about one subject (rec may be
 * NULL: no one subject, e.g. a search or a subject not yet created). */
static int policy_facts(cu_vault *v, const cu_op *op, const cu_policy *pol,
                        const cu_subject_rec *rec, cu_pol_facts *f, cu_err *err)
{
    const char *purpose = op->actor->purpose;
    *f = (cu_pol_facts){
        .policy = pol,
        .purpose = cu_policy_purpose(pol, purpose),
        /* Writes and searches name their categories, which the purpose must cover. */
        .write = op->act == CU_ACT_SUBJECT_CREATE || op->act == CU_ACT_ITEMS_ADD ||
                 op->act == CU_ACT_PATHWAY_ENROL || op->act == CU_ACT_SEARCH ||
                 op->act == CU_ACT_QUESTIONNAIRE_SEND,
        .categories = op->categories,
        .kind = rec ? cu_subject_kind_bit(rec->kind) : op->kind ? cu_subject_kind_bit(op->kind)
                                                                : 0,
    };
    /* Consent, restriction and objection belong to one existing subject. A
     * subject being created for a consent-based purpose (a sign-up form) may
     * be stored before its consent is recorded; every later use needs it. A
     * listing is filtered subject by subject (cu_op_policy_allows). */
    if (!rec) {
        f->consent = true;
        return CU_OK;
    }
    if (!f->purpose || f->purpose->builtin)
        return CU_OK;
    f->restricted = rec->restricted_at != 0;
    int rc = CU_OK;
    if (rec->objecting)
        rc = cu_objection_active(v, rec, purpose, &f->objected, err);
    if (!rc && (f->purpose->consent_required || f->restricted) &&
        !(rc = cu_subject_consents_check(v, rec, err)))
        rc = cu_consent_given(v, rec->id, purpose, &f->consent, err);
    return rc;
}

static int policy_gate(cu_vault *v, cu_op *op, cu_err *err)
{
    if (!policy_governed(op->act) || !op->controller_id[0])
        return CU_OK;
    const cu_policy *pol;
    int rc = cu_vault_policy(v, op->controller_id, &pol, err);
    cu_pol_facts f;
    if (!rc)
        rc = policy_facts(v, op, pol, op->subject, &f, err);
    if (rc)
        return rc;
    cu_pol_decision d = cu_policy_decide(&f);
    /* The built-in purpose answers the subject's own requests: the DPO's (or
     * the operator's) work, and never a reason to collect new data. */
    if (d.allow && f.purpose->builtin) {
        unsigned roles = op->actor->roles ? op->actor->roles
                                          : cu_roles_parse(op->actor->role ? op->actor->role
                                                                           : "");
        if (!(roles & (CU_ROLE_DPO | CU_ROLE_OPERATOR)) || op->act == CU_ACT_SUBJECT_CREATE ||
            op->act == CU_ACT_ITEMS_ADD)
            d = (cu_pol_decision){.rule = "rights-purpose-not-permitted"};
    }
    if (d.allow) {
        op->decision.categories &= d.categories;
        if (op->act == CU_ACT_SUBJECT_READ && !op->decision.categories)
            d = (cu_pol_decision){.rule = "category-not-covered"};
    }
    if (!d.allow) {
        op->decision.allow = false;
        op->rule = d.rule;
        return cu_err_set(err, CU_EDENIED, "refused (%s): the purpose %s does not allow %s%s%s",
                          d.rule, op->actor->purpose, cu_act_name(op->act),
                          op->subject_id[0] ? " of subject " : "", op_subject_name(op));
    }
    return CU_OK;
}

int cu_op_policy_allows(cu_vault *v, const cu_op *op, const cu_subject_rec *rec, bool *allowed,
                        cu_err *err)
{
    const cu_policy *pol;
    cu_pol_facts f;
    int rc = cu_vault_policy(v, rec->controller_id, &pol, err);
    if (!rc)
        rc = policy_facts(v, op, pol, rec, &f, err);
    /* An erased subject has nothing left to process: it is listed as erased. */
    *allowed = !rc && (rec->erased_at || cu_policy_decide(&f).allow);
    return rc;
}

int cu_op_authorise(cu_vault *v, cu_op *op, cu_err *err)
{
    const cu_actor *a = op->actor;
    cu_access_req r = {
        .roles = actor_roles(a),
        .actor_controller = a->controller_id,
        .act = op->act,
        .target_controller = op->controller_id,
    };
    /* Care relationships and break-glass grants matter only to a staff member
     * acting on one subject. */
    if (a->user_id && op->subject_id[0]) {
        int rc = cu_care_on_list(v, a->user_id, op->subject_id, &r.on_care_list, err);
        if (!rc && !r.on_care_list)
            rc = cu_break_glass_in_force(v, a->user_id, op->subject_id, cu_now_us(),
                                         &r.break_glass, err);
        if (rc)
            return rc;
    }
    /* A patient on the portal acts on their own record only. */
    r.self = a->subject_id && op->subject_id[0] && strcmp(a->subject_id, op->subject_id) == 0;
    op->decision = cu_access_decide(&r);
    op->rule = op->decision.rule;
    if (!op->decision.allow) {
        if (op->decision.conceal)
            return cu_err_set(err, CU_ECONCEALED, "no %s %s", op->subject_id[0] ? "subject"
                                                                             : "controller",
                              op->subject_id[0] ? op_subject_name(op) : op->controller_id);
        return cu_err_set(err, CU_EDENIED, "refused (%s): %s may not %s", op->decision.rule,
                          a->role && cu_actor_valid(a->role) ? a->role : "(no role)",
                          cu_act_name(op->act));
    }
    /* A write may touch only the categories the actor's role may see. */
    if (op->categories & ~op->decision.categories) {
        op->decision.allow = false;
        op->rule = op->decision.rule = "category-not-permitted";
        return cu_err_set(err, CU_EDENIED, "refused (category-not-permitted): %s may not %s "
                                           "these categories",
                          a->role && cu_actor_valid(a->role) ? a->role : "(no role)",
                          cu_act_name(op->act));
    }
    int rc = policy_gate(v, op, err);
    if (rc)
        return rc;
    op->authorised = true;
    return CU_OK;
}

static const char *outcome_of(int status)
{
    switch (status) {
    case CU_OK: return "ok";
    case CU_ENOTFOUND: return "not_found";
    case CU_EERASED: return "erased";
    case CU_EDENIED:
    case CU_ECONCEALED: return "denied";
    default: return NULL;
    }
}

size_t cu_ad_audit(unsigned char out[CU_AD_MAX], const char *controller_id, size_t ncontroller,
                   const char *subject_id, size_t nsubject, int64_t seq)
{
    int n = snprintf((char *)out, CU_AD_MAX, "custos/v1/audit/%.*s/%.*s/%lld", (int)ncontroller,
                     controller_id, (int)nsubject, subject_id, (long long)seq);
    return n > 0 && n < CU_AD_MAX ? (size_t)n : CU_AD_MAX - 1;
}

/* Undoes what the op wrote since its savepoint, and the chain head it
 * moved; in a transaction of its own, the transaction too. */
static void op_undo(cu_vault *v, const cu_op *op, bool with_tx)
{
    cu_store_rollback_to(v->store);
    v->head_seq = op->saved_seq;
    memcpy(v->head_hash, op->saved_hash, CU_HASH_BYTES);
    if (with_tx && op->own_tx)
        cu_store_rollback(v->store);
}

int cu_op_end(cu_vault *v, cu_op *op, int status, const cu_key *dek, const cu_buf *payload,
              cu_err *err)
{
    /* Nothing succeeds without the access decision. */
    if (status == CU_OK && !op->authorised)
        status = cu_err_set(err, CU_EINTERNAL, "an operation skipped authorisation");
    const char *outcome = outcome_of(status);
    int rc = CU_OK;
    if (!outcome) {
        op_undo(v, op, true);
        return status;
    }
    if (status != CU_OK && !op->keep_on_refusal) {
        op_undo(v, op, false);
    } else if ((rc = cu_store_release(v->store, err))) {
        /* A write of the op that a backend sent with its release failed
         * (store.h: cu_store_release): the op is undone alone, with no
         * event, as when a write fails at its own call. */
        op_undo(v, op, true);
        return rc;
    }
    char cats[256];
    cu_category_mask_names(op->categories, cats, sizeof cats);
    cu_buf sealed;
    cu_buf_init(&sealed, 0);
    if (!rc && status == CU_OK && dek && payload && payload->len) {
        unsigned char ad[CU_AD_MAX];
        size_t adlen = cu_ad_audit(ad, op->controller_id, strlen(op->controller_id),
                                   op->subject_id, strlen(op->subject_id), v->head_seq + 1);
        rc = cu_aead_seal(dek, ad, adlen, payload->data, payload->len, &sealed);
        if (rc)
            rc = cu_err_set(err, rc, "cannot seal the audit payload");
    }
    if (!rc) {
        cu_audit_event e = {
            .actor = op->actor->name, .role = op->actor->role, .action = op->action,
            .controller = op->controller_id, .subject = op->subject_id, .categories = cats,
            .purpose = op->actor->purpose, .outcome = outcome,
            .rule = status == CU_EDENIED || status == CU_ECONCEALED
                        ? (op->rule ? op->rule : "refused")
                        : "",
            .via = op->actor->via,
            /* what the op also did, only when its change is kept */
            .detail = status == CU_OK ? op->detail : NULL,
            .payload = sealed.data, .payload_len = sealed.len,
        };
        rc = cu_audit_append(v, &e, err);
    }
    cu_buf_release(&sealed);
    if (op->own_tx) {
        if (!rc)
            rc = cu_vault_tx_commit(v, err);
        else
            cu_store_rollback(v->store);
    } else if (rc) {
        /* In a batch, a failed append poisons the batch: undo everything,
         * and let nothing after it in the batch be stored either. */
        cu_vault_batch_fail(v);
    }
    return rc ? rc : status;
}

int cu_op_note(cu_op *op, const char *action, const char *id, cu_err *err)
{
    if (!op->authorised)
        return cu_err_set(err, CU_EINTERNAL, "an operation skipped authorisation");
    if (!cu_audit_action_known(action))
        return cu_err_set(err, CU_EINTERNAL, "an operation has an unregistered audit action");
    if (!cu_id_valid(id))
        return cu_err_set(err, CU_EINTERNAL, "an operation noted a malformed id");
    size_t used = strnlen(op->detail, sizeof op->detail), alen = strlen(action),
           idlen = strlen(id);
    if (used && (used <= alen || memcmp(op->detail, action, alen) != 0 ||
                 op->detail[alen] != ' '))
        return cu_err_set(err, CU_EINTERNAL, "an operation noted two kinds of action");
    /* one action per op: its detail is that action and its ids */
    size_t add = (used ? 0 : alen) + 1 + idlen;
    if (used + add + 1 > sizeof op->detail)
        return cu_err_set(err, CU_EINTERNAL, "an operation's detail is full");
    char *p = op->detail + used;
    if (!used) {
        memcpy(p, action, alen);
        p += alen;
    }
    *p++ = ' ';
    memcpy(p, id, idlen);
    p[idlen] = '\0';
    return CU_OK;
}

/* The only place a subject's data key is unwrapped for use (the master-key
 * rotation in vault.c unwraps to rewrap, never to use). */
static int unwrap_subject_key(cu_vault *v, const char *subject_id, cu_key *dek,
                              int64_t *version, cu_err *err)
{
    unsigned char w[CU_WRAPPED_KEY_BYTES];
    size_t n = 0;
    int64_t ver = 0;
    int rc = cu_store_subject_key_get(v->store, subject_id, &ver, w, sizeof w, &n, err);
    if (rc == CU_ENOTFOUND) /* callers refuse erased subjects first: this is damage */
        return cu_err_set(err, CU_ECORRUPT, "subject %s has no data key", subject_id);
    if (rc)
        return rc;
    unsigned char ad[96];
    size_t adlen = cu_vault_dek_ad(subject_id, ver, ad);
    if (cu_key_unwrap(v->wrap, ad, adlen, w, n, dek))
        return cu_err_set(err, CU_ECORRUPT, "the data key of subject %s does not open",
                          subject_id);
    if (version)
        *version = ver;
    return CU_OK;
}

int cu_op_subject_key(cu_vault *v, const cu_op *op, const char *subject_id, cu_key *dek,
                      int64_t *version, cu_err *err)
{
    if (!op || !op->authorised)
        return cu_err_set(err, CU_EINTERNAL, "a subject's data key was asked for outside an "
                                             "authorised operation");
    return unwrap_subject_key(v, subject_id, dek, version, err);
}

int cu_op_check_subject_key(cu_vault *v, const char *subject_id, cu_key *dek, cu_err *err)
{
    if (!v->integrity_walk)
        return cu_err_set(err, CU_EINTERNAL, "a subject's data key was asked for outside an "
                                             "integrity check");
    return unwrap_subject_key(v, subject_id, dek, NULL, err);
}

/* Loads the subject, authorises the operation on it, and refuses erased
 * subjects; the common start of every operation on one subject. */
int cu_op_open_subject(cu_vault *v, cu_op *op, const char *subject_id, cu_subject_rec *rec,
                       cu_err *err)
{
    /* A pseudonym names the subject for those who may not see its id; those
     * who see subjects only by pseudonym may name them no other way. */
    char real[CU_ID_STRLEN];
    int rc = cu_op_name_subject(op, subject_id, err);
    if (rc)
        return rc;
    if ((rc = cu_subject_resolve(v, subject_id, real, err)))
        return rc;
    subject_id = real;
    /* What follows reads, at once: the key is unwrapped only once the
     * decision below allows it, and the rows are ciphertext and codes. */
    if ((rc = cu_store_subject_read_ahead(v->store, subject_id, op->actor->user_id,
                                          op->page_ahead, err)))
        return rc;
    memcpy(op->subject_id, subject_id, CU_ID_STRLEN);
    rc = cu_subject_load(v, subject_id, rec, err);
    if (rc == CU_ENOTFOUND)
        return cu_err_set(err, CU_ENOTFOUND, "no subject %s", subject_id);
    if (rc)
        return rc;
    memcpy(op->controller_id, rec->controller_id, CU_ID_STRLEN);
    op->subject = rec;
    /* Refusals name the subject as it was asked for (a concealed one as for a
     * pseudonym that names no subject). */
    if ((rc = cu_op_authorise(v, op, err)))
        return rc;
    if (rec->erased_at) {
        /* An exact time joins a pseudonym to the identified record. */
        if (op->decision.pseudonymise)
            return cu_err_set(err, CU_EERASED, "subject %s was erased", rec->pseudonym);
        char when[CU_TIME_STRLEN], again[CU_TIME_STRLEN];
        cu_time_format(rec->erased_at, when);
        /* A restored copy: the erasure was applied again to it later. */
        if (rec->updated_at > rec->erased_at) {
            cu_time_format(rec->updated_at, again);
            return cu_err_set(err, CU_EERASED,
                              "subject %s was erased at %s (applied again to the restored "
                              "copy at %s)",
                              op->named[0] ? op->named : subject_id, when, again);
        }
        return cu_err_set(err, CU_EERASED, "subject %s was erased at %s",
                          op->named[0] ? op->named : subject_id, when);
    }
    return CU_OK;
}
