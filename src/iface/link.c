#include "iface/link.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"

static char public_url[CU_PUBLIC_URL_MAX + 1] = CU_PUBLIC_URL_DEFAULT;
static bool public_url_set;

static bool unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '~' || c == '-';
}

static int bad(cu_err *err, const char *why)
{
    return cu_err_set(err, CU_EINVAL, "the public URL %s (expected http(s)://HOST[:PORT][/PATH])",
                      why);
}

static int parse_url(const char *url, char *out, cu_err *err)
{
    if (!url || !*url)
        return bad(err, "is empty");
    size_t n = strnlen(url, CU_PUBLIC_URL_MAX + 1);
    if (n > CU_PUBLIC_URL_MAX)
        return cu_err_set(err, CU_EINVAL, "the public URL is longer than %d characters",
                          CU_PUBLIC_URL_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return bad(err, "contains a space, a control character or a non-ASCII byte");
    }
    if (strchr(url, '?'))
        return bad(err, "has a query ('?')");
    if (strchr(url, '#'))
        return bad(err, "has a fragment ('#')");
    size_t o = 0;
    const char *p;
    if (strncasecmp(url, "https://", 8) == 0) {
        memcpy(out, "https://", 8);
        o = 8;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        memcpy(out, "http://", 7);
        o = 7;
        p = url + 7;
    } else {
        return bad(err, "is not http or https");
    }
    size_t alen = strcspn(p, "/");
    if (memchr(p, '@', alen))
        return bad(err, "has a user name or password ('@')");
    if (alen == 0)
        return bad(err, "has no host");
    /* host */
    size_t h = 0;
    if (p[0] == '[') {
        const char *close = memchr(p, ']', alen);
        if (!close || close == p + 1)
            return bad(err, "has an unterminated or empty IPv6 literal");
        for (const char *q = p + 1; q < close; q++)
            if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
                return bad(err, "has an invalid IPv6 literal");
        h = (size_t)(close - p) + 1;
    } else {
        while (h < alen && p[h] != ':') {
            char c = p[h];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-'))
                return bad(err, "has an invalid host name");
            h++;
        }
        if (h == 0 || p[0] == '.' || p[0] == '-' || p[h - 1] == '-')
            return bad(err, "has an invalid host name");
        for (size_t i = 1; i < h; i++)
            if (p[i] == '.' && p[i - 1] == '.')
                return bad(err, "has an invalid host name");
    }
    for (size_t i = 0; i < h; i++)
        out[o++] = (char)tolower((unsigned char)p[i]);
    /* port */
    if (h < alen) {
        if (p[h] != ':' || h + 1 == alen || alen - h - 1 > 5)
            return bad(err, "has an invalid port");
        long port = 0;
        for (size_t i = h + 1; i < alen; i++) {
            if (!isdigit((unsigned char)p[i]))
                return bad(err, "has an invalid port");
            port = port * 10 + (p[i] - '0');
        }
        if (port < 1 || port > 65535)
            return bad(err, "has a port outside 1 to 65535");
        memcpy(out + o, p + h, alen - h);
        o += alen - h;
    }
    /* path: segments of unreserved characters and %XX escapes */
    const char *s = p + alen;
    size_t plen = strlen(s);
    while (plen && s[plen - 1] == '/')
        plen--; /* the trailing slash, normalised away */
    size_t i = 0;
    while (i < plen) {
        /* s[i] == '/' */
        size_t j = i + 1;
        while (j < plen && s[j] != '/') {
            if (s[j] == '%') {
                if (j + 2 >= plen || !isxdigit((unsigned char)s[j + 1]) ||
                    !isxdigit((unsigned char)s[j + 2]))
                    return bad(err, "has a bad %-escape in its path");
                j += 3;
                continue;
            }
            if (!unreserved(s[j]))
                return bad(err, "has a character its path may not hold");
            j++;
        }
        size_t seg = j - i - 1;
        if (seg == 0)
            return bad(err, "has an empty path segment ('//')");
        if ((seg == 1 && s[i + 1] == '.') || (seg == 2 && s[i + 1] == '.' && s[i + 2] == '.'))
            return bad(err, "has a '.' or '..' path segment");
        i = j;
    }
    memcpy(out + o, s, plen);
    o += plen;
    out[o] = '\0';
    return CU_OK;
}

int cu_public_url_parse(const char *url, char *out, cu_err *err)
{
    out[0] = '\0';
    int rc = parse_url(url, out, err);
    if (rc)
        out[0] = '\0'; /* nothing half-written */
    return rc;
}

int cu_public_url_set(const char *url, cu_err *err)
{
    char tmp[CU_PUBLIC_URL_MAX + 1];
    int rc = cu_public_url_parse(url, tmp, err);
    if (rc)
        return rc;
    memcpy(public_url, tmp, sizeof tmp);
    public_url_set = true;
    return CU_OK;
}

const char *cu_public_url(void)
{
    return public_url;
}

bool cu_public_url_is_set(void)
{
    return public_url_set;
}

int cu_public_link(char *buf, size_t cap, const char *path)
{
    if (cap)
        buf[0] = '\0';
    if (!path || path[0] != '/')
        return CU_EINVAL;
    for (const char *q = path; *q; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
            return CU_EINVAL;
    int n = snprintf(buf, cap, "%s%s", public_url, path);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        return CU_EINVAL;
    }
    return CU_OK;
}
