#include "http/pages_util.h"

#include <string.h>

bool cu_path_relative(const char *from_path, const char *to, char *out, size_t cap)
{
    if (out && cap)
        out[0] = '\0';
    if (!from_path || !to || !out || from_path[0] != '/' || to[0] != '/')
        return false;
    size_t up = 0;
    for (const char *p = from_path + 1; *p; p++)
        up += *p == '/';
    size_t rest = strlen(to + 1);
    if (up > 16 || up * 3 + rest + 1 > cap)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < up; i++, o += 3)
        memcpy(out + o, "../", 3);
    memcpy(out + o, to + 1, rest + 1);
    if (o + rest == 0) { /* from "/x" to "/": the current directory */
        if (cap < 3)
            return false;
        memcpy(out, "./", 3);
    }
    return true;
}

bool cu_page_number(const char *s, long max, long *out)
{
    if (!s) {
        *out = 1;
        return true;
    }
    long n = 0;
    size_t len = strlen(s);
    if (len == 0 || len > 9 || s[0] == '0')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        n = n * 10 + (s[i] - '0');
    }
    if (n < 1 || n > max)
        return false;
    *out = n;
    return true;
}
