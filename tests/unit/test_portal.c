/*
 * test_portal.c — the patient portal's invitations and accounts behind the
 * choke point: who may invite (a clinician only for a patient on their
 * list, a care admin, never an analyst or another controller's staff), the
 * code's form, peek, a password set once and only once, a reset that keeps
 * the sign-in name, expiry by the test clock, forged and altered codes, and
 * the rows custos verify checks; sign-in (lock-out, sessions, sign-out), the
 * patient as actor (their own record through cu_sar_run, any other subject
 * concealed) and erasure deleting the account.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdir.h"
#include "vault_fixture.h"
#include "people_fixture.h"
#include "raw_sqlite.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/input.h"
#include "domain/integrity.h"
#include "domain/jobs.h"
#include "domain/portal.h"
#include "domain/sar.h"
#include "domain/staff.h"
#include "domain/subject.h"
#include "util/clock.h"

typedef struct fx {
    char root[64], store[PATH_MAX], db[PATH_MAX + 16];
    cu_vault *v;
    cu_err err;
    char ctl[CU_ID_STRLEN];
    char subj[CU_ID_STRLEN], other[CU_ID_STRLEN];
    char alice_id[CU_ID_STRLEN], bob_id[CU_ID_STRLEN], cara_id[CU_ID_STRLEN];
    char ann_id[CU_ID_STRLEN];
    cu_actor alice, bob, cara, ann; /* alice has subj on her list; bob none; cara a
                                     * care_admin; ann an analyst */
} fx;

static const char PW[] = FIXTURE_PASSWORD;

static int setup(void **state)
{
    unsetenv("CUSTOS_FAKE_NOW");
    fx *f = calloc(1, sizeof *f);
    if (!f || VAULT_FIXTURE_OPEN(f, "portal")) {
        free(f);
        return -1;
    }
    *state = f;
    add_subject(f, "943 476 5919", f->subj);
    add_subject(f, "401 023 2137", f->other);
    f->alice = staff(f, "alice", "clinician", f->alice_id);
    f->bob = staff(f, "bob", "clinician", f->bob_id);
    f->cara = staff(f, "cara", "care_admin", f->cara_id);
    f->ann = staff(f, "ann", "analyst", f->ann_id);
    f->ann.purpose = "reporting";
    OK(f, cu_care_set(f->v, &OPERATOR, "alice", f->subj, true, &f->err));
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    unsetenv("CUSTOS_FAKE_NOW");
    cu_vault_close(f->v);
    testdir_remove(f->root);
    free(f);
    return 0;
}

static int64_t count_action(fx *f, const char *action)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_events WHERE instr(body, "
                              "CAST('%s' AS BLOB)) > 0", action);
    return raw_int(f, sql);
}

static int note_bad(void *ctx, const char *table, const char *row, const char *problem)
{
    (void)row;
    (void)problem;
    if (strncmp(table, "portal_", 7) == 0)
        (*(int *)ctx)++;
    return 0;
}

static void hash(fx *f, const char *pw, char out[CU_PORTAL_PWHASH_MAX])
{
    OK(f, cu_password_hash(pw, strlen(pw), out, &f->err));
}

