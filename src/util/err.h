/*
 * err.h — status codes and the one-line error carried out of every fallible call.
 *
 * Contract: a fallible function returns CU_OK (0) or one of the cu_status codes
 * and, when it fails and was given a non-NULL cu_err, fills it with the same code
 * and a one-line message. Messages never contain personal data: they name fields,
 * ids and limits, never values. The first error set wins; later calls to
 * cu_err_set on an error that already holds one do nothing, so the message a user
 * sees is the cause, not a consequence.
 */
#ifndef CUSTOS_UTIL_ERR_H
#define CUSTOS_UTIL_ERR_H

#include <stddef.h>

#define CU_MUST_USE __attribute__((warn_unused_result))

typedef enum cu_status {
    CU_OK = 0,
    CU_EINVAL,     /* invalid input: bad JSON, bad NHS number, unknown category */
    CU_ENOTFOUND,  /* no such controller, subject or item */
    CU_EERASED,    /* the subject was erased */
    CU_EDENIED,    /* refused by access control or policy */
    CU_ECONCEALED, /* refused, and reported to the caller as not found */
    CU_ECONFLICT,  /* would duplicate something unique */
    CU_EKEY,       /* master key missing, unreadable, badly protected or wrong */
    CU_EVERSION,   /* store written by a newer custos */
    CU_ECORRUPT,   /* store file damaged, or ciphertext failed authentication */
    CU_ETAMPER,    /* audit chain verification failed */
    CU_EIO,        /* file system or database I/O failure */
    CU_ENOMEM,     /* allocation failed or a size cap was hit internally */
    CU_EINTERNAL,  /* a bug: an impossible state */
    CU_ERETRY,     /* the database aborted a transaction to keep concurrent ones
                    * serialisable: running it again may succeed */
    CU_EUNAVAILABLE, /* the database cannot be reached now */
} cu_status;

typedef struct cu_err {
    cu_status code;
    char msg[256];
} cu_err;

/* Clears an error holder. */
void cu_err_clear(cu_err *err);

/* Records code and a printf-style message (truncated to fit) unless err is NULL
 * or already holds an error. Returns code, so callers can `return cu_err_set(...)`. */
int cu_err_set(cu_err *err, cu_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A short stable name for a code ("invalid", "not_found", ...). */
const char *cu_status_name(cu_status code);

#endif
