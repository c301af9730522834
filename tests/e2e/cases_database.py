"""Choosing the store's backend: --database and CUSTOS_DATABASE name a
PostgreSQL database; one that cannot be reached is refused in one line,
never showing the URL's password, and leaves nothing behind. These cases
start from a SQLite store (or none) and name a URL where no server listens:
the PostgreSQL pass does not run them."""

import os

from harness import registry, check, eq, sqlite_only
from fixtures import new_store

CASES, case = registry()

# Port 1 on loopback: nothing listens there.
URL = "postgresql://alice:s3cret-pw@127.0.0.1:1/custos?sslmode=disable&password=hunter2"


def no_secret():
    return ("s3cret-pw", "hunter2")


@sqlite_only("a URL where no server listens, beside a SQLite store")
@case("database: init --database URL of a database that cannot be reached fails in one line, "
      "shows no password, leaves no key and no SQLite file")
def t_init_refused(ctx):
    cx = ctx.custos()
    r = cx.fails(3, "--database", URL, "init", says="postgresql", never=no_secret())
    check(not os.path.exists(cx.master_key), "init left a master key", r.describe())
    check(not os.path.exists(cx.db), "init made a SQLite file though a database was named")
    # The same through the environment, and as an option after the command.
    env = cx.env({"CUSTOS_DATABASE": URL})
    cx.fails(3, "init", env=env, says="postgresql", never=no_secret())
    cx.fails(3, "init", "--database", URL, says="postgresql", never=no_secret())
    check(not os.path.exists(cx.db), "init made a SQLite file")


@sqlite_only("it checks the SQLite store's file is untouched")
@case("database: anything but a postgresql:// or postgres:// URL is refused before the "
      "store is touched; an empty CUSTOS_DATABASE means the SQLite file")
def t_bad_url(ctx):
    cx = new_store(ctx)
    before = open(cx.db, "rb").read()
    for bad in ("mysql://alice:s3cret-pw@db/custos", "/var/lib/custos.db", "postgresql:/x",
                "sqlite://x"):
        cx.fails(1, "--database", bad, "status", says="postgresql://", never=no_secret())
    eq(open(cx.db, "rb").read(), before, "the SQLite store after refused URLs")
    # An empty value is no database: the directory's SQLite store serves.
    j = cx.okj("status", env=cx.env({"CUSTOS_DATABASE": ""}))
    eq(j["store"], cx.store, "status with an empty CUSTOS_DATABASE")


@sqlite_only("it backs up a SQLite store")
@case("database: an existing SQLite store is not opened when a database is named, and "
      "restore refuses a database (a backup holds a SQLite store)")
def t_database_not_file(ctx):
    cx = new_store(ctx)
    cx.fails(1, "--database", URL, "status", never=no_secret())
    backup = os.path.join(ctx.tmp.make(), "b.backup")
    cx.okj("backup", backup)
    target = os.path.join(ctx.tmp.make(), "restored")
    rx = ctx.custos(store=target)
    rx.fails(1, "--database", URL, "restore", "--key", cx.master_key, "--without-ledger", backup,
             says="without --database", never=no_secret())
    check(not os.path.exists(os.path.join(target, "custos.db")), "restore wrote a store")
    rx.fails(1, "restore", "--key", cx.master_key, "--without-ledger", backup,
             env=rx.env({"CUSTOS_DATABASE": URL}), says="without --database", never=no_secret())
