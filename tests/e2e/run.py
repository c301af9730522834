#!/usr/bin/env python3
"""End-to-end tests for custos: drive the real binary as a user would.

    python3 tests/e2e/run.py --binary build-asan/custos [--filter WORD] [--verbose]
                             [--database-admin URL] [--jobs N]

Prints TAP: "1..N", then "ok N - ..." or "not ok N - ..." with "# ..."
diagnostics. Exit status 0 only if every case passed. Every case runs in its
own temporary store directory; nothing touches ./var.

With --database-admin postgresql://USER@HOST:PORT/DB (a server that trusts
the tests, such as tests/pg/cluster.py makes) every store's tables live in
PostgreSQL instead: each store gets its own fresh database, custos_e2e_...,
named to the binary in CUSTOS_DATABASE and dropped after the case; cases
marked @sqlite_only are not run (and @pg_only ones only then).

--jobs N runs N cases at a time, then, one by one, the cases that assert a
time bound (marked @alone, or a module's ALONE).
"""

import argparse
import os
import shutil
import sys
import time
import traceback

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import pgclient  # noqa: E402
from harness import Custos, Fail, TempDirs  # noqa: E402
import cases_basic  # noqa: E402
import cases_security  # noqa: E402
import cases_input  # noqa: E402
import cases_audit  # noqa: E402
import cases_http_authz  # noqa: E402
import cases_http_routes  # noqa: E402
import cases_http_input  # noqa: E402
import cases_http_session  # noqa: E402
import cases_http_misc  # noqa: E402
import cases_openapi  # noqa: E402
import cases_http_edges  # noqa: E402
import cases_policy  # noqa: E402
import cases_http_policy  # noqa: E402
import cases_http_requests  # noqa: E402
import cases_erasure  # noqa: E402
import cases_sar  # noqa: E402
import cases_trail  # noqa: E402
import cases_http_framing  # noqa: E402
import cases_http_slow  # noqa: E402
import cases_http_pseudonym  # noqa: E402
import cases_http_breakglass  # noqa: E402
import cases_rotate  # noqa: E402
import cases_items_page  # noqa: E402
import cases_rows_subjects  # noqa: E402
import cases_rows_staff  # noqa: E402
import cases_deploy  # noqa: E402
import cases_logs  # noqa: E402
import cases_disk_full  # noqa: E402
import cases_defects  # noqa: E402
import cases_database  # noqa: E402
import cases_pgharness  # noqa: E402
import cases_nodes  # noqa: E402
import cases_faults  # noqa: E402
import cases_tasks  # noqa: E402
import cases_retry  # noqa: E402
import cases_questionnaire  # noqa: E402
import cases_pages  # noqa: E402
import cases_responses  # noqa: E402
import cases_qform  # noqa: E402
import cases_staff_pages  # noqa: E402
import cases_signout  # noqa: E402
import cases_dpo_pages  # noqa: E402
import cases_portal  # noqa: E402
import cases_portal_files  # noqa: E402
import cases_cookies  # noqa: E402
import cases_portal_rights  # noqa: E402
import cases_clinician_pages  # noqa: E402
import cases_audit_pages  # noqa: E402
import cases_pathways  # noqa: E402
import cases_web  # noqa: E402
import cases_browser  # noqa: E402
import cases_browser_staff  # noqa: E402
import cases_browser_portal  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True, help="path to the custos binary")
    ap.add_argument("--filter", default="", help="run only cases whose name contains this")
    ap.add_argument("--verbose", action="store_true", help="print timings per case")
    ap.add_argument("--database-admin", metavar="URL", default=None,
                    help="keep every store in a fresh PostgreSQL database made through URL")
    ap.add_argument("--jobs", type=int, default=1, help="cases run at the same time")
    args = ap.parse_args()
    if args.jobs < 1:
        ap.error("--jobs is at least 1")
    binary = os.path.abspath(args.binary)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print("1..0 # SKIP no executable binary at %s" % binary)
        print("# custos binary not found: %s" % binary, file=sys.stderr)
        return 2

    cases = []
    for mod in (cases_basic, cases_security, cases_input, cases_audit,
                cases_http_authz, cases_http_routes, cases_http_input, cases_http_session,
                cases_http_misc, cases_openapi,
                cases_http_edges, cases_policy, cases_http_policy, cases_http_requests,
                cases_erasure, cases_sar,
                cases_trail,
                cases_http_framing,
                cases_http_slow,
                cases_http_pseudonym,
                cases_http_breakglass,
                cases_rotate,
                cases_items_page,
                cases_rows_subjects,
                cases_rows_staff,
                cases_deploy,
                cases_logs,
                cases_nodes,
                cases_disk_full,
                cases_defects,
                cases_database,
                cases_pgharness,
                cases_faults,
                cases_tasks,
                cases_retry,
                cases_questionnaire,
                cases_pages,
                cases_responses,
                cases_qform,
                cases_staff_pages,
                cases_signout,
                cases_dpo_pages,
                cases_portal,
                cases_portal_files,
                cases_cookies,
                cases_portal_rights,
                cases_staff_pages, cases_clinician_pages,
                cases_audit_pages,
                cases_pathways,
                cases_web,
                cases_browser,
                cases_browser_staff,
                cases_browser_portal):
        for name, fn in mod.CASES:
            if getattr(mod, "ALONE", None) and not getattr(fn, "alone", None):
                fn.alone = mod.ALONE
            cases.append((name, fn))
    if args.filter:
        cases = [c for c in cases if args.filter in c[0]]
    skipped = []
    if args.database_admin:
        skipped = [(name, fn.sqlite_only) for name, fn in cases
                   if getattr(fn, "sqlite_only", None)]
        cases = [c for c in cases if not getattr(c[1], "sqlite_only", None)]
        try:
            with pgclient.Connection(args.database_admin) as c:
                c.execute("SELECT 1")
        except (OSError, ValueError, pgclient.PgError) as e:
            print("Bail out! no PostgreSQL at %s" % args.database_admin)
            print("# cannot reach PostgreSQL at %s: %s" % (args.database_admin, e),
                  file=sys.stderr)
            return 2
    else:
        cases = [c for c in cases if not getattr(c[1], "pg_only", None)]

    print("1..%d" % len(cases))
    for name, why in skipped:
        print("# not run on PostgreSQL (%s): %s" % (why, name))
    sys.stdout.flush()
    if args.jobs > 1:   # the cases that must run alone last, one by one
        cases = ([c for c in cases if not getattr(c[1], "alone", None)] +
                 [c for c in cases if getattr(c[1], "alone", None)])
    global RUN
    RUN = (binary, args.database_admin, cases)
    failed = 0
    t_all = time.monotonic()
    calls = 0
    together = [i for i, c in enumerate(cases) if not getattr(c[1], "alone", None)]
    if args.jobs > 1 and len(together) > 1:
        import itertools
        import multiprocessing
        pool = multiprocessing.get_context("fork").Pool(min(args.jobs, len(together)))
        results = itertools.chain(pool.imap(run_case, together),
                                  map(run_case, range(len(together), len(cases))))
    else:
        pool = None
        results = map(run_case, range(len(cases)))
    # Dropping a database waits for a checkpoint: a thread of this process
    # drops each case's databases while the next cases run (started after
    # the workers are forked).
    dropper = Dropper(args.database_admin) if args.database_admin else None
    for n, (name, diag, ncalls, dt, databases) in enumerate(results, 1):
        calls += ncalls
        if dropper:
            dropper.drop(databases)
        if diag is None:
            print("ok %d - %s" % (n, name))
        else:
            failed += 1
            print("not ok %d - %s" % (n, name))
            for line in diag.rstrip().split("\n"):
                print("# " + line)
        if args.verbose:
            print("# %.2fs" % dt)
        sys.stdout.flush()
    if pool is not None:
        pool.close()
        pool.join()
    if dropper:
        errors = dropper.finish()
        # Housekeeping, not a case: every database goes with the throw-away
        # cluster at the end of the run whatever happens here.
        for e in errors:
            print("# note: dropping a database failed (it goes with the cluster): %s" % e)
    total = time.monotonic() - t_all
    print("# %d of %d cases passed; %d custos runs in %.1fs" % (
        len(cases) - failed, len(cases), calls, total))
    return 1 if failed else 0


