/*
 * pages_clinical.c — what a clinician does on a patient's record beyond
 * reading it: emergency access (break glass) from the refusal page of a
 * patient off their care list, the banner while it is in force, and adding
 * an entry (a clinical note or an observation) to the record.
 *
 * Each change is the same audited operation as the API's: a grant is
 * cu_break_glass_grant (POST /v1/subjects/{id}/break-glass), an entry
 * cu_subject_add_items (POST /v1/subjects/{id}/items). A form in error is
 * shown again with the error by its field and nothing written; a refusal
 * says only that it cannot be done.
 */
#include "http/pages_clinical.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/consent.h"
#include "domain/input.h"
#include "domain/name_key.h"
#include "domain/policy.h"
#include "domain/staff.h"
#include "domain/subject.h"
#include "http/api_impl.h"
#include "http/form.h"
#include "iface/wording.h"
#include "util/clock.h"

/* How long emergency access may be asked for, in minutes (1 to 240 in the
 * domain; the form offers these). */
static const struct {
    const char *value, *label;
} DURATIONS[] = {
    {"30", "30 minutes"}, {"60", "1 hour"}, {"120", "2 hours"}, {"240", "4 hours"},
};
#define NDURATIONS (sizeof DURATIONS / sizeof DURATIONS[0])
#define DEFAULT_DURATION "60"

/* The kinds of entry the form adds, and the field each is recorded as. */
static const struct {
    const char *value, *label, *field;
} KINDS[] = {
    {"note", "Clinical note", "clinical_note"},
    {"observation", "Observation", "observation"},
};
#define NKINDS (sizeof KINDS / sizeof KINDS[0])
#define ENTRY_MAX_CHARS 5000
#define CU_FAMILY_INPUT_MAX 100

