/*
 * nhs.h — NHS numbers (DESIGN.md "Domain facts").
 *
 * An NHS number is 10 digits; spaces (and the hyphens of the 3-3-4 form) are
 * ignored on input. Digits 1-9 are weighted 10..2 and summed; check = 11 -
 * (sum mod 11); a check of 11 means 0 and a check of 10 means the number is
 * invalid (never issued); the check must equal digit 10. Numbers from
 * 999 000 0000 to 999 999 9999 are the test range: valid, flagged as tests.
 */
#ifndef CUSTOS_DOMAIN_NHS_H
#define CUSTOS_DOMAIN_NHS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum cu_nhs_status {
    CU_NHS_OK = 0,
    CU_NHS_EMPTY,        /* no digits */
    CU_NHS_BAD_CHAR,     /* something other than digits, spaces, hyphens */
    CU_NHS_BAD_LENGTH,   /* not exactly 10 digits */
    CU_NHS_CHECK_TEN,    /* check value 10: never issued */
    CU_NHS_CHECK_MISMATCH,
} cu_nhs_status;

typedef struct cu_nhs {
    char digits[11];    /* canonical: 10 digits and NUL */
    char display[13];   /* "943 476 5919" */
    bool test_number;   /* in the 999 test range */
} cu_nhs;

/* Parses and validates len bytes of s (no NUL needed). */
cu_nhs_status cu_nhs_parse(const char *s, size_t len, cu_nhs *out);
/* One-line reason for a status, without the number itself. */
const char *cu_nhs_status_text(cu_nhs_status st);

#endif
