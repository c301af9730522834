/*
 * api_policy.c — the HTTP routes of policies, generated documents, consent,
 * unsubscribe links, restriction and objection (see api_impl.h).
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

/* Policies are public documents, but staff act only within their own
 * controller: the one every policy route works on. */
static const char *own_controller(const cu_principal *who, cu_http_resp *resp)
{
    if (!who->controller_id[0]) {
        cu_api_problem(resp, CU_P_FORBIDDEN, "no controller");
        return NULL;
    }
    return who->controller_id;
}

static bool may_manage_policy(const cu_principal *who, cu_http_resp *resp)
{
    if (who->roles & (CU_ROLE_DPO | CU_ROLE_ADMIN))
        return true;
    cu_api_problem(resp, CU_P_FORBIDDEN, "refused (role-not-permitted): only dpo and admin "
                                         "manage the policy and the record of processing");
    return false;
}

static void policy_get(cu_api *api, const cu_principal *who, cu_http_resp *resp)
{
    const char *ctl = own_controller(who, resp);
    if (!ctl)
        return;
    cu_err err = {0};
    cu_policy *p = NULL;
    cu_buf doc;
    cu_buf_init(&doc, CU_POLICY_MAX_BYTES * 2);
    int rc = cu_policy_load(cu_api_vault(api), ctl, 0, &p, &err);
    if (!rc)
        rc = cu_policy_document(cu_api_vault(api), ctl, p->version, &doc, &err);
    json_t *j = rc ? NULL : json_loadb((const char *)doc.data, doc.len, 0, NULL);
    if (!rc && !j)
        rc = cu_err_set(&err, CU_ECORRUPT, "the stored policy is not JSON");
    if (rc)
        cu_api_fail(resp, &err);
    else
        cu_api_ok(resp, 200, json_pack("{s:s, s:I, s:o, s:s, s:o}", "controller", ctl,
                                       "version", (json_int_t)p->version, "applied_at",
                                       cu_json_time(p->applied_at), "digest", p->digest,
                                       "policy", j));
    cu_policy_free(p);
    cu_buf_release(&doc);
}

static void policy_put(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                       const cu_principal *who, cu_http_resp *resp, bool apply)
{
    /* Applying is refused (and audited) at the choke point; checking reads
     * nothing stored, so only the roles that manage the policy may. */
    const char *ctl = own_controller(who, resp);
    if (!ctl || (!apply && !may_manage_policy(who, resp)) || !cu_api_json_body(req, resp))
        return;
    cu_err err = {0};
    cu_pol_report rep = {0};
    int64_t version = 0;
    bool changed = false;
    int rc;
    if (apply) {
        rc = cu_policy_apply(cu_api_vault(api), actor, ctl, req->body, req->body_len, &rep,
                             &version, &changed, &err);
    } else {
        cu_policy *p = NULL;
        rc = cu_policy_parse(req->body, req->body_len, &p, &rep, &err);
        cu_policy_free(p);
    }
    if (!apply && (!rc || rep.nerrors)) {
        cu_api_ok(resp, 200, cu_json_policy_check(&rep));
    } else if (rc && rep.nerrors) {
        /* Every finding, by JSON path, as an extension member of the problem. */
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        json_object_set_new(resp->json, "findings", cu_json_policy_findings(&rep));
    } else if (rc) {
        cu_api_fail(resp, &err);
    } else {
        cu_api_ok(resp, 200, json_pack("{s:s, s:I, s:b, s:o}", "controller", ctl, "version",
                                       (json_int_t)version, "changed", changed, "findings",
                                       cu_json_policy_findings(&rep)));
    }
    cu_pol_report_release(&rep);
}

static int one_version(void *ctx, const cu_policy_version *pv)
{
    return json_array_append_new(ctx, json_pack("{s:I, s:o, s:s, s:s}", "version",
                                                (json_int_t)pv->version, "applied_at",
                                                cu_json_time(pv->applied_at), "applied_by",
                                                pv->applied_by, "digest", pv->digest))
               ? CU_ENOMEM
               : CU_OK;
}

static void policy_versions(cu_api *api, const cu_principal *who, cu_http_resp *resp)
{
    const char *ctl = own_controller(who, resp);
    if (!ctl)
        return;
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_policy_versions(cu_api_vault(api), ctl, one_version, arr, &err)) {
        json_decref(arr);
        cu_api_fail(resp, &err);
        return;
    }
    cu_api_ok(resp, 200, json_pack("{s:s, s:o}", "controller", ctl, "versions", arr));
}

