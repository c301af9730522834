#include "http/api.h"
#include "http/api_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <strings.h>

#include "domain/input.h"
#include "domain/model.h"
#include "domain/subject.h"
#include "http/log.h"
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
    cu_wipe(resp->set_cookie, sizeof resp->set_cookie); /* it carries a session token */
}

void cu_http_resp_render(cu_http_resp *resp)
{
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

bool cu_api_signin_prepare(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                           cu_http_resp *resp)
{
    memset(st, 0, sizeof *st);
    if (!json_body(req, resp))
        return false;
    cu_err err = {0};
    if (cu_body_signin(req->body, req->body_len, &st->body, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return false;
    }
    int wait = cu_api_signin_account(api, req, st, &err);
    if (wait > 0) {
        cu_api_problem(resp, CU_P_THROTTLED, "too many failed sign-ins from this address");
        resp->retry_after = wait;
        return false;
    }
    if (wait < 0) {
        fail(resp, &err);
        return false;
    }
    return true;
}

void cu_api_signin_check(cu_signin_state *st)
{
    /* A missing account still costs one hash, so timing does not tell. */
    static const char dummy[] =
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "qMbqMlnQGqXzlbwEfl4PRAUw3zSoHp5u5FKMq0bDpRk";
    const char *stored = st->acct.found ? st->acct.user.pwhash : dummy;
    st->password_ok = cu_pwhash_verify(stored, st->body.password, st->body.password_len) &&
                      st->acct.found;
    if (st->password_ok && cu_pwhash_needs_rehash(stored) &&
        cu_pwhash(st->body.password, st->body.password_len, st->new_hash) == CU_OK)
        st->rehash = true;
}

int cu_api_signin_record(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                         cu_signin_result *res, char token[CU_TOKEN_STRLEN], cu_principal *p,
                         cu_err *err)
{
    char via[128];
    signin_via(req, via, sizeof via);
    int rc = cu_signin_finish(api->vault, &st->acct, st->password_ok, st->body.code, via, res,
                              token, p, err);
    if (rc)
        return rc;
    throttle_note(api, req->client ? req->client : "", *res != CU_SIGNIN_OK, cu_now_us());
    if (*res == CU_SIGNIN_OK && st->rehash) {
        cu_err rerr = {0};
        if (cu_user_rehash(api->vault, p->id, st->new_hash, &rerr))
            cu_log_msg(CU_LOG_ERROR, "error", "%s", rerr.msg);
    }
    return CU_OK;
}

int64_t cu_api_session_idle_us(const cu_api *api)
{
    return api->cfg.session_idle_us;
}

int64_t cu_api_session_absolute_us(const cu_api *api)
{
    return api->cfg.session_absolute_us;
}

void cu_api_signin_finish(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                          cu_http_resp *resp)
{
    char token[CU_TOKEN_STRLEN];
    cu_signin_result res;
    cu_principal p;
    cu_err err = {0};
    if (cu_api_signin_record(api, req, st, &res, token, &p, &err)) {
        fail(resp, &err);
        return;
    }
    int64_t now = cu_now_us();
    switch (res) {
    case CU_SIGNIN_OK:
        cu_strlcpy(resp->actor_id, p.id, sizeof resp->actor_id);
        cu_strlcpy(resp->actor_role, p.roles_text, sizeof resp->actor_role);
        ok(resp, 201,
           json_pack("{s:s, s:s, s:I, s:o, s:{s:s, s:s, s:s}}", "token", token, "token_type",
                     "Bearer", "idle_timeout_seconds",
                     (json_int_t)(api->cfg.session_idle_us / 1000000), "expires_at",
                     cu_json_time(now + api->cfg.session_absolute_us), "user", "username",
                     p.name, "roles", p.roles_text, "controller", p.controller_id));
        break;
    case CU_SIGNIN_CODE_REQUIRED:
        cu_api_problem(resp, CU_P_CODE_REQUIRED, "this account needs a one-time code (\"code\")");
        break;
    case CU_SIGNIN_LOCKED: {
        cu_api_problem(resp, CU_P_THROTTLED, "the account is locked after repeated failures");
        int64_t left = (st->acct.user.locked_until - now) / 1000000 + 1;
        resp->retry_after = left > 0 && left < 86401 ? (int)left : 900;
        break;
    }
    case CU_SIGNIN_BAD_CODE:
    case CU_SIGNIN_BAD_CREDENTIALS:
    case CU_SIGNIN_DISABLED:
        /* One answer for every refusal, so it does not tell which accounts exist. */
        cu_api_problem(resp, CU_P_UNAUTHENTICATED, "the username, password or code is wrong");
        resp->bearer_challenge = false;
        break;
    }
    cu_wipe(token, sizeof token);
}

void cu_signin_state_clear(cu_signin_state *st)
{
    cu_wipe(st, sizeof *st);
}

/* ---- authenticated routes ---- */

typedef struct call {
    cu_api *api;
    const cu_http_req *req;
    cu_http_resp *resp;
    cu_principal who;
    cu_actor actor;
    char via[96];
    char purpose[72];
    /* a listing's page: the position it starts at and its length */
    uint64_t page_at;
    long long page_limit;
} call;

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
    const char *q[] = {r->q_nhs_number, r->q_email,  r->q_phone, r->q_local_ref,
                       r->q_subject,    r->q_actor,  r->q_since, r->q_until};
    size_t n = (size_t)snprintf(out, cap, "%d %s", (int)r->route.id, r->path ? r->path : "");
    for (size_t i = 0; i < sizeof q / sizeof q[0] && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "\x1f%s", q[i] ? q[i] : "");
}

/* Reads limit and cursor before anything is done (a bad one is a 400 that
 * records nothing). */
static bool page_begin(call *c, const listing *l)
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
static void page_end(call *c, const listing *l)
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

static int collect_events(void *ctx, const cu_audit_decoded *e, const cu_buf *payload)
{
    json_array_append_new(ctx, cu_json_event(e, payload));
    return 0;
}

static int collect_ids(void *ctx, const char *id)
{
    json_array_append_new(ctx, json_string(id));
    return 0;
}

static int collect_subjects(void *ctx, const cu_subject_rec *r)
{
    /* Listed by pseudonym (to those who see subjects only so): times to the
     * month, as cu_subject_list made them. */
    json_t *(*when)(int64_t) = cu_pseudonym_valid(r->id) ? cu_json_month : cu_json_time;
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:o, s:o}", "id", r->id, "kind", r->kind,
                                         "created_at", when(r->created_at), "erased_at",
                                         when(r->erased_at)));
    return 0;
}

