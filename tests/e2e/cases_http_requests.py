"""Data-subject rights requests over HTTP and the CLI: every kind through its
lifecycle (received -> awaiting_identity -> in_progress -> fulfilled) with
exactly one audit event per call; the clock starts with late identity
evidence and moves with a clarification pause; an extension needs a reason
and the subject told within the first month; a refusal needs grounds, reasons
and the ICO route; restriction and objection requests set their flags; roles
(dpo manages, care_admin only logs receipt, another controller's request is
404 like a missing one); bad bodies change nothing; `custos requests due`
orders overdue first and names the bank-holiday calendar in force (built in,
custos.conf or CUSTOS_BANK_HOLIDAYS); /metrics counts requests by state and
overdue; no note is ever stored in plaintext."""

import datetime
import json
import os

from harness import registry, check, eq, read_bytes, is_pg, db_bytes
from fixtures import sql_value, no_plaintext_in
from http_client import (Server, Staff, expect_status, expect_problem, audit_seq,
                         events_after, random_id, stable_dump)

CASES, case = registry()

KINDS = ("access", "rectification", "erasure", "restriction", "objection",
         "automated_decision", "portability")
PATIENT = {"name": "Ottoline Requestworth", "nhs_number": "943 476 5919",
           "items": [{"category": "health", "field": "note", "value": "seen in clinic"}]}
