#include "domain/deadline.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/model.h"
#include "util/buf.h"
#include "util/file.h"

/* ------------------------------------------------------ the calendar ---- */

#define DIV "england-and-wales"
#define DIVPATH "$[\"" DIV "\"]"

/* Echo a key in an error only when it looks like a schema name, never data. */
static const char *shown_key(const char *k)
{
    return cu_name_valid(k) ? k : "(not shown)";
}

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int parse_event(json_t *ev, size_t i, int64_t *day, cu_err *err)
{
    if (!json_is_object(ev))
        return cu_err_set(err, CU_EINVAL, DIVPATH ".events[%zu] must be an object", i);
    const char *key;
    json_t *val;
    json_object_foreach(ev, key, val)
    {
        if (strcmp(key, "title") == 0 || strcmp(key, "date") == 0 || strcmp(key, "notes") == 0) {
            if (!json_is_string(val))
                return cu_err_set(err, CU_EINVAL, DIVPATH ".events[%zu].%s must be a string", i,
                                  key);
        } else if (strcmp(key, "bunting") == 0) {
            if (!json_is_boolean(val))
                return cu_err_set(err, CU_EINVAL,
                                  DIVPATH ".events[%zu].bunting must be true or false", i);
        } else {
            return cu_err_set(err, CU_EINVAL, DIVPATH ".events[%zu]: unknown key %s", i,
                              shown_key(key));
        }
    }
    json_t *title = json_object_get(ev, "title"), *date = json_object_get(ev, "date");
    if (!title)
        return cu_err_set(err, CU_EINVAL, DIVPATH ".events[%zu].title is required", i);
    if (json_string_length(title) == 0)
        return cu_err_set(err, CU_EINVAL, DIVPATH ".events[%zu].title must not be empty", i);
    if (!date)
        return cu_err_set(err, CU_EINVAL, DIVPATH ".events[%zu].date is required", i);
    cu_date d;
    if (!cu_date_parse(json_string_value(date), json_string_length(date), &d))
        return cu_err_set(err, CU_EINVAL,
                          DIVPATH ".events[%zu].date must be a date YYYY-MM-DD", i);
    *day = cu_date_to_days(d);
    return CU_OK;
}

static int parse_division(json_t *div, cu_holidays *out, cu_err *err)
{
    if (!json_is_object(div))
        return cu_err_set(err, CU_EINVAL, DIVPATH " must be an object");
    const char *key;
    json_t *val;
    json_object_foreach(div, key, val)
    {
        if (strcmp(key, "division") != 0 && strcmp(key, "events") != 0)
            return cu_err_set(err, CU_EINVAL, DIVPATH ": unknown key %s", shown_key(key));
    }
    json_t *name = json_object_get(div, "division");
    if (!name)
        return cu_err_set(err, CU_EINVAL, DIVPATH ".division is required");
    if (!json_is_string(name) || strcmp(json_string_value(name), DIV) != 0 ||
        json_string_length(name) != strlen(DIV))
        return cu_err_set(err, CU_EINVAL, DIVPATH ".division must be \"" DIV "\"");
    json_t *events = json_object_get(div, "events");
    if (!events)
        return cu_err_set(err, CU_EINVAL, DIVPATH ".events is required");
    if (!json_is_array(events))
        return cu_err_set(err, CU_EINVAL, DIVPATH ".events must be an array");
    size_t n = json_array_size(events);
    if (n == 0)
        return cu_err_set(err, CU_EINVAL, DIVPATH ".events is empty");
    if (n > CU_HOLIDAYS_MAX_EVENTS)
        return cu_err_set(err, CU_EINVAL, DIVPATH ".events has more than %d events",
                          CU_HOLIDAYS_MAX_EVENTS);
    int64_t *days = malloc(n * sizeof *days);
    if (!days)
        return cu_err_set(err, CU_ENOMEM, "out of memory parsing the bank-holiday calendar");
    for (size_t i = 0; i < n; i++) {
        int rc = parse_event(json_array_get(events, i), i, &days[i], err);
        if (rc) {
            free(days);
            return rc;
        }
    }
    qsort(days, n, sizeof *days, cmp_day);
    size_t k = 1; /* the same date twice: keep it once */
    for (size_t i = 1; i < n; i++)
        if (days[i] != days[k - 1])
            days[k++] = days[i];
    out->days = days;
    out->n = k;
    out->first_year = cu_date_of_days(days[0]).year;
    out->last_year = cu_date_of_days(days[k - 1]).year;
    return CU_OK;
}

