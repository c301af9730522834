/* test_html.c — the escape-by-default HTML writer and page shell
 * (iface/html.h), the form parser (http/form.h), and the questionnaire form
 * and its reading back (iface/qform.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/questionnaire.h"
#include "http/form.h"
#include "iface/html.h"
#include "iface/qform.h"

#define EVIL "<script>alert('x')</script>\"&'><img src=x onerror=alert(1)>"

static void no_markup_from(const char *page, const char *evil)
{
    (void)evil;
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "<img"));
    assert_null(strstr(page, "onerror=alert(1)>"));
}

static void writer_escapes_text_and_values(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 1 << 16);
    cu_html h;
    cu_html_init(&h, &b);
    cu_html_open(&h, "p", "class", EVIL, "title", "a\"b", NULL);
    cu_html_text(&h, EVIL);
    cu_html_textf(&h, "[%s]", EVIL);
    cu_html_close(&h, "p");
    cu_html_elem(&h, "a", EVIL, "href", "javascript:\"x\"", NULL);
    assert_int_equal(cu_html_done(&h), CU_OK);
    const char *s = cu_buf_str(&b);
    no_markup_from(s, EVIL);
    assert_non_null(strstr(s, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;&#39;&gt;"));
    assert_non_null(strstr(s, "title=\"a&quot;b\""));
    assert_non_null(strstr(s, "[&lt;script&gt;"));
    /* Nothing but escaped text between the tags: exactly two '<' in the p. */
    size_t lt = 0;
    for (const char *p = s; *p; p++)
        lt += *p == '<';
    assert_int_equal(lt, 4);
    cu_buf_release(&b);
}

static void writer_controls_and_long_text(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 1 << 20);
    cu_html h;
    cu_html_init(&h, &b);
    cu_html_text(&h, "a\x01" "b\x7f" "c\td\ne");
    char big[2000];
    memset(big, '<', sizeof big - 1);
    big[sizeof big - 1] = 0;
    cu_html_textf(&h, "%s", big);
    assert_int_equal(cu_html_done(&h), CU_OK);
    const char *s = cu_buf_str(&b);
    assert_non_null(strstr(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\td\ne"));
    assert_null(strchr(s, '<'));
    assert_int_equal(b.len, strlen("a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\td\ne") + 4 * 1999);
    cu_buf_release(&b);
}

static void writer_refuses_misuse(void **state)
{
    (void)state;
    static const char *const bad_names[] = {"P", "a b", "script>", "", "x\"y", "1a", NULL};
    for (size_t i = 0; bad_names[i]; i++) {
        cu_buf b;
        cu_buf_init(&b, 1 << 12);
        cu_html h;
        cu_html_init(&h, &b);
        cu_html_open(&h, bad_names[i], NULL);
        assert_int_equal(cu_html_done(&h), CU_EINVAL);
        cu_html_init(&h, &b);
        cu_html_void(&h, "input", bad_names[i], "x", NULL);
        assert_int_equal(cu_html_done(&h), CU_EINVAL);
        cu_buf_release(&b);
    }
    cu_buf b;
    cu_buf_init(&b, 1 << 12);
    cu_html h;
    /* closing the wrong element, or leaving one open */
    cu_html_init(&h, &b);
    cu_html_open(&h, "div", NULL);
    cu_html_open(&h, "p", NULL);
    cu_html_close(&h, "div");
    assert_int_equal(cu_html_done(&h), CU_EINVAL);
    cu_html_init(&h, &b);
    cu_html_open(&h, "div", NULL);
    assert_int_equal(cu_html_done(&h), CU_EINVAL);
    cu_html_init(&h, &b);
    cu_html_close(&h, "div");
    assert_int_equal(cu_html_done(&h), CU_EINVAL);
    /* too deep */
    cu_html_init(&h, &b);
    for (int i = 0; i <= CU_HTML_MAX_DEPTH; i++)
        cu_html_open(&h, "div", NULL);
    assert_int_equal(cu_html_done(&h), CU_EINVAL);
    /* the buffer's limit */
    cu_buf small;
    cu_buf_init(&small, 16);
    cu_html_init(&h, &small);
    cu_html_text(&h, "a long text that does not fit in sixteen bytes");
    assert_int_equal(cu_html_done(&h), CU_ENOMEM);
    cu_buf_release(&small);
    /* an attribute left out, a boolean one */
    cu_buf_reset(&b);
    cu_html_init(&h, &b);
    cu_html_void(&h, "input", "checked", CU_HTML_ON, "value", NULL, "name", "n", NULL);
    assert_int_equal(cu_html_done(&h), CU_OK);
    assert_string_equal(cu_buf_str(&b), "<input checked name=\"n\">");
    cu_buf_release(&b);
}

static void table_helper(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 1 << 14);
    cu_html h;
    cu_html_init(&h, &b);
    static const char *const heads[] = {EVIL, "Score"};
    cu_html_table_open(&h, EVIL, true, heads, 2);
    cu_html_open(&h, "tr", NULL);
    cu_html_elem(&h, "td", "a", NULL);
    cu_html_close(&h, "tr");
    cu_html_table_close(&h);
    assert_int_equal(cu_html_done(&h), CU_OK);
    const char *s = cu_buf_str(&b);
    no_markup_from(s, EVIL);
    assert_non_null(strstr(s, "<table class=\"nhsuk-table\"><caption class=\"nhsuk-table__caption "
                              "nhsuk-u-visually-hidden\">&lt;script&gt;"));
    assert_non_null(strstr(s, "<th class=\"nhsuk-table__header\" scope=\"col\">Score</th>"));
    assert_non_null(strstr(s, "<tbody class=\"nhsuk-table__body\"><tr><td>a</td></tr></tbody></table>"));
    cu_buf_release(&b);
}

