/* custos init, status, controller add|list, key rotate|status|schedule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/consent.h"
#include "domain/keysched.h"
#include "domain/subject.h"
#include "iface/wording.h"
#include "util/clock.h"

/* ---- init ---- */

static const char init_help[] =
    "usage: custos init [--store DIR]\n"
    "\n"
    "Creates a store in DIR (default ./var): the directory (mode 0700), a new\n"
    "random master key DIR/master.key (mode 0600) unless CUSTOS_MASTER_KEY_FILE\n"
    "names an existing one, the database, and the store's signing and\n"
    "blind-index keys, wrapped by the master key. Back the master key up apart\n"
    "from the store: without it nothing in the store can be read. The key's path\n"
    "may also be set in DIR/custos.conf (master_key_file = PATH); the\n"
    "environment variable takes precedence.\n";

int cmd_init(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    int rc = cli_parse(c, argc, argv, opts, init_help, NULL, NULL);
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage("init takes no operands");
    cu_err err = {0};
    if (cli_load_config(c, &err) || cu_vault_init(c->store, c->key_file, &err))
        return cli_fail(c, &err);
    if (cli_open(c, "init", &err))
        return cli_fail(c, &err);
    if (c->json) {
        char pk[2 * CU_PUBKEY_BYTES + 1];
        cu_vault_public_key(c->vault, pk);
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "store", c->store, "store_id",
                                 cu_vault_store_id(c->vault), "master_key_file",
                                 cu_vault_key_path(c->vault), "audit_public_key", pk));
    } else {
        printf("created store %s in %s\nmaster key: %s (keep a copy apart from the store)\n",
               cu_vault_store_id(c->vault), c->store, cu_vault_key_path(c->vault));
    }
    return EXIT_DONE;
}

/* ---- status ---- */

static const char status_help[] =
    "usage: custos status [--tour] [--store DIR] [--json]\n"
    "\n"
    "Prints what the store holds: controllers, subjects, items and audit events,\n"
    "and whether the audit trail verifies. --tour adds a short walk-through of\n"
    "the commands, using ids from this store.\n";

typedef struct status_opts {
    bool tour;
} status_opts;

static int status_opt(void *ctx, int opt, const char *arg)
{
    (void)arg;
    if (opt == 't') {
        ((status_opts *)ctx)->tour = true;
        return 0;
    }
    return cli_usage("unexpected option");
}

typedef struct ctl_list {
    json_t *arr;
    char first[CU_ID_STRLEN];
} ctl_list;

static int ctl_collect(void *ctx, const char *id, const char *name, int64_t created)
{
    ctl_list *l = ctx;
    if (!l->first[0])
        cu_strlcpy(l->first, id, sizeof l->first);
    json_array_append_new(l->arr, json_pack("{s:s, s:s, s:o}", "id", id, "name", name,
                                            "created_at", cu_json_time(created)));
    return 0;
}

typedef struct first_subject {
    char id[CU_ID_STRLEN];   /* the first live subject: the tour reads it */
    char last[CU_ID_STRLEN]; /* the last live one: the tour erases it */
} first_subject;

static int first_live_subject(void *ctx, const cu_subject_rec *r)
{
    first_subject *f = ctx;
    if (!r->erased_at && !f->id[0])
        cu_strlcpy(f->id, r->id, sizeof f->id);
    if (!r->erased_at)
        cu_strlcpy(f->last, r->id, sizeof f->last);
    return 0;
}

