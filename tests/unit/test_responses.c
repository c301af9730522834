/*
 * test_responses.c — questionnaire responses: the strict QuestionnaireResponse
 * parser (good documents, every refusal by its JSON path) and the links and
 * responses behind the choke point: issue, peek, submit once and only once,
 * expiry by the test clock, forged and altered links, a restricted subject,
 * incomplete answers stored without a total, a disagreeing total flagged,
 * PHQ-9 item 9 raising an urgent task that a later answer does not close,
 * staff entry and the audited listing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdir.h"
#include "vault_fixture.h"
#include "people_fixture.h"
#include "raw_sqlite.h"

#include <limits.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/audit.h"
#include "domain/consent.h"
#include "domain/input.h"
#include "domain/integrity.h"
#include "domain/qresponse.h"
#include "domain/responses.h"
#include "domain/staff.h"
#include "domain/subject.h"
#include "domain/tasks.h"
#include "store/store.h"
#include "util/clock.h"

#define PHQ9 "urn:custos:questionnaire:phq-9"
static const char *LEVELS[4] = {"LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"};

/* ---- the stored response's summary ---- */

/* A response as response_doc writes it: PHQ-9, scored, banded and flagged. */
#define CANON                                                                                   \
    "{\"authored\":\"2026-12-07T10:00:00.000000Z\",\"extension\":[{\"extension\":["             \
    "{\"url\":\"complete\",\"valueBoolean\":true},{\"url\":\"total\",\"valueInteger\":14},"     \
    "{\"url\":\"scoreCode\",\"valueCoding\":{\"code\":\"44261-6\",\"display\":\"PHQ-9 total\","  \
    "\"system\":\"http://loinc.org\"}},{\"url\":\"band\",\"valueCoding\":{\"code\":\"moderate\"," \
    "\"display\":\"Moderate\"}},{\"extension\":[{\"url\":\"rule\",\"valueId\":\"phq9-item9\"},"  \
    "{\"url\":\"level\",\"valueCode\":\"urgent\"},{\"url\":\"reason\",\"valueString\":\"Item 9\"}]," \
    "\"url\":\"flag\"},{\"url\":\"totalDisagrees\",\"valueBoolean\":false},"                    \
    "{\"url\":\"source\",\"valueCode\":\"staff\"}],\"url\":\"" CU_Q_EXT_RESULT "\"}],"           \
    "\"item\":[{\"answer\":[{\"valueCoding\":{\"code\":\"LA6569-3\",\"system\":"                \
    "\"http://loinc.org\"}}],\"linkId\":\"phq9-1\",\"text\":\"Little interest \\u2028 \\\"or\\\" " \
    "pleasure \xc3\xa9\"},{\"answer\":[{\"valueDecimal\":1.25},{\"valueDecimal\":-0.5},"        \
    "{\"valueInteger\":-9223372036854775808},{\"valueBoolean\":null}],\"linkId\":\"x\"}],"      \
    "\"questionnaire\":\"urn:custos:questionnaire:phq-9|1\",\"resourceType\":"                  \
    "\"QuestionnaireResponse\",\"status\":\"completed\"}"

static void decode_agrees(const char *doc, size_t len)
{
    cu_response_view a, b;
    memset(&a, 0x5a, sizeof a);
    memset(&b, 0x5a, sizeof b);
    a.nflags = b.nflags = 0;
    a.url[0] = b.url[0] = a.version[0] = b.version[0] = a.band[0] = b.band[0] = '\0';
    cu_response_decode(doc, len, &a);
    cu_response_decode_full(doc, len, &b);
    if (memcmp(&a, &b, sizeof a) != 0)
        fail_msg("the summaries differ for %.*s", (int)len, doc);
}

static void test_decode(void **state)
{
    (void)state;
    /* the canonical document: every part read */
    cu_response_view v;
    memset(&v, 0, sizeof v);
    cu_response_decode(CANON, strlen(CANON), &v);
    assert_string_equal(v.url, "urn:custos:questionnaire:phq-9");
    assert_string_equal(v.version, "1");
    assert_true(v.complete);
    assert_true(v.has_total);
    assert_int_equal(v.total, 14);
    assert_string_equal(v.band, "moderate");
    assert_int_equal(v.nflags, 1);
    assert_string_equal(v.flags[0].rule, "phq9-item9");
    assert_string_equal(v.flags[0].level, "urgent");
    assert_false(v.total_disagrees);
    decode_agrees(CANON, strlen(CANON));

    /* documents an attacker or an old writer might leave: escapes where a
     * value is kept, repeated names, wrong types, odd numbers, nesting */
    static const char *const odd[] = {
        "{}", "[]", "\"x\"", "1", "", " ", "{\"questionnaire\":\"a\\u007cb|2\"}",
        "{\"questionnaire\":\"a|b|c\",\"questionnaire\":\"d|e\"}",
        "{\"questionnaire\":12,\"extension\":{}}",
        "{\"q\\u0075estionnaire\":\"a|1\"}",
        "{\"extension\":[{\"url\":\"" CU_Q_EXT_RESULT "\",\"extension\":[{\"url\":\"total\","
        "\"valueInteger\":1.5},{\"url\":\"complete\",\"valueBoolean\":1}]}]}",
        "{\"extension\":[{\"url\":\"" CU_Q_EXT_RESULT "\",\"extension\":[{\"url\":\"total\","
        "\"valueInteger\":99999999999999999999}]}]}",
        "{\"extension\":[{\"url\":\"" CU_Q_EXT_RESULT "\",\"extension\":[{\"url\":\"total\","
        "\"valueInteger\":-123456789012345678},{\"url\":\"total\"}]}]}",
        "{\"extension\":[{\"url\":\"" CU_Q_EXT_RESULT "\",\"extension\":[{\"url\":\"band\","
        "\"valueCoding\":{\"code\":\"a\\\"b\"}}]}]}",
        "{\"extension\":[{\"url\":\"" CU_Q_EXT_RESULT "\",\"extension\":[{\"url\":\"band\","
        "\"valueCoding\":[\"code\"]},{\"url\":\"flag\",\"extension\":{\"url\":\"rule\"}},"
        "{\"url\":\"flag\",\"extension\":[1,{\"url\":\"rule\",\"valueId\":7},"
        "{\"url\":\"level\",\"valueCode\":\"review\"}]}]},{\"url\":\"" CU_Q_EXT_RESULT "\","
        "\"extension\":[{\"url\":\"totalDisagrees\",\"valueBoolean\":true}]}]}",
        "{\"extension\":[{\"url\":\"" CU_Q_EXT_RESULT "x\",\"extension\":[{\"url\":\"total\","
        "\"valueInteger\":3}]}],\"extension\":[]}",
        "{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xc0\xaf\"}", "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":1e5}",
        "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":truex}", "{\"a\":nul}", "{\"a\":1}x",
        "{\"a\":1} \n", "{\"a\":1e300}", "\xef\xbb\xbf{}", "{\"a\":\"\t\"}", "{\"a\" 1}", "{,}", "{\"a\":1,}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]"
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        decode_agrees(odd[i], strlen(odd[i]));
    char deep[300];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "{\"extension\":");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    decode_agrees(deep, n);

    /* every prefix of the canonical document, and every byte of it replaced
     * by each of a few that change its structure */
    char buf[sizeof CANON];
    size_t len = strlen(CANON);
    for (size_t k = 0; k <= len; k++) {
        memcpy(buf, CANON, k);
        decode_agrees(buf, k);
    }
    static const char swap[] = {'"', '\\', '{', '}', '[', ']', ',', ':', '1', '-', 'x', ' ',
                                '|', '\x80', '\0', 't', 'e'};
    for (size_t k = 0; k < len; k++) {
        for (size_t j = 0; j < sizeof swap; j++) {
            memcpy(buf, CANON, len);
            buf[k] = swap[j];
            decode_agrees(buf, len);
        }
    }
}

