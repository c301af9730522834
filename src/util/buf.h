/*
 * buf.h — a growable byte buffer that carries its length and a hard cap.
 *
 * Invariants: data is NULL or points at cap_alloc bytes owned by the buffer;
 * len < cap_alloc whenever data != NULL and data[len] == '\0', so the contents
 * can always be read as a C string (they may also hold NUL bytes). len never
 * exceeds limit; an append that would is refused with CU_ENOMEM and leaves the
 * buffer unchanged. cu_buf_release wipes the bytes before freeing them, so a
 * buffer may hold decrypted personal data.
 */
#ifndef CUSTOS_UTIL_BUF_H
#define CUSTOS_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct cu_buf {
    unsigned char *data;
    size_t len;
    size_t cap_alloc;
    size_t limit;
} cu_buf;

/* Default limit: 16 MiB. */
#define CU_BUF_DEFAULT_LIMIT ((size_t)16 << 20)

void cu_buf_init(cu_buf *b, size_t limit);
/* Wipes and frees the contents; the buffer may be reused after cu_buf_init. */
void cu_buf_release(cu_buf *b);
/* Empties the buffer (wiping what it held), keeping its allocation. */
void cu_buf_reset(cu_buf *b);

CU_MUST_USE int cu_buf_reserve(cu_buf *b, size_t extra);
CU_MUST_USE int cu_buf_append(cu_buf *b, const void *p, size_t n);
CU_MUST_USE int cu_buf_append_str(cu_buf *b, const char *s);
CU_MUST_USE int cu_buf_append_u32be(cu_buf *b, uint32_t v);
CU_MUST_USE int cu_buf_append_u64be(cu_buf *b, uint64_t v);
/* Appends a 4-byte big-endian length then the bytes (the canonical field form). */
CU_MUST_USE int cu_buf_append_field(cu_buf *b, const void *p, size_t n);
CU_MUST_USE int cu_buf_printf(cu_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The contents as a C string ("" for an empty buffer). */
const char *cu_buf_str(const cu_buf *b);

/* Copies at most dstsz-1 bytes of src into dst and NUL-terminates it; returns
 * 0, or -1 when src did not fit (dst then holds a truncated copy). */
int cu_strlcpy(char *dst, const char *src, size_t dstsz);
/* A count written as decimal digits only (no sign, space or suffix), from 1
 * to max: true and *out set, or false. */
bool cu_parse_count(const char *s, long long max, long long *out);

#endif
