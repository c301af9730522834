/* custos pathway add|list|show|enrol|discharge (domain/pathway.h;
 * docs/pathways.md, docs/cli.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/pathway.h"
#include "util/clock.h"
#include "util/file.h"

static const char pathway_help[] =
    "usage: custos pathway add FILE\n"
    "       custos pathway list\n"
    "       custos pathway show ID [--version V]\n"
    "       custos pathway enrol SUBJECT PATHWAY --start YYYY-MM-DD --purpose P\n"
    "       custos pathway discharge SUBJECT PATHWAY\n"
    "\n"
    "A follow-up pathway (docs/pathways.md) asks a stored questionnaire at set\n"
    "days after a start event, each within a window, for a set time. add\n"
    "checks a pathway document strictly (the first problem is named by its JSON\n"
    "path, exit 1) and stores it under its id and version; list shows every\n"
    "stored version; show prints one as stored. enrol puts a subject on the\n"
    "latest version from the start date, for the purpose --purpose names (one\n"
    "of the controller's policy), and schedules every occurrence; discharge\n"
    "ends it and stops every occurrence not yet answered (one whose window has\n"
    "ended is missed). Erasing the subject discharges it. `custos tasks due`\n"
    "lists what is due.\n"
    "Shipped: pathways/psfu-example.json (an example). FILE may be - for stdin.\n";

typedef struct pw_opts {
    const char *version, *start;
} pw_opts;

enum { O_VERSION = 0x300, O_START };

static const struct option pw_options[] = {
    CLI_COMMON_OPTIONS,
    {"version", required_argument, NULL, O_VERSION},
    {"start", required_argument, NULL, O_START},
    {0, 0, 0, 0},
};

static int pw_opt(void *ctx, int opt, const char *arg)
{
    pw_opts *o = ctx;
    switch (opt) {
    case O_VERSION: o->version = arg; return 0;
    case O_START: o->start = arg; return 0;
    default: return cli_usage("unexpected option");
    }
}

static int parse(cli *c, int argc, char **argv, pw_opts *o, int nargs, const char **args,
                 const char *what)
{
    memset(o, 0, sizeof *o);
    int rc = cli_parse(c, argc, argv, pw_options, pathway_help, pw_opt, o);
    if (rc)
        return rc;
    if (argc - optind != nargs)
        return cli_usage("pathway %s needs %s", argv[0], what);
    for (int i = 0; i < nargs; i++)
        args[i] = argv[optind + i];
    if (o->version && strcmp(argv[0], "show") != 0)
        return cli_usage("pathway %s takes no --version", argv[0]);
    if (o->start && strcmp(argv[0], "enrol") != 0)
        return cli_usage("pathway %s takes no --start", argv[0]);
    return 0;
}

static json_t *info_json(const cu_pathway_info *i)
{
    char when[CU_TIME_STRLEN];
    cu_time_format(i->added_at, when);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", i->id, "version", i->version,
                     "added_at", when, "added_by", i->added_by, "hash", i->hash);
}

static int pw_add(cli *c, int argc, char **argv)
{
    pw_opts o;
    const char *file = NULL;
    int rc = parse(c, argc, argv, &o, 1, &file, "one FILE");
    if (rc)
        return rc;
    cu_err err = {0};
    cu_buf in;
    cu_buf_init(&in, CU_PW_MAX_BYTES + 1);
    rc = cli_read_input(file, CU_PW_MAX_BYTES, &in, &err);
    if (rc == CU_ENOMEM || (rc && err.code == CU_ENOMEM)) {
        cu_err_clear(&err);
        rc = cu_err_set(&err, CU_EINVAL, "the pathway is larger than %d bytes",
                        CU_PW_MAX_BYTES);
    }
    cu_pathway_info info;
    bool added = false;
    if (!rc)
        rc = cli_open(c, "pathway add", &err);
    if (!rc)
        rc = cu_pathway_add(c->vault, &c->actor, in.data, in.len, &info, &added, &err);
    cu_buf_release(&in);
    if (rc)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *j = info_json(&info);
        json_object_set_new(j, "added", json_boolean(added));
        cli_print_json(j);
    } else {
        printf("%s: pathway %s version %s\n", added ? "added" : "unchanged", info.id,
               info.version);
    }
    return EXIT_DONE;
}

static int print_info(void *ctx, const cu_pathway_info *i)
{
    json_t *arr = ctx;
    if (arr)
        return json_array_append_new(arr, info_json(i)) ? CU_ENOMEM : CU_OK;
    char when[CU_TIME_STRLEN];
    cu_time_format(i->added_at, when);
    printf("%s  version %s  added %s by %s  hash %.16s\n", i->id, i->version, when,
           i->added_by, i->hash);
    return CU_OK;
}

static int pw_list(cli *c, int argc, char **argv)
{
    pw_opts o;
    int rc = parse(c, argc, argv, &o, 0, NULL, "no operands");
    if (rc)
        return rc;
    cu_err err = {0};
    json_t *arr = c->json ? json_array() : NULL;
    rc = cli_open(c, "pathway list", &err);
    if (!rc)
        rc = cu_pathway_list(c->vault, &c->actor, print_info, arr, &err);
    if (rc) {
        json_decref(arr);
        return cli_fail(c, &err);
    }
    if (arr)
        cli_print_json(json_pack("{s:o}", "pathways", arr));
    return EXIT_DONE;
}

static int pw_show(cli *c, int argc, char **argv)
{
    pw_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, &o, 1, &id, "one ID");
    if (rc)
        return rc;
    cu_err err = {0};
    cu_buf doc;
    cu_buf_init(&doc, CU_PW_MAX_BYTES * 2);
    cu_pathway_info info;
    rc = cli_open(c, "pathway show", &err);
    if (!rc)
        rc = cu_pathway_show(c->vault, &c->actor, id, o.version, &doc, &info, &err);
    if (!rc) {
        json_t *j = json_loadb((const char *)doc.data, doc.len, 0, NULL);
        if (j)
            cli_print_json(j);
        else
            rc = cu_err_set(&err, CU_ECORRUPT, "the stored pathway is not JSON");
    }
    cu_buf_release(&doc);
    return rc ? cli_fail(c, &err) : EXIT_DONE;
}

static int pw_enrol(cli *c, int argc, char **argv)
{
    pw_opts o;
    const char *args[2];
    int rc = parse(c, argc, argv, &o, 2, args, "SUBJECT and PATHWAY");
    if (rc)
        return rc;
    if (!o.start)
        return cli_usage("pathway enrol needs --start YYYY-MM-DD");
    cu_err err = {0};
    cu_enrolment_info e;
    rc = cli_open(c, "pathway enrol", &err);
    if (!rc)
        rc = cu_pathway_enrol(c->vault, &c->actor, args[0], args[1], o.start, c->actor.purpose, &e,
                              &err);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "id", e.id, "subject",
                                 e.subject_id, "pathway", e.pathway_id, "version",
                                 e.pathway_version, "start", e.start_date, "occurrences",
                                 e.occurrences, "first_due", e.first_due));
    else
        printf("enrolled: subject %s on pathway %s version %s from %s, %d occurrences, first "
               "due %s\n",
               e.subject_id, e.pathway_id, e.pathway_version, e.start_date, e.occurrences,
               e.first_due);
    return EXIT_DONE;
}

static int pw_discharge(cli *c, int argc, char **argv)
{
    pw_opts o;
    const char *args[2];
    int rc = parse(c, argc, argv, &o, 2, args, "SUBJECT and PATHWAY");
    if (rc)
        return rc;
    cu_err err = {0};
    int stopped = 0;
    rc = cli_open(c, "pathway discharge", &err);
    if (!rc)
        rc = cu_pathway_discharge(c->vault, &c->actor, args[0], args[1], &stopped, &err);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:i}", "subject", args[0], "pathway", args[1],
                                 "stopped", stopped));
    else
        printf("discharged: subject %s from pathway %s, %d occurrences stopped\n", args[0],
               args[1], stopped);
    return EXIT_DONE;
}

int cmd_pathway(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"add", pw_add},     {"list", pw_list},           {"show", pw_show},
        {"enrol", pw_enrol}, {"discharge", pw_discharge},
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], pathway_help);
}
