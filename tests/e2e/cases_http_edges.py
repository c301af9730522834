"""HTTP API edges: signing out with an API token ends that token; the audit
listing's limit counts only the caller's controller's events; pseudonyms work
wherever a subject id does; the Bearer scheme is case-insensitive; a body over
--max-body is refused naming that limit; request headers over about 15.5 KiB
get 431."""

from harness import registry, check, eq
from fixtures import PERSON1
from http_client import Server, Staff, expect_status, expect_problem, call

CASES, case = registry()


def staffed(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Edge Trust")
    st.controller("B", "Borchester Edge Practice")
    st.user("clinician", "A", "clinician")
    st.user("analyst", "A", "analyst")
    st.user("auditor", "A", "auditor")
    st.user("clinician_b", "B", "clinician")
    st.subject("S1", "A", PERSON1)
    st.care("clinician", "S1")
    return cx, st


@case("http edges: DELETE /v1/sessions/current with an API token revokes that token")
def t_token_signout(ctx):
    cx, st = staffed(ctx)
    tok = st.token("feed", "A", "clinician")["token"]
    with Server(cx) as srv:
        expect_status(srv.call("POST", "/v1/subjects/search", {"nhs_number": PERSON1["nhs_number"]},
                               token=tok), 200, "token works")
        expect_status(srv.call("DELETE", "/v1/sessions/current", token=tok), 204, "sign-out")
        expect_problem(srv.call("POST", "/v1/subjects/search",
                                {"nhs_number": PERSON1["nhs_number"]}, token=tok),
                       401, "unauthenticated", "token after sign-out")


@case("http edges: GET /v1/audit?limit=N returns N of the caller's own events even when "
      "another controller's events come first")
def t_audit_limit(ctx):
    cx, st = staffed(ctx)
    with Server(cx) as srv:
        tb = st.signin(srv, "clinician_b")
        # many events of controller B first
        for _ in range(15):
            srv.call("POST", "/v1/subjects/search", {"email": "nobody@example.org"}, token=tb)
        ta = st.signin(srv, "auditor")
        for _ in range(3):
            expect_status(srv.call("GET", "/v1/audit/verify", token=ta), 200, "verify")
        r = srv.call("GET", "/v1/audit?limit=5", token=ta)
        expect_status(r, 200, "audit list")
        events = r.json()["events"]
        eq(len(events), 5, "events returned for limit=5")
        ctl_a = st.controllers["A"]
        for e in events:
            check(e["controller"] in (ctl_a, None), "an event of another controller: %r" % e)


@case("http edges: a pseudonym is accepted wherever a subject id is (access log, audit "
      "filter), and an unknown one names only itself")
def t_pseudonyms(ctx):
    cx, st = staffed(ctx)
    s1 = st.subjects["S1"]["id"]
    with Server(cx) as srv:
        tn = st.signin(srv, "analyst")
        r = srv.call("GET", "/v1/subjects", token=tn)
        expect_status(r, 200, "analyst list")
        psn = [s["id"] for s in r.json()["subjects"]]
        check(psn and all(p.startswith("psn_") for p in psn), "pseudonyms listed: %r" % psn)
        tc = st.signin(srv, "clinician")
        r = srv.call("GET", "/v1/subjects/%s/access-log" % psn[0], token=tc)
        expect_status(r, 200, "access log by pseudonym")
        eq(r.json()["subject"], psn[0], "subject named as asked")
        ta = st.signin(srv, "auditor")
        r = srv.call("GET", "/v1/audit?subject=%s" % s1, token=ta)
        expect_status(r, 200, "audit by id")
        unknown = "psn_" + "0" * 32
        r = srv.call("GET", "/v1/subjects/%s/access-log" % unknown, token=tc)
        expect_problem(r, 404, "not-found", "unknown pseudonym")
        check(s1 not in r.body.decode(), "the 404 names the real id")


@case("http edges: 'bearer' in any case is accepted; a body over --max-body is refused "
      "naming that limit")
def t_bearer_and_body_limit(ctx):
    cx, st = staffed(ctx)
    with Server(cx, "--max-body", "2048") as srv:
        tok = st.signin(srv, "clinician")
        for scheme in ("bearer", "BEARER", "Bearer"):
            r = call(srv.port, "POST", "/v1/subjects/search",
                     {"nhs_number": PERSON1["nhs_number"]},
                     headers={"Authorization": "%s %s" % (scheme, tok)})
            expect_status(r, 200, "scheme %s" % scheme)
        r = srv.call("POST", "/v1/subjects", {"kind": "patient", "name": "x" * 4000}, token=tok)
        expect_problem(r, 413, "payload-too-large", "over --max-body")
        check("2048" in r.json().get("detail", ""), "413 names the limit: %r" % r.json())


@case("http edges: request headers up to 15 KiB are served; over 16 KiB get 431")
def t_header_limit(ctx):
    cx, st = staffed(ctx)
    s1 = st.subjects["S1"]["id"]
    with Server(cx) as srv:
        tc = st.signin(srv, "clinician")
        auth = {"Authorization": "Bearer " + tc}
        r = call(srv.port, "GET", "/v1/subjects/" + s1,
                 headers=dict(auth, **{"X-Pad": "a" * (15 << 10)}))
        expect_status(r, 200, "15 KiB of headers")
        r = call(srv.port, "GET", "/v1/subjects/" + s1,
                 headers=dict(auth, **{"X-Pad": "a" * (16 << 10)}))
        eq(r.status, 431, "16 KiB of headers")
        expect_status(srv.call("GET", "/v1/subjects/" + s1, token=tc), 200, "afterwards")
