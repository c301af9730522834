/*
 * test_outcomes.c — NHS Talking Therapies outcome measures: caseness,
 * recovery, reliable improvement, deterioration and recovery at every
 * threshold and change boundary, missing scores, episodes that are not a
 * finished course of treatment, refused totals, and the aggregate over a set
 * worked by hand (docs/outcomes.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "domain/outcomes.h"

#define M CU_SCORE_MISSING
#define Y CU_OUT_YES
#define N CU_OUT_NO
#define NA CU_OUT_NOT_APPLICABLE
#define ND CU_OUT_NOT_ENOUGH_DATA

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

typedef struct ocase {
    const char *what;
    int phq_first, phq_last, gad_first, gad_last;
    unsigned sessions;
    bool ended;
    cu_outcome_value case_start, case_end, rec, ri, rd, rr;
} ocase;

/* Each row worked by hand from the rules in docs/outcomes.md: caseness PHQ-9
 * >= 10 or GAD-7 >= 8; reliable change PHQ-9 6, GAD-7 4 points. */
static const ocase cases[] = {
    /* caseness thresholds, at the start and at the end */
    {"PHQ-9 9, GAD-7 7 throughout: never a case", 9, 9, 7, 7, 4, true, N, N, NA, N, N, NA},
    {"PHQ-9 10 -> 9: a case, then not: recovered", 10, 9, 7, 7, 4, true, Y, N, Y, N, N, N},
    {"PHQ-9 10 -> 10: still a case", 10, 10, 0, 0, 4, true, Y, Y, N, N, N, N},
    {"GAD-7 8 -> 7: recovered by one point", 0, 0, 8, 7, 4, true, Y, N, Y, N, N, N},
    {"GAD-7 7 -> 8: a case at the end only", 0, 0, 7, 8, 4, true, N, Y, NA, N, N, NA},
    {"PHQ-9 9 -> 10 with GAD-7 8 -> 7: still a case", 9, 10, 8, 7, 4, true, Y, Y, N, N, N, N},
    /* reliable improvement: drops of 5/6 (PHQ-9) and 3/4 (GAD-7) */
    {"PHQ-9 drop of 5: not reliable", 15, 10, 5, 5, 4, true, Y, Y, N, N, N, N},
    {"PHQ-9 drop of 6, still a case", 16, 10, 5, 5, 4, true, Y, Y, N, Y, N, N},
    {"PHQ-9 drop of 6 out of caseness: reliable recovery", 15, 9, 7, 7, 4, true, Y, N, Y, Y, N, Y},
    {"GAD-7 drop of 3: recovered, not reliably", 5, 5, 10, 7, 4, true, Y, N, Y, N, N, N},
    {"GAD-7 drop of 4: reliable recovery", 5, 5, 11, 7, 4, true, Y, N, Y, Y, N, Y},
    /* reliable deterioration: rises of 5/6 and 3/4 */
    {"PHQ-9 rise of 5: not reliable", 3, 8, 2, 2, 4, true, N, N, NA, N, N, NA},
    {"PHQ-9 rise of 6: reliable deterioration", 3, 9, 2, 2, 4, true, N, N, NA, N, Y, NA},
    {"GAD-7 rise of 3: not reliable", 1, 1, 2, 5, 4, true, N, N, NA, N, N, NA},
    {"GAD-7 rise of 4: reliable deterioration", 1, 1, 2, 6, 4, true, N, N, NA, N, Y, NA},
    {"a case deteriorating: not recovered", 12, 20, 9, 9, 4, true, Y, Y, N, N, Y, N},
    /* improvement on one measure, deterioration on the other */
    {"PHQ-9 -6 with GAD-7 +4: neither", 20, 14, 3, 7, 4, true, Y, Y, N, N, N, N},
    {"PHQ-9 +6 with GAD-7 -4: neither", 5, 11, 12, 8, 4, true, Y, Y, N, N, N, N},
    {"PHQ-9 -6 with GAD-7 +3: improvement", 20, 14, 3, 6, 4, true, Y, Y, N, Y, N, N},
    {"PHQ-9 +5 with GAD-7 -4: improvement", 4, 9, 12, 8, 4, true, Y, Y, N, Y, N, N},
    {"PHQ-9 +6 with GAD-7 -3: deterioration", 4, 10, 11, 8, 4, true, Y, Y, N, N, Y, N},
    {"both improve reliably", 18, 4, 15, 3, 4, true, Y, N, Y, Y, N, Y},
    /* floor and ceiling */
    {"all zero", 0, 0, 0, 0, 4, true, N, N, NA, N, N, NA},
    {"27 -> 0 and 21 -> 0", 27, 0, 21, 0, 4, true, Y, N, Y, Y, N, Y},
    {"0 -> 27 and 0 -> 21", 0, 27, 0, 21, 4, true, N, Y, NA, N, Y, NA},
    {"27 and 21 throughout", 27, 27, 21, 21, 4, true, Y, Y, N, N, N, N},
    /* missing scores: never read as no */
    {"PHQ-9 missing at the start", M, 5, 9, 3, 4, true, Y, N, ND, ND, ND, ND},
    {"PHQ-9 missing at the start, GAD-7 below", M, 5, 5, 3, 4, true, ND, N, ND, ND, ND, ND},
    {"GAD-7 missing at the end, PHQ-9 below", 12, 4, 9, M, 4, true, Y, ND, ND, ND, ND, ND},
    {"GAD-7 missing at the end, PHQ-9 a case", 12, 12, 9, M, 4, true, Y, Y, ND, ND, ND, ND},
    {"PHQ-9 missing at the end", 20, M, 15, 2, 4, true, Y, ND, ND, ND, ND, ND},
    {"GAD-7 missing at the start", 2, 2, M, 20, 4, true, ND, Y, ND, ND, ND, ND},
    {"GAD-7 never collected", 15, 3, M, M, 4, true, Y, ND, ND, ND, ND, ND},
    {"nothing collected", M, M, M, M, 4, true, ND, ND, ND, ND, ND, ND},
    /* not a finished course of treatment */
    {"one treatment session", 15, 5, 10, 2, 1, true, Y, N, NA, NA, NA, NA},
    {"no treatment session", 15, 5, 10, 2, 0, true, Y, N, NA, NA, NA, NA},
    {"not yet ended", 15, 5, 10, 2, 9, false, Y, N, NA, NA, NA, NA},
    {"two sessions and ended: counted", 15, 5, 10, 2, 2, true, Y, N, Y, Y, N, Y},
    {"not finished and scores missing", M, M, 10, M, 1, true, Y, ND, NA, NA, NA, NA},
};

