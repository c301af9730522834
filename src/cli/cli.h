/*
 * cli.h — shared by the `custos` subcommands: options every command accepts,
 * the acting user, opening the vault, and how results and errors are printed.
 *
 * Exit status: 0 done; 1 refused or invalid input (bad JSON, invalid NHS
 * number, not found, erased, wrong or missing key, newer store, failed audit
 * verification); 2 usage error; 3 internal error (I/O, damaged store, bug).
 * Errors are one line on stderr, "custos: <message>"; with --json the same
 * error is also printed on stdout as {"error": {"type": ..., "message": ...}}.
 */
#ifndef CUSTOS_CLI_CLI_H
#define CUSTOS_CLI_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/subject.h"
#include "domain/vault.h"
#include "iface/render.h"
#include "util/err.h"

enum { EXIT_DONE = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_INTERNAL = 3 };

typedef struct cli {
    const char *prog;     /* how custos was invoked, for hints */
    const char *store;    /* --store, CUSTOS_STORE, or ./var */
    const char *database; /* --database, CUSTOS_DATABASE, or NULL: the store is
                           * the SQLite file in the store directory */
    const char *key_file; /* CUSTOS_MASTER_KEY_FILE, else custos.conf's master_key_file,
                           * else NULL for <store>/master.key */
    char key_file_buf[4096];
    const char *holidays_file; /* CUSTOS_BANK_HOLIDAYS, else custos.conf's bank_holidays_file,
                                * else NULL for the built-in calendar */
    char holidays_file_buf[4096];
    char public_url_conf[256]; /* custos.conf's public_url, or "" */
    const char *node;     /* --node, CUSTOS_NODE, else the host name (cli_open) */
    const char *purpose;  /* --purpose, default "administration" */
    bool purpose_given;   /* --purpose was on the command line */
    bool json;
    char user[65];
    char via[64];
    cu_actor actor;
    cu_vault *vault;
} cli;

/* Long options every subcommand accepts; ids above 0x100 to stay clear of
 * single-letter options. */
enum { OPT_STORE = 0x100, OPT_JSON, OPT_PURPOSE, OPT_HELP, OPT_DATABASE, OPT_NODE };
#define CLI_COMMON_OPTIONS                                                                  \
    {"store", required_argument, NULL, OPT_STORE},                                          \
        {"database", required_argument, NULL, OPT_DATABASE},                                \
        {"json", no_argument, NULL, OPT_JSON},                                              \
        {"purpose", required_argument, NULL, OPT_PURPOSE},                                  \
        {"help", no_argument, NULL, OPT_HELP},                                              \
        {"node", required_argument, NULL, OPT_NODE}

/* Handles a common option; returns 1 if handled, 0 if not one, -1 after
 * printing help (the caller returns EXIT_DONE). */
int cli_common_option(cli *c, int opt, const char *arg, const char *help);

/* Parses argv against options (which include CLI_COMMON_OPTIONS). For each
 * command-specific option, calls on_opt(ctx, opt, optarg), which returns 0 or
 * an exit status. Leaves optind at the first operand. Returns -1 when help
 * was printed, otherwise 0 or an exit status. */
typedef int (*cli_opt_fn)(void *ctx, int opt, const char *arg);
int cli_parse(cli *c, int argc, char **argv, const struct option *options, const char *help,
              cli_opt_fn on_opt, void *ctx);

/* After cu_audit_check: when its audit event could not be stored, says so on
 * stderr (the verification's result stands). */
void cli_note_unrecorded(const cu_verify_report *rep);

/* Prints a usage error and returns EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints err and returns its exit status. */
int cli_fail(const cli *c, const cu_err *err);
int cli_exit_status(cu_status code);

/* Reads <store>/custos.conf, if there is one (see docs/operations.md). */
int cli_load_config(cli *c, cu_err *err);

/* Sets the public URL links are made with (iface/link.h): opt (a command's
 * --public-url), else CUSTOS_PUBLIC_URL, else custos.conf's public_url (read
 * by cli_load_config, so call it after cli_open), else nothing is set. A
 * bad URL is CU_EINVAL naming where it came from. */
int cli_public_url(cli *c, const char *opt, cu_err *err);

/* Opens the vault at c->store and sets the actor for command name `via`. */
int cli_open(cli *c, const char *via, cu_err *err);
/* The same, also for a store whose rows are not yet authenticated (custos verify). */
int cli_open_unsealed(cli *c, const char *via, cu_err *err);
void cli_close(cli *c);

/* A write whose transaction the database aborted to keep concurrent ones
 * apart (CU_ERETRY, PostgreSQL) is run again whole, at most CU_TX_ATTEMPTS
 * times (cu_vault_rerun); each re-run says so in a line on stderr.
 *     CLI_RERUN(c, rc, &err, cu_subject_add(c->vault, ...));
 * call is evaluated once per attempt, and must start from the same state
 * each time (its outputs are overwritten; a collector is emptied first). */
