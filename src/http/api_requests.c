/*
 * api_requests.c — the HTTP routes of data-subject rights requests: POST and
 * GET /v1/requests, GET /v1/requests/due, GET /v1/requests/{id}, POST
 * /v1/requests/{id}/transitions (see domain/requests.h). Staff act within
 * their own controller; the choke point decides who may (dpo manages,
 * care_admin may only log a request as received) and audits every call that
 * reaches a decision.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/requests.h"
#include "http/api_impl.h"
#include "iface/render.h"

static void request_create(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                           cu_http_resp *resp)
{
    if (!cu_api_json_body(req, resp))
        return;
    cu_err err = {0};
    cu_request_body b;
    if (cu_body_request(req->body, req->body_len, &b, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return;
    }
    cu_rq_receive_in in = {.kind = b.kind, .channel = b.channel, .received_on = b.received_on,
                           .purpose = b.purpose[0] ? b.purpose : NULL, .details = b.details,
                           .details_len = b.details_len};
    char id[CU_ID_STRLEN];
    int rc = cu_request_receive(cu_api_vault(api), actor, &in, id, &err);
    cu_wipe(b.details, sizeof b.details);
    if (rc) {
        cu_api_fail(resp, &err);
        return;
    }
    snprintf(resp->location, sizeof resp->location, "/v1/requests/%s", id);
    cu_api_ok(resp, 201, json_pack("{s:s, s:s}", "id", id, "state", "received"));
}

static int add_view(void *ctx, const cu_request_view *v)
{
    return json_array_append_new(ctx, cu_json_request(v)) ? CU_ENOMEM : CU_OK;
}

static void request_list(cu_api *api, const cu_actor *actor, cu_http_resp *resp, bool due)
{
    cu_err err = {0};
    json_t *arr = json_array();
    const cu_holidays *h;
    const char *src = NULL;
    int rc = cu_vault_holidays(cu_api_vault(api), &h, &src, &err);
    if (!rc)
        rc = cu_request_list(cu_api_vault(api), actor, NULL, due, add_view, arr, &err);
    if (rc) {
        json_decref(arr);
        cu_api_fail(resp, &err);
        return;
    }
    cu_api_ok(resp, 200, json_pack("{s:s, s:o}", "bank_holidays", src, "requests", arr));
}

static int add_event(void *ctx, const cu_request_event_view *e)
{
    return json_array_append_new(ctx, cu_json_request_event(e)) ? CU_ENOMEM : CU_OK;
}

static void request_get(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                        cu_http_resp *resp)
{
    cu_err err = {0};
    cu_request_view v;
    json_t *events = json_array();
    if (cu_request_show(cu_api_vault(api), actor, req->route.subject, &v, add_event, events,
                        &err)) {
        json_decref(events);
        cu_api_fail(resp, &err);
        return;
    }
    json_t *j = cu_json_request(&v);
    json_object_set_new(j, "history", events);
    cu_api_ok(resp, 200, j);
}

static void request_transition(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                               cu_http_resp *resp)
{
    if (!cu_api_json_body(req, resp))
        return;
    cu_err err = {0};
    cu_request_change_body b;
    if (cu_body_request_change(req->body, req->body_len, &b, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return;
    }
    int t = cu_rq_transition_parse(b.action);
    if (t < 0) {
        cu_wipe(b.why, sizeof b.why);
        cu_api_problem(resp, CU_P_INVALID, "$.action must be one of ask_identity, verify, "
                                           "clarify, resume, extend, fulfil, refuse, withdraw");
        return;
    }
    cu_rq_change c = {.t = (cu_rq_transition)t, .why = b.why, .why_len = b.why_len,
                      .on = b.on[0] ? b.on : NULL,
                      .subject_id = b.subject[0] ? b.subject : NULL,
                      .told_on = b.told_on[0] ? b.told_on : NULL,
                      .grounds = b.grounds[0] ? b.grounds : NULL,
                      .ico_route_stated = b.ico_route_stated};
    cu_request_view v;
    int rc = cu_request_change(cu_api_vault(api), actor, req->route.subject, &c, &v, &err);
    cu_wipe(b.why, sizeof b.why);
    if (rc) {
        cu_api_fail(resp, &err);
        return;
    }
    cu_api_ok(resp, 200, cu_json_request(&v));
}

void cu_api_request_create(cu_call *c)
{
    request_create(c->api, c->req, &c->actor, c->resp);
}

void cu_api_request_list(cu_call *c)
{
    request_list(c->api, &c->actor, c->resp, false);
}

void cu_api_request_due(cu_call *c)
{
    request_list(c->api, &c->actor, c->resp, true);
}

void cu_api_request_get(cu_call *c)
{
    request_get(c->api, c->req, &c->actor, c->resp);
}

void cu_api_request_transition(cu_call *c)
{
    request_transition(c->api, c->req, &c->actor, c->resp);
}
