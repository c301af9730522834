/*
 * pages_portal_cookies.c — the patient portal's cookie banner and cookies
 * page (domain/portal_cookies.h).
 *
 * custos sets only strictly necessary cookies. When the controller's policy
 * declares a cookie that is not strictly necessary, every portal page but
 * /portal/cookies opens with a banner (the NHS.UK pattern): what the cookies
 * are for, a link to the cookies page, and two buttons of equal weight (the
 * same element and class) in a form that POSTs to /portal/cookies, so it
 * works without JavaScript. The POST records the choice, then 303s back to
 * the page the visitor was on: only a portal path ("/portal" or below, of
 * letters, digits, '-', '_' and '/'), anything else is refused.
 *
 * The form's CSRF token: a signed-in patient's is their session's, as every
 * portal form; a visitor's is bound to the keyed hash of the id in their
 * __Host-custos-cookies cookie, or for a first choice (no cookie yet) to a
 * binding every new visitor shares, when, as on the sign-in forms, a POST
 * that Sec-Fetch-Site says another site sent is refused. A first choice of
 * a visitor sets the cookie (a new random id; SameSite=Lax). A signed-in
 * patient's choice is recorded under their subject, audited, with no cookie.
 *
 * GET /portal/cookies: the cookies the policy declares (a table), custos's
 * own, the choice in force and the policy version it was made under, and
 * the same two buttons to change it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/consent.h"
#include "domain/portal_cookies.h"
#include "domain/subject.h"
#include "http/pages_util.h"
#include "http/portal_pages.h"
#include "http/websec.h"
#include "iface/html.h"

#define SERVICE "Patient portal"
#define CSRF_FIELD "csrf_token"
#define COOKIES_PATH "/portal/cookies"

/* The store's first controller (the oldest): the portal's pages that are
 * about no controller follow its policy. */
static int first_controller(void *ctx, const char *id, const char *name, int64_t created_at)
{
    (void)name;
    (void)created_at;
    char *out = ctx;
    if (!out[0])
        cu_strlcpy(out, id, CU_ID_STRLEN);
    return CU_OK;
}

static void controller_of(cu_api *api, const char *given, char out[CU_ID_STRLEN])
{
    out[0] = '\0';
    if (given && *given) {
        cu_strlcpy(out, given, CU_ID_STRLEN);
        return;
    }
    cu_err err = {0};
    if (cu_controller_each(cu_api_vault(api), first_controller, out, &err))
        out[0] = '\0';
}

/* The visitor's id from their cookie, "" when there is none. */
static void visitor_of(const cu_http_req *req, char out[CU_TOKEN_STRLEN])
{
    char v[CU_COOKIE_VALUE_MAX + 1];
    out[0] = '\0';
    if (req->cookie && cu_cookie_get(req->cookie, CU_COOKIES_COOKIE, v, sizeof v) == CU_OK &&
        strlen(v) < CU_TOKEN_STRLEN)
        cu_strlcpy(out, v, CU_TOKEN_STRLEN);
    cu_wipe(v, sizeof v);
}

static void csrf_for(cu_api *api, const char *binding, char out[CU_CSRF_STRLEN])
{
    cu_key k;
    cu_err err = {0};
    out[0] = '\0';
    if (cu_vault_csrf_key(cu_api_vault(api), &k, &err))
        return;
    cu_csrf_token(&k, binding, out);
    cu_wipe(&k, sizeof k);
}

/* A portal path the choice may return to: "/portal" or "/portal/..." of
 * [A-Za-z0-9_/-], no "//". Anything else (another site, a scheme, a
 * query, "..") is not followed. */
static bool portal_path(const char *p)
{
    if (!p || strncmp(p, "/portal", 7) != 0 || (p[7] != '\0' && p[7] != '/'))
        return false;
    size_t n = strlen(p);
    if (n >= sizeof ((cu_portal_banner *)0)->ret)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '/';
        if (!ok || (c == '/' && p[i + 1] == '/'))
            return false;
    }
    return true;
}

