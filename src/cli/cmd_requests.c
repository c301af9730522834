/* `custos requests ...`: data-subject rights requests and their statutory
 * clocks (domain/requests.h; docs/cli.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/requests.h"
#include "iface/render.h"

static const char requests_help[] =
    "usage: custos requests COMMAND ...\n"
    "\n"
    "Data-subject rights requests and their statutory clocks (one calendar month,\n"
    "ICO rules; docs/design.md \"Rights requests\").\n"
    "\n"
    "  receive --controller ID --kind K --channel C --received-on DATE\n"
    "          (--details TEXT | --details-file PATH|-) [--objection-purpose P|all]\n"
    "                          log a request as received (kinds: access,\n"
    "                          rectification, erasure, restriction, objection,\n"
    "                          automated_decision, portability; channels: email,\n"
    "                          letter, phone, web_form, in_person, portal)\n"
    "  verify ID --ask [--on DATE]\n"
    "                          ask for identity evidence (awaiting_identity;\n"
    "                          --on: the day it was asked for)\n"
    "  verify ID --subject S [--on DATE]\n"
    "                          identity established: link the request to subject S\n"
    "                          (--on: the day the requested evidence arrived, not\n"
    "                          before it was asked for)\n"
    "  clarify ID [--on DATE]  ask the subject to clarify: the clock stops\n"
    "  resume ID [--on DATE]   clarification arrived: the clock runs again\n"
    "  extend ID --told-on DATE   extend by two further months (the subject must\n"
    "                          have been told within the first month)\n"
    "  fulfil ID [--on DATE]   record the request as fulfilled (a restriction or\n"
    "                          objection request sets the flag it asks for)\n"
    "  refuse ID --grounds G --ico-route-stated [--on DATE]\n"
    "                          refuse (grounds: manifestly_unfounded,\n"
    "                          manifestly_excessive, exemption, identity_not_verified)\n"
    "  withdraw ID [--on DATE] the subject withdrew the request\n"
    "  show ID                 the request, its clock and its history\n"
    "  list [--controller ID] [--limit N] [--cursor C]\n"
    "                          every request, in order of receipt\n"
    "  due [--controller ID] [--limit N] [--cursor C]\n"
    "                          open requests by due date, overdue first\n"
    "                          (a page of --limit, default 100, at most 500; when\n"
    "                          more follow, the last line gives the --cursor)\n"
    "\n"
    "Every change needs --why TEXT or --why-file PATH (- for stdin): who is\n"
    "recorded from the login, the why is sealed. Prefer --why-file - and\n"
    "--details-file - for anything that names a person: command lines are\n"
    "visible to other users of the host.\n"
    "Bank holidays: built in, or bank_holidays_file in custos.conf, or\n"
    "$CUSTOS_BANK_HOLIDAYS (docs/operations.md).\n";

typedef struct rq_opts {
    const char *controller, *kind, *channel, *received_on, *purpose, *details, *details_file;
    const char *why, *why_file, *on, *subject, *told_on, *grounds, *limit, *cursor;
    bool ask, ico;
} rq_opts;

enum {
    O_CONTROLLER = 0x200, O_KIND, O_CHANNEL, O_RECEIVED, O_PURPOSE_OBJ, O_DETAILS,
    O_DETAILS_FILE, O_WHY, O_WHY_FILE, O_ON, O_SUBJECT, O_TOLD, O_GROUNDS, O_ASK, O_ICO,
    O_LIMIT, O_CURSOR,
};

static const struct option rq_options[] = {
    CLI_COMMON_OPTIONS,
    {"controller", required_argument, NULL, O_CONTROLLER},
    {"kind", required_argument, NULL, O_KIND},
    {"channel", required_argument, NULL, O_CHANNEL},
    {"received-on", required_argument, NULL, O_RECEIVED},
    {"objection-purpose", required_argument, NULL, O_PURPOSE_OBJ},
    {"details", required_argument, NULL, O_DETAILS},
    {"details-file", required_argument, NULL, O_DETAILS_FILE},
    {"why", required_argument, NULL, O_WHY},
    {"why-file", required_argument, NULL, O_WHY_FILE},
    {"on", required_argument, NULL, O_ON},
    {"subject", required_argument, NULL, O_SUBJECT},
    {"told-on", required_argument, NULL, O_TOLD},
    {"grounds", required_argument, NULL, O_GROUNDS},
    {"ask", no_argument, NULL, O_ASK},
    {"ico-route-stated", no_argument, NULL, O_ICO},
    {"limit", required_argument, NULL, O_LIMIT},
    {"cursor", required_argument, NULL, O_CURSOR},
    {0, 0, 0, 0},
};

static int rq_opt(void *ctx, int opt, const char *arg)
{
    rq_opts *o = ctx;
    switch (opt) {
    case O_CONTROLLER: o->controller = arg; return 0;
    case O_KIND: o->kind = arg; return 0;
    case O_CHANNEL: o->channel = arg; return 0;
    case O_RECEIVED: o->received_on = arg; return 0;
    case O_PURPOSE_OBJ: o->purpose = arg; return 0;
    case O_DETAILS: o->details = arg; return 0;
    case O_DETAILS_FILE: o->details_file = arg; return 0;
    case O_WHY: o->why = arg; return 0;
    case O_WHY_FILE: o->why_file = arg; return 0;
    case O_ON: o->on = arg; return 0;
    case O_SUBJECT: o->subject = arg; return 0;
    case O_TOLD: o->told_on = arg; return 0;
    case O_GROUNDS: o->grounds = arg; return 0;
    case O_ASK: o->ask = true; return 0;
    case O_ICO: o->ico = true; return 0;
    case O_LIMIT: o->limit = arg; return 0;
    case O_CURSOR: o->cursor = arg; return 0;
    default: return cli_usage("unexpected option");
    }
}

static int parse(cli *c, int argc, char **argv, rq_opts *o, int nargs, const char **arg)
{
    memset(o, 0, sizeof *o);
    int rc = cli_parse(c, argc, argv, rq_options, requests_help, rq_opt, o);
    if (rc)
        return rc;
    if (argc - optind != nargs)
        return cli_usage("requests %s needs %s", argv[0], nargs ? "one request id"
                                                                : "no operands");
    if (nargs)
        *arg = argv[optind];
    return 0;
}

/* --X TEXT or --X-file PATH (- for stdin), exactly one. */
static int text_arg(const char *name, const char *text, const char *file, cu_buf *out,
                    cu_err *err)
{
    if (text && file)
        return cu_err_set(err, CU_EINVAL, "give --%s or --%s-file, not both", name, name);
    if (file)
        return cli_read_input(file, CU_RQ_MAX_TEXT + 1, out, err);
    if (text && cu_buf_append(out, text, strlen(text)))
        return cu_err_set(err, CU_ENOMEM, "out of memory");
    return CU_OK;
}

