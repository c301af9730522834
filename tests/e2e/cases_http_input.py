"""HTTP API: bad input on every route. Malformed JSON, wrong types, unknown
fields, wrong Content-Type, oversized bodies, missing/forged/revoked
credentials, path traversal, SQL metacharacters and NUL bytes in paths, query
parameters and JSON strings, unknown query parameters and slow clients. Each
is answered 4xx application/problem+json (never 5xx), and leaves the store
exactly as it was: no row changes, no audit event."""

import json
import socket
import time

from harness import registry, Fail, check, eq, sql, alone
from fixtures import PERSON1, NHS1, EMAIL1_NORM
from http_client import (Server, Staff, expect_status, expect_problem, audit_seq,
                         events_after, stable_dump, random_id, PROBLEM_PREFIX, call)
from harness import diff_dumps

CASES, case = registry()


def setup(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Input Trust")
    st.controller("B", "Borchester Input Practice")
    st.user("clinician", "A", "clinician")
    st.user("care_admin", "A", "care_admin")
    st.user("dpo", "A", "dpo")
    st.user("leaver", "A", "clinician")
    st.token("feed", "A", "clinician")
    st.subject("S1", "A", PERSON1)
    st.care("clinician", "S1")
    return cx, st


class Checker:
    """Sends bad requests; each must be a 4xx problem that changes nothing."""

    def __init__(self, srv, db):
        self.srv, self.db = srv, db
        self.problems = []
        self.n = 0

    def expect(self, what, method, path, body=None, token=None, ctype="application/json",
               status=None, kind=None, headers=None, raw_body=None):
        before = stable_dump(self.db)
        seq0 = audit_seq(self.db)
        if raw_body is not None:
            h = dict(headers or {})
            if token:
                h["Authorization"] = "Bearer " + token
            if ctype:
                h["Content-Type"] = ctype
            from http_client import raw_request
            r = raw_request(self.srv.port, method, path, raw_body, h)
        else:
            r = self.srv.call(method, path, body, token=token, ctype=ctype, headers=headers)
        self.n += 1
        self.check_response(what, r, status, kind)
        evs = events_after(self.db, seq0)
        if evs:
            self.problems.append("%s: %d audit events appended: %r" % (
                what, len(evs), [(e["actor"], e["action"], e["outcome"]) for e in evs]))
        after = stable_dump(self.db)
        if after != before:
            self.problems.append("%s: the store changed:\n%s" % (what, diff_dumps(before, after)))
        return r

    def check_response(self, what, r, status, kind):
        if r.status >= 500:
            self.problems.append("%s: %s" % (what, r.describe()))
            return
        if not 400 <= r.status < 500 or (status is not None and r.status != status):
            self.problems.append("%s: expected %s, got %s" % (
                what, status or "4xx", r.describe()))
            return
        try:
            expect_problem(r, r.status, kind)
        except Fail as e:
            self.problems.append("%s: %s" % (what, e))

    def done(self):
        check(not self.problems, "%d of %d bad requests mishandled:\n%s" % (
            len(self.problems), self.n, "\n".join(p[:700] for p in self.problems[:60])))


# Every route with a body, a good body for it, and the token that may use it.
def body_routes(st):
    s1 = st.subjects["S1"]["id"]
    return [
        ("POST", "/v1/sessions", None,
         {"username": "clinician", "password": "correct horse battery staple"}),
        ("POST", "/v1/subjects", "clinician", {"kind": "patient", "name": "Valid Name"}),
        ("POST", "/v1/subjects/search", "clinician", {"nhs_number": NHS1}),
        ("PATCH", "/v1/subjects/" + s1, "clinician", {"postcode": "QX1 1AA"}),
        ("POST", "/v1/subjects/%s/items" % s1, "clinician",
         {"items": [{"category": "health", "field": "note", "value": "fine"}]}),
        ("POST", "/v1/subjects/%s/break-glass" % s1, "clinician",
         {"reason": "a long enough reason", "minutes": 5}),
    ]


WRONG_TYPES = {
    "/v1/sessions": [{"username": 5, "password": "correct horse battery staple"},
                     {"username": "clinician", "password": ["x"]},
                     {"username": "clinician", "password": "correct horse battery staple",
                      "code": 123456},
                     {"username": "clinician"},
                     {"username": None, "password": "correct horse battery staple"}],
    "/v1/subjects": [{"kind": 5}, {"kind": "patient", "name": ["Ann"]},
                     {"kind": "patient", "items": {}},
                     {"kind": "patient", "items": [{"category": "health", "field": "x",
                                                    "value": 5}]},
                     {"kind": "patient", "items": ["x"]},
                     {"kind": "patient", "birth_date": 19710314},
                     {"name": "No Kind Given"}],
    "/v1/subjects/search": [{"nhs_number": 9990000018}, {}, {"nhs_number": NHS1,
                                                             "email": EMAIL1_NORM},
                            {"email": None}],
    "PATCH": [{"postcode": 12}, {"items": [{"id": 5, "value": "x"}]},
              {"items": [{"id": random_id(), "value": ["x"]}]}],
    "items": [{"items": [{"category": 1, "field": "x", "value": "y"}]}, {"items": "x"},
              {"items": [{"category": "health", "field": "x", "value": "y",
                          "id": random_id()}]}],
    "break-glass": [{"reason": 5}, {"reason": "a long enough reason", "minutes": "5"},
                    {"reason": "a long enough reason", "minutes": 1.5},
                    {"reason": "a long enough reason", "minutes": 0},
                    {"reason": "a long enough reason", "minutes": 241},
                    {"reason": "too short"}, {"minutes": 5}],
}


def wrong_types_for(path):
    if path.endswith("/items"):
        return WRONG_TYPES["items"]
    if path.endswith("/break-glass"):
        return WRONG_TYPES["break-glass"]
    if path.startswith("/v1/subjects/") and path != "/v1/subjects/search":
        return WRONG_TYPES["PATCH"]
    return WRONG_TYPES[path]


# Values with SQL metacharacters or NUL bytes, in JSON strings with rules.
INJECT = ["x' OR '1'='1", "'; DROP TABLE subjects; --", "\" OR 1=1 --", "a\u0000b",
          "Robert'); DELETE FROM audit_events;--", "%00", "\\\u0000"]


def injected_bodies(path, s1):
    out = []
    for v in INJECT:
        if path == "/v1/sessions":
            # (a short code is ignored for an account without one-time codes, and a
            # well-formed attempt is recorded: only what the body parser refuses here)
            if len(v) > 7 or "\u0000" in v:
                out.append({"username": "clinician",
                            "password": "correct horse battery staple", "code": v})
            if "\u0000" in v:
                out.append({"username": v, "password": "correct horse battery staple"})
                out.append({"username": "clinician", "password": "correct horse " + v})
        elif path == "/v1/subjects":
            out += [{"kind": v}, {"kind": "patient", "nhs_number": v},
                    {"kind": "patient", "email": v}, {"kind": "patient", "birth_date": v},
                    {"kind": "patient", "items": [{"category": v, "field": "x", "value": "y"}]},
                    {"kind": "patient", "items": [{"category": "health", "field": v,
                                                   "value": "y"}]},
                    {"kind": "patient", "items": [{"category": "health", "field": "x",
                                                   "value": "y", "source": v}]}]
            if "\u0000" in v:
                out.append({"kind": "patient", "name": v})
        elif path == "/v1/subjects/search":
            out += [{"nhs_number": v}, {"email": v}, {"phone": v}]
            if "\u0000" in v:
                out.append({"local_ref": v})
        elif path.endswith("/items"):
            out += [{"items": [{"category": "health", "field": v, "value": "y"}]},
                    {"items": [{"category": "health", "field": "x", "value": "y",
                                "collected_at": v}]}]
            if "\u0000" in v:
                out.append({"items": [{"category": "health", "field": "x", "value": v}]})
        elif path.endswith("/break-glass"):
            if "\u0000" in v:
                out.append({"reason": "long enough " + v})
        else:  # PATCH
            out += [{"items": [{"id": v, "value": "y"}]}, {"nhs_number": v},
                    {"email": v}]
            if "\u0000" in v:
                out.append({"address": v})
    return out


def exchange(port, data, wait=10.0):
    """Sends raw bytes (tolerating a server that closes early) and reads one
    response: (status, headers dict, body bytes), or (None, {}, b"")."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        buf = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                hdrs = {}
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.decode("latin-1").partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                n = int(hdrs.get("content-length", "0"))
                if len(rest) >= n:
                    break
        if not buf:
            return None, {}, b""
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.decode("latin-1").partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return status, hdrs, rest
    finally:
        s.close()


@case("http bad input: malformed JSON, wrong types, unknown fields, wrong Content-Type, "
      "NUL and SQL metacharacters in bodies: 4xx problem, store unchanged")
def t_bodies(ctx):
    cx, st = setup(ctx)
    with Server(cx) as srv:
        for u in ("clinician", "dpo"):
            st.signin(srv, u)
        c = Checker(srv, cx.db)
        s1 = st.subjects["S1"]["id"]
        for method, path, who, good in body_routes(st):
            tok = st.sessions.get(who) if who else None
            w = "%s %s" % (method, path)
            for raw in (b'{"kind": "patient",', b"{", b"", b"nul", b"{'a': 1}",
                        b'{"a": 1}}', b"\xff\xfe{}", b'{"kind": "patient", "kind": "other"}'):
                c.expect("%s malformed %r" % (w, raw), method, path, token=tok, raw_body=raw,
                         status=400, kind="invalid-input")
            for j in ([], "str", 42, None, [good]):
                c.expect("%s non-object %r" % (w, j), method, path, json.dumps(j), token=tok,
                         status=400, kind="invalid-input")
            for j in wrong_types_for(path):
                c.expect("%s wrong type %r" % (w, j), method, path, j, token=tok,
                         status=400, kind="invalid-input")
            bad = dict(good)
            bad["unexpected_field"] = "x"
            c.expect("%s unknown field" % w, method, path, bad, token=tok, status=400,
                     kind="invalid-input")
            for ct in ("text/plain", "application/x-www-form-urlencoded", None,
                       "application/jsonx", "multipart/form-data; boundary=x", "json"):
                c.expect("%s Content-Type %r" % (w, ct), method, path, good, token=tok,
                         ctype=ct, status=415, kind="unsupported-media-type")
            c.expect("%s raw NUL byte in the body" % w, method, path, token=tok,
                     raw_body=json.dumps(good).encode()[:-1] + b'\x00}', status=400,
                     kind="invalid-input")
            for j in injected_bodies(path, s1):
                c.expect("%s injected %r" % (w, j), method, path, j, token=tok, status=400,
                         kind="invalid-input")
        c.done()
        # the good bodies really are good (so the refusals above were about the input)
        for method, path, who, good in body_routes(st):
            if path == "/v1/sessions":
                continue
            r = srv.call(method, path, good, token=st.sessions[who])
            check(200 <= r.status < 300, "the good body is refused", r.describe())
        # free text with SQL metacharacters is data: stored and returned verbatim
        nasty = "O'Brien\"; DROP TABLE subjects; -- %00 \\x00 ' OR '1'='1"
        r = srv.call("POST", "/v1/subjects/%s/items" % s1,
                     {"items": [{"category": "health", "field": "note", "value": nasty}]},
                     token=st.sessions["clinician"])
        expect_status(r, 201, "free text with SQL metacharacters")
        r = srv.call("GET", "/v1/subjects/%s/items" % s1, token=st.sessions["clinician"])
        check(any(it["value"] == nasty for it in r.json()["items"]),
              "free text not returned verbatim", r.text[:500])
        r = srv.call("POST", "/v1/subjects/search", {"local_ref": "x' OR '1'='1"},
                     token=st.sessions["clinician"])
        expect_status(r, 200, "search with SQL metacharacters")
        eq(r.json(), {"ids": []}, "an injected search matches nothing")
        eq(sql(cx.db, "SELECT count(*) FROM subjects")[0][0], 2, "subjects (1 + 1 created)")


@case("http bad input: bodies over 1 MiB get 413 (Content-Length or chunked) and the "
      "server keeps serving; store unchanged")
def t_huge(ctx):
    cx, st = setup(ctx)
    with Server(cx) as srv:
        tok = st.signin(srv, "clinician")
        c = Checker(srv, cx.db)
        big = b'{"kind": "patient", "name": "' + b"A" * (1 << 20) + b'"}'
        for method, path, who, _ in body_routes(st):
            before = stable_dump(cx.db)
            auth = ("Authorization: Bearer %s\r\n" % tok) if who else ""
            head = ("%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s"
                    "Content-Length: %d\r\n\r\n" % (method, path, auth, len(big))).encode()
            status, hdrs, body = exchange(srv.port, head + big)
            w = "%s %s with %d bytes" % (method, path, len(big))
            if status != 413:
                c.problems.append("%s: got %r %r" % (w, status, body[:200]))
            else:
                j = json.loads(body)
                if j.get("type") != PROBLEM_PREFIX + "payload-too-large" or \
                        not hdrs.get("content-type", "").startswith("application/problem+json") \
                        or hdrs.get("cache-control") != "no-store":
                    c.problems.append("%s: %r %r" % (w, hdrs, j))
            # chunked, no Content-Length: counted while read
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(big[i:i + 65536]), big[i:i + 65536])
                              for i in range(0, len(big), 65536)) + b"0\r\n\r\n"
            head = ("%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s"
                    "Transfer-Encoding: chunked\r\n\r\n" % (method, path, auth)).encode()
            status, hdrs, body = exchange(srv.port, head + chunks)
            if status != 413:
                c.problems.append("%s chunked: got %r %r" % (w, status, body[:200]))
            # a Content-Length that claims more than the limit, with no body at all
            head = ("%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s"
                    "Content-Length: 99999999999\r\n\r\n" % (method, path, auth)).encode()
            status, hdrs, body = exchange(srv.port, head)
            if status != 413:
                c.problems.append("%s huge Content-Length: got %r %r" % (w, status, body[:200]))
            check(srv.alive(), "the server died after " + w, srv.stderr()[-2000:])
            r = srv.call("GET", "/healthz")
            expect_status(r, 200, "healthz after " + w)
            after = stable_dump(cx.db)
            if after != before:
                c.problems.append("%s: store changed:\n%s" % (w, diff_dumps(before, after)))
        # just under the limit is not refused as too large
        doc = {"kind": "patient", "name": "Just Under",
               "items": [{"category": "health", "field": "f%d" % i, "value": "v" * 60000}
                         for i in range(16)]}
        body = json.dumps(doc).encode()
        check(len(body) < (1 << 20), "test body too big")
        r = srv.call("POST", "/v1/subjects", body, token=tok)
        expect_status(r, 201, "a %d-byte document" % len(body))
        c.done()


@case("http bad input: missing, forged, malformed and revoked credentials -> 401 with "
      "WWW-Authenticate: Bearer on every personal route; no audit event")
def t_credentials(ctx):
    cx, st = setup(ctx)
    s1 = st.subjects["S1"]["id"]
    with Server(cx) as srv:
        st.signin(srv, "leaver")
        dead = st.sessions["leaver"]
        expect_status(srv.call("DELETE", "/v1/sessions/current", token=dead), 204, "sign-out")
        live = st.signin(srv, "clinician")
        revoked = st.tokens["feed"]["token"]
        cx.ok("user", "token", "revoke", st.tokens["feed"]["id"])
        c = Checker(srv, cx.db)
        routes = [("POST", "/v1/subjects", {"kind": "patient", "name": "X Y"}),
                  ("GET", "/v1/subjects", None),
                  ("POST", "/v1/subjects/search", {"nhs_number": NHS1}),
                  ("GET", "/v1/subjects/" + s1, None),
                  ("PATCH", "/v1/subjects/" + s1, {"postcode": "QX1 1AA"}),
                  ("POST", "/v1/subjects/%s/items" % s1,
                   {"items": [{"category": "health", "field": "n", "value": "v"}]}),
                  ("GET", "/v1/subjects/%s/items" % s1, None),
                  ("GET", "/v1/subjects/%s/access-log" % s1, None),
                  ("POST", "/v1/subjects/%s/break-glass" % s1,
                   {"reason": "a long enough reason"}),
                  ("GET", "/v1/break-glass", None),
                  ("PUT", "/v1/subjects/%s/care-team/clinician" % s1, None),
                  ("DELETE", "/v1/subjects/%s/care-team/clinician" % s1, None),
                  ("GET", "/v1/audit", None), ("GET", "/v1/audit/verify", None),
                  ("DELETE", "/v1/sessions/current", None)]
        forged_session = "cus_" + "A" * 43
        forged_token = "cut_" + "B" * 43
        creds = [("none", None), ("empty bearer", "Bearer "),
                 ("forged session", "Bearer " + forged_session),
                 ("forged token", "Bearer " + forged_token),
                 ("session with a flipped character", "Bearer " + live[:-1] +
                  ("A" if live[-1] != "A" else "B")),
                 ("signed-out session", "Bearer " + dead),
                 ("revoked API token", "Bearer " + revoked),
                 ("Basic scheme", "Basic Y2xpbmljaWFuOnBhc3N3b3Jk"),
                 ("truncated session", "Bearer " + live[:10]),
                 ("SQL in the token", "Bearer cus_' OR '1'='1"),
                 ("very long token", "Bearer cus_" + "x" * 4000)]
        for method, path, body in routes:
            for label, auth in creds:
                h = {"Authorization": auth} if auth is not None else {}
                r = c.expect("%s %s with %s" % (method, path, label), method, path, body,
                             headers=h, status=401, kind="unauthenticated")
                if r.status == 401 and not (r.header("www-authenticate") or "").startswith(
                        "Bearer"):
                    c.problems.append("%s %s with %s: no WWW-Authenticate: Bearer" % (
                        method, path, label))
        # an invalid Custos-Purpose is refused before anything is done
        c.expect("bad Custos-Purpose", "GET", "/v1/subjects/" + s1, token=live,
                 headers={"Custos-Purpose": "Not A Name!"}, status=400, kind="invalid-input")
        c.done()
        # the live session still works
        expect_status(srv.call("GET", "/v1/subjects/" + s1, token=live), 200, "live session")


@case("http bad input: path traversal, double slashes, trailing slashes, SQL and NUL in "
      "paths and query parameters, unknown query parameters -> 404/400/405, no change")
def t_paths_queries(ctx):
    cx, st = setup(ctx)
    s1 = st.subjects["S1"]["id"]
    with Server(cx) as srv:
        dpo = st.signin(srv, "dpo")
        clin = st.signin(srv, "clinician")
        c = Checker(srv, cx.db)
        # paths that name no route: 404 (even with a token that could read /v1/audit)
        for path in ("/v1/subjects/../audit", "/v1/subjects/%2e%2e/audit",
                     "/v1/subjects/%2E%2E/audit", "/v1/subjects/..%2faudit",
                     "/v1/subjects/%2f..%2f..%2faudit", "/v1/./audit", "/v1/%2e/audit",
                     "//v1/audit", "/v1//audit", "/v1/audit/", "/v1/audit//",
                     "/v1/subjects/", "/v1/subjects/%s/" % s1, "/v1/subjects//%s" % s1,
                     "/V1/audit", "/v1/AUDIT", "/v1/audit%00", "/v1/audit%00x",
                     "/v1/audit%00/verify", "/v1/subjects%00", "/v1/audit%20",
                     "/v1/subjects/%s%%00" % s1, "/v1/subjects/%s%%00/items" % s1,
                     "/v1/subjects/%s'%%20OR%%20'1'='1" % s1, "/v1/subjects/1'%20OR%20'1'='1",
                     "/v1/subjects/%27%3B%20DROP%20TABLE%20subjects%3B--",
                     "/v1/subjects/%s/care-team/clinician'--" % s1,
                     "/v1/subjects/%s/care-team/clinician%%00" % s1,
                     "/v1/subjects/%s/care-team/..%%2f..%%2faudit" % s1,
                     "/v1/subjects/" + s1.upper(), "/v1/subjects/psn_" + "g" * 32,
                     "/v1/subjects/psn_%27", "/v1/subjects/" + "a" * 600,
                     "/" + "a/" * 40 + "b", "/v1/sessions/current/../../audit",
                     "/healthz/", "/healthz%00", "/metrics/..", "/", "/v1", "/v2/audit",
                     "/v1/audit;jsessionid=1", "/v1/audit\\..\\x"):
            for method in ("GET", "DELETE"):
                c.expect("%s %s" % (method, path), method, path, token=dpo, status=404,
                         kind="not-found")
        # methods a path does not take: 405 with Allow
        for method, path, allow in (("PUT", "/v1/subjects", "GET, POST"),
                                    ("DELETE", "/v1/subjects/" + s1, "GET, PATCH"),
                                    ("GET", "/v1/sessions", "POST"),
                                    ("POST", "/v1/audit", "GET"),
                                    ("POST", "/healthz", "GET")):
            r = c.expect("%s %s" % (method, path), method, path, token=dpo, status=405,
                         kind="method-not-allowed")
            if r.status == 405 and not r.header("allow"):
                c.problems.append("%s %s: 405 without Allow" % (method, path))
        # query parameters with SQL metacharacters, NUL bytes and bad values: 400
        q = [("/v1/subjects", "nhs_number=' OR 1=1 --"), ("/v1/subjects", "nhs_number=%00"),
             ("/v1/subjects", "nhs_number=%s%%00" % NHS1),
             ("/v1/subjects", "nhs_number=%s%%00%%27%%20OR%%201=1" % NHS1),
             ("/v1/subjects", "email=%s%%00" % EMAIL1_NORM),
             ("/v1/subjects", "email=' OR ''='"), ("/v1/subjects", "phone=1;DROP TABLE x"),
             ("/v1/subjects", "phone=%2B447700900461%00"),
             ("/v1/subjects", "local_ref=MRN%00' OR 1=1"),
             ("/v1/subjects", "local_ref=%01"), ("/v1/subjects", "nhs_number="),
             ("/v1/subjects", "nhs_number=%s&email=%s" % (NHS1, EMAIL1_NORM)),
             ("/v1/audit", "subject=' OR 1=1 --"), ("/v1/audit", "subject=%s%%00" % s1),
             ("/v1/audit", "subject=%s'" % s1), ("/v1/audit", "actor=a b"),
             ("/v1/audit", "actor=clinician%00"), ("/v1/audit", "actor=x%0Ay"),
             ("/v1/audit", "since=2024-01-01' OR 1=1"), ("/v1/audit", "since=2024-13-01"),
             ("/v1/audit", "since=2024-01-01%00"), ("/v1/audit", "until=yesterday"),
             ("/v1/audit", "until=2024-01-01%00"), ("/v1/audit", "until=' OR 1=1 --"),
             ("/v1/audit", "actor=' OR 1=1 --"), ("/v1/subjects", "local_ref=x%00"),
             ("/v1/audit", "limit=0"), ("/v1/audit", "limit=10001"),
             ("/v1/audit", "limit=1;DROP TABLE audit_events"), ("/v1/audit", "limit=1%00"),
             ("/v1/audit", "limit=-1"), ("/v1/audit", "limit=1e3"), ("/v1/audit", "limit="),
             ("/v1/break-glass", "since=%00"), ("/v1/break-glass", "since=' OR 1=1")]
        for path, query in q:
            c.expect("GET %s?%s" % (path, query), "GET", path + "?" + query.replace(" ", "%20"),
                     token=dpo, status=400, kind="invalid-input")
        # unknown query parameters, on every route, authenticated or not
        every = [("GET", "/healthz"), ("GET", "/metrics"), ("POST", "/v1/sessions"),
                 ("DELETE", "/v1/sessions/current"), ("POST", "/v1/subjects"),
                 ("GET", "/v1/subjects"), ("POST", "/v1/subjects/search"),
                 ("GET", "/v1/subjects/" + s1), ("PATCH", "/v1/subjects/" + s1),
                 ("POST", "/v1/subjects/%s/items" % s1), ("GET", "/v1/subjects/%s/items" % s1),
                 ("GET", "/v1/subjects/%s/access-log" % s1),
                 ("POST", "/v1/subjects/%s/break-glass" % s1), ("GET", "/v1/break-glass"),
                 ("PUT", "/v1/subjects/%s/care-team/clinician" % s1),
                 ("DELETE", "/v1/subjects/%s/care-team/clinician" % s1),
                 ("GET", "/v1/audit"), ("GET", "/v1/audit/verify")]
        for method, path in every:
            for query in ("debug=1", "nhs_number=%s&x=1" % NHS1, "subject%00=1", "%27=1",
                          "limit=5&limit2=6"):
                for tok in (dpo, None):
                    c.expect("%s %s?%s%s" % (method, path, query, "" if tok else " (no token)"),
                             method, path + "?" + query, token=tok, status=400,
                             kind="invalid-input", body={} if method in ("POST", "PATCH")
                             else None)
        c.done()
        # the legitimate versions of those queries work (the 400s were about the input)
        expect_status(srv.call("POST", "/v1/subjects/search", {"nhs_number": NHS1},
                               token=clin), 200, "search by NHS number")
        r = srv.call("GET", "/v1/audit?subject=%s&limit=5&since=2000-01-01" % s1, token=dpo)
        expect_status(r, 200, "audit query")
        eq(srv.call("POST", "/v1/subjects/search", {"nhs_number": NHS1}, token=clin).json(),
           {"ids": [s1]}, "search answer")


@case("http bad input: slow clients (half-sent headers or body) do not stop the server "
      "serving others")
@alone("a bound on the time 21 requests take with slow clients connected")
def t_slow(ctx):
    cx, st = setup(ctx)
    s1 = st.subjects["S1"]["id"]
    with Server(cx) as srv:
        tok = st.signin(srv, "clinician")
        slow = []
        try:
            # 40 connections that send half their headers, 10 that send half a body
            for i in range(40):
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                s.sendall(b"GET /v1/subjects/%s HTTP/1.1\r\nHost: x\r\nAuthor" % s1.encode())
                slow.append(s)
            for i in range(10):
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                s.sendall(("POST /v1/subjects/%s/items HTTP/1.1\r\nHost: x\r\n"
                           "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                           "Content-Length: 200\r\n\r\n{\"items\": [" % (s1, tok)).encode())
                slow.append(s)
            seq0 = audit_seq(cx.db)
            t0 = time.monotonic()
            for i in range(20):
                r = srv.call("GET", "/v1/subjects/" + s1, token=tok, timeout=10)
                expect_status(r, 200, "a request while 50 slow clients are connected")
            r = srv.call("POST", "/v1/subjects/%s/items" % s1,
                         {"items": [{"category": "health", "field": "n", "value": "v"}]},
                         token=tok, timeout=10)
            expect_status(r, 201, "a write while slow clients are connected")
            dt = time.monotonic() - t0
            check(dt < 10, "21 requests took %.1fs with slow clients connected" % dt)
            eq(len(events_after(cx.db, seq0)), 21, "audit events for the served requests")
            # the slow ones have had no answer: they are still waiting for their own bytes
            time.sleep(1.0)
            for s in slow[:3] + slow[-3:]:
                s.setblocking(False)
                try:
                    data = s.recv(100)
                    check(data == b"", "a half-sent request got an answer: %r" % data[:100])
                except BlockingIOError:
                    pass
            # a slow client that finally finishes gets its answer
            s = slow[0]
            s.setblocking(True)
            s.settimeout(10)
            s.sendall(b"ization: Bearer %s\r\n\r\n" % tok.encode())
            data = s.recv(65536)
            check(data.startswith(b"HTTP/1.1 200"), "the slow client's late answer",
                  data[:300])
        finally:
            for s in slow:
                s.close()
        # the half-sent body wrote nothing: one subject still has exactly the item added
        check(srv.alive(), "server died")
