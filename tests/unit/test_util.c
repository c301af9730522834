/*
 * test_util.c — util: err, buf, clock, file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdir.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/jsonw.h"
#include "util/err.h"
#include "util/file.h"

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

/* ---------------------------------------------------------------- err ---- */

static void test_err_first_wins(void **state)
{
    (void)state;
    cu_err e;
    cu_err_clear(&e);
    assert_int_equal(e.code, CU_OK);
    assert_string_equal(e.msg, "");
    assert_int_equal(cu_err_set(&e, CU_EINVAL, "field %s is bad", "email"), CU_EINVAL);
    assert_int_equal(e.code, CU_EINVAL);
    assert_string_equal(e.msg, "field email is bad");
    /* A later error does not overwrite the cause. */
    assert_int_equal(cu_err_set(&e, CU_EIO, "later failure"), CU_EIO);
    assert_int_equal(e.code, CU_EINVAL);
    assert_string_equal(e.msg, "field email is bad");
    /* NULL is allowed and returns the code. */
    assert_int_equal(cu_err_set(NULL, CU_EKEY, "x"), CU_EKEY);
    cu_err_clear(&e);
    assert_int_equal(e.code, CU_OK);
    cu_err_clear(NULL);
}

static void test_err_truncates(void **state)
{
    (void)state;
    cu_err e;
    cu_err_clear(&e);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cu_err_set(&e, CU_EINVAL, "%s", big);
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
}

static void test_status_names(void **state)
{
    (void)state;
    static const struct {
        cu_status code;
        const char *name;
    } cases[] = {
        {CU_OK, "ok"},           {CU_EINVAL, "invalid"},   {CU_ENOTFOUND, "not_found"},
        {CU_EERASED, "erased"},  {CU_EDENIED, "denied"},   {CU_ECONFLICT, "conflict"},
        {CU_EKEY, "key"},        {CU_EVERSION, "version"}, {CU_ECORRUPT, "corrupt"},
        {CU_ETAMPER, "tamper"},  {CU_EIO, "io"},           {CU_ENOMEM, "no_memory"},
        {CU_EINTERNAL, "internal"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(cu_status_name(cases[i].code), cases[i].name);
    assert_string_equal(cu_status_name((cu_status)999), "internal");
}

/* ---------------------------------------------------------------- buf ---- */

static void test_buf_append_basic(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 0);
    assert_int_equal(b.limit, CU_BUF_DEFAULT_LIMIT);
    assert_string_equal(cu_buf_str(&b), "");
    assert_int_equal(cu_buf_append_str(&b, "hello"), CU_OK);
    assert_int_equal(cu_buf_append(&b, ", ", 2), CU_OK);
    assert_int_equal(cu_buf_append_str(&b, "world"), CU_OK);
    assert_int_equal(b.len, 12);
    assert_string_equal(cu_buf_str(&b), "hello, world");
    assert_true(b.cap_alloc > b.len);
    assert_int_equal(b.data[b.len], '\0');
    /* Zero-length append of NULL is harmless. */
    assert_int_equal(cu_buf_append(&b, NULL, 0), CU_OK);
    assert_int_equal(b.len, 12);
    /* Embedded NUL bytes are kept. */
    assert_int_equal(cu_buf_append(&b, "a\0b", 3), CU_OK);
    assert_int_equal(b.len, 15);
    assert_memory_equal(b.data + 12, "a\0b", 3);
    cu_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap_alloc, 0);
}

static void test_buf_grows(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 0);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(cu_buf_append(&b, "0123456789", 10), CU_OK);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap_alloc >= 100001);
    for (size_t i = 0; i < b.len; i++)
        CHECK(b.data[i] == (unsigned char)('0' + i % 10), "byte %zu wrong", i);
    assert_int_equal(b.data[b.len], '\0');
    cu_buf_release(&b);
}

