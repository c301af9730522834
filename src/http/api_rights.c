/*
 * api_rights.c — the HTTP routes of a subject's rights to restrict and to
 * object: PUT and DELETE /v1/subjects/{id}/restriction, POST
 * /v1/subjects/{id}/objections, DELETE /v1/subjects/{id}/objections/{purpose}
 * and GET /v1/subjects/{id}/rights.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/consent.h"
#include "http/api_impl.h"
#include "http/assets.h"
#include "domain/erasure.h"
#include "iface/certificate.h"
#include "iface/html.h"
#include "iface/link.h"
#include "iface/notice.h"
#include "iface/receipt.h"
#include "iface/render.h"
#include "util/jsonw.h"

/* ---- restriction and objection ---- */

static void restriction(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                        cu_http_resp *resp, bool on)
{
    cu_err err = {0};
    if (cu_subject_restrict(cu_api_vault(api), actor, req->route.subject, on, &err))
        cu_api_fail(resp, &err);
    else
        resp->status = 204;
}

static void objection(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                      cu_http_resp *resp, bool on)
{
    cu_err err = {0};
    cu_purpose_body b = {{0}};
    if (on) {
        if (!cu_api_json_body(req, resp))
            return;
        if (cu_body_purpose(req->body, req->body_len, &b, &err)) {
            cu_api_problem(resp, CU_P_INVALID, err.msg);
            return;
        }
    } else {
        cu_strlcpy(b.purpose, req->route.purpose, sizeof b.purpose);
    }
    const char *purpose = strcmp(b.purpose, "all") == 0 ? "*" : b.purpose;
    if (cu_subject_object(cu_api_vault(api), actor, req->route.subject, purpose, on, &err)) {
        cu_api_fail(resp, &err);
        return;
    }
    if (!on) {
        resp->status = 204;
        return;
    }
    snprintf(resp->location, sizeof resp->location, "/v1/subjects/%s/rights",
             req->route.subject);
    cu_api_ok(resp, 201, json_pack("{s:s, s:s}", "subject", req->route.subject, "purpose",
                                   b.purpose));
}

static int one_objection(void *ctx, const cu_objection_row *r)
{
    return json_array_append_new(
               ctx, json_pack("{s:s, s:o, s:s, s:o, s:s?}", "purpose",
                              strcmp(r->purpose, "*") == 0 ? "all" : r->purpose, "made_at",
                              cu_json_time(r->made_at), "recorded_by", r->recorded_by,
                              "lifted_at", cu_json_time(r->lifted_at), "lifted_by",
                              r->lifted_by))
               ? CU_ENOMEM
               : CU_OK;
}

static void rights_get(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                       cu_http_resp *resp)
{
    cu_err err = {0};
    int64_t restricted = 0;
    json_t *arr = json_array();
    if (cu_subject_rights(cu_api_vault(api), actor, req->route.subject, &restricted,
                          one_objection, arr, &err)) {
        json_decref(arr);
        cu_api_fail(resp, &err);
        return;
    }
    cu_api_ok(resp, 200, json_pack("{s:s, s:o, s:o}", "subject", req->route.subject,
                                   "restricted_at", cu_json_time(restricted), "objections",
                                   arr));
}

void cu_api_restrict_put(cu_call *c)
{
    restriction(c->api, c->req, &c->actor, c->resp, true);
}

void cu_api_restrict_delete(cu_call *c)
{
    restriction(c->api, c->req, &c->actor, c->resp, false);
}

void cu_api_objection_create(cu_call *c)
{
    objection(c->api, c->req, &c->actor, c->resp, true);
}

void cu_api_objection_delete(cu_call *c)
{
    objection(c->api, c->req, &c->actor, c->resp, false);
}

void cu_api_rights_get(cu_call *c)
{
    rights_get(c->api, c->req, &c->actor, c->resp);
}
