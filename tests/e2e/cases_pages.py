"""The pages and documents custos writes for people, in a real browser:
every one passes axe-core's WCAG 2.2 AA rules in headless chromium, and none
carries markup from the data it shows.

CUSTOS_SCREENSHOTS=DIR keeps a picture of each page there to look at.
"""
import json

from harness import registry, check
from http_client import Server, expect_status
from browser import axe, no_violations, screenshot
from cases_http_policy import healthya, add_subject
from cases_sar import letter_store, refused_read, sar

CASES, case = registry()

HOSTILE = {"name": "<script>alert('n')</script> O'Brien & \"Co\"",
           "email": "hostile@example.org",
           "items": [{"category": "online_identifier", "field": "ip_address",
                      "value": "<img src=x onerror=alert(1)>"}]}


def no_markup(page, what):
    low = page.lower()
    check("<script" not in low and "<img" not in low and "onerror=" not in low,
          "%s carries markup from its data" % what, page[:2000])


@case("pages pass axe-core (WCAG 2.2 AA) in chromium: the privacy notice, the unsubscribe "
      "page before and after the button, and the access letter; none carries markup from "
      "the data it shows")
def t_pages_axe(ctx):
    cx, st = healthya(ctx)
    sid = add_subject(cx, st, "hostile", HOSTILE, "web_user", "service_contract")
    cx.ok("--purpose", "service_contract", "consent", "give", sid, "newsletters", "--method",
          "web_form")
    path = cx.okj("consent", "link", sid, "newsletters")["path"]
    d = ctx.tmp.make()
    # the check itself finds a field without a label
    found = axe(cx.binary, d, "broken.html", "<!DOCTYPE html><html lang=\"en\"><head><title>"
                "x</title></head><body><main><h1>x</h1><input type=\"text\"></main></body>"
                "</html>")
    check([v for v in found if v[0] == "label"], "axe-core misses an unlabelled field", found)
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        notice = "/v1/controllers/%s/notice?format=html" % st.controllers["H"]
        r = srv.call("GET", notice)
        expect_status(r, 200, "the HTML notice")
        no_markup(r.text, "the notice")
        no_violations(cx.binary, d, "notice.html", r.text, base)
        screenshot(d, "notice", r.text, base)
        r = srv.call("GET", path)
        expect_status(r, 200, "the unsubscribe page")
        no_markup(r.text, "the unsubscribe page")
        check(HOSTILE["name"] not in r.text, "the unsubscribe page names the subject")
        no_violations(cx.binary, d, "unsubscribe.html", r.text, base)
        screenshot(d, "unsubscribe", r.text, base)
        r = srv.call("POST", path, "", ctype="application/x-www-form-urlencoded")
        expect_status(r, 200, "the unsubscribe button")
        no_violations(cx.binary, d, "unsubscribed.html", r.text, base)
    # the access letter (a document a patient keeps)
    cx2, st2 = letter_store(ctx)
    cx2.ok("--purpose", "direct_care", "subject", "add-items", st2.subjects["ann"]["id"],
           stdin=json.dumps({"items": [{"category": "health", "field": "note",
                                        "value": "<script>alert('x')</script>"}]}))
    refused_read(cx2, st2)
    letter = sar(cx2, st2.subjects["ann"]["id"], "html")
    no_markup(letter, "the access letter")
    no_violations(cx2.binary, d, "letter.html", letter)
    screenshot(d, "letter", letter)
