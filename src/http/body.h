/*
 * body.h — parsers for the small JSON bodies of the HTTP API (subject
 * documents use domain/input.h). Untrusted input: fuzzed in fuzz/fuzz_http.c.
 * Unknown keys, duplicates, wrong types and oversize values are refused with
 * CU_EINVAL and a message naming the key, never the value. Strings are copied
 * into the structs (fixed caps) and must be wiped by the caller when secret.
 */
#ifndef CUSTOS_HTTP_BODY_H
#define CUSTOS_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct cu_signin_body {
    char username[72];
    char password[260];
    size_t password_len;
    char code[8]; /* "" when absent */
} cu_signin_body;

/* {"nhs_number"|"email"|"phone"|"local_ref": s} or
 * {"family_name": s, "birth_date": "YYYY-MM-DD"} */
typedef struct cu_search_body {
    const char *field; /* nhs_number, email, phone, local_ref, family_name (static) */
    char value[1028];
    size_t value_len;
    char birth_date[16]; /* with family_name */
} cu_search_body;

typedef struct cu_break_glass_body {
    char reason[4004]; /* up to 1000 characters of UTF-8 */
    size_t reason_len;
    int minutes; /* default 60 */
} cu_break_glass_body;

/* {"purpose": s, "state": "given"|"withdrawn" (default given), "method": s,
 *  "evidence": s?} */
typedef struct cu_consent_body {
    char purpose[72];
    bool given;
    char method[32];
    char evidence[4100];
    size_t evidence_len;
} cu_consent_body;

/* {"purpose": s} (an objection also accepts "all") */
typedef struct cu_purpose_body {
    char purpose[72];
} cu_purpose_body;

/* A rights request as received: {"kind": s, "channel": s, "received_on":
 * "YYYY-MM-DD", "details": s, "purpose": s?} (purpose: objections only). */
typedef struct cu_request_body {
    char kind[24];
    char channel[16];
    char received_on[16];
    char purpose[72];
    char details[4097];
    size_t details_len;
} cu_request_body;

/* One transition of a request: {"action": s, "why": s, "on": "YYYY-MM-DD"?,
 * "subject": id?, "told_on": "YYYY-MM-DD"?, "grounds": s?,
 * "ico_route_stated": bool?} */
typedef struct cu_request_change_body {
    char action[24];
    char why[4097];
    size_t why_len;
    char on[16];
    char subject[40];
    char told_on[16];
    char grounds[32];
    bool ico_route_stated;
} cu_request_change_body;

CU_MUST_USE int cu_body_request(const void *json, size_t len, cu_request_body *out,
                                cu_err *err);
CU_MUST_USE int cu_body_request_change(const void *json, size_t len,
                                       cu_request_change_body *out, cu_err *err);
/* {"treatment_ended": "YYYY-MM-DD"?, "died": "YYYY-MM-DD"?,
 *  "approve_health": 16 hex digits?} (an erasure plan or its execution) */
typedef struct cu_erasure_body {
    int64_t treatment_ended, died; /* 0: absent */
    char approve_health[24];       /* "": absent */
} cu_erasure_body;

CU_MUST_USE int cu_body_erasure(const void *json, size_t len, cu_erasure_body *out,
                                cu_err *err);
/* POST /v1/subjects/{id}/sar:
 * {"format": "json"|"html"|"fhir" (default json),
 *  "withhold": [{"item": item id, "reason": s (1-1000 bytes)}] (at most 100)} */
#define CU_BODY_MAX_WITHHOLD 100
typedef struct cu_sar_body {
    char format[8];
    size_t nwithhold;
    char item[CU_BODY_MAX_WITHHOLD][40];
    char reason[CU_BODY_MAX_WITHHOLD][1004];
} cu_sar_body;
/* POST /v1/subjects/{id}/disclosures:
 * {"recipient_id": s | "organisation": s (exactly one), "basis": "a".."f",
 *  "channel": s, "items": [item id]?, "categories": [category]?,
 *  "disclosed_at": "YYYY-MM-DD[THH:MM:SS[.f]Z]"?, "note": s?} */
#define CU_BODY_MAX_DISCLOSED_ITEMS 1000
typedef struct cu_disclosure_body {
    char recipient_id[72];
    char organisation[204];
    char basis;
    char channel[16];
    size_t nitems;
    char (*items)[40];         /* heap: nitems entries; free with cu_body_disclosure_release */
    unsigned categories;       /* bit per cu_category */
    int64_t disclosed_at;      /* 0: now */
    char note[2004];
} cu_disclosure_body;
CU_MUST_USE int cu_body_sar(const void *json, size_t len, cu_sar_body *out, cu_err *err);
CU_MUST_USE int cu_body_disclosure(const void *json, size_t len, cu_disclosure_body *out,
                                   cu_err *err);
void cu_body_disclosure_release(cu_disclosure_body *b);
CU_MUST_USE int cu_body_consent(const void *json, size_t len, cu_consent_body *out,
                                cu_err *err);
CU_MUST_USE int cu_body_purpose(const void *json, size_t len, cu_purpose_body *out,
                                cu_err *err);
CU_MUST_USE int cu_body_signin(const void *json, size_t len, cu_signin_body *out, cu_err *err);
CU_MUST_USE int cu_body_search(const void *json, size_t len, cu_search_body *out, cu_err *err);
CU_MUST_USE int cu_body_break_glass(const void *json, size_t len, cu_break_glass_body *out,
                                    cu_err *err);

#endif
