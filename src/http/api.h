/*
 * api.h — the HTTP API's request handling, independent of the HTTP library:
 * a parsed request in, a status and a JSON (or text) body out.
 *
 * Threading: cu_api_handle and the cu_api_signin_* steps run on the one thread
 * that owns the vault, inside a group-commit batch (server.c); nothing here
 * locks. The slow password check of a sign-in runs between the two steps, on
 * the HTTP thread.
 *
 * Every request to a route that touches personal data must carry
 * "Authorization: Bearer <session or API token>" and may carry
 * "Custos-Purpose: <name>" (default per role). Requests refused before a
 * decision about a record (unauthenticated, malformed) change nothing in the
 * store; every authenticated request that reaches a record decision appends
 * exactly one audit event, refusals included.
 */
#ifndef CUSTOS_HTTP_API_H
#define CUSTOS_HTTP_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/staff.h"
#include "domain/subject.h"
#include "domain/vault.h"
#include "http/body.h"
#include "http/form.h"
#include "http/problem.h"
#include "http/router.h"
#include "http/websec.h"
#include "util/buf.h"

struct cu_qresponse;

/* What a request's body says, read by cu_api_prepare on the HTTP thread
 * before the store's thread takes the request: only what needs nothing of
 * the store (parsing), so the store's thread does not. The handler still
 * decides everything else (who asks, whether the body is used at all). */
typedef struct cu_http_prep {
    bool qresponse;               /* a QuestionnaireResponse was read: */
    struct cu_qresponse *qr;      /*   parsed, or NULL and err says why */
    bool form;                    /* a form was read: */
    cu_form fields;               /*   parsed, or empty and err says why */
    cu_err err;
} cu_http_prep;

typedef struct cu_http_req {
    const char *method;
    const char *path;
    cu_route_match route;
    const char *authorization; /* header value or NULL */
    const char *purpose;       /* Custos-Purpose or NULL */
    const char *content_type;
    const unsigned char *body;
    size_t body_len;
    /* query parameters (NULL when absent) */
    const char *q_nhs_number; /* the console's search by NHS number, from its
                               * posted form: never read from a URL */
    const char *q_subject, *q_actor, *q_since, *q_until, *q_limit;
    const char *q_format; /* notice: html|md; ropa: json|csv */
    const char *q_cursor; /* item listing: where the page starts */
    const char *q_state;  /* task listing: open|acknowledged|done */
    const char *q_page;   /* the staff console's patient list: page number */
    /* the console's search by family name and date of birth (the API's is
     * in POST /v1/subjects/search's body, never in a URL) */
    const char *q_family, *q_birth_day, *q_birth_month, *q_birth_year;
    const char *q_action, *q_outcome; /* the staff console's audit search */
    const char *client; /* source address: throttling, the sign-in's audit event */
    const char *cookie; /* the Cookie header or NULL: the pages' session (cu_cookie_get) */
    const char *fetch_site; /* Sec-Fetch-Site or NULL: where a browser's request came from */
    const cu_http_prep *prep; /* the body read on the HTTP thread, or NULL: read it here */
    /* a route that stores a new password: where it is hashed off the
     * store's thread (cu_signin_state), or NULL: hash it here */
    struct cu_signin_state *pw;
} cu_http_req;

typedef struct cu_http_resp {
    int status;
    json_t *json;  /* owned; NULL for no body */
    cu_buf raw;    /* or a body already rendered (wiped when released) */
    const char *content_type; /* of raw when it is not JSON (static string) */
    cu_subject_view *view; /* or a subject to render on the HTTP thread (owned) */
    bool view_items_only;
    /* or a page to write on the HTTP thread once the store's work is durable:
     * render(render_ctx, resp) sets the body, then drop(render_ctx) frees
     * (and wipes) what it held; drop alone when the response is released
     * unsent. What render reads was copied out of the store on its thread. */
    void (*render)(void *ctx, struct cu_http_resp *resp);
    void (*drop)(void *ctx);
    void *render_ctx;
    bool problem;  /* json is a problem document */
    char location[96];
    char allow[64];
    /* a download's file name (Content-Disposition: attachment), or "" for
     * none: [A-Za-z0-9._-] only, never personal data */
    char attachment[64];
    int retry_after; /* seconds; 0 = none */
    bool bearer_challenge;
    /* a Set-Cookie value made by cu_cookie_set or cu_cookie_clear
     * (http/websec.h), or "" for none */
    char set_cookie[CU_SET_COOKIE_MAX];
    /* who made the request, for the request log: staff user id (or API
     * token id) and roles; "" when unauthenticated */
    char actor_id[40];
    char actor_role[96];
} cu_http_resp;

