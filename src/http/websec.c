#include "http/websec.h"

#include <stdio.h>
#include <string.h>

void cu_csp_nonce(char out[CU_CSP_NONCE_LEN])
{
    unsigned char raw[CU_CSP_NONCE_BYTES];
    cu_random(raw, sizeof raw);
    if (cu_base64(raw, sizeof raw, false, out, CU_CSP_NONCE_LEN))
        out[0] = '\0'; /* cannot happen: the size is fixed */
    cu_wipe(raw, sizeof raw);
}

static bool nonce_ok(const char *n)
{
    if (!n || strnlen(n, CU_CSP_NONCE_LEN) != CU_CSP_NONCE_LEN - 1)
        return false;
    for (size_t i = 0; i < CU_CSP_NONCE_LEN - 1; i++) {
        char c = n[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/' || (c == '=' && i >= CU_CSP_NONCE_LEN - 3);
        if (!ok)
            return false;
    }
    return true;
}

int cu_csp_header(const char *nonce, bool inline_style, char *out, size_t cap)
{
    if (!nonce_ok(nonce))
        return CU_EINVAL;
    char style[64] = "";
    if (inline_style)
        snprintf(style, sizeof style, " 'nonce-%s'", nonce);
    int n = snprintf(out, cap,
                     "default-src 'self'; script-src 'self' 'nonce-%s'; style-src 'self'%s; "
                     "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
                     "base-uri 'none'; object-src 'none'",
                     nonce, style);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return CU_EINVAL;
    }
    return CU_OK;
}

int cu_html_style_nonce(cu_buf *html, const char *nonce)
{
    static const char tag[] = "<style>";
    static const char head_end[] = "</head>";
    if (!nonce_ok(nonce) || !html->data)
        return html->data ? -1 : 0;
    const char *s = (const char *)html->data;
    const char *end = memmem(s, html->len, head_end, sizeof head_end - 1);
    size_t scan = end ? (size_t)(end - s) : html->len;
    int count = 0;
    for (const char *p = s; (p = memmem(p, scan - (size_t)(p - s), tag, sizeof tag - 1));
         p += sizeof tag - 1)
        count++;
    if (!count)
        return 0;
    cu_buf out;
    cu_buf_init(&out, html->limit);
    char attr[48];
    int an = snprintf(attr, sizeof attr, "<style nonce=\"%s\">", nonce);
    int rc = cu_buf_reserve(&out, html->len + (size_t)count * (size_t)an);
    const char *from = s;
    for (const char *p = s; !rc && (p = memmem(p, scan - (size_t)(p - s), tag, sizeof tag - 1));
         p += sizeof tag - 1) {
        rc = cu_buf_append(&out, from, (size_t)(p - from));
        rc = rc ? rc : cu_buf_append(&out, attr, (size_t)an);
        from = p + sizeof tag - 1;
    }
    rc = rc ? rc : cu_buf_append(&out, from, html->len - (size_t)(from - s));
    if (rc) {
        cu_buf_release(&out);
        return -1;
    }
    cu_buf_release(html);
    *html = out;
    return count;
}

/* RFC 6265 4.1.1: cookie-octet. */
static bool cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

static bool cookie_value_ok(const char *v, size_t n)
{
    if (n == 0 || n > CU_COOKIE_VALUE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!cookie_octet((unsigned char)v[i]))
            return false;
    return true;
}

static const char cookie_attrs[] = "Path=/; Secure; HttpOnly; SameSite=Strict";

int cu_cookie_set_as(const char *name, const char *value, int64_t max_age_s, char *out,
                     size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (!value || !cookie_value_ok(value, strnlen(value, CU_COOKIE_VALUE_MAX + 1)))
        return CU_EINVAL;
    int n = max_age_s >= 0 ? snprintf(out, cap, "%s=%s; Max-Age=%lld; %s", name, value,
                                      (long long)max_age_s, cookie_attrs)
                           : snprintf(out, cap, "%s=%s; %s", name, value, cookie_attrs);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            cu_wipe(out, cap);
        return CU_EINVAL;
    }
    return CU_OK;
}

