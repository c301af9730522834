/*
 * driver.c — the PostgreSQL backend (driver.h) on libpq.
 *
 * One connection per open store. Statements are prepared on first use by id
 * with explicit parameter types from their declared shape (i: int8, t: text,
 * b: bytea) and run with binary parameters and binary results. A statement's
 * whole result is read off the connection before its first row reaches the
 * caller, because a row callback may run statements of its own (libpq takes
 * a new command only on an idle connection): a long result, such as the
 * whole audit trail, sits in memory while it is walked. Columns are checked
 * against the declared shape (int8, text or varchar, bytea) before a row
 * reaches the caller.
 *
 * Writers of every custos process using the database serialise on one
 * transaction-scoped advisory lock taken by begin: that is what keeps the
 * audit trail one chain. A transaction that ran a write statement bumps the
 * one-row change_counter table at commit; begin reads it, so a change made by
 * another connection (another node) shows as a different number, while this
 * connection's own commits do not. The table holds two numbers: n, moved by
 * a transaction that wrote anything but the audit trail, and trail, moved by
 * every transaction that wrote; one whose writes only extended the trail
 * (an audited read's event and head) moves trail alone, so another node
 * reloads its audit head after it and keeps its other caches.
 *
 * Inside a transaction, savepoints, releases, undos and the audit trail's
 * two writes are queued and sent in one pipeline with the next statement or
 * the commit (deferred commands, below); an item's insert and its subject's
 * update inside an operation, with the operation's next statement or its
 * release (op_deferrable). Rows the caller says it will read next are
 * fetched in one pipeline and kept for the calls that ask for them
 * (pg_read_ahead).
 *
 * Error messages name the operation, the statement id and the SQLSTATE,
 * never a value, the server's own message (it may quote one) or the URL.
 */
#include <libpq-fe.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/driver.h"
#include "store/pg/pg.h"

/* Advisory lock keys, constant across every custos build. */
#define WRITER_LOCK_KEY "7166488076457902081"  /* 0x637573746f730001: all writers */
#define MIGRATE_LOCK_KEY "7166488076457902082" /* 0x637573746f730002: migrations */

/* Type OIDs (pg_type.h is a server header). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25
#define OID_VARCHAR 1043

#define MAX_PARAMS 32
#define MAX_COLS 32
#define MAX_PENDING 32
#define MAX_AHEAD 8

/* A command sent later, with the next one whose answer is awaited: either
 * SQL without parameters (sql) or a prepared statement (id >= 0) with copies
 * of its binary parameters (data). */
typedef struct pending {
    int id;
    const char *sql;
    const char *what;
    int np;
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS];
    int formats[MAX_PARAMS];
    unsigned char *data;
    bool op_write;   /* an operation's own write (op_deferrable) */
    bool expect_one; /* and it must change exactly one row */
} pending;

/* Rows read ahead (pg_read_ahead): statement id, a copy of its binary
 * parameters (data, lengths; length -1 for NULL) and its result. */
typedef struct ahead {
    int id;
    int np;
    int lengths[MAX_PARAMS];
    unsigned char *data;
    PGresult *res;
} ahead;

typedef struct pg_conn {
    PGconn *db;
    char *password; /* from the URL, only to keep it out of messages */
    bool prepared[ST_COUNT];
    bool in_tx;     /* begin or begin_read opened a transaction */
    bool tx_lost;   /* the connection was lost while it was open */
    bool wrote;       /* a write statement other than the trail's ran in it */
    bool wrote_trail; /* a write statement that extends the trail ran in it */
    int64_t own_n;    /* the counters' values this connection's last commit wrote */
    int64_t own_t;
    int64_t seen_n; /* what begin last reported */
    int64_t seen_t;
    bool seen_set;
    /* Commands not yet sent (see defer): at most MAX_PENDING, all inside the
     * open transaction. */
    pending pend[MAX_PENDING];
    int npend;
    /* A deferred command failed: the transaction cannot go on, and every
     * call until the rollback reports that failure. */
    int broken;
    cu_err broken_err;
    /* An operation's savepoint is open (pg_savepoint, until its release or
     * undo); and a queued write of that operation failed: every call until
     * its undo (pg_rollback_to) reports that failure. */
    bool in_savepoint;
    int op_failed;
    cu_err op_failed_err;
    /* Rows read ahead, not yet asked for (pg_read_ahead). */
    ahead ahead[MAX_AHEAD];
    int nahead;
} pg_conn;

/* ---- the statement table ---- */

static cu_stmt_decl stmt_table[ST_COUNT];
static bool stmt_table_ok;
static pthread_once_t stmt_table_once = PTHREAD_ONCE_INIT;

static bool shape_ok(const char *s, size_t max)
{
    if (!s || strlen(s) > max)
        return false;
    for (; *s; s++)
        if (*s != 'i' && *s != 't' && *s != 'b')
            return false;
    return true;
}

int cu_pg_index(const cu_stmt_entry *const *lists, size_t nlists, cu_stmt_decl *out,
                cu_err *err)
{
    bool seen[ST_COUNT] = {false};
    for (size_t l = 0; l < nlists; l++) {
        for (const cu_stmt_entry *e = lists[l]; e->id != ST_COUNT; e++) {
            if ((unsigned)e->id > ST_COUNT || seen[e->id])
                return cu_err_set(err, CU_EINTERNAL,
                                  "PostgreSQL statement %d is declared twice or is unknown",
                                  (int)e->id);
            if (!e->decl.sql || !shape_ok(e->decl.params, MAX_PARAMS) ||
                !shape_ok(e->decl.cols, MAX_COLS))
                return cu_err_set(err, CU_EINTERNAL,
                                  "PostgreSQL statement %d has no SQL or a bad shape",
                                  (int)e->id);
            seen[e->id] = true;
            out[e->id] = e->decl;
        }
    }
    for (int id = 0; id < ST_COUNT; id++)
        if (!seen[id])
            return cu_err_set(err, CU_EINTERNAL, "PostgreSQL statement %d is not declared",
                              id);
    return CU_OK;
}

/* Also at load time, so that cu_backend_pg.stmts is complete for a reader
 * that has not opened a store; open waits on the same once. */
static void build_table(void) __attribute__((constructor));
static void build_table_once(void);

static void build_table(void)
{
    pthread_once(&stmt_table_once, build_table_once);
}

static void build_table_once(void)
{
    static const cu_stmt_entry *const lists[] = {
        cu_pg_sql_meta,   cu_pg_sql_subjects, cu_pg_sql_items,    cu_pg_sql_audit,
        cu_pg_sql_staff,  cu_pg_sql_policy,   cu_pg_sql_consent,  cu_pg_sql_requests,
        cu_pg_sql_disclosures, cu_pg_sql_nodes, cu_pg_sql_questionnaires, cu_pg_sql_tasks,
        cu_pg_sql_qlinks,
        cu_pg_sql_pathways, cu_pg_sql_portal,
    };
    stmt_table_ok =
        cu_pg_index(lists, sizeof lists / sizeof lists[0], stmt_table, NULL) == CU_OK;
}

