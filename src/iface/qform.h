/*
 * qform.h — a questionnaire as an HTML form a patient fills in without
 * script or sign-in, and the form's submission read back into answers.
 *
 * The form shows every item (conditions are not run in the browser): an item
 * with conditions says it may not apply, and reading the submission drops the
 * answers to items the other answers leave disabled. Field names are
 * "a.<linkId>" (a date: "a.<linkId>.day", ".month", ".year"); element ids
 * "q-<linkId>" (a date's first box "q-<linkId>-day"), which the error
 * summary links to. Choice items are radios whose values are the options'
 * codes; booleans are Yes/No radios ("true", "false").
 *
 * Every string from the questionnaire or the submission is written through
 * the escape-by-default writer (html.h).
 */
#ifndef CUSTOS_IFACE_QFORM_H
#define CUSTOS_IFACE_QFORM_H

#include <stddef.h>

#include "domain/questionnaire.h"
#include "iface/html.h"

/* Room for a field's name or id: a linkId and its prefix and suffix. */
#define CU_QFORM_ID_LEN (CU_Q_MAX_LINKID + 16)

/* A submitted field's value by name (NULL: not submitted). */
typedef const char *(*cu_qform_get)(void *ctx, const char *name);

typedef struct cu_qform {
    const cu_questionnaire *q;
    const char *action;            /* where the form posts, e.g. "/q/cuq_..." */
    const char *assets;            /* html.h cu_page.assets */
    const cu_field_error *errors;  /* from cu_qform_read, or none */
    size_t nerrors;
    cu_qform_get get;              /* the values entered before, or NULL */
    void *ctx;
    /* writes hidden fields first in the form (a CSRF token), or NULL */
    void (*hidden)(cu_html *h, const void *hidden_ctx);
    const void *hidden_ctx;
} cu_qform;

/* Appends the whole page to out. CU_OK, CU_ENOMEM, or CU_EINVAL when a
 * linkId makes a field name too long (cannot happen within the parser's
 * limits). */
CU_MUST_USE int cu_qform_render(const cu_qform *f, cu_buf *out);
/* The form alone (error summary, heading, the form), inside a page another
 * shell begins and ends (the patient portal's). */
void cu_qform_body(cu_html *h, const cu_qform *f);

typedef struct cu_qform_answers {
    cu_q_answer a[CU_Q_MAX_ITEMS];
    size_t n;
    cu_field_error errors[CU_Q_MAX_ITEMS];
    size_t nerrors;
    char ids[CU_Q_MAX_ITEMS][CU_QFORM_ID_LEN];
    char messages[CU_Q_MAX_ITEMS][96];
    char dates[CU_Q_MAX_ITEMS][11];
} cu_qform_answers;

/* Reads a submission: every enabled item's answer, in document order, and a
 * message for each enabled field that is wrong (not one of the options, not
 * a whole number, not a real date) or required and empty, in page order.
 * Answers to disabled items are dropped, with no message. The answers' strings point into the submission (get's
 * values) and into out. */
void cu_qform_read(const cu_questionnaire *q, cu_qform_get get, void *ctx,
                   cu_qform_answers *out);

/* The page shown after a submission: thanks, and whom to contact when
 * urgent is true (never the score). */
CU_MUST_USE int cu_qform_done_page(const char *assets, bool urgent, cu_buf *out);
/* The same thanks (and whom to contact) inside another page's shell. */
void cu_qform_done_body(cu_html *h, bool urgent);
/* The page for a link that cannot be used: kind "used", "expired",
 * "retired" (no longer valid: its subject was erased) or "unknown". */
CU_MUST_USE int cu_qform_gone_page(const char *assets, const char *kind, cu_buf *out);

#endif
