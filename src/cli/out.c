#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "domain/node.h"
#include "domain/recover.h"
#include "domain/requests.h"
#include "domain/model.h"
#include "domain/subject.h"
#include "util/clock.h"

int cli_exit_status(cu_status code)
{
    switch (code) {
    case CU_OK: return EXIT_DONE;
    case CU_EINVAL:
    case CU_ENOTFOUND:
    case CU_EERASED:
    case CU_EDENIED:
    case CU_ECONCEALED:
    case CU_ECONFLICT:
    case CU_EKEY:
    case CU_EVERSION:
    case CU_ETAMPER: return EXIT_REFUSED;
    case CU_ECORRUPT:
    case CU_EIO:
    case CU_ERETRY:
    case CU_EUNAVAILABLE:
    case CU_ENOMEM:
    case CU_EINTERNAL: return EXIT_INTERNAL;
    }
    return EXIT_INTERNAL;
}

bool cli_rerun(cli *c, int rc, unsigned attempts, cu_err *err)
{
    if (!c->vault || !cu_vault_rerun(c->vault, rc, attempts))
        return false;
    fprintf(stderr, "custos: %s; running it again (attempt %u of %d)\n",
            err->msg[0] ? err->msg : cu_status_name(err->code), attempts + 1, CU_TX_ATTEMPTS);
    cu_err_clear(err);
    return true;
}

int cli_fail(const cli *c, const cu_err *err)
{
    const char *msg = err->msg[0] ? err->msg : cu_status_name(err->code);
    fprintf(stderr, "custos: %s\n", msg);
    if (c && c->json) {
        json_t *j = json_pack("{s:{s:s, s:s}}", "error", "type", cu_status_name(err->code),
                              "message", msg);
        cli_print_json(j);
    }
    return cli_exit_status(err->code ? err->code : CU_EINTERNAL);
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("custos: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see --help)\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_common_option(cli *c, int opt, const char *arg, const char *help)
{
    switch (opt) {
    case OPT_STORE: c->store = arg; return 1;
    case OPT_DATABASE: c->database = arg; return 1;
    case OPT_JSON: c->json = true; return 1;
    case OPT_PURPOSE: c->purpose = arg; c->purpose_given = true; return 1;
    case OPT_NODE: c->node = arg; return 1;
    case OPT_HELP: cli_print_help(help); return -1;
    default: return 0;
    }
}

int cli_parse(cli *c, int argc, char **argv, const struct option *options, const char *help,
              cli_opt_fn on_opt, void *ctx)
{
    /* 0, not 1: glibc then re-reads the option string, dropping the '+'
     * (stop at the first operand) that main() parsed the global options with. */
    optind = 0;
    opterr = 0;
    int opt;
    /* GNU getopt permutes, so options may follow operands: show ID --json. */
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == '?')
            return cli_usage("unknown or incomplete option %s", argv[optind - 1]);
        int h = cli_common_option(c, opt, optarg, help);
        if (h < 0)
            return -1;
        if (h)
            continue;
        int rc = on_opt ? on_opt(ctx, opt, optarg) : cli_usage("unexpected option");
        if (rc)
            return rc;
    }
    return 0;
}

static void set_user(cli *c)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && cu_actor_valid(pw->pw_name))
        snprintf(c->user, sizeof c->user, "%s", pw->pw_name);
    else
        snprintf(c->user, sizeof c->user, "uid:%ld", (long)geteuid());
}

/* The node this process signs as: --node, CUSTOS_NODE, else the host name
 * (up to its first dot). */
static int set_node(cli *c, cu_err *err)
{
    char host[256] = "";
    const char *name = c->node;
    if (!name || !*name) {
        if (gethostname(host, sizeof host - 1) != 0)
            host[0] = '\0';
        host[strcspn(host, ".")] = '\0';
        if (!cu_node_name_valid(host))
            return cu_err_set(err, CU_EINVAL, "the host name is not a node name: give --node "
                                              "NAME or CUSTOS_NODE");
        name = host;
    } else if (!cu_node_name_valid(name)) {
        return cu_err_set(err, CU_EINVAL, "--node: a node name is 1 to %d letters, digits, '.', "
                                          "'_' or '-', beginning with a letter or digit",
                          CU_NODE_MAX - 1);
    }
    return cu_vault_set_node(c->vault, name, err);
}

