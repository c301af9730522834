/*
 * fuzz_nhs.c — cu_nhs_parse (src/domain/nhs.h) on arbitrary bytes.
 *
 * The result is checked against an independent reading of the contract: which
 * status the bytes deserve, and on success the canonical digits, the 3-3-4
 * display form, the Modulus 11 check digit and the 999 test-range flag.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "domain/nhs.h"
#include "fuzz.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;

    /* The contract's view of the input. */
    bool bad_char = false;
    size_t ndigits = 0;
    char d[10] = {0};
    for (size_t i = 0; i < size; i++) {
        char c = s[i];
        if (c == ' ' || c == '-')
            continue;
        if (!is_digit(c)) {
            bad_char = true;
            continue;
        }
        if (ndigits < sizeof d)
            d[ndigits] = c;
        ndigits++;
    }

    cu_nhs out;
    memset(&out, 0xA5, sizeof out);
    cu_nhs_status st = cu_nhs_parse(s, size, &out);

    const char *text = cu_nhs_status_text(st);
    CHECK(text && text[0] && !strchr(text, '\n'));

    switch (st) {
    case CU_NHS_OK: {
        CHECK(!bad_char && ndigits == 10);
        /* Canonical digits: exactly the ten digits of the input, in order. */
        CHECK(memcmp(out.digits, d, 10) == 0 && out.digits[10] == '\0');
        for (int i = 0; i < 10; i++)
            CHECK(is_digit(out.digits[i]));
        /* Display: "DDD DDD DDDD". */
        CHECK(memcmp(out.display, d, 3) == 0 && out.display[3] == ' ' &&
              memcmp(out.display + 4, d + 3, 3) == 0 && out.display[7] == ' ' &&
              memcmp(out.display + 8, d + 6, 4) == 0 && out.display[12] == '\0');
        CHECK(strlen(out.display) == 12);
        /* Modulus 11. */
        int sum = 0;
        for (int i = 0; i < 9; i++)
            sum += (d[i] - '0') * (10 - i);
        int check = 11 - sum % 11;
        CHECK(check != 10);
        CHECK((check == 11 ? 0 : check) == d[9] - '0');
        /* Test range 999 000 0000 - 999 999 9999. */
        CHECK(out.test_number == (memcmp(d, "999", 3) == 0));
        break;
    }
    case CU_NHS_EMPTY:
        CHECK(!bad_char && ndigits == 0);
        break;
    case CU_NHS_BAD_CHAR:
        CHECK(bad_char);
        break;
    case CU_NHS_BAD_LENGTH:
        /* Either the digit count is wrong, or an 11th digit came before the
         * first bad character (the parser stops at whichever it meets first). */
        CHECK(ndigits != 10 && ndigits != 0);
        CHECK(!bad_char || ndigits > 10);
        break;
    case CU_NHS_CHECK_TEN:
    case CU_NHS_CHECK_MISMATCH: {
        CHECK(!bad_char && ndigits == 10);
        int sum = 0;
        for (int i = 0; i < 9; i++)
            sum += (d[i] - '0') * (10 - i);
        int check = 11 - sum % 11;
        if (st == CU_NHS_CHECK_TEN)
            CHECK(check == 10);
        else
            CHECK(check != 10 && (check == 11 ? 0 : check) != d[9] - '0');
        break;
    }
    default:
        abort();
    }
    /* The verdict each class of input must get. */
    if (!bad_char && ndigits == 10)
        CHECK(st == CU_NHS_OK || st == CU_NHS_CHECK_TEN || st == CU_NHS_CHECK_MISMATCH);
    else if (!bad_char && ndigits == 0)
        CHECK(st == CU_NHS_EMPTY);
    else if (!bad_char)
        CHECK(st == CU_NHS_BAD_LENGTH);
    else if (ndigits <= 10)
        CHECK(st == CU_NHS_BAD_CHAR);
    else
        CHECK(st == CU_NHS_BAD_CHAR || st == CU_NHS_BAD_LENGTH);
    return 0;
}
