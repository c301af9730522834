/*
 * op.h — the choke point: every access to personal data is one operation.
 *
 * Who calls it: the domain modules that implement operations (subject.c,
 * consent.c, disclosure.c, sar.c, erasure.c, requests.c, staff.c,
 * integrity.c, backup.c, vault.c), each for one command or request an
 * interface (cli, http) made on behalf of an actor (vault.h: cu_actor).
 * Interfaces never see inside an operation; they name the actor.
 *
 * The steps, in order:
 *
 *   1. cu_op_begin checks authentication (an actor with a valid name) and
 *      purpose (one is stated), that the action is one audit.c registers
 *      (so a subject's access log has words for it), and opens the op's
 *      transaction (or a savepoint inside a group-commit batch).
 *   2. cu_op_name_subject / cu_op_open_subject record which subject is meant
 *      (by id or pseudonym), load it and authorise; or the caller fills
 *      op->controller_id, op->subject_id, op->kind, op->categories itself and
 *      calls cu_op_authorise.
 *   3. cu_op_authorise is the single access decision (deny by default): the
 *      role rules (access.h: roles, controller, care list, break-glass
 *      grants), then, for processing of personal data, the controller's
 *      policy (policy.h: purpose, subject kind, categories, restriction,
 *      objection, consent). Only an authorised op may obtain a subject's
 *      data key (op_impl.h: cu_op_subject_key).
 *   4. cu_op_end appends exactly one audit event in the same transaction as
 *      the change, and commits (outside a batch): no event without its
 *      action, no action without its event. What else the op did on the
 *      way (a task a stored answer raised) is named in that event's detail
 *      (op_impl.h: cu_op_note), not in an event of its own.
 *
 * What it owns: the op owns its transaction (or savepoint) from a successful
 * cu_op_begin until cu_op_end; between them the caller may write through the
 * store, and cu_op_end keeps or undoes those writes. Errors: CU_EDENIED
 * (refused, op->rule names the rule), CU_ECONCEALED (refused without saying
 * that the subject exists), CU_ENOTFOUND, CU_EERASED, CU_EINVAL (no purpose),
 * CU_EINTERNAL (a programming error: an unregistered action, a skipped
 * authorisation); messages never hold personal data.
 */
#ifndef CUSTOS_DOMAIN_OP_H
#define CUSTOS_DOMAIN_OP_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/access.h"
#include "domain/vault.h"
#include "store/store.h"

/* Room for an op's detail: "task.raise" and up to 24 ids. */
#define CU_OP_DETAIL_MAX (16 + 24 * CU_ID_STRLEN)

/* One operation on personal data. The caller owns it (usually on its stack);
 * it holds no key and nothing to free. */
typedef struct cu_op {
    const cu_actor *actor;
    cu_act act;         /* what is asked, for the access decision */
    const char *action; /* recorded: create read update erase search export key audit ... */
    cu_access_decision decision; /* set by cu_op_authorise */
    const char *rule;   /* the rule that refused, recorded with a denied event */
    const cu_subject_rec *subject; /* the one subject acted on, when it exists */
    const char *kind;   /* the kind of a subject being created */
    char controller_id[CU_ID_STRLEN];
    char subject_id[CU_ID_STRLEN];
    char named[CU_ID_STRLEN]; /* the pseudonym the caller named the subject by, if
                               * any: what messages call it (cu_op_name_subject) */
    unsigned categories; /* bit per cu_category touched */
    bool own_tx;
    bool authorised;
    size_t page_ahead;    /* cu_op_open_subject also reads this many of the subject's
                           * first items ahead (the caller reads that page next) */
    bool keep_on_refusal; /* a recorded refusal keeps the op's changes (sign-in
                           * failure counts); default: refusals undo them */
    int64_t saved_seq;
    unsigned char saved_hash[CU_HASH_BYTES];
    /* What else the op did, recorded in its one event (audit.h: detail);
     * written only through cu_op_note (op_impl.h). */
    char detail[CU_OP_DETAIL_MAX];
} cu_op;

/* Starts op for actor a asking act, recorded as action: CU_EDENIED without
 * an authenticated actor (a valid name), CU_EINVAL without a stated purpose,
 * CU_EINTERNAL for an action not registered in audit.c. Opens the op's
 * transaction, or a savepoint inside a batch. On any failure nothing is open
 * and cu_op_end must not be called. */
CU_MUST_USE int cu_op_begin(cu_vault *v, cu_op *op, const cu_actor *a, cu_act act,
                            const char *action, cu_err *err);
/* The single authorisation decision, made once op->controller_id,
 * op->subject_id, op->subject or op->kind, and (for writes) op->categories are
 * known: the actor's roles, controller, care list and break-glass grants
 * against cu_access_decide; then, for processing of personal data, the
 * controller's policy against cu_policy_decide (purpose, subject kind,
 * categories, restriction, objection, consent). CU_EDENIED or CU_ECONCEALED
 * (with err set) when refused; op->rule then names the rule that refused, and
 * on success op->decision.categories says which categories may be touched. */
CU_MUST_USE int cu_op_authorise(cu_vault *v, cu_op *op, cu_err *err);
/* Resolves subject_id (an id or a pseudonym), loads the subject into rec,
 * authorises op on it and refuses an erased subject (CU_EERASED): the common
 * start of every operation on one subject. What the operation is likely to
 * read next is fetched with the subject (cu_store_subject_read_ahead: its
 * key row, the actor's care-list row, op->page_ahead items), which on a
 * database server is one round trip for all. */
CU_MUST_USE int cu_op_open_subject(cu_vault *v, cu_op *op, const char *subject_id,
                                   cu_subject_rec *rec, cu_err *err);
/* Records how the caller named op's subject (given: an id or a pseudonym),
 * right after cu_op_begin and before anything is looked up. A caller who sees
 * subjects only by pseudonym (cu_roles_pseudonymous) and gave anything else
 * is refused (CU_EDENIED, rule pseudonym-required) whether or not such a
 * subject exists; the refusal is recorded in the actor's controller. A
 * subject named by pseudonym is called by it in every message about it. */
CU_MUST_USE int cu_op_name_subject(cu_op *op, const char *given, cu_err *err);
/* Whether the op's purpose may process one subject (rec) under the policy of
 * its controller: for listings, which show only the subjects a purpose may
 * be used for. */
CU_MUST_USE int cu_op_policy_allows(cu_vault *v, const cu_op *op, const cu_subject_rec *rec,
                                    bool *allowed, cu_err *err);
/* Ends the operation with status, appending exactly one audit event in the
 * op's transaction: status CU_OK (outcome "ok", refused with CU_EINTERNAL
 * when the op was never authorised) keeps the change and the event;
 * CU_EDENIED / CU_ECONCEALED ("denied", naming op->rule), CU_ENOTFOUND
 * ("not_found") and CU_EERASED ("erased") undo the change (unless
 * op->keep_on_refusal) but keep the event; any other status undoes both.
 * For outcome "ok" an optional payload is sealed under dek into the event.
 * Returns status, or a commit failure (then nothing of the op remains; in a
 * batch, nothing of the batch). */
CU_MUST_USE int cu_op_end(cu_vault *v, cu_op *op, int status, const cu_key *dek, const cu_buf *payload,
                          cu_err *err);

#endif