static int collect_grants(void *ctx, const cu_break_glass_row *g, const cu_buf *reason)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", g->id, "user", g->username,
                          "subject", g->subject_id, "granted_at", cu_json_time(g->granted_at),
                          "expires_at", cu_json_time(g->expires_at));
    json_object_set_new(j, "reason", reason ? json_stringn((const char *)reason->data,
                                                           reason->len)
                                            : json_null());
    json_array_append_new(ctx, j);
    return 0;
}

static bool parse_doc(call *c, cu_doc_kind kind, cu_doc *doc)
{
    if (!json_body(c->req, c->resp))
        return false;
    cu_err err = {0};
    if (cu_doc_parse(c->req->body, c->req->body_len, kind, doc, &err)) {
        cu_api_problem(c->resp, CU_P_INVALID, err.msg);
        return false;
    }
    return true;
}

static void subject_create(call *c)
{
    cu_doc doc;
    if (!parse_doc(c, CU_DOC_SUBJECT, &doc))
        return;
    cu_err err = {0};
    char id[CU_ID_STRLEN];
    if (!doc.kind) {
        cu_doc_release(&doc);
        cu_api_problem(c->resp, CU_P_INVALID, "$.kind is required");
        return;
    }
    int rc = cu_subject_add(c->api->vault, &c->actor, c->who.controller_id, doc.kind, &doc, id,
                            &err);
    cu_doc_release(&doc);
    if (rc) {
        fail(c->resp, &err);
        return;
    }
    snprintf(c->resp->location, sizeof c->resp->location, "/v1/subjects/%s", id);
    ok(c->resp, 201, json_pack("{s:s}", "id", id));
}

