/*
 * problem.h — RFC 9457 problem details: one stable type per kind of error.
 *
 * Every error response is application/problem+json:
 *   {"type": "urn:custos:problem:<kind>", "title": "...", "status": N,
 *    "detail": "..."}
 * The detail names fields, ids and limits, never a personal value; domain
 * error messages follow the same rule (err.h).
 */
#ifndef CUSTOS_HTTP_PROBLEM_H
#define CUSTOS_HTTP_PROBLEM_H

#include <jansson.h>

#include "util/err.h"

typedef enum cu_problem {
    CU_P_INVALID,          /* 400 */
    CU_P_UNAUTHENTICATED,  /* 401 */
    CU_P_CODE_REQUIRED,    /* 401: the account needs a one-time code */
    CU_P_FORBIDDEN,        /* 403 */
    CU_P_NOT_FOUND,        /* 404 */
    CU_P_METHOD,           /* 405 */
    CU_P_TIMEOUT,          /* 408: the request was not sent in time */
    CU_P_CONFLICT,         /* 409 */
    CU_P_ERASED,           /* 410 */
    CU_P_TOO_LARGE,        /* 413 */
    CU_P_MEDIA_TYPE,       /* 415 */
    CU_P_THROTTLED,        /* 429 */
    CU_P_INTERNAL,         /* 500 */
    CU_P_NOT_IMPLEMENTED,  /* 501: a transfer coding other than chunked */
    CU_P_UNAVAILABLE,      /* 503 */
    CU_P_COUNT
} cu_problem;

int cu_problem_status(cu_problem p);
const char *cu_problem_type(cu_problem p);
const char *cu_problem_title(cu_problem p);
/* The problem for a domain status (CU_EINVAL -> invalid, ...). */
cu_problem cu_problem_of(cu_status code);
/* A new problem document; detail may be NULL. */
json_t *cu_problem_json(cu_problem p, const char *detail);

#endif