int cmd_status(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS,
                                         {"tour", no_argument, NULL, 't'},
                                         {0, 0, 0, 0}};
    status_opts so = {0};
    int rc = cli_parse(c, argc, argv, opts, status_help, status_opt, &so);
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage("status takes no operands");
    cu_err err = {0};
    if (cli_open(c, "status", &err))
        return cli_fail(c, &err);
    cu_store_counts n;
    cu_key_schedule ks;
    ctl_list ctl = {.arr = json_array()};
    cu_verify_report rep;
    if (cu_vault_counts(c->vault, &n, &err) ||
        cu_controller_each(c->vault, ctl_collect, &ctl, &err) ||
        cu_audit_check(c->vault, &c->actor, &rep, &err) ||
        cu_key_schedule_get(c->vault, cu_now_us(), &ks, &err)) {
        json_decref(ctl.arr);
        return cli_fail(c, &err);
    }
    cli_note_unrecorded(&rep);
    /* The tour names a live subject when the first controller's policy lets
     * the purpose list its subjects; otherwise it says SUBJECT_ID. */
    first_subject fs = {0};
    if (so.tour && ctl.first[0] &&
        cu_subject_list(c->vault, &c->actor, ctl.first, first_live_subject, &fs, &err)) {
        if (err.code != CU_EDENIED) {
            json_decref(ctl.arr);
            return cli_fail(c, &err);
        }
        cu_err_clear(&err);
        fs.id[0] = '\0';
    }
    if (c->json) {
        cli_print_json(json_pack(
            "{s:s, s:s, s:o, s:{s:I, s:I, s:I, s:I}, s:{s:b, s:I, s:s}}", "store", c->store,
            "store_id", cu_vault_store_id(c->vault), "controllers", ctl.arr, "counts",
            "subjects", (json_int_t)n.subjects, "erased_subjects", (json_int_t)n.erased,
            "items", (json_int_t)n.items, "audit_events", (json_int_t)rep.events,
            "audit", "verified", rep.ok, "events_checked", (json_int_t)rep.events, "problem",
            rep.ok ? "" : rep.reason));
        return EXIT_DONE;
    }
    printf("custos store %s (%s)\n", c->store, cu_vault_store_id(c->vault));
    printf("  controllers:   %lld\n", (long long)n.controllers);
    for (size_t i = 0; i < json_array_size(ctl.arr); i++) {
        json_t *e = json_array_get(ctl.arr, i);
        printf("    %s  %s\n", json_string_value(json_object_get(e, "id")),
               json_string_value(json_object_get(e, "name")));
    }
    printf("  subjects:      %lld (and %lld erased)\n", (long long)n.subjects,
           (long long)n.erased);
    printf("  items:         %lld, every value encrypted under its subject's key\n",
           (long long)n.items);
    printf("  audit events:  %lld, chain %s\n", (long long)rep.events,
           rep.ok ? "verified" : "FAILED VERIFICATION");
    if (!rep.ok)
        printf("    %s\n", rep.reason);
    char since[64];
    cu_wording_date(ks.since_us, since, sizeof since);
    printf("  master key:    in use since %s%s; %s\n", ks.since_known ? "" : "at least ", since,
           !ks.every_days ? "no rotation interval set"
           : ks.overdue   ? "rotation OVERDUE (custos key rotate)"
                          : "rotation not yet due");
    json_decref(ctl.arr);
    if (so.tour) {
        const char *ctl_id = ctl.first[0] ? ctl.first : "CONTROLLER_ID";
        const char *sid = fs.id[0] ? fs.id : "SUBJECT_ID";
        /* The destructive step takes another subject than the one the tour
         * (and the HTTP tour) reads, when there is one. */
        const char *gone = fs.last[0] && strcmp(fs.last, fs.id) != 0 ? fs.last
                                                                       : "ANOTHER_SUBJECT_ID";
        const char *p = c->prog, *st = c->store;
        printf("\nA short tour (store %s):\n"
               "  %s --store %s policy show --controller %s\n"
               "  %s --store %s --purpose direct_care subject list --controller %s\n"
               "  %s --store %s --purpose direct_care subject show %s\n"
               "  %s --store %s --purpose direct_care subject find --nhs-number '999 000 "
               "0018'\n"
               "  echo '{\"email\": \"new.address@example.org\"}' | %s --store %s --purpose "
               "subject_rights subject rectify %s\n"
               "  %s --store %s audit show --subject %s --with-values\n"
               "  %s --store %s audit verify\n"
               "  %s --store %s key rotate        # rewraps every data key; safe while serving\n"
               "Last, on another subject (%s stays for the HTTP API):\n"
               "  %s --store %s subject erase %s\n"
               "  %s --store %s --purpose direct_care subject show %s   # erased, and when\n"
               "Every command takes --help and --json; each access above is recorded in the\n"
               "audit trail with you as the actor and its --purpose, which must be one of\n"
               "the controller's policy (see custos notice --controller ID).\n",
               st, p, st, ctl_id, p, st, ctl_id, p, st, sid, p, st, p, st, sid, p, st, sid, p,
               st, p, st, sid, p, st, gone, p, st, gone);
    }
    return EXIT_DONE;
}

/* ---- controller ---- */

static const char controller_help[] =
    "usage: custos controller add --name NAME [--policy FILE]\n"
    "       custos controller list\n"
    "\n"
    "A controller is the organisation on whose behalf data is held (an NHS\n"
    "Trust, a GP practice, or the operator itself). Every subject belongs to one.\n"
    "Nothing about its subjects can be processed until it has a policy: give one\n"
    "with --policy (added in the same transaction), or later with policy apply.\n";

