/*
 * pages_dpo.c — the Data Protection Officer's pages of the staff console: the
 * rights requests due (overdue first), one request's history with a button
 * for each change its state allows, the access package of a verified
 * subject, and the controller's policy in words with its privacy notice and
 * record of processing; an erasure's plan, confirmed before it is carried out,
 * and its certificate. What every console page shares (session, shell,
 * forms) is in console.c.
 *
 * Each page calls the same audited domain operation as the API's route
 * (request.list, request.show, request.change, sar.run, the policy's load),
 * so a refusal is recorded in the trail and the page says only that it
 * cannot be shown.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/consent.h"
#include "domain/erasure.h"
#include "domain/model.h"
#include "domain/requests.h"
#include "domain/sar.h"
#include "http/api_impl.h"
#include "http/console.h"
#include "http/form.h"
#include "http/pages_util.h"
#include "iface/html.h"
#include "iface/notice.h"
#include "iface/sar_render.h"
#include "iface/wording.h"

#define REQUESTS_PER_PAGE 20
#define MAX_REQUESTS 10000
#define MAX_EVENTS 200
#define MAX_NOTE 600

/* ---- words ---- */

static const char *kind_words(const char *kind)
{
    static const struct {
        const char *k, *w;
    } m[] = {
        {"access", "Access"},           {"rectification", "Rectification"},
        {"erasure", "Erasure"},         {"restriction", "Restriction"},
        {"objection", "Objection"},     {"automated_decision", "Automated decision"},
        {"portability", "Portability"},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcmp(m[i].k, kind) == 0)
            return m[i].w;
    return "Other";
}

static const char *const STATE_WORDS[CU_RQ_STATE_COUNT] = {
    [CU_RQ_RECEIVED] = "Received",
    [CU_RQ_AWAITING_IDENTITY] = "Waiting for proof of identity",
    [CU_RQ_AWAITING_CLARIFICATION] = "Waiting for clarification",
    [CU_RQ_IN_PROGRESS] = "In progress",
    [CU_RQ_EXTENDED] = "In progress, deadline extended",
    [CU_RQ_FULFILLED] = "Fulfilled",
    [CU_RQ_REFUSED] = "Refused",
    [CU_RQ_WITHDRAWN] = "Withdrawn",
};

static const char *state_words(const char *state)
{
    int s = cu_rq_state_parse(state);
    return s < 0 ? "Unknown" : STATE_WORDS[s];
}

/* The button of each transition, and what the history says it did. */
static const struct {
    const char *button, *done;
} TRANSITION_WORDS[CU_RQ_TRANSITION_COUNT] = {
    [CU_RQ_ASK_IDENTITY] = {"Ask for proof of identity", "Proof of identity asked for"},
    [CU_RQ_VERIFY] = {"Identity verified", "Identity verified"},
    [CU_RQ_CLARIFY] = {"Ask for clarification", "Clarification asked for"},
    [CU_RQ_RESUME] = {"Clarification received", "Clarification received"},
    [CU_RQ_EXTEND] = {"Extend the deadline", "Deadline extended"},
    [CU_RQ_FULFIL] = {"Mark as fulfilled", "Fulfilled"},
    [CU_RQ_REFUSE] = {"Refuse", "Refused"},
    [CU_RQ_WITHDRAW] = {"Withdrawn by the requester", "Withdrawn"},
};

static const char *action_words(const char *action)
{
    int t = cu_rq_transition_parse(action);
    if (t >= 0)
        return TRANSITION_WORDS[t].done;
    return strcmp(action, "receive") == 0 ? "Received" : "Changed";
}

static void day_of(const char *ymd, char *out, size_t cap)
{
    cu_date d;
    if (ymd && *ymd && cu_date_parse(ymd, strlen(ymd), &d))
        cu_wording_day(d, out, cap);
    else
        cu_strlcpy(out, "Not known", cap);
}

/* "12 days left", "Due today", "3 days overdue", or why there is no date. */
static void clock_words(const cu_request_view *v, char *out, size_t cap)
{
    if (!cu_rq_state_open((cu_rq_state)cu_rq_state_parse(v->rec.state))) {
        cu_strlcpy(out, v->has_clock && v->on_time ? "Closed on time" : "Closed", cap);
        return;
    }
    if (!v->clock_started) {
        cu_strlcpy(out, "Clock not started", cap);
        return;
    }
    if (!v->has_clock) {
        cu_strlcpy(out, "No deadline", cap);
        return;
    }
    long long d = (long long)v->dl.days_left;
    if (d == 0)
        cu_strlcpy(out, "Due today", cap);
    else if (d > 0)
        snprintf(out, cap, "%lld %s left", d, d == 1 ? "day" : "days");
    else
        snprintf(out, cap, "%lld %s overdue", -d, d == -1 ? "day" : "days");
}

static bool overdue(const cu_request_view *v)
{
    return cu_rq_state_open((cu_rq_state)cu_rq_state_parse(v->rec.state)) && v->clock_started &&
           v->has_clock && v->dl.days_left < 0;
}

static void refused_page(cu_console *c, int rc, cu_err *err, const char *what)
{
    if (rc == CU_EDENIED) {
        char para[200];
        snprintf(para, sizeof para,
                 "%s %s for the Data Protection Officer. The attempt has been recorded.",
                 what, strchr(what, ' ') ? "are" : "is");
        cu_console_message(c, 403, "You cannot see this page", para, "/staff");
    } else if (rc == CU_ENOTFOUND || rc == CU_ECONCEALED) {
        /* another controller's request: refused (and recorded) as if it did
         * not exist, as the API answers */
        cu_console_message(c, 404, "This request does not exist",
                           "Go back to the list of rights requests.", "/staff/requests");
    } else {
        cu_api_fail(c->resp, err);
    }
}

