/* custos subject add|add-items|show|find|list|rectify|erase|reindex. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "domain/nhs.h"
#include "domain/subject.h"
#include "iface/render.h"
#include "util/clock.h"
#include "util/file.h"

static const char subject_help[] =
    "usage: custos subject add --controller ID --kind KIND   < subject.json\n"
    "       custos subject add-items ID                     < items.json\n"
    "       custos subject show ID\n"
    "       custos subject find (--nhs-number N | --email E | --phone P | --local-ref R)\n"
    "                           [--controller ID]\n"
    "       custos subject find --name FAMILY --birth-date YYYY-MM-DD [--controller ID]\n"
    "       custos subject reindex [--controller ID]\n"
    "       custos --purpose P subject list [--controller ID] [--limit N] [--cursor C]\n"
    "       custos subject rectify ID                       < patch.json\n"
    "       custos subject erase ID\n"
    "       custos subject restrict ID [--lift]\n"
    "       custos subject object ID PURPOSE|all [--lift]\n"
    "       custos subject rights ID\n"
    "\n"
    "KIND is patient, web_user, employee or other. A subject document is JSON:\n"
    "  {\"name\": \"...\", \"birth_date\": \"1970-01-31\", \"nhs_number\": \"999 000 0018\",\n"
    "   \"email\": \"...\", \"phone\": \"...\", \"address\": \"...\", \"postcode\": \"...\",\n"
    "   \"local_ref\": \"...\", \"source\": \"subject\",\n"
    "   \"items\": [{\"category\": \"health\", \"field\": \"diagnosis\", \"value\": \"...\",\n"
    "              \"source\": \"nhs_organisation\", \"collected_at\": \"2026-01-31\"}]}\n"
    "categories: contact, identifying, health, genetic, special_category, family,\n"
    "  workplace_education_financial, online_identifier\n"
    "sources: subject, staff, nhs_organisation, local_authority, other_organisation,\n"
    "  national_source (default: the document's \"source\", else subject)\n"
    "A rectification document has the same top-level fields and\n"
    "  \"items\": [{\"id\": \"ITEM_ID\", \"value\": \"...\"}]\n"
    "Limits: 1 MiB per document, 1000 values, 1024 bytes per top-level field,\n"
    "64 KiB per item value.\n"
    "A search value of - is read from stdin, keeping it out of the process list.\n"
    "--name is a family name, matched without case, accents, apostrophes or\n"
    "hyphens (\"O'Brien-Smith\" is \"obrien smith\"); a record's family name is\n"
    "the last one, two or three words of its name (docs/cli.md). reindex builds\n"
    "that search's index for subjects recorded before it existed.\n";

typedef struct subj_opts {
    const char *controller, *kind, *field, *value, *limit, *cursor;
    const char *family, *birth; /* find by family name and date of birth */
} subj_opts;

static int subj_opt(void *ctx, int opt, const char *arg)
{
    subj_opts *o = ctx;
    const char *field = NULL;
    switch (opt) {
    case 'c': o->controller = arg; return 0;
    case 'k': o->kind = arg; return 0;
    case 'L': o->limit = arg; return 0;
    case 'C': o->cursor = arg; return 0;
    case 'N': o->family = arg; return 0;
    case 'B': o->birth = arg; return 0;
    case 'n': field = "nhs_number"; break;
    case 'e': field = "email"; break;
    case 'p': field = "phone"; break;
    case 'r': field = "local_ref"; break;
    default: return cli_usage("unexpected option");
    }
    if (o->field)
        return cli_usage("search by one identifier at a time");
    o->field = field;
    o->value = arg;
    return 0;
}

static const struct option subj_options[] = {
    CLI_COMMON_OPTIONS,
    {"controller", required_argument, NULL, 'c'},
    {"kind", required_argument, NULL, 'k'},
    {"nhs-number", required_argument, NULL, 'n'},
    {"email", required_argument, NULL, 'e'},
    {"phone", required_argument, NULL, 'p'},
    {"local-ref", required_argument, NULL, 'r'},
    {"name", required_argument, NULL, 'N'},
    {"birth-date", required_argument, NULL, 'B'},
    {"limit", required_argument, NULL, 'L'},
    {"cursor", required_argument, NULL, 'C'},
    {0, 0, 0, 0},
};

/* Parses options; *id gets the single operand when want_id. */
static int parse(cli *c, int argc, char **argv, subj_opts *o, bool want_id, const char **id)
{
    memset(o, 0, sizeof *o);
    int rc = cli_parse(c, argc, argv, subj_options, subject_help, subj_opt, o);
    if (rc)
        return rc;
    if (want_id) {
        if (optind != argc - 1)
            return cli_usage("subject %s needs one subject id", argv[0]);
        *id = argv[optind];
    } else if (optind < argc) {
        return cli_usage("subject %s takes no operands", argv[0]);
    }
    return 0;
}

