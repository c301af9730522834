"""The staff console in a real browser: Debian's chromium driven by
puppeteer-core (browser.Driver). A clinician whose account needs a one-time
code signs in by the form, finds a patient on the care list by NHS number,
opens the record, acknowledges a task, is refused a patient off the list (the
refusal in `custos audit show`), and signs out, after which neither the back
button nor the record's URL shows anything of it. From inside the browser:
the session cookie's flags and that scripts cannot read it, a form posted with
a forged or missing CSRF token refused with nothing changed, another site's
page posting a form with the right token arriving without the cookie
(SameSite=Strict) and changing nothing, an injected inline script blocked
by the CSP, markup in a patient's name shown as text and never run, and
axe-core (WCAG 2.2 AA) clean on every page visited.
Runs on both backends."""

import html

from harness import registry, check, eq, sql
from http_client import Server, Staff, PASSWORD
from browser import Driver
from cases_tasks import raise_task

CASES, case = registry()

# Markup an attacker might put in a name: each part sets window.__xss if it runs.
EVIL = '<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">'
NAME = "Ada " + EVIL
NHS_MINE, NHS_SPACED = "9434765919", "943 476 5919"
NHS_OTHER = "9434765870"

NOT_RUN = ("window.__xss === undefined && document.querySelectorAll('img[src=\"x\"]').length === 0"
           " && [...document.scripts].every(s => !s.textContent.includes('__xss'))")