/* ---- the parser ---- */

static cu_qresponse *parse_ok(const char *doc)
{
    cu_qresponse *r = NULL;
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_qresponse_parse(doc, strlen(doc), &r, &err);
    if (rc != CU_OK)
        fail_msg("%s: %s", doc, err.msg);
    return r;
}

static void parse_fails(const char *doc, const char *msg)
{
    cu_qresponse *r = (cu_qresponse *)&r;
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_qresponse_parse(doc, strlen(doc), &r, &err);
    if (rc != CU_EINVAL || err.code != CU_EINVAL || strcmp(err.msg, msg) != 0)
        fail_msg("%s: got %d '%s', want '%s'", doc, rc, err.msg, msg);
    assert_null(r);
}

#define HEAD "{\"resourceType\":\"QuestionnaireResponse\",\"questionnaire\":\"urn:q|2\","
#define DONE HEAD "\"status\":\"completed\""

static void test_parse_good(void **state)
{
    (void)state;
    cu_qresponse *r = parse_ok(
        DONE ",\"id\":\"r1\",\"authored\":\"2026-01-02\",\"item\":["
        "{\"linkId\":\"a\",\"text\":\"A?\",\"answer\":[{\"valueCoding\":{\"system\":\"urn:s\","
        "\"code\":\"y\",\"display\":\"Yes\"}}]},"
        "{\"linkId\":\"g\",\"item\":[{\"linkId\":\"g.1\",\"answer\":[{\"valueInteger\":-7}]},"
        "{\"linkId\":\"g_2\",\"answer\":[{\"valueDecimal\":2.5}]}]},"
        "{\"linkId\":\"b\",\"answer\":[{\"valueBoolean\":false}]},"
        "{\"linkId\":\"s\",\"answer\":[{\"valueString\":\"line one\\nline two\"}]},"
        "{\"linkId\":\"d\",\"answer\":[{\"valueDate\":\"2024-02-29\"}]},"
        "{\"linkId\":\"unanswered\"}],"
        "\"extension\":[{\"url\":\"urn:custos:questionnaire:total\",\"valueInteger\":12}]}");
    assert_string_equal(r->url, "urn:q");
    assert_string_equal(r->version, "2");
    assert_false(r->in_progress);
    assert_int_equal(r->n, 6);
    assert_string_equal(r->answers[0].link_id, "a");
    assert_int_equal(r->answers[0].kind, CU_QV_CODE);
    assert_string_equal(r->answers[0].s, "y");
    assert_string_equal(r->answers[1].link_id, "g.1");
    assert_int_equal(r->answers[1].kind, CU_QV_INT);
    assert_int_equal(r->answers[1].i, -7);
    assert_int_equal(r->answers[2].kind, CU_QV_DECIMAL);
    assert_true(r->answers[2].d == 2.5);
    assert_int_equal(r->answers[3].kind, CU_QV_BOOL);
    assert_false(r->answers[3].b);
    assert_int_equal(r->answers[4].kind, CU_QV_STRING);
    assert_string_equal(r->answers[4].s, "line one\nline two");
    assert_int_equal(r->answers[5].kind, CU_QV_STRING);
    assert_string_equal(r->answers[5].s, "2024-02-29");
    assert_true(r->has_total);
    assert_int_equal(r->total, 12);
    cu_qresponse_free(r);
    /* A url without a version; in progress; no items at all. */
    r = parse_ok("{\"resourceType\":\"QuestionnaireResponse\",\"questionnaire\":\"urn:q\","
                 "\"status\":\"in-progress\"}");
    assert_string_equal(r->url, "urn:q");
    assert_string_equal(r->version, "");
    assert_true(r->in_progress);
    assert_int_equal(r->n, 0);
    assert_false(r->has_total);
    cu_qresponse_free(r);
}

