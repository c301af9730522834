/*
 * test_pg.c — the PostgreSQL backend (src/store/pg) against a real server.
 *
 * CUSTOS_TEST_DATABASE is the URL of an empty database the test may use as
 * it likes; without it every case fails (a missing database is a failure,
 * never a skip). Each case works in a schema of its own (custos_pg_test,
 * dropped and made again before each case, dropped at the end), reached
 * through the URL's search_path, and a second plain libpq connection plays
 * the other node or the attacker: it changes rows behind the driver's back,
 * kills its session, takes locks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/driver.h"
#include "store/pg/pg.h"
#include "util/err.h"

#define SCHEMA "custos_pg_test"
#define CTL "11111111-1111-4111-8111-111111111111"
#define SUBJ "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define ITEM "cccccccc-cccc-4ccc-8ccc-cccccccccccc"

static const cu_backend *B = &cu_backend_pg;
static const char *base_url;
static char url[2048];

/* base with "options=-csearch_path=SCHEMA" and extra (key=value, may be
 * empty) added, in the form base is written in (URL or key=value). */
static void with_options(char *out, size_t n, const char *base, const char *extra)
{
    bool is_url = strstr(base, "://") != NULL;
    if (is_url)
        snprintf(out, n, "%s%soptions=-csearch_path%%3D" SCHEMA "%s%s", base,
                 strchr(base, '?') ? "&" : "?", *extra ? "&" : "", extra);
    else
        snprintf(out, n, "%s options='-csearch_path=" SCHEMA "' %s", base, extra);
}

static PGconn *raw_connect(void)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("test connection failed: %s", PQerrorMessage(c));
    return c;
}

static void raw_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static long long raw_int(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    long long v = PQgetisnull(r, 0, 0) ? -1 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* A fresh, empty schema for each case. */
static int setup(void **state)
{
    (void)state;
    char plain[2048];
    snprintf(plain, sizeof plain, "%s", base_url);
    PGconn *c = PQconnectdb(plain);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("CUSTOS_TEST_DATABASE cannot be reached: %s", PQerrorMessage(c));
    raw_exec(c, "SET client_min_messages = warning");
    raw_exec(c, "DROP SCHEMA IF EXISTS " SCHEMA " CASCADE");
    raw_exec(c, "CREATE SCHEMA " SCHEMA);
    PQfinish(c);
    return 0;
}

static void *open_ok(bool create)
{
    void *conn = NULL;
    cu_err err = {0};
    int rc = B->open(url, create, &conn, &err);
    if (rc)
        fail_msg("open(%s): %d %s", create ? "create" : "existing", rc, err.msg);
    return conn;
}

/* More than the backend queues before sending (driver.c MAX_PENDING). */
#define MAX_QUEUE_TEST 32

#define RUN(conn, id, cb, ctx, changed, ...)                                                \
    run_args(conn, id, (const cu_val[]){__VA_ARGS__},                                       \
             sizeof((const cu_val[]){__VA_ARGS__}) / sizeof(cu_val), cb, ctx, changed)

static int run_args(void *conn, enum cu_stmt_id id, const cu_val *a, size_t n, cu_row_fn cb,
                    void *ctx, int64_t *changed)
{
    cu_err err = {0};
    int rc = B->run(conn, id, a, n, cb, ctx, changed, &err);
    if (rc)
        print_message("# statement %d: %s\n", (int)id, err.msg);
    return rc;
}

static void must(int rc, cu_err *err, const char *what)
{
    if (rc)
        fail_msg("%s: %d %s", what, rc, err->msg);
}

static void put_controller(void *conn)
{
    assert_int_equal(RUN(conn, ST_CTL_INSERT, NULL, NULL, NULL, cu_vt(CTL), cu_vt("Clinic"),
                         cu_vi(1000)),
                     CU_OK);
}

/* ---- the statement table ---- */

static const cu_stmt_entry list_a[] = {{ST_META_GET, {"SELECT 1", "", "i", 0}}, {ST_COUNT, {0}}};
static const cu_stmt_entry list_bad_shape[] = {{ST_META_GET, {"SELECT 1", "x", "", 0}},
                                               {ST_COUNT, {0}}};

static void test_index_rejects_duplicates_and_gaps(void **state)
{
    (void)state;
    static cu_stmt_decl out[ST_COUNT];
    static const cu_stmt_entry *const all[] = {
        cu_pg_sql_meta,   cu_pg_sql_subjects, cu_pg_sql_items,   cu_pg_sql_audit,
        cu_pg_sql_staff,  cu_pg_sql_policy,   cu_pg_sql_consent, cu_pg_sql_requests,
        cu_pg_sql_disclosures, cu_pg_sql_nodes, cu_pg_sql_questionnaires, cu_pg_sql_tasks,
        cu_pg_sql_qlinks,
        cu_pg_sql_pathways, cu_pg_sql_portal,
    };
    const size_t n = sizeof all / sizeof all[0];
    cu_err err = {0};
    assert_int_equal(cu_pg_index(all, n, out, &err), CU_OK);
    /* One list left out: its ids are missing. */
    err = (cu_err){0};
    assert_int_equal(cu_pg_index(all, n - 1, out, &err), CU_EINTERNAL);
    assert_non_null(strstr(err.msg, "not declared"));
    /* An id declared by two lists. */
    const cu_stmt_entry *twice[sizeof all / sizeof all[0] + 1];
    memcpy(twice, all, sizeof all);
    twice[n] = list_a;
    err = (cu_err){0};
    assert_int_equal(cu_pg_index(twice, n + 1, out, &err), CU_EINTERNAL);
    assert_non_null(strstr(err.msg, "twice"));
    const cu_stmt_entry *bad[] = {list_bad_shape};
    err = (cu_err){0};
    assert_int_equal(cu_pg_index(bad, 1, out, &err), CU_EINTERNAL);
}

/* Every statement's highest placeholder is its parameter count, writes are
 * flagged as writes, and exactly the statements that change what a session
 * or token stands for are flagged as such. */
static void test_declarations_consistent(void **state)
{
    (void)state;
    void *conn = open_ok(true); /* builds the table */
    static const enum cu_stmt_id auth[] = {
        ST_USER_INSERT,  ST_USER_UPDATE,  ST_SESS_INSERT, ST_SESS_REVOKE,
        ST_TOKEN_INSERT, ST_TOKEN_REVOKE, ST_MAC_USERS,   ST_MAC_TOKENS,
        ST_SESS_PURGE,
    };
    for (int id = 0; id < ST_COUNT; id++) {
        const cu_stmt_decl *d = &B->stmts()[id];
        int max = 0;
        for (const char *p = strchr(d->sql, '$'); p; p = strchr(p + 1, '$')) {
            int k = atoi(p + 1);
            if (k > max)
                max = k;
        }
        if ((size_t)max != strlen(d->params))
            fail_msg("statement %d: $%d with shape \"%s\"", id, max, d->params);
        bool writes = strncmp(d->sql, "INSERT", 6) == 0 || strncmp(d->sql, "UPDATE", 6) == 0 ||
                      strncmp(d->sql, "DELETE", 6) == 0;
        if (writes != ((d->flags & CU_STMT_WRITE) != 0))
            fail_msg("statement %d: write flag wrong", id);
        bool is_auth = false;
        for (size_t k = 0; k < sizeof auth / sizeof auth[0]; k++)
            is_auth |= auth[k] == (enum cu_stmt_id)id;
        if (is_auth != ((d->flags & CU_STMT_AUTH) != 0))
            fail_msg("statement %d: auth flag wrong", id);
    }
    B->close(conn);
}

/* ---- opening and migrations ---- */

static void test_create_migrates_and_reopens(void **state)
{
    (void)state;
    void *conn = open_ok(true);
    B->close(conn);
    PGconn *t = raw_connect();
    assert_int_equal(raw_int(t, "SELECT count(*) FROM schema_version"), cu_pg_migration_count);
    assert_int_equal(raw_int(t, "SELECT max(version) FROM schema_version"),
                     cu_pg_migration_count);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM schema_version WHERE applied_at <= 0"),
                     0);
    assert_int_equal(raw_int(t, "SELECT n FROM change_counter"), 0);
    /* The tables of the last migration are there. */
    assert_int_equal(raw_int(t, "SELECT count(*) FROM disclosures"), 0);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM tasks"), 0);
    assert_int_equal(raw_int(t, "SELECT count(mac) FROM requests"), 0);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM questionnaires"), 0);
    conn = open_ok(false);
    B->close(conn);
    /* A second init on the same database is refused and changes nothing. */
    void *again = NULL;
    cu_err err = {0};
    assert_int_equal(B->open(url, true, &again, &err), CU_ECONFLICT);
    assert_null(again);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM schema_version"), cu_pg_migration_count);
    PQfinish(t);
}

