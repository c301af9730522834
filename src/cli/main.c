/*
 * custos — a patient-data vault that makes a privacy notice's promises
 * executable. This file dispatches to the subcommands in cli/cmd_*.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "crypto/crypto.h"
#include "domain/input.h"

/* `custos --help`, in parts: the manual page (custos --help-man, cli/man.c)
 * is made of the same parts, and of each command's own --help. */
#define USAGE_SYNOPSIS "custos [--store DIR] [--json] [--purpose P] COMMAND [ARGS]"
#define USAGE_ABOUT                                                                        \
    "Holds personal data encrypted under per-subject keys and records every\n"             \
    "access in a tamper-evident audit trail.\n"
#define USAGE_COMMANDS \
    "  init                         create a store (and its master key)\n" \
    "  status [--tour]              what the store holds; --tour adds a walk-through\n" \
    "  controller add --name NAME   add a controller (an organisation)\n" \
    "  controller list              list controllers\n" \
    "  subject add --controller ID --kind KIND   add a subject (JSON on stdin)\n" \
    "  subject add-items ID         add items to a subject (JSON on stdin)\n" \
    "  subject show ID              show a subject, decrypted\n" \
    "  subject find --nhs-number N | --email E | --phone P | --local-ref R\n" \
    "  subject find --name FAMILY --birth-date YYYY-MM-DD   find by name and birth date\n" \
    "  subject reindex [--controller ID]   index names and birth dates of older subjects\n" \
    "  subject list [--controller ID]\n" \
    "  subject rectify ID           correct values (JSON on stdin)\n" \
    "  subject erase ID             crypto-shred a subject\n" \
    "  subject restrict|object|rights ID   restriction (Art 18) and objection (Art 21)\n" \
    "  policy check|apply|show|history     the controller's policy (docs/policy.md)\n" \
    "  questionnaire add|list|show|send|enter|responses|outcome  questionnaires, answers\n" \
    "  pathway add|list|show|enrol|discharge   follow-up pathways (docs/pathways.md)\n" \
    "  portal invite SUBJECT [--days N]   an invitation to the patient portal\n" \
    "  notice --controller ID [--format html|md]   the privacy notice, generated\n" \
    "  ropa [--format json|csv]     the Article 30 record of processing, generated\n" \
    "  consent give|withdraw|show|link SUBJECT ...   consent records\n" \
    "  requests receive|verify|clarify|resume|extend|fulfil|refuse|withdraw|show|list|due\n" \
    "                               rights requests and their statutory clocks\n" \
    "  tasks list|ack|done|due      the clinical task list of a controller, and what\n" \
    "                               is due on its follow-up pathways\n" \
    "  erasure plan|execute SUBJECT   an erasure request, item by item (Art 17)\n" \
    "  backup FILE                  an encrypted backup of the live store\n" \
    "  restore FILE --store DIR --ledger FILE   restore, re-applying later erasures\n" \
    "  sar SUBJECT [--format json|html|fhir] [--portable]   subject access package\n" \
    "  disclose SUBJECT ...         record a disclosure made outside custos\n" \
    "  disclosures SUBJECT          the subject's disclosure log\n" \
    "  audit verify                 recompute the hash chain and signatures\n" \
    "  audit show [--subject ID]    who did what, when and why\n" \
    "  audit head                   the signed chain head, for anchoring elsewhere\n" \
    "  audit restart                start a new trail on a store whose trail was lost\n" \
    "  verify [--seal]              check the whole store: the audit trail and every\n" \
    "                               authenticated row\n" \
    "  key rotate                   rewrap every data key under a new master key\n" \
    "  serve [--listen HOST:PORT]   serve the HTTP API (default 127.0.0.1:8080)\n" \
    "  routes                       the HTTP API's routes, one METHOD PATH a line\n" \
    "  user add|disable|reset-password|token create|token revoke   staff accounts\n" \
    "  care add|remove --user U --subject ID   care lists\n"
