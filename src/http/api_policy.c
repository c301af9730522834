/*
 * api_policy.c — the HTTP routes of a controller's policy and the documents
 * made from it: GET and PUT /v1/policy, POST /v1/policy/check, GET
 * /v1/policy/versions, GET /v1/ropa, and the public GET
 * /v1/controllers/{id}/notice.
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

void cu_api_policy_get(cu_call *c)
{
    policy_get(c->api, &c->who, c->resp);
}

void cu_api_policy_put(cu_call *c)
{
    policy_put(c->api, c->req, &c->actor, &c->who, c->resp, true);
}

void cu_api_policy_check(cu_call *c)
{
    policy_put(c->api, c->req, &c->actor, &c->who, c->resp, false);
}

void cu_api_policy_versions(cu_call *c)
{
    policy_versions(c->api, &c->who, c->resp);
}

void cu_api_ropa(cu_call *c)
{
    ropa_get(c->api, c->req, &c->who, c->resp);
}

void cu_api_notice(cu_call *c)
{
    notice_get(c->api, c->req, c->resp);
}
