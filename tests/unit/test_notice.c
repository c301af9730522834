/*
 * test_notice.c — the documents generated from a policy: the privacy notice
 * (notice.c, Markdown and HTML) and the record of processing (ropa.c, JSON
 * and CSV).
 *
 * The two shipped profiles (profiles/therapyaudit.json, profiles/healthya.json)
 * each come with a checklist: every commitment of the source privacy notice
 * (seed 000, seed 002) and the phrases the generated notice must contain to
 * state it. Each phrase is looked for in the visible text of both formats
 * (Markdown with its escapes and emphasis removed; HTML with its tags removed
 * and character references decoded). The profiles are read from the source
 * tree: $CUSTOS_SOURCE_ROOT, else the CUSTOS_SOURCE_ROOT the build defines.
 *
 * The rest runs on a policy built by hand in C: escaping of hostile strings,
 * version and date, the Article 30 keys of the JSON record, the CSV's shape,
 * quoting and formula-injection guard, and determinism.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/policy.h"
#include "domain/audit.h"
#include "domain/access.h"
#include "domain/consent.h"
#include "domain/disclosure.h"
#include "domain/requests.h"
#include "iface/notice.h"
#include "iface/wording.h"
#include "util/buf.h"
#include "util/err.h"

/* ------------------------------------------------------------------ helpers */

