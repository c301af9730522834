"""Refusals and answers at the edges of the CLI and the API: an unknown query
parameter is named (bounded, printable), API problems name API routes rather
than CLI commands, `custos serve` says why it cannot listen and accepts host
names and IPv6 literals, a consent withdrawn twice is answered without a
second record, identity evidence cannot predate its request."""

import json
import socket

from harness import registry, check, eq, expect_error
from fixtures import PERSON1
from http_client import (Server, Staff, expect_status, expect_problem, audit_seq,
                         events_after, stable_dump)

CASES, case = registry()


def staffed(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Edge Trust")
    st.user("clinician", "A", "clinician")
    st.user("dpo", "A", "dpo")
    st.subject("S1", "A", PERSON1)
    st.care("clinician", "S1")
    return cx, st


@case("an unknown query parameter is named in the problem, bounded and printable, and "
      "nothing is written")
def t_unknown_query_named(ctx):
    cx, st = staffed(ctx)
    sid = st.subjects["S1"]["id"]
    with Server(cx) as srv:
        tok = st.signin(srv, "clinician")
        before = stable_dump(cx.db)
        seq0 = audit_seq(cx.db)
        r = srv.call("GET", "/v1/subjects/%s/items?limitt=5" % sid, token=tok)
        j = expect_problem(r, 400, "invalid-input")
        eq(j.get("detail"), 'unknown query parameter "limitt"', "detail")
        # only the first unknown one, after known ones
        r = srv.call("GET", "/v1/subjects/%s/items?limit=5&debug=1&trace=2" % sid, token=tok)
        eq(expect_problem(r, 400, "invalid-input").get("detail"),
           'unknown query parameter "debug"', "detail naming the first unknown")
        # a long name is cut at 40 characters; odd bytes are shown as '?'
        r = srv.call("GET", "/v1/audit?" + "a" * 300 + "=1", token=tok)
        eq(expect_problem(r, 400, "invalid-input").get("detail"),
           'unknown query parameter "%s..."' % ("a" * 40), "detail of a long name")
        r = srv.call("GET", "/v1/audit?%3Cscript%3E%22%27=1", token=tok)
        d = expect_problem(r, 400, "invalid-input").get("detail")
        eq(d, 'unknown query parameter "?script???"',
           "detail of a name with markup")
        # a value is never echoed, only the name
        r = srv.call("GET", "/v1/subjects?nhs_numbr=9990000018", token=tok)
        d = expect_problem(r, 400, "invalid-input").get("detail")
        eq(d, 'unknown query parameter "nhs_numbr"', "detail of a misspelt search")
        check("9990000018" not in r.body.decode(), "the value is echoed", r.describe())
        eq(stable_dump(cx.db), before, "store after unknown query parameters")
        eq(audit_seq(cx.db), seq0, "audit events after unknown query parameters")


def serve_once(cx, listen, *extra, timeout=30):
    """custos serve --listen LISTEN; returns (rc, first stdout line, stderr) once it
    either exits or says where it listens (then it is stopped with SIGTERM)."""
    import os
    import select
    import signal
    import subprocess
    import time
    p = subprocess.Popen([cx.binary, "--store", cx.store, "serve", "--listen", listen]
                         + list(extra), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=cx.env())
    line = b""
    deadline = time.monotonic() + timeout
    try:
        while not line.endswith(b"\n") and p.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 0.2)
            if ready:
                ch = os.read(p.stdout.fileno(), 1)
                if not ch:
                    break
                line += ch
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=40)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, (line + out).decode().split("\n")[0], err.decode()


@case("serve: a port in use is refused with exit 1 naming the address and why; host "
      "names and [IPv6] literals are accepted; malformed addresses are usage errors")