/* ---- the list ---- */

typedef struct rq_row {
    cu_request_view v;
} rq_row;

typedef struct rq_list {
    rq_row *rows;
    size_t n, cap, more;
    int state; /* only this state, or -1 */
} rq_list;

static int collect_request(void *ctx, const cu_request_view *v)
{
    rq_list *l = ctx;
    if (l->state >= 0 && cu_rq_state_parse(v->rec.state) != l->state)
        return CU_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        if (cap > MAX_REQUESTS) {
            l->more++;
            return CU_OK;
        }
        rq_row *r = realloc(l->rows, cap * sizeof *r);
        if (!r)
            return CU_ENOMEM;
        l->rows = r;
        l->cap = cap;
    }
    l->rows[l->n++].v = *v;
    return CU_OK;
}

static void request_link(cu_html *h, const cu_console *c, const cu_request_view *v)
{
    char to[96], href[160], day[40];
    snprintf(to, sizeof to, "/staff/requests/%s", v->rec.id);
    cu_console_link(c, to, href, sizeof href);
    day_of(v->rec.received_on, day, sizeof day);
    cu_html_open(h, "a", "href", href, NULL);
    cu_html_text(h, kind_words(v->rec.kind));
    cu_html_elem(h, "span", " request", "class", "nhsuk-u-visually-hidden", NULL);
    cu_html_textf(h, " received %s", day);
    cu_html_close(h, "a");
}

static void state_filter(cu_html *h, int state)
{
    cu_html_open(h, "form", "method", "get", "action", "requests", "novalidate", CU_HTML_ON,
                 NULL);
    cu_html_open(h, "div", "class", "nhsuk-form-group", NULL);
    cu_html_elem(h, "label", "Show requests in this state", "class", "nhsuk-label", "for",
                 "state", NULL);
    cu_html_open(h, "select", "class", "nhsuk-select", "id", "state", "name", "state", NULL);
    cu_html_elem(h, "option", "All open requests", "value", "", state < 0 ? "selected" : NULL,
                 state < 0 ? CU_HTML_ON : NULL, NULL);
    for (int s = 0; s < CU_RQ_STATE_COUNT; s++)
        cu_html_elem(h, "option", STATE_WORDS[s], "value", cu_rq_state_name((cu_rq_state)s),
                     s == state ? "selected" : NULL, s == state ? CU_HTML_ON : NULL, NULL);
    cu_html_close(h, "select");
    cu_html_close(h, "div");
    cu_html_open(h, "p", NULL);
    cu_html_elem(h, "button", "Show", "type", "submit", "class",
                 "nhsuk-button nhsuk-button--secondary", NULL);
    cu_html_close(h, "p");
    cu_html_close(h, "form");
}

void cu_console_requests(cu_console *c)
{
    long pageno;
    if (!cu_page_number(c->req->q_page, 100000, &pageno)) {
        cu_console_message(c, 400, "This page does not exist",
                           "Go back to the first page of rights requests.", "/staff/requests");
        return;
    }
    const char *qs = c->req->q_state && *c->req->q_state ? c->req->q_state : NULL;
    int state = qs ? cu_rq_state_parse(qs) : -1;
    if (qs && state < 0) {
        cu_console_message(c, 400, "There is no such state",
                           "Go back to the list of rights requests and choose a state from "
                           "the list.",
                           "/staff/requests");
        return;
    }
    bool open_only = state < 0 || cu_rq_state_open((cu_rq_state)state);
    rq_list l = {.state = state};
    cu_err err = {0};
    int rc = cu_request_list(cu_api_vault(c->api), &c->actor, NULL, open_only, collect_request,
                             &l, &err);
    if (rc) {
        free(l.rows);
        refused_page(c, rc, &err, "Rights requests");
        return;
    }
    size_t pages = (l.n + REQUESTS_PER_PAGE - 1) / REQUESTS_PER_PAGE;
    if (pages == 0)
        pages = 1;
    if ((size_t)pageno > pages) {
        free(l.rows);
        cu_console_message(c, 404, "This page does not exist",
                           "Go back to the first page of rights requests.", "/staff/requests");
        return;
    }
    size_t late = 0;
    for (size_t i = 0; i < l.n; i++)
        late += overdue(&l.rows[i].v);
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, "Rights requests", true);
    cu_html_elem(&h, "h1", "Rights requests", NULL);
    state_filter(&h, state);
    cu_html_open(&h, "p", NULL);
    if (l.n == 0)
        cu_html_text(&h, state < 0 ? "There are no open rights requests."
                                   : "There are no rights requests in this state.");
    else
        cu_html_textf(&h, "%zu %s, %zu overdue. Overdue requests first, then by due date.",
                      l.n, l.n == 1 ? "request" : "requests", late);
    cu_html_close(&h, "p");
    size_t first = (size_t)(pageno - 1) * REQUESTS_PER_PAGE;
    size_t last = first + REQUESTS_PER_PAGE < l.n ? first + REQUESTS_PER_PAGE : l.n;
    if (first < last) {
        static const char *const heads[] = {"Request", "State", "Received", "Due",
                                            "Time left"};
        cu_html_table_open(&h, "Rights requests, overdue first", true, heads, 5);
        for (size_t i = first; i < last; i++) {
            const cu_request_view *v = &l.rows[i].v;
            char recv[40], due[40], left[48];
            day_of(v->rec.received_on, recv, sizeof recv);
            if (v->has_clock && v->clock_started) {
                char ymd[11];
                cu_rq_date_str(v->dl.due, ymd);
                day_of(ymd, due, sizeof due);
            } else {
                cu_strlcpy(due, "Not started", sizeof due);
            }
            clock_words(v, left, sizeof left);
            cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
            cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
            request_link(&h, c, v);
            cu_html_close(&h, "td");
            cu_html_elem(&h, "td", state_words(v->rec.state), "class", "nhsuk-table__cell",
                         NULL);
            cu_html_elem(&h, "td", recv, "class", "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", due, "class", "nhsuk-table__cell", NULL);
            cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
            if (overdue(v))
                cu_html_elem(&h, "strong", left, "class", "nhsuk-tag nhsuk-tag--red", NULL);
            else
                cu_html_text(&h, left);
            cu_html_close(&h, "td");
            cu_html_close(&h, "tr");
        }
        cu_html_table_close(&h);
    }
    if (l.more) {
        cu_html_open(&h, "p", NULL);
        cu_html_textf(&h, "%zu more requests are not shown.", l.more);
        cu_html_close(&h, "p");
    }
    char prefix[64] = "requests?";
    if (state >= 0) /* a state's name: letters and '_' only */
        snprintf(prefix, sizeof prefix, "requests?state=%s&", qs);
    cu_console_pagination(&h, &(cu_pages_nav){.label = "Pages of requests", .prefix = prefix,
                                              .page = pageno, .pages = pages});
    cu_page_end(&h);
    free(l.rows);
    cu_console_finish(&h, c->resp, 200, &page);
}

