/*
 * test_portal_cookies.c — the portal's cookie choices (domain/portal_cookies.h):
 * when the banner asks (a policy with an optional cookie, no choice or one of
 * an older version), a visitor's choice under a new random id, a patient's
 * audited one, the version checked, a new choice a new row, altered rows
 * counting as no choice and named by verify, erasure removing a subject's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdir.h"
#include "vault_fixture.h"
#include "raw_sqlite.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/input.h"
#include "domain/integrity.h"
#include "domain/portal_cookies.h"
#include "domain/subject.h"
#include "util/file.h"

typedef struct fx {
    char root[64], store[PATH_MAX], db[PATH_MAX + 16];
    cu_vault *v;
    cu_err err;
    char ctl[CU_ID_STRLEN];
    char subj[CU_ID_STRLEN];
    int64_t version;
} fx;

/* The test policy with one analytics cookie of the given duration. */
static void apply_cookie_policy(fx *f, const char *duration)
{
    FILE *pf = fopen(CUSTOS_SOURCE_ROOT "/tests/data/test-policy.json", "rb");
    assert_non_null(pf);
    cu_buf doc;
    cu_buf_init(&doc, CU_POLICY_MAX_BYTES + 1);
    OK(f, cu_read_stream(pf, CU_POLICY_MAX_BYTES, &doc, &f->err));
    fclose(pf);
    OK(f, cu_buf_append(&doc, "", 1));
    const char *at = strstr((const char *)doc.data, "\"cookies\": []");
    assert_non_null(at);
    char cookie[400];
    snprintf(cookie, sizeof cookie,
             "\"cookies\": [{\"name\": \"_ga\", \"provider\": \"Google Analytics\", "
             "\"purpose\": \"Tells us how the portal is used.\", \"duration\": \"%s\", "
             "\"strictly_necessary\": false, \"consent_required\": true}]",
             duration);
    cu_buf v2;
    cu_buf_init(&v2, CU_POLICY_MAX_BYTES + 1);
    OK(f, cu_buf_append(&v2, doc.data, (size_t)(at - (const char *)doc.data)));
    OK(f, cu_buf_append(&v2, cookie, strlen(cookie)));
    const char *rest = at + strlen("\"cookies\": []");
    OK(f, cu_buf_append(&v2, rest, strlen(rest)));
    bool changed = false;
    OK(f, cu_policy_apply(f->v, &OPERATOR, f->ctl, v2.data, v2.len, NULL, &f->version,
                          &changed, &f->err));
    assert_true(changed);
    cu_buf_release(&doc);
    cu_buf_release(&v2);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f || VAULT_FIXTURE_OPEN(f, "pcookies")) {
        free(f);
        return -1;
    }
    *state = f;
    const char *doc = "{\"name\": \"Test Person\", \"nhs_number\": \"943 476 5919\"}";
    cu_doc d;
    OK(f, cu_doc_parse(doc, strlen(doc), CU_DOC_SUBJECT, &d, &f->err));
    cu_actor care = OPERATOR;
    care.purpose = "direct_care";
    OK(f, cu_subject_add(f->v, &care, f->ctl, "patient", &d, f->subj, &f->err));
    cu_doc_release(&d);
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cu_vault_close(f->v);
    testdir_remove(f->root);
    free(f);
    return 0;
}

static cu_portal_who patient(fx *f)
{
    cu_portal_who w;
    memset(&w, 0, sizeof w);
    memcpy(w.subject_id, f->subj, CU_ID_STRLEN);
    memcpy(w.controller_id, f->ctl, CU_ID_STRLEN);
    cu_strlcpy(w.name, "K7QD-M3MZ-PX2R", sizeof w.name);
    cu_strlcpy(w.actor_name, "portal:K7QD-M3MZ-PX2R", sizeof w.actor_name);
    return w;
}