static void test_open_empty_is_not_a_store(void **state)
{
    (void)state;
    PGconn *t = raw_connect();
    raw_exec(t, "CREATE TABLE someone_elses (x int)");
    void *conn = NULL;
    cu_err err = {0};
    assert_int_equal(B->open(url, false, &conn, &err), CU_ECORRUPT);
    assert_null(conn);
    assert_non_null(strstr(err.msg, "not a custos store"));
    /* Nothing was created. */
    assert_int_equal(raw_int(t, "SELECT count(*) FROM pg_tables WHERE schemaname = '" SCHEMA "'"),
                     1);
    PQfinish(t);
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    B->close(open_ok(true));
    PGconn *t = raw_connect();
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d, 1)",
             cu_pg_migration_count + 1);
    raw_exec(t, sql);
    void *conn = NULL;
    cu_err err = {0};
    assert_int_equal(B->open(url, false, &conn, &err), CU_EVERSION);
    assert_null(conn);
    PQfinish(t);
}

static void test_every_statement_prepares(void **state)
{
    (void)state;
    void *conn = open_ok(true);
    for (int id = 0; id < ST_COUNT; id++) {
        cu_err err = {0};
        int rc = cu_pg_prepare(conn, (enum cu_stmt_id)id, &err);
        if (rc)
            fail_msg("statement %d does not prepare: %s", id, err.msg);
    }
    B->close(conn);
}

typedef struct opener {
    bool create;
    int rc;
    void *conn;
    atomic_int *go;
} opener;

static void *open_thread(void *arg)
{
    opener *o = arg;
    while (!atomic_load(o->go))
        ;
    cu_err err = {0};
    o->rc = B->open(url, o->create, &o->conn, &err);
    return NULL;
}

static void open_two(bool create, opener o[2])
{
    atomic_int go = 0;
    pthread_t th[2];
    for (int k = 0; k < 2; k++) {
        o[k] = (opener){.create = create, .go = &go};
        assert_int_equal(pthread_create(&th[k], NULL, open_thread, &o[k]), 0);
    }
    atomic_store(&go, 1);
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
}

/* Two nodes starting at once on a store one migration behind: both open,
 * and each pending migration is applied exactly once. */
static void test_concurrent_open_migrates_once(void **state)
{
    (void)state;
    PGconn *t = raw_connect();
    raw_exec(t, "BEGIN");
    raw_exec(t, cu_pg_migrations[0]);
    raw_exec(t, "INSERT INTO schema_version VALUES (1, 1)");
    raw_exec(t, "COMMIT");
    opener o[2];
    open_two(false, o);
    assert_int_equal(o[0].rc, CU_OK);
    assert_int_equal(o[1].rc, CU_OK);
    B->close(o[0].conn);
    B->close(o[1].conn);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM schema_version"), cu_pg_migration_count);
    /* Migration 1 was not applied again: its row is the one written here. */
    assert_int_equal(raw_int(t, "SELECT applied_at FROM schema_version WHERE version = 1"), 1);
    PQfinish(t);
}

/* Two inits at once: one creates, the other is told the store exists. */
static void test_concurrent_create_one_wins(void **state)
{
    (void)state;
    opener o[2];
    open_two(true, o);
    assert_true((o[0].rc == CU_OK && o[1].rc == CU_ECONFLICT) ||
                (o[1].rc == CU_OK && o[0].rc == CU_ECONFLICT));
    B->close(o[0].conn);
    B->close(o[1].conn);
    PGconn *t = raw_connect();
    assert_int_equal(raw_int(t, "SELECT count(*) FROM schema_version"), cu_pg_migration_count);
    PQfinish(t);
}

/* ---- errors ---- */

static void test_unique_violation_is_conflict(void **state)
{
    (void)state;
    void *conn = open_ok(true);
    cu_err err = {0};
    put_controller(conn);
    must(B->begin(conn, NULL, &err), &err, "begin");
    assert_int_equal(B->run(conn, ST_CTL_INSERT,
                            (const cu_val[]){cu_vt(CTL), cu_vt("Other"), cu_vi(1)}, 3, NULL,
                            NULL, NULL, &err),
                     CU_ECONFLICT);
    assert_non_null(strstr(err.msg, "23505"));
    assert_null(strstr(err.msg, CTL)); /* no value in the message */
    /* PostgreSQL refuses the rest of a transaction after a failed statement,
     * and its commit is a failure that leaves nothing written. */
    err = (cu_err){0};
    assert_int_not_equal(B->run(conn, ST_META_PUT, (const cu_val[]){cu_vt("k"), cu_vb0("v", 1)},
                                2, NULL, NULL, NULL, &err),
                         CU_OK);
    err = (cu_err){0};
    assert_int_equal(B->commit(conn, &err), CU_EIO);
    PGconn *t = raw_connect();
    assert_int_equal(raw_int(t, "SELECT count(*) FROM meta"), 0);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM controllers"), 1);
    PQfinish(t);
    must(B->begin(conn, NULL, &err), &err, "begin after a failed commit");
    /* A foreign key to nothing. */
    err = (cu_err){0};
    static const unsigned char digest[32] = {0};
    assert_int_equal(B->run(conn, ST_SUBJ_INSERT,
                            (const cu_val[]){cu_vt(SUBJ), cu_vt("no-such-controller"),
                                             cu_vt("patient"), cu_vi(1), cu_vi(1), cu_vi(1),
                                             cu_vi(0), cu_vt(""), cu_vi(0), cu_vi(0), cu_vi(0),
                                             cu_vb(digest, 32), cu_vb(NULL, 0), cu_vi(0)},
                            14, NULL, NULL, NULL, &err),
                     CU_ECONFLICT);
    assert_non_null(strstr(err.msg, "23503"));
    assert_null(strstr(err.msg, "no-such-controller"));
    /* A call whose arguments do not match the shape binds nothing. */
    err = (cu_err){0};
    assert_int_equal(B->run(conn, ST_CTL_INSERT, (const cu_val[]){cu_vt(CTL)}, 1, NULL, NULL,
                            NULL, &err),
                     CU_EINTERNAL);
    B->close(conn);
}

typedef struct locker {
    void *conn;
    atomic_int got;
    int rc;
    int64_t changes;
} locker;

static void *begin_thread(void *arg)
{
    locker *l = arg;
    cu_err err = {0};
    l->rc = B->begin(l->conn, &l->changes, &err);
    atomic_store(&l->got, 1);
    return NULL;
}

