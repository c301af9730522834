/*
 * fuzz_backup.c — cu_backup_decode (src/domain/backup.h) on arbitrary bytes,
 * under the master key gen_erasure_seeds uses, so that the seeds are valid
 * backups and mutations reach the chunk and tag checks.
 *
 * Invariants: the result is CU_OK, CU_ECORRUPT or CU_EKEY, with err set to
 * match; an accepted backup's plaintext length is info.bytes and encoding
 * that plaintext again gives a backup that decodes to the same bytes.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "domain/backup.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    static cu_key master;
    if (!init) {
        CHECK(cu_crypto_init() == CU_OK);
        memset(master.k, 0x42, sizeof master.k);
        init = true;
    }
    FILE *in = fmemopen((void *)data, size ? size : 1, "rb");
    CHECK(in);
    if (!size)
        fgetc(in); /* an empty stream */
    char *plain = NULL;
    size_t plen = 0;
    FILE *out = open_memstream(&plain, &plen);
    CHECK(out);
    cu_err err = {0};
    cu_backup_info info = {0};
    int rc = cu_backup_decode(&master, in, out, &info, &err);
    fclose(in);
    fclose(out);
    CHECK(rc == CU_OK || rc == CU_ECORRUPT || rc == CU_EKEY);
    CHECK(rc == CU_OK ? err.code == CU_OK : (int)err.code == rc);
    if (rc == CU_OK) {
        CHECK((size_t)info.bytes == plen);
        CHECK(cu_id_valid(info.store_id));
        /* Round trip. */
        FILE *src = fmemopen(plain, plen ? plen : 1, "rb");
        CHECK(src);
        if (!plen)
            fgetc(src);
        char *enc = NULL;
        size_t elen = 0;
        FILE *eo = open_memstream(&enc, &elen);
        CHECK(eo);
        CHECK(cu_backup_encode(&master, info.store_id, src, eo, NULL, &err) == CU_OK);
        fclose(src);
        fclose(eo);
        FILE *ei = fmemopen(enc, elen, "rb");
        char *again = NULL;
        size_t alen = 0;
        FILE *ao = open_memstream(&again, &alen);
        CHECK(ei && ao);
        CHECK(cu_backup_decode(&master, ei, ao, NULL, &err) == CU_OK);
        fclose(ei);
        fclose(ao);
        CHECK(alen == plen && memcmp(again, plain, plen) == 0);
        free(enc);
        free(again);
    }
    free(plain);
    return 0;
}
