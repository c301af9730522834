"""Signing out everywhere: a member of staff ends every session of their own
account (the API's DELETE /v1/sessions, the console's "Sign out on every
device" button), and an administrator ends someone's sessions with `custos
user sign-out` (a lost device) while the account stays usable. Each is one
audit event; an API token is no session and is refused. Runs on both
backends."""

import urllib.parse

from harness import registry, check, eq
from http_client import Server, Staff, expect_status, expect_problem, audit_seq, events_after
from cases_staff_pages import FORM, Browser, csrf, setup

CASES, case = registry()


def alive(srv, token):
    return srv.call("GET", "/v1/audit?limit=1", token=token).status != 401


@case("sign out everywhere over the API: every session of the account ends, one event; "
      "another account's sessions stay; an API token is refused and stays valid")
def t_api(ctx):
    cx, st, sid, _ = setup(ctx)
    st.user("dr.smith", "c", "clinician")
    with Server(cx) as srv:
        a1 = st.signin(srv, "dr.jones")
        a2 = st.signin(srv, "dr.jones")
        other = st.signin(srv, "dr.smith")
        for t in (a1, a2, other):
            check(alive(srv, t), "a fresh session refused")
        seq = audit_seq(cx.db)
        expect_status(srv.call("DELETE", "/v1/sessions", token=a1), 204, "sign out everywhere")
        evs = events_after(cx.db, seq)
        eq([e["action"] for e in evs], ["signout.everywhere"], "audit events")
        eq(evs[0]["outcome"], "ok", "the event's outcome")
        for t, who in ((a1, "the session used"), (a2, "the other session")):
            expect_problem(srv.call("GET", "/v1/audit?limit=1", token=t), 401,
                           "unauthenticated", who + " after signing out everywhere")
        check(alive(srv, other), "another account's session ended")
        # signing in again works: the account is not disabled
        again = st.signin(srv, "dr.jones")
        check(alive(srv, again), "signing in again after signing out everywhere")
        # an API token has no sessions: refused, and it keeps working
        tok = st.token("feed", "c", "clinician")["token"]
        expect_problem(srv.call("DELETE", "/v1/sessions", token=tok), 400, "invalid-input",
                       "an API token signing out everywhere")
        check(alive(srv, tok), "the token stopped working")
        check(alive(srv, again), "a token's refusal ended a session")


@case("sign out everywhere in the console: the button ends the cookie's session and the "
      "account's API sessions; without the CSRF token nothing ends")
def t_console(ctx):
    cx, st, sid, _ = setup(ctx)
    with Server(cx) as srv:
        api = st.signin(srv, "dr.jones")
        b = Browser(srv)
        r = b.req("POST", "/staff/sign-in", {"username": "dr.jones",
                                             "password": st.users["dr.jones"]["password"]})
        eq(r.status, 303, "signed in by the form")
        r = b.req("GET", "/staff")
        eq(r.status, 200, "home")
        check("Sign out on every device" in r.text, "no button", r.text[:3000])
        check('formaction="staff/sign-out-everywhere"' in r.text, "the button's action",
              r.text[:3000])
        token = csrf(r.text)
        cookie = b.cookie
        r = b.req("POST", "/staff/sign-out-everywhere", {"csrf_token": "A" * 43})
        eq(r.status, 403, "a forged CSRF token")
        check(alive(srv, api), "a forged form ended a session")
        r = b.req("GET", "/staff")
        eq(r.status, 200, "the cookie after a forged form")
        seq = audit_seq(cx.db)
        r = b.req("POST", "/staff/sign-out-everywhere", {"csrf_token": token})
        eq(r.status, 303, "signed out everywhere")
        check(r.header("location").endswith("staff/sign-in"), "to the sign-in form",
              r.header("location"))
        check("Max-Age=0" in (r.header("set-cookie") or ""), "the cookie is not cleared")
        eq([e["action"] for e in events_after(cx.db, seq)], ["signout.everywhere"], "events")
        b.cookie = cookie
        eq(b.req("GET", "/staff").status, 303, "the old cookie after signing out everywhere")
        expect_problem(srv.call("GET", "/v1/audit?limit=1", token=api), 401, "unauthenticated",
                       "the API session after the console's sign-out everywhere")


@case("custos user sign-out: an administrator ends every session of an account, which "
      "stays usable; one audit event; an unknown user is a one-line error")
def t_cli(ctx):
    cx, st, sid, _ = setup(ctx)
    with Server(cx) as srv:
        s1 = st.signin(srv, "dr.jones")
        s2 = st.signin(srv, "dr.jones")
        seq = audit_seq(cx.db)
        out = cx.ok("user", "sign-out", "dr.jones")
        check("ended every session of dr.jones" in out.out, "the CLI's answer", out.out)
        eq([e["action"] for e in events_after(cx.db, seq)], ["user.signout"], "events")
        for t in (s1, s2):
            expect_problem(srv.call("GET", "/v1/audit?limit=1", token=t), 401,
                           "unauthenticated", "a session after user sign-out")
        again = st.signin(srv, "dr.jones")
        check(alive(srv, again), "the account cannot sign in again")
    cx.fails(1, "user", "sign-out", "nobody.here", says=("nobody.here",))
    cx.fails(2, "user", "sign-out", says=("needs one username",))


@case("sign-in forms refuse a POST a browser says came from another site's page (staff and "
      "portal): no session, no cookie, nothing recorded; the service's own page signs in")
def t_cross_site_signin(ctx):
    cx, st, sid, _ = setup(ctx)
    with Server(cx) as srv:
        form = {"username": "dr.jones", "password": st.users["dr.jones"]["password"]}
        for site in ("cross-site", "same-site"):
            seq = audit_seq(cx.db)
            r = Browser(srv).srv.call("POST", "/staff/sign-in", urllib.parse.urlencode(form),
                                      ctype=FORM, headers={"Sec-Fetch-Site": site})
            eq(r.status, 403, "staff sign-in from a %s page" % site)
            check(not r.header("set-cookie"), "a cookie for a %s sign-in" % site)
            check("own sign-in page" in r.text, "the page says why", r.text[:3000])
            eq(events_after(cx.db, seq), [], "events of a %s sign-in" % site)
            r = srv.call("POST", "/portal/sign-in",
                         urllib.parse.urlencode({"name": "K7QD-M3MZ-PX2R", "password": "x" * 12}),
                         ctype=FORM, headers={"Sec-Fetch-Site": site})
            eq(r.status, 403, "portal sign-in from a %s page" % site)
            check(not r.header("set-cookie"), "a portal cookie for a %s sign-in" % site)
        b = Browser(srv)
        r = b.srv.call("POST", "/staff/sign-in", urllib.parse.urlencode(form), ctype=FORM,
                       headers={"Sec-Fetch-Site": "same-origin"})
        eq(r.status, 303, "a sign-in from the service's own page")
        check((r.header("set-cookie") or "").startswith("__Host-custos=cus_"), "the cookie",
              r.header("set-cookie"))
