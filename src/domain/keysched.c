#include "domain/keysched.h"

#include <stdio.h>
#include <string.h>

#include "domain/op.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

#define DAY_US ((int64_t)86400 * 1000000)

/* A meta row holding a time; *found false when the row is absent. */
static int meta_time(cu_vault *v, const char *key, int64_t *out, bool *found, cu_err *err)
{
    cu_buf b;
    cu_buf_init(&b, 64);
    int rc = cu_store_meta_get(v->store, key, &b, err);
    *found = rc == CU_OK;
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        rc = CU_OK;
    } else if (!rc && !cu_time_parse((const char *)b.data, b.len, out)) {
        rc = cu_err_set(err, CU_ECORRUPT, "the store's %s is not a time", key);
    }
    cu_buf_release(&b);
    return rc;
}

int cu_key_schedule_get(cu_vault *v, int64_t now_us, cu_key_schedule *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    bool found = false;
    int rc = meta_time(v, "master_key_since", &out->since_us, &found, err);
    out->since_known = found;
    if (!rc && !found && !(rc = meta_time(v, "created_at", &out->since_us, &found, err)) &&
        !found)
        rc = cu_err_set(err, CU_ECORRUPT, "the store records no creation time");
    if (rc)
        return rc;
    cu_buf b;
    cu_buf_init(&b, 16);
    rc = cu_store_meta_get(v->store, "key_rotation_days", &b, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        rc = CU_OK;
    } else if (!rc) {
        int days = 0;
        bool ok = b.len > 0 && b.len <= 3;
        for (size_t i = 0; ok && i < b.len; i++) {
            ok = b.data[i] >= '0' && b.data[i] <= '9';
            days = days * 10 + (b.data[i] - '0');
        }
        if (!ok || days > CU_KEY_ROTATION_MAX_DAYS)
            rc = cu_err_set(err, CU_ECORRUPT, "the store's key rotation interval is not a "
                                              "number of days from 0 to %d",
                            CU_KEY_ROTATION_MAX_DAYS);
        else
            out->every_days = days;
    }
    cu_buf_release(&b);
    if (rc)
        return rc;
    out->age_days = now_us > out->since_us ? (now_us - out->since_us) / DAY_US : 0;
    if (out->every_days) {
        out->due_us = out->since_us + out->every_days * DAY_US;
        out->overdue = now_us > out->due_us;
    }
    return CU_OK;
}

int cu_key_schedule_set(cu_vault *v, const cu_actor *a, int days, cu_err *err)
{
    if (days < 0 || days > CU_KEY_ROTATION_MAX_DAYS)
        return cu_err_set(err, CU_EINVAL,
                          "the rotation interval is a number of days from 1 to %d (0 clears it)",
                          CU_KEY_ROTATION_MAX_DAYS);
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, "key", err);
    if (rc)
        return rc;
    rc = cu_op_authorise(v, &op, err);
    if (!rc) { /* "0": none chosen */
        char s[8];
        int n = snprintf(s, sizeof s, "%d", days);
        rc = cu_store_meta_put(v->store, "key_rotation_days", s, (size_t)n, err);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_key_schedule_mark(cu_vault *v, int64_t now_us, cu_err *err)
{
    char t[CU_TIME_STRLEN];
    cu_time_format(now_us, t);
    return cu_store_meta_put(v->store, "master_key_since", t, strlen(t), err);
}