static void test_buf_integers(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 0);
    assert_int_equal(cu_buf_append_u32be(&b, 0x01020304u), CU_OK);
    assert_int_equal(cu_buf_append_u64be(&b, 0x1122334455667788ull), CU_OK);
    assert_int_equal(cu_buf_append_field(&b, "abc", 3), CU_OK);
    assert_int_equal(cu_buf_append_field(&b, NULL, 0), CU_OK);
    static const unsigned char want[] = {1,    2,    3,    4,    0x11, 0x22, 0x33, 0x44,
                                         0x55, 0x66, 0x77, 0x88, 0,    0,    0,    3,
                                         'a',  'b',  'c',  0,    0,    0,    0};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    cu_buf_release(&b);
}

static void test_buf_limit_refusal(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 10);
    assert_int_equal(cu_buf_append(&b, "0123456789", 10), CU_OK);
    assert_int_equal(b.len, 10);
    /* One more byte is refused and the buffer is unchanged. */
    assert_int_equal(cu_buf_append(&b, "x", 1), CU_ENOMEM);
    assert_int_equal(b.len, 10);
    assert_string_equal(cu_buf_str(&b), "0123456789");
    assert_int_equal(cu_buf_append_u32be(&b, 1), CU_ENOMEM);
    assert_int_equal(cu_buf_printf(&b, "%d", 7), CU_ENOMEM);
    assert_int_equal(b.len, 10);
    assert_string_equal(cu_buf_str(&b), "0123456789");
    /* Zero bytes still fit. */
    assert_int_equal(cu_buf_append(&b, "", 0), CU_OK);
    /* Reserve beyond the limit, including a size that would overflow. */
    assert_int_equal(cu_buf_reserve(&b, SIZE_MAX), CU_ENOMEM);
    assert_int_equal(cu_buf_reserve(&b, SIZE_MAX - 5), CU_ENOMEM);
    assert_true(b.cap_alloc <= b.limit + 1);
    cu_buf_release(&b);

    /* A single append larger than the limit is refused on an empty buffer. */
    cu_buf_init(&b, 4);
    assert_int_equal(cu_buf_append(&b, "hello", 5), CU_ENOMEM);
    assert_int_equal(b.len, 0);
    assert_string_equal(cu_buf_str(&b), "");
    assert_int_equal(cu_buf_append(&b, "hell", 4), CU_OK);
    assert_string_equal(cu_buf_str(&b), "hell");
    cu_buf_release(&b);
}

static void test_buf_reset(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 0);
    cu_buf_reset(&b); /* on an empty buffer */
    assert_int_equal(b.len, 0);
    assert_int_equal(cu_buf_append_str(&b, "secret value"), CU_OK);
    unsigned char *data = b.data;
    size_t cap = b.cap_alloc;
    cu_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(cu_buf_str(&b), "");
    /* The allocation is kept and the old bytes are wiped. */
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap_alloc, cap);
    for (size_t i = 0; i < strlen("secret value"); i++)
        CHECK(b.data[i] == 0, "byte %zu not wiped", i);
    assert_int_equal(cu_buf_append_str(&b, "new"), CU_OK);
    assert_string_equal(cu_buf_str(&b), "new");
    cu_buf_release(&b);
}

static void test_buf_printf(void **state)
{
    (void)state;
    cu_buf b;
    cu_buf_init(&b, 0);
    assert_int_equal(cu_buf_printf(&b, "%s=%d", "a", 42), CU_OK);
    assert_int_equal(cu_buf_printf(&b, ";%05.1f", 3.14159), CU_OK);
    assert_int_equal(cu_buf_printf(&b, "%s", ""), CU_OK);
    assert_string_equal(cu_buf_str(&b), "a=42;003.1");
    assert_int_equal(b.len, strlen("a=42;003.1"));
    /* A long formatted string grows the buffer. */
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(cu_buf_printf(&b, "[%s]", big), CU_OK);
    assert_int_equal(b.len, strlen("a=42;003.1") + 2 + sizeof big - 1);
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    cu_buf_release(&b);

    /* printf exactly to the limit fits; one byte over is refused intact. */
    cu_buf_init(&b, 6);
    assert_int_equal(cu_buf_printf(&b, "%d", 123), CU_OK);
    assert_int_equal(cu_buf_printf(&b, "%d", 456), CU_OK);
    assert_string_equal(cu_buf_str(&b), "123456");
    assert_int_equal(cu_buf_printf(&b, "%c", 'x'), CU_ENOMEM);
    assert_string_equal(cu_buf_str(&b), "123456");
    cu_buf_release(&b);
}

