/*
 * test_input.c — the subject/rectification JSON reader (input.h) and the
 * vocabulary it checks against (model.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/input.h"
#include "domain/model.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

#define ITEM_ID "123e4567-e89b-42d3-a456-426614174000"

/* JSON written with single quotes for readability: ' becomes ". */
static char *q(const char *s)
{
    char *out = strdup(s);
    assert_non_null(out);
    for (char *p = out; *p; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static const cu_value_in *find_value(const cu_doc *d, const char *field)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->values[i].field && strcmp(d->values[i].field, field) == 0)
            return &d->values[i];
    return NULL;
}

static void parse_ok(const char *json, cu_doc_kind kind, cu_doc *d)
{
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_doc_parse(json, strlen(json), kind, d, &err);
    CHECK(rc == CU_OK, "parse failed (%d): %s", rc, err.msg);
}

/* ------------------------------------------------------------ accepted ---- */

static void test_valid_full_document(void **state)
{
    (void)state;
    char *json = q("{'name': 'Zebedee Quux', 'birth_date': '1980-05-17',"
                   " 'address': '12 Acacia Avenue\\nLondon', 'postcode': 'SW1A 1AA',"
                   " 'nhs_number': '943 476 5919', 'email': 'zeb@example.org',"
                   " 'phone': '020 7946 0000', 'local_ref': 'MRN-0042', 'source': 'staff',"
                   " 'items': ["
                   "  {'category': 'health', 'field': 'diagnosis', 'value': 'asthma',"
                   "   'collected_at': '2024-01-02'},"
                   "  {'category': 'special_category', 'field': 'religion', 'value': 'none',"
                   "   'source': 'subject', 'collected_at': '2024-01-02T03:04:05.5Z'},"
                   "  {'category': 'family', 'field': 'next_of_kin.name', 'value': 'Q'}]}");
    cu_doc d;
    parse_ok(json, CU_DOC_SUBJECT, &d);
    free(json);
    assert_int_equal(d.n, 11);
    assert_non_null(d.owner);

    static const struct {
        const char *field, *value, *ident;
        int category;
    } want[] = {
        {"name", "Zebedee Quux", NULL, CU_CAT_CONTACT},
        {"birth_date", "1980-05-17", NULL, CU_CAT_IDENTIFYING},
        {"address", "12 Acacia Avenue\nLondon", NULL, CU_CAT_CONTACT},
        {"postcode", "SW1A 1AA", NULL, CU_CAT_CONTACT},
        {"nhs_number", "9434765919", "nhs_number", CU_CAT_IDENTIFYING},
        {"email", "zeb@example.org", "email", CU_CAT_CONTACT},
        {"phone", "02079460000", "phone", CU_CAT_CONTACT},
        {"local_ref", "MRN-0042", "local_ref", CU_CAT_IDENTIFYING},
        {"diagnosis", "asthma", NULL, CU_CAT_HEALTH},
        {"religion", "none", NULL, CU_CAT_SPECIAL},
        {"next_of_kin.name", "Q", NULL, CU_CAT_FAMILY},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const cu_value_in *v = find_value(&d, want[i].field);
        CHECK(v != NULL, "field %s missing", want[i].field);
        CHECK(v->value_len == strlen(want[i].value) &&
                  memcmp(v->value, want[i].value, v->value_len) == 0,
              "field %s: value '%.*s'", want[i].field, (int)v->value_len, v->value);
        CHECK(v->category == want[i].category, "field %s: category %d", want[i].field,
              v->category);
        CHECK((v->ident_kind == NULL) == (want[i].ident == NULL) &&
                  (!v->ident_kind || strcmp(v->ident_kind, want[i].ident) == 0),
              "field %s: ident kind", want[i].field);
        CHECK(v->item_id == NULL, "field %s has an item id", want[i].field);
        CHECK(!v->test_number, "field %s: test flag", want[i].field);
    }
    /* Top-level values take the document's source; items may override it. */
    assert_string_equal(find_value(&d, "name")->source, "staff");
    assert_string_equal(find_value(&d, "diagnosis")->source, "staff");
    assert_string_equal(find_value(&d, "religion")->source, "subject");
    assert_int_equal(find_value(&d, "diagnosis")->collected_at, 1704153600000000LL);
    assert_int_equal(find_value(&d, "religion")->collected_at, 1704164645500000LL);
    assert_int_equal(find_value(&d, "next_of_kin.name")->collected_at, 0);
    assert_int_equal(find_value(&d, "name")->collected_at, 0);
    cu_doc_release(&d);
    assert_null(d.values);
    assert_null(d.owner);
    assert_int_equal(d.n, 0);
}

