/*
 * test_pathway.c — follow-up pathways: the document parser (good documents,
 * and bad ones named by JSON path), the due dates a schedule gives across a
 * month end and a leap day, enrolment with the test clock, what is due and
 * overdue and missed (and an answer after the window), held for a restriction
 * or an objection, the erasure hook, discharge, the note hook, an insider's edit (CU_ETAMPER), and a
 * clinician seeing only the subjects on their care list.
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
#include "domain/consent.h"
#include "domain/input.h"
#include "domain/integrity.h"
#include "domain/pathway.h"
#include "domain/questionnaire.h"
#include "domain/staff.h"
#include "domain/subject.h"
#include "domain/tasks.h"
#include "store/store.h"

static char *slurp(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", CUSTOS_SOURCE_ROOT, rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[256 * 1024];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char *out = malloc(*len + 1);
    assert_non_null(out);
    memcpy(out, buf, *len);
    out[*len] = 0;
    return out;
}

/* ---- the parser ---- */

#define DOC_HEAD                                                                            \
    "{\"id\": \"psfu-test\", \"version\": \"1\", \"title\": \"T\", "                        \
    "\"questionnaire\": {\"url\": \"urn:q\"}, \"start\": \"end of treatment\", "

static void parses(const char *doc, cu_pathway **out)
{
    cu_err err = {0};
    int rc = cu_pathway_parse(doc, strlen(doc), out, &err);
    CHECK(rc == CU_OK, "%s: %s", doc, err.msg);
}

static void refuses(const char *doc, const char *says)
{
    cu_err err = {0};
    cu_pathway *p = (cu_pathway *)&p;
    int rc = cu_pathway_parse(doc, strlen(doc), &p, &err);
    CHECK(rc == CU_EINVAL && err.code == CU_EINVAL, "%s: got %d", doc, rc);
    CHECK(p == NULL, "%s: a model was returned", doc);
    CHECK(strstr(err.msg, says) != NULL, "%s: message '%s' does not say '%s'", doc, err.msg,
          says);
    CHECK(!strchr(err.msg, '\n'), "one line: %s", err.msg);
}

static void test_parse_shipped(void **state)
{
    (void)state;
    size_t n;
    char *s = slurp("pathways/psfu-example.json", &n);
    cu_pathway *p = NULL;
    cu_err err = {0};
    int rc = cu_pathway_parse(s, n, &p, &err);
    CHECK(rc == CU_OK, "psfu-example: %s", err.msg);
    assert_string_equal(p->id, "psfu-example");
    assert_true(p->example);
    assert_string_equal(p->questionnaire_url, "urn:custos:questionnaire:psfu-example");
    assert_int_equal(p->noffsets, 4);
    assert_int_equal(p->offsets[3], 365);
    assert_int_equal(p->window, 14);
    assert_int_equal(p->nreviews, 1);
    assert_int_equal(p->reviews[0].at_least, 7);
    assert_true(p->ends & CU_PW_END_DISCHARGE);
    /* The canonical form parses to itself. */
    cu_pathway *q = NULL;
    assert_int_equal(cu_pathway_parse(p->canonical, p->canonical_len, &q, &err), CU_OK);
    assert_int_equal(q->canonical_len, p->canonical_len);
    assert_memory_equal(q->canonical, p->canonical, p->canonical_len);
    cu_pathway_free(q);
    cu_pathway_free(p);
    free(s);
}

static void test_parse_early(void **state)
{
    (void)state;
    cu_pathway *p = NULL;
    parses(DOC_HEAD "\"schedule\": {\"days\": [30, 90]}, \"window\": 14, \"early\": 29, "
                    "\"runs_for\": 365, \"ends\": [\"discharge\", \"duration\"]}",
           &p);
    assert_int_equal(p->early, 29);
    cu_pathway_free(p);
    parses(DOC_HEAD "\"schedule\": {\"days\": [30, 90]}, \"window\": 14, "
                    "\"runs_for\": 365, \"ends\": [\"discharge\", \"duration\"]}",
           &p);
    assert_int_equal(p->early, 0);
    cu_pathway_free(p);
}

