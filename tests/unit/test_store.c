/*
 * test_store.c — the store's contract: open/create, transactions and
 * savepoints, and every table's accessors, on the backend named by
 * CUSTOS_TEST_DATABASE (a postgresql:// URL of an empty database) or, unset,
 * on a SQLite file; the SQLite backend's own behaviour (schema version,
 * damaged and foreign files, WAL) on SQLite only; and the two backends'
 * statement declarations against each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdir.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite/sqlite_impl.h"
#include "store/store_impl.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

#define CTL_A "11111111-1111-4111-8111-111111111111"
#define CTL_B "22222222-2222-4222-8222-222222222222"
#define SUBJ_1 "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define SUBJ_2 "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define ITEM_1 "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
#define ITEM_2 "dddddddd-dddd-4ddd-8ddd-dddddddddddd"
#define ITEM_3 "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"

typedef struct fx {
    char dir[64];
    char db[PATH_MAX];
    cu_store *s;
    cu_err err;
} fx;

/* The database the table tests run on: a postgresql:// URL, or NULL for a
 * SQLite file in the test's directory. */
static const char *test_database(void)
{
    const char *u = getenv("CUSTOS_TEST_DATABASE");
    return u && *u ? u : NULL;
}

static int64_t count_controllers(fx *f);

/* A fresh directory; the store itself is created by the tests that need it. */
static int setup_dir(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/custos-test-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof f->db, "%s/custos.db", f->dir);
    *state = f;
    return 0;
}

/* A fresh directory with a new, open store. */
static int setup_store(void **state)
{
    if (setup_dir(state))
        return -1;
    fx *f = *state;
    if (test_database()) {
        /* The database must start empty: what an earlier run left goes. */
        if (cu_strlcpy(f->db, test_database(), sizeof f->db))
            return -1;
        cu_store_remove(f->db);
    }
    if (cu_store_open(f->db, true, &f->s, &f->err) != CU_OK) {
        print_error("opening the test store: %s\n", f->err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    cu_store_close(f->s);
    if (test_database())
        cu_store_remove(test_database());
    testdir_remove(f->dir);
    free(f);
    return 0;
}

/* Runs SQL on the store file through a separate connection. */
static void raw_exec(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    CHECK(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(h);
}

static int64_t raw_int(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* --------------------------------------------------------- open/create ---- */

static void test_create_and_open(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_open(f->db, false, &f->s, &f->err), CU_ENOTFOUND);
    assert_null(f->s);
    cu_err_clear(&f->err);
    assert_int_equal(cu_store_open(f->db, true, &f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_meta_put(f->s, "store_id", "abc", 3, &f->err), CU_OK);
    cu_store_close(f->s);
    f->s = NULL;

    /* Creating over an existing store is refused; opening it works. */
    cu_store *s2 = NULL;
    assert_int_equal(cu_store_open(f->db, true, &s2, &f->err), CU_ECONFLICT);
    assert_null(s2);
    cu_err_clear(&f->err);
    assert_int_equal(cu_store_open(f->db, false, &f->s, &f->err), CU_OK);
    cu_buf b;
    cu_buf_init(&b, 0);
    assert_int_equal(cu_store_meta_get(f->s, "store_id", &b, &f->err), CU_OK);
    assert_string_equal(cu_buf_str(&b), "abc");
    cu_buf_release(&b);

    /* The schema version recorded is the one this build writes. */
    assert_int_equal(cu_store_schema_version(), cu_sqlite_migrations_count);
    assert_true(cu_store_schema_version() >= 1);
    assert_int_equal(raw_int(f->db, "PRAGMA user_version"), cu_store_schema_version());
    /* WAL journal as documented. */
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void test_schema_migrations(void **state)
{
    (void)state;
    for (int n = 1; n <= cu_sqlite_migrations_count; n++) {
        const char *sql = cu_sqlite_migrations[n - 1];
        CHECK(sql != NULL && *sql, "migration %d empty", n);
    }
    assert_true(cu_sqlite_migrations_count >= 7);
}

/* Every applied migration has its row in schema_version, in step with
 * PRAGMA user_version. */
static void test_schema_version_table(void **state)
{
    fx *f = *state;
    int n = cu_store_schema_version();
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM schema_version"), n);
    assert_int_equal(raw_int(f->db, "SELECT min(version) FROM schema_version"), 1);
    assert_int_equal(raw_int(f->db, "SELECT max(version) FROM schema_version"), n);
    assert_int_equal(raw_int(f->db, "PRAGMA user_version"), n);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM schema_version WHERE applied_at <= 0"),
                     0);
}

/* A store written before schema_version existed (version 6, as an older
 * build or an old backup leaves it) opens, migrates, and has a row for every
 * version, the earlier ones backfilled; its data is kept. */
static void test_old_store_migrates(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_open(f->db, true, &f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    cu_store_close(f->s);
    f->s = NULL;
    /* Back to version 6: what migrations 7 to 14 added goes. */
    raw_exec(f->db, "DROP TABLE portal_cookie_choices; DROP TABLE portal_sessions; DROP TABLE portal_accounts; "
                    "DROP TABLE portal_invitations; "
                    "DROP TABLE pathway_occurrences; DROP TABLE enrolments; "
                    "DROP TABLE pathways; DROP TABLE questionnaire_links; DROP TABLE tasks; "
                    "DROP TABLE schema_version; DROP TABLE node_keys; "
                    "DROP TABLE questionnaires; "
                    "DROP TABLE erasure_ledger; DROP TABLE jobs; "
                    "ALTER TABLE audit_head DROP COLUMN node; "
                    "ALTER TABLE audit_checkpoints DROP COLUMN node; PRAGMA user_version = 6");
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE name = "
                                    "'schema_version'"),
                     0);
    assert_int_equal(cu_store_open(f->db, false, &f->s, &f->err), CU_OK);
    int n = cu_store_schema_version();
    assert_int_equal(raw_int(f->db, "PRAGMA user_version"), n);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM schema_version"), n);
    assert_int_equal(raw_int(f->db, "SELECT count(DISTINCT version) FROM schema_version "
                                    "WHERE version BETWEEN 1 AND 7"),
                     7);
    assert_int_equal(count_controllers(f), 1);
    /* Opening again applies nothing more. */
    cu_store_close(f->s);
    f->s = NULL;
    assert_int_equal(cu_store_open(f->db, false, &f->s, &f->err), CU_OK);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM schema_version"), n);
}

/* Migration 15 rebuilds tasks and pathway_occurrences with their state
 * checks as comparisons: a store at version 14 with rows in both keeps
 * every row as it was, the checks still refuse a state outside the list,
 * and an insert no longer opens a temporary B-tree. */
static void test_checks_migration_keeps_rows(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_open(f->db, true, &f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    cu_store_close(f->s);
    f->s = NULL;
    raw_exec(f->db,
             "INSERT INTO subjects(id, controller_id, kind, key_version, created_at, updated_at) "
             "VALUES ('s1', '" CTL_A "', 'patient', 1, 1, 1);"
             "INSERT INTO tasks(seq, id, controller_id, subject_id, kind, reason, detail, source, "
             "state, created_at, acked_by, acked_at, mac) VALUES (7, 't7', '" CTL_A "', 's1', "
             "'urgent', 'phq9_item9', x'01', 'r1', 'acknowledged', 5, 'alice', 6, x'aa'), "
             "(9, 't9', '" CTL_A "', 's1', 'review', 'score', NULL, 'r2', 'open', 8, '', 0, "
             "x'bb');"
             "INSERT INTO pathways(id, version, hash, document, added_at, added_by) "
             "VALUES ('p', '1', x'00', x'7b7d', 1, 'op');"
             "INSERT INTO enrolments(seq, id, controller_id, subject_id, pathway_id, "
             "pathway_version, start_date, purpose, occurrences, enrolled_by, enrolled_at) "
             "VALUES (1, 'e1', '" CTL_A "', 's1', 'p', '1', '2027-01-01', 'care', 2, 'op', 1);"
             "INSERT INTO pathway_occurrences(enrolment_id, n, due_date, state, ref, changed_at, "
             "mac) VALUES ('e1', 1, '2027-02-01', 'answered', 'r1', 3, x'cc'), "
             "('e1', 2, '2027-03-01', 'scheduled', '', 1, x'dd');"
             "DELETE FROM schema_version WHERE version = 15; PRAGMA user_version = 14");
    assert_int_equal(cu_store_open(f->db, false, &f->s, &f->err), CU_OK);
    assert_true(cu_store_schema_version() >= 15);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM schema_version WHERE version = 15"),
                     1);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM tasks WHERE seq = 7 AND id = 't7' AND "
                                    "state = 'acknowledged' AND acked_by = 'alice' AND "
                                    "acked_at = 6 AND detail = x'01' AND mac = x'aa'"),
                     1);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM tasks WHERE seq = 9 AND "
                                    "detail IS NULL AND owner_user_id IS NULL"),
                     1);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM pathway_occurrences WHERE "
                                    "(enrolment_id, n, state, ref, mac) IN (VALUES "
                                    "('e1', 1, 'answered', 'r1', x'cc'), "
                                    "('e1', 2, 'scheduled', '', x'dd'))"),
                     2);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                    "('tasks_controller', 'tasks_subject')"),
                     2);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE name LIKE "
                                    "'%_old'"),
                     0);
    /* The rules hold: a state outside the list is refused. */
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "UPDATE tasks SET state = 'lost' WHERE seq = 9", NULL,
                                  NULL, NULL),
                     SQLITE_CONSTRAINT);
    assert_int_equal(sqlite3_exec(h, "UPDATE pathway_occurrences SET state = 'lost'", NULL,
                                  NULL, NULL),
                     SQLITE_CONSTRAINT);
    /* ...and checking them builds no temporary B-tree. */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, "EXPLAIN UPDATE tasks SET state = 'done' WHERE seq = 9",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int ephemeral = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        ephemeral += strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
    sqlite3_finalize(st);
    sqlite3_close(h);
    assert_int_equal(ephemeral, 0);
}

