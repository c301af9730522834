/*
 * jsonw.h — a small JSON writer into a cu_buf, for hot responses: no tree, no
 * per-value allocation. The caller writes well-formed structure (objects,
 * arrays, keys, values in order); strings are escaped here and must be UTF-8
 * (values custos stores were validated as UTF-8 on input). The buffer is
 * wiped when released (cu_buf), so it may hold personal data.
 */
#ifndef CUSTOS_UTIL_JSONW_H
#define CUSTOS_UTIL_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef struct cu_jw {
    cu_buf *out;
    bool comma; /* the next value needs a comma before it */
    int rc;     /* the first failure (sticky) */
} cu_jw;

void cu_jw_init(cu_jw *w, cu_buf *out);
void cu_jw_begin_object(cu_jw *w);
void cu_jw_end_object(cu_jw *w);
void cu_jw_begin_array(cu_jw *w);
void cu_jw_end_array(cu_jw *w);
/* The key of the next member. */
void cu_jw_key(cu_jw *w, const char *key);
void cu_jw_string(cu_jw *w, const char *s, size_t n);
void cu_jw_str(cu_jw *w, const char *s); /* NUL-terminated; NULL writes null */
void cu_jw_int(cu_jw *w, int64_t v);
/* A finite number as %.17g (a value that is not finite fails the writer). */
void cu_jw_real(cu_jw *w, double v);
void cu_jw_bool(cu_jw *w, bool v);
void cu_jw_null(cu_jw *w);
/* A UTC time as "2026-11-22T10:41:26.123456Z", or null for 0. */
void cu_jw_time(cu_jw *w, int64_t us);

#endif
