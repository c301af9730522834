/*
 * bench_verify — audit trail verification speed, against raw BLAKE2b.
 *
 * Builds a store whose trail holds exactly --events events (one controller, its
 * policy, --subjects subjects, then one-item cu_subject_add_items writes in
 * batches of --gen-batch), closes it and opens it again. Then, --runs times:
 *   verify: cu_audit_verify() over the whole trail (reads every event from
 *           SQLite, decodes it, checks its position, recomputes the chain hash
 *           and compares it, checks every kept checkpoint and the head
 *           signature);
 *   raw:    the same event bodies, read into memory beforehand (not timed),
 *           chained with cu_audit_chain() exactly as verification does:
 *           hash(n) = BLAKE2b-256(hash(n-1) || body(n)).
 * The ratio verify/raw says how close verification comes to the hashing it
 * cannot avoid. The temporary directory is removed at the end.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "crypto/crypto.h"
#include "domain/audit.h"
#include "store/store.h"

#define MAX_RUNS 64

static const char usage[] =
    "usage: bench_verify [options]\n"
    "  --events N       audit events in the trail (default 1000000)\n"
    "  --gen-batch N    item writes per transaction while building it (default 10000)\n"
    "  --subjects N     subjects the writes are spread over (default 100)\n"
    "  --value-bytes N  bytes per item value (default 100)\n"
    "  --runs N         timed verification runs and raw hashing runs (default 5)\n"
    "  --dir DIR        parent of the temporary store directory (default " BENCH_DEFAULT_PARENT
    ")\n";

typedef struct params {
    long events, gen_batch, subjects, value_bytes, runs;
    const char *parent;
} params;

static void parse_args(int argc, char **argv, params *p)
{
    enum { O_EVENTS = 1, O_GEN, O_SUBJECTS, O_VALUE, O_RUNS, O_DIR, O_HELP };
    static const struct option opts[] = {
        {"events", required_argument, NULL, O_EVENTS},
        {"gen-batch", required_argument, NULL, O_GEN},
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
        case O_EVENTS: p->events = bench_count("--events", optarg, 2, 1000000000); break;
        case O_GEN: p->gen_batch = bench_count("--gen-batch", optarg, 1, 100000000); break;
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
    if (p->events < p->subjects + BENCH_SETUP_EVENTS) {
        fprintf(stderr, "bench: --events must be at least --subjects + %d (%ld)\n",
                BENCH_SETUP_EVENTS, p->subjects + BENCH_SETUP_EVENTS);
        exit(2);
    }
}

/* The trail's bodies, contiguous, for the raw hashing runs. */
typedef struct bodies {
    unsigned char *data;
    size_t len, cap;
    size_t *off; /* n + 1 offsets */
    size_t n, max;
    unsigned char last_hash[CU_HASH_BYTES];
} bodies;

static int collect_body(void *ctx, const cu_audit_row *r)
{
    bodies *b = ctx;
    if (b->n == b->max || r->hash_len != CU_HASH_BYTES)
        return CU_ECORRUPT;
    if (b->len + r->body_len > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 20;
        while (cap < b->len + r->body_len)
            cap *= 2;
        unsigned char *p = realloc(b->data, cap);
        if (!p)
            return CU_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, r->body, r->body_len);
    b->len += r->body_len;
    b->off[++b->n] = b->len;
    memcpy(b->last_hash, r->hash, CU_HASH_BYTES);
    return 0;
}

static void load_bodies(const char *store_dir, size_t n, bodies *b)
{
    char db[PATH_MAX + 16];
    snprintf(db, sizeof db, "%s/custos.db", store_dir);
    memset(b, 0, sizeof *b);
    b->max = n;
    b->off = calloc(n + 1, sizeof *b->off);
    if (!b->off) {
        fputs("bench: out of memory\n", stderr);
        exit(1);
    }
    cu_store *s = NULL;
    cu_err err = {0};
    if (cu_store_open(db, false, &s, &err))
        bench_die("opening the store database", &err);
    int rc = cu_store_audit_each(s, NULL, collect_body, b, &err);
    if (rc || b->n != n) {
        fprintf(stderr, "bench: reading the event bodies failed (%d, %zu of %zu)\n", rc, b->n,
                n);
        exit(1);
    }
    cu_store_close(s);
}

/* The raw work: chain every body, as cu_audit_verify does. */
static void chain_all(const bodies *b, const char *store_id, unsigned char out[CU_HASH_BYTES])
{
    unsigned char h[CU_HASH_BYTES];
    cu_audit_genesis(store_id, h);
    for (size_t i = 0; i < b->n; i++)
        cu_audit_chain(h, b->data + b->off[i], b->off[i + 1] - b->off[i], h);
    memcpy(out, h, CU_HASH_BYTES);
}

