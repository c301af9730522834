/*
 * pages_portal_files.c — the patient portal's downloads and questionnaires
 * (portal_pages.h). Every page needs the portal's own cookie
 * (pages_portal.c signs the patient in before calling a page here) and
 * never takes a subject from the URL: the signed-in patient's own is used.
 *
 * GET /portal/download offers the subject access package in three formats;
 * GET /portal/download?format=html|json|fhir is that package, made as the
 * DPO gets it (iface/sar_render.h) in one audited operation about the
 * patient's own subject with the patient as actor (portal.download, its
 * format in the event's via), sent as an attachment whose file name holds
 * nothing personal.
 *
 * GET /portal/questionnaires lists the patient's open questionnaire links
 * (one audited operation, portal.questionnaires). GET and POST
 * /portal/questionnaires/{id} open one by the link's row id (never its
 * token: the session is the authority) and take its answers exactly as the
 * public form does (domain/responses.h cu_qlink_submit_own: one event, the
 * link used in the same transaction, the patient as actor). A link that is
 * used, expired or retired is "no longer open" (410); another patient's is
 * not found, like an unknown id (404). Every form carries the session's
 * CSRF token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/responses.h"
#include "domain/sar.h"
#include "http/api_impl.h"
#include "http/form.h"
#include "http/pages_util.h"
#include "http/portal_pages.h"
#include "iface/html.h"
#include "iface/qform.h"
#include "iface/sar_render.h"

/* ---- download your data ---- */

static const struct {
    const char *fmt, *label, *desc, *file;
} FORMATS[] = {
    {"html", "A letter you can read or print",
     "A web page to open in your browser: what we hold about you, why, who it was shared with "
     "and who has looked at your record.",
     "your-data.html"},
    {"json", "A data file (JSON)",
     "The same information in a structured file that computer programs can read.",
     "your-data.json"},
    {"fhir", "A health record file (FHIR)",
     "The same information as a FHIR R4 bundle, the standard that health apps and services "
     "use to exchange records.",
     "your-data-fhir.json"},
};
#define NFORMATS (sizeof FORMATS / sizeof FORMATS[0])

static void download_choices(cu_portal_page *c)
{
    cu_buf page;
    cu_html h;
    cu_portal_open(&h, &page, c, "Download your data", false);
    cu_html_elem(&h, "h1", "Download your data", "class", "nhsuk-heading-l", NULL);
    cu_html_elem(&h, "p",
                 "You can download a copy of the information we hold about you. Choose the kind "
                 "of file you want. Each copy is made when you choose it and is recorded in the "
                 "list of who has looked at your record.",
                 NULL);
    cu_html_open(&h, "ul", "class", "nhsuk-list", NULL);
    for (size_t i = 0; i < NFORMATS; i++) {
        char to[48], href[64];
        snprintf(to, sizeof to, "/portal/download?format=%s", FORMATS[i].fmt);
        cu_portal_link_to(c->req, to, href, sizeof href);
        cu_html_open(&h, "li", NULL);
        cu_html_open(&h, "h2", "class", "nhsuk-heading-s nhsuk-u-margin-bottom-1", NULL);
        cu_html_elem(&h, "a", FORMATS[i].label, "href", href, "download", CU_HTML_ON, NULL);
        cu_html_close(&h, "h2");
        cu_html_elem(&h, "p", FORMATS[i].desc, NULL);
        cu_html_close(&h, "li");
    }
    cu_html_close(&h, "ul");
    cu_html_elem(&h, "p",
                 "Keep the file somewhere safe: it holds personal information about you, and "
                 "anyone who has it can read it.",
                 NULL);
    cu_portal_finish(&h, c, &page);
}

typedef struct render_ctx {
    cu_sar_format format;
    cu_buf out;
} render_ctx;

static int render_cb(void *ctx, const cu_sar *sar, cu_err *err)
{
    render_ctx *r = ctx;
    return cu_sar_render(sar, r->format, &r->out, err);
}