static void test_parse_errors(void **state)
{
    (void)state;
    parse_fails("", "(document): not valid JSON (line 1, column 0)");
    parse_fails("[]", "(document): must be a JSON object");
    parse_fails("{\"resourceType\":\"Questionnaire\"}",
                "resourceType: must be QuestionnaireResponse");
    parse_fails("{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\"}",
                "questionnaire: required");
    parse_fails(HEAD "\"status\":\"amended\"}", "status: must be completed or in-progress");
    parse_fails(DONE ",\"subject\":{\"reference\":\"Patient/1\"}}", "subject: not allowed here");
    parse_fails("{\"resourceType\":\"QuestionnaireResponse\",\"questionnaire\":\"urn:q|\","
                "\"status\":\"completed\"}",
                "questionnaire: the version after | must be 1-64 characters");
    parse_fails("{\"resourceType\":\"QuestionnaireResponse\",\"questionnaire\":\"|1\","
                "\"status\":\"completed\"}",
                "questionnaire: must be a URL of 1-255 characters, optionally followed by "
                "|version");
    parse_fails(DONE ",\"item\":{}}", "item: must be an array");
    parse_fails(DONE ",\"item\":[]}", "item: must not be empty");
    parse_fails(DONE ",\"item\":[{\"text\":\"x\"}]}", "item[0].linkId: required");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a b\"}]}",
                "item[0].linkId: may hold only A-Z a-z 0-9 . _ -");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\",\"answer\":[{\"valueInteger\":1}],"
                "\"item\":[{\"linkId\":\"b\"}]}]}",
                "item[0]: has both answer and item (a group has no answer)");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\",\"answer\":[]}]}",
                "item[0].answer: must not be empty");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\"},{\"linkId\":\"b\",\"answer\":["
                "{\"valueInteger\":1},{\"valueInteger\":2}]}]}",
                "item[1].answer[1]: only one answer per item is taken");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\",\"answer\":[{\"valueInteger\":1,"
                "\"valueBoolean\":true}]}]}",
                "item[0].answer[0]: must hold exactly one value[x]");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\",\"answer\":[{\"valueQuantity\":{}}]}]}",
                "item[0].answer[0].valueQuantity: not allowed here");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\",\"answer\":[{\"valueCoding\":"
                "{\"system\":\"urn:s\"}}]}]}",
                "item[0].answer[0].valueCoding.code: required");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"g\",\"item\":[{\"linkId\":\"a\",\"answer\":"
                "[{\"valueInteger\":1.5}]}]}]}",
                "item[0].item[0].answer[0].valueInteger: must be a whole number within 32 "
                "bits");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\",\"answer\":[{\"valueInteger\":"
                "4294967296}]}]}",
                "item[0].answer[0].valueInteger: must be a whole number within 32 bits");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\",\"answer\":[{\"valueBoolean\":1}]}]}",
                "item[0].answer[0].valueBoolean: must be true or false");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\",\"answer\":[{\"valueDate\":"
                "\"2026-02-29\"}]}]}",
                "item[0].answer[0].valueDate: must be a date YYYY, YYYY-MM or YYYY-MM-DD");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\",\"answer\":[{\"valueString\":\"\"}]}]}",
                "item[0].answer[0].valueString: must be 1-2048 characters");
    parse_fails(DONE ",\"item\":[{\"linkId\":\"a\",\"answer\":[{\"valueString\":"
                "\"bell\\u0007\"}]}]}",
                "item[0].answer[0].valueString: holds a control character");
    parse_fails(DONE ",\"extension\":[{\"url\":\"urn:other\",\"valueInteger\":1}]}",
                "extension[0].url: must be urn:custos:questionnaire:total");
    parse_fails(DONE ",\"extension\":[{\"url\":\"urn:custos:questionnaire:total\","
                "\"valueInteger\":-1}]}",
                "extension[0].valueInteger: must be a whole number from 0 to 200000");
    parse_fails(DONE ",\"extension\":[{\"url\":\"urn:custos:questionnaire:total\"}]}",
                "extension[0].valueInteger: required");
    parse_fails(DONE ",\"status\":\"completed\"}",
                "(document): not valid JSON (line 1, column 95)");
    /* Too deep: five levels of groups. */
    char deep[1024];
    snprintf(deep, sizeof deep,
             DONE ",\"item\":[{\"linkId\":\"g1\",\"item\":[{\"linkId\":\"g2\",\"item\":["
                  "{\"linkId\":\"g3\",\"item\":[{\"linkId\":\"g4\",\"item\":[{\"linkId\":\"g5\","
                  "\"item\":[{\"linkId\":\"a\"}]}]}]}]}]}]}");
    parse_fails(deep, "item[0].item[0].item[0].item[0].item: items nest too deep");
    /* Too many items. */
    cu_buf b;
    cu_buf_init(&b, 1 << 20);
    const char *h = DONE ",\"item\":[";
    assert_int_equal(cu_buf_append(&b, h, strlen(h)), 0);
    for (int i = 0; i <= CU_Q_MAX_ITEMS; i++) {
        char one[64];
        int n = snprintf(one, sizeof one, "%s{\"linkId\":\"i%d\"}", i ? "," : "", i);
        assert_int_equal(cu_buf_append(&b, one, (size_t)n), 0);
    }
    assert_int_equal(cu_buf_append(&b, "]}", 3), 0);
    parse_fails((const char *)b.data, "item[200]: too many items");
    cu_buf_release(&b);
}

/* ---- links and responses ---- */

typedef struct fx {
    char root[64], store[PATH_MAX], db[PATH_MAX + 16];
    cu_vault *v;
    cu_err err;
    char ctl[CU_ID_STRLEN];
    char subj[CU_ID_STRLEN], other[CU_ID_STRLEN];
    char alice_id[CU_ID_STRLEN], bob_id[CU_ID_STRLEN], cara_id[CU_ID_STRLEN];
    cu_actor alice, bob, cara; /* alice has subj on her list; bob none; cara a care_admin */
} fx;

static void add_questionnaire(fx *f, const char *file)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/questionnaires/%s", CUSTOS_SOURCE_ROOT, file);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[CU_Q_MAX_BYTES + 1];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    cu_questionnaire_info info;
    bool added;
    OK(f, cu_questionnaire_add(f->v, &OPERATOR, buf, n, &info, &added, &f->err));
}

static int setup(void **state)
{
    unsetenv("CUSTOS_FAKE_NOW");
    fx *f = calloc(1, sizeof *f);
    if (!f || VAULT_FIXTURE_OPEN(f, "responses")) {
        free(f);
        return -1;
    }
    *state = f;
    add_subject(f, "943 476 5919", f->subj);
    add_subject(f, "401 023 2137", f->other);
    f->alice = staff(f, "alice", "clinician", f->alice_id);
    f->bob = staff(f, "bob", "clinician", f->bob_id);
    f->cara = staff(f, "cara", "care_admin", f->cara_id);
    OK(f, cu_care_set(f->v, &OPERATOR, "alice", f->subj, true, &f->err));
    add_questionnaire(f, "phq-9.json");
    add_questionnaire(f, "psfu-example.json");
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    unsetenv("CUSTOS_FAKE_NOW");
    cu_vault_close(f->v);
    testdir_remove(f->root);
    free(f);
    return 0;
}

static int note_bad(void *ctx, const char *table, const char *row, const char *problem)
{
    (void)row;
    (void)problem;
    if (strcmp(table, "questionnaire_links") == 0)
        (*(int *)ctx)++;
    return 0;
}

static int64_t count_action(fx *f, const char *action)
{
    char sql[200];
    /* The event's body holds its action in the clear (only payloads are sealed). */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_events WHERE instr(body, "
                              "CAST('%s' AS BLOB)) > 0", action);
    return raw_int(f, sql);
}

/* The last audit event: its action and detail, decoded as the trail's
 * readers decode it. */
