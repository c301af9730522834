/*
 * clock.h — UTC time and calendar dates, as pure functions where possible.
 *
 * Times are microseconds since the Unix epoch, UTC (int64). Dates are
 * proleptic Gregorian {year, month 1-12, day 1-31}. Nothing here reads the
 * time zone: custos records and compares UTC only.
 */
#ifndef CUSTOS_UTIL_CLOCK_H
#define CUSTOS_UTIL_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cu_date {
    int year, month, day;
} cu_date;

/* The current UTC time in microseconds. In a build configured with
 * -Dtest_clock=true (make test's), CUSTOS_FAKE_NOW (seconds since the epoch)
 * overrides it, for tests of clocks, expiry and retention; other builds
 * ignore it. */
int64_t cu_now_us(void);

/* "2026-11-22T10:41:26.123456Z"; out must hold CU_TIME_STRLEN bytes. */
#define CU_TIME_STRLEN 28
void cu_time_format(int64_t us, char out[CU_TIME_STRLEN]);

bool cu_is_leap_year(int year);
int cu_days_in_month(int year, int month);
bool cu_date_valid(cu_date d);
/* Parses exactly "YYYY-MM-DD" (a real calendar date, years 1850-9999). */
bool cu_date_parse(const char *s, size_t len, cu_date *out);
/* Parses "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" into
 * microseconds since the epoch. */
bool cu_time_parse(const char *s, size_t len, int64_t *out_us);
/* Days since 1970-01-01 of a valid date. */
int64_t cu_date_to_days(cu_date d);
/* The date a number of days since 1970-01-01 falls on (the inverse). */
cu_date cu_date_of_days(int64_t days);
/* ISO day of the week of a valid date: 1 Monday ... 6 Saturday, 7 Sunday. */
int cu_date_weekday(cu_date d);
/* The same day of the month `months` later (earlier when negative), or that
 * month's last day when it is shorter: 31 Jan + 1 -> 28 Feb (29 in a leap
 * year), 29 Feb 2024 + 12 -> 28 Feb 2025. The year is not range-checked:
 * callers that need a valid date check the result with cu_date_valid. */
cu_date cu_date_add_months(cu_date d, int months);
/* The UTC calendar date of a time. */
cu_date cu_date_of_us(int64_t us);
/* Negative, zero or positive as a is before, equal to or after b. */
int cu_date_cmp(cu_date a, cu_date b);

#endif
