/*
 * driver.c — the SQLite backend: one database file in the vault directory,
 * with its write-ahead log and shared-memory index beside it.
 */
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite/sqlite_impl.h"
#include "util/clock.h"

/* From this migration on, schema_version holds a row per applied migration. */
#define SCHEMA_VERSION_TABLE 7
/* The most columns any statement declares. */
#define MAX_COLS 32

/* The WAL is copied back into the database (checkpointed) off the thread
 * that writes: once a commit leaves CKPT_BACKGROUND pages or more in the WAL,
 * a thread of the connection's own, on a connection of its own, checkpoints
 * what it can without waiting for anyone (SQLITE_CHECKPOINT_PASSIVE), and
 * syncs the database; the writer goes on committing meanwhile. A commit that
 * leaves CKPT_INLINE pages checkpoints itself, as SQLite's automatic
 * checkpoint does: the WAL stays bounded even when the thread falls behind,
 * and what it copies then is only what the thread has not. The thread is
 * woken at 4096 pages and again every CKPT_STEP pages, not after every
 * commit: each of its checkpoints syncs the database, and syncs after every
 * commit would stand in the way of the commits' own. A short-lived
 * command seldom reaches CKPT_BACKGROUND and starts no thread. */
#define CKPT_BACKGROUND 4096
#define CKPT_STEP 2048 /* and again each time the WAL has grown by this much */
#define CKPT_INLINE 8192

typedef struct sq_ckpt {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_mutex_t running; /* held while it checkpoints */
    bool due, stop;
    char *path;
} sq_ckpt;

typedef struct sq_conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    sqlite3_stmt *data_version; /* PRAGMA data_version */
    sqlite3_stmt *begin_read;   /* a deferred BEGIN */
    sq_ckpt *ckpt;              /* the checkpointing thread, once started */
    int ckpt_mark;              /* the WAL's pages that wake it next */
    bool ckpt_failed;           /* it could not be started: checkpoints inline */
} sq_conn;

static void *ckpt_main(void *arg)
{
    sq_ckpt *k = arg;
    pthread_setname_np(pthread_self(), "custos-wal");
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(k->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA synchronous = FULL;", NULL, NULL, NULL) != SQLITE_OK) {
        /* the writer's own checkpoints (CKPT_INLINE) keep the WAL bounded */
        sqlite3_close_v2(db);
        db = NULL;
    }
    pthread_mutex_lock(&k->lock);
    for (;;) {
        while (!k->due && !k->stop)
            pthread_cond_wait(&k->wake, &k->lock);
        if (k->stop)
            break;
        k->due = false;
        pthread_mutex_unlock(&k->lock);
        /* busy (another checkpoint running) or failed: the next commit
         * past the mark asks again */
        pthread_mutex_lock(&k->running);
        if (db)
            (void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_unlock(&k->running);
        pthread_mutex_lock(&k->lock);
    }
    pthread_mutex_unlock(&k->lock);
    sqlite3_close_v2(db);
    return NULL;
}

static void ckpt_stop(sq_conn *c)
{
    sq_ckpt *k = c->ckpt;
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    k->stop = true;
    pthread_cond_signal(&k->wake);
    pthread_mutex_unlock(&k->lock);
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->wake);
    pthread_mutex_destroy(&k->lock);
    pthread_mutex_destroy(&k->running);
    free(k->path);
    free(k);
    c->ckpt = NULL;
}

static bool ckpt_start(sq_conn *c)
{
    const char *path = sqlite3_db_filename(c->db, "main");
    sq_ckpt *k = calloc(1, sizeof *k);
    if (!k || !path || !*path || !(k->path = strdup(path))) {
        free(k);
        return false;
    }
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->wake, NULL);
    pthread_mutex_init(&k->running, NULL);
    if (pthread_create(&k->thread, NULL, ckpt_main, k) != 0) {
        pthread_cond_destroy(&k->wake);
        pthread_mutex_destroy(&k->lock);
        pthread_mutex_destroy(&k->running);
        free(k->path);
        free(k);
        return false;
    }
    c->ckpt = k;
    return true;
}