void cu_portal_download(cu_portal_page *c)
{
    const char *fmt = c->req->q_format;
    if (!fmt) {
        download_choices(c);
        return;
    }
    size_t i = 0;
    while (i < NFORMATS && strcmp(FORMATS[i].fmt, fmt) != 0)
        i++;
    int f = i < NFORMATS ? cu_sar_format_from_name(fmt) : -1;
    if (f < 0) {
        cu_portal_message(c, 400, "There is no such kind of file",
                          "Go back to Download your data and choose a letter, a data file or a "
                          "health record file.");
        return;
    }
    /* The event names the format through how the copy was asked for. */
    char via[sizeof c->via];
    snprintf(via, sizeof via, "http GET /portal/download?format=%s", FORMATS[i].fmt);
    cu_actor a;
    cu_portal_actor(&c->who, via, &a);
    cu_sar_request rq = {.portal_action = "portal.download"};
    render_ctx r = {.format = (cu_sar_format)f};
    cu_buf_init(&r.out, (size_t)256 << 20);
    cu_err err = {0};
    int rc = cu_sar_run(cu_api_vault(c->api), &a, c->who.subject_id, &rq, render_cb, &r, &err);
    if (!rc) {
        cu_api_raw(c->resp, 200, &r.out, cu_sar_content_type((cu_sar_format)f));
        cu_strlcpy(c->resp->attachment, FORMATS[i].file, sizeof c->resp->attachment);
    } else if (rc == CU_EDENIED || rc == CU_ECONCEALED || rc == CU_ENOTFOUND ||
               rc == CU_EERASED) {
        cu_portal_message(c, 403, "Your data cannot be downloaded",
                          "Contact your care team. They can tell you why.");
    } else {
        cu_api_fail(c->resp, &err);
    }
    cu_buf_release(&r.out);
}

/* ---- questionnaires you were sent ---- */

/* The links of one page are written as they come; all are counted. */
typedef struct list_ctx {
    cu_portal_page *c;
    cu_html *h;
    size_t n;            /* the links listed */
    size_t first, shown; /* the page's first link (from 0), and the links written */
} list_ctx;

static int list_one(void *ctx, const cu_qlink_open *l, cu_err *err)
{
    (void)err;
    list_ctx *lc = ctx;
    cu_html *h = lc->h;
    size_t i = lc->n++;
    if (i < lc->first || i >= lc->first + CU_PORTAL_PER_PAGE)
        return CU_OK;
    if (lc->shown++ == 0) {
        static const char *const heads[] = {"Questionnaire", "Sent", "Answer by"};
        cu_html_table_open(h, "Questionnaires to answer", true, heads, 3);
    }
    char to[64], href[96], sent[CU_HTML_DATE_LEN], until[CU_HTML_DATE_LEN];
    snprintf(to, sizeof to, "/portal/questionnaires/%s", l->id);
    cu_portal_link_to(lc->c->req, to, href, sizeof href);
    cu_html_open(h, "tr", "class", "nhsuk-table__row", NULL);
    cu_html_open(h, "td", "class", "nhsuk-table__cell", NULL);
    cu_html_elem(h, "a", l->title, "href", href, NULL);
    cu_html_close(h, "td");
    cu_html_elem(h, "td", cu_html_date(l->issued_at, sent), "class", "nhsuk-table__cell", NULL);
    /* The link works until the moment it expires: the last day shown is
     * the day before when it expires at midnight. */
    cu_html_elem(h, "td", cu_html_date(l->expires_at - 1, until), "class", "nhsuk-table__cell",
                 NULL);
    cu_html_close(h, "tr");
    return CU_OK;
}

