/*
 * test_tasks.c — the clinical task list: raised for a subject, seen by the
 * clinicians who have the subject on their care list (urgent first), moved
 * open -> acknowledged -> done by a person, with who and when; refused and
 * audited for a clinician off the list; a second close is a conflict; an
 * insider's edit or deletion of a task in the database is detected; the
 * detail is sealed; the record page's read lists its patient's tasks in one
 * operation.
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
#include "domain/op_impl.h"
#include "domain/staff.h"
#include "domain/subject.h"
#include "domain/tasks.h"
#include "store/store.h"

typedef struct fx {
    char root[64], store[PATH_MAX], db[PATH_MAX + 16];
    cu_vault *v;
    cu_err err;
    char ctl[CU_ID_STRLEN], ctl2[CU_ID_STRLEN];
    char on[CU_ID_STRLEN], off[CU_ID_STRLEN]; /* subjects on and off Alice's list */
    char alice_id[CU_ID_STRLEN], bob_id[CU_ID_STRLEN], carol_id[CU_ID_STRLEN];
    cu_actor alice, bob, carol; /* bob: also has `on` on his list; carol: another controller */
} fx;

static const char PW[] = "correct horse battery staple";

static void add_subject(fx *f, const char *ctl, const char *nhs, char id[CU_ID_STRLEN])
{
    char doc[128];
    snprintf(doc, sizeof doc, "{\"name\": \"Test Person\", \"nhs_number\": \"%s\"}", nhs);
    cu_doc d;
    OK(f, cu_doc_parse(doc, strlen(doc), CU_DOC_SUBJECT, &d, &f->err));
    cu_actor care = OPERATOR;
    care.purpose = "direct_care";
    OK(f, cu_subject_add(f->v, &care, ctl, "patient", &d, id, &f->err));
    cu_doc_release(&d);
}

static cu_actor clinician(fx *f, const char *ctl, const char *name, char id[CU_ID_STRLEN])
{
    char b32[CU_TOTP_B32_LEN];
    OK(f, cu_user_add(f->v, &OPERATOR, ctl, name, "clinician", PW, strlen(PW), false, id, b32,
                      &f->err));
    return (cu_actor){.name = name, .role = "clinician", .purpose = "direct_care",
                      .via = "unit test", .controller_id = ctl, .user_id = id};
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f || VAULT_FIXTURE_OPEN(f, "tasks")) {
        free(f);
        return -1;
    }
    *state = f;
    OK(f, cu_controller_add(f->v, &OPERATOR, "Other Trust", f->ctl2, &f->err));
    add_subject(f, f->ctl, "943 476 5919", f->on);
    add_subject(f, f->ctl, "401 023 2137", f->off);
    f->alice = clinician(f, f->ctl, "alice", f->alice_id);
    f->bob = clinician(f, f->ctl, "bob", f->bob_id);
    f->carol = clinician(f, f->ctl2, "carol", f->carol_id);
    OK(f, cu_care_set(f->v, &OPERATOR, "alice", f->on, true, &f->err));
    OK(f, cu_care_set(f->v, &OPERATOR, "bob", f->on, true, &f->err));
    OK(f, cu_care_set(f->v, &OPERATOR, "bob", f->off, true, &f->err));
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

static int64_t events_of(fx *f, const char *actor)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_events WHERE actor = '%s'", actor);
    return raw_int(f, sql);
}

static void raise_task(fx *f, const char *subject, const char *reason, const char *owner,
                  char id[CU_ID_STRLEN])
{
    cu_task_raise_in in = {.subject_id = subject, .reason = reason, .source = "resp-0001",
                           .owner_username = owner};
    OK(f, cu_task_raise(f->v, &OPERATOR, &in, id, &f->err));
}

#define MAX_SEEN 16
typedef struct seen {
    size_t n;
    char id[MAX_SEEN][CU_ID_STRLEN];
    char kind[MAX_SEEN][16];
    char state[MAX_SEEN][16];
} seen;