SECRET_DETAILS = "Letter from Barnaby Quillfeather-Snodgrass of 4 Wyvern Row"
SECRET_WHY = "Passport number ZQ7781234 checked at the desk"


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def setup(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Requests Trust")
    st.controller("B", "Other Practice")
    st.token("dpo", "A", "dpo")
    st.token("desk", "A", "care_admin")
    st.token("clin", "A", "clinician")
    st.token("dpo_b", "B", "dpo")
    st.subject("S", "A", PATIENT)
    return cx, st


def tok(st, name):
    return st.tokens[name]["token"]


def one_event(cx, seq0, action, outcome="ok", subject=None):
    evs = events_after(cx.db, seq0)
    eq(len(evs), 1, "audit events for %s" % action)
    e = evs[0]
    eq((e["action"], e["outcome"]), (action, outcome), "audit event")
    if subject is not None:
        eq(e["subject"], subject, "audit subject of %s" % action)
    for k, v in e.items():
        if isinstance(v, str):
            check(SECRET_WHY not in v and SECRET_DETAILS not in v,
                  "a note in the audit event's %s" % k, e)
    return e


def receive(srv, cx, token, kind="access", received_on="2026-01-05", details=SECRET_DETAILS,
            purpose=None, status=201):
    body = {"kind": kind, "channel": "letter", "received_on": received_on, "details": details}
    if purpose:
        body["purpose"] = purpose
    seq0 = audit_seq(cx.db)
    r = srv.call("POST", "/v1/requests", body, token=token)
    expect_status(r, status, "POST /v1/requests %s" % kind)
    if status == 201:
        one_event(cx, seq0, "request.receive")
        rid = r.json()["id"]
        eq(r.header("location"), "/v1/requests/" + rid, "Location of a request")
        return rid
    return r


def move(srv, cx, token, rid, action, status=200, audit_subject=None, **body):
    body = dict(body, action=action)
    body.setdefault("why", SECRET_WHY)
    seq0 = audit_seq(cx.db)
    r = srv.call("POST", "/v1/requests/%s/transitions" % rid, body, token=token)
    if status != 200:
        expect_problem(r, status, what="%s %s" % (action, rid))
        eq(events_after(cx.db, seq0), [], "audit events for a refused %s" % action)
        return r.json()
    expect_status(r, 200, "%s %s" % (action, rid))
    one_event(cx, seq0, "request." + action, subject=audit_subject)
    return r.json()


def no_plaintext(cx):
    if is_pg(cx.db):
        no_plaintext_in(db_bytes(cx.db), (SECRET_DETAILS, SECRET_WHY, "Barnaby", "ZQ7781234"),
                        "the database")
        return
    for suffix in ("", "-wal"):
        data = read_bytes(cx.db + suffix) if os.path.exists(cx.db + suffix) else b""
        no_plaintext_in(data, (SECRET_DETAILS, SECRET_WHY, "Barnaby", "ZQ7781234"),
                        "custos.db" + suffix)


@case("http requests: every kind received -> awaiting_identity -> in_progress -> fulfilled, "
      "one audit event per call; the clock starts with the evidence; restriction and "
      "objection set their flags; notes only sealed")
def t_lifecycle(ctx):
    cx, st = setup(ctx)
    dpo, sid = tok(st, "dpo"), st.subjects["S"]["id"]
    with Server(cx) as srv:
        for kind in KINDS:
            rid = receive(srv, cx, dpo, kind, purpose="all" if kind == "objection" else None)
            j = move(srv, cx, dpo, rid, "ask_identity", on="2026-01-06")
            eq((j["state"], j["clock_started"]), ("awaiting_identity", False),
               "%s after ask_identity" % kind)
            # evidence on Saturday 10 January: the clock starts then
            j = move(srv, cx, dpo, rid, "verify", audit_subject=sid, on="2026-01-10",
                     subject=sid)
            eq((j["state"], j["subject"], j["evidence_on"]),
               ("in_progress", sid, "2026-01-10"), "%s after verify" % kind)
            eq((j["clock"]["start"], j["clock"]["due"]), ("2026-01-10", "2026-02-10"),
               "%s clock" % kind)
            j = move(srv, cx, dpo, rid, "fulfil", audit_subject=sid, on="2026-02-09")
            eq((j["state"], j["closed_on"], j["clock"]["on_time"]),
               ("fulfilled", "2026-02-09", True), "%s after fulfil" % kind)
            seq0 = audit_seq(cx.db)
            r = srv.call("GET", "/v1/requests/" + rid, token=dpo)
            expect_status(r, 200, "GET request")
            one_event(cx, seq0, "request.read", subject=sid)
            h = r.json()["history"]
            eq([(e["action"], e["from"], e["to"]) for e in h],
               [("receive", None, "received"),
                ("ask_identity", "received", "awaiting_identity"),
                ("verify", "awaiting_identity", "in_progress"),
                ("fulfil", "in_progress", "fulfilled")], "%s history" % kind)
            eq(h[0]["why"], SECRET_DETAILS, "details, decrypted")
            eq({e["actor"] for e in h}, {"token:dpo"}, "who")
            # every note resealed under the subject's key once linked
            eq(sql_value(cx.db, "SELECT count(*) FROM request_events WHERE request_id = ? "
                                "AND sealed_by = 'store'", (rid,)), 0,
               "notes under the store key")
        r = srv.call("GET", "/v1/subjects/%s/rights" % sid, token=dpo)
        expect_status(r, 200, "rights")
        j = r.json()
        check(j["restricted_at"], "the restriction request did not restrict", j)
        eq([o["purpose"] for o in j["objections"] if not o["lifted_at"]], ["all"],
           "the objection request's objection")
    no_plaintext(cx)


@case("http requests: a clarification pause moves the due date; an extension needs a reason "
      "and the subject told within the first month; a refusal needs grounds, reasons and the "
      "ICO route; final states are final (409); refused calls change nothing")
def t_clock_rules(ctx):
    cx, st = setup(ctx)
    dpo, sid = tok(st, "dpo"), st.subjects["S"]["id"]
    with Server(cx) as srv:
        rid = receive(srv, cx, dpo, "access", "2026-01-05")
        j = move(srv, cx, dpo, rid, "verify", audit_subject=sid, subject=sid)
        eq(j["clock"]["due"], "2026-02-05", "due one month from receipt (Thursday 5 Feb)")
        j = move(srv, cx, dpo, rid, "clarify", on="2026-01-20")
        eq((j["state"], j["clock"]["paused"]), ("awaiting_clarification", True), "paused")
        move(srv, cx, dpo, rid, "resume", status=400, on="2026-01-19")
        j = move(srv, cx, dpo, rid, "resume", on="2026-01-30")
        eq((j["state"], j["clock"]["paused_days"], j["clock"]["due"]),
           ("in_progress", 10, "2026-02-16"), "10 days paused: 15 Feb is a Sunday -> 16 Feb")
        eq(j["clock"]["extension_notice_by"], "2026-02-16", "notice by")
        # extension: reason, told_on, within the first month
        move(srv, cx, dpo, rid, "extend", status=400)
        move(srv, cx, dpo, rid, "extend", status=400, why="", told_on="2026-02-01")
        p = move(srv, cx, dpo, rid, "extend", status=400, told_on="2026-02-17")
        check("2026-02-16" in p["detail"], "the refusal names the last day to tell", p)
        move(srv, cx, dpo, rid, "extend", status=400, told_on="2999-01-01")
        j = move(srv, cx, dpo, rid, "extend", told_on="2026-02-16")
        eq((j["state"], j["told_on"], j["clock"]["due"]), ("extended", "2026-02-16",
                                                           "2026-04-15"),
           "extended: three months from receipt plus the pause")
        move(srv, cx, dpo, rid, "extend", status=409, told_on="2026-02-16")
        # refusal
        r2 = receive(srv, cx, dpo, "erasure", "2026-03-02")
        move(srv, cx, dpo, r2, "refuse", status=400)
        move(srv, cx, dpo, r2, "refuse", status=400, grounds="too_busy",
             ico_route_stated=True)
        p = move(srv, cx, dpo, r2, "refuse", status=400, grounds="manifestly_excessive")
        check("ICO" in p["detail"], "refusal without the ICO route", p)
        move(srv, cx, dpo, r2, "refuse", status=400, grounds="manifestly_excessive",
             ico_route_stated=True, why="")
        j = move(srv, cx, dpo, r2, "refuse", grounds="manifestly_excessive",
                 ico_route_stated=True)
        eq((j["state"], j["grounds"]), ("refused", "manifestly_excessive"), "refused")
        eq(sql_value(cx.db, "SELECT complaint_route FROM requests WHERE id = ?", (r2,)),
           j["complaint_route"], "the complaint route, recorded")
        check("Information Commissioner" in j["complaint_route"], "no ICO route", j)
        for action in ("withdraw", "fulfil", "verify", "clarify"):
            move(srv, cx, dpo, r2, action, status=409, subject=sid)
        # bad bodies, unknown actions, wrong media type: nothing written
        before = stable_dump(cx.db)
        for body in ({"action": "verify"}, {"action": "teleport", "why": "x"},
                     {"action": "verify", "why": "x", "subject": "psn_1"},
                     {"action": "refuse", "why": "x", "ico_route_stated": "yes"},
                     {"action": "withdraw", "why": "x", "extra": 1}, [1]):
            r = srv.call("POST", "/v1/requests/%s/transitions" % rid, body, token=dpo)
            expect_problem(r, 400, what=json.dumps(body))
        for body in ({"kind": "access"}, {"kind": "complaint", "channel": "letter",
                                          "received_on": "2026-01-01", "details": "x"},
                     {"kind": "access", "channel": "fax", "received_on": "2026-01-01",
                      "details": "x"},
                     {"kind": "access", "channel": "email", "received_on": "2026-02-30",
                      "details": "x"},
                     {"kind": "access", "channel": "email", "received_on": "2026-01-01",
                      "details": ""},
                     {"kind": "access", "channel": "email", "received_on": "2026-01-01",
                      "details": "x", "purpose": "all"}):
            r = srv.call("POST", "/v1/requests", body, token=dpo)
            expect_problem(r, 400, what=json.dumps(body))
        r = srv.call("POST", "/v1/requests", "kind=access", token=dpo, ctype="text/plain")
        expect_problem(r, 415)
        eq(stable_dump(cx.db), before, "the store after refused calls")
    no_plaintext(cx)


@case("http requests: dpo manages; care_admin may only log receipt; clinicians may not; "
      "another controller's request is 404 like a missing one; one audit event each")
def t_roles(ctx):
    cx, st = setup(ctx)
    dpo, desk, clin, other = (tok(st, n) for n in ("dpo", "desk", "clin", "dpo_b"))
    with Server(cx) as srv:
        rid = receive(srv, cx, desk, "access", "2026-02-02")
        for token, method, path, body, status, kind in (
                (desk, "GET", "/v1/requests/" + rid, None, 403, "forbidden"),
                (desk, "GET", "/v1/requests", None, 403, "forbidden"),
                (desk, "GET", "/v1/requests/due", None, 403, "forbidden"),
                (desk, "POST", "/v1/requests/%s/transitions" % rid,
                 {"action": "withdraw", "why": "x"}, 403, "forbidden"),
                (clin, "POST", "/v1/requests", {"kind": "access", "channel": "email",
                                                "received_on": "2026-01-01", "details": "x"},
                 403, "forbidden"),
                (clin, "GET", "/v1/requests/" + rid, None, 403, "forbidden"),
                (other, "GET", "/v1/requests/" + rid, None, 404, "not-found"),
                (other, "POST", "/v1/requests/%s/transitions" % rid,
                 {"action": "withdraw", "why": "x"}, 404, "not-found"),
                (dpo, "GET", "/v1/requests/" + random_id(), None, 404, "not-found")):
            seq0 = audit_seq(cx.db)
            r = srv.call(method, path, body, token=token)
            j = expect_problem(r, status, kind, "%s %s" % (method, path))
            if token is other:
                check(st.controllers["A"] not in j.get("detail", ""),
                      "the 404 names the other controller", j)
            evs = events_after(cx.db, seq0)
            eq(len(evs), 1, "audit events for a refused %s %s" % (method, path))
            eq(evs[0]["outcome"], "denied" if status in (403,) or token is other
               else "not_found", "outcome")
        r = srv.call("GET", "/v1/requests", token=dpo)
        expect_status(r, 200, "list")
        eq([q["id"] for q in r.json()["requests"]], [rid], "the dpo's list")
        r = srv.call("GET", "/v1/requests", token=other)
        expect_status(r, 200, "the other dpo's list")
        eq(r.json()["requests"], [], "another controller's requests")


@case("requests due: open requests by due date, overdue first (days overdue), identity "
      "awaited last; names the bank-holiday calendar: built in, custos.conf or "
      "CUSTOS_BANK_HOLIDAYS; a bad calendar is a one-line error; /metrics counts by state "
      "and overdue")
def t_due_and_metrics(ctx):
    cx, st = setup(ctx)
    ctl = st.controllers["A"]
    t = today()
    recent = (t - datetime.timedelta(days=3)).isoformat()

    def rcv(kind, on):
        return cx.ok("requests", "receive", "--controller", ctl, "--kind", kind, "--channel",
                     "email", "--received-on", on, "--details-file", "-",
                     stdin=SECRET_DETAILS).out.strip()

    a = rcv("access", recent)
    b = rcv("erasure", "2026-01-05")     # due 2026-02-05: overdue
    c = rcv("portability", "2026-03-02")  # due 2026-04-02: overdue
    d = rcv("access", recent)
    w = rcv("restriction", recent)
    cx.ok("requests", "verify", d, "--ask", "--why-file", "-", stdin=SECRET_WHY)
    cx.ok("requests", "withdraw", w, "--why", "changed their mind")
    r = cx.okj("requests", "due", "--json")
    eq([q["id"] for q in r["requests"]], [b, c, a, d], "due order")
    eq([q["clock"]["overdue"] for q in r["requests"][:3]], [True, True, False], "overdue")
    eq(r["requests"][0]["clock"]["days_left"], (datetime.date(2026, 2, 5) - t).days,
       "days left (negative: overdue)")
    check(r["bank_holidays"].startswith("built in"), "calendar", r)
    out = cx.ok("requests", "due").out
    lines = out.splitlines()
    check(lines[0].startswith("bank holidays: built in, England and Wales 2018-2030"),
          "due names the calendar", out)
    check("OVERDUE by %d days" % (t - datetime.date(2026, 2, 5)).days in lines[1], "line 1",
          out)
    check(b in lines[1] and c in lines[2] and a in lines[3] and d in lines[4], "order", out)
    check("clock not started" in lines[4], "identity awaited", out)
    check(SECRET_DETAILS not in out, "details in the due list", out)

    # a replacement calendar: environment, then custos.conf
    hol = os.path.join(os.path.dirname(cx.store), "hol.json")
    with open(hol, "w") as f:
        json.dump({"england-and-wales": {"division": "england-and-wales", "events": [
            {"title": "Extra day", "date": "2026-02-05"}]}}, f)
    r = cx.okj("requests", "due", "--json", env={"CUSTOS_BANK_HOLIDAYS": hol})
    eq(r["bank_holidays"], "file %s, England and Wales 2026-2026" % hol, "calendar from env")
    eq(r["requests"][0]["clock"]["due"], "2026-02-06", "a holiday moves the deadline")
    with open(os.path.join(cx.store, "custos.conf"), "a") as f:
        f.write("bank_holidays_file = %s\n" % hol)
    check(cx.ok("requests", "due").out.startswith("bank holidays: file " + hol),
          "calendar from custos.conf")
    old = os.path.join(os.path.dirname(cx.store), "old.json")
    with open(old, "w") as f:
        json.dump({"england-and-wales": {"division": "england-and-wales", "events": [
            {"title": "Christmas Day", "date": "2025-12-25"}]}}, f)
    env_old = {"CUSTOS_BANK_HOLIDAYS": old}
    out = cx.ok("requests", "show", b, env=env_old).out
    check("warning: the deadline runs beyond the bank-holiday calendar's last year" in out,
          "no beyond-calendar warning", out)
    out = cx.ok("requests", "due", env=env_old).out
    check("(beyond calendar)" in out.splitlines()[1], "due does not flag it", out)
    eq(cx.okj("requests", "show", b, "--json", env=env_old)["clock"]["beyond_calendar"], True,
       "beyond_calendar")
    bad = os.path.join(os.path.dirname(cx.store), "bad.json")
    with open(bad, "w") as f:
        f.write('{"england-and-wales": {"division": "england-and-wales", "events": []}}')
    cx.fails(1, "requests", "due", env={"CUSTOS_BANK_HOLIDAYS": bad},
             says=("bank-holiday calendar",))

    with Server(cx) as srv:
        r = srv.call("GET", "/metrics")
        expect_status(r, 200, "metrics")
        text = r.text
        for state, n in (("received", 3), ("awaiting_identity", 1), ("withdrawn", 1),
                         ("fulfilled", 0)):
            check('custos_requests{state="%s"} %d\n' % (state, n) in text,
                  "metrics: %s %d" % (state, n), text[-1500:])
        check("custos_requests_overdue 2\n" in text, "metrics: overdue", text[-600:])
    no_plaintext(cx)
