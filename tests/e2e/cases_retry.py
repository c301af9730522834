"""Retryable failures at the store (a test build, -Dfault_injection=true, with
CUSTOS_FAULT_ERROR=retry): the database aborting a transaction to keep
concurrent ones apart (on PostgreSQL a serialisation failure or a deadlock),
injected at each store call and commit in turn. A transaction so aborted is
undone whole and run again, at most three attempts in all.

For a subject add and a rectify (CLI), and a subject add and a subject read
(HTTP): one such failure, wherever it falls, and the command or request
succeeds, says on stderr (in the server's log) that it ran again, leaves
exactly the change and the one audit event a run without a failure leaves,
and `audit verify` and `verify` pass. A failure on every attempt: the
command fails (exit 3) and the request answers 503, nothing of it is stored,
and both checks pass."""

import os

from harness import registry, check, eq, dump, sql
from fixtures import doc, new_store
from http_client import Server, Staff, expect_status, expect_problem
from cases_faults import (template, erasure_by_dpo, count_calls, table_changes, serve_counts,
                          NEW_WEB_USER, THERAPYAUDIT)

CASES, case = registry()

ATTEMPTS = 3
RERUN = "running it again (attempt 2 of 3)"
BATCH_RERUN = "running the batch again (attempt 2 of 3)"


def retry_env(cx, n, kind="call", times=1):
    return cx.env({"CUSTOS_FAULT_AT": str(n), "CUSTOS_FAULT_KIND": kind,
                   "CUSTOS_FAULT_ERROR": "retry", "CUSTOS_FAULT_TIMES": str(times)})


def events(cx):
    return len(dict(dump(cx.db))["audit_events"])


def verify_both(cx, what):
    for args in (("audit", "verify"), ("verify",)):
        r = cx.run(*args)
        check(r.rc == 0, "%s: custos %s fails afterwards" % (what, " ".join(args)),
              r.describe())


def sample(calls):
    """Every third store call, and each of the last ten (the write's own, after
    the opening's)."""
    return sorted(set(range(1, calls + 1, 3)) | set(range(max(1, calls - 9), calls + 1)))