/* ---- one request ---- */

typedef struct ev_row {
    int64_t at;
    char on[11], actor[65], action[32], to[32];
    char why[MAX_NOTE + 4];
} ev_row;

typedef struct ev_list {
    ev_row rows[MAX_EVENTS];
    size_t n, more;
} ev_list;

static int collect_event(void *ctx, const cu_request_event_view *e)
{
    ev_list *l = ctx;
    if (l->n == MAX_EVENTS) {
        l->more++;
        return CU_OK;
    }
    ev_row *r = &l->rows[l->n++];
    r->at = e->at;
    cu_strlcpy(r->on, e->on_date ? e->on_date : "", sizeof r->on);
    cu_strlcpy(r->actor, e->actor ? e->actor : "", sizeof r->actor);
    cu_strlcpy(r->action, e->action ? e->action : "", sizeof r->action);
    cu_strlcpy(r->to, e->to_state ? e->to_state : "", sizeof r->to);
    size_t n = e->why && e->why_len < MAX_NOTE ? e->why_len : (e->why ? MAX_NOTE : 0);
    if (n)
        memcpy(r->why, e->why, n);
    r->why[n] = '\0';
    if (e->why && e->why_len > MAX_NOTE)
        cu_strlcpy(r->why + n, "...", sizeof r->why - n);
    return CU_OK;
}

static void text_field(cu_html *h, const char *id, const char *label, const char *hint,
                       bool area)
{
    char hint_id[48];
    snprintf(hint_id, sizeof hint_id, "%s-hint", id);
    cu_html_open(h, "div", "class", "nhsuk-form-group", NULL);
    cu_html_elem(h, "label", label, "class", "nhsuk-label", "for", id, NULL);
    if (hint)
        cu_html_elem(h, "div", hint, "class", "nhsuk-hint", "id", hint_id, NULL);
    if (area)
        cu_html_elem(h, "textarea", "", "class", "nhsuk-textarea", "id", id, "name", id,
                     "rows", "3", "aria-describedby", hint ? hint_id : NULL, NULL);
    else
        cu_html_void(h, "input", "class", "nhsuk-input nhsuk-u-width-two-thirds", "id", id,
                     "name", id, "type", "text", "spellcheck", "false", "aria-describedby",
                     hint ? hint_id : NULL, NULL);
    cu_html_close(h, "div");
}

/* One form per transition allowed from the request's state, each with the
 * fields that transition needs. */
