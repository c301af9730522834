/*
 * bench_sar — the full subject access package (JSON, HTML letter and FHIR
 * Bundle) for one subject, in a large store.
 *
 * Builds a store of --subjects subjects and --events audit events, then, for
 * --samples subjects drawn at random, times one cu_sar_run() that renders all
 * three formats inside its one audited operation (the export event is
 * appended and committed, fsync included, as in production). Prints the
 * generation times and p50/p90/p99/max of the package in milliseconds.
 *
 * How the data is generated (docs/benchmarks.md):
 *   subjects: cu_subject_add through the vault in batches of --gen-batch (one
 *             transaction each), every subject a patient with name, birth
 *             date, email, phone, address, postcode, an NHS number from the
 *             999 test range (the ~91% of 9-digit prefixes whose check digit is
 *             valid) and three health items: 9-10 encrypted items, blind
 *             indexes and one "create" audit event each;
 *   events:   the rest of the trail (--events minus one per subject) appended
 *             with cu_audit_append in batches of --gen-batch inside vault
 *             batches: real hash-chained events, signed heads and checkpoints,
 *             each naming a subject drawn uniformly at random (a clinician
 *             reading the record for direct care), so a subject has on average
 *             events/subjects events, found through the (subject_id, seq)
 *             index.
 * With --keep DIR the store is built in DIR (or reused when DIR/store exists)
 * and not removed, so the timing can be repeated without rebuilding it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "domain/audit.h"
#include "domain/sar.h"
#include "iface/sar_render.h"

static const char usage[] =
    "usage: bench_sar [options]\n"
    "  --subjects N    subjects in the store (default 1000000)\n"
    "  --events N      audit events in the trail, at least one per subject\n"
    "                  (default 10000000)\n"
    "  --samples N     random subjects whose package is timed (default 500)\n"
    "  --gen-batch N   writes per transaction while building (default 20000)\n"
    "  --dir DIR       parent of the temporary store directory (default " BENCH_DEFAULT_PARENT
    ")\n"
    "  --keep DIR      build the store in DIR/store and keep it; reuse it when it exists\n"
    "  --seed N        random seed (default 1)\n";

typedef struct params {
    long subjects, events, samples, gen_batch, seed;
    const char *parent, *keep;
} params;

static void parse_args(int argc, char **argv, params *p)
{
    enum { O_SUBJECTS = 1, O_EVENTS, O_SAMPLES, O_GEN, O_DIR, O_KEEP, O_SEED, O_HELP };
    static const struct option opts[] = {
        {"subjects", required_argument, NULL, O_SUBJECTS},
        {"events", required_argument, NULL, O_EVENTS},
        {"samples", required_argument, NULL, O_SAMPLES},
        {"gen-batch", required_argument, NULL, O_GEN},
        {"dir", required_argument, NULL, O_DIR},
        {"keep", required_argument, NULL, O_KEEP},
        {"seed", required_argument, NULL, O_SEED},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    *p = (params){.subjects = 1000000, .events = 10000000, .samples = 500,
                  .gen_batch = 20000, .seed = 1, .parent = BENCH_DEFAULT_PARENT};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_SUBJECTS: p->subjects = bench_count("--subjects", optarg, 1, 100000000); break;
        case O_EVENTS: p->events = bench_count("--events", optarg, 1, 1000000000); break;
        case O_SAMPLES: p->samples = bench_count("--samples", optarg, 1, 1000000); break;
        case O_GEN: p->gen_batch = bench_count("--gen-batch", optarg, 1, 10000000); break;
        case O_DIR: p->parent = optarg; break;
        case O_KEEP: p->keep = optarg; break;
        case O_SEED: p->seed = bench_count("--seed", optarg, 0, 1000000000); break;
        case O_HELP: fputs(usage, stdout); exit(0);
        default: fputs(usage, stderr); exit(2);
        }
    }
    if (optind != argc || p->events < p->subjects) {
        fputs(usage, stderr);
        exit(2);
    }
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: fixed sequence per seed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* The NHS number for 9-digit prefix 999000000 + k, or false when its check
 * digit would be 10 (never issued). */
