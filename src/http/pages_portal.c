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
 *
 * GET /portal/sign-in shows the sign-in form (the account's sign-in name and
 * password); POST takes it in the steps of a staff sign-in (the password
 * checked off the store's thread), throttled by address and by account,
 * every attempt audited. A patient's session is carried by its own cookie,
 * __Host-custos-portal: the staff cookie opens no page here, and this one
 * no staff page and no API route. /portal (links), /portal/data (what is
 * held, in words) and /portal/access (who accessed the record, refusals
 * explained) each need it; the last two are each one audited operation
 * about the patient's own subject with the patient as actor (portal.data,
 * portal.access). Every form carries a CSRF token bound to the session; the
 * pages never take a subject from the URL.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/integrity.h"
#include "domain/portal.h"
#include "http/api_impl.h"
#include "http/assets.h"
#include "http/console.h"
#include "http/form.h"
#include "http/pages_util.h"
#include "http/portal_pages.h"
#include "http/websec.h"
#include "iface/html.h"
#include "iface/link.h"
#include "iface/sar_render.h"
#include "util/clock.h"

#define FORM_TYPE "application/x-www-form-urlencoded"
#define SERVICE "Patient portal"
#define CSRF_FIELD "csrf_token"

void cu_portal_send(cu_http_resp *resp, int status, cu_buf *page)
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

static void message(cu_api *api, const cu_http_req *req, cu_http_resp *resp, int status,
                    const char *title, const char *para)
{
    char assets[CU_ASSETS_REL_MAX];
    cu_assets_relative(req->path, assets, sizeof assets);
    cu_portal_banner b;
    cu_portal_banner_for(api, req, NULL, NULL, NULL, &b);
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_page_begin(&h, &(cu_page){.title = title, .service = SERVICE, .assets = assets,
                                 .banner = cu_portal_banner_write, .banner_ctx = &b});
    cu_html_elem(&h, "h1", title, "class", "nhsuk-heading-l", NULL);
    cu_html_elem(&h, "p", para, NULL);
    cu_portal_end(&h, resp, status, &page);
}

