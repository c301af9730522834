/*
 * test_audit.c — the audit event's canonical encoding, its strict decoder,
 * the hash chain and the signed-head message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/audit.h"
#include "util/buf.h"

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

static const unsigned char PAYLOAD[] = {0x00, 0x01, 0xfe, 0xff, 'p', 'l'};

static cu_audit_event sample_event(void)
{
    return (cu_audit_event){
        .seq = 42,
        .ts = 1709210096123456LL,
        .actor = "alice",
        .role = "operator",
        .action = "update",
        .controller = "11111111-1111-4111-8111-111111111111",
        .subject = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
        .categories = "contact,health",
        .purpose = "direct_care",
        .outcome = "ok",
        .rule = "",
        .via = "cli subject rectify",
        .payload = PAYLOAD,
        .payload_len = sizeof PAYLOAD,
    };
}

static void encode(const cu_audit_event *e, cu_buf *b)
{
    cu_buf_init(b, 0);
    assert_int_equal(cu_audit_encode(e, b), CU_OK);
}

static bool view_is(cu_view v, const char *s)
{
    return v.n == strlen(s) && (v.n == 0 || memcmp(v.p, s, v.n) == 0);
}

static void test_encode_layout(void **state)
{
    (void)state;
    cu_audit_event e = sample_event();
    cu_buf b;
    encode(&e, &b);
    /* magic, seq, ts */
    assert_memory_equal(b.data, "CUA2", 4);
    static const unsigned char seq[8] = {0, 0, 0, 0, 0, 0, 0, 42};
    assert_memory_equal(b.data + 4, seq, 8);
    uint64_t ts = 0;
    for (int i = 0; i < 8; i++)
        ts = ts << 8 | b.data[12 + i];
    assert_int_equal(ts, (uint64_t)e.ts);
    /* first field: u32 length then "alice" */
    static const unsigned char actor[] = {0, 0, 0, 5, 'a', 'l', 'i', 'c', 'e'};
    assert_memory_equal(b.data + 20, actor, sizeof actor);
    /* total length: 20 + 11 fields * 4 + the bytes */
    size_t want = 20 + 11 * 4 + strlen(e.actor) + strlen(e.role) + strlen(e.action) +
                  strlen(e.controller) + strlen(e.subject) + strlen(e.categories) +
                  strlen(e.purpose) + strlen(e.outcome) + strlen(e.via) + e.payload_len;
    assert_int_equal(b.len, want);
    /* payload is last */
    assert_memory_equal(b.data + b.len - sizeof PAYLOAD, PAYLOAD, sizeof PAYLOAD);
    /* Encoding is deterministic. */
    cu_buf b2;
    encode(&e, &b2);
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    cu_buf_release(&b);
    cu_buf_release(&b2);
}

/* A detail makes a CUA3 body: the CUA2 fields, the detail after via, the
 * payload last; an empty detail is not written (a CUA2 body), and a CUA3
 * body with an empty detail, or a CUA2 body relabelled CUA3, is refused. */
static void test_detail_body(void **state)
{
    (void)state;
    cu_audit_event e = sample_event();
    cu_buf plain, with;
    encode(&e, &plain);
    e.detail = "";
    cu_buf same;
    encode(&e, &same);
    assert_int_equal(same.len, plain.len);
    assert_memory_equal(same.data, plain.data, plain.len);
    static const char detail[] = "task.raise aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa "
                                 "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
    e.detail = detail;
    encode(&e, &with);
    assert_memory_equal(with.data, "CUA3", 4);
    assert_int_equal(with.len, plain.len + 4 + strlen(detail));
    assert_memory_equal(with.data + with.len - sizeof PAYLOAD, PAYLOAD, sizeof PAYLOAD);
    cu_audit_decoded d;
    assert_int_equal(cu_audit_decode(with.data, with.len, &d), CU_OK);
    assert_true(view_is(d.detail, detail));
    assert_true(view_is(d.via, e.via));
    assert_int_equal(d.payload.n, sizeof PAYLOAD);
    assert_int_equal(cu_audit_detail_count(d.detail, "task.raise"), 2);
    assert_int_equal(cu_audit_detail_count(d.detail, "task"), 0);
    assert_int_equal(cu_audit_detail_count(d.detail, "items.add"), 0);
    assert_int_equal(cu_audit_decode(plain.data, plain.len, &d), CU_OK);
    assert_int_equal(d.detail.n, 0);
    assert_int_equal(cu_audit_detail_count(d.detail, "task.raise"), 0);
    /* relabelled: the payload's field is read as the detail, then nothing
     * is left for the payload */
    memcpy(plain.data, "CUA3", 4);
    assert_int_equal(cu_audit_decode(plain.data, plain.len, &d), CU_ECORRUPT);
    /* a CUA2 label on a body with a detail: one field too many */
    memcpy(with.data, "CUA2", 4);
    assert_int_equal(cu_audit_decode(with.data, with.len, &d), CU_ECORRUPT);
    /* a CUA3 body whose detail is empty */
    e.detail = NULL;
    e.payload = NULL;
    e.payload_len = 0;
    cu_buf empty;
    encode(&e, &empty);
    assert_int_equal(cu_buf_append_field(&empty, "", 0), CU_OK);
    memcpy(empty.data, "CUA3", 4);
    assert_int_equal(cu_audit_decode(empty.data, empty.len, &d), CU_ECORRUPT);
    cu_buf_release(&plain);
    cu_buf_release(&same);
    cu_buf_release(&with);
    cu_buf_release(&empty);
}

