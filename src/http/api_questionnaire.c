/*
 * api_questionnaire.c — the HTTP routes of questionnaire links and responses
 * (see docs/api.md): making a link (POST
 * /v1/subjects/{id}/questionnaire-links), entering a response on the
 * subject's behalf and listing a subject's responses (POST and GET
 * /v1/subjects/{id}/questionnaire-responses). The public pages a link opens
 * are pages_q.c's.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/qresponse.h"
#include "domain/responses.h"
#include "http/api_impl.h"
#include "http/problem.h"
#include "iface/link.h"
#include "iface/receipt.h"
#include "util/clock.h"
#include "util/jsonw.h"

/* The body of POST .../questionnaire-links: {questionnaire, version?,
 * purpose, days?}, nothing else. */
typedef struct link_body {
    char url[CU_Q_MAX_URL + 1];
    char version[65];
    char purpose[65];
    int days;
} link_body;

static int body_str(json_t *o, const char *key, bool required, size_t max, char *out,
                    cu_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return required ? cu_err_set(err, CU_EINVAL, "%s is required", key) : CU_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v))
        return cu_err_set(err, CU_EINVAL, "%s must be a string of 1-%zu characters", key, max);
    cu_strlcpy(out, json_string_value(v), max + 1);
    return CU_OK;
}

static int parse_link_body(const unsigned char *body, size_t n, link_body *b, cu_err *err)
{
    memset(b, 0, sizeof *b);
    json_t *o = json_loadb((const char *)body, n, JSON_REJECT_DUPLICATES, NULL);
    int rc = CU_OK;
    if (!o || !json_is_object(o))
        rc = cu_err_set(err, CU_EINVAL, "the body must be a JSON object");
    const char *k;
    json_t *v;
    if (!rc)
        json_object_foreach(o, k, v) {
            (void)v;
            if (!rc && strcmp(k, "questionnaire") && strcmp(k, "version") &&
                strcmp(k, "purpose") && strcmp(k, "days"))
                rc = cu_err_set(err, CU_EINVAL, "unknown member (allowed: questionnaire, "
                                                "version, purpose, days)");
        }
    if (!rc)
        rc = body_str(o, "questionnaire", true, CU_Q_MAX_URL, b->url, err);
    if (!rc)
        rc = body_str(o, "version", false, 64, b->version, err);
    if (!rc)
        rc = body_str(o, "purpose", true, 64, b->purpose, err);
    json_t *d = rc ? NULL : json_object_get(o, "days");
    if (d && (!json_is_integer(d) || json_integer_value(d) < 1 ||
              json_integer_value(d) > CU_QLINK_DAYS_MAX))
        rc = cu_err_set(err, CU_EINVAL, "days must be a whole number from 1 to %d",
                        CU_QLINK_DAYS_MAX);
    else if (d)
        b->days = (int)json_integer_value(d);
    json_decref(o);
    return rc;
}

static void link_create(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                        cu_http_resp *resp)
{
    if (!cu_api_json_body(req, resp))
        return;
    link_body b;
    cu_err err = {0};
    if (parse_link_body(req->body, req->body_len, &b, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return;
    }
    char token[CU_TOKEN_STRLEN];
    cu_qlink_info info;
    if (cu_qlink_issue(cu_api_vault(api), actor, req->route.subject, b.url,
                       b.version[0] ? b.version : NULL, b.purpose, b.days, token, &info,
                       &err)) {
        cu_api_fail(resp, &err);
        return;
    }
    char path[CU_TOKEN_STRLEN + 4], when[CU_TIME_STRLEN], url[CU_LINK_MAX];
    snprintf(path, sizeof path, "/q/%s", token);
    if (cu_public_link(url, sizeof url, path))
        cu_strlcpy(url, path, sizeof url); /* cannot happen: the URL is bounded */
    cu_time_format(info.expires_at, when);
    cu_api_ok(resp, 201, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "path", path, "url",
                                   url, "token", token, "questionnaire", info.url, "version",
                                   info.version, "purpose", info.purpose, "expires_at", when));
    cu_wipe(token, sizeof token);
    cu_wipe(path, sizeof path);
    cu_wipe(url, sizeof url);
}