static void test_default_source_and_test_number(void **state)
{
    (void)state;
    char *json = q("{'nhs_number': '999 000 0018', 'items': "
                   "[{'category': 'health', 'field': 'x', 'value': 'y'}]}");
    cu_doc d;
    parse_ok(json, CU_DOC_SUBJECT, &d);
    free(json);
    assert_int_equal(d.n, 2);
    const cu_value_in *nhs = find_value(&d, "nhs_number");
    assert_non_null(nhs);
    assert_true(nhs->test_number);
    assert_string_equal(nhs->value, "9990000018");
    assert_string_equal(nhs->source, "subject");
    assert_string_equal(find_value(&d, "x")->source, "subject");
    cu_doc_release(&d);
}

static void test_normalisation(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *field, *want;
    } cases[] = {
        {"{'email': '  Zebedee.Quux@Example.ORG '}", "email", "zebedee.quux@example.org"},
        {"{'email': '\\tA@B.CO\\t'}", "email", "a@b.co"},
        {"{'nhs_number': '943-476-5919'}", "nhs_number", "9434765919"},
        {"{'nhs_number': ' 943 476 5919 '}", "nhs_number", "9434765919"},
        {"{'phone': '+44 (0)20 7946-0000'}", "phone", "+4402079460000"},
        {"{'phone': '07700 900123'}", "phone", "07700900123"},
        {"{'postcode': 'sw1a 1aa'}", "postcode", "SW1A 1AA"},
        {"{'postcode': '  sw1a   1aa '}", "postcode", "SW1A 1AA"},
        {"{'postcode': 'EX11AA'}", "postcode", "EX11AA"},
        {"{'name': '  Zebedee  '}", "name", "  Zebedee  "}, /* names are kept as given */
        {"{'birth_date': '2024-02-29'}", "birth_date", "2024-02-29"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = q(cases[i].json);
        cu_doc d;
        cu_err err;
        cu_err_clear(&err);
        int rc = cu_doc_parse(json, strlen(json), CU_DOC_SUBJECT, &d, &err);
        CHECK(rc == CU_OK, "case %zu: %s", i, err.msg);
        const cu_value_in *v = find_value(&d, cases[i].field);
        CHECK(v != NULL, "case %zu: no %s", i, cases[i].field);
        CHECK(v->value_len == strlen(cases[i].want) && strcmp(v->value, cases[i].want) == 0,
              "case %zu: got '%s', want '%s'", i, v->value, cases[i].want);
        cu_doc_release(&d);
        free(json);
    }
}

static void test_normalise_field_direct(void **state)
{
    (void)state;
    char out[64];
    bool test = true;
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_normalise_field("email", " A@B.ORG", 8, out, sizeof out, &test, &err),
                     CU_OK);
    assert_string_equal(out, "a@b.org");
    assert_false(test);
    assert_int_equal(cu_normalise_field("nhs_number", "9990000026", 10, out, sizeof out, &test,
                                        &err),
                     CU_OK);
    assert_string_equal(out, "9990000026");
    assert_true(test);
    assert_int_equal(cu_normalise_field("local_ref", "MRN 7", 5, out, sizeof out, NULL, &err),
                     CU_OK);
    assert_string_equal(out, "MRN 7");
    /* The output buffer bound is honoured. */
    char small[4];
    assert_int_equal(cu_normalise_field("local_ref", "ABCDEFG", 7, small, sizeof small, NULL,
                                        &err),
                     CU_EINVAL);
    cu_err_clear(&err);
    assert_int_equal(cu_normalise_field("email", "abc@example.org", 15, small, sizeof small,
                                        NULL, &err),
                     CU_EINVAL);
    cu_err_clear(&err);
    assert_int_equal(cu_normalise_field("nhs_number", "943 476 5918", 12, out, sizeof out, NULL,
                                        &err),
                     CU_EINVAL);
    assert_non_null(strstr(err.msg, "nhs_number"));
    assert_null(strstr(err.msg, "5918"));
    cu_err_clear(&err);
    /* Control characters are refused except newlines in addresses. */
    assert_int_equal(cu_normalise_field("address", "a\nb", 3, out, sizeof out, NULL, &err),
                     CU_OK);
    assert_int_equal(cu_normalise_field("name", "a\nb", 3, out, sizeof out, NULL, &err),
                     CU_EINVAL);
    cu_err_clear(&err);
    assert_int_equal(cu_normalise_field("address", "a\x01" "b", 3, out, sizeof out, NULL, &err),
                     CU_EINVAL);
}

