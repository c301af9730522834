/*
 * test_requests.c — rights requests: the transition table (every cell), the
 * statutory clock as the requests module drives it (late identity evidence,
 * clarification pauses, the extension rules, refusal needs grounds, reasons
 * and the ICO route), one audit event per transition and nothing on a
 * refused one, notes sealed (never plaintext in the database, resealed under
 * the subject's key on verification), restriction and objection set on
 * fulfilment, roles, due ordering, counts and the bank-holiday calendar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdir.h"
#include "vault_fixture.h"

#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/input.h"
#include "domain/requests.h"
#include "domain/subject.h"
#include "domain/vault.h"
#include "domain/vault_impl.h"
#include "store/store.h"
#include "util/clock.h"

/* ------------------------------------------------------- the table ---- */

#define X -1
static const int expected[CU_RQ_STATE_COUNT][CU_RQ_TRANSITION_COUNT] = {
    /* ask_identity verify clarify resume extend fulfil refuse withdraw */
    [CU_RQ_RECEIVED] = {CU_RQ_AWAITING_IDENTITY, CU_RQ_IN_PROGRESS,
                        CU_RQ_AWAITING_CLARIFICATION, X, X, X, CU_RQ_REFUSED,
                        CU_RQ_WITHDRAWN},
    [CU_RQ_AWAITING_IDENTITY] = {X, CU_RQ_IN_PROGRESS, X, X, X, X, CU_RQ_REFUSED,
                                 CU_RQ_WITHDRAWN},
    [CU_RQ_AWAITING_CLARIFICATION] = {X, X, X, -2 /* prior */, X, X, CU_RQ_REFUSED,
                                      CU_RQ_WITHDRAWN},
    [CU_RQ_IN_PROGRESS] = {X, X, CU_RQ_AWAITING_CLARIFICATION, X, CU_RQ_EXTENDED,
                           CU_RQ_FULFILLED, CU_RQ_REFUSED, CU_RQ_WITHDRAWN},
    [CU_RQ_EXTENDED] = {X, X, CU_RQ_AWAITING_CLARIFICATION, X, X, CU_RQ_FULFILLED,
                        CU_RQ_REFUSED, CU_RQ_WITHDRAWN},
    [CU_RQ_FULFILLED] = {X, X, X, X, X, X, X, X},
    [CU_RQ_REFUSED] = {X, X, X, X, X, X, X, X},
    [CU_RQ_WITHDRAWN] = {X, X, X, X, X, X, X, X},
};

static void test_table(void **state)
{
    (void)state;
    for (int s = 0; s < CU_RQ_STATE_COUNT; s++)
        for (int t = 0; t < CU_RQ_TRANSITION_COUNT; t++)
            for (int prior = 0; prior < CU_RQ_STATE_COUNT; prior++) {
                int want = expected[s][t];
                if (want == -2) /* resume: back where clarification was asked */
                    want = prior == CU_RQ_RECEIVED || prior == CU_RQ_IN_PROGRESS ||
                                   prior == CU_RQ_EXTENDED
                               ? prior
                               : X;
                int got = cu_rq_next((cu_rq_state)s, (cu_rq_transition)t, (cu_rq_state)prior);
                CHECK(got == want, "%s --%s--> %d, want %d (prior %s)",
                      cu_rq_state_name((cu_rq_state)s),
                      cu_rq_transition_name((cu_rq_transition)t), got, want,
                      cu_rq_state_name((cu_rq_state)prior));
            }
    /* Final states are exactly the closed ones; nothing leaves them. */
    for (int s = 0; s < CU_RQ_STATE_COUNT; s++)
        assert_int_equal(cu_rq_state_open((cu_rq_state)s), s < CU_RQ_FULFILLED);
    assert_int_equal(cu_rq_next(CU_RQ_STATE_COUNT, CU_RQ_VERIFY, CU_RQ_RECEIVED), -1);
    assert_int_equal(cu_rq_next(CU_RQ_RECEIVED, CU_RQ_TRANSITION_COUNT, CU_RQ_RECEIVED), -1);
}