/* The page for an invitation that cannot be used, when peek or use refused. */
static void refused(cu_api *api, const cu_http_req *req, cu_http_resp *resp, const cu_err *err)
{
    switch (err->code) {
    case CU_ENOTFOUND:
        message(api, req, resp, 404, "Page not found",
                "If you typed the web address, check it is correct. If you pasted it, check "
                "you copied the entire address.");
        break;
    case CU_ECONFLICT:
        message(api, req, resp, 410, "This invitation has already been used",
                "Each invitation can be used once, and this one has been. If you did not use "
                "it, contact your care team: they can send you a new one.");
        break;
    case CU_EDENIED:
        message(api, req, resp, 410, "This invitation has expired",
                "Invitations work for a limited time. Contact your care team and they can "
                "send you a new one.");
        break;
    case CU_EERASED:
        message(api, req, resp, 410, "This invitation cannot be used",
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
    cu_html_input_field(h, &(cu_html_input){.id = id, .label = label, .hint = hint,
                                            .error = cu_field_error_for(f->errors, f->nerrors, id),
                                            .type = "password",
                                            .autocomplete = "new-password"});
}

static void form_page(cu_api *api, const cu_http_req *req, cu_http_resp *resp, int status,
                      const pw_form *f)
{
    cu_portal_banner b;
    cu_portal_banner_for(api, req, f->info->controller_id, NULL, NULL, &b);
    char assets[CU_ASSETS_REL_MAX], until[CU_HTML_DATE_LEN];
    cu_assets_relative(req->path, assets, sizeof assets);
    const char *title = f->info->has_account ? "Choose a new password"
                                             : "Set up your patient portal account";
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_page_begin(&h, &(cu_page){.title = title, .service = SERVICE, .assets = assets,
                                 .error = f->nerrors > 0, .banner = cu_portal_banner_write,
                                 .banner_ctx = &b});
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
    cu_portal_end(&h, resp, status, &page);
}

static void done_page(cu_api *api, const cu_http_req *req, cu_http_resp *resp,
                      const cu_portal_invitation *info, const char *name)
{
    bool reset = info->has_account;
    cu_portal_banner b;
    cu_portal_banner_for(api, req, info->controller_id, NULL, NULL, &b);
    char assets[CU_ASSETS_REL_MAX];
    cu_assets_relative(req->path, assets, sizeof assets);
    const char *title = reset ? "Your new password is saved" : "Your account is ready";
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_page_begin(&h, &(cu_page){.title = title, .service = SERVICE, .assets = assets,
                                 .banner = cu_portal_banner_write, .banner_ctx = &b});
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
    cu_portal_end(&h, resp, 200, &page);
}

static void show(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    const char *code = req->route.token;
    cu_portal_invitation info;
    cu_err err = {0};
    if (cu_portal_peek(cu_api_vault(api), code, strlen(code), &info, &err)) {
        refused(api, req, resp, &err);
        return;
    }
    pw_form f = {.info = &info, .action = code};
    form_page(api, req, resp, 200, &f);
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
        refused(api, req, resp, &err);
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
        form_page(api, req, resp, 400, &f);
        return false;
    }
    memcpy(st->body.password, pw, n + 1);
    st->body.password_len = n;
    cu_form_free(&form);
    return true;
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
        refused(api, req, resp, &err);
    else
        done_page(api, req, resp, &info, name);
}

/* ---- sign-in ---- */

bool cu_portal_form_type(const cu_http_req *req)
{
    const char *ct = req->content_type ? req->content_type : "";
    return strncmp(ct, FORM_TYPE, sizeof FORM_TYPE - 1) == 0 &&
           (ct[sizeof FORM_TYPE - 1] == '\0' || ct[sizeof FORM_TYPE - 1] == ';');
}

void cu_portal_redirect(const cu_http_req *req, cu_http_resp *resp, const char *to)
{
    resp->status = 303;
    if (!cu_path_relative(req->path, to, resp->location, sizeof resp->location))
        cu_strlcpy(resp->location, to, sizeof resp->location);
}

void cu_portal_link_to(const cu_http_req *req, const char *to, char *out, size_t cap)
{
    if (!cu_path_relative(req->path, to, out, cap))
        cu_strlcpy(out, to, cap);
}

typedef struct signin_form {
    const char *name;
    cu_field_error errors[2];
    size_t nerrors;
} signin_form;

static void text_field(cu_html *h, const signin_form *f, const char *id, const char *label,
                       const char *hint, const char *type, const char *autocomplete,
                       const char *value)
{
    cu_html_input_field(h, &(cu_html_input){.id = id, .label = label, .hint = hint,
                                            .error = cu_field_error_for(f->errors, f->nerrors, id),
                                            .type = type, .autocomplete = autocomplete,
                                            .value = value});
}

static void signin_page(cu_api *api, const cu_http_req *req, cu_http_resp *resp, int status,
                        const signin_form *f)
{
    cu_portal_banner b;
    cu_portal_banner_for(api, req, NULL, NULL, NULL, &b);
    char assets[CU_ASSETS_REL_MAX];
    cu_assets_relative(req->path, assets, sizeof assets);
    const char *title = "Sign in to the patient portal";
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_page_begin(&h, &(cu_page){.title = title, .service = SERVICE, .assets = assets,
                                 .error = f->nerrors > 0, .banner = cu_portal_banner_write,
                                 .banner_ctx = &b});
    cu_html_error_summary(&h, f->errors, f->nerrors);
    cu_html_elem(&h, "h1", title, "class", "nhsuk-heading-l", NULL);
    cu_html_elem(&h, "p",
                 "Use the sign-in name you were shown when you set up your account, and your "
                 "password.",
                 NULL);
    cu_html_open(&h, "form", "method", "post", "action", "sign-in", "novalidate", CU_HTML_ON,
                 NULL);
    text_field(&h, f, "name", "Sign-in name", "For example, K7QD-M3MZ-PX2R", "text",
               "username", f->name);
    text_field(&h, f, "password", "Password", NULL, "password", "current-password", NULL);
    cu_html_elem(&h, "button", "Sign in", "type", "submit", "class", "nhsuk-button", NULL);
    cu_html_close(&h, "form");
    cu_html_elem(&h, "p",
                 "If you have forgotten your password or your sign-in name, ask your care team "
                 "for a new invitation.",
                 NULL);
    cu_html_open(&h, "p", NULL);
    cu_html_text(&h, "If you have a letter with an invitation code, ");
    cu_html_elem(&h, "a", "enter your invitation code", "href", "invitation", NULL);
    cu_html_text(&h, ".");
    cu_html_close(&h, "p");
    cu_portal_end(&h, resp, status, &page);
}

/* Step 1 (the store's thread): the form, the throttle, the account's hash. */
bool cu_pages_portal_signin_prepare(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                                    cu_http_resp *resp)
{
    memset(st, 0, sizeof *st);
    cu_form form;
    cu_err err = {0};
    if (cu_fetch_cross_site(req->fetch_site)) {
        signin_page(api, req, resp, 403,
                    &(signin_form){.errors = {{"name", "Sign in on this service's own sign-in "
                                                       "page"}},
                                   .nerrors = 1});
        return false;
    }
    if (!cu_portal_form_type(req) ||
        cu_form_parse((const char *)req->body, req->body_len, &form, &err)) {
        signin_page(api, req, resp, 400,
                    &(signin_form){.errors = {{"name", "Enter your sign-in name"}},
                                   .nerrors = 1});
        return false;
    }
    const char *name = cu_form_get(&form, "name");
    const char *pass = cu_form_get(&form, "password");
    signin_form f = {0};
    char norm[CU_PORTAL_NAME_STRLEN];
    bool name_ok = name && cu_portal_name_normalise(name, strlen(name), norm);
    if (!name || !*name)
        f.errors[f.nerrors++] = (cu_field_error){"name", "Enter your sign-in name"};
    else if (!name_ok)
        f.errors[f.nerrors++] =
            (cu_field_error){"name", "Enter your sign-in name as it was shown to you, like "
                                     "K7QD-M3MZ-PX2R"};
    if (!pass || !*pass)
        f.errors[f.nerrors++] = (cu_field_error){"password", "Enter your password"};
    else if (strlen(pass) >= sizeof st->body.password)
        f.errors[f.nerrors++] =
            (cu_field_error){"password", "Enter a password of 256 characters or fewer"};
    if (f.nerrors) {
        f.name = name_ok ? norm : NULL;
        signin_page(api, req, resp, 400, &f);
        cu_form_free(&form);
        return false;
    }
    cu_strlcpy(st->body.username, norm, sizeof st->body.username);
    st->body.password_len = strlen(pass);
    memcpy(st->body.password, pass, st->body.password_len + 1);
    cu_form_free(&form);
    int wait = cu_api_signin_throttle(api, req);
    if (wait > 0) {
        signin_page(api, req, resp, 429,
                    &(signin_form){.name = st->body.username,
                                   .errors = {{"name", "There have been too many failed "
                                                       "sign-ins from this address. Wait 15 "
                                                       "minutes, then try again"}},
                                   .nerrors = 1});
        resp->retry_after = wait;
        cu_signin_state_clear(st);
        return false;
    }
    bool found = false;
    if (cu_portal_signin_prepare(cu_api_vault(api), st->body.username, &found,
                                 st->acct.user.pwhash, &err)) {
        cu_api_fail(resp, &err);
        cu_signin_state_clear(st);
        return false;
    }
    st->acct.found = found;
    return true;
}

/* Step 3 (the store's thread): the attempt recorded; the cookie and home. */
void cu_pages_portal_signin_finish(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                                   cu_http_resp *resp)
{
    char via[160], token[CU_TOKEN_STRLEN] = "";
    cu_api_signin_via(req, via, sizeof via);
    cu_portal_signin_result res;
    cu_portal_who who;
    cu_err err = {0};
    cu_wipe(st->acct.user.pwhash, sizeof st->acct.user.pwhash);
    if (cu_portal_signin_finish(cu_api_vault(api), st->body.username, st->password_ok, via,
                                &res, token, &who, &err)) {
        cu_api_fail(resp, &err);
        return;
    }
    cu_api_signin_note(api, req, res != CU_PSIGNIN_OK);
    signin_form f = {.name = st->body.username, .nerrors = 1};
    switch (res) {
    case CU_PSIGNIN_OK:
        cu_strlcpy(resp->actor_id, who.actor_name, sizeof resp->actor_id);
        cu_strlcpy(resp->actor_role, "subject", sizeof resp->actor_role);
        if (cu_cookie_set_as(CU_PORTAL_COOKIE, token, cu_api_session_absolute_us(api) / 1000000,
                             resp->set_cookie, sizeof resp->set_cookie)) {
            resp->set_cookie[0] = '\0';
            cu_api_problem(resp, CU_P_INTERNAL, NULL);
            break;
        }
        cu_portal_redirect(req, resp, "/portal");
        break;
    case CU_PSIGNIN_LOCKED:
        f.errors[0] = (cu_field_error){"name", "This account is locked after too many failed "
                                               "sign-ins. Try again later"};
        signin_page(api, req, resp, 429, &f);
        resp->retry_after = 900;
        break;
    case CU_PSIGNIN_BAD_CREDENTIALS:
        /* One answer for every refusal: it does not tell which names exist. */
        f.errors[0] = (cu_field_error){"name", "The sign-in name or password is wrong"};
        signin_page(api, req, resp, 401, &f);
        break;
    }
    cu_wipe(token, sizeof token);
    cu_wipe(&who, sizeof who);
}

static void signin_submit(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    cu_signin_state st;
    memset(&st, 0, sizeof st);
    if (cu_pages_portal_signin_prepare(api, req, &st, resp)) {
        cu_api_signin_check(&st);
        cu_pages_portal_signin_finish(api, req, &st, resp);
    }
    cu_signin_state_clear(&st);
}

/* ---- a patient's pages ---- */

void cu_portal_page_patient(cu_portal_page *c)
{
    char hex[2 * CU_HASH_BYTES + 1];
    cu_hex(c->who.session_hash, CU_HASH_BYTES, hex);
    snprintf(c->session, sizeof c->session, "portal:%s", hex);
    cu_strlcpy(c->resp->actor_id, c->who.actor_name, sizeof c->resp->actor_id);
    cu_strlcpy(c->resp->actor_role, "subject", sizeof c->resp->actor_role);
    const cu_route_def *d = cu_route_get(c->req->route.id);
    snprintf(c->via, sizeof c->via, "http %s %s", d ? d->method : c->req->method,
             d ? d->path : "?");
}

/* The patient the portal cookie names, else a redirect to the sign-in form
 * (the cookie cleared when it named no live session). */
static bool signed_in(cu_portal_page *c)
{
    char token[CU_COOKIE_VALUE_MAX + 1];
    int rc = c->req->cookie ? cu_cookie_get(c->req->cookie, CU_PORTAL_COOKIE, token,
                                            sizeof token)
                            : CU_ENOTFOUND;
    if (rc == CU_OK) {
        cu_err err = {0};
        rc = cu_portal_session(cu_api_vault(c->api), token, strlen(token),
                               cu_api_session_idle_us(c->api),
                               cu_api_session_absolute_us(c->api), &c->who, &err);
        cu_wipe(token, sizeof token);
        if (rc && rc != CU_EDENIED) {
            cu_api_fail(c->resp, &err);
            return false;
        }
        if (rc && cu_cookie_clear_as(CU_PORTAL_COOKIE, c->resp->set_cookie,
                                     sizeof c->resp->set_cookie))
            c->resp->set_cookie[0] = '\0';
    }
    if (rc) {
        cu_portal_redirect(c->req, c->resp, "/portal/sign-in");
        return false;
    }
    cu_portal_page_patient(c);
    cu_assets_relative(c->req->path, c->assets, sizeof c->assets);
    cu_portal_banner_for(c->api, c->req, NULL, &c->who, c->session, &c->banner);
    return true;
}

void cu_portal_csrf_field(cu_html *h, const cu_portal_page *c)
{
    cu_key k;
    cu_err err = {0};
    if (cu_vault_csrf_key(cu_api_vault(c->api), &k, &err)) {
        cu_html_close(h, "!"); /* fails the page: no form without its token */
        return;
    }
    char tok[CU_CSRF_STRLEN];
    cu_csrf_token(&k, c->session, tok);
    cu_wipe(&k, sizeof k);
    cu_html_void(h, "input", "type", "hidden", "name", CSRF_FIELD, "value", tok, NULL);
    cu_wipe(tok, sizeof tok);
}

/* The portal's navigation, in the order shown: the pages a patient comes
 * back to, few enough for one line of the header on a desktop (three on a
 * phone: the long label alone on the second). The rest
 * (downloading, cookies, the privacy notice) are linked from the home page,
 * and cookies from the cookie banner too. */
static const struct {
    const char *path, *label;
} PORTAL_NAV[] = {
    {"/portal", "Home"},
    {"/portal/questionnaires", "Questionnaires"},
    {"/portal/data", "Your data"},
    {"/portal/access", "Who has looked at your record"},
    {"/portal/consents", "Your consent"},
    {"/portal/requests", "Your rights"},
};

/* The shell of a signed-in page: navigation and the sign-out button. */
void cu_portal_begin(cu_html *h, cu_portal_page *c, const char *title, bool wide)
{
    enum { NNAV = sizeof PORTAL_NAV / sizeof PORTAL_NAV[0] };
    char hrefs[NNAV][64], out[64];
    cu_page_link links[NNAV];
    for (size_t i = 0; i < NNAV; i++) {
        cu_portal_link_to(c->req, PORTAL_NAV[i].path, hrefs[i], sizeof hrefs[i]);
        links[i] = (cu_page_link){hrefs[i], PORTAL_NAV[i].label,
                                  strcmp(c->req->path, PORTAL_NAV[i].path) == 0};
    }
    cu_page_begin(h, &(cu_page){.title = title, .service = SERVICE, .assets = c->assets,
                                .wide = wide, .nav = links, .nnav = NNAV,
                                .banner = cu_portal_banner_write, .banner_ctx = &c->banner});
    cu_portal_link_to(c->req, "/portal/sign-out", out, sizeof out);
    cu_html_open(h, "form", "method", "post", "action", out, "novalidate", CU_HTML_ON, "class",
                 "nhsuk-u-margin-bottom-5", NULL);
    cu_portal_csrf_field(h, c);
    cu_html_elem(h, "button", "Sign out", "type", "submit", "class",
                 "nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0", NULL);
    cu_html_close(h, "form");
}

void cu_portal_pagination(cu_html *h, const cu_portal_page *c, const char *path,
                          const char *label, long pageno, size_t pages)
{
    char base[64], prefix[80];
    cu_portal_link_to(c->req, path, base, sizeof base);
    snprintf(prefix, sizeof prefix, "%s?", base);
    cu_console_pagination(h, &(cu_pages_nav){.label = label, .prefix = prefix, .page = pageno,
                                             .pages = pages});
}

void cu_portal_open(cu_html *h, cu_buf *page, cu_portal_page *c, const char *title, bool wide)
{
    cu_buf_init(page, 0);
    cu_html_init(h, page);
    cu_portal_begin(h, c, title, wide);
}

void cu_portal_end(cu_html *h, cu_http_resp *resp, int status, cu_buf *page)
{
    cu_page_end(h);
    if (cu_html_done(h))
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    else
        cu_portal_send(resp, status, page);
    cu_buf_release(page);
}

void cu_portal_finish(cu_html *h, cu_portal_page *c, cu_buf *page)
{
    cu_portal_end(h, c->resp, 200, page);
}

static void home(cu_portal_page *c)
{
    cu_buf page;
    cu_html h;
    cu_portal_open(&h, &page, c, "Your patient portal", false);
    cu_html_elem(&h, "h1", "Your patient portal", "class", "nhsuk-heading-l", NULL);
    cu_html_open(&h, "p", NULL);
    cu_html_textf(&h, "You are signed in as %s.", c->who.name);
    cu_html_close(&h, "p");
    static const struct {
        const char *path, *label, *desc;
    } cards[] = {
        {"/portal/data", "Your data", "See the information we hold about you."},
        {"/portal/access", "Who has looked at your record",
         "See who has accessed your record, when, in what role and why, including attempts "
         "that were refused."},
        {"/portal/questionnaires", "Questionnaires you were sent",
         "Answer the questionnaires your care team asked you to fill in."},
        {"/portal/download", "Download your data",
         "Get a copy of the information we hold about you, as a letter or a file."},
        {"/portal/consents", "Your consent",
         "See what we use your data for only with your consent, and give or withdraw it."},
        {"/portal/requests", "Your rights",
         "Ask for a copy of your data, or to correct, delete or stop using it, and see how "
         "your requests are going."},
        {"/notice", "How we use your data", "Read our privacy notice."},
        {"/portal/cookies", "Cookies", "See the cookies this portal uses and choose which you "
                                       "accept."},
    };
    cu_html_open(&h, "ul", "class", "nhsuk-list", NULL);
    for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
        char href[64];
        cu_portal_link_to(c->req, cards[i].path, href, sizeof href);
        cu_html_open(&h, "li", NULL);
        cu_html_open(&h, "h2", "class", "nhsuk-heading-s nhsuk-u-margin-bottom-1", NULL);
        cu_html_elem(&h, "a", cards[i].label, "href", href, NULL);
        cu_html_close(&h, "h2");
        cu_html_elem(&h, "p", cards[i].desc, NULL);
        cu_html_close(&h, "li");
    }
    cu_html_close(&h, "ul");
    cu_portal_finish(&h, c, &page);
}