static void last_event_is(fx *f, const char *action, const char *detail)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT body FROM audit_events ORDER BY seq DESC "
                                            "LIMIT 1", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    cu_audit_decoded d;
    assert_int_equal(cu_audit_decode(sqlite3_column_blob(st, 0),
                                     (size_t)sqlite3_column_bytes(st, 0), &d), CU_OK);
    assert_int_equal(d.action.n, strlen(action));
    assert_memory_equal(d.action.p, action, d.action.n);
    assert_int_equal(d.detail.n, strlen(detail));
    assert_memory_equal(d.detail.p, detail, d.detail.n);
    assert_int_equal(cu_audit_detail_count(d.detail, "task.raise"), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static int64_t responses_stored(fx *f)
{
    return raw_int(f, "SELECT count(*) FROM items WHERE field = 'questionnaire_response'");
}

/* PHQ-9 answers: item i (1-9) at level w[i-1]; n the number answered. */
static size_t phq9(cu_q_answer a[9], const int w[9], size_t n)
{
    static const char *ids[9] = {"phq9-1", "phq9-2", "phq9-3", "phq9-4", "phq9-5",
                                 "phq9-6", "phq9-7", "phq9-8", "phq9-9"};
    for (size_t i = 0; i < n; i++)
        a[i] = (cu_q_answer){.link_id = ids[i], .kind = CU_QV_CODE, .s = LEVELS[w[i]]};
    return n;
}

static void issue(fx *f, const cu_actor *a, const char *subj, int days,
                  char token[CU_TOKEN_STRLEN])
{
    cu_qlink_info info;
    OK(f, cu_qlink_issue(f->v, a, subj, PHQ9, NULL, "direct_care", days, token, &info,
                         &f->err));
    assert_int_equal(strlen(token), CU_TOKEN_STRLEN - 1);
    assert_memory_equal(token, "cuq_", 4);
    assert_string_equal(info.url, PHQ9);
    assert_string_equal(info.version, "1");
    assert_int_equal(info.state, CU_QLINK_OPEN);
    assert_true(info.expires_at - info.issued_at ==
                (int64_t)(days ? days : 14) * 86400 * 1000000);
}

typedef struct open_tasks {
    int urgent_open, total;
} open_tasks;

static int count_task(void *ctx, const cu_task_view *t)
{
    open_tasks *o = ctx;
    o->total++;
    if (strcmp(t->rec->reason, "phq9_item9") == 0 && strcmp(t->rec->state, "open") == 0)
        o->urgent_open++;
    return 0;
}

static void test_issue_peek_submit_once(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN];
    issue(f, &f->alice, f->subj, 0, token);
    assert_int_equal(count_action(f, "questionnaire.send"), 1);
    /* Only a keyed hash is stored. */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM questionnaire_links WHERE token_hash = "
                              "CAST('%s' AS BLOB) OR id = '%s'", token, token);
    assert_int_equal(raw_int(f, sql), 0);

    cu_qlink_info info;
    cu_questionnaire *q = NULL;
    OK(f, cu_qlink_peek(f->v, token, strlen(token), &info, &q, &f->err));
    assert_non_null(q);
    assert_string_equal(q->url, PHQ9);
    assert_int_equal(info.state, CU_QLINK_OPEN);
    assert_string_equal(info.purpose, "direct_care");
    cu_questionnaire_free(q);

    cu_q_answer a[9];
    const int w[9] = {3, 3, 2, 2, 1, 1, 0, 0, 1};
    size_t n = phq9(a, w, 9);
    int64_t claimed = 13;
    cu_response_result r;
    int64_t events = raw_int(f, "SELECT count(*) FROM audit_events");
    OK(f, cu_qlink_submit(f->v, token, strlen(token), a, n, &claimed, &r, &f->err));
    assert_true(r.complete);
    assert_true(r.has_total);
    assert_int_equal(r.total, 13);
    assert_string_equal(r.band, "moderate");
    assert_false(r.total_disagrees);
    assert_int_equal(r.nflags, 1);
    assert_string_equal(r.flags[0].rule, "phq9-item9");
    assert_string_equal(r.flags[0].level, "urgent");
    assert_int_equal(responses_stored(f), 1);
    assert_int_equal(count_action(f, "questionnaire.submit"), 1);
    /* One event for the submission, whose detail names the task it raised. */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit_events"), events + 1);
    assert_int_equal(count_action(f, "task.raise"), 1);
    char detail[64];
    snprintf(detail, sizeof detail, "task.raise %s", r.flags[0].task);
    assert_int_equal(count_action(f, detail), 1);
    last_event_is(f, "questionnaire.submit", detail);
    /* The task: urgent, open, seen by the care team, sourced from the response. */
    open_tasks o = {0};
    OK(f, cu_task_list(f->v, &f->alice, NULL, NULL, count_task, &o, &f->err));
    assert_int_equal(o.urgent_open, 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tasks WHERE source = '%s' AND id = '%s' "
                              "AND kind = 'urgent'", r.id, r.flags[0].task);
    assert_int_equal(raw_int(f, sql), 1);
    /* Stored once, as the subject's item, sealed (no answer code in the clear). */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM items WHERE field = "
                                "'questionnaire_response' AND source = 'subject' AND "
                                "category = 'health' AND instr(CAST(value AS TEXT), "
                                "'LA657') = 0"),
                     1);

    /* A second submit: refused, nothing stored, no event. */
    cu_response_result r2;
    FAILS(f, CU_ECONFLICT, cu_qlink_submit(f->v, token, strlen(token), a, n, NULL, &r2,
                                           &f->err));
    assert_string_equal(f->err.msg, "this questionnaire link has been used already");
    assert_int_equal(responses_stored(f), 1);
    assert_int_equal(count_action(f, "questionnaire.submit"), 1);
    FAILS(f, CU_ECONFLICT, cu_qlink_peek(f->v, token, strlen(token), &info, &q, &f->err));
    assert_null(q);
    assert_int_equal(info.state, CU_QLINK_USED);

    /* A later answer with item 9 at "not at all" does not close the task. */
    const int calm[9] = {0};
    n = phq9(a, calm, 9);
    OK(f, cu_response_enter(f->v, &f->alice, f->subj, PHQ9, NULL, NULL, a, n, NULL, &r2,
                            &f->err));
    assert_int_equal(r2.nflags, 0);
    assert_int_equal(r2.total, 0);
    assert_string_equal(r2.band, "minimal");
    o = (open_tasks){0};
    OK(f, cu_task_list(f->v, &f->alice, NULL, NULL, count_task, &o, &f->err));
    assert_int_equal(o.urgent_open, 1);
    assert_int_equal(o.total, 1);
    assert_int_equal(count_action(f, "questionnaire.enter"), 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM items WHERE field = "
                                "'questionnaire_response' AND source = 'staff' AND "
                                "recorded_by = 'alice'"),
                     1);
    /* The audit trail and the rows check. */
    int64_t rows = 0, bad = 0;
    int links_bad = 0;
    OK(f, cu_integrity_verify(f->v, note_bad, &links_bad, &rows, &bad, &f->err));
    assert_int_equal(bad, 0);
}

typedef struct open_seen {
    char id[CU_ID_STRLEN];
    int n;
} open_seen;

static int note_open(void *ctx, const cu_qlink_open *l, cu_err *err)
{
    (void)err;
    open_seen *o = ctx;
    memcpy(o->id, l->id, CU_ID_STRLEN);
    assert_string_equal(l->title, "Patient Health Questionnaire (PHQ-9)");
    o->n++;
    return CU_OK;
}

/* The portal reaches a link by its row id among the signed-in subject's
 * links only: listed once open, another subject's not found, answered
 * once with the patient as the event's actor. */