/* Waits (at most about 20 s) until n sessions wait for an advisory lock. */
static void wait_for_waiters(PGconn *t, int n)
{
    for (int k = 0; k < 2000; k++) {
        if (raw_int(t, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                       "AND NOT granted") >= n)
            return;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    fail_msg("no session ever waited for the writer lock");
}

static void test_begin_serialises_writers(void **state)
{
    (void)state;
    void *a = open_ok(true);
    locker l = {.conn = open_ok(false)};
    cu_err err = {0};
    must(B->begin(a, NULL, &err), &err, "begin a");
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, begin_thread, &l), 0);
    PGconn *t = raw_connect();
    wait_for_waiters(t, 1);
    /* The second writer is waiting, not in. */
    assert_int_equal(atomic_load(&l.got), 0);
    must(B->commit(a, &err), &err, "commit a");
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&l.got), 1);
    assert_int_equal(l.rc, CU_OK);
    B->rollback(l.conn);
    /* The waiter's counter is read after the lock is granted: it sees the
     * write committed while it waited. */
    int64_t before;
    must(B->begin(l.conn, &before, &err), &err, "begin b");
    B->rollback(l.conn);
    must(B->begin(a, NULL, &err), &err, "begin a");
    assert_int_equal(RUN(a, ST_META_PUT, NULL, NULL, NULL, cu_vt("k"), cu_vb0("v", 1)), CU_OK);
    atomic_store(&l.got, 0);
    assert_int_equal(pthread_create(&th, NULL, begin_thread, &l), 0);
    wait_for_waiters(t, 1);
    must(B->commit(a, &err), &err, "commit a");
    pthread_join(th, NULL);
    assert_int_equal(l.rc, CU_OK);
    assert_int_not_equal(l.changes, before);
    B->rollback(l.conn);
    /* A reader takes no writer lock: it runs while a writer is open. */
    must(B->begin(a, NULL, &err), &err, "begin a");
    must(B->begin_read(l.conn, &err), &err, "begin_read");
    assert_int_equal(RUN(l.conn, ST_CKPT_LAST, NULL, NULL, NULL, ), CU_OK);
    B->rollback(l.conn);
    B->rollback(a);
    PQfinish(t);
    B->close(a);
    B->close(l.conn);
}

static void test_change_counter(void **state)
{
    (void)state;
    void *a = open_ok(true);
    void *b = open_ok(false);
    cu_err err = {0};
    int64_t a0, a1, a2, b0, b1;
    must(B->begin(a, &a0, &err), &err, "begin");
    must(B->commit(a, &err), &err, "commit");
    must(B->begin(b, &b0, &err), &err, "begin");
    assert_int_equal(RUN(b, ST_META_PUT, NULL, NULL, NULL, cu_vt("k"), cu_vb0("", 0)), CU_OK);
    must(B->commit(b, &err), &err, "commit");
    /* Another connection wrote: a sees a new number. */
    must(B->begin(a, &a1, &err), &err, "begin");
    assert_int_not_equal(a1, a0);
    assert_int_equal(RUN(a, ST_META_PUT, NULL, NULL, NULL, cu_vt("k"), cu_vb0("x", 1)), CU_OK);
    must(B->commit(a, &err), &err, "commit");
    /* Its own write does not count as another's. */
    must(B->begin(a, &a2, &err), &err, "begin");
    assert_int_equal(a2, a1);
    must(B->commit(a, &err), &err, "commit");
    /* b sees a's write. */
    must(B->begin(b, &b1, &err), &err, "begin");
    assert_int_not_equal(b1, b0);
    B->rollback(b);
    /* A transaction that only read moves nothing; one rolled back neither. */
    must(B->begin(b, NULL, &err), &err, "begin");
    assert_int_equal(RUN(b, ST_META_PUT, NULL, NULL, NULL, cu_vt("k"), cu_vb0("y", 1)), CU_OK);
    B->rollback(b);
    int64_t a3;
    must(B->begin(a, &a3, &err), &err, "begin");
    assert_int_equal(a3, a2);
    B->rollback(a);
    /* A write outside any transaction is counted too. */
    assert_int_equal(RUN(b, ST_META_PUT, NULL, NULL, NULL, cu_vt("k"), cu_vb0("z", 1)), CU_OK);
    int64_t a4;
    must(B->begin(a, &a4, &err), &err, "begin");
    assert_int_not_equal(a4, a3);
    int64_t t4 = B->trail(a);
    B->rollback(a);
    /* A transaction whose only writes extend the audit trail moves the
     * trail counter alone: another connection reloads its head, not its
     * caches. */
    unsigned char h[32] = {1};
    must(B->begin(b, NULL, &err), &err, "begin");
    assert_int_equal(RUN(b, ST_AUDIT_INSERT, NULL, NULL, NULL, cu_vi(1), cu_vi(500), cu_vt("b"),
                         cu_vt(NULL), cu_vb0("{}", 2), cu_vb(h, sizeof h)),
                     CU_OK);
    must(B->commit(b, &err), &err, "commit");
    int64_t a5;
    must(B->begin(a, &a5, &err), &err, "begin");
    assert_int_equal(a5, a4);
    int64_t t5 = B->trail(a);
    assert_int_not_equal(t5, t4);
    /* Its own trail-only commit counts as neither. */
    h[0] = 2;
    assert_int_equal(RUN(a, ST_AUDIT_INSERT, NULL, NULL, NULL, cu_vi(2), cu_vi(600), cu_vt("a"),
                         cu_vt(NULL), cu_vb0("{}", 2), cu_vb(h, sizeof h)),
                     CU_OK);
    must(B->commit(a, &err), &err, "commit");
    int64_t a6;
    must(B->begin(a, &a6, &err), &err, "begin");
    assert_int_equal(a6, a5);
    assert_int_equal(B->trail(a), t5);
    B->rollback(a);
    /* Any other write moves both. */
    must(B->begin(b, NULL, &err), &err, "begin");
    assert_int_equal(RUN(b, ST_META_PUT, NULL, NULL, NULL, cu_vt("k"), cu_vb0("w", 1)), CU_OK);
    must(B->commit(b, &err), &err, "commit");
    int64_t a7;
    must(B->begin(a, &a7, &err), &err, "begin");
    assert_int_not_equal(a7, a6);
    assert_int_not_equal(B->trail(a), t5);
    B->rollback(a);
    B->close(a);
    B->close(b);
}

static int collect_blob(void *ctx, const cu_val *cols)
{
    cu_val *out = ctx;
    *out = cols[0];
    return 0;
}

static void test_serialisation_failure_is_retry(void **state)
{
    (void)state;
    void *a = open_ok(true);
    cu_err err = {0};
    assert_int_equal(RUN(a, ST_META_PUT, NULL, NULL, NULL, cu_vt("k"), cu_vb0("v1", 2)), CU_OK);
    must(cu_pg_exec(a, "BEGIN ISOLATION LEVEL REPEATABLE READ", "test", &err), &err, "begin");
    cu_val got = {0};
    assert_int_equal(RUN(a, ST_META_GET, collect_blob, &got, NULL, cu_vt("k")), CU_OK);
    /* Another session changes the row after a's snapshot. */
    PGconn *t = raw_connect();
    raw_exec(t, "UPDATE meta SET value = '\\x7632'::bytea WHERE key = 'k'");
    err = (cu_err){0};
    assert_int_equal(B->run(a, ST_META_PUT, (const cu_val[]){cu_vt("k"), cu_vb0("v3", 2)}, 2,
                            NULL, NULL, NULL, &err),
                     CU_ERETRY);
    assert_non_null(strstr(err.msg, "40001"));
    must(cu_pg_exec(a, "ROLLBACK", "test", &err), &err, "rollback");
    PQfinish(t);
    B->close(a);
}

typedef struct deadlock_run {
    void *conn;
    int rc;
    cu_err err;
} deadlock_run;

static void *run_put_k2(void *arg)
{
    deadlock_run *d = arg;
    d->rc = B->run(d->conn, ST_META_PUT, (const cu_val[]){cu_vt("k2"), cu_vb0("a2", 2)}, 2,
                   NULL, NULL, NULL, &d->err);
    return NULL;
}

/* Two connections each hold a row the other then wants: PostgreSQL aborts
 * the one that waited first (it runs the deadlock check first) with 40P01,
 * which the backend maps to CU_ERETRY, like a serialisation failure. */
