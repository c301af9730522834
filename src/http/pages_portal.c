/*
 * pages_portal.c — the patient portal (domain/portal.h).
 *
 * POST /v1/subjects/{id}/portal-invitations (JSON API, a bearer token or a
 * staff session's): an invitation, its link and its code.
 *
 * GET /portal/invitation/{pcode} shows the form that sets the password of
 * the invited patient's account; POST takes it. No sign-in: the
 * invitation's single-use code is the authority, and the pages never show
 * who it is for. A password that breaks the rules, or two entries that
 * differ, come back as the form with the error by the field; nothing is
 * stored and the invitation stays usable. An invitation that is used,
 * expired or unknown gets a page that says so in plain words (410, 410,
 * 404). The password is never written back into a page, and its slow hash
 * runs off the store's thread (server.c runs the POST in the steps of a
 * sign-in: cu_pages_portal_prepare, _hash, _finish).
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/portal.h"
#include "http/api_impl.h"
#include "http/assets.h"
#include "http/form.h"
#include "iface/html.h"
#include "iface/link.h"
#include "util/clock.h"

#define FORM_TYPE "application/x-www-form-urlencoded"
#define SERVICE "Patient portal"

static void html_send(cu_http_resp *resp, int status, cu_buf *page)
{
    cu_api_raw(resp, status, page, "text/html; charset=utf-8");
}

/* ---- the JSON API: an invitation ---- */

static int parse_invite_body(const unsigned char *body, size_t n, int *days, cu_err *err)
{
    *days = 0;
    json_t *o = json_loadb((const char *)body, n, JSON_REJECT_DUPLICATES, NULL);
    int rc = CU_OK;
    if (!o || !json_is_object(o))
        rc = cu_err_set(err, CU_EINVAL, "the body must be a JSON object");
    const char *k;
    json_t *v;
    if (!rc)
        json_object_foreach(o, k, v) {
            (void)v;
            if (!rc && strcmp(k, "days") != 0)
                rc = cu_err_set(err, CU_EINVAL, "unknown member (allowed: days)");
        }
    json_t *d = rc ? NULL : json_object_get(o, "days");
    if (d && (!json_is_integer(d) || json_integer_value(d) < 1 ||
              json_integer_value(d) > CU_PORTAL_DAYS_MAX))
        rc = cu_err_set(err, CU_EINVAL, "days must be a whole number from 1 to %d",
                        CU_PORTAL_DAYS_MAX);
    else if (d)
        *days = (int)json_integer_value(d);
    json_decref(o);
    return rc;
}

static void invite(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                   cu_http_resp *resp)
{
    if (!cu_api_json_body(req, resp))
        return;
    int days = 0;
    cu_err err = {0};
    if (parse_invite_body(req->body, req->body_len, &days, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return;
    }
    char code[CU_PORTAL_CODE_STRLEN];
    cu_portal_invitation info;
    if (cu_portal_invite(cu_api_vault(api), actor, req->route.subject, days, code, &info,
                         &err)) {
        cu_api_fail(resp, &err);
        return;
    }
    char path[CU_PORTAL_CODE_STRLEN + 24], when[CU_TIME_STRLEN], url[CU_LINK_MAX];
    snprintf(path, sizeof path, "/portal/invitation/%s", code);
    if (cu_public_link(url, sizeof url, path))
        cu_strlcpy(url, path, sizeof url); /* cannot happen: the URL is bounded */
    cu_time_format(info.expires_at, when);
    cu_api_ok(resp, 201, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", info.id, "path", path,
                                   "url", url, "code", code, "expires_at", when,
                                   "resets_account", info.has_account));
    cu_wipe(code, sizeof code);
    cu_wipe(path, sizeof path);
    cu_wipe(url, sizeof url);
}

bool cu_api_portal_route(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                         cu_http_resp *resp)
{
    if (req->route.id != CU_R_PORTAL_INVITE)
        return false;
    invite(api, req, actor, resp);
    return true;
}

/* ---- the invitation's pages ---- */

static void message(const cu_http_req *req, cu_http_resp *resp, int status, const char *title,
                    const char *para)
{
    char assets[CU_ASSETS_REL_MAX];
    cu_assets_relative(req->path, assets, sizeof assets);
    cu_buf page;
    cu_buf_init(&page, 0);
    if (cu_page_message(&page, assets, title, para, NULL, NULL))
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    else
        html_send(resp, status, &page);
    cu_buf_release(&page);
}

/* The page for an invitation that cannot be used, when peek or use refused. */
static void refused(const cu_http_req *req, cu_http_resp *resp, const cu_err *err)
{
    switch (err->code) {
    case CU_ENOTFOUND:
        message(req, resp, 404, "Page not found",
                "If you typed the web address, check it is correct. If you pasted it, check "
                "you copied the entire address.");
        break;
    case CU_ECONFLICT:
        message(req, resp, 410, "This invitation has already been used",
                "Each invitation can be used once, and this one has been. If you did not use "
                "it, contact your care team: they can send you a new one.");
        break;
    case CU_EDENIED:
        message(req, resp, 410, "This invitation has expired",
                "Invitations work for a limited time. Contact your care team and they can "
                "send you a new one.");
        break;
    case CU_EERASED:
        message(req, resp, 410, "This invitation cannot be used",
                "Contact your care team. They can explain why this invitation cannot be "
                "used.");
        break;
    default: cu_api_fail(resp, err); break;
    }
}