static int read_doc(cli *c, cu_doc_kind kind, cu_doc *doc, cu_err *err)
{
    cu_buf in;
    cu_buf_init(&in, CU_MAX_INPUT_BYTES + 1);
    if (isatty(STDIN_FILENO))
        fputs("custos: reading the JSON document from stdin (end with Ctrl-D)\n", stderr);
    int rc = cu_read_stream(stdin, CU_MAX_INPUT_BYTES, &in, err);
    if (!rc)
        rc = cu_doc_parse(in.data, in.len, kind, doc, err);
    cu_buf_release(&in);
    (void)c;
    return rc;
}

static int subject_add(cli *c, int argc, char **argv)
{
    subj_opts o;
    int rc = parse(c, argc, argv, &o, false, NULL);
    if (rc)
        return rc;
    if (!o.controller || !o.kind)
        return cli_usage("subject add needs --controller ID and --kind KIND");
    cu_err err = {0};
    cu_doc doc;
    if (read_doc(c, CU_DOC_SUBJECT, &doc, &err))
        return cli_fail(c, &err);
    if (doc.kind && strcmp(o.kind, doc.kind) != 0) {
        cu_doc_release(&doc);
        cu_err_set(&err, CU_EINVAL, "--kind and the document's \"kind\" differ");
        return cli_fail(c, &err);
    }
    char id[CU_ID_STRLEN];
    rc = cli_open(c, "subject add", &err);
    if (!rc)
        CLI_RERUN(c, rc, &err,
                  cu_subject_add(c->vault, &c->actor, o.controller, o.kind, &doc, id, &err));
    cu_doc_release(&doc);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:s}", "id", id));
    else
        puts(id);
    return EXIT_DONE;
}

static int subject_add_items(cli *c, int argc, char **argv)
{
    subj_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, &o, true, &id);
    if (rc)
        return rc;
    cu_err err = {0};
    cu_doc doc;
    if (read_doc(c, CU_DOC_SUBJECT, &doc, &err))
        return cli_fail(c, &err);
    char (*ids)[CU_ID_STRLEN] = calloc(doc.n, sizeof *ids);
    rc = ids ? cli_open(c, "subject add-items", &err)
             : cu_err_set(&err, CU_ENOMEM, "out of memory");
    if (!rc)
        CLI_RERUN(c, rc, &err, cu_subject_add_items(c->vault, &c->actor, id, &doc, ids, &err));
    size_t n = doc.n;
    cu_doc_release(&doc);
    if (rc) {
        free(ids);
        return cli_fail(c, &err);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!c->json)
            puts(ids[i]);
        json_array_append_new(arr, json_string(ids[i]));
    }
    free(ids);
    if (c->json)
        cli_print_json(json_pack("{s:o}", "items", arr));
    else
        json_decref(arr);
    return EXIT_DONE;
}

static void print_subject_text(const cu_subject_view *sv)
{
    char created[CU_TIME_STRLEN], updated[CU_TIME_STRLEN];
    cu_time_format(sv->rec.created_at, created);
    cu_time_format(sv->rec.updated_at, updated);
    printf("subject %s\n  kind %s, controller %s\n  created %s, updated %s\n", sv->rec.id,
           sv->rec.kind, sv->rec.controller_id, created, updated);
    const cu_known_field *kf;
    for (size_t k = 0; (kf = cu_known_field_at(k)) != NULL; k++)
    for (size_t i = 0; i < sv->n; i++) {
        const cu_item_view *it = &sv->items[i];
        if (strcmp(it->field, kf->field) != 0)
            continue;
        const char *val = (const char *)it->value.data;
        cu_nhs nhs;
        bool is_nhs = strcmp(it->field, "nhs_number") == 0 &&
                      cu_nhs_parse(val, it->value.len, &nhs) == CU_NHS_OK;
        printf("  %-12s %s%s\n", it->field, is_nhs ? nhs.display : val,
               is_nhs && nhs.test_number ? "  (test number)" : "");
    }
    for (size_t i = 0; i < sv->n; i++) {
        const cu_item_view *it = &sv->items[i];
        if (cu_known_field_find(it->field))
            continue;
        char at[CU_TIME_STRLEN];
        cu_time_format(it->collected_at, at);
        printf("  item %s\n    %s/%s: %s\n    source %s, collected %.10s, recorded by %s\n",
               it->id, it->category >= 0 ? cu_category_name(it->category) : "?", it->field,
               (const char *)it->value.data, it->source, at, it->recorded_by);
    }
}

