/*
 * test_http.c — the HTTP API's pure parts: the router (templates, parameters,
 * path hygiene, 405s), the small body parsers, problem types; and the staff
 * credentials they rely on (TOTP per RFC 6238, tokens, password hashes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/secrets.h"
#include "domain/qresponse.h"
#include "http/api.h"
#include "http/body.h"
#include "http/conn.h"
#include "http/framing.h"
#include "http/log.h"
#include "http/problem.h"
#include "http/router.h"
#include "http/server.h"
#include "store/driver.h"

#define SUBJ "0b6f8a3e-4c1d-4e2f-9a7b-1c2d3e4f5a6b"
#define PSN "psn_0123456789abcdef0123456789abcdef"

typedef struct route_case {
    const char *method, *path;
    cu_route_id id;
    bool mismatch;
    const char *subject, *user;
} route_case;

static const route_case routes[] = {
    {"GET", "/healthz", CU_R_HEALTHZ, false, "", ""},
    {"GET", "/metrics", CU_R_METRICS, false, "", ""},
    {"POST", "/v1/sessions", CU_R_SESSION_CREATE, false, "", ""},
    {"DELETE", "/v1/sessions/current", CU_R_SESSION_DELETE, false, "", ""},
    {"DELETE", "/v1/sessions", CU_R_SESSION_DELETE_ALL, false, "", ""},
    {"POST", "/v1/subjects", CU_R_SUBJECT_CREATE, false, "", ""},
    {"GET", "/v1/subjects", CU_R_SUBJECT_LIST, false, "", ""},
    {"POST", "/v1/subjects/search", CU_R_SUBJECT_SEARCH, false, "", ""},
    {"GET", "/v1/subjects/" SUBJ, CU_R_SUBJECT_GET, false, SUBJ, ""},
    {"GET", "/v1/subjects/" PSN, CU_R_SUBJECT_GET, false, PSN, ""},
    {"PATCH", "/v1/subjects/" SUBJ, CU_R_SUBJECT_PATCH, false, SUBJ, ""},
    {"POST", "/v1/subjects/" SUBJ "/items", CU_R_ITEMS_CREATE, false, SUBJ, ""},
    {"GET", "/v1/subjects/" SUBJ "/items", CU_R_ITEMS_LIST, false, SUBJ, ""},
    {"GET", "/v1/subjects/" SUBJ "/access-log", CU_R_ACCESS_LOG, false, SUBJ, ""},
    {"POST", "/v1/subjects/" SUBJ "/break-glass", CU_R_BREAK_GLASS_CREATE, false, SUBJ, ""},
    {"GET", "/v1/break-glass", CU_R_BREAK_GLASS_LIST, false, "", ""},
    {"PUT", "/v1/subjects/" SUBJ "/care-team/alice", CU_R_CARE_PUT, false, SUBJ, "alice"},
    {"DELETE", "/v1/subjects/" SUBJ "/care-team/alice", CU_R_CARE_DELETE, false, SUBJ, "alice"},
    {"GET", "/v1/audit", CU_R_AUDIT_LIST, false, "", ""},
    {"GET", "/v1/audit/verify", CU_R_AUDIT_VERIFY, false, "", ""},
    {"GET", "/v1/tasks", CU_R_TASK_LIST, false, "", ""},
    {"GET", "/v1/tasks/due", CU_R_TASK_DUE, false, "", ""},
    {"POST", "/v1/tasks/" SUBJ "/ack", CU_R_TASK_ACK, false, SUBJ, ""},
    {"POST", "/v1/tasks/" SUBJ "/done", CU_R_TASK_DONE, false, SUBJ, ""},
    {"POST", "/v1/subjects/" SUBJ "/pathways", CU_R_PATHWAY_ENROL, false, SUBJ, ""},
    {"POST", "/v1/subjects/" SUBJ "/pathways/psfu-example/discharge", CU_R_PATHWAY_DISCHARGE,
     false, SUBJ, ""},
    {"GET", "/v1/tasks/" SUBJ "/ack", CU_R_NONE, true, "", ""},
    {"POST", "/v1/tasks/due", CU_R_NONE, true, "", ""},
    {"POST", "/v1/tasks/not-an-id/ack", CU_R_NONE, false, "", ""},
    {"POST", "/v1/subjects/" SUBJ "/pathways/Psfu;x/discharge", CU_R_NONE, false, "", ""},
    /* the same paths under other methods: 405 */
    {"DELETE", "/v1/subjects/" SUBJ, CU_R_NONE, true, "", ""},
    {"PUT", "/v1/sessions", CU_R_NONE, true, "", ""},
    {"POST", "/v1/audit", CU_R_NONE, true, "", ""},
    /* nothing matches: 404 */
    {"GET", "/", CU_R_NONE, false, "", ""},
    {"GET", "", CU_R_NONE, false, "", ""},
    {"GET", "/v1/subjects/", CU_R_NONE, false, "", ""},
    {"GET", "/v1//subjects", CU_R_NONE, false, "", ""},
    {"GET", "/v1/subjects/../audit", CU_R_NONE, false, "", ""},
    {"GET", "/v1/./subjects", CU_R_NONE, false, "", ""},
    {"GET", "/v1/subjects/not-an-id", CU_R_NONE, false, "", ""},
    {"GET", "/v1/subjects/0B6F8A3E-4C1D-4E2F-9A7B-1C2D3E4F5A6B", CU_R_NONE, false, "", ""},
    {"GET", "/v1/subjects/" SUBJ "'--", CU_R_NONE, false, "", ""},
    {"GET", "/v1/subjects/" SUBJ "%00", CU_R_NONE, false, "", ""},
    {"GET", "/v1/subjects/" SUBJ "/items/extra", CU_R_NONE, false, "", ""},
    {"PUT", "/v1/subjects/" SUBJ "/care-team/Alice", CU_R_NONE, false, "", ""},
    {"PUT", "/v1/subjects/" SUBJ "/care-team/a;drop", CU_R_NONE, false, "", ""},
    {"GET", "relative/path", CU_R_NONE, false, "", ""},
};

