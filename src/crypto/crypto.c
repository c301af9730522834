#include "crypto/crypto.h"

#include <sodium.h>
#include <string.h>

int cu_crypto_init(void)
{
    return sodium_init() < 0 ? CU_EINTERNAL : CU_OK;
}

void cu_random(void *p, size_t n)
{
    randombytes_buf(p, n);
}

void cu_random_id(char out[CU_ID_STRLEN])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, b, sizeof b);
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
}

void cu_time_id(int64_t now_us, char out[CU_ID_STRLEN])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t ms = now_us > 0 ? (uint64_t)now_us / 1000 : 0;
    cu_random_id(out); /* the random bits, dashes and variant */
    for (int i = 0; i < 12; i++)
        out[i < 8 ? i : i + 1] = hex[(ms >> (44 - 4 * i)) & 0xf];
    out[14] = '7';
}

bool cu_id_valid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

void cu_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

bool cu_ct_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

cu_key *cu_key_new_locked(const cu_key *init)
{
    cu_key *k = sodium_malloc(sizeof *k);
    if (!k)
        return NULL;
    if (init)
        memcpy(k->k, init->k, CU_KEY_BYTES);
    else
        randombytes_buf(k->k, CU_KEY_BYTES);
    sodium_mprotect_readonly(k);
    return k;
}

void cu_key_free(cu_key *k)
{
    if (k) {
        sodium_mprotect_readwrite(k);
        sodium_free(k); /* sodium_free wipes before unmapping */
    }
}

void cu_key_random(cu_key *k)
{
    randombytes_buf(k->k, CU_KEY_BYTES);
}

void cu_key_wipe(cu_key *k)
{
    sodium_memzero(k->k, CU_KEY_BYTES);
}

void cu_key_derive(const cu_key *root, uint64_t id, const char ctx[8], cu_key *out)
{
    crypto_kdf_derive_from_key(out->k, CU_KEY_BYTES, id, ctx, root->k);
}

void cu_key_id(const cu_key *k, unsigned char out[CU_KEYID_BYTES])
{
    static const char msg[] = "custos key id v1";
    crypto_generichash(out, CU_KEYID_BYTES, (const unsigned char *)msg, sizeof msg - 1, k->k,
                       CU_KEY_BYTES);
}

int cu_aead_seal(const cu_key *k, const void *ad, size_t adlen, const void *plain, size_t n,
                 cu_buf *out)
{
    int rc = cu_buf_reserve(out, n + CU_AEAD_OVERHEAD);
    if (rc)
        return rc;
    unsigned char *dst = out->data + out->len;
    randombytes_buf(dst, CU_AEAD_NONCE_BYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(dst + CU_AEAD_NONCE_BYTES, &clen, plain, n, ad,
                                               adlen, NULL, dst, k->k);
    out->len += CU_AEAD_NONCE_BYTES + (size_t)clen;
    out->data[out->len] = '\0';
    return CU_OK;
}

int cu_aead_open(const cu_key *k, const void *ad, size_t adlen, const void *sealed, size_t n,
                 cu_buf *out)
{
    if (n < CU_AEAD_OVERHEAD)
        return CU_ECORRUPT;
    size_t plen = n - CU_AEAD_OVERHEAD;
    int rc = cu_buf_reserve(out, plen);
    if (rc)
        return rc;
    const unsigned char *s = sealed;
    unsigned char *dst = out->data + out->len;
    unsigned long long got = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(dst, &got, NULL, s + CU_AEAD_NONCE_BYTES,
                                                   n - CU_AEAD_NONCE_BYTES, ad, adlen, s,
                                                   k->k) != 0) {
        sodium_memzero(dst, plen);
        out->data[out->len] = '\0';
        return CU_ECORRUPT;
    }
    out->len += (size_t)got;
    out->data[out->len] = '\0';
    return CU_OK;
}

void cu_key_wrap(const cu_key *kek, const void *ad, size_t adlen, const cu_key *key,
                 unsigned char out[CU_WRAPPED_KEY_BYTES])
{
    randombytes_buf(out, CU_AEAD_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + CU_AEAD_NONCE_BYTES, NULL, key->k,
                                               CU_KEY_BYTES, ad, adlen, NULL, out, kek->k);
}