static int subject_show(cli *c, int argc, char **argv)
{
    subj_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, &o, true, &id);
    if (rc)
        return rc;
    cu_err err = {0};
    cu_subject_view sv;
    if (cli_open(c, "subject show", &err))
        return cli_fail(c, &err);
    rc = cu_subject_get(c->vault, &c->actor, id, &sv, &err);
    if (rc == CU_EERASED && c->json) {
        /* Erased is an answer, not just an error: say when. */
        cli_print_json(json_pack("{s:s, s:s, s:o, s:{s:s, s:s}}", "id", sv.rec.id,
                                 "controller", sv.rec.controller_id, "erased_at",
                                 cu_json_time(sv.rec.erased_at), "error", "type", "erased",
                                 "message", err.msg));
        fprintf(stderr, "custos: %s\n", err.msg);
        return EXIT_REFUSED;
    }
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(cu_json_subject(&sv));
    else
        print_subject_text(&sv);
    cu_subject_view_release(&sv);
    return EXIT_DONE;
}

static int print_found(void *ctx, const char *id)
{
    cli *c = ctx;
    if (c->json)
        return 0;
    puts(id);
    return 0;
}

typedef struct found_json {
    json_t *arr;
} found_json;

static int collect_found(void *ctx, const char *id)
{
    json_array_append_new(((found_json *)ctx)->arr, json_string(id));
    return 0;
}

/* Ends a search: its error, or under --json the ids it found. */
static int found_done(cli *c, int rc, found_json *f, cu_err *err)
{
    if (rc) {
        json_decref(f->arr);
        return cli_fail(c, err);
    }
    if (c->json)
        cli_print_json(json_pack("{s:o}", "ids", f->arr));
    else
        json_decref(f->arr);
    return EXIT_DONE;
}

static int subject_find(cli *c, int argc, char **argv)
{
    subj_opts o;
    int rc = parse(c, argc, argv, &o, false, NULL);
    if (rc)
        return rc;
    if (o.family || o.birth) {
        if (o.field || !o.family || !o.birth)
            return cli_usage("subject find --name needs --birth-date, and no identifier");
        cu_err err = {0};
        found_json f = {.arr = json_array()};
        rc = cli_open(c, "subject find", &err);
        if (!rc)
            rc = cu_subject_find_name_birth(c->vault, &c->actor, o.controller, o.family,
                                            strlen(o.family), o.birth,
                                            c->json ? collect_found : print_found,
                                            c->json ? (void *)&f : (void *)c, &err);
        return found_done(c, rc, &f, &err);
    }
    if (!o.field)
        return cli_usage("subject find needs --nhs-number, --email, --phone, --local-ref or "
                         "--name and --birth-date");
    cu_err err = {0};
    cu_buf in;
    cu_buf_init(&in, 2048);
    const char *value = o.value;
    size_t vlen = strlen(value);
    if (strcmp(value, "-") == 0) {
        if (cu_read_stream(stdin, 1024, &in, &err))
            return cli_fail(c, &err);
        while (in.len && (in.data[in.len - 1] == '\n' || in.data[in.len - 1] == '\r'))
            in.data[--in.len] = '\0';
        value = (const char *)in.data;
        vlen = in.len;
    }
    found_json f = {.arr = json_array()};
    rc = cli_open(c, "subject find", &err);
    if (!rc)
        rc = cu_subject_find(c->vault, &c->actor, o.controller, o.field, value ? value : "",
                             vlen, c->json ? collect_found : print_found,
                             c->json ? (void *)&f : (void *)c, &err);
    cu_buf_release(&in);
    return found_done(c, rc, &f, &err);
}

typedef struct subj_page {
    cli_page pg;
    json_t *arr; /* --json: the page's entries */
} subj_page;

static int list_json(void *ctx, const cu_subject_rec *r);

static int list_one(void *ctx, const cu_subject_rec *r)
{
    subj_page *sp = ctx;
    if (!cli_page_take(&sp->pg))
        return 0;
    if (sp->arr)
        return list_json(sp->arr, r);
    char created[CU_TIME_STRLEN];
    cu_time_format(r->created_at, created);
    if (r->erased_at) {
        char erased[CU_TIME_STRLEN];
        cu_time_format(r->erased_at, erased);
        printf("%s  %-9s created %s  erased %s\n", r->id, r->kind, created, erased);
    } else {
        printf("%s  %-9s created %s\n", r->id, r->kind, created);
    }
    return 0;
}

static int list_json(void *ctx, const cu_subject_rec *r)
{
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", r->id,
                                         "controller", r->controller_id, "kind", r->kind,
                                         "created_at", cu_json_time(r->created_at),
                                         "erased_at", cu_json_time(r->erased_at)));
    return 0;
}

