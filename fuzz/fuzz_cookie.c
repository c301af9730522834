/*
 * fuzz_cookie.c — cu_cookie_get (src/http/websec.h) on arbitrary Cookie
 * headers, for the session cookie and for a short name.
 *
 * Invariants: the status is one of OK, NOTFOUND, INVAL; a header with a
 * control byte or longer than CU_COOKIE_HEADER_MAX is INVAL; a value found is
 * NUL-terminated inside the buffer, non-empty, made of cookie-octets only,
 * and occurs in the header; it survives cu_cookie_set and a second parse
 * unchanged; a buffer too small is never overrun (ASan) and never yields OK
 * with a cut value.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/websec.h"

static bool octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

static void one(const char *h, size_t hlen, const char *name)
{
    char out[CU_COOKIE_VALUE_MAX + 1];
    int rc = cu_cookie_get(h, name, out, sizeof out);
    CHECK(rc == CU_OK || rc == CU_ENOTFOUND || rc == CU_EINVAL);
    bool control = false;
    for (size_t i = 0; i < hlen; i++)
        if (((unsigned char)h[i] < 0x20 && h[i] != '\t') || h[i] == 0x7f)
            control = true;
    if (control || hlen > CU_COOKIE_HEADER_MAX)
        CHECK(rc == CU_EINVAL);
    if (rc != CU_OK) {
        CHECK(out[0] == '\0');
        return;
    }
    size_t n = strnlen(out, sizeof out);
    CHECK(n > 0 && n < sizeof out);
    for (size_t i = 0; i < n; i++)
        CHECK(octet((unsigned char)out[i]));
    CHECK(strstr(h, out) != NULL);
    CHECK(strstr(h, name) != NULL);

    /* a smaller buffer: the same value or INVAL, never a cut one */
    char small[8];
    int rc2 = cu_cookie_get(h, name, small, sizeof small);
    if (n < sizeof small)
        CHECK(rc2 == CU_OK && strcmp(small, out) == 0);
    else
        CHECK(rc2 == CU_EINVAL && small[0] == '\0');

    if (strcmp(name, CU_SESSION_COOKIE) == 0) {
        char set[CU_SET_COOKIE_MAX];
        CHECK(cu_cookie_set(out, 3600, set, sizeof set) == CU_OK);
        /* what a browser sends back: name=value */
        char *semi = strchr(set, ';');
        CHECK(semi != NULL);
        *semi = '\0';
        char back[CU_COOKIE_VALUE_MAX + 1];
        CHECK(cu_cookie_get(set, name, back, sizeof back) == CU_OK);
        CHECK(strcmp(back, out) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    if (!h)
        return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    size_t hlen = strlen(h); /* a NUL ends the header, as it does in a C string */
    one(h, hlen, CU_SESSION_COOKIE);
    one(h, hlen, "a");
    free(h);
    return 0;
}
