"""The patient portal's cookie banner: none while the controller's policy
declares only strictly necessary cookies (and then only strictly necessary
cookies are ever set); with a cookie that is not, a banner on every public
and signed-in portal page with two buttons of the same markup, a form that
needs its CSRF token and returns only to a portal page; each choice a new
row with the policy version shown (a signed-in patient's also audited), the
banner gone after it and back when the policy changes; the rows under row
codes `custos verify` checks, and gone with an erased subject. Runs on both
backends."""

import json
import re
import time
import urllib.parse

from harness import registry, check, eq, sql, sql_exec
from http_client import Server, audit_seq, events_after
from browser import no_violations, screenshot
from fixtures import TEST_POLICY, write
from cases_portal import FORM, GOOD, Patient, invite, password_form, portal_store

CASES, case = registry()

PORTAL_COOKIE = "__Host-custos-portal"
CHOICE_COOKIE = "__Host-custos-cookies"
BANNER = "data-cookie-banner"
ANALYTICS = {"name": "_ga", "provider": "Google Analytics",
             "purpose": "Tells us how people use the portal, so that we can improve it.",
             "duration": "2 years", "strictly_necessary": False, "consent_required": True}


def cookie_policy(ctx, cx, ctl, duration="2 years"):
    """Applies the test policy with an analytics cookie; returns its version."""
    pol = json.load(open(TEST_POLICY))
    pol["cookies"] = [dict(ANALYTICS, duration=duration)]
    path = write(ctx, "policy-%s.json" % duration.replace(" ", "-"), pol)
    return cx.okj("policy", "apply", "--controller", ctl, path)["version"]


class Browser:
    """Both of the portal's cookies, carried by hand (they are Secure), and
    every Set-Cookie the server sent."""

    def __init__(self, srv):
        self.srv = srv
        self.jar = {}
        self.set_cookies = []

    def req(self, method, path, fields=None, headers=None):
        body = urllib.parse.urlencode(fields) if fields is not None else None
        h = dict(headers or {})
        if self.jar:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in sorted(self.jar.items()))
        r = self.srv.call(method, path, body, ctype=FORM if body is not None else None,
                          headers=h)
        sc = r.header("set-cookie")
        if sc:
            self.set_cookies.append(sc)
            name, value = sc.split(";", 1)[0].split("=", 1)
            if value and "Max-Age=0" not in sc:
                self.jar[name] = value
            else:
                self.jar.pop(name, None)
        return r

    def signin(self, name):
        return self.req("POST", "/portal/sign-in", [("name", name), ("password", GOOD)])


def form_of(page):
    """The banner's (or the cookies page's) choice form: its fields."""
    m = re.search(r'<form method="post" action="[^"]*cookies"[^>]*>(.*?)</form>', page, re.S)
    check(m, "no cookie choice form", page[:4000])
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"',
                             m.group(1)))
    return fields, m.group(1)


def choose(b, page, choice, **override):
    fields, _ = form_of(page)
    fields.update(override)
    fields["choice"] = choice
    return b.req("POST", "/portal/cookies", [(k, v) for k, v in fields.items() if v is not None])


def choices(cx):
    return sql(cx.db, "SELECT choice, policy_version, subject_id, visitor_hash "
                      "FROM portal_cookie_choices ORDER BY chosen_at, id")


@case("cookies: a policy of strictly necessary cookies only shows no banner on any portal "
      "page, the cookies page asks nothing, a choice is refused, and every Set-Cookie the "
      "portal sends is the session's")