static void test_newer_version_refused(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_open(f->db, true, &f->s, &f->err), CU_OK);
    cu_store_close(f->s);
    f->s = NULL;
    raw_exec(f->db, "PRAGMA user_version = 99");
    assert_int_equal(cu_store_open(f->db, false, &f->s, &f->err), CU_EVERSION);
    assert_null(f->s);
    assert_int_equal(f->err.code, CU_EVERSION);
    assert_non_null(strstr(f->err.msg, "99"));
    /* The file was not modified by the refused open. */
    assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 99);
}

static void test_foreign_database_refused(void **state)
{
    fx *f = *state;
    /* Another application's SQLite database (schema version 0): only init
     * creates a schema, so opening refuses it and leaves it untouched. */
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE scratch(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 0);
    assert_int_equal(cu_store_open(f->db, false, &f->s, &f->err), CU_ECORRUPT);
    assert_null(f->s);
    assert_int_equal(f->err.code, CU_ECORRUPT);
    assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 0);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master"), 1);
    /* An empty file too (what a failed or interrupted init could leave). */
    char empty[PATH_MAX];
    snprintf(empty, sizeof empty, "%s/empty.db", f->dir);
    FILE *fp = fopen(empty, "w");
    assert_non_null(fp);
    fclose(fp);
    cu_err_clear(&f->err);
    assert_int_equal(cu_store_open(empty, false, &f->s, &f->err), CU_ECORRUPT);
    assert_null(f->s);
}

static void test_garbage_file_refused(void **state)
{
    fx *f = *state;
    unsigned char junk[16384];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        junk[i] = (unsigned char)x;
    }
    int fd = open(f->db, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    assert_int_equal(cu_store_open(f->db, false, &f->s, &f->err), CU_ECORRUPT);
    assert_null(f->s);
    assert_int_equal(f->err.code, CU_ECORRUPT);

    /* A plain text file too. */
    char txt[PATH_MAX];
    snprintf(txt, sizeof txt, "%s/notes.txt", f->dir);
    FILE *t = fopen(txt, "w");
    assert_non_null(t);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database, just some notes about a patient\n", t);
    fclose(t);
    cu_err_clear(&f->err);
    assert_int_equal(cu_store_open(txt, false, &f->s, &f->err), CU_ECORRUPT);
    assert_null(f->s);
    /* The message names no file contents. */
    assert_null(strstr(f->err.msg, "patient"));
}

/* -------------------------------------------------------- transactions ---- */

static int count_one(void *ctx, const char *id, const char *name, int64_t created_at)
{
    (void)id;
    (void)name;
    (void)created_at;
    ++*(int64_t *)ctx;
    return 0;
}

/* The controllers another connection sees (what is committed). */
static int64_t count_controllers(fx *f)
{
    cu_store *other = NULL;
    cu_err e;
    cu_err_clear(&e);
    assert_int_equal(cu_store_open(f->db, false, &other, &e), CU_OK);
    int64_t n = 0;
    assert_int_equal(cu_store_controller_each(other, count_one, &n, &e), CU_OK);
    cu_store_close(other);
    return n;
}

static bool has_controller(fx *f, const char *id)
{
    int rc = cu_store_controller_get(f->s, id, NULL, &f->err);
    assert_true(rc == CU_OK || rc == CU_ENOTFOUND);
    return rc == CU_OK;
}

static void test_transactions(void **state)
{
    fx *f = *state;
    assert_false(cu_store_in_tx(f->s));
    assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
    assert_true(cu_store_in_tx(f->s));
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    assert_true(has_controller(f, CTL_A));
    cu_store_rollback(f->s);
    assert_false(cu_store_in_tx(f->s));
    assert_false(has_controller(f, CTL_A));

    assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    assert_int_equal(cu_store_commit(f->s, &f->err), CU_OK);
    assert_false(cu_store_in_tx(f->s));
    assert_true(has_controller(f, CTL_A));
    /* Durable: visible from another connection. */
    assert_int_equal(count_controllers(f), 1);
    /* Rollback outside a transaction is harmless. */
    cu_store_rollback(f->s);
    assert_true(has_controller(f, CTL_A));
}