static void test_round_trip(void **state)
{
    (void)state;
    cu_audit_event e = sample_event();
    cu_buf b;
    encode(&e, &b);
    cu_audit_decoded d;
    assert_int_equal(cu_audit_decode(b.data, b.len, &d), CU_OK);
    assert_int_equal(d.seq, e.seq);
    assert_int_equal(d.ts, e.ts);
    assert_true(view_is(d.actor, e.actor));
    assert_true(view_is(d.role, e.role));
    assert_true(view_is(d.action, e.action));
    assert_true(view_is(d.controller, e.controller));
    assert_true(view_is(d.subject, e.subject));
    assert_true(view_is(d.categories, e.categories));
    assert_true(view_is(d.purpose, e.purpose));
    assert_true(view_is(d.outcome, e.outcome));
    assert_true(view_is(d.rule, e.rule));
    assert_true(view_is(d.via, e.via));
    assert_int_equal(d.payload.n, sizeof PAYLOAD);
    assert_memory_equal(d.payload.p, PAYLOAD, sizeof PAYLOAD);
    cu_buf_release(&b);

    /* NULL strings and no payload encode as empty fields. */
    cu_audit_event m = {.seq = 1, .ts = 0, .actor = "bob", .action = "read"};
    /* A first-layout body (no rule field) still decodes, with an empty rule. */
    static const unsigned char v1[] = {
        'C', 'U', 'A', '1', 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 3, 'e', 'v', 'e', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 'o', 'k', 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(cu_audit_decode(v1, sizeof v1, &d), CU_OK);
    assert_int_equal(d.seq, 7);
    assert_true(view_is(d.actor, "eve"));
    assert_true(view_is(d.outcome, "ok"));
    assert_int_equal(d.rule.n, 0);
    encode(&m, &b);
    assert_int_equal(b.len, 20 + 44 + 3 + 4);
    assert_int_equal(cu_audit_decode(b.data, b.len, &d), CU_OK);
    assert_int_equal(d.seq, 1);
    assert_true(view_is(d.actor, "bob"));
    assert_true(view_is(d.action, "read"));
    assert_int_equal(d.role.n, 0);
    assert_int_equal(d.subject.n, 0);
    assert_int_equal(d.payload.n, 0);
    cu_buf_release(&b);

    /* Extreme integers survive. */
    cu_audit_event x = sample_event();
    x.seq = INT64_MAX;
    x.ts = -1;
    encode(&x, &b);
    assert_int_equal(cu_audit_decode(b.data, b.len, &d), CU_OK);
    assert_int_equal(d.seq, INT64_MAX);
    assert_int_equal(d.ts, -1);
    cu_buf_release(&b);
}

static void test_decode_rejects_truncation(void **state)
{
    (void)state;
    cu_audit_event e = sample_event();
    cu_buf b;
    encode(&e, &b);
    /* Every proper prefix is refused (copied so ASan sees any over-read). */
    for (size_t n = 0; n < b.len; n++) {
        unsigned char *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, b.data, n);
        cu_audit_decoded d;
        int rc = cu_audit_decode(copy, n, &d);
        free(copy);
        CHECK(rc == CU_ECORRUPT, "prefix of %zu bytes accepted", n);
    }
    cu_buf_release(&b);
}