typedef struct pw_form {
    const cu_portal_invitation *info;
    const char *action;
    cu_field_error errors[2];
    size_t nerrors;
} pw_form;

static void field(cu_html *h, const pw_form *f, const char *id, const char *label,
                  const char *hint)
{
    const char *msg = cu_field_error_for(f->errors, f->nerrors, id);
    char hint_id[32], err_id[32], described[64] = "";
    snprintf(hint_id, sizeof hint_id, "%s-hint", id);
    snprintf(err_id, sizeof err_id, "%s-error", id);
    if (hint)
        cu_strlcpy(described, hint_id, sizeof described);
    if (msg) {
        size_t used = strlen(described);
        snprintf(described + used, sizeof described - used, "%s%s", used ? " " : "", err_id);
    }
    cu_html_open(h, "div", "class",
                 msg ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_elem(h, "label", label, "class", "nhsuk-label", "for", id, NULL);
    if (hint)
        cu_html_elem(h, "div", hint, "class", "nhsuk-hint", "id", hint_id, NULL);
    if (msg) {
        cu_html_open(h, "span", "class", "nhsuk-error-message", "id", err_id, NULL);
        cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_textf(h, " %s", msg);
        cu_html_close(h, "span");
    }
    cu_html_void(h, "input", "class",
                 msg ? "nhsuk-input nhsuk-input--error nhsuk-u-width-two-thirds"
                     : "nhsuk-input nhsuk-u-width-two-thirds",
                 "id", id, "name", id, "type", "password", "autocomplete", "new-password",
                 "spellcheck", "false", "aria-describedby", described[0] ? described : NULL,
                 NULL);
    cu_html_close(h, "div");
}

static void form_page(const cu_http_req *req, cu_http_resp *resp, int status, const pw_form *f)
{
    char assets[CU_ASSETS_REL_MAX], until[CU_HTML_DATE_LEN];
    cu_assets_relative(req->path, assets, sizeof assets);
    const char *title = f->info->has_account ? "Choose a new password"
                                             : "Set up your patient portal account";
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_page_begin(&h, &(cu_page){.title = title, .service = SERVICE, .assets = assets,
                                 .error = f->nerrors > 0});
    cu_html_error_summary(&h, f->errors, f->nerrors);
    cu_html_elem(&h, "h1", title, "class", "nhsuk-heading-l", NULL);
    if (f->info->controller_name[0])
        cu_html_elem(&h, "p",
                     f->info->has_account
                         ? "You were sent this invitation to choose a new password for your "
                           "account on the patient portal of:"
                         : "You were invited to the patient portal of:",
                     NULL);
    if (f->info->controller_name[0])
        cu_html_elem(&h, "p", f->info->controller_name, "class", "nhsuk-body-l", NULL);
    cu_html_elem(&h, "p",
                 "With an account you can see the information we hold about you and who has "
                 "looked at your record.",
                 NULL);
    cu_html_open(&h, "p", NULL);
    cu_html_textf(&h, "This invitation works once, until %s.",
                  cu_html_date(f->info->expires_at, until));
    cu_html_close(&h, "p");
    cu_html_open(&h, "form", "method", "post", "action", f->action, "novalidate", CU_HTML_ON,
                 NULL);
    field(&h, f, "password", "Password",
          "At least 12 characters. A few words you will remember, not used anywhere else, "
          "make a good password.");
    field(&h, f, "confirm", "Enter the password again", NULL);
    cu_html_elem(&h, "button", f->info->has_account ? "Save the new password" : "Create account",
                 "type", "submit", "class", "nhsuk-button", NULL);
    cu_html_close(&h, "form");
    cu_page_end(&h);
    if (cu_html_done(&h))
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    else
        html_send(resp, status, &page);
    cu_buf_release(&page);
}

static void done_page(const cu_http_req *req, cu_http_resp *resp, bool reset, const char *name)
{
    char assets[CU_ASSETS_REL_MAX];
    cu_assets_relative(req->path, assets, sizeof assets);
    const char *title = reset ? "Your new password is saved" : "Your account is ready";
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_page_begin(&h, &(cu_page){.title = title, .service = SERVICE, .assets = assets});
    cu_html_open(&h, "div", "class", "nhsuk-panel", NULL);
    cu_html_elem(&h, "h1", title, "class", "nhsuk-panel__title", NULL);
    cu_html_open(&h, "div", "class", "nhsuk-panel__body", NULL);
    cu_html_text(&h, "Your sign-in name is");
    cu_html_void(&h, "br", NULL);
    cu_html_elem(&h, "strong", name, NULL);
    cu_html_close(&h, "div");
    cu_html_close(&h, "div");
    cu_html_elem(&h, "p",
                 "Write down your sign-in name or keep this page: you need it, with your "
                 "password, to sign in. It is not secret, but your password is: never tell "
                 "anyone your password, not even your care team.",
                 NULL);
    cu_html_elem(&h, "p",
                 "This invitation cannot be used again. If you forget your password, ask your "
                 "care team for a new invitation.",
                 NULL);
    cu_page_end(&h);
    if (cu_html_done(&h))
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    else
        html_send(resp, 200, &page);
    cu_buf_release(&page);
}

static void show(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    const char *code = req->route.token;
    cu_portal_invitation info;
    cu_err err = {0};
    if (cu_portal_peek(cu_api_vault(api), code, strlen(code), &info, &err)) {
        refused(req, resp, &err);
        return;
    }
    pw_form f = {.info = &info, .action = code};
    form_page(req, resp, 200, &f);
}

/* The message for a password cu_password_check refuses. */
static const char *password_problem(const char *pw, size_t n)
{
    cu_err e = {0};
    if (!cu_password_check(pw, n, &e))
        return NULL;
    if (n < 12)
        return "Enter a password of at least 12 characters";
    if (n > 256)
        return "Enter a password of 256 characters or fewer";
    return "Enter a password that is not one character repeated";
}

/* Step 1 (the store's thread): the invitation and the form. False after
 * answering (a refusal, a form with errors); true with the password in
 * st->body, to be hashed. */
bool cu_pages_portal_prepare(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                             cu_http_resp *resp)
{
    const char *code = req->route.token;
    const char *ct = req->content_type ? req->content_type : "";
    if (strncmp(ct, FORM_TYPE, sizeof FORM_TYPE - 1) != 0 ||
        (ct[sizeof FORM_TYPE - 1] != '\0' && ct[sizeof FORM_TYPE - 1] != ';')) {
        cu_api_problem(resp, CU_P_MEDIA_TYPE, "the password is sent as a form (" FORM_TYPE ")");
        return false;
    }
    cu_portal_invitation info;
    cu_err err = {0};
    if (cu_portal_peek(cu_api_vault(api), code, strlen(code), &info, &err)) {
        refused(req, resp, &err);
        return false;
    }
    cu_form form;
    if (cu_form_parse((const char *)req->body, req->body_len, &form, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return false;
    }
    const char *pw = cu_form_get(&form, "password");
    const char *again = cu_form_get(&form, "confirm");
    pw_form f = {.info = &info, .action = code};
    size_t n = pw ? strlen(pw) : 0;
    const char *problem = !n ? "Enter a password" : password_problem(pw, n);
    if (problem)
        f.errors[f.nerrors++] = (cu_field_error){"password", problem};
    else if (!again || !*again)
        f.errors[f.nerrors++] = (cu_field_error){"confirm", "Enter the password again"};
    else if (strlen(again) != n || !cu_ct_equal(pw, again, n))
        f.errors[f.nerrors++] = (cu_field_error){"confirm", "Enter the same password twice"};
    if (!f.nerrors && n >= sizeof st->body.password)
        f.errors[f.nerrors++] =
            (cu_field_error){"password", "Enter a password of 256 characters or fewer"};
    if (f.nerrors) {
        cu_form_free(&form);
        form_page(req, resp, 400, &f);
        return false;
    }
    memcpy(st->body.password, pw, n + 1);
    st->body.password_len = n;
    cu_form_free(&form);
    return true;
}

/* Step 2 (an HTTP thread): the slow hash. */
void cu_pages_portal_hash(cu_signin_state *st)
{
    cu_err err = {0};
    st->password_ok = cu_portal_hash_password(st->body.password, st->body.password_len,
                                              st->new_hash, &err) == CU_OK;
    cu_wipe(st->body.password, sizeof st->body.password);
    st->body.password_len = 0;
}

/* Step 3 (the store's thread): the password set and the invitation used. */
void cu_pages_portal_finish(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                            cu_http_resp *resp)
{
    const char *code = req->route.token;
    if (!st->password_ok) {
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
        return;
    }
    cu_portal_invitation info;
    cu_err err = {0};
    char name[CU_PORTAL_NAME_STRLEN];
    int rc = cu_portal_peek(cu_api_vault(api), code, strlen(code), &info, &err);
    if (!rc)
        rc = cu_portal_set_password(cu_api_vault(api), code, strlen(code), st->new_hash,
                                    "http POST /portal/invitation/{pcode}", name, &err);
    cu_wipe(st->new_hash, sizeof st->new_hash);
    if (rc)
        refused(req, resp, &err);
    else
        done_page(req, resp, info.has_account, name);
}

/* The three steps at once, for a caller without a store thread of its own
 * (cu_api_handle called directly). */
static void submit(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    cu_signin_state st;
    memset(&st, 0, sizeof st);
    if (cu_pages_portal_prepare(api, req, &st, resp)) {
        cu_pages_portal_hash(&st);
        cu_pages_portal_finish(api, req, &st, resp);
    }
    cu_wipe(&st, sizeof st);
}

bool cu_pages_portal_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    switch (req->route.id) {
    case CU_R_PORTAL_INVITATION_GET: show(api, req, resp); return true;
    case CU_R_PORTAL_INVITATION_POST: submit(api, req, resp); return true;
    default: return false;
    }
}
