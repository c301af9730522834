/* portal_cookies.c — the patient portal's cookie choices (portal_cookies.h). */
#include "domain/portal_cookies.h"

#include <stdlib.h>
#include <string.h>

#include "domain/consent.h"
#include "domain/op.h"
#include "domain/op_impl.h"
#include "domain/vault_impl.h"
#include "store/store_portal.h"
#include "util/clock.h"

const char *cu_pcookie_word(cu_pcookie_choice c)
{
    switch (c) {
    case CU_PCOOKIE_ACCEPTED: return "accepted";
    case CU_PCOOKIE_REJECTED: return "rejected";
    default: return NULL;
    }
}

cu_pcookie_choice cu_pcookie_parse(const char *word)
{
    if (word && strcmp(word, "accepted") == 0)
        return CU_PCOOKIE_ACCEPTED;
    if (word && strcmp(word, "rejected") == 0)
        return CU_PCOOKIE_REJECTED;
    return CU_PCOOKIE_NONE;
}

bool cu_pcookie_policy_asks(const cu_policy *p)
{
    for (size_t i = 0; p && i < p->ncookies; i++)
        if (!p->cookies[i].strictly_necessary)
            return true;
    return false;
}

bool cu_pcookie_ask(bool policy_asks, cu_pcookie_choice choice, int64_t choice_version,
                    int64_t policy_version)
{
    if (!policy_asks)
        return false;
    return choice == CU_PCOOKIE_NONE || choice_version < policy_version;
}

static void pc_mac(cu_vault *v, const cu_pck_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "portal_cookie_choices");
    cu_mac_str(m, r->id);
    cu_mac_str(m, r->controller_id);
    cu_mac_str(m, r->subject_id);
    cu_mac_bytes(m, r->visitor_hash, r->visitor_hash_len);
    cu_mac_str(m, r->choice);
    cu_mac_i64(m, r->policy_version);
    cu_mac_i64(m, r->chosen_at);
}

static void pc_sign(cu_vault *v, cu_pck_row *r)
{
    cu_mac m;
    pc_mac(v, r, &m);
    cu_mac_final(&m, r->mac);
    r->mac_len = CU_HASH_BYTES;
}

static bool pc_ok(cu_vault *v, const cu_pck_row *r)
{
    cu_mac m;
    pc_mac(v, r, &m);
    return cu_mac_check(&m, r->mac, r->mac_len) &&
           (r->visitor_hash_len == 0 || r->visitor_hash_len == CU_HASH_BYTES) &&
           cu_pcookie_parse(r->choice) != CU_PCOOKIE_NONE;
}

static bool visitor_hash(cu_vault *v, const char *visitor, unsigned char h[CU_HASH_BYTES])
{
    size_t n = visitor ? strnlen(visitor, CU_TOKEN_STRLEN) : 0;
    if (!n || !cu_token_wellformed(visitor, n, CU_PCOOKIE_PREFIX))
        return false;
    cu_token_keyed_hash(v, "portal-cookies", visitor, n, h);
    return true;
}

int cu_pcookie_get(cu_vault *v, const char *controller_id, const char *subject_id,
                   const char *visitor, cu_pcookie_state *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    cu_pck_row r;
    int rc = CU_ENOTFOUND;
    if (subject_id && *subject_id)
        rc = cu_store_pck_latest_subject(v->store, subject_id, controller_id, &r, err);
    unsigned char h[CU_HASH_BYTES];
    if (rc == CU_ENOTFOUND && visitor_hash(v, visitor, h)) {
        cu_err_clear(err);
        rc = cu_store_pck_latest_visitor(v->store, h, CU_HASH_BYTES, controller_id, &r, err);
        if (!rc && (r.visitor_hash_len != CU_HASH_BYTES ||
                    !cu_ct_equal(r.visitor_hash, h, CU_HASH_BYTES)))
            rc = CU_ENOTFOUND;
    }
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        return CU_OK;
    }
    if (rc)
        return rc;
    if (!pc_ok(v, &r) || strcmp(r.controller_id, controller_id) != 0)
        return CU_OK; /* an altered row is no choice: the banner asks again */
    out->choice = cu_pcookie_parse(r.choice);
    out->version = r.policy_version;
    out->chosen_at = r.chosen_at;
    return CU_OK;
}

static int pck_write(cu_vault *v, void *ctx, cu_err *err)
{
    return cu_store_pck_insert(v->store, ctx, err);
}

