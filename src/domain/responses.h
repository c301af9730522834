/*
 * responses.h — questionnaire links and responses (docs/questionnaires.md,
 * "Links and responses").
 *
 * A link asks one subject to answer one stored questionnaire (its version
 * pinned when the link is made) for one purpose of the controller's policy.
 * Its token ("cuq_" and 43 base64url characters, 32 random bytes) is shown
 * once; only a keyed hash is stored, with a row code under the integrity key
 * (a link altered in the database is refused, CU_ETAMPER, and named by
 * `custos verify`). A link is used once, and not after it expires (14 days
 * by default, at most 90).
 *
 * A response is scored with cu_questionnaire_score against the stored
 * questionnaire and stored as ONE health item of the subject (field
 * "questionnaire_response"; source "subject" through a link, "staff" when a
 * staff member enters it), sealed under the subject's key like every item:
 * a canonical FHIR R4 QuestionnaireResponse (compact JSON, sorted keys)
 * whose extension urn:custos:questionnaire:result carries custos's computed
 * completeness, total, band and flags, and whether a total the submitter
 * gave disagreed. An incomplete response is stored as in-progress, with no
 * total (never prorated). Every flag raises a clinical task (tasks.h) in the
 * same transaction: PHQ-9's item-9 rule (phq9-item9) raises phq9_item9
 * (urgent), any other urgent flag answer_urgent, a review flag on a total
 * score_review and any other review flag psfu_out_of_range, the task's sealed
 * detail naming the questionnaire and the rule.
 *
 * Operations and events: questionnaire.send (issue), questionnaire.submit
 * (through a link; actor "questionnaire-link", role "subject"),
 * questionnaire.enter (staff), questionnaire.responses (list): one event
 * per submission, whose detail ("task.raise ID ...") names the tasks it
 * raised. Peeking at a link is not an operation on
 * personal data: it returns only the questionnaire and the link's state.
 */
#ifndef CUSTOS_DOMAIN_RESPONSES_H
#define CUSTOS_DOMAIN_RESPONSES_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/secrets.h"
#include "domain/model.h"
#include "domain/outcomes.h"
#include "domain/questionnaire.h"
#include "domain/subject.h"
#include "domain/vault.h"

#define CU_QLINK_PREFIX "cuq_"
#define CU_QLINK_DAYS_DEFAULT 14
#define CU_QLINK_DAYS_MAX 90
/* The field of the item that holds a response. */
#define CU_RESPONSE_FIELD "questionnaire_response"
#define CU_Q_EXT_RESULT CU_Q_NS "result"

/* RETIRED: the subject was erased; the link is no longer valid. */
typedef enum cu_qlink_state {
    CU_QLINK_OPEN,
    CU_QLINK_USED,
    CU_QLINK_EXPIRED,
    CU_QLINK_RETIRED,
} cu_qlink_state;

/* What a link may tell anyone holding it: never which subject. */
typedef struct cu_qlink_info {
    char url[CU_Q_MAX_URL + 1];
    char version[65];
    char purpose[65];
    char controller_name[128]; /* the controller's name in its policy ("" when none) */
    int64_t issued_at, expires_at, used_at;
    cu_qlink_state state;
} cu_qlink_info;

/* Makes a link (action questionnaire.send) asking subject_id to answer the
 * stored questionnaire url, version (NULL: the one added last), for
 * purpose: a purpose of the controller's policy covering health data, for
 * which the subject is not restricted or objecting (the purpose is the
 * operation's, checked like every processing). days 0: 14; at most 90.
 * Clinicians with the subject on their care list, the dpo and the admin.
 * token_out receives the token (shown once); out (may be NULL) what the link
 * says. */
CU_MUST_USE int cu_qlink_issue(cu_vault *v, const cu_actor *a, const char *subject_id,
                               const char *url, const char *version, const char *purpose,
                               int days, char token_out[CU_TOKEN_STRLEN], cu_qlink_info *out,
                               cu_err *err);

/* For rendering the form, with no sign-in: the link's state in out and,
 * when it is open, the questionnaire parsed in *q (free it with
 * cu_questionnaire_free). CU_ENOTFOUND for an unknown, malformed or forged
 * token ("no such questionnaire link"); CU_ECONFLICT for a used link ("this
 * questionnaire link has been used already") and CU_EDENIED for an expired
 * one ("this questionnaire link has expired"), and for a link of an erased
 * subject ("this questionnaire link is no longer valid", state RETIRED),
 * out filled and *q NULL; CU_ETAMPER for an altered link. Nothing is
 * recorded. */
