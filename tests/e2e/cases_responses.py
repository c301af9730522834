"""Questionnaire links and responses, on the command line and over HTTP: a
link is made (only a keyed hash of its token stored), answered once through
its token (a second use refused, nothing more stored), answers entered on a
patient's behalf are scored with the stored questionnaire (never the total
the answers state) and stored as one sealed health item, PHQ-9 item 9
raises an urgent task; malformed responses and refused requests store
nothing; `custos verify` and `audit verify` pass, and an altered link row is
named. Runs on both backends."""

import json
import os

from harness import (registry, check, eq, sql, sql_exec, dump, diff_dumps,
                     changed_besides_audit)
from fixtures import ROOT, populated, write
from http_client import (Server, Staff, expect_status, expect_problem, audit_seq,
                         events_after)

CASES, case = registry()

PHQ9 = "urn:custos:questionnaire:phq-9"
LEVELS = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def response(levels, total=None, questionnaire=PHQ9 + "|1"):
    """A PHQ-9 QuestionnaireResponse, item i answered at levels[i-1]."""
    doc = {"resourceType": "QuestionnaireResponse", "questionnaire": questionnaire,
           "status": "completed",
           "item": [{"linkId": "phq9-%d" % (i + 1),
                     "answer": [{"valueCoding": {"system": "http://loinc.org",
                                                 "code": LEVELS[w]}}]}
                    for i, w in enumerate(levels)]}
    if total is not None:
        doc["extension"] = [{"url": "urn:custos:questionnaire:total", "valueInteger": total}]
    return doc


def stored(cx):
    return sql(cx.db, "SELECT count(*) FROM items WHERE field = 'questionnaire_response'")[0][0]


def setup_cli(ctx):
    cx, ids = populated(ctx)
    cx.ok("questionnaire", "add", os.path.join(ROOT, "questionnaires", "phq-9.json"))
    return cx, ids


