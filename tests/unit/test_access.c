/*
 * test_access.c — the need-to-know rules (cu_access_decide) as a table:
 * role x action x same/other controller x care list x break-glass, and the
 * role names, lists and default purposes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "domain/access.h"
#include "domain/staff.h"
#include "domain/model.h"

#define ALL ((1u << CU_CAT_COUNT) - 1)
#define DEMO ((1u << CU_CAT_CONTACT) | (1u << CU_CAT_IDENTIFYING))
#define CLIN                                                                                \
    ((1u << CU_CAT_HEALTH) | (1u << CU_CAT_GENETIC) | (1u << CU_CAT_SPECIAL) |              \
     (1u << CU_CAT_FAMILY) | (1u << CU_CAT_WORK_EDU_FIN))

enum { NO = 0, YES = 1 };
typedef struct row {
    unsigned role;
    cu_act act;
    int care;       /* on the care list */
    int glass;      /* break-glass granted */
    int allow;
    unsigned cats;  /* categories when allowed */
    int pseudo;
    const char *rule; /* when refused */
} row;

static const row table[] = {
    /* clinician: creates and searches; the rest only with a care relationship */
    {CU_ROLE_CLINICIAN, CU_ACT_SUBJECT_CREATE, NO, NO, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_SEARCH, NO, NO, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_SUBJECT_READ, NO, NO, NO, 0, NO, "not-on-care-list"},
    {CU_ROLE_CLINICIAN, CU_ACT_SUBJECT_READ, YES, NO, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_SUBJECT_READ, NO, YES, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_SUBJECT_UPDATE, NO, NO, NO, 0, NO, "not-on-care-list"},
    {CU_ROLE_CLINICIAN, CU_ACT_SUBJECT_UPDATE, YES, NO, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_ITEMS_ADD, NO, YES, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_ACCESS_LOG, YES, NO, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_LIST, YES, NO, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_CLINICIAN, CU_ACT_AUDIT_READ, YES, NO, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_CLINICIAN, CU_ACT_SUBJECT_ERASE, YES, NO, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_CLINICIAN, CU_ACT_BREAK_GLASS, NO, NO, YES, ALL, NO, NULL},
    /* break-glass: reading and recording care, nothing else */
    {CU_ROLE_CLINICIAN, CU_ACT_SUBJECT_UPDATE, NO, YES, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_EXPORT, NO, YES, NO, 0, NO, "break-glass-not-permitted"},
    {CU_ROLE_CLINICIAN, CU_ACT_DISCLOSE, NO, YES, NO, 0, NO, "break-glass-not-permitted"},
    {CU_ROLE_CLINICIAN, CU_ACT_CONSENT, NO, YES, NO, 0, NO, "break-glass-not-permitted"},
    {CU_ROLE_CLINICIAN, CU_ACT_ACCESS_LOG, NO, YES, NO, 0, NO, "break-glass-not-permitted"},
    {CU_ROLE_CLINICIAN, CU_ACT_SUBJECT_ERASE, NO, YES, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_CLINICIAN, CU_ACT_RIGHTS, NO, YES, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_CLINICIAN, CU_ACT_CONSENT, NO, NO, NO, 0, NO, "not-on-care-list"},
    {CU_ROLE_CLINICIAN, CU_ACT_CONSENT, YES, NO, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_CARE_LIST, NO, NO, NO, 0, NO, "role-not-permitted"},
    /* care_admin: demographics only, manages care lists */
    {CU_ROLE_CARE_ADMIN, CU_ACT_SUBJECT_READ, NO, NO, YES, DEMO, NO, NULL},
    {CU_ROLE_CARE_ADMIN, CU_ACT_SUBJECT_CREATE, NO, NO, YES, DEMO, NO, NULL},
    {CU_ROLE_CARE_ADMIN, CU_ACT_CARE_LIST, NO, NO, YES, DEMO, NO, NULL},
    {CU_ROLE_CARE_ADMIN, CU_ACT_LIST, NO, NO, YES, DEMO, NO, NULL},
    {CU_ROLE_CARE_ADMIN, CU_ACT_AUDIT_READ, NO, NO, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_CARE_ADMIN, CU_ACT_BREAK_GLASS, NO, NO, NO, 0, NO, "role-not-permitted"},
    /* dpo: every category, rights and review, never break-glass or care lists */
    {CU_ROLE_DPO, CU_ACT_SUBJECT_READ, NO, NO, YES, ALL, NO, NULL},
    {CU_ROLE_DPO, CU_ACT_SUBJECT_UPDATE, NO, NO, YES, ALL, NO, NULL},
    {CU_ROLE_DPO, CU_ACT_SUBJECT_ERASE, NO, NO, YES, ALL, NO, NULL},
    {CU_ROLE_DPO, CU_ACT_AUDIT_READ, NO, NO, YES, ALL, NO, NULL},
    {CU_ROLE_DPO, CU_ACT_BREAK_GLASS_REVIEW, NO, NO, YES, ALL, NO, NULL},
    {CU_ROLE_DPO, CU_ACT_SUBJECT_CREATE, NO, NO, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_DPO, CU_ACT_CARE_LIST, NO, NO, NO, 0, NO, "role-not-permitted"},
    /* analyst: clinical categories under a pseudonym, nothing else */
    {CU_ROLE_ANALYST, CU_ACT_SUBJECT_READ, NO, NO, YES, CLIN, YES, NULL},
    {CU_ROLE_ANALYST, CU_ACT_LIST, NO, NO, YES, CLIN, YES, NULL},
    {CU_ROLE_ANALYST, CU_ACT_SEARCH, NO, NO, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_ANALYST, CU_ACT_SUBJECT_UPDATE, NO, NO, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_ANALYST, CU_ACT_ACCESS_LOG, NO, NO, NO, 0, NO, "role-not-permitted"},
    /* auditor: the trail, no values */
    /* access packages and the disclosure log: the dpo, and a clinician for
     * their own patients */
    {CU_ROLE_DPO, CU_ACT_EXPORT, NO, NO, YES, ALL, NO, NULL},
    {CU_ROLE_DPO, CU_ACT_DISCLOSE, NO, NO, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_EXPORT, YES, NO, YES, ALL, NO, NULL},
    {CU_ROLE_CLINICIAN, CU_ACT_EXPORT, NO, NO, NO, 0, NO, "not-on-care-list"},
    {CU_ROLE_CLINICIAN, CU_ACT_DISCLOSE, YES, NO, YES, ALL, NO, NULL},
    {CU_ROLE_CARE_ADMIN, CU_ACT_EXPORT, YES, YES, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_ANALYST, CU_ACT_EXPORT, YES, YES, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_AUDITOR, CU_ACT_DISCLOSE, YES, YES, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_ADMIN, CU_ACT_EXPORT, YES, YES, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_AUDITOR, CU_ACT_AUDIT_READ, NO, NO, YES, 0, NO, NULL},
    {CU_ROLE_AUDITOR, CU_ACT_AUDIT_VERIFY, NO, NO, YES, 0, NO, NULL},
    {CU_ROLE_AUDITOR, CU_ACT_ACCESS_LOG, NO, NO, YES, 0, NO, NULL},
    {CU_ROLE_AUDITOR, CU_ACT_SUBJECT_READ, YES, YES, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_AUDITOR, CU_ACT_SEARCH, NO, NO, NO, 0, NO, "role-not-permitted"},
    /* admin: administration, no personal data */
    {CU_ROLE_ADMIN, CU_ACT_ADMIN, NO, NO, YES, 0, NO, NULL},
    {CU_ROLE_ADMIN, CU_ACT_SUBJECT_READ, NO, NO, NO, 0, NO, "role-not-permitted"},
    {CU_ROLE_ADMIN, CU_ACT_AUDIT_READ, NO, NO, NO, 0, NO, "role-not-permitted"},
    /* several roles: the union of what each allows */
    {CU_ROLE_ANALYST | CU_ROLE_CARE_ADMIN, CU_ACT_SUBJECT_READ, NO, NO, YES, CLIN | DEMO, NO,
     NULL},
    {CU_ROLE_ANALYST | CU_ROLE_AUDITOR, CU_ACT_SUBJECT_READ, NO, NO, YES, CLIN, YES, NULL},
    /* the operator (CLI) does everything */
    {CU_ROLE_OPERATOR, CU_ACT_SUBJECT_ERASE, NO, NO, YES, ALL, NO, NULL},
    {CU_ROLE_OPERATOR, CU_ACT_ADMIN, NO, NO, YES, ALL, NO, NULL},
};

