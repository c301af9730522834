"""The staff console in a browser: sign-in by form with the __Host-custos
cookie, the home page, the task list and its buttons, the care list and a
patient's record; each page axe-core clean in chromium. A patient off the
clinician's list is refused (and the refusal audited), a POST without or with
a forged CSRF token changes nothing, a signed-out cookie no longer works, and
markup in a patient's record comes out escaped. Runs on both backends."""

import re
import urllib.parse

from harness import registry, check, eq, sql
from http_client import Server, Staff, PASSWORD, audit_seq, events_after
from browser import no_violations, screenshot
from cases_tasks import raise_task

CASES, case = registry()

FORM = "application/x-www-form-urlencoded"
EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


class Browser:
    """A cookie jar of one: the __Host- cookie is Secure, which a client's jar
    keeps off plain HTTP, so the test carries it by hand."""

    def __init__(self, srv):
        self.srv = srv
        self.cookie = None

    def req(self, method, path, fields=None, cookie=True):
        body = urllib.parse.urlencode(fields) if fields is not None else None
        h = {"Cookie": "__Host-custos=" + self.cookie} if cookie and self.cookie else {}
        r = self.srv.call(method, path, body, ctype=FORM if body is not None else None,
                          headers=h)
        sc = r.header("set-cookie")
        if sc:
            v = sc.split(";", 1)[0].split("=", 1)[1]
            self.cookie = v or None
        return r


def csrf(page):
    m = re.search(r'name="csrf_token" value="([A-Za-z0-9_-]{43})"', page)
    check(m, "no CSRF token in the page", page[:3000])
    return m.group(1)