typedef struct view_ctx {
    cu_portal_page *c;
    bool access;
    cu_buf page; /* sent once the operation is recorded */
} view_ctx;

/* Renders the page inside the audited operation: a page that cannot be
 * written undoes nothing personal but is a failure all the same. */
static int view_deliver(void *ctx, const cu_sar *sar, cu_err *err)
{
    view_ctx *vc = ctx;
    cu_portal_page *c = vc->c;
    const char *title = vc->access ? "Who has looked at your record" : "Your data";
    cu_html h;
    cu_html_init(&h, &vc->page);
    cu_portal_begin(&h, c, title, true);
    cu_html_elem(&h, "h1", title, "class", "nhsuk-heading-l", NULL);
    if (vc->access) {
        cu_sar_html_access_log(&h, sar);
    } else {
        cu_html_open(&h, "p", NULL);
        cu_html_text(&h, "This is the information ");
        cu_html_text(&h, sar->controller_name[0] ? sar->controller_name : "we");
        cu_html_text(&h, sar->controller_name[0] ? " holds about you." : " hold about you.");
        cu_html_close(&h, "p");
        cu_sar_html_held(&h, sar);
        cu_html_elem(&h, "p",
                     "If something is wrong or missing, tell your care team: you have the "
                     "right to have it corrected.",
                     NULL);
    }
    cu_page_end(&h);
    if (cu_html_done(&h))
        return cu_err_set(err, CU_EINTERNAL, "cannot write the portal's page");
    return CU_OK;
}

