/*
 * access.h — who may do what: the need-to-know rules, as a pure function.
 *
 * The vault's choke point (cu_op_authorise) gathers the facts — the actor's
 * roles and controller, the target's controller, whether the subject is on
 * the actor's care list or under an active break-glass grant — and asks
 * cu_access_decide. Deny by default: an action no rule allows is refused.
 *
 * Roles (DESIGN.md, issue "HTTP API"):
 *   operator    the CLI on the host: everything (not a staff role)
 *   clinician   creates subjects; reads and writes only subjects on their care
 *               list, or under break-glass (time-limited, audited, reviewed):
 *               an emergency grant allows reading the record, adding items
 *               and rectifying, nothing else (rule break-glass-not-permitted)
 *   care_admin  registers subjects and manages care lists; sees contact and
 *               identifying data only, never clinical values
 *   dpo         answers rights requests: reads and rectifies every category,
 *               reads the audit trail and access logs, reviews break-glass,
 *               records restrictions and objections, applies the policy
 *   analyst     never receives direct identifiers: clinical categories only,
 *               each subject named by a per-controller pseudonym
 *   auditor     reads the audit trail and access logs, no values at all
 *   admin       manages staff accounts, controllers and the policy, no
 *               personal data
 * Consent is recorded or withdrawn by care_admin and dpo, and by clinicians
 * for patients on their care list.
 * Rights requests are managed (verified, clocked, decided, fulfilled, read)
 * by dpo. care_admin, often the front desk where a letter or a visitor
 * arrives, may log a request as received, and nothing more: reading requests
 * back or acting on them is the DPO's.
 * Subject access packages and portability exports (export) are made by the
 * dpo, and by a clinician for a patient on their care list (who alone may
 * withhold items under the serious-harm exemption), never under break-glass.
 * Disclosures are recorded and read by the dpo and by a clinician for a
 * patient on their care list, never under break-glass.
 * Questionnaire links (asking a patient to answer a questionnaire) are made
 * by a clinician for a patient on their care list (never under break-glass),
 * by the dpo and by the admin; none of them sees an answer by it.
 * Invitations to the patient portal are made by those who may contact the
 * subject: a clinician for a patient on their care list (never under
 * break-glass), the care_admin and the dpo.
 * A patient signed in to the portal (role subject) may see their own record
 * (portal.view) and nothing else; any other subject is concealed.
 * A staff member acts only within their own controller; another controller's
 * subjects are refused as if they did not exist (conceal).
 */
#ifndef CUSTOS_DOMAIN_ACCESS_H
#define CUSTOS_DOMAIN_ACCESS_H

#include <stdbool.h>

typedef enum cu_role {
    CU_ROLE_OPERATOR = 1u << 0,
    CU_ROLE_CLINICIAN = 1u << 1,
    CU_ROLE_CARE_ADMIN = 1u << 2,
    CU_ROLE_DPO = 1u << 3,
    CU_ROLE_ANALYST = 1u << 4,
    CU_ROLE_AUDITOR = 1u << 5,
    CU_ROLE_ADMIN = 1u << 6,
    /* The patient, signed in to the portal (portal.h): never a staff role
     * (no name parses to it), only their own record. */
    CU_ROLE_SUBJECT = 1u << 7,
} cu_role;

/* "clinician" -> CU_ROLE_CLINICIAN; 0 when unknown. */
unsigned cu_role_from_name(const char *s);
/* Parses "clinician,dpo"; 0 when empty or any name is unknown. */
unsigned cu_roles_parse(const char *s);
/* Writes "clinician,dpo" for a mask. */
void cu_roles_format(unsigned roles, char *out, unsigned long outsz);
/* Whether an actor with these roles sees subjects only by pseudonym: the
 * analyst role, alone or with roles that show no subject (admin). Such an
 * actor names subjects by pseudonym only and is never shown a subject id, an
 * item id or an exact time of a record. */
