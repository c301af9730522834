/* custos serve, user, care. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "domain/audit.h"
#include "domain/staff.h"
#include "http/assets.h"
#include "http/log.h"
#include "http/server.h"
#include "util/file.h"

/* ---- serve ---- */

static const char serve_help[] =
    "usage: custos serve [--listen HOST:PORT] [--threads N] [--session-idle SECONDS]\n"
    "                    [--session-max SECONDS] [--max-body BYTES] [--per-ip N]\n"
    "                    [--trusted-proxy ADDRESS] [--head-timeout SECONDS]\n"
    "                    [--body-rate BYTES] [--max-incomplete N] [--per-ip-incomplete N]\n"
    "                    [--log-format json|text|journal] [--no-request-log]\n"
    "                    [--public-url URL] [--assets DIR]\n"
    "\n"
    "Serves the HTTP API (docs/openapi.yaml) until SIGTERM or SIGINT, which stop\n"
    "accepting, finish the requests in flight and exit. Default listen address\n"
    "127.0.0.1:8080; HOST is an IPv4 address, [IPv6] or a host name (port 0 picks\n"
    "a free port; the line \"listening on URL\" says which). Sessions expire after --session-idle seconds unused (default 1800)\n"
    "and --session-max seconds after sign-in (default 43200). Bodies are limited\n"
    "to --max-body bytes (default 1048576), connections per source address to\n"
    "--per-ip (default 256). Behind a reverse proxy at --trusted-proxy (a numeric\n"
    "IPv4 or IPv6 address), sign-in failures are counted per address named last\n"
    "in the proxy's X-Forwarded-For; --per-ip still counts the proxy's\n"
    "connections.\n"
    "A request's headers must arrive within --head-timeout seconds (default 10)\n"
    "and its body at --body-rate bytes a second (default 4096) after that, or it\n"
    "is answered 408 and closed. At most --max-incomplete connections (default\n"
    "512), and --per-ip-incomplete from one address (default 64), may be waiting\n"
    "for a request to arrive in full; beyond that new connections are closed.\n"
    "The log goes to stderr as JSON lines (the default when stderr is not a\n"
    "terminal) or text (the default on a terminal), or to the systemd journal\n"
    "(--log-format journal; JSON on stderr when the journal cannot be reached);\n"
    "CUSTOS_LOG_FORMAT sets the same. It has a start line, one line per request\n"
    "(id, method, route template, status, duration, bytes, staff user id and\n"
    "roles), error lines and a stop line, and never a personal value, a query\n"
    "string, a body or a token. --no-request-log leaves out the request lines.\n"
    "Several servers (nodes) may serve one store: give each its own --node NAME\n"
    "(docs/operations.md). Whichever node is first runs the daily session purge,\n"
    "once for all of them.\n"
    "--public-url URL is the address people reach custos at (behind a reverse\n"
    "proxy, the proxy's: https://care.example.org or https://example.org/custos);\n"
    "every link custos gives a person is made absolute with it. http or https, no\n"
    "query or fragment; a trailing slash is dropped. CUSTOS_PUBLIC_URL, or\n"
    "public_url in the store's custos.conf, sets the same; default\n"
    "http://localhost:PORT. --assets DIR is the directory of the pages' static\n"
    "files (the NHS.UK frontend), served under /assets/VERSION/; default the\n"
    "assets/ directory beside the binary when it has one (a build directory),\n"
    "else the installed one. A DIR that is missing or of another version is an\n"
    "error; a missing default is logged and the assets answer 404.\n";

typedef struct serve_opts {
    cu_server_config cfg;
    cu_log_format log_format;
    bool log_format_set;
    bool no_request_log;
    const char *public_url;
    const char *assets;
    cu_err err;
} serve_opts;

static int positive(const char *arg, long long max, long long *out)
{
    char *end = NULL;
    long long n = strtoll(arg, &end, 10);
    if (!end || *end || n < 1 || n > max)
        return -1;
    *out = n;
    return 0;
}

