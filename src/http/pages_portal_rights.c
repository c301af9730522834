/*
 * pages_portal_rights.c — a signed-in patient's consents and rights requests
 * on the portal, and the page where an invitation's code is typed from a
 * letter.
 *
 * GET /portal/consents lists every purpose of the controller's policy that
 * relies on consent, in the policy's words, with the patient's choice (given
 * on a date, withdrawn on a date, never asked) and one button each, "Give
 * consent" or "Withdraw consent", of the same weight: withdrawing is as easy
 * as giving. The page is one audited read of the patient's consent history
 * (consent.read); POST /portal/consents records one choice (consent.give or
 * consent.withdraw, method portal, the policy version recorded), the patient
 * the actor. The form names only a purpose and a choice: the subject is the
 * one signed in, and a form naming anything else is refused.
 *
 * GET /portal/requests is a form to make a rights request and the list of
 * the patient's own requests, newest first, in pages (portal.requests, one
 * audited operation); POST /portal/requests makes one (request.receive,
 * channel portal), verified at once by the sign-in so that its clock runs
 * from the day of receipt (cu_request_receive_own).
 *
 * GET /portal/invitation asks for the code printed in an invitation letter;
 * POST takes it (either case, spaces and dashes ignored) and sends the
 * patient on to the invitation's password form. A wrong code gets one
 * answer, "not recognised", and counts as a failed sign-in from the address
 * (the sign-in throttle).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/consent.h"
#include "domain/portal.h"
#include "domain/requests.h"
#include "http/api_impl.h"
#include "http/console.h"
#include "http/form.h"
#include "http/pages_util.h"
#include "http/portal_pages.h"
#include "http/websec.h"
#include "iface/html.h"
#include "iface/wording.h"
#include "util/clock.h"

#define SERVICE "Patient portal"

/* ---- consents ---- */

/* The latest record of purpose among the patient's history (NULL: none). */
static const cu_consent_view *latest(const cu_consent_list *l, const char *purpose)
{
    const cu_consent_view *last = NULL;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].purpose, purpose) == 0)
            last = &l->v[i];
    return last;
}

static void refused_page(cu_portal_page *c, int rc, const cu_err *err)
{
    if (rc == CU_EDENIED || rc == CU_ECONCEALED || rc == CU_ENOTFOUND || rc == CU_EERASED)
        cu_portal_message(c, 403, "This page cannot be shown",
                          "Contact your care team. They can tell you why.");
    else
        cu_api_fail(c->resp, err);
}

/* A purpose's card: its words as heading (id is what the form posts), the
 * choice in force and one button to change it. */
static void consent_card(cu_html *h, cu_portal_page *c, const char *id, const char *words,
                         const cu_consent_view *last, const char *action)
{
    char when[CU_HTML_DATE_LEN];
    bool given = last && last->given;
    cu_html_open(h, "div", "class", "nhsuk-card", NULL);
    cu_html_open(h, "div", "class", "nhsuk-card__content", NULL);
    cu_html_elem(h, "h2", words, "class", "nhsuk-card__heading nhsuk-heading-m", NULL);
    cu_html_open(h, "p", "class", "nhsuk-card__description", NULL);
    if (!last)
        cu_html_text(h, "You have not been asked yet.");
    else
        cu_html_textf(h, "%s on %s.", given ? "You gave your consent" : "You withdrew your consent",
                      cu_html_date(last->at, when));
    cu_html_close(h, "p");
    cu_html_open(h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON, NULL);
    cu_portal_csrf_field(h, c);
    cu_html_void(h, "input", "type", "hidden", "name", "purpose", "value", id, NULL);
    cu_html_void(h, "input", "type", "hidden", "name", "choice", "value",
                 given ? "withdraw" : "give", NULL);
    /* One button either way, the same weight: withdrawing is as easy as giving. */
    cu_html_elem(h, "button", given ? "Withdraw consent" : "Give consent", "type", "submit",
                 "class", "nhsuk-button nhsuk-u-margin-bottom-0", NULL);
    cu_html_close(h, "form");
    cu_html_close(h, "div");
    cu_html_close(h, "div");
}