/* Every byte value inside a string: itself, or the escape JSON needs
 * ('"' and '\\' by backslash, control characters and DEL as \u00XX). */
static void test_jw_string_escapes(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        char in[3] = {'a', (char)c, 'b'}, want[16];
        if (c == '"' || c == '\\')
            snprintf(want, sizeof want, "[\"a\\%cb\"]", c);
        else if (c < 0x20 || c == 0x7f)
            snprintf(want, sizeof want, "[\"a\\u%04xb\"]", c);
        else
            snprintf(want, sizeof want, "[\"a%cb\"]", c);
        cu_buf b;
        cu_buf_init(&b, 0);
        cu_jw w;
        cu_jw_init(&w, &b);
        cu_jw_begin_array(&w);
        cu_jw_string(&w, in, sizeof in);
        cu_jw_end_array(&w);
        assert_int_equal(w.rc, CU_OK);
        if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0)
            fail_msg("byte 0x%02x: got %s, want %s", c, (const char *)b.data, want);
        cu_buf_release(&b);
    }
    /* A long run with escapes at both ends, and one that does not fit the limit. */
    char big[300];
    memset(big, 'x', sizeof big);
    big[0] = '\n';
    big[sizeof big - 1] = '"';
    cu_buf b;
    cu_buf_init(&b, 0);
    cu_jw w;
    cu_jw_init(&w, &b);
    cu_jw_string(&w, big, sizeof big);
    assert_int_equal(w.rc, CU_OK);
    assert_int_equal(b.len, sizeof big + 2 + 5 + 1);
    assert_memory_equal(b.data, "\"\\u000axxx", 10);
    assert_memory_equal(b.data + b.len - 4, "x\\\"\"", 4);
    cu_buf_release(&b);
    cu_buf_init(&b, 100);
    cu_jw_init(&w, &b);
    cu_jw_string(&w, big + 1, 150);
    assert_int_equal(w.rc, CU_ENOMEM);
    cu_buf_release(&b);
}

static void test_strlcpy(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        size_t dstsz;
        int rc;
        const char *want;
    } cases[] = {
        {"hello", 10, 0, "hello"}, {"hello", 6, 0, "hello"}, {"hello", 5, -1, "hell"},
        {"hello", 2, -1, "h"},     {"hello", 1, -1, ""},     {"", 1, 0, ""},
        {"", 4, 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dst[16];
        memset(dst, 'Z', sizeof dst);
        int rc = cu_strlcpy(dst, cases[i].src, cases[i].dstsz);
        CHECK(rc == cases[i].rc, "case %zu: rc %d", i, rc);
        CHECK(strcmp(dst, cases[i].want) == 0, "case %zu: got '%s'", i, dst);
        /* Nothing is written beyond dstsz. */
        for (size_t j = cases[i].dstsz; j < sizeof dst; j++)
            CHECK(dst[j] == 'Z', "case %zu: byte %zu overwritten", i, j);
    }
    char dst[4] = "abc";
    assert_int_equal(cu_strlcpy(dst, "x", 0), -1);
    assert_string_equal(dst, "abc");
}

/* -------------------------------------------------------------- clock ---- */

