"""The audit trail: one event per command that touches personal data, and
tamper detection through `custos audit verify`."""

import hashlib
import re

from harness import registry, check, eq, expect_error, sql, sql_exec, audit_count
from fixtures import PERSON1, NHS1, NHS_UNUSED, EMAIL1_NORM, doc, populated, show, item_by_field

CASES, case = registry()


UNKNOWN_ID = "0badc0de-0000-4000-8000-00000000beef"


def busy_store(ctx):
    """A populated store with a dozen events or so."""
    cx, ids = populated(ctx)
    show(cx, ids["s1"])
    cx.ok("subject", "find", "--email", EMAIL1_NORM)
    cx.ok("--purpose", "administration", "subject", "list")
    cx.ok("subject", "rectify", ids["s2"], stdin=doc({"postcode": "KQ4 9XX"}))
    show(cx, ids["s2"])
    cx.ok("subject", "find", "--nhs-number", NHS1)
    cx.ok("subject", "add-items", ids["s1"], stdin=doc({"items": [
        {"category": "health", "field": "observation", "value": "Mome rath outgrabe"}]}))
    show(cx, ids["s1"])
    n = audit_count(cx)
    check(n >= 10, "expected at least 10 events, have %d" % n)
    return cx, ids, n


def verify(cx):
    """Runs audit verify --json; returns (exit status, report, stderr)."""
    r = cx.run("--json", "audit", "verify")
    return r, r.json() if r.out.strip() else {}


def expect_intact(cx, what):
    n = audit_count(cx)
    r, j = verify(cx)
    check(r.rc == 0, "audit verify failed " + what, r.describe())
    eq(j.get("ok"), True, "verify ok " + what)
    eq(j.get("events"), n, "events verified " + what)
    check(j.get("signatures", 0) >= 1, "no signature checked " + what, j)
    check("first_bad_event" not in j, "first_bad_event on an intact trail", j)


def expect_bad(cx, seq, what, says=()):
    r, j = verify(cx)
    expect_error(r, 1, says=("FAILED",) + tuple(says))
    eq(j.get("ok"), False, "verify ok after " + what)
    eq(j.get("first_bad_event"), seq, "first_bad_event after " + what)
    # the message names the event, or the last good one (truncated or unsigned tail)
    named = ("event %d" % seq, "ends at %d" % (seq - 1), "after %d " % (seq - 1))
    check(any(n in r.err for n in named),
          "stderr does not name event %d after %s" % (seq, what), r.describe())
    check(j.get("problem") and any(n in j["problem"] for n in named), "JSON problem", j)
    # the plain form says the same
    r2 = cx.run("audit", "verify")
    expect_error(r2, 1)
    check(any(n in r2.err for n in named), "plain verify names the event", r2.describe())
    eq(r2.out, "", "stdout of a failed verify")
    return j


def body(cx, seq):
    return sql(cx.db, "SELECT body FROM audit_events WHERE seq = ?", (seq,))[0][0]


def set_body(cx, seq, b):
    sql_exec(cx.db, ("UPDATE audit_events SET body = ? WHERE seq = ?", (bytes(b), seq)))


@case("an untouched store verifies (exit 0); audit head is signed with the node's recorded key")
def t_intact(ctx):
    cx, ids, n = busy_store(ctx)
    r = cx.ok("audit", "verify")
    check(re.search(r"intact: %d events, \d+ signatures? verified" % n, r.out),
          "verify text", r.out)
    expect_intact(cx, "untouched")
    head = cx.ok("audit", "head").json()
    eq(head["verified"], True, "head verified")
    eq(head["seq"], audit_count(cx), "head seq (the head command's own event included)")
    spk = sql(cx.db, "SELECT value FROM meta WHERE key = 'audit_public_key'")[0][0]
    eq(head["store_public_key"], bytes(spk).hex(), "store public key")
    check(head.get("node"), "the head names the node that signed it", head)
    pk = sql(cx.db, "SELECT public_key FROM node_keys WHERE node = ?", (head["node"],))
    eq(len(pk), 1, "the node's key is recorded")
    eq(head["public_key"], bytes(pk[0][0]).hex(), "head public key")
    check(head["public_key"] != head["store_public_key"], "a node key of its own", head)
    check(re.match(r"^[0-9a-f]{128}$", head["signature"]), "head signature", head)
    seqs = [r[0] for r in sql(cx.db, "SELECT seq FROM audit_events ORDER BY seq")]
    eq(seqs, list(range(1, len(seqs) + 1)), "event numbers")