/* The words of purpose as the policy version of last says them, else its
 * name made readable ("research_recall": "Research recall"). */
static void earlier_words(cu_portal_page *c, const cu_consent_view *last, char *out, size_t cap)
{
    cu_policy *old = NULL;
    const cu_pol_purpose *p = NULL;
    if (last->policy_version > 0 &&
        cu_policy_load(cu_api_vault(c->api), last->controller_id, last->policy_version, &old,
                       NULL) == CU_OK)
        p = cu_policy_purpose(old, last->purpose);
    if (p && p->description && p->description[0])
        cu_strlcpy(out, p->description, cap);
    else
        cu_wording_field(last->purpose, out, cap);
    cu_policy_free(old);
}

/* The consents still given for purposes the current policy (cur) no longer
 * asks consent for: each can be withdrawn, none given again. cur is read
 * before any older policy is (a read ends its validity). */
static void earlier_consents(cu_html *h, cu_portal_page *c, const cu_consent_list *l,
                             const cu_policy *cur, const char *action)
{
    size_t *shown = l->n ? calloc(l->n, sizeof *shown) : NULL;
    size_t n = 0;
    if (l->n && !shown) {
        if (!h->rc)
            h->rc = CU_ENOMEM; /* the page fails as one that cannot be written */
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        const cu_consent_view *last = latest(l, l->v[i].purpose);
        if (last != &l->v[i] || !last->given)
            continue; /* not the latest record of its purpose, or withdrawn */
        const cu_pol_purpose *now = cur ? cu_policy_purpose(cur, last->purpose) : NULL;
        if (!now || !now->consent_required)
            shown[n++] = i;
    }
    if (n) {
        cu_html_elem(h, "h2", "Consent you gave for things we no longer ask about", "class",
                     "nhsuk-heading-m", NULL);
        cu_html_elem(h, "p",
                     "We no longer ask for your consent for these, but you gave it before. You "
                     "can withdraw it.",
                     NULL);
    }
    for (size_t k = 0; k < n; k++) {
        const cu_consent_view *last = &l->v[shown[k]];
        char words[256];
        earlier_words(c, last, words, sizeof words);
        consent_card(h, c, last->purpose, words, last, action);
    }
    free(shown);
}

static void consents_page(cu_portal_page *c)
{
    cu_actor a;
    cu_portal_actor(&c->who, c->via, &a);
    cu_consent_list l = {0};
    cu_err err = {0};
    int rc = cu_consent_history(cu_api_vault(c->api), &a, c->who.subject_id, cu_consent_keep,
                                &l, &err);
    if (rc) {
        cu_consent_list_release(&l);
        refused_page(c, rc, &err);
        return;
    }
    /* After the read's transaction: the cached policy is valid until the next. */
    const cu_policy *pol = NULL;
    rc = cu_policy_current(cu_api_vault(c->api), c->who.controller_id, &pol, &err);
    if (rc && rc != CU_ENOTFOUND) {
        cu_consent_list_release(&l);
        cu_api_fail(c->resp, &err);
        return;
    }
    char action[64];
    cu_portal_link_to(c->req, "/portal/consents", action, sizeof action);
    const char *title = "Your consent";
    cu_buf page;
    cu_html h;
    cu_portal_open(&h, &page, c, title, false);
    cu_html_elem(&h, "h1", title, "class", "nhsuk-heading-l", NULL);
    cu_html_elem(&h, "p",
                 "We use your data for these things only if you agree. You can change your "
                 "mind at any time: giving or withdrawing your consent takes one click, and "
                 "withdrawing it does not affect your care.",
                 NULL);
    size_t shown = 0;
    for (size_t i = 0; pol && i < pol->npurposes; i++) {
        const cu_pol_purpose *p = &pol->purposes[i];
        if (!p->consent_required)
            continue;
        consent_card(&h, c, p->id, p->description, latest(&l, p->id), action);
        shown++;
    }
    if (!shown)
        cu_html_elem(&h, "p", "We do not ask for your consent to use your data for anything.",
                     NULL);
    /* pol is not used past here: the older policies are reads of their own. */
    earlier_consents(&h, c, &l, pol, action);
    cu_consent_list_release(&l);
    cu_portal_finish(&h, c, &page);
}