/* After every commit of the writer (sqlite3_wal_hook), with the WAL's pages. */
static int wal_committed(void *arg, sqlite3 *db, const char *name, int pages)
{
    sq_conn *c = arg;
    if (pages >= CKPT_INLINE || (pages >= CKPT_BACKGROUND && c->ckpt_failed)) {
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    if (pages < CKPT_BACKGROUND || c->ckpt_mark < CKPT_BACKGROUND) {
        c->ckpt_mark = CKPT_BACKGROUND; /* the WAL began again */
        if (pages < CKPT_BACKGROUND)
            return SQLITE_OK;
    }
    if (pages < c->ckpt_mark)
        return SQLITE_OK;
    c->ckpt_mark = pages + CKPT_STEP;
    if (!c->ckpt && !ckpt_start(c)) {
        c->ckpt_failed = true;
        return SQLITE_OK;
    }
    pthread_mutex_lock(&c->ckpt->lock);
    c->ckpt->due = true;
    pthread_cond_signal(&c->ckpt->wake);
    pthread_mutex_unlock(&c->ckpt->lock);
    return SQLITE_OK;
}

/* ---- the statement table ---- */

static const cu_stmt_entry *const lists[] = {
    cu_sqlite_sql_tx,      cu_sqlite_sql_meta,   cu_sqlite_sql_subjects,
    cu_sqlite_sql_items,   cu_sqlite_sql_audit,  cu_sqlite_sql_staff,
    cu_sqlite_sql_policy,  cu_sqlite_sql_consent, cu_sqlite_sql_requests,
    cu_sqlite_sql_disclosures, cu_sqlite_sql_nodes, cu_sqlite_sql_questionnaires,
    cu_sqlite_sql_tasks,   cu_sqlite_sql_qlinks,
    cu_sqlite_sql_pathways, cu_sqlite_sql_portal,
};
static cu_stmt_decl table[ST_COUNT];
static bool table_ok;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void assemble(void)
{
    table_ok = cu_stmt_assemble(lists, sizeof lists / sizeof lists[0], table) == CU_OK;
}

static const cu_stmt_decl *sq_stmts(void)
{
    pthread_once(&table_once, assemble);
    return table_ok ? table : NULL;
}

static int sq_schema_version(void)
{
    return cu_sqlite_migrations_count;
}

/* ---- errors ---- */

/* Maps a SQLite failure to a status; what (NULL inside a statement run,
 * where the store names the operation) says what failed. */
static int fail(sqlite3 *db, int src, const char *what, cu_err *err)
{
    int primary = src & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
        return what ? cu_err_set(err, CU_ECORRUPT,
                                 "store database is damaged or not a custos store (%s)", what)
                    : cu_err_set(err, CU_ECORRUPT,
                                 "store database is damaged or not a custos store");
    const char *msg = primary == SQLITE_CONSTRAINT ? "conflicts with existing data"
                      : primary == SQLITE_NOMEM    ? "out of memory"
                      : db                         ? sqlite3_errmsg(db)
                                                   : sqlite3_errstr(src);
    int code = primary == SQLITE_CONSTRAINT ? CU_ECONFLICT
               : primary == SQLITE_NOMEM    ? CU_ENOMEM
                                            : CU_EIO;
    return what ? cu_err_set(err, code, "%s: %s", what, msg) : cu_err_set(err, code, "%s", msg);
}

static int exec_sql(sq_conn *c, const char *sql, const char *what, cu_err *err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? CU_OK : fail(c->db, rc, what, err);
}

/* ---- statements ---- */

static sqlite3_stmt *prep(sq_conn *c, enum cu_stmt_id id, cu_err *err)
{
    if (c->st[id])
        return c->st[id];
    const cu_stmt_decl *d = &table[id];
    int rc = sqlite3_prepare_v3(c->db, d->sql, -1, SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL);
    if (rc != SQLITE_OK) {
        fail(c->db, rc, "preparing a statement", err);
        return NULL;
    }
    /* The SQL must take and give what the statement declares. */
    if ((size_t)sqlite3_bind_parameter_count(c->st[id]) != strlen(d->params) ||
        (size_t)sqlite3_column_count(c->st[id]) != strlen(d->cols)) {
        sqlite3_finalize(c->st[id]);
        c->st[id] = NULL;
        cu_err_set(err, CU_EINTERNAL, "statement %d does not match its declared shape", (int)id);
        return NULL;
    }
    return c->st[id];
}

static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static void bind(sqlite3_stmt *st, int i, char shape, const cu_val *v)
{
    switch (shape) {
    case 'i':
        sqlite3_bind_int64(st, i, v->i);
        break;
    case 't':
        if (v->p)
            sqlite3_bind_text(st, i, v->p, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, i);
        break;
    default: /* 'b' */
        if (v->p)
            sqlite3_bind_blob64(st, i, v->p, v->n, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, i);
        break;
    }
}

static void column(sqlite3_stmt *st, int i, char shape, cu_val *v)
{
    *v = (cu_val){0};
    switch (shape) {
    case 'i':
        v->i = sqlite3_column_int64(st, i);
        break;
    case 't':
        v->p = sqlite3_column_text(st, i);
        v->n = v->p ? (size_t)sqlite3_column_bytes(st, i) : 0;
        break;
    default: /* 'b' */
        if (sqlite3_column_type(st, i) != SQLITE_NULL) {
            v->p = sqlite3_column_blob(st, i);
            v->n = (size_t)sqlite3_column_bytes(st, i);
            if (!v->p)
                v->p = ""; /* an empty value, not SQL NULL */
        }
        break;
    }
}

static int sq_run(void *conn, enum cu_stmt_id id, const cu_val *args, size_t nargs,
                  cu_row_fn cb, void *ctx, int64_t *changed, cu_err *err)
{
    sq_conn *c = conn;
    if ((unsigned)id >= ST_COUNT)
        return cu_err_set(err, CU_EINTERNAL, "no statement %d", (int)id);
    const cu_stmt_decl *d = &table[id];
    size_t np = strlen(d->params), nc = strlen(d->cols);
    if (nargs != np || nc > MAX_COLS)
        return cu_err_set(err, CU_EINTERNAL, "statement %d called with %zu arguments, not %zu",
                          (int)id, nargs, np);
    sqlite3_stmt *st = prep(c, id, err);
    if (!st)
        return err && err->code ? err->code : CU_EIO;
    for (size_t i = 0; i < np; i++)
        bind(st, (int)i + 1, d->params[i], &args[i]);
    cu_val cols[MAX_COLS];
    int rc, res = CU_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!cb)
            continue;
        for (size_t j = 0; j < nc; j++)
            column(st, (int)j, d->cols[j], &cols[j]);
        if ((res = cb(ctx, cols)))
            break;
    }
    if (!res && rc != SQLITE_DONE)
        res = fail(c->db, rc, NULL, err);
    else if (!res && changed)
        *changed = sqlite3_changes64(c->db);
    done(st);
    return res;
}

