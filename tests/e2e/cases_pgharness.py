"""The harness's PostgreSQL side, against the tests' own cluster: the helpers
cases use to read and tamper with a store (sql, sql_exec, sql_value, dump,
diff_dumps, connect, Custos.db) must give on PostgreSQL what they give on
SQLite, and every store must get its own database. Run in the PostgreSQL
pass only (run.py --database-admin URL)."""

import os

import pgclient
from harness import (registry, check, eq, Fail, sql, sql_exec, dump, diff_dumps, connect,
                     columns, db_bytes, is_pg, PgDb, pg_only)
from fixtures import sql_value

CASES, case = registry()

WHY = "the harness's own PostgreSQL client"

# Values as sqlite3 returns them; each must come back from PostgreSQL equal and
# of the same type.
INTS = [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 62 + 12345, -(2 ** 63), 2 ** 63 - 1]
TEXTS = ["", "plain", "it's", "''", "'; DROP TABLE t; --", 'a "quoted" word', "line1\nline2\r\n",
         "tab\there", "back\\slash \\x00 \\\\", "question ? mark ?? and $1 $2", "é ñ ß 🩺 日本",
         "\\x41", "NULL", "%s %d", "semi;colon", " leading and trailing "]
BYTES = [b"", bytes(range(256)), b"\x00", b"\x00\x00\xff", b"\\x41", "é".encode(), b"'", b"?"]


def both(ctx):
    """A fresh SQLite file and a fresh PostgreSQL database."""
    return [os.path.join(ctx.tmp.make(), "t.db"), ctx.database()]


def make_table(db):
    blob = "bytea" if is_pg(db) else "BLOB"
    big = "bigint" if is_pg(db) else "INTEGER"
    sql_exec(db, "CREATE TABLE t (k %s PRIMARY KEY, i %s, s TEXT, b %s)" % (big, big, blob))


@case("pg harness: ints, text with quotes, newlines and placeholders, bytes of every value and "
      "NULL round-trip through sql/sql_exec with the same values and types as sqlite3 gives")
@pg_only(WHY)
def t_roundtrip(ctx):
    results = []
    for db in both(ctx):
        make_table(db)
        rows = []
        k = 0
        for v in INTS:
            k += 1
            rows.append((k, v, None, None))
        for v in TEXTS:
            k += 1
            rows.append((k, None, v, None))
        for v in BYTES:
            k += 1
            rows.append((k, None, None, v))
        rows.append((k + 1, None, None, None))
        sql_exec(db, *[("INSERT INTO t (k, i, s, b) VALUES (?, ?, ?, ?)", r) for r in rows])
        got = sql(db, "SELECT k, i, s, b FROM t ORDER BY k")
        eq(got, rows, "rows read back from %r" % (db,))
        for g in got:
            for v in g:
                check(v is None or type(v) in (int, str, bytes),
                      "a value of type %s from %r" % (type(v).__name__, db))
        # parameters in WHERE, a `?` inside a literal is not a placeholder
        eq(sql(db, "SELECT k FROM t WHERE s = ? AND '?' = '?'", ("it's",)), [(3 + len(INTS),)],
           "a text parameter in WHERE")
        eq(sql(db, "SELECT count(*) FROM t WHERE b = ?", (bytes(range(256)),)), [(1,)],
           "a bytes parameter in WHERE")
        eq(sql_value(db, "SELECT i FROM t WHERE k = ?", (7,)), -(2 ** 63), "sql_value")
        eq(sql(db, "SELECT length(b) FROM t WHERE b = ?", (bytes(range(256)),)), [(256,)],
           "length() of a blob")
        eq(sql(db, "SELECT count(*) FROM t WHERE i IS NULL AND s IS NULL AND b IS NULL"),
           [(1,)], "a row of NULLs")
        results.append(got)
    eq(results[1], results[0], "PostgreSQL against SQLite")


@case("pg harness: sql_exec is one transaction (a failing statement leaves nothing written); "
      "errors surface; connect() gives a session that sees its own writes")
@pg_only(WHY)
def t_transactions(ctx):
    db = ctx.database()
    make_table(db)
    sql_exec(db, ("INSERT INTO t (k, i) VALUES (?, ?)", (1, 10)))
    try:
        sql_exec(db, ("UPDATE t SET i = ? WHERE k = ?", (11, 1)),
                 ("INSERT INTO t (k, i) VALUES (?, ?)", (2, 20)),
                 ("INSERT INTO t (k, i) VALUES (?, ?)", (2, 21)))   # duplicate key
    except pgclient.PgError as e:
        check(e.code == "23505", "a duplicate key's SQLSTATE", e)
    else:
        raise Fail("a duplicate key did not fail")
    eq(sql(db, "SELECT k, i FROM t ORDER BY k"), [(1, 10)], "rows after a failed transaction")
    for bad in ("SELECT nope FROM t", "SELEC 1"):
        try:
            sql(db, bad)
        except pgclient.PgError:
            pass
        else:
            raise Fail("%r did not fail" % bad)
    try:
        sql(db, "SELECT ? + ?", (1,))
    except pgclient.PgError as e:
        check("placeholders" in str(e), "a wrong parameter count's error", e)
    else:
        raise Fail("a wrong parameter count did not fail")
    c = connect(db)
    try:
        c.execute("BEGIN")
        c.execute("UPDATE t SET i = ? WHERE k = ?", (12, 1))
        eq(c.execute("SELECT i FROM t").fetchall(), [(12,)], "own write inside a transaction")
        eq(sql(db, "SELECT i FROM t"), [(10,)], "another session during the transaction")
        c.execute("COMMIT")
    finally:
        c.close()
    eq(sql(db, "SELECT i FROM t"), [(12,)], "after COMMIT")
    eq(columns(db, "t"), ["k", "i", "s", "b"], "columns()")
    data = db_bytes(db)
    check(b"12" in data, "db_bytes() lacks a stored value", data)