/* The pure rules: which policies ask, when the banner shows, the words. */
static void test_ask_rules(void **state)
{
    (void)state;
    cu_pol_cookie necessary = {.name = "s", .purpose = "p", .duration = "d",
                               .strictly_necessary = true};
    cu_pol_cookie optional = {.name = "_ga", .purpose = "p", .duration = "d",
                              .consent_required = true};
    cu_pol_cookie both[2] = {necessary, optional};
    cu_policy p = {.cookies = &necessary, .ncookies = 1};
    assert_false(cu_pcookie_policy_asks(&p));
    p.ncookies = 0;
    assert_false(cu_pcookie_policy_asks(&p));
    assert_false(cu_pcookie_policy_asks(NULL));
    p.cookies = both;
    p.ncookies = 2;
    assert_true(cu_pcookie_policy_asks(&p));
    /* never without an optional cookie, whatever the choice */
    assert_false(cu_pcookie_ask(false, CU_PCOOKIE_NONE, 0, 3));
    assert_true(cu_pcookie_ask(true, CU_PCOOKIE_NONE, 0, 3));
    assert_false(cu_pcookie_ask(true, CU_PCOOKIE_ACCEPTED, 3, 3));
    assert_false(cu_pcookie_ask(true, CU_PCOOKIE_REJECTED, 3, 3));
    assert_true(cu_pcookie_ask(true, CU_PCOOKIE_ACCEPTED, 2, 3)); /* a newer policy */
    assert_true(cu_pcookie_ask(true, CU_PCOOKIE_REJECTED, 2, 3));
    assert_string_equal(cu_pcookie_word(CU_PCOOKIE_ACCEPTED), "accepted");
    assert_string_equal(cu_pcookie_word(CU_PCOOKIE_REJECTED), "rejected");
    assert_null(cu_pcookie_word(CU_PCOOKIE_NONE));
    assert_int_equal(cu_pcookie_parse("accepted"), CU_PCOOKIE_ACCEPTED);
    assert_int_equal(cu_pcookie_parse("rejected"), CU_PCOOKIE_REJECTED);
    assert_int_equal(cu_pcookie_parse("Accepted"), CU_PCOOKIE_NONE);
    assert_int_equal(cu_pcookie_parse(""), CU_PCOOKIE_NONE);
    assert_int_equal(cu_pcookie_parse(NULL), CU_PCOOKIE_NONE);
}

/* A visitor: a first choice makes an id, only its keyed hash is stored, a
 * later choice is a new row, a stale version or a policy without optional
 * cookies records nothing. */
static void test_visitor(void **state)
{
    fx *f = *state;
    char visitor[CU_TOKEN_STRLEN] = "";
    /* the test policy has no optional cookie: nothing to choose */
    FAILS(f, CU_EINVAL, cu_pcookie_record(f->v, NULL, f->ctl, CU_PCOOKIE_ACCEPTED, 1, "t",
                                          visitor, &f->err));
    apply_cookie_policy(f, "2 years");
    assert_int_equal(f->version, 2);
    FAILS(f, CU_ECONFLICT, cu_pcookie_record(f->v, NULL, f->ctl, CU_PCOOKIE_ACCEPTED, 1, "t",
                                             visitor, &f->err));
    FAILS(f, CU_EINVAL, cu_pcookie_record(f->v, NULL, f->ctl, CU_PCOOKIE_NONE, 2, "t",
                                          visitor, &f->err));
    FAILS(f, CU_ENOTFOUND, cu_pcookie_record(f->v, NULL, "not-an-id", CU_PCOOKIE_ACCEPTED, 2,
                                             "t", visitor, &f->err));
    assert_string_equal(visitor, "");
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_cookie_choices"), 0);
    cu_pcookie_state st;
    OK(f, cu_pcookie_get(f->v, f->ctl, NULL, visitor, &st, &f->err));
    assert_int_equal(st.choice, CU_PCOOKIE_NONE);

    OK(f, cu_pcookie_record(f->v, NULL, f->ctl, CU_PCOOKIE_ACCEPTED, 2, "t", visitor,
                            &f->err));
    assert_true(cu_token_wellformed(visitor, strlen(visitor), CU_PCOOKIE_PREFIX));
    OK(f, cu_pcookie_get(f->v, f->ctl, NULL, visitor, &st, &f->err));
    assert_int_equal(st.choice, CU_PCOOKIE_ACCEPTED);
    assert_int_equal(st.version, 2);
    assert_true(st.chosen_at > 0);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_cookie_choices WHERE "
                                "subject_id IS NULL AND length(visitor_hash) = 32"),
                     1);
    /* the same visitor again: the id is kept, a new row */
    char again[CU_TOKEN_STRLEN];
    memcpy(again, visitor, sizeof again);
    OK(f, cu_pcookie_record(f->v, NULL, f->ctl, CU_PCOOKIE_REJECTED, 2, "t", again, &f->err));
    assert_string_equal(again, visitor);
    OK(f, cu_pcookie_get(f->v, f->ctl, NULL, visitor, &st, &f->err));
    assert_int_equal(st.choice, CU_PCOOKIE_REJECTED);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_cookie_choices"), 2);
    /* another visitor, a forged or malformed id: no choice */
    char other[CU_TOKEN_STRLEN];
    cu_token_new(CU_PCOOKIE_PREFIX, other);
    OK(f, cu_pcookie_get(f->v, f->ctl, NULL, other, &st, &f->err));
    assert_int_equal(st.choice, CU_PCOOKIE_NONE);
    OK(f, cu_pcookie_get(f->v, f->ctl, NULL, "cuk_short", &st, &f->err));
    assert_int_equal(st.choice, CU_PCOOKIE_NONE);
    /* the CSRF binding: the id's keyed hash, or the one of every new visitor */
    char b1[CU_PCOOKIE_BINDING_LEN], b2[CU_PCOOKIE_BINDING_LEN], b3[CU_PCOOKIE_BINDING_LEN];
    cu_pcookie_binding(f->v, visitor, b1);
    cu_pcookie_binding(f->v, other, b2);
    cu_pcookie_binding(f->v, NULL, b3);
    assert_int_equal(strlen(b1), 8 + 64);
    assert_string_not_equal(b1, b2);
    assert_null(strstr(b1, visitor + 4));
    assert_string_equal(b3, "cookies:new");
    /* a new policy version: the old choice stands, but the banner asks again */
    apply_cookie_policy(f, "13 months");
    OK(f, cu_pcookie_get(f->v, f->ctl, NULL, visitor, &st, &f->err));
    assert_int_equal(st.version, 2);
    assert_true(cu_pcookie_ask(true, st.choice, st.version, f->version));
    FAILS(f, CU_ECONFLICT, cu_pcookie_record(f->v, NULL, f->ctl, CU_PCOOKIE_ACCEPTED, 2, "t",
                                             again, &f->err));
    /* an altered row is no choice, and verify names it */
    raw_exec(f, "UPDATE portal_cookie_choices SET choice = 'accepted'");
    OK(f, cu_pcookie_get(f->v, f->ctl, NULL, visitor, &st, &f->err));
    assert_int_equal(st.choice, CU_PCOOKIE_NONE);
}