static void test_decode_rejects_trailing(void **state)
{
    (void)state;
    cu_audit_event e = sample_event();
    cu_buf b;
    encode(&e, &b);
    for (size_t extra = 1; extra <= 5; extra++) {
        cu_buf t;
        cu_buf_init(&t, 0);
        assert_int_equal(cu_buf_append(&t, b.data, b.len), CU_OK);
        for (size_t i = 0; i < extra; i++)
            assert_int_equal(cu_buf_append(&t, "\0", 1), CU_OK);
        cu_audit_decoded d;
        CHECK(cu_audit_decode(t.data, t.len, &d) == CU_ECORRUPT, "%zu trailing bytes accepted",
              extra);
        cu_buf_release(&t);
    }
    cu_buf_release(&b);
}

static void test_decode_rejects_bad_magic(void **state)
{
    (void)state;
    cu_audit_event e = sample_event();
    cu_buf b;
    encode(&e, &b);
    /* "CUA1" too: a first-layout body has no rule field, so this one is too long. */
    static const char *const magics[] = {"CUA1", "CUA3", "cua2", "XUA2", "\0UA2", "CUA\0"};
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
        unsigned char *copy = malloc(b.len);
        assert_non_null(copy);
        memcpy(copy, b.data, b.len);
        memcpy(copy, magics[i], 4);
        cu_audit_decoded d;
        CHECK(cu_audit_decode(copy, b.len, &d) == CU_ECORRUPT, "magic %zu accepted", i);
        free(copy);
    }
    cu_buf_release(&b);
}

/* Offsets of each field's length prefix in an encoding. */
static size_t field_offsets(const unsigned char *p, size_t n, size_t offs[10])
{
    size_t off = 20, k = 0;
    while (k < 10 && off + 4 <= n) {
        offs[k++] = off;
        uint32_t len = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
                       (uint32_t)p[off + 2] << 8 | p[off + 3];
        off += 4 + len;
    }
    return k;
}

static void test_decode_rejects_bad_lengths(void **state)
{
    (void)state;
    cu_audit_event e = sample_event();
    cu_buf b;
    encode(&e, &b);
    size_t offs[10];
    assert_int_equal(field_offsets(b.data, b.len, offs), 10);
    static const uint32_t lens[] = {0xffffffffu, 0x80000000u, 0x7fffffffu, 0x00010000u};
    for (size_t f = 0; f < 10; f++) {
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            unsigned char *copy = malloc(b.len);
            assert_non_null(copy);
            memcpy(copy, b.data, b.len);
            copy[offs[f]] = (unsigned char)(lens[l] >> 24);
            copy[offs[f] + 1] = (unsigned char)(lens[l] >> 16);
            copy[offs[f] + 2] = (unsigned char)(lens[l] >> 8);
            copy[offs[f] + 3] = (unsigned char)lens[l];
            cu_audit_decoded d;
            int rc = cu_audit_decode(copy, b.len, &d);
            free(copy);
            CHECK(rc == CU_ECORRUPT, "field %zu with length %#x accepted", f, lens[l]);
        }
        /* The last field's length off by one: too long, or a trailing byte. */
        for (int delta = -1; f == 9 && delta <= 1; delta += 2) {
            unsigned char *copy = malloc(b.len);
            assert_non_null(copy);
            memcpy(copy, b.data, b.len);
            uint32_t len = (uint32_t)copy[offs[f]] << 24 | (uint32_t)copy[offs[f] + 1] << 16 |
                           (uint32_t)copy[offs[f] + 2] << 8 | copy[offs[f] + 3];
            if (len == 0 && delta < 0) {
                free(copy);
                continue;
            }
            len = (uint32_t)((int64_t)len + delta);
            copy[offs[f]] = (unsigned char)(len >> 24);
            copy[offs[f] + 1] = (unsigned char)(len >> 16);
            copy[offs[f] + 2] = (unsigned char)(len >> 8);
            copy[offs[f] + 3] = (unsigned char)len;
            cu_audit_decoded d;
            int rc = cu_audit_decode(copy, b.len, &d);
            free(copy);
            CHECK(rc == CU_ECORRUPT, "field %zu length %+d accepted", f, delta);
        }
    }
    cu_buf_release(&b);
}

