"""Follow-up pathways (custos pathway, custos tasks due, and the task routes
of the API): a pathway is added and enrolled on, the test clock moves its
occurrences from scheduled to due and then overdue, a discharge clears them,
bad input is refused with one line, an insider's edit is refused, and over
HTTP a clinician acts only for the subjects on their care list."""

import calendar
import datetime
import json
import os
import re
import urllib.parse

from harness import registry, check, eq, sql, sql_exec, sqlite_only
from fixtures import ROOT, populated
from http_client import (Server, Staff, PASSWORD, expect_status, expect_problem, audit_seq,
                         events_after)
from browser import no_violations

CASES, case = registry()

PW = os.path.join(ROOT, "pathways", "psfu-example.json")
QN = os.path.join(ROOT, "questionnaires", "psfu-example.json")


def at(day):
    """CUSTOS_FAKE_NOW for noon UTC of a YYYY-MM-DD day."""
    d = datetime.date.fromisoformat(day)
    return {"CUSTOS_FAKE_NOW": str(calendar.timegm(d.timetuple()) + 12 * 3600)}


def setup_cli(ctx):
    cx, ids = populated(ctx)
    cx.ok("questionnaire", "add", QN)
    cx.ok("pathway", "add", PW)
    return cx, ids


def due(cx, ctl, day):
    return cx.okj("tasks", "due", "--controller", ctl, env=at(day))["due"]


@case("pathways: add, enrol, due on the day, overdue after the window, discharge clears")
def t_cli_lifecycle(ctx):
    cx, ids = setup_cli(ctx)
    eq(cx.okj("pathway", "add", PW)["added"], False, "the same content again")
    ls = cx.okj("pathway", "list")["pathways"]
    eq([(p["id"], p["version"]) for p in ls], [("psfu-example", "1")], "listed")
    shown = cx.okj("pathway", "show", "psfu-example")
    eq(shown["schedule"]["days"], [30, 90, 180, 365], "shown as stored")
    # End of treatment on 31 January 2028: day 30 is 1 March (a leap year).
    e = cx.okj("pathway", "enrol", ids["s1"], "psfu-example", "--start", "2028-01-31",
               "--purpose", "direct_care", env=at("2028-01-31"))
    eq((e["occurrences"], e["first_due"]), (4, "2028-03-01"), "scheduled across 29 February")
    cx.fails(1, "pathway", "enrol", ids["s1"], "psfu-example", "--start", "2028-02-01",
             "--purpose", "direct_care", says="already enrolled")
    eq(due(cx, ids["ctl1"], "2028-02-29"), [], "nothing due the day before")
    d = due(cx, ids["ctl1"], "2028-03-01")
    eq([(x["kind"], x["n"], x["due"]) for x in d], [("due", 1, "2028-03-01")], "due on the day")
    eq(d[0]["window_ends"], "2028-03-15", "window")
    eq(due(cx, ids["ctl1"], "2028-03-15")[0]["kind"], "overdue", "not sent, window open")
    d = due(cx, ids["ctl1"], "2028-03-16")
    eq([x["kind"] for x in d], ["missed"], "missed after the window")
    eq(sql(cx.db, "SELECT state FROM pathway_occurrences WHERE n = 1")[0][0], "missed",
       "stored as missed")
    d = due(cx, ids["ctl1"], "2028-04-30")
    eq([(x["kind"], x["n"]) for x in d], [("missed", 1), ("due", 2)], "missed first")
    eq(due(cx, ids["ctl2"], "2028-05-01"), [], "another controller's")
    cx.ok("tasks", "raise", "--subject", ids["s1"], "--reason", "psfu_out_of_range",
          "--source", "resp-1")
    d = due(cx, ids["ctl1"], "2028-05-01")
    eq([x["kind"] for x in d], ["missed", "overdue", "flagged"], "flagged tasks last")
    seq0 = audit_seq(cx.db)
    out = cx.ok("tasks", "due", "--controller", ids["ctl1"], env=at("2028-05-01")).out
    check("missed" in out and "flagged" in out, "text listing", out)
    eq([e["action"] for e in events_after(cx.db, seq0)], ["pathway.due"], "one audit event")
    r = cx.okj("pathway", "discharge", ids["s1"], "psfu-example", env=at("2028-05-01"))
    eq(r["stopped"], 3, "every open occurrence stopped; the missed one stays missed")
    eq([x["kind"] for x in due(cx, ids["ctl1"], "2028-05-01")], ["flagged"], "cleared")
    eq(sql(cx.db, "SELECT count(*) FROM pathway_occurrences WHERE state = 'stopped'")[0][0],
       3, "stopped in the store")
    cx.fails(1, "pathway", "discharge", ids["s1"], "psfu-example", says="not enrolled")
    # Enrolled again after a discharge.
    cx.ok("pathway", "enrol", ids["s1"], "psfu-example", "--start", "2028-06-01",
          "--purpose", "direct_care")
    cx.ok("verify")