static void test_table(void **state)
{
    (void)state;
    static const char A[] = "11111111-1111-4111-8111-111111111111";
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const row *t = &table[i];
        cu_access_req r = {.roles = t->role,
                           .actor_controller = t->role == CU_ROLE_OPERATOR ? NULL : A,
                           .act = t->act, .target_controller = A,
                           .on_care_list = t->care, .break_glass = t->glass};
        cu_access_decision d = cu_access_decide(&r);
        if (d.allow != (bool)t->allow)
            fail_msg("row %zu (%s): allow %d, want %d", i, cu_act_name(t->act), d.allow,
                     t->allow);
        if (t->allow) {
            if (d.categories != t->cats)
                fail_msg("row %zu: categories %#x, want %#x", i, d.categories, t->cats);
            if (d.pseudonymise != (bool)t->pseudo)
                fail_msg("row %zu: pseudonymise %d", i, d.pseudonymise);
            assert_non_null(d.basis);
            assert_null(d.rule);
        } else {
            assert_non_null(d.rule);
            if (strcmp(d.rule, t->rule) != 0)
                fail_msg("row %zu: rule %s, want %s", i, d.rule, t->rule);
            assert_false(d.conceal);
        }
    }
}

static void test_basis(void **state)
{
    (void)state;
    static const char A[] = "11111111-1111-4111-8111-111111111111";
    cu_access_req r = {.roles = CU_ROLE_CLINICIAN, .actor_controller = A,
                       .act = CU_ACT_SUBJECT_READ, .target_controller = A, .on_care_list = true};
    assert_string_equal(cu_access_decide(&r).basis, "care_list");
    r.on_care_list = false;
    r.break_glass = true;
    assert_string_equal(cu_access_decide(&r).basis, "break_glass");
    r.roles = CU_ROLE_OPERATOR;
    assert_string_equal(cu_access_decide(&r).basis, "operator");
}

