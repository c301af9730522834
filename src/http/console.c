/*
 * console.c — what every page of the staff console shares (console.h):
 * sign-in and sign-out, the session of a request, the page shell and its
 * navigation, CSRF-checked forms; and the navigation's pages.
 *
 * A session is the API's (staff.h), carried by the __Host-custos cookie
 * (websec.h) instead of a bearer token: the same idle and absolute expiry,
 * revocation and sign-in throttle and audit. A page without a valid session
 * redirects to the sign-in form; every form carries the session's CSRF token,
 * checked before anything is read or changed. Each route's page is in the
 * route table (routes.c), which cu_api_handle serves through cu_console_serve.
 *
 * Links, form actions and redirects are relative to the page's own path
 * (pages_util.h), so the console works under a proxy's path prefix.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/integrity.h"
#include "http/api_impl.h"
#include "http/console.h"
#include "http/log.h"
#include "http/pages_util.h"
#include "http/websec.h"
#include "iface/wording.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

/* The console's navigation: for the pages in the header, the label and the
 * roles that see it (each route's page is in the route table, routes.c). */
static const struct console_nav {
    cu_route_id route;
    const char *nav;  /* label in the navigation */
    unsigned roles;   /* roles that see it in the navigation */
} NAV[] = {
    {CU_R_STAFF_HOME, "Home", CU_ROLE_CLINICIAN},
    {CU_R_STAFF_TASKS, "Tasks", CU_ROLE_CLINICIAN},
    {CU_R_STAFF_PATIENTS, "Patients", CU_ROLE_CLINICIAN},
    {CU_R_STAFF_REQUESTS, "Rights requests", CU_ROLE_DPO},
    {CU_R_STAFF_POLICY, "Policy", CU_ROLE_DPO | CU_ROLE_ADMIN},
    {CU_R_STAFF_AUDIT, "Audit trail", CU_ROLE_AUDITOR},
    {CU_R_STAFF_ACCOUNTS, "Staff accounts", CU_ROLE_ADMIN},
};
#define NNAV (sizeof NAV / sizeof NAV[0])

