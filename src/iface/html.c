/* html.c — the escape-by-default HTML writer and the page shell (html.h). */
#include "iface/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char CU_HTML_ON[] = "";

void cu_html_init(cu_html *h, cu_buf *out)
{
    memset(h, 0, sizeof *h);
    h->out = out;
}

static void put(cu_html *h, const char *s, size_t n)
{
    if (!h->rc && cu_buf_append(h->out, s, n))
        h->rc = CU_ENOMEM;
}

static void puts_(cu_html *h, const char *s)
{
    put(h, s, strlen(s));
}

static void fail(cu_html *h)
{
    if (!h->rc)
        h->rc = CU_EINVAL;
}

/* Element and attribute names come from the code: lowercase ASCII letters,
 * digits and '-', starting with a letter. */
static bool name_ok(const char *s)
{
    if (!s || !(*s >= 'a' && *s <= 'z'))
        return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-') || n >= 32)
            return false;
    return true;
}

/* Text or an attribute value (always quoted with "): & < > " ' become
 * references; C0 controls but tab, newline and carriage return, and DEL,
 * become U+FFFD. REPL[c] is the replacement of byte c, NULL for itself. */
#define FFFD "\xef\xbf\xbd"
static const char *const REPL[256] = {
    [0x00] = FFFD, [0x01] = FFFD, [0x02] = FFFD, [0x03] = FFFD, [0x04] = FFFD,
    [0x05] = FFFD, [0x06] = FFFD, [0x07] = FFFD, [0x08] = FFFD, [0x0b] = FFFD,
    [0x0c] = FFFD, [0x0e] = FFFD, [0x0f] = FFFD, [0x10] = FFFD, [0x11] = FFFD,
    [0x12] = FFFD, [0x13] = FFFD, [0x14] = FFFD, [0x15] = FFFD, [0x16] = FFFD,
    [0x17] = FFFD, [0x18] = FFFD, [0x19] = FFFD, [0x1a] = FFFD, [0x1b] = FFFD,
    [0x1c] = FFFD, [0x1d] = FFFD, [0x1e] = FFFD, [0x1f] = FFFD, [0x7f] = FFFD,
    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
};

static void esc(cu_html *h, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (!h->rc) {
        const unsigned char *run = p;
        while (*p && !REPL[*p])
            p++;
        put(h, (const char *)run, (size_t)(p - run));
        if (!*p)
            return;
        puts_(h, REPL[*p]);
        p++;
    }
}

void cu_html_doctype(cu_html *h)
{
    puts_(h, "<!DOCTYPE html>\n");
}

static void start_tag(cu_html *h, const char *tag, va_list ap)
{
    if (h->rc)
        return;
    if (!name_ok(tag)) {
        fail(h);
        return;
    }
    put(h, "<", 1);
    puts_(h, tag);
    for (;;) {
        const char *name = va_arg(ap, const char *);
        if (!name)
            break;
        const char *value = va_arg(ap, const char *);
        if (!name_ok(name)) {
            fail(h);
            return;
        }
        if (!value)
            continue;
        put(h, " ", 1);
        puts_(h, name);
        if (value == CU_HTML_ON)
            continue;
        put(h, "=\"", 2);
        esc(h, value);
        put(h, "\"", 1);
    }
    put(h, ">", 1);
}

void cu_html_open(cu_html *h, const char *tag, ...)
{
    va_list ap;
    va_start(ap, tag);
    start_tag(h, tag, ap);
    va_end(ap);
    if (h->rc)
        return;
    if (h->depth == CU_HTML_MAX_DEPTH) {
        fail(h);
        return;
    }
    h->stack[h->depth++] = tag;
}

void cu_html_void(cu_html *h, const char *tag, ...)
{
    va_list ap;
    va_start(ap, tag);
    start_tag(h, tag, ap);
    va_end(ap);
}

void cu_html_close(cu_html *h, const char *tag)
{
    if (h->rc)
        return;
    if (!h->depth || strcmp(h->stack[h->depth - 1], tag) != 0) {
        fail(h);
        return;
    }
    h->depth--;
    put(h, "</", 2);
    puts_(h, tag);
    put(h, ">", 1);
}

void cu_html_text(cu_html *h, const char *s)
{
    if (s)
        esc(h, s);
}