/* ---- errors ---- */

static bool class_is(const char *state, const char *cls)
{
    return state && strncmp(state, cls, 2) == 0;
}

/* Maps a failed result (r may be NULL) to a status and a message naming the
 * operation, the statement (id < 0: none) and the SQLSTATE. */
static int fail(pg_conn *c, const PGresult *r, const char *what, int id, cu_err *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char stmt[32] = "";
    if (id >= 0)
        snprintf(stmt, sizeof stmt, " (statement %d)", id);
    if (PQstatus(c->db) == CONNECTION_BAD || class_is(state, "08") ||
        (state && (strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
                   strcmp(state, "57P03") == 0))) {
        if (c->in_tx)
            c->tx_lost = true;
        return cu_err_set(err, CU_EUNAVAILABLE,
                          "%s%s: the database cannot be reached (SQLSTATE %s)", what, stmt,
                          state ? state : "none");
    }
    if (class_is(state, "23"))
        return cu_err_set(err, CU_ECONFLICT, "%s%s: conflicts with existing data (SQLSTATE %s)",
                          what, stmt, state);
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
        return cu_err_set(err, CU_ERETRY,
                          "%s%s: the database aborted the transaction to keep concurrent ones "
                          "apart; run it again (SQLSTATE %s)",
                          what, stmt, state);
    if (state && strcmp(state, "53200") == 0)
        return cu_err_set(err, CU_ENOMEM, "%s%s: the database is out of memory (SQLSTATE %s)",
                          what, stmt, state);
    return cu_err_set(err, CU_EIO, "%s%s: the database failed (SQLSTATE %s)", what, stmt,
                      state ? state : "none");
}

/* Before a call: a connection lost outside a transaction is reset, once per
 * call; one lost inside a transaction stays failed until it is rolled back,
 * so nothing of it can run on a new session as if it were still open. */
static int ensure_conn(pg_conn *c, cu_err *err)
{
    if (c->broken)
        return cu_err_set(err, c->broken, "%s", c->broken_err.msg);
    if (c->op_failed)
        return cu_err_set(err, c->op_failed, "%s", c->op_failed_err.msg);
    if (c->tx_lost)
        return cu_err_set(err, CU_EUNAVAILABLE,
                          "the connection to the database was lost in a transaction");
    if (PQstatus(c->db) == CONNECTION_OK)
        return CU_OK;
    if (c->in_tx) {
        c->tx_lost = true;
        return cu_err_set(err, CU_EUNAVAILABLE,
                          "the connection to the database was lost in a transaction");
    }
    PQreset(c->db);
    memset(c->prepared, 0, sizeof c->prepared);
    if (PQstatus(c->db) != CONNECTION_OK)
        return cu_err_set(err, CU_EUNAVAILABLE,
                          "the database cannot be reached (reconnecting failed)");
    return CU_OK;
}

/* Runs SQL without parameters (simple protocol: several commands allowed). */
static int exec_sql(pg_conn *c, const char *sql, const char *what, cu_err *err)
{
    PGresult *r = PQexec(c->db, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? CU_OK : fail(c, r, what, -1, err);
    PQclear(r);
    return rc;
}

/* Runs a query returning one int8 (or bool, as 0/1) in text; *out gets it. */
/* The n integers (or booleans) of a result of one row. */
static bool row_ints(const PGresult *r, int64_t *out, int n)
{
    if (PQntuples(r) != 1 || PQnfields(r) != n)
        return false;
    for (int i = 0; i < n; i++) {
        if (PQgetisnull(r, 0, i))
            return false;
        const char *v = PQgetvalue(r, 0, i);
        char *end = NULL;
        if (strcmp(v, "t") == 0 || strcmp(v, "f") == 0) {
            out[i] = v[0] == 't';
        } else {
            out[i] = strtoll(v, &end, 10);
            if (end == v || *end)
                return false;
        }
    }
    return true;
}

static int query_ints(pg_conn *c, const char *sql, const char *what, int64_t *out, int n,
                      cu_err *err)
{
    PGresult *r = PQexec(c->db, sql);
    int rc = CU_OK;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = fail(c, r, what, -1, err);
    else if (!row_ints(r, out, n))
        rc = cu_err_set(err, CU_ECORRUPT, "%s: unexpected result", what);
    PQclear(r);
    return rc;
}

static int query_int(pg_conn *c, const char *sql, const char *what, int64_t *out, cu_err *err)
{
    return query_ints(c, sql, what, out, 1, err);
}

int cu_pg_exec(void *conn, const char *sql, const char *what, cu_err *err)
{
    pg_conn *c = conn;
    int rc = ensure_conn(c, err);
    return rc ? rc : exec_sql(c, sql, what, err);
}

/* ---- statements ---- */

static void stmt_name(enum cu_stmt_id id, char name[16])
{
    snprintf(name, 16, "cu%d", (int)id);
}

static int flush_pending(pg_conn *c, cu_err *err);

static int prepare(pg_conn *c, enum cu_stmt_id id, cu_err *err)
{
    if (c->prepared[id])
        return CU_OK;
    /* Queued commands first: one of them may be the ROLLBACK TO without
     * which the server refuses anything in the transaction. */
    int frc = flush_pending(c, err);
    if (frc)
        return frc;
    const cu_stmt_decl *d = &stmt_table[id];
    Oid types[MAX_PARAMS];
    int n = (int)strlen(d->params);
    for (int k = 0; k < n; k++)
        types[k] = d->params[k] == 'i' ? OID_INT8 : d->params[k] == 't' ? OID_TEXT : OID_BYTEA;
    char name[16];
    stmt_name(id, name);
    PGresult *r = PQprepare(c->db, name, d->sql, n, types);
    int rc = r && PQresultStatus(r) == PGRES_COMMAND_OK
                 ? CU_OK
                 : fail(c, r, "preparing a statement", (int)id, err);
    PQclear(r);
    if (!rc)
        c->prepared[id] = true;
    return rc;
}

int cu_pg_prepare(void *conn, enum cu_stmt_id id, cu_err *err)
{
    pg_conn *c = conn;
    if ((unsigned)id >= ST_COUNT || !stmt_table_ok)
        return cu_err_set(err, CU_EINTERNAL, "no PostgreSQL statement %d", (int)id);
    int rc = ensure_conn(c, err);
    return rc ? rc : prepare(c, id, err);
}

static bool col_type_ok(char shape, Oid t)
{
    switch (shape) {
    case 'i':
        return t == OID_INT8;
    case 't':
        return t == OID_TEXT || t == OID_VARCHAR;
    default:
        return t == OID_BYTEA;
    }
}

static int check_cols(const PGresult *r, const cu_stmt_decl *d, enum cu_stmt_id id,
                      cu_err *err)
{
    int n = (int)strlen(d->cols);
    if (PQnfields(r) != n)
        return cu_err_set(err, CU_EINTERNAL,
                          "PostgreSQL statement %d returns %d columns, declared %d", (int)id,
                          PQnfields(r), n);
    for (int k = 0; k < n; k++)
        if (!col_type_ok(d->cols[k], PQftype(r, k)) || PQfformat(r, k) != 1)
            return cu_err_set(err, CU_EINTERNAL,
                              "PostgreSQL statement %d: column %d is not of its declared type",
                              (int)id, k + 1);
    return CU_OK;
}

static int decode_row(const PGresult *r, int row, const cu_stmt_decl *d, enum cu_stmt_id id,
                      cu_val *cols, cu_err *err)
{
    for (int k = 0; d->cols[k]; k++) {
        cols[k] = (cu_val){0};
        if (PQgetisnull(r, row, k))
            continue;
        const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, k);
        int len = PQgetlength(r, row, k);
        if (d->cols[k] == 'i') {
            if (len != 8)
                return cu_err_set(err, CU_EINTERNAL,
                                  "PostgreSQL statement %d: column %d is not an int8",
                                  (int)id, k + 1);
            uint64_t u = 0;
            for (int j = 0; j < 8; j++)
                u = u << 8 | v[j];
            cols[k].i = (int64_t)u;
        } else {
            /* libpq ends every value with a NUL, so text is a C string. */
            cols[k].p = v;
            cols[k].n = (size_t)len;
        }
    }
    return CU_OK;
}