typedef struct cu_api cu_api;

typedef struct cu_api_config {
    int64_t session_idle_us;
    int64_t session_absolute_us;
} cu_api_config;

cu_api *cu_api_new(cu_vault *v, const cu_api_config *cfg);
void cu_api_free(cu_api *api);

/* Sets resp to a problem response. */
void cu_api_problem(cu_http_resp *resp, cu_problem p, const char *detail);
void cu_http_resp_release(cu_http_resp *resp);
/* Renders a pending subject view or page into resp->raw (on the HTTP
 * thread, so the store's thread only reads, decrypts and audits). */
void cu_http_resp_render(cu_http_resp *resp);

/* On the HTTP thread, before the request is queued for the store's thread:
 * parses the body of the routes whose parsing needs no store data (POST
 * /v1/subjects/{id}/questionnaire-responses, a JSON body; POST /q/{token},
 * a form) into p, which the handler then reads through req->prep. Nothing
 * for other routes or other media types. Release p with
 * cu_http_prep_release once the request is answered. */
void cu_api_prepare(const cu_http_req *req, cu_http_prep *p);
void cu_http_prep_release(cu_http_prep *p);

/* Handles every route except POST /v1/sessions, /healthz and /metrics. */
void cu_api_handle(cu_api *api, const cu_http_req *req, cu_http_resp *resp);

/* Sign-in, step 1 (vault thread): parses the body and reads the account.
 * Returns false with resp set when the request is refused already. */
typedef struct cu_signin_state {
    cu_signin_body body;
    cu_signin acct;
    bool password_ok;
    bool rehash;
    char new_hash[CU_PWHASH_STRBYTES];
    /* A handler of a route that stores a new password (server.c: the
     * console's account add and password reset) asks, on its first run, for
     * body.password to be hashed into new_hash off the store's thread
     * (hash_due; it answers nothing); the server hashes it (cu_signin_hash:
     * hashed, and password_ok when it succeeded) and runs the request
     * again, from the session check on. */
    bool hash_due;
    bool hashed;
} cu_signin_state;
/* Step 2 of a new password (HTTP thread): cu_password_hash of body.password
 * into new_hash (password_ok when it succeeded, hashed either way); wipes
 * the password. */
void cu_signin_hash(cu_signin_state *st);
bool cu_api_signin_prepare(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                           cu_http_resp *resp);
/* Step 2 (HTTP thread): the slow password check. */
void cu_api_signin_check(cu_signin_state *st);
/* Step 3 (vault thread): records the attempt and answers it. */
void cu_api_signin_finish(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                          cu_http_resp *resp);
/* The same steps for the sign-in page (POST /staff/sign-in, a form):
 * prepare parses the form and answers a form with errors itself (false);
 * finish sets the session cookie and redirects, or shows the form again. */
bool cu_pages_signin_prepare(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                             cu_http_resp *resp);
void cu_pages_signin_finish(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                            cu_http_resp *resp);
/* The same steps for the patient portal's invitation page (POST
 * /portal/invitation/{pcode}, pages_portal.c): prepare checks the
 * invitation and the form (answering a refusal or a form with errors itself:
 * false) and keeps the password in st->body; cu_signin_hash makes its
 * Argon2id hash into st->new_hash off the store's thread and wipes the
 * password; finish sets it and answers. */
bool cu_pages_portal_prepare(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                             cu_http_resp *resp);
void cu_pages_portal_finish(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                            cu_http_resp *resp);
/* The same steps for the patient portal's sign-in (POST /portal/sign-in):
 * prepare checks the form and the throttle and reads the account's hash
 * into st->acct (found, user.pwhash) for cu_api_signin_check; finish
 * records the attempt, sets the portal's cookie and redirects, or shows
 * the form again. */
bool cu_pages_portal_signin_prepare(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                                    cu_http_resp *resp);
void cu_pages_portal_signin_finish(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                                   cu_http_resp *resp);
/* Wipes the state. */
void cu_signin_state_clear(cu_signin_state *st);

#endif
