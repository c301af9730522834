/*
 * pages_staff.c — a clinician's pages of the staff console: the home page
 * (urgent tasks, what follow-up pathways make due), the task list with its
 * buttons, the care list and a patient's record. What every console page
 * shares (session, shell, forms) is in console.c. Each view of personal data is
 * the same audited operation as the API's read of it (task.list,
 * pathway.due, a subject read, whose items also give a record's questionnaire
 * responses; a record's read also lists its patient's tasks, one event), so a
 * refusal, such
 * as a patient off the clinician's care list, is recorded and the page says
 * only that the record cannot be shown.
 *
 * Links, form actions and redirects are relative to the page's own path
 * (pages_util.h), so the console works under a proxy's path prefix.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/pathway.h"
#include "domain/questionnaire.h"
#include "domain/responses.h"
#include "domain/staff.h"
#include "domain/subject.h"
#include "domain/tasks.h"
#include "http/api_impl.h"
#include "http/assets.h"
#include "http/console.h"
#include "http/form.h"
#include "http/pages_clinical.h"
#include "http/pages_util.h"
#include "iface/html.h"
#include "iface/wording.h"
#include "util/clock.h"

#define PATIENTS_PER_PAGE 20
#define MAX_ROWS 200

/* ---- tasks ---- */

typedef struct task_row {
    char id[CU_ID_STRLEN];
    char subject_id[CU_ID_STRLEN];
    bool urgent;
    const char *wording;
    char state[16];
    int64_t created_at, acked_at;
    char acked_by[65];
} task_row;

typedef struct task_list {
    task_row *rows;
    size_t n, cap, more;
    const char *subject; /* only this subject's, or NULL */
} task_list;

static int collect_task(void *ctx, const cu_task_view *t)
{
    task_list *l = ctx;
    if (strcmp(t->rec->state, "done") == 0 ||
        (l->subject && strcmp(t->rec->subject_id, l->subject) != 0))
        return CU_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        if (cap > MAX_ROWS) {
            l->more++;
            return CU_OK;
        }
        task_row *r = realloc(l->rows, cap * sizeof *r);
        if (!r)
            return CU_ENOMEM;
        l->rows = r;
        l->cap = cap;
    }
    task_row *r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    cu_strlcpy(r->id, t->rec->id, sizeof r->id);
    cu_strlcpy(r->subject_id, t->rec->subject_id, sizeof r->subject_id);
    r->urgent = strcmp(t->rec->kind, "urgent") == 0;
    r->wording = t->reason ? t->reason->wording : "A questionnaire answer needs review";
    cu_strlcpy(r->state, t->rec->state, sizeof r->state);
    r->created_at = t->rec->created_at;
    r->acked_at = t->rec->acked_at;
    cu_strlcpy(r->acked_by, t->rec->acked_by, sizeof r->acked_by);
    return CU_OK;
}

/* The tasks not done (urgent first, oldest first: cu_task_list's order),
 * one task.list event. False with the page answered on a failure. */
static bool load_tasks(cu_console *c, const char *state, task_list *l)
{
    cu_err err = {0};
    int rc = cu_task_list(cu_api_vault(c->api), &c->actor, NULL, state, collect_task, l, &err);
    if (rc == CU_EDENIED) {
        cu_console_message(c, 403, "You cannot see the task list",
                "The task list is for clinicians. Ask your administrator if you need it.",
                NULL);
        return false;
    }
    if (rc) {
        cu_api_fail(c->resp, &err);
        return false;
    }
    return true;
}

static void patient_link(cu_html *h, const cu_console *c, const char *subject_id,
                         const char *label, const char *hidden)
{
    char to[96], href[160];
    snprintf(to, sizeof to, "/staff/patients/%s", subject_id);
    cu_console_link(c, to, href, sizeof href);
    cu_html_open(h, "a", "href", href, NULL);
    cu_html_text(h, label);
    if (hidden)
        cu_html_elem(h, "span", hidden, "class", "nhsuk-u-visually-hidden", NULL);
    cu_html_close(h, "a");
}