static void transition_forms(cu_html *h, const cu_console *c, const cu_request_view *v)
{
    int from = cu_rq_state_parse(v->rec.state);
    int prior = cu_rq_state_parse(v->rec.paused_from);
    char to[96], action[160];
    snprintf(to, sizeof to, "/staff/requests/%s", v->rec.id);
    cu_console_link(c, to, action, sizeof action);
    size_t shown = 0;
    for (int t = 0; from >= 0 && t < CU_RQ_TRANSITION_COUNT; t++) {
        if (cu_rq_next((cu_rq_state)from, (cu_rq_transition)t,
                       prior < 0 ? CU_RQ_RECEIVED : (cu_rq_state)prior) < 0)
            continue;
        if (shown++ == 0)
            cu_html_elem(h, "h2", "What happens next", NULL);
        const char *name = cu_rq_transition_name((cu_rq_transition)t);
        char id[48];
        cu_html_open(h, "details", "class", "nhsuk-details", NULL);
        cu_html_open(h, "summary", "class", "nhsuk-details__summary", NULL);
        cu_html_elem(h, "span", TRANSITION_WORDS[t].button, "class",
                     "nhsuk-details__summary-text", NULL);
        cu_html_close(h, "summary");
        cu_html_open(h, "div", "class", "nhsuk-details__text", NULL);
        cu_html_open(h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON,
                     NULL);
        cu_console_csrf(h, c);
        cu_html_void(h, "input", "type", "hidden", "name", "action", "value", name, NULL);
        cu_html_void(h, "input", "type", "hidden", "name", "from", "value", v->rec.state,
                     NULL);
        snprintf(id, sizeof id, "why-%s", name);
        text_field(h, id, "Reason or note", "Recorded in the request's history.", true);
        if (t == CU_RQ_VERIFY) {
            snprintf(id, sizeof id, "subject-%s", name);
            text_field(h, id, "Patient record identifier",
                       "The record of the person whose identity you checked.", false);
        } else if (t == CU_RQ_EXTEND) {
            snprintf(id, sizeof id, "told_on-%s", name);
            text_field(h, id, "Date the person was told, as YYYY-MM-DD",
                       "No later than one month after the clock started.", false);
        } else if (t == CU_RQ_REFUSE) {
            snprintf(id, sizeof id, "grounds-%s", name);
            cu_html_open(h, "div", "class", "nhsuk-form-group", NULL);
            cu_html_elem(h, "label", "Grounds", "class", "nhsuk-label", "for", id, NULL);
            cu_html_open(h, "select", "class", "nhsuk-select", "id", id, "name", id, NULL);
            static const struct {
                const char *v, *w;
            } g[] = {{"manifestly_unfounded", "Manifestly unfounded"},
                     {"manifestly_excessive", "Manifestly excessive"},
                     {"exemption", "An exemption applies"},
                     {"identity_not_verified", "Identity not verified"}};
            for (size_t i = 0; i < 4; i++)
                cu_html_elem(h, "option", g[i].w, "value", g[i].v, NULL);
            cu_html_close(h, "select");
            cu_html_close(h, "div");
            snprintf(id, sizeof id, "ico-%s", name);
            cu_html_open(h, "div", "class", "nhsuk-checkboxes nhsuk-form-group", NULL);
            cu_html_open(h, "div", "class", "nhsuk-checkboxes__item", NULL);
            cu_html_void(h, "input", "class", "nhsuk-checkboxes__input", "id", id, "name", id,
                         "type", "checkbox", "value", "yes", NULL);
            cu_html_elem(h, "label",
                         "The reply told the person they may complain to the Information "
                         "Commissioner's Office and seek a remedy through the courts",
                         "class", "nhsuk-label nhsuk-checkboxes__label", "for", id, NULL);
            cu_html_close(h, "div");
            cu_html_close(h, "div");
        }
        cu_html_elem(h, "button", TRANSITION_WORDS[t].button, "type", "submit", "class",
                     t == CU_RQ_REFUSE || t == CU_RQ_WITHDRAW
                         ? "nhsuk-button nhsuk-button--secondary"
                         : "nhsuk-button",
                     NULL);
        cu_html_close(h, "form");
        cu_html_close(h, "div");
        cu_html_close(h, "details");
    }
}

static void package_links(cu_html *h, const cu_console *c, const cu_request_view *v)
{
    bool access = strcmp(v->rec.kind, "access") == 0;
    if (!access && strcmp(v->rec.kind, "portability") != 0)
        return;
    cu_html_elem(h, "h2", access ? "The access package" : "The portable copy", NULL);
    if (!v->rec.subject_id[0]) {
        cu_html_elem(h, "p",
                     "The package can be made once the person's identity is verified and "
                     "the request is linked to their record.",
                     NULL);
        return;
    }
    cu_html_elem(h, "p",
                 "Each copy is made when you open it and is recorded in the person's "
                 "access log.",
                 NULL);
    static const struct {
        const char *fmt, *label;
        bool download, portable_too;
    } f[] = {{"html", "Read the letter", false, false},
             {"json", "Download as JSON", true, true},
             {"fhir", "Download as a FHIR bundle", true, true}};
    cu_html_open(h, "ul", "class", "nhsuk-list", NULL);
    for (size_t i = 0; i < 3; i++) {
        if (!access && !f[i].portable_too)
            continue;
        char to[160], href[200];
        snprintf(to, sizeof to, "/staff/patients/%s/%s?format=%s", v->rec.subject_id,
                 access ? "access-package" : "portable-copy", f[i].fmt);
        cu_console_link(c, to, href, sizeof href);
        cu_html_open(h, "li", NULL);
        cu_html_elem(h, "a", f[i].label, "href", href, "download",
                     f[i].download ? CU_HTML_ON : NULL, NULL);
        cu_html_close(h, "li");
    }
    cu_html_close(h, "ul");
}