static void subject_search(call *c, const char *field, const char *value, size_t n)
{
    cu_err err = {0};
    json_t *ids = json_array();
    int rc = cu_subject_find(c->api->vault, &c->actor, c->who.controller_id, field, value, n,
                             collect_ids, ids, &err);
    if (rc == CU_ENOTFOUND) /* a search that finds nothing is an empty answer */
        {
            ok(c->resp, 200, json_pack("{s:o}", "ids", ids));
            return;
        }
    if (rc) {
        json_decref(ids);
        {
            fail(c->resp, &err);
            return;
        }
    }
    ok(c->resp, 200, json_pack("{s:o}", "ids", ids));
}

static void subject_list(call *c)
{
    const cu_http_req *r = c->req;
    const char *fields[] = {"nhs_number", "email", "phone", "local_ref"};
    const char *values[] = {r->q_nhs_number, r->q_email, r->q_phone, r->q_local_ref};
    int given = -1, count = 0;
    for (int i = 0; i < 4; i++)
        if (values[i]) {
            given = i;
            count++;
        }
    if (count > 1) {
        cu_api_problem(c->resp, CU_P_INVALID, "search by one identifier at a time");
        return;
    }
    if (count == 1) {
        subject_search(c, fields[given], values[given], strlen(values[given]));
        return;
    }
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_subject_list(c->api->vault, &c->actor, c->who.controller_id, collect_subjects, arr,
                        &err)) {
        json_decref(arr);
        {
            fail(c->resp, &err);
            return;
        }
    }
    ok(c->resp, 200, json_pack("{s:o}", "subjects", arr));
}

static void subject_search_post(call *c)
{
    if (!json_body(c->req, c->resp))
        return;
    cu_search_body b;
    cu_err err = {0};
    if (cu_body_search(c->req->body, c->req->body_len, &b, &err)) {
        cu_api_problem(c->resp, CU_P_INVALID, err.msg);
        return;
    }
    if (strcmp(b.field, "family_name") == 0) {
        json_t *ids = json_array();
        int rc = cu_subject_find_name_birth(c->api->vault, &c->actor, c->who.controller_id,
                                            b.value, b.value_len, b.birth_date, collect_ids,
                                            ids, &err);
        if (rc && rc != CU_ENOTFOUND) { /* finding nothing is an empty answer */
            json_decref(ids);
            fail(c->resp, &err);
        } else {
            ok(c->resp, 200, json_pack("{s:o}", "ids", ids));
        }
    } else {
        subject_search(c, b.field, b.value, b.value_len);
    }
    cu_wipe(&b, sizeof b);
}

static void subject_get(call *c, bool items_only)
{
    cu_err err = {0};
    cu_subject_view *sv = calloc(1, sizeof *sv);
    if (!sv) {
        cu_api_problem(c->resp, CU_P_UNAVAILABLE, NULL);
        return;
    }
    /* One page of items per request: a subject with thousands of them holds
     * the store's thread no longer than any other read. */
    long long limit = CU_ITEMS_PAGE_DEFAULT;
    if (c->req->q_limit && !cu_parse_count(c->req->q_limit, CU_ITEMS_PAGE_MAX, &limit)) {
        free(sv);
        cu_api_problem(c->resp, CU_P_INVALID, "limit must be 1 to 500");
        return;
    }
    if (cu_subject_get_page(c->api->vault, &c->actor, c->req->route.subject,
                            items_only ? c->req->q_cursor : NULL, (size_t)limit, !items_only, sv,
                            &err)) {
        free(sv);
        fail(c->resp, &err);
        return;
    }
    /* The hottest read path: the store's thread decrypts; the HTTP thread
     * renders the view straight into the response buffer. */
    c->resp->view = sv;
    c->resp->view_items_only = items_only;
    c->resp->status = 200;
}

static void subject_patch(call *c)
{
    cu_doc doc;
    if (!parse_doc(c, CU_DOC_RECTIFY, &doc))
        return;
    cu_err err = {0};
    json_t *tell = json_array();
    int rc = cu_subject_rectify_notify(c->api->vault, &c->actor, c->req->route.subject, &doc,
                                       cu_json_collect_recipient, tell, &err);
    cu_doc_release(&doc);
    if (rc) {
        json_decref(tell);
        fail(c->resp, &err);
        return;
    }
    ok(c->resp, 200, json_pack("{s:s, s:b, s:o}", "id", c->req->route.subject, "rectified", 1,
                               "recipients_to_notify", tell));
}

