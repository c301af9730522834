/*
 * test_deadline.c — the statutory clock of a rights request and the bank-
 * holiday calendar: a table of deadlines worked out by hand, the GOV.UK
 * parser and its every refusal, and the shipped data/bank-holidays.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/deadline.h"
#include "util/clock.h"

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

/* ------------------------------------------------------------ helpers ---- */

static cu_date D(const char *s)
{
    cu_date d;
    CHECK(cu_date_parse(s, strlen(s), &d), "bad date in test: %s", s);
    return d;
}

static const char *fmt(cu_date d, char buf[16])
{
    snprintf(buf, 16, "%04d-%02d-%02d", d.year, d.month, d.day);
    return buf;
}

/* The shipped calendar, data/bank-holidays.json of the source tree. */
static void load_shipped(cu_holidays *h)
{
    const char *root = getenv("CUSTOS_SOURCE_ROOT");
    if (!root || !*root)
        root = CUSTOS_SOURCE_ROOT;
    char path[4096];
    snprintf(path, sizeof path, "%s/data/bank-holidays.json", root);
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_holidays_load(path, h, &err);
    CHECK(rc == CU_OK, "loading %s: %s", path, err.msg);
}

static int calendar_setup(void **state)
{
    cu_holidays *h = calloc(1, sizeof *h);
    if (!h)
        return -1;
    load_shipped(h);
    *state = h;
    return 0;
}

static int calendar_teardown(void **state)
{
    cu_holidays_release(*state);
    free(*state);
    return 0;
}

/* ---------------------------------------------------- the deadline table ---- */

/*
 * Each expected date was worked out by hand from the rules in deadline.h and
 * the England and Wales calendar (weekdays from 2024-01-01, a Monday), then
 * checked with an independent computation (Python's datetime over the same
 * data file). pause[i] = {paused_on, resumed_on}; resumed_on NULL: still
 * paused on `today`. today defaults to the day of receipt.
 */
typedef struct dl_case {
    const char *received, *evidence;
    const char *pause[3][2];
    const char *today;
    bool extended;
    const char *due;
    int paused_days;
    bool beyond; /* worked out through a year the calendar does not cover */
    const char *why;
} dl_case;