static void test_names(void **state)
{
    (void)state;
    for (int s = 0; s < CU_RQ_STATE_COUNT; s++)
        assert_int_equal(cu_rq_state_parse(cu_rq_state_name((cu_rq_state)s)), s);
    for (int t = 0; t < CU_RQ_TRANSITION_COUNT; t++)
        assert_int_equal(cu_rq_transition_parse(cu_rq_transition_name((cu_rq_transition)t)),
                         t);
    assert_int_equal(cu_rq_state_parse("done"), -1);
    assert_int_equal(cu_rq_state_parse(NULL), -1);
    const char *kinds[] = {"access", "rectification", "erasure", "restriction", "objection",
                           "automated_decision", "portability"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_true(cu_rq_kind_valid(kinds[i]));
    assert_false(cu_rq_kind_valid("Access"));
    assert_false(cu_rq_kind_valid(NULL));
    const char *channels[] = {"email", "letter", "phone", "web_form", "in_person", "portal"};
    for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++)
        assert_true(cu_rq_channel_valid(channels[i]));
    assert_false(cu_rq_channel_valid("fax"));
    assert_true(cu_rq_grounds_valid("manifestly_unfounded"));
    assert_true(cu_rq_grounds_valid("manifestly_excessive"));
    assert_false(cu_rq_grounds_valid("busy"));
}

/* The calendar built into the binary is data/bank-holidays.json, through
 * 2030 at least. */
static void test_embedded_calendar(void **state)
{
    (void)state;
    cu_holidays h;
    cu_err err = {0};
    assert_int_equal(cu_holidays_parse(cu_bank_holidays_json, cu_bank_holidays_json_len, &h,
                                       &err),
                     CU_OK);
    assert_true(h.first_year <= 2018);
    assert_true(h.last_year >= 2030);
    assert_true(cu_is_bank_holiday((cu_date){2026, 12, 25}, &h));
    assert_true(cu_is_bank_holiday((cu_date){2030, 12, 26}, &h));
    cu_holidays_release(&h);
    assert_int_equal(strlen(cu_bank_holidays_json), cu_bank_holidays_json_len);
}

/* ------------------------------------------------------ the vault ---- */

