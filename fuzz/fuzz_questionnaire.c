/*
 * fuzz_questionnaire.c — cu_questionnaire_parse and cu_questionnaire_score
 * (src/domain/questionnaire.h) on arbitrary bytes.
 *
 * On failure the error is CU_EINVAL or CU_ENOMEM with a one-line message and
 * nothing is returned. On success the model keeps its invariants (linkIds
 * unique and bounded, conditions naming earlier answerable items, scored
 * items required choices with weights, bands covering min..max in order),
 * the canonical form parses again to the same canonical form, and scoring
 * answers picked from the input bytes either is refused (CU_EINVAL) or gives
 * a result that is consistent: a total only when complete, within min..max
 * and in its band, flags no more than the rules.
 */
#include <stdbool.h>
#include <string.h>

#include "domain/questionnaire.h"
#include "fuzz.h"

static void one_line(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    CHECK(n > 0 && n < cap);
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void check_model(const cu_questionnaire *q)
{
    CHECK(q->url && q->version && q->status);
    CHECK(q->nitems >= 1 && q->nitems <= CU_Q_MAX_ITEMS);
    for (size_t i = 0; i < q->nitems; i++) {
        const cu_q_item *it = &q->items[i];
        CHECK(it->link_id && strlen(it->link_id) >= 1 && strlen(it->link_id) <= CU_Q_MAX_LINKID);
        CHECK(cu_questionnaire_find(q, it->link_id) == i);
        CHECK(it->parent == SIZE_MAX || (it->parent < i && q->items[it->parent].type == CU_QT_GROUP));
        CHECK((it->type == CU_QT_CHOICE) == (it->noptions > 0));
        CHECK(it->noptions <= CU_Q_MAX_OPTIONS && it->nwhen <= CU_Q_MAX_WHEN);
        for (size_t k = 0; k < it->noptions; k++) {
            CHECK(it->options[k].code && *it->options[k].code);
            CHECK(!it->options[k].weighted ||
                  (it->options[k].weight >= 0 && it->options[k].weight <= CU_Q_MAX_WEIGHT));
        }
        for (size_t k = 0; k < it->nwhen; k++) {
            size_t qi = it->when[k].question;
            CHECK(qi < i);
            CHECK(q->items[qi].type != CU_QT_GROUP && q->items[qi].type != CU_QT_DISPLAY);
        }
        if (it->scored) {
            CHECK(it->type == CU_QT_CHOICE && it->required && it->nwhen == 0);
            for (size_t k = 0; k < it->noptions; k++)
                CHECK(it->options[k].weighted);
        }
    }
    if (q->scored) {
        CHECK(q->score_code && q->nbands >= 1 && q->nbands <= CU_Q_MAX_BANDS);
        CHECK(q->bands[0].low == q->score_min && q->bands[q->nbands - 1].high == q->score_max);
        for (size_t b = 0; b < q->nbands; b++) {
            CHECK(q->bands[b].low <= q->bands[b].high && q->bands[b].code);
            if (b)
                CHECK(q->bands[b].low == q->bands[b - 1].high + 1);
        }
    } else {
        CHECK(q->nbands == 0);
    }
    CHECK(q->nrules <= CU_Q_MAX_RULES);
    for (size_t r = 0; r < q->nrules; r++) {
        const cu_q_rule *ru = &q->rules[r];
        CHECK(ru->id && ru->level);
        if (ru->kind != CU_QR_SCORE_AT_LEAST)
            CHECK(ru->item < q->nitems && q->items[ru->item].type == CU_QT_CHOICE);
        else
            CHECK(q->scored);
    }
}

/* Answers picked by the input's bytes: for each answerable item, one byte
 * says whether to answer it and with what. */
static void check_scoring(const cu_questionnaire *q, const uint8_t *data, size_t size)
{
    static cu_q_answer a[CU_Q_MAX_ITEMS];
    size_t n = 0;
    for (size_t i = 0; i < q->nitems; i++) {
        const cu_q_item *it = &q->items[i];
        uint8_t b = size ? data[(i * 7) % size] : 0;
        if (b & 1)
            continue;
        cu_q_answer x = {.link_id = it->link_id};
        switch (it->type) {
        case CU_QT_CHOICE:
            x.kind = CU_QV_CODE;
            x.s = it->options[(b >> 1) % it->noptions].code;
            break;
        case CU_QT_INTEGER: x.kind = CU_QV_INT; x.i = (int64_t)(b >> 1) - 32; break;
        case CU_QT_DECIMAL: x.kind = CU_QV_DECIMAL; x.d = (double)b / 4; break;
        case CU_QT_BOOLEAN: x.kind = CU_QV_BOOL; x.b = b & 2; break;
        case CU_QT_STRING:
        case CU_QT_TEXT:
        case CU_QT_DATE: x.kind = CU_QV_STRING; x.s = (b & 2) ? "yes" : "no"; break;
        default: x.kind = CU_QV_STRING; x.s = "x"; break;
        }
        a[n++] = x;
    }
    int64_t claimed = size ? data[0] : 0;
    cu_q_result r;
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_questionnaire_score(q, a, n, &claimed, &r, &err);
    if (rc) {
        CHECK(rc == CU_EINVAL && err.code == CU_EINVAL);
        one_line(err.msg, sizeof err.msg);
        return;
    }
    CHECK(!r.has_total || (r.complete && q->scored));
    CHECK(r.complete || r.missing);
    if (r.has_total) {
        CHECK(r.total >= q->score_min && r.total <= q->score_max);
        CHECK(r.band && r.band->low <= r.total && r.total <= r.band->high);
        CHECK(r.total_disagrees == (r.total != claimed));
    } else {
        CHECK(!r.band && r.total_disagrees);
    }
    CHECK(r.nflags <= q->nrules);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cu_questionnaire *q = (cu_questionnaire *)&q; /* must be set to NULL or a model */
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_questionnaire_parse(data, size, &q, &err);
    if (rc) {
        CHECK(rc == CU_EINVAL || rc == CU_ENOMEM);
        CHECK(err.code == (cu_status)rc);
        one_line(err.msg, sizeof err.msg);
        CHECK(q == NULL);
        return 0;
    }
    CHECK(q != NULL && err.code == CU_OK);
    check_model(q);
    check_scoring(q, data, size);
    /* The canonical form parses, and is its own canonical form. */
    cu_buf c1, c2;
    cu_buf_init(&c1, CU_Q_MAX_BYTES * 4);
    cu_buf_init(&c2, CU_Q_MAX_BYTES * 4);
    CHECK(cu_questionnaire_canonical(q, &c1, &err) == CU_OK);
    cu_questionnaire *q2 = NULL;
    rc = cu_questionnaire_parse(c1.data, c1.len, &q2, &err);
    CHECK(rc == CU_OK || (rc == CU_EINVAL && c1.len > CU_Q_MAX_BYTES));
    if (rc == CU_OK) {
        CHECK(cu_questionnaire_canonical(q2, &c2, &err) == CU_OK);
        CHECK(c1.len == c2.len && memcmp(c1.data, c2.data, c1.len) == 0);
        CHECK(q2->nitems == q->nitems && q2->nrules == q->nrules && q2->nbands == q->nbands);
    }
    cu_questionnaire_free(q2);
    cu_buf_release(&c1);
    cu_buf_release(&c2);
    cu_questionnaire_free(q);
    return 0;
}
