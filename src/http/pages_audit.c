/*
 * pages_audit.c — the auditor's pages of the staff console: a search of the
 * audit trail (date range, member of staff, subject id, action, allowed or
 * refused; newest first, a page at a time) and the trail's verification.
 *
 * The search is the API's listing (GET /v1/audit): one audited operation
 * (cu_audit_list, the "audit" action), refused and recorded for anyone who
 * may not read the trail. It shows no values and no personal data: who did
 * what, in words, to which subject id, why, when, and whether it was allowed.
 * The trail is read in order of sequence; the page keeps only the last
 * matches it needs (a ring of page x PER_PAGE rows), so the newest come first
 * without holding the whole trail.
 *
 * The verification is the CLI's `custos audit verify` (cu_audit_check): it
 * recomputes the whole chain and checks every signature, on the request's
 * thread, so on a long trail the page takes as long as the command does.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/model.h"
#include "domain/subject.h"
#include "http/api_impl.h"
#include "http/console.h"
#include "http/form.h"
#include "http/pages_util.h"
#include "iface/html.h"
#include "iface/wording.h"
#include "util/clock.h"

#define PER_PAGE 25
#define MAX_PAGE 200

typedef struct ev_row {
    int64_t seq, ts;
    char actor[72], role[96], action[48], purpose[72], outcome[16], rule[48], subject[40];
} ev_row;

typedef struct ev_ring {
    ev_row *rows;
    size_t cap;     /* page x PER_PAGE */
    size_t total;   /* matches seen */
    const char *action;  /* only this action, or NULL */
    int outcome;    /* 0 any, 1 allowed, 2 refused */
} ev_ring;

static void view_copy(char *out, size_t cap, cu_view v)
{
    size_t n = v.n < cap - 1 ? v.n : cap - 1;
    if (n)
        memcpy(out, v.p, n);
    out[n] = '\0';
}

static bool view_is(cu_view v, const char *s)
{
    return v.n == strlen(s) && memcmp(v.p, s, v.n) == 0;
}

static int collect_event(void *ctx, const cu_audit_decoded *e, const cu_buf *payload)
{
    (void)payload;
    ev_ring *r = ctx;
    if (r->action && !view_is(e->action, r->action))
        return CU_OK;
    bool allowed = view_is(e->outcome, "ok");
    if ((r->outcome == 1 && !allowed) || (r->outcome == 2 && !view_is(e->outcome, "denied")))
        return CU_OK;
    ev_row *w = &r->rows[r->total % r->cap];
    r->total++;
    memset(w, 0, sizeof *w);
    w->seq = e->seq;
    w->ts = e->ts;
    view_copy(w->actor, sizeof w->actor, e->actor);
    view_copy(w->role, sizeof w->role, e->role);
    view_copy(w->action, sizeof w->action, e->action);
    view_copy(w->purpose, sizeof w->purpose, e->purpose);
    view_copy(w->outcome, sizeof w->outcome, e->outcome);
    view_copy(w->rule, sizeof w->rule, e->rule);
    view_copy(w->subject, sizeof w->subject, e->subject);
    return CU_OK;
}

/* The words of wording.c are written to the subject ("look at your
 * record"); an auditor reads them about the subject ("look at the subject's
 * record"). */