static int serve_opt(void *ctx, int opt, const char *arg)
{
    serve_opts *o = ctx;
    long long n = 0;
    switch (opt) {
    case 'l':
        if (cu_server_parse_listen(&o->cfg, arg, &o->err))
            return cli_usage("%s", o->err.msg);
        return 0;
    case 't':
        if (positive(arg, 64, &n))
            return cli_usage("--threads takes 1 to 64");
        o->cfg.threads = (unsigned)n;
        return 0;
    case 'i':
        if (positive(arg, 86400, &n))
            return cli_usage("--session-idle takes 1 to 86400 seconds");
        o->cfg.api.session_idle_us = n * 1000000;
        return 0;
    case 'm':
        if (positive(arg, 7 * 86400, &n))
            return cli_usage("--session-max takes 1 to 604800 seconds");
        o->cfg.api.session_absolute_us = n * 1000000;
        return 0;
    case 'b':
        if (positive(arg, 64 << 20, &n))
            return cli_usage("--max-body takes 1 to 67108864 bytes");
        o->cfg.max_body = (size_t)n;
        return 0;
    case 'p':
        if (positive(arg, 65536, &n))
            return cli_usage("--per-ip takes 1 to 65536");
        o->cfg.per_ip = (unsigned)n;
        return 0;
    case 'x':
        if (cu_server_parse_proxy(&o->cfg, arg, &o->err))
            return cli_usage("%s", o->err.msg);
        return 0;
    case 'H':
        if (positive(arg, 3600, &n))
            return cli_usage("--head-timeout takes 1 to 3600 seconds");
        o->cfg.head_timeout_s = (unsigned)n;
        return 0;
    case 'R':
        if (positive(arg, 1 << 30, &n))
            return cli_usage("--body-rate takes 1 to 1073741824 bytes a second");
        o->cfg.body_rate = (unsigned)n;
        return 0;
    case 'I':
        if (positive(arg, 65536, &n))
            return cli_usage("--max-incomplete takes 1 to 65536");
        o->cfg.max_incomplete = (unsigned)n;
        return 0;
    case 'F':
        if (cu_log_parse_format(arg, &o->log_format, &o->err))
            return cli_usage("--log-format takes json, text or journal");
        o->log_format_set = true;
        return 0;
    case 'Q':
        o->no_request_log = true;
        return 0;
    case 'U':
        o->public_url = arg;
        return 0;
    case 'A':
        o->assets = arg;
        return 0;
    case 'P':
        if (positive(arg, 65536, &n))
            return cli_usage("--per-ip-incomplete takes 1 to 65536");
        o->cfg.per_ip_incomplete = (unsigned)n;
        return 0;
    }
    return cli_usage("unexpected option");
}

