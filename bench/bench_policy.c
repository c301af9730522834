/*
 * bench_policy — the cost of the policy decision on the hot path: finding the
 * request's purpose in the controller's parsed policy (cu_policy_purpose) and
 * deciding (cu_policy_decide), as cu_op_authorise does for every access.
 *
 * The facts cycle through every purpose of the policy (the last one declared
 * is the slowest to find), an unknown purpose and the built-in one, each
 * subject kind, and restriction, objection and consent set and unset, so
 * every rule of the decision is exercised. Loading consent, objection and
 * restriction state is not included: it is part of the subject's row except
 * for consent-based purposes (one indexed lookup) and objecting subjects.
 *
 * usage: bench_policy [--policy FILE] [--checks N] [--runs N]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "domain/policy.h"
#include "util/file.h"

#define MAX_RUNS 64
#define MAX_NAMES 300

static const char usage[] =
    "usage: bench_policy [options]\n"
    "  --policy FILE  the policy (default profiles/therapyaudit.json in the source tree)\n"
    "  --checks N     decisions per run (default 20000000)\n"
    "  --runs N       timed runs (default 5)\n";

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *path = CUSTOS_SOURCE_ROOT "/profiles/therapyaudit.json";
    long checks = 20000000, runs = 5;
    static const struct option opts[] = {{"policy", required_argument, NULL, 'p'},
                                         {"checks", required_argument, NULL, 'c'},
                                         {"runs", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'p': path = optarg; break;
        case 'c': checks = bench_count("--checks", optarg, 1000, 2000000000L); break;
        case 'r': runs = bench_count("--runs", optarg, 1, MAX_RUNS); break;
        default: fputs(usage, opt == 'h' ? stdout : stderr); return opt == 'h' ? 0 : 2;
        }
    }
    bench_init_libs();
    cu_err err = {0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_policy: cannot open %s\n", path);
        return 1;
    }
    cu_buf doc;
    cu_buf_init(&doc, CU_POLICY_MAX_BYTES + 1);
    int rc = cu_read_stream(f, CU_POLICY_MAX_BYTES, &doc, &err);
    fclose(f);
    cu_policy *pol = NULL;
    if (rc || cu_policy_parse(doc.data, doc.len, &pol, NULL, &err))
        bench_die("parsing the policy", &err);
    cu_buf_release(&doc);

    /* The purpose names asked for, as a request would carry them. */
    char names[MAX_NAMES][CU_MAX_NAME_BYTES + 1];
    size_t nnames = 0;
    for (size_t i = 0; i < pol->npurposes && nnames < MAX_NAMES - 2; i++)
        cu_strlcpy(names[nnames++], pol->purposes[i].id, sizeof names[0]);
    cu_strlcpy(names[nnames++], "not_a_declared_purpose", sizeof names[0]);
    cu_strlcpy(names[nnames++], CU_PURPOSE_RIGHTS, sizeof names[0]);
    const char *last = pol->purposes[pol->npurposes - 1].id;

    printf("== policy decision (cu_policy_purpose + cu_policy_decide)\n");
    printf("policy: %s (%zu purposes)\n", path, pol->npurposes);
    printf("checks per run: %ld, runs: %ld\n", checks, runs);
    double mixed[MAX_RUNS], worst[MAX_RUNS];
    unsigned long allowed = 0;
    for (long r = 0; r < runs; r++) {
        double t0 = bench_wall();
        for (long i = 0; i < checks; i++) {
            unsigned long u = (unsigned long)i;
            cu_pol_facts fa = {
                .policy = pol,
                .purpose = cu_policy_purpose(pol, names[u % nnames]),
                .write = (u >> 3) & 1,
                .categories = 1u << (u % CU_CAT_COUNT),
                .kind = 1u << ((u >> 1) % CU_KIND_COUNT),
                .restricted = (u & 0x30) == 0x30,
                .objected = (u & 0x50) == 0x50,
                .consent = (u >> 2) & 1,
            };
            allowed += cu_policy_decide(&fa).allow;
        }
        mixed[r] = (bench_wall() - t0) * 1e9 / (double)checks;
        /* The slowest lookup: the last purpose declared, every time. */
        t0 = bench_wall();
        for (long i = 0; i < checks; i++) {
            cu_pol_facts fa = {.policy = pol, .purpose = cu_policy_purpose(pol, last),
                               .kind = 1u << (i % CU_KIND_COUNT), .consent = i & 1};
            allowed += cu_policy_decide(&fa).allow;
        }
        worst[r] = (bench_wall() - t0) * 1e9 / (double)checks;
        printf("run %ld: mixed %.1f ns/check, last-declared purpose %.1f ns/check\n", r + 1,
               mixed[r], worst[r]);
    }
    qsort(mixed, (size_t)runs, sizeof mixed[0], cmp_double);
    qsort(worst, (size_t)runs, sizeof worst[0], cmp_double);
    printf("median: mixed %.1f ns/check, last-declared purpose %.1f ns/check "
           "(target: under 1000 ns)\n",
           mixed[runs / 2], worst[runs / 2]);
    printf("(allowed %lu of %ld decisions)\n", allowed, 2 * checks * runs);
    cu_policy_free(pol);
    return 0;
}
