/*
 * tasks.c — the clinical task list (tasks.h).
 */
#include "domain/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/integrity.h"
#include "domain/op.h"
#include "domain/op_impl.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

static const cu_task_reason reasons[] = {
    {"phq9_item9", "urgent",
     "PHQ-9 question 9 (thoughts of being better off dead or of self-harm) answered above "
     "\"not at all\""},
    {"psfu_out_of_range", "review", "a follow-up answer was outside the expected range"},
    {"answer_urgent", "urgent", "a questionnaire answer needs urgent clinical attention"},
    {"score_review", "review", "a questionnaire score is in a range that needs clinical review"},
};
#define NREASONS (sizeof reasons / sizeof reasons[0])

const cu_task_reason *cu_task_reason_find(const char *code)
{
    for (size_t i = 0; code && i < NREASONS; i++)
        if (strcmp(code, reasons[i].code) == 0)
            return &reasons[i];
    return NULL;
}

const cu_task_reason *cu_task_reason_at(size_t i)
{
    return i < NREASONS ? &reasons[i] : NULL;
}

/* ---- row codes and the count head ---- */

static void task_mac(cu_vault *v, const cu_task_rec *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "tasks");
    cu_mac_str(m, r->id);
    cu_mac_str(m, r->controller_id);
    cu_mac_str(m, r->subject_id);
    cu_mac_str(m, r->kind);
    cu_mac_str(m, r->reason);
    cu_mac_bytes(m, r->detail, r->detail_len);
    cu_mac_str(m, r->source);
    cu_mac_str(m, r->owner_user_id);
    cu_mac_str(m, r->state);
    cu_mac_i64(m, r->created_at);
    cu_mac_str(m, r->acked_by);
    cu_mac_i64(m, r->acked_at);
    cu_mac_str(m, r->done_by);
    cu_mac_i64(m, r->done_at);
}

static void task_sign(cu_vault *v, cu_task_rec *r)
{
    cu_mac m;
    task_mac(v, r, &m);
    cu_mac_final(&m, r->mac);
    r->mac_len = CU_HASH_BYTES;
}

static int task_check(cu_vault *v, const cu_task_rec *r, cu_err *err)
{
    cu_mac m;
    task_mac(v, r, &m);
    if (cu_mac_check(&m, r->mac, r->mac_len))
        return CU_OK;
    return cu_err_set(err, CU_ETAMPER, "tasks %s has been altered", r->id);
}

/* Whether this write transaction has counted the controller's rows at the
 * head it reads now. The writer holds the store's write lock for the whole
 * transaction (SQLite BEGIN IMMEDIATE, PostgreSQL the writer's advisory
 * lock), and every task row this vault writes goes with its head in one
 * operation, undone together: once counted, rows == head holds until the
 * transaction ends, so the count is made once per transaction, not once per
 * task. A head that no longer reads what was recorded (an operation undone)
 * is counted again. The count also holds in the next transaction of this
 * vault when no one else has committed in between (cu_vault_tx_begin; SQLite
 * only, whose change counter moves with any program's commit): a row added
 * or deleted behind custos's back is a commit, and is counted. */
static bool head_seen(cu_vault *v, const char *controller_id, int64_t head)
{
    const struct cu_tasks_seen *s = &v->tasks_seen;
    return cu_store_in_tx(v->store) && s->tx && s->tx == cu_store_tx_seq(v->store) &&
           s->head == head && strcmp(s->controller_id, controller_id) == 0;
}

static void head_note(cu_vault *v, const char *controller_id, int64_t head)
{
    struct cu_tasks_seen *s = &v->tasks_seen;
    if (!cu_store_in_tx(v->store)) {
        memset(s, 0, sizeof *s);
        return;
    }
    s->tx = cu_store_tx_seq(v->store);
    cu_strlcpy(s->controller_id, controller_id, sizeof s->controller_id);
    s->head = head;
}

static int head_put(cu_vault *v, const char *controller_id, int64_t n, cu_err *err)
{
    int rc = cu_meta_counter_put(v, "tasks_head", controller_id, n, err);
    if (!rc && head_seen(v, controller_id, n - 1))
        head_note(v, controller_id, n);
    return rc;
}

/* The number of tasks the controller's head records (0: no head yet), checked
 * against the rows: CU_ETAMPER when the head was altered or a task deleted
 * (or inserted) behind custos's back. The head's code is checked on every
 * call; the rows are counted once per write transaction (head_seen). */
