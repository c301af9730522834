/*
 * erasure.h — the right to erasure (UK GDPR Art 17), item by item.
 *
 * The decision is a pure function (cu_erasure_decide) over the controller's
 * current policy and facts about one subject's items; docs/design.md
 * ("Erasure") states the rules. cu_erasure_plan shows the decision;
 * cu_erasure_execute recomputes it and carries it out in one transaction:
 *
 *   - nothing kept: the subject is crypto-shredded whole (as cu_subject_erase);
 *   - some kept: the kept items (and the subject's sealed consent evidence and
 *     break-glass reasons) are re-encrypted under a fresh data key with the
 *     next key version, the old key is overwritten, and the erased items and
 *     their blind indexes are deleted;
 *   - granted health or genetic items need the DPO's approval: the approver
 *     passes the digest of the plan they approved, and execution is refused
 *     when the recomputed plan has another digest.
 *
 * Every executed erasure is first appended to the erasure ledger (ledger.h),
 * which outlives the store's own data and re-applies erasures after a restore.
 */
#ifndef CUSTOS_DOMAIN_ERASURE_H
#define CUSTOS_DOMAIN_ERASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/policy.h"
#include "domain/vault.h"
#include "util/clock.h"

/* One item, as the decision needs it (no value). */
typedef struct cu_er_item {
    const char *id, *field;
    int category;                 /* cu_category; -1 unknown */
    int64_t collected_at, recorded_at, updated_at;
} cu_er_item;

typedef struct cu_er_facts {
    const cu_policy *policy;      /* the controller's current policy; NULL: none */
    unsigned kind;                /* the subject's kind bit */
    int64_t now;                  /* the request (microseconds) */
    int64_t last_contact;         /* 0: the latest recorded_at/updated_at of the items */
    int64_t treatment_ended;      /* conclusion of treatment; 0: unknown */
    int64_t died;                 /* date of death; 0: unknown */
    cu_date birth_date;           /* year 0: unknown */
} cu_er_facts;

typedef struct cu_er_decision {
    bool granted;
    /* granted: erase-on-request, retention-ended, no-purpose;
     * refused: retention-period, trigger-date-unknown, no-policy */
    const char *reason;
    const char *rule;             /* the deciding retention rule's id; NULL: none */
    const char *trigger;          /* its trigger's name; NULL: none */
    int64_t trigger_at;           /* 0: unknown or none */
    int64_t earliest;             /* refused for retention-period: the first moment
                                   * erasure is possible (00:00 UTC that day) */
    bool needs_approval;          /* granted health or genetic data */
} cu_er_decision;

/* Decides each of n items into out[n]. */
void cu_erasure_decide(const cu_er_facts *f, const cu_er_item *items, size_t n,
                       cu_er_decision *out);

/* ---- the operation ---- */

typedef struct cu_erasure_opts {
    int64_t treatment_ended;      /* 0: unknown */
    int64_t died;                 /* 0: unknown */
    const char *approve;          /* execute: the approved plan's digest; NULL: none */
    bool api;                     /* refusals name the HTTP routes and members, not the
                                   * CLI commands and options */
} cu_erasure_opts;

#define CU_PLAN_DIGEST_STRLEN 17

typedef struct cu_erasure_line {
    char id[40], field[72], category[40], rule[72], trigger[32];
    const char *reason;           /* static */
    bool granted, needs_approval;
    int64_t collected_at, trigger_at, earliest;
} cu_erasure_line;

typedef struct cu_erasure_result {
    char subject_id[40], controller_id[40], kind[16];
    int64_t policy_version;       /* 0: no policy */
    int64_t decided_at;
    char digest[CU_PLAN_DIGEST_STRLEN]; /* of the plan: what approval names */
    cu_erasure_line *lines;
    size_t n, ngranted, nkept, napproval;
    /* set by execution */
    bool executed, whole_subject, health_approved;
    int64_t executed_at, key_version, ledger_seq;
    char approved_by[72];
    /* Art 19: the recipients of earlier disclosures that included an erased
     * item (or, for a disclosure by category, an erased category), read from
     * the disclosure log before the erasure; names decrypted. */
    struct cu_erasure_recipient {
        char recipient_id[72]; /* a recipient of the policy, or "" */
        char name[256];        /* a named organisation, or "" */
        char channel[16];
        int64_t disclosed_at;
        size_t items_erased;   /* erased items it received (0: by category) */
    } *recipients;
    size_t nrecipients;
} cu_erasure_result;

void cu_erasure_result_release(cu_erasure_result *r);

/* The decision for every item of a subject, changing nothing (audited as
 * "erase.plan"). Only the DPO and the operator may ask. */
CU_MUST_USE int cu_erasure_plan(cu_vault *v, const cu_actor *a, const char *subject_id,
                                const cu_erasure_opts *o, cu_erasure_result *out, cu_err *err);
/* Recomputes the plan and erases what it grants. CU_EDENIED (nothing
 * changed) when nothing may be erased, or when granted health data lacks an
 * approval naming this plan's digest. */
CU_MUST_USE int cu_erasure_execute(cu_vault *v, const cu_actor *a, const char *subject_id,
                                   const cu_erasure_opts *o, cu_erasure_result *out,
                                   cu_err *err);

/* Re-applies ledger entries the store has not seen (after a restore, or a
 * crash between the ledger write and the commit); called by cu_vault_open (recover.c)
 * before anything is served. *replayed counts the erasures re-applied. */
CU_MUST_USE int cu_erasure_replay(cu_vault *v, int64_t *replayed, cu_err *err);

/* Re-applies, as cu_erasure_replay does, an erasure this process appended to
 * the ledger whose transaction then failed (a long-running server calls it
 * after a failed commit, so what the ledger says is erased is not served until
 * a restart); does nothing when there is none. */
CU_MUST_USE int cu_erasure_catch_up(cu_vault *v, int64_t *replayed, cu_err *err);

#endif