/* Parameters in binary: int8 big-endian, text and bytea as their bytes. */
typedef struct params {
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS];
    int formats[MAX_PARAMS];
    unsigned char ints[MAX_PARAMS][8];
} params;

static int bind_params(const cu_stmt_decl *d, enum cu_stmt_id id, const cu_val *args,
                       size_t nargs, params *p, cu_err *err)
{
    size_t n = strlen(d->params);
    if (nargs != n || (n && !args))
        return cu_err_set(err, CU_EINTERNAL,
                          "PostgreSQL statement %d takes %zu arguments, given %zu", (int)id, n,
                          nargs);
    for (size_t k = 0; k < n; k++) {
        p->formats[k] = 1;
        switch (d->params[k]) {
        case 'i': {
            uint64_t u = (uint64_t)args[k].i;
            for (int j = 7; j >= 0; j--, u >>= 8)
                p->ints[k][j] = (unsigned char)(u & 0xff);
            p->values[k] = (const char *)p->ints[k];
            p->lengths[k] = 8;
            break;
        }
        case 't': {
            p->values[k] = args[k].p;
            size_t len = args[k].p ? strlen(args[k].p) : 0;
            if (len > INT_MAX)
                return cu_err_set(err, CU_EINVAL, "a value is too long to store");
            p->lengths[k] = (int)len;
            break;
        }
        default:
            if (args[k].n > INT_MAX)
                return cu_err_set(err, CU_EINVAL, "a value is too long to store");
            /* A non-NULL pointer with length 0 is an empty byte string. */
            p->values[k] = args[k].p;
            p->lengths[k] = (int)args[k].n;
            break;
        }
    }
    return CU_OK;
}

/* ---- deferred commands (libpq pipeline mode) ----
 *
 * Inside a transaction, a command whose answer nobody waits for is not sent
 * on its own: an operation's SAVEPOINT, its RELEASE or ROLLBACK TO, and the
 * writes deferrable() names, run with no row callback and no count wanted.
 * It is queued, and goes to the server in one pipeline with the next command
 * whose answer is needed (a statement, the commit): one round trip for all.
 * The server runs them in order, so that command sees their effects. When a
 * queued command fails, the server skips the rest of the pipeline; the
 * failure is what that next call returns, and what every call after it
 * returns until the rollback (c->broken): the transaction cannot commit, so
 * nothing of it is written.
 *
 * The connection stays blocking: every queued command answers with a few
 * bytes, and only the last command of a pipeline can answer with many, after
 * everything has been written, so neither side can fill its socket buffer
 * while the other waits to write. */

static const char SQL_SAVEPOINT[] = "SAVEPOINT op";
static const char SQL_RELEASE[] = "RELEASE SAVEPOINT op";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO SAVEPOINT op";

/* What the open transaction's commit must count (the change counter). */
static void note_write(pg_conn *c, unsigned flags)
{
    if (flags & CU_STMT_TRAIL)
        c->wrote_trail = true;
    else if (flags & CU_STMT_WRITE)
        c->wrote = true;
}

/* Writes whose failure fails the whole transaction anyway: the audit
 * trail's append and its signed head (a batch whose append fails is undone
 * whole, src/domain/op.c). An operation's own writes are held back only as
 * op_deferrable says, their failure the operation's. */
static bool deferrable(enum cu_stmt_id id)
{
    return id == ST_AUDIT_INSERT || id == ST_HEAD_PUT;
}

/* An operation's own writes that are queued inside its savepoint: an
 * item's insert and its subject's update (which must change one row: a
 * count that is not one breaks the transaction). They are sent with the
 * operation's next statement or its release, whichever comes first; a
 * failure is that call's, and the operation's undo mends the transaction,
 * as if the write had failed at its own call. Nothing else is queued:
 * a write whose failure the caller tells apart (a conflict it reports) runs
 * at its call. */
static bool op_deferrable(enum cu_stmt_id id, bool count)
{
    return count ? id == ST_SUBJ_UPDATE : id == ST_ITEM_INSERT;
}

static bool op_writes_queued(const pg_conn *c)
{
    for (int i = 0; i < c->npend; i++)
        if (c->pend[i].op_write)
            return true;
    return false;
}

/* Drops the queued writes of the operation being undone, unsent: the undo
 * would take them back anyway, and one that failed would make the server
 * skip the undo queued after it. */
static void op_writes_drop(pg_conn *c)
{
    int k = 0;
    for (int i = 0; i < c->npend; i++) {
        if (c->pend[i].op_write)
            free(c->pend[i].data);
        else
            c->pend[k++] = c->pend[i];
    }
    c->npend = k;
}

static void pending_clear(pg_conn *c)
{
    for (int i = 0; i < c->npend; i++)
        free(c->pend[i].data);
    c->npend = 0;
}

/* A copy of p's np parameter values one after another (a NULL one takes
 * no room); NULL when out of memory. */
static unsigned char *params_copy(const params *p, int np)
{
    size_t total = 0;
    for (int k = 0; k < np; k++)
        if (p->values[k])
            total += (size_t)p->lengths[k];
    unsigned char *d = malloc(total ? total : 1);
    if (!d)
        return NULL;
    size_t at = 0;
    for (int k = 0; k < np; k++) {
        if (!p->values[k])
            continue;
        memcpy(d + at, p->values[k], (size_t)p->lengths[k]);
        at += (size_t)p->lengths[k];
    }
    return d;
}

