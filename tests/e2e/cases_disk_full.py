"""A full disk: the store's directory on a small tmpfs that a filler file
fills, so that SQLite's writes fail with ENOSPC (SQLITE_FULL) exactly as on a
real disk. (RLIMIT_FSIZE is not a stand-in: it limits the offset of any write,
so a process that opens the store fails already initialising the WAL index,
which a full disk with the store's files in place does not do.) Mounting a
tmpfs needs root, which make test has; without it the case fails.

/healthz must say the store cannot write while it cannot, and recover when
space returns; `custos audit verify` and `custos verify` must verify and
report on the full disk, saying only that the verification was not recorded."""

import json
import os
import subprocess
import time

from harness import registry, check, eq, sqlite_only
from fixtures import PERSON1, secrets_of_person1
from http_client import Server, Staff, PASSWORD, expect_status, expect_problem
from cases_staff_pages import Browser

CASES, case = registry()

class Disk:
    """A store directory on its own 6 MiB tmpfs, to fill and to free."""

    def __init__(self, ctx):
        self.parent = ctx.tmp.make()
        self.store = os.path.join(self.parent, "store")
        os.mkdir(self.store, 0o700)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs",
                            self.store], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.mounted = r.returncode == 0
        self.why = r.stderr.decode("utf-8", "replace").strip()
        self.filler = os.path.join(self.store, "filler")
        self.cx = ctx.custos(store=self.store)

    def fill(self):
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (1 << 16, 512, 1):  # to the last byte
                try:
                    while os.write(fd, b"\0" * size) == size:
                        pass
                except OSError:
                    pass
        finally:
            os.close(fd)

    def free(self):
        os.unlink(self.filler)

    def run(self, *args):
        return self.cx.run(*args)

    def close(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.store])


def health(srv):
    return srv.call("GET", "/healthz")


@case("a full disk: writes get 503 and /healthz answers 503 problem+json saying the store "
      "cannot write (no personal data), until space returns; audit verify and verify still "
      "verify and report (exit 0) and say on stderr that they were not recorded")
@sqlite_only("the full disk is a tmpfs under the custos.db file; the rows are read from that "
             "file")
