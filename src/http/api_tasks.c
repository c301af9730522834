/*
 * api_tasks.c — the HTTP routes of the clinical task list and of follow-up
 * pathways: listing, acknowledging and closing tasks, what is due, enrolling
 * a subject on a pathway and discharging them (see docs/api.md): GET
 * /v1/tasks, GET /v1/tasks/due, POST /v1/tasks/{id}/ack and /done, POST
 * /v1/subjects/{id}/pathways and .../pathways/{pathway}/discharge.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "domain/pathway.h"
#include "domain/tasks.h"
#include "http/api_impl.h"
#include "util/clock.h"

static json_t *when(int64_t us)
{
    char t[CU_TIME_STRLEN];
    cu_time_format(us, t);
    return json_string(t);
}

static json_t *task_json(const cu_task_rec *r)
{
    const cu_task_reason *reason = cu_task_reason_find(r->reason);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "id", r->id,
                          "subject", r->subject_id, "kind", r->kind, "reason", r->reason,
                          "reason_text", reason ? reason->wording : "", "source", r->source,
                          "state", r->state, "has_detail", r->detail != NULL, "created_at",
                          when(r->created_at));
    if (!j)
        return NULL;
    json_object_set_new(j, "owner", json_string(r->owner_user_id[0] ? r->owner_user_id
                                                                    : "care_team"));
    if (r->acked_at)
        json_object_set_new(j, "acknowledged",
                            json_pack("{s:s, s:o}", "by", r->acked_by, "at", when(r->acked_at)));
    if (r->done_at)
        json_object_set_new(j, "done",
                            json_pack("{s:s, s:o}", "by", r->done_by, "at", when(r->done_at)));
    return j;
}

static int add_task(void *ctx, const cu_task_view *t)
{
    json_t *j = task_json(t->rec);
    return j && !json_array_append_new(ctx, j) ? CU_OK : CU_ENOMEM;
}

static void task_list(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                      cu_http_resp *resp)
{
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_task_list(cu_api_vault(api), actor, NULL, req->q_state, add_task, arr, &err)) {
        json_decref(arr);
        cu_api_fail(resp, &err);
        return;
    }
    cu_api_ok(resp, 200, json_pack("{s:o}", "tasks", arr));
}

static void task_move(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                      cu_http_resp *resp, bool done)
{
    cu_err err = {0};
    cu_task_rec r;
    int rc = done ? cu_task_done(cu_api_vault(api), actor, req->route.subject, &r, &err)
                  : cu_task_ack(cu_api_vault(api), actor, req->route.subject, &r, &err);
    if (rc) {
        cu_api_fail(resp, &err);
        return;
    }
    cu_api_ok(resp, 200, task_json(&r));
}

static int add_due(void *ctx, const cu_due_item *d)
{
    json_t *j;
    if (d->task_id)
        j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "kind", d->kind, "subject",
                      d->subject_id, "task", d->task_id, "task_kind", d->task_kind, "reason",
                      d->task_reason, "state", d->task_state, "created_at",
                      when(d->task_created_at));
    else
        j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "kind", d->kind,
                      "subject", d->subject_id, "enrolment", d->enrolment_id, "pathway",
                      d->pathway_id, "version", d->pathway_version, "questionnaire",
                      d->questionnaire_url, "n", d->n, "due", d->due_date, "window_ends",
                      d->window_ends, "state", d->state);
    /* A held occurrence says why nothing may be sent. */
    if (j && d->held &&
        (json_object_set_new(j, "held", json_string(d->held)) ||
         json_object_set_new(j, "held_reason", json_string(d->held_reason)))) {
        json_decref(j);
        j = NULL;
    }
    return j && !json_array_append_new(ctx, j) ? CU_OK : CU_ENOMEM;
}

