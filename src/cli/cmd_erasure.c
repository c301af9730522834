/* custos erasure plan|execute, backup, restore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/backup.h"
#include "domain/erasure.h"
#include "iface/certificate.h"
#include "util/clock.h"
#include "util/file.h"

static const char erasure_help[] =
    "usage: custos erasure plan SUBJECT [--treatment-ended DATE] [--died DATE]\n"
    "                           [--format md|json] [--out FILE]\n"
    "       custos erasure execute SUBJECT [--approve-health DIGEST] [same options]\n"
    "\n"
    "An erasure request (UK GDPR Art 17), decided item by item against the\n"
    "retention rules of the controller's current policy (docs/design.md,\n"
    "\"Erasure\"). plan shows the decision and changes nothing; execute decides\n"
    "again and crypto-shreds what is granted, in one audited transaction, and\n"
    "prints the certificate of erasure. Health or genetic items are erased only\n"
    "with the DPO's approval of the plan: --approve-health names the digest that\n"
    "plan printed, and is refused when the plan has changed since.\n"
    "--treatment-ended and --died give the dates (YYYY-MM-DD) that rules with\n"
    "those triggers need; without them such items are kept (trigger date unknown).\n";

typedef struct er_opts {
    cu_erasure_opts o;
    const char *format, *out, *key, *ledger;
    bool without_ledger;
} er_opts;

static int date_opt(const char *arg, const char *name, int64_t *out)
{
    cu_date d;
    if (!cu_date_parse(arg, strlen(arg), &d))
        return cli_usage("%s needs a date YYYY-MM-DD", name);
    *out = cu_date_to_days(d) * 86400000000LL;
    return 0;
}

static int er_opt(void *ctx, int opt, const char *arg)
{
    er_opts *o = ctx;
    switch (opt) {
    case 't': return date_opt(arg, "--treatment-ended", &o->o.treatment_ended);
    case 'd': return date_opt(arg, "--died", &o->o.died);
    case 'a': o->o.approve = arg; return 0;
    case 'f':
        if (strcmp(arg, "md") != 0 && strcmp(arg, "json") != 0)
            return cli_usage("--format must be md or json");
        o->format = arg;
        return 0;
    case 'o': o->out = arg; return 0;
    case 'k': o->key = arg; return 0;
    case 'l': o->ledger = arg; return 0;
    case 'L': o->without_ledger = true; return 0;
    default: return cli_usage("unexpected option");
    }
}

static const struct option er_options[] = {
    CLI_COMMON_OPTIONS,
    {"treatment-ended", required_argument, NULL, 't'},
    {"died", required_argument, NULL, 'd'},
    {"approve-health", required_argument, NULL, 'a'},
    {"format", required_argument, NULL, 'f'},
    {"out", required_argument, NULL, 'o'},
    {"key", required_argument, NULL, 'k'},
    {"ledger", required_argument, NULL, 'l'},
    {"without-ledger", no_argument, NULL, 'L'},
    {0, 0, 0, 0},
};

static int parse(cli *c, int argc, char **argv, const char *help, er_opts *o,
                 const char **arg, const char *what)
{
    memset(o, 0, sizeof *o);
    int rc = cli_parse(c, argc, argv, er_options, help, er_opt, o);
    if (rc)
        return rc;
    if (argc - optind != 1)
        return cli_usage("%s needs %s", argv[0], what);
    *arg = argv[optind];
    return 0;
}

static int emit(cli *c, const er_opts *o, const cu_erasure_result *r)
{
    bool json = c->json || (o->format && strcmp(o->format, "json") == 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        fputs("custos: out of memory\n", stderr);
        return EXIT_INTERNAL;
    }
    if (json) {
        json_t *j = cu_erasure_json(r);
        json_dumpf(j, f, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
        fputc('\n', f);
        json_decref(j);
    } else {
        cu_erasure_md(f, r);
    }
    fclose(f);
    int rc = EXIT_DONE;
    if (o->out) {
        cu_err err = {0};
        if (cu_write_file_atomic(o->out, text, len, 0600, 0, &err))
            rc = cli_fail(c, &err);
    } else {
        fwrite(text, 1, len, stdout);
    }
    free(text);
    return rc;
}

static int erasure_run(cli *c, int argc, char **argv, bool execute)
{
    er_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, erasure_help, &o, &id, "a subject id");
    if (rc)
        return rc;
    if (!execute && o.o.approve)
        return cli_usage("--approve-health belongs to erasure execute");
    cu_err err = {0};
    cu_erasure_result r;
    if (cli_open(c, execute ? "erasure execute" : "erasure plan", &err))
        return cli_fail(c, &err);
    rc = execute ? cu_erasure_execute(c->vault, &c->actor, id, &o.o, &r, &err)
                 : cu_erasure_plan(c->vault, &c->actor, id, &o.o, &r, &err);
    if (rc) {
        cu_erasure_result_release(&r);
        return cli_fail(c, &err);
    }
    rc = emit(c, &o, &r);
    cu_erasure_result_release(&r);
    return rc;
}

static int erasure_plan(cli *c, int argc, char **argv)
{
    return erasure_run(c, argc, argv, false);
}

static int erasure_execute(cli *c, int argc, char **argv)
{
    return erasure_run(c, argc, argv, true);
}

int cmd_erasure(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"plan", erasure_plan},
        {"execute", erasure_execute},
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], erasure_help);
}

static const char backup_help[] =
    "usage: custos backup FILE\n"
    "\n"
    "Writes a consistent, encrypted backup of the store (it may be serving\n"
    "meanwhile) to FILE, mode 0600, under a key derived from the master key.\n"
    "The erasure ledger is not in it: back that file up separately\n"
    "(docs/operations.md).\n";

int cmd_backup(cli *c, int argc, char **argv)
{
    er_opts o;
    const char *file = NULL;
    int rc = parse(c, argc, argv, backup_help, &o, &file, "a backup file");
    if (rc)
        return rc;
    cu_err err = {0};
    cu_backup_info info = {0};
    if (cli_open(c, "backup", &err) || cu_vault_backup(c->vault, &c->actor, file, &info, &err))
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:I}", "backup", file, "store", info.store_id,
                                 "bytes", (json_int_t)info.bytes));
    else
        printf("backed up store %s to %s (%lld bytes before encryption)\n", info.store_id,
               file, (long long)info.bytes);
    return EXIT_DONE;
}

static const char restore_help[] =
    "usage: custos restore FILE --store DIR [--key FILE] (--ledger FILE | --without-ledger)\n"
    "\n"
    "Restores a backup into DIR, which must hold no store. --key is the master\n"
    "key, copied to DIR/master.key when that is missing (without --key:\n"
    "CUSTOS_MASTER_KEY_FILE, else DIR/master.key). --ledger is the\n"
    "current erasure ledger (copied into DIR): every erasure it records that the\n"
    "backup does not is applied again, audited, before the store serves\n"
    "anything. Nothing is left in DIR when the restore fails.\n";

int cmd_restore(cli *c, int argc, char **argv)
{
    er_opts o;
    const char *file = NULL;
    int rc = parse(c, argc, argv, restore_help, &o, &file, "a backup file");
    if (rc)
        return rc;
    if (o.ledger && o.without_ledger)
        return cli_usage("--ledger and --without-ledger exclude each other");
    cu_err err = {0};
    cu_backup_info info = {0};
    int64_t replayed = 0;
    /* An explicit --key is copied into DIR; a key kept elsewhere
     * (CUSTOS_MASTER_KEY_FILE, custos.conf) stays where it is. */
    if (cu_vault_set_database(c->database, &err))
        return cli_fail(c, &err);
    if (cu_backup_restore(file, c->store, o.key ? o.key : c->key_file, o.key != NULL, o.ledger,
                          o.without_ledger, &info, &replayed, &err))
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:I}", "restored", c->store, "store",
                                 info.store_id, "erasures_reapplied", (json_int_t)replayed));
    else
        printf("restored store %s into %s; %lld erasure(s) re-applied from the ledger\n",
               info.store_id, c->store, (long long)replayed);
    return EXIT_DONE;
}