static int subject_list(cli *c, int argc, char **argv)
{
    subj_opts o;
    int rc = parse(c, argc, argv, &o, false, NULL);
    if (rc)
        return rc;
    /* Without a purpose every subject would be filtered out in silence. */
    if (!c->purpose_given)
        return cli_usage("subject list needs --purpose P: a listing is processing of "
                         "personal data, and only subjects the purpose covers are listed");
    cu_err err = {0};
    subj_page sp = {.arr = c->json ? json_array() : NULL};
    snprintf(sp.pg.scope, sizeof sp.pg.scope, "cli subject list\x1f%s\x1f%s",
             o.controller ? o.controller : "", c->purpose);
    rc = cli_open(c, "subject list", &err);
    if (!rc)
        rc = cli_page_begin(c, &sp.pg, o.limit, o.cursor, &err);
    if (!rc)
        rc = cu_subject_list(c->vault, &c->actor, o.controller, list_one, &sp, &err);
    if (rc) {
        json_decref(sp.arr);
        return cli_fail(c, &err);
    }
    char next[CU_CURSOR_STRLEN];
    cli_page_next(c, &sp.pg, next);
    if (c->json) {
        json_t *j = json_pack("{s:o}", "subjects", sp.arr);
        if (next[0])
            json_object_set_new(j, "next", json_string(next));
        cli_print_json(j);
    } else if (next[0]) {
        printf("more follow: --cursor %s\n", next);
    }
    return EXIT_DONE;
}

static int subject_rectify(cli *c, int argc, char **argv)
{
    subj_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, &o, true, &id);
    if (rc)
        return rc;
    cu_err err = {0};
    cu_doc doc;
    if (read_doc(c, CU_DOC_RECTIFY, &doc, &err))
        return cli_fail(c, &err);
    json_t *tell = json_array();
    rc = cli_open(c, "subject rectify", &err);
    if (!rc)
        CLI_RERUN(c, rc, &err,
                  (json_array_clear(tell),
                   cu_subject_rectify_notify(c->vault, &c->actor, id, &doc,
                                             cu_json_collect_recipient, tell, &err)));
    cu_doc_release(&doc);
    if (rc) {
        json_decref(tell);
        return cli_fail(c, &err);
    }
    if (c->json) {
        cli_print_json(json_pack("{s:s, s:b, s:o}", "id", id, "rectified", 1,
                                 "recipients_to_notify", tell));
        return EXIT_DONE;
    }
    printf("rectified %s; the previous and new values are kept, encrypted, in the audit "
           "trail\n", id);
    /* Art 19: whoever received the old values must be told. */
    for (size_t i = 0; i < json_array_size(tell); i++) {
        json_t *r = json_array_get(tell, i);
        json_t *who = json_object_get(r, "recipient_id");
        printf("tell %s (disclosed by %s on %s)\n",
               json_string_value(who ? who : json_object_get(r, "organisation")),
               json_string_value(json_object_get(r, "channel")),
               json_string_value(json_object_get(r, "disclosed_at")));
    }
    json_decref(tell);
    return EXIT_DONE;
}

static int subject_erase(cli *c, int argc, char **argv)
{
    subj_opts o;
    const char *id = NULL;
    int rc = parse(c, argc, argv, &o, true, &id);
    if (rc)
        return rc;
    cu_err err = {0};
    int64_t at = 0;
    if (cli_open(c, "subject erase", &err) ||
        cu_subject_erase(c->vault, &c->actor, id, &at, &err))
        return cli_fail(c, &err);
    char when[CU_TIME_STRLEN];
    cu_time_format(at, when);
    if (c->json)
        cli_print_json(json_pack("{s:s, s:s}", "id", id, "erased_at", when));
    else
        printf("erased %s at %s: its data key is destroyed and its items deleted\n", id, when);
    return EXIT_DONE;
}

static int subject_reindex(cli *c, int argc, char **argv)
{
    subj_opts o;
    int rc = parse(c, argc, argv, &o, false, NULL);
    if (rc)
        return rc;
    cu_err err = {0};
    size_t done = 0;
    rc = cli_open(c, "subject reindex", &err);
    if (!rc)
        rc = cu_subject_reindex(c->vault, &c->actor, o.controller, &done, &err);
    if (rc)
        return cli_fail(c, &err);
    if (c->json)
        cli_print_json(json_pack("{s:I}", "reindexed", (json_int_t)done));
    else
        printf("indexed the family name and date of birth of %zu subjects\n", done);
    return EXIT_DONE;
}

int cmd_subject(cli *c, int argc, char **argv)
{
    static const subcmd subs[] = {
        {"add", subject_add},         {"add-items", subject_add_items},
        {"show", subject_show},       {"find", subject_find},
        {"list", subject_list},       {"rectify", subject_rectify},
        {"erase", subject_erase},     {"restrict", cmd_subject_restrict},
        {"object", cmd_subject_object}, {"rights", cmd_subject_rights},
        {"reindex", subject_reindex},
    };
    return cli_dispatch(c, argc, argv, subs, sizeof subs / sizeof subs[0], subject_help);
}
