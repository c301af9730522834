/*
 * bench_writes — encrypted, audited item writes per second with durable
 * commits (WAL, synchronous=FULL).
 *
 * Each write is one cu_subject_add_items() call with a one-item document: one
 * value sealed under the subject's data key, one item row, one audit event
 * (hash-chained), all in the same transaction. Two modes:
 *   batched: cu_vault_batch_begin, --batch writes, cu_vault_batch_commit
 *            (the head is signed and the WAL fsynced once per batch);
 *   single:  each write outside a batch, committed (and fsynced) on its own.
 * Every run starts from a fresh store in a new temporary directory under --dir,
 * checks the audit trail afterwards (not timed) and removes the directory.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define MAX_RUNS 64

static const char usage[] =
    "usage: bench_writes [options]\n"
    "  --items N        batched item writes per run (default 100000)\n"
    "  --batch N        item writes per transaction in batched mode (default 1000)\n"
    "  --single N       item writes in single mode, one per transaction (default 1000)\n"
    "  --subjects N     subjects the writes are spread over (default 100)\n"
    "  --value-bytes N  bytes per item value (default 100)\n"
    "  --runs N         runs, each on a fresh store (default 3)\n"
    "  --dir DIR        parent of the temporary store directory (default " BENCH_DEFAULT_PARENT
    ")\n";

typedef struct params {
    long items, batch, single, subjects, value_bytes, runs;
    const char *parent;
} params;

static void parse_args(int argc, char **argv, params *p)
{
    enum { O_ITEMS = 1, O_BATCH, O_SINGLE, O_SUBJECTS, O_VALUE, O_RUNS, O_DIR, O_HELP };
    static const struct option opts[] = {
        {"items", required_argument, NULL, O_ITEMS},
        {"batch", required_argument, NULL, O_BATCH},
        {"single", required_argument, NULL, O_SINGLE},
        {"subjects", required_argument, NULL, O_SUBJECTS},
        {"value-bytes", required_argument, NULL, O_VALUE},
        {"runs", required_argument, NULL, O_RUNS},
        {"dir", required_argument, NULL, O_DIR},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_ITEMS: p->items = bench_count("--items", optarg, 0, 100000000); break;
        case O_BATCH: p->batch = bench_count("--batch", optarg, 1, 100000000); break;
        case O_SINGLE: p->single = bench_count("--single", optarg, 0, 100000000); break;
        case O_SUBJECTS: p->subjects = bench_count("--subjects", optarg, 1, 1000000); break;
        case O_VALUE: p->value_bytes = bench_count("--value-bytes", optarg, 2, 65536); break;
        case O_RUNS: p->runs = bench_count("--runs", optarg, 1, MAX_RUNS); break;
        case O_DIR: p->parent = optarg; break;
        case O_HELP: fputs(usage, stdout); exit(0);
        default: fputs(usage, stderr); exit(2);
        }
    }
    if (optind < argc) {
        fputs(usage, stderr);
        exit(2);
    }
}

typedef struct run_result {
    double batched_wall, batched_cpu, single_wall, single_cpu;
} run_result;

static void one_run(const params *p, long run, run_result *r)
{
    char dir[PATH_MAX];
    sync(); /* start each run without write-back left from the one before */
    if (bench_tmpdir(p->parent, dir))
        exit(1);
    cu_vault *v = NULL;
    bench_data d;
    bench_setup(dir, (size_t)p->subjects, (size_t)p->value_bytes, &v, &d);
    cu_err err = {0};
    uint64_t n = 0;

    /* batched: group commit */
    double w0 = bench_wall(), c0 = bench_cpu();
    for (long done = 0; done < p->items;) {
        long k = p->items - done < p->batch ? p->items - done : p->batch;
        if (cu_vault_batch_begin(v, &err))
            bench_die("starting a batch", &err);
        for (long i = 0; i < k; i++)
            bench_add_item(v, &d, n++);
        if (cu_vault_batch_commit(v, &err))
            bench_die("committing a batch", &err);
        done += k;
    }
    r->batched_wall = bench_wall() - w0;
    r->batched_cpu = bench_cpu() - c0;

    /* single: one write per transaction */
    w0 = bench_wall();
    c0 = bench_cpu();
    for (long i = 0; i < p->single; i++)
        bench_add_item(v, &d, n++);
    r->single_wall = bench_wall() - w0;
    r->single_cpu = bench_cpu() - c0;

    /* Not timed: the trail must hold every write's event and verify. */
    cu_verify_report rep;
    if (cu_audit_verify(v, &rep, &err))
        bench_die("verifying the audit trail", &err);
    long long expect = BENCH_SETUP_EVENTS + p->subjects + (long long)n; /* set-up, subjects, items */
    if (!rep.ok || rep.events != expect) {
        fprintf(stderr, "bench: audit check failed: ok=%d events=%lld expected=%lld: %s\n",
                rep.ok, (long long)rep.events, expect, rep.reason);
        exit(1);
    }
    printf("run %ld: batched %ld writes in %.3f s (cpu %.3f s) = %.0f writes/s; "
           "single %ld writes in %.3f s (cpu %.3f s) = %.0f writes/s; "
           "audit verified: %lld events\n",
           run, p->items, r->batched_wall, r->batched_cpu,
           r->batched_wall > 0 ? (double)p->items / r->batched_wall : 0, p->single,
           r->single_wall, r->single_cpu,
           r->single_wall > 0 ? (double)p->single / r->single_wall : 0,
           (long long)rep.events);
    fflush(stdout);
    cu_vault_close(v);
    bench_data_release(&d);
    bench_rmtree(dir);
}