int cu_pcookie_record(cu_vault *v, const cu_portal_who *who, const char *controller_id,
                      cu_pcookie_choice choice, int64_t version, const char *via,
                      char visitor[CU_TOKEN_STRLEN], cu_err *err)
{
    const char *word = cu_pcookie_word(choice);
    if (!word)
        return cu_err_set(err, CU_EINVAL, "the choice must be accepted or rejected");
    if (!controller_id || !cu_id_valid(controller_id))
        return cu_err_set(err, CU_ENOTFOUND, "no such controller");
    if (who && strcmp(who->controller_id, controller_id) != 0)
        return cu_err_set(err, CU_EDENIED, "the choice is about another controller's cookies");
    const cu_policy *pol = NULL;
    int rc = cu_policy_current(v, controller_id, &pol, err);
    if (rc)
        return rc;
    if (!cu_pcookie_policy_asks(pol))
        return cu_err_set(err, CU_EINVAL, "the policy declares no cookie that needs a choice");
    if (pol->version != version)
        return cu_err_set(err, CU_ECONFLICT, "the policy has changed since the page was shown");
    cu_pck_row r;
    memset(&r, 0, sizeof r);
    cu_random_id(r.id);
    cu_strlcpy(r.controller_id, controller_id, sizeof r.controller_id);
    cu_strlcpy(r.choice, word, sizeof r.choice);
    r.policy_version = version;
    r.chosen_at = cu_now_us();
    if (who) {
        cu_strlcpy(r.subject_id, who->subject_id, sizeof r.subject_id);
        cu_actor a;
        cu_portal_actor(who, via, &a); /* the patient, on their own record only */
        cu_op op;
        if ((rc = cu_op_begin(v, &op, &a, CU_ACT_PORTAL_VIEW, "portal.cookies", err)))
            return rc;
        memcpy(op.controller_id, who->controller_id, CU_ID_STRLEN);
        memcpy(op.subject_id, who->subject_id, CU_ID_STRLEN);
        rc = cu_op_authorise(v, &op, err);
        if (!rc) {
            pc_sign(v, &r);
            rc = cu_store_pck_insert(v->store, &r, err);
        }
        return cu_op_end(v, &op, rc, NULL, NULL, err);
    }
    if (!visitor_hash(v, visitor, r.visitor_hash)) {
        cu_token_new(CU_PCOOKIE_PREFIX, visitor);
        cu_token_keyed_hash(v, "portal-cookies", visitor, strlen(visitor), r.visitor_hash);
    }
    r.visitor_hash_len = CU_HASH_BYTES;
    pc_sign(v, &r);
    return cu_vault_write(v, pck_write, &r, err);
}

void cu_pcookie_binding(cu_vault *v, const char *visitor, char out[CU_PCOOKIE_BINDING_LEN])
{
    unsigned char h[CU_HASH_BYTES];
    char hex[2 * CU_HASH_BYTES + 1];
    if (!visitor_hash(v, visitor, h)) {
        cu_strlcpy(out, "cookies:new", CU_PCOOKIE_BINDING_LEN);
        return;
    }
    cu_hex(h, sizeof h, hex);
    cu_strlcpy(out, "cookies:", CU_PCOOKIE_BINDING_LEN);
    cu_strlcpy(out + 8, hex, CU_PCOOKIE_BINDING_LEN - 8);
}

int cu_pcookie_forget_subject(cu_vault *v, const char *subject_id, cu_err *err)
{
    return cu_store_pck_delete_subject(v->store, subject_id, err);
}

/* ---- custos verify (integrity.h) ---- */

typedef struct pc_walk {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    struct pc_seal {
        char id[CU_ID_STRLEN];
        unsigned char mac[CU_HASH_BYTES];
    } *p;
    size_t n;
} pc_walk;

static int pc_walk_row(void *ctx, const cu_pck_row *r)
{
    pc_walk *w = ctx;
    w->rows++;
    bool id_ok = cu_id_valid(r->id);
    if (w->seal) {
        if (!id_ok)
            return CU_OK;
        cu_pck_row c = *r;
        pc_sign(w->v, &c);
        struct pc_seal *np = realloc(w->p, (w->n + 1) * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->p = np;
        memcpy(np[w->n].id, r->id, CU_ID_STRLEN);
        memcpy(np[w->n].mac, c.mac, CU_HASH_BYTES);
        w->n++;
        return CU_OK;
    }
    if (!id_ok)
        return w->report(w->rctx, "portal_cookie_choices", "(malformed id)", "forged");
    if (pc_ok(w->v, r))
        return CU_OK;
    return w->report(w->rctx, "portal_cookie_choices", r->id,
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int pc_family_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                          int64_t *rows, cu_err *err)
{
    pc_walk w = {.v = v, .seal = seal, .report = report, .rctx = rctx};
    int rc = cu_store_pck_each(v->store, pc_walk_row, &w, err);
    for (size_t i = 0; !rc && i < w.n; i++)
        rc = cu_store_pck_set_mac(v->store, w.p[i].id, w.p[i].mac, CU_HASH_BYTES, err);
    free(w.p);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the portal's cookie choices");
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_pcookie_rows = {.name = "portal cookie choices", .walk = pc_family_walk};