static int collect(void *ctx, const cu_task_view *t)
{
    seen *s = ctx;
    if (s->n == MAX_SEEN)
        return CU_ENOMEM;
    assert_non_null(t->reason);
    assert_string_equal(t->reason->code, t->rec->reason);
    memcpy(s->id[s->n], t->rec->id, CU_ID_STRLEN);
    cu_strlcpy(s->kind[s->n], t->rec->kind, sizeof s->kind[0]);
    cu_strlcpy(s->state[s->n], t->rec->state, sizeof s->state[0]);
    s->n++;
    return CU_OK;
}

static seen list(fx *f, const cu_actor *a, const char *state)
{
    seen s = {0};
    OK(f, cu_task_list(f->v, a, f->ctl, state, collect, &s, &f->err));
    return s;
}

/* Alice sees the urgent task of her patient and not the one of a patient off
 * her list; Bob, with both on his list, sees both, urgent first although it
 * was raised last. Each listing is one audit event. */
static void test_visibility_and_order(void **state)
{
    fx *f = *state;
    char review[CU_ID_STRLEN], urgent[CU_ID_STRLEN], other[CU_ID_STRLEN];
    raise_task(f, f->on, "psfu_out_of_range", NULL, review);
    raise_task(f, f->off, "phq9_item9", NULL, other);
    raise_task(f, f->on, "phq9_item9", NULL, urgent);
    int64_t before = events_of(f, "alice");
    seen a = list(f, &f->alice, NULL);
    assert_int_equal(events_of(f, "alice"), before + 1);
    assert_int_equal(a.n, 2);
    assert_string_equal(a.id[0], urgent);
    assert_string_equal(a.kind[0], "urgent");
    assert_string_equal(a.id[1], review);
    for (size_t i = 0; i < a.n; i++)
        assert_string_not_equal(a.id[i], other);
    seen b = list(f, &f->bob, NULL);
    assert_int_equal(b.n, 3);
    assert_string_equal(b.kind[0], "urgent");
    assert_string_equal(b.kind[1], "urgent");
    assert_string_equal(b.id[0], other); /* oldest urgent first */
    assert_string_equal(b.id[2], review);
    /* Another controller's clinician sees none of them. */
    seen c = {0};
    OK(f, cu_task_list(f->v, &f->carol, f->ctl, NULL, collect, &c, &f->err));
    assert_int_equal(c.n, 0);
    /* The operator sees every task of the controller it names. */
    seen o = {0};
    OK(f, cu_task_list(f->v, &OPERATOR, f->ctl, "open", collect, &o, &f->err));
    assert_int_equal(o.n, 3);
    FAILS(f, CU_EINVAL, cu_task_list(f->v, &OPERATOR, f->ctl, "closed", collect, &o, &f->err));
}

/* open -> acknowledged -> done, who and when recorded; a second close and a
 * late acknowledgement are conflicts that write nothing. */
static void test_ack_done_conflict(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    raise_task(f, f->on, "phq9_item9", NULL, id);
    cu_task_rec r;
    OK(f, cu_task_ack(f->v, &f->alice, id, &r, &f->err));
    assert_string_equal(r.state, "acknowledged");
    assert_string_equal(r.acked_by, "alice");
    assert_true(r.acked_at > 0);
    FAILS(f, CU_ECONFLICT, cu_task_ack(f->v, &f->bob, id, &r, &f->err));
    OK(f, cu_task_done(f->v, &f->bob, id, &r, &f->err));
    assert_string_equal(r.state, "done");
    assert_string_equal(r.acked_by, "alice");
    assert_string_equal(r.done_by, "bob");
    assert_true(r.done_at >= r.acked_at);
    int64_t before = events_of(f, "alice");
    FAILS(f, CU_ECONFLICT, cu_task_done(f->v, &f->alice, id, &r, &f->err));
    FAILS(f, CU_ECONFLICT, cu_task_ack(f->v, &f->alice, id, &r, &f->err));
    assert_int_equal(events_of(f, "alice"), before);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tasks WHERE id = '%s' AND done_by = 'bob' "
                              "AND acked_by = 'alice' AND state = 'done'", id);
    assert_int_equal(raw_int(f, sql), 1);
    /* The open list no longer has it; the done list has. */
    assert_int_equal(list(f, &f->alice, "open").n, 0);
    assert_int_equal(list(f, &f->alice, "done").n, 1);
    FAILS(f, CU_ENOTFOUND,
          cu_task_done(f->v, &f->alice, "00000000-0000-4000-8000-000000000000", &r, &f->err));
    FAILS(f, CU_EINVAL, cu_task_done(f->v, &f->alice, "x'; DROP TABLE tasks", &r, &f->err));
}