static void test_rectify_document(void **state)
{
    (void)state;
    char *json = q("{'email': 'New@Example.org', 'items': [{'id': '" ITEM_ID
                   "', 'value': 'corrected'}]}");
    cu_doc d;
    parse_ok(json, CU_DOC_RECTIFY, &d);
    free(json);
    assert_int_equal(d.n, 2);
    const cu_value_in *e = find_value(&d, "email");
    assert_non_null(e);
    assert_string_equal(e->value, "new@example.org");
    assert_null(e->item_id);
    const cu_value_in *it = NULL;
    for (size_t i = 0; i < d.n; i++)
        if (d.values[i].item_id)
            it = &d.values[i];
    assert_non_null(it);
    assert_string_equal(it->item_id, ITEM_ID);
    assert_string_equal(it->value, "corrected");
    assert_int_equal(it->category, -1);
    cu_doc_release(&d);
}

/* ------------------------------------------------------------- refused ---- */

typedef struct bad_case {
    const char *json;     /* single-quoted JSON, see q() */
    cu_doc_kind kind;
    const char *expect;   /* substring the message must contain */
} bad_case;

#define S CU_DOC_SUBJECT
#define R CU_DOC_RECTIFY
#define IT(extra) "{'items': [{'category': 'health', 'field': 'f', 'value': 'v'" extra "}]}"

/* Every offending value contains "zebedee" (any case) where the rule allows a
 * value to carry it; the message must never echo it. */
