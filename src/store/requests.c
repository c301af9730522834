/* requests.c — data-subject rights requests, their pauses and history
 * (store.h). Statements by id only: no SQL here. */
#include <string.h>

#include "store/store_impl.h"

/* The 18 parameters of ST_RQ_INSERT and ST_RQ_UPDATE: unset ("") fields are
 * stored as NULL. */
#define REQUEST_ARGS(r)                                                                     \
    CU_ARGS(cu_vt((r)->id), cu_vt((r)->controller_id), cu_vt((r)->kind),                    \
            cu_vt((r)->channel), cu_vt((r)->state), cu_vopt((r)->paused_from),              \
            cu_vopt((r)->subject_id), cu_vopt((r)->purpose), cu_vt((r)->received_on),       \
            cu_vopt((r)->evidence_on), cu_vi((r)->extended ? 1 : 0), cu_vopt((r)->told_on), \
            cu_vopt((r)->grounds), cu_vopt((r)->closed_on), cu_vi((r)->created_at),         \
            cu_vi((r)->updated_at), cu_vopt((r)->complaint_route),                          \
            cu_vmac((r)->mac, (r)->mac_len))

static void request_from_row(const cu_val *c, cu_request_rec *r)
{
    memset(r, 0, sizeof *r);
    (void)cu_strlcpy(r->id, cu_cs(&c[0]), sizeof r->id);
    (void)cu_strlcpy(r->controller_id, cu_cs(&c[1]), sizeof r->controller_id);
    (void)cu_strlcpy(r->kind, cu_cs(&c[2]), sizeof r->kind);
    (void)cu_strlcpy(r->channel, cu_cs(&c[3]), sizeof r->channel);
    (void)cu_strlcpy(r->state, cu_cs(&c[4]), sizeof r->state);
    (void)cu_strlcpy(r->paused_from, cu_cs(&c[5]), sizeof r->paused_from);
    (void)cu_strlcpy(r->subject_id, cu_cs(&c[6]), sizeof r->subject_id);
    (void)cu_strlcpy(r->purpose, cu_cs(&c[7]), sizeof r->purpose);
    (void)cu_strlcpy(r->received_on, cu_cs(&c[8]), sizeof r->received_on);
    (void)cu_strlcpy(r->evidence_on, cu_cs(&c[9]), sizeof r->evidence_on);
    r->extended = c[10].i != 0;
    (void)cu_strlcpy(r->told_on, cu_cs(&c[11]), sizeof r->told_on);
    (void)cu_strlcpy(r->grounds, cu_cs(&c[12]), sizeof r->grounds);
    (void)cu_strlcpy(r->closed_on, cu_cs(&c[13]), sizeof r->closed_on);
    r->created_at = c[14].i;
    r->updated_at = c[15].i;
    (void)cu_strlcpy(r->complaint_route, cu_cs(&c[16]), sizeof r->complaint_route);
    cu_col_mac(&c[17], r->mac, &r->mac_len);
}

int cu_store_request_insert(cu_store *s, const cu_request_rec *r, cu_err *err)
{
    return cu_st_exec(s, ST_RQ_INSERT, "recording a request", REQUEST_ARGS(r), err);
}

int cu_store_request_update(cu_store *s, const cu_request_rec *r, cu_err *err)
{
    int rc = cu_st_exec1(s, ST_RQ_UPDATE, "changing a request", REQUEST_ARGS(r), err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, CU_ENOTFOUND, "no request %s", r->id) : rc;
}

static int request_one(void *ctx, const cu_val *c)
{
    request_from_row(c, ctx);
    return CU_OK;
}

int cu_store_request_get(cu_store *s, const char *id, cu_request_rec *out, cu_err *err)
{
    return cu_st_one(s, ST_RQ_GET, "reading a request", CU_ARGS(cu_vt(id)), request_one, out,
                     err);
}

typedef struct rq_ctx {
    cu_request_cb cb;
    cu_request_pause_cb pause_cb;
    cu_request_event_cb event_cb;
    void *ctx;
} rq_ctx;

