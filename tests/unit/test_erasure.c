/*
 * test_erasure.c — the erasure decision (erasure.c, cu_erasure_decide) as a
 * table over the two shipped profiles and a few synthetic rules, and the
 * erasure ledger's parser (ledger.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "domain/erasure.h"
#include "domain/ledger.h"
#include "domain/model.h"
#include "domain/policy.h"
#include "util/clock.h"

#define DAY 86400000000LL

static int64_t at(const char *date)
{
    int64_t us;
    assert_true(cu_time_parse(date, strlen(date), &us));
    return us;
}

static cu_policy *profile(const char *name)
{
    char path[4096];
    const char *root = getenv("CUSTOS_SOURCE_ROOT");
    snprintf(path, sizeof path, "%s/profiles/%s.json", root ? root : CUSTOS_SOURCE_ROOT, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cu_policy *p = NULL;
    cu_err err = {0};
    assert_int_equal(cu_policy_parse(buf, n, &p, NULL, &err), CU_OK);
    return p;
}

typedef struct row {
    const char *profile;   /* "therapyaudit", "healthya" */
    const char *kind;
    cu_category cat;
    const char *collected, *last_contact, *now;
    const char *birth;     /* NULL: unknown */
    bool granted;
    const char *reason, *rule;
    const char *earliest;  /* refused for retention-period: the date; else NULL */
    bool approval;
} row;

static const row ROWS[] = {
    /* therapyaudit: health records 8 years after last contact, refused inside */
    {"therapyaudit", "patient", CU_CAT_HEALTH, "2020-01-01", "2026-11-22", "2026-11-22", NULL,
     false, "retention-period", "health_records", "2034-11-22", false},
    {"therapyaudit", "patient", CU_CAT_GENETIC, "2019-05-05", "2026-03-01", "2034-02-28", NULL,
     false, "retention-period", "health_records", "2034-03-01", false},
    /* ... the day the period ends, erasure is possible; health needs approval */
    {"therapyaudit", "patient", CU_CAT_HEALTH, "2020-01-01", "2026-03-01", "2034-03-01", NULL,
     true, "retention-ended", "health_records", NULL, true},
    {"therapyaudit", "patient", CU_CAT_CONTACT, "2020-01-01", "2026-03-01", "2030-01-01", NULL,
     false, "retention-period", "health_records", "2034-03-01", false},
    {"therapyaudit", "patient", CU_CAT_CONTACT, "2020-01-01", "2016-03-01", "2030-01-01", NULL,
     true, "retention-ended", "health_records", NULL, false},
    /* non-health web data: erased at once (disclosure purposes do not extend it) */
    {"therapyaudit", "web_user", CU_CAT_ONLINE_ID, "2026-11-22", "2026-11-22", "2026-11-22",
     NULL, true, "erase-on-request", "non_health", NULL, false},
    {"therapyaudit", "web_user", CU_CAT_CONTACT, "2026-11-22", "2026-11-22", "2026-11-22", NULL,
     true, "erase-on-request", "non_health", NULL, false},
    {"therapyaudit", "other", CU_CAT_CONTACT, "2026-11-22", "2026-11-22", "2026-11-22", NULL,
     true, "erase-on-request", "non_health", NULL, false},
    /* no purpose covers the item at all: nothing requires keeping it */
    {"therapyaudit", "web_user", CU_CAT_HEALTH, "2026-11-22", "2026-11-22", "2026-11-22", NULL,
     false, "retention-period", "health_records", "2034-11-22", false},
    {"therapyaudit", "employee", CU_CAT_CONTACT, "2026-11-22", "2026-11-22", "2026-11-22", NULL,
     true, "no-purpose", NULL, NULL, false},
    /* healthya: 7-year rules allow erasure on request */
    {"healthya", "web_user", CU_CAT_ONLINE_ID, "2026-01-01", "2026-11-22", "2026-11-22", NULL,
     true, "erase-on-request", "information_you_give", NULL, false},
    {"healthya", "patient", CU_CAT_CONTACT, "2026-01-01", "2026-11-22", "2026-11-22", NULL,
     true, "erase-on-request", "information_you_give", NULL, false},
    /* healthya employee records: 6 years after last contact, not on request */
    {"healthya", "employee", CU_CAT_WORK_EDU_FIN, "2020-01-01", "2026-11-22", "2026-11-22",
     NULL, false, "retention-period", "employee_records", "2032-11-22", false},
    {"healthya", "employee", CU_CAT_HEALTH, "2010-01-01", "2018-06-30", "2026-11-22", NULL,
     true, "retention-ended", "employee_records", NULL, true},
    /* 6 years after 29 Feb 2024 end on 28 Feb 2030 (no 29th that year) */
    {"healthya", "employee", CU_CAT_SPECIAL, "2010-01-01", "2024-02-29",
     "2030-02-27T23:59:59Z", NULL, false, "retention-period", "employee_records", "2030-02-28",
     false},
    {"healthya", "employee", CU_CAT_SPECIAL, "2010-01-01", "2024-02-29", "2030-02-28T00:00:00Z",
     NULL, true, "retention-ended", "employee_records", NULL, false},
    {"healthya", "employee", CU_CAT_ONLINE_ID, "2010-01-01", "2024-02-29", "2026-11-22", NULL,
     true, "erase-on-request", "technical_information", NULL, false},
};

