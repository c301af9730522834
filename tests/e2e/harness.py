"""Helpers for the custos end-to-end tests: run the real binary, inspect the
store (with sqlite3, or with pgclient when the store lives in PostgreSQL), and
report in TAP. Python 3 standard library only."""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time

import pgclient


class Fail(Exception):
    """A failed assertion; its message becomes the TAP diagnostic."""


def check(cond, msg, *details):
    if not cond:
        raise Fail("\n".join([msg] + [str(d) for d in details]))


def eq(got, want, what):
    if got != want:
        raise Fail("%s: got %r, want %r" % (what, got, want))


SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer", "MemorySanitizer")


# ---------------------------------------------------------------- NHS numbers

WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def nhs_check_digit(nine):
    """The Modulus 11 check digit for 9 digits, or None when it would be 10."""
    total = sum(int(d) * w for d, w in zip(nine, WEIGHTS))
    check_ = 11 - total % 11
    if check_ == 11:
        return 0
    if check_ == 10:
        return None
    return check_


def nhs_valid(prefix9):
    """A valid 10-digit NHS number starting with the 9 digits given."""
    d = nhs_check_digit(prefix9)
    assert d is not None, prefix9
    return prefix9 + str(d)


def nhs_with_check_10():
    """A 10-digit string in the 999 range whose check digit would be 10."""
    for n in range(999000000, 999999999):
        s = str(n)
        if nhs_check_digit(s) is None:
            return s + "0"
    raise AssertionError("no check-10 number")


def nhs_display(n):
    return "%s %s %s" % (n[:3], n[3:6], n[6:])


# ---------------------------------------------------------------- the binary

class Result:
    def __init__(self, args, rc, out, err, elapsed):
        self.args, self.rc, self.out_b, self.err_b, self.elapsed = args, rc, out, err, elapsed
        self.out = out.decode("utf-8", "replace")
        self.err = err.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise Fail("stdout of %s is not JSON (%s): %r" % (self.cmd(), e, self.out[:500]))

    def json_lines(self):
        out = []
        for line in self.out.splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError as e:
                    raise Fail("a line of %s is not JSON (%s): %r" % (self.cmd(), e, line))
        return out

    def cmd(self):
        return "custos " + " ".join(self.args)

    def describe(self):
        return "%s -> exit %d\nstdout: %s\nstderr: %s" % (
            self.cmd(), self.rc, self.out[:2000].rstrip(), self.err[:2000].rstrip())


class Custos:
    """The binary, one store directory and its environment."""

    def __init__(self, binary, store, key_file=None, use_env_store=False, database=None):
        self.binary = binary
        self.store = store
        self.key_file = key_file
        self.use_env_store = use_env_store
        # A PgDb: the store's tables live in that PostgreSQL database (the
        # binary gets its URL in CUSTOS_DATABASE); None: in STORE/custos.db.
        self.database = database
        self.calls = 0
        self.seconds = 0.0

    @property
    def db(self):
        """What sql(), sql_exec() and dump() take: the SQLite file's path, or
        the PgDb of the store's database."""
        if self.database is not None:
            return self.database
        return os.path.join(self.store, "custos.db")

    @property
    def master_key(self):
        return self.key_file or os.path.join(self.store, "master.key")

    def env(self, extra=None, drop_key=False):
        e = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "HOME": os.environ.get("HOME", "/tmp"),
            "ASAN_OPTIONS": os.environ.get(
                "ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=86"),
            "UBSAN_OPTIONS": os.environ.get(
                "UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=87"),
        }
        for k in ("USER", "LOGNAME"):
            if k in os.environ:
                e[k] = os.environ[k]
        if self.use_env_store:
            e["CUSTOS_STORE"] = self.store
        else:
            # A store named only by --store: make sure a stray variable of the
            # caller's cannot point the binary elsewhere.
            e["CUSTOS_STORE"] = os.path.join(self.store, "does-not-exist-env-store")
        if self.key_file and not drop_key:
            e["CUSTOS_MASTER_KEY_FILE"] = self.key_file
        if self.database is not None:
            e["CUSTOS_DATABASE"] = self.database.url
        if extra:
            for k, v in extra.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        return e

    def run(self, *args, stdin=b"", env=None, store=True, timeout=60):
        if isinstance(stdin, str):
            stdin = stdin.encode("utf-8")
        argv = [self.binary]
        if store and not self.use_env_store:
            argv += ["--store", self.store]
        argv += list(args)
        if env is not None and self.database is not None and "CUSTOS_DATABASE" not in env:
            # An environment of the case's own still names the store's
            # database, as --store names its directory.
            env = dict(env, CUSTOS_DATABASE=self.database.url)
        t0 = time.monotonic()
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env if env is not None else self.env(), timeout=timeout)
        dt = time.monotonic() - t0
        self.calls += 1
        self.seconds += dt
        r = Result(list(argv[1:]), p.returncode, p.stdout, p.stderr, dt)
        for mark in SANITIZER_MARKS:
            if mark in r.err:
                raise Fail("sanitizer report from " + r.describe())
        return r

    # -- assertions about one run

    def ok(self, *args, stdin=b"", env=None, store=True):
        r = self.run(*args, stdin=stdin, env=env, store=store)
        if r.rc != 0:
            raise Fail("expected success from " + r.describe())
        check(r.err == "", "a successful command wrote to stderr", r.describe())
        return r

    def okj(self, *args, stdin=b"", env=None):
        return self.ok("--json", *args, stdin=stdin, env=env).json()

    def fails(self, rc, *args, stdin=b"", env=None, store=True, says=(), never=()):
        r = self.run(*args, stdin=stdin, env=env, store=store)
        expect_error(r, rc, says=says, never=never)
        return r