void cu_console_request(cu_console *c)
{
    cu_err err = {0};
    cu_request_view v;
    ev_list *ev = calloc(1, sizeof *ev);
    if (!ev) {
        cu_api_problem(c->resp, CU_P_UNAVAILABLE, NULL);
        return;
    }
    int rc = cu_request_show(cu_api_vault(c->api), &c->actor, c->req->route.subject, &v,
                             collect_event, ev, &err);
    if (rc) {
        cu_wipe(ev, sizeof *ev);
        free(ev);
        refused_page(c, rc == CU_EINVAL ? CU_ENOTFOUND : rc, &err, "Rights requests");
        return;
    }
    char title[96], day[40], left[48];
    snprintf(title, sizeof title, "%s request", kind_words(v.rec.kind));
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, title, true);
    cu_html_elem(&h, "h1", title, NULL);
    cu_html_open(&h, "dl", "class", "nhsuk-summary-list", NULL);
    cu_console_summary_row(&h, "State", state_words(v.rec.state));
    day_of(v.rec.received_on, day, sizeof day);
    cu_console_summary_row(&h, "Received", day);
    if (v.has_clock && v.clock_started) {
        char ymd[11];
        cu_rq_date_str(v.dl.due, ymd);
        day_of(ymd, day, sizeof day);
        cu_console_summary_row(&h, "Due", day);
    }
    clock_words(&v, left, sizeof left);
    cu_console_summary_row(&h, "Time left", left);
    cu_console_summary_row(&h, "Linked to a patient record",
                           v.rec.subject_id[0] ? "Yes" : "Not yet");
    cu_html_close(&h, "dl");

    transition_forms(&h, c, &v);
    package_links(&h, c, &v);
    if (strcmp(v.rec.kind, "erasure") == 0) {
        cu_html_elem(&h, "h2", "The erasure", NULL);
        if (v.rec.subject_id[0]) {
            char to[96], href[160];
            snprintf(to, sizeof to, "/staff/patients/%s/erasure", v.rec.subject_id);
            cu_console_link(c, to, href, sizeof href);
            cu_html_open(&h, "p", NULL);
            cu_html_elem(&h, "a", "See what would be erased and what is kept", "href", href,
                         NULL);
            cu_html_close(&h, "p");
        } else {
            cu_html_elem(&h, "p",
                         "The plan can be seen once the person's identity is verified and the "
                         "request is linked to their record.",
                         NULL);
        }
    }

    cu_html_elem(&h, "h2", "History", NULL);
    static const char *const heads[] = {"When", "What", "State after", "By", "Note"};
    cu_html_table_open(&h, "The request's history, oldest first", true, heads, 5);
    for (size_t i = 0; i < ev->n; i++) {
        const ev_row *e = &ev->rows[i];
        char when[CU_HTML_TIME_LEN];
        cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
        cu_html_elem(&h, "td", cu_html_datetime(e->at, when), "class", "nhsuk-table__cell",
                     NULL);
        cu_html_elem(&h, "td", action_words(e->action), "class", "nhsuk-table__cell", NULL);
        cu_html_elem(&h, "td", state_words(e->to), "class", "nhsuk-table__cell", NULL);
        cu_html_elem(&h, "td", e->actor, "class", "nhsuk-table__cell", NULL);
        cu_html_elem(&h, "td", e->why[0] ? e->why : "None", "class", "nhsuk-table__cell",
                     NULL);
        cu_html_close(&h, "tr");
    }
    cu_html_table_close(&h);
    if (ev->more) {
        cu_html_open(&h, "p", NULL);
        cu_html_textf(&h, "%zu later changes are not shown.", ev->more);
        cu_html_close(&h, "p");
    }
    char back[128];
    cu_console_link(c, "/staff/requests", back, sizeof back);
    cu_html_open(&h, "p", NULL);
    cu_html_elem(&h, "a", "Back to rights requests", "href", back, NULL);
    cu_html_close(&h, "p");
    cu_page_end(&h);
    cu_wipe(ev, sizeof *ev);
    free(ev);
    cu_console_finish(&h, c->resp, 200, &page);
}

static void nothing_changed(cu_console *c, int status, const char *para)
{
    char back[96];
    snprintf(back, sizeof back, "/staff/requests/%s", c->req->route.subject);
    cu_console_message(c, status, "Nothing was changed", para, back);
}

static const char *form_value(const cu_form *f, const char *field, const char *action)
{
    char name[64];
    snprintf(name, sizeof name, "%s-%s", field, action);
    const char *s = cu_form_get(f, name);
    return s && *s ? s : NULL;
}

void cu_console_request_change(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    const char *act = cu_form_get(&form, "action");
    const char *from = cu_form_get(&form, "from");
    int t = act ? cu_rq_transition_parse(act) : -1;
    if (t < 0 || !from || cu_rq_state_parse(from) < 0) {
        cu_form_free(&form);
        nothing_changed(c, 400, "The form did not say what to change. Go back to the "
                                "request, reload it and try again.");
        return;
    }
    const char *why = form_value(&form, "why", act);
    const char *subject = form_value(&form, "subject", act);
    const char *told_on = form_value(&form, "told_on", act);
    const char *grounds = form_value(&form, "grounds", act);
    const char *ico = form_value(&form, "ico", act);
    const char *missing = NULL;
    if (!why)
        missing = "Enter a reason or note: every change is recorded with one.";
    else if (strlen(why) > CU_RQ_MAX_TEXT)
        missing = "Enter a reason or note of 4096 characters or fewer.";
    else if (t == CU_RQ_VERIFY && !subject)
        missing = "Enter the patient record identifier of the person whose identity you "
                  "checked.";
    else if (t == CU_RQ_EXTEND && !told_on)
        missing = "Enter the date the person was told of the extension.";
    else if (t == CU_RQ_REFUSE && (!grounds || !cu_rq_grounds_valid(grounds)))
        missing = "Choose the grounds of the refusal.";
    else if (t == CU_RQ_REFUSE && !ico)
        missing = "A refusal needs the reply to have told the person of their right to "
                  "complain to the Information Commissioner's Office.";
    if (missing) {
        cu_form_free(&form);
        nothing_changed(c, 400, missing);
        return;
    }
    cu_err err = {0};
    cu_request_view v;
    /* The state the page showed: a change from a stale page is refused
     * rather than applied to a state its author did not see. */
    int rc = cu_request_show(cu_api_vault(c->api), &c->actor, c->req->route.subject, &v, NULL,
                             NULL, &err);
    if (!rc && strcmp(v.rec.state, from) != 0) {
        cu_form_free(&form);
        nothing_changed(c, 409, "The request changed since the page was shown. Go back to "
                                "the request to see where it stands now.");
        return;
    }
    if (!rc) {
        cu_rq_change ch = {.t = (cu_rq_transition)t, .why = why, .why_len = strlen(why),
                           .subject_id = t == CU_RQ_VERIFY ? subject : NULL,
                           .told_on = t == CU_RQ_EXTEND ? told_on : NULL,
                           .grounds = t == CU_RQ_REFUSE ? grounds : NULL,
                           .ico_route_stated = t == CU_RQ_REFUSE && ico};
        rc = cu_request_change(cu_api_vault(c->api), &c->actor, c->req->route.subject, &ch,
                               NULL, &err);
    }
    cu_form_free(&form);
    char to[96];
    snprintf(to, sizeof to, "/staff/requests/%s", c->req->route.subject);
    switch (rc) {
    case CU_OK: cu_console_redirect(c->req, c->resp, to); break;
    case CU_ECONFLICT:
        nothing_changed(c, 409, "This change is not allowed from the request's state now. "
                                "Go back to the request to see where it stands.");
        break;
    case CU_EINVAL:
        nothing_changed(c, 400, "Something in the form was not accepted, such as a date "
                                "or a patient record that does not exist. Go back and check "
                                "it.");
        break;
    case CU_ENOTFOUND:
    case CU_ECONCEALED:
    case CU_EDENIED: refused_page(c, rc, &err, "Rights requests"); break;
    default: cu_api_fail(c->resp, &err); break;
    }
}

