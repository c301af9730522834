/* `custos tasks ...`: the clinical task list (domain/tasks.h; docs/cli.md,
 * docs/outcomes.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "domain/pathway.h"
#include "domain/tasks.h"
#include "util/clock.h"

#ifdef CUSTOS_TEST_CLOCK
#define TASKS_RAISE_HELP                                                                    \
    "  raise --subject ID --reason R --source S [--owner USER] [--detail TEXT]\n"            \
    "                          raise a task (test builds only; reasons: phq9_item9,\n"       \
    "                          psfu_out_of_range, answer_urgent, score_review)\n"
#else
#define TASKS_RAISE_HELP ""
#endif

static const char tasks_help[] =
    "usage: custos tasks COMMAND ...\n"
    "\n"
    "The clinical task list: what a questionnaire answer raises for the patient's\n"
    "care team (docs/outcomes.md).\n"
    "\n"
    "  list --controller ID [--state open|acknowledged|done]\n"
    "                          the controller's tasks, urgent first, then oldest\n"
    "  ack ID                  acknowledge an open task\n"
    "  done ID                 close an open or acknowledged task\n"
    "  due --controller ID     what is due today: follow-up questionnaires missed\n"
    "                          (window ended, not answered), overdue (due date\n"
    "                          passed, not sent), due (due today, not sent), held\n"
    "                          (paused by a restriction or an objection, with why),\n"
    "                          then tasks not done (flagged)\n"
    TASKS_RAISE_HELP
    "\n"
    "Who acknowledged or closed a task, and when, is recorded from the login.\n"
    "Each command is one audit event.\n";

typedef struct tk_opts {
    const char *controller, *state, *subject, *reason, *source, *owner, *detail;
} tk_opts;

enum { O_CONTROLLER = 0x200, O_STATE, O_SUBJECT, O_REASON, O_SOURCE, O_OWNER, O_DETAIL };

static const struct option tk_options[] = {
    CLI_COMMON_OPTIONS,
    {"controller", required_argument, NULL, O_CONTROLLER},
    {"state", required_argument, NULL, O_STATE},
#ifdef CUSTOS_TEST_CLOCK
    {"subject", required_argument, NULL, O_SUBJECT},
    {"reason", required_argument, NULL, O_REASON},
    {"source", required_argument, NULL, O_SOURCE},
    {"owner", required_argument, NULL, O_OWNER},
    {"detail", required_argument, NULL, O_DETAIL},
#endif
    {0, 0, 0, 0},
};

static int tk_opt(void *ctx, int opt, const char *arg)
{
    tk_opts *o = ctx;
    switch (opt) {
    case O_CONTROLLER: o->controller = arg; return 0;
    case O_STATE: o->state = arg; return 0;
    case O_SUBJECT: o->subject = arg; return 0;
    case O_REASON: o->reason = arg; return 0;
    case O_SOURCE: o->source = arg; return 0;
    case O_OWNER: o->owner = arg; return 0;
    case O_DETAIL: o->detail = arg; return 0;
    default: return cli_usage("unexpected option");
    }
}

static int parse(cli *c, int argc, char **argv, tk_opts *o, int nargs, const char **arg)
{
    memset(o, 0, sizeof *o);
    int rc = cli_parse(c, argc, argv, tk_options, tasks_help, tk_opt, o);
    if (rc)
        return rc;
    if (argc - optind != nargs)
        return cli_usage("tasks %s needs %s", argv[0], nargs ? "one task id" : "no operands");
    if (nargs)
        *arg = argv[optind];
    return 0;
}

static json_t *task_json(const cu_task_rec *r, const cu_task_reason *reason)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I}", "id", r->id,
                          "subject", r->subject_id, "kind", r->kind, "reason", r->reason,
                          "reason_text", reason ? reason->wording : "", "source", r->source,
                          "state", r->state, "has_detail", r->detail != NULL,
                          "created_at", (json_int_t)(r->created_at / 1000000));
    if (!j)
        return NULL;
    json_object_set_new(j, "owner", r->owner_user_id[0] ? json_string(r->owner_user_id)
                                                        : json_string("care_team"));
    if (r->acked_at)
        json_object_set_new(j, "acknowledged", json_pack("{s:s, s:I}", "by", r->acked_by,
                                                         "at", (json_int_t)(r->acked_at / 1000000)));
    if (r->done_at)
        json_object_set_new(j, "done", json_pack("{s:s, s:I}", "by", r->done_by, "at",
                                                 (json_int_t)(r->done_at / 1000000)));
    return j;
}

static void when(int64_t us, char out[32])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(out, 32, "?");
}

static void task_text(const cu_task_rec *r, const cu_task_reason *reason)
{
    char at[32];
    when(r->created_at, at);
    printf("%s  %-6s  %-12s  subject %s  raised %s\n  %s (%s), from %s, for %s\n", r->id,
           r->kind, r->state, r->subject_id, at, reason ? reason->wording : "", r->reason,
           r->source, r->owner_user_id[0] ? r->owner_user_id : "the care team");
    if (r->acked_at) {
        when(r->acked_at, at);
        printf("  acknowledged by %s at %s\n", r->acked_by, at);
    }
    if (r->done_at) {
        when(r->done_at, at);
        printf("  done by %s at %s\n", r->done_by, at);
    }
}

typedef struct list_out {
    cli *c;
    json_t *arr;
    size_t n;
} list_out;

static int print_task(void *ctx, const cu_task_view *t)
{
    list_out *l = ctx;
    l->n++;
    if (l->c->json)
        return json_array_append_new(l->arr, task_json(t->rec, t->reason)) ? CU_ENOMEM : CU_OK;
    task_text(t->rec, t->reason);
    return CU_OK;
}

static int tk_list(cli *c, int argc, char **argv)
{
    tk_opts o;
    int rc = parse(c, argc, argv, &o, 0, NULL);
    if (rc)
        return rc;
    if (!o.controller)
        return cli_usage("tasks list needs --controller ID");
    cu_err err = {0};
    list_out l = {.c = c, .arr = json_array()};
    rc = cli_open(c, "tasks list", &err);
    if (!rc)
        rc = cu_task_list(c->vault, &c->actor, o.controller, o.state, print_task, &l, &err);
    if (rc) {
        json_decref(l.arr);
        return cli_fail(c, &err);
    }
    if (c->json)
        cli_print_json(json_pack("{s:o}", "tasks", l.arr));
    else {
        json_decref(l.arr);
        if (!l.n)
            printf("no tasks\n");
    }
    return EXIT_DONE;
}

static int move(cli *c, int argc, char **argv, bool done)
{
    tk_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, &o, 1, &id);
    if (rc)
        return rc;
    cu_err err = {0};
    cu_task_rec r;
    rc = cli_open(c, done ? "tasks done" : "tasks ack", &err);
    if (!rc)
        rc = done ? cu_task_done(c->vault, &c->actor, id, &r, &err)
                  : cu_task_ack(c->vault, &c->actor, id, &r, &err);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(task_json(&r, cu_task_reason_find(r.reason)));
    else
        task_text(&r, cu_task_reason_find(r.reason));
    return EXIT_DONE;
}

static int print_due(void *ctx, const cu_due_item *d)
{
    list_out *l = ctx;
    l->n++;
    if (l->c->json) {
        json_t *j;
        if (d->task_id)
            j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "kind", d->kind, "subject",
                          d->subject_id, "task", d->task_id, "task_kind", d->task_kind,
                          "reason", d->task_reason, "state", d->task_state, "created_at",
                          (json_int_t)(d->task_created_at / 1000000));
        else
            j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "kind",
                          d->kind, "subject", d->subject_id, "enrolment", d->enrolment_id,
                          "pathway", d->pathway_id, "version", d->pathway_version,
                          "questionnaire", d->questionnaire_url, "n", d->n, "due", d->due_date,
                          "window_ends", d->window_ends, "state", d->state);
        /* A held occurrence says why nothing may be sent. */
        if (j && d->held &&
            (json_object_set_new(j, "held", json_string(d->held)) ||
             json_object_set_new(j, "held_reason", json_string(d->held_reason)))) {
            json_decref(j);
            j = NULL;
        }
        return json_array_append_new(l->arr, j) ? CU_ENOMEM : CU_OK;
    }
    if (d->task_id)
        printf("%-8s subject %s  task %s  %s %s (%s)\n", d->kind, d->subject_id, d->task_id,
               d->task_kind, d->task_reason, d->task_state);
    else
        printf("%-8s subject %s  pathway %s #%d  due %s  window ends %s  (%s)\n", d->kind,
               d->subject_id, d->pathway_id, d->n, d->due_date, d->window_ends, d->state);
    if (d->held)
        printf("         held (%s): %s\n", d->held, d->held_reason);
    return CU_OK;
}