/* ---- rows read ahead (pg_read_ahead) ---- */

static void ahead_clear(pg_conn *c)
{
    for (int i = 0; i < c->nahead; i++) {
        PQclear(c->ahead[i].res);
        free(c->ahead[i].data);
    }
    c->nahead = 0;
}

/* Whether a holds the rows of statement id run with parameters p. */
static bool ahead_same(const ahead *a, int id, const params *p, int np)
{
    if (a->id != id || a->np != np)
        return false;
    size_t at = 0;
    for (int k = 0; k < np; k++) {
        int len = p->values[k] ? p->lengths[k] : -1;
        if (a->lengths[k] != len)
            return false;
        if (len > 0) {
            if (memcmp(a->data + at, p->values[k], (size_t)len) != 0)
                return false;
            at += (size_t)len;
        }
    }
    return true;
}

/* The rows read ahead for statement id with parameters p, taken off the
 * list (the caller clears them); NULL when there are none. */
static PGresult *ahead_take(pg_conn *c, int id, const params *p, int np)
{
    for (int i = 0; i < c->nahead; i++) {
        if (!ahead_same(&c->ahead[i], id, p, np))
            continue;
        PGresult *r = c->ahead[i].res;
        free(c->ahead[i].data);
        c->ahead[i] = c->ahead[--c->nahead];
        return r;
    }
    return NULL;
}

/* One command of a pipeline whose answer the caller reads: res is its
 * result (rows or a command's status; the caller clears it). */
typedef struct tail_cmd {
    int id; /* -1: sql */
    const char *sql;
    const params *p;
    int np;
    PGresult *res;
} tail_cmd;

static int send_cmd(pg_conn *c, int id, const char *sql, int np, const char *const *values,
                    const int *lengths, const int *formats)
{
    if (id < 0)
        return PQsendQueryParams(c->db, sql, 0, NULL, NULL, NULL, NULL, 0);
    char name[16];
    stmt_name((enum cu_stmt_id)id, name);
    return PQsendQueryPrepared(c->db, name, np, values, lengths, formats, 1);
}

/* The pipeline went wrong below the commands (sending, the protocol): the
 * queued commands are gone, so the connection is dropped (the server rolls
 * back its transaction) and the transaction reported lost. */
static int pipeline_lost(pg_conn *c, tail_cmd *t, int nt, cu_err *err)
{
    for (int k = 0; k < nt; k++) {
        PQclear(t[k].res);
        t[k].res = NULL;
    }
    pending_clear(c);
    ahead_clear(c);
    PQreset(c->db);
    memset(c->prepared, 0, sizeof c->prepared);
    if (c->in_tx)
        c->tx_lost = true;
    return cu_err_set(err, CU_EUNAVAILABLE,
                      "the connection to the database was lost in a transaction");
}

/* Sends the queued commands, then the nt commands of t, in one pipeline,
 * and reads every answer. A queued command's failure breaks the
 * transaction, unless it is an operation's own write (op_deferrable), whose
 * failure is the operation's until its undo; a failure of one of t is
 * returned as if it had run alone. */
static int pipeline(pg_conn *c, tail_cmd *t, int nt, cu_err *err)
{
    int np = c->npend, sent = 0;
    for (int k = 0; k < nt; k++)
        t[k].res = NULL;
    if (PQenterPipelineMode(c->db) != 1)
        return pipeline_lost(c, t, nt, err);
    bool ok = true;
    for (int i = 0; i < np && ok; i++, sent++) {
        const pending *q = &c->pend[i];
        ok = send_cmd(c, q->id, q->sql, q->np, q->values, q->lengths, q->formats) == 1;
    }
    for (int k = 0; k < nt && ok; k++, sent++)
        ok = send_cmd(c, t[k].id, t[k].sql, t[k].np, t[k].p ? t[k].p->values : NULL,
                      t[k].p ? t[k].p->lengths : NULL, t[k].p ? t[k].p->formats : NULL) == 1;
    if (!ok || PQpipelineSync(c->db) != 1)
        return pipeline_lost(c, t, nt, err);
    int bad = -1, erc = CU_OK;
    bool one_wrong = false; /* a write that must change one row did not */
    cu_err e = {0};
    for (int i = 0; i < sent && PQstatus(c->db) == CONNECTION_OK; i++) {
        PGresult *r;
        while ((r = PQgetResult(c->db))) {
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_COMMAND_OK && i < np && c->pend[i].expect_one && bad < 0 &&
                strcmp(PQcmdTuples(r), "1") != 0) {
                /* the commands after it ran: nothing of the transaction may stay */
                bad = i;
                one_wrong = true;
                erc = cu_err_set(&e, CU_EIO, "%s: statement %d changed %s rows, not one",
                                 c->pend[i].what, c->pend[i].id, PQcmdTuples(r));
            } else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
                if (i >= np && !t[i - np].res) {
                    t[i - np].res = r;
                    r = NULL;
                }
            } else if (st != PGRES_PIPELINE_ABORTED && bad < 0) {
                bad = i;
                erc = i < np ? fail(c, r, c->pend[i].what, c->pend[i].id, &e)
                             : fail(c, r, "running a statement", t[i - np].id, &e);
            }
            PQclear(r);
            if (PQstatus(c->db) != CONNECTION_OK)
                break;
        }
    }
    PGresult *r = PQstatus(c->db) == CONNECTION_OK ? PQgetResult(c->db) : NULL;
    bool synced = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (!synced || PQexitPipelineMode(c->db) != 1) {
        if (bad >= 0 && erc == CU_EUNAVAILABLE) {
            /* the connection went: fail() has marked the transaction lost */
            for (int k = 0; k < nt; k++) {
                PQclear(t[k].res);
                t[k].res = NULL;
            }
            pending_clear(c);
            return cu_err_set(err, erc, "%s", e.msg);
        }
        return pipeline_lost(c, t, nt, err);
    }
    bool op_only = bad >= 0 && bad < np && c->pend[bad].op_write && !one_wrong;
    pending_clear(c);
    if (bad < 0)
        return CU_OK;
    for (int k = 0; k < nt; k++) {
        PQclear(t[k].res);
        t[k].res = NULL;
    }
    if (op_only) {
        c->op_failed = erc;
        c->op_failed_err = e;
    } else if (bad < np) {
        c->broken = erc;
        c->broken_err = e;
    }
    return cu_err_set(err, erc, "%s", e.msg);
}

/* Sends what is queued on its own (the queue is full). */
static int flush_pending(pg_conn *c, cu_err *err)
{
    return c->npend ? pipeline(c, NULL, 0, err) : CU_OK;
}

static int defer_sql(pg_conn *c, const char *sql, const char *what, cu_err *err)
{
    int rc = c->npend == MAX_PENDING ? flush_pending(c, err) : CU_OK;
    if (rc)
        return rc;
    c->pend[c->npend++] = (pending){.id = -1, .sql = sql, .what = what};
    return CU_OK;
}