/* Another controller's subjects are refused as if they did not exist, for
 * every staff role and action, even with a care relationship. */
static void test_other_controller_concealed(void **state)
{
    (void)state;
    static const char A[] = "11111111-1111-4111-8111-111111111111";
    static const char B[] = "22222222-2222-4222-8222-222222222222";
    for (unsigned role = CU_ROLE_CLINICIAN; role <= CU_ROLE_ADMIN; role <<= 1)
        for (int act = 0; act < CU_ACT_COUNT; act++) {
            cu_access_req r = {.roles = role, .actor_controller = A, .act = (cu_act)act,
                               .target_controller = B, .on_care_list = true,
                               .break_glass = true};
            cu_access_decision d = cu_access_decide(&r);
            assert_false(d.allow);
            assert_true(d.conceal);
            assert_string_equal(d.rule, "other-controller");
        }
}

/* Deny by default: no role, or a staff role without a controller. */
static void test_deny_by_default(void **state)
{
    (void)state;
    for (int act = 0; act < CU_ACT_COUNT; act++) {
        cu_access_req none = {.roles = 0, .act = (cu_act)act};
        assert_false(cu_access_decide(&none).allow);
        cu_access_req homeless = {.roles = CU_ROLE_DPO, .act = (cu_act)act};
        cu_access_decision d = cu_access_decide(&homeless);
        assert_false(d.allow);
        assert_string_equal(d.rule, "no-controller");
    }
}

/* Questionnaire definitions: only the DPO and the admin (and the operator)
 * add them; every role may read them; no category comes with either. */
static void test_questionnaire_roles(void **state)
{
    (void)state;
    static const char A[] = "11111111-1111-4111-8111-111111111111";
    for (unsigned role = CU_ROLE_CLINICIAN; role <= CU_ROLE_ADMIN; role <<= 1) {
        cu_access_req add = {.roles = role, .actor_controller = A,
                             .act = CU_ACT_QUESTIONNAIRE, .target_controller = ""};
        cu_access_decision d = cu_access_decide(&add);
        bool may = role == CU_ROLE_DPO || role == CU_ROLE_ADMIN;
        assert_int_equal(d.allow, may);
        if (!may)
            assert_string_equal(d.rule, "role-not-permitted");
        cu_access_req rd = add;
        rd.act = CU_ACT_QUESTIONNAIRE_READ;
        d = cu_access_decide(&rd);
        assert_true(d.allow);
        assert_int_equal(d.categories, 0);
    }
    cu_access_req op = {.roles = CU_ROLE_OPERATOR, .act = CU_ACT_QUESTIONNAIRE};
    assert_true(cu_access_decide(&op).allow);
}

