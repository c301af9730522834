/*
 * test_crypto.c — crypto (AEAD, key wrap, blind index, signing, hex, ids) and
 * the master key file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdir.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/keyfile.h"
#include "util/buf.h"
#include "util/err.h"

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

static const char AD[] = "custos/test/ad";
static const char PLAIN[] = "Zebedee Quux, 12 Acacia Avenue";

/* Seals PLAIN under k with AD into out (fresh). */
static void seal_plain(const cu_key *k, cu_buf *out)
{
    cu_buf_init(out, 0);
    assert_int_equal(cu_aead_seal(k, AD, sizeof AD - 1, PLAIN, sizeof PLAIN - 1, out), CU_OK);
    assert_int_equal(out->len, sizeof PLAIN - 1 + CU_AEAD_OVERHEAD);
}

/* ------------------------------------------------------------- AEAD ---- */

static void test_aead_round_trip(void **state)
{
    (void)state;
    cu_key k;
    cu_key_random(&k);
    cu_buf sealed;
    seal_plain(&k, &sealed);
    /* The ciphertext does not contain the plaintext. */
    assert_null(memmem(sealed.data, sealed.len, "Zebedee", 7));

    cu_buf out;
    cu_buf_init(&out, 0);
    assert_int_equal(cu_aead_open(&k, AD, sizeof AD - 1, sealed.data, sealed.len, &out), CU_OK);
    assert_int_equal(out.len, sizeof PLAIN - 1);
    assert_memory_equal(out.data, PLAIN, sizeof PLAIN - 1);
    assert_int_equal(out.data[out.len], '\0');

    /* Opening appends to what the buffer already holds. */
    cu_buf pre;
    cu_buf_init(&pre, 0);
    assert_int_equal(cu_buf_append_str(&pre, "prefix:"), CU_OK);
    assert_int_equal(cu_aead_open(&k, AD, sizeof AD - 1, sealed.data, sealed.len, &pre), CU_OK);
    assert_int_equal(pre.len, 7 + sizeof PLAIN - 1);
    assert_memory_equal(pre.data, "prefix:", 7);
    assert_memory_equal(pre.data + 7, PLAIN, sizeof PLAIN - 1);

    /* Two seals of the same plaintext differ (random nonce). */
    cu_buf again;
    seal_plain(&k, &again);
    assert_int_equal(again.len, sealed.len);
    assert_memory_not_equal(again.data, sealed.data, sealed.len);

    /* The empty plaintext round-trips too. */
    cu_buf empty, eout;
    cu_buf_init(&empty, 0);
    cu_buf_init(&eout, 0);
    assert_int_equal(cu_aead_seal(&k, NULL, 0, "", 0, &empty), CU_OK);
    assert_int_equal(empty.len, CU_AEAD_OVERHEAD);
    assert_int_equal(cu_aead_open(&k, NULL, 0, empty.data, empty.len, &eout), CU_OK);
    assert_int_equal(eout.len, 0);

    cu_buf_release(&sealed);
    cu_buf_release(&out);
    cu_buf_release(&pre);
    cu_buf_release(&again);
    cu_buf_release(&empty);
    cu_buf_release(&eout);
    cu_key_wipe(&k);
}

/* Each way of getting the open wrong: CU_ECORRUPT and the output untouched. */
static void test_aead_failures(void **state)
{
    (void)state;
    cu_key k, other;
    cu_key_random(&k);
    cu_key_random(&other);
    cu_buf sealed;
    seal_plain(&k, &sealed);

    enum { WRONG_AD, WRONG_KEY, FLIP_NONCE, FLIP_CT, FLIP_TAG, TRUNC_1, TRUNC_TAG, TRUNC_SHORT,
           EMPTY, EXTEND, NO_AD, SWAPPED_KEY_AD, N_CASES };
    for (int c = 0; c < N_CASES; c++) {
        unsigned char bytes[256];
        size_t n = sealed.len;
        memcpy(bytes, sealed.data, n);
        const cu_key *key = &k;
        const char *ad = AD;
        size_t adlen = sizeof AD - 1;
        switch (c) {
        case WRONG_AD: ad = "custos/test/ae"; break;
        case WRONG_KEY: key = &other; break;
        case FLIP_NONCE: bytes[3] ^= 0x01; break;
        case FLIP_CT: bytes[CU_AEAD_NONCE_BYTES + 2] ^= 0x80; break;
        case FLIP_TAG: bytes[n - 1] ^= 0x10; break;
        case TRUNC_1: n -= 1; break;
        case TRUNC_TAG: n -= CU_AEAD_TAG_BYTES; break;
        case TRUNC_SHORT: n = CU_AEAD_OVERHEAD - 1; break;
        case EMPTY: n = 0; break;
        case EXTEND: bytes[n++] = 0; break;
        case NO_AD: ad = NULL; adlen = 0; break;
        case SWAPPED_KEY_AD: key = &other; ad = "x"; adlen = 1; break;
        }
        cu_buf out;
        cu_buf_init(&out, 0);
        assert_int_equal(cu_buf_append_str(&out, "keep"), CU_OK);
        int rc = cu_aead_open(key, ad, adlen, bytes, n, &out);
        CHECK(rc == CU_ECORRUPT, "case %d: rc %d", c, rc);
        CHECK(out.len == 4, "case %d: out grew to %zu", c, out.len);
        CHECK(memcmp(cu_buf_str(&out), "keep", 5) == 0, "case %d: out changed", c);
        /* Nothing of the plaintext leaked into the buffer's spare space. */
        if (out.data)
            CHECK(memmem(out.data, out.cap_alloc, "Zebedee", 7) == NULL,
                  "case %d: plaintext left in buffer", c);
        cu_buf_release(&out);
    }
    cu_buf_release(&sealed);
}