#define USAGE_OPTIONS \
    "  --store DIR    the store directory (default $CUSTOS_STORE or ./var)\n" \
    "  --database URL  keep the store in this PostgreSQL database (postgresql://...;\n" \
    "                 default $CUSTOS_DATABASE) instead of the SQLite file\n" \
    "                 DIR/custos.db; DIR still holds the key, configuration, ledger\n" \
    "                 and backups\n" \
    "  --json         machine-readable output\n" \
    "  --node NAME    this node's name, naming its signing key when several\n" \
    "                 processes share one store (default $CUSTOS_NODE, else the\n" \
    "                 host name)\n" \
    "  --purpose P    why you are acting: a purpose of the controller's policy for\n" \
    "                 any use of personal data (default: administration, which\n" \
    "                 covers only commands that touch no personal data)\n" \
    "  --help         help for the command\n"
#ifdef CUSTOS_TEST_CLOCK
#define USAGE_TEST_CLOCK "  CUSTOS_FAKE_NOW         the time, in seconds since 1970 (test builds only)\n"
#else
#define USAGE_TEST_CLOCK ""
#endif
#ifdef CUSTOS_FAULT_INJECTION
#define USAGE_FAULT_INJECTION                                                              \
    "  CUSTOS_FAULT_AT         make the Nth store call (or commit) fail (builds with\n"   \
    "                          -Dfault_injection only)\n"                               \
    "  CUSTOS_FAULT_KIND       what CUSTOS_FAULT_AT counts: call (default) or commit\n"  \
    "  CUSTOS_FAULT_ERROR      retry: fail as a transaction the database aborted,\n"    \
    "                          which is run again (default: an I/O error)\n"          \
    "  CUSTOS_FAULT_TIMES      K: fail K calls (or commits) in a row (default 1)\n"    \
    "  CUSTOS_FAULT_COUNT      1: print at exit how many store calls were made\n"        \
    "  CUSTOS_FAULT_HOLD       PATH: hash a new password only once PATH is gone\n"
#else
#define USAGE_FAULT_INJECTION ""
#endif
#define USAGE_ENVIRONMENT                                                                  \
    "  CUSTOS_STORE            the store directory, when --store is not given\n"          \
    "  CUSTOS_DATABASE         a PostgreSQL database URL for the store, when\n"           \
    "                          --database is not given\n"                                \
    "  CUSTOS_NODE             this node's name, when --node is not given\n"              \
    "  CUSTOS_MASTER_KEY_FILE  the master key file (default: custos.conf's\n"              \
    "                          master_key_file, else DIR/master.key)\n"                   \
    "  CUSTOS_BANK_HOLIDAYS    a bank-holiday calendar file (default: custos.conf's\n"     \
    "                          bank_holidays_file, else the built-in calendar)\n"          \
    "  CUSTOS_LOG_FORMAT       serve's log: json, text or journal (--log-format wins)\n"   \
    "  CUSTOS_JOURNAL_SOCKET   the journal's socket for --log-format journal (default\n"   \
    "                          /run/systemd/journal/socket)\n"                           \
    "  CUSTOS_PUBLIC_URL       the address links given to people start with (serve and\n" \
    "                          consent link; --public-url wins, then this, then\n"       \
    "                          custos.conf's public_url)\n"                             \
    USAGE_TEST_CLOCK                                                                        \
    USAGE_FAULT_INJECTION
#define USAGE_EXIT_STATUS                                                                  \
    "  0  done\n"                                                                          \
    "  1  refused or invalid input\n"                                                      \
    "  2  usage error\n"                                                                   \
    "  3  internal error\n"

static const char usage[] = "usage: " USAGE_SYNOPSIS "\n"
                            "\n" USAGE_ABOUT "\n"
                            "commands:\n" USAGE_COMMANDS "\n"
                            "options (accepted by every command):\n" USAGE_OPTIONS "\n"
                            "environment:\n" USAGE_ENVIRONMENT "exit status:\n" USAGE_EXIT_STATUS;

/* cli/cmd_routes.c */
int cmd_routes(cli *c, int argc, char **argv);

