"""Erasure requests decided item by item (plan, DPO approval, execution,
certificate), item-level crypto-shredding, the erasure ledger, and backups
that respect erasure (backup, erase, restore with the ledger)."""

import json
import os
import re
import stat
import time

from harness import (registry, check, eq, Fail, sql, store_files, read_bytes, snapshot, diff_dumps,
                     is_pg, db_bytes, sqlite_only)
from fixtures import ROOT, new_store, doc, sql_value, no_plaintext_in
from http_client import events_after, audit_seq

CASES, case = registry()

HEALTHYA = os.path.join(ROOT, "profiles", "healthya.json")
THERAPYAUDIT = os.path.join(ROOT, "profiles", "therapyaudit.json")

PATIENT = {"name": "Ignatius Vexbottom", "birth_date": "1964-08-09",
           "email": "ignatius@example.org",
           "items": [{"category": "health", "field": "diagnosis",
                      "value": "Recurrent jabberwock tremor", "collected_at": "2019-04-01"}]}
WEB_USER = {"name": "Ottoline Quarrendon", "email": "ottoline@example.org",
            "items": [{"category": "online_identifier", "field": "ip_address",
                       "value": "198.51.100.23"}]}
EMPLOYEE = {"name": "Perpetua Snoddington", "email": "perpetua@example.org",
            "items": [{"category": "workplace_education_financial", "field": "salary_band",
                       "value": "Band 7 glockenspiel"}]}
EMPLOYEE_IP = {"items": [{"category": "online_identifier", "field": "ip_address",
                          "value": "203.0.113.77"}]}
NINE_YEARS = 9 * 366 * 86400


def later(seconds):
    return {"CUSTOS_FAKE_NOW": str(int(time.time()) + seconds)}


def test_clock(cx):
    """Cases that move time need a binary built for tests (-Dtest_clock=true,
    as make test builds it): a production build ignores CUSTOS_FAKE_NOW."""
    v = cx.run("--version", store=False).out
    if "test build" not in v:
        raise Fail("this case needs a test build (meson -Dtest_clock=true): " + v.strip())


def therapy_store(ctx):
    cx = new_store(ctx)
    ctl = cx.ok("controller", "add", "--name", "therapyaudit", "--policy", THERAPYAUDIT).out.strip()
    pid = cx.ok("--purpose", "direct_care", "subject", "add", "--controller", ctl,
                "--kind", "patient", stdin=doc(PATIENT)).out.strip()
    wid = cx.ok("--purpose", "website_access", "subject", "add", "--controller", ctl,
                "--kind", "web_user", stdin=doc(WEB_USER)).out.strip()
    return cx, ctl, pid, wid


def healthya_employee(cx, policy=HEALTHYA):
    ctl = cx.ok("controller", "add", "--name", "healthya", "--policy", policy).out.strip()
    eid = cx.ok("--purpose", "employment", "subject", "add", "--controller", ctl,
                "--kind", "employee", stdin=doc(EMPLOYEE)).out.strip()
    cx.ok("--purpose", "network_security", "subject", "add-items", eid, stdin=doc(EMPLOYEE_IP))
    return ctl, eid


def plan(cx, sid, env=None):
    return cx.ok("--json", "erasure", "plan", sid, env=cx.env(env) if env else None).json()


def all_bytes(cx):
    """The bytes of the store's files, and of its database on PostgreSQL."""
    data = b"".join(read_bytes(f) for f in store_files(cx.store))
    if is_pg(cx.db):
        data += db_bytes(cx.db)
    return data


@case("erasure plan: therapyaudit keeps health records 8 years after last contact, stating "
      "the rule and the earliest date; execute is refused, audited, and changes nothing")
def t_refused_inside(ctx):
    cx, ctl, pid, wid = therapy_store(ctx)
    p = plan(cx, pid)
    eq(p["format"], "custos-erasure-plan/1", "plan format")
    eq(p["to_erase"], [], "nothing erasable inside the retention period")
    check(len(p["to_keep"]) == 4, "every item kept", p)
    year = int(time.strftime("%Y", time.gmtime()))
    for k in p["to_keep"]:
        eq(k["reason"], "retention-period", "reason")
        eq(k["rule"], "health_records", "rule")
        eq(k["trigger"], "last_contact", "trigger")
        check(k["earliest_erasure"].startswith(str(year + 8)), "earliest date", k)
    text = cx.ok("erasure", "plan", pid).out
    check("erasure possible from %d-" % (year + 8) in text, "md plan states the date", text)
    before_seq = audit_seq(cx.db)
    before = snapshot(cx)
    cx.fails(1, "erasure", "execute", pid, says=("retention-period", "custos erasure plan"))
    evs = events_after(cx.db, before_seq)
    eq([(e["action"], e["outcome"], e["rule"]) for e in evs],
       [("erase", "denied", "retention-period")], "one denied event")
    rows = lambda d: [t for t in d if not str(t[0]).startswith("audit")]  # noqa: E731
    if rows(snapshot(cx)[0]) != rows(before[0]):
        raise Fail("a refused erasure changed the store:\n%s"
                   % diff_dumps(before[0], snapshot(cx)[0]))
    check(not os.path.exists(os.path.join(cx.store, "erasure.ledger")),
          "a refusal wrote the ledger")
    # the patient is still whole
    cx.ok("--purpose", "direct_care", "subject", "show", pid)