static void words_on_a_page(void **state)
{
    (void)state;
    char d[CU_HTML_DATE_LEN], t[CU_HTML_TIME_LEN], n[CU_HTML_NHS_LEN];
    /* 2026-12-06T14:05:00Z */
    assert_string_equal(cu_html_date(1796565900LL * 1000000, d), "6 December 2026");
    assert_string_equal(cu_html_datetime(1796565900LL * 1000000, t), "6 December 2026 at 2:05pm");
    /* 2024-02-29T00:30:00Z */
    assert_string_equal(cu_html_datetime(1709166600LL * 1000000, t), "29 February 2024 at 12:30am");
    assert_string_equal(cu_html_date(0, d), "");
    assert_string_equal(cu_html_nhs_number("4857773456", n), "485 777 3456");
    assert_string_equal(cu_html_nhs_number("485777345", n), "485777345");
    assert_string_equal(cu_html_nhs_number("48577734x6", n), "48577734x6");
}

static void page_shell(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 1 << 16);
    cu_html h;
    cu_html_init(&h, &b);
    cu_page_link nav[] = {{"../staff", EVIL, false}, {"tasks", "Tasks", true}};
    cu_page p = {.title = EVIL, .service = EVIL, .assets = "/assets/x", .back_href = EVIL,
                 .error = true, .nav = nav, .nnav = 2};
    cu_page_begin(&h, &p);
    cu_field_error e[] = {{"q-a", EVIL}, {"q-b", "Question 2: select an answer"}};
    cu_html_error_summary(&h, e, 2);
    cu_page_end(&h);
    assert_int_equal(cu_html_done(&h), CU_OK);
    const char *s = cu_buf_str(&b);
    no_markup_from(s, EVIL);
    assert_true(strncmp(s, "<!DOCTYPE html>\n<html lang=\"en-GB\">", 35) == 0);
    assert_non_null(strstr(s, "<title>Error: &lt;script&gt;"));
    assert_non_null(strstr(s, "href=\"/assets/x/nhsuk.min.css\""));
    assert_non_null(strstr(s, "id=\"maincontent\""));
    assert_non_null(strstr(s, "<a class=\"nhsuk-header__navigation-link\" href=\"tasks\" "
                              "aria-current=\"page\">Tasks</a>"));
    assert_non_null(strstr(s, "href=\"../staff\">&lt;script&gt;"));
    assert_non_null(strstr(s, "There is a problem"));
    assert_non_null(strstr(s, "<a href=\"#q-b\">Question 2: select an answer</a>"));
    assert_non_null(strstr(s, "</html>\n"));
    /* a page needs a title */
    cu_buf_reset(&b);
    cu_html_init(&h, &b);
    cu_page none = {0};
    cu_page_begin(&h, &none);
    assert_int_equal(cu_html_done(&h), CU_EINVAL);
    cu_buf_release(&b);
}

/* ---------------------------------------------------------------- forms */