/* A clinician without the subject on their list is refused and the refusal is
 * audited; another controller's clinician is told the task's subject does
 * not exist. Nothing changes. */
static void test_off_list_refused_and_audited(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    raise_task(f, f->off, "phq9_item9", NULL, id);
    cu_task_rec r;
    int64_t before = events_of(f, "alice");
    FAILS(f, CU_EDENIED, cu_task_ack(f->v, &f->alice, id, &r, &f->err));
    CHECK(strstr(f->err.msg, "not-on-care-list"), "message: %s", f->err.msg);
    assert_int_equal(events_of(f, "alice"), before + 1);
    FAILS(f, CU_EDENIED, cu_task_done(f->v, &f->alice, id, &r, &f->err));
    assert_int_equal(events_of(f, "alice"), before + 2);
    FAILS(f, CU_ECONCEALED, cu_task_done(f->v, &f->carol, id, &r, &f->err));
    assert_int_equal(raw_int(f, "SELECT count(*) FROM tasks WHERE state = 'open'"), 1);
    /* A care admin may not list tasks at all. */
    cu_actor desk = {.name = "desk", .role = "care_admin", .purpose = "administration",
                     .controller_id = f->ctl, .user_id = f->bob_id};
    seen s = {0};
    FAILS(f, CU_EDENIED, cu_task_list(f->v, &desk, f->ctl, NULL, collect, &s, &f->err));
    assert_int_equal(s.n, 0);
}

/* A task for one named clinician: only they see and move it. */
static void test_named_owner(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    raise_task(f, f->on, "phq9_item9", "alice", id);
    assert_int_equal(list(f, &f->alice, NULL).n, 1);
    assert_int_equal(list(f, &f->bob, NULL).n, 0);
    cu_task_rec r;
    FAILS(f, CU_EDENIED, cu_task_ack(f->v, &f->bob, id, &r, &f->err));
    CHECK(strstr(f->err.msg, "not-task-owner"), "message: %s", f->err.msg);
    OK(f, cu_task_ack(f->v, &f->alice, id, &r, &f->err));
    /* An owner who could never see it is refused when the task is raised. */
    cu_task_raise_in in = {.subject_id = f->off, .reason = "phq9_item9", .source = "r2",
                           .owner_username = "alice"};
    FAILS(f, CU_EINVAL, cu_task_raise(f->v, &OPERATOR, &in, id, &f->err));
    in.owner_username = "carol";
    FAILS(f, CU_EINVAL, cu_task_raise(f->v, &OPERATOR, &in, id, &f->err));
    in.owner_username = "nobody";
    FAILS(f, CU_EINVAL, cu_task_raise(f->v, &OPERATOR, &in, id, &f->err));
    assert_int_equal(raw_int(f, "SELECT count(*) FROM tasks"), 1);
}

