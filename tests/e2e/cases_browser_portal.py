"""The patient portal in a real browser: Debian's chromium driven by
puppeteer-core (browser.Driver), as a patient invited by their care team
uses it. Staff issue an invitation and a PHQ-9 link by CLI; the browser opens
the invitation, sets a password, signs in (the cookie's flags read from the
browser, out of scripts' reach), opens "your data" and "who looked",
downloads the JSON package (the file arrives, parses and names the patient),
answers the questionnaire it was sent (stored and scored, as the API shows),
and signs out, after which the portal's pages show only the sign-in form.
axe-core (WCAG 2.2 AA) clean on every page visited. Runs on both backends."""

import json
import os

from harness import registry, check, eq
from fixtures import ROOT, populated
from http_client import Server, Staff
from browser import Driver
from cases_portal import GOOD
from cases_qform import PHQ9, LEVELS

CASES, case = registry()

# The answers given: 1+1+0+2+0+1+0+0+0 = 5 (mild), item 9 not urgent.
ANSWERS = [1, 1, 0, 2, 0, 1, 0, 0, 0]
SUBMIT = "main form:not([action$='sign-out']) button[type=submit]"


@case("browser portal: chromium opens a patient's invitation, sets a password, signs in (the "
      "cookie's flags), sees their data and who looked, downloads the JSON package, answers "
      "the PHQ-9 it was sent (stored and scored), signs out; axe clean on every page")
def t_browser_portal(ctx):
    cx, ids = populated(ctx)
    cx.ok("questionnaire", "add", os.path.join(ROOT, "questionnaires", "phq-9.json"))
    s1 = ids["s1"]
    person = cx.okj("subject", "show", s1)
    inv = cx.okj("portal", "invite", s1)
    cx.okj("questionnaire", "send", s1, PHQ9, "--purpose", "direct_care")
    st = Staff(cx)
    st.controllers["c"] = ids["ctl1"]
    st.user("dpo1", "c", "dpo")
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        with Driver(cx.binary, base) as br:
            flow(br, inv, person)
        # the answers as staff see them through the API: stored and scored
        r = srv.call("GET", "/v1/subjects/%s/questionnaire-responses" % s1,
                     token=st.signin(srv, "dpo1"))
        eq(r.status, 200, "the responses through the API")
        got = r.json()
        got = got["responses"] if isinstance(got, dict) else got
        eq([(x["total"], x["band"], x["via"]) for x in got], [(5, "mild", "subject")],
           "the portal's answers, scored by custos")
    cx.ok("verify")


def shots(br, name):
    """CUSTOS_SCREENSHOTS=DIR: the page as it stands, on a desktop (1280 px)
    and a phone (375 px)."""
    for width in (1280, 375):
        br.screenshot("browser-" + name, width=width, height=800)


def visit(br, link, path, texts, what, shot):
    """Follows the link (a CSS selector) to the portal page at path, which
    shows texts; axe-core finds nothing on it; its screenshots kept."""
    br.click(link)
    br.expect(200, *texts, path=path)
    br.axe_clean(what)
    shots(br, shot)


