/*
 * test_questionnaire.c — the questionnaire parser and scoring
 * (src/domain/questionnaire.c), against the shipped questionnaires.
 *
 * Malformed documents are table-driven: each row starts from the shipped
 * PHQ-9, changes one member at a path (or removes it) and names the error,
 * with its JSON path, that the parser must give. Scoring is checked against
 * golden tables for PHQ-9 and GAD-7.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdir.h"
#include "vault_fixture.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/input.h"
#include "domain/questionnaire.h"
#include "util/err.h"

static const char *LEVELS[4] = {"LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"};

static char *slurp(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/questionnaires/%s", CUSTOS_SOURCE_ROOT, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[CU_Q_MAX_BYTES + 1];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char *out = malloc(*len + 1);
    assert_non_null(out);
    memcpy(out, buf, *len);
    out[*len] = 0;
    return out;
}

static cu_questionnaire *load(const char *name)
{
    size_t n;
    char *s = slurp(name, &n);
    cu_questionnaire *q = NULL;
    cu_err err = {0};
    int rc = cu_questionnaire_parse(s, n, &q, &err);
    CHECK(rc == CU_OK, "%s: %s", name, err.msg);
    free(s);
    return q;
}

/* Sets (value != NULL) or removes the member at a dotted path of
 * object keys and array indices. */
static void mutate(json_t *doc, const char *path, json_t *value)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *at = doc;
    char *save = NULL, *tok = strtok_r(buf, ".", &save);
    while (tok) {
        char *next = strtok_r(NULL, ".", &save);
        bool idx = tok[0] >= '0' && tok[0] <= '9';
        if (!next) {
            if (idx && value && (size_t)atoi(tok) == json_array_size(at))
                assert_int_equal(json_array_append_new(at, value), 0);
            else if (idx && value)
                assert_int_equal(json_array_set_new(at, (size_t)atoi(tok), value), 0);
            else if (idx)
                assert_int_equal(json_array_remove(at, (size_t)atoi(tok)), 0);
            else if (value)
                assert_int_equal(json_object_set_new(at, tok, value), 0);
            else
                assert_int_equal(json_object_del(at, tok), 0);
            return;
        }
        at = idx ? json_array_get(at, (size_t)atoi(tok)) : json_object_get(at, tok);
        CHECK(at != NULL, "no %s in %s", tok, path);
        tok = next;
    }
}

typedef struct bad_case {
    const char *path;
    const char *value; /* JSON, or NULL to remove */
    const char *error; /* what the message must contain */
} bad_case;

