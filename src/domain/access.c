#include "domain/access.h"

#include <stdio.h>
#include <string.h>

#include "domain/model.h"

static const struct {
    const char *name;
    unsigned bit;
    const char *purpose;
} roles[] = {
    {"operator", CU_ROLE_OPERATOR, "administration"},
    {"clinician", CU_ROLE_CLINICIAN, "direct_care"},
    {"care_admin", CU_ROLE_CARE_ADMIN, "direct_care"},
    {"dpo", CU_ROLE_DPO, "subject_rights"},
    {"analyst", CU_ROLE_ANALYST, "reporting"},
    {"auditor", CU_ROLE_AUDITOR, "audit"},
    {"admin", CU_ROLE_ADMIN, "administration"},
};
#define NROLES (sizeof roles / sizeof roles[0])

unsigned cu_role_from_name(const char *s)
{
    for (size_t i = 0; i < NROLES; i++)
        if (strcmp(s, roles[i].name) == 0)
            return roles[i].bit;
    return 0;
}

unsigned cu_roles_parse(const char *s)
{
    unsigned mask = 0;
    char name[32];
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= sizeof name)
            return 0;
        memcpy(name, s, n);
        name[n] = '\0';
        unsigned bit = cu_role_from_name(name);
        if (!bit)
            return 0;
        mask |= bit;
        s += n;
        if (*s == ',' && *++s == '\0')
            return 0;
    }
    return mask;
}

void cu_roles_format(unsigned mask, char *out, unsigned long outsz)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NROLES; i++) {
        if (!(mask & roles[i].bit))
            continue;
        int n = snprintf(out + used, outsz - used, "%s%s", used ? "," : "", roles[i].name);
        if (n < 0 || (size_t)n >= outsz - used)
            break;
        used += (size_t)n;
    }
}

bool cu_roles_pseudonymous(unsigned mask)
{
    /* Every other role but admin sees subject ids somewhere (views, searches,
     * the audit trail); admin sees no subject at all. */
    const unsigned identified = CU_ROLE_OPERATOR | CU_ROLE_CLINICIAN | CU_ROLE_CARE_ADMIN |
                                CU_ROLE_DPO | CU_ROLE_AUDITOR;
    return (mask & CU_ROLE_ANALYST) && !(mask & identified);
}

const char *cu_role_default_purpose(unsigned mask)
{
    for (size_t i = 0; i < NROLES; i++)
        if (mask & roles[i].bit)
            return roles[i].purpose;
    return "unspecified";
}

const char *cu_act_name(cu_act a)
{
    static const char *const names[CU_ACT_COUNT] = {
        [CU_ACT_SUBJECT_CREATE] = "subject.create",
        [CU_ACT_SUBJECT_READ] = "subject.read",
        [CU_ACT_SUBJECT_UPDATE] = "subject.update",
        [CU_ACT_ITEMS_ADD] = "items.add",
        [CU_ACT_SUBJECT_ERASE] = "subject.erase",
        [CU_ACT_SEARCH] = "subject.search",
        [CU_ACT_LIST] = "subject.list",
        [CU_ACT_ACCESS_LOG] = "subject.access_log",
        [CU_ACT_AUDIT_READ] = "audit.read",
        [CU_ACT_AUDIT_VERIFY] = "audit.verify",
        [CU_ACT_CARE_LIST] = "care_list.change",
        [CU_ACT_BREAK_GLASS] = "break_glass.request",
        [CU_ACT_BREAK_GLASS_REVIEW] = "break_glass.review",
        [CU_ACT_ADMIN] = "admin",
        [CU_ACT_CONSENT] = "consent.change",
        [CU_ACT_RIGHTS] = "rights.change",
        [CU_ACT_POLICY] = "policy.apply",
        [CU_ACT_REQUEST_RECEIVE] = "request.receive",
        [CU_ACT_REQUESTS] = "request.manage",
        [CU_ACT_EXPORT] = "subject.export",
        [CU_ACT_DISCLOSE] = "subject.disclose",
        [CU_ACT_TASK] = "task.change",
        [CU_ACT_TASK_LIST] = "task.list",
        [CU_ACT_QUESTIONNAIRE] = "questionnaire.add",
        [CU_ACT_QUESTIONNAIRE_READ] = "questionnaire.read",
        [CU_ACT_QUESTIONNAIRE_SEND] = "questionnaire.send",
        [CU_ACT_PATHWAY] = "pathway.add",
        [CU_ACT_PATHWAY_READ] = "pathway.read",
        [CU_ACT_PATHWAY_ENROL] = "pathway.enrol",
        [CU_ACT_PATHWAY_DISCHARGE] = "pathway.discharge",
        [CU_ACT_PORTAL_INVITE] = "portal.invite",
        [CU_ACT_PORTAL_VIEW] = "portal.view",
    };
    return (unsigned)a < CU_ACT_COUNT ? names[a] : "unknown";
}

