/*
 * fuzz_http.c — the HTTP API's request router and body parsers.
 *
 * Request bodies fuzzed here include the rights-request ones (receive and
 * transition).
 *
 * Input: one byte choosing the method, the path up to the first '\n', and the
 * rest as the request body. The path goes through cu_route; the body through
 * the parser of the route it matched and through every other body parser too.
 * Invariants: a match names a real route with the right method and valid
 * parameters; a refused body has a one-line message; an accepted body is
 * within its caps (access-package requests: valid item ids and reasons of
 * 1-1000 bytes of text; disclosures: exactly one recipient, a basis a-f,
 * valid item ids, something disclosed).
 */
#include <string.h>

#include "crypto/crypto.h"
#include "domain/input.h"
#include "domain/model.h"
#include "fuzz.h"
#include "http/body.h"
#include "http/router.h"

static void check_err(const cu_err *err)
{
    CHECK(err->msg[0] != '\0');
    CHECK(strchr(err->msg, '\n') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        CHECK(cu_crypto_init() == CU_OK);
        cu_input_init();
        ready = 1;
    }
    if (size < 1)
        return 0;
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
    const char *method = methods[data[0] % 6];
    data++;
    size--;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    char path[CU_PATH_MAX + 64];
    if (plen >= sizeof path)
        plen = sizeof path - 1;
    memcpy(path, data, plen);
    path[plen] = '\0';
    const uint8_t *body = nl ? nl + 1 : data + size;
    size_t blen = nl ? size - plen - 1 : 0;

    cu_route_match m;
    cu_route(method, path, &m);
    if (m.id != CU_R_NONE) {
        const cu_route_def *d = cu_route_get(m.id);
        CHECK(d != NULL);
        CHECK(strcmp(d->method, method) == 0);
        CHECK(!m.method_mismatch);
        CHECK(m.subject[0] == '\0' || cu_id_valid(m.subject) || cu_pseudonym_valid(m.subject));
        CHECK(m.user[0] == '\0' || cu_name_valid(m.user));
        CHECK(m.purpose[0] == '\0' || cu_name_valid(m.purpose));
        CHECK(m.token[0] == '\0' || strncmp(m.token, "cuu_", 4) == 0);
        CHECK(strstr(path, "..") == NULL);
    } else if (m.method_mismatch) {
        CHECK(m.allow[0] != '\0');
    }

    cu_err err = {0};
    cu_signin_body s;
    if (cu_body_signin(body, blen, &s, &err) == CU_OK) {
        CHECK(s.username[0] && s.password_len > 0 && s.password_len < sizeof s.password);
        CHECK(strlen(s.code) < sizeof s.code);
    } else {
        check_err(&err);
    }
    cu_err_clear(&err);
    cu_search_body q;
    if (cu_body_search(body, blen, &q, &err) == CU_OK)
        CHECK(q.field != NULL && q.value_len > 0 && q.value_len < sizeof q.value);
    else
        check_err(&err);
    cu_err_clear(&err);
    cu_break_glass_body g;
    if (cu_body_break_glass(body, blen, &g, &err) == CU_OK)
        CHECK(g.reason_len > 0 && g.minutes >= 1 && g.minutes <= 240);
    else
        check_err(&err);
    cu_err_clear(&err);
    cu_consent_body cb;
    if (cu_body_consent(body, blen, &cb, &err) == CU_OK)
        CHECK(cu_name_valid(cb.purpose) && cb.method[0] &&
              cb.evidence_len < sizeof cb.evidence && strlen(cb.evidence) == cb.evidence_len);
    else
        check_err(&err);
    cu_err_clear(&err);
    cu_purpose_body pb;
    if (cu_body_purpose(body, blen, &pb, &err) == CU_OK)
        CHECK(cu_name_valid(pb.purpose));
    else
        check_err(&err);
    cu_err_clear(&err);
    cu_request_body rb;
    if (cu_body_request(body, blen, &rb, &err) == CU_OK)
        CHECK(rb.kind[0] && rb.channel[0] && rb.received_on[0] && rb.details_len > 0 &&
              rb.details_len < sizeof rb.details && strlen(rb.details) == rb.details_len &&
              (!rb.purpose[0] || strcmp(rb.purpose, "all") == 0 || cu_name_valid(rb.purpose)));
    else
        check_err(&err);
    cu_err_clear(&err);
    cu_request_change_body rc;
    if (cu_body_request_change(body, blen, &rc, &err) == CU_OK)
        CHECK(rc.action[0] && rc.why_len > 0 && rc.why_len < sizeof rc.why &&
              strlen(rc.why) == rc.why_len && (!rc.subject[0] || cu_id_valid(rc.subject)));
    cu_erasure_body eb;
    if (cu_body_erasure(body, blen, &eb, &err) == CU_OK)
        CHECK(eb.treatment_ended >= 0 && eb.died >= 0 &&
              (eb.approve_health[0] == '\0' || strlen(eb.approve_health) == 16));
    else
        check_err(&err);
    static cu_sar_body sb;
    if (cu_body_sar(body, blen, &sb, &err) == CU_OK) {
        CHECK(strcmp(sb.format, "json") == 0 || strcmp(sb.format, "html") == 0 ||
              strcmp(sb.format, "fhir") == 0);
        CHECK(sb.nwithhold <= CU_BODY_MAX_WITHHOLD);
        for (size_t i = 0; i < sb.nwithhold; i++) {
            CHECK(cu_id_valid(sb.item[i]));
            size_t n = strlen(sb.reason[i]);
            CHECK(n >= 1 && n <= 1000);
            for (size_t k = 0; k < n; k++)
                CHECK((unsigned char)sb.reason[i][k] >= 0x20 && sb.reason[i][k] != 0x7f);
        }
    } else {
        check_err(&err);
    }
    cu_err_clear(&err);
    cu_disclosure_body db;
    if (cu_body_disclosure(body, blen, &db, &err) == CU_OK) {
        CHECK(!db.recipient_id[0] != !db.organisation[0]);
        CHECK(db.recipient_id[0] == '\0' || cu_name_valid(db.recipient_id));
        CHECK(strlen(db.organisation) <= 200 && strlen(db.note) <= 2000);
        CHECK(db.basis >= 'a' && db.basis <= 'f');
        CHECK(db.channel[0] != '\0');
        CHECK(db.nitems > 0 || db.categories != 0);
        CHECK(db.nitems <= CU_BODY_MAX_DISCLOSED_ITEMS);
        for (size_t i = 0; i < db.nitems; i++)
            CHECK(cu_id_valid(db.items[i]));
        cu_body_disclosure_release(&db);
    } else {
        check_err(&err);
        CHECK(db.items == NULL);
    }
    if (m.id == CU_R_SUBJECT_CREATE || m.id == CU_R_ITEMS_CREATE || m.id == CU_R_SUBJECT_PATCH) {
        cu_doc doc;
        cu_err_clear(&err);
        if (cu_doc_parse(body, blen, m.id == CU_R_SUBJECT_PATCH ? CU_DOC_RECTIFY : CU_DOC_SUBJECT,
                         &doc, &err) == CU_OK) {
            CHECK(doc.n >= 1 && doc.n <= CU_MAX_VALUES);
            cu_doc_release(&doc);
        } else {
            check_err(&err);
        }
    }
    return 0;
}