void cu_portal_questionnaires(cu_portal_page *c)
{
    long pageno;
    if (!cu_page_number(c->req->q_page, 100000, &pageno)) {
        cu_portal_message(c, 400, "This page does not exist",
                          "Go back to the first page of your questionnaires.");
        return;
    }
    cu_actor a;
    cu_portal_actor(&c->who, c->via, &a);
    cu_buf page;
    cu_html h;
    cu_portal_open(&h, &page, c, "Questionnaires you were sent", true);
    cu_html_elem(&h, "h1", "Questionnaires you were sent", "class", "nhsuk-heading-l", NULL);
    cu_html_elem(&h, "p",
                 "Your care team may ask you to fill in a questionnaire about how you are. Your "
                 "answers go only to them and are used for your care.",
                 NULL);
    list_ctx lc = {.c = c, .h = &h, .first = (size_t)(pageno - 1) * CU_PORTAL_PER_PAGE};
    cu_err err = {0};
    int rc = cu_qlink_open_list(cu_api_vault(c->api), &a, c->who.subject_id,
                                "portal.questionnaires", list_one, &lc, &err);
    if (rc) {
        cu_buf_release(&page);
        if (rc == CU_EDENIED || rc == CU_ECONCEALED || rc == CU_ENOTFOUND || rc == CU_EERASED)
            cu_portal_message(c, 403, "This page cannot be shown",
                              "Contact your care team. They can tell you why.");
        else
            cu_api_fail(c->resp, &err);
        return;
    }
    size_t pages = (lc.n + CU_PORTAL_PER_PAGE - 1) / CU_PORTAL_PER_PAGE;
    if ((size_t)pageno > (pages ? pages : 1)) {
        cu_buf_release(&page);
        cu_portal_message(c, 404, "This page does not exist",
                          "Go back to the first page of your questionnaires.");
        return;
    }
    if (lc.shown) {
        cu_html_table_close(&h);
        cu_portal_pagination(&h, c, "/portal/questionnaires", "Pages of your questionnaires",
                             pageno, pages);
    } else {
        cu_html_elem(&h, "p", "You have no questionnaires to answer.", "class",
                     "nhsuk-inset-text", NULL);
    }
    cu_portal_finish(&h, c, &page);
}

/* The page for a link that cannot be answered, when peek or submit refused. */
static void q_refused(cu_portal_page *c, const cu_qlink_info *info, const cu_err *err)
{
    switch (err->code) {
    case CU_ENOTFOUND:
        cu_portal_message(c, 404, "Page not found",
                          "If you typed the web address, check it is correct. Your "
                          "questionnaires are listed under Questionnaires you were sent.");
        break;
    case CU_ECONFLICT:
        cu_portal_message(c, 410, "This questionnaire is no longer open",
                          "It has already been answered. Each questionnaire can be answered "
                          "once. If you think this is wrong, contact your care team.");
        break;
    case CU_EDENIED:
        if (info->state == CU_QLINK_EXPIRED)
            cu_portal_message(c, 410, "This questionnaire is no longer open",
                              "The time to answer it has passed. Contact your care team if "
                              "you still want to answer it and they can send it again.");
        else if (info->state == CU_QLINK_RETIRED)
            cu_portal_message(c, 410, "This questionnaire is no longer open",
                              "Your care team no longer asks for these answers. Contact them "
                              "if you have a question about your care.");
        else
            cu_portal_message(c, 403, "This questionnaire cannot be answered now",
                              "Contact your care team if you want to tell them how you are. "
                              "They can explain why.");
        break;
    case CU_EERASED:
        cu_portal_message(c, 410, "This questionnaire is no longer open",
                          "Contact your care team if you have a question about your care.");
        break;
    default: cu_api_fail(c->resp, err); break;
    }
}

static void csrf_hidden(cu_html *h, const void *ctx)
{
    cu_portal_csrf_field(h, ctx);
}

static const char *form_value(void *ctx, const char *name)
{
    return cu_form_get(ctx, name);
}

