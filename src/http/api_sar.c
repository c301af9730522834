/*
 * api_sar.c — the HTTP routes of subject access packages, portability
 * exports and the disclosure log: GET and POST /v1/subjects/{id}/sar, GET
 * /v1/subjects/{id}/portability, POST and GET /v1/subjects/{id}/disclosures
 * (see docs/api.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/disclosure.h"
#include "domain/sar.h"
#include "http/api_impl.h"
#include "iface/receipt.h"
#include "iface/render.h"
#include "iface/sar_render.h"
#include "util/jsonw.h"

typedef struct render_ctx {
    cu_sar_format format;
    cu_buf out;
} render_ctx;

static int render_cb(void *ctx, const cu_sar *sar, cu_err *err)
{
    render_ctx *r = ctx;
    return cu_sar_render(sar, r->format, &r->out, err);
}

static void sar_reply(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                      cu_http_resp *resp, const cu_sar_request *sreq, const char *fmt)
{
    int f = cu_sar_format_from_name(fmt);
    if (f < 0 || (sreq->portable && f == CU_SAR_HTML)) {
        cu_api_problem(resp, CU_P_INVALID, sreq->portable ? "format is json or fhir"
                                                          : "format is json, html or fhir");
        return;
    }
    cu_err err = {0};
    render_ctx r = {.format = (cu_sar_format)f};
    cu_buf_init(&r.out, (size_t)256 << 20);
    int rc = cu_sar_run(cu_api_vault(api), actor, req->route.subject, sreq, render_cb, &r, &err);
    if (rc)
        cu_api_fail(resp, &err);
    else
        cu_api_raw(resp, 200, &r.out, cu_sar_content_type((cu_sar_format)f));
    cu_buf_release(&r.out);
}

static void sar_post(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                     cu_http_resp *resp)
{
    if (!cu_api_json_body(req, resp))
        return;
    cu_sar_body *b = malloc(sizeof *b);
    cu_sar_withhold *w = calloc(CU_BODY_MAX_WITHHOLD, sizeof *w);
    cu_err err = {0};
    if (!b || !w) {
        free(b);
        free(w);
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
        return;
    }
    if (cu_body_sar(req->body, req->body_len, b, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
    } else {
        for (size_t i = 0; i < b->nwithhold; i++)
            w[i] = (cu_sar_withhold){.item_id = b->item[i], .reason = b->reason[i]};
        cu_sar_request sreq = {.withhold = w, .nwithhold = b->nwithhold};
        sar_reply(api, req, actor, resp, &sreq, b->format);
    }
    cu_wipe(b, sizeof *b);
    free(b);
    free(w);
}

/* A comma-separated list as an array of strings. */
static void csv_array(cu_jw *w, const char *key, const char *csv)
{
    cu_jw_key(w, key);
    cu_jw_begin_array(w);
    for (const char *p = csv; *p;) {
        size_t n = strcspn(p, ",");
        cu_jw_string(w, p, n);
        p += n + (p[n] == ',');
    }
    cu_jw_end_array(w);
}

static int one_disclosure(void *ctx, const cu_disclosure_view *d)
{
    cu_jw *w = ctx;
    char b[2] = {d->basis, 0};
    cu_jw_begin_object(w);
    cu_jw_member(w, "id", d->id);
    cu_jw_member(w, "recipient_id", d->recipient_id[0] ? d->recipient_id : NULL);
    cu_jw_member_buf(w, "organisation", &d->recipient_name);
    cu_jw_member(w, "basis", b);
    cu_jw_member(w, "purpose", d->purpose);
    cu_jw_member(w, "channel", d->channel);
    csv_array(w, "items", d->items);
    csv_array(w, "categories", d->categories);
    cu_jw_member_time(w, "disclosed_at", d->disclosed_at);
    cu_jw_member_time(w, "recorded_at", d->recorded_at);
    cu_jw_member(w, "recorded_by", d->recorded_by);
    cu_jw_member_buf(w, "note", &d->note);
    cu_jw_end_object(w);
    return w->rc;
}

static int disclosures(cu_vault *v, const cu_actor *a, const char *subject_id, cu_jw *w,
                       cu_err *err)
{
    return cu_disclosure_list(v, a, subject_id, one_disclosure, w, err);
}

static void disclosure_create(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                              cu_http_resp *resp)
{
    if (!cu_api_json_body(req, resp))
        return;
    cu_disclosure_body b;
    cu_err err = {0};
    if (cu_body_disclosure(req->body, req->body_len, &b, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return;
    }
    const char **ids = calloc(b.nitems + 1, sizeof *ids);
    if (!ids) {
        cu_body_disclosure_release(&b);
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
        return;
    }
    for (size_t i = 0; i < b.nitems; i++)
        ids[i] = b.items[i];
    cu_disclosure_in in = {
        .recipient_id = b.recipient_id[0] ? b.recipient_id : NULL,
        .recipient_name = b.organisation[0] ? b.organisation : NULL,
        .basis = b.basis, .channel = b.channel, .items = ids, .nitems = b.nitems,
        .categories = b.categories, .disclosed_at = b.disclosed_at,
        .note = b.note[0] ? b.note : NULL,
    };
    char id[CU_ID_STRLEN];
    int rc = cu_disclosure_record(cu_api_vault(api), actor, req->route.subject, &in, id, &err);
    free(ids);
    cu_body_disclosure_release(&b);
    if (rc) {
        cu_api_fail(resp, &err);
        return;
    }
    snprintf(resp->location, sizeof resp->location, "/v1/subjects/%s/disclosures",
             req->route.subject);
    cu_api_ok(resp, 201, json_pack("{s:s, s:s}", "id", id, "subject", req->route.subject));
}

void cu_api_sar_get(cu_call *c)
{
    cu_sar_request sreq = {0};
    sar_reply(c->api, c->req, &c->actor, c->resp, &sreq,
              c->req->q_format ? c->req->q_format : "json");
}

void cu_api_sar_post(cu_call *c)
{
    sar_post(c->api, c->req, &c->actor, c->resp);
}

void cu_api_portability_get(cu_call *c)
{
    cu_sar_request sreq = {.portable = true};
    sar_reply(c->api, c->req, &c->actor, c->resp, &sreq,
              c->req->q_format ? c->req->q_format : "json");
}

void cu_api_disclosure_create(cu_call *c)
{
    disclosure_create(c->api, c->req, &c->actor, c->resp);
}

void cu_api_disclosure_list(cu_call *c)
{
    cu_api_subject_listing(c->api, c->req, &c->actor, c->resp, "disclosures", disclosures);
}