int cu_key_unwrap(const cu_key *kek, const void *ad, size_t adlen, const void *wrapped,
                  size_t n, cu_key *out)
{
    const unsigned char *w = wrapped;
    if (n != CU_WRAPPED_KEY_BYTES ||
        crypto_aead_xchacha20poly1305_ietf_decrypt(out->k, NULL, NULL, w + CU_AEAD_NONCE_BYTES,
                                                   n - CU_AEAD_NONCE_BYTES, ad, adlen, w,
                                                   kek->k) != 0) {
        sodium_memzero(out->k, CU_KEY_BYTES);
        return CU_ECORRUPT;
    }
    return CU_OK;
}

void cu_blind_index(const cu_key *k, const char *domain, const void *v, size_t n,
                    unsigned char out[CU_HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, k->k, CU_KEY_BYTES, CU_HASH_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)domain, strlen(domain) + 1);
    crypto_generichash_update(&st, v, n);
    crypto_generichash_final(&st, out, CU_HASH_BYTES);
    sodium_memzero(&st, sizeof st);
}

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((cu_mac *)0)->state),
               "cu_mac holds a BLAKE2b state");

static crypto_generichash_state *mac_state(cu_mac *m)
{
    return (crypto_generichash_state *)(void *)m->state;
}

static void mac_field(cu_mac *m, unsigned char type, const void *p, size_t n)
{
    unsigned char hdr[9];
    hdr[0] = type;
    for (int i = 0; i < 8; i++)
        hdr[1 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    crypto_generichash_update(mac_state(m), hdr, sizeof hdr);
    if (n)
        crypto_generichash_update(mac_state(m), p, n);
}

void cu_mac_init(cu_mac *m, const cu_key *k, const char *domain)
{
    crypto_generichash_init(mac_state(m), k->k, CU_KEY_BYTES, CU_HASH_BYTES);
    mac_field(m, 'D', domain, strlen(domain));
}

void cu_mac_str(cu_mac *m, const char *s)
{
    if (s)
        mac_field(m, 'S', s, strlen(s));
    else
        mac_field(m, 'N', NULL, 0);
}

void cu_mac_bytes(cu_mac *m, const void *p, size_t n)
{
    if (p)
        mac_field(m, 'B', p, n);
    else
        mac_field(m, 'N', NULL, 0);
}

void cu_mac_i64(cu_mac *m, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
    mac_field(m, 'I', b, sizeof b);
}

void cu_mac_final(cu_mac *m, unsigned char out[CU_HASH_BYTES])
{
    crypto_generichash_final(mac_state(m), out, CU_HASH_BYTES);
    sodium_memzero(m, sizeof *m);
}

bool cu_mac_check(cu_mac *m, const void *expected, size_t n)
{
    unsigned char h[CU_HASH_BYTES];
    cu_mac_final(m, h);
    bool ok = expected && n == CU_HASH_BYTES && sodium_memcmp(h, expected, CU_HASH_BYTES) == 0;
    sodium_memzero(h, sizeof h);
    return ok;
}

void cu_hash2(const void *a, size_t an, const void *b, size_t bn,
              unsigned char out[CU_HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, CU_HASH_BYTES);
    if (an)
        crypto_generichash_update(&st, a, an);
    if (bn)
        crypto_generichash_update(&st, b, bn);
    crypto_generichash_final(&st, out, CU_HASH_BYTES);
}

void cu_sign_public(const cu_key *seed, unsigned char pk[CU_PUBKEY_BYTES])
{
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(pk, sk, seed->k);
    sodium_memzero(sk, sizeof sk);
}

void cu_sign(const cu_key *seed, const void *msg, size_t n, unsigned char sig[CU_SIG_BYTES])
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(pk, sk, seed->k);
    crypto_sign_detached(sig, NULL, msg, n, sk);
    sodium_memzero(sk, sizeof sk);
}