static void test_role_names(void **state)
{
    (void)state;
    assert_int_equal(cu_roles_parse("clinician"), CU_ROLE_CLINICIAN);
    assert_int_equal(cu_roles_parse("dpo,auditor"), CU_ROLE_DPO | CU_ROLE_AUDITOR);
    assert_int_equal(cu_roles_parse(""), 0);
    assert_int_equal(cu_roles_parse("dpo,"), 0);
    assert_int_equal(cu_roles_parse(",dpo"), 0);
    assert_int_equal(cu_roles_parse("dpo,nurse"), 0);
    assert_int_equal(cu_roles_parse("Clinician"), 0);
    char out[96];
    cu_roles_format(CU_ROLE_AUDITOR | CU_ROLE_CLINICIAN, out, sizeof out);
    assert_string_equal(out, "clinician,auditor");
    assert_string_equal(cu_role_default_purpose(CU_ROLE_CLINICIAN), "direct_care");
    assert_string_equal(cu_role_default_purpose(CU_ROLE_ANALYST), "reporting");
    assert_string_equal(cu_role_default_purpose(CU_ROLE_DPO), "subject_rights");
    for (int act = 0; act < CU_ACT_COUNT; act++)
        assert_string_not_equal(cu_act_name((cu_act)act), "unknown");
}

/* A patient on the portal: their own record only, and nothing else; another
 * subject is concealed, never "refused"; no staff role name parses to it. */
static void test_subject_role(void **state)
{
    (void)state;
    static const char A[] = "11111111-1111-4111-8111-111111111111";
    static const char B[] = "22222222-2222-4222-8222-222222222222";
    cu_access_req r = {.roles = CU_ROLE_SUBJECT, .actor_controller = A,
                       .act = CU_ACT_PORTAL_VIEW, .target_controller = A, .self = true};
    cu_access_decision d = cu_access_decide(&r);
    assert_true(d.allow);
    assert_string_equal(d.basis, "self");
    assert_false(d.pseudonymise);
    r.self = false;
    d = cu_access_decide(&r);
    assert_false(d.allow);
    assert_true(d.conceal);
    assert_string_equal(d.rule, "not-own-record");
    /* on a care list or under break-glass changes nothing */
    r.on_care_list = r.break_glass = true;
    assert_false(cu_access_decide(&r).allow);
    /* another controller: concealed before the role is asked */
    r = (cu_access_req){.roles = CU_ROLE_SUBJECT, .actor_controller = A,
                        .act = CU_ACT_PORTAL_VIEW, .target_controller = B, .self = true};
    d = cu_access_decide(&r);
    assert_false(d.allow);
    assert_true(d.conceal);
    /* their own consent and rights requests: on their own record only */
    static const cu_act own[] = {CU_ACT_CONSENT, CU_ACT_REQUEST_RECEIVE};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        r = (cu_access_req){.roles = CU_ROLE_SUBJECT, .actor_controller = A, .act = own[i],
                            .target_controller = A, .self = true};
        d = cu_access_decide(&r);
        assert_true(d.allow);
        assert_string_equal(d.basis, "self");
        r.self = false;
        d = cu_access_decide(&r);
        assert_false(d.allow);
        assert_true(d.conceal);
        assert_string_equal(d.rule, "not-own-record");
        r.target_controller = B;
        r.self = true;
        assert_false(cu_access_decide(&r).allow);
    }
    /* every other act, even on their own record: never the requests' work
     * (CU_ACT_REQUESTS), the access log, an export, a change of the record */
    for (int act = 0; act < CU_ACT_COUNT; act++) {
        if (act == CU_ACT_PORTAL_VIEW || act == CU_ACT_CONSENT || act == CU_ACT_REQUEST_RECEIVE)
            continue;
        r = (cu_access_req){.roles = CU_ROLE_SUBJECT, .actor_controller = A,
                            .act = (cu_act)act, .target_controller = A, .self = true};
        if (cu_access_decide(&r).allow)
            fail_msg("a patient may %s", cu_act_name((cu_act)act));
    }
    /* portal.view is the patient's alone: no staff role has it */
    for (unsigned role = CU_ROLE_CLINICIAN; role <= CU_ROLE_ADMIN; role <<= 1) {
        r = (cu_access_req){.roles = role, .actor_controller = A, .act = CU_ACT_PORTAL_VIEW,
                            .target_controller = A, .on_care_list = true, .self = true};
        assert_false(cu_access_decide(&r).allow);
    }
    assert_int_equal(cu_roles_parse("subject"), 0);
}

