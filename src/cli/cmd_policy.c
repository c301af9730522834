/* custos policy check|apply|show|history, notice, ropa, consent
 * give|withdraw|show|link, and subject restrict|object|rights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "iface/link.h"
#include "domain/consent.h"
#include "domain/subject.h"
#include "iface/notice.h"
#include "iface/receipt.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/jsonw.h"

static const char policy_help[] =
    "usage: custos policy check FILE\n"
    "       custos policy apply --controller ID FILE\n"
    "       custos policy show --controller ID [--version N]\n"
    "       custos policy history --controller ID\n"
    "\n"
    "A policy is a controller's privacy promises as JSON (docs/policy.md): who it\n"
    "is, what it collects and from where, its purposes with their lawful bases,\n"
    "recipients, transfers, retention and cookies. check lists every problem by\n"
    "its JSON path (errors; warnings for data minimisation and placeholders a\n"
    "notice would publish) and exits 1 on any error; apply does the same and,\n"
    "when there is no error, records the policy as the controller's next\n"
    "version (nothing when it is unchanged). From then\n"
    "on every access to the controller's subjects must name one of its purposes.\n"
    "FILE may be - for stdin.\n";

typedef struct pol_opts {
    const char *controller, *format, *file, *method, *evidence, *receipt;
    const char *public_url;
    int64_t version;
    bool lift;
} pol_opts;

static int pol_opt(void *ctx, int opt, const char *arg)
{
    pol_opts *o = ctx;
    switch (opt) {
    case 'c': o->controller = arg; return 0;
    case 'f': o->format = arg; return 0;
    case 'F': o->file = arg; return 0;
    case 'm': o->method = arg; return 0;
    case 'e': o->evidence = arg; return 0;
    case 'r': o->receipt = arg; return 0;
    case 'l': o->lift = true; return 0;
    case 'U': o->public_url = arg; return 0;
    case 'v': {
        char *end;
        long long n = strtoll(arg, &end, 10);
        if (*end || n < 1)
            return cli_usage("--version needs a positive number");
        o->version = n;
        return 0;
    }
    default: return cli_usage("unexpected option");
    }
}

static const struct option pol_options[] = {
    CLI_COMMON_OPTIONS,
    {"controller", required_argument, NULL, 'c'},
    {"format", required_argument, NULL, 'f'},
    {"file", required_argument, NULL, 'F'},
    {"method", required_argument, NULL, 'm'},
    {"evidence", required_argument, NULL, 'e'},
    {"receipt", required_argument, NULL, 'r'},
    {"version", required_argument, NULL, 'v'},
    {"lift", no_argument, NULL, 'l'},
    {"public-url", required_argument, NULL, 'U'},
    {0, 0, 0, 0},
};

/* Parses options and exactly nargs operands into args. */
static int parse(cli *c, int argc, char **argv, const char *help, pol_opts *o, int nargs,
                 const char **args, const char *what)
{
    memset(o, 0, sizeof *o);
    int rc = cli_parse(c, argc, argv, pol_options, help, pol_opt, o);
    if (rc)
        return rc;
    if (argc - optind != nargs)
        return cli_usage("%s needs %s", argv[0], what);
    for (int i = 0; i < nargs; i++)
        args[i] = argv[optind + i];
    return 0;
}

/* parse, for the policy subcommands that act on one controller's policy. */
static int parse_controller(cli *c, int argc, char **argv, pol_opts *o, int nargs,
                            const char **args, const char *what)
{
    int rc = parse(c, argc, argv, policy_help, o, nargs, args, what);
    if (!rc && !o->controller)
        rc = cli_usage("policy %s needs --controller ID", argv[0]);
    return rc;
}

int cli_read_input(const char *path, size_t limit, cu_buf *out, cu_err *err)
{
    if (strcmp(path, "-") == 0)
        return cu_read_stream(stdin, limit, out, err);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cu_err_set(err, CU_EINVAL, "cannot open %s", path);
    int rc = cu_read_stream(f, limit, out, err);
    fclose(f);
    return rc;
}