static void test_aead_out_limit(void **state)
{
    (void)state;
    cu_key k;
    cu_key_random(&k);
    cu_buf small;
    cu_buf_init(&small, 10);
    assert_int_equal(cu_aead_seal(&k, NULL, 0, PLAIN, sizeof PLAIN - 1, &small), CU_ENOMEM);
    assert_int_equal(small.len, 0);
    cu_buf sealed;
    seal_plain(&k, &sealed);
    assert_int_equal(cu_aead_open(&k, AD, sizeof AD - 1, sealed.data, sealed.len, &small),
                     CU_ENOMEM);
    assert_int_equal(small.len, 0);
    cu_buf_release(&small);
    cu_buf_release(&sealed);
}

/* ------------------------------------------------------------ wraps ---- */

static void test_key_wrap(void **state)
{
    (void)state;
    cu_key kek, key, out;
    cu_key_random(&kek);
    cu_key_random(&key);
    unsigned char w[CU_WRAPPED_KEY_BYTES];
    cu_key_wrap(&kek, "dek/1", 5, &key, w);
    assert_null(memmem(w, sizeof w, key.k, 8));
    assert_int_equal(cu_key_unwrap(&kek, "dek/1", 5, w, sizeof w, &out), CU_OK);
    assert_memory_equal(out.k, key.k, CU_KEY_BYTES);

    /* Wrong AD, wrong kek, flipped byte, wrong length: CU_ECORRUPT, out wiped. */
    static const unsigned char zero[CU_KEY_BYTES];
    memset(out.k, 0xAA, sizeof out.k);
    assert_int_equal(cu_key_unwrap(&kek, "dek/2", 5, w, sizeof w, &out), CU_ECORRUPT);
    assert_memory_equal(out.k, zero, CU_KEY_BYTES);

    cu_key other;
    cu_key_random(&other);
    memset(out.k, 0xAA, sizeof out.k);
    assert_int_equal(cu_key_unwrap(&other, "dek/1", 5, w, sizeof w, &out), CU_ECORRUPT);
    assert_memory_equal(out.k, zero, CU_KEY_BYTES);

    for (size_t i = 0; i < sizeof w; i++) {
        unsigned char bad[CU_WRAPPED_KEY_BYTES];
        memcpy(bad, w, sizeof w);
        bad[i] ^= 0x04;
        CHECK(cu_key_unwrap(&kek, "dek/1", 5, bad, sizeof bad, &out) == CU_ECORRUPT,
              "flip of byte %zu accepted", i);
    }
    assert_int_equal(cu_key_unwrap(&kek, "dek/1", 5, w, sizeof w - 1, &out), CU_ECORRUPT);
    assert_int_equal(cu_key_unwrap(&kek, "dek/1", 5, w, 0, &out), CU_ECORRUPT);
    /* Still fine with the right inputs. */
    assert_int_equal(cu_key_unwrap(&kek, "dek/1", 5, w, sizeof w, &out), CU_OK);
    assert_memory_equal(out.k, key.k, CU_KEY_BYTES);
}