int cmd_serve(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS,
                                         {"listen", required_argument, NULL, 'l'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"session-idle", required_argument, NULL, 'i'},
                                         {"session-max", required_argument, NULL, 'm'},
                                         {"max-body", required_argument, NULL, 'b'},
                                         {"per-ip", required_argument, NULL, 'p'},
                                         {"trusted-proxy", required_argument, NULL, 'x'},
                                         {"head-timeout", required_argument, NULL, 'H'},
                                         {"body-rate", required_argument, NULL, 'R'},
                                         {"max-incomplete", required_argument, NULL, 'I'},
                                         {"per-ip-incomplete", required_argument, NULL, 'P'},
                                         {"log-format", required_argument, NULL, 'F'},
                                         {"no-request-log", no_argument, NULL, 'Q'},
                                         {"public-url", required_argument, NULL, 'U'},
                                         {"assets", required_argument, NULL, 'A'},
                                         {0, 0, 0, 0}};
    serve_opts o = {0};
    cu_server_config_default(&o.cfg);
    int rc = cli_parse(c, argc, argv, opts, serve_help, serve_opt, &o);
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage("serve takes no operands");
    const char *env_format = getenv("CUSTOS_LOG_FORMAT");
    if (!o.log_format_set && env_format && *env_format &&
        cu_log_parse_format(env_format, &o.log_format, &o.err))
        return cli_usage("CUSTOS_LOG_FORMAT takes json, text or journal");
    cu_err err = {0};
    /* The public URL first: a bad one is refused before the store opens. */
    if (o.public_url && cli_public_url(c, o.public_url, &err))
        return cli_usage("%s", err.msg);
    cu_assets *assets = NULL;
    char assets_dir[4096];
    if (o.assets) {
        if (cu_assets_load(o.assets, &assets, &err))
            return cli_fail(c, &err);
    }
    /* A store whose trail was emptied or cut at its start is not served
     * until the operator decides (custos audit restart), on the record. */
    if (cli_open(c, "serve", &err) || cli_public_url(c, o.public_url, &err) ||
        cu_audit_check_start(c->vault, &err)) {
        cu_assets_free(assets);
        return cli_fail(c, &err);
    }
    cu_log_open(o.log_format, !o.no_request_log);
    if (!o.assets) {
        cu_assets_default_dir(assets_dir, sizeof assets_dir);
        cu_err aerr = {0};
        if (cu_assets_load(assets_dir, &assets, &aerr))
            cu_log_msg(CU_LOG_WARNING, "assets", "no assets for the pages: %s", aerr.msg);
    }
    o.cfg.store_path = c->store;
    o.cfg.assets = assets;
    rc = cu_serve(c->vault, &o.cfg, &err);
    cu_log_close();
    cu_assets_free(assets);
    return rc ? cli_fail(c, &err) : EXIT_DONE;
}

/* ---- user ---- */

static const char user_help[] =
    "usage: custos user add --controller ID --username NAME --roles ROLES [--totp]\n"
    "       custos user disable NAME\n"
    "       custos user reset-password NAME\n"
    "       custos user sign-out NAME\n"
    "       custos user token create --controller ID --roles ROLES --name NAME\n"
    "       custos user token revoke TOKEN_ID\n"
    "\n"
    "Staff accounts for the HTTP API. ROLES is a comma-separated list of clinician,\n"
    "care_admin, dpo, analyst, auditor, admin. Passwords (at least 12 characters)\n"
    "are read from the first line of stdin, without echo on a terminal, and\n"
    "stored only as Argon2id hashes. The admin and dpo roles always get a one-time\n"
    "code secret (--totp gives one to others): it is printed once, as an otpauth://\n"
    "URI for an authenticator app (TOTP, SHA1, 6 digits, 30 s). disable and\n"
    "reset-password end the account's sessions; sign-out ends them only (a lost\n"
    "device), the account stays usable. An API token is scoped to one\n"
    "controller and a set of roles; it is printed once and stored only as a hash.\n";

typedef struct user_opts {
    const char *controller, *username, *roles, *name;
    bool totp;
} user_opts;

static int user_opt(void *ctx, int opt, const char *arg)
{
    user_opts *o = ctx;
    switch (opt) {
    case 'c': o->controller = arg; return 0;
    case 'u': o->username = arg; return 0;
    case 'r': o->roles = arg; return 0;
    case 'n': o->name = arg; return 0;
    case 'T': o->totp = true; return 0;
    }
    return cli_usage("unexpected option");
}

static const struct option user_options[] = {
    CLI_COMMON_OPTIONS,
    {"controller", required_argument, NULL, 'c'},
    {"username", required_argument, NULL, 'u'},
    {"roles", required_argument, NULL, 'r'},
    {"name", required_argument, NULL, 'n'},
    {"totp", no_argument, NULL, 'T'},
    {0, 0, 0, 0},
};