static const bad_case bad_cases[] = {
    /* unknown keys */
    {"{'name': 'A', 'nickname': 'Zebedee'}", S, "$: unknown key nickname"},
    {"{'Zebedee Quux': 'x'}", S, "unknown key (not shown)"},
    {"{'name': 'A', 'Zebedee@example.org': 'x'}", S, "unknown key"},
    {IT(", 'colour': 'zebedee'"), S, "$.items[0]: unknown key colour"},
    {IT(", 'Zebedee Quux': 'x'"), S, "$.items[0]: unknown key (not shown)"},
    {"{'items': [{'id': '" ITEM_ID "', 'value': 'v', 'category': 'health'}]}", R,
     "$.items[0]: unknown key category"},
    {"{'source': 'staff', 'items': [{'id': '" ITEM_ID "', 'value': 'v'}]}", R, "$.source"},
    /* duplicate keys */
    {"{'name': 'Zebedee', 'name': 'Zebedee Quux'}", S, "duplicate key"},
    {"{'items': [{'category': 'health', 'field': 'f', 'value': 'zebedee', 'value': 'w'}]}", S,
     "duplicate key"},
    /* wrong types */
    {"{'name': 5}", S, "$.name must be a string"},
    {"{'name': null}", S, "$.name must be a string"},
    {"{'name': ['Zebedee']}", S, "$.name must be a string"},
    {"{'email': true}", S, "$.email must be a string"},
    {"{'name': 'A', 'items': {}}", S, "$.items must be an array"},
    {"{'name': 'A', 'items': 'zebedee'}", S, "$.items must be an array"},
    {"{'items': ['zebedee']}", S, "$.items[0] must be an object"},
    {"{'items': [{'category': 'health', 'field': 'f', 'value': 'v'}, 7]}", S,
     "$.items[1] must be an object"},
    {"{'items': [{'category': 'health', 'field': 'f', 'value': 5}]}", S,
     "$.items[0].value must be a string"},
    {IT(", 'collected_at': 20240101"), S, "$.items[0].collected_at must be a string"},
    {"{'name': 'A', 'source': 5}", S, "$.source"},
    /* empty strings */
    {"{'name': ''}", S, "$.name must not be empty"},
    {"{'email': ''}", S, "$.email must not be empty"},
    {"{'items': [{'category': 'health', 'field': 'f', 'value': ''}]}", S,
     "$.items[0].value must not be empty"},
    {"{'items': [{'id': '" ITEM_ID "', 'value': ''}]}", R, "$.items[0].value must not be empty"},
    /* missing members */
    {"{'items': [{'category': 'health', 'field': 'f'}]}", S, "$.items[0].value is required"},
    {"{'items': [{'field': 'f', 'value': 'zebedee'}]}", S, "$.items[0].category is required"},
    {"{'items': [{'category': 'health', 'value': 'zebedee'}]}", S, "$.items[0].field"},
    {"{}", S, "no values"},
    {"{'items': []}", S, "no values"},
    {"{'source': 'staff'}", S, "no values"},
    /* malformed JSON and non-object roots */
    {"{'name': 'Zebedee'", S, "malformed JSON"},
    {"{'name': 'Zebedee'} x", S, "malformed JSON"},
    {"{name: 'Zebedee'}", S, "malformed JSON"},
    {"{'name': 'Zebedee',}", S, "malformed JSON"},
    {"", S, "malformed JSON"},
    {"{'name': 'a\\u0000zebedee'}", S, "malformed JSON"},
    {"['Zebedee']", S, "must be a JSON object"},
    {"{'name': 'A'} {'name': 'B'}", S, "malformed JSON"},
    {"'Zebedee'", S, "must be a JSON object"},
    {"42", S, "must be a JSON object"},
    {"null", S, "must be a JSON object"},
    {"true", S, "must be a JSON object"},
    {"[]", S, "must be a JSON object"},
    /* NHS numbers */
    {"{'nhs_number': '9434765918'}", S, "nhs_number fails the Modulus 11"},
    {"{'nhs_number': '1234567890'}", S, "nhs_number has check value 10"},
    {"{'nhs_number': '943476591'}", S, "nhs_number must have exactly 10 digits"},
    {"{'nhs_number': '94347659190'}", S, "nhs_number must have exactly 10 digits"},
    {"{'nhs_number': 'zebedee'}", S, "nhs_number may contain only"},
    {"{'nhs_number': '   '}", S, "nhs_number is empty"},
    /* emails */
    {"{'email': 'zebedee@@x'}", S, "email must have one '@'"},
    {"{'email': 'zebedee.example.org'}", S, "email must have one '@'"},
    {"{'email': '@zebedee.org'}", S, "email must have one '@'"},
    {"{'email': 'zebedee@localhost'}", S, "email must have a domain"},
    {"{'email': 'zebedee@.org'}", S, "email must have a domain"},
    {"{'email': 'zebedee@example.'}", S, "email must have a domain"},
    {"{'email': 'zebedee quux@example.org'}", S, "email contains a character"},
    {"{'email': 'zebedee<x>@example.org'}", S, "email contains a character"},
    {"{'email': 'ab'}", S, "email must be 3 to 254"},
    /* phones */
    {"{'phone': '123456'}", S, "phone must have 7 to 15 digits"},
    {"{'phone': '1234567890123456'}", S, "phone must have 7 to 15 digits"},
    {"{'phone': 'zebedee 0123456'}", S, "phone may contain only"},
    {"{'phone': '0123+456789'}", S, "phone may contain only"},
    /* postcodes */
    {"{'postcode': 'ZEBEDEE!'}", S, "postcode may contain only"},
    {"{'postcode': 'Z'}", S, "postcode must be 2 to 10"},
    {"{'postcode': 'ZEBEDEEQUUX'}", S, "postcode must be 2 to 10"},
    {"{'postcode': '          '}", S, "postcode must be 2 to 10"},
    {"{'postcode': ' Z '}", S, "postcode must be 2 to 10"},
    {"{'postcode': 'ZEBEDEE QUUX'}", S, "postcode must be 2 to 10"},
    /* birth dates */
    {"{'birth_date': '2023-02-29'}", S, "birth_date must be a real date"},
    {"{'birth_date': '17/05/1980'}", S, "birth_date must be a real date"},
    {"{'birth_date': 'zebedee'}", S, "birth_date must be a real date"},
    {"{'birth_date': '1980-05-17T00:00:00Z'}", S, "birth_date must be a real date"},
    {"{'birth_date': '1870-01-01'}", S, "birth_date must be a real date"},
    {"{'birth_date': '2999-01-01'}", S, "birth_date is in the future"},
    /* control characters */
    {"{'name': 'Zebedee\\u0001Quux'}", S, "name contains control characters"},
    {"{'name': 'Zebedee\\nQuux'}", S, "name contains control characters"},
    {"{'local_ref': 'zebedee\\u007f'}", S, "local_ref contains control characters"},
    /* categories, sources, field names */
    {"{'items': [{'category': 'zebedee', 'field': 'f', 'value': 'v'}]}", S,
     "$.items[0].category is not one of: contact"},
    {"{'items': [{'category': 'Health', 'field': 'f', 'value': 'v'}]}", S,
     "$.items[0].category is not one of"},
    {"{'name': 'A', 'source': 'zebedee'}", S, "$.source is not one of: subject"},
    {IT(", 'source': 'zebedee'"), S, "$.items[0].source is not one of"},
    {"{'items': [{'category': 'health', 'field': 'Zebedee', 'value': 'v'}]}", S,
     "$.items[0].field must be a name"},
    {"{'items': [{'category': 'health', 'field': '1abc', 'value': 'v'}]}", S,
     "$.items[0].field must be a name"},
    {"{'items': [{'category': 'health', 'field': 'zebedee quux', 'value': 'v'}]}", S,
     "$.items[0].field must be a name"},
    {"{'items': [{'category': 'health', 'field': '', 'value': 'v'}]}", S,
     "$.items[0].field must be a name"},
    {"{'items': [{'category': 'health', 'field': "
     "'abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde', 'value': 'v'}]}",
     S, "$.items[0].field must be a name"},
    {"{'items': [{'category': 'contact', 'field': 'email', 'value': 'zebedee@example.org'}]}",
     S, "$.items[0].field email is a top-level field"},
    {"{'items': [{'category': 'identifying', 'field': 'nhs_number', 'value': '9434765919'}]}",
     S, "$.items[0].field nhs_number is a top-level field"},
    /* collected_at */
    {IT(", 'collected_at': '2024-13-01'"), S, "$.items[0].collected_at must be"},
    {IT(", 'collected_at': 'zebedee'"), S, "$.items[0].collected_at must be"},
    {IT(", 'collected_at': '2024-01-01T10:00:00'"), S, "$.items[0].collected_at must be"},
    {IT(", 'collected_at': ''"), S, "$.items[0].collected_at must be"},
    {IT(", 'collected_at': '2999-01-01'"), S, "$.items[0].collected_at is in the future"},
    /* rectification documents need item ids */
    {"{'items': [{'value': 'zebedee'}]}", R, "$.items[0].id must be an item id"},
    {"{'items': [{'id': 'zebedee', 'value': 'v'}]}", R, "$.items[0].id must be an item id"},
    {"{'items': [{'id': '123E4567-E89B-42D3-A456-426614174000', 'value': 'v'}]}", R,
     "$.items[0].id must be an item id"},
    {"{'items': [{'id': 5, 'value': 'v'}]}", R, "$.items[0].id must be a string"},
    {"{'items': [{'category': 'health', 'field': 'f', 'value': 'zebedee'}]}", R,
     "$.items[0]: unknown key"},
    /* a subject document's items cannot carry ids */
    {"{'items': [{'id': '" ITEM_ID "', 'category': 'health', 'field': 'f', 'value': 'v'}]}",
     S, "$.items[0]: unknown key id"},
};