static void test_router(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const route_case *t = &routes[i];
        cu_route_match m;
        cu_route(t->method, t->path, &m);
        if (m.id != t->id || m.method_mismatch != t->mismatch)
            fail_msg("%s %s: route %d mismatch %d, want %d %d", t->method, t->path, m.id,
                     m.method_mismatch, t->id, t->mismatch);
        assert_string_equal(m.subject, t->subject);
        assert_string_equal(m.user, t->user);
        if (t->mismatch)
            assert_true(m.allow[0] != '\0');
    }
    cu_route_match m;
    cu_route("DELETE", "/v1/subjects/" SUBJ, &m);
    assert_non_null(strstr(m.allow, "GET"));
    assert_non_null(strstr(m.allow, "PATCH"));
    /* an over-long path matches nothing */
    char longp[CU_PATH_MAX + 32];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    cu_route("GET", longp, &m);
    assert_int_equal(m.id, CU_R_NONE);
}

/* Every route in the table is reachable and named. */
static void test_route_table(void **state)
{
    (void)state;
    size_t n = 0;
    const cu_route_def *t = cu_route_table(&n);
    assert_int_equal(n, CU_R_COUNT - 1);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(cu_route_get(t[i].id), &t[i]);
        assert_non_null(t[i].name);
        char path[160];
        size_t o = 0;
        for (const char *p = t[i].path; *p && o < sizeof path - 40;) {
            if (strncmp(p, "{id}", 4) == 0) {
                memcpy(path + o, SUBJ, strlen(SUBJ));
                o += strlen(SUBJ);
                p += 4;
            } else if (strncmp(p, "{user}", 6) == 0) {
                memcpy(path + o, "bob", 3);
                o += 3;
                p += 6;
            } else if (strncmp(p, "{purpose}", 9) == 0) {
                memcpy(path + o, "newsletter", 10);
                o += 10;
                p += 9;
            } else if (strncmp(p, "{pathway}", 9) == 0) {
                memcpy(path + o, "psfu-example", 12);
                o += 12;
                p += 9;
            } else if (strncmp(p, "{version}", 9) == 0) {
                memcpy(path + o, "9.6.4", 5);
                o += 5;
                p += 9;
            } else if (strncmp(p, "{asset}", 7) == 0) {
                memcpy(path + o, "icons/x.svg", 11);
                o += 11;
                p += 7;
            } else if (strncmp(p, "{qtoken}", 8) == 0) {
                static const char tok[] = "cuq_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
                memcpy(path + o, tok, sizeof tok - 1);
                o += sizeof tok - 1;
                p += 8;
            } else if (strncmp(p, "{pcode}", 7) == 0) {
                static const char code[] = "AAAAA-BBBBB-CCCCC-DDDDD";
                memcpy(path + o, code, sizeof code - 1);
                o += sizeof code - 1;
                p += 7;
            } else if (strncmp(p, "{token}", 7) == 0) {
                static const char tok[] = "cuu_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
                memcpy(path + o, tok, sizeof tok - 1);
                o += sizeof tok - 1;
                p += 7;
            } else {
                path[o++] = *p++;
            }
        }
        path[o] = '\0';
        cu_route_match m;
        cu_route(t[i].method, path, &m);
        if (m.id != t[i].id)
            fail_msg("%s %s routes to %d", t[i].method, path, m.id);
    }
}