void cu_portal_banner_for(cu_api *api, const cu_http_req *req, const char *controller_id,
                          const cu_portal_who *who, const char *session, cu_portal_banner *b)
{
    memset(b, 0, sizeof *b);
    controller_of(api, who ? who->controller_id : controller_id, b->controller_id);
    if (!b->controller_id[0])
        return;
    cu_vault *v = cu_api_vault(api);
    const cu_policy *pol = NULL;
    cu_err err = {0};
    if (cu_policy_current(v, b->controller_id, &pol, &err) || !cu_pcookie_policy_asks(pol))
        return;
    b->version = pol->version;
    char visitor[CU_TOKEN_STRLEN];
    visitor_of(req, visitor);
    cu_pcookie_state st;
    cu_err_clear(&err);
    if (cu_pcookie_get(v, b->controller_id, who ? who->subject_id : NULL, visitor, &st, &err))
        st = (cu_pcookie_state){0}; /* cannot tell: ask */
    b->show = cu_pcookie_ask(true, st.choice, st.version, b->version);
    if (b->show) {
        char binding[CU_PCOOKIE_BINDING_LEN];
        if (session)
            cu_strlcpy(binding, session, sizeof binding);
        else
            cu_pcookie_binding(v, visitor, binding);
        csrf_for(api, binding, b->csrf);
        cu_strlcpy(b->ret, portal_path(req->path) ? req->path : "/portal", sizeof b->ret);
        cu_portal_link_to(req, COOKIES_PATH, b->action, sizeof b->action);
    }
    cu_wipe(visitor, sizeof visitor);
}

/* The form of the two buttons: the same element and class, one after the
 * other, neither preferred. */
static void choice_form(cu_html *h, const cu_portal_banner *b)
{
    char version[24];
    snprintf(version, sizeof version, "%lld", (long long)b->version);
    cu_html_open(h, "form", "method", "post", "action", b->action, "novalidate", CU_HTML_ON,
                 NULL);
    cu_html_void(h, "input", "type", "hidden", "name", CSRF_FIELD, "value", b->csrf, NULL);
    cu_html_void(h, "input", "type", "hidden", "name", "controller", "value", b->controller_id,
                 NULL);
    cu_html_void(h, "input", "type", "hidden", "name", "version", "value", version, NULL);
    cu_html_void(h, "input", "type", "hidden", "name", "return", "value", b->ret, NULL);
    cu_html_open(h, "div", NULL);
    cu_html_elem(h, "button", "Accept additional cookies", "type", "submit", "name", "choice",
                 "value", "accepted", "class", "nhsuk-button nhsuk-u-margin-right-3", NULL);
    cu_html_elem(h, "button", "Reject additional cookies", "type", "submit", "name", "choice",
                 "value", "rejected", "class", "nhsuk-button nhsuk-u-margin-right-3", NULL);
    cu_html_close(h, "div");
    cu_html_close(h, "form");
}

void cu_portal_banner_write(cu_html *h, const void *ctx)
{
    const cu_portal_banner *b = ctx;
    if (!b || !b->show)
        return;
    cu_html_open(h, "div", "class", "nhsuk-width-container", "role", "region", "aria-label",
                 "Cookies on the patient portal", "data-cookie-banner", CU_HTML_ON, NULL);
    cu_html_open(h, "div", "class", "nhsuk-card nhsuk-u-margin-top-4 nhsuk-u-margin-bottom-4",
                 NULL);
    cu_html_open(h, "div", "class", "nhsuk-card__content", NULL);
    cu_html_elem(h, "h2", "Cookies on the patient portal", "class",
                 "nhsuk-card__heading nhsuk-heading-m", NULL);
    cu_html_elem(h, "p",
                 "We use some small files called cookies to make the patient portal work.",
                 NULL);
    cu_html_elem(h, "p",
                 "We would also like to use additional cookies, which are not needed for the "
                 "portal to work. Let us know if this is OK. We will use a cookie to save your "
                 "choice.",
                 NULL);
    cu_html_open(h, "p", NULL);
    cu_html_text(h, "You can ");
    cu_html_elem(h, "a", "read about the cookies we use", "href", b->action, NULL);
    cu_html_text(h, " before you choose.");
    cu_html_close(h, "p");
    choice_form(h, b);
    cu_html_close(h, "div");
    cu_html_close(h, "div");
    cu_html_close(h, "div");
    cu_html_nl(h);
}