@case("pathways: bad documents and bad enrolments are refused with one line, nothing written")
def t_cli_bad(ctx):
    cx, ids = populated(ctx)
    doc = json.load(open(PW))
    path = os.path.join(cx.store, "..", "pw-%s.json" % os.getpid())

    def refuse(d, says):
        with open(path, "w") as f:
            json.dump(d, f)
        r = cx.fails(1, "pathway", "add", path, says=says)
        eq(len(r.err.strip().splitlines()), 1, "one line")

    refuse(doc, "no questionnaire")  # its questionnaire is not stored yet
    cx.ok("questionnaire", "add", QN)
    refuse(dict(doc, schedule={"days": [30, 30]}), "schedule.days[1]: must be greater")
    refuse(dict(doc, schedule={"days": [30], "every": 7}), "schedule: give either")
    refuse(dict(doc, schedule={"every": 1, "until": 3650}), "more than 64")
    refuse(dict(doc, window=-1), "window: must be from 0")
    refuse(dict(doc, runs_for=100), "runs_for: must be at least")
    refuse(dict(doc, ends=["duration"]), "ends: must include")
    refuse(dict(doc, ends=["duration", "discharge", "bored"]), "ends[2]: must be one of")
    refuse(dict(doc, review=[{"id": "x", "score": "total", "at_least": 1, "level": "panic"}]),
           "review[0].level")
    refuse(dict(doc, extra=1), "extra: not allowed")
    refuse(dict(doc, review=[{"id": "x", "score": "phq9", "at_least": 1}]),
           "review[0].score: the questionnaire has no score phq9")
    refuse(dict(doc, review=[{"id": "x", "score": "total", "at_least": 1000}]),
           "review[0].at_least: above the questionnaire's highest score")
    refuse(dict(doc, id="Bad Id"), "id: must be lower-case")
    refuse(dict(doc, questionnaire={"url": "urn:x"}), "no questionnaire urn:x")
    with open(path, "w") as f:
        f.write('{"id": "a", "id": "b"}')
    cx.fails(1, "pathway", "add", path, says="not valid JSON")
    eq(sql(cx.db, "SELECT count(*) FROM pathways")[0][0], 0, "nothing stored")
    cx.ok("pathway", "add", PW)
    with open(path, "w") as f:
        json.dump(dict(doc, title="Changed"), f)
    cx.fails(1, "pathway", "add", path, says="different content")
    for args, says in (
            (("--start", "2028-02-30", "--purpose", "direct_care"), "start date"),
            (("--start", "2028-02-01", "--purpose", "Direct Care"), "purpose"),
            (("--start", "2028-02-01", "--purpose", "marketing"), "purpose-not-in-policy")):
        cx.fails(1, "pathway", "enrol", ids["s1"], "psfu-example", *args, says=says)
    cx.fails(1, "pathway", "enrol", ids["s1"], "no-such", "--start", "2028-02-01",
             "--purpose", "direct_care", says="no pathway no-such")
    cx.fails(2, "pathway", "enrol", ids["s1"], "psfu-example")
    eq(sql(cx.db, "SELECT count(*) FROM enrolments")[0][0], 0, "no enrolment written")
    # A restriction blocks an enrolment.
    cx.ok("subject", "restrict", ids["s1"])
    cx.fails(1, "pathway", "enrol", ids["s1"], "psfu-example", "--start", "2028-02-01",
             "--purpose", "direct_care", says="restricted")
    os.unlink(path)


