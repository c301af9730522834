/*
 * gen_erasure_seeds.c — writes the seed corpora of fuzz_ledger and
 * fuzz_backup, with the fixed keys those harnesses use:
 *   gen_erasure_seeds fuzz/corpus/ledger fuzz/corpus/backup
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "domain/backup.h"
#include "domain/ledger.h"

#define STORE "4f1c2a56-9b7e-4d3a-8c2b-1e5f6a7b8c9d"

static int copy(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    if (!a || !b)
        return 1;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        fwrite(buf, 1, n, b);
    fclose(a);
    return fclose(b) != 0;
}

static int backup_seed(const cu_key *master, const char *dir, const char *name,
                       const void *plain, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *src = fmemopen((void *)plain, n ? n : 1, "rb");
    if (!n)
        fgetc(src);
    FILE *out = fopen(path, "wb");
    cu_err err = {0};
    int rc = cu_backup_encode(master, STORE, src, out, NULL, &err);
    fclose(src);
    fclose(out);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3 || cu_crypto_init())
        return 2;
    cu_key seed;
    memset(seed.k, 0x5a, sizeof seed.k);
    char path[4096];
    snprintf(path, sizeof path, "%s/.work.ledger", argv[1]);
    unlink(path);
    cu_err err = {0};
    int64_t seq;
    unsigned char h[CU_HASH_BYTES];
    const char items[3][CU_ID_STRLEN] = {"01a2035b-aba3-7171-9a0f-3435630910ac",
                                         "01a2035b-aba3-7528-8f00-9843e163d9ae",
                                         "01a2035b-aba3-7bf7-925a-d29e801b0f38"};
    char out[4096];
    if (cu_ledger_append(path, STORE, &seed, 1795352669151286, STORE, NULL, 0, &seq, h, &err))
        return 1;
    snprintf(out, sizeof out, "%s/one-whole-subject", argv[1]);
    copy(path, out);
    if (cu_ledger_append(path, STORE, &seed, 1795352669151999,
                         "1f2bd53b-14e2-408c-ad5f-e630e93725be", items, 3, &seq, h, &err) ||
        cu_ledger_append(path, STORE, &seed, 1795352669152000,
                         "1f2bd53b-14e2-408c-ad5f-e630e93725be", items, 1, &seq, h, &err))
        return 1;
    snprintf(out, sizeof out, "%s/three-entries-items", argv[1]);
    copy(path, out);
    unlink(path);
    cu_key master;
    memset(master.k, 0x42, sizeof master.k);
    static char big[2 * CU_BACKUP_CHUNK + 100];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    if (backup_seed(&master, argv[2], "empty", "", 0) ||
        backup_seed(&master, argv[2], "small", "SQLite format 3\0 and more", 25) ||
        backup_seed(&master, argv[2], "exact-chunk", big, CU_BACKUP_CHUNK) ||
        backup_seed(&master, argv[2], "three-chunks", big, sizeof big))
        return 1;
    return 0;
}