static void about_subject(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (const char *p = s; *p && o + 1 < cap;) {
        bool start = p == s || p[-1] == ' ';
        const char *rep = NULL;
        size_t skip = 0;
        if (start && strncmp(p, "your ", 5) == 0) {
            rep = "the subject's ";
            skip = 5;
        } else if (start && strncmp(p, "you", 3) == 0 && (p[3] == ' ' || p[3] == '\0')) {
            rep = "the subject";
            skip = 3;
        }
        if (rep) {
            size_t n = strlen(rep);
            if (o + n >= cap)
                break;
            memcpy(out + o, rep, n);
            o += n;
            p += skip;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static void action_words(const char *action, char *out, size_t cap)
{
    const char *w = cu_wording_action(action);
    if (!w) {
        cu_strlcpy(out, "an action this version does not describe", cap);
        return;
    }
    about_subject(w, out, cap);
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

static void purpose_words(const char *purpose, char *out, size_t cap)
{
    if (!purpose[0]) {
        cu_strlcpy(out, "None given", cap);
        return;
    }
    const char *w = cu_wording_builtin_purpose(purpose);
    if (w) {
        char tmp[160];
        about_subject(w, tmp, sizeof tmp);
        snprintf(out, cap, "For %s", tmp);
    } else {
        cu_wording_field(purpose, out, cap);
    }
}

/* A date field (YYYY-MM-DD, as a date input sends it): its first or last
 * microsecond. False for anything else. */
static bool date_param(const char *s, bool end, int64_t *out)
{
    cu_date d;
    if (!s || strlen(s) != 10 || !cu_date_parse(s, 10, &d) || !cu_date_valid(d))
        return false;
    *out = cu_date_to_days(d) * 86400000000LL + (end ? 86400000000LL - 1 : 0);
    return true;
}

typedef struct search {
    const char *since, *until, *actor, *subject, *action, *outcome;
    cu_field_error e[6];
    size_t ne;
} search;

static void text_field(cu_html *h, const search *s, const char *id, const char *label,
                       const char *hint, const char *type, const char *value, const char *width)
{
    const char *msg = cu_field_error_for(s->e, s->ne, id);
    char hint_id[32], err_id[32], described[64];
    snprintf(hint_id, sizeof hint_id, "%s-hint", id);
    snprintf(err_id, sizeof err_id, "%s-error", id);
    snprintf(described, sizeof described, "%s%s%s", hint_id, msg ? " " : "", msg ? err_id : "");
    char cls[96];
    snprintf(cls, sizeof cls, "nhsuk-input %s%s", width, msg ? " nhsuk-input--error" : "");
    cu_html_open(h, "div", "class",
                 msg ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_elem(h, "label", label, "class", "nhsuk-label", "for", id, NULL);
    cu_html_elem(h, "div", hint, "class", "nhsuk-hint", "id", hint_id, NULL);
    if (msg) {
        cu_html_open(h, "span", "class", "nhsuk-error-message", "id", err_id, NULL);
        cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_textf(h, " %s", msg);
        cu_html_close(h, "span");
    }
    cu_html_void(h, "input", "class", cls, "id", id, "name", id, "type", type, "spellcheck",
                 "false", "aria-describedby", described, "value", value, NULL);
    cu_html_close(h, "div");
}

static void select_field(cu_html *h, const search *s, const char *id, const char *label,
                         const char *const *values, const char *const *labels, size_t n)
{
    const char *msg = cu_field_error_for(s->e, s->ne, id);
    const char *cur = strcmp(id, "action") == 0 ? s->action : s->outcome;
    char err_id[32];
    snprintf(err_id, sizeof err_id, "%s-error", id);
    cu_html_open(h, "div", "class",
                 msg ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_elem(h, "label", label, "class", "nhsuk-label", "for", id, NULL);
    if (msg) {
        cu_html_open(h, "span", "class", "nhsuk-error-message", "id", err_id, NULL);
        cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_textf(h, " %s", msg);
        cu_html_close(h, "span");
    }
    cu_html_open(h, "select", "class", msg ? "nhsuk-select nhsuk-select--error" : "nhsuk-select",
                 "id", id, "name", id, "aria-describedby", msg ? err_id : NULL, NULL);
    for (size_t i = 0; i < n; i++)
        cu_html_elem(h, "option", labels[i], "value", values[i], "selected",
                     cur && strcmp(cur, values[i]) == 0 ? CU_HTML_ON : NULL, NULL);
    cu_html_close(h, "select");
    cu_html_close(h, "div");
}

static void search_form(cu_html *h, const cu_console *c, const search *s)
{
    char action[128];
    cu_console_link(c, "/staff/audit", action, sizeof action);
    cu_html_open(h, "form", "method", "get", "action", action, "novalidate", CU_HTML_ON, NULL);
    cu_html_open(h, "fieldset", "class", "nhsuk-fieldset", NULL);
    cu_html_elem(h, "legend", "Search the trail", "class",
                 "nhsuk-fieldset__legend nhsuk-fieldset__legend--m", NULL);
    text_field(h, s, "since", "From", "The first day, for example 2026-12-01", "date", s->since,
               "nhsuk-input--width-10");
    text_field(h, s, "until", "To", "The last day, included", "date", s->until,
               "nhsuk-input--width-10");
    text_field(h, s, "actor", "Member of staff", "Their username, for example alice", "text",
               s->actor, "nhsuk-input--width-20");
    text_field(h, s, "subject", "Subject", "The subject's id, as the trail records it", "text",
               s->subject, "nhsuk-input--width-30");
    enum { MAXA = 128 };
    const char *vals[MAXA], *labs[MAXA];
    char words[MAXA][96];
    size_t n = 0;
    vals[n] = "";
    labs[n++] = "Any action";
    for (size_t i = 0; cu_audit_action_at(i) && n < MAXA; i++) {
        vals[n] = cu_audit_action_at(i);
        action_words(vals[n], words[n], sizeof words[n]);
        labs[n] = words[n];
        n++;
    }
    select_field(h, s, "action", "What was done", vals, labs, n);
    static const char *const ov[] = {"", "allowed", "refused"};
    static const char *const ol[] = {"Allowed or refused", "Allowed", "Refused"};
    select_field(h, s, "outcome", "Outcome", ov, ol, 3);
    cu_html_close(h, "fieldset");
    cu_html_elem(h, "button", "Search", "type", "submit", "class", "nhsuk-button", NULL);
    cu_html_close(h, "form");
}

static void verify_form(cu_html *h, const cu_console *c)
{
    char action[128];
    cu_console_link(c, "/staff/audit/verify", action, sizeof action);
    cu_html_elem(h, "h2", "Check the trail has not been changed", NULL);
    cu_html_elem(h, "p",
                 "This recomputes the chain of every event and checks its signatures. On a "
                 "long trail it takes a while.",
                 NULL);
    cu_html_open(h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON, NULL);
    cu_console_csrf(h, c);
    cu_html_elem(h, "button", "Verify the audit trail", "type", "submit", "class",
                 "nhsuk-button nhsuk-button--secondary", NULL);
    cu_html_close(h, "form");
}

static void event_row(cu_html *h, const ev_row *r)
{
    char when[CU_HTML_TIME_LEN], role[160], what[160], why[200], tmp[200];
    cu_html_open(h, "tr", "class", "nhsuk-table__row", NULL);
    cu_html_elem(h, "td", cu_html_datetime(r->ts, when), "class", "nhsuk-table__cell", NULL);
    cu_html_open(h, "td", "class", "nhsuk-table__cell", NULL);
    if (cu_wording_role(r->role, role, sizeof role) == 0)
        cu_strlcpy(role, "a role this version does not describe", sizeof role);
    cu_html_textf(h, "%s, %s", r->actor[0] ? r->actor : "Someone not signed in", role);
    cu_html_close(h, "td");
    action_words(r->action, what, sizeof what);
    cu_html_open(h, "td", "class", "nhsuk-table__cell", NULL);
    cu_html_text(h, what);
    if (r->subject[0]) {
        cu_html_void(h, "br", NULL);
        cu_html_open(h, "span", "class", "nhsuk-body-s", NULL);
        cu_html_textf(h, "Subject %s", r->subject);
        cu_html_close(h, "span");
    }
    cu_html_close(h, "td");
    purpose_words(r->purpose, why, sizeof why);
    cu_html_elem(h, "td", why, "class", "nhsuk-table__cell", NULL);
    cu_html_open(h, "td", "class", "nhsuk-table__cell", NULL);
    bool ok = strcmp(r->outcome, "ok") == 0;
    const char *ow = cu_wording_outcome(r->outcome);
    cu_html_elem(h, "strong", ok ? "Allowed" : strcmp(r->outcome, "denied") == 0 ? "Refused"
                                                                                : ow ? ow : "Other",
                 "class", ok ? "nhsuk-tag nhsuk-tag--green" : "nhsuk-tag nhsuk-tag--red", NULL);
    const char *rw = r->rule[0] ? cu_wording_rule(r->rule) : NULL;
    if (!ok && rw) {
        about_subject(rw, tmp, sizeof tmp);
        cu_html_void(h, "br", NULL);
        cu_html_open(h, "span", "class", "nhsuk-body-s", NULL);
        cu_html_textf(h, "because %s", tmp);
        cu_html_close(h, "span");
    }
    cu_html_close(h, "td");
    cu_html_close(h, "tr");
}

/* The query of a page link: the search's fields and the page number. */
static void page_prefix(const search *s, char *out, size_t cap)
{
    cu_buf q;
    cu_buf_init(&q, 0);
    const char *names[] = {"since", "until", "actor", "subject", "action", "outcome"};
    const char *vals[] = {s->since, s->until, s->actor, s->subject, s->action, s->outcome};
    int rc = cu_buf_append(&q, "audit?", 6);
    for (size_t i = 0; !rc && i < 6; i++) {
        if (!vals[i] || !vals[i][0])
            continue;
        rc = cu_buf_append(&q, names[i], strlen(names[i]));
        if (!rc)
            rc = cu_buf_append(&q, "=", 1);
        /* values were checked: digits, letters, '-', '_', '.' only */
        if (!rc)
            rc = cu_buf_append(&q, vals[i], strlen(vals[i]));
        if (!rc)
            rc = cu_buf_append(&q, "&", 1);
    }
    cu_strlcpy(out, rc ? "audit?" : (const char *)q.data, cap);
    cu_buf_release(&q);
}

static bool plain(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

void cu_console_audit(cu_console *c)
{
    const cu_http_req *q = c->req;
    long pageno;
    if (!cu_page_number(q->q_page, MAX_PAGE, &pageno)) {
        cu_console_message(c, 400, "This page does not exist",
                           "Go back to the first page of the audit trail.", "/staff/audit");
        return;
    }
    /* empty fields are no filter (a form sends every field) */
#define FIELD(x) ((x) && (x)[0] ? (x) : NULL)
    search s = {.since = FIELD(q->q_since), .until = FIELD(q->q_until),
                .actor = FIELD(q->q_actor), .subject = FIELD(q->q_subject),
                .action = FIELD(q->q_action), .outcome = FIELD(q->q_outcome)};
#undef FIELD
    cu_audit_filter f = {0};
    if (s.since && !date_param(s.since, false, &f.since_us))
        s.e[s.ne++] = (cu_field_error){"since", "Enter the first day as a date, like 2026-12-01"};
    if (s.until && !date_param(s.until, true, &f.until_us))
        s.e[s.ne++] = (cu_field_error){"until", "Enter the last day as a date, like 2026-12-31"};
    else if (s.since && s.until && f.since_us && f.until_us < f.since_us)
        s.e[s.ne++] = (cu_field_error){"until", "Enter a last day that is not before the first"};
    if (s.actor && !(cu_actor_valid(s.actor) && plain(s.actor)))
        s.e[s.ne++] = (cu_field_error){"actor", "Enter a username, like alice"};
    if (s.subject && !cu_id_valid(s.subject))
        s.e[s.ne++] = (cu_field_error){"subject", "Enter a subject id as the trail records it"};
    if (s.action && !cu_audit_action_known(s.action))
        s.e[s.ne++] = (cu_field_error){"action", "Choose what was done from the list"};
    int outcome = 0;
    if (s.outcome && strcmp(s.outcome, "allowed") == 0)
        outcome = 1;
    else if (s.outcome && strcmp(s.outcome, "refused") == 0)
        outcome = 2;
    else if (s.outcome)
        s.e[s.ne++] = (cu_field_error){"outcome", "Choose allowed, refused or both"};
    ev_ring ring = {.action = s.action, .outcome = outcome};
    cu_err err = {0};
    bool damaged = false; /* an event does not decode: the page says so, verify stays */
    if (!s.ne) {
        f.actor = s.actor;
        f.subject_id = s.subject;
        ring.cap = (size_t)pageno * PER_PAGE;
        ring.rows = calloc(ring.cap, sizeof *ring.rows);
        if (!ring.rows) {
            cu_api_problem(c->resp, CU_P_UNAVAILABLE, NULL);
            return;
        }
        int rc = cu_audit_list(cu_api_vault(c->api), &c->actor, &f, false, collect_event, &ring,
                               &err);
        if (rc == CU_ECORRUPT || rc == CU_ETAMPER) {
            damaged = true;
            ring.total = 0;
            rc = CU_OK;
        }
        if (rc) {
            cu_wipe(ring.rows, ring.cap * sizeof *ring.rows);
            free(ring.rows);
            if (rc == CU_EDENIED)
                cu_console_message(c, 403, "You cannot see the audit trail",
                                   "The audit trail is for auditors. Your attempt has been "
                                   "recorded. Ask your administrator if you need it.",
                                   NULL);
            else
                cu_api_fail(c->resp, &err);
            return;
        }
    }
    size_t pages = (ring.total + PER_PAGE - 1) / PER_PAGE;
    if (!s.ne && pageno > 1 && (size_t)pageno > pages) {
        free(ring.rows);
        cu_console_message(c, 404, "This page does not exist",
                           "Go back to the first page of the audit trail.", "/staff/audit");
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, s.ne ? "Error: Audit trail" : "Audit trail", true);
    cu_html_error_summary(&h, s.e, s.ne);
    cu_html_elem(&h, "h1", "Audit trail", NULL);
    cu_html_elem(&h, "p",
                 "Every access to the vault, newest first. Your search is itself recorded.",
                 NULL);
    search_form(&h, c, &s);
    if (damaged) {
        cu_html_elem(&h, "h2", "Events", NULL);
        cu_html_elem(&h, "p",
                     "The trail cannot be read: an event in it is not as custos wrote it, so it "
                     "may have been changed outside custos. Verify the trail below to see where, "
                     "keep the store as it is and tell your Data Protection Officer.",
                     NULL);
    } else if (!s.ne) {
        cu_html_elem(&h, "h2", "Events", NULL);
        if (ring.total == 0)
            cu_html_elem(&h, "p", "No event matches the search.", NULL);
        else {
            cu_html_open(&h, "p", NULL);
            cu_html_textf(&h, "%zu %s the search.", ring.total,
                          ring.total == 1 ? "event matches" : "events match");
            cu_html_close(&h, "p");
        }
        /* page p holds matches total-(p-1)*N-1 down to total-p*N (0-based) */
        size_t hi = ring.total - (size_t)(pageno - 1) * PER_PAGE; /* exclusive */
        size_t lo = hi > PER_PAGE ? hi - PER_PAGE : 0;
        if (hi > lo) {
            static const char *const heads[] = {"When", "Who", "What", "Why", "Outcome"};
            cu_html_table_open(&h, "Events of the audit trail, newest first", true, heads, 5);
            for (size_t i = hi; i > lo; i--)
                event_row(&h, &ring.rows[(i - 1) % ring.cap]);
            cu_html_table_close(&h);
        }
        if (pages > 1) {
            char prefix[512];
            page_prefix(&s, prefix, sizeof prefix);
            cu_console_pagination(&h, &(cu_pages_nav){.label = "Pages of events",
                                                      .prefix = prefix, .page = pageno,
                                                      .pages = pages, .linked = MAX_PAGE,
                                                      .prev = "Newer", .next = "Older"});
            if (pages > MAX_PAGE)
                cu_html_elem(&h, "p",
                             "Only the newest pages are shown: narrow the search to see older "
                             "events.",
                             NULL);
        }
    }
    verify_form(&h, c);
    cu_page_end(&h);
    if (ring.rows) {
        cu_wipe(ring.rows, ring.cap * sizeof *ring.rows);
        free(ring.rows);
    }
    cu_console_finish(&h, c->resp, s.ne ? 400 : damaged ? 500 : 200, &page);
}

void cu_console_audit_verify(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    cu_form_free(&form);
    cu_err err = {0};
    cu_verify_report rep;
    int rc = cu_audit_check(cu_api_vault(c->api), &c->actor, &rep, &err);
    if (rc == CU_EDENIED) {
        cu_console_message(c, 403, "You cannot verify the audit trail",
                           "Verifying the audit trail is for auditors. Your attempt has been "
                           "recorded.",
                           NULL);
        return;
    }
    if (rc) {
        cu_api_fail(c->resp, &err);
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    const char *title = rep.ok ? "The audit trail is intact" : "The audit trail has been changed";
    cu_console_begin(&h, c, title, false);
    cu_html_elem(&h, "h1", title, NULL);
    cu_html_open(&h, "dl", "class", "nhsuk-summary-list", NULL);
    char v[320];
    struct {
        const char *k;
        char v[320];
    } rows[5];
    size_t n = 0;
    rows[n].k = "Events checked";
    snprintf(rows[n++].v, sizeof rows[0].v, "%lld", (long long)rep.events);
    rows[n].k = "First and last event";
    if (rep.events > 0)
        snprintf(rows[n++].v, sizeof rows[0].v, "Event %lld to event %lld", (long long)rep.start,
                 (long long)(rep.start + rep.events - 1));
    else
        snprintf(rows[n++].v, sizeof rows[0].v, "There are no events yet");
    rows[n].k = "Signatures checked";
    snprintf(rows[n++].v, sizeof rows[0].v, "%lld", (long long)rep.checkpoints);
    rows[n].k = "Result";
    if (rep.ok)
        snprintf(rows[n++].v, sizeof rows[0].v, "Passed: every event and signature is as it was "
                                                "written");
    else if (rep.first_bad > 0)
        snprintf(rows[n++].v, sizeof rows[0].v, "Failed at event %lld: %s",
                 (long long)rep.first_bad, rep.reason);
    else
        snprintf(rows[n++].v, sizeof rows[0].v, "Failed: %s", rep.reason);
    if (rep.start > 1) {
        rows[n].k = "Restarted";
        snprintf(rows[n++].v, sizeof rows[0].v,
                 "The operator restarted the trail at event %lld; the %lld events before it "
                 "are not verified",
                 (long long)rep.start, (long long)rep.before_start);
    }
    for (size_t i = 0; i < n; i++)
        cu_console_summary_row(&h, rows[i].k, rows[i].v);
    cu_html_close(&h, "dl");
    if (!rep.ok)
        cu_html_elem(&h, "p",
                     "Someone has changed, removed or added events outside custos. Keep the "
                     "store as it is and tell your Data Protection Officer.",
                     NULL);
    if (!rep.recorded) {
        snprintf(v, sizeof v, "This verification could not be recorded in the trail (%s). Its "
                              "result above stands.", rep.not_recorded);
        cu_html_elem(&h, "p", v, NULL);
    }
    char back[128];
    cu_console_link(c, "/staff/audit", back, sizeof back);
    cu_html_open(&h, "p", NULL);
    cu_html_elem(&h, "a", "Back to the audit trail", "href", back, NULL);
    cu_html_close(&h, "p");
    cu_page_end(&h);
    cu_console_finish(&h, c->resp, 200, &page);
}