@case("erasure execute: non-health website data is erased at once, whole subject; the "
      "certificate (json and md) lists it with the rule and the recipients of earlier "
      "disclosures to tell (Art 19)")
def t_web_user_granted(ctx):
    cx, ctl, pid, wid = therapy_store(ctx)
    # a share of the contact details by letter, recorded before the erasure
    cx.ok("--purpose", "enquiries", "disclose", wid, "--organisation",
          "Quarrendon Community Pharmacy", "--basis", "f", "--channel", "letter",
          "--categories", "contact")
    c = cx.okj("erasure", "execute", wid)
    eq(c["format"], "custos-erasure-certificate/1", "certificate format")
    eq(c["executed"], True, "executed")
    eq(len(c["erased"]), 3, "erased items")
    eq(c["kept"], [], "kept")
    for e in c["erased"]:
        eq((e["reason"], e["rule"]), ("erase-on-request", "non_health"), "why erased")
    eq([(r["organisation"], r["channel"]) for r in c["recipients_to_notify"]],
       [("Quarrendon Community Pharmacy", "letter")], "recipients to notify (Art 19)")
    check("whole-subject" in c["method"], "method", c)
    eq(c["ledger_entry"], 1, "ledger entry")
    cx.fails(1, "--purpose", "website_access", "subject", "show", wid, says="erased")
    eq(sql_value(cx.db, "SELECT count(*) FROM items WHERE subject_id = ?", (wid,)), 0, "items")
    eq(sql_value(cx.db, "SELECT count(*) FROM identifiers WHERE subject_id = ?", (wid,)), 0,
       "blind indexes")
    data = all_bytes(cx)
    no_plaintext_in(data, ("Ottoline", "198.51.100.23", "ottoline@example.org"),
                    "the store files")
    led = open(os.path.join(cx.store, "erasure.ledger")).read()
    check(wid in led and "Ottoline" not in led, "ledger holds ids only", led)
    eq(os.stat(os.path.join(cx.store, "erasure.ledger")).st_mode & 0o777, 0o600, "ledger mode")
    # a certificate written to a file, in markdown
    out = os.path.join(ctx.tmp.make(), "cert.md")
    cx2, _, _, wid2 = therapy_store(ctx)
    cx2.ok("erasure", "execute", "--format", "md", "--out", out, wid2)
    md = open(out).read()
    check(md.startswith("# Certificate of erasure") and "## Erased" in md and
          "Recipients to notify" in md, "markdown certificate", md)
    cx.ok("audit", "verify")


@case("erasure approval: outside retention, health items need the DPO's approval of the "
      "plan digest; a missing or stale digest is refused; the approval is recorded")
def t_health_approval(ctx):
    cx, ctl, pid, wid = therapy_store(ctx)
    test_clock(cx)
    env = later(NINE_YEARS)
    p = plan(cx, pid, env)
    eq(len(p["to_erase"]), 4, "all granted after 8 years")
    eq(p["health_approval_needed"], True, "approval needed")
    check(any(e["needs_approval"] for e in p["to_erase"]), "health item flagged", p)
    digest = p["plan_digest"]
    cx.fails(1, "erasure", "execute", pid, env=cx.env(env),
             says=("health-approval-required", digest))
    cx.fails(1, "erasure", "execute", "--approve-health", "0123456789abcdef", pid,
             env=cx.env(env), says="plan-changed")
    cx.fails(2, "erasure", "plan", "--approve-health", digest, pid, says="execute")
    cx.ok("--purpose", "direct_care", "subject", "show", pid, env=cx.env(env))
    c = cx.ok("--json", "erasure", "execute", "--approve-health", digest, pid,
              env=cx.env(env)).json()
    eq(c["health_approval"]["plan_digest"], digest, "approval in the certificate")
    check(c["health_approval"]["approved_by"], "approver named", c)
    eq(len(c["erased"]), 4, "erased")
    cx.fails(1, "--purpose", "direct_care", "subject", "show", pid, says="erased")
    data = all_bytes(cx)
    no_plaintext_in(data, ("Vexbottom", "jabberwock", "1964-08-09"), "the store files")


