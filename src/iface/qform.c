/* qform.c — a questionnaire as a form without script, and its submission
 * read back (qform.h). */
#include "iface/qform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LEN CU_QFORM_ID_LEN

static bool answerable(cu_q_type t)
{
    return t != CU_QT_GROUP && t != CU_QT_DISPLAY;
}

/* The number a person reads before a question: answerable items counted in
 * document order, as the error messages count them. */
static size_t question_number(const cu_questionnaire *q, size_t k)
{
    size_t n = 0;
    for (size_t i = 0; i <= k && i < q->nitems; i++)
        n += answerable(q->items[i].type);
    return n;
}

/* "3. " and the question's text. */
static void question_text(cu_html *h, const cu_questionnaire *q, size_t k)
{
    const cu_q_item *it = &q->items[k];
    cu_html_textf(h, "%zu. ", question_number(q, k));
    cu_html_text(h, it->text ? it->text : it->link_id);
}

static void name_of(char out[NAME_LEN], const char *prefix, const char *link_id,
                    const char *suffix)
{
    snprintf(out, NAME_LEN, "%s%s%s", prefix, link_id, suffix ? suffix : "");
}

static const char *entered(const cu_qform *f, const char *name)
{
    return f->get ? f->get(f->ctx, name) : NULL;
}

/* ---------------------------------------------------------------- the form */

static void error_message(cu_html *h, const char *id, const char *msg)
{
    char eid[NAME_LEN + 32];
    snprintf(eid, sizeof eid, "%s-error", id);
    cu_html_open(h, "span", "class", "nhsuk-error-message", "id", eid, NULL);
    cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
    cu_html_text(h, " ");
    cu_html_text(h, msg);
    cu_html_close(h, "span");
}

static void hint(cu_html *h, const char *id, const cu_q_item *it)
{
    if (!it->nwhen && it->required)
        return;
    char hid[NAME_LEN + 32];
    snprintf(hid, sizeof hid, "%s-hint", id);
    cu_html_open(h, "div", "class", "nhsuk-hint", "id", hid, NULL);
    if (it->nwhen)
        cu_html_text(h, "Answer this only if it applies to you, given your other answers.");
    else
        cu_html_text(h, "You do not have to answer this question.");
    cu_html_close(h, "div");
}

static void describedby(char out[2 * NAME_LEN + 32], const char *id, const cu_q_item *it,
                        const char *err)
{
    out[0] = '\0';
    size_t n = 0;
    if (it->nwhen || !it->required)
        n += (size_t)snprintf(out, 2 * NAME_LEN + 32, "%s-hint", id);
    if (err)
        snprintf(out + n, 2 * NAME_LEN + 32 - n, "%s%s-error", n ? " " : "", id);
}

static void radios(cu_html *h, const cu_qform *f, size_t item, const char *id,
                   const char *name, const char *err)
{
    const cu_q_item *it = &f->q->items[item];
    const char *cur = entered(f, name);
    char db[2 * NAME_LEN + 32];
    describedby(db, id, it, err);
    cu_html_open(h, "fieldset", "class", "nhsuk-fieldset", "aria-describedby", *db ? db : NULL,
                 NULL);
    cu_html_open(h, "legend", "class", "nhsuk-fieldset__legend nhsuk-fieldset__legend--s", NULL);
    question_text(h, f->q, item);
    cu_html_close(h, "legend");
    hint(h, id, it);
    if (err)
        error_message(h, id, err);
    cu_html_open(h, "div", "class", "nhsuk-radios", NULL);
    size_t n = it->type == CU_QT_BOOLEAN ? 2 : it->noptions;
    for (size_t k = 0; k < n; k++) {
        const char *value, *label;
        if (it->type == CU_QT_BOOLEAN) {
            value = k == 0 ? "true" : "false";
            label = k == 0 ? "Yes" : "No";
        } else {
            value = it->options[k].code;
            label = it->options[k].display ? it->options[k].display : it->options[k].code;
        }
        char oid[NAME_LEN + 32];
        if (k == 0)
            snprintf(oid, sizeof oid, "%s", id);
        else
            snprintf(oid, sizeof oid, "%s-%zu", id, k + 1);
        cu_html_open(h, "div", "class", "nhsuk-radios__item", NULL);
        cu_html_void(h, "input", "class", "nhsuk-radios__input", "id", oid, "name", name, "type",
                     "radio", "value", value, "checked",
                     cur && strcmp(cur, value) == 0 ? CU_HTML_ON : NULL, NULL);
        cu_html_elem(h, "label", label, "class", "nhsuk-label nhsuk-radios__label", "for", oid,
                     NULL);
        cu_html_close(h, "div");
    }
    cu_html_close(h, "div");
    cu_html_close(h, "fieldset");
}