/* Reads one line (the password) from stdin, without echo on a terminal. */
static int read_password(cu_buf *pw, cu_err *err)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fputs("password: ", stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    int ch, rc = CU_OK;
    while ((ch = getchar()) != EOF && ch != '\n') {
        unsigned char b = (unsigned char)ch;
        if (cu_buf_append(pw, &b, 1)) {
            rc = cu_err_set(err, CU_EINVAL, "the password is longer than %d characters",
                            CU_PASSWORD_MAX);
            break;
        }
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    if (!rc && pw->len && pw->data[pw->len - 1] == '\r')
        pw->data[--pw->len] = '\0';
    return rc;
}

static int user_add(cli *c, int argc, char **argv)
{
    user_opts o = {0};
    int rc = cli_parse(c, argc, argv, user_options, user_help, user_opt, &o);
    if (rc)
        return rc;
    if (!o.controller || !o.username || !o.roles)
        return cli_usage("user add needs --controller ID --username NAME --roles ROLES");
    cu_err err = {0};
    cu_buf pw;
    cu_buf_init(&pw, CU_PASSWORD_MAX + 1);
    char id[CU_ID_STRLEN], secret[CU_TOTP_B32_LEN];
    rc = read_password(&pw, &err);
    if (!rc)
        rc = cu_password_check(cu_buf_str(&pw), pw.len, &err);
    if (!rc)
        rc = cli_open(c, "user add", &err);
    if (!rc)
        rc = cu_user_add(c->vault, &c->actor, o.controller, o.username, o.roles,
                         cu_buf_str(&pw), pw.len, o.totp, id, secret, &err);
    cu_buf_release(&pw);
    if (rc)
        return cli_fail(c, &err);
    char uri[256] = "";
    if (secret[0])
        snprintf(uri, sizeof uri, "otpauth://totp/custos:%s?secret=%s&issuer=custos"
                                  "&algorithm=SHA1&digits=6&period=30",
                 o.username, secret);
    if (c->json) {
        json_t *j = json_pack("{s:s, s:s}", "id", id, "username", o.username);
        if (secret[0]) {
            json_object_set_new(j, "totp_secret", json_string(secret));
            json_object_set_new(j, "totp_uri", json_string(uri));
        }
        cli_print_json(j);
    } else {
        printf("%s\n", id);
        if (secret[0])
            printf("one-time code secret (shown once; add it to an authenticator app):\n%s\n",
                   uri);
    }
    cu_wipe(secret, sizeof secret);
    cu_wipe(uri, sizeof uri);
    return EXIT_DONE;
}

static int user_disable(cli *c, int argc, char **argv)
{
    user_opts o = {0};
    int rc = cli_parse(c, argc, argv, user_options, user_help, user_opt, &o);
    if (rc)
        return rc;
    if (optind != argc - 1)
        return cli_usage("user disable needs one username");
    cu_err err = {0};
    if (cli_open(c, "user disable", &err) ||
        cu_user_disable(c->vault, &c->actor, argv[optind], &err))
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:b}", "username", argv[optind], "disabled", 1));
    else
        printf("disabled %s; its sessions are ended\n", argv[optind]);
    return EXIT_DONE;
}

static int user_signout(cli *c, int argc, char **argv)
{
    user_opts o = {0};
    int rc = cli_parse(c, argc, argv, user_options, user_help, user_opt, &o);
    if (rc)
        return rc;
    if (optind != argc - 1)
        return cli_usage("user sign-out needs one username");
    cu_err err = {0};
    if (cli_open(c, "user sign-out", &err) ||
        cu_user_signout(c->vault, &c->actor, argv[optind], &err))
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:b}", "username", argv[optind], "signed_out", 1));
    else
        printf("ended every session of %s\n", argv[optind]);
    return EXIT_DONE;
}

static int user_reset(cli *c, int argc, char **argv)
{
    user_opts o = {0};
    int rc = cli_parse(c, argc, argv, user_options, user_help, user_opt, &o);
    if (rc)
        return rc;
    if (optind != argc - 1)
        return cli_usage("user reset-password needs one username");
    cu_err err = {0};
    cu_buf pw;
    cu_buf_init(&pw, CU_PASSWORD_MAX + 1);
    rc = read_password(&pw, &err);
    if (!rc)
        rc = cli_open(c, "user reset-password", &err);
    if (!rc)
        rc = cu_user_reset_password(c->vault, &c->actor, argv[optind], cu_buf_str(&pw),
                                    pw.len, &err);
    cu_buf_release(&pw);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:b}", "username", argv[optind], "reset", 1));
    else
        printf("password of %s reset; its sessions are ended\n", argv[optind]);
    return EXIT_DONE;
}

