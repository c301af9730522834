/*
 * notice.c — the privacy notice (UK GDPR Articles 13 and 14) generated from a
 * controller's policy, in Markdown or HTML.
 *
 * One document structure, written through a tiny block writer that knows the
 * two formats: headings, paragraphs, lists, a table. Every string that comes
 * from the policy goes through the writer's text escaping:
 *   - HTML: through the one escape-by-default writer (html.h), in the
 *     shared page shell: & < > " ' become character references, control
 *     characters U+FFFD; markup is only ever elements of this file.
 *   - Markdown: characters that would start or change structure are
 *     backslash-escaped (\ ` * _ [ ] < > # | ~ &, and - + = or "1." / "1)" at
 *     the start of a line); line breaks and runs of white space become one
 *     space, so a policy string can never open a new block.
 * Output depends on the policy alone (no clock, no locale), so the same policy
 * renders to the same bytes.
 */
#include "iface/notice.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "iface/html.h"
#include "iface/wording.h"
#include "util/clock.h"

#define ICO_COMPLAINT_URL "https://ico.org.uk/make-a-complaint/"
#define ICO_HELPLINE "0303 123 1113"
#define ICO_ADDRESS                                                                      \
    "Information Commissioner's Office, Wycliffe House, Water Lane, Wilmslow, Cheshire " \
    "SK9 5AF"

/* ------------------------------------------------------------------ writer */

typedef struct nw {
    cu_buf *out;
    cu_notice_format f;
    int rc;   /* Markdown */
    bool bol; /* Markdown: the next text starts a line (or a list item) */
    cu_html h; /* HTML: every element and text goes through the writer */
} nw;

static void raw(nw *w, const char *s)
{
    if (!w->rc && *s)
        w->rc = cu_buf_append_str(w->out, s);
    size_t n = strlen(s);
    if (n)
        w->bol = s[n - 1] == '\n';
}

static void put(nw *w, const char *s, size_t n)
{
    if (!w->rc && n)
        w->rc = cu_buf_append(w->out, s, n);
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void text_md(nw *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    bool pending_space = false;
    for (; *p; p++) {
        unsigned char c = *p;
        if (is_space(c) || c < 0x20 || c == 0x7f) {
            pending_space = true;
            continue;
        }
        if (pending_space && !w->bol)
            put(w, " ", 1);
        pending_space = false;
        if (w->bol) {
            w->bol = false;
            if (c == '-' || c == '+' || c == '=') {
                put(w, "\\", 1);
            } else if (c >= '0' && c <= '9') {
                /* "12." or "12)" would start an ordered list. */
                const unsigned char *q = p;
                while (*q >= '0' && *q <= '9')
                    q++;
                if (*q == '.' || *q == ')') {
                    put(w, (const char *)p, (size_t)(q - p));
                    put(w, "\\", 1);
                    put(w, (const char *)q, 1);
                    p = q;
                    continue;
                }
            }
        }
        if (strchr("\\`*_[]<>#|~&", c))
            put(w, "\\", 1);
        put(w, (const char *)&c, 1);
    }
    if (pending_space && !w->bol)
        put(w, " ", 1);
}

/* Escaped text (from the policy or from this file). */
static void t(nw *w, const char *s)
{
    if (!s)
        return;
    if (w->f == CU_NOTICE_HTML)
        cu_html_text(&w->h, s);
    else
        text_md(w, s);
}

static void heading(nw *w, int level, const char *s)
{
    if (w->f == CU_NOTICE_HTML) {
        static const char *const tags[] = {"h1", "h2", "h3"};
        const char *tag = tags[level < 1 ? 0 : level > 3 ? 2 : level - 1];
        cu_html_elem(&w->h, tag, s, "class",
                     level == 1 ? "nhsuk-heading-l" : level == 2 ? "nhsuk-heading-m" : "nhsuk-heading-s",
                     NULL);
        cu_html_nl(&w->h);
    } else {
        raw(w, level == 1 ? "# " : level == 2 ? "## " : "### ");
        w->bol = true;
        t(w, s);
        raw(w, "\n\n");
    }
}

static void p_open(nw *w)
{
    if (w->f == CU_NOTICE_HTML)
        cu_html_open(&w->h, "p", "class", "nhsuk-body", NULL);
    w->bol = true;
}

static void p_close(nw *w)
{
    if (w->f == CU_NOTICE_HTML) {
        cu_html_close(&w->h, "p");
        cu_html_nl(&w->h);
    } else {
        raw(w, "\n\n");
    }
}

static void para(nw *w, const char *s)
{
    p_open(w);
    t(w, s);
    p_close(w);
}

static void ul_open(nw *w)
{
    if (w->f == CU_NOTICE_HTML)
        cu_html_open(&w->h, "ul", "class", "nhsuk-list nhsuk-list--bullet", NULL);
}

static void ul_close(nw *w)
{
    if (w->f == CU_NOTICE_HTML) {
        cu_html_close(&w->h, "ul");
        cu_html_nl(&w->h);
    } else {
        raw(w, "\n");
    }
}

static void li_open(nw *w)
{
    if (w->f == CU_NOTICE_HTML)
        cu_html_open(&w->h, "li", NULL);
    else
        raw(w, "- ");
    w->bol = true;
}

static void li_close(nw *w)
{
    if (w->f == CU_NOTICE_HTML) {
        cu_html_close(&w->h, "li");
        cu_html_nl(&w->h);
    } else {
        raw(w, "\n");
    }
}

static void li(nw *w, const char *s)
{
    li_open(w);
    t(w, s);
    li_close(w);
}

static void strong(nw *w, const char *s)
{
    if (w->f == CU_NOTICE_HTML) {
        cu_html_elem(&w->h, "strong", s, NULL);
        return;
    }
    raw(w, "**");
    w->bol = false;
    t(w, s);
    raw(w, "**");
}

/* Text that ends a sentence: a full stop is added unless it has one. */
static void sentence(nw *w, const char *s)
{
    if (!s || !*s)
        return;
    t(w, s);
    size_t n = strlen(s);
    while (n && is_space((unsigned char)s[n - 1]))
        n--;
    if (n && !strchr(".!?", s[n - 1]))
        t(w, ".");
}

/* Items joined by "; ". */
static void t_list(nw *w, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            t(w, "; ");
        t(w, v[i]);
    }
}

