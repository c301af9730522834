/* jpath.c — JSON paths for the parsers' errors (jpath.h). */
#include "domain/jpath.h"

#include <stdio.h>
#include <string.h>

static void truncated(char out[CU_JPATH_LEN], int n)
{
    if (n < 0 || n >= CU_JPATH_LEN)
        memcpy(out + CU_JPATH_LEN - 4, "...", 4);
}

void cu_jpath_key(char out[CU_JPATH_LEN], const char *base, const char *key)
{
    truncated(out, snprintf(out, CU_JPATH_LEN, "%s%s%s", base, *base ? "." : "", key));
}

void cu_jpath_idx(char out[CU_JPATH_LEN], const char *base, const char *key, size_t i)
{
    truncated(out, snprintf(out, CU_JPATH_LEN, "%s%s%s[%zu]", base, *base ? "." : "", key, i));
}

bool cu_jpath_unknown(json_t *o, const char *const *allowed, const char *path,
                      char out[CU_JPATH_LEN])
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        (void)v;
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        if (ok)
            continue;
        bool plain = strlen(k) <= 64;
        for (const char *s = k; plain && *s; s++)
            plain = *s >= 0x20 && *s < 0x7f;
        cu_jpath_key(out, path, plain ? k : "(a member with an unusual name)");
        return true;
    }
    return false;
}

int cu_jpath_error(cu_err *err, const char *path, const char *what)
{
    return cu_err_set(err, CU_EINVAL, "%s: %s", *path ? path : "(document)", what);
}

int cu_jpath_members(cu_err *err, json_t *o, const char *const *allowed, const char *path)
{
    char p[CU_JPATH_LEN];
    return cu_jpath_unknown(o, allowed, path, p) ? cu_jpath_error(err, p, "not allowed here")
                                                 : CU_OK;
}