static void test_deadlock_is_retry(void **state)
{
    (void)state;
    void *a = open_ok(true);
    cu_err err = {0};
    assert_int_equal(RUN(a, ST_META_PUT, NULL, NULL, NULL, cu_vt("k1"), cu_vb0("v1", 2)), CU_OK);
    assert_int_equal(RUN(a, ST_META_PUT, NULL, NULL, NULL, cu_vt("k2"), cu_vb0("v2", 2)), CU_OK);
    must(cu_pg_exec(a, "BEGIN", "test", &err), &err, "begin");
    assert_int_equal(RUN(a, ST_META_PUT, NULL, NULL, NULL, cu_vt("k1"), cu_vb0("a1", 2)), CU_OK);
    PGconn *t = raw_connect(), *watch = raw_connect();
    raw_exec(t, "BEGIN");
    raw_exec(t, "UPDATE meta SET value = '\\x7432'::bytea WHERE key = 'k2'");
    long long t_pid = raw_int(t, "SELECT pg_backend_pid()");
    /* a waits for k2 first ... */
    deadlock_run d = {.conn = a};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_put_k2, &d), 0);
    char q[256];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
             "AND pid <> %lld AND datname = current_database()", t_pid);
    for (int i = 0; i < 500 && raw_int(watch, q) < 1; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(raw_int(watch, q), 1);
    /* ... then t waits for k1: a deadlock, found by a's check. */
    assert_int_equal(PQsendQuery(t, "UPDATE meta SET value = '\\x7431'::bytea WHERE key = 'k1'"),
                     1);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(d.rc, CU_ERETRY);
    assert_non_null(strstr(d.err.msg, "40P01"));
    must(cu_pg_exec(a, "ROLLBACK", "test", &err), &err, "rollback");
    /* t, no longer blocked, has its update */
    PGresult *r;
    bool t_ok = false;
    while ((r = PQgetResult(t))) {
        t_ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
    }
    assert_true(t_ok);
    raw_exec(t, "ROLLBACK");
    PQfinish(t);
    PQfinish(watch);
    B->close(a);
}

/* PostgreSQL caches 64 subtransactions per session; a batch takes one
 * savepoint per operation, so its limit stays below that, and the server
 * takes no more requests into one batch (cu_server_batch_cap is tested
 * against it in test_http). */
static void test_batch_limit_below_subtransaction_cache(void **state)
{
    (void)state;
    assert_true(B->batch_limit > 0);
    assert_true(B->batch_limit < 64);
    assert_true(B->batch_limit <= 48);
    assert_int_equal(cu_backend_sqlite.batch_limit, 256);
}

static void test_unreachable_is_unavailable(void **state)
{
    (void)state;
    /* Nothing listens on port 1: a stopped server. */
    static const char *const urls[] = {
        "postgresql://custos:s3cr3t-pw-Zq@127.0.0.1:1/custos?connect_timeout=5",
        "host=127.0.0.1 port=1 user=custos password=s3cr3t-pw-Zq dbname=custos",
    };
    for (size_t k = 0; k < 2; k++) {
        void *conn = NULL;
        cu_err err = {0};
        assert_int_equal(B->open(urls[k], false, &conn, &err), CU_EUNAVAILABLE);
        assert_null(conn);
        assert_null(strstr(err.msg, "s3cr3t"));
        assert_non_null(strstr(err.msg, "cannot connect"));
    }
    void *conn = NULL;
    cu_err err = {0};
    assert_int_equal(B->open("postgresql://x:s3cr3t@[bad", false, &conn, &err), CU_EINVAL);
    assert_null(strstr(err.msg, "s3cr3t"));
}

/* An audit event row (seq) as the store appends it. */
static int run_audit_insert(void *conn, int64_t seq, cu_err *err)
{
    static const unsigned char body[] = {1, 2, 3}, hash[32] = {9};
    const cu_val a[] = {cu_vi(seq), cu_vi(1), cu_vt("actor"), cu_vt(NULL),
                        cu_vb0(body, sizeof body), cu_vb0(hash, sizeof hash)};
    return B->run(conn, ST_AUDIT_INSERT, a, 6, NULL, NULL, NULL, err);
}

static void kill_victim(void)
{
    PGconn *t = raw_connect();
    raw_int(t, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
               "WHERE application_name = 'custos_victim'");
    PQfinish(t);
}

/* A session killed under the driver: the call fails unavailable, the next
 * one reconnects; inside a transaction nothing runs on until rollback. */
static void test_lost_connection(void **state)
{
    (void)state;
    B->close(open_ok(true));
    char victim[2048];
    with_options(victim, sizeof victim, base_url, "application_name=custos_victim");
    void *a = NULL;
    cu_err err = {0};
    must(B->open(victim, false, &a, &err), &err, "open");
    assert_int_equal(RUN(a, ST_META_PUT, NULL, NULL, NULL, cu_vt("k"), cu_vb0("v", 1)), CU_OK);
    kill_victim();
    err = (cu_err){0};
    assert_int_equal(B->run(a, ST_META_GET, (const cu_val[]){cu_vt("k")}, 1, NULL, NULL, NULL,
                            &err),
                     CU_EUNAVAILABLE);
    /* The next call resets the connection and works. */
    cu_val got = {0};
    assert_int_equal(RUN(a, ST_META_GET, collect_blob, &got, NULL, cu_vt("k")), CU_OK);
    /* Lost inside a transaction. */
    must(B->begin(a, NULL, &err), &err, "begin");
    kill_victim();
    err = (cu_err){0};
    assert_int_equal(B->run(a, ST_META_PUT, (const cu_val[]){cu_vt("k"), cu_vb0("w", 1)}, 2,
                            NULL, NULL, NULL, &err),
                     CU_EUNAVAILABLE);
    err = (cu_err){0};
    assert_int_equal(B->run(a, ST_META_PUT, (const cu_val[]){cu_vt("k"), cu_vb0("w", 1)}, 2,
                            NULL, NULL, NULL, &err),
                     CU_EUNAVAILABLE);
    err = (cu_err){0};
    assert_int_equal(B->commit(a, &err), CU_EUNAVAILABLE);
    B->rollback(a);
    must(B->begin(a, NULL, &err), &err, "begin after loss");
    assert_int_equal(RUN(a, ST_META_GET, collect_blob, &got, NULL, cu_vt("k")), CU_OK);
    assert_int_equal(got.n, 1); /* the value before the lost transaction */
    B->rollback(a);
    /* Lost with commands queued: the next statement and the commit fail
     * unavailable, and nothing of the transaction is written. */
    must(B->begin(a, NULL, &err), &err, "begin");
    must(B->savepoint(a, &err), &err, "savepoint");
    assert_int_equal(RUN(a, ST_META_PUT, NULL, NULL, NULL, cu_vt("q"), cu_vb0("1", 1)), CU_OK);
    must(B->release(a, &err), &err, "release");
    must(run_audit_insert(a, 1, &err), &err, "queued append");
    kill_victim();
    err = (cu_err){0};
    assert_int_equal(B->run(a, ST_META_GET, (const cu_val[]){cu_vt("k")}, 1, NULL, NULL, NULL,
                            &err),
                     CU_EUNAVAILABLE);
    err = (cu_err){0};
    assert_int_equal(B->commit(a, &err), CU_EUNAVAILABLE);
    B->rollback(a);
    PGconn *t = raw_connect();
    assert_int_equal(raw_int(t, "SELECT count(*) FROM meta WHERE key = 'q'"), 0);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM audit_events"), 0);
    PQfinish(t);
    must(B->begin(a, NULL, &err), &err, "begin after loss");
    must(run_audit_insert(a, 1, &err), &err, "queued append");
    must(B->commit(a, &err), &err, "commit after loss");
    B->close(a);
}

/* A column whose type is not the declared one is refused, naming the
 * statement. */