/* A labelled list item: "**Label**: text". */
static void li_label(nw *w, const char *label, const char *s)
{
    li_open(w);
    strong(w, label);
    t(w, ": ");
    t(w, s);
    li_close(w);
}

/* A link whose target is a constant of this file (never a policy string). */
static void link(nw *w, const char *url)
{
    if (w->f == CU_NOTICE_HTML) {
        cu_html_elem(&w->h, "a", url, "href", url, NULL);
    } else {
        raw(w, "<");
        raw(w, url);
        raw(w, ">");
    }
}

static void table_open(nw *w, const char *const *heads, size_t n)
{
    if (w->f == CU_NOTICE_HTML) {
        cu_html_table_open(&w->h, NULL, false, heads, n);
    } else {
        raw(w, "|");
        for (size_t i = 0; i < n; i++) {
            raw(w, " ");
            t(w, heads[i]);
            raw(w, " |");
        }
        raw(w, "\n|");
        for (size_t i = 0; i < n; i++)
            raw(w, " --- |");
        raw(w, "\n");
    }
}

static void table_row(nw *w, const char *const *cells, size_t n)
{
    if (w->f == CU_NOTICE_HTML) {
        cu_html_open(&w->h, "tr", NULL);
        for (size_t i = 0; i < n; i++)
            cu_html_elem(&w->h, "td", cells[i], NULL);
        cu_html_close(&w->h, "tr");
        cu_html_nl(&w->h);
        return;
    }
    raw(w, "|");
    for (size_t i = 0; i < n; i++) {
        raw(w, " ");
        w->bol = false;
        t(w, cells[i]);
        raw(w, " |");
    }
    raw(w, "\n");
}

static void table_close(nw *w)
{
    if (w->f == CU_NOTICE_HTML) {
        cu_html_table_close(&w->h);
    } else {
        raw(w, "\n");
    }
}

/* ------------------------------------------------------------------ words */

static const char *category_title(unsigned c)
{
    switch (c) {
    case CU_CAT_CONTACT: return "Contact details";
    case CU_CAT_IDENTIFYING: return "Identifying details";
    case CU_CAT_HEALTH: return "Health information";
    case CU_CAT_GENETIC: return "Genetic data";
    case CU_CAT_SPECIAL: return "Other special category data";
    case CU_CAT_FAMILY: return "Family and personal circumstances";
    case CU_CAT_WORK_EDU_FIN: return "Workplace, education and financial information";
    case CU_CAT_ONLINE_ID: return "Online identifiers";
    }
    return "Other information";
}

