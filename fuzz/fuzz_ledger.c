/*
 * fuzz_ledger.c — cu_ledger_parse (src/domain/ledger.h) on arbitrary bytes,
 * with the store id and signing key that gen_erasure_seeds uses, so that the
 * seeds are valid ledgers and mutations reach every check.
 *
 * Invariants: an accepted ledger has entries numbered 1..n without gaps,
 * each naming a valid subject and either the whole subject or 1..max items;
 * parsing it again gives the same end; accepting it without signature checks
 * never accepts less; any prefix that ends at a line end is itself accepted.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "domain/ledger.h"
#include "fuzz.h"

#define STORE "4f1c2a56-9b7e-4d3a-8c2b-1e5f6a7b8c9d"

typedef struct walk {
    int64_t n;
} walk;

static int on_entry(void *ctx, const cu_ledger_entry *e)
{
    walk *w = ctx;
    CHECK(e->seq == w->n + 1);
    CHECK(cu_id_valid(e->subject));
    CHECK(e->whole ? e->nitems == 0 : (e->nitems >= 1 && e->nitems <= CU_LEDGER_MAX_ITEMS));
    for (size_t i = 0; i < e->nitems; i++) {
        char id[CU_ID_STRLEN];
        cu_ledger_item(e, i, id);
        CHECK(cu_id_valid(id));
    }
    w->n = e->seq;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    static unsigned char pk[CU_PUBKEY_BYTES];
    if (!init) {
        CHECK(cu_crypto_init() == CU_OK);
        cu_key seed;
        memset(seed.k, 0x5a, sizeof seed.k);
        cu_sign_public(&seed, pk);
        init = true;
    }
    cu_err err = {0};
    walk w = {0};
    int64_t last = -1;
    unsigned char h[CU_HASH_BYTES];
    int rc = cu_ledger_parse(data, size, STORE, pk, 0, on_entry, &w, &last, h, &err);
    CHECK(rc == CU_OK || rc == CU_ETAMPER);
    CHECK(rc != CU_OK || err.code == CU_OK);
    CHECK(rc == CU_OK || (int)err.code == rc);
    if (rc != CU_OK)
        return 0;
    CHECK(last == w.n);
    int64_t last2 = -1;
    unsigned char h2[CU_HASH_BYTES];
    CHECK(cu_ledger_parse(data, size, STORE, NULL, 0, NULL, NULL, &last2, h2, &err) == CU_OK);
    CHECK(last2 == last && memcmp(h, h2, sizeof h) == 0);
    /* Every prefix at a line end is a valid ledger too. */
    for (size_t i = 0; i < size; i++)
        if (data[i] == '\n') {
            int64_t l3;
            CHECK(cu_ledger_parse(data, i + 1, STORE, pk, 0, NULL, NULL, &l3, h2, &err) ==
                  CU_OK);
            CHECK(l3 <= last);
        }
    return 0;
}