/* The bank-holiday calendar in force, as chosen in cli_open. */
static const char *calendar(cli *c)
{
    const cu_holidays *h;
    const char *src = "unavailable";
    cu_err err = {0};
    if (cu_vault_holidays(c->vault, &h, &src, &err))
        return "unavailable";
    return src;
}

static void print_view(const cu_request_view *v)
{
    const cu_request_rec *r = &v->rec;
    printf("request %s\n  kind %s%s%s, received %s by %s, state %s\n", r->id, r->kind,
           r->purpose[0] ? " to " : "", strcmp(r->purpose, "*") == 0 ? "all" : r->purpose,
           r->received_on, r->channel, r->state);
    if (r->subject_id[0])
        printf("  subject %s%s%s\n", r->subject_id, r->evidence_on[0] ? ", identity evidence "
                                                                         "received "
                                                                       : "",
               r->evidence_on);
    if (v->has_clock) {
        char s[11], due[11], nb[11];
        cu_rq_date_str(v->dl.start, s);
        cu_rq_date_str(v->dl.due, due);
        cu_rq_date_str(v->notice_by, nb);
        printf("  clock from %s, due %s%s", s, due, r->extended ? " (extended)" : "");
        if (!v->clock_started)
            printf(" if identity evidence arrives today");
        if (v->dl.paused_days)
            printf(", %lld days paused", (long long)v->dl.paused_days);
        if (v->dl.paused)
            printf(", paused awaiting clarification");
        printf("\n");
        if (!r->extended && cu_rq_state_open((cu_rq_state)cu_rq_state_parse(r->state)))
            printf("  an extension must be told to the subject by %s\n", nb);
        if (v->dl.beyond_calendar)
            printf("  warning: the deadline runs beyond the bank-holiday calendar's last "
                   "year: bank holidays there are unknown\n");
    }
    if (r->told_on[0])
        printf("  subject told of the extension on %s\n", r->told_on);
    if (r->closed_on[0])
        printf("  closed %s%s\n", r->closed_on,
               v->has_clock ? (v->on_time ? ", on time" : ", late") : "");
    if (r->grounds[0])
        printf("  refused as %s; stated: %s\n", r->grounds, r->complaint_route);
}