static void test_table(void **state)
{
    (void)state;
    cu_policy *ta = profile("therapyaudit"), *hy = profile("healthya");
    for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++) {
        const row *r = &ROWS[i];
        cu_er_facts f = {.policy = strcmp(r->profile, "healthya") == 0 ? hy : ta,
                         .kind = cu_subject_kind_bit(r->kind), .now = at(r->now),
                         .last_contact = at(r->last_contact)};
        cu_er_item it = {.id = "i", .field = "f", .category = (int)r->cat,
                         .collected_at = at(r->collected), .recorded_at = at(r->collected),
                         .updated_at = at(r->collected)};
        cu_er_decision d;
        cu_erasure_decide(&f, &it, 1, &d);
        if (d.granted != r->granted || strcmp(d.reason, r->reason) != 0 ||
            (r->rule ? !d.rule || strcmp(d.rule, r->rule) != 0 : d.rule != NULL) ||
            d.needs_approval != r->approval)
            fail_msg("row %zu: got %s %s rule %s approval %d", i,
                     d.granted ? "granted" : "refused", d.reason, d.rule ? d.rule : "-",
                     d.needs_approval);
        if (r->earliest) {
            char t[CU_TIME_STRLEN];
            cu_time_format(d.earliest, t);
            if (strncmp(t, r->earliest, 10) != 0)
                fail_msg("row %zu: earliest %s, want %s", i, t, r->earliest);
        } else {
            assert_int_equal(d.earliest, 0);
        }
    }
    cu_policy_free(ta);
    cu_policy_free(hy);
}

/* Synthetic rules: collection, birthday, death, conclusion of treatment. */
static const char SYNTH[] =
    "{\"format\": \"custos-policy/1\","
    " \"controller\": {\"name\": \"X\", \"address\": \"A\", \"email\": \"x@example.org\","
    "   \"ico_registration\": \"ZA000000\", \"public_authority\": false, \"role\": \"controller\"},"
    " \"dpo\": {\"name\": \"D\", \"email\": \"d@example.org\"},"
    " \"categories\": [{\"id\": \"contact\", \"description\": \"c\", \"sources\": [\"subject\"]},"
    "   {\"id\": \"health\", \"description\": \"h\", \"sources\": [\"staff\"]},"
    "   {\"id\": \"family\", \"description\": \"f\", \"sources\": [\"staff\"]},"
    "   {\"id\": \"online_identifier\", \"description\": \"o\", \"sources\": [\"subject\"]}],"
    " \"purposes\": ["
    "  {\"id\": \"kids\", \"description\": \"d\", \"basis\": \"e\", \"special_condition\": \"h\","
    "   \"schedule1\": \"Sch.1 Part 1 para 2\", \"categories\": [\"health\"],"
    "   \"subject_kinds\": [\"patient\"], \"consent_required\": false,"
    "   \"required_for_service\": true, \"retention\": \"children\"},"
    "  {\"id\": \"mh\", \"description\": \"d\", \"basis\": \"e\", \"special_condition\": \"h\","
    "   \"schedule1\": \"Sch.1 Part 1 para 2\", \"categories\": [\"family\"],"
    "   \"subject_kinds\": [\"patient\"], \"consent_required\": false,"
    "   \"required_for_service\": true, \"retention\": \"after_death\"},"
    "  {\"id\": \"treat\", \"description\": \"d\", \"basis\": \"e\","
    "   \"categories\": [\"contact\"], \"subject_kinds\": [\"patient\"],"
    "   \"consent_required\": false, \"required_for_service\": true, \"retention\": \"treatment\"},"
    "  {\"id\": \"logs\", \"description\": \"d\", \"basis\": \"f\", \"legitimate_interests\": \"s\","
    "   \"categories\": [\"online_identifier\"], \"subject_kinds\": [\"patient\"],"
    "   \"consent_required\": false, \"required_for_service\": false, \"retention\": \"seven\"}],"
    " \"retention\": ["
    "  {\"id\": \"children\", \"description\": \"d\", \"years\": 0, \"trigger\": \"birthday\","
    "   \"age\": 25, \"erase_on_request\": false},"
    "  {\"id\": \"after_death\", \"description\": \"d\", \"years\": 10, \"trigger\": \"death\","
    "   \"erase_on_request\": false},"
    "  {\"id\": \"treatment\", \"description\": \"d\", \"years\": 8,"
    "   \"trigger\": \"conclusion_of_treatment\", \"erase_on_request\": false},"
    "  {\"id\": \"seven\", \"description\": \"d\", \"years\": 7, \"trigger\": \"collection\","
    "   \"erase_on_request\": false}],"
    " \"recipients\": [], \"transfers\": [], \"processors\": [], \"cookies\": [],"
    " \"security_measures\": [\"encryption\"]}";

