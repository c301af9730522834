/* The normalised family name of the (family name, date of birth) index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/name_key.h"

static void same(const char *in, const char *want)
{
    char out[CU_FAMILY_MAX + 1];
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_family_normalise(in, strlen(in), out, sizeof out, &err);
    if (rc != CU_OK)
        fail_msg("%s: %s", in, err.msg);
    assert_string_equal(out, want);
}

static void refused(const char *in, size_t n)
{
    char out[CU_FAMILY_MAX + 1];
    cu_err err;
    cu_err_clear(&err);
    assert_int_equal(cu_family_normalise(in, n, out, sizeof out, &err), CU_EINVAL);
    assert_int_equal(err.code, CU_EINVAL);
}

static void test_rules(void **state)
{
    (void)state;
    same("Lovelace", "lovelace");
    same("  LOVELACE \t", "lovelace");
    same("O'Brien", "obrien");
    same("O\xe2\x80\x99" "Brien", "obrien");   /* U+2019 */
    same("O\xca\xbc" "Brien", "obrien");       /* U+02BC */
    same("Smith-Jones", "smith jones");
    same("Smith \xe2\x80\x93 Jones", "smith jones"); /* an en dash */
    same("smith   jones", "smith jones");
    same("St. John", "st john");
    same("Zo\xc3\xab", "zoe");
    same("\xc3\x85sa M\xc3\xbcller", "asa muller");
    same("\xc5\x81ukasiewicz", "lukasiewicz");
    same("Stra\xc3\x9f" "e", "strasse");
    same("\xc3\x86thelred", "aethelred");
    same("Smith\xc2\xa0Jones", "smith jones"); /* no-break space */
    same("Sm1th", "smth");                     /* digits dropped */
    /* other scripts kept as they are */
    same("\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\xd0\xbe\xd0\xb2", "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\xd0\xbe\xd0\xb2");
    same("van der Berg", "van der berg");
}

static void test_refused(void **state)
{
    (void)state;
    refused("", 0);
    refused("   ", 3);
    refused("1234", 4);
    refused("-'.", 3);
    refused("a b c d", 7);           /* more than three words */
    refused("\xc3", 1);              /* truncated UTF-8 */
    refused("\xc0\xaf", 2);          /* overlong */
    refused("\xed\xa0\x80", 3);      /* a surrogate */
    char long_name[400];
    memset(long_name, 'a', sizeof long_name);
    refused(long_name, sizeof long_name);
}

static void test_keys(void **state)
{
    (void)state;
    char keys[CU_FAMILY_KEYS][CU_FAMILY_MAX + 1];
    const char *n1 = "Ada Lovelace";
    assert_int_equal(cu_family_keys(n1, strlen(n1), keys), 1);
    assert_string_equal(keys[0], "lovelace");
    const char *n2 = "Ludwig van Beethoven";
    assert_int_equal(cu_family_keys(n2, strlen(n2), keys), 2);
    assert_string_equal(keys[0], "beethoven");
    assert_string_equal(keys[1], "van beethoven");
    const char *n3 = "Mary Anne de la Cruz-Smith";
    assert_int_equal(cu_family_keys(n3, strlen(n3), keys), 3);
    assert_string_equal(keys[0], "smith");
    assert_string_equal(keys[1], "cruz smith");
    assert_string_equal(keys[2], "la cruz smith");
    const char *n4 = "Madonna";
    assert_int_equal(cu_family_keys(n4, strlen(n4), keys), 1);
    assert_string_equal(keys[0], "madonna");
    assert_int_equal(cu_family_keys("  ", 2, keys), 0);
    assert_int_equal(cu_family_keys("\xff", 1, keys), 0);
    char key[CU_NAME_BIRTH_KEY_MAX];
    assert_int_equal(cu_name_birth_key("lovelace", "1815-12-10", key), 19);
    assert_string_equal(key, "lovelace|1815-12-10");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
