/*
 * fuzz_pathway.c — cu_pathway_parse and the schedule it gives
 * (src/domain/pathway.h) on arbitrary bytes.
 *
 * On failure the error is CU_EINVAL or CU_ENOMEM with a one-line message and
 * nothing is returned. On success the model keeps its invariants (ids and
 * strings bounded and plain, 1 to 64 offsets strictly increasing within
 * 1..runs_for, a window within bounds, review rules bounded with a level of
 * review or urgent, duration and discharge among the endings), due dates move
 * forward with the offsets from any start, and the canonical form parses
 * again to the same canonical form.
 */
#include <stdbool.h>
#include <string.h>

#include "domain/pathway.h"
#include "fuzz.h"

static void one_line(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    CHECK(n > 0 && n < cap);
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void check_model(const cu_pathway *p, const uint8_t *data, size_t size)
{
    CHECK(p->id[0] && strlen(p->id) <= CU_PW_MAX_ID);
    CHECK(p->version[0] && p->title[0] && p->start_event[0] && p->questionnaire_url[0]);
    CHECK(p->noffsets >= 1 && p->noffsets <= CU_PW_MAX_OCCURRENCES);
    for (size_t i = 0; i < p->noffsets; i++) {
        CHECK(p->offsets[i] >= 1 && p->offsets[i] <= p->runs_for);
        if (i)
            CHECK(p->offsets[i] > p->offsets[i - 1]);
    }
    CHECK(p->runs_for >= 1 && p->runs_for <= CU_PW_MAX_DAYS);
    CHECK(p->window >= 0 && p->window <= CU_PW_MAX_WINDOW);
    CHECK(p->nreviews <= CU_PW_MAX_REVIEWS);
    for (size_t i = 0; i < p->nreviews; i++) {
        CHECK(p->reviews[i].id[0] && p->reviews[i].score[0]);
        CHECK(strcmp(p->reviews[i].level, "review") == 0 ||
              strcmp(p->reviews[i].level, "urgent") == 0);
        CHECK(p->reviews[i].at_least >= 0 && p->reviews[i].at_least <= CU_PW_MAX_SCORE);
    }
    CHECK((p->ends & (CU_PW_END_DURATION | CU_PW_END_DISCHARGE)) ==
          (CU_PW_END_DURATION | CU_PW_END_DISCHARGE));
    /* Due dates from a start the input picks, across the calendar. */
    int64_t base = 10000 + (size ? (int64_t)data[size - 1] * 97 : 0);
    cu_date start = cu_date_of_days(base);
    int64_t prev = base;
    for (size_t i = 0; i < p->noffsets; i++) {
        cu_date d = cu_pathway_due_date(p, start, i);
        CHECK(cu_date_valid(d));
        int64_t days = cu_date_to_days(d);
        CHECK(days == base + p->offsets[i] && days > prev);
        prev = days;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cu_pathway *p = (cu_pathway *)&p; /* must be set to NULL or a model */
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_pathway_parse(data, size, &p, &err);
    if (rc) {
        CHECK(rc == CU_EINVAL || rc == CU_ENOMEM);
        CHECK(err.code == (cu_status)rc);
        one_line(err.msg, sizeof err.msg);
        CHECK(p == NULL);
        return 0;
    }
    CHECK(p != NULL && err.code == CU_OK);
    check_model(p, data, size);
    cu_pathway *q = NULL;
    rc = cu_pathway_parse(p->canonical, p->canonical_len, &q, &err);
    CHECK(rc == CU_OK || (rc == CU_EINVAL && p->canonical_len > CU_PW_MAX_BYTES));
    if (rc == CU_OK) {
        CHECK(q->canonical_len == p->canonical_len &&
              memcmp(q->canonical, p->canonical, p->canonical_len) == 0);
        CHECK(q->noffsets == p->noffsets && q->nreviews == p->nreviews && q->ends == p->ends);
    }
    cu_pathway_free(q);
    cu_pathway_free(p);
    return 0;
}