@case("pathways: an erased subject drops out of what is due and cannot be enrolled")
def t_cli_erased(ctx):
    cx, ids = setup_cli(ctx)
    cx.ok("pathway", "enrol", ids["s1"], "psfu-example", "--start", "2028-01-31",
          "--purpose", "direct_care")
    eq(len(due(cx, ids["ctl1"], "2028-03-01")), 1, "due before the erasure")
    cx.ok("subject", "erase", ids["s1"])
    eq(due(cx, ids["ctl1"], "2028-03-01"), [], "nothing due for an erased subject")
    eq(sql(cx.db, "SELECT discharged_by FROM enrolments")[0][0], "erasure", "discharged")
    eq(sorted(set(r[0] for r in sql(cx.db, "SELECT state FROM pathway_occurrences"))),
       ["stopped"], "every occurrence stopped")
    cx.fails(1, "pathway", "discharge", ids["s1"], "psfu-example", says="erased")
    cx.fails(1, "pathway", "enrol", ids["s1"], "psfu-example", "--start", "2029-01-01",
             "--purpose", "direct_care", says="erased")


@case("pathways: an erasure retires the subject's unused questionnaire links")
def t_erased_link(ctx):
    cx, ids = setup_cli(ctx)
    s1 = ids["s1"]
    cx.ok("pathway", "enrol", s1, "psfu-example", "--start", "2028-01-31",
          "--purpose", "direct_care", env=at("2028-01-31"))
    link = cx.okj("questionnaire", "send", s1, "urn:custos:questionnaire:psfu-example",
                  "--purpose", "direct_care", env=at("2028-03-01"))
    cx.ok("subject", "erase", s1, env=at("2028-03-02"))
    eq([(r[0] > 0, r[1]) for r in sql(cx.db, "SELECT used_at, response_id FROM questionnaire_links")],
       [(True, "")], "retired: used, with no response")
    with Server(cx, env=at("2028-03-03")) as srv:
        r = srv.call("GET", link["path"])
        eq(r.status, 410, "the link of an erased subject")
        check("no longer valid" in r.text, "says it is no longer valid", r.text[:2000])
    cx.ok("verify")


PSFU_ANSWERS = urllib.parse.urlencode([
    ("a.psfu-pain", "mild"), ("a.psfu-swelling", "none"), ("a.psfu-breath", "none"),
    ("a.psfu-fatigue", "mild"), ("a.psfu-appetite", "none"), ("a.psfu-bleeding", "no"),
    ("a.psfu-contact", "no")])
FORM = "application/x-www-form-urlencoded"


@case("pathways: an answer after the window is stored but answers nothing: the occurrence "
      "stays missed and the next, not due yet, stays scheduled")
def t_late_answer(ctx):
    cx, ids = setup_cli(ctx)
    s1, ctl = ids["s1"], ids["ctl1"]
    cx.ok("pathway", "enrol", s1, "psfu-example", "--start", "2028-01-31",
          "--purpose", "direct_care", env=at("2028-01-31"))
    # A link that outlives the window (30 days against 14).
    link = cx.okj("questionnaire", "send", s1, "urn:custos:questionnaire:psfu-example",
                  "--purpose", "direct_care", "--days", "30", env=at("2028-03-01"))
    eq(due(cx, ctl, "2028-03-10"), [], "sent, waiting, within the window: not listed")
    # No listing in between: the answer itself finds the window ended.
    with Server(cx, env=at("2028-03-20")) as srv:
        r = srv.call("POST", link["path"], PSFU_ANSWERS, ctype=FORM)
        eq(r.status, 200, "a late answer is taken")
    eq(len(cx.okj("questionnaire", "responses", s1)["responses"]), 1, "and stored")
    eq(sql(cx.db, "SELECT n, state FROM pathway_occurrences ORDER BY n")[:2],
       [(1, "missed"), (2, "scheduled")], "missed, and the next not answered early")
    eq([(x["kind"], x["n"], x["state"]) for x in due(cx, ctl, "2028-03-20")],
       [("missed", 1, "missed")], "listed as missed")
    cx.ok("verify")


@case("pathways: an erasure replayed after a restore discharges the subject's pathways and "
      "retires its links in the restored copy")