int cu_holidays_parse(const char *json, size_t n, cu_holidays *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    if (n > CU_HOLIDAYS_MAX_BYTES)
        return cu_err_set(err, CU_EINVAL, "input larger than %zu bytes", CU_HOLIDAYS_MAX_BYTES);
    if (n == 0)
        return cu_err_set(err, CU_EINVAL, "malformed JSON: the input is empty");
    json_error_t je;
    json_t *root = json_loadb(json, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) {
        if (json_error_code(&je) == json_error_duplicate_key)
            return cu_err_set(err, CU_EINVAL, "malformed JSON: duplicate key at line %d",
                              je.line);
        return cu_err_set(err, CU_EINVAL, "malformed JSON at line %d column %d", je.line,
                          je.column);
    }
    int rc;
    if (!json_is_object(root)) {
        rc = cu_err_set(err, CU_EINVAL, "the document must be a JSON object");
    } else {
        json_t *div = json_object_get(root, DIV);
        rc = div ? parse_division(div, out, err)
                 : cu_err_set(err, CU_EINVAL, DIVPATH " is required");
    }
    json_decref(root);
    return rc;
}

int cu_holidays_load(const char *path, cu_holidays *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cu_err_set(err, CU_EIO, "cannot open bank-holiday calendar %s: %s", path,
                          strerror(errno));
    cu_buf b;
    cu_buf_init(&b, CU_HOLIDAYS_MAX_BYTES + 1);
    int rc = cu_read_stream(f, CU_HOLIDAYS_MAX_BYTES, &b, err);
    fclose(f);
    if (rc == CU_OK)
        rc = cu_holidays_parse((const char *)cu_buf_str(&b), b.len, out, err);
    cu_buf_release(&b);
    return rc;
}

void cu_holidays_release(cu_holidays *h)
{
    if (!h)
        return;
    free(h->days);
    memset(h, 0, sizeof *h);
}

bool cu_holidays_covers(const cu_holidays *h, int year)
{
    return h && h->n && year >= h->first_year && year <= h->last_year;
}