static void test_parse_every(void **state)
{
    (void)state;
    cu_pathway *p = NULL;
    parses(DOC_HEAD "\"schedule\": {\"every\": 90, \"until\": 365}, \"window\": 0, "
                    "\"runs_for\": 365, \"ends\": [\"discharge\", \"duration\"]}",
           &p);
    assert_int_equal(p->noffsets, 4);
    assert_int_equal(p->offsets[0], 90);
    assert_int_equal(p->offsets[3], 360);
    assert_int_equal(p->every, 90);
    assert_string_equal(p->questionnaire_version, "");
    cu_pathway_free(p);
}

static void test_parse_bad(void **state)
{
    (void)state;
#define TAIL "\"window\": 14, \"runs_for\": 365, \"ends\": [\"duration\", \"discharge\"]}"
    refuses("", "not valid JSON");
    refuses("[]", "(document): must be a JSON object");
    refuses("{\"id\": \"a\", \"id\": \"b\"}", "not valid JSON");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30, 20]}, " TAIL,
            "schedule.days[1]: must be greater than the one before");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [0]}, " TAIL, "schedule.days[0]: must be from 1");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [1.5]}, " TAIL,
            "schedule.days[0]: must be a whole number");
    refuses(DOC_HEAD "\"schedule\": {\"days\": []}, " TAIL, "schedule.days: must not be empty");
    refuses(DOC_HEAD "\"schedule\": {\"every\": 30}, " TAIL, "schedule.until: required");
    refuses(DOC_HEAD "\"schedule\": {\"every\": 1, \"until\": 365}, " TAIL,
            "more than 64 occurrences");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30], \"every\": 1}, " TAIL,
            "schedule: give either");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [400]}, " TAIL,
            "runs_for: must be at least the last scheduled day");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30]}, \"window\": 366, \"runs_for\": 365, "
                     "\"ends\": [\"duration\", \"discharge\"]}",
            "window: must be from 0 to 365");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30]}, \"window\": 1, \"runs_for\": 365, "
                     "\"ends\": [\"duration\", \"discharge\", \"duration\"]}",
            "ends[2]: is given twice");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30]}, \"window\": 1, \"runs_for\": 365, "
                     "\"ends\": [\"discharge\"]}",
            "ends: must include duration and discharge");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30]}, \"review\": [{\"id\": \"a\", "
                     "\"score\": \"total\", \"at_least\": 1}, {\"id\": \"a\", \"score\": "
                     "\"total\", \"at_least\": 2}], " TAIL,
            "review[1].id: is used twice");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30]}, \"review\": [{\"id\": \"a\", "
                     "\"score\": \"total\", \"at_least\": 1, \"colour\": 1}], " TAIL,
            "review[0].colour: not allowed here");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30, 60]}, \"early\": 30, " TAIL,
            "early: must be less than the days from the start to the first occurrence");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [10, 60]}, \"early\": 10, " TAIL,
            "early: must be less than");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30]}, \"early\": -1, " TAIL,
            "early: must be from 0 to 365");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30]}, \"early\": \"7\", " TAIL, "early:");
    refuses(DOC_HEAD "\"schedule\": {\"days\": [30]}, \"extra\": true, " TAIL,
            "extra: not allowed here");
    refuses("{\"id\": \"Psfu\", \"version\": \"1\"}", "id: must be lower-case");
    refuses("{\"id\": \"9psfu\", \"version\": \"1\"}", "id: must start with a lower-case");
    refuses("{\"id\": \"psfu\", \"version\": \"1\", \"title\": \"a\\u0001b\"}",
            "title: must not contain control characters");
    refuses("{\"id\": \"psfu\", \"version\": \"1\", \"title\": \"t\", \"questionnaire\": "
            "{\"url\": \"urn:q\", \"version\": \"\"}}",
            "questionnaire.version: must not be empty");
    refuses("{\"id\": \"psfu\", \"version\": \"1\", \"title\": \"t\"}",
            "questionnaire: required");
    /* Too large, before parsing. */
    char *big = malloc(CU_PW_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, ' ', CU_PW_MAX_BYTES + 1);
    big[CU_PW_MAX_BYTES + 1] = 0;
    refuses(big, "larger than");
    free(big);
