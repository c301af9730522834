"""The patient portal's invitations, as staff and a patient use them: staff
who may contact the patient invite them (CLI and JSON API; the others are
refused, and every attempt is audited); the link opens an accessible page
that names no one, where the patient sets a password (refused, with nothing
stored, when it breaks the rules or the two entries differ) and is shown
their sign-in name; the invitation then dies, and a used, expired or forged
one gets a page that says so. Only a keyed hash of the code and an Argon2id
hash of the password are stored, under row codes `custos verify` checks.
Runs on both backends."""

import re
import secrets
import time
import urllib.parse

from harness import registry, check, eq, sql, sql_exec
from fixtures import populated
from http_client import Server, Staff, audit_seq, events_after, expect_status
from browser import no_violations, screenshot
from cases_erasure import test_clock

CASES, case = registry()

FORM = "application/x-www-form-urlencoded"
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$")
NAME = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}$")
GOOD = "correct horse battery staple"


def invite(cx, sid, *extra):
    return cx.okj("portal", "invite", sid, *extra)


def password_form(pw, again=None):
    return urllib.parse.urlencode([("password", pw), ("confirm", pw if again is None else again)])


def accounts(cx):
    return sql(cx.db, "SELECT subject_id, name, pwhash FROM portal_accounts")


def actions(cx, seq):
    return [e["action"] for e in events_after(cx.db, seq)]


@case("portal: an invitation opens an accessible page without sign-in that names no one; a "
      "password that breaks the rules or differs comes back by its field with nothing stored; "
      "the password is set, hashed, and the sign-in name shown; the invitation then dies")