def t_serve_listen(ctx):
    cx, st = staffed(ctx)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        rc, out, err = serve_once(cx, "127.0.0.1:%d" % port)
        eq((rc, out), (1, ""), "exit status and stdout of serve on a port in use")
        eq(err, "custos: cannot listen on 127.0.0.1:%d: address already in use\n" % port,
           "the refusal of a port in use")
    finally:
        busy.close()
    rc, out, err = serve_once(cx, "no-such-host.invalid:0")
    eq((rc, err), (1, "custos: cannot listen on no-such-host.invalid:0: the host name does "
                      "not resolve\n"), "serve on a host name that does not resolve")
    for bad in ("localhost", "[::1]", "::1:80", "[::1:80", "[nothost]:80", "bad host:80",
                "-x:80", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8o", "127.0.0.1:",
                ":8080", "a" * 300 + ":80", "[::1]x:80"):
        rc, out, err = serve_once(cx, bad)
        eq(rc, 2, "exit status of --listen %r" % bad[:40])
        check(err.startswith("custos: --listen takes HOST:PORT") and err.count("\n") == 1,
              "the usage error of --listen %r" % bad[:40], err)
    # a host name, and an IPv6 literal (when the machine has an IPv6 loopback)
    targets = [("localhost:0", "http://localhost:")]
    try:
        s6 = socket.socket(socket.AF_INET6)
        s6.bind(("::1", 0))
        s6.close()
        targets.append(("[::1]:0", "http://[::1]:"))
    except OSError:
        pass
    import subprocess
    for listen, prefix in targets:
        p = subprocess.Popen([cx.binary, "--store", cx.store, "serve", "--listen", listen],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=cx.env())
        try:
            line = p.stdout.readline().decode().strip()
            check(line.startswith("listening on " + prefix), "serve --listen %s said" % listen,
                  line)
            port = int(line.rsplit(":", 1)[1])
            host = "::1" if "[" in listen else "localhost"
            fam = socket.AF_INET6 if host == "::1" else socket.AF_UNSPEC
            addr = socket.getaddrinfo(host, port, fam, socket.SOCK_STREAM)
            answered = None
            for af, kind, proto, _, sa in addr:
                try:
                    c = socket.socket(af, kind, proto)
                    c.settimeout(20)
                    c.connect(sa)
                except OSError:
                    continue
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                c.close()
                answered = data
                break
            check(answered and answered.startswith(b"HTTP/1.1 200"),
                  "GET /healthz over --listen %s" % listen, answered)
        finally:
            p.terminate()
            try:
                p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
        eq(p.returncode, 0, "exit status of serve --listen %s after SIGTERM" % listen)


@case("serve --trusted-proxy takes a numeric IPv4 or IPv6 address and refuses anything "
      "else in one line")
def t_trusted_proxy_forms(ctx):
    cx, _ = staffed(ctx)
    for good in ("127.0.0.1", "::1", "0:0:0:0:0:0:0:1", "2001:db8::10"):
        rc, out, err = serve_once(cx, "127.0.0.1:0", "--trusted-proxy", good)
        eq(rc, 0, "exit status after SIGTERM of serve --trusted-proxy %s" % good)
        check(out.startswith("listening on http://127.0.0.1:"),
              "serve --trusted-proxy %s started" % good, (out, err))
    for bad in ("localhost", "[::1]", "127.0.0.1:80", "::1/128", "10.0.0.0/8", ""):
        rc, out, err = serve_once(cx, "127.0.0.1:0", "--trusted-proxy", bad)
        eq((rc, out), (2, ""), "exit status and stdout of --trusted-proxy %r" % bad)
        eq(err, "custos: --trusted-proxy takes a numeric IPv4 or IPv6 address (127.0.0.1, "
                "::1) (see --help)\n", "the refusal of --trusted-proxy %r" % bad)


@case("consent withdrawn twice: the second withdrawal is refused as already withdrawn "
      "(CLI exit 1, HTTP 409) and writes nothing; no unsubscribe link without a consent in "
      "force; a link used after another withdrawal records no second one")
