#include "iface/notice.h"

int cu_notice_render(const cu_policy *p, cu_notice_format f, cu_buf *out, cu_err *err)
{
    (void)p, (void)f, (void)out;
    return cu_err_set(err, CU_EINTERNAL, "notice rendering is not built yet");
}
