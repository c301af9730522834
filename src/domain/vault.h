/*
 * vault.h — an open custos store with its keys and transactions.
 *
 * A vault is a directory: the store (at cu_store_location of it: store.h,
 * a SQLite file there unless a PostgreSQL database is named) and, unless
 * another path is given, master.key (mode 0600). Opening checks
 * that the master key matches the store (its key id is recorded in the store), unwraps the
 * store-wide keys into locked memory and wipes them on close.
 *
 * The choke point every operation on personal data goes through
 * (cu_op_begin, cu_op_authorise, cu_op_end) is op.h. Opening a vault for
 * service (load, then recovery) is recover.h.
 *
 * Group commit: between cu_vault_batch_begin() and cu_vault_batch_commit()
 * many operations share one transaction (each in its own savepoint); the batch
 * is durable when cu_vault_batch_commit() returns. Outside a batch each
 * operation commits on its own.
 */
#ifndef CUSTOS_DOMAIN_VAULT_H
#define CUSTOS_DOMAIN_VAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct cu_vault cu_vault;

/* Who is acting, in which role, why, and through which interface. None of
 * these may hold personal data of a subject. */
typedef struct cu_actor {
    const char *name;    /* OS user or staff user name */
    const char *role;    /* roles as recorded: "operator" for the CLI, "clinician", ... */
    const char *purpose; /* why: "administration", "direct_care", ... */
    const char *via;     /* interface and command or route template */
    unsigned roles;      /* cu_role bits; 0: parsed from role */
    const char *user_id;       /* staff account id; NULL for the CLI and API tokens */
    const char *controller_id; /* the controller a staff member acts within */
    const char *subject_id;    /* a patient on the portal: their own subject (role subject) */
} cu_actor;

/* The PostgreSQL database (a postgresql:// or postgres:// URL) that the
 * vaults this process creates and opens keep their store in, instead of the
 * SQLite file in their directory (which still holds the master key, the
 * configuration, the erasure ledger and backups); NULL or "": the file.
 * Set once at start-up (the CLI's --database or CUSTOS_DATABASE), before a
 * vault is created or opened. CU_EINVAL for anything but such a URL. The
 * URL holds a password: it is never shown but through cu_store_redact. */
CU_MUST_USE int cu_vault_set_database(const char *url, cu_err *err);
/* The database set by cu_vault_set_database, NULL when none. */
const char *cu_vault_database(void);

/* Creates store_dir (mode 0700), the master key (key_path, or
 * store_dir/master.key when NULL), the database and the store-wide keys. */
CU_MUST_USE int cu_vault_init(const char *store_dir, const char *key_path, cu_err *err);
/* Opens the store in store_dir with its keys: checks that the master key
 * (key_path, or store_dir/master.key when NULL) matches the store, finishes a
 * key rotation a crash interrupted, unwraps the store-wide keys and loads the
 * audit chain's head. A store whose rows are not yet authenticated (no
 * integrity key: see integrity.h) opens only with unsealed_ok, for `custos
 * verify` to check and seal it. No recovery is run: interfaces open a vault
 * with cu_vault_open (recover.h), which loads it and then recovers it. */
CU_MUST_USE int cu_vault_load(const char *store_dir, const char *key_path, bool unsealed_ok,
                              cu_vault **out, cu_err *err);
void cu_vault_close(cu_vault *v);

/* The master key file in use and the store's id. */
const char *cu_vault_key_path(const cu_vault *v);
const char *cu_vault_store_id(const cu_vault *v);

CU_MUST_USE int cu_vault_batch_begin(cu_vault *v, cu_err *err);
CU_MUST_USE int cu_vault_batch_commit(cu_vault *v, cu_err *err);
void cu_vault_batch_abort(cu_vault *v);
/* How many operations one batch may hold on this store's backend
 * (cu_store_batch_limit): fewer on PostgreSQL, whose per-session cache of
 * subtransactions (one per savepoint that writes) holds 64. */
unsigned cu_vault_batch_limit(const cu_vault *v);

/* Re-running a transaction the database aborted to keep concurrent ones
 * apart (CU_ERETRY: a PostgreSQL serialisation failure or deadlock, at any
 * statement, savepoint, release or the commit). The caller runs the whole
 * transaction (an operation, a command's operations, a batch) at most
 * CU_TX_ATTEMPTS times:
 *     unsigned attempts = 0;
 *     do rc = work(...); while (cu_vault_rerun(v, rc, ++attempts));
 * cu_vault_rerun is called once the attempt's transaction has ended
 * (committed, or undone as a failure undoes it: audit head, caches). It
 * returns true when the attempt failed retryably (rc is CU_ERETRY, or CU_EIO
 * after a store call failed CU_ERETRY in it, the database refusing the rest
 * of an aborted transaction: see cu_store_take_retry), fewer than
 * CU_TX_ATTEMPTS were made, no transaction is open and no erasure of the
 * attempt reached the erasure ledger (one that did is completed from the
 * ledger, as after any failure); it has then waited a short random time (a few
 * milliseconds, longer after each attempt). It always clears the store's
 * note of a retryable failure. */
#define CU_TX_ATTEMPTS 3
bool cu_vault_rerun(cu_vault *v, int rc, unsigned attempts);
/* The wait before the next attempt (cu_vault_rerun's): a few random
 * milliseconds, longer after each attempt. For a transaction run without a
 * vault yet (the opening of one). */
void cu_vault_backoff(unsigned attempts);
/* Whether a store call failed CU_ERETRY since the last cu_vault_rerun or
 * cu_vault_take_retry (which clears the note): inside a batch, after each
 * operation, to stop the batch and run it again. */
bool cu_vault_take_retry(cu_vault *v);

/* Inside a batch: rewrites one meta row ("health_probe", the time), so that
 * the batch's commit has to append to the write-ahead log and sync it: a
 * commit that succeeds proves the store can write now. No personal data. */
CU_MUST_USE int cu_vault_health_probe(cu_vault *v, cu_err *err);

/* Rewraps every data key and store-wide key under a new master key, in one
 * transaction with its audit event, then replaces the key file. The item
 * ciphertexts are not touched. new_key_id receives the new key's id (hex). */
CU_MUST_USE int cu_vault_rotate_master(cu_vault *v, const cu_actor *a,
                                       char new_key_id[2 * CU_KEYID_BYTES + 1], cu_err *err);

/* Adds a controller (an organisation; its name is not personal data). */
CU_MUST_USE int cu_controller_add(cu_vault *v, const cu_actor *a, const char *name,
                                  char id_out[CU_ID_STRLEN], cu_err *err);

/* The seq of the last audit event appended (committed or in the open batch). */
int64_t cu_vault_audit_seq(const cu_vault *v);

/* The audit signing public key (hex), for pinning outside the store. */
void cu_vault_public_key(const cu_vault *v, char out[2 * CU_PUBKEY_BYTES + 1]);

#endif