/* ---- the access package ---- */

typedef struct render_ctx {
    cu_sar_format format;
    cu_buf out;
} render_ctx;

static int render_cb(void *ctx, const cu_sar *sar, cu_err *err)
{
    render_ctx *r = ctx;
    return cu_sar_render(sar, r->format, &r->out, err);
}

static void package(cu_console *c, bool portable)
{
    const char *fmt = c->req->q_format ? c->req->q_format : "html";
    int f = cu_sar_format_from_name(fmt);
    if (f < 0 || (portable && f == CU_SAR_HTML)) {
        cu_console_message(c, 400, "There is no such format",
                           portable ? "The portable copy is made as JSON or a FHIR bundle."
                                    : "The access package is made as a letter, JSON or a "
                                      "FHIR bundle.",
                           "/staff/requests");
        return;
    }
    cu_err err = {0};
    render_ctx r = {.format = (cu_sar_format)f};
    cu_buf_init(&r.out, (size_t)256 << 20);
    cu_sar_request sreq = {.portable = portable};
    int rc = cu_sar_run(cu_api_vault(c->api), &c->actor, c->req->route.subject, &sreq,
                        render_cb, &r, &err);
    if (rc == CU_EDENIED || rc == CU_ECONCEALED || rc == CU_ENOTFOUND || rc == CU_EERASED ||
        rc == CU_EINVAL)
        cu_console_message(c, 403, "You cannot see this package",
                           "Access packages are for the Data Protection Officer. The attempt "
                           "has been recorded.",
                           "/staff/requests");
    else if (rc)
        cu_api_fail(c->resp, &err);
    else
        cu_api_raw(c->resp, 200, &r.out, cu_sar_content_type((cu_sar_format)f));
    cu_buf_release(&r.out);
}

void cu_console_access_package(cu_console *c)
{
    package(c, false);
}

void cu_console_portable_copy(cu_console *c)
{
    package(c, true);
}

/* ---- the policy ---- */

static bool load_policy(cu_console *c, cu_policy **p)
{
    *p = NULL;
    if (!(c->who.roles & (CU_ROLE_DPO | CU_ROLE_ADMIN)) || !c->who.controller_id[0]) {
        cu_console_message(c, 403, "You cannot see this page",
                           "The policy is for the Data Protection Officer.", "/staff");
        return false;
    }
    cu_err err = {0};
    int rc = cu_policy_load(cu_api_vault(c->api), c->who.controller_id, 0, p, &err);
    if (rc == CU_ENOTFOUND) {
        cu_console_message(c, 404, "There is no policy yet",
                           "No policy has been applied for your organisation.", "/staff");
        return false;
    }
    if (rc) {
        cu_api_fail(c->resp, &err);
        return false;
    }
    return true;
}

void cu_console_policy(cu_console *c)
{
    cu_policy *p;
    if (!load_policy(c, &p))
        return;
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, "Policy", true);
    cu_html_elem(&h, "h1", "Policy", NULL);
    char date[CU_HTML_DATE_LEN];
    cu_html_open(&h, "p", NULL);
    cu_html_textf(&h, "Version %lld, applied on %s.", (long long)p->version,
                  cu_html_date(p->applied_at, date));
    cu_html_close(&h, "p");
    char notice[128], record[128];
    cu_console_link(c, "/staff/policy/notice", notice, sizeof notice);
    cu_console_link(c, "/staff/policy/record", record, sizeof record);
    cu_html_open(&h, "ul", "class", "nhsuk-list", NULL);
    cu_html_open(&h, "li", NULL);
    cu_html_elem(&h, "a", "Read the privacy notice", "href", notice, NULL);
    cu_html_close(&h, "li");
    cu_html_open(&h, "li", NULL);
    cu_html_elem(&h, "a", "Download the record of processing (Article 30) as CSV", "href",
                 record, "download", CU_HTML_ON, NULL);
    cu_html_close(&h, "li");
    cu_html_close(&h, "ul");

    cu_html_elem(&h, "h2", "Purposes and lawful bases", NULL);
    if (p->npurposes == 0)
        cu_html_elem(&h, "p", "The policy declares no purposes.", NULL);
    else {
        static const char *const heads[] = {"Purpose", "Lawful basis", "Special category "
                                                                       "condition",
                                            "Kept"};
        cu_html_table_open(&h, "Purposes", true, heads, 4);
        for (size_t i = 0; i < p->npurposes; i++) {
            const cu_pol_purpose *u = &p->purposes[i];
            char kept[256];
            if (u->retention < p->nretention)
                cu_wording_retention(&p->retention[u->retention], kept, sizeof kept);
            else
                cu_strlcpy(kept, "Not stated", sizeof kept);
            cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
            cu_html_elem(&h, "td", u->description ? u->description : u->id, "class",
                         "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", cu_wording_basis_explained(u->basis), "class",
                         "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td",
                         u->special_condition ? cu_wording_special(u->special_condition)
                                              : "None",
                         "class", "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", kept, "class", "nhsuk-table__cell", NULL);
            cu_html_close(&h, "tr");
        }
        cu_html_table_close(&h);
    }
    cu_html_elem(&h, "h2", "Retention", NULL);
    if (p->nretention == 0)
        cu_html_elem(&h, "p", "The policy declares no retention rules.", NULL);
    else {
        static const char *const heads[] = {"Rule", "How long", "On an erasure request"};
        cu_html_table_open(&h, "Retention rules", true, heads, 3);
        for (size_t i = 0; i < p->nretention; i++) {
            const cu_pol_retention *r = &p->retention[i];
            char kept[256];
            cu_wording_retention(r, kept, sizeof kept);
            cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
            cu_html_elem(&h, "td", r->description ? r->description : r->id, "class",
                         "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", kept, "class", "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", r->erase_on_request ? "Erased at once" : "Kept as stated",
                         "class", "nhsuk-table__cell", NULL);
            cu_html_close(&h, "tr");
        }
        cu_html_table_close(&h);
    }
    cu_page_end(&h);
    cu_policy_free(p);
    cu_console_finish(&h, c->resp, 200, &page);
}

