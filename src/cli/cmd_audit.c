/* custos audit verify|show|head. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/node.h"
#include "domain/audit.h"
#include "domain/subject.h"
#include "iface/render.h"
#include "util/clock.h"

static const char audit_help[] =
    "usage: custos audit verify\n"
    "       custos audit show [--subject ID] [--actor NAME] [--since T] [--until T]\n"
    "                         [--limit N] [--with-values]\n"
    "       custos audit head\n"
    "       custos audit restart\n"
    "\n"
    "verify recomputes the BLAKE2b hash chain over every event and checks the\n"
    "Ed25519 signatures of the chain head and checkpoints; it names the first\n"
    "event that fails (exit 1). On a full disk verify still verifies and reports,\n"
    "with the verification's exit status, and says on stderr that it could not\n"
    "record itself in the trail. show lists who did what, when and why (T is\n"
    "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ); --with-values decrypts the previous\n"
    "values a rectification kept, where the subject still exists. head prints\n"
    "the signed chain head and public key, to keep outside the store.\n"
    "restart is the operator's decision to start a new trail on a store whose\n"
    "trail fails verification (emptied, or cut at its start): it pins the trail's\n"
    "start after whatever events are left, and the decision is the new trail's\n"
    "first event; `custos serve` refuses such a store until then.\n";

typedef struct audit_opts {
    cu_audit_filter f;
    bool with_values;
} audit_opts;

static int audit_opt(void *ctx, int opt, const char *arg)
{
    audit_opts *o = ctx;
    switch (opt) {
    case 's': o->f.subject_id = arg; return 0;
    case 'a': o->f.actor = arg; return 0;
    case 'w': o->with_values = true; return 0;
    case 'S':
    case 'U': {
        int64_t t;
        if (!cu_time_parse(arg, strlen(arg), &t))
            return cli_usage("--since and --until take YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
        if (opt == 'S')
            o->f.since_us = t;
        else
            o->f.until_us = strlen(arg) == 10 ? t + 86400000000LL - 1 : t;
        return 0;
    }
    case 'l': {
        char *end;
        long long n = strtoll(arg, &end, 10);
        if (*end || n <= 0)
            return cli_usage("--limit takes a positive number");
        o->f.limit = n;
        return 0;
    }
    }
    return cli_usage("unexpected option");
}

static const struct option audit_options[] = {
    CLI_COMMON_OPTIONS,
    {"subject", required_argument, NULL, 's'},
    {"actor", required_argument, NULL, 'a'},
    {"since", required_argument, NULL, 'S'},
    {"until", required_argument, NULL, 'U'},
    {"limit", required_argument, NULL, 'l'},
    {"with-values", no_argument, NULL, 'w'},
    {0, 0, 0, 0},
};

static int audit_verify(cli *c, int argc, char **argv)
{
    audit_opts o = {0};
    int rc = cli_parse(c, argc, argv, audit_options, audit_help, audit_opt, &o);
    if (rc)
        return rc;
    cu_err err = {0};
    cu_verify_report rep;
    if (cli_open(c, "audit verify", &err) || cu_audit_check(c->vault, &c->actor, &rep, &err))
        return cli_fail(c, &err);
    if (c->json) {
        json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:b}", "ok", rep.ok, "events",
                              (json_int_t)rep.events, "signatures", (json_int_t)rep.checkpoints,
                              "first_event", (json_int_t)rep.start, "recorded", rep.recorded);
        if (!rep.ok) {
            json_object_set_new(j, "first_bad_event", json_integer(rep.first_bad));
            json_object_set_new(j, "problem", json_string(rep.reason));
        }
        cli_print_json(j);
    } else if (rep.ok) {
        printf("audit trail intact: %lld events, %lld signatures verified\n",
               (long long)rep.events, (long long)rep.checkpoints);
        if (rep.start > 1)
            printf("the trail was restarted by the operator at event %lld; the %lld events "
                   "before it are not verified\n", (long long)rep.start,
                   (long long)rep.before_start);
    }
    cli_note_unrecorded(&rep);
    if (!rep.ok) {
        fprintf(stderr, "custos: audit trail FAILED verification: %s\n", rep.reason);
        return EXIT_REFUSED;
    }
    return EXIT_DONE;
}

void cli_note_unrecorded(const cu_verify_report *rep)
{
    if (!rep->recorded)
        fprintf(stderr, "custos: the verification could not be recorded in the audit trail "
                        "(%s); its result above stands\n", rep->not_recorded);
}

static int show_event(void *ctx, const cu_audit_decoded *e, const cu_buf *payload)
{
    cli *c = ctx;
    char when[CU_TIME_STRLEN];
    cu_time_format(e->ts, when);
    if (c->json) {
        json_t *j = cu_json_event(e, payload);
        /* one JSON object per line, so a long trail streams */
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
        if (s) {
            puts(s);
            memset(s, 0, strlen(s));
            free(s);
        }
        json_decref(j);
        return 0;
    }
    printf("%6lld  %s  %.*s (%.*s) %.*s", (long long)e->seq, when, (int)e->actor.n, e->actor.p,
           (int)e->role.n, e->role.p, (int)e->action.n, e->action.p);
    if (e->subject.n)
        printf(" subject %.*s", (int)e->subject.n, e->subject.p);
    else if (e->controller.n)
        printf(" controller %.*s", (int)e->controller.n, e->controller.p);
    printf(" -> %.*s", (int)e->outcome.n, e->outcome.p);
    if (e->rule.n)
        printf(" (%.*s)", (int)e->rule.n, e->rule.p);
    printf("; purpose %.*s", (int)e->purpose.n, e->purpose.p);
    if (e->categories.n)
        printf("; categories %.*s", (int)e->categories.n, e->categories.p);
    printf("; via %.*s", (int)e->via.n, e->via.p);
    if (e->detail.n)
        printf("; also %.*s", (int)e->detail.n, e->detail.p);
    putchar('\n');
    if (payload)
        printf("        previous values: %.*s\n", (int)payload->len, (const char *)payload->data);
    return 0;
}

