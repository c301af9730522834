#include "http/api.h"
#include "http/api_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/input.h"
#include "domain/model.h"
#include "domain/qresponse.h"
#include "domain/subject.h"
#include "http/console.h"
#include "http/log.h"
#include "http/routes.h"
#include "store/fault.h"
#include "iface/render.h"
#include "util/clock.h"

/* Sign-in throttling by source address: after CU_SIGNIN_MAX_FAILURES failures
 * within the window, the source is refused until the window ends. */
#define THROTTLE_SLOTS 256
#define THROTTLE_WINDOW_US (15LL * 60 * 1000000)

typedef struct throttle_slot {
    char client[64];
    int failures;
    int64_t window_start;
} throttle_slot;

struct cu_api {
    cu_vault *vault;
    cu_api_config cfg;
    throttle_slot throttle[THROTTLE_SLOTS];
};

cu_api *cu_api_new(cu_vault *v, const cu_api_config *cfg)
{
    cu_api *api = calloc(1, sizeof *api);
    if (api) {
        api->vault = v;
        api->cfg = *cfg;
    }
    return api;
}

void cu_api_free(cu_api *api)
{
    free(api);
}

static void drop_page(cu_http_resp *resp)
{
    if (resp->drop)
        resp->drop(resp->render_ctx);
    resp->render = NULL;
    resp->drop = NULL;
    resp->render_ctx = NULL;
}

void cu_http_resp_release(cu_http_resp *resp)
{
    json_decref(resp->json);
    resp->json = NULL;
    cu_buf_release(&resp->raw);
    if (resp->view) {
        cu_subject_view_release(resp->view);
        free(resp->view);
        resp->view = NULL;
    }
    drop_page(resp);
    cu_wipe(resp->set_cookie, sizeof resp->set_cookie); /* it carries a session token */
}

void cu_http_resp_render(cu_http_resp *resp)
{
    if (resp->render) {
        /* detached first: a render that fails sets a problem, which would
         * drop the page under it */
        void (*render)(void *, cu_http_resp *) = resp->render;
        void (*drop)(void *) = resp->drop;
        void *ctx = resp->render_ctx;
        resp->render = NULL;
        resp->drop = NULL;
        resp->render_ctx = NULL;
        render(ctx, resp);
        drop(ctx);
    }
    if (!resp->view)
        return;
    cu_buf_init(&resp->raw, 64 << 20);
    int rc = resp->view_items_only ? cu_render_items(&resp->raw, resp->view)
                                   : cu_render_subject(&resp->raw, resp->view);
    cu_subject_view_release(resp->view);
    free(resp->view);
    resp->view = NULL;
    if (rc) {
        cu_buf_release(&resp->raw);
        cu_api_problem(resp, CU_P_INTERNAL, NULL);
    }
}

void cu_api_problem(cu_http_resp *resp, cu_problem p, const char *detail)
{
    drop_page(resp); /* a problem answers instead of any page pending */
    json_decref(resp->json);
    resp->status = cu_problem_status(p);
    resp->json = cu_problem_json(p, detail);
    resp->problem = true;
    resp->bearer_challenge = p == CU_P_UNAUTHENTICATED;
}

static void fail(cu_http_resp *resp, const cu_err *err)
{
    cu_problem p = cu_problem_of(err->code);
    /* Internal failures say what failed, which never holds personal data, but
     * the caller gets the generic title only. */
    if (p == CU_P_INTERNAL) {
        cu_log_msg(CU_LOG_ERROR, "error", "%s", err->msg);
        cu_api_problem(resp, p, NULL);
        return;
    }
    cu_api_problem(resp, p, err->msg);
}

static void ok(cu_http_resp *resp, int status, json_t *body)
{
    resp->status = status;
    resp->json = body;
}

/* ---- throttling ---- */