def setup(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("c", "North Riding NHS Trust")
    st.user("dr.jones", "c", "clinician")
    st.subject("mine", "c", {"name": "Ada " + EVIL, "birth_date": "1971-03-14",
                             "nhs_number": "9434765919",
                             "items": [{"category": "health", "field": "allergy_notes",
                                        "value": "penicillin " + EVIL}]})
    st.subject("other", "c", {"name": "Bertram Other", "nhs_number": "9434765870"})
    st.care("dr.jones", "mine")
    sid = st.subjects["mine"]["id"]
    t1 = raise_task(cx, sid, "phq9_item9")
    return cx, st, sid, t1


@case("staff pages: sign in by form, cookie flags, home, tasks, patients, a record; axe clean; "
      "buttons move a task; CSRF refused; off-list patient refused and audited; sign-out")
def t_staff_pages(ctx):
    cx, st, sid, t1 = setup(ctx)
    other = st.subjects["other"]["id"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        b = Browser(srv)
        # not signed in: every page sends to the form
        for p in ("/staff", "/staff/tasks", "/staff/patients", "/staff/patients/" + sid):
            r = b.req("GET", p)
            eq(r.status, 303, "signed out " + p)
            check(r.header("location").endswith("staff/sign-in"), "redirect", r.header("location"))
        r = b.req("GET", "/staff/sign-in")
        eq(r.status, 200, "the sign-in form")
        no_violations(cx.binary, d, "signin.html", r.text, base)
        screenshot(d, "staff-sign-in", r.text, base)
        # wrong password: the form again with the error by the field, no cookie
        seq = audit_seq(cx.db)
        r = b.req("POST", "/staff/sign-in", {"username": "dr.jones", "password": "wrong" * 3})
        eq(r.status, 401, "a wrong password")
        check("There is a problem" in r.text and "username, password or code is wrong" in r.text,
              "no error summary", r.text[:3000])
        check("<title>Error: " in r.text, "the title does not say Error")
        check(b.cookie is None, "a cookie for a failed sign-in")
        no_violations(cx.binary, d, "signin-error.html", r.text, base)
        evs = events_after(cx.db, seq)
        check(any(e["outcome"] != "ok" for e in evs), "the failed sign-in is not audited", evs)
        # empty fields
        r = b.req("POST", "/staff/sign-in", {"username": "", "password": ""})
        eq(r.status, 400, "empty fields")
        check('href="#username"' in r.text and 'href="#password"' in r.text, "the summary links",
              r.text[:3000])
        # signed in
        r = b.req("POST", "/staff/sign-in", {"username": "dr.jones", "password": PASSWORD})
        eq(r.status, 303, "signed in")
        check(r.header("location") in ("../staff",), "to the home page", r.header("location"))
        sc = r.header("set-cookie")
        for flag in ("Path=/", "Secure", "HttpOnly", "SameSite=Strict"):
            check(flag in sc, "the cookie lacks " + flag, sc)
        check(sc.startswith("__Host-custos=cus_") and "Domain" not in sc, "the cookie", sc)

        # home: the urgent task first
        r = b.req("GET", "/staff")
        eq(r.status, 200, "home")
        check("Urgent tasks" in r.text and "Urgent" in r.text, "no urgent task", r.text[:4000])
        check("phq9_item9" not in r.text, "an internal code on the page")
        no_violations(cx.binary, d, "home.html", r.text, base)
        screenshot(d, "staff-home", r.text, base)

        # patients: the care list with the name escaped, NHS number 3-3-4, date in words
        seq = audit_seq(cx.db)
        r = b.req("GET", "/staff/patients")
        eq(r.status, 200, "patients")
        check("943 476 5919" in r.text and "14 March 1971" in r.text, "the list", r.text[:5000])
        check("Bertram" not in r.text, "a patient off the list is listed")
        check("<script>alert" not in r.text and "<img src=x" not in r.text, "markup unescaped")
        check("&lt;script&gt;" in r.text, "the name not shown escaped")
        words = re.sub(r"<[^>]*>", " ", r.text)
        check("birth_date" not in words and "nhs_number" not in words,
              "an internal name in the page's text")
        no_violations(cx.binary, d, "patients.html", r.text, base)
        screenshot(d, "staff-patients", r.text, base)
        check(any(e["action"] == "read" and e.get("subject") == sid for e in events_after(cx.db, seq)),
              "the list's read is not audited", events_after(cx.db, seq))
        # the search is posted: an NHS number never goes in a URL
        check('method="post" action="patients"' in r.text, "the search form's method",
              r.text[:5000])
        tok = csrf(r.text)
        r = b.req("GET", "/staff/patients?nhs_number=943+476+5919")
        eq(r.status, 400, "a search in the URL")
        r = b.req("POST", "/staff/patients", {"nhs_number": "943 476 5919"})
        eq(r.status, 403, "a search without the CSRF token")
        r = b.req("POST", "/staff/patients", {"nhs_number": "943 476 5919", "csrf_token": tok})
        eq(r.status, 200, "search")
        check("943 476 5919" in r.text, "search finds the patient", r.text[:5000])
        r = b.req("POST", "/staff/patients", {"nhs_number": "9434765870", "csrf_token": tok})
        check("Bertram" not in r.text and "No patient on your list" in r.text,
              "search shows a patient off the list", r.text[:5000])
        r = b.req("POST", "/staff/patients", {"nhs_number": "12ab", "csrf_token": tok})
        eq(r.status, 200, "a bad search")
        check("There is a problem" in r.text, "a bad NHS number is not an error")
        no_violations(cx.binary, d, "patients-error.html", r.text, base)

        # the record: one operation, one event for the record and its tasks
        seq = audit_seq(cx.db)
        r = b.req("GET", "/staff/patients/" + sid)
        eq(r.status, 200, "the record")
        evs = events_after(cx.db, seq)
        eq([(e["action"], e["outcome"], e.get("subject")) for e in evs], [("read", "ok", sid)],
           "the record's events")
        eq(evs[0].get("detail"), "task.list " + sid, "the read records that the tasks were read")
        check("tasks/%s/acknowledge" % t1 in r.text, "the task's own button", r.text[:8000])
        # every form of the page carries the session's one token
        toks = set(re.findall(r'name="csrf_token" value="([^"]*)"', r.text))
        eq(len(toks), 1, "one CSRF token on the page")
        eq(len(re.findall(r'name="csrf_token"', r.text)) >= 3, True, "a token in every form")
        check("Allergy notes" in r.text and "penicillin" in r.text, "the items", r.text[:6000])
        check("allergy_notes" not in r.text, "a field name on the page")
        check("<script>alert" not in r.text and "<img src=x" not in r.text, "markup unescaped")
        check("Open tasks" in r.text and "Acknowledge" in r.text, "the open task")
        no_violations(cx.binary, d, "patient.html", r.text, base)
        screenshot(d, "staff-patient", r.text, base, height=2000)

        # off the list: refused, audited, nothing of the record
        seq = audit_seq(cx.db)
        r = b.req("GET", "/staff/patients/" + other)
        eq(r.status, 403, "a patient off the list")
        check("You cannot see this record" in r.text and "Bertram" not in r.text, "the refusal",
              r.text[:3000])
        evs = events_after(cx.db, seq)
        check(any(e.get("subject") == other and e["outcome"] == "denied" for e in evs),
              "the refusal is not audited", evs)
        no_violations(cx.binary, d, "refused.html", r.text, base)

        # tasks: CSRF missing or forged changes nothing
        r = b.req("GET", "/staff/tasks")
        eq(r.status, 200, "tasks")
        no_violations(cx.binary, d, "tasks.html", r.text, base)
        screenshot(d, "staff-tasks", r.text, base)
        token = csrf(r.text)
        state = lambda: [x[1] for x in sql(cx.db, "SELECT id, state FROM tasks") if x[0] == t1][0]
        for forged in ({}, {"csrf_token": "A" * 43}, {"csrf_token": token[:-1] + ("A" if token[-1] != "A" else "B")},
                       {"csrf_token": [token, token]}):
            fields = [("csrf_token", v) for v in forged["csrf_token"]] if isinstance(forged.get("csrf_token"), list) else forged
            r = b.req("POST", "/staff/tasks/%s/acknowledge" % t1, fields)
            eq(r.status, 403, "a forged CSRF token %r" % (forged,))
            eq(state(), "open", "a forged post changed the task")
        r = b.req("POST", "/staff/tasks/%s/acknowledge" % t1, {"csrf_token": token})
        eq(r.status, 303, "acknowledged")
        eq(state(), "acknowledged", "the button acknowledges")
        r = b.req("GET", "/staff/tasks")
        check("Acknowledged by dr.jones" in r.text, "who acknowledged", r.text[:4000])
        r = b.req("POST", "/staff/tasks/%s/done" % t1, {"csrf_token": token})
        eq(r.status, 303, "done")
        eq(state(), "done", "the button closes")
        r = b.req("GET", "/staff/tasks")
        check("There are no tasks" in r.text, "a done task still listed", r.text[:4000])

        # signed out: the cookie is cleared and no longer works
        old = b.cookie
        r = b.req("POST", "/staff/sign-out", {"csrf_token": "x"})
        eq(r.status, 403, "sign-out without the token")
        r = b.req("POST", "/staff/sign-out", {"csrf_token": token})
        eq(r.status, 303, "signed out")
        check("Max-Age=0" in (r.header("set-cookie") or ""), "the cookie is not cleared")
        b.cookie = old
        r = b.req("GET", "/staff")
        eq(r.status, 303, "the old cookie after sign-out")
        # a bearer API token is no cookie session
        r = srv.call("GET", "/staff", headers={"Cookie": "__Host-custos=cus_" + "A" * 43})
        eq(r.status, 303, "a made-up cookie")