static int token_create(cli *c, int argc, char **argv)
{
    user_opts o = {0};
    int rc = cli_parse(c, argc, argv, user_options, user_help, user_opt, &o);
    if (rc)
        return rc;
    if (!o.controller || !o.roles || !o.name)
        return cli_usage("user token create needs --controller ID --roles ROLES --name NAME");
    cu_err err = {0};
    char token[CU_TOKEN_STRLEN], id[CU_ID_STRLEN];
    if (cli_open(c, "user token create", &err) ||
        cu_api_token_create(c->vault, &c->actor, o.controller, o.roles, o.name, token, id,
                            &err))
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s}", "id", id, "token", token));
    else
        printf("token %s (shown once; it is stored only as a hash):\n%s\n", id, token);
    cu_wipe(token, sizeof token);
    return EXIT_DONE;
}

static int token_revoke(cli *c, int argc, char **argv)
{
    user_opts o = {0};
    int rc = cli_parse(c, argc, argv, user_options, user_help, user_opt, &o);
    if (rc)
        return rc;
    if (optind != argc - 1)
        return cli_usage("user token revoke needs one token id");
    cu_err err = {0};
    if (cli_open(c, "user token revoke", &err) ||
        cu_api_token_revoke(c->vault, &c->actor, argv[optind], &err))
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:b}", "id", argv[optind], "revoked", 1));
    else
        printf("revoked token %s\n", argv[optind]);
    return EXIT_DONE;
}

static int user_token(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {{"create", token_create}, {"revoke", token_revoke}};
    return cli_dispatch(c, argc, argv, subs, 2, user_help);
}

int cmd_user(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {{"add", user_add},
                                  {"disable", user_disable},
                                  {"sign-out", user_signout},
                                  {"reset-password", user_reset},
                                  {"token", user_token}};
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], user_help);
}

/* ---- care ---- */

static const char care_help[] =
    "usage: custos care add --user NAME --subject ID\n"
    "       custos care remove --user NAME --subject ID\n"
    "\n"
    "A clinician reads and writes only the subjects on their care list (or, in an\n"
    "emergency, under audited break-glass access). care_admin staff manage care\n"
    "lists over HTTP; the operator can here.\n";

typedef struct care_opts {
    const char *user, *subject;
} care_opts;

static int care_opt(void *ctx, int opt, const char *arg)
{
    care_opts *o = ctx;
    if (opt == 'u')
        o->user = arg;
    else if (opt == 's')
        o->subject = arg;
    else
        return cli_usage("unexpected option");
    return 0;
}

static int care_change(cli *c, int argc, char **argv, bool on)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS,
                                         {"user", required_argument, NULL, 'u'},
                                         {"subject", required_argument, NULL, 's'},
                                         {0, 0, 0, 0}};
    care_opts o = {0};
    int rc = cli_parse(c, argc, argv, opts, care_help, care_opt, &o);
    if (rc)
        return rc;
    if (!o.user || !o.subject)
        return cli_usage("care %s needs --user NAME --subject ID", on ? "add" : "remove");
    cu_err err = {0};
    if (cli_open(c, on ? "care add" : "care remove", &err) ||
        cu_care_set(c->vault, &c->actor, o.user, o.subject, on, &err))
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:b}", "user", o.user, "subject", o.subject,
                                 "on_care_list", on));
    else
        printf("%s %s %s's care list\n", on ? "added to" : "removed from", o.subject, o.user);
    return EXIT_DONE;
}

static int care_add(cli *c, int argc, char **argv)
{
    return care_change(c, argc, argv, true);
}

static int care_remove(cli *c, int argc, char **argv)
{
    return care_change(c, argc, argv, false);
}

int cmd_care(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {{"add", care_add}, {"remove", care_remove}};
    return cli_dispatch(c, argc, argv, subs, 2, care_help);
}