static void test_locked_keys(void **state)
{
    (void)state;
    cu_key init;
    cu_key_random(&init);
    cu_key *a = cu_key_new_locked(&init);
    assert_non_null(a);
    assert_memory_equal(a->k, init.k, CU_KEY_BYTES);
    cu_key *b = cu_key_new_locked(NULL);
    cu_key *c = cu_key_new_locked(NULL);
    assert_non_null(b);
    assert_non_null(c);
    assert_memory_not_equal(b->k, c->k, CU_KEY_BYTES);
    cu_key_free(a);
    cu_key_free(b);
    cu_key_free(c);
    cu_key_free(NULL);

    cu_key w;
    cu_key_random(&w);
    cu_key_wipe(&w);
    static const unsigned char zero[CU_KEY_BYTES];
    assert_memory_equal(w.k, zero, CU_KEY_BYTES);
}

static void test_key_derive_and_id(void **state)
{
    (void)state;
    cu_key root, other, a1, a1b, a2, b1;
    cu_key_random(&root);
    cu_key_random(&other);
    cu_key_derive(&root, 1, "custwrap", &a1);
    cu_key_derive(&root, 1, "custwrap", &a1b);
    cu_key_derive(&root, 2, "custwrap", &a2);
    cu_key_derive(&root, 1, "custothr", &b1);
    assert_memory_equal(a1.k, a1b.k, CU_KEY_BYTES);
    assert_memory_not_equal(a1.k, a2.k, CU_KEY_BYTES);
    assert_memory_not_equal(a1.k, b1.k, CU_KEY_BYTES);
    assert_memory_not_equal(a1.k, root.k, CU_KEY_BYTES);
    cu_key_derive(&other, 1, "custwrap", &b1);
    assert_memory_not_equal(a1.k, b1.k, CU_KEY_BYTES);

    unsigned char id1[CU_KEYID_BYTES], id2[CU_KEYID_BYTES], id3[CU_KEYID_BYTES];
    cu_key_id(&root, id1);
    cu_key_id(&root, id2);
    cu_key_id(&other, id3);
    assert_memory_equal(id1, id2, sizeof id1);
    assert_memory_not_equal(id1, id3, sizeof id1);
    assert_null(memmem(root.k, CU_KEY_BYTES, id1, 8));
}

/* ------------------------------------------------------ blind index ---- */

static void test_blind_index(void **state)
{
    (void)state;
    cu_key k1, k2;
    cu_key_random(&k1);
    cu_key_random(&k2);
    unsigned char a[CU_HASH_BYTES], b[CU_HASH_BYTES], c[CU_HASH_BYTES], d[CU_HASH_BYTES],
        e[CU_HASH_BYTES], f[CU_HASH_BYTES];
    cu_blind_index(&k1, "email", "a@b.org", 7, a);
    cu_blind_index(&k1, "email", "a@b.org", 7, b);
    assert_memory_equal(a, b, CU_HASH_BYTES); /* deterministic per key */
    cu_blind_index(&k2, "email", "a@b.org", 7, c);
    assert_memory_not_equal(a, c, CU_HASH_BYTES); /* differs across keys */
    cu_blind_index(&k1, "phone", "a@b.org", 7, d);
    assert_memory_not_equal(a, d, CU_HASH_BYTES); /* differs across domains */
    cu_blind_index(&k1, "email", "a@b.orh", 7, e);
    assert_memory_not_equal(a, e, CU_HASH_BYTES); /* differs across values */
    /* The domain separator keeps "ab"+"c" apart from "a"+"bc". */
    cu_blind_index(&k1, "ab", "c", 1, e);
    cu_blind_index(&k1, "a", "bc", 2, f);
    assert_memory_not_equal(e, f, CU_HASH_BYTES);
    /* An empty value is fine and differs from the others. */
    cu_blind_index(&k1, "email", "", 0, f);
    assert_memory_not_equal(a, f, CU_HASH_BYTES);
}

static void test_hash2(void **state)
{
    (void)state;
    unsigned char h1[CU_HASH_BYTES], h2[CU_HASH_BYTES], h3[CU_HASH_BYTES];
    cu_hash2("ab", 2, "cd", 2, h1);
    cu_hash2("abc", 3, "d", 1, h2);
    assert_memory_equal(h1, h2, CU_HASH_BYTES); /* a concatenation */
    cu_hash2("abcd", 4, NULL, 0, h3);
    assert_memory_equal(h1, h3, CU_HASH_BYTES);
    cu_hash2(NULL, 0, "abcd", 4, h3);
    assert_memory_equal(h1, h3, CU_HASH_BYTES);
    cu_hash2("abce", 4, NULL, 0, h3);
    assert_memory_not_equal(h1, h3, CU_HASH_BYTES);
    /* BLAKE2b-256 of the empty string. */
    static const char empty_hex[] =
        "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8";
    char hex[2 * CU_HASH_BYTES + 1];
    cu_hash2(NULL, 0, NULL, 0, h3);
    cu_hex(h3, CU_HASH_BYTES, hex);
    assert_string_equal(hex, empty_hex);
}