static char *read_profile(const char *name, size_t *len)
{
    const char *root = getenv("CUSTOS_SOURCE_ROOT");
#ifdef CUSTOS_SOURCE_ROOT
    if (!root || !*root)
        root = CUSTOS_SOURCE_ROOT;
#endif
    char path[1024];
    snprintf(path, sizeof path, "%s/profiles/%s", root && *root ? root : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (set CUSTOS_SOURCE_ROOT to the source tree)", path);
    char *data = malloc(CU_POLICY_MAX_BYTES + 1);
    assert_non_null(data);
    size_t n = fread(data, 1, CU_POLICY_MAX_BYTES + 1, f);
    fclose(f);
    assert_true(n <= CU_POLICY_MAX_BYTES);
    data[n] = '\0';
    *len = n;
    return data;
}

/* Parses a shipped profile; skips the test while the parser is not built. */
static cu_policy *load_profile(const char *name)
{
    size_t len;
    char *json = read_profile(name, &len);
    cu_policy *p = NULL;
    cu_pol_report rep = {0};
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_policy_parse(json, len, &p, &rep, &err);
    free(json);
    if (rc == CU_EINTERNAL) {
        cu_pol_report_release(&rep);
        skip();
    }
    for (size_t i = 0; i < rep.n; i++)
        if (rep.v[i].error)
            print_error("%s: %s %s: %s\n", name, rep.v[i].path, rep.v[i].rule, rep.v[i].msg);
    if (rc != CU_OK) {
        cu_pol_report_release(&rep);
        fail_msg("%s does not validate: %s", name, err.msg);
    }
    /* The only warnings are the placeholders the source notices leave
     * (no data-minimisation finding: the seeds use every category they
     * collect), three in each profile. */
    size_t placeholders = 0;
    for (size_t i = 0; i < rep.n; i++) {
        if (strcmp(rep.v[i].rule, "placeholder") == 0) {
            placeholders++;
            continue;
        }
        print_error("%s: warning %s %s: %s\n", name, rep.v[i].path, rep.v[i].rule,
                    rep.v[i].msg);
    }
    assert_int_equal(placeholders, 3);
    assert_int_equal(rep.nwarnings, placeholders);
    cu_pol_report_release(&rep);
    assert_non_null(p);
    return p;
}

/* What a render that returned rc wrote into b, as a string (malloc'd). */
static char *rendered(cu_buf *b, int rc, const cu_err *err, const char *what)
{
    if (rc)
        fail_msg("%s: %s", what, err->msg);
    char *s = strdup(cu_buf_str(b));
    assert_non_null(s);
    cu_buf_release(b);
    return s;
}

static char *render(const cu_policy *p, cu_notice_format f)
{
    cu_buf b;
    cu_buf_init(&b, 0);
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_notice_render(p, f, &b, &err);
    return rendered(&b, rc, &err, "render");
}

static char *ropa(const cu_policy *const *pols, const char *const *ids, size_t n,
                  cu_ropa_format f)
{
    cu_buf b;
    cu_buf_init(&b, 0);
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_ropa_render(pols, ids, n, f, &b, &err);
    return rendered(&b, rc, &err, "ropa");
}

/* Appends c to out, collapsing white space to one space. */
static void vis_put(char *out, size_t *n, char c)
{
    if (isspace((unsigned char)c)) {
        if (*n && out[*n - 1] == ' ')
            return;
        c = ' ';
    }
    out[(*n)++] = c;
}

/* The text a reader sees in Markdown: backslash escapes resolved, ** removed. */
static char *visible_md(const char *md)
{
    char *out = malloc(strlen(md) + 1);
    assert_non_null(out);
    size_t n = 0;
    for (const char *p = md; *p; p++) {
        if (p[0] == '\\' && p[1] && ispunct((unsigned char)p[1])) {
            vis_put(out, &n, *++p);
        } else if (p[0] == '*' && p[1] == '*') {
            p++;
        } else {
            vis_put(out, &n, *p);
        }
    }
    out[n] = '\0';
    return out;
}

/* The text a reader sees in HTML: tags removed, references decoded. */
static char *visible_html(const char *html)
{
    static const struct {
        const char *ref, ch;
    } refs[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
    const char *body = strstr(html, "<body>");
    assert_non_null(body);
    char *out = malloc(strlen(body) + 1);
    assert_non_null(out);
    size_t n = 0;
    for (const char *p = body; *p; p++) {
        if (*p == '<') {
            /* Inline elements leave no space; block elements end a line. */
            static const char *const inl[] = {"<strong>", "</strong>", "<a ", "</a>", NULL};
            bool inline_tag = false;
            for (size_t k = 0; inl[k] && !inline_tag; k++)
                inline_tag = strncmp(p, inl[k], strlen(inl[k])) == 0;
            const char *e = strchr(p, '>');
            assert_non_null(e);
            p = e;
            if (!inline_tag)
                vis_put(out, &n, ' ');
            continue;
        }
        if (*p == '&') {
            size_t k = 0;
            while (k < sizeof refs / sizeof refs[0] && strncmp(p, refs[k].ref, strlen(refs[k].ref)))
                k++;
            if (k == sizeof refs / sizeof refs[0])
                fail_msg("unknown character reference at: %.20s", p);
            vis_put(out, &n, refs[k].ch);
            p += strlen(refs[k].ref) - 1;
            continue;
        }
        vis_put(out, &n, *p);
    }
    out[n] = '\0';
    return out;
}

/* The text a reader sees in the notice of p in format f (malloc'd). */
static char *visible(const cu_policy *p, cu_notice_format f)
{
    char *s = render(p, f);
    char *v = f == CU_NOTICE_MD ? visible_md(s) : visible_html(s);
    free(s);
    return v;
}

/* Rendering p twice gives the same bytes, in both formats. */
static void assert_notice_deterministic(const cu_policy *p)
{
    for (int f = 0; f < 2; f++) {
        char *a = render(p, (cu_notice_format)f), *b = render(p, (cu_notice_format)f);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
}

static bool contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

typedef struct commitment {
    const char *what;        /* the commitment, in the seed's terms */
    const char *phrases[6];  /* all must appear in the generated notice */
} commitment;

static void check_checklist(const char *profile, const commitment *list, size_t n,
                            size_t at_least)
{
    assert_true(n >= at_least);
    cu_policy *p = load_profile(profile);
    char *vmd = visible(p, CU_NOTICE_MD), *vhtml = visible(p, CU_NOTICE_HTML);
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < 6 && list[i].phrases[j]; j++) {
            if (!contains(vmd, list[i].phrases[j])) {
                print_error("%s [%s]: Markdown lacks \"%s\"\n", profile, list[i].what,
                            list[i].phrases[j]);
                missing++;
            }
            if (!contains(vhtml, list[i].phrases[j])) {
                print_error("%s [%s]: HTML lacks \"%s\"\n", profile, list[i].what,
                            list[i].phrases[j]);
                missing++;
            }
        }
    }
    free(vmd);
    free(vhtml);
    cu_policy_free(p);
    assert_int_equal(missing, 0);
}

/* ------------------------------------------------------------------ checklists */

/* Phrases every notice carries (rights, complaint, draft marker). */
#define COMMON_COMMITMENTS                                                                   \
    {"right to be informed", {"The right to be informed"}},                                  \
    {"right of access", {"The right of access"}},                                            \
    {"right to rectification", {"The right to rectification"}},                              \
    {"right to erasure", {"The right to erasure"}},                                          \
    {"right to restrict processing", {"The right to restrict processing"}},                  \
    {"right to data portability", {"The right to data portability"}},                        \
    {"right to object, absolute for direct marketing",                                       \
     {"The right to object", "absolute right to object to direct marketing"}},                \
    {"rights about automated decision-making and profiling",                                 \
     {"Rights about automated decision-making and profiling"}},                              \
    {"how to use the rights: one month, free",                                               \
     {"How to use your rights: contact our Data Protection Officer", "within one month",     \
      "free of charge"}},                                                                    \
    {"complaint to the ICO",                                                                 \
     {"Information Commissioner's Office", "https://ico.org.uk/make-a-complaint/",           \
      "0303 123 1113", "Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF"}},           \
    {"version and date of the notice", {"Draft — not yet applied"}},                         \
    {"answering rights requests (built-in purpose)",                                         \
     {"Answering the requests you make under data protection law",                           \
      "legal obligation — UK GDPR Article 6(1)(c)"}}

/* Seed 000: THERAPYAUDIT Limited. */
static const commitment therapyaudit[] = {
    {"who we are", {"THERAPYAUDIT Limited", "beetroot & THERAPYAUDIT Limited"}},
    {"DPO contact", {"Our Data Protection Officer",
                     "Unit 4 Century House, Swavesey, Cambridge CB24 4QG"}},
    {"ICO registration (placeholder)",
     {"ZA000000 (placeholder: not stated in the source notice)"}},
    {"processor for NHS customers and charities",
     {"processes other personal data on behalf of the organisations listed below",
      "NHS Trusts", "GP practices", "Charities"}},
    {"host and maintain digital health systems",
     {"Hosting and maintaining digital health systems"}},
    {"contact details", {"names, aliases, addresses, postcodes, telephone numbers and email "
                         "addresses"}},
    {"identifying details", {"date of birth and reference numbers such as NHS numbers"}},
    {"health and genetic data", {"medical history", "Genetic data",
                                 "special category data, which the law protects more strongly"}},
    {"private and subjective data", {"religion, gender and sexual orientation"}},
    {"family and personal circumstances", {"family, dependants or personal circumstances",
                                           "who they can speak to about your care"}},
    {"workplace, education, financial", {"Workplace, education or financial information"}},
    {"online identifiers", {"IP addresses and cookie identifiers"}},
    {"sources", {"NHS organisations", "local authorities",
                 "national sources such as NHS England and the Office for National Statistics",
                 "Where it comes from: you"}},
    {"direct care: public task + health or social care",
     {"public task — UK GDPR Article 6(1)(e)", "health or social care — UK GDPR Article 9(2)(h)",
      "Schedule 1: Part 1, paragraph 2", "management of health or social care systems"}},
    {"information on behalf of the healthcare provider",
     {"Providing you with information on behalf of your healthcare provider"}},
    {"questionnaires (PSFU)", {"questionnaires", "Personalised Stratified Follow Up"}},
    {"enquiries, complaints, concerns", {"Handling your enquiries, complaints or concerns"}},
    {"access to website areas", {"Providing access to certain areas of our websites"}},
    {"informing of services, with consent",
     {"Informing you of services which may be of relevance to you",
      "we only do this with your consent", "withdraw your consent at any time",
      "unsubscribe link"}},
    {"auditing and improving IT", {"Auditing and improving our IT systems and websites"}},
    {"stakeholder engagement", {"focus groups or surveys"}},
    {"reports to clinicians and commissioners, pseudonymised",
     {"reports to our clinician and commissioning customers", "pseudonymised", "anonymised"}},
    {"further information requested on the websites",
     {"Sending you further information about our services"}},
    {"website analytics: legitimate interests",
     {"legitimate interests — UK GDPR Article 6(1)(f)",
      "maintain and monitor their performance"}},
    {"Google Analytics transfer to the USA with a safeguard",
     {"Google (Google Analytics)", "United States of America",
      "UK Extension to the EU-US Data Privacy Framework", "UK-US data bridge"}},
    {"legal disclosures: court order, fraud and crime",
     {"court order", "prevent fraud or other crimes",
      "legal obligation — UK GDPR Article 6(1)(c)"}},
    {"shared with NHS organisations in the four nations",
     {"NHS organisations in England, Scotland, Northern Ireland and Wales",
      "Trusts, Health Boards, GPs and Pharmacists"}},
    {"shared with other care providers and charities",
     {"Other care providing organisations, such as local authorities",
      "Third sector organisations, including charities"}},
    {"health data kept 8 years, not erased on request",
     {"Personal health data", "kept for 8 years after your last contact with the service",
      "cannot normally erase it earlier"}},
    {"non-health data deleted immediately on request",
     {"reasons other than your health", "deleted as soon as you ask"}},
    {"security: auditing, access control, records, computer controls, encryption",
     {"we keep records of those who access personal information",
      "their own username and password", "Electronic records management",
      "such as hackers", "laptops, are encrypted"}},
    {"IG training every two years; disciplinary action",
     {"Information Governance training every two years", "including dismissal"}},
    {"third parties keep data safe",
     {"keep all personal data they process on our behalf safe and secure"}},
    {"health data in NHS-secure locations", {"NHS HSCN private network"}},
    {"SSL on the websites", {"SSL encryption"}},
    {"no selling or renting",
     {"We will not sell or rent your personal data to third parties"}},
    {"no sharing with commercial companies for marketing",
     {"We will not share your personal data with commercial companies for marketing "
      "purposes"}},
    {"search logged anonymously", {"logged anonymously"}},
    {"Google Analytics cookies need consent",
     {"_ga", "_ga_<container-id>", "2 years", "only set cookies that need your consent after "
                                              "you agree"}},
    {"no automated decision-making",
     {"We do not make decisions about you based solely on automated processing"}},
    {"changes apply immediately",
     {"Changes to this notice", "apply to you and the information held about you "
                                "immediately"}},
    COMMON_COMMITMENTS,
};

/* Seed 002: ADDVantage Technologies Ltd (healthya). */
static const commitment healthya[] = {
    {"who we are", {"ADDVantage Technologies Ltd", "healthya", "10592069",
                    "Clive House, Clive Street, Bolton BL1 1ET"}},
    {"we are the controller", {"is the controller of the personal data described in this "
                               "notice"}},
    {"DPO contact", {"Our Data Protection Officer", "dpo@addvantage-technologies.co.uk"}},
    {"ICO registration (placeholder)",
     {"ZA000000 (placeholder: not stated in the source notice)"}},
    {"website", {"www.alldayDr.com", "https://www.alldaydr.com/"}},
    {"information you give us", {"name, email address, postal address or location and phone "
                                  "number", "patient questionnaire"}},
    {"technical information", {"Internet protocol (IP) address", "browser type and version",
                               "clickstream", "any phone number used to call our helpline"}},
    {"information from other sources",
     {"Information we receive about you from other sources"}},
    {"information given kept 7 years",
     {"kept for 7 years after your last contact with the service"}},
    {"technical and other-source information kept 7 years",
     {"kept for 7 years after we collect it"}},
    {"deleted on request as soon as reasonably practicable",
     {"as soon as reasonably practicable"}},
    {"contract with the service user",
     {"contract — UK GDPR Article 6(1)(b)", "Service User you represent"}},
    {"newsletters and marketing with consent",
     {"Sending you newsletters and marketing information",
      "consent — UK GDPR Article 6(1)(a)", "we only do this with your consent"}},
    {"products and services (consent)", {"products and services we feel may interest you"}},
    {"consent withdrawable, via the App or Unsubscribe",
     {"withdraw your consent at any time", "healthya App", "\"Unsubscribe\""}},
    {"direct marketing objection", {"absolute right to object"}},
    {"third parties contact you only with consent",
     {"Passing your personal details to third parties",
      "only if you consent to the disclosure"}},
    {"website statistics to third parties", {"providing statistics to third parties"}},
    {"legitimate interests: improve, fraud, security, interaction",
     {"legitimate interests — UK GDPR Article 6(1)(f)", "Identifying and preventing fraud",
      "security of our network and information systems", "how people interact"}},
    {"legal obligations and enforcing terms",
     {"Complying with any legal obligation", "Enforcing or applying our terms and conditions"}},
    {"business sale or purchase", {"prospective buyer or seller"}},
    {"employee records: contract and legal obligation",
     {"our employees", "HMRC", "PAYE", "statutory sick pay", "auto-enrolment",
      "employment, social security and social protection law — UK GDPR Article 9(2)(b)"}},
    {"employee claims and insurers", {"Employment Tribunals", "Insurers"}},
    {"employee records retention", {"Employee and job applicant records"}},
    {"group companies", {"Members of our group", "section 1159 of the Companies Act 2006"}},
    {"partners, suppliers, sub-contractors",
     {"Business partners, suppliers and sub-contractors"}},
    {"advertisers, analytics and search providers",
     {"Advertisers, advertising networks, and analytics and search engine providers"}},
    {"fraud protection exchanges", {"fraud protection and credit risk reduction"}},
    {"no sharing, selling or distributing without consent unless required by law",
     {"We will not share, sell or distribute any of the information you provide to us",
      "unless required to do so by law"}},
    {"cookies: persistent and session, cookie policy",
     {"Persistent cookies", "Session cookies", "https://www.alldaydr.com/cookie_policy"}},
    {"automated decisions: profiling for adverts only",
     {"select and serve relevant adverts", "no legal or similarly significant effect"}},
    {"security technology", {"various levels of security technology"}},
    {"password kept confidential", {"keep your password confidential"}},
    {"breaches reported within 72 hours", {"within 72 hours"}},
    {"records retention code", {"Records Management Code of Practice for Health and Social "
                                "Care"}},
    {"third-party sites not our responsibility", {"third-party websites"}},
    COMMON_COMMITMENTS,
};

static void checklist_therapyaudit(void **state)
{
    (void)state;
    check_checklist("therapyaudit.json", therapyaudit,
                    sizeof therapyaudit / sizeof therapyaudit[0], 25);
}

static void checklist_healthya(void **state)
{
    (void)state;
    check_checklist("healthya.json", healthya, sizeof healthya / sizeof healthya[0], 25);
}

/* ------------------------------------------------------------------ a policy by hand */

typedef struct hand {
    cu_policy p;
    cu_pol_category cats[3];
    cu_pol_purpose purposes[3];
    cu_pol_recipient recipients[2];
    cu_pol_transfer transfers[1];
    cu_pol_retention retention[3];
    cu_pol_cookie cookies[1];
    cu_pol_processor processors[1];
    cu_pol_on_behalf on_behalf[1];
    cu_pol_party joint[1];
    size_t rec0[1], rec1[1], tr1[1], obtr[1];
    const char *names1[1], *security[2], *undertakings[1], *activities[2];
} hand;

static const char HOSTILE[] = "<script>alert(\"x\")</script> & 'quoted'";

static void hand_build(hand *h, const char *controller_name, cu_pol_role role)
{
    memset(h, 0, sizeof *h);
    cu_policy *p = &h->p;
    p->controller = (cu_pol_party){.name = controller_name,
                                   .address = "1 High Street, Leeds LS1 1AA",
                                   .email = "info@example.org",
                                   .phone = "0113 496 0000"};
    p->company_number = "01234567";
    p->ico_registration = "ZA000000";
    p->role = role;
    p->dpo = (cu_pol_party){.name = "Data Protection Officer", .email = "dpo@example.org"};
    h->joint[0] = (cu_pol_party){.name = "Partner Trust", .email = "ig@partner.example"};
    p->joint_controllers = h->joint;
    p->njoint = 1;
    p->representative = (cu_pol_party){.name = "EU Rep, Ltd", .address = "Dublin"};
    p->introduction = "# Heading\n- item [link](javascript:x) <img src=x onerror=alert(1)>";
    p->changes = NULL;

    h->cats[0] = (cu_pol_category){.id = "contact", .category = CU_CAT_CONTACT,
                                   .description = "Name, \"email\", phone",
                                   .sources = 1u << 0};
    h->cats[1] = (cu_pol_category){.id = "health", .category = CU_CAT_HEALTH,
                                   .description = HOSTILE, .sources = (1u << 2) | (1u << 5)};
    h->cats[2] = (cu_pol_category){.id = "online_identifier",
                                   .category = CU_CAT_ONLINE_ID,
                                   .description = "IP addresses_and *cookies*",
                                   .sources = 1u << 0};
    p->categories = h->cats;
    p->ncategories = 3;
    p->collected = (1u << CU_CAT_CONTACT) | (1u << CU_CAT_HEALTH) | (1u << CU_CAT_ONLINE_ID);

    h->retention[0] = (cu_pol_retention){.id = "adult", .description = "Adult records",
                                         .years = 8, .trigger = CU_TRIGGER_LAST_CONTACT};
    h->retention[1] = (cu_pol_retention){.id = "child", .description = "Children's records",
                                         .trigger = CU_TRIGGER_BIRTHDAY, .age = 25};
    h->retention[2] = (cu_pol_retention){.id = "web", .description = "Website data",
                                         .trigger = CU_TRIGGER_REQUEST,
                                         .erase_on_request = true};
    p->retention = h->retention;
    p->nretention = 3;

    h->names1[0] = "Analytics, Inc.";
    h->recipients[0] = (cu_pol_recipient){.id = "nhs", .category = "NHS organisations"};
    h->recipients[1] = (cu_pol_recipient){.id = "analytics", .category = "Analytics provider",
                                          .names = h->names1, .nnames = 1};
    p->recipients = h->recipients;
    p->nrecipients = 2;
    h->transfers[0] = (cu_pol_transfer){.id = "us", .recipient = 1,
                                        .country = "United States",
                                        .safeguard = "UK International Data Transfer Agreement"};
    p->transfers = h->transfers;
    p->ntransfers = 1;

    h->rec0[0] = 0;
    h->rec1[0] = 1;
    h->tr1[0] = 0;
    h->purposes[0] = (cu_pol_purpose){
        .id = "direct_care", .description = "Direct care", .basis = 'e',
        .special_condition = 'h', .schedule1 = "Part 1, paragraph 2",
        .categories = (1u << CU_CAT_CONTACT) | (1u << CU_CAT_HEALTH), .kinds = 1u << 0,
        .required_for_service = true, .recipients = h->rec0, .nrecipients = 1, .retention = 0};
    h->purposes[1] = (cu_pol_purpose){
        .id = "analytics", .description = "=HYPERLINK(\"http://evil\",\"click\")",
        .basis = 'f', .legitimate_interests = "Improving the site, quickly",
        .categories = 1u << CU_CAT_ONLINE_ID, .kinds = 1u << 1, .recipients = h->rec1,
        .nrecipients = 1, .transfers = h->tr1, .ntransfers = 1, .retention = 2,
        .adm_logic = "+ scores visits", .adm_significance = "-none"};
    h->purposes[2] = (cu_pol_purpose){
        .id = "newsletter", .description = "@Newsletter", .basis = 'a',
        .categories = 1u << CU_CAT_CONTACT, .kinds = (1u << 0) | (1u << 1),
        .consent_required = true, .direct_marketing = true, .retention = 1};
    p->purposes = h->purposes;
    p->npurposes = 3;

    h->cookies[0] = (cu_pol_cookie){.name = "_ga|x", .provider = "Google",
                                    .purpose = "Distinguishes users", .duration = "2 years",
                                    .consent_required = true};
    p->cookies = h->cookies;
    p->ncookies = 1;
    h->processors[0] = (cu_pol_processor){.name = "Hosting Co", .service = "Hosting",
                                          .country = "United Kingdom"};
    p->processors = h->processors;
    p->nprocessors = 1;
    h->security[0] = "Encryption at rest";
    h->security[1] = "Line one\r\nline two";
    p->security = h->security;
    p->nsecurity = 2;
    h->undertakings[0] = "We will not sell your data.";
    p->undertakings = h->undertakings;
    p->nundertakings = 1;

    if (role != CU_POL_CONTROLLER) {
        h->activities[0] = "Hosting the clinical system";
        h->activities[1] = "Sending questionnaires";
        h->obtr[0] = 0;
        h->on_behalf[0] = (cu_pol_on_behalf){
            .controller = "Example NHS Trust", .contact = "dpo@trust.example",
            .activities = h->activities, .nactivities = 2,
            .categories = (1u << CU_CAT_CONTACT) | (1u << CU_CAT_HEALTH),
            .transfers = h->obtr, .ntransfers = 1};
        p->on_behalf = h->on_behalf;
        p->non_behalf = 1;
    }
}

/* ------------------------------------------------------------------ notice */

static void html_is_a_complete_escaped_page(void **state)
{
    (void)state;
    hand h;
    hand_build(&h, HOSTILE, CU_POL_BOTH);
    char *html = render(&h.p, CU_NOTICE_HTML);
    assert_int_equal(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en-GB\">", 35), 0);
    assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
    assert_null(strstr(html, "<style"));
    assert_non_null(strstr(html, "</html>\n"));
    /* Nothing from the policy becomes markup. */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, " src=\""));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, " style="));
    assert_non_null(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
                                 "&#39;quoted&#39;"));
    assert_non_null(strstr(html, "<title>Privacy notice: &lt;script&gt;"));
    assert_non_null(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"));
    /* The only links are the page shell's skip link and the ICO's, constants. */
    const char *a = strstr(html, "<a ");
    assert_non_null(a);
    assert_int_equal(strncmp(a, "<a class=\"nhsuk-skip-link\" href=\"#maincontent\">", 47), 0);
    a = strstr(a + 1, "<a ");
    assert_non_null(a);
    assert_int_equal(strncmp(a, "<a href=\"https://ico.org.uk/make-a-complaint/\">", 47), 0);
    assert_null(strstr(a + 1, "<a "));
    /* Every tag that is opened is one of ours. */
    static const char *const allowed[] = {"html", "head", "meta", "title", "body", "header",
                                          "footer", "div", "span", "main", "h1", "h2", "h3",
                                          "p", "ul", "li", "strong", "table", "thead", "tbody",
                                          "tr", "th", "td", "a", NULL};
    const char *body = strstr(html, "<body>");
    for (const char *p = strchr(body, '<'); p; p = strchr(p + 1, '<')) {
        const char *n = p + 1 + (p[1] == '/');
        size_t len = strcspn(n, " >");
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strlen(allowed[i]) == len && strncmp(n, allowed[i], len) == 0;
        if (!ok)
            fail_msg("unexpected tag: %.30s", p);
    }
    free(html);
}