def expect_error(r, rc, says=(), never=()):
    if r.rc != rc:
        raise Fail("expected exit %d from %s" % (rc, r.describe()))
    lines = r.err.split("\n")
    check(len(lines) == 2 and lines[1] == "" and lines[0].startswith("custos: "),
          "stderr is not exactly one line starting 'custos: '", r.describe())
    low = r.err.lower()
    for s in ([says] if isinstance(says, str) else says):
        check(s.lower() in low, "error does not say %r" % s, r.describe())
    for s in ([never] if isinstance(never, str) else never):
        check(s.lower() not in low and s.lower() not in r.out.lower(),
              "error output leaks %r" % s, r.describe())
    return r


# ---------------------------------------------------------------- the store
#
# A store's tables are in a SQLite file (db is its path, a str) or in a
# PostgreSQL database (db is a PgDb). The helpers below take either and give
# rows as sqlite3 does: tuples, integers as int, blobs as bytes, NULL as None.
# A case that opens db as a file, or speaks SQLite's own SQL (PRAGMA,
# sqlite_master, rowid), is about SQLite and is marked @sqlite_only.

class PgDb:
    """One PostgreSQL database holding a store's tables."""

    def __init__(self, url):
        self.url = url
        self.name = pgclient.parse_url(url)[3]

    def __repr__(self):
        return "PgDb(%r)" % self.url

    def __eq__(self, other):
        return isinstance(other, PgDb) and other.url == self.url

    def __hash__(self):
        return hash(self.url)


def is_pg(db):
    return isinstance(db, PgDb)


def connect(db):
    if is_pg(db):
        return pgclient.Connection(db.url)
    c = sqlite3.connect(db, timeout=10, isolation_level=None)
    return c


def sql(db, query, params=()):
    c = connect(db)
    try:
        return c.execute(query, params).fetchall()
    finally:
        c.close()


def sql_exec(db, *statements):
    """Runs (query, params) pairs in one transaction."""
    c = connect(db)
    try:
        c.execute("BEGIN" if is_pg(db) else "BEGIN IMMEDIATE")
        try:
            for st in statements:
                if isinstance(st, str):
                    c.execute(st)
                else:
                    c.execute(st[0], st[1])
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
    finally:
        c.close()


def columns(db, table):
    """The names of a table's columns, in order."""
    if is_pg(db):
        return [r[0] for r in sql(db, "SELECT column_name FROM information_schema.columns "
                                      "WHERE table_schema = current_schema() AND table_name = ? "
                                      "ORDER BY ordinal_position", (table,))]
    return [r[1] for r in sql(db, 'PRAGMA table_info("%s")' % table.replace('"', '""'))]