static int audit_show(cli *c, int argc, char **argv)
{
    audit_opts o = {0};
    int rc = cli_parse(c, argc, argv, audit_options, audit_help, audit_opt, &o);
    if (rc)
        return rc;
    if (optind < argc)
        return cli_usage("audit show takes no operands");
    cu_err err = {0};
    if (cli_open(c, "audit show", &err) ||
        cu_audit_list(c->vault, &c->actor, &o.f, o.with_values, show_event, c, &err))
        return cli_fail(c, &err);
    return EXIT_DONE;
}

static int audit_restart(cli *c, int argc, char **argv)
{
    audit_opts o = {0};
    int rc = cli_parse(c, argc, argv, audit_options, audit_help, audit_opt, &o);
    if (rc)
        return rc;
    cu_err err = {0};
    int64_t seq = 0;
    if (cli_open(c, "audit restart", &err) || cu_audit_restart(c->vault, &c->actor, &seq, &err))
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:b, s:I}", "restarted", 1, "first_event", (json_int_t)seq));
    else
        printf("audit trail restarted: event %lld records the decision and begins the new "
               "trail\n", (long long)seq);
    return EXIT_DONE;
}

static int add_node(void *ctx, const char *node, const unsigned char pk[CU_PUBKEY_BYTES])
{
    char hex[2 * CU_PUBKEY_BYTES + 1];
    cu_hex(pk, CU_PUBKEY_BYTES, hex);
    return json_array_append_new(ctx, json_pack("{s:s, s:s}", "node", node, "public_key", hex))
               ? CU_ENOMEM
               : CU_OK;
}

static int audit_head(cli *c, int argc, char **argv)
{
    audit_opts o = {0};
    int rc = cli_parse(c, argc, argv, audit_options, audit_help, audit_opt, &o);
    if (rc)
        return rc;
    cu_err err = {0};
    cu_verify_report rep;
    if (cli_open(c, "audit head", &err) || cu_audit_check(c->vault, &c->actor, &rep, &err))
        return cli_fail(c, &err);
    cli_note_unrecorded(&rep);
    cu_checkpoint head;
    if (cu_vault_head(c->vault, &head, &err))
        return cli_fail(c, &err);
    char pk[2 * CU_PUBKEY_BYTES + 1], hash[2 * CU_HASH_BYTES + 1], sig[2 * CU_SIG_BYTES + 1];
    /* The key that signed the head: the recorded key of the node it names,
     * else the store's own. */
    unsigned char raw[CU_PUBKEY_BYTES];
    cu_err kerr = {0};
    bool known = cu_node_public_key(c->vault, head.node, raw, &kerr) == CU_OK;
    if (known)
        cu_hex(raw, sizeof raw, pk);
    else
        pk[0] = '\0';
    cu_hex(head.hash, sizeof head.hash, hash);
    cu_hex(head.sig, sizeof head.sig, sig);
    char spk[2 * CU_PUBKEY_BYTES + 1];
    cu_vault_public_key(c->vault, spk);
    json_t *j = json_pack("{s:s, s:I, s:s, s:o, s:s, s:s?, s:s?, s:s, s:b}", "store_id",
                          cu_vault_store_id(c->vault), "seq", (json_int_t)head.seq, "hash", hash,
                          "signed_at", cu_json_time(head.signed_at), "signature", sig,
                          "node", head.node[0] ? head.node : NULL, "public_key",
                          known ? pk : NULL, "store_public_key", spk, "verified", rep.ok);
    /* every node's recorded key, to publish beside the head */
    json_t *nodes = json_array();
    if (cu_node_each(c->vault, add_node, nodes, &err)) {
        json_decref(nodes);
        json_decref(j);
        return cli_fail(c, &err);
    }
    json_object_set_new(j, "nodes", nodes);
    cli_print_json(j);
    return rep.ok ? EXIT_DONE : EXIT_REFUSED;
}

int cmd_audit(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"verify", audit_verify}, {"show", audit_show}, {"head", audit_head},
        {"restart", audit_restart}};
    return cli_dispatch(c, argc, argv, subs, 4, audit_help);
}
