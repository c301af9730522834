/*
 * sar.h — the subject access package (UK GDPR Art 15) and the portability
 * export (Art 20), each gathered inside ONE audited operation (action
 * "export", purpose subject_rights, act CU_ACT_EXPORT) and handed to a
 * callback that renders and delivers it before the operation ends: a
 * delivery that fails undoes the operation (and its disclosure record).
 *
 * An access package holds every item of the subject, decrypted (less the
 * items withheld), its consent records with their evidence, the disclosures
 * made, the access log (the subject's audit events) and the controller's
 * current policy. A clinician with the subject on their care list (or the
 * operator) may withhold named items under the serious-harm exemption (DPA
 * 2018 Sch 3 Part 2 para 5) with a reason: the item's field and category are
 * listed as withheld, never its value; the reasons are sealed into the
 * operation's audit event under the subject's key.
 *
 * A portability export holds only the items the subject provided (source
 * "subject") whose category, for the subject's kind, is used by a purpose of
 * the policy relying on consent (6(1)(a)) or contract (6(1)(b)). With a
 * recipient it is a transmission to another controller and is recorded as a
 * disclosure in the same operation.
 */
#ifndef CUSTOS_DOMAIN_SAR_H
#define CUSTOS_DOMAIN_SAR_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/consent.h"
#include "domain/disclosure.h"
#include "domain/policy.h"
#include "domain/subject.h"

#define CU_MAX_WITHHOLD 100
#define CU_MAX_WITHHOLD_REASON 1000

typedef struct cu_sar_withhold {
    const char *item_id;
    const char *reason;
} cu_sar_withhold;

typedef struct cu_sar_request {
    bool portable;                  /* Art 20 export instead of an Art 15 package */
    const cu_sar_withhold *withhold;/* Art 15 only */
    size_t nwithhold;
    /* Art 20 transmission: the recipient (one of the two) and the channel
     * ("file" or "https"); none: the export goes to the subject. */
    const char *recipient_id, *recipient_name, *channel;
    /* The patient portal (portal.h): the patient sees their own record, act
     * CU_ACT_PORTAL_VIEW recorded as this action ("portal.data",
     * "portal.access") instead of an export; no withholding, no recipient,
     * not portable. With log_only, only the access log is gathered (no item
     * is opened). */
    const char *portal_action;
    bool log_only;
} cu_sar_request;

/* One access-log entry: an audit event about the subject. Staff are shown by
 * role, not by name (docs/design.md). */
typedef struct cu_sar_event {
    int64_t seq, ts;
    char role[96], action[32], purpose[CU_MAX_NAME_BYTES + 1], outcome[24], via[96];
    char categories[160];
    char rule[48];                  /* the rule that refused it; "" when allowed */
    unsigned tasks_raised;          /* clinical tasks the operation raised (its detail) */
} cu_sar_event;

typedef struct cu_sar_withheld {
    char id[CU_ID_STRLEN];
    char field[CU_MAX_NAME_BYTES + 1];
    int category;
    char source[32];
    int64_t collected_at;
} cu_sar_withheld;

typedef struct cu_sar_consent {
    char id[CU_ID_STRLEN];
    char purpose[CU_MAX_NAME_BYTES + 1];
    bool given;
    char method[32];
    int64_t policy_version, at;
    cu_buf evidence;
} cu_sar_consent;

typedef struct cu_sar_disclosure {
    char id[CU_ID_STRLEN];
    char recipient_id[CU_MAX_NAME_BYTES + 1];
    cu_buf recipient_name;
    char basis;
    char purpose[CU_MAX_NAME_BYTES + 1];
    char channel[16];
    char *items, *categories;
    int64_t disclosed_at;
} cu_sar_disclosure;

typedef struct cu_sar {
    bool portable;
    char package_id[CU_ID_STRLEN];
    int64_t generated_at;
    char controller_name[CU_MAX_CONTROLLER_NAME + 1];
    const cu_policy *policy;        /* NULL: the controller has no policy */
    cu_subject_view sv;             /* the items included */
    cu_sar_withheld *withheld;
    size_t nwithheld;
    cu_sar_consent *consents;
    size_t nconsents;
    cu_sar_disclosure *disclosures;
    size_t ndisclosures;
    cu_sar_event *events;
    size_t nevents;
    size_t nexcluded;               /* portability: items held but not portable */
} cu_sar;

/* Called inside the operation with the gathered package: render and deliver
 * it; a non-zero return (with err set) undoes the operation. */
typedef int (*cu_sar_deliver)(void *ctx, const cu_sar *sar, cu_err *err);

CU_MUST_USE int cu_sar_run(cu_vault *v, const cu_actor *a, const char *subject_id,
                           const cu_sar_request *req, cu_sar_deliver deliver, void *ctx,
                           cu_err *err);

/* Whether an item of category cat, provided by source, of a subject of kind
 * is portable under pol (Art 20(1)(a)). Pure. */
bool cu_sar_portable(const cu_policy *pol, const char *kind, int cat, const char *source);

#endif