static throttle_slot *throttle_find(cu_api *api, const char *client, bool create)
{
    throttle_slot *oldest = &api->throttle[0];
    for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
        throttle_slot *s = &api->throttle[i];
        if (strcmp(s->client, client) == 0)
            return s;
        if (s->window_start < oldest->window_start)
            oldest = s;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof *oldest);
    cu_strlcpy(oldest->client, client, sizeof oldest->client);
    return oldest;
}

/* Seconds until the source may try again, or 0. */
static int throttled(cu_api *api, const char *client, int64_t now)
{
    throttle_slot *s = throttle_find(api, client, false);
    if (!s || now - s->window_start > THROTTLE_WINDOW_US ||
        s->failures < CU_SIGNIN_MAX_FAILURES)
        return 0;
    return (int)((s->window_start + THROTTLE_WINDOW_US - now) / 1000000) + 1;
}

static void throttle_note(cu_api *api, const char *client, bool failed, int64_t now)
{
    throttle_slot *s = throttle_find(api, client, failed);
    if (!s)
        return;
    if (!failed) {
        s->failures = 0;
        return;
    }
    if (now - s->window_start > THROTTLE_WINDOW_US) {
        s->window_start = now;
        s->failures = 0;
    }
    s->failures++;
}

/* ---- sign-in ---- */

/* The media type is exactly t (any case), then the end or its parameters. */
static bool media_type_is(const char *ct, const char *t)
{
    size_t n = strlen(t);
    return strncasecmp(ct, t, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

static bool json_body(const cu_http_req *req, cu_http_resp *resp)
{
    const char *ct = req->content_type;
    if (!ct || (!media_type_is(ct, "application/json") &&
                !media_type_is(ct, "application/merge-patch+json"))) {
        cu_api_problem(resp, CU_P_MEDIA_TYPE, "send Content-Type: application/json");
        return false;
    }
    return true;
}

static void via_of(const cu_http_req *req, char *out, size_t n)
{
    const cu_route_def *d = cu_route_get(req->route.id);
    snprintf(out, n, "http %s %s", d ? d->method : req->method, d ? d->path : "?");
}

/* A sign-in's via also names the source address (behind the trusted proxy,
 * the address it forwarded for): "http POST /v1/sessions from 192.0.2.7". */
static void signin_via(const cu_http_req *req, char *out, size_t n)
{
    via_of(req, out, n);
    if (req->client && req->client[0]) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, " from %s", req->client);
    }
}

int cu_api_signin_account(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                          cu_err *err)
{
    int64_t now = cu_now_us();
    int wait = throttled(api, req->client ? req->client : "", now);
    if (wait) {
        char via[128];
        signin_via(req, via, sizeof via);
        cu_err aerr = {0};
        if (cu_audit_refusal(api->vault, via, "authentication", &aerr))
            cu_log_msg(CU_LOG_ERROR, "error", "%s", aerr.msg);
        return wait;
    }
    if (cu_signin_prepare(api->vault, st->body.username, &st->acct, err))
        return -1;
    if (st->acct.tampered)
        cu_log_msg(CU_LOG_ERROR, "error", "sign-in refused: the account's users row has been "
                                          "altered (see custos verify)");
    return 0;
}

int cu_api_signin_throttle(cu_api *api, const cu_http_req *req)
{
    int wait = throttled(api, req->client ? req->client : "", cu_now_us());
    if (wait) {
        char via[128];
        signin_via(req, via, sizeof via);
        cu_err aerr = {0};
        if (cu_audit_refusal(api->vault, via, "authentication", &aerr))
            cu_log_msg(CU_LOG_ERROR, "error", "%s", aerr.msg);
    }
    return wait;
}

void cu_api_signin_note(cu_api *api, const cu_http_req *req, bool failed)
{
    throttle_note(api, req->client ? req->client : "", failed, cu_now_us());
}

void cu_api_signin_via(const cu_http_req *req, char *out, size_t n)
{
    signin_via(req, out, n);
}