/* Runs one of the transaction statements. */
static int run_tx(sq_conn *c, enum cu_stmt_id id, const char *what, cu_err *err)
{
    sqlite3_stmt *st = prep(c, id, err);
    if (!st)
        return err && err->code ? err->code : CU_EIO;
    int rc = sqlite3_step(st);
    done(st);
    return rc == SQLITE_DONE ? CU_OK : fail(c->db, rc, what, err);
}

/* ---- opening and migrations ---- */

static int read_version(sq_conn *c, int *version, cu_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(c->db, rc, "reading the schema version", err);
    rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return *version < 0 ? fail(c->db, rc, "reading the schema version", err) : CU_OK;
}

static int record_version(sq_conn *c, int v, cu_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db,
                                "INSERT INTO schema_version(version, applied_at) VALUES (?1, ?2)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, v);
        sqlite3_bind_int64(st, 2, cu_now_us());
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? CU_OK : fail(c->db, rc, "recording the schema version", err);
}

static int migrate(sq_conn *c, bool create, cu_err *err)
{
    int version = 0, rc = read_version(c, &version, err);
    if (rc)
        return rc;
    int latest = cu_sqlite_migrations_count;
    /* Only init creates a schema: an existing file at version 0 is empty or
     * another application's database, and is left untouched. */
    if (version == 0 && !create)
        return cu_err_set(err, CU_ECORRUPT,
                          "store database is damaged or not a custos store (no custos schema)");
    if (version > latest)
        return cu_err_set(err, CU_EVERSION,
                          "store schema version %d is newer than this custos supports (%d); "
                          "use a newer custos", version, latest);
    for (int v = version + 1; v <= latest; v++) {
        char pragma[48];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v);
        if ((rc = exec_sql(c, "BEGIN IMMEDIATE", "starting a migration", err)))
            return rc;
        if ((rc = exec_sql(c, cu_sqlite_migrations[v - 1], "applying a migration", err)) ||
            (v >= SCHEMA_VERSION_TABLE && (rc = record_version(c, v, err))) ||
            (rc = exec_sql(c, pragma, "recording the schema version", err)) ||
            (rc = exec_sql(c, "COMMIT", "committing a migration", err))) {
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    return CU_OK;
}

static void sq_close(void *conn)
{
    sq_conn *c = conn;
    if (!c)
        return;
    ckpt_stop(c);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_finalize(c->data_version);
    sqlite3_finalize(c->begin_read);
    sqlite3_close_v2(c->db);
    free(c);
}

static int sq_open(const char *path, bool create, void **out, cu_err *err)
{
    cu_sq_pcache_install();
    if (!sq_stmts())
        return cu_err_set(err, CU_EINTERNAL,
                          "the sqlite backend does not declare every statement once");
    if (!create && access(path, F_OK) != 0)
        return cu_err_set(err, CU_ENOTFOUND, "no store at %s (run: custos init)", path);
    if (create && access(path, F_OK) == 0)
        return cu_err_set(err, CU_ECONFLICT, "a store already exists at %s", path);
    sq_conn *c = calloc(1, sizeof *c);
    if (!c)
        return cu_err_set(err, CU_ENOMEM, "out of memory opening the store");
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        rc = fail(c->db, rc, "opening the store database", err);
        sq_close(c);
        return rc;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, 10000);
    /* Only init creates a schema: an existing file at version 0 is empty or
     * another application's database. Checked before anything is written. */
    int version = 0;
    if (!create && !(rc = read_version(c, &version, err)) && version == 0)
        rc = cu_err_set(err, CU_ECORRUPT,
                        "store database is damaged or not a custos store (no custos schema)");
    if (rc) {
        sq_close(c);
        return rc;
    }
    /* WAL + FULL: a commit is on disk when it returns. secure_delete overwrites
     * deleted content, so an erased key does not linger in free pages. A page
     * cache of up to 64 MiB (default 2 MiB) holds the pages a large batch
     * dirties, so they are not spilled to the WAL and read back mid-transaction.
 * The WAL is checkpointed mostly off the writer's thread (wal_committed).
 * temp_store MEMORY keeps SQLite's temporary
 * files in memory, above all the sub-journal that holds a page's content
 * before each request's savepoint in a group-commit batch changes it: on
 * disk (SQLite's default beyond 64 KiB) it took more writes than the WAL
 * itself, and put copies of the store's pages in the system's temporary
 * directory, outside the store and beyond secure_delete's reach. */
    rc = exec_sql(c,
                  "PRAGMA journal_mode = WAL;"
                  "PRAGMA synchronous = FULL;"
                  "PRAGMA foreign_keys = ON;"
                  "PRAGMA secure_delete = ON;"
                  "PRAGMA trusted_schema = OFF;"
                  "PRAGMA cell_size_check = ON;"
                  "PRAGMA cache_size = -65536;"
                  "PRAGMA temp_store = MEMORY;",
                  "configuring the store database", err);
    if (!rc)
        sqlite3_wal_hook(c->db, wal_committed, c);
    if (!rc)
        rc = migrate(c, create, err);
    if (rc) {
        sq_close(c);
        return rc;
    }
    *out = c;
    return CU_OK;
}