@sqlite_only("a backup is an encrypted copy of the custos.db file; restore writes that file")
def t_restore_replay(ctx):
    cx, ids = setup_cli(ctx)
    s1, ctl = ids["s1"], ids["ctl1"]
    cx.ok("pathway", "enrol", s1, "psfu-example", "--start", "2028-01-31",
          "--purpose", "direct_care", env=at("2028-01-31"))
    link = cx.okj("questionnaire", "send", s1, "urn:custos:questionnaire:psfu-example",
                  "--purpose", "direct_care", "--days", "30", env=at("2028-03-01"))
    backup = os.path.join(ctx.tmp.make(), "custos.backup")
    cx.okj("backup", backup)
    cx.ok("subject", "erase", s1)
    new = os.path.join(ctx.tmp.make(), "restored")
    rx = ctx.custos(store=new)
    r = rx.ok("--json", "restore", "--key", cx.master_key, "--ledger",
              os.path.join(cx.store, "erasure.ledger"), backup).json()
    eq(r["erasures_reapplied"], 1, "the erasure applied again")
    eq(sql(rx.db, "SELECT discharged_by FROM enrolments"), [("erasure",)], "discharged")
    eq(sorted(set(x[0] for x in sql(rx.db, "SELECT state FROM pathway_occurrences"))),
       ["stopped"], "nothing left to ask")
    eq([(u > 0, rid) for u, rid in sql(rx.db, "SELECT used_at, response_id "
                                              "FROM questionnaire_links")],
       [(True, "")], "the link retired")
    eq(rx.okj("tasks", "due", "--controller", ctl, env=at("2028-03-02"))["due"], [],
       "nothing due")
    with Server(rx, env=at("2028-03-02")) as srv:
        r = srv.call("GET", link["path"])
        eq(r.status, 410, "the link after the restore")
        check("no longer valid" in r.text, "says it is no longer valid", r.text[:2000])
    rx.ok("verify")


@case("pathways: a restricted or objecting subject's follow-up is listed as held")
def t_held(ctx):
    cx, ids = setup_cli(ctx)
    s1, ctl = ids["s1"], ids["ctl1"]
    cx.ok("pathway", "enrol", s1, "psfu-example", "--start", "2028-01-31",
          "--purpose", "direct_care", env=at("2028-01-31"))
    cx.ok("subject", "restrict", s1)
    d = due(cx, ctl, "2028-03-01")
    eq([(x["kind"], x["held"]) for x in d], [("held", "restricted")], "held")
    check("restricted" in d[0]["held_reason"], "the reason in words", d[0])
    out = cx.ok("tasks", "due", "--controller", ctl, env=at("2028-03-01")).out
    check("held (restricted)" in out, "text listing", out)
    cx.fails(1, "questionnaire", "send", s1, "urn:custos:questionnaire:psfu-example",
             "--purpose", "direct_care", env=at("2028-03-01"), says="restricted")
    eq(sql(cx.db, "SELECT state FROM pathway_occurrences WHERE n = 1")[0][0], "scheduled",
       "nothing sent")
    cx.ok("subject", "restrict", s1, "--lift")
    eq([x["kind"] for x in due(cx, ctl, "2028-03-01")], ["due"], "due again")


@case("pathways: an insider's edit or deletion of an occurrence or enrolment is refused")
def t_cli_tamper(ctx):
    cx, ids = setup_cli(ctx)
    cx.ok("pathway", "enrol", ids["s1"], "psfu-example", "--start", "2028-01-31",
          "--purpose", "direct_care")
    eid = sql(cx.db, "SELECT id FROM enrolments")[0][0]
    sql_exec(cx.db, ("UPDATE pathway_occurrences SET state = 'answered' WHERE n = 1", ()))
    cx.fails(1, "tasks", "due", "--controller", ids["ctl1"], env=at("2028-03-01"),
             says="pathway_occurrences %s/1 has been altered" % eid)
    r = cx.run("verify")
    check(r.rc == 1 and "pathway_occurrences %s/1: altered" % eid in r.err, "verify reports it",
          r.err)
    sql_exec(cx.db, ("UPDATE pathway_occurrences SET state = 'scheduled' WHERE n = 1", ()))
    eq(len(due(cx, ids["ctl1"], "2028-03-01")), 1, "put back")
    sql_exec(cx.db, ("DELETE FROM pathway_occurrences WHERE n = 4", ()))
    cx.fails(1, "pathway", "discharge", ids["s1"], "psfu-example", says="3 rows, 4 made")
    r = cx.run("verify")
    check(r.rc == 1 and "enrolments %s: occurrences missing" % eid in r.err,
          "verify reports the deleted occurrence", r.err)


PATIENT = {"name": "Perpetua Followup", "nhs_number": "943 476 5919",
           "items": [{"category": "health", "field": "note", "value": "treatment ended"}]}
OTHER = {"name": "Ignatius Elsewhere",
         "items": [{"category": "health", "field": "note", "value": "seen"}]}


