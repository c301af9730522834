/*
 * fuzz_input.c — cu_doc_parse (src/domain/input.h) on arbitrary bytes, as a
 * subject document and as a rectification document.
 *
 * On success every value must satisfy the documented rules (count, sizes,
 * categories, sources, names, normalised forms); on failure the error must be
 * CU_EINVAL/CU_ENOMEM with a non-empty one-line message and nothing left owned.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/input.h"
#include "domain/model.h"
#include "domain/nhs.h"
#include "fuzz.h"

static void init_once(void)
{
    static bool done;
    if (done)
        return;
    CHECK(cu_crypto_init() == CU_OK);
    cu_input_init();
    done = true;
}

/* A C string of exactly n bytes: no NUL inside, NUL after. Reading every byte
 * also lets ASan catch a dangling or short value. */
static void check_cstr(const char *s, size_t n)
{
    CHECK(s != NULL);
    CHECK(memchr(s, '\0', n) == NULL);
    CHECK(s[n] == '\0');
}

static void check_known(const cu_value_in *v, const cu_known_field *kf)
{
    CHECK(v->item_id == NULL);
    CHECK(v->category == (int)kf->category);
    CHECK(v->ident_kind == kf->ident_kind);
    CHECK(v->value_len <= 1024);
    const char *s = v->value;
    size_t n = v->value_len;
    if (strcmp(kf->field, "nhs_number") == 0) {
        CHECK(n == 10);
        cu_nhs nhs;
        CHECK(cu_nhs_parse(s, n, &nhs) == CU_NHS_OK);
        CHECK(memcmp(nhs.digits, s, 10) == 0);
        CHECK(v->test_number == nhs.test_number);
        return;
    }
    CHECK(!v->test_number);
    if (strcmp(kf->field, "email") == 0) {
        CHECK(n >= 3 && n <= 254);
        const char *at = memchr(s, '@', n);
        CHECK(at && at != s && !memchr(at + 1, '@', n - (size_t)(at - s) - 1));
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            CHECK(c > ' ' && c != 0x7f && !(c >= 'A' && c <= 'Z'));
        }
    } else if (strcmp(kf->field, "phone") == 0) {
        size_t digits = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] >= '0' && s[i] <= '9')
                digits++;
            else
                CHECK(s[i] == '+' && i == 0);
        }
        CHECK(digits >= 7 && digits <= 15);
    } else if (strcmp(kf->field, "postcode") == 0) {
        CHECK(n >= 2 && n <= 10);
        for (size_t i = 0; i < n; i++)
            CHECK((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == ' ');
    } else if (strcmp(kf->field, "birth_date") == 0) {
        CHECK(n == 10 && s[4] == '-' && s[7] == '-');
    } else {
        bool address = strcmp(kf->field, "address") == 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            CHECK(c != 0x7f);
            CHECK(c >= 0x20 || (address && (c == '\n' || c == '\r' || c == '\t')));
        }
    }
}

static void check_doc(const cu_doc *doc, cu_doc_kind kind)
{
    CHECK(doc->n >= 1 && doc->n <= CU_MAX_VALUES);
    CHECK(doc->values != NULL && doc->owner != NULL);
    unsigned seen_known = 0; /* top-level fields: at most once each */
    for (size_t i = 0; i < doc->n; i++) {
        const cu_value_in *v = &doc->values[i];
        CHECK(v->value_len >= 1 && v->value_len <= CU_MAX_VALUE_BYTES);
        check_cstr(v->value, v->value_len);
        if (v->item_id) {
            /* A rectified item: only in rectify documents, with a valid id and
             * no category of its own (the stored one applies). */
            CHECK(kind == CU_DOC_RECTIFY);
            CHECK(cu_id_valid(v->item_id));
            CHECK(v->category == -1);
            CHECK(v->field == NULL || cu_name_valid(v->field));
            CHECK(v->source == NULL || cu_source_valid(v->source));
            CHECK(v->ident_kind == NULL && !v->test_number);
            continue;
        }
        CHECK(v->category >= 0 && v->category < CU_CAT_COUNT);
        CHECK(v->field != NULL && cu_name_valid(v->field));
        CHECK(v->source != NULL && cu_source_valid(v->source));
        if (kind == CU_DOC_RECTIFY)
            CHECK(strcmp(v->source, "subject") == 0);
        const cu_known_field *kf = cu_known_field_find(v->field);
        if (kf) {
            size_t k = 0;
            while (k < 32 && cu_known_field_at(k) != kf)
                k++;
            CHECK(k < 32);
            CHECK(!(seen_known & (1u << k)));
            seen_known |= 1u << k;
            check_known(v, kf);
        } else {
            /* A free-form item of a subject document. */
            CHECK(kind == CU_DOC_SUBJECT);
            CHECK(v->ident_kind == NULL && !v->test_number);
        }
    }
}

/* Nothing is dropped or invented: one value per top-level field (other than
 * "items" and "source") and one per item, the items' values byte for byte and
 * in array order. */
static void check_accounting(const uint8_t *data, size_t size, const cu_doc *doc)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    CHECK(json_is_object(root));
    json_t *items = json_object_get(root, "items");
    size_t nitems = json_array_size(items);
    size_t top = json_object_size(root) - (items != NULL) -
                 (json_object_get(root, "source") != NULL);
    CHECK(doc->n == top + nitems);
    size_t ntop = 0, next = 0;
    for (size_t i = 0; i < doc->n; i++) {
        const cu_value_in *v = &doc->values[i];
        if (!v->item_id && cu_known_field_find(v->field)) {
            ntop++;
            continue;
        }
        CHECK(next < nitems);
        json_t *value = json_object_get(json_array_get(items, next++), "value");
        CHECK(json_is_string(value));
        CHECK(v->value_len == json_string_length(value) &&
              memcmp(v->value, json_string_value(value), v->value_len) == 0);
    }
    CHECK(ntop == top && next == nitems);
    json_decref(root);
}

static void check_error(int rc, const cu_err *err, const cu_doc *doc)
{
    CHECK(rc == CU_EINVAL || rc == CU_ENOMEM);
    CHECK(err->code == (cu_status)rc);
    size_t n = strnlen(err->msg, sizeof err->msg);
    CHECK(n > 0 && n < sizeof err->msg);
    /* One line of printable ASCII (it names paths and rules, never values). */
    for (size_t i = 0; i < n; i++)
        CHECK(err->msg[i] >= 0x20 && err->msg[i] < 0x7f);
    /* A failed parse owns nothing. */
    CHECK(doc->values == NULL && doc->owner == NULL && doc->n == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    static const cu_doc_kind kinds[] = {CU_DOC_SUBJECT, CU_DOC_RECTIFY};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        cu_doc doc;
        cu_err err;
        cu_err_clear(&err);
        int rc = cu_doc_parse(data, size, kinds[k], &doc, &err);
        if (rc == CU_OK) {
            CHECK(err.code == CU_OK);
            check_doc(&doc, kinds[k]);
            check_accounting(data, size, &doc);
            cu_doc_release(&doc);
            CHECK(doc.values == NULL && doc.owner == NULL && doc.n == 0);
        } else {
            check_error(rc, &err, &doc);
        }
    }
    return 0;
}