/* Queues prepared statement id with copies of its bound parameters. */
static int defer_stmt(pg_conn *c, enum cu_stmt_id id, const params *p, int np, cu_err *err)
{
    int rc = c->npend == MAX_PENDING ? flush_pending(c, err) : CU_OK;
    if (rc)
        return rc;
    pending q = {.id = (int)id, .what = "running a statement", .np = np};
    if (!(q.data = params_copy(p, np)))
        return cu_err_set(err, CU_ENOMEM, "out of memory queueing a statement");
    size_t at = 0;
    for (int k = 0; k < np; k++) {
        q.formats[k] = p->formats[k];
        q.lengths[k] = p->lengths[k];
        if (!p->values[k]) {
            q.values[k] = NULL; /* SQL NULL */
            continue;
        }
        q.values[k] = (const char *)q.data + at;
        at += (size_t)p->lengths[k];
    }
    c->pend[c->npend++] = q;
    return CU_OK;
}

static int pg_begin(void *conn, int64_t *changes, cu_err *err);
static int pg_commit(void *conn, cu_err *err);
static void pg_rollback(void *conn);

/* Runs a prepared statement, its whole result read first; see driver.h. */
static int run_stmt(pg_conn *c, enum cu_stmt_id id, const params *p, int np, cu_row_fn cb,
                    void *ctx, int64_t *changed, bool *ran, cu_err *err)
{
    *ran = false;
    const cu_stmt_decl *d = &stmt_table[id];
    /* The whole result is read off the connection before any row reaches
     * the caller: a row callback may run statements of its own on the same
     * connection (as it may on SQLite), which libpq allows only once the
     * connection is idle again. */
    int res = CU_OK;
    PGresult *rows = NULL, *r;
    if (c->nahead && !(d->flags & CU_STMT_WRITE) && (rows = ahead_take(c, (int)id, p, np)))
        goto got; /* read ahead */
    if (c->npend) {
        /* with the queued commands, in one round trip */
        tail_cmd t = {.id = (int)id, .p = p, .np = np};
        if ((res = pipeline(c, &t, 1, err)))
            return res;
        if (PQresultStatus(t.res) == PGRES_TUPLES_OK) {
            if ((res = check_cols(t.res, d, id, err)))
                PQclear(t.res);
            else
                rows = t.res;
        } else {
            if (changed)
                *changed = strtoll(PQcmdTuples(t.res), NULL, 10);
            PQclear(t.res);
        }
        goto got;
    }
    char name[16];
    stmt_name(id, name);
    if (!PQsendQueryPrepared(c->db, name, np, p->values, p->lengths, p->formats, 1))
        return fail(c, NULL, "running a statement", (int)id, err);
    while ((r = PQgetResult(c->db))) {
        ExecStatusType st = PQresultStatus(r);
        if (res) {
            PQclear(r);
            continue;
        }
        if (st == PGRES_TUPLES_OK) {
            if (!(res = check_cols(r, d, id, err)) && !rows) {
                rows = r;
                r = NULL;
            }
        } else if (st == PGRES_COMMAND_OK) {
            if (changed)
                *changed = strtoll(PQcmdTuples(r), NULL, 10);
        } else {
            res = fail(c, r, "running a statement", (int)id, err);
        }
        PQclear(r);
    }
    if (!res && PQstatus(c->db) == CONNECTION_BAD)
        res = fail(c, NULL, "running a statement", (int)id, err);
got:;
    bool stopped = false;
    if (!res && rows) {
        if (changed)
            *changed = strtoll(PQcmdTuples(rows), NULL, 10);
        cu_val cols[MAX_COLS];
        int n = PQntuples(rows);
        for (int i = 0; i < n && !res; i++) {
            if ((res = decode_row(rows, i, d, id, cols, err)) || !cb)
                continue;
            int k = cb(ctx, cols);
            if (k) {
                res = k;
                stopped = true;
            }
        }
    }
    PQclear(rows);
    /* Ran to its end, or until the callback stopped it. */
    *ran = !res || stopped;
    return res;
}

static int pg_run(void *conn, enum cu_stmt_id id, const cu_val *args, size_t nargs,
                  cu_row_fn cb, void *ctx, int64_t *changed, cu_err *err)
{
    pg_conn *c = conn;
    if (changed)
        *changed = 0;
    if ((unsigned)id >= ST_COUNT || !stmt_table_ok)
        return cu_err_set(err, CU_EINTERNAL, "no PostgreSQL statement %d", (int)id);
    const cu_stmt_decl *d = &stmt_table[id];
    params p;
    int rc = bind_params(d, id, args, nargs, &p, err);
    if (rc || (rc = ensure_conn(c, err)))
        return rc;
    /* A write outside a transaction gets one of its own, so that it too
     * takes the writer lock and moves the change counter. */
    bool own_tx = !c->in_tx && (d->flags & CU_STMT_WRITE) &&
                  PQtransactionStatus(c->db) == PQTRANS_IDLE;
    if (d->flags & CU_STMT_WRITE)
        ahead_clear(c);
    if (own_tx && (rc = pg_begin(c, NULL, err)))
        return rc;
    bool ran = false;
    rc = prepare(c, id, err);
    if (!rc && c->in_tx && !own_tx && !cb && !changed && deferrable(id)) {
        rc = defer_stmt(c, id, &p, (int)strlen(d->params), err);
        note_write(c, d->flags);
        return rc;
    }
    if (!rc && c->in_tx && c->in_savepoint && !own_tx && !cb && op_deferrable(id, changed)) {
        if (!(rc = defer_stmt(c, id, &p, (int)strlen(d->params), err))) {
            c->pend[c->npend - 1].op_write = true;
            c->pend[c->npend - 1].expect_one = changed != NULL;
            if (changed)
                *changed = 1; /* checked when it runs (pipeline) */
        }
        note_write(c, d->flags);
        return rc;
    }
    if (!rc)
        rc = run_stmt(c, id, &p, (int)strlen(d->params), cb, ctx, changed, &ran, err);
    if (c->in_tx)
        note_write(c, d->flags);
    if (own_tx) {
        if (ran) {
            /* A callback's stop is the caller's answer, not a failure. */
            int crc = pg_commit(c, err);
            if (crc)
                rc = crc;
        } else {
            pg_rollback(c);
        }
    }
    return rc;
}

/* Sends the read statements of calls, with whatever is queued, in one
 * pipeline and keeps their rows for the runs that follow (ahead_take);
 * see driver.h. A statement that fails fails the call, as its own run
 * would have; a result of the wrong shape is not kept (its run reports it). */