static const char *source_words(unsigned i)
{
    static const char *const words[CU_SOURCE_COUNT] = {
        "you",
        "our staff",
        "NHS organisations",
        "local authorities",
        "other organisations",
        "national sources such as NHS England and the Office for National Statistics",
    };
    return i < CU_SOURCE_COUNT ? words[i] : "other sources";
}

static const char *kind_words(unsigned i)
{
    static const char *const words[CU_KIND_COUNT] = {
        "patients",
        "visitors to our websites",
        "our employees",
        "other people who contact us or whom we work with",
    };
    return i < CU_KIND_COUNT ? words[i] : "other people";
}

/* The retention rule in words: "kept for 8 years after your last contact
 * with the service". */
static void retention_words(const cu_pol_retention *r, char *out, size_t outsz)
{
    cu_wording_retention(r, out, outsz);
}

/* "1 January 2026" */
static void date_words(int64_t us, char *out, size_t outsz)
{
    cu_wording_day(cu_date_of_us(us), out, outsz);
}

/* ------------------------------------------------------------------ helpers */

/* Comma-joined words for each bit of mask. */
static void mask_words(nw *w, unsigned mask, unsigned count, const char *(*word)(unsigned),
                       bool lower_first)
{
    bool first = true;
    for (unsigned i = 0; i < count; i++) {
        if (!(mask & (1u << i)))
            continue;
        if (!first)
            t(w, ", ");
        const char *s = word(i);
        if (lower_first && !first && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' &&
            s[1] <= 'z') {
            char tmp[128];
            cu_strlcpy(tmp, s, sizeof tmp);
            tmp[0] = (char)(tmp[0] - 'A' + 'a');
            t(w, tmp);
        } else {
            t(w, s);
        }
        first = false;
    }
    if (first)
        t(w, "none");
}

static void party_items(nw *w, const cu_pol_party *pt)
{
    if (pt->address)
        li_label(w, "Address", pt->address);
    if (pt->email)
        li_label(w, "Email", pt->email);
    if (pt->phone)
        li_label(w, "Phone", pt->phone);
    if (pt->website)
        li_label(w, "Website", pt->website);
}

/* "our Data Protection Officer by email at x, by post at y or by phone on z" */
static void dpo_how(nw *w, const cu_policy *p)
{
    const cu_pol_party *d = &p->dpo;
    t(w, "our Data Protection Officer");
    if (d->name && strcmp(d->name, "Data Protection Officer") != 0) {
        t(w, " (");
        t(w, d->name);
        t(w, ")");
    }
    const char *how[3][2] = {{"by email at ", d->email},
                             {"by post at ", d->address},
                             {"by phone on ", d->phone}};
    int n = 0, total = 0;
    for (int i = 0; i < 3; i++)
        total += how[i][1] != NULL;
    for (int i = 0; i < 3; i++) {
        if (!how[i][1])
            continue;
        t(w, n == 0 ? " " : (n == total - 1 ? " or " : ", "));
        t(w, how[i][0]);
        t(w, how[i][1]);
        n++;
    }
}

/* ------------------------------------------------------------------ sections */

static void sec_title(nw *w, const cu_policy *p)
{
    char line[160];
    heading(w, 1, "Privacy notice");
    p_open(w);
    strong(w, p->controller.name ? p->controller.name : "");
    p_close(w);
    if (w->f == CU_NOTICE_HTML)
        cu_html_open(&w->h, "p", "class", "nhsuk-body-s nhsuk-u-secondary-text-color", NULL);
    w->bol = true;
    if (p->version > 0) {
        char date[48];
        date_words(p->applied_at, date, sizeof date);
        snprintf(line, sizeof line, "Version %lld, applied on %s.", (long long)p->version, date);
        t(w, line);
    } else {
        t(w, "Draft — not yet applied.");
    }
    p_close(w);
    if (p->introduction)
        para(w, p->introduction);
}