static void task_due(cu_api *api, const cu_actor *actor, cu_http_resp *resp)
{
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_pathway_due(cu_api_vault(api), actor, NULL, 0, add_due, arr, &err)) {
        json_decref(arr);
        cu_api_fail(resp, &err);
        return;
    }
    cu_api_ok(resp, 200, json_pack("{s:o}", "due", arr));
}

/* {"pathway": ID, "start": "YYYY-MM-DD", "purpose": P?}: strict, one-line
 * problems naming the member. */
static bool enrol_body(const cu_http_req *req, cu_http_resp *resp, json_t **out)
{
    json_error_t je;
    json_t *b = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    const char *bad = NULL;
    if (!b || !json_is_object(b))
        bad = "the body must be a JSON object";
    const char *k;
    json_t *v;
    if (!bad)
        json_object_foreach(b, k, v) {
            if (strcmp(k, "pathway") && strcmp(k, "start") && strcmp(k, "purpose")) {
                bad = "$: only pathway, start and purpose are allowed";
                break;
            }
            if (!json_is_string(v)) {
                bad = !strcmp(k, "pathway") ? "$.pathway must be a string"
                      : !strcmp(k, "start") ? "$.start must be a string"
                                            : "$.purpose must be a string";
                break;
            }
        }
    if (!bad && !json_object_get(b, "pathway"))
        bad = "$.pathway is required";
    if (!bad && !json_object_get(b, "start"))
        bad = "$.start is required";
    if (bad) {
        json_decref(b);
        cu_api_problem(resp, CU_P_INVALID, bad);
        return false;
    }
    *out = b;
    return true;
}

static void enrol(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                  cu_http_resp *resp)
{
    if (!cu_api_json_body(req, resp))
        return;
    json_t *b = NULL;
    if (!enrol_body(req, resp, &b))
        return;
    const char *purpose = json_string_value(json_object_get(b, "purpose"));
    cu_err err = {0};
    cu_enrolment_info e;
    int rc = cu_pathway_enrol(cu_api_vault(api), actor, req->route.subject,
                              json_string_value(json_object_get(b, "pathway")),
                              json_string_value(json_object_get(b, "start")),
                              purpose ? purpose : actor->purpose, &e, &err);
    json_decref(b);
    if (rc) {
        cu_api_fail(resp, &err);
        return;
    }
    snprintf(resp->location, sizeof resp->location, "/v1/subjects/%s/pathways",
             req->route.subject);
    cu_api_ok(resp, 201,
              json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "id", e.id, "subject",
                        e.subject_id, "pathway", e.pathway_id, "version", e.pathway_version,
                        "start", e.start_date, "occurrences", e.occurrences, "first_due",
                        e.first_due));
}

static void discharge(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                      cu_http_resp *resp)
{
    if (req->body_len) {
        cu_api_problem(resp, CU_P_INVALID, "a discharge takes no body");
        return;
    }
    cu_err err = {0};
    int stopped = 0;
    if (cu_pathway_discharge(cu_api_vault(api), actor, req->route.subject, req->route.pathway,
                             &stopped, &err)) {
        cu_api_fail(resp, &err);
        return;
    }
    cu_api_ok(resp, 200, json_pack("{s:s, s:s, s:i}", "subject", req->route.subject, "pathway",
                                   req->route.pathway, "stopped", stopped));
}

void cu_api_task_list(cu_call *c)
{
    task_list(c->api, c->req, &c->actor, c->resp);
}

void cu_api_task_due(cu_call *c)
{
    task_due(c->api, &c->actor, c->resp);
}

void cu_api_task_ack(cu_call *c)
{
    task_move(c->api, c->req, &c->actor, c->resp, false);
}

void cu_api_task_done(cu_call *c)
{
    task_move(c->api, c->req, &c->actor, c->resp, true);
}

void cu_api_pathway_enrol(cu_call *c)
{
    enrol(c->api, c->req, &c->actor, c->resp);
}

void cu_api_pathway_discharge(cu_call *c)
{
    discharge(c->api, c->req, &c->actor, c->resp);
}
