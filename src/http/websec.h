/*
 * websec.h — what a browser is told so that custos's pages stay custos's:
 * the Content-Security-Policy of every HTML response (with a fresh nonce per
 * response), the session cookie of the pages (__Host-custos), the parser of
 * the Cookie header, and the CSRF tokens that bind a form to its session.
 * Pure functions (the nonce and the tokens aside, which use crypto.h); the
 * server applies the headers in server.c.
 */
#ifndef CUSTOS_HTTP_WEBSEC_H
#define CUSTOS_HTTP_WEBSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "util/buf.h"
#include "util/err.h"

/* A nonce: 16 random bytes, base64 (24 characters) and NUL. */
#define CU_CSP_NONCE_BYTES 16
#define CU_CSP_NONCE_LEN 25
void cu_csp_nonce(char out[CU_CSP_NONCE_LEN]);

/* The Content-Security-Policy header's value for one response:
 *   default-src 'self'; script-src 'self' 'nonce-N'; style-src 'self';
 *   img-src 'self' data:; frame-ancestors 'none'; form-action 'self';
 *   base-uri 'none'; object-src 'none'
 * With inline_style, style-src also names the nonce: a self-contained
 * document (the privacy notice, the access letter) carries its stylesheet in
 * a <style nonce="N"> element (cu_html_style_nonce). nonce must be what
 * cu_csp_nonce gives (base64, 24 characters), else CU_EINVAL; so must an
 * out too small (CU_CSP_MAX is enough). */
#define CU_CSP_MAX 320
CU_MUST_USE int cu_csp_header(const char *nonce, bool inline_style, char *out, size_t cap);

/* Gives every <style> element before the document's </head> the attribute
 * nonce="N": rewrites html in place (it may grow). Only the renderers' own
 * markup can hold "<style>" there, since every value they write is escaped.
 * Returns how many elements it marked (0 or more), or -1 when the buffer
 * cannot grow (html is then unchanged). */
int cu_html_style_nonce(cu_buf *html, const char *nonce);

/* The pages' session cookie. The __Host- prefix makes a browser keep it only
 * when it comes Secure, with Path=/ and no Domain, over HTTPS, so no other
 * host (a sibling subdomain) can set or overwrite it. */
#define CU_SESSION_COOKIE "__Host-custos"
/* The longest cookie value custos sets or accepts. */
#define CU_COOKIE_VALUE_MAX 256
#define CU_SET_COOKIE_MAX (CU_COOKIE_VALUE_MAX + 128)
/* The Set-Cookie header's value that sets the session cookie to value:
 *   __Host-custos=VALUE; Path=/; Max-Age=N; Secure; HttpOnly; SameSite=Strict
 * (no Max-Age when max_age_s < 0: a cookie that ends with the browser
 * session). value must be 1 to CU_COOKIE_VALUE_MAX cookie-octets (RFC 6265:
 * printable ASCII but space, '"', ',', ';' and '\'), else CU_EINVAL. */
CU_MUST_USE int cu_cookie_set(const char *value, int64_t max_age_s, char *out, size_t cap);
/* The Set-Cookie header's value that removes it (empty, Max-Age=0). */
CU_MUST_USE int cu_cookie_clear(char *out, size_t cap);
/* The patient portal's session cookie (pages_portal.c): its own name, so a
 * staff session never opens a portal page nor a patient's a staff page. */
#define CU_PORTAL_COOKIE "__Host-custos-portal"
/* The same for a cookie called name (CU_SESSION_COOKIE or CU_PORTAL_COOKIE). */
CU_MUST_USE int cu_cookie_set_as(const char *name, const char *value, int64_t max_age_s,
                                 char *out, size_t cap);
CU_MUST_USE int cu_cookie_clear_as(const char *name, char *out, size_t cap);

/* The portal's cookie-choice cookie (pages_portal_cookies.c): a random id
 * naming a visitor's recorded choice about a controller's optional cookies,
 * only its keyed hash stored (domain/portal_cookies.h). Strictly necessary:
 * it remembers the choice. SameSite=Lax, not Strict, so that a visitor who
 * follows a link from elsewhere is not asked again; it authorises nothing. */
#define CU_COOKIES_COOKIE "__Host-custos-cookies"
#define CU_COOKIES_MAX_AGE_S (365LL * 24 * 3600)
/* The Set-Cookie header's value:
 *   __Host-custos-cookies=VALUE; Max-Age=31536000; Path=/; Secure; HttpOnly;
 *   SameSite=Lax
 * CU_EINVAL as cu_cookie_set. */
CU_MUST_USE int cu_cookie_set_choice(const char *value, char *out, size_t cap);

/* Finds the cookie called name in a Cookie request header ("a=1; b=2"):
 * CU_OK with its value in out (quotes removed), CU_ENOTFOUND when it is not
 * there, CU_EINVAL when the header is longer than CU_COOKIE_HEADER_MAX or
 * holds a control byte, when the cookie appears more than once (two
 * cookies of one name are how one is shadowed), or when its value is not
 * cookie-octets or does not fit in out. Other cookies' values are not
 * judged. */
#define CU_COOKIE_HEADER_MAX 8192
CU_MUST_USE int cu_cookie_get(const char *header, const char *name, char *out, size_t cap);

/* CSRF tokens: HMAC-SHA-256 of the session's identifier under the store's
 * CSRF key (cu_vault_csrf_key, derived from its integrity key), base64url
 * (43 characters). A form carries it; the page handler checks it against the
 * session the cookie names, so a page of another site cannot post for the
 * signed-in person, and a token of one session is worth nothing in another.
 * A session's token stays the same for its life; it changes with the session. */
#define CU_CSRF_STRLEN 44
void cu_csrf_token(const cu_key *k, const char *session_id, char out[CU_CSRF_STRLEN]);
/* True when token is session_id's token (compared in constant time). */
CU_MUST_USE bool cu_csrf_verify(const cu_key *k, const char *session_id, const char *token);

/* True when a browser says the request came from another site's page
 * (Sec-Fetch-Site "cross-site" or "same-site"); false for the service's own
 * pages ("same-origin"), typed addresses ("none") and clients that send no
 * such header. The sign-in forms refuse such a request: nothing else stops a
 * page elsewhere signing a person into an account of its choosing (their
 * forms carry no CSRF token: there is no session yet to bind one to). */
bool cu_fetch_cross_site(const char *sec_fetch_site);

#endif