static void text_input(cu_html *h, const cu_qform *f, size_t k, const char *id,
                       const char *name, const char *err)
{
    const cu_q_item *it = &f->q->items[k];
    const char *cur = entered(f, name);
    char db[2 * NAME_LEN + 32];
    describedby(db, id, it, err);
    cu_html_open(h, "label", "class", "nhsuk-label nhsuk-label--s", "for", id, NULL);
    question_text(h, f->q, k);
    cu_html_close(h, "label");
    hint(h, id, it);
    if (err)
        error_message(h, id, err);
    const char *cls = it->type == CU_QT_STRING ? "nhsuk-input" : "nhsuk-input nhsuk-input--width-5";
    if (err)
        cls = it->type == CU_QT_STRING ? "nhsuk-input nhsuk-input--error"
                                       : "nhsuk-input nhsuk-input--width-5 nhsuk-input--error";
    if (it->type == CU_QT_TEXT) {
        cu_html_open(h, "textarea", "class",
                     err ? "nhsuk-textarea nhsuk-textarea--error" : "nhsuk-textarea", "id", id,
                     "name", name, "rows", "5", "aria-describedby", *db ? db : NULL, NULL);
        cu_html_text(h, cur);
        cu_html_close(h, "textarea");
        return;
    }
    cu_html_void(h, "input", "class", cls, "id", id, "name", name, "type", "text", "inputmode",
                 it->type == CU_QT_INTEGER ? "numeric"
                 : it->type == CU_QT_DECIMAL ? "decimal"
                                              : NULL,
                 "value", cur, "aria-describedby", *db ? db : NULL, NULL);
}

static void date_input(cu_html *h, const cu_qform *f, size_t item, const char *id,
                       const char *link_id, const char *err)
{
    const cu_q_item *it = &f->q->items[item];
    char db[2 * NAME_LEN + 32];
    describedby(db, id, it, err);
    cu_html_open(h, "fieldset", "class", "nhsuk-fieldset", "role", "group", "aria-describedby",
                 *db ? db : NULL, NULL);
    cu_html_open(h, "legend", "class", "nhsuk-fieldset__legend nhsuk-fieldset__legend--s", NULL);
    question_text(h, f->q, item);
    cu_html_close(h, "legend");
    hint(h, id, it);
    cu_html_elem(h, "div", "For example, 15 3 2026", "class", "nhsuk-hint", NULL);
    if (err)
        error_message(h, id, err);
    cu_html_open(h, "div", "class", "nhsuk-date-input", NULL);
    static const char *const part[] = {"day", "month", "year"};
    static const char *const label[] = {"Day", "Month", "Year"};
    for (size_t k = 0; k < 3; k++) {
        char pid[NAME_LEN], pname[NAME_LEN], sfx[8];
        snprintf(sfx, sizeof sfx, ".%s", part[k]);
        name_of(pname, "a.", link_id, sfx);
        snprintf(pid, sizeof pid, "q-%s-%s", link_id, part[k]);
        cu_html_open(h, "div", "class", "nhsuk-date-input__item", NULL);
        cu_html_open(h, "div", "class", "nhsuk-form-group", NULL);
        cu_html_elem(h, "label", label[k], "class", "nhsuk-label nhsuk-date-input__label", "for",
                     pid, NULL);
        cu_html_void(h, "input", "class",
                     k == 2 ? (err ? "nhsuk-input nhsuk-date-input__input nhsuk-input--width-4 "
                                     "nhsuk-input--error"
                                   : "nhsuk-input nhsuk-date-input__input nhsuk-input--width-4")
                            : (err ? "nhsuk-input nhsuk-date-input__input nhsuk-input--width-2 "
                                     "nhsuk-input--error"
                                   : "nhsuk-input nhsuk-date-input__input nhsuk-input--width-2"),
                     "id", pid, "name", pname, "type", "text", "inputmode", "numeric", "value",
                     entered(f, pname), NULL);
        cu_html_close(h, "div");
        cu_html_close(h, "div");
    }
    cu_html_close(h, "div");
    cu_html_close(h, "fieldset");
}

