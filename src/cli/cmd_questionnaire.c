/* custos questionnaire add|list|show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/questionnaire.h"
#include "util/clock.h"
#include "util/file.h"

static const char questionnaire_help[] =
    "usage: custos questionnaire add FILE\n"
    "       custos questionnaire list\n"
    "       custos questionnaire show URL [--version V]\n"
    "\n"
    "A questionnaire is a FHIR R4 Questionnaire document (docs/questionnaires.md):\n"
    "its items and answer options with their weights, and custos's extensions\n"
    "for the scored total, its bands and the review rules. add checks it\n"
    "strictly (the first problem is named by its JSON path, exit 1) and stores\n"
    "it under its url and version: the same content again changes nothing,\n"
    "other content under a stored version is refused (give it a new version).\n"
    "list shows every stored version; show prints one as stored (the version\n"
    "added last unless --version). Shipped: PHQ-9, GAD-7 and an example\n"
    "follow-up questionnaire. FILE may be - for stdin.\n";

typedef struct qn_opts {
    const char *version;
} qn_opts;

static int qn_opt(void *ctx, int opt, const char *arg)
{
    qn_opts *o = ctx;
    if (opt == 'v') {
        o->version = arg;
        return 0;
    }
    return cli_usage("unexpected option");
}

static const struct option qn_options[] = {
    CLI_COMMON_OPTIONS,
    {"version", required_argument, NULL, 'v'},
    {0, 0, 0, 0},
};

static int parse(cli *c, int argc, char **argv, qn_opts *o, int nargs, const char **args,
                 const char *what)
{
    memset(o, 0, sizeof *o);
    int rc = cli_parse(c, argc, argv, qn_options, questionnaire_help, qn_opt, o);
    if (rc)
        return rc;
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

int cmd_questionnaire(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"add", qn_add},
        {"list", qn_list},
        {"show", qn_show},
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], questionnaire_help);
}