static void test_savepoints(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    /* An operation that is undone on its own. */
    assert_int_equal(cu_store_savepoint(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_B, "Trust B", 2, &f->err), CU_OK);
    assert_true(has_controller(f, CTL_B));
    cu_store_rollback_to(f->s);
    assert_true(cu_store_in_tx(f->s));
    assert_false(has_controller(f, CTL_B));
    assert_true(has_controller(f, CTL_A));
    /* An operation that is kept. */
    assert_int_equal(cu_store_savepoint(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_meta_put(f->s, "k", "v", 1, &f->err), CU_OK);
    assert_int_equal(cu_store_release(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_commit(f->s, &f->err), CU_OK);
    assert_true(has_controller(f, CTL_A));
    assert_false(has_controller(f, CTL_B));
    cu_buf b;
    cu_buf_init(&b, 0);
    assert_int_equal(cu_store_meta_get(f->s, "k", &b, &f->err), CU_OK);
    assert_string_equal(cu_buf_str(&b), "v");
    cu_buf_release(&b);
    assert_int_equal(count_controllers(f), 1);

    /* A failing statement inside a savepoint does not end the transaction. */
    assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_savepoint(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_B, "Trust B", 2, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_B, "Trust B2", 2, &f->err),
                     CU_ECONFLICT);
    cu_store_rollback_to(f->s);
    cu_err_clear(&f->err);
    assert_int_equal(cu_store_controller_insert(f->s, "33333333-3333-4333-8333-333333333333",
                                                "Trust C", 3, &f->err),
                     CU_OK);
    assert_int_equal(cu_store_commit(f->s, &f->err), CU_OK);
    assert_int_equal(count_controllers(f), 2);
    assert_false(has_controller(f, CTL_B));
}

/* ----------------------------------------------------- meta and keyring ---- */

typedef struct ring_seen {
    int n;
    char names[4][32];
    size_t lens[4];
} ring_seen;

static int ring_cb(void *ctx, const char *name, const void *w, size_t n)
{
    (void)w;
    ring_seen *r = ctx;
    if (r->n < 4) {
        snprintf(r->names[r->n], sizeof r->names[r->n], "%s", name);
        r->lens[r->n] = n;
    }
    r->n++;
    return 0;
}

static void test_meta_keyring(void **state)
{
    fx *f = *state;
    cu_buf b;
    cu_buf_init(&b, 0);
    assert_int_equal(cu_store_meta_get(f->s, "absent", &b, &f->err), CU_ENOTFOUND);
    assert_int_equal(b.len, 0);
    static const unsigned char bin[] = {0, 1, 2, 0xff, 0};
    assert_int_equal(cu_store_meta_put(f->s, "bin", bin, sizeof bin, &f->err), CU_OK);
    assert_int_equal(cu_store_meta_get(f->s, "bin", &b, &f->err), CU_OK);
    assert_int_equal(b.len, sizeof bin);
    assert_memory_equal(b.data, bin, sizeof bin);
    /* put replaces */
    assert_int_equal(cu_store_meta_put(f->s, "bin", "x", 1, &f->err), CU_OK);
    cu_buf_reset(&b);
    assert_int_equal(cu_store_meta_get(f->s, "bin", &b, &f->err), CU_OK);
    assert_string_equal(cu_buf_str(&b), "x");

    unsigned char w1[72], w2[72];
    memset(w1, 0x11, sizeof w1);
    memset(w2, 0x22, sizeof w2);
    assert_int_equal(cu_store_keyring_put(f->s, "index_root", w1, sizeof w1, &f->err), CU_OK);
    assert_int_equal(cu_store_keyring_put(f->s, "audit_signing", w2, sizeof w2, &f->err), CU_OK);
    cu_buf_reset(&b);
    assert_int_equal(cu_store_keyring_get(f->s, "index_root", &b, &f->err), CU_OK);
    assert_int_equal(b.len, sizeof w1);
    assert_memory_equal(b.data, w1, sizeof w1);
    cu_buf_reset(&b);
    assert_int_equal(cu_store_keyring_get(f->s, "nope", &b, &f->err), CU_ENOTFOUND);
    ring_seen r = {0};
    assert_int_equal(cu_store_keyring_each(f->s, ring_cb, &r, &f->err), CU_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.names[0], "audit_signing"); /* ordered by name */
    assert_string_equal(r.names[1], "index_root");
    assert_int_equal(r.lens[0], sizeof w2);
    /* replace */
    assert_int_equal(cu_store_keyring_put(f->s, "index_root", w2, sizeof w2, &f->err), CU_OK);
    cu_buf_reset(&b);
    assert_int_equal(cu_store_keyring_get(f->s, "index_root", &b, &f->err), CU_OK);
    assert_memory_equal(b.data, w2, sizeof w2);
    cu_buf_release(&b);
}

/* ---------------------------------------------------------- controllers ---- */

typedef struct ctl_seen {
    int n;
    char ids[4][40];
    char names[4][64];
} ctl_seen;

static int ctl_cb(void *ctx, const char *id, const char *name, int64_t created_at)
{
    (void)created_at;
    ctl_seen *c = ctx;
    if (c->n < 4) {
        snprintf(c->ids[c->n], sizeof c->ids[c->n], "%s", id);
        snprintf(c->names[c->n], sizeof c->names[c->n], "%s", name);
    }
    c->n++;
    return 0;
}

static int stop_cb(void *ctx, const char *id, const char *name, int64_t created_at)
{
    (void)id;
    (void)name;
    (void)created_at;
    (*(int *)ctx)++;
    return 77;
}

static void test_controllers(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_controller_insert(f->s, CTL_B, "Trust B", 200, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 100, &f->err), CU_OK);
    cu_buf name;
    cu_buf_init(&name, 0);
    assert_int_equal(cu_store_controller_get(f->s, CTL_A, &name, &f->err), CU_OK);
    assert_string_equal(cu_buf_str(&name), "Trust A");
    cu_buf_reset(&name);
    assert_int_equal(cu_store_controller_get(f->s, "99999999-9999-4999-8999-999999999999",
                                             &name, &f->err),
                     CU_ENOTFOUND);
    cu_buf_release(&name);

    /* Same id, or same name: conflict. */
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust Z", 300, &f->err),
                     CU_ECONFLICT);
    assert_int_equal(f->err.code, CU_ECONFLICT);
    cu_err_clear(&f->err);
    assert_int_equal(cu_store_controller_insert(f->s, "33333333-3333-4333-8333-333333333333",
                                                "Trust A", 300, &f->err),
                     CU_ECONFLICT);
    cu_err_clear(&f->err);

    ctl_seen c = {0};
    assert_int_equal(cu_store_controller_each(f->s, ctl_cb, &c, &f->err), CU_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.ids[0], CTL_A); /* ordered by created_at */
    assert_string_equal(c.names[0], "Trust A");
    assert_string_equal(c.ids[1], CTL_B);

    /* A callback's non-zero result stops the walk and is returned. */
    int calls = 0;
    assert_int_equal(cu_store_controller_each(f->s, stop_cb, &calls, &f->err), 77);
    assert_int_equal(calls, 1);
    /* The statement was reset: a second walk works. */
    memset(&c, 0, sizeof c);
    assert_int_equal(cu_store_controller_each(f->s, ctl_cb, &c, &f->err), CU_OK);
    assert_int_equal(c.n, 2);
}

/* ------------------------------------------------------------- subjects ---- */

static void add_subject(fx *f, const char *id, const char *ctl, int64_t created)
{
    cu_subject_rec r = {.key_version = 1, .created_at = created, .updated_at = created};
    snprintf(r.id, sizeof r.id, "%s", id);
    snprintf(r.controller_id, sizeof r.controller_id, "%s", ctl);
    snprintf(r.kind, sizeof r.kind, "patient");
    assert_int_equal(cu_store_subject_insert(f->s, &r, &f->err), CU_OK);
}

static int subj_count_cb(void *ctx, const cu_subject_rec *r)
{
    (void)r;
    (*(int *)ctx)++;
    return 0;
}

