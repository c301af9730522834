#include "domain/input.h"

#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/nhs.h"
#include "util/clock.h"

static void wipe_free(void *p)
{
    if (p) {
        cu_wipe(p, malloc_usable_size(p));
        free(p);
    }
}

void cu_input_init(void)
{
    json_set_alloc_funcs(malloc, wipe_free);
}

/* Echo a key in an error only when it looks like a schema name, never data. */
static const char *shown_key(const char *k)
{
    return cu_name_valid(k) ? k : "(not shown)";
}

static bool has_control(const char *s, size_t n, bool allow_newline)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && !(allow_newline && (c == '\n' || c == '\r' || c == '\t')))
            return true;
        if (c == 0x7f)
            return true;
    }
    return false;
}

static int norm_email(const char *v, size_t n, char *out, size_t outsz, cu_err *err)
{
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n < 3 || n > 254 || n >= outsz)
        return cu_err_set(err, CU_EINVAL, "email must be 3 to 254 characters");
    const char *at = memchr(v, '@', n);
    if (!at || at == v || memchr(at + 1, '@', n - (size_t)(at - v) - 1) ||
        (size_t)(at - v) > 64)
        return cu_err_set(err, CU_EINVAL, "email must have one '@' with a local part of 1 to 64 "
                                          "characters before it");
    const char *dom = at + 1;
    size_t dn = n - (size_t)(dom - v);
    if (dn < 3 || !memchr(dom, '.', dn) || dom[0] == '.' || dom[dn - 1] == '.')
        return cu_err_set(err, CU_EINVAL, "email must have a domain with a dot after the '@'");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';')
            return cu_err_set(err, CU_EINVAL, "email contains a character not allowed in an "
                                              "address");
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
    return CU_OK;
}

static int norm_phone(const char *v, size_t n, char *out, size_t outsz, cu_err *err)
{
    size_t o = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c >= '0' && c <= '9') {
            if (o + 1 >= outsz)
                return cu_err_set(err, CU_EINVAL, "phone has too many digits");
            out[o++] = c;
            digits++;
        } else if (c == '+' && o == 0) {
            out[o++] = c;
        } else if (c != ' ' && c != '-' && c != '(' && c != ')') {
            return cu_err_set(err, CU_EINVAL, "phone may contain only digits, spaces, '+', "
                                              "'-' and brackets");
        }
    }
    if (digits < 7 || digits > 15)
        return cu_err_set(err, CU_EINVAL, "phone must have 7 to 15 digits");
    out[o] = '\0';
    return CU_OK;
}

/* Upper case, spaces trimmed at both ends and single between parts
 * ("  sw1a   1aa " is "SW1A 1AA"); 2 to 10 characters after that, at least
 * two of them letters or digits. */
static int norm_postcode(const char *v, size_t n, char *out, size_t outsz, cu_err *err)
{
    size_t o = 0, alnum = 0;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c == ' ') {
            space = o > 0;
            continue;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return cu_err_set(err, CU_EINVAL, "postcode may contain only letters, digits and "
                                              "spaces");
        if (o + (space ? 2 : 1) >= outsz || o + (space ? 2 : 1) > 10)
            return cu_err_set(err, CU_EINVAL, "postcode must be 2 to 10 characters");
        if (space)
            out[o++] = ' ';
        space = false;
        out[o++] = c;
        alnum++;
    }
    if (alnum < 2)
        return cu_err_set(err, CU_EINVAL, "postcode must be 2 to 10 characters");
    out[o] = '\0';
    return CU_OK;
}

int cu_normalise_field(const char *field, const char *v, size_t n, char *out, size_t outsz,
                       bool *test_number, cu_err *err)
{
    if (test_number)
        *test_number = false;
    if (strcmp(field, "nhs_number") == 0) {
        cu_nhs nhs;
        cu_nhs_status st = cu_nhs_parse(v, n, &nhs);
        if (st != CU_NHS_OK)
            return cu_err_set(err, CU_EINVAL, "nhs_number %s", cu_nhs_status_text(st));
        if (outsz < sizeof nhs.digits)
            return cu_err_set(err, CU_EINTERNAL, "nhs_number buffer too small");
        memcpy(out, nhs.digits, sizeof nhs.digits);
        if (test_number)
            *test_number = nhs.test_number;
        return CU_OK;
    }
    if (strcmp(field, "email") == 0)
        return norm_email(v, n, out, outsz, err);
    if (strcmp(field, "phone") == 0)
        return norm_phone(v, n, out, outsz, err);
    if (strcmp(field, "postcode") == 0)
        return norm_postcode(v, n, out, outsz, err);
    if (strcmp(field, "birth_date") == 0) {
        cu_date d;
        if (!cu_date_parse(v, n, &d) || d.year < 1880)
            return cu_err_set(err, CU_EINVAL, "birth_date must be a real date YYYY-MM-DD");
        if (cu_date_cmp(d, cu_date_of_us(cu_now_us())) > 0)
            return cu_err_set(err, CU_EINVAL, "birth_date is in the future");
    } else if (has_control(v, n, strcmp(field, "address") == 0)) {
        return cu_err_set(err, CU_EINVAL, "%s contains control characters", field);
    }
    if (n >= outsz)
        return cu_err_set(err, CU_EINVAL, "%s is longer than %zu bytes", field, outsz - 1);
    memcpy(out, v, n);
    out[n] = '\0';
    return CU_OK;
}