/* Bad input is refused with a one-line message and writes nothing. */
static void test_bad_input(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    static const char ctl_detail[] = "line\nbreak";
    char big[CU_TASK_MAX_DETAIL + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    const cu_task_raise_in bad[] = {
        {.subject_id = f->on, .reason = "suicide", .source = "r"},
        {.subject_id = f->on, .reason = NULL, .source = "r"},
        {.subject_id = f->on, .reason = "phq9_item9", .source = ""},
        {.subject_id = f->on, .reason = "phq9_item9", .source = NULL},
        {.subject_id = f->on, .reason = "phq9_item9", .source = "has space"},
        {.subject_id = f->on, .reason = "phq9_item9", .source = "r", .detail = ctl_detail},
        {.subject_id = f->on, .reason = "phq9_item9", .source = "r", .detail = big},
        {.subject_id = f->on, .reason = "phq9_item9", .source = "r", .detail = ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        FAILS(f, CU_EINVAL, cu_task_raise(f->v, &OPERATOR, &bad[i], id, &f->err));
    cu_task_raise_in missing = {.subject_id = "00000000-0000-4000-8000-000000000000",
                                .reason = "phq9_item9", .source = "r"};
    FAILS(f, CU_ENOTFOUND, cu_task_raise(f->v, &OPERATOR, &missing, id, &f->err));
    assert_int_equal(raw_int(f, "SELECT count(*) FROM tasks"), 0);
    /* A clinician off the list may not raise one either. */
    cu_task_raise_in off = {.subject_id = f->off, .reason = "phq9_item9", .source = "r"};
    FAILS(f, CU_EDENIED, cu_task_raise(f->v, &f->alice, &off, id, &f->err));
}

/* The detail is sealed: its words are not in the database. */
static void test_detail_sealed(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    cu_task_raise_in in = {.subject_id = f->on, .reason = "phq9_item9", .source = "resp-7",
                           .detail = "answered nearly every day"};
    OK(f, cu_task_raise(f->v, &OPERATOR, &in, id, &f->err));
    assert_int_equal(raw_int(f, "SELECT count(*) FROM tasks WHERE detail IS NOT NULL"), 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM tasks WHERE instr(detail, "
                                "CAST('nearly every day' AS BLOB)) > 0"),
                     0);
    /* The sealed detail is covered by the row's code: swapping it is seen. */
    raw_exec(f, "UPDATE tasks SET detail = x'00'");
    cu_task_rec r;
    FAILS(f, CU_ETAMPER, cu_task_ack(f->v, &f->alice, id, &r, &f->err));
}

/* An insider marks an urgent task done in the database: the listing and every
 * change refuse (CU_ETAMPER naming the task), so it cannot silently drop off
 * the open list. */
static void test_state_edit_detected(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    raise_task(f, f->on, "phq9_item9", NULL, id);
    raw_exec(f, "UPDATE tasks SET state = 'done', done_by = 'alice', done_at = 1");
    seen s = {0};
    FAILS(f, CU_ETAMPER, cu_task_list(f->v, &f->alice, f->ctl, "open", collect, &s, &f->err));
    CHECK(strstr(f->err.msg, id), "message names the task: %s", f->err.msg);
    cu_task_rec r;
    FAILS(f, CU_ETAMPER, cu_task_ack(f->v, &f->alice, id, &r, &f->err));
    /* Put back, it is accepted again. */
    raw_exec(f, "UPDATE tasks SET state = 'open', done_by = '', done_at = 0");
    assert_int_equal(list(f, &f->alice, "open").n, 1);
}

/* The record page's read: the subject and its own tasks in one operation and
 * one event; every row of the controller is still checked (an edit to
 * another patient's task refuses the read); a role that may not list tasks
 * gets the record and no task, for the caller to list them on its own. */
static void test_record_read(void **state)
{
    fx *f = *state;
    char t_on[CU_ID_STRLEN], t_off[CU_ID_STRLEN];
    raise_task(f, f->on, "phq9_item9", NULL, t_on);
    raise_task(f, f->off, "score_review", NULL, t_off);
    int64_t before = events_of(f, "bob");
    cu_subject_view sv;
    seen s = {0};
    bool read = false;
    OK(f, cu_subject_get_record(f->v, &f->bob, f->on, CU_ITEMS_PAGE_MAX, true, &sv, collect, &s,
                                &read, &f->err));
    cu_subject_view_release(&sv);
    assert_true(read);
    assert_int_equal(s.n, 1); /* bob has both on his list: only this patient's */
    assert_string_equal(s.id[0], t_on);
    assert_int_equal(events_of(f, "bob"), before + 1);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_events WHERE actor = 'bob' AND "
             "subject_id = '%s'", f->on);
    assert_int_equal(raw_int(f, sql), 1);

    /* an insider closes the other patient's task: this record's read refuses */
    raw_exec(f, "UPDATE tasks SET state = 'done', done_by = 'bob', done_at = 1 "
                "WHERE subject_id <> (SELECT subject_id FROM tasks ORDER BY created_at LIMIT 1)");
    s = (seen){0};
    FAILS(f, CU_ETAMPER, cu_subject_get_record(f->v, &f->bob, f->on, CU_ITEMS_PAGE_MAX, true, &sv,
                                               collect, &s, &read, &f->err));
    assert_null(sv.items);
    raw_exec(f, "UPDATE tasks SET state = 'open', done_by = '', done_at = 0");

    /* the DPO may read the record but not list tasks: none read, none noted */
    char dpo_id[CU_ID_STRLEN], b32[CU_TOTP_B32_LEN];
    OK(f, cu_user_add(f->v, &OPERATOR, f->ctl, "dee", "dpo", PW, strlen(PW), false, dpo_id, b32,
                      &f->err));
    cu_actor dee = {.name = "dee", .role = "dpo", .purpose = "direct_care", .via = "unit test",
                    .controller_id = f->ctl, .user_id = dpo_id};
    s = (seen){0};
    read = true;
    OK(f, cu_subject_get_record(f->v, &dee, f->on, CU_ITEMS_PAGE_MAX, true, &sv, collect, &s,
                                &read, &f->err));
    cu_subject_view_release(&sv);
    assert_false(read);
    assert_int_equal(s.n, 0);

    /* another controller's clinician: the read itself is refused */
    read = true;
    int rc = cu_subject_get_record(f->v, &f->carol, f->on, CU_ITEMS_PAGE_MAX, true, &sv, collect,
                                   &s, &read, &f->err);
    assert_true(rc == CU_EDENIED || rc == CU_ECONCEALED || rc == CU_ENOTFOUND);
    assert_false(read);
    assert_int_equal(s.n, 0);
}

/* An insider deletes an urgent task (or adds one): the controller's head no
 * longer matches its rows, and the listing and every raise refuse. */
static void test_deletion_detected(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN];
    raise_task(f, f->on, "phq9_item9", NULL, a);
    raise_task(f, f->on, "psfu_out_of_range", NULL, b);
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM tasks WHERE id = '%s'", a);
    raw_exec(f, sql);
    seen s = {0};
    FAILS(f, CU_ETAMPER, cu_task_list(f->v, &f->alice, f->ctl, NULL, collect, &s, &f->err));
    CHECK(strstr(f->err.msg, f->ctl) && strstr(f->err.msg, "1 rows, 2 raised"), "message: %s",
          f->err.msg);
    cu_task_raise_in in = {.subject_id = f->on, .reason = "phq9_item9", .source = "r3"};
    FAILS(f, CU_ETAMPER, cu_task_raise(f->v, &OPERATOR, &in, a, &f->err));
    cu_task_rec r;
    FAILS(f, CU_ETAMPER, cu_task_ack(f->v, &f->alice, b, &r, &f->err));
    /* Rolling the head back with the row is seen too: the head is keyed. */
    raw_exec(f, "UPDATE meta SET value = x'0000000000000001' || substr(value, 9) "
                "WHERE key LIKE 'tasks_head/%'");
    FAILS(f, CU_ETAMPER, cu_task_list(f->v, &f->alice, f->ctl, NULL, collect, &s, &f->err));
    CHECK(strstr(f->err.msg, "meta tasks_head/"), "message: %s", f->err.msg);
}

/* What an operation notes for its one event: only once authorised, only
 * registered actions and well-formed ids, one kind of action, and never
 * past its room (every task a submission may raise fits). */
static void test_op_note(void **state)
{
    (void)state;
    cu_err err = {0};
    cu_op op;
    memset(&op, 0, sizeof op);
    static const char *id = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    assert_int_equal(cu_op_note(&op, "task.raise", id, &err), CU_EINTERNAL);
    assert_string_equal(op.detail, "");
    op.authorised = true;
    assert_int_equal(cu_op_note(&op, "no.such.action", id, &err), CU_EINTERNAL);
    assert_int_equal(cu_op_note(&op, "task.raise", "not an id", &err), CU_EINTERNAL);
    assert_int_equal(cu_op_note(&op, "task.raise", "a b", &err), CU_EINTERNAL);
    assert_string_equal(op.detail, "");
    assert_int_equal(cu_op_note(&op, "task.raise", id, &err), CU_OK);
    assert_string_equal(op.detail, "task.raise aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
    assert_int_equal(cu_op_note(&op, "task.list", id, &err), CU_EINTERNAL);
    assert_int_equal(cu_op_note(&op, "task", id, &err), CU_EINTERNAL);
    int n = 1;
    while (cu_op_note(&op, "task.raise", id, &err) == CU_OK)
        n++;
    assert_true(n >= 16); /* 16: the most flags (tasks) one response has */
    assert_int_equal(strlen(op.detail), strlen("task.raise") + (size_t)n * 37);
    assert_true(strlen(op.detail) < sizeof op.detail);
}

static void test_reason_table(void **state)
{
    (void)state;
    size_t n = 0;
    for (const cu_task_reason *r; (r = cu_task_reason_at(n)); n++) {
        assert_ptr_equal(cu_task_reason_find(r->code), r);
        assert_true(strcmp(r->kind, "urgent") == 0 || strcmp(r->kind, "review") == 0);
        assert_true(strlen(r->code) < sizeof((cu_task_rec){0}.reason));
        assert_true(r->wording[0]);
    }
    assert_int_equal(n, 4);
    assert_string_equal(cu_task_reason_find("phq9_item9")->kind, "urgent");
    assert_string_equal(cu_task_reason_find("psfu_out_of_range")->kind, "review");
    assert_string_equal(cu_task_reason_find("answer_urgent")->kind, "urgent");
    assert_string_equal(cu_task_reason_find("score_review")->kind, "review");
    assert_null(cu_task_reason_find("PHQ9_ITEM9"));
}

/* The rows are counted once per write transaction, not once per task: many
 * raised in one batch are all counted in the head, and a task deleted
 * between two transactions is still seen by the next raise, in or out of a
 * batch. */
static void test_deletion_seen_across_batches(void **state)
{
    fx *f = *state;
    char ids[5][CU_ID_STRLEN];
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    for (int i = 0; i < 5; i++)
        raise_task(f, f->on, "phq9_item9", NULL, ids[i]);
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    seen s = {0};
    OK(f, cu_task_list(f->v, &f->alice, f->ctl, NULL, collect, &s, &f->err));
    assert_int_equal(s.n, 5);
    /* the next batch counts again, and sees the rows as the head says */
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    char more[CU_ID_STRLEN];
    raise_task(f, f->on, "score_review", NULL, more);
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM tasks WHERE id = '%s'", ids[2]);
    raw_exec(f, sql);
    cu_task_raise_in in = {.subject_id = f->on, .reason = "phq9_item9", .source = "r9"};
    char id[CU_ID_STRLEN];
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    FAILS(f, CU_ETAMPER, cu_task_raise(f->v, &OPERATOR, &in, id, &f->err));
    CHECK(strstr(f->err.msg, "5 rows, 6 raised"), "message: %s", f->err.msg);
    /* and the one after it in the same batch too */
    FAILS(f, CU_ETAMPER, cu_task_raise(f->v, &OPERATOR, &in, id, &f->err));
    cu_vault_batch_abort(f->v);
    FAILS(f, CU_ETAMPER, cu_task_raise(f->v, &OPERATOR, &in, id, &f->err));
}

/* The rows counted in one batch are trusted in the next one only while no
 * other connection has committed: a row deleted, or one copied in, between
 * two batches that follow each other directly is still refused by the next
 * raise; with nothing in between, the next batches raise as usual. */
static void test_count_carried_between_batches(void **state)
{
    fx *f = *state;
    char a[CU_ID_STRLEN], b[CU_ID_STRLEN], c[CU_ID_STRLEN];
    for (int i = 0; i < 3; i++) {
        OK(f, cu_vault_batch_begin(f->v, &f->err));
        raise_task(f, f->on, "phq9_item9", NULL, i == 0 ? a : i == 1 ? b : c);
        OK(f, cu_vault_batch_commit(f->v, &f->err));
    }
    /* a copy of a row under another id, between two batches */
    raw_exec(f, "INSERT INTO tasks SELECT NULL, '00000000-0000-4000-8000-00000000000a', "
                "controller_id, subject_id, kind, reason, detail, source, owner_user_id, "
                "state, created_at, acked_by, acked_at, done_by, done_at, mac FROM tasks "
                "LIMIT 1");
    cu_task_raise_in in = {.subject_id = f->on, .reason = "phq9_item9", .source = "r9"};
    char id[CU_ID_STRLEN];
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    FAILS(f, CU_ETAMPER, cu_task_raise(f->v, &OPERATOR, &in, id, &f->err));
    cu_vault_batch_abort(f->v);
    raw_exec(f, "DELETE FROM tasks WHERE id = '00000000-0000-4000-8000-00000000000a'");
    /* counted again, agrees, and carried on */
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    raise_task(f, f->on, "score_review", NULL, id);
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM tasks WHERE id = '%s'", b);
    raw_exec(f, sql);
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    FAILS(f, CU_ETAMPER, cu_task_raise(f->v, &OPERATOR, &in, id, &f->err));
    CHECK(strstr(f->err.msg, "3 rows, 4 raised"), "message: %s", f->err.msg);
    cu_vault_batch_abort(f->v);
}

/* A raise refused inside a batch leaves the head and the rows as they were:
 * the later raises of the batch still count right, and what is committed
 * agrees with the head. */
static void test_raise_undone_in_batch(void **state)
{
    fx *f = *state;
    char id[CU_ID_STRLEN];
    OK(f, cu_vault_batch_begin(f->v, &f->err));
    raise_task(f, f->on, "phq9_item9", NULL, id);
    /* refused (no such owner): nothing of it stays */
    cu_task_raise_in bad = {.subject_id = f->on, .reason = "phq9_item9", .source = "r2",
                            .owner_username = "nobody"};
    assert_int_not_equal(cu_task_raise(f->v, &OPERATOR, &bad, id, &f->err), CU_OK);
    raise_task(f, f->on, "score_review", NULL, id);
    OK(f, cu_vault_batch_commit(f->v, &f->err));
    seen s = {0};
    OK(f, cu_task_list(f->v, &f->alice, f->ctl, NULL, collect, &s, &f->err));
    assert_int_equal(s.n, 2);
    raise_task(f, f->on, "score_review", NULL, id);
}

int main(void)
{
    if (cu_crypto_init())
        return 1;
    cu_input_init();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_record_read), T(test_visibility_and_order), T(test_ack_done_conflict),
        T(test_off_list_refused_and_audited), T(test_named_owner), T(test_bad_input),
        T(test_detail_sealed), T(test_state_edit_detected), T(test_deletion_detected),
        T(test_deletion_seen_across_batches), T(test_raise_undone_in_batch),
        T(test_count_carried_between_batches),
        cmocka_unit_test(test_reason_table), cmocka_unit_test(test_op_note),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