#undef TAIL
}

/* Occurrence dates: days after the start, across a month end, a leap day
 * and a year end. */
static void test_due_dates(void **state)
{
    (void)state;
    cu_pathway *p = NULL;
    parses(DOC_HEAD "\"schedule\": {\"days\": [1, 29, 30, 366]}, \"window\": 3, "
                    "\"runs_for\": 400, \"ends\": [\"discharge\", \"duration\"]}",
           &p);
    cu_date start = {2028, 1, 31};
    cu_date d = cu_pathway_due_date(p, start, 0);
    assert_true(d.year == 2028 && d.month == 2 && d.day == 1);
    d = cu_pathway_due_date(p, start, 1); /* 31 Jan + 29 = 29 Feb (leap year) */
    assert_true(d.year == 2028 && d.month == 2 && d.day == 29);
    d = cu_pathway_due_date(p, start, 2);
    assert_true(d.year == 2028 && d.month == 3 && d.day == 1);
    d = cu_pathway_due_date(p, start, 3); /* 2028 has 366 days */
    assert_true(d.year == 2029 && d.month == 1 && d.day == 31);
    start = (cu_date){2027, 1, 31}; /* no leap day */
    d = cu_pathway_due_date(p, start, 1);
    assert_true(d.year == 2027 && d.month == 3 && d.day == 1);
    cu_pathway_free(p);
}

/* ---- stored, enrolled, due ---- */

typedef struct fx {
    char root[64], store[PATH_MAX], db[PATH_MAX + 16];
    cu_vault *v;
    cu_err err;
    char ctl[CU_ID_STRLEN];
    char on[CU_ID_STRLEN], off[CU_ID_STRLEN];
    char alice_id[CU_ID_STRLEN];
    cu_actor alice; /* `on` is on her care list, `off` is not */
} fx;

static const char PWD[] = FIXTURE_PASSWORD;

static void fake_now(const char *day)
{
    cu_date d;
    assert_true(cu_date_parse(day, strlen(day), &d));
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)(cu_date_to_days(d) * 86400 + 12 * 3600));
    setenv("CUSTOS_FAKE_NOW", s, 1);
}

