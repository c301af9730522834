/*
 * test_nhs.c — NHS number validation (Modulus 11), canonical and display
 * forms, and the test-range flag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "domain/nhs.h"

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

typedef struct nhs_case {
    const char *in;
    cu_nhs_status st;
    const char *digits;  /* canonical form when valid */
    const char *display; /* 3-3-4 form when valid */
    bool test;           /* in the 999 test range */
} nhs_case;

/* Check digits worked by hand from the rule in DESIGN.md: weights 10..2 over
 * digits 1-9, check = 11 - (sum mod 11), 11 -> 0, 10 -> invalid. */
static const nhs_case cases[] = {
    /* valid */
    {"9434765919", CU_NHS_OK, "9434765919", "943 476 5919", false},     /* sum 299, r 2 */
    {"943 476 5919", CU_NHS_OK, "9434765919", "943 476 5919", false},
    {"943-476-5919", CU_NHS_OK, "9434765919", "943 476 5919", false},
    {" 943 476 5919 ", CU_NHS_OK, "9434765919", "943 476 5919", false},
    {"9 4 3 4 7 6 5 9 1 9", CU_NHS_OK, "9434765919", "943 476 5919", false},
    {"943--476  5919", CU_NHS_OK, "9434765919", "943 476 5919", false},
    {"9990000018", CU_NHS_OK, "9990000018", "999 000 0018", true},      /* sum 245, r 3 */
    {"999 000 0026", CU_NHS_OK, "9990000026", "999 000 0026", true},    /* check 6 */
    {"9999999980", CU_NHS_OK, "9999999980", "999 999 9980", true},      /* check 11 -> 0 */
    {"9998765439", CU_NHS_OK, "9998765439", "999 876 5439", true},
    {"4010232137", CU_NHS_OK, "4010232137", "401 023 2137", false},     /* sum 92, r 4 */
    {"4857773457", CU_NHS_OK, "4857773457", "485 777 3457", false},
    {"1234567881", CU_NHS_OK, "1234567881", "123 456 7881", false},
    {"9434765900", CU_NHS_OK, "9434765900", "943 476 5900", false},     /* check 11 -> 0 */
    {"9980000007", CU_NHS_OK, "9980000007", "998 000 0007", false},     /* 998: not a test */
    {"9987654320", CU_NHS_OK, "9987654320", "998 765 4320", false},
    {"9900000005", CU_NHS_OK, "9900000005", "990 000 0005", false},
    {"0999000004", CU_NHS_OK, "0999000004", "099 900 0004", false},     /* 999 not leading */
    {"8999999998", CU_NHS_OK, "8999999998", "899 999 9998", false},
    /* check value 10: sum mod 11 == 1, never issued */
    {"1234567890", CU_NHS_CHECK_TEN, NULL, NULL, false},  /* sum 210 */
    {"1234567899", CU_NHS_CHECK_TEN, NULL, NULL, false},
    {"9990000000", CU_NHS_CHECK_TEN, NULL, NULL, false},  /* sum 243 */
    {"3162547890", CU_NHS_CHECK_TEN, NULL, NULL, false},
    {"0000000060", CU_NHS_CHECK_TEN, NULL, NULL, false},  /* 6*2 = 12 */
    /* mismatch */
    {"9434765918", CU_NHS_CHECK_MISMATCH, NULL, NULL, false},
    {"9434765910", CU_NHS_CHECK_MISMATCH, NULL, NULL, false},
    {"9990000017", CU_NHS_CHECK_MISMATCH, NULL, NULL, false},
    {"9434765991", CU_NHS_CHECK_MISMATCH, NULL, NULL, false}, /* transposition */
    {"4943765919", CU_NHS_CHECK_MISMATCH, NULL, NULL, false}, /* transposition */
    /* length */
    {"943476591", CU_NHS_BAD_LENGTH, NULL, NULL, false},      /* 9 digits */
    {"94347659190", CU_NHS_BAD_LENGTH, NULL, NULL, false},    /* 11 digits */
    {"943 476 59190", CU_NHS_BAD_LENGTH, NULL, NULL, false},
    {"9", CU_NHS_BAD_LENGTH, NULL, NULL, false},
    {"94347659199434765919", CU_NHS_BAD_LENGTH, NULL, NULL, false},
    /* characters */
    {"943476591A", CU_NHS_BAD_CHAR, NULL, NULL, false},
    {"A434765919", CU_NHS_BAD_CHAR, NULL, NULL, false},
    {"943.476.5919", CU_NHS_BAD_CHAR, NULL, NULL, false},
    {"943_476_5919", CU_NHS_BAD_CHAR, NULL, NULL, false},
    {"+449434765919", CU_NHS_BAD_CHAR, NULL, NULL, false},
    {"943\t476\t5919", CU_NHS_BAD_CHAR, NULL, NULL, false},
    {"９４３４７６５９１９", CU_NHS_BAD_CHAR, NULL, NULL, false}, /* full-width digits */
    {"NHS 943 476 5919", CU_NHS_BAD_CHAR, NULL, NULL, false},
    /* empty */
    {"", CU_NHS_EMPTY, NULL, NULL, false},
    {"   ", CU_NHS_EMPTY, NULL, NULL, false},
    {"- -", CU_NHS_EMPTY, NULL, NULL, false},
};

