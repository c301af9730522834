/*
 * policy.h — a controller's policy: the machine-readable form of its privacy
 * notice. The same parsed policy drives enforcement (cu_policy_decide), the
 * generated privacy notice and the Article 30 record of processing, so they
 * cannot drift apart. docs/policy.md documents the JSON schema in full.
 *
 * The document (JSON, one object; unknown keys are errors everywhere):
 *
 * {
 *   "format": "custos-policy/1",
 *   "controller": { "name": s, "address": s, "email": s, "phone": s?, "website": s?,
 *                   "company_number": s?, "ico_registration": s,
 *                   "public_authority": bool,
 *                   "role": "controller" | "processor" | "controller_and_processor" },
 *   "dpo": { "name": s, "address": s?, "email": s?, "phone": s? },
 *   "representative": party?,              (same shape as dpo)
 *   "joint_controllers": [party]?,
 *   "processing_on_behalf": [ {             (Art 30(2): when acting as a processor)
 *       "controller": s, "contact": s?, "activities": [s], "categories": [category id]?,
 *       "transfers": [transfer id]? } ]?,
 *   "introduction": s?,                     (opening paragraph of the notice)
 *   "categories": [ { "id": category name (model.h), "description": s,
 *                     "sources": [source name (model.h)] } ],
 *   "purposes": [ {
 *       "id": name, "description": s,
 *       "basis": "a".."f",                  (UK GDPR Art 6(1))
 *       "basis_detail": s?,                 (e.g. the law behind a legal obligation)
 *       "legitimate_interests": s?,         (required for basis "f")
 *       "special_condition": "a".."j"?,     (Art 9(2); required when a special
 *                                            category is used)
 *       "schedule1": s?,                    (DPA 2018 Sch.1 condition; required for
 *                                            special_condition b, g, h, i, j)
 *       "categories": [category id], "subject_kinds": [kind],
 *       "consent_required": bool, "required_for_service": bool,
 *       "direct_marketing": bool?, "legal_claims": bool?, "outside_public_tasks": bool?,
 *       "automated_decision": { "logic": s, "significance": s }?,
 *       "recipients": [recipient id]?, "transfers": [transfer id]?,
 *       "retention": retention id } ],
 *   "recipients": [ { "id": name, "category": s, "description": s?, "names": [s]? } ],
 *   "transfers": [ { "id": name, "recipient": recipient id, "country": s,
 *                    "safeguard": s, "description": s? } ],
 *   "processors": [ { "name": s, "service": s, "country": s?, "contact": s? } ],
 *   "retention": [ { "id": name, "description": s, "years": n?, "months": n?,
 *                    "days": n?, "trigger": "last_contact" | "conclusion_of_treatment" |
 *                    "death" | "collection" | "birthday" | "request",
 *                    "age": n?,              (for trigger "birthday")
 *                    "erase_on_request": bool, "legal_source": s? } ],
 *   "cookies": [ { "name": s, "provider": s?, "purpose": s, "duration": s,
 *                  "strictly_necessary": bool, "consent_required": bool } ],
 *   "security_measures": [s],
 *   "undertakings": [s]?,                   (promises such as "We do not sell ...")
 *   "changes": s?                           (how changes to the notice are made known)
 * }
 *
 * Validation lists every problem with its JSON path ("$.purposes[2].basis") and
 * applies nothing when any error exists. Errors include: special-category data
 * without an Art 9 condition; a consent-based purpose marked as required for
 * the service; a public authority relying on 6(1)(f) for its tasks; a transfer
 * without safeguards; a purpose using a category that is not collected;
 * references to unknown recipients, transfers or retention rules. A category
 * collected but used by no purpose is a warning (a data-minimisation finding),
 * which does not block applying the policy.
 *
 * Every policy also has one built-in purpose, "subject_rights" (answering the
 * subject's own requests under UK GDPR Articles 15-22: legal obligation, all
 * categories, all kinds), which restriction and objection do not block. Its id
 * is reserved.
 *
 * Ownership: a cu_policy owns every string it points to (they live in the
 * parsed JSON tree it keeps); free it with cu_policy_free().
 */
#ifndef CUSTOS_DOMAIN_POLICY_H
#define CUSTOS_DOMAIN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/model.h"
#include "util/err.h"

#define CU_POLICY_FORMAT "custos-policy/1"
#define CU_POLICY_MAX_BYTES ((size_t)1 << 20)
#define CU_PURPOSE_RIGHTS "subject_rights"

typedef struct cu_pol_party {
    const char *name, *address, *email, *phone, *website; /* NULL when absent */
} cu_pol_party;

typedef struct cu_pol_category {
    const char *id;          /* a cu_category name */
    cu_category category;
    const char *description;
    unsigned sources;        /* bit per source, cu_source_bit() */
} cu_pol_category;

typedef enum cu_pol_trigger {
    CU_TRIGGER_LAST_CONTACT,
    CU_TRIGGER_END_OF_TREATMENT, /* "conclusion_of_treatment" */
    CU_TRIGGER_DEATH,
    CU_TRIGGER_COLLECTION,
    CU_TRIGGER_BIRTHDAY,         /* kept until the subject's age-th birthday */
    CU_TRIGGER_REQUEST,          /* kept until the subject asks for erasure */
} cu_pol_trigger;

const char *cu_pol_trigger_name(cu_pol_trigger t);

typedef struct cu_pol_retention {
    const char *id, *description;
    int years, months, days;     /* the period after the trigger */
    cu_pol_trigger trigger;
    int age;                     /* for CU_TRIGGER_BIRTHDAY */
    bool erase_on_request;       /* an erasure request is granted at once */
    const char *legal_source;    /* NULL when absent */
} cu_pol_retention;