static void test_pseudonymous_roles(void **state)
{
    (void)state;
    assert_true(cu_roles_pseudonymous(CU_ROLE_ANALYST));
    assert_true(cu_roles_pseudonymous(CU_ROLE_ANALYST | CU_ROLE_ADMIN));
    assert_false(cu_roles_pseudonymous(0));
    assert_false(cu_roles_pseudonymous(CU_ROLE_ADMIN));
    unsigned others[] = {CU_ROLE_OPERATOR, CU_ROLE_CLINICIAN, CU_ROLE_CARE_ADMIN, CU_ROLE_DPO,
                         CU_ROLE_AUDITOR};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        assert_false(cu_roles_pseudonymous(others[i]));
        assert_false(cu_roles_pseudonymous(others[i] | CU_ROLE_ANALYST));
    }
}

/* Break-glass reasons: the check is a pure function (domain/staff.h). */
typedef struct reason_row {
    const char *text;
    const char *rule; /* NULL: accepted */
    const char *trimmed; /* when accepted: what is kept */
} reason_row;

static const reason_row reasons[] = {
    {"Unconscious in A&E, no care team reachable", NULL, NULL},
    {"  Collapsed at home, GP unreachable  ", NULL, "Collapsed at home, GP unreachable"},
    {"\t\n Seizure on ward 7 \r\n", NULL, "Seizure on ward 7"},
    {"\xc2\xa0\xe2\x80\x83" "Anaphylaxis in clinic\xe3\x80\x80", NULL, "Anaphylaxis in clinic"},
    {"Patientin bewusstlos, Notaufnahme", NULL, NULL},
    {"Caf\xc3\xa9 collapse, r\xc3\xa9sum\xc3\xa9 unknown", NULL, NULL},
    {"e\xcc\x81tat critique urgent", NULL, NULL},     /* combining accent */
    {"\xd0\x9f\xd0\xb0\xd1\x86\xd0\xb8\xd0\xb5\xd0\xbd\xd1\x82 \xd0\xb1\xd0\xb5\xd0\xb7 "
     "\xd1\x81\xd0\xbe\xd0\xb7\xd0\xbd\xd0\xb0\xd0\xbd\xd0\xb8\xd1\x8f", NULL, NULL}, /* Cyrillic */
    {"Overdose 2x paracetamol", NULL, NULL},
    /* nothing but white space, of every kind */
    {"", "reason-too-short", NULL},
    {"                    ", "reason-too-short", NULL},
    {"\t\t\t\t\t\t\t\t\t\t\t\t", "reason-too-short", NULL},
    {"\n\n\n\n\n\n\n\n\n\n\n\n", "reason-too-short", NULL},
    {"\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0",
     "reason-too-short", NULL},
    {"\xe3\x80\x80\xe3\x80\x80\xe3\x80\x80\xe3\x80\x80\xe3\x80\x80\xe3\x80\x80\xe3\x80\x80"
     "\xe3\x80\x80\xe3\x80\x80\xe3\x80\x80", "reason-too-short", NULL},
    /* zero-width and format characters are refused wherever they are */
    {"\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b"
     "\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b", "reason-invisible-character", NULL},
    {"Seizure\xe2\x80\x8c on ward seven", "reason-invisible-character", NULL},
    {"\xef\xbb\xbfSeizure on ward seven", "reason-invisible-character", NULL},
    {"Seizure on ward seven\xc2\xad", "reason-invisible-character", NULL},
    {"Seizure \xe2\x81\xa0on ward seven", "reason-invisible-character", NULL},
    {"Seizure \xe2\x80\x8fon ward seven", "reason-invisible-character", NULL},
    {"Seizure \xe2\x80\xaeon ward seven", "reason-invisible-character", NULL},
    {"Seizure \xe2\x81\xa4on ward seven", "reason-invisible-character", NULL},
    /* control characters inside */
    {"Seizure on\nward seven", "reason-control-character", NULL},
    {"Seizure on\tward seven", "reason-control-character", NULL},
    {"Seizure on\x7fward seven", "reason-control-character", NULL},
    {"Seizure on\xc2\x85ward seven", "reason-control-character", NULL}, /* NEL: C1 */
    {"\xc2\x85Seizure on ward seven\xc2\x85", NULL, "Seizure on ward seven"}, /* trimmed */
    {"Seizure on\xc2\x9bward seven", "reason-control-character", NULL},
    {"Seizure on\x1b[2Jward seven", "reason-control-character", NULL},
    /* length, counted in characters after trimming */
    {"Fell, hurt", NULL, NULL},           /* exactly 10 */
    {"Fell hurt", "reason-too-short", NULL},
    {"   Fell hurt   ", "reason-too-short", NULL},
    {"\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\xc3\xa9", "reason-too-short", NULL}, /* 6 chars, 11 bytes */
    /* letters and words */
    {"..........", "reason-too-few-letters", NULL},
    {"1234567890 12345", "reason-too-few-letters", NULL},
    {"!!!!!!!!!! ab cd", "reason-too-few-letters", NULL},
    {"\xf0\x9f\x9a\x91\xf0\x9f\x9a\x91\xf0\x9f\x9a\x91\xf0\x9f\x9a\x91\xf0\x9f\x9a\x91 "
     "\xf0\x9f\x9a\x91\xf0\x9f\x9a\x91\xf0\x9f\x9a\x91\xf0\x9f\x9a\x91\xf0\x9f\x9a\x91",
     "reason-too-few-letters", NULL}, /* ambulances */
    {"\xe2\x80\x94\xe2\x80\x94\xe2\x80\x94\xe2\x80\x94 \xe2\x80\x94\xe2\x80\x94\xe2\x80\x94"
     "\xe2\x80\x94\xe2\x80\x94", "reason-too-few-letters", NULL}, /* dashes */
    {"emergencyemergency", "reason-too-few-words", NULL},
    {"a b c d e f g h", "reason-too-few-words", NULL},
    {"x y z emergency", "reason-too-few-words", NULL},
    /* malformed UTF-8 */
    {"Seizure on \xff ward seven", "reason-not-utf8", NULL},
    {"Seizure on \xc0\xaf ward seven", "reason-not-utf8", NULL}, /* overlong */
    {"Seizure on \xed\xa0\x80 ward seven", "reason-not-utf8", NULL}, /* surrogate */
    {"Seizure on ward seven \xe2\x80", "reason-not-utf8", NULL}, /* cut short */
};