static void test_chain_hash(void **state)
{
    (void)state;
    cu_audit_event e = sample_event();
    cu_buf b;
    encode(&e, &b);
    unsigned char g[CU_HASH_BYTES], g2[CU_HASH_BYTES], g3[CU_HASH_BYTES];
    cu_audit_genesis("store-a", g);
    cu_audit_genesis("store-a", g2);
    cu_audit_genesis("store-b", g3);
    assert_memory_equal(g, g2, sizeof g);
    assert_memory_not_equal(g, g3, sizeof g);
    /* The documented definitions. */
    unsigned char want[CU_HASH_BYTES];
    cu_hash2("custos audit genesis v1", 23, "store-a", 7, want);
    assert_memory_equal(g, want, sizeof g);

    unsigned char h[CU_HASH_BYTES];
    cu_audit_chain(g, b.data, b.len, h);
    cu_hash2(g, CU_HASH_BYTES, b.data, b.len, want);
    assert_memory_equal(h, want, sizeof h);

    /* Any single-byte change of the body changes the hash. */
    for (size_t i = 0; i < b.len; i++) {
        unsigned char hx[CU_HASH_BYTES];
        b.data[i] ^= 0x01;
        cu_audit_chain(g, b.data, b.len, hx);
        b.data[i] ^= 0x01;
        CHECK(memcmp(h, hx, sizeof h) != 0, "flip of body byte %zu not detected", i);
    }
    /* So does any change of the previous hash. */
    for (size_t i = 0; i < CU_HASH_BYTES; i++) {
        unsigned char prev[CU_HASH_BYTES], hx[CU_HASH_BYTES];
        memcpy(prev, g, sizeof prev);
        prev[i] ^= 0x80;
        cu_audit_chain(prev, b.data, b.len, hx);
        CHECK(memcmp(h, hx, sizeof h) != 0, "flip of previous-hash byte %zu not detected", i);
    }
    /* And dropping the last byte. */
    unsigned char hx[CU_HASH_BYTES];
    cu_audit_chain(g, b.data, b.len - 1, hx);
    assert_memory_not_equal(h, hx, sizeof h);
    cu_buf_release(&b);
}

static void test_sigmsg(void **state)
{
    (void)state;
    cu_checkpoint c = {.seq = 7, .signed_at = 1234};
    memset(c.hash, 0xab, sizeof c.hash);
    unsigned char m1[CU_AUDIT_SIGMSG_MAX], m2[CU_AUDIT_SIGMSG_MAX];
    const char *sid = "123e4567-e89b-42d3-a456-426614174000";
    size_t n1 = cu_audit_sigmsg(sid, &c, m1);
    assert_int_equal(n1, strlen("custos audit head v1") + 36 + 8 + 8 + 32);
    assert_true(n1 <= CU_AUDIT_SIGMSG_MAX);
    assert_memory_equal(m1, "custos audit head v1", 20);
    /* Each of store id, seq, time and hash changes the message. */
    cu_checkpoint d = c;
    d.seq = 8;
    size_t n2 = cu_audit_sigmsg(sid, &d, m2);
    assert_int_equal(n1, n2);
    assert_memory_not_equal(m1, m2, n1);
    d = c;
    d.signed_at = 1235;
    cu_audit_sigmsg(sid, &d, m2);
    assert_memory_not_equal(m1, m2, n1);
    d = c;
    d.hash[31] ^= 1;
    cu_audit_sigmsg(sid, &d, m2);
    assert_memory_not_equal(m1, m2, n1);
    cu_audit_sigmsg("123e4567-e89b-42d3-a456-426614174001", &c, m2);
    assert_memory_not_equal(m1, m2, n1);

    /* A signature over it verifies and binds the head. */
    cu_key seed;
    cu_key_random(&seed);
    unsigned char pk[CU_PUBKEY_BYTES], sig[CU_SIG_BYTES];
    cu_sign_public(&seed, pk);
    cu_sign(&seed, m1, n1, sig);
    assert_true(cu_sign_verify(pk, m1, n1, sig));
    d = c;
    d.seq = 6;
    n2 = cu_audit_sigmsg(sid, &d, m2);
    assert_false(cu_sign_verify(pk, m2, n2, sig));
}

int main(void)
{
    if (cu_crypto_init() != CU_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_layout),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_detail_body),
        cmocka_unit_test(test_decode_rejects_truncation),
        cmocka_unit_test(test_decode_rejects_trailing),
        cmocka_unit_test(test_decode_rejects_bad_magic),
        cmocka_unit_test(test_decode_rejects_bad_lengths),
        cmocka_unit_test(test_chain_hash),
        cmocka_unit_test(test_sigmsg),
    };
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
