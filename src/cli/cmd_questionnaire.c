/* custos questionnaire add|list|show|send|enter|responses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/qresponse.h"
#include "domain/questionnaire.h"
#include "domain/responses.h"
#include "iface/link.h"
#include "util/clock.h"
#include "util/file.h"

#ifdef CUSTOS_TEST_CLOCK
#define QN_SUBMIT_HELP                                                                      \
    "       custos questionnaire submit TOKEN --answers FILE   (test builds only)\n"
#else
#define QN_SUBMIT_HELP ""
#endif

static const char questionnaire_help[] =
    "usage: custos questionnaire add FILE\n"
    "       custos questionnaire list\n"
    "       custos questionnaire show URL [--version V]\n"
    "       custos questionnaire send SUBJECT URL [--version V] --purpose P [--days N]\n"
    "                                 [--public-url URL]\n"
    "       custos questionnaire enter SUBJECT --answers FILE --purpose P\n"
    "       custos questionnaire responses SUBJECT\n"
    "       custos questionnaire outcome SUBJECT [--sessions N] [--ended]\n"
    "                                    [--since YYYY-MM-DD]\n" QN_SUBMIT_HELP
    "\n"
    "A questionnaire is a FHIR R4 Questionnaire document (docs/questionnaires.md):\n"
    "its items and answer options with their weights, and custos's extensions\n"
    "for the scored total, its bands and the review rules. add checks it\n"
    "strictly (the first problem is named by its JSON path, exit 1) and stores\n"
    "it under its url and version: the same content again changes nothing,\n"
    "other content under a stored version is refused (give it a new version).\n"
    "list shows every stored version; show prints one as stored (the version\n"
    "added last unless --version). Shipped: PHQ-9, GAD-7 and an example\n"
    "follow-up questionnaire. FILE may be - for stdin.\n"
    "\n"
    "send makes a single-use link asking the subject to answer the questionnaire\n"
    "(the version added last unless --version) for purpose P, a purpose of the\n"
    "controller's policy that covers health data; it expires after N days (14;\n"
    "at most 90). It prints the link, the public URL (--public-url, else\n"
    "CUSTOS_PUBLIC_URL, else public_url in custos.conf, else\n"
    "http://localhost:8080) followed by /q/TOKEN: the token is shown once.\n"
    "enter stores answers given on the subject's behalf: FILE is a FHIR\n"
    "QuestionnaireResponse naming the questionnaire (url|version). Both score\n"
    "the answers with the stored questionnaire (never a total the answers\n"
    "state), store them as one health item and raise a clinical task for each\n"
    "flag. responses lists the subject's stored responses, oldest first.\n"
    "\n"
    "outcome computes the NHS Talking Therapies outcome of the subject's\n"
    "episode of care (docs/outcomes.md) from the first and last complete PHQ-9\n"
    "and GAD-7 totals stored (since the date, when given): caseness at the\n"
    "start and end, recovery, reliable improvement, deterioration and\n"
    "recovery. custos holds no appointments: N is the number of treatment\n"
    "sessions attended (0 unless given) and --ended says the episode has\n"
    "ended; measures that need a finished course say \"not applicable\" until\n"
    "then.\n";

typedef struct qn_opts {
    const char *version;
    const char *answers;
    int days;
    long sessions; /* -1: not given */
    bool ended;
    const char *since;
    const char *public_url;
} qn_opts;

static int qn_opt(void *ctx, int opt, const char *arg)
{
    qn_opts *o = ctx;
    if (opt == 'v') {
        o->version = arg;
        return 0;
    }
    if (opt == 'a') {
        o->answers = arg;
        return 0;
    }
    if (opt == 's') {
        char *end = NULL;
        long n = strtol(arg, &end, 10);
        if (!*arg || *end || n < 0 || n > 1000)
            return cli_usage("--sessions must be a whole number from 0 to 1000");
        o->sessions = n;
        return 0;
    }
    if (opt == 'e') {
        o->ended = true;
        return 0;
    }
    if (opt == 'S') {
        o->since = arg;
        return 0;
    }
    if (opt == 'U') {
        o->public_url = arg;
        return 0;
    }
    if (opt == 'd') {
        char *end = NULL;
        long d = strtol(arg, &end, 10);
        if (!*arg || *end || d < 1 || d > CU_QLINK_DAYS_MAX)
            return cli_usage("--days must be a whole number of days from 1 to %d",
                             CU_QLINK_DAYS_MAX);
        o->days = (int)d;
        return 0;
    }
    return cli_usage("unexpected option");
}

