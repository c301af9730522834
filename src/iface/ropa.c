#include "iface/notice.h"

int cu_ropa_render(const cu_policy *const *pols, const char *const *ids, size_t n,
                   cu_ropa_format f, cu_buf *out, cu_err *err)
{
    (void)pols, (void)ids, (void)n, (void)f, (void)out;
    return cu_err_set(err, CU_EINTERNAL, "record of processing is not built yet");
}