def t_consent_withdraw_twice(ctx):
    from cases_http_policy import healthya, add_subject, tok, WEB_USER, WEB_USER2
    from harness import sql
    cx, st = healthya(ctx)
    sid = add_subject(cx, st, "web", WEB_USER, "web_user", "service_contract")
    sid2 = add_subject(cx, st, "web2", WEB_USER2, "web_user", "service_contract")

    def records(s):
        return sql(cx.db, "SELECT state FROM consents WHERE subject_id = ? AND purpose = "
                          "'newsletters' ORDER BY seq", (s,))

    # never consented: nothing to withdraw, no link
    n0 = audit_seq(cx.db)
    cx.fails(1, "consent", "withdraw", sid, "newsletters", says="never consented")
    cx.fails(1, "consent", "link", sid, "newsletters", says="never consented")
    cx.ok("consent", "give", sid, "newsletters", "--method", "web_form")
    cx.ok("consent", "link", sid, "newsletters")
    cx.ok("consent", "withdraw", sid, "newsletters")
    eq([r[0] for r in records(sid)], ["given", "withdrawn"], "records after give, withdraw")
    before = stable_dump(cx.db)
    seq0 = audit_seq(cx.db)
    r = cx.fails(1, "consent", "withdraw", sid, "newsletters", says="already withdrawn")
    eq(r.out, "", "stdout of a second withdrawal")
    cx.fails(1, "--json", "consent", "withdraw", sid, "newsletters", "--method", "email",
             says="already withdrawn")
    cx.fails(1, "consent", "link", sid, "newsletters", says="already withdrawn")
    eq(stable_dump(cx.db), before, "store after a second withdrawal and a refused link")
    eq(audit_seq(cx.db), seq0, "audit events after a second withdrawal and a refused link")
    check(n0 < seq0, "test setup")
    # over HTTP
    cx.ok("consent", "give", sid2, "newsletters", "--method", "web_form")
    with Server(cx) as srv:
        crm = tok(st, "crm")
        hdr = {"Custos-Purpose": "newsletters"}
        link = srv.call("POST", "/v1/subjects/%s/unsubscribe-links" % sid2,
                        {"purpose": "newsletters"}, token=crm, headers=hdr)
        token = expect_status(link, 201, "a link for a consent in force").json()["token"]
        body = {"purpose": "newsletters", "method": "api", "state": "withdrawn"}
        r = srv.call("POST", "/v1/subjects/%s/consents" % sid2, body, token=crm, headers=hdr)
        expect_status(r, 201, "the first withdrawal over HTTP")
        before = stable_dump(cx.db)
        seq0 = audit_seq(cx.db)
        r = srv.call("POST", "/v1/subjects/%s/consents" % sid2, body, token=crm, headers=hdr)
        j = expect_problem(r, 409, "conflict", "a second withdrawal over HTTP")
        eq(j["detail"], "the consent of subject %s to newsletters is already withdrawn" % sid2,
           "detail of a second withdrawal")
        r = srv.call("POST", "/v1/subjects/%s/unsubscribe-links" % sid2,
                     {"purpose": "newsletters"}, token=crm, headers=hdr)
        expect_problem(r, 409, "conflict", "a link for a withdrawn consent")
        eq(stable_dump(cx.db), before, "store after a second withdrawal over HTTP")
        eq(audit_seq(cx.db), seq0, "audit events after a second withdrawal over HTTP")
        # the link made before: used up, answered as done, no second withdrawal
        r = srv.call("POST", "/v1/unsubscribe/" + token, {}, token=None)
        expect_status(r, 200, "a link used after the consent was withdrawn")
        eq([x[0] for x in records(sid2)], ["given", "withdrawn"],
           "records after the link was used")
        eq(sql(cx.db, "SELECT count(*) FROM unsubscribe_links WHERE subject_id = ? AND "
                      "used_at > 0", (sid2,))[0][0], 1, "the link is used up")


@case("requests verify --ask takes --on (the day evidence was asked for); identity evidence "
      "dated before it was asked for is refused, over the CLI and HTTP, writing nothing")
