"""Helpers for the HTTP end-to-end tests: start `custos serve` on an ephemeral
port with its own store, talk to it over real HTTP (http.client, raw paths),
compute TOTP codes, decode audit events straight from custos.db, and build a
store with controllers, staff, tokens, subjects and care lists through the CLI.
Python 3 standard library only."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import select
import signal
import struct
import subprocess
import time
import uuid

from harness import Fail, check, eq, sql, SANITIZER_MARKS
from fixtures import TEST_POLICY

PASSWORD = "correct horse battery staple"
PROBLEM_PREFIX = "urn:custos:problem:"


# ---------------------------------------------------------------- TOTP (RFC 6238)

def totp_code(secret_b32, step):
    """The 6-digit code of a base32 secret for one 30-second step."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    n = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return "%06d" % (n % 1000000)


def totp_step(t=None):
    return int((time.time() if t is None else t) // 30)


def fresh_step(after=0):
    """A step for a code that is valid now and later than `after` (the last step
    the server accepted for that account): the current step, waiting for the
    next one when the current one is used or about to end."""
    while True:
        now = time.time()
        step, into = totp_step(now), now % 30
        if step > after and into < 27:
            return step
        time.sleep(30 - into + 0.2)


# ---------------------------------------------------------------- audit events

AUDIT_FIELDS = ("actor", "role", "action", "controller", "subject", "categories",
                "purpose", "outcome", "rule", "via", "detail", "payload")


def decode_event(body):
    """Decodes one audit_events.body (CUA2, seq, ts, ten length-prefixed strings,
    sealed payload; CUA1 bodies have no rule; CUA3 bodies have a detail after
    via, never empty) into a dict."""
    b = bytes(body)
    check(b[:4] in (b"CUA1", b"CUA2", b"CUA3"), "audit event body has no CUA1-3 magic", b[:16])
    seq, ts = struct.unpack(">QQ", b[4:20])
    p, out = 20, {"seq": seq, "ts": ts, "rule": "", "detail": ""}
    for name in AUDIT_FIELDS:
        if name == "rule" and b[:4] == b"CUA1":
            continue
        if name == "detail" and b[:4] != b"CUA3":
            continue
        (n,) = struct.unpack(">I", b[p:p + 4])
        p += 4
        v = b[p:p + n]
        p += n
        out[name] = v if name == "payload" else v.decode("utf-8", "replace")
    eq(p, len(b), "audit event body length")
    check(b[:4] != b"CUA3" or out["detail"], "a CUA3 body with an empty detail")
    return out


def audit_seq(db):
    return sql(db, "SELECT coalesce(max(seq), 0) FROM audit_events")[0][0]


def audit_count(db):
    return sql(db, "SELECT count(*) FROM audit_events")[0][0]


def events_after(db, seq):
    rows = sql(db, "SELECT seq, body FROM audit_events WHERE seq > ? ORDER BY seq", (seq,))
    return [decode_event(b) for _, b in rows]


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, method, path, status, headers, body):
        self.method, self.path, self.status, self.body = method, path, status, body
        self.headers = {}
        for k, v in headers:
            k = k.lower()
            self.headers[k] = self.headers[k] + ", " + v if k in self.headers else v
        self.text = body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        try:
            return json.loads(self.text)
        except ValueError as e:
            raise Fail("%s: body is not JSON (%s): %r" % (self.what(), e, self.text[:300]))

    def what(self):
        return "%s %s -> %d" % (self.method, self.path[:120], self.status)

    def describe(self):
        return "%s\nheaders: %r\nbody: %s" % (self.what(), self.headers, self.text[:800])