static const bad_case BAD[] = {
    {"resourceType", "\"Patient\"", "resourceType: must be Questionnaire"},
    {"url", NULL, "url: required"},
    {"url", "\"not a uri\"", "url: must be an absolute URI"},
    {"url", "42", "url: must be a string"},
    {"version", NULL, "version: required"},
    {"version", "\"1 beta\"", "version: may hold only"},
    {"status", "\"unknown\"", "status: must be draft, active or retired"},
    {"meta", "{}", "meta: not allowed here"},
    {"subjectType", "[\"Practitioner\"]", "subjectType: must be [\"Patient\"]"},
    {"item", "[]", "item: must be a non-empty array"},
    {"item", NULL, "item: required"},
    {"code.0.system", "\"http://snomed.info/sct\"", "code[0].system: must be http://loinc.org"},
    {"item.0.text", NULL, "item[0].text: required"},
    {"item.1.answerOption.1.valueCoding.code", NULL,
     "item[1].answerOption[1].valueCoding.code: required"},
    {"item.1.answerOption.1.valueCoding", NULL, "item[1].answerOption[1].valueCoding: required"},
    {"item.1.answerOption.1.valueCoding.code", "\"LA6568-5\"",
     "item[1].answerOption[1].valueCoding.code: the same code as an earlier option"},
    {"item.1.answerOption.1.valueCoding.code", "\"a b\"",
     "item[1].answerOption[1].valueCoding.code: may hold only"},
    {"item.1.answerOption.1.initialSelected", "true",
     "item[1].answerOption[1].initialSelected: not allowed here"},
    {"item.1.answerOption", "[]", "item[1].answerOption: must be a non-empty array"},
    {"item.1.answerOption", NULL, "item[1].answerOption: required for a choice item"},
    {"item.0.answerOption", "[{\"valueCoding\":{\"code\":\"x\"}}]",
     "item[0].answerOption: only a choice item has options"},
    {"item.2.linkId", "\"phq9-1\"", "item[2].linkId: the same linkId as an earlier item"},
    {"item.2.linkId", "\"bad id!\"", "item[2].linkId: may hold only"},
    {"item.2.linkId",
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
     "item[2].linkId: longer than 64 bytes"},
    {"item.2.linkId", NULL, "item[2].linkId: required"},
    {"item.1.type", "\"quantity\"", "item[1].type: must be group, display"},
    {"item.1.hidden", "true", "item[1].hidden: not allowed here"},
    {"item.1.hid\x7f" "den", "true", "item[1].(a member with an unusual name): not allowed here"},
    {"item.1.repeats", "true", "item[1].repeats: must be false"},
    {"item.1.required", "\"yes\"", "item[1].required: must be true or false"},
    {"item.0.required", "true", "item[0].required: a display item takes no answer"},
    {"item.1.text", "\"a\\u0001b\"", "item[1].text: must not contain control characters"},
    {"item.1.code.0.system", "\"http://snomed.info/sct\"",
     "item[1].code[0].system: must be http://loinc.org"},
    {"item.1.item", "[{\"linkId\":\"x\",\"type\":\"string\"}]",
     "item[1].item: only a group has nested items"},
    {"item.10.enableWhen.0.question", "\"phq9-10\"",
     "item[10].enableWhen[0].question: must name an earlier item"},
    {"item.10.enableWhen.0.question", "\"nope\"",
     "item[10].enableWhen[0].question: must name an earlier item"},
    {"item.10.enableWhen.0.question", "\"phq9-intro\"",
     "item[10].enableWhen[0].question: names an item that takes no answer"},
    {"item.10.enableWhen.0.operator", "\"~\"",
     "item[10].enableWhen[0].operator: must be exists, =, !=, >, <, >= or <="},
    {"item.10.enableWhen.0.operator", "\">\"",
     "item[10].enableWhen[0]: a coding compares only with = or !="},
    {"item.10.enableWhen.0.answerCoding.code", "\"LA0000-0\"",
     "item[10].enableWhen[0].answerCoding.code: not one of the question's options"},
    {"item.10.enableWhen.0.answerCoding", NULL, "item[10].enableWhen[0].answer[x]: required"},
    {"item.10.enableWhen.0.answerInteger", "1",
     "item[10].enableWhen[0]: has more than one answer[x]"},
    {"item.10.enableBehavior", NULL,
     "item[10].enableBehavior: required with more than one enableWhen"},
    {"item.10.enableBehavior", "\"some\"", "item[10].enableBehavior: must be all or any"},
    {"item.1.enableBehavior", "\"all\"", "item[1].enableBehavior: only with enableWhen"},
    {"item.1.answerOption.0.extension.0.valueDecimal", "1.5",
     "item[1].answerOption[0].extension[0].valueDecimal: must be a whole number"},
    {"item.1.answerOption.0.extension.0.valueDecimal", "-1",
     "item[1].answerOption[0].extension[0].valueDecimal: must be from 0 to 1000"},
    {"item.1.answerOption.0.extension.0.valueDecimal", "\"0\"",
     "item[1].answerOption[0].extension[0].valueDecimal: must be a number"},
    {"item.1.answerOption.0.extension.0.url", "\"http://example.org/x\"",
     "item[1].answerOption[0].extension[0].url: not an extension custos knows"},
    {"item.1.answerOption.0.extension.1",
     "{\"url\":\"http://hl7.org/fhir/StructureDefinition/ordinalValue\",\"valueDecimal\":2}",
     "item[1].answerOption[0].extension[1]: the option already has a weight"},
    {"item.1.answerOption.0.extension", NULL,
     "extension[0].extension[1].valueString: option LA6568-5 of a scored item has no weight"},
    {"item.1.required", "false",
     "extension[0].extension[1].valueString: a scored item must be required"},
    {"extension.0.url", "\"urn:custos:questionnaire:other\"",
     "extension[0].url: not an extension custos knows"},
    {"extension.0.extension.1.valueString", "\"phq9-99\"",
     "extension[0].extension[1].valueString: names no item"},
    {"extension.0.extension.1.valueString", "\"phq9-2\"",
     "extension[0].extension[2].valueString: names an item already scored"},
    {"extension.0.extension.1.valueString", "\"phq9-10\"",
     "extension[0].extension[1].valueString: a scored item must be required"},
    {"extension.0.extension.0.valueCoding.code", NULL,
     "extension[0].extension[0].valueCoding.code: required"},
    {"extension.0.extension.10.extension.1.valueInteger", "5",
     "extension[0].extension: band mild starts at 5, not 6"},
    {"extension.0.extension.11.extension.0.valueInteger", "6",
     "extension[0].extension: band mild starts at 6, not 5"},
    {"extension.0.extension.14.extension.1.valueInteger", "26",
     "extension[0].extension: the last band ends at 26, not at the highest score 27"},
    {"extension.0.extension.14.extension.1.valueInteger", "28",
     "extension[0].extension: the last band ends at 28, not at the highest score 27"},
    {"extension.0.extension.12.extension.0.valueInteger", "16",
     "extension[0].extension[12]: low is above high"},
    {"extension.0.extension.12.extension.2.valueCode", "\"mild\"",
     "extension[0].extension: band mild appears twice"},
    {"extension.0.extension.12.extension.2", NULL,
     "extension[0].extension[12]: a band needs low, high and code"},
    {"extension.1.extension.4.url", "\"weightBelow\"",
     "extension[1].extension[4].url: must be id, level, reason"},
    {"extension.1.extension.1.valueCode", "\"soon\"",
     "extension[1].extension[1].valueCode: must be urgent or review"},
    {"extension.1.extension.0", NULL, "extension[1].extension: a review rule needs an id"},
    {"extension.1.extension.4", NULL,
     "extension[1].extension: a review rule needs exactly one condition"},
    {"extension.2.extension.0.valueId", "\"phq9-item9\"",
     "extension[2].extension[0].valueId: the same id as an earlier rule"},
    {"extension.2.extension.3.valueInteger", "28",
     "extension[2].extension: scoreAtLeast must be from 0 to 27"},
    {"extension.2.extension.3.valueInteger", "\"15\"",
     "extension[2].extension[3].valueInteger: required, a whole number"},
};

