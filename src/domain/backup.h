/*
 * backup.h — encrypted backups of a live store, and their restore.
 *
 * A backup file:
 *
 *   "CUSTOSBK" | version (1 byte, 1) | 3 zero bytes | store id (36 bytes)
 *   | master key id (16 bytes) | secretstream header (24 bytes)
 *   | chunks: length (4 bytes, big-endian, 17 .. 65553) | sealed chunk
 *
 * The chunks are an XChaCha20-Poly1305 secretstream of a consistent SQLite
 * copy of the store (cu_store_backup), under a key derived from the master
 * key ("backup__", 1); the first chunk's associated data is the 64 bytes
 * before the stream header, the last chunk carries the final tag, and
 * nothing may follow it. The file is written under a temporary name with mode
 * 0600 and renamed into place once durable.
 */
#ifndef CUSTOS_DOMAIN_BACKUP_H
#define CUSTOS_DOMAIN_BACKUP_H

#include <stdio.h>

#include "domain/vault.h"

#define CU_BACKUP_MAGIC "CUSTOSBK"
#define CU_BACKUP_CHUNK 65536
#define CU_BACKUP_PREFIX_BYTES 64

typedef struct cu_backup_info {
    char store_id[CU_ID_STRLEN];
    unsigned char key_id[CU_KEYID_BYTES];
    int64_t bytes; /* plaintext bytes */
} cu_backup_info;

/* Writes an encrypted backup of the open store to path (which must not
 * exist), audited as "backup". */
CU_MUST_USE int cu_vault_backup(cu_vault *v, const cu_actor *a, const char *path,
                                cu_backup_info *info, cu_err *err);

/* Removes the plain store copies that an interrupted backup left in
 * store_dir (called when a vault is opened). */
void cu_backup_cleanup(const char *store_dir);

/* Encrypts the plain bytes of src (a store copy) into out as a backup of
 * the store store_id. */
CU_MUST_USE int cu_backup_encode(const cu_key *master, const char *store_id, FILE *src,
                                 FILE *out, cu_backup_info *info, cu_err *err);

/* Decrypts a backup stream from in to out (either may be any FILE). The
 * header's key id must be the master key's. CU_ECORRUPT for anything that is
 * not a complete, authentic backup; out may then hold a partial plaintext,
 * which the caller discards. */
CU_MUST_USE int cu_backup_decode(const cu_key *master, FILE *in, FILE *out,
                                 cu_backup_info *info, cu_err *err);

/* Restores a backup into store_dir (created if missing; it must hold no
 * store). The master key is key_path (default store_dir/master.key); with
 * keep_key_copy, when store_dir has no master.key, it is copied there.
 * ledger_path is the current erasure ledger, copied into store_dir; it may be
 * NULL only when store_dir already holds one or without_ledger is set. The
 * restored store is then opened once, which re-applies every erasure the
 * ledger holds and the backup does not (*replayed counts them). On failure
 * nothing is left behind. */
CU_MUST_USE int cu_backup_restore(const char *file, const char *store_dir, const char *key_path,
                                  bool keep_key_copy, const char *ledger_path, bool without_ledger,
                                  cu_backup_info *info, int64_t *replayed, cu_err *err);

#endif