def t_no_banner(ctx):
    cx, st, names = portal_store(ctx)
    with Server(cx) as srv:
        b = Browser(srv)
        inv = invite(cx, st.subjects["ada"]["id"])
        pages = [b.req("GET", "/portal/sign-in"), b.req("GET", inv["path"]),
                 b.req("GET", "/portal/cookies")]
        eq(b.signin(names["ada"]).status, 303, "Ada signs in")
        for path in ("/portal", "/portal/data", "/portal/access", "/portal/cookies"):
            pages.append(b.req("GET", path))
        for r in pages:
            eq(r.status, 200, "a portal page")
            check(BANNER not in r.text and "Accept additional cookies" not in r.text,
                  "a banner without optional cookies", r.text[:3000])
        check("You do not need to choose" in pages[-1].text, "the cookies page asks",
              pages[-1].text[:5000])
        check("<td class=\"nhsuk-table__cell\">%s</td>" % PORTAL_COOKIE in pages[-1].text,
              "the session cookie is not listed", pages[-1].text[:5000])
        r = b.req("POST", "/portal/cookies", [("choice", "accepted"), ("return", "/portal")])
        eq(r.status, 403, "a choice with no token")
        eq(b.req("POST", "/portal/sign-out", [("csrf_token", re.search(
            r'name="csrf_token" value="([^"]+)"', pages[-1].text).group(1))]).status, 303,
           "signed out")
        names_set = {sc.split("=", 1)[0] for sc in b.set_cookies}
        eq(names_set, {PORTAL_COOKIE}, "the cookies the portal set")
    eq(choices(cx), [], "a choice recorded")


@case("cookies: an optional cookie in the policy puts a banner on public and signed-in portal "
      "pages (two buttons of the same markup, axe clean); nothing is set before a choice; "
      "a visitor's accept sets only the choice cookie and records a row with the version; a "
      "signed-in patient's reject is recorded under their subject and audited; the banner "
      "goes after either; verify checks the rows and erasure removes them")