static void sec_who(nw *w, const cu_policy *p)
{
    const char *name = p->controller.name ? p->controller.name : "We";
    heading(w, 2, "Who we are");
    p_open(w);
    t(w, name);
    switch (p->role) {
    case CU_POL_CONTROLLER:
        t(w, " is the controller of the personal data described in this notice: we decide "
             "why and how it is used.");
        break;
    case CU_POL_PROCESSOR:
        t(w, " processes personal data on behalf of the organisations listed below, which "
             "are the controllers of that data: they decide why and how it is used.");
        break;
    case CU_POL_BOTH:
        t(w, " is the controller of some of the personal data described in this notice (we "
             "decide why and how it is used), and processes other personal data on behalf "
             "of the organisations listed below, which are the controllers of that data.");
        break;
    }
    if (p->public_authority)
        t(w, " We are a public authority.");
    p_close(w);
    ul_open(w);
    li_label(w, "Name", name);
    party_items(w, &p->controller);
    if (p->company_number)
        li_label(w, "Company number", p->company_number);
    if (p->ico_registration)
        li_label(w, "Registration number with the Information Commissioner's Office",
                 p->ico_registration);
    ul_close(w);

    if (p->njoint) {
        heading(w, 3, "Joint controllers");
        para(w, "We decide jointly with these organisations why and how some personal data "
                "is used. You can use your rights with any of us.");
        for (size_t i = 0; i < p->njoint; i++) {
            p_open(w);
            strong(w, p->joint_controllers[i].name ? p->joint_controllers[i].name : "");
            p_close(w);
            ul_open(w);
            party_items(w, &p->joint_controllers[i]);
            ul_close(w);
        }
    }
    if (p->representative.name) {
        heading(w, 3, "Our representative");
        p_open(w);
        t(w, "Our representative for data protection matters is ");
        t(w, p->representative.name);
        t(w, ".");
        p_close(w);
        ul_open(w);
        party_items(w, &p->representative);
        ul_close(w);
    }
    if (p->non_behalf) {
        heading(w, 3, "When we act for other organisations");
        para(w, "We process personal data on behalf of, and only on the instructions of, "
                "these organisations. They are the controllers of that data: their own "
                "privacy notices explain how they use it, and you can also ask them to use "
                "your rights.");
        ul_open(w);
        for (size_t i = 0; i < p->non_behalf; i++) {
            const cu_pol_on_behalf *o = &p->on_behalf[i];
            li_open(w);
            strong(w, o->controller ? o->controller : "");
            t(w, ": ");
            t_list(w, o->activities, o->nactivities);
            t(w, ".");
            if (o->categories) {
                t(w, " Personal data: ");
                mask_words(w, o->categories, CU_CAT_COUNT, category_title, true);
                t(w, ".");
            }
            if (o->contact) {
                t(w, " Contact: ");
                t(w, o->contact);
            }
            li_close(w);
        }
        ul_close(w);
    }
}

static void sec_dpo(nw *w, const cu_policy *p)
{
    heading(w, 2, "Our Data Protection Officer");
    p_open(w);
    t(w, "Our Data Protection Officer makes sure we look after your personal data "
         "properly. Contact them about anything in this notice, including how to use your "
         "rights:");
    p_close(w);
    ul_open(w);
    li_label(w, "Name", p->dpo.name ? p->dpo.name : "Data Protection Officer");
    party_items(w, &p->dpo);
    ul_close(w);
}

static void sec_data(nw *w, const cu_policy *p)
{
    heading(w, 2, "What personal data we hold");
    para(w, "We only collect and use the personal data we need for the purposes described "
            "in this notice. Depending on how you are involved with us, it may include:");
    ul_open(w);
    unsigned sources = 0;
    for (size_t i = 0; i < p->ncategories; i++) {
        const cu_pol_category *c = &p->categories[i];
        sources |= c->sources;
        li_open(w);
        strong(w, category_title(c->category));
        t(w, ": ");
        t(w, c->description);
        if (cu_wording_category_special(c->category))
            t(w, " This is special category data, which the law protects more strongly.");
        if (c->sources) {
            t(w, " Where it comes from: ");
            mask_words(w, c->sources, CU_SOURCE_COUNT, source_words, false);
            t(w, ".");
        }
        li_close(w);
    }
    ul_close(w);

    heading(w, 2, "Where your personal data comes from");
    para(w, "We collect personal data from:");
    ul_open(w);
    for (unsigned i = 0; i < CU_SOURCE_COUNT; i++)
        if (sources & (1u << i))
            li(w, source_words(i));
    ul_close(w);
}

