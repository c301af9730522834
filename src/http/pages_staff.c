/*
 * pages_staff.c — the staff console: sign-in and sign-out, the home page
 * (urgent tasks, what follow-up pathways make due), the task list with its
 * buttons, the care list and a patient's record.
 *
 * A session is the API's (staff.h), carried by the __Host-custos cookie
 * (websec.h) instead of a bearer token: the same idle and absolute expiry,
 * revocation and sign-in throttle and audit. A page without a valid session
 * redirects to the sign-in form; every form carries the session's CSRF token,
 * checked before anything is read or changed. Each view of personal data is
 * the same audited operation as the API's read of it (task.list,
 * pathway.due, a subject read, questionnaire.responses), so a refusal, such
 * as a patient off the clinician's care list, is recorded and the page says
 * only that the record cannot be shown.
 *
 * Links, form actions and redirects are relative to the page's own path
 * (pages_util.h), so the console works under a proxy's path prefix.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/integrity.h"
#include "domain/pathway.h"
#include "domain/questionnaire.h"
#include "domain/responses.h"
#include "domain/staff.h"
#include "domain/subject.h"
#include "domain/tasks.h"
#include "http/api_impl.h"
#include "http/assets.h"
#include "http/form.h"
#include "http/log.h"
#include "http/pages_util.h"
#include "http/websec.h"
#include "iface/html.h"
#include "iface/wording.h"
#include "util/clock.h"

#define FORM_TYPE "application/x-www-form-urlencoded"
#define SERVICE "Staff console"
#define PATIENTS_PER_PAGE 20
#define MAX_ROWS 200
#define CSRF_FIELD "csrf_token"

/* ---- what every page shares ---- */

typedef struct page_ctx {
    cu_api *api;
    const cu_http_req *req;
    cu_http_resp *resp;
    cu_principal who;
    cu_actor actor;
    char via[96];
    char session[2 * CU_HASH_BYTES + 1]; /* what the CSRF token is bound to */
    char assets[CU_ASSETS_REL_MAX];
} page_ctx;

static bool form_type(const cu_http_req *req)
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
static void finish(cu_html *h, cu_http_resp *resp, int status, cu_buf *page)
{
    if (cu_html_done(h))
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    else
        send_page(resp, status, page);
    cu_buf_release(page);
}

/* 303 See Other to the absolute path to, as a reference relative to the
 * request's path. */
static void redirect(const cu_http_req *req, cu_http_resp *resp, const char *to)
{
    resp->status = 303;
    if (!cu_path_relative(req->path, to, resp->location, sizeof resp->location))
        cu_strlcpy(resp->location, to, sizeof resp->location);
}

static void link_to(const page_ctx *c, const char *to, char *out, size_t cap)
{
    if (!cu_path_relative(c->req->path, to, out, cap))
        cu_strlcpy(out, to, cap);
}

/* A page of a heading and a paragraph (and a link back when back is given). */
static void message(page_ctx *c, int status, const char *title, const char *para,
                    const char *back)
{
    cu_buf page;
    cu_buf_init(&page, 0);
    char href[128] = "";
    if (back)
        link_to(c, back, href, sizeof href);
    cu_html h;
    cu_html_init(&h, &page);
    cu_page_begin(&h, &(cu_page){.title = title, .service = SERVICE, .assets = c->assets,
                                 .back_href = back ? href : NULL});
    cu_html_elem(&h, "h1", title, NULL);
    cu_html_elem(&h, "p", para, NULL);
    cu_page_end(&h);
    finish(&h, c->resp, status, &page);
}

/* The hidden field of a signed-in form. */
static void csrf_field(cu_html *h, const page_ctx *c)
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

/* Who is signed in, and the sign-out button, at the top of the content. */
static void signed_in_as(cu_html *h, const page_ctx *c)
{
    char action[128];
    link_to(c, "/staff/sign-out", action, sizeof action);
    cu_html_open(h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON,
                 "class", "nhsuk-u-margin-bottom-5", NULL);
    csrf_field(h, c);
    cu_html_open(h, "p", "class", "nhsuk-body-s nhsuk-u-margin-bottom-2", NULL);
    cu_html_textf(h, "Signed in as %s.", c->who.name);
    cu_html_close(h, "p");
    cu_html_elem(h, "button", "Sign out", "type", "submit", "class",
                 "nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0", NULL);
    cu_html_close(h, "form");
}

/* The page shell with the console's pages in the header's navigation. */
static void begin(cu_html *h, page_ctx *c, const char *title, bool wide)
{
    static const struct {
        const char *path, *label;
    } links[] = {{"/staff", "Home"}, {"/staff/tasks", "Tasks"}, {"/staff/patients", "Patients"}};
    char hrefs[3][128];
    cu_page_link nav[3];
    for (size_t i = 0; i < 3; i++) {
        link_to(c, links[i].path, hrefs[i], sizeof hrefs[i]);
        nav[i] = (cu_page_link){hrefs[i], links[i].label,
                                strcmp(c->req->path, links[i].path) == 0};
    }
    cu_page_begin(h, &(cu_page){.title = title, .service = SERVICE, .assets = c->assets,
                                .wide = wide, .nav = nav, .nnav = 3});
    signed_in_as(h, c);
}

/* The session the cookie names, else a redirect to the sign-in form (and
 * the cookie cleared when it named no live session). */