static int print_event(void *ctx, const cu_request_event_view *e)
{
    return json_array_append_new(ctx, cu_json_request_event(e)) ? CU_ENOMEM : CU_OK;
}

static int rq_receive(cli *c, int argc, char **argv)
{
    rq_opts o;
    int rc = parse(c, argc, argv, &o, 0, NULL);
    if (rc)
        return rc;
    if (!o.controller || !o.kind || !o.channel || !o.received_on)
        return cli_usage("requests receive needs --controller, --kind, --channel and "
                         "--received-on");
    cu_err err = {0};
    cu_buf details;
    cu_buf_init(&details, CU_RQ_MAX_TEXT + 1);
    char id[CU_ID_STRLEN];
    rc = text_arg("details", o.details, o.details_file, &details, &err);
    if (!rc)
        rc = cli_open(c, "requests receive", &err);
    if (!rc) {
        cu_rq_receive_in in = {.controller_id = o.controller, .kind = o.kind,
                               .channel = o.channel, .received_on = o.received_on,
                               .purpose = o.purpose, .details = (const char *)details.data,
                               .details_len = details.len};
        rc = cu_request_receive(c->vault, &c->actor, &in, id, &err);
    }
    cu_buf_release(&details);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s}", "id", id, "state", "received"));
    else
        printf("%s\n", id);
    return EXIT_DONE;
}

static int change(cli *c, int argc, char **argv, cu_rq_transition t)
{
    rq_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, &o, 1, &id);
    if (rc)
        return rc;
    if (t == CU_RQ_VERIFY && o.ask)
        t = CU_RQ_ASK_IDENTITY;
    if (t == CU_RQ_VERIFY && !o.subject)
        return cli_usage("requests verify needs --subject ID (or --ask)");
    if (t == CU_RQ_EXTEND && !o.told_on)
        return cli_usage("requests extend needs --told-on DATE (the day the subject was told)");
    if (t == CU_RQ_REFUSE && !o.grounds)
        return cli_usage("requests refuse needs --grounds G");
    cu_err err = {0};
    cu_request_view v;
    cu_buf why;
    cu_buf_init(&why, CU_RQ_MAX_TEXT + 1);
    rc = text_arg("why", o.why, o.why_file, &why, &err);
    char via[48];
    snprintf(via, sizeof via, "requests %s", argv[0]);
    if (!rc)
        rc = cli_open(c, via, &err);
    if (!rc) {
        cu_rq_change ch = {.t = t, .why = (const char *)why.data, .why_len = why.len,
                           .on = o.on, .subject_id = o.subject, .told_on = o.told_on,
                           .grounds = o.grounds, .ico_route_stated = o.ico};
        rc = cu_request_change(c->vault, &c->actor, id, &ch, &v, &err);
    }
    cu_buf_release(&why);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(cu_json_request(&v));
    else
        print_view(&v);
    return EXIT_DONE;
}

static int rq_verify(cli *c, int argc, char **argv) { return change(c, argc, argv, CU_RQ_VERIFY); }
static int rq_clarify(cli *c, int argc, char **argv) { return change(c, argc, argv, CU_RQ_CLARIFY); }
static int rq_resume(cli *c, int argc, char **argv) { return change(c, argc, argv, CU_RQ_RESUME); }
static int rq_extend(cli *c, int argc, char **argv) { return change(c, argc, argv, CU_RQ_EXTEND); }
static int rq_fulfil(cli *c, int argc, char **argv) { return change(c, argc, argv, CU_RQ_FULFIL); }
static int rq_refuse(cli *c, int argc, char **argv) { return change(c, argc, argv, CU_RQ_REFUSE); }
static int rq_withdraw(cli *c, int argc, char **argv)
{
    return change(c, argc, argv, CU_RQ_WITHDRAW);
}

