#include "domain/jobs.h"

#include <stdio.h>
#include <string.h>

#include "domain/node.h"
#include "domain/op.h"
#include "domain/vault_impl.h"

static int purge_sessions(cu_vault *v, int64_t now, int64_t *deleted, cu_err *err)
{
    return cu_store_session_purge(v->store, now - CU_JOB_SESSION_GRACE_US,
                                  now - CU_JOB_SESSION_IDLE_MAX_US - CU_JOB_SESSION_GRACE_US,
                                  now - CU_JOB_SESSION_ABSOLUTE_MAX_US - CU_JOB_SESSION_GRACE_US,
                                  deleted, err);
}

/* Inside the open batch, under the writer lock: runs the job when it is
 * still due, as one audited operation that also moves its due time on. */
static int run_if_due(cu_vault *v, const char *name, int64_t now, cu_job_report *out,
                      cu_err *err)
{
    cu_job_row j;
    int rc = cu_store_job_get(v->store, name, &j, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        rc = CU_OK;
    } else if (!rc && j.due_at > now) {
        return CU_OK; /* another node ran it this period */
    }
    if (rc)
        return rc;
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
    cu_job_row j;
    int rc = cu_store_job_get(v->store, CU_JOB_SESSION_PURGE, &j, err);
    if (rc == CU_OK && j.due_at > now)
        return CU_OK;
    if (rc && rc != CU_ENOTFOUND)
        return rc;
    cu_err_clear(err);
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
