/* custos portal invite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/portal.h"
#include "iface/link.h"
#include "util/clock.h"

static const char portal_help[] =
    "usage: custos portal invite SUBJECT [--days N] [--public-url URL]\n"
    "\n"
    "invite makes a single-use invitation to the patient portal for the\n"
    "subject: opening it, the patient sets the password of their portal\n"
    "account (a subject who has one resets it) and is shown the account's\n"
    "sign-in name. It expires after N days (14; at most 90). It prints the\n"
    "link, the public URL (--public-url, else CUSTOS_PUBLIC_URL, else\n"
    "public_url in custos.conf, else http://localhost:8080) followed by\n"
    "/portal/invitation/CODE, and the code alone (four groups of five\n"
    "letters and digits, short enough for a letter): it is shown once.\n";

typedef struct portal_opts {
    int days;
    const char *public_url;
} portal_opts;

static int portal_opt(void *ctx, int opt, const char *arg)
{
    portal_opts *o = ctx;
    if (opt == 'U') {
        o->public_url = arg;
        return 0;
    }
    if (opt == 'd') {
        char *end = NULL;
        long d = strtol(arg, &end, 10);
        if (!*arg || *end || d < 1 || d > CU_PORTAL_DAYS_MAX)
            return cli_usage("--days must be a whole number of days from 1 to %d",
                             CU_PORTAL_DAYS_MAX);
        o->days = (int)d;
        return 0;
    }
    return cli_usage("unexpected option");
}

static const struct option portal_options[] = {
    CLI_COMMON_OPTIONS,
    {"days", required_argument, NULL, 'd'},
    {"public-url", required_argument, NULL, 'U'},
    {0, 0, 0, 0},
};

static int portal_invite(cli *c, int argc, char **argv)
{
    portal_opts o;
    memset(&o, 0, sizeof o);
    int rc = cli_parse(c, argc, argv, portal_options, portal_help, portal_opt, &o);
    if (rc)
        return rc;
    if (argc - optind != 1)
        return cli_usage("portal invite needs SUBJECT");
    const char *subject = argv[optind];
    cu_err err = {0};
    /* A bad --public-url is refused before an invitation is made. */
    if (o.public_url && cli_public_url(c, o.public_url, &err))
        return cli_usage("%s", err.msg);
    rc = cli_open(c, "portal invite", &err);
    if (!rc)
        rc = cli_public_url(c, o.public_url, &err);
    char code[CU_PORTAL_CODE_STRLEN];
    cu_portal_invitation info;
    if (!rc)
        rc = cu_portal_invite(c->vault, &c->actor, subject, o.days, code, &info, &err);
    if (rc)
        return cli_fail(c, &err);
    char path[CU_PORTAL_CODE_STRLEN + 24], when[CU_TIME_STRLEN], url[CU_LINK_MAX];
    snprintf(path, sizeof path, "/portal/invitation/%s", code);
    if (cu_public_link(url, sizeof url, path))
        cu_strlcpy(url, path, sizeof url); /* cannot happen: the URL is bounded */
    cu_time_format(info.expires_at, when);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", info.id, "path", path,
                                 "url", url, "code", code, "expires_at", when, "resets_account",
                                 info.has_account));
    else
        printf("%s\ncode %s\n%s, expires %s\n", url, code,
               info.has_account ? "resets the password of the subject's portal account"
                                : "sets up the subject's portal account",
               when);
    cu_wipe(code, sizeof code);
    cu_wipe(path, sizeof path);
    cu_wipe(url, sizeof url);
    return EXIT_DONE;
}

int cmd_portal(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"invite", portal_invite},
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], portal_help);
}