/* ---- the cookies page ---- */

/* The patient the portal cookie names, if any (no redirect, no cookie
 * cleared: this page is also a visitor's). */
static bool signed_in_patient(cu_portal_page *c)
{
    char token[CU_COOKIE_VALUE_MAX + 1];
    if (!c->req->cookie ||
        cu_cookie_get(c->req->cookie, CU_PORTAL_COOKIE, token, sizeof token) != CU_OK)
        return false;
    cu_err err = {0};
    int rc = cu_portal_session(cu_api_vault(c->api), token, strlen(token),
                               cu_api_session_idle_us(c->api),
                               cu_api_session_absolute_us(c->api), &c->who, &err);
    cu_wipe(token, sizeof token);
    if (rc)
        return false;
    cu_portal_page_patient(c);
    return true;
}

static void cookie_table(cu_html *h, const cu_policy *pol, int64_t session_us)
{
    char session[96];
    int64_t minutes = session_us / (60LL * 1000000);
    if (minutes >= 120 && minutes % 60 == 0)
        snprintf(session, sizeof session, "Until you sign out, and at most %lld hours",
                 (long long)(minutes / 60));
    else
        snprintf(session, sizeof session, "Until you sign out, and at most %lld minutes",
                 (long long)minutes);
    static const char *const heads[5] = {"Cookie", "Set by", "What it is for",
                                         "How long it lasts", "Needed for the portal to work"};
    cu_html_table_open(h, "Cookies we use", true, heads, 5);
    static const struct {
        const char *name, *purpose, *duration;
    } own[] = {
        {CU_PORTAL_COOKIE, "Keeps you signed in to the patient portal.", NULL},
        {CU_COOKIES_COOKIE, "Remembers your choice about additional cookies.", "1 year"},
    };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        cu_html_open(h, "tr", "class", "nhsuk-table__row", NULL);
        cu_html_elem(h, "td", own[i].name, "class", "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", "us", "class", "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", own[i].purpose, "class", "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", own[i].duration ? own[i].duration : session, "class",
                     "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", "Yes", "class", "nhsuk-table__cell", NULL);
        cu_html_close(h, "tr");
    }
    for (size_t i = 0; pol && i < pol->ncookies; i++) {
        const cu_pol_cookie *k = &pol->cookies[i];
        if (strcmp(k->name, CU_PORTAL_COOKIE) == 0 || strcmp(k->name, CU_COOKIES_COOKIE) == 0)
            continue; /* listed above */
        cu_html_open(h, "tr", "class", "nhsuk-table__row", NULL);
        cu_html_elem(h, "td", k->name, "class", "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", k->provider ? k->provider : "us", "class", "nhsuk-table__cell",
                     NULL);
        cu_html_elem(h, "td", k->purpose, "class", "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", k->duration, "class", "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", k->strictly_necessary ? "Yes" : "No", "class",
                     "nhsuk-table__cell", NULL);
        cu_html_close(h, "tr");
    }
    cu_html_table_close(h);
}

