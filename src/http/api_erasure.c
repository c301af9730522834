/*
 * api_erasure.c — the HTTP routes of erasure: POST
 * /v1/subjects/{id}/erasure/plan (what would be erased, and what kept and
 * why) and POST /v1/subjects/{id}/erasure (doing it).
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

/* ---- erasure (DPO only: the access decision allows the dpo role) ---- */

static void erasure(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                    cu_http_resp *resp, bool execute)
{
    if (!cu_api_json_body(req, resp))
        return;
    cu_erasure_body b;
    cu_err err = {0};
    if (cu_body_erasure(req->body, req->body_len, &b, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return;
    }
    if (!execute && b.approve_health[0]) {
        cu_api_problem(resp, CU_P_INVALID, "$.approve_health belongs to the execution");
        return;
    }
    cu_erasure_opts o = {.treatment_ended = b.treatment_ended, .died = b.died,
                         .approve = b.approve_health[0] ? b.approve_health : NULL,
                         .api = true};
    cu_erasure_result r;
    int rc = execute ? cu_erasure_execute(cu_api_vault(api), actor, req->route.subject, &o, &r,
                                          &err)
                     : cu_erasure_plan(cu_api_vault(api), actor, req->route.subject, &o, &r,
                                       &err);
    if (rc)
        cu_api_fail(resp, &err);
    else
        cu_api_ok(resp, 200, cu_erasure_json(&r));
    cu_erasure_result_release(&r);
}

void cu_api_erasure_plan(cu_call *c)
{
    erasure(c->api, c->req, &c->actor, c->resp, false);
}

void cu_api_erasure_execute(cu_call *c)
{
    erasure(c->api, c->req, &c->actor, c->resp, true);
}
