#include "iface/receipt.h"

#include <stdio.h>
#include <string.h>

#include "iface/wording.h"

void cu_jw_consent(cu_jw *w, const cu_consent_view *c)
{
    cu_jw_begin_object(w);
    cu_jw_key(w, "id");
    cu_jw_str(w, c->id);
    cu_jw_key(w, "purpose");
    cu_jw_str(w, c->purpose);
    cu_jw_key(w, "state");
    cu_jw_str(w, c->given ? "given" : "withdrawn");
    cu_jw_key(w, "method");
    cu_jw_str(w, c->method);
    cu_jw_key(w, "at");
    cu_jw_time(w, c->at);
    cu_jw_key(w, "policy_version");
    cu_jw_int(w, c->policy_version);
    cu_jw_key(w, "recorded_by");
    cu_jw_str(w, c->recorded_by);
    cu_jw_key(w, "evidence");
    if (c->evidence.len)
        cu_jw_string(w, (const char *)c->evidence.data, c->evidence.len);
    else
        cu_jw_null(w);
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
        if (vals[i]) {
            cu_jw_key(w, keys[i]);
            cu_jw_str(w, vals[i]);
        }
    cu_jw_end_object(w);
}

static void basis(cu_jw *w, const cu_pol_purpose *p)
{
    char ref[CU_WORDING_REF_LEN];
    cu_jw_key(w, "legal_basis");
    cu_jw_str(w, cu_wording_basis_ref(p->basis, ref));
    cu_jw_key(w, "special_category_condition");
    cu_jw_str(w, p->special_condition ? cu_wording_special_ref(p->special_condition, ref)
                                      : NULL);
}

void cu_jw_consent_receipt(cu_jw *w, const cu_consent_view *c, const cu_consent_view *events,
                           size_t n, const cu_policy *p)
{
    const cu_pol_purpose *pp = p ? cu_policy_purpose(p, c->purpose) : NULL;
    cu_jw_begin_object(w);
    cu_jw_key(w, "schema");
    cu_jw_str(w, "ISO/IEC TS 27560:2023 consent receipt (custos 1)");
    /* header */
    cu_jw_key(w, "record_id");
    cu_jw_str(w, c->id);
    cu_jw_key(w, "pii_principal_id");
    cu_jw_str(w, c->subject_id);
    cu_jw_key(w, "jurisdiction");
    cu_jw_str(w, "GB: UK GDPR and the Data Protection Act 2018");
    cu_jw_key(w, "notice");
    cu_jw_begin_object(w);
    cu_jw_key(w, "controller_id");
    cu_jw_str(w, c->controller_id);
    cu_jw_key(w, "policy_version_seen");
    cu_jw_int(w, c->policy_version);
    cu_jw_key(w, "location");
    char loc[96];
    snprintf(loc, sizeof loc, "/v1/controllers/%s/notice", c->controller_id);
    cu_jw_str(w, loc);
    cu_jw_end_object(w);
    /* PII processing */
    cu_jw_key(w, "processing");
    cu_jw_begin_object(w);
    cu_jw_key(w, "purpose_id");
    cu_jw_str(w, c->purpose);
    cu_jw_key(w, "purpose");
    cu_jw_str(w, pp ? pp->description : NULL);
    if (pp) {
        basis(w, pp);
        cu_jw_key(w, "consent_type");
        cu_jw_str(w, pp->special_condition == 'a' ? "explicit" : "expressed");
        cu_jw_key(w, "pii_categories");
        cu_jw_begin_array(w);
        for (int i = 0; i < CU_CAT_COUNT; i++)
            if (pp->categories & (1u << i))
                cu_jw_str(w, cu_category_name((cu_category)i));
        cu_jw_end_array(w);
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
            cu_jw_key(w, "country");
            cu_jw_str(w, t->country);
            cu_jw_key(w, "safeguard");
            cu_jw_str(w, t->safeguard);
            cu_jw_end_object(w);
        }
        cu_jw_end_array(w);
        cu_jw_key(w, "retention");
        cu_jw_str(w, p->retention[pp->retention].description);
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
    cu_jw_key(w, "state");
    cu_jw_str(w, n && events[n - 1].given ? "given" : "withdrawn");
    cu_jw_key(w, "events");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < n; i++) {
        cu_jw_begin_object(w);
        cu_jw_key(w, "record_id");
        cu_jw_str(w, events[i].id);
        cu_jw_key(w, "type");
        cu_jw_str(w, events[i].given ? "given" : "withdrawn");
        cu_jw_key(w, "time");
        cu_jw_time(w, events[i].at);
        cu_jw_key(w, "method");
        cu_jw_str(w, events[i].method);
        cu_jw_key(w, "policy_version");
        cu_jw_int(w, events[i].policy_version);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);
    cu_jw_key(w, "withdrawal");
    cu_jw_str(w, "You can withdraw this consent at any time, as easily as you gave it: use the "
                 "unsubscribe link in any message we send you, or contact the Data Protection "
                 "Officer. Withdrawal does not affect processing before it.");
    cu_jw_end_object(w);
}