static int setup(void **state)
{
    unsetenv("CUSTOS_FAKE_NOW");
    fx *f = calloc(1, sizeof *f);
    if (!f || VAULT_FIXTURE_OPEN(f, "pathway")) {
        free(f);
        return -1;
    }
    *state = f;
    add_subject(f, "943 476 5919", f->on);
    add_subject(f, "401 023 2137", f->off);
    char b32[CU_TOTP_B32_LEN];
    OK(f, cu_user_add(f->v, &OPERATOR, f->ctl, "alice", "clinician", PWD, strlen(PWD), false,
                      f->alice_id, b32, &f->err));
    f->alice = (cu_actor){.name = "alice", .role = "clinician", .purpose = "direct_care",
                          .via = "unit test", .controller_id = f->ctl, .user_id = f->alice_id};
    OK(f, cu_care_set(f->v, &OPERATOR, "alice", f->on, true, &f->err));
    size_t n;
    char *q = slurp("questionnaires/psfu-example.json", &n);
    cu_questionnaire_info qi;
    bool added;
    OK(f, cu_questionnaire_add(f->v, &OPERATOR, q, n, &qi, &added, &f->err));
    free(q);
    char *p = slurp("pathways/psfu-example.json", &n);
    cu_pathway_info pi;
    OK(f, cu_pathway_add(f->v, &OPERATOR, p, n, &pi, &added, &f->err));
    assert_true(added);
    free(p);
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

#define MAX_DUE 16
typedef struct due_seen {
    size_t n;
    char kind[MAX_DUE][16];
    char subject[MAX_DUE][CU_ID_STRLEN];
    char due[MAX_DUE][11];
    char state[MAX_DUE][16];
    char held[MAX_DUE][16];
    int occ[MAX_DUE];
} due_seen;

static int see_due(void *ctx, const cu_due_item *d)
{
    due_seen *s = ctx;
    if (s->n >= MAX_DUE)
        return CU_ENOMEM;
    snprintf(s->kind[s->n], sizeof s->kind[s->n], "%s", d->kind);
    snprintf(s->subject[s->n], sizeof s->subject[s->n], "%s", d->subject_id);
    snprintf(s->due[s->n], sizeof s->due[s->n], "%s", d->due_date ? d->due_date : "");
    snprintf(s->state[s->n], sizeof s->state[s->n], "%s", d->state ? d->state : "");
    snprintf(s->held[s->n], sizeof s->held[s->n], "%s", d->held ? d->held : "");
    if (d->held)
        assert_non_null(d->held_reason);
    s->occ[s->n] = d->n;
    s->n++;
    return CU_OK;
}

static due_seen due_on(fx *f, const cu_actor *a, const char *day)
{
    due_seen s = {0};
    fake_now(day);
    OK(f, cu_pathway_due(f->v, a, f->ctl, 0, see_due, &s, &f->err));
    return s;
}

static void enrol(fx *f, const cu_actor *a, const char *subject, const char *start)
{
    cu_enrolment_info e;
    OK(f, cu_pathway_enrol(f->v, a, subject, "psfu-example", start, "direct_care", &e,
                           &f->err));
    assert_int_equal(e.occurrences, 4);
}

static int no_report_fn(void *ctx, const char *table, const char *row, const char *problem)
{
    (void)ctx;
    fail_msg("%s %s: %s", table, row, problem);
    return CU_OK;
}

static int one_text(void *ctx, int n, char **vals, char **cols)
{
    (void)cols;
    if (n == 1 && vals[0])
        snprintf(ctx, 16, "%s", vals[0]);
    return 0;
}

/* The stored state of occurrence n of subject's enrolment (the latest). */
static const char *occ_state_of(fx *f, const char *subject, int n)
{
    static char out[16];
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT o.state FROM pathway_occurrences o JOIN enrolments e ON "
             "e.id = o.enrolment_id WHERE e.subject_id = '%s' AND o.n = %d "
             "ORDER BY e.seq DESC LIMIT 1",
             subject, n);
    out[0] = 0;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    CHECK(sqlite3_exec(db, sql, one_text, out, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return out;
}

static const char *occ_state(fx *f, int n)
{
    return occ_state_of(f, f->on, n);
}

static void test_enrol_due_overdue(void **state)
{
    fx *f = *state;
    cu_enrolment_info e;
    fake_now("2028-01-31");
    OK(f, cu_pathway_enrol(f->v, &f->alice, f->on, "psfu-example", "2028-01-31", "direct_care",
                           &e, &f->err));
    assert_string_equal(e.first_due, "2028-03-01"); /* 31 Jan + 30 days, leap year */
    assert_string_equal(e.start_date, "2028-01-31");
    due_seen s = due_on(f, &OPERATOR, "2028-02-29");
    assert_int_equal(s.n, 0);
    s = due_on(f, &OPERATOR, "2028-03-01");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.kind[0], "due");
    assert_string_equal(s.due[0], "2028-03-01");
    /* Not sent after its due date, the window open: overdue (late). */
    s = due_on(f, &OPERATOR, "2028-03-02");
    assert_string_equal(s.kind[0], "overdue");
    s = due_on(f, &OPERATOR, "2028-03-15"); /* the window's last day */
    assert_string_equal(s.kind[0], "overdue");
    assert_string_equal(s.state[0], "scheduled");
    /* Sent: waiting for the answer, not listed while the window is open. */
    bool moved = false;
    fake_now("2028-03-05");
    OK(f, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example", "sent",
                          "link-1", 0, &moved, &f->err));
    assert_true(moved);
    assert_int_equal(due_on(f, &OPERATOR, "2028-03-05").n, 0);
    assert_int_equal(due_on(f, &OPERATOR, "2028-03-15").n, 0);
    /* The window ended unanswered: missed, and stored as missed. */
    s = due_on(f, &OPERATOR, "2028-03-16");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.kind[0], "missed");
    assert_string_equal(s.state[0], "missed");
    assert_string_equal(occ_state(f, 1), "missed");
    /* An answer after the window answers nothing: not the missed one, and
     * not the next, which is not due yet. */
    fake_now("2028-03-20");
    OK(f, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example", "answered",
                          "resp-1", 0, &moved, &f->err));
    assert_false(moved);
    assert_string_equal(occ_state(f, 1), "missed");
    assert_string_equal(occ_state(f, 2), "scheduled");
    /* The next one, due: an answer in its window answers it. */
    s = due_on(f, &OPERATOR, "2028-04-30");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.kind[0], "missed");
    assert_string_equal(s.kind[1], "due");
    assert_int_equal(s.occ[1], 2);
    OK(f, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example", "answered",
                          "resp-2", 0, &moved, &f->err));
    assert_true(moved);
    assert_string_equal(occ_state(f, 2), "answered");
    s = due_on(f, &OPERATOR, "2028-05-01");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.kind[0], "missed");
    /* Another questionnaire moves nothing; a bad event is refused. */
    OK(f, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:phq-9", "answered", "resp-3",
                          0, &moved, &f->err));
    assert_false(moved);
    FAILS(f, CU_EINVAL, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example",
                                        "opened", "x", 0, &moved, &f->err));
    FAILS(f, CU_EINVAL, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example",
                                        "sent", "a b", 0, &moved, &f->err));
    /* Much later: the others are missed, earliest first; once only. */
    s = due_on(f, &OPERATOR, "2030-01-01");
    assert_int_equal(s.n, 3);
    assert_int_equal(s.occ[0], 1);
    assert_int_equal(s.occ[1], 3);
    assert_int_equal(s.occ[2], 4);
    for (size_t i = 0; i < s.n; i++)
        assert_string_equal(s.kind[i], "missed");
    FAILS(f, CU_ECONFLICT, cu_pathway_enrol(f->v, &f->alice, f->on, "psfu-example",
                                            "2028-02-01", "direct_care", &e, &f->err));
    /* A discharge stops nothing that was missed or answered. */
    int stopped = -1;
    OK(f, cu_pathway_discharge(f->v, &OPERATOR, f->on, "psfu-example", &stopped, &f->err));
    assert_int_equal(stopped, 0);
    int64_t rows = 0, bad = 0;
    OK(f, cu_integrity_verify(f->v, no_report_fn, NULL, &rows, &bad, &f->err));
    assert_int_equal(bad, 0);
}

