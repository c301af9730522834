/*
 * test_policy.c — the policy parser and validator (policy.c) and the decision
 * that enforces it (policy_decide.c).
 *
 * Validation is table-driven: every row starts from BASE, a valid policy with
 * no findings, applies one to three mutations (set, delete or append at a
 * path), and names the rule and JSON path it expects. Enforcement is a table
 * over purpose x basis x consent x objection x restriction x category x kind,
 * against the purposes of BASE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/model.h"
#include "domain/policy.h"
#include "util/err.h"

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

/* JSON written with single quotes for readability: ' becomes ". */
static char *q(const char *s)
{
    char *out = strdup(s);
    assert_non_null(out);
    for (char *p = out; *p; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

/* A policy with every section, eight purposes and no findings at all. */
static const char BASE[] =
    "{'format': 'custos-policy/1',"
    " 'controller': {'name': 'Example Health Ltd', 'address': '1 High Street\\nLeeds LS1 1AA',"
    "   'email': 'info@examplehealth.nhs.uk', 'phone': '0113 496 0000', 'website': 'https://examplehealth.nhs.uk',"
    "   'company_number': '01234567', 'ico_registration': 'ZA123456',"
    "   'public_authority': false, 'role': 'controller'},"
    " 'dpo': {'name': 'Data Protection Officer', 'email': 'dpo@examplehealth.nhs.uk'},"
    " 'introduction': 'This notice explains how we use your information.',"
    " 'categories': ["
    "   {'id': 'contact', 'description': 'Name, address, email and phone',"
    "    'sources': ['subject', 'nhs_organisation']},"
    "   {'id': 'identifying', 'description': 'Date of birth and NHS number',"
    "    'sources': ['nhs_organisation']},"
    "   {'id': 'health', 'description': 'Questionnaire answers and clinical notes',"
    "    'sources': ['subject', 'staff']},"
    "   {'id': 'online_identifier', 'description': 'Cookie identifiers and IP addresses',"
    "    'sources': ['subject']},"
    "   {'id': 'workplace_education_financial', 'description': 'Employment records',"
    "    'sources': ['subject', 'staff']}],"
    " 'purposes': ["
    "   {'id': 'direct_care', 'description': 'Providing your care', 'basis': 'e',"
    "    'basis_detail': 'NHS Act 2006', 'special_condition': 'h',"
    "    'schedule1': 'Part 1 paragraph 2 (health or social care purposes)',"
    "    'categories': ['contact', 'identifying', 'health'], 'subject_kinds': ['patient'],"
    "    'consent_required': false, 'required_for_service': true,"
    "    'automated_decision': {'logic': 'A PHQ-9 score of 20 or more flags the record',"
    "                           'significance': 'A clinician contacts you sooner'},"
    "    'recipients': ['nhs_bodies'], 'retention': 'adult_health'},"
    "   {'id': 'newsletter', 'description': 'Our newsletter', 'basis': 'a',"
    "    'categories': ['contact'], 'subject_kinds': ['patient', 'web_user'],"
    "    'consent_required': true, 'required_for_service': false, 'direct_marketing': true,"
    "    'retention': 'until_request'},"
    "   {'id': 'analytics', 'description': 'Website analytics', 'basis': 'a',"
    "    'categories': ['online_identifier'], 'subject_kinds': ['web_user'],"
    "    'consent_required': true, 'required_for_service': false,"
    "    'recipients': ['analytics_provider'], 'transfers': ['us_analytics'],"
    "    'retention': 'website'},"
    "   {'id': 'improvement', 'description': 'Improving our service', 'basis': 'f',"
    "    'legitimate_interests': 'Making the service work better for patients',"
    "    'categories': ['contact'], 'subject_kinds': ['patient'],"
    "    'consent_required': false, 'required_for_service': false,"
    "    'retention': 'adult_health'},"
    "   {'id': 'postal_offers', 'description': 'Offers by post', 'basis': 'f',"
    "    'legitimate_interests': 'Telling existing patients about similar services',"
    "    'categories': ['contact'], 'subject_kinds': ['patient'],"
    "    'consent_required': false, 'required_for_service': false, 'direct_marketing': true,"
    "    'retention': 'until_request'},"
    "   {'id': 'legal', 'description': 'Court orders and legal claims', 'basis': 'c',"
    "    'basis_detail': 'Court orders', 'special_condition': 'f',"
    "    'categories': ['contact', 'identifying', 'health'],"
    "    'subject_kinds': ['patient', 'web_user', 'employee', 'other'],"
    "    'consent_required': false, 'required_for_service': false, 'legal_claims': true,"
    "    'recipients': ['courts'], 'retention': 'adult_health'},"
    "   {'id': 'employment', 'description': 'Employing our staff', 'basis': 'b',"
    "    'categories': ['contact', 'workplace_education_financial'],"
    "    'subject_kinds': ['employee'], 'consent_required': false,"
    "    'required_for_service': true, 'retention': 'employee'},"
    "   {'id': 'research', 'description': 'Research you take part in', 'basis': 'a',"
    "    'special_condition': 'a', 'categories': ['health'], 'subject_kinds': ['patient'],"
    "    'consent_required': true, 'required_for_service': false, 'retention': 'child'}],"
    " 'recipients': ["
    "   {'id': 'nhs_bodies', 'category': 'NHS organisations', 'names': ['NHS England']},"
    "   {'id': 'analytics_provider', 'category': 'Website analytics provider',"
    "    'description': 'Counts visits to our website', 'names': ['Google LLC']},"
    "   {'id': 'courts', 'category': 'Courts and tribunals'}],"
    " 'transfers': [{'id': 'us_analytics', 'recipient': 'analytics_provider',"
    "   'country': 'United States of America',"
    "   'safeguard': 'UK Extension to the EU-US Data Privacy Framework'}],"
    " 'processors': [{'name': 'Example Cloud Ltd', 'service': 'Hosting',"
    "   'country': 'United Kingdom'}],"
    " 'retention': ["
    "   {'id': 'adult_health', 'description': '8 years after you were last seen',"
    "    'years': 8, 'trigger': 'last_contact', 'erase_on_request': false,"
    "    'legal_source': 'NHS Records Management Code of Practice'},"
    "   {'id': 'until_request', 'description': 'Until you ask us to delete it',"
    "    'trigger': 'request', 'erase_on_request': true},"
    "   {'id': 'website', 'description': '7 years', 'years': 7, 'trigger': 'collection',"
    "    'erase_on_request': true},"
    "   {'id': 'employee', 'description': '6 years after employment ends', 'years': 6,"
    "    'months': 0, 'days': 0, 'trigger': 'last_contact', 'erase_on_request': false},"
    "   {'id': 'child', 'description': 'Until your 25th birthday', 'trigger': 'birthday',"
    "    'age': 25, 'erase_on_request': false}],"
    " 'cookies': ["
    "   {'name': 'session', 'purpose': 'Keeps you signed in', 'duration': 'Session',"
    "    'strictly_necessary': true, 'consent_required': false},"
    "   {'name': '_ga', 'provider': 'Google', 'purpose': 'Counts visits',"
    "    'duration': '2 years', 'strictly_necessary': false, 'consent_required': true}],"
    " 'security_measures': ['Encryption at rest and in transit', 'Access on a need-to-know basis'],"
    " 'undertakings': ['We do not sell your data'],"
    " 'changes': 'We publish changes to this notice on our website.'}";

static const char MINIMAL[] =
    "{'format': 'custos-policy/1',"
    " 'controller': {'name': 'Small Clinic', 'address': '2 Low Road', 'email': 'a@b.uk',"
    "   'ico_registration': 'ZB000001', 'public_authority': true, 'role': 'controller'},"
    " 'dpo': {'name': 'DPO', 'phone': '0113 496 0001'},"
    " 'categories': [{'id': 'contact', 'description': 'Name and address',"
    "   'sources': ['subject']}],"
    " 'purposes': [{'id': 'appointments', 'description': 'Booking appointments',"
    "   'basis': 'e', 'categories': ['contact'], 'subject_kinds': ['patient'],"
    "   'consent_required': false, 'required_for_service': true, 'retention': 'r'}],"
    " 'recipients': [], 'transfers': [], 'processors': [],"
    " 'retention': [{'id': 'r', 'description': '8 years', 'years': 8,"
    "   'trigger': 'last_contact', 'erase_on_request': false}],"
    " 'cookies': [], 'security_measures': ['Encryption']}";

/* ------------------------------------------------------------- helpers ---- */

/* One step of a mutation path: "key", "[3]" or "[+]" (append). */
static const char *next_step(const char *s, char *key, size_t keysz, long *idx)
{
    *idx = -2; /* a key */
    if (*s == '.')
        s++;
    if (*s == '[') {
        s++;
        if (*s == '+') {
            *idx = -1;
            s++;
        } else {
            *idx = strtol(s, (char **)&s, 10);
        }
        assert_true(*s == ']');
        return s + 1;
    }
    size_t n = strcspn(s, ".[");
    assert_true(n > 0 && n < keysz);
    memcpy(key, s, n);
    key[n] = '\0';
    return s + n;
}

/* Sets (value JSON with single quotes), deletes (value NULL) or appends ([+])
 * the member at path. */
static void mutate(json_t *root, const char *path, const char *value)
{
    json_t *cur = root;
    char key[128];
    long idx;
    const char *s = next_step(path, key, sizeof key, &idx);
    while (*s) {
        cur = idx == -2 ? json_object_get(cur, key) : json_array_get(cur, (size_t)idx);
        CHECK(cur, "mutation path %s does not exist", path);
        s = next_step(s, key, sizeof key, &idx);
    }
    json_t *v = NULL;
    if (value) {
        char *text = q(value);
        json_error_t je;
        v = json_loads(text, JSON_DECODE_ANY, &je);
        CHECK(v, "bad mutation value %s: %s", value, je.text);
        free(text);
    }
    int rc;
    if (idx == -2)
        rc = v ? json_object_set_new(cur, key, v) : json_object_del(cur, key);
    else if (idx == -1)
        rc = json_array_append_new(cur, v);
    else
        rc = v ? json_array_set_new(cur, (size_t)idx, v) : json_array_remove(cur, (size_t)idx);
    CHECK(rc == 0, "mutation %s failed", path);
}

typedef struct mut {
    const char *path, *value; /* value NULL: delete */
} mut;

/* BASE with the mutations applied, as JSON text (malloc'd). */
static char *mutated(const mut *m, size_t n)
{
    char *text = q(BASE);
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    CHECK(root, "BASE is not JSON: line %d: %s", je.line, je.text);
    free(text);
    for (size_t i = 0; i < n && m[i].path; i++)
        mutate(root, m[i].path, m[i].value);
    char *out = json_dumps(root, JSON_COMPACT);
    assert_non_null(out);
    json_decref(root);
    return out;
}

static const cu_pol_finding *find(const cu_pol_report *r, const char *rule, const char *path)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].rule, rule) == 0 && (!path || strcmp(r->v[i].path, path) == 0))
            return &r->v[i];
    return NULL;
}