static void items_of(cu_html *h, const cu_qform *f, size_t parent, int depth)
{
    const cu_questionnaire *q = f->q;
    for (size_t k = 0; k < q->nitems && !h->rc; k++) {
        const cu_q_item *it = &q->items[k];
        if (it->parent != parent)
            continue;
        if (it->type == CU_QT_DISPLAY) {
            cu_html_elem(h, "p", it->text, "class", "nhsuk-body", NULL);
            cu_html_nl(h);
            continue;
        }
        if (it->type == CU_QT_GROUP) {
            cu_html_open(h, "fieldset", "class", "nhsuk-fieldset", NULL);
            cu_html_open(h, "legend", "class", "nhsuk-fieldset__legend nhsuk-fieldset__legend--m",
                         NULL);
            cu_html_elem(h, "h2", it->text ? it->text : it->link_id, "class",
                         "nhsuk-fieldset__heading", NULL);
            cu_html_close(h, "legend");
            cu_html_nl(h);
            items_of(h, f, k, depth + 1);
            cu_html_close(h, "fieldset");
            cu_html_nl(h);
            continue;
        }
        char id[NAME_LEN], name[NAME_LEN];
        name_of(name, "a.", it->link_id, NULL);
        if (it->type == CU_QT_DATE) {
            char did[NAME_LEN];
            snprintf(did, sizeof did, "q-%s-day", it->link_id);
            snprintf(id, sizeof id, "q-%s", it->link_id);
            const char *err = cu_field_error_for(f->errors, f->nerrors, did);
            cu_html_open(h, "div", "class",
                         err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group",
                         NULL);
            date_input(h, f, k, id, it->link_id, err);
        } else {
            name_of(id, "q-", it->link_id, NULL);
            const char *err = cu_field_error_for(f->errors, f->nerrors, id);
            cu_html_open(h, "div", "class",
                         err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group",
                         NULL);
            if (it->type == CU_QT_CHOICE || it->type == CU_QT_BOOLEAN)
                radios(h, f, k, id, name, err);
            else
                text_input(h, f, k, id, name, err);
        }
        cu_html_close(h, "div");
        cu_html_nl(h);
    }
}

void cu_qform_body(cu_html *h, const cu_qform *f)
{
    const cu_questionnaire *q = f->q;
    const char *title = q->title ? q->title : q->name ? q->name : "Questionnaire";
    cu_html_error_summary(h, f->errors, f->nerrors);
    cu_html_elem(h, "h1", title, "class", "nhsuk-heading-l", NULL);
    cu_html_elem(h, "p",
                 "Your care team asked you to fill in this questionnaire. Your answers are sent "
                 "only to them, kept securely, and used for your care.",
                 "class", "nhsuk-body", NULL);
    cu_html_nl(h);
    cu_html_open(h, "form", "method", "post", "action", f->action, "novalidate", CU_HTML_ON,
                 NULL);
    cu_html_nl(h);
    if (f->hidden)
        f->hidden(h, f->hidden_ctx);
    items_of(h, f, SIZE_MAX, 0);
    cu_html_elem(h, "button", "Send your answers", "class", "nhsuk-button", "type", "submit",
                 NULL);
    cu_html_nl(h);
    cu_html_close(h, "form");
}

int cu_qform_render(const cu_qform *f, cu_buf *out)
{
    const cu_questionnaire *q = f->q;
    const char *title = q->title ? q->title : q->name ? q->name : "Questionnaire";
    cu_html h;
    cu_html_init(&h, out);
    cu_page p = {.title = title, .assets = f->assets, .error = f->nerrors > 0};
    cu_page_begin(&h, &p);
    cu_qform_body(&h, f);
    cu_page_end(&h);
    return cu_html_done(&h);
}

/* ---------------------------------------------------------------- reading it back */

