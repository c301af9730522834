/*
 * secrets.h — staff credentials: password hashes, session and API tokens,
 * time-based one-time codes. Part of the crypto layer: the only code that calls
 * libsodium (and nettle, for the HMAC-SHA1 that authenticator apps expect).
 *
 * Passwords: Argon2id through crypto_pwhash_str, at least the INTERACTIVE
 * limits (cu_pwhash_limits raises them); cu_pwhash_needs_rehash says when a
 * stored hash was made with lower limits than today's.
 *
 * Tokens: 32 random bytes, base64url without padding (43 characters), with a
 * prefix naming their kind ("cus_" session, "cut_" API token). Only
 * BLAKE2b-256(token) is ever stored.
 *
 * TOTP (RFC 6238): HMAC-SHA1, 30-second steps, 6 digits, 20-byte secrets
 * shown as base32 in an otpauth:// URI.
 */
#ifndef CUSTOS_CRYPTO_SECRETS_H
#define CUSTOS_CRYPTO_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define CU_PWHASH_STRBYTES 128
#define CU_PASSWORD_MIN 12
#define CU_PASSWORD_MAX 256
/* prefix (4) + 43 base64url characters + NUL */
#define CU_TOKEN_STRLEN 48
#define CU_TOTP_SECRET_BYTES 20
#define CU_TOTP_B32_LEN 33 /* 32 characters + NUL */

/* Hashes a password into out (a NUL-terminated string). CU_ENOMEM when the
 * machine cannot give Argon2id its memory. */
CU_MUST_USE int cu_pwhash(const char *pw, size_t n, char out[CU_PWHASH_STRBYTES]);
/* True when pw matches the stored hash. Constant time in the password. */
CU_MUST_USE bool cu_pwhash_verify(const char *stored, const char *pw, size_t n);
bool cu_pwhash_needs_rehash(const char *stored);

/* A new token "<prefix><43 chars>"; prefix is 4 characters. */
void cu_token_new(const char prefix[5], char out[CU_TOKEN_STRLEN]);
/* True when s has the form cu_token_new produces with that prefix. */
bool cu_token_wellformed(const char *s, size_t n, const char prefix[5]);
/* BLAKE2b-256 of the token: what is stored and looked up. */
void cu_token_hash(const char *token, size_t n, unsigned char out[CU_HASH_BYTES]);

void cu_totp_secret_new(unsigned char secret[CU_TOTP_SECRET_BYTES]);
void cu_totp_secret_b32(const unsigned char secret[CU_TOTP_SECRET_BYTES],
                        char out[CU_TOTP_B32_LEN]);
/* The 6-digit code for a 30-second step (unix seconds / 30). */
uint32_t cu_totp_code(const unsigned char secret[CU_TOTP_SECRET_BYTES], uint64_t step);
/* Checks a 6-digit code against steps now-1, now, now+1, never accepting a step
 * at or before last_step (replay). On success sets *matched to the step. */
CU_MUST_USE bool cu_totp_verify(const unsigned char secret[CU_TOTP_SECRET_BYTES], const char *code,
                                size_t n, uint64_t now_step, uint64_t last_step, uint64_t *matched);

#endif
