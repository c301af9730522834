/* custos routes: the HTTP API's route table, for checking docs/openapi.yaml,
 * and what serves each route (http/routes.h), for docs/api.md. */
#include <stdio.h>

#include "cli/cli.h"
#include "http/router.h"
#include "http/routes.h"

static const char routes_help[] =
    "usage: custos routes [--json | --markdown]\n"
    "\n"
    "Prints the HTTP API's routes, one \"METHOD PATH\" per line, in the order the\n"
    "router tries them; PATH is a template such as /v1/subjects/{id}. With --json,\n"
    "an array of {\"method\", \"path\", \"name\", \"personal\"} (\"personal\": the route\n"
    "touches personal data). Opens no store. tests/e2e/cases_openapi.py compares\n"
    "this table with docs/openapi.yaml. With --markdown, the table of what serves\n"
    "each route: method, path, who calls (how the caller authenticates, and the\n"
    "roles the access rules allow the route's actions; \"(care list)\": only for\n"
    "subjects on their care list or, where the rules allow, under break-glass) and\n"
    "the handler, as docs/api.md shows it.\n";

enum { OPT_MARKDOWN = 0x200 };

static int routes_opt(void *ctx, int opt, const char *arg)
{
    (void)arg;
    if (opt != OPT_MARKDOWN)
        return cli_usage("unknown option");
    *(bool *)ctx = true;
    return 0;
}

/* Declared here and in main.c: cli.h is left alone. */
int cmd_routes(cli *c, int argc, char **argv);

int cmd_routes(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS, {"markdown", no_argument, NULL, OPT_MARKDOWN}, {0, 0, 0, 0}};
    bool markdown = false;
    int rc = cli_parse(c, argc, argv, opts, routes_help, routes_opt, &markdown);
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage("routes takes no operands");
    if (markdown && c->json)
        return cli_usage("--json and --markdown are exclusive");
    if (markdown) {
        cu_buf out;
        cu_buf_init(&out, 0);
        rc = cu_routes_markdown(&out);
        if (!rc)
            fputs(cu_buf_str(&out), stdout);
        cu_buf_release(&out);
        if (rc) {
            fprintf(stderr, "custos: out of memory\n");
            return EXIT_FAILURE;
        }
        return EXIT_DONE;
    }
    size_t n = 0;
    const cu_route_def *r = cu_route_table(&n);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "method", r[i].method,
                                                 "path", r[i].path, "name", r[i].name,
                                                 "personal", r[i].personal));
        cli_print_json(arr);
        return EXIT_DONE;
    }
    for (size_t i = 0; i < n; i++)
        printf("%s %s\n", r[i].method, r[i].path);
    return EXIT_DONE;
}