static void items_create(call *c)
{
    cu_doc doc;
    if (!parse_doc(c, CU_DOC_SUBJECT, &doc))
        return;
    cu_err err = {0};
    char (*ids)[CU_ID_STRLEN] = calloc(doc.n, sizeof *ids);
    int rc = ids ? cu_subject_add_items(c->api->vault, &c->actor, c->req->route.subject, &doc,
                                        ids, &err)
                 : cu_err_set(&err, CU_ENOMEM, "out of memory");
    json_t *arr = json_array();
    for (size_t i = 0; !rc && i < doc.n; i++)
        json_array_append_new(arr, json_string(ids[i]));
    free(ids);
    cu_doc_release(&doc);
    if (rc) {
        json_decref(arr);
        {
            fail(c->resp, &err);
            return;
        }
    }
    ok(c->resp, 201, json_pack("{s:o}", "items", arr));
}

static void access_log(call *c)
{
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_subject_access_log(c->api->vault, &c->actor, c->req->route.subject, collect_events,
                              arr, &err)) {
        json_decref(arr);
        {
            fail(c->resp, &err);
            return;
        }
    }
    ok(c->resp, 200, json_pack("{s:s, s:o}", "subject", c->req->route.subject, "events", arr));
}

static bool parse_time_param(call *c, const char *name, const char *v, bool end, int64_t *out)
{
    if (!v)
        return true;
    if (!cu_time_parse(v, strlen(v), out)) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", name);
        cu_api_problem(c->resp, CU_P_INVALID, msg);
        return false;
    }
    if (end && strlen(v) == 10)
        *out += 86400000000LL - 1;
    return true;
}

static void audit_list(call *c)
{
    const cu_http_req *r = c->req;
    cu_audit_filter f = {.subject_id = r->q_subject, .actor = r->q_actor, .limit = 1000};
    if (r->q_subject && !cu_id_valid(r->q_subject)) {
        cu_api_problem(c->resp, CU_P_INVALID, "subject must be a subject id");
        return;
    }
    if (r->q_actor && !cu_actor_valid(r->q_actor)) {
        cu_api_problem(c->resp, CU_P_INVALID, "actor must be a user name");
        return;
    }
    if (!parse_time_param(c, "since", r->q_since, false, &f.since_us) ||
        !parse_time_param(c, "until", r->q_until, true, &f.until_us))
        return;
    /* enough events for the page and one more (to know whether more follow) */
    f.limit = (int64_t)(c->page_at + (uint64_t)c->page_limit + 1);
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_audit_list(c->api->vault, &c->actor, &f, false, collect_events, arr, &err)) {
        json_decref(arr);
        {
            fail(c->resp, &err);
            return;
        }
    }
    ok(c->resp, 200, json_pack("{s:o}", "events", arr));
}

static void audit_verify(call *c)
{
    cu_err err = {0};
    cu_verify_report rep;
    if (cu_audit_check(c->api->vault, &c->actor, &rep, &err)) {
        fail(c->resp, &err);
        return;
    }
    json_t *j = json_pack("{s:b, s:I, s:I}", "ok", rep.ok, "events", (json_int_t)rep.events,
                          "signatures", (json_int_t)rep.checkpoints);
    if (!rep.ok) {
        json_object_set_new(j, "first_bad_event", json_integer(rep.first_bad));
        json_object_set_new(j, "problem", json_string(rep.reason));
    }
    ok(c->resp, 200, j);
}

static void break_glass_create(call *c)
{
    if (!json_body(c->req, c->resp))
        return;
    cu_break_glass_body b;
    cu_err err = {0};
    if (cu_body_break_glass(c->req->body, c->req->body_len, &b, &err)) {
        cu_api_problem(c->resp, CU_P_INVALID, err.msg);
        return;
    }
    char id[CU_ID_STRLEN];
    int64_t expires = 0;
    int rc = cu_break_glass_grant(c->api->vault, &c->actor, c->req->route.subject, b.reason,
                                  b.reason_len, b.minutes, id, &expires, &err);
    cu_wipe(&b, sizeof b);
    if (rc) {
        fail(c->resp, &err);
        return;
    }
    ok(c->resp, 201, json_pack("{s:s, s:s, s:o}", "id", id, "subject", c->req->route.subject,
                               "expires_at", cu_json_time(expires)));
}

