/* custos sar, custos disclose, custos disclosures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/transmit.h"
#include "crypto/crypto.h"
#include "domain/disclosure.h"
#include "domain/sar.h"
#include "iface/sar_render.h"
#include "util/clock.h"
#include "util/file.h"

static const char sar_help[] =
    "usage: custos sar SUBJECT [--format json|html|fhir] [--withhold ITEM=REASON ...]\n"
    "                  [--out FILE]\n"
    "       custos sar SUBJECT --portable [--format json|fhir] [--out FILE]\n"
    "                  [--recipient ID | --organisation NAME]\n"
    "       custos sar SUBJECT --portable [--format json|fhir] --url https://...\n"
    "                  [--ca-file FILE] (--recipient ID | --organisation NAME)\n"
    "\n"
    "The subject access package (UK GDPR Art 15): every value held about the\n"
    "subject, decrypted, with the purposes, lawful bases, sources, recipients and\n"
    "disclosures, retention, automated decisions, consents and the access log.\n"
    "json is the full data; html a letter to the subject; fhir an HL7 FHIR R4\n"
    "Bundle. One audited operation (action export, purpose subject_rights).\n"
    "\n"
    "--withhold ITEM=REASON   withhold an item under the serious-harm exemption\n"
    "                         (DPA 2018 Sch 3 Part 2 para 5); the letter lists it\n"
    "                         as withheld, without its value; the reason is sealed\n"
    "                         into the audit event. Repeatable.\n"
    "--portable               the portability export (Art 20): only data the\n"
    "                         subject provided, processed on consent or contract\n"
    "--recipient ID / --organisation NAME\n"
    "                         with --portable and --out or --url: a transmission\n"
    "                         to another controller, recorded in the disclosure log\n"
    "--url URL                deliver by HTTPS POST to the other controller (the\n"
    "                         peer's certificate verified; --ca-file FILE names the\n"
    "                         CA certificates to trust instead of the system's)\n"
    "--out FILE               write to FILE (mode 0600, must not exist) instead of\n"
    "                         standard output\n";

static const char disclose_help[] =
    "usage: custos disclose SUBJECT (--recipient ID | --organisation NAME)\n"
    "                       --basis a-f --channel CHANNEL\n"
    "                       (--items ID,ID,... | --categories CAT,CAT,...)\n"
    "                       [--at DATE] [--note TEXT]\n"
    "       custos disclosures SUBJECT\n"
    "\n"
    "Records a disclosure made outside custos (a letter to a GP, a call to a\n"
    "safeguarding team) in the subject's disclosure log: the recipient (a\n"
    "recipient id of the controller's policy, or an organisation's name, kept\n"
    "encrypted), the lawful basis (UK GDPR Art 6(1) a-f), the channel (letter,\n"
    "email, phone, portal, file, https, other), the items or categories\n"
    "disclosed and when (default now). The purpose is --purpose. disclosures\n"
    "lists the log; every access package lists it too.\n";

typedef struct sar_opts {
    const char *format, *out, *url, *ca_file, *recipient, *organisation, *basis, *channel, *items,
        *categories, *at, *note;
    bool portable;
    cu_sar_withhold withhold[CU_MAX_WITHHOLD];
    char *withhold_buf[CU_MAX_WITHHOLD];
    size_t withhold_len[CU_MAX_WITHHOLD];
    size_t nwithhold;
} sar_opts;

static int sar_opt(void *ctx, int opt, const char *arg)
{
    sar_opts *o = ctx;
    switch (opt) {
    case 'f': o->format = arg; return 0;
    case 'o': o->out = arg; return 0;
    case 'u': o->url = arg; return 0;
    case 'A': o->ca_file = arg; return 0;
    case 'p': o->portable = true; return 0;
    case 'r': o->recipient = arg; return 0;
    case 'g': o->organisation = arg; return 0;
    case 'b': o->basis = arg; return 0;
    case 'c': o->channel = arg; return 0;
    case 'i': o->items = arg; return 0;
    case 'C': o->categories = arg; return 0;
    case 'a': o->at = arg; return 0;
    case 'n': o->note = arg; return 0;
    case 'w': {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg || !eq[1])
            return cli_usage("--withhold needs ITEM=REASON");
        if (o->nwithhold == CU_MAX_WITHHOLD)
            return cli_usage("at most %d --withhold options", CU_MAX_WITHHOLD);
        char *copy = strdup(arg);
        if (!copy)
            return cli_usage("out of memory");
        copy[eq - arg] = '\0';
        o->withhold_len[o->nwithhold] = strlen(arg);
        o->withhold_buf[o->nwithhold] = copy;
        o->withhold[o->nwithhold++] =
            (cu_sar_withhold){.item_id = copy, .reason = copy + (eq - arg) + 1};
        return 0;
    }
    default: return cli_usage("unexpected option");
    }
}

static const struct option sar_options[] = {
    CLI_COMMON_OPTIONS,
    {"format", required_argument, NULL, 'f'},
    {"out", required_argument, NULL, 'o'},
    {"url", required_argument, NULL, 'u'},
    {"ca-file", required_argument, NULL, 'A'},
    {"portable", no_argument, NULL, 'p'},
    {"recipient", required_argument, NULL, 'r'},
    {"organisation", required_argument, NULL, 'g'},
    {"withhold", required_argument, NULL, 'w'},
    {"basis", required_argument, NULL, 'b'},
    {"channel", required_argument, NULL, 'c'},
    {"items", required_argument, NULL, 'i'},
    {"categories", required_argument, NULL, 'C'},
    {"at", required_argument, NULL, 'a'},
    {"note", required_argument, NULL, 'n'},
    {0, 0, 0, 0},
};

static void opts_release(sar_opts *o)
{
    for (size_t i = 0; i < o->nwithhold; i++) {
        cu_wipe(o->withhold_buf[i], o->withhold_len[i]);
        free(o->withhold_buf[i]);
    }
    o->nwithhold = 0;
}

static int parse(cli *c, int argc, char **argv, const char *help, sar_opts *o,
                 const char **subject)
{
    memset(o, 0, sizeof *o);
    int rc = cli_parse(c, argc, argv, sar_options, help, sar_opt, o);
    if (rc)
        return rc;
    if (optind != argc - 1)
        return cli_usage("%s needs one subject id", argv[0]);
    *subject = argv[optind];
    return 0;
}

typedef struct deliver_ctx {
    cu_sar_format format;
    const char *out, *url, *ca_file;
    long refused;   /* the recipient answered this non-2xx status */
    cu_err refusal;
} deliver_ctx;