/* How an automated decision works and, when stated, what it means for the
 * subject. */
static void adm_words(nw *w, const cu_pol_purpose *u)
{
    sentence(w, u->adm_logic);
    if (u->adm_significance) {
        t(w, " What this means for you: ");
        sentence(w, u->adm_significance);
    }
}

static const char *recipient_label(const cu_policy *p, size_t i)
{
    return i < p->nrecipients ? p->recipients[i].category : "unknown";
}

static void purpose_block(nw *w, const cu_policy *p, const cu_pol_purpose *u)
{
    char line[512], ref[CU_WORDING_REF_LEN];
    heading(w, 3, u->description);
    ul_open(w);

    li_open(w);
    strong(w, "Lawful basis");
    snprintf(line, sizeof line, ": %s — %s: %s", cu_wording_basis(u->basis),
             cu_wording_basis_ref(u->basis, ref), cu_wording_basis_explained(u->basis));
    t(w, line);
    if (u->basis_detail) {
        t(w, " ");
        sentence(w, u->basis_detail);
    }
    li_close(w);

    if (u->legitimate_interests) {
        li_open(w);
        strong(w, "Our legitimate interests");
        t(w, ": ");
        sentence(w, u->legitimate_interests);
        li_close(w);
    }

    if (u->special_condition) {
        li_open(w);
        strong(w, "Special category data");
        snprintf(line, sizeof line, ": %s — %s", cu_wording_special(u->special_condition),
                 cu_wording_special_ref(u->special_condition, ref));
        t(w, line);
        if (u->schedule1) {
            t(w, ", with the condition in the Data Protection Act 2018, Schedule 1: ");
            t(w, u->schedule1);
        }
        t(w, ".");
        li_close(w);
    }

    li_open(w);
    strong(w, "Personal data used");
    t(w, ": ");
    mask_words(w, cu_wording_purpose_categories(p, u), CU_CAT_COUNT, category_title, true);
    t(w, ".");
    li_close(w);

    li_open(w);
    strong(w, "Whose data");
    t(w, ": ");
    mask_words(w, cu_wording_purpose_kinds(p, u), CU_KIND_COUNT, kind_words, false);
    t(w, ".");
    li_close(w);

    li_open(w);
    strong(w, "Consent");
    if (u->consent_required) {
        t(w, ": we only do this with your consent. You can withdraw your consent at any "
             "time, as easily as you gave it, by contacting ");
        dpo_how(w, p);
        if (u->direct_marketing)
            t(w, ", or by using the unsubscribe link in any marketing message we send you");
        t(w, ". Withdrawing your consent does not affect what we did before you withdrew "
             "it.");
    } else {
        t(w, ": we do not rely on your consent for this.");
    }
    li_close(w);

    if (u->direct_marketing)
        li_label(w, "Direct marketing",
                 "this is direct marketing. You have an absolute right to object to it at "
                 "any time: if you object, we will stop using your personal data for direct "
                 "marketing.");

    if (!u->builtin)
        li_label(w, "Providing the information",
                 u->required_for_service
                     ? "it is required for the service: if you do not provide it, we cannot "
                       "provide the service."
                     : "it is not a requirement of the service: you do not have to provide "
                       "it.");

    if (u->adm_logic) {
        li_open(w);
        strong(w, "Automated decision-making or profiling");
        t(w, ": ");
        adm_words(w, u);
        li_close(w);
    }

    if (u->nrecipients) {
        li_open(w);
        strong(w, "Shared with");
        t(w, ": ");
        for (size_t i = 0; i < u->nrecipients; i++) {
            if (i)
                t(w, "; ");
            t(w, recipient_label(p, u->recipients[i]));
        }
        t(w, ".");
        li_close(w);
    }
    if (u->ntransfers) {
        li_open(w);
        strong(w, "Sent outside the UK");
        t(w, ": ");
        for (size_t i = 0; i < u->ntransfers; i++) {
            if (u->transfers[i] >= p->ntransfers)
                continue;
            const cu_pol_transfer *x = &p->transfers[u->transfers[i]];
            if (i)
                t(w, "; ");
            t(w, "to ");
            t(w, x->country);
            t(w, " (safeguard: ");
            t(w, x->safeguard);
            t(w, ")");
        }
        t(w, ".");
        li_close(w);
    }
    if (!u->builtin && u->retention < p->nretention) {
        const cu_pol_retention *r = &p->retention[u->retention];
        retention_words(r, line, sizeof line);
        li_open(w);
        strong(w, "How long we keep it");
        t(w, ": ");
        t(w, r->description);
        t(w, ": ");
        t(w, line);
        t(w, ".");
        li_close(w);
    }
    ul_close(w);
}