static void dump(const cu_pol_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        print_message("#   %s %s %s: %s\n", r->v[i].error ? "error" : "warning", r->v[i].path,
                      r->v[i].rule, r->v[i].msg);
}

static cu_policy *parse_ok(const char *json, cu_pol_report *rep)
{
    cu_policy *p = NULL;
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_policy_parse(json, strlen(json), &p, rep, &err);
    if (rc != CU_OK)
        dump(rep);
    CHECK(rc == CU_OK, "parse failed (%d): %s", rc, err.msg);
    assert_non_null(p);
    assert_int_equal(rep->nerrors, 0);
    return p;
}

/* Parses len bytes of json, which must be refused: CU_EINVAL and no policy.
 * The findings go to rep, the first error to err. */
static void parse_refused(const char *json, size_t len, cu_pol_report *rep, cu_err *err)
{
    cu_policy *p = (cu_policy *)rep; /* must be reset to NULL */
    cu_err_clear(err);
    assert_int_equal(cu_policy_parse(json, len, &p, rep, err), CU_EINVAL);
    assert_null(p);
}

/* A one-line message of printable ASCII. */
static void assert_one_line(const char *s)
{
    assert_true(s[0] != '\0');
    for (; *s; s++)
        assert_true(*s >= 0x20 && *s < 0x7f);
}

