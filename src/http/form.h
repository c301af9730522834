/*
 * form.h — an HTML form's submission (application/x-www-form-urlencoded),
 * parsed strictly.
 *
 * Names and values are percent-decoded ('+' is a space). Refused, with one
 * line that quotes nothing of the input: a malformed escape, a decoded NUL
 * or control character other than tab, newline and carriage return, bytes
 * that are not UTF-8, a name that is empty or longer than CU_FORM_MAX_NAME,
 * a value longer than CU_FORM_MAX_VALUE, more than CU_FORM_MAX_FIELDS
 * fields. The parsed form owns its strings and wipes them when freed: a
 * form may hold a patient's answers.
 */
#ifndef CUSTOS_HTTP_FORM_H
#define CUSTOS_HTTP_FORM_H

#include <stddef.h>

#include "util/err.h"

#define CU_FORM_MAX_FIELDS 512
#define CU_FORM_MAX_NAME 128
#define CU_FORM_MAX_VALUE 8192

typedef struct cu_form_field {
    const char *name, *value;
} cu_form_field;

typedef struct cu_form {
    cu_form_field *f;
    size_t n;
    char *text;     /* the decoded names and values */
    size_t textlen;
} cu_form;

/* Parses len bytes; *out is empty (n 0) for an empty body. On error nothing
 * is kept. */
CU_MUST_USE int cu_form_parse(const char *body, size_t len, cu_form *out, cu_err *err);
/* The first value of name, or NULL. */
const char *cu_form_get(const cu_form *f, const char *name);
/* How many fields are called name. */
size_t cu_form_count(const cu_form *f, const char *name);
void cu_form_free(cu_form *f);

#endif