static void test_body_signin(void **state)
{
    (void)state;
    cu_signin_body b;
    cu_err err = {0};
    const char ok[] = "{\"username\":\"alice\",\"password\":\"correct horse\",\"code\":\"123456\"}";
    assert_int_equal(cu_body_signin(ok, strlen(ok), &b, &err), CU_OK);
    assert_string_equal(b.username, "alice");
    assert_int_equal(b.password_len, 13);
    assert_string_equal(b.code, "123456");
    static const char *const bad[] = {
        "", "[]", "\"x\"", "{", "{\"username\":\"a\"}", "{\"password\":\"p\"}",
        "{\"username\":1,\"password\":\"p\"}", "{\"username\":\"a\",\"password\":\"p\",\"x\":1}",
        "{\"username\":\"a\",\"username\":\"b\",\"password\":\"p\"}",
        "{\"username\":\"\",\"password\":\"p\"}", "{\"username\":\"a\",\"password\":\"p\",\"code\":\"1234567890\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cu_err_clear(&err);
        if (cu_body_signin(bad[i], strlen(bad[i]), &b, &err) != CU_EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_true(err.msg[0] != '\0');
        assert_null(strchr(err.msg, '\n'));
    }
    /* the refused value never appears in the message */
    const char secret[] = "{\"username\":\"a\",\"password\":\"p\",\"Hunter2Secret\":\"x\"}";
    cu_err_clear(&err);
    assert_int_equal(cu_body_signin(secret, strlen(secret), &b, &err), CU_EINVAL);
    assert_null(strstr(err.msg, "Hunter2"));
}

static void test_body_search_and_break_glass(void **state)
{
    (void)state;
    cu_search_body s;
    cu_err err = {0};
    const char one[] = "{\"nhs_number\":\"999 000 0018\"}";
    assert_int_equal(cu_body_search(one, strlen(one), &s, &err), CU_OK);
    assert_string_equal(s.field, "nhs_number");
    assert_string_equal(s.value, "999 000 0018");
    static const char *const bad_search[] = {"{}", "{\"nhs_number\":\"1\",\"email\":\"a@b.c\"}",
                                             "{\"name\":\"x\"}", "{\"email\":5}"};
    for (size_t i = 0; i < 4; i++) {
        cu_err_clear(&err);
        if (cu_body_search(bad_search[i], strlen(bad_search[i]), &s, &err) != CU_EINVAL)
            fail_msg("accepted: %s", bad_search[i]);
    }
    cu_break_glass_body g;
    const char bg[] = "{\"reason\":\"unconscious in A&E, no history\",\"minutes\":30}";
    cu_err_clear(&err);
    assert_int_equal(cu_body_break_glass(bg, strlen(bg), &g, &err), CU_OK);
    assert_int_equal(g.minutes, 30);
    const char dflt[] = "{\"reason\":\"unconscious in A&E, no history\"}";
    assert_int_equal(cu_body_break_glass(dflt, strlen(dflt), &g, &err), CU_OK);
    assert_int_equal(g.minutes, 60);
    static const char *const bad_bg[] = {"{\"reason\":\"x\",\"minutes\":0}",
                                         "{\"reason\":\"x\",\"minutes\":241}",
                                         "{\"reason\":\"x\",\"minutes\":\"5\"}", "{\"minutes\":5}"};
    for (size_t i = 0; i < 4; i++) {
        cu_err_clear(&err);
        if (cu_body_break_glass(bad_bg[i], strlen(bad_bg[i]), &g, &err) != CU_EINVAL)
            fail_msg("accepted: %s", bad_bg[i]);
    }
}

static void test_problems(void **state)
{
    (void)state;
    for (int p = 0; p < CU_P_COUNT; p++) {
        int st = cu_problem_status((cu_problem)p);
        assert_true(st >= 400 && st < 600);
        assert_int_equal(strncmp(cu_problem_type((cu_problem)p), "urn:custos:problem:", 19), 0);
        json_t *j = cu_problem_json((cu_problem)p, "detail");
        assert_int_equal(json_integer_value(json_object_get(j, "status")), st);
        json_decref(j);
    }
    /* bad input is never a 5xx */
    assert_int_equal(cu_problem_status(cu_problem_of(CU_EINVAL)), 400);
    assert_int_equal(cu_problem_status(cu_problem_of(CU_ECONCEALED)), 404);
    assert_int_equal(cu_problem_status(cu_problem_of(CU_ENOTFOUND)), 404);
    assert_int_equal(cu_problem_status(cu_problem_of(CU_EDENIED)), 403);
    assert_int_equal(cu_problem_status(cu_problem_of(CU_ECONFLICT)), 409);
    assert_int_equal(cu_problem_status(cu_problem_of(CU_EERASED)), 410);
    /* only a database that is busy or out of reach is 503 (try again later);
       tampering, damage and the rest are 500, whose detail is never shown */
    assert_int_equal(cu_problem_status(cu_problem_of(CU_ERETRY)), 503);
    assert_int_equal(cu_problem_status(cu_problem_of(CU_EUNAVAILABLE)), 503);
    const cu_status internal[] = {CU_ETAMPER, CU_EKEY, CU_EVERSION, CU_ECORRUPT,
                                  CU_EIO,     CU_ENOMEM, CU_EINTERNAL};
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++)
        assert_int_equal(cu_problem_status(cu_problem_of(internal[i])), 500);
}