bool cu_roles_pseudonymous(unsigned roles);
/* The purpose recorded when a request names none. */
const char *cu_role_default_purpose(unsigned roles);

typedef enum cu_act {
    CU_ACT_SUBJECT_CREATE,
    CU_ACT_SUBJECT_READ,
    CU_ACT_SUBJECT_UPDATE,
    CU_ACT_ITEMS_ADD,
    CU_ACT_SUBJECT_ERASE,
    CU_ACT_SEARCH,        /* exact-match search by identifier */
    CU_ACT_LIST,          /* list a controller's subjects */
    CU_ACT_ACCESS_LOG,    /* who accessed one subject */
    CU_ACT_AUDIT_READ,
    CU_ACT_AUDIT_VERIFY,
    CU_ACT_CARE_LIST,     /* add or remove a care relationship */
    CU_ACT_BREAK_GLASS,   /* request emergency access */
    CU_ACT_BREAK_GLASS_REVIEW,
    CU_ACT_ADMIN,         /* controllers, staff accounts, keys */
    CU_ACT_CONSENT,       /* record, withdraw or read a subject's consent */
    CU_ACT_RIGHTS,        /* set or lift a restriction or an objection */
    CU_ACT_POLICY,        /* apply a controller's policy */
    CU_ACT_REQUEST_RECEIVE, /* log a rights request as received */
    CU_ACT_REQUESTS,      /* verify, clock, decide, fulfil and read rights requests */
    CU_ACT_EXPORT,        /* a subject access package or a portability export */
    CU_ACT_DISCLOSE,      /* record or read a subject's disclosures to recipients */
    CU_ACT_TASK,          /* raise, acknowledge or close a clinical task of one subject */
    CU_ACT_TASK_LIST,     /* list the clinical tasks of one's controller */
    CU_ACT_QUESTIONNAIRE, /* add a questionnaire definition */
    CU_ACT_QUESTIONNAIRE_READ, /* list and read questionnaire definitions */
    CU_ACT_QUESTIONNAIRE_SEND, /* make a link asking one subject to answer a questionnaire */
    CU_ACT_PATHWAY,       /* add a follow-up pathway definition */
    CU_ACT_PATHWAY_READ,  /* list and read pathway definitions */
    CU_ACT_PATHWAY_ENROL, /* enrol one subject on a pathway (the policy governs it) */
    CU_ACT_PATHWAY_DISCHARGE, /* discharge one subject from a pathway */
    CU_ACT_PORTAL_INVITE, /* invite one subject to the patient portal */
    CU_ACT_PORTAL_VIEW,   /* the patient sees their own record on the portal */
    CU_ACT_COUNT
} cu_act;

const char *cu_act_name(cu_act a);

typedef struct cu_access_req {
    unsigned roles;
    const char *actor_controller;  /* NULL: not bound to one (operator) */
    cu_act act;
    const char *target_controller; /* NULL or "" when the target has none yet */
    bool on_care_list;
    bool break_glass;
    bool self;      /* the target subject is the actor (a patient on the portal) */
} cu_access_req;

typedef struct cu_access_decision {
    bool allow;
    bool conceal;        /* refuse as "not found" */
    bool pseudonymise;   /* name subjects by pseudonym, never by id */
    unsigned categories; /* bit per cu_category the actor may see or write */
    const char *basis;   /* why allowed: operator, role, care_list, break_glass */
    const char *rule;    /* why refused: a stable name */
} cu_access_decision;

cu_access_decision cu_access_decide(const cu_access_req *r);

/* The roles the rules allow act to, each alone, within its own controller:
 * for some subject at least (on the care list, under break-glass, their own
 * record). *cond, when not NULL, gets those among them allowed only so (for
 * no subject off the care list, without a grant, not their own). Answered
 * by the rules cu_access_decide applies, for the documentation of who may
 * call what (http/routes.h); never a decision. */
unsigned cu_access_roles(cu_act act, unsigned *cond);

#endif