static void test_column_type_checked(void **state)
{
    (void)state;
    B->close(open_ok(true));
    PGconn *t = raw_connect();
    raw_exec(t, "ALTER TABLE keyring ALTER COLUMN wrapped TYPE text USING encode(wrapped, 'hex')");
    raw_exec(t, "INSERT INTO keyring VALUES ('k', 'ab')");
    PQfinish(t);
    void *a = open_ok(false);
    cu_err err = {0};
    assert_int_equal(B->run(a, ST_KEYRING_GET, (const cu_val[]){cu_vt("k")}, 1, NULL, NULL,
                            NULL, &err),
                     CU_EINTERNAL);
    char want[32];
    snprintf(want, sizeof want, "statement %d", (int)ST_KEYRING_GET);
    assert_non_null(strstr(err.msg, want));
    B->close(a);
}

/* ---- each family: write with arguments, read the columns back ---- */

/* The first row of a result, copied out of the callback: integers, NULLs,
 * lengths, and the text and bytes of the first 12 columns. */
typedef struct rows {
    int n;
    int64_t i[32];
    bool null[32];
    size_t len[32];
    unsigned char bytes[12][64];
    char text[12][64];
} rows;

static int keep_first_shape(void *ctx, const cu_val *cols, const char *shape)
{
    rows *r = ctx;
    if (r->n++ == 0) {
        for (int k = 0; shape[k]; k++) {
            r->i[k] = cols[k].i;
            r->null[k] = !cols[k].p;
            r->len[k] = cols[k].n;
            if (k < 12 && shape[k] == 'b' && cols[k].p && cols[k].n <= 64)
                memcpy(r->bytes[k], cols[k].p, cols[k].n);
            if (k < 12 && shape[k] == 't' && cols[k].p)
                snprintf(r->text[k], sizeof r->text[k], "%s", cu_ct(&cols[k]));
        }
    }
    return 0;
}

static const char *cur_shape;
static int keep_shaped(void *ctx, const cu_val *cols)
{
    return keep_first_shape(ctx, cols, cur_shape);
}

static int read_one(void *conn, enum cu_stmt_id id, rows *r, const cu_val *a, size_t n)
{
    memset(r, 0, sizeof *r);
    cur_shape = B->stmts()[id].cols;
    return run_args(conn, id, a, n, keep_shaped, r, NULL);
}

static void test_families_round_trip(void **state)
{
    (void)state;
    void *c = open_ok(true);
    cu_err err = {0};
    rows r;
    int64_t changed = -1;
    must(B->begin(c, NULL, &err), &err, "begin");
    put_controller(c);
    /* A controller's name reads back as text. */
    assert_int_equal(read_one(c, ST_CTL_GET, &r, (const cu_val[]){cu_vt(CTL)}, 1), CU_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], "Clinic");

    /* subjects: NULLs through nullif, a digest, no code */
    unsigned char digest[32];
    for (int k = 0; k < 32; k++)
        digest[k] = (unsigned char)(k * 37);
    assert_int_equal(RUN(c, ST_SUBJ_INSERT, NULL, NULL, NULL, cu_vt(SUBJ), cu_vt(CTL),
                         cu_vt("patient"), cu_vi(3), cu_vi(100), cu_vi(200), cu_vi(0),
                         cu_vt(""), cu_vi(0), cu_vi(0), cu_vi(1), cu_vb(digest, 32),
                         cu_vb(NULL, 0), cu_vi(0)),
                     CU_OK);
    assert_int_equal(read_one(c, ST_SUBJ_GET, &r, (const cu_val[]){cu_vt(SUBJ)}, 1), CU_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], SUBJ);
    assert_string_equal(r.text[2], "patient");
    assert_int_equal(r.i[3], 3);
    assert_int_equal(r.i[5], 200);
    assert_int_equal(r.i[6], 0);  /* erased_at NULL reads 0 */
    assert_true(r.null[7]);          /* no pseudonym */
    assert_int_equal(r.i[10], 1); /* item_count */
    assert_int_equal(r.len[11], 32);
    assert_true(r.null[12]); /* no code yet */
    assert_int_equal(RUN(c, ST_SUBJ_TOUCH, NULL, NULL, &changed, cu_vt(SUBJ), cu_vi(300)), CU_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(RUN(c, ST_SUBJ_TOUCH, NULL, NULL, &changed, cu_vt("nobody"), cu_vi(300)),
                     CU_OK);
    assert_int_equal(changed, 0);

    /* items: a value with NUL and high bytes */
    static const unsigned char value[] = {0x00, 0xff, 0x10, 0x00, 0x80, 0x7f};
    assert_int_equal(RUN(c, ST_ITEM_INSERT, NULL, NULL, NULL, cu_vt(SUBJ), cu_vt(ITEM),
                         cu_vt("contact"), cu_vt("email"), cu_vt("self"), cu_vi(10),
                         cu_vt("clerk"), cu_vi(11), cu_vi(12), cu_vb(value, sizeof value),
                         cu_vi(1)),
                     CU_OK);
    assert_int_equal(read_one(c, ST_ITEM_GET, &r, (const cu_val[]){cu_vt(SUBJ), cu_vt(ITEM)}, 2),
                     CU_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[3], "email");
    assert_int_equal(r.i[6], 10);
    assert_int_equal(r.i[10], 1);
    assert_int_equal(r.len[9], sizeof value);
    assert_memory_equal(r.bytes[9], value, sizeof value);
    assert_int_equal(read_one(c, ST_ITEM_PAGE, &r,
                              (const cu_val[]){cu_vt(SUBJ), cu_vt(""), cu_vi(10)}, 3),
                     CU_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(read_one(c, ST_ITEM_NAMED, &r,
                              (const cu_val[]){cu_vt(SUBJ), cu_vt("email"), cu_vt(NULL),
                                               cu_vt(NULL), cu_vt(NULL), cu_vt(NULL),
                                               cu_vt(NULL), cu_vt(NULL), cu_vt(NULL)},
                              9),
                     CU_OK);
    assert_int_equal(r.n, 1);

    /* audit: an event without a subject; "no limit" is a negative limit */
    unsigned char hash[32];
    memset(hash, 0xab, sizeof hash);
    assert_int_equal(RUN(c, ST_AUDIT_INSERT, NULL, NULL, NULL, cu_vi(1), cu_vi(500),
                         cu_vt("system"), cu_vt(NULL), cu_vb0("{}", 2), cu_vb(hash, 32)),
                     CU_OK);
    assert_int_equal(RUN(c, ST_AUDIT_INSERT, NULL, NULL, NULL, cu_vi(2), cu_vi(600),
                         cu_vt("clerk"), cu_vt(SUBJ), cu_vb0("{}", 2), cu_vb(hash, 32)),
                     CU_OK);
    assert_int_equal(read_one(c, ST_AUDIT_EACH, &r,
                              (const cu_val[]){cu_vt(NULL), cu_vt(NULL), cu_vi(0), cu_vi(0),
                                               cu_vi(0), cu_vi(-1)},
                              6),
                     CU_OK);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.i[0], 1);
    assert_true(r.null[3]);
    assert_int_equal(read_one(c, ST_AUDIT_EACH, &r,
                              (const cu_val[]){cu_vt(NULL), cu_vt("clerk"), cu_vi(550),
                                               cu_vi(0), cu_vi(0), cu_vi(1)},
                              6),
                     CU_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.i[0], 2);
    assert_int_equal(read_one(c, ST_AUDIT_SUBJECT, &r,
                              (const cu_val[]){cu_vt(SUBJ), cu_vi(0), cu_vi(-1)}, 3),
                     CU_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(read_one(c, ST_AUDIT_LAST, &r, NULL, 0), CU_OK);
    assert_int_equal(r.i[0], 2);
    assert_int_equal(r.len[1], 32);
    assert_int_equal(read_one(c, ST_CKPT_LAST, &r, NULL, 0), CU_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.i[0], 0);

    /* staff: a user without TOTP */
    static const unsigned char mac[32] = {1, 2, 3};
    assert_int_equal(RUN(c, ST_USER_INSERT, NULL, NULL, NULL, cu_vt("u1"), cu_vt(CTL),
                         cu_vt("alice"), cu_vt("clinician"), cu_vt("$argon2id$x"),
                         cu_vb(NULL, 0), cu_vi(700), cu_vb(mac, 32)),
                     CU_OK);
    assert_int_equal(read_one(c, ST_USER_BY_NAME, &r, (const cu_val[]){cu_vt("alice")}, 1),
                     CU_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], "u1");
    assert_string_equal(r.text[4], "$argon2id$x");
    assert_true(r.null[5]);          /* no TOTP */
    assert_int_equal(r.i[9], 700);
    assert_int_equal(r.i[10], 0); /* not disabled */
    assert_int_equal(r.len[11], 32);

    /* policy: the current one, and a list without documents */
    assert_int_equal(RUN(c, ST_POL_INSERT, NULL, NULL, NULL, cu_vt(CTL), cu_vi(1), cu_vi(800),
                         cu_vt("dpo"), cu_vb(hash, 32), cu_vb0("{\"v\":1}", 7),
                         cu_vb(mac, 32)),
                     CU_OK);
    assert_int_equal(read_one(c, ST_POL_CURRENT, &r, (const cu_val[]){cu_vt(CTL)}, 1), CU_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.i[1], 1);
    assert_int_equal(r.len[5], 7);
    assert_memory_equal(r.bytes[5], "{\"v\":1}", 7);
    assert_int_equal(read_one(c, ST_POL_EACH, &r, (const cu_val[]){cu_vt(CTL)}, 1), CU_OK);
    assert_int_equal(r.n, 1);
    assert_true(r.null[5]);

    /* consent family: an objection's number comes back */
    assert_int_equal(read_one(c, ST_OBJ_ADD, &r,
                              (const cu_val[]){cu_vt(SUBJ), cu_vt("marketing"), cu_vi(900),
                                               cu_vt("clerk")},
                              4),
                     CU_OK);
    assert_int_equal(r.n, 1);
    assert_true(r.i[0] >= 1);
    assert_int_equal(RUN(c, ST_OBJ_COUNT, NULL, NULL, &changed, cu_vt(SUBJ)), CU_OK);
    assert_int_equal(read_one(c, ST_CONSENT_COUNT, &r, (const cu_val[]){cu_vt(SUBJ)}, 1), CU_OK);
    assert_int_equal(r.i[0], 0);
    must(B->commit(c, &err), &err, "commit");

    /* The item's bytes, read outside the writer's transaction. */
    must(B->begin_read(c, &err), &err, "begin_read");
    rows big;
    memset(&big, 0, sizeof big);
    cur_shape = B->stmts()[ST_ITEM_EACH].cols;
    assert_int_equal(RUN(c, ST_ITEM_EACH, keep_shaped, &big, NULL, cu_vt(SUBJ)), CU_OK);
    assert_int_equal(big.n, 1);
    B->rollback(c);
    B->close(c);
}