bool cu_api_signin_record(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                          cu_signin_result *res, char token[CU_TOKEN_STRLEN], cu_principal *p,
                          cu_http_resp *resp)
{
    char via[128];
    signin_via(req, via, sizeof via);
    cu_err err = {0};
    if (cu_signin_finish(api->vault, &st->acct, st->password_ok, st->body.code, via, res, token,
                         p, &err)) {
        cu_api_fail(resp, &err);
        return false;
    }
    throttle_note(api, req->client ? req->client : "", *res != CU_SIGNIN_OK, cu_now_us());
    if (*res == CU_SIGNIN_OK && st->rehash) {
        cu_err rerr = {0};
        if (cu_user_rehash(api->vault, p->id, st->new_hash, &rerr))
            cu_log_msg(CU_LOG_ERROR, "error", "%s", rerr.msg);
    }
    if (*res == CU_SIGNIN_OK) {
        cu_strlcpy(resp->actor_id, p->id, sizeof resp->actor_id);
        cu_strlcpy(resp->actor_role, p->roles_text, sizeof resp->actor_role);
    }
    return true;
}

int64_t cu_api_session_idle_us(const cu_api *api)
{
    return api->cfg.session_idle_us;
}

int64_t cu_api_session_absolute_us(const cu_api *api)
{
    return api->cfg.session_absolute_us;
}

void cu_signin_state_clear(cu_signin_state *st)
{
    cu_wipe(st, sizeof *st);
}

void cu_signin_hash(cu_signin_state *st)
{
    cu_fault_hold();
    cu_err err = {0};
    st->password_ok = cu_password_hash(st->body.password, st->body.password_len,
                                       st->new_hash, &err) == CU_OK;
    st->hashed = true;
    st->hash_due = false;
    cu_wipe(st->body.password, sizeof st->body.password);
    st->body.password_len = 0;
}

/* ---- authenticated routes ---- */


/* ---- paging: every listing takes limit and cursor and answers next ---- */

typedef struct listing {
    cu_route_id id;
    const char *key; /* the array paged */
    long long def, max;
} listing;

static const listing listings[] = {
    {CU_R_SUBJECT_LIST, "subjects", CU_LIST_PAGE_DEFAULT, CU_LIST_PAGE_MAX},
    {CU_R_ACCESS_LOG, "events", CU_LIST_PAGE_DEFAULT, CU_LIST_PAGE_MAX},
    {CU_R_BREAK_GLASS_LIST, "grants", CU_LIST_PAGE_DEFAULT, CU_LIST_PAGE_MAX},
    {CU_R_AUDIT_LIST, "events", 1000, 10000},
    {CU_R_POLICY_VERSIONS, "versions", CU_LIST_PAGE_DEFAULT, CU_LIST_PAGE_MAX},
    {CU_R_CONSENT_LIST, "consents", CU_LIST_PAGE_DEFAULT, CU_LIST_PAGE_MAX},
    {CU_R_REQUEST_LIST, "requests", CU_LIST_PAGE_DEFAULT, CU_LIST_PAGE_MAX},
    {CU_R_REQUEST_DUE, "requests", CU_LIST_PAGE_DEFAULT, CU_LIST_PAGE_MAX},
    {CU_R_DISCLOSURE_LIST, "disclosures", CU_LIST_PAGE_DEFAULT, CU_LIST_PAGE_MAX},
};

static const listing *listing_of(cu_route_id id)
{
    for (size_t i = 0; i < sizeof listings / sizeof listings[0]; i++)
        if (listings[i].id == id)
            return &listings[i];
    return NULL;
}

/* What a cursor is bound to: the listing's route, its path and its filters. */
static void page_scope(const cu_http_req *r, char *out, size_t cap)
{
    const char *q[] = {r->q_subject, r->q_actor, r->q_since, r->q_until};
    size_t n = (size_t)snprintf(out, cap, "%d %s", (int)r->route.id, r->path ? r->path : "");
    for (size_t i = 0; i < sizeof q / sizeof q[0] && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "\x1f%s", q[i] ? q[i] : "");
}

/* Reads limit and cursor before anything is done (a bad one is a 400 that
 * records nothing). */