def flow(br, inv, person):
    # the invitation: the page names no one; the password is set
    br.goto(inv["path"])
    br.expect(200, "Set up your patient portal account")
    check(person["name"] not in br.page["text"], "the invitation names its patient")
    br.axe_clean("the invitation")
    br.fill("#password", GOOD)
    br.fill("#confirm", GOOD)
    br.click("form button[type=submit]")
    br.expect(200, "Your account is ready")
    br.axe_clean("the account made")
    name = br.eval("document.querySelector('.nhsuk-panel strong').textContent")
    check(name and len(name) == 14, "no sign-in name shown", br.page["text"][:2000])
    eq(br.cookies(), [], "a cookie before signing in")

    # signed out, a portal page is the sign-in form
    br.goto("/portal/data")
    br.expect(200, "Sign in", path="/portal/sign-in")
    br.axe_clean("the sign-in form")
    br.fill("#name", name)
    br.fill("#password", GOOD)
    br.click("form[action='sign-in'] button[type=submit]")
    br.expect(200, "Your patient portal", name, path="/portal")
    br.axe_clean("the portal's home")
    # the navigation: the pages a patient comes back to, on one line at 1000 px
    eq(br.eval("(() => { const t = [...document.querySelectorAll("
               "'header .nhsuk-header__navigation-item')].map((e) => e.offsetTop); "
               "return [t.length, new Set(t).size]; })()"), [6, 1],
       "the navigation's links, and the lines they take")
    shots(br, "portal-home")

    # the cookie as the browser holds it, and out of scripts' reach
    jar = br.cookies()
    eq([c["name"] for c in jar], ["__Host-custos-portal"], "the browser's cookies")
    c = jar[0]
    eq((c["secure"], c["httpOnly"], c["sameSite"], c["path"], c["domain"]),
       (True, True, "Strict", "/", "127.0.0.1"), "the cookie's flags")
    eq(br.eval("document.cookie"), "", "document.cookie")
    check(c["value"] not in br.page["html"], "the session token is in the page")

    # your data, who looked
    visit(br, "header a[href$='portal/data']", "/portal/data", ("Your data", person["name"]),
          "your data", "portal-data")
    visit(br, "header a[href$='portal/access']", "/portal/access",
          ("Who has looked at your record", "Look at your data on our patient portal"),
          "who looked", "portal-access")

    # consent and rights, from the navigation
    visit(br, "header a[href$='portal/consents']", "/portal/consents",
          ("Your consent", "Give consent"), "your consent", "portal-consents")
    visit(br, "header a[href$='portal/requests']", "/portal/requests",
          ("Your rights", "Send your request"), "your rights", "portal-requests")

    # cookies and downloading: from the home page, no longer in the navigation
    br.click("header a[href$='portal']")
    br.expect(200, "Your patient portal", path="/portal")
    check(not br.eval("document.querySelector(\"header a[href$='portal/download'], "
                      "header a[href$='portal/cookies']\") !== null"),
          "the download or cookies page in the navigation")
    visit(br, "main a[href$='portal/cookies']", "/portal/cookies", ("Cookies", "Cookies we use"),
          "the cookies page", "portal-cookies")
    br.click("header a[href$='portal']")
    br.expect(200, "Your patient portal", path="/portal")

    # the JSON package, downloaded
    visit(br, "main a[href$='portal/download']", "/portal/download", ("Download your data",),
          "the download page", "portal-download")
    filename, text = br.download("a[href$='download?format=json']")
    eq(filename, "your-data.json", "the file's name")
    pkg = json.loads(text)
    check(person["name"] in json.dumps(pkg), "the package does not name the patient", text[:500])
    br.expect(200, "Download your data", path="/portal/download")

    # the questionnaire it was sent
    visit(br, "header a[href$='portal/questionnaires']", "/portal/questionnaires",
          ("Questionnaires you were sent", "Patient Health Questionnaire (PHQ-9)"),
          "the questionnaires", "portal-questionnaires")
    br.click("main a[href*='portal/questionnaires/']")
    br.expect(200, "Send your answers")
    br.axe_clean("the questionnaire")
    for i, level in enumerate(ANSWERS):
        sel = "input[name='a.phq9-%d'][value='%s']" % (i + 1, LEVELS[level])
        eq(br.eval("(() => { const r = document.querySelector(\"%s\"); r.click(); "
                   "return r.checked; })()" % sel), True, "question %d answered" % (i + 1))
    br.click(SUBMIT)
    br.expect(200, "Your answers have been sent")
    check("call 999" not in br.page["text"], "urgent help offered for a mild answer")
    br.axe_clean("the answers sent")
    br.click("main a[href$='portal/questionnaires']")
    br.expect(200, "You have no questionnaires to answer", path="/portal/questionnaires")

    # sign out: the cookie goes, and the pages show only the sign-in form
    br.click("form[action$='sign-out'] button[type=submit]")
    br.expect(200, "Sign in", path="/portal/sign-in")
    eq(br.cookies(), [], "cookies after signing out")
    br.goto("/portal/data")
    br.expect(200, "Sign in", path="/portal/sign-in")
    check(person["name"] not in br.page["text"], "your data after signing out")