static void markdown_escapes_structure(void **state)
{
    (void)state;
    hand h;
    hand_build(&h, HOSTILE, CU_POL_BOTH);
    char *md = render(&h.p, CU_NOTICE_MD);
    /* The introduction's "# Heading\n- item" stays one paragraph of text. */
    assert_non_null(strstr(md, "\n\\# Heading - item \\[link\\](javascript:x) "
                               "\\<img src=x onerror=alert(1)\\>\n"));
    assert_null(strstr(md, "\n# Heading"));
    for (const char *p = strchr(md, '<'); p; p = strchr(p + 1, '<'))
        if (p == md || p[-1] != '\\')
            assert_int_equal(strncmp(p, "<https://ico.org.uk/", 20), 0); /* autolink */
    assert_non_null(strstr(md, "\\<script\\>alert(\"x\")\\</script\\> \\& 'quoted'"));
    assert_non_null(strstr(md, "IP addresses\\_and \\*cookies\\*"));
    /* A table cell cannot break out of its column. */
    assert_non_null(strstr(md, "| \\_ga\\|x |"));
    /* A multi-line value stays on one line. */
    assert_non_null(strstr(md, "- Line one line two\n"));
    char *v = visible_md(md);
    assert_non_null(strstr(v, "# Heading - item [link](javascript:x)"));
    free(v);
    free(md);
}