def raw_request(port, method, path, body=None, headers=None, timeout=30, source=None):
    """One request on a fresh connection; the path goes on the wire as given.
    source: a local address such as "127.0.0.7" (another client address)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                   source_address=(source, 0) if source else None)
    try:
        c.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if body is not None and "Content-Length" not in hdrs:
            hdrs["Content-Length"] = str(len(body))
        for k, v in hdrs.items():
            c.putheader(k, v)
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        return Response(method, path, r.status, r.getheaders(), data)
    finally:
        c.close()


def call(port, method, path, body=None, token=None, ctype="application/json",
         headers=None, timeout=30, source=None):
    """A request with an optional JSON body (dict/list -> JSON, str -> UTF-8)."""
    h = {}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if body is not None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        if ctype is not None:
            h["Content-Type"] = ctype
    if headers:
        h.update(headers)
    return raw_request(port, method, path, body, h, timeout=timeout, source=source)


def expect_status(r, status, what=""):
    if r.status != status:
        raise Fail("%sexpected %d from %s" % (what + ": " if what else "", status, r.describe()))
    check(r.header("cache-control") == "no-store", "no Cache-Control: no-store on " + r.what(),
          r.headers)
    return r


def expect_problem(r, status, kind=None, what=""):
    """A problem response: status, application/problem+json, urn type, no-store."""
    expect_status(r, status, what)
    ct = r.header("content-type") or ""
    check(ct.startswith("application/problem+json"),
          "%s is not application/problem+json" % r.what(), r.describe())
    j = r.json()
    check(isinstance(j, dict) and isinstance(j.get("type"), str) and
          j["type"].startswith(PROBLEM_PREFIX), "problem type is not urn:custos:problem:*",
          r.describe())
    eq(j.get("status"), status, "problem status member of " + r.what())
    if kind is not None:
        eq(j["type"], PROBLEM_PREFIX + kind, "problem type of " + r.what())
    if status == 401 and kind in (None, "unauthenticated") and \
            j["type"] == PROBLEM_PREFIX + "unauthenticated" and r.path != "/v1/sessions":
        check((r.header("www-authenticate") or "").startswith("Bearer"),
              "401 without WWW-Authenticate: Bearer on " + r.what(), r.describe())
    return j


# ---------------------------------------------------------------- the server

class Server:
    """`custos serve` on 127.0.0.1:0 over one store. Use as a context manager:
    it is always stopped (SIGTERM, then SIGKILL if it hangs)."""

    def __init__(self, cx, *extra, env=None):
        self.cx = cx
        self.extra = list(extra)
        self.env_extra = env  # more environment for the server (None: drop a variable)
        self.proc = None
        self.port = None
        self.stderr_path = os.path.join(os.path.dirname(cx.store),
                                        "serve-%d.stderr" % int(time.monotonic() * 1e6))
        self.rc = None

    def start(self, timeout=30):
        argv = [self.cx.binary, "--store", self.cx.store, "serve",
                "--listen", "127.0.0.1:0"] + self.extra
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._err, env=self.cx.env(self.env_extra))
        self.cx.calls += 1
        deadline = time.monotonic() + timeout
        line = b""
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop(check_rc=False)
                raise Fail("custos serve did not say where it listens (got %r)\nstderr: %s" %
                           (line, self.stderr()))
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                ch = os.read(fd, 1)
                if not ch:
                    continue
                line += ch
        text = line.decode().strip()
        prefix = "listening on http://127.0.0.1:"
        check(text.startswith(prefix), "unexpected first line from custos serve: %r" % text)
        self.port = int(text[len(prefix):])
        check(self.port > 0, "port 0 in %r" % text)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, et, ev, tb):
        self.stop(check_rc=et is None)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def wait(self, timeout=40):
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.rc = self.proc.wait()
            raise Fail("custos serve did not exit within %ds of SIGTERM" % timeout)
        return self.rc

    def stop(self, check_rc=True):
        """SIGTERM; the server must exit 0 without sanitizer reports."""
        if self.proc is None:
            return None
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.rc = self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.rc = self.proc.wait()
                if check_rc:
                    raise Fail("custos serve did not exit within 40 s of SIGTERM")
        finally:
            self.proc.stdout.close()
            self._err.close()
        proc, self.proc = self.proc, None
        if check_rc:
            err = self.stderr()
            for mark in SANITIZER_MARKS:
                check(mark not in err, "sanitizer report from custos serve", err[-4000:])
            check(self.rc == 0, "custos serve exited %r after SIGTERM" % self.rc, err[-3000:])
        return self.rc

    def kill9(self):
        """SIGKILL: no chance to finish anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.rc = self.proc.wait()
            self.proc.stdout.close()
            self._err.close()
            self.proc = None
        return self.rc

    # -- requests

    def call(self, method, path, body=None, token=None, **kw):
        return call(self.port, method, path, body, token, **kw)

    def signin(self, username, password=PASSWORD, code=None, source=None):
        body = {"username": username, "password": password}
        if code is not None:
            body["code"] = code
        return self.call("POST", "/v1/sessions", body, source=source)