typedef struct parse_ctx {
    cu_doc *doc;
    json_t *keep; /* normalised strings, owned with the tree */
    cu_err *err;
} parse_ctx;

/* Stores a normalised copy of a value in the document's ownership. */
static const char *keep_string(parse_ctx *p, const char *s, size_t n)
{
    json_t *str = json_stringn_nocheck(s, n);
    if (!str || json_array_append_new(p->keep, str))
        return NULL;
    return json_string_value(str);
}

static int add_known(parse_ctx *p, const cu_known_field *kf, json_t *val, const char *source,
                     const char *item_id)
{
    cu_err *err = p->err;
    if (!json_is_string(val))
        return cu_err_set(err, CU_EINVAL, "$.%s must be a string", kf->field);
    size_t n = json_string_length(val);
    if (n == 0)
        return cu_err_set(err, CU_EINVAL, "$.%s must not be empty", kf->field);
    if (n > 1024)
        return cu_err_set(err, CU_EINVAL, "$.%s is longer than 1024 bytes", kf->field);
    char norm[1025];
    bool test = false;
    int rc = cu_normalise_field(kf->field, json_string_value(val), n, norm, sizeof norm, &test,
                                err);
    if (rc) {
        cu_wipe(norm, sizeof norm);
        return rc;
    }
    const char *kept = keep_string(p, norm, strlen(norm));
    size_t klen = strlen(norm);
    cu_wipe(norm, sizeof norm);
    if (!kept)
        return cu_err_set(err, CU_ENOMEM, "out of memory parsing input");
    cu_value_in *v = &p->doc->values[p->doc->n++];
    *v = (cu_value_in){.item_id = item_id, .field = kf->field, .category = (int)kf->category,
                       .source = source, .value = kept, .value_len = klen,
                       .ident_kind = kf->ident_kind, .test_number = test};
    return CU_OK;
}

static int parse_item(parse_ctx *p, json_t *it, size_t idx, cu_doc_kind kind,
                      const char *default_source)
{
    cu_err *err = p->err;
    if (!json_is_object(it))
        return cu_err_set(err, CU_EINVAL, "$.items[%zu] must be an object", idx);
    const char *key;
    json_t *val;
    json_object_foreach(it, key, val)
    {
        static const char *const subject_keys[] = {"category", "field", "value", "source",
                                                   "collected_at", NULL};
        static const char *const rectify_keys[] = {"id", "value", NULL};
        const char *const *allowed = kind == CU_DOC_SUBJECT ? subject_keys : rectify_keys;
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(key, *a) == 0;
        if (!ok)
            return cu_err_set(err, CU_EINVAL, "$.items[%zu]: unknown key %s", idx,
                              shown_key(key));
        if (!json_is_string(val))
            return cu_err_set(err, CU_EINVAL, "$.items[%zu].%s must be a string", idx, key);
    }
    json_t *value = json_object_get(it, "value");
    if (!value)
        return cu_err_set(err, CU_EINVAL, "$.items[%zu].value is required", idx);
    size_t vlen = json_string_length(value);
    if (vlen == 0)
        return cu_err_set(err, CU_EINVAL, "$.items[%zu].value must not be empty", idx);
    if (vlen > CU_MAX_VALUE_BYTES)
        return cu_err_set(err, CU_EINVAL, "$.items[%zu].value is longer than %zu bytes", idx,
                          CU_MAX_VALUE_BYTES);
    cu_value_in *v = &p->doc->values[p->doc->n];
    *v = (cu_value_in){.category = -1, .value = json_string_value(value), .value_len = vlen};
    if (kind == CU_DOC_RECTIFY) {
        json_t *id = json_object_get(it, "id");
        if (!id || !cu_id_valid(json_string_value(id)))
            return cu_err_set(err, CU_EINVAL, "$.items[%zu].id must be an item id", idx);
        v->item_id = json_string_value(id);
        p->doc->n++;
        return CU_OK;
    }
    json_t *cat = json_object_get(it, "category"), *field = json_object_get(it, "field");
    json_t *src = json_object_get(it, "source"), *at = json_object_get(it, "collected_at");
    if (!cat)
        return cu_err_set(err, CU_EINVAL, "$.items[%zu].category is required", idx);
    v->category = cu_category_from_name(json_string_value(cat));
    if (v->category < 0)
        return cu_err_set(err, CU_EINVAL, "$.items[%zu].category is not one of: %s", idx,
                          cu_category_list());
    if (!field || !cu_name_valid(json_string_value(field)))
        return cu_err_set(err, CU_EINVAL,
                          "$.items[%zu].field must be a name of 1-64 characters a-z 0-9 _ . - "
                          "starting with a letter", idx);
    v->field = json_string_value(field);
    if (cu_known_field_find(v->field))
        return cu_err_set(err, CU_EINVAL, "$.items[%zu].field %s is a top-level field; set it "
                                          "there", idx, v->field);
    v->source = src ? json_string_value(src) : default_source;
    if (!cu_source_valid(v->source))
        return cu_err_set(err, CU_EINVAL, "$.items[%zu].source is not one of: %s", idx,
                          cu_source_list());
    if (at && !cu_time_parse(json_string_value(at), json_string_length(at), &v->collected_at))
        return cu_err_set(err, CU_EINVAL, "$.items[%zu].collected_at must be YYYY-MM-DD or "
                                          "YYYY-MM-DDTHH:MM:SSZ", idx);
    if (v->collected_at > cu_now_us() + 86400000000LL)
        return cu_err_set(err, CU_EINVAL, "$.items[%zu].collected_at is in the future", idx);
    p->doc->n++;
    return CU_OK;
}