static void test_triggers(void **state)
{
    (void)state;
    cu_policy *p = NULL;
    cu_err err = {0};
    if (cu_policy_parse(SYNTH, strlen(SYNTH), &p, NULL, &err))
        fail_msg("synthetic policy: %s", err.msg);
    cu_er_item items[] = {
        {.id = "h", .field = "diagnosis", .category = CU_CAT_HEALTH,
         .collected_at = at("2015-01-01"), .recorded_at = at("2015-01-01")},
        {.id = "f", .field = "next_of_kin", .category = CU_CAT_FAMILY,
         .collected_at = at("2015-01-01"), .recorded_at = at("2015-01-01")},
        {.id = "c", .field = "email", .category = CU_CAT_CONTACT,
         .collected_at = at("2015-01-01"), .recorded_at = at("2015-01-01")},
        {.id = "o", .field = "ip_address", .category = CU_CAT_ONLINE_ID,
         .collected_at = at("2019-02-28"), .recorded_at = at("2020-01-01")},
    };
    cu_er_decision d[4];
    /* Nothing known: birthday, death and treatment unknown; collection 7y. */
    cu_er_facts f = {.policy = p, .kind = cu_subject_kind_bit("patient"),
                     .now = at("2026-02-27")};
    cu_erasure_decide(&f, items, 4, d);
    for (int i = 0; i < 3; i++) {
        assert_false(d[i].granted);
        assert_string_equal(d[i].reason, "trigger-date-unknown");
    }
    assert_false(d[3].granted);
    assert_string_equal(d[3].reason, "retention-period");
    char t[CU_TIME_STRLEN];
    cu_time_format(d[3].earliest, t);
    assert_memory_equal(t, "2026-02-28", 10);
    f.now = at("2026-02-28");
    cu_erasure_decide(&f, items, 4, d);
    assert_true(d[3].granted);
    assert_string_equal(d[3].reason, "retention-ended");
    /* Birthday: kept until the 25th birthday (a leap-day birth: 28 Feb). */
    f.birth_date = (cu_date){2004, 2, 29};
    f.now = at("2029-02-27");
    cu_erasure_decide(&f, items, 1, d);
    assert_false(d[0].granted);
    cu_time_format(d[0].earliest, t);
    assert_memory_equal(t, "2029-02-28", 10);
    assert_string_equal(d[0].trigger, "birthday");
    f.now = at("2029-02-28");
    cu_erasure_decide(&f, items, 1, d);
    assert_true(d[0].granted);
    assert_true(d[0].needs_approval);
    /* Death and conclusion of treatment, when supplied. */
    f.died = at("2016-06-01");
    f.treatment_ended = at("2017-01-31");
    f.now = at("2026-05-31");
    cu_erasure_decide(&f, items, 3, d);
    assert_false(d[1].granted);
    cu_time_format(d[1].earliest, t);
    assert_memory_equal(t, "2026-06-01", 10);
    assert_true(d[2].granted);
    assert_string_equal(d[2].reason, "retention-ended");
    /* No policy: refused, nothing decided. */
    f.policy = NULL;
    cu_erasure_decide(&f, items, 1, d);
    assert_false(d[0].granted);
    assert_string_equal(d[0].reason, "no-policy");
    cu_policy_free(p);
}