static void version_and_date(void **state)
{
    (void)state;
    hand h;
    hand_build(&h, "Example Health Ltd", CU_POL_CONTROLLER);
    for (int f = 0; f < 2; f++) {
        char *v = visible(&h.p, (cu_notice_format)f);
        assert_non_null(strstr(v, "Draft — not yet applied."));
        assert_non_null(strstr(v, "This notice is a draft — not yet applied."));
        free(v);
    }
    h.p.version = 3;
    h.p.applied_at = INT64_C(1780000000) * 1000000; /* 2026-05-28T20:26:40Z */
    for (int f = 0; f < 2; f++) {
        char *v = visible(&h.p, (cu_notice_format)f);
        assert_non_null(strstr(v, "Version 3, applied on 28 May 2026."));
        assert_non_null(strstr(v, "This is version 3 of this notice, applied on 28 May 2026."));
        assert_null(strstr(v, "Draft"));
        free(v);
    }
}

static void notice_states_each_rule(void **state)
{
    (void)state;
    hand h;
    hand_build(&h, "Example Health Ltd", CU_POL_BOTH);
    static const char *const phrases[] = {
        "public task — UK GDPR Article 6(1)(e)",
        "health or social care — UK GDPR Article 9(2)(h), with the condition in the Data "
        "Protection Act 2018, Schedule 1: Part 1, paragraph 2.",
        "Our legitimate interests: Improving the site, quickly",
        "consent — UK GDPR Article 6(1)(a)",
        "we only do this with your consent. You can withdraw your consent at any time",
        "by email at dpo@example.org",
        "or by using the unsubscribe link in any marketing message we send you",
        "Direct marketing: this is direct marketing. You have an absolute right to object",
        "Providing the information: it is required for the service: if you do not provide "
        "it, we cannot provide the service.",
        "Providing the information: it is not a requirement of the service",
        "Adult records: kept for 8 years after your last contact with the service.",
        "Children's records: kept until your 25th birthday.",
        "Website data: kept until you ask us to delete it, and deleted as soon as you ask.",
        "United States: to Analytics provider (Analytics, Inc.). Safeguard: UK International "
        "Data Transfer Agreement.",
        "+ scores visits. What this means for you: -none.",
        "Partner Trust",
        "Our representative for data protection matters is EU Rep, Ltd.",
        "Example NHS Trust: Hosting the clinical system; Sending questionnaires.",
        "Hosting Co: Hosting Location: United Kingdom.",
        "Where it comes from: NHS organisations, national sources such as NHS England and the "
        "Office for National Statistics.",
        "Whose data: patients, visitors to our websites.",
        "We will not sell your data.",
        "Answering the requests you make under data protection law",
    };
    for (int f = 0; f < 2; f++) {
        char *v = visible(&h.p, (cu_notice_format)f);
        for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
            if (!contains(v, phrases[i]))
                fail_msg("%s lacks: %s", f ? "HTML" : "Markdown", phrases[i]);
        free(v);
    }
    /* No transfers, no automated decisions, no cookies: said plainly. */
    h.p.ntransfers = 0;
    h.purposes[1].ntransfers = 0;
    h.purposes[1].adm_logic = h.purposes[1].adm_significance = NULL;
    h.p.ncookies = 0;
    char *v = visible(&h.p, CU_NOTICE_MD);
    assert_non_null(strstr(v, "We do not send your personal data outside the UK."));
    assert_non_null(strstr(v, "We do not make decisions about you based solely on automated "
                              "processing"));
    assert_non_null(strstr(v, "We do not use cookies."));
    free(v);
}