static const char *txt(cu_outcome_value v)
{
    return cu_outcome_value_text(v);
}

static void test_episode_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ocase *c = &cases[i];
        cu_episode_scores in = {c->phq_first, c->phq_last, c->gad_first, c->gad_last,
                                c->sessions, c->ended};
        cu_outcome o;
        cu_err err = {0};
        CHECK(cu_outcome_episode(&in, &o, &err) == CU_OK, "%s: refused: %s", c->what, err.msg);
        CHECK(o.case_start == c->case_start, "%s: case at start %s, want %s", c->what,
              txt(o.case_start), txt(c->case_start));
        CHECK(o.case_end == c->case_end, "%s: case at end %s, want %s", c->what,
              txt(o.case_end), txt(c->case_end));
        CHECK(o.recovery == c->rec, "%s: recovery %s, want %s", c->what, txt(o.recovery),
              txt(c->rec));
        CHECK(o.reliable_improvement == c->ri, "%s: reliable improvement %s, want %s", c->what,
              txt(o.reliable_improvement), txt(c->ri));
        CHECK(o.reliable_deterioration == c->rd, "%s: reliable deterioration %s, want %s",
              c->what, txt(o.reliable_deterioration), txt(c->rd));
        CHECK(o.reliable_recovery == c->rr, "%s: reliable recovery %s, want %s", c->what,
              txt(o.reliable_recovery), txt(c->rr));
        bool finished = c->ended && c->sessions >= 2;
        bool paired = c->phq_first != M && c->phq_last != M && c->gad_first != M &&
                      c->gad_last != M;
        CHECK(o.finished == (finished ? Y : N), "%s: finished %s", c->what, txt(o.finished));
        CHECK(o.paired == (paired ? Y : N), "%s: paired %s", c->what, txt(o.paired));
        if (finished && paired) {
            CHECK(o.phq9_change == c->phq_last - c->phq_first, "%s: PHQ-9 change %d", c->what,
                  o.phq9_change);
            CHECK(o.gad7_change == c->gad_last - c->gad_first, "%s: GAD-7 change %d", c->what,
                  o.gad7_change);
        }
    }
}

/* Reliable recovery is exactly recovery and reliable improvement together, and
 * improvement and deterioration never hold at once: every pair of totals. */