void cu_portal_message(cu_portal_page *c, int status, const char *title, const char *para)
{
    cu_buf page;
    cu_html h;
    cu_portal_open(&h, &page, c, title, false);
    cu_html_elem(&h, "h1", title, "class", "nhsuk-heading-l", NULL);
    cu_html_elem(&h, "p", para, NULL);
    cu_portal_end(&h, c->resp, status, &page);
}

static void view(cu_portal_page *c, bool access)
{
    cu_actor a;
    cu_portal_actor(&c->who, c->via, &a);
    cu_sar_request rq = {.portal_action = access ? "portal.access" : "portal.data",
                         .log_only = access};
    view_ctx vc = {.c = c, .access = access};
    cu_buf_init(&vc.page, 0);
    cu_err err = {0};
    int rc = cu_sar_run(cu_api_vault(c->api), &a, c->who.subject_id, &rq, view_deliver, &vc,
                        &err);
    if (!rc)
        cu_portal_send(c->resp, 200, &vc.page);
    cu_buf_release(&vc.page);
    if (!rc)
        return;
    if (rc == CU_EDENIED || rc == CU_ECONCEALED || rc == CU_ENOTFOUND || rc == CU_EERASED)
        cu_portal_message(c, 403, "This page cannot be shown",
                       "Contact your care team. They can tell you why.");
    else
        cu_api_fail(c->resp, &err);
}