@case("responses: CLI send, answered once by its token, entered by staff, listed, verified")
def t_cli(ctx):
    cx, ids = setup_cli(ctx)
    s1 = ids["s1"]
    link = cx.okj("questionnaire", "send", s1, PHQ9, "--purpose", "direct_care", "--days", "3")
    token = link["token"]
    check(token.startswith("cuq_") and len(token) == 47, "token shape", link)
    eq(link["path"], "/q/" + token, "path")
    eq((link["questionnaire"], link["version"], link["purpose"]), (PHQ9, "1", "direct_care"),
       "what the link asks")
    check(token not in repr(dump(cx.db)), "the token is stored in clear")
    eq(sql(cx.db, "SELECT url, version, purpose, used_at FROM questionnaire_links"),
       [(PHQ9, "1", "direct_care", 0)], "the link row")
    # Answered through the link: scored by custos, a submitted total compared.
    answers = write(ctx, "r.json", response([1, 1, 1, 1, 1, 0, 0, 0, 2], total=99))
    seq = audit_seq(cx.db)
    r = cx.okj("questionnaire", "submit", token, "--answers", answers)
    eq((r["complete"], r["total"], r["band"], r["total_disagrees"]),
       (True, 7, "mild", True), "the result")
    eq([(f["rule"], f["level"]) for f in r["flags"]], [("phq9-item9", "urgent")], "flags")
    raised = [e for e in events_after(cx.db, seq)]
    eq([(e["action"], e["detail"]) for e in raised],
       [("questionnaire.submit", "task.raise " + r["flags"][0]["task"])],
       "one event, naming the task it raised")
    # the listing shows it: in JSON and in words
    shown = [e for e in cx.ok("audit", "show", "--json").json_lines()
             if e["seq"] == raised[0]["seq"]]
    eq([(e["action"], e.get("detail")) for e in shown],
       [("questionnaire.submit", "task.raise " + r["flags"][0]["task"])], "audit show --json")
    check("; also task.raise " + r["flags"][0]["task"] in cx.ok("audit", "show").out,
          "audit show does not name the task raised")
    # the subject's access package: one entry, saying a task was raised
    pkg = json.loads(cx.ok("sar", s1, "--format", "json").out)
    eq([e.get("tasks_raised") for e in pkg["access_log"]
        if e["action"] in ("questionnaire.submit", "task.raise")], [1],
       "the access package's entry for the answers")
    check("Record the answers you sent to a questionnaire, and raise a clinical task about "
          "you for your care team" in cx.ok("sar", s1, "--format", "html").out,
          "the letter does not say the answers raised a task")
    eq(stored(cx), 1, "one item")
    # A second use: refused, nothing more stored or recorded.
    seq = audit_seq(cx.db)
    before = dump(cx.db)
    cx.fails(1, "questionnaire", "submit", token, "--answers", answers,
             says="has been used already")
    eq(diff_dumps(before, dump(cx.db)), "", "a second use changed the store")
    eq(events_after(cx.db, seq), [], "a second use recorded")
    # Forged or malformed tokens.
    for bad in ("cuq_" + "A" * 43, "cuu_" + token[4:], token[:-1], "nonsense"):
        cx.fails(1, "questionnaire", "submit", bad, "--answers", answers,
                 says="no such questionnaire link")
    # Entered by staff, incomplete: stored without a total.
    part = write(ctx, "part.json", response([3] * 8))
    r = cx.okj("questionnaire", "enter", s1, "--answers", part, "--purpose", "direct_care")
    eq((r["complete"], r["missing"], r["total"], r["band"]), (False, "phq9-9", None, None),
       "incomplete")
    out = cx.ok("questionnaire", "enter", s1, "--answers", write(ctx, "calm.json",
                                                                 response([0] * 9)),
                "--purpose", "direct_care").out
    check(out.startswith("stored response ") and "complete, total 0, band minimal" in out,
          "enter output", out)
    listed = cx.okj("questionnaire", "responses", s1)["responses"]
    eq([(x["via"], x["complete"], x["total"]) for x in listed],
       [("subject", True, 7), ("staff", False, None), ("staff", True, 0)], "listed")
    eq(cx.okj("questionnaire", "responses", ids["s2"])["responses"], [], "another subject")
    # The urgent task stays open after the calm answer.
    tasks = cx.okj("tasks", "list", "--controller", ids["ctl1"], "--state", "open")["tasks"]
    eq([t["reason"] for t in tasks], ["phq9_item9"], "the open task")
    # Nothing in clear; the store and the trail check.
    eq(sql(cx.db, "SELECT count(*) FROM items WHERE field = 'questionnaire_response' AND "
                  "source = 'subject'")[0][0], 1, "the link's response is the subject's")
    for (value,) in sql(cx.db, "SELECT value FROM items WHERE field = 'questionnaire_response'"):
        check(b"LA65" not in bytes(value) and b"phq9" not in bytes(value),
              "an answer stored in clear")
    cx.ok("verify")
    cx.ok("audit", "verify")