static void sec_purposes(nw *w, const cu_policy *p)
{
    heading(w, 2, "Why we use your personal data, and our lawful basis");
    para(w, "Data protection law only allows us to use personal data when we have a lawful "
            "basis. For each purpose below we say which lawful basis we rely on (UK GDPR "
            "Article 6) and, for special category data such as health information, the "
            "further condition that applies (UK GDPR Article 9 and the Data Protection Act "
            "2018).");
    for (size_t i = 0; i < p->npurposes; i++)
        purpose_block(w, p, &p->purposes[i]);
    purpose_block(w, p, cu_policy_rights_purpose());
}

static void sec_recipients(nw *w, const cu_policy *p)
{
    heading(w, 2, "Who we share your personal data with");
    if (!p->nrecipients) {
        para(w, "We do not share your personal data with other organisations.");
    } else {
        para(w, "We only share personal data with other organisations where it is necessary "
                "for the purposes above. We share it with:");
        ul_open(w);
        for (size_t i = 0; i < p->nrecipients; i++) {
            const cu_pol_recipient *r = &p->recipients[i];
            li_open(w);
            strong(w, r->category);
            if (r->description) {
                t(w, ": ");
                t(w, r->description);
            }
            if (r->nnames) {
                t(w, r->description ? " Named organisations: " : ": ");
                t_list(w, r->names, r->nnames);
                t(w, ".");
            }
            li_close(w);
        }
        ul_close(w);
    }
    if (p->nprocessors) {
        heading(w, 3, "Organisations that process personal data for us");
        para(w, "These organisations (processors) use personal data only on our "
                "instructions, under a contract with us that requires them to keep it safe:");
        ul_open(w);
        for (size_t i = 0; i < p->nprocessors; i++) {
            const cu_pol_processor *x = &p->processors[i];
            li_open(w);
            strong(w, x->name);
            t(w, ": ");
            t(w, x->service);
            if (x->country) {
                t(w, " Location: ");
                t(w, x->country);
                t(w, ".");
            }
            if (x->contact) {
                t(w, " Contact: ");
                t(w, x->contact);
            }
            li_close(w);
        }
        ul_close(w);
    }
}

static void sec_transfers(nw *w, const cu_policy *p)
{
    heading(w, 2, "Sending personal data outside the UK");
    if (!p->ntransfers) {
        para(w, "We do not send your personal data outside the UK.");
        return;
    }
    para(w, "Some personal data is sent outside the UK. Each transfer is protected by a "
            "safeguard that UK data protection law recognises:");
    ul_open(w);
    for (size_t i = 0; i < p->ntransfers; i++) {
        const cu_pol_transfer *x = &p->transfers[i];
        li_open(w);
        strong(w, x->country);
        t(w, ": to ");
        t(w, recipient_label(p, x->recipient));
        if (x->recipient < p->nrecipients && p->recipients[x->recipient].nnames) {
            const cu_pol_recipient *r = &p->recipients[x->recipient];
            t(w, " (");
            t_list(w, r->names, r->nnames);
            t(w, ")");
        }
        t(w, ". Safeguard: ");
        t(w, x->safeguard);
        t(w, ".");
        if (x->description) {
            t(w, " ");
            sentence(w, x->description);
        }
        li_close(w);
    }
    ul_close(w);
}

static void sec_retention(nw *w, const cu_policy *p)
{
    char words[256];
    heading(w, 2, "How long we keep your personal data");
    para(w, "We keep personal data only for as long as we need it for the purposes it was "
            "collected for and to meet our legal and regulatory obligations:");
    ul_open(w);
    for (size_t i = 0; i < p->nretention; i++) {
        const cu_pol_retention *r = &p->retention[i];
        retention_words(r, words, sizeof words);
        li_open(w);
        strong(w, r->description);
        t(w, ": ");
        t(w, words);
        t(w, ".");
        if (r->trigger != CU_TRIGGER_REQUEST) {
            if (r->erase_on_request)
                t(w, " If you ask us to erase it before then, we will do so without delay.");
            else
                t(w, " Because we must keep it for this time, we cannot normally erase it "
                     "earlier if you ask; if we refuse a request, we will tell you why.");
        }
        if (r->legal_source) {
            t(w, " Why this period: ");
            t(w, r->legal_source);
            t(w, ".");
        }
        li_close(w);
    }
    ul_close(w);
}