bool cu_portal_form(cu_portal_page *c, cu_form *form)
{
    cu_err err = {0};
    if (!cu_portal_form_type(c->req) ||
        cu_form_parse((const char *)c->req->body, c->req->body_len, form, &err)) {
        cu_portal_message(c, 400, "This form could not be read",
                          "Go back to the page, reload it and try again.");
        return false;
    }
    cu_key k;
    bool ok = false;
    if (cu_vault_csrf_key(cu_api_vault(c->api), &k, &err) == CU_OK) {
        ok = cu_form_count(form, CSRF_FIELD) == 1 &&
             cu_csrf_verify(&k, c->session, cu_form_get(form, CSRF_FIELD));
        cu_wipe(&k, sizeof k);
    }
    if (!ok) {
        cu_form_free(form);
        cu_portal_message(c, 403, "This form has expired",
                          "You are still signed in. Go back to the page, reload it and try "
                          "again.");
        return false;
    }
    return true;
}

static void signout(cu_portal_page *c)
{
    cu_form form;
    cu_err err = {0};
    if (!cu_portal_form(c, &form))
        return;
    cu_form_free(&form);
    if (cu_portal_signout(cu_api_vault(c->api), &c->who, c->via, &err)) {
        cu_api_fail(c->resp, &err);
        return;
    }
    if (cu_cookie_clear_as(CU_PORTAL_COOKIE, c->resp->set_cookie, sizeof c->resp->set_cookie))
        c->resp->set_cookie[0] = '\0';
    cu_portal_redirect(c->req, c->resp, "/portal/sign-in");
}

