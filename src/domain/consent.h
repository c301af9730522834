/*
 * consent.h — the policy a controller has applied, and the choices of each
 * subject that the policy engine enforces: consent records, objections
 * (Art 21), restriction (Art 18) and single-use unsubscribe links.
 *
 * Policies: applying a document that differs (in its canonical form) from the
 * current version creates a new version; applying the same one again changes
 * nothing. Purposes removed by a new version stop being usable at once, in
 * this process and in any other on the same store (cached policies are
 * dropped when another connection commits).
 *
 * Consent: an append-only history per subject and purpose; the latest record
 * decides. Each record keeps the policy version the subject saw, how consent
 * was given or withdrawn (method) and optional evidence, sealed under the
 * subject's key (erasing the subject makes it unreadable). Withdrawal is as
 * easy as giving: one call, or an unsubscribe link that needs no sign-in.
 *
 * Every operation here goes through the vault's choke point and appends one
 * audit event.
 */
#ifndef CUSTOS_DOMAIN_CONSENT_H
#define CUSTOS_DOMAIN_CONSENT_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/secrets.h"
#include "domain/policy.h"
#include "domain/vault.h"
#include "store/store.h"

/* ---- policies ---- */

/* Validates doc and, when it has no errors, records it as the controller's
 * new policy version. Findings go to rep (may be NULL). *version is the
 * current version afterwards; *changed is false when doc equals it. */
CU_MUST_USE int cu_policy_apply(cu_vault *v, const cu_actor *a, const char *controller_id,
                                const void *doc, size_t n, cu_pol_report *rep,
                                int64_t *version, bool *changed, cu_err *err);
/* One version (0: the current one) of a controller's policy, parsed; free it
 * with cu_policy_free. CU_ENOTFOUND when there is none. Policies are public
 * documents: reading one is not audited. */
CU_MUST_USE int cu_policy_load(cu_vault *v, const char *controller_id, int64_t version,
                               cu_policy **out, cu_err *err);
/* The controller's current policy from the vault's cache (parsed once per
 * version, its row checked as cu_policy_load does): read-only, valid until
 * the vault's next transaction begins; do not free. CU_ENOTFOUND when there
 * is none. For pages that only show what the policy says. */
CU_MUST_USE int cu_policy_current(cu_vault *v, const char *controller_id,
                                  const cu_policy **out, cu_err *err);
/* The canonical document of one version (0: current). */
CU_MUST_USE int cu_policy_document(cu_vault *v, const char *controller_id, int64_t version,
                                   cu_buf *out, cu_err *err);
typedef struct cu_policy_version {
    int64_t version, applied_at;
    const char *applied_by;
    char digest[65];
} cu_policy_version;
typedef int (*cu_policy_version_cb)(void *ctx, const cu_policy_version *pv);
CU_MUST_USE int cu_policy_versions(cu_vault *v, const char *controller_id,
                                   cu_policy_version_cb cb, void *ctx, cu_err *err);

/* ---- consent ---- */

/* How consent was given or withdrawn. */
bool cu_consent_method_valid(const char *s);
const char *cu_consent_method_list(void);

typedef struct cu_consent_in {
    const char *purpose;
    bool given;                 /* false: withdrawn */
    const char *method;         /* cu_consent_method_valid */
    const char *evidence;       /* free text, may be NULL; sealed */
    size_t evidence_len;
} cu_consent_in;

#define CU_MAX_EVIDENCE_BYTES 4096

typedef struct cu_consent_view cu_consent_view;
typedef int (*cu_consent_view_cb)(void *ctx, const cu_consent_view *c);

/* Records consent given or withdrawn. Giving needs a purpose of the current
 * policy that relies on consent; withdrawing is accepted for any purpose the
 * subject consented to before. When events is not NULL it is called, within
 * the same audited operation, with every record of this subject and purpose,
 * oldest first, the new one last (without evidence): what a receipt lists. */
CU_MUST_USE int cu_consent_record(cu_vault *v, const cu_actor *a, const char *subject_id,
                                  const cu_consent_in *in, char id_out[CU_ID_STRLEN],
                                  cu_consent_view_cb events, void *ctx, cu_err *err);

struct cu_consent_view {
    char id[CU_ID_STRLEN];
    char subject_id[CU_ID_STRLEN];
    char controller_id[CU_ID_STRLEN];
    char purpose[CU_MAX_NAME_BYTES + 1];
    bool given;
    char method[32];
    char recorded_by[CU_MAX_NAME_BYTES + 1];
    int64_t policy_version, at;
    cu_buf evidence;            /* decrypted; empty when none */
};

/* A subject's consent history, oldest first (an audited read). */
CU_MUST_USE int cu_consent_history(cu_vault *v, const cu_actor *a, const char *subject_id,
                                   cu_consent_view_cb cb, void *ctx, cu_err *err);

/* Views kept beyond the callback that gives them: cu_consent_keep is a
 * cu_consent_view_cb whose ctx is a list. */
typedef struct cu_consent_list {
    const char *purpose;        /* not NULL: keep only the views of this purpose */
    bool evidence;              /* keep the evidence too (else it is left empty) */
    cu_consent_view *v;
    size_t n, cap;
} cu_consent_list;
CU_MUST_USE int cu_consent_keep(void *list, const cu_consent_view *c); /* CU_ENOMEM */
void cu_consent_list_release(cu_consent_list *l);

/* ---- unsubscribe links ---- */

#define CU_UNSUBSCRIBE_PREFIX "cuu_"

/* A new single-use link token that withdraws the subject's consent to
 * purpose (a consent-based purpose of the current policy). Only its hash is
 * kept. */
CU_MUST_USE int cu_unsubscribe_link(cu_vault *v, const cu_actor *a, const char *subject_id,
                                    const char *purpose, char token_out[CU_TOKEN_STRLEN],
                                    cu_err *err);
/* What a link would withdraw, without using it: the purpose's description
 * and the controller's name (no personal data). CU_ENOTFOUND for an unknown
 * token; *used says whether it was used already. */
CU_MUST_USE int cu_unsubscribe_peek(cu_vault *v, const char *token, size_t n, cu_buf *purpose,
                                    cu_buf *controller, bool *used, cu_err *err);
/* Uses a link: records the withdrawal (method unsubscribe_link) and marks the
 * link used. CU_ENOTFOUND for an unknown or used token. */
CU_MUST_USE int cu_unsubscribe_use(cu_vault *v, const char *token, size_t n, const char *via,
                                   cu_err *err);

/* ---- restriction and objection ---- */

/* Sets (on) or lifts a restriction of processing (Art 18). */
CU_MUST_USE int cu_subject_restrict(cu_vault *v, const cu_actor *a, const char *subject_id,
                                    bool on, cu_err *err);
/* Records (on) or lifts an objection (Art 21) to one purpose of the current
 * policy, or to all processing that can be objected to ("*"). */
CU_MUST_USE int cu_subject_object(cu_vault *v, const cu_actor *a, const char *subject_id,
                                  const char *purpose, bool on, cu_err *err);
/* The subject's restriction (0: none) and objections, oldest first (an
 * audited read). */
CU_MUST_USE int cu_subject_rights(cu_vault *v, const cu_actor *a, const char *subject_id,
                                  int64_t *restricted_at, cu_objection_cb cb, void *ctx,
                                  cu_err *err);

#endif
