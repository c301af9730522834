"""A questionnaire answered in a browser, as a patient does it: the link a
clinician sends opens an accessible form (no sign-in, no script, axe-core
clean in chromium), wrong or missing answers come back by their fields with
nothing stored, the answers are scored by custos, PHQ-9 item 9 raises an
urgent task at once, and the link dies: refused after use, after expiry and
when forged. Runs on both backends."""

import json
import os
import re
import secrets
import time
import urllib.parse

from harness import registry, check, eq, sql
from fixtures import ROOT, populated
from http_client import Server, audit_seq, events_after
from browser import no_violations, screenshot
from cases_erasure import test_clock
from cases_sar import validate_fhir

CASES, case = registry()

PHQ9 = "urn:custos:questionnaire:phq-9"
LEVELS = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
FORM = "application/x-www-form-urlencoded"


def setup(ctx):
    cx, ids = populated(ctx)
    cx.ok("questionnaire", "add", os.path.join(ROOT, "questionnaires", "phq-9.json"))
    return cx, ids


def send(cx, sid, days="14", env=None):
    return cx.okj("questionnaire", "send", sid, PHQ9, "--purpose", "direct_care", "--days", days,
                  env=env)


def form(levels, extra=()):
    """The PHQ-9 form as a browser posts it: item i at levels[i-1] (None: left empty)."""
    fields = [("a.phq9-%d" % (i + 1), LEVELS[w]) for i, w in enumerate(levels) if w is not None]
    return urllib.parse.urlencode(fields + list(extra))


def stored(cx):
    return sql(cx.db, "SELECT count(*) FROM items WHERE field = 'questionnaire_response'")[0][0]


def tasks(cx, ctl):
    return cx.okj("tasks", "list", "--controller", ctl)["tasks"]


@case("questionnaire form: the link opens an accessible form without sign-in; a missing or "
      "forged answer comes back by its field with nothing stored; the answers are scored, "
      "item 9 raises an urgent task at once; the link is then refused")
