/*
 * recover.h — opening a vault for service: load it, then recover it.
 *
 * cu_vault_load (vault.h) opens a store with its keys and nothing more. Before
 * anything is served, an opened store is brought back to what it must hold:
 *
 *   1. the erasure ledger (ledger.h) is re-applied: erasures recorded there
 *      but not in this store (a restored backup, or a crash before an erasure
 *      committed) are carried out again (cu_erasure_replay), and a ledger that
 *      is missing, truncated or replaced is refused;
 *   2. the plain store copies an interrupted backup left in the store
 *      directory are removed (cu_backup_cleanup).
 *
 * A key rotation a crash interrupted is finished by cu_vault_load itself (it
 * concerns the keys, not the data). This layer sits above vault.c, erasure.c
 * and backup.c, so that the vault core never calls up into them. Every
 * interface (cli) and a restore (backup.c) open a vault through here.
 */
#ifndef CUSTOS_DOMAIN_RECOVER_H
#define CUSTOS_DOMAIN_RECOVER_H

#include "domain/vault.h"

/* cu_vault_load (refusing an unsealed store), then recovery as above. On
 * any failure nothing stays open and *out is untouched; the error is the
 * load's or the recovery's (CU_ETAMPER for a ledger that does not match the
 * store, CU_ENOTFOUND for a ledger missing while the store recorded one). */
CU_MUST_USE int cu_vault_open(const char *store_dir, const char *key_path, cu_vault **out,
                              cu_err *err);
/* As cu_vault_open, but a store whose rows are not yet authenticated (no
 * integrity key: see integrity.h) opens too, for `custos verify` to check
 * and seal it; cu_vault_open refuses such a store. */
CU_MUST_USE int cu_vault_open_unsealed(const char *store_dir, const char *key_path,
                                       cu_vault **out, cu_err *err);

/* Erasures re-applied from the erasure ledger when the vault was opened. */
int64_t cu_vault_replayed(const cu_vault *v);

#endif