CU_MUST_USE int cu_qlink_peek(cu_vault *v, const char *token, size_t n, cu_qlink_info *out,
                              cu_questionnaire **q, cu_err *err);

/* The result of storing one response. */
typedef struct cu_response_result {
    char id[CU_ID_STRLEN];       /* the item that holds it */
    bool complete;
    char missing[CU_Q_MAX_LINKID + 1]; /* the first required item unanswered */
    bool has_total;
    int64_t total;
    char band[CU_Q_MAX_SHORT + 1]; /* the band's code, "" without a total */
    size_t nflags;
    struct cu_response_flag {
        char rule[CU_Q_MAX_SHORT + 1];
        char level[8];           /* urgent | review */
        char task[CU_ID_STRLEN]; /* the task it raised */
    } flags[CU_Q_MAX_RULES];
    bool total_disagrees;
} cu_response_result;

/* Stores the answers given through a link (action questionnaire.submit), in
 * one transaction: the link checked (known, unaltered, unused, unexpired;
 * errors as cu_qlink_peek), the subject not erased (CU_EERASED), restricted
 * or objecting to the link's purpose (CU_EDENIED, recorded); the answers
 * scored (CU_EINVAL naming the linkId: nothing stored, the link still
 * usable); the response stored, the link used, a task raised per flag.
 * submitted_total (may be NULL) is only compared. A second submit is
 * CU_ECONFLICT and stores nothing. */
CU_MUST_USE int cu_qlink_submit(cu_vault *v, const char *token, size_t n, const cu_q_answer *a,
                                size_t na, const int64_t *submitted_total,
                                cu_response_result *out, cu_err *err);
/* The same, with peeked the questionnaire cu_qlink_peek returned for this
 * token (the form's answers were read against it): used as it is when the
 * link names its url and version, else loaded again. seen (may be NULL) is
 * what that peek said about the link: then the link's row is read only
 * once, inside the operation that marks it used, and must still name the
 * same questionnaire, version and purpose (else CU_ECONFLICT, nothing
 * stored); without it the row is also read before the operation. */
CU_MUST_USE int cu_qlink_submit_peeked(cu_vault *v, const char *token, size_t n,
                                       cu_questionnaire *peeked, const cu_qlink_info *seen,
                                       const cu_q_answer *a, size_t na,
                                       const int64_t *submitted_total,
                                       cu_response_result *out, cu_err *err);

/* The patient portal (portal.h) reaches a link by its row id, not its
 * token: the portal's session is the authority. The link must be one of
 * subject_id's (the signed-in patient's): another subject's link is
 * CU_ENOTFOUND, like an unknown id. Otherwise as cu_qlink_peek. */
CU_MUST_USE int cu_qlink_peek_own(cu_vault *v, const char *subject_id, const char *link_id,
                                  cu_qlink_info *out, cu_questionnaire **q, cu_err *err);
/* As cu_qlink_submit_peeked for the link cu_qlink_peek_own reached: one
 * event, questionnaire.submit, whose actor is actor (the portal's
 * "portal:NAME") acting through the link, via via; the response is recorded
 * by actor. The link's ownership is checked again inside the operation. */
CU_MUST_USE int cu_qlink_submit_own(cu_vault *v, const char *subject_id, const char *link_id,
                                    const char *actor, const char *via,
                                    cu_questionnaire *peeked, const cu_qlink_info *seen,
                                    const cu_q_answer *a, size_t na, cu_response_result *out,
                                    cu_err *err);

/* One open link (issued, not used, not expired, not retired), for the
 * callback only. */
typedef struct cu_qlink_open {
    char id[CU_ID_STRLEN];
    const char *title; /* the questionnaire's title (or name) */
    int64_t issued_at, expires_at;
} cu_qlink_open;
typedef int (*cu_qlink_open_cb)(void *ctx, const cu_qlink_open *l, cu_err *err);
/* The open links of subject_id, oldest first, inside one audited operation
 * recorded as action (act CU_ACT_PORTAL_VIEW: a patient on the portal, their
 * own subject only; another's is CU_ECONCEALED). A non-zero return of cb
 * undoes the operation. */