typedef struct cu_pol_recipient {
    const char *id, *category, *description; /* description may be NULL */
    const char **names;
    size_t nnames;
} cu_pol_recipient;

typedef struct cu_pol_transfer {
    const char *id;
    size_t recipient;            /* index into cu_policy.recipients */
    const char *country, *safeguard, *description; /* description may be NULL */
} cu_pol_transfer;

typedef struct cu_pol_processor {
    const char *name, *service, *country, *contact; /* country, contact may be NULL */
} cu_pol_processor;

typedef struct cu_pol_purpose {
    const char *id, *description;
    char basis;                  /* 'a'..'f' */
    const char *basis_detail;    /* NULL when absent */
    const char *legitimate_interests;
    char special_condition;      /* 0 or 'a'..'j' */
    const char *schedule1;       /* NULL when absent */
    unsigned categories;         /* bit per cu_category */
    unsigned kinds;              /* bit per subject kind, cu_subject_kind_bit() */
    bool consent_required, required_for_service, direct_marketing, legal_claims,
        outside_public_tasks;
    bool builtin;                /* subject_rights */
    const char *adm_logic, *adm_significance; /* automated decision-making; NULL: none */
    size_t *recipients, nrecipients;  /* indices into cu_policy.recipients */
    size_t *transfers, ntransfers;    /* indices into cu_policy.transfers */
    size_t retention;                 /* index into cu_policy.retention */
} cu_pol_purpose;

typedef struct cu_pol_cookie {
    const char *name, *provider, *purpose, *duration; /* provider may be NULL */
    bool strictly_necessary, consent_required;
} cu_pol_cookie;

typedef struct cu_pol_on_behalf {
    const char *controller, *contact; /* contact may be NULL */
    const char **activities;
    size_t nactivities;
    unsigned categories;
    size_t *transfers, ntransfers;
} cu_pol_on_behalf;

typedef enum cu_pol_role {
    CU_POL_CONTROLLER,
    CU_POL_PROCESSOR,
    CU_POL_BOTH,
} cu_pol_role;

typedef struct cu_policy {
    cu_pol_party controller;
    const char *company_number, *ico_registration;
    bool public_authority;
    cu_pol_role role;
    cu_pol_party dpo;
    cu_pol_party representative; /* name NULL when absent */
    cu_pol_party *joint_controllers;
    size_t njoint;
    cu_pol_on_behalf *on_behalf;
    size_t non_behalf;
    const char *introduction, *changes; /* NULL when absent */
    cu_pol_category *categories;
    size_t ncategories;
    unsigned collected;          /* bit per category collected */
    cu_pol_purpose *purposes;    /* as declared; the built-in one is not here */
    size_t npurposes;
    cu_pol_recipient *recipients;
    size_t nrecipients;
    cu_pol_transfer *transfers;
    size_t ntransfers;
    cu_pol_processor *processors;
    size_t nprocessors;
    cu_pol_retention *retention;
    size_t nretention;
    cu_pol_cookie *cookies;
    size_t ncookies;
    const char **security;
    size_t nsecurity;
    const char **undertakings;
    size_t nundertakings;
    /* Set when the policy was applied to a store (0 for a parsed file). */
    int64_t version;
    int64_t applied_at;          /* microseconds since the epoch */
    char digest[65];             /* hex BLAKE2b-256 of the document as applied; "" */
    void *owner;                 /* the parsed JSON tree */
} cu_policy;

/* One validation finding. */
typedef struct cu_pol_finding {
    bool error;                  /* false: a warning (data minimisation) */
    char path[128];              /* "$.purposes[2].categories[0]" */
    char rule[48];               /* stable name: "special-category-without-condition" */
    char msg[200];               /* one line of plain English */
} cu_pol_finding;

typedef struct cu_pol_report {
    cu_pol_finding *v;
    size_t n, cap;
    size_t nerrors, nwarnings;
} cu_pol_report;

void cu_pol_report_release(cu_pol_report *r);

/* Parses and validates a policy document. Every finding goes into rep (which
 * may be NULL). Returns CU_OK with *out set when there are no errors (warnings
 * allowed); CU_EINVAL with *out NULL and err naming the first error when any
 * error exists. */
CU_MUST_USE int cu_policy_parse(const void *json, size_t len, cu_policy **out,
                                cu_pol_report *rep, cu_err *err);
void cu_policy_free(cu_policy *p);

/* The purpose with this id, the built-in subject_rights included; NULL when
 * the policy has none. */
const cu_pol_purpose *cu_policy_purpose(const cu_policy *p, const char *id);
/* The built-in purpose (the same for every policy). */
const cu_pol_purpose *cu_policy_rights_purpose(void);

/* ---- enforcement: a pure decision over gathered facts ---- */

typedef struct cu_pol_facts {
    const cu_policy *policy;      /* the controller's current policy; NULL: none */
    const cu_pol_purpose *purpose;/* cu_policy_purpose(policy, name); NULL: unknown */
    bool write;                   /* creating or changing values */
    unsigned categories;          /* writes: the categories written */
    unsigned kind;                /* subject kind bit; 0 when no one subject */
    bool restricted;              /* Art 18 restriction in force */
    bool objected;                /* an objection covers this purpose (or all) */
    bool consent;                 /* a current consent for this purpose */
} cu_pol_facts;

typedef struct cu_pol_decision {
    bool allow;
    const char *rule;             /* why refused: no-policy, purpose-not-in-policy,
                                   * subject-kind-not-covered, category-not-covered,
                                   * restricted, objection, no-consent */
    unsigned categories;          /* categories the purpose covers */
} cu_pol_decision;

cu_pol_decision cu_policy_decide(const cu_pol_facts *f);

#endif
