/* fuzz_policy.c — cu_policy_parse on arbitrary bytes. */
#include <stdint.h>
#include <stddef.h>

#include "domain/policy.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cu_policy *p = NULL;
    cu_err err = {0};
    if (cu_policy_parse(data, size, &p, NULL, &err) == CU_OK)
        cu_policy_free(p);
    return 0;
}