static void test_portal_by_id(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN], other_token[CU_TOKEN_STRLEN];
    issue(f, &f->alice, f->subj, 0, token);
    cu_actor operator = OPERATOR;
    operator.purpose = "direct_care";
    issue(f, &operator, f->other, 0, other_token);
    cu_actor me = {.name = "portal:AAAA-BBBB-CCCC", .role = "subject",
                   .roles = CU_ROLE_SUBJECT, .purpose = "subject_rights",
                   .via = "http GET /portal/questionnaires", .controller_id = f->ctl,
                   .subject_id = f->subj};
    open_seen o = {0};
    OK(f, cu_qlink_open_list(f->v, &me, f->subj, "portal.questionnaires", note_open, &o,
                             &f->err));
    assert_int_equal(o.n, 1);
    assert_int_equal(count_action(f, "portal.questionnaires"), 1);
    /* another subject's list: concealed, recorded */
    open_seen none = {0};
    FAILS(f, CU_ECONCEALED, cu_qlink_open_list(f->v, &me, f->other, "portal.questionnaires",
                                               note_open, &none, &f->err));
    assert_int_equal(none.n, 0);
    char other_id[CU_ID_STRLEN], sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM questionnaire_links WHERE subject_id = '%s'",
             f->other);
    assert_int_equal(raw_int(f, sql), 1);
    /* the other subject's link id, by reading the row: not found for me */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "SELECT id FROM questionnaire_links WHERE subject_id = '%s'",
             f->other);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    cu_strlcpy(other_id, (const char *)sqlite3_column_text(st, 0), sizeof other_id);
    sqlite3_finalize(st);
    sqlite3_close(db);
    cu_qlink_info info;
    cu_questionnaire *q = NULL;
    FAILS(f, CU_ENOTFOUND, cu_qlink_peek_own(f->v, f->subj, other_id, &info, &q, &f->err));
    assert_null(q);
    FAILS(f, CU_ENOTFOUND, cu_qlink_peek_own(f->v, f->subj, token, &info, &q, &f->err));
    cu_q_answer a[9];
    const int w[9] = {1, 1, 1, 1, 0, 0, 0, 0, 0};
    size_t n = phq9(a, w, 9);
    cu_response_result r;
    FAILS(f, CU_ENOTFOUND, cu_qlink_submit_own(f->v, f->subj, other_id, me.name, "http POST",
                                               NULL, NULL, a, n, &r, &f->err));
    assert_int_equal(responses_stored(f), 0);
    /* my own: peeked, answered once, the patient the event's actor */
    OK(f, cu_qlink_peek_own(f->v, f->subj, o.id, &info, &q, &f->err));
    assert_int_equal(info.state, CU_QLINK_OPEN);
    OK(f, cu_qlink_submit_own(f->v, f->subj, o.id, me.name, "http POST /portal/questionnaires/{id}",
                              q, &info, a, n, &r, &f->err));
    assert_int_equal(r.total, 4);
    assert_int_equal(responses_stored(f), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM items WHERE field = "
                              "'questionnaire_response' AND recorded_by = '%s'", me.name);
    assert_int_equal(raw_int(f, sql), 1);
    FAILS(f, CU_ECONFLICT, cu_qlink_submit_own(f->v, f->subj, o.id, me.name, "http POST", q,
                                               NULL, a, n, &r, &f->err));
    cu_questionnaire_free(q);
    FAILS(f, CU_ECONFLICT, cu_qlink_peek_own(f->v, f->subj, o.id, &info, &q, &f->err));
    assert_int_equal(info.state, CU_QLINK_USED);
    /* the public token of the used link is dead too; the list is empty */
    FAILS(f, CU_ECONFLICT, cu_qlink_peek(f->v, token, strlen(token), &info, &q, &f->err));
    o = (open_seen){0};
    OK(f, cu_qlink_open_list(f->v, &me, f->subj, "portal.questionnaires", note_open, &o,
                             &f->err));
    assert_int_equal(o.n, 0);
    /* no patient named: refused before anything */
    FAILS(f, CU_EINTERNAL, cu_qlink_submit_own(f->v, f->subj, o.id, NULL, "x", NULL, NULL, a,
                                               n, &r, &f->err));
}

static void test_forged_tokens(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN];
    issue(f, &f->alice, f->subj, 0, token);
    cu_qlink_info info;
    cu_questionnaire *q = NULL;
    cu_response_result r;
    /* Another token of the right form, one character changed, another kind's
     * prefix, truncated, empty. */
    char forged[CU_TOKEN_STRLEN];
    memcpy(forged, token, sizeof forged);
    forged[10] = forged[10] == 'A' ? 'B' : 'A';
    const char *bad[] = {forged, "cuq_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "cuu_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cuq_", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FAILS(f, CU_ENOTFOUND, cu_qlink_peek(f->v, bad[i], strlen(bad[i]), &info, &q, &f->err));
        assert_string_equal(f->err.msg, "no such questionnaire link");
        assert_null(q);
        FAILS(f, CU_ENOTFOUND, cu_qlink_submit(f->v, bad[i], strlen(bad[i]), NULL, 0, NULL, &r,
                                               &f->err));
    }
    /* The token's length is what is given: a prefix of the real one is not it. */
    FAILS(f, CU_ENOTFOUND, cu_qlink_peek(f->v, token, strlen(token) - 1, &info, &q, &f->err));
    assert_int_equal(responses_stored(f), 0);
}

static void test_expired_by_clock(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN];
    issue(f, &f->alice, f->subj, 1, token);
    char when[32];
    snprintf(when, sizeof when, "%lld", (long long)(cu_now_us() / 1000000 + 86400 + 60));
    assert_int_equal(setenv("CUSTOS_FAKE_NOW", when, 1), 0);
    cu_qlink_info info;
    cu_questionnaire *q = NULL;
    FAILS(f, CU_EDENIED, cu_qlink_peek(f->v, token, strlen(token), &info, &q, &f->err));
    assert_string_equal(f->err.msg, "this questionnaire link has expired");
    assert_int_equal(info.state, CU_QLINK_EXPIRED);
    assert_null(q);
    cu_q_answer a[9];
    const int w[9] = {0};
    cu_response_result r;
    FAILS(f, CU_EDENIED, cu_qlink_submit(f->v, token, strlen(token), a, phq9(a, w, 9), NULL, &r,
                                         &f->err));
    assert_int_equal(responses_stored(f), 0);
    assert_int_equal(count_action(f, "questionnaire.submit"), 0);
    assert_int_equal(unsetenv("CUSTOS_FAKE_NOW"), 0);
}