def dump(db):
    """A logical dump: the schema, then every table's rows sorted."""
    if is_pg(db):
        return dump_pg(db)
    c = connect(db)
    try:
        out = []
        tables = c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                           "ORDER BY rowid").fetchall()
        out.append(("schema", tuple(tuple(r) for r in c.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"))))
        out.append(("user_version", c.execute("PRAGMA user_version").fetchone()[0]))
        for name, _ in tables:
            rows = c.execute('SELECT * FROM "%s"' % name.replace('"', '""')).fetchall()
            out.append((name, sorted(rows, key=repr)))
        return out
    finally:
        c.close()


def dump_pg(db):
    """dump() of a PostgreSQL database: its tables (information_schema, by
    name), their columns and indexes, then every table's rows sorted."""
    c = connect(db)
    try:
        tables = [r[0] for r in c.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")]
        cols = c.execute(
            "SELECT table_name, ordinal_position, column_name, data_type, is_nullable, "
            "column_default FROM information_schema.columns WHERE table_schema = "
            "current_schema() ORDER BY table_name, ordinal_position").fetchall()
        idx = c.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE "
                        "schemaname = current_schema() ORDER BY tablename, indexname").fetchall()
        out = [("schema", tuple(cols) + tuple(idx))]
        # change_counter is the backend's own bookkeeping (every committed
        # write moves it), as SQLite's data_version is: not the store's data.
        for name in (t for t in tables if t != "change_counter"):
            rows = c.execute('SELECT * FROM "%s"' % name.replace('"', '""')).fetchall()
            out.append((name, sorted(rows, key=repr)))
        return out
    finally:
        c.close()


def db_bytes(db):
    """What a reader of the stored data sees: the SQLite file's bytes, or on
    PostgreSQL every value of every table (text as UTF-8, bytea raw)."""
    if not is_pg(db):
        return read_bytes(db)
    out = []
    for name, rows in dump_pg(db)[1:]:
        for row in rows:
            for v in row:
                if isinstance(v, bytes):
                    out.append(v)
                elif v is not None:
                    out.append(str(v).encode("utf-8"))
    return b"\n".join(out)


# -- databases of the PostgreSQL pass (run.py --database-admin URL)

def create_database(admin_url, name, template=None):
    """CREATE DATABASE name (a copy of template when given); its PgDb."""
    for n in (name, template):
        check(n is None or (n.replace("_", "").isalnum() and n.islower()),
              "bad database name %r" % n)
    with pgclient.Connection(admin_url) as c:
        c.execute('CREATE DATABASE "%s"%s' % (name, ' TEMPLATE "%s"' % template
                                               if template else ""))
    return PgDb(pgclient.with_database(admin_url, name))


def drop_database(admin_url, name):
    with pgclient.Connection(admin_url) as c:
        c.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def diff_lines(a, b):
    """How two dumps differ, one line per differing table (or "schema
    differs"), each naming at most three removed and three added rows."""
    da, db_ = dict((k, v) for k, v in a), dict((k, v) for k, v in b)
    lines = []
    for k in sorted(set(da) | set(db_)):
        if da.get(k) != db_.get(k):
            va, vb = da.get(k), db_.get(k)
            if isinstance(va, list) and isinstance(vb, list):
                sa, sb = set(map(repr, va)), set(map(repr, vb))
                lines.append("table %s: %d rows -> %d rows; removed %s; added %s" % (
                    k, len(va), len(vb), sorted(sa - sb)[:3], sorted(sb - sa)[:3]))
            else:
                lines.append("%s differs" % k)
    return lines


def diff_dumps(a, b):
    """A short description of how two dumps differ (for a failure message:
    cut at 3,000 characters, so a check of what changed uses diff_lines)."""
    return "\n".join(diff_lines(a, b))[:3000]


def changed_besides_audit(before, after):
    """How two dumps differ outside the audit trail (every command is audited)
    and the write counter the audit event moves."""
    return [line for line in diff_lines(before, after)
            if not line.startswith(("table audit", "table change_counter"))]


def snapshot(cx):
    return (dump(cx.db), read_bytes(cx.master_key))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def audit_count(cx):
    return sql(cx.db, "SELECT count(*) FROM audit_events")[0][0]


def store_files(store):
    """Every file in the store directory except the master key."""
    out = []
    for root, _, files in os.walk(store):
        for f in files:
            if f != "master.key":
                out.append(os.path.join(root, f))
    return sorted(out)


# ---------------------------------------------------------------- temp dirs

class TempDirs:
    def __init__(self):
        self.dirs = []

    def make(self, prefix="custos-e2e-"):
        d = tempfile.mkdtemp(prefix=prefix)
        self.dirs.append(d)
        return d

    def cleanup(self):
        for d in self.dirs:
            for root, dirs, files in os.walk(d):
                for name in dirs + files:
                    try:
                        os.chmod(os.path.join(root, name), 0o700)
                    except OSError:
                        pass
            shutil.rmtree(d, ignore_errors=True)
        self.dirs = []


def sqlite_only(why):
    """Marks a case that is about SQLite itself (its file, PRAGMAs, the WAL):
    the PostgreSQL pass does not run it."""
    def mark(fn):
        fn.sqlite_only = why
        return fn
    return mark


def pg_only(why):
    """Marks a case that needs the PostgreSQL pass (ctx.database_admin): the
    SQLite pass does not run it."""
    def mark(fn):
        fn.pg_only = why
        return fn
    return mark


def alone(why):
    """Marks a case that asserts a time bound: run.py --jobs runs it by
    itself, after the others. (A module's ALONE = "why" marks all its cases.)"""
    def mark(fn):
        fn.alone = why
        return fn
    return mark


def registry():
    """A case list and its decorator: CASES, case = registry(); then
    @case("name") on each test function (and @sqlite_only("why") when the
    case is about the SQLite file)."""
    cases = []

    def case(name):
        def reg(fn):
            cases.append((name, fn))
            return fn
        return reg
    return cases, case
