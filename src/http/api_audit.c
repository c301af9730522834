/*
 * api_audit.c — the HTTP routes of the audit trail: GET /v1/audit (paged,
 * filtered by subject, actor and time) and GET /v1/audit/verify.
 */
#include <stdio.h>
#include <string.h>

#include "domain/input.h"
#include "domain/subject.h"
#include "http/api_impl.h"
#include "iface/render.h"

static void audit_list(cu_call *c)
{
    const cu_http_req *r = c->req;
    cu_audit_filter f = {.subject_id = r->q_subject, .actor = r->q_actor, .limit = 1000};
    if (r->q_subject && !cu_id_valid(r->q_subject)) {
        cu_api_problem(c->resp, CU_P_INVALID, "subject must be a subject id");
        return;
    }
    if (r->q_actor && !cu_actor_valid(r->q_actor)) {
        cu_api_problem(c->resp, CU_P_INVALID, "actor must be a user name");
        return;
    }
    if (!cu_api_time_param(c->resp, "since", r->q_since, false, &f.since_us) ||
        !cu_api_time_param(c->resp, "until", r->q_until, true, &f.until_us))
        return;
    /* enough events for the page and one more (to know whether more follow) */
    f.limit = (int64_t)(c->page_at + (uint64_t)c->page_limit + 1);
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_audit_list(cu_api_vault(c->api), &c->actor, &f, false, cu_api_collect_event, arr, &err)) {
        json_decref(arr);
        {
            cu_api_fail(c->resp, &err);
            return;
        }
    }
    cu_api_ok(c->resp, 200, json_pack("{s:o}", "events", arr));
}

static void audit_verify(cu_call *c)
{
    cu_err err = {0};
    cu_verify_report rep;
    if (cu_audit_check(cu_api_vault(c->api), &c->actor, &rep, &err)) {
        cu_api_fail(c->resp, &err);
        return;
    }
    json_t *j = json_pack("{s:b, s:I, s:I}", "ok", rep.ok, "events", (json_int_t)rep.events,
                          "signatures", (json_int_t)rep.checkpoints);
    if (!rep.ok) {
        json_object_set_new(j, "first_bad_event", json_integer(rep.first_bad));
        json_object_set_new(j, "problem", json_string(rep.reason));
    }
    cu_api_ok(c->resp, 200, j);
}

void cu_api_audit_list(cu_call *c)
{
    audit_list(c);
}

void cu_api_audit_verify(cu_call *c)
{
    audit_verify(c);
}