bool cli_rerun(cli *c, int rc, unsigned attempts, cu_err *err);
#define CLI_RERUN(c, rc, err, call)                                                         \
    do {                                                                                    \
        unsigned cli_attempts_ = 0;                                                         \
        if ((c)->vault)                                                                     \
            (void)cu_vault_take_retry((c)->vault); /* a note from before the write */       \
        do                                                                                  \
            (rc) = (call);                                                                  \
        while (cli_rerun((c), (rc), ++cli_attempts_, (err)));                               \
    } while (0)

/* Reads a file (or stdin for "-") of at most limit bytes. */
int cli_read_input(const char *path, size_t limit, cu_buf *out, cu_err *err);

/* A page of a listing (--limit N, --cursor C): the same paging as the HTTP
 * listings (domain/subject.h: cu_list_cursor_*), with the cursor bound to
 * the command and its filters (scope). */
typedef struct cli_page {
    long long limit;   /* default 100, at most 500 */
    uint64_t at;       /* the position the page starts at */
    uint64_t seen;     /* entries offered so far */
    bool more;         /* an entry beyond the page was offered */
    char scope[256];
} cli_page;
/* Reads --limit and --cursor once the vault is open; CU_EINVAL for bad ones. */
int cli_page_begin(cli *c, cli_page *pg, const char *limit, const char *cursor, cu_err *err);
/* Whether the next entry is on the page (call once per entry, in order). */
bool cli_page_take(cli_page *pg);
/* The cursor of the next page into out, or "" after the last page. */
void cli_page_next(cli *c, const cli_page *pg, char out[CU_CURSOR_STRLEN]);

/* Prints a JSON value (and frees it) to stdout. */
void cli_print_json(json_t *v);

/* Dispatches `custos GROUP SUB ...` to the handler named SUB (which gets
 * argv starting at SUB); prints the group's help for --help or no SUB. */
typedef struct subcmd {
    const char *name;
    int (*fn)(cli *, int, char **);
} subcmd;
int cli_dispatch(cli *c, int argc, char **argv, const subcmd *subs, size_t n, const char *help);

/* Prints a command's help for --help: to stdout as it is, or as roff while
 * `custos --help-man` writes the manual page (cli/man.c). */
void cli_print_help(const char *help);
/* True while the manual page is written: nothing may open a store. */
bool cli_writing_manual(void);

/* The manual page custos.1: the parts of `custos --help` (lists in its
 * layout: "  TERM  description", continuation lines indented further), the
 * commands whose --help it includes, and the few parts only the page has. */
typedef struct cli_manual {
    const char *name;          /* NAME: what custos is, one line */
    const char *synopsis;      /* "custos [OPTIONS] COMMAND ..." */
    const char *about;         /* DESCRIPTION: a paragraph */
    const char *commands;      /* a list */
    const subcmd *cmds;        /* every command, each called with --help */
    size_t ncmds;
    const char *options;       /* a list */
    const char *environment;   /* a list */
    const char *exit_status;   /* a list */
    const char *files;         /* a list */
    const char *see_also;      /* a paragraph */
} cli_manual;
/* Writes the manual page to stdout as roff; EXIT_DONE or EXIT_INTERNAL. */
int cli_print_manual(cli *c, const cli_manual *m);

int cmd_init(cli *c, int argc, char **argv);
int cmd_status(cli *c, int argc, char **argv);
int cmd_controller(cli *c, int argc, char **argv);
int cmd_key(cli *c, int argc, char **argv);
int cmd_subject(cli *c, int argc, char **argv);
int cmd_audit(cli *c, int argc, char **argv);
/* cli/cmd_verify.c */
int cmd_verify(cli *c, int argc, char **argv);
int cmd_serve(cli *c, int argc, char **argv);
int cmd_user(cli *c, int argc, char **argv);
int cmd_care(cli *c, int argc, char **argv);
/* cli/cmd_policy.c */
int cmd_policy(cli *c, int argc, char **argv);
int cmd_notice(cli *c, int argc, char **argv);
int cmd_ropa(cli *c, int argc, char **argv);
int cmd_consent(cli *c, int argc, char **argv);
int cmd_subject_restrict(cli *c, int argc, char **argv);
int cmd_subject_object(cli *c, int argc, char **argv);
int cmd_subject_rights(cli *c, int argc, char **argv);
/* cli/cmd_questionnaire.c */
int cmd_questionnaire(cli *c, int argc, char **argv);
/* cli/cmd_requests.c */
int cmd_requests(cli *c, int argc, char **argv);
/* cli/cmd_tasks.c */
int cmd_tasks(cli *c, int argc, char **argv);
/* cli/cmd_portal.c */
int cmd_portal(cli *c, int argc, char **argv);
/* cli/cmd_pathway.c */
int cmd_pathway(cli *c, int argc, char **argv);

/* cli/cmd_erasure.c */
int cmd_erasure(cli *c, int argc, char **argv);
int cmd_backup(cli *c, int argc, char **argv);
int cmd_restore(cli *c, int argc, char **argv);
/* cli/cmd_sar.c */
int cmd_sar(cli *c, int argc, char **argv);
int cmd_disclose(cli *c, int argc, char **argv);
int cmd_disclosures(cli *c, int argc, char **argv);

#endif