static int head_check(cu_vault *v, const char *controller_id, int64_t *out, cu_err *err)
{
    *out = 0;
    int64_t head = 0;
    int rc = cu_meta_counter_get(v, "tasks_head", controller_id, &head, err);
    if (!rc && head_seen(v, controller_id, head)) {
        *out = head;
        return CU_OK;
    }
    int64_t rows = 0;
    if (!rc)
        rc = cu_store_task_count(v->store, controller_id, &rows, err);
    if (!rc && rows != head)
        rc = cu_err_set(err, CU_ETAMPER,
                        "tasks of controller %s have been altered: %lld rows, %lld raised",
                        controller_id, (long long)rows, (long long)head);
    if (!rc) {
        *out = head;
        head_note(v, controller_id, head);
    }
    return rc;
}

/* ---- raising ---- */

static bool source_ok(const char *s)
{
    size_t n = s ? strnlen(s, CU_TASK_MAX_SOURCE + 1) : 0;
    if (n == 0 || n > CU_TASK_MAX_SOURCE)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

static bool detail_ok(const char *s)
{
    size_t n = strnlen(s, CU_TASK_MAX_DETAIL + 1);
    if (n == 0 || n > CU_TASK_MAX_DETAIL)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int cu_task_raise(cu_vault *v, const cu_actor *a, const cu_task_raise_in *in,
                  char id_out[CU_ID_STRLEN], cu_err *err)
{
    const cu_task_reason *reason = cu_task_reason_find(in->reason);
    if (!reason)
        return cu_err_set(err, CU_EINVAL, "reason must be one of: phq9_item9, "
                                           "psfu_out_of_range, answer_urgent, score_review");
    if (!source_ok(in->source))
        return cu_err_set(err, CU_EINVAL, "source must be 1-%d printable ASCII characters",
                          CU_TASK_MAX_SOURCE);
    if (in->detail && !detail_ok(in->detail))
        return cu_err_set(err, CU_EINVAL,
                          "detail must be 1-%d bytes of text without control characters",
                          CU_TASK_MAX_DETAIL);
    if (in->owner_username && !cu_actor_valid(in->owner_username))
        return cu_err_set(err, CU_EINVAL, "owner must be a staff user name");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_TASK, "task.raise", err);
    if (rc)
        return rc;
    cu_subject_rec subj;
    cu_key dek;
    bool have_key = false;
    cu_task_rec t;
    memset(&t, 0, sizeof t);
    cu_buf sealed;
    cu_buf_init(&sealed, CU_TASK_MAX_DETAIL + 256);
    rc = cu_op_open_subject(v, &op, in->subject_id, &subj, err);
    if (!rc && in->owner_username) {
        /* A named owner: a clinician of the controller with the subject on
         * their care list, so that the task can never be left with no one
         * who may see it. */
        cu_user_rec u;
        bool on = false;
        rc = cu_store_user_get(v->store, in->owner_username, NULL, &u, err);
        if (rc == CU_ENOTFOUND || (!rc && (strcmp(u.controller_id, subj.controller_id) != 0 ||
                                           !(cu_roles_parse(u.roles) & CU_ROLE_CLINICIAN) ||
                                           u.disabled_at))) {
            cu_err_clear(err);
            rc = cu_err_set(err, CU_EINVAL, "owner %s is not a clinician of the controller",
                            in->owner_username);
        }
        if (!rc && !(rc = cu_care_on_list(v, u.id, subj.id, &on, err)) && !on)
            rc = cu_err_set(err, CU_EINVAL,
                            "owner %s does not have subject %s on their care list",
                            in->owner_username, subj.id);
        if (!rc)
            cu_strlcpy(t.owner_user_id, u.id, sizeof t.owner_user_id);
        cu_wipe(&u, sizeof u);
    }
    int64_t head = 0;
    if (!rc)
        rc = head_check(v, subj.controller_id, &head, err);
    if (!rc) {
        t.created_at = cu_now_us();
        cu_time_id(t.created_at, t.id);
        cu_strlcpy(t.controller_id, subj.controller_id, sizeof t.controller_id);
        cu_strlcpy(t.subject_id, subj.id, sizeof t.subject_id);
        cu_strlcpy(t.kind, reason->kind, sizeof t.kind);
        cu_strlcpy(t.reason, reason->code, sizeof t.reason);
        cu_strlcpy(t.source, in->source, sizeof t.source);
        cu_strlcpy(t.state, "open", sizeof t.state);
    }
    if (!rc && in->detail) {
        if (!(rc = cu_op_subject_key(v, &op, subj.id, &dek, NULL, err))) {
            have_key = true;
            unsigned char ad[CU_AD_MAX];
            size_t adlen = cu_ad_item(ad, subj.controller_id, subj.id, t.id, "task.detail",
                                      subj.key_version);
            if (cu_aead_seal(&dek, ad, adlen, in->detail, strlen(in->detail), &sealed))
                rc = cu_err_set(err, CU_ENOMEM, "cannot seal the task's detail");
            t.detail = sealed.data;
            t.detail_len = sealed.len;
        }
    }
    if (!rc) {
        task_sign(v, &t);
        rc = cu_store_task_insert(v->store, &t, err);
    }
    if (!rc)
        rc = head_put(v, subj.controller_id, head + 1, err);
    if (!rc) {
        op.categories |= 1u << CU_CAT_HEALTH;
        if (id_out)
            memcpy(id_out, t.id, CU_ID_STRLEN);
    }
    if (have_key)
        cu_key_wipe(&dek);
    cu_buf_release(&sealed);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_task_raise_within(cu_vault *v, cu_op *op, const cu_subject_rec *subj, const cu_key *dek,
                         const cu_task_raise_in *in, char id_out[CU_ID_STRLEN], cu_err *err)
{
    const cu_task_reason *reason = cu_task_reason_find(in->reason);
    if (!reason)
        return cu_err_set(err, CU_EINTERNAL, "a task reason is not in the table");
    if (!source_ok(in->source) || (in->detail && (!detail_ok(in->detail) || !dek)))
        return cu_err_set(err, CU_EINTERNAL, "a task's source or detail is malformed");
    int64_t head = 0;
    int rc = head_check(v, subj->controller_id, &head, err);
    if (rc)
        return rc;
    cu_task_rec t;
    memset(&t, 0, sizeof t);
    t.created_at = cu_now_us();
    cu_time_id(t.created_at, t.id);
    cu_strlcpy(t.controller_id, subj->controller_id, sizeof t.controller_id);
    cu_strlcpy(t.subject_id, subj->id, sizeof t.subject_id);
    cu_strlcpy(t.kind, reason->kind, sizeof t.kind);
    cu_strlcpy(t.reason, reason->code, sizeof t.reason);
    cu_strlcpy(t.source, in->source, sizeof t.source);
    cu_strlcpy(t.state, "open", sizeof t.state);
    cu_buf sealed;
    cu_buf_init(&sealed, CU_TASK_MAX_DETAIL + 256);
    if (in->detail) {
        unsigned char ad[CU_AD_MAX];
        size_t adlen = cu_ad_item(ad, subj->controller_id, subj->id, t.id, "task.detail",
                                  subj->key_version);
        if (cu_aead_seal(dek, ad, adlen, in->detail, strlen(in->detail), &sealed))
            rc = cu_err_set(err, CU_ENOMEM, "cannot seal the task's detail");
        t.detail = sealed.data;
        t.detail_len = sealed.len;
    }
    if (!rc) {
        task_sign(v, &t);
        rc = cu_store_task_insert(v->store, &t, err);
    }
    if (!rc)
        rc = head_put(v, subj->controller_id, head + 1, err);
    if (!rc)
        rc = cu_op_note(op, "task.raise", t.id, err);
    if (!rc && id_out)
        memcpy(id_out, t.id, CU_ID_STRLEN);
    cu_buf_release(&sealed);
    return rc;
}

/* ---- listing ---- */

typedef struct list_ctx {
    cu_vault *v;
    const cu_actor *a;
    const char *state;
    const char *subject; /* only this subject's tasks, or NULL */
    cu_task_view_cb cb;
    void *ctx;
    cu_err *err;
} list_ctx;

static int list_row(void *ctx, const cu_task_rec *r)
{
    list_ctx *c = ctx;
    /* Every row is checked before anything is decided about it: a task
     * marked done in the database cannot drop out of the open list. */
    int rc = task_check(c->v, r, c->err);
    if (rc)
        return rc;
    if (c->state && strcmp(r->state, c->state) != 0)
        return CU_OK;
    if (c->subject && strcmp(r->subject_id, c->subject) != 0)
        return CU_OK;
    if (c->a->user_id) {
        if (r->owner_user_id[0] && strcmp(r->owner_user_id, c->a->user_id) != 0)
            return CU_OK;
        bool on = false;
        if ((rc = cu_care_on_list(c->v, c->a->user_id, r->subject_id, &on, c->err)))
            return rc;
        if (!on)
            return CU_OK;
    }
    cu_task_view t = {.rec = r, .reason = cu_task_reason_find(r->reason)};
    if (!t.reason)
        return cu_err_set(c->err, CU_ECORRUPT, "task %s has an unknown reason", r->id);
    return c->cb(c->ctx, &t);
}

static bool state_valid(const char *s)
{
    return s && (strcmp(s, "open") == 0 || strcmp(s, "acknowledged") == 0 ||
                 strcmp(s, "done") == 0);
}

int cu_task_list(cu_vault *v, const cu_actor *a, const char *controller_id, const char *state,
                 cu_task_view_cb cb, void *ctx, cu_err *err)
{
    if (state && !state_valid(state))
        return cu_err_set(err, CU_EINVAL, "state must be open, acknowledged or done");
    const char *ctl = a->controller_id && *a->controller_id ? a->controller_id : controller_id;
    if (!ctl || !cu_id_valid(ctl))
        return cu_err_set(err, CU_EINVAL, "a controller id is required");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_TASK_LIST, "task.list", err);
    if (rc)
        return rc;
    cu_strlcpy(op.controller_id, ctl, sizeof op.controller_id);
    int64_t head;
    rc = cu_op_authorise(v, &op, err);
    if (!rc)
        rc = head_check(v, ctl, &head, err);
    if (!rc) {
        list_ctx c = {.v = v, .a = a, .state = state, .cb = cb, .ctx = ctx, .err = err};
        rc = cu_store_task_each(v->store, ctl, list_row, &c, err);
        if (rc && !(err && err->code))
            rc = cu_err_set(err, rc, "cannot list the tasks");
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_task_walk(cu_vault *v, const cu_actor *a, const char *controller_id,
                 cu_task_view_cb cb, void *ctx, cu_err *err)
{
    int64_t head;
    int rc = head_check(v, controller_id, &head, err);
    if (!rc) {
        list_ctx c = {.v = v, .a = a, .state = NULL, .cb = cb, .ctx = ctx, .err = err};
        rc = cu_store_task_each(v->store, controller_id, list_row, &c, err);
        if (rc && !(err && err->code))
            rc = cu_err_set(err, rc, "cannot list the tasks");
    }
    return rc;
}

int cu_task_walk_subject(cu_vault *v, cu_op *op, const cu_subject_rec *subj,
                         cu_task_view_cb cb, void *ctx, bool *done, cu_err *err)
{
    *done = false;
    if (!op->authorised || op->act != CU_ACT_SUBJECT_READ ||
        strcmp(op->subject_id, subj->id) != 0)
        return cu_err_set(err, CU_EINTERNAL, "an operation skipped authorisation");
    const cu_actor *a = op->actor;
    const char *ctl = subj->controller_id;
    if (!a->controller_id || strcmp(a->controller_id, ctl) != 0)
        return CU_OK;
    cu_access_req q = {.roles = a->roles ? a->roles : cu_roles_parse(a->role ? a->role : ""),
                       .actor_controller = a->controller_id,
                       .act = CU_ACT_TASK_LIST,
                       .target_controller = ctl};
    if (!cu_access_decide(&q).allow)
        return CU_OK;
    int64_t head;
    int rc = head_check(v, ctl, &head, err);
    if (!rc) {
        list_ctx c = {.v = v, .a = a, .subject = subj->id, .cb = cb, .ctx = ctx, .err = err};
        rc = cu_store_task_each(v->store, ctl, list_row, &c, err);
        if (rc && !(err && err->code))
            rc = cu_err_set(err, rc, "cannot list the tasks");
    }
    if (!rc)
        rc = cu_op_note(op, "task.list", subj->id, err);
    if (!rc)
        *done = true;
    return rc;
}

/* ---- acknowledging and closing ---- */

static int task_move(cu_vault *v, const cu_actor *a, const char *task_id, bool done,
                     cu_task_rec *out, cu_err *err)
{
    if (!task_id || !cu_id_valid(task_id))
        return cu_err_set(err, CU_EINVAL, "a task id is required");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_TASK, done ? "task.done" : "task.ack", err);
    if (rc)
        return rc;
    cu_task_rec t;
    cu_subject_rec subj;
    rc = cu_store_task_get(v->store, task_id, &t, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        rc = cu_err_set(err, CU_ENOTFOUND, "no such task");
    } else if (!rc) {
        /* The subject's operation decides first (care list, controller), so
         * that another controller's task is answered as not found. */
        rc = cu_op_open_subject(v, &op, t.subject_id, &subj, err);
        if (!rc)
            rc = task_check(v, &t, err);
        if (!rc)
            rc = head_check(v, t.controller_id, &(int64_t){0}, err);
        if (!rc && a->user_id && t.owner_user_id[0] && strcmp(t.owner_user_id, a->user_id)) {
            op.rule = "not-task-owner";
            rc = cu_err_set(err, CU_EDENIED, "refused (not-task-owner): task %s is another "
                                             "clinician's", t.id);
        }
        if (!rc && strcmp(t.state, "done") == 0)
            rc = cu_err_set(err, CU_ECONFLICT, "task %s is already done", t.id);
        else if (!rc && !done && strcmp(t.state, "open") != 0)
            rc = cu_err_set(err, CU_ECONFLICT, "task %s is already %s", t.id, t.state);
        if (!rc) {
            int64_t now = cu_now_us();
            if (done) {
                cu_strlcpy(t.state, "done", sizeof t.state);
                cu_strlcpy(t.done_by, a->name, sizeof t.done_by);
                t.done_at = now;
            } else {
                cu_strlcpy(t.state, "acknowledged", sizeof t.state);
                cu_strlcpy(t.acked_by, a->name, sizeof t.acked_by);
                t.acked_at = now;
            }
            task_sign(v, &t);
            rc = cu_store_task_update(v->store, &t, err);
        }
        if (!rc && out) {
            *out = t;
            out->detail = NULL;
            out->detail_len = 0;
        }
        cu_task_rec_release(&t);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_task_ack(cu_vault *v, const cu_actor *a, const char *task_id, cu_task_rec *out,
                cu_err *err)
{
    return task_move(v, a, task_id, false, out, err);
}

int cu_task_done(cu_vault *v, const cu_actor *a, const char *task_id, cu_task_rec *out,
                 cu_err *err)
{
    return task_move(v, a, task_id, true, out, err);
}

/* ---- custos verify (integrity.h) ---- */

typedef struct tk_walk {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    cu_err *err;
    int64_t rows;
    char (*ids)[CU_ID_STRLEN]; /* sealing: the tasks to sign again */
    size_t n, cap;
} tk_walk;

static int tk_row(void *ctx, const cu_task_rec *r)
{
    tk_walk *w = ctx;
    w->rows++;
    if (w->seal) {
        if (w->n == w->cap) {
            size_t cap = w->cap ? 2 * w->cap : 64;
            char (*p)[CU_ID_STRLEN] = realloc(w->ids, cap * sizeof *p);
            if (!p)
                return cu_err_set(w->err, CU_ENOMEM, "out of memory sealing the tasks");
            w->ids = p;
            w->cap = cap;
        }
        cu_strlcpy(w->ids[w->n++], r->id, CU_ID_STRLEN);
        return CU_OK;
    }
    cu_mac m;
    task_mac(w->v, r, &m);
    if (cu_mac_check(&m, r->mac, r->mac_len))
        return CU_OK;
    return w->report(w->rctx, "tasks", r->id, r->mac_len ? "altered" : "forged (no row code)");
}

/* One controller's tasks and its head: every row's code, and the head
 * against the number of rows (a task deleted or added in the database). */
static int tk_controller(void *ctx, const char *id, const char *name, int64_t created_at)
{
    (void)name;
    (void)created_at;
    tk_walk *w = ctx;
    int rc = cu_store_task_each(w->v->store, id, tk_row, w, w->err);
    int64_t rows = 0, head = 0;
    if (!rc)
        rc = cu_store_task_count(w->v->store, id, &rows, w->err);
    if (rc)
        return rc;
    char key[CU_META_COUNTER_KEY];
    cu_meta_counter_key("tasks_head", id, key);
    if (w->seal)
        return rows ? head_put(w->v, id, rows, w->err) : CU_OK;
    cu_err e = {0};
    if (cu_meta_counter_get(w->v, "tasks_head", id, &head, &e) == CU_ETAMPER)
        return w->report(w->rctx, "meta", key, "altered");
    if (e.code)
        return cu_err_set(w->err, e.code, "%s", e.msg);
    if (head != rows)
        return w->report(w->rctx, "meta", key, "does not match the tasks (a task deleted or "
                                               "added)");
    return CU_OK;
}

static int tk_family_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                          int64_t *rows, cu_err *err)
{
    tk_walk w = {.v = v, .seal = seal, .report = report, .rctx = rctx, .err = err};
    int rc = cu_store_controller_each(v->store, tk_controller, &w, err);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the tasks");
    for (size_t i = 0; !rc && i < w.n; i++) {
        cu_task_rec t;
        if ((rc = cu_store_task_get(v->store, w.ids[i], &t, err)))
            break;
        task_sign(v, &t);
        rc = cu_store_task_update(v->store, &t, err);
        cu_task_rec_release(&t);
    }
    free(w.ids);
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_task_rows = {.name = "tasks", .walk = tk_family_walk};