static const subcmd cmds[] = {
    {"init", cmd_init},       {"status", cmd_status}, {"controller", cmd_controller},
    {"subject", cmd_subject}, {"audit", cmd_audit},   {"key", cmd_key},
    {"serve", cmd_serve},     {"user", cmd_user},     {"care", cmd_care},
    {"routes", cmd_routes},   {"policy", cmd_policy}, {"notice", cmd_notice},
    {"ropa", cmd_ropa},       {"consent", cmd_consent}, {"requests", cmd_requests},
    {"erasure", cmd_erasure}, {"backup", cmd_backup},   {"restore", cmd_restore},
    {"sar", cmd_sar},         {"disclose", cmd_disclose},
    {"disclosures", cmd_disclosures}, {"verify", cmd_verify}, {"tasks", cmd_tasks},
    {"questionnaire", cmd_questionnaire}, {"pathway", cmd_pathway},
    {"portal", cmd_portal},
};

/* The manual page (custos --help-man): the parts of the usage above, each
 * command's --help, and the parts only a manual page has. */
static const cli_manual manual = {
    .name = "patient-data vault: personal data under per-subject keys, every access audited",
    .synopsis = USAGE_SYNOPSIS,
    .about = USAGE_ABOUT,
    .commands = USAGE_COMMANDS,
    .cmds = cmds,
    .ncmds = sizeof cmds / sizeof cmds[0],
    .options = USAGE_OPTIONS,
    .environment = USAGE_ENVIRONMENT,
    .exit_status = USAGE_EXIT_STATUS,
    .files = "  DIR/custos.db   the SQLite store (with custos.db-wal and custos.db-shm);\n"
             "                  personal values only as ciphertext\n"
             "  DIR/master.key  the master key (mode 0600), unless kept elsewhere\n"
             "  DIR/custos.conf  optional settings: master_key_file, bank_holidays_file\n"
             "  /etc/custos/custos.env  the environment of the systemd unit custos.service\n",
    .see_also = "systemd.service(5), nginx(8); the operator's guide (docs/operations.md),\n"
                "the command reference (docs/cli.md) and the HTTP API (docs/api.md) in the\n"
                "custos sources; deployment examples in share/doc/custos/examples.\n",
};

int main(int argc, char **argv)
{
    if (cu_crypto_init()) {
        fputs("custos: cannot initialise the cryptographic library\n", stderr);
        return EXIT_INTERNAL;
    }
    cu_input_init();
    /* Everything custos creates (database, WAL, key files) is for its user only. */
    umask(077);
    cli c = {.prog = argv[0], .store = getenv("CUSTOS_STORE"), .database = getenv("CUSTOS_DATABASE"),
             .key_file = getenv("CUSTOS_MASTER_KEY_FILE"),
             .holidays_file = getenv("CUSTOS_BANK_HOLIDAYS"), .node = getenv("CUSTOS_NODE"),
             .purpose = "administration"};
    if (!c.store || !*c.store)
        c.store = "./var";
    if (c.database && !*c.database)
        c.database = NULL;
    if (c.key_file && !*c.key_file)
        c.key_file = NULL;
    if (c.holidays_file && !*c.holidays_file)
        c.holidays_file = NULL;

    /* Options before the command. */
    static const struct option opts[] = {CLI_COMMON_OPTIONS,
                                         {"version", no_argument, NULL, 'V'},
                                         {"help-man", no_argument, NULL, 'M'},
                                         {0, 0, 0, 0}};
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (opt == 'V') {
#ifdef CUSTOS_TEST_CLOCK
            puts("custos " CUSTOS_VERSION " (test build: CUSTOS_FAKE_NOW sets the clock)");
#else
            puts("custos " CUSTOS_VERSION);
#endif
            return EXIT_DONE;
        }
        if (opt == 'M') /* not in --help: the build makes custos.1 with it */
            return cli_print_manual(&c, &manual);
        if (opt == '?')
            return cli_usage("unknown or incomplete option %s", argv[optind - 1]);
        if (cli_common_option(&c, opt, optarg, usage) < 0)
            return EXIT_DONE;
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[optind];
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    if (strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return EXIT_DONE;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmd, cmds[i].name) == 0) {
            int rc = cmds[i].fn(&c, sub_argc, sub_argv);
            cli_close(&c);
            return rc < 0 ? EXIT_DONE : rc;
        }
    return cli_usage("unknown command %s", cmd);
}