#define ALL_CATEGORIES ((1u << CU_CAT_COUNT) - 1)
#define DEMOGRAPHIC ((1u << CU_CAT_CONTACT) | (1u << CU_CAT_IDENTIFYING))
/* What an analyst may see: never direct identifiers or online identifiers. */
#define CLINICAL                                                                            \
    ((1u << CU_CAT_HEALTH) | (1u << CU_CAT_GENETIC) | (1u << CU_CAT_SPECIAL) |              \
     (1u << CU_CAT_FAMILY) | (1u << CU_CAT_WORK_EDU_FIN))

/* One role's answer; deny unless a rule below allows. */
static cu_access_decision decide_role(unsigned role, const cu_access_req *r)
{
    cu_access_decision d = {.rule = "role-not-permitted"};
    bool care = r->on_care_list || r->break_glass;
    const char *care_basis = r->on_care_list ? "care_list" : "break_glass";
    switch (role) {
    case CU_ROLE_OPERATOR:
        d = (cu_access_decision){.allow = true, .categories = ALL_CATEGORIES,
                                 .basis = "operator"};
        break;
    case CU_ROLE_CLINICIAN:
        switch (r->act) {
        case CU_ACT_SUBJECT_CREATE:
        case CU_ACT_SEARCH:
        case CU_ACT_BREAK_GLASS:
        /* The task list: filtered to the clinician's care list (tasks.c). */
        case CU_ACT_TASK_LIST:
            d = (cu_access_decision){.allow = true, .categories = ALL_CATEGORIES,
                                     .basis = "role"};
            break;
        case CU_ACT_QUESTIONNAIRE_READ:
        case CU_ACT_PATHWAY_READ:
            d = (cu_access_decision){.allow = true, .categories = 0, .basis = "role"};
            break;
        /* Care: reading and recording it, on the care list or under
         * break-glass (an emergency needs the record and must be able to
         * write down what was done, or correct what is wrong). */
        case CU_ACT_SUBJECT_READ:
        case CU_ACT_SUBJECT_UPDATE:
        case CU_ACT_ITEMS_ADD:
            if (care)
                d = (cu_access_decision){.allow = true, .categories = ALL_CATEGORIES,
                                         .basis = care_basis};
            else
                d.rule = "not-on-care-list";
            break;
        /* Everything else about a patient is for their care team only: an
         * emergency grant never exports, discloses, records consent or reads
         * the access log. */
        case CU_ACT_ACCESS_LOG:
        case CU_ACT_CONSENT:
        case CU_ACT_EXPORT:
        case CU_ACT_DISCLOSE:
        case CU_ACT_TASK:
        case CU_ACT_QUESTIONNAIRE_SEND:
        case CU_ACT_PATHWAY_ENROL:
        case CU_ACT_PATHWAY_DISCHARGE:
        case CU_ACT_PORTAL_INVITE:
            if (r->on_care_list)
                d = (cu_access_decision){.allow = true, .categories = ALL_CATEGORIES,
                                         .basis = "care_list"};
            else
                d.rule = r->break_glass ? "break-glass-not-permitted" : "not-on-care-list";
            break;
        default:
            break;
        }
        break;
    case CU_ROLE_CARE_ADMIN:
        switch (r->act) {
        case CU_ACT_SUBJECT_CREATE:
        case CU_ACT_SUBJECT_READ:
        case CU_ACT_SUBJECT_UPDATE:
        case CU_ACT_ITEMS_ADD:
        case CU_ACT_SEARCH:
        case CU_ACT_LIST:
        case CU_ACT_CARE_LIST:
        case CU_ACT_CONSENT:
        case CU_ACT_REQUEST_RECEIVE:
        case CU_ACT_PORTAL_INVITE:
            d = (cu_access_decision){.allow = true, .categories = DEMOGRAPHIC,
                                     .basis = "role"};
            break;
        case CU_ACT_QUESTIONNAIRE_READ:
        case CU_ACT_PATHWAY_READ:
            d = (cu_access_decision){.allow = true, .categories = 0, .basis = "role"};
            break;
        default:
            break;
        }
        break;
    case CU_ROLE_DPO:
        switch (r->act) {
        case CU_ACT_SUBJECT_READ:
        case CU_ACT_SUBJECT_UPDATE:
        case CU_ACT_SUBJECT_ERASE:
        case CU_ACT_SEARCH:
        case CU_ACT_LIST:
        case CU_ACT_ACCESS_LOG:
        case CU_ACT_AUDIT_READ:
        case CU_ACT_AUDIT_VERIFY:
        case CU_ACT_BREAK_GLASS_REVIEW:
        case CU_ACT_CONSENT:
        case CU_ACT_RIGHTS:
        case CU_ACT_POLICY:
        case CU_ACT_REQUEST_RECEIVE:
        case CU_ACT_REQUESTS:
        case CU_ACT_EXPORT:
        case CU_ACT_DISCLOSE:
        case CU_ACT_PORTAL_INVITE:
            d = (cu_access_decision){.allow = true, .categories = ALL_CATEGORIES,
                                     .basis = "role"};
            break;
        case CU_ACT_QUESTIONNAIRE:
        case CU_ACT_QUESTIONNAIRE_READ:
        case CU_ACT_PATHWAY:
        case CU_ACT_PATHWAY_READ:
            d = (cu_access_decision){.allow = true, .categories = 0, .basis = "role"};
            break;
        /* A link asks for health data; sending it shows none. */
        case CU_ACT_QUESTIONNAIRE_SEND:
            d = (cu_access_decision){.allow = true, .categories = 1u << CU_CAT_HEALTH,
                                     .basis = "role"};
            break;
        default:
            break;
        }
        break;
    case CU_ROLE_ANALYST:
        if (r->act == CU_ACT_SUBJECT_READ || r->act == CU_ACT_LIST)
            d = (cu_access_decision){.allow = true, .pseudonymise = true,
                                     .categories = CLINICAL, .basis = "role"};
        else if (r->act == CU_ACT_QUESTIONNAIRE_READ || r->act == CU_ACT_PATHWAY_READ)
            d = (cu_access_decision){.allow = true, .categories = 0, .basis = "role"};
        break;
    case CU_ROLE_AUDITOR:
        switch (r->act) {
        case CU_ACT_ACCESS_LOG:
        case CU_ACT_AUDIT_READ:
        case CU_ACT_AUDIT_VERIFY:
        case CU_ACT_BREAK_GLASS_REVIEW:
        case CU_ACT_QUESTIONNAIRE_READ:
        case CU_ACT_PATHWAY_READ:
            d = (cu_access_decision){.allow = true, .categories = 0, .basis = "role"};
            break;
        default:
            break;
        }
        break;
    case CU_ROLE_ADMIN:
        if (r->act == CU_ACT_ADMIN || r->act == CU_ACT_AUDIT_VERIFY || r->act == CU_ACT_POLICY ||
            r->act == CU_ACT_QUESTIONNAIRE || r->act == CU_ACT_QUESTIONNAIRE_READ ||
            r->act == CU_ACT_PATHWAY || r->act == CU_ACT_PATHWAY_READ)
            d = (cu_access_decision){.allow = true, .categories = 0, .basis = "role"};
        else if (r->act == CU_ACT_QUESTIONNAIRE_SEND)
            d = (cu_access_decision){.allow = true, .categories = 1u << CU_CAT_HEALTH,
                                     .basis = "role"};
        break;
    case CU_ROLE_SUBJECT:
        /* Their own record, all of it; another's does not exist for them. */
        /* Seeing it, giving or withdrawing consent, making a rights request. */
        if (r->act != CU_ACT_PORTAL_VIEW && r->act != CU_ACT_CONSENT &&
            r->act != CU_ACT_REQUEST_RECEIVE)
            break;
        if (r->self)
            d = (cu_access_decision){.allow = true, .categories = ALL_CATEGORIES,
                                     .basis = "self"};
        else
            d = (cu_access_decision){.conceal = true, .rule = "not-own-record"};
        break;
    }
    return d;
}

