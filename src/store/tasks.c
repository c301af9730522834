/* tasks.c — clinical tasks (store.h). Statements by id only: no SQL here. */
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"

#define TASK_ARGS(r)                                                                        \
    CU_ARGS(cu_vt((r)->id), cu_vt((r)->controller_id), cu_vt((r)->subject_id),              \
            cu_vt((r)->kind), cu_vt((r)->reason), cu_vmac((r)->detail, (r)->detail_len),    \
            cu_vt((r)->source), cu_vt((r)->owner_user_id), cu_vt((r)->state),               \
            cu_vi((r)->created_at), cu_vt((r)->acked_by), cu_vi((r)->acked_at),             \
            cu_vt((r)->done_by), cu_vi((r)->done_at), cu_vmac((r)->mac, (r)->mac_len))

/* Fills r from a row; detail points into the row (borrowed). */
static void task_from_row(const cu_val *c, cu_task_rec *r)
{
    memset(r, 0, sizeof *r);
    (void)cu_strlcpy(r->id, cu_cs(&c[0]), sizeof r->id);
    (void)cu_strlcpy(r->controller_id, cu_cs(&c[1]), sizeof r->controller_id);
    (void)cu_strlcpy(r->subject_id, cu_cs(&c[2]), sizeof r->subject_id);
    (void)cu_strlcpy(r->kind, cu_cs(&c[3]), sizeof r->kind);
    (void)cu_strlcpy(r->reason, cu_cs(&c[4]), sizeof r->reason);
    r->detail = (unsigned char *)c[5].p;
    r->detail_len = c[5].p ? c[5].n : 0;
    (void)cu_strlcpy(r->source, cu_cs(&c[6]), sizeof r->source);
    (void)cu_strlcpy(r->owner_user_id, cu_cs(&c[7]), sizeof r->owner_user_id);
    (void)cu_strlcpy(r->state, cu_cs(&c[8]), sizeof r->state);
    r->created_at = c[9].i;
    (void)cu_strlcpy(r->acked_by, cu_cs(&c[10]), sizeof r->acked_by);
    r->acked_at = c[11].i;
    (void)cu_strlcpy(r->done_by, cu_cs(&c[12]), sizeof r->done_by);
    r->done_at = c[13].i;
    cu_col_mac(&c[14], r->mac, &r->mac_len);
}

void cu_task_rec_release(cu_task_rec *r)
{
    free(r->detail);
    r->detail = NULL;
    r->detail_len = 0;
}

int cu_store_task_insert(cu_store *s, const cu_task_rec *r, cu_err *err)
{
    return cu_st_exec(s, ST_TASK_INSERT, "recording a task", TASK_ARGS(r), err);
}

int cu_store_task_update(cu_store *s, const cu_task_rec *r, cu_err *err)
{
    int rc = cu_st_exec1(s, ST_TASK_UPDATE, "changing a task", TASK_ARGS(r), err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, CU_ENOTFOUND, "no task %s", r->id) : rc;
}

static int task_one(void *ctx, const cu_val *c)
{
    cu_task_rec *r = ctx;
    task_from_row(c, r);
    if (r->detail) {
        unsigned char *copy = malloc(r->detail_len ? r->detail_len : 1);
        if (!copy) {
            r->detail = NULL;
            return CU_ENOMEM;
        }
        memcpy(copy, r->detail, r->detail_len);
        r->detail = copy;
    }
    return CU_OK;
}

int cu_store_task_get(cu_store *s, const char *id, cu_task_rec *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = cu_st_one(s, ST_TASK_GET, "reading a task", CU_ARGS(cu_vt(id)), task_one, out, err);
    if (rc == CU_ENOMEM)
        return cu_err_set(err, CU_ENOMEM, "out of memory reading a task");
    return rc;
}

typedef struct task_ctx {
    cu_task_cb cb;
    void *ctx;
} task_ctx;

static int task_row(void *ctx, const cu_val *c)
{
    task_ctx *k = ctx;
    cu_task_rec r;
    task_from_row(c, &r);
    return k->cb(k->ctx, &r);
}

int cu_store_task_each(cu_store *s, const char *controller_id, cu_task_cb cb, void *ctx,
                       cu_err *err)
{
    task_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_TASK_EACH, "listing tasks", CU_ARGS(cu_vt(controller_id)), task_row,
                     &k, NULL, err);
}

static int count_one(void *ctx, const cu_val *c)
{
    *(int64_t *)ctx = c[0].i;
    return CU_OK;
}

int cu_store_task_count(cu_store *s, const char *controller_id, int64_t *out, cu_err *err)
{
    *out = 0;
    return cu_st_one(s, ST_TASK_COUNT, "counting tasks", CU_ARGS(cu_vt(controller_id)),
                     count_one, out, err);
}