static void task_card(cu_html *h, const cu_console *c, const task_row *t, bool buttons,
                      bool show_patient)
{
    char when[CU_HTML_DATE_LEN], hidden[96];
    cu_html_open(h, "div", "class", "nhsuk-card", NULL);
    cu_html_open(h, "div", "class", "nhsuk-card__content", NULL);
    cu_html_open(h, "h3", "class", "nhsuk-card__heading nhsuk-heading-s", NULL);
    cu_html_elem(h, "strong", t->urgent ? "Urgent" : "Review", "class",
                 t->urgent ? "nhsuk-tag nhsuk-tag--red" : "nhsuk-tag nhsuk-tag--blue", NULL);
    cu_html_textf(h, " %s", t->wording);
    cu_html_close(h, "h3");
    cu_html_open(h, "p", "class", "nhsuk-card__description", NULL);
    cu_html_textf(h, "Raised on %s. ", cu_html_date(t->created_at, when));
    if (strcmp(t->state, "acknowledged") == 0)
        cu_html_textf(h, "Acknowledged by %s on %s.", t->acked_by,
                      cu_html_date(t->acked_at, when));
    else
        cu_html_text(h, "Not acknowledged yet.");
    cu_html_close(h, "p");
    snprintf(hidden, sizeof hidden, " (task raised on %s)", cu_html_date(t->created_at, when));
    if (show_patient) {
        cu_html_open(h, "p", "class", "nhsuk-card__description", NULL);
        patient_link(h, c, t->subject_id, "View the patient's record", hidden);
        cu_html_close(h, "p");
    }
    if (buttons) {
        static const struct {
            const char *what, *label;
            bool open_only;
        } acts[] = {{"acknowledge", "Acknowledge", true}, {"done", "Mark as done", false}};
        for (size_t i = 0; i < 2; i++) {
            if (acts[i].open_only && strcmp(t->state, "open") != 0)
                continue;
            char to[96], action[160];
            snprintf(to, sizeof to, "/staff/tasks/%s/%s", t->id, acts[i].what);
            cu_console_link(c, to, action, sizeof action);
            cu_html_open(h, "form", "method", "post", "action", action, "novalidate",
                         CU_HTML_ON, "class", "nhsuk-u-margin-bottom-3",
                         NULL);
            cu_console_csrf(h, c);
            cu_html_open(h, "p", NULL);
            cu_html_open(h, "button", "type", "submit", "class",
                         i == 0 ? "nhsuk-button nhsuk-button--secondary" : "nhsuk-button",
                         NULL);
            cu_html_text(h, acts[i].label);
            cu_html_elem(h, "span", hidden, "class", "nhsuk-u-visually-hidden", NULL);
            cu_html_close(h, "button");
            cu_html_close(h, "p");
            cu_html_close(h, "form");
        }
    }
    cu_html_close(h, "div");
    cu_html_close(h, "div");
}

void cu_console_tasks(cu_console *c)
{
    task_list l = {0};
    if (!load_tasks(c, NULL, &l)) {
        free(l.rows);
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, "Tasks", false);
    cu_html_elem(&h, "h1", "Tasks", NULL);
    if (l.n == 0)
        cu_html_elem(&h, "p", "There are no tasks to do for the patients on your list.", NULL);
    else
        cu_html_elem(&h, "p",
                     "Tasks for the patients on your list that are not done yet, urgent "
                     "first.",
                     NULL);
    for (size_t i = 0; i < l.n; i++)
        task_card(&h, c, &l.rows[i], true, true);
    if (l.more)
        cu_html_textf(&h, "%zu more tasks are not shown. Mark these as done to see them.",
                      l.more);
    cu_page_end(&h);
    free(l.rows);
    cu_console_finish(&h, c->resp, 200, &page);
}

static void task_move(cu_console *c, bool done)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    cu_form_free(&form);
    cu_err err = {0};
    int rc = done ? cu_task_done(cu_api_vault(c->api), &c->actor, c->req->route.subject, NULL,
                                 &err)
                  : cu_task_ack(cu_api_vault(c->api), &c->actor, c->req->route.subject, NULL,
                                &err);
    switch (rc) {
    case CU_OK:
    case CU_ECONFLICT: /* done already, or acknowledged by someone else: the list shows it */
        cu_console_redirect(c->req, c->resp, "/staff/tasks");
        break;
    case CU_ENOTFOUND:
    case CU_EDENIED:
        cu_console_message(c, rc == CU_EDENIED ? 403 : 404, "This task cannot be changed",
                "It is not a task of a patient on your list.", "/staff/tasks");
        break;
    default: cu_api_fail(c->resp, &err); break;
    }
}

/* ---- home ---- */

typedef struct due_row {
    char subject_id[CU_ID_STRLEN];
    char kind[8];           /* missed | overdue | due | held */
    const char *held_reason; /* static words, NULL unless held */
    char url[CU_Q_MAX_URL + 1];
    char due_date[12];
    int n;
} due_row;