static const struct option qn_options[] = {
    CLI_COMMON_OPTIONS,
    {"version", required_argument, NULL, 'v'},
    {"answers", required_argument, NULL, 'a'},
    {"days", required_argument, NULL, 'd'},
    {"sessions", required_argument, NULL, 's'},
    {"ended", no_argument, NULL, 'e'},
    {"since", required_argument, NULL, 'S'},
    {"public-url", required_argument, NULL, 'U'},
    {0, 0, 0, 0},
};

static int parse(cli *c, int argc, char **argv, qn_opts *o, int nargs, const char **args,
                 const char *what)
{
    memset(o, 0, sizeof *o);
    o->sessions = -1;
    int rc = cli_parse(c, argc, argv, qn_options, questionnaire_help, qn_opt, o);
    if (rc)
        return rc;
    if (strcmp(argv[0], "outcome") != 0 && (o->sessions >= 0 || o->ended || o->since))
        return cli_usage("--sessions, --ended and --since are for questionnaire outcome");
    if (strcmp(argv[0], "send") != 0 && o->public_url)
        return cli_usage("--public-url is for questionnaire send");
    if (argc - optind != nargs)
        return cli_usage("questionnaire %s needs %s", argv[0], what);
    for (int i = 0; i < nargs; i++)
        args[i] = argv[optind + i];
    return 0;
}

static json_t *info_json(const cu_questionnaire_info *i)
{
    char when[CU_TIME_STRLEN];
    cu_time_format(i->added_at, when);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "url", i->url, "version", i->version,
                     "status", i->status, "added_at", when, "added_by", i->added_by, "hash",
                     i->hash);
}

static int qn_add(cli *c, int argc, char **argv)
{
    qn_opts o;
    const char *file = NULL;
    int rc = parse(c, argc, argv, &o, 1, &file, "one FILE");
    if (rc)
        return rc;
    if (o.version)
        return cli_usage("questionnaire add takes the version from the document");
    cu_err err = {0};
    cu_buf in;
    cu_buf_init(&in, CU_Q_MAX_BYTES + 1);
    rc = cli_read_input(file, CU_Q_MAX_BYTES, &in, &err);
    if (rc == CU_ENOMEM || (rc && err.code == CU_ENOMEM)) {
        cu_err_clear(&err);
        rc = cu_err_set(&err, CU_EINVAL, "the questionnaire is larger than %d bytes",
                        CU_Q_MAX_BYTES);
    }
    cu_questionnaire_info info;
    bool added = false;
    if (!rc)
        rc = cli_open(c, "questionnaire add", &err);
    if (!rc)
        rc = cu_questionnaire_add(c->vault, &c->actor, in.data, in.len, &info, &added, &err);
    cu_buf_release(&in);
    if (rc)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *j = info_json(&info);
        json_object_set_new(j, "added", json_boolean(added));
        cli_print_json(j);
    } else {
        printf("%s: questionnaire %s version %s (%s)\n", added ? "added" : "unchanged",
               info.url, info.version, info.status);
    }
    return EXIT_DONE;
}

static int print_info(void *ctx, const cu_questionnaire_info *i)
{
    json_t *arr = ctx;
    if (arr)
        return json_array_append_new(arr, info_json(i)) ? CU_ENOMEM : CU_OK;
    char when[CU_TIME_STRLEN];
    cu_time_format(i->added_at, when);
    printf("%s  version %s  %s  added %s by %s  hash %.16s\n", i->url, i->version, i->status,
           when, i->added_by, i->hash);
    return CU_OK;
}

static int qn_list(cli *c, int argc, char **argv)
{
    qn_opts o;
    int rc = parse(c, argc, argv, &o, 0, NULL, "no operands");
    if (rc)
        return rc;
    cu_err err = {0};
    json_t *arr = c->json ? json_array() : NULL;
    rc = cli_open(c, "questionnaire list", &err);
    if (!rc)
        rc = cu_questionnaire_list(c->vault, &c->actor, print_info, arr, &err);
    if (rc) {
        json_decref(arr);
        return cli_fail(c, &err);
    }
    if (arr)
        cli_print_json(json_pack("{s:o}", "questionnaires", arr));
    return EXIT_DONE;
}