static bool page_begin(cu_call *c, const listing *l)
{
    const cu_http_req *r = c->req;
    c->page_limit = l->def;
    if (r->q_limit && !cu_parse_count(r->q_limit, l->max, &c->page_limit)) {
        char msg[48];
        snprintf(msg, sizeof msg, "limit must be 1 to %lld", l->max);
        cu_api_problem(c->resp, CU_P_INVALID, msg);
        return false;
    }
    if (r->q_cursor) {
        char scope[1200];
        cu_err err = {0};
        page_scope(r, scope, sizeof scope);
        if (cu_list_cursor_open(c->api->vault, scope, r->q_cursor, &c->page_at, &err)) {
            cu_api_problem(c->resp, CU_P_INVALID, err.msg);
            return false;
        }
    }
    return true;
}

/* Cuts a listing's answer to its page, with next when more follow. */
static void page_end(cu_call *c, const listing *l)
{
    cu_http_resp *resp = c->resp;
    if (resp->status != 200 || resp->problem || resp->content_type)
        return;
    json_t *doc = resp->json;
    if (!doc && resp->raw.len) {
        doc = json_loadb((const char *)resp->raw.data, resp->raw.len, 0, NULL);
        if (!doc)
            return;
        cu_buf_release(&resp->raw);
        cu_buf_init(&resp->raw, 0);
        resp->json = doc;
    }
    json_t *arr = doc ? json_object_get(doc, l->key) : NULL;
    if (!json_is_array(arr) && l->id == CU_R_SUBJECT_LIST)
        arr = json_object_get(doc, "ids"); /* a search */
    if (!json_is_array(arr))
        return;
    size_t n = json_array_size(arr);
    size_t from = c->page_at < n ? (size_t)c->page_at : n;
    size_t to = from + (size_t)c->page_limit < n ? from + (size_t)c->page_limit : n;
    json_t *page = json_array();
    for (size_t i = from; i < to; i++)
        json_array_append(page, json_array_get(arr, i));
    json_object_set_new(doc, json_is_array(json_object_get(doc, l->key)) ? l->key : "ids", page);
    if (to < n) {
        char scope[1200], cur[CU_CURSOR_STRLEN];
        page_scope(c->req, scope, sizeof scope);
        cu_list_cursor_make(c->api->vault, scope, to, cur);
        json_object_set_new(doc, "next", json_string(cur));
    }
}

static bool authenticate(cu_call *c)
{
    const char *h = c->req->authorization;
    /* The scheme is case-insensitive (RFC 9110 section 11.1). */
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        cu_api_problem(c->resp, CU_P_UNAUTHENTICATED, "send Authorization: Bearer <token>");
        return false;
    }
    cu_err err = {0};
    const char *token = h + 7;
    int rc = cu_authenticate(c->api->vault, token, strnlen(token, 256),
                             c->api->cfg.session_idle_us, c->api->cfg.session_absolute_us,
                             &c->who, &err);
    if (rc == CU_EDENIED) {
        cu_api_problem(c->resp, CU_P_UNAUTHENTICATED, err.msg);
        return false;
    }
    /* A credential whose row fails authentication is no credential: refused
     * as unknown, and the operator told (the message names only the row). */
    if (rc == CU_ETAMPER) {
        cu_log_msg(CU_LOG_ERROR, "error", "credentials refused: %s", err.msg);
        cu_api_problem(c->resp, CU_P_UNAUTHENTICATED, "unknown credentials");
        return false;
    }
    if (rc) {
        fail(c->resp, &err);
        return false;
    }
    return true;
}

cu_vault *cu_api_vault(cu_api *api)
{
    return api->vault;
}

void cu_api_fail(cu_http_resp *resp, const cu_err *err)
{
    fail(resp, err);
}

void cu_api_ok(cu_http_resp *resp, int status, json_t *body)
{
    ok(resp, status, body);
}

