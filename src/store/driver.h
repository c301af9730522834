/*
 * driver.h — what a database backend gives the store. Inside src/store only.
 *
 * The store's table families (src/store/<family>.c) implement the contract in
 * store.h once, for every backend, by running numbered statements (stmt.h)
 * through the backend in use. Each backend declares every statement once:
 * its SQL, the shape of its parameters and the shape of its result columns
 * (cu_stmt_decl). The backend binds parameters and reads columns by those
 * shapes, so no family writes binding code per call, and a call whose
 * arguments do not match the declared shape fails (CU_EINTERNAL) instead of
 * binding the wrong thing.
 *
 * Shapes are strings with one letter per parameter or column:
 *   i  a 64-bit integer (never NULL: SQL NULL reads as 0)
 *   t  text, NUL-terminated (NULL allowed: a NULL pointer); as a column,
 *      n holds its length
 *   b  a byte string (NULL allowed: a NULL pointer, length 0); as a
 *      column, an empty value has a non-NULL pointer
 * Both backends declare the same shapes and flags for each statement (a
 * unit test compares them), since the families that call them are shared.
 *
 * Errors a backend reports (with a message naming the operation, never a
 * value): CU_ECONFLICT for a unique or foreign-key violation, CU_ECORRUPT for
 * a damaged or foreign database, CU_EVERSION for a schema newer than this
 * build, CU_ERETRY for a transaction the database aborted to keep concurrent
 * ones serialisable (serialisation failure, deadlock: running the whole
 * transaction again may succeed), CU_EUNAVAILABLE for a database that
 * cannot be reached, CU_EIO for anything else.
 */
#ifndef CUSTOS_STORE_DRIVER_H
#define CUSTOS_STORE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/stmt.h"
#include "util/err.h"

/* One parameter or column value. For 't' p is a NUL-terminated string; for
 * 'b' p points at n bytes. p is NULL for SQL NULL. Column values point into
 * the backend's current row and are valid only during the row callback. */
typedef struct cu_val {
    int64_t i;
    const void *p;
    size_t n;
} cu_val;

static inline cu_val cu_vi(int64_t i)
{
    return (cu_val){.i = i};
}
static inline cu_val cu_vt(const char *s)
{
    return (cu_val){.p = s};
}
static inline cu_val cu_vb(const void *p, size_t n)
{
    return (cu_val){.p = p, .n = p ? n : 0};
}
/* A non-NULL byte string even for n == 0 (SQL NULL is not an empty value). */
static inline cu_val cu_vb0(const void *p, size_t n)
{
    return (cu_val){.p = p ? p : "", .n = p ? n : 0};
}
static inline const char *cu_ct(const cu_val *v)
{
    return (const char *)v->p;
}
static inline const unsigned char *cu_cb(const cu_val *v)
{
    return (const unsigned char *)v->p;
}

/* Statement flags. */
#define CU_STMT_WRITE 1u /* changes the database */
#define CU_STMT_AUTH 2u  /* changes what a session or API token stands for
                          * (users, sessions except last_seen, api_tokens):
                          * moves the auth epoch (store.h) */
#define CU_STMT_TRAIL 4u /* only extends the audit trail (its events, head,
                          * checkpoints): moves the trail counter alone,
                          * not the change counter (cu_backend.trail) */

typedef struct cu_stmt_decl {
    const char *sql;
    const char *params; /* shape of the parameters, "" for none */
    const char *cols;   /* shape of the result columns, "" for none */
    unsigned flags;
} cu_stmt_decl;

/* One entry of a backend's declaration list (one list per table family);
 * a list ends with an entry whose id is ST_COUNT. The backend assembles its
 * lists into one table indexed by id, each id declared exactly once. */
typedef struct cu_stmt_entry {
    enum cu_stmt_id id;
    cu_stmt_decl decl;
} cu_stmt_entry;

/* Called for each result row with as many values as the declared columns.
 * A non-zero return stops the statement and is what the run returns. */
typedef int (*cu_row_fn)(void *ctx, const cu_val *cols);

/* One statement with its arguments, as run would take them. */
typedef struct cu_stmt_call {
    enum cu_stmt_id id;
    const cu_val *args;
    size_t nargs;
} cu_stmt_call;