static void test_issue_refusals(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN] = "";
    cu_qlink_info info;
    /* Off the care list; a care administrator. */
    FAILS(f, CU_EDENIED, cu_qlink_issue(f->v, &f->bob, f->subj, PHQ9, NULL, "direct_care", 0,
                                        token, &info, &f->err));
    FAILS(f, CU_EDENIED, cu_qlink_issue(f->v, &f->cara, f->subj, PHQ9, NULL, "direct_care", 0,
                                        token, &info, &f->err));
    /* A purpose that does not cover health data; an unknown one. */
    cu_actor dpo = {.name = "dpo1", .role = "dpo", .purpose = "subject_rights",
                    .via = "unit test", .controller_id = f->ctl};
    FAILS(f, CU_EDENIED, cu_qlink_issue(f->v, &dpo, f->subj, PHQ9, NULL, "care_administration",
                                        0, token, &info, &f->err));
    FAILS(f, CU_EDENIED, cu_qlink_issue(f->v, &dpo, f->subj, PHQ9, NULL, "no_such_purpose", 0,
                                        token, &info, &f->err));
    /* Days out of range; an unknown questionnaire or version. */
    FAILS(f, CU_EINVAL, cu_qlink_issue(f->v, &f->alice, f->subj, PHQ9, NULL, "direct_care", 91,
                                       token, &info, &f->err));
    FAILS(f, CU_EINVAL, cu_qlink_issue(f->v, &f->alice, f->subj, PHQ9, NULL, "direct_care", -1,
                                       token, &info, &f->err));
    FAILS(f, CU_ENOTFOUND, cu_qlink_issue(f->v, &f->alice, f->subj, "urn:nope", NULL,
                                          "direct_care", 0, token, &info, &f->err));
    FAILS(f, CU_ENOTFOUND, cu_qlink_issue(f->v, &f->alice, f->subj, PHQ9, "9", "direct_care", 0,
                                          token, &info, &f->err));
    assert_string_equal(token, "");
    assert_int_equal(raw_int(f, "SELECT count(*) FROM questionnaire_links"), 0);
    /* The DPO and the maximum. */
    OK(f, cu_qlink_issue(f->v, &dpo, f->subj, PHQ9, "1", "direct_care", 90, token, &info,
                         &f->err));
}

static void test_restricted_subject(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN];
    issue(f, &f->alice, f->subj, 0, token);
    OK(f, cu_subject_restrict(f->v, &OPERATOR, f->subj, true, &f->err));
    cu_q_answer a[9];
    const int w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    cu_response_result r;
    FAILS(f, CU_EDENIED, cu_qlink_submit(f->v, token, strlen(token), a, phq9(a, w, 9), NULL, &r,
                                         &f->err));
    assert_int_equal(responses_stored(f), 0);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM tasks"), 0);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM questionnaire_links WHERE used_at = 0"),
                     1);
    /* Refused and recorded as refused. */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit_events WHERE instr(body, "
                                "CAST('questionnaire.submit' AS BLOB)) > 0 AND instr(body, "
                                "CAST('denied' AS BLOB)) > 0"),
                     1);
    char t2[CU_TOKEN_STRLEN];
    cu_qlink_info info;
    FAILS(f, CU_EDENIED, cu_qlink_issue(f->v, &f->alice, f->subj, PHQ9, NULL, "direct_care", 0,
                                        t2, &info, &f->err));
    /* Lifted: the same link works. */
    OK(f, cu_subject_restrict(f->v, &OPERATOR, f->subj, false, &f->err));
    OK(f, cu_qlink_submit(f->v, token, strlen(token), a, 9, NULL, &r, &f->err));
    assert_int_equal(responses_stored(f), 1);
}

static void test_incomplete_and_disagreeing(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN];
    issue(f, &f->alice, f->subj, 0, token);
    cu_q_answer a[9];
    const int w[9] = {3, 3, 3, 3, 3, 3, 3, 3, 0};
    size_t n = phq9(a, w, 8); /* item 9 unanswered */
    int64_t claimed = 24;
    cu_response_result r;
    OK(f, cu_qlink_submit(f->v, token, strlen(token), a, n, &claimed, &r, &f->err));
    assert_false(r.complete);
    assert_string_equal(r.missing, "phq9-9");
    assert_false(r.has_total);
    assert_string_equal(r.band, "");
    /* A total given where none can be computed disagrees. */
    assert_true(r.total_disagrees);
    /* Complete, with a wrong total: flagged, never used. */
    n = phq9(a, w, 9);
    claimed = 5;
    OK(f, cu_response_enter(f->v, &f->alice, f->subj, PHQ9, "1", "direct_care", a, n, &claimed,
                            &r, &f->err));
    assert_true(r.complete);
    assert_int_equal(r.total, 24);
    assert_true(r.total_disagrees);
    assert_string_equal(r.band, "severe");
    assert_int_equal(r.nflags, 1); /* total 15 or more, for review */
    assert_string_equal(r.flags[0].level, "review");
    assert_int_equal(raw_int(f, "SELECT count(*) FROM tasks WHERE reason = "
                                "'score_review' AND kind = 'review'"),
                     1);
}

static void test_scoring_error_keeps_link(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN];
    issue(f, &f->alice, f->subj, 0, token);
    cu_q_answer a[10];
    const int w[9] = {0};
    size_t n = phq9(a, w, 9);
    a[n++] = (cu_q_answer){.link_id = "phq9-99", .kind = CU_QV_CODE, .s = "LA6568-5"};
    cu_response_result r;
    FAILS(f, CU_EINVAL, cu_qlink_submit(f->v, token, strlen(token), a, n, NULL, &r, &f->err));
    assert_non_null(strstr(f->err.msg, "phq9-99"));
    /* A code that is not an option of the item. */
    a[0].s = "LA9999-9";
    FAILS(f, CU_EINVAL, cu_qlink_submit(f->v, token, strlen(token), a, 9, NULL, &r, &f->err));
    assert_non_null(strstr(f->err.msg, "phq9-1"));
    assert_null(strstr(f->err.msg, "LA9999"));
    assert_int_equal(responses_stored(f), 0);
    assert_int_equal(count_action(f, "questionnaire.submit"), 0);
    /* The link still works. */
    a[0].s = LEVELS[0];
    OK(f, cu_qlink_submit(f->v, token, strlen(token), a, 9, NULL, &r, &f->err));
    assert_int_equal(responses_stored(f), 1);
}

static void test_tampered_link(void **state)
{
    fx *f = *state;
    char token[CU_TOKEN_STRLEN];
    issue(f, &f->alice, f->subj, 1, token);
    /* An insider extends the link, or moves it to another subject. */
    raw_exec(f, "UPDATE questionnaire_links SET expires_at = expires_at + 86400000000");
    cu_qlink_info info;
    cu_questionnaire *q = NULL;
    FAILS(f, CU_ETAMPER, cu_qlink_peek(f->v, token, strlen(token), &info, &q, &f->err));
    assert_null(q);
    cu_q_answer a[9];
    const int w[9] = {0};
    cu_response_result r;
    FAILS(f, CU_ETAMPER, cu_qlink_submit(f->v, token, strlen(token), a, phq9(a, w, 9), NULL, &r,
                                         &f->err));
    int64_t rows = 0, bad = 0;
    int links_bad = 0;
    FAILS(f, CU_ETAMPER, cu_integrity_verify(f->v, note_bad, &links_bad, &rows, &bad, &f->err));
    assert_int_equal(bad, 1);
    assert_int_equal(links_bad, 1);
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE questionnaire_links SET expires_at = expires_at - "
                              "86400000000, subject_id = '%s'", f->other);
    raw_exec(f, sql);
    FAILS(f, CU_ETAMPER, cu_qlink_peek(f->v, token, strlen(token), &info, &q, &f->err));
    assert_int_equal(responses_stored(f), 0);
}

typedef struct seen {
    int n;
    cu_response_view last;
} seen;