typedef struct due_list {
    due_row rows[MAX_ROWS];
    size_t n, more;
} due_list;

static int collect_due(void *ctx, const cu_due_item *d)
{
    due_list *l = ctx;
    if (strcmp(d->kind, "flagged") == 0)
        return CU_OK; /* tasks: shown from the task list */
    if (l->n == MAX_ROWS) {
        l->more++;
        return CU_OK;
    }
    due_row *r = &l->rows[l->n++];
    cu_strlcpy(r->subject_id, d->subject_id, sizeof r->subject_id);
    cu_strlcpy(r->kind, d->kind, sizeof r->kind);
    r->held_reason = d->held_reason;
    cu_strlcpy(r->url, d->questionnaire_url ? d->questionnaire_url : "", sizeof r->url);
    cu_strlcpy(r->due_date, d->due_date ? d->due_date : "", sizeof r->due_date);
    r->n = d->n;
    return CU_OK;
}

/* A questionnaire's title (not personal: no event), or words for one that
 * cannot be read. */

static void day_words(const char *ymd, char *out, size_t cap)
{
    cu_date d;
    if (cu_date_parse(ymd, strlen(ymd), &d))
        cu_wording_day(d, out, cap);
    else
        cu_strlcpy(out, "an unknown date", cap);
}

void cu_console_home(cu_console *c)
{
    task_list l = {0};
    if (!load_tasks(c, "open", &l)) {
        free(l.rows);
        return;
    }
    due_list *due = calloc(1, sizeof *due);
    cu_err err = {0};
    if (!due) {
        free(l.rows);
        cu_api_problem(c->resp, CU_P_UNAVAILABLE, NULL);
        return;
    }
    if (cu_pathway_due(cu_api_vault(c->api), &c->actor, NULL, 0, collect_due, due, &err)) {
        free(l.rows);
        free(due);
        cu_api_fail(c->resp, &err);
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, "Home", false);
    cu_html_elem(&h, "h1", "Home", NULL);
    cu_html_elem(&h, "h2", "Urgent tasks", NULL);
    size_t urgent = 0;
    for (size_t i = 0; i < l.n; i++)
        if (l.rows[i].urgent) {
            task_card(&h, c, &l.rows[i], false, true);
            urgent++;
        }
    char href[128];
    cu_console_link(c, "/staff/tasks", href, sizeof href);
    cu_html_open(&h, "p", NULL);
    if (urgent == 0)
        cu_html_text(&h, "There are no open urgent tasks. ");
    cu_html_textf(&h, "%zu open %s in all. ", l.n, l.n == 1 ? "task" : "tasks");
    cu_html_elem(&h, "a", "Go to the task list", "href", href, NULL);
    cu_html_close(&h, "p");
    cu_html_elem(&h, "h2", "Due from follow-up pathways", NULL);
    if (due->n == 0) {
        cu_html_elem(&h, "p", "No questionnaires are due, overdue, missed or paused.", NULL);
    } else {
        static const char *const heads[] = {"Questionnaire", "Due", "Status", "Patient"};
        cu_html_table_open(&h, "Questionnaires due, overdue, missed or paused", true, heads, 4);
        for (size_t i = 0; i < due->n; i++) {
            const due_row *r = &due->rows[i];
            char title[256], day[40], hidden[320];
            cu_questionnaire_title(cu_api_vault(c->api), r->url, NULL, title, sizeof title);
            day_words(r->due_date, day, sizeof day);
            cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
            cu_html_elem(&h, "td", title, "class", "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", day, "class", "nhsuk-table__cell", NULL);
            cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
            /* Missed: the window ended unanswered; overdue: sent, not answered
             * after its due date; held: paused, with why. */
            const char *tag = "Due", *cls = "nhsuk-tag nhsuk-tag--yellow";
            if (strcmp(r->kind, "missed") == 0) {
                tag = "Missed";
                cls = "nhsuk-tag nhsuk-tag--red";
            } else if (strcmp(r->kind, "overdue") == 0) {
                tag = "Overdue";
                cls = "nhsuk-tag nhsuk-tag--orange";
            } else if (strcmp(r->kind, "held") == 0) {
                tag = "Paused";
                cls = "nhsuk-tag nhsuk-tag--grey";
            }
            cu_html_elem(&h, "strong", tag, "class", cls, NULL);
            if (r->held_reason) {
                cu_html_open(&h, "p", "class", "nhsuk-body-s", NULL);
                cu_html_text(&h, r->held_reason);
                cu_html_close(&h, "p");
            }
            cu_html_close(&h, "td");
            cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
            snprintf(hidden, sizeof hidden, " (%s due on %s)", title, day);
            patient_link(&h, c, r->subject_id, "View record", hidden);
            cu_html_close(&h, "td");
            cu_html_close(&h, "tr");
        }
        cu_html_table_close(&h);
    }
    cu_page_end(&h);
    free(l.rows);
    free(due);
    cu_console_finish(&h, c->resp, 200, &page);
}