/* ---- transactions ---- */

static int sq_begin(void *conn, int64_t *changes, cu_err *err)
{
    sq_conn *c = conn;
    int rc = run_tx(c, ST_BEGIN, "starting a transaction", err);
    if (rc)
        return rc;
    /* Read once the write lock is held, so no commit lands unseen. */
    if (!c->data_version &&
        (rc = sqlite3_prepare_v3(c->db, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT,
                                 &c->data_version, NULL)) != SQLITE_OK) {
        rc = fail(c->db, rc, "preparing a statement", err);
    } else {
        int step = sqlite3_step(c->data_version);
        int64_t dv = step == SQLITE_ROW ? sqlite3_column_int64(c->data_version, 0) : -1;
        sqlite3_reset(c->data_version);
        if (dv < 0)
            rc = fail(c->db, step, "reading the data version", err);
        else
            *changes = dv;
    }
    if (rc)
        (void)run_tx(c, ST_ROLLBACK, "rolling back", NULL);
    return rc;
}

static int sq_begin_read(void *conn, cu_err *err)
{
    sq_conn *c = conn;
    if (!c->begin_read) {
        int rc = sqlite3_prepare_v3(c->db, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT,
                                    &c->begin_read, NULL);
        if (rc != SQLITE_OK)
            return fail(c->db, rc, "preparing a statement", err);
    }
    int rc = sqlite3_step(c->begin_read);
    sqlite3_reset(c->begin_read);
    return rc == SQLITE_DONE ? CU_OK : fail(c->db, rc, "starting a read", err);
}

