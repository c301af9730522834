/*
 * portal_cookies.h — the patient portal's cookie choices.
 *
 * A controller's policy declares the cookies its website sets (cookies[]).
 * custos itself sets only strictly necessary ones. When the policy also
 * declares a cookie that is not strictly necessary, the portal asks: a
 * banner on every portal page offers to accept or reject those cookies, and
 * the answer is recorded like a consent, never updated (a new choice is a
 * new row; the latest is in force), with the version of the policy it was
 * shown under and a row code under the integrity key.
 *
 * Who chose: a signed-in patient's subject (the choice is then one audited
 * event, portal.cookies, with the patient as actor), or a visitor not signed
 * in, known only by a random id in the __Host-custos-cookies cookie whose
 * keyed hash (domain "portal-cookies") is all that is stored.
 *
 * A policy version newer than the one the choice was made under asks again:
 * any new version, whatever changed in it (documented in docs/policy.md).
 * Erasure of a subject deletes their choices (cu_pcookie_forget_subject).
 */
#ifndef CUSTOS_DOMAIN_PORTAL_COOKIES_H
#define CUSTOS_DOMAIN_PORTAL_COOKIES_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/secrets.h"
#include "domain/integrity.h"
#include "domain/policy.h"
#include "domain/portal.h"
#include "domain/vault.h"

/* The visitor's cookie: a random id, "cuk_" and 43 characters. */
#define CU_PCOOKIE_PREFIX "cuk_"

typedef enum cu_pcookie_choice {
    CU_PCOOKIE_NONE,     /* no choice recorded */
    CU_PCOOKIE_ACCEPTED,
    CU_PCOOKIE_REJECTED,
} cu_pcookie_choice;

/* The word stored and shown for a choice ("accepted", "rejected"; NULL for
 * none), and back (CU_PCOOKIE_NONE for any other word). */
const char *cu_pcookie_word(cu_pcookie_choice c);
cu_pcookie_choice cu_pcookie_parse(const char *word);

/* True when the policy declares a cookie that is not strictly necessary:
 * the portal then shows its banner until a choice is made. */
bool cu_pcookie_policy_asks(const cu_policy *p);

/* Whether the banner is to be shown: the policy asks and there is no
 * choice, or the choice was made under an older policy version. */
bool cu_pcookie_ask(bool policy_asks, cu_pcookie_choice choice, int64_t choice_version,
                    int64_t policy_version);

/* The choice in force for controller_id: the signed-in subject's latest
 * (subject_id non-NULL), else the latest of the visitor whose cookie holds
 * visitor (may be NULL or malformed: none). A row that fails its code counts
 * as no choice. */
typedef struct cu_pcookie_state {
    cu_pcookie_choice choice;
    int64_t version;   /* the policy version it was made under */
    int64_t chosen_at; /* microseconds since the epoch */
} cu_pcookie_state;
CU_MUST_USE int cu_pcookie_get(cu_vault *v, const char *controller_id, const char *subject_id,
                               const char *visitor, cu_pcookie_state *out, cu_err *err);

/* Records a choice about controller_id's cookies under policy version
 * (which must be the controller's current one, else CU_ECONFLICT: the
 * page shown was out of date). who non-NULL: a signed-in patient (one
 * audited event, portal.cookies, via the route; who's controller must be
 * controller_id, else CU_EDENIED). Otherwise a visitor: visitor is their
 * cookie's id, or "" for a new visitor, in which case a new id is written
 * to it (the caller sets the cookie). CU_EINVAL for a choice that is
 * neither. */
CU_MUST_USE int cu_pcookie_record(cu_vault *v, const cu_portal_who *who,
                                  const char *controller_id, cu_pcookie_choice choice,
                                  int64_t version, const char *via,
                                  char visitor[CU_TOKEN_STRLEN], cu_err *err);

/* What a visitor's form token is bound to (websec.h cu_csrf_token): with
 * their cookie's id, "cookies:" and the hex keyed hash of it; without one
 * (NULL or malformed), "cookies:new", the same for every first-time
 * visitor (such a form is also refused when Sec-Fetch-Site says another
 * site sent it). */
#define CU_PCOOKIE_BINDING_LEN 80
void cu_pcookie_binding(cu_vault *v, const char *visitor, char out[CU_PCOOKIE_BINDING_LEN]);

/* Erasure: every choice of the subject, inside the caller's transaction. */
CU_MUST_USE int cu_pcookie_forget_subject(cu_vault *v, const char *subject_id, cu_err *err);

/* custos verify: the choices' row codes (integrity.c). */
extern const cu_row_family cu_pcookie_rows;

#endif