static void test_invite_and_set_once(void **state)
{
    fx *f = *state;
    char code[CU_PORTAL_CODE_STRLEN], name[CU_PORTAL_NAME_STRLEN], h[CU_PORTAL_PWHASH_MAX];
    cu_portal_invitation info;
    OK(f, cu_portal_invite(f->v, &f->alice, f->subj, 0, code, &info, &f->err));
    assert_int_equal(strlen(code), 23);
    for (size_t i = 0; i < 23; i++)
        assert_true(i % 6 == 5 ? code[i] == '-' : strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ",
                                                         code[i]) != NULL);
    assert_false(info.has_account);
    assert_int_equal(info.expires_at - info.issued_at, (int64_t)14 * 86400 * 1000000);
    assert_int_equal(count_action(f, "portal.invite"), 1);
    /* Only the hash is stored. */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_invitations WHERE "
                                "length(token_hash) = 32 AND used_at = 0"),
                     1);
    /* Either case, with or without dashes. */
    char lower[CU_PORTAL_CODE_STRLEN];
    size_t o = 0;
    for (size_t i = 0; code[i]; i++)
        if (code[i] != '-')
            lower[o++] = (char)(code[i] >= 'A' && code[i] <= 'Z' ? code[i] - 'A' + 'a' : code[i]);
    lower[o] = '\0';
    OK(f, cu_portal_peek(f->v, lower, strlen(lower), &info, &f->err));
    assert_int_equal(info.state, CU_PINV_OPEN);
    /* The rules of passwords. */
    FAILS(f, CU_EINVAL, cu_password_hash("short", 5, h, &f->err));
    FAILS(f, CU_EINVAL, cu_password_hash("aaaaaaaaaaaaaaaa", 16, h, &f->err));
    FAILS(f, CU_EINVAL, cu_portal_set_password(f->v, code, strlen(code), "plain text", NULL,
                                               name, &f->err));
    hash(f, PW, h);
    OK(f, cu_portal_set_password(f->v, code, strlen(code), h, NULL, name, &f->err));
    assert_int_equal(strlen(name), 14);
    char first[CU_PORTAL_NAME_STRLEN];
    memcpy(first, name, sizeof first);
    assert_int_equal(count_action(f, "portal.account"), 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_accounts WHERE pwhash LIKE "
                                "'$argon2id$%'"),
                     1);
    /* Once only. */
    FAILS(f, CU_ECONFLICT, cu_portal_set_password(f->v, code, strlen(code), h, NULL, name,
                                                  &f->err));
    FAILS(f, CU_ECONFLICT, cu_portal_peek(f->v, code, strlen(code), &info, &f->err));
    assert_int_equal(info.state, CU_PINV_USED);
    assert_int_equal(count_action(f, "portal.account"), 1);
    /* A new invitation resets the password and keeps the name. */
    char code2[CU_PORTAL_CODE_STRLEN], name2[CU_PORTAL_NAME_STRLEN];
    OK(f, cu_portal_invite(f->v, &f->cara, f->subj, 3, code2, &info, &f->err));
    assert_true(info.has_account);
    hash(f, "another long password", h);
    OK(f, cu_portal_set_password(f->v, code2, strlen(code2), h, NULL, name2, &f->err));
    assert_string_equal(first, name2);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_accounts"), 1);
    int bad = 0;
    int64_t rows = 0, nbad = 0;
    OK(f, cu_integrity_verify(f->v, note_bad, &bad, &rows, &nbad, &f->err));
    assert_int_equal(bad, 0);
}

static void test_who_may_invite(void **state)
{
    fx *f = *state;
    char code[CU_PORTAL_CODE_STRLEN];
    cu_portal_invitation info;
    /* bob has no care relationship; ann sees only pseudonyms. */
    FAILS(f, CU_EDENIED, cu_portal_invite(f->v, &f->bob, f->subj, 0, code, &info, &f->err));
    FAILS(f, CU_EDENIED, cu_portal_invite(f->v, &f->ann, f->subj, 0, code, &info, &f->err));
    FAILS(f, CU_EDENIED, cu_portal_invite(f->v, &f->alice, f->other, 0, code, &info, &f->err));
    FAILS(f, CU_EINVAL, cu_portal_invite(f->v, &f->alice, f->subj, 91, code, &info, &f->err));
    FAILS(f, CU_EINVAL, cu_portal_invite(f->v, &f->alice, f->subj, -1, code, &info, &f->err));
    FAILS(f, CU_ENOTFOUND, cu_portal_invite(f->v, &OPERATOR,
                                            "00000000-0000-4000-8000-000000000000", 0, code,
                                            &info, &f->err));
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_invitations"), 0);
    /* Each refusal is recorded. */
    assert_int_equal(count_action(f, "portal.invite"), 4);
    OK(f, cu_portal_invite(f->v, &f->cara, f->other, 1, code, &info, &f->err));
}