/* ---- patients ---- */

/* The well-known values of a subject view, by field. */
typedef struct summary {
    const cu_buf *name, *nhs, *birth;
} summary;

static const char *value_of(const cu_buf *b, char *tmp, size_t cap)
{
    if (!b || !b->len)
        return NULL;
    size_t n = b->len < cap - 1 ? b->len : cap - 1;
    memcpy(tmp, b->data, n);
    tmp[n] = '\0';
    return tmp;
}

static void summarise(const cu_subject_view *sv, summary *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < sv->n; i++) {
        const cu_item_view *it = &sv->items[i];
        if (strcmp(it->field, "name") == 0)
            s->name = &it->value;
        else if (strcmp(it->field, "nhs_number") == 0)
            s->nhs = &it->value;
        else if (strcmp(it->field, "birth_date") == 0)
            s->birth = &it->value;
    }
}

typedef struct id_list {
    char (*ids)[CU_ID_STRLEN];
    size_t n, cap;
    const char *only; /* keep only this id (a search), or NULL */
} id_list;

static int collect_id(void *ctx, const char *id)
{
    id_list *l = ctx;
    if (l->only && strcmp(l->only, id) != 0)
        return CU_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char(*p)[CU_ID_STRLEN] = realloc(l->ids, cap * sizeof *p);
        if (!p)
            return CU_ENOMEM;
        l->ids = p;
        l->cap = cap;
    }
    cu_strlcpy(l->ids[l->n++], id, CU_ID_STRLEN);
    return CU_OK;
}

typedef struct found {
    char ids[8][CU_ID_STRLEN];
    size_t n;
} found;

static int collect_found(void *ctx, const char *id)
{
    found *f = ctx;
    if (f->n < 8)
        cu_strlcpy(f->ids[f->n++], id, CU_ID_STRLEN);
    return CU_OK;
}