static void signed_in_page(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    cu_portal_page c = {.api = api, .req = req, .resp = resp};
    if (!signed_in(&c))
        return;
    switch (req->route.id) {
    case CU_R_PORTAL_HOME: home(&c); break;
    case CU_R_PORTAL_DATA: view(&c, false); break;
    case CU_R_PORTAL_ACCESS: view(&c, true); break;
    case CU_R_PORTAL_SIGNOUT: signout(&c); break;
    case CU_R_PORTAL_DOWNLOAD: cu_portal_download(&c); break;
    case CU_R_PORTAL_QUESTIONNAIRES: cu_portal_questionnaires(&c); break;
    case CU_R_PORTAL_QUESTIONNAIRE_GET: cu_portal_questionnaire(&c); break;
    case CU_R_PORTAL_QUESTIONNAIRE_POST: cu_portal_questionnaire_submit(&c); break;
    case CU_R_PORTAL_CONSENTS:
    case CU_R_PORTAL_CONSENTS_POST:
    case CU_R_PORTAL_REQUESTS:
    case CU_R_PORTAL_REQUESTS_POST: (void)cu_portal_rights_page(&c); break;
    default: break;
    }
    cu_wipe(&c.who, sizeof c.who);
}

/* The three steps at once, for a caller without a store thread of its own
 * (cu_api_handle called directly). */
