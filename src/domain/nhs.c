#include "domain/nhs.h"

#include <string.h>

cu_nhs_status cu_nhs_parse(const char *s, size_t len, cu_nhs *out)
{
    char d[10];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ' ' || c == '-')
            continue;
        if (c < '0' || c > '9')
            return CU_NHS_BAD_CHAR;
        if (n == sizeof d)
            return CU_NHS_BAD_LENGTH;
        d[n++] = c;
    }
    if (n == 0)
        return CU_NHS_EMPTY;
    if (n != sizeof d)
        return CU_NHS_BAD_LENGTH;
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += (d[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11)
        check = 0;
    if (check == 10)
        return CU_NHS_CHECK_TEN;
    if (check != d[9] - '0')
        return CU_NHS_CHECK_MISMATCH;
    memcpy(out->digits, d, 10);
    out->digits[10] = '\0';
    memcpy(out->display, d, 3);
    out->display[3] = ' ';
    memcpy(out->display + 4, d + 3, 3);
    out->display[7] = ' ';
    memcpy(out->display + 8, d + 6, 4);
    out->display[12] = '\0';
    out->test_number = d[0] == '9' && d[1] == '9' && d[2] == '9';
    return CU_NHS_OK;
}

const char *cu_nhs_status_text(cu_nhs_status st)
{
    switch (st) {
    case CU_NHS_OK: return "valid";
    case CU_NHS_EMPTY: return "is empty";
    case CU_NHS_BAD_CHAR: return "may contain only digits and spaces";
    case CU_NHS_BAD_LENGTH: return "must have exactly 10 digits";
    case CU_NHS_CHECK_TEN: return "has check value 10, which is never issued";
    case CU_NHS_CHECK_MISMATCH: return "fails the Modulus 11 check digit";
    }
    return "is invalid";
}