def t_verify_ask_on(ctx):
    import cases_http_requests as hr
    cx, st = hr.setup(ctx)
    ctl = st.controllers["A"]
    sid = st.subjects["S"]["id"]
    rid = cx.ok("requests", "receive", "--controller", ctl, "--kind", "access", "--channel",
                "email", "--received-on", "2026-01-05", "--details", "d",
                "--why", "w").out.strip()
    # the ask's date is the one given, and not before receipt
    cx.fails(1, "requests", "verify", rid, "--ask", "--on", "2026-01-04", "--why", "w",
             says="before the request was received")
    j = cx.okj("requests", "verify", rid, "--ask", "--on", "2026-01-12", "--why", "asked")
    eq(j["state"], "awaiting_identity", "state after --ask")
    hist = cx.okj("requests", "show", rid)["history"]
    eq([(e["action"], e["on"]) for e in hist][-1], ("ask_identity", "2026-01-12"),
       "the ask's date in the history")
    before = stable_dump(cx.db)
    seq0 = audit_seq(cx.db)
    for day in ("2026-01-05", "2026-01-11"):
        cx.fails(1, "requests", "verify", rid, "--subject", sid, "--on", day, "--why", "w",
                 says="identity evidence must not be dated before it was asked for "
                      "(2026-01-12)")
    eq(stable_dump(cx.db), before, "store after refused evidence dates")
    eq(audit_seq(cx.db), seq0, "audit events after refused evidence dates")
    j = cx.okj("requests", "verify", rid, "--subject", sid, "--on", "2026-01-12", "--why", "w")
    eq((j["state"], j["clock"]["start"]), ("in_progress", "2026-01-12"),
       "evidence on the day it was asked for")
    with Server(cx) as srv:
        dpo = hr.tok(st, "dpo")
        rid = hr.receive(srv, cx, dpo, received_on="2026-02-02")
        hr.move(srv, cx, dpo, rid, "ask_identity", on="2026-02-09")
        before = stable_dump(cx.db)
        p = hr.move(srv, cx, dpo, rid, "verify", status=400, subject=sid, on="2026-02-08")
        eq(p["detail"], "identity evidence must not be dated before it was asked for "
                        "(2026-02-09)", "detail of evidence dated before the ask")
        eq(stable_dump(cx.db), before, "store after refused evidence over HTTP")
        j = hr.move(srv, cx, dpo, rid, "verify", subject=sid, on="2026-02-20",
                    audit_subject=sid)
        eq(j["clock"]["start"], "2026-02-20", "clock start over HTTP")


@case("policy check: placeholders a notice would publish are warnings at their JSON path "
      "(reserved domains, all-zero numbers, ZA000000, 'not stated' text); the shipped "
      "profiles are valid but report theirs; ordinary text is not flagged")