static void test_subjects(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_B, "Trust B", 2, &f->err), CU_OK);
    add_subject(f, SUBJ_1, CTL_A, 1000);
    add_subject(f, SUBJ_2, CTL_B, 2000);

    /* Foreign keys: a subject of an unknown controller is refused. */
    cu_subject_rec bad = {.key_version = 1, .created_at = 1, .updated_at = 1};
    snprintf(bad.id, sizeof bad.id, "%s", ITEM_1);
    snprintf(bad.controller_id, sizeof bad.controller_id, "%s",
             "99999999-9999-4999-8999-999999999999");
    snprintf(bad.kind, sizeof bad.kind, "patient");
    assert_int_not_equal(cu_store_subject_insert(f->s, &bad, &f->err), CU_OK);
    cu_err_clear(&f->err);
    /* And an unknown kind. */
    snprintf(bad.controller_id, sizeof bad.controller_id, "%s", CTL_A);
    snprintf(bad.kind, sizeof bad.kind, "robot");
    assert_int_not_equal(cu_store_subject_insert(f->s, &bad, &f->err), CU_OK);
    cu_err_clear(&f->err);
    /* Duplicate id. */
    cu_subject_rec dup = {.key_version = 1, .created_at = 5, .updated_at = 5};
    snprintf(dup.id, sizeof dup.id, "%s", SUBJ_1);
    snprintf(dup.controller_id, sizeof dup.controller_id, "%s", CTL_A);
    snprintf(dup.kind, sizeof dup.kind, "other");
    assert_int_equal(cu_store_subject_insert(f->s, &dup, &f->err), CU_ECONFLICT);
    cu_err_clear(&f->err);

    cu_subject_rec r;
    assert_int_equal(cu_store_subject_get(f->s, SUBJ_1, &r, &f->err), CU_OK);
    assert_string_equal(r.id, SUBJ_1);
    assert_string_equal(r.controller_id, CTL_A);
    assert_string_equal(r.kind, "patient");
    assert_int_equal(r.key_version, 1);
    assert_int_equal(r.created_at, 1000);
    assert_int_equal(r.erased_at, 0);
    assert_int_equal(cu_store_subject_get(f->s, ITEM_1, &r, &f->err), CU_ENOTFOUND);

    assert_int_equal(cu_store_subject_touch(f->s, SUBJ_1, 1500, &f->err), CU_OK);
    assert_int_equal(cu_store_subject_get(f->s, SUBJ_1, &r, &f->err), CU_OK);
    assert_int_equal(r.updated_at, 1500);
    assert_int_equal(r.created_at, 1000);
    assert_int_equal(cu_store_subject_mark_erased(f->s, SUBJ_1, 1700, &f->err), CU_OK);
    assert_int_equal(cu_store_subject_get(f->s, SUBJ_1, &r, &f->err), CU_OK);
    assert_int_equal(r.erased_at, 1700);

    int n = 0;
    assert_int_equal(cu_store_subject_each(f->s, NULL, subj_count_cb, &n, &f->err), CU_OK);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(cu_store_subject_each(f->s, CTL_B, subj_count_cb, &n, &f->err), CU_OK);
    assert_int_equal(n, 1);

    cu_store_counts c;
    assert_int_equal(cu_store_counts_get(f->s, &c, &f->err), CU_OK);
    assert_int_equal(c.controllers, 2);
    assert_int_equal(c.subjects, 1);
    assert_int_equal(c.erased, 1);

    /* Subject keys. */
    unsigned char w[72], got[72];
    memset(w, 0x5a, sizeof w);
    int64_t ver = 0;
    size_t gn = 0;
    assert_int_equal(cu_store_subject_key_get(f->s, SUBJ_2, &ver, got, sizeof got, &gn, &f->err),
                     CU_ENOTFOUND);
    assert_int_equal(cu_store_subject_key_put(f->s, SUBJ_2, 3, w, sizeof w, &f->err), CU_OK);
    assert_int_equal(cu_store_subject_key_get(f->s, SUBJ_2, &ver, got, sizeof got, &gn, &f->err),
                     CU_OK);
    assert_int_equal(ver, 3);
    assert_int_equal(gn, sizeof w);
    assert_memory_equal(got, w, sizeof w);
    /* A too-small buffer is refused, not overrun. */
    unsigned char small[10];
    assert_int_equal(cu_store_subject_key_get(f->s, SUBJ_2, &ver, small, sizeof small, &gn,
                                              &f->err),
                     CU_ECORRUPT);
    cu_err_clear(&f->err);
    assert_int_equal(cu_store_subject_key_delete(f->s, SUBJ_2, &f->err), CU_OK);
    assert_int_equal(cu_store_subject_key_get(f->s, SUBJ_2, &ver, got, sizeof got, &gn, &f->err),
                     CU_ENOTFOUND);
}

/* ---------------------------------------------------------------- items ---- */

typedef struct items_seen {
    int n;
    char ids[4][40];
    char fields[4][32];
    unsigned char values[4][16];
    size_t lens[4];
    int64_t updated[4];
} items_seen;

static int item_cb(void *ctx, const cu_item_row *r)
{
    items_seen *s = ctx;
    if (s->n < 4) {
        snprintf(s->ids[s->n], sizeof s->ids[s->n], "%s", r->id);
        snprintf(s->fields[s->n], sizeof s->fields[s->n], "%s", r->field);
        s->lens[s->n] = r->value_len < 16 ? r->value_len : 16;
        memcpy(s->values[s->n], r->value, s->lens[s->n]);
        s->updated[s->n] = r->updated_at;
    }
    s->n++;
    return 0;
}

static void insert_item(fx *f, const char *subj, const char *id, const char *field,
                        const char *value, int64_t at)
{
    cu_item_row r = {.id = id, .subject_id = subj, .category = "health", .field = field,
                     .source = "staff", .recorded_by = "tester", .collected_at = at,
                     .recorded_at = at, .updated_at = at,
                     .value = (const unsigned char *)value, .value_len = strlen(value)};
    assert_int_equal(cu_store_item_insert(f->s, &r, &f->err), CU_OK);
}