static void cookies_page(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    cu_portal_page c = {.api = api, .req = req, .resp = resp};
    bool in = signed_in_patient(&c);
    cu_assets_relative(req->path, c.assets, sizeof c.assets);
    /* The choice form of this page, whatever the banner would say. */
    cu_portal_banner b;
    cu_portal_banner_for(api, req, NULL, in ? &c.who : NULL, in ? c.session : NULL, &b);
    cu_vault *v = cu_api_vault(api);
    cu_pcookie_state st = {0};
    const char *visitor_choice = NULL;
    cu_err err = {0};
    bool asks = b.version > 0;
    if (asks) {
        char visitor[CU_TOKEN_STRLEN];
        visitor_of(req, visitor);
        if (cu_pcookie_get(v, b.controller_id, in ? c.who.subject_id : NULL, visitor, &st,
                           &err))
            st = (cu_pcookie_state){0};
        if (!b.show) { /* the token and return path the banner would have */
            char binding[CU_PCOOKIE_BINDING_LEN];
            if (in)
                cu_strlcpy(binding, c.session, sizeof binding);
            else
                cu_pcookie_binding(v, visitor, binding);
            csrf_for(api, binding, b.csrf);
            cu_portal_link_to(req, COOKIES_PATH, b.action, sizeof b.action);
        }
        cu_strlcpy(b.ret, COOKIES_PATH, sizeof b.ret);
        cu_wipe(visitor, sizeof visitor);
        visitor_choice = cu_pcookie_word(st.choice);
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    const char *title = "Cookies";
    if (in)
        cu_portal_begin(&h, &c, title, true);
    else
        cu_page_begin(&h, &(cu_page){.title = title, .service = SERVICE, .assets = c.assets,
                                     .wide = true});
    cu_html_elem(&h, "h1", title, "class", "nhsuk-heading-l", NULL);
    cu_html_elem(&h, "p",
                 "Cookies are small files saved on your phone, tablet or computer when you "
                 "visit a website.",
                 NULL);
    cu_html_elem(&h, "h2", "Cookies we use", "class", "nhsuk-heading-m", NULL);
    const cu_policy *pol = NULL;
    cu_err_clear(&err);
    if (b.controller_id[0] && cu_policy_current(v, b.controller_id, &pol, &err))
        pol = NULL;
    cookie_table(&h, pol, cu_api_session_absolute_us(api));
    cu_html_elem(&h, "h2", "Your choice", "class", "nhsuk-heading-m", NULL);
    if (!asks) {
        cu_html_elem(&h, "p",
                     "We only use cookies that are needed for the patient portal to work. You "
                     "do not need to choose anything.",
                     NULL);
    } else {
        char when[CU_HTML_DATE_LEN];
        cu_html_open(&h, "p", "data-cookie-choice", visitor_choice ? visitor_choice : "none",
                     NULL);
        if (!visitor_choice)
            cu_html_text(&h, "You have not made a choice about additional cookies yet.");
        else
            cu_html_textf(&h,
                          "You %s additional cookies on %s, when our privacy policy was at "
                          "version %lld.",
                          visitor_choice, cu_html_date(st.chosen_at, when),
                          (long long)st.version);
        cu_html_close(&h, "p");
        if (visitor_choice && st.version < b.version) {
            cu_html_open(&h, "p", NULL);
            cu_html_textf(&h,
                          "Our privacy policy has changed since then (it is now at version "
                          "%lld). Please choose again.",
                          (long long)b.version);
            cu_html_close(&h, "p");
        }
        cu_html_elem(&h, "p",
                     "Additional cookies are not needed for the portal to work. You can change "
                     "your choice at any time on this page.",
                     NULL);
        choice_form(&h, &b);
    }
    if (in) {
        cu_portal_finish(&h, &c, &page);
    } else {
        cu_portal_end(&h, resp, 200, &page);
    }
    cu_wipe(&c.who, sizeof c.who);
}

/* ---- the choice ---- */

static void refusal(const cu_http_req *req, cu_http_resp *resp, int status, const char *title,
                    const char *para)
{
    char assets[CU_ASSETS_REL_MAX], back[64];
    cu_assets_relative(req->path, assets, sizeof assets);
    cu_portal_link_to(req, COOKIES_PATH, back, sizeof back);
    cu_buf page;
    cu_buf_init(&page, 0);
    if (cu_page_message(&page, assets, title, para, NULL, NULL))
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    else
        cu_portal_send(resp, status, &page);
    cu_buf_release(&page);
}

static bool parse_version(const char *s, int64_t *out)
{
    if (!s || !*s || strlen(s) > 18)
        return false;
    int64_t n = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        n = n * 10 + (*p - '0');
    }
    *out = n;
    return n > 0;
}