/* A policy document from path ("-": stdin) into in, which is initialised here. */
static int read_policy(const char *path, cu_buf *in, cu_err *err)
{
    cu_buf_init(in, CU_POLICY_MAX_BYTES + 1);
    return cli_read_input(path, CU_POLICY_MAX_BYTES, in, err);
}

/* The policy in file, parsed; findings go to rep (may be NULL). */
static int parse_file(const char *file, cu_policy **p, cu_pol_report *rep, cu_err *err)
{
    cu_buf in;
    int rc = read_policy(file, &in, err);
    if (!rc)
        rc = cu_policy_parse(in.data, in.len, p, rep, err);
    cu_buf_release(&in);
    return rc;
}

static void print_findings(const cli *c, const cu_pol_report *rep, FILE *to)
{
    if (c->json)
        return;
    for (size_t i = 0; i < rep->n; i++)
        fprintf(to, "%s %s: %s (%s)\n", rep->v[i].error ? "error" : "warning", rep->v[i].path,
                rep->v[i].msg, rep->v[i].rule);
}

static int policy_check(cli *c, int argc, char **argv)
{
    pol_opts o;
    const char *file = NULL;
    int rc = parse(c, argc, argv, policy_help, &o, 1, &file, "one FILE");
    if (rc)
        return rc;
    cu_err err = {0};
    cu_pol_report rep = {0};
    cu_policy *p = NULL;
    rc = parse_file(file, &p, &rep, &err);
    cu_policy_free(p);
    int status = EXIT_DONE;
    if (rc && !rep.nerrors) {
        status = cli_fail(c, &err);
    } else {
        if (c->json)
            cli_print_json(cu_json_policy_check(&rep));
        print_findings(c, &rep, stdout);
        if (!c->json)
            printf("%s: %zu error%s, %zu warning%s\n", rep.nerrors ? "invalid" : "valid",
                   rep.nerrors, rep.nerrors == 1 ? "" : "s", rep.nwarnings,
                   rep.nwarnings == 1 ? "" : "s");
        if (rep.nerrors)
            status = EXIT_REFUSED;
    }
    cu_pol_report_release(&rep);
    return status;
}

static int policy_apply(cli *c, int argc, char **argv)
{
    pol_opts o;
    const char *file = NULL;
    int rc = parse_controller(c, argc, argv, &o, 1, &file, "--controller ID and one FILE");
    if (rc)
        return rc;
    cu_err err = {0};
    cu_buf in;
    cu_pol_report rep = {0};
    int64_t version = 0;
    bool changed = false;
    rc = read_policy(file, &in, &err);
    if (!rc)
        rc = cli_open(c, "policy apply", &err);
    if (!rc)
        rc = cu_policy_apply(c->vault, &c->actor, o.controller, in.data, in.len, &rep,
                             &version, &changed, &err);
    cu_buf_release(&in);
    if (rc) {
        /* The findings are the command's output; the error stays one line. */
        print_findings(c, &rep, stdout);
        cu_pol_report_release(&rep);
        return cli_fail(c, &err);
    }
    if (c->json)
        cli_print_json(json_pack("{s:s, s:I, s:b, s:o}", "controller", o.controller, "version",
                                 (json_int_t)version, "changed", changed, "findings",
                                 cu_json_policy_findings(&rep)));
    else {
        print_findings(c, &rep, stdout);
        if (changed)
            printf("applied: controller %s now has policy version %lld\n", o.controller,
                   (long long)version);
        else
            printf("unchanged: controller %s already has this policy (version %lld)\n",
                   o.controller, (long long)version);
    }
    cu_pol_report_release(&rep);
    return EXIT_DONE;
}