static void test_refusals(void **state)
{
    (void)state;
    size_t n = sizeof bad_cases / sizeof bad_cases[0];
    for (size_t i = 0; i < n; i++) {
        const bad_case *c = &bad_cases[i];
        char *json = q(c->json);
        cu_doc d;
        memset(&d, 0x5a, sizeof d);
        cu_err err;
        cu_err_clear(&err);
        int rc = cu_doc_parse(json, strlen(json), c->kind, &d, &err);
        CHECK(rc == CU_EINVAL, "case %zu %s: rc %d (%s)", i, c->json, rc, err.msg);
        CHECK(err.code == CU_EINVAL, "case %zu: err.code %d", i, err.code);
        CHECK(strstr(err.msg, c->expect) != NULL, "case %zu %s: message '%s' lacks '%s'", i,
              c->json, err.msg, c->expect);
        CHECK(!contains_ci(err.msg, "zebedee"), "case %zu %s: message '%s' echoes the value",
              i, c->json, err.msg);
        CHECK(strchr(err.msg, '\n') == NULL, "case %zu: message is not one line", i);
        /* A refused document holds nothing. */
        CHECK(d.values == NULL && d.n == 0 && d.owner == NULL, "case %zu: doc not cleared", i);
        cu_doc_release(&d); /* harmless on a cleared doc */
        free(json);
    }
}