static void summary(const char *name, long n, const double *wall, const double *cpu, long runs,
                    double target)
{
    double rate[MAX_RUNS], cpurate[MAX_RUNS];
    for (long i = 0; i < runs; i++) {
        rate[i] = wall[i] > 0 ? (double)n / wall[i] : 0;
        cpurate[i] = cpu[i] > 0 ? (double)n / cpu[i] : 0;
    }
    double med = bench_median(rate, (size_t)runs);
    printf("%s: median %.0f writes/s (min %.0f, max %.0f; %.1f us/write; "
           "%.0f writes per cpu-second)",
           name, med, bench_min(rate, (size_t)runs), bench_max(rate, (size_t)runs),
           med > 0 ? 1e6 / med : 0, bench_median(cpurate, (size_t)runs));
    if (target > 0)
        printf("; target %.0f writes/s: %s", target, med >= target ? "MET" : "MISSED");
    printf("\n");
}

int main(int argc, char **argv)
{
    params p = {.items = 100000, .batch = 1000, .single = 1000, .subjects = 100,
                .value_bytes = 100, .runs = 3, .parent = BENCH_DEFAULT_PARENT};
    parse_args(argc, argv, &p);
    bench_init_libs();
    printf("bench_writes: custos %s, encrypted audited item writes, WAL synchronous=FULL\n",
           CUSTOS_VERSION);
    printf("parameters: items=%ld batch=%ld single=%ld subjects=%ld value_bytes=%ld runs=%ld "
           "dir=%s\n",
           p.items, p.batch, p.single, p.subjects, p.value_bytes, p.runs, p.parent);
    fflush(stdout);
    double bw[MAX_RUNS], bc[MAX_RUNS], sw[MAX_RUNS], sc[MAX_RUNS];
    for (long r = 0; r < p.runs; r++) {
        run_result res;
        one_run(&p, r + 1, &res);
        bw[r] = res.batched_wall;
        bc[r] = res.batched_cpu;
        sw[r] = res.single_wall;
        sc[r] = res.single_cpu;
    }
    if (p.items)
        summary("batched", p.items, bw, bc, p.runs, 20000);
    if (p.single)
        summary("single", p.single, sw, sc, p.runs, 0);
    return 0;
}