static int pg_read_ahead(void *conn, const cu_stmt_call *calls, size_t n, cu_err *err)
{
    pg_conn *c = conn;
    if (!c->in_tx || n == 0)
        return CU_OK;
    if (n > MAX_AHEAD)
        return cu_err_set(err, CU_EINTERNAL, "at most %d statements are read ahead", MAX_AHEAD);
    int rc = ensure_conn(c, err);
    if (rc)
        return rc;
    ahead_clear(c);
    params p[MAX_AHEAD];
    tail_cmd t[MAX_AHEAD];
    for (size_t k = 0; k < n; k++) {
        enum cu_stmt_id id = calls[k].id;
        if ((unsigned)id >= ST_COUNT || !stmt_table_ok)
            return cu_err_set(err, CU_EINTERNAL, "no PostgreSQL statement %d", (int)id);
        const cu_stmt_decl *d = &stmt_table[id];
        if (d->flags & CU_STMT_WRITE)
            return cu_err_set(err, CU_EINTERNAL, "PostgreSQL statement %d writes: it is not "
                                                 "read ahead", (int)id);
        if ((rc = bind_params(d, id, calls[k].args, calls[k].nargs, &p[k], err)) ||
            (rc = prepare(c, id, err)))
            return rc;
        t[k] = (tail_cmd){.id = (int)id, .p = &p[k], .np = (int)strlen(d->params)};
    }
    if ((rc = pipeline(c, t, (int)n, err)))
        return rc;
    for (size_t k = 0; k < n; k++) {
        ahead *a = &c->ahead[c->nahead];
        cu_err shape;
        if (PQresultStatus(t[k].res) != PGRES_TUPLES_OK ||
            check_cols(t[k].res, &stmt_table[t[k].id], (enum cu_stmt_id)t[k].id, &shape) ||
            !(a->data = params_copy(&p[k], t[k].np))) {
            PQclear(t[k].res);
            continue;
        }
        a->id = t[k].id;
        a->np = t[k].np;
        for (int j = 0; j < a->np; j++)
            a->lengths[j] = p[k].values[j] ? p[k].lengths[j] : -1;
        a->res = t[k].res;
        c->nahead++;
    }
    return CU_OK;
}

/* ---- transactions ---- */

static int pg_begin(void *conn, int64_t *changes, cu_err *err)
{
    pg_conn *c = conn;
    if (c->in_tx)
        return cu_err_set(err, CU_EINTERNAL, "a transaction is already open");
    int rc = ensure_conn(c, err);
    if (rc)
        return rc;
    /* One round trip. The lock first, the counter after it in a statement of
     * its own: read committed, each statement takes a new snapshot, so the
     * counter read sees every commit made before the lock was granted. */
    c->in_tx = true;
    c->wrote = false;
    c->wrote_trail = false;
    int64_t nt[2] = {0, 0};
    if ((rc = query_ints(c,
                         "BEGIN; SELECT pg_advisory_xact_lock(" WRITER_LOCK_KEY "); "
                         "SELECT n, trail FROM change_counter WHERE one = 1",
                         "starting a transaction", nt, 2, err))) {
        pg_rollback(c);
        return rc;
    }
    /* Equal to what this connection's own last commit left: no one else
     * has committed since, and the numbers last reported stand. */
    if (!c->seen_set || nt[0] != c->own_n)
        c->seen_n = nt[0];
    if (!c->seen_set || nt[1] != c->own_t)
        c->seen_t = nt[1];
    c->seen_set = true;
    if (changes)
        *changes = c->seen_n;
    return CU_OK;
}

static int64_t pg_trail(void *conn)
{
    return ((pg_conn *)conn)->seen_t;
}

static int pg_begin_read(void *conn, cu_err *err)
{
    pg_conn *c = conn;
    if (c->in_tx)
        return cu_err_set(err, CU_EINTERNAL, "a transaction is already open");
    int rc = ensure_conn(c, err);
    if (rc || (rc = exec_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                             "starting a read transaction", err)))
        return rc;
    c->in_tx = true;
    c->wrote = false;
    return CU_OK;
}

static int pg_commit(void *conn, cu_err *err)
{
    pg_conn *c = conn;
    ahead_clear(c);
    if (!c->in_tx)
        return cu_err_set(err, CU_EINTERNAL, "no transaction to commit");
    int rc = c->broken      ? cu_err_set(err, c->broken, "%s", c->broken_err.msg)
             : c->op_failed ? cu_err_set(err, c->op_failed, "%s", c->op_failed_err.msg)
             : c->tx_lost ? cu_err_set(err, CU_EUNAVAILABLE,
                                       "committing: the connection to the database was lost")
                          : CU_OK;
    /* One round trip: the count of a change (when the transaction wrote),
     * then the commit; an error in the first skips the second. A
     * transaction that only extended the audit trail moves trail alone. */
    bool counts = c->wrote || c->wrote_trail;
    const char *count_sql =
        c->wrote ? "UPDATE change_counter SET n = n + 1, trail = trail + 1 WHERE one = 1 "
                   "RETURNING n, trail"
                 : "UPDATE change_counter SET trail = trail + 1 WHERE one = 1 RETURNING n, trail";
    int64_t nt[2] = {-1, -1};
    bool piped = c->npend > 0;
    if (!rc && piped) {
        /* after the queued commands, in the same round trip */
        tail_cmd t[2] = {
            {.id = -1, .sql = count_sql},
            {.id = -1, .sql = "COMMIT"},
        };
        tail_cmd *from = counts ? t : t + 1;
        int ncmd = counts ? 2 : 1;
        if ((rc = pipeline(c, from, ncmd, err))) {
            /* the failure is in err */
        } else if (counts && (PQresultStatus(t[0].res) != PGRES_TUPLES_OK ||
                              !row_ints(t[0].res, nt, 2))) {
            rc = cu_err_set(err, CU_ECORRUPT, "committing: the change counter is missing");
        } else if (strcmp(PQcmdStatus(t[1].res), "COMMIT") != 0) {
            rc = cu_err_set(err, CU_EIO, "committing: the transaction had failed and was "
                                         "rolled back");
        }
        for (int k = 0; k < ncmd; k++)
            PQclear(from[k].res);
    } else if (!rc) {
        char sql[160];
        snprintf(sql, sizeof sql, "%s%s", counts ? count_sql : "", counts ? "; COMMIT" : "COMMIT");
        if (!PQsendQuery(c->db, sql))
            rc = fail(c, NULL, "committing", -1, err);
    }
    if (!rc && !piped) {
        bool committed = false;
        PGresult *r;
        while ((r = PQgetResult(c->db))) {
            ExecStatusType st = PQresultStatus(r);
            if (rc) {
                /* drained */
            } else if (st == PGRES_TUPLES_OK) {
                if (!row_ints(r, nt, 2))
                    rc = cu_err_set(err, CU_ECORRUPT, "committing: the change counter is "
                                                      "missing");
            } else if (st == PGRES_COMMAND_OK) {
                /* A failed transaction ends in a rollback, reported as such. */
                committed = strcmp(PQcmdStatus(r), "COMMIT") == 0;
                if (!committed)
                    rc = cu_err_set(err, CU_EIO, "committing: the transaction had failed and "
                                                 "was rolled back");
            } else {
                rc = fail(c, r, "committing", -1, err);
            }
            PQclear(r);
        }
        if (!rc && !committed)
            rc = fail(c, NULL, "committing", -1, err);
    }
    if (!rc && counts && (nt[0] < 0 || nt[1] < 0))
        rc = fail(c, NULL, "committing", -1, err);
    if (rc) {
        pg_rollback(c);
        return rc;
    }
    if (counts) {
        c->own_n = nt[0];
        c->own_t = nt[1];
    }
    c->in_tx = false;
    c->in_savepoint = false;
    c->wrote = false;
    c->wrote_trail = false;
    return CU_OK;
}

