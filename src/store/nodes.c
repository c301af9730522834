/* nodes.c — several nodes on one database (store.h): node keys, the erasure
 * ledger's table and once-per-cluster jobs. */
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"
#include "util/buf.h"

static int node_key_from_row(const cu_val *c, cu_node_key_row *r)
{
    memset(r, 0, sizeof *r);
    if (!c[0].p || c[0].n == 0 || c[0].n >= sizeof r->node || c[1].n != sizeof r->public_key)
        return CU_ETAMPER;
    memcpy(r->node, c[0].p, c[0].n + 1);
    memcpy(r->public_key, c[1].p, sizeof r->public_key);
    r->created_at = c[2].i;
    cu_col_mac(&c[3], r->mac, &r->mac_len);
    return CU_OK;
}

int cu_store_node_key_put(cu_store *s, const cu_node_key_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_NODE_KEY_PUT, "recording a node key",
                      CU_ARGS(cu_vt(r->node), cu_vb0(r->public_key, sizeof r->public_key),
                              cu_vi(r->created_at), cu_vmac(r->mac, r->mac_len)),
                      err);
}

static int node_key_row(void *ctx, const cu_val *c)
{
    return node_key_from_row(c, ctx);
}

int cu_store_node_key_get(cu_store *s, const char *node, cu_node_key_row *out, cu_err *err)
{
    int rc = cu_st_one(s, ST_NODE_KEY_GET, "reading a node key", CU_ARGS(cu_vt(node)),
                       node_key_row, out, err);
    if (rc == CU_ETAMPER)
        return cu_err_set(err, CU_ETAMPER, "node_keys %s is malformed", node);
    return rc;
}

typedef struct key_each {
    cu_node_key_cb cb;
    void *ctx;
    cu_err *err;
} key_each;

static int node_key_each_row(void *ctx, const cu_val *c)
{
    key_each *k = ctx;
    cu_node_key_row r;
    if (node_key_from_row(c, &r))
        return cu_err_set(k->err, CU_ETAMPER, "a node key row is malformed");
    return k->cb(k->ctx, &r);
}

int cu_store_node_key_each(cu_store *s, cu_node_key_cb cb, void *ctx, cu_err *err)
{
    key_each k = {cb, ctx, err};
    return cu_st_run(s, ST_NODE_KEY_EACH, "reading node keys", CU_NOARGS, node_key_each_row, &k,
                     NULL, err);
}

int cu_store_node_key_set_mac(cu_store *s, const char *node, const unsigned char *mac,
                              size_t mac_len, cu_err *err)
{
    return cu_st_exec(s, ST_NODE_KEY_MAC, "recording a node key's row code",
                      CU_ARGS(cu_vt(node), cu_vmac(mac, mac_len)), err);
}

int cu_store_ledger_add(cu_store *s, int64_t seq, const char *line, size_t n, cu_err *err)
{
    /* The line as text of its own: callers pass a line inside a longer text. */
    char *t = malloc(n + 1);
    if (!t)
        return cu_err_set(err, CU_ENOMEM, "out of memory appending to the erasure ledger table");
    memcpy(t, line, n);
    t[n] = '\0';
    int rc = cu_st_exec(s, ST_LEDGER_ADD, "appending to the erasure ledger table",
                        CU_ARGS(cu_vi(seq), cu_vt(t)), err);
    free(t);
    return rc;
}

typedef struct ledger_each {
    cu_ledger_row_cb cb;
    void *ctx;
} ledger_each;

static int ledger_row(void *ctx, const cu_val *c)
{
    ledger_each *k = ctx;
    return k->cb(k->ctx, c[0].i, cu_cs(&c[1]), c[1].n);
}

int cu_store_ledger_each(cu_store *s, cu_ledger_row_cb cb, void *ctx, cu_err *err)
{
    ledger_each k = {cb, ctx};
    return cu_st_run(s, ST_LEDGER_EACH, "reading the erasure ledger table", CU_NOARGS,
                     ledger_row, &k, NULL, err);
}

static int job_row(void *ctx, const cu_val *c)
{
    cu_job_row *out = ctx;
    out->due_at = c[0].i;
    out->last_run = c[1].i;
    cu_strlcpy(out->node, cu_cs(&c[2]), sizeof out->node);
    return CU_OK;
}

int cu_store_job_get(cu_store *s, const char *name, cu_job_row *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    return cu_st_one(s, ST_JOB_GET, "reading a job", CU_ARGS(cu_vt(name)), job_row, out, err);
}

int cu_store_job_put(cu_store *s, const char *name, const cu_job_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_JOB_PUT, "recording a job's run",
                      CU_ARGS(cu_vt(name), cu_vi(r->due_at), cu_vi(r->last_run), cu_vt(r->node)),
                      err);
}

int cu_store_session_purge(cu_store *s, int64_t revoked_before, int64_t seen_before,
                           int64_t created_before, int64_t *deleted, cu_err *err)
{
    *deleted = 0;
    return cu_st_run(s, ST_SESS_PURGE, "deleting expired sessions",
                     CU_ARGS(cu_vi(revoked_before), cu_vi(seen_before), cu_vi(created_before)),
                     NULL, NULL, deleted, err);
}