static void form_parses(void **state)
{
    (void)state;
    cu_form f;
    cu_err err = {0};
    const char body[] = "a.x=LA6568-5&a.y=hello+world%21&empty=&bare&a.x=2&&z=%C3%A9";
    assert_int_equal(cu_form_parse(body, strlen(body), &f, &err), CU_OK);
    assert_int_equal(f.n, 6);
    assert_string_equal(cu_form_get(&f, "a.x"), "LA6568-5");
    assert_string_equal(cu_form_get(&f, "a.y"), "hello world!");
    assert_string_equal(cu_form_get(&f, "empty"), "");
    assert_string_equal(cu_form_get(&f, "bare"), "");
    assert_string_equal(cu_form_get(&f, "z"), "\xc3\xa9");
    assert_int_equal(cu_form_count(&f, "a.x"), 2);
    assert_null(cu_form_get(&f, "nope"));
    cu_form_free(&f);
    assert_int_equal(cu_form_parse("", 0, &f, &err), CU_OK);
    assert_int_equal(f.n, 0);
    cu_form_free(&f);
}

static void form_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "a=%", "a=%4", "a=%zz", "a=%00", "a=%01", "=x", "a=%C3", "a=%C0%AF", "a=%ED%A0%80",
        "a=%F5%80%80%80", "a=%7F", NULL};
    for (size_t i = 0; bad[i]; i++) {
        cu_form f;
        cu_err err = {0};
        assert_int_equal(cu_form_parse(bad[i], strlen(bad[i]), &f, &err), CU_EINVAL);
        assert_int_equal(f.n, 0);
        assert_null(strstr(err.msg, bad[i]));
    }
    /* too many fields, too long a name or value */
    cu_buf b;
    cu_buf_init(&b, 1 << 20);
    for (int i = 0; i <= CU_FORM_MAX_FIELDS; i++)
        assert_int_equal(cu_buf_append_str(&b, "a=1&"), CU_OK);
    cu_form f;
    cu_err err = {0};
    assert_int_equal(cu_form_parse((const char *)b.data, b.len, &f, &err), CU_EINVAL);
    cu_buf_reset(&b);
    for (int i = 0; i <= CU_FORM_MAX_NAME; i++)
        assert_int_equal(cu_buf_append_str(&b, "n"), CU_OK);
    assert_int_equal(cu_buf_append_str(&b, "=1"), CU_OK);
    assert_int_equal(cu_form_parse((const char *)b.data, b.len, &f, &err), CU_EINVAL);
    cu_buf_reset(&b);
    assert_int_equal(cu_buf_append_str(&b, "v="), CU_OK);
    for (int i = 0; i <= CU_FORM_MAX_VALUE; i++)
        assert_int_equal(cu_buf_append_str(&b, "%41"), CU_OK);
    assert_int_equal(cu_form_parse((const char *)b.data, b.len, &f, &err), CU_EINVAL);
    cu_buf_release(&b);
}

/* ---------------------------------------------------------------- the questionnaire form */

static const char hostile_q[] =
    "{\"resourceType\":\"Questionnaire\",\"url\":\"urn:test:evil\",\"version\":\"1\","
    "\"status\":\"active\",\"title\":\"" "<script>alert('t')</script>" "\","
    "\"item\":["
    "{\"linkId\":\"intro\",\"type\":\"display\",\"text\":\"<b onmouseover=x>hi</b>\"},"
    "{\"linkId\":\"c\",\"type\":\"choice\",\"required\":true,\"text\":\"\\\"><img src=x onerror=alert(1)>\","
    " \"answerOption\":[{\"valueCoding\":{\"code\":\"a\",\"display\":\"<script>o</script>\"}},"
    "  {\"valueCoding\":{\"code\":\"b\",\"display\":\"B\"}}]},"
    "{\"linkId\":\"n\",\"type\":\"integer\",\"text\":\"How many?\"},"
    "{\"linkId\":\"d\",\"type\":\"date\",\"required\":true,\"text\":\"When?\"},"
    "{\"linkId\":\"y\",\"type\":\"boolean\",\"text\":\"Yes or no?\"},"
    "{\"linkId\":\"later\",\"type\":\"text\",\"text\":\"Tell us more\","
    " \"enableWhen\":[{\"question\":\"y\",\"operator\":\"=\",\"answerBoolean\":true}]}"
    "]}";