@case("audit verify names an event whose body had one byte flipped (several positions)")
def t_flip_byte(ctx):
    cx, ids, n = busy_store(ctx)
    target = n // 2
    orig = body(cx, target)
    for pos in (0, 5, 11, len(orig) // 2, len(orig) - 1):
        b = bytearray(orig)
        b[pos] ^= 0x20
        set_body(cx, target, b)
        expect_bad(cx, target, "flipping byte %d of event %d" % (pos, target))
        set_body(cx, target, orig)
        expect_intact(cx, "after restoring event %d" % target)
    # the first event too
    first = body(cx, 1)
    b = bytearray(first)
    b[-1] ^= 1
    set_body(cx, 1, b)
    expect_bad(cx, 1, "flipping the last byte of event 1")


@case("audit verify names an event whose stored hash, actor or subject column was changed")
def t_alter_columns(ctx):
    cx, ids, n = busy_store(ctx)
    target = n - 3
    h = bytearray(sql(cx.db, "SELECT hash FROM audit_events WHERE seq = ?", (target,))[0][0])
    h[0] ^= 0xff
    sql_exec(cx.db, ("UPDATE audit_events SET hash = ? WHERE seq = ?", (bytes(h), target)))
    expect_bad(cx, target, "altering a stored hash")
    cy, idy, ny = busy_store(ctx)
    sid_events = [r[0] for r in sql(cy.db, "SELECT seq FROM audit_events WHERE subject_id = ?"
                                    " ORDER BY seq", (idy["s1"],))]
    t = sid_events[1]
    sql_exec(cy.db, ("UPDATE audit_events SET subject_id = ? WHERE seq = ?", (idy["s2"], t)))
    expect_bad(cy, t, "moving an event to another subject")
    cz, idz, nz = busy_store(ctx)
    sql_exec(cz.db, ("UPDATE audit_events SET actor = 'mallory' WHERE seq = ?", (3,)))
    expect_bad(cz, 3, "changing an event's actor column")


@case("audit verify names an event deleted from the middle of the chain")
def t_delete_middle(ctx):
    cx, ids, n = busy_store(ctx)
    target = n // 2
    sql_exec(cx.db, ("DELETE FROM audit_events WHERE seq = ?", (target,)))
    expect_bad(cx, target, "deleting event %d" % target, says=("missing",))
    # deleting the first event
    cy, idy, ny = busy_store(ctx)
    sql_exec(cy.db, "DELETE FROM audit_events WHERE seq = 1")
    expect_bad(cy, 1, "deleting event 1")


@case("audit verify names the first of two events whose body and hash were swapped")
def t_swap(ctx):
    cx, ids, n = busy_store(ctx)
    a, b = 3, n - 2
    ra = sql(cx.db, "SELECT body, hash FROM audit_events WHERE seq = ?", (a,))[0]
    rb = sql(cx.db, "SELECT body, hash FROM audit_events WHERE seq = ?", (b,))[0]
    sql_exec(cx.db,
             ("UPDATE audit_events SET body = ?, hash = ? WHERE seq = ?", (rb[0], rb[1], a)),
             ("UPDATE audit_events SET body = ?, hash = ? WHERE seq = ?", (ra[0], ra[1], b)))
    expect_bad(cx, a, "swapping events %d and %d" % (a, b))
    # a swap of two neighbours, with their seq, ts, actor and subject columns too
    cy, idy, ny = busy_store(ctx)
    a, b = 5, 6
    rows = {s: sql(cy.db, "SELECT ts, actor, subject_id, body, hash FROM audit_events "
                          "WHERE seq = ?", (s,))[0] for s in (a, b)}
    upd = "UPDATE audit_events SET ts = ?, actor = ?, subject_id = ?, body = ?, hash = ? " \
          "WHERE seq = ?"
    sql_exec(cy.db, (upd, tuple(rows[b]) + (a,)), (upd, tuple(rows[a]) + (b,)))
    expect_bad(cy, a, "swapping neighbours %d and %d" % (a, b))


@case("audit verify detects a truncated chain (the last events deleted) and names it")
def t_truncate(ctx):
    cx, ids, n = busy_store(ctx)
    sql_exec(cx.db, ("DELETE FROM audit_events WHERE seq > ?", (n - 3,)))
    expect_bad(cx, n - 2, "deleting the last 3 events", says=("truncated",))
    # deleting only the very last event
    cy, idy, ny = busy_store(ctx)
    sql_exec(cy.db, ("DELETE FROM audit_events WHERE seq = ?", (ny,)))
    expect_bad(cy, ny, "deleting the last event")
    # deleting every event
    cz, idz, nz = busy_store(ctx)
    sql_exec(cz.db, "DELETE FROM audit_events")
    r, j = verify(cz)
    expect_error(r, 1, says="FAILED")
    eq(j.get("ok"), False, "verify after deleting every event")


@case("a truncation stays detectable after further commands append to the trail")
def t_truncate_then_use(ctx):
    cx, ids, n = busy_store(ctx)
    sql_exec(cx.db, ("DELETE FROM audit_events WHERE seq > ?", (n - 3,)))
    # ordinary use of the store after the tampering, before anyone verifies
    r = cx.run("subject", "show", ids["s1"])
    r2 = cx.run("--purpose", "administration", "subject", "list")
    # the store appends to the shortened chain (only verification looks at the
    # whole trail), and a later verify must still report the truncation
    eq((r.rc, r2.rc), (0, 0), "exit status of commands after the truncation")
    r3, j = verify(cx)
    check(r3.rc == 1 and j.get("ok") is False,
          "the truncation was hidden by later commands (they re-signed the shortened chain)",
          "after: " + r.describe(), r2.describe(), r3.describe())
    eq(j.get("first_bad_event"), n - 2, "first_bad_event after truncation and use")


def forge_head(cx):
    sig = bytearray(sql(cx.db, "SELECT sig FROM audit_head")[0][0])
    sig[10] ^= 0x01
    sql_exec(cx.db, ("UPDATE audit_head SET sig = ?", (bytes(sig),)))


def forge_tail_event(cx):
    """Appends a forged event after the last one, with a correct chain hash
    (the chain is unkeyed BLAKE2b-256) but no signature. Returns its seq."""
    seq, ts, actor, subject, body_, hash_ = sql(
        cx.db, "SELECT seq, ts, actor, subject_id, body, hash FROM audit_events "
               "ORDER BY seq DESC LIMIT 1")[0]
    b = bytearray(body_)
    eq(bytes(b[:4]), b"CUA2", "event body magic")
    b[4:12] = (seq + 1).to_bytes(8, "big")
    b[12:20] = (ts + 1).to_bytes(8, "big")
    h = hashlib.blake2b(bytes(hash_) + bytes(b), digest_size=32).digest()
    sql_exec(cx.db, ("INSERT INTO audit_events(seq, ts, actor, subject_id, body, hash) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (seq + 1, ts + 1, actor, subject, bytes(b), h)))
    return seq + 1


@case("an unsigned event forged onto the end stays detectable after further commands")
def t_forged_tail(ctx):
    cx, ids, n = busy_store(ctx)
    forged = forge_tail_event(cx)
    # detected at once: the chain is intact, but the head does not cover it
    expect_bad(cx, forged, "forging event %d" % forged)
    # ... and still after the verifications (which append events) and normal use
    cx.ok("--purpose", "administration", "subject", "list")
    show(cx, ids["s1"])
    r, j = verify(cx)
    check(r.rc == 1 and j.get("ok") is False,
          "a forged event was signed into the trail by later commands", r.describe())
    eq(j.get("first_bad_event"), forged, "first_bad_event after forging and use")
    # the same with a forged last event replacing the genuine one
    cy, idy, ny = busy_store(ctx)
    sql_exec(cy.db, ("DELETE FROM audit_events WHERE seq = ?", (ny,)))
    forged = forge_tail_event(cy)
    eq(forged, ny, "forged seq")
    cy.ok("--purpose", "administration", "subject", "list")
    r, j = verify(cy)
    check(r.rc == 1 and j.get("ok") is False,
          "a replaced last event was signed into the trail by a later command", r.describe())


@case("a forged signed head, or a deleted head, is detected")
def t_head(ctx):
    cx, ids, n = busy_store(ctx)
    # (each command re-signs the head over the chain it verified intact, so
    # forge again before each check)
    forge_head(cx)
    r, j = verify(cx)
    expect_error(r, 1, says="FAILED")
    eq(j.get("ok"), False, "verify with a forged head signature")
    forge_head(cx)
    r = cx.run("audit", "head")
    eq(r.rc, 1, "audit head exit with a forged signature")
    eq(r.json()["verified"], False, "audit head verified")
    forge_head(cx)
    st = cx.okj("status")
    eq(st["audit"]["verified"], False, "status with a forged head")
    forge_head(cx)
    check("FAILED" in cx.ok("status").out, "status text with a forged head")
    cy, idy, ny = busy_store(ctx)
    sql_exec(cy.db, "DELETE FROM audit_head")
    r, j = verify(cy)
    expect_error(r, 1, says="FAILED")
    eq(j.get("ok"), False, "verify without a head")


@case("erasing a subject leaves the chain verifiable; events keep no personal values")
def t_erase_verifies(ctx):
    cx, ids, n = busy_store(ctx)
    cx.ok("subject", "rectify", ids["s1"], stdin=doc({"name": "Zeb Fotheringay"}))
    cx.ok("subject", "erase", ids["s1"])
    expect_intact(cx, "after erase")
    cx.ok("subject", "erase", ids["s2"])
    expect_intact(cx, "after erasing everyone")
    evs = cx.ok("audit", "show", "--json", "--with-values").out
    for s in (PERSON1["name"], NHS1, EMAIL1_NORM, "Zeb Fotheringay"):
        check(s not in evs, "audit show reveals %r after erase" % s)
    for (b,) in sql(cx.db, "SELECT body FROM audit_events"):
        for s in (PERSON1["name"], NHS1, EMAIL1_NORM, "Zeb Fotheringay"):
            check(s.encode() not in bytes(b), "an audit body holds %r" % s)


def one_event(cx, args, stdin=b"", rc=0, action=None, outcome="ok", subject=None,
              purpose="administration"):
    n = audit_count(cx)
    r = cx.run(*args, stdin=stdin)
    if rc == 0:
        check(r.rc == 0, "command failed", r.describe())
    else:
        expect_error(r, rc)
    eq(audit_count(cx) - n, 1, "audit events appended by `%s`" % " ".join(args))
    body_seq = sql(cx.db, "SELECT max(seq) FROM audit_events")[0][0]
    ev = [e for e in cx.ok("audit", "show", "--json").json_lines() if e["seq"] == body_seq][0]
    if action:
        eq(ev["action"], action, "action of `%s`" % " ".join(args))
    eq(ev["outcome"], outcome, "outcome of `%s`" % " ".join(args))
    if subject is not None:
        eq(ev["subject"], subject, "subject of `%s`" % " ".join(args))
    eq(ev["purpose"], purpose, "purpose of `%s`" % " ".join(args))
    check(ev["via"].startswith("cli "), "via", ev)
    return r, ev


@case("every command that touches personal data appends exactly one audit event")
def t_one_event_each(ctx):
    cx, ids = populated(ctx)
    ctl = ids["ctl1"]
    r, _ = one_event(cx, ["subject", "add", "--controller", ctl, "--kind", "patient"],
                     stdin=doc({"name": "Audit Counted", "nhs_number": NHS_UNUSED}),
                     action="create")
    sid = r.out.strip()
    one_event(cx, ["subject", "show", sid], action="read", subject=sid)
    one_event(cx, ["--json", "subject", "show", sid], action="read", subject=sid)
    one_event(cx, ["subject", "find", "--nhs-number", NHS_UNUSED], action="search",
              subject=sid)
    one_event(cx, ["subject", "find", "--email", "absent@example.org"], rc=1,
              action="search", outcome="not_found")
    one_event(cx, ["--purpose", "administration", "subject", "list"], action="search")
    one_event(cx, ["--purpose", "administration", "subject", "list", "--controller", ctl])
    r, ev = one_event(cx, ["subject", "add-items", sid], stdin=doc({"items": [
        {"category": "health", "field": "diagnosis", "value": "Counted once"}]}),
        action="create", subject=sid)
    check("health" in ev["categories"], "categories of add-items", ev)
    dx = item_by_field(show(cx, sid), "diagnosis")
    one_event(cx, ["subject", "rectify", sid], stdin=doc({
        "name": "Audit Counted Twice", "items": [{"id": dx["id"], "value": "Counted"}]}),
        action="update", subject=sid)
    one_event(cx, ["--purpose", "direct_care", "subject", "show", sid], action="read",
              subject=sid, purpose="direct_care")
    one_event(cx, ["subject", "show", UNKNOWN_ID], rc=1, action="read", outcome="not_found")
    one_event(cx, ["subject", "erase", sid], subject=sid)
    one_event(cx, ["subject", "show", sid], rc=1, outcome="erased", subject=sid)
    one_event(cx, ["audit", "show", "--subject", sid])
    # help and usage errors are not accesses
    n = audit_count(cx)
    cx.ok("subject", "show", "--help")
    expect_error(cx.run("subject", "show"), 2)
    expect_error(cx.run("subject", "add", "--controller", ctl, "--kind", "patient",
                        stdin=b"{"), 1)
    eq(audit_count(cx), n, "events after help, usage and parse errors")
    expect_intact(cx, "after the counted commands")