def t_invitation(ctx):
    cx, ids = populated(ctx)
    s1 = ids["s1"]
    person = cx.okj("subject", "show", s1)
    seq = audit_seq(cx.db)
    inv = invite(cx, s1, "--public-url", "https://portal.example.org/care")
    check(CODE.match(inv["code"]), "the code is not four groups of five", inv)
    eq(inv["path"], "/portal/invitation/" + inv["code"], "the path")
    eq(inv["url"], "https://portal.example.org/care" + inv["path"], "the absolute link")
    eq(inv["resets_account"], False, "a first invitation")
    eq(actions(cx, seq), ["portal.invite"], "one audited invitation")
    text = cx.ok("portal", "invite", s1).out
    check("code " in text and "/portal/invitation/" in text, "the invitation in words", text)
    # only the code's keyed hash is kept
    rows = sql(cx.db, "SELECT token_hash, subject_id, used_at FROM portal_invitations")
    eq(len(rows), 2, "two invitations stored")
    for h, sub, used in rows:
        eq((len(bytes(h)), sub, used), (32, s1, 0), "an invitation row")
        check(inv["code"].replace("-", "").encode() not in bytes(h), "the code is stored")
    path = inv["path"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        r = srv.call("GET", path)
        eq(r.status, 200, "the invitation's page")
        eq(r.header("content-type"), "text/html; charset=utf-8", "its type")
        page = r.text
        check("Set up your patient portal account" in page, "the page's title", page[:3000])
        check('action="%s"' % inv["code"] in page, "the form does not post to its link",
              page[:3000])
        check(person["name"] not in page and s1 not in page, "the page names its patient")
        check("<script" not in page.lower(), "the page has a script")
        no_violations(cx.binary, d, "invitation.html", page, base)
        screenshot(d, "portal-invitation", page, base)
        # lower case and without dashes, as someone may type it from a letter
        r = srv.call("GET", "/portal/invitation/" + inv["code"].replace("-", "").lower())
        eq(r.status, 200, "the code typed in lower case without dashes")

        seq = audit_seq(cx.db)
        for pw, again, field, says in (("", None, "password", "Enter a password"),
                                       ("shortpw", None, "password", "at least 12"),
                                       ("a" * 20, None, "password", "repeated"),
                                       (GOOD, GOOD + "!", "confirm", "same password"),
                                       (GOOD, "", "confirm", "again")):
            r = srv.call("POST", path, password_form(pw, again), ctype=FORM)
            eq(r.status, 400, "a refused password: " + says)
            check("There is a problem" in r.text and says in r.text, "the error: " + says,
                  r.text[:3000])
            check('id="%s-error"' % field in r.text, "no message by " + field)
            check("<title>Error: " in r.text, "the title does not say Error")
            check(not pw or pw not in r.text, "the password written back into the page")
        no_violations(cx.binary, d, "invitation-errors.html", r.text, base)
        screenshot(d, "portal-invitation-errors", r.text, base)
        eq(accounts(cx), [], "an account made from a refused form")
        eq(actions(cx, seq), [], "a refused form was recorded")
        r = srv.call("POST", path, '{"password": "x"}', ctype="application/json")
        eq(r.status, 415, "JSON to the form")

        r = srv.call("POST", path, password_form(GOOD), ctype=FORM)
        eq(r.status, 200, "the password set")
        check("Your account is ready" in r.text, "the confirmation", r.text[:3000])
        m = re.search(r"<strong>([0-9A-Z-]+)</strong>", r.text)
        check(m and NAME.match(m.group(1)), "no sign-in name shown", r.text[:3000])
        check(GOOD not in r.text, "the password written into the page")
        no_violations(cx.binary, d, "invitation-done.html", r.text, base)
        screenshot(d, "portal-invitation-done", r.text, base)
        name = m.group(1)
        ev = events_after(cx.db, seq)
        eq([(e["action"], e["actor"], e["subject"]) for e in ev],
           [("portal.account", "portal-invitation", s1)], "the password set, audited as the "
           "patient's act")
        ((sub, got_name, pwhash),) = accounts(cx)
        eq((sub, got_name), (s1, name), "the account")
        check(pwhash.startswith("$argon2id$") and GOOD not in pwhash, "the password's hash",
              pwhash)

        # the invitation is dead: the page and a post say so, and nothing changes
        seq = audit_seq(cx.db)
        r = srv.call("GET", path)
        eq(r.status, 410, "a used invitation")
        check("already been used" in r.text, "the used page", r.text[:2000])
        no_violations(cx.binary, d, "invitation-used.html", r.text, base)
        r = srv.call("POST", path, password_form("another good password"), ctype=FORM)
        eq(r.status, 410, "a used invitation posted again")
        eq(accounts(cx)[0][2], pwhash, "a used invitation changed the password")
        # forged codes: the right shape, one character changed, another shape
        last = inv["code"][-1]
        for forged in ("".join(secrets.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
                               for _ in range(20)),
                       inv["code"][:-1] + ("0" if last != "0" else "1")):
            r = srv.call("GET", "/portal/invitation/" + forged)
            eq(r.status, 404, "a forged code " + forged)
            check("Page not found" in r.text, "the unknown page", r.text[:1000])
            r = srv.call("POST", "/portal/invitation/" + forged, password_form(GOOD), ctype=FORM)
            eq(r.status, 404, "a forged code posted")
        for bad in ("ABCDE", "cuq_" + inv["code"], inv["code"] + "-AAAAA", "IIIII-LLLLL-OOOOO-UUUUU"):
            r = srv.call("GET", "/portal/invitation/" + bad)
            eq(r.status, 404, "a malformed code " + bad)
        eq(actions(cx, seq), [], "refused invitations were recorded")
        eq(len(accounts(cx)), 1, "one account")

        # a new invitation resets the password; the sign-in name stays
        inv2 = invite(cx, s1)
        eq(inv2["resets_account"], True, "an invitation for a subject with an account")
        r = srv.call("GET", inv2["path"])
        eq(r.status, 200, "the reset page")
        check("Choose a new password" in r.text, "the reset page's title", r.text[:3000])
        no_violations(cx.binary, d, "invitation-reset.html", r.text, base)
        r = srv.call("POST", inv2["path"], password_form("a different long password"),
                     ctype=FORM)
        eq(r.status, 200, "the new password set")
        check("Your new password is saved" in r.text and name in r.text,
              "the reset's confirmation and the same name", r.text[:3000])
        ((_, name2, pwhash2),) = accounts(cx)
        eq(name2, name, "the sign-in name across a reset")
        check(pwhash2 != pwhash, "the password did not change")
    cx.ok("verify")


@case("portal: an invitation past its expiry is refused (page and post), nothing stored")
def t_expired(ctx):
    cx, ids = populated(ctx)
    test_clock(cx)
    inv = invite(cx, ids["s1"], "--days", "1")
    later = {"CUSTOS_FAKE_NOW": str(int(time.time()) + 2 * 86400)}
    with Server(cx, env=later) as srv:
        r = srv.call("GET", inv["path"])
        eq(r.status, 410, "an expired invitation")
        check("This invitation has expired" in r.text, "the expired page", r.text[:2000])
        r = srv.call("POST", inv["path"], password_form(GOOD), ctype=FORM)
        eq(r.status, 410, "an expired invitation posted")
    eq(accounts(cx), [], "an expired invitation made an account")
    for days in ("0", "91", "x"):
        cx.fails(2, "portal", "invite", ids["s1"], "--days", days)
    cx.fails(2, "portal", "invite")
    cx.fails(2, "portal", "invite", ids["s1"], "--public-url", "ftp://x")
    cx.fails(1, "portal", "invite", "00000000-0000-4000-8000-000000000000")


@case("portal: invitations by the JSON API, only from staff who may contact the patient "
      "(a clinician with the patient on their list, a care admin, the DPO); the others are "
      "refused and audited, another controller's patient is concealed")
def t_api(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("c", "North Riding NHS Trust")
    st.controller("o", "Borsetshire GP Practice")
    for u, roles in (("dr.on", "clinician"), ("dr.off", "clinician"), ("desk", "care_admin"),
                     ("dpo", "dpo"), ("counter", "analyst"), ("checker", "auditor"),
                     ("root", "admin")):
        st.user(u, "c", roles)
    st.user("dpo.other", "o", "dpo")
    sid = st.subject("p", "c", {"name": "Ada Lovelace", "nhs_number": "9434765919"})
    st.care("dr.on", "p")
    with Server(cx) as srv:
        want = {"dr.on": 201, "desk": 201, "dpo": 201, "dr.off": 403, "counter": 403,
                "checker": 403, "root": 403, "dpo.other": 404}
        for u, status in want.items():
            tok = st.signin(srv, u)
            seq = audit_seq(cx.db)
            r = srv.call("POST", "/v1/subjects/%s/portal-invitations" % sid, '{"days": 3}',
                         token=tok)
            expect_status(r, status, "an invitation by " + u)
            ev = [e for e in events_after(cx.db, seq) if e["action"] == "portal.invite"]
            eq(len(ev), 1, "the invitation by %s audited" % u)
            eq(ev[0]["outcome"], "ok" if status == 201 else "denied", "its outcome")
            if status == 201:
                j = r.json()
                check(CODE.match(j["code"]), "the code", j)
                eq(j["path"], "/portal/invitation/" + j["code"], "the path")
                check(j["url"].endswith(j["path"]) and j["url"].startswith("http"),
                      "an absolute link", j)
        tok = st.sessions["dpo"]
        for body, what in (('{"days": 0}', "days 0"), ('{"days": 91}', "days 91"),
                           ('{"days": "3"}', "days a string"), ('{"when": 3}', "a member"),
                           ("[]", "not an object")):
            r = srv.call("POST", "/v1/subjects/%s/portal-invitations" % sid, body, token=tok)
            expect_status(r, 400, "a bad body: " + what)
        r = srv.call("POST", "/v1/subjects/%s/portal-invitations" % sid, "{}")
        expect_status(r, 401, "no token")
    eq(sql(cx.db, "SELECT count(*) FROM portal_invitations")[0][0], 3, "three invitations")


@case("portal: an altered invitation is refused and named by verify")
def t_tamper(ctx):
    cx, ids = populated(ctx)
    inv = invite(cx, ids["s1"], "--days", "1")
    (iid,) = sql(cx.db, "SELECT id FROM portal_invitations")[0]
    # An insider keeps the invitation alive longer.
    sql_exec(cx.db, "UPDATE portal_invitations SET expires_at = expires_at + 86400000000")
    with Server(cx) as srv:
        r = srv.call("GET", inv["path"])
        eq(r.status, 500, "an altered invitation")
        r = srv.call("POST", inv["path"], password_form(GOOD), ctype=FORM)
        eq(r.status, 500, "an altered invitation posted")
    eq(accounts(cx), [], "an account made by an altered invitation")
    r = cx.run("verify")
    check(r.rc == 1 and "portal_invitations %s: altered" % iid in r.err, "verify",
          r.describe())
    cx.ok("verify", "--seal")
    with Server(cx) as srv:
        r = srv.call("POST", inv["path"], password_form(GOOD), ctype=FORM)
        eq(r.status, 200, "the invitation after sealing")
    ((sub, _, _),) = accounts(cx)
    # An insider moves the account to another subject.
    sql_exec(cx.db, ("UPDATE portal_accounts SET name = ?", ("AAAA-BBBB-CCCC",)))
    r = cx.run("verify")
    check(r.rc == 1 and "portal_accounts %s: altered" % sub in r.err, "verify names the account",
          r.describe())


# ---------------------------------------------------------------- sign-in and pages

PORTAL_COOKIE = "__Host-custos-portal"


class Patient:
    """A cookie jar of one for the portal's cookie (Secure: carried by hand)."""

    def __init__(self, srv):
        self.srv = srv
        self.cookie = None

    def req(self, method, path, fields=None, cookie=True, name=PORTAL_COOKIE, raw=None):
        body = urllib.parse.urlencode(fields) if fields is not None else None
        h = {}
        if raw is not None:
            h["Cookie"] = raw
        elif cookie and self.cookie:
            h["Cookie"] = "%s=%s" % (name, self.cookie)
        r = self.srv.call(method, path, body, ctype=FORM if body is not None else None,
                          headers=h)
        sc = r.header("set-cookie")
        if sc and sc.startswith(PORTAL_COOKIE + "="):
            self.cookie = sc.split(";", 1)[0].split("=", 1)[1] or None
        return r

    def signin(self, name, pw=GOOD):
        return self.req("POST", "/portal/sign-in", [("name", name), ("password", pw)])


def portal_csrf(page):
    m = re.search(r'name="csrf_token" value="([A-Za-z0-9_-]{43})"', page)
    check(m, "no CSRF token in the page", page[:3000])
    return m.group(1)


def portal_store(ctx):
    """A controller, two clinicians (one caring for Ada), Ada and Bertram,
    each with a portal account. Returns (cx, st, names)."""
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("c", "North Riding NHS Trust")
    st.user("dr.on", "c", "clinician")
    st.user("dr.off", "c", "clinician")
    st.subject("ada", "c", {"name": "Ada Lovelace", "nhs_number": "9434765919",
                            "items": [{"category": "health", "field": "allergy_notes",
                                       "value": "penicillin <b>rash</b>"}]})
    st.subject("bert", "c", {"name": "Bertram Other", "nhs_number": "9434765870"})
    st.care("dr.on", "ada")
    names = {}
    with Server(cx) as srv:
        for label in ("ada", "bert"):
            inv = invite(cx, st.subjects[label]["id"])
            r = srv.call("POST", inv["path"], password_form(GOOD), ctype=FORM)
            eq(r.status, 200, "the account of " + label)
            names[label] = re.search(r"<strong>([0-9A-Z-]+)</strong>", r.text).group(1)
    return cx, st, names


@case("portal: sign in by form (wrong password refused and audited, the cookie's flags); "
      "home, your data and who looked (a clinician's read and a refused one explained), each "
      "view one audited operation by the patient about their own record; axe clean; sign-out "
      "needs its CSRF token and ends the session")
def t_portal_pages(ctx):
    cx, st, names = portal_store(ctx)
    ada, bert = st.subjects["ada"]["id"], st.subjects["bert"]["id"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        # staff look at Ada's record: one allowed, one refused
        r = srv.call("GET", "/v1/subjects/" + ada, token=st.signin(srv, "dr.on"))
        eq(r.status, 200, "the clinician caring for Ada")
        r = srv.call("GET", "/v1/subjects/" + ada, token=st.signin(srv, "dr.off"))
        eq(r.status, 403, "a clinician off Ada's care list")
        p = Patient(srv)
        # not signed in: every page sends to the sign-in form
        for path in ("/portal", "/portal/data", "/portal/access"):
            r = p.req("GET", path)
            eq(r.status, 303, "not signed in: " + path)
            check(r.header("location").endswith("portal/sign-in"), "to sign-in",
                  r.header("location"))
        r = p.req("GET", "/portal/sign-in")
        eq(r.status, 200, "the sign-in form")
        check("Sign in to the patient portal" in r.text, "the form's title", r.text[:2000])
        no_violations(cx.binary, d, "portal-signin.html", r.text, base)
        screenshot(d, "portal-sign-in", r.text, base)
        # wrong password, malformed name, unknown name: refused, no cookie
        seq = audit_seq(cx.db)
        r = p.signin(names["ada"], "not the password at all")
        eq(r.status, 401, "a wrong password")
        check("The sign-in name or password is wrong" in r.text, "the error", r.text[:3000])
        check(p.cookie is None, "a cookie for a wrong password")
        no_violations(cx.binary, d, "portal-signin-error.html", r.text, base)
        r = p.signin("AAAA-BBBB-CCCC")
        eq(r.status, 401, "an unknown name: the same answer")
        check("The sign-in name or password is wrong" in r.text, "the same error")
        r = p.signin("not a name")
        eq(r.status, 400, "a malformed name")
        r = p.signin(names["ada"], "")
        eq(r.status, 400, "no password")
        ev = events_after(cx.db, seq)
        eq([(e["action"], e["outcome"], e["subject"], e["rule"]) for e in ev],
           [("portal.signin", "denied", ada, "wrong-password"),
            ("portal.signin", "denied", "", "wrong-password")],
           "the refused sign-ins audited, the first about Ada")
        # the right one: the cookie, Secure, HttpOnly, SameSite=Strict, host-only
        seq = audit_seq(cx.db)
        r = p.signin(names["ada"].lower().replace("-", ""))
        eq(r.status, 303, "signed in (the name typed in lower case, no dashes)")
        sc = r.header("set-cookie")
        check(sc.startswith(PORTAL_COOKIE + "=cup_") and "Domain" not in sc, "the cookie", sc)
        for flag in ("Path=/", "Secure", "HttpOnly", "SameSite=Strict", "Max-Age="):
            check(flag in sc, "the cookie lacks " + flag, sc)
        check(r.header("location").endswith("portal"), "to the home page",
              r.header("location"))
        ev = events_after(cx.db, seq)
        eq([(e["action"], e["outcome"], e["subject"], e["actor"]) for e in ev],
           [("portal.signin", "ok", ada, "portal:" + names["ada"])], "the sign-in audited")
        ((n,),) = sql(cx.db, "SELECT count(*) FROM portal_sessions")
        eq(n, 1, "one session")
        (h,) = sql(cx.db, "SELECT token_hash FROM portal_sessions")[0]
        check(p.cookie.encode() not in bytes(h), "the token is stored")

        r = p.req("GET", "/portal")
        eq(r.status, 200, "home")
        check("Your patient portal" in r.text and names["ada"] in r.text, "home", r.text[:3000])
        check('href="notice"' in r.text or "notice" in r.text, "the privacy notice's link")
        no_violations(cx.binary, d, "portal-home.html", r.text, base)
        screenshot(d, "portal-home", r.text, base, width=1280)

        seq = audit_seq(cx.db)
        r = p.req("GET", "/portal/data")
        eq(r.status, 200, "your data")
        check("Ada Lovelace" in r.text and "penicillin &lt;b&gt;rash&lt;/b&gt;" in r.text,
              "the data held, escaped", r.text[:6000])
        check("Bertram" not in r.text and "allergy_notes" not in r.text,
              "another's data or an internal name", r.text[:6000])
        no_violations(cx.binary, d, "portal-data.html", r.text, base)
        screenshot(d, "portal-data", r.text, base, width=1280)
        ev = events_after(cx.db, seq)
        eq([(e["action"], e["outcome"], e["subject"], e["actor"], e["role"]) for e in ev],
           [("portal.data", "ok", ada, "portal:" + names["ada"], "subject")],
           "one audited view by the patient")

        seq = audit_seq(cx.db)
        r = p.req("GET", "/portal/access")
        eq(r.status, 200, "who looked")
        page = r.text
        check("a clinician" in page.lower() and "Refused" in page, "the reads listed",
              page[:8000])
        check("not on your care team" in page, "the refusal explained", page[:8000])
        check("someone tried to sign in" in page, "the wrong password explained", page[:8000])
        check("Someone using your sign-in name" in page, "the failed sign-in's row", page[:8000])
        check("dr.on" not in page and "dr.off" not in page, "staff named")
        no_violations(cx.binary, d, "portal-access.html", page, base)
        screenshot(d, "portal-access", page, base, width=1280)
        eq([e["action"] for e in events_after(cx.db, seq)], ["portal.access"], "one view")

        # another subject is never reachable: no id is taken from the URL
        for path in ("/portal/data?subject=" + bert, "/portal/data/" + bert,
                     "/portal/access?id=" + bert, "/v1/subjects/" + bert):
            r = p.req("GET", path)
            check("Bertram" not in r.text, "Bertram's data through " + path)
        # the portal's cookie opens no staff page and no API route
        r = p.req("GET", "/staff", name="__Host-custos")
        eq(r.status, 303, "a portal token as the staff cookie")
        r = p.req("GET", "/staff")
        eq(r.status, 303, "the portal cookie on a staff page")
        r = srv.call("GET", "/v1/subjects/" + ada, token=p.cookie)
        eq(r.status, 401, "the portal's token as a bearer token")
        # a staff session opens no portal page
        staff_tok = st.sessions["dr.on"]
        r = srv.call("GET", "/portal/data", headers={"Cookie": "__Host-custos=" + staff_tok})
        eq(r.status, 303, "a staff cookie on the portal")
        r = srv.call("GET", "/portal/data",
                     headers={"Cookie": PORTAL_COOKIE + "=" + staff_tok})
        eq(r.status, 303, "a staff token as the portal cookie")
        check("Max-Age=0" in (r.header("set-cookie") or ""), "a dead cookie is not cleared")
        r = srv.call("GET", "/portal/data", token=staff_tok)
        eq(r.status, 303, "a bearer token on the portal")

        # sign-out: without or with a wrong CSRF token nothing happens
        home = p.req("GET", "/portal").text
        tok = portal_csrf(home)
        seq = audit_seq(cx.db)
        r = p.req("POST", "/portal/sign-out", [])
        eq(r.status, 403, "sign-out without a CSRF token")
        r = p.req("POST", "/portal/sign-out", [("csrf_token", "A" * 43)])
        eq(r.status, 403, "sign-out with a forged CSRF token")
        other = Patient(srv)
        eq(other.signin(names["bert"]).status, 303, "Bertram signs in")
        r = p.req("POST", "/portal/sign-out", [("csrf_token", portal_csrf(other.req("GET",
                                                "/portal").text))])
        eq(r.status, 403, "sign-out with another session's CSRF token")
        eq(p.req("GET", "/portal").status, 200, "still signed in")
        old = p.cookie
        r = p.req("POST", "/portal/sign-out", [("csrf_token", tok)])
        eq(r.status, 303, "signed out")
        check("Max-Age=0" in (r.header("set-cookie") or ""), "the cookie is not cleared")
        p.cookie = old
        r = p.req("GET", "/portal")
        eq(r.status, 303, "the old cookie after sign-out")
        eq([e["action"] for e in events_after(cx.db, seq)
            if e["action"].startswith("portal.sign")], ["portal.signin", "portal.signout"],
           "Bertram's sign-in and Ada's sign-out audited")
    cx.ok("verify")


@case("portal: five wrong passwords lock the account (the right one refused, 429), a session "
      "ends after its idle time, a new password ends every session, erasure deletes the "
      "account and its sessions")
def t_portal_lock_expiry_erasure(ctx):
    cx, st, names = portal_store(ctx)
    test_clock(cx)
    ada = st.subjects["ada"]["id"]
    with Server(cx) as srv:
        p = Patient(srv)
        for i in range(5):
            # from several addresses, so the address throttle is not what refuses
            r = srv.call("POST", "/portal/sign-in",
                         urllib.parse.urlencode([("name", names["ada"]),
                                                 ("password", "wrong password %d" % i)]),
                         ctype=FORM, source="127.0.0.%d" % (30 + i))
            eq(r.status, 401, "wrong password %d" % i)
        r = srv.call("POST", "/portal/sign-in",
                     urllib.parse.urlencode([("name", names["ada"]), ("password", GOOD)]),
                     ctype=FORM, source="127.0.0.39")
        eq(r.status, 429, "the right password on a locked account")
        check("locked" in r.text and not r.header("set-cookie"), "the lock", r.text[:3000])
        eq(sql(cx.db, "SELECT failures FROM portal_accounts WHERE subject_id = ?",
               (ada,))[0][0], 5, "five failures counted")
        eq(p.signin(names["bert"]).status, 303, "Bertram signs in")
        eq(p.req("GET", "/portal").status, 200, "Bertram's home")
    later = {"CUSTOS_FAKE_NOW": str(int(time.time()) + 3600)}
    with Server(cx, env=later) as srv:
        p2 = Patient(srv)
        p2.cookie = p.cookie
        eq(p2.req("GET", "/portal").status, 303, "a session idle for an hour")
        eq(p2.signin(names["bert"]).status, 303, "Bertram signs in again")
        eq(p2.req("GET", "/portal").status, 200, "the new session")
        # a new password ends every session
        inv = invite(cx, st.subjects["bert"]["id"])
        r = srv.call("POST", inv["path"], password_form("another long password"), ctype=FORM)
        eq(r.status, 200, "Bertram's new password")
        eq(p2.req("GET", "/portal").status, 303, "a session of the old password")
        eq(p2.signin(names["bert"], "another long password").status, 303, "the new password")
        eq(p2.req("GET", "/portal").status, 200, "signed in again")
    bert = st.subjects["bert"]["id"]
    cx.ok("subject", "erase", bert)
    eq(sql(cx.db, "SELECT count(*) FROM portal_accounts WHERE subject_id = ?", (bert,))[0][0],
       0, "the erased subject's account")
    eq(sql(cx.db, "SELECT count(*) FROM portal_sessions WHERE subject_id = ?", (bert,))[0][0],
       0, "the erased subject's sessions")
    eq(sql(cx.db, "SELECT count(*) FROM portal_invitations WHERE subject_id = ?",
           (bert,))[0][0], 0, "the erased subject's invitations")
    with Server(cx, env=later) as srv:
        p3 = Patient(srv)
        p3.cookie = p2.cookie
        eq(p3.req("GET", "/portal/data").status, 303, "an erased subject's session")
        eq(p3.signin(names["bert"], "another long password").status, 401,
           "an erased subject signs in")
    cx.ok("verify")