/* The brief's example: a name in a key position and a bad email together. */
static void test_message_never_shows_values(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{'Zebedee Quux': 'x', 'email': 'zebedee@@x'}",
        "{'email': 'zebedee@@x', 'Zebedee Quux': 'x'}",
        "{'email': 'zebedee@@x'}",
        "{'nhs_number': '9434765918'}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char *json = q(docs[i]);
        cu_doc d;
        cu_err err;
        cu_err_clear(&err);
        assert_int_equal(cu_doc_parse(json, strlen(json), CU_DOC_SUBJECT, &d, &err), CU_EINVAL);
        CHECK(strstr(err.msg, "Zebedee") == NULL && strstr(err.msg, "zebedee") == NULL &&
                  strstr(err.msg, "Quux") == NULL && strstr(err.msg, "9434765918") == NULL &&
                  strstr(err.msg, "943") == NULL,
              "doc %zu: '%s'", i, err.msg);
        free(json);
    }
}

/* ---------------------------------------------------------------- limits ---- */

/* A document of n items whose values are vlen bytes of 'x'. */
static char *items_doc(size_t n, size_t vlen, const char *top)
{
    cu_buf b;
    cu_buf_init(&b, 64 << 20);
    assert_int_equal(cu_buf_printf(&b, "{%s\"items\": [", top ? top : ""), CU_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cu_buf_printf(&b, "%s{\"category\": \"health\", \"field\": \"f%zu\", "
                                           "\"value\": \"",
                                       i ? "," : "", i),
                         CU_OK);
        for (size_t j = 0; j < vlen; j++)
            assert_int_equal(cu_buf_append(&b, "x", 1), CU_OK);
        assert_int_equal(cu_buf_append_str(&b, "\"}"), CU_OK);
    }
    assert_int_equal(cu_buf_append_str(&b, "]}"), CU_OK);
    char *s = strdup(cu_buf_str(&b));
    cu_buf_release(&b);
    assert_non_null(s);
    return s;
}

static int parse_str(const char *s, size_t len, cu_doc *d, cu_err *err)
{
    cu_err_clear(err);
    return cu_doc_parse(s, len, CU_DOC_SUBJECT, d, err);
}

static void test_value_size_limit(void **state)
{
    (void)state;
    cu_doc d;
    cu_err err;
    char *ok = items_doc(1, CU_MAX_VALUE_BYTES, NULL);
    assert_int_equal(parse_str(ok, strlen(ok), &d, &err), CU_OK);
    assert_int_equal(d.values[0].value_len, CU_MAX_VALUE_BYTES);
    cu_doc_release(&d);
    free(ok);
    char *big = items_doc(1, CU_MAX_VALUE_BYTES + 1, NULL);
    assert_int_equal(parse_str(big, strlen(big), &d, &err), CU_EINVAL);
    assert_non_null(strstr(err.msg, "$.items[0].value is longer than 65536 bytes"));
    free(big);

    /* Top-level fields have a 1024-byte cap. */
    char name[1100];
    int w = snprintf(name, sizeof name, "{\"name\": \"%01024d\"}", 0);
    assert_true(w > 0 && (size_t)w < sizeof name);
    assert_int_equal(parse_str(name, (size_t)w, &d, &err), CU_OK);
    cu_doc_release(&d);
    w = snprintf(name, sizeof name, "{\"name\": \"%01025d\"}", 0);
    assert_int_equal(parse_str(name, (size_t)w, &d, &err), CU_EINVAL);
    assert_non_null(strstr(err.msg, "$.name is longer than 1024 bytes"));
}