/* Renders and writes the package inside the operation: a failed write undoes
 * it (and any disclosure it records). */
static int deliver(void *ctx, const cu_sar *sar, cu_err *err)
{
    deliver_ctx *d = ctx;
    cu_buf out;
    cu_buf_init(&out, (size_t)256 << 20);
    int rc = cu_sar_render(sar, d->format, &out, err);
    if (!rc && d->url) {
        long status = 0;
        rc = cu_https_post(d->url, d->ca_file, cu_sar_content_type(d->format), out.data,
                           out.len, &status, &d->refusal);
        if (rc && status) {
            /* The recipient answered, so the data was sent: keep the
             * disclosure and the audit event, and report the refusal. */
            d->refused = status;
            rc = CU_OK;
        } else if (rc) {
            *err = d->refusal;
        }
    } else if (!rc && d->out) {
        rc = cu_write_file_atomic(d->out, out.data, out.len, 0600, 0, err);
    } else if (!rc) {
        if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
            rc = cu_err_set(err, CU_EIO, "cannot write the package to standard output");
    }
    cu_buf_release(&out);
    return rc;
}

/* A usage error (msg) after releasing o. */
static int usage_release(sar_opts *o, const char *msg)
{
    opts_release(o);
    return cli_usage("%s", msg);
}