/* Characters (code points) of UTF-8 text (the form parser checked it). */
static size_t code_points(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void record_path(const char *subject_id, const char *tail, char *out, size_t cap)
{
    snprintf(out, cap, "/staff/patients/%s%s", subject_id, tail);
}

/* An NHS.UK form group's opening: the group (in error or not), its label
 * and hint, and the error message. Returns the aria-describedby list. */
static void group_open(cu_html *h, const char *id, const char *label, const char *hint,
                       const char *error, char *describedby, size_t cap)
{
    char hint_id[64], err_id[64];
    snprintf(hint_id, sizeof hint_id, "%s-hint", id);
    snprintf(err_id, sizeof err_id, "%s-error", id);
    cu_html_open(h, "div", "class",
                 error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_open(h, "label", "class", "nhsuk-label nhsuk-label--s", "for", id, NULL);
    cu_html_text(h, label);
    cu_html_close(h, "label");
    if (hint)
        cu_html_elem(h, "div", hint, "class", "nhsuk-hint", "id", hint_id, NULL);
    if (error) {
        cu_html_open(h, "span", "class", "nhsuk-error-message", "id", err_id, NULL);
        cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_textf(h, " %s", error);
        cu_html_close(h, "span");
    }
    snprintf(describedby, cap, "%s%s%s", hint ? hint_id : "", hint && error ? " " : "",
             error ? err_id : "");
}

static void textarea(cu_html *h, const char *id, const char *label, const char *hint,
                     const char *value, const char *error)
{
    char described[160];
    group_open(h, id, label, hint, error, described, sizeof described);
    cu_html_open(h, "textarea", "class",
                 error ? "nhsuk-textarea nhsuk-textarea--error" : "nhsuk-textarea", "id", id,
                 "name", id, "rows", "5", "aria-describedby", described[0] ? described : NULL,
                 NULL);
    cu_html_text(h, value ? value : "");
    cu_html_close(h, "textarea");
    cu_html_close(h, "div");
}

typedef struct option {
    const char *value, *label;
} option;

static void select_field(cu_html *h, const char *id, const char *label, const char *hint,
                         const option *opts, size_t n, const char *chosen, const char *error)
{
    char described[160];
    group_open(h, id, label, hint, error, described, sizeof described);
    cu_html_open(h, "select", "class", error ? "nhsuk-select nhsuk-select--error" : "nhsuk-select",
                 "id", id, "name", id, "aria-describedby", described[0] ? described : NULL, NULL);
    for (size_t i = 0; i < n; i++)
        cu_html_elem(h, "option", opts[i].label, "value", opts[i].value, "selected",
                     chosen && strcmp(chosen, opts[i].value) == 0 ? CU_HTML_ON : NULL, NULL);
    cu_html_close(h, "select");
    cu_html_close(h, "div");
}

static void submit(cu_html *h, const char *label, const char *cls)
{
    cu_html_open(h, "p", NULL);
    cu_html_elem(h, "button", label, "type", "submit", "class", cls, NULL);
    cu_html_close(h, "p");
}

/* ---- break glass ---- */

void cu_clinical_refused(cu_console *c, const char *subject_id, int status, const char *reason,
                         const char *minutes, const cu_field_error *e, size_t n)
{
    char to[96], action[160];
    record_path(subject_id, "/break-glass", to, sizeof to);
    cu_console_link(c, to, action, sizeof action);
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, n ? "Error: You cannot see this record" : "You cannot see this record",
                     false);
    cu_html_error_summary(&h, e, n);
    cu_html_elem(&h, "h1", "You cannot see this record", NULL);
    cu_html_elem(&h, "p",
                 "This patient is not on your list. If you need to see their record, ask "
                 "the person who manages your care list to add them.",
                 NULL);
    cu_html_elem(&h, "h2", "In an emergency", NULL);
    cu_html_elem(&h, "p",
                 "If the patient needs care now and you cannot wait, you can use emergency "
                 "access (break glass) to see their record for a limited time.",
                 NULL);
    cu_html_open(&h, "div", "class", "nhsuk-inset-text", NULL);
    cu_html_elem(&h, "span", "Information: ", "class", "nhsuk-u-visually-hidden", NULL);
    cu_html_elem(&h, "p",
                 "Your name, the time and your reason are recorded, and the data protection "
                 "officer reviews every use of emergency access.",
                 NULL);
    cu_html_close(&h, "div");
    cu_html_open(&h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON, NULL);
    cu_console_csrf(&h, c);
    textarea(&h, "reason", "Why do you need to see this record now?",
             "Say what the emergency is, in a sentence of at least 2 words. Do not use line "
             "breaks.",
             reason, cu_field_error_for(e, n, "reason"));
    option opts[NDURATIONS];
    for (size_t i = 0; i < NDURATIONS; i++)
        opts[i] = (option){DURATIONS[i].value, DURATIONS[i].label};
    select_field(&h, "minutes", "How long do you need access for?", NULL, opts, NDURATIONS,
                 minutes ? minutes : DEFAULT_DURATION, cu_field_error_for(e, n, "minutes"));
    submit(&h, "Use emergency access", "nhsuk-button nhsuk-button--warning");
    cu_html_close(&h, "form");
    char back[160];
    cu_console_link(c, "/staff/patients", back, sizeof back);
    cu_html_open(&h, "p", NULL);
    cu_html_elem(&h, "a", "Back to your patients", "href", back, NULL);
    cu_html_close(&h, "p");
    cu_page_end(&h);
    cu_console_finish(&h, c->resp, status, &page);
}

void cu_clinical_banner(cu_html *h, int64_t expires_at, const cu_buf *reason)
{
    cu_uk_time now = cu_wording_uk_time(cu_now_us());
    cu_uk_time until = cu_wording_uk_time(expires_at);
    bool today = now.year == until.year && now.month == until.month && now.day == until.day;
    cu_html_open(h, "div", "class", "nhsuk-warning-callout", NULL);
    cu_html_open(h, "h2", "class", "nhsuk-warning-callout__label", NULL);
    cu_html_elem(h, "span", "Important: ", "class", "nhsuk-u-visually-hidden", NULL);
    cu_html_text(h, "Emergency access is in force");
    cu_html_close(h, "h2");
    cu_html_open(h, "p", NULL);
    cu_html_textf(h,
                  "You are seeing this record through emergency access (break glass) until "
                  "%02d:%02d %s. It is recorded and will be reviewed.",
                  until.hour, until.minute, today ? "today" : "tomorrow");
    cu_html_close(h, "p");
    if (reason && reason->len) {
        cu_buf text;
        cu_buf_init(&text, 0);
        if (cu_buf_append(&text, reason->data, reason->len) == CU_OK &&
            cu_buf_append(&text, "", 1) == CU_OK) {
            cu_html_open(h, "p", NULL);
            cu_html_text(h, "Your reason: ");
            cu_html_text(h, (const char *)text.data);
            cu_html_close(h, "p");
        }
        cu_buf_release(&text);
    }
    cu_html_close(h, "div");
}

/* The words for a reason's rule (cu_break_glass_reason_check). */
static const char *reason_words(const char *rule)
{
    static const struct {
        const char *rule, *words;
    } w[] = {
        {"reason-control-character", "Write the reason without line breaks or tabs"},
        {"reason-invisible-character", "Write the reason without invisible characters"},
        {"reason-too-short", "Write a reason of at least 10 characters"},
        {"reason-too-long", "Write a reason of 1000 characters or fewer"},
        {"reason-too-few-letters", "Write the reason in words"},
        {"reason-too-few-words", "Write a reason of at least 2 words"},
    };
    for (size_t i = 0; rule && i < sizeof w / sizeof w[0]; i++)
        if (strcmp(rule, w[i].rule) == 0)
            return w[i].words;
    return "Write the reason in words";
}

static bool blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

void cu_console_break_glass(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    const char *id = c->req->route.subject;
    const char *reason = cu_form_get(&form, "reason");
    const char *minutes = cu_form_get(&form, "minutes");
    cu_field_error e[2];
    size_t n = 0;
    cu_err err = {0};
    if (blank(reason)) {
        e[n++] = (cu_field_error){"reason", "Enter why you need to see this record now"};
    } else {
        size_t at, len;
        const char *rule = NULL;
        if (cu_break_glass_reason_check(reason, strlen(reason), &at, &len, &rule, &err))
            e[n++] = (cu_field_error){"reason", reason_words(rule)};
    }
    int mins = 0;
    for (size_t i = 0; minutes && i < NDURATIONS; i++)
        if (strcmp(minutes, DURATIONS[i].value) == 0)
            mins = atoi(DURATIONS[i].value);
    if (!mins || cu_form_count(&form, "minutes") != 1 || cu_form_count(&form, "reason") != 1)
        e[n++] = (cu_field_error){mins ? "reason" : "minutes",
                                  mins ? "Enter one reason" : "Choose how long you need access for"};
    if (n) {
        cu_clinical_refused(c, id, 400, reason, mins ? minutes : NULL, e, n);
        cu_form_free(&form);
        return;
    }
    char gid[CU_ID_STRLEN];
    int64_t expires = 0;
    int rc = cu_break_glass_grant(cu_api_vault(c->api), &c->actor, id, reason, strlen(reason),
                                  mins, gid, &expires, &err);
    cu_form_free(&form);
    char to[96];
    record_path(id, "", to, sizeof to);
    switch (rc) {
    case CU_OK: cu_console_redirect(c->req, c->resp, to); break;
    case CU_EDENIED:
    case CU_ECONCEALED:
    case CU_ENOTFOUND:
    case CU_EERASED:
        /* Recorded by the grant's operation; the page says nothing of
         * whether the record exists. */
        cu_console_message(c, 403, "You cannot use emergency access for this record",
                "Emergency access is for clinicians, to records of their own organisation. "
                "Ask your administrator if you need it.",
                "/staff/patients");
        break;
    default: cu_api_fail(c->resp, &err); break;
    }
}

/* ---- adding to the record ---- */

struct cu_clinical_choices {
    unsigned collected;  /* cu_category bits the policy keeps */
    size_t npurposes;
    char **ids, **descriptions;
    char *purpose;       /* the role's own purpose, chosen by default */
};

void cu_clinical_choices_free(cu_clinical_choices *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < ch->npurposes; i++) {
        free(ch->ids[i]);
        free(ch->descriptions[i]);
    }
    free(ch->ids);
    free(ch->descriptions);
    free(ch->purpose);
    free(ch);
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

cu_clinical_choices *cu_clinical_choices_read(cu_console *c)
{
    const cu_policy *p = NULL;
    cu_err err = {0};
    if (cu_policy_current(cu_api_vault(c->api), c->who.controller_id, &p, &err))
        return NULL;
    cu_clinical_choices *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    size_t n = p->npurposes ? p->npurposes : 1;
    ch->collected = p->collected;
    ch->ids = calloc(n, sizeof *ch->ids);
    ch->descriptions = calloc(n, sizeof *ch->descriptions);
    ch->purpose = dup_or_empty(c->actor.purpose);
    bool ok = ch->ids && ch->descriptions && ch->purpose;
    for (size_t i = 0; ok && i < p->npurposes; i++) {
        ch->ids[i] = dup_or_empty(p->purposes[i].id);
        ch->descriptions[i] = dup_or_empty(p->purposes[i].description);
        ch->npurposes = i + 1;
        ok = ch->ids[i] && ch->descriptions[i];
    }
    if (!ok) {
        cu_clinical_choices_free(ch);
        return NULL;
    }
    return ch;
}

void cu_clinical_add_form_with(cu_html *h, const cu_console *c, const char *subject_id,
                               const cu_clinical_choices *ch, const cu_clinical_entry *in,
                               const cu_field_error *e, size_t n)
{
    static const cu_clinical_entry none = {0};
    if (!in)
        in = &none;
    if (!ch) {
        cu_html_elem(h, "p", "Entries cannot be added now: your organisation's policy cannot be read.",
                     NULL);
        return;
    }
    char to[96], action[160];
    record_path(subject_id, "/items", to, sizeof to);
    cu_console_link(c, to, action, sizeof action);
    cu_html_open(h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON, NULL);
    cu_console_csrf(h, c);
    option kinds[NKINDS];
    for (size_t i = 0; i < NKINDS; i++)
        kinds[i] = (option){KINDS[i].value, KINDS[i].label};
    select_field(h, "kind", "What are you adding?", NULL, kinds, NKINDS,
                 in->kind ? in->kind : KINDS[0].value, cu_field_error_for(e, n, "kind"));
    option cats[CU_CAT_COUNT];
    char words[CU_CAT_COUNT][160];
    size_t ncat = 0;
    for (int i = 0; i < CU_CAT_COUNT; i++)
        if (ch->collected & (1u << i)) {
            /* "health information" as an option: "Health information" */
            cu_strlcpy(words[ncat], cu_wording_category(i), sizeof words[ncat]);
            if (words[ncat][0] >= 'a' && words[ncat][0] <= 'z')
                words[ncat][0] = (char)(words[ncat][0] - 32);
            cats[ncat] = (option){cu_category_name((cu_category)i), words[ncat]};
            ncat++;
        }
    select_field(h, "category", "What is it about?",
                 "The kinds of information your organisation's policy says it keeps.", cats,
                 ncat, in->category ? in->category : cu_category_name(CU_CAT_HEALTH),
                 cu_field_error_for(e, n, "category"));
    textarea(h, "value", "Entry", "What you want to record, in up to 5,000 characters.",
             in->value, cu_field_error_for(e, n, "value"));
    option *purposes = calloc(ch->npurposes ? ch->npurposes : 1, sizeof *purposes);
    size_t np = 0;
    for (size_t i = 0; purposes && i < ch->npurposes; i++)
        purposes[np++] = (option){ch->ids[i], ch->descriptions[i]};
    select_field(h, "purpose", "Why are you recording it?",
                 "The purpose, from your organisation's policy.", purposes, np,
                 in->purpose ? in->purpose : ch->purpose, cu_field_error_for(e, n, "purpose"));
    free(purposes);
    submit(h, "Add to the record", "nhsuk-button");
    cu_html_close(h, "form");
}

void cu_clinical_add_form(cu_html *h, cu_console *c, const char *subject_id,
                          const cu_clinical_entry *in, const cu_field_error *e, size_t n)
{
    cu_clinical_choices *ch = cu_clinical_choices_read(c);
    cu_clinical_add_form_with(h, c, subject_id, ch, in, e, n);
    cu_clinical_choices_free(ch);
}

/* The form again with its errors, nothing written. */
static void add_again(cu_console *c, const char *id, const cu_clinical_entry *in,
                      const cu_field_error *e, size_t n)
{
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, "Error: Add to the record", false);
    cu_html_error_summary(&h, e, n);
    cu_html_elem(&h, "h1", "Add to the record", NULL);
    cu_clinical_add_form(&h, c, id, in, e, n);
    char to[96], back[160];
    record_path(id, "", to, sizeof to);
    cu_console_link(c, to, back, sizeof back);
    cu_html_open(&h, "p", NULL);
    cu_html_elem(&h, "a", "Back to the record", "href", back, NULL);
    cu_html_close(&h, "p");
    cu_page_end(&h);
    cu_console_finish(&h, c->resp, 400, &page);
}