static int policy_show(cli *c, int argc, char **argv)
{
    pol_opts o;
    int rc = parse_controller(c, argc, argv, &o, 0, NULL, "--controller ID");
    if (rc)
        return rc;
    cu_err err = {0};
    cu_buf doc;
    cu_buf_init(&doc, CU_POLICY_MAX_BYTES * 2);
    rc = cli_open(c, "policy show", &err);
    if (!rc)
        rc = cu_policy_document(c->vault, o.controller, o.version, &doc, &err);
    if (!rc) {
        json_t *j = json_loadb((const char *)doc.data, doc.len, 0, NULL);
        if (j)
            cli_print_json(j);
        else
            rc = cu_err_set(&err, CU_ECORRUPT, "the stored policy is not JSON");
    }
    cu_buf_release(&doc);
    return rc ? cli_fail(c, &err) : EXIT_DONE;
}

static int print_version(void *ctx, const cu_policy_version *pv)
{
    json_t *arr = ctx;
    char when[CU_TIME_STRLEN];
    cu_time_format(pv->applied_at, when);
    if (arr)
        return json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s}", "version",
                                                     (json_int_t)pv->version, "applied_at",
                                                     when, "applied_by", pv->applied_by,
                                                     "digest", pv->digest))
                   ? CU_ENOMEM
                   : CU_OK;
    printf("version %lld  applied %s by %s  digest %.16s\n", (long long)pv->version, when,
           pv->applied_by, pv->digest);
    return CU_OK;
}

static int policy_history(cli *c, int argc, char **argv)
{
    pol_opts o;
    int rc = parse_controller(c, argc, argv, &o, 0, NULL, "--controller ID");
    if (rc)
        return rc;
    cu_err err = {0};
    json_t *arr = c->json ? json_array() : NULL;
    rc = cli_open(c, "policy history", &err);
    if (!rc)
        rc = cu_policy_versions(c->vault, o.controller, print_version, arr, &err);
    if (rc) {
        json_decref(arr);
        return cli_fail(c, &err);
    }
    if (arr)
        cli_print_json(json_pack("{s:o}", "versions", arr));
    return EXIT_DONE;
}

int cmd_policy(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"check", policy_check},
        {"apply", policy_apply},
        {"show", policy_show},
        {"history", policy_history},
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], policy_help);
}

/* ---- generated documents ---- */

static const char notice_help[] =
    "usage: custos notice --controller ID [--format html|md] [--version N]\n"
    "       custos notice --file FILE [--format html|md]\n"
    "\n"
    "Writes the privacy notice generated from the controller's policy (its\n"
    "current version, or version N) to stdout: Markdown (md, the default) or a\n"
    "self-contained HTML page. --file renders a draft policy that is not applied.\n";

static int write_out(const cu_buf *b)
{
    return fwrite(b->data, 1, b->len, stdout) == b->len ? EXIT_DONE : EXIT_INTERNAL;
}

int cmd_notice(cli *c, int argc, char **argv)
{
    pol_opts o;
    int rc = parse(c, argc, argv, notice_help, &o, 0, NULL, "--controller ID or --file FILE");
    if (rc)
        return rc;
    if (!o.controller == !o.file)
        return cli_usage("notice needs --controller ID or --file FILE");
    cu_notice_format f = CU_NOTICE_MD;
    if (o.format && strcmp(o.format, "html") == 0)
        f = CU_NOTICE_HTML;
    else if (o.format && strcmp(o.format, "md") != 0)
        return cli_usage("--format is html or md");
    cu_err err = {0};
    cu_policy *p = NULL;
    if (o.file) {
        rc = parse_file(o.file, &p, NULL, &err);
    } else {
        rc = cli_open(c, "notice", &err);
        if (!rc)
            rc = cu_policy_load(c->vault, o.controller, o.version, &p, &err);
    }
    cu_buf out;
    cu_buf_init(&out, 0);
    if (!rc)
        rc = cu_notice_render(p, f, &out, &err);
    cu_policy_free(p);
    int status = rc ? cli_fail(c, &err) : write_out(&out);
    cu_buf_release(&out);
    return status;
}

