#include "domain/policy.h"

void cu_pol_report_release(cu_pol_report *r)
{
    (void)r;
}

int cu_policy_parse(const void *json, size_t len, cu_policy **out, cu_pol_report *rep,
                    cu_err *err)
{
    (void)json, (void)len, (void)rep;
    *out = NULL;
    return cu_err_set(err, CU_EINTERNAL, "policy parsing is not built yet");
}

void cu_policy_free(cu_policy *p)
{
    (void)p;
}
