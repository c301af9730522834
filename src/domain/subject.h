/*
 * subject.h — operations on subjects and their items. Each goes through the
 * vault's choke point (authorisation, purpose, one audit event in the same
 * transaction) and handles personal values only as ciphertext at rest.
 *
 * Values are sealed under the subject's own data key with associated data
 * binding controller, subject, item, field and key version. Erasure destroys
 * the data key (crypto-shredding) and deletes the items and blind indexes in
 * one transaction; the subject row remains with its erasure time.
 *
 * Views returned to callers own decrypted values in wiped buffers; release
 * them with cu_subject_view_release().
 */
#ifndef CUSTOS_DOMAIN_SUBJECT_H
#define CUSTOS_DOMAIN_SUBJECT_H

#include <stdint.h>

#include "domain/audit.h"
#include "domain/input.h"
#include "domain/model.h"
#include "domain/vault.h"
#include "store/store.h"

typedef struct cu_item_view {
    char id[CU_ID_STRLEN];
    char field[CU_MAX_NAME_BYTES + 1];
    int category;
    char source[32];
    char recorded_by[CU_MAX_NAME_BYTES + 1];
    int64_t collected_at, recorded_at, updated_at;
    cu_buf value; /* decrypted */
} cu_item_view;

/* An item-listing cursor: "c1", the item id's 32 hex digits, a 32-digit tag. */
#define CU_CURSOR_STRLEN 67
#define CU_ITEMS_PAGE_DEFAULT 100
#define CU_ITEMS_PAGE_MAX 500

/* Cursors of the other listings (subjects, requests, consents, the audit
 * trail, disclosures, ...): the same construction and length as an item
 * cursor, over the position after which the next page starts, bound to the
 * listing it was made for (scope: e.g. the route and its query). Opaque and
 * tamper-evident: a cursor of another listing, altered or made up is
 * CU_EINVAL "cursor is not a cursor of this listing". */
#define CU_LIST_PAGE_DEFAULT 100
#define CU_LIST_PAGE_MAX 500
void cu_list_cursor_make(cu_vault *v, const char *scope, uint64_t position,
                         char out[CU_CURSOR_STRLEN]);
CU_MUST_USE int cu_list_cursor_open(cu_vault *v, const char *scope, const char *cursor,
                                    uint64_t *position, cu_err *err);

typedef struct cu_subject_view {
    cu_subject_rec rec; /* rec.id is the pseudonym when pseudonymised */
    /* Pseudonymised (for cu_roles_pseudonymous actors): rec.id is the
     * subject's pseudonym, each item's id its item pseudonym (psi_...), every
     * time the first instant of its UTC month, and recorded_by empty. */
    bool pseudonymised;
    cu_item_view *items;
    size_t n;
    char next[CU_CURSOR_STRLEN]; /* cu_subject_get_page: where the next page starts ("": none) */
} cu_subject_view;

void cu_subject_view_release(cu_subject_view *sv);

/* The first instant (00:00 UTC on the 1st) of the month of us; 0 for 0. The
 * precision of every time shown to those who see subjects by pseudonym. */
int64_t cu_time_month_start(int64_t us);

/* Adds a subject of kind to controller with the values of doc. */
CU_MUST_USE int cu_subject_add(cu_vault *v, const cu_actor *a, const char *controller_id,
                               const char *kind, const cu_doc *doc,
                               char id_out[CU_ID_STRLEN], cu_err *err);
/* Adds the values of doc to an existing subject as new items; item ids are
 * written to ids_out (doc->n entries) when it is not NULL. */
CU_MUST_USE int cu_subject_add_items(cu_vault *v, const cu_actor *a, const char *subject_id,
                                     const cu_doc *doc, char (*ids_out)[CU_ID_STRLEN],
                                     cu_err *err);
/* For domain modules inside their own authorised operation on rec (opened
 * with cu_op_open_subject, dek from cu_op_subject_key): seals in's value
 * under dek, inserts it as a new item recorded by recorded_by now, and saves
 * rec (its item count and digest). No audit event of its own. */
struct cu_key;
CU_MUST_USE int cu_subject_insert_item(cu_vault *v, cu_subject_rec *rec, const struct cu_key *dek,
                                       const cu_value_in *in, const char *recorded_by,
                                       char id_out[CU_ID_STRLEN], cu_err *err);
/* Reads a subject with every item decrypted. CU_EERASED (sv->rec filled, no
 * items) for an erased subject. */
CU_MUST_USE int cu_subject_get(cu_vault *v, const cu_actor *a, const char *subject_id,
                               cu_subject_view *sv, cu_err *err);
/* Reads one page of a subject's items, decrypted: at most limit (1 to
 * CU_ITEMS_PAGE_MAX) of them in item-id order (time-ordered ids), starting
 * after cursor (NULL: from the first), so one read of a subject with
 * thousands of items never holds the store for long. Items the actor may not
 * see are left out, so a page may hold fewer than limit. sv->next is the
 * cursor of the next page, "" after the last. With top_level, every item of
 * a well-known top-level field is read too (wherever it lies) and the page
 * leaves them out: the subject read. A cursor that is malformed, altered or
 * made for another subject is CU_EINVAL. One audit event, as cu_subject_get. */
CU_MUST_USE int cu_subject_get_page(cu_vault *v, const cu_actor *a, const char *subject_id,
                                    const char *cursor, size_t limit, bool top_level,
                                    cu_subject_view *sv, cu_err *err);