static void sec_adm(nw *w, const cu_policy *p)
{
    heading(w, 2, "Automated decision-making and profiling");
    size_t n = 0;
    for (size_t i = 0; i < p->npurposes; i++)
        n += p->purposes[i].adm_logic != NULL;
    if (!n) {
        para(w, "We do not make decisions about you based solely on automated processing, "
                "and we do not use profiling.");
        return;
    }
    para(w, "We use automated decision-making or profiling for these purposes:");
    ul_open(w);
    for (size_t i = 0; i < p->npurposes; i++) {
        const cu_pol_purpose *u = &p->purposes[i];
        if (!u->adm_logic)
            continue;
        li_open(w);
        strong(w, u->description);
        t(w, ": how it works: ");
        adm_words(w, u);
        li_close(w);
    }
    ul_close(w);
    para(w, "You have the right not to be subject to a decision based solely on automated "
            "processing, including profiling, that has legal or similarly significant effects "
            "on you. Where such a decision is made, you can ask for a person to review it, "
            "give your point of view and challenge the decision.");
}

static void sec_rights(nw *w, const cu_policy *p)
{
    heading(w, 2, "Your rights");
    para(w, "You have these rights under UK data protection law:");
    ul_open(w);
    li_label(w, "The right to be informed",
             "to be told how we use your personal data, which is what this notice does.");
    li_label(w, "The right of access",
             "to ask for a copy of your personal data and for information about how we use "
             "it.");
    li_label(w, "The right to rectification",
             "to ask us to correct personal data that is wrong, or to complete personal data "
             "that is incomplete.");
    li_label(w, "The right to erasure",
             "to ask us to delete your personal data. This right is not absolute: some "
             "records, such as health records, must be kept for a set time (see \"How long we "
             "keep your personal data\").");
    li_label(w, "The right to restrict processing",
             "to ask us to limit how we use your personal data, for example while we check "
             "that it is accurate.");
    li_label(w, "The right to data portability",
             "to receive the personal data you gave us in a structured, machine-readable "
             "format, or to ask us to send it to another organisation, where we use it by "
             "automated means on the basis of your consent or a contract.");
    li_label(w, "The right to object",
             "to object to our use of your personal data where we rely on public task or "
             "legitimate interests. You have an absolute right to object to direct "
             "marketing: if you object, we will stop using your personal data for direct "
             "marketing.");
    li_label(w, "Rights about automated decision-making and profiling",
             "not to be subject to a decision based solely on automated processing, "
             "including profiling, that has legal or similarly significant effects on you.");
    li_label(w, "The right to withdraw consent",
             "where we rely on your consent, you can withdraw it at any time.");
    ul_close(w);
    p_open(w);
    strong(w, "How to use your rights");
    t(w, ": contact ");
    dpo_how(w, p);
    t(w, ". We will answer within one month of receiving your request. If your request is "
         "complex, or you make several, we may need up to two more months; if so, we will "
         "tell you within the first month. Using your rights is free of charge: we may only "
         "charge a reasonable fee, or refuse, if a request is manifestly unfounded or "
         "excessive, and we will tell you why.");
    p_close(w);
}

static void sec_cookies(nw *w, const cu_policy *p)
{
    heading(w, 2, "Cookies");
    if (!p->ncookies) {
        para(w, "We do not use cookies.");
        return;
    }
    para(w, "Cookies are small files that websites put on your computer or phone. We use "
            "these cookies:");
    static const char *const heads[5] = {"Cookie", "Set by", "What it is for",
                                         "How long it lasts", "Do we ask your consent?"};
    table_open(w, heads, 5);
    bool any_consent = false;
    for (size_t i = 0; i < p->ncookies; i++) {
        const cu_pol_cookie *c = &p->cookies[i];
        any_consent |= c->consent_required;
        const char *cells[5] = {
            c->name, c->provider ? c->provider : "us", c->purpose, c->duration,
            c->consent_required ? "Yes"
                                : (c->strictly_necessary ? "No: strictly necessary" : "No")};
        table_row(w, cells, 5);
    }
    table_close(w);
    if (any_consent)
        para(w, "We only set cookies that need your consent after you agree, and you can "
                "change your mind at any time. You can also block or delete cookies in your "
                "browser settings; some parts of a website may not work without them.");
}

