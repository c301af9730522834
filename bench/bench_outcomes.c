/*
 * bench_outcomes — the cost of the NHS Talking Therapies outcome measures
 * (src/domain/outcomes.c): each episode's outcome (cu_outcome_episode) and
 * the aggregate over all of them (cu_outcome_aggregate), over a fixed,
 * generated set of episodes with every kind of case in it (cases and
 * non-cases, improvement and deterioration, missing scores, unfinished
 * courses of treatment). Pure computation: no store, no keys.
 *
 * Its own check: the aggregate's counts equal the counts taken from the
 * per-episode results, so a broken build fails here (tests/bench_smoke.sh).
 *
 * usage: bench_outcomes [--episodes N] [--runs N]
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "domain/outcomes.h"

#define MAX_RUNS 64

static const char usage[] =
    "usage: bench_outcomes [options]\n"
    "  --episodes N  episodes per run (default 100000)\n"
    "  --runs N      timed runs (default 5)\n";

/* A fixed pseudo-random sequence (xorshift64*), the same on every run. */
static uint64_t next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static int score(uint64_t *s, int max)
{
    uint64_t r = next(s);
    if (r % 50 == 0) /* 2% of scores missing */
        return CU_SCORE_MISSING;
    return (int)((r >> 8) % (uint64_t)(max + 1));
}

int main(int argc, char **argv)
{
    long n = 100000, runs = 5;
    static const struct option opts[] = {{"episodes", required_argument, NULL, 'e'},
                                         {"runs", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'e': n = bench_count("--episodes", optarg, 1, 100000000L); break;
        case 'r': runs = bench_count("--runs", optarg, 1, MAX_RUNS); break;
        default: fputs(usage, opt == 'h' ? stdout : stderr); return opt == 'h' ? 0 : 2;
        }
    }
    cu_episode_scores *eps = calloc((size_t)n, sizeof *eps);
    cu_outcome *res = calloc((size_t)n, sizeof *res);
    if (!eps || !res) {
        fputs("bench_outcomes: out of memory\n", stderr);
        return 1;
    }
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (long i = 0; i < n; i++) {
        eps[i] = (cu_episode_scores){
            .phq9_first = score(&seed, CU_PHQ9_MAX), .phq9_last = score(&seed, CU_PHQ9_MAX),
            .gad7_first = score(&seed, CU_GAD7_MAX), .gad7_last = score(&seed, CU_GAD7_MAX),
            .treatment_sessions = (unsigned)(next(&seed) % 12),
            .ended = next(&seed) % 10 != 0,
        };
    }
    printf("== outcome measures (cu_outcome_episode, cu_outcome_aggregate)\n");
    printf("episodes per run: %ld, runs: %ld\n", n, runs);
    double per[MAX_RUNS], agg[MAX_RUNS];
    cu_outcome_totals t = {0};
    for (long r = 0; r < runs; r++) {
        cu_err err = {0};
        double t0 = bench_wall();
        for (long i = 0; i < n; i++)
            if (cu_outcome_episode(&eps[i], &res[i], &err))
                bench_die("an episode's outcome", &err);
        per[r] = bench_wall() - t0;
        t0 = bench_wall();
        if (cu_outcome_aggregate(eps, (size_t)n, &t, NULL, &err))
            bench_die("the aggregate", &err);
        agg[r] = bench_wall() - t0;
        printf("run %ld: per episode %.1f ns (%.3f ms in all), aggregate %.1f ns/episode "
               "(%.3f ms in all)\n",
               r + 1, per[r] * 1e9 / (double)n, per[r] * 1e3, agg[r] * 1e9 / (double)n,
               agg[r] * 1e3);
    }
    /* The check: the aggregate agrees with the per-episode results. */
    size_t paired = 0, cases = 0, rec = 0, ri = 0, rd = 0, rr = 0;
    for (long i = 0; i < n; i++) {
        if (res[i].finished != CU_OUT_YES || res[i].paired != CU_OUT_YES)
            continue;
        paired++;
        cases += res[i].case_start == CU_OUT_YES;
        rec += res[i].recovery == CU_OUT_YES;
        ri += res[i].reliable_improvement == CU_OUT_YES;
        rd += res[i].reliable_deterioration == CU_OUT_YES;
        rr += res[i].reliable_recovery == CU_OUT_YES;
    }
    if (t.episodes != (size_t)n || t.paired != paired || t.case_start != cases ||
        t.recovered != rec || t.reliably_improved != ri || t.reliably_deteriorated != rd ||
        t.reliably_recovered != rr || t.not_finished + t.unpaired + t.paired != (size_t)n) {
        fputs("bench_outcomes: the aggregate disagrees with the episodes\n", stderr);
        return 1;
    }
    double per_m = bench_median(per, (size_t)runs), agg_m = bench_median(agg, (size_t)runs);
    printf("median: per episode %.1f ns/episode (%.3f ms for %ld), aggregate %.1f ns/episode "
           "(%.3f ms for %ld) (target: under 1 s for 100,000)\n",
           per_m * 1e9 / (double)n, per_m * 1e3, n, agg_m * 1e9 / (double)n, agg_m * 1e3, n);
    printf("(finished with paired scores: %zu of %ld; cases at the start %zu; recovered %zu, "
           "reliably improved %zu, reliably deteriorated %zu, reliably recovered %zu)\n",
           t.paired, n, t.case_start, t.recovered, t.reliably_improved, t.reliably_deteriorated,
           t.reliably_recovered);
    free(eps);
    free(res);
    return 0;
}