static void pg_rollback(void *conn)
{
    pg_conn *c = conn;
    pending_clear(c);
    ahead_clear(c);
    c->broken = CU_OK;
    c->broken_err = (cu_err){0};
    c->in_savepoint = false;
    c->op_failed = CU_OK;
    c->op_failed_err = (cu_err){0};
    if (PQstatus(c->db) == CONNECTION_OK && PQtransactionStatus(c->db) != PQTRANS_IDLE) {
        PGresult *r = PQexec(c->db, "ROLLBACK");
        PQclear(r);
    }
    c->in_tx = false;
    c->tx_lost = false;
    c->wrote = false;
    c->wrote_trail = false;
}

/* One savepoint name: one nested savepoint at a time (driver.h). Inside a
 * transaction the three commands are queued (deferred commands, above). */
static int pg_savepoint(void *conn, cu_err *err)
{
    pg_conn *c = conn;
    ahead_clear(c);
    int rc = ensure_conn(c, err);
    if (rc)
        return rc;
    if (c->in_tx) {
        if (!(rc = defer_sql(c, SQL_SAVEPOINT, "starting an operation", err)))
            c->in_savepoint = true;
        return rc;
    }
    return exec_sql(c, SQL_SAVEPOINT, "starting an operation", err);
}

/* Whether the last queued command is the savepoint: nothing ran since. */
static bool savepoint_last(const pg_conn *c)
{
    return c->npend && c->pend[c->npend - 1].sql == SQL_SAVEPOINT;
}

static int pg_release(void *conn, cu_err *err)
{
    pg_conn *c = conn;
    ahead_clear(c);
    int rc = ensure_conn(c, err);
    if (rc)
        return rc;
    if (c->in_tx && op_writes_queued(c)) {
        /* the operation's queued writes, with the release, and their answer
         * awaited: a failure is the operation's (its undo mends it) */
        tail_cmd t = {.id = -1, .sql = SQL_RELEASE};
        if (!(rc = pipeline(c, &t, 1, err)))
            c->in_savepoint = false;
        PQclear(t.res);
        return rc;
    }
    c->in_savepoint = false;
    if (savepoint_last(c)) {
        c->npend--; /* an operation that ran no statement */
        return CU_OK;
    }
    if (c->in_tx)
        return defer_sql(c, SQL_RELEASE, "finishing an operation", err);
    return exec_sql(c, SQL_RELEASE, "finishing an operation", err);
}

/* Undoes the operation and ends its savepoint, as a release would; the
 * transaction around it goes on (after an error PostgreSQL refuses every
 * command until this is done). A transaction a queued command broke stays
 * broken: that command's work may be in what the savepoint keeps. */
static void pg_rollback_to(void *conn)
{
    pg_conn *c = conn;
    ahead_clear(c);
    c->in_savepoint = false;
    c->op_failed = CU_OK;
    c->op_failed_err = (cu_err){0};
    op_writes_drop(c);
    if (c->broken || PQstatus(c->db) != CONNECTION_OK)
        return;
    if (savepoint_last(c)) {
        c->npend--;
        return;
    }
    if (c->in_tx) {
        if (defer_sql(c, SQL_ROLLBACK_TO, "undoing an operation", NULL) == CU_OK)
            (void)defer_sql(c, SQL_RELEASE, "undoing an operation", NULL);
        return;
    }
    (void)exec_sql(c, "ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op", "undoing an operation",
                   NULL);
}

/* PostgreSQL keeps its write-ahead log and dead row versions to itself: the
 * server recycles WAL segments and VACUUM reclaims the space of deleted rows,
 * neither at an application's request. Nothing to do here; what remains
 * where after an erasure is described in docs/operations.md. */
static int pg_compact_log(void *conn, cu_err *err)
{
    (void)conn;
    (void)err;
    return CU_OK;
}

static int pg_backup(void *conn, const char *dest_path, cu_err *err)
{
    (void)conn;
    (void)dest_path;
    return cu_err_set(err, CU_EINVAL,
                      "on PostgreSQL, back up with pg_dump or a base backup "
                      "(docs/operations.md)");
}

/* ---- opening, migrations ---- */

/* Applies pending migrations, each in its own transaction, under a session
 * advisory lock: nodes starting at once migrate one after the other, and a
 * later one finds the work done. */
static int migrate(pg_conn *c, bool create, cu_err *err)
{
    int rc = exec_sql(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
                      "waiting for other nodes' migrations", err);
    if (rc)
        return rc;
    int64_t exists = 0, version = 0;
    int latest = cu_pg_migration_count;
    rc = query_int(c, "SELECT to_regclass('schema_version') IS NOT NULL",
                   "reading the schema version", &exists, err);
    if (!rc && exists)
        rc = query_int(c, "SELECT coalesce(max(version), 0) FROM schema_version",
                       "reading the schema version", &version, err);
    if (rc)
        goto out;
    if (create && exists) {
        rc = cu_err_set(err, CU_ECONFLICT, "a custos store already exists in that database");
        goto out;
    }
    if (!create && (!exists || version < 1)) {
        rc = cu_err_set(err, CU_ECORRUPT,
                        "store database is damaged or not a custos store (no custos schema)");
        goto out;
    }
    if (version > latest) {
        rc = cu_err_set(err, CU_EVERSION,
                        "store schema version %lld is newer than this custos supports (%d); "
                        "use a newer custos",
                        (long long)version, latest);
        goto out;
    }
    for (int v = (int)version + 1; v <= latest && !rc; v++) {
        char record[160];
        snprintf(record, sizeof record,
                 "INSERT INTO schema_version(version, applied_at) VALUES (%d, "
                 "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint)",
                 v);
        if ((rc = exec_sql(c, "BEGIN", "starting a migration", err)))
            break;
        if ((rc = exec_sql(c, cu_pg_migrations[v - 1], "applying a migration", err)) ||
            (rc = exec_sql(c, record, "recording the schema version", err)) ||
            (rc = exec_sql(c, "COMMIT", "committing a migration", err))) {
            PGresult *r = PQexec(c->db, "ROLLBACK");
            PQclear(r);
        }
    }
out:;
    PGresult *r = PQexec(c->db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
    PQclear(r);
    return rc;
}

static void pg_close(void *conn)
{
    pg_conn *c = conn;
    if (!c)
        return;
    if (c->in_tx)
        pg_rollback(c);
    pending_clear(c);
    ahead_clear(c);
    PQfinish(c->db);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c);
}