cu_access_decision cu_access_decide(const cu_access_req *r)
{
    cu_access_decision out = {.rule = "no-role"};
    if (!r->roles)
        return out;
    bool staff = !(r->roles & CU_ROLE_OPERATOR);
    if (staff && (!r->actor_controller || !*r->actor_controller))
        return (cu_access_decision){.rule = "no-controller"};
    if (staff && r->target_controller && *r->target_controller &&
        strcmp(r->actor_controller, r->target_controller) != 0)
        return (cu_access_decision){.conceal = true, .rule = "other-controller"};
    bool any = false, all_pseudo = true;
    for (unsigned bit = 1; bit <= CU_ROLE_SUBJECT; bit <<= 1) {
        if (!(r->roles & bit))
            continue;
        cu_access_decision d = decide_role(bit, r);
        if (!d.allow) {
            if (!any) {
                out.rule = d.rule;
                out.conceal = out.conceal || d.conceal;
            }
            continue;
        }
        if (!any) {
            out = d;
            any = true;
        } else {
            out.categories |= d.categories;
        }
        all_pseudo = all_pseudo && d.pseudonymise;
    }
    if (any) {
        out.pseudonymise = all_pseudo;
        out.rule = NULL;
    }
    return out;
}

unsigned cu_access_roles(cu_act act, unsigned *cond)
{
    unsigned some = 0, always = 0;
    for (unsigned bit = 1; bit <= CU_ROLE_SUBJECT; bit <<= 1) {
        /* the most a subject can give: on the care list, a grant, their own */
        cu_access_req best = {.roles = bit, .act = act, .on_care_list = true,
                              .break_glass = true, .self = true};
        cu_access_req none = {.roles = bit, .act = act};
        if (decide_role(bit, &best).allow)
            some |= bit;
        if (decide_role(bit, &none).allow)
            always |= bit;
    }
    if (cond)
        *cond = some & ~always;
    return some;
}
