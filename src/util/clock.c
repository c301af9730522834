#include "util/clock.h"

#include <stdlib.h>
#include <time.h>

int64_t cu_now_us(void)
{
#ifdef CUSTOS_TEST_CLOCK
    const char *fake = getenv("CUSTOS_FAKE_NOW");
    if (fake && *fake) {
        char *end = NULL;
        long long s = strtoll(fake, &end, 10);
        if (end && *end == '\0' && s > 0)
            return (int64_t)s * 1000000;
    }
#endif
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool cu_is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int cu_days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && cu_is_leap_year(y) ? 29 : days[m - 1];
}

bool cu_date_valid(cu_date d)
{
    return d.year >= 1850 && d.year <= 9999 && d.month >= 1 && d.month <= 12 &&
           d.day >= 1 && d.day <= cu_days_in_month(d.year, d.month);
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool cu_date_parse(const char *s, size_t len, cu_date *out)
{
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    cu_date d = {digits(s, 4), digits(s + 5, 2), digits(s + 8, 2)};
    if (d.year < 0 || d.month < 0 || d.day < 0 || !cu_date_valid(d))
        return false;
    *out = d;
    return true;
}

/* Civil-from-days, after Howard Hinnant's public-domain algorithm. */
static cu_date civil_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return (cu_date){(int)(y + (m <= 2)), (int)m, (int)d};
}

cu_date cu_date_of_days(int64_t days)
{
    return civil_from_days(days);
}

int cu_date_weekday(cu_date d)
{
    /* 1970-01-01 was a Thursday (ISO 4). */
    int64_t r = (cu_date_to_days(d) + 3) % 7;
    return (int)(r < 0 ? r + 7 : r) + 1;
}

cu_date cu_date_add_months(cu_date d, int months)
{
    int64_t m0 = (int64_t)d.year * 12 + (d.month - 1) + months;
    int64_t y = m0 >= 0 ? m0 / 12 : -((-m0 + 11) / 12);
    cu_date r = {(int)y, (int)(m0 - y * 12) + 1, d.day};
    int last = cu_days_in_month(r.year, r.month);
    if (r.day > last)
        r.day = last;
    return r;
}

cu_date cu_date_of_us(int64_t us)
{
    int64_t days = us / 86400000000LL;
    if (us < 0 && us % 86400000000LL)
        days--;
    return civil_from_days(days);
}

int cu_date_cmp(cu_date a, cu_date b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    if (a.day != b.day)
        return a.day < b.day ? -1 : 1;
    return 0;
}

/* Writes v as exactly n decimal digits. */
static void put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void cu_time_format(int64_t us, char out[CU_TIME_STRLEN])
{
    /* The format has room for years 0000 to 9999 only: a time outside them
     * (a corrupt or hostile value) is shown as the nearest of the two ends,
     * so the result is always CU_TIME_STRLEN - 1 characters. */
    const int64_t first_us = -62167219200000000LL; /* 0000-01-01T00:00:00Z */
    const int64_t last_us = 253402300799999999LL;  /* 9999-12-31T23:59:59.999999Z */
    if (us < first_us)
        us = first_us;
    else if (us > last_us)
        us = last_us;
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    cu_date d = civil_from_days(days);
    /* "YYYY-MM-DDTHH:MM:SS.ffffffZ", without printf: this runs for every time
     * a response shows. */
    put_digits(out, d.year, 4);
    out[4] = '-';
    put_digits(out + 5, d.month, 2);
    out[7] = '-';
    put_digits(out + 8, d.day, 2);
    out[10] = 'T';
    put_digits(out + 11, rem / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, rem / 60 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, rem % 60, 2);
    out[19] = '.';
    put_digits(out + 20, frac, 6);
    out[26] = 'Z';
    out[27] = '\0';
}

int64_t cu_date_to_days(cu_date d)
{
    int64_t y = d.year - (d.month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool cu_time_parse(const char *s, size_t len, int64_t *out_us)
{
    cu_date d;
    if (len < 10 || !cu_date_parse(s, 10, &d))
        return false;
    int64_t us = cu_date_to_days(d) * 86400000000LL;
    if (len == 10) {
        *out_us = us;
        return true;
    }
    if (len < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len - 1] != 'Z')
        return false;
    int hh = digits(s + 11, 2), mm = digits(s + 14, 2), ss = digits(s + 17, 2);
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59)
        return false;
    int64_t frac = 0;
    size_t rest = len - 20; /* characters between the seconds and the Z */
    if (rest) {
        if (s[19] != '.' || rest < 2 || rest > 7)
            return false;
        int f = digits(s + 20, (int)(rest - 1));
        if (f < 0)
            return false;
        frac = f;
        for (size_t i = rest - 1; i < 6; i++)
            frac *= 10;
    }
    *out_us = us + ((int64_t)hh * 3600 + mm * 60 + ss) * 1000000 + frac;
    return true;
}