def requests_events(cx, seq0):
    """The audit events since seq0 but the server's own once-per-cluster job."""
    return [(e["action"], e["outcome"]) for e in events_after(cx.db, seq0)
            if e["action"] != "session.purge"]


def setup_http(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Follow-up Trust")
    st.controller("B", "Other Practice")
    st.user("dr_on", "A", "clinician")
    st.user("dr_off", "A", "clinician")
    st.user("dr_b", "B", "clinician")
    st.token("dpo", "A", "dpo")
    st.subject("P", "A", PATIENT)
    st.subject("Q", "A", OTHER)
    st.subject("R", "B", OTHER)
    st.care("dr_on", "P")
    st.care("dr_on", "Q")
    st.care("dr_off", "Q")
    st.care("dr_b", "R")
    cx.ok("questionnaire", "add", QN)
    cx.ok("pathway", "add", PW)
    return cx, st


@case("pathways http: enrol, what is due, task ack and done; a clinician off the care list "
      "is refused and sees nothing of the subject")
def t_http(ctx):
    cx, st = setup_http(ctx)
    p, q = st.subjects["P"]["id"], st.subjects["Q"]["id"]
    task = cx.okj("tasks", "raise", "--subject", p, "--reason", "phq9_item9",
                  "--source", "resp-9")["id"]
    with Server(cx, env=at("2028-03-01")) as srv:
        on, off = st.signin(srv, "dr_on"), st.signin(srv, "dr_off")
        dr_b = st.signin(srv, "dr_b")
        body = {"pathway": "psfu-example", "start": "2028-01-31", "purpose": "direct_care"}
        # Off the care list: refused, nothing written, one denied event.
        seq0 = audit_seq(cx.db)
        r = srv.call("POST", "/v1/subjects/%s/pathways" % p, body, token=off)
        expect_problem(r, 403, "forbidden", "enrol off the care list")
        evs = events_after(cx.db, seq0)
        eq([(e["action"], e["outcome"]) for e in evs], [("pathway.enrol", "denied")],
           "the refusal is audited")
        r = srv.call("POST", "/v1/subjects/%s/pathways" % p, body, token=dr_b)
        expect_problem(r, 404, what="another controller's subject")
        eq(sql(cx.db, "SELECT count(*) FROM enrolments")[0][0], 0, "nothing enrolled")
        # Bad bodies.
        for bad, says in (({"pathway": "psfu-example"}, "$.start"),
                          (dict(body, extra=1), "only pathway"),
                          (dict(body, start=20280131), "$.start must be a string"),
                          (dict(body, start="2028-13-01"), "start date"),
                          (dict(body, purpose="marketing"), "purpose-not-in-policy")):
            r = srv.call("POST", "/v1/subjects/%s/pathways" % p, bad, token=on)
            check(r.status in (400, 403), "bad enrolment answered %d" % r.status, bad)
            expect_problem(r, r.status, what="bad enrolment")
            check(says in r.json().get("detail", ""), "detail says %r" % says, r.json())
        r = srv.call("POST", "/v1/subjects/%s/pathways" % p, "not json", token=on)
        expect_problem(r, 400, "invalid-input", "not JSON")
        # Enrolled by the clinician with the patient on their list.
        seq0 = audit_seq(cx.db)
        r = srv.call("POST", "/v1/subjects/%s/pathways" % p, body, token=on)
        expect_status(r, 201, "enrol")
        eq((r.json()["first_due"], r.json()["occurrences"]), ("2028-03-01", 4), "enrolment")
        eq([e["action"] for e in events_after(cx.db, seq0)], ["pathway.enrol"], "audited")
        r = srv.call("POST", "/v1/subjects/%s/pathways" % p, body, token=on)
        expect_problem(r, 409, "conflict", "enrolled twice")
        r = srv.call("POST", "/v1/subjects/%s/pathways" % q, body, token=on)
        expect_status(r, 201, "enrol Q")
        # What is due: the server's clock says 1 March 2028.
        r = srv.call("GET", "/v1/tasks/due", token=on)
        expect_status(r, 200, "due")
        got = [(d["kind"], d["subject"]) for d in r.json()["due"]]
        eq(sorted(got[:2]), sorted([("due", p), ("due", q)]), "both due for dr_on")
        eq(got[2:], [("flagged", p)], "and the task")
        r = srv.call("GET", "/v1/tasks/due", token=off)
        eq([(d["kind"], d["subject"]) for d in r.json()["due"]], [("due", q)],
           "dr_off sees only the subject on their list")
        r = srv.call("GET", "/v1/tasks/due", token=dr_b)
        eq(r.json()["due"], [], "another controller sees none of it")
        r = srv.call("GET", "/v1/tasks/due", token=st.tokens["dpo"]["token"])
        expect_problem(r, 403, "forbidden", "a dpo has no clinical task list")
        # The task list and its changes.
        r = srv.call("GET", "/v1/tasks?state=open", token=on)
        expect_status(r, 200, "task list")
        eq([t["id"] for t in r.json()["tasks"]], [task], "open tasks")
        r = srv.call("GET", "/v1/tasks?state=closed", token=on)
        expect_problem(r, 400, "invalid-input", "bad state")
        r = srv.call("GET", "/v1/tasks?colour=red", token=on)
        expect_problem(r, 400, what="an unknown query parameter")
        eq(srv.call("GET", "/v1/tasks", token=off).json()["tasks"], [],
           "off the care list: no tasks")
        seq0 = audit_seq(cx.db)
        r = srv.call("POST", "/v1/tasks/%s/ack" % task, token=off)
        expect_problem(r, 403, "forbidden", "ack off the care list")
        eq([(e["action"], e["outcome"]) for e in events_after(cx.db, seq0)],
           [("task.ack", "denied")], "refusal audited")
        r = srv.call("POST", "/v1/tasks/%s/done" % task, token=dr_b)
        expect_problem(r, 404, what="another controller's task")
        eq(sql(cx.db, "SELECT state FROM tasks")[0][0], "open", "unchanged by refusals")
        r = srv.call("POST", "/v1/tasks/%s/ack" % task, token=on)
        expect_status(r, 200, "ack")
        eq((r.json()["state"], r.json()["acknowledged"]["by"]), ("acknowledged", "dr_on"), "ack")
        r = srv.call("POST", "/v1/tasks/%s/ack" % task, token=on)
        expect_problem(r, 409, "conflict", "acked twice")
        r = srv.call("POST", "/v1/tasks/%s/done" % task, token=on)
        expect_status(r, 200, "done")
        eq(r.json()["state"], "done", "done")
        r = srv.call("POST", "/v1/tasks/00000000-0000-4000-8000-000000000000/done", token=on)
        expect_problem(r, 404, what="no such task")
        r = srv.call("GET", "/v1/tasks/%s/ack" % task, token=on)
        expect_problem(r, 405, what="GET on an action")
        # Discharge: off the care list refused; then P's occurrences are stopped.
        path = "/v1/subjects/%s/pathways/psfu-example/discharge" % p
        r = srv.call("POST", path, token=off)
        expect_problem(r, 403, "forbidden", "discharge off the care list")
        r = srv.call("POST", path, token=on)
        expect_status(r, 200, "discharge")
        eq(r.json()["stopped"], 4, "stopped")
        r = srv.call("POST", path, token=on)
        expect_problem(r, 404, what="discharged twice")
        r = srv.call("POST", "/v1/subjects/%s/pathways/no-such/discharge" % q, token=on)
        expect_problem(r, 404, what="not enrolled on it")
        eq([(d["kind"], d["subject"]) for d in
            srv.call("GET", "/v1/tasks/due", token=on).json()["due"]], [("due", q)],
           "discharge clears P")
    # Later the first occurrence of Q is missed.
    with Server(cx, env=at("2028-03-16")) as srv:
        on = st.signin(srv, "dr_on")
        eq([(d["kind"], d["n"]) for d in
            srv.call("GET", "/v1/tasks/due", token=on).json()["due"]], [("missed", 1)],
           "missed after the window")
    cx.ok("verify")


@case("pathways http: the API and the staff console's home page say missed, overdue and "
      "paused (held, with why) alike")
def t_http_missed_held(ctx):
    cx, st = setup_http(ctx)
    p, q = st.subjects["P"]["id"], st.subjects["Q"]["id"]
    for sid in (p, q):
        cx.ok("pathway", "enrol", sid, "psfu-example", "--start", "2028-01-31",
              "--purpose", "direct_care", env=at("2028-01-31"))
    cx.ok("subject", "restrict", q)
    d = ctx.tmp.make()
    # 1 May 2028: the first occurrence's window ended on 15 March, the
    # second was due on 30 April.
    with Server(cx, env=at("2028-05-01")) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        on = st.signin(srv, "dr_on")
        got = srv.call("GET", "/v1/tasks/due", token=on).json()["due"]
        rows = [(x["kind"], x["subject"], x["n"], x.get("held")) for x in got]
        eq(sorted(rows[:2]), sorted([("missed", p, 1, None), ("missed", q, 1, None)]),
           "the API: missed first, the restricted patient's too")
        eq(rows[2:], [("overdue", p, 2, None), ("held", q, 2, "restricted")],
           "the API: overdue, then held")
        check("restricted" in got[3]["held_reason"], "held in words", got[3])
        r = srv.call("POST", "/staff/sign-in",
                     urllib.parse.urlencode({"username": "dr_on", "password": PASSWORD}),
                     ctype=FORM)
        eq(r.status, 303, "signed in to the console")
        cookie = r.header("set-cookie").split(";", 1)[0]
        r = srv.call("GET", "/staff", headers={"Cookie": cookie})
        eq(r.status, 200, "home")
        i = r.text.find("Due from follow-up pathways")
        check(i >= 0, "no follow-up section", r.text[:4000])
        tags = re.findall(r'<strong class="nhsuk-tag[^"]*">([A-Za-z]+)</strong>', r.text[i:])
        eq(tags, ["Missed", "Missed", "Overdue", "Paused"], "the console's tags")
        check("the patient&#39;s record is restricted" in r.text[i:] or
              "the patient's record is restricted" in r.text[i:], "paused, with why",
              r.text[i:i + 4000])
        no_violations(cx.binary, d, "home-due.html", r.text, base)
    cx.ok("verify")


@case("pathways http: every role but clinician is refused every task and pathway route, "
      "one denied audit event each, nothing changed")
def t_http_roles(ctx):
    cx, st = setup_http(ctx)
    p = st.subjects["P"]["id"]
    task = cx.okj("tasks", "raise", "--subject", p, "--reason", "psfu_out_of_range",
                  "--source", "resp-1")["id"]
    cx.ok("pathway", "enrol", p, "psfu-example", "--start", "2028-01-31", "--purpose",
          "direct_care")
    for role in ("care_admin", "dpo", "analyst", "auditor", "admin"):
        st.token("t_" + role, "A", role)
    calls = (("GET", "/v1/tasks", None, "task.list"),
             ("GET", "/v1/tasks/due", None, "pathway.due"),
             ("POST", "/v1/tasks/%s/ack" % task, None, "task.ack"),
             ("POST", "/v1/tasks/%s/done" % task, None, "task.done"),
             ("POST", "/v1/subjects/%s/pathways" % p,
              {"pathway": "psfu-example", "start": "2029-01-01", "purpose": "direct_care"},
              "pathway.enrol"),
             ("POST", "/v1/subjects/%s/pathways/psfu-example/discharge" % p, None,
              "pathway.discharge"))
    before = (sql(cx.db, "SELECT state FROM tasks"),
              sql(cx.db, "SELECT count(*), max(discharged_at) FROM enrolments"),
              sql(cx.db, "SELECT state FROM pathway_occurrences ORDER BY n"))
    with Server(cx, env=at("2028-03-01")) as srv:
        for role in ("care_admin", "dpo", "analyst", "auditor", "admin"):
            tok = st.tokens["t_" + role]["token"]
            for method, path, body, action in calls:
                seq0 = audit_seq(cx.db)
                r = srv.call(method, path, body, token=tok)
                expect_problem(r, 403, "forbidden", "%s %s as %s" % (method, path, role))
                # An analyst is refused a subject named by its id (a task names one)
                # before the role is asked.
                rule = ("pseudonym-required" if role == "analyst" and method == "POST"
                        else "role-not-permitted")
                check("(%s)" % rule in r.json().get("detail", ""), "the rule named", r.json())
                eq(requests_events(cx, seq0), [(action, "denied")],
                   "%s %s as %s: one denied event" % (method, path, role))
        # No token at all: 401, nothing audited.
        for method, path, body, _ in calls:
            seq0 = audit_seq(cx.db)
            expect_problem(srv.call(method, path, body), 401, what="%s %s" % (method, path))
            eq(requests_events(cx, seq0), [], "no event without a sign-in")
    after = (sql(cx.db, "SELECT state FROM tasks"),
             sql(cx.db, "SELECT count(*), max(discharged_at) FROM enrolments"),
             sql(cx.db, "SELECT state FROM pathway_occurrences ORDER BY n"))
    eq(after, before, "nothing changed")