/* Feeds "Name: value" pairs (NULL-terminated list) and returns the verdict. */
static int framing_of(const char *const *fields, const char **detail)
{
    cu_framing f = {0};
    for (size_t i = 0; fields[i]; i += 2)
        cu_framing_add(&f, fields[i], fields[i + 1]);
    *detail = NULL;
    return cu_framing_verdict(&f, detail);
}

static void test_framing(void **state)
{
    (void)state;
    const char *d;
    const char *ok1[] = {"Host", "x", "Content-Length", "0", "content-type", "a/b", NULL};
    assert_int_equal(framing_of(ok1, &d), 0);
    const char *ok2[] = {"Host", "x", "transfer-encoding", "Chunked", "X-Tab", "a\tb", NULL};
    assert_int_equal(framing_of(ok2, &d), 0);
    const char *ok3[] = {"Content-Length", "1234567890123456789", NULL}; /* 19 digits */
    assert_int_equal(framing_of(ok3, &d), 0);
    const char *ok4[] = {"X-Obs-Text", "caf\xc3\xa9", "X-Hostname", "h", NULL};
    assert_int_equal(framing_of(ok4, &d), 0); /* a name may start with X-Host... */

    static const struct {
        const char *fields[7];
        int status;
        const char *says;
    } bad[] = {
        {{"Content-Length", "2", "Content-Length", "40", NULL}, 400, "more than one"},
        {{"Content-Length", "2", "content-length", "2", NULL}, 400, "more than one"},
        {{"Transfer-Encoding", "chunked", "Content-Length", "5", NULL}, 400, "both"},
        {{"Content-Length", "5", "Transfer-Encoding", "gzip", NULL}, 400, "both"},
        {{"Transfer-Encoding", "gzip", NULL}, 501, "chunked"},
        {{"Transfer-Encoding", "gzip, chunked", NULL}, 501, "chunked"},
        {{"Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked", NULL}, 501, "chunked"},
        {{"Transfer-Encoding", "", NULL}, 501, "chunked"},
        {{"Content-Length", "+2", NULL}, 400, "number"},
        {{"Content-Length", "-2", NULL}, 400, "number"},
        {{"Content-Length", "2 ", NULL}, 400, "number"},
        {{"Content-Length", "", NULL}, 400, "number"},
        {{"Content-Length", "0x2", NULL}, 400, "number"},
        {{"Content-Length", "12345678901234567890", NULL}, 400, "number"}, /* 20 digits */
        {{"Host", "a", "host", "b", NULL}, 400, "Host"},
        {{"Content-Length ", "2", NULL}, 400, "token"},
        {{"X-A:b Content-Length", "2", NULL}, 400, "token"},
        {{"", "2", NULL}, 400, "token"},
        {{"Content-Length0", "2", NULL}, 400, "folded"},
        {{"transfer-encodingchunked", "gzip", NULL}, 400, "folded"},
        {{"Hostx", "a", NULL}, 400, "folded"},
        {{"X-A", "a\rb", NULL}, 400, "control"},
        {{"X-A", "a\nb", NULL}, 400, "control"},
        {{"X-A", "a\x7f", NULL}, 400, "control"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = framing_of(bad[i].fields, &d);
        if (st != bad[i].status || !d || !strstr(d, bad[i].says))
            fail_msg("case %zu: got %d (%s), want %d", i, st, d ? d : "-", bad[i].status);
    }
}

static void test_conn_deadlines(void **state)
{
    (void)state;
    cu_conn_limits l = {.head_ms = 10000, .idle_ms = 30000, .body_rate = 4096};
    /* head: the whole of it within head_ms, whatever arrives meanwhile */
    assert_int_equal(cu_conn_check(&l, CU_CONN_NEW, 1000, 0, 10999), CU_CONN_KEEP);
    assert_int_equal(cu_conn_check(&l, CU_CONN_NEW, 1000, 0, 11000), CU_CONN_TIMEOUT);
    assert_int_equal(cu_conn_check(&l, CU_CONN_HEAD, 1000, 99999, 11000), CU_CONN_TIMEOUT);
    /* body: nothing asked during the grace, then body_rate bytes a second */
    assert_int_equal(cu_conn_check(&l, CU_CONN_BODY, 0, 0, 9999), CU_CONN_KEEP);
    assert_int_equal(cu_conn_check(&l, CU_CONN_BODY, 0, 0, 10000), CU_CONN_KEEP);
    assert_int_equal(cu_conn_check(&l, CU_CONN_BODY, 0, 0, 10250), CU_CONN_TIMEOUT);
    assert_int_equal(cu_conn_check(&l, CU_CONN_BODY, 0, 4096, 11000), CU_CONN_KEEP);
    assert_int_equal(cu_conn_check(&l, CU_CONN_BODY, 0, 4095, 11000), CU_CONN_TIMEOUT);
    /* a 1 MiB body at the rate takes 256 s after the grace */
    assert_int_equal(cu_conn_check(&l, CU_CONN_BODY, 0, 1 << 20, 266000), CU_CONN_KEEP);
    assert_int_equal(cu_conn_check(&l, CU_CONN_BODY, 0, 1 << 20, 266001), CU_CONN_TIMEOUT);
    /* idle kept-alive connections are closed without an answer */
    assert_int_equal(cu_conn_check(&l, CU_CONN_IDLE, 0, 0, 29999), CU_CONN_KEEP);
    assert_int_equal(cu_conn_check(&l, CU_CONN_IDLE, 0, 0, 30000), CU_CONN_CLOSE);
    /* a request being answered, or a connection already closing, has no deadline */
    assert_int_equal(cu_conn_check(&l, CU_CONN_BUSY, 0, 0, INT64_MAX / 2), CU_CONN_KEEP);
    assert_int_equal(cu_conn_check(&l, CU_CONN_DEAD, 0, 0, INT64_MAX / 2), CU_CONN_KEEP);
    assert_true(cu_conn_incomplete(CU_CONN_NEW) && cu_conn_incomplete(CU_CONN_HEAD) &&
                cu_conn_incomplete(CU_CONN_BODY));
    assert_false(cu_conn_incomplete(CU_CONN_BUSY) || cu_conn_incomplete(CU_CONN_IDLE) ||
                 cu_conn_incomplete(CU_CONN_DEAD));
}

/* RFC 6238 appendix B, SHA1, truncated to 6 digits. */
static void test_totp_vectors(void **state)
{
    (void)state;
    const unsigned char secret[CU_TOTP_SECRET_BYTES] = "12345678901234567890";
    static const struct {
        uint64_t t;
        uint32_t code;
    } v[] = {{59, 287082},        {1111111109, 81804}, {1111111111, 50471},
             {1234567890, 5924},  {2000000000, 279037}, {20000000000ULL, 353130}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(cu_totp_code(secret, v[i].t / 30), v[i].code);
    uint64_t m = 0;
    assert_true(cu_totp_verify(secret, "287082", 6, 1, 0, &m));
    assert_int_equal(m, 1);
    assert_false(cu_totp_verify(secret, "287082", 6, 1, 1, &m)); /* replay */
    assert_true(cu_totp_verify(secret, "287082", 6, 2, 0, &m));  /* one step late */
    assert_false(cu_totp_verify(secret, "287082", 6, 3, 0, &m)); /* two steps late */
    assert_false(cu_totp_verify(secret, "28708", 5, 1, 0, &m));
    assert_false(cu_totp_verify(secret, "28708x", 6, 1, 0, &m));
    char b32[CU_TOTP_B32_LEN];
    cu_totp_secret_b32(secret, b32);
    assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

static void test_tokens_and_passwords(void **state)
{
    (void)state;
    char a[CU_TOKEN_STRLEN], b[CU_TOKEN_STRLEN];
    cu_token_new("cus_", a);
    cu_token_new("cus_", b);
    assert_int_equal(strlen(a), CU_TOKEN_STRLEN - 1);
    assert_string_not_equal(a, b);
    assert_true(cu_token_wellformed(a, strlen(a), "cus_"));
    assert_false(cu_token_wellformed(a, strlen(a), "cut_"));
    assert_false(cu_token_wellformed(a, strlen(a) - 1, "cus_"));
    a[10] = '%';
    assert_false(cu_token_wellformed(a, strlen(a), "cus_"));
    unsigned char h1[CU_HASH_BYTES], h2[CU_HASH_BYTES];
    cu_token_hash(b, strlen(b), h1);
    cu_token_hash(b, strlen(b), h2);
    assert_memory_equal(h1, h2, sizeof h1);
    char hash[CU_PWHASH_STRBYTES];
    assert_int_equal(cu_pwhash("correct horse battery", 21, hash), CU_OK);
    assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
    assert_true(cu_pwhash_verify(hash, "correct horse battery", 21));
    assert_false(cu_pwhash_verify(hash, "correct horse batterz", 21));
    assert_false(cu_pwhash_needs_rehash(hash));
}

/* Runs fn with stderr on a pipe; returns what it wrote (caller frees). */
static char *capture_stderr(void (*fn)(void))
{
    int p[2], saved = dup(STDERR_FILENO);
    assert_int_equal(pipe(p), 0);
    dup2(p[1], STDERR_FILENO);
    close(p[1]);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    size_t cap = 1 << 16, n = 0;
    char *out = calloc(1, cap + 1);
    ssize_t r;
    while ((r = read(p[0], out + n, cap - n)) > 0)
        n += (size_t)r;
    close(p[0]);
    return out;
}

static void log_hostile(void)
{
    cu_log_open(CU_LOG_JSON, true);
    cu_log_msg(CU_LOG_ERROR, "error", "q\" b\\ nl\n{\"forged\":1} tab\t c\x01 hi\xc3\xa9 end");
    cu_log_set_request("rid-1.x_Y");
    cu_log_msg(CU_LOG_WARNING, "error", "with a request");
    cu_log_set_request(NULL);
    char big[5000];
    memset(big, '"', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cu_log_msg(CU_LOG_INFO, "error", "%s", big);
    cu_log_req r = {.request_id = "abc", .method = "GET", .route = NULL, .status = 404,
                    .duration_us = 1234567, .bytes_out = 72, .completed = true};
    cu_log_request(&r);
    char path[3000];
    memset(path, '"', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    cu_log_start st = {.version = "9.9.9", .listen = "127.0.0.1:1", .store = path};
    cu_log_started(&st);
    cu_log_close();
}

/* Every line the logger writes is one JSON object, whatever the message
 * holds, and a long one is cut inside the bound. */
static void test_log_lines(void **state)
{
    (void)state;
    char *out = capture_stderr(log_hostile);
    const char *want_event[] = {"error", "error", "error", "request", "start"};
    size_t n = 0;
    for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1, n++) {
        assert_true(n < 5);
        assert_true((size_t)(nl - line + 1) <= CU_LOG_LINE_MAX);
        json_error_t e;
        json_t *j = json_loadb(line, (size_t)(nl - line), 0, &e);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "event")), want_event[n]);
        assert_non_null(json_string_value(json_object_get(j, "time")));
        if (n == 0) {
            const char *m = json_string_value(json_object_get(j, "msg"));
            assert_non_null(m);
            assert_non_null(strstr(m, "q\" b\\ nl\n{\"forged\":1} tab\t c\x01 hi?? end"));
            assert_null(json_object_get(j, "forged"));
            assert_null(json_object_get(j, "request_id"));
            assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
        }
        if (n == 1)
            assert_string_equal(json_string_value(json_object_get(j, "request_id")),
                                "rid-1.x_Y");
        if (n == 2)
            assert_true(strlen(json_string_value(json_object_get(j, "msg"))) > 500);
        if (n == 3) {
            assert_true(json_is_null(json_object_get(j, "route")));
            assert_true(json_is_null(json_object_get(j, "actor")));
            assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
            assert_true(json_real_value(json_object_get(j, "duration_ms")) > 1234.5);
        }
        if (n == 4) /* a field too long for the line is cut; the line stays whole */
            assert_string_equal(json_string_value(json_object_get(j, "listen")), "127.0.0.1:1");
        json_decref(j);
    }
    assert_int_equal(n, 5);
    free(out);
}

static void log_text(void)
{
    cu_log_open(CU_LOG_TEXT, true);
    cu_log_msg(CU_LOG_ERROR, "error", "one\ntwo\r\nthree");
    cu_log_close();
}

static void test_log_text_one_line(void **state)
{
    (void)state;
    char *out = capture_stderr(log_text);
    assert_string_equal(out, "custos: one?two??three\n");
    free(out);
}

static void test_request_ids(void **state)
{
    (void)state;
    assert_true(cu_request_id_valid("a"));
    assert_true(cu_request_id_valid("0f3a-77.b_C"));
    char max[CU_REQUEST_ID_MAX + 2];
    memset(max, 'x', sizeof max);
    max[CU_REQUEST_ID_MAX] = '\0';
    assert_true(cu_request_id_valid(max));
    max[CU_REQUEST_ID_MAX] = 'x';
    max[CU_REQUEST_ID_MAX + 1] = '\0';
    assert_false(cu_request_id_valid(max));
    const char *bad[] = {"", "a b", "a\"b", "a@b", "a/b", "a\nb", "caf\xc3\xa9", "a;b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(cu_request_id_valid(bad[i]));
    assert_false(cu_request_id_valid(NULL));
    char a[CU_REQUEST_ID_MAX + 1], b[CU_REQUEST_ID_MAX + 1];
    cu_request_id_new(a);
    cu_request_id_new(b);
    assert_true(cu_request_id_valid(a));
    assert_true(cu_request_id_valid(b));
    assert_string_not_equal(a, b);
}

/* A group commit takes at most the store's limit of requests: fewer than
 * PostgreSQL's 64 cached subtransactions on PostgreSQL, 256 on SQLite. */
static void test_batch_cap(void **state)
{
    (void)state;
    assert_int_equal(cu_server_batch_cap(cu_backend_pg.batch_limit), cu_backend_pg.batch_limit);
    assert_true(cu_server_batch_cap(cu_backend_pg.batch_limit) < 64);
    assert_int_equal(cu_server_batch_cap(cu_backend_sqlite.batch_limit), 256);
    assert_int_equal(cu_server_batch_cap(1), 1);
    assert_int_equal(cu_server_batch_cap(0), 256);
    assert_int_equal(cu_server_batch_cap(100000), 256);
}

/* The bodies parsed on the HTTP thread before the store's thread takes the
 * request: a QuestionnaireResponse and the questionnaire's form, only for
 * their routes and media types, a refusal kept with its message. */
static void test_prepare(void **state)
{
    (void)state;
    const char qr[] = "{\"resourceType\":\"QuestionnaireResponse\",\"questionnaire\":"
                      "\"urn:x|2\",\"status\":\"completed\",\"item\":[{\"linkId\":\"a\","
                      "\"answer\":[{\"valueInteger\":3}]}]}";
    cu_http_req req = {.method = "POST", .content_type = "application/json; charset=utf-8",
                       .body = (const unsigned char *)qr, .body_len = strlen(qr)};
    req.route.id = CU_R_QRESPONSE_CREATE;
    cu_http_prep p;
    cu_api_prepare(&req, &p);
    assert_true(p.qresponse);
    assert_false(p.form);
    assert_non_null(p.qr);
    assert_string_equal(p.qr->url, "urn:x");
    assert_string_equal(p.qr->version, "2");
    assert_int_equal(p.qr->n, 1);
    assert_int_equal(p.qr->answers[0].i, 3);
    cu_http_prep_release(&p);
    assert_null(p.qr);

    /* refused: no model, the parser's message kept for the handler */
    const char bad[] = "{\"resourceType\":\"Patient\"}";
    req.body = (const unsigned char *)bad;
    req.body_len = strlen(bad);
    cu_api_prepare(&req, &p);
    assert_true(p.qresponse);
    assert_null(p.qr);
    assert_int_equal(p.err.code, CU_EINVAL);
    assert_true(p.err.msg[0] != '\0');
    cu_http_prep_release(&p);

    /* another media type: left to the handler, which refuses it */
    req.content_type = "text/plain";
    cu_api_prepare(&req, &p);
    assert_false(p.qresponse);
    assert_null(p.qr);
    cu_http_prep_release(&p);

    /* the form, by its route and media type only */
    const char form[] = "phq9-1=LA6569-3&csrf=x%20y";
    cu_http_req f = {.method = "POST", .content_type = "application/x-www-form-urlencoded",
                     .body = (const unsigned char *)form, .body_len = strlen(form)};
    f.route.id = CU_R_QFORM_POST;
    cu_api_prepare(&f, &p);
    assert_true(p.form);
    assert_false(p.qresponse);
    assert_int_equal(p.err.code, CU_OK);
    assert_string_equal(cu_form_get(&p.fields, "phq9-1"), "LA6569-3");
    assert_string_equal(cu_form_get(&p.fields, "csrf"), "x y");
    cu_http_prep_release(&p);
    assert_int_equal(p.fields.n, 0);
    f.content_type = "application/x-www-form-urlencodedX";
    cu_api_prepare(&f, &p);
    assert_false(p.form);
    cu_http_prep_release(&p);

    /* any other route: nothing read */
    f.content_type = "application/x-www-form-urlencoded";
    f.route.id = CU_R_QFORM_GET;
    cu_api_prepare(&f, &p);
    assert_false(p.form);
    assert_false(p.qresponse);
    cu_http_prep_release(&p);
}

int main(void)
{
    if (cu_crypto_init())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router),
        cmocka_unit_test(test_route_table),
        cmocka_unit_test(test_body_signin),
        cmocka_unit_test(test_body_search_and_break_glass),
        cmocka_unit_test(test_problems),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_conn_deadlines),
        cmocka_unit_test(test_totp_vectors),
        cmocka_unit_test(test_tokens_and_passwords),
        cmocka_unit_test(test_log_lines),
        cmocka_unit_test(test_log_text_one_line),
        cmocka_unit_test(test_request_ids),
        cmocka_unit_test(test_batch_cap),
        cmocka_unit_test(test_prepare),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
