/*
 * raw_sqlite.h — SQL on a unit test's store file through a connection of
 * its own, for the tests that read what the store wrote or tamper with it
 * (SQLite stores only). Include after cmocka.h and vault_fixture.h (CHECK).
 *
 * raw_int(f, sql) and raw_exec(f, sql) take a fixture struct with the
 * database's path in db (vault_fixture.h).
 */
#ifndef CUSTOS_TESTS_RAW_SQLITE_H
#define CUSTOS_TESTS_RAW_SQLITE_H

#include <sqlite3.h>
#include <stdint.h>

/* The first column of the first row sql gives; -1 when it gives none. */
static inline int64_t raw_sqlite_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Runs sql, failing the test when it fails. */
static inline void raw_sqlite_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
          sqlite3_errmsg(db));
    sqlite3_close(db);
}

#define raw_int(f, sql) raw_sqlite_int((f)->db, (sql))
#define raw_exec(f, sql) raw_sqlite_exec((f)->db, (sql))

#endif