static void test_leap_years(void **state)
{
    (void)state;
    static const struct {
        int year;
        bool leap;
    } cases[] = {
        {1900, false}, {2000, true},  {2023, false}, {2024, true}, {2100, false},
        {2400, true},  {1996, true},  {1999, false}, {1600, true}, {1850, false},
        {9996, true},  {9999, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(cu_is_leap_year(cases[i].year) == cases[i].leap, "year %d", cases[i].year);
}

static void test_days_in_month(void **state)
{
    (void)state;
    static const int normal[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = 1; m <= 12; m++) {
        CHECK(cu_days_in_month(2023, m) == normal[m - 1], "2023-%02d", m);
        CHECK(cu_days_in_month(2024, m) == (m == 2 ? 29 : normal[m - 1]), "2024-%02d", m);
    }
    assert_int_equal(cu_days_in_month(1900, 2), 28);
    assert_int_equal(cu_days_in_month(2000, 2), 29);
    assert_int_equal(cu_days_in_month(2024, 0), 0);
    assert_int_equal(cu_days_in_month(2024, 13), 0);
    assert_int_equal(cu_days_in_month(2024, -1), 0);
}

static void test_date_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
        int y, m, d;
    } cases[] = {
        {"2024-02-29", true, 2024, 2, 29},
        {"2023-02-28", true, 2023, 2, 28},
        {"2023-02-29", false, 0, 0, 0},
        {"1900-02-29", false, 0, 0, 0},
        {"2000-02-29", true, 2000, 2, 29},
        {"2023-04-31", false, 0, 0, 0},
        {"2023-04-30", true, 2023, 4, 30},
        {"2023-12-31", true, 2023, 12, 31},
        {"2023-01-01", true, 2023, 1, 1},
        {"1850-01-01", true, 1850, 1, 1},
        {"1849-12-31", false, 0, 0, 0},
        {"9999-12-31", true, 9999, 12, 31},
        {"0000-01-01", false, 0, 0, 0},
        {"2023-13-01", false, 0, 0, 0},
        {"2023-00-10", false, 0, 0, 0},
        {"2023-01-00", false, 0, 0, 0},
        {"2023-01-32", false, 0, 0, 0},
        {"2023-1-01", false, 0, 0, 0},
        {"2023-01-1", false, 0, 0, 0},
        {"23-01-01", false, 0, 0, 0},
        {"2023/01/01", false, 0, 0, 0},
        {"2023-01-01 ", false, 0, 0, 0},
        {" 2023-01-01", false, 0, 0, 0},
        {"2023-01-01T00:00:00Z", false, 0, 0, 0},
        {"2023-0a-01", false, 0, 0, 0},
        {"+023-01-01", false, 0, 0, 0},
        {"2023-+1-01", false, 0, 0, 0},
        {"2023-01--1", false, 0, 0, 0},
        {"", false, 0, 0, 0},
        {"abcdefghij", false, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cu_date d = {-7, -7, -7};
        bool ok = cu_date_parse(cases[i].s, strlen(cases[i].s), &d);
        CHECK(ok == cases[i].ok, "'%s': parse returned %d", cases[i].s, ok);
        if (ok) {
            CHECK(d.year == cases[i].y && d.month == cases[i].m && d.day == cases[i].d,
                  "'%s': got %d-%d-%d", cases[i].s, d.year, d.month, d.day);
            CHECK(cu_date_valid(d), "'%s' not valid", cases[i].s);
        } else {
            CHECK(d.year == -7 && d.month == -7 && d.day == -7, "'%s': out written on failure",
                  cases[i].s);
        }
    }
    /* The length is honoured: no NUL is needed and trailing bytes are not read. */
    cu_date d;
    assert_true(cu_date_parse("2024-02-29XYZ", 10, &d));
    assert_int_equal(d.day, 29);
    assert_false(cu_date_parse("2024-02-29", 9, &d));
}

static void test_date_cmp(void **state)
{
    (void)state;
    cu_date a = {2024, 2, 29}, b = {2024, 3, 1}, c = {2023, 12, 31};
    assert_true(cu_date_cmp(a, b) < 0);
    assert_true(cu_date_cmp(b, a) > 0);
    assert_true(cu_date_cmp(c, a) < 0);
    assert_int_equal(cu_date_cmp(a, a), 0);
    assert_true(cu_date_cmp((cu_date){2024, 2, 1}, (cu_date){2024, 2, 2}) < 0);
}

static void test_time_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
        int64_t us;
    } cases[] = {
        {"1970-01-01", true, 0},
        {"1970-01-02", true, 86400000000LL},
        {"2000-03-01", true, 951868800000000LL},
        {"2024-02-29", true, 1709164800000000LL},
        {"1969-12-31", true, -86400000000LL},
        {"1970-01-01T00:00:00Z", true, 0},
        {"1970-01-01T00:00:01Z", true, 1000000},
        {"2024-02-29T12:34:56Z", true, 1709210096000000LL},
        {"2024-02-29T12:34:56.5Z", true, 1709210096500000LL},
        {"2024-02-29T12:34:56.05Z", true, 1709210096050000LL},
        {"2024-02-29T12:34:56.123Z", true, 1709210096123000LL},
        {"2024-02-29T12:34:56.123456Z", true, 1709210096123456LL},
        {"2024-02-29T12:34:56.000001Z", true, 1709210096000001LL},
        {"2024-02-29T23:59:59.999999Z", true, 1709251199999999LL},
        {"2024-02-29T12:34:56.1234567Z", false, 0},
        {"2024-02-29T12:34:56.Z", false, 0},
        {"2024-02-29T12:34:56", false, 0},
        {"2024-02-29T12:34:56+00:00", false, 0},
        {"2024-02-29 12:34:56Z", false, 0},
        {"2024-02-29T24:00:00Z", false, 0},
        {"2024-02-29T12:60:00Z", false, 0},
        {"2024-02-29T12:00:60Z", false, 0},
        {"2024-02-29T1:00:00Z", false, 0},
        {"2024-02-29T12:34:56,5Z", false, 0},
        {"2024-02-29T12:34:56.5aZ", false, 0},
        {"2024-02-29T12-34-56Z", false, 0},
        {"2024-02-29T", false, 0},
        {"2024-02-29Z", false, 0},
        {"2023-02-29", false, 0},
        {"2023-02-29T00:00:00Z", false, 0},
        {"2024-2-29", false, 0},
        {"", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us = 424242;
        bool ok = cu_time_parse(cases[i].s, strlen(cases[i].s), &us);
        CHECK(ok == cases[i].ok, "'%s': parse returned %d", cases[i].s, ok);
        if (ok)
            CHECK(us == cases[i].us, "'%s': got %lld, want %lld", cases[i].s, (long long)us,
                  (long long)cases[i].us);
        else
            CHECK(us == 424242, "'%s': out written on failure", cases[i].s);
    }
}