typedef struct fx {
    char root[64];
    char store[PATH_MAX];
    char db[PATH_MAX + 16];
    cu_vault *v;
    cu_err err;
    char ctl[CU_ID_STRLEN], ctl2[CU_ID_STRLEN];
    char subject[CU_ID_STRLEN];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    if (VAULT_FIXTURE_OPEN(f, "requests")) {
        free(f);
        return -1;
    }
    *state = f;
    static const char doc[] = "{\"name\": \"Zebedee Quux\", \"nhs_number\": \"943 476 5919\"}";
    cu_doc d;
    if (cu_controller_add(f->v, &OPERATOR, "Other Trust", f->ctl2, &f->err) != CU_OK ||
        cu_doc_parse(doc, strlen(doc), CU_DOC_SUBJECT, &d, &f->err) != CU_OK) {
        fprintf(stderr, "setup: %s\n", f->err.msg);
        return -1;
    }
    cu_actor care = OPERATOR;
    care.purpose = "direct_care";
    int rc = cu_subject_add(f->v, &care, f->ctl, "patient", &d, f->subject, &f->err);
    cu_doc_release(&d);
    if (rc) {
        fprintf(stderr, "setup: %s\n", f->err.msg);
        return -1;
    }
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

static void receive(fx *f, const char *kind, const char *on, const char *details,
                    char id[CU_ID_STRLEN])
{
    cu_rq_receive_in in = {.controller_id = f->ctl, .kind = kind, .channel = "letter",
                           .received_on = on, .details = details,
                           .details_len = strlen(details)};
    OK(f, cu_request_receive(f->v, &OPERATOR, &in, id, &f->err));
}

static int change(fx *f, const char *id, cu_rq_transition t, const char *on, const char *why,
                  cu_request_view *out)
{
    cu_rq_change c = {.t = t, .why = why, .why_len = why ? strlen(why) : 0, .on = on,
                      .subject_id = f->subject};
    cu_err_clear(&f->err);
    return cu_request_change(f->v, &OPERATOR, id, &c, out, &f->err);
}

static cu_date D(int y, int m, int d)
{
    return (cu_date){y, m, d};
}

#define SAME_DATE(a, b)                                                                     \
    CHECK(cu_date_cmp((a), (b)) == 0, "%s is %04d-%02d-%02d, want %04d-%02d-%02d", #a,      \
          (a).year, (a).month, (a).day, (b).year, (b).month, (b).day)

/* received -> awaiting_identity -> in_progress -> clarification pause ->
 * in_progress -> extended -> fulfilled; one audit event each; the clock
 * starts with the late evidence and moves with the pause. */
static void test_lifecycle_and_clock(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    int64_t seq = cu_vault_audit_seq(f->v);
    /* Monday 5 January 2026. */
    receive(f, "access", "2026-01-05", "letter from Quentin Xylophone-Smith", id);
    assert_int_equal(cu_vault_audit_seq(f->v), seq + 1);
    cu_request_view v;
    OK(f, change(f, id, CU_RQ_ASK_IDENTITY, "2026-01-06", "asked for a passport copy", &v));
    assert_string_equal(v.rec.state, "awaiting_identity");
    assert_false(v.clock_started);
    assert_int_equal(cu_vault_audit_seq(f->v), seq + 2);
    /* Evidence arrives Saturday 10 January: the clock starts then. */
    OK(f, change(f, id, CU_RQ_VERIFY, "2026-01-10", "passport seen", &v));
    assert_string_equal(v.rec.state, "in_progress");
    assert_string_equal(v.rec.subject_id, f->subject);
    assert_string_equal(v.rec.evidence_on, "2026-01-10");
    assert_true(v.clock_started);
    SAME_DATE(v.dl.start, D(2026, 1, 10));
    SAME_DATE(v.dl.due, D(2026, 2, 10));
    SAME_DATE(v.notice_by, D(2026, 2, 10));
    assert_int_equal(cu_vault_audit_seq(f->v), seq + 3);
    /* Clarification asked 20 January, given 25 January: 5 days; 15 February
     * is a Sunday, so the deadline is Monday 16 February. */
    OK(f, change(f, id, CU_RQ_CLARIFY, "2026-01-20", "which years?", &v));
    assert_string_equal(v.rec.state, "awaiting_clarification");
    assert_true(v.dl.paused);
    /* The pause cannot end before it began, nor begin before receipt. */
    assert_int_equal(change(f, id, CU_RQ_RESUME, "2026-01-19", "answered", NULL), CU_EINVAL);
    OK(f, change(f, id, CU_RQ_RESUME, "2026-01-25", "answered: 2019-2021", &v));
    assert_string_equal(v.rec.state, "in_progress");
    assert_int_equal(v.dl.paused_days, 5);
    SAME_DATE(v.dl.due, D(2026, 2, 16));
    SAME_DATE(v.notice_by, D(2026, 2, 16));
    assert_int_equal(cu_vault_audit_seq(f->v), seq + 5);

    /* Extension: needs the day the subject was told, within the first month. */
    cu_rq_change ext = {.t = CU_RQ_EXTEND, .why = "thirty years of records",
                        .why_len = strlen("thirty years of records")};
    FAILS(f, CU_EINVAL, cu_request_change(f->v, &OPERATOR, id, &ext, NULL, &f->err));
    ext.told_on = "2026-02-17";
    FAILS(f, CU_EINVAL, cu_request_change(f->v, &OPERATOR, id, &ext, NULL, &f->err));
    assert_non_null(strstr(f->err.msg, "2026-02-16"));
    ext.why_len = 0;
    ext.told_on = "2026-02-16";
    FAILS(f, CU_EINVAL, cu_request_change(f->v, &OPERATOR, id, &ext, NULL, &f->err));
    assert_int_equal(cu_vault_audit_seq(f->v), seq + 5); /* refusals change nothing */
    ext.why_len = strlen(ext.why);
    OK(f, cu_request_change(f->v, &OPERATOR, id, &ext, &v, &f->err));
    assert_string_equal(v.rec.state, "extended");
    assert_string_equal(v.rec.told_on, "2026-02-16");
    /* Three months from the start (10 April, Good Friday 2026 is 3 April),
     * plus the 5 paused days: Wednesday 15 April. */
    SAME_DATE(v.dl.due, D(2026, 4, 15));
    SAME_DATE(v.dl.due, v.dl.due_extended);
    assert_int_equal(cu_vault_audit_seq(f->v), seq + 6);
    /* Once extended, it cannot be extended again. */
    assert_int_equal(cu_request_change(f->v, &OPERATOR, id, &ext, NULL, &f->err), CU_ECONFLICT);

    OK(f, change(f, id, CU_RQ_FULFIL, "2026-04-14", "copy sent by recorded delivery", &v));
    assert_string_equal(v.rec.state, "fulfilled");
    assert_string_equal(v.rec.closed_on, "2026-04-14");
    assert_true(v.on_time);
    assert_int_equal(cu_vault_audit_seq(f->v), seq + 7);
    /* Final: nothing leaves it. */
    for (int t = 0; t < CU_RQ_TRANSITION_COUNT; t++)
        assert_int_equal(change(f, id, (cu_rq_transition)t, NULL, "again", NULL),
                         CU_ECONFLICT);
    assert_int_equal(cu_vault_audit_seq(f->v), seq + 7);
}

static int count_events(void *ctx, const cu_request_event_view *e)
{
    int *n = ctx;
    assert_non_null(e->why);
    (*n)++;
    return CU_OK;
}

static bool file_has(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    static char buf[8 << 20];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    return memmem(buf, n, needle, strlen(needle)) != NULL;
}

static int64_t sql_int(const char *db, const char *q)
{
    sqlite3 *h;
    int64_t v = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(h);
    return v;
}

/* Notes are sealed: never plaintext in the database or its WAL; under the
 * store's key before verification, resealed under the subject's after. */
static void test_notes_sealed(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    receive(f, "erasure", "2026-03-02", "from Wilhelmina Qwertyuiop-Zed", id);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM request_events WHERE "
                                    "sealed_by = 'store'"),
                     1);
    OK(f, change(f, id, CU_RQ_CLARIFY, "2026-03-03", "Zorblax reason one", NULL));
    OK(f, change(f, id, CU_RQ_RESUME, "2026-03-04", "Zorblax reason two", NULL));
    OK(f, change(f, id, CU_RQ_VERIFY, "2026-03-05", "Zorblax reason three", NULL));
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM request_events WHERE "
                                    "sealed_by = 'store'"),
                     0);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM request_events"), 4);
    char wal[PATH_MAX + 32];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    const char *secrets[] = {"Wilhelmina", "Zorblax"};
    for (size_t i = 0; i < 2; i++) {
        assert_false(file_has(f->db, secrets[i]));
        assert_false(file_has(wal, secrets[i]));
    }
    int n = 0;
    cu_request_view v;
    OK(f, cu_request_show(f->v, &OPERATOR, id, &v, count_events, &n, &f->err));
    assert_int_equal(n, 4);
    /* A why is required and bounded. */
    assert_int_equal(change(f, id, CU_RQ_WITHDRAW, NULL, "", NULL), CU_EINVAL);
    assert_int_equal(change(f, id, CU_RQ_WITHDRAW, NULL, NULL, NULL), CU_EINVAL);
    char big[CU_RQ_MAX_TEXT + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(change(f, id, CU_RQ_WITHDRAW, NULL, big, NULL), CU_EINVAL);
}

