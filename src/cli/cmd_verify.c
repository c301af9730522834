/* custos verify [--seal]: the whole store, the audit trail and every
 * authenticated row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/audit.h"
#include "domain/integrity.h"

static const char verify_help[] =
    "usage: custos verify [--seal]\n"
    "\n"
    "Checks the whole store: the audit trail (as `custos audit verify`) and every\n"
    "row that decides who may see what or what a read returns (staff accounts,\n"
    "sessions, API tokens, care lists, break-glass grants, policies, consents,\n"
    "objections, controllers, subjects and their items), each authenticated under\n"
    "a key derived from the master key. Names every row that fails (exit 1).\n"
    "On a full disk it still checks and reports, with its exit status, and says\n"
    "on stderr that the check could not be recorded in the audit trail.\n"
    "\n"
    "--seal authenticates every row as it stands, for a store made before rows\n"
    "were authenticated. It is the operator's decision that the rows are genuine:\n"
    "check the store (and its audit trail) first. The decision is recorded in the\n"
    "audit trail.\n";

typedef struct verify_opts {
    bool seal;
} verify_opts;

static int verify_opt(void *ctx, int opt, const char *arg)
{
    (void)arg;
    verify_opts *o = ctx;
    if (opt == 's') {
        o->seal = true;
        return 0;
    }
    return cli_usage("unexpected option");
}

static const struct option verify_options[] = {
    CLI_COMMON_OPTIONS,
    {"seal", no_argument, NULL, 's'},
    {0, 0, 0, 0},
};

typedef struct bad_rows {
    cli *c;
    json_t *list;
} bad_rows;

static int report_row(void *ctx, const char *table, const char *row, const char *problem)
{
    bad_rows *b = ctx;
    if (b->list)
        json_array_append_new(b->list, json_pack("{s:s, s:s, s:s}", "table", table, "row", row,
                                                 "problem", problem));
    else
        fprintf(stderr, "custos: %s %s: %s\n", table, row, problem);
    return 0;
}

int cmd_verify(cli *c, int argc, char **argv)
{
    verify_opts o = {0};
    int rc = cli_parse(c, argc, argv, verify_options, verify_help, verify_opt, &o);
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage("verify takes no operands");
    cu_err err = {0};
    if (cli_open_unsealed(c, o.seal ? "verify --seal" : "verify", &err))
        return cli_fail(c, &err);
    if (o.seal) {
        int64_t rows = 0;
        if (cu_integrity_seal(c->vault, &c->actor, &rows, &err))
            return cli_fail(c, &err);
        if (c->json)
            cli_print_json(json_pack("{s:b, s:I}", "sealed", 1, "rows", (json_int_t)rows));
        else
            printf("sealed: %lld rows authenticated as they stand\n", (long long)rows);
        return EXIT_DONE;
    }
    cu_verify_report rep;
    if (cu_audit_check(c->vault, &c->actor, &rep, &err))
        return cli_fail(c, &err);
    cli_note_unrecorded(&rep);
    bad_rows b = {.c = c, .list = c->json ? json_array() : NULL};
    int64_t rows = 0, bad = 0;
    cu_err ierr = {0};
    bool sealed = cu_vault_sealed(c->vault);
    int irc = sealed ? cu_integrity_verify(c->vault, report_row, &b, &rows, &bad, &ierr) : 0;
    if (irc && irc != CU_ETAMPER) {
        json_decref(b.list);
        return cli_fail(c, &ierr);
    }
    bool ok = rep.ok && sealed && bad == 0;
    if (c->json) {
        json_t *j = json_pack("{s:b, s:{s:b, s:I, s:I, s:b}, s:{s:b, s:I, s:I, s:o}}", "ok", ok,
                              "audit", "ok", rep.ok, "events", (json_int_t)rep.events,
                              "signatures", (json_int_t)rep.checkpoints, "recorded",
                              rep.recorded, "rows", "sealed",
                              sealed, "checked", (json_int_t)rows, "failed", (json_int_t)bad,
                              "failures", b.list);
        if (!rep.ok) {
            json_object_set_new(json_object_get(j, "audit"), "first_bad_event",
                                json_integer(rep.first_bad));
            json_object_set_new(json_object_get(j, "audit"), "problem",
                                json_string(rep.reason));
        }
        cli_print_json(j);
    } else if (ok) {
        printf("store intact: %lld audit events, %lld signatures, %lld rows verified\n",
               (long long)rep.events, (long long)rep.checkpoints, (long long)rows);
    }
    if (!rep.ok)
        fprintf(stderr, "custos: audit trail FAILED verification: %s\n", rep.reason);
    if (!sealed)
        fprintf(stderr, "custos: the store's rows are not authenticated (no integrity key); "
                        "once checked, run: custos verify --seal\n");
    else if (bad)
        fprintf(stderr, "custos: %lld row%s FAILED authentication\n", (long long)bad,
                bad == 1 ? "" : "s");
    return ok ? EXIT_DONE : EXIT_REFUSED;
}
