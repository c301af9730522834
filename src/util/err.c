#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>

void cu_err_clear(cu_err *err)
{
    if (err) {
        err->code = CU_OK;
        err->msg[0] = '\0';
    }
}

int cu_err_set(cu_err *err, cu_status code, const char *fmt, ...)
{
    if (!err || err->code != CU_OK)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *cu_status_name(cu_status code)
{
    switch (code) {
    case CU_OK: return "ok";
    case CU_EINVAL: return "invalid";
    case CU_ENOTFOUND: return "not_found";
    case CU_EERASED: return "erased";
    case CU_EDENIED: return "denied";
    case CU_ECONCEALED: return "not_found";
    case CU_ECONFLICT: return "conflict";
    case CU_EKEY: return "key";
    case CU_EVERSION: return "version";
    case CU_ECORRUPT: return "corrupt";
    case CU_ETAMPER: return "tamper";
    case CU_EIO: return "io";
    case CU_ENOMEM: return "no_memory";
    case CU_EINTERNAL: return "internal";
    case CU_ERETRY: return "retry";
    case CU_EUNAVAILABLE: return "unavailable";
    }
    return "internal";
}