@case("responses: refusals and malformed answers store nothing")
def t_cli_refusals(ctx):
    cx, ids = setup_cli(ctx)
    s1 = ids["s1"]
    before = dump(cx.db)
    cx.fails(2, "questionnaire", "send", s1, PHQ9)  # no --purpose
    cx.fails(2, "questionnaire", "send", s1, PHQ9, "--purpose", "direct_care", "--days", "91")
    cx.fails(2, "questionnaire", "send", s1)
    cx.fails(1, "questionnaire", "send", s1, PHQ9, "--purpose", "care_administration",
             says="refused")
    cx.fails(1, "questionnaire", "send", s1, "urn:nope", "--purpose", "direct_care",
             says="no questionnaire urn:nope")
    cx.fails(1, "questionnaire", "send", s1, PHQ9, "--version", "7", "--purpose", "direct_care",
             says="no questionnaire %s version 7" % PHQ9)
    good = response([0] * 9)
    bad = [
        ({"resourceType": "Patient"}, "resourceType: must be QuestionnaireResponse"),
        (dict(good, status="amended"), "status: must be completed or in-progress"),
        (dict(good, item=[{"linkId": "phq9-1", "answer": [{"valueCoding": {"code": "x"}},
                                                          {"valueInteger": 1}]}]),
         "item[0].answer[1]: only one answer per item is taken"),
        (dict(good, item=good["item"] + [{"linkId": "phq9-77", "answer": [
            {"valueInteger": 1}]}]), "phq9-77"),
        (dict(good, item=[{"linkId": "phq9-1", "answer": [{"valueInteger": 2}]}]), "phq9-1"),
        (dict(good, questionnaire="urn:nope|1"), "no questionnaire urn:nope"),
        ("{", "not valid JSON"),
    ]
    for doc, says in bad:
        f = write(ctx, "bad.json", doc)
        cx.fails(1, "questionnaire", "enter", s1, "--answers", f, "--purpose", "direct_care",
                 says=says)
    cx.fails(2, "questionnaire", "enter", s1, "--purpose", "direct_care")
    cx.fails(2, "questionnaire", "enter", s1, "--answers", write(ctx, "g.json", good))
    diff = changed_besides_audit(before, dump(cx.db))
    check(not diff, "a refusal changed the store", diff)
    eq(stored(cx), 0, "nothing stored")


@case("responses: an altered link is refused and named by verify")
def t_tamper(ctx):
    cx, ids = setup_cli(ctx)
    token = cx.okj("questionnaire", "send", ids["s1"], PHQ9, "--purpose", "direct_care",
                   "--days", "1")["token"]
    (lid,) = sql(cx.db, "SELECT id FROM questionnaire_links")[0]
    # An insider keeps the link alive longer.
    sql_exec(cx.db, "UPDATE questionnaire_links SET expires_at = expires_at + 86400000000")
    answers = write(ctx, "r.json", response([0] * 9))
    cx.fails(1, "questionnaire", "submit", token, "--answers", answers,
             says="questionnaire_links %s has been altered" % lid)
    r = cx.run("verify")
    check(r.rc == 1 and "questionnaire_links %s: altered" % lid in r.err, "verify",
          r.describe())
    eq(stored(cx), 0, "nothing stored")
    # The operator's decision to take the rows as they stand: the link is
    # accepted again, and used once.
    cx.ok("verify", "--seal")
    cx.ok("verify")
    cx.okj("questionnaire", "submit", token, "--answers", answers)
    eq(stored(cx), 1, "stored after sealing")
    cx.fails(1, "questionnaire", "submit", token, "--answers", answers, says="used already")