static int see(void *ctx, const cu_response_view *r)
{
    seen *s = ctx;
    s->n++;
    s->last = *r;
    s->last.document = NULL;
    assert_non_null(strstr(r->document, "\"resourceType\":\"QuestionnaireResponse\""));
    return 0;
}

static void test_list(void **state)
{
    fx *f = *state;
    cu_q_answer a[9];
    const int w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 2};
    cu_response_result r;
    OK(f, cu_response_enter(f->v, &f->alice, f->subj, PHQ9, NULL, NULL, a, phq9(a, w, 9), NULL,
                            &r, &f->err));
    seen s = {0};
    OK(f, cu_response_list(f->v, &f->alice, f->subj, see, &s, &f->err));
    assert_int_equal(s.n, 1);
    assert_string_equal(s.last.id, r.id);
    assert_string_equal(s.last.url, PHQ9);
    assert_string_equal(s.last.version, "1");
    assert_string_equal(s.last.via, "staff");
    assert_true(s.last.complete && s.last.has_total);
    assert_int_equal(s.last.total, 10);
    assert_string_equal(s.last.band, "moderate");
    assert_int_equal(s.last.nflags, 1);
    assert_string_equal(s.last.flags[0].rule, "phq9-item9");
    assert_int_equal(count_action(f, "questionnaire.responses"), 1);
    /* The same from the items of a subject read, with no event of its own. */
    cu_subject_view sv;
    OK(f, cu_subject_get_page(f->v, &f->alice, f->subj, NULL, CU_ITEMS_PAGE_MAX, true, &sv,
                              &f->err));
    seen from = {0};
    OK(f, cu_response_views(&sv, see, &from, &f->err));
    cu_subject_view_release(&sv);
    assert_int_equal(from.n, 1);
    assert_string_equal(from.last.id, r.id);
    assert_string_equal(from.last.url, PHQ9);
    assert_string_equal(from.last.via, "staff");
    assert_int_equal(from.last.total, 10);
    assert_string_equal(from.last.band, "moderate");
    assert_int_equal(from.last.nflags, 1);
    assert_int_equal(from.last.authored, s.last.authored);
    assert_int_equal(count_action(f, "questionnaire.responses"), 1);
    /* Off the list, a care administrator, another subject's staff: refused. */
    FAILS(f, CU_EDENIED, cu_response_list(f->v, &f->bob, f->subj, see, &s, &f->err));
    FAILS(f, CU_EDENIED, cu_response_list(f->v, &f->cara, f->subj, see, &s, &f->err));
    FAILS(f, CU_EDENIED, cu_response_enter(f->v, &f->bob, f->subj, PHQ9, NULL, NULL, a, 9, NULL,
                                           &r, &f->err));
    FAILS(f, CU_EDENIED, cu_response_enter(f->v, &f->cara, f->subj, PHQ9, NULL, NULL, a, 9,
                                           NULL, &r, &f->err));
    assert_int_equal(s.n, 1);
    assert_int_equal(responses_stored(f), 1);
}

/* The stored document is canonical: exactly what jansson writes for it
 * (compact, keys sorted, ASCII only, reals at 17 digits), whatever the
 * questionnaire's text and the answers hold. */
static const char ODD_Q[] =
    "{\"resourceType\":\"Questionnaire\",\"url\":\"urn:custos:questionnaire:odd\","
    "\"version\":\"1\",\"status\":\"active\",\"item\":["
    "{\"linkId\":\"g\",\"type\":\"group\",\"text\":\"Caf\\u00e9 \\\"quoted\\\" \\\\ "
    "\\u2028 \\ud83d\\ude00 </b>\",\"item\":["
    "{\"linkId\":\"n\",\"type\":\"integer\",\"text\":\"How many\"},"
    "{\"linkId\":\"d\",\"type\":\"decimal\"},"
    "{\"linkId\":\"unanswered\",\"type\":\"string\"},"
    "{\"linkId\":\"empty\",\"type\":\"group\",\"item\":[{\"linkId\":\"e1\",\"type\":\"string\"}]}"
    "]},"
    "{\"linkId\":\"s\",\"type\":\"string\",\"text\":\"\\u00a0nbsp\"},"
    "{\"linkId\":\"b\",\"type\":\"boolean\"},"
    "{\"linkId\":\"t\",\"type\":\"date\"},"
    "{\"linkId\":\"c\",\"type\":\"choice\",\"answerOption\":["
    "{\"valueCoding\":{\"system\":\"urn:x\",\"code\":\"y\",\"display\":\"Y\\u00ff\"}}]}]}";

static void check_canonical(const cu_response_view *r)
{
    json_error_t je;
    json_t *d = json_loadb(r->document, r->document_len, 0, &je);
    CHECK(d != NULL, "the stored document does not parse: %s", je.text);
    char *again = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
                                    JSON_REAL_PRECISION(17));
    json_decref(d);
    assert_non_null(again);
    assert_int_equal(strlen(again), r->document_len);
    assert_memory_equal(again, r->document, r->document_len);
    free(again);
}

typedef struct docs {
    int n;
    char last[4096];
} docs;

static int keep_doc(void *ctx, const cu_response_view *r)
{
    docs *d = ctx;
    check_canonical(r);
    d->n++;
    assert_true(r->document_len < sizeof d->last);
    memcpy(d->last, r->document, r->document_len);
    d->last[r->document_len] = '\0';
    return 0;
}

static void test_document_canonical(void **state)
{
    fx *f = *state;
    cu_questionnaire_info info;
    bool added;
    OK(f, cu_questionnaire_add(f->v, &OPERATOR, ODD_Q, strlen(ODD_Q), &info, &added, &f->err));
    const double reals[] = {0.1, 1e300, -2.5e-300, 3.0, 1e21, 123456789012345678.0, -0.0};
    docs d = {0};
    for (size_t k = 0; k < sizeof reals / sizeof reals[0]; k++) {
        cu_q_answer a[] = {
            {.link_id = "n", .kind = CU_QV_INT, .i = INT64_MIN + (int64_t)k},
            {.link_id = "d", .kind = CU_QV_DECIMAL, .d = reals[k]},
            {.link_id = "s", .kind = CU_QV_STRING,
             .s = "\xc3\xa9\"\\\t\x01\x1f/\x7f \xe2\x80\xa8 \xf0\x9f\x98\x80 \xef\xbf\xbf"},
            {.link_id = "b", .kind = CU_QV_BOOL, .b = k % 2 == 0},
            {.link_id = "t", .kind = CU_QV_STRING, .s = "2026-12-07"},
            {.link_id = "c", .kind = CU_QV_CODE, .s = "y"},
        };
        cu_response_result r;
        OK(f, cu_response_enter(f->v, &f->alice, f->subj, "urn:custos:questionnaire:odd", "1",
                                NULL, a, sizeof a / sizeof a[0], &(int64_t){-7}, &r, &f->err));
    }
    /* and PHQ-9, scored and flagged */
    cu_q_answer p[9];
    const int w[9] = {1, 2, 3, 1, 2, 3, 1, 2, 3};
    cu_response_result r;
    OK(f, cu_response_enter(f->v, &f->alice, f->subj, PHQ9, NULL, NULL, p, phq9(p, w, 9), NULL,
                            &r, &f->err));
    OK(f, cu_response_list(f->v, &f->alice, f->subj, keep_doc, &d, &f->err));
    assert_int_equal(d.n, 8);
    assert_non_null(strstr(d.last, "\"url\":\"flag\""));
    /* Only what was answered: no empty group, no unanswered item. */
    docs one = {0};
    cu_q_answer only[] = {{.link_id = "b", .kind = CU_QV_BOOL, .b = true}};
    OK(f, cu_care_set(f->v, &OPERATOR, "alice", f->other, true, &f->err));
    OK(f, cu_response_enter(f->v, &f->alice, f->other, "urn:custos:questionnaire:odd", "1",
                            "direct_care", only, 1, NULL, &r, &f->err));
    OK(f, cu_response_list(f->v, &f->alice, f->other, keep_doc, &one, &f->err));
    assert_int_equal(one.n, 1);
    assert_null(strstr(one.last, "\"linkId\":\"g\""));
    assert_null(strstr(one.last, "unanswered"));
    assert_non_null(strstr(one.last, "\"item\":[{\"answer\":[{\"valueBoolean\":true}],"
                                     "\"linkId\":\"b\"}]"));
    /* Nothing answered: no item member at all. */
    OK(f, cu_response_enter(f->v, &f->alice, f->other, "urn:custos:questionnaire:odd", "1",
                            "direct_care", only, 0, NULL, &r, &f->err));
    one.n = 0;
    OK(f, cu_response_list(f->v, &f->alice, f->other, keep_doc, &one, &f->err));
    assert_int_equal(one.n, 2);
}

