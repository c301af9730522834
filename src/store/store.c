/*
 * store.c — the store's core: the backend in use, transactions, the auth
 * epoch, the change counter, and the helpers the table families run their
 * statements through (store_impl.h).
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/fault.h"
#include "store/store_impl.h"

static bool is_pg_location(const char *location)
{
    return location && (strncmp(location, "postgresql://", 13) == 0 ||
                        strncmp(location, "postgres://", 11) == 0);
}

static const cu_backend *backend_for(const char *location)
{
    return is_pg_location(location) ? &cu_backend_pg : &cu_backend_sqlite;
}

int cu_store_schema_version(void)
{
    return cu_backend_sqlite.schema_version();
}

bool cu_store_is_database_url(const char *location)
{
    return is_pg_location(location);
}

int cu_store_location(const char *dir, const char *database, char *out, size_t n, cu_err *err)
{
    if (database && *database) {
        if (!is_pg_location(database))
            return cu_err_set(err, CU_EINVAL,
                              "the database must be a postgresql:// or postgres:// URL");
        if (cu_strlcpy(out, database, n))
            return cu_err_set(err, CU_EINVAL, "database URL too long");
        return CU_OK;
    }
    int k = snprintf(out, n, "%s/%s", dir, CU_STORE_FILE);
    if (k < 0 || (size_t)k >= n)
        return cu_err_set(err, CU_EINVAL, "store path too long");
    return CU_OK;
}

void cu_store_redact(const char *location, char *out, size_t n)
{
    if (!n)
        return;
    out[0] = '\0';
    if (!location)
        return;
    if (!is_pg_location(location)) {
        (void)cu_strlcpy(out, location, n);
        return;
    }
    /* scheme://[user[:password]@]host[:port][/db][?params]: the password
     * goes, and so do the parameters (a password= may hide there). The
     * user part ends at the last '@', so a password holding '@', '/' or
     * '?' unencoded is still hidden whole. */
    const char *rest = strstr(location, "://") + 3;
    const char *at = strrchr(rest, '@');
    cu_buf b;
    cu_buf_init(&b, 4096);
    bool ok = !cu_buf_append(&b, location, (size_t)(rest - location));
    const char *host = rest;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        ok = ok && !cu_buf_append(&b, rest, (size_t)((colon ? colon : at) - rest));
        if (colon)
            ok = ok && !cu_buf_append(&b, ":***", 4);
        ok = ok && !cu_buf_append(&b, "@", 1);
        host = at + 1;
    }
    size_t keep = strcspn(host, "?#");
    ok = ok && !cu_buf_append(&b, host, keep);
    if (host[keep])
        ok = ok && !cu_buf_append(&b, "?***", 4);
    ok = ok && !cu_buf_append(&b, "", 1);
    (void)cu_strlcpy(out, ok ? (const char *)b.data : "postgresql://***", n);
    cu_buf_release(&b);
}

bool cu_store_exists(const char *location)
{
    return backend_for(location)->exists(location);
}

void cu_store_remove(const char *location)
{
    backend_for(location)->remove(location);
}

const char *cu_store_copy_suffix(void)
{
    return cu_backend_sqlite.copy_suffix;
}

int cu_store_open(const char *location, bool create, cu_store **out, cu_err *err)
{
    const cu_backend *be = backend_for(location);
    const cu_stmt_decl *decls = be->stmts();
    if (!decls)
        return cu_err_set(err, CU_EINTERNAL,
                          "the %s backend does not declare every statement once", be->name);
    cu_store *s = calloc(1, sizeof *s);
    if (!s)
        return cu_err_set(err, CU_ENOMEM, "out of memory opening the store");
    s->be = be;
    s->decls = decls;
    cu_err e;
    cu_err_clear(&e);
    int rc = be->open(location, create, &s->conn, &e);
    if (rc) {
        free(s);
        /* A database URL holds a password: a message naming the location
         * names it redacted. */
        if (is_pg_location(location) && strstr(e.msg, location)) {
            char shown[256];
            cu_store_redact(location, shown, sizeof shown);
            return cu_err_set(err, e.code, "cannot open the store database at %s (%s)", shown,
                              cu_status_name(e.code));
        }
        return e.code ? cu_err_set(err, e.code, "%s", e.msg) : rc;
    }
    *out = s;
    return CU_OK;
}

