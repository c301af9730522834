/*
 * requests.h — data-subject rights requests (UK GDPR Arts 15-22) and their
 * statutory clocks (DESIGN.md "Subject access (ICO)"; deadline.h).
 *
 * A request is received by staff (kind, channel, date of receipt: a date,
 * which may be in the past), verified (linked to the subject whose identity
 * was established; the subject may be unknown at receipt), clocked, decided
 * and closed. Every change of state is one transition of the table below,
 * made through the vault's choke point: one audited operation, one audit
 * event, one row of the request's history with who, when and why. The "why"
 * (and the details given at receipt) may name people: it is sealed, under the
 * subject's key once the request is linked (earlier notes are resealed then,
 * so erasing the subject shreds them too), before that (and after the
 * subject's erasure, so that the answer to an erasure request can still be
 * recorded) under the store's requests key. Audit events carry no free text.
 *
 * States and transitions (cu_rq_next; "open" = every state but the last
 * three):
 *
 *   from \ via              ask_identity       verify       clarify                 resume       extend    fulfil     refuse   withdraw
 *   received                awaiting_identity  in_progress  awaiting_clarification  -            -         -          refused  withdrawn
 *   awaiting_identity       -                  in_progress  -                       -            -         -          refused  withdrawn
 *   awaiting_clarification  -                  -            -                       (prior)      -         -          refused  withdrawn
 *   in_progress             -                  -            awaiting_clarification  -            extended  fulfilled  refused  withdrawn
 *   extended                -                  -            awaiting_clarification  -            -         fulfilled  refused  withdrawn
 *   fulfilled, refused, withdrawn: final, nothing leaves them.
 *
 * "resume" returns to the state clarification was asked from (received,
 * in_progress or extended).
 *
 * The clock (cu_deadline_compute on the calendar in force):
 *   - starts on the day of receipt, or on the day requested identity evidence
 *     arrived (verify from awaiting_identity) if later; while identity is
 *     awaited the clock has not started and the dates shown assume the
 *     evidence arrives today;
 *   - stands still from clarify to resume (each pause recorded);
 *   - extend needs a reason and the date the subject was told, which must be
 *     no later than the end of the first month (cu_extension_notice_by);
 *     otherwise it is refused; the deadline becomes three months from the
 *     start;
 *   - refuse needs grounds (manifestly_unfounded, manifestly_excessive,
 *     exemption, identity_not_verified), reasons, and confirmation that the
 *     reply told the subject of their right to complain to the ICO and to
 *     seek a judicial remedy (CU_RQ_ICO_ROUTE: the statement is recorded with
 *     the refusal, as it was worded then).
 *
 * Fulfilling a restriction request sets the subject's restriction, and an
 * objection request records the objection (to its purpose, or to all), in
 * the same audited operation as the transition. Other kinds record the
 * outcome note only: the access package, erasure engine and rectification
 * are separate modules.
 */
#ifndef CUSTOS_DOMAIN_REQUESTS_H
#define CUSTOS_DOMAIN_REQUESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/deadline.h"
#include "domain/vault.h"
#include "store/store.h"

typedef enum cu_rq_state {
    CU_RQ_RECEIVED,
    CU_RQ_AWAITING_IDENTITY,
    CU_RQ_AWAITING_CLARIFICATION,
    CU_RQ_IN_PROGRESS,
    CU_RQ_EXTENDED,
    CU_RQ_FULFILLED,
    CU_RQ_REFUSED,
    CU_RQ_WITHDRAWN,
    CU_RQ_STATE_COUNT
} cu_rq_state;

typedef enum cu_rq_transition {
    CU_RQ_ASK_IDENTITY,
    CU_RQ_VERIFY,
    CU_RQ_CLARIFY,
    CU_RQ_RESUME,
    CU_RQ_EXTEND,
    CU_RQ_FULFIL,
    CU_RQ_REFUSE,
    CU_RQ_WITHDRAW,
    CU_RQ_TRANSITION_COUNT
} cu_rq_transition;

const char *cu_rq_state_name(cu_rq_state s);
/* -1 when unknown. */
int cu_rq_state_parse(const char *s);
const char *cu_rq_transition_name(cu_rq_transition t);
int cu_rq_transition_parse(const char *s);
bool cu_rq_state_open(cu_rq_state s);

/* The transition table: the state t leads to from `from`, or -1 when t is not
 * allowed there. prior is the state clarification was asked from (used by
 * resume only). Pure. */
int cu_rq_next(cu_rq_state from, cu_rq_transition t, cu_rq_state prior);

/* access rectification erasure restriction objection automated_decision
 * portability */
bool cu_rq_kind_valid(const char *s);
const char *cu_rq_kind_list(void);
/* email letter phone web_form in_person portal */
bool cu_rq_channel_valid(const char *s);
const char *cu_rq_channel_list(void);
/* manifestly_unfounded manifestly_excessive exemption identity_not_verified */
bool cu_rq_grounds_valid(const char *s);
const char *cu_rq_grounds_list(void);

/* What every refusal records as stated to the subject. */
#define CU_RQ_ICO_ROUTE                                                                     \
    "You may complain to the Information Commissioner's Office "                            \
    "(https://ico.org.uk/make-a-complaint/, 0303 123 1113) and you may seek to enforce "    \
    "your rights through the courts."