void cu_console_policy_notice(cu_console *c)
{
    cu_policy *p;
    if (!load_policy(c, &p))
        return;
    cu_err err = {0};
    cu_buf out;
    cu_buf_init(&out, 0);
    int rc = cu_notice_render_page(p, CU_NOTICE_HTML, c->assets, &out, &err);
    cu_policy_free(p);
    if (rc)
        cu_api_fail(c->resp, &err);
    else
        cu_api_raw(c->resp, 200, &out, "text/html; charset=utf-8");
    cu_buf_release(&out);
}

void cu_console_policy_record(cu_console *c)
{
    cu_policy *p;
    if (!load_policy(c, &p))
        return;
    cu_err err = {0};
    cu_buf out;
    cu_buf_init(&out, 0);
    const cu_policy *pols[1] = {p};
    const char *ids[1] = {c->who.controller_id};
    int rc = cu_ropa_render(pols, ids, 1, CU_ROPA_CSV, &out, &err);
    cu_policy_free(p);
    if (rc)
        cu_api_fail(c->resp, &err);
    else
        cu_api_raw(c->resp, 200, &out, "text/csv; charset=utf-8");
    cu_buf_release(&out);
}

/* ---- erasure: the plan, a confirmation, then the certificate ---- */

static const char *erasure_reason(const char *reason)
{
    static const cu_wording_pair m[] = {
        {"no-policy", "Kept: no policy has been applied"},
        {"no-purpose", "Erased: no purpose of the policy needs it"},
        {"trigger-date-unknown", "Kept: the date its retention period starts from is not known"},
        {"retention-period", "Kept: its retention period has not ended"},
        {"erase-on-request", "Erased: the policy erases it on request"},
        {"retention-ended", "Erased: its retention period has ended"},
    };
    const char *w = CU_WORDING_LOOKUP(m, reason);
    return w ? w : "Decided by the policy";
}

/* The plan's items, erased or kept (granted selects which). */
static void erasure_table(cu_html *h, const cu_erasure_result *r, bool granted)
{
    static const char *const heads[] = {"Item", "Category", "Recorded", "Why"};
    size_t shown = 0;
    for (size_t i = 0; i < r->n; i++) {
        const cu_erasure_line *l = &r->lines[i];
        if (l->granted != granted)
            continue;
        if (shown++ == 0)
            cu_html_table_open(h, granted ? "What will be erased" : "What is kept", true, heads,
                               4);
        char field[160], date[CU_HTML_DATE_LEN], why[160];
        cu_wording_field(l->field, field, sizeof field);
        snprintf(why, sizeof why, "%s", erasure_reason(l->reason));
        if (!granted && l->earliest) {
            size_t used = strlen(why);
            snprintf(why + used, sizeof why - used, " (until %s)",
                     cu_html_date(l->earliest, date));
        }
        int cat = cu_category_from_name(l->category);
        cu_html_open(h, "tr", "class", "nhsuk-table__row", NULL);
        cu_html_elem(h, "td", field, "class", "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", cat >= 0 ? cu_wording_category(cat) : "Other", "class",
                     "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", cu_html_date(l->collected_at, date), "class",
                     "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", why, "class", "nhsuk-table__cell", NULL);
        cu_html_close(h, "tr");
    }
    if (shown)
        cu_html_table_close(h);
    else
        cu_html_elem(h, "p", granted ? "Nothing will be erased." : "Nothing is kept.", NULL);
}

static void erasure_refused(cu_console *c, int rc, cu_err *err)
{
    if (rc == CU_EDENIED || rc == CU_ECONCEALED || rc == CU_ENOTFOUND || rc == CU_EERASED ||
        rc == CU_EINVAL)
        cu_console_message(c, rc == CU_EERASED ? 410 : 403, "This record cannot be erased here",
                           rc == CU_EERASED
                               ? "This record has already been erased."
                               : "Erasure is for the Data Protection Officer, and only where "
                                 "the policy allows it. The attempt has been recorded.",
                           "/staff/requests");
    else
        cu_api_fail(c->resp, err);
}