void cu_console_items_add(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    const char *id = c->req->route.subject;
    cu_clinical_entry in = {cu_form_get(&form, "kind"), cu_form_get(&form, "category"),
                            cu_form_get(&form, "value"), cu_form_get(&form, "purpose")};
    cu_field_error e[4];
    size_t n = 0;
    const char *field = NULL;
    for (size_t i = 0; in.kind && i < NKINDS; i++)
        if (strcmp(in.kind, KINDS[i].value) == 0)
            field = KINDS[i].field;
    if (!field || cu_form_count(&form, "kind") != 1)
        e[n++] = (cu_field_error){"kind", "Choose what you are adding"};
    int cat = in.category ? cu_category_from_name(in.category) : -1;
    if (cat < 0 || cu_form_count(&form, "category") != 1)
        e[n++] = (cu_field_error){"category", "Choose what the entry is about"};
    if (blank(in.value) || cu_form_count(&form, "value") != 1)
        e[n++] = (cu_field_error){"value", "Enter what you want to record"};
    else if (code_points(in.value) > ENTRY_MAX_CHARS)
        e[n++] = (cu_field_error){"value", "Enter an entry of 5,000 characters or fewer"};
    if (!in.purpose || !cu_name_valid(in.purpose) || cu_form_count(&form, "purpose") != 1)
        e[n++] = (cu_field_error){"purpose", "Choose why you are recording it"};
    cu_err err = {0};
    int rc = CU_OK;
    if (!n) {
        cu_actor a = c->actor;
        a.purpose = in.purpose;
        cu_value_in v = {.field = field, .category = cat, .source = "staff",
                         .value = in.value, .value_len = strlen(in.value)};
        cu_doc doc = {.values = &v, .n = 1};
        rc = cu_subject_add_items(cu_api_vault(c->api), &a, id, &doc, NULL, &err);
        if ((rc == CU_EDENIED || rc == CU_ECONCEALED) &&
            strcmp(in.purpose, c->actor.purpose) != 0) {
            /* Refused for another purpose than the role's own: the purpose
             * is the field to change (a refusal for the role's own purpose
             * is a record the clinician may not change at all). */
            e[n++] = (cu_field_error){"purpose",
                                      "You cannot add this to the record for this purpose"};
            rc = CU_OK;
        } else if (rc == CU_EINVAL) {
            e[n++] = (cu_field_error){"purpose", "Choose a purpose of your organisation's policy"};
            rc = CU_OK;
        }
    }
    char to[96];
    record_path(id, "", to, sizeof to);
    if (n)
        add_again(c, id, &in, e, n);
    else if (rc == CU_EDENIED || rc == CU_ECONCEALED || rc == CU_ENOTFOUND || rc == CU_EERASED)
        cu_console_message(c, 403, "You cannot add to this record",
                "This patient is not on your list.", "/staff/patients");
    else if (rc)
        cu_api_fail(c->resp, &err);
    else
        cu_console_redirect(c->req, c->resp, to);
    cu_form_free(&form);
}

