"""The patient portal's downloads and questionnaires, as a signed-in patient
uses them and as an attacker tries them: the subject access package in three
formats (each one audited event by the patient about their own record, the
format recorded, an attachment with no personal data in its name, never
cached; the FHIR Bundle validates), refused without the portal's cookie or
with a staff one; the questionnaires the patient was sent, opened by the
link's row id and answered exactly as through the public link (stored,
scored, the link used, one event with the patient as actor), refused when
used, expired or another patient's, and without the form's CSRF token.
axe-core clean on every new page. Runs on both backends."""

import json
import os
import re
import time
import urllib.parse

from harness import registry, check, eq, sql
from fixtures import ROOT, populated
from http_client import Server, Staff, audit_seq, events_after
from browser import no_violations, screenshot
from cases_erasure import test_clock
from cases_portal import GOOD, PORTAL_COOKIE, Patient, invite, password_form, portal_csrf
from cases_qform import PHQ9, form, stored
from cases_sar import validate_fhir

CASES, case = registry()

FORM = "application/x-www-form-urlencoded"
LINK = re.compile(r'href="(?:\.\./portal/questionnaires/)([0-9a-f-]{36})"')


def account(cx, srv, sid):
    """A portal account for sid; returns its sign-in name."""
    inv = invite(cx, sid)
    r = srv.call("POST", inv["path"], password_form(GOOD), ctype=FORM)
    eq(r.status, 200, "the account is set up")
    return re.search(r"<strong>([0-9A-Z-]+)</strong>", r.text).group(1)


def signed_in(srv, name):
    p = Patient(srv)
    eq(p.signin(name).status, 303, "signed in")
    return p


def setup(ctx):
    cx, ids = populated(ctx)
    cx.ok("questionnaire", "add", os.path.join(ROOT, "questionnaires", "phq-9.json"))
    return cx, ids


def send(cx, sid, days="14"):
    return cx.okj("questionnaire", "send", sid, PHQ9, "--purpose", "direct_care", "--days", days)


def open_links(p):
    r = p.req("GET", "/portal/questionnaires")
    eq(r.status, 200, "the questionnaires page")
    return r, LINK.findall(r.text)


@case("portal download: the page offers three formats; each downloads and parses (the FHIR "
      "Bundle validates), names the patient and no one else, is an attachment with no "
      "personal data in its name and never cached, and is one audited event by the patient "
      "with its format; refused without sign-in, with a staff cookie, or an unknown format")
