"""The server's log: one line per request (JSON lines, text, or the systemd
journal's native protocol), start, stop and error lines; request ids; and
what must never be logged: personal values, subject ids, pseudonyms, query
strings, tokens, passwords, user names."""

import json
import os
import re
import socket
import threading

from harness import registry, check, eq, nhs_display
from fixtures import PERSON1, NHS1, secrets_of_person1
from http_client import Server, Staff, PASSWORD, expect_status, expect_problem

CASES, case = registry()

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
RID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
USERNAME = "drwhitlock-logs"


def staffed(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Log Trust")
    st.subject("S1", "A", PERSON1)
    st.user(USERNAME, "A", "clinician")
    st.care(USERNAME, "S1")
    return cx, st


def traffic(srv, st):
    """The requests every format test makes: [(response, route template)], and
    the secrets that went over the wire and must not be logged."""
    sid = st.subjects["S1"]["id"]
    out = []
    r = srv.call("GET", "/healthz")
    expect_status(r, 200, "healthz")
    out.append((r, "/healthz"))
    r = srv.call("POST", "/v1/sessions", {"username": USERNAME, "password": PASSWORD})
    expect_status(r, 201, "sign-in")
    token = r.json()["token"]
    out.append((r, "/v1/sessions"))
    # a failed sign-in under a user name that is an e-mail address
    bad_user = "zebulon.quagmire@example-clinic.org"
    r = srv.call("POST", "/v1/sessions", {"username": bad_user,
                                          "password": "Wrong-Passw0rd-Typed"})
    expect_problem(r, 401, "unauthenticated", "wrong sign-in")
    out.append((r, "/v1/sessions"))
    # 401: no token, on a subject's path
    r = srv.call("GET", "/v1/subjects/" + sid)
    expect_problem(r, 401, "unauthenticated", "no token")
    out.append((r, "/v1/subjects/{id}"))
    # 404: no such route, the path naming the subject
    r = srv.call("GET", "/v1/subjects/%s/nowhere/%s" % (sid, NHS1), token=token)
    expect_problem(r, 404, None, "unknown route")
    out.append((r, None))
    # a problem: an unknown query parameter carrying a secret
    r = srv.call("GET", "/v1/subjects/%s?limit=1&token=SECRET-QUERY-VALUE" % sid, token=token)
    expect_problem(r, 400, "invalid-input", "unknown query parameter")
    out.append((r, "/v1/subjects/{id}"))
    # reads with the subject id and a query string
    r = srv.call("GET", "/v1/subjects/%s?limit=1" % sid, token=token)
    expect_status(r, 200, "read")
    check(PERSON1["name"] in r.text, "the read did not return the name", r.describe())
    out.append((r, "/v1/subjects/{id}"))
    r = srv.call("GET", "/v1/subjects/%s/items?limit=2" % sid, token=token)
    expect_status(r, 200, "items")
    out.append((r, "/v1/subjects/{id}/items"))
    # a search by NHS number: in the query string refused, posted answered
    r = srv.call("GET", "/v1/subjects?nhs_number=" + NHS1, token=token)
    expect_problem(r, 400, "invalid-input", "a search in the URL")
    check("POST /v1/subjects/search" in r.json().get("detail", ""),
          "the refusal does not say how to search", r.describe())
    check(NHS1 not in r.text, "the refusal repeats the NHS number", r.describe())
    out.append((r, "/v1/subjects"))
    r = srv.call("POST", "/v1/subjects/search", {"nhs_number": NHS1}, token=token)
    expect_status(r, 200, "search")
    eq(r.json(), {"ids": [sid]}, "the search's answer")
    out.append((r, "/v1/subjects/search"))
    # a proxy's request id of a safe shape is kept; an unsafe one is replaced
    r = srv.call("GET", "/healthz", headers={"X-Request-Id": "proxy-0f3a.77_b"})
    eq(r.header("x-request-id"), "proxy-0f3a.77_b", "a safe X-Request-Id echoed")
    out.append((r, "/healthz"))
    for unsafe in ("zebulon.quagmire@example-clinic.org", "a b", "x" * 65,
                   "id\";injected=\"1"):
        r = srv.call("GET", "/healthz", headers={"X-Request-Id": unsafe})
        got = r.header("x-request-id") or ""
        check(got != unsafe and RID_RE.match(got), "an unsafe X-Request-Id was used: %r" % got)
        out.append((r, "/healthz"))
    secrets = secrets_of_person1() + [
        sid, USERNAME, token, PASSWORD, "Wrong-Passw0rd-Typed",
        bad_user, "SECRET-QUERY-VALUE", "limit=1", "nhs_number", "Bearer",
        "zebulon", "injected"]
    # the subject's pseudonym, as the analysts know it
    return out, token, secrets


def ids_unique(out):
    ids = [r.header("x-request-id") for r, _ in out]
    check(all(i and RID_RE.match(i) for i in ids), "a response without a request id", ids)
    eq(len(set(ids)), len(ids), "distinct request ids")
    return ids


def no_secrets(text, secrets, where):
    low = text.lower()
    for s in secrets:
        if s:
            check(s.lower() not in low, "%s names %r" % (where, s), text[-3000:])


def parse_json_lines(text):
    lines = []
    for ln in text.splitlines():
        try:
            j = json.loads(ln)
        except ValueError as e:
            raise AssertionError("a log line is not JSON (%s): %r" % (e, ln))
        check(isinstance(j, dict), "a log line is not an object", ln)
        check(TIME_RE.match(j.get("time", "")), "time is not RFC 3339 UTC with ms", ln)
        check(j.get("level") in ("info", "warning", "error"), "level", ln)
        check(isinstance(j.get("event"), str), "event", ln)
        lines.append(j)
    return lines


def check_request_lines(lines, out, st):
    reqs = [j for j in lines if j["event"] == "request"]
    by_id = {}
    for j in reqs:
        for k in ("request_id", "method", "route", "status", "duration_ms", "bytes", "actor",
                  "role", "completed"):
            check(k in j, "a request line has no %s" % k, j)
        check(isinstance(j["status"], int) and isinstance(j["bytes"], int) and
              isinstance(j["duration_ms"], (int, float)) and j["duration_ms"] >= 0,
              "types of a request line", j)
        check(j["request_id"] not in by_id, "two lines for one request id", j)
        by_id[j["request_id"]] = j
    uid = st.users[USERNAME]["id"]
    for r, route in out:
        rid = r.header("x-request-id")
        check(rid in by_id, "no log line for %s (request id %s)" % (r.what(), rid),
              list(by_id)[:20])
        j = by_id[rid]
        eq((j["method"], j["route"], j["status"], j["bytes"], j["completed"]),
           (r.method, route, r.status, len(r.body), True), "the log line of " + r.what())
        authed = r.status in (200, 201) and (route or "").startswith("/v1/")
        if authed:
            eq((j["actor"], j["role"]), (uid, "clinician"), "actor and role of " + r.what())
        else:
            eq((j["actor"], j["role"]), (None, None), "actor and role of " + r.what())
    return reqs


@case("logs: --log-format json writes a start line, one JSON line per request (id, method, "
      "route template, status, duration, bytes, staff user id and role) and a stop line; "
      "no subject id, name, NHS number, token, password, user name or query string")
def t_json(ctx):
    cx, st = staffed(ctx)
    srv = Server(cx, "--log-format", "json")
    with srv:
        out, token, secrets = traffic(srv, st)
    ids_unique(out)
    err = srv.stderr()
    lines = parse_json_lines(err)
    eq(lines[0]["event"], "start", "the first line")
    start = lines[0]
    eq((start["listen"], start["log_format"], start["store"]),
       ("127.0.0.1:%d" % srv.port, "json", cx.store), "the start line")
    check(re.match(r"^\d+\.\d+\.\d+", start["version"]), "no version in the start line", start)
    eq(lines[-1]["event"], "stop", "the last line")
    eq(lines[-1]["reason"], "SIGTERM", "the stop line's reason")
    check(isinstance(lines[-1]["drained"], int), "the stop line's drained count", lines[-1])
    reqs = check_request_lines(lines, out, st)
    eq(len(reqs), len(out), "request lines")
    no_secrets(err, secrets, "the JSON log")


@case("logs: CUSTOS_LOG_FORMAT=text writes human lines with the same facts and no secrets; "
      "a bad --log-format or CUSTOS_LOG_FORMAT is a usage error")
def t_text(ctx):
    cx, st = staffed(ctx)
    srv = Server(cx, env={"CUSTOS_LOG_FORMAT": "text"})
    with srv:
        out, token, secrets = traffic(srv, st)
    err = srv.stderr()
    check(not err.lstrip().startswith("{"), "text log is JSON", err[:500])
    for r, route in out:
        rid = r.header("x-request-id")
        mine = [ln for ln in err.splitlines() if " %s " % rid in ln]
        eq(len(mine), 1, "text lines naming request id %s" % rid)
        check(" %s %s %d " % (r.method, route or "-", r.status) in mine[0],
              "the text line of %s" % r.what(), mine[0])
        check(TIME_RE.match(mine[0].split(" ")[0]), "no time on a text line", mine[0])
    no_secrets(err, secrets, "the text log")
    # the flag wins over the environment; nonsense in either is refused before serving
    cx.fails(2, "serve", "--log-format", "xml", says="--log-format")
    cx.fails(2, "serve", env=cx.env({"CUSTOS_LOG_FORMAT": "syslog"}), says="CUSTOS_LOG_FORMAT")
    srv = Server(cx, "--log-format", "json", env={"CUSTOS_LOG_FORMAT": "text"})
    with srv:
        expect_status(srv.call("GET", "/healthz"), 200, "healthz")
    parse_json_lines(srv.stderr())


@case("logs: lines of many concurrent requests never interleave (each is one JSON object); "
      "--no-request-log leaves out request lines but keeps start and stop")
def t_concurrent(ctx):
    cx, st = staffed(ctx)
    srv = Server(cx, "--log-format", "json", "--threads", "4")
    sid = st.subjects["S1"]["id"]
    with srv:
        token = st.signin(srv, USERNAME)
        statuses = []

        def worker(k):
            for i in range(25):
                path = "/v1/subjects/%s" % sid if i % 2 else "/healthz"
                r = srv.call("GET", path, token=token,
                             headers={"X-Request-Id": "w%d-%d-%s" % (k, i, "x" * 40)})
                statuses.append(r.status)

        ts = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        eq(sorted(set(statuses)), [200], "statuses under load")
    lines = parse_json_lines(srv.stderr())
    got = sorted(j["request_id"] for j in lines if j["event"] == "request"
                 and j["request_id"].startswith("w"))
    want = sorted("w%d-%d-%s" % (k, i, "x" * 40) for k in range(8) for i in range(25))
    eq(got, want, "request lines under load")
    srv = Server(cx, "--log-format", "json", "--no-request-log")
    with srv:
        expect_status(srv.call("GET", "/healthz"), 200, "healthz")
    lines = parse_json_lines(srv.stderr())
    eq([j["event"] for j in lines if j["event"] in ("start", "request", "stop")],
       ["start", "stop"], "events with --no-request-log")
    eq(lines[0]["request_lines"], "off", "the start line says request lines are off")


class JournalReader:
    """Reads every datagram on a bound socket in a thread, as journald would."""

    def __init__(self, sock):
        self.sock, self.data, self.stop = sock, [], False
        sock.settimeout(0.1)
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        while True:
            try:
                self.data.append(self.sock.recv(65536))
            except socket.timeout:
                if self.stop:
                    return

    def finish(self):
        self.stop = True
        self.t.join()
        return [parse_record(d) for d in self.data]


def parse_record(data):
    """One datagram, parsed as the journal's native protocol (the simple
    KEY=value form: custos never sends a value with a newline)."""
    text = data.decode("utf-8")
    check(text.endswith("\n"), "a journal record does not end with a newline", text)
    rec = {}
    for ln in text[:-1].split("\n"):
        k, sep, v = ln.partition("=")
        check(sep and re.match(r"^[A-Z0-9][A-Z0-9_]*$", k), "not a journal field: %r" % ln, text)
        check(k not in rec, "field %s twice in a record" % k, text)
        rec[k] = v
    for k in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CUSTOS_EVENT"):
        check(k in rec, "a journal record has no %s" % k, text)
    check(rec["PRIORITY"] in ("3", "4", "6"), "PRIORITY", text)
    eq(rec["SYSLOG_IDENTIFIER"], "custos", "SYSLOG_IDENTIFIER")
    return rec, text


@case("logs: --log-format journal sends native-protocol records (MESSAGE, PRIORITY, "
      "CUSTOS_REQUEST_ID, CUSTOS_ROUTE, CUSTOS_STATUS ...) to the journal socket, nothing "
      "to stderr; with no journal socket it says so and writes JSON lines to stderr")
def t_journal(ctx):
    cx, st = staffed(ctx)
    path = os.path.join(ctx.tmp.make(), "journal.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    reader = JournalReader(sock)
    try:
        srv = Server(cx, "--log-format", "journal", env={"CUSTOS_JOURNAL_SOCKET": path})
        with srv:
            out, token, secrets = traffic(srv, st)
    finally:
        got = reader.finish()
        sock.close()
    eq(srv.stderr(), "", "stderr when logging to the journal")
    recs = [r for r, _ in got]
    eq(recs[0]["CUSTOS_EVENT"], "start", "the first record")
    eq(recs[0]["CUSTOS_LISTEN"], "127.0.0.1:%d" % srv.port, "CUSTOS_LISTEN")
    eq(recs[-1]["CUSTOS_EVENT"], "stop", "the last record")
    by_id = {r["CUSTOS_REQUEST_ID"]: r for r in recs if r["CUSTOS_EVENT"] == "request"}
    eq(len(by_id), len(out), "request records")
    uid = st.users[USERNAME]["id"]
    for r, route in out:
        j = by_id.get(r.header("x-request-id"))
        check(j, "no journal record for " + r.what())
        eq((j["CUSTOS_METHOD"], j.get("CUSTOS_ROUTE"), j["CUSTOS_STATUS"],
            j["CUSTOS_BYTES"]), (r.method, route, str(r.status), str(len(r.body))),
           "the record of " + r.what())
        check(j["PRIORITY"] == ("4" if r.status >= 500 else "6"), "PRIORITY", j)
        if r.status == 200 and route.startswith("/v1/"):
            eq((j["CUSTOS_ACTOR"], j["CUSTOS_ROLE"]), (uid, "clinician"), "actor of " + r.what())
    no_secrets("".join(t for _, t in got), secrets, "the journal records")
    # no journal: said at start, then JSON on stderr
    srv = Server(cx, "--log-format", "journal",
                 env={"CUSTOS_JOURNAL_SOCKET": os.path.join(ctx.tmp.make(), "none.sock")})
    with srv:
        expect_status(srv.call("GET", "/healthz"), 200, "healthz")
    lines = parse_json_lines(srv.stderr())
    check(lines[0]["level"] == "warning" and "journal" in lines[0]["msg"],
          "no warning that the journal is unreachable", lines[:2])
    eq(lines[1]["event"], "start", "the start line after the warning")
    eq(lines[1]["log_format"], "json", "the format in use")
    check(any(j["event"] == "request" and j["route"] == "/healthz" for j in lines),
          "no request line on stderr", lines)