bool cu_console_form_type(const cu_http_req *req)
{
    const char *ct = req->content_type ? req->content_type : "";
    size_t n = sizeof FORM_TYPE - 1;
    return strncmp(ct, FORM_TYPE, n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

static void send_page(cu_http_resp *resp, int status, cu_buf *page)
{
    cu_api_raw(resp, status, page, "text/html; charset=utf-8");
}

/* A finished page, or the problem when it could not be written. */
void cu_console_finish(cu_html *h, cu_http_resp *resp, int status, cu_buf *page)
{
    if (cu_html_done(h))
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    else
        send_page(resp, status, page);
    cu_buf_release(page);
}

/* 303 See Other to the absolute path to, as a reference relative to the
 * request's path. */
void cu_console_redirect(const cu_http_req *req, cu_http_resp *resp, const char *to)
{
    resp->status = 303;
    if (!cu_path_relative(req->path, to, resp->location, sizeof resp->location))
        cu_strlcpy(resp->location, to, sizeof resp->location);
}

void cu_console_link(const cu_console *c, const char *to, char *out, size_t cap)
{
    if (!cu_path_relative(c->req->path, to, out, cap))
        cu_strlcpy(out, to, cap);
}

/* A page of a heading and a paragraph (and a link back when back is given). */
void cu_console_message(cu_console *c, int status, const char *title, const char *para,
                    const char *back)
{
    cu_buf page;
    cu_buf_init(&page, 0);
    char href[128] = "";
    if (back)
        cu_console_link(c, back, href, sizeof href);
    cu_html h;
    cu_html_init(&h, &page);
    cu_page_begin(&h, &(cu_page){.title = title, .service = CU_CONSOLE_SERVICE, .assets = c->assets,
                                 .back_href = back ? href : NULL});
    cu_html_elem(&h, "h1", title, NULL);
    cu_html_elem(&h, "p", para, NULL);
    cu_page_end(&h);
    cu_console_finish(&h, c->resp, status, &page);
}

/* The hidden field of a signed-in form. */
void cu_console_summary_row(cu_html *h, const char *key, const char *value)
{
    cu_html_open(h, "div", "class", "nhsuk-summary-list__row", NULL);
    cu_html_elem(h, "dt", key, "class", "nhsuk-summary-list__key", NULL);
    cu_html_elem(h, "dd", value, "class", "nhsuk-summary-list__value", NULL);
    cu_html_close(h, "div");
}

void cu_console_page_link(cu_html *h, bool next, const char *href, const char *title)
{
    cu_html_open(h, "li", "class",
                 next ? "nhsuk-pagination-item--next" : "nhsuk-pagination-item--previous", NULL);
    cu_html_open(h, "a", "class",
                 next ? "nhsuk-pagination__link nhsuk-pagination__link--next"
                      : "nhsuk-pagination__link nhsuk-pagination__link--prev",
                 "href", href, NULL);
    cu_html_elem(h, "span", title, "class", "nhsuk-pagination__title", NULL);
    cu_html_close(h, "a");
    cu_html_close(h, "li");
}

void cu_console_pagination(cu_html *h, const cu_pages_nav *n)
{
    if (n->pages <= 1)
        return;
    size_t last = n->linked && n->linked < n->pages ? n->linked : n->pages;
    cu_html_open(h, "nav", "class", "nhsuk-pagination", "role", "navigation", "aria-label",
                 n->label, NULL);
    cu_html_open(h, "ul", "class", "nhsuk-list nhsuk-pagination__list", NULL);
    char href[512];
    for (int dir = 0; dir < 2; dir++) {
        long to = dir ? n->page + 1 : n->page - 1;
        if (to < 1 || (size_t)to > last)
            continue;
        snprintf(href, sizeof href, "%spage=%ld", n->prefix, to);
        cu_console_page_link(h, dir, href,
                             dir ? (n->next ? n->next : "Next")
                                 : (n->prev ? n->prev : "Previous"));
    }
    cu_html_close(h, "ul");
    cu_html_close(h, "nav");
    cu_html_open(h, "p", NULL);
    cu_html_textf(h, "Page %ld of %zu.", n->page, n->pages);
    cu_html_close(h, "p");
}

void cu_console_csrf(cu_html *h, const cu_console *c)
{
    if (!c->csrf[0]) {
        cu_html_close(h, "!"); /* fails the page: no form without its token */
        return;
    }
    cu_html_void(h, "input", "type", "hidden", "name", CU_CONSOLE_CSRF_FIELD, "value", c->csrf,
                 NULL);
}

/* Who is signed in, and the sign-out button, at the top of the content. */
static void signed_in_as(cu_html *h, const cu_console *c)
{
    char action[128], everywhere[128];
    cu_console_link(c, "/staff/sign-out", action, sizeof action);
    cu_console_link(c, "/staff/sign-out-everywhere", everywhere, sizeof everywhere);
    cu_html_open(h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON,
                 "class", "nhsuk-u-margin-bottom-5", NULL);
    cu_console_csrf(h, c);
    cu_html_open(h, "p", "class", "nhsuk-body-s nhsuk-u-margin-bottom-2", NULL);
    cu_html_textf(h, "Signed in as %s.", c->who.name);
    cu_html_close(h, "p");
    cu_html_elem(h, "button", "Sign out", "type", "submit", "class",
                 "nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0 "
                 "nhsuk-u-margin-right-3",
                 NULL);
    cu_html_elem(h, "button", "Sign out on every device", "type", "submit", "formaction",
                 everywhere, "class",
                 "nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0", NULL);
    cu_html_close(h, "form");
}

/* The page shell with the console's pages in the header's navigation. */
void cu_console_begin(cu_html *h, cu_console *c, const char *title, bool wide)
{
    enum { MAX_NAV = 8 };
    char hrefs[MAX_NAV][128];
    cu_page_link nav[MAX_NAV];
    size_t n = 0;
    for (size_t i = 0; i < NNAV && n < MAX_NAV; i++) {
        if (!NAV[i].nav || !(NAV[i].roles & c->who.roles))
            continue;
        const char *path = cu_route_get(NAV[i].route)->path;
        cu_console_link(c, path, hrefs[n], sizeof hrefs[n]);
        nav[n] = (cu_page_link){hrefs[n], NAV[i].nav, strcmp(c->req->path, path) == 0};
        n++;
    }
    cu_page_begin(h, &(cu_page){.title = title, .service = CU_CONSOLE_SERVICE,
                                .assets = c->assets, .wide = wide, .nav = nav, .nnav = n});
    signed_in_as(h, c);
}

/* The session the cookie names, else a redirect to the sign-in form (and
 * the cookie cleared when it named no live session). */
static bool console_signed_in(cu_console *c)
{
    char token[CU_COOKIE_VALUE_MAX + 1];
    int rc = c->req->cookie ? cu_cookie_get(c->req->cookie, CU_SESSION_COOKIE, token,
                                            sizeof token)
                            : CU_ENOTFOUND;
    if (rc == CU_OK) {
        cu_err err = {0};
        rc = cu_authenticate(cu_api_vault(c->api), token, strlen(token),
                             cu_api_session_idle_us(c->api),
                             cu_api_session_absolute_us(c->api), &c->who, &err);
        cu_wipe(token, sizeof token);
        if (rc == CU_ETAMPER)
            cu_log_msg(CU_LOG_ERROR, "error", "credentials refused: %s", err.msg);
        if (rc == CU_OK && c->who.token)
            rc = CU_EDENIED; /* an API token is no browser session */
        if (rc && rc != CU_EDENIED && rc != CU_ETAMPER) {
            cu_api_fail(c->resp, &err);
            return false;
        }
        if (rc && cu_cookie_clear(c->resp->set_cookie, sizeof c->resp->set_cookie))
            c->resp->set_cookie[0] = '\0';
    }
    if (rc) {
        cu_console_redirect(c->req, c->resp, "/staff/sign-in");
        return false;
    }
    cu_hex(c->who.session_hash, sizeof c->who.session_hash, c->session);
    /* The token every form of the page carries: one MAC per request, not
     * per form (wiped with c). */
    cu_key k;
    cu_err kerr = {0};
    if (cu_vault_csrf_key(cu_api_vault(c->api), &k, &kerr) == CU_OK) {
        cu_csrf_token(&k, c->session, c->csrf);
        cu_wipe(&k, sizeof k);
    } else {
        c->csrf[0] = '\0';
    }
    cu_strlcpy(c->resp->actor_id, c->who.id, sizeof c->resp->actor_id);
    cu_strlcpy(c->resp->actor_role, c->who.roles_text, sizeof c->resp->actor_role);
    cu_principal_actor(&c->who, NULL, c->via, &c->actor);
    return true;
}

/* A POST's form, its CSRF token checked against the session: false with a
 * 403 page (nothing read or changed) when it is missing or wrong. */
bool cu_console_form(cu_console *c, cu_form *form)
{
    cu_err err = {0};
    form->n = 0;
    form->f = NULL;
    form->text = NULL;
    if (!cu_console_form_type(c->req) ||
        cu_form_parse((const char *)c->req->body, c->req->body_len, form, &err)) {
        cu_console_message(c, 400, "This form could not be read",
                "Go back to the page, reload it and try again.", "/staff");
        return false;
    }
    cu_key k;
    bool ok = false;
    if (cu_vault_csrf_key(cu_api_vault(c->api), &k, &err) == CU_OK) {
        ok = cu_form_count(form, CU_CONSOLE_CSRF_FIELD) == 1 &&
             cu_csrf_verify(&k, c->session, cu_form_get(form, CU_CONSOLE_CSRF_FIELD));
        cu_wipe(&k, sizeof k);
    }
    if (!ok) {
        cu_form_free(form);
        cu_console_message(c, 403, "This form has expired",
                "Nothing was changed. Go back to the page, reload it and try again.",
                "/staff");
    }
    return ok;
}

/* ---- sign-in ---- */

typedef struct signin_form {
    const char *username;
    bool code_field;
    const cu_field_error *errors;
    size_t nerrors;
} signin_form;

static void signin_page(const cu_http_req *req, cu_http_resp *resp, int status,
                        const signin_form *f)
{
    char assets[CU_ASSETS_REL_MAX];
    cu_assets_relative(req->path, assets, sizeof assets);
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_page_begin(&h, &(cu_page){.title = "Sign in", .service = CU_CONSOLE_SERVICE, .assets = assets,
                                 .error = f->nerrors > 0});
    cu_html_error_summary(&h, f->errors, f->nerrors);
    cu_html_elem(&h, "h1", "Sign in", NULL);
    cu_html_open(&h, "form", "method", "post", "action", "sign-in", "novalidate", CU_HTML_ON,
                 NULL);
    static const struct {
        const char *id, *label, *type, *autocomplete, *hint;
    } fields[] = {
        {"username", "Username", "text", "username", NULL},
        {"password", "Password", "password", "current-password", NULL},
        {"code", "One-time code", "text", "one-time-code",
         "The 6-digit code from your authenticator app"},
    };
    for (size_t i = 0; i < 3; i++) {
        if (i == 2 && !f->code_field)
            break;
        cu_html_input_field(&h, &(cu_html_input){
                                    .id = fields[i].id, .label = fields[i].label,
                                    .hint = fields[i].hint,
                                    .error = cu_field_error_for(f->errors, f->nerrors,
                                                                fields[i].id),
                                    .type = fields[i].type,
                                    .autocomplete = fields[i].autocomplete,
                                    .inputmode = i == 2 ? "numeric" : NULL,
                                    .value = i == 0 && f->username ? f->username : NULL});
    }
    cu_html_elem(&h, "button", "Sign in", "type", "submit", "class", "nhsuk-button", NULL);
    cu_html_close(&h, "form");
    cu_page_end(&h);
    cu_console_finish(&h, resp, status, &page);
}

static void signin_get(const cu_http_req *req, cu_http_resp *resp)
{
    signin_page(req, resp, 200, &(signin_form){0});
}

bool cu_pages_signin_prepare(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                             cu_http_resp *resp)
{
    memset(st, 0, sizeof *st);
    cu_form form;
    cu_err err = {0};
    if (cu_fetch_cross_site(req->fetch_site)) {
        cu_field_error e = {"username", "Sign in on this service's own sign-in page"};
        signin_page(req, resp, 403, &(signin_form){.errors = &e, .nerrors = 1});
        return false;
    }
    if (!cu_console_form_type(req) ||
        cu_form_parse((const char *)req->body, req->body_len, &form, &err)) {
        cu_field_error e = {"username", "Enter your username"};
        signin_page(req, resp, 400, &(signin_form){.errors = &e, .nerrors = 1});
        return false;
    }
    const char *user = cu_form_get(&form, "username");
    const char *pass = cu_form_get(&form, "password");
    const char *code = cu_form_get(&form, "code");
    cu_field_error e[3];
    size_t ne = 0;
    if (!user || !*user)
        e[ne++] = (cu_field_error){"username", "Enter your username"};
    else if (strlen(user) >= sizeof st->body.username || !cu_name_valid(user))
        e[ne++] = (cu_field_error){"username", "Enter your username as it was given to you"};
    if (!pass || !*pass)
        e[ne++] = (cu_field_error){"password", "Enter your password"};
    else if (strlen(pass) >= sizeof st->body.password)
        e[ne++] = (cu_field_error){"password", "Enter a password of 256 characters or fewer"};
    if (code && *code) {
        size_t n = strlen(code);
        bool digits = n == 6;
        for (size_t i = 0; digits && i < n; i++)
            digits = code[i] >= '0' && code[i] <= '9';
        if (!digits)
            e[ne++] = (cu_field_error){"code", "Enter the 6-digit code from your authenticator "
                                               "app"};
    }
    if (ne) {
        signin_page(req, resp, 400,
                    &(signin_form){.username = user && cu_name_valid(user) ? user : NULL,
                                   .code_field = code != NULL, .errors = e, .nerrors = ne});
        cu_form_free(&form);
        return false;
    }
    cu_strlcpy(st->body.username, user, sizeof st->body.username);
    st->body.password_len = strlen(pass);
    memcpy(st->body.password, pass, st->body.password_len + 1);
    if (code)
        cu_strlcpy(st->body.code, code, sizeof st->body.code);
    cu_form_free(&form);
    int wait = cu_api_signin_account(api, req, st, &err);
    if (wait > 0) {
        cu_field_error te = {"username", "There have been too many failed sign-ins from this "
                                         "address. Wait 15 minutes, then try again"};
        signin_page(req, resp, 429,
                    &(signin_form){.username = st->body.username, .errors = &te, .nerrors = 1});
        resp->retry_after = wait;
        cu_signin_state_clear(st);
        return false;
    }
    if (wait < 0) {
        cu_api_fail(resp, &err);
        cu_signin_state_clear(st);
        return false;
    }
    return true;
}

void cu_pages_signin_finish(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                            cu_http_resp *resp)
{
    char token[CU_TOKEN_STRLEN];
    cu_signin_result res;
    cu_principal p;
    if (!cu_api_signin_record(api, req, st, &res, token, &p, resp))
        return;
    signin_form f = {.username = st->body.username, .code_field = st->body.code[0] != '\0'};
    cu_field_error e;
    switch (res) {
    case CU_SIGNIN_OK:
        if (cu_cookie_set(token, cu_api_session_absolute_us(api) / 1000000, resp->set_cookie,
                          sizeof resp->set_cookie)) {
            resp->set_cookie[0] = '\0';
            cu_api_problem(resp, CU_P_INTERNAL, NULL);
            break;
        }
        cu_console_redirect(req, resp, "/staff");
        break;
    case CU_SIGNIN_CODE_REQUIRED:
        e = (cu_field_error){"code", "Enter the 6-digit code from your authenticator app"};
        f.code_field = true;
        f.errors = &e;
        f.nerrors = 1;
        signin_page(req, resp, 401, &f);
        break;
    case CU_SIGNIN_LOCKED:
        e = (cu_field_error){"username", "This account is locked after too many failed "
                                         "sign-ins. Try again later"};
        f.errors = &e;
        f.nerrors = 1;
        signin_page(req, resp, 429, &f);
        resp->retry_after = 900;
        break;
    case CU_SIGNIN_BAD_CODE:
    case CU_SIGNIN_BAD_CREDENTIALS:
    case CU_SIGNIN_DISABLED:
        /* One answer for every refusal, so it does not tell which accounts exist. */
        e = (cu_field_error){"username", "The username, password or code is wrong"};
        f.errors = &e;
        f.nerrors = 1;
        signin_page(req, resp, 401, &f);
        break;
    }
    cu_wipe(token, sizeof token);
}

/* Sign-out: this session, or every session of the account (everywhere). */
static void signout(cu_console *c, bool everywhere)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    cu_form_free(&form);
    cu_err err = {0};
    if ((everywhere ? cu_signout_everywhere : cu_signout)(cu_api_vault(c->api), &c->who, c->via,
                                                          &err)) {
        cu_api_fail(c->resp, &err);
        return;
    }
    if (cu_cookie_clear(c->resp->set_cookie, sizeof c->resp->set_cookie))
        c->resp->set_cookie[0] = '\0';
    cu_console_redirect(c->req, c->resp, "/staff/sign-in");
}

/* /staff for a member of staff who is no clinician: the first page of the
 * navigation their roles see, or a page saying the console has none. */
static void landing(cu_console *c)
{
    for (size_t i = 0; i < NNAV; i++) {
        if (NAV[i].nav && (NAV[i].roles & c->who.roles)) {
            cu_console_redirect(c->req, c->resp, cu_route_get(NAV[i].route)->path);
            return;
        }
    }
    cu_console_message(c, 200, "There is nothing for your role here yet",
                       "The staff console has pages for clinicians, the Data Protection "
                       "Officer, auditors and administrators. Your work is done through the "
                       "API or the command line.",
                       NULL);
}

void cu_console_signin_get(cu_call *c)
{
    signin_get(c->req, c->resp);
}

void cu_console_signout(cu_console *c)
{
    signout(c, false);
}

void cu_console_signout_all(cu_console *c)
{
    signout(c, true);
}

void cu_console_start(cu_console *c)
{
    if (c->who.roles & CU_ROLE_CLINICIAN)
        cu_console_home(c);
    else
        landing(c);
}

void cu_console_serve(cu_api *api, const cu_http_req *req, cu_http_resp *resp, cu_page_fn page)
{
    cu_console *c = calloc(1, sizeof *c);
    if (!c) {
        cu_api_problem(resp, CU_P_UNAVAILABLE, NULL);
        return;
    }
    c->api = api;
    c->req = req;
    c->resp = resp;
    const cu_route_def *d = cu_route_get(req->route.id);
    snprintf(c->via, sizeof c->via, "http %s %s", d->method, d->path);
    cu_assets_relative(req->path, c->assets, sizeof c->assets);
    if (console_signed_in(c))
        page(c);
    cu_wipe(c, sizeof *c);
    free(c);
}
