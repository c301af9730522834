#include "domain/recover.h"

#include "domain/backup.h"
#include "domain/erasure.h"
#include "domain/vault_impl.h"

static int open_and_recover(const char *store_dir, const char *key_path, bool unsealed_ok,
                            cu_vault **out, cu_err *err)
{
    cu_vault *v = NULL;
    int rc = cu_vault_load(store_dir, key_path, unsealed_ok, &v, err);
    if (rc)
        return rc;
    /* Erasures recorded in the ledger but not in this store (a restored
     * backup, or a crash before an erasure committed) are re-applied before
     * anything is served. */
    rc = cu_erasure_replay(v, &v->replayed, err);
    if (!rc)
        cu_backup_cleanup(v->dir);
    if (rc) {
        cu_vault_close(v);
        return rc;
    }
    *out = v;
    return CU_OK;
}

int cu_vault_open(const char *store_dir, const char *key_path, cu_vault **out, cu_err *err)
{
    return open_and_recover(store_dir, key_path, false, out, err);
}

int cu_vault_open_unsealed(const char *store_dir, const char *key_path, cu_vault **out,
                           cu_err *err)
{
    return open_and_recover(store_dir, key_path, true, out, err);
}

int64_t cu_vault_replayed(const cu_vault *v)
{
    return v->replayed;
}