/* Row codes: fields are framed, so no two different rows encode alike. */
static void mac_of(const cu_key *k, const char *domain, const char *a, const char *b,
                   int64_t n, unsigned char out[CU_HASH_BYTES])
{
    cu_mac m;
    cu_mac_init(&m, k, domain);
    cu_mac_str(&m, a);
    cu_mac_str(&m, b);
    cu_mac_i64(&m, n);
    cu_mac_final(&m, out);
}

static void test_row_mac(void **state)
{
    (void)state;
    cu_key k, k2;
    cu_key_random(&k);
    cu_key_random(&k2);
    unsigned char h[CU_HASH_BYTES], o[CU_HASH_BYTES];
    mac_of(&k, "custos/v1/row/users", "ab", "cd", 7, h);
    mac_of(&k, "custos/v1/row/users", "ab", "cd", 7, o);
    assert_memory_equal(h, o, CU_HASH_BYTES); /* deterministic */
    struct {
        const cu_key *k;
        const char *domain, *a, *b;
        int64_t n;
    } differ[] = {
        {&k, "custos/v1/row/users", "abc", "d", 7},  /* boundary moved */
        {&k, "custos/v1/row/users", "ab", "", 7},    /* a field emptied */
        {&k, "custos/v1/row/users", "ab", NULL, 7},  /* NULL is not "" */
        {&k, "custos/v1/row/users", "ab", "cd", 8},  /* a number changed */
        {&k, "custos/v1/row/users", "ab", "cd", -7}, /* its sign */
        {&k, "custos/v1/row/sessions", "ab", "cd", 7}, /* another table */
        {&k2, "custos/v1/row/users", "ab", "cd", 7},   /* another key */
    };
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
        mac_of(differ[i].k, differ[i].domain, differ[i].a, differ[i].b, differ[i].n, o);
        assert_memory_not_equal(h, o, CU_HASH_BYTES);
    }
    unsigned char empty[CU_HASH_BYTES], null_[CU_HASH_BYTES];
    mac_of(&k, "d", "", "", 0, empty);
    mac_of(&k, "d", NULL, NULL, 0, null_);
    assert_memory_not_equal(empty, null_, CU_HASH_BYTES);
    /* bytes: a NULL pointer differs from zero bytes */
    cu_mac m;
    cu_mac_init(&m, &k, "d");
    cu_mac_bytes(&m, "", 0);
    cu_mac_final(&m, o);
    cu_mac_init(&m, &k, "d");
    cu_mac_bytes(&m, NULL, 0);
    cu_mac_final(&m, empty);
    assert_memory_not_equal(o, empty, CU_HASH_BYTES);
    /* check: constant-time, exact length only */
    cu_mac_init(&m, &k, "custos/v1/row/users");
    cu_mac_str(&m, "ab");
    cu_mac_str(&m, "cd");
    cu_mac_i64(&m, 7);
    assert_true(cu_mac_check(&m, h, CU_HASH_BYTES));
    unsigned char bad[CU_HASH_BYTES];
    memcpy(bad, h, sizeof bad);
    bad[31] ^= 1;
    cu_mac_init(&m, &k, "custos/v1/row/users");
    cu_mac_str(&m, "ab");
    cu_mac_str(&m, "cd");
    cu_mac_i64(&m, 7);
    assert_false(cu_mac_check(&m, bad, CU_HASH_BYTES));
    cu_mac_init(&m, &k, "x");
    assert_false(cu_mac_check(&m, h, CU_HASH_BYTES - 1));
    cu_mac_init(&m, &k, "x");
    assert_false(cu_mac_check(&m, NULL, CU_HASH_BYTES));
    cu_key_wipe(&k);
    cu_key_wipe(&k2);
}

/* ---------------------------------------------------------- signing ---- */