/* ---------------------------------------------------------- accepted ---- */

static void test_base_has_no_findings(void **state)
{
    (void)state;
    char *json = q(BASE);
    cu_pol_report rep = {0};
    cu_policy *p = parse_ok(json, &rep);
    if (rep.n)
        dump(&rep);
    assert_int_equal(rep.n, 0);
    assert_int_equal(rep.nwarnings, 0);

    assert_string_equal(p->controller.name, "Example Health Ltd");
    assert_string_equal(p->controller.address, "1 High Street\nLeeds LS1 1AA");
    assert_string_equal(p->ico_registration, "ZA123456");
    assert_string_equal(p->company_number, "01234567");
    assert_false(p->public_authority);
    assert_int_equal(p->role, CU_POL_CONTROLLER);
    assert_string_equal(p->dpo.email, "dpo@examplehealth.nhs.uk");
    assert_null(p->dpo.phone);
    assert_null(p->representative.name);
    assert_int_equal(p->njoint, 0);
    assert_int_equal(p->non_behalf, 0);
    assert_int_equal(p->ncategories, 5);
    assert_int_equal(p->collected, (1u << CU_CAT_CONTACT) | (1u << CU_CAT_IDENTIFYING) |
                                       (1u << CU_CAT_HEALTH) | (1u << CU_CAT_ONLINE_ID) |
                                       (1u << CU_CAT_WORK_EDU_FIN));
    assert_int_equal(p->categories[0].sources,
                     cu_source_bit("subject") | cu_source_bit("nhs_organisation"));
    assert_int_equal(p->npurposes, 8);

    const cu_pol_purpose *care = cu_policy_purpose(p, "direct_care");
    assert_ptr_equal(care, &p->purposes[0]);
    assert_int_equal(care->basis, 'e');
    assert_int_equal(care->special_condition, 'h');
    assert_non_null(care->schedule1);
    assert_int_equal(care->categories, (1u << CU_CAT_CONTACT) | (1u << CU_CAT_IDENTIFYING) |
                                           (1u << CU_CAT_HEALTH));
    assert_int_equal(care->kinds, cu_subject_kind_bit("patient"));
    assert_true(care->required_for_service);
    assert_false(care->consent_required);
    assert_false(care->builtin);
    assert_string_equal(care->adm_significance, "A clinician contacts you sooner");
    assert_int_equal(care->nrecipients, 1);
    assert_int_equal(care->recipients[0], 0);
    assert_int_equal(care->retention, 0);

    const cu_pol_purpose *an = cu_policy_purpose(p, "analytics");
    assert_int_equal(an->nrecipients, 1);
    assert_int_equal(an->recipients[0], 1);
    assert_int_equal(an->ntransfers, 1);
    assert_int_equal(an->transfers[0], 0);
    assert_int_equal(an->retention, 2);
    assert_null(an->adm_logic);
    assert_int_equal(p->transfers[0].recipient, 1);
    assert_int_equal(an->kinds, cu_subject_kind_bit("web_user"));

    const cu_pol_purpose *nl = cu_policy_purpose(p, "newsletter");
    assert_true(nl->consent_required && nl->direct_marketing);
    assert_int_equal(nl->kinds, cu_subject_kind_bit("patient") | cu_subject_kind_bit("web_user"));
    assert_true(cu_policy_purpose(p, "legal")->legal_claims);
    assert_non_null(cu_policy_purpose(p, "improvement")->legitimate_interests);
    assert_null(cu_policy_purpose(p, "nothing"));
    assert_true(cu_policy_purpose(p, CU_PURPOSE_RIGHTS)->builtin);

    assert_int_equal(p->nrecipients, 3);
    assert_int_equal(p->recipients[1].nnames, 1);
    assert_string_equal(p->recipients[1].names[0], "Google LLC");
    assert_null(p->recipients[2].names);
    assert_null(p->recipients[0].description);
    assert_int_equal(p->nprocessors, 1);
    assert_null(p->processors[0].contact);
    assert_int_equal(p->nretention, 5);
    assert_int_equal(p->retention[0].years, 8);
    assert_int_equal(p->retention[0].trigger, CU_TRIGGER_LAST_CONTACT);
    assert_int_equal(p->retention[1].trigger, CU_TRIGGER_REQUEST);
    assert_true(p->retention[1].erase_on_request);
    assert_int_equal(p->retention[4].trigger, CU_TRIGGER_BIRTHDAY);
    assert_int_equal(p->retention[4].age, 25);
    assert_int_equal(p->ncookies, 2);
    assert_true(p->cookies[0].strictly_necessary);
    assert_null(p->cookies[0].provider);
    assert_int_equal(p->nsecurity, 2);
    assert_int_equal(p->nundertakings, 1);
    assert_non_null(p->introduction);
    assert_non_null(p->changes);
    /* Set only when applied to a store. */
    assert_int_equal(p->version, 0);
    assert_int_equal(p->applied_at, 0);
    assert_string_equal(p->digest, "");
    cu_policy_free(p);
    cu_pol_report_release(&rep);
    free(json);
}

static void test_minimal(void **state)
{
    (void)state;
    char *json = q(MINIMAL);
    cu_pol_report rep = {0};
    cu_policy *p = parse_ok(json, &rep);
    assert_int_equal(rep.n, 0);
    assert_true(p->public_authority);
    assert_int_equal(p->npurposes, 1);
    assert_int_equal(p->nrecipients + p->ntransfers + p->nprocessors + p->ncookies, 0);
    assert_null(p->undertakings);
    assert_null(p->introduction);
    cu_policy_free(p);
    /* The report may be NULL. */
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_policy_parse(json, strlen(json), &p, NULL, &err), CU_OK);
    cu_policy_free(p);
    cu_pol_report_release(&rep);
    free(json);
}

