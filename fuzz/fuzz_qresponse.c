/*
 * fuzz_qresponse.c — cu_qresponse_parse (src/domain/qresponse.h) on
 * arbitrary bytes, and its answers scored against a small questionnaire.
 *
 * On failure the error is CU_EINVAL or CU_ENOMEM with a one-line message and
 * nothing is returned. On success the answers keep the parser's promises (a
 * bounded, well-formed linkId each, a value of the kind named, strings
 * present where the kind has one, at most CU_Q_MAX_ITEMS of them), and
 * scoring them either is refused (CU_EINVAL, one line) or gives a consistent
 * result: a total only when complete, within the questionnaire's range.
 */
#include <stdbool.h>
#include <string.h>

#include "domain/qresponse.h"
#include "fuzz.h"

static const char QUESTIONNAIRE[] =
    "{\"resourceType\":\"Questionnaire\",\"url\":\"urn:fuzz:q\",\"version\":\"1\","
    "\"status\":\"active\",\"extension\":[{\"url\":\"urn:custos:questionnaire:score\","
    "\"extension\":[{\"url\":\"code\",\"valueCoding\":{\"system\":\"urn:fuzz\",\"code\":\"t\"}},"
    "{\"url\":\"item\",\"valueString\":\"a\"},{\"url\":\"item\",\"valueString\":\"b\"},"
    "{\"url\":\"band\",\"extension\":[{\"url\":\"low\",\"valueInteger\":0},"
    "{\"url\":\"high\",\"valueInteger\":2},{\"url\":\"code\",\"valueCode\":\"all\"}]}]}],"
    "\"item\":[{\"linkId\":\"a\",\"text\":\"A\",\"type\":\"choice\",\"required\":true,"
    "\"answerOption\":[{\"valueCoding\":{\"code\":\"n\"},\"extension\":[{\"url\":"
    "\"http://hl7.org/fhir/StructureDefinition/itemWeight\",\"valueDecimal\":0}]},"
    "{\"valueCoding\":{\"code\":\"y\"},\"extension\":[{\"url\":"
    "\"http://hl7.org/fhir/StructureDefinition/itemWeight\",\"valueDecimal\":1}]}]},"
    "{\"linkId\":\"g\",\"type\":\"group\",\"item\":[{\"linkId\":\"b\",\"text\":\"B\","
    "\"type\":\"choice\",\"required\":true,\"answerOption\":[{\"valueCoding\":{\"code\":\"n\"},"
    "\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/itemWeight\","
    "\"valueDecimal\":0}]},{\"valueCoding\":{\"code\":\"y\"},\"extension\":[{\"url\":"
    "\"http://hl7.org/fhir/StructureDefinition/itemWeight\",\"valueDecimal\":1}]}]},"
    "{\"linkId\":\"c\",\"text\":\"C\",\"type\":\"integer\"},"
    "{\"linkId\":\"d\",\"text\":\"D\",\"type\":\"date\"}]}]}";

static void one_line(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    CHECK(n > 0 && n < cap);
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static bool link_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CU_Q_MAX_LINKID)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cu_questionnaire *q;
    cu_err err;
    cu_err_clear(&err);
    if (!q)
        CHECK(cu_questionnaire_parse(QUESTIONNAIRE, strlen(QUESTIONNAIRE), &q, &err) == CU_OK);
    cu_qresponse *r = (cu_qresponse *)&r; /* must be set to NULL or a response */
    int rc = cu_qresponse_parse(data, size, &r, &err);
    if (rc) {
        CHECK(rc == CU_EINVAL || rc == CU_ENOMEM);
        CHECK(err.code == (cu_status)rc);
        one_line(err.msg, sizeof err.msg);
        CHECK(r == NULL);
        return 0;
    }
    CHECK(r != NULL && err.code == CU_OK);
    CHECK(r->url[0] && strlen(r->url) <= CU_Q_MAX_URL && strlen(r->version) <= 64);
    CHECK(r->n <= CU_Q_MAX_ITEMS);
    for (size_t i = 0; i < r->n; i++) {
        const cu_q_answer *a = &r->answers[i];
        CHECK(a->link_id && link_id_ok(a->link_id));
        CHECK(a->kind == CU_QV_CODE || a->kind == CU_QV_INT || a->kind == CU_QV_DECIMAL ||
              a->kind == CU_QV_BOOL || a->kind == CU_QV_STRING);
        if (a->kind == CU_QV_CODE || a->kind == CU_QV_STRING)
            CHECK(a->s && *a->s);
    }
    cu_q_result res;
    rc = cu_questionnaire_score(q, r->answers, r->n, r->has_total ? &r->total : NULL, &res,
                                &err);
    if (rc) {
        CHECK(rc == CU_EINVAL && err.code == CU_EINVAL);
        one_line(err.msg, sizeof err.msg);
    } else {
        CHECK(!res.has_total || res.complete);
        CHECK(!res.has_total || (res.total >= 0 && res.total <= 2 && res.band));
        CHECK(res.complete || res.missing);
    }
    cu_qresponse_free(r);
    return 0;
}
