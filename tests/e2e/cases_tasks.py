"""The clinical task list on the command line (custos tasks): a task raised
for a subject is listed urgent first, acknowledged and closed with who and
when recorded, a second close is a conflict, bad input is refused with one
line, each command is one audit event, and an insider's edit or deletion of
a task in the database is refused. Care-list visibility for clinicians is
tested in tests/unit/test_tasks.c (the command line acts as the operator)."""

from harness import registry, check, eq, sql, sql_exec
from fixtures import populated

CASES, case = registry()


def raise_task(cx, sid, reason, source="resp-1", **kw):
    args = ["tasks", "raise", "--subject", sid, "--reason", reason, "--source", source]
    for k, v in kw.items():
        args += ["--" + k, v]
    return cx.okj(*args)["id"]


def listing(cx, ctl, *extra):
    return cx.okj("tasks", "list", "--controller", ctl, *extra)["tasks"]


def events(cx):
    return sql(cx.db, "SELECT count(*) FROM audit_events")[0][0]


@case("tasks: raised, listed urgent first, acknowledged and closed, who and when recorded")
def t_lifecycle(ctx):
    cx, ids = populated(ctx)
    review = raise_task(cx, ids["s1"], "psfu_out_of_range")
    urgent = raise_task(cx, ids["s1"], "phq9_item9", detail="nearly every day")
    ts = listing(cx, ids["ctl1"])
    eq([t["id"] for t in ts], [urgent, review], "urgent first")
    eq(ts[0]["kind"], "urgent", "kind")
    eq(ts[0]["owner"], "care_team", "owner")
    check(ts[0]["has_detail"] and "nearly" not in cx.ok("--json", "tasks", "list",
                                                        "--controller", ids["ctl1"]).out,
          "the detail stays sealed", ts[0])
    eq(listing(cx, ids["ctl2"]), [], "another controller's list")
    before = events(cx)
    a = cx.okj("tasks", "ack", urgent)
    eq(a["state"], "acknowledged", "ack")
    check(a["acknowledged"]["by"] and a["acknowledged"]["at"] > 0, "who and when", a)
    d = cx.okj("tasks", "done", urgent)
    eq(d["state"], "done", "done")
    eq(d["acknowledged"], a["acknowledged"], "acknowledgement kept")
    check(d["done"]["at"] >= a["acknowledged"]["at"], "closed after it was acknowledged", d)
    eq(events(cx), before + 2, "one audit event per change")
    cx.fails(1, "tasks", "done", urgent, says="already done")
    cx.fails(1, "tasks", "ack", urgent, says="already done")
    eq(events(cx), before + 2, "a conflict records nothing")
    eq([t["id"] for t in listing(cx, ids["ctl1"], "--state", "open")], [review], "open")
    eq([t["id"] for t in listing(cx, ids["ctl1"], "--state", "done")], [urgent], "done")
    # Closing straight from open is allowed; the acknowledgement stays empty.
    d = cx.okj("tasks", "done", review)
    check("acknowledged" not in d, "no acknowledgement invented", d)


@case("tasks: bad input is refused with one line and writes nothing")
def t_bad_input(ctx):
    cx, ids = populated(ctx)
    before = events(cx)
    cx.fails(1, "tasks", "raise", "--subject", ids["s1"], "--reason", "free text",
             "--source", "r", says="reason must be")
    cx.fails(1, "tasks", "raise", "--subject", ids["s1"], "--reason", "phq9_item9",
             "--source", "a b", says="source")
    cx.fails(1, "tasks", "raise", "--subject", ids["s1"], "--reason", "phq9_item9",
             "--source", "r", "--detail", "two\nlines", says="detail")
    cx.fails(1, "tasks", "raise", "--subject", ids["s1"], "--reason", "phq9_item9",
             "--source", "r", "--owner", "nobody", says="owner")
    cx.fails(1, "tasks", "list", "--controller", ids["ctl1"], "--state", "closed",
             says="state must be")
    cx.fails(2, "tasks", "list")
    cx.fails(1, "tasks", "ack", "not-an-id", says="task id")
    cx.fails(1, "tasks", "ack", "00000000-0000-4000-8000-000000000000", says="no such task")
    eq(sql(cx.db, "SELECT count(*) FROM tasks")[0][0], 0, "no task written")
    check(events(cx) <= before + 2, "refusals before the store add nothing", events(cx))


@case("tasks: an insider's edit of a task's state, or a deleted task, is refused")
def t_tamper(ctx):
    cx, ids = populated(ctx)
    urgent = raise_task(cx, ids["s1"], "phq9_item9")
    other = raise_task(cx, ids["s1"], "psfu_out_of_range")
    cx.ok("verify")
    sql_exec(cx.db, ("UPDATE tasks SET state = 'done', done_by = 'insider', done_at = 1 "
                     "WHERE id = ?", (urgent,)))
    cx.fails(1, "tasks", "list", "--controller", ids["ctl1"], "--state", "open",
             says=["tasks %s has been altered" % urgent])
    r = cx.run("verify")
    eq(r.rc, 1, "verify of an altered task")
    check("tasks %s: altered" % urgent in r.out + r.err, "verify names the task", r.out + r.err)
    cx.fails(1, "tasks", "ack", urgent, says="altered")
    sql_exec(cx.db, ("UPDATE tasks SET state = 'open', done_by = '', done_at = 0 "
                     "WHERE id = ?", (urgent,)))
    eq(len(listing(cx, ids["ctl1"], "--state", "open")), 2, "put back")
    sql_exec(cx.db, ("DELETE FROM tasks WHERE id = ?", (urgent,)))
    cx.fails(1, "tasks", "list", "--controller", ids["ctl1"],
             says=["1 rows, 2 raised"])
    cx.fails(1, "tasks", "done", other, says="altered")
    r = cx.run("verify")
    eq(r.rc, 1, "verify after a task was deleted")
    check("tasks_head/%s: does not match the tasks" % ids["ctl1"] in r.out + r.err,
          "verify names the controller's tasks head", r.out + r.err)