int cmd_sar(cli *c, int argc, char **argv)
{
    sar_opts o;
    const char *subject = NULL;
    int rc = parse(c, argc, argv, sar_help, &o, &subject);
    if (rc) {
        opts_release(&o);
        return rc;
    }
    int f = cu_sar_format_from_name(o.format ? o.format : "json");
    if (f < 0 || (o.portable && f == CU_SAR_HTML))
        return usage_release(&o, o.portable ? "--format is json or fhir for --portable"
                                            : "--format is json, html or fhir");
    if ((o.recipient || o.organisation) && (!o.portable || (!o.out && !o.url)))
        return usage_release(&o, "--recipient and --organisation need --portable and --out "
                                 "FILE or --url URL");
    if (o.url && (o.out || (!o.recipient && !o.organisation)))
        return usage_release(&o, "--url needs --portable and --recipient ID or --organisation "
                                 "NAME, and no --out");
    if (o.ca_file && !o.url)
        return usage_release(&o, "--ca-file goes with --url");
    if (o.basis || o.channel || o.items || o.categories || o.at || o.note)
        return usage_release(&o, "those options belong to custos disclose");
    if (!o.out && isatty(STDOUT_FILENO) && f != CU_SAR_HTML)
        fputs("custos: writing personal data to the terminal\n", stderr);
    cu_err err = {0};
    cu_sar_request req = {
        .portable = o.portable, .withhold = o.withhold, .nwithhold = o.nwithhold,
        .recipient_id = o.recipient, .recipient_name = o.organisation,
        .channel = o.url ? "https" : (o.recipient || o.organisation) ? "file" : NULL,
    };
    deliver_ctx d = {.format = (cu_sar_format)f, .out = o.out, .url = o.url,
                     .ca_file = o.ca_file};
    rc = cli_open(c, o.portable ? "sar --portable" : "sar", &err);
    if (!rc)
        rc = cu_sar_run(c->vault, &c->actor, subject, &req, deliver, &d, &err);
    opts_release(&o);
    if (rc)
        return cli_fail(c, &err);
    if (d.refused) {
        cu_err e = {0};
        cu_err_set(&e, CU_EIO, "the recipient answered HTTP %ld; the data was sent, so the "
                               "transmission is recorded as a disclosure", d.refused);
        return cli_fail(c, &e);
    }
    if (o.out || o.url) {
        if (c->json)
            cli_print_json(json_pack("{s:s, s:s}", "subject", subject, o.url ? "url" : "out",
                                     o.url ? o.url : o.out));
        else
            printf("%s %s\n", o.url ? "delivered to" : "wrote", o.url ? o.url : o.out);
    }
    return EXIT_DONE;
}

/* Splits a comma-separated list in place into at most max entries. */
static int split(char *s, const char **out, size_t max, size_t *n)
{
    *n = 0;
    char *save = NULL;
    for (char *p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (*n == max)
            return -1;
        out[(*n)++] = p;
    }
    return 0;
}