static void test_malformed_documents(void **state)
{
    (void)state;
    size_t n;
    char *base = slurp("phq-9.json", &n);
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        const bad_case *b = &BAD[i];
        json_t *doc = json_loadb(base, n, 0, NULL);
        assert_non_null(doc);
        json_t *v = NULL;
        if (b->value) {
            v = json_loads(b->value, JSON_DECODE_ANY, NULL);
            CHECK(v != NULL, "case %zu: bad value", i);
        }
        mutate(doc, b->path, v);
        char *s = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        cu_questionnaire *q = NULL;
        cu_err err = {0};
        int rc = cu_questionnaire_parse(s, strlen(s), &q, &err);
        free(s);
        CHECK(rc == CU_EINVAL, "case %zu (%s): accepted or %d (%s)", i, b->path, rc, err.msg);
        CHECK(q == NULL, "case %zu: a questionnaire came back with an error", i);
        CHECK(strstr(err.msg, b->error) != NULL, "case %zu (%s): got \"%s\", want \"%s\"", i,
              b->path, err.msg, b->error);
    }
    free(base);
}

static void expect_bad(const char *json, const char *want)
{
    cu_questionnaire *q = NULL;
    cu_err err = {0};
    int rc = cu_questionnaire_parse(json, strlen(json), &q, &err);
    CHECK(rc == CU_EINVAL && !q, "accepted: %s", json);
    CHECK(strstr(err.msg, want) != NULL, "got \"%s\", want \"%s\"", err.msg, want);
}

#define HEAD "{\"resourceType\":\"Questionnaire\",\"url\":\"urn:x:q\",\"version\":\"1\"," \
             "\"status\":\"active\","