static const dl_case cases[] = {
    /* The ICO's own examples. */
    {.received = "2024-09-03", .due = "2024-10-03", .why = "3 Sep -> 3 Oct (Thu)"},
    {.received = "2024-11-25", .due = "2024-12-27",
     .why = "Mon 25 Nov -> Wed 25 Dec, Thu 26 Dec holidays -> Fri 27"},
    {.received = "2024-01-01", .due = "2024-02-01",
     .why = "received on a bank holiday: still day 1 -> Thu 1 Feb"},
    /* Month ends: no corresponding date -> the month's last day. */
    {.received = "2023-01-31", .due = "2023-02-28", .why = "31 Jan -> Tue 28 Feb 2023"},
    {.received = "2024-01-31", .due = "2024-02-29", .why = "31 Jan -> Thu 29 Feb (leap)"},
    {.received = "2024-01-30", .due = "2024-02-29", .why = "30 Jan -> 29 Feb (leap)"},
    {.received = "2023-01-30", .due = "2023-02-28", .why = "30 Jan -> 28 Feb"},
    {.received = "2024-03-31", .due = "2024-04-30", .why = "Sun 31 Mar -> Tue 30 Apr"},
    {.received = "2024-02-29", .due = "2024-04-02",
     .why = "29 Feb -> 29 Mar Good Friday, 1 Apr Easter Monday -> Tue 2 Apr"},
    {.received = "2028-02-29", .due = "2028-03-29", .why = "29 Feb 2028 -> Wed 29 Mar"},
    {.received = "2028-01-31", .due = "2028-02-29", .why = "31 Jan 2028 -> Tue 29 Feb"},
    {.received = "2025-01-31", .due = "2025-02-28", .why = "31 Jan 2025 -> Fri 28 Feb"},
    {.received = "2026-01-31", .due = "2026-03-02",
     .why = "31 Jan 2026 -> Sat 28 Feb -> Mon 2 Mar"},
    {.received = "2100-01-31", .due = "2100-03-01", .beyond = true,
     .why = "2100 is not leap: Sun 28 Feb 2100 -> Mon 1 Mar, calendar silent"},
    {.received = "2000-01-31", .due = "2000-02-29", .beyond = true,
     .why = "2000 is leap (400): Tue 29 Feb 2000, calendar silent"},
    {.received = "2024-05-31", .due = "2024-07-01", .why = "31 May -> Sun 30 Jun -> Mon 1 Jul"},
    {.received = "2024-08-31", .due = "2024-09-30", .why = "31 Aug -> Mon 30 Sep"},
    {.received = "2024-10-31", .due = "2024-12-02", .why = "31 Oct -> Sat 30 Nov -> Mon 2 Dec"},
    {.received = "2024-12-31", .due = "2025-01-31", .why = "year boundary: Fri 31 Jan 2025"},
    /* Weekends. */
    {.received = "2024-06-08", .due = "2024-07-08", .why = "received Sat -> Mon 8 Jul"},
    {.received = "2024-06-06", .due = "2024-07-08", .why = "Sat 6 Jul -> Mon 8 Jul"},
    {.received = "2024-06-07", .due = "2024-07-08", .why = "Sun 7 Jul -> Mon 8 Jul"},
    /* Christmas, Boxing Day and New Year chains, with substitute days. */
    {.received = "2020-11-25", .due = "2020-12-29",
     .why = "Fri 25 Dec 2020, weekend, Mon 28 substitute Boxing Day -> Tue 29"},
    {.received = "2021-11-25", .due = "2021-12-29",
     .why = "Sat 25 Dec 2021, Sun, Mon 27 and Tue 28 substitutes -> Wed 29"},
    {.received = "2021-12-01", .due = "2022-01-04",
     .why = "Sat 1 Jan 2022, Sun, Mon 3 substitute -> Tue 4"},
    {.received = "2022-11-25", .due = "2022-12-28",
     .why = "Sun 25 Dec 2022, Mon 26 Boxing Day, Tue 27 substitute -> Wed 28"},
    {.received = "2022-11-24", .due = "2022-12-28",
     .why = "Sat 24 Dec 2022 and four days off -> Wed 28"},
    {.received = "2022-12-02", .due = "2023-01-03",
     .why = "lands on Mon 2 Jan 2023, the substitute New Year's Day -> Tue 3"},
    {.received = "2022-12-01", .due = "2023-01-03", .why = "Sun 1 Jan 2023 -> Tue 3"},
    {.received = "2026-11-26", .due = "2026-12-29",
     .why = "Sat 26 Dec 2026, Sun, Mon 28 substitute Boxing Day -> Tue 29"},
    {.received = "2027-11-25", .due = "2027-12-29",
     .why = "Sat 25 Dec 2027, Mon 27 and Tue 28 substitutes -> Wed 29"},
    {.received = "2027-11-30", .due = "2027-12-30",
     .why = "Thu 30 Dec 2027 is a working day between the holidays"},
    {.received = "2027-12-01", .due = "2028-01-04",
     .why = "Sat 1 Jan 2028, Mon 3 substitute (derived year) -> Tue 4"},
    /* Easter. */
    {.received = "2025-03-18", .due = "2025-04-22",
     .why = "Good Friday 18 Apr 2025, Easter Monday 21 -> Tue 22"},
    {.received = "2025-03-21", .due = "2025-04-22", .why = "Easter Monday 21 Apr 2025 -> Tue 22"},
    {.received = "2030-03-19", .due = "2030-04-23",
     .why = "Good Friday 19 Apr 2030 (derived) -> Tue 23"},
    /* One-off changes. */
    {.received = "2022-05-02", .due = "2022-06-06",
     .why = "Thu 2 Jun 2022 spring holiday, Fri 3 Jubilee -> Mon 6"},
    {.received = "2022-04-30", .due = "2022-05-30",
     .why = "Mon 30 May 2022 was a working day (spring holiday moved)"},
    {.received = "2022-08-19", .due = "2022-09-20", .why = "Mon 19 Sep 2022 state funeral -> Tue 20"},
    {.received = "2023-04-08", .due = "2023-05-09", .why = "Mon 8 May 2023 coronation -> Tue 9"},
    {.received = "2020-04-08", .due = "2020-05-11", .why = "Fri 8 May 2020 VE day -> Mon 11"},
    {.received = "2020-04-04", .due = "2020-05-04",
     .why = "Mon 4 May 2020 was a working day (early May holiday moved)"},
    /* Other fixed holidays. */
    {.received = "2029-04-07", .due = "2029-05-08",
     .why = "Mon 7 May 2029 early May holiday (derived) -> Tue 8"},
    {.received = "2024-07-26", .due = "2024-08-27", .why = "Mon 26 Aug 2024 summer -> Tue 27"},
    /* Late identity evidence moves the start. */
    {.received = "2024-01-10", .evidence = "2024-01-31", .due = "2024-02-29",
     .why = "evidence 31 Jan -> 29 Feb"},
    {.received = "2024-11-01", .evidence = "2024-11-25", .due = "2024-12-27",
     .why = "evidence Mon 25 Nov -> Fri 27 Dec"},
    {.received = "2024-09-03", .evidence = "2024-09-03", .due = "2024-10-03",
     .why = "evidence the same day changes nothing"},
    /* Pauses for clarification. */
    {.received = "2025-11-14", .pause = {{"2025-11-16", "2025-12-16"}}, .due = "2026-01-13",
     .paused_days = 30, .why = "stopped 16 Nov-16 Dec: 14 Dec + 30 -> Tue 13 Jan 2026"},
    {.received = "2024-09-03", .pause = {{"2024-09-10", "2024-09-15"}}, .due = "2024-10-08",
     .paused_days = 5, .why = "5 days -> Tue 8 Oct"},
    {.received = "2024-09-03", .pause = {{"2024-09-05", "2024-09-06"}, {"2024-09-20", "2024-09-23"}},
     .due = "2024-10-07", .paused_days = 4, .why = "1 + 3 days -> Mon 7 Oct"},
    {.received = "2024-09-03",
     .pause = {{"2024-09-04", "2024-09-05"}, {"2024-09-05", "2024-09-07"},
               {"2024-10-01", "2024-10-04"}},
     .due = "2024-10-09", .paused_days = 6, .why = "1 + 2 + 3 days, two touching -> Wed 9 Oct"},
    {.received = "2024-11-20", .pause = {{"2024-11-25", "2024-11-30"}}, .due = "2024-12-27",
     .paused_days = 5, .why = "Fri 20 Dec + 5 -> Wed 25 Dec -> Fri 27"},
    {.received = "2024-09-03", .pause = {{"2024-09-10", "2024-09-10"}}, .due = "2024-10-03",
     .why = "an empty pause"},
    {.received = "2024-01-10", .evidence = "2024-01-20", .pause = {{"2024-01-15", "2024-01-25"}},
     .due = "2024-02-26", .paused_days = 5,
     .why = "pause counted from the start (20 Jan): 20 Feb + 5 -> Sun 25 -> Mon 26"},
    {.received = "2024-01-10", .evidence = "2024-01-20", .pause = {{"2024-01-12", "2024-01-15"}},
     .due = "2024-02-20", .why = "a pause wholly before the start counts nothing"},
    {.received = "2024-09-03", .pause = {{"2024-10-10", "2024-10-20"}}, .due = "2024-10-03",
     .why = "asked after the deadline had passed: still overdue"},
    {.received = "2024-09-03", .pause = {{"2024-10-03", "2024-10-08"}}, .due = "2024-10-08",
     .paused_days = 5, .why = "asked on the due day: counts -> Tue 8 Oct"},
    {.received = "2024-06-06", .pause = {{"2024-07-08", "2024-07-12"}}, .due = "2024-07-10",
     .paused_days = 4,
     .why = "due Sat 6 Jul rolled to Mon 8; asked Mon 8: 6 Jul + 4 -> Wed 10"},
    {.received = "2024-09-03", .pause = {{"2024-09-10", NULL}}, .today = "2024-09-20",
     .due = "2024-10-14", .paused_days = 10,
     .why = "still paused on 20 Sep: 3 Oct + 10 -> Sun 13 -> Mon 14"},
    {.received = "2024-09-03", .pause = {{"2024-09-10", NULL}}, .today = "2024-09-10",
     .due = "2024-10-03", .why = "paused today: nothing stopped yet"},
    /* Extensions: three months from the original start. */
    {.received = "2024-09-03", .extended = true, .due = "2024-12-03", .why = "-> Tue 3 Dec"},
    {.received = "2024-11-30", .extended = true, .due = "2025-02-28",
     .why = "30 Nov -> no 30 Feb -> Fri 28 Feb 2025"},
    {.received = "2023-11-30", .extended = true, .due = "2024-02-29", .why = "-> 29 Feb 2024"},
    {.received = "2024-09-25", .extended = true, .due = "2024-12-27",
     .why = "-> Wed 25 Dec -> Fri 27 Dec"},
    {.received = "2099-11-30", .extended = true, .due = "2100-03-01", .beyond = true,
     .why = "-> Sun 28 Feb 2100 -> Mon 1 Mar"},
    {.received = "2024-09-03", .extended = true, .pause = {{"2024-09-10", "2024-09-15"}},
     .due = "2024-12-09", .paused_days = 5, .why = "3 Dec + 5 -> Sun 8 -> Mon 9 Dec"},
    {.received = "2024-01-10", .evidence = "2024-01-31", .extended = true, .due = "2024-04-30",
     .why = "from the start 31 Jan -> 30 Apr (not 29 Feb + 2 months)"},
    {.received = "2025-10-31", .extended = true, .due = "2026-02-02",
     .why = "31 Oct -> Sat 31 Jan 2026 -> Mon 2 Feb"},
    {.received = "2026-01-03", .extended = true, .due = "2026-04-07",
     .why = "-> Good Friday 3 Apr 2026 -> Tue 7 Apr"},
};