typedef struct notes {
    int n, shredded;
    char last[64];
} notes;

static int note_cb(void *ctx, const cu_request_event_view *e)
{
    notes *o = ctx;
    o->n++;
    if (!e->why)
        o->shredded++;
    else
        snprintf(o->last, sizeof o->last, "%s", e->why);
    return CU_OK;
}

/* An erasure request is fulfilled after the erasure: the notes sealed under
 * the subject's key are shredded with it; the request and its later notes
 * (under the store's key) remain as the record of the answer. */
static void test_erasure_then_fulfil(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    receive(f, "erasure", "2026-04-01", "erase everything, from Primrose Vantablack", id);
    OK(f, change(f, id, CU_RQ_VERIFY, "2026-04-02", "NHS number matched", NULL));
    int64_t at;
    cu_actor rights = OPERATOR;
    rights.purpose = "subject_rights";
    OK(f, cu_subject_erase(f->v, &rights, f->subject, &at, &f->err));
    cu_request_view v;
    OK(f, change(f, id, CU_RQ_FULFIL, "2026-04-03", "erased; certificate sent", &v));
    assert_string_equal(v.rec.state, "fulfilled");
    notes n = {0};
    OK(f, cu_request_show(f->v, &OPERATOR, id, &v, note_cb, &n, &f->err));
    assert_int_equal(n.n, 3);
    assert_int_equal(n.shredded, 2);
    assert_string_equal(n.last, "erased; certificate sent");
    assert_false(file_has(f->db, "Vantablack"));
}