static void test_malformed_json_and_limits(void **state)
{
    (void)state;
    expect_bad("", "malformed JSON");
    expect_bad("{", "malformed JSON");
    expect_bad("[]", "(document): must be a JSON object");
    expect_bad(HEAD "\"url\":\"urn:y\",\"item\":[]}", "duplicate key");
    /* Groups nested five deep. */
    expect_bad(HEAD "\"item\":[{\"linkId\":\"a\",\"type\":\"group\",\"item\":[{\"linkId\":\"b\","
                    "\"type\":\"group\",\"item\":[{\"linkId\":\"c\",\"type\":\"group\",\"item\":"
                    "[{\"linkId\":\"d\",\"type\":\"group\",\"item\":[{\"linkId\":\"e\",\"type\":"
                    "\"string\"}]}]}]}]}]}",
               "item[0].item[0].item[0].item[0].item: items nested more than 4 levels deep");
    expect_bad(HEAD "\"item\":[{\"linkId\":\"a\",\"type\":\"group\"}]}",
               "item[0].item: required for a group");
    /* More items than allowed. */
    char *big = malloc(64 * 1024);
    assert_non_null(big);
    size_t at = (size_t)snprintf(big, 64 * 1024, HEAD "\"item\":[");
    for (int i = 0; i <= CU_Q_MAX_ITEMS; i++)
        at += (size_t)snprintf(big + at, 64 * 1024 - at, "%s{\"linkId\":\"i%d\",\"type\":\"string\"}",
                               i ? "," : "", i);
    snprintf(big + at, 64 * 1024 - at, "]}");
    expect_bad(big, "item[200]: more than 200 items in all");
    free(big);
    /* A document over the size limit is refused before it is parsed. */
    size_t n = CU_Q_MAX_BYTES + 1;
    char *huge = malloc(n);
    assert_non_null(huge);
    memset(huge, ' ', n);
    cu_questionnaire *q = NULL;
    cu_err err = {0};
    assert_int_equal(cu_questionnaire_parse(huge, n, &q, &err), CU_EINVAL);
    assert_non_null(strstr(err.msg, "larger than"));
    free(huge);
    cu_err_clear(&err);
    /* exists takes a boolean; an integer question compares with >. */
    expect_bad(HEAD "\"item\":[{\"linkId\":\"a\",\"type\":\"integer\"},{\"linkId\":\"b\","
                    "\"type\":\"string\",\"enableWhen\":[{\"question\":\"a\",\"operator\":"
                    "\"exists\",\"answerInteger\":1}]}]}",
               "item[1].enableWhen[0].answerInteger: exists takes answerBoolean");
    const char *ok = HEAD "\"item\":[{\"linkId\":\"a\",\"type\":\"integer\"},{\"linkId\":\"b\","
                          "\"type\":\"string\",\"required\":true,\"enableWhen\":[{\"question\":"
                          "\"a\",\"operator\":\">=\",\"answerInteger\":18}]}]}";
    q = NULL;
    assert_int_equal(cu_questionnaire_parse(ok, strlen(ok), &q, &err), CU_OK);
    /* b is enabled only by a >= 18. */
    cu_q_result r;
    cu_q_answer young[] = {{.link_id = "a", .kind = CU_QV_INT, .i = 17},
                           {.link_id = "b", .kind = CU_QV_STRING, .s = "x"}};
    assert_int_equal(cu_questionnaire_score(q, young, 2, NULL, &r, &err), CU_EINVAL);
    CHECK(strstr(err.msg, "item b is not enabled"), "%s", err.msg);
    cu_err_clear(&err);
    assert_int_equal(cu_questionnaire_score(q, young, 1, NULL, &r, &err), CU_OK);
    assert_true(r.complete);
    young[0].i = 18;
    assert_int_equal(cu_questionnaire_score(q, young, 1, NULL, &r, &err), CU_OK);
    assert_false(r.complete);
    assert_string_equal(r.missing, "b");
    cu_questionnaire_free(q);
}

static void test_shipped_parse(void **state)
{
    (void)state;
    cu_questionnaire *q = load("phq-9.json");
    assert_string_equal(q->url, "urn:custos:questionnaire:phq-9");
    assert_string_equal(q->score_code, "44261-6");
    assert_int_equal(q->score_min, 0);
    assert_int_equal(q->score_max, 27);
    assert_int_equal(q->nbands, 5);
    assert_int_equal(q->nrules, 2);
    size_t scored = 0;
    for (size_t i = 0; i < q->nitems; i++)
        scored += q->items[i].scored;
    assert_int_equal(scored, 9);
    assert_false(q->items[cu_questionnaire_find(q, "phq9-10")].scored);
    cu_questionnaire_free(q);
    q = load("gad-7.json");
    assert_string_equal(q->score_code, "70274-6");
    assert_int_equal(q->score_max, 21);
    assert_int_equal(q->nbands, 4);
    cu_questionnaire_free(q);
    q = load("psfu-example.json");
    assert_string_equal(q->status, "draft");
    assert_int_equal(q->score_max, 15);
    cu_questionnaire_free(q);
}