static void submit(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    cu_signin_state st;
    memset(&st, 0, sizeof st);
    if (cu_pages_portal_prepare(api, req, &st, resp)) {
        cu_signin_hash(&st);
        cu_pages_portal_finish(api, req, &st, resp);
    }
    cu_wipe(&st, sizeof st);
}

bool cu_pages_portal_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    switch (req->route.id) {
    case CU_R_PORTAL_INVITATION_GET: show(api, req, resp); return true;
    case CU_R_PORTAL_INVITATION_POST: submit(api, req, resp); return true;
    case CU_R_PORTAL_SIGNIN_GET: signin_page(api, req, resp, 200, &(signin_form){0}); return true;
    case CU_R_PORTAL_SIGNIN_POST: signin_submit(api, req, resp); return true;
    case CU_R_PORTAL_HOME:
    case CU_R_PORTAL_DATA:
    case CU_R_PORTAL_ACCESS:
    case CU_R_PORTAL_SIGNOUT:
    case CU_R_PORTAL_DOWNLOAD:
    case CU_R_PORTAL_QUESTIONNAIRES:
    case CU_R_PORTAL_QUESTIONNAIRE_GET:
    case CU_R_PORTAL_QUESTIONNAIRE_POST: signed_in_page(api, req, resp); return true;
    case CU_R_PORTAL_COOKIES_GET:
    case CU_R_PORTAL_COOKIES_POST: cu_pages_portal_cookies(api, req, resp); return true;
    case CU_R_PORTAL_CONSENTS:
    case CU_R_PORTAL_CONSENTS_POST:
    case CU_R_PORTAL_REQUESTS:
    case CU_R_PORTAL_REQUESTS_POST: signed_in_page(api, req, resp); return true;
    case CU_R_PORTAL_CODE_GET:
    case CU_R_PORTAL_CODE_POST: return cu_pages_portal_code_route(api, req, resp);
    default: return false;
    }
}