static const char ropa_help[] =
    "usage: custos ropa [--format json|csv] [--controller ID]\n"
    "\n"
    "Writes the record of processing activities (UK GDPR Article 30: the\n"
    "controller form, and the processor form where a policy acts as processor)\n"
    "generated from the current policy of every controller, or of one.\n";

typedef struct ropa_ctx {
    cli *c;
    cu_policy **pols;
    char (*ids)[CU_ID_STRLEN];
    size_t n, cap;
    cu_err *err;
} ropa_ctx;

static int ropa_one(void *ctx, const char *id, const char *name, int64_t created)
{
    (void)name;
    (void)created;
    ropa_ctx *r = ctx;
    cu_policy *p = NULL;
    int rc = cu_policy_load(r->c->vault, id, 0, &p, r->err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(r->err);
        return CU_OK; /* a controller without a policy processes nothing */
    }
    if (rc)
        return rc;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        cu_policy **np = realloc(r->pols, cap * sizeof *np);
        if (np)
            r->pols = np;
        char(*ni)[CU_ID_STRLEN] = np ? realloc(r->ids, cap * sizeof *ni) : NULL;
        if (!np || !ni) {
            cu_policy_free(p);
            return cu_err_set(r->err, CU_ENOMEM, "out of memory");
        }
        r->ids = ni;
        r->cap = cap;
    }
    r->pols[r->n] = p;
    cu_strlcpy(r->ids[r->n], id, CU_ID_STRLEN);
    r->n++;
    return CU_OK;
}

int cmd_ropa(cli *c, int argc, char **argv)
{
    pol_opts o;
    int rc = parse(c, argc, argv, ropa_help, &o, 0, NULL, "no operands");
    if (rc)
        return rc;
    cu_ropa_format f = CU_ROPA_JSON;
    if (o.format && strcmp(o.format, "csv") == 0)
        f = CU_ROPA_CSV;
    else if (o.format && strcmp(o.format, "json") != 0)
        return cli_usage("--format is json or csv");
    cu_err err = {0};
    ropa_ctx r = {.c = c, .err = &err};
    rc = cli_open(c, "ropa", &err);
    if (!rc)
        rc = o.controller ? ropa_one(&r, o.controller, NULL, 0)
                          : cu_controller_each(c->vault, ropa_one, &r, &err);
    if (!rc && o.controller && r.n == 0)
        rc = cu_err_set(&err, CU_ENOTFOUND, "controller %s has no policy", o.controller);
    cu_buf out;
    cu_buf_init(&out, 0);
    if (!rc) {
        const char **ids = malloc((r.n ? r.n : 1) * sizeof *ids);
        if (!ids)
            rc = cu_err_set(&err, CU_ENOMEM, "out of memory");
        for (size_t i = 0; ids && i < r.n; i++)
            ids[i] = r.ids[i];
        if (!rc)
            rc = cu_ropa_render((const cu_policy *const *)r.pols, ids, r.n, f, &out, &err);
        free(ids);
    }
    for (size_t i = 0; i < r.n; i++)
        cu_policy_free(r.pols[i]);
    free(r.pols);
    free(r.ids);
    int status = rc ? cli_fail(c, &err) : write_out(&out);
    cu_buf_release(&out);
    return status;
}

/* ---- consent ---- */