static void search_form(cu_html *h, const cu_console *c, const char *value, const char *error)
{
    cu_html_open(h, "form", "method", "post", "action", "patients", "novalidate", CU_HTML_ON,
                 NULL);
    cu_console_csrf(h, c);
    cu_html_open(h, "div", "class",
                 error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_elem(h, "label", "Find a patient by NHS number", "class", "nhsuk-label", "for",
                 "nhs_number", NULL);
    cu_html_elem(h, "div", "For example, 485 777 3456", "class", "nhsuk-hint", "id",
                 "nhs_number-hint", NULL);
    if (error) {
        cu_html_open(h, "span", "class", "nhsuk-error-message", "id", "nhs_number-error", NULL);
        cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_textf(h, " %s", error);
        cu_html_close(h, "span");
    }
    cu_html_void(h, "input", "class",
                 error ? "nhsuk-input nhsuk-input--error nhsuk-input--width-10"
                       : "nhsuk-input nhsuk-input--width-10",
                 "id", "nhs_number", "name", "nhs_number", "type", "text", "inputmode",
                 "numeric", "spellcheck", "false", "aria-describedby",
                 error ? "nhs_number-hint nhs_number-error" : "nhs_number-hint", "value", value,
                 NULL);
    cu_html_close(h, "div");
    cu_html_open(h, "p", NULL);
    cu_html_elem(h, "button", "Search", "type", "submit", "class",
                 "nhsuk-button nhsuk-button--secondary", NULL);
    cu_html_close(h, "p");
    cu_html_close(h, "form");
}

void cu_console_patients(cu_console *c)
{
    cu_vault *v = cu_api_vault(c->api);
    long pageno;
    if (!cu_page_number(c->req->q_page, 100000, &pageno)) {
        cu_console_message(c, 400, "This page does not exist", "Go back to the first page of patients.",
                "/staff/patients");
        return;
    }
    const char *q = c->req->q_nhs_number;
    char digits[16] = "";
    const char *search_error = NULL;
    if (q) {
        size_t n = 0;
        for (const char *p = q; *p && !search_error; p++) {
            if (*p == ' ' || *p == '-')
                continue;
            if (*p < '0' || *p > '9' || n == 10)
                search_error = "Enter an NHS number of 10 digits";
            else
                digits[n++] = *p;
        }
        digits[n] = '\0';
        if (!search_error && n != 10)
            search_error = "Enter an NHS number of 10 digits";
    }
    cu_err err = {0};
    id_list l = {0};
    int rc = CU_OK;
    found f = {0};
    /* or by family name and date of birth (pages_clinical.c) */
    cu_name_search ns;
    cu_clinical_name_search_read(c->req, &ns);
    if (ns.asked && q)
        search_error = "Search by NHS number or by name and date of birth, not both";
    if (ns.asked && !q && !ns.ne) {
        rc = cu_subject_find_name_birth(v, &c->actor, NULL, ns.family, strlen(ns.family),
                                        ns.birth, collect_found, &f, &err);
        if (rc == CU_ENOTFOUND)
            rc = CU_OK;
        else if (rc == CU_EINVAL) {
            rc = CU_OK;
            ns.e[ns.ne++] = (cu_field_error){"family", "Enter a family name of up to 3 words, in letters"};
        }
    }
    bool by_name = ns.asked && !q && !ns.ne;
    if (ns.asked && !q)
        q = ""; /* a search: only its answers on the list (none when in error) */
    if (q && !search_error && !ns.asked) {
        rc = cu_subject_find(v, &c->actor, NULL, "nhs_number", digits, strlen(digits),
                             collect_found, &f, &err);
        if (rc == CU_ENOTFOUND)
            rc = CU_OK;
        else if (rc == CU_EINVAL) {
            rc = CU_OK;
            search_error = "Enter a valid NHS number";
        }
    }
    /* The care list, or the search's answers that are on it. */
    if (!rc && (!q || (!search_error && f.n)))
        for (size_t i = 0; !rc && i < (q ? f.n : 1); i++) {
            l.only = q ? f.ids[i] : NULL;
            rc = cu_care_list_of(v, c->who.id, collect_id, &l, &err);
        }
    if (rc) {
        free(l.ids);
        if (rc == CU_EDENIED)
            cu_console_message(c, 403, "You cannot search for patients", "Ask your administrator.", NULL);
        else
            cu_api_fail(c->resp, &err);
        return;
    }
    size_t pages = (l.n + PATIENTS_PER_PAGE - 1) / PATIENTS_PER_PAGE;
    if (pages == 0)
        pages = 1;
    if ((size_t)pageno > pages) {
        free(l.ids);
        cu_console_message(c, 404, "This page does not exist", "Go back to the first page of patients.",
                "/staff/patients");
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, "Your patients", true);
    if (search_error) {
        cu_field_error e = {"nhs_number", search_error};
        cu_html_error_summary(&h, &e, 1);
    } else if (ns.ne) {
        cu_html_error_summary(&h, ns.e, ns.ne);
    }
    cu_html_elem(&h, "h1", "Your patients", NULL);
    search_form(&h, c, ns.asked ? NULL : q, search_error);
    cu_clinical_name_search_form(&h, c, &ns);
    if (by_name)
        cu_html_elem(&h, "p",
                     l.n ? "Patients on your list with this family name and date of birth."
                         : "No patient on your list has this family name and date of birth.",
                     NULL);
    else if (ns.ne) {
        /* the errors are by the fields */
    } else if (q && !search_error)
        cu_html_elem(&h, "p",
                     l.n ? "The patient on your list with this NHS number."
                         : "No patient on your list has this NHS number.",
                     NULL);
    else if (!q && l.n == 0)
        cu_html_elem(&h, "p", "There are no patients on your list.", NULL);
    else if (!q)
        cu_html_textf(&h, "%zu %s on your list.", l.n, l.n == 1 ? "patient" : "patients");
    size_t first = (size_t)(pageno - 1) * PATIENTS_PER_PAGE;
    size_t last = first + PATIENTS_PER_PAGE < l.n ? first + PATIENTS_PER_PAGE : l.n;
    if (first < last) {
        static const char *const heads[] = {"Name", "NHS number", "Date of birth"};
        cu_html_table_open(&h, "Patients on your list", true, heads, 3);
    }
    for (size_t i = first; i < last; i++) {
        /* Each patient's details are a read of their record: one event in
         * their access log, as GET /v1/subjects/{id} */
        cu_subject_view *sv = calloc(1, sizeof *sv);
        if (!sv) {
            rc = CU_ENOMEM;
            break;
        }
        int r = cu_subject_get_page(v, &c->actor, l.ids[i], NULL, 1, true, sv, &err);
        char name[256], nhs[CU_HTML_NHS_LEN], tmp[64], birth[40];
        summary s;
        if (r == CU_OK)
            summarise(sv, &s);
        else
            memset(&s, 0, sizeof s);
        const char *nm = value_of(s.name, name, sizeof name);
        cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
        cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
        patient_link(&h, c, l.ids[i],
                     r == CU_EERASED ? "Erased record"
                     : r         ? "Record that cannot be shown"
                     : nm        ? nm
                                 : "Name not recorded",
                     NULL);
        cu_html_close(&h, "td");
        cu_html_elem(&h, "td",
                     value_of(s.nhs, tmp, sizeof tmp)
                         ? cu_html_nhs_number(tmp, nhs)
                         : "Not recorded",
                     "class", "nhsuk-table__cell", NULL);
        if (value_of(s.birth, tmp, sizeof tmp))
            day_words(tmp, birth, sizeof birth);
        else
            cu_strlcpy(birth, "Not recorded", sizeof birth);
        cu_html_elem(&h, "td", birth, "class", "nhsuk-table__cell", NULL);
        cu_html_close(&h, "tr");
        cu_wipe(name, sizeof name);
        cu_subject_view_release(sv);
        free(sv);
        if (r && r != CU_EDENIED && r != CU_ENOTFOUND && r != CU_EERASED) {
            rc = r;
            break;
        }
    }
    if (first < last) {
        cu_html_table_close(&h);
    }
    cu_console_pagination(&h, &(cu_pages_nav){.label = "Pages of patients",
                                              .prefix = "patients?", .page = pageno,
                                              .pages = pages});
    cu_page_end(&h);
    free(l.ids);
    if (rc) {
        cu_buf_release(&page);
        cu_api_fail(c->resp, &err);
        return;
    }
    cu_console_finish(&h, c->resp, 200, &page);
}

void cu_console_patients_search(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    /* The page reads a search from the request: give it the form's fields
     * in place of a query string. */
    cu_http_req r = *c->req;
    r.q_nhs_number = cu_form_get(&form, "nhs_number");
    r.q_family = cu_form_get(&form, "family");
    r.q_birth_day = cu_form_get(&form, "birth_day");
    r.q_birth_month = cu_form_get(&form, "birth_month");
    r.q_birth_year = cu_form_get(&form, "birth_year");
    r.q_page = NULL;
    const cu_http_req *was = c->req;
    c->req = &r;
    cu_console_patients(c);
    c->req = was;
    cu_form_free(&form);
}

typedef struct resp_list {
    struct resp_row {
        char url[CU_Q_MAX_URL + 1];
        char version[65];
        int64_t authored;
        bool has_total, complete;
        int64_t total;
        char band[CU_Q_MAX_SHORT + 1];
        char title[256]; /* the questionnaire's, read on the store's thread */
    } *rows; /* grown as read, up to MAX_ROWS */
    size_t n, cap, more;
} resp_list;

static int collect_response(void *ctx, const cu_response_view *r)
{
    resp_list *l = ctx;
    if (l->n == l->cap && l->cap < MAX_ROWS) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        if (cap > MAX_ROWS)
            cap = MAX_ROWS;
        struct resp_row *grown = realloc(l->rows, cap * sizeof *grown);
        if (!grown)
            return CU_ENOMEM;
        l->rows = grown;
        l->cap = cap;
    }
    if (l->n == MAX_ROWS) {
        /* oldest first: keep the latest MAX_ROWS */
        memmove(&l->rows[0], &l->rows[1], (MAX_ROWS - 1) * sizeof l->rows[0]);
        l->n--;
        l->more++;
    }
    struct resp_row *w = &l->rows[l->n++];
    cu_strlcpy(w->url, r->url, sizeof w->url);
    cu_strlcpy(w->version, r->version, sizeof w->version);
    w->authored = r->authored;
    w->has_total = r->has_total;
    w->complete = r->complete;
    w->total = r->total;
    cu_strlcpy(w->band, r->band, sizeof w->band);
    return CU_OK;
}

