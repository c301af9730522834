#include "util/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A wipe the compiler may not elide (util cannot call libsodium): glibc's
 * explicit_bzero, a memset the optimiser must keep, so a wipe runs at memset
 * speed rather than a byte at a time. */
static void buf_wipe(void *p, size_t n)
{
    explicit_bzero(p, n);
}

void cu_buf_init(cu_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap_alloc = 0;
    b->limit = limit ? limit : CU_BUF_DEFAULT_LIMIT;
}

void cu_buf_release(cu_buf *b)
{
    if (b->data) {
        buf_wipe(b->data, b->cap_alloc);
        free(b->data);
    }
    b->data = NULL;
    b->len = 0;
    b->cap_alloc = 0;
}

void cu_buf_reset(cu_buf *b)
{
    if (b->data) {
        buf_wipe(b->data, b->len);
        b->data[0] = '\0';
    }
    b->len = 0;
}

int cu_buf_reserve(cu_buf *b, size_t extra)
{
    if (extra > b->limit || b->len > b->limit - extra)
        return CU_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap_alloc)
        return CU_OK;
    size_t n = b->cap_alloc ? b->cap_alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    if (n > b->limit + 1)
        n = b->limit + 1;
    unsigned char *p = malloc(n);
    if (!p)
        return CU_ENOMEM;
    if (b->data) {
        memcpy(p, b->data, b->len + 1);
        buf_wipe(b->data, b->cap_alloc);
        free(b->data);
    } else {
        p[0] = '\0';
    }
    b->data = p;
    b->cap_alloc = n;
    return CU_OK;
}

int cu_buf_append(cu_buf *b, const void *p, size_t n)
{
    /* Fast path: room already allocated and within the limit. */
    if (b->data && n < b->cap_alloc - b->len && b->len + n <= b->limit) {
        if (n)
            memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return CU_OK;
    }
    int rc = cu_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return CU_OK;
}

int cu_buf_append_str(cu_buf *b, const char *s)
{
    return cu_buf_append(b, s, strlen(s));
}

int cu_buf_append_u32be(cu_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    return cu_buf_append(b, x, sizeof x);
}

int cu_buf_append_u64be(cu_buf *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 7; i >= 0; i--) {
        x[i] = (unsigned char)v;
        v >>= 8;
    }
    return cu_buf_append(b, x, sizeof x);
}

int cu_buf_append_field(cu_buf *b, const void *p, size_t n)
{
    if (n > UINT32_MAX)
        return CU_ENOMEM;
    int rc = cu_buf_append_u32be(b, (uint32_t)n);
    return rc ? rc : cu_buf_append(b, p, n);
}

int cu_buf_printf(cu_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CU_EINTERNAL;
    int rc = cu_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CU_OK;
}

const char *cu_buf_str(const cu_buf *b)
{
    return b->data ? (const char *)b->data : "";
}

int cu_strlcpy(char *dst, const char *src, size_t dstsz)
{
    size_t n = strlen(src);
    if (dstsz == 0)
        return -1;
    if (n >= dstsz) {
        memcpy(dst, src, dstsz - 1);
        dst[dstsz - 1] = '\0';
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

bool cu_parse_count(const char *s, long long max, long long *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || !end || *end || n < 1 || n > max)
        return false;
    *out = n;
    return true;
}
