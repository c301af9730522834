/*
 * console.h — what every page of the staff console shares (console.c): the
 * signed-in session of a request, the page shell with the navigation its
 * roles may use, CSRF-checked forms, messages, redirects and links relative
 * to the page's own path; and the table (console.c) that gives each console
 * route its page and the roles that see it in the navigation.
 *
 * A page is a function of one cu_console: it is called only once the
 * request's __Host-custos cookie names a live staff session (else the
 * request was redirected to the sign-in form). It reads personal data only
 * through the domain's audited operations, acting as c->actor.
 */
#ifndef CUSTOS_HTTP_CONSOLE_H
#define CUSTOS_HTTP_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/crypto.h"
#include "domain/access.h"
#include "domain/staff.h"
#include "http/api.h"
#include "http/assets.h"
#include "http/form.h"
#include "http/routes.h"
#include "http/websec.h"
#include "iface/html.h"

#define CU_CONSOLE_SERVICE "Staff console"
#define CU_CONSOLE_CSRF_FIELD "csrf_token"

typedef struct cu_console {
    cu_api *api;
    const cu_http_req *req;
    cu_http_resp *resp;
    cu_principal who; /* the signed-in member of staff */
    cu_actor actor;   /* who, acting through via */
    char via[96];     /* "http METHOD PATH" of the route */
    char session[2 * CU_HASH_BYTES + 1]; /* what the CSRF token is bound to */
    char assets[CU_ASSETS_REL_MAX];      /* the assets' path relative to the page */
    char csrf[CU_CSRF_STRLEN]; /* the session's CSRF token, made once per request ("": none) */
} cu_console;

/* True when the request's body is application/x-www-form-urlencoded. */
bool cu_console_form_type(const cu_http_req *req);

/* Sends the page h wrote into page with status (500 problem instead when the
 * writer failed) and releases page. */
void cu_console_finish(cu_html *h, cu_http_resp *resp, int status, cu_buf *page);

/* 303 See Other to the absolute path to, as a reference relative to the
 * request's path. */
void cu_console_redirect(const cu_http_req *req, cu_http_resp *resp, const char *to);

/* The absolute path to as a reference relative to the page (out, cap). */
void cu_console_link(const cu_console *c, const char *to, char *out, size_t cap);

/* A page of a heading and a paragraph, with a back link to the absolute path
 * back when it is not NULL. */
void cu_console_message(cu_console *c, int status, const char *title, const char *para,
                        const char *back);

/* The hidden CSRF field of a form; a form without its token fails the page. */
void cu_console_csrf(cu_html *h, const cu_console *c);

/* One row of a summary list (dl.nhsuk-summary-list): key and value as text. */
void cu_console_summary_row(cu_html *h, const char *key, const char *value);

/* One link of a pagination list (nav.nhsuk-pagination ul): to the next
 * page when next, else to the previous one, titled title. */
void cu_console_page_link(cu_html *h, bool next, const char *href, const char *title);

/* A list's NHS.UK pagination and "Page N of M.", nothing when there is only
 * one page: links to the pages before and after page, whose reference is
 * prefix followed by "page=N" (prefix "patients?", or "requests?state=x&"). */
typedef struct cu_pages_nav {
    const char *label;  /* the navigation's name: "Pages of patients" */
    const char *prefix;
    long page;          /* this page, from 1 */
    size_t pages;       /* how many there are */
    size_t linked;      /* the last page a link may lead to; 0: pages */
    const char *prev, *next; /* the links' titles; NULL: "Previous", "Next" */
} cu_pages_nav;
void cu_console_pagination(cu_html *h, const cu_pages_nav *n);

/* The page shell: header with the navigation the signed-in roles may use
 * (the current page marked), then who is signed in and the sign-out button. */
void cu_console_begin(cu_html *h, cu_console *c, const char *title, bool wide);

/* A POST's urlencoded form with its CSRF token checked against the session.
 * False after answering a 400 or 403 page (nothing read or changed); true with
 * form parsed, to be freed with cu_form_free. */
bool cu_console_form(cu_console *c, cu_form *form);

/* Serves a console page: page(c) once the request's cookie names a live
 * staff session, else the redirect to the sign-in form (cu_api_handle, for
 * the routes whose row is CU_AUTH_STAFF). */
void cu_console_serve(cu_api *api, const cu_http_req *req, cu_http_resp *resp,
                      cu_page_fn page);

/* ---- the pages (one file per area) ---- */

/* console.c: the sign-in form (GET /staff/sign-in, no session; its POST runs
 * in steps, cu_pages_signin_prepare, _finish), sign-out (this session, every
 * session), and /staff: a clinician's home, else the first page the
 * navigation shows the signed-in roles. */
void cu_console_signin_get(cu_call *c);
void cu_console_signout(cu_console *c);
void cu_console_signout_all(cu_console *c);
void cu_console_start(cu_console *c);

/* pages_staff.c: a clinician's home, tasks, care list and patient record. */
void cu_console_home(cu_console *c);
void cu_console_tasks(cu_console *c);
void cu_console_task_ack(cu_console *c);
void cu_console_task_done(cu_console *c);
void cu_console_patients(cu_console *c);
/* The care list's searches, posted (an NHS number, a name and a date of birth
 * never go in a URL): the care list page with the search's answers. */
void cu_console_patients_search(cu_console *c);
void cu_console_patient(cu_console *c);

/* pages_dpo.c: the Data Protection Officer's rights requests, access
 * packages, erasure and policy. */
void cu_console_requests(cu_console *c);
void cu_console_request(cu_console *c);
void cu_console_request_change(cu_console *c);
void cu_console_access_package(cu_console *c);
void cu_console_portable_copy(cu_console *c);
void cu_console_erasure(cu_console *c);
void cu_console_erasure_execute(cu_console *c);
void cu_console_policy(cu_console *c);
void cu_console_policy_notice(cu_console *c);
void cu_console_policy_record(cu_console *c);
/* pages_clinical.c: emergency access (break glass) from a refused record,
 * and adding an entry to a record. */
void cu_console_break_glass(cu_console *c);
void cu_console_items_add(cu_console *c);
/* pages_audit.c: the auditor's search of the audit trail and its verification. */
void cu_console_audit(cu_console *c);
void cu_console_audit_verify(cu_console *c);

/* pages_admin.c: the administrator's staff accounts and API tokens. */
void cu_console_accounts(cu_console *c);
void cu_console_account_add(cu_console *c);
void cu_console_account_disable(cu_console *c);
void cu_console_account_password(cu_console *c);
void cu_console_token_create(cu_console *c);
void cu_console_token_revoke(cu_console *c);

#endif