/* A pathway whose answers count from 7 days before a due date: an answer 8
 * days early answers nothing, one 7 days early answers the occurrence, and
 * the next one is not answered early by an answer to this one. */
static void test_early_answer(void **state)
{
    fx *f = *state;
    static const char doc[] =
        "{\"id\": \"psfu-early\", \"version\": \"1\", \"title\": \"Early answers\", "
        "\"questionnaire\": {\"url\": \"urn:custos:questionnaire:psfu-example\"}, "
        "\"start\": \"end of treatment\", \"schedule\": {\"days\": [30, 90]}, "
        "\"window\": 14, \"early\": 7, \"runs_for\": 365, "
        "\"ends\": [\"duration\", \"discharge\"]}";
    cu_pathway_info pi;
    bool added = false;
    OK(f, cu_pathway_add(f->v, &OPERATOR, doc, sizeof doc - 1, &pi, &added, &f->err));
    assert_true(added);
    cu_enrolment_info e;
    fake_now("2028-01-31");
    OK(f, cu_pathway_enrol(f->v, &f->alice, f->on, "psfu-early", "2028-01-31", "direct_care",
                           &e, &f->err));
    assert_string_equal(e.first_due, "2028-03-01");
    bool moved = true;
    fake_now("2028-02-22"); /* 8 days before the due date */
    OK(f, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example", "answered",
                          "resp-1", 0, &moved, &f->err));
    assert_false(moved);
    assert_string_equal(occ_state(f, 1), "scheduled");
    fake_now("2028-02-23"); /* 7 days before */
    OK(f, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example", "answered",
                          "resp-2", 0, &moved, &f->err));
    assert_true(moved);
    assert_string_equal(occ_state(f, 1), "answered");
    /* A second answer the same day is not taken for the next occurrence. */
    OK(f, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example", "answered",
                          "resp-3", 0, &moved, &f->err));
    assert_false(moved);
    assert_string_equal(occ_state(f, 2), "scheduled");
}