void cu_store_close(cu_store *s)
{
    if (!s)
        return;
    if (s->in_tx)
        cu_store_rollback(s);
    s->be->close(s->conn);
    free(s);
}

const char *cu_store_backend_name(const cu_store *s)
{
    return s->be->name;
}

unsigned cu_store_batch_limit(const cu_store *s)
{
    return s->be->batch_limit;
}

bool cu_store_take_retry(cu_store *s)
{
    bool r = s->retry;
    s->retry = false;
    return r;
}

/* Notes a retryable failure (cu_store_take_retry) and passes rc on. */
static int noted(cu_store *s, int rc)
{
    if (rc == CU_ERETRY)
        s->retry = true;
    return rc;
}

static void auth_changed(cu_store *s)
{
    s->auth_epoch++;
    if (s->in_tx)
        s->auth_written = true;
}

int cu_store_begin(cu_store *s, cu_err *err)
{
    int64_t changes = 0;
    /* A test build may fail any store call or commit (store/fault.h). */
    int rc = cu_store_fault("statement", err);
    if (!rc)
        rc = s->be->begin(s->conn, &changes, err);
    if (rc)
        return noted(s, rc);
    s->tx_seq++;
    s->in_tx = true;
    s->auth_written = false;
    /* Another connection's commit may have changed anything: seen here,
     * once the transaction holds the write lock, so none can land while it
     * is open. */
    if (!s->have_changes || changes != s->changes) {
        s->changes = changes;
        s->have_changes = true;
        s->auth_epoch++;
    }
    s->trail = s->be->trail ? s->be->trail(s->conn) : changes;
    return CU_OK;
}

int cu_store_begin_read(cu_store *s, cu_err *err)
{
    int rc = s->be->begin_read(s->conn, err);
    if (!rc) {
        s->tx_seq++;
        s->in_tx = true;
        s->auth_written = false;
    }
    return rc;
}

uint64_t cu_store_auth_epoch(const cu_store *s)
{
    return s->auth_epoch;
}

int64_t cu_store_change_counter(const cu_store *s)
{
    return s->changes;
}

int64_t cu_store_trail_counter(const cu_store *s)
{
    return s->trail;
}

bool cu_store_change_counter_complete(const cu_store *s)
{
    return s->be->changes_complete;
}

uint64_t cu_store_tx_seq(const cu_store *s)
{
    return s->tx_seq;
}

int cu_store_commit(cu_store *s, cu_err *err)
{
    /* A commit that cannot even start undoes the transaction as a failed one
     * does: the caller is never left inside it. */
    int rc = cu_store_fault("commit", err);
    if (!rc)
        rc = s->be->commit(s->conn, err);
    if (rc) {
        cu_store_rollback(s);
        return noted(s, rc);
    }
    s->in_tx = false;
    s->auth_written = false;
    return CU_OK;
}

void cu_store_rollback(cu_store *s)
{
    s->be->rollback(s->conn);
    /* What was read after an undone change may have reflected it. */
    if (s->auth_written)
        s->auth_epoch++;
    s->in_tx = false;
    s->auth_written = false;
}

bool cu_store_in_tx(const cu_store *s)
{
    return s->in_tx;
}

int cu_store_savepoint(cu_store *s, cu_err *err)
{
    int rc = cu_store_fault("statement", err);
    return noted(s, rc ? rc : s->be->savepoint(s->conn, err));
}

int cu_store_release(cu_store *s, cu_err *err)
{
    int rc = cu_store_fault("statement", err);
    return noted(s, rc ? rc : s->be->release(s->conn, err));
}

void cu_store_rollback_to(cu_store *s)
{
    if (s->auth_written)
        s->auth_epoch++;
    s->be->rollback_to(s->conn);
}

int cu_store_compact_log(cu_store *s, cu_err *err)
{
    return s->be->compact_log(s->conn, err);
}

int cu_store_backup(cu_store *s, const char *dest_path, cu_err *err)
{
    return s->be->backup(s->conn, dest_path, err);
}