def t_download(ctx):
    cx, ids = populated(ctx)
    s1, s2 = ids["s1"], ids["s2"]
    person, other = cx.okj("subject", "show", s1), cx.okj("subject", "show", s2)
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        name = account(cx, srv, s1)
        p = Patient(srv)
        # not signed in: the sign-in form, nothing recorded
        seq = audit_seq(cx.db)
        for path in ("/portal/download", "/portal/download?format=json"):
            r = p.req("GET", path)
            eq(r.status, 303, "not signed in: " + path)
            check(r.header("location").endswith("portal/sign-in"), "to sign-in",
                  r.header("location"))
            check(person["name"] not in r.text, "data without sign-in")
        # a staff session's cookie opens no portal page
        st = Staff(cx)
        st.controllers["c"] = ids["ctl1"]
        st.user("dpo1", "c", "dpo")
        tok = st.signin(srv, "dpo1")
        for cookie in ("__Host-custos=" + tok, PORTAL_COOKIE + "=" + tok):
            r = srv.call("GET", "/portal/download?format=json", headers={"Cookie": cookie})
            eq(r.status, 303, "a staff token on the portal: " + cookie.split("=")[0])
            check(person["name"] not in r.text, "data for a staff cookie")
        eq([e for e in events_after(cx.db, seq) if e["action"] == "portal.download"], [],
           "a refused download recorded as made")

        eq(p.signin(name).status, 303, "signed in")
        r = p.req("GET", "/portal/download")
        eq(r.status, 200, "the download page")
        page = r.text
        for fmt in ("html", "json", "fhir"):
            check('href="../portal/download?format=%s" download' % fmt in page,
                  "the %s choice" % fmt, page[:5000])
        check("Get a copy of the information we hold" in p.req("GET", "/portal").text,
              "home has no card for it")
        no_violations(cx.binary, d, "portal-download.html", page, base)
        screenshot(d, "portal-download", page, base, width=1280)

        files = {}
        for fmt, ctype, fname in (("html", "text/html; charset=utf-8", "your-data.html"),
                                  ("json", "application/json", "your-data.json"),
                                  ("fhir", "application/fhir+json", "your-data-fhir.json")):
            seq = audit_seq(cx.db)
            r = p.req("GET", "/portal/download?format=" + fmt)
            eq(r.status, 200, "the %s download" % fmt)
            check((r.header("content-type") or "").startswith(ctype.split(";")[0]),
                  "the %s type" % fmt, r.header("content-type"))
            eq(r.header("content-disposition"), 'attachment; filename="%s"' % fname,
               "an attachment named without personal data")
            eq(r.header("cache-control"), "no-store", "the download may be cached")
            check(person["name"] in r.text, "the %s package does not name the patient" % fmt)
            check(other["name"] not in r.text and s2 not in r.text,
                  "another patient in the %s package" % fmt)
            ev = events_after(cx.db, seq)
            eq([(e["action"], e["outcome"], e["subject"], e["actor"], e["role"], e["via"])
                for e in ev],
               [("portal.download", "ok", s1, "portal:" + name, "subject",
                 "http GET /portal/download?format=" + fmt)],
               "one audited download by the patient, with its format")
            files[fmt] = r.text
        j = json.loads(files["json"])
        check(json.dumps(j).find(person["name"]) >= 0, "the JSON names the patient")
        b = json.loads(files["fhir"])
        eq(b["resourceType"], "Bundle", "a FHIR Bundle")
        check(any(e["resource"]["resourceType"] == "Patient" for e in b["entry"]),
              "the Bundle has no Patient")
        validate_fhir(cx, b)
        check(files["html"].lstrip().lower().startswith("<!doctype html"), "the letter",
              files["html"][:300])

        # an unknown format, or the format twice: refused in words, nothing recorded
        seq = audit_seq(cx.db)
        for q in ("format=xml", "format=JSON", "format=",
                  "subject=" + s2):
            r = p.req("GET", "/portal/download?" + q)
            check(r.status == 400, "a bad query %s: %d" % (q, r.status))
            check(person["name"] not in r.text and other["name"] not in r.text,
                  "data for a bad query " + q)
        eq([e for e in events_after(cx.db, seq) if e["action"] == "portal.download"], [],
           "a refused format recorded as a download")
        # the patient sees their downloads in who looked
        r = p.req("GET", "/portal/access")
        check("Download a copy of your data" in r.text, "the download in who looked",
              r.text[:8000])
    cx.ok("verify")


@case("portal questionnaires: the open links are listed with title and date; one opens by its "
      "row id as the same accessible form; errors come back by their fields; the answers are "
      "stored, scored and raise tasks as through the public link (one event, the patient as "
      "actor, the link used); used, another patient's, unknown and no CSRF token are refused")
