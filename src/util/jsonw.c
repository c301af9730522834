#include "util/jsonw.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"

void cu_jw_init(cu_jw *w, cu_buf *out)
{
    w->out = out;
    w->comma = false;
    w->rc = CU_OK;
}

/* Appends n bytes; the room-already-there case inline, since a response is
 * written a few bytes at a time. */
static inline void put(cu_jw *w, const char *s, size_t n)
{
    cu_buf *b = w->out;
    if (w->rc)
        return;
    if (b->data && n < b->cap_alloc - b->len && b->len + n <= b->limit) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    w->rc = cu_buf_append(b, s, n);
}

static void sep(cu_jw *w)
{
    if (w->comma)
        put(w, ",", 1);
    w->comma = true;
}

void cu_jw_begin_object(cu_jw *w)
{
    sep(w);
    put(w, "{", 1);
    w->comma = false;
}

void cu_jw_end_object(cu_jw *w)
{
    put(w, "}", 1);
    w->comma = true;
}

void cu_jw_begin_array(cu_jw *w)
{
    sep(w);
    put(w, "[", 1);
    w->comma = false;
}

void cu_jw_end_array(cu_jw *w)
{
    put(w, "]", 1);
    w->comma = true;
}

/* Bytes that stand for themselves inside a JSON string here: everything but
 * control characters, DEL, '"' and '\\'. */
static const unsigned char plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f: '"' */
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50-0x5f: '\\' */
    R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70-0x7f: DEL */
    R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1),
#undef R16
};

static void escaped(cu_jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (w->rc)
        return;
    /* Most strings need no escape: one reservation, copied while checked. */
    cu_buf *b = w->out;
    if (n > SIZE_MAX - 2 || cu_buf_reserve(b, n + 2)) {
        w->rc = CU_ENOMEM;
        return;
    }
    unsigned char *o = b->data + b->len;
    size_t i = 0;
    o[0] = '"';
    while (i < n && plain[(unsigned char)s[i]]) {
        o[1 + i] = (unsigned char)s[i];
        i++;
    }
    if (i == n) {
        o[1 + n] = '"';
        b->len += n + 2;
        b->data[b->len] = '\0';
        return;
    }
    b->len += 1 + i;
    b->data[b->len] = '\0';
    size_t run = i;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (plain[c])
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') {
            e[1] = (char)c;
            put(w, e, 2);
        } else {
            put(w, e, 6);
        }
    }
    put(w, s + run, n - run);
    put(w, "\"", 1);
}

void cu_jw_key(cu_jw *w, const char *key)
{
    sep(w);
    escaped(w, key, strlen(key));
    put(w, ":", 1);
    w->comma = false;
}

void cu_jw_string(cu_jw *w, const char *s, size_t n)
{
    sep(w);
    escaped(w, s, n);
}

void cu_jw_str(cu_jw *w, const char *s)
{
    if (s)
        cu_jw_string(w, s, strlen(s));
    else
        cu_jw_null(w);
}

void cu_jw_real(cu_jw *w, double v)
{
    if (!isfinite(v)) {
        if (!w->rc)
            w->rc = CU_EINVAL;
        return;
    }
    sep(w);
    char b[32];
    int n = snprintf(b, sizeof b, "%.17g", v);
    if (n > 0 && (size_t)n < sizeof b)
        put(w, b, (size_t)n);
    else if (!w->rc)
        w->rc = CU_EINVAL;
}

void cu_jw_int(cu_jw *w, int64_t v)
{
    sep(w);
    char b[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        b[sizeof b - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        b[sizeof b - 1 - n++] = '-';
    put(w, b + sizeof b - n, n);
}

void cu_jw_bool(cu_jw *w, bool v)
{
    sep(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void cu_jw_null(cu_jw *w)
{
    sep(w);
    put(w, "null", 4);
}

void cu_jw_time(cu_jw *w, int64_t us)
{
    if (!us) {
        cu_jw_null(w);
        return;
    }
    char t[CU_TIME_STRLEN];
    cu_time_format(us, t);
    cu_jw_string(w, t, strlen(t));
}