/* An answer that comes after a window, with no listing in between, still
 * finds the occurrence missed; a discharge after a window moves the
 * unanswered one to missed, not stopped. */
static void test_missed_without_listing(void **state)
{
    fx *f = *state;
    enrol(f, &OPERATOR, f->on, "2028-01-31");
    fake_now("2028-03-16");
    bool moved = true;
    OK(f, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example", "sent",
                          "link-1", 0, &moved, &f->err));
    assert_true(moved); /* sent ahead for the second; the first is missed */
    assert_string_equal(occ_state(f, 1), "missed");
    assert_string_equal(occ_state(f, 2), "sent");
    int stopped = -1;
    fake_now("2028-05-20"); /* the second's window has ended too */
    OK(f, cu_pathway_discharge(f->v, &OPERATOR, f->on, "psfu-example", &stopped, &f->err));
    assert_int_equal(stopped, 2);
    assert_string_equal(occ_state(f, 2), "missed");
    assert_string_equal(occ_state(f, 3), "stopped");
}

/* A restriction or an objection to the enrolment's purpose holds what
 * would be due: listed as held, with why, until it is lifted. */
static void test_held(void **state)
{
    fx *f = *state;
    cu_actor dpo = OPERATOR;
    dpo.purpose = "subject_rights";
    enrol(f, &OPERATOR, f->on, "2028-01-31");
    enrol(f, &OPERATOR, f->off, "2028-01-31");
    OK(f, cu_subject_restrict(f->v, &dpo, f->on, true, &f->err));
    due_seen s = due_on(f, &OPERATOR, "2028-03-01");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.kind[0], "due");
    assert_string_equal(s.subject[0], f->off);
    assert_string_equal(s.kind[1], "held");
    assert_string_equal(s.subject[1], f->on);
    assert_string_equal(s.held[1], "restricted");
    OK(f, cu_subject_restrict(f->v, &dpo, f->on, false, &f->err));
    OK(f, cu_subject_object(f->v, &dpo, f->on, "direct_care", true, &f->err));
    s = due_on(f, &OPERATOR, "2028-03-01");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.kind[1], "held");
    assert_string_equal(s.held[1], "objection");
    /* Lifted: due again. */
    OK(f, cu_subject_object(f->v, &dpo, f->on, "direct_care", false, &f->err));
    s = due_on(f, &OPERATOR, "2028-03-01");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.kind[0], "due");
    assert_string_equal(s.kind[1], "due");
    assert_string_equal(s.held[1], "");
    /* Held while paused, missed once the window has ended. */
    OK(f, cu_subject_restrict(f->v, &dpo, f->on, true, &f->err));
    s = due_on(f, &OPERATOR, "2028-03-16");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.kind[0], "missed");
    assert_string_equal(s.kind[1], "missed");
}

/* The erasure hook discharges every running enrolment of the subject. */
static void test_erased_discharges(void **state)
{
    fx *f = *state;
    enrol(f, &OPERATOR, f->on, "2028-01-31");
    enrol(f, &OPERATOR, f->off, "2028-01-31");
    fake_now("2028-03-01");
    int n = -1;
    OK(f, cu_pathway_erased(f->v, f->on, 0, &n, &f->err));
    assert_int_equal(n, 1);
    due_seen s = due_on(f, &OPERATOR, "2028-03-01");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.subject[0], f->off);
    for (int i = 1; i <= 4; i++)
        assert_string_equal(occ_state_of(f, f->on, i), "stopped");
    OK(f, cu_pathway_erased(f->v, f->on, 0, &n, &f->err));
    assert_int_equal(n, 0); /* once */
    int stopped;
    FAILS(f, CU_ENOTFOUND, cu_pathway_discharge(f->v, &OPERATOR, f->on, "psfu-example",
                                                &stopped, &f->err));
    int64_t rows = 0, bad = 0;
    OK(f, cu_integrity_verify(f->v, no_report_fn, NULL, &rows, &bad, &f->err));
    assert_int_equal(bad, 0);
}