typedef struct ctl_opts {
    const char *name, *policy;
} ctl_opts;

static int ctl_opt(void *ctx, int opt, const char *arg)
{
    if (opt == 'n') {
        ((ctl_opts *)ctx)->name = arg;
        return 0;
    }
    if (opt == 'p') {
        ((ctl_opts *)ctx)->policy = arg;
        return 0;
    }
    return cli_usage("unexpected option");
}

static int controller_add(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS,
                                         {"name", required_argument, NULL, 'n'},
                                         {"policy", required_argument, NULL, 'p'},
                                         {0, 0, 0, 0}};
    ctl_opts o = {0};
    int rc = cli_parse(c, argc, argv, opts, controller_help, ctl_opt, &o);
    if (rc)
        return rc;
    if (!o.name)
        return cli_usage("controller add needs --name NAME");
    if (optind < argc)
        return cli_usage("controller add takes no operands");
    cu_err err = {0};
    char id[CU_ID_STRLEN];
    cu_buf doc;
    cu_buf_init(&doc, CU_POLICY_MAX_BYTES + 1);
    if (o.policy && cli_read_input(o.policy, CU_POLICY_MAX_BYTES, &doc, &err)) {
        cu_buf_release(&doc);
        return cli_fail(c, &err);
    }
    if (cli_open(c, "controller add", &err)) {
        cu_buf_release(&doc);
        return cli_fail(c, &err);
    }
    /* With a policy: both in one transaction, or neither. */
    rc = o.policy ? cu_vault_batch_begin(c->vault, &err) : CU_OK;
    if (!rc)
        rc = cu_controller_add(c->vault, &c->actor, o.name, id, &err);
    if (!rc && o.policy) {
        int64_t version;
        bool changed;
        cu_pol_report rep = {0};
        rc = cu_policy_apply(c->vault, &c->actor, id, doc.data, doc.len, &rep, &version,
                             &changed, &err);
        for (size_t i = 0; rc && i < rep.n; i++)
            fprintf(stdout, "%s %s: %s (%s)\n", rep.v[i].error ? "error" : "warning",
                    rep.v[i].path, rep.v[i].msg, rep.v[i].rule);
        cu_pol_report_release(&rep);
    }
    if (o.policy && !rc)
        rc = cu_vault_batch_commit(c->vault, &err);
    else if (o.policy)
        cu_vault_batch_abort(c->vault);
    cu_buf_release(&doc);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s}", "id", id));
    else
        puts(id);
    return EXIT_DONE;
}

static int controller_list(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    int rc = cli_parse(c, argc, argv, opts, controller_help, NULL, NULL);
    if (rc)
        return rc;
    cu_err err = {0};
    ctl_list l = {.arr = json_array()};
    if (cli_open(c, "controller list", &err) ||
        cu_controller_each(c->vault, ctl_collect, &l, &err)) {
        json_decref(l.arr);
        return cli_fail(c, &err);
    }
    if (c->json) {
        cli_print_json(l.arr);
        return EXIT_DONE;
    }
    for (size_t i = 0; i < json_array_size(l.arr); i++) {
        json_t *e = json_array_get(l.arr, i);
        printf("%s  %s\n", json_string_value(json_object_get(e, "id")),
               json_string_value(json_object_get(e, "name")));
    }
    json_decref(l.arr);
    return EXIT_DONE;
}

int cmd_controller(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {{"add", controller_add}, {"list", controller_list}};
    return cli_dispatch(c, argc, argv, subs, 2, controller_help);
}

/* ---- key ---- */

static const char key_help[] =
    "usage: custos key rotate\n"
    "       custos key status\n"
    "       custos key schedule --every DAYS\n"
    "\n"
    "rotate generates a new master key, rewraps every subject's data key and the\n"
    "store's own keys under it in one transaction (item ciphertexts are not\n"
    "touched), records the rotation in the audit trail, and replaces the master\n"
    "key file. The old key is destroyed: backups taken before the rotation need\n"
    "the old key file, so keep a copy with them first. Safe while custos serve\n"
    "runs: the server loads the new key at the start of its next transaction.\n"
    "\n"
    "status shows when the master key in use came into use, the rotation\n"
    "interval and when the next rotation is due. schedule --every DAYS sets the\n"
    "interval (1 to 366 days, 0 for none) for every node on the store, audited;\n"
    "custos serve logs a warning once a day while a rotation is overdue. An\n"
    "erased subject's data stays readable in old backups and database logs\n"
    "until the master key that wrapped its key is retired: the interval bounds\n"
    "that (docs/operations.md).\n";