void cu_html_textf(cu_html *h, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fail(h);
        return;
    }
    if ((size_t)n < sizeof small) {
        esc(h, small);
        return;
    }
    cu_buf big;
    cu_buf_init(&big, (size_t)n + 1);
    va_start(ap, fmt);
    char *p = NULL;
    if (!cu_buf_reserve(&big, (size_t)n + 1)) {
        p = (char *)big.data;
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    }
    va_end(ap);
    if (p)
        esc(h, p);
    else if (!h->rc)
        h->rc = CU_ENOMEM;
    cu_buf_release(&big);
}

void cu_html_elem(cu_html *h, const char *tag, const char *text, ...)
{
    va_list ap;
    va_start(ap, text);
    start_tag(h, tag, ap);
    va_end(ap);
    cu_html_text(h, text);
    if (h->rc)
        return;
    put(h, "</", 2);
    puts_(h, tag);
    put(h, ">", 1);
}

void cu_html_nl(cu_html *h)
{
    put(h, "\n", 1);
}

int cu_html_done(cu_html *h)
{
    if (!h->rc && h->depth)
        h->rc = CU_EINVAL;
    return h->rc;
}

/* ---------------------------------------------------------------- words */

static const char *const months[] = {"January", "February", "March",     "April",
                                     "May",     "June",     "July",      "August",
                                     "September", "October", "November", "December"};

static bool utc_of(int64_t us, struct tm *tm)
{
    if (us <= 0)
        return false;
    time_t t = (time_t)(us / 1000000);
    return gmtime_r(&t, tm) != NULL;
}

const char *cu_html_date(int64_t us, char out[CU_HTML_DATE_LEN])
{
    struct tm tm;
    out[0] = '\0';
    if (utc_of(us, &tm))
        snprintf(out, CU_HTML_DATE_LEN, "%d %s %d", tm.tm_mday, months[tm.tm_mon],
                 tm.tm_year + 1900);
    return out;
}

const char *cu_html_datetime(int64_t us, char out[CU_HTML_TIME_LEN])
{
    struct tm tm;
    out[0] = '\0';
    if (utc_of(us, &tm)) {
        int hour = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
        snprintf(out, CU_HTML_TIME_LEN, "%d %s %d at %d:%02d%s", tm.tm_mday, months[tm.tm_mon],
                 tm.tm_year + 1900, hour, tm.tm_min, tm.tm_hour < 12 ? "am" : "pm");
    }
    return out;
}

const char *cu_html_nhs_number(const char *d, char out[CU_HTML_NHS_LEN])
{
    out[0] = '\0';
    if (!d)
        return out;
    bool ten = strlen(d) == 10;
    for (size_t i = 0; ten && i < 10; i++)
        ten = d[i] >= '0' && d[i] <= '9';
    if (ten)
        snprintf(out, CU_HTML_NHS_LEN, "%.3s %.3s %.4s", d, d + 3, d + 6);
    else
        (void)cu_strlcpy(out, d, CU_HTML_NHS_LEN);
    return out;
}

/* ---------------------------------------------------------------- the page shell */

