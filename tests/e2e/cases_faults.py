"""Faults injected at the store (a test build, -Dfault_injection=true): for each
write (subject add, rectify, erase, erasure execute, consent withdraw) the
Nth store call of the process, for every N the command makes, fails as a
database error would, and so does each commit. After every one: the command
either failed with one clear line (exit 3) and the store holds none of its
change, or the fault came after the commit point and the store holds all of
it; the audit trail and every row code verify; and the command then works.
Over HTTP, a failed store call answers 500 to its request (an I/O error,
without detail) and a failed commit 503 to every request of its batch; the
server keeps serving.

No refusal event is expected for a failed store call: an operation that fails
on I/O is undone with its audit event (docs/design.md, "The choke point"),
since the event would have to be written through the store that just failed.
An erasure is first appended to the erasure ledger, outside the database: an
erasure whose transaction failed after that is re-applied by the next open of
the store (docs/design.md, "Erasure"), so there the store goes from none of
the change to all of it at the next command, never to part of it."""

import collections
import os
import re
import sys
import threading

from harness import registry, check, eq, Fail, dump, expect_error, sql
from fixtures import ROOT, new_store, doc
from http_client import Server, Staff, expect_status, expect_problem

CASES, case = registry()

THERAPYAUDIT = os.path.join(ROOT, "profiles", "therapyaudit.json")
HEALTHYA = os.path.join(ROOT, "profiles", "healthya.json")
EMPLOYEE = {"name": "Dorcas Pettifer-Lamb", "email": "dorcas@example.org",
            "items": [{"category": "workplace_education_financial", "field": "salary_band",
                       "value": "Band 6 harmonium"}]}
EMPLOYEE_IP = {"items": [{"category": "online_identifier", "field": "ip_address",
                          "value": "203.0.113.78"}]}
WEB_USER = {"name": "Araminta Scrogginshaw", "email": "araminta@example.org",
            "items": [{"category": "online_identifier", "field": "ip_address",
                       "value": "198.51.100.91"}]}
NEW_WEB_USER = {"name": "Barnabus Quelch", "email": "barnabus@example.org",
                "items": [{"category": "online_identifier", "field": "ip_address",
                           "value": "198.51.100.92"}]}
CONSENT_PURPOSE = "stakeholder_engagement"
EVERY_UP_TO = 60   # every N up to this, then a spread
SPREAD = 12        # how many beyond it
CONCURRENT = 8     # requests sent at once to share a batch


def fault_env(cx, n, kind="call"):
    return cx.env({"CUSTOS_FAULT_AT": str(n), "CUSTOS_FAULT_KIND": kind})


COUNT_LINE = re.compile(r"^custos: store calls: (\d+), commits: (\d+)$", re.M)


def count_calls(cx, args, stdin):
    """How many store calls and commits the command makes (CUSTOS_FAULT_COUNT)."""
    r = cx.run(*args, stdin=stdin, env=cx.env({"CUSTOS_FAULT_COUNT": "1"}))
    check(r.rc == 0, "the counted run failed", r.describe())
    m = COUNT_LINE.search(r.err)
    if not m:
        check(False, "no store call count on stderr: this case needs a binary built with "
              "-Dfault_injection=true (make test's build)", r.describe())
    return int(m.group(1)), int(m.group(2))