def t_banner_and_choices(ctx):
    cx, st, names = portal_store(ctx)
    ada = st.subjects["ada"]["id"]
    version = cookie_policy(ctx, cx, st.controllers["c"])
    check(version >= 2, "the policy's version", version)
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        v = Browser(srv)
        inv = invite(cx, st.subjects["bert"]["id"])
        for path in ("/portal/sign-in", inv["path"]):
            r = v.req("GET", path)
            eq(r.status, 200, path)
            check(BANNER in r.text, "no banner on " + path, r.text[:3000])
        page = v.req("GET", "/portal/sign-in").text
        no_violations(cx.binary, d, "portal-signin-banner.html", page, base)
        screenshot(d, "portal-cookie-banner", page, base)
        # the two buttons: the same element, class and form; only value and words differ
        _, inner = form_of(page)
        buttons = re.findall(r"<button[^>]*>[^<]*</button>", inner)
        eq(len(buttons), 2, "two buttons")
        check("Accept additional cookies" in buttons[0] and
              "Reject additional cookies" in buttons[1], "the buttons' words", buttons)
        eq(buttons[0].replace("accepted", "X").replace("Accept", "Y"),
           buttons[1].replace("rejected", "X").replace("Reject", "Y"), "equal weight")
        check(re.search(r'<a href="[./a-z]*cookies">read about the cookies', page),
              "the cookies page's link", page[:3000])
        eq(v.set_cookies, [], "a cookie set before any choice")
        r = v.req("GET", "/portal/cookies")
        eq(r.status, 200, "the cookies page")
        for want in ("_ga", "Google Analytics", "2 years", "You have not made a choice",
                     CHOICE_COOKIE, "Accept additional cookies", "Reject additional cookies"):
            check(want in r.text, "the cookies page lacks " + want, r.text[:6000])
        check(BANNER not in r.text, "a banner on the cookies page itself")
        no_violations(cx.binary, d, "portal-cookies.html", r.text, base)

        # refusals: nothing recorded, no cookie
        seq = audit_seq(cx.db)
        eq(choose(v, page, "accepted", csrf_token=None).status, 403, "no CSRF token")
        eq(choose(v, page, "accepted", csrf_token="A" * 43).status, 403, "a forged token")
        r = v.req("POST", "/portal/cookies", list(form_of(page)[0].items()) +
                  [("choice", "accepted")], headers={"Sec-Fetch-Site": "cross-site"})
        eq(r.status, 403, "a choice another site's page sent")
        for bad in ("https://evil.example/portal", "//evil.example/portal", "/staff",
                    "/portal/../staff", "/portal//evil.example", "/portalx", "/portal?x=1",
                    "", None):
            r = choose(v, page, "accepted", **{"return": bad})
            eq(r.status, 400, "a return to %r" % (bad,))
            check(not r.header("location"), "a redirect to %r" % (bad,))
        eq(choose(v, page, "maybe").status, 400, "neither choice")
        eq(choose(v, page, "accepted", version="x").status, 400, "no version")
        eq(choose(v, page, "accepted", controller=ada).status, 400, "no such controller")
        eq(choices(cx), [], "a refused choice recorded")
        eq(v.set_cookies, [], "a cookie for a refused choice")
        eq(events_after(cx.db, seq), [], "a refused choice audited")

        # a visitor accepts: back to the page, the choice cookie, one row
        r = choose(v, page, "accepted")
        eq(r.status, 303, "accepted")
        check(r.header("location").endswith("sign-in") and "//" not in r.header("location"),
              "back to the sign-in page", r.header("location"))
        sc = r.header("set-cookie")
        check(sc.startswith(CHOICE_COOKIE + "=cuk_") and "Domain" not in sc, "the cookie", sc)
        for flag in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax", "Max-Age=31536000"):
            check(flag in sc, "the choice cookie lacks " + flag, sc)
        ((choice, ver, sub, vh),) = choices(cx)
        eq((choice, ver, sub), ("accepted", version, None), "the visitor's row")
        eq(len(bytes(vh)), 32, "a keyed hash of the visitor's id")
        check(v.jar[CHOICE_COOKIE].encode() not in bytes(vh), "the id is stored")
        eq(events_after(cx.db, seq), [], "a visitor's choice is not an audit event")
        for path in ("/portal/sign-in", inv["path"]):
            check(BANNER not in v.req("GET", path).text, "the banner after accepting: " + path)
        r = v.req("GET", "/portal/cookies")
        check('data-cookie-choice="accepted"' in r.text and "version %d" % version in r.text,
              "the choice and its version", r.text[:6000])
        screenshot(d, "portal-cookies", r.text, base, width=1280)

        # a patient signs in with no choice of their own or of the browser
        p = Browser(srv)
        eq(p.signin(names["ada"]).status, 303, "Ada signs in")
        for path in ("/portal", "/portal/data", "/portal/access"):
            r = p.req("GET", path)
            eq(r.status, 200, path)
            check(BANNER in r.text, "no banner on " + path, r.text[:3000])
        no_violations(cx.binary, d, "portal-home-banner.html", p.req("GET", "/portal").text,
                      base)
        page = p.req("GET", "/portal/data").text
        seq = audit_seq(cx.db)
        other = Browser(srv)
        eq(other.signin(names["bert"]).status, 303, "Bertram signs in")
        bert_page = other.req("GET", "/portal").text
        eq(choose(p, page, "rejected", csrf_token=form_of(bert_page)[0]["csrf_token"]).status,
           403, "another session's token")
        r = choose(p, page, "rejected")
        eq(r.status, 303, "rejected")
        check(r.header("location").endswith("data"), "back to the page", r.header("location"))
        check(not r.header("set-cookie"), "a cookie for a signed-in choice",
              r.header("set-cookie"))
        rows = choices(cx)
        eq([(c, ver, sub, vh) for c, ver, sub, vh in rows[1:]],
           [("rejected", version, ada, None)], "Ada's row")
        ev = [e for e in events_after(cx.db, seq) if e["action"] == "portal.cookies"]
        eq([(e["outcome"], e["subject"], e["actor"], e["role"]) for e in ev],
           [("ok", ada, "portal:" + names["ada"], "subject")], "Ada's choice audited")
        for path in ("/portal", "/portal/data"):
            check(BANNER not in p.req("GET", path).text, "the banner after rejecting " + path)
        r = p.req("GET", "/portal/cookies")
        check('data-cookie-choice="rejected"' in r.text, "Ada's choice", r.text[:6000])
        # a new choice is a new row: accept again from the cookies page
        eq(choose(p, r.text, "accepted").status, 303, "accepted on the cookies page")
        eq([c for c, _, sub, _ in choices(cx) if sub == ada], ["rejected", "accepted"],
           "Ada's choices, none updated")
        # the browser's cookies: the session's, and the visitor's choice only
        eq({sc.split("=", 1)[0] for sc in v.set_cookies + p.set_cookies},
           {CHOICE_COOKIE, PORTAL_COOKIE}, "the cookies the portal set")
    cx.ok("verify")
    sql_exec(cx.db, ("UPDATE portal_cookie_choices SET choice = 'rejected' "
                     "WHERE choice = 'accepted' AND subject_id IS NULL", ()))
    r = cx.run("verify")
    check(r.rc == 1 and "portal_cookie_choices" in r.err and "altered" in r.err,
          "verify names the altered choice", r.describe())
    sql_exec(cx.db, ("UPDATE portal_cookie_choices SET choice = 'accepted' "
                     "WHERE subject_id IS NULL", ()))
    cx.ok("verify")
    cx.ok("subject", "erase", ada)
    eq(sql(cx.db, "SELECT count(*) FROM portal_cookie_choices WHERE subject_id = ?",
           (ada,))[0][0], 0, "the erased subject's choices")
    eq(len(choices(cx)), 1, "the visitor's choice")