static void test_break_glass_reason(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        const reason_row *r = &reasons[i];
        size_t start = 99, len = 99;
        const char *rule = "unset";
        cu_err err = {0};
        int rc = cu_break_glass_reason_check(r->text, strlen(r->text), &start, &len, &rule,
                                             &err);
        if ((rc == CU_OK) != (r->rule == NULL) || (r->rule && strcmp(rule, r->rule) != 0)) {
            print_error("reason %zu (\"%s\"): got %s (%s), expected %s\n", i, r->text,
                        rc ? rule : "accepted", err.msg, r->rule ? r->rule : "accepted");
            fail();
        }
        if (rc) {
            assert_int_equal(rc, CU_EINVAL);
            /* the message names the rule */
            assert_non_null(strstr(err.msg, r->rule));
            assert_int_equal(len, 0);
            continue;
        }
        assert_null(rule);
        const char *want = r->trimmed ? r->trimmed : r->text;
        assert_int_equal(len, strlen(want));
        assert_memory_equal(r->text + start, want, len);
    }
    /* 1000 characters are enough, 1001 too many (in characters, not bytes) */
    char buf[5000];
    for (int chars = 1000; chars <= 1001; chars++) {
        size_t n = 0;
        for (int k = 0; k < chars; k++) {
            if (k % 10 == 9) {
                buf[n++] = ' ';
            } else {
                buf[n++] = (char)0xc3; /* e acute: two bytes */
                buf[n++] = (char)0xa9;
            }
        }
        size_t start, len;
        const char *rule = NULL;
        cu_err err = {0};
        int rc = cu_break_glass_reason_check(buf, n, &start, &len, &rule, &err);
        if (chars == 1000) {
            assert_int_equal(rc, CU_OK);
        } else {
            assert_int_equal(rc, CU_EINVAL);
            assert_string_equal(rule, "reason-too-long");
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_basis),
        cmocka_unit_test(test_other_controller_concealed),
        cmocka_unit_test(test_deny_by_default),
        cmocka_unit_test(test_role_names),
        cmocka_unit_test(test_questionnaire_roles),
        cmocka_unit_test(test_pseudonymous_roles),
        cmocka_unit_test(test_subject_role),
        cmocka_unit_test(test_break_glass_reason),
    };
    return cmocka_run_group_tests_name("access", tests, NULL, NULL);
}