static int qn_show(cli *c, int argc, char **argv)
{
    qn_opts o;
    const char *url = NULL;
    int rc = parse(c, argc, argv, &o, 1, &url, "one URL");
    if (rc)
        return rc;
    cu_err err = {0};
    cu_buf doc;
    cu_buf_init(&doc, CU_Q_MAX_BYTES * 2);
    cu_questionnaire_info info;
    rc = cli_open(c, "questionnaire show", &err);
    if (!rc)
        rc = cu_questionnaire_show(c->vault, &c->actor, url, o.version, &doc, &info, &err);
    if (!rc) {
        json_t *j = json_loadb((const char *)doc.data, doc.len, 0, NULL);
        if (j)
            cli_print_json(j);
        else
            rc = cu_err_set(&err, CU_ECORRUPT, "the stored questionnaire is not JSON");
    }
    cu_buf_release(&doc);
    return rc ? cli_fail(c, &err) : EXIT_DONE;
}

static int qn_send(cli *c, int argc, char **argv)
{
    qn_opts o;
    const char *args[2] = {NULL, NULL};
    int rc = parse(c, argc, argv, &o, 2, args, "SUBJECT and URL");
    if (rc)
        return rc;
    if (o.answers)
        return cli_usage("questionnaire send takes no --answers");
    if (!c->purpose_given)
        return cli_usage("questionnaire send needs --purpose P: the purpose the answers are "
                         "collected for");
    cu_err err = {0};
    char token[CU_TOKEN_STRLEN];
    cu_qlink_info info;
    /* A bad --public-url is refused before a link is made. */
    if (o.public_url && cli_public_url(c, o.public_url, &err))
        return cli_usage("%s", err.msg);
    rc = cli_open(c, "questionnaire send", &err);
    if (!rc)
        rc = cli_public_url(c, o.public_url, &err);
    if (!rc)
        rc = cu_qlink_issue(c->vault, &c->actor, args[0], args[1], o.version, c->purpose,
                            o.days, token, &info, &err);
    if (rc)
        return cli_fail(c, &err);
    char path[CU_TOKEN_STRLEN + 4], when[CU_TIME_STRLEN], url[CU_LINK_MAX];
    snprintf(path, sizeof path, "/q/%s", token);
    if (cu_public_link(url, sizeof url, path))
        cu_strlcpy(url, path, sizeof url); /* cannot happen: the URL is bounded */
    cu_time_format(info.expires_at, when);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "path", path, "url", url,
                                 "token", token, "questionnaire", info.url, "version",
                                 info.version, "purpose", info.purpose, "expires_at", when));
    else
        printf("%s\ntoken %s\nquestionnaire %s version %s, purpose %s, expires %s\n", url,
               token, info.url, info.version, info.purpose, when);
    cu_wipe(token, sizeof token);
    cu_wipe(path, sizeof path);
    cu_wipe(url, sizeof url);
    return EXIT_DONE;
}

static json_t *result_json(const cu_response_result *r)
{
    json_t *flags = json_array();
    for (size_t i = 0; i < r->nflags; i++)
        json_array_append_new(flags, json_pack("{s:s, s:s, s:s}", "rule", r->flags[i].rule,
                                               "level", r->flags[i].level, "task",
                                               r->flags[i].task));
    json_t *j = json_pack("{s:s, s:b, s:o}", "id", r->id, "complete", r->complete, "flags",
                          flags);
    if (!r->complete)
        json_object_set_new(j, "missing", json_string(r->missing));
    json_object_set_new(j, "total", r->has_total ? json_integer(r->total) : json_null());
    json_object_set_new(j, "band", r->band[0] ? json_string(r->band) : json_null());
    json_object_set_new(j, "total_disagrees", json_boolean(r->total_disagrees));
    return j;
}

/* Reads and parses a QuestionnaireResponse file (- for stdin). */
static int read_answers(const char *file, cu_qresponse **qr, cu_err *err)
{
    *qr = NULL;
    cu_buf in;
    cu_buf_init(&in, CU_QR_MAX_BYTES + 1);
    int rc = cli_read_input(file, CU_QR_MAX_BYTES, &in, err);
    if (rc == CU_ENOMEM || (rc && err->code == CU_ENOMEM)) {
        cu_err_clear(err);
        rc = cu_err_set(err, CU_EINVAL, "the answers are larger than %d bytes",
                        CU_QR_MAX_BYTES);
    }
    if (!rc)
        rc = cu_qresponse_parse(in.data, in.len, qr, err);
    cu_buf_release(&in);
    return rc;
}