static void test_exhaustive_invariants(void **state)
{
    (void)state;
    size_t rr = 0, both = 0;
    for (int p1 = 0; p1 <= CU_PHQ9_MAX; p1++)
        for (int p2 = 0; p2 <= CU_PHQ9_MAX; p2++)
            for (int g1 = 0; g1 <= CU_GAD7_MAX; g1++)
                for (int g2 = 0; g2 <= CU_GAD7_MAX; g2++) {
                    cu_episode_scores in = {p1, p2, g1, g2, 3, true};
                    cu_outcome o;
                    assert_int_equal(cu_outcome_episode(&in, &o, NULL), CU_OK);
                    CHECK(!(o.reliable_improvement == Y && o.reliable_deterioration == Y),
                          "%d->%d %d->%d both improved and deteriorated", p1, p2, g1, g2);
                    bool is_case = p1 >= 10 || g1 >= 8;
                    if (!is_case) {
                        CHECK(o.recovery == NA && o.reliable_recovery == NA,
                              "%d->%d %d->%d: recovery applies to a non-case", p1, p2, g1, g2);
                        continue;
                    }
                    bool want = p2 < 10 && g2 < 8 && (p1 - p2 >= 6 || g1 - g2 >= 4) &&
                                !(p2 - p1 >= 6 || g2 - g1 >= 4);
                    CHECK(o.reliable_recovery == (want ? Y : N), "%d->%d %d->%d: reliable recovery %s",
                          p1, p2, g1, g2, txt(o.reliable_recovery));
                    rr += want;
                    both += o.recovery == Y && o.reliable_improvement == Y;
                }
    assert_true(rr > 0);
    assert_int_equal(rr, both);
}

static void test_out_of_range_refused(void **state)
{
    (void)state;
    static const int bad[][4] = {
        {28, 0, 0, 0}, {0, 28, 0, 0}, {0, 0, 22, 0}, {0, 0, 0, 22},
        {-2, 0, 0, 0}, {0, -2, 0, 0}, {0, 0, -2, 0}, {0, 0, 0, -2},
        {INT_MIN, 0, 0, 0}, {0, 0, 0, INT_MAX}, {100, M, M, M}, {M, M, M, 1000},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cu_episode_scores in = {bad[i][0], bad[i][1], bad[i][2], bad[i][3], 4, true};
        cu_outcome o;
        memset(&o, 0x5a, sizeof o);
        cu_err err = {0};
        CHECK(cu_outcome_episode(&in, &o, &err) == CU_EINVAL, "row %zu accepted", i);
        assert_int_equal(err.code, CU_EINVAL);
        bool phq = i % 4 < 2 && i < 8;
        if (i < 8)
            assert_non_null(strstr(err.msg, phq ? "PHQ-9" : "GAD-7"));
        /* The message names the limit, never the value given. */
        assert_null(strstr(err.msg, "28 "));
        assert_null(strstr(err.msg, "-2"));
        /* Nothing half-filled: the result is zeroed (no, not a stale yes). */
        assert_int_equal(o.recovery, N);
        assert_int_equal(o.reliable_improvement, N);
        assert_int_equal(o.case_start, N);
    }
    /* The edges themselves are accepted. */
    cu_episode_scores edge = {27, 0, 21, 0, 2, true};
    cu_outcome o;
    assert_int_equal(cu_outcome_episode(&edge, &o, NULL), CU_OK);
}

/* Eight episodes worked by hand:
 *   E1 PHQ-9 15->5,  GAD-7 10->3: case, recovered, improved: reliable recovery
 *   E2 PHQ-9 20->12, GAD-7 5->5:  case, not recovered, improved
 *   E3 PHQ-9 10->9,  GAD-7 7->7:  case, recovered, not improved
 *   E4 PHQ-9 3->9,   GAD-7 2->2:  not a case, deteriorated
 *   E5 PHQ-9 12->20, GAD-7 9->9:  case, not recovered, deteriorated
 *   E6 PHQ-9 15->missing:          finished, unpaired
 *   E7 one treatment session:     not finished
 *   E8 not ended:                 not finished
 * paired 5, case at start 4, recovered 2, improved 2, deteriorated 2,
 * reliably recovered 1: recovery 2/4, improvement 2/5, deterioration 2/5,
 * reliable recovery 1/4. */