/* The canonical form does not depend on layout or key order. */
static void test_canonical(void **state)
{
    (void)state;
    size_t n;
    char *s = slurp("gad-7.json", &n);
    json_t *doc = json_loadb(s, n, 0, NULL);
    char *compact = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    cu_questionnaire *a = NULL, *b = NULL;
    cu_err err = {0};
    assert_int_equal(cu_questionnaire_parse(s, n, &a, &err), CU_OK);
    assert_int_equal(cu_questionnaire_parse(compact, strlen(compact), &b, &err), CU_OK);
    cu_buf ca, cb;
    cu_buf_init(&ca, CU_Q_MAX_BYTES * 2);
    cu_buf_init(&cb, CU_Q_MAX_BYTES * 2);
    assert_int_equal(cu_questionnaire_canonical(a, &ca, &err), CU_OK);
    assert_int_equal(cu_questionnaire_canonical(b, &cb, &err), CU_OK);
    assert_int_equal(ca.len, cb.len);
    assert_memory_equal(ca.data, cb.data, ca.len);
    cu_buf_release(&ca);
    cu_buf_release(&cb);
    cu_questionnaire_free(a);
    cu_questionnaire_free(b);
    free(compact);
    free(s);
}

/* Answers for items prefix-1..prefix-n with these weights (-1: unanswered). */
static size_t answers(const char *prefix, const int *w, size_t n, cu_q_answer *out,
                      char ids[][16])
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < 0)
            continue;
        snprintf(ids[k], 16, "%.8s-%d", prefix, (int)(i + 1) % 100);
        out[k] = (cu_q_answer){.link_id = ids[k], .kind = CU_QV_CODE, .s = LEVELS[w[i]]};
        k++;
    }
    return k;
}

static cu_q_result score(const cu_questionnaire *q, const char *prefix, const int *w, size_t n,
                         const int64_t *submitted)
{
    cu_q_answer a[16];
    char ids[16][16];
    size_t k = answers(prefix, w, n, a, ids);
    cu_q_result r;
    cu_err err = {0};
    int rc = cu_questionnaire_score(q, a, k, submitted, &r, &err);
    CHECK(rc == CU_OK, "score: %s", err.msg);
    return r;
}

typedef struct golden {
    int w[9];
    int64_t total;
    const char *band;
} golden;