/* The form in the portal's shell: status 200, or 400 with its errors. */
static void q_form_page(cu_portal_page *c, int status, cu_qform *f)
{
    const cu_questionnaire *q = f->q;
    const char *title = q->title ? q->title : q->name ? q->name : "Questionnaire";
    char etitle[CU_Q_MAX_TEXT + 8];
    if (f->nerrors)
        snprintf(etitle, sizeof etitle, "Error: %s", title);
    f->action = c->req->route.subject; /* the link's id: this page's last segment */
    f->hidden = csrf_hidden;
    f->hidden_ctx = c;
    cu_buf page;
    cu_html h;
    cu_portal_open(&h, &page, c, f->nerrors ? etitle : title, false);
    cu_qform_body(&h, f);
    cu_portal_end(&h, c->resp, status, &page);
}

void cu_portal_questionnaire(cu_portal_page *c)
{
    cu_qlink_info info = {0};
    cu_questionnaire *q = NULL;
    cu_err err = {0};
    if (cu_qlink_peek_own(cu_api_vault(c->api), c->who.subject_id, c->req->route.subject, &info,
                          &q, &err)) {
        q_refused(c, &info, &err);
        return;
    }
    cu_qform f = {.q = q};
    q_form_page(c, 200, &f);
    cu_questionnaire_free(q);
}

static void done_page(cu_portal_page *c, bool urgent)
{
    cu_buf page;
    cu_html h;
    cu_portal_open(&h, &page, c, "Your answers have been sent", false);
    cu_qform_done_body(&h, urgent);
    char href[64];
    cu_portal_link_to(c->req, "/portal/questionnaires", href, sizeof href);
    cu_html_open(&h, "p", "class", "nhsuk-body", NULL);
    cu_html_elem(&h, "a", "Back to questionnaires you were sent", "href", href, NULL);
    cu_html_close(&h, "p");
    cu_portal_finish(&h, c, &page);
}

void cu_portal_questionnaire_submit(cu_portal_page *c)
{
    cu_form form;
    if (!cu_portal_form(c, &form))
        return;
    cu_vault *v = cu_api_vault(c->api);
    const char *link = c->req->route.subject;
    cu_qlink_info info = {0};
    cu_questionnaire *q = NULL;
    cu_err err = {0};
    if (cu_qlink_peek_own(v, c->who.subject_id, link, &info, &q, &err)) {
        cu_form_free(&form);
        q_refused(c, &info, &err);
        return;
    }
    cu_qform_answers *a = calloc(1, sizeof *a);
    if (!a) {
        cu_form_free(&form);
        cu_questionnaire_free(q);
        cu_api_problem(c->resp, CU_P_INTERNAL, NULL);
        return;
    }
    cu_qform_read(q, form_value, &form, a);
    cu_qform f = {.q = q, .errors = a->errors, .nerrors = a->nerrors, .get = form_value,
                  .ctx = &form};
    if (a->nerrors) {
        q_form_page(c, 400, &f);
    } else {
        cu_response_result r;
        if (cu_qlink_submit_own(v, c->who.subject_id, link, c->who.actor_name, c->via, q, &info,
                                a->a, a->n, &r, &err)) {
            if (err.code == CU_EINVAL) {
                /* the answers do not fit the questionnaire (cannot happen
                 * with the form as custos renders it) */
                cu_field_error e = {"maincontent", "Check your answers and send them again"};
                f.errors = &e;
                f.nerrors = 1;
                q_form_page(c, 400, &f);
            } else {
                q_refused(c, &info, &err);
            }
        } else {
            bool urgent = false;
            for (size_t i = 0; i < r.nflags; i++)
                urgent = urgent || strcmp(r.flags[i].level, "urgent") == 0;
            done_page(c, urgent);
        }
    }
    cu_wipe(a, sizeof *a);
    free(a);
    cu_form_free(&form);
    cu_questionnaire_free(q);
}