static int count_bad(void *ctx, const char *table, const char *row, const char *problem)
{
    (void)row;
    (void)problem;
    if (strcmp(table, "portal_cookie_choices") == 0)
        (*(int *)ctx)++;
    return 0;
}

/* A signed-in patient: their own controller only, audited, found by subject
 * before the browser's choice, verified, erased with them. */
static void test_patient(void **state)
{
    fx *f = *state;
    apply_cookie_policy(f, "2 years");
    cu_portal_who w = patient(f);
    char none[CU_TOKEN_STRLEN] = "";
    cu_portal_who elsewhere = w;
    memcpy(elsewhere.controller_id, "00000000-0000-4000-8000-000000000000", CU_ID_STRLEN);
    FAILS(f, CU_EDENIED, cu_pcookie_record(f->v, &elsewhere, f->ctl, CU_PCOOKIE_ACCEPTED,
                                           f->version, "t", none, &f->err));
    int64_t before = raw_int(f, "SELECT count(*) FROM audit_events");
    OK(f, cu_pcookie_record(f->v, &w, f->ctl, CU_PCOOKIE_REJECTED, f->version, "unit test",
                            none, &f->err));
    assert_string_equal(none, ""); /* no visitor id for a patient */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit_events"), before + 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit_events WHERE instr(body, "
                                "CAST('portal.cookies' AS BLOB)) > 0"),
                     1);
    /* the browser accepted as a visitor: the patient's own choice wins */
    char visitor[CU_TOKEN_STRLEN] = "";
    OK(f, cu_pcookie_record(f->v, NULL, f->ctl, CU_PCOOKIE_ACCEPTED, f->version, "t", visitor,
                            &f->err));
    cu_pcookie_state st;
    OK(f, cu_pcookie_get(f->v, f->ctl, f->subj, visitor, &st, &f->err));
    assert_int_equal(st.choice, CU_PCOOKIE_REJECTED);
    OK(f, cu_pcookie_get(f->v, f->ctl, NULL, visitor, &st, &f->err));
    assert_int_equal(st.choice, CU_PCOOKIE_ACCEPTED);
    /* verify: clean, then an altered row named */
    int bad = 0;
    int64_t rows = 0, nbad = 0;
    OK(f, cu_integrity_verify(f->v, count_bad, &bad, &rows, &nbad, &f->err));
    assert_int_equal(bad, 0);
    raw_exec(f, "UPDATE portal_cookie_choices SET policy_version = 1 WHERE subject_id IS "
                "NOT NULL");
    FAILS(f, CU_ETAMPER, cu_integrity_verify(f->v, count_bad, &bad, &rows, &nbad, &f->err));
    assert_int_equal(bad, 1);
    assert_non_null(strstr(f->err.msg, "portal_cookie_choices"));
    OK(f, cu_pcookie_get(f->v, f->ctl, f->subj, NULL, &st, &f->err));
    assert_int_equal(st.choice, CU_PCOOKIE_NONE); /* an altered row is no choice */
    /* erasure removes the subject's choices, not the visitor's */
    cu_actor op = OPERATOR;
    op.purpose = "subject_rights";
    OK(f, cu_subject_erase(f->v, &op, f->subj, NULL, &f->err));
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_cookie_choices WHERE subject_id "
                                "IS NOT NULL"),
                     0);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_cookie_choices"), 1);
}

int main(void)
{
    if (cu_crypto_init())
        return 1;
    cu_input_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ask_rules),
        cmocka_unit_test_setup_teardown(test_visitor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patient, setup, teardown),
    };
    return cmocka_run_group_tests_name("portal cookies", tests, NULL, NULL);
}