static void test_deadline_table(void **state)
{
    const cu_holidays *h = *state;
    size_t ncases = sizeof cases / sizeof cases[0];
    assert_true(ncases >= 40);
    for (size_t i = 0; i < ncases; i++) {
        const dl_case *k = &cases[i];
        cu_pause pauses[3];
        size_t np = 0;
        while (np < 3 && k->pause[np][0]) {
            pauses[np] = (cu_pause){D(k->pause[np][0]),
                                    k->pause[np][1] ? D(k->pause[np][1]) : CU_DATE_NONE};
            np++;
        }
        cu_clock c = {.received_on = D(k->received),
                      .evidence_on = k->evidence ? D(k->evidence) : CU_DATE_NONE,
                      .pauses = pauses, .npauses = np, .extended = k->extended};
        cu_date today = D(k->today ? k->today : k->received);
        cu_deadline out;
        cu_err err;
        cu_err_clear(&err);
        int rc = cu_deadline_compute(&c, h, today, &out, &err);
        CHECK(rc == CU_OK, "case %zu (%s): %s", i, k->why, err.msg);
        char got[16], want[16];
        CHECK(cu_date_cmp(out.due, D(k->due)) == 0, "case %zu (%s): due %s, expected %s", i,
              k->why, fmt(out.due, got), fmt(D(k->due), want));
        CHECK(out.paused_days == k->paused_days, "case %zu (%s): paused %lld, expected %d", i,
              k->why, (long long)out.paused_days, k->paused_days);
        CHECK(out.beyond_calendar == k->beyond, "case %zu (%s): beyond_calendar %d", i, k->why,
              out.beyond_calendar);
        CHECK(out.paused == (np && !k->pause[np - 1][1]), "case %zu: paused flag", i);
        CHECK(cu_is_working_day(out.due, h), "case %zu: due on a non-working day", i);
        CHECK(out.days_left == cu_date_to_days(out.due) - cu_date_to_days(today),
              "case %zu: days_left", i);
        cu_date start = k->evidence ? D(k->evidence) : D(k->received);
        CHECK(cu_date_cmp(out.start, start) == 0, "case %zu: start", i);
        /* The deadline in force is one of the two, and they are ordered. */
        CHECK(cu_date_cmp(out.due, k->extended ? out.due_extended : out.due_one_month) == 0,
              "case %zu: due is not the deadline in force", i);
        CHECK(cu_date_cmp(out.due_one_month, out.due_extended) < 0, "case %zu: order", i);
        /* The same request without its extension is due on due_one_month. */
        cu_clock plain = c;
        plain.extended = false;
        cu_deadline one;
        assert_int_equal(cu_deadline_compute(&plain, h, today, &one, &err), CU_OK);
        CHECK(cu_date_cmp(one.due, out.due_one_month) == 0, "case %zu: one-month due", i);
        cu_date notice;
        assert_int_equal(cu_extension_notice_by(&c, h, today, &notice, &err), CU_OK);
        CHECK(cu_date_cmp(notice, out.due_one_month) == 0, "case %zu: notice", i);
    }
}

