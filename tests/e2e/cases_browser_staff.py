"""The staff console's DPO, auditor and administrator pages in a real browser:
Debian's chromium driven by puppeteer-core (browser.Driver), each case a
member of staff's task done by clicking and typing, checked afterwards
through the CLI, the API and the database.

The DPO signs in with a one-time code, finds a request logged by the CLI in
"Rights requests" with its days left, verifies the person's identity and
marks it fulfilled with the page's buttons (each change audited once, with
the DPO as actor), reads the access package and fetches the portable copy,
plans an erasure and carries it out only once the box is ticked, and reads
the policy, the privacy notice and the record of processing; another
controller's request, reached by editing the URL or a form's action, is
refused. The auditor searches the trail by member of staff and by date,
pages through it and verifies the chain, which fails, in words, once a row
of audit_events is altered. The administrator adds an account (its one-time
code secret shown once), sets a password, creates an API token (shown once,
working over HTTP) and revokes it, and disables the account, after which its
sign-in is refused in the browser.

In every case: axe-core (WCAG 2.2 AA) clean on every page visited, the
session cookie's flags, an injected inline script blocked by the CSP, a form
posted from another site's page changing nothing, and markup in a name, a
request's details or a field shown as text and never run. Runs on both
backends."""

import datetime
import json
import re

from harness import registry, check, eq, sql, sql_exec
from fixtures import erasing_policy
from http_client import Server, Staff, PASSWORD, audit_seq, events_after, totp_code, fresh_step
from browser import Driver
from cases_browser import EVIL, NOT_RUN, escaped, cookie_safe, csp_blocks, cross_site_post

CASES, case = registry()

NAME = "Ada " + EVIL
NHS = "9434765919"
DETAILS = "Letter from Ada asking for a copy " + EVIL


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def sign_in(br, st, username, password=None):
    """Signs in by the form as a user does: username and password, then the
    one-time code when the account asks for one. Lands on the console's first
    page for the account's roles."""
    u = st.users[username]
    password = password or u["password"]
    br.goto("/staff/sign-in")
    br.fill("#username", username)
    br.fill("#password", password)
    br.click("form[action='sign-in'] button[type=submit]")
    if u.get("totp_secret"):
        br.expect(401, "Enter the 6-digit code from your authenticator app", path="/staff/sign-in")
        br.fill("#password", password)
        br.fill("#code", st.code_for(username))
        br.click("form[action='sign-in'] button[type=submit]")
    check(br.page["status"] == 200 and "/staff" in br.page["url"] and
          "Signed in as %s." % username in br.page["text"],
          "%s is not signed in: %s (%s)" % (username, br.page["url"], br.page["status"]),
          br.page["text"][:3000])


def sign_out(br):
    br.click("form[action$='sign-out'] button[type=submit]")
    eq([c["name"] for c in br.cookies()], [], "cookies after signing out")


def words(text):
    return re.sub(r"\s+", " ", text)


def setup(ctx):
    """Controller A (its policy erasing records on request, so an erasure has
    something to erase) with its DPO, auditor, administrator and a clinician;
    a patient whose name is markup; controller B with a request of its own."""
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "North Riding NHS Trust", erasing_policy(ctx))
    st.controller("B", "South Downs Health")
    st.user("dpo.smith", "A", "dpo", totp=True)
    st.user("ann.audit", "A", "auditor")
    st.user("root.admin", "A", "admin", totp=True)
    st.user("dr.jones", "A", "clinician")
    st.token("desk", "A", "dpo")
    st.subject("ada", "A", {"name": NAME, "nhs_number": NHS,
                            "items": [{"category": "health", "field": "note",
                                       "value": "seen in clinic " + EVIL}]})
    st.subject("bert", "A", {"name": "Bertram Other", "nhs_number": "9434765870"})
    st.care("dr.jones", "ada")
    return cx, st


def receive(cx, st, ctl, kind, received_on, details):
    """A request logged by the CLI, as the desk does for a letter."""
    return cx.ok("requests", "receive", "--controller", st.controllers[ctl], "--kind", kind,
                 "--channel", "letter", "--received-on", received_on, "--details-file", "-",
                 "--why", "Logged from the post", stdin=details).out.strip()