/* Every optional section: a controller that is also a processor. */
static void test_rich(void **state)
{
    (void)state;
    const mut m[] = {
        {"controller.role", "'controller_and_processor'"},
        {"representative", "{'name': 'EU Rep BV', 'address': 'Amsterdam', 'website': 'https://rep.eu'}"},
        {"joint_controllers", "[{'name': 'Partner Trust', 'email': 'ig@partner.nhs.uk'}]"},
        {"processing_on_behalf",
         "[{'controller': 'Leeds NHS Trust', 'contact': 'ig@leeds.nhs.uk',"
         "  'activities': ['Hosting outcome questionnaires'],"
         "  'categories': ['contact', 'health'], 'transfers': ['us_analytics']}]"},
    };
    char *json = mutated(m, sizeof m / sizeof m[0]);
    cu_pol_report rep = {0};
    cu_policy *p = parse_ok(json, &rep);
    assert_int_equal(rep.n, 0);
    assert_int_equal(p->role, CU_POL_BOTH);
    assert_string_equal(p->representative.website, "https://rep.eu");
    assert_int_equal(p->njoint, 1);
    assert_string_equal(p->joint_controllers[0].email, "ig@partner.nhs.uk");
    assert_int_equal(p->non_behalf, 1);
    assert_int_equal(p->on_behalf[0].nactivities, 1);
    assert_int_equal(p->on_behalf[0].categories, (1u << CU_CAT_CONTACT) | (1u << CU_CAT_HEALTH));
    assert_int_equal(p->on_behalf[0].ntransfers, 1);
    assert_int_equal(p->on_behalf[0].transfers[0], 0);
    cu_policy_free(p);
    cu_pol_report_release(&rep);
    free(json);
}

/* ---------------------------------------------------------- validation ---- */

typedef struct vrow {
    const char *label;
    mut m[3];
    const char *rule, *path; /* the expected finding */
    bool ok;                 /* a warning: the policy is still returned */
} vrow;

