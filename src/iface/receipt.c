#include "iface/receipt.h"

#include <stdio.h>
#include <string.h>

#include "iface/wording.h"

void cu_jw_member(cu_jw *w, const char *key, const char *s)
{
    cu_jw_key(w, key);
    cu_jw_str(w, s);
}

void cu_jw_member_time(cu_jw *w, const char *key, int64_t us)
{
    cu_jw_key(w, key);
    cu_jw_time(w, us);
}

void cu_jw_member_buf(cu_jw *w, const char *key, const cu_buf *b)
{
    cu_jw_key(w, key);
    if (b->len)
        cu_jw_string(w, (const char *)b->data, b->len);
    else
        cu_jw_null(w);
}

void cu_jw_member_categories(cu_jw *w, const char *key, unsigned mask)
{
    cu_jw_key(w, key);
    cu_jw_begin_array(w);
    for (int i = 0; i < CU_CAT_COUNT; i++)
        if (mask & (1u << i))
            cu_jw_str(w, cu_category_name((cu_category)i));
    cu_jw_end_array(w);
}

void cu_jw_consent(cu_jw *w, const cu_consent_view *c)
{
    cu_jw_begin_object(w);
    cu_jw_member(w, "id", c->id);
    cu_jw_member(w, "purpose", c->purpose);
    cu_jw_member(w, "state", c->given ? "given" : "withdrawn");
    cu_jw_member(w, "method", c->method);
    cu_jw_member_time(w, "at", c->at);
    cu_jw_key(w, "policy_version");
    cu_jw_int(w, c->policy_version);
    cu_jw_member(w, "recorded_by", c->recorded_by);
    cu_jw_member_buf(w, "evidence", &c->evidence);
    cu_jw_end_object(w);
}

static void party(cu_jw *w, const char *key, const cu_pol_party *p)
{
    cu_jw_key(w, key);
    if (!p->name) {
        cu_jw_null(w);
        return;
    }
    cu_jw_begin_object(w);
    const char *keys[] = {"name", "address", "email", "phone", "website"};
    const char *vals[] = {p->name, p->address, p->email, p->phone, p->website};
    for (size_t i = 0; i < 5; i++)
        if (vals[i])
            cu_jw_member(w, keys[i], vals[i]);
    cu_jw_end_object(w);
}

void cu_jw_member_bases(cu_jw *w, const cu_pol_purpose *p)
{
    char ref[CU_WORDING_REF_LEN];
    cu_jw_member(w, "legal_basis", cu_wording_basis_ref(p->basis, ref));
    cu_jw_member(w, "special_category_condition",
                 p->special_condition ? cu_wording_special_ref(p->special_condition, ref) : NULL);
}

void cu_jw_consent_receipt(cu_jw *w, const cu_consent_view *c, const cu_consent_view *events,
                           size_t n, const cu_policy *p)
{
    const cu_pol_purpose *pp = p ? cu_policy_purpose(p, c->purpose) : NULL;
    cu_jw_begin_object(w);
    cu_jw_member(w, "schema", "ISO/IEC TS 27560:2023 consent receipt (custos 1)");
    /* header */
    cu_jw_member(w, "record_id", c->id);
    cu_jw_member(w, "pii_principal_id", c->subject_id);
    cu_jw_member(w, "jurisdiction", "GB: UK GDPR and the Data Protection Act 2018");
    cu_jw_key(w, "notice");
    cu_jw_begin_object(w);
    cu_jw_member(w, "controller_id", c->controller_id);
    cu_jw_key(w, "policy_version_seen");
    cu_jw_int(w, c->policy_version);
    char loc[96];
    snprintf(loc, sizeof loc, "/v1/controllers/%s/notice", c->controller_id);
    cu_jw_member(w, "location", loc);
    cu_jw_end_object(w);
    /* PII processing */
    cu_jw_key(w, "processing");
    cu_jw_begin_object(w);
    cu_jw_member(w, "purpose_id", c->purpose);
    cu_jw_member(w, "purpose", pp ? pp->description : NULL);
    if (pp) {
        cu_jw_member_bases(w, pp);
        cu_jw_member(w, "consent_type", pp->special_condition == 'a' ? "explicit" : "expressed");
        cu_jw_member_categories(w, "pii_categories", pp->categories);
        cu_jw_key(w, "recipients");
        cu_jw_begin_array(w);
        for (size_t i = 0; i < pp->nrecipients; i++)
            cu_jw_str(w, p->recipients[pp->recipients[i]].category);
        cu_jw_end_array(w);
        cu_jw_key(w, "transfers");
        cu_jw_begin_array(w);
        for (size_t i = 0; i < pp->ntransfers; i++) {
            const cu_pol_transfer *t = &p->transfers[pp->transfers[i]];
            cu_jw_begin_object(w);
            cu_jw_member(w, "country", t->country);
            cu_jw_member(w, "safeguard", t->safeguard);
            cu_jw_end_object(w);
        }
        cu_jw_end_array(w);
        cu_jw_member(w, "retention", p->retention[pp->retention].description);
        cu_jw_key(w, "automated_decision_making");
        cu_jw_bool(w, pp->adm_logic != NULL);
    }
    cu_jw_end_object(w);
    /* parties */
    cu_jw_key(w, "parties");
    cu_jw_begin_object(w);
    if (p) {
        party(w, "pii_controller", &p->controller);
        party(w, "dpo", &p->dpo);
    }
    cu_jw_end_object(w);
    /* events */
    cu_jw_member(w, "state", n && events[n - 1].given ? "given" : "withdrawn");
    cu_jw_key(w, "events");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < n; i++) {
        cu_jw_begin_object(w);
        cu_jw_member(w, "record_id", events[i].id);
        cu_jw_member(w, "type", events[i].given ? "given" : "withdrawn");
        cu_jw_member_time(w, "time", events[i].at);
        cu_jw_member(w, "method", events[i].method);
        cu_jw_key(w, "policy_version");
        cu_jw_int(w, events[i].policy_version);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);
    cu_jw_member(w, "withdrawal",
                 "You can withdraw this consent at any time, as easily as you gave it: use "
                 "the unsubscribe link in any message we send you, or contact the Data "
                 "Protection Officer. Withdrawal does not affect processing before it.");
    cu_jw_end_object(w);
}

json_t *cu_json_policy_findings(const cu_pol_report *rep)
{
    json_t *a = json_array();
    for (size_t i = 0; i < rep->n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "severity",
                                           rep->v[i].error ? "error" : "warning", "path",
                                           rep->v[i].path, "rule", rep->v[i].rule, "message",
                                           rep->v[i].msg));
    return a;
}

json_t *cu_json_policy_check(const cu_pol_report *rep)
{
    return json_pack("{s:b, s:i, s:i, s:o}", "valid", rep->nerrors == 0, "errors",
                     (int)rep->nerrors, "warnings", (int)rep->nwarnings, "findings",
                     cu_json_policy_findings(rep));
}