typedef struct cu_backend {
    const char *name; /* "sqlite", "postgresql" */
    /* Every statement of stmt.h, indexed by its id (ST_COUNT entries),
     * assembled once without a connection; NULL when the backend's lists do
     * not declare every id exactly once (open then fails CU_EINTERNAL). A
     * backend that declares no statement at all returns a table of zeroed
     * entries (sql NULL). */
    const cu_stmt_decl *(*stmts)(void);
    /* The schema version this build's migrations reach. */
    int (*schema_version)(void);
    /* Whether a custos store exists at location; see cu_store_exists. */
    bool (*exists)(const char *location);
    /* Removes the store at location; see cu_store_remove. */
    void (*remove)(const char *location);
    /* The ending of the name of a copy backup writes. */
    const char *copy_suffix;
    /* The most operations one batch may hold, each in a savepoint of its
     * own (cu_store_batch_limit). */
    unsigned batch_limit;
    /* Opens (create=false: the store must exist and hold a custos schema) or
     * creates (create=true: nothing custos may exist there) the store at
     * location, and applies pending migrations. */
    int (*open)(const char *location, bool create, void **conn, cu_err *err);
    void (*close)(void *conn);
    /* Runs statement id with nargs arguments (checked against its shape);
     * cb (may be NULL) gets each row. *changed (may be NULL) receives the
     * number of rows a write changed. */
    int (*run)(void *conn, enum cu_stmt_id id, const cu_val *args, size_t nargs, cu_row_fn cb,
               void *ctx, int64_t *changed, cu_err *err);
    /* Starts a write transaction, holding the store's single writer lock
     * (every connection of every process), and reads the change counter
     * into *changes: a number that differs from the one the last begin on
     * this connection read when another connection has committed since. */
    int (*begin)(void *conn, int64_t *changes, cu_err *err);
    /* Whether that counter moves with EVERY other connection's commit, any
     * program's (SQLite's data_version), not only custos's own (the
     * PostgreSQL change_counter, bumped by custos's writers): only then may
     * a count of rows made in one transaction be trusted in the next. */
    bool changes_complete;
    /* After begin: a second counter, which moves with every other
     * connection's commit, including those whose only writes extended the
     * audit trail (CU_STMT_TRAIL statements), which leave begin's counter
     * as it was. NULL when begin's counter moves with every commit anyway
     * (then it serves as both). */
    int64_t (*trail)(void *conn);
    /* Starts a read-only transaction seeing one consistent snapshot; takes
     * no writer lock. */
    int (*begin_read)(void *conn, cu_err *err);
    int (*commit)(void *conn, cu_err *err);
    void (*rollback)(void *conn);
    /* One nested savepoint at a time (an operation inside a batch). */
    int (*savepoint)(void *conn, cu_err *err);
    int (*release)(void *conn, cu_err *err);
    void (*rollback_to)(void *conn);
    /* Optional (NULL: the backend has no use for it): inside the open
     * transaction, runs the n read statements of calls at once (one round
     * trip to a database server) and keeps their rows for the runs that
     * follow: a run of one of them with the same arguments, before any
     * write, savepoint, release, undo, commit or rollback on the
     * connection, gets the rows kept, which are what it would have read
     * itself (a write transaction holds the writer lock, a read transaction
     * sees one snapshot). Rows nobody asks for are dropped at the next of
     * those. Outside a transaction it does nothing. */
    int (*read_ahead)(void *conn, const cu_stmt_call *calls, size_t n, cu_err *err);
    /* See cu_store_compact_log. */
    int (*compact_log)(void *conn, cu_err *err);
    /* See cu_store_backup. */
    int (*backup)(void *conn, const char *dest_path, cu_err *err);
} cu_backend;

/* Assembles a backend's declaration lists (n of them, each ending with id
 * ST_COUNT) into out, indexed by id: CU_EINTERNAL when an id is out of
 * range, declared twice, or not declared, or a declaration has no SQL. */
int cu_stmt_assemble(const cu_stmt_entry *const *lists, size_t n, cu_stmt_decl out[ST_COUNT]);

extern const cu_backend cu_backend_sqlite;
extern const cu_backend cu_backend_pg;

#endif