static int check_value(void *ctx, const cu_val *cols)
{
    const unsigned char *want = ctx;
    assert_int_equal(cols[9].n, 6);
    assert_memory_equal(cols[9].p, want, 6);
    return 0;
}

static int stop_at_first(void *ctx, const cu_val *cols)
{
    (void)cols;
    ++*(int *)ctx;
    return 42;
}

/* Blob bytes exactly, a stop from the callback, savepoints after an error. */
static void test_bytes_stop_and_savepoint(void **state)
{
    (void)state;
    void *c = open_ok(true);
    cu_err err = {0};
    static const unsigned char value[] = {0x00, 0xff, 0x10, 0x00, 0x80, 0x7f};
    must(B->begin(c, NULL, &err), &err, "begin");
    put_controller(c);
    assert_int_equal(RUN(c, ST_SUBJ_INSERT, NULL, NULL, NULL, cu_vt(SUBJ), cu_vt(CTL),
                         cu_vt("patient"), cu_vi(1), cu_vi(1), cu_vi(1), cu_vi(0), cu_vt(""),
                         cu_vi(0), cu_vi(0), cu_vi(0), cu_vb(NULL, 0), cu_vb(NULL, 0), cu_vi(0)),
                     CU_OK);
    for (int k = 0; k < 3; k++) {
        char id[8];
        snprintf(id, sizeof id, "i%d", k);
        assert_int_equal(RUN(c, ST_ITEM_INSERT, NULL, NULL, NULL, cu_vt(SUBJ), cu_vt(id),
                             cu_vt("contact"), cu_vt("email"), cu_vt("self"), cu_vi(1),
                             cu_vt("clerk"), cu_vi(1), cu_vi(1), cu_vb(value, sizeof value),
                             cu_vi(1)),
                         CU_OK);
    }
    assert_int_equal(RUN(c, ST_ITEM_EACH, check_value, (void *)value, NULL, cu_vt(SUBJ)), CU_OK);
    /* The callback's non-zero answer stops the walk and is returned; the
     * connection goes on. */
    int calls = 0;
    assert_int_equal(RUN(c, ST_ITEM_EACH, stop_at_first, &calls, NULL, cu_vt(SUBJ)), 42);
    assert_int_equal(calls, 1);
    /* An operation that fails inside a batch is undone alone. */
    must(B->savepoint(c, &err), &err, "savepoint");
    assert_int_equal(RUN(c, ST_CTL_INSERT, NULL, NULL, NULL, cu_vt(CTL), cu_vt("Again"),
                         cu_vi(1)),
                     CU_ECONFLICT);
    B->rollback_to(c);
    must(B->savepoint(c, &err), &err, "savepoint");
    assert_int_equal(RUN(c, ST_META_PUT, NULL, NULL, NULL, cu_vt("after"), cu_vb0("1", 1)),
                     CU_OK);
    must(B->release(c, &err), &err, "release");
    must(B->commit(c, &err), &err, "commit");
    PGconn *t = raw_connect();
    assert_int_equal(raw_int(t, "SELECT count(*) FROM meta WHERE key = 'after'"), 1);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM items"), 3);
    PQfinish(t);
    /* No file copy on PostgreSQL; nothing to compact. */
    err = (cu_err){0};
    assert_int_equal(B->backup(c, "/tmp/never", &err), CU_EINVAL);
    assert_non_null(strstr(err.msg, "pg_dump"));
    assert_int_equal(B->compact_log(c, &err), CU_OK);
    B->close(c);
}

/* Inside a transaction, savepoints, releases and the audit append are
 * queued and sent with the next statement. A queued write that fails is
 * reported by that next statement (with the failed statement's id and
 * SQLSTATE), then by every call until the rollback, and its transaction
 * commits nothing, however the caller goes on. */