static void notice_is_deterministic(void **state)
{
    (void)state;
    hand h;
    hand_build(&h, HOSTILE, CU_POL_BOTH);
    assert_notice_deterministic(&h.p);
}

static void notice_refuses_what_does_not_fit(void **state)
{
    (void)state;
    hand h;
    hand_build(&h, "Example Health Ltd", CU_POL_CONTROLLER);
    cu_buf b;
    cu_buf_init(&b, 256);
    assert_int_equal(cu_buf_append_str(&b, "kept"), CU_OK);
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_notice_render(&h.p, CU_NOTICE_HTML, &b, &err), CU_ENOMEM);
    assert_string_equal(cu_buf_str(&b), "kept"); /* nothing half-written */
    assert_int_equal(cu_notice_render(NULL, CU_NOTICE_MD, &b, NULL), CU_EINVAL);
    cu_buf_release(&b);
}

/* ------------------------------------------------------------------ record of processing */

static const char *const ART30_1[] = {
    "name_and_contact", "purposes", "categories_of_data_subjects",
    "categories_of_personal_data", "categories_of_recipients", "transfers",
    "erasure_time_limits", "security_measures", NULL};
static const char *const ART30_2[] = {"name_and_contact", "categories_of_processing",
                                      "transfers", "security_measures", NULL};