/* Connection settings a URL does not give get these. */
static const char *const defaults[][2] = {
    {"connect_timeout", "10"},   {"keepalives", "1"},         {"keepalives_idle", "60"},
    {"keepalives_interval", "10"}, {"keepalives_count", "6"}, {"client_encoding", "UTF8"},
    {"application_name", "custos"},
};
#define NDEFAULTS (sizeof defaults / sizeof defaults[0])

/* The server's notices (warnings, hints) are not the store's output: libpq
 * would print them on stderr, where the CLI's one-line errors go. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int connect_db(pg_conn *c, const char *location, cu_err *err)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(location, &perr);
    if (!opts) {
        /* perr may quote part of the location: not repeated. */
        PQfreemem(perr);
        return cu_err_set(err, CU_EINVAL, "the PostgreSQL connection URL is not valid");
    }
    size_t n = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        n++;
    const char **kw = calloc(n + NDEFAULTS + 1, sizeof *kw);
    const char **val = calloc(n + NDEFAULTS + 1, sizeof *val);
    int rc = CU_OK;
    if (!kw || !val) {
        rc = cu_err_set(err, CU_ENOMEM, "out of memory connecting to the database");
        goto out;
    }
    size_t k = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "password") == 0 && *o->val && !(c->password = strdup(o->val))) {
            rc = cu_err_set(err, CU_ENOMEM, "out of memory connecting to the database");
            goto out;
        }
        kw[k] = o->keyword;
        val[k++] = o->val;
    }
    for (size_t d = 0; d < NDEFAULTS; d++) {
        bool given = false;
        for (size_t j = 0; j < k && !given; j++)
            given = strcmp(kw[j], defaults[d][0]) == 0;
        if (!given) {
            kw[k] = defaults[d][0];
            val[k++] = defaults[d][1];
        }
    }
    c->db = PQconnectdbParams(kw, val, 0);
    if (c->db)
        PQsetNoticeProcessor(c->db, quiet, NULL);
    if (!c->db) {
        rc = cu_err_set(err, CU_ENOMEM, "out of memory connecting to the database");
    } else if (PQstatus(c->db) != CONNECTION_OK) {
        /* libpq's reason (refused, timed out, authentication failed), its
         * first line, unless it could show the password. */
        char reason[160] = "";
        const char *m = PQerrorMessage(c->db);
        if (m && !(c->password && strstr(m, c->password))) {
            size_t len = strcspn(m, "\n");
            if (len >= sizeof reason)
                len = sizeof reason - 1;
            memcpy(reason, m, len);
            reason[len] = '\0';
        }
        rc = cu_err_set(err, CU_EUNAVAILABLE, "cannot connect to the PostgreSQL database%s%s",
                        reason[0] ? ": " : "", reason);
    }
out:
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && strcmp(o->keyword, "password") == 0)
            memset(o->val, 0, strlen(o->val));
    PQconninfoFree(opts);
    free(kw);
    free(val);
    return rc;
}

static int pg_open(const char *location, bool create, void **out, cu_err *err)
{
    *out = NULL;
    build_table();
    if (!stmt_table_ok)
        return cu_err_set(err, CU_EINTERNAL,
                          "the PostgreSQL statements are incomplete or declared twice");
    pg_conn *c = calloc(1, sizeof *c);
    if (!c)
        return cu_err_set(err, CU_ENOMEM, "out of memory opening the store");
    c->own_n = -1;
    c->own_t = -1;
    int rc = connect_db(c, location, err);
    if (!rc)
        rc = migrate(c, create, err);
    if (rc) {
        pg_close(c);
        return rc;
    }
    *out = c;
    return CU_OK;
}

static const cu_stmt_decl *pg_stmts(void)
{
    build_table();
    return stmt_table_ok ? stmt_table : NULL;
}

static int pg_schema_version(void)
{
    return cu_pg_migration_count;
}

/* A connection of its own for exists and remove, which take a location. */
static pg_conn *connect_only(const char *location)
{
    pg_conn *c = calloc(1, sizeof *c);
    if (c && connect_db(c, location, NULL) != CU_OK) {
        pg_close(c);
        c = NULL;
    }
    return c;
}

/* A custos store exists in the database when it has the schema_version
 * table with a version recorded. */
static bool pg_exists(const char *location)
{
    pg_conn *c = connect_only(location);
    int64_t exists = 0, version = 0;
    if (c && query_int(c, "SELECT to_regclass('schema_version') IS NOT NULL", "checking",
                       &exists, NULL) == CU_OK && exists)
        (void)query_int(c, "SELECT coalesce(max(version), 0) FROM schema_version", "checking",
                        &version, NULL);
    pg_close(c);
    return version > 0;
}

/* Drops custos's tables (and nothing else of the database): the undoing of
 * a store this process has just created. */
static void pg_remove(const char *location)
{
    pg_conn *c = connect_only(location);
    if (c)
        (void)exec_sql(c,
                       "DROP TABLE IF EXISTS portal_cookie_choices, portal_sessions, "
                       "portal_accounts, portal_invitations, "
                       "pathway_occurrences, enrolments, pathways, "
                       "questionnaire_links, tasks, questionnaires, node_keys, erasure_ledger, jobs, "
                       "disclosures, request_events, request_pauses, "
                       "requests, unsubscribe_links, objections, consents, policies, "
                       "break_glass, care_list, api_tokens, sessions, users, "
                       "audit_checkpoints, audit_head, audit_events, identifiers, items, "
                       "subject_keys, subjects, controllers, keyring, meta, change_counter, "
                       "schema_version CASCADE",
                       "removing the store", NULL);
    pg_close(c);
}

const cu_backend cu_backend_pg = {
    .name = "postgresql",
    .stmts = pg_stmts,
    .schema_version = pg_schema_version,
    .exists = pg_exists,
    .remove = pg_remove,
    .copy_suffix = ".pgdump",
    /* Each savepoint that writes takes a subtransaction id; past 64 in one
     * transaction the server's per-session cache overflows and every
     * session's visibility checks go to pg_subtrans. 48 leaves a margin. */
    .batch_limit = 48,
    .open = pg_open,
    .close = pg_close,
    .run = pg_run,
    .begin = pg_begin,
    .changes_complete = false,
    .trail = pg_trail,
    .begin_read = pg_begin_read,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .release = pg_release,
    .rollback_to = pg_rollback_to,
    .read_ahead = pg_read_ahead,
    .compact_log = pg_compact_log,
    .backup = pg_backup,
};