static bool all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Leading and trailing spaces are not part of what a person meant. */
static const char *trimmed(const char *s, char *buf, size_t bufsz)
{
    if (!s)
        return NULL;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n >= bufsz)
        n = bufsz - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static void add_error(cu_qform_answers *out, const char *id, size_t qno, const char *what)
{
    size_t e = out->nerrors;
    snprintf(out->ids[e], sizeof out->ids[e], "%s", id);
    snprintf(out->messages[e], sizeof out->messages[e], "Question %zu: %s", qno, what);
    out->errors[e] = (cu_field_error){out->ids[e], out->messages[e]};
    out->nerrors++;
}

static bool days_ok(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

void cu_qform_read(const cu_questionnaire *q, cu_qform_get get, void *ctx,
                   cu_qform_answers *out)
{
    memset(out, 0, sizeof *out);
    /* Answers point into the submission (text as the person typed it) or,
     * for dates, into out. Errors are written after the enabled items are
     * known: an item a person need not answer has none. */
    size_t item_of[CU_Q_MAX_ITEMS];
    size_t qno[CU_Q_MAX_ITEMS] = {0};
    size_t number = 0;
    const char *bad[CU_Q_MAX_ITEMS] = {0};
    for (size_t k = 0; k < q->nitems; k++) {
        const cu_q_item *it = &q->items[k];
        if (!answerable(it->type))
            continue;
        qno[k] = ++number;
        char name[NAME_LEN];
        cu_q_answer a = {.link_id = it->link_id};
        char tb[64];
        if (it->type == CU_QT_DATE) {
            char dn[NAME_LEN], mn[NAME_LEN], yn[NAME_LEN];
            name_of(dn, "a.", it->link_id, ".day");
            name_of(mn, "a.", it->link_id, ".month");
            name_of(yn, "a.", it->link_id, ".year");
            char b1[16], b2[16], b3[16];
            const char *d = trimmed(get(ctx, dn), b1, sizeof b1);
            const char *m = trimmed(get(ctx, mn), b2, sizeof b2);
            const char *y = trimmed(get(ctx, yn), b3, sizeof b3);
            if ((!d || !*d) && (!m || !*m) && (!y || !*y))
                continue;
            if (!d || !m || !y || !all_digits(d, 1, 2) || !all_digits(m, 1, 2) ||
                !all_digits(y, 4, 4) || !days_ok(atoi(y), atoi(m), atoi(d))) {
                bad[k] = "enter a real date, for example 15 3 2026";
                continue;
            }
            snprintf(out->dates[k], sizeof out->dates[k], "%04d-%02d-%02d", atoi(y), atoi(m),
                     atoi(d));
            a.kind = CU_QV_STRING;
            a.s = out->dates[k];
            item_of[out->n] = k;
            out->a[out->n++] = a;
            continue;
        }
        name_of(name, "a.", it->link_id, NULL);
        const char *v = get(ctx, name);
        if (!v || !*trimmed(v, tb, sizeof tb))
            continue;
        switch (it->type) {
        case CU_QT_CHOICE: {
            bool found = false;
            for (size_t o = 0; o < it->noptions && !found; o++)
                found = strcmp(it->options[o].code, v) == 0;
            if (!found) {
                bad[k] = "select one of the answers";
                continue;
            }
            a.kind = CU_QV_CODE;
            a.s = v;
            break;
        }
        case CU_QT_BOOLEAN:
            if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
                bad[k] = "select yes or no";
                continue;
            }
            a.kind = CU_QV_BOOL;
            a.b = v[0] == 't';
            break;
        case CU_QT_INTEGER: {
            const char *t = trimmed(v, tb, sizeof tb);
            char *end;
            errno = 0;
            long long x = strtoll(t, &end, 10);
            if (!all_digits(t[0] == '-' ? t + 1 : t, 1, 15) || *end || errno) {
                bad[k] = "enter a whole number, like 5";
                continue;
            }
            a.kind = CU_QV_INT;
            a.i = x;
            break;
        }
        case CU_QT_DECIMAL: {
            const char *t = trimmed(v, tb, sizeof tb);
            char *end;
            errno = 0;
            double x = strtod(t, &end);
            bool ok = *t && !*end && !errno;
            for (const char *c = t; ok && *c; c++)
                ok = (*c >= '0' && *c <= '9') || *c == '.' || (*c == '-' && c == t);
            if (!ok) {
                bad[k] = "enter a number, like 2.5";
                continue;
            }
            a.kind = CU_QV_DECIMAL;
            a.d = x;
            break;
        }
        default:
            a.kind = CU_QV_STRING;
            a.s = v;
            break;
        }
        item_of[out->n] = k;
        out->a[out->n++] = a;
    }
    /* Drop the answers to items the other answers leave disabled, then ask
     * for the required enabled items left empty. */
    bool enabled[CU_Q_MAX_ITEMS];
    cu_questionnaire_enabled(q, out->a, out->n, enabled);
    size_t w = 0;
    bool has[CU_Q_MAX_ITEMS] = {0};
    for (size_t i = 0; i < out->n; i++) {
        size_t k = item_of[i];
        if (!enabled[k])
            continue;
        has[k] = true;
        out->a[w++] = out->a[i];
    }
    out->n = w;
    for (size_t k = 0; k < q->nitems; k++) {
        const cu_q_item *it = &q->items[k];
        if (!answerable(it->type) || !enabled[k] || has[k] || (!bad[k] && !it->required))
            continue;
        char id[NAME_LEN];
        if (it->type == CU_QT_DATE)
            snprintf(id, sizeof id, "q-%s-day", it->link_id);
        else
            name_of(id, "q-", it->link_id, NULL);
        add_error(out, id, qno[k],
                  bad[k]                                                       ? bad[k]
                  : it->type == CU_QT_CHOICE || it->type == CU_QT_BOOLEAN ? "select an answer"
                                                                          : "answer this question");
    }
}

