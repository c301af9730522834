/*
 * crypto.h — every cryptographic operation custos performs. This module is the
 * only one that calls libsodium; nothing else includes <sodium.h>.
 *
 * Keys: a cu_key is 32 bytes of secret key material. Long-lived keys (the master
 * key and keys derived from or unwrapped by it) live in guarded, locked memory
 * from cu_key_new_locked() and are wiped by cu_key_free(). Short-lived keys
 * (a subject's data key during one operation) may live on the stack; their holder
 * must call cu_key_wipe() on every path.
 *
 * Sealed values: XChaCha20-Poly1305-IETF, laid out as nonce(24) || ciphertext ||
 * tag(16). The associated data binds a ciphertext to where it belongs, so moving
 * it elsewhere makes cu_aead_open fail with CU_ECORRUPT and leaves out empty.
 *
 * Return values: 0 (CU_OK) on success, a cu_status otherwise.
 */
#ifndef CUSTOS_CRYPTO_CRYPTO_H
#define CUSTOS_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define CU_KEY_BYTES 32
#define CU_HASH_BYTES 32
#define CU_KEYID_BYTES 16
#define CU_AEAD_NONCE_BYTES 24
#define CU_AEAD_TAG_BYTES 16
#define CU_AEAD_OVERHEAD (CU_AEAD_NONCE_BYTES + CU_AEAD_TAG_BYTES)
#define CU_WRAPPED_KEY_BYTES (CU_KEY_BYTES + CU_AEAD_OVERHEAD)
#define CU_SIG_BYTES 64
#define CU_PUBKEY_BYTES 32
/* A random identifier: a UUID (version 4) as 36 characters plus NUL. */
#define CU_ID_STRLEN 37

typedef struct cu_key {
    unsigned char k[CU_KEY_BYTES];
} cu_key;

/* Initialises libsodium; call once before anything else. */
CU_MUST_USE int cu_crypto_init(void);

void cu_random(void *p, size_t n);
/* A random UUID v4 string. */
void cu_random_id(char out[CU_ID_STRLEN]);
/* A UUID in the version 7 layout (RFC 9562): the first 48 bits now_us in
 * Unix milliseconds, the other 74 random. Rows keyed by such ids (items by
 * subject and id, tasks by id) are appended at the end of their range
 * instead of dirtying a random page each, so a batch writes and fsyncs
 * fewer pages. The time in the id is one the row holds anyway (an item's
 * recorded_at, a task's created_at). */
void cu_time_id(int64_t now_us, char out[CU_ID_STRLEN]);
/* True when s is a lower-case UUID of the form cu_random_id or cu_time_id
 * produces. */
bool cu_id_valid(const char *s);

/* Wipes memory in a way the compiler cannot elide. */
void cu_wipe(void *p, size_t n);
/* Constant-time comparison: true when the n bytes at a and b are equal. */
CU_MUST_USE bool cu_ct_equal(const void *a, const void *b, size_t n);

/* Keys in guarded, locked, read-only memory. NULL when memory is exhausted. */
cu_key *cu_key_new_locked(const cu_key *init_or_null_for_random);
void cu_key_free(cu_key *k);
void cu_key_random(cu_key *k);
void cu_key_wipe(cu_key *k);
/* Derives subkey `id` for the 8-character context ctx (BLAKE2b KDF). */
void cu_key_derive(const cu_key *root, uint64_t id, const char ctx[8], cu_key *out);
/* A public fingerprint of a key: BLAKE2b-128 keyed by it. */
void cu_key_id(const cu_key *k, unsigned char out[CU_KEYID_BYTES]);

/* Seals plain under k with associated data ad, appending to out. */
CU_MUST_USE int cu_aead_seal(const cu_key *k, const void *ad, size_t adlen,
                             const void *plain, size_t n, cu_buf *out);
/* Opens a sealed value, appending the plaintext to out. On failure out is left
 * as it was (any partial output wiped) and the result is CU_ECORRUPT. */
CU_MUST_USE int cu_aead_open(const cu_key *k, const void *ad, size_t adlen,
                             const void *sealed, size_t n, cu_buf *out);

/* Wraps key under kek into out[CU_WRAPPED_KEY_BYTES]. */
void cu_key_wrap(const cu_key *kek, const void *ad, size_t adlen, const cu_key *key,
                 unsigned char out[CU_WRAPPED_KEY_BYTES]);
/* Unwraps; CU_ECORRUPT when the wrapping key, ad or bytes are wrong. */
CU_MUST_USE int cu_key_unwrap(const cu_key *kek, const void *ad, size_t adlen,
                              const void *wrapped, size_t n, cu_key *out);

/* Blind index: BLAKE2b-256 keyed by k over domain || 0x00 || value. */
void cu_blind_index(const cu_key *k, const char *domain, const void *v, size_t n,
                    unsigned char out[CU_HASH_BYTES]);

