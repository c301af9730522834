/*
 * jobs.h — periodic jobs that run once per cluster per period, whichever
 * node sharing the store gets there first.
 *
 * Each job has a row in the store's jobs table: when it is next due, when it
 * last ran and on which node. A node reads the row without a lock; when the
 * job looks due it starts a write transaction (the store's writer lock makes
 * it exclusive across every process), reads the row again, and only when it
 * is still due runs the job, moves the due time one period on and appends
 * one audit event, all in that transaction. Another node that was waiting
 * for the lock then finds the job no longer due and does nothing.
 *
 * A job first falls due one period after the store was made (meta
 * created_at).
 *
 * The job: "session-purge" deletes sign-in sessions, staff and the patient
 * portal's, that can never be used again (revoked, idle or past the
 * absolute limit a day or more ago, with the longest limits a server may be
 * given), once a day.
 */
#ifndef CUSTOS_DOMAIN_JOBS_H
#define CUSTOS_DOMAIN_JOBS_H

#include <stdint.h>

#include "domain/vault.h"
#include "util/err.h"

#define CU_JOB_SESSION_PURGE "session-purge"
#define CU_JOB_PERIOD_US (24LL * 3600 * 1000000)
/* Sessions are deleted this long after they ended. */
#define CU_JOB_SESSION_GRACE_US (24LL * 3600 * 1000000)
#define CU_JOB_SESSION_IDLE_MAX_US (24LL * 3600 * 1000000)
#define CU_JOB_SESSION_ABSOLUTE_MAX_US (7LL * 24 * 3600 * 1000000)

typedef struct cu_job_report {
    int ran;          /* jobs this node ran now (0 when none was due) */
    int64_t sessions; /* sessions the purge deleted */
} cu_job_report;

/* Runs every job due at now, each at most once per period across all nodes
 * (nodes may run with different session limits, so the purge goes by the
 * largest limits `custos serve` accepts: one day idle, seven days from
 * sign-in). Must not be called inside a transaction or batch. */
CU_MUST_USE int cu_jobs_run_due(cu_vault *v, int64_t now, cu_job_report *out, cu_err *err);

#endif