void cu_page_begin(cu_html *h, const cu_page *p)
{
    if (!p->title || !*p->title) {
        fail(h);
        return;
    }
    const char *service = p->service ? p->service : "custos";
    cu_html_doctype(h);
    cu_html_open(h, "html", "lang", "en-GB", NULL);
    cu_html_nl(h);
    cu_html_open(h, "head", NULL);
    cu_html_void(h, "meta", "charset", "utf-8", NULL);
    cu_html_void(h, "meta", "name", "viewport", "content", "width=device-width, initial-scale=1",
                 NULL);
    cu_html_open(h, "title", NULL);
    if (p->error)
        cu_html_text(h, "Error: ");
    cu_html_textf(h, "%s - %s", p->title, service);
    cu_html_close(h, "title");
    if (p->assets) {
        char href[512];
        int n = snprintf(href, sizeof href, "%s/nhsuk.min.css", p->assets);
        if (n < 0 || (size_t)n >= sizeof href)
            fail(h);
        else
            cu_html_void(h, "link", "rel", "stylesheet", "href", href, NULL);
    }
    if (p->style)
        cu_html_elem(h, "style", p->style, NULL);
    cu_html_close(h, "head");
    cu_html_nl(h);
    cu_html_open(h, "body", NULL);
    if (p->document) {
        cu_html_nl(h);
        cu_html_open(h, "main", NULL);
        cu_html_nl(h);
        return;
    }
    if (p->banner)
        p->banner(h, p->banner_ctx);
    cu_html_elem(h, "a", "Skip to main content", "class", "nhsuk-skip-link", "href",
                 "#maincontent", NULL);
    cu_html_nl(h);
    cu_html_open(h, "header", "class", "nhsuk-header nhsuk-header--organisation", NULL);
    cu_html_open(h, "div", "class", "nhsuk-width-container nhsuk-header__container", NULL);
    cu_html_open(h, "div", "class", "nhsuk-header__service", NULL);
    cu_html_elem(h, "span", service, "class", "nhsuk-header__service-name", NULL);
    cu_html_close(h, "div");
    cu_html_close(h, "div");
    if (p->nnav) {
        cu_html_open(h, "nav", "class", "nhsuk-header__navigation", "aria-label", "Menu", NULL);
        cu_html_open(h, "div", "class", "nhsuk-width-container", NULL);
        cu_html_open(h, "ul", "class",
                     "nhsuk-header__navigation-list nhsuk-header__navigation-list--left-aligned",
                     NULL);
        for (size_t i = 0; i < p->nnav; i++) {
            cu_html_open(h, "li", "class", "nhsuk-header__navigation-item", NULL);
            cu_html_elem(h, "a", p->nav[i].label, "class", "nhsuk-header__navigation-link",
                         "href", p->nav[i].href, "aria-current",
                         p->nav[i].current ? "page" : NULL, NULL);
            cu_html_close(h, "li");
        }
        cu_html_close(h, "ul");
        cu_html_close(h, "div");
        cu_html_close(h, "nav");
    }
    cu_html_close(h, "header");
    cu_html_nl(h);
    cu_html_open(h, "div", "class", "nhsuk-width-container", NULL);
    if (p->back_href) {
        cu_html_open(h, "div", "class", "nhsuk-back-link", NULL);
        cu_html_elem(h, "a", "Back", "class", "nhsuk-back-link__link", "href", p->back_href,
                     NULL);
        cu_html_close(h, "div");
    }
    cu_html_open(h, "main", "class", "nhsuk-main-wrapper", "id", "maincontent", NULL);
    cu_html_open(h, "div", "class", "nhsuk-grid-row", NULL);
    cu_html_open(h, "div", "class",
                 p->wide ? "nhsuk-grid-column-full" : "nhsuk-grid-column-two-thirds", NULL);
    cu_html_nl(h);
}

void cu_page_end(cu_html *h)
{
    if (h->depth == 3 && strcmp(h->stack[2], "main") == 0) { /* a document */
        cu_html_close(h, "main");
        cu_html_nl(h);
        cu_html_close(h, "body");
        cu_html_close(h, "html");
        cu_html_nl(h);
        return;
    }
    cu_html_close(h, "div");
    cu_html_close(h, "div");
    cu_html_close(h, "main");
    cu_html_close(h, "div");
    cu_html_nl(h);
    cu_html_open(h, "footer", "role", "contentinfo", NULL);
    cu_html_open(h, "div", "class", "nhsuk-footer", NULL);
    cu_html_open(h, "div", "class", "nhsuk-width-container", NULL);
    cu_html_elem(h, "p", "Your information is held securely and every access to it is recorded.",
                 "class", "nhsuk-footer__copyright", NULL);
    cu_html_close(h, "div");
    cu_html_close(h, "div");
    cu_html_close(h, "footer");
    cu_html_nl(h);
    cu_html_close(h, "body");
    cu_html_close(h, "html");
    cu_html_nl(h);
}

int cu_page_message(cu_buf *out, const char *assets, const char *title, const char *para,
                    const char *action, const char *label)
{
    cu_html h;
    cu_html_init(&h, out);
    cu_page p = {.title = title, .assets = assets};
    cu_page_begin(&h, &p);
    cu_html_elem(&h, "h1", title, "class", "nhsuk-heading-l", NULL);
    cu_html_elem(&h, "p", para, "class", "nhsuk-body", NULL);
    if (action) {
        cu_html_open(&h, "form", "method", "post", "action", action, NULL);
        cu_html_elem(&h, "button", label ? label : "Continue", "class", "nhsuk-button", "type",
                     "submit", NULL);
        cu_html_close(&h, "form");
    }
    cu_page_end(&h);
    return cu_html_done(&h);
}

