/*
 * pages_q.c — the questionnaire a patient opens from a link: GET /q/{token}
 * shows the form (iface/qform.h), POST /q/{token} takes the answers. No
 * sign-in: the link's single-use token is the authority
 * (domain/responses.h), and the pages never show who the link is for.
 *
 * A submission with a field that is wrong or a required answer left empty
 * comes back as the form with the errors by the fields and the answers kept;
 * nothing is stored and the link stays usable. A link that is used, expired,
 * no longer valid (its subject erased) or unknown gets a page that says so
 * in plain words.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/responses.h"
#include "http/api_impl.h"
#include "http/assets.h"
#include "http/form.h"
#include "iface/html.h"
#include "iface/qform.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

static void html(cu_http_resp *resp, int status, cu_buf *page)
{
    cu_api_raw(resp, status, page, "text/html; charset=utf-8");
}

/* A page for a link that cannot be used now: used, expired, unknown, or a
 * subject whose record may not be processed for this purpose. */
static void gone(const cu_http_req *req, cu_http_resp *resp, int status, const char *kind)
{
    char assets[CU_ASSETS_REL_MAX];
    cu_assets_relative(req->path, assets, sizeof assets);
    cu_buf page;
    cu_buf_init(&page, 0);
    int rc = strcmp(kind, "blocked") == 0
                 ? cu_page_message(&page, assets, "This questionnaire cannot be answered now",
                                   "Contact your care team if you want to tell them how you "
                                   "are. They can explain why this link cannot be used.",
                                   NULL, NULL)
                 : cu_qform_gone_page(assets, kind, &page);
    if (rc)
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    else
        html(resp, status, &page);
    cu_buf_release(&page);
}

/* The page for a link's state, when peek or submit refused it. */
static void refused(const cu_http_req *req, cu_http_resp *resp, const cu_qlink_info *info,
                    const cu_err *err)
{
    switch (err->code) {
    case CU_ENOTFOUND: gone(req, resp, 404, "unknown"); break;
    case CU_ECONFLICT: gone(req, resp, 410, "used"); break;
    case CU_EDENIED:
        if (info->state == CU_QLINK_EXPIRED)
            gone(req, resp, 410, "expired");
        else if (info->state == CU_QLINK_RETIRED)
            gone(req, resp, 410, "retired");
        else
            gone(req, resp, 403, "blocked");
        break;
    case CU_EERASED: gone(req, resp, 410, "blocked"); break;
    default: cu_api_fail(resp, err); break;
    }
}

static const char *form_value(void *ctx, const char *name)
{
    return cu_form_get(ctx, name);
}

static void form_page(cu_http_resp *resp, int status, const cu_qform *f)
{
    cu_buf page;
    cu_buf_init(&page, 0);
    if (cu_qform_render(f, &page))
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    else
        html(resp, status, &page);
    cu_buf_release(&page);
}

static void show(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    const char *t = req->route.token;
    cu_qlink_info info = {0};
    cu_questionnaire *q = NULL;
    cu_err err = {0};
    if (cu_qlink_peek(cu_api_vault(api), t, strlen(t), &info, &q, &err)) {
        refused(req, resp, &info, &err);
        return;
    }
    char assets[CU_ASSETS_REL_MAX];
    cu_qform f = {.q = q, .action = req->route.token,
                  .assets = cu_assets_relative(req->path, assets, sizeof assets)};
    form_page(resp, 200, &f);
    cu_questionnaire_free(q);
}

static void submit(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    const char *t = req->route.token;
    const char *ct = req->content_type ? req->content_type : "";
    if (!cu_api_form_type(ct)) {
        cu_api_problem(resp, CU_P_MEDIA_TYPE, "the answers are sent as a form (" FORM_TYPE ")");
        return;
    }
    cu_qlink_info info = {0};
    cu_questionnaire *q = NULL;
    cu_err err = {0};
    if (cu_qlink_peek(cu_api_vault(api), t, strlen(t), &info, &q, &err)) {
        refused(req, resp, &info, &err);
        return;
    }
    /* the form as cu_api_prepare parsed it on the HTTP thread, or parsed here */
    cu_form own = {0};
    const cu_form *prepared = req->prep && req->prep->form ? &req->prep->fields : NULL;
    if (req->prep && req->prep->form && req->prep->err.code) {
        cu_questionnaire_free(q);
        cu_api_problem(resp, CU_P_INVALID, req->prep->err.msg);
        return;
    }
    if (!prepared && cu_form_parse((const char *)req->body, req->body_len, &own, &err)) {
        cu_questionnaire_free(q);
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return;
    }
    /* read only: the form's values are looked up, never changed */
    cu_form *form = prepared ? (cu_form *)prepared : &own;
    cu_qform_answers *a = calloc(1, sizeof *a);
    if (!a) {
        cu_form_free(&own);
        cu_questionnaire_free(q);
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
        return;
    }
    cu_qform_read(q, form_value, form, a);
    char assets[CU_ASSETS_REL_MAX];
    cu_qform f = {.q = q, .action = req->route.token,
                  .assets = cu_assets_relative(req->path, assets, sizeof assets),
                  .errors = a->errors, .nerrors = a->nerrors, .get = form_value, .ctx = form};
    if (a->nerrors) {
        form_page(resp, 400, &f);
    } else {
        cu_response_result r;
        if (cu_qlink_submit_peeked(cu_api_vault(api), t, strlen(t), q, &info, a->a, a->n,
                                   NULL, &r, &err)) {
            if (err.code == CU_EINVAL) {
                /* the answers do not fit the questionnaire (cannot happen
                 * with the form as custos renders it) */
                cu_field_error e = {"maincontent", "Check your answers and send them again"};
                f.errors = &e;
                f.nerrors = 1;
                form_page(resp, 400, &f);
            } else {
                refused(req, resp, &info, &err);
            }
        } else {
            bool urgent = false;
            for (size_t i = 0; i < r.nflags; i++)
                urgent = urgent || strcmp(r.flags[i].level, "urgent") == 0;
            cu_buf page;
            cu_buf_init(&page, 0);
            if (cu_qform_done_page(f.assets, urgent, &page))
                cu_api_problem(resp, CU_P_INTERNAL, NULL);
            else
                html(resp, 200, &page);
            cu_buf_release(&page);
        }
    }
    cu_wipe(a, sizeof *a);
    free(a);
    cu_form_free(&own);
    cu_questionnaire_free(q);
}

bool cu_pages_q_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    switch (req->route.id) {
    case CU_R_QFORM_GET: show(api, req, resp); return true;
    case CU_R_QFORM_POST: submit(api, req, resp); return true;
    default: return false;
    }
}
