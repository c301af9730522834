/*
 * input.h — the JSON documents custos accepts for subjects, parsed into plain
 * structs. This is a parser of untrusted input: it is fuzzed (fuzz/fuzz_input.c).
 *
 * A subject document (custos subject add, POST /v1/subjects):
 *   { "name": s, "birth_date": "YYYY-MM-DD", "address": s, "postcode": s,
 *     "nhs_number": s, "email": s, "phone": s, "local_ref": s,
 *     "source": s,                                    (default "subject")
 *     "kind": "patient" | "web_user" | "employee" | "other"   (optional)
 *     "items": [ { "category": s, "field": s, "value": s,
 *                  "source": s, "collected_at": "YYYY-MM-DD[THH:MM:SS[.f]Z]" } ] }
 * A rectification document (custos subject rectify):
 *   the same top-level fields, and "items": [ { "id": s, "value": s } ].
 *
 * Rules: unknown keys, duplicate keys, wrong types, empty strings, values over
 * CU_MAX_VALUE_BYTES, more than CU_MAX_VALUES values, input over
 * CU_MAX_INPUT_BYTES, invalid NHS numbers, dates, emails, categories, sources and
 * field names are refused with CU_EINVAL and a one-line message that names the
 * JSON path and the rule, never the value.
 *
 * Ownership: a cu_doc owns every string it points to; cu_doc_release wipes and
 * frees them. Values are normalised: NHS numbers to 10 digits, emails trimmed
 * and lower-cased, phones to digits with an optional leading '+'.
 */
#ifndef CUSTOS_DOMAIN_INPUT_H
#define CUSTOS_DOMAIN_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/model.h"
#include "util/err.h"

typedef struct cu_value_in {
    const char *item_id;   /* rectify: the item to change; else NULL */
    const char *field;
    int category;          /* cu_category; -1 for a rectified item (stored one applies) */
    const char *source;
    int64_t collected_at;  /* 0: now */
    const char *value;
    size_t value_len;
    const char *ident_kind; /* blind-index kind for identifiers, else NULL */
    bool test_number;       /* an NHS number from the 999 test range */
} cu_value_in;

typedef struct cu_doc {
    cu_value_in *values;
    size_t n;
    const char *kind; /* "kind" of a subject document, or NULL */
    void *owner; /* the parsed JSON tree */
} cu_doc;

typedef enum cu_doc_kind { CU_DOC_SUBJECT, CU_DOC_RECTIFY } cu_doc_kind;

/* Installs wiping allocators for the JSON library; call once at start-up. */
void cu_input_init(void);

CU_MUST_USE int cu_doc_parse(const void *json, size_t len, cu_doc_kind kind, cu_doc *out,
                             cu_err *err);
void cu_doc_release(cu_doc *d);

/* Normalises and checks one value of a well-known field (used for search keys
 * too): writes the canonical form into out (outsz bytes). */
CU_MUST_USE int cu_normalise_field(const char *field, const char *v, size_t n, char *out,
                                   size_t outsz, bool *test_number, cu_err *err);

#endif