static void test_items(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    add_subject(f, SUBJ_1, CTL_A, 1);
    add_subject(f, SUBJ_2, CTL_A, 2);
    insert_item(f, SUBJ_1, ITEM_2, "diagnosis", "sealed-2", 20);
    insert_item(f, SUBJ_1, ITEM_1, "allergy", "sealed-1", 10);
    insert_item(f, SUBJ_2, ITEM_3, "allergy", "sealed-3", 30);

    /* Same (subject, id) twice: conflict. The same item id under another
     * subject is a different item. */
    cu_item_row dup = {.id = ITEM_1, .subject_id = SUBJ_1, .category = "health",
                       .field = "x", .source = "staff", .recorded_by = "t",
                       .value = (const unsigned char *)"v", .value_len = 1};
    assert_int_equal(cu_store_item_insert(f->s, &dup, &f->err), CU_ECONFLICT);
    cu_err_clear(&f->err);
    /* An item of an unknown subject violates the foreign key. */
    dup.subject_id = "99999999-9999-4999-8999-999999999999";
    assert_int_not_equal(cu_store_item_insert(f->s, &dup, &f->err), CU_OK);
    cu_err_clear(&f->err);

    items_seen s = {0};
    assert_int_equal(cu_store_item_each(f->s, SUBJ_1, item_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.ids[0], ITEM_1); /* ordered by recorded_at */
    assert_string_equal(s.fields[0], "allergy");
    assert_memory_equal(s.values[0], "sealed-1", 8);
    assert_string_equal(s.ids[1], ITEM_2);

    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_item_get(f->s, SUBJ_1, ITEM_2, item_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.fields[0], "diagnosis");
    memset(&s, 0, sizeof s);
    /* An item is found only under its own subject. */
    assert_int_equal(cu_store_item_get(f->s, SUBJ_2, ITEM_2, item_cb, &s, &f->err),
                     CU_ENOTFOUND);
    assert_int_equal(s.n, 0);

    assert_int_equal(cu_store_item_update_value(f->s, SUBJ_1, ITEM_2, "new-val", 7, 99, 2, &f->err),
                     CU_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_item_get(f->s, SUBJ_1, ITEM_2, item_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.lens[0], 7);
    assert_memory_equal(s.values[0], "new-val", 7);
    assert_int_equal(s.updated[0], 99);
    assert_int_equal(cu_store_item_update_value(f->s, SUBJ_2, ITEM_2, "x", 1, 99, 2, &f->err),
                     CU_ENOTFOUND);

    assert_int_equal(cu_store_item_delete_subject(f->s, SUBJ_1, &f->err), CU_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_item_each(f->s, SUBJ_1, item_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_item_each(f->s, SUBJ_2, item_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 1);
    cu_store_counts c;
    assert_int_equal(cu_store_counts_get(f->s, &c, &f->err), CU_OK);
    assert_int_equal(c.items, 1);
}

/* ---------------------------------------------------------- identifiers ---- */

typedef struct idents_seen {
    int n;
    char subj[4][40];
    char item[4][40];
} idents_seen;

static int ident_cb(void *ctx, const char *subject_id, const char *item_id)
{
    idents_seen *s = ctx;
    if (s->n < 4) {
        snprintf(s->subj[s->n], sizeof s->subj[s->n], "%s", subject_id);
        snprintf(s->item[s->n], sizeof s->item[s->n], "%s", item_id);
    }
    s->n++;
    return 0;
}

static void test_identifiers(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    add_subject(f, SUBJ_1, CTL_A, 1);
    add_subject(f, SUBJ_2, CTL_A, 2);
    unsigned char b1[32], b2[32];
    memset(b1, 1, sizeof b1);
    memset(b2, 2, sizeof b2);
    assert_int_equal(cu_store_ident_insert(f->s, "email", b1, 32, SUBJ_2, ITEM_2, &f->err),
                     CU_OK);
    assert_int_equal(cu_store_ident_insert(f->s, "email", b1, 32, SUBJ_1, ITEM_1, &f->err),
                     CU_OK);
    assert_int_equal(cu_store_ident_insert(f->s, "phone", b1, 32, SUBJ_1, ITEM_3, &f->err),
                     CU_OK);
    assert_int_equal(cu_store_ident_insert(f->s, "email", b2, 32, SUBJ_1, ITEM_3, &f->err),
                     CU_OK);
    /* The same row twice is a conflict. */
    assert_int_equal(cu_store_ident_insert(f->s, "email", b1, 32, SUBJ_1, ITEM_1, &f->err),
                     CU_ECONFLICT);
    cu_err_clear(&f->err);

    idents_seen s = {0};
    assert_int_equal(cu_store_ident_find(f->s, "email", b1, 32, ident_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.subj[0], SUBJ_1); /* ordered by subject */
    assert_string_equal(s.item[0], ITEM_1);
    assert_string_equal(s.subj[1], SUBJ_2);
    /* The kind is part of the key. */
    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_ident_find(f->s, "phone", b1, 32, ident_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.item[0], ITEM_3);
    /* A prefix of the index does not match. */
    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_ident_find(f->s, "email", b1, 31, ident_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 0);

    assert_int_equal(cu_store_ident_delete_item(f->s, SUBJ_1, ITEM_1, &f->err), CU_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_ident_find(f->s, "email", b1, 32, ident_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.subj[0], SUBJ_2);

    assert_int_equal(cu_store_ident_delete_subject(f->s, SUBJ_1, &f->err), CU_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_ident_find(f->s, "email", b2, 32, ident_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_ident_find(f->s, "phone", b1, 32, ident_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_ident_find(f->s, "email", b1, 32, ident_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 1);
}

/* ---------------------------------------------------------------- audit ---- */

typedef struct audit_seen {
    int n;
    int64_t seqs[16];
} audit_seen;

static int audit_cb(void *ctx, const cu_audit_row *r)
{
    audit_seen *s = ctx;
    if (s->n < 16)
        s->seqs[s->n] = r->seq;
    s->n++;
    return 0;
}

static void expect_seqs(fx *f, const cu_audit_filter *flt, const int64_t *want, int n)
{
    audit_seen s = {0};
    assert_int_equal(cu_store_audit_each(f->s, flt, audit_cb, &s, &f->err), CU_OK);
    CHECK(s.n == n, "got %d events, want %d", s.n, n);
    for (int i = 0; i < n; i++)
        CHECK(s.seqs[i] == want[i], "event %d: seq %lld, want %lld", i, (long long)s.seqs[i],
              (long long)want[i]);
}

static void test_audit_rows(void **state)
{
    fx *f = *state;
    int64_t seq = -1;
    unsigned char h[32] = {0};
    assert_int_equal(cu_store_audit_last(f->s, &seq, h, sizeof h, &f->err), CU_OK);
    assert_int_equal(seq, 0);

    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    add_subject(f, SUBJ_1, CTL_A, 1);
    for (int i = 1; i <= 10; i++) {
        unsigned char hash[32], body[8];
        memset(hash, i, sizeof hash);
        memset(body, 'a' + i, sizeof body);
        cu_audit_row r = {.seq = i, .ts = 1000 * i, .actor = i % 2 ? "alice" : "bob",
                          .subject_id = i % 3 == 0 ? SUBJ_1 : NULL, .body = body,
                          .body_len = sizeof body, .hash = hash, .hash_len = sizeof hash};
        assert_int_equal(cu_store_audit_insert(f->s, &r, &f->err), CU_OK);
    }
    /* seq is unique */
    cu_audit_row again = {.seq = 5, .ts = 1, .actor = "x", .body = h, .body_len = 1,
                          .hash = h, .hash_len = 32};
    assert_int_equal(cu_store_audit_insert(f->s, &again, &f->err), CU_ECONFLICT);
    cu_err_clear(&f->err);

    assert_int_equal(cu_store_audit_last(f->s, &seq, h, sizeof h, &f->err), CU_OK);
    assert_int_equal(seq, 10);
    unsigned char ten[32];
    memset(ten, 10, sizeof ten);
    assert_memory_equal(h, ten, sizeof h);
    /* A stored hash of the wrong size is reported as tampering. */
    assert_int_equal(cu_store_audit_last(f->s, &seq, h, 16, &f->err), CU_ETAMPER);
    cu_err_clear(&f->err);

    static const int64_t all[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    expect_seqs(f, NULL, all, 10);
    cu_audit_filter none = {0};
    expect_seqs(f, &none, all, 10);
    static const int64_t subj[] = {3, 6, 9};
    expect_seqs(f, &(cu_audit_filter){.subject_id = SUBJ_1}, subj, 3);
    static const int64_t bob[] = {2, 4, 6, 8, 10};
    expect_seqs(f, &(cu_audit_filter){.actor = "bob"}, bob, 5);
    static const int64_t window[] = {3, 4, 5, 6};
    expect_seqs(f, &(cu_audit_filter){.since_us = 3000, .until_us = 6000}, window, 4);
    static const int64_t since[] = {9, 10};
    expect_seqs(f, &(cu_audit_filter){.since_us = 9000}, since, 2);
    static const int64_t until[] = {1, 2};
    expect_seqs(f, &(cu_audit_filter){.until_us = 2000}, until, 2);
    static const int64_t after[] = {8, 9, 10};
    expect_seqs(f, &(cu_audit_filter){.after_seq = 7}, after, 3);
    static const int64_t lim[] = {1, 2};
    expect_seqs(f, &(cu_audit_filter){.limit = 2}, lim, 2);
    static const int64_t combo[] = {6};
    expect_seqs(f, &(cu_audit_filter){.subject_id = SUBJ_1, .actor = "bob", .after_seq = 3},
                combo, 1);
    expect_seqs(f, &(cu_audit_filter){.actor = "carol"}, NULL, 0);

    cu_store_counts c;
    assert_int_equal(cu_store_counts_get(f->s, &c, &f->err), CU_OK);
    assert_int_equal(c.audit_events, 10);
}

/* ---------------------------------------------------- head, checkpoints ---- */

typedef struct ckpt_seen {
    int n;
    cu_checkpoint c[4];
} ckpt_seen;

static int ckpt_cb(void *ctx, const cu_checkpoint *c)
{
    ckpt_seen *s = ctx;
    if (s->n < 4)
        s->c[s->n] = *c;
    s->n++;
    return 0;
}

static void test_head_and_checkpoints(void **state)
{
    fx *f = *state;
    cu_checkpoint got;
    assert_int_equal(cu_store_head_get(f->s, &got, &f->err), CU_ENOTFOUND);

    cu_checkpoint a = {.seq = 5, .signed_at = 555};
    memset(a.hash, 0xa5, sizeof a.hash);
    memset(a.sig, 0x5a, sizeof a.sig);
    assert_int_equal(cu_store_head_put(f->s, &a, &f->err), CU_OK);
    assert_int_equal(cu_store_head_get(f->s, &got, &f->err), CU_OK);
    assert_int_equal(got.seq, 5);
    assert_int_equal(got.signed_at, 555);
    assert_memory_equal(got.hash, a.hash, sizeof a.hash);
    assert_memory_equal(got.sig, a.sig, sizeof a.sig);

    /* The head is one row, replaced. */
    cu_checkpoint b = a;
    b.seq = 9;
    memset(b.hash, 0xb9, sizeof b.hash);
    assert_int_equal(cu_store_head_put(f->s, &b, &f->err), CU_OK);
    assert_int_equal(cu_store_head_get(f->s, &got, &f->err), CU_OK);
    assert_int_equal(got.seq, 9);
    assert_memory_equal(got.hash, b.hash, sizeof b.hash);
    if (!test_database()) {
        cu_store_close(f->s);
        f->s = NULL;
        assert_int_equal(raw_int(f->db, "SELECT count(*) FROM audit_head"), 1);

        /* A malformed head (short signature) is reported as tampering. */
        raw_exec(f->db, "UPDATE audit_head SET sig = x'0102'");
        assert_int_equal(cu_store_open(f->db, false, &f->s, &f->err), CU_OK);
        assert_int_equal(cu_store_head_get(f->s, &got, &f->err), CU_ETAMPER);
        cu_err_clear(&f->err);
    }

    int64_t last = -1;
    assert_int_equal(cu_store_checkpoint_last_seq(f->s, &last, &f->err), CU_OK);
    assert_int_equal(last, 0);
    assert_int_equal(cu_store_checkpoint_add(f->s, &b, &f->err), CU_OK);
    assert_int_equal(cu_store_checkpoint_add(f->s, &a, &f->err), CU_OK);
    assert_int_equal(cu_store_checkpoint_add(f->s, &a, &f->err), CU_ECONFLICT);
    cu_err_clear(&f->err);
    assert_int_equal(cu_store_checkpoint_last_seq(f->s, &last, &f->err), CU_OK);
    assert_int_equal(last, 9);
    ckpt_seen s = {0};
    assert_int_equal(cu_store_checkpoint_each(f->s, ckpt_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.c[0].seq, 5); /* in seq order */
    assert_int_equal(s.c[1].seq, 9);
    assert_memory_equal(s.c[0].hash, a.hash, sizeof a.hash);
    assert_memory_equal(s.c[1].sig, b.sig, sizeof b.sig);
    cu_store_counts c;
    assert_int_equal(cu_store_counts_get(f->s, &c, &f->err), CU_OK);
    assert_int_equal(c.checkpoints, 2);
}

/* ---------------------------------------------------------- disclosures ---- */

typedef struct disc_seen {
    int n;
    char ids[4][40];
    int has_recipient_id[4];
    size_t recipient_len[4], note_len[4];
    char basis[4][2];
    int64_t at[4];
} disc_seen;

static int disc_cb(void *ctx, const cu_disclosure_row *r)
{
    disc_seen *s = ctx;
    if (s->n == 4)
        return -1;
    snprintf(s->ids[s->n], sizeof s->ids[0], "%s", r->id);
    s->has_recipient_id[s->n] = r->recipient_id != NULL;
    s->recipient_len[s->n] = r->recipient ? r->recipient_len : 0;
    s->note_len[s->n] = r->note ? r->note_len : 0;
    snprintf(s->basis[s->n], 2, "%s", r->basis);
    s->at[s->n] = r->disclosed_at;
    s->n++;
    return 0;
}

static void test_disclosures(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    add_subject(f, SUBJ_1, CTL_A, 1);
    add_subject(f, SUBJ_2, CTL_A, 2);
    cu_disclosure_row a = {.id = ITEM_1, .subject_id = SUBJ_1, .recipient_id = "gp",
                           .basis = "e", .purpose = "direct_care", .channel = "letter",
                           .items = "", .categories = "health", .disclosed_at = 5,
                           .recorded_at = 6, .recorded_by = "t"};
    cu_disclosure_row b = a;
    b.id = ITEM_2;
    b.recipient_id = NULL;
    b.recipient = (const unsigned char *)"sealed-name";
    b.recipient_len = 11;
    b.note = (const unsigned char *)"sealed-note";
    b.note_len = 11;
    b.basis = "c";
    b.disclosed_at = 7;
    cu_disclosure_row other = a;
    other.id = ITEM_3;
    other.subject_id = SUBJ_2;
    assert_int_equal(cu_store_disclosure_insert(f->s, &a, &f->err), CU_OK);
    assert_int_equal(cu_store_disclosure_insert(f->s, &other, &f->err), CU_OK);
    assert_int_equal(cu_store_disclosure_insert(f->s, &b, &f->err), CU_OK);
    /* No recipient at all, a bad basis, a duplicate id: refused by the schema. */
    cu_disclosure_row bad = a;
    bad.id = "77777777-7777-4777-8777-777777777777";
    bad.recipient_id = NULL;
    assert_int_not_equal(cu_store_disclosure_insert(f->s, &bad, &f->err), CU_OK);
    cu_err_clear(&f->err);
    bad.recipient_id = "gp";
    bad.basis = "g";
    assert_int_not_equal(cu_store_disclosure_insert(f->s, &bad, &f->err), CU_OK);
    cu_err_clear(&f->err);
    assert_int_not_equal(cu_store_disclosure_insert(f->s, &a, &f->err), CU_OK);
    cu_err_clear(&f->err);

    disc_seen s = {0};
    assert_int_equal(cu_store_disclosure_each(f->s, SUBJ_1, disc_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 2); /* this subject's only, oldest first */
    assert_string_equal(s.ids[0], ITEM_1);
    assert_true(s.has_recipient_id[0]);
    assert_int_equal(s.recipient_len[0], 0);
    assert_string_equal(s.ids[1], ITEM_2);
    assert_false(s.has_recipient_id[1]);
    assert_int_equal(s.recipient_len[1], 11);
    assert_int_equal(s.note_len[1], 11);
    assert_string_equal(s.basis[1], "c");
    assert_int_equal(s.at[1], 7);
    memset(&s, 0, sizeof s);
    assert_int_equal(cu_store_disclosure_each(f->s, SUBJ_2, disc_cb, &s, &f->err), CU_OK);
    assert_int_equal(s.n, 1);
    /* A callback's non-zero return stops the walk and is returned. */
    s.n = 4;
    assert_int_equal(cu_store_disclosure_each(f->s, SUBJ_1, disc_cb, &s, &f->err), -1);
}

static void test_wal_checkpoint(void **state)
{
    fx *f = *state;
    assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    assert_int_equal(cu_store_commit(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_compact_log(f->s, &f->err), CU_OK);
    char wal[PATH_MAX + 8];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    struct stat st;
    if (stat(wal, &st) == 0)
        assert_int_equal(st.st_size, 0); /* truncated */
    assert_true(has_controller(f, CTL_A));
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* Commits of many pages: the WAL is checkpointed by a thread of the store's
 * own once it holds 4096 pages (the database file then takes the rows while
 * the WAL is not), and stays bounded (8192 pages and a commit's worth) by the
 * writer's own checkpoints. */
static void test_wal_checkpoint_background(void **state)
{
    fx *f = *state;
    char wal[PATH_MAX + 8];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    assert_int_equal(cu_store_commit(f->s, &f->err), CU_OK);
    enum { BODY = 64 * 1024, COMMITS = 320 }; /* 20 MiB: past 4096 pages, short of 8192 */
    unsigned char *body = malloc(BODY), hash[32] = {0};
    assert_non_null(body);
    int64_t seq = 0;
    for (int i = 0; i < COMMITS; i++) {
        assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
        seq++;
        memset(body, i & 0xff, BODY);
        memcpy(hash, &seq, sizeof seq);
        cu_audit_row r = {.seq = seq, .ts = seq, .actor = "alice", .body = body,
                          .body_len = BODY, .hash = hash, .hash_len = sizeof hash};
        assert_int_equal(cu_store_audit_insert(f->s, &r, &f->err), CU_OK);
        assert_int_equal(cu_store_commit(f->s, &f->err), CU_OK);
    }
    /* the thread's checkpoint lands in the database file, the writer not
     * waiting for it: wait for it (bounded), the WAL untouched meanwhile */
    int64_t db_bytes = 0;
    for (int tries = 0; tries < 600 && db_bytes < 16 << 20; tries++) {
        db_bytes = file_size(f->db);
        if (db_bytes < 16 << 20)
            usleep(50 * 1000);
    }
    CHECK(db_bytes >= 16 << 20, "the database file holds %lld bytes: nothing checkpointed",
          (long long)db_bytes);
    /* many more commits: the WAL is reused, never past its bound */
    for (int i = 0; i < 3 * COMMITS; i++) {
        assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
        seq++;
        memcpy(hash, &seq, sizeof seq);
        cu_audit_row r = {.seq = seq, .ts = seq, .actor = "bob", .body = body,
                          .body_len = BODY, .hash = hash, .hash_len = sizeof hash};
        assert_int_equal(cu_store_audit_insert(f->s, &r, &f->err), CU_OK);
        assert_int_equal(cu_store_commit(f->s, &f->err), CU_OK);
    }
    int64_t wal_bytes = file_size(wal);
    CHECK(wal_bytes <= (int64_t)(8192 + 64) * (4096 + 24) + 32,
          "the WAL grew to %lld bytes", (long long)wal_bytes);
    free(body);
    assert_int_equal(cu_store_audit_last(f->s, &seq, hash, sizeof hash, &f->err), CU_OK);
    assert_int_equal(seq, 4 * COMMITS);
}

/* Appends n audit rows from seq from on, each with a 256-byte body, by
 * actor (NULL: a scattered name per row). */
static void append_events(fx *f, int64_t from, int n, const char *actor)
{
    unsigned char body[256], hash[32] = {0};
    memset(body, 0x5a, sizeof body);
    for (int64_t seq = from; seq < from + n; seq++) {
        char name[32];
        snprintf(name, sizeof name, "actor-%08x", (unsigned)(seq * 2654435761u));
        memcpy(hash, &seq, sizeof seq);
        cu_audit_row r = {.seq = seq, .ts = seq, .actor = actor ? actor : name, .body = body,
                          .body_len = sizeof body, .hash = hash, .hash_len = sizeof hash};
        assert_int_equal(cu_store_audit_insert(f->s, &r, &f->err), CU_OK);
    }
}

/* Commits that split B-tree pages renumber pages through a spare number (the
 * lock-byte page at 1 GiB), far beyond the database's end; SQLite's own page
 * cache then walked all its pages on every later commit. Through the
 * store's wrapper those commits skip the walk, and a rollback that leaves
 * pages beyond the end still drops them: the store reads what was committed
 * and nothing of what was rolled back. */
static void test_page_cache_truncation(void **state)
{
    fx *f = *state;
    cu_sq_pcache_counts a, b, c;
    assert_true(cu_sq_pcache_stats(&a));
    enum { COMMITS = 200, ROWS = 20 };
    unsigned char hash[32] = {0};
    int64_t seq = 0;
    for (int i = 0; i < COMMITS; i++) {
        assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
        /* actors in scattered order: the actor index splits mid-tree */
        append_events(f, seq + 1, ROWS, NULL);
        seq += ROWS;
        assert_int_equal(cu_store_commit(f->s, &f->err), CU_OK);
    }
    assert_true(cu_store_audit_last(f->s, &seq, hash, sizeof hash, &f->err) == CU_OK);
    assert_true(cu_sq_pcache_stats(&b));
    CHECK(b.parked > a.parked, "no page was renumbered through the spare number");
    CHECK(b.skipped >= a.skipped + COMMITS, "%llu of %d commits skipped the walk",
          b.skipped - a.skipped, COMMITS);
    CHECK(b.passed == a.passed, "%llu truncations walked the cache", b.passed - a.passed);
    /* a transaction that grows the file, rolled back: its pages go */
    assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
    append_events(f, seq + 1, 2000, "rolled-back");
    cu_store_rollback(f->s);
    assert_true(cu_sq_pcache_stats(&c));
    CHECK(c.passed > b.passed, "the rollback's truncation did not reach the cache");
    int64_t last = 0;
    assert_int_equal(cu_store_audit_last(f->s, &last, hash, sizeof hash, &f->err), CU_OK);
    assert_int_equal(last, (int64_t)COMMITS * ROWS);
    /* the pages the rollback dropped are written afresh */
    assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
    append_events(f, last + 1, 2000, "kept");
    assert_int_equal(cu_store_commit(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_audit_last(f->s, &last, hash, sizeof hash, &f->err), CU_OK);
    assert_int_equal(last, (int64_t)COMMITS * ROWS + 2000);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM audit_events WHERE actor = 'kept'"),
                     2000);
    assert_int_equal(
        raw_int(f->db, "SELECT count(*) FROM audit_events WHERE actor = 'rolled-back'"), 0);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM pragma_integrity_check "
                                    "WHERE integrity_check <> 'ok'"),
                     0);
}

/* The store's location is where cu_store_open creates it; removing it takes
 * the log and index beside it too, and leaves other files alone. A location
 * that does not fit is refused, not cut short. */
static void test_location_exists_remove(void **state)
{
    fx *f = *state;
    char loc[PATH_MAX];
    assert_int_equal(cu_store_location(f->dir, NULL, loc, sizeof loc, &f->err), CU_OK);
    assert_string_equal(loc, f->db);
    assert_false(cu_store_exists(loc));
    char small[8];
    assert_int_equal(cu_store_location(f->dir, NULL, small, sizeof small, &f->err), CU_EINVAL);
    assert_int_equal(cu_store_open(loc, true, &f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_begin(f->s, &f->err), CU_OK);
    assert_int_equal(cu_store_controller_insert(f->s, CTL_A, "Trust A", 1, &f->err), CU_OK);
    assert_int_equal(cu_store_commit(f->s, &f->err), CU_OK);
    assert_true(cu_store_exists(loc));
    cu_store_close(f->s);
    f->s = NULL;
    char other[PATH_MAX + 16];
    snprintf(other, sizeof other, "%s/keep%s", f->dir, cu_store_copy_suffix());
    FILE *o = fopen(other, "w");
    assert_non_null(o);
    fclose(o);
    /* As a crash would leave them: the log and its index beside the store. */
    char wal[PATH_MAX + 8], shm[PATH_MAX + 8];
    snprintf(wal, sizeof wal, "%s-wal", loc);
    snprintf(shm, sizeof shm, "%s-shm", loc);
    FILE *w = fopen(wal, "a"), *m = fopen(shm, "a");
    assert_non_null(w);
    assert_non_null(m);
    fclose(w);
    fclose(m);
    cu_store_remove(loc);
    assert_false(cu_store_exists(loc));
    assert_int_not_equal(access(wal, F_OK), 0);
    assert_int_not_equal(access(shm, F_OK), 0);
    assert_int_equal(access(other, F_OK), 0);
}

/* ------------------------------------------------- the two backends ---- */

/* Both backends declare every statement with the same parameter and column
 * shapes and flags, since the families that run them are shared. Each
 * table is assembled without a connection. */
static void test_backends_declare_alike(void **state)
{
    (void)state;
    const cu_stmt_decl *a = cu_backend_sqlite.stmts(), *b = cu_backend_pg.stmts();
    assert_non_null(a);
    assert_non_null(b);
    for (int i = 0; i < ST_COUNT; i++) {
        CHECK(a[i].sql && *a[i].sql, "sqlite: statement %d has no SQL", i);
        CHECK(strspn(a[i].params, "itb") == strlen(a[i].params) &&
                  strspn(a[i].cols, "itb") == strlen(a[i].cols),
              "sqlite: statement %d has a shape letter other than i, t, b", i);
        CHECK(!(a[i].flags & CU_STMT_AUTH) || (a[i].flags & CU_STMT_WRITE),
              "sqlite: statement %d moves the auth epoch but writes nothing", i);
    }
    for (int i = 0; i < ST_COUNT; i++) {
        CHECK(b[i].sql && *b[i].sql, "postgresql: statement %d has no SQL", i);
        CHECK(strcmp(a[i].params, b[i].params) == 0, "statement %d: parameters %s / %s", i,
              a[i].params, b[i].params);
        CHECK(strcmp(a[i].cols, b[i].cols) == 0, "statement %d: columns %s / %s", i, a[i].cols,
              b[i].cols);
        CHECK(a[i].flags == b[i].flags, "statement %d: flags %u / %u", i, a[i].flags,
              b[i].flags);
    }
}

/* Declaration lists that declare an id twice, leave one out, name one out
 * of range or give one no SQL are refused. */
static void test_assemble_refuses_bad_lists(void **state)
{
    (void)state;
    static cu_stmt_decl out[ST_COUNT];
    /* Every id once, from one list: accepted. */
    static cu_stmt_entry all[ST_COUNT + 2];
    for (int i = 0; i < ST_COUNT; i++)
        all[i] = (cu_stmt_entry){(enum cu_stmt_id)i, {"SELECT 1", "", "i", 0}};
    all[ST_COUNT] = (cu_stmt_entry){ST_COUNT, {0}};
    const cu_stmt_entry *lists[] = {all};
    assert_int_equal(cu_stmt_assemble(lists, 1, out), CU_OK);
    assert_string_equal(out[ST_META_GET].sql, "SELECT 1");
    /* One id twice (the second list repeats one). */
    static const cu_stmt_entry again[] = {{ST_META_GET, {"SELECT 2", "", "", 0}},
                                          {ST_COUNT, {0}}};
    const cu_stmt_entry *twice[] = {all, again};
    assert_int_equal(cu_stmt_assemble(twice, 2, out), CU_EINTERNAL);
    /* One left out. */
    all[ST_AUDIT_LAST] = all[ST_COUNT - 1];
    assert_int_equal(cu_stmt_assemble(lists, 1, out), CU_EINTERNAL);
    all[ST_AUDIT_LAST] = (cu_stmt_entry){ST_AUDIT_LAST, {"SELECT 1", "", "i", 0}};
    assert_int_equal(cu_stmt_assemble(lists, 1, out), CU_OK);
    /* No SQL. */
    all[ST_ITEM_GET].decl.sql = NULL;
    assert_int_equal(cu_stmt_assemble(lists, 1, out), CU_EINTERNAL);
    all[ST_ITEM_GET].decl.sql = "SELECT 1";
    /* An id out of range, placed before the end of the list. */
    all[ST_COUNT] = (cu_stmt_entry){(enum cu_stmt_id)(ST_COUNT + 5), {"SELECT 1", "", "", 0}};
    all[ST_COUNT + 1] = (cu_stmt_entry){ST_COUNT, {0}};
    assert_int_equal(cu_stmt_assemble(lists, 1, out), CU_EINTERNAL);
}

/* A statement run with arguments its declaration does not take fails
 * (CU_EINTERNAL), binding nothing; so does an id out of range. */
static void test_run_checks_arguments(void **state)
{
    fx *f = *state;
    cu_buf b;
    cu_buf_init(&b, 0);
    assert_int_equal(cu_store_meta_put(f->s, "k", "v", 1, &f->err), CU_OK);
    /* ST_META_GET takes one argument. */
    assert_int_equal(cu_st_run(f->s, ST_META_GET, "reading", CU_ARGS(cu_vt("k"), cu_vt("x")),
                               NULL, NULL, NULL, &f->err),
                     CU_EINTERNAL);
    cu_err_clear(&f->err);
    assert_int_equal(cu_st_run(f->s, ST_META_PUT, "writing", CU_ARGS(cu_vt("k")), NULL, NULL,
                               NULL, &f->err),
                     CU_EINTERNAL);
    cu_err_clear(&f->err);
    /* Nothing was written by the refused put. */
    assert_int_equal(cu_store_meta_get(f->s, "k", &b, &f->err), CU_OK);
    assert_int_equal(b.len, 1);
    assert_memory_equal(b.data, "v", 1);
    cu_buf_release(&b);
}

/* A database URL is never shown with its password or its parameters. */
static void test_redact_location(void **state)
{
    (void)state;
    char out[256];
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"postgresql://alice:s3cret@db.example:5432/custos",
         "postgresql://alice:***@db.example:5432/custos"},
        {"postgres://alice:s3cret@db.example/custos?sslmode=require&password=hunter2",
         "postgres://alice:***@db.example/custos?***"},
        {"postgresql://alice@db.example/custos", "postgresql://alice@db.example/custos"},
        {"postgresql://db.example/custos?password=hunter2", "postgresql://db.example/custos?***"},
        {"postgresql://:s3cret@db.example/custos", "postgresql://:***@db.example/custos"},
        /* Unencoded '@', '/' and '?' in a password: all of it still goes. */
        {"postgresql://bob:pa@ss/wo?rd@db.example/custos", "postgresql://bob:***@db.example/custos"},
        {"/var/lib/custos/custos.db", "/var/lib/custos/custos.db"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cu_store_redact(cases[i].in, out, sizeof out);
        CHECK(strcmp(out, cases[i].want) == 0, "redact case %zu: got %s", i, out);
        CHECK(!strstr(out, "s3cret") && !strstr(out, "hunter2") && !strstr(out, "pa@ss") &&
                  !strstr(out, "wo?rd"),
              "redact case %zu leaks a password", i);
    }
    /* Truncated to fit, never overrunning. */
    char small[12];
    cu_store_redact("postgresql://alice:s3cret@db.example/custos", small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_null(strstr(small, "s3cret"));
    cu_store_redact(NULL, out, sizeof out);
    assert_string_equal(out, "");
}

/* A database URL names a PostgreSQL store; anything else given as the
 * database is refused; the placeholder backend of a build without it
 * refuses to open, saying so, without the URL's password. */
static void test_database_location(void **state)
{
    fx *f = *state;
    char loc[PATH_MAX];
    const char *url = "postgresql://alice:s3cret@127.0.0.1:1/custos";
    assert_int_equal(cu_store_location(f->dir, url, loc, sizeof loc, &f->err), CU_OK);
    assert_string_equal(loc, url);
    assert_true(cu_store_is_database_url(loc));
    assert_false(cu_store_is_database_url(f->db));
    assert_int_equal(cu_store_location(f->dir, "mysql://x/y", loc, sizeof loc, &f->err),
                     CU_EINVAL);
    cu_err_clear(&f->err);
    assert_int_equal(cu_store_location(f->dir, "", loc, sizeof loc, &f->err), CU_OK);
    assert_string_equal(loc, f->db);
    if (cu_backend_pg.stmts()[0].sql)
        return; /* a build with the PostgreSQL backend */
    assert_int_equal(cu_store_open(url, false, &f->s, &f->err), CU_EUNAVAILABLE);
    assert_null(f->s);
    assert_null(strstr(f->err.msg, "s3cret"));
    assert_false(cu_store_exists(url));
}

int main(void)
{
    /* The contract: every backend keeps it (CUSTOS_TEST_DATABASE names a
     * PostgreSQL database; unset, a SQLite file). */
    const struct CMUnitTest contract[] = {
        cmocka_unit_test(test_schema_migrations),
        cmocka_unit_test_setup_teardown(test_transactions, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_savepoints, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_meta_keyring, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_controllers, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_subjects, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_items, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_identifiers, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_audit_rows, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_head_and_checkpoints, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_disclosures, setup_store, teardown),
        cmocka_unit_test(test_backends_declare_alike),
        cmocka_unit_test(test_assemble_refuses_bad_lists),
        cmocka_unit_test_setup_teardown(test_run_checks_arguments, setup_store, teardown),
        cmocka_unit_test(test_redact_location),
        cmocka_unit_test_setup_teardown(test_database_location, setup_dir, teardown),
    };
    /* The SQLite backend's own behaviour: its file, PRAGMAs and WAL. */
    const struct CMUnitTest sqlite_file[] = {
        cmocka_unit_test_setup_teardown(test_create_and_open, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_location_exists_remove, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_schema_version_table, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_newer_version_refused, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_old_store_migrates, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_checks_migration_keeps_rows, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_database_refused, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_file_refused, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_wal_checkpoint, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_wal_checkpoint_background, setup_store, teardown),
        cmocka_unit_test_setup_teardown(test_page_cache_truncation, setup_store, teardown),
    };
    /* One group, so the output is one TAP plan: the contract's tests, then on
     * SQLite its own. */
    size_t nc = sizeof contract / sizeof contract[0];
    size_t ns = test_database() ? 0 : sizeof sqlite_file / sizeof sqlite_file[0];
    struct CMUnitTest all[sizeof contract / sizeof contract[0] +
                          sizeof sqlite_file / sizeof sqlite_file[0]];
    memcpy(all, contract, sizeof contract);
    memcpy(all + nc, sqlite_file, ns * sizeof sqlite_file[0]);
    return _cmocka_run_group_tests(test_database() ? "store" : "store (SQLite)", all, nc + ns,
                                   NULL, NULL);
}