# ---------------------------------------------------------------- a staffed store

class Staff:
    """A store with controllers, staff accounts (password PASSWORD), API tokens
    and subjects, built through the CLI before the server starts."""

    def __init__(self, cx):
        self.cx = cx
        self.controllers = {}
        self.users = {}      # username -> {"id", "controller", "roles", "totp_secret"}
        self.tokens = {}     # name -> {"id", "token", "controller", "roles"}
        self.subjects = {}   # label -> {"id", "controller", "doc"}
        self.sessions = {}   # username -> bearer token
        self.last_step = {}  # username -> last TOTP step used

    def controller(self, label, name, policy=TEST_POLICY):
        self.controllers[label] = self.cx.ok("controller", "add", "--name", name, "--policy", policy).out.strip()
        return self.controllers[label]

    def user(self, username, ctl_label, roles, password=PASSWORD, totp=False):
        args = ["user", "add", "--controller", self.controllers[ctl_label],
                "--username", username, "--roles", roles]
        if totp:
            args.append("--totp")
        j = self.cx.okj(*args, stdin=password + "\n")
        self.users[username] = {"id": j["id"], "controller": self.controllers[ctl_label],
                                "roles": roles, "totp_secret": j.get("totp_secret"),
                                "password": password}
        return j

    def token(self, name, ctl_label, roles):
        j = self.cx.okj("user", "token", "create", "--controller", self.controllers[ctl_label],
                        "--roles", roles, "--name", name)
        check(j["token"].startswith("cut_"), "API token does not start cut_", j)
        self.tokens[name] = {"id": j["id"], "token": j["token"],
                             "controller": self.controllers[ctl_label], "roles": roles}
        return j

    def subject(self, label, ctl_label, doc, kind="patient"):
        sid = self.cx.ok("subject", "add", "--controller", self.controllers[ctl_label],
                         "--kind", kind, stdin=json.dumps(doc)).out.strip()
        self.subjects[label] = {"id": sid, "controller": self.controllers[ctl_label],
                                "doc": doc}
        return sid

    def care(self, username, label):
        self.cx.ok("care", "add", "--user", username, "--subject", self.subjects[label]["id"])

    def code_for(self, username):
        step = fresh_step(self.last_step.get(username, 0))
        self.last_step[username] = step
        return totp_code(self.users[username]["totp_secret"], step)

    def signin(self, srv, username, source=None):
        """Signs in once (with a fresh one-time code when the account has one)."""
        u = self.users[username]
        code = self.code_for(username) if u["totp_secret"] else None
        r = srv.signin(username, u["password"], code, source=source)
        expect_status(r, 201, "sign-in of " + username)
        j = r.json()
        check(j["token"].startswith("cus_"), "session token does not start cus_", j)
        eq(j["token_type"], "Bearer", "token_type")
        eq(j["user"]["username"], username, "signed-in username")
        eq(j["user"]["controller"], u["controller"], "signed-in controller")
        self.sessions[username] = j["token"]
        return j["token"]


def random_id():
    return str(uuid.uuid4())


def random_pseudonym():
    return "psn_" + os.urandom(16).hex()



def stable_dump(db):
    """harness.dump, without sessions.last_seen and the row code that covers
    it: authenticating a request may refresh it (once a minute), which is
    session bookkeeping, not data."""
    from harness import dump, columns
    out = []
    for name, rows in dump(db):
        if name == "sessions":
            cols = columns(db, "sessions")
            drop = {cols.index("last_seen"), cols.index("mac")}
            rows = sorted((tuple(v for k, v in enumerate(r) if k not in drop) for r in rows),
                          key=repr)
        out.append((name, rows))
    return out