def t_disk_full(ctx):
    disk = Disk(ctx)
    try:
        # make test runs as root (it installs packages); a tmpfs that cannot be
        # mounted is a failed case, not a skipped one
        check(disk.mounted, "cannot mount a tmpfs for the full disk (%s); the case "
              "needs root" % disk.why)
        cx = disk.cx
        cx.ok("init")
        st = Staff(cx)
        st.controller("A", "Ambridge Full Disk Trust")
        sid = st.subject("S1", "A", PERSON1)
        st.user("filler-clin", "A", "clinician")
        st.care("filler-clin", "S1")
        srv = Server(cx, "--log-format", "json")
        # the server's log lives outside the full disk
        check(not srv.stderr_path.startswith(disk.store + os.sep), "log on the tmpfs")
        with srv:
            tok = st.signin(srv, "filler-clin")
            page = Browser(srv)
            eq(page.req("POST", "/staff/sign-in", {"username": "filler-clin",
                                                  "password": PASSWORD}).status,
               303, "signed in to the console")
            r = page.req("GET", "/staff/patients/" + sid)
            expect_status(r, 200, "the patient page before")
            check(PERSON1["name"] in r.text, "the patient page before shows the name")
            r = health(srv)
            expect_status(r, 200, "healthz before")
            eq(r.json().get("status"), "ok", "healthz body before")
            item = {"items": [{"category": "health", "field": "note",
                               "value": "Filler note that must not leak 4471"}]}
            expect_status(srv.call("POST", "/v1/subjects/%s/items" % sid, item, token=tok),
                          201, "a write before")
            disk.fill()
            # The WAL may have room left inside it from before: write until a commit fails.
            statuses = []
            for i in range(400):
                r = srv.call("POST", "/v1/subjects/%s/items" % sid, item, token=tok)
                statuses.append(r.status)
                if r.status == 503:
                    break
            eq(statuses[-1], 503, "a write on the full disk (statuses %r)" % statuses[-20:])
            expect_problem(r, 503, "unavailable", "a write on the full disk")
            stored_before = cx_items(cx, disk)
            r = health(srv)
            j = expect_problem(r, 503, "unavailable", "healthz on the full disk")
            detail = j.get("detail", "")
            check("store" in detail and ("full" in detail or "disk" in detail),
                  "healthz does not say what is wrong", r.describe())
            check(r.header("retry-after"), "no Retry-After on the 503", r.describe())
            print("# %d writes succeeded on the full disk before one failed; healthz: %s" %
                  (len(statuses) - 1, detail))
            for s in secrets_of_person1() + [sid, "Filler note"]:
                check(s.lower() not in r.text.lower(), "healthz names %r" % s, r.text)
            # still unhealthy a second later: the probe fails too
            time.sleep(1.1)
            expect_problem(health(srv), 503, "unavailable", "healthz after a failed probe")
            expect_problem(srv.call("GET", "/v1/subjects/" + sid, token=tok), 503,
                           "unavailable", "a read (audited) on the full disk")
            # the page is written after the batch commits: none of it leaves
            r = page.req("GET", "/staff/patients/" + sid)
            expect_problem(r, 503, "unavailable", "the patient page on the full disk")
            for s in secrets_of_person1():
                check(s.lower() not in r.text.lower(), "the 503 page names %r" % s, r.text)

            # audit verify and verify on the full disk
            seq = max_seq(cx)
            r = disk.run("--json", "audit", "verify")
            eq(r.rc, 0, "audit verify on a full disk: " + r.describe())
            j = json.loads(r.out)
            eq((j["ok"], j["recorded"]), (True, False), "audit verify's report")
            check(j["events"] >= seq, "events verified", j)
            lines = [ln for ln in r.err.split("\n") if ln]
            eq(len(lines), 1, "stderr lines of audit verify: " + r.err)
            check("could not be recorded" in lines[0] and "full" in lines[0],
                  "audit verify does not say it was not recorded", r.err)
            print("# " + lines[0])
            r = disk.run("audit", "verify")
            eq(r.rc, 0, "audit verify (text) on a full disk: " + r.describe())
            check(r.out.startswith("audit trail intact"), "audit verify's text", r.describe())
            check("could not be recorded" in r.err, "audit verify (text) stderr", r.err)
            r = disk.run("--json", "verify")
            eq(r.rc, 0, "verify on a full disk: " + r.describe())
            j = json.loads(r.out)
            eq((j["ok"], j["audit"]["ok"], j["audit"]["recorded"]), (True, True, False),
               "verify's report")
            check("could not be recorded" in r.err, "verify does not say it was not recorded",
                  r.err)
            eq(max_seq(cx), seq, "events appended on the full disk")
            eq(cx_items(cx, disk), stored_before, "items stored by refused writes")

            # space returns: the next probe passes, and writes work again
            disk.free()
            deadline = time.monotonic() + 10
            while True:
                r = health(srv)
                if r.status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            expect_status(r, 200, "healthz once space returns")
            expect_status(srv.call("POST", "/v1/subjects/%s/items" % sid, item, token=tok),
                          201, "a write once space returns")
        r = cx.run("--json", "audit", "verify")
        eq(r.rc, 0, "audit verify afterwards: " + r.describe())
        eq((r.json()["ok"], r.json()["recorded"]), (True, True), "audit verify afterwards")
        eq(r.err, "", "stderr of audit verify afterwards")
        log = srv.stderr()
        lines = [json.loads(ln) for ln in log.splitlines()]
        check(any(j["event"] == "error" and "commit failed" in j["msg"] for j in lines),
              "no error line for the failed commit", log[-2000:])
        check(any(j["event"] == "request" and j["status"] == 503 for j in lines),
              "no request line with 503", log[-2000:])
        check(any(j["event"] == "health" for j in lines), "no line saying writes resumed",
              log[-2000:])
        for s in secrets_of_person1() + [sid, "Filler note"]:
            check(s.lower() not in log.lower(), "the log names %r" % s, log[-2000:])
    finally:
        disk.close()


def max_seq(cx):
    import sqlite3
    c = sqlite3.connect("file:%s?mode=ro" % cx.db, uri=True)
    try:
        return c.execute("SELECT max(seq) FROM audit_events").fetchone()[0]
    finally:
        c.close()


def cx_items(cx, disk):
    import sqlite3
    c = sqlite3.connect("file:%s?mode=ro" % cx.db, uri=True)
    try:
        return c.execute("SELECT count(*) FROM items").fetchone()[0]
    finally:
        c.close()