static void test_sign_verify(void **state)
{
    (void)state;
    cu_key seed, seed2;
    cu_key_random(&seed);
    cu_key_random(&seed2);
    unsigned char pk[CU_PUBKEY_BYTES], pk2[CU_PUBKEY_BYTES], pk_again[CU_PUBKEY_BYTES];
    cu_sign_public(&seed, pk);
    cu_sign_public(&seed, pk_again);
    cu_sign_public(&seed2, pk2);
    assert_memory_equal(pk, pk_again, sizeof pk);
    assert_memory_not_equal(pk, pk2, sizeof pk);

    unsigned char msg[] = "custos audit head v1 seq=42";
    unsigned char sig[CU_SIG_BYTES];
    cu_sign(&seed, msg, sizeof msg, sig);
    assert_true(cu_sign_verify(pk, msg, sizeof msg, sig));
    /* Ed25519 is deterministic. */
    unsigned char sig2[CU_SIG_BYTES];
    cu_sign(&seed, msg, sizeof msg, sig2);
    assert_memory_equal(sig, sig2, sizeof sig);

    /* Every single-byte change of the message is rejected. */
    for (size_t i = 0; i < sizeof msg; i++) {
        msg[i] ^= 0x01;
        CHECK(!cu_sign_verify(pk, msg, sizeof msg, sig), "modified byte %zu accepted", i);
        msg[i] ^= 0x01;
    }
    assert_false(cu_sign_verify(pk, msg, sizeof msg - 1, sig));
    assert_false(cu_sign_verify(pk2, msg, sizeof msg, sig));
    sig[10] ^= 0x20;
    assert_false(cu_sign_verify(pk, msg, sizeof msg, sig));
    sig[10] ^= 0x20;
    assert_true(cu_sign_verify(pk, msg, sizeof msg, sig));
}

/* The expanded signer makes exactly the signature the seed makes. */
static void test_signer_matches_seed(void **state)
{
    (void)state;
    cu_key seed;
    cu_key_random(&seed);
    unsigned char pk[CU_PUBKEY_BYTES];
    cu_sign_public(&seed, pk);
    cu_signer *signer = cu_signer_new(&seed);
    assert_non_null(signer);
    unsigned char pk_signer[CU_PUBKEY_BYTES];
    cu_signer_public(signer, pk_signer);
    assert_memory_equal(pk, pk_signer, sizeof pk);
    unsigned char msg[] = "custos audit head v1 seq=7";
    unsigned char by_seed[CU_SIG_BYTES], by_signer[CU_SIG_BYTES];
    cu_sign(&seed, msg, sizeof msg, by_seed);
    cu_signer_sign(signer, msg, sizeof msg, by_signer);
    assert_memory_equal(by_seed, by_signer, sizeof by_seed);
    assert_true(cu_sign_verify(pk, msg, sizeof msg, by_signer));
    msg[0] ^= 1;
    assert_false(cu_sign_verify(pk, msg, sizeof msg, by_signer));
    cu_signer_free(signer);
    cu_signer_free(NULL);
    cu_key_wipe(&seed);
}

/* -------------------------------------------------------------- hex ---- */