static void test_time_format(void **state)
{
    (void)state;
    static const struct {
        int64_t us;
        const char *s;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000000Z"},
        {1, "1970-01-01T00:00:00.000001Z"},
        {-1, "1969-12-31T23:59:59.999999Z"},
        {1709210096123456LL, "2024-02-29T12:34:56.123456Z"},
        {951782400000000LL, "2000-02-29T00:00:00.000000Z"},
        {-2208988800000000LL, "1900-01-01T00:00:00.000000Z"},
        {253402300799999999LL, "9999-12-31T23:59:59.999999Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[CU_TIME_STRLEN];
        cu_time_format(cases[i].us, out);
        CHECK(strcmp(out, cases[i].s) == 0, "%lld: got %s", (long long)cases[i].us, out);
        assert_int_equal(strlen(out), CU_TIME_STRLEN - 1);
        int64_t back = 0;
        CHECK(cu_time_parse(out, strlen(out), &back), "%s does not parse", out);
        CHECK(back == cases[i].us, "%s: round trip gave %lld", out, (long long)back);
    }
}

static void test_time_format_out_of_range(void **state)
{
    (void)state;
    /* Years the format cannot hold are shown as the nearest end, never cut
     * short or widened. */
    static const struct {
        int64_t us;
        const char *s;
    } cases[] = {
        {INT64_MIN, "0000-01-01T00:00:00.000000Z"},
        {-62167219200000001LL, "0000-01-01T00:00:00.000000Z"},
        {-62167219200000000LL, "0000-01-01T00:00:00.000000Z"},
        {253402300800000000LL, "9999-12-31T23:59:59.999999Z"},
        {INT64_MAX, "9999-12-31T23:59:59.999999Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[CU_TIME_STRLEN];
        memset(out, 'x', sizeof out);
        cu_time_format(cases[i].us, out);
        CHECK(memchr(out, '\0', sizeof out) != NULL, "%lld: not terminated",
              (long long)cases[i].us);
        CHECK(strcmp(out, cases[i].s) == 0, "%lld: got %s", (long long)cases[i].us, out);
    }
}

static void test_time_format_round_trip_range(void **state)
{
    (void)state;
    /* A spread of times from 1850 to 9999, including odd microseconds. */
    int64_t lo = -3786825600000000LL;   /* 1850-01-01 */
    int64_t hi = 253402300799999999LL;  /* 9999-12-31T23:59:59.999999 */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t us = lo + (int64_t)(x % (uint64_t)(hi - lo));
        char out[CU_TIME_STRLEN];
        cu_time_format(us, out);
        int64_t back = 0;
        CHECK(cu_time_parse(out, strlen(out), &back), "%s does not parse", out);
        CHECK(back == us, "%lld -> %s -> %lld", (long long)us, out, (long long)back);
    }
}

static void test_date_days_inverse(void **state)
{
    (void)state;
    /* Every day from 1850-01-01 to 9999-12-31: days <-> date are inverses, and
     * each step moves to the next calendar day. */
    cu_date first = {1850, 1, 1}, last = {9999, 12, 31};
    int64_t d0 = cu_date_to_days(first), d1 = cu_date_to_days(last);
    assert_int_equal(cu_date_to_days((cu_date){1970, 1, 1}), 0);
    assert_int_equal(cu_date_to_days((cu_date){2000, 3, 1}), 11017);
    assert_int_equal(cu_date_to_days((cu_date){1969, 12, 31}), -1);
    cu_date expect = first;
    for (int64_t days = d0; days <= d1; days++) {
        cu_date d = cu_date_of_us(days * 86400000000LL);
        if (cu_date_cmp(d, expect) != 0)
            fail_msg("day %lld: got %d-%d-%d, want %d-%d-%d", (long long)days, d.year,
                     d.month, d.day, expect.year, expect.month, expect.day);
        if (cu_date_to_days(d) != days)
            fail_msg("day %lld: to_days gave %lld", (long long)days,
                     (long long)cu_date_to_days(d));
        /* Any time within the day maps to the same date. */
        cu_date late = cu_date_of_us(days * 86400000000LL + 86399999999LL);
        if (cu_date_cmp(late, d) != 0)
            fail_msg("day %lld: last microsecond maps elsewhere", (long long)days);
        /* advance expect by one day */
        if (++expect.day > cu_days_in_month(expect.year, expect.month)) {
            expect.day = 1;
            if (++expect.month > 12) {
                expect.month = 1;
                expect.year++;
            }
        }
    }
    /* Negative times just before midnight belong to the previous day. */
    cu_date d = cu_date_of_us(-1);
    assert_int_equal(d.year, 1969);
    assert_int_equal(d.month, 12);
    assert_int_equal(d.day, 31);
}

static void test_date_calendar_helpers(void **state)
{
    (void)state;
    /* Days -> date is the inverse of date -> days, and weekdays step 1..7. */
    int prev = 0;
    for (int64_t days = -800000; days <= 3000000; days += 997) {
        cu_date d = cu_date_of_days(days);
        CHECK(cu_date_to_days(d) == days, "day %lld", (long long)days);
        int wd = cu_date_weekday(d);
        CHECK(wd >= 1 && wd <= 7, "weekday %d", wd);
        CHECK(prev == 0 || wd == (prev - 1 + 997) % 7 + 1, "weekday of day %lld", (long long)days);
        prev = wd;
    }
    assert_int_equal(cu_date_weekday((cu_date){1970, 1, 1}), 4);  /* Thursday */
    assert_int_equal(cu_date_weekday((cu_date){2024, 1, 1}), 1);  /* Monday */
    assert_int_equal(cu_date_weekday((cu_date){2024, 12, 29}), 7); /* Sunday */
    assert_int_equal(cu_date_weekday((cu_date){1969, 12, 28}), 7);
    assert_int_equal(cu_date_weekday((cu_date){2100, 1, 1}), 5);  /* Friday */

    /* Same day of the month, or the month's last day. */
    static const struct {
        cu_date from;
        int months;
        cu_date to;
    } m[] = {
        {{2024, 1, 31}, 1, {2024, 2, 29}},   {{2023, 1, 31}, 1, {2023, 2, 28}},
        {{2100, 1, 31}, 1, {2100, 2, 28}},   {{2000, 1, 31}, 1, {2000, 2, 29}},
        {{2024, 3, 31}, 1, {2024, 4, 30}},   {{2024, 12, 31}, 1, {2025, 1, 31}},
        {{2024, 11, 30}, 3, {2025, 2, 28}},  {{2024, 2, 29}, 12, {2025, 2, 28}},
        {{2024, 2, 29}, 48, {2028, 2, 29}},  {{2024, 9, 3}, 0, {2024, 9, 3}},
        {{2024, 3, 31}, -1, {2024, 2, 29}},  {{2024, 1, 15}, -1, {2023, 12, 15}},
        {{2024, 1, 15}, -13, {2022, 12, 15}}, {{2024, 5, 31}, -24, {2022, 5, 31}},
        {{2024, 8, 31}, 96, {2032, 8, 31}},  {{9999, 10, 15}, 3, {10000, 1, 15}},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        cu_date r = cu_date_add_months(m[i].from, m[i].months);
        CHECK(cu_date_cmp(r, m[i].to) == 0, "case %zu: %d-%d-%d", i, r.year, r.month, r.day);
    }
}

#ifdef CUSTOS_TEST_CLOCK
static void test_fake_now(void **state)
{
    (void)state;
    const char *old = getenv("CUSTOS_FAKE_NOW");
    char *saved = old ? strdup(old) : NULL;

    assert_int_equal(setenv("CUSTOS_FAKE_NOW", "1700000000", 1), 0);
    assert_int_equal(cu_now_us(), 1700000000LL * 1000000);
    cu_date d = cu_date_of_us(cu_now_us());
    assert_int_equal(d.year, 2023);
    assert_int_equal(d.month, 11);
    assert_int_equal(d.day, 14);

    /* Garbage, zero or negative values are ignored: the real clock applies. */
    static const char *const ignored[] = {"abc", "0", "-5", "12x", ""};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        assert_int_equal(setenv("CUSTOS_FAKE_NOW", ignored[i], 1), 0);
        int64_t now = cu_now_us();
        CHECK(now > 1700000000LL * 1000000, "'%s': now %lld", ignored[i], (long long)now);
    }
    assert_int_equal(unsetenv("CUSTOS_FAKE_NOW"), 0);
    int64_t a = cu_now_us(), b = cu_now_us();
    assert_true(a > 1700000000LL * 1000000);
    assert_true(b >= a);

    if (saved) {
        setenv("CUSTOS_FAKE_NOW", saved, 1);
        free(saved);
    }
}
#endif