def t_form(ctx):
    cx, ids = setup(ctx)
    s1 = ids["s1"]
    person = cx.okj("subject", "show", s1)
    link = send(cx, s1)
    path = link["path"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        r = srv.call("GET", path)
        eq(r.status, 200, "the form")
        eq(r.header("content-type"), "text/html; charset=utf-8", "the form's type")
        page = r.text
        check('<form method="post" action="%s" novalidate>' % link["token"] in page,
              "the form does not post back to its link", page[:3000])
        eq(page.count('type="radio"'), 40, "nine questions of four answers and the tenth")
        check("<script" not in page.lower(), "the form has a script")
        check(person["name"] not in page and s1 not in page, "the form names its patient")
        no_violations(cx.binary, d, "form.html", page, base)
        screenshot(d, "questionnaire-form", page, base, height=3200)

        # question 2 left empty and question 4 forged: the form again, nothing stored
        seq = audit_seq(cx.db)
        body = form([0, None, 1, 0, 0, 0, 0, 0, 2], [("a.phq9-4", "LA0000-0")])
        r = srv.call("POST", path, body, ctype=FORM)
        eq(r.status, 400, "a form with errors")
        check("There is a problem" in r.text, "no error summary", r.text[:2000])
        check('<a href="#q-phq9-2">Question 2: select an answer</a>' in r.text,
              "the summary does not link question 2", r.text[:3000])
        check('id="q-phq9-2-error"' in r.text, "no message by question 2")
        check("<title>Error: " in r.text, "the title does not say Error")
        check('value="LA6570-1" checked' in r.text, "question 9's answer was not kept")
        eq(stored(cx), 0, "a response stored from a form with errors")
        eq(events_after(cx.db, seq), [], "a form with errors was recorded")
        no_violations(cx.binary, d, "form-errors.html", r.text, base)
        screenshot(d, "questionnaire-form-errors", r.text, base, height=1600)

        # the answers: 2+2+2+1+1+1+0+0+2 = 11, and item 9 above 0
        seq = audit_seq(cx.db)
        r = srv.call("POST", path, form([2, 2, 2, 1, 1, 1, 0, 0, 2]), ctype=FORM)
        eq(r.status, 200, "the answers sent")
        check("Your answers have been sent" in r.text, "no confirmation", r.text[:2000])
        check("call 999" in r.text, "no help offered after an urgent answer", r.text[:3000])
        check(not re.search(r"\b11\b", r.text) and "moderate" not in r.text.lower(),
              "the confirmation shows the score", r.text)
        no_violations(cx.binary, d, "sent.html", r.text, base)
        screenshot(d, "questionnaire-sent", r.text, base)
        eq(stored(cx), 1, "one response stored")
        recorded = events_after(cx.db, seq)
        open_tasks = [t for t in tasks(cx, ids["ctl1"]) if t["state"] == "open"]
        eq([(t["reason"], t["kind"], t["subject"]) for t in open_tasks],
           [("phq9_item9", "urgent", s1)], "the urgent task, at once")
        # one event for the submission, naming the task it raised
        eq([(e["action"], e["subject"], e["outcome"], e["detail"]) for e in recorded],
           [("questionnaire.submit", s1, "ok", "task.raise " + open_tasks[0]["id"])],
           "one submission, one event, naming its task")
        cx.ok("audit", "verify")
        listed = cx.okj("questionnaire", "responses", s1)
        got = listed["responses"] if isinstance(listed, dict) else listed
        eq([(x["total"], x["band"], x["via"]) for x in got], [(11, "moderate", "subject")],
           "scored by custos from the form")

        # the link is dead: the page and the post say so, and nothing more is stored
        seq = audit_seq(cx.db)
        r = srv.call("GET", path)
        eq(r.status, 410, "a used link")
        check("already been answered" in r.text, "the used page", r.text[:2000])
        no_violations(cx.binary, d, "used.html", r.text, base)
        r = srv.call("POST", path, form([0] * 9), ctype=FORM)
        eq(r.status, 410, "a used link posted again")
        eq(stored(cx), 1, "a second response stored")
        # forged tokens, and a token of another kind
        for forged in ("cuq_" + secrets.token_urlsafe(32)[:43], "cuq_x",
                       "cuq_" + link["token"][4:-1] + ("A" if link["token"][-1] != "A" else "B")):
            r = srv.call("GET", "/q/" + forged)
            eq(r.status, 404, "a forged token " + forged)
            check("Page not found" in r.text, "the unknown-link page", r.text[:1000])
            r = srv.call("POST", "/q/" + forged, form([0] * 9), ctype=FORM)
            eq(r.status, 404, "a forged token posted")
        r = srv.call("GET", "/q/cuu_" + link["token"][4:])
        eq(r.status, 404, "another kind of token")
        # not a form
        link2 = send(cx, s1)
        r = srv.call("POST", link2["path"], '{"item": []}', ctype="application/json")
        eq(r.status, 415, "JSON to the form")
        r = srv.call("POST", link2["path"], "a.phq9-1=%ZZ", ctype=FORM)
        eq(r.status, 400, "a malformed form")
        eq(stored(cx), 1, "a malformed post stored something")
        eq([e["action"] for e in events_after(cx.db, seq)], ["questionnaire.send"],
           "refused posts were recorded")

        # the clinician acknowledges the task; a later calm answer does not close it
        task = open_tasks[0]["id"]
        eq(cx.okj("tasks", "ack", task)["state"], "acknowledged", "the task acknowledged")
        r = srv.call("POST", link2["path"], form([0, 1, 0, 1, 0, 0, 0, 0, 0]), ctype=FORM)
        eq(r.status, 200, "the second PHQ-9")
        check("call 999" not in r.text, "help offered after calm answers")
        states = {t["id"]: t["state"] for t in tasks(cx, ids["ctl1"])}
        eq(states, {task: "acknowledged"}, "the tasks after a calm answer")

    # GAD-7 entered by staff at the start and the end; the episode's outcome
    cx.ok("questionnaire", "add", os.path.join(ROOT, "questionnaires", "gad-7.json"))
    for levels in ([2, 1, 1, 2, 1, 1, 1], [1, 0, 1, 0, 1, 0, 0]):
        doc = {"resourceType": "QuestionnaireResponse",
               "questionnaire": "urn:custos:questionnaire:gad-7|1", "status": "completed",
               "item": [{"linkId": "gad7-%d" % (i + 1),
                         "answer": [{"valueCoding": {"code": LEVELS[w]}}]}
                        for i, w in enumerate(levels)]}
        f = os.path.join(d, "gad7.json")
        with open(f, "w") as fh:
            json.dump(doc, fh)
        cx.ok("questionnaire", "enter", s1, "--answers", f, "--purpose", "direct_care")
    o = cx.okj("questionnaire", "outcome", s1)
    eq((o["phq9"], o["gad7"]), ({"first": 11, "last": 2}, {"first": 9, "last": 3}),
       "the first and last totals")
    eq(o["outcome"]["finished"], "no", "an episode not ended is not finished")
    eq(o["outcome"]["recovery"], "not applicable", "recovery before the episode ends")
    o = cx.okj("questionnaire", "outcome", s1, "--sessions", "6", "--ended")
    eq(o["outcome"], {"finished": "yes", "paired": "yes", "case_start": "yes",
                      "case_end": "no", "recovery": "yes", "reliable_improvement": "yes",
                      "reliable_deterioration": "no", "reliable_recovery": "yes"},
       "the outcome of the episode")
    text = cx.ok("questionnaire", "outcome", s1, "--sessions", "6", "--ended").out
    check("PHQ-9  first 11  last 2" in text and "recovery: yes" in text, "the outcome in words",
          text)
    exports(cx, s1)
    cx.fails(2, "questionnaire", "outcome", s1, "--since", "2026-02-30")
    cx.fails(2, "questionnaire", "responses", s1, "--ended")


def exports(cx, s1):
    """The access package: each response a QuestionnaireResponse with the
    Observation of its total derived from it, valid FHIR R4; the letter in
    words; portability carries the answers the patient gave."""
    bundle = json.loads(cx.ok("sar", s1, "--format", "fhir").out)
    validate_fhir(cx, bundle)
    res = [e["resource"] for e in bundle["entry"]]
    qrs = {r["id"]: r for r in res if r["resourceType"] == "QuestionnaireResponse"}
    eq(sorted(r["questionnaire"] for r in qrs.values()),
       ["urn:custos:questionnaire:gad-7|1"] * 2 + [PHQ9 + "|1"] * 2, "the responses")
    for r in qrs.values():
        eq(r["subject"]["reference"], "urn:uuid:" + s1, "a response's subject")
    obs = [r for r in res if r["resourceType"] == "Observation" and "derivedFrom" in r]
    got = sorted((o["code"]["coding"][0]["system"], o["code"]["coding"][0]["code"],
                  o["valueInteger"]) for o in obs)
    eq(got, [("http://loinc.org", "44261-6", 2), ("http://loinc.org", "44261-6", 11),
             ("http://loinc.org", "70274-6", 3), ("http://loinc.org", "70274-6", 9)],
       "the derived totals (LOINC PHQ-9 44261-6, GAD-7 70274-6)")
    for o in obs:
        ref = o["derivedFrom"][0]["reference"]
        check(ref.startswith("urn:uuid:") and ref[9:] in qrs, "derivedFrom names no response",
              o)
        eq(o["category"][0]["coding"][0]["code"], "survey", "an Observation's category")
    item9 = [i for r in qrs.values() for i in r.get("item", []) if i["linkId"] == "phq9-9"]
    eq(sorted(i["answer"][0]["valueCoding"]["code"] for i in item9), ["LA6568-5", "LA6570-1"],
       "the answers to item 9 in the package")
    letter = cx.ok("sar", s1, "--format", "html").out
    check("Your answers to a questionnaire" in letter and "Score 11: Moderate" in letter,
          "the letter's response in words", letter[letter.find("questionnaire") - 200:][:2000])
    check("Little interest or pleasure in doing things: More than half the days" in letter,
          "the letter's answers in words")
    check("resourceType" not in letter and "LA6570-1" not in letter, "the letter shows JSON")
    # collected for direct care (a public task, not consent or contract): not portable
    port = json.loads(cx.ok("sar", s1, "--portable", "--format", "fhir").out)
    validate_fhir(cx, port)
    eq([e for e in port["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"],
       [], "responses under a public task in a portability export")


@case("questionnaire form: a link past its expiry is refused (page and post), nothing stored")
def t_expired(ctx):
    cx, ids = setup(ctx)
    test_clock(cx)
    link = send(cx, ids["s1"], days="1")
    later = {"CUSTOS_FAKE_NOW": str(int(time.time()) + 2 * 86400)}
    with Server(cx, env=later) as srv:
        r = srv.call("GET", link["path"])
        eq(r.status, 410, "an expired link")
        check("This link has expired" in r.text, "the expired page", r.text[:2000])
        r = srv.call("POST", link["path"], form([0] * 9), ctype=FORM)
        eq(r.status, 410, "an expired link posted")
    eq(stored(cx), 0, "an expired link stored a response")
    with Server(cx) as srv:
        r = srv.call("POST", link["path"], form([0] * 9), ctype=FORM)
        eq(r.status, 200, "the same link before its expiry")
    eq(stored(cx), 1, "the response before expiry")


@case("questionnaire answers and portability: answers the patient gave through a link are in "
      "the portability export where a consent purpose covers health; answers staff entered "
      "never are")
def t_portable(ctx):
    from fixtures import TEST_POLICY, new_store, doc, PERSON1
    with open(TEST_POLICY, encoding="utf-8") as f:
        policy = json.load(f)
    policy["purposes"].append({
        "id": "self_report", "description": "Answers you choose to send us about how you are",
        "basis": "a", "special_condition": "a", "categories": ["health"],
        "subject_kinds": ["patient"], "consent_required": True,
        "required_for_service": False, "retention": "records"})
    d = ctx.tmp.make()
    path = os.path.join(d, "policy.json")
    with open(path, "w") as f:
        json.dump(policy, f)
    cx = new_store(ctx)
    ctl = cx.ok("controller", "add", "--name", "Self Report Clinic", "--policy", path).out.strip()
    sid = cx.ok("subject", "add", "--controller", ctl, "--kind", "patient",
                stdin=doc(PERSON1)).out.strip()
    cx.ok("questionnaire", "add", os.path.join(ROOT, "questionnaires", "phq-9.json"))
    cx.ok("--purpose", "self_report", "consent", "give", sid, "self_report", "--method",
          "web_form")
    link = cx.okj("questionnaire", "send", sid, PHQ9, "--purpose", "self_report")
    with Server(cx) as srv:
        r = srv.call("POST", link["path"], form([1, 1, 0, 0, 0, 0, 0, 0, 0]), ctype=FORM)
        eq(r.status, 200, "the answers sent")
    staff = {"resourceType": "QuestionnaireResponse", "questionnaire": PHQ9 + "|1",
             "status": "completed",
             "item": [{"linkId": "phq9-%d" % (i + 1),
                       "answer": [{"valueCoding": {"code": LEVELS[0]}}]} for i in range(9)]}
    f = os.path.join(d, "staff.json")
    with open(f, "w") as fh:
        json.dump(staff, fh)
    cx.ok("questionnaire", "enter", sid, "--answers", f, "--purpose", "direct_care")
    port = json.loads(cx.ok("sar", sid, "--portable", "--format", "fhir").out)
    validate_fhir(cx, port)
    qrs = [e["resource"] for e in port["entry"]
           if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    eq(len(qrs), 1, "the responses in the portability export (the patient's, not staff's)")
    eq(sorted(i["answer"][0]["valueCoding"]["code"] for i in qrs[0]["item"])[-2:],
       [LEVELS[1], LEVELS[1]], "the patient's own answers")
    full = json.loads(cx.ok("sar", sid, "--format", "fhir").out)
    eq(len([e for e in full["entry"] if e["resource"]["resourceType"] ==
            "QuestionnaireResponse"]), 2, "both responses in the access package")


@case("questionnaire form on a follow-up pathway: the link marks the occurrence sent, the "
      "answers mark it answered, and the pathway's own review rule raises a task")
def t_pathway(ctx):
    from cases_pathways import at, PW, QN
    cx, ids = populated(ctx)
    test_clock(cx)
    cx.ok("questionnaire", "add", QN)
    cx.ok("pathway", "add", PW)
    s1, ctl = ids["s1"], ids["ctl1"]
    cx.ok("pathway", "enrol", s1, "psfu-example", "--start", "2028-01-31", "--purpose",
          "direct_care", env=at("2028-01-31"))
    due = lambda day: cx.okj("tasks", "due", "--controller", ctl, env=at(day))["due"]  # noqa: E731
    eq([(x["kind"], x["n"]) for x in due("2028-03-01")], [("due", 1)], "due on the day")
    link = cx.okj("questionnaire", "send", s1, "urn:custos:questionnaire:psfu-example",
                  "--purpose", "direct_care", env=at("2028-03-01"))
    eq(sql(cx.db, "SELECT n, state FROM pathway_occurrences ORDER BY n")[0], (1, "sent"),
       "the occurrence once the link is sent")
    eq(due("2028-03-02"), [], "a sent occurrence within its window is not due")
    d = ctx.tmp.make()
    with Server(cx, env=at("2028-03-03")) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        r = srv.call("GET", link["path"])
        eq(r.status, 200, "the follow-up form")
        check("<legend" in r.text and "nhsuk-fieldset__heading" in r.text,
              "the group of symptoms as a fieldset", r.text[:3000])
        no_violations(cx.binary, d, "psfu.html", r.text, base)
        screenshot(d, "questionnaire-psfu", r.text, base, height=2400)
        body = urllib.parse.urlencode([
            ("a.psfu-pain", "moderate"), ("a.psfu-swelling", "mild"),
            ("a.psfu-breath", "moderate"), ("a.psfu-fatigue", "moderate"),
            ("a.psfu-appetite", "none"), ("a.psfu-bleeding", "no"),
            ("a.psfu-bleeding-detail", "answered though bleeding is no: dropped"),
            ("a.psfu-contact", "no")])
        r = srv.call("POST", link["path"], body, ctype=FORM)
        eq(r.status, 200, "the follow-up answers sent")
    eq(sql(cx.db, "SELECT n, state FROM pathway_occurrences ORDER BY n")[0], (1, "answered"),
       "the occurrence once answered")
    got = cx.okj("questionnaire", "responses", s1)["responses"]
    eq([(x["total"], sorted(f["rule"] for f in x["flags"])) for x in got],
       [(7, ["high-symptom-score", "psfu-score"])],
       "scored 7: the questionnaire's rule and the pathway's")
    open_tasks = [t for t in tasks(cx, ctl) if t["state"] == "open"]
    eq(sorted((t["reason"], t["kind"]) for t in open_tasks),
       [("score_review", "review"), ("score_review", "review")], "two review tasks")
    eq([x["kind"] for x in due("2028-03-20")], ["flagged", "flagged"],
       "answered: nothing overdue, the tasks flagged")