int cu_stmt_assemble(const cu_stmt_entry *const *lists, size_t n, cu_stmt_decl out[ST_COUNT])
{
    unsigned char seen[ST_COUNT] = {0};
    int rc = CU_OK;
    memset(out, 0, sizeof(cu_stmt_decl) * ST_COUNT);
    for (size_t l = 0; l < n; l++)
        for (const cu_stmt_entry *e = lists[l]; e->id != ST_COUNT; e++) {
            if ((unsigned)e->id >= ST_COUNT || seen[e->id]++)
                rc = CU_EINTERNAL;
            else
                out[e->id] = e->decl;
        }
    for (int i = 0; i < ST_COUNT; i++)
        if (!seen[i] || !out[i].sql || !out[i].params || !out[i].cols)
            rc = CU_EINTERNAL;
    return rc;
}

/* ---- helpers for the table families ---- */

int cu_st_run(cu_store *s, enum cu_stmt_id id, const char *what, const cu_val *args,
              size_t nargs, cu_row_fn cb, void *ctx, int64_t *changed, cu_err *err)
{
    /* The epoch moves before the change is made, so nothing read after it
     * can be taken for older. */
    /* The undoing of a failed transaction, whose error nobody sees (err
     * NULL), is never failed. */
    if (err && cu_store_fault("statement", err))
        return noted(s, err->code);
    if (s->decls[id].flags & CU_STMT_AUTH)
        auth_changed(s);
    if (!s->in_tx && (s->decls[id].flags & CU_STMT_WRITE))
        s->tx_seq++; /* a transaction of its own */
    cu_err e;
    cu_err_clear(&e);
    int rc = noted(s, s->be->run(s->conn, id, args, nargs, cb, ctx, changed, &e));
    if (rc && e.code) {
        if (e.code == CU_ECORRUPT)
            return cu_err_set(err, e.code, "%s (%s)", e.msg, what);
        return cu_err_set(err, e.code, "%s: %s", what, e.msg);
    }
    return rc;
}

int cu_st_read_ahead(cu_store *s, const char *what, const cu_stmt_call *calls, size_t n,
                     cu_err *err)
{
    if (!s->be->read_ahead)
        return CU_OK;
    if (err && cu_store_fault("statement", err))
        return noted(s, err->code);
    cu_err e;
    cu_err_clear(&e);
    int rc = noted(s, s->be->read_ahead(s->conn, calls, n, &e));
    if (rc && e.code)
        return cu_err_set(err, e.code, "%s: %s", what, e.msg);
    return rc;
}

int cu_st_exec(cu_store *s, enum cu_stmt_id id, const char *what, const cu_val *args,
               size_t nargs, cu_err *err)
{
    return cu_st_run(s, id, what, args, nargs, NULL, NULL, NULL, err);
}

int cu_st_exec1(cu_store *s, enum cu_stmt_id id, const char *what, const cu_val *args,
                size_t nargs, cu_err *err)
{
    int64_t changed = 0;
    int rc = cu_st_run(s, id, what, args, nargs, NULL, NULL, &changed, err);
    return !rc && changed != 1 ? CU_ENOTFOUND : rc;
}

typedef struct one_ctx {
    cu_row_fn cb;
    void *ctx;
    bool found;
    int res;
} one_ctx;

static int one_row(void *ctx, const cu_val *cols)
{
    one_ctx *o = ctx;
    o->found = true;
    o->res = o->cb(o->ctx, cols);
    return 1; /* stop: only the first row */
}

int cu_st_one(cu_store *s, enum cu_stmt_id id, const char *what, const cu_val *args,
              size_t nargs, cu_row_fn cb, void *ctx, cu_err *err)
{
    one_ctx o = {.cb = cb, .ctx = ctx};
    int rc = cu_st_run(s, id, what, args, nargs, one_row, &o, NULL, err);
    if (o.found)
        return o.res;
    return rc ? rc : CU_ENOTFOUND;
}

void cu_col_mac(const cu_val *v, unsigned char mac[32], size_t *n)
{
    *n = 0;
    if (v->p && v->n == 32) {
        memcpy(mac, v->p, 32);
        *n = 32;
    }
}