static const vrow vrows[] = {
    /* The policy validation rules. */
    {"health without an Art 9 condition", {{"purposes[0].special_condition", NULL}},
     "special-category-without-condition", "$.purposes[0].categories[2]", false},
    {"health added to a basis-f purpose", {{"purposes[3].categories[+]", "'health'"}},
     "special-category-without-condition", "$.purposes[3].categories[1]", false},
    {"9(2)(h) without Schedule 1", {{"purposes[0].schedule1", NULL}},
     "condition-needs-schedule1", "$.purposes[0].schedule1", false},
    {"9(2)(g) without Schedule 1", {{"purposes[5].special_condition", "'g'"}},
     "condition-needs-schedule1", "$.purposes[5].schedule1", false},
    {"basis a without consent_required", {{"purposes[1].consent_required", "false"}},
     "consent-basis-not-flagged", "$.purposes[1].consent_required", false},
    {"9(2)(a) without consent_required",
     {{"purposes[0].special_condition", "'a'"}, {"purposes[0].required_for_service", "false"}},
     "consent-basis-not-flagged", "$.purposes[0].consent_required", false},
    {"consent asked with basis f", {{"purposes[3].consent_required", "true"}},
     "consent-not-the-basis", "$.purposes[3].consent_required", false},
    {"consent purpose required for service", {{"purposes[1].required_for_service", "true"}},
     "consent-required-for-service", "$.purposes[1].required_for_service", false},
    {"explicit-consent purpose required for service",
     {{"purposes[7].required_for_service", "true"}},
     "consent-required-for-service", "$.purposes[7].required_for_service", false},
    {"public authority on legitimate interests", {{"controller.public_authority", "true"}},
     "public-authority-legitimate-interests", "$.purposes[3].basis", false},
    {"basis f without legitimate interests", {{"purposes[3].legitimate_interests", NULL}},
     "legitimate-interests-missing", "$.purposes[3].legitimate_interests", false},
    {"transfer without safeguard", {{"transfers[0].safeguard", NULL}},
     "transfer-without-safeguard", "$.transfers[0].safeguard", false},
    {"transfer with an empty safeguard", {{"transfers[0].safeguard", "''"}},
     "transfer-without-safeguard", "$.transfers[0].safeguard", false},
    {"transfer to an unknown recipient", {{"transfers[0].recipient", "'nobody'"}},
     "unknown-recipient", "$.transfers[0].recipient", false},
    {"purpose with an unknown recipient", {{"purposes[0].recipients[0]", "'nobody'"}},
     "unknown-recipient", "$.purposes[0].recipients[0]", false},
    {"purpose with an unknown transfer", {{"purposes[2].transfers[0]", "'nowhere'"}},
     "unknown-transfer", "$.purposes[2].transfers[0]", false},
    {"purpose with an unknown retention rule", {{"purposes[0].retention", "'forever'"}},
     "unknown-retention", "$.purposes[0].retention", false},
    {"on-behalf entry with an unknown transfer",
     {{"controller.role", "'processor'"},
      {"processing_on_behalf", "[{'controller': 'Trust', 'activities': ['Hosting'],"
                               "  'transfers': ['nowhere']}]"}},
     "unknown-transfer", "$.processing_on_behalf[0].transfers[0]", false},
    {"purpose using a category not collected", {{"purposes[3].categories[+]", "'family'"}},
     "category-not-collected", "$.purposes[3].categories[1]", false},
    {"on-behalf category not collected",
     {{"controller.role", "'processor'"},
      {"processing_on_behalf", "[{'controller': 'Trust', 'activities': ['Hosting'],"
                               "  'categories': ['genetic']}]"}},
     "category-not-collected", "$.processing_on_behalf[0].categories[0]", false},
    {"category collected but unused",
     {{"categories[+]", "{'id': 'family', 'description': 'Next of kin', 'sources': ['subject']}"}},
     "category-unused", "$.categories[5]", true},
    {"direct marketing on contract", {{"purposes[6].direct_marketing", "true"}},
     "direct-marketing-basis", "$.purposes[6].basis", false},
    {"direct marketing on public task", {{"purposes[4].basis", "'e'"}},
     "direct-marketing-basis", "$.purposes[4].basis", false},
    {"non-essential cookie without consent", {{"cookies[1].consent_required", "false"}},
     "cookie-without-consent", "$.cookies[1].consent_required", false},
    {"automated decision without significance",
     {{"purposes[0].automated_decision.significance", NULL}},
     "automated-decision-incomplete", "$.purposes[0].automated_decision.significance", false},
    {"automated decision with empty logic", {{"purposes[0].automated_decision.logic", "''"}},
     "automated-decision-incomplete", "$.purposes[0].automated_decision.logic", false},
    {"birthday without age", {{"retention[4].age", NULL}},
     "retention-age", "$.retention[4].age", false},
    {"age without birthday", {{"retention[0].age", "30"}},
     "retention-age", "$.retention[0].age", false},
    {"zero period after collection", {{"retention[2].years", NULL}},
     "retention-zero-period", "$.retention[2]", false},
    {"explicit zero period after last contact", {{"retention[0].years", "0"}},
     "retention-zero-period", "$.retention[0]", false},
    {"reserved purpose id", {{"purposes[3].id", "'subject_rights'"}},
     "reserved-id", "$.purposes[3].id", false},
    {"processor without processing on behalf", {{"controller.role", "'processor'"}},
     "role-needs-processing-on-behalf", "$.processing_on_behalf", false},
    {"both roles with an empty on-behalf list",
     {{"controller.role", "'controller_and_processor'"}, {"processing_on_behalf", "[]"}},
     "role-needs-processing-on-behalf", "$.processing_on_behalf", false},
    {"controller with processing on behalf",
     {{"processing_on_behalf", "[{'controller': 'Trust', 'activities': ['Hosting']}]"}},
     "role-forbids-processing-on-behalf", "$.processing_on_behalf", false},
    {"wrong format", {{"format", "'custos-policy/2'"}},
     "unsupported-format", "$.format", false},
    {"format not a string", {{"format", "1"}}, "unsupported-format", "$.format", false},
    {"no purposes for a controller", {{"purposes", "[]"}},
     "no-purposes", "$.purposes", false},
    /* Strict typing. */
    {"unknown top-level key", {{"colour", "'blue'"}}, "unknown-key", "$.colour", false},
    {"unknown purpose key", {{"purposes[2].colour", "1"}},
     "unknown-key", "$.purposes[2].colour", false},
    {"unknown key not shown", {{"controller.Not A Name", "1"}},
     "unknown-key", "$.controller", false},
    {"unknown key in automated_decision", {{"purposes[0].automated_decision.score", "1"}},
     "unknown-key", "$.purposes[0].automated_decision.score", false},
    {"missing ICO registration", {{"controller.ico_registration", NULL}},
     "missing-key", "$.controller.ico_registration", false},
    {"missing purpose retention", {{"purposes[0].retention", NULL}},
     "missing-key", "$.purposes[0].retention", false},
    {"missing cookies list", {{"cookies", NULL}}, "missing-key", "$.cookies", false},
    {"missing format", {{"format", NULL}}, "missing-key", "$.format", false},
    {"boolean as a string", {{"purposes[0].consent_required", "'no'"}},
     "wrong-type", "$.purposes[0].consent_required", false},
    {"fractional years", {{"retention[0].years", "8.5"}},
     "wrong-type", "$.retention[0].years", false},
    {"purpose not an object", {{"purposes[3]", "'improvement'"}},
     "wrong-type", "$.purposes[3]", false},
    {"categories not a list", {{"categories", "{}"}}, "wrong-type", "$.categories", false},
    {"empty description", {{"purposes[0].description", "''"}},
     "empty-string", "$.purposes[0].description", false},
    {"empty optional phone", {{"controller.phone", "''"}},
     "empty-string", "$.controller.phone", false},
    {"id with capitals and spaces", {{"purposes[0].id", "'Direct Care'"}},
     "bad-name", "$.purposes[0].id", false},
    {"duplicate purpose id", {{"purposes[1].id", "'direct_care'"}},
     "duplicate-id", "$.purposes[1].id", false},
    {"duplicate category", {{"categories[+]", "{'id': 'contact', 'description': 'Again',"
                                              " 'sources': ['staff']}"}},
     "duplicate-id", "$.categories[5].id", false},
    {"duplicate retention id", {{"retention[1].id", "'adult_health'"}},
     "duplicate-id", "$.retention[1].id", false},
    {"duplicate category in a purpose", {{"purposes[0].categories[+]", "'contact'"}},
     "duplicate-entry", "$.purposes[0].categories[3]", false},
    {"unknown category name", {{"purposes[0].categories[0]", "'medical'"}},
     "unknown-category", "$.purposes[0].categories[0]", false},
    {"unknown collected category", {{"categories[0].id", "'medical'"}},
     "unknown-category", "$.categories[0].id", false},
    {"unknown source", {{"categories[0].sources[0]", "'a_friend'"}},
     "unknown-source", "$.categories[0].sources[0]", false},
    {"unknown subject kind", {{"purposes[0].subject_kinds[0]", "'visitor'"}},
     "unknown-subject-kind", "$.purposes[0].subject_kinds[0]", false},
    {"basis g", {{"purposes[0].basis", "'g'"}}, "invalid-basis", "$.purposes[0].basis", false},
    {"basis of two letters", {{"purposes[0].basis", "'ef'"}},
     "invalid-basis", "$.purposes[0].basis", false},
    {"basis in capitals", {{"purposes[6].basis", "'B'"}},
     "invalid-basis", "$.purposes[6].basis", false},
    {"special condition k", {{"purposes[0].special_condition", "'k'"}},
     "invalid-special-condition", "$.purposes[0].special_condition", false},
    {"unknown role", {{"controller.role", "'owner'"}},
     "invalid-role", "$.controller.role", false},
    {"unknown trigger", {{"retention[0].trigger", "'discharge'"}},
     "invalid-trigger", "$.retention[0].trigger", false},
    {"negative years", {{"retention[0].years", "-1"}},
     "out-of-range", "$.retention[0].years", false},
    {"years beyond 200", {{"retention[0].years", "201"}},
     "out-of-range", "$.retention[0].years", false},
    {"absurd days", {{"retention[0].days", "9223372036854775807"}},
     "out-of-range", "$.retention[0].days", false},
    {"period beyond 200 years in total",
     {{"retention[0].years", "150"}, {"retention[0].months", "1200"}},
     "out-of-range", "$.retention[0]", false},
    {"age zero", {{"retention[4].age", "0"}}, "out-of-range", "$.retention[4].age", false},
    {"no subject kinds", {{"purposes[0].subject_kinds", "[]"}},
     "empty-list", "$.purposes[0].subject_kinds", false},
    {"no security measures", {{"security_measures", "[]"}},
     "empty-list", "$.security_measures", false},
    {"control character in a description", {{"purposes[0].description", "'a\\u0001b'"}},
     "bad-text", "$.purposes[0].description", false},
    {"newline in a one-line name", {{"controller.name", "'Example\\nHealth'"}},
     "bad-text", "$.controller.name", false},
    {"DPO email without @", {{"dpo.email", "'dpo.example.org'"}},
     "bad-email", "$.dpo.email", false},
    {"DPO without any contact", {{"dpo.email", NULL}},
     "party-without-contact", "$.dpo", false},
    /* Warnings. */
    {"special condition without special data", {{"purposes[3].special_condition", "'f'"}},
     "special-condition-unused", "$.purposes[3].special_condition", true},
    {"transfer to a recipient the purpose does not list", {{"purposes[2].recipients", NULL}},
     "transfer-recipient-not-listed", "$.purposes[2].transfers", true},
    /* Fixed by a sibling change: no finding. */
    {"public authority, purposes outside its tasks",
     {{"controller.public_authority", "true"}, {"purposes[3].outside_public_tasks", "true"},
      {"purposes[4].outside_public_tasks", "true"}},
     NULL, NULL, true},
    {"explicit consent with a non-consent Art 6 basis",
     {{"purposes[7].basis", "'e'"}}, NULL, NULL, true},
};