#define CU_RQ_MAX_TEXT 4096

/* ---- the calendar ---- */

/* Chooses the bank-holiday calendar: a GOV.UK-format file, or NULL for the
 * one built in (data/bank-holidays.json). Loaded at once; a bad file fails
 * with the parser's one-line message. */
CU_MUST_USE int cu_vault_use_holidays(cu_vault *v, const char *path, cu_err *err);
/* The calendar in force (loading the built-in one on first use) and a line
 * saying where it came from and which years it covers. */
CU_MUST_USE int cu_vault_holidays(cu_vault *v, const cu_holidays **out, const char **source,
                                  cu_err *err);
/* The built-in calendar's bytes (generated at build time). */
extern const char cu_bank_holidays_json[];
extern const size_t cu_bank_holidays_json_len;

/* "YYYY-MM-DD", or "" for CU_DATE_NONE. */
void cu_rq_date_str(cu_date d, char out[11]);

/* "today" for the clocks: the UTC date now. */
cu_date cu_rq_today(void);

/* ---- operations ---- */

typedef struct cu_rq_receive_in {
    const char *controller_id; /* NULL: the actor's controller */
    const char *kind;
    const char *channel;
    const char *received_on;   /* YYYY-MM-DD, not after today */
    const char *purpose;       /* objection: a purpose id, "*"/"all" or NULL (all) */
    const char *details;       /* what was asked, by whom: sealed; required */
    size_t details_len;
} cu_rq_receive_in;

CU_MUST_USE int cu_request_receive(cu_vault *v, const cu_actor *a, const cu_rq_receive_in *in,
                                   char id_out[CU_ID_STRLEN], cu_err *err);

/* A request the signed-in subject makes on the patient portal (a->subject_id,
 * role subject: their own record only): channel portal, received today,
 * linked to the subject and verified at once (signing in established who
 * asks), so it is in_progress with the clock running from the day of
 * receipt. Its history records the receipt (details sealed under the
 * subject's key) and the verification; one audited operation
 * (request.receive). purpose as in cu_rq_receive_in. */
CU_MUST_USE int cu_request_receive_own(cu_vault *v, const cu_actor *a, const char *kind,
                                       const char *purpose, const char *details,
                                       size_t details_len, char id_out[CU_ID_STRLEN],
                                       cu_err *err);

typedef struct cu_rq_change {
    cu_rq_transition t;
    const char *why;        /* required for every transition; sealed */
    size_t why_len;
    const char *on;         /* YYYY-MM-DD the event happened (evidence or clarification
                             * arrived, clarification asked, ...); NULL: today */
    const char *subject_id; /* verify: the subject whose identity was established */
    const char *told_on;    /* extend: the day the subject was told */
    const char *grounds;    /* refuse */
    bool ico_route_stated;  /* refuse: the reply stated CU_RQ_ICO_ROUTE */
} cu_rq_change;

typedef struct cu_request_view cu_request_view;
/* Makes one transition; out (may be NULL) is the request afterwards, read in
 * the same operation. */
CU_MUST_USE int cu_request_change(cu_vault *v, const cu_actor *a, const char *id,
                                  const cu_rq_change *c, cu_request_view *out, cu_err *err);

/* A request and where its clock stands. */
struct cu_request_view {
    cu_request_rec rec;
    bool clock_started;   /* false while identity evidence is awaited */
    bool has_clock;       /* dl and notice_by are set */
    cu_deadline dl;       /* as of today (open) or of the day it closed */
    cu_date notice_by;    /* last day to tell the subject of an extension */
    bool on_time;         /* closed: closed_on <= due */
};

typedef struct cu_request_event_view {
    int64_t seq, at;
    const char *on_date, *actor, *action, *from_state, *to_state;
    const char *why;      /* decrypted */
    size_t why_len;
} cu_request_event_view;

typedef int (*cu_request_view_cb)(void *ctx, const cu_request_view *r);
typedef int (*cu_request_event_view_cb)(void *ctx, const cu_request_event_view *e);

/* One request and its history, notes decrypted (an audited read). */
CU_MUST_USE int cu_request_show(cu_vault *v, const cu_actor *a, const char *id,
                                cu_request_view *out, cu_request_event_view_cb cb, void *ctx,
                                cu_err *err);
/* Requests of the actor's controller (the operator: of controller_id, or of
 * every controller when NULL). open_only lists open ones by due date, overdue
 * first (the ones whose clock has not started last); otherwise all in order
 * of receipt. One audited operation. */
CU_MUST_USE int cu_request_list(cu_vault *v, const cu_actor *a, const char *controller_id,
                                bool open_only, cu_request_view_cb cb, void *ctx,
                                cu_err *err);

/* The signed-in subject's own requests (a->subject_id), newest receipt
 * first: one audited operation about their record (portal.requests,
 * CU_ACT_PORTAL_VIEW). No other subject's request is ever given. */
CU_MUST_USE int cu_request_list_own(cu_vault *v, const cu_actor *a, cu_request_view_cb cb,
                                    void *ctx, cu_err *err);

/* Counts by state and the open requests past their deadline, for /metrics:
 * aggregates with no personal data, not audited. */
CU_MUST_USE int cu_request_counts(cu_vault *v, int64_t counts[CU_RQ_STATE_COUNT],
                                  int64_t *overdue, cu_err *err);

#endif