/* Extension notices are due by the one-month deadline. */
static void test_extension_notice(void **state)
{
    const cu_holidays *h = *state;
    cu_err err;
    cu_err_clear(&err);
    cu_date by;
    cu_clock c = {.received_on = D("2024-09-25"), .extended = true};
    assert_int_equal(cu_extension_notice_by(&c, h, D("2024-09-25"), &by, &err), CU_OK);
    assert_int_equal(cu_date_cmp(by, D("2024-10-25")), 0); /* Fri 25 Oct */
    c = (cu_clock){.received_on = D("2024-11-25")};
    assert_int_equal(cu_extension_notice_by(&c, h, D("2024-11-25"), &by, &err), CU_OK);
    assert_int_equal(cu_date_cmp(by, D("2024-12-27")), 0); /* over Christmas */
    /* A pause moves it with the one-month deadline. */
    cu_pause p = {D("2024-09-10"), D("2024-09-15")};
    c = (cu_clock){.received_on = D("2024-09-03"), .pauses = &p, .npauses = 1, .extended = true};
    assert_int_equal(cu_extension_notice_by(&c, h, D("2024-09-20"), &by, &err), CU_OK);
    assert_int_equal(cu_date_cmp(by, D("2024-10-08")), 0);
    /* Refusals leave no date behind. */
    c = (cu_clock){.received_on = {2024, 2, 30}};
    assert_int_equal(cu_extension_notice_by(&c, h, D("2024-09-20"), &by, &err), CU_EINVAL);
    assert_true(cu_date_is_none(by));
}

/* Days remaining, due today, overdue. */
static void test_days_left(void **state)
{
    const cu_holidays *h = *state;
    cu_clock c = {.received_on = D("2024-11-25")}; /* due Fri 27 Dec */
    static const struct {
        const char *today;
        int64_t left;
    } t[] = {
        {"2024-11-25", 32}, {"2024-12-20", 7}, {"2024-12-26", 1}, {"2024-12-27", 0},
        {"2024-12-28", -1}, {"2025-01-27", -31}, {"2024-11-01", 56},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        cu_deadline d;
        cu_err err;
        cu_err_clear(&err);
        assert_int_equal(cu_deadline_compute(&c, h, D(t[i].today), &d, &err), CU_OK);
        CHECK(d.days_left == t[i].left, "today %s: %lld left, expected %lld", t[i].today,
              (long long)d.days_left, (long long)t[i].left);
        CHECK(!d.paused, "not paused");
    }
    /* While a pause stays open the clock stands still: the due date moves a
     * day each day, so the days left stay at the 23 left when it stopped
     * (2 Dec to Wed 25 Dec), plus whatever the final weekend/holiday roll adds. */
    cu_pause p = {D("2024-12-02"), CU_DATE_NONE};
    c.pauses = &p;
    c.npauses = 1;
    static const int64_t left[] = {25, 24, 23, 25, 24, 23, 23, 24}; /* 2..9 Dec */
    for (int day = 2; day <= 40; day++) {
        cu_deadline d;
        cu_err err;
        cu_err_clear(&err);
        cu_date today = cu_date_of_days(cu_date_to_days(D("2024-12-01")) + day - 1);
        assert_int_equal(cu_deadline_compute(&c, h, today, &d, &err), CU_OK);
        assert_true(d.paused);
        assert_int_equal(d.paused_days, day - 2);
        CHECK(d.days_left >= 23 && d.days_left <= 23 + 4, "day %d: %lld left", day,
              (long long)d.days_left);
        if (day <= 9)
            CHECK(d.days_left == left[day - 2], "%d Dec: %lld left, expected %lld", day,
                  (long long)d.days_left, (long long)left[day - 2]);
        assert_true(cu_is_working_day(d.due, h));
    }
}

/* Once every pause is closed, `today` changes only the days left. */
static void test_today_irrelevant_when_closed(void **state)
{
    const cu_holidays *h = *state;
    cu_pause p[2] = {{D("2024-09-05"), D("2024-09-06")}, {D("2024-09-20"), D("2024-09-23")}};
    cu_clock c = {.received_on = D("2024-09-03"), .pauses = p, .npauses = 2};
    cu_deadline a, b;
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_deadline_compute(&c, h, D("2024-09-03"), &a, &err), CU_OK);
    assert_int_equal(cu_deadline_compute(&c, h, D("2030-01-01"), &b, &err), CU_OK);
    assert_int_equal(cu_date_cmp(a.due, b.due), 0);
    assert_int_equal(a.paused_days, b.paused_days);
    assert_true(b.days_left < 0);
}

