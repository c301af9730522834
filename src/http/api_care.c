/*
 * api_care.c — the HTTP routes of who may see a subject and who did: GET
 * /v1/subjects/{id}/access-log, POST /v1/subjects/{id}/break-glass, GET
 * /v1/break-glass, PUT and DELETE /v1/subjects/{id}/care-team/{user}.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/subject.h"
#include "http/api_impl.h"
#include "iface/render.h"

static int collect_grants(void *ctx, const cu_break_glass_row *g, const cu_buf *reason)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", g->id, "user", g->username,
                          "subject", g->subject_id, "granted_at", cu_json_time(g->granted_at),
                          "expires_at", cu_json_time(g->expires_at));
    json_object_set_new(j, "reason", reason ? json_stringn((const char *)reason->data,
                                                           reason->len)
                                            : json_null());
    json_array_append_new(ctx, j);
    return 0;
}

static void access_log(cu_call *c)
{
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_subject_access_log(cu_api_vault(c->api), &c->actor, c->req->route.subject, cu_api_collect_event,
                              arr, &err)) {
        json_decref(arr);
        {
            cu_api_fail(c->resp, &err);
            return;
        }
    }
    cu_api_ok(c->resp, 200, json_pack("{s:s, s:o}", "subject", c->req->route.subject, "events", arr));
}

static void break_glass_create(cu_call *c)
{
    if (!cu_api_json_body(c->req, c->resp))
        return;
    cu_break_glass_body b;
    cu_err err = {0};
    if (cu_body_break_glass(c->req->body, c->req->body_len, &b, &err)) {
        cu_api_problem(c->resp, CU_P_INVALID, err.msg);
        return;
    }
    char id[CU_ID_STRLEN];
    int64_t expires = 0;
    int rc = cu_break_glass_grant(cu_api_vault(c->api), &c->actor, c->req->route.subject, b.reason,
                                  b.reason_len, b.minutes, id, &expires, &err);
    cu_wipe(&b, sizeof b);
    if (rc) {
        cu_api_fail(c->resp, &err);
        return;
    }
    cu_api_ok(c->resp, 201, json_pack("{s:s, s:s, s:o}", "id", id, "subject", c->req->route.subject,
                               "expires_at", cu_json_time(expires)));
}

static void break_glass_list(cu_call *c)
{
    int64_t since = 0;
    if (!cu_api_time_param(c->resp, "since", c->req->q_since, false, &since))
        return;
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_break_glass_list(cu_api_vault(c->api), &c->actor, since, collect_grants, arr, &err)) {
        json_decref(arr);
        {
            cu_api_fail(c->resp, &err);
            return;
        }
    }
    cu_api_ok(c->resp, 200, json_pack("{s:o}", "grants", arr));
}

static void care_team(cu_call *c, bool on)
{
    cu_err err = {0};
    if (cu_care_set(cu_api_vault(c->api), &c->actor, c->req->route.user, c->req->route.subject, on,
                    &err))
        {
            cu_api_fail(c->resp, &err);
            return;
        }
    c->resp->status = 204;
}

void cu_api_access_log(cu_call *c)
{
    access_log(c);
}

void cu_api_break_glass_create(cu_call *c)
{
    break_glass_create(c);
}

void cu_api_break_glass_list(cu_call *c)
{
    break_glass_list(c);
}

void cu_api_care_put(cu_call *c)
{
    care_team(c, true);
}

void cu_api_care_delete(cu_call *c)
{
    care_team(c, false);
}
