/*
 * gen_audit_seeds.c — writes the seed corpus of fuzz_audit: canonical audit
 * bodies made by cu_audit_encode, plus damaged variants of them. Built on
 * demand only:
 *
 *   ninja -C build fuzz/gen_audit_seeds && build/fuzz/gen_audit_seeds fuzz/corpus/audit
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "util/buf.h"

static const char *outdir;

static void save(const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void encode(const cu_audit_event *e, cu_buf *b)
{
    cu_buf_init(b, 0);
    if (cu_audit_encode(e, b) != CU_OK) {
        fprintf(stderr, "encode failed\n");
        exit(1);
    }
}

/* Saves the body and, for the first event only, its damaged variants. */
static void emit(const char *name, const cu_audit_event *e, int variants)
{
    cu_buf b;
    encode(e, &b);
    save(name, b.data, b.len);
    if (variants) {
        char vname[256];
        unsigned char *c = malloc(b.len + 8);
        if (!c)
            exit(1);

        snprintf(vname, sizeof vname, "bad-truncated-last-byte-of-%s", name);
        save(vname, b.data, b.len - 1);
        snprintf(vname, sizeof vname, "bad-truncated-header-of-%s", name);
        save(vname, b.data, 19);
        snprintf(vname, sizeof vname, "bad-header-only-of-%s", name);
        save(vname, b.data, 20);

        memcpy(c, b.data, b.len);
        c[b.len] = 0;
        snprintf(vname, sizeof vname, "bad-trailing-byte-of-%s", name);
        save(vname, c, b.len + 1);

        memcpy(c, b.data, b.len);
        c[3] = '2';
        snprintf(vname, sizeof vname, "bad-magic-of-%s", name);
        save(vname, c, b.len);

        /* actor length (bytes 20-23) one too long, then absurdly long. */
        memcpy(c, b.data, b.len);
        c[23] = (unsigned char)(c[23] + 1);
        snprintf(vname, sizeof vname, "bad-overlong-field-of-%s", name);
        save(vname, c, b.len);
        memcpy(c, b.data, b.len);
        c[20] = c[21] = c[22] = c[23] = 0xff;
        snprintf(vname, sizeof vname, "bad-length-ffffffff-of-%s", name);
        save(vname, c, b.len);

        /* payload length (last field) one too long and one too short. */
        size_t pl = b.len - 4 - e->payload_len;
        memcpy(c, b.data, b.len);
        c[pl + 3] = (unsigned char)(c[pl + 3] + 1);
        snprintf(vname, sizeof vname, "bad-overlong-payload-of-%s", name);
        save(vname, c, b.len);
        if (e->payload_len) {
            memcpy(c, b.data, b.len);
            c[pl + 3] = (unsigned char)(c[pl + 3] - 1);
            snprintf(vname, sizeof vname, "bad-short-payload-of-%s", name);
            save(vname, c, b.len);
        }
        free(c);
    }
    cu_buf_release(&b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];

    cu_audit_event empty = {0};
    emit("valid-empty", &empty, 0);

    cu_audit_event add = {
        .seq = 1, .ts = 1763808086123456, .actor = "alice", .role = "clinician",
        .action = "subject.add", .controller = "Example NHS Foundation Trust",
        .subject = "0b8e2c4a-6f1d-4a3b-9c5e-7d2f1a0b3c4d",
        .categories = "contact,identifying", .purpose = "direct_care", .outcome = "ok",
        .via = "cli:subject add"};
    emit("valid-subject-add", &add, 1);

    unsigned char sealed[24 + 40 + 16];
    for (size_t i = 0; i < sizeof sealed; i++)
        sealed[i] = (unsigned char)(i * 37 + 11);
    sealed[5] = 0; /* payloads are binary: NUL bytes allowed */
    cu_audit_event rect = {
        .seq = 4096, .ts = 1763808090000000, .actor = "bob", .role = "records_officer",
        .action = "subject.rectify", .controller = "Example NHS Foundation Trust",
        .subject = "0b8e2c4a-6f1d-4a3b-9c5e-7d2f1a0b3c4d", .categories = "contact",
        .purpose = "rectification_request", .outcome = "ok",
        .via = "cli:subject rectify", .payload = sealed, .payload_len = sizeof sealed};
    emit("valid-rectify-with-payload", &rect, 1);

    cu_audit_event denied = {
        .seq = 7, .ts = 1763808100000000, .actor = "mallory", .role = "reception",
        .action = "subject.show", .controller = "Example NHS Foundation Trust",
        .subject = "0b8e2c4a-6f1d-4a3b-9c5e-7d2f1a0b3c4d", .categories = "health,genetic",
        .purpose = "direct_care", .outcome = "denied", .via = "http:GET /v1/subjects/{id}"};
    emit("valid-denied", &denied, 0);

    cu_audit_event extremes = {
        .seq = INT64_MAX, .ts = INT64_MIN, .actor = "a", .role = "r", .action = "x",
        .controller = "Cl\xc3\xadnica S\xc3\xa3o Jo\xc3\xa3o \xe2\x80\x94 \xf0\x9f\x8f\xa5",
        .subject = "", .categories = "", .purpose = "audit", .outcome = "error",
        .via = "cli:audit verify"};
    emit("valid-extreme-integers-utf8", &extremes, 0);

    cu_audit_event neg = {.seq = -1, .ts = -1, .action = "store.init", .outcome = "ok"};
    emit("valid-negative-integers", &neg, 0);

    /* Text fields holding NUL bytes: decodable, not re-encodable from C strings. */
    cu_buf b;
    cu_buf_init(&b, 0);
    static const char magic[4] = {'C', 'U', 'A', '1'};
    int rc = cu_buf_append(&b, magic, 4);
    rc = rc ? rc : cu_buf_append_u64be(&b, 2);
    rc = rc ? rc : cu_buf_append_u64be(&b, 1763808086000000);
    rc = rc ? rc : cu_buf_append_field(&b, "al\0ice", 6);
    for (int i = 0; i < 8 && !rc; i++)
        rc = cu_buf_append_field(&b, "", 0);
    rc = rc ? rc : cu_buf_append_field(&b, "\0\0", 2);
    if (rc)
        return 1;
    save("valid-nul-in-actor", b.data, b.len);
    cu_buf_release(&b);

    save("bad-empty", "", 0);
    save("bad-magic-only", "CUA1", 4);
    return 0;
}
