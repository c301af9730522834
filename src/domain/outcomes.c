/*
 * outcomes.c — NHS Talking Therapies outcome measures (outcomes.h;
 * docs/outcomes.md).
 */
#include "domain/outcomes.h"

#include <string.h>

static bool score_ok(int s, int max)
{
    return s == CU_SCORE_MISSING || (s >= 0 && s <= max);
}

static bool present(int s)
{
    return s != CU_SCORE_MISSING;
}

/* Caseness from one time point: yes as soon as one present score is at or
 * above its threshold; no only when both are present and below. */
static cu_outcome_value caseness(int phq9, int gad7)
{
    if ((present(phq9) && phq9 >= CU_PHQ9_CASE) || (present(gad7) && gad7 >= CU_GAD7_CASE))
        return CU_OUT_YES;
    if (present(phq9) && present(gad7))
        return CU_OUT_NO;
    return CU_OUT_NOT_ENOUGH_DATA;
}

static cu_outcome_value yn(bool b)
{
    return b ? CU_OUT_YES : CU_OUT_NO;
}

int cu_outcome_episode(const cu_episode_scores *in, cu_outcome *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    if (!score_ok(in->phq9_first, CU_PHQ9_MAX) || !score_ok(in->phq9_last, CU_PHQ9_MAX))
        return cu_err_set(err, CU_EINVAL, "a PHQ-9 total must be 0 to %d", CU_PHQ9_MAX);
    if (!score_ok(in->gad7_first, CU_GAD7_MAX) || !score_ok(in->gad7_last, CU_GAD7_MAX))
        return cu_err_set(err, CU_EINVAL, "a GAD-7 total must be 0 to %d", CU_GAD7_MAX);

    bool finished = in->ended && in->treatment_sessions >= CU_OUTCOME_MIN_SESSIONS;
    bool paired = present(in->phq9_first) && present(in->phq9_last) &&
                  present(in->gad7_first) && present(in->gad7_last);
    out->finished = yn(finished);
    out->paired = yn(paired);
    out->case_start = caseness(in->phq9_first, in->gad7_first);
    out->case_end = caseness(in->phq9_last, in->gad7_last);

    if (!finished) {
        out->recovery = out->reliable_improvement = CU_OUT_NOT_APPLICABLE;
        out->reliable_deterioration = out->reliable_recovery = CU_OUT_NOT_APPLICABLE;
        return CU_OK;
    }
    if (!paired) {
        out->recovery = out->reliable_improvement = CU_OUT_NOT_ENOUGH_DATA;
        out->reliable_deterioration = out->reliable_recovery = CU_OUT_NOT_ENOUGH_DATA;
        return CU_OK;
    }
    out->phq9_change = in->phq9_last - in->phq9_first;
    out->gad7_change = in->gad7_last - in->gad7_first;
    bool improved = -out->phq9_change >= CU_PHQ9_RELIABLE || -out->gad7_change >= CU_GAD7_RELIABLE;
    bool worse = out->phq9_change >= CU_PHQ9_RELIABLE || out->gad7_change >= CU_GAD7_RELIABLE;
    /* Reliable improvement on one measure and reliable deterioration on the
     * other is neither. */
    out->reliable_improvement = yn(improved && !worse);
    out->reliable_deterioration = yn(worse && !improved);
    if (out->case_start == CU_OUT_NO) {
        out->recovery = out->reliable_recovery = CU_OUT_NOT_APPLICABLE;
        return CU_OK;
    }
    bool recovered = out->case_end == CU_OUT_NO;
    out->recovery = yn(recovered);
    out->reliable_recovery = yn(recovered && out->reliable_improvement == CU_OUT_YES);
    return CU_OK;
}

bool cu_rate_value(cu_rate r, double *out)
{
    if (r.den == 0)
        return false;
    *out = (double)r.num / (double)r.den;
    return true;
}

int cu_outcome_aggregate(const cu_episode_scores *eps, size_t n, cu_outcome_totals *out,
                         size_t *bad, cu_err *err)
{
    cu_outcome_totals t = {.episodes = n};
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        cu_outcome o;
        if (cu_outcome_episode(&eps[i], &o, NULL) != CU_OK) {
            if (bad)
                *bad = i;
            return cu_err_set(err, CU_EINVAL,
                              "episode %zu: a PHQ-9 total must be 0 to %d, a GAD-7 total 0 to %d",
                              i, CU_PHQ9_MAX, CU_GAD7_MAX);
        }
        if (o.finished != CU_OUT_YES) {
            t.not_finished++;
            continue;
        }
        if (o.paired != CU_OUT_YES) {
            t.unpaired++;
            continue;
        }
        t.paired++;
        t.case_start += o.case_start == CU_OUT_YES;
        t.recovered += o.recovery == CU_OUT_YES;
        t.reliably_improved += o.reliable_improvement == CU_OUT_YES;
        t.reliably_deteriorated += o.reliable_deterioration == CU_OUT_YES;
        t.reliably_recovered += o.reliable_recovery == CU_OUT_YES;
    }
    t.recovery = (cu_rate){t.recovered, t.case_start};
    t.reliable_improvement = (cu_rate){t.reliably_improved, t.paired};
    t.reliable_deterioration = (cu_rate){t.reliably_deteriorated, t.paired};
    t.reliable_recovery = (cu_rate){t.reliably_recovered, t.case_start};
    *out = t;
    return CU_OK;
}

const char *cu_outcome_value_text(cu_outcome_value v)
{
    switch (v) {
    case CU_OUT_NO: return "no";
    case CU_OUT_YES: return "yes";
    case CU_OUT_NOT_APPLICABLE: return "not applicable";
    case CU_OUT_NOT_ENOUGH_DATA: return "not enough data";
    }
    return "unknown";
}