@case("item-level erasure: erased items and their ciphertext are gone, kept items are "
      "re-encrypted under key version 2 and still readable, consent evidence too")
def t_item_level(ctx):
    cx = new_store(ctx)
    # healthya, with newsletters offered to staff too: a consent with evidence
    pol = json.load(open(HEALTHYA))
    for p in pol["purposes"]:
        if p["id"] == "newsletters":
            p["subject_kinds"].append("employee")
    path = os.path.join(ctx.tmp.make(), "healthya-staff-news.json")
    with open(path, "w") as f:
        json.dump(pol, f)
    ctl, eid = healthya_employee(cx, path)
    cx.ok("consent", "give", eid, "newsletters", "--method", "web_form",
          "--evidence", "ticked box on the staff portal")
    p = plan(cx, eid)
    erase = [e["field"] for e in p["to_erase"]]
    eq(erase, ["ip_address"], "only the network log item is erasable")
    kept = {k["field"]: k for k in p["to_keep"]}
    eq(kept["salary_band"]["rule"], "employee_records", "employee rule")
    ip_item = p["to_erase"][0]["item"]
    old_ip = sql_value(cx.db, "SELECT value FROM items WHERE id = ?", (ip_item,))
    old_kept = dict(sql(cx.db, "SELECT id, value FROM items WHERE subject_id = ? AND id != ?",
                        (eid, ip_item)))
    c = cx.okj("erasure", "execute", eid)
    check("item-level" in c["method"], "method", c)
    eq(c["key_version"], 2, "new key version")
    eq([e["item"] for e in c["erased"]], [ip_item], "erased")
    eq(sql_value(cx.db, "SELECT version FROM subject_keys WHERE subject_id = ?", (eid,)), 2,
       "stored key version")
    eq(sql_value(cx.db, "SELECT count(*) FROM items WHERE id = ?", (ip_item,)), 0, "row gone")
    now_kept = dict(sql(cx.db, "SELECT id, value FROM items WHERE subject_id = ?", (eid,)))
    eq(sorted(now_kept), sorted(old_kept), "kept items")
    for k, v in now_kept.items():
        check(v != old_kept[k], "kept item %s not re-encrypted" % k)
    data = all_bytes(cx)
    check(bytes(old_ip) not in data, "the erased item's ciphertext is still in the files")
    check(b"203.0.113.77" not in data, "erased plaintext in the files")
    v = cx.ok("--json", "--purpose", "employment", "subject", "show", eid).json()
    fields = sorted(i["field"] for i in v["items"])
    check("ip_address" not in fields and "salary_band" in fields, "kept readable", fields)
    check(any(i["value"] == "Band 7 glockenspiel" for i in v["items"]), "kept value", v)
    r = cx.ok("--json", "consent", "show", eid).json()
    check("ticked box" in json.dumps(r), "consent evidence readable after re-keying", r)
    cx.ok("audit", "verify")
    # again: nothing more may go
    cx.fails(1, "erasure", "execute", eid, says="retention-period")


@case("erasure input: bad subject ids, dates and options are one-line errors")
def t_bad_input(ctx):
    cx, ctl, pid, wid = therapy_store(ctx)
    for args, rc in ((["erasure", "plan", "nope"], 1),
                     (["erasure", "plan"], 2),
                     (["erasure", "plan", "--died", "2020-02-30", pid], 2),
                     (["erasure", "plan", "--treatment-ended", "yesterday", pid], 2),
                     (["erasure", "execute", "--format", "pdf", pid], 2),
                     (["erasure", "plan", "4f1c2a56-9b7e-4d3a-8c2b-1e5f6a7b8c9d"], 1),
                     (["erasure", "frobnicate"], 2)):
        r = cx.run(*args)
        eq(r.rc, rc, "exit of %s" % args)
        eq(len(r.err.strip().splitlines()), 1, "one-line error for %s" % args)
    # a death date makes a death-triggered rule computable; here none applies
    plan(cx, pid)


@case("backup and restore: erasures after the backup (whole subject and item level) are "
      "applied again, audited, before the restored store serves; the trail verifies")