/* Row authentication codes: BLAKE2b-256 keyed by k over a domain string and
 * a sequence of fields, each encoded with a type byte and its length, so no
 * two different sequences of fields encode alike (a NULL string differs from
 * an empty one). A holder calls cu_mac_init, one call per field, then
 * cu_mac_final (which wipes the state) or cu_mac_check. */
typedef struct cu_mac {
    _Alignas(64) unsigned char state[384];
} cu_mac;
void cu_mac_init(cu_mac *m, const cu_key *k, const char *domain);
void cu_mac_str(cu_mac *m, const char *s);
void cu_mac_bytes(cu_mac *m, const void *p, size_t n);
void cu_mac_i64(cu_mac *m, int64_t v);
void cu_mac_final(cu_mac *m, unsigned char out[CU_HASH_BYTES]);
/* Finishes m and compares it with expected (n bytes; a wrong length never
 * matches) in constant time. */
CU_MUST_USE bool cu_mac_check(cu_mac *m, const void *expected, size_t n);

/* BLAKE2b-256 of a || b (either may be empty). */
void cu_hash2(const void *a, size_t an, const void *b, size_t bn,
              unsigned char out[CU_HASH_BYTES]);

/* Ed25519 signing from a 32-byte seed held in a cu_key. */
void cu_sign_public(const cu_key *seed, unsigned char pk[CU_PUBKEY_BYTES]);
void cu_sign(const cu_key *seed, const void *msg, size_t n, unsigned char sig[CU_SIG_BYTES]);
/* An Ed25519 key expanded once from its seed, for signing often (the audit
 * chain head, once a batch), in guarded, locked, read-only memory. NULL when
 * memory is exhausted. */
typedef struct cu_signer cu_signer;
cu_signer *cu_signer_new(const cu_key *seed);
void cu_signer_free(cu_signer *s);
/* Its public key, as cu_sign_public of the seed gives. */
void cu_signer_public(const cu_signer *s, unsigned char pk[CU_PUBKEY_BYTES]);
/* The same signature as cu_sign with the seed it was made from. */
void cu_signer_sign(const cu_signer *s, const void *msg, size_t n,
                    unsigned char sig[CU_SIG_BYTES]);
/* True when sig is pk's valid signature of msg. */
CU_MUST_USE bool cu_sign_verify(const unsigned char pk[CU_PUBKEY_BYTES], const void *msg, size_t n,
                                const unsigned char sig[CU_SIG_BYTES]);

/* Streams (XChaCha20-Poly1305 secretstream): a sequence of sealed chunks
 * whose order and end are authenticated, for files too large to seal whole
 * (backups). Each chunk grows by CU_STREAM_ABYTES; the last carries a final
 * tag, so truncation is detected. */
#define CU_STREAM_HEADER_BYTES 24
#define CU_STREAM_ABYTES 17
typedef struct cu_stream {
    _Alignas(16) unsigned char state[64];
} cu_stream;
void cu_stream_push_init(cu_stream *s, const cu_key *k,
                         unsigned char header[CU_STREAM_HEADER_BYTES]);
/* Seals n bytes into out (n + CU_STREAM_ABYTES bytes). */
void cu_stream_push(cu_stream *s, const void *m, size_t n, const void *ad, size_t adlen,
                    bool final, unsigned char *out);
CU_MUST_USE int cu_stream_pull_init(cu_stream *s, const cu_key *k,
                                    const unsigned char header[CU_STREAM_HEADER_BYTES]);
/* Opens one chunk of n bytes (n >= CU_STREAM_ABYTES) into out (n -
 * CU_STREAM_ABYTES bytes); CU_ECORRUPT when it does not authenticate. */
CU_MUST_USE int cu_stream_pull(cu_stream *s, const void *c, size_t n, const void *ad,
                               size_t adlen, unsigned char *out, bool *final);
void cu_stream_wipe(cu_stream *s);

/* HMAC-SHA-256 of n bytes at m under k. */
#define CU_HMAC_BYTES 32
void cu_hmac_sha256(const cu_key *k, const void *m, size_t n, unsigned char out[CU_HMAC_BYTES]);

/* Base64 of n bytes into out (cap bytes, NUL-terminated): standard alphabet
 * with padding when url is false, URL-safe without padding when true.
 * CU_EINVAL when out is too small. */
#define CU_BASE64_LEN(n) (((n) + 2) / 3 * 4 + 1)
CU_MUST_USE int cu_base64(const void *p, size_t n, bool url, char *out, size_t cap);
/* Decodes URL-safe base64 without padding into exactly n bytes; false on any
 * other input (another length, a byte outside the alphabet, padding). */
CU_MUST_USE bool cu_unbase64url(const char *s, size_t len, void *out, size_t n);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void cu_hex(const void *p, size_t n, char *out);
/* Decodes exactly n bytes of hex; false on any other input. */
bool cu_unhex(const char *hex, size_t hexlen, void *out, size_t n);

#endif