void cu_console_erasure(cu_console *c)
{
    cu_err err = {0};
    cu_erasure_result r;
    memset(&r, 0, sizeof r);
    int rc = cu_erasure_plan(cu_api_vault(c->api), &c->actor, c->req->route.subject,
                             &(cu_erasure_opts){0}, &r, &err);
    if (rc) {
        cu_erasure_result_release(&r);
        erasure_refused(c, rc, &err);
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, "Erasure plan", true);
    cu_html_elem(&h, "h1", "Erasure plan", NULL);
    cu_html_open(&h, "p", NULL);
    cu_html_textf(&h, "%zu %s will be erased and %zu kept under the policy in force.",
                  r.ngranted, r.ngranted == 1 ? "item" : "items", r.nkept);
    cu_html_close(&h, "p");
    cu_html_elem(&h, "h2", "What will be erased", NULL);
    erasure_table(&h, &r, true);
    cu_html_elem(&h, "h2", "What is kept, and why", NULL);
    erasure_table(&h, &r, false);
    if (r.ngranted) {
        char to[96], action[160];
        snprintf(to, sizeof to, "/staff/patients/%s/erasure", c->req->route.subject);
        cu_console_link(c, to, action, sizeof action);
        cu_html_elem(&h, "h2", "Erase", NULL);
        cu_html_open(&h, "div", "class", "nhsuk-warning-callout", NULL);
        cu_html_open(&h, "h3", "class", "nhsuk-warning-callout__label", NULL);
        cu_html_elem(&h, "span", "Important: ", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_text(&h, "This cannot be undone");
        cu_html_close(&h, "h3");
        cu_html_elem(&h, "p",
                     "The items above are destroyed for good, and erased again if a backup "
                     "is restored. Erasing health data needs your approval: this step "
                     "gives it.",
                     NULL);
        cu_html_close(&h, "div");
        cu_html_open(&h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON,
                     NULL);
        cu_console_csrf(&h, c);
        cu_html_void(&h, "input", "type", "hidden", "name", "plan", "value", r.digest, NULL);
        cu_html_open(&h, "div", "class", "nhsuk-checkboxes nhsuk-form-group", NULL);
        cu_html_open(&h, "div", "class", "nhsuk-checkboxes__item", NULL);
        cu_html_void(&h, "input", "class", "nhsuk-checkboxes__input", "id", "confirm", "name",
                     "confirm", "type", "checkbox", "value", "yes", NULL);
        cu_html_elem(&h, "label", "I have checked this plan and approve the erasure", "class",
                     "nhsuk-label nhsuk-checkboxes__label", "for", "confirm", NULL);
        cu_html_close(&h, "div");
        cu_html_close(&h, "div");
        cu_html_elem(&h, "button", "Erase these items", "type", "submit", "class",
                     "nhsuk-button nhsuk-button--warning", NULL);
        cu_html_close(&h, "form");
    }
    cu_page_end(&h);
    cu_erasure_result_release(&r);
    cu_console_finish(&h, c->resp, 200, &page);
}

void cu_console_erasure_execute(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    char back[96], digest[CU_PLAN_DIGEST_STRLEN] = "";
    snprintf(back, sizeof back, "/staff/patients/%s/erasure", c->req->route.subject);
    const char *plan = cu_form_get(&form, "plan");
    bool confirmed = cu_form_count(&form, "confirm") == 1;
    if (plan && strlen(plan) < sizeof digest)
        cu_strlcpy(digest, plan, sizeof digest);
    cu_form_free(&form);
    if (!confirmed || !digest[0]) {
        cu_console_message(c, 400, "Nothing was erased",
                           "Tick the box to confirm you have checked the plan, then erase.",
                           back);
        return;
    }
    cu_err err = {0};
    cu_erasure_result r;
    memset(&r, 0, sizeof r);
    int rc = cu_erasure_execute(cu_api_vault(c->api), &c->actor, c->req->route.subject,
                                &(cu_erasure_opts){.approve = digest}, &r, &err);
    if (rc == CU_EDENIED && r.digest[0] && strcmp(r.digest, digest) != 0) {
        cu_erasure_result_release(&r);
        cu_console_message(c, 409, "Nothing was erased",
                           "The plan changed since you checked it. Go back to the plan, check "
                           "it again and confirm.",
                           back);
        return;
    }
    if (rc) {
        cu_erasure_result_release(&r);
        erasure_refused(c, rc, &err);
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, "Certificate of erasure", true);
    cu_html_elem(&h, "h1", "Certificate of erasure", NULL);
    char when[CU_HTML_TIME_LEN];
    cu_html_open(&h, "dl", "class", "nhsuk-summary-list", NULL);
    cu_console_summary_row(&h, "Erased on", cu_html_datetime(r.executed_at, when));
    char n[32];
    snprintf(n, sizeof n, "%zu", r.ngranted);
    cu_console_summary_row(&h, "Items erased", n);
    snprintf(n, sizeof n, "%zu", r.nkept);
    cu_console_summary_row(&h, "Items kept", n);
    cu_console_summary_row(&h, "The whole record", r.whole_subject ? "Yes" : "No");
    cu_console_summary_row(&h, "Health data approved by",
                           r.approved_by[0] ? r.approved_by : "Not needed");
    snprintf(n, sizeof n, "%zu", r.nrecipients);
    cu_console_summary_row(&h, "Recipients to tell (Article 19)", n);
    cu_console_summary_row(&h, "Plan", r.digest);
    cu_html_close(&h, "dl");
    cu_html_elem(&h, "h2", "What was erased", NULL);
    erasure_table(&h, &r, true);
    cu_html_elem(&h, "h2", "What is kept, and why", NULL);
    erasure_table(&h, &r, false);
    cu_html_elem(&h, "p",
                 "Print or save this page: the erasure is in the audit trail and the erasure "
                 "ledger, and this page cannot be shown again.",
                 NULL);
    cu_page_end(&h);
    cu_erasure_result_release(&r);
    cu_console_finish(&h, c->resp, 200, &page);
}