static void test_deadline_refusals(void **state)
{
    const cu_holidays *h = *state;
    cu_pause p[3];
    static const struct {
        const char *received, *evidence;
        const char *pause[3][2];
        int npauses;
        const char *msg;
    } bad[] = {
        {"2024-09-03", "2024-09-02", {{0}}, 0, "evidence_on is before received_on"},
        {"2024-09-03", NULL, {{"2024-09-02", "2024-09-05"}}, 1,
         "pauses[0] starts before received_on"},
        {"2024-09-03", NULL, {{"2024-09-10", "2024-09-09"}}, 1, "pauses[0] ends before it starts"},
        {"2024-09-03", NULL, {{"2024-09-10", "2024-09-15"}, {"2024-09-14", "2024-09-20"}}, 2,
         "pauses[1] starts before pauses[0] ends"},
        {"2024-09-03", NULL, {{"2024-09-20", "2024-09-25"}, {"2024-09-10", "2024-09-15"}}, 2,
         "pauses[1] starts before pauses[0] ends"},
        {"2024-09-03", NULL, {{"2024-09-10", NULL}, {"2024-09-20", "2024-09-25"}}, 2,
         "pauses[0] is open but not the last"},
        {"9999-10-15", NULL, {{0}}, 0, "the deadline would fall after 9999-12-31"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int j = 0; j < bad[i].npauses; j++)
            p[j] = (cu_pause){D(bad[i].pause[j][0]),
                              bad[i].pause[j][1] ? D(bad[i].pause[j][1]) : CU_DATE_NONE};
        cu_clock c = {.received_on = D(bad[i].received),
                      .evidence_on = bad[i].evidence ? D(bad[i].evidence) : CU_DATE_NONE,
                      .pauses = p, .npauses = (size_t)bad[i].npauses};
        cu_deadline d;
        cu_err err;
        cu_err_clear(&err);
        assert_int_equal(cu_deadline_compute(&c, h, D("2024-09-20"), &d, &err), CU_EINVAL);
        CHECK(strcmp(err.msg, bad[i].msg) == 0, "case %zu: '%s'", i, err.msg);
        assert_true(cu_date_is_none(d.due));
    }
    /* Dates that are not dates. */
    cu_err err;
    cu_deadline d;
    cu_clock c = {.received_on = {2023, 2, 29}};
    cu_err_clear(&err);
    assert_int_equal(cu_deadline_compute(&c, h, D("2024-01-01"), &d, &err), CU_EINVAL);
    assert_string_equal(err.msg, "received_on is not a valid date");
    c = (cu_clock){.received_on = D("2024-01-01"), .evidence_on = {2024, 13, 1}};
    cu_err_clear(&err);
    assert_int_equal(cu_deadline_compute(&c, h, D("2024-01-01"), &d, &err), CU_EINVAL);
    assert_string_equal(err.msg, "evidence_on is not a valid date");
    c = (cu_clock){.received_on = D("2024-01-01")};
    cu_err_clear(&err);
    assert_int_equal(cu_deadline_compute(&c, h, CU_DATE_NONE, &d, &err), CU_EINVAL);
    assert_string_equal(err.msg, "today is not a valid date");
    p[0] = (cu_pause){{2024, 4, 31}, D("2024-05-02")};
    c = (cu_clock){.received_on = D("2024-01-01"), .pauses = p, .npauses = 1};
    cu_err_clear(&err);
    assert_int_equal(cu_deadline_compute(&c, h, D("2024-01-01"), &d, &err), CU_EINVAL);
    assert_string_equal(err.msg, "pauses[0].paused_on is not a valid date");
    p[0] = (cu_pause){D("2024-01-02"), {2024, 0, 2}};
    cu_err_clear(&err);
    assert_int_equal(cu_deadline_compute(&c, h, D("2024-01-01"), &d, &err), CU_EINVAL);
    assert_string_equal(err.msg, "pauses[0].resumed_on is not a valid date");
    c = (cu_clock){.received_on = D("2024-01-01"), .npauses = 1};
    cu_err_clear(&err);
    assert_int_equal(cu_deadline_compute(&c, h, D("2024-01-01"), &d, &err), CU_EINVAL);
    assert_string_equal(err.msg, "pauses missing");
}

/* Without a calendar only weekends are skipped, and the result says so. */
static void test_no_calendar(void **state)
{
    (void)state;
    cu_clock c = {.received_on = D("2024-11-25")};
    cu_deadline d;
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_deadline_compute(&c, NULL, D("2024-11-25"), &d, &err), CU_OK);
    assert_int_equal(cu_date_cmp(d.due, D("2024-12-25")), 0);
    assert_true(d.beyond_calendar);
    assert_true(cu_is_working_day(D("2024-12-25"), NULL));
    assert_false(cu_is_bank_holiday(D("2024-12-25"), NULL));
    assert_false(cu_holidays_covers(NULL, 2024));
}