int cmd_disclose(cli *c, int argc, char **argv)
{
    sar_opts o;
    const char *subject = NULL;
    int rc = parse(c, argc, argv, disclose_help, &o, &subject);
    if (rc) {
        opts_release(&o);
        return rc;
    }
    if (o.nwithhold || o.portable || o.format || o.out || o.url || o.ca_file)
        return usage_release(&o, "those options belong to custos sar");
    if (!o.recipient == !o.organisation)
        return cli_usage("disclose needs --recipient ID or --organisation NAME");
    if (!o.basis || strlen(o.basis) != 1 || o.basis[0] < 'a' || o.basis[0] > 'f')
        return cli_usage("disclose needs --basis, one of a-f (UK GDPR Art 6(1))");
    if (!o.channel)
        return cli_usage("disclose needs --channel (%s)", cu_disclosure_channel_list());
    if (!o.items && !o.categories)
        return cli_usage("disclose needs --items ID,... or --categories CAT,...");
    cu_err err = {0};
    int64_t at = 0;
    if (o.at && !cu_time_parse(o.at, strlen(o.at), &at))
        return cli_usage("--at must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    unsigned cats = 0;
    char *catbuf = o.categories ? strdup(o.categories) : NULL;
    char *itembuf = o.items ? strdup(o.items) : NULL;
    const char **ids = calloc(CU_MAX_DISCLOSURE_ITEMS + 1, sizeof *ids);
    size_t nids = 0;
    if ((o.categories && !catbuf) || (o.items && !itembuf) || !ids)
        rc = cu_err_set(&err, CU_ENOMEM, "out of memory");
    if (!rc && catbuf) {
        char *save = NULL;
        for (char *p = strtok_r(catbuf, ",", &save); !rc && p; p = strtok_r(NULL, ",", &save)) {
            int cat = cu_category_from_name(p);
            if (cat < 0)
                rc = cu_err_set(&err, CU_EINVAL, "--categories: categories are %s",
                                cu_category_list());
            else
                cats |= 1u << cat;
        }
    }
    if (!rc && itembuf && split(itembuf, ids, CU_MAX_DISCLOSURE_ITEMS, &nids))
        rc = cu_err_set(&err, CU_EINVAL, "at most %d items per disclosure",
                        CU_MAX_DISCLOSURE_ITEMS);
    char id[CU_ID_STRLEN];
    if (!rc)
        rc = cli_open(c, "disclose", &err);
    if (!rc) {
        cu_disclosure_in in = {
            .recipient_id = o.recipient, .recipient_name = o.organisation,
            .basis = o.basis[0], .channel = o.channel, .items = ids, .nitems = nids,
            .categories = cats, .disclosed_at = at, .note = o.note,
        };
        rc = cu_disclosure_record(c->vault, &c->actor, subject, &in, id, &err);
    }
    free(catbuf);
    free(itembuf);
    free(ids);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s}", "id", id, "subject", subject));
    else
        puts(id);
    return EXIT_DONE;
}

static int print_disclosure(void *ctx, const cu_disclosure_view *d)
{
    cli *c = ctx;
    char when[CU_TIME_STRLEN];
    cu_time_format(d->disclosed_at, when);
    if (c->json) {
        json_t *j = json_pack("{s:s, s:s?, s:s?, s:s#, s:s, s:s, s:s, s:s, s:s, s:o, s:s?}",
                              "id", d->id, "recipient_id",
                              d->recipient_id[0] ? d->recipient_id : NULL, "organisation",
                              d->recipient_name.len ? cu_buf_str(&d->recipient_name) : NULL,
                              "basis", &d->basis, (size_t)1, "purpose", d->purpose, "channel",
                              d->channel, "items", d->items, "categories", d->categories,
                              "recorded_by", d->recorded_by, "disclosed_at",
                              cu_json_time(d->disclosed_at), "note",
                              d->note.len ? cu_buf_str(&d->note) : NULL);
        char *s = json_dumps(j, JSON_COMPACT);
        if (s) {
            puts(s);
            cu_wipe(s, strlen(s));
            free(s);
        }
        json_decref(j);
        return 0;
    }
    printf("%s  %s  to %s  basis %c  purpose %s  by %s  categories %s%s%s\n", when, d->id,
           d->recipient_id[0] ? d->recipient_id : cu_buf_str(&d->recipient_name), d->basis,
           d->purpose, d->channel, d->categories, d->items[0] ? "  items " : "", d->items);
    return 0;
}

int cmd_disclosures(cli *c, int argc, char **argv)
{
    sar_opts o;
    const char *subject = NULL;
    int rc = parse(c, argc, argv, disclose_help, &o, &subject);
    opts_release(&o);
    if (rc)
        return rc;
    cu_err err = {0};
    rc = cli_open(c, "disclosures", &err);
    if (!rc)
        rc = cu_disclosure_list(c->vault, &c->actor, subject, print_disclosure, c, &err);
    return rc ? cli_fail(c, &err) : EXIT_DONE;
}