static long long file_size(const char *dir, const char *name)
{
    char path[PATH_MAX + 32];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

int main(int argc, char **argv)
{
    params p = {.events = 1000000, .gen_batch = 10000, .subjects = 100, .value_bytes = 100,
                .runs = 5, .parent = BENCH_DEFAULT_PARENT};
    parse_args(argc, argv, &p);
    bench_init_libs();
    printf("bench_verify: custos %s, audit verification vs raw BLAKE2b-256 chaining\n",
           CUSTOS_VERSION);
    printf("parameters: events=%ld gen_batch=%ld subjects=%ld value_bytes=%ld runs=%ld "
           "dir=%s\n",
           p.events, p.gen_batch, p.subjects, p.value_bytes, p.runs, p.parent);
    fflush(stdout);

    char dir[PATH_MAX], store_dir[PATH_MAX];
    if (bench_tmpdir(p.parent, dir))
        exit(1);
    bench_store_dir(dir, store_dir);
    cu_vault *v = NULL;
    bench_data d;
    cu_err err = {0};

    /* Build the trail: controller and policy + subjects + items = events. */
    double g0 = bench_wall();
    bench_setup(dir, (size_t)p.subjects, (size_t)p.value_bytes, &v, &d);
    long items = p.events - BENCH_SETUP_EVENTS - p.subjects;
    uint64_t n = 0;
    while ((long)n < items) {
        long k = items - (long)n < p.gen_batch ? items - (long)n : p.gen_batch;
        if (cu_vault_batch_begin(v, &err))
            bench_die("starting a batch", &err);
        for (long i = 0; i < k; i++)
            bench_add_item(v, &d, n++);
        if (cu_vault_batch_commit(v, &err))
            bench_die("committing a batch", &err);
    }
    double gen = bench_wall() - g0;
    cu_vault_close(v);
    bench_data_release(&d);
    sync(); /* let write-back of the new store finish before anything is timed */
    printf("built: %ld events (%ld item writes) in %.1f s; custos.db %.1f MiB\n", p.events,
           items, gen, (double)file_size(store_dir, "custos.db") / (1 << 20));

    if (cu_vault_open(store_dir, NULL, &v, &err))
        bench_die("reopening the store", &err);
    bodies b;
    load_bodies(store_dir, (size_t)p.events, &b);
    size_t hashed = b.len + b.n * CU_HASH_BYTES; /* prev hash || body, per event */
    printf("trail: %zu events, %zu body bytes (mean %.1f), %zu bytes hashed in all\n", b.n,
           b.len, (double)b.len / (double)b.n, hashed);
    fflush(stdout);

    double vrate[MAX_RUNS], rrate[MAX_RUNS], ratio[MAX_RUNS], vcpu[MAX_RUNS], rcpu[MAX_RUNS];
    for (long r = 0; r < p.runs; r++) {
        cu_verify_report rep;
        double w0 = bench_wall(), c0 = bench_cpu();
        if (cu_audit_verify(v, &rep, &err))
            bench_die("verifying", &err);
        double vw = bench_wall() - w0, vc = bench_cpu() - c0;
        if (!rep.ok || rep.events != p.events) {
            fprintf(stderr, "bench: verification failed: ok=%d events=%lld: %s\n", rep.ok,
                    (long long)rep.events, rep.reason);
            exit(1);
        }
        unsigned char h[CU_HASH_BYTES];
        w0 = bench_wall();
        c0 = bench_cpu();
        chain_all(&b, cu_vault_store_id(v), h);
        double rw = bench_wall() - w0, rcpu_s = bench_cpu() - c0;
        if (memcmp(h, b.last_hash, CU_HASH_BYTES) != 0) {
            fputs("bench: the raw chain does not end at the stored head hash\n", stderr);
            exit(1);
        }
        vrate[r] = (double)p.events / vw;
        vcpu[r] = (double)p.events / vc;
        rrate[r] = (double)p.events / rw;
        rcpu[r] = (double)p.events / rcpu_s;
        ratio[r] = vrate[r] / rrate[r];
        printf("run %ld: verify %lld events, %lld signatures in %.3f s (cpu %.3f s) = %.0f "
               "events/s; raw chain %.3f s (cpu %.3f s) = %.0f events/s (%.1f MB/s); ratio %.1f%%\n",
               r + 1, (long long)rep.events, (long long)rep.checkpoints, vw, vc, vrate[r], rw,
               rcpu_s, rrate[r], (double)hashed / rw / 1e6, 100 * ratio[r]);
        fflush(stdout);
    }
    size_t R = (size_t)p.runs;
    double vm = bench_median(vrate, R), rm = bench_median(rrate, R);
    printf("verify: median %.0f events/s (min %.0f, max %.0f; %.0f events per cpu-second; "
           "%.1f MB/s hashed)\n",
           vm, bench_min(vrate, R), bench_max(vrate, R), bench_median(vcpu, R),
           vm * (double)hashed / (double)p.events / 1e6);
    printf("raw: median %.0f events/s (min %.0f, max %.0f; %.0f events per cpu-second; "
           "%.1f MB/s)\n",
           rm, bench_min(rrate, R), bench_max(rrate, R), bench_median(rcpu, R),
           rm * (double)hashed / (double)p.events / 1e6);
    printf("ratio: verify/raw median of runs %.1f%% (ratio of medians %.1f%%; of cpu-time "
           "rates %.1f%%); target 50%%: %s\n",
           100 * bench_median(ratio, R), 100 * vm / rm,
           100 * bench_median(vcpu, R) / bench_median(rcpu, R),
           bench_median(ratio, R) >= 0.5 ? "MET" : "MISSED");
    cu_vault_close(v);
    free(b.data);
    free(b.off);
    bench_rmtree(dir);
    return 0;
}