bool cu_api_json_body(const cu_http_req *req, cu_http_resp *resp)
{
    return json_body(req, resp);
}

bool cu_api_form_type(const char *ct)
{
    static const char form[] = "application/x-www-form-urlencoded";
    return ct && strncmp(ct, form, sizeof form - 1) == 0 &&
           (ct[sizeof form - 1] == '\0' || ct[sizeof form - 1] == ';');
}

void cu_api_prepare(const cu_http_req *req, cu_http_prep *p)
{
    memset(p, 0, sizeof *p);
    const char *ct = req->content_type;
    const char *body = req->body ? (const char *)req->body : "";
    switch (req->route.id) {
    case CU_R_QRESPONSE_CREATE:
        /* what json_body accepts; anything else the handler refuses */
        if (!ct || (!media_type_is(ct, "application/json") &&
                    !media_type_is(ct, "application/merge-patch+json")))
            return;
        p->qresponse = true;
        if (cu_qresponse_parse(body, req->body_len, &p->qr, &p->err))
            p->qr = NULL;
        return;
    case CU_R_QFORM_POST:
        if (!cu_api_form_type(ct))
            return;
        p->form = true;
        if (cu_form_parse(body, req->body_len, &p->fields, &p->err))
            memset(&p->fields, 0, sizeof p->fields);
        return;
    default:
        return;
    }
}

void cu_http_prep_release(cu_http_prep *p)
{
    cu_qresponse_free(p->qr);
    cu_form_free(&p->fields);
    memset(p, 0, sizeof *p);
}

/* A route server.c serves itself (cu_api_handle is not its way in), or a
 * bearer route without a handler: 404. */
static void no_handler(cu_call *c)
{
    cu_api_problem(c->resp, CU_P_NOT_FOUND, NULL);
}

/* A route the table has no row for yet: the portal's JSON entry may serve
 * it, else 404 once the caller is authenticated. */
static void unlisted(cu_call *c)
{
    if (!cu_api_portal_route(c->api, c->req, &c->actor, c->resp))
        no_handler(c);
}

void cu_api_handle(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    const cu_route_handler *h = cu_route_handler_get(req->route.id);
    cu_call c = {.api = api, .req = req, .resp = resp};
    via_of(req, c.via, sizeof c.via);
    /* A route without a row yet is offered to the areas that still dispatch
     * their own routes (the portal's). */
    if (!h && cu_pages_portal_route(api, req, resp))
        return;
    if (h && h->server) {
        no_handler(&c);
        return;
    }
    if (h && h->area) {
        if (!h->area(api, req, resp))
            no_handler(&c);
        return;
    }
    if (h && h->auth == CU_AUTH_STAFF) {
        cu_console_serve(api, req, resp, h->page); /* the console's cookie */
        return;
    }
    if (h && (h->auth == CU_AUTH_PUBLIC || h->auth == CU_AUTH_LINK)) {
        h->call(&c);
        return;
    }
    /* CU_AUTH_BEARER, and a route without a row */
    if (req->purpose && !cu_name_valid(req->purpose)) {
        cu_api_problem(resp, CU_P_INVALID, "Custos-Purpose must be a name of 1-64 "
                                              "characters a-z 0-9 _ . - starting with a "
                                              "letter");
        return;
    }
    if (!authenticate(&c))
        return;
    cu_strlcpy(resp->actor_id, c.who.id, sizeof resp->actor_id);
    cu_strlcpy(resp->actor_role, c.who.roles_text, sizeof resp->actor_role);
    if (req->purpose)
        cu_strlcpy(c.purpose, req->purpose, sizeof c.purpose);
    cu_principal_actor(&c.who, req->purpose ? c.purpose : NULL, c.via, &c.actor);
    cu_call_fn fn = !h ? unlisted : h->call ? h->call : no_handler;
    const listing *l = listing_of(req->route.id);
    if (l) {
        if (!page_begin(&c, l))
            return;
        fn(&c);
        page_end(&c, l);
        return;
    }
    fn(&c);
}
