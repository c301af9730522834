/*
 * integrity.h — authentication of the store's security-relevant rows.
 *
 * Whoever can write the database but cannot read the master key must gain
 * nothing silently: not a session, a role, a care-list entry, a policy, a
 * consent, nor an item under another category or an older value. Every such
 * row carries a keyed BLAKE2b-256 code (its `mac` column) computed under the
 * store's integrity key, a keyring key wrapped by the master key like the
 * others (so rotation keeps it). A row whose code does not match is refused
 * where it is used (CU_ETAMPER, naming the table and the row's id, never a
 * value) and reported by cu_integrity_verify (`custos verify`).
 *
 * The key is made by `custos init`. A store without one (made before rows
 * were authenticated, or whose key was deleted) opens only for checking:
 * the operator looks at it and seals it with cu_integrity_seal (`custos
 * verify --seal`), an audited decision that authenticates every row as it
 * stands. The key is never made implicitly, so deleting it cannot make
 * custos vouch for forged rows.
 *
 * Each family of rows (a table, or a table and the rows that depend on it)
 * registers a verify and a seal function in integrity.c's table.
 */
#ifndef CUSTOS_DOMAIN_INTEGRITY_H
#define CUSTOS_DOMAIN_INTEGRITY_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "domain/vault.h"
#include "util/err.h"

/* Whether the store has an integrity key (every row authenticated). */
bool cu_vault_sealed(const cu_vault *v);

/* The key of the pages' CSRF tokens (http/websec.h): a subkey of the
 * integrity key, so it survives a master key rotation and a restart, and no
 * one without the master key can make a token. CU_EKEY when the store has no
 * integrity key. The caller wipes out (cu_key_wipe). */
CU_MUST_USE int cu_vault_csrf_key(const cu_vault *v, cu_key *out, cu_err *err);

/* Starts the code of one row of table under the integrity key; the caller
 * adds every column that matters, in a fixed order, then calls cu_mac_final
 * or cu_mac_check. The vault must be sealed (asserted). */
void cu_row_mac_begin(cu_vault *v, cu_mac *m, const char *table);

/* A number kept per controller in meta under "<name>/<controller_id>" (e.g.
 * "policy_head": the latest policy version; "tasks_head": the tasks raised),
 * authenticated under the integrity key, so an insider who writes the
 * database cannot roll it back or forge it. key receives the meta key (for
 * messages); get gives 0 when there is none and CU_ETAMPER, "meta <key> has
 * been altered", when its code does not match. */
#define CU_META_COUNTER_KEY (CU_ID_STRLEN + 24)
void cu_meta_counter_key(const char *name, const char *controller_id,
                         char key[CU_META_COUNTER_KEY]);
CU_MUST_USE int cu_meta_counter_get(cu_vault *v, const char *name, const char *controller_id,
                                    int64_t *n, cu_err *err);
CU_MUST_USE int cu_meta_counter_put(cu_vault *v, const char *name, const char *controller_id,
                                    int64_t n, cu_err *err);

/* Reports one row that fails: table, the row's id (or ids joined by '/'),
 * and what is wrong ("altered", "forged", "missing", ...). Never a value. */
typedef int (*cu_row_report_cb)(void *ctx, const char *table, const char *row,
                                const char *problem);

/* One family of authenticated rows, walked by one function. To verify (seal
 * false) it calls report for each bad row and returns CU_OK when it could
 * look at every row (bad rows are not an error here); to seal (report NULL)
 * it recomputes and stores every row's code. *rows counts the rows walked.
 * Both run inside a transaction the caller holds. */
typedef int (*cu_row_walk_fn)(cu_vault *v, bool seal, cu_row_report_cb report, void *ctx,
                              int64_t *rows, cu_err *err);
typedef struct cu_row_family {
    const char *name;
    cu_row_walk_fn walk;
} cu_row_family;

/* The families, each registered in integrity.c: users, sessions, API
 * tokens, care lists and break-glass grants (staff.c); policies and
 * unsubscribe links (consent.c). */
extern const cu_row_family cu_staff_rows;
extern const cu_row_family cu_policy_rows;
extern const cu_row_family cu_consent_rows;
extern const cu_row_family cu_request_rows;
/* node keys (node.c) */
extern const cu_row_family cu_node_rows;
/* questionnaire definitions (questionnaires.c) */
extern const cu_row_family cu_questionnaire_rows;
/* questionnaire links (responses.c) */
extern const cu_row_family cu_qlink_rows;
/* pathways, enrolments and their occurrences (pathway.c) */
extern const cu_row_family cu_pathway_rows;
/* the patient portal's invitations and accounts (portal.c) */
extern const cu_row_family cu_portal_rows;
/* the portal's cookie choices (portal_cookies.c) */
extern const cu_row_family cu_pcookie_rows;
/* clinical tasks and each controller's tasks head (tasks.c) */
extern const cu_row_family cu_task_rows;

/* Checks every authenticated row of a sealed store; *bad counts the rows
 * reported, *rows those looked at. CU_ETAMPER (with err naming the first bad
 * row) when any is bad; CU_EKEY-like CU_ETAMPER when the store is unsealed. */
CU_MUST_USE int cu_integrity_verify(cu_vault *v, cu_row_report_cb report, void *ctx,
                                    int64_t *rows, int64_t *bad, cu_err *err);

/* The operator's decision to authenticate every row as it stands: makes the
 * integrity key when the store has none, recomputes every row's code and
 * appends one audit event (action "key", via the actor), in one transaction.
 * *rows counts the rows sealed. */
CU_MUST_USE int cu_integrity_seal(cu_vault *v, const cu_actor *a, int64_t *rows,
                                  cu_err *err);

#endif