static void test_deferred_failure_breaks_transaction(void **state)
{
    (void)state;
    void *c = open_ok(true);
    cu_err err = {0};
    must(B->begin(c, NULL, &err), &err, "begin");
    must(B->savepoint(c, &err), &err, "savepoint");
    assert_int_equal(RUN(c, ST_META_PUT, NULL, NULL, NULL, cu_vt("before"), cu_vb0("1", 1)),
                     CU_OK);
    must(B->release(c, &err), &err, "release");
    must(run_audit_insert(c, 1, &err), &err, "queued append");
    /* the same seq again: a unique violation, not seen yet */
    must(run_audit_insert(c, 1, &err), &err, "queued duplicate append");
    char want[32];
    snprintf(want, sizeof want, "(statement %d)", (int)ST_AUDIT_INSERT);
    err = (cu_err){0};
    assert_int_equal(B->run(c, ST_META_GET, (const cu_val[]){cu_vt("before")}, 1, NULL, NULL,
                            NULL, &err),
                     CU_ECONFLICT);
    assert_non_null(strstr(err.msg, want));
    assert_non_null(strstr(err.msg, "23505"));
    /* An operation's undo does not mend it; every later call reports it. */
    B->rollback_to(c);
    err = (cu_err){0};
    assert_int_equal(B->savepoint(c, &err), CU_ECONFLICT);
    assert_non_null(strstr(err.msg, want));
    err = (cu_err){0};
    assert_int_equal(RUN(c, ST_META_PUT, NULL, NULL, NULL, cu_vt("after"), cu_vb0("1", 1)),
                     CU_ECONFLICT);
    assert_int_equal(B->release(c, &err), CU_ECONFLICT);
    err = (cu_err){0};
    assert_int_equal(B->commit(c, &err), CU_ECONFLICT);
    assert_non_null(strstr(err.msg, want));
    PGconn *t = raw_connect();
    assert_int_equal(raw_int(t, "SELECT count(*) FROM meta WHERE key IN ('before', 'after')"),
                     0);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM audit_events"), 0);

    /* The connection goes on: a queued append fails at the commit, which
     * then writes nothing. */
    must(B->begin(c, NULL, &err), &err, "begin after the failure");
    must(run_audit_insert(c, 1, &err), &err, "append");
    must(B->commit(c, &err), &err, "commit of a queued append");
    assert_int_equal(raw_int(t, "SELECT count(*) FROM audit_events"), 1);
    must(B->begin(c, NULL, &err), &err, "begin");
    assert_int_equal(RUN(c, ST_META_PUT, NULL, NULL, NULL, cu_vt("with"), cu_vb0("1", 1)),
                     CU_OK);
    must(run_audit_insert(c, 1, &err), &err, "queued duplicate append");
    err = (cu_err){0};
    assert_int_equal(B->commit(c, &err), CU_ECONFLICT);
    assert_non_null(strstr(err.msg, want));
    assert_int_equal(raw_int(t, "SELECT count(*) FROM meta WHERE key = 'with'"), 0);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM audit_events"), 1);

    /* A failed statement of an operation is that operation's alone: undone,
     * the queued work before it and the operations after it are kept. */
    must(B->begin(c, NULL, &err), &err, "begin");
    must(run_audit_insert(c, 2, &err), &err, "append");
    must(B->savepoint(c, &err), &err, "savepoint");
    must(run_audit_insert(c, 3, &err), &err, "append in the operation");
    assert_int_equal(RUN(c, ST_CTL_INSERT, NULL, NULL, NULL, cu_vt(CTL), cu_vt("Trust"),
                         cu_vi(1)),
                     CU_OK);
    assert_int_equal(RUN(c, ST_CTL_INSERT, NULL, NULL, NULL, cu_vt(CTL), cu_vt("Again"),
                         cu_vi(1)),
                     CU_ECONFLICT);
    B->rollback_to(c);
    /* an operation that ran nothing, and one that did */
    must(B->savepoint(c, &err), &err, "savepoint");
    must(B->release(c, &err), &err, "release");
    must(B->savepoint(c, &err), &err, "savepoint");
    assert_int_equal(RUN(c, ST_META_PUT, NULL, NULL, NULL, cu_vt("kept"), cu_vb0("1", 1)),
                     CU_OK);
    must(B->release(c, &err), &err, "release");
    must(run_audit_insert(c, 4, &err), &err, "append");
    must(B->commit(c, &err), &err, "commit");
    assert_int_equal(raw_int(t, "SELECT count(*) FROM meta WHERE key = 'kept'"), 1);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM controllers"), 0);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM audit_events WHERE seq IN (2, 4)"), 2);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM audit_events WHERE seq = 3"), 0);

    /* More queued commands than the queue holds: sent in turn, all kept. */
    must(B->begin(c, NULL, &err), &err, "begin");
    for (int64_t seq = 5; seq < 5 + 3 * MAX_QUEUE_TEST; seq++)
        must(run_audit_insert(c, seq, &err), &err, "append");
    must(B->commit(c, &err), &err, "commit");
    assert_int_equal(raw_int(t, "SELECT count(*) FROM audit_events"), 3 + 3 * MAX_QUEUE_TEST);
    PQfinish(t);
    B->close(c);
}

/* meta's value of key k as one character ('-' when absent). */
static int meta_char(void *ctx, const cu_val *cols)
{
    *(char *)ctx = cols[0].n == 1 ? *(const char *)cols[0].p : '?';
    return 0;
}

static char meta_read(void *c, const char *k)
{
    char v = '-';
    assert_int_equal(RUN(c, ST_META_GET, meta_char, &v, NULL, cu_vt(k)), CU_OK);
    return v;
}

static void read_ahead_k(void *c, const char *k, const char *other)
{
    cu_err err = {0};
    const cu_val a[] = {cu_vt(k)}, b[] = {cu_vt(other)};
    const cu_stmt_call calls[] = {{ST_META_GET, a, 1}, {ST_META_GET, b, 1}};
    must(B->read_ahead(c, calls, 2, &err), &err, "read ahead");
}

/* Rows read ahead answer the next run of the same statement with the same
 * arguments, once; a write, a savepoint, a release, an undo or the end of
 * the transaction drops them; outside a transaction nothing is read. The
 * second connection changes the row behind the driver's back (without the
 * writer lock), which shows where each answer came from. */
static void test_read_ahead(void **state)
{
    (void)state;
    void *c = open_ok(true);
    cu_err err = {0};
    PGconn *t = raw_connect();
    raw_exec(t, "INSERT INTO meta(key, value) VALUES ('k', '\\x31')");
    must(B->begin(c, NULL, &err), &err, "begin");
    read_ahead_k(c, "k", "other");
    raw_exec(t, "UPDATE meta SET value = '\\x32' WHERE key = 'k'");
    assert_int_equal(meta_read(c, "k"), '1'); /* kept */
    assert_int_equal(meta_read(c, "k"), '2'); /* once */
    assert_int_equal(meta_read(c, "other"), '-');
    /* other arguments are not the rows kept */
    read_ahead_k(c, "k", "other");
    raw_exec(t, "UPDATE meta SET value = '\\x33' WHERE key = 'k'");
    assert_int_equal(meta_read(c, "kk"), '-');
    assert_int_equal(meta_read(c, "k"), '2');
    /* a write drops them */
    read_ahead_k(c, "k", "other");
    raw_exec(t, "UPDATE meta SET value = '\\x34' WHERE key = 'k'");
    assert_int_equal(RUN(c, ST_META_PUT, NULL, NULL, NULL, cu_vt("w"), cu_vb0("1", 1)), CU_OK);
    assert_int_equal(meta_read(c, "k"), '4');
    /* so do a savepoint, a release and an undo */
    read_ahead_k(c, "k", "other");
    raw_exec(t, "UPDATE meta SET value = '\\x35' WHERE key = 'k'");
    must(B->savepoint(c, &err), &err, "savepoint");
    assert_int_equal(meta_read(c, "k"), '5');
    read_ahead_k(c, "k", "other");
    raw_exec(t, "UPDATE meta SET value = '\\x36' WHERE key = 'k'");
    must(B->release(c, &err), &err, "release");
    assert_int_equal(meta_read(c, "k"), '6');
    must(B->savepoint(c, &err), &err, "savepoint");
    read_ahead_k(c, "k", "other");
    raw_exec(t, "UPDATE meta SET value = '\\x37' WHERE key = 'k'");
    B->rollback_to(c);
    assert_int_equal(meta_read(c, "k"), '7');
    /* and the commit */
    read_ahead_k(c, "k", "other");
    must(B->commit(c, &err), &err, "commit");
    raw_exec(t, "UPDATE meta SET value = '\\x38' WHERE key = 'k'");
    assert_int_equal(meta_read(c, "k"), '8');
    /* outside a transaction: nothing read */
    read_ahead_k(c, "k", "other");
    raw_exec(t, "UPDATE meta SET value = '\\x39' WHERE key = 'k'");
    assert_int_equal(meta_read(c, "k"), '9');
    /* a write is never read ahead */
    must(B->begin(c, NULL, &err), &err, "begin");
    const cu_val w[] = {cu_vt("w"), cu_vb0("2", 1)};
    const cu_stmt_call bad[] = {{ST_META_PUT, w, 2}};
    err = (cu_err){0};
    assert_int_equal(B->read_ahead(c, bad, 1, &err), CU_EINTERNAL);
    B->rollback(c);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM meta WHERE key = 'w' AND value = '\\x31'"),
                     1);
    PQfinish(t);
    B->close(c);
}