/* Refusal needs grounds, reasons and the ICO route; it is final. */
static void test_refusal(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    receive(f, "access", "2026-02-02", "fifth identical request this month", id);
    int64_t seq = cu_vault_audit_seq(f->v);
    cu_rq_change c = {.t = CU_RQ_REFUSE, .why = "repeats requests 1-4 of February",
                      .why_len = 32};
    FAILS(f, CU_EINVAL, cu_request_change(f->v, &OPERATOR, id, &c, NULL, &f->err));
    c.grounds = "too_busy";
    FAILS(f, CU_EINVAL, cu_request_change(f->v, &OPERATOR, id, &c, NULL, &f->err));
    c.grounds = "manifestly_excessive";
    FAILS(f, CU_EINVAL, cu_request_change(f->v, &OPERATOR, id, &c, NULL, &f->err));
    assert_non_null(strstr(f->err.msg, "ICO"));
    c.ico_route_stated = true;
    c.why_len = 0;
    FAILS(f, CU_EINVAL, cu_request_change(f->v, &OPERATOR, id, &c, NULL, &f->err));
    assert_int_equal(cu_vault_audit_seq(f->v), seq);
    c.why_len = 32;
    cu_request_view v;
    OK(f, cu_request_change(f->v, &OPERATOR, id, &c, &v, &f->err));
    assert_string_equal(v.rec.state, "refused");
    assert_string_equal(v.rec.grounds, "manifestly_excessive");
    /* The statement made is recorded with the refusal. */
    assert_string_equal(v.rec.complaint_route, CU_RQ_ICO_ROUTE);
    assert_non_null(strstr(v.rec.complaint_route, "Information Commissioner"));
    assert_int_equal(cu_vault_audit_seq(f->v), seq + 1);
    assert_int_equal(change(f, id, CU_RQ_WITHDRAW, NULL, "x", NULL), CU_ECONFLICT);
}

/* Bad input is refused whole, with nothing written. */
static void test_bad_input(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    int64_t seq = cu_vault_audit_seq(f->v);
    cu_rq_receive_in in = {.controller_id = f->ctl, .kind = "access", .channel = "letter",
                           .received_on = "2026-02-30", .details = "x", .details_len = 1};
    FAILS(f, CU_EINVAL, cu_request_receive(f->v, &OPERATOR, &in, id, &f->err));
    in.received_on = "2999-01-01";
    FAILS(f, CU_EINVAL, cu_request_receive(f->v, &OPERATOR, &in, id, &f->err));
    in.received_on = "2026-02-02";
    in.kind = "complaint";
    FAILS(f, CU_EINVAL, cu_request_receive(f->v, &OPERATOR, &in, id, &f->err));
    in.kind = "access";
    in.channel = "pigeon";
    FAILS(f, CU_EINVAL, cu_request_receive(f->v, &OPERATOR, &in, id, &f->err));
    in.channel = "email";
    in.purpose = "marketing";
    FAILS(f, CU_EINVAL, cu_request_receive(f->v, &OPERATOR, &in, id, &f->err));
    in.purpose = NULL;
    in.details_len = 0;
    FAILS(f, CU_EINVAL, cu_request_receive(f->v, &OPERATOR, &in, id, &f->err));
    in.details_len = 1;
    in.controller_id = "00000000-0000-4000-8000-000000000000";
    FAILS(f, CU_EINVAL, cu_request_receive(f->v, &OPERATOR, &in, id, &f->err));
    assert_int_equal(cu_vault_audit_seq(f->v), seq);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM requests"), 0);
    in.controller_id = f->ctl;
    OK(f, cu_request_receive(f->v, &OPERATOR, &in, id, &f->err));
    /* Dates in the future, or before receipt, are refused. */
    assert_int_equal(change(f, id, CU_RQ_CLARIFY, "2999-01-01", "x", NULL), CU_EINVAL);
    assert_int_equal(change(f, id, CU_RQ_CLARIFY, "2026-02-01", "x", NULL), CU_EINVAL);
    assert_int_equal(change(f, "00000000-0000-4000-8000-000000000000", CU_RQ_WITHDRAW, NULL,
                            "x", NULL),
                     CU_ENOTFOUND);
    /* Verification names a subject of the request's controller. */
    cu_rq_change c = {.t = CU_RQ_VERIFY, .why = "x", .why_len = 1,
                      .subject_id = "00000000-0000-4000-8000-000000000000"};
    FAILS(f, CU_EINVAL, cu_request_change(f->v, &OPERATOR, id, &c, NULL, &f->err));
}