def changes(evs):
    """The audit events of changes among evs (reads and listings left out)."""
    return [(e["action"], e["actor"], e["outcome"]) for e in evs
            if e["action"] not in ("request.read", "request.list")]


def fetch(br, path):
    """What the browser gets for a link that downloads (path relative to the
    page): status, content type and text, fetched with the page's cookie."""
    return br.eval("fetch(%s).then(async r => [r.status, r.headers.get('content-type'), "
                   "await r.text()])" % json.dumps(path))


def transition(br, action, why, **fields):
    """Opens the request page's "What happens next" entry for action, fills
    its note (and fields, by id prefix) and presses its button."""
    br.press("details:has(input[name=action][value=%s]) summary" % action)
    br.fill("#why-" + action, why)
    for k, v in fields.items():
        br.fill("#%s-%s" % (k, action), v)
    br.click("form:has(input[name=action][value=%s]) button[type=submit]" % action)


@case("browser staff: a DPO signs in with a code, finds a CLI-logged request with its days "
      "left, moves it to fulfilled by the buttons (each change audited once), reads the "
      "package and portable copy, erases after confirming, reads policy, notice and Art 30; "
      "another controller's request refused; CSRF, cookie, CSP, escaping; axe clean")
def t_browser_dpo(ctx):
    cx, st = setup(ctx)
    sid = st.subjects["ada"]["id"]
    far = st.subject("far", "B", {"name": "Bertie Faraway", "nhs_number": "9434765870",
                                  "items": [{"category": "health", "field": "note",
                                             "value": "seen elsewhere"}]})
    received = (today() - datetime.timedelta(days=5)).isoformat()
    rid = receive(cx, st, "A", "access", received, DETAILS)
    eid = receive(cx, st, "A", "erasure", received, "Please erase my record")
    bid = receive(cx, st, "B", "access", received, "Bertram at South Downs asks for a copy")
    left = cx.okj("requests", "show", rid)["clock"]["days_left"]
    check(left > 0, "the fixture's clock", left)
    items = lambda: sql(cx.db, "SELECT COUNT(*) FROM items WHERE subject_id = ?", (sid,))[0][0]
    state = lambda r: sql(cx.db, "SELECT state FROM requests WHERE id = ?", (r,))[0][0]
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        with Driver(cx.binary, base) as br:
            sign_in(br, st, "dpo.smith")
            br.axe_clean("the DPO's first page")
            cookie_safe(br)

            # the requests list: the CLI's request with its days left, in words
            br.click("a[href$='staff/requests']")
            br.expect(200, "Rights requests", path="/staff/requests")
            row = words(br.eval("document.querySelector(\"a[href$='requests/%s']\")"
                                ".closest('tr').innerText" % rid))
            check("Access request received" in row and "%d days left" % left in row and
                  "Received" in row, "the request's row", row)
            check("Bertram" not in br.page["text"] and bid not in br.page["html"],
                  "another controller's request is listed", br.page["text"][:3000])
            br.axe_clean("the rights requests")

            # the request: its details in the history as text, never run
            br.click("a[href$='requests/%s']" % rid)
            br.expect(200, "Access request", "Received", "%d days left" % left,
                      path="/staff/requests/" + rid)
            escaped_text(br, DETAILS, "the request's history")
            br.axe_clean("the request")
            csp_blocks(br, "the request")

            # identity verified by the button, with the record it names
            seq = audit_seq(cx.db)
            transition(br, "verify", "Passport seen " + EVIL, subject=sid)
            br.expect(200, "In progress", "Mark as fulfilled", "Read the letter",
                      path="/staff/requests/" + rid)
            eq(changes(events_after(cx.db, seq)), [("request.verify", "dpo.smith", "ok")],
               "the audit events of verifying")
            escaped_text(br, "Passport seen " + EVIL, "the request's history")
            br.axe_clean("the request in progress")

            # another site's page posts the fulfil form with the right token: nothing
            token = br.eval("document.querySelector('input[name=csrf_token]').value")
            check(token and len(token) >= 43, "no CSRF token on the request", token)
            seq = audit_seq(cx.db)
            cross_site_post(br, base, "/staff/requests/" + rid,
                            [("csrf_token", token), ("action", "fulfil"),
                             ("from", "in_progress"), ("why-fulfil", "Won a prize")])
            eq(state(rid), "in_progress", "the request after another site's post")
            eq(changes(events_after(cx.db, seq)), [], "another site's post was audited as a change")

            # fulfilled by the button
            br.goto("/staff/requests/" + rid)
            seq = audit_seq(cx.db)
            transition(br, "fulfil", "Letter and copy sent by post")
            br.expect(200, "Fulfilled", "Closed on time", path="/staff/requests/" + rid)
            check("What happens next" not in br.page["text"], "a fulfilled request offers buttons",
                  br.page["text"][:3000])
            eq(changes(events_after(cx.db, seq)), [("request.fulfil", "dpo.smith", "ok")],
               "the audit events of fulfilling")
            br.axe_clean("the fulfilled request")
            br.screenshot("staff-request-fulfilled", height=2000)
            j = cx.okj("requests", "show", rid)
            eq(j["state"], "fulfilled", "custos requests show: the state")
            eq([(h["action"], h["actor"]) for h in j["history"][1:]],
               [("verify", "dpo.smith"), ("fulfil", "dpo.smith")], "the request's history")
            eq(j["subject"], sid, "the request's subject")
            r = srv.call("GET", "/v1/requests/" + rid, token=st.tokens["desk"]["token"])
            eq(r.status, 200, "GET /v1/requests/{id}")
            eq(r.json()["state"], "fulfilled", "the API: the state")

            # the access package, a letter: the name as text, one audited export
            seq = audit_seq(cx.db)
            br.click("a[href*='access-package?format=html']")
            br.expect(200, path="/staff/patients/%s/access-package" % sid)
            escaped(br, "the access package")
            evs = events_after(cx.db, seq)
            eq(len(evs), 1, "audit events of the access package")
            eq((evs[0]["actor"], evs[0]["subject"]), ("dpo.smith", sid), "the package's event")
            br.axe_clean("the access package")
            csp_blocks(br, "the access package")
            # the portable copy, as the browser downloads it
            br.back()
            status, ctype, body = fetch(br, "../patients/%s/portable-copy?format=json" % sid)
            eq(status, 200, "the portable copy")
            check(ctype.startswith("application/json"), "the portable copy's type", ctype)
            check(any(i["field"] == "name" and i["value"] == NAME
                      for i in json.loads(body)["items"]), "the portable copy's content",
                  body[:1000])

            # another controller's request, by its URL: refused as if it did not
            # exist (a page, not a problem document), nothing of it shown, recorded
            seq = audit_seq(cx.db)
            br.goto("/staff/requests/" + bid)
            br.expect(404, "This request does not exist", path="/staff/requests/" + bid)
            check("Bertram" not in br.page["text"] and "South Downs" not in br.page["text"],
                  "another controller's request leaks", br.page["text"][:3000])
            check(any(e["actor"] == "dpo.smith" and e["outcome"] == "denied"
                      for e in events_after(cx.db, seq)),
                  "the refusal is not recorded", events_after(cx.db, seq))
            br.axe_clean("the refusal of another controller's request")
            # ... nor its patient's access package or erasure plan
            for what in ("access-package?format=html", "erasure"):
                br.goto("/staff/patients/%s/%s" % (far, what))
                br.expect(403, "Data Protection Officer", "The attempt has been recorded")
                check("Bertram" not in br.page["text"] and "Bertie" not in br.page["text"],
                      "another controller's patient leaks", br.page["text"][:3000])
                br.axe_clean("the refusal of another controller's " + what)
            # ... nor by pointing one of our forms at it
            br.goto("/staff/requests/" + eid)
            br.expect(200, "Erasure request", path="/staff/requests/" + eid)
            br.eval("document.querySelector('form:has(input[name=action][value=withdraw])')"
                    ".action = %s; 1" % json.dumps(base + "/staff/requests/" + bid))
            transition(br, "withdraw", "Withdrawn, says the forger")
            check(br.page["status"] in (403, 404), "a change to another controller's request",
                  br.page["status"], br.page["text"][:3000])
            eq(state(bid), "received", "another controller's request after a forged change")

            # the erasure request: verified, its plan, erased only once ticked
            br.goto("/staff/requests/" + eid)
            br.expect(200, "The plan can be seen once", path="/staff/requests/" + eid)
            transition(br, "verify", "Identity checked at the desk", subject=sid)
            br.expect(200, "See what would be erased", path="/staff/requests/" + eid)
            before = items()
            check(before > 0, "the fixture has items", before)
            br.click("a[href$='patients/%s/erasure']" % sid)
            br.expect(200, "Erasure plan", "What will be erased", "This cannot be undone",
                      path="/staff/patients/%s/erasure" % sid)
            check("Ada" not in br.page["text"], "the plan shows the name")
            br.axe_clean("the erasure plan")
            plan = br.eval("document.querySelector('input[name=plan]').value")
            token = br.eval("document.querySelector('input[name=csrf_token]').value")
            br.click("form[action$='erasure'] button[type=submit]")
            br.expect(400, "Nothing was erased", "Tick the box")
            eq(items(), before, "items after erasing without the tick")
            br.axe_clean("the erasure refused without the tick")
            cross_site_post(br, base, "/staff/patients/%s/erasure" % sid,
                            [("csrf_token", token), ("plan", plan), ("confirm", "yes")])
            eq(items(), before, "items after another site's erasure post")
            br.goto("/staff/patients/%s/erasure" % sid)
            br.press("label[for=confirm]")
            check(br.eval("document.getElementById('confirm').checked") is True,
                  "the box is not ticked")
            seq = audit_seq(cx.db)
            br.click("form[action$='erasure'] button[type=submit]")
            br.expect(200, "Certificate of erasure", "Items erased", plan,
                      path="/staff/patients/%s/erasure" % sid)
            check(items() < before, "nothing was erased", (items(), before))
            check(any(e["action"].startswith("erase") and e["actor"] == "dpo.smith" and
                      e["outcome"] == "ok" for e in events_after(cx.db, seq)),
                  "the erasure is not audited", events_after(cx.db, seq))
            br.axe_clean("the certificate of erasure")

            # the policy, its notice and the record of processing
            br.click("a[href$='staff/policy']")
            br.expect(200, "Policy", "Purposes and lawful bases", "Retention",
                      path="/staff/policy")
            br.axe_clean("the policy")
            br.click("a[href$='policy/notice']")
            check(br.page["status"] == 200 and "privacy" in br.page["text"].lower(),
                  "the privacy notice", br.page["text"][:3000])
            br.axe_clean("the privacy notice")
            br.back()
            status, ctype, body = fetch(br, br.eval(
                "document.querySelector(\"a[href$='policy/record']\").getAttribute('href')"))
            eq(status, 200, "the record of processing")
            check(ctype.startswith("text/csv"), "the record is CSV", ctype)
            rows = [x for x in body.splitlines() if x]
            check(len(rows) > 1 and "," in rows[0] and st.controllers["A"] in body and
                  st.controllers["B"] not in body,
                  "the record of processing's rows", body[:500])