static void ropa_get(cu_api *api, const cu_http_req *req, const cu_principal *who,
                     cu_http_resp *resp)
{
    const char *ctl = own_controller(who, resp);
    if (!ctl || !may_manage_policy(who, resp))
        return;
    const char *fmt = req->q_format ? req->q_format : "json";
    if (strcmp(fmt, "json") != 0 && strcmp(fmt, "csv") != 0) {
        cu_api_problem(resp, CU_P_INVALID, "format is json or csv");
        return;
    }
    cu_err err = {0};
    cu_policy *p = NULL;
    cu_buf out;
    cu_buf_init(&out, 0);
    int rc = cu_policy_load(cu_api_vault(api), ctl, 0, &p, &err);
    const cu_policy *pols[1] = {p};
    const char *ids[1] = {ctl};
    if (!rc)
        rc = cu_ropa_render(pols, ids, 1, fmt[0] == 'c' ? CU_ROPA_CSV : CU_ROPA_JSON, &out,
                            &err);
    cu_policy_free(p);
    if (rc)
        cu_api_fail(resp, &err);
    else
        cu_api_raw(resp, 200, &out,
                   fmt[0] == 'c' ? "text/csv; charset=utf-8" : "application/json");
    cu_buf_release(&out);
}

static void notice_get(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    const char *fmt = req->q_format ? req->q_format : "html";
    if (strcmp(fmt, "html") != 0 && strcmp(fmt, "md") != 0) {
        cu_api_problem(resp, CU_P_INVALID, "format is html or md");
        return;
    }
    cu_err err = {0};
    cu_policy *p = NULL;
    cu_buf out;
    cu_buf_init(&out, 0);
    int rc = cu_id_valid(req->route.subject)
                 ? cu_policy_load(cu_api_vault(api), req->route.subject, 0, &p, &err)
                 : CU_ENOTFOUND;
    /* Public: the answer does not repeat the id asked for (any id, a subject's
     * too, may be put in the path). */
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(&err);
        rc = cu_err_set(&err, CU_ENOTFOUND, "no controller with that id has a privacy notice");
    }
    char assets[CU_ASSETS_REL_MAX];
    if (!rc)
        rc = cu_notice_render_page(p, fmt[0] == 'h' ? CU_NOTICE_HTML : CU_NOTICE_MD,
                                   cu_assets_relative(req->path, assets, sizeof assets), &out,
                                   &err);
    cu_policy_free(p);
    if (rc)
        cu_api_fail(resp, &err);
    else
        cu_api_raw(resp, 200, &out,
                   fmt[0] == 'h' ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8");
    cu_buf_release(&out);
}

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

bool cu_api_public_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    switch (req->route.id) {
    case CU_R_NOTICE: notice_get(api, req, resp); return true;
    case CU_R_UNSUBSCRIBE_GET: unsubscribe(api, req, resp, false); return true;
    case CU_R_UNSUBSCRIBE_POST: unsubscribe(api, req, resp, true); return true;
    default: return cu_pages_q_route(api, req, resp);
    }
}

bool cu_api_policy_route(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                         const cu_principal *who, cu_http_resp *resp)
{
    switch (req->route.id) {
    case CU_R_POLICY_GET: policy_get(api, who, resp); return true;
    case CU_R_POLICY_PUT: policy_put(api, req, actor, who, resp, true); return true;
    case CU_R_POLICY_CHECK: policy_put(api, req, actor, who, resp, false); return true;
    case CU_R_POLICY_VERSIONS: policy_versions(api, who, resp); return true;
    case CU_R_ROPA: ropa_get(api, req, who, resp); return true;
    case CU_R_CONSENT_CREATE: consent_create(api, req, actor, resp); return true;
    case CU_R_CONSENT_LIST:
        cu_api_subject_list(api, req, actor, resp, "consents", consent_history);
        return true;
    case CU_R_UNSUBSCRIBE_LINK: unsubscribe_link(api, req, actor, resp); return true;
    case CU_R_RESTRICT_PUT: restriction(api, req, actor, resp, true); return true;
    case CU_R_RESTRICT_DELETE: restriction(api, req, actor, resp, false); return true;
    case CU_R_OBJECTION_CREATE: objection(api, req, actor, resp, true); return true;
    case CU_R_OBJECTION_DELETE: objection(api, req, actor, resp, false); return true;
    case CU_R_RIGHTS_GET: rights_get(api, req, actor, resp); return true;
    case CU_R_ERASURE_PLAN: erasure(api, req, actor, resp, false); return true;
    case CU_R_ERASURE_EXECUTE: erasure(api, req, actor, resp, true); return true;
    default: return false;
    }
}