static const char consent_help[] =
    "usage: custos consent give SUBJECT PURPOSE --method M [--evidence TEXT|-]\n"
    "       custos consent withdraw SUBJECT PURPOSE [--method M] [--evidence TEXT|-]\n"
    "       custos consent show SUBJECT [--receipt CONSENT_ID]\n"
    "       custos consent link SUBJECT PURPOSE [--public-url URL]\n"
    "\n"
    "Records a subject's consent to one consent-based purpose of the controller's\n"
    "policy, or its withdrawal; the full history is kept and the latest record\n"
    "decides. METHOD is how it was given or withdrawn: web_form, paper, staff,\n"
    "api, email, phone (withdraw defaults to staff). Evidence (for example a form\n"
    "reference) is kept encrypted under the subject's key; - reads it from stdin.\n"
    "show lists the history, or prints the consent receipt (ISO/IEC TS 27560\n"
    "fields) of one record. link makes a single-use unsubscribe link that\n"
    "withdraws the consent without signing in (POST /v1/unsubscribe/TOKEN), and\n"
    "prints it as an absolute link made with --public-url (else CUSTOS_PUBLIC_URL,\n"
    "else public_url in custos.conf, else http://localhost:8080); with --json,\n"
    "{\"token\", \"path\", \"url\"}.\n";

static int consent_change(cli *c, int argc, char **argv, bool given)
{
    pol_opts o;
    const char *args[2] = {NULL, NULL};
    int rc = parse(c, argc, argv, consent_help, &o, 2, args, "SUBJECT and PURPOSE");
    if (rc)
        return rc;
    if (given && !o.method)
        return cli_usage("consent give needs --method M");
    cu_err err = {0};
    cu_buf ev;
    cu_buf_init(&ev, CU_MAX_EVIDENCE_BYTES + 1);
    if (o.evidence && strcmp(o.evidence, "-") == 0)
        rc = cu_read_stream(stdin, CU_MAX_EVIDENCE_BYTES, &ev, &err);
    else if (o.evidence && cu_buf_append(&ev, o.evidence, strlen(o.evidence)))
        rc = cu_err_set(&err, CU_EINVAL, "evidence is longer than %d bytes",
                        CU_MAX_EVIDENCE_BYTES);
    cu_consent_in in = {.purpose = args[1], .given = given,
                        .method = o.method ? o.method : "staff",
                        .evidence = (const char *)ev.data, .evidence_len = ev.len};
    char id[CU_ID_STRLEN];
    if (!rc)
        rc = cli_open(c, given ? "consent give" : "consent withdraw", &err);
    if (!rc)
        CLI_RERUN(c, rc, &err,
                  cu_consent_record(c->vault, &c->actor, args[0], &in, id, NULL, NULL, &err));
    cu_buf_release(&ev);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "id", id, "subject", args[0],
                                 "purpose", args[1], "state", given ? "given" : "withdrawn"));
    else
        printf("%s: consent to %s %s (record %s)\n", args[0], args[1],
               given ? "given" : "withdrawn", id);
    return EXIT_DONE;
}

static int consent_give(cli *c, int argc, char **argv)
{
    return consent_change(c, argc, argv, true);
}

static int consent_withdraw(cli *c, int argc, char **argv)
{
    return consent_change(c, argc, argv, false);
}