void cu_html_table_open(cu_html *h, const char *caption, bool caption_hidden,
                        const char *const *heads, size_t n)
{
    cu_html_open(h, "table", "class", "nhsuk-table", NULL);
    if (caption)
        cu_html_elem(h, "caption", caption, "class",
                     caption_hidden ? "nhsuk-table__caption nhsuk-u-visually-hidden"
                                    : "nhsuk-table__caption",
                     NULL);
    cu_html_open(h, "thead", "class", "nhsuk-table__head", NULL);
    cu_html_open(h, "tr", "class", "nhsuk-table__row", NULL);
    for (size_t i = 0; i < n; i++)
        cu_html_elem(h, "th", heads[i], "class", "nhsuk-table__header", "scope", "col", NULL);
    cu_html_close(h, "tr");
    cu_html_close(h, "thead");
    cu_html_nl(h);
    cu_html_open(h, "tbody", "class", "nhsuk-table__body", NULL);
}

void cu_html_table_close(cu_html *h)
{
    cu_html_close(h, "tbody");
    cu_html_close(h, "table");
    cu_html_nl(h);
}

/* ---------------------------------------------------------------- forms */

void cu_html_error_summary(cu_html *h, const cu_field_error *e, size_t n)
{
    if (!n)
        return;
    cu_html_open(h, "div", "class", "nhsuk-error-summary", "aria-labelledby",
                 "error-summary-title", "role", "alert", "tabindex", "-1", NULL);
    cu_html_elem(h, "h2", "There is a problem", "class", "nhsuk-error-summary__title", "id",
                 "error-summary-title", NULL);
    cu_html_open(h, "div", "class", "nhsuk-error-summary__body", NULL);
    cu_html_open(h, "ul", "class", "nhsuk-list nhsuk-error-summary__list", "role", "list", NULL);
    for (size_t i = 0; i < n; i++) {
        char href[80];
        int k = snprintf(href, sizeof href, "#%s", e[i].id ? e[i].id : "");
        if (k < 0 || (size_t)k >= sizeof href) {
            fail(h);
            return;
        }
        cu_html_open(h, "li", NULL);
        cu_html_elem(h, "a", e[i].message, "href", href, NULL);
        cu_html_close(h, "li");
    }
    cu_html_close(h, "ul");
    cu_html_close(h, "div");
    cu_html_close(h, "div");
    cu_html_nl(h);
}

const char *cu_field_error_for(const cu_field_error *e, size_t n, const char *id)
{
    for (size_t i = 0; id && i < n; i++)
        if (e[i].id && strcmp(e[i].id, id) == 0)
            return e[i].message;
    return NULL;
}

void cu_html_input_field(cu_html *h, const cu_html_input *in)
{
    char hint_id[40], err_id[40], described[84] = "";
    int a = snprintf(hint_id, sizeof hint_id, "%s-hint", in->id);
    int b = snprintf(err_id, sizeof err_id, "%s-error", in->id);
    if (a < 0 || (size_t)a >= sizeof hint_id || b < 0 || (size_t)b >= sizeof err_id) {
        cu_html_close(h, "!"); /* an id too long for the page: fail it */
        return;
    }
    if (in->hint)
        cu_strlcpy(described, hint_id, sizeof described);
    if (in->error) {
        size_t used = strlen(described);
        snprintf(described + used, sizeof described - used, "%s%s", used ? " " : "", err_id);
    }
    cu_html_open(h, "div", "class",
                 in->error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group",
                 NULL);
    cu_html_elem(h, "label", in->label, "class", "nhsuk-label", "for", in->id, NULL);
    if (in->hint)
        cu_html_elem(h, "div", in->hint, "class", "nhsuk-hint", "id", hint_id, NULL);
    if (in->error) {
        cu_html_open(h, "span", "class", "nhsuk-error-message", "id", err_id, NULL);
        cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_textf(h, " %s", in->error);
        cu_html_close(h, "span");
    }
    cu_html_void(h, "input", "class",
                 in->error ? "nhsuk-input nhsuk-input--error nhsuk-u-width-two-thirds"
                           : "nhsuk-input nhsuk-u-width-two-thirds",
                 "id", in->id, "name", in->id, "type", in->type, "autocomplete",
                 in->autocomplete, "spellcheck", "false", "inputmode", in->inputmode,
                 "aria-describedby", described[0] ? described : NULL, "value", in->value,
                 NULL);
    cu_html_close(h, "div");
}