/* ---- the care list's search by family name and date of birth ---- */

/* A whole number of 1 to 4 digits (leading and trailing spaces allowed), or -1. */
static int small_number(const char *s)
{
    while (*s == ' ')
        s++;
    int v = 0, digits = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++digits > 4)
            return -1;
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ')
        s++;
    return digits && !*s ? v : -1;
}

void cu_clinical_name_search_read(const cu_http_req *req, cu_name_search *s)
{
    memset(s, 0, sizeof *s);
    s->family = req->q_family;
    s->day = req->q_birth_day;
    s->month = req->q_birth_month;
    s->year = req->q_birth_year;
    s->asked = s->family || s->day || s->month || s->year;
    if (!s->asked)
        return;
    if (blank(s->family))
        s->e[s->ne++] = (cu_field_error){"family", "Enter the patient's family name"};
    else if (strlen(s->family) > CU_FAMILY_INPUT_MAX)
        s->e[s->ne++] = (cu_field_error){"family", "Enter a family name of 100 characters or fewer"};
    bool none_d = blank(s->day), none_m = blank(s->month), none_y = blank(s->year);
    int d = none_d ? -1 : small_number(s->day), m = none_m ? -1 : small_number(s->month),
        y = none_y ? -1 : small_number(s->year);
    cu_date date = {y, m, d};
    if (none_d && none_m && none_y)
        s->e[s->ne++] = (cu_field_error){"birth_day", "Enter the patient's date of birth"};
    else if (none_d)
        s->e[s->ne++] = (cu_field_error){"birth_day", "Date of birth must include a day"};
    else if (none_m)
        s->e[s->ne++] = (cu_field_error){"birth_month", "Date of birth must include a month"};
    else if (none_y)
        s->e[s->ne++] = (cu_field_error){"birth_year", "Date of birth must include a year"};
    else if (y < 1000)
        s->e[s->ne++] = (cu_field_error){"birth_year", "Year must include 4 numbers"};
    else if (d < 0 || m < 0 || !cu_date_valid(date))
        s->e[s->ne++] = (cu_field_error){"birth_day", "Date of birth must be a real date"};
    else {
        char tmp[40]; /* y, m and d have at most 4 digits */
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
        cu_strlcpy(s->birth, tmp, sizeof s->birth);
        cu_date today;
        cu_uk_time now = cu_wording_uk_time(cu_now_us());
        today = (cu_date){now.year, now.month, now.day};
        if (cu_date_to_days(date) > cu_date_to_days(today)) {
            s->birth[0] = '\0';
            s->e[s->ne++] = (cu_field_error){"birth_day", "Date of birth must be in the past"};
        }
    }
}

