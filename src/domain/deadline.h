/*
 * deadline.h — the statutory clock of a data-subject rights request, and the
 * England and Wales bank-holiday calendar it runs on (DESIGN.md "Subject
 * access (ICO)"; UK GDPR Art 12(3)).
 *
 * Pure functions: nothing here reads the time, speaks SQL or calls crypto;
 * "today" is always an argument. The only I/O is cu_holidays_load.
 *
 * The rules, from the ICO's right-of-access guidance ("What should we
 * consider when responding to a request?", ico.org.uk; the same rules apply
 * to the other rights):
 *   - Start: the day the request is received, or the day requested identity
 *     evidence is received if that is later. The start day is day 1, working
 *     day or not: "start from the actual date you receive the request, fee or
 *     other requested information and count forward to the end of the same
 *     date in the following month" (ICO example: received 1 January, a bank
 *     holiday; the period ends at the end of 1 February).
 *   - Due: that same date; "if the same date doesn't exist in the following
 *     month (because it's shorter), use the last day of that month"; "if the
 *     date for responding falls on a weekend or is a public holiday, the
 *     deadline moves to the end of the next working day" (ICO example:
 *     received Monday 25 November, due Friday 27 December).
 *   - Extension, for complex or numerous requests: "calculate the extension
 *     as three months from the original start date, ie the day you receive
 *     the request, fee or other requested information" (so 31 January runs
 *     to 30 April, not to 29 February plus two months), then the same
 *     last-day and working-day rules. The subject must be told "within one
 *     month of receiving their request": by the unextended due date.
 *   - Clarification: where the controller genuinely needs the subject to
 *     clarify the request, "the time limit for responding to the request is
 *     paused until clarification is received" (the ICO's "stopping the
 *     clock", added to the guidance in October 2020; wording as quoted in
 *     practitioners' summaries of it, e.g. Fieldfisher, 3 December 2020).
 *
 * Pauses, as modelled here. A pause is [paused_on, resumed_on): the clock
 * stops on the day clarification is asked for and runs again on the day it
 * arrives (that day counts, as the day of receipt does). The deadline moves
 * out by the number of calendar days stopped, counted from the corresponding
 * date before the weekend/holiday roll; the roll is applied once, to the
 * final date. Calendar days, not working days or months, because the clock
 * itself counts calendar days: the days used before the pause plus the days
 * left after it make up the original period exactly. This follows DAC
 * Beachcroft's worked example of the guidance (received 14 November,
 * clarification asked 16 November and given 16 December: "the clock stops
 * between 16 November and 16 December", which they call an additional
 * month); counted in days it moves the deadline 30 days, from 14 December
 * to 13 January. A pause before the start date counts
 * only from the start; a pause asked for after the deadline it would extend
 * had passed does not revive it. While a pause is open (no resumed_on) the
 * clarification is taken to arrive today: the due date moves a day each day,
 * and the days left stay as they were when the clock stopped (give or take
 * the final weekend/holiday roll).
 */
#ifndef CUSTOS_DOMAIN_DEADLINE_H
#define CUSTOS_DOMAIN_DEADLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/clock.h"
#include "util/err.h"

/* ------------------------------------------------------ the calendar ---- */

/* Limits on a calendar document: this is untrusted input. */
#define CU_HOLIDAYS_MAX_EVENTS 2000
#define CU_HOLIDAYS_MAX_BYTES ((size_t)1 << 20)

/* A sorted set of bank holidays, and the years it speaks for. */
typedef struct cu_holidays {
    int64_t *days;             /* ascending, no duplicates; days since 1970-01-01 */
    size_t n;
    int first_year, last_year; /* the years of the first and last holiday */
} cu_holidays;

/*
 * Parses the GOV.UK format (https://www.gov.uk/bank-holidays.json) and takes
 * the "england-and-wales" division; other top-level keys (the other
 * divisions) are ignored unread:
 *   { "england-and-wales": { "division": "england-and-wales",
 *       "events": [ { "title": s, "date": "YYYY-MM-DD",
 *                     "notes": s, "bunting": true|false }, ... ] }, ... }
 * Strict: duplicate keys, unknown keys in the division or an event, a
 * missing "division", "events", "title" or "date", wrong types, an empty
 * title, a date that is not a real calendar date, no events, more than
 * CU_HOLIDAYS_MAX_EVENTS events or more than CU_HOLIDAYS_MAX_BYTES of input
 * fail with CU_EINVAL and a one-line message naming the JSON path (for
 * example `$["england-and-wales"].events[3].date must be a date YYYY-MM-DD`),
 * never a value. "notes" and "bunting" are optional. The same date listed
 * twice is kept once. Events need not be in order. On failure *out is empty.
 */