static int open_vault(cli *c, const char *via, bool unsealed_ok, cu_err *err)
{
    if (cli_writing_manual())
        return cu_err_set(err, CU_EINTERNAL, "no store is opened while the manual page is written");
    set_user(c);
    snprintf(c->via, sizeof c->via, "cli %s", via);
    c->actor = (cu_actor){.name = c->user, .role = "operator", .purpose = c->purpose,
                          .via = c->via};
    int rc = cli_load_config(c, err);
    /* Opening runs transactions of its own (loading, recovery, the node's
     * key): one the database aborted to keep concurrent ones apart is undone
     * whole, and the opening is run again, as a write is (CLI_RERUN). */
    for (unsigned attempts = 1; !rc; attempts++) {
        rc = unsealed_ok ? cu_vault_open_unsealed(c->store, c->key_file, &c->vault, err)
                         : cu_vault_open(c->store, c->key_file, &c->vault, err);
        /* The bank-holiday calendar of the statutory clocks, when not the
         * built-in one: a bad file is an error, never a silent fallback. */
        if (!rc && c->holidays_file)
            rc = cu_vault_use_holidays(c->vault, c->holidays_file, err);
        if (!rc)
            rc = set_node(c, err);
        if (rc != CU_ERETRY || attempts >= CU_TX_ATTEMPTS)
            break;
        if (c->vault)
            cli_close(c);
        fprintf(stderr, "custos: %s; running it again (attempt %u of %d)\n", err->msg,
                attempts + 1, CU_TX_ATTEMPTS);
        cu_err_clear(err);
        cu_vault_backoff(attempts);
        rc = CU_OK;
    }
    return rc;
}

int cli_open(cli *c, const char *via, cu_err *err)
{
    return open_vault(c, via, false, err);
}

int cli_open_unsealed(cli *c, const char *via, cu_err *err)
{
    return open_vault(c, via, true, err);
}

void cli_close(cli *c)
{
    cu_vault_close(c->vault);
    c->vault = NULL;
}

void cli_print_json(json_t *v)
{
    if (!v)
        return;
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
    if (s) {
        puts(s);
        size_t n = strlen(s);
        memset(s, 0, n); /* may hold decrypted values; freed through the wiping allocator */
        free(s);
    }
    json_decref(v);
}


int cli_dispatch(cli *c, int argc, char **argv, const subcmd *subs, size_t n, const char *help)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2) {
            fputs(help, stderr);
            return EXIT_USAGE;
        }
        cli_print_help(help);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].fn(c, argc - 1, argv + 1);
    return cli_usage("unknown command %s %s", argv[0], argv[1]);
}

int cli_page_begin(cli *c, cli_page *pg, const char *limit, const char *cursor, cu_err *err)
{
    pg->limit = CU_LIST_PAGE_DEFAULT;
    pg->at = pg->seen = 0;
    pg->more = false;
    if (limit && !cu_parse_count(limit, CU_LIST_PAGE_MAX, &pg->limit))
        return cu_err_set(err, CU_EINVAL, "--limit takes 1 to %d", CU_LIST_PAGE_MAX);
    if (cursor)
        return cu_list_cursor_open(c->vault, pg->scope, cursor, &pg->at, err);
    return CU_OK;
}

bool cli_page_take(cli_page *pg)
{
    uint64_t i = pg->seen++;
    if (i < pg->at)
        return false;
    if (i >= pg->at + (uint64_t)pg->limit) {
        pg->more = true;
        return false;
    }
    return true;
}

void cli_page_next(cli *c, const cli_page *pg, char out[CU_CURSOR_STRLEN])
{
    out[0] = '\0';
    if (pg->more)
        cu_list_cursor_make(c->vault, pg->scope, pg->at + (uint64_t)pg->limit, out);
}