static bool holiday_day(int64_t day, const cu_holidays *h)
{
    if (!h || !h->n)
        return false;
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->days[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->n && h->days[lo] == day;
}

static bool working_day(int64_t day, const cu_holidays *h)
{
    /* 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays. */
    int64_t wd = (day + 3) % 7;
    if (wd < 0)
        wd += 7;
    return wd < 5 && !holiday_day(day, h);
}

bool cu_is_bank_holiday(cu_date d, const cu_holidays *h)
{
    return holiday_day(cu_date_to_days(d), h);
}

bool cu_is_working_day(cu_date d, const cu_holidays *h)
{
    return working_day(cu_date_to_days(d), h);
}

/* The first working day on or after day. Terminates: a calendar lists
 * finitely many days. Sets *beyond when a day looked at lies in a year the
 * calendar does not cover. */
static int64_t roll(int64_t day, const cu_holidays *h, bool *beyond)
{
    for (;;) {
        if (beyond && !cu_holidays_covers(h, cu_date_of_days(day).year))
            *beyond = true;
        if (working_day(day, h))
            return day;
        day++;
    }
}

cu_date cu_working_day_on_or_after(cu_date d, const cu_holidays *h)
{
    return cu_date_of_days(roll(cu_date_to_days(d), h, NULL));
}

cu_date cu_next_working_day(cu_date d, const cu_holidays *h)
{
    return cu_date_of_days(roll(cu_date_to_days(d) + 1, h, NULL));
}

/* -------------------------------------------------------- the clock ---- */

bool cu_date_is_none(cu_date d)
{
    return d.year == 0 && d.month == 0 && d.day == 0;
}

cu_date cu_clock_start(cu_date received_on, cu_date evidence_on)
{
    if (!cu_date_is_none(evidence_on) && cu_date_cmp(evidence_on, received_on) > 0)
        return evidence_on;
    return received_on;
}

static int check_clock(const cu_clock *c, cu_date today, cu_err *err)
{
    if (!cu_date_valid(c->received_on))
        return cu_err_set(err, CU_EINVAL, "received_on is not a valid date");
    if (!cu_date_is_none(c->evidence_on)) {
        if (!cu_date_valid(c->evidence_on))
            return cu_err_set(err, CU_EINVAL, "evidence_on is not a valid date");
        if (cu_date_cmp(c->evidence_on, c->received_on) < 0)
            return cu_err_set(err, CU_EINVAL, "evidence_on is before received_on");
    }
    if (!cu_date_valid(today))
        return cu_err_set(err, CU_EINVAL, "today is not a valid date");
    if (c->npauses && !c->pauses)
        return cu_err_set(err, CU_EINVAL, "pauses missing");
    for (size_t i = 0; i < c->npauses; i++) {
        const cu_pause *p = &c->pauses[i];
        if (!cu_date_valid(p->paused_on))
            return cu_err_set(err, CU_EINVAL, "pauses[%zu].paused_on is not a valid date", i);
        if (cu_date_cmp(p->paused_on, c->received_on) < 0)
            return cu_err_set(err, CU_EINVAL, "pauses[%zu] starts before received_on", i);
        if (cu_date_is_none(p->resumed_on)) {
            if (i + 1 != c->npauses)
                return cu_err_set(err, CU_EINVAL, "pauses[%zu] is open but not the last", i);
        } else if (!cu_date_valid(p->resumed_on)) {
            return cu_err_set(err, CU_EINVAL, "pauses[%zu].resumed_on is not a valid date", i);
        } else if (cu_date_cmp(p->resumed_on, p->paused_on) < 0) {
            return cu_err_set(err, CU_EINVAL, "pauses[%zu] ends before it starts", i);
        }
        if (i > 0 && cu_date_cmp(p->paused_on, c->pauses[i - 1].resumed_on) < 0)
            return cu_err_set(err, CU_EINVAL, "pauses[%zu] starts before pauses[%zu] ends", i,
                              i - 1);
    }
    return CU_OK;
}

/* One deadline: `months` months from the start, moved out by the pauses that
 * began on or before it, then rolled to a working day. */
static void one_deadline(const cu_clock *c, int64_t start, int months, const cu_holidays *h,
                         int64_t today, int64_t *due, int64_t *paused_days, bool *beyond)
{
    int64_t run = cu_date_to_days(cu_date_add_months(cu_date_of_days(start), months));
    int64_t stopped = 0;
    for (size_t i = 0; i < c->npauses; i++) {
        const cu_pause *p = &c->pauses[i];
        int64_t from = cu_date_to_days(p->paused_on);
        int64_t to = cu_date_is_none(p->resumed_on) ? today : cu_date_to_days(p->resumed_on);
        if (from < start)
            from = start; /* the clock had not started: nothing to stop */
        if (to <= from)
            continue;
        if (from > roll(run, h, beyond))
            continue; /* already overdue when it paused: a pause does not revive it */
        run += to - from;
        stopped += to - from;
    }
    *due = roll(run, h, beyond);
    *paused_days = stopped;
}

int cu_deadline_compute(const cu_clock *c, const cu_holidays *h, cu_date today,
                        cu_deadline *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_clock(c, today, err);
    if (rc)
        return rc;
    cu_date start = cu_clock_start(c->received_on, c->evidence_on);
    int64_t s = cu_date_to_days(start), t = cu_date_to_days(today);
    int64_t one, three, paused_one, paused_three;
    bool beyond_one = h == NULL, beyond_three = h == NULL;
    one_deadline(c, s, 1, h, t, &one, &paused_one, &beyond_one);
    one_deadline(c, s, 3, h, t, &three, &paused_three, &beyond_three);
    if (three > cu_date_to_days((cu_date){9999, 12, 31}))
        return cu_err_set(err, CU_EINVAL, "the deadline would fall after 9999-12-31");
    out->start = start;
    out->due_one_month = cu_date_of_days(one);
    out->due_extended = cu_date_of_days(three);
    out->due = c->extended ? out->due_extended : out->due_one_month;
    out->paused_days = c->extended ? paused_three : paused_one;
    out->days_left = (c->extended ? three : one) - t;
    out->paused = c->npauses && cu_date_is_none(c->pauses[c->npauses - 1].resumed_on);
    out->beyond_calendar = c->extended ? beyond_three : beyond_one;
    return CU_OK;
}

int cu_extension_notice_by(const cu_clock *c, const cu_holidays *h, cu_date today, cu_date *out,
                           cu_err *err)
{
    cu_deadline d;
    int rc = cu_deadline_compute(c, h, today, &d, err);
    *out = rc ? CU_DATE_NONE : d.due_one_month;
    return rc;
}
