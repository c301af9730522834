/*
 * ledger.h — the erasure ledger: an append-only file next to the store that
 * records every erasure by ids and times only (no personal values), so that
 * erasures survive the restore of a backup taken before them.
 *
 * One line per erasure, fields separated by tabs:
 *
 *   E1 <seq> <at_us> <subject_id> <items> <prev> <sig>
 *
 * items is "*" (the whole subject) or a comma-separated list of item ids;
 * prev is the hex BLAKE2b-256 of the previous entry's body (everything before
 * "\t<sig>"), or for the first entry of "custos/v1/erasure-ledger/<store id>";
 * sig is the hex Ed25519 signature of the body by the store's audit signing
 * key. seq counts from 1 without gaps. Anything else is an error.
 */
#ifndef CUSTOS_DOMAIN_LEDGER_H
#define CUSTOS_DOMAIN_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "util/buf.h"
#include "util/err.h"

#define CU_LEDGER_FILE "erasure.ledger"
#define CU_LEDGER_MAX_ITEMS 65536
#define CU_LEDGER_MAX_BYTES ((size_t)1 << 30)

typedef struct cu_ledger_entry {
    int64_t seq, at;
    char subject[CU_ID_STRLEN];
    bool whole;                   /* "*": the whole subject */
    const char *items;            /* comma-separated ids (not NUL-terminated) */
    size_t items_len, nitems;
    unsigned char hash[CU_HASH_BYTES];
} cu_ledger_entry;

typedef int (*cu_ledger_cb)(void *ctx, const cu_ledger_entry *e);

/* Parses and verifies a ledger's text: the hash chain from the store-bound
 * start, and (when pk is not NULL) the signature of every entry with seq >
 * sigs_after. Calls cb (which may be NULL) for each entry in order; *last_seq
 * and last_hash receive the end of the chain (0 and the start for an empty
 * ledger). CU_ETAMPER, naming the line, for any malformed or unverifiable
 * entry. */
CU_MUST_USE int cu_ledger_parse(const void *text, size_t n, const char *store_id,
                                const unsigned char *pk, int64_t sigs_after, cu_ledger_cb cb,
                                void *ctx, int64_t *last_seq,
                                unsigned char last_hash[CU_HASH_BYTES], cu_err *err);

/* Reads the ledger file at path (a missing file reads as empty, *exists
 * false) and parses it as cu_ledger_parse does. */
CU_MUST_USE int cu_ledger_read(const char *path, const char *store_id, const unsigned char *pk,
                               int64_t sigs_after, cu_ledger_cb cb, void *ctx, bool *exists,
                               int64_t *last_seq, unsigned char last_hash[CU_HASH_BYTES],
                               cu_err *err);

/* The i-th id of an entry's item list (i < nitems). */
void cu_ledger_item(const cu_ledger_entry *e, size_t i, char out[CU_ID_STRLEN]);

/* Appends one entry under an exclusive lock and makes it durable (fsync of
 * the file, and of the directory when the file is new). items is NULL for the
 * whole subject. *seq and hash receive the new entry's seq and hash. */
CU_MUST_USE int cu_ledger_append(const char *path, const char *store_id, const cu_key *seed,
                                 int64_t at, const char *subject_id,
                                 const char (*items)[CU_ID_STRLEN], size_t nitems, int64_t *seq,
                                 unsigned char hash[CU_HASH_BYTES], cu_err *err);

/* The same, also giving the entry's line (without its newline) in line_out,
 * which may be NULL. */
CU_MUST_USE int cu_ledger_append_line(const char *path, const char *store_id,
                                      const cu_key *seed, int64_t at, const char *subject_id,
                                      const char (*items)[CU_ID_STRLEN], size_t nitems,
                                      int64_t *seq, unsigned char hash[CU_HASH_BYTES],
                                      cu_buf *line_out, cu_err *err);

/* The file's text as it is (a missing file reads as empty), unverified. */
CU_MUST_USE int cu_ledger_read_text(const char *path, cu_buf *out, cu_err *err);

/* The file as a mirror of the store's erasure table (whose entries, as
 * text, the caller has verified): under the exclusive lock, when the file is
 * a prefix of text, the rest of text is appended and made durable; when text
 * is a prefix of the file, nothing is written. file_out receives the file's
 * text afterwards (unverified where it is longer than text). CU_ETAMPER when
 * neither is a prefix of the other. A missing file is made. */
CU_MUST_USE int cu_ledger_mirror(const char *path, const void *text, size_t n, cu_buf *file_out,
                                 cu_err *err);

#endif