@sqlite_only("a backup is an encrypted copy of the custos.db file; restore writes that file")
def t_backup_restore(ctx):
    cx, ctl, pid, wid = therapy_store(ctx)
    hctl, eid = healthya_employee(cx)
    bdir = ctx.tmp.make()
    backup = os.path.join(bdir, "custos.backup")
    j = cx.okj("backup", backup)
    eq(os.stat(backup).st_mode & 0o777, 0o600, "backup mode")
    raw = read_bytes(backup)
    check(raw.startswith(b"CUSTOSBK"), "backup magic")
    for s in (b"SQLite format 3", b"Ottoline", b"ottoline@example.org"):
        check(s not in raw, "backup not encrypted: %r" % s)
    cx.fails(1, "backup", backup, says="exists")
    check(not [f for f in os.listdir(cx.store) if f.startswith(".backup-")],
          "the plain copy of a backup stays behind")
    # an interrupted backup's plain copy is removed at the next open
    stale = os.path.join(cx.store, ".backup-99999.db")
    with open(stale, "wb") as f:
        f.write(b"SQLite format 3\0stale")
    cx.ok("status")
    check(not os.path.exists(stale), "a stale backup copy survives an open")
    ip_item = plan(cx, eid)["to_erase"][0]["item"]
    cert = cx.okj("erasure", "execute", wid)
    cx.okj("erasure", "execute", eid)
    # the certificate's events in the order they happened
    check(cert["decided_at"] <= cert["executed_at"], "executed before it was decided", cert)
    ledger = os.path.join(cx.store, "erasure.ledger")
    new = os.path.join(ctx.tmp.make(), "restored")
    rx = ctx.custos(store=new)
    # no ledger: refused, nothing left behind
    rx.fails(1, "restore", "--key", cx.master_key, backup, says="--ledger")
    check(not os.path.exists(os.path.join(new, "custos.db")), "half-restored store left")
    # a damaged backup: refused, nothing left behind
    bad = os.path.join(bdir, "bad.backup")
    with open(bad, "wb") as f:
        f.write(raw[:-40])
    rx.fails(1, "restore", "--key", cx.master_key, "--ledger", ledger, bad, says="truncated")
    check(not os.path.exists(os.path.join(new, "custos.db")), "damaged restore left a store")
    check(not os.path.exists(os.path.join(new, "erasure.ledger")), "damaged restore left ledger")
    flipped = bytearray(raw)
    flipped[200] ^= 1
    with open(bad, "wb") as f:
        f.write(bytes(flipped))
    rx.fails(1, "restore", "--key", cx.master_key, "--ledger", ledger, bad,
             says="authentication")
    r = rx.ok("--json", "restore", "--key", cx.master_key, "--ledger", ledger, backup).json()
    eq(r["erasures_reapplied"], 2, "erasures re-applied")
    # the restored copy says when the erasure happened, and when it was applied again
    r = rx.fails(1, "--purpose", "website_access", "subject", "show", wid, says="erased")
    check("erased at %s" % cert["executed_at"] in r.err,
          "the restored copy does not give the time of the erasure (%s)" % cert["executed_at"],
          r.err)
    again = re.search(r"applied again to the restored copy at (\S+)\)", r.err)
    check(again and again.group(1) > cert["executed_at"], "the re-application's time", r.err)
    v = rx.ok("--json", "--purpose", "employment", "subject", "show", eid).json()
    check(ip_item not in [i["id"] for i in v["items"]], "erased item back after restore", v)
    check(any(i["field"] == "salary_band" for i in v["items"]), "kept item lost", v)
    data = all_bytes(rx)
    for s in (b"Ottoline", b"198.51.100.23", b"203.0.113.77"):
        check(s not in data, "erased plaintext %r after restore" % s)
    eq(sql_value(rx.db, "SELECT count(*) FROM items WHERE subject_id = ?", (wid,)), 0,
       "erased subject's rows after restore")
    eq(sql_value(rx.db, "SELECT version FROM subject_keys WHERE subject_id = ?", (eid,)), 2,
       "re-keyed after restore")
    evs = [e for e in events_after(rx.db, 0) if e["via"] == "erasure-ledger replay"]
    eq(len(evs), 2, "replayed erasures audited")
    rx.ok("audit", "verify")
    # opening again re-applies nothing more
    rx.ok("--purpose", "direct_care", "subject", "show", pid)
    evs2 = [e for e in events_after(rx.db, 0) if e["via"] == "erasure-ledger replay"]
    eq(len(evs2), 2, "replay is done once")
    # a restore never overwrites a store
    rx.fails(1, "restore", "--key", cx.master_key, "--ledger", ledger, backup,
             says="already holds a store")


@case("erasure ledger: an altered ledger file stops the store from opening; a missing or "
      "truncated one is made whole from the store's table")
