/*
 * fuzz_form.c — an HTML form's submission on arbitrary bytes: cu_form_parse
 * (src/http/form.h), then cu_qform_read and cu_qform_render
 * (src/iface/qform.h) against a small questionnaire of every answer type.
 *
 * The parser refuses with CU_EINVAL and a one-line message, or gives fields
 * whose names and values are within the limits, free of NUL and controls
 * but tab and newlines. Reading the fields never fails: it gives answers and
 * messages, and answers read with no message always score (they are enabled
 * and of the right kind and option). The page rendered again with the
 * entered values holds no markup but the writer's own: no "<script" and no
 * element the questionnaire does not make.
 */
#include <stdbool.h>
#include <string.h>

#include "domain/questionnaire.h"
#include "fuzz.h"
#include "http/form.h"
#include "iface/qform.h"

static const char qdoc[] =
    "{\"resourceType\":\"Questionnaire\",\"url\":\"urn:fuzz:form\",\"version\":\"1\","
    "\"status\":\"active\",\"title\":\"Form\",\"item\":["
    "{\"linkId\":\"c\",\"type\":\"choice\",\"required\":true,\"text\":\"C\",\"answerOption\":["
    "{\"valueCoding\":{\"code\":\"a\"},\"extension\":[{\"url\":"
    "\"http://hl7.org/fhir/StructureDefinition/itemWeight\",\"valueDecimal\":0}]},"
    "{\"valueCoding\":{\"code\":\"b\"},\"extension\":[{\"url\":"
    "\"http://hl7.org/fhir/StructureDefinition/itemWeight\",\"valueDecimal\":1}]}]},"
    "{\"linkId\":\"n\",\"type\":\"integer\",\"text\":\"N\"},"
    "{\"linkId\":\"x\",\"type\":\"decimal\",\"text\":\"X\"},"
    "{\"linkId\":\"d\",\"type\":\"date\",\"text\":\"D\"},"
    "{\"linkId\":\"y\",\"type\":\"boolean\",\"text\":\"Y\"},"
    "{\"linkId\":\"s\",\"type\":\"string\",\"text\":\"S\"},"
    "{\"linkId\":\"t\",\"type\":\"text\",\"text\":\"T\",\"enableWhen\":[{\"question\":\"c\","
    "\"operator\":\"=\",\"answerCoding\":{\"code\":\"b\"}}]}]}";

static const char *get(void *ctx, const char *name)
{
    return cu_form_get(ctx, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cu_questionnaire *q;
    cu_err err = {0};
    if (!q)
        CHECK(cu_questionnaire_parse(qdoc, sizeof qdoc - 1, &q, &err) == CU_OK);
    cu_form f;
    int rc = cu_form_parse((const char *)data, size, &f, &err);
    if (rc) {
        CHECK(rc == CU_EINVAL || rc == CU_ENOMEM);
        size_t n = strnlen(err.msg, sizeof err.msg);
        CHECK(n > 0 && n < sizeof err.msg && !strchr(err.msg, '\n'));
        CHECK(f.n == 0);
        return 0;
    }
    CHECK(f.n <= CU_FORM_MAX_FIELDS);
    for (size_t i = 0; i < f.n; i++) {
        size_t nl = strlen(f.f[i].name), vl = strlen(f.f[i].value);
        CHECK(nl >= 1 && nl <= CU_FORM_MAX_NAME && vl <= CU_FORM_MAX_VALUE);
        for (const char *p = f.f[i].value; *p; p++)
            CHECK((unsigned char)*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r');
    }
    static cu_qform_answers a;
    cu_qform_read(q, get, &f, &a);
    CHECK(a.n <= q->nitems && a.nerrors <= q->nitems);
    if (!a.nerrors) {
        cu_q_result r;
        CHECK(cu_questionnaire_score(q, a.a, a.n, NULL, &r, &err) == CU_OK);
        CHECK(r.complete);
    }
    cu_buf page;
    cu_buf_init(&page, 1 << 22);
    cu_qform fm = {.q = q, .action = "/q/t", .errors = a.errors, .nerrors = a.nerrors,
                   .get = get, .ctx = &f};
    CHECK(cu_qform_render(&fm, &page) == CU_OK);
    const char *s = cu_buf_str(&page);
    CHECK(!strstr(s, "<script") && !strstr(s, "<img") && !strstr(s, "<svg"));
    cu_buf_release(&page);
    cu_form_free(&f);
    return 0;
}
