/* common.c — see common.h. */
#include "common.h"

#include "../tests/unit/policy_fixture.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"

const cu_actor bench_actor = {
    .name = "bench", .role = "operator", .purpose = "direct_care", .via = "bench",
};

double bench_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

_Noreturn void bench_die(const char *what, const cu_err *err)
{
    fprintf(stderr, "bench: %s: %s (%s)\n", what, err && err->code ? err->msg : "failed",
            err ? cu_status_name(err->code) : "?");
    exit(1);
}

int bench_tmpdir(const char *parent, char out[PATH_MAX])
{
    if (snprintf(out, PATH_MAX, "%s/custos-bench-XXXXXX", parent) >= PATH_MAX) {
        fprintf(stderr, "bench: temporary directory path too long\n");
        return -1;
    }
    if (!mkdtemp(out)) {
        fprintf(stderr, "bench: cannot create a directory in %s: %s\n", parent,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(path) ? -1 : 0;
    return unlink(path) ? -1 : 0;
}

void bench_rmtree(const char *dir)
{
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
        fprintf(stderr, "bench: could not remove %s completely: %s\n", dir, strerror(errno));
}

long bench_count(const char *opt, const char *arg, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || !end || *end || end == arg || v < min || v > max) {
        fprintf(stderr, "bench: %s must be a whole number from %ld to %ld\n", opt, min, max);
        exit(2);
    }
    return v;
}

void bench_init_libs(void)
{
    if (cu_crypto_init()) {
        fputs("bench: cannot initialise the cryptographic library\n", stderr);
        exit(1);
    }
    cu_input_init();
}

void bench_store_dir(const char *dir, char out[PATH_MAX])
{
    if (snprintf(out, PATH_MAX, "%s/store", dir) >= PATH_MAX) {
        fputs("bench: store path too long\n", stderr);
        exit(1);
    }
}

/* A fixed, printable value of n bytes for document k: the same every run. */
static void fixed_value(char *out, size_t n, unsigned k)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 ";
    uint32_t x = 2463534242u + k * 2654435761u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = alphabet[x % (sizeof alphabet - 1)];
    }
    out[0] = 'v'; /* never leading or trailing blanks */
    out[n - 1] = 'z';
    out[n] = '\0';
}

static void parse_doc(const char *json, cu_doc *doc)
{
    cu_err err = {0};
    if (cu_doc_parse(json, strlen(json), CU_DOC_SUBJECT, doc, &err))
        bench_die("parsing a benchmark document", &err);
}

void bench_setup(const char *dir, size_t nsubjects, size_t value_bytes, cu_vault **v,
                 bench_data *d)
{
    cu_err err = {0};
    char store[PATH_MAX];
    bench_store_dir(dir, store);
    memset(d, 0, sizeof *d);
    d->value_bytes = value_bytes;
    if (cu_vault_init(store, NULL, &err))
        bench_die("creating the store", &err);
    if (cu_vault_open(store, NULL, v, &err))
        bench_die("opening the store", &err);
    if (cu_controller_add(*v, &bench_actor, "Bench Trust", d->controller, &err))
        bench_die("adding a controller", &err);
    if (test_policy_apply(*v, &bench_actor, d->controller, &err))
        bench_die("applying the policy", &err);

    size_t cap = value_bytes + 256;
    char *json = malloc(cap), *value = malloc(value_bytes + 1);
    d->subject = calloc(nsubjects, sizeof *d->subject);
    if (!json || !value || !d->subject) {
        fputs("bench: out of memory\n", stderr);
        exit(1);
    }
    d->nsubjects = nsubjects;
    if (cu_vault_batch_begin(*v, &err))
        bench_die("starting the set-up batch", &err);
    for (size_t i = 0; i < nsubjects; i++) {
        snprintf(json, cap, "{\"name\": \"Bench Subject %zu\", \"local_ref\": \"bench-%zu\"}",
                 i + 1, i + 1);
        cu_doc doc;
        parse_doc(json, &doc);
        if (cu_subject_add(*v, &bench_actor, d->controller, "patient", &doc, d->subject[i],
                           &err))
            bench_die("adding a subject", &err);
        cu_doc_release(&doc);
    }
    if (cu_vault_batch_commit(*v, &err))
        bench_die("committing the set-up batch", &err);
    for (unsigned k = 0; k < BENCH_ITEM_DOCS; k++) {
        fixed_value(value, value_bytes, k);
        snprintf(json, cap,
                 "{\"items\": [{\"category\": \"health\", \"field\": \"observation\", "
                 "\"source\": \"staff\", \"value\": \"%s\"}]}", value);
        parse_doc(json, &d->item_doc[k]);
    }
    free(json);
    free(value);
}

void bench_data_release(bench_data *d)
{
    for (unsigned k = 0; k < BENCH_ITEM_DOCS; k++)
        cu_doc_release(&d->item_doc[k]);
    free(d->subject);
    memset(d, 0, sizeof *d);
}

void bench_add_item(cu_vault *v, const bench_data *d, uint64_t i)
{
    cu_err err = {0};
    if (cu_subject_add_items(v, &bench_actor, d->subject[i % d->nsubjects],
                             &d->item_doc[i % BENCH_ITEM_DOCS], NULL, &err))
        bench_die("adding an item", &err);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(const double *x, size_t n)
{
    double tmp[64];
    if (n == 0 || n > 64)
        return 0;
    memcpy(tmp, x, n * sizeof *x);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

double bench_min(const double *x, size_t n)
{
    double m = n ? x[0] : 0;
    for (size_t i = 1; i < n; i++)
        m = x[i] < m ? x[i] : m;
    return m;
}

double bench_max(const double *x, size_t n)
{
    double m = n ? x[0] : 0;
    for (size_t i = 1; i < n; i++)
        m = x[i] > m ? x[i] : m;
    return m;
}
