/* meta.c — the store's small named values, the keyring, controllers and
 * counts (store.h). Statements by id only: no SQL here. */
#include <string.h>

#include "store/store_impl.h"

/* Appends the first column (bytes) to a cu_buf. */
static int blob_to_buf(void *ctx, const cu_val *c)
{
    return cu_buf_append(ctx, c[0].p, c[0].n) ? CU_ENOMEM : CU_OK;
}

static int get_blob(cu_store *s, enum cu_stmt_id id, const char *what, const char *key,
                    cu_buf *out, cu_err *err)
{
    int rc = cu_st_one(s, id, what, CU_ARGS(cu_vt(key)), blob_to_buf, out, err);
    if (rc == CU_ENOMEM)
        return cu_err_set(err, CU_ENOMEM, "%s: out of memory", what);
    return rc;
}

int cu_store_meta_get(cu_store *s, const char *key, cu_buf *out, cu_err *err)
{
    return get_blob(s, ST_META_GET, "reading store metadata", key, out, err);
}

int cu_store_meta_put(cu_store *s, const char *key, const void *v, size_t n, cu_err *err)
{
    return cu_st_exec(s, ST_META_PUT, "writing store metadata",
                      CU_ARGS(cu_vt(key), cu_vb0(v, n)), err);
}

int cu_store_keyring_get(cu_store *s, const char *name, cu_buf *out, cu_err *err)
{
    return get_blob(s, ST_KEYRING_GET, "reading the keyring", name, out, err);
}

int cu_store_keyring_put(cu_store *s, const char *name, const void *wrapped, size_t n,
                         cu_err *err)
{
    return cu_st_exec(s, ST_KEYRING_PUT, "writing the keyring",
                      CU_ARGS(cu_vt(name), cu_vb0(wrapped, n)), err);
}

typedef struct keyring_ctx {
    cu_keyring_cb cb;
    void *ctx;
} keyring_ctx;

static int keyring_row(void *ctx, const cu_val *c)
{
    keyring_ctx *k = ctx;
    return k->cb(k->ctx, cu_ct(&c[0]), c[1].p, c[1].n);
}

int cu_store_keyring_each(cu_store *s, cu_keyring_cb cb, void *ctx, cu_err *err)
{
    keyring_ctx k = {cb, ctx};
    return cu_st_run(s, ST_KEYRING_EACH, "reading the keyring", CU_NOARGS, keyring_row, &k,
                     NULL, err);
}

int cu_store_controller_insert(cu_store *s, const char *id, const char *name,
                               int64_t created_at, cu_err *err)
{
    cu_err e;
    cu_err_clear(&e);
    int rc = cu_st_exec(s, ST_CTL_INSERT, "adding a controller",
                        CU_ARGS(cu_vt(id), cu_vt(name), cu_vi(created_at)), &e);
    if (rc == CU_ECONFLICT)
        return cu_err_set(err, CU_ECONFLICT, "a controller with that name already exists");
    return rc ? cu_err_set(err, rc, "%s", e.msg) : CU_OK;
}

int cu_store_controller_get(cu_store *s, const char *id, cu_buf *name, cu_err *err)
{
    cu_buf tmp;
    cu_buf_init(&tmp, 4096);
    int rc = get_blob(s, ST_CTL_GET, "reading a controller", id, name ? name : &tmp, err);
    cu_buf_release(&tmp);
    return rc;
}

typedef struct ctl_ctx {
    cu_controller_cb cb;
    cu_controller_row_cb row_cb;
    void *ctx;
} ctl_ctx;

static int controller_each_row(void *ctx, const cu_val *c)
{
    ctl_ctx *k = ctx;
    return k->cb(k->ctx, cu_ct(&c[0]), cu_ct(&c[1]), c[2].i);
}

int cu_store_controller_each(cu_store *s, cu_controller_cb cb, void *ctx, cu_err *err)
{
    ctl_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_CTL_EACH, "listing controllers", CU_NOARGS, controller_each_row, &k,
                     NULL, err);
}

static int controller_row(void *ctx, const cu_val *c)
{
    ctl_ctx *k = ctx;
    cu_controller_row r = {
        .id = cu_ct(&c[0]),
        .name = cu_ct(&c[1]),
        .created_at = c[2].i,
        .mac = cu_cb(&c[3]),
        .mac_len = c[3].n,
    };
    return k->row_cb(k->ctx, &r);
}

int cu_store_controller_rows(cu_store *s, const char *id, cu_controller_row_cb cb, void *ctx,
                             cu_err *err)
{
    ctl_ctx k = {.row_cb = cb, .ctx = ctx};
    if (!id)
        return cu_st_run(s, ST_CTL_ROWS, "listing controllers", CU_NOARGS, controller_row, &k,
                         NULL, err);
    return cu_st_one(s, ST_CTL_ROW, "reading a controller", CU_ARGS(cu_vt(id)),
                     controller_row, &k, err);
}

int cu_store_controller_set_mac(cu_store *s, const char *id, const unsigned char mac[32],
                                cu_err *err)
{
    int rc = cu_st_exec1(s, ST_CTL_MAC, "authenticating a controller",
                         CU_ARGS(cu_vt(id), cu_vb0(mac, 32)), err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, CU_ENOTFOUND, "no controller %s", id) : rc;
}

static int counts_row(void *ctx, const cu_val *c)
{
    cu_store_counts *out = ctx;
    out->controllers = c[0].i;
    out->subjects = c[1].i;
    out->erased = c[2].i;
    out->items = c[3].i;
    out->audit_events = c[4].i;
    out->checkpoints = c[5].i;
    return CU_OK;
}

int cu_store_counts_get(cu_store *s, cu_store_counts *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = cu_st_one(s, ST_COUNTS, "counting", CU_NOARGS, counts_row, out, err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, CU_EIO, "counting: no result") : rc;
}