def t_policy_placeholders(ctx):
    import os
    from fixtures import TEST_POLICY
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cx = ctx.custos()
    want = {
        "therapyaudit.json": ["$.controller.email", "$.controller.company_number",
                              "$.controller.ico_registration"],
        "healthya.json": ["$.controller.ico_registration", "$.retention[3].legal_source",
                          "$.changes"],
    }
    for name, paths in want.items():
        path = os.path.join(root, "profiles", name)
        j = cx.okj("policy", "check", path)
        eq((j["valid"], j["errors"], j["warnings"]), (True, 0, len(paths)), "check of " + name)
        eq([(f["severity"], f["path"], f["rule"]) for f in j["findings"]],
           [("warning", p, "placeholder") for p in paths], "findings of " + name)
        text = cx.ok("policy", "check", path, store=False).out
        for p in paths:
            check("warning %s: a placeholder" % p in text, "text check names %s" % p, text)
        check(text.endswith("valid: 0 errors, %d warnings\n" % len(paths)), "summary", text)
    # a clean policy has none; each kind of placeholder is found where it is
    with open(TEST_POLICY, encoding="utf-8") as f:
        doc = json.load(f)
    doc["controller"]["email"] = "privacy@trust.nhs.uk"
    doc["dpo"] = {"name": "DPO", "email": "dpo@trust.nhs.uk"}
    import tempfile
    d = tempfile.mkdtemp(prefix="custos-e2e-pol-")
    try:
        p0 = os.path.join(d, "clean.json")
        with open(p0, "w") as f:
            json.dump(doc, f)
        j = cx.okj("policy", "check", p0)
        eq([f for f in j["findings"] if f["rule"] == "placeholder"], [], "a clean policy")
        doc["controller"]["email"] = "privacy@example.com"
        doc["controller"]["company_number"] = "000000"
        doc["controller"]["ico_registration"] = "ZA000000"
        doc["controller"]["address"] = "Not stated in the notice"
        doc["dpo"] = {"name": "DPO", "email": "dpo@trust.invalid"}
        doc["purposes"][0]["description"] = "Providing care, for example at home (TBC)"
        doc["purposes"][1]["description"] = "Running the service for example.org users"
        doc["introduction"] = ("We are at https://www.example/ and our number is 10592069; "
                               "call 0800 000 0000 or see https://trust.nhs.uk/privacy")
        p1 = os.path.join(d, "placeholders.json")
        with open(p1, "w") as f:
            json.dump(doc, f)
        j = cx.okj("policy", "check", p1)
        got = sorted(f["path"] for f in j["findings"] if f["rule"] == "placeholder")
        eq(got, sorted(["$.controller.email", "$.controller.company_number",
                        "$.controller.ico_registration", "$.controller.address",
                        "$.dpo.email", "$.purposes[0].description", "$.introduction"]),
           "the placeholders found")
        eq(j["valid"], True, "placeholders do not invalidate a policy")
        for f in j["findings"]:
            for v in ("privacy@example.com", "dpo@trust.invalid", "Not stated"):
                check(v not in f["message"], "a finding repeats the value", f)
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


def walk_pages(srv, token, path, key, limit, headers=None):
    """Follows next from the first page of path (limit per page); returns the
    pages' arrays."""
    sep = "&" if "?" in path else "?"
    pages = []
    url = "%s%slimit=%d" % (path, sep, limit)
    while True:
        r = srv.call("GET", url, token=token, headers=headers)
        j = expect_status(r, 200, "GET " + url).json()
        pages.append(j[key])
        check(len(j[key]) <= limit, "a page longer than its limit", j)
        if "next" not in j:
            return pages
        check(len(j[key]) == limit, "a short page before the last", j)
        check(len(pages) < 100, "more than 100 pages")
        url = "%s%slimit=%d&cursor=%s" % (path, sep, limit, j["next"])


@case("listings page: every HTTP listing takes limit (default 100, at most 500; the audit "
      "trail 1000 and 10000) and an opaque cursor, answers next while more follow, in the "
      "same order as the whole listing; bad, altered or foreign cursors are 400")
