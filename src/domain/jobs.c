#include "domain/jobs.h"

#include <stdio.h>
#include <string.h>

#include "domain/node.h"
#include "domain/op.h"
#include "domain/portal.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

/* Staff sessions, then the patient portal's (by the same limits). */
static int purge_sessions(cu_vault *v, int64_t now, int64_t *deleted, cu_err *err)
{
    int64_t portal = 0;
    int rc = cu_store_session_purge(v->store, now - CU_JOB_SESSION_GRACE_US,
                                    now - CU_JOB_SESSION_IDLE_MAX_US - CU_JOB_SESSION_GRACE_US,
                                    now - CU_JOB_SESSION_ABSOLUTE_MAX_US - CU_JOB_SESSION_GRACE_US,
                                    deleted, err);
    if (!rc)
        rc = cu_portal_sessions_purge(
            v, now - CU_JOB_SESSION_IDLE_MAX_US - CU_JOB_SESSION_GRACE_US,
            now - CU_JOB_SESSION_ABSOLUTE_MAX_US - CU_JOB_SESSION_GRACE_US, &portal, err);
    if (!rc)
        *deleted += portal;
    return rc;
}

/* When the job is next due: its row's time, or, before its first run, one
 * period after the store was made (a new store has nothing to purge). */
static int due_at(cu_vault *v, const char *name, int64_t *due, cu_err *err)
{
    cu_job_row j;
    int rc = cu_store_job_get(v->store, name, &j, err);
    if (!rc) {
        *due = j.due_at;
        return CU_OK;
    }
    if (rc != CU_ENOTFOUND)
        return rc;
    cu_err_clear(err);
    *due = 0;
    cu_buf b;
    cu_buf_init(&b, 64);
    rc = cu_store_meta_get(v->store, "created_at", &b, err);
    int64_t made;
    if (!rc && cu_time_parse((const char *)b.data, b.len, &made))
        *due = made + CU_JOB_PERIOD_US;
    cu_buf_release(&b);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        rc = CU_OK;
    }
    return rc;
}

/* Inside the open batch, under the writer lock: runs the job when it is
 * still due, as one audited operation that also moves its due time on. */
static int run_if_due(cu_vault *v, const char *name, int64_t now, cu_job_report *out,
                      cu_err *err)
{
    int64_t due;
    int rc = due_at(v, name, &due, err);
    if (rc)
        return rc;
    if (due > now)
        return CU_OK; /* another node ran it this period */
    char via[64];
    snprintf(via, sizeof via, "job %s", name);
    cu_actor a = {.name = "custos", .role = "operator", .purpose = "administration",
                  .via = via};
    cu_op op;
    if ((rc = cu_op_begin(v, &op, &a, CU_ACT_ADMIN, "session.purge", err)))
        return rc;
    rc = cu_op_authorise(v, &op, err);
    if (!rc)
        rc = purge_sessions(v, now, &out->sessions, err);
    if (!rc) {
        cu_job_row next = {.due_at = now + CU_JOB_PERIOD_US, .last_run = now};
        cu_strlcpy(next.node, v->node[0] ? v->node : "store", sizeof next.node);
        rc = cu_store_job_put(v->store, name, &next, err);
    }
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc)
        out->ran++;
    return rc;
}

int cu_jobs_run_due(cu_vault *v, int64_t now, cu_job_report *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    /* A look without the lock first: most checks find nothing due. */
    int64_t due;
    int rc = due_at(v, CU_JOB_SESSION_PURGE, &due, err);
    if (rc || due > now)
        return rc;
    if ((rc = cu_vault_batch_begin(v, err)))
        return rc;
    rc = run_if_due(v, CU_JOB_SESSION_PURGE, now, out, err);
    if (rc) {
        cu_vault_batch_abort(v);
        out->ran = 0;
        return rc;
    }
    rc = cu_vault_batch_commit(v, err);
    if (rc)
        out->ran = 0;
    return rc;
}
