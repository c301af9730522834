"""The patient portal's consents, rights requests and typed invitation
codes, as a patient (and someone trying to be another patient) uses them:
consent given and withdrawn by form (the choice shown, one audit event by
the patient, the consent API sees it; no CSRF token, another subject's id or
a purpose of no policy refused); every kind of rights request made (the
DPO's API and console see it at once with channel portal, verified, its due
date; what was asked never stored in plaintext), listed newest first with
its state and due date in words, and never another patient's; an invitation
code typed from a letter (spaces, dashes and case ignored) leads to its
password form, a wrong one is "not recognised" and counts against the
address like a failed sign-in. axe-core clean. Runs on both backends."""

import json
import os
import re
import urllib.parse

from harness import registry, check, eq, sql
from http_client import Server, audit_seq, events_after
from browser import no_violations, screenshot
from fixtures import TEST_POLICY
from cases_erasure import all_bytes
from cases_portal import Patient, portal_csrf, invite, password_form, GOOD, FORM

CASES, case = registry()

MONTHS = ("January February March April May June July August September October November "
          "December").split()


def words(ymd):
    """ "2027-01-06" -> "6 January 2027" """
    y, m, d = (int(x) for x in ymd.split("-"))
    return "%d %s %d" % (d, MONTHS[m - 1], y)


def rights_store(ctx):
    """A controller whose policy has two consent-based purposes, a DPO, Ada
    and Bertram (each with a portal account), Carys under another
    controller. Returns (cx, st, names, dpo_token)."""
    from http_client import Staff
    with open(TEST_POLICY, encoding="utf-8") as f:
        policy = json.load(f)
    policy["purposes"].append({
        "id": "research", "description": "Taking part in research studies you choose",
        "basis": "a", "special_condition": "a", "categories": ["health"],
        "subject_kinds": ["patient"], "consent_required": True,
        "required_for_service": False, "retention": policy["purposes"][0]["retention"]})
    path = os.path.join(ctx.tmp.make(), "policy.json")
    with open(path, "w") as f:
        json.dump(policy, f)
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controllers["c"] = cx.ok("controller", "add", "--name", "North Riding NHS Trust",
                                "--policy", path).out.strip()
    st.controller("o", "South Vale NHS Trust")
    st.user("dpo", "c", "dpo")
    st.subject("ada", "c", {"name": "Ada Lovelace", "nhs_number": "9434765919"})
    st.subject("bert", "c", {"name": "Bertram Other", "nhs_number": "9434765870"})
    st.subject("carys", "o", {"name": "Carys Elsewhere", "nhs_number": "9434765862"})
    names = {}
    with Server(cx) as srv:
        for label in ("ada", "bert"):
            inv = invite(cx, st.subjects[label]["id"])
            r = srv.call("POST", inv["path"], password_form(GOOD), ctype=FORM)
            eq(r.status, 200, "the account of " + label)
            names[label] = re.search(r"<strong>([0-9A-Z-]+)</strong>", r.text).group(1)
    return cx, st, names, policy


def signed_in(srv, name):
    p = Patient(srv)
    r = p.signin(name)
    eq(r.status, 303, "signed in")
    return p


def consents_api(srv, token, sid):
    r = srv.call("GET", "/v1/subjects/%s/consents" % sid, token=token)
    eq(r.status, 200, "the consent API")
    return [(c["purpose"], c["state"], c["method"]) for c in r.json()["consents"]]


def body_rows(page):
    """The rows of the page's table body."""
    body = page.split("<tbody", 1)[1] if "<tbody" in page else ""
    return re.findall(r"<tr class=\"nhsuk-table__row\">(.*?)</tr>", body, re.S)


def card(page, description):
    """The text of the card of one purpose (its heading to its button)."""
    i = page.find(description)
    check(i >= 0, "no card for " + description, page[:6000])
    j = page.find("</form>", i)
    return page[i:j]