CU_MUST_USE int cu_holidays_parse(const char *json, size_t n, cu_holidays *out, cu_err *err);

/* Reads and parses a calendar file (CU_EIO when it cannot be read). */
CU_MUST_USE int cu_holidays_load(const char *path, cu_holidays *out, cu_err *err);

/* Frees a calendar; it is empty afterwards. */
void cu_holidays_release(cu_holidays *h);

/* Whether the calendar speaks for a year (first_year <= year <= last_year).
 * A NULL or empty calendar covers nothing. */
bool cu_holidays_covers(const cu_holidays *h, int year);

/* Whether d is listed as a bank holiday (h may be NULL: none are). */
bool cu_is_bank_holiday(cu_date d, const cu_holidays *h);

/* Monday to Friday and not a bank holiday. */
bool cu_is_working_day(cu_date d, const cu_holidays *h);

/* The first working day strictly after d. */
cu_date cu_next_working_day(cu_date d, const cu_holidays *h);

/* d itself when it is a working day, else the next one. */
cu_date cu_working_day_on_or_after(cu_date d, const cu_holidays *h);

/* -------------------------------------------------------- the clock ---- */

/* A date that is not set: {0, 0, 0}. */
#define CU_DATE_NONE ((cu_date){0, 0, 0})
bool cu_date_is_none(cu_date d);

/* Awaiting clarification from paused_on; resumed_on is the day it arrived,
 * or CU_DATE_NONE while still awaited. */
typedef struct cu_pause {
    cu_date paused_on;
    cu_date resumed_on;
} cu_pause;

/* What the clock of one request depends on. */
typedef struct cu_clock {
    cu_date received_on;     /* the request arrived */
    cu_date evidence_on;     /* requested identity evidence arrived, or CU_DATE_NONE */
    const cu_pause *pauses;  /* in order, not overlapping; only the last may be open */
    size_t npauses;
    bool extended;           /* extended by two further months */
} cu_clock;

/* Where the clock stands. */
typedef struct cu_deadline {
    cu_date start;          /* the later of received_on and evidence_on */
    cu_date due;            /* the deadline in force: due_extended if extended, else due_one_month */
    cu_date due_one_month;  /* one month on: also the last day to tell the subject of an extension */
    cu_date due_extended;   /* three months on: the deadline if (or once) extended */
    int64_t paused_days;    /* calendar days the clock has stood still, as counted for due */
    int64_t days_left;      /* due - today: > 0 days remaining, 0 due today, < 0 overdue by -days_left */
    bool paused;            /* a pause is open: the dates assume clarification arrives today */
    bool beyond_calendar;   /* due was worked out through a year the calendar does not cover
                               (weekends were still skipped; bank holidays there are unknown) */
} cu_deadline;

/*
 * The later of the day of receipt and the day requested identity evidence
 * arrived (evidence_on may be CU_DATE_NONE).
 */
cu_date cu_clock_start(cu_date received_on, cu_date evidence_on);

/*
 * Computes the clock of a request as it stands on `today` (used for days_left
 * and for an open pause). h may be NULL (then beyond_calendar is set).
 * Fails with CU_EINVAL, naming the field, when a date is not a real date,
 * evidence_on is before received_on, a pause starts before received_on or
 * ends before it starts, pauses are out of order or overlap, a pause other
 * than the last is open, or a deadline would fall after 9999-12-31.
 */
CU_MUST_USE int cu_deadline_compute(const cu_clock *c, const cu_holidays *h, cu_date today,
                                    cu_deadline *out, cu_err *err);

/* The last day to tell the subject that the time is extended: the unextended
 * (one-month) due date of the request, pauses included (the clock that
 * measures the first month stands still with them). */
CU_MUST_USE int cu_extension_notice_by(const cu_clock *c, const cu_holidays *h, cu_date today,
                                       cu_date *out, cu_err *err);

#endif