static void test_nhs_table(void **state)
{
    (void)state;
    size_t n = sizeof cases / sizeof cases[0];
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        const nhs_case *c = &cases[i];
        cu_nhs out;
        memset(&out, 0x5a, sizeof out);
        cu_nhs_status st = cu_nhs_parse(c->in, strlen(c->in), &out);
        CHECK(st == c->st, "case %zu '%s': status %d, want %d", i, c->in, st, c->st);
        if (st != CU_NHS_OK)
            continue;
        CHECK(strcmp(out.digits, c->digits) == 0, "case %zu '%s': digits '%s'", i, c->in,
              out.digits);
        CHECK(strcmp(out.display, c->display) == 0, "case %zu '%s': display '%s'", i, c->in,
              out.display);
        CHECK(out.test_number == c->test, "case %zu '%s': test flag %d", i, c->in,
              out.test_number);
        /* test_number exactly when the number starts 999 */
        CHECK(out.test_number == (strncmp(out.digits, "999", 3) == 0), "case %zu", i);
    }
}

/* The check digit by the rule, independently of the implementation. */
static int check_digit(const char d9[9])
{
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += (d9[i] - '0') * (10 - i);
    int c = 11 - sum % 11;
    return c == 11 ? 0 : c;
}

/* Every 10-digit number with the right check digit is valid; every other last
 * digit is a mismatch; check 10 is refused whatever the last digit. */
static void test_nhs_exhaustive_last_digit(void **state)
{
    (void)state;
    uint64_t x = 0x2545F4914F6CDD1Dull;
    int valid = 0, ten = 0;
    for (int i = 0; i < 3000; i++) {
        char num[11];
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        snprintf(num, 10, "%09llu", (unsigned long long)(x % 1000000000ull));
        if (i % 10 == 0)
            memcpy(num, "999", 3);
        int want = check_digit(num);
        for (int last = 0; last <= 9; last++) {
            num[9] = (char)('0' + last);
            num[10] = '\0';
            cu_nhs out;
            cu_nhs_status st = cu_nhs_parse(num, 10, &out);
            if (want == 10) {
                CHECK(st == CU_NHS_CHECK_TEN, "%s: status %d", num, st);
                ten++;
            } else if (last == want) {
                CHECK(st == CU_NHS_OK, "%s: status %d", num, st);
                CHECK(strcmp(out.digits, num) == 0, "%s: digits %s", num, out.digits);
                CHECK(out.test_number == (memcmp(num, "999", 3) == 0), "%s: flag", num);
                valid++;
            } else {
                CHECK(st == CU_NHS_CHECK_MISMATCH, "%s: status %d", num, st);
            }
        }
    }
    assert_true(valid > 2000);
    assert_true(ten > 100);
}

/* The input length is honoured: no terminating NUL needed, nothing read past it. */
static void test_nhs_length_bound(void **state)
{
    (void)state;
    cu_nhs out;
    assert_int_equal(cu_nhs_parse("9434765919XYZ", 10, &out), CU_NHS_OK);
    assert_string_equal(out.digits, "9434765919");
    assert_int_equal(cu_nhs_parse("9434765919", 9, &out), CU_NHS_BAD_LENGTH);
    assert_int_equal(cu_nhs_parse("9434765919", 0, &out), CU_NHS_EMPTY);
    char embedded[] = "943476\0" "5919";
    assert_int_equal(cu_nhs_parse(embedded, sizeof embedded - 1, &out), CU_NHS_BAD_CHAR);
}

static void test_nhs_status_text(void **state)
{
    (void)state;
    static const cu_nhs_status all[] = {CU_NHS_OK, CU_NHS_EMPTY, CU_NHS_BAD_CHAR,
                                        CU_NHS_BAD_LENGTH, CU_NHS_CHECK_TEN,
                                        CU_NHS_CHECK_MISMATCH};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *t = cu_nhs_status_text(all[i]);
        CHECK(t && *t, "status %d has no text", all[i]);
        /* The texts are distinct. */
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(t, cu_nhs_status_text(all[j])) != 0, "statuses %zu and %zu", i, j);
    }
    assert_non_null(strstr(cu_nhs_status_text(CU_NHS_CHECK_TEN), "10"));
    assert_non_null(strstr(cu_nhs_status_text(CU_NHS_BAD_LENGTH), "10 digits"));
    assert_non_null(cu_nhs_status_text((cu_nhs_status)42));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nhs_table),
        cmocka_unit_test(test_nhs_exhaustive_last_digit),
        cmocka_unit_test(test_nhs_length_bound),
        cmocka_unit_test(test_nhs_status_text),
    };
    return cmocka_run_group_tests_name("nhs", tests, NULL, NULL);
}