/* Last contact is the latest recorded_at/updated_at of all the items. */
static void test_last_contact(void **state)
{
    (void)state;
    cu_policy *ta = profile("therapyaudit");
    cu_er_item items[] = {
        {.id = "a", .field = "diagnosis", .category = CU_CAT_HEALTH,
         .collected_at = at("2010-01-01"), .recorded_at = at("2010-01-01"),
         .updated_at = at("2010-01-01")},
        {.id = "b", .field = "email", .category = CU_CAT_CONTACT,
         .collected_at = at("2011-01-01"), .recorded_at = at("2012-01-01"),
         .updated_at = at("2019-07-04")},
    };
    cu_er_decision d[2];
    cu_er_facts f = {.policy = ta, .kind = cu_subject_kind_bit("patient"),
                     .now = at("2027-07-03")};
    cu_erasure_decide(&f, items, 2, d);
    char t[CU_TIME_STRLEN];
    cu_time_format(d[0].earliest, t);
    assert_memory_equal(t, "2027-07-04", 10);
    assert_false(d[0].granted);
    f.now = at("2027-07-04");
    cu_erasure_decide(&f, items, 2, d);
    assert_true(d[0].granted && d[1].granted);
    cu_policy_free(ta);
}

/* ---- the ledger ---- */

static const char SID[] = "4f1c2a56-9b7e-4d3a-8c2b-1e5f6a7b8c9d";

static void test_ledger(void **state)
{
    (void)state;
    char dir[] = "/tmp/custos-ledger-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/erasure.ledger", dir);
    cu_key seed;
    cu_key_random(&seed);
    unsigned char pk[CU_PUBKEY_BYTES];
    cu_sign_public(&seed, pk);
    cu_err err = {0};
    int64_t seq;
    unsigned char h[CU_HASH_BYTES];
    const char items[2][CU_ID_STRLEN] = {"0b6c2c1e-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
                                         "1b6c2c1e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"};
    assert_int_equal(cu_ledger_append(path, SID, &seed, 1, SID, NULL, 0, &seq, h, &err), CU_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(cu_ledger_append(path, SID, &seed, 2, SID, items, 2, &seq, h, &err),
                     CU_OK);
    assert_int_equal(seq, 2);
    bool exists;
    int64_t last;
    unsigned char lh[CU_HASH_BYTES];
    assert_int_equal(cu_ledger_read(path, SID, pk, 0, NULL, NULL, &exists, &last, lh, &err),
                     CU_OK);
    assert_true(exists);
    assert_int_equal(last, 2);
    assert_memory_equal(lh, h, CU_HASH_BYTES);
    /* Another store's id, another key, any flipped byte: refused. */
    assert_int_equal(cu_ledger_read(path, "5f1c2a56-9b7e-4d3a-8c2b-1e5f6a7b8c9d", pk, 0, NULL,
                                    NULL, &exists, &last, lh, &err),
                     CU_ETAMPER);
    FILE *f = fopen(path, "rb");
    char text[4096];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    unsigned char pk2[CU_PUBKEY_BYTES];
    cu_key other;
    cu_key_random(&other);
    cu_sign_public(&other, pk2);
    cu_err_clear(&err);
    assert_int_equal(cu_ledger_parse(text, n, SID, pk2, 0, NULL, NULL, &last, lh, &err),
                     CU_ETAMPER);
    for (size_t i = 0; i < n; i += 7) {
        char copy[4096];
        memcpy(copy, text, n);
        copy[i] ^= 0x01;
        cu_err_clear(&err);
        if (cu_ledger_parse(copy, n, SID, pk, 0, NULL, NULL, &last, lh, &err) != CU_ETAMPER)
            fail_msg("a flipped byte at %zu was accepted", i);
    }
    /* Truncated mid-line. */
    cu_err_clear(&err);
    assert_int_equal(cu_ledger_parse(text, n - 1, SID, pk, 0, NULL, NULL, &last, lh, &err),
                     CU_ETAMPER);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    if (cu_crypto_init())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_triggers),
        cmocka_unit_test(test_last_contact),
        cmocka_unit_test(test_ledger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
