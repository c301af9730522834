"""The Data Protection Officer's pages of the staff console: the rights
requests due, overdue first with its days overdue (on a fixed test clock); a
request's page whose buttons move it through its states to fulfilled, each
change audited, a stale or illegal change and a missing CSRF token changing
nothing; the access package as a letter, JSON and FHIR, each one audited
sar operation; the policy in words with the privacy notice and the record of
processing; a clinician refused the requests page, the refusal in the trail.
Each page axe-core clean in chromium. Runs on both backends."""

import calendar
import datetime
import json
import re

from harness import registry, check, eq, sql
from fixtures import TEST_POLICY, erasing_policy
from http_client import (Server, Staff, PASSWORD, audit_seq, events_after, expect_status,
                         totp_code)
from browser import no_violations, screenshot
from cases_erasure import test_clock
from cases_staff_pages import Browser, csrf

CASES, case = registry()

TODAY = datetime.date(2026, 3, 2)
NOW_S = calendar.timegm((2026, 3, 2, 12, 0, 0, 0, 0, 0))
NOW = {"CUSTOS_FAKE_NOW": str(NOW_S)}
PATIENT = {"name": "Philippa Requestworth", "nhs_number": "943 476 5919",
           "items": [{"category": "health", "field": "note", "value": "seen in clinic"}]}
SECRET_WHY = "Passport ZQ7781234 seen at the desk"


def setup(ctx, erase_on_request=False):
    cx = ctx.custos()
    cx.ok("init")
    test_clock(cx)
    st = Staff(cx)
    st.controller("A", "Requests Trust", erasing_policy(ctx) if erase_on_request else TEST_POLICY)
    st.user("dpo.smith", "A", "dpo", totp=True)
    st.user("dr.jones", "A", "clinician")
    st.token("desk", "A", "dpo")
    st.subject("S", "A", PATIENT)
    return cx, st


def receive(srv, st, kind, received_on):
    r = srv.call("POST", "/v1/requests", {"kind": kind, "channel": "letter",
                                          "received_on": received_on,
                                          "details": "Letter asking for " + kind},
                 token=st.tokens["desk"]["token"])
    expect_status(r, 201, "POST /v1/requests")
    return r.json()["id"]


def api_request(srv, st, rid):
    r = srv.call("GET", "/v1/requests/" + rid, token=st.tokens["desk"]["token"])
    expect_status(r, 200, "GET /v1/requests/{id}")
    return r.json()


def state_of(cx, rid):
    return sql(cx.db, "SELECT state FROM requests WHERE id = ?", (rid,))[0][0]