static void test_validation_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vrows / sizeof vrows[0]; i++) {
        const vrow *row = &vrows[i];
        char *json = mutated(row->m, 3);
        cu_pol_report rep = {0};
        cu_policy *p = (cu_policy *)&rep; /* must be reset to NULL on failure */
        cu_err err;
        cu_err_clear(&err);
        int rc = cu_policy_parse(json, strlen(json), &p, &rep, &err);
        const cu_pol_finding *f = row->rule ? find(&rep, row->rule, row->path) : NULL;
        if ((row->rule && !f) || (rc == CU_OK) != row->ok) {
            print_message("# row %zu (%s): rc %d, %s\n", i, row->label, rc, err.msg);
            dump(&rep);
        }
        CHECK(!row->rule || f, "row %zu (%s): no %s at %s", i, row->label, row->rule,
              row->path);
        if (row->ok) {
            CHECK(rc == CU_OK, "row %zu (%s): refused: %s", i, row->label, err.msg);
            assert_non_null(p);
            assert_int_equal(rep.nerrors, 0);
            if (f)
                assert_false(f->error);
            else
                assert_int_equal(rep.n, 0);
            cu_policy_free(p);
        } else {
            CHECK(rc == CU_EINVAL, "row %zu (%s): rc %d", i, row->label, rc);
            assert_null(p);
            assert_true(f->error);
            assert_true(rep.nerrors >= 1);
            assert_int_equal(err.code, CU_EINVAL);
            /* err holds the first error, as "policy: PATH: message". */
            const cu_pol_finding *first = NULL;
            for (size_t k = 0; k < rep.n && !first; k++)
                if (rep.v[k].error)
                    first = &rep.v[k];
            char want[512];
            snprintf(want, sizeof want, "policy: %s: %s", first->path, first->msg);
            assert_true(strncmp(err.msg, want, sizeof err.msg - 1) == 0);
        }
        for (size_t k = 0; k < rep.n; k++) {
            assert_one_line(rep.v[k].msg);
            assert_one_line(rep.v[k].rule);
            assert_true(strncmp(rep.v[k].path, "$", 1) == 0);
        }
        cu_pol_report_release(&rep);
        assert_null(rep.v);
        free(json);
    }
}

/* Three independent errors: three findings, in document order. */
static void test_all_errors_collected(void **state)
{
    (void)state;
    const mut m[] = {{"dpo.colour", "'red'"},
                     {"purposes[1].required_for_service", "true"},
                     {"transfers[0].safeguard", NULL}};
    char *json = mutated(m, 3);
    cu_pol_report rep = {0};
    cu_err err;
    parse_refused(json, strlen(json), &rep, &err);
    if (rep.n != 3)
        dump(&rep);
    assert_int_equal(rep.n, 3);
    assert_int_equal(rep.nerrors, 3);
    assert_int_equal(rep.nwarnings, 0);
    assert_string_equal(rep.v[0].rule, "unknown-key");
    assert_string_equal(rep.v[0].path, "$.dpo.colour");
    assert_non_null(find(&rep, "transfer-without-safeguard", "$.transfers[0].safeguard"));
    assert_non_null(
        find(&rep, "consent-required-for-service", "$.purposes[1].required_for_service"));
    assert_string_equal(err.msg, "policy: $.dpo.colour: unknown key; allowed here: name, "
                                 "address, email, phone, website");
    cu_pol_report_release(&rep);
    free(json);
}