RUN = None   # (binary, database admin URL or None, cases): set by main()


def run_case(i):
    """Runs case i of RUN (in this process or a worker of --jobs); returns
    (name, None or the failure's diagnostic, custos runs, seconds)."""
    binary, admin, cases = RUN
    name, fn = cases[i]
    tmp = TempDirs()
    ctx = Context(binary, tmp, admin)
    t0 = time.monotonic()
    diag = None
    try:
        fn(ctx)
    except Fail as e:
        diag = str(e)
    except Exception:  # a bug in the test or an unexpected crash: still a failure
        diag = "unexpected exception:\n" + traceback.format_exc()
    finally:
        tmp.cleanup()
    return name, diag, ctx.calls(), time.monotonic() - t0, ctx.release()


class Dropper:
    """Drops databases in a thread, in the order given; finish() waits."""

    def __init__(self, admin):
        import queue
        import threading
        self.admin = admin
        self.q = queue.Queue()
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            name = self.q.get()
            if name is None:
                return
            for attempt in range(5):
                try:
                    harness.drop_database(self.admin, name)
                    break
                except Exception as e:  # reported by finish()
                    if attempt == 4:
                        self.errors.append("%s: %s" % (name, e))
                    else:
                        time.sleep(1)

    def drop(self, names):
        for n in names:
            self.q.put(n)

    def finish(self):
        self.q.put(None)
        self.thread.join()
        return self.errors