static void sec_security(nw *w, const cu_policy *p)
{
    heading(w, 2, "How we keep your personal data secure");
    para(w, "We protect your personal data against unauthorised access, loss and disclosure "
            "with these measures:");
    ul_open(w);
    for (size_t i = 0; i < p->nsecurity; i++)
        li(w, p->security[i]);
    ul_close(w);
}

static void sec_undertakings(nw *w, const cu_policy *p)
{
    if (!p->nundertakings)
        return;
    heading(w, 2, "Our promises to you");
    ul_open(w);
    for (size_t i = 0; i < p->nundertakings; i++)
        li(w, p->undertakings[i]);
    ul_close(w);
}

static void sec_complain(nw *w, const cu_policy *p)
{
    heading(w, 2, "How to complain");
    p_open(w);
    t(w, "If you have a concern about how we use your personal data, please contact ");
    dpo_how(w, p);
    t(w, " first. You also have the right to complain to the Information Commissioner's "
         "Office (ICO), the UK's independent regulator for data protection:");
    p_close(w);
    ul_open(w);
    li_open(w);
    strong(w, "Online");
    t(w, ": ");
    link(w, ICO_COMPLAINT_URL);
    li_close(w);
    li_label(w, "Helpline", ICO_HELPLINE);
    li_label(w, "Post", ICO_ADDRESS);
    ul_close(w);
}

static void sec_changes(nw *w, const cu_policy *p)
{
    heading(w, 2, "Changes to this notice");
    para(w, p->changes ? p->changes
                       : "We keep this notice under regular review. When we change it, we "
                         "publish the new version here with its version number and date.");
    if (p->version > 0) {
        char date[48], line[128];
        date_words(p->applied_at, date, sizeof date);
        snprintf(line, sizeof line, "This is version %lld of this notice, applied on %s.",
                 (long long)p->version, date);
        para(w, line);
    } else {
        para(w, "This notice is a draft — not yet applied.");
    }
}

/* ------------------------------------------------------------------ page */

int cu_notice_render(const cu_policy *p, cu_notice_format f, cu_buf *out, cu_err *err)
{
    return cu_notice_render_page(p, f, NULL, out, err);
}

int cu_notice_render_page(const cu_policy *p, cu_notice_format f, const char *assets, cu_buf *out,
                          cu_err *err)
{
    if (!p || !out || (f != CU_NOTICE_MD && f != CU_NOTICE_HTML))
        return cu_err_set(err, CU_EINVAL, "no policy to render");
    size_t start = out->len;
    nw w = {.out = out, .f = f, .rc = CU_OK, .bol = true};
    char title[300];
    snprintf(title, sizeof title, "Privacy notice: %s",
             p->controller.name ? p->controller.name : "");
    if (f == CU_NOTICE_HTML) {
        cu_html_init(&w.h, out);
        cu_page pg = {.title = title, .service = p->controller.name, .assets = assets};
        cu_page_begin(&w.h, &pg);
    }
    sec_title(&w, p);
    sec_who(&w, p);
    sec_dpo(&w, p);
    sec_data(&w, p);
    sec_purposes(&w, p);
    sec_recipients(&w, p);
    sec_transfers(&w, p);
    sec_retention(&w, p);
    sec_adm(&w, p);
    sec_rights(&w, p);
    sec_cookies(&w, p);
    sec_security(&w, p);
    sec_undertakings(&w, p);
    sec_complain(&w, p);
    sec_changes(&w, p);
    if (f == CU_NOTICE_HTML) {
        cu_page_end(&w.h);
        w.rc = cu_html_done(&w.h);
    }
    if (w.rc) {
        if (out->data) {
            out->len = start;
            out->data[start] = '\0';
        }
        return cu_err_set(err, w.rc, "privacy notice larger than %zu bytes", out->limit);
    }
    return CU_OK;
}