static void test_forged_expired_altered(void **state)
{
    fx *f = *state;
    char code[CU_PORTAL_CODE_STRLEN], name[CU_PORTAL_NAME_STRLEN], h[CU_PORTAL_PWHASH_MAX];
    cu_portal_invitation info;
    OK(f, cu_portal_invite(f->v, &f->alice, f->subj, 1, code, &info, &f->err));
    hash(f, PW, h);
    char forged[CU_PORTAL_CODE_STRLEN];
    memcpy(forged, code, sizeof forged);
    forged[0] = forged[0] == 'A' ? 'B' : 'A';
    const char *bad[] = {forged, "AAAAA-AAAAA-AAAAA-AAAAA", "IIIII-IIIII-IIIII-IIIII",
                         "AAAAA", "", "AAAAA-AAAAA-AAAAA-AAAAA-A"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FAILS(f, CU_ENOTFOUND, cu_portal_peek(f->v, bad[i], strlen(bad[i]), &info, &f->err));
        assert_string_equal(f->err.msg, "no such invitation");
        FAILS(f, CU_ENOTFOUND, cu_portal_set_password(f->v, bad[i], strlen(bad[i]), h, NULL,
                                                      name, &f->err));
    }
    /* The code's length is what is given. */
    FAILS(f, CU_ENOTFOUND, cu_portal_peek(f->v, code, strlen(code) - 1, &info, &f->err));
    /* Expired. */
    char when[32];
    snprintf(when, sizeof when, "%lld", (long long)(cu_now_us() / 1000000 + 86400 + 60));
    assert_int_equal(setenv("CUSTOS_FAKE_NOW", when, 1), 0);
    FAILS(f, CU_EDENIED, cu_portal_peek(f->v, code, strlen(code), &info, &f->err));
    assert_int_equal(info.state, CU_PINV_EXPIRED);
    FAILS(f, CU_EDENIED, cu_portal_set_password(f->v, code, strlen(code), h, NULL, name,
                                                &f->err));
    unsetenv("CUSTOS_FAKE_NOW");
    /* An insider keeps it alive longer: refused, and named by verify. */
    raw_exec(f, "UPDATE portal_invitations SET expires_at = expires_at + 86400000000");
    FAILS(f, CU_ETAMPER, cu_portal_peek(f->v, code, strlen(code), &info, &f->err));
    FAILS(f, CU_ETAMPER, cu_portal_set_password(f->v, code, strlen(code), h, NULL, name,
                                                &f->err));
    int nb = 0;
    int64_t rows = 0, nbad = 0;
    FAILS(f, CU_ETAMPER, cu_integrity_verify(f->v, note_bad, &nb, &rows, &nbad, &f->err));
    assert_int_equal(nb, 1);
    assert_int_equal(nbad, 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_accounts"), 0);
}

/* A signed-in account for subject_id: its name out, a session's who out. */
static void account_for(fx *f, const char *subject_id, char name[CU_PORTAL_NAME_STRLEN])
{
    char code[CU_PORTAL_CODE_STRLEN], h[CU_PORTAL_PWHASH_MAX];
    cu_portal_invitation info;
    OK(f, cu_portal_invite(f->v, &OPERATOR, subject_id, 0, code, &info, &f->err));
    hash(f, PW, h);
    OK(f, cu_portal_set_password(f->v, code, strlen(code), h, NULL, name, &f->err));
}

static int count_cb(void *ctx, const cu_sar *sar, cu_err *err)
{
    (void)err;
    *(size_t *)ctx = sar->sv.n;
    return CU_OK;
}

static void test_signin_session_self(void **state)
{
    fx *f = *state;
    char name[CU_PORTAL_NAME_STRLEN], other_name[CU_PORTAL_NAME_STRLEN];
    account_for(f, f->subj, name);
    account_for(f, f->other, other_name);
    char norm[CU_PORTAL_NAME_STRLEN];
    assert_true(cu_portal_name_normalise("abcd efgh-jkmn", 14, norm));
    assert_string_equal(norm, "ABCD-EFGH-JKMN");
    assert_false(cu_portal_name_normalise("ABCD-EFGH-JKM", 13, norm));
    assert_false(cu_portal_name_normalise("ABCD-EFGH-JKMI", 14, norm));
    bool found = false;
    char h[CU_PORTAL_PWHASH_MAX];
    OK(f, cu_portal_signin_prepare(f->v, name, &found, h, &f->err));
    assert_true(found);
    assert_true(cu_pwhash_verify(h, PW, strlen(PW)));
    OK(f, cu_portal_signin_prepare(f->v, "AAAA-BBBB-CCCC", &found, h, &f->err));
    assert_false(found);
    /* four wrong passwords, then the right one: in */
    cu_portal_signin_result res;
    char token[48];
    cu_portal_who who;
    for (int i = 0; i < 4; i++) {
        OK(f, cu_portal_signin_finish(f->v, name, false, "unit test", &res, token, &who,
                                      &f->err));
        assert_int_equal(res, CU_PSIGNIN_BAD_CREDENTIALS);
    }
    OK(f, cu_portal_signin_finish(f->v, name, true, "unit test", &res, token, &who, &f->err));
    assert_int_equal(res, CU_PSIGNIN_OK);
    assert_string_equal(who.subject_id, f->subj);
    assert_int_equal(strncmp(token, "cup_", 4), 0);
    assert_int_equal(count_action(f, "portal.signin"), 5);
    /* the session: found by its token, refused when idle too long */
    cu_portal_who w2;
    OK(f, cu_portal_session(f->v, token, strlen(token), CU_SESSION_IDLE_DEFAULT_US,
                            CU_SESSION_ABSOLUTE_DEFAULT_US, &w2, &f->err));
    assert_string_equal(w2.subject_id, f->subj);
    FAILS(f, CU_EDENIED, cu_portal_session(f->v, token, strlen(token) - 1,
                                           CU_SESSION_IDLE_DEFAULT_US,
                                           CU_SESSION_ABSOLUTE_DEFAULT_US, &w2, &f->err));
    FAILS(f, CU_EDENIED, cu_portal_session(f->v, "cus_x", 5, CU_SESSION_IDLE_DEFAULT_US,
                                           CU_SESSION_ABSOLUTE_DEFAULT_US, &w2, &f->err));
    char later[32];
    snprintf(later, sizeof later, "%lld", (long long)(cu_now_us() / 1000000 + 3600));
    setenv("CUSTOS_FAKE_NOW", later, 1);
    FAILS(f, CU_EDENIED, cu_portal_session(f->v, token, strlen(token),
                                           CU_SESSION_IDLE_DEFAULT_US,
                                           CU_SESSION_ABSOLUTE_DEFAULT_US, &w2, &f->err));
    unsetenv("CUSTOS_FAKE_NOW");
    /* the patient sees their own record; another subject is concealed */
    cu_actor a;
    cu_portal_actor(&who, "unit test", &a);
    size_t n = 0;
    cu_sar_request rq = {.portal_action = "portal.data"};
    OK(f, cu_sar_run(f->v, &a, f->subj, &rq, count_cb, &n, &f->err));
    assert_int_equal(n, 2);
    FAILS(f, CU_ECONCEALED, cu_sar_run(f->v, &a, f->other, &rq, count_cb, &n, &f->err));
    /* and may do nothing else, even to their own record */
    cu_sar_request exp = {0};
    FAILS(f, CU_EDENIED, cu_sar_run(f->v, &a, f->subj, &exp, count_cb, &n, &f->err));
    cu_sar_request bad = {.portal_action = "portal.data", .portable = true};
    FAILS(f, CU_EINVAL, cu_sar_run(f->v, &a, f->subj, &bad, count_cb, &n, &f->err));
    assert_int_equal(count_action(f, "portal.data"), 2); /* the view and the concealed one */
    /* five failures lock the account: the right password is refused */
    for (int i = 0; i < 5; i++)
        OK(f, cu_portal_signin_finish(f->v, other_name, false, "unit test", &res, token, &w2,
                                      &f->err));
    OK(f, cu_portal_signin_finish(f->v, other_name, true, "unit test", &res, token, &w2,
                                  &f->err));
    assert_int_equal(res, CU_PSIGNIN_LOCKED);
    /* sign-out ends the session */
    OK(f, cu_portal_signin_finish(f->v, name, true, "unit test", &res, token, &who, &f->err));
    assert_int_equal(res, CU_PSIGNIN_OK);
    OK(f, cu_portal_signout(f->v, &who, "unit test", &f->err));
    FAILS(f, CU_EDENIED, cu_portal_session(f->v, token, strlen(token),
                                           CU_SESSION_IDLE_DEFAULT_US,
                                           CU_SESSION_ABSOLUTE_DEFAULT_US, &w2, &f->err));
    /* the session-purge job deletes a session long past its limits */
    OK(f, cu_portal_signin_finish(f->v, other_name, true, "unit test", &res, token, &w2,
                                  &f->err)); /* still locked: no session */
    OK(f, cu_portal_signin_finish(f->v, name, true, "unit test", &res, token, &who, &f->err));
    int64_t live = raw_int(f, "SELECT count(*) FROM portal_sessions");
    assert_true(live >= 1); /* this one, and the one left idle above */
    cu_job_report jr = {0};
    OK(f, cu_jobs_run_due(f->v, cu_now_us() + 9LL * 86400 * 1000000, &jr, &f->err));
    assert_int_equal(jr.ran, 1);
    assert_int_equal(jr.sessions, live);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_sessions"), 0);
    /* erasure deletes the account, its sessions and invitations */
    OK(f, cu_portal_signin_finish(f->v, name, true, "unit test", &res, token, &who, &f->err));
    OK(f, cu_subject_erase(f->v, &OPERATOR, f->subj, NULL, &f->err));
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_accounts"), 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM portal_sessions"), 0);
    FAILS(f, CU_EDENIED, cu_portal_session(f->v, token, strlen(token),
                                           CU_SESSION_IDLE_DEFAULT_US,
                                           CU_SESSION_ABSOLUTE_DEFAULT_US, &w2, &f->err));
    OK(f, cu_portal_signin_finish(f->v, name, true, "unit test", &res, token, &who, &f->err));
    assert_int_equal(res, CU_PSIGNIN_BAD_CREDENTIALS);
    int nbad_cb = 0;
    int64_t rows = 0, nbad = 0;
    OK(f, cu_integrity_verify(f->v, note_bad, &nbad_cb, &rows, &nbad, &f->err));
    assert_int_equal(nbad_cb, 0);
}

int main(void)
{
    if (cu_crypto_init())
        return 1;
    cu_input_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_invite_and_set_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_who_may_invite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_expired_altered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signin_session_self, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