@case("portal rights: consent given and withdrawn by one button of the same weight, the "
      "purpose in words and the state with its date; each change one audited operation by "
      "the patient (method portal, the policy version), seen by the consent API; the page a "
      "read of the patient's own record; no CSRF token, another subject's id or a purpose "
      "of no policy refused; a restriction does not stop a withdrawal; axe clean")
def t_consents(ctx):
    cx, st, names, policy = rights_store(ctx)
    ada, bert = st.subjects["ada"]["id"], st.subjects["bert"]["id"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        dpo = st.signin(srv, "dpo")
        p = Patient(srv)
        r = p.req("GET", "/portal/consents")
        eq(r.status, 303, "not signed in")
        p = signed_in(srv, names["ada"])
        seq = audit_seq(cx.db)
        r = p.req("GET", "/portal/consents")
        eq(r.status, 200, "the consents page")
        page = r.text
        ev = events_after(cx.db, seq)
        eq([(e["action"], e["outcome"], e["subject"], e["actor"], e["role"]) for e in ev],
           [("consent.read", "ok", ada, "portal:" + names["ada"], "subject")],
           "the page is one audited read by the patient")
        news = [x for x in policy["purposes"] if x["id"] == "newsletter"][0]["description"]
        research = "Taking part in research studies you choose"
        for desc in (news, research):
            c = card(page, desc)
            check("You have not been asked yet." in c and "Give consent" in c,
                  "never asked: " + desc, c)
        check('value="newsletter"' in page and "direct_care" not in page and
              "Providing care" not in page, "only the consent-based purposes", page[:6000])
        check(">newsletter<" not in page, "the purpose's id shown as its name")
        no_violations(cx.binary, d, "portal-consents.html", page, base)
        tok = portal_csrf(page)

        # give: one click, one audited operation by the patient
        seq = audit_seq(cx.db)
        r = p.req("POST", "/portal/consents", [("csrf_token", tok), ("purpose", "research"),
                                               ("choice", "give")])
        eq(r.status, 303, "consent given")
        check(r.header("location").endswith("consents"), "back to the page",
              r.header("location"))
        ev = events_after(cx.db, seq)
        eq([(e["action"], e["outcome"], e["subject"], e["actor"], e["role"]) for e in ev],
           [("consent.give", "ok", ada, "portal:" + names["ada"], "subject")],
           "one audited change by the patient")
        eq(consents_api(srv, dpo, ada), [("research", "given", "portal")],
           "the consent API sees it")
        ((ver,),) = sql(cx.db, "SELECT policy_version FROM consents WHERE subject_id = ?",
                        (ada,))
        eq(ver, 1, "the policy version recorded")
        page = p.req("GET", "/portal/consents").text
        c = card(page, research)
        check("You gave your consent on " in c and "Withdraw consent" in c, "given shown", c)
        gave = re.search(r'<button[^>]*>Give consent</button>', card(page, news)).group(0)
        withdraw = re.search(r'<button[^>]*>Withdraw consent</button>', c).group(0)
        eq(gave.replace("Give", "X"), withdraw.replace("Withdraw", "X"),
           "withdrawing is a button of the same weight as giving")
        screenshot(d, "portal-consents", page, base, width=1280)
        no_violations(cx.binary, d, "portal-consents-given.html", page, base)

        # refused: no token, a forged one, another subject's id, an unknown purpose,
        # a purpose that does not rely on consent, a choice that is neither
        seq = audit_seq(cx.db)
        for fields, status, why in (
                ([("purpose", "newsletter"), ("choice", "give")], 403, "no CSRF token"),
                ([("csrf_token", "A" * 43), ("purpose", "newsletter"), ("choice", "give")],
                 403, "a forged CSRF token"),
                ([("csrf_token", tok), ("purpose", "newsletter"), ("choice", "give"),
                  ("subject", bert)], 400, "another subject's id"),
                ([("csrf_token", tok), ("purpose", "newsletter"), ("choice", "give"),
                  ("subject_id", bert)], 400, "another subject's id as subject_id"),
                ([("csrf_token", tok), ("purpose", "newsletter"), ("purpose", "research"),
                  ("choice", "give")], 400, "two purposes"),
                ([("csrf_token", tok), ("purpose", "no_such"), ("choice", "give")], 400,
                 "a purpose of no policy"),
                ([("csrf_token", tok), ("purpose", "direct_care"), ("choice", "give")], 400,
                 "a purpose that does not rely on consent"),
                ([("csrf_token", tok), ("purpose", "newsletter"), ("choice", "maybe")], 400,
                 "neither give nor withdraw")):
            r = p.req("POST", "/portal/consents", fields)
            eq(r.status, status, why)
        eq([(e["action"], e["outcome"]) for e in events_after(cx.db, seq)
            if e["outcome"] == "ok"], [], "a refused form changed something")
        eq(consents_api(srv, dpo, bert), [], "Bertram's consents untouched")
        eq(consents_api(srv, dpo, ada), [("research", "given", "portal")],
           "Ada's consents unchanged")
        # staff cannot claim the patient chose on the portal
        r = srv.call("POST", "/v1/subjects/%s/consents" % bert, token=dpo,
                     body=json.dumps({"purpose": "newsletter", "method": "portal"}))
        eq(r.status, 400, "method portal from staff")
        eq(consents_api(srv, dpo, bert), [], "a consent recorded as the portal's by staff")
        # Bertram's session's token does not work for Ada's
        other = signed_in(srv, names["bert"])
        r = p.req("POST", "/portal/consents", [("csrf_token", portal_csrf(
            other.req("GET", "/portal/consents").text)), ("purpose", "newsletter"),
            ("choice", "give")])
        eq(r.status, 403, "another session's CSRF token")

        # a restriction does not stop a withdrawal
        cx.ok("subject", "restrict", ada)
        seq = audit_seq(cx.db)
        r = p.req("POST", "/portal/consents", [("csrf_token", tok), ("purpose", "research"),
                                               ("choice", "withdraw")])
        eq(r.status, 303, "withdrawn while restricted")
        eq([(e["action"], e["outcome"], e["actor"]) for e in events_after(cx.db, seq)],
           [("consent.withdraw", "ok", "portal:" + names["ada"])], "the withdrawal audited")
        eq(consents_api(srv, dpo, ada), [("research", "given", "portal"),
                                         ("research", "withdrawn", "portal")],
           "the consent API sees the withdrawal")
        c = card(p.req("GET", "/portal/consents").text, research)
        check("You withdrew your consent on " in c and "Give consent" in c, "withdrawn shown",
              c)
        # a second click on a stale page changes nothing more
        r = p.req("POST", "/portal/consents", [("csrf_token", tok), ("purpose", "research"),
                                               ("choice", "withdraw")])
        eq(r.status, 303, "a second withdrawal")
        eq(len(consents_api(srv, dpo, ada)), 2, "a second withdrawal recorded")
    cx.ok("verify")


@case("portal rights: a consent given under an earlier policy for a purpose the current one "
      "no longer has is still listed, in the earlier policy's words, with only a button to "
      "withdraw it; giving it again refused; withdrawn, "
      "it leaves the page")
def t_consents_earlier_policy(ctx):
    cx, st, names, policy = rights_store(ctx)
    ada = st.subjects["ada"]["id"]
    ctl = st.controllers["c"]
    d = ctx.tmp.make()
    research = "Taking part in research studies you choose"
    news = [x for x in policy["purposes"] if x["id"] == "newsletter"][0]["description"]
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        dpo = st.signin(srv, "dpo")
        p = signed_in(srv, names["ada"])
        tok = portal_csrf(p.req("GET", "/portal/consents").text)
        for purpose in ("research", "newsletter"):
            eq(p.req("POST", "/portal/consents", [("csrf_token", tok), ("purpose", purpose),
                                                   ("choice", "give")]).status, 303,
               "consent given for " + purpose)
        # a new version without the research purpose
        later = dict(policy, purposes=[x for x in policy["purposes"] if x["id"] != "research"])
        path = os.path.join(ctx.tmp.make(), "policy-2.json")
        with open(path, "w") as f:
            json.dump(later, f)
        eq(cx.okj("policy", "apply", "--controller", ctl, path)["version"], 2,
           "the new policy's version")

        page = p.req("GET", "/portal/consents").text
        check("Consent you gave for things we no longer ask about" in page,
              "the earlier consents' heading", page[:8000])
        c = card(page, research)
        check("You gave your consent on " in c, "the earlier consent's state", c)
        check('value="research"' in c and 'value="withdraw"' in c and "Withdraw consent" in c,
              "the earlier consent's withdrawal", c)
        eq(page.count("Give consent"), 0, "a button to give consent (the newsletter is given, "
           "research no longer asked)")
        check(page.find(news) < page.find("Consent you gave for things we no longer"),
              "the current purposes first", page[:8000])
        no_violations(cx.binary, d, "portal-consents-earlier.html", page, base)
        screenshot(d, "portal-consents-earlier", page, base, width=1280)

        # giving it again is refused; withdrawing it is not
        eq(p.req("POST", "/portal/consents", [("csrf_token", tok), ("purpose", "research"),
                                               ("choice", "give")]).status, 400,
           "consent given again for a purpose the policy no longer has")
        seq = audit_seq(cx.db)
        eq(p.req("POST", "/portal/consents", [("csrf_token", tok), ("purpose", "research"),
                                               ("choice", "withdraw")]).status, 303,
           "the earlier consent withdrawn")
        eq([(e["action"], e["outcome"], e["subject"], e["actor"]) for e in
            events_after(cx.db, seq)],
           [("consent.withdraw", "ok", ada, "portal:" + names["ada"])],
           "the withdrawal, one audited operation by the patient")
        eq(sorted(consents_api(srv, dpo, ada)),
           [("newsletter", "given", "portal"), ("research", "given", "portal"),
            ("research", "withdrawn", "portal")], "the consent API's records")
        page = p.req("GET", "/portal/consents").text
        check(research not in page and "no longer ask about" not in page,
              "a withdrawn earlier consent still listed", page[:8000])

    cx.ok("verify")


KINDS = ("access", "rectification", "erasure", "restriction", "objection", "portability")


@case("portal rights: every kind of request made by form, verified by the sign-in with the "
      "clock from receipt; the DPO's API and console see it at once (channel portal, due "
      "date); details never in plaintext in the store; the list newest first with state and "
      "due date in words, paginated, never another patient's; refusals; axe clean")
def t_requests(ctx):
    cx, st, names, _ = rights_store(ctx)
    ada, bert = st.subjects["ada"]["id"], st.subjects["bert"]["id"]
    d = ctx.tmp.make()
    secret = "my surname is spelt Lovelayce-Quixbury in your letters"
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        dpo = st.signin(srv, "dpo")
        eq(Patient(srv).req("GET", "/portal/requests").status, 303, "not signed in")
        p = signed_in(srv, names["ada"])
        seq = audit_seq(cx.db)
        r = p.req("GET", "/portal/requests")
        eq(r.status, 200, "the requests page")
        page = r.text
        eq([(e["action"], e["subject"], e["actor"]) for e in events_after(cx.db, seq)],
           [("portal.requests", ada, "portal:" + names["ada"])], "one audited read")
        check("You have not made any requests here." in page, "no requests yet", page[:6000])
        for k in KINDS:
            check('value="%s"' % k in page, "no radio for " + k)
        no_violations(cx.binary, d, "portal-requests-empty.html", page, base)
        tok = portal_csrf(page)

        # refusals: nothing recorded
        seq = audit_seq(cx.db)
        for fields, status, field, why in (
                ([("kind", "access")], 403, None, "no CSRF token"),
                ([("csrf_token", tok)], 400, "kind", "no kind"),
                ([("csrf_token", tok), ("kind", "automated_decision_x")], 400, "kind",
                 "an unknown kind"),
                ([("csrf_token", tok), ("kind", "access"), ("kind", "erasure")], 400, "kind",
                 "two kinds"),
                ([("csrf_token", tok), ("kind", "rectification"), ("details", "  \n ")], 400,
                 "details", "a correction without what"),
                ([("csrf_token", tok), ("kind", "objection")], 400, "details",
                 "an objection without what"),
                ([("csrf_token", tok), ("kind", "access"), ("details", "x" * 5000)], 400,
                 "details", "too long")):
            r = p.req("POST", "/portal/requests", fields)
            eq(r.status, status, why)
            if field:
                check('id="%s-error"' % field in r.text and "There is a problem" in r.text,
                      "the error by the field: " + why, r.text[:6000])
        no_violations(cx.binary, d, "portal-requests-error.html", r.text, base)
        eq(events_after(cx.db, seq), [], "a refused request was recorded")
        eq(srv.call("GET", "/v1/requests", token=dpo).json()["requests"], [], "no request")

        # each kind, by form
        made = []
        for k in KINDS:
            seq = audit_seq(cx.db)
            details = secret if k == "rectification" else (
                "I object to the newsletters" if k == "objection" else "")
            r = p.req("POST", "/portal/requests", [("csrf_token", tok), ("kind", k),
                                                   ("details", details)])
            eq(r.status, 303, "a request of kind " + k)
            check(r.header("location").endswith("requests"), "back to the list")
            ev = events_after(cx.db, seq)
            eq([(e["action"], e["outcome"], e["subject"], e["actor"], e["role"]) for e in ev],
               [("request.receive", "ok", ada, "portal:" + names["ada"], "subject")],
               "one audited receipt by the patient: " + k)
            made.append(k)
        j = srv.call("GET", "/v1/requests", token=dpo).json()["requests"]
        eq(sorted(x["kind"] for x in j), sorted(KINDS), "the DPO's API sees every request")
        for x in j:
            eq((x["channel"], x["state"], x.get("subject"), x["clock_started"]),
               ("portal", "in_progress", ada, True), "a portal request: " + x["kind"])
            eq(x["clock"]["start"], x["received_on"], "the clock runs from receipt")
        rid = [x for x in j if x["kind"] == "rectification"][0]["id"]
        h = srv.call("GET", "/v1/requests/" + rid, token=dpo).json()["history"]
        eq([(e["action"], e["to"]) for e in h],
           [("receive", "received"), ("verify", "in_progress")], "received, then verified")
        check(secret in json.dumps(h), "the DPO reads what was asked", h)
        check(b"Lovelayce-Quixbury" not in all_bytes(cx), "the details in plaintext in the store")
        # the DPO's console lists them at once
        r = srv.call("GET", "/staff/requests", headers={"Cookie": "__Host-custos=" + dpo})
        eq(r.status, 200, "the DPO's console")
        for x in j:
            check("requests/" + x["id"] in r.text, "the console lists " + x["kind"],
                  r.text[-4000:])

        # the list: newest first, the state and the due date in words
        page = p.req("GET", "/portal/requests").text
        due = words(j[0]["clock"]["due"])
        rows = body_rows(page)
        eq(len(rows), len(KINDS), "every request listed")
        check(all(due in row and "We are working on it" in row and
                  words(j[0]["received_on"]) in row for row in rows),
              "the state and dates in words", rows)
        check("Your data to take elsewhere" in rows[0] and "A copy of your data" in rows[-1],
              "newest first", rows)
        check("portability" not in page.split("<table")[1] and "in_progress" not in page,
              "internal names shown", page[-4000:])
        check(secret not in page, "the details written back into the list")
        screenshot(d, "portal-requests", page, base, height=2100, width=1280)
        no_violations(cx.binary, d, "portal-requests.html", page, base)

        # the DPO refuses one: the patient sees it
        r = srv.call("POST", "/v1/requests/%s/transitions" % rid, token=dpo,
                     body=json.dumps({"action": "refuse", "why": "not our record",
                                      "grounds": "manifestly_unfounded",
                                      "ico_route_stated": True}))
        check(r.status in (200, 201), "refused by the DPO", r.describe())
        page = p.req("GET", "/portal/requests").text
        check(re.search(r"Correct your data</td>.*?Refused</td>", page, re.S),
              "the refusal shown", page[-4000:])

        # Bertram sees none of Ada's
        b = signed_in(srv, names["bert"])
        page = b.req("GET", "/portal/requests").text
        check("You have not made any requests here." in page and "<table" not in page,
              "another's requests listed", page[-3000:])
        for path in ("/portal/requests?subject=" + ada, "/portal/requests?id=" + rid):
            r = b.req("GET", path)
            check(r.status == 400 and "Correct your data" not in r.text, "through " + path)
        # pages: 12 requests in two pages
        btok = portal_csrf(page)
        for i in range(12):
            eq(b.req("POST", "/portal/requests", [("csrf_token", btok), ("kind", "access")]
                     ).status, 303, "Bertram's request %d" % i)
        page = b.req("GET", "/portal/requests").text
        eq(len(body_rows(page)), 10, "the first page")
        check("Page 1 of 2." in page and "page=2" in page, "the pagination", page[-3000:])
        page = b.req("GET", "/portal/requests?page=2").text
        eq(len(body_rows(page)), 2, "the second page")
        eq(b.req("GET", "/portal/requests?page=3").status, 404, "past the last page")
        eq(b.req("GET", "/portal/requests?page=x").status, 400, "not a page number")
        ((n,),) = sql(cx.db, "SELECT count(*) FROM requests WHERE subject_id = ?", (bert,))
        eq(n, 12, "Bertram's requests linked to him")
    cx.ok("verify")


@case("portal rights: an invitation code typed from a letter (lower case, spaces, no dashes) "
      "leads to its password form; a wrong code is not recognised, says nothing more, and "
      "five wrong ones throttle the address (even the right one then); the sign-in page "
      "links to it; axe clean")
def t_code(ctx):
    cx, st, names, _ = rights_store(ctx)
    carys = st.subjects["carys"]["id"]
    inv = invite(cx, carys)
    code = inv["code"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        r = srv.call("GET", "/portal/sign-in")
        check('href="invitation"' in r.text, "the sign-in page links to the code form",
              r.text[-3000:])
        r = srv.call("GET", "/portal/invitation")
        eq(r.status, 200, "the code form")
        check("Enter your invitation code" in r.text, "its title")
        no_violations(cx.binary, d, "portal-code.html", r.text, base)
        screenshot(d, "portal-code", r.text, base)
        seq = audit_seq(cx.db)
        for typed in (code, code.lower(), " ".join(code.replace("-", "").lower()),
                      code.replace("-", " ")):
            r = srv.call("POST", "/portal/invitation", urllib.parse.urlencode(
                [("code", typed)]), ctype=FORM)
            eq(r.status, 303, "the code as typed: %r" % typed)
            check(r.header("location").endswith("portal/invitation/" + code), "to its password form", r.header("location"))
        r = srv.call("GET", "/portal/invitation/" + code)
        eq(r.status, 200, "the password form")
        check("Set up your patient portal account" in r.text, "the form", r.text[:2000])
        eq(events_after(cx.db, seq), [], "typing a code is recorded")
        # empty: asked for, not counted
        for typed in ("", "  - "):
            r = srv.call("POST", "/portal/invitation", urllib.parse.urlencode(
                [("code", typed)]), ctype=FORM)
            eq(r.status, 400, "no code")
            check("Enter the code from your letter" in r.text, "asked for the code")
        # wrong: a code of no invitation, a malformed one, a near miss
        wrong = ["AAAAA-BBBBB-CCCCC-DDDDD", "not a code at all", code[:-1] + (
            "0" if code[-1] != "0" else "1"), "<script>x</script>"]
        for typed in wrong:
            r = srv.call("POST", "/portal/invitation", urllib.parse.urlencode(
                [("code", typed)]), ctype=FORM)
            eq(r.status, 400, "a wrong code: %r" % typed)
            check("This code is not recognised" in r.text and 'id="code-error"' in r.text,
                  "not recognised, by the field", r.text[:4000])
            check("<script>x" not in r.text, "the typed code written back unescaped")
            check("expired" not in r.text.split("<main")[1].split("If your code")[0] and
                  "used" not in r.text.split("<main")[1].split("If your code")[0],
                  "more said than not recognised")
        no_violations(cx.binary, d, "portal-code-error.html", r.text, base)
        # the fifth failure: the address is throttled, even for the right code
        r = srv.call("POST", "/portal/invitation", urllib.parse.urlencode(
            [("code", "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ")]), ctype=FORM)
        eq(r.status, 400, "the fifth wrong code")
        r = srv.call("POST", "/portal/invitation", urllib.parse.urlencode([("code", code)]),
                     ctype=FORM)
        eq(r.status, 429, "throttled")
        check(r.header("retry-after"), "no Retry-After")
        check("too many wrong codes" in r.text, "the throttle said", r.text[:4000])
        # and sign-in from the same address too: one throttle
        r = srv.call("POST", "/portal/sign-in", urllib.parse.urlencode(
            [("name", names["ada"]), ("password", GOOD)]), ctype=FORM)
        eq(r.status, 429, "sign-in from a throttled address")
        # a cross-site post is refused
        r = srv.call("POST", "/portal/invitation", urllib.parse.urlencode([("code", code)]),
                     ctype=FORM, headers={"Sec-Fetch-Site": "cross-site"})
        eq(r.status, 403, "a cross-site post")
    with Server(cx) as srv:
        r = srv.call("POST", "/portal/invitation", urllib.parse.urlencode([("code", code)]),
                     ctype=FORM)
        eq(r.status, 303, "a new server: the right code works")
        # a used invitation: on to its page, which says so
        r = srv.call("POST", inv["path"], password_form(GOOD), ctype=FORM)
        eq(r.status, 200, "the account made")
        r = srv.call("POST", "/portal/invitation", urllib.parse.urlencode([("code", code)]),
                     ctype=FORM)
        eq(r.status, 303, "a used code")
        eq(srv.call("GET", "/portal/invitation/" + code).status, 410, "its page says used")


@case("portal rights: a session used again more than a minute after its last use (its last "
      "use touched) opens the consents and requests pages")
def t_touch(ctx):
    from cases_erasure import test_clock
    import time
    cx, st, names, _ = rights_store(ctx)
    test_clock(cx)
    now = int(time.time())
    with Server(cx, env={"CUSTOS_FAKE_NOW": str(now)}) as srv:
        p = signed_in(srv, names["ada"])
        eq(p.req("GET", "/portal").status, 200, "home")
    ((seen0,),) = sql(cx.db, "SELECT last_seen FROM portal_sessions")
    for later in (120, 240):
        with Server(cx, env={"CUSTOS_FAKE_NOW": str(now + later)}) as srv:
            q = Patient(srv)
            q.cookie = p.cookie
            for path in ("/portal", "/portal/consents", "/portal/requests"):
                r = q.req("GET", path)
                check(r.status == 200, "%s %d seconds later" % (path, later), r.text[:500],
                      srv.stderr()[-3000:])
    ((seen,),) = sql(cx.db, "SELECT last_seen FROM portal_sessions")
    check(seen >= seen0 + 240 * 1000000, "the session's last use was not touched", seen0, seen)