static void test_working_days(void **state)
{
    const cu_holidays *h = *state;
    assert_true(cu_is_working_day(D("2024-12-24"), h));   /* Tue */
    assert_false(cu_is_working_day(D("2024-12-25"), h));  /* Christmas */
    assert_false(cu_is_working_day(D("2024-12-28"), h));  /* Sat */
    assert_false(cu_is_working_day(D("2024-12-29"), h));  /* Sun */
    assert_true(cu_is_bank_holiday(D("2022-09-19"), h));
    assert_false(cu_is_bank_holiday(D("2022-05-30"), h)); /* moved to 2 June */
    assert_false(cu_is_bank_holiday(D("2021-12-25"), h)); /* Saturday: the 27th instead */
    assert_true(cu_is_bank_holiday(D("2021-12-27"), h));
    char b[16];
    static const char *const next[][2] = {
        {"2024-12-24", "2024-12-27"}, {"2024-12-20", "2024-12-23"}, {"2021-12-24", "2021-12-29"},
        {"2025-04-17", "2025-04-22"}, {"2027-12-31", "2028-01-04"}, {"2024-12-31", "2025-01-02"},
    };
    for (size_t i = 0; i < sizeof next / sizeof next[0]; i++) {
        cu_date n = cu_next_working_day(D(next[i][0]), h);
        CHECK(cu_date_cmp(n, D(next[i][1])) == 0, "after %s: %s", next[i][0], fmt(n, b));
    }
    assert_int_equal(cu_date_cmp(cu_working_day_on_or_after(D("2024-12-24"), h),
                                 D("2024-12-24")), 0);
    assert_int_equal(cu_date_cmp(cu_working_day_on_or_after(D("2024-12-25"), h),
                                 D("2024-12-27")), 0);
    assert_int_equal(cu_date_cmp(cu_working_day_on_or_after(D("2024-12-28"), h),
                                 D("2024-12-30")), 0);
}

/* ---------------------------------------------------- the shipped data ---- */

/* Easter Sunday (anonymous Gregorian algorithm). */
static cu_date easter(int y)
{
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25;
    int g = (b - f + 1) / 3, hh = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - hh - k) % 7, m = (a + 11 * hh + 22 * l) / 451;
    int n = hh + l - 7 * m + 114;
    return (cu_date){y, n / 31, n % 31 + 1};
}

static int64_t monday_on_or_after(cu_date d)
{
    int64_t x = cu_date_to_days(d);
    return x + (8 - cu_date_weekday(d)) % 7;
}

/* The statutory England and Wales bank holidays of a year, substitutes
 * included: returns how many were written to out. */
static size_t statutory(int y, int64_t out[8])
{
    size_t n = 0;
    int64_t ny = monday_on_or_after((cu_date){y, 1, 1});
    out[n++] = cu_date_weekday((cu_date){y, 1, 1}) <= 5 ? cu_date_to_days((cu_date){y, 1, 1})
                                                         : ny;
    int64_t e = cu_date_to_days(easter(y));
    out[n++] = e - 2;
    out[n++] = e + 1;
    out[n++] = monday_on_or_after((cu_date){y, 5, 1});
    out[n++] = monday_on_or_after((cu_date){y, 5, 25});
    out[n++] = monday_on_or_after((cu_date){y, 8, 25});
    /* Christmas and Boxing Day: each takes the next weekday not already taken. */
    int64_t taken = 0;
    for (int day = 25; day <= 26; day++) {
        int64_t x = cu_date_to_days((cu_date){y, 12, day});
        while (cu_date_weekday(cu_date_of_days(x)) > 5 || x == taken)
            x++;
        out[n++] = taken = x;
    }
    return n;
}

static void test_shipped_calendar(void **state)
{
    const cu_holidays *h = *state;
    assert_true(h->first_year <= 2018);
    assert_true(h->last_year >= 2030);
    for (int y = 2018; y <= 2030; y++) {
        assert_true(cu_holidays_covers(h, y));
        size_t count = 0;
        for (size_t i = 0; i < h->n; i++)
            count += cu_date_of_days(h->days[i]).year == y;
        CHECK(count >= 8, "%d has %zu bank holidays", y, count);
    }
    for (size_t i = 0; i < h->n; i++)
        CHECK(cu_date_weekday(cu_date_of_days(h->days[i])) <= 5, "a holiday on a weekend");
    /* Every year agrees with the statutory rules but for the one-off changes. */
    static const char *const moved_from[] = {"2020-05-04", "2022-05-30"};
    static const char *const added[] = {"2020-05-08", "2022-06-02", "2022-06-03", "2022-09-19",
                                        "2023-05-08"};
    size_t seen = 0;
    for (int y = 2018; y <= 2030; y++) {
        int64_t rule[8];
        size_t n = statutory(y, rule);
        for (size_t i = 0; i < n; i++) {
            cu_date d = cu_date_of_days(rule[i]);
            bool moved = false;
            for (size_t j = 0; j < 2; j++)
                moved = moved || cu_date_cmp(d, D(moved_from[j])) == 0;
            char b[16];
            CHECK(cu_is_bank_holiday(d, h) != moved, "%s: statutory rule and data disagree",
                  fmt(d, b));
        }
        seen += n;
    }
    for (size_t j = 0; j < 5; j++)
        assert_true(cu_is_bank_holiday(D(added[j]), h));
    size_t in_range = 0;
    for (size_t i = 0; i < h->n; i++) {
        int y = cu_date_of_days(h->days[i]).year;
        in_range += y >= 2018 && y <= 2030;
    }
    assert_int_equal(in_range, seen - 2 + 5);
}

/* ------------------------------------------------------------ the parser ---- */

static int parse(const char *json, cu_holidays *h, cu_err *err)
{
    cu_err_clear(err);
    return cu_holidays_parse(json, strlen(json), h, err);
}