static void consents_submit(cu_portal_page *c)
{
    cu_form form;
    if (!cu_portal_form(c, &form))
        return;
    const char *purpose = cu_form_get(&form, "purpose");
    const char *choice = cu_form_get(&form, "choice");
    /* Only these fields: the subject is the one signed in, never the form's. */
    bool ok = form.n == 3 && cu_form_count(&form, "purpose") == 1 &&
              cu_form_count(&form, "choice") == 1 && purpose && choice &&
              (strcmp(choice, "give") == 0 || strcmp(choice, "withdraw") == 0);
    if (!ok) {
        cu_form_free(&form);
        cu_portal_message(c, 400, "This choice could not be saved",
                          "Go back to the page about your consent, reload it and try again.");
        return;
    }
    cu_actor a;
    cu_portal_actor(&c->who, c->via, &a);
    cu_consent_in in = {.purpose = purpose, .given = strcmp(choice, "give") == 0,
                        .method = "portal"};
    cu_err err = {0};
    int rc = cu_consent_record(cu_api_vault(c->api), &a, c->who.subject_id, &in, NULL, NULL,
                               NULL, &err);
    cu_form_free(&form);
    /* Already withdrawn (a second click): the page shows the choice in force. */
    if (!rc || rc == CU_ECONFLICT)
        cu_portal_redirect(c->req, c->resp, "/portal/consents");
    else if (rc == CU_EINVAL)
        cu_portal_message(c, 400, "This choice could not be saved",
                          "Go back to the page about your consent, reload it and try again.");
    else
        refused_page(c, rc, &err);
}

/* ---- rights requests ---- */

static const struct {
    const char *kind, *label, *hint;
} KINDS[] = {
    {"access", "A copy of your data", "We send you a copy of the information we hold about you."},
    {"rectification", "Correct your data",
     "Something we hold about you is wrong or incomplete. Tell us what below."},
    {"erasure", "Delete your data", "We delete the information we hold about you, unless the "
                                    "law says we must keep it."},
    {"restriction", "Stop using your data for now",
     "We keep your data but do not use it while a problem is looked into."},
    {"objection", "Object to how we use your data",
     "You do not want us to use your data for something. Tell us what below."},
    {"portability", "Your data to take elsewhere",
     "We give you your data in a form another service can read."},
};
#define NKINDS (sizeof KINDS / sizeof KINDS[0])

static const char *kind_label(const char *kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(KINDS[i].kind, kind) == 0)
            return KINDS[i].label;
    return cu_wording_request_kind(kind);
}

/* Where a request stands, in the patient's words. */
static const char *state_words(const char *state)
{
    static const cu_wording_pair m[] = {
        {"received", "We have received your request"},
        {"awaiting_identity", "We need proof of who you are"},
        {"awaiting_clarification", "We need more information from you"},
        {"in_progress", "We are working on it"},
        {"extended", "We are working on it and have told you we need more time"},
        {"fulfilled", "Done"},
        {"refused", "Refused"},
        {"withdrawn", "Withdrawn"},
    };
    const char *w = CU_WORDING_LOOKUP(m, state);
    return w ? w : "We have received your request";
}

typedef struct rq_rows {
    cu_request_view *v;
    size_t n, cap;
} rq_rows;