/* ---------------------------------------------------------------- after */

void cu_qform_done_body(cu_html *h, bool urgent)
{
    cu_html_open(h, "div", "class", "nhsuk-panel", NULL);
    cu_html_elem(h, "h1", "Your answers have been sent", "class", "nhsuk-panel__title", NULL);
    cu_html_close(h, "div");
    cu_html_elem(h, "p", "Thank you. Your care team will look at your answers.", "class",
                 "nhsuk-body", NULL);
    if (urgent) {
        cu_html_open(h, "div", "class", "nhsuk-card nhsuk-card--care nhsuk-card--care--urgent",
                     NULL);
        cu_html_open(h, "div", "class", "nhsuk-card--care__heading-container", NULL);
        cu_html_elem(h, "h2", "If you need help now", "class", "nhsuk-card--care__heading",
                     NULL);
        cu_html_close(h, "div");
        cu_html_open(h, "div", "class", "nhsuk-card__content", NULL);
        cu_html_elem(h, "p",
                     "Some of your answers mean your care team will contact you soon. If you "
                     "feel you might act on thoughts of harming yourself, or you need help now, "
                     "call 999 or go to A&E. You can also call NHS 111, or Samaritans free on "
                     "116 123, at any time.",
                     "class", "nhsuk-body", NULL);
        cu_html_close(h, "div");
        cu_html_close(h, "div");
    }
}

int cu_qform_done_page(const char *assets, bool urgent, cu_buf *out)
{
    cu_html h;
    cu_html_init(&h, out);
    cu_page p = {.title = "Your answers have been sent", .assets = assets};
    cu_page_begin(&h, &p);
    cu_qform_done_body(&h, urgent);
    cu_html_elem(&h, "p", "You can close this page. The link you used cannot be used again.",
                 "class", "nhsuk-body", NULL);
    cu_page_end(&h);
    return cu_html_done(&h);
}

int cu_qform_gone_page(const char *assets, const char *kind, cu_buf *out)
{
    const char *title, *body;
    if (strcmp(kind, "used") == 0) {
        title = "This questionnaire has already been answered";
        body = "Each link can be used once, and answers were already sent with this one. If you "
               "think this is wrong, contact your care team.";
    } else if (strcmp(kind, "retired") == 0) {
        title = "This link is no longer valid";
        body = "Your care team no longer asks for answers through this link. Contact them if "
               "you have a question about your care.";
    } else if (strcmp(kind, "expired") == 0) {
        title = "This link has expired";
        body = "Links to a questionnaire work for a limited time. Contact your care team if you "
               "still want to answer it and they can send you a new link.";
    } else {
        title = "Page not found";
        body = "If you typed the web address, check it is correct. If you pasted it, check you "
               "copied the entire address.";
    }
    return cu_page_message(out, assets, title, body, NULL, NULL);
}