static void date_item(cu_html *h, const char *id, const char *label, const char *value,
                      bool error, const char *width)
{
    char cls[96];
    snprintf(cls, sizeof cls, "nhsuk-input nhsuk-date-input__input %s%s", width,
             error ? " nhsuk-input--error" : "");
    cu_html_open(h, "div", "class", "nhsuk-date-input__item", NULL);
    cu_html_open(h, "div", "class", "nhsuk-form-group", NULL);
    cu_html_elem(h, "label", label, "class", "nhsuk-label nhsuk-date-input__label", "for", id,
                 NULL);
    cu_html_void(h, "input", "class", cls, "id", id, "name", id, "type", "text", "inputmode",
                 "numeric", "value", value, NULL);
    cu_html_close(h, "div");
    cu_html_close(h, "div");
}

void cu_clinical_name_search_form(cu_html *h, const cu_console *c, const cu_name_search *s)
{
    const char *fam_err = cu_field_error_for(s->e, s->ne, "family");
    const char *date_err = cu_field_error_for(s->e, s->ne, "birth_day");
    bool day_bad = date_err != NULL, month_bad = false, year_bad = false;
    if (!date_err && (date_err = cu_field_error_for(s->e, s->ne, "birth_month")))
        month_bad = true;
    if (!date_err && (date_err = cu_field_error_for(s->e, s->ne, "birth_year")))
        year_bad = true;
    if (day_bad && s->day && !blank(s->day) && s->month && !blank(s->month))
        month_bad = year_bad = true; /* a date that is not real: the whole date */
    cu_html_open(h, "form", "method", "post", "action", "patients", "novalidate", CU_HTML_ON,
                 NULL);
    cu_console_csrf(h, c);
    cu_html_elem(h, "h2", "Find a patient by name and date of birth", "class",
                 "nhsuk-heading-m", NULL);
    char described[160];
    group_open(h, "family", "Family name", "The surname. Capitals, accents, hyphens and "
               "apostrophes do not matter.",
               fam_err, described, sizeof described);
    cu_html_void(h, "input", "class", fam_err ? "nhsuk-input nhsuk-input--width-20 nhsuk-input--error"
                                               : "nhsuk-input nhsuk-input--width-20",
                 "id", "family", "name", "family", "type", "text", "spellcheck", "false",
                 "autocomplete", "off", "aria-describedby", described, "value", s->family, NULL);
    cu_html_close(h, "div");
    cu_html_open(h, "div", "class",
                 date_err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_open(h, "fieldset", "class", "nhsuk-fieldset", "role", "group", "aria-describedby",
                 date_err ? "birth-hint birth-error" : "birth-hint", NULL);
    cu_html_elem(h, "legend", "Date of birth", "class", "nhsuk-fieldset__legend nhsuk-label--s",
                 NULL);
    cu_html_elem(h, "div", "For example, 15 3 1984", "class", "nhsuk-hint", "id", "birth-hint",
                 NULL);
    if (date_err) {
        cu_html_open(h, "span", "class", "nhsuk-error-message", "id", "birth-error", NULL);
        cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_textf(h, " %s", date_err);
        cu_html_close(h, "span");
    }
    cu_html_open(h, "div", "class", "nhsuk-date-input", NULL);
    date_item(h, "birth_day", "Day", s->day, day_bad, "nhsuk-input--width-2");
    date_item(h, "birth_month", "Month", s->month, month_bad, "nhsuk-input--width-2");
    date_item(h, "birth_year", "Year", s->year, year_bad, "nhsuk-input--width-4");
    cu_html_close(h, "div");
    cu_html_close(h, "fieldset");
    cu_html_close(h, "div");
    submit(h, "Search", "nhsuk-button nhsuk-button--secondary");
    cu_html_close(h, "form");
}