static void test_value_count_limit(void **state)
{
    (void)state;
    cu_doc d;
    cu_err err;
    /* Exactly CU_MAX_VALUES values are accepted: as items only, and as items
     * plus top-level fields plus a source. */
    char *max_items = items_doc(CU_MAX_VALUES, 1, NULL);
    int rc = parse_str(max_items, strlen(max_items), &d, &err);
    CHECK(rc == CU_OK, "%d items refused: %s", CU_MAX_VALUES, err.msg);
    assert_int_equal(d.n, CU_MAX_VALUES);
    cu_doc_release(&d);
    free(max_items);
    char *mixed = items_doc(CU_MAX_VALUES - 2, 1,
                            "\"name\": \"A\", \"email\": \"a@b.org\", \"source\": \"staff\", ");
    rc = parse_str(mixed, strlen(mixed), &d, &err);
    CHECK(rc == CU_OK, "%d values with a source refused: %s", CU_MAX_VALUES, err.msg);
    assert_int_equal(d.n, CU_MAX_VALUES);
    cu_doc_release(&d);
    free(mixed);
    /* One more is refused. */
    char *over = items_doc(CU_MAX_VALUES + 1, 1, NULL);
    assert_int_equal(parse_str(over, strlen(over), &d, &err), CU_EINVAL);
    assert_non_null(strstr(err.msg, "more than 1000 values"));
    free(over);
    over = items_doc(CU_MAX_VALUES - 1, 1, "\"name\": \"A\", \"email\": \"a@b.org\", ");
    assert_int_equal(parse_str(over, strlen(over), &d, &err), CU_EINVAL);
    assert_non_null(strstr(err.msg, "more than 1000 values"));
    free(over);
}

static void test_input_size_limit(void **state)
{
    (void)state;
    cu_doc d;
    cu_err err;
    /* A valid document padded with whitespace to exactly 1 MiB is accepted. */
    size_t len = CU_MAX_INPUT_BYTES;
    char *buf = malloc(len + 2);
    assert_non_null(buf);
    memset(buf, ' ', len + 1);
    memcpy(buf, "{\"name\": \"A\"}", 13);
    assert_int_equal(parse_str(buf, len, &d, &err), CU_OK);
    assert_int_equal(d.n, 1);
    cu_doc_release(&d);
    /* One byte more is refused before parsing. */
    assert_int_equal(parse_str(buf, len + 1, &d, &err), CU_EINVAL);
    assert_non_null(strstr(err.msg, "input larger than 1048576 bytes"));
    assert_null(d.values);
    free(buf);
}

#ifdef CUSTOS_TEST_CLOCK
static void test_future_dates_with_fake_now(void **state)
{
    (void)state;
    cu_doc d;
    cu_err err;
    assert_int_equal(setenv("CUSTOS_FAKE_NOW", "1700000000", 1), 0); /* 2023-11-14 22:13 */
    static const struct {
        const char *json;
        int rc;
    } cases[] = {
        {"{'birth_date': '2023-11-14'}", CU_OK},
        {"{'birth_date': '2023-11-15'}", CU_EINVAL},
        {"{'birth_date': '2024-01-01'}", CU_EINVAL},
        {IT(", 'collected_at': '2023-11-15T22:13:20Z'"), CU_OK},   /* now + 1 day */
        {IT(", 'collected_at': '2023-11-15T22:13:21Z'"), CU_EINVAL}, /* beyond a day */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = q(cases[i].json);
        int rc = parse_str(json, strlen(json), &d, &err);
        CHECK(rc == cases[i].rc, "case %zu: rc %d (%s)", i, rc, err.msg);
        if (rc == CU_EINVAL)
            CHECK(strstr(err.msg, "future") != NULL, "case %zu: '%s'", i, err.msg);
        cu_doc_release(&d);
        free(json);
    }
    assert_int_equal(unsetenv("CUSTOS_FAKE_NOW"), 0);
}
#endif

/* ----------------------------------------------------------------- model ---- */

static void test_model_categories(void **state)
{
    (void)state;
    static const char *const names[CU_CAT_COUNT] = {
        "contact", "identifying", "health", "genetic", "special_category", "family",
        "workplace_education_financial", "online_identifier"};
    for (int i = 0; i < CU_CAT_COUNT; i++) {
        assert_string_equal(cu_category_name((cu_category)i), names[i]);
        assert_int_equal(cu_category_from_name(names[i]), i);
        assert_non_null(strstr(cu_category_list(), names[i]));
    }
    assert_int_equal(cu_category_from_name("Health"), -1);
    assert_int_equal(cu_category_from_name(""), -1);
    assert_int_equal(cu_category_from_name("healthy"), -1);
    assert_string_equal(cu_category_name((cu_category)99), "unknown");

    char out[256];
    cu_category_mask_names(0, out, sizeof out);
    assert_string_equal(out, "");
    cu_category_mask_names(1u << CU_CAT_HEALTH | 1u << CU_CAT_CONTACT, out, sizeof out);
    assert_string_equal(out, "contact,health");
    cu_category_mask_names((1u << CU_CAT_COUNT) - 1, out, sizeof out);
    assert_string_equal(out, "contact,identifying,health,genetic,special_category,family,"
                             "workplace_education_financial,online_identifier");
    /* A small buffer is never overrun and stays terminated. */
    char small[12];
    memset(small, 'Z', sizeof small);
    cu_category_mask_names((1u << CU_CAT_COUNT) - 1, small, sizeof small);
    assert_true(memchr(small, '\0', sizeof small) != NULL);
    assert_string_equal(small, "contact");
}