/* Parsed questionnaires are kept between submissions, but every load reads
 * the row again: a definition changed in the database (its document, or its
 * hash with it) is refused at once, and accepted again once put back. */
static void test_cached_questionnaire_tampered(void **state)
{
    fx *f = *state;
    cu_q_answer a[9];
    const int w[9] = {0};
    cu_response_result r;
    OK(f, cu_response_enter(f->v, &f->alice, f->subj, PHQ9, NULL, NULL, a, phq9(a, w, 9), NULL,
                            &r, &f->err));
    /* the same length, one letter changed */
    raw_exec(f, "UPDATE questionnaires SET document = CAST(replace(CAST(document AS TEXT), "
                "'Little interest', 'Little Interest') AS BLOB) WHERE url LIKE '%phq-9'");
    assert_int_equal(raw_int(f, "SELECT count(*) FROM questionnaires WHERE instr(CAST(document "
                                "AS TEXT), 'Little Interest') > 0"),
                     1);
    FAILS(f, CU_ETAMPER, cu_response_enter(f->v, &f->alice, f->subj, PHQ9, NULL, NULL, a, 9,
                                           NULL, &r, &f->err));
    CHECK(strstr(f->err.msg, "has been altered"), "message: %s", f->err.msg);
    char token[CU_TOKEN_STRLEN];
    cu_qlink_info info;
    FAILS(f, CU_ETAMPER, cu_qlink_issue(f->v, &f->alice, f->subj, PHQ9, NULL, "direct_care", 0,
                                        token, &info, &f->err));
    /* the hash changed too: the row's code does not match it */
    raw_exec(f, "CREATE TABLE kept AS SELECT hash FROM questionnaires WHERE url LIKE '%phq-9'");
    raw_exec(f, "UPDATE questionnaires SET hash = zeroblob(32) WHERE url LIKE '%phq-9'");
    FAILS(f, CU_ETAMPER, cu_response_enter(f->v, &f->alice, f->subj, PHQ9, NULL, NULL, a, 9,
                                           NULL, &r, &f->err));
    assert_int_equal(responses_stored(f), 1);
    /* Put back (document and hash), it is accepted again. */
    raw_exec(f, "UPDATE questionnaires SET document = CAST(replace(CAST(document AS TEXT), "
                "'Little Interest', 'Little interest') AS BLOB) WHERE url LIKE '%phq-9'");
    FAILS(f, CU_ETAMPER, cu_response_enter(f->v, &f->alice, f->subj, PHQ9, NULL, NULL, a, 9,
                                           NULL, &r, &f->err));
    raw_exec(f, "UPDATE questionnaires SET hash = (SELECT hash FROM kept) WHERE url LIKE "
                "'%phq-9'; DROP TABLE kept");
    OK(f, cu_response_enter(f->v, &f->alice, f->subj, PHQ9, NULL, NULL, a, 9, NULL, &r,
                            &f->err));
    assert_int_equal(responses_stored(f), 2);
}

/* Submitting with the questionnaire the peek returned: scored against it when
 * the link names it; a questionnaire the link does not name is not used (the
 * link's own is loaded), and the link is used once either way. */
static void test_submit_peeked(void **state)
{
    fx *f = *state;
    char t1[CU_TOKEN_STRLEN], t2[CU_TOKEN_STRLEN];
    issue(f, &f->alice, f->subj, 0, t1);
    issue(f, &f->alice, f->subj, 0, t2);
    cu_qlink_info info;
    cu_questionnaire *q = NULL;
    OK(f, cu_qlink_peek(f->v, t1, strlen(t1), &info, &q, &f->err));
    cu_q_answer a[9];
    const int w[9] = {3, 3, 3, 3, 3, 3, 3, 3, 1};
    cu_response_result r;
    OK(f, cu_qlink_submit_peeked(f->v, t1, strlen(t1), q, NULL, a, phq9(a, w, 9), NULL, &r,
                                 &f->err));
    assert_int_equal(r.total, 25);
    assert_string_equal(r.band, "severe");
    FAILS(f, CU_ECONFLICT, cu_qlink_submit_peeked(f->v, t1, strlen(t1), q, NULL, a, 9, NULL,
                                                  &r, &f->err));
    cu_questionnaire_free(q);
    /* another questionnaire handed in: the link's own scores the answers */
    cu_questionnaire *other = NULL;
    OK(f, cu_questionnaire_load(f->v, "urn:custos:questionnaire:psfu-example", NULL, &other,
                                &f->err));
    OK(f, cu_qlink_submit_peeked(f->v, t2, strlen(t2), other, NULL, a, 9, NULL, &r, &f->err));
    assert_int_equal(r.total, 25);
    cu_questionnaire_free(other);
    assert_int_equal(responses_stored(f), 2);
}

int main(void)
{
    if (cu_crypto_init())
        return 1;
    cu_input_init();
    /* One group (one TAP plan): the parser's tests need no store. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test_setup_teardown(test_issue_peek_submit_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_by_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restricted_subject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incomplete_and_disagreeing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scoring_error_keeps_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test(test_decode),
        cmocka_unit_test_setup_teardown(test_document_canonical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_peeked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_portal_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cached_questionnaire_tampered, setup, teardown),
    };
    return cmocka_run_group_tests_name("responses", tests, NULL, NULL);
}