/* Fulfilling a restriction or objection request sets the flag. */
static void test_fulfil_sets_flags(void **state)
{
    fx *f = *state;
    char r1[CU_ID_STRLEN], r2[CU_ID_STRLEN];
    receive(f, "restriction", "2026-05-01", "restrict while accuracy is contested", r1);
    OK(f, change(f, r1, CU_RQ_VERIFY, NULL, "known patient", NULL));
    int64_t seq = cu_vault_audit_seq(f->v);
    OK(f, change(f, r1, CU_RQ_FULFIL, NULL, "restricted", NULL));
    assert_int_equal(cu_vault_audit_seq(f->v), seq + 1);
    cu_subject_rec s;
    OK(f, cu_store_subject_get(f->v->store, f->subject, &s, &f->err));
    assert_true(s.restricted_at > 0);

    cu_rq_receive_in in = {.controller_id = f->ctl, .kind = "objection", .channel = "email",
                           .received_on = "2026-05-02", .purpose = "reporting",
                           .details = "objects to reporting", .details_len = 20};
    OK(f, cu_request_receive(f->v, &OPERATOR, &in, r2, &f->err));
    OK(f, change(f, r2, CU_RQ_VERIFY, NULL, "known patient", NULL));
    OK(f, change(f, r2, CU_RQ_FULFIL, NULL, "objection upheld", NULL));
    bool active = false;
    OK(f, cu_store_subject_get(f->v->store, f->subject, &s, &f->err));
    assert_int_equal(s.objecting, 1);
    OK(f, cu_objection_active(f->v, &s, "reporting", &active, &f->err));
    assert_true(active);
}

/* dpo manages requests of their own controller only; care_admin may log one
 * as received and nothing more. */
static void test_roles(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    cu_actor desk = {.name = "desk", .role = "care_admin", .purpose = "administration",
                     .controller_id = f->ctl, .user_id = "u1"};
    cu_rq_receive_in in = {.kind = "access", .channel = "in_person", .received_on = "2026-06-01",
                           .details = "at reception", .details_len = 12};
    OK(f, cu_request_receive(f->v, &desk, &in, id, &f->err));
    cu_request_view v;
    FAILS(f, CU_EDENIED, cu_request_show(f->v, &desk, id, &v, NULL, NULL, &f->err));
    cu_actor dpo = {.name = "dora", .role = "dpo", .purpose = "subject_rights",
                    .controller_id = f->ctl, .user_id = "u2"};
    OK(f, cu_request_show(f->v, &dpo, id, &v, NULL, NULL, &f->err));
    cu_actor other = dpo;
    other.controller_id = f->ctl2;
    FAILS(f, CU_ECONCEALED, cu_request_show(f->v, &other, id, &v, NULL, NULL, &f->err));
    CHECK(strstr(f->err.msg, "no request"), "message: %s", f->err.msg);
    cu_actor clin = dpo;
    clin.role = "clinician";
    clin.purpose = "direct_care";
    FAILS(f, CU_EDENIED, cu_request_receive(f->v, &clin, &in, id, &f->err));
}

typedef struct order {
    cu_date due[8];
    bool started[8];
    int n;
} order;

static int collect(void *ctx, const cu_request_view *v)
{
    order *o = ctx;
    if (o->n < 8) {
        o->due[o->n] = v->dl.due;
        o->started[o->n] = v->clock_started;
        o->n++;
    }
    return CU_OK;
}