static int rq_show(cli *c, int argc, char **argv)
{
    rq_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, &o, 1, &id);
    if (rc)
        return rc;
    cu_err err = {0};
    cu_request_view v;
    json_t *events = json_array();
    rc = cli_open(c, "requests show", &err);
    if (!rc)
        rc = cu_request_show(c->vault, &c->actor, id, &v, print_event, events, &err);
    if (rc) {
        json_decref(events);
        return cli_fail(c, &err);
    }
    if (c->json) {
        json_t *j = cu_json_request(&v);
        json_object_set_new(j, "history", events);
        cli_print_json(j);
        return EXIT_DONE;
    }
    print_view(&v);
    printf("  history:\n");
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e) {
        const char *from = json_string_value(json_object_get(e, "from"));
        const char *why = json_string_value(json_object_get(e, "why"));
        printf("  %s  %-13s %s%s%s by %s: %s\n",
               json_string_value(json_object_get(e, "on")),
               json_string_value(json_object_get(e, "action")), from ? from : "",
               from ? " -> " : "", json_string_value(json_object_get(e, "to")),
               json_string_value(json_object_get(e, "actor")),
               why ? why : "(note shredded with the subject)");
    }
    json_decref(events);
    return EXIT_DONE;
}

typedef struct list_ctx {
    json_t *arr;
    bool due;
    size_t n;
    cli_page pg;
} list_ctx;

static int print_row(void *ctx, const cu_request_view *v)
{
    list_ctx *l = ctx;
    if (!cli_page_take(&l->pg))
        return CU_OK;
    l->n++;
    if (l->arr)
        return json_array_append_new(l->arr, cu_json_request(v)) ? CU_ENOMEM : CU_OK;
    char due[11] = "-";
    if (v->has_clock)
        cu_rq_date_str(v->dl.due, due);
    char status[40] = "";
    bool open = cu_rq_state_open((cu_rq_state)cu_rq_state_parse(v->rec.state));
    if (!v->clock_started)
        snprintf(status, sizeof status, "clock not started");
    else if (v->has_clock && open && v->dl.days_left < 0)
        snprintf(status, sizeof status, "OVERDUE by %lld days", (long long)-v->dl.days_left);
    else if (v->has_clock && open)
        snprintf(status, sizeof status, "%lld days left", (long long)v->dl.days_left);
    else if (v->has_clock)
        snprintf(status, sizeof status, "closed %s, %s", v->rec.closed_on,
                 v->on_time ? "on time" : "late");
    printf("%-10s  %-24s  %s  %-18s  %-22s%s\n", due, status, v->rec.id, v->rec.kind,
           v->rec.state, v->has_clock && v->dl.beyond_calendar ? "  (beyond calendar)" : "");
    return CU_OK;
}

static int listing(cli *c, int argc, char **argv, bool due)
{
    rq_opts o;
    int rc = parse(c, argc, argv, &o, 0, NULL);
    if (rc)
        return rc;
    cu_err err = {0};
    list_ctx l = {.arr = c->json ? json_array() : NULL, .due = due};
    snprintf(l.pg.scope, sizeof l.pg.scope, "cli requests %s\x1f%s", due ? "due" : "list",
             o.controller ? o.controller : "");
    rc = cli_open(c, due ? "requests due" : "requests list", &err);
    if (!rc)
        rc = cli_page_begin(c, &l.pg, o.limit, o.cursor, &err);
    if (!rc && !c->json)
        printf("bank holidays: %s\n", calendar(c));
    if (!rc)
        rc = cu_request_list(c->vault, &c->actor, o.controller, due, print_row, &l, &err);
    if (rc) {
        json_decref(l.arr);
        return cli_fail(c, &err);
    }
    char next[CU_CURSOR_STRLEN];
    cli_page_next(c, &l.pg, next);
    if (c->json) {
        json_t *j = json_pack("{s:s, s:o}", "bank_holidays", calendar(c), "requests", l.arr);
        if (next[0])
            json_object_set_new(j, "next", json_string(next));
        cli_print_json(j);
    } else if (!l.n) {
        printf("no %srequests\n", due ? "open " : "");
    }
    if (!c->json && next[0])
        printf("more follow: --cursor %s\n", next);
    return EXIT_DONE;
}

static int rq_list(cli *c, int argc, char **argv) { return listing(c, argc, argv, false); }
static int rq_due(cli *c, int argc, char **argv) { return listing(c, argc, argv, true); }

int cmd_requests(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"receive", rq_receive}, {"verify", rq_verify},   {"clarify", rq_clarify},
        {"resume", rq_resume},   {"extend", rq_extend},   {"fulfil", rq_fulfil},
        {"refuse", rq_refuse},   {"withdraw", rq_withdraw}, {"show", rq_show},
        {"list", rq_list},       {"due", rq_due},
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], requests_help);
}