static void print_result(cli *c, const cu_response_result *r);

static int qn_enter(cli *c, int argc, char **argv)
{
    qn_opts o;
    const char *subject = NULL;
    int rc = parse(c, argc, argv, &o, 1, &subject, "one SUBJECT");
    if (rc)
        return rc;
    if (!o.answers)
        return cli_usage("questionnaire enter needs --answers FILE (a QuestionnaireResponse)");
    if (!c->purpose_given)
        return cli_usage("questionnaire enter needs --purpose P");
    if (o.version || o.days)
        return cli_usage("questionnaire enter takes the questionnaire from the answers");
    cu_err err = {0};
    cu_qresponse *qr = NULL;
    rc = read_answers(o.answers, &qr, &err);
    cu_response_result r;
    if (!rc)
        rc = cli_open(c, "questionnaire enter", &err);
    if (!rc)
        rc = cu_response_enter(c->vault, &c->actor, subject, qr->url,
                               qr->version[0] ? qr->version : NULL, c->purpose, qr->answers,
                               qr->n, qr->has_total ? &qr->total : NULL, &r, &err);
    cu_qresponse_free(qr);
    if (rc)
        return cli_fail(c, &err);
    print_result(c, &r);
    return EXIT_DONE;
}

#ifdef CUSTOS_TEST_CLOCK
/* What the public form does with a link, from the command line for tests. */
static int qn_submit(cli *c, int argc, char **argv)
{
    qn_opts o;
    const char *token = NULL;
    int rc = parse(c, argc, argv, &o, 1, &token, "one TOKEN");
    if (rc)
        return rc;
    if (!o.answers)
        return cli_usage("questionnaire submit needs --answers FILE (a QuestionnaireResponse)");
    cu_err err = {0};
    cu_qresponse *qr = NULL;
    rc = read_answers(o.answers, &qr, &err);
    cu_response_result r;
    if (!rc)
        rc = cli_open(c, "questionnaire submit", &err);
    if (!rc)
        rc = cu_qlink_submit(c->vault, token, strlen(token), qr->answers, qr->n,
                             qr->has_total ? &qr->total : NULL, &r, &err);
    cu_qresponse_free(qr);
    if (rc)
        return cli_fail(c, &err);
    print_result(c, &r);
    return EXIT_DONE;
}
#endif

static void print_result(cli *c, const cu_response_result *r)
{
    if (c->json) {
        cli_print_json(result_json(r));
    } else {
        printf("stored response %s: %s", r->id, r->complete ? "complete" : "incomplete");
        if (!r->complete)
            printf(" (first missing: %s)", r->missing);
        if (r->has_total)
            printf(", total %lld, band %s", (long long)r->total, r->band);
        if (r->total_disagrees)
            printf(", the stated total disagrees");
        printf("\n");
        for (size_t i = 0; i < r->nflags; i++)
            printf("flag %s (%s): task %s\n", r->flags[i].rule, r->flags[i].level,
                   r->flags[i].task);
    }
}

static json_t *view_json(const cu_response_view *r)
{
    char when[CU_TIME_STRLEN];
    cu_time_format(r->authored, when);
    json_t *flags = json_array();
    for (size_t i = 0; i < r->nflags; i++)
        json_array_append_new(flags, json_pack("{s:s, s:s}", "rule", r->flags[i].rule,
                                               "level", r->flags[i].level));
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:b}", "id", r->id,
                          "questionnaire", r->url, "version", r->version, "authored", when,
                          "via", r->via, "recorded_by", r->recorded_by, "complete",
                          r->complete, "flags", flags, "total_disagrees", r->total_disagrees);
    json_object_set_new(j, "total", r->has_total ? json_integer(r->total) : json_null());
    json_object_set_new(j, "band", r->band[0] ? json_string(r->band) : json_null());
    return j;
}

static int print_response(void *ctx, const cu_response_view *r)
{
    json_t *arr = ctx;
    if (arr)
        return json_array_append_new(arr, view_json(r)) ? CU_ENOMEM : CU_OK;
    char when[CU_TIME_STRLEN];
    cu_time_format(r->authored, when);
    printf("%s  %s|%s  %s  via %s  %s", r->id, r->url, r->version, when, r->via,
           r->complete ? "complete" : "incomplete");
    if (r->has_total)
        printf("  total %lld (%s)", (long long)r->total, r->band);
    for (size_t i = 0; i < r->nflags; i++)
        printf("  flag %s (%s)", r->flags[i].rule, r->flags[i].level);
    printf("\n");
    return CU_OK;
}