static void check_ropa_json(const char *text, size_t n, const cu_policy *const *pols,
                            const char *const *ids)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root)
        fail_msg("ROPA JSON does not parse: %s (line %d)", je.text, je.line);
    assert_string_equal(json_string_value(json_object_get(root, "format")), "custos-ropa/1");
    json_t *ctrls = json_object_get(root, "controllers");
    assert_true(json_is_array(ctrls));
    assert_int_equal(json_array_size(ctrls), n);
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(ctrls, i);
        const cu_policy *p = pols[i];
        assert_string_equal(json_string_value(json_object_get(c, "controller_id")), ids[i]);
        assert_int_equal(json_integer_value(json_object_get(c, "policy_version")), p->version);
        assert_non_null(json_object_get(c, "applied_at"));
        json_t *cf = json_object_get(c, "controller_form");
        assert_true(json_is_object(cf));
        for (size_t k = 0; ART30_1[k]; k++)
            if (!json_object_get(cf, ART30_1[k]))
                fail_msg("controller %zu: controller_form lacks %s", i, ART30_1[k]);
        json_t *nc = json_object_get(cf, "name_and_contact");
        assert_non_null(json_object_get(nc, "controller"));
        assert_non_null(json_object_get(nc, "joint_controllers"));
        assert_non_null(json_object_get(nc, "representative"));
        assert_non_null(json_object_get(nc, "dpo"));
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(nc, "controller"), "name")),
            p->controller.name);
        /* Every declared purpose plus the built-in one, each with its basis. */
        json_t *ps = json_object_get(cf, "purposes");
        assert_int_equal(json_array_size(ps), p->npurposes + 1);
        for (size_t k = 0; k < json_array_size(ps); k++) {
            json_t *u = json_array_get(ps, k);
            assert_true(json_is_string(json_object_get(u, "basis")));
            assert_non_null(json_object_get(u, "special_condition"));
            assert_non_null(json_object_get(u, "schedule1"));
            assert_true(json_is_array(json_object_get(u, "categories")));
        }
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(ps, p->npurposes), "id")),
            CU_PURPOSE_RIGHTS);
        assert_int_equal(json_array_size(json_object_get(cf, "erasure_time_limits")),
                         p->nretention);
        assert_int_equal(json_array_size(json_object_get(cf, "transfers")), p->ntransfers);
        assert_int_equal(json_array_size(json_object_get(cf, "security_measures")),
                         p->nsecurity);
        json_t *pf = json_object_get(c, "processor_form");
        if (p->role == CU_POL_CONTROLLER) {
            assert_null(pf);
            continue;
        }
        assert_true(json_is_object(pf));
        for (size_t k = 0; ART30_2[k]; k++)
            if (!json_object_get(pf, ART30_2[k]))
                fail_msg("controller %zu: processor_form lacks %s", i, ART30_2[k]);
        json_t *pnc = json_object_get(pf, "name_and_contact");
        assert_non_null(json_object_get(pnc, "processor"));
        assert_int_equal(json_array_size(json_object_get(pnc, "controllers")), p->non_behalf);
        assert_non_null(json_object_get(pnc, "dpo"));
        assert_int_equal(json_array_size(json_object_get(pf, "categories_of_processing")),
                         p->non_behalf);
    }
    json_decref(root);
}

static void ropa_json_has_every_article_30_field(void **state)
{
    (void)state;
    hand a, b;
    hand_build(&a, "Example Health Ltd", CU_POL_CONTROLLER);
    hand_build(&b, HOSTILE, CU_POL_BOTH);
    b.p.version = 2;
    b.p.applied_at = INT64_C(1780000000) * 1000000;
    const cu_policy *pols[2] = {&a.p, &b.p};
    const char *ids[2] = {"ctl_a", "ctl_b"};
    char *json = ropa(pols, ids, 2, CU_ROPA_JSON);
    check_ropa_json(json, 2, pols, ids);
    json_t *root = json_loads(json, 0, NULL);
    json_t *c1 = json_array_get(json_object_get(root, "controllers"), 1);
    assert_string_equal(json_string_value(json_object_get(c1, "applied_at")),
                        "2026-05-28T20:26:40.000000Z");
    json_t *c0 = json_array_get(json_object_get(root, "controllers"), 0);
    assert_true(json_is_null(json_object_get(c0, "applied_at")));
    /* (d) recipients name their third countries; (e) transfers their safeguards. */
    json_t *cf = json_object_get(c1, "controller_form");
    json_t *r1 = json_array_get(json_object_get(cf, "categories_of_recipients"), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r1, "third_countries"),
                                                         0)),
                        "United States");
    json_t *t0 = json_array_get(json_object_get(cf, "transfers"), 0);
    assert_string_equal(json_string_value(json_object_get(t0, "safeguard")),
                        "UK International Data Transfer Agreement");
    json_t *e1 = json_array_get(json_object_get(cf, "erasure_time_limits"), 1);
    assert_string_equal(json_string_value(json_object_get(e1, "summary")),
                        "until the 25th birthday");
    json_decref(root);
    free(json);
}

/* An RFC 4180 reader: rows of fields; fails on a bare LF or a malformed quote. */
typedef struct csv {
    char ***rows;
    size_t *ncols, nrows;
} csv;

