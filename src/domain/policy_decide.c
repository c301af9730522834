/* policy_decide.c — the policy's hot path: purpose lookup and the decision. */
#include <string.h>

#include "domain/policy.h"

static const cu_pol_purpose rights = {
    .id = CU_PURPOSE_RIGHTS,
    .description = "Answering the requests you make under data protection law: access to "
                   "your data, rectification, erasure, restriction, objection and "
                   "portability",
    .basis = 'c',
    .basis_detail = "UK GDPR Articles 12 to 22 and the Data Protection Act 2018",
    .categories = (1u << CU_CAT_COUNT) - 1,
    .kinds = (1u << CU_KIND_COUNT) - 1,
    .legal_claims = false,
    .builtin = true,
};

const cu_pol_purpose *cu_policy_rights_purpose(void)
{
    return &rights;
}

const cu_pol_purpose *cu_policy_purpose(const cu_policy *p, const char *id)
{
    if (!id)
        return NULL;
    if (strcmp(id, CU_PURPOSE_RIGHTS) == 0)
        return &rights;
    if (!p)
        return NULL;
    for (size_t i = 0; i < p->npurposes; i++)
        if (strcmp(p->purposes[i].id, id) == 0)
            return &p->purposes[i];
    return NULL;
}

const char *cu_pol_trigger_name(cu_pol_trigger t)
{
    switch (t) {
    case CU_TRIGGER_LAST_CONTACT: return "last_contact";
    case CU_TRIGGER_END_OF_TREATMENT: return "conclusion_of_treatment";
    case CU_TRIGGER_DEATH: return "death";
    case CU_TRIGGER_COLLECTION: return "collection";
    case CU_TRIGGER_BIRTHDAY: return "birthday";
    case CU_TRIGGER_REQUEST: return "request";
    }
    return "unknown";
}

static cu_pol_decision refuse(const char *rule)
{
    return (cu_pol_decision){.allow = false, .rule = rule};
}

cu_pol_decision cu_policy_decide(const cu_pol_facts *f)
{
    const cu_pol_purpose *p = f->purpose;
    if (!p)
        return refuse(f->policy ? "purpose-not-in-policy" : "no-policy");
    if (f->kind && !(p->kinds & f->kind))
        return refuse("subject-kind-not-covered");
    if (f->write && (f->categories & ~p->categories))
        return refuse("category-not-covered");
    if (!p->builtin) {
        /* Art 18(2): while restricted, only storage, legal claims, or with consent. */
        if (f->restricted && !p->legal_claims && !f->consent)
            return refuse("restricted");
        /* Art 21: an objection stops processing on public task or legitimate
         * interests, and direct marketing absolutely (consent or not). */
        if (f->objected && (p->basis == 'e' || p->basis == 'f' || p->direct_marketing))
            return refuse("objection");
        if (p->consent_required && !f->consent)
            return refuse("no-consent");
    }
    return (cu_pol_decision){.allow = true, .categories = p->categories};
}