static void test_parse_good(void **state)
{
    (void)state;
    cu_holidays h;
    cu_err err;
    /* Out of order, a duplicate, optional fields absent, other divisions
     * (however shaped) ignored, UTF-8 in a title. */
    const char *doc =
        "{\"scotland\": 7, \"england-and-wales\": {\"events\": ["
        "{\"title\": \"Boxing Day\", \"date\": \"2024-12-26\", \"notes\": \"\", \"bunting\": true},"
        "{\"title\": \"New Year\\u2019s Day\", \"date\": \"2024-01-01\"},"
        "{\"title\": \"Christmas Day\", \"date\": \"2024-12-25\", \"bunting\": false},"
        "{\"title\": \"Christmas \xe2\x80\x94 again\", \"date\": \"2024-12-25\", \"notes\": \"x\"},"
        "{\"title\": \"Next\", \"date\": \"2025-01-01\"}"
        "], \"division\": \"england-and-wales\"}, \"northern-ireland\": {\"division\": 1}}";
    assert_int_equal(parse(doc, &h, &err), CU_OK);
    assert_int_equal(h.n, 4);
    for (size_t i = 1; i < h.n; i++)
        assert_true(h.days[i - 1] < h.days[i]);
    assert_int_equal(h.first_year, 2024);
    assert_int_equal(h.last_year, 2025);
    assert_true(cu_is_bank_holiday(D("2024-12-25"), &h));
    assert_true(cu_is_bank_holiday(D("2024-01-01"), &h));
    assert_true(cu_is_bank_holiday(D("2025-01-01"), &h));
    assert_false(cu_is_bank_holiday(D("2024-12-24"), &h));
    assert_true(cu_holidays_covers(&h, 2024));
    assert_false(cu_holidays_covers(&h, 2026));
    assert_false(cu_holidays_covers(&h, 2023));
    cu_holidays_release(&h);
    assert_null(h.days);
    assert_int_equal(h.n, 0);
    cu_holidays_release(&h); /* twice is harmless */
    cu_holidays_release(NULL);

    /* Exactly the maximum number of events. */
    size_t cap = 64 + CU_HOLIDAYS_MAX_EVENTS * 48;
    char *big = malloc(cap);
    assert_non_null(big);
    size_t o = (size_t)snprintf(big, cap, "{\"england-and-wales\":{\"division\":"
                                          "\"england-and-wales\",\"events\":[");
    for (int i = 0; i < CU_HOLIDAYS_MAX_EVENTS; i++) {
        cu_date d = cu_date_of_days(cu_date_to_days((cu_date){2000, 1, 1}) + i);
        o += (size_t)snprintf(big + o, cap - o, "%s{\"title\":\"t\",\"date\":\"%04d-%02d-%02d\"}",
                              i ? "," : "", d.year, d.month, d.day);
    }
    snprintf(big + o, cap - o, "]}}");
    assert_int_equal(parse(big, &h, &err), CU_OK);
    assert_int_equal(h.n, CU_HOLIDAYS_MAX_EVENTS);
    cu_holidays_release(&h);
    /* One more is refused. */
    o = strlen(big) - 3;
    snprintf(big + o, cap - o, ",{\"title\":\"t\",\"date\":\"2000-01-01\"}]}}");
    assert_int_equal(parse(big, &h, &err), CU_EINVAL);
    assert_string_equal(err.msg, "$[\"england-and-wales\"].events has more than 2000 events");
    free(big);
}

#define EW "{\"england-and-wales\": "
#define DV "\"division\": \"england-and-wales\""
#define EV(x) EW "{" DV ", \"events\": [" x "]}}"
#define OK1 "{\"title\": \"t\", \"date\": \"2024-12-25\"}"

