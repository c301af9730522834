/*
 * api_util.c — small response helpers shared by the files that implement the
 * HTTP API's routes (see api_impl.h).
 */
#include <stdio.h>
#include <string.h>

#include "http/api_impl.h"
#include "iface/render.h"

void cu_api_raw(cu_http_resp *resp, int status, cu_buf *body, const char *content_type)
{
    resp->status = status;
    resp->raw = *body;
    resp->content_type = content_type;
    cu_buf_init(body, 0);
}

void cu_api_subject_listing(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                            cu_http_resp *resp, const char *key, cu_api_list_fn list)
{
    cu_err err = {0};
    cu_buf out;
    cu_buf_init(&out, 0);
    cu_jw w;
    cu_jw_init(&w, &out);
    cu_jw_begin_object(&w);
    cu_jw_key(&w, "subject");
    cu_jw_str(&w, req->route.subject);
    cu_jw_key(&w, key);
    cu_jw_begin_array(&w);
    int rc = list(cu_api_vault(api), actor, req->route.subject, &w, &err);
    cu_jw_end_array(&w);
    cu_jw_end_object(&w);
    if (!rc && w.rc)
        rc = cu_err_set(&err, CU_ENOMEM, "out of memory");
    if (rc)
        cu_api_fail(resp, &err);
    else
        cu_api_raw(resp, 200, &out, NULL);
    cu_buf_release(&out);
}

bool cu_api_time_param(cu_http_resp *resp, const char *name, const char *v, bool end,
                       int64_t *out)
{
    if (!v)
        return true;
    if (!cu_time_parse(v, strlen(v), out)) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", name);
        cu_api_problem(resp, CU_P_INVALID, msg);
        return false;
    }
    if (end && strlen(v) == 10)
        *out += 86400000000LL - 1;
    return true;
}

int cu_api_collect_event(void *ctx, const cu_audit_decoded *e, const cu_buf *payload)
{
    json_array_append_new(ctx, cu_json_event(e, payload));
    return 0;
}