/* Warnings are listed but do not block; errors and warnings together block. */
static void test_warnings_do_not_block(void **state)
{
    (void)state;
    const mut m[] = {
        {"categories[+]", "{'id': 'family', 'description': 'Next of kin', 'sources': ['subject']}"},
        {"categories[+]", "{'id': 'genetic', 'description': 'Test results', 'sources': ['staff']}"},
    };
    char *json = mutated(m, 2);
    cu_pol_report rep = {0};
    cu_policy *p = parse_ok(json, &rep);
    assert_int_equal(rep.nwarnings, 2);
    assert_int_equal(rep.n, 2);
    assert_false(rep.v[0].error);
    assert_string_equal(rep.v[0].rule, "category-unused");
    assert_string_equal(rep.v[1].path, "$.categories[6]");
    assert_true(p->collected & (1u << CU_CAT_GENETIC));
    cu_policy_free(p);
    cu_pol_report_release(&rep);
    free(json);

    const mut m2[] = {m[0], {"purposes[0].basis", "'z'"}};
    json = mutated(m2, 2);
    cu_err err;
    parse_refused(json, strlen(json), &rep, &err);
    assert_int_equal(rep.nerrors, 1);
    assert_int_equal(rep.nwarnings, 1);
    cu_pol_report_release(&rep);
    free(json);
}

/* Documents that are not policies at all. */
static void test_not_a_document(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        size_t len; /* 0: strlen */
        const char *rule;
    } rows[] = {
        {"", 0, "malformed-json"},
        {"{", 0, "malformed-json"},
        {"[1, 2]", 0, "not-an-object"},
        {"\"custos-policy/1\"", 0, "not-an-object"},
        {"{\"format\": 1, \"format\": 2}", 0, "duplicate-key"},
        {"{\"format\": \"custos-policy/1\"}\0{}", 32, "nul-byte"},
        {"{\"a\": \"\\u0000\"}", 0, "malformed-json"},
        {"{\"a\": \"\xff\"}", 0, "malformed-json"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cu_pol_report rep = {0};
        cu_err err;
        parse_refused(rows[i].json, rows[i].len ? rows[i].len : strlen(rows[i].json), &rep,
                      &err);
        CHECK(rep.n == 1 && strcmp(rep.v[0].rule, rows[i].rule) == 0,
              "row %zu: want %s, got %s", i, rows[i].rule, rep.n ? rep.v[0].rule : "nothing");
        assert_string_equal(rep.v[0].path, "$");
        assert_true(strncmp(err.msg, "policy: $: ", 11) == 0);
        assert_one_line(err.msg);
        cu_pol_report_release(&rep);
    }
    /* Too large: refused before parsing. */
    size_t big = CU_POLICY_MAX_BYTES + 1;
    char *buf = malloc(big);
    assert_non_null(buf);
    memset(buf, ' ', big);
    buf[0] = '{';
    buf[big - 1] = '}';
    cu_pol_report rep = {0};
    cu_err err;
    parse_refused(buf, big, &rep, &err);
    assert_string_equal(rep.v[0].rule, "too-large");
    cu_pol_report_release(&rep);
    free(buf);
}

/* Arrays are capped at 256 entries; a flood of findings is counted, and the
 * report keeps a bounded number of them. */
static void test_caps(void **state)
{
    (void)state;
    char *base = mutated(NULL, 0);
    json_t *root = json_loads(base, 0, NULL);
    json_t *sec = json_object_get(root, "security_measures");
    for (int i = 0; i < 254; i++) /* 256 in all: the most allowed */
        json_array_append_new(sec, json_string("Measure"));
    char *json = json_dumps(root, JSON_COMPACT);
    cu_pol_report rep = {0};
    cu_policy *p = parse_ok(json, &rep);
    assert_int_equal(p->nsecurity, 256);
    cu_policy_free(p);
    free(json);
    json_array_append_new(sec, json_string("Measure"));
    json = json_dumps(root, JSON_COMPACT);
    cu_err err;
    parse_refused(json, strlen(json), &rep, &err);
    assert_non_null(find(&rep, "too-many", "$.security_measures"));
    cu_pol_report_release(&rep);
    free(json);

    /* 5000 unknown keys: all counted, the report bounded. */
    json_t *dpo = json_object_get(root, "dpo");
    for (int i = 0; i < 5000; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%d", i);
        json_object_set_new(dpo, k, json_true());
    }
    json = json_dumps(root, JSON_COMPACT);
    parse_refused(json, strlen(json), &rep, &err);
    assert_true(rep.nerrors >= 5000);
    assert_true(rep.n < rep.nerrors && rep.n <= 1000);
    cu_pol_report_release(&rep);
    free(json);
    json_decref(root);
    free(base);
}

/* --------------------------------------------------------- enforcement ---- */

#define CAT(c) (1u << CU_CAT_##c)

typedef struct drow {
    const char *purpose;
    const char *kind; /* NULL: no one subject (a listing) */
    unsigned write;   /* categories written; 0: a read */
    bool restricted, objected, consent;
    bool allow;
    const char *rule;
} drow;