def run_cli_retry(ctx, name, tmpl, args, stdin, done):
    """Every store call and commit of the command fails once, retryably: each
    time the command succeeds with the change of a run without failure.
    Then one point fails on every attempt: the command fails, nothing stored."""
    cx = ctx.copy_store(tmpl)
    before = dump(cx.db)
    ev0 = events(cx)
    calls, commits = count_calls(cx, args, stdin)
    whole = table_changes(before, dump(cx.db))
    eq(events(cx), ev0 + 1, "audit events after the counted %s" % name)
    check(whole and done(cx), "the counted %s did nothing" % name)
    for kind, n in [("call", k) for k in sample(calls)] + \
                   [("commit", k) for k in range(1, commits + 1)]:
        what = "%s with store %s %d of %d failed retryably once" % (
            name, kind, n, calls if kind == "call" else commits)
        c = ctx.copy_store(tmpl)
        r = c.run(*args, stdin=stdin, env=retry_env(c, n, kind))
        check(r.rc == 0, what + ": the command failed", r.describe())
        check(RERUN in r.err, what + ": stderr does not say it ran again", r.describe())
        check("attempt 3" not in r.err, what + ": ran a third time", r.describe())
        eq(table_changes(before, dump(c.db)), whole, "the store after " + what)
        eq(events(c), ev0 + 1, "audit events after " + what)
        check(done(c), what + ": the change is not there")
        verify_both(c, what)
    # Every attempt fails: at the first and last of the command's calls, at
    # one in the middle, and at its commit.
    for kind, n in (("call", 1), ("call", max(1, calls // 2)), ("call", calls),
                    ("commit", commits)):
        what = "%s with store %s %d failed retryably on every attempt" % (name, kind, n)
        c = ctx.copy_store(tmpl)
        r = c.run(*args, stdin=stdin, env=retry_env(c, n, kind, times=ATTEMPTS))
        # one line per re-run, then the error
        lines = r.err.splitlines()
        eq(r.rc, 3, what + ": exit status")
        eq(len(lines), ATTEMPTS, what + ": lines on stderr")
        for i, line in enumerate(lines[:-1]):
            check(line.startswith("custos: injected fault at store " + kind) and
                  line.endswith("running it again (attempt %d of 3)" % (i + 2)),
                  what + ": not a re-run line", r.describe())
        check(lines[-1].startswith("custos: injected fault at store " + kind) and
              "running it again" not in lines[-1], what + ": the last line is not the error",
              r.describe())
        eq(table_changes(before, dump(c.db)), {}, "the store after " + what)
        verify_both(c, what)
        # and the same command then works
        r = c.run(*args, stdin=stdin)
        check(r.rc == 0 and done(c), what + ": the command fails afterwards", r.describe())


@case("retryable failures (CLI): subject add, aborted once at any store call or commit, "
      "runs again and adds the subject with one audit event; aborted on every attempt, "
      "fails and stores nothing")
def t_cli_add(ctx):
    cx, ctl, sid = template(ctx)
    n0 = len(dict(dump(cx.db))["subjects"])
    run_cli_retry(ctx, "subject add", cx,
                  ["--purpose", "website_access", "subject", "add", "--controller", ctl,
                   "--kind", "web_user"], doc(NEW_WEB_USER),
                  lambda c: len(dict(dump(c.db))["subjects"]) == n0 + 1)


@case("retryable failures (CLI): subject rectify, aborted once at any store call or "
      "commit, runs again and rectifies with one audit event; aborted on every attempt, "
      "fails and changes nothing")
def t_cli_rectify(ctx):
    cx, ctl, sid = template(ctx)

    def done(c):
        v = c.ok("--json", "--purpose", "website_access", "subject", "show", sid).json()
        return v.get("name") == "Araminta Scroggins"
    run_cli_retry(ctx, "subject rectify", cx,
                  ["--purpose", "website_access", "subject", "rectify", sid],
                  doc({"name": "Araminta Scroggins"}), done)


def http_store(ctx):
    cx = new_store(ctx)
    st = Staff(cx)
    st.controllers["T"] = cx.ok("controller", "add", "--name", "therapyaudit", "--policy",
                                THERAPYAUDIT).out.strip()
    st.token("crm", "T", "care_admin")
    sid = cx.ok("--purpose", "website_access", "subject", "add", "--controller",
                st.controllers["T"], "--kind", "web_user", stdin=doc(NEW_WEB_USER)).out.strip()
    return cx, st.tokens["crm"]["token"], sid


HDR = {"Custos-Purpose": "website_access"}
BODY = {"kind": "web_user", "name": "Cressida Wimbleton", "email": "cressida@example.org"}


def run_http_retry(ctx, name, tmpl, send, ok_status, done):
    """send(srv) makes the request; done(cx, response) checks its result."""
    calls0, commits0 = serve_counts(ctx.copy_store(tmpl), lambda srv: None)
    c = ctx.copy_store(tmpl)
    before = dump(c.db)
    ev0 = events(c)
    calls1, commits1 = serve_counts(c, lambda srv: expect_status(send(srv), ok_status, name))
    whole = table_changes(before, dump(c.db))
    eq(events(c), ev0 + 1, "audit events after the counted " + name)
    check(calls1 > calls0 and commits1 > commits0, name + " made no store call or commit",
          (calls0, calls1, commits0, commits1))
    points_ = [("call", n) for n in range(calls0 + 1, calls1 + 1)] + \
              [("commit", n) for n in range(commits0 + 1, commits1 + 1)]
    for kind, n in points_:
        what = "%s with store %s %d failed retryably once" % (name, kind, n)
        c = ctx.copy_store(tmpl)
        with Server(c, env={"CUSTOS_FAULT_AT": str(n), "CUSTOS_FAULT_KIND": kind,
                            "CUSTOS_FAULT_ERROR": "retry"}) as srv:
            r = send(srv)
            expect_status(r, ok_status, what)
            check(done(c, r), what + ": the response or the store is not as without failure",
                  r.describe())
        check(BATCH_RERUN in srv.stderr(), what + ": the log does not say the batch ran again",
              srv.stderr()[-2000:])
        eq(table_changes(before, dump(c.db)), whole, "the store after " + what)
        eq(events(c), ev0 + 1, "audit events after " + what)
        verify_both(c, what)
    for kind, n in (("call", calls0 + 1), ("call", calls1), ("commit", commits0 + 1)):
        what = "%s with store %s %d failed retryably on every attempt" % (name, kind, n)
        c = ctx.copy_store(tmpl)
        with Server(c, env={"CUSTOS_FAULT_AT": str(n), "CUSTOS_FAULT_KIND": kind,
                            "CUSTOS_FAULT_ERROR": "retry",
                            "CUSTOS_FAULT_TIMES": str(ATTEMPTS)}) as srv:
            r = send(srv)
            expect_problem(r, 503, what=what)
            check(r.header("retry-after"), what + ": a 503 without Retry-After",
                  r.describe())
            eq(table_changes(before, dump(c.db)), {}, "the store after " + what)
            # the server keeps serving: the same request now succeeds
            expect_status(send(srv), ok_status, what + ": the next request")
        eq(srv.stderr().count("running the batch again"), ATTEMPTS - 1,
           what + ": re-runs logged")
        verify_both(c, what)


@case("retryable failures (HTTP): a subject add whose batch is aborted once at any store "
      "call or commit is run again and answers 201 with one audit event; aborted on every "
      "attempt, it answers 503 and stores nothing")
def t_http_add(ctx):
    cx, tok, sid = http_store(ctx)
    n0 = len(dict(dump(cx.db))["subjects"])

    def done(c, r):
        rows = dict(dump(c.db))["subjects"]
        sid_new = r.json().get("id")
        return len(rows) == n0 + 1 and bool(sid_new) and sid_new in repr(rows)
    run_http_retry(ctx, "subject add over HTTP", cx,
                   lambda srv: srv.call("POST", "/v1/subjects", BODY, token=tok, headers=HDR),
                   201, done)


@case("retryable failures (HTTP): a subject read whose batch is aborted once at any store "
      "call or commit is run again and answers 200 with the subject and one audit event; "
      "aborted on every attempt, it answers 503")
def t_http_read(ctx):
    cx, tok, sid = http_store(ctx)

    def done(c, r):
        return r.json().get("name") == NEW_WEB_USER["name"]
    run_http_retry(ctx, "subject read over HTTP", cx,
                   lambda srv: srv.call("GET", "/v1/subjects/" + sid, token=tok, headers=HDR),
                   200, done)


@case("retryable failures (HTTP): an erasure whose batch is aborted once at any store call "
      "or commit is run again and answers 200, unless its erasure ledger entry was written "
      "(then it answers 503 and is completed from the ledger at once); either way it is "
      "erased once, the trail and rows verify, and a restart re-applies nothing")
def t_http_erasure(ctx):
    cx, sid, erase = erasure_by_dpo(ctx)
    calls0, commits0 = serve_counts(ctx.copy_store(cx), lambda srv: None)
    calls1, commits1 = serve_counts(ctx.copy_store(cx),
                                    lambda srv: expect_status(erase(srv), 200, "erasure"))
    outcomes = {"run again": 0, "completed from the ledger": 0}
    for kind, n in [("call", k) for k in range(calls0 + 1, calls1 + 1, 2)] + \
                   [("commit", k) for k in range(commits0 + 1, commits1 + 1)]:
        what = "erasure over HTTP with store %s %d failed retryably once" % (kind, n)
        c = ctx.copy_store(cx)
        with Server(c, env={"CUSTOS_FAULT_AT": str(n), "CUSTOS_FAULT_KIND": kind,
                            "CUSTOS_FAULT_ERROR": "retry"}) as srv:
            r = erase(srv)
            erased = sql(c.db, "SELECT erased_at IS NOT NULL FROM subjects WHERE id = ?",
                         (sid,)) == [(1,)]
            check(erased, what + ": not erased", r.describe())
            if r.status == 200:
                outcomes["run again"] += 1
            else:
                expect_problem(r, 503, what=what)
                outcomes["completed from the ledger"] += 1
            expect_status(erase(srv), 410, what + ": the erasure again")
        if r.status == 200:
            check(BATCH_RERUN in srv.stderr(), what + ": the log does not say it ran again",
                  srv.stderr()[-2000:])
        else:
            check("re-applied 1 erasure" in srv.stderr(),
                  what + ": not completed from the ledger at once", srv.stderr()[-2000:])
        with open(os.path.join(c.store, "erasure.ledger")) as f:
            eq(f.read().count(sid), 1, what + ": ledger entries for the subject")
        verify_both(c, what)
        # a restart finds nothing in the ledger the store lacks: nothing re-applied
        n_ev = events(c)
        with Server(c) as srv:
            expect_status(srv.call("GET", "/healthz"), 200, what + ": health after a restart")
        check("re-applied" not in srv.stderr(), what + ": a restart re-applied an erasure",
              srv.stderr()[-2000:])
        eq(events(c), n_ev, what + ": audit events after a restart")
    check(outcomes["run again"] > 0 and outcomes["completed from the ledger"] > 0,
          "faults neither before nor after the ledger entry", outcomes)