/* What the record page shows, read on the store's thread; the page is written
 * from it on the HTTP thread (cu_http_resp.render), so the one store thread
 * only reads, decrypts and audits. */
typedef struct patient_page {
    cu_console c; /* a copy: its request, response and API outlive the render */
    cu_subject_view *sv;
    resp_list *rl;
    task_list tl;
    int64_t glass;
    cu_buf why;
    cu_clinical_choices *form;
} patient_page;

static void patient_page_drop(void *ctx)
{
    patient_page *pp = ctx;
    if (!pp)
        return;
    if (pp->sv) {
        cu_subject_view_release(pp->sv);
        free(pp->sv);
    }
    if (pp->rl)
        free(pp->rl->rows);
    free(pp->rl);
    free(pp->tl.rows);
    cu_buf_release(&pp->why);
    cu_clinical_choices_free(pp->form);
    cu_wipe(pp, sizeof *pp);
    free(pp);
}

static void patient_page_render(void *ctx, cu_http_resp *resp)
{
    patient_page *pp = ctx;
    cu_console *c = &pp->c;
    const cu_subject_view *sv = pp->sv;
    const resp_list *rl = pp->rl;
    const task_list *tl = &pp->tl;
    const char *id = c->req->route.subject;
    summary s;
    summarise(sv, &s);
    char name[256], tmp[64], nhs[CU_HTML_NHS_LEN], birth[40], date[CU_HTML_DATE_LEN];
    const char *nm = value_of(s.name, name, sizeof name);
    cu_buf page;
    cu_buf_init(&page, 0);
    if (cu_buf_reserve(&page, 16384)) /* the page at once, not grown and copied */
        cu_buf_release(&page);           /* else grown as it is written */
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, nm ? nm : "Patient record", true);
    cu_html_elem(&h, "h1", nm ? nm : "Patient record", NULL);
    if (pp->glass)
        cu_clinical_banner(&h, pp->glass, &pp->why);
    cu_html_elem(&h, "h2", "Details", NULL);
    cu_html_open(&h, "dl", "class", "nhsuk-summary-list", NULL);
    cu_console_summary_row(&h, "NHS number",
                value_of(s.nhs, tmp, sizeof tmp) ? cu_html_nhs_number(tmp, nhs)
                                                 : "Not recorded");
    if (value_of(s.birth, tmp, sizeof tmp))
        day_words(tmp, birth, sizeof birth);
    else
        cu_strlcpy(birth, "Not recorded", sizeof birth);
    cu_console_summary_row(&h, "Date of birth", birth);
    cu_html_close(&h, "dl");

    cu_html_elem(&h, "h2", "Open tasks", NULL);
    if (tl->n == 0)
        cu_html_elem(&h, "p", "There are no open tasks for this patient.", NULL);
    for (size_t i = 0; i < tl->n; i++)
        task_card(&h, c, &tl->rows[i], true, false);

    cu_html_elem(&h, "h2", "Questionnaire responses", NULL);
    if (rl->n == 0) {
        cu_html_elem(&h, "p", "No questionnaire responses have been recorded.", NULL);
    } else {
        static const char *const heads[] = {"Date", "Questionnaire", "Score", "Band"};
        cu_html_table_open(&h, "Questionnaire responses, latest first", true, heads, 4);
        for (size_t i = rl->n; i-- > 0;) {
            const struct resp_row *r = &rl->rows[i];
            char score[32];
            if (r->has_total)
                snprintf(score, sizeof score, "%lld", (long long)r->total);
            else
                cu_strlcpy(score, r->complete ? "No score" : "Not complete", sizeof score);
            cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
            cu_html_elem(&h, "td", cu_html_date(r->authored, date), "class",
                         "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", r->title, "class", "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", score, "class", "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", r->band[0] ? r->band : "None", "class", "nhsuk-table__cell",
                         NULL);
            cu_html_close(&h, "tr");
        }
        cu_html_table_close(&h);
    }

    cu_html_elem(&h, "h2", "Record", NULL);
    size_t shown = 0;
    for (size_t i = 0; i < sv->n; i++) {
        const cu_item_view *it = &sv->items[i];
        if (cu_known_field_find(it->field) &&
            (strcmp(it->field, "name") == 0 || strcmp(it->field, "nhs_number") == 0 ||
             strcmp(it->field, "birth_date") == 0))
            continue;
        if (strcmp(it->field, "questionnaire_response") == 0)
            continue; /* shown above */
        if (shown++ == 0)
            cu_html_open(&h, "dl", "class", "nhsuk-summary-list", NULL);
        char key[160];
        cu_wording_field(it->field, key, sizeof key);
        cu_html_open(&h, "div", "class", "nhsuk-summary-list__row", NULL);
        cu_html_elem(&h, "dt", key, "class", "nhsuk-summary-list__key", NULL);
        cu_html_open(&h, "dd", "class", "nhsuk-summary-list__value", NULL);
        /* the value is text: the writer escapes it */
        cu_buf val;
        cu_buf_init(&val, 0);
        if (cu_buf_append(&val, it->value.data, it->value.len) == CU_OK &&
            cu_buf_append(&val, "", 1) == CU_OK)
            cu_html_text(&h, (const char *)val.data);
        cu_buf_release(&val);
        cu_html_open(&h, "span", "class", "nhsuk-body-s nhsuk-u-display-block", NULL);
        cu_html_textf(&h, "Recorded on %s", cu_html_date(it->recorded_at, date));
        cu_html_close(&h, "span");
        cu_html_close(&h, "dd");
        cu_html_close(&h, "div");
    }
    if (shown)
        cu_html_close(&h, "dl");
    else
        cu_html_elem(&h, "p", "Nothing else is recorded.", NULL);
    if (sv->next[0])
        cu_html_elem(&h, "p", "The record has more entries than this page shows.", NULL);
    cu_html_elem(&h, "h2", "Add to the record", NULL);
    cu_clinical_add_form_with(&h, c, id, pp->form, NULL, NULL, 0);
    cu_page_end(&h);
    cu_wipe(name, sizeof name);
    cu_console_finish(&h, resp, 200, &page);
}