static void test_phq9_golden(void **state)
{
    (void)state;
    cu_questionnaire *q = load("phq-9.json");
    static const golden G[] = {
        {{0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, "minimal"},
        {{3, 3, 3, 3, 3, 3, 3, 3, 3}, 27, "severe"},
        {{1, 1, 1, 1, 0, 0, 0, 0, 0}, 4, "minimal"},
        {{1, 1, 1, 1, 1, 0, 0, 0, 0}, 5, "mild"},
        {{3, 3, 3, 0, 0, 0, 0, 0, 0}, 9, "mild"},
        {{3, 3, 3, 1, 0, 0, 0, 0, 0}, 10, "moderate"},
        {{3, 3, 3, 3, 2, 0, 0, 0, 0}, 14, "moderate"},
        {{3, 3, 3, 3, 3, 0, 0, 0, 0}, 15, "moderately-severe"},
        {{3, 3, 3, 3, 3, 3, 1, 0, 0}, 19, "moderately-severe"},
        {{3, 3, 3, 3, 3, 3, 2, 0, 0}, 20, "severe"},
        {{2, 2, 2, 2, 2, 2, 2, 2, 2}, 18, "moderately-severe"},
    };
    for (size_t i = 0; i < sizeof G / sizeof G[0]; i++) {
        cu_q_result r = score(q, "phq9", G[i].w, 9, NULL);
        CHECK(r.complete && r.has_total, "row %zu incomplete", i);
        CHECK(r.total == G[i].total, "row %zu: total %lld, want %lld", i, (long long)r.total,
              (long long)G[i].total);
        CHECK(r.band && strcmp(r.band->code, G[i].band) == 0, "row %zu: band %s, want %s", i,
              r.band ? r.band->code : "(none)", G[i].band);
        CHECK(!r.total_disagrees, "row %zu: a disagreement without a submitted total", i);
        bool severe_flag = false;
        for (size_t f = 0; f < r.nflags; f++)
            severe_flag |= strcmp(r.flags[f].rule, "phq9-moderately-severe") == 0;
        CHECK(severe_flag == (G[i].total >= 15), "row %zu: score rule", i);
    }
    cu_questionnaire_free(q);
}

static void test_gad7_golden(void **state)
{
    (void)state;
    cu_questionnaire *q = load("gad-7.json");
    static const golden G[] = {
        {{0, 0, 0, 0, 0, 0, 0}, 0, "minimal"},
        {{1, 1, 1, 1, 0, 0, 0}, 4, "minimal"},
        {{1, 1, 1, 1, 1, 0, 0}, 5, "mild"},
        {{3, 3, 3, 0, 0, 0, 0}, 9, "mild"},
        {{3, 3, 3, 1, 0, 0, 0}, 10, "moderate"},
        {{3, 3, 3, 3, 2, 0, 0}, 14, "moderate"},
        {{3, 3, 3, 3, 3, 0, 0}, 15, "severe"},
        {{3, 3, 3, 3, 3, 3, 3}, 21, "severe"},
    };
    for (size_t i = 0; i < sizeof G / sizeof G[0]; i++) {
        cu_q_result r = score(q, "gad7", G[i].w, 7, NULL);
        CHECK(r.complete && r.total == G[i].total, "row %zu: total %lld", i, (long long)r.total);
        CHECK(r.band && strcmp(r.band->code, G[i].band) == 0, "row %zu: band %s, want %s", i,
              r.band ? r.band->code : "(none)", G[i].band);
        CHECK(!r.urgent, "row %zu: GAD-7 has no urgent rule", i);
    }
    cu_questionnaire_free(q);
}

/* A missing scored answer makes the response incomplete: no total, no band,
 * no prorating; the score rule is not raised. */
static void test_incomplete(void **state)
{
    (void)state;
    cu_questionnaire *q = load("phq-9.json");
    for (int missing = 0; missing < 9; missing++) {
        int w[9] = {3, 3, 3, 3, 3, 3, 3, 3, 3};
        w[missing] = -1;
        int64_t claimed = 24;
        cu_q_result r = score(q, "phq9", w, 9, &claimed);
        char want[16];
        snprintf(want, sizeof want, "phq9-%d", missing + 1);
        CHECK(!r.complete && !r.has_total && !r.band, "missing %d: scored anyway", missing);
        CHECK(r.missing && strcmp(r.missing, want) == 0, "missing %d: names %s", missing,
              r.missing ? r.missing : "(none)");
        CHECK(r.total_disagrees, "missing %d: a claimed total for an incomplete response", missing);
        for (size_t f = 0; f < r.nflags; f++)
            CHECK(strcmp(r.flags[f].rule, "phq9-moderately-severe") != 0,
                  "missing %d: a score rule without a total", missing);
    }
    int none[9] = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
    cu_q_result r = score(q, "phq9", none, 9, NULL);
    assert_false(r.complete);
    assert_false(r.has_total);
    cu_questionnaire_free(q);
}

/* Item 9 above 0 is urgent whatever else is answered, complete or not. */
static void test_item9_urgent(void **state)
{
    (void)state;
    cu_questionnaire *q = load("phq-9.json");
    for (int v = 0; v <= 3; v++) {
        int w[9] = {0, 0, 0, 0, 0, 0, 0, 0, v};
        cu_q_result r = score(q, "phq9", w, 9, NULL);
        CHECK(r.urgent == (v > 0), "item 9 = %d: urgent %d", v, r.urgent);
        CHECK(r.has_total && r.total == v, "item 9 = %d: total", v);
        bool seen = false;
        for (size_t f = 0; f < r.nflags; f++)
            seen |= strcmp(r.flags[f].rule, "phq9-item9") == 0 &&
                    strcmp(r.flags[f].level, "urgent") == 0;
        CHECK(seen == (v > 0), "item 9 = %d: flag", v);
        int alone[9] = {-1, -1, -1, -1, -1, -1, -1, -1, v};
        r = score(q, "phq9", alone, 9, NULL);
        CHECK(!r.complete && r.urgent == (v > 0), "item 9 = %d alone: urgent %d", v, r.urgent);
    }
    cu_questionnaire_free(q);
}

static void test_submitted_total(void **state)
{
    (void)state;
    cu_questionnaire *q = load("phq-9.json");
    int w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 0};
    int64_t right = 8, wrong = 0;
    cu_q_result r = score(q, "phq9", w, 9, &right);
    assert_false(r.total_disagrees);
    r = score(q, "phq9", w, 9, &wrong);
    assert_true(r.total_disagrees);
    assert_int_equal(r.total, 8); /* the computed total, never the submitted one */
    assert_string_equal(r.band->code, "mild");
    cu_questionnaire_free(q);
}