#define SUBJECT_ROW(id)                                                                     \
    cu_vt(id), cu_vt(CTL), cu_vt("patient"), cu_vi(1), cu_vi(1), cu_vi(1), cu_vi(0), cu_vt(""), \
        cu_vi(0), cu_vi(0), cu_vi(0), cu_vb(NULL, 0), cu_vb(NULL, 0), cu_vi(0)
#define ITEM_ROW(id)                                                                        \
    cu_vt(SUBJ), cu_vt(id), cu_vt("contact"), cu_vt("email"), cu_vt("self"), cu_vi(1),     \
        cu_vt("clerk"), cu_vi(1), cu_vi(1), cu_vb0("v", 1), cu_vi(1)

static int count_rows(void *ctx, const cu_val *cols)
{
    (void)cols;
    ++*(int *)ctx;
    return 0;
}

/* Inside an operation's savepoint an item's insert and its subject's update
 * are held back and sent with the operation's next statement or its
 * release. A failure is that call's and every call's until the operation's
 * undo, which mends the transaction: the operations before and after it
 * are kept. An update that must change one row and changes none breaks the
 * whole transaction. */
static void test_operation_writes_held_back(void **state)
{
    (void)state;
    void *c = open_ok(true);
    cu_err err = {0};
    PGconn *t = raw_connect();
    must(B->begin(c, NULL, &err), &err, "begin");
    put_controller(c);
    assert_int_equal(RUN(c, ST_SUBJ_INSERT, NULL, NULL, NULL, SUBJECT_ROW(SUBJ)), CU_OK);
    /* held back, then seen by the operation's next statement */
    must(B->savepoint(c, &err), &err, "savepoint");
    assert_int_equal(RUN(c, ST_ITEM_INSERT, NULL, NULL, NULL, ITEM_ROW("i1")), CU_OK);
    int64_t changed = 0;
    assert_int_equal(RUN(c, ST_SUBJ_UPDATE, NULL, NULL, &changed, SUBJECT_ROW(SUBJ)), CU_OK);
    assert_int_equal(changed, 1);
    int n = 0;
    assert_int_equal(RUN(c, ST_ITEM_EACH, count_rows, &n, NULL, cu_vt(SUBJ)), CU_OK);
    assert_int_equal(n, 1);
    must(B->release(c, &err), &err, "release");
    /* a failing insert (the same id again) fails at the release */
    must(B->savepoint(c, &err), &err, "savepoint");
    assert_int_equal(RUN(c, ST_ITEM_INSERT, NULL, NULL, NULL, ITEM_ROW("i2")), CU_OK);
    assert_int_equal(RUN(c, ST_ITEM_INSERT, NULL, NULL, NULL, ITEM_ROW("i1")), CU_OK);
    err = (cu_err){0};
    assert_int_equal(B->release(c, &err), CU_ECONFLICT);
    char want[32];
    snprintf(want, sizeof want, "(statement %d)", (int)ST_ITEM_INSERT);
    assert_non_null(strstr(err.msg, want));
    /* every call reports it until the undo */
    assert_int_equal(RUN(c, ST_META_PUT, NULL, NULL, NULL, cu_vt("no"), cu_vb0("1", 1)),
                     CU_ECONFLICT);
    B->rollback_to(c);
    /* an operation undone before its held-back writes were sent: they are
     * never sent (one that would fail cannot make the server skip the undo) */
    must(B->savepoint(c, &err), &err, "savepoint");
    assert_int_equal(RUN(c, ST_ITEM_INSERT, NULL, NULL, NULL, ITEM_ROW("i3")), CU_OK);
    assert_int_equal(RUN(c, ST_ITEM_INSERT, NULL, NULL, NULL, ITEM_ROW("i1")), CU_OK);
    B->rollback_to(c);
    must(B->savepoint(c, &err), &err, "savepoint after the undo");
    assert_int_equal(RUN(c, ST_META_PUT, NULL, NULL, NULL, cu_vt("kept"), cu_vb0("1", 1)), CU_OK);
    must(B->release(c, &err), &err, "release");
    must(B->commit(c, &err), &err, "commit");
    assert_int_equal(raw_int(t, "SELECT count(*) FROM items"), 1);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM items WHERE id IN ('i2', 'i3')"), 0);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM meta WHERE key IN ('kept', 'no')"), 1);

    /* an update of no row: the transaction is broken, nothing of it stays */
    must(B->begin(c, NULL, &err), &err, "begin");
    assert_int_equal(RUN(c, ST_META_PUT, NULL, NULL, NULL, cu_vt("lost"), cu_vb0("1", 1)), CU_OK);
    must(B->savepoint(c, &err), &err, "savepoint");
    changed = 0;
    assert_int_equal(RUN(c, ST_SUBJ_UPDATE, NULL, NULL, &changed,
                         SUBJECT_ROW("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")),
                     CU_OK);
    err = (cu_err){0};
    assert_int_equal(B->release(c, &err), CU_EIO);
    assert_non_null(strstr(err.msg, "not one"));
    B->rollback_to(c);
    err = (cu_err){0};
    assert_int_equal(B->commit(c, &err), CU_EIO);
    assert_int_equal(raw_int(t, "SELECT count(*) FROM meta WHERE key = 'lost'"), 0);

    /* outside a savepoint nothing is held back: a failure is the call's */
    must(B->begin(c, NULL, &err), &err, "begin");
    assert_int_equal(RUN(c, ST_ITEM_INSERT, NULL, NULL, NULL, ITEM_ROW("i1")), CU_ECONFLICT);
    B->rollback(c);
    PQfinish(t);
    B->close(c);
}

int main(void)
{
    base_url = getenv("CUSTOS_TEST_DATABASE");
    if (!base_url || !*base_url) {
        printf("1..1\nnot ok 1 - CUSTOS_TEST_DATABASE is not set: give the URL of an empty "
               "PostgreSQL database (the PostgreSQL part of make test starts one)\n");
        return 1;
    }
    with_options(url, sizeof url, base_url, "");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_index_rejects_duplicates_and_gaps, setup),
        cmocka_unit_test_setup(test_declarations_consistent, setup),
        cmocka_unit_test_setup(test_create_migrates_and_reopens, setup),
        cmocka_unit_test_setup(test_open_empty_is_not_a_store, setup),
        cmocka_unit_test_setup(test_newer_schema_refused, setup),
        cmocka_unit_test_setup(test_every_statement_prepares, setup),
        cmocka_unit_test_setup(test_concurrent_open_migrates_once, setup),
        cmocka_unit_test_setup(test_concurrent_create_one_wins, setup),
        cmocka_unit_test_setup(test_unique_violation_is_conflict, setup),
        cmocka_unit_test_setup(test_begin_serialises_writers, setup),
        cmocka_unit_test_setup(test_change_counter, setup),
        cmocka_unit_test_setup(test_serialisation_failure_is_retry, setup),
        cmocka_unit_test_setup(test_deadlock_is_retry, setup),
        cmocka_unit_test_setup(test_batch_limit_below_subtransaction_cache, setup),
        cmocka_unit_test_setup(test_unreachable_is_unavailable, setup),
        cmocka_unit_test_setup(test_lost_connection, setup),
        cmocka_unit_test_setup(test_column_type_checked, setup),
        cmocka_unit_test_setup(test_families_round_trip, setup),
        cmocka_unit_test_setup(test_bytes_stop_and_savepoint, setup),
        cmocka_unit_test_setup(test_deferred_failure_breaks_transaction, setup),
        cmocka_unit_test_setup(test_read_ahead, setup),
        cmocka_unit_test_setup(test_operation_writes_held_back, setup),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* Leave the database as it was given: empty. */
    PGconn *c = PQconnectdb(base_url);
    if (PQstatus(c) == CONNECTION_OK)
        PQclear(PQexec(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " SCHEMA
                          " CASCADE"));
    PQfinish(c);
    return failed;
}
