"""The audit trail's start: a trail emptied or cut at its start never verifies,
the server refuses such a store, and only the operator's recorded decision
(`custos audit restart`) starts a new trail. Every case tampers with a store
the way a database writer without the master key could."""

from harness import registry, check, eq, expect_error, sql, sql_exec, audit_count
from fixtures import populated, show
from http_client import Server

CASES, case = registry()

TRAIL_TABLES = ("audit_events", "audit_head", "audit_checkpoints")


def empty_trail(cx):
    sql_exec(cx.db, *["DELETE FROM %s" % t for t in TRAIL_TABLES])


def verify(cx):
    r = cx.run("--json", "audit", "verify")
    return r, (r.json() if r.out.strip() else {})


def expect_refused_to_serve(cx, says=()):
    srv = Server(cx)
    try:
        srv.start(timeout=20)
    except Exception:
        err = srv.stderr()
        check("audit restart" in err, "serve refused without naming the way out", err[-2000:])
        for s in says:
            check(s in err, "serve's refusal does not say %r" % s, err[-2000:])
        return
    srv.stop(check_rc=False)
    raise AssertionError("custos serve started on a store whose trail was lost")


@case("a populated store's trail is pinned at init and verifies; the pin is signed")
def t_pinned(ctx):
    cx, ids = populated(ctx)
    r, j = verify(cx)
    eq(r.rc, 0, "audit verify exit")
    eq(j.get("first_event"), 1, "the trail begins at event 1")
    pin = sql(cx.db, "SELECT value FROM meta WHERE key = 'audit_pin'")
    check(len(pin) == 1 and len(pin[0][0]) == 137, "no signed pin in meta", pin)
    with Server(cx):
        pass


@case("an emptied trail (events, head, checkpoints deleted) fails verification, stays failed after use, and serve refuses the store")
def t_emptied(ctx):
    cx, ids = populated(ctx)
    show(cx, ids["s1"])
    empty_trail(cx)
    r, j = verify(cx)
    expect_error(r, 1, says=("FAILED", "pinned first event 1"))
    eq(j.get("ok"), False, "verify ok on an emptied trail")
    r = cx.run("verify")
    expect_error(r, 1, says=("FAILED",))
    # Ordinary use appends new events from the genesis; the trail must not heal.
    cx.run("subject", "show", ids["s1"])
    cx.run("--purpose", "administration", "subject", "list")
    r, j = verify(cx)
    expect_error(r, 1, says=("FAILED",))
    eq(j.get("first_bad_event"), 1, "first bad event after use")
    expect_refused_to_serve(cx, says=("pinned first event",))


@case("the whole trail and its pin deleted from a store with data: verify fails and serve refuses")
def t_emptied_and_unpinned(ctx):
    cx, ids = populated(ctx)
    empty_trail(cx)
    sql_exec(cx.db, "DELETE FROM meta WHERE key = 'audit_pin'")
    r, j = verify(cx)
    expect_error(r, 1, says=("not pinned",))
    expect_refused_to_serve(cx, says=("not pinned",))


@case("a forged or altered pin is refused: a flipped byte, a pin copied from another store")
def t_forged_pin(ctx):
    cx, ids = populated(ctx)
    cy, idy = populated(ctx)
    cz = ctx.copy_store(cx)
    pin = bytearray(sql(cx.db, "SELECT value FROM meta WHERE key = 'audit_pin'")[0][0])
    pin[0] ^= 0x01  # start moved
    sql_exec(cx.db, ("UPDATE meta SET value = ? WHERE key = 'audit_pin'", (bytes(pin),)))
    r, j = verify(cx)
    expect_error(r, 1, says=("pin",))
    expect_refused_to_serve(cx, says=("pin",))
    # another store's genuine pin does not fit this one
    other = sql(cy.db, "SELECT value FROM meta WHERE key = 'audit_pin'")[0][0]
    sql_exec(cz.db, ("UPDATE meta SET value = ? WHERE key = 'audit_pin'", (other,)))
    r, j = verify(cz)
    expect_error(r, 1, says=("pin",))


@case("a trail cut at its start (the first events deleted) fails naming event 1, and stays failed")
def t_cut_start(ctx):
    cx, ids = populated(ctx)
    show(cx, ids["s1"])
    sql_exec(cx.db, "DELETE FROM audit_events WHERE seq <= 3")
    r, j = verify(cx)
    expect_error(r, 1, says=("FAILED",))
    eq(j.get("first_bad_event"), 1, "first bad event")
    expect_refused_to_serve(cx)


@case("audit restart: refused on an intact trail; after a loss it records the decision as the new trail's first event, and serve starts again")
def t_restart(ctx):
    cx, ids = populated(ctx)
    n = audit_count(cx)
    r = cx.run("audit", "restart")
    expect_error(r, 1, says=("nothing to restart",))
    eq(audit_count(cx), n, "events after a refused restart")
    empty_trail(cx)
    cx.run("--purpose", "administration", "subject", "list")  # events appended after the loss, before the decision
    r = cx.okj("audit", "restart")
    seq = r["first_event"]
    row = sql(cx.db, "SELECT seq, actor FROM audit_events WHERE seq = ?", (seq,))
    eq(len(row), 1, "the decision is an event")
    ev = cx.run("--json", "audit", "show").json_lines()
    last = [e for e in ev if e.get("seq") == seq]
    check(last and "audit restart" in last[0].get("via", ""), "the restart event names the decision", ev[-3:])
    r, j = verify(cx)
    eq(r.rc, 0, "verify after restart: " + r.err)
    eq(j.get("first_event"), seq, "verification begins at the restart")
    plain = cx.ok("audit", "verify").out
    check("restarted by the operator at event %d" % seq in plain, "verify says the trail was restarted", plain)
    with Server(cx):
        pass
    # and a second loss after the restart is caught again
    sql_exec(cx.db, ("DELETE FROM audit_events WHERE seq = ?", (seq,)))
    r, j = verify(cx)
    expect_error(r, 1, says=("FAILED",))