class Context:
    """What a case gets: fresh temporary directories and custos instances
    (and, with a database admin URL, a fresh PostgreSQL database for each
    store)."""

    serial = 0

    def __init__(self, binary, tmp, database_admin=None):
        self.binary = binary
        self.tmp = tmp
        self.database_admin = database_admin
        self._instances = []
        self._databases = []

    def _new_database(self, template=None):
        Context.serial += 1
        name = "custos_e2e_%d_%d" % (os.getpid(), Context.serial)
        d = harness.create_database(self.database_admin, name,
                                    template.name if template is not None else None)
        self._databases.append(name)
        return d

    def custos(self, store=None, key_file=None, use_env_store=False, database=None):
        if store is None:
            store = os.path.join(self.tmp.make(), "store")
        if database is None and self.database_admin:
            database = self._new_database()
        cx = Custos(self.binary, store, key_file=key_file, use_env_store=use_env_store,
                    database=database)
        self._instances.append(cx)
        return cx

    def copy_store(self, template, key_file=None):
        """A copy of a template store in a fresh directory (modes kept), and
        of its database on PostgreSQL."""
        dst = os.path.join(self.tmp.make(), "store")
        shutil.copytree(template.store, dst)
        database = None
        if template.database is not None:
            database = self._new_database(template=template.database)
        return self.custos(dst, key_file=key_file, database=database)

    def calls(self):
        return sum(cx.calls for cx in self._instances)

    def database(self):
        """A fresh, empty PostgreSQL database (dropped after the case)."""
        if not self.database_admin:
            raise Fail("this case needs --database-admin")
        return self._new_database()

    def release(self):
        """The names of the case's databases not yet dropped (for the
        caller to drop), forgotten here."""
        names, self._databases = self._databases, []
        return names

    def cleanup(self):
        """Drops the case's databases now."""
        for name in self.release():
            harness.drop_database(self.database_admin, name)


if __name__ == "__main__":
    sys.exit(main())