static void test_model_names(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool name, actor;
    } cases[] = {
        {"diagnosis", true, true},
        {"next_of_kin.name", true, true},
        {"a", true, true},
        {"a-b_c.d9", true, true},
        {"Diagnosis", false, true},
        {"1abc", false, true},
        {"_abc", false, true},
        {"has space", false, false},
        {"", false, false},
        {"abc!", false, true},
        {"alice@example", false, true},
        {"tab\there", false, false},
        {"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd", true, true},
        {"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde", false, false},
        {"caf\xc3\xa9", false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(cu_name_valid(cases[i].s) == cases[i].name, "name '%s'", cases[i].s);
        CHECK(cu_actor_valid(cases[i].s) == cases[i].actor, "actor '%s'", cases[i].s);
    }
    static const char *const kinds[] = {"patient", "web_user", "employee", "other"};
    for (size_t i = 0; i < 4; i++)
        assert_true(cu_subject_kind_valid(kinds[i]));
    assert_false(cu_subject_kind_valid("Patient"));
    assert_false(cu_subject_kind_valid("robot"));
    assert_false(cu_subject_kind_valid(""));
    static const char *const sources[] = {"subject", "staff", "nhs_organisation",
                                          "local_authority", "other_organisation",
                                          "national_source"};
    for (size_t i = 0; i < 6; i++) {
        assert_true(cu_source_valid(sources[i]));
        assert_non_null(strstr(cu_source_list(), sources[i]));
    }
    assert_false(cu_source_valid("Staff"));
    assert_false(cu_source_valid("gp"));
}

static void test_model_known_fields(void **state)
{
    (void)state;
    static const struct {
        const char *field;
        int category;
        const char *ident;
    } want[] = {
        {"name", CU_CAT_CONTACT, NULL},           {"birth_date", CU_CAT_IDENTIFYING, NULL},
        {"address", CU_CAT_CONTACT, NULL},        {"postcode", CU_CAT_CONTACT, NULL},
        {"nhs_number", CU_CAT_IDENTIFYING, "nhs_number"},
        {"email", CU_CAT_CONTACT, "email"},       {"phone", CU_CAT_CONTACT, "phone"},
        {"local_ref", CU_CAT_IDENTIFYING, "local_ref"},
    };
    size_t n = sizeof want / sizeof want[0];
    for (size_t i = 0; i < n; i++) {
        const cu_known_field *k = cu_known_field_find(want[i].field);
        CHECK(k != NULL, "%s not known", want[i].field);
        CHECK((int)k->category == want[i].category, "%s: category", want[i].field);
        CHECK((k->ident_kind == NULL) == (want[i].ident == NULL), "%s: ident", want[i].field);
        if (k->ident_kind)
            assert_string_equal(k->ident_kind, want[i].ident);
        assert_ptr_equal(cu_known_field_at(i), k);
    }
    assert_null(cu_known_field_at(n));
    assert_null(cu_known_field_find("items"));
    assert_null(cu_known_field_find("Name"));
    assert_null(cu_known_field_find("diagnosis"));
}

int main(void)
{
    if (cu_crypto_init() != CU_OK)
        return 1;
    cu_input_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_full_document),
        cmocka_unit_test(test_default_source_and_test_number),
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_normalise_field_direct),
        cmocka_unit_test(test_rectify_document),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_message_never_shows_values),
        cmocka_unit_test(test_value_size_limit),
        cmocka_unit_test(test_value_count_limit),
        cmocka_unit_test(test_input_size_limit),
#ifdef CUSTOS_TEST_CLOCK
        cmocka_unit_test(test_future_dates_with_fake_now),
#endif
        cmocka_unit_test(test_model_categories),
        cmocka_unit_test(test_model_names),
        cmocka_unit_test(test_model_known_fields),
    };
    return cmocka_run_group_tests_name("input", tests, NULL, NULL);
}