def points(n):
    """Every k in 1..n when n is small; else every one up to EVERY_UP_TO and a
    spread beyond, always including n."""
    if n <= EVERY_UP_TO:
        return list(range(1, n + 1))
    rest = n - EVERY_UP_TO
    spread = sorted({EVERY_UP_TO + 1 + (rest - 1) * i // (SPREAD - 1) for i in range(SPREAD)})
    return list(range(1, EVERY_UP_TO + 1)) + spread


def table_changes(before, after):
    """Per table, how many rows went and how many came (a row updated is one of
    each): the shape of a change, whatever its random ids, nonces and times."""
    a, b = dict(before), dict(after)
    out = {}
    for name in sorted(set(a) | set(b)):
        va, vb = a.get(name), b.get(name)
        if not isinstance(va, list) or not isinstance(vb, list):
            if va != vb:
                out[name] = "changed"
            continue
        ca, cb = collections.Counter(map(repr, va)), collections.Counter(map(repr, vb))
        gone, came = sum((ca - cb).values()), sum((cb - ca).values())
        if gone or came:
            out[name] = (gone, came)
    return out


class Write:
    """One write, run on copies of a template store."""

    def __init__(self, name, template, args, stdin="", done=None, ctl=None,
                 purpose="website_access", kind="web_user", next_doc=None):
        self.name = name
        self.template = template
        self.args = args
        self.stdin = stdin
        self.done = done  # cx -> True when the change is there (whole or none)
        # the next normal command: another subject added
        self.next_args = ["--purpose", purpose, "subject", "add", "--controller", ctl,
                          "--kind", kind]
        self.next_stdin = doc(next_doc or NEW_WEB_USER)


def side_files(cx):
    """The store directory's files other than the database (the erasure ledger
    above all), by name and content."""
    out = {}
    for name in sorted(os.listdir(cx.store)):
        path = os.path.join(cx.store, name)
        if os.path.isfile(path) and not name.startswith("custos.db"):
            with open(path, "rb") as f:
                out[name] = f.read()
    return out


def run_write(ctx, w):
    """Counts the write's store calls and commits, then fails each in turn.
    Returns how many runs failed, succeeded, and failed to be completed by the
    next open (an erasure the ledger holds)."""
    cx = ctx.copy_store(w.template)
    before = dump(cx.db)
    files = side_files(cx)
    calls, commits = count_calls(cx, w.args, w.stdin)
    whole = table_changes(before, dump(cx.db))
    check(whole, "the counted %s changed nothing" % w.name)
    check(w.done(cx), "the counted %s did not do what it does" % w.name)
    check(commits >= 1, "the counted %s committed nothing" % w.name)
    outcomes = collections.Counter()
    for kind, n in [("call", k) for k in points(calls)] + \
                   [("commit", k) for k in range(1, commits + 1)]:
        what = "%s with store %s %d of %d faulted" % (
            w.name, kind, n, calls if kind == "call" else commits)
        cx = ctx.copy_store(w.template)
        r = cx.run(*w.args, stdin=w.stdin, env=fault_env(cx, n, kind))
        change = table_changes(before, dump(cx.db))
        if r.rc == 0:
            # the fault came after the commit point: the change is whole
            eq(change, whole, "the store after a successful " + what)
        else:
            try:
                expect_error(r, 3, says="injected fault at store " + kind)
            except Fail as e:
                raise Fail("%s: %s" % (what, e))
            if change:
                raise Fail("%s: exit %d, yet the store changed: %s" % (what, r.rc, change))
        # The trail verifies (opening the store also re-applies an erasure the
        # ledger holds and the store did not commit).
        v = cx.run("audit", "verify")
        if v.rc != 0:
            check(False, "%s: custos audit verify fails afterwards" % what, v.describe())
        if r.rc != 0 and side_files(cx) == files:
            # Nothing of the store differs from the template, where the
            # command has been seen to work and the rows to verify.
            check("erasure ledger" not in r.err,
                  what + ": the error names a ledger entry that was not written", r.describe())
            outcomes["failed"] += 1
            continue
        v = cx.run("verify")
        if v.rc != 0:
            check(False, "%s: custos verify fails afterwards" % what, v.describe())
        if r.rc == 0:
            outcomes["succeeded"] += 1
            check(w.done(cx), "a successful %s did not do what it does" % what)
        elif w.done(cx):
            # an erasure whose ledger entry was written: the error says so
            check("erasure ledger" in r.err,
                  what + ": the error does not say the ledger completes the erasure",
                  r.describe())
            outcomes["completed at the next open"] += 1
        else:
            check("erasure ledger" not in r.err,
                  what + ": the error says the ledger completes an erasure it does not",
                  r.describe())
            # the next normal command works: the write itself, and it is done
            outcomes["failed"] += 1
            again = cx.run(*w.args, stdin=w.stdin)
            if again.rc != 0:
                check(False, "%s: the same command fails afterwards" % what, again.describe())
            check(w.done(cx), "%s: the same command did nothing afterwards" % what)
        nxt = cx.run(*w.next_args, stdin=w.next_stdin)
        if nxt.rc != 0:
            check(False, "%s: the next subject add fails" % what, nxt.describe())
    check(outcomes["failed"] > 0, "%s: no injected fault made it fail" % w.name, outcomes)
    check(sum(outcomes.values()) >= min(calls, EVERY_UP_TO),
          "%s: too few faults tried" % w.name, outcomes)
    if os.environ.get("CUSTOS_FAULTS_TRACE"):
        print("%s: %d calls, %d commits: %s" % (w.name, calls, commits, dict(outcomes)),
              file=sys.stderr)
    return outcomes


def template(ctx):
    """A store with the therapyaudit controller and one web user who consented
    to stakeholder engagement."""
    cx = new_store(ctx)
    ctl = cx.ok("controller", "add", "--name", "therapyaudit", "--policy",
                THERAPYAUDIT).out.strip()
    sid = cx.ok("--purpose", "website_access", "subject", "add", "--controller", ctl,
                "--kind", "web_user", stdin=doc(WEB_USER)).out.strip()
    cx.ok("consent", "give", sid, CONSENT_PURPOSE, "--method", "web_form")
    return cx, ctl, sid


def subject_count(cx):
    return dict(dump(cx.db))["subjects"]


def is_erased(cx, sid):
    r = cx.run("--purpose", "website_access", "subject", "show", sid)
    return r.rc == 1 and "erased" in r.err


@case("faults at the store: subject add, failed at every store call and commit, "
      "stores the whole subject or nothing")
def t_add(ctx):
    cx, ctl, sid = template(ctx)
    n0 = len(subject_count(cx))
    run_write(ctx, Write("subject add", cx,
                         ["--purpose", "website_access", "subject", "add", "--controller", ctl,
                          "--kind", "web_user"],
                         stdin=doc(NEW_WEB_USER), ctl=ctl,
                         done=lambda c: len(subject_count(c)) == n0 + 1))


@case("faults at the store: subject rectify, failed at every store call and commit, "
      "changes the value and records its event, or neither")
def t_rectify(ctx):
    cx, ctl, sid = template(ctx)

    def done(c):
        v = c.ok("--json", "--purpose", "website_access", "subject", "show", sid).json()
        return v.get("name") == "Araminta Scroggins"
    run_write(ctx, Write("subject rectify", cx,
                         ["--purpose", "website_access", "subject", "rectify", sid],
                         stdin=doc({"name": "Araminta Scroggins"}), done=done, ctl=ctl))


@case("faults at the store: subject erase, failed at every store call and commit, "
      "erases the subject whole or not at all")
def t_erase(ctx):
    cx, ctl, sid = template(ctx)
    run_write(ctx, Write("subject erase", cx, ["subject", "erase", sid], ctl=ctl,
                         done=lambda c: is_erased(c, sid)))


@case("faults at the store: erasure execute (the DPO's erasure request), failed at "
      "every store call and commit, erases what the plan grants or nothing")
def t_erasure_execute(ctx):
    cx, ctl, sid = template(ctx)
    out = run_write(ctx, Write("erasure execute", cx, ["erasure", "execute", sid], ctl=ctl,
                               done=lambda c: is_erased(c, sid)))
    check(out["completed at the next open"] > 0,
          "no failed erasure was completed from the ledger", out)


@case("faults at the store: item-level erasure execute (kept items re-encrypted under a "
      "new key), failed at every store call and commit, erases the granted item and "
      "re-keys the rest, or does nothing")
def t_erasure_item_level(ctx):
    cx = new_store(ctx)
    ctl = cx.ok("controller", "add", "--name", "healthya", "--policy", HEALTHYA).out.strip()
    eid = cx.ok("--purpose", "employment", "subject", "add", "--controller", ctl,
                "--kind", "employee", stdin=doc(EMPLOYEE)).out.strip()
    cx.ok("--purpose", "network_security", "subject", "add-items", eid,
          stdin=doc(EMPLOYEE_IP))

    def done(c):
        items = c.ok("--json", "--purpose", "employment", "subject", "show", eid).json()
        fields = [i.get("field") for i in items.get("items", [])]
        check("salary_band" in fields, "the kept item is gone or unreadable", items)
        key = sql(c.db, "SELECT version FROM subject_keys WHERE subject_id = ?", (eid,))
        return key == [(2,)]
    out = run_write(ctx, Write("item-level erasure execute", cx, ["erasure", "execute", eid],
                               done=done, ctl=ctl, purpose="employment", kind="employee",
                               next_doc={"name": "Ezekiel Fanshawe-Brill",
                                         "email": "ezekiel@example.org"}))
    check(out["completed at the next open"] > 0,
          "no failed erasure was completed from the ledger", out)


@case("faults at the store: consent withdraw, failed at every store call and commit, "
      "records the withdrawal and its event, or neither")
def t_consent_withdraw(ctx):
    cx, ctl, sid = template(ctx)

    def done(c):
        j = c.ok("--json", "consent", "show", sid).json()
        states = [x.get("state") for x in j.get("consents", j if isinstance(j, list) else [])
                  if x.get("purpose") == CONSENT_PURPOSE]
        check(states, "no consent record", j)
        return "withdrawn" in states
    run_write(ctx, Write("consent withdraw", cx, ["consent", "withdraw", sid, CONSENT_PURPOSE],
                         done=done, ctl=ctl))


def expect_failed(r, what):
    """A request the store failed: 500 (internal, without detail: an I/O
    error in the request's own work) or 503 (its batch could not commit)."""
    check(r.status in (500, 503), what + ": not a 500 or 503", r.describe())
    j = expect_problem(r, r.status, what=what)
    if r.status == 500:
        check("detail" not in j, what + ": a 500 with detail", j)


def serve_counts(cx, requests):
    """Store calls and commits of `custos serve` starting, answering what
    requests(srv) sends, and stopping."""
    with Server(cx, env={"CUSTOS_FAULT_COUNT": "1"}) as srv:
        requests(srv)
    m = COUNT_LINE.search(srv.stderr())
    if not m:
        check(False, "no store call count from custos serve: this case needs a binary "
              "built with -Dfault_injection=true", srv.stderr()[-2000:])
    return int(m.group(1)), int(m.group(2))


@case("faults at the store over HTTP: a subject add whose store call or commit fails "
      "answers 500, or 503 (every request of a batch whose commit failed), stores "
      "nothing of it, and the server keeps serving")
def t_http_add(ctx):
    cx = new_store(ctx)
    st = Staff(cx)
    st.controllers["T"] = cx.ok("controller", "add", "--name", "therapyaudit", "--policy",
                                THERAPYAUDIT).out.strip()
    st.token("crm", "T", "care_admin")
    tok = st.tokens["crm"]["token"]
    hdr = {"Custos-Purpose": "website_access"}
    body = {"kind": "web_user", "name": "Cressida Wimbleton", "email": "cressida@example.org"}

    def subjects():
        return len(dict(dump(cx.db))["subjects"])

    # How many store calls the server makes starting up (stopping makes
    # none) and for one request.
    calls0, commits0 = serve_counts(cx, lambda srv: None)
    n0 = subjects()
    calls1, commits1 = serve_counts(cx, lambda srv: expect_status(
        srv.call("POST", "/v1/subjects", body, token=tok, headers=hdr), 201))
    eq(subjects(), n0 + 1, "subjects after the counted request")
    check(calls1 > calls0 and commits1 > commits0, "a request made no store call",
          (calls0, calls1))
    # Several requests at once, so that they share batches: the first
    # commit after start-up faulted, then each store call of the first
    # request's (the server's start-up calls come first). Whatever was
    # batched with what, a request answered 201 is stored, one answered 500
    # or 503 is not, at least one fails, and the server keeps serving.
    per_request = calls1 - calls0
    for kind, n in [("commit", commits0 + 1)] + \
                   [("call", calls0 + j) for j in range(1, per_request + 1)]:
        what = "%d requests at once with store %s %d faulted" % (CONCURRENT, kind, n)
        n0 = subjects()
        results = []
        with Server(cx, env={"CUSTOS_FAULT_AT": str(n), "CUSTOS_FAULT_KIND": kind}) as srv:
            def post():
                results.append(srv.call("POST", "/v1/subjects", body, token=tok, headers=hdr))
            threads = [threading.Thread(target=post) for _ in range(CONCURRENT)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for r in results:
                if r.status != 201:
                    expect_failed(r, what)
            ok = sum(1 for r in results if r.status == 201)
            check(ok < len(results), what + ": no request failed", [r.status for r in results])
            eq(subjects(), n0 + ok, "subjects stored (those answered 201) after " + what)
            expect_status(srv.call("POST", "/v1/subjects", body, token=tok, headers=hdr), 201,
                          "the next request after " + what)
            expect_status(srv.call("GET", "/healthz"), 200, "health after " + what)
        cx.ok("audit", "verify")
        cx.ok("verify")


def erasure_by_dpo(ctx):
    """The template store, a DPO's API token, and a function asking a server to
    erase the template's subject with it."""
    cx, ctl, sid = template(ctx)
    st = Staff(cx)
    st.controllers["T"] = ctl
    st.token("dpo", "T", "dpo")
    dpo = st.tokens["dpo"]["token"]
    path = "/v1/subjects/%s/erasure" % sid

    def erase(srv):
        return srv.call("POST", path, {}, token=dpo, headers={"Custos-Purpose": "subject_rights"})
    return cx, sid, erase


@case("faults at the store over HTTP: an erasure request whose store call or commit fails "
      "answers 500 or 503; one that reached the erasure ledger is completed from it at once, "
      "not only at the next start, and the server keeps serving")
def t_http_erasure(ctx):
    cx, sid, erase = erasure_by_dpo(ctx)
    calls0, commits0 = serve_counts(cx, lambda srv: None)
    calls1, commits1 = serve_counts(ctx.copy_store(cx),
                                    lambda srv: expect_status(erase(srv), 200, "erasure"))
    check(calls1 > calls0 and commits1 > commits0, "the erasure made no store call",
          (calls0, calls1))
    outcomes = collections.Counter()
    for kind, first, last in (("call", calls0, calls1), ("commit", commits0, commits1)):
        for n in range(first + 1, last + 1):
            what = "erasure over HTTP with store %s %d faulted" % (kind, n)
            c = ctx.copy_store(cx)
            ledger = os.path.join(c.store, "erasure.ledger")
            with Server(c, env={"CUSTOS_FAULT_AT": str(n), "CUSTOS_FAULT_KIND": kind}) as srv:
                r = erase(srv)
                # by the time the answer comes, the store agrees with the ledger
                in_ledger = os.path.exists(ledger) and sid in open(ledger).read()
                erased = sql(c.db, "SELECT erased_at IS NOT NULL FROM subjects WHERE id = ?",
                             (sid,)) == [(1,)]
                if r.status == 200:
                    check(in_ledger and erased, what + ": answered 200 but not erased")
                    outcomes["succeeded"] += 1
                else:
                    expect_failed(r, what)
                    eq(erased, in_ledger, what + ": erased in the store as in the ledger")
                    outcomes["completed from the ledger" if erased else "failed"] += 1
                # the server keeps serving: the erasure again, or it is done
                expect_status(erase(srv), 410 if erased else 200, what + ": the next erasure")
            c.ok("audit", "verify")
            c.ok("verify")
    check(outcomes["failed"] > 0 and outcomes["completed from the ledger"] > 0,
          "faults neither before nor after the ledger entry", outcomes)
