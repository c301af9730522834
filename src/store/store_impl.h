/*
 * store_impl.h — the store's core, shared by the table families (src/store/<family>.c).
 * Inside src/store only.
 *
 * A cu_store is a backend (driver.h) and one of its connections. The
 * families run statements by id through the helpers below, with cu_val
 * arguments in the order and shape the statement declares; no family holds
 * SQL or calls a database library.
 */
#ifndef CUSTOS_STORE_STORE_IMPL_H
#define CUSTOS_STORE_STORE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/driver.h"
#include "store/store.h"

/* The SQLite file of a vault directory. */
#define CU_STORE_FILE "custos.db"

struct cu_store {
    const cu_backend *be;
    const cu_stmt_decl *decls; /* be's statements, indexed by id */
    void *conn;
    bool in_tx;
    bool auth_written; /* a CU_STMT_AUTH statement ran in the open transaction */
    uint64_t auth_epoch;   /* see cu_store_auth_epoch */
    int64_t changes;       /* the change counter the last begin read */
    int64_t trail;         /* and the trail counter (cu_backend.trail) */
    bool have_changes;     /* changes holds a value read by a begin */
    bool retry;            /* a call failed CU_ERETRY since cu_store_take_retry */
    uint64_t tx_seq;       /* see cu_store_tx_seq */
};

/* The arguments of a statement: CU_ARGS(cu_vt(id), cu_vi(at)) expands to an
 * array and its length. */
#define CU_ARGS(...)                                                                        \
    ((const cu_val[]){__VA_ARGS__}),                                                        \
        (sizeof((const cu_val[]){__VA_ARGS__}) / sizeof(cu_val))
#define CU_NOARGS NULL, 0

/* A row code argument: NULL (SQL NULL) when there is none. */
static inline cu_val cu_vmac(const unsigned char *mac, size_t n)
{
    return mac && n ? cu_vb(mac, n) : cu_vb(NULL, 0);
}
/* A text argument stored as NULL when empty. */
static inline cu_val cu_vopt(const char *s)
{
    return cu_vt(s && *s ? s : NULL);
}
/* A text column, "" when NULL. */
static inline const char *cu_cs(const cu_val *v)
{
    return v->p ? (const char *)v->p : "";
}

/* Runs statement id; cb (may be NULL) gets each row, and its non-zero
 * return stops the statement and is returned. *changed (may be NULL)
 * receives the number of rows a write changed. On a database failure the
 * message names what (the operation, e.g. "adding a subject"). */
int cu_st_run(cu_store *s, enum cu_stmt_id id, const char *what, const cu_val *args,
              size_t nargs, cu_row_fn cb, void *ctx, int64_t *changed, cu_err *err);
/* Runs a statement for its effect. */
int cu_st_exec(cu_store *s, enum cu_stmt_id id, const char *what, const cu_val *args,
               size_t nargs, cu_err *err);
/* Runs a write that must change exactly one row: CU_ENOTFOUND (with no
 * message) when it changed none or several. */
int cu_st_exec1(cu_store *s, enum cu_stmt_id id, const char *what, const cu_val *args,
                size_t nargs, cu_err *err);
/* Runs a statement and passes its first row to cb (the rest are not read):
 * cb's result, or CU_ENOTFOUND (with no message) when there is no row. */
int cu_st_one(cu_store *s, enum cu_stmt_id id, const char *what, const cu_val *args,
              size_t nargs, cu_row_fn cb, void *ctx, cu_err *err);

/* Asks the backend to read the n statements of calls ahead, at once, for
 * the runs that follow (driver.h: read_ahead); nothing on a backend without
 * it. On a database failure the message names what. */
int cu_st_read_ahead(cu_store *s, const char *what, const cu_stmt_call *calls, size_t n,
                     cu_err *err);

/* Copies a 32-byte row code column into mac (*n 32), or *n 0 when the
 * column is NULL or has another length (which then fails authentication). */
void cu_col_mac(const cu_val *v, unsigned char mac[32], size_t *n);

#endif