struct cu_signer {
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

cu_signer *cu_signer_new(const cu_key *seed)
{
    cu_signer *s = sodium_malloc(sizeof *s);
    if (!s)
        return NULL;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_seed_keypair(pk, s->sk, seed->k);
    sodium_mprotect_readonly(s);
    return s;
}

void cu_signer_free(cu_signer *s)
{
    if (s) {
        sodium_mprotect_readwrite(s);
        sodium_free(s); /* wiped before unmapping */
    }
}

void cu_signer_public(const cu_signer *s, unsigned char pk[CU_PUBKEY_BYTES])
{
    crypto_sign_ed25519_sk_to_pk(pk, s->sk);
}

void cu_signer_sign(const cu_signer *s, const void *msg, size_t n,
                    unsigned char sig[CU_SIG_BYTES])
{
    crypto_sign_detached(sig, NULL, msg, n, s->sk);
}

bool cu_sign_verify(const unsigned char pk[CU_PUBKEY_BYTES], const void *msg, size_t n,
                    const unsigned char sig[CU_SIG_BYTES])
{
    return crypto_sign_verify_detached(sig, msg, n, pk) == 0;
}

void cu_hex(const void *p, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, p, n);
}

bool cu_unhex(const char *hex, size_t hexlen, void *out, size_t n)
{
    size_t got = 0;
    const char *end = NULL;
    if (hexlen != 2 * n)
        return false;
    return sodium_hex2bin(out, n, hex, hexlen, NULL, &got, &end) == 0 && got == n &&
           end == hex + hexlen;
}

/* ---- streams ---- */

_Static_assert(sizeof(crypto_secretstream_xchacha20poly1305_state) <= sizeof(cu_stream),
               "cu_stream too small");
_Static_assert(crypto_secretstream_xchacha20poly1305_HEADERBYTES == CU_STREAM_HEADER_BYTES,
               "stream header size");
_Static_assert(crypto_secretstream_xchacha20poly1305_ABYTES == CU_STREAM_ABYTES,
               "stream overhead");

void cu_stream_push_init(cu_stream *s, const cu_key *k,
                         unsigned char header[CU_STREAM_HEADER_BYTES])
{
    crypto_secretstream_xchacha20poly1305_init_push(
        (crypto_secretstream_xchacha20poly1305_state *)s->state, header, k->k);
}

void cu_stream_push(cu_stream *s, const void *m, size_t n, const void *ad, size_t adlen,
                    bool final, unsigned char *out)
{
    crypto_secretstream_xchacha20poly1305_push(
        (crypto_secretstream_xchacha20poly1305_state *)s->state, out, NULL, m, n, ad, adlen,
        final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
}

int cu_stream_pull_init(cu_stream *s, const cu_key *k,
                        const unsigned char header[CU_STREAM_HEADER_BYTES])
{
    return crypto_secretstream_xchacha20poly1305_init_pull(
               (crypto_secretstream_xchacha20poly1305_state *)s->state, header, k->k) == 0
               ? CU_OK
               : CU_ECORRUPT;
}

int cu_stream_pull(cu_stream *s, const void *c, size_t n, const void *ad, size_t adlen,
                   unsigned char *out, bool *final)
{
    unsigned char tag = 0;
    if (n < CU_STREAM_ABYTES ||
        crypto_secretstream_xchacha20poly1305_pull(
            (crypto_secretstream_xchacha20poly1305_state *)s->state, out, NULL, &tag, c, n, ad,
            adlen) != 0)
        return CU_ECORRUPT;
    *final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    return CU_OK;
}

void cu_stream_wipe(cu_stream *s)
{
    sodium_memzero(s->state, sizeof s->state);
}

_Static_assert(crypto_auth_hmacsha256_KEYBYTES == CU_KEY_BYTES, "HMAC key size");
_Static_assert(crypto_auth_hmacsha256_BYTES == CU_HMAC_BYTES, "HMAC size");

void cu_hmac_sha256(const cu_key *k, const void *m, size_t n, unsigned char out[CU_HMAC_BYTES])
{
    crypto_auth_hmacsha256(out, m, n, k->k);
}

int cu_base64(const void *p, size_t n, bool url, char *out, size_t cap)
{
    int variant = url ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL;
    if (cap < sodium_base64_ENCODED_LEN(n, variant))
        return CU_EINVAL;
    sodium_bin2base64(out, cap, p, n, variant);
    return CU_OK;
}

bool cu_unbase64url(const char *s, size_t len, void *out, size_t n)
{
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(out, n, s, len, NULL, &got, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        got != n || end != s + len) {
        cu_wipe(out, n);
        return false;
    }
    return true;
}