def escaped_text(br, text, where):
    """text (markup in it) is on the page as text, and none of it ran."""
    check(text in br.page["text"], "%r is not shown as written on %s" % (text[:40], where),
          br.page["text"][:3000])
    check(br.eval(NOT_RUN) is True, "markup ran or made elements on " + where,
          br.page["html"][:4000])


@case("browser staff: an auditor searches the trail by member of staff and by date, pages "
      "through it, verifies the chain (counts in words) and sees it fail once a row is "
      "altered; CSRF, cookie, CSP, markup in a field; axe clean")
def t_browser_auditor(ctx):
    cx, st = setup(ctx)
    ada, bert = st.subjects["ada"]["id"], st.subjects["bert"]["id"]
    day = today().isoformat()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        # a clinician's day: reads of a patient on the list, one refused off it
        tok = st.signin(srv, "dr.jones")
        for _ in range(30):
            eq(srv.call("GET", "/v1/subjects/" + ada, token=tok).status, 200, "a read")
        eq(srv.call("GET", "/v1/subjects/" + bert, token=tok).status, 403, "a read off the list")
        mine = [e for e in events_after(cx.db, 0) if e["actor"] == "dr.jones"]
        check(len(mine) > 25, "the clinician's events", len(mine))
        with Driver(cx.binary, base) as br:
            sign_in(br, st, "ann.audit")
            cookie_safe(br)
            br.click("a[href$='staff/audit']")
            br.expect(200, "Audit trail", "Search the trail", path="/staff/audit")
            br.axe_clean("the audit trail")
            csp_blocks(br, "the audit trail")

            # by member of staff: every one of the clinician's events, two pages
            br.fill("#actor", "dr.jones")
            br.click("form[action$='audit'] button[type=submit]")
            br.expect(200, "%d events match the search" % len(mine), "Page 1 of 2",
                      path="/staff/audit")
            check("actor=dr.jones" in br.page["url"], "the search is not in the URL",
                  br.page["url"])
            rows = br.eval("[...document.querySelectorAll('tbody tr')].map(r => r.innerText)")
            eq(len(rows), 25, "events on the first page")
            check(all("dr.jones" in r for r in rows), "another actor's event", rows)
            check("Refused" in rows[0], "the newest (refused) read first", rows[0])
            check("Ada" not in br.page["text"] and "Bertram" not in br.page["text"],
                  "personal data on the audit page")
            br.axe_clean("the trail searched by member of staff")
            br.click("a.nhsuk-pagination__link--next")
            br.expect(200, "Page 2 of 2", path="/staff/audit")
            rows2 = br.eval("[...document.querySelectorAll('tbody tr')].map(r => r.innerText)")
            eq(len(rows2), len(mine) - 25, "events on the second page")
            check(all("dr.jones" in r for r in rows2), "another actor's event on page 2", rows2)
            br.axe_clean("the second page")
            br.click("a.nhsuk-pagination__link--prev")
            br.expect(200, "Page 1 of 2", path="/staff/audit")

            # by date: today finds them, a day long past finds nothing
            for since, until, found in ((day, day, True), ("2020-01-01", "2020-01-02", False)):
                br.type_date("#since", since)
                br.type_date("#until", until)
                eq(br.eval("[document.getElementById('since').value, "
                           "document.getElementById('until').value]"), [since, until],
                   "the dates typed")
                br.click("form[action$='audit'] button[type=submit]")
                check("since=%s" % since in br.page["url"], "the date is not searched",
                      br.page["url"])
                if found:
                    br.expect(200, "%d events match the search" % len(mine), path="/staff/audit")
                else:
                    br.expect(200, "No event matches the search", path="/staff/audit")
                br.axe_clean("the trail searched by date")

            # markup typed in a field: an error by the field, shown as text
            br.goto("/staff/audit")
            br.fill("#actor", EVIL)
            br.click("form[action$='audit'] button[type=submit]")
            br.expect(400, "Enter a username, like alice", path="/staff/audit")
            eq(br.eval("document.getElementById('actor').value"), EVIL, "the field kept as typed")
            check(br.eval(NOT_RUN) is True, "markup in the search ran", br.page["html"][:4000])
            br.axe_clean("the search's error")

            # verify: passed, with its counts
            n0 = audit_seq(cx.db)
            br.click("form[action$='audit/verify'] button[type=submit]")
            br.expect(200, "The audit trail is intact", "Passed", path="/staff/audit/verify")
            w = words(br.page["text"])
            m = re.search(r"Events checked (\d+)", w)
            check(m and int(m.group(1)) >= n0, "the count of events checked", w[:2000])
            check("Event 1 to event %s" % m.group(1) in w and
                  re.search(r"Signatures checked \d+", w), "the counts in words", w[:2000])
            br.axe_clean("the verification")
            csp_blocks(br, "the verification")
            br.screenshot("staff-audit-verified")

            # another site's page posts verify: nothing runs, nothing is recorded
            br.goto("/staff/audit")
            token = br.eval("document.querySelector('form[action$=\"audit/verify\"] "
                            "input[name=csrf_token]').value")
            seq = audit_seq(cx.db)
            cross_site_post(br, base, "/staff/audit/verify", [("csrf_token", token)])
            eq(events_after(cx.db, seq), [], "another site's verify was recorded")

            # a row altered in the database: verify fails, in words
            target = 5
            body = bytearray(sql(cx.db, "SELECT body FROM audit_events WHERE seq = ?",
                                 (target,))[0][0])
            body[-1] ^= 0x01
            sql_exec(cx.db, ("UPDATE audit_events SET body = ? WHERE seq = ?",
                             (bytes(body), target)))
            # the trail's page says, in words, that it cannot be read (when the
            # altered event no longer decodes) and still offers the verification
            br.goto("/staff/audit")
            check(br.page["status"] in (200, 500), "the audit trail after tampering",
                  br.page["status"], br.page["text"][:3000])
            if br.page["status"] == 500:
                br.expect(500, "The trail cannot be read", "Verify the audit trail",
                          path="/staff/audit")
            br.axe_clean("the audit trail after tampering")
            br.screenshot("staff-audit-damaged")
            br.click("form[action$='audit/verify'] button[type=submit]")
            br.expect(200, "The audit trail has been changed", "Failed at event %d" % target,
                      "tell your Data Protection Officer", path="/staff/audit/verify")
            check("intact" not in br.page["text"] and "Passed" not in br.page["text"],
                  "a tampered trail called intact", br.page["text"][:3000])
            br.axe_clean("the failed verification")
            br.screenshot("staff-audit-verify-failed")
        cx.fails(1, "audit", "verify")