/* The record page's read: cu_subject_get_page's first page (no cursor) and,
 * in the same operation and its one audit event, the subject's clinical
 * tasks in every state (cu_task_list's checks and order, only this
 * subject's), each passed to task_cb, when the actor may list the tasks of
 * the subject's controller (CU_ACT_TASK_LIST for its roles, bound to that
 * controller): the event's detail then records "task.list SUBJECT" and
 * *tasks_read is true. Otherwise no task is read and *tasks_read is false
 * (the caller lists them with cu_task_list, its own event and refusal). */
struct cu_task_view;
CU_MUST_USE int cu_subject_get_record(cu_vault *v, const cu_actor *a, const char *subject_id,
                                      size_t limit, bool top_level, cu_subject_view *sv,
                                      int (*task_cb)(void *ctx, const struct cu_task_view *t),
                                      void *task_ctx, bool *tasks_read, cu_err *err);
/* Exact-match search on an identifier field (nhs_number, email, phone,
 * local_ref) within one controller, or all when controller_id is NULL. */
typedef int (*cu_found_cb)(void *ctx, const char *subject_id);
CU_MUST_USE int cu_subject_find(cu_vault *v, const cu_actor *a, const char *controller_id,
                                const char *field, const char *value, size_t n,
                                cu_found_cb cb, void *ctx, cu_err *err);
/* Exact-match search by family name and date of birth (YYYY-MM-DD) through
 * the blind index of (normalised family name, date of birth) kept for every
 * subject with a name and a date of birth (name_key.h gives the rules), one
 * controller or all, with cu_subject_find's authorisation, audit and
 * verification; CU_EINVAL for a family name or date that is not one,
 * CU_ENOTFOUND for none found. */
CU_MUST_USE int cu_subject_find_name_birth(cu_vault *v, const cu_actor *a,
                                           const char *controller_id, const char *family,
                                           size_t n, const char *birth, cu_found_cb cb,
                                           void *ctx, cu_err *err);
/* Builds that index again for every subject of controller (NULL: every
 * subject the actor may list) from their current values: for subjects
 * recorded before it existed. One audited operation (an "update") per subject;
 * *done counts them. */
CU_MUST_USE int cu_subject_reindex(cu_vault *v, const cu_actor *a, const char *controller_id,
                                   size_t *done, cu_err *err);
/* Changes values; the old and new ones are kept, sealed under the subject's
 * key, in the audit event's payload ([{"item", "field", "old", "new"}]). */
CU_MUST_USE int cu_subject_rectify(cu_vault *v, const cu_actor *a, const char *subject_id,
                                   const cu_doc *patch, cu_err *err);
/* One recipient of an earlier disclosure that included a rectified item (or
 * its category), to be told of the rectification (Art 19): a recipient of
 * the policy (recipient_id) or a named organisation (name, decrypted). */
typedef struct cu_notify_recipient {
    const char *recipient_id, *name, *channel;
    size_t name_len;
    int64_t disclosed_at;
} cu_notify_recipient;
typedef int (*cu_notify_cb)(void *ctx, const cu_notify_recipient *r);
/* cu_subject_rectify, calling notify (when not NULL) for each such recipient
 * within the same operation. */
CU_MUST_USE int cu_subject_rectify_notify(cu_vault *v, const cu_actor *a,
                                          const char *subject_id, const cu_doc *patch,
                                          cu_notify_cb notify, void *ctx, cu_err *err);
/* Crypto-shredding erasure. */
CU_MUST_USE int cu_subject_erase(cu_vault *v, const cu_actor *a, const char *subject_id,
                                 int64_t *erased_at, cu_err *err);
/* Lists subjects (ids, kinds, times; no personal values). To those who see
 * subjects by pseudonym, r->id is the pseudonym and times are to the month
 * (cu_time_month_start). */
CU_MUST_USE int cu_subject_list(cu_vault *v, const cu_actor *a, const char *controller_id,
                                cu_subject_cb cb, void *ctx, cu_err *err);

/* Audit trail listing. payload is the decrypted payload when with_values is
 * set and the subject's key still exists, else NULL. */
typedef int (*cu_event_cb)(void *ctx, const cu_audit_decoded *e, const cu_buf *payload);
CU_MUST_USE int cu_audit_list(cu_vault *v, const cu_actor *a, const cu_audit_filter *f,
                              bool with_values, cu_event_cb cb, void *ctx, cu_err *err);
/* The subject id behind an id or a pseudonym. CU_EINVAL for neither form,
 * CU_ENOTFOUND (naming only what was given) for an unknown pseudonym. */
CU_MUST_USE int cu_subject_resolve(cu_vault *v, const char *id, char out[CU_ID_STRLEN],
                                   cu_err *err);
/* Who accessed one subject, when and why: the subject's audit events, for
 * those whose role may see access logs (no values). */
CU_MUST_USE int cu_subject_access_log(cu_vault *v, const cu_actor *a, const char *subject_id,
                                      cu_event_cb cb, void *ctx, cu_err *err);
/* Runs verification as an audited operation. Outside a batch, when the
 * verification ran but its audit event could not be stored (a full or
 * read-only disk), returns CU_OK with the report and rep->recorded false and
 * rep->not_recorded saying why: the trail's state is known either way. */
CU_MUST_USE int cu_audit_check(cu_vault *v, const cu_actor *a, cu_verify_report *rep,
                               cu_err *err);
/* The signed chain head as it is now. */
CU_MUST_USE int cu_vault_head(cu_vault *v, cu_checkpoint *out, cu_err *err);
/* Store counts, for status. */
CU_MUST_USE int cu_vault_counts(cu_vault *v, cu_store_counts *out, cu_err *err);
CU_MUST_USE int cu_controller_each(cu_vault *v, cu_controller_cb cb, void *ctx, cu_err *err);

#endif