/* --------------------------------------------------------------- file ---- */

static void test_write_file_atomic(void **state)
{
    const char *dir = *state;
    char p[PATH_MAX];
    testdir_path(p, sizeof p, dir, "f.txt");
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_write_file_atomic(p, "one\n", 4, 0600, 0, &err), CU_OK);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 4);

    /* Without replace an existing file is refused and kept. */
    assert_int_equal(cu_write_file_atomic(p, "two\n", 4, 0600, 0, &err), CU_ECONFLICT);
    assert_int_equal(err.code, CU_ECONFLICT);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    char got[16] = "";
    assert_non_null(fgets(got, sizeof got, f));
    fclose(f);
    assert_string_equal(got, "one\n");

    /* With replace it is replaced, with the new mode. */
    cu_err_clear(&err);
    assert_int_equal(cu_write_file_atomic(p, "three\n", 6, 0640, 1, &err), CU_OK);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, sizeof got, f));
    fclose(f);
    assert_string_equal(got, "three\n");

    /* No temporary files are left behind. */
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", p, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);

    /* A missing directory is an I/O error. */
    char bad[PATH_MAX];
    testdir_path(bad, sizeof bad, dir, "nodir/x");
    cu_err_clear(&err);
    assert_int_equal(cu_write_file_atomic(bad, "x", 1, 0600, 0, &err), CU_EIO);
}

