/* custos erasure plan|execute, backup, restore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/backup.h"
#include "domain/erasure.h"
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

static json_t *line_json(const cu_erasure_line *l)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o}", "item", l->id, "field", l->field,
                          "category", l->category, "reason", l->reason, "collected_at",
                          cu_json_time(l->collected_at));
    if (l->rule[0]) {
        json_object_set_new(j, "rule", json_string(l->rule));
        json_object_set_new(j, "trigger", json_string(l->trigger));
        json_object_set_new(j, "trigger_date",
                            l->trigger_at ? cu_json_time(l->trigger_at) : json_null());
    }
    if (!l->granted)
        json_object_set_new(j, "earliest_erasure",
                            l->earliest ? cu_json_time(l->earliest) : json_null());
    else
        json_object_set_new(j, "needs_approval", json_boolean(l->needs_approval));
    return j;
}

static json_t *result_json(const cu_erasure_result *r)
{
    json_t *erased = json_array(), *kept = json_array();
    for (size_t i = 0; i < r->n; i++)
        json_array_append_new(r->lines[i].granted ? erased : kept, line_json(&r->lines[i]));
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:o, s:s, s:b, s:o, s:o}", "format",
        r->executed ? "custos-erasure-certificate/1" : "custos-erasure-plan/1", "subject",
        r->subject_id, "controller", r->controller_id, "kind", r->kind, "policy_version",
        (json_int_t)r->policy_version, "decided_at", cu_json_time(r->decided_at),
        "plan_digest", r->digest, "executed", r->executed,
        r->executed ? "erased" : "to_erase", erased, r->executed ? "kept" : "to_keep", kept);
    json_object_set_new(j, "health_approval_needed", json_boolean(r->napproval > 0));
    if (r->executed) {
        json_object_set_new(j, "executed_at", cu_json_time(r->executed_at));
        json_object_set_new(j, "method",
                            json_string(r->whole_subject
                                            ? "whole-subject crypto-shredding: data key "
                                              "destroyed, items and blind indexes deleted"
                                            : "item-level crypto-shredding: kept items "
                                              "re-encrypted under a new data key, old key "
                                              "destroyed, erased items and blind indexes "
                                              "deleted"));
        if (!r->whole_subject)
            json_object_set_new(j, "key_version", json_integer(r->key_version));
        json_object_set_new(j, "ledger_entry", json_integer(r->ledger_seq));
        json_object_set_new(j, "health_approval",
                            r->health_approved
                                ? json_pack("{s:s, s:s}", "approved_by", r->approved_by,
                                            "plan_digest", r->digest)
                                : json_null());
        /* Art 19: the recipients of earlier disclosures, to be told of the
         * erasure. The disclosure log is not wired in yet: always empty. */
        json_object_set_new(j, "recipients_to_notify", json_array());
        json_object_set_new(j, "recipients_to_notify_source",
                            json_string("not-yet-available: the disclosure log is not "
                                        "recorded by this version; check disclosures "
                                        "manually"));
    }
    return j;
}

static void md_time(FILE *f, int64_t us)
{
    char t[CU_TIME_STRLEN];
    cu_time_format(us, t);
    fprintf(f, "%.10s", t);
}

static void result_md(FILE *f, const cu_erasure_result *r)
{
    char t[CU_TIME_STRLEN];
    fprintf(f, "# %s\n\n", r->executed ? "Certificate of erasure" : "Erasure plan");
    fprintf(f, "- Subject: `%s` (%s)\n- Controller: `%s`\n- Policy version: %lld\n",
            r->subject_id, r->kind, r->controller_id, (long long)r->policy_version);
    cu_time_format(r->decided_at, t);
    fprintf(f, "- Decided: %s\n- Plan digest: `%s`\n", t, r->digest);
    if (r->executed) {
        cu_time_format(r->executed_at, t);
        fprintf(f, "- Executed: %s (erasure ledger entry %lld)\n", t, (long long)r->ledger_seq);
        fprintf(f, "- Method: %s\n",
                r->whole_subject ? "whole-subject crypto-shredding (data key destroyed)"
                                 : "item-level crypto-shredding (kept items re-encrypted "
                                   "under a new data key; the old key destroyed)");
        if (r->health_approved)
            fprintf(f, "- Health data erasure approved by: %s\n", r->approved_by);
    } else if (r->napproval) {
        fprintf(f, "- Health or genetic items would be erased: the DPO approves with "
                   "`custos erasure execute %s --approve-health %s`\n",
                r->subject_id, r->digest);
    }
    for (int pass = 0; pass < 2; pass++) {
        fprintf(f, "\n## %s\n\n", pass == 0 ? (r->executed ? "Erased" : "To erase")
                                            : (r->executed ? "Kept" : "To keep"));
        bool any = false;
        for (size_t i = 0; i < r->n; i++) {
            const cu_erasure_line *l = &r->lines[i];
            if (l->granted != (pass == 0))
                continue;
            any = true;
            fprintf(f, "- `%s` %s (%s): %s", l->id, l->field, l->category, l->reason);
            if (l->rule[0])
                fprintf(f, ", rule %s (trigger %s)", l->rule, l->trigger);
            if (!l->granted && l->earliest) {
                fputs(", erasure possible from ", f);
                md_time(f, l->earliest);
            }
            fputc('\n', f);
        }
        if (!any)
            fputs("- none\n", f);
    }
    if (r->executed)
        fputs("\n## Recipients to notify (Art 19)\n\n- none recorded: the disclosure log "
              "is not available in this version; check disclosures manually\n",
              f);
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
        json_t *j = result_json(r);
        json_dumpf(j, f, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
        fputc('\n', f);
        json_decref(j);
    } else {
        result_md(f, r);
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
    const char *id;
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
    const char *file;
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
    "key (default DIR/master.key; copied there when missing). --ledger is the\n"
    "current erasure ledger (copied into DIR): every erasure it records that the\n"
    "backup does not is applied again, audited, before the store serves\n"
    "anything. Nothing is left in DIR when the restore fails.\n";

int cmd_restore(cli *c, int argc, char **argv)
{
    er_opts o;
    const char *file;
    int rc = parse(c, argc, argv, restore_help, &o, &file, "a backup file");
    if (rc)
        return rc;
    if (o.ledger && o.without_ledger)
        return cli_usage("--ledger and --without-ledger exclude each other");
    cu_err err = {0};
    cu_backup_info info = {0};
    int64_t replayed = 0;
    if (cu_backup_restore(file, c->store, o.key ? o.key : c->key_file, o.ledger,
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