static int key_status(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    int rc = cli_parse(c, argc, argv, opts, key_help, NULL, NULL);
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage("key status takes no operands");
    cu_err err = {0};
    cu_key_schedule ks;
    if (cli_open(c, "key status", &err) ||
        cu_key_schedule_get(c->vault, cu_now_us(), &ks, &err))
        return cli_fail(c, &err);
    char since[CU_TIME_STRLEN], due[CU_TIME_STRLEN];
    cu_time_format(ks.since_us, since);
    if (ks.every_days)
        cu_time_format(ks.due_us, due);
    if (c->json) {
        cli_print_json(json_pack("{s:s, s:s, s:b, s:I, s:o, s:o, s:b}", "master_key_file",
                                 cu_vault_key_path(c->vault), "in_use_since", since,
                                 "since_recorded", ks.since_known, "age_days",
                                 (json_int_t)ks.age_days, "rotation_days",
                                 ks.every_days ? json_integer(ks.every_days) : json_null(),
                                 "due", ks.every_days ? json_string(due) : json_null(),
                                 "overdue", ks.overdue));
        return EXIT_DONE;
    }
    char words[64];
    cu_wording_date(ks.since_us, words, sizeof words);
    printf("master key:   %s\n", cu_vault_key_path(c->vault));
    printf("in use since: %s%s (%lld day%s)\n", ks.since_known ? "" : "at least ", words,
           (long long)ks.age_days, ks.age_days == 1 ? "" : "s");
    if (!ks.every_days) {
        printf("rotation:     no interval set (custos key schedule --every DAYS)\n");
        return EXIT_DONE;
    }
    cu_wording_date(ks.due_us, words, sizeof words);
    printf("rotation:     every %d day%s; %s %s\n", ks.every_days, ks.every_days == 1 ? "" : "s",
           ks.overdue ? "OVERDUE since" : "next due", words);
    if (ks.overdue)
        printf("              run: custos key rotate\n");
    return EXIT_DONE;
}

static int every_opt(void *ctx, int opt, const char *arg)
{
    if (opt != 'e')
        return cli_usage("unexpected option");
    char *end = NULL;
    long d = strtol(arg, &end, 10);
    if (!*arg || *end || d < 0 || d > CU_KEY_ROTATION_MAX_DAYS)
        return cli_usage("--every takes a number of days from 1 to %d (0 for none)",
                         CU_KEY_ROTATION_MAX_DAYS);
    *(int *)ctx = (int)d;
    return 0;
}

static int key_schedule(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS,
                                         {"every", required_argument, NULL, 'e'},
                                         {0, 0, 0, 0}};
    int days = -1;
    int rc = cli_parse(c, argc, argv, opts, key_help, every_opt, &days);
    if (rc)
        return rc;
    if (days < 0)
        return cli_usage("key schedule needs --every DAYS");
    if (optind < argc)
        return cli_usage("key schedule takes no operands");
    cu_err err = {0};
    if (cli_open(c, "key schedule", &err) ||
        cu_key_schedule_set(c->vault, &c->actor, days, &err))
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:o}", "rotation_days", days ? json_integer(days) : json_null()));
    else if (days)
        printf("the master key is to be rotated every %d day%s\n", days, days == 1 ? "" : "s");
    else
        printf("no rotation interval is set\n");
    return EXIT_DONE;
}

static int key_rotate(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    int rc = cli_parse(c, argc, argv, opts, key_help, NULL, NULL);
    if (rc)
        return rc;
    cu_err err = {0};
    char kid[2 * CU_KEYID_BYTES + 1];
    if (cli_open(c, "key rotate", &err) || cu_vault_rotate_master(c->vault, &c->actor, kid, &err))
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s}", "master_key_id", kid, "master_key_file",
                                 cu_vault_key_path(c->vault)));
    else
        printf("rotated: master key %s is now %.16s…; every data key rewrapped\n",
               cu_vault_key_path(c->vault), kid);
    return EXIT_DONE;
}

int cmd_key(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"rotate", key_rotate}, {"status", key_status}, {"schedule", key_schedule}};
    return cli_dispatch(c, argc, argv, subs, 3, key_help);
}