def signin(b, st, username):
    """Signs in by the form; a DPO's account needs a one-time code, of the
    server's (fixed) clock."""
    f = {"username": username, "password": PASSWORD}
    secret = st.users[username]["totp_secret"]
    if secret:
        f["code"] = totp_code(secret, NOW_S // 30)
    r = b.req("POST", "/staff/sign-in", f)
    eq(r.status, 303, "signed in as " + username)


def words(page):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", page))


@case("dpo pages: requests overdue first with days overdue, buttons move a request to "
      "fulfilled, stale and CSRF-less changes refused, package downloads audited, policy "
      "pages; clinician refused and audited; axe clean")
def t_dpo_pages(ctx):
    cx, st = setup(ctx)
    sid = st.subjects["S"]["id"]
    d = ctx.tmp.make()
    with Server(cx, env=NOW) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        soon = receive(srv, st, "access", "2026-02-20")
        late = receive(srv, st, "erasure", "2026-01-05")
        late_days = -api_request(srv, st, late)["clock"]["days_left"]
        soon_days = api_request(srv, st, soon)["clock"]["days_left"]
        check(late_days > 0 and soon_days > 0, "the fixture's clocks", (late_days, soon_days))

        # signed out: sent to the form
        b = Browser(srv)
        for p in ("/staff/requests", "/staff/requests/" + soon, "/staff/policy"):
            r = b.req("GET", p)
            eq(r.status, 303, "signed out " + p)

        # a clinician: no link in the navigation, the page refused and audited
        b = Browser(srv)
        signin(b, st, "dr.jones")
        r = b.req("GET", "/staff")
        eq(r.status, 200, "a clinician's home")
        check("Rights requests" not in r.text, "a clinician sees the requests link")
        seq = audit_seq(cx.db)
        r = b.req("GET", "/staff/requests")
        eq(r.status, 403, "a clinician's /staff/requests")
        check("You cannot see this page" in r.text and "Erasure" not in r.text, "the refusal",
              r.text[:3000])
        evs = events_after(cx.db, seq)
        check(any(e["action"].startswith("request.") and e["outcome"] == "denied" for e in evs),
              "the refusal is not in the trail", evs)
        no_violations(cx.binary, d, "refused.html", r.text, base)
        r = b.req("GET", "/staff/requests/" + soon)
        eq(r.status, 403, "a clinician's request page")
        r = b.req("GET", "/staff/patients/%s/access-package?format=json" % sid)
        eq(r.status, 403, "a clinician's access package")
        check("Philippa" not in r.text, "the package leaks to a clinician")
        r = b.req("GET", "/staff/policy")
        eq(r.status, 403, "a clinician's policy page")

        # the DPO: the list, overdue first, in words
        b = Browser(srv)
        signin(b, st, "dpo.smith")
        r = b.req("GET", "/staff/requests")
        eq(r.status, 200, "the requests page")
        check(re.search(r'<a [^>]*href="[^"]*staff/requests"[^>]*>Rights requests<', r.text) and
              re.search(r'<a [^>]*href="[^"]*staff/policy"[^>]*>Policy<', r.text), "the DPO's navigation",
              r.text[:3000])
        w = words(r.text)
        check("%d days overdue" % late_days in w, "the days overdue", w[:3000])
        check("%d days left" % soon_days in w, "the days left", w[:3000])
        check(w.index("Erasure") < w.index("Access request"), "the overdue request is not first",
              w[:3000])
        check("5 January 2026" in w and "20 February 2026" in w, "received dates in words", w)
        check("erasure" not in w.replace("Erasure", "") and "in_progress" not in w,
              "an internal name on the page", w)
        no_violations(cx.binary, d, "requests.html", r.text, base)
        screenshot(d, "staff-requests", r.text, base)
        # the filter by state, and bad query values
        r = b.req("GET", "/staff/requests?state=received")
        eq(r.status, 200, "filtered")
        r = b.req("GET", "/staff/requests?state=awaiting_identity")
        check("There are no rights requests in this state" in r.text, "the filter", r.text[:3000])
        for q in ("state=bogus", "page=0", "page=x"):
            r = b.req("GET", "/staff/requests?" + q)
            eq(r.status, 400, "the requests page with " + q)
        r = b.req("GET", "/staff/requests?page=2")
        eq(r.status, 404, "a page past the end")

        # one request: its buttons move it to fulfilled
        seq = audit_seq(cx.db)
        r = b.req("GET", "/staff/requests/" + soon)
        eq(r.status, 200, "the request page")
        check(any(e["action"] == "request.read" for e in events_after(cx.db, seq)),
              "the page is no audited read", events_after(cx.db, seq))
        for label in ("Ask for proof of identity", "Identity verified", "Ask for clarification",
                      "Refuse", "Withdrawn by the requester"):
            check(label in r.text, "no button " + label, r.text[:6000])
        check("Mark as fulfilled" not in r.text, "fulfil offered from received")
        no_violations(cx.binary, d, "request.html", r.text, base)
        token = csrf(r.text)

        def move(action, frm, extra=None, status=303):
            f = {"csrf_token": token, "action": action, "from": frm,
                 "why-" + action: SECRET_WHY}
            f.update(extra or {})
            s0 = audit_seq(cx.db)
            r = b.req("POST", "/staff/requests/" + soon, f)
            eq(r.status, status, "the %s button from %s" % (action, frm))
            return r, events_after(cx.db, s0)

        # CSRF missing or forged: refused, nothing changed, nothing audited as a change
        for forged in ({}, {"csrf_token": "A" * 43}):
            f = {"action": "ask_identity", "from": "received", "why-ask_identity": "x"}
            f.update(forged)
            r = b.req("POST", "/staff/requests/" + soon, f)
            eq(r.status, 403, "a change without its CSRF token")
            eq(state_of(cx, soon), "received", "a forged post changed the request")
        # no reason: nothing changed
        r = b.req("POST", "/staff/requests/" + soon, {"csrf_token": token,
                                                      "action": "ask_identity",
                                                      "from": "received"})
        eq(r.status, 400, "a change without a reason")
        check("Nothing was changed" in r.text, "the page says nothing changed")
        eq(state_of(cx, soon), "received", "a change without a reason")
        no_violations(cx.binary, d, "nothing-changed.html", r.text, base)

        r, evs = move("ask_identity", "received")
        eq(state_of(cx, soon), "awaiting_identity", "ask_identity")
        check(any(e["action"] == "request.ask_identity" or "ask_identity" in e["action"]
                  for e in evs), "the change is not audited", evs)
        # stale: the page was shown in "received"
        r, evs = move("withdraw", "received", status=409)
        check("Nothing was changed" in r.text, "a stale change's page", r.text[:3000])
        eq(state_of(cx, soon), "awaiting_identity", "a stale change applied")
        # illegal from this state
        r, evs = move("fulfil", "awaiting_identity", status=409)
        eq(state_of(cx, soon), "awaiting_identity", "an illegal change applied")
        # verify needs the record
        r, evs = move("verify", "awaiting_identity", status=400)
        eq(state_of(cx, soon), "awaiting_identity", "verify without a record")
        r, evs = move("verify", "awaiting_identity", {"subject-verify": sid})
        eq(state_of(cx, soon), "in_progress", "verify")
        r = b.req("GET", "/staff/requests/" + soon)
        check("Mark as fulfilled" in r.text and "Read the letter" in r.text,
              "the fulfil button and the package links", r.text[:8000])
        check("Identity verified" in r.text and "dpo.smith" in r.text and SECRET_WHY in r.text,
              "the history with who and why", r.text[:8000])
        no_violations(cx.binary, d, "request-in-progress.html", r.text, base)
        screenshot(d, "staff-request", r.text, base, height=2200)

        # the package: each format one audited sar operation
        for fmt, ctype, probe in (("html", "text/html", "Philippa"),
                                  ("json", "application/json", "Philippa"),
                                  ("fhir", "application/fhir+json", "Philippa")):
            s0 = audit_seq(cx.db)
            r = b.req("GET", "/staff/patients/%s/access-package?format=%s" % (sid, fmt))
            eq(r.status, 200, "the package as " + fmt)
            check((r.header("content-type") or "").startswith(ctype), "the content type",
                  r.header("content-type"))
            check(probe in r.text, "the package's content", r.text[:2000])
            if fmt != "html":
                json.loads(r.text)
            evs = events_after(cx.db, s0)
            eq(len(evs), 1, "audit events for the %s package" % fmt)
            eq(evs[0].get("subject"), sid, "the package's event names the subject")
        r = b.req("GET", "/staff/patients/%s/access-package?format=pdf" % sid)
        eq(r.status, 400, "an unknown format")
        r = b.req("GET", "/staff/patients/%s/portable-copy?format=html" % sid)
        eq(r.status, 400, "a portable copy as html")

        r, evs = move("fulfil", "in_progress")
        eq(state_of(cx, soon), "fulfilled", "fulfil")
        r = b.req("GET", "/staff/requests/" + soon)
        check("Fulfilled" in r.text and "What happens next" not in r.text,
              "a closed request offers buttons", r.text[:6000])
        r = b.req("GET", "/staff/requests")
        check("Access request" not in words(r.text), "a fulfilled request still listed as open")
        r = b.req("GET", "/staff/requests?state=fulfilled")
        check("Access request" in words(r.text), "the fulfilled filter", r.text[:4000])

        # a request of no one: not found
        r = b.req("GET", "/staff/requests/" + "0" * 32)
        check(r.status in (403, 404), "a missing request", r.status)

        # the policy, the notice, the record of processing
        r = b.req("GET", "/staff/policy")
        eq(r.status, 200, "the policy page")
        w = words(r.text)
        check("Purposes and lawful bases" in w and "Retention" in w, "the policy", w[:3000])
        no_violations(cx.binary, d, "policy.html", r.text, base)
        screenshot(d, "staff-policy", r.text, base, height=2000)
        r = b.req("GET", "/staff/policy/notice")
        eq(r.status, 200, "the notice")
        check("<html" in r.text and "privacy" in r.text.lower() and "Signed in as" not in r.text,
              "the notice page", r.text[:2000])
        no_violations(cx.binary, d, "notice.html", r.text, base)
        r = b.req("GET", "/staff/policy/record")
        eq(r.status, 200, "the record of processing")
        check((r.header("content-type") or "").startswith("text/csv"), "the record is CSV")
        rows = [x for x in r.text.splitlines() if x]
        check(len(rows) > 1 and "," in rows[0], "the record's rows", r.text[:500])


@case("dpo pages: an erasure request's plan, erased only after a confirmation; CSRF-less, "
      "unconfirmed and clinician posts erase nothing; the certificate; axe clean")
def t_dpo_erasure(ctx):
    cx, st = setup(ctx, erase_on_request=True)
    sid = st.subjects["S"]["id"]
    d = ctx.tmp.make()
    items = lambda: sql(cx.db, "SELECT COUNT(*) FROM items WHERE subject_id = ?", (sid,))[0][0]
    with Server(cx, env=NOW) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        rid = receive(srv, st, "erasure", "2026-02-20")
        before = items()
        check(before > 0, "the fixture has items", before)
        # a clinician: refused, audited, nothing erased
        b = Browser(srv)
        signin(b, st, "dr.jones")
        seq = audit_seq(cx.db)
        r = b.req("GET", "/staff/patients/%s/erasure" % sid)
        eq(r.status, 403, "a clinician's erasure plan")
        check(any(e["outcome"] == "denied" for e in events_after(cx.db, seq)),
              "the refusal is not audited", events_after(cx.db, seq))
        r = b.req("GET", "/staff/requests/" + rid)
        tok = csrf(b.req("GET", "/staff/tasks").text)
        r = b.req("POST", "/staff/patients/%s/erasure" % sid,
                  {"csrf_token": tok, "plan": "0" * 16, "confirm": "yes"})
        eq(r.status, 403, "a clinician's erasure")
        eq(items(), before, "a clinician erased items")

        b = Browser(srv)
        signin(b, st, "dpo.smith")
        r = b.req("GET", "/staff/requests/" + rid)
        check("The plan can be seen once" in r.text, "no plan before verifying",
              r.text[:6000])
        token = csrf(r.text)
        r = b.req("POST", "/staff/requests/" + rid,
                  {"csrf_token": token, "action": "verify", "from": "received",
                   "why-verify": "Checked", "subject-verify": sid})
        eq(r.status, 303, "verified")
        r = b.req("GET", "/staff/requests/" + rid)
        check("See what would be erased" in r.text, "the link to the plan", r.text[:6000])
        seq = audit_seq(cx.db)
        r = b.req("GET", "/staff/patients/%s/erasure" % sid)
        eq(r.status, 200, "the erasure plan")
        check(any(e["action"] == "erase.plan" for e in events_after(cx.db, seq)),
              "the plan is not audited", events_after(cx.db, seq))
        w = words(r.text)
        check("What will be erased" in w and "What is kept, and why" in w, "the plan", w[:3000])
        eq(items(), before, "showing the plan erased items")
        no_violations(cx.binary, d, "erasure-plan.html", r.text, base)
        screenshot(d, "staff-erasure-plan", r.text, base, height=1800)
        m = re.search(r'name="plan" value="([0-9a-f]+)"', r.text)
        check(m, "no confirmation form (nothing the policy lets go?)", w[:3000])
        plan = m.group(1)
        token = csrf(r.text)
        # without the token, without the tick, with another plan: nothing erased
        for f, status in (({"plan": plan, "confirm": "yes"}, 403),
                          ({"csrf_token": token, "plan": plan}, 400),
                          ({"csrf_token": token, "plan": "0" * len(plan), "confirm": "yes"}, None)):
            r = b.req("POST", "/staff/patients/%s/erasure" % sid, f)
            if status:
                eq(r.status, status, "an erasure post %r" % sorted(f))
            else:
                check(r.status in (403, 409), "an erasure of another plan", r.status)
            eq(items(), before, "an erasure post %r erased items" % sorted(f))
        r = b.req("POST", "/staff/patients/%s/erasure" % sid,
                  {"csrf_token": token, "plan": plan, "confirm": "yes"})
        eq(r.status, 200, "the erasure")
        check("Certificate of erasure" in r.text and plan in r.text, "the certificate",
              r.text[:4000])
        check(items() < before, "nothing was erased", (items(), before))
        no_violations(cx.binary, d, "erasure-certificate.html", r.text, base)
        screenshot(d, "staff-erasure-certificate", r.text, base, height=1800)