def t_listing_pages(ctx):
    cx, st = staffed(ctx)
    ctl = st.controllers["A"]
    for i in range(6):
        st.subject("X%d" % i, "A", {"name": "Paged Person %d" % i})
    sid = st.subjects["S1"]["id"]
    for i in range(5):
        cx.ok("requests", "receive", "--controller", ctl, "--kind", "access", "--channel",
              "email", "--received-on", "2026-01-%02d" % (i + 2), "--details", "d%d" % i,
              "--why", "w")
    with Server(cx) as srv:
        dpo = st.signin(srv, "dpo")
        hdr = {"Custos-Purpose": "subject_rights"}
        routes = [("/v1/subjects", "subjects"), ("/v1/requests", "requests"),
                  ("/v1/requests/due", "requests"), ("/v1/audit", "events"),
                  ("/v1/audit?subject=" + sid, "events"),
                  ("/v1/subjects/%s/access-log" % sid, "events"),
                  ("/v1/policy/versions", "versions")]
        for path, key in routes:
            r = srv.call("GET", path, token=dpo, headers=hdr)
            whole = expect_status(r, 200, "GET " + path).json()
            check("next" not in whole, "next on a listing that fits one page", whole)
            # (a page of the trail is itself audited: at limit 1 a walk of it would
            # never catch up with its own reads)
            for limit in ((2, 3) if key == "events" else (1, 2, 3)):
                pages = walk_pages(srv, dpo, path, key, limit, hdr)
                got = [x for p in pages for x in p]
                # the audit trail grows with every read: compare its first events
                want = whole[key]
                if key == "events":
                    eq(got[:len(want)], want, "pages of %s (limit %d)" % (path, limit))
                else:
                    eq(got, want, "pages of %s (limit %d)" % (path, limit))
                check(len(want) <= limit or len(pages) > 1, "one page for %s" % path)
        eq(len(srv.call("GET", "/v1/subjects", token=dpo, headers=hdr).json()["subjects"]), 7,
           "subjects listed")
        # bad limits and cursors: 400, nothing recorded
        first = srv.call("GET", "/v1/subjects?limit=2", token=dpo, headers=hdr).json()
        good = first["next"]
        other = srv.call("GET", "/v1/requests?limit=2", token=dpo, headers=hdr).json()["next"]
        flipped = good[:-1] + ("0" if good[-1] != "0" else "1")
        seq0 = audit_seq(cx.db)
        for query, what in (("limit=0", "limit"), ("limit=501", "limit"), ("limit=-1", "limit"),
                            ("limit=1e2", "limit"), ("limit=", "limit"),
                            ("cursor=" + other, "cursor"), ("cursor=" + flipped, "cursor"),
                            ("cursor=" + good.upper(), "cursor"), ("cursor=c1", "cursor"),
                            ("cursor=" + "c1" + "0" * 64, "cursor")):
            r = srv.call("GET", "/v1/subjects?" + query, token=dpo, headers=hdr)
            j = expect_problem(r, 400, "invalid-input", "GET /v1/subjects?" + query[:40])
            check(what in j.get("detail", ""), "the problem names %s" % what, j)
        r = srv.call("GET", "/v1/requests?cursor=" + good, token=dpo, headers=hdr)
        expect_problem(r, 400, "invalid-input", "a subjects cursor on the requests listing")
        r = srv.call("GET", "/v1/audit?limit=10001", token=dpo)
        eq(expect_problem(r, 400, "invalid-input").get("detail"), "limit must be 1 to 10000",
           "the audit trail's limit")
        eq(audit_seq(cx.db), seq0, "audit events of refused pages")
        # a cursor hides what it continues after
        for s in st.subjects.values():
            check(s["id"].replace("-", "") not in good, "a cursor shows a subject id", good)
        # consents and disclosures of one subject
        clin = st.signin(srv, "clinician")
        for i in range(3):
            r = srv.call("POST", "/v1/subjects/%s/disclosures" % sid,
                         {"organisation": "GP %d" % i, "basis": "e", "channel": "letter",
                          "categories": ["health"]}, token=clin)
            expect_status(r, 201, "a disclosure")
        pages = walk_pages(srv, clin, "/v1/subjects/%s/disclosures" % sid, "disclosures", 2)
        eq([len(p) for p in pages], [2, 1], "disclosure pages")
        cx.ok("consent", "give", sid, "newsletter", "--method", "web_form")
        cx.ok("consent", "withdraw", sid, "newsletter")
        cx.ok("consent", "give", sid, "newsletter", "--method", "paper")
        pages = walk_pages(srv, clin, "/v1/subjects/%s/consents" % sid, "consents", 2)
        eq([[c["state"] for c in p] for p in pages], [["given", "withdrawn"], ["given"]],
           "consent pages")


def readme_blocks():
    import os
    import re
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        text = f.read()
    return root, re.findall(r"```sh\n(.*?)```", text, re.S)