static cu_questionnaire *parse(const char *doc, size_t n)
{
    cu_questionnaire *q = NULL;
    cu_err err = {0};
    int rc = cu_questionnaire_parse(doc, n, &q, &err);
    if (rc)
        fprintf(stderr, "parse: %s\n", err.msg);
    assert_int_equal(rc, CU_OK);
    return q;
}

typedef struct kv {
    const char *const *pairs; /* name, value, ..., NULL */
} kv;

static const char *kv_get(void *ctx, const char *name)
{
    const kv *k = ctx;
    for (size_t i = 0; k->pairs[i]; i += 2)
        if (strcmp(k->pairs[i], name) == 0)
            return k->pairs[i + 1];
    return NULL;
}

static void qform_escapes_everything(void **state)
{
    (void)state;
    cu_questionnaire *q = parse(hostile_q, sizeof hostile_q - 1);
    static const char *const entered[] = {"a.n", EVIL, "a.later", "</textarea><script>x</script>",
                                          NULL};
    kv k = {entered};
    cu_field_error e[] = {{"q-n", "Question 2: enter a whole number, like 5"}};
    cu_qform f = {.q = q, .action = "/q/cuq_\"><script>", .assets = "/assets/v", .errors = e,
                  .nerrors = 1, .get = kv_get, .ctx = &k};
    cu_buf b;
    cu_buf_init(&b, 1 << 20);
    assert_int_equal(cu_qform_render(&f, &b), CU_OK);
    const char *s = cu_buf_str(&b);
    no_markup_from(s, EVIL);
    assert_null(strstr(s, "<b "));
    assert_null(strstr(s, "</textarea><script>"));
    assert_non_null(strstr(s, "name=\"a.c\" type=\"radio\" value=\"a\""));
    assert_non_null(strstr(s, "action=\"/q/cuq_&quot;&gt;&lt;script&gt;\""));
    assert_non_null(strstr(s, "nhsuk-form-group--error"));
    assert_non_null(strstr(s, "id=\"q-n-error\""));
    assert_non_null(strstr(s, "name=\"a.d.year\""));
    assert_non_null(strstr(s, "Answer this only if it applies to you"));
    assert_non_null(strstr(s, "<title>Error: "));
    cu_buf_release(&b);
    cu_questionnaire_free(q);
}

static void qform_phq9_page(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/questionnaires/phq-9.json", CUSTOS_SOURCE_ROOT);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char doc[CU_Q_MAX_BYTES];
    size_t n = fread(doc, 1, sizeof doc, fp);
    fclose(fp);
    cu_questionnaire *q = parse(doc, n);
    cu_qform f = {.q = q, .action = "/q/t"};
    cu_buf b;
    cu_buf_init(&b, 1 << 20);
    assert_int_equal(cu_qform_render(&f, &b), CU_OK);
    const char *s = cu_buf_str(&b);
    /* nine scored questions with four answers each, and the tenth */
    size_t radios = 0;
    for (const char *p = s; (p = strstr(p, "type=\"radio\"")); p++)
        radios++;
    assert_int_equal(radios, 40);
    assert_non_null(strstr(s, "id=\"q-phq9-9\""));
    assert_null(strstr(s, "<title>Error"));
    assert_null(strstr(s, "\" checked"));
    /* the page stays small: under 100 KB */
    assert_true(b.len < 100 * 1024);

    /* all nine answered 0: complete; item 10 is disabled and its answer dropped */
    static const char *const zero[] = {
        "a.phq9-1", "LA6568-5", "a.phq9-2", "LA6568-5", "a.phq9-3", "LA6568-5",
        "a.phq9-4", "LA6568-5", "a.phq9-5", "LA6568-5", "a.phq9-6", "LA6568-5",
        "a.phq9-7", "LA6568-5", "a.phq9-8", "LA6568-5", "a.phq9-9", "LA6568-5",
        "a.phq9-10", "LA6572-7", NULL};
    kv k = {zero};
    cu_qform_answers *a = calloc(1, sizeof *a);
    assert_non_null(a);
    cu_qform_read(q, kv_get, &k, a);
    assert_int_equal(a->nerrors, 0);
    assert_int_equal(a->n, 9);
    cu_q_result r;
    cu_err err = {0};
    assert_int_equal(cu_questionnaire_score(q, a->a, a->n, NULL, &r, &err), CU_OK);
    assert_true(r.complete);
    assert_int_equal(r.total, 0);

    /* two left empty and one forged: three errors in page order */
    static const char *const gaps[] = {
        "a.phq9-1", "LA6568-5", "a.phq9-3", "LA6568-5", "a.phq9-4", "nonsense",
        "a.phq9-5", "LA6568-5", "a.phq9-6", "LA6568-5", "a.phq9-7", "LA6568-5",
        "a.phq9-8", "LA6568-5", "a.phq9-9", "LA6571-9", NULL};
    kv g = {gaps};
    cu_qform_read(q, kv_get, &g, a);
    assert_int_equal(a->nerrors, 2);
    assert_string_equal(a->errors[0].id, "q-phq9-2");
    assert_string_equal(a->errors[0].message, "Question 2: select an answer");
    assert_string_equal(a->errors[1].id, "q-phq9-4");
    assert_string_equal(a->errors[1].message, "Question 4: select one of the answers");
    /* the page again, with the errors and what was entered */
    cu_qform again = {.q = q, .action = "/q/t", .errors = a->errors, .nerrors = a->nerrors,
                      .get = kv_get, .ctx = &g};
    cu_buf_reset(&b);
    assert_int_equal(cu_qform_render(&again, &b), CU_OK);
    s = cu_buf_str(&b);
    assert_non_null(strstr(s, "<a href=\"#q-phq9-2\">Question 2: select an answer</a>"));
    assert_non_null(strstr(s, "value=\"LA6571-9\" checked"));
    free(a);
    cu_buf_release(&b);
    cu_questionnaire_free(q);
}