def http_setup(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Questionnaire Trust")
    st.controller("B", "Other Practice")
    st.token("dpo", "A", "dpo")
    st.token("desk", "A", "care_admin")
    st.token("dpo_b", "B", "dpo")
    st.user("clare", "A", "clinician")
    st.subject("S", "A", {"name": "Hester Questionworth", "nhs_number": "943 476 5919"})
    st.care("clare", "S")
    cx.ok("questionnaire", "add", os.path.join(ROOT, "questionnaires", "phq-9.json"))
    return cx, st


@case("responses: HTTP links and responses, problems for every refusal")
def t_http(ctx):
    cx, st = http_setup(ctx)
    sid = st.subjects["S"]["id"]
    dpo = st.tokens["dpo"]["token"]
    desk = st.tokens["desk"]["token"]
    links = "/v1/subjects/%s/questionnaire-links" % sid
    resps = "/v1/subjects/%s/questionnaire-responses" % sid
    purpose = {"Custos-Purpose": "direct_care"}
    with Server(cx) as srv:
        clare = st.signin(srv, "clare")
        r = expect_status(srv.call("POST", links, {"questionnaire": PHQ9,
                                                   "purpose": "direct_care", "days": 2},
                                   token=dpo), 201, "a link")
        link = r.json()
        check(link["token"].startswith("cuq_") and link["path"] == "/q/" + link["token"],
              "the link", link)
        eq((link["questionnaire"], link["version"]), (PHQ9, "1"), "pinned version")
        check(link["expires_at"].endswith("Z"), "expiry", link)
        check(link["token"] not in repr(dump(cx.db)), "the token is stored in clear")
        r = expect_status(srv.call("POST", links, {"questionnaire": PHQ9,
                                                   "purpose": "direct_care"}, token=clare),
                          201, "a link from the clinician")
        before = dump(cx.db)
        for body, status in (({"questionnaire": PHQ9}, 400),
                             ({"questionnaire": PHQ9, "purpose": "direct_care", "days": 0}, 400),
                             ({"questionnaire": PHQ9, "purpose": "direct_care", "days": 91},
                              400),
                             ({"questionnaire": PHQ9, "purpose": "direct_care", "x": 1}, 400),
                             ({"questionnaire": "urn:nope", "purpose": "direct_care"}, 404),
                             ({"questionnaire": PHQ9, "purpose": "care_administration"}, 403)):
            expect_problem(srv.call("POST", links, body, token=dpo), status, what=repr(body))
        expect_problem(srv.call("POST", links, {"questionnaire": PHQ9, "purpose": "direct_care"},
                                token=desk), 403)
        expect_problem(srv.call("POST", links, {"questionnaire": PHQ9, "purpose": "direct_care"},
                                token=st.tokens["dpo_b"]["token"]), 404)
        expect_problem(srv.call("POST", links, "[", token=dpo), 400)
        # A response entered by the clinician.
        seq = audit_seq(cx.db)
        r = expect_status(srv.call("POST", resps, response([2, 2, 2, 2, 2, 0, 0, 0, 0], 10),
                                   token=clare, headers=purpose), 201, "a response")
        res = r.json()
        eq((res["complete"], res["total"], res["band"], res["total_disagrees"], res["flags"]),
           (True, 10, "moderate", False, []), "the result")
        eq([e["action"] for e in events_after(cx.db, seq)], ["questionnaire.enter"], "audited")
        # Malformed or refused: a problem, nothing stored.
        mid = dump(cx.db)
        for body, status in (("{", 400), ({"resourceType": "QuestionnaireResponse"}, 400),
                             (response([0] * 9, questionnaire="urn:nope"), 404),
                             (dict(response([0] * 9), item=[{"linkId": "zz", "answer": [
                                 {"valueInteger": 1}]}]), 400)):
            expect_problem(srv.call("POST", resps, body, token=clare, headers=purpose), status,
                           what=repr(body)[:60])
        expect_problem(srv.call("POST", resps, response([0] * 9), token=desk), 403)
        expect_problem(srv.call("POST", resps, response([0] * 9), token=dpo), 403)
        diff = changed_besides_audit(mid, dump(cx.db))
        check(not diff, "a refused response changed the store", diff)
        # Listed for the clinician and the DPO; not for the front desk.
        r = expect_status(srv.call("GET", resps, token=clare), 200, "the list")
        got = r.json()
        eq(got["subject"], sid, "subject")
        eq([(x["total"], x["band"], x["via"]) for x in got["responses"]],
           [(10, "moderate", "staff")], "listed")
        expect_status(srv.call("GET", resps, token=dpo), 200, "the DPO's list")
        expect_problem(srv.call("GET", resps, token=desk), 403)
        expect_problem(srv.call("PUT", resps, {}, token=dpo), 405)
        check(changed_besides_audit(before, dump(cx.db)), "the entered response was not stored")
    # The link made over HTTP is used once (the form's part, from the CLI).
    answers = write(ctx, "r.json", response([0] * 9))
    cx.okj("questionnaire", "submit", link["token"], "--answers", answers)
    cx.fails(1, "questionnaire", "submit", link["token"], "--answers", answers,
             says="used already")
    eq(stored(cx), 2, "two responses")
    cx.ok("verify")
    cx.ok("audit", "verify")