def run_block(root, script, env, errfile):
    """Runs a README block with bash, recording the line and status of every
    command that fails (an ERR trap); returns (output, [(line, status)])."""
    import subprocess
    prelude = "trap 'echo \"$LINENO $?\" >> %s' ERR\n" % errfile
    p = subprocess.run(["bash", "-c", prelude + script], cwd=root, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    failed = []
    try:
        with open(errfile) as f:
            for line in f:
                n, rc = line.split()
                failed.append((int(n) - 1, int(rc)))
    except FileNotFoundError:
        pass
    return p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace"), failed


@case("README: the CLI tour runs as written (only the commands it says are refused fail, "
      "with exit 1), and the HTTP tour runs as written against the demo store")
def t_readme_tour(ctx):
    import os
    import shutil
    root, blocks = readme_blocks()
    cli = [b for b in blocks if "custos init" in b and "export CUSTOS_STORE" in b]
    http = [b for b in blocks if "/v1/sessions" in b and "oathtool" in b]
    eq((len(cli), len(http)), (1, 1), "the README's CLI and HTTP tours")
    cx = ctx.custos()
    tmp = os.path.dirname(cx.store)
    script = cli[0].replace("build/custos", cx.binary) \
                   .replace("/tmp/custos-tour", cx.store) \
                   .replace("/tmp/ada-sar.html", os.path.join(tmp, "ada-sar.html"))
    import re
    paths = set(re.findall(r"/tmp/[\w.-]+", cli[0]))
    eq(paths, {"/tmp/custos-tour", "/tmp/ada-sar.html"}, "the tour's paths the test replaces")
    out, failed = run_block(root, script, cx.env(), os.path.join(tmp, "cli.err"))
    lines = script.split("\n")
    want = [i + 1 for i, l in enumerate(lines) if "# refused" in l or "(exit 1)" in l]
    eq([(n, rc) for n, rc in failed], [(n, 1) for n in want],
       "the tour's failing commands (line, exit status)\n" + out[-3000:])
    check(len(want) == 3, "the tour says which commands are refused", want)
    check("store intact" in out and "audit trail intact" in out, "the tour ends verified",
          out[-2000:])
    # the HTTP tour, against the demo store make run serves
    if not shutil.which("oathtool") or not shutil.which("curl"):
        raise Exception("oathtool and curl are needed (Makefile DEB_PKGS)")
    demo = ctx.custos()
    import subprocess
    p = subprocess.run([os.path.join(root, "scripts", "demo-store.sh"), demo.binary, demo.store],
                       cwd=root, env=demo.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    eq(p.returncode, 0, "scripts/demo-store.sh: " + p.stderr.decode()[-2000:])
    with Server(demo) as srv:
        script = http[0].replace("http://127.0.0.1:8080", "http://127.0.0.1:%d" % srv.port) \
                        .replace("build/custos --store var", "%s --store %s" % (demo.binary,
                                                                               demo.store)) \
                        .replace("var/demo-dpo-totp.txt",
                                 os.path.join(demo.store, "demo-dpo-totp.txt")) \
                        .replace("curl -s ", "curl -sf ")
        check("8080" not in script and " var" not in script, "an unreplaced address", script)
        out, failed = run_block(root, script, demo.env(),
                                os.path.join(os.path.dirname(demo.store), "http.err"))
        eq(failed, [], "failing commands of the HTTP tour\n" + out[-3000:])
        for s in ('"name":"Ada Testpatient"', '"next":"c1', "<title>Privacy notice",
                  '"action":"create"'):
            check(s in out, "the HTTP tour's output lacks %r" % s, out[-3000:])


@case("make run's printed tour: run line by line on the demo store, it reads one subject and "
      "erases another, last; the subject the HTTP tour reads is still there")
def t_demo_tour(ctx):
    import os
    import subprocess
    root, _ = readme_blocks()
    demo = ctx.custos()
    p = subprocess.run([os.path.join(root, "scripts", "demo-store.sh"), demo.binary, demo.store],
                       cwd=root, env=demo.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    eq(p.returncode, 0, "scripts/demo-store.sh: " + p.stderr.decode()[-2000:])
    ada = demo.ok("--purpose", "direct_care", "subject", "find", "--nhs-number",
                  "9990000018").out.strip()
    out = demo.ok("--purpose", "direct_care", "status", "--tour").out
    tour = out[out.index("A short tour"):out.index("Every command takes")]
    cmds = [l.strip() for l in tour.split("\n") if l.startswith("  ")]
    check(len(cmds) >= 10, "the tour's commands", tour)
    erase = [i for i, c in enumerate(cmds) if " subject erase " in c]
    eq(len(erase), 1, "erase commands in the tour")
    check(erase[0] >= len(cmds) - 2, "the erasure is not last", cmds)
    check(ada not in cmds[erase[0]], "the tour erases the subject the HTTP tour reads", cmds)
    check(any(ada in c for c in cmds[:erase[0]]), "the tour does not read the HTTP subject",
          cmds)
    for i, c in enumerate(cmds):
        r = subprocess.run(["bash", "-c", c], cwd=root, env=demo.env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        want = 1 if i == len(cmds) - 1 else 0   # the last shows the erased subject: exit 1
        eq(r.returncode, want, "exit status of %r: %s" % (c, r.stderr.decode()[-500:]))
    j = demo.okj("--purpose", "direct_care", "subject", "show", ada)
    eq(j["name"], "Ada Testpatient", "the HTTP tour's subject after the printed tour")


@case("CLI listings page: subject list and requests list/due take --limit and --cursor, "
      "print the next cursor while more follow, and refuse bad or foreign cursors")
def t_cli_pages(ctx):
    cx, st = staffed(ctx)
    ctl = st.controllers["A"]
    for i in range(4):
        st.subject("X%d" % i, "A", {"name": "Paged Person %d" % i})
    for i in range(3):
        cx.ok("requests", "receive", "--controller", ctl, "--kind", "access", "--channel",
              "email", "--received-on", "2026-01-%02d" % (i + 2), "--details", "d", "--why", "w")
    base = ["--purpose", "administration"]
    whole = cx.okj(*base, "subject", "list")
    eq(len(whole["subjects"]), 5, "subjects")
    check("next" not in whole, "next on one page", whole)
    got, cur = [], None
    while True:
        args = base + ["subject", "list", "--limit", "2"] + (["--cursor", cur] if cur else [])
        j = cx.okj(*args)
        got += j["subjects"]
        cur = j.get("next")
        if not cur:
            break
        check(len(got) < 50, "a walk that does not end")
    eq(got, whole["subjects"], "subject list in pages of 2")
    # text: the entries, then the cursor line
    out = cx.ok(*base, "subject", "list", "--limit", "3").out.splitlines()
    eq(len(out), 4, "text page of 3 and the cursor line")
    check(out[3].startswith("more follow: --cursor c1"), "the cursor line", out)
    nxt = out[3].split()[-1]
    out2 = cx.ok(*base, "subject", "list", "--limit", "3", "--cursor", nxt).out.splitlines()
    eq([l.split()[0] for l in out2], [s["id"] for s in whole["subjects"][3:]], "second page")
    # requests
    whole = cx.okj("requests", "list")["requests"]
    eq(len(whole), 3, "requests")
    j = cx.okj("requests", "list", "--limit", "2")
    j2 = cx.okj("requests", "list", "--limit", "2", "--cursor", j["next"])
    eq([r["id"] for r in j["requests"] + j2["requests"]], [r["id"] for r in whole],
       "requests in pages")
    check("next" not in j2, "next on the last page", j2)
    # refusals: exit 1 (bad values), nothing recorded
    n0 = audit_seq(cx.db)
    cx.fails(1, *base, "subject", "list", "--limit", "0", says="--limit takes 1 to 500")
    cx.fails(1, *base, "subject", "list", "--limit", "501", says="--limit takes 1 to 500")
    cx.fails(1, *base, "subject", "list", "--cursor", j["next"], says="not a cursor of this")
    cx.fails(1, "--purpose", "direct_care", "subject", "list", "--cursor", nxt,
             says="not a cursor of this")
    cx.fails(1, "requests", "due", "--cursor", j["next"], says="not a cursor of this")
    cx.fails(1, "requests", "list", "--cursor", j["next"][:-1] + "x", says="not a cursor")
    eq(audit_seq(cx.db), n0, "audit events of refused pages")
