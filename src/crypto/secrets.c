#include "crypto/secrets.h"

#include <nettle/hmac.h>
#include <sodium.h>
#include <string.h>

int cu_pwhash(const char *pw, size_t n, char out[CU_PWHASH_STRBYTES])
{
    if (crypto_pwhash_str(out, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return CU_ENOMEM;
    return CU_OK;
}

bool cu_pwhash_verify(const char *stored, const char *pw, size_t n)
{
    return crypto_pwhash_str_verify(stored, pw, n) == 0;
}

bool cu_pwhash_needs_rehash(const char *stored)
{
    return crypto_pwhash_str_needs_rehash(stored, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

void cu_token_new(const char prefix[5], char out[CU_TOKEN_STRLEN])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(out, prefix, 4);
    sodium_bin2base64(out + 4, CU_TOKEN_STRLEN - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

bool cu_token_wellformed(const char *s, size_t n, const char prefix[5])
{
    if (n != CU_TOKEN_STRLEN - 1 || memcmp(s, prefix, 4) != 0)
        return false;
    for (size_t i = 4; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

void cu_token_hash(const char *token, size_t n, unsigned char out[CU_HASH_BYTES])
{
    static const char tag[] = "custos token v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, CU_HASH_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)tag, sizeof tag);
    crypto_generichash_update(&st, (const unsigned char *)token, n);
    crypto_generichash_final(&st, out, CU_HASH_BYTES);
}

void cu_totp_secret_new(unsigned char secret[CU_TOTP_SECRET_BYTES])
{
    randombytes_buf(secret, CU_TOTP_SECRET_BYTES);
}

void cu_totp_secret_b32(const unsigned char secret[CU_TOTP_SECRET_BYTES],
                        char out[CU_TOTP_B32_LEN])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < CU_TOTP_SECRET_BYTES; i++) {
        acc = acc << 8 | secret[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    out[o] = '\0'; /* 20 bytes = 160 bits = exactly 32 characters */
}

uint32_t cu_totp_code(const unsigned char secret[CU_TOTP_SECRET_BYTES], uint64_t step)
{
    unsigned char msg[8], mac[SHA1_DIGEST_SIZE];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)step;
        step >>= 8;
    }
    struct hmac_sha1_ctx ctx;
    hmac_sha1_set_key(&ctx, CU_TOTP_SECRET_BYTES, secret);
    hmac_sha1_update(&ctx, sizeof msg, msg);
    hmac_sha1_digest(&ctx, sizeof mac, mac);
    sodium_memzero(&ctx, sizeof ctx);
    unsigned off = mac[SHA1_DIGEST_SIZE - 1] & 0x0f;
    uint32_t bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
                   (uint32_t)mac[off + 2] << 8 | mac[off + 3];
    sodium_memzero(mac, sizeof mac);
    return bin % 1000000;
}

bool cu_totp_verify(const unsigned char secret[CU_TOTP_SECRET_BYTES], const char *code,
                    size_t n, uint64_t now_step, uint64_t last_step, uint64_t *matched)
{
    if (n != 6)
        return false;
    uint32_t want = 0;
    for (size_t i = 0; i < 6; i++) {
        if (code[i] < '0' || code[i] > '9')
            return false;
        want = want * 10 + (uint32_t)(code[i] - '0');
    }
    bool ok = false;
    for (uint64_t s = now_step ? now_step - 1 : 0; s <= now_step + 1; s++) {
        /* every candidate is computed, so timing does not tell which matched */
        bool hit = cu_totp_code(secret, s) == want && s > last_step;
        if (hit && !ok) {
            ok = true;
            *matched = s;
        }
    }
    return ok;
}