static void choose(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    if (cu_fetch_cross_site(req->fetch_site)) {
        refusal(req, resp, 403, "Choose on this service's own pages",
                "Your choice about cookies can only be made on the patient portal's own "
                "pages.");
        return;
    }
    cu_form form;
    cu_err err = {0};
    if (!cu_portal_form_type(req) ||
        cu_form_parse((const char *)req->body, req->body_len, &form, &err)) {
        refusal(req, resp, 400, "This form could not be read",
                "Go back to the page, reload it and try again.");
        return;
    }
    cu_portal_page c = {.api = api, .req = req, .resp = resp};
    bool in = signed_in_patient(&c);
    char visitor[CU_TOKEN_STRLEN], binding[CU_PCOOKIE_BINDING_LEN];
    visitor_of(req, visitor);
    if (in)
        cu_strlcpy(binding, c.session, sizeof binding);
    else
        cu_pcookie_binding(cu_api_vault(api), visitor, binding);
    cu_key k;
    bool ok = false;
    if (cu_vault_csrf_key(cu_api_vault(api), &k, &err) == CU_OK) {
        ok = cu_form_count(&form, CSRF_FIELD) == 1 &&
             cu_csrf_verify(&k, binding, cu_form_get(&form, CSRF_FIELD));
        cu_wipe(&k, sizeof k);
    }
    const char *ret = cu_form_get(&form, "return");
    const char *controller = cu_form_get(&form, "controller");
    cu_pcookie_choice choice = cu_pcookie_parse(cu_form_get(&form, "choice"));
    int64_t version = 0;
    bool version_ok = parse_version(cu_form_get(&form, "version"), &version);
    char to[128] = "";
    if (ret && portal_path(ret))
        cu_strlcpy(to, ret, sizeof to);
    int rc = CU_OK;
    if (!ok) {
        refusal(req, resp, 403, "This form has expired",
                "Go back to the page, reload it and try again.");
    } else if (!to[0] || cu_form_count(&form, "return") != 1) {
        refusal(req, resp, 400, "This form could not be read",
                "Go back to the page, reload it and try again.");
    } else if (choice == CU_PCOOKIE_NONE || !version_ok || !controller ||
               cu_form_count(&form, "choice") != 1) {
        refusal(req, resp, 400, "Choose whether to accept additional cookies",
                "Go back to the page and press one of the two buttons.");
    } else {
        rc = cu_pcookie_record(cu_api_vault(api), in ? &c.who : NULL, controller, choice,
                               version, in ? c.via : "http POST /portal/cookies", visitor,
                               &err);
        if (rc == CU_OK || rc == CU_ECONFLICT) {
            /* A stale page (the policy changed) records nothing: back to the
             * page, whose banner shows the new version. */
            if (rc == CU_OK && !in && cu_cookie_set_choice(visitor, resp->set_cookie,
                                                           sizeof resp->set_cookie))
                resp->set_cookie[0] = '\0';
            cu_portal_redirect(req, resp, to);
        } else if (rc == CU_EINVAL || rc == CU_ENOTFOUND || rc == CU_EDENIED) {
            refusal(req, resp, 400, "This form could not be read",
                    "Go back to the page, reload it and try again.");
        } else {
            cu_api_fail(resp, &err);
        }
    }
    cu_wipe(visitor, sizeof visitor);
    cu_wipe(&c.who, sizeof c.who);
    cu_form_free(&form);
}

void cu_pages_portal_cookies(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    if (req->route.id == CU_R_PORTAL_COOKIES_POST)
        choose(api, req, resp);
    else
        cookies_page(api, req, resp);
}