static void result_flags(json_t *arr, const cu_response_result *r)
{
    for (size_t i = 0; i < r->nflags; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "rule", r->flags[i].rule,
                                             "level", r->flags[i].level, "task",
                                             r->flags[i].task));
}

static void response_create(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                            cu_http_resp *resp)
{
    if (!cu_api_json_body(req, resp))
        return;
    cu_err err = {0};
    cu_qresponse *own = NULL;
    const cu_qresponse *qr;
    if (req->prep && req->prep->qresponse) {
        /* parsed on the HTTP thread (cu_api_prepare) */
        if (!(qr = req->prep->qr)) {
            cu_api_problem(resp, CU_P_INVALID, req->prep->err.msg);
            return;
        }
    } else if (cu_qresponse_parse(req->body, req->body_len, &own, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return;
    } else {
        qr = own;
    }
    cu_response_result r;
    int rc = cu_response_enter(cu_api_vault(api), actor, req->route.subject, qr->url,
                               qr->version[0] ? qr->version : NULL, NULL, qr->answers, qr->n,
                               qr->has_total ? &qr->total : NULL, &r, &err);
    cu_qresponse_free(own);
    if (rc) {
        cu_api_fail(resp, &err);
        return;
    }
    json_t *flags = json_array();
    result_flags(flags, &r);
    json_t *j = json_pack("{s:s, s:s, s:b, s:o, s:b}", "id", r.id, "subject",
                          req->route.subject, "complete", r.complete, "flags", flags,
                          "total_disagrees", r.total_disagrees);
    if (!r.complete)
        json_object_set_new(j, "missing", json_string(r.missing));
    json_object_set_new(j, "total", r.has_total ? json_integer(r.total) : json_null());
    json_object_set_new(j, "band", r.band[0] ? json_string(r.band) : json_null());
    snprintf(resp->location, sizeof resp->location, "/v1/subjects/%s/questionnaire-responses",
             req->route.subject);
    cu_api_ok(resp, 201, j);
}

static int one_response(void *ctx, const cu_response_view *r)
{
    cu_jw *w = ctx;
    cu_jw_begin_object(w);
    cu_jw_member(w, "id", r->id);
    cu_jw_member(w, "questionnaire", r->url);
    cu_jw_member(w, "version", r->version);
    cu_jw_member_time(w, "authored", r->authored);
    cu_jw_member(w, "via", r->via);
    cu_jw_member(w, "recorded_by", r->recorded_by);
    cu_jw_key(w, "complete");
    cu_jw_bool(w, r->complete);
    cu_jw_key(w, "total");
    if (r->has_total)
        cu_jw_int(w, r->total);
    else
        cu_jw_null(w);
    cu_jw_member(w, "band", r->band[0] ? r->band : NULL);
    cu_jw_key(w, "flags");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < r->nflags; i++) {
        cu_jw_begin_object(w);
        cu_jw_member(w, "rule", r->flags[i].rule);
        cu_jw_member(w, "level", r->flags[i].level);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);
    cu_jw_key(w, "total_disagrees");
    cu_jw_bool(w, r->total_disagrees);
    cu_jw_end_object(w);
    return w->rc;
}

static int responses(cu_vault *v, const cu_actor *a, const char *subject_id, cu_jw *w,
                     cu_err *err)
{
    return cu_response_list(v, a, subject_id, one_response, w, err);
}

void cu_api_qlink_create(cu_call *c)
{
    link_create(c->api, c->req, &c->actor, c->resp);
}

void cu_api_qresponse_create(cu_call *c)
{
    response_create(c->api, c->req, &c->actor, c->resp);
}

void cu_api_qresponse_list(cu_call *c)
{
    cu_api_subject_listing(c->api, c->req, &c->actor, c->resp, "responses", responses);
}