static int consent_show(cli *c, int argc, char **argv)
{
    pol_opts o;
    const char *subject = NULL;
    int rc = parse(c, argc, argv, consent_help, &o, 1, &subject, "one SUBJECT");
    if (rc)
        return rc;
    cu_err err = {0};
    cu_consent_list h = {.evidence = true};
    rc = cli_open(c, "consent show", &err);
    if (!rc)
        rc = cu_consent_history(c->vault, &c->actor, subject, cu_consent_keep, &h, &err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(&err, rc, "out of memory");
    cu_buf out;
    cu_buf_init(&out, 0);
    cu_jw w;
    cu_jw_init(&w, &out);
    if (!rc && o.receipt) {
        size_t at = h.n;
        for (size_t i = 0; i < h.n; i++)
            if (strcmp(h.v[i].id, o.receipt) == 0)
                at = i;
        if (at == h.n) {
            rc = cu_err_set(&err, CU_ENOTFOUND, "subject %s has no consent record %s", subject,
                            o.receipt);
        } else {
            /* The events of this purpose up to and including the record. */
            cu_consent_list ev = {.purpose = h.v[at].purpose};
            for (size_t i = 0; !rc && i <= at; i++)
                if (cu_consent_keep(&ev, &h.v[i]))
                    rc = cu_err_set(&err, CU_ENOMEM, "out of memory");
            cu_policy *p = NULL;
            /* The version the subject saw, else the current one, else none. */
            if (!rc && cu_policy_load(c->vault, h.v[at].controller_id, h.v[at].policy_version,
                                      &p, NULL) != CU_OK &&
                cu_policy_load(c->vault, h.v[at].controller_id, 0, &p, NULL) != CU_OK)
                p = NULL;
            if (!rc)
                cu_jw_consent_receipt(&w, &h.v[at], ev.v, ev.n, p);
            cu_policy_free(p);
            cu_consent_list_release(&ev);
        }
    } else if (!rc && c->json) {
        cu_jw_begin_object(&w);
        cu_jw_key(&w, "subject");
        cu_jw_str(&w, subject);
        cu_jw_key(&w, "consents");
        cu_jw_begin_array(&w);
        for (size_t i = 0; i < h.n; i++)
            cu_jw_consent(&w, &h.v[i]);
        cu_jw_end_array(&w);
        cu_jw_end_object(&w);
    } else if (!rc) {
        for (size_t i = 0; i < h.n; i++) {
            char when[CU_TIME_STRLEN];
            cu_time_format(h.v[i].at, when);
            printf("%s  %-9s %s  by %s via %s  (policy v%lld, record %s)\n", when,
                   h.v[i].given ? "given" : "withdrawn", h.v[i].purpose, h.v[i].recorded_by,
                   h.v[i].method, (long long)h.v[i].policy_version, h.v[i].id);
        }
        if (!h.n)
            printf("%s: no consent recorded\n", subject);
    }
    cu_consent_list_release(&h);
    if (!rc && w.rc)
        rc = cu_err_set(&err, CU_ENOMEM, "out of memory");
    int status = rc ? cli_fail(c, &err) : EXIT_DONE;
    if (!rc && out.len) {
        json_t *j = json_loadb((const char *)out.data, out.len, 0, NULL);
        cli_print_json(j);
    }
    cu_buf_release(&out);
    return status;
}

static int consent_link(cli *c, int argc, char **argv)
{
    pol_opts o;
    const char *args[2] = {NULL, NULL};
    int rc = parse(c, argc, argv, consent_help, &o, 2, args, "SUBJECT and PURPOSE");
    if (rc)
        return rc;
    cu_err err = {0};
    char token[CU_TOKEN_STRLEN];
    /* A bad --public-url is refused before a link is made. */
    if (o.public_url && cli_public_url(c, o.public_url, &err))
        return cli_usage("%s", err.msg);
    rc = cli_open(c, "consent link", &err);
    if (!rc)
        rc = cli_public_url(c, o.public_url, &err);
    if (!rc)
        rc = cu_unsubscribe_link(c->vault, &c->actor, args[0], args[1], token, &err);
    if (rc)
        return cli_fail(c, &err);
    char path[96], url[CU_LINK_MAX];
    snprintf(path, sizeof path, "/v1/unsubscribe/%s", token);
    if (cu_public_link(url, sizeof url, path))
        cu_strlcpy(url, path, sizeof url); /* cannot happen: the URL is bounded */
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:s}", "token", token, "path", path, "url", url));
    else
        printf("%s\n", url);
    cu_wipe(token, sizeof token);
    cu_wipe(path, sizeof path);
    cu_wipe(url, sizeof url);
    return EXIT_DONE;
}

int cmd_consent(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"give", consent_give},
        {"withdraw", consent_withdraw},
        {"show", consent_show},
        {"link", consent_link},
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], consent_help);
}

/* ---- restriction and objection (custos subject restrict|object|rights) ---- */

