"""HTTP API: every response is Cache-Control: no-store and no error names a
personal value; a 201 means committed (kill -9 right after it loses nothing);
SIGTERM with requests in flight loses no acknowledged write and exits 0."""

import json
import signal
import threading
import time

from harness import registry, check, eq
from fixtures import PERSON1, NHS1, EMAIL1_NORM, secrets_of_person1
from http_client import (Server, Staff, PASSWORD, expect_status, expect_problem, audit_seq,
                         events_after, call, random_id)

CASES, case = registry()


def staffed(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Misc Trust")
    st.controller("B", "Borchester Misc Practice")
    st.user("clinician", "A", "clinician")
    st.user("clinician2", "A", "clinician")
    st.user("care_admin", "A", "care_admin")
    st.user("analyst", "A", "analyst")
    st.user("clinician_b", "B", "clinician")
    st.subject("S1", "A", PERSON1)
    st.care("clinician", "S1")
    return cx, st


@case("http responses: Cache-Control: no-store on every answer; no error body names a "
      "personal value (name, NHS number, email, diagnosis...)")
def t_no_store_no_values(ctx):
    cx, st = staffed(ctx)
    s1 = st.subjects["S1"]["id"]
    secrets = secrets_of_person1() + ["Zebulon.Quagmire", "999 000 0019", "9990000019",
                                      "Quagmire@", "secret diagnosis of gout"]
    with Server(cx) as srv:
        tok = {u: st.signin(srv, u) for u in ("clinician", "clinician2", "care_admin",
                                              "analyst", "clinician_b")}
        item_ids = {it["field"]: it["id"] for it in srv.call(
            "GET", "/v1/subjects/%s/items" % s1, token=tok["clinician"]).json()["items"]}
        reqs = [
            # conflicts and invalid values that carry personal data
            ("POST", "/v1/subjects", "clinician", {"kind": "patient", "nhs_number": NHS1,
                                                   "name": PERSON1["name"]}, 409),
            ("POST", "/v1/subjects", "clinician", {"kind": "patient", "nhs_number": "9990000019",
                                                   "name": PERSON1["name"]}, 400),
            ("POST", "/v1/subjects", "clinician", {"kind": "patient",
                                                   "email": "Zebulon.Quagmire@@example.org"},
             400),
            ("POST", "/v1/subjects", "clinician", {"kind": "patient",
                                                   "birth_date": "1971-02-30 Zebulon"}, 400),
            ("POST", "/v1/subjects", "clinician", {"kind": "patient", "Zebulon": "Quagmire"},
             400),
            ("POST", "/v1/subjects", "clinician", {"kind": PERSON1["name"]}, 400),
            ("POST", "/v1/subjects/search", "clinician", {"email": "Zebulon.Quagmire@"}, 400),
            ("POST", "/v1/subjects/search", "clinician", {"nhs_number": "999 000 0019"}, 400),
            ("GET", "/v1/subjects?phone=" + "Zebulon", "clinician", None, 400),
            ("GET", "/v1/subjects?nhs_number=9990000019", "clinician", None, 400),
            ("PATCH", "/v1/subjects/" + s1, "clinician",
             {"items": [{"id": item_ids["nhs_number"], "value": "9990000019"}]}, 400),
            ("PATCH", "/v1/subjects/" + s1, "clinician",
             {"items": [{"id": item_ids["email"], "value": "Zebulon.Quagmire at example"}]},
             400),
            ("POST", "/v1/subjects/%s/break-glass" % s1, "clinician2",
             {"reason": "Zebulon"}, 400),
            # refusals
            ("GET", "/v1/subjects/" + s1, "clinician2", None, 403),
            ("GET", "/v1/subjects/%s/items" % s1, "clinician2", None, 403),
            ("GET", "/v1/subjects/" + s1, "clinician_b", None, 404),
            ("PATCH", "/v1/subjects/" + s1, "analyst", {"name": PERSON1["name"]}, 403),
            ("POST", "/v1/subjects/%s/items" % s1, "care_admin",
             {"items": [{"category": "health", "field": "diagnosis",
                         "value": "secret diagnosis of gout"}]}, 403),
            ("PATCH", "/v1/subjects/" + s1, "care_admin",
             {"items": [{"id": item_ids["diagnosis"], "value": "secret diagnosis of gout"}]},
             403),
            ("GET", "/v1/subjects?nhs_number=" + NHS1, "analyst", None, 400),
            ("POST", "/v1/subjects/search", "analyst", {"nhs_number": NHS1}, 403),
            ("POST", "/v1/subjects/search", "analyst", {"email": EMAIL1_NORM}, 403),
            ("GET", "/v1/subjects/%s/access-log" % s1, "care_admin", None, 403),
            ("GET", "/v1/audit?subject=" + s1, "clinician", None, 403),
            ("PUT", "/v1/subjects/%s/care-team/clinician2" % s1, "clinician", None, 403),
            ("GET", "/v1/subjects/" + random_id(), "clinician", None, 404),
            ("GET", "/v1/subjects/%s/nope" % s1, "clinician", None, 404),
            ("DELETE", "/v1/subjects/" + s1, "clinician", None, 405),
            ("POST", "/v1/subjects", "clinician", "not json " + PERSON1["name"], 400),
            ("POST", "/v1/subjects", None, {"kind": "patient", "name": PERSON1["name"]}, 401),
            ("GET", "/v1/subjects?email=" + EMAIL1_NORM + "&debug=Zebulon", "clinician", None,
             400),
        ]
        for method, path, who, body, status in reqs:
            r = srv.call(method, path, body, token=tok.get(who))
            expect_problem(r, status, None, "%s %s as %s" % (method, path, who))
            low = r.text.lower()
            for s in secrets:
                check(s.lower() not in low, "the %d answer to %s %s names %r" % (
                    status, method, path, s), r.text)
        # wrong passwords and codes are never echoed
        r = srv.signin("clinician", "Zebulon Quagmire-Fotheringay 1971")
        expect_problem(r, 401, "unauthenticated", "a wrong password")
        check("zebulon" not in r.text.lower(), "the wrong password is echoed", r.text)
        # successful answers are no-store too, and so are /healthz, /metrics, 404, 405
        # (413: cases_http_input)
        for method, path, who, body in (
                ("GET", "/healthz", None, None), ("GET", "/metrics", None, None),
                ("GET", "/v1/subjects/" + s1, "clinician", None),
                ("GET", "/v1/subjects/%s/items" % s1, "clinician", None),
                ("POST", "/v1/subjects/search", "clinician", {"nhs_number": NHS1}),
                ("GET", "/nowhere", None, None), ("PUT", "/v1/subjects", None, None)):
            r = srv.call(method, path, body, token=tok.get(who))
            eq(r.header("cache-control"), "no-store", "Cache-Control of %s %s -> %d" % (
                method, path, r.status))
            eq(r.header("x-content-type-options"), "nosniff", "nosniff on %s %s" % (
                method, path))
        r = srv.call("POST", "/v1/sessions", {"username": "clinician", "password": PASSWORD})
        expect_status(r, 201, "sign-in")
    # nor does the server's own error output name any personal value
    err = srv.stderr().lower()
    for s in secrets:
        check(s.lower() not in err, "custos serve's stderr names %r" % s, err[-2000:])


def item_values(cx, sid):
    view = cx.okj("subject", "show", sid)
    return {it["id"]: it["value"] for it in view["items"]}


@case("http durability: after a 201 for POST /v1/subjects/{id}/items, kill -9: the item and "
      "its audit event are in the store")
def t_kill9(ctx):
    cx, st = staffed(ctx)
    s1 = st.subjects["S1"]["id"]
    for round_ in range(3):
        srv = Server(cx).start()
        try:
            tok = st.signin(srv, "clinician")
            value = "Durable observation %d %s" % (round_, random_id())
            seq0 = audit_seq(cx.db)
            r = srv.call("POST", "/v1/subjects/%s/items" % s1,
                         {"items": [{"category": "health", "field": "observation",
                                     "value": value}]}, token=tok)
            srv.kill9()  # at once, before anything else can happen
            expect_status(r, 201, "POST items before kill -9")
            item_id = r.json()["items"][0]
        finally:
            srv.kill9()
        vals = item_values(cx, s1)
        eq(vals.get(item_id), value, "the acknowledged item after kill -9 (round %d)" % round_)
        evs = [e for e in events_after(cx.db, seq0) if e["actor"] == "clinician"]
        eq([(e["action"], e["outcome"], e["subject"], e["categories"], e["via"]) for e in evs],
           [("create", "ok", s1, "health", "http POST /v1/subjects/{id}/items")],
           "the item's audit event after kill -9")
    # a burst, killed mid-flight: every 201 is stored
    srv = Server(cx).start()
    acked, lock = {}, threading.Lock()
    try:
        tok = st.signin(srv, "clinician")
        go = threading.Event()

        def post(i):
            go.wait()
            v = "Burst value %02d %s" % (i, random_id())
            try:
                r = call(srv.port, "POST", "/v1/subjects/%s/items" % s1,
                         {"items": [{"category": "health", "field": "burst", "value": v}]},
                         token=tok, timeout=20)
            except OSError:
                return
            if r.status == 201:
                with lock:
                    acked[r.json()["items"][0]] = v
        threads = [threading.Thread(target=post, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        go.set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                if len(acked) >= 10:
                    break
            time.sleep(0.002)
        srv.kill9()
        for t in threads:
            t.join(30)
    finally:
        srv.kill9()
    check(acked, "no request was acknowledged before kill -9")
    vals = item_values(cx, s1)
    lost = {k: v for k, v in acked.items() if vals.get(k) != v}
    check(not lost, "%d of %d acknowledged items lost after kill -9" % (len(lost), len(acked)),
          lost)
    cx.ok("audit", "verify")


@case("http SIGTERM with ~50 item POSTs in flight: every 2xx is stored, refusals are not, "
      "the server exits 0")
def t_sigterm(ctx):
    cx, st = staffed(ctx)
    s1 = st.subjects["S1"]["id"]
    srv = Server(cx)
    results, lock = [], threading.Lock()
    with srv:
        tok = st.signin(srv, "clinician")
        before = set(item_values(cx, s1))
        go = threading.Event()

        def post(i):
            go.wait()
            v = "In flight %02d %s" % (i, random_id())
            try:
                r = call(srv.port, "POST", "/v1/subjects/%s/items" % s1,
                         {"items": [{"category": "health", "field": "inflight", "value": v}]},
                         token=tok, timeout=40)
                res = (v, r.status, r.text)
            except OSError as e:
                res = (v, None, repr(e))
            with lock:
                results.append(res)
        threads = [threading.Thread(target=post, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        go.set()
        # SIGTERM while the requests are being served: after the first answers
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                if len(results) >= 5:
                    break
            time.sleep(0.001)
        with lock:
            answered_before_term = len(results)
        srv.signal(signal.SIGTERM)
        for t in threads:
            t.join(60)
        check(not any(t.is_alive() for t in threads), "client threads hung")
        rc = srv.wait(40)
        # (the with block's stop() then checks exit status 0 and sanitizer output)
    eq(rc, 0, "exit status after SIGTERM")
    ok = [(v, s) for v, s, _ in results if s is not None and 200 <= s < 300]
    refused = [(v, s, t) for v, s, t in results if s is not None and not 200 <= s < 300]
    check(ok, "no request succeeded before SIGTERM", results[:5])
    for v, s, t in refused:
        check(s == 503, "a request in flight at SIGTERM got %d: %s" % (s, t[:300]))
        j = json.loads(t)
        check(j.get("type", "").startswith("urn:custos:problem:"), "503 not a problem", t)
    stored = set(item_values(cx, s1).values())
    lost = [v for v, _ in ok if v not in stored]
    check(not lost, "%d of %d acknowledged writes lost across SIGTERM" % (len(lost), len(ok)),
          lost[:5])
    leaked = [v for v, _, _ in refused if v in stored]
    check(not leaked, "%d writes answered 503 were stored anyway" % len(leaked), leaked[:5])
    # one audit event per stored item; the trail verifies
    evs = [e for e in events_after(cx.db, 0) if e["via"] == "http POST /v1/subjects/{id}/items"]
    eq(len([e for e in evs if e["outcome"] == "ok"]),
       len([v for v in stored if v.startswith("In flight")]), "audit events of stored items")
    cx.ok("audit", "verify")
    errs = [(v, t) for v, s, t in results if s is None]
    print("# SIGTERM after %d of 50 answers: %d stored, %d refused (503), %d connection "
          "errors (%d of them stored)%s" % (
              answered_before_term, len(ok), len(refused), len(errs),
              len([v for v, _ in errs if v in stored]),
              "; e.g. " + errs[0][1][:100] if errs else ""))
