/*
 * test_web.c — the foundation of the pages: the Content-Security-Policy and
 * its nonce, the nonce given to a document's <style>, the session cookie's
 * Set-Cookie and the Cookie parser, CSRF tokens, the public URL and its
 * links, the asset table and the asset route.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "domain/integrity.h"
#include "http/assets.h"
#include "http/pages_util.h"
#include "http/router.h"
#include "http/websec.h"
#include "iface/link.h"
#include "vault_fixture.h"

static int setup(void **state)
{
    (void)state;
    return cu_crypto_init();
}

/* ---- CSP ---- */

static void test_csp_nonce(void **state)
{
    (void)state;
    char a[CU_CSP_NONCE_LEN], b[CU_CSP_NONCE_LEN];
    cu_csp_nonce(a);
    cu_csp_nonce(b);
    assert_int_equal(strlen(a), 24);
    assert_string_not_equal(a, b);
    assert_int_equal(a[22], '=');
    assert_int_equal(a[23], '=');
    char h[CU_CSP_MAX];
    assert_int_equal(cu_csp_header(a, false, h, sizeof h), CU_OK);
    char want[CU_CSP_MAX];
    snprintf(want, sizeof want,
             "default-src 'self'; script-src 'self' 'nonce-%s'; style-src 'self'; "
             "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
             "base-uri 'none'; object-src 'none'",
             a);
    assert_string_equal(h, want);
    assert_int_equal(cu_csp_header(a, true, h, sizeof h), CU_OK);
    char style[64];
    snprintf(style, sizeof style, "style-src 'self' 'nonce-%s';", a);
    assert_non_null(strstr(h, style));
    /* a nonce that is not one: refused, so no header can be injected */
    static const char *const bad[] = {"", "short", "AAAAAAAAAAAAAAAAAAAAAA=='; script-src *",
                                      "AAAAAAAAAAAAAAAAAAAAAA='", "AAAAAAAAAAA AAAAAAAAAA==",
                                      "AAAAAAAAAAAAAAAAAAAAAAAAA", "=AAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cu_csp_header(bad[i], false, h, sizeof h), CU_EINVAL);
    assert_int_equal(cu_csp_header(NULL, false, h, sizeof h), CU_EINVAL);
    /* too small a buffer: refused, never cut */
    assert_int_equal(cu_csp_header(a, false, h, 40), CU_EINVAL);
    assert_string_equal(h, "");
}

static void test_style_nonce(void **state)
{
    (void)state;
    const char *nonce = "AAAAAAAAAAAAAAAAAAAAAA==";
    cu_buf b;
    cu_buf_init(&b, 0);
    const char doc[] = "<html><head><style>a{}</style><title>x</title><style>b{}</style>"
                       "</head><body><p>&lt;style&gt;</p><pre><style></pre></body></html>";
    assert_int_equal(cu_buf_append_str(&b, doc), CU_OK);
    assert_int_equal(cu_html_style_nonce(&b, nonce), 2);
    assert_string_equal(cu_buf_str(&b),
                        "<html><head><style nonce=\"AAAAAAAAAAAAAAAAAAAAAA==\">a{}</style>"
                        "<title>x</title><style nonce=\"AAAAAAAAAAAAAAAAAAAAAA==\">b{}</style>"
                        "</head><body><p>&lt;style&gt;</p><pre><style></pre></body></html>");
    cu_buf_release(&b);
    /* no <style>: untouched */
    cu_buf_init(&b, 0);
    assert_int_equal(cu_buf_append_str(&b, "<html><head></head><body>hi</body></html>"), CU_OK);
    assert_int_equal(cu_html_style_nonce(&b, nonce), 0);
    assert_string_equal(cu_buf_str(&b), "<html><head></head><body>hi</body></html>");
    /* a bad nonce: refused, untouched */
    assert_int_equal(cu_html_style_nonce(&b, "x\"><script>"), -1);
    assert_string_equal(cu_buf_str(&b), "<html><head></head><body>hi</body></html>");
    cu_buf_release(&b);
    /* a buffer at its limit: refused, untouched */
    cu_buf_init(&b, 40);
    assert_int_equal(cu_buf_append_str(&b, "<head><style>x</style></head>"), CU_OK);
    assert_int_equal(cu_html_style_nonce(&b, nonce), -1);
    assert_string_equal(cu_buf_str(&b), "<head><style>x</style></head>");
    cu_buf_release(&b);
}

/* ---- cookies ---- */

static void test_cookie_set(void **state)
{
    (void)state;
    char out[CU_SET_COOKIE_MAX];
    assert_int_equal(cu_cookie_set("cus_abc-_.9", 1800, out, sizeof out), CU_OK);
    assert_string_equal(out, "__Host-custos=cus_abc-_.9; Max-Age=1800; Path=/; Secure; "
                             "HttpOnly; SameSite=Strict");
    assert_int_equal(cu_cookie_set("v", -1, out, sizeof out), CU_OK);
    assert_string_equal(out, "__Host-custos=v; Path=/; Secure; HttpOnly; SameSite=Strict");
    assert_null(strstr(out, "Domain"));
    assert_int_equal(cu_cookie_clear(out, sizeof out), CU_OK);
    assert_string_equal(out, "__Host-custos=; Max-Age=0; Path=/; Secure; HttpOnly; "
                             "SameSite=Strict");
    /* a value that would add attributes or split the header: refused */
    static const char *const bad[] = {"",       "a;Domain=evil.example", "a b", "a,b",
                                      "a\"b",   "a\\b",                  "a\r\nSet-Cookie: x=1",
                                      "caf\xc3\xa9", "a\tb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cu_cookie_set(bad[i], 10, out, sizeof out), CU_EINVAL);
        assert_string_equal(out, "");
    }
    assert_int_equal(cu_cookie_set(NULL, 10, out, sizeof out), CU_EINVAL);
    char longv[CU_COOKIE_VALUE_MAX + 2];
    memset(longv, 'a', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    assert_int_equal(cu_cookie_set(longv, 10, out, sizeof out), CU_EINVAL);
    longv[CU_COOKIE_VALUE_MAX] = '\0';
    assert_int_equal(cu_cookie_set(longv, 10, out, sizeof out), CU_OK);
    /* too small a buffer: refused */
    assert_int_equal(cu_cookie_set("v", 10, out, 20), CU_EINVAL);
    assert_string_equal(out, "");
}

static void test_cookie_get(void **state)
{
    (void)state;
    char v[64];
    const char *n = CU_SESSION_COOKIE;
    assert_int_equal(cu_cookie_get("__Host-custos=abc", n, v, sizeof v), CU_OK);
    assert_string_equal(v, "abc");
    assert_int_equal(cu_cookie_get("a=1; __Host-custos=cus_x; b=2", n, v, sizeof v), CU_OK);
    assert_string_equal(v, "cus_x");
    assert_int_equal(cu_cookie_get("a=1;__Host-custos = \"q\" ;b", n, v, sizeof v), CU_OK);
    assert_string_equal(v, "q");
    /* names compare exactly: no prefix, suffix or case match */
    assert_int_equal(cu_cookie_get("custos=1; Host-custos=2; __host-custos=3; "
                                   "__Host-custosX=4; x__Host-custos=5",
                                   n, v, sizeof v),
                     CU_ENOTFOUND);
    assert_string_equal(v, "");
    assert_int_equal(cu_cookie_get("", n, v, sizeof v), CU_ENOTFOUND);
    assert_int_equal(cu_cookie_get(";;; ;=;", n, v, sizeof v), CU_ENOTFOUND);
    /* two of ours: one shadows the other, refused */
    assert_int_equal(cu_cookie_get("__Host-custos=a; __Host-custos=b", n, v, sizeof v),
                     CU_EINVAL);
    assert_string_equal(v, "");
    /* values that are not cookie-octets, control bytes anywhere, too long */
    static const char *const bad[] = {"__Host-custos=", "__Host-custos=\"", "__Host-custos=a b",
                                      "__Host-custos=\"a", "__Host-custos=a\\b",
                                      "__Host-custos=caf\xc3\xa9", "x=\x01; __Host-custos=a",
                                      "__Host-custos=a\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cu_cookie_get(bad[i], n, v, sizeof v), CU_EINVAL);
        assert_string_equal(v, "");
    }
    /* other cookies' odd values are not ours to judge */
    assert_int_equal(cu_cookie_get("x=a b \"c; __Host-custos=ok", n, v, sizeof v), CU_OK);
    assert_string_equal(v, "ok");
    /* a value longer than the buffer: refused, not cut */
    assert_int_equal(cu_cookie_get("__Host-custos=0123456789", n, v, 8), CU_EINVAL);
    assert_string_equal(v, "");
    char *huge = malloc(CU_COOKIE_HEADER_MAX + 32);
    assert_non_null(huge);
    memset(huge, 'a', CU_COOKIE_HEADER_MAX + 31);
    memcpy(huge, "__Host-custos=v; x=", 19);
    huge[CU_COOKIE_HEADER_MAX + 31] = '\0';
    assert_int_equal(cu_cookie_get(huge, n, v, sizeof v), CU_EINVAL);
    huge[CU_COOKIE_HEADER_MAX] = '\0';
    assert_int_equal(cu_cookie_get(huge, n, v, sizeof v), CU_OK);
    free(huge);
    assert_int_equal(cu_cookie_get(NULL, n, v, sizeof v), CU_EINVAL);
}

/* ---- CSRF ---- */

/* A sign-in form posted from another site's page is told apart from one
 * posted from the service's own, a typed address or a client without the
 * header. */
static void test_fetch_cross_site(void **state)
{
    (void)state;
    assert_true(cu_fetch_cross_site("cross-site"));
    assert_true(cu_fetch_cross_site("same-site"));
    assert_false(cu_fetch_cross_site("same-origin"));
    assert_false(cu_fetch_cross_site("none"));
    assert_false(cu_fetch_cross_site(NULL));
    assert_false(cu_fetch_cross_site(""));
    assert_false(cu_fetch_cross_site("Cross-Site-ish"));
}

static void test_csrf(void **state)
{
    (void)state;
    cu_key k1, k2;
    cu_key_random(&k1);
    cu_key_random(&k2);
    char t[CU_CSRF_STRLEN], t2[CU_CSRF_STRLEN];
    cu_csrf_token(&k1, "session-1", t);
    assert_int_equal(strlen(t), CU_CSRF_STRLEN - 1);
    cu_csrf_token(&k1, "session-1", t2);
    assert_string_equal(t, t2); /* stable for a session */
    assert_true(cu_csrf_verify(&k1, "session-1", t));
    /* another session, another key, an altered or cut token: refused */
    assert_false(cu_csrf_verify(&k1, "session-2", t));
    assert_false(cu_csrf_verify(&k1, "session-1x", t));
    assert_false(cu_csrf_verify(&k1, "", t));
    assert_false(cu_csrf_verify(&k2, "session-1", t));
    cu_csrf_token(&k1, "session-2", t2);
    assert_string_not_equal(t, t2);
    assert_false(cu_csrf_verify(&k1, "session-1", t2));
    char m[CU_CSRF_STRLEN + 2];
    memcpy(m, t, sizeof t);
    m[5] = m[5] == 'A' ? 'B' : 'A';
    assert_false(cu_csrf_verify(&k1, "session-1", m));
    memcpy(m, t, sizeof t);
    m[CU_CSRF_STRLEN - 2] = '\0';
    assert_false(cu_csrf_verify(&k1, "session-1", m));
    memcpy(m, t, sizeof t);
    m[CU_CSRF_STRLEN - 1] = 'A';
    m[CU_CSRF_STRLEN] = '\0';
    assert_false(cu_csrf_verify(&k1, "session-1", m));
    /* the last character carries 2 spare bits: a sibling encoding is refused */
    memcpy(m, t, sizeof t);
    m[CU_CSRF_STRLEN - 2] ^= 1;
    assert_false(cu_csrf_verify(&k1, "session-1", m));
    assert_false(cu_csrf_verify(&k1, "session-1", ""));
    assert_false(cu_csrf_verify(&k1, "session-1", NULL));
    assert_false(cu_csrf_verify(&k1, NULL, t));
    memset(m, '=', CU_CSRF_STRLEN - 1);
    m[CU_CSRF_STRLEN - 1] = '\0';
    assert_false(cu_csrf_verify(&k1, "session-1", m));
    cu_key_wipe(&k1);
    cu_key_wipe(&k2);
}

static char tmpdir[64];

static void put(const char *rel, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_rf(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* The CSRF key: the store's, stable across a reopen and a master key
 * rotation, another store's is another. */
typedef struct fx {
    char root[64], store[PATH_MAX], db[PATH_MAX + 16];
    cu_vault *v;
    cu_err err;
    char ctl[CU_ID_STRLEN];
} fx;

static void test_csrf_key(void **state)
{
    (void)state;
    fx a = {0}, b = {0};
    fx *f = &a;
    assert_int_equal(VAULT_FIXTURE_OPEN(&a, "csrf-a"), 0);
    assert_int_equal(VAULT_FIXTURE_OPEN(&b, "csrf-b"), 0);
    cu_key k, k2;
    OK(f, cu_vault_csrf_key(a.v, &k, &f->err));
    char t[CU_CSRF_STRLEN];
    cu_csrf_token(&k, "session-1", t);
    OK(f, cu_vault_csrf_key(b.v, &k2, &f->err));
    assert_false(cu_csrf_verify(&k2, "session-1", t));
    cu_key_wipe(&k2);
    char kid[2 * CU_KEYID_BYTES + 1];
    OK(f, cu_vault_rotate_master(a.v, &OPERATOR, kid, &f->err));
    cu_vault_close(a.v);
    a.v = NULL;
    OK(f, cu_vault_open(a.store, NULL, &a.v, &f->err));
    OK(f, cu_vault_csrf_key(a.v, &k2, &f->err));
    assert_memory_equal(k.k, k2.k, CU_KEY_BYTES);
    assert_true(cu_csrf_verify(&k2, "session-1", t));
    cu_key_wipe(&k);
    cu_key_wipe(&k2);
    cu_vault_close(a.v);
    cu_vault_close(b.v);
    rm_rf(a.root);
    rm_rf(b.root);
}

/* ---- the public URL ---- */

static void test_public_url(void **state)
{
    (void)state;
    char out[CU_PUBLIC_URL_MAX + 1];
    cu_err err = {0};
    static const char *const good[][2] = {
        {"http://localhost:8080", "http://localhost:8080"},
        {"https://care.example.org/", "https://care.example.org"},
        {"HTTPS://Care.Example.ORG/Custos/", "https://care.example.org/Custos"},
        {"https://example.org/a/b//", NULL}, /* an empty segment: refused below */
        {"https://example.org:443/x%2Fy", "https://example.org:443/x%2Fy"},
        {"http://[::1]:8080/", "http://[::1]:8080"},
        {"http://127.0.0.1", "http://127.0.0.1"},
        {"https://example.org/a.b/c~d_e-f", "https://example.org/a.b/c~d_e-f"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!good[i][1])
            continue;
        assert_int_equal(cu_public_url_parse(good[i][0], out, &err), CU_OK);
        assert_string_equal(out, good[i][1]);
    }
    static const char *const bad[] = {
        "",
        "example.org",
        "ftp://example.org",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "https://example.org?x",
        "https://example.org/#f",
        "https://u:p@example.org",
        "https://@example.org",
        "https://example.org:",
        "https://example.org:0",
        "https://example.org:65536",
        "https://example.org:123456",
        "https://example.org:8o",
        "https://exa mple.org",
        "https://example.org/a b",
        "https://example.org/\x01",
        "https://example.org/caf\xc3\xa9",
        "https://example.org/a/../b",
        "https://example.org/./b",
        "https://example.org/a//b",
        "https://example.org/%zz",
        "https://example.org/%4",
        "https://example.org/a\"onmouseover=x",
        "https://example.org/<b>",
        "https://.example.org",
        "https://-example.org",
        "https://exa..mple.org",
        "https://exa_mple.org",
        "https://[::1",
        "https://[]",
        "https://[::g]",
        "https://example.org\\@evil.example",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = (cu_err){0};
        if (cu_public_url_parse(bad[i], out, &err) != CU_EINVAL)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(out, "");
        assert_non_null(strstr(err.msg, "public URL"));
    }
    char longu[CU_PUBLIC_URL_MAX + 16];
    memcpy(longu, "https://", 8);
    memset(longu + 8, 'a', sizeof longu - 9);
    longu[sizeof longu - 1] = '\0';
    assert_int_equal(cu_public_url_parse(longu, out, &err), CU_EINVAL);
    assert_int_equal(cu_public_url_parse(NULL, out, &err), CU_EINVAL);
}

static void test_public_link(void **state)
{
    (void)state;
    cu_err err = {0};
    char buf[CU_LINK_MAX];
    /* the default until one is set */
    assert_false(cu_public_url_is_set());
    assert_string_equal(cu_public_url(), CU_PUBLIC_URL_DEFAULT);
    assert_int_equal(cu_public_link(buf, sizeof buf, "/v1/unsubscribe/cuu_x"), CU_OK);
    assert_string_equal(buf, "http://localhost:8080/v1/unsubscribe/cuu_x");
    /* a bad URL leaves the one set */
    assert_int_equal(cu_public_url_set("https://care.example.org/custos/", &err), CU_OK);
    assert_int_equal(cu_public_url_set("https://evil.example?x", &err), CU_EINVAL);
    assert_true(cu_public_url_is_set());
    assert_string_equal(cu_public_url(), "https://care.example.org/custos");
    assert_int_equal(cu_public_link(buf, sizeof buf, "/v1/unsubscribe/cuu_x"), CU_OK);
    assert_string_equal(buf, "https://care.example.org/custos/v1/unsubscribe/cuu_x");
    /* paths that are not: refused, and buf is "" */
    static const char *const bad[] = {"", "v1/x", "//evil.example/x", "/a b", "/a\r\nX: y",
                                      "/caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = cu_public_link(buf, sizeof buf, bad[i]);
        if (i == 2) {
            /* "//x" is a path under the public URL's own path, not a host */
            assert_int_equal(rc, CU_OK);
            assert_string_equal(buf, "https://care.example.org/custos//evil.example/x");
            continue;
        }
        assert_int_equal(rc, CU_EINVAL);
        assert_string_equal(buf, "");
    }
    assert_int_equal(cu_public_link(buf, sizeof buf, NULL), CU_EINVAL);
    /* a link that does not fit: refused, never cut */
    assert_int_equal(cu_public_link(buf, 40, "/v1/unsubscribe/cuu_x"), CU_EINVAL);
    assert_string_equal(buf, "");
}

/* ---- assets ---- */

static void test_assets(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/custos-assets-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    cu_assets *a = NULL;
    cu_err err = {0};
    /* no VERSION: not an asset directory */
    err = (cu_err){0};
    assert_int_equal(cu_assets_load(tmpdir, &a, &err), CU_EINVAL);
    assert_null(a);
    put("VERSION", "0.0.1\n");
    err = (cu_err){0};
    assert_int_equal(cu_assets_load(tmpdir, &a, &err), CU_EINVAL);
    assert_non_null(strstr(err.msg, "holds the assets of 0.0.1"));
    char v[64];
    snprintf(v, sizeof v, "%s\n", cu_assets_version());
    put("VERSION", v);
    put("nhsuk.min.css", "body{}");
    err = (cu_err){0};
    assert_int_equal(cu_assets_load(tmpdir, &a, &err), CU_EINVAL);
    assert_non_null(strstr(err.msg, "nhsuk.min.js"));
    put("nhsuk.min.js", "1;");
    put(".hidden.css", "no");
    put("notes.txt", "no");
    put("evil name.css", "no");
    char sub[128];
    snprintf(sub, sizeof sub, "%s/icons", tmpdir);
    assert_int_equal(mkdir(sub, 0700), 0);
    put("icons/tick.svg", "<svg/>");
    put("icons/x.png", "PNG");
    err = (cu_err){0};
    assert_int_equal(cu_assets_load(tmpdir, &a, &err), CU_OK);
    assert_int_equal(cu_assets_count(a), 4);
    char p[160];
    snprintf(p, sizeof p, "%s/nhsuk.min.css", cu_assets_version());
    const cu_asset *e = cu_assets_find(a, p);
    assert_non_null(e);
    assert_int_equal(e->len, 6);
    assert_memory_equal(e->data, "body{}", 6);
    assert_string_equal(e->content_type, "text/css; charset=utf-8");
    snprintf(p, sizeof p, "%s/icons/tick.svg", cu_assets_version());
    assert_string_equal(cu_assets_find(a, p)->content_type, "image/svg+xml");
    snprintf(p, sizeof p, "%s/nhsuk.min.js", cu_assets_version());
    assert_string_equal(cu_assets_find(a, p)->content_type, "text/javascript; charset=utf-8");
    static const char *const missing[] = {"VERSION", ".hidden.css", "notes.txt",
                                          "evil name.css", "icons", "icons/", "../VERSION",
                                          "icons/../nhsuk.min.css", "", "nhsuk.min.css/"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", cu_assets_version(), missing[i]);
        if (cu_assets_find(a, p))
            fail_msg("found %s", p);
    }
    /* another version, no version, a NULL set */
    assert_null(cu_assets_find(a, "0.0.1/nhsuk.min.css"));
    assert_null(cu_assets_find(a, "nhsuk.min.css"));
    assert_null(cu_assets_find(a, cu_assets_version()));
    snprintf(p, sizeof p, "%s/nhsuk.min.css", cu_assets_version());
    assert_null(cu_assets_find(NULL, p));
    cu_assets_free(a);
    rm_rf(tmpdir);
    /* the prefix a page links */
    snprintf(p, sizeof p, "/assets/%s", cu_assets_version());
    assert_string_equal(cu_assets_prefix(), p);
}

static void test_assets_relative(void **state)
{
    (void)state;
    char b[CU_ASSETS_REL_MAX];
    const char *v = cu_assets_version();
    char want[CU_ASSETS_REL_MAX];
    snprintf(want, sizeof want, "../assets/%s", v);
    assert_string_equal(cu_assets_relative("/q/cuq_x", b, sizeof b), want);
    snprintf(want, sizeof want, "../../assets/%s", v);
    assert_string_equal(cu_assets_relative("/v1/unsubscribe/cuu_x", b, sizeof b), want);
    snprintf(want, sizeof want, "../../../assets/%s", v);
    assert_string_equal(cu_assets_relative("/v1/controllers/x/notice", b, sizeof b), want);
    snprintf(want, sizeof want, "assets/%s", v);
    assert_string_equal(cu_assets_relative("/", b, sizeof b), want);
    /* too small a buffer, or no path: the absolute prefix */
    char small[8];
    assert_string_equal(cu_assets_relative("/q/x", small, sizeof small), cu_assets_prefix());
    assert_string_equal(cu_assets_relative(NULL, b, sizeof b), cu_assets_prefix());
    assert_string_equal(cu_assets_relative("no-slash", b, sizeof b), cu_assets_prefix());
}

static void test_asset_route(void **state)
{
    (void)state;
    cu_route_match m;
    cu_route("GET", "/assets/9.6.4/nhsuk.min.css", &m);
    assert_int_equal(m.id, CU_R_ASSET);
    assert_string_equal(m.asset, "9.6.4/nhsuk.min.css");
    cu_route("HEAD", "/assets/9.6.4/icons/icon-tick.svg", &m);
    assert_int_equal(m.id, CU_R_ASSET);
    assert_string_equal(m.asset, "9.6.4/icons/icon-tick.svg");
    cu_route("POST", "/assets/9.6.4/nhsuk.min.css", &m);
    assert_int_equal(m.id, CU_R_NONE);
    assert_true(m.method_mismatch);
    assert_string_equal(m.allow, "GET, HEAD");
    static const char *const none[] = {
        "/assets", "/assets/", "/assets/9.6.4", "/assets/9.6.4/", "/assets/9.6.4/../x.css",
        "/assets/9.6.4/./x.css", "/assets/9.6.4//x.css", "/assets/../9.6.4/x.css",
        "/assets/9.6.4/a%2fb.css", "/assets/9.6.4/a\\b.css", "/assets/9.6.4/x.css/",
        "/assets/9.6.4/x.css?x=1", "/Assets/9.6.4/x.css", "/assets/9.6.4/a b.css",
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        cu_route("GET", none[i], &m);
        if (m.id != CU_R_NONE)
            fail_msg("%s routes to %d", none[i], m.id);
    }
    char longp[200];
    memcpy(longp, "/assets/9.6.4/", 14);
    memset(longp + 14, 'a', sizeof longp - 15);
    longp[sizeof longp - 1] = '\0';
    cu_route("GET", longp, &m);
    assert_int_equal(m.id, CU_R_NONE);
}

/* The staff pages' relative references and page numbers. */
static void test_pages_util(void **state)
{
    (void)state;
    char out[64];
    assert_true(cu_path_relative("/staff", "/staff/tasks", out, sizeof out));
    assert_string_equal(out, "staff/tasks");
    assert_true(cu_path_relative("/staff/tasks", "/staff", out, sizeof out));
    assert_string_equal(out, "../staff");
    assert_true(cu_path_relative("/staff/tasks/x/done", "/staff/tasks", out, sizeof out));
    assert_string_equal(out, "../../../staff/tasks");
    assert_true(cu_path_relative("/staff", "/", out, sizeof out));
    assert_string_equal(out, "./");
    /* not absolute, too small, too deep */
    assert_false(cu_path_relative("staff", "/staff", out, sizeof out));
    assert_string_equal(out, "");
    assert_false(cu_path_relative("/staff", "staff", out, sizeof out));
    assert_false(cu_path_relative("/a/b/c", "/staff/tasks", out, 8));
    assert_false(cu_path_relative("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r", "/x", out, sizeof out));
    long n = 0;
    assert_true(cu_page_number(NULL, 10, &n));
    assert_int_equal(n, 1);
    assert_true(cu_page_number("7", 10, &n));
    assert_int_equal(n, 7);
    const char *bad[] = {"", "0", "07", "-1", "1a", " 1", "11", "99999999999", "+1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(cu_page_number(bad[i], 10, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csp_nonce),   cmocka_unit_test(test_style_nonce),
        cmocka_unit_test(test_cookie_set),  cmocka_unit_test(test_cookie_get),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_fetch_cross_site),
        cmocka_unit_test(test_csrf_key),
        cmocka_unit_test(test_public_url),
        cmocka_unit_test(test_public_link), cmocka_unit_test(test_assets),
        cmocka_unit_test(test_asset_route), cmocka_unit_test(test_assets_relative),
        cmocka_unit_test(test_pages_util),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