static int request_row(void *ctx, const cu_val *c)
{
    rq_ctx *k = ctx;
    cu_request_rec r;
    request_from_row(c, &r);
    return k->cb(k->ctx, &r);
}

int cu_store_request_each(cu_store *s, const char *controller_id, bool open_only,
                          cu_request_cb cb, void *ctx, cu_err *err)
{
    rq_ctx k = {.cb = cb, .ctx = ctx};
    if (controller_id)
        return cu_st_run(s, ST_RQ_EACH_CTL, "listing requests",
                         CU_ARGS(cu_vi(open_only ? 1 : 0), cu_vt(controller_id)), request_row,
                         &k, NULL, err);
    return cu_st_run(s, ST_RQ_EACH, "listing requests", CU_ARGS(cu_vi(open_only ? 1 : 0)),
                     request_row, &k, NULL, err);
}

int cu_store_request_pause_open(cu_store *s, const char *request_id, const char *paused_on,
                                cu_err *err)
{
    return cu_st_exec(s, ST_RQ_PAUSE_OPEN, "pausing a request",
                      CU_ARGS(cu_vt(request_id), cu_vt(paused_on)), err);
}

int cu_store_request_pause_close(cu_store *s, const char *request_id, const char *resumed_on,
                                 cu_err *err)
{
    return cu_st_exec(s, ST_RQ_PAUSE_CLOSE, "resuming a request",
                      CU_ARGS(cu_vt(request_id), cu_vt(resumed_on)), err);
}

static int pause_row(void *ctx, const cu_val *c)
{
    rq_ctx *k = ctx;
    return k->pause_cb(k->ctx, cu_cs(&c[0]), cu_cs(&c[1]));
}

int cu_store_request_pauses(cu_store *s, const char *request_id, cu_request_pause_cb cb,
                            void *ctx, cu_err *err)
{
    rq_ctx k = {.pause_cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_RQ_PAUSES, "reading request pauses", CU_ARGS(cu_vt(request_id)),
                     pause_row, &k, NULL, err);
}

int cu_store_request_event_insert(cu_store *s, const cu_request_event_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_RQ_EV_INSERT, "recording a request event",
                      CU_ARGS(cu_vt(r->id), cu_vt(r->request_id), cu_vi(r->at),
                              cu_vt(r->on_date), cu_vt(r->actor), cu_vt(r->action),
                              cu_vopt(r->from_state), cu_vt(r->to_state), cu_vt(r->sealed_by),
                              cu_vb0(r->why, r->why_len)),
                      err);
}

static int event_row(void *ctx, const cu_val *c)
{
    rq_ctx *k = ctx;
    cu_request_event_row r = {
        .id = cu_ct(&c[0]),
        .request_id = cu_ct(&c[1]),
        .at = c[2].i,
        .on_date = cu_ct(&c[3]),
        .actor = cu_ct(&c[4]),
        .action = cu_ct(&c[5]),
        .from_state = cu_ct(&c[6]),
        .to_state = cu_ct(&c[7]),
        .sealed_by = cu_ct(&c[8]),
        .why = c[9].p,
        .why_len = c[9].n,
        .seq = c[10].i,
    };
    return k->event_cb(k->ctx, &r);
}

int cu_store_request_event_each(cu_store *s, const char *request_id, cu_request_event_cb cb,
                                void *ctx, cu_err *err)
{
    rq_ctx k = {.event_cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_RQ_EV_EACH, "reading request events", CU_ARGS(cu_vt(request_id)),
                     event_row, &k, NULL, err);
}

int cu_store_request_event_reseal(cu_store *s, const char *event_id, const char *sealed_by,
                                  const void *why, size_t n, cu_err *err)
{
    return cu_st_exec(s, ST_RQ_EV_RESEAL, "resealing a request event",
                      CU_ARGS(cu_vt(event_id), cu_vt(sealed_by), cu_vb0(why, n)), err);
}
