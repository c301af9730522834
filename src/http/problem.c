#include "http/problem.h"

static const struct {
    int status;
    const char *kind;
    const char *title;
} problems[CU_P_COUNT] = {
    [CU_P_INVALID] = {400, "invalid-input", "The request is not valid"},
    [CU_P_UNAUTHENTICATED] = {401, "unauthenticated", "Sign-in is required"},
    [CU_P_CODE_REQUIRED] = {401, "one-time-code-required", "A one-time code is required"},
    [CU_P_FORBIDDEN] = {403, "forbidden", "Not permitted"},
    [CU_P_NOT_FOUND] = {404, "not-found", "Not found"},
    [CU_P_METHOD] = {405, "method-not-allowed", "Method not allowed"},
    [CU_P_TIMEOUT] = {408, "request-timeout", "The request was not sent in time"},
    [CU_P_CONFLICT] = {409, "conflict", "Conflicts with existing data"},
    [CU_P_ERASED] = {410, "erased", "The subject was erased"},
    [CU_P_TOO_LARGE] = {413, "payload-too-large", "The request body is too large"},
    [CU_P_MEDIA_TYPE] = {415, "unsupported-media-type", "The body must be application/json"},
    [CU_P_THROTTLED] = {429, "too-many-requests", "Too many attempts; try again later"},
    [CU_P_INTERNAL] = {500, "internal", "Internal error"},
    [CU_P_NOT_IMPLEMENTED] = {501, "not-implemented", "Not implemented"},
    [CU_P_UNAVAILABLE] = {503, "unavailable", "The service is unavailable"},
};

static const char *const types[CU_P_COUNT] = {
    [CU_P_INVALID] = "urn:custos:problem:invalid-input",
    [CU_P_UNAUTHENTICATED] = "urn:custos:problem:unauthenticated",
    [CU_P_CODE_REQUIRED] = "urn:custos:problem:one-time-code-required",
    [CU_P_FORBIDDEN] = "urn:custos:problem:forbidden",
    [CU_P_NOT_FOUND] = "urn:custos:problem:not-found",
    [CU_P_METHOD] = "urn:custos:problem:method-not-allowed",
    [CU_P_TIMEOUT] = "urn:custos:problem:request-timeout",
    [CU_P_CONFLICT] = "urn:custos:problem:conflict",
    [CU_P_ERASED] = "urn:custos:problem:erased",
    [CU_P_TOO_LARGE] = "urn:custos:problem:payload-too-large",
    [CU_P_MEDIA_TYPE] = "urn:custos:problem:unsupported-media-type",
    [CU_P_THROTTLED] = "urn:custos:problem:too-many-requests",
    [CU_P_INTERNAL] = "urn:custos:problem:internal",
    [CU_P_NOT_IMPLEMENTED] = "urn:custos:problem:not-implemented",
    [CU_P_UNAVAILABLE] = "urn:custos:problem:unavailable",
};

int cu_problem_status(cu_problem p)
{
    return (unsigned)p < CU_P_COUNT ? problems[p].status : 500;
}

const char *cu_problem_type(cu_problem p)
{
    return (unsigned)p < CU_P_COUNT ? types[p] : types[CU_P_INTERNAL];
}

const char *cu_problem_title(cu_problem p)
{
    return (unsigned)p < CU_P_COUNT ? problems[p].title : problems[CU_P_INTERNAL].title;
}

cu_problem cu_problem_of(cu_status code)
{
    switch (code) {
    case CU_EINVAL: return CU_P_INVALID;
    case CU_ENOTFOUND:
    case CU_ECONCEALED: return CU_P_NOT_FOUND;
    case CU_EERASED: return CU_P_ERASED;
    case CU_EDENIED: return CU_P_FORBIDDEN;
    case CU_ECONFLICT: return CU_P_CONFLICT;
    /* A retry may succeed: the database aborted the transaction or cannot
     * be reached now. */
    case CU_ERETRY:
    case CU_EUNAVAILABLE: return CU_P_UNAVAILABLE;
    /* An I/O error or a damaged store: internal, never with its detail
     * (docs/api.md). */
    case CU_ETAMPER:
    case CU_EKEY:
    case CU_EVERSION:
    case CU_ECORRUPT:
    case CU_EIO:
    case CU_ENOMEM:
    case CU_EINTERNAL:
    case CU_OK: return CU_P_INTERNAL;
    }
    return CU_P_INTERNAL;
}

json_t *cu_problem_json(cu_problem p, const char *detail)
{
    json_t *j = json_pack("{s:s, s:s, s:i}", "type", cu_problem_type(p), "title",
                          cu_problem_title(p), "status", cu_problem_status(p));
    if (j && detail && *detail)
        json_object_set_new(j, "detail", json_string(detail));
    return j;
}
