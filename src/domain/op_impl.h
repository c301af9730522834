/*
 * op_impl.h — the private part of the choke point, for the domain modules
 * that implement operations. Not for interfaces.
 *
 * A subject's data key is obtained only here, and only through an authorised
 * operation: the unwrapping itself is static to op.c. Two other places handle
 * wrapped data keys, and neither hands a key out: a new or re-keyed subject's
 * key is wrapped (cu_vault_wrap_subject_key, vault_impl.h: wrapping needs no
 * operation), and the master-key rotation rewraps every key under the new
 * master key in one place (vault.c, rewrap_all, inside the rotation's
 * authorised operation). Erasure destroys a wrapped key without opening it.
 */
#ifndef CUSTOS_DOMAIN_OP_IMPL_H
#define CUSTOS_DOMAIN_OP_IMPL_H

#include "crypto/crypto.h"
#include "domain/op.h"

/* The data key of subject_id (and its version, when version is not NULL),
 * for the authorised operation op. CU_EINTERNAL when op is NULL or not (yet)
 * authorised; CU_ECORRUPT when the subject has no wrapped key (an erased
 * subject: callers refuse those first) or it does not open under the
 * master key. The caller wipes dek (cu_key_wipe) when done. */
CU_MUST_USE int cu_op_subject_key(cu_vault *v, const cu_op *op, const char *subject_id,
                                  cu_key *dek, int64_t *version, cu_err *err);

/* Notes in the authorised operation op's detail that it also did action
 * (registered in audit.c) to the row id, e.g. "task.raise" and a task's id:
 * the op's one event (cu_op_end) then records "task.raise ID[ ID...]". The
 * note is kept or undone with the event. Ids only, never personal data;
 * CU_EINTERNAL when op is not authorised, action is not registered or
 * another action was noted, or there is no more room. */
CU_MUST_USE int cu_op_note(cu_op *op, const char *action, const char *id, cu_err *err);

/* The integrity check's access (integrity.c walks the rows of every subject;
 * subject_rows.c checks that each sealed value opens, and reseals old ones
 * when sealing): the data key of subject_id while integrity.c's walk is in
 * progress, CU_EINTERNAL otherwise; errors as cu_op_subject_key. `custos
 * verify` runs without an operation (it reports only row names and
 * problems), so this path is bounded by the walk instead. */
CU_MUST_USE int cu_op_check_subject_key(cu_vault *v, const char *subject_id, cu_key *dek,
                                        cu_err *err);

#endif