static bool nhs_number(long k, char out[16])
{
    long prefix = 999000000L + k % 1000000L;
    char d[16];
    snprintf(d, sizeof d, "%09ld", prefix % 1000000000L);
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += (d[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11)
        check = 0;
    if (check == 10)
        return false;
    snprintf(out, 16, "%.9s%d", d, check);
    return true;
}

static void build_subjects(cu_vault *v, const char *controller, const params *p,
                           char (*ids)[CU_ID_STRLEN])
{
    cu_err err = {0};
    char json[1024], nhs[16];
    for (long i = 0; i < p->subjects; i++) {
        if (i % p->gen_batch == 0 && cu_vault_batch_begin(v, &err))
            bench_die("starting a batch", &err);
        int n = snprintf(json, sizeof json,
                         "{\"name\": \"Bench Patient %ld\", \"birth_date\": \"19%02ld-%02ld-%02ld\", "
                         "\"email\": \"patient%ld@example.org\", \"phone\": \"07700 %06ld\", "
                         "\"address\": \"%ld Benchmark Road, Testville\", \"postcode\": \"TE%ld 1ST\"",
                         i, 30 + i % 70, 1 + i % 12, 1 + i % 28, i, i % 1000000, 1 + i % 300,
                         1 + i % 99);
        if (nhs_number(i, nhs))
            n += snprintf(json + n, sizeof json - (size_t)n, ", \"nhs_number\": \"%s\"", nhs);
        snprintf(json + n, sizeof json - (size_t)n,
                 ", \"items\": [{\"category\": \"health\", \"field\": \"phq9_total\", "
                 "\"value\": \"%ld\", \"source\": \"nhs_organisation\"}, {\"category\": "
                 "\"health\", \"field\": \"gad7_total\", \"value\": \"%ld\", \"source\": "
                 "\"subject\"}, {\"category\": \"health\", \"field\": \"clinical_note\", "
                 "\"value\": \"Reviewed in clinic; plan agreed with the patient (%ld).\", "
                 "\"source\": \"staff\"}]}",
                 i % 28, i % 22, i);
        cu_doc doc;
        if (cu_doc_parse(json, strlen(json), CU_DOC_SUBJECT, &doc, &err))
            bench_die("parsing a subject", &err);
        if (cu_subject_add(v, &bench_actor, controller, "patient", &doc, ids[i], &err))
            bench_die("adding a subject", &err);
        cu_doc_release(&doc);
        if ((i + 1) % p->gen_batch == 0 || i + 1 == p->subjects) {
            if (cu_vault_batch_commit(v, &err))
                bench_die("committing a batch", &err);
            if ((i + 1) % (p->gen_batch * 25) == 0)
                fprintf(stderr, "bench_sar: %ld subjects\n", i + 1);
        }
    }
}

static void build_events(cu_vault *v, const char *controller, const params *p,
                         char (*ids)[CU_ID_STRLEN])
{
    cu_err err = {0};
    long extra = p->events - p->subjects;
    static const char *const staff[] = {"dr.okafor", "dr.lindqvist", "nurse.patel",
                                        "nurse.mbeki", "dr.haworth", "admin.quinn"};
    for (long i = 0; i < extra; i++) {
        if (i % p->gen_batch == 0 && cu_vault_batch_begin(v, &err))
            bench_die("starting a batch", &err);
        const char *sid = ids[rnd() % (uint64_t)p->subjects];
        cu_audit_event e = {
            .actor = staff[i % 6], .role = "clinician", .action = "read",
            .controller = controller, .subject = sid, .categories = "contact,identifying,health",
            .purpose = "direct_care", .outcome = "ok", .rule = "",
            .via = "http GET /v1/subjects/{id}",
        };
        if (cu_audit_append(v, &e, &err))
            bench_die("appending an event", &err);
        if ((i + 1) % p->gen_batch == 0 || i + 1 == extra) {
            if (cu_vault_batch_commit(v, &err))
                bench_die("committing a batch", &err);
            if ((i + 1) % (p->gen_batch * 50) == 0)
                fprintf(stderr, "bench_sar: %ld extra events\n", i + 1);
        }
    }
}

typedef struct sink {
    cu_buf out[3];
    size_t bytes;
} sink;

static int render_all(void *ctx, const cu_sar *sar, cu_err *err)
{
    sink *s = ctx;
    static const cu_sar_format f[3] = {CU_SAR_JSON, CU_SAR_HTML, CU_SAR_FHIR};
    s->bytes = 0;
    for (int i = 0; i < 3; i++) {
        cu_buf_reset(&s->out[i]);
        int rc = cu_sar_render(sar, f[i], &s->out[i], err);
        if (rc)
            return rc;
        s->bytes += s->out[i].len;
    }
    return CU_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *sorted, size_t n, double q)
{
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

typedef struct id_list {
    char (*ids)[CU_ID_STRLEN];
    long n, cap;
    char controller[CU_ID_STRLEN];
} id_list;

static int collect(void *ctx, const cu_subject_rec *r)
{
    id_list *l = ctx;
    if (l->n < l->cap) {
        memcpy(l->ids[l->n], r->id, CU_ID_STRLEN);
        memcpy(l->controller, r->controller_id, CU_ID_STRLEN);
        l->n++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    params p;
    parse_args(argc, argv, &p);
    bench_init_libs();
    rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)p.seed;
    char dir[PATH_MAX], store[PATH_MAX];
    bool reuse = false;
    if (p.keep) {
        snprintf(dir, sizeof dir, "%s", p.keep);
        if (mkdir(dir, 0700) && access(dir, W_OK)) {
            perror("bench_sar: --keep");
            return 1;
        }
        bench_store_dir(dir, store);
        reuse = access(store, F_OK) == 0;
    } else if (bench_tmpdir(p.parent, dir)) {
        return 1;
    }
    bench_store_dir(dir, store);
    cu_err err = {0};
    cu_vault *v;
    char (*ids)[CU_ID_STRLEN] = calloc((size_t)p.subjects, CU_ID_STRLEN);
    if (!ids) {
        fputs("bench_sar: out of memory\n", stderr);
        return 1;
    }
    id_list l = {.ids = ids, .cap = p.subjects};
    double t_subjects = 0, t_events = 0;
    if (!reuse) {
        bench_data d;
        bench_setup(dir, 0, 16, &v, &d); /* store, controller and policy */
        memcpy(l.controller, d.controller, CU_ID_STRLEN);
        bench_data_release(&d);
        double t0 = bench_wall();
        build_subjects(v, l.controller, &p, ids);
        t_subjects = bench_wall() - t0;
        t0 = bench_wall();
        build_events(v, l.controller, &p, ids);
        t_events = bench_wall() - t0;
        l.n = p.subjects;
    } else {
        if (cu_vault_open(store, NULL, &v, &err))
            bench_die("opening the kept store", &err);
        if (cu_subject_list(v, &bench_actor, NULL, collect, &l, &err))
            bench_die("listing the kept store's subjects", &err);
    }
    cu_store_counts counts;
    if (cu_vault_counts(v, &counts, &err))
        bench_die("counting", &err);

    double *ms = calloc((size_t)p.samples, sizeof *ms);
    sink s;
    for (int i = 0; i < 3; i++)
        cu_buf_init(&s.out[i], (size_t)64 << 20);
    cu_sar_request req = {0};
    size_t bytes = 0;
    /* One warm-up package (caches, the policy), not timed. */
    if (cu_sar_run(v, &bench_actor, ids[0], &req, render_all, &s, &err))
        bench_die("the warm-up package", &err);
    for (long i = 0; i < p.samples; i++) {
        const char *sid = ids[rnd() % (uint64_t)l.n];
        double t0 = bench_wall();
        if (cu_sar_run(v, &bench_actor, sid, &req, render_all, &s, &err))
            bench_die("an access package", &err);
        ms[i] = (bench_wall() - t0) * 1e3;
        bytes += s.bytes;
    }
    qsort(ms, (size_t)p.samples, sizeof *ms, cmp_double);
    printf("bench_sar: %lld subjects, %lld items, %lld audit events\n",
           (long long)counts.subjects, (long long)counts.items, (long long)counts.audit_events);
    if (!reuse)
        printf("generation: subjects %.1f s (%.0f/s), extra events %.1f s (%.0f/s)\n",
               t_subjects, (double)p.subjects / t_subjects, t_events,
               (double)(p.events - p.subjects) / (t_events > 0 ? t_events : 1));
    printf("full access package (JSON + HTML + FHIR, one audited operation), %ld random "
           "subjects:\n", p.samples);
    printf("  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (mean output %.0f bytes)\n",
           pct(ms, (size_t)p.samples, 0.50), pct(ms, (size_t)p.samples, 0.90),
           pct(ms, (size_t)p.samples, 0.99), ms[p.samples - 1],
           (double)bytes / (double)p.samples);
    for (int i = 0; i < 3; i++)
        cu_buf_release(&s.out[i]);
    free(ms);
    free(ids);
    cu_vault_close(v);
    if (!p.keep)
        bench_rmtree(dir);
    return 0;
}