def setup(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("c", "North Riding NHS Trust")
    st.user("dr.jones", "c", "clinician", totp=True)
    st.subject("mine", "c", {"name": NAME, "birth_date": "1971-03-14", "nhs_number": NHS_MINE,
                             "items": [{"category": "health", "field": "allergy_notes",
                                        "value": "penicillin " + EVIL}]})
    st.subject("other", "c", {"name": "Bertram Other", "nhs_number": NHS_OTHER})
    st.care("dr.jones", "mine")
    t1 = raise_task(cx, st.subjects["mine"]["id"], "phq9_item9")
    return cx, st, t1


def escaped(br, where):
    """The markup is on the page as text, and none of it ran."""
    check(EVIL in br.page["text"], "the name is not shown as written on " + where,
          br.page["text"][:3000])
    check(br.eval(NOT_RUN) is True, "markup in a patient's record ran or made elements on " + where,
          br.page["html"][:4000])


def cookie_safe(br):
    """The session cookie as the browser holds it: the only cookie, with its
    flags, out of scripts' reach and not in the page."""
    jar = br.cookies()
    eq([c["name"] for c in jar], ["__Host-custos"], "the browser's cookies")
    c = jar[0]
    check(c["value"].startswith("cus_"), "the cookie is no session", c["value"][:4])
    eq((c["secure"], c["httpOnly"], c["sameSite"], c["path"], c["domain"]),
       (True, True, "Strict", "/", "127.0.0.1"), "the cookie's flags")
    eq(br.eval("document.cookie"), "", "document.cookie")
    check(c["value"] not in br.page["html"], "the session token is in the page")


def csp_blocks(br, where):
    """An inline script an attacker slips into the page is blocked by the CSP."""
    r = br.inject_script("window.__custos_ran = true;")
    check(r["ran"] is False, "an inline script without the nonce ran on " + where)
    check(any(v["directive"].startswith("script-src") for v in r["violations"]),
          "no securitypolicyviolation for the inline script on " + where, r["violations"])


def cross_site_post(br, base, path, fields):
    """Another site's page posts a form to path with these fields (the right
    CSRF token among them, as an attacker who saw it would): SameSite=Strict
    keeps the cookie off, so it lands on the sign-in form."""
    inputs = "".join('<input name="%s" value="%s">' % (html.escape(k, quote=True),
                                                       html.escape(v, quote=True))
                     for k, v in fields)
    br.open_html('<form method="post" action="%s%s">%s<button type="submit">Win a prize'
                 '</button></form>' % (base, path, inputs))
    br.click("button[type=submit]")
    br.expect(200, "Sign in", path="/staff/sign-in")


@case("browser: chromium signs a clinician in with a one-time code, searches the care list, "
      "opens a record, acknowledges a task; forged CSRF and cross-site posts refused, CSP blocks "
      "inline script, "
      "cookie unreadable, markup escaped, off-list refusal audited, sign-out and back show "
      "nothing; axe clean on every page")
def t_browser_console(ctx):
    cx, st, t1 = setup(ctx)
    sid, other = st.subjects["mine"]["id"], st.subjects["other"]["id"]
    state = lambda: [x[1] for x in sql(cx.db, "SELECT id, state FROM tasks") if x[0] == t1][0]
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        with Driver(cx.binary, base) as br:
            flow(cx, st, t1, sid, other, state, base, br)


def flow(cx, st, t1, sid, other, state, base, br):
    """The user's path through the console, in one browser tab."""
    # signed out, the record's URL shows the sign-in form
    br.goto("/staff/patients/" + sid)
    br.expect(200, "Sign in", path="/staff/sign-in")
    check(NHS_SPACED not in br.page["text"] and "Ada" not in br.page["text"],
          "the sign-in page shows the record")
    br.axe_clean("the sign-in form")
    eq(br.cookies(), [], "cookies before signing in")

    # password, then the one-time code the account needs
    br.fill("#username", "dr.jones")
    br.fill("#password", PASSWORD)
    br.click("form[action='sign-in'] button[type=submit]")
    br.expect(401, "Enter the 6-digit code from your authenticator app", path="/staff/sign-in")
    br.axe_clean("the sign-in form asking for the code")
    eq(br.cookies(), [], "a cookie before the code")
    good = st.code_for("dr.jones")
    br.fill("#password", PASSWORD)
    br.fill("#code", "%06d" % ((int(good) + 1) % 1000000))
    br.click("form[action='sign-in'] button[type=submit]")
    br.expect(401, "The username, password or code is wrong", path="/staff/sign-in")
    eq(br.cookies(), [], "a cookie for a wrong code")
    br.fill("#username", "dr.jones")
    br.fill("#password", PASSWORD)
    br.fill("#code", good)
    br.click("form[action='sign-in'] button[type=submit]")
    br.expect(200, "Urgent tasks", path="/staff")
    br.axe_clean("the home page")

    # the session cookie as the browser holds it, and out of scripts' reach
    cookie_safe(br)

    # the care list: search by NHS number, markup as text
    br.click("a[href$='staff/patients']")
    br.expect(200, NHS_SPACED, "14 March 1971", path="/staff/patients")
    check("Bertram" not in br.page["text"], "a patient off the list is listed")
    escaped(br, "the care list")
    br.axe_clean("the care list")
    br.fill("#nhs_number", NHS_OTHER)
    br.click("form[action='patients'] button[type=submit]")
    br.expect(200, "No patient on your list", path="/staff/patients")
    check("Bertram" not in br.page["text"] and NHS_SPACED not in br.page["text"],
          "the search shows a patient off the list", br.page["text"][:3000])
    br.axe_clean("the care list searched, nobody found")
    br.fill("#nhs_number", NHS_SPACED)
    br.click("form[action='patients'] button[type=submit]")
    br.expect(200, NHS_SPACED, path="/staff/patients")
    check("nhs_number" not in br.page["url"] and "943" not in br.page["url"],
          "the NHS number searched is in the URL", br.page["url"])
    escaped(br, "the search's result")
    br.axe_clean("the care list searched")

    # the record
    br.click("a[href$='patients/%s']" % sid)
    br.expect(200, "Allergy notes", "penicillin", "Open tasks", path="/staff/patients/" + sid)
    escaped(br, "the record")
    br.axe_clean("the patient's record")

    # an inline script an attacker slips in is blocked by the CSP
    csp_blocks(br, "the record")

    # the acknowledge button's form with a forged, then no, CSRF token
    ack = "form[action$='tasks/%s/acknowledge']" % t1
    for forged, what in (("'A'.repeat(43)", "a forged token"),
                         (None, "no token")):
        if forged:
            br.eval("document.querySelector(\"%s input[name=csrf_token]\").value = %s; 1"
                    % (ack, forged))
        else:
            br.eval("document.querySelector(\"%s input[name=csrf_token]\").remove(); 1" % ack)
        br.click(ack + " button[type=submit]")
        br.expect(403, "Nothing was changed")
        eq(state(), "open", "the task after a post with " + what)
        br.axe_clean("the refusal of " + what)
        br.goto("/staff/patients/" + sid)
        br.expect(200, "Open tasks", "Acknowledge", path="/staff/patients/" + sid)
    br.click(ack + " button[type=submit]")
    check(br.page["status"] == 200 and "/staff" in br.page["url"],
          "acknowledging did not land on a console page", br.page["text"][:3000])
    eq(state(), "acknowledged", "the task after pressing Acknowledge")
    br.goto("/staff/tasks")
    br.expect(200, "Acknowledged by dr.jones", path="/staff/tasks")
    br.axe_clean("the task list")

    # another site's page posts the Mark as done form, even with the right
    # token: SameSite=Strict keeps the cookie off, so nothing changes
    token = br.eval("document.querySelector('input[name=csrf_token]').value")
    check(token and len(token) >= 43, "no CSRF token on the task list", token)
    cross_site_post(br, base, "/staff/tasks/%s/done" % t1, [("csrf_token", token)])
    eq(state(), "acknowledged", "the task after another site's post")

    # a patient off the care list: refused, nothing of the record, audited
    br.goto("/staff/patients/" + other)
    br.expect(403, "You cannot see this record", path="/staff/patients/" + other)
    check("Bertram" not in br.page["html"] and "9434765870" not in br.page["html"].replace(" ", ""),
          "the refusal shows the record", br.page["text"][:3000])
    br.axe_clean("the refusal page")
    evs = cx.ok("audit", "show", "--subject", other, "--json").json_lines()
    check(any(e["outcome"] == "denied" and e["actor"] == "dr.jones" and e["action"] == "read"
              and e.get("rule") == "not-on-care-list" for e in evs),
          "custos audit show has no refusal of dr.jones for the patient", evs)

    # sign out: the cookie goes, and back / the URL show nothing of the record
    br.goto("/staff/patients/" + sid)
    br.expect(200, "Allergy notes", path="/staff/patients/" + sid)
    br.click("form[action$='sign-out'] button[type=submit]")
    check(br.page["status"] == 200, "signing out", br.page["text"][:3000])
    eq([c["name"] for c in br.cookies()], [], "cookies after signing out")
    br.back()
    for what in ("the back button", "the record's URL"):
        check("Allergy" not in br.page["text"] and "penicillin" not in br.page["html"]
              and NHS_SPACED not in br.page["text"] and "Ada" not in br.page["text"],
              "%s after signing out shows the record: %s" % (what, br.page["url"]),
              br.page["text"][:3000])
        br.expect(200, "Sign in", path="/staff/sign-in")
        br.goto("/staff/patients/" + sid)