def t_questionnaires(ctx):
    cx, ids = setup(ctx)
    s1, s2 = ids["s1"], ids["s2"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        n1, n2 = account(cx, srv, s1), account(cx, srv, s2)
        p = signed_in(srv, n1)
        r, links = open_links(p)
        eq(links, [], "links before any was sent")
        check("You have no questionnaires to answer" in r.text, "the empty list", r.text[:5000])
        link = send(cx, s1)
        send(cx, s2)
        used = send(cx, s1)
        # the other link of s1 answered through its public token first
        r = srv.call("POST", used["path"], form([0] * 9), ctype=FORM)
        eq(r.status, 200, "answered through the public link")
        seq = audit_seq(cx.db)
        r, links = open_links(p)
        eq(len(links), 1, "one open link listed (the used one and another's are not)")
        page = r.text
        check("Patient Health Questionnaire" in page or "PHQ-9" in page, "the title",
              page[:6000])
        check(link["token"] not in page, "the token on the list")
        when = time.strftime("%-d %B %Y", time.gmtime(time.time() + 13 * 86400))
        check(when in page or time.strftime("%-d %B %Y", time.gmtime(time.time() + 14 * 86400))
              in page, "the date it must be answered by", page[:6000])
        eq([(e["action"], e["outcome"], e["subject"], e["actor"]) for e in
            events_after(cx.db, seq)],
           [("portal.questionnaires", "ok", s1, "portal:" + n1)], "one audited list")
        no_violations(cx.binary, d, "portal-questionnaires.html", page, base)
        screenshot(d, "portal-questionnaires", page, base, width=1280)
        lid = links[0]
        path = "/portal/questionnaires/" + lid

        r = p.req("GET", path)
        eq(r.status, 200, "the form")
        check('<form method="post" action="%s" novalidate>' % lid in r.text,
              "the form does not post to its link id", r.text[:4000])
        eq(r.text.count('type="radio"'), 40, "the PHQ-9's radios")
        check("<script" not in r.text.lower(), "a script on the form")
        tok = portal_csrf(r.text)
        no_violations(cx.binary, d, "portal-questionnaire.html", r.text, base)
        screenshot(d, "portal-questionnaire", r.text, base, height=3200)

        # no CSRF token, a forged one, Bertram's: refused, nothing stored
        seq = audit_seq(cx.db)
        before = stored(cx)
        q = urllib.parse.parse_qsl(form([0] * 9))
        for extra in ([], [("csrf_token", "A" * 43)]):
            r = p.req("POST", path, q + extra)
            eq(r.status, 403, "answers without a good CSRF token")
        bert = signed_in(srv, n2)
        r = p.req("POST", path, q + [("csrf_token", portal_csrf(bert.req("GET", "/portal").text))])
        eq(r.status, 403, "answers with another session's CSRF token")
        # Bertram cannot open or answer Ada's link: not found, as an unknown one
        r = bert.req("GET", path)
        eq(r.status, 404, "another patient's link")
        btok = portal_csrf(bert.req("GET", "/portal").text)
        r = bert.req("POST", path, q + [("csrf_token", btok)])
        eq(r.status, 404, "another patient's link answered")
        for bad in ("00000000-0000-4000-8000-000000000000", link["token"]):
            r = p.req("GET", "/portal/questionnaires/" + bad)
            eq(r.status, 404, "an unknown link id " + bad[:8])
        eq(stored(cx), before, "a refused submission stored a response")
        eq([e for e in events_after(cx.db, seq) if e["action"] == "questionnaire.submit"], [],
           "a refused submission recorded")

        # a missing answer: the form again with the error by it, nothing stored
        r = p.req("POST", path, urllib.parse.parse_qsl(form([0, None, 0, 0, 0, 0, 0, 0, 0])) +
                  [("csrf_token", tok)])
        eq(r.status, 400, "a form with errors")
        check('<a href="#q-phq9-2">Question 2: select an answer</a>' in r.text,
              "the error summary", r.text[:4000])
        check("<title>Error: " in r.text, "the title does not say Error")
        tok2 = portal_csrf(r.text)
        eq(stored(cx), before, "a form with errors stored")
        no_violations(cx.binary, d, "portal-questionnaire-errors.html", r.text, base)

        # the answers: 2+2+2+1+1+1+0+0+2 = 11, item 9 urgent
        seq = audit_seq(cx.db)
        r = p.req("POST", path, urllib.parse.parse_qsl(form([2, 2, 2, 1, 1, 1, 0, 0, 2])) +
                  [("csrf_token", tok2)])
        eq(r.status, 200, "the answers sent")
        check("Your answers have been sent" in r.text and "call 999" in r.text,
              "the thanks and help", r.text[:4000])
        check(not re.search(r"\b11\b", r.text), "the score shown")
        no_violations(cx.binary, d, "portal-questionnaire-sent.html", r.text, base)
        eq(stored(cx), before + 1, "one response stored")
        ev = events_after(cx.db, seq)
        tasks = [t for t in cx.okj("tasks", "list", "--controller", ids["ctl1"])["tasks"]
                 if t["state"] == "open" and t["kind"] == "urgent"]
        eq([(e["action"], e["outcome"], e["subject"], e["actor"], e["role"], e["detail"])
            for e in ev],
           [("questionnaire.submit", "ok", s1, "portal:" + n1, "subject",
             "task.raise " + tasks[-1]["id"])],
           "one event, the patient as actor, naming its task")
        listed = cx.okj("questionnaire", "responses", s1)
        got = listed["responses"] if isinstance(listed, dict) else listed
        eq(sorted((x["total"], x["via"]) for x in got), [(0, "subject"), (11, "subject")],
           "scored by custos")
        eq(sql(cx.db, "SELECT count(*) FROM questionnaire_links WHERE id = ? AND used_at > 0",
               (lid,))[0][0], 1, "the link is used")

        # used: no longer open, on the portal and through its public token
        for method in ("GET", "POST"):
            r = p.req(method, path, (q + [("csrf_token", tok2)]) if method == "POST" else None)
            eq(r.status, 410, "a used link " + method)
            check("no longer open" in r.text, "the used page says so", r.text[:3000])
        r = srv.call("GET", link["path"])
        eq(r.status, 410, "the public token after a portal answer")
        eq(stored(cx), before + 1, "a second response stored")
        r, links = open_links(p)
        eq(links, [], "a used link is still listed")
    cx.ok("verify")


@case("portal questionnaires: twelve open links in pages of ten with the NHS.UK pagination "
      "(Next, Previous, page N of M), each page one audited list; past the last page 404, "
      "a page that is no number 400")
def t_questionnaires_pages(ctx):
    cx, ids = setup(ctx)
    s1 = ids["s1"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        n1 = account(cx, srv, s1)
        p = signed_in(srv, n1)
        for _ in range(12):
            send(cx, s1)
        seq = audit_seq(cx.db)
        r, first = open_links(p)
        eq(len(first), 10, "the links on the first page")
        check('class="nhsuk-pagination"' in r.text and "Page 1 of 2." in r.text,
              "the pagination", r.text[-3000:])
        eq(re.findall(r'href="([^"]*)\?page=(\d+)"', r.text), [("../portal/questionnaires", "2")],
           "the first page's links to other pages (Next only)")
        r = p.req("GET", "/portal/questionnaires?page=2")
        eq(r.status, 200, "the second page")
        second = LINK.findall(r.text)
        eq(len(second), 2, "the links on the second page")
        eq(len(set(first) | set(second)), 12, "every link listed once")
        check("Page 2 of 2." in r.text, "the second page's place", r.text[-3000:])
        eq(re.findall(r'href="([^"]*)\?page=(\d+)"', r.text), [("../portal/questionnaires", "1")],
           "the second page's links to other pages (Previous only)")
        no_violations(cx.binary, d, "portal-questionnaires-2.html", r.text, base)
        eq([(e["action"], e["subject"]) for e in events_after(cx.db, seq)],
           [("portal.questionnaires", s1)] * 2, "one audited list a page")
        eq(p.req("GET", "/portal/questionnaires?page=3").status, 404, "past the last page")
        for bad in ("0", "x", "-1"):
            eq(p.req("GET", "/portal/questionnaires?page=" + bad).status, 400,
               "page " + bad)
        r = p.req("GET", "/portal/questionnaires?subject=" + ids["s2"])
        eq(r.status, 400, "another's questionnaires asked for by the query")
    cx.ok("verify")


@case("portal questionnaires: an expired link is not listed and is no longer open (410)")
def t_questionnaire_expired(ctx):
    cx, ids = setup(ctx)
    test_clock(cx)
    s1 = ids["s1"]
    with Server(cx) as srv:
        name = account(cx, srv, s1)
        p = signed_in(srv, name)
        send(cx, s1, days="1")
        _, links = open_links(p)
        eq(len(links), 1, "the open link")
    later = {"CUSTOS_FAKE_NOW": str(int(time.time()) + 2 * 86400)}
    with Server(cx, env=later) as srv:
        p = signed_in(srv, name)
        r, none = open_links(p)
        eq(none, [], "an expired link listed")
        r = p.req("GET", "/portal/questionnaires/" + links[0])
        eq(r.status, 410, "an expired link")
        check("no longer open" in r.text and "time to answer it has passed" in r.text,
              "the expired page", r.text[:3000])
        tok = portal_csrf(r.text)
        r = p.req("POST", "/portal/questionnaires/" + links[0],
                  urllib.parse.parse_qsl(form([0] * 9)) + [("csrf_token", tok)])
        eq(r.status, 410, "an expired link answered")
    eq(stored(cx), 0, "an expired link stored a response")


@case("portal: a session used again minutes after sign-in (its last use recorded inside the "
      "server's batch) still opens the pages, the download and the questionnaires")
def t_session_touch(ctx):
    cx, ids = setup(ctx)
    test_clock(cx)
    s1 = ids["s1"]
    t0 = int(time.time())
    with Server(cx, env={"CUSTOS_FAKE_NOW": str(t0)}) as srv:
        name = account(cx, srv, s1)
        p = signed_in(srv, name)
        cookie = p.cookie
    send(cx, s1)
    ((seen,),) = sql(cx.db, "SELECT last_seen FROM portal_sessions")
    with Server(cx, env={"CUSTOS_FAKE_NOW": str(t0 + 180)}) as srv:
        p = Patient(srv)
        p.cookie = cookie
        for path in ("/portal/data", "/portal/questionnaires", "/portal/download?format=json"):
            r = p.req("GET", path)
            eq(r.status, 200, "three minutes later: " + path)
    ((later,),) = sql(cx.db, "SELECT last_seen FROM portal_sessions")
    eq(later - seen, 180 * 1000000, "the session's last use")