def t_ledger_guard(ctx):
    cx, ctl, pid, wid = therapy_store(ctx)
    cx.ok("subject", "erase", wid)   # the subject-level erasure is in the ledger too
    ledger = os.path.join(cx.store, "erasure.ledger")
    text = open(ledger).read()
    eq(len(text.splitlines()), 1, "one entry")
    os.rename(ledger, ledger + ".away")
    cx.ok("status")
    eq(open(ledger).read(), text, "the ledger file made again from the store's table")
    os.remove(ledger + ".away")
    with open(ledger, "w") as f:
        f.write(text[:len(text) // 2])
    cx.ok("status")
    eq(open(ledger).read(), text, "a ledger file cut mid-line made whole again")
    with open(ledger, "w") as f:
        f.write(text.replace("\t1\t", "\t2\t", 1))
    cx.fails(1, "status", says="ledger")
    with open(ledger, "w") as f:
        f.write(text)
    cx.ok("status")
    # the store's copy altered by someone who can write the database: refused,
    # whether the file has the entry (they differ) or not (its signature fails)
    from harness import sql_exec
    sql_exec(cx.db, "UPDATE erasure_ledger SET line = replace(line, '%s', '%s')" % (wid, pid))
    cx.fails(1, "status", says="differ")
    os.rename(ledger, ledger + ".away")
    cx.fails(1, "status", says="erasure ledger table does not verify")
    check(not open(ledger).read() if os.path.exists(ledger) else True,
          "a forged entry reached the ledger file")
    os.replace(ledger + ".away", ledger)
    sql_exec(cx.db, "UPDATE erasure_ledger SET line = replace(line, '%s', '%s')" % (pid, wid))
    cx.ok("status")
    sql_exec(cx.db, "DELETE FROM erasure_ledger")
    cx.ok("status")  # the file has it: the table takes it back
    eq(open(ledger).read(), text, "the ledger file after the table lost its entry")
    sql_exec(cx.db, "DELETE FROM erasure_ledger")
    os.remove(ledger)
    cx.fails(1, "status", says="ledger")  # both gone while the store recorded an entry


@case("erasure over HTTP: dpo only; plan and certificate as documented; bad bodies are 400; "
      "a refusal is 403 naming the rule")
def t_http(ctx):
    from http_client import Server, Staff, expect_status, expect_problem
    cx, ctl, pid, wid = therapy_store(ctx)
    st = Staff(cx)
    st.controllers["T"] = ctl
    st.token("dpo", "T", "dpo")
    st.token("clin", "T", "clinician")
    st.token("ops", "T", "care_admin")
    dpo = st.tokens["dpo"]["token"]
    hdr = {"Custos-Purpose": "subject_rights"}
    with Server(cx) as srv:
        for name in ("clin", "ops"):
            r = srv.call("POST", "/v1/subjects/%s/erasure/plan" % pid, {},
                         token=st.tokens[name]["token"], headers=hdr)
            expect_problem(r, 403, what="%s asks for a plan" % name)
        r = srv.call("POST", "/v1/subjects/%s/erasure/plan" % pid, {}, token=dpo, headers=hdr)
        expect_status(r, 200, "plan")
        p = r.json()
        eq(p["format"], "custos-erasure-plan/1", "plan over HTTP")
        check(all(k["reason"] == "retention-period" for k in p["to_keep"]), "kept", p)
        for body in ({"died": "2020-02-30"}, {"approve_health": "XYZ"}, {"colour": "red"},
                     {"approve_health": p["plan_digest"]}, [], "{"):
            r = srv.call("POST", "/v1/subjects/%s/erasure/plan" % pid, body, token=dpo,
                         headers=hdr)
            expect_problem(r, 400, what="plan body %r" % (body,))
        r = srv.call("POST", "/v1/subjects/%s/erasure" % pid, {}, token=dpo, headers=hdr)
        j = expect_problem(r, 403, what="inside retention")
        check("retention-period" in r.text, "rule named", r.text)
        # an API refusal points at the API's route, never at a CLI command
        check(j["detail"].endswith("see: POST /v1/subjects/%s/erasure/plan" % pid),
              "the refusal does not name the plan route", j)
        check("custos " not in j["detail"], "an API problem names a CLI command", j)
        r = srv.call("POST", "/v1/subjects/%s/erasure" % wid, {}, token=dpo, headers=hdr)
        expect_status(r, 200, "web user erased")
        c = r.json()
        eq(c["format"], "custos-erasure-certificate/1", "certificate over HTTP")
        eq(c["recipients_to_notify"], [], "recipients")
        r = srv.call("POST", "/v1/subjects/%s/erasure" % wid, {}, token=dpo, headers=hdr)
        expect_problem(r, 410, what="erased already")
    cx.ok("audit", "verify")
