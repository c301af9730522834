#include "util/jsonw.h"

#include <string.h>

#include "util/clock.h"

void cu_jw_init(cu_jw *w, cu_buf *out)
{
    w->out = out;
    w->comma = false;
    w->rc = CU_OK;
}

static void put(cu_jw *w, const char *s, size_t n)
{
    if (!w->rc)
        w->rc = cu_buf_append(w->out, s, n);
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

static void escaped(cu_jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
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