@case("browser staff: an admin adds an account (its code secret shown once), sets a "
      "password, creates an API token (shown once, works) and revokes it (refused), "
      "disables the account (its sign-in refused in the browser); CSRF, cookie, CSP, markup "
      "in a field; axe clean")
def t_browser_admin(ctx):
    cx, st = setup(ctx)
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        with Driver(cx.binary, base) as br:
            sign_in(br, st, "root.admin")
            cookie_safe(br)
            br.click("a[href$='staff/accounts']")
            br.expect(200, "Staff accounts", "dr.jones", "Data Protection Officer",
                      path="/staff/accounts")
            br.axe_clean("the staff accounts")
            csp_blocks(br, "the staff accounts")

            # markup as a username: errors by the fields, nothing added, nothing run
            br.fill("#username", EVIL)
            br.click("form:has(#username) button[type=submit]")
            br.expect(400, "Enter a username of lower case letters", "Enter a password",
                      "Choose at least one role", path="/staff/accounts")
            eq(br.eval("document.getElementById('username').value"), "",
               "a bad username kept in the field")
            check(br.eval(NOT_RUN) is True, "markup in the form ran", br.page["html"][:4000])
            br.axe_clean("the account form's errors")

            # an account with a one-time code: the secret shown once
            br.goto("/staff/accounts")
            br.fill("#username", "nurse.kay")
            br.fill("#password", PASSWORD)
            br.press("label[for=account-roles]")
            br.press("label[for=totp]")
            br.click("form:has(#username) button[type=submit]")
            br.expect(200, "Account added", "shown only once", path="/staff/accounts")
            m = re.search(r"secret=([A-Z2-7]{32})", br.page["text"])
            check(m, "no one-time code secret", br.page["text"][:3000])
            secret = m.group(1)
            br.axe_clean("the account added")
            roles = sql(cx.db, "SELECT roles, totp IS NOT NULL FROM users "
                               "WHERE username = 'nurse.kay'")
            eq([(r[0], bool(r[1])) for r in roles], [("clinician", True)], "the account added")
            st.users["nurse.kay"] = {"password": PASSWORD, "totp_secret": secret}
            step = fresh_step()
            r = srv.signin("nurse.kay", PASSWORD, totp_code(secret, step))
            eq(r.status, 201, "the new account signs in")
            st.last_step["nurse.kay"] = step
            br.click("a[href$='staff/accounts']")
            check(secret not in br.page["html"] and "nurse.kay" in br.page["text"],
                  "the secret shown again, or the account not listed", br.page["text"][:3000])

            # a new password for dr.jones: asked, then set
            br.click("form[action$='accounts/dr.jones/password'] button[type=submit]")
            br.expect(200, "Set a new password for dr.jones")
            br.axe_clean("the new password form")
            br.fill("#password", "a new pass phrase")
            br.click("form:has(#password) button[type=submit]")
            br.expect(200, "Password changed")
            br.axe_clean("the password changed")
            eq(srv.signin("dr.jones", PASSWORD).status, 401, "the old password")
            eq(srv.signin("dr.jones", "a new pass phrase").status, 201, "the new password")

            # an API token: shown once, works, revoked after asking, then refused
            br.click("a[href$='staff/accounts']")
            br.fill("#token-name", "lab-feed")
            br.press("label[for=token-roles-auditor]")
            br.click("form:has(#token-name) button[type=submit]")
            br.expect(200, "Token created", "lab-feed", "Auditor")
            api_token = br.eval("[...document.querySelectorAll('code')].map(c => c.innerText)"
                                ".find(t => t.startsWith('cut_')) || ''")
            check(api_token.startswith("cut_"), "the token is not shown", br.page["text"][:3000])
            br.axe_clean("the token created")
            eq(srv.call("GET", "/v1/audit", token=api_token).status, 200, "the new token")
            br.click("a[href$='staff/accounts']")
            check(api_token not in br.page["html"] and "In use" in br.page["text"],
                  "the token shown again, or not in use", br.page["text"][-3000:])
            # its row's Revoke button (the desk's token is listed too)
            revoke = br.eval("[...document.querySelectorAll('tbody tr')].filter(r => "
                             "r.cells[0].innerText === 'lab-feed').map(r => "
                             "r.querySelector('form').getAttribute('action'))")
            eq(len(revoke), 1, "rows of the token lab-feed")
            br.click("form[action='%s'] button[type=submit]" % revoke[0])
            br.expect(200, "Revoke this API token?")
            eq(srv.call("GET", "/v1/audit", token=api_token).status, 200,
               "the token revoked before confirming")
            br.axe_clean("the revocation's question")
            br.click("form:has(input[name=confirm]) button[type=submit]")
            br.expect(200, "Token revoked")
            eq(srv.call("GET", "/v1/audit", token=api_token).status, 401, "a revoked token")
            eq(srv.call("GET", "/v1/requests", token=st.tokens["desk"]["token"]).status, 200,
               "another token after the revocation")

            # another site's page posts "disable dr.jones", confirmed: nothing
            br.click("a[href$='staff/accounts']")
            token = br.eval("document.querySelector('input[name=csrf_token]').value")
            cross_site_post(br, base, "/staff/accounts/dr.jones/disable",
                            [("csrf_token", token), ("confirm", "yes")])
            eq(sql(cx.db, "SELECT disabled_at FROM users WHERE username = 'dr.jones'")[0][0],
               None, "dr.jones after another site's post")

            # nurse.kay disabled, after asking; her sign-in then refused
            br.goto("/staff/accounts")
            br.click("form[action$='accounts/nurse.kay/disable'] button[type=submit]")
            br.expect(200, "Disable nurse.kay's account?")
            br.axe_clean("the disabling's question")
            seq = audit_seq(cx.db)
            br.click("form:has(input[name=confirm]) button[type=submit]")
            br.expect(200, "Account disabled")
            eq([(e["action"], e["actor"]) for e in events_after(cx.db, seq)],
               [("user.disable", "root.admin")], "the audit events of disabling")
            br.axe_clean("the account disabled")
            br.click("a[href$='staff/accounts']")
            br.expect(200, "Disabled on", path="/staff/accounts")
            sign_out(br)
            br.goto("/staff/sign-in")
            br.fill("#username", "nurse.kay")
            br.fill("#password", PASSWORD)
            br.click("form[action='sign-in'] button[type=submit]")
            if br.page["status"] == 401 and br.eval("!!document.getElementById('code')"):
                br.fill("#password", PASSWORD)
                br.fill("#code", st.code_for("nurse.kay"))
                br.click("form[action='sign-in'] button[type=submit]")
            br.expect(401, "Sign in", path="/staff/sign-in")
            eq(br.cookies(), [], "a disabled account's cookie")
            br.axe_clean("the disabled account's sign-in refused")