@case("pg harness: dump lists every table with its rows sorted (insertion order and unrelated "
      "databases do not matter); diff_dumps names the changed table and row; schema changes "
      "show in the dump")
@pg_only(WHY)
def t_dump(ctx):
    a, b = ctx.database(), ctx.database()
    for db in (a, b):
        sql_exec(db, "CREATE TABLE zeta (id bigint PRIMARY KEY, v bytea)",
                 "CREATE TABLE alpha (name text, n bigint)",
                 "CREATE INDEX alpha_n ON alpha(n)")
    sql_exec(a, ("INSERT INTO alpha VALUES (?, ?)", ("x", 1)),
             ("INSERT INTO alpha VALUES (?, ?)", ("y", 2)),
             ("INSERT INTO zeta VALUES (?, ?)", (1, b"\x01\x02")))
    sql_exec(b, ("INSERT INTO zeta VALUES (?, ?)", (1, b"\x01\x02")),
             ("INSERT INTO alpha VALUES (?, ?)", ("y", 2)),
             ("INSERT INTO alpha VALUES (?, ?)", ("x", 1)))
    da, db_ = dump(a), dump(b)
    eq([n for n, _ in da], ["schema", "alpha", "zeta"], "dump's tables")
    eq(da, db_, "dumps of the same rows inserted in another order")
    eq(dict(da)["alpha"], [("x", 1), ("y", 2)], "alpha's rows")
    check(any("alpha_n" in repr(r) for r in dict(da)["schema"]), "the index is not in the schema",
          dict(da)["schema"])
    eq(diff_dumps(da, db_), "", "diff of equal dumps")
    sql_exec(b, ("UPDATE alpha SET n = ? WHERE name = ?", (3, "y")))
    d = diff_dumps(da, dump(b))
    check("table alpha: 2 rows -> 2 rows" in d and "('y', 2)" in d and "('y', 3)" in d,
          "diff_dumps of a changed row", d)
    check("zeta" not in d, "diff_dumps names an unchanged table", d)
    sql_exec(b, "ALTER TABLE zeta ADD COLUMN extra text")
    check("schema differs" in diff_dumps(da, dump(b)), "a new column is not in the diff")
    sql_exec(b, "DROP TABLE zeta")
    check("zeta" in diff_dumps(da, dump(b)), "a dropped table is not in the diff")


@case("pg harness: every store gets its own fresh database, named to the binary in "
      "CUSTOS_DATABASE; copy_store copies it; the case's databases are dropped afterwards")
@pg_only(WHY)
def t_databases(ctx):
    cx, cy = ctx.custos(), ctx.custos()
    check(is_pg(cx.db) and isinstance(cx.db, PgDb), "Custos.db is not a PostgreSQL database",
          cx.db)
    check(cx.db != cy.db, "two stores share a database", cx.db)
    eq(cx.env()["CUSTOS_DATABASE"], cx.db.url, "CUSTOS_DATABASE of the binary")
    eq(cx.env({"LC_ALL": "C"})["CUSTOS_DATABASE"], cx.db.url, "CUSTOS_DATABASE with extras")
    check(cx.db.name.startswith("custos_e2e_"), "database name", cx.db.name)
    eq(sql(cx.db, "SELECT current_database()"), [(cx.db.name,)], "connected to")
    eq(sql(cx.db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                  "current_schema()"), [(0,)], "tables of a fresh database")
    sql_exec(cx.db, "CREATE TABLE meta (key text PRIMARY KEY, value bytea)",
             ("INSERT INTO meta VALUES (?, ?)", ("k", b"\xff\x00")))
    os.makedirs(cx.store, mode=0o700)
    cp = ctx.copy_store(cx)
    check(cp.db != cx.db, "the copy shares the database")
    eq(dump(cp.db), dump(cx.db), "the copied database")
    sql_exec(cp.db, "DELETE FROM meta")
    eq(sql(cx.db, "SELECT value FROM meta"), [(b"\xff\x00",)], "the original after the copy's "
                                                                 "change")
    names = [cx.db.name, cy.db.name, cp.db.name]
    admin = ctx.database_admin

    def exist():
        return sql(PgDb(admin), "SELECT datname FROM pg_database WHERE datname IN (?, ?, ?) "
                                "ORDER BY datname", tuple(names))
    eq(len(exist()), 3, "databases during the case")
    # a leftover session (a server still running) does not stop the drop
    hold = connect(cx.db)
    try:
        ctx.cleanup()
    finally:
        try:
            hold.close()
        except OSError:
            pass
    eq(exist(), [], "databases after the case")