static int tk_due(cli *c, int argc, char **argv)
{
    tk_opts o;
    int rc = parse(c, argc, argv, &o, 0, NULL);
    if (rc)
        return rc;
    if (o.state)
        return cli_usage("tasks due takes no --state");
    if (!o.controller)
        return cli_usage("tasks due needs --controller ID");
    cu_err err = {0};
    list_out l = {.c = c, .arr = json_array()};
    rc = cli_open(c, "tasks due", &err);
    if (!rc)
        rc = cu_pathway_due(c->vault, &c->actor, o.controller, 0, print_due, &l, &err);
    if (rc) {
        json_decref(l.arr);
        return cli_fail(c, &err);
    }
    if (c->json)
        cli_print_json(json_pack("{s:o}", "due", l.arr));
    else {
        json_decref(l.arr);
        if (!l.n)
            printf("nothing due\n");
    }
    return EXIT_DONE;
}

static int tk_ack(cli *c, int argc, char **argv) { return move(c, argc, argv, false); }
static int tk_done(cli *c, int argc, char **argv) { return move(c, argc, argv, true); }

#ifdef CUSTOS_TEST_CLOCK
static int tk_raise(cli *c, int argc, char **argv)
{
    tk_opts o;
    int rc = parse(c, argc, argv, &o, 0, NULL);
    if (rc)
        return rc;
    if (!o.subject || !o.reason || !o.source)
        return cli_usage("tasks raise needs --subject, --reason and --source");
    cu_err err = {0};
    char id[CU_ID_STRLEN];
    rc = cli_open(c, "tasks raise", &err);
    if (!rc) {
        cu_task_raise_in in = {.subject_id = o.subject, .reason = o.reason, .source = o.source,
                               .owner_username = o.owner, .detail = o.detail};
        rc = cu_task_raise(c->vault, &c->actor, &in, id, &err);
    }
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s}", "id", id, "state", "open"));
    else
        printf("%s\n", id);
    return EXIT_DONE;
}
#endif

int cmd_tasks(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"list", tk_list}, {"ack", tk_ack}, {"done", tk_done}, {"due", tk_due},
#ifdef CUSTOS_TEST_CLOCK
        {"raise", tk_raise},
#endif
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], tasks_help);
}
