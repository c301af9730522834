/*
 * portal_pages.h — what the patient portal's signed-in pages share
 * (pages_portal.c): the signed-in patient, the page shell, forms and their
 * CSRF token, messages and redirects. A page of the portal is a function
 * taking a cu_portal_page whose patient has been signed in by the portal's
 * cookie; pages_portal.c dispatches to it by route.
 */
#ifndef CUSTOS_HTTP_PORTAL_PAGES_H
#define CUSTOS_HTTP_PORTAL_PAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/portal.h"
#include "http/api_impl.h"
#include "http/assets.h"
#include "http/form.h"
#include "http/websec.h"
#include "iface/html.h"

/* The cookie banner of a portal page (pages_portal_cookies.c): shown when
 * the controller's policy declares a cookie that is not strictly necessary
 * and the visitor has made no choice under its current version. */
typedef struct cu_portal_banner {
    bool show;
    char controller_id[CU_ID_STRLEN];
    int64_t version;          /* the policy version shown (posted back) */
    char csrf[CU_CSRF_STRLEN];
    char ret[128];            /* the page's path: where the choice returns */
    char action[64];          /* the relative href of /portal/cookies */
} cu_portal_banner;

/* Fills b for the page req is for: the cookies of controller_id's policy
 * (NULL: the store's first controller's, for a page about no controller),
 * the choice of the signed-in patient who (NULL: the visitor whose cookie
 * the request carries), the form's token bound to session (who's CSRF
 * binding; NULL: the visitor's). Never fails: a store that cannot be read
 * shows the banner when the policy asks, none when there is no policy. */
void cu_portal_banner_for(cu_api *api, const cu_http_req *req, const char *controller_id,
                          const cu_portal_who *who, const char *session, cu_portal_banner *b);
/* cu_page.banner: writes the banner (ctx is a cu_portal_banner) or nothing. */
void cu_portal_banner_write(cu_html *h, const void *ctx);
/* GET and POST /portal/cookies. */
void cu_pages_portal_cookies(cu_api *api, const cu_http_req *req, cu_http_resp *resp);

/* A signed-in patient's request. */
typedef struct cu_portal_page {
    cu_api *api;
    const cu_http_req *req;
    cu_http_resp *resp;
    cu_portal_who who; /* the patient: their subject, name and session */
    char session[80];  /* "portal:" and the session's hash in hex: the CSRF binding */
    char via[96];      /* "http METHOD /path" for the audit trail */
    char assets[CU_ASSETS_REL_MAX];
    cu_portal_banner banner; /* the cookie banner of every page */
} cu_portal_page;

/* Once c->who is the signed-in patient: the page's CSRF binding (session),
 * the response's actor and the audit trail's via, for c's route. */
void cu_portal_page_patient(cu_portal_page *c);
/* An HTML page as the response (takes page's bytes). */
void cu_portal_send(cu_http_resp *resp, int status, cu_buf *page);
/* The page shell with the portal's navigation and sign-out button. */
void cu_portal_begin(cu_html *h, cu_portal_page *c, const char *title, bool wide);
/* A signed-in page begun in page (initialised here) through h: the shell,
 * then the caller's content, h1 included; cu_portal_end sends it. */
void cu_portal_open(cu_html *h, cu_buf *page, cu_portal_page *c, const char *title, bool wide);
/* Ends the shell and sends the page with status (500 when it could not be
 * written); releases page. */
void cu_portal_end(cu_html *h, cu_http_resp *resp, int status, cu_buf *page);
/* cu_portal_end with 200, for a signed-in page. */
void cu_portal_finish(cu_html *h, cu_portal_page *c, cu_buf *page);
/* The portal's lists show this many rows a page (?page=, from 1). */
#define CU_PORTAL_PER_PAGE 10
/* The NHS.UK pagination under a list of pages pages, page pageno shown:
 * Previous and Next links to path?page=N (relative) in a navigation landmark
 * named label, then "Page N of M."; nothing for a single page. */
void cu_portal_pagination(cu_html *h, const cu_portal_page *c, const char *path,
                          const char *label, long pageno, size_t pages);
/* The hidden CSRF token every form of a signed-in page carries. */
void cu_portal_csrf_field(cu_html *h, const cu_portal_page *c);
/* A page with a heading and one paragraph (refusals, expired forms). */
void cu_portal_message(cu_portal_page *c, int status, const char *title, const char *para);
/* 303 to the portal's path to, relative to the request's path. */
void cu_portal_redirect(const cu_http_req *req, cu_http_resp *resp, const char *to);
/* The relative href of the portal's path to (the portal works behind a
 * proxy prefix). */
void cu_portal_link_to(const cu_http_req *req, const char *to, char *out, size_t cap);
/* True when the request's body is a URL-encoded form. */
bool cu_portal_form_type(const cu_http_req *req);
/* Parses a signed-in page's POSTed form and checks its CSRF token. False:
 * the response is set (400 unreadable, 403 expired) and nothing is to be
 * freed; true: the caller frees form with cu_form_free. */
bool cu_portal_form(cu_portal_page *c, cu_form *form);

/* pages_portal_files.c: downloading one's data, answering questionnaires. */
void cu_portal_download(cu_portal_page *c);
void cu_portal_questionnaires(cu_portal_page *c);
void cu_portal_questionnaire(cu_portal_page *c);
void cu_portal_questionnaire_submit(cu_portal_page *c);
/* ---- pages_portal_rights.c: consents, rights requests, a typed code ---- */

/* A signed-in page of consents or rights requests, by route; false when
 * the route is not one of them. */
bool cu_portal_rights_page(cu_portal_page *c);
/* GET and POST /portal/invitation (no sign-in): the code typed from a
 * letter; false when the route is not one of them. */
bool cu_pages_portal_code_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp);

#endif