static int no_report(void *ctx, const char *table, const char *row, const char *problem)
{
    (void)ctx;
    fail_msg("%s %s: %s", table, row, problem);
    return CU_OK;
}

static void test_discharge_stops(void **state)
{
    fx *f = *state;
    enrol(f, &OPERATOR, f->on, "2028-01-31");
    int stopped = 0;
    FAILS(f, CU_ENOTFOUND, cu_pathway_discharge(f->v, &OPERATOR, f->off, "psfu-example",
                                                &stopped, &f->err));
    bool moved;
    fake_now("2028-03-01"); /* the first is due */
    OK(f, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example", "answered",
                          "resp-1", 0, &moved, &f->err));
    assert_true(moved);
    OK(f, cu_pathway_discharge(f->v, &OPERATOR, f->on, "psfu-example", &stopped, &f->err));
    assert_int_equal(stopped, 3); /* the answered one stays answered */
    assert_int_equal(due_on(f, &OPERATOR, "2030-01-01").n, 0);
    OK(f, cu_pathway_note(f->v, f->on, "urn:custos:questionnaire:psfu-example", "answered",
                          "resp-2", 0, &moved, &f->err));
    assert_false(moved);
    FAILS(f, CU_ENOTFOUND, cu_pathway_discharge(f->v, &OPERATOR, f->on, "psfu-example",
                                                &stopped, &f->err));
    /* Enrolled again after the discharge. */
    enrol(f, &OPERATOR, f->on, "2029-01-01");
    int64_t rows = 0, bad = 0;
    OK(f, cu_integrity_verify(f->v, no_report, NULL, &rows, &bad, &f->err));
    assert_int_equal(bad, 0);
}

static void test_clinician_care_list(void **state)
{
    fx *f = *state;
    cu_enrolment_info e;
    FAILS(f, CU_EDENIED, cu_pathway_enrol(f->v, &f->alice, f->off, "psfu-example",
                                          "2028-01-31", "direct_care", &e, &f->err));
    enrol(f, &OPERATOR, f->off, "2028-01-31");
    enrol(f, &f->alice, f->on, "2028-01-31");
    due_seen s = due_on(f, &f->alice, "2028-03-01");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.subject[0], f->on);
    assert_int_equal(due_on(f, &OPERATOR, "2028-03-01").n, 2);
    int stopped;
    FAILS(f, CU_EDENIED, cu_pathway_discharge(f->v, &f->alice, f->off, "psfu-example",
                                              &stopped, &f->err));
    /* A purpose outside the policy, and a restriction, refuse. */
    FAILS(f, CU_EDENIED, cu_pathway_enrol(f->v, &OPERATOR, f->on, "psfu-example",
                                          "2028-01-31", "marketing", &e, &f->err));
    FAILS(f, CU_EINVAL, cu_pathway_enrol(f->v, &OPERATOR, f->on, "psfu-example",
                                         "2028-02-30", "direct_care", &e, &f->err));
    FAILS(f, CU_ENOTFOUND, cu_pathway_enrol(f->v, &OPERATOR, f->on, "no-such", "2028-01-31",
                                            "direct_care", &e, &f->err));
}

/* The policy governs an enrolment: an objection to its purpose, or a
 * restriction, refuses it; lifting them lets it through. */
