/* form.c — application/x-www-form-urlencoded, parsed strictly (form.h). */
#include "http/form.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            k = 1, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        unsigned cp = c & (0x3f >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* Decodes src[0..n) into dst (at most n bytes), NUL-terminated; the decoded
 * length in *out, or -1 for a malformed escape or a forbidden byte. */
static int decode(const char *src, size_t n, char *dst, size_t *out)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3)
                return -1;
            int a = hexval(src[i + 1]), b = hexval(src[i + 2]);
            if (a < 0 || b < 0)
                return -1;
            c = (unsigned char)(a << 4 | b);
            i += 2;
        }
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return -1;
        dst[w++] = (char)c;
    }
    dst[w] = '\0';
    *out = w;
    return utf8_ok((const unsigned char *)dst, w) ? 0 : -1;
}

int cu_form_parse(const char *body, size_t len, cu_form *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    if (!len)
        return CU_OK;
    size_t fields = 1;
    for (size_t i = 0; i < len; i++)
        fields += body[i] == '&';
    if (fields > CU_FORM_MAX_FIELDS)
        return cu_err_set(err, CU_EINVAL, "the form has more than %d fields",
                          CU_FORM_MAX_FIELDS);
    cu_form f = {0};
    f.f = calloc(fields, sizeof *f.f);
    f.textlen = len + fields * 2;
    f.text = malloc(f.textlen);
    if (!f.f || !f.text) {
        free(f.f);
        free(f.text);
        return cu_err_set(err, CU_ENOMEM, "out of memory reading the form");
    }
    char *w = f.text;
    const char *p = body, *end = body + len;
    int rc = CU_OK;
    while (p <= end && !rc) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop == p) { /* an empty pair ("a=1&&b=2", a trailing '&') */
            p = stop + 1;
            if (!amp)
                break;
            continue;
        }
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *nend = eq ? eq : stop;
        size_t nl, vl;
        char *name = w;
        if (nend == p) {
            rc = cu_err_set(err, CU_EINVAL, "the form has a field without a name");
            break;
        }
        if (decode(p, (size_t)(nend - p), name, &nl)) {
            rc = cu_err_set(err, CU_EINVAL, "the form is not correctly encoded");
            break;
        }
        if (nl > CU_FORM_MAX_NAME) {
            rc = cu_err_set(err, CU_EINVAL, "the form has a field name longer than %d bytes",
                            CU_FORM_MAX_NAME);
            break;
        }
        w += nl + 1;
        char *value = w;
        const char *vs = eq ? eq + 1 : stop;
        if (decode(vs, (size_t)(stop - vs), value, &vl)) {
            rc = cu_err_set(err, CU_EINVAL, "the form is not correctly encoded");
            break;
        }
        if (vl > CU_FORM_MAX_VALUE) {
            rc = cu_err_set(err, CU_EINVAL, "the form has a value longer than %d bytes",
                            CU_FORM_MAX_VALUE);
            break;
        }
        w += vl + 1;
        f.f[f.n].name = name;
        f.f[f.n].value = value;
        f.n++;
        if (!amp)
            break;
        p = amp + 1;
    }
    if (rc) {
        cu_form_free(&f);
        return rc;
    }
    *out = f;
    return CU_OK;
}

const char *cu_form_get(const cu_form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->f[i].name, name) == 0)
            return f->f[i].value;
    return NULL;
}

size_t cu_form_count(const cu_form *f, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += strcmp(f->f[i].name, name) == 0;
    return n;
}

void cu_form_free(cu_form *f)
{
    if (f->text)
        cu_wipe(f->text, f->textlen);
    free(f->text);
    free(f->f);
    memset(f, 0, sizeof *f);
}