static void test_read_stream(void **state)
{
    const char *dir = *state;
    char p[PATH_MAX];
    testdir_path(p, sizeof p, dir, "in.bin");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    for (int i = 0; i < 20000; i++)
        fputc('a' + i % 26, f);
    fclose(f);

    cu_err err;
    cu_buf b;
    cu_buf_init(&b, 0);
    cu_err_clear(&err);
    f = fopen(p, "rb");
    assert_int_equal(cu_read_stream(f, 20000, &b, &err), CU_OK);
    fclose(f);
    assert_int_equal(b.len, 20000);
    assert_int_equal(b.data[19999], 'a' + 19999 % 26);
    cu_buf_release(&b);

    cu_buf_init(&b, 0);
    f = fopen(p, "rb");
    assert_int_equal(cu_read_stream(f, 19999, &b, &err), CU_EINVAL);
    fclose(f);
    assert_int_equal(err.code, CU_EINVAL);
    assert_non_null(strstr(err.msg, "19999"));
    cu_buf_release(&b);
}

static void test_mkdir_p(void **state)
{
    const char *dir = *state;
    char p[PATH_MAX];
    testdir_path(p, sizeof p, dir, "a/b/c");
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_mkdir_p(p, &err), CU_OK);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    /* Existing directories are fine. */
    assert_int_equal(cu_mkdir_p(p, &err), CU_OK);
    /* A file in the way is an error. */
    char file[PATH_MAX], under[PATH_MAX];
    testdir_path(file, sizeof file, dir, "plain");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    testdir_path(under, sizeof under, dir, "plain/sub");
    assert_int_equal(cu_mkdir_p(under, &err), CU_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_first_wins),
        cmocka_unit_test(test_err_truncates),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_buf_append_basic),
        cmocka_unit_test(test_buf_grows),
        cmocka_unit_test(test_buf_integers),
        cmocka_unit_test(test_buf_limit_refusal),
        cmocka_unit_test(test_buf_reset),
        cmocka_unit_test(test_buf_printf),
        cmocka_unit_test(test_strlcpy),
        cmocka_unit_test(test_jw_string_escapes),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_days_in_month),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_date_cmp),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_format_out_of_range),
        cmocka_unit_test(test_time_format_round_trip_range),
        cmocka_unit_test(test_date_days_inverse),
        cmocka_unit_test(test_date_calendar_helpers),
#ifdef CUSTOS_TEST_CLOCK
        cmocka_unit_test(test_fake_now),
#endif
        cmocka_unit_test_setup_teardown(test_write_file_atomic, testdir_setup, testdir_teardown),
        cmocka_unit_test_setup_teardown(test_read_stream, testdir_setup, testdir_teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_p, testdir_setup, testdir_teardown),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