static const char rights_help[] =
    "usage: custos subject restrict ID [--lift]\n"
    "       custos subject object ID PURPOSE|all [--lift]\n"
    "       custos subject rights ID\n"
    "\n"
    "restrict stops all processing of the subject's data except storage, legal\n"
    "claims and purposes the subject consents to (UK GDPR Article 18); object\n"
    "records an objection to one purpose, or to all processing on public task or\n"
    "legitimate interests and all direct marketing (Article 21; absolute for\n"
    "direct marketing). --lift ends a restriction or objection. rights shows both.\n";

int cmd_subject_restrict(cli *c, int argc, char **argv)
{
    pol_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, rights_help, &o, 1, &id, "one subject id");
    if (rc)
        return rc;
    cu_err err = {0};
    rc = cli_open(c, "subject restrict", &err);
    if (!rc)
        CLI_RERUN(c, rc, &err, cu_subject_restrict(c->vault, &c->actor, id, !o.lift, &err));
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:b}", "id", id, "restricted", !o.lift));
    else
        printf("%s: processing %s\n", id, o.lift ? "no longer restricted" : "restricted");
    return EXIT_DONE;
}

int cmd_subject_object(cli *c, int argc, char **argv)
{
    pol_opts o;
    const char *args[2] = {NULL, NULL};
    int rc = parse(c, argc, argv, rights_help, &o, 2, args, "a subject id and a PURPOSE");
    if (rc)
        return rc;
    const char *purpose = strcmp(args[1], "all") == 0 ? "*" : args[1];
    cu_err err = {0};
    rc = cli_open(c, "subject object", &err);
    if (!rc)
        CLI_RERUN(c, rc, &err,
                  cu_subject_object(c->vault, &c->actor, args[0], purpose, !o.lift, &err));
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s, s:b}", "id", args[0], "purpose", args[1],
                                 "objecting", !o.lift));
    else
        printf("%s: objection to %s %s\n", args[0], args[1], o.lift ? "lifted" : "recorded");
    return EXIT_DONE;
}

static int print_objection(void *ctx, const cu_objection_row *r)
{
    json_t *arr = ctx;
    char made[CU_TIME_STRLEN], lifted[CU_TIME_STRLEN];
    cu_time_format(r->made_at, made);
    if (r->lifted_at)
        cu_time_format(r->lifted_at, lifted);
    const char *purpose = strcmp(r->purpose, "*") == 0 ? "all" : r->purpose;
    if (arr)
        return json_array_append_new(
                   arr, json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "purpose", purpose, "made_at",
                                  made, "recorded_by", r->recorded_by, "lifted_at",
                                  r->lifted_at ? lifted : NULL, "lifted_by", r->lifted_by))
                   ? CU_ENOMEM
                   : CU_OK;
    printf("objection to %s, made %s by %s%s%s\n", purpose, made, r->recorded_by,
           r->lifted_at ? ", lifted " : "", r->lifted_at ? lifted : "");
    return CU_OK;
}

int cmd_subject_rights(cli *c, int argc, char **argv)
{
    pol_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, rights_help, &o, 1, &id, "one subject id");
    if (rc)
        return rc;
    cu_err err = {0};
    int64_t restricted = 0;
    json_t *arr = c->json ? json_array() : NULL;
    rc = cli_open(c, "subject rights", &err);
    if (!rc && !c->json)
        printf("%s\n", id);
    if (!rc)
        rc = cu_subject_rights(c->vault, &c->actor, id, &restricted, print_objection, arr, &err);
    if (rc) {
        json_decref(arr);
        return cli_fail(c, &err);
    }
    char when[CU_TIME_STRLEN];
    cu_time_format(restricted, when);
    if (arr)
        cli_print_json(json_pack("{s:s, s:s?, s:o}", "id", id, "restricted_at",
                                 restricted ? when : NULL, "objections", arr));
    else
        printf("restriction: %s%s\n", restricted ? "in force since " : "none",
               restricted ? when : "");
    return EXIT_DONE;
}
