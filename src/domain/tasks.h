/*
 * tasks.h — the clinical task list: what a questionnaire answer raises for
 * the clinicians who must see it (docs/outcomes.md, "Clinical tasks").
 *
 * A task belongs to one subject and is owned by the subject's care team
 * (every clinician with the subject on their care list) or by one named
 * clinician, who must be on that list. Its kind is urgent or review; its
 * reason is a code of the table below, shown with the table's wording, never
 * free text from the patient; any detail is sealed under the subject's data
 * key like an item value; its source names the response it came from
 * (opaque to custos). Its state goes open -> acknowledged -> done (or open
 * -> done), each step recording who and when, and only a person moves it:
 * nothing raised later closes or hides it, and tasks are never deleted.
 *
 * Every raise, listing and change is one operation through the choke point
 * (op.h) and one audit event: task.raise, task.list, task.ack, task.done.
 * A clinician may list, acknowledge and close only tasks of subjects on
 * their care list (not under break-glass), and a task with a named owner
 * only when they are that owner.
 *
 * Integrity: each row carries a code under the store's integrity key over
 * every column, and each controller's number of tasks is kept in an
 * authenticated head (meta "tasks_head/<controller>") raised with every
 * task. A task whose state was edited in the database, or a deleted task (the
 * rows no longer match the head), makes the listing and every change fail
 * CU_ETAMPER, naming the task or the controller.
 */
#ifndef CUSTOS_DOMAIN_TASKS_H
#define CUSTOS_DOMAIN_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/model.h"
#include "domain/vault.h"
#include "store/store.h"

#define CU_TASK_MAX_DETAIL 2000
#define CU_TASK_MAX_SOURCE 64

/* The reasons a task is raised for: code, kind, wording. */
typedef struct cu_task_reason {
    const char *code;
    const char *kind; /* urgent | review */
    const char *wording;
} cu_task_reason;
/* The reason with this code, or NULL. */
const cu_task_reason *cu_task_reason_find(const char *code);
/* The i-th reason of the table, NULL past the end. */
const cu_task_reason *cu_task_reason_at(size_t i);

typedef struct cu_task_raise_in {
    const char *subject_id;
    const char *reason;        /* a code of the table */
    const char *source;        /* the response id, 1-64 printable ASCII bytes */
    const char *owner_username; /* NULL: the care team; else one clinician on the care list */
    const char *detail;        /* NULL or 1-2000 bytes of text, sealed */
} cu_task_raise_in;

/* Raises a task (action task.raise). Called by the code that stores a
 * questionnaire answer; on the command line only in test builds. */
CU_MUST_USE int cu_task_raise(cu_vault *v, const cu_actor *a, const cu_task_raise_in *in,
                              char id_out[CU_ID_STRLEN], cu_err *err);

/* The inner part of cu_task_raise, for a domain module whose own authorised
 * operation op on subject subj (already opened) raises tasks: the row and
 * the count head are written in op's transaction and the task's id is
 * noted in op's detail (op_impl.h: cu_op_note): op's one event records
 * "task.raise ID", and the task is kept or undone with what raised it.
 * in->subject_id and in->owner_username are ignored (the care team owns
 * it); dek is the subject's data key when in->detail is given, else may be
 * NULL. */
struct cu_op;
struct cu_key;
CU_MUST_USE int cu_task_raise_within(cu_vault *v, struct cu_op *op, const cu_subject_rec *subj,
                                     const struct cu_key *dek, const cu_task_raise_in *in,
                                     char id_out[CU_ID_STRLEN], cu_err *err);

typedef struct cu_task_view {
    const cu_task_rec *rec;        /* the row, authenticated */
    const cu_task_reason *reason;  /* its wording */
} cu_task_view;
typedef int (*cu_task_view_cb)(void *ctx, const cu_task_view *t);

/* Lists tasks (action task.list): a staff member's controller (controller_id
 * is then ignored), or controller_id for the operator. A clinician sees the
 * tasks of subjects on their care list (owned by the care team or by them).
 * state NULL: every state; else open, acknowledged or done. Urgent first,
 * then oldest first. */
CU_MUST_USE int cu_task_list(cu_vault *v, const cu_actor *a, const char *controller_id,
                             const char *state, cu_task_view_cb cb, void *ctx, cu_err *err);

/* The tasks cu_task_list would give (every state), checked the same way,
 * inside an operation the caller holds and has authorised (no event of its
 * own): for pathway.due (pathway.h). */
CU_MUST_USE int cu_task_walk(cu_vault *v, const cu_actor *a, const char *controller_id,
                             cu_task_view_cb cb, void *ctx, cu_err *err);

/* The tasks of subj (every state) as cu_task_list would give them to op's
 * actor (every row of the controller checked, urgent first, then oldest
 * first), inside op, the actor's authorised read of subj (no event of its
 * own: op's detail records "task.list SUBJECT"; subject.h:
 * cu_subject_get_record). *done is false, and nothing is read, when the
 * actor is not bound to subj's controller or its roles may not list tasks
 * (CU_ACT_TASK_LIST). */
CU_MUST_USE int cu_task_walk_subject(cu_vault *v, struct cu_op *op, const cu_subject_rec *subj,
                                     cu_task_view_cb cb, void *ctx, bool *done, cu_err *err);

/* Acknowledges an open task (action task.ack); CU_ECONFLICT when it is not
 * open. out (may be NULL) receives the row as written. */
CU_MUST_USE int cu_task_ack(cu_vault *v, const cu_actor *a, const char *task_id,
                            cu_task_rec *out, cu_err *err);
/* Closes an open or acknowledged task (action task.done); CU_ECONFLICT when
 * it is already done. */
CU_MUST_USE int cu_task_done(cu_vault *v, const cu_actor *a, const char *task_id,
                             cu_task_rec *out, cu_err *err);

#endif