static const cu_episode_scores hand[] = {
    {15, 5, 10, 3, 6, true}, {20, 12, 5, 5, 8, true}, {10, 9, 7, 7, 2, true},
    {3, 9, 2, 2, 3, true},   {12, 20, 9, 9, 5, true}, {15, M, 10, 4, 4, true},
    {15, 2, 10, 1, 1, true}, {15, 2, 10, 1, 6, false},
};

static void test_aggregate_by_hand(void **state)
{
    (void)state;
    cu_outcome_totals t;
    cu_err err = {0};
    assert_int_equal(cu_outcome_aggregate(hand, 8, &t, NULL, &err), CU_OK);
    assert_int_equal(t.episodes, 8);
    assert_int_equal(t.not_finished, 2);
    assert_int_equal(t.unpaired, 1);
    assert_int_equal(t.paired, 5);
    assert_int_equal(t.case_start, 4);
    assert_int_equal(t.recovered, 2);
    assert_int_equal(t.reliably_improved, 2);
    assert_int_equal(t.reliably_deteriorated, 2);
    assert_int_equal(t.reliably_recovered, 1);
    double r;
    assert_true(cu_rate_value(t.recovery, &r));
    assert_true(r == 0.5);
    assert_true(cu_rate_value(t.reliable_improvement, &r));
    assert_true(r == 0.4);
    assert_true(cu_rate_value(t.reliable_deterioration, &r));
    assert_true(r == 0.4);
    assert_true(cu_rate_value(t.reliable_recovery, &r));
    assert_true(r == 0.25);
    assert_int_equal(t.recovery.den, 4);
    assert_int_equal(t.reliable_improvement.den, 5);
}

static void test_aggregate_empty_and_undefined(void **state)
{
    (void)state;
    cu_outcome_totals t;
    double r = 7.0;
    assert_int_equal(cu_outcome_aggregate(NULL, 0, &t, NULL, NULL), CU_OK);
    assert_int_equal(t.episodes, 0);
    assert_false(cu_rate_value(t.recovery, &r));
    assert_false(cu_rate_value(t.reliable_improvement, &r));
    assert_true(r == 7.0);
    /* Only non-cases: recovery has no denominator (not applicable, not 0%),
     * while improvement and deterioration rates are defined. */
    static const cu_episode_scores calm[] = {{3, 2, 2, 2, 3, true}, {5, 11, 4, 4, 3, true}};
    assert_int_equal(cu_outcome_aggregate(calm, 2, &t, NULL, NULL), CU_OK);
    assert_false(cu_rate_value(t.recovery, &r));
    assert_false(cu_rate_value(t.reliable_recovery, &r));
    assert_true(cu_rate_value(t.reliable_deterioration, &r));
    assert_true(r == 0.5);
    /* Only unfinished or unpaired episodes: no rate at all. */
    static const cu_episode_scores none[] = {{15, 2, 10, 1, 1, true}, {15, M, 10, 4, 4, true}};
    assert_int_equal(cu_outcome_aggregate(none, 2, &t, NULL, NULL), CU_OK);
    assert_int_equal(t.not_finished + t.unpaired, 2);
    assert_false(cu_rate_value(t.reliable_improvement, &r));
}

static void test_aggregate_refuses_bad_episode(void **state)
{
    (void)state;
    cu_episode_scores eps[8];
    memcpy(eps, hand, sizeof eps);
    eps[3].gad7_last = 22;
    cu_outcome_totals t;
    memset(&t, 0x5a, sizeof t);
    size_t bad = 99;
    cu_err err = {0};
    assert_int_equal(cu_outcome_aggregate(eps, 8, &t, &bad, &err), CU_EINVAL);
    assert_int_equal(bad, 3);
    assert_non_null(strstr(err.msg, "episode 3"));
    assert_int_equal(t.episodes, 0);
    assert_int_equal(t.recovered, 0);
}

static void test_value_text(void **state)
{
    (void)state;
    assert_string_equal(cu_outcome_value_text(NA), "not applicable");
    assert_string_equal(cu_outcome_value_text(ND), "not enough data");
    assert_string_equal(cu_outcome_value_text(Y), "yes");
    assert_string_equal(cu_outcome_value_text(N), "no");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_episode_table),
        cmocka_unit_test(test_exhaustive_invariants),
        cmocka_unit_test(test_out_of_range_refused),
        cmocka_unit_test(test_aggregate_by_hand),
        cmocka_unit_test(test_aggregate_empty_and_undefined),
        cmocka_unit_test(test_aggregate_refuses_bad_episode),
        cmocka_unit_test(test_value_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
