/*
 * subject_rows.h — authentication of controllers, subjects and their items
 * (integrity.h explains the threat and the key).
 *
 * - A controller row's code covers its id, name and creation time.
 * - A subject row's code covers its id, controller, kind, key version,
 *   times, erasure, pseudonym, restriction, count of active objections,
 *   item count and item digest.
 * - The item digest is the XOR, over the subject's items, of a keyed hash of
 *   (subject id, item id, version, category, field). An item's version is 1
 *   at insert and grows by one with every new value and every re-encryption;
 *   the version and the category are also in the value's associated data
 *   (cu_ad_value). So a removed, added, relabelled or rolled-back item
 *   changes the digest (and a relabelled value no longer decrypts), and a
 *   changed count or digest breaks the subject row's code.
 *
 * Every read used for a decision or returned goes through cu_subject_load
 * (or cu_subject_row_check for a row already read); every write through
 * cu_subject_save, which recomputes the code from the verified record the
 * caller changed, never from what is in the store. A store opened unsealed
 * (for `custos verify` only) checks nothing and writes no code: sealing
 * computes them.
 */
#ifndef CUSTOS_DOMAIN_SUBJECT_ROWS_H
#define CUSTOS_DOMAIN_SUBJECT_ROWS_H

#include "domain/integrity.h"
#include "store/store.h"
#include "util/buf.h"

/* The subject row, checked: CU_ENOTFOUND (no message) when absent,
 * CU_ETAMPER "subjects ID has been altered" when its code does not match. */
CU_MUST_USE int cu_subject_load(cu_vault *v, const char *id, cu_subject_rec *rec, cu_err *err);
/* Checks a row already read (a listing). */
CU_MUST_USE int cu_subject_row_check(cu_vault *v, const cu_subject_rec *rec, cu_err *err);
/* Recomputes rec's code and writes the row (insert: a new subject). */
CU_MUST_USE int cu_subject_save(cu_vault *v, cu_subject_rec *rec, bool insert, cu_err *err);

/* After the store recounted the subject's active objections (objection add
 * or lift): takes the new count into rec, the rest from rec, and saves. */
CU_MUST_USE int cu_subject_save_objections(cu_vault *v, cu_subject_rec *rec, cu_err *err);

/* CU_ETAMPER "subject ID: its consent records do not match its record" when
 * the subject's consent records are not as many as its (checked) row counts:
 * a record was removed (a withdrawal deleted to bring back the consent
 * before it). Records are never deleted, so the count only grows. */
CU_MUST_USE int cu_subject_consents_check(cu_vault *v, const cu_subject_rec *rec, cu_err *err);

/* The running count and digest of items read. */
typedef struct cu_items_sum {
    int64_t n;
    unsigned char d[32];
} cu_items_sum;
void cu_items_sum_add(cu_vault *v, cu_items_sum *s, const char *subject_id,
                      const cu_item_row *r);
/* CU_ETAMPER "subject ID: its items do not match its record" when the items
 * read are not those the subject's record counts. */
CU_MUST_USE int cu_items_sum_check(cu_vault *v, const cu_subject_rec *rec,
                                   const cu_items_sum *s, cu_err *err);
/* Reads the subject's item rows (no decryption) and checks them, unless
 * they were found to match this very record (its code) since another
 * connection last committed (see below). */
CU_MUST_USE int cu_subject_items_check(cu_vault *v, const cu_subject_rec *rec, cu_err *err);

/* Subjects whose item rows were checked against their record: a small
 * cache of (subject id, row code), so that a page of a large subject need
 * not read every item row again. An entry stands for "when the subject's
 * row had this code, its items matched it". It is dropped whenever another
 * connection has committed (the vault's data version changed: whoever wrote
 * the database behind custos's back), and carried over when this process
 * changes the subject's items itself, since the new count and digest are
 * computed from the checked old ones (cu_subject_save). A transaction undone
 * after that leaves a code in the cache that the row no longer has, so the
 * next read checks again. */
bool cu_items_verified(cu_vault *v, const cu_subject_rec *rec);
void cu_items_mark_verified(cu_vault *v, const cu_subject_rec *rec);
void cu_items_verified_forget(cu_vault *v);

/* Keep rec's count and digest right as its items change (the caller saves). */
void cu_subject_item_added(cu_vault *v, cu_subject_rec *rec, const char *item_id,
                           int64_t version, const char *category, const char *field);
void cu_subject_item_removed(cu_vault *v, cu_subject_rec *rec, const char *item_id,
                             int64_t version, const char *category, const char *field);
void cu_subject_item_versioned(cu_vault *v, cu_subject_rec *rec, const char *item_id,
                               int64_t old_version, int64_t new_version, const char *category,
                               const char *field);

/* The controller, checked (name may be NULL): CU_ENOTFOUND (no message)
 * when absent, CU_ETAMPER "controllers ID has been altered". */
CU_MUST_USE int cu_controller_load(cu_vault *v, const char *id, cu_buf *name, cu_err *err);
/* Computes and stores a new controller row's code. */
CU_MUST_USE int cu_controller_seal_row(cu_vault *v, const char *id, const char *name,
                                       int64_t created_at, cu_err *err);
/* Every controller, each checked before cb sees it. */
CU_MUST_USE int cu_controller_each_checked(cu_vault *v, cu_controller_cb cb, void *ctx,
                                           cu_err *err);

extern const cu_row_family cu_family_controllers;
extern const cu_row_family cu_family_subjects;

#endif
