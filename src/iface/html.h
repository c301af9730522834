/*
 * html.h — the one way custos writes HTML: an escape-by-default writer and
 * the page shell every page shares.
 *
 * Text and attribute values are always escaped: & < > " ' become character
 * references and control characters other than tab and newline become U+FFFD,
 * so nothing a caller passes as text or as a value can open an element, close
 * an attribute or start a script. Element and attribute names are written
 * only when they are lowercase ASCII names (letters, digits, '-'), which the
 * code gives as literals; anything else fails the document. There is no call
 * that writes markup given as a string: the page is built from elements.
 *
 * Elements are closed in the order opened (the writer keeps the stack); a
 * wrong close, an element left open at the end or a document deeper than
 * CU_HTML_MAX_DEPTH fails it with CU_EINVAL. Errors stick: after the first,
 * every call does nothing, and cu_html_done() returns it. The caller owns
 * the buffer; a page may hold personal data, so it is wiped when released
 * (cu_buf_release).
 *
 * Attributes are given as name, value pairs ending with NULL:
 *   cu_html_open(h, "a", "class", "nhsuk-link", "href", url, NULL);
 * A NULL value leaves that attribute out (for the ones given only sometimes);
 * CU_HTML_ON writes a boolean attribute's bare name ("checked", "required").
 */
#ifndef CUSTOS_IFACE_HTML_H
#define CUSTOS_IFACE_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define CU_HTML_MAX_DEPTH 32

/* The value of a boolean attribute that is present. */
extern const char CU_HTML_ON[];

typedef struct cu_html {
    cu_buf *out;
    int rc;
    size_t depth;
    const char *stack[CU_HTML_MAX_DEPTH];
} cu_html;

/* Starts a document appended to out. */
void cu_html_init(cu_html *h, cu_buf *out);
/* <!DOCTYPE html> */
void cu_html_doctype(cu_html *h);
/* <tag attrs...>, closed later with cu_html_close(h, tag). */
void cu_html_open(cu_html *h, const char *tag, ...) __attribute__((sentinel));
/* An element that has no content or end tag: meta, link, input, br, hr, img. */
void cu_html_void(cu_html *h, const char *tag, ...) __attribute__((sentinel));
/* </tag>: tag must be the element opened last. */
void cu_html_close(cu_html *h, const char *tag);
/* Text, escaped. NULL writes nothing. */
void cu_html_text(cu_html *h, const char *s);
void cu_html_textf(cu_html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* <tag attrs...>text</tag> */
void cu_html_elem(cu_html *h, const char *tag, const char *text, ...) __attribute__((sentinel));
/* A newline between elements, for people reading the source. */
void cu_html_nl(cu_html *h);
/* The status: CU_OK, or the first error (CU_EINVAL for a misuse, CU_ENOMEM
 * when the buffer's limit was reached). Also fails a document with an
 * element still open. */
CU_MUST_USE int cu_html_done(cu_html *h);

/* ---- words on a page ---- */

/* "6 December 2026" (UTC) for a time in microseconds since the epoch, into
 * out (at least CU_HTML_DATE_LEN bytes); "" for 0. Returns out. */
#define CU_HTML_DATE_LEN 24
const char *cu_html_date(int64_t us, char out[CU_HTML_DATE_LEN]);
/* "6 December 2026 at 2:05pm" (UTC). */
#define CU_HTML_TIME_LEN 40
const char *cu_html_datetime(int64_t us, char out[CU_HTML_TIME_LEN]);
/* An NHS number of 10 digits as "485 777 3456"; anything else copied as is. */
#define CU_HTML_NHS_LEN 16
const char *cu_html_nhs_number(const char *digits, char out[CU_HTML_NHS_LEN]);

/* ---- the page shell: one place for the head, header, main and footer ---- */

/* A link of the header's navigation. */
typedef struct cu_page_link {
    const char *href, *label;
    bool current;          /* the page shown: aria-current="page" */
} cu_page_link;

typedef struct cu_page {
    const char *title;     /* the page's title and h1, required */
    const char *service;   /* the service's name in the header; NULL: "custos" */
    const char *assets;    /* URL prefix of the NHS.UK frontend's files, e.g.
                            * "/assets/nhsuk-frontend-9.6.1"; NULL: no stylesheet */
    const char *back_href; /* a back link above the content, or NULL */
    bool error;            /* the form has errors: the title starts "Error: " */
    bool wide;             /* content the full width, not two thirds (tables) */
    bool document;         /* a document a person keeps (a letter): no service
                            * header or footer, just its content */
    const cu_page_link *nav; /* links under the header (a signed-in person's
                            * pages), or NULL */
    size_t nnav;
    const char *style;     /* a constant stylesheet from the code, embedded so a
                            * document reads and prints away from the server; it
                            * goes through the writer like any text, so it holds
                            * no & < > " ' */
    /* Writes what comes first in the body, before the skip link (the
     * portal's cookie banner), through the same writer; NULL: nothing. */
    void (*banner)(cu_html *h, const void *ctx);
    const void *banner_ctx;
} cu_page;

/* Writes the doctype, head, skip link and header, and opens the main
 * content column (a document: only main). The caller writes the content,
 * its h1 included (after an error summary, when there is one). */
void cu_page_begin(cu_html *h, const cu_page *p);
/* Closes the content column and main, writes the footer, closes the page. */
void cu_page_end(cu_html *h);

/* A whole page of a heading, a paragraph and, when action is given, a form
 * of one button (label) that posts there: the pages a link opens
 * (unsubscribe, a questionnaire link that cannot be used). Appends to out;
 * CU_OK, CU_ENOMEM or CU_EINVAL. */
CU_MUST_USE int cu_page_message(cu_buf *out, const char *assets, const char *title,
                                const char *para, const char *action, const char *label);

/* An NHS.UK table: <table class="nhsuk-table">, its caption (hidden but to
 * screen readers when caption_hidden; NULL: none), a header row of the n
 * column headings, and the body opened for the caller's rows. */
void cu_html_table_open(cu_html *h, const char *caption, bool caption_hidden,
                        const char *const *heads, size_t n);
/* Closes the body and the table. */
void cu_html_table_close(cu_html *h);

/* ---- NHS.UK frontend form patterns ---- */

/* One field's error: the field's id (the element to focus) and the message,
 * shown next to the field and in the summary. */
typedef struct cu_field_error {
    const char *id;
    const char *message;
} cu_field_error;

/* The error summary at the top of a form: "There is a problem" and a link
 * to each field in error. Writes nothing when n is 0. */
void cu_html_error_summary(cu_html *h, const cu_field_error *e, size_t n);
/* The message of the error for field id among e (NULL: none). */
const char *cu_field_error_for(const cu_field_error *e, size_t n, const char *id);

/* A text input in its NHS.UK form group: the label, the hint, the message by
 * the field when error is set, and aria-describedby naming both. */
typedef struct cu_html_input {
    const char *id;           /* the input's id and name (a short name) */
    const char *label;
    const char *hint;         /* or NULL */
    const char *error;        /* the message by the field, or NULL */
    const char *type;         /* text, password, ... */
    const char *autocomplete; /* or NULL */
    const char *inputmode;    /* or NULL */
    const char *value;        /* or NULL; never give a password back */
} cu_html_input;
void cu_html_input_field(cu_html *h, const cu_html_input *in);

#endif
