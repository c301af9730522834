#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "domain/policy.h"

static void builtin_rights_purpose(void **state)
{
    (void)state;
    assert_non_null(cu_policy_purpose(NULL, CU_PURPOSE_RIGHTS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(builtin_rights_purpose)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
