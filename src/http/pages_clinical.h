/*
 * pages_clinical.h — the parts of a patient's record page (pages_staff.c)
 * that pages_clinical.c writes: the refusal with its break-glass form, the
 * banner of emergency access in force, and the form that adds an entry to the
 * record. The pages that answer those forms are declared in console.h.
 */
#ifndef CUSTOS_HTTP_PAGES_CLINICAL_H
#define CUSTOS_HTTP_PAGES_CLINICAL_H

#include <stdint.h>

#include "http/console.h"
#include "iface/html.h"
#include "util/buf.h"

/* The page refusing a record (status 403, or 400 for a break-glass form in
 * error), with the break-glass form: reason and duration as given (NULL:
 * empty), errors by the field (e, n). */
void cu_clinical_refused(cu_console *c, const char *subject_id, int status, const char *reason,
                         const char *minutes, const cu_field_error *e, size_t n);

/* The warning that emergency access is in force, why and until when (UK
 * time, "until 14:35 today"). */
void cu_clinical_banner(cu_html *h, int64_t expires_at, const cu_buf *reason);

/* What the add-entry form holds (NULL: empty or the default). */
typedef struct cu_clinical_entry {
    const char *kind, *category, *value, *purpose;
} cu_clinical_entry;

/* The form adding an entry to subject_id's record, with errors by the field. */
void cu_clinical_add_form(cu_html *h, cu_console *c, const char *subject_id,
                          const cu_clinical_entry *in, const cu_field_error *e, size_t n);

/* The same in two steps, for a page written off the store's thread: the
 * choices the form offers (the categories and purposes of the policy in
 * force, the role's own purpose), copied out of the store; NULL when the
 * policy cannot be read (the form then says so). Then the form from them,
 * which reads nothing from the store. */
typedef struct cu_clinical_choices cu_clinical_choices;
cu_clinical_choices *cu_clinical_choices_read(cu_console *c);
void cu_clinical_choices_free(cu_clinical_choices *ch);
void cu_clinical_add_form_with(cu_html *h, const cu_console *c, const char *subject_id,
                               const cu_clinical_choices *ch, const cu_clinical_entry *in,
                               const cu_field_error *e, size_t n);

/* The care list's search by family name and date of birth, as the request
 * asked it: asked when any of its fields is present; errors by the field
 * (the ids "family" and "birth_day" / "birth_month" / "birth_year"); birth
 * the date as YYYY-MM-DD when there are none. */
typedef struct cu_name_search {
    bool asked;
    const char *family, *day, *month, *year;
    char birth[11];
    cu_field_error e[2];
    size_t ne;
} cu_name_search;
void cu_clinical_name_search_read(const cu_http_req *req, cu_name_search *s);

/* Its form (GET to the care list), with its errors. */
void cu_clinical_name_search_form(cu_html *h, const cu_console *c, const cu_name_search *s);

#endif