static int sq_commit(void *conn, cu_err *err)
{
    return run_tx(conn, ST_COMMIT, "committing", err);
}

static void sq_rollback(void *conn)
{
    sq_conn *c = conn;
    if (sqlite3_get_autocommit(c->db) == 0)
        (void)run_tx(c, ST_ROLLBACK, "rolling back", NULL);
}

static int sq_savepoint(void *conn, cu_err *err)
{
    return run_tx(conn, ST_SAVEPOINT, "starting an operation", err);
}

static int sq_release(void *conn, cu_err *err)
{
    return run_tx(conn, ST_RELEASE, "finishing an operation", err);
}

static void sq_rollback_to(void *conn)
{
    (void)run_tx(conn, ST_ROLLBACK_TO, "undoing an operation", NULL);
    (void)run_tx(conn, ST_RELEASE, "undoing an operation", NULL);
}

static int sq_compact_log(void *conn, cu_err *err)
{
    sq_conn *c = conn;
    /* Only one checkpoint runs at a time: one of this connection's own
     * thread is waited for, not met with SQLITE_BUSY, so an erased key
     * leaves the WAL now. */
    if (c->ckpt)
        pthread_mutex_lock(&c->ckpt->running);
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (c->ckpt)
        pthread_mutex_unlock(&c->ckpt->running);
    /* SQLITE_BUSY means another connection is reading; the WAL is then
     * checkpointed by a later writer. Not a failure of the caller's change. */
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? CU_OK
                                                : fail(c->db, rc, "checkpointing the WAL", err);
}

static int sq_backup(void *conn, const char *dest_path, cu_err *err)
{
    sq_conn *c = conn;
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(dest_path, &dst,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE,
                             NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(dst);
        return cu_err_set(err, CU_EIO, "cannot create the backup copy (%s)",
                          sqlite3_errstr(rc));
    }
    /* A connection of its own: in WAL mode a reader is never blocked by the
     * writer, so the backup works while this connection holds a transaction. */
    sqlite3 *src = NULL;
    const char *path = sqlite3_db_filename(c->db, "main");
    rc = sqlite3_open_v2(path ? path : "", &src, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        sqlite3_busy_timeout(src, 10000);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(dst, "main", src, "main") : NULL;
    if (!b) {
        rc = rc == SQLITE_OK ? sqlite3_errcode(dst) : rc;
        sqlite3_close(dst);
        sqlite3_close(src);
        return cu_err_set(err, CU_EIO, "cannot start the backup (%s)", sqlite3_errstr(rc));
    }
    /* One step copies everything under one read transaction: a consistent
     * snapshot even while other connections write. */
    rc = sqlite3_backup_step(b, -1);
    int frc = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE && frc == SQLITE_OK)
        rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    else
        rc = rc == SQLITE_DONE ? frc : rc;
    int crc = sqlite3_close(dst);
    sqlite3_close(src);
    if (rc != SQLITE_OK || crc != SQLITE_OK)
        return cu_err_set(err, CU_EIO, "the backup copy failed (%s)",
                          sqlite3_errstr(rc != SQLITE_OK ? rc : crc));
    return CU_OK;
}

/* ---- the file and the files beside it ---- */

static bool sq_exists(const char *location)
{
    return access(location, F_OK) == 0;
}

static void sq_remove(const char *location)
{
    char side[PATH_MAX + 8];
    (void)unlink(location);
    snprintf(side, sizeof side, "%s-wal", location);
    (void)unlink(side);
    snprintf(side, sizeof side, "%s-shm", location);
    (void)unlink(side);
}

const cu_backend cu_backend_sqlite = {
    .name = "sqlite",
    .stmts = sq_stmts,
    .schema_version = sq_schema_version,
    .exists = sq_exists,
    .remove = sq_remove,
    .copy_suffix = ".db",
    .batch_limit = 256,
    .open = sq_open,
    .close = sq_close,
    .run = sq_run,
    .begin = sq_begin,
    .changes_complete = true,
    .begin_read = sq_begin_read,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .compact_log = sq_compact_log,
    .backup = sq_backup,
};