/* The questionnaires' titles of the rows, each questionnaire read once. */
static void title_rows(cu_console *c, resp_list *rl)
{
    for (size_t i = 0; i < rl->n; i++) {
        struct resp_row *r = &rl->rows[i];
        size_t j = 0;
        while (j < i && (strcmp(rl->rows[j].url, r->url) != 0 ||
                         strcmp(rl->rows[j].version, r->version) != 0))
            j++;
        if (j < i)
            cu_strlcpy(r->title, rl->rows[j].title, sizeof r->title);
        else
            cu_questionnaire_title(cu_api_vault(c->api), r->url, r->version, r->title, sizeof r->title);
    }
}

void cu_console_patient(cu_console *c)
{
    cu_vault *v = cu_api_vault(c->api);
    const char *id = c->req->route.subject;
    cu_err err = {0};
    patient_page *pp = calloc(1, sizeof *pp);
    if (pp) {
        pp->sv = calloc(1, sizeof *pp->sv);
        pp->rl = calloc(1, sizeof *pp->rl);
        cu_buf_init(&pp->why, 0);
    }
    if (!pp || !pp->sv || !pp->rl) {
        patient_page_drop(pp);
        cu_api_problem(c->resp, CU_P_UNAVAILABLE, NULL);
        return;
    }
    pp->tl.subject = id;
    /* One operation and one event: the record and the patient's tasks. */
    bool tasks_read = false;
    int rc = cu_subject_get_record(v, &c->actor, id, CU_ITEMS_PAGE_MAX, true, pp->sv,
                                   collect_task, &pp->tl, &tasks_read, &err);
    if (rc == CU_EDENIED || rc == CU_ENOTFOUND || rc == CU_EERASED) {
        /* The refusal is in the audit trail (cu_op_end); the page names no
         * one and says nothing of whether the record exists. */
        patient_page_drop(pp);
        cu_clinical_refused(c, id, 403, NULL, NULL, NULL, 0);
        return;
    }
    /* Read under emergency access: the banner says so, why and until when. */
    if (!rc)
        rc = cu_break_glass_own(v, &c->actor, id, &pp->glass, &pp->why, &err);
    if (!rc)
        rc = cu_response_views(pp->sv, collect_response, pp->rl, &err);
    if (!rc && !tasks_read)
        rc = cu_task_list(v, &c->actor, NULL, NULL, collect_task, &pp->tl, &err);
    if (rc) {
        patient_page_drop(pp);
        cu_api_fail(c->resp, &err);
        return;
    }
    title_rows(c, pp->rl);
    pp->form = cu_clinical_choices_read(c);
    pp->c = *c;
    pp->c.actor = (cu_actor){0}; /* it points into c, gone by the render */
    c->resp->status = 200;
    c->resp->content_type = "text/html; charset=utf-8";
    c->resp->render = patient_page_render;
    c->resp->drop = patient_page_drop;
    c->resp->render_ctx = pp;
}

void cu_console_task_ack(cu_console *c)
{
    task_move(c, false);
}

void cu_console_task_done(cu_console *c)
{
    task_move(c, true);
}