int cu_doc_parse(const void *json, size_t len, cu_doc_kind kind, cu_doc *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > CU_MAX_INPUT_BYTES)
        return cu_err_set(err, CU_EINVAL, "input larger than %zu bytes", CU_MAX_INPUT_BYTES);
    if (len == 0)
        return cu_err_set(err, CU_EINVAL, "malformed JSON: the input is empty");
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) {
        if (json_error_code(&je) == json_error_duplicate_key)
            return cu_err_set(err, CU_EINVAL, "malformed JSON: duplicate key at line %d",
                              je.line);
        return cu_err_set(err, CU_EINVAL, "malformed JSON at line %d column %d", je.line,
                          je.column);
    }
    json_t *owner = json_pack("{s:o, s:[]}", "doc", root, "keep");
    if (!owner)
        return cu_err_set(err, CU_ENOMEM, "out of memory parsing input");
    out->owner = owner;
    parse_ctx p = {.doc = out, .keep = json_object_get(owner, "keep"), .err = err};
    int rc = CU_OK;
    if (!json_is_object(root)) {
        rc = cu_err_set(err, CU_EINVAL, "the document must be a JSON object");
        goto fail;
    }
    json_t *items = json_object_get(root, "items");
    if (items && !json_is_array(items)) {
        rc = cu_err_set(err, CU_EINVAL, "$.items must be an array");
        goto fail;
    }
    size_t nitems = items ? json_array_size(items) : 0;
    /* "items" and "source" are not values: count only the fields that are. */
    size_t nfields = json_object_size(root) - (items ? 1 : 0) -
                     (json_object_get(root, "source") ? 1 : 0) -
                     (json_object_get(root, "kind") ? 1 : 0);
    if (nitems + nfields > CU_MAX_VALUES) {
        rc = cu_err_set(err, CU_EINVAL, "more than %d values in one document", CU_MAX_VALUES);
        goto fail;
    }
    out->values = calloc(nitems + json_object_size(root) + 1, sizeof *out->values);
    if (!out->values) {
        rc = cu_err_set(err, CU_ENOMEM, "out of memory parsing input");
        goto fail;
    }
    const char *source = "subject";
    json_t *src = json_object_get(root, "source");
    if (src) {
        if (kind != CU_DOC_SUBJECT || !json_is_string(src) ||
            !cu_source_valid(json_string_value(src))) {
            rc = cu_err_set(err, CU_EINVAL, "$.source is not one of: %s", cu_source_list());
            goto fail;
        }
        source = json_string_value(src);
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (strcmp(key, "items") == 0 || strcmp(key, "source") == 0)
            continue;
        if (strcmp(key, "kind") == 0 && kind == CU_DOC_SUBJECT) {
            if (!json_is_string(val) || !cu_subject_kind_valid(json_string_value(val))) {
                rc = cu_err_set(err, CU_EINVAL,
                                "$.kind must be one of: patient, web_user, employee, other");
                goto fail;
            }
            out->kind = json_string_value(val);
            continue;
        }
        const cu_known_field *kf = cu_known_field_find(key);
        if (!kf) {
            rc = cu_err_set(err, CU_EINVAL, "$: unknown key %s", shown_key(key));
            goto fail;
        }
        if ((rc = add_known(&p, kf, val, source, NULL)))
            goto fail;
    }
    for (size_t i = 0; i < nitems; i++)
        if ((rc = parse_item(&p, json_array_get(items, i), i, kind, source)))
            goto fail;
    if (out->n == 0) {
        rc = cu_err_set(err, CU_EINVAL, "the document holds no values");
        goto fail;
    }
    return CU_OK;
fail:
    cu_doc_release(out);
    return rc;
}

void cu_doc_release(cu_doc *d)
{
    if (d->values) {
        cu_wipe(d->values, d->n * sizeof *d->values);
        free(d->values);
    }
    if (d->owner)
        json_decref((json_t *)d->owner);
    memset(d, 0, sizeof *d);
}