static void expect_refused(const cu_questionnaire *q, const cu_q_answer *a, size_t n,
                           const char *want)
{
    cu_q_result r;
    cu_err err = {0};
    int rc = cu_questionnaire_score(q, a, n, NULL, &r, &err);
    CHECK(rc == CU_EINVAL, "accepted, want %s", want);
    CHECK(strstr(err.msg, want) != NULL, "got \"%s\", want \"%s\"", err.msg, want);
}

static void test_answers_refused(void **state)
{
    (void)state;
    cu_questionnaire *q = load("phq-9.json");
    cu_q_answer a[11];
    char ids[16][16];
    int w[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    size_t n = answers("phq9", w, 9, a, ids);
    /* A code not among the options, one from another item's system. */
    a[0].s = "LA6572-7";
    expect_refused(q, a, n, "answers[0]: item phq9-1: the answer is not one of its options");
    a[0].s = "very-difficult";
    expect_refused(q, a, n, "not one of its options");
    a[0].s = LEVELS[0];
    /* The wrong kind of answer. */
    a[1].kind = CU_QV_INT;
    a[1].i = 3;
    expect_refused(q, a, n, "answers[1]: item phq9-2 takes a coding");
    a[1].kind = CU_QV_CODE;
    /* Twice the same item. */
    a[n] = a[3];
    expect_refused(q, a, n + 1, "item phq9-4 is answered twice");
    /* An unknown item; a display item. */
    a[n] = (cu_q_answer){.link_id = "phq9-11", .kind = CU_QV_CODE, .s = LEVELS[0]};
    expect_refused(q, a, n + 1, "the questionnaire has no item phq9-11");
    a[n] = (cu_q_answer){.link_id = "phq9\n11", .kind = CU_QV_CODE, .s = LEVELS[0]};
    expect_refused(q, a, n + 1, "the questionnaire has no item (an invalid linkId)");
    a[n] = (cu_q_answer){.link_id = "phq9-intro", .kind = CU_QV_STRING, .s = "x"};
    expect_refused(q, a, n + 1, "item phq9-intro takes no answer");
    /* Item 10 is not enabled when every problem is "Not at all". */
    a[n] = (cu_q_answer){.link_id = "phq9-10", .kind = CU_QV_CODE, .s = "very-difficult"};
    expect_refused(q, a, n + 1, "item phq9-10 is not enabled");
    /* ... and is once one is not. */
    a[2].s = LEVELS[1];
    cu_q_result r;
    cu_err err = {0};
    assert_int_equal(cu_questionnaire_score(q, a, n + 1, NULL, &r, &err), CU_OK);
    assert_int_equal(r.total, 1);
    a[n].s = LEVELS[1];
    expect_refused(q, a, n + 1, "answers[9]: item phq9-10: the answer is not one of its options");
    a[0].link_id = NULL;
    expect_refused(q, a, n, "answers[0]: linkId required");
    cu_questionnaire_free(q);
}

/* The example follow-up: answer-in-set rules, a conditional required item. */
static void test_psfu_rules(void **state)
{
    (void)state;
    cu_questionnaire *q = load("psfu-example.json");
    cu_q_answer a[] = {
        {.link_id = "psfu-pain", .kind = CU_QV_CODE, .s = "none"},
        {.link_id = "psfu-swelling", .kind = CU_QV_CODE, .s = "moderate"},
        {.link_id = "psfu-breath", .kind = CU_QV_CODE, .s = "none"},
        {.link_id = "psfu-fatigue", .kind = CU_QV_CODE, .s = "mild"},
        {.link_id = "psfu-appetite", .kind = CU_QV_CODE, .s = "none"},
        {.link_id = "psfu-bleeding", .kind = CU_QV_CODE, .s = "yes"},
        {.link_id = "psfu-contact", .kind = CU_QV_CODE, .s = "no"},
        {.link_id = "psfu-bleeding-detail", .kind = CU_QV_STRING, .s = "free text"},
    };
    cu_q_result r;
    cu_err err = {0};
    /* Bleeding "yes" makes the detail required. */
    assert_int_equal(cu_questionnaire_score(q, a, 7, NULL, &r, &err), CU_OK);
    assert_false(r.complete);
    assert_string_equal(r.missing, "psfu-bleeding-detail");
    assert_int_equal(cu_questionnaire_score(q, a, 8, NULL, &r, &err), CU_OK);
    assert_true(r.complete);
    assert_int_equal(r.total, 3);
    assert_string_equal(r.band->code, "raised");
    assert_true(r.urgent);
    assert_int_equal(r.nflags, 2);
    assert_string_equal(r.flags[0].rule, "psfu-swelling");
    assert_string_equal(r.flags[1].rule, "psfu-bleeding");
    a[5].s = "no";
    expect_refused(q, a, 8, "item psfu-bleeding-detail is not enabled");
    assert_int_equal(cu_questionnaire_score(q, a, 7, NULL, &r, &err), CU_OK);
    assert_true(r.complete);
    assert_false(r.urgent);
    assert_int_equal(r.nflags, 1);
    cu_questionnaire_free(q);
}

/* ---- stored: roles, versions, loading ---- */

typedef struct fx {
    char root[64];
    char store[PATH_MAX];
    char db[PATH_MAX + 16];
    cu_vault *v;
    cu_err err;
    char ctl[CU_ID_STRLEN];
} fx;

static int count_one(void *ctx, const cu_questionnaire_info *i)
{
    (void)i;
    ++*(int *)ctx;
    return CU_OK;
}

static int stored(fx *f)
{
    int n = 0;
    OK(f, cu_questionnaire_list(f->v, &OPERATOR, count_one, &n, &f->err));
    return n;
}

static void test_stored_roles(void **state)
{
    (void)state;
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(VAULT_FIXTURE_OPEN(f, "questionnaire"), 0);
    size_t n;
    char *doc = slurp("phq-9.json", &n);
    cu_questionnaire_info info;
    bool added = true;
    /* Staff who may not add: refused, nothing stored. */
    static const char *const refused[] = {"clinician", "care_admin", "analyst", "auditor"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        cu_actor a = {.name = "staff", .role = refused[i], .purpose = "administration",
                      .via = "unit test", .controller_id = f->ctl};
        FAILS(f, CU_EDENIED, cu_questionnaire_add(f->v, &a, doc, n, &info, &added, &f->err));
        CHECK(strstr(f->err.msg, "role-not-permitted"), "%s: %s", refused[i], f->err.msg);
        assert_int_equal(stored(f), 0);
        /* ... but may read. */
        int seen = 0;
        OK(f, cu_questionnaire_list(f->v, &a, count_one, &seen, &f->err));
    }
    cu_actor dpo = {.name = "dpo", .role = "dpo", .purpose = "administration",
                    .via = "unit test", .controller_id = f->ctl};
    OK(f, cu_questionnaire_add(f->v, &dpo, doc, n, &info, &added, &f->err));
    assert_true(added);
    assert_string_equal(info.added_by, "dpo");
    OK(f, cu_questionnaire_add(f->v, &OPERATOR, doc, n, &info, &added, &f->err));
    assert_false(added);
    assert_int_equal(stored(f), 1);
    /* Loaded back, it scores as the file does. */
    cu_questionnaire *q = NULL;
    OK(f, cu_questionnaire_load(f->v, "urn:custos:questionnaire:phq-9", NULL, &q, &f->err));
    int w[9] = {3, 3, 3, 3, 3, 3, 3, 3, 3};
    cu_q_result r = score(q, "phq9", w, 9, NULL);
    assert_int_equal(r.total, 27);
    cu_questionnaire_free(q);
    FAILS(f, CU_ENOTFOUND,
          cu_questionnaire_load(f->v, "urn:custos:questionnaire:phq-9", "2", &q, &f->err));
    assert_null(q);
    free(doc);
    cu_vault_close(f->v);
    testdir_remove(f->root);
    free(f);
}

int main(void)
{
    if (cu_crypto_init())
        return 1;
    cu_input_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_documents),
        cmocka_unit_test(test_malformed_json_and_limits),
        cmocka_unit_test(test_shipped_parse),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_phq9_golden),
        cmocka_unit_test(test_gad7_golden),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_item9_urgent),
        cmocka_unit_test(test_submitted_total),
        cmocka_unit_test(test_answers_refused),
        cmocka_unit_test(test_psfu_rules),
        cmocka_unit_test(test_stored_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