static int keep_request(void *ctx, const cu_request_view *r)
{
    rq_rows *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        cu_request_view *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return CU_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *r;
    return CU_OK;
}

typedef struct rq_form {
    const char *kind, *details;
    cu_field_error errors[2];
    size_t nerrors;
} rq_form;

static void kind_radios(cu_html *h, const rq_form *f)
{
    const char *error = cu_field_error_for(f->errors, f->nerrors, "kind");
    cu_html_open(h, "div", "class",
                 error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_open(h, "fieldset", "class", "nhsuk-fieldset", "aria-describedby",
                 error ? "kind-error" : NULL, NULL);
    cu_html_open(h, "legend", "class", "nhsuk-fieldset__legend nhsuk-fieldset__legend--m", NULL);
    cu_html_elem(h, "h2", "What do you want to ask for?", "class", "nhsuk-fieldset__heading",
                 NULL);
    cu_html_close(h, "legend");
    if (error) {
        cu_html_open(h, "span", "class", "nhsuk-error-message", "id", "kind-error", NULL);
        cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_textf(h, " %s", error);
        cu_html_close(h, "span");
    }
    cu_html_open(h, "div", "class", "nhsuk-radios", "data-module", "nhsuk-radios", NULL);
    for (size_t i = 0; i < NKINDS; i++) {
        char id[32], hint[40];
        /* The first radio takes the group's id: the error summary links to it. */
        snprintf(id, sizeof id, i ? "kind-%s" : "kind", KINDS[i].kind);
        snprintf(hint, sizeof hint, "kind-%s-hint", KINDS[i].kind);
        bool checked = f->kind && strcmp(f->kind, KINDS[i].kind) == 0;
        cu_html_open(h, "div", "class", "nhsuk-radios__item", NULL);
        cu_html_void(h, "input", "class", "nhsuk-radios__input", "id", id, "name", "kind",
                     "type", "radio", "value", KINDS[i].kind, "aria-describedby", hint,
                     "checked", checked ? CU_HTML_ON : NULL, NULL);
        cu_html_elem(h, "label", KINDS[i].label, "class", "nhsuk-label nhsuk-radios__label",
                     "for", id, NULL);
        cu_html_elem(h, "div", KINDS[i].hint, "class", "nhsuk-hint nhsuk-radios__hint", "id",
                     hint, NULL);
        cu_html_close(h, "div");
    }
    cu_html_close(h, "div");
    cu_html_close(h, "fieldset");
    cu_html_close(h, "div");
}

static void details_box(cu_html *h, const rq_form *f)
{
    const char *error = cu_field_error_for(f->errors, f->nerrors, "details");
    cu_html_open(h, "div", "class",
                 error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_elem(h, "label", "What you want", "class", "nhsuk-label nhsuk-label--s", "for",
                 "details", NULL);
    cu_html_elem(h, "div",
                 "Needed to correct your data or to object: say what is wrong, or what you "
                 "object to. You can add a note to any other request.",
                 "class", "nhsuk-hint", "id", "details-hint", NULL);
    if (error) {
        cu_html_open(h, "span", "class", "nhsuk-error-message", "id", "details-error", NULL);
        cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
        cu_html_textf(h, " %s", error);
        cu_html_close(h, "span");
    }
    cu_html_elem(h, "textarea", f->details ? f->details : "", "class",
                 error ? "nhsuk-textarea nhsuk-textarea--error" : "nhsuk-textarea", "id",
                 "details", "name", "details", "rows", "5", "aria-describedby",
                 error ? "details-hint details-error" : "details-hint", NULL);
    cu_html_close(h, "div");
}

static void requests_table(cu_html *h, cu_portal_page *c, const rq_rows *l, long pageno)
{
    cu_html_elem(h, "h2", "Your requests", "class", "nhsuk-heading-m", "id", "your-requests",
                 NULL);
    if (!l->n) {
        cu_html_elem(h, "p", "You have not made any requests here.", NULL);
        return;
    }
    size_t pages = (l->n + CU_PORTAL_PER_PAGE - 1) / CU_PORTAL_PER_PAGE;
    size_t first = (size_t)(pageno - 1) * CU_PORTAL_PER_PAGE;
    size_t last = first + CU_PORTAL_PER_PAGE < l->n ? first + CU_PORTAL_PER_PAGE : l->n;
    static const char *const heads[] = {"Request", "Received", "Due by", "Where it is"};
    cu_html_table_open(h, "Your requests, newest first", true, heads, 4);
    for (size_t i = first; i < last; i++) {
        const cu_request_view *v = &l->v[i];
        char recv[40] = "Not known", due[40] = "Not set yet";
        cu_date d;
        if (cu_date_parse(v->rec.received_on, strlen(v->rec.received_on), &d))
            cu_wording_day(d, recv, sizeof recv);
        if (v->has_clock && v->clock_started)
            cu_wording_day(v->dl.due, due, sizeof due);
        cu_html_open(h, "tr", "class", "nhsuk-table__row", NULL);
        cu_html_elem(h, "td", kind_label(v->rec.kind), "class", "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", recv, "class", "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", due, "class", "nhsuk-table__cell", NULL);
        cu_html_elem(h, "td", state_words(v->rec.state), "class", "nhsuk-table__cell", NULL);
        cu_html_close(h, "tr");
    }
    cu_html_table_close(h);
    cu_portal_pagination(h, c, "/portal/requests", "Pages of your requests", pageno, pages);
}

/* The form, and the list when l is given (a form with errors comes back
 * without it: the list is a read of its own). */
static void requests_render(cu_portal_page *c, int status, const rq_form *f, const rq_rows *l,
                            long pageno)
{
    char action[64];
    cu_portal_link_to(c->req, "/portal/requests", action, sizeof action);
    const char *title = "Your rights";
    cu_buf page;
    cu_html h;
    cu_portal_open(&h, &page, c, title, l != NULL);
    cu_html_error_summary(&h, f->errors, f->nerrors);
    cu_html_elem(&h, "h1", title, "class", "nhsuk-heading-l", NULL);
    cu_html_elem(&h, "p",
                 "You can ask us to do any of these things with the information we hold about "
                 "you. Because you are signed in, we know it is you: we start on your request "
                 "the day we receive it and answer within one month.",
                 NULL);
    cu_html_open(&h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON, NULL);
    cu_portal_csrf_field(&h, c);
    kind_radios(&h, f);
    details_box(&h, f);
    cu_html_elem(&h, "button", "Send your request", "type", "submit", "class", "nhsuk-button",
                 NULL);
    cu_html_close(&h, "form");
    if (l)
        requests_table(&h, c, l, pageno);
    cu_portal_end(&h, c->resp, status, &page);
}

static void requests_page(cu_portal_page *c)
{
    long pageno;
    if (!cu_page_number(c->req->q_page, 100000, &pageno)) {
        cu_portal_message(c, 400, "This page does not exist",
                          "Go back to the first page of your requests.");
        return;
    }
    cu_actor a;
    cu_portal_actor(&c->who, c->via, &a);
    rq_rows l = {0};
    cu_err err = {0};
    int rc = cu_request_list_own(cu_api_vault(c->api), &a, keep_request, &l, &err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(&err, rc, "out of memory");
    size_t pages = (l.n + CU_PORTAL_PER_PAGE - 1) / CU_PORTAL_PER_PAGE;
    if (!rc && (size_t)pageno > (pages ? pages : 1)) {
        free(l.v);
        cu_portal_message(c, 404, "This page does not exist",
                          "Go back to the first page of your requests.");
        return;
    }
    if (rc)
        refused_page(c, rc, &err);
    else
        requests_render(c, 200, &(rq_form){0}, &l, pageno);
    free(l.v);
}

static void requests_submit(cu_portal_page *c)
{
    cu_form form;
    if (!cu_portal_form(c, &form))
        return;
    const char *kind = cu_form_get(&form, "kind");
    const char *details = cu_form_get(&form, "details");
    size_t dlen = details ? strlen(details) : 0;
    /* Leading and trailing blanks are not what was asked. */
    while (dlen && (details[dlen - 1] == ' ' || details[dlen - 1] == '\n' ||
                    details[dlen - 1] == '\r' || details[dlen - 1] == '\t'))
        dlen--;
    while (dlen && (*details == ' ' || *details == '\n' || *details == '\r' || *details == '\t')) {
        details++;
        dlen--;
    }
    rq_form f = {.details = cu_form_get(&form, "details")};
    bool known = false;
    for (size_t i = 0; kind && i < NKINDS; i++)
        if (strcmp(kind, KINDS[i].kind) == 0)
            known = true;
    if (known)
        f.kind = kind;
    if (!known || cu_form_count(&form, "kind") != 1)
        f.errors[f.nerrors++] = (cu_field_error){"kind", "Choose what you want to ask for"};
    else if (!dlen && (strcmp(kind, "rectification") == 0 || strcmp(kind, "objection") == 0))
        f.errors[f.nerrors++] = (cu_field_error){
            "details", strcmp(kind, "objection") == 0 ? "Tell us what you object to"
                                                      : "Tell us what is wrong or missing"};
    if (!f.nerrors && dlen > CU_RQ_MAX_TEXT)
        f.errors[f.nerrors++] =
            (cu_field_error){"details", "Write what you want in 4,000 characters or fewer"};
    if (f.nerrors) {
        requests_render(c, 400, &f, NULL, 1);
        cu_form_free(&form);
        return;
    }
    /* Every request records what was asked: the patient's words, or the kind. */
    char said[128];
    if (!dlen) {
        snprintf(said, sizeof said, "Asked on the patient portal: %s.", kind_label(kind));
        details = said;
        dlen = strlen(said);
    }
    cu_actor a;
    cu_portal_actor(&c->who, c->via, &a);
    char id[CU_ID_STRLEN];
    cu_err err = {0};
    int rc = cu_request_receive_own(cu_api_vault(c->api), &a, kind, NULL, details, dlen, id,
                                    &err);
    cu_form_free(&form);
    if (!rc)
        cu_portal_redirect(c->req, c->resp, "/portal/requests");
    else if (rc == CU_EINVAL)
        cu_portal_message(c, 400, "This request could not be sent",
                          "Go back to the page, check what you wrote and try again.");
    else
        refused_page(c, rc, &err);
}

bool cu_portal_rights_page(cu_portal_page *c)
{
    switch (c->req->route.id) {
    case CU_R_PORTAL_CONSENTS: consents_page(c); return true;
    case CU_R_PORTAL_CONSENTS_POST: consents_submit(c); return true;
    case CU_R_PORTAL_REQUESTS: requests_page(c); return true;
    case CU_R_PORTAL_REQUESTS_POST: requests_submit(c); return true;
    default: return false;
    }
}

/* ---- an invitation's code, typed ---- */

static void code_page(const cu_http_req *req, cu_http_resp *resp, int status, const char *value,
                      const char *error)
{
    char assets[CU_ASSETS_REL_MAX];
    cu_assets_relative(req->path, assets, sizeof assets);
    const char *title = "Enter your invitation code";
    cu_field_error e = {"code", error};
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_page_begin(&h, &(cu_page){.title = title, .service = SERVICE, .assets = assets,
                                 .error = error != NULL});
    cu_html_error_summary(&h, &e, error ? 1 : 0);
    cu_html_elem(&h, "h1", title, "class", "nhsuk-heading-l", NULL);
    cu_html_elem(&h, "p",
                 "Your invitation letter to the patient portal has a code of 20 letters and "
                 "numbers. Type it here to set up your account.",
                 NULL);
    cu_html_open(&h, "form", "method", "post", "action", "invitation", "novalidate", CU_HTML_ON,
                 NULL);
    cu_html_input_field(&h, &(cu_html_input){.id = "code", .label = "Invitation code",
                                             .hint = "For example, K7QDM-3MZPX-2RA9T-0BC4E",
                                             .error = error, .type = "text",
                                             .autocomplete = "off", .value = value});
    cu_html_elem(&h, "button", "Continue", "type", "submit", "class", "nhsuk-button", NULL);
    cu_html_close(&h, "form");
    cu_html_elem(&h, "p",
                 "If your code is not recognised, or your invitation has expired, ask your "
                 "care team for a new one.",
                 NULL);
    cu_portal_end(&h, resp, status, &page);
}

#define NOT_RECOGNISED                                                                       \
    "This code is not recognised. Check it against your letter and try again"

static void code_submit(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    if (cu_fetch_cross_site(req->fetch_site)) {
        code_page(req, resp, 403, NULL, "Enter your code on this service's own page");
        return;
    }
    cu_form form;
    cu_err err = {0};
    if (!cu_portal_form_type(req) ||
        cu_form_parse((const char *)req->body, req->body_len, &form, &err)) {
        code_page(req, resp, 400, NULL, "Enter the code from your letter");
        return;
    }
    const char *typed = cu_form_get(&form, "code");
    size_t n = typed ? strlen(typed) : 0;
    if (!n || strspn(typed, " \t-") == n) {
        cu_form_free(&form);
        code_page(req, resp, 400, NULL, "Enter the code from your letter");
        return;
    }
    int wait = cu_api_signin_throttle(api, req);
    if (wait > 0) {
        cu_form_free(&form);
        code_page(req, resp, 429, NULL,
                  "There have been too many wrong codes from this address. Wait 15 minutes, "
                  "then try again");
        resp->retry_after = wait;
        return;
    }
    /* Spaces are ignored as the dashes are. */
    char squeezed[64], norm[21];
    size_t m = 0;
    bool fits = true;
    for (size_t i = 0; i < n; i++) {
        if (typed[i] == ' ' || typed[i] == '\t')
            continue;
        if (m + 1 >= sizeof squeezed) {
            fits = false;
            break;
        }
        squeezed[m++] = typed[i];
    }
    squeezed[m] = '\0';
    cu_portal_invitation info;
    int rc = fits && cu_portal_code_normalise(squeezed, m, norm)
                 ? cu_portal_peek(cu_api_vault(api), norm, 20, &info, &err)
                 : CU_ENOTFOUND;
    cu_wipe(squeezed, sizeof squeezed);
    cu_form_free(&form);
    if (rc == CU_ENOTFOUND) {
        /* A wrong code counts as a failed sign-in from the address. */
        cu_api_signin_note(api, req, true);
        code_page(req, resp, 400, NULL, NOT_RECOGNISED);
        cu_wipe(norm, sizeof norm);
        return;
    }
    if (rc && rc != CU_ECONFLICT && rc != CU_EDENIED) {
        cu_api_fail(resp, &err);
        cu_wipe(norm, sizeof norm);
        return;
    }
    /* The invitation's own page says whether it is open, used or expired. */
    char to[64];
    snprintf(to, sizeof to, "/portal/invitation/%.5s-%.5s-%.5s-%.5s", norm, norm + 5, norm + 10,
             norm + 15);
    cu_portal_redirect(req, resp, to);
    cu_wipe(to, sizeof to);
    cu_wipe(norm, sizeof norm);
}

bool cu_pages_portal_code_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp)
{
    switch (req->route.id) {
    case CU_R_PORTAL_CODE_GET: code_page(req, resp, 200, NULL, NULL); return true;
    case CU_R_PORTAL_CODE_POST: code_submit(api, req, resp); return true;
    default: return false;
    }
}