static int qn_responses(cli *c, int argc, char **argv)
{
    qn_opts o;
    const char *subject = NULL;
    int rc = parse(c, argc, argv, &o, 1, &subject, "one SUBJECT");
    if (rc)
        return rc;
    if (o.version || o.answers || o.days)
        return cli_usage("questionnaire responses takes only SUBJECT");
    cu_err err = {0};
    json_t *arr = c->json ? json_array() : NULL;
    rc = cli_open(c, "questionnaire responses", &err);
    if (!rc)
        rc = cu_response_list(c->vault, &c->actor, subject, print_response, arr, &err);
    if (rc) {
        json_decref(arr);
        return cli_fail(c, &err);
    }
    if (arr)
        cli_print_json(json_pack("{s:o}", "responses", arr));
    return EXIT_DONE;
}

static json_t *score_json(int v)
{
    return v == CU_SCORE_MISSING ? json_null() : json_integer(v);
}

static const char *score_text(int v, char buf[8])
{
    if (v == CU_SCORE_MISSING)
        return "-";
    snprintf(buf, 8, "%d", v);
    return buf;
}

static int qn_outcome(cli *c, int argc, char **argv)
{
    qn_opts o;
    const char *subject = NULL;
    int rc = parse(c, argc, argv, &o, 1, &subject, "one SUBJECT");
    if (rc)
        return rc;
    if (o.version || o.answers || o.days)
        return cli_usage("questionnaire outcome takes SUBJECT, --sessions, --ended and --since");
    int64_t since = 0;
    if (o.since) {
        cu_date d;
        if (strlen(o.since) != 10 || !cu_date_parse(o.since, 10, &d))
            return cli_usage("--since must be a date, YYYY-MM-DD");
        since = cu_date_to_days(d) * 86400 * (int64_t)1000000;
    }
    cu_err err = {0};
    cu_episode_scores sc;
    cu_outcome out;
    rc = cli_open(c, "questionnaire outcome", &err);
    if (!rc)
        rc = cu_response_outcome(c->vault, &c->actor, subject, since,
                                 o.sessions < 0 ? 0 : (unsigned)o.sessions, o.ended, &sc, &out,
                                 &err);
    if (rc)
        return cli_fail(c, &err);
    static const char *const names[] = {"finished", "paired", "case_start", "case_end",
                                        "recovery", "reliable_improvement",
                                        "reliable_deterioration", "reliable_recovery"};
    static const char *const words[] = {"finished course of treatment",
                                        "first and last scores on both measures",
                                        "a case at the start", "a case at the end", "recovery",
                                        "reliable improvement", "reliable deterioration",
                                        "reliable recovery"};
    const cu_outcome_value vals[] = {out.finished, out.paired, out.case_start,
                                     out.case_end, out.recovery, out.reliable_improvement,
                                     out.reliable_deterioration, out.reliable_recovery};
    if (c->json) {
        json_t *m = json_object();
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
            json_object_set_new(m, names[i], json_string(cu_outcome_value_text(vals[i])));
        cli_print_json(json_pack("{s:s, s:{s:o, s:o}, s:{s:o, s:o}, s:i, s:b, s:o}", "subject",
                                 subject, "phq9", "first", score_json(sc.phq9_first), "last",
                                 score_json(sc.phq9_last), "gad7", "first",
                                 score_json(sc.gad7_first), "last", score_json(sc.gad7_last),
                                 "sessions", (int)sc.treatment_sessions, "ended", sc.ended,
                                 "outcome", m));
        return EXIT_DONE;
    }
    char a[8], b[8];
    printf("PHQ-9  first %s  last %s\n", score_text(sc.phq9_first, a),
           score_text(sc.phq9_last, b));
    printf("GAD-7  first %s  last %s\n", score_text(sc.gad7_first, a),
           score_text(sc.gad7_last, b));
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        printf("%s: %s\n", words[i], cu_outcome_value_text(vals[i]));
    return EXIT_DONE;
}

int cmd_questionnaire(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"add", qn_add},
        {"list", qn_list},
        {"show", qn_show},
        {"send", qn_send},
        {"enter", qn_enter},
        {"responses", qn_responses},
        {"outcome", qn_outcome},
#ifdef CUSTOS_TEST_CLOCK
        {"submit", qn_submit},
#endif
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], questionnaire_help);
}