static void qform_reads_types(void **state)
{
    (void)state;
    cu_questionnaire *q = parse(hostile_q, sizeof hostile_q - 1);
    cu_qform_answers *a = calloc(1, sizeof *a);
    assert_non_null(a);
    static const char *const good[] = {"a.c", "b", "a.n", " 12 ", "a.d.day", "29", "a.d.month",
                                       "2", "a.d.year", "2024", "a.y", "false", "a.later",
                                       "dropped: y is false", NULL};
    kv k = {good};
    cu_qform_read(q, kv_get, &k, a);
    assert_int_equal(a->nerrors, 0);
    assert_int_equal(a->n, 4);
    assert_string_equal(a->a[1].link_id, "n");
    assert_int_equal(a->a[1].i, 12);
    assert_string_equal(a->a[2].s, "2024-02-29");
    assert_int_equal(a->a[3].kind, CU_QV_BOOL);
    assert_false(a->a[3].b);

    static const char *const bad[] = {"a.c", "b", "a.n", "1e3", "a.d.day", "29", "a.d.month",
                                      "2", "a.d.year", "2023", "a.y", "maybe", NULL};
    kv kb = {bad};
    cu_qform_read(q, kv_get, &kb, a);
    assert_int_equal(a->nerrors, 3);
    assert_string_equal(a->errors[0].id, "q-n");
    assert_string_equal(a->errors[1].id, "q-d-day");
    assert_string_equal(a->errors[1].message, "Question 3: enter a real date, for example 15 3 2026");
    assert_string_equal(a->errors[2].id, "q-y");
    free(a);
    cu_questionnaire_free(q);
}

static void after_pages(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 1 << 16);
    assert_int_equal(cu_qform_done_page(NULL, true, &b), CU_OK);
    assert_non_null(strstr(cu_buf_str(&b), "call 999"));
    cu_buf_reset(&b);
    assert_int_equal(cu_qform_done_page(NULL, false, &b), CU_OK);
    assert_null(strstr(cu_buf_str(&b), "999"));
    static const char *const kinds[] = {"used", "expired", "unknown"};
    for (size_t i = 0; i < 3; i++) {
        cu_buf_reset(&b);
        assert_int_equal(cu_qform_gone_page("/a", kinds[i], &b), CU_OK);
        assert_non_null(strstr(cu_buf_str(&b), "<h1"));
    }
    cu_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_escapes_text_and_values),
        cmocka_unit_test(writer_controls_and_long_text),
        cmocka_unit_test(writer_refuses_misuse),
        cmocka_unit_test(table_helper),
        cmocka_unit_test(words_on_a_page),
        cmocka_unit_test(page_shell),
        cmocka_unit_test(form_parses),
        cmocka_unit_test(form_refuses),
        cmocka_unit_test(qform_escapes_everything),
        cmocka_unit_test(qform_phq9_page),
        cmocka_unit_test(qform_reads_types),
        cmocka_unit_test(after_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