static void break_glass_list(call *c)
{
    int64_t since = 0;
    if (!parse_time_param(c, "since", c->req->q_since, false, &since))
        return;
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_break_glass_list(c->api->vault, &c->actor, since, collect_grants, arr, &err)) {
        json_decref(arr);
        {
            fail(c->resp, &err);
            return;
        }
    }
    ok(c->resp, 200, json_pack("{s:o}", "grants", arr));
}

static void care_team(call *c, bool on)
{
    cu_err err = {0};
    if (cu_care_set(c->api->vault, &c->actor, c->req->route.user, c->req->route.subject, on,
                    &err))
        {
            fail(c->resp, &err);
            return;
        }
    c->resp->status = 204;
}

static bool authenticate(call *c)
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

static void route(call *cp);

void cu_api_handle(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    if (cu_api_public_route(api, req, resp) || cu_pages_staff_route(api, req, resp) ||
        cu_pages_portal_route(api, req, resp))
        return;
    call c = {.api = api, .req = req, .resp = resp};
    via_of(req, c.via, sizeof c.via);
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
    const listing *l = listing_of(req->route.id);
    if (l) {
        if (!page_begin(&c, l))
            return;
        route(&c);
        page_end(&c, l);
        return;
    }
    route(&c);
}

/* The handler of an authenticated request. */
static void route(call *cp)
{
    call c = *cp;
    cu_api *api = c.api;
    const cu_http_req *req = c.req;
    cu_http_resp *resp = c.resp;
    switch (req->route.id) {
    case CU_R_SESSION_DELETE: {
        cu_err err = {0};
        if (cu_signout(api->vault, &c.who, c.via, &err)) {
            fail(resp, &err);
            return;
        }
        resp->status = 204;
        return;
    }
    case CU_R_SESSION_DELETE_ALL: {
        cu_err err = {0};
        if (cu_signout_everywhere(api->vault, &c.who, c.via, &err)) {
            fail(resp, &err);
            return;
        }
        resp->status = 204;
        return;
    }
    case CU_R_SUBJECT_CREATE:
        subject_create(&c);
        return;
    case CU_R_SUBJECT_LIST:
        subject_list(&c);
        return;
    case CU_R_SUBJECT_SEARCH:
        subject_search_post(&c);
        return;
    case CU_R_SUBJECT_GET:
        subject_get(&c, false);
        return;
    case CU_R_SUBJECT_PATCH:
        subject_patch(&c);
        return;
    case CU_R_ITEMS_CREATE:
        items_create(&c);
        return;
    case CU_R_ITEMS_LIST:
        subject_get(&c, true);
        return;
    case CU_R_ACCESS_LOG:
        access_log(&c);
        return;
    case CU_R_BREAK_GLASS_CREATE:
        break_glass_create(&c);
        return;
    case CU_R_BREAK_GLASS_LIST:
        break_glass_list(&c);
        return;
    case CU_R_CARE_PUT:
        care_team(&c, true);
        return;
    case CU_R_CARE_DELETE:
        care_team(&c, false);
        return;
    case CU_R_AUDIT_LIST:
        audit_list(&c);
        return;
    case CU_R_AUDIT_VERIFY:
        audit_verify(&c);
        return;
    default:
        if (!cu_api_policy_route(api, req, &c.actor, &c.who, resp) &&
            !cu_api_requests_route(api, req, &c.actor, &c.who, resp) &&
            !cu_api_sar_route(api, req, &c.actor, resp) &&
            !cu_api_questionnaire_route(api, req, &c.actor, resp) &&
            !cu_api_portal_route(api, req, &c.actor, resp) &&
            !cu_api_tasks_route(api, req, &c.actor, resp))
            cu_api_problem(resp, CU_P_NOT_FOUND, NULL);
        return;
    }
}
