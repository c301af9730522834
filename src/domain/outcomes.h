/*
 * outcomes.h — NHS Talking Therapies outcome measures for one episode of care
 * and over many (docs/outcomes.md gives the rules and their sources).
 *
 * Pure functions: nothing here reads the time, the store or a key. The
 * caller gives, per episode, the first and last PHQ-9 and GAD-7 totals (each
 * may be missing), the number of attended treatment appointments and whether
 * the episode has ended. custos uses GAD-7 as the anxiety measure throughout:
 * it has no anxiety-disorder-specific measure (ADSM), so for a problem
 * descriptor where the national dataset uses an ADSM instead of GAD-7 the
 * figures here are GAD-7 figures, not the national ones.
 *
 * Every result is one of four values: yes, no, not applicable (the measure
 * does not apply to this episode, e.g. recovery for an episode that was not
 * a case at the start) and not enough data (a score it needs is missing).
 * No missing score is ever read as "no".
 */
#ifndef CUSTOS_DOMAIN_OUTCOMES_H
#define CUSTOS_DOMAIN_OUTCOMES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define CU_PHQ9_MAX 27
#define CU_GAD7_MAX 21
/* Caseness: a score at or above either threshold. */
#define CU_PHQ9_CASE 10
#define CU_GAD7_CASE 8
/* Reliable change: a change of at least this many points. */
#define CU_PHQ9_RELIABLE 6
#define CU_GAD7_RELIABLE 4
/* A finished course of treatment: the episode has ended after at least this
 * many attended treatment appointments. */
#define CU_OUTCOME_MIN_SESSIONS 2

/* A score that was not collected. */
#define CU_SCORE_MISSING (-1)

typedef enum cu_outcome_value {
    CU_OUT_NO = 0,
    CU_OUT_YES,
    CU_OUT_NOT_APPLICABLE,
    CU_OUT_NOT_ENOUGH_DATA,
} cu_outcome_value;

typedef struct cu_episode_scores {
    int phq9_first, phq9_last; /* 0..27 or CU_SCORE_MISSING */
    int gad7_first, gad7_last; /* 0..21 or CU_SCORE_MISSING */
    unsigned treatment_sessions; /* attended treatment appointments */
    bool ended;                  /* the episode of care has ended */
} cu_episode_scores;

typedef struct cu_outcome {
    cu_outcome_value finished;      /* a finished course of treatment (yes/no only) */
    cu_outcome_value paired;        /* first and last of both measures (yes/no only) */
    cu_outcome_value case_start;    /* caseness at the first scores */
    cu_outcome_value case_end;      /* caseness at the last scores */
    cu_outcome_value recovery;
    cu_outcome_value reliable_improvement;
    cu_outcome_value reliable_deterioration;
    cu_outcome_value reliable_recovery;
    /* last - first, when paired (negative: improvement); 0 otherwise. */
    int phq9_change, gad7_change;
} cu_outcome;

/* Computes the outcome of one episode. CU_EINVAL when a total is out of range
 * (neither CU_SCORE_MISSING nor within 0..max); *out is then zeroed. */
CU_MUST_USE int cu_outcome_episode(const cu_episode_scores *in, cu_outcome *out, cu_err *err);

/* A rate: num of den; undefined (not applicable) when den is 0. */
typedef struct cu_rate {
    size_t num, den;
} cu_rate;

/* num / den in [0, 1]; false (and *out untouched) when den is 0. */
bool cu_rate_value(cu_rate r, double *out);

typedef struct cu_outcome_totals {
    size_t episodes;        /* all episodes given */
    size_t not_finished;    /* not a finished course of treatment */
    size_t unpaired;        /* finished, but without paired scores on both measures */
    size_t paired;          /* finished with paired scores: the outcome population */
    size_t case_start;      /* of paired: a case at the start */
    size_t recovered, reliably_improved, reliably_deteriorated, reliably_recovered;
    cu_rate recovery;               /* recovered / case_start */
    cu_rate reliable_improvement;   /* reliably_improved / paired */
    cu_rate reliable_deterioration; /* reliably_deteriorated / paired */
    cu_rate reliable_recovery;      /* reliably_recovered / case_start */
} cu_outcome_totals;

/* Counts and rates over n episodes. CU_EINVAL, naming the index of the first
 * episode with an out-of-range total (also in *bad when bad is not NULL), and
 * *out zeroed, when any episode is invalid: an aggregate is all or nothing. */
CU_MUST_USE int cu_outcome_aggregate(const cu_episode_scores *eps, size_t n,
                                     cu_outcome_totals *out, size_t *bad, cu_err *err);

/* "yes", "no", "not applicable", "not enough data". */
const char *cu_outcome_value_text(cu_outcome_value v);

#endif