@case("cookies: a new policy version shows the banner again, to visitors and patients who "
      "chose under the old one; a form of the old version records nothing")
def t_policy_change(ctx):
    cx, st, names = portal_store(ctx)
    ctl = st.controllers["c"]
    v1 = cookie_policy(ctx, cx, ctl)
    with Server(cx) as srv:
        v = Browser(srv)
        r = choose(v, v.req("GET", "/portal/sign-in").text, "rejected")
        eq(r.status, 303, "the visitor rejects: " + r.text[:2000] + srv.stderr()[-3000:])
        old_page = v.req("GET", "/portal/cookies").text  # its form, of the old version
        p = Browser(srv)
        eq(p.signin(names["ada"]).status, 303, "Ada signs in")
        eq(choose(p, p.req("GET", "/portal").text, "accepted").status, 303, "Ada accepts")
        check(BANNER not in v.req("GET", "/portal/sign-in").text, "the visitor's banner")
        check(BANNER not in p.req("GET", "/portal").text, "Ada's banner")
    v2 = cookie_policy(ctx, cx, ctl, duration="13 months")
    check(v2 > v1, "a new version", (v1, v2))
    # two minutes on: Ada's session is touched (its last use written inside the
    # server's batch) as the page asks again
    with Server(cx, env={"CUSTOS_FAKE_NOW": str(int(time.time()) + 120)}) as srv:
        v.srv = p.srv = srv
        page = v.req("GET", "/portal/sign-in").text
        check(BANNER in page, "the banner again for the visitor", page[:3000])
        r = p.req("GET", "/portal")
        eq(r.status, 200, "Ada's session two minutes on")
        check(BANNER in r.text, "the banner again for Ada", r.text[:3000])
        r = v.req("GET", "/portal/cookies")
        check("has changed since then" in r.text and "13 months" in r.text,
              "the cookies page says the policy changed", r.text[:6000])
        n = len(choices(cx))
        check('name="version" value="%d"' % v1 in old_page, "the old form's version")
        r = choose(v, old_page, "accepted")
        eq(r.status, 303, "a stale form goes back to its page")
        eq(len(choices(cx)), n, "a stale form recorded a choice")
        check(BANNER in v.req("GET", "/portal/sign-in").text, "the banner after a stale form")
        eq(choose(v, page, "accepted").status, 303, "the visitor accepts the new version")
        eq(choices(cx)[-1][:2], ("accepted", v2), "the new row's version")
        check(BANNER not in v.req("GET", "/portal/sign-in").text, "the banner once answered")
        check(BANNER in p.req("GET", "/portal").text, "Ada still to answer")
