/*
 * framing.h — strict message framing (RFC 9112) for the request headers that
 * libmicrohttpd has parsed, checked before a request is dispatched.
 *
 * libmicrohttpd 0.9.75 frames a body by the first Content-Length and ignores
 * the rest, lets Transfer-Encoding override Content-Length, waits for the end
 * of the connection on a transfer coding other than chunked, and joins a
 * folded line (obs-fold) onto the field *name* before it. Each header field is
 * fed in turn (cu_framing_add) and the verdict decides: 0 to go on, or the
 * status (400 or 501) and a detail (static text, no header value) to answer
 * with before closing the connection. No allocation; the fields are not kept.
 */
#ifndef CUSTOS_HTTP_FRAMING_H
#define CUSTOS_HTTP_FRAMING_H

#include <stdbool.h>

typedef struct cu_framing {
    unsigned content_length; /* Content-Length fields */
    unsigned transfer_encoding;
    unsigned host;
    bool bad_length;     /* a Content-Length that is not 1 to 19 digits */
    bool bad_coding;     /* a transfer coding other than chunked */
    bool bad_name;       /* a field name that is not a token */
    bool folded_framing; /* a name extending Content-Length, Transfer-Encoding or Host */
    bool control;        /* a control character (other than HTAB) in a value */
} cu_framing;

/* One header field as parsed: name and value (leading whitespace removed). */
void cu_framing_add(cu_framing *f, const char *name, const char *value);

/* 0 when the framing is sound; else 400 or 501 with *detail set. */
int cu_framing_verdict(const cu_framing *f, const char **detail);

#endif
