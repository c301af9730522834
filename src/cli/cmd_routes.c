/* custos routes: the HTTP API's route table, for checking docs/openapi.yaml. */
#include <stdio.h>

#include "cli/cli.h"
#include "http/router.h"

static const char routes_help[] =
    "usage: custos routes [--json]\n"
    "\n"
    "Prints the HTTP API's routes, one \"METHOD PATH\" per line, in the order the\n"
    "router tries them; PATH is a template such as /v1/subjects/{id}. With --json,\n"
    "an array of {\"method\", \"path\", \"name\", \"personal\"} (\"personal\": the route\n"
    "touches personal data). Opens no store. tests/e2e/cases_openapi.py compares\n"
    "this table with docs/openapi.yaml.\n";

/* Declared here and in main.c: cli.h is left alone. */
int cmd_routes(cli *c, int argc, char **argv);

int cmd_routes(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    int rc = cli_parse(c, argc, argv, opts, routes_help, NULL, NULL);
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage("routes takes no operands");
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