static bool signed_in(page_ctx *c)
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
        redirect(c->req, c->resp, "/staff/sign-in");
        return false;
    }
    cu_hex(c->who.session_hash, sizeof c->who.session_hash, c->session);
    cu_strlcpy(c->resp->actor_id, c->who.id, sizeof c->resp->actor_id);
    cu_strlcpy(c->resp->actor_role, c->who.roles_text, sizeof c->resp->actor_role);
    cu_principal_actor(&c->who, NULL, c->via, &c->actor);
    return true;
}

/* A POST's form, its CSRF token checked against the session: false with a
 * 403 page (nothing read or changed) when it is missing or wrong. */
static bool posted_form(page_ctx *c, cu_form *form)
{
    cu_err err = {0};
    form->n = 0;
    form->f = NULL;
    form->text = NULL;
    if (!form_type(c->req) ||
        cu_form_parse((const char *)c->req->body, c->req->body_len, form, &err)) {
        message(c, 400, "This form could not be read",
                "Go back to the page, reload it and try again.", "/staff");
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
        message(c, 403, "This form has expired",
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
    cu_page_begin(&h, &(cu_page){.title = "Sign in", .service = SERVICE, .assets = assets,
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
        const char *msg = cu_field_error_for(f->errors, f->nerrors, fields[i].id);
        char hint_id[32], err_id[32], described[64] = "";
        snprintf(hint_id, sizeof hint_id, "%s-hint", fields[i].id);
        snprintf(err_id, sizeof err_id, "%s-error", fields[i].id);
        if (fields[i].hint)
            cu_strlcpy(described, hint_id, sizeof described);
        if (msg) {
            size_t used = strlen(described);
            snprintf(described + used, sizeof described - used, "%s%s", used ? " " : "",
                     err_id);
        }
        cu_html_open(&h, "div", "class",
                     msg ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group",
                     NULL);
        cu_html_elem(&h, "label", fields[i].label, "class", "nhsuk-label", "for", fields[i].id,
                     NULL);
        if (fields[i].hint)
            cu_html_elem(&h, "div", fields[i].hint, "class", "nhsuk-hint", "id", hint_id, NULL);
        if (msg) {
            cu_html_open(&h, "span", "class", "nhsuk-error-message", "id", err_id, NULL);
            cu_html_elem(&h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
            cu_html_textf(&h, " %s", msg);
            cu_html_close(&h, "span");
        }
        cu_html_void(&h, "input", "class",
                     msg ? "nhsuk-input nhsuk-input--error nhsuk-u-width-two-thirds"
                         : "nhsuk-input nhsuk-u-width-two-thirds",
                     "id", fields[i].id, "name", fields[i].id, "type", fields[i].type,
                     "autocomplete", fields[i].autocomplete, "spellcheck", "false",
                     "inputmode", i == 2 ? "numeric" : NULL, "aria-describedby",
                     described[0] ? described : NULL, "value",
                     i == 0 && f->username ? f->username : NULL, NULL);
        cu_html_close(&h, "div");
    }
    cu_html_elem(&h, "button", "Sign in", "type", "submit", "class", "nhsuk-button", NULL);
    cu_html_close(&h, "form");
    cu_page_end(&h);
    finish(&h, resp, status, &page);
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
    if (!form_type(req) ||
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
    cu_err err = {0};
    if (cu_api_signin_record(api, req, st, &res, token, &p, &err)) {
        cu_api_fail(resp, &err);
        return;
    }
    signin_form f = {.username = st->body.username, .code_field = st->body.code[0] != '\0'};
    cu_field_error e;
    switch (res) {
    case CU_SIGNIN_OK:
        cu_strlcpy(resp->actor_id, p.id, sizeof resp->actor_id);
        cu_strlcpy(resp->actor_role, p.roles_text, sizeof resp->actor_role);
        if (cu_cookie_set(token, cu_api_session_absolute_us(api) / 1000000, resp->set_cookie,
                          sizeof resp->set_cookie)) {
            resp->set_cookie[0] = '\0';
            cu_api_problem(resp, CU_P_INTERNAL, NULL);
            break;
        }
        redirect(req, resp, "/staff");
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

static void signout(page_ctx *c)
{
    cu_form form;
    if (!posted_form(c, &form))
        return;
    cu_form_free(&form);
    cu_err err = {0};
    if (cu_signout(cu_api_vault(c->api), &c->who, c->via, &err)) {
        cu_api_fail(c->resp, &err);
        return;
    }
    if (cu_cookie_clear(c->resp->set_cookie, sizeof c->resp->set_cookie))
        c->resp->set_cookie[0] = '\0';
    redirect(c->req, c->resp, "/staff/sign-in");
}

/* ---- tasks ---- */

typedef struct task_row {
    char id[CU_ID_STRLEN];
    char subject_id[CU_ID_STRLEN];
    bool urgent;
    const char *wording;
    char state[16];
    int64_t created_at, acked_at;
    char acked_by[65];
} task_row;

typedef struct task_list {
    task_row *rows;
    size_t n, cap, more;
    const char *subject; /* only this subject's, or NULL */
} task_list;

static int collect_task(void *ctx, const cu_task_view *t)
{
    task_list *l = ctx;
    if (strcmp(t->rec->state, "done") == 0 ||
        (l->subject && strcmp(t->rec->subject_id, l->subject) != 0))
        return CU_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        if (cap > MAX_ROWS) {
            l->more++;
            return CU_OK;
        }
        task_row *r = realloc(l->rows, cap * sizeof *r);
        if (!r)
            return CU_ENOMEM;
        l->rows = r;
        l->cap = cap;
    }
    task_row *r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    cu_strlcpy(r->id, t->rec->id, sizeof r->id);
    cu_strlcpy(r->subject_id, t->rec->subject_id, sizeof r->subject_id);
    r->urgent = strcmp(t->rec->kind, "urgent") == 0;
    r->wording = t->reason ? t->reason->wording : "A questionnaire answer needs review";
    cu_strlcpy(r->state, t->rec->state, sizeof r->state);
    r->created_at = t->rec->created_at;
    r->acked_at = t->rec->acked_at;
    cu_strlcpy(r->acked_by, t->rec->acked_by, sizeof r->acked_by);
    return CU_OK;
}

/* The tasks not done (urgent first, oldest first: cu_task_list's order),
 * one task.list event. False with the page answered on a failure. */
static bool load_tasks(page_ctx *c, const char *state, task_list *l)
{
    cu_err err = {0};
    int rc = cu_task_list(cu_api_vault(c->api), &c->actor, NULL, state, collect_task, l, &err);
    if (rc == CU_EDENIED) {
        message(c, 403, "You cannot see the task list",
                "The task list is for clinicians. Ask your administrator if you need it.",
                NULL);
        return false;
    }
    if (rc) {
        cu_api_fail(c->resp, &err);
        return false;
    }
    return true;
}

static void patient_link(cu_html *h, const page_ctx *c, const char *subject_id,
                         const char *label, const char *hidden)
{
    char to[96], href[160];
    snprintf(to, sizeof to, "/staff/patients/%s", subject_id);
    link_to(c, to, href, sizeof href);
    cu_html_open(h, "a", "href", href, NULL);
    cu_html_text(h, label);
    if (hidden)
        cu_html_elem(h, "span", hidden, "class", "nhsuk-u-visually-hidden", NULL);
    cu_html_close(h, "a");
}

static void task_card(cu_html *h, const page_ctx *c, const task_row *t, bool buttons,
                      bool show_patient)
{
    char when[CU_HTML_DATE_LEN], hidden[96];
    cu_html_open(h, "div", "class", "nhsuk-card", NULL);
    cu_html_open(h, "div", "class", "nhsuk-card__content", NULL);
    cu_html_open(h, "h3", "class", "nhsuk-card__heading nhsuk-heading-s", NULL);
    cu_html_elem(h, "strong", t->urgent ? "Urgent" : "Review", "class",
                 t->urgent ? "nhsuk-tag nhsuk-tag--red" : "nhsuk-tag nhsuk-tag--blue", NULL);
    cu_html_textf(h, " %s", t->wording);
    cu_html_close(h, "h3");
    cu_html_open(h, "p", "class", "nhsuk-card__description", NULL);
    cu_html_textf(h, "Raised on %s. ", cu_html_date(t->created_at, when));
    if (strcmp(t->state, "acknowledged") == 0)
        cu_html_textf(h, "Acknowledged by %s on %s.", t->acked_by,
                      cu_html_date(t->acked_at, when));
    else
        cu_html_text(h, "Not acknowledged yet.");
    cu_html_close(h, "p");
    snprintf(hidden, sizeof hidden, " (task raised on %s)", cu_html_date(t->created_at, when));
    if (show_patient) {
        cu_html_open(h, "p", "class", "nhsuk-card__description", NULL);
        patient_link(h, c, t->subject_id, "View the patient's record", hidden);
        cu_html_close(h, "p");
    }
    if (buttons) {
        static const struct {
            const char *what, *label;
            bool open_only;
        } acts[] = {{"acknowledge", "Acknowledge", true}, {"done", "Mark as done", false}};
        for (size_t i = 0; i < 2; i++) {
            if (acts[i].open_only && strcmp(t->state, "open") != 0)
                continue;
            char to[96], action[160];
            snprintf(to, sizeof to, "/staff/tasks/%s/%s", t->id, acts[i].what);
            link_to(c, to, action, sizeof action);
            cu_html_open(h, "form", "method", "post", "action", action, "novalidate",
                         CU_HTML_ON, "class", "nhsuk-u-margin-bottom-3",
                         NULL);
            csrf_field(h, c);
            cu_html_open(h, "p", NULL);
            cu_html_open(h, "button", "type", "submit", "class",
                         i == 0 ? "nhsuk-button nhsuk-button--secondary" : "nhsuk-button",
                         NULL);
            cu_html_text(h, acts[i].label);
            cu_html_elem(h, "span", hidden, "class", "nhsuk-u-visually-hidden", NULL);
            cu_html_close(h, "button");
            cu_html_close(h, "p");
            cu_html_close(h, "form");
        }
    }
    cu_html_close(h, "div");
    cu_html_close(h, "div");
}

static void tasks_page(page_ctx *c)
{
    task_list l = {0};
    if (!load_tasks(c, NULL, &l)) {
        free(l.rows);
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    begin(&h, c, "Tasks", false);
    cu_html_elem(&h, "h1", "Tasks", NULL);
    if (l.n == 0)
        cu_html_elem(&h, "p", "There are no tasks to do for the patients on your list.", NULL);
    else
        cu_html_elem(&h, "p",
                     "Tasks for the patients on your list that are not done yet, urgent "
                     "first.",
                     NULL);
    for (size_t i = 0; i < l.n; i++)
        task_card(&h, c, &l.rows[i], true, true);
    if (l.more)
        cu_html_textf(&h, "%zu more tasks are not shown. Mark these as done to see them.",
                      l.more);
    cu_page_end(&h);
    free(l.rows);
    finish(&h, c->resp, 200, &page);
}

static void task_move(page_ctx *c, bool done)
{
    cu_form form;
    if (!posted_form(c, &form))
        return;
    cu_form_free(&form);
    cu_err err = {0};
    int rc = done ? cu_task_done(cu_api_vault(c->api), &c->actor, c->req->route.subject, NULL,
                                 &err)
                  : cu_task_ack(cu_api_vault(c->api), &c->actor, c->req->route.subject, NULL,
                                &err);
    switch (rc) {
    case CU_OK:
    case CU_ECONFLICT: /* done already, or acknowledged by someone else: the list shows it */
        redirect(c->req, c->resp, "/staff/tasks");
        break;
    case CU_ENOTFOUND:
    case CU_EDENIED:
        message(c, rc == CU_EDENIED ? 403 : 404, "This task cannot be changed",
                "It is not a task of a patient on your list.", "/staff/tasks");
        break;
    default: cu_api_fail(c->resp, &err); break;
    }
}

/* ---- home ---- */

typedef struct due_row {
    char subject_id[CU_ID_STRLEN];
    char kind[8];           /* missed | overdue | due | held */
    const char *held_reason; /* static words, NULL unless held */
    char url[CU_Q_MAX_URL + 1];
    char due_date[12];
    int n;
} due_row;

typedef struct due_list {
    due_row rows[MAX_ROWS];
    size_t n, more;
} due_list;

static int collect_due(void *ctx, const cu_due_item *d)
{
    due_list *l = ctx;
    if (strcmp(d->kind, "flagged") == 0)
        return CU_OK; /* tasks: shown from the task list */
    if (l->n == MAX_ROWS) {
        l->more++;
        return CU_OK;
    }
    due_row *r = &l->rows[l->n++];
    cu_strlcpy(r->subject_id, d->subject_id, sizeof r->subject_id);
    cu_strlcpy(r->kind, d->kind, sizeof r->kind);
    r->held_reason = d->held_reason;
    cu_strlcpy(r->url, d->questionnaire_url ? d->questionnaire_url : "", sizeof r->url);
    cu_strlcpy(r->due_date, d->due_date ? d->due_date : "", sizeof r->due_date);
    r->n = d->n;
    return CU_OK;
}

/* A questionnaire's title (not personal: no event), or words for one that
 * cannot be read. */
static void questionnaire_title(page_ctx *c, const char *url, const char *version, char *out,
                                size_t cap)
{
    cu_questionnaire *q = NULL;
    cu_err err = {0};
    if (cu_questionnaire_load(cu_api_vault(c->api), url, version, &q, &err) == CU_OK && q &&
        q->title && *q->title)
        cu_strlcpy(out, q->title, cap);
    else
        cu_strlcpy(out, "A questionnaire", cap);
    cu_questionnaire_free(q);
}

static void day_words(const char *ymd, char *out, size_t cap)
{
    cu_date d;
    if (cu_date_parse(ymd, strlen(ymd), &d))
        cu_wording_day(d, out, cap);
    else
        cu_strlcpy(out, "an unknown date", cap);
}

static void home_page(page_ctx *c)
{
    task_list l = {0};
    if (!load_tasks(c, "open", &l)) {
        free(l.rows);
        return;
    }
    due_list *due = calloc(1, sizeof *due);
    cu_err err = {0};
    if (!due) {
        free(l.rows);
        cu_api_problem(c->resp, CU_P_UNAVAILABLE, NULL);
        return;
    }
    if (cu_pathway_due(cu_api_vault(c->api), &c->actor, NULL, 0, collect_due, due, &err)) {
        free(l.rows);
        free(due);
        cu_api_fail(c->resp, &err);
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    begin(&h, c, "Home", false);
    cu_html_elem(&h, "h1", "Home", NULL);
    cu_html_elem(&h, "h2", "Urgent tasks", NULL);
    size_t urgent = 0;
    for (size_t i = 0; i < l.n; i++)
        if (l.rows[i].urgent) {
            task_card(&h, c, &l.rows[i], false, true);
            urgent++;
        }
    char href[128];
    link_to(c, "/staff/tasks", href, sizeof href);
    cu_html_open(&h, "p", NULL);
    if (urgent == 0)
        cu_html_text(&h, "There are no open urgent tasks. ");
    cu_html_textf(&h, "%zu open %s in all. ", l.n, l.n == 1 ? "task" : "tasks");
    cu_html_elem(&h, "a", "Go to the task list", "href", href, NULL);
    cu_html_close(&h, "p");
    cu_html_elem(&h, "h2", "Due from follow-up pathways", NULL);
    if (due->n == 0) {
        cu_html_elem(&h, "p", "No questionnaires are due, overdue, missed or paused.", NULL);
    } else {
        static const char *const heads[] = {"Questionnaire", "Due", "Status", "Patient"};
        cu_html_table_open(&h, "Questionnaires due, overdue, missed or paused", true, heads, 4);
        for (size_t i = 0; i < due->n; i++) {
            const due_row *r = &due->rows[i];
            char title[256], day[40], hidden[320];
            questionnaire_title(c, r->url, NULL, title, sizeof title);
            day_words(r->due_date, day, sizeof day);
            cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
            cu_html_elem(&h, "td", title, "class", "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", day, "class", "nhsuk-table__cell", NULL);
            cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
            /* Missed: the window ended unanswered; overdue: sent, not answered
             * after its due date; held: paused, with why. */
            const char *tag = "Due", *cls = "nhsuk-tag nhsuk-tag--yellow";
            if (strcmp(r->kind, "missed") == 0) {
                tag = "Missed";
                cls = "nhsuk-tag nhsuk-tag--red";
            } else if (strcmp(r->kind, "overdue") == 0) {
                tag = "Overdue";
                cls = "nhsuk-tag nhsuk-tag--orange";
            } else if (strcmp(r->kind, "held") == 0) {
                tag = "Paused";
                cls = "nhsuk-tag nhsuk-tag--grey";
            }
            cu_html_elem(&h, "strong", tag, "class", cls, NULL);
            if (r->held_reason) {
                cu_html_open(&h, "p", "class", "nhsuk-body-s", NULL);
                cu_html_text(&h, r->held_reason);
                cu_html_close(&h, "p");
            }
            cu_html_close(&h, "td");
            cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
            snprintf(hidden, sizeof hidden, " (%s due on %s)", title, day);
            patient_link(&h, c, r->subject_id, "View record", hidden);
            cu_html_close(&h, "td");
            cu_html_close(&h, "tr");
        }
        cu_html_table_close(&h);
    }
    cu_page_end(&h);
    free(l.rows);
    free(due);
    finish(&h, c->resp, 200, &page);
}

/* ---- patients ---- */

/* The well-known values of a subject view, by field. */
typedef struct summary {
    const cu_buf *name, *nhs, *birth;
} summary;

static const char *value_of(const cu_buf *b, char *tmp, size_t cap)
{
    if (!b || !b->len)
        return NULL;
    size_t n = b->len < cap - 1 ? b->len : cap - 1;
    memcpy(tmp, b->data, n);
    tmp[n] = '\0';
    return tmp;
}

static void summarise(const cu_subject_view *sv, summary *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < sv->n; i++) {
        const cu_item_view *it = &sv->items[i];
        if (strcmp(it->field, "name") == 0)
            s->name = &it->value;
        else if (strcmp(it->field, "nhs_number") == 0)
            s->nhs = &it->value;
        else if (strcmp(it->field, "birth_date") == 0)
            s->birth = &it->value;
    }
}

typedef struct id_list {
    char (*ids)[CU_ID_STRLEN];
    size_t n, cap;
    const char *only; /* keep only this id (a search), or NULL */
} id_list;

static int collect_id(void *ctx, const char *id)
{
    id_list *l = ctx;
    if (l->only && strcmp(l->only, id) != 0)
        return CU_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char(*p)[CU_ID_STRLEN] = realloc(l->ids, cap * sizeof *p);
        if (!p)
            return CU_ENOMEM;
        l->ids = p;
        l->cap = cap;
    }
    cu_strlcpy(l->ids[l->n++], id, CU_ID_STRLEN);
    return CU_OK;
}

typedef struct found {
    char ids[8][CU_ID_STRLEN];
    size_t n;
} found;

static int collect_found(void *ctx, const char *id)
{
    found *f = ctx;
    if (f->n < 8)
        cu_strlcpy(f->ids[f->n++], id, CU_ID_STRLEN);
    return CU_OK;
}

static void search_form(cu_html *h, const char *value, const char *error)
{
    cu_html_open(h, "form", "method", "get", "action", "patients", "novalidate", CU_HTML_ON,
                 NULL);
    cu_html_open(h, "div", "class",
                 error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_elem(h, "label", "Find a patient by NHS number", "class", "nhsuk-label", "for",
                 "nhs_number", NULL);
    cu_html_elem(h, "div", "For example, 485 777 3456", "class", "nhsuk-hint", "id",
                 "nhs_number-hint", NULL);
    if (error) {
        cu_html_open(h, "span", "class", "nhsuk-error-message", "id", "nhs_number-error", NULL);
        cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_textf(h, " %s", error);
        cu_html_close(h, "span");
    }
    cu_html_void(h, "input", "class",
                 error ? "nhsuk-input nhsuk-input--error nhsuk-input--width-10"
                       : "nhsuk-input nhsuk-input--width-10",
                 "id", "nhs_number", "name", "nhs_number", "type", "text", "inputmode",
                 "numeric", "spellcheck", "false", "aria-describedby",
                 error ? "nhs_number-hint nhs_number-error" : "nhs_number-hint", "value", value,
                 NULL);
    cu_html_close(h, "div");
    cu_html_open(h, "p", NULL);
    cu_html_elem(h, "button", "Search", "type", "submit", "class",
                 "nhsuk-button nhsuk-button--secondary", NULL);
    cu_html_close(h, "p");
    cu_html_close(h, "form");
}

static void patients_page(page_ctx *c)
{
    cu_vault *v = cu_api_vault(c->api);
    long pageno;
    if (!cu_page_number(c->req->q_page, 100000, &pageno)) {
        message(c, 400, "This page does not exist", "Go back to the first page of patients.",
                "/staff/patients");
        return;
    }
    const char *q = c->req->q_nhs_number;
    char digits[16] = "";
    const char *search_error = NULL;
    if (q) {
        size_t n = 0;
        for (const char *p = q; *p && !search_error; p++) {
            if (*p == ' ' || *p == '-')
                continue;
            if (*p < '0' || *p > '9' || n == 10)
                search_error = "Enter an NHS number of 10 digits";
            else
                digits[n++] = *p;
        }
        digits[n] = '\0';
        if (!search_error && n != 10)
            search_error = "Enter an NHS number of 10 digits";
    }
    cu_err err = {0};
    id_list l = {0};
    int rc = CU_OK;
    found f = {0};
    if (q && !search_error) {
        rc = cu_subject_find(v, &c->actor, NULL, "nhs_number", digits, strlen(digits),
                             collect_found, &f, &err);
        if (rc == CU_ENOTFOUND)
            rc = CU_OK;
        else if (rc == CU_EINVAL) {
            rc = CU_OK;
            search_error = "Enter a valid NHS number";
        }
    }
    /* The care list, or the search's answers that are on it. */
    if (!rc && (!q || (!search_error && f.n)))
        for (size_t i = 0; !rc && i < (q ? f.n : 1); i++) {
            l.only = q ? f.ids[i] : NULL;
            rc = cu_care_list_of(v, c->who.id, collect_id, &l, &err);
        }
    if (rc) {
        free(l.ids);
        if (rc == CU_EDENIED)
            message(c, 403, "You cannot search for patients", "Ask your administrator.", NULL);
        else
            cu_api_fail(c->resp, &err);
        return;
    }
    size_t pages = (l.n + PATIENTS_PER_PAGE - 1) / PATIENTS_PER_PAGE;
    if (pages == 0)
        pages = 1;
    if ((size_t)pageno > pages) {
        free(l.ids);
        message(c, 404, "This page does not exist", "Go back to the first page of patients.",
                "/staff/patients");
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    begin(&h, c, "Your patients", true);
    if (search_error) {
        cu_field_error e = {"nhs_number", search_error};
        cu_html_error_summary(&h, &e, 1);
    }
    cu_html_elem(&h, "h1", "Your patients", NULL);
    search_form(&h, q, search_error);
    if (q && !search_error)
        cu_html_elem(&h, "p",
                     l.n ? "The patient on your list with this NHS number."
                         : "No patient on your list has this NHS number.",
                     NULL);
    else if (!q && l.n == 0)
        cu_html_elem(&h, "p", "There are no patients on your list.", NULL);
    else if (!q)
        cu_html_textf(&h, "%zu %s on your list.", l.n, l.n == 1 ? "patient" : "patients");
    size_t first = (size_t)(pageno - 1) * PATIENTS_PER_PAGE;
    size_t last = first + PATIENTS_PER_PAGE < l.n ? first + PATIENTS_PER_PAGE : l.n;
    if (first < last) {
        static const char *const heads[] = {"Name", "NHS number", "Date of birth"};
        cu_html_table_open(&h, "Patients on your list", true, heads, 3);
    }
    for (size_t i = first; i < last; i++) {
        /* Each patient's details are a read of their record: one event in
         * their access log, as GET /v1/subjects/{id} */
        cu_subject_view *sv = calloc(1, sizeof *sv);
        if (!sv) {
            rc = CU_ENOMEM;
            break;
        }
        int r = cu_subject_get_page(v, &c->actor, l.ids[i], NULL, 1, true, sv, &err);
        char name[256], nhs[CU_HTML_NHS_LEN], tmp[64], birth[40];
        summary s;
        if (r == CU_OK)
            summarise(sv, &s);
        else
            memset(&s, 0, sizeof s);
        const char *nm = value_of(s.name, name, sizeof name);
        cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
        cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
        patient_link(&h, c, l.ids[i],
                     r == CU_EERASED ? "Erased record"
                     : r         ? "Record that cannot be shown"
                     : nm        ? nm
                                 : "Name not recorded",
                     NULL);
        cu_html_close(&h, "td");
        cu_html_elem(&h, "td",
                     value_of(s.nhs, tmp, sizeof tmp)
                         ? cu_html_nhs_number(tmp, nhs)
                         : "Not recorded",
                     "class", "nhsuk-table__cell", NULL);
        if (value_of(s.birth, tmp, sizeof tmp))
            day_words(tmp, birth, sizeof birth);
        else
            cu_strlcpy(birth, "Not recorded", sizeof birth);
        cu_html_elem(&h, "td", birth, "class", "nhsuk-table__cell", NULL);
        cu_html_close(&h, "tr");
        cu_wipe(name, sizeof name);
        cu_subject_view_release(sv);
        free(sv);
        if (r && r != CU_EDENIED && r != CU_ENOTFOUND && r != CU_EERASED) {
            rc = r;
            break;
        }
    }
    if (first < last) {
        cu_html_table_close(&h);
    }
    if (pages > 1) {
        cu_html_open(&h, "nav", "class", "nhsuk-pagination", "role", "navigation", "aria-label",
                     "Pages of patients", NULL);
        cu_html_open(&h, "ul", "class", "nhsuk-list nhsuk-pagination__list", NULL);
        char href[48];
        if (pageno > 1) {
            snprintf(href, sizeof href, "patients?page=%ld", pageno - 1);
            cu_html_open(&h, "li", "class", "nhsuk-pagination-item--previous", NULL);
            cu_html_open(&h, "a", "class", "nhsuk-pagination__link nhsuk-pagination__link--prev",
                         "href", href, NULL);
            cu_html_elem(&h, "span", "Previous", "class", "nhsuk-pagination__title", NULL);
            cu_html_close(&h, "a");
            cu_html_close(&h, "li");
        }
        if ((size_t)pageno < pages) {
            snprintf(href, sizeof href, "patients?page=%ld", pageno + 1);
            cu_html_open(&h, "li", "class", "nhsuk-pagination-item--next", NULL);
            cu_html_open(&h, "a", "class", "nhsuk-pagination__link nhsuk-pagination__link--next",
                         "href", href, NULL);
            cu_html_elem(&h, "span", "Next", "class", "nhsuk-pagination__title", NULL);
            cu_html_close(&h, "a");
            cu_html_close(&h, "li");
        }
        cu_html_close(&h, "ul");
        cu_html_close(&h, "nav");
        cu_html_textf(&h, "Page %ld of %zu.", pageno, pages);
    }
    cu_page_end(&h);
    free(l.ids);
    if (rc) {
        cu_buf_release(&page);
        cu_api_fail(c->resp, &err);
        return;
    }
    finish(&h, c->resp, 200, &page);
}

typedef struct resp_list {
    struct resp_row {
        char url[CU_Q_MAX_URL + 1];
        char version[65];
        int64_t authored;
        bool has_total, complete;
        int64_t total;
        char band[CU_Q_MAX_SHORT + 1];
    } rows[MAX_ROWS];
    size_t n, more;
} resp_list;

static int collect_response(void *ctx, const cu_response_view *r)
{
    resp_list *l = ctx;
    if (l->n == MAX_ROWS) {
        /* oldest first: keep the latest MAX_ROWS */
        memmove(&l->rows[0], &l->rows[1], (MAX_ROWS - 1) * sizeof l->rows[0]);
        l->n--;
        l->more++;
    }
    struct resp_row *w = &l->rows[l->n++];
    cu_strlcpy(w->url, r->url, sizeof w->url);
    cu_strlcpy(w->version, r->version, sizeof w->version);
    w->authored = r->authored;
    w->has_total = r->has_total;
    w->complete = r->complete;
    w->total = r->total;
    cu_strlcpy(w->band, r->band, sizeof w->band);
    return CU_OK;
}

static void summary_row(cu_html *h, const char *key, const char *value)
{
    cu_html_open(h, "div", "class", "nhsuk-summary-list__row", NULL);
    cu_html_elem(h, "dt", key, "class", "nhsuk-summary-list__key", NULL);
    cu_html_elem(h, "dd", value, "class", "nhsuk-summary-list__value", NULL);
    cu_html_close(h, "div");
}

static void patient_page(page_ctx *c)
{
    cu_vault *v = cu_api_vault(c->api);
    const char *id = c->req->route.subject;
    cu_err err = {0};
    cu_subject_view *sv = calloc(1, sizeof *sv);
    resp_list *rl = calloc(1, sizeof *rl);
    task_list tl = {.subject = id};
    if (!sv || !rl) {
        free(sv);
        free(rl);
        cu_api_problem(c->resp, CU_P_UNAVAILABLE, NULL);
        return;
    }
    int rc = cu_subject_get_page(v, &c->actor, id, NULL, CU_ITEMS_PAGE_MAX, true, sv, &err);
    if (rc == CU_EDENIED || rc == CU_ENOTFOUND || rc == CU_EERASED) {
        /* The refusal is in the audit trail (cu_op_end); the page names no
         * one and says nothing of whether the record exists. */
        free(sv);
        free(rl);
        message(c, 403, "You cannot see this record",
                "This patient is not on your list. If you need to see their record, ask "
                "the person who manages your care list to add them.",
                "/staff/patients");
        return;
    }
    if (!rc)
        rc = cu_response_list(v, &c->actor, id, collect_response, rl, &err);
    if (!rc)
        rc = cu_task_list(v, &c->actor, NULL, NULL, collect_task, &tl, &err);
    if (rc) {
        cu_subject_view_release(sv);
        free(sv);
        free(rl);
        free(tl.rows);
        cu_api_fail(c->resp, &err);
        return;
    }
    summary s;
    summarise(sv, &s);
    char name[256], tmp[64], nhs[CU_HTML_NHS_LEN], birth[40], date[CU_HTML_DATE_LEN];
    const char *nm = value_of(s.name, name, sizeof name);
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    begin(&h, c, nm ? nm : "Patient record", true);
    cu_html_elem(&h, "h1", nm ? nm : "Patient record", NULL);
    cu_html_elem(&h, "h2", "Details", NULL);
    cu_html_open(&h, "dl", "class", "nhsuk-summary-list", NULL);
    summary_row(&h, "NHS number",
                value_of(s.nhs, tmp, sizeof tmp) ? cu_html_nhs_number(tmp, nhs)
                                                 : "Not recorded");
    if (value_of(s.birth, tmp, sizeof tmp))
        day_words(tmp, birth, sizeof birth);
    else
        cu_strlcpy(birth, "Not recorded", sizeof birth);
    summary_row(&h, "Date of birth", birth);
    cu_html_close(&h, "dl");

    cu_html_elem(&h, "h2", "Open tasks", NULL);
    if (tl.n == 0)
        cu_html_elem(&h, "p", "There are no open tasks for this patient.", NULL);
    for (size_t i = 0; i < tl.n; i++)
        task_card(&h, c, &tl.rows[i], true, false);

    cu_html_elem(&h, "h2", "Questionnaire responses", NULL);
    if (rl->n == 0) {
        cu_html_elem(&h, "p", "No questionnaire responses have been recorded.", NULL);
    } else {
        static const char *const heads[] = {"Date", "Questionnaire", "Score", "Band"};
        cu_html_table_open(&h, "Questionnaire responses, latest first", true, heads, 4);
        for (size_t i = rl->n; i-- > 0;) {
            const struct resp_row *r = &rl->rows[i];
            char title[256], score[32];
            questionnaire_title(c, r->url, r->version, title, sizeof title);
            if (r->has_total)
                snprintf(score, sizeof score, "%lld", (long long)r->total);
            else
                cu_strlcpy(score, r->complete ? "No score" : "Not complete", sizeof score);
            cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
            cu_html_elem(&h, "td", cu_html_date(r->authored, date), "class",
                         "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", title, "class", "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", score, "class", "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", r->band[0] ? r->band : "None", "class", "nhsuk-table__cell",
                         NULL);
            cu_html_close(&h, "tr");
        }
        cu_html_table_close(&h);
    }

    cu_html_elem(&h, "h2", "Record", NULL);
    size_t shown = 0;
    for (size_t i = 0; i < sv->n; i++) {
        const cu_item_view *it = &sv->items[i];
        if (cu_known_field_find(it->field) &&
            (strcmp(it->field, "name") == 0 || strcmp(it->field, "nhs_number") == 0 ||
             strcmp(it->field, "birth_date") == 0))
            continue;
        if (strcmp(it->field, "questionnaire_response") == 0)
            continue; /* shown above */
        if (shown++ == 0)
            cu_html_open(&h, "dl", "class", "nhsuk-summary-list", NULL);
        char key[160];
        cu_wording_field(it->field, key, sizeof key);
        cu_html_open(&h, "div", "class", "nhsuk-summary-list__row", NULL);
        cu_html_elem(&h, "dt", key, "class", "nhsuk-summary-list__key", NULL);
        cu_html_open(&h, "dd", "class", "nhsuk-summary-list__value", NULL);
        /* the value is text: the writer escapes it */
        cu_buf val;
        cu_buf_init(&val, 0);
        if (cu_buf_append(&val, it->value.data, it->value.len) == CU_OK &&
            cu_buf_append(&val, "", 1) == CU_OK)
            cu_html_text(&h, (const char *)val.data);
        cu_buf_release(&val);
        cu_html_open(&h, "span", "class", "nhsuk-body-s nhsuk-u-display-block", NULL);
        cu_html_textf(&h, "Recorded on %s", cu_html_date(it->recorded_at, date));
        cu_html_close(&h, "span");
        cu_html_close(&h, "dd");
        cu_html_close(&h, "div");
    }
    if (shown)
        cu_html_close(&h, "dl");
    else
        cu_html_elem(&h, "p", "Nothing else is recorded.", NULL);
    if (sv->next[0])
        cu_html_elem(&h, "p", "The record has more entries than this page shows.", NULL);
    cu_page_end(&h);
    cu_wipe(name, sizeof name);
    cu_subject_view_release(sv);
    free(sv);
    free(rl);
    free(tl.rows);
    finish(&h, c->resp, 200, &page);
}

bool cu_pages_staff_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    switch (req->route.id) {
    case CU_R_STAFF_SIGNIN_GET: signin_get(req, resp); return true;
    case CU_R_STAFF_SIGNOUT:
    case CU_R_STAFF_HOME:
    case CU_R_STAFF_TASKS:
    case CU_R_STAFF_TASK_ACK:
    case CU_R_STAFF_TASK_DONE:
    case CU_R_STAFF_PATIENTS:
    case CU_R_STAFF_PATIENT: break;
    default: return false;
    }
    page_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        cu_api_problem(resp, CU_P_UNAVAILABLE, NULL);
        return true;
    }
    c->api = api;
    c->req = req;
    c->resp = resp;
    const cu_route_def *d = cu_route_get(req->route.id);
    snprintf(c->via, sizeof c->via, "http %s %s", d->method, d->path);
    cu_assets_relative(req->path, c->assets, sizeof c->assets);
    if (signed_in(c)) {
        switch (req->route.id) {
        case CU_R_STAFF_SIGNOUT: signout(c); break;
        case CU_R_STAFF_HOME: home_page(c); break;
        case CU_R_STAFF_TASKS: tasks_page(c); break;
        case CU_R_STAFF_TASK_ACK: task_move(c, false); break;
        case CU_R_STAFF_TASK_DONE: task_move(c, true); break;
        case CU_R_STAFF_PATIENTS: patients_page(c); break;
        case CU_R_STAFF_PATIENT: patient_page(c); break;
        default: break;
        }
    }
    cu_wipe(c, sizeof *c);
    free(c);
    return true;
}