static void test_hex(void **state)
{
    (void)state;
    static const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char hex[2 * sizeof bytes + 1];
    cu_hex(bytes, sizeof bytes, hex);
    assert_string_equal(hex, "00017f80abff");
    char e[1] = {'x'};
    cu_hex(bytes, 0, e);
    assert_int_equal(e[0], '\0');

    static const struct {
        const char *hex;
        size_t hexlen, n;
        bool ok;
        unsigned char want[4];
    } cases[] = {
        {"00017f80", 8, 4, true, {0x00, 0x01, 0x7f, 0x80}},
        {"abcdef01", 8, 4, true, {0xab, 0xcd, 0xef, 0x01}},
        {"ABCDEF01", 8, 4, true, {0xab, 0xcd, 0xef, 0x01}},
        {"", 0, 0, true, {0}},
        {"abcdef0", 7, 4, false, {0}},      /* odd length */
        {"abcdef", 6, 4, false, {0}},       /* too short */
        {"abcdef0102", 10, 4, false, {0}},  /* too long */
        {"abcdeg01", 8, 4, false, {0}},     /* not hex */
        {"abcd ef0", 8, 4, false, {0}},     /* space */
        {"ab:cd:ef", 8, 4, false, {0}},     /* separators */
        {"0x123456", 8, 4, false, {0}},     /* prefix */
        {"abc\0ef01", 8, 4, false, {0}},    /* embedded NUL */
        {"abcdef01", 7, 4, false, {0}},     /* length shorter than the string */
        {"ab", 2, 0, false, {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char out[4] = {0};
        bool ok = cu_unhex(cases[i].hex, cases[i].hexlen, out, cases[i].n);
        CHECK(ok == cases[i].ok, "case %zu ('%s'): got %d", i, cases[i].hex, ok);
        if (ok)
            CHECK(memcmp(out, cases[i].want, cases[i].n) == 0, "case %zu: wrong bytes", i);
    }
    /* Round trip of random bytes. */
    unsigned char r[32], back[32];
    char rh[65];
    cu_random(r, sizeof r);
    cu_hex(r, sizeof r, rh);
    assert_int_equal(strlen(rh), 64);
    assert_true(cu_unhex(rh, 64, back, sizeof back));
    assert_memory_equal(r, back, sizeof r);
}

/* -------------------------------------------------------------- ids ---- */

static void test_random_id(void **state)
{
    (void)state;
    enum { N = 2000 };
    static char ids[N][CU_ID_STRLEN];
    for (int i = 0; i < N; i++) {
        cu_random_id(ids[i]);
        CHECK(strlen(ids[i]) == 36, "id %d has length %zu", i, strlen(ids[i]));
        CHECK(cu_id_valid(ids[i]), "id %s not valid", ids[i]);
        CHECK(ids[i][14] == '4', "id %s is not version 4", ids[i]);
        CHECK(strchr("89ab", ids[i][19]) != NULL, "id %s has the wrong variant", ids[i]);
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            CHECK(strcmp(ids[i], ids[j]) != 0, "ids %d and %d collide", i, j);
}

static void test_id_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"123e4567-e89b-42d3-a456-426614174000", true},
        {"00000000-0000-0000-0000-000000000000", true},
        {"123E4567-e89b-42d3-a456-426614174000", false}, /* upper case */
        {"123e4567-e89b-42d3-a456-42661417400A", false},
        {"123e4567-e89b-42d3-a456-42661417400", false},   /* short */
        {"123e4567-e89b-42d3-a456-4266141740000", false}, /* long */
        {"123e4567e-89b-42d3-a456-426614174000", false},  /* dash moved */
        {"123e4567-e89b42d3-a456-4266141740000", false},  /* dash missing */
        {"123e4567-e89b-42d3-a456_426614174000", false},
        {"123e4567-e89b-42d3-a456-42661417400g", false},  /* not hex */
        {"123e4567 e89b 42d3 a456 426614174000", false},
        {"123e4567-e89b-42d3-a456-4266141740-0", false},
        {"", false},
        {"{123e4567-e89b-42d3-a456-426614174000}", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(cu_id_valid(cases[i].s) == cases[i].ok, "'%s'", cases[i].s);
    assert_false(cu_id_valid(NULL));
}

static void test_ct_equal_and_wipe(void **state)
{
    (void)state;
    unsigned char a[40], b[40];
    cu_random(a, sizeof a);
    memcpy(b, a, sizeof a);
    assert_true(cu_ct_equal(a, b, sizeof a));
    for (size_t i = 0; i < sizeof a; i++) {
        b[i] ^= 0x80;
        CHECK(!cu_ct_equal(a, b, sizeof a), "difference at %zu missed", i);
        CHECK(cu_ct_equal(a, b, i), "prefix of %zu should be equal", i);
        b[i] ^= 0x80;
    }
    assert_true(cu_ct_equal(a, b, 0));
    cu_wipe(a, sizeof a);
    static const unsigned char zero[40];
    assert_memory_equal(a, zero, sizeof a);

    /* cu_random fills: 64 random bytes are not all zero. */
    unsigned char r[64] = {0};
    cu_random(r, sizeof r);
    static const unsigned char z64[64];
    assert_memory_not_equal(r, z64, sizeof r);
}

/* ---------------------------------------------------------- keyfile ---- */

static void write_raw(const char *path, const void *data, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_keyfile_create_load(void **state)
{
    const char *dir = *state;
    char p[PATH_MAX];
    testdir_path(p, sizeof p, dir, "master.key");
    cu_err err;
    cu_err_clear(&err);
    cu_key *k = NULL, *l = NULL;
    assert_int_equal(cu_keyfile_create(p, &k, &err), CU_OK);
    assert_non_null(k);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(cu_keyfile_load(p, &l, &err), CU_OK);
    assert_non_null(l);
    assert_memory_equal(k->k, l->k, CU_KEY_BYTES);

    /* The file has the documented format. */
    char text[200] = "";
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    assert_int_equal(n, strlen("custos-master-key-v1\n") + 64 + 1);
    assert_memory_equal(text, "custos-master-key-v1\n", 21);
    char hex[65];
    cu_hex(k->k, CU_KEY_BYTES, hex);
    assert_memory_equal(text + 21, hex, 64);
    assert_int_equal(text[85], '\n');

    /* Creating over an existing file is refused and the key is kept. */
    cu_key *m = NULL;
    cu_err_clear(&err);
    assert_int_equal(cu_keyfile_create(p, &m, &err), CU_ECONFLICT);
    assert_null(m);
    cu_key_free(l);
    l = NULL;
    assert_int_equal(cu_keyfile_load(p, &l, &err), CU_OK);
    assert_memory_equal(k->k, l->k, CU_KEY_BYTES);
    cu_key_free(l);

    /* cu_keyfile_write replaces it atomically, mode 0600. */
    cu_key nk;
    cu_key_random(&nk);
    assert_int_equal(chmod(p, 0400), 0);
    assert_int_equal(cu_keyfile_write(p, &nk, &err), CU_OK);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    l = NULL;
    assert_int_equal(cu_keyfile_load(p, &l, &err), CU_OK);
    assert_memory_equal(l->k, nk.k, CU_KEY_BYTES);
    cu_key_free(l);
    cu_key_free(k);
}

static void test_keyfile_bad_mode(void **state)
{
    const char *dir = *state;
    char p[PATH_MAX];
    testdir_path(p, sizeof p, dir, "master.key");
    cu_err err;
    cu_err_clear(&err);
    cu_key *k = NULL;
    assert_int_equal(cu_keyfile_create(p, &k, &err), CU_OK);
    char hex[65];
    cu_hex(k->k, CU_KEY_BYTES, hex);
    cu_key_free(k);

    static const mode_t modes[] = {0644, 0640, 0604, 0660, 0606, 0610, 0601, 0666, 0620};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(chmod(p, modes[i]), 0);
        cu_key *l = NULL;
        cu_err_clear(&err);
        int rc = cu_keyfile_load(p, &l, &err);
        CHECK(rc == CU_EKEY, "mode %04o: rc %d", (unsigned)modes[i], rc);
        CHECK(err.code == CU_EKEY, "mode %04o: err.code %d", (unsigned)modes[i], err.code);
        CHECK(l == NULL, "mode %04o: key returned", (unsigned)modes[i]);
        CHECK(strstr(err.msg, "chmod 600") != NULL, "mode %04o: message '%s'",
              (unsigned)modes[i], err.msg);
        CHECK(strstr(err.msg, p) != NULL, "mode %04o: message lacks the path",
              (unsigned)modes[i]);
        CHECK(strstr(err.msg, hex) == NULL && strstr(err.msg, "custos-master") == NULL,
              "mode %04o: message shows the key", (unsigned)modes[i]);
    }
    /* 0400 (stricter than 0600) is accepted. */
    assert_int_equal(chmod(p, 0400), 0);
    cu_key *l = NULL;
    cu_err_clear(&err);
    assert_int_equal(cu_keyfile_load(p, &l, &err), CU_OK);
    cu_key_free(l);
}

static void test_keyfile_missing(void **state)
{
    const char *dir = *state;
    char p[PATH_MAX];
    testdir_path(p, sizeof p, dir, "absent.key");
    cu_err err;
    cu_err_clear(&err);
    cu_key *k = NULL;
    assert_int_equal(cu_keyfile_load(p, &k, &err), CU_EKEY);
    assert_int_equal(err.code, CU_EKEY);
    assert_null(k);
    assert_non_null(strstr(err.msg, p));
    assert_non_null(strstr(err.msg, "not found"));
}

static void test_keyfile_garbage(void **state)
{
    const char *dir = *state;
    char good_hex[65];
    unsigned char raw[CU_KEY_BYTES];
    cu_random(raw, sizeof raw);
    cu_hex(raw, sizeof raw, good_hex);

    char bodies[12][200];
    size_t lens[12];
    size_t nb = 0;
#define BODY(...)                                                                           \
    do {                                                                                    \
        int w_ = snprintf(bodies[nb], sizeof bodies[nb], __VA_ARGS__);                      \
        assert_true(w_ >= 0 && (size_t)w_ < sizeof bodies[nb]);                             \
        lens[nb++] = (size_t)w_;                                                            \
    } while (0)
    BODY("%s", "");                                              /* empty */
    BODY("%s", "custos-master-key-v1\n");                        /* header only */
    BODY("custos-master-key-v2\n%s\n", good_hex);                /* wrong header */
    BODY("%s\n", good_hex);                                      /* no header */
    BODY("custos-master-key-v1\n%.63s\n", good_hex);             /* short hex */
    BODY("custos-master-key-v1\n%.63sg\n", good_hex);            /* non-hex digit */
    BODY("custos-master-key-v1\n%s0\n", good_hex);               /* too long */
    BODY("custos-master-key-v1\n%sX", good_hex);                 /* bad terminator */
    BODY("custos-master-key-v1\n%s\n\n", good_hex);              /* trailing data */
    BODY("custos-master-key-v1 %s\n", good_hex);                 /* no newline */
    BODY("%s", "hello, this is not a key at all\n");
#undef BODY
    for (size_t i = 0; i < nb; i++) {
        char p[PATH_MAX];
        char name[32];
        snprintf(name, sizeof name, "bad%zu.key", i);
        testdir_path(p, sizeof p, dir, name);
        write_raw(p, bodies[i], lens[i], 0600);
        cu_key *k = NULL;
        cu_err err;
        cu_err_clear(&err);
        int rc = cu_keyfile_load(p, &k, &err);
        CHECK(rc == CU_EKEY, "body %zu: rc %d", i, rc);
        CHECK(k == NULL, "body %zu: a key was returned", i);
        CHECK(strstr(err.msg, good_hex) == NULL, "body %zu: message shows key material", i);
        cu_key_free(k);
    }

    /* Control: the well-formed body is accepted, with or without the final newline. */
    char p[PATH_MAX], text[200];
    testdir_path(p, sizeof p, dir, "good.key");
    int w = snprintf(text, sizeof text, "custos-master-key-v1\n%s\n", good_hex);
    write_raw(p, text, (size_t)w, 0600);
    cu_key *k = NULL;
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_keyfile_load(p, &k, &err), CU_OK);
    assert_memory_equal(k->k, raw, sizeof raw);
    cu_key_free(k);
}

static void test_keyfile_symlink_and_dir(void **state)
{
    const char *dir = *state;
    char real[PATH_MAX], link_path[PATH_MAX], sub[PATH_MAX];
    testdir_path(real, sizeof real, dir, "real.key");
    testdir_path(link_path, sizeof link_path, dir, "link.key");
    testdir_path(sub, sizeof sub, dir, "dir.key");
    cu_err err;
    cu_err_clear(&err);
    cu_key *k = NULL;
    assert_int_equal(cu_keyfile_create(real, &k, &err), CU_OK);
    cu_key_free(k);
    assert_int_equal(symlink(real, link_path), 0);
    k = NULL;
    assert_int_equal(cu_keyfile_load(link_path, &k, &err), CU_EKEY);
    assert_null(k);
    assert_int_equal(err.code, CU_EKEY);

    assert_int_equal(mkdir(sub, 0700), 0);
    cu_err_clear(&err);
    assert_int_equal(cu_keyfile_load(sub, &k, &err), CU_EKEY);
    assert_null(k);

    /* The target itself still loads. */
    cu_err_clear(&err);
    assert_int_equal(cu_keyfile_load(real, &k, &err), CU_OK);
    cu_key_free(k);
}

/* A named pipe at the key path is not a regular file: refused at once, not
 * waited on (opening a FIFO for reading blocks until a writer appears). */
static void test_keyfile_fifo(void **state)
{
    const char *dir = *state;
    char p[PATH_MAX];
    testdir_path(p, sizeof p, dir, "fifo.key");
    assert_int_equal(mkfifo(p, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cu_key *k = NULL;
        cu_err err;
        cu_err_clear(&err);
        int rc = cu_keyfile_load(p, &k, &err);
        _exit(rc == CU_EKEY && k == NULL && err.code == CU_EKEY ? 0 : 1);
    }
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 500 && (done = waitpid(pid, &status, WNOHANG)) == 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("cu_keyfile_load blocked on a FIFO");
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    if (cu_crypto_init() != CU_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aead_round_trip),
        cmocka_unit_test(test_aead_failures),
        cmocka_unit_test(test_aead_out_limit),
        cmocka_unit_test(test_key_wrap),
        cmocka_unit_test(test_locked_keys),
        cmocka_unit_test(test_key_derive_and_id),
        cmocka_unit_test(test_blind_index),
        cmocka_unit_test(test_hash2),
        cmocka_unit_test(test_row_mac),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_signer_matches_seed),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_random_id),
        cmocka_unit_test(test_id_valid),
        cmocka_unit_test(test_ct_equal_and_wipe),
        cmocka_unit_test_setup_teardown(test_keyfile_create_load, testdir_setup, testdir_teardown),
        cmocka_unit_test_setup_teardown(test_keyfile_bad_mode, testdir_setup, testdir_teardown),
        cmocka_unit_test_setup_teardown(test_keyfile_missing, testdir_setup, testdir_teardown),
        cmocka_unit_test_setup_teardown(test_keyfile_garbage, testdir_setup, testdir_teardown),
        cmocka_unit_test_setup_teardown(test_keyfile_symlink_and_dir, testdir_setup, testdir_teardown),
        cmocka_unit_test_setup_teardown(test_keyfile_fifo, testdir_setup, testdir_teardown),
    };
    return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
