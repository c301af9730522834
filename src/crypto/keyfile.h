/*
 * keyfile.h — the master key file.
 *
 * Format: the line "custos-master-key-v1", then 64 lower-case hex digits and a
 * newline. The file must be a regular file that neither group nor others can
 * read or write (mode 0600 or stricter); anything else is refused with CU_EKEY
 * and a message that names the path and the fix, never the key. Loaded keys live
 * in locked memory (cu_key_new_locked) and every temporary copy is wiped.
 */
#ifndef CUSTOS_CRYPTO_KEYFILE_H
#define CUSTOS_CRYPTO_KEYFILE_H

#include "crypto/crypto.h"

/* Creates a new random master key at path (which must not exist). */
CU_MUST_USE int cu_keyfile_create(const char *path, cu_key **out, cu_err *err);
/* Writes key to path with mode 0600, replacing any file there atomically. */
CU_MUST_USE int cu_keyfile_write(const char *path, const cu_key *key, cu_err *err);
/* Loads the key at path after checking the file's type and permissions. */
CU_MUST_USE int cu_keyfile_load(const char *path, cu_key **out, cu_err *err);

#endif