CU_MUST_USE int cu_qlink_open_list(cu_vault *v, const cu_actor *a, const char *subject_id,
                                   const char *action, cu_qlink_open_cb cb, void *ctx,
                                   cu_err *err);

/* A staff member enters answers on the subject's behalf (action
 * questionnaire.enter, an items.add for the access rules: a clinician with
 * the subject on their care list or under break-glass), under purpose (NULL:
 * the actor's), stored, scored and raising tasks as cu_qlink_submit, source
 * "staff", recorded by the staff member. version NULL: the one added last. */
CU_MUST_USE int cu_response_enter(cu_vault *v, const cu_actor *a, const char *subject_id,
                                  const char *url, const char *version, const char *purpose,
                                  const cu_q_answer *ans, size_t na,
                                  const int64_t *submitted_total, cu_response_result *out,
                                  cu_err *err);

/* One stored response, decoded. */
typedef struct cu_response_view {
    char id[CU_ID_STRLEN];
    char url[CU_Q_MAX_URL + 1];
    char version[65];
    int64_t authored;          /* when custos stored it */
    char via[16];              /* subject (a link) | staff */
    char recorded_by[65];
    bool complete;
    bool has_total;
    int64_t total;
    char band[CU_Q_MAX_SHORT + 1];
    size_t nflags;
    struct cu_response_view_flag {
        char rule[CU_Q_MAX_SHORT + 1];
        char level[8];
    } flags[CU_Q_MAX_RULES];
    bool total_disagrees;
    const char *document;      /* the stored QuestionnaireResponse (for the callback only) */
    size_t document_len;
} cu_response_view;
typedef int (*cu_response_cb)(void *ctx, const cu_response_view *r);

/* The summary of a stored QuestionnaireResponse doc (len bytes, as
 * response_doc writes it) into rv: url, version, complete, has_total,
 * total, band, flags, total_disagrees; rv's other fields are left as they
 * are. Read in one pass without a document tree; what that pass does not
 * read exactly (an escape it would have to decode, a number past an int64,
 * a document that is not valid JSON) is read with jansson instead, so the
 * summary is always the one cu_response_decode_full gives. */
void cu_response_decode(const char *doc, size_t len, cu_response_view *rv);
/* The same through jansson's document tree: the reference. */
void cu_response_decode_full(const char *doc, size_t len, cu_response_view *rv);

/* The subject's responses, oldest first (action questionnaire.responses, a
 * read of health data: a clinician with the subject on their care list or
 * under break-glass, the dpo, the operator; refused to roles that do not
 * see health data or see subjects by pseudonym only). */
CU_MUST_USE int cu_response_list(cu_vault *v, const cu_actor *a, const char *subject_id,
                                 cu_response_cb cb, void *ctx, cu_err *err);

/* The responses among the items of a subject view already read through the
 * choke point (cu_subject_get_page: that read's audit event covers them),
 * oldest first: no store access and no audit event of its own. Only the
 * items the view holds (one page of the subject's items); none for a
 * pseudonymised view. */
CU_MUST_USE int cu_response_views(const cu_subject_view *sv, cu_response_cb cb, void *ctx,
                                  cu_err *err);

/* The shipped questionnaires whose totals the outcome measures use. */
#define CU_RESPONSE_PHQ9 "urn:custos:questionnaire:phq-9"
#define CU_RESPONSE_GAD7 "urn:custos:questionnaire:gad-7"

/* The outcome of an episode of care (outcomes.h) from the subject's stored
 * responses: the first and last complete PHQ-9 and GAD-7 totals authored at
 * or after since (0: every response), whatever version of the
 * questionnaire. custos holds no appointments, so the attended treatment
 * sessions and whether the episode has ended are given by the clinician.
 * One audited read (questionnaire.responses, as cu_response_list). scores
 * receives what was found. */
CU_MUST_USE int cu_response_outcome(cu_vault *v, const cu_actor *a, const char *subject_id,
                                    int64_t since, unsigned sessions, bool ended,
                                    cu_episode_scores *scores, cu_outcome *out, cu_err *err);

/* For an erasure of the whole subject, inside its operation and transaction
 * (no operation of its own): every link of subject_id not used yet is
 * retired (marked used at at with no response), so it answers "no longer
 * valid". *retired counts them (may be NULL). CU_ETAMPER for an altered
 * link. */
CU_MUST_USE int cu_qlink_retire_subject(cu_vault *v, const char *subject_id, int64_t at,
                                        int *retired, cu_err *err);

#endif