static void test_objection_and_restriction(void **state)
{
    fx *f = *state;
    cu_actor dpo = OPERATOR;
    dpo.purpose = "subject_rights";
    cu_enrolment_info e;
    OK(f, cu_subject_object(f->v, &dpo, f->on, "direct_care", true, &f->err));
    FAILS(f, CU_EDENIED, cu_pathway_enrol(f->v, &OPERATOR, f->on, "psfu-example",
                                          "2028-01-31", "direct_care", &e, &f->err));
    assert_non_null(strstr(f->err.msg, "objection"));
    OK(f, cu_subject_object(f->v, &dpo, f->on, "direct_care", false, &f->err));
    OK(f, cu_subject_restrict(f->v, &dpo, f->on, true, &f->err));
    FAILS(f, CU_EDENIED, cu_pathway_enrol(f->v, &OPERATOR, f->on, "psfu-example",
                                          "2028-01-31", "direct_care", &e, &f->err));
    assert_non_null(strstr(f->err.msg, "restricted"));
    OK(f, cu_subject_restrict(f->v, &dpo, f->on, false, &f->err));
    enrol(f, &OPERATOR, f->on, "2028-01-31");
}

static void test_tamper(void **state)
{
    fx *f = *state;
    enrol(f, &OPERATOR, f->on, "2028-01-31");
    due_seen s = {0};
    raw_exec(f, "UPDATE pathway_occurrences SET due_date = '2099-01-01' WHERE n = 1");
    fake_now("2028-03-01");
    FAILS(f, CU_ETAMPER, cu_pathway_due(f->v, &OPERATOR, f->ctl, 0, see_due, &s, &f->err));
    assert_non_null(strstr(f->err.msg, "pathway_occurrences"));
    raw_exec(f, "UPDATE pathway_occurrences SET due_date = '2028-03-01' WHERE n = 1");
    assert_int_equal(due_on(f, &OPERATOR, "2028-03-01").n, 1);
    /* A deleted enrolment (with its occurrences) no longer matches the head. */
    raw_exec(f, "DELETE FROM pathway_occurrences; DELETE FROM enrolments");
    FAILS(f, CU_ETAMPER, cu_pathway_due(f->v, &OPERATOR, f->ctl, 0, see_due, &s, &f->err));
    assert_non_null(strstr(f->err.msg, "0 rows, 1 made"));
}

static void test_tamper_definition(void **state)
{
    fx *f = *state;
    raw_exec(f, "UPDATE pathways SET document = replace(document, '14', '99')");
    cu_enrolment_info e;
    FAILS(f, CU_ETAMPER, cu_pathway_enrol(f->v, &OPERATOR, f->on, "psfu-example",
                                          "2028-01-31", "direct_care", &e, &f->err));
}

/* A definition parsed once is kept by its hash and document; an edit of the
 * stored document after that is still refused, and the model handed out is
 * a copy the caller may free (the next load still works). */
static void test_cache_tamper(void **state)
{
    fx *f = *state;
    enrol(f, &OPERATOR, f->on, "2028-01-31");
    assert_int_equal(due_on(f, &OPERATOR, "2028-03-01").n, 1);
    assert_int_equal(due_on(f, &OPERATOR, "2028-03-01").n, 1); /* from the cache */
    due_seen s = {0};
    raw_exec(f, "UPDATE pathways SET document = replace(document, '\"window\":14', "
                "'\"window\":99')");
    FAILS(f, CU_ETAMPER, cu_pathway_due(f->v, &OPERATOR, f->ctl, 0, see_due, &s, &f->err));
    assert_non_null(strstr(f->err.msg, "pathways psfu-example|1 has been altered"));
    /* A changed document with its hash changed to match: the row code. */
    raw_exec(f, "UPDATE pathways SET document = replace(document, '\"window\":99', "
                "'\"window\":14')");
    assert_int_equal(due_on(f, &OPERATOR, "2028-03-01").n, 1);
    raw_exec(f, "UPDATE pathways SET hash = zeroblob(32)");
    FAILS(f, CU_ETAMPER, cu_pathway_due(f->v, &OPERATOR, f->ctl, 0, see_due, &s, &f->err));
}

int main(void)
{
    if (cu_crypto_init())
        return 1;
    cu_input_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_shipped),
        cmocka_unit_test(test_parse_every),
        cmocka_unit_test(test_parse_early),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_due_dates),
        cmocka_unit_test_setup_teardown(test_enrol_due_overdue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missed_without_listing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erased_discharges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discharge_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clinician_care_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objection_and_restriction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_definition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_tamper, setup, teardown),
    };
    return cmocka_run_group_tests_name("pathway", tests, NULL, NULL);
}
