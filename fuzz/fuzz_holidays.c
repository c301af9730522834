/*
 * fuzz_holidays.c — cu_holidays_parse (src/domain/deadline.h) on arbitrary
 * bytes, then the calendar it yields put to work.
 *
 * On success the calendar must be a non-empty, strictly ascending set of real
 * dates holding exactly the distinct dates of the "england-and-wales" events
 * (read again here with jansson), with first_year/last_year those of its ends;
 * working-day and deadline arithmetic over it must land on working days. On
 * failure the error must be CU_EINVAL/CU_ENOMEM with a one-line printable
 * message and nothing left owned.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "domain/deadline.h"
#include "fuzz.h"
#include "util/clock.h"

static void check_error(int rc, const cu_err *err, const cu_holidays *h)
{
    CHECK(rc == CU_EINVAL || rc == CU_ENOMEM);
    CHECK(err->code == (cu_status)rc);
    size_t n = strnlen(err->msg, sizeof err->msg);
    CHECK(n > 0 && n < sizeof err->msg);
    for (size_t i = 0; i < n; i++)
        CHECK(err->msg[i] >= 0x20 && err->msg[i] < 0x7f);
    CHECK(h->days == NULL && h->n == 0);
}

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every event date is in the calendar, and nothing else is. */
static void check_accounting(const uint8_t *data, size_t size, const cu_holidays *h)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    CHECK(json_is_object(root));
    json_t *events = json_object_get(json_object_get(root, "england-and-wales"), "events");
    size_t n = json_array_size(events);
    CHECK(n >= 1 && n <= CU_HOLIDAYS_MAX_EVENTS && h->n <= n);
    bool *hit = calloc(h->n, sizeof *hit);
    CHECK(hit != NULL);
    for (size_t i = 0; i < n; i++) {
        json_t *date = json_object_get(json_array_get(events, i), "date");
        cu_date d;
        CHECK(cu_date_parse(json_string_value(date), json_string_length(date), &d));
        CHECK(cu_is_bank_holiday(d, h));
        int64_t day = cu_date_to_days(d);
        const int64_t *at = bsearch(&day, h->days, h->n, sizeof *h->days, cmp_day);
        CHECK(at != NULL);
        hit[at - h->days] = true;
    }
    for (size_t k = 0; k < h->n; k++)
        CHECK(hit[k]);
    free(hit);
    json_decref(root);
}

static void check_calendar(const cu_holidays *h)
{
    CHECK(h->n >= 1 && h->n <= CU_HOLIDAYS_MAX_EVENTS && h->days != NULL);
    for (size_t i = 0; i < h->n; i++) {
        cu_date d = cu_date_of_days(h->days[i]);
        CHECK(cu_date_valid(d));
        CHECK(cu_date_to_days(d) == h->days[i]);
        CHECK(i == 0 || h->days[i - 1] < h->days[i]);
        CHECK(cu_is_bank_holiday(d, h) && !cu_is_working_day(d, h));
        CHECK(cu_holidays_covers(h, d.year));
    }
    CHECK(h->first_year == cu_date_of_days(h->days[0]).year);
    CHECK(h->last_year == cu_date_of_days(h->days[h->n - 1]).year);
    CHECK(!cu_holidays_covers(h, h->first_year - 1) && !cu_holidays_covers(h, h->last_year + 1));

    /* Put it to work around its first, middle and last holidays. */
    size_t picks[3] = {0, h->n / 2, h->n - 1};
    for (size_t p = 0; p < 3; p++) {
        cu_date d = cu_date_of_days(h->days[picks[p]]);
        cu_date next = cu_next_working_day(d, h);
        CHECK(cu_date_cmp(next, d) > 0 && cu_is_working_day(next, h));
        /* Nothing between d and next is a working day. */
        for (int64_t x = cu_date_to_days(d) + 1; x < cu_date_to_days(next); x++)
            CHECK(!cu_is_working_day(cu_date_of_days(x), h));
        CHECK(cu_date_cmp(cu_working_day_on_or_after(d, h), next) == 0);
        if (d.year > 9998)
            continue; /* a deadline would run past 9999 */
        cu_pause pause = {d, cu_date_of_days(cu_date_to_days(d) + 3)};
        cu_clock c = {.received_on = d, .pauses = &pause, .npauses = 1, .extended = p == 1};
        cu_deadline out;
        cu_err err;
        cu_err_clear(&err);
        CHECK(cu_deadline_compute(&c, h, d, &out, &err) == CU_OK);
        CHECK(cu_is_working_day(out.due, h) && cu_is_working_day(out.due_one_month, h));
        CHECK(cu_date_cmp(out.due_one_month, out.due_extended) < 0);
        CHECK(out.paused_days == 3 && out.days_left > 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cu_holidays h;
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_holidays_parse((const char *)data, size, &h, &err);
    if (rc == CU_OK) {
        CHECK(err.code == CU_OK);
        check_calendar(&h);
        check_accounting(data, size, &h);
        cu_holidays_release(&h);
        CHECK(h.days == NULL && h.n == 0);
    } else {
        check_error(rc, &err, &h);
    }
    return 0;
}