static const drow drows[] = {
    /* Public task + 9(2)(h), patients only. */
    {"direct_care", "patient", 0, false, false, false, true, NULL},
    {"direct_care", "patient", CAT(HEALTH) | CAT(CONTACT), false, false, false, true, NULL},
    {"direct_care", "patient", CAT(ONLINE_ID), false, false, false, false, "category-not-covered"},
    {"direct_care", "patient", CAT(HEALTH) | CAT(FAMILY), false, false, false, false,
     "category-not-covered"},
    {"direct_care", "web_user", 0, false, false, false, false, "subject-kind-not-covered"},
    {"direct_care", "employee", CAT(HEALTH), false, false, false, false,
     "subject-kind-not-covered"},
    {"direct_care", NULL, 0, false, false, false, true, NULL},
    {"direct_care", "patient", 0, false, true, false, false, "objection"},
    {"direct_care", "patient", 0, true, false, false, false, "restricted"},
    {"direct_care", "patient", 0, true, false, true, true, NULL},
    /* Consent-based direct marketing. */
    {"newsletter", "patient", 0, false, false, false, false, "no-consent"},
    {"newsletter", "patient", 0, false, false, true, true, NULL},
    {"newsletter", "web_user", CAT(CONTACT), false, false, true, true, NULL},
    {"newsletter", "web_user", CAT(HEALTH), false, false, true, false, "category-not-covered"},
    {"newsletter", "patient", 0, false, true, true, false, "objection"},
    {"newsletter", "patient", 0, true, false, true, true, NULL},
    {"newsletter", "patient", 0, true, false, false, false, "restricted"},
    {"newsletter", "employee", 0, false, false, true, false, "subject-kind-not-covered"},
    /* Consent-based, not marketing: an objection alone does not stop it. */
    {"analytics", "web_user", 0, false, true, true, true, NULL},
    {"analytics", "web_user", 0, false, false, false, false, "no-consent"},
    /* Explicit consent (9(2)(a)). */
    {"research", "patient", 0, false, false, false, false, "no-consent"},
    {"research", "patient", CAT(HEALTH), false, false, true, true, NULL},
    /* Legitimate interests. */
    {"improvement", "patient", 0, false, false, false, true, NULL},
    {"improvement", "patient", 0, false, true, false, false, "objection"},
    {"improvement", "patient", 0, false, true, true, false, "objection"},
    {"improvement", "patient", 0, true, false, false, false, "restricted"},
    /* Direct marketing on legitimate interests: the objection is absolute. */
    {"postal_offers", "patient", 0, false, false, false, true, NULL},
    {"postal_offers", "patient", 0, false, true, false, false, "objection"},
    {"postal_offers", "patient", 0, false, true, true, false, "objection"},
    /* Contract: objection does not apply; restriction does. */
    {"employment", "employee", CAT(WORK_EDU_FIN), false, true, false, true, NULL},
    {"employment", "employee", 0, true, false, false, false, "restricted"},
    {"employment", "patient", 0, false, false, false, false, "subject-kind-not-covered"},
    /* Legal obligation for legal claims: neither objection nor restriction. */
    {"legal", "patient", 0, true, true, false, true, NULL},
    {"legal", "other", CAT(HEALTH), true, false, false, true, NULL},
    {"legal", "employee", CAT(ONLINE_ID), false, false, false, false, "category-not-covered"},
    /* The built-in purpose: always, for every kind and category. */
    {CU_PURPOSE_RIGHTS, "web_user", 0, true, true, false, true, NULL},
    {CU_PURPOSE_RIGHTS, "employee", CAT(GENETIC) | CAT(FAMILY), true, true, false, true, NULL},
    /* Not in the policy. */
    {"marketing", "patient", 0, false, false, true, false, "purpose-not-in-policy"},
};

static void test_decision_table(void **state)
{
    (void)state;
    char *json = q(BASE);
    cu_pol_report rep = {0};
    cu_policy *p = parse_ok(json, &rep);
    for (size_t i = 0; i < sizeof drows / sizeof drows[0]; i++) {
        const drow *r = &drows[i];
        cu_pol_facts f = {
            .policy = p,
            .purpose = cu_policy_purpose(p, r->purpose),
            .write = r->write != 0,
            .categories = r->write,
            .kind = r->kind ? cu_subject_kind_bit(r->kind) : 0,
            .restricted = r->restricted,
            .objected = r->objected,
            .consent = r->consent,
        };
        cu_pol_decision d = cu_policy_decide(&f);
        CHECK(d.allow == r->allow, "row %zu (%s, %s): allow %d, rule %s", i, r->purpose,
              r->kind ? r->kind : "-", d.allow, d.rule ? d.rule : "-");
        if (r->allow) {
            assert_null(d.rule);
            assert_int_equal(d.categories, f.purpose->categories);
        } else {
            CHECK(d.rule && strcmp(d.rule, r->rule) == 0, "row %zu (%s): rule %s, want %s", i,
                  r->purpose, d.rule ? d.rule : "-", r->rule);
        }
    }
    cu_policy_free(p);
    cu_pol_report_release(&rep);
    free(json);
}

/* Without a policy only the built-in purpose exists. */
static void test_decision_no_policy(void **state)
{
    (void)state;
    cu_pol_facts f = {.policy = NULL, .purpose = cu_policy_purpose(NULL, "direct_care"),
                      .kind = cu_subject_kind_bit("patient")};
    cu_pol_decision d = cu_policy_decide(&f);
    assert_false(d.allow);
    assert_string_equal(d.rule, "no-policy");
    f.purpose = cu_policy_purpose(NULL, CU_PURPOSE_RIGHTS);
    assert_ptr_equal(f.purpose, cu_policy_rights_purpose());
    d = cu_policy_decide(&f);
    assert_true(d.allow);
}

/* A purpose removed from the policy stops being usable: the lookup is by id in
 * the current policy only. */
static void test_removed_purpose(void **state)
{
    (void)state;
    const mut m[] = {{"purposes[4]", NULL}};
    char *json = mutated(m, 1);
    cu_pol_report rep = {0};
    cu_policy *p = parse_ok(json, &rep);
    assert_null(cu_policy_purpose(p, "postal_offers"));
    cu_pol_facts f = {.policy = p, .purpose = cu_policy_purpose(p, "postal_offers")};
    assert_string_equal(cu_policy_decide(&f).rule, "purpose-not-in-policy");
    cu_policy_free(p);
    cu_pol_report_release(&rep);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_has_no_findings),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_rich),
        cmocka_unit_test(test_validation_table),
        cmocka_unit_test(test_all_errors_collected),
        cmocka_unit_test(test_warnings_do_not_block),
        cmocka_unit_test(test_not_a_document),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_decision_table),
        cmocka_unit_test(test_decision_no_policy),
        cmocka_unit_test(test_removed_purpose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