/* `due`: open requests by due date, overdue first; counts for /metrics. */
static void test_due_and_counts(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN], c[CU_ID_STRLEN], d[CU_ID_STRLEN];
    receive(f, "access", "2026-03-02", "b", b);
    receive(f, "access", "2026-01-05", "a", a);
    receive(f, "portability", "2026-02-02", "c", c);
    receive(f, "erasure", "2026-02-09", "d", d);
    OK(f, change(f, c, CU_RQ_WITHDRAW, NULL, "withdrawn by phone", NULL));
    OK(f, change(f, d, CU_RQ_ASK_IDENTITY, NULL, "who are you", NULL));
    order o = {0};
    OK(f, cu_request_list(f->v, &OPERATOR, NULL, true, collect, &o, &f->err));
    assert_int_equal(o.n, 3);
    SAME_DATE(o.due[0], D(2026, 2, 5));
    SAME_DATE(o.due[1], D(2026, 4, 2));
    assert_false(o.started[2]); /* identity awaited: last */
    int64_t counts[CU_RQ_STATE_COUNT], overdue;
    OK(f, cu_request_counts(f->v, counts, &overdue, &f->err));
    assert_int_equal(counts[CU_RQ_RECEIVED], 2);
    assert_int_equal(counts[CU_RQ_WITHDRAWN], 1);
    assert_int_equal(counts[CU_RQ_AWAITING_IDENTITY], 1);
    cu_date today = cu_rq_today();
    int64_t want = (cu_date_cmp(today, D(2026, 2, 5)) > 0) + (cu_date_cmp(today, D(2026, 4, 2)) > 0);
    assert_int_equal(overdue, want);
}

/* A replacement calendar: a bad file is refused with the parser's message;
 * a good one moves deadlines. */
static void test_calendar_file(void **state)
{
    fx *f = *state;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/hol.json", f->root);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"england-and-wales\": {\"division\": \"england-and-wales\", \"events\": "
          "[{\"title\": \"Extra\", \"date\": \"2026-02-05\"}]}}",
          fp);
    fclose(fp);
    OK(f, cu_vault_use_holidays(f->v, path, &f->err));
    const cu_holidays *h;
    const char *src;
    OK(f, cu_vault_holidays(f->v, &h, &src, &f->err));
    assert_non_null(strstr(src, path));
    assert_non_null(strstr(src, "2026-2026"));
    char id[CU_ID_STRLEN];
    receive(f, "access", "2026-01-05", "x", id);
    cu_request_view v;
    OK(f, change(f, id, CU_RQ_VERIFY, NULL, "known", &v));
    SAME_DATE(v.dl.due, D(2026, 2, 6)); /* Thursday 5 February is now a holiday */
    assert_false(v.dl.beyond_calendar);
    /* Under a calendar of 2025 alone, a 2026 deadline is beyond it: flagged,
     * weekends still skipped. */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"england-and-wales\": {\"division\": \"england-and-wales\", \"events\": "
          "[{\"title\": \"Old\", \"date\": \"2025-12-25\"}]}}",
          fp);
    fclose(fp);
    OK(f, cu_vault_use_holidays(f->v, path, &f->err));
    OK(f, cu_request_show(f->v, &OPERATOR, id, &v, NULL, NULL, &f->err));
    assert_true(v.dl.beyond_calendar);
    SAME_DATE(v.dl.due, D(2026, 2, 5));
    snprintf(path, sizeof path, "%s/missing.json", f->root);
    FAILS(f, CU_EIO, cu_vault_use_holidays(f->v, path, &f->err));
    snprintf(path, sizeof path, "%s/bad.json", f->root);
    fp = fopen(path, "w");
    fputs("{\"england-and-wales\": {}}", fp);
    fclose(fp);
    FAILS(f, CU_EINVAL, cu_vault_use_holidays(f->v, path, &f->err));
    OK(f, cu_vault_use_holidays(f->v, NULL, &f->err));
    OK(f, cu_vault_holidays(f->v, &h, &src, &f->err));
    assert_non_null(strstr(src, "built in"));
}

int main(void)
{
    if (cu_crypto_init())
        return 1;
    cu_input_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_embedded_calendar),
        cmocka_unit_test_setup_teardown(test_lifecycle_and_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notes_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erasure_then_fulfil, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fulfil_sets_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calendar_file, setup, teardown),
    };
    return cmocka_run_group_tests_name("requests", tests, NULL, NULL);
}