static void csv_parse(const char *s, csv *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    char **row = NULL;
    size_t nf = 0;
    char field[8192];
    size_t fl = 0;
    const char *p = s;
    bool row_started = false;
    while (*p) {
        bool quoted = false;
        fl = 0;
        if (*p == '"') {
            quoted = true;
            p++;
            for (;;) {
                if (!*p)
                    fail_msg("CSV: unterminated quoted field");
                if (*p == '"') {
                    if (p[1] == '"') {
                        field[fl++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                field[fl++] = *p++;
                assert_true(fl < sizeof field);
            }
        } else {
            while (*p && *p != ',' && *p != '\r' && *p != '\n') {
                if (*p == '"')
                    fail_msg("CSV: quote inside an unquoted field");
                field[fl++] = *p++;
                assert_true(fl < sizeof field);
            }
        }
        (void)quoted;
        field[fl] = '\0';
        row = realloc(row, (nf + 1) * sizeof *row);
        assert_non_null(row);
        row[nf++] = strdup(field);
        row_started = true;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\n')
            fail_msg("CSV: line ends with a bare LF");
        if (*p == '\r') {
            if (p[1] != '\n')
                fail_msg("CSV: CR without LF");
            p += 2;
        } else if (*p) {
            fail_msg("CSV: junk after a field: %.10s", p);
        }
        if (out->nrows == cap) {
            cap = cap ? cap * 2 : 16;
            out->rows = realloc(out->rows, cap * sizeof *out->rows);
            out->ncols = realloc(out->ncols, cap * sizeof *out->ncols);
            assert_non_null(out->rows);
            assert_non_null(out->ncols);
        }
        out->rows[out->nrows] = row;
        out->ncols[out->nrows++] = nf;
        row = NULL;
        nf = 0;
        row_started = false;
    }
    assert_false(row_started); /* the last line ended with CRLF too */
}

static void csv_free(csv *c)
{
    for (size_t i = 0; i < c->nrows; i++) {
        for (size_t j = 0; j < c->ncols[i]; j++)
            free(c->rows[i][j]);
        free(c->rows[i]);
    }
    free(c->rows);
    free(c->ncols);
}

static int csv_col(const csv *c, const char *name)
{
    for (size_t j = 0; j < c->ncols[0]; j++)
        if (strcmp(c->rows[0][j], name) == 0)
            return (int)j;
    fail_msg("CSV header lacks %s", name);
    return -1;
}

static void check_ropa_csv(const char *text, const cu_policy *const *pols, size_t n)
{
    csv c;
    csv_parse(text, &c);
    assert_true(c.nrows >= 1);
    static const char *const cols[] = {
        "form", "controller_id", "policy_version", "applied_at", "name", "contact",
        "joint_controllers", "representative", "dpo", "purpose", "lawful_basis",
        "special_category_condition", "schedule1_condition", "categories_of_data_subjects",
        "categories_of_personal_data", "categories_of_recipients", "third_country_transfers",
        "erasure_time_limit", "security_measures", "processing_on_behalf_of",
        "categories_of_processing", NULL};
    for (size_t i = 0; cols[i]; i++)
        csv_col(&c, cols[i]);
    size_t want = 1;
    for (size_t i = 0; i < n; i++)
        want += pols[i]->npurposes + 1 +
                (pols[i]->role != CU_POL_CONTROLLER ? pols[i]->non_behalf : 0);
    assert_int_equal(c.nrows, want);
    int form = csv_col(&c, "form");
    for (size_t r = 1; r < c.nrows; r++) {
        assert_int_equal(c.ncols[r], c.ncols[0]);
        const char *f = c.rows[r][form];
        assert_true(strcmp(f, "controller") == 0 || strcmp(f, "processor") == 0);
    }
    csv_free(&c);
}

static void ropa_csv_shape_quoting_and_guard(void **state)
{
    (void)state;
    hand a, b;
    hand_build(&a, "Example Health Ltd", CU_POL_CONTROLLER);
    hand_build(&b, "Comma, \"Quote\" Ltd", CU_POL_BOTH);
    const cu_policy *pols[2] = {&a.p, &b.p};
    const char *ids[2] = {"ctl_a", "-ctl_b"};
    char *text = ropa(pols, ids, 2, CU_ROPA_CSV);
    check_ropa_csv(text, pols, 2);
    /* Header first, CRLF line ends. */
    assert_int_equal(strncmp(text, "form,controller_id,policy_version,applied_at,name,", 50), 0);
    /* Quoting: comma and quote, quotes doubled. */
    assert_non_null(strstr(text, ",\"Comma, \"\"Quote\"\" Ltd\","));
    /* The formula guard, inside and outside quotes. */
    assert_non_null(strstr(text, ",\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\","));
    assert_non_null(strstr(text, ",'@Newsletter,"));
    assert_non_null(strstr(text, "\r\nprocessor,'-ctl_b,"));
    assert_null(strstr(text, ",=HYPERLINK"));
    assert_null(strstr(text, ",\"=HYPERLINK"));
    assert_null(strstr(text, ",@Newsletter"));
    /* A field with a line break is quoted and keeps it. */
    assert_non_null(strstr(text, "\"Encryption at rest; Line one\r\nline two\""));
    csv c;
    csv_parse(text, &c);
    int purpose = csv_col(&c, "purpose"), adm = csv_col(&c, "automated_decision_making");
    assert_string_equal(c.rows[2][purpose], "'=HYPERLINK(\"http://evil\",\"click\")");
    assert_string_equal(c.rows[2][adm], "'+ scores visits Significance: -none");
    csv_free(&c);
    free(text);
}

static void ropa_is_deterministic(void **state)
{
    (void)state;
    hand a, b;
    hand_build(&a, "Example Health Ltd", CU_POL_CONTROLLER);
    hand_build(&b, HOSTILE, CU_POL_BOTH);
    const cu_policy *pols[2] = {&a.p, &b.p};
    const char *ids[2] = {"ctl_a", "ctl_b"};
    for (int f = 0; f < 2; f++) {
        char *x = ropa(pols, ids, 2, (cu_ropa_format)f), *y = ropa(pols, ids, 2, (cu_ropa_format)f);
        assert_string_equal(x, y);
        free(x);
        free(y);
    }
}

/* Both profiles together: the record a DPO would export. */
static void ropa_of_the_profiles(void **state)
{
    (void)state;
    cu_policy *t = load_profile("therapyaudit.json");
    cu_policy *h = load_profile("healthya.json");
    const cu_policy *pols[2] = {t, h};
    const char *ids[2] = {"therapyaudit", "healthya"};
    char *json = ropa(pols, ids, 2, CU_ROPA_JSON);
    check_ropa_json(json, 2, pols, ids);
    char *json2 = ropa(pols, ids, 2, CU_ROPA_JSON);
    assert_string_equal(json, json2);
    char *text = ropa(pols, ids, 2, CU_ROPA_CSV);
    check_ropa_csv(text, pols, 2);
    /* TherapyAudit processes for its NHS customers; healthya does not. */
    assert_non_null(strstr(text, "\r\nprocessor,therapyaudit,"));
    assert_null(strstr(text, "\r\nprocessor,healthya,"));
    assert_notice_deterministic(t);
    free(text);
    free(json2);
    free(json);
    cu_policy_free(h);
    cu_policy_free(t);
}


/* ---- the words a subject reads: every name the store can record has them ---- */

/* No identifier of the store in words: no "_", no "." between letters. */
static void assert_words(const char *w, const char *of)
{
    if (!w) {
        print_error("no words for %s\n", of);
        fail();
    }
    assert_true(strlen(w) > 2);
    for (const char *p = w; *p; p++) {
        if (*p == '_' || (*p == '.' && p[1] && isalpha((unsigned char)p[1]))) {
            print_error("words for %s hold an identifier: %s\n", of, w);
            fail();
        }
    }
}

static void every_recorded_name_has_words(void **state)
{
    (void)state;
    size_t n = 0;
    for (const char *a; (a = cu_audit_action_at(n)); n++) {
        assert_true(cu_audit_action_known(a));
        assert_words(cu_wording_action(a), a);
    }
    assert_true(n >= 40);
    assert_false(cu_audit_action_known("care_list.purge"));
    assert_null(cu_wording_action("care_list.purge"));
    /* every request transition is recorded as "request.<transition>" */
    for (int t = 0; t < CU_RQ_TRANSITION_COUNT; t++) {
        char a[64];
        snprintf(a, sizeof a, "request.%s", cu_rq_transition_name((cu_rq_transition)t));
        assert_true(cu_audit_action_known(a));
    }
    for (size_t i = 0; cu_audit_rule_at(i); i++)
        assert_words(cu_wording_rule(cu_audit_rule_at(i)), cu_audit_rule_at(i));
    for (size_t i = 0; cu_audit_outcome_at(i); i++)
        assert_words(cu_wording_outcome(cu_audit_outcome_at(i)), cu_audit_outcome_at(i));
    for (int c = 0; c < CU_CAT_COUNT; c++)
        assert_words(cu_wording_category(c), cu_category_name((cu_category)c));
    assert_null(cu_wording_category(CU_CAT_COUNT));
    for (unsigned i = 0; cu_source_at(i); i++)
        assert_words(cu_wording_source(cu_source_at(i)), cu_source_at(i));
    for (int s = 0; s < CU_RQ_STATE_COUNT; s++)
        assert_words(cu_wording_request_state(cu_rq_state_name((cu_rq_state)s)),
                     cu_rq_state_name((cu_rq_state)s));
    static const char *const kinds[] = {"access",      "rectification",      "erasure",
                                        "restriction", "objection", "automated_decision",
                                        "portability"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_words(cu_wording_request_kind(kinds[i]), kinds[i]);
    char roles[64], w[256];
    for (unsigned bit = 1; bit <= CU_ROLE_ADMIN; bit <<= 1) {
        cu_roles_format(bit, roles, sizeof roles);
        assert_true(cu_wording_role(roles, w, sizeof w) > 0);
        assert_words(w, roles);
    }
    cu_roles_format(CU_ROLE_CLINICIAN | CU_ROLE_DPO, roles, sizeof roles);
    assert_true(cu_wording_role(roles, w, sizeof w) > 0);
    assert_string_equal(w, "a clinician who is also our Data Protection Officer");
    assert_int_equal(cu_wording_role("clinician,janitor", w, sizeof w), 0);
    /* consent methods and disclosure channels, from their lists */
    const char *lists[2] = {cu_consent_method_list(), cu_disclosure_channel_list()};
    for (int l = 0; l < 2; l++) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", lists[l]);
        size_t k = 0;
        for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t;
             t = strtok_r(NULL, ", ", &save), k++)
            assert_words(l == 0 ? cu_wording_consent_method(t) : cu_wording_channel(t), t);
        assert_true(k >= 5);
    }
    /* every well-known field, and any other field name, in words */
    for (size_t i = 0; cu_known_field_at(i); i++) {
        cu_wording_field(cu_known_field_at(i)->field, w, sizeof w);
        assert_words(w, cu_known_field_at(i)->field);
    }
    cu_wording_field("next_of_kin", w, sizeof w);
    assert_string_equal(w, "Next of kin");
    cu_wording_field("gp.practice-name", w, sizeof w);
    assert_string_equal(w, "GP practice name");
    cu_wording_field("birth_date", w, sizeof w);
    assert_string_equal(w, "Date of birth");
    for (char b = 'a'; b <= 'f'; b++)
        assert_words(cu_wording_basis(b), "a basis");
}

static void letter_dates_numbers_and_periods(void **state)
{
    (void)state;
    char b[128];
    /* 2026-12-06T14:05:00Z: GMT */
    cu_wording_time(INT64_C(1796565900) * 1000000, b, sizeof b);
    assert_string_equal(b, "6 December 2026, 14:05");
    /* 2026-07-01T13:05:00Z: 14:05 BST */
    cu_wording_time(INT64_C(1782911100) * 1000000, b, sizeof b);
    assert_string_equal(b, "1 July 2026, 14:05");
    /* BST starts 01:00 UTC on 29 March 2026 and ends 01:00 UTC on 25 October */
    cu_wording_time(INT64_C(1774745940) * 1000000, b, sizeof b); /* 00:59 UTC */
    assert_string_equal(b, "29 March 2026, 00:59");
    cu_wording_time(INT64_C(1774746000) * 1000000, b, sizeof b); /* 01:00 UTC */
    assert_string_equal(b, "29 March 2026, 02:00");
    cu_wording_time(INT64_C(1792889940) * 1000000, b, sizeof b); /* 00:59 UTC */
    assert_string_equal(b, "25 October 2026, 01:59");
    cu_wording_time(INT64_C(1792890000) * 1000000, b, sizeof b); /* 01:00 UTC */
    assert_string_equal(b, "25 October 2026, 01:00");
    /* 23:30 UTC on 30 June is already 1 July in the UK */
    cu_wording_date(INT64_C(1782862200) * 1000000, b, sizeof b);
    assert_string_equal(b, "1 July 2026");
    cu_wording_date(0, b, sizeof b);
    assert_string_equal(b, "-");
    assert_true(cu_wording_nhs_number("9434765919", b, sizeof b) > 0);
    assert_string_equal(b, "943 476 5919");
    assert_true(cu_wording_nhs_number("943 476 5919", b, sizeof b) > 0);
    assert_string_equal(b, "943 476 5919");
    assert_int_equal(cu_wording_nhs_number("94347659190", b, sizeof b), 0);
    assert_int_equal(cu_wording_nhs_number("94347a5919", b, sizeof b), 0);
    cu_pol_retention r = {.years = 8, .trigger = CU_TRIGGER_LAST_CONTACT};
    cu_wording_retention(&r, b, sizeof b);
    assert_string_equal(b, "kept for 8 years after your last contact with the service");
    r = (cu_pol_retention){.trigger = CU_TRIGGER_BIRTHDAY, .age = 25};
    cu_wording_retention(&r, b, sizeof b);
    assert_string_equal(b, "kept until your 25th birthday");
    assert_true(cu_wording_categories((1u << CU_CAT_CONTACT) | (1u << CU_CAT_HEALTH) |
                                          (1u << CU_CAT_FAMILY),
                                      b, sizeof b) > 0);
    assert_string_equal(b, "contact details, health information and family and personal "
                           "circumstances");
    assert_int_equal(cu_wording_category_mask("contact,nonsense,health"),
                     (1u << CU_CAT_CONTACT) | (1u << CU_CAT_HEALTH));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_is_a_complete_escaped_page),
        cmocka_unit_test(every_recorded_name_has_words),
        cmocka_unit_test(letter_dates_numbers_and_periods),
        cmocka_unit_test(markdown_escapes_structure),
        cmocka_unit_test(version_and_date),
        cmocka_unit_test(notice_states_each_rule),
        cmocka_unit_test(notice_is_deterministic),
        cmocka_unit_test(notice_refuses_what_does_not_fit),
        cmocka_unit_test(ropa_json_has_every_article_30_field),
        cmocka_unit_test(ropa_csv_shape_quoting_and_guard),
        cmocka_unit_test(ropa_is_deterministic),
        cmocka_unit_test(checklist_therapyaudit),
        cmocka_unit_test(checklist_healthya),
        cmocka_unit_test(ropa_of_the_profiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