int cu_cookie_set_choice(const char *value, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (!value || !cookie_value_ok(value, strnlen(value, CU_COOKIE_VALUE_MAX + 1)))
        return CU_EINVAL;
    int n = snprintf(out, cap, "%s=%s; Max-Age=%lld; Path=/; Secure; HttpOnly; SameSite=Lax",
                     CU_COOKIES_COOKIE, value, (long long)CU_COOKIES_MAX_AGE_S);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            cu_wipe(out, cap);
        return CU_EINVAL;
    }
    return CU_OK;
}

int cu_cookie_set(const char *value, int64_t max_age_s, char *out, size_t cap)
{
    return cu_cookie_set_as(CU_SESSION_COOKIE, value, max_age_s, out, cap);
}

int cu_cookie_clear_as(const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s=; Max-Age=0; %s", name, cookie_attrs);
    return n < 0 || (size_t)n >= cap ? CU_EINVAL : CU_OK;
}

int cu_cookie_clear(char *out, size_t cap)
{
    return cu_cookie_clear_as(CU_SESSION_COOKIE, out, cap);
}

int cu_cookie_get(const char *header, const char *name, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (!header || !name || !*name || cap == 0)
        return CU_EINVAL;
    size_t hlen = strnlen(header, CU_COOKIE_HEADER_MAX + 1);
    if (hlen > CU_COOKIE_HEADER_MAX)
        return CU_EINVAL;
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)header[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return CU_EINVAL;
    }
    size_t nlen = strlen(name);
    bool found = false;
    const char *p = header, *end = header + hlen;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        while (p < pe && (*p == ' ' || *p == '\t'))
            p++;
        const char *q = pe;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
            q--;
        const char *eq = memchr(p, '=', (size_t)(q - p));
        if (eq) {
            const char *ne = eq;
            while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
                ne--;
            if ((size_t)(ne - p) == nlen && memcmp(p, name, nlen) == 0) {
                if (found) {
                    cu_wipe(out, cap);
                    out[0] = '\0';
                    return CU_EINVAL;
                }
                found = true;
                const char *v = eq + 1;
                while (v < q && (*v == ' ' || *v == '\t'))
                    v++;
                size_t vn = (size_t)(q - v);
                if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
                    v++;
                    vn -= 2;
                }
                if (!cookie_value_ok(v, vn) || vn >= cap) {
                    cu_wipe(out, cap);
                    out[0] = '\0';
                    return CU_EINVAL;
                }
                memcpy(out, v, vn);
                out[vn] = '\0';
            }
        }
        p = semi ? semi + 1 : end;
    }
    return found ? CU_OK : CU_ENOTFOUND;
}

static const char csrf_domain[] = "custos/csrf/v1";

static void csrf_mac(const cu_key *k, const char *session_id, unsigned char mac[CU_HMAC_BYTES])
{
    cu_buf m;
    cu_buf_init(&m, 4096);
    if (cu_buf_append(&m, csrf_domain, sizeof csrf_domain) ||
        cu_buf_append_str(&m, session_id ? session_id : "")) {
        /* cannot happen for a session id; a token no session matches */
        cu_random(mac, CU_HMAC_BYTES);
    } else {
        cu_hmac_sha256(k, m.data, m.len, mac);
    }
    cu_buf_release(&m);
}

void cu_csrf_token(const cu_key *k, const char *session_id, char out[CU_CSRF_STRLEN])
{
    unsigned char mac[CU_HMAC_BYTES];
    csrf_mac(k, session_id, mac);
    if (cu_base64(mac, sizeof mac, true, out, CU_CSRF_STRLEN))
        out[0] = '\0'; /* cannot happen: the size is fixed */
    cu_wipe(mac, sizeof mac);
}

bool cu_csrf_verify(const cu_key *k, const char *session_id, const char *token)
{
    if (!token || !session_id || strnlen(token, CU_CSRF_STRLEN) != CU_CSRF_STRLEN - 1)
        return false;
    unsigned char got[CU_HMAC_BYTES], want[CU_HMAC_BYTES];
    if (!cu_unbase64url(token, CU_CSRF_STRLEN - 1, got, sizeof got))
        return false;
    csrf_mac(k, session_id, want);
    bool ok = cu_ct_equal(got, want, sizeof got);
    cu_wipe(got, sizeof got);
    cu_wipe(want, sizeof want);
    return ok;
}

bool cu_fetch_cross_site(const char *sec_fetch_site)
{
    return sec_fetch_site && (strcmp(sec_fetch_site, "cross-site") == 0 ||
                              strcmp(sec_fetch_site, "same-site") == 0);
}