static void test_parse_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *msg;
    } bad[] = {
        {"", "malformed JSON: the input is empty"},
        {"{", "malformed JSON at line 1 column 1"},
        {"{\"a\": 1, \"a\": 2}", "malformed JSON: duplicate key at line 1"},
        {EV("{\"title\": \"t\", \"title\": \"u\", \"date\": \"2024-12-25\"}"),
         "malformed JSON: duplicate key at line 1"},
        {"[]", "the document must be a JSON object"},
        {"\"england-and-wales\"", "the document must be a JSON object"},
        {"{}", "$[\"england-and-wales\"] is required"},
        {"{\"scotland\": {}}", "$[\"england-and-wales\"] is required"},
        {EW "[]}", "$[\"england-and-wales\"] must be an object"},
        {EW "null}", "$[\"england-and-wales\"] must be an object"},
        {EW "{" DV ", \"events\": [], \"extra\": 1}}", "$[\"england-and-wales\"]: unknown key extra"},
        {EW "{" DV ", \"events\": [], \"Weird Key\": 1}}",
         "$[\"england-and-wales\"]: unknown key (not shown)"},
        {EW "{\"events\": [" OK1 "]}}", "$[\"england-and-wales\"].division is required"},
        {EW "{\"division\": \"scotland\", \"events\": [" OK1 "]}}",
         "$[\"england-and-wales\"].division must be \"england-and-wales\""},
        {EW "{\"division\": 1, \"events\": [" OK1 "]}}",
         "$[\"england-and-wales\"].division must be \"england-and-wales\""},
        {EW "{\"division\": \"england-and-wales \", \"events\": [" OK1 "]}}",
         "$[\"england-and-wales\"].division must be \"england-and-wales\""},
        {EW "{" DV "}}", "$[\"england-and-wales\"].events is required"},
        {EW "{" DV ", \"events\": {}}}", "$[\"england-and-wales\"].events must be an array"},
        {EV(""), "$[\"england-and-wales\"].events is empty"},
        {EV(OK1 ", 7"), "$[\"england-and-wales\"].events[1] must be an object"},
        {EV("[]"), "$[\"england-and-wales\"].events[0] must be an object"},
        {EV("{\"title\": \"t\", \"date\": \"2024-12-25\", \"day\": \"Wed\"}"),
         "$[\"england-and-wales\"].events[0]: unknown key day"},
        {EV("{\"title\": \"t\", \"date\": \"2024-12-25\", \"\": 1}"),
         "$[\"england-and-wales\"].events[0]: unknown key (not shown)"},
        {EV("{\"title\": 1, \"date\": \"2024-12-25\"}"),
         "$[\"england-and-wales\"].events[0].title must be a string"},
        {EV("{\"date\": \"2024-12-25\"}"), "$[\"england-and-wales\"].events[0].title is required"},
        {EV("{\"title\": \"\", \"date\": \"2024-12-25\"}"),
         "$[\"england-and-wales\"].events[0].title must not be empty"},
        {EV("{\"title\": \"t\"}"), "$[\"england-and-wales\"].events[0].date is required"},
        {EV("{\"title\": \"t\", \"date\": 20241225}"),
         "$[\"england-and-wales\"].events[0].date must be a string"},
        {EV(OK1 "," OK1 ", {\"title\": \"t\", \"date\": \"2023-02-29\"}"),
         "$[\"england-and-wales\"].events[2].date must be a date YYYY-MM-DD"},
        {EV("{\"title\": \"t\", \"date\": \"2024-1-01\"}"),
         "$[\"england-and-wales\"].events[0].date must be a date YYYY-MM-DD"},
        {EV("{\"title\": \"t\", \"date\": \"2024-12-25T00:00:00Z\"}"),
         "$[\"england-and-wales\"].events[0].date must be a date YYYY-MM-DD"},
        {EV("{\"title\": \"t\", \"date\": \"1700-01-01\"}"),
         "$[\"england-and-wales\"].events[0].date must be a date YYYY-MM-DD"},
        {EV("{\"title\": \"t\", \"date\": \"2024-12-25\", \"notes\": null}"),
         "$[\"england-and-wales\"].events[0].notes must be a string"},
        {EV("{\"title\": \"t\", \"date\": \"2024-12-25\", \"bunting\": \"yes\"}"),
         "$[\"england-and-wales\"].events[0].bunting must be true or false"},
        {EV("{\"title\": \"t\", \"date\": \"2024-12-25\", \"bunting\": 1}"),
         "$[\"england-and-wales\"].events[0].bunting must be true or false"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cu_holidays h;
        cu_err err;
        int rc = parse(bad[i].doc, &h, &err);
        CHECK(rc == CU_EINVAL, "case %zu: rc %d", i, rc);
        CHECK(err.code == CU_EINVAL, "case %zu: err.code", i);
        CHECK(strcmp(err.msg, bad[i].msg) == 0, "case %zu: '%s', expected '%s'", i, err.msg,
              bad[i].msg);
        CHECK(h.days == NULL && h.n == 0, "case %zu: a refused calendar holds nothing", i);
    }
    /* Over the size cap, before any parsing. */
    size_t n = CU_HOLIDAYS_MAX_BYTES + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    cu_holidays h;
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_holidays_parse(big, n, &h, &err), CU_EINVAL);
    assert_string_equal(err.msg, "input larger than 1048576 bytes");
    free(big);
    /* Not NUL-terminated: only n bytes are read. */
    const char *doc = EV(OK1) "garbage";
    cu_err_clear(&err);
    assert_int_equal(cu_holidays_parse(doc, strlen(doc) - 7, &h, &err), CU_OK);
    cu_holidays_release(&h);
    cu_err_clear(&err);
    assert_int_equal(cu_holidays_parse(doc, strlen(doc), &h, &err), CU_EINVAL);
    /* A NUL inside a string is refused. */
    static const char nul[] = EV("{\"title\": \"t\\u0000\", \"date\": \"2024-12-25\"}");
    cu_err_clear(&err);
    assert_int_equal(cu_holidays_parse(nul, sizeof nul - 1, &h, &err), CU_EINVAL);
}

static void test_load(void **state)
{
    (void)state;
    cu_holidays h;
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_holidays_load("/nonexistent/bank-holidays.json", &h, &err), CU_EIO);
    assert_non_null(strstr(err.msg, "cannot open bank-holiday calendar"));
    assert_null(h.days);
    cu_err_clear(&err);
    assert_int_equal(cu_holidays_load("/dev/null", &h, &err), CU_EINVAL);
    assert_string_equal(err.msg, "malformed JSON: the input is empty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deadline_table, calendar_setup, calendar_teardown),
        cmocka_unit_test_setup_teardown(test_extension_notice, calendar_setup,
                                        calendar_teardown),
        cmocka_unit_test_setup_teardown(test_days_left, calendar_setup, calendar_teardown),
        cmocka_unit_test_setup_teardown(test_today_irrelevant_when_closed, calendar_setup,
                                        calendar_teardown),
        cmocka_unit_test_setup_teardown(test_deadline_refusals, calendar_setup,
                                        calendar_teardown),
        cmocka_unit_test(test_no_calendar),
        cmocka_unit_test_setup_teardown(test_working_days, calendar_setup, calendar_teardown),
        cmocka_unit_test_setup_teardown(test_shipped_calendar, calendar_setup,
                                        calendar_teardown),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests_name("deadline", tests, NULL, NULL);
}
