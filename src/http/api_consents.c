/*
 * api_consents.c — the HTTP routes of consent: POST and GET
 * /v1/subjects/{id}/consents, POST /v1/subjects/{id}/unsubscribe-links, and
 * the public GET and POST /v1/unsubscribe/{token} a link opens (the link is
 * its own credential).
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

/* ---- consent ---- */

static int list_consent(void *ctx, const cu_consent_view *cv)
{
    cu_jw_consent(ctx, cv);
    return CU_OK;
}

static int consent_history(cu_vault *v, const cu_actor *a, const char *subject_id, cu_jw *w,
                           cu_err *err)
{
    return cu_consent_history(v, a, subject_id, list_consent, w, err);
}

static void consent_create(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                           cu_http_resp *resp)
{
    if (!cu_api_json_body(req, resp))
        return;
    cu_consent_body b;
    cu_err err = {0};
    if (cu_body_consent(req->body, req->body_len, &b, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return;
    }
    cu_consent_in in = {.purpose = b.purpose, .given = b.given, .method = b.method,
                        .evidence = b.evidence, .evidence_len = b.evidence_len};
    char id[CU_ID_STRLEN];
    cu_vault *v = cu_api_vault(api);
    /* The receipt lists this purpose's history, gathered in the same operation
     * (without evidence: the receipt does not repeat it). */
    cu_consent_list c = {.purpose = b.purpose};
    int rc = cu_consent_record(v, actor, req->route.subject, &in, id, cu_consent_keep, &c, &err);
    cu_wipe(&b.evidence, sizeof b.evidence);
    cu_policy *p = NULL;
    cu_buf out;
    cu_buf_init(&out, 0);
    if (!rc && c.n) {
        const cu_consent_view *last = &c.v[c.n - 1];
        if (cu_policy_load(v, last->controller_id, 0, &p, NULL) != CU_OK)
            p = NULL;
        cu_jw w;
        cu_jw_init(&w, &out);
        cu_jw_consent_receipt(&w, last, c.v, c.n, p);
        if (w.rc)
            rc = cu_err_set(&err, CU_ENOMEM, "out of memory");
    }
    cu_policy_free(p);
    cu_consent_list_release(&c);
    if (rc) {
        cu_api_fail(resp, &err);
    } else {
        snprintf(resp->location, sizeof resp->location, "/v1/subjects/%s/consents",
                 req->route.subject);
        cu_api_raw(resp, 201, &out, NULL);
    }
    cu_buf_release(&out);
}

static void unsubscribe_link(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                             cu_http_resp *resp)
{
    if (!cu_api_json_body(req, resp))
        return;
    cu_purpose_body b;
    cu_err err = {0};
    if (cu_body_purpose(req->body, req->body_len, &b, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return;
    }
    char token[CU_TOKEN_STRLEN];
    if (cu_unsubscribe_link(cu_api_vault(api), actor, req->route.subject, b.purpose, token,
                            &err)) {
        cu_api_fail(resp, &err);
        return;
    }
    char path[96], url[CU_LINK_MAX];
    snprintf(path, sizeof path, "/v1/unsubscribe/%s", token);
    if (cu_public_link(url, sizeof url, path))
        cu_strlcpy(url, path, sizeof url); /* cannot happen: the URL is bounded */
    cu_api_ok(resp, 201, json_pack("{s:s, s:s, s:s, s:s}", "purpose", b.purpose, "token", token,
                                   "path", path, "url", url));
    cu_wipe(token, sizeof token);
    cu_wipe(path, sizeof path);
    cu_wipe(url, sizeof url);
}

/* A page of the shared shell (iface/html.h): a heading, a paragraph and
 * maybe the button. */
static void page(const cu_http_req *req, cu_http_resp *resp, int status, const char *title,
                 const char *para, const char *form_action)
{
    char assets[CU_ASSETS_REL_MAX];
    cu_buf out;
    cu_buf_init(&out, 0);
    if (cu_page_message(&out, cu_assets_relative(req->path, assets, sizeof assets), title, para,
                        form_action, "Unsubscribe"))
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    else
        cu_api_raw(resp, status, &out, "text/html; charset=utf-8");
    cu_buf_release(&out);
}

/* GET shows what the link withdraws, with the button; POST (the button) uses
 * it. A link used before says so: unsubscribing twice is not an error for the
 * person doing it. */
static void unsubscribe(cu_api *api, const cu_http_req *req, cu_http_resp *resp, bool use)
{
    cu_err err = {0};
    const char *t = req->route.token;
    cu_buf purpose, controller;
    cu_buf_init(&purpose, 0);
    cu_buf_init(&controller, 0);
    bool used = false;
    if (cu_unsubscribe_peek(cu_api_vault(api), t, strlen(t), &purpose, &controller, &used,
                            &err)) {
        cu_api_fail(resp, &err);
    } else if (used) {
        page(req, resp, 200, "You have unsubscribed",
             "This link was used already: your consent was withdrawn then.", NULL);
    } else if (!use) {
        char para[1200];
        snprintf(para, sizeof para,
                 "Press the button to withdraw your consent to: %s (%s). You will not need "
                 "to sign in, and withdrawing does not affect anything done before.",
                 cu_buf_str(&purpose), cu_buf_str(&controller));
        /* The token alone: a relative reference to this very page, so the
         * form posts back to it wherever a proxy serves custos (a path of
         * its own under --public-url included). */
        page(req, resp, 200, "Unsubscribe", para, t);
    } else if (cu_unsubscribe_use(cu_api_vault(api), t, strlen(t),
                                  "http POST /v1/unsubscribe/{token}", &err)) {
        cu_api_fail(resp, &err);
    } else {
        page(req, resp, 200, "You have unsubscribed",
             "Your consent is withdrawn. We will not use your details for this purpose again "
             "unless you give your consent again.",
             NULL);
    }
    cu_buf_release(&purpose);
    cu_buf_release(&controller);
}

void cu_api_consent_create(cu_call *c)
{
    consent_create(c->api, c->req, &c->actor, c->resp);
}

void cu_api_consent_list(cu_call *c)
{
    cu_api_subject_listing(c->api, c->req, &c->actor, c->resp, "consents", consent_history);
}

void cu_api_unsubscribe_link(cu_call *c)
{
    unsubscribe_link(c->api, c->req, &c->actor, c->resp);
}

void cu_api_unsubscribe_get(cu_call *c)
{
    unsubscribe(c->api, c->req, c->resp, false);
}

void cu_api_unsubscribe_post(cu_call *c)
{
    unsubscribe(c->api, c->req, c->resp, true);
}
