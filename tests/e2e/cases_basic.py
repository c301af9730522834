"""Happy path: init, controllers, subjects, find, list, add-items, rectify,
erase, status, help and usage errors."""

import os
import re
import stat

from harness import (registry, check, eq, expect_error, audit_count, sql, nhs_display, is_pg,
                     columns)
from fixtures import (TEST_POLICY, PERSON1, PERSON2, NHS1, NHS2, NHS_UNUSED, EMAIL1_NORM, PHONE1_NORM,
                      doc, new_store, populated, show, item_by_field, expect_person1)

CASES, case = registry()


ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@case("init creates the store (dir 0700, key 0600, database) and refuses a second init")
def t_init(ctx):
    cx = ctx.custos()
    check(not os.path.exists(cx.store), "store exists before init")
    r = cx.ok("init")
    check("created store" in r.out and cx.master_key in r.out,
          "init does not say what it created", r.describe())
    eq(stat.S_IMODE(os.stat(cx.store).st_mode), 0o700, "store directory mode")
    eq(stat.S_IMODE(os.stat(cx.master_key).st_mode), 0o600, "master key mode")
    if is_pg(cx.db):
        # the tables are in the database, and no SQLite file holds a copy
        check(columns(cx.db, "meta"), "no custos tables in the database after init")
        check(sql(cx.db, "SELECT count(*) FROM meta")[0][0] > 0, "meta is empty after init")
        check(not os.path.exists(os.path.join(cx.store, "custos.db")),
              "a custos.db beside a PostgreSQL store")
    else:
        check(os.path.isfile(cx.db), "no custos.db after init")
        eq(sql(cx.db, "PRAGMA user_version")[0][0], 15, "schema version")
    eq(sql(cx.db, "SELECT version FROM schema_version ORDER BY version"),
       [(v,) for v in range(1, 15 if is_pg(cx.db) else 16)], "schema_version rows")
    key = open(cx.master_key, "rb").read()
    cx.fails(1, "init", says="already exists")
    eq(open(cx.master_key, "rb").read(), key, "master key after a refused second init")
    # --json init
    cj = ctx.custos()
    j = cj.okj("init")
    eq(j["store"], cj.store, "init --json store")
    eq(j["master_key_file"], cj.master_key, "init --json master_key_file")
    check(ID_RE.match(j["store_id"]), "store_id is not an id", j)
    check(re.match(r"^[0-9a-f]{64}$", j["audit_public_key"]), "audit_public_key", j)
    # the store is also found through CUSTOS_STORE
    ce = ctx.custos(use_env_store=True)
    ce.ok("init")
    if is_pg(ce.db):
        check(columns(ce.db, "meta"), "init with CUSTOS_STORE made no tables")
    else:
        check(os.path.isfile(ce.db), "init with CUSTOS_STORE made no database")
    eq(ce.okj("status")["store"], ce.store, "status through CUSTOS_STORE")


@case("controller add prints an id (and {\"id\":...} with --json); controller list")
def t_controller(ctx):
    cx = new_store(ctx)
    r = cx.ok("controller", "add", "--name", "Ambridge NHS Foundation Trust", "--policy", TEST_POLICY)
    a = r.out.strip()
    check(ID_RE.match(a) and r.out == a + "\n", "controller add output is not one id", r.out)
    j = cx.okj("controller", "add", "--name", "Felpersham GP Surgery", "--policy", TEST_POLICY)
    eq(sorted(j), ["id"], "controller add --json keys")
    check(ID_RE.match(j["id"]) and j["id"] != a, "second controller id", j)
    lst = cx.okj("controller", "list")
    eq(sorted((c["id"], c["name"]) for c in lst),
       sorted([(a, "Ambridge NHS Foundation Trust"), (j["id"], "Felpersham GP Surgery")]),
       "controller list")
    txt = cx.ok("controller", "list").out
    check(a in txt and "Felpersham GP Surgery" in txt, "controller list text", txt)
    # a duplicate name is refused (UNIQUE), the store keeps two controllers
    r = cx.run("controller", "add", "--name", "Felpersham GP Surgery")
    check(r.rc in (1,), "duplicate controller name not refused with exit 1", r.describe())
    expect_error(r, 1)
    eq(len(cx.okj("controller", "list")), 2, "controllers after a refused duplicate")


@case("subject add, then subject show (text) shows every value decrypted")
def t_show_text(ctx):
    cx, ids = populated(ctx)
    out = cx.ok("subject", "show", ids["s1"]).out
    for s in (ids["s1"], ids["ctl1"], "patient", PERSON1["name"], PERSON1["birth_date"],
              PERSON1["address"], PERSON1["postcode"], EMAIL1_NORM, PHONE1_NORM,
              PERSON1["local_ref"], nhs_display(NHS1), "test number",
              "health/diagnosis: Chronic vorpal bandersnatch syndrome",
              "family/next_of_kin: Wilhelmina Quagmire (sister)",
              "genetic/genotype: BRCA-frobnicated variant c.9999zz",
              "source nhs_organisation, collected 2025-11-30",
              "collected 2024-02-29"):
        check(s in out, "subject show text lacks %r" % s, out)
    # options may follow the operand
    out2 = cx.ok("subject", "show", ids["s2"], "--json").json()
    eq(out2["name"], PERSON2["name"], "show ID --json")


@case("subject show --json has every field and item decrypted, nhs_number_test true")
def t_show_json(ctx):
    cx, ids = populated(ctx)
    v = show(cx, ids["s1"])
    expect_person1(v)
    eq(v["id"], ids["s1"], "id")
    eq(v["controller"], ids["ctl1"], "controller")
    eq(v["kind"], "patient", "kind")
    check(TIME_RE.match(v["created_at"]) and TIME_RE.match(v["updated_at"]), "times", v)
    eq(sorted(v["field_item_ids"]), sorted(["name", "birth_date", "nhs_number", "email",
                                             "phone", "address", "postcode", "local_ref"]),
       "field_item_ids keys")
    all_ids = list(v["field_item_ids"].values()) + [i["id"] for i in v["items"]]
    eq(len(set(all_ids)), 11, "distinct item ids")
    dx = item_by_field(v, "diagnosis")
    eq(dx["collected_at"], "2025-11-30T00:00:00.000000Z", "diagnosis collected_at")
    eq(item_by_field(v, "genotype")["collected_at"], "2024-02-29T13:45:00.000000Z",
       "genotype collected_at")
    check(TIME_RE.match(dx["recorded_at"]), "recorded_at", dx)
    check(dx["recorded_by"], "recorded_by empty", dx)
    v2 = show(cx, ids["s2"])
    eq(v2["name"], PERSON2["name"], "second subject name")
    eq(v2["nhs_number"], NHS2, "second subject nhs number")
    eq(v2["nhs_number_test"], True, "second subject nhs_number_test")
    eq(item_by_field(v2, "diagnosis")["source"], "nhs_organisation", "item source")
    check("phone" not in v2, "a field never given appears", v2)
    # a number outside the 999 range is a real-looking number: not a test number
    real = "943 476 5919"  # valid check digit, not in the test range
    sid = cx.ok("subject", "add", "--controller", ids["ctl1"], "--kind", "other",
                stdin=doc({"nhs_number": real})).out.strip()
    v3 = show(cx, sid)
    eq(v3["nhs_number"], real.replace(" ", ""), "non-test nhs number")
    eq(v3["nhs_number_test"], False, "nhs_number_test for a number outside 999")
    eq(v3["kind"], "other", "kind other")


@case("subject find by NHS number (with/without spaces), email (any case), '-' on stdin")
def t_find(ctx):
    cx, ids = populated(ctx)
    s1 = ids["s1"]
    for n in (NHS1, nhs_display(NHS1), " %s " % nhs_display(NHS1)):
        r = cx.ok("subject", "find", "--nhs-number", n)
        eq(r.out, s1 + "\n", "find --nhs-number %r" % n)
    eq(cx.okj("subject", "find", "--nhs-number", NHS2)["ids"], [ids["s2"]], "find --json")
    for e in (EMAIL1_NORM, EMAIL1_NORM.upper(), "Zebulon.Quagmire@EXAMPLE-clinic.org"):
        eq(cx.ok("subject", "find", "--email", e).out, s1 + "\n", "find --email %r" % e)
    eq(cx.ok("subject", "find", "--phone", "+447700900461").out, s1 + "\n", "find --phone")
    eq(cx.ok("subject", "find", "--local-ref", PERSON1["local_ref"]).out, s1 + "\n",
       "find --local-ref")
    # the value from stdin keeps it out of the process list
    eq(cx.ok("subject", "find", "--nhs-number", "-", stdin=nhs_display(NHS1) + "\n").out,
       s1 + "\n", "find --nhs-number - (stdin)")
    eq(cx.ok("subject", "find", "--email", "-", stdin=EMAIL1_NORM.upper() + "\r\n").out,
       s1 + "\n", "find --email - (stdin)")
    # restricted to a controller
    eq(cx.ok("subject", "find", "--nhs-number", NHS1, "--controller", ids["ctl1"]).out,
       s1 + "\n", "find within the subject's controller")
    r = cx.run("subject", "find", "--nhs-number", NHS1, "--controller", ids["ctl2"])
    expect_error(r, 1, says="no subject")
    # an unknown (valid) number: exit 1, and the number is not echoed back
    r = cx.fails(1, "subject", "find", "--nhs-number", NHS_UNUSED, says="no subject",
                 never=(NHS_UNUSED, nhs_display(NHS_UNUSED)))
    eq(r.out, "", "stdout of a failed find")
    j = cx.run("--json", "subject", "find", "--nhs-number", NHS_UNUSED)
    eq(j.rc, 1, "find --json unknown exit")
    eq(j.json()["error"]["type"], "not_found", "find --json error type")
    cx.fails(1, "subject", "find", "--email", "nobody@example.org", says="no subject",
             never="nobody@example.org")
    # an invalid number is refused as invalid, without echoing it
    cx.fails(1, "subject", "find", "--nhs-number", "9990000019", never="9990000019")
    cx.fails(1, "subject", "find", "--nhs-number", "-", stdin="12345\n", never="12345")


@case("subject list (text, --json, --controller) shows subjects and erasure")
def t_list(ctx):
    cx, ids = populated(ctx)
    # a listing is processing: without a purpose it is refused, not silently empty
    n0 = audit_count(cx)
    r = cx.fails(2, "subject", "list", says="needs --purpose")
    eq(r.out, "", "output of a refused list")
    cx.fails(2, "--json", "subject", "list", "--controller", ids["ctl1"], says="needs --purpose")
    eq(audit_count(cx), n0, "audit events of a refused list")
    lst = cx.okj("--purpose", "administration", "subject", "list")["subjects"]
    eq(sorted(s["id"] for s in lst), sorted([ids["s1"], ids["s2"]]), "subject list ids")
    for s in lst:
        eq(s["kind"], "patient", "kind in list")
        eq(s["erased_at"], None, "erased_at of a live subject")
        check(TIME_RE.match(s["created_at"]), "created_at in list", s)
    only = cx.okj("--purpose", "administration", "subject", "list", "--controller",
                   ids["ctl2"])["subjects"]
    eq([s["id"] for s in only], [ids["s2"]], "list --controller")
    eq([s["controller"] for s in only], [ids["ctl2"]], "controller in list")
    txt = cx.ok("--purpose", "administration", "subject", "list").out
    check(ids["s1"] in txt and ids["s2"] in txt, "text list lacks a subject", txt)
    for secret in (PERSON1["name"], NHS1, EMAIL1_NORM):
        check(secret not in txt, "subject list shows personal data", txt)
    cx.ok("subject", "erase", ids["s2"])
    lst = {s["id"]: s for s in cx.okj("--purpose", "administration", "subject",
                                      "list")["subjects"]}
    check(TIME_RE.match(lst[ids["s2"]]["erased_at"] or ""), "erased_at after erase", lst)
    eq(lst[ids["s1"]]["erased_at"], None, "other subject untouched by erase")
    check("erased" in cx.ok("--purpose", "administration", "subject", "list").out,
          "text list does not mark erasure")


@case("subject add-items adds items that subject show then decrypts")
def t_add_items(ctx):
    cx, ids = populated(ctx)
    r = cx.ok("subject", "add-items", ids["s2"], stdin=doc({"items": [
        {"category": "special_category", "field": "ethnicity", "value": "Quixotic Islander"},
        {"category": "workplace_education_financial", "field": "employer",
         "value": "Grommet & Sprocket Ltd", "source": "subject"}]}))
    new = r.out.split()
    eq(len(new), 2, "add-items prints one id per item")
    j = cx.okj("subject", "add-items", ids["s2"], stdin=doc({
        "source": "local_authority",
        "items": [{"category": "online_identifier", "field": "ip_address",
                   "value": "192.0.2.77"}]}))
    eq(len(j["items"]), 1, "add-items --json")
    new += j["items"]
    v = show(cx, ids["s2"])
    byid = {i["id"]: i for i in v["items"]}
    for nid in new:
        check(nid in byid, "added item %s not shown" % nid, v)
    eq(item_by_field(v, "ethnicity")["value"], "Quixotic Islander", "ethnicity")
    eq(item_by_field(v, "ethnicity")["category"], "special_category", "ethnicity category")
    eq(item_by_field(v, "employer")["value"], "Grommet & Sprocket Ltd", "employer")
    eq(item_by_field(v, "ip_address")["source"], "local_authority", "document-level source")
    eq(item_by_field(v, "diagnosis")["value"], "Acute snark-hunting fatigue", "old item kept")
    # top-level fields through add-items: a phone the subject did not have
    cx.ok("subject", "add-items", ids["s2"], stdin=doc({"phone": "020 7946 0999"}))
    eq(show(cx, ids["s2"])["phone"], "02079460999", "phone added by add-items")
    eq(cx.ok("subject", "find", "--phone", "020 7946 0999").out, ids["s2"] + "\n",
       "find by a phone added later")
    # items for an unknown subject are refused
    cx.fails(1, "subject", "add-items", "00000000-0000-4000-8000-000000000000",
             stdin=doc({"items": [{"category": "health", "field": "x", "value": "y"}]}),
             says="no subject")


@case("subject rectify (a field and an item by id); audit show --with-values keeps the old")
def t_rectify(ctx):
    cx, ids = populated(ctx)
    s1 = ids["s1"]
    before = show(cx, s1)
    dx = item_by_field(before, "diagnosis")
    r = cx.ok("subject", "rectify", s1, stdin=doc({
        "email": "Z.Q.New@Example.com", "nhs_number": nhs_display(NHS_UNUSED),
        "items": [{"id": dx["id"], "value": "Resolved: no bandersnatch after all"}]}))
    check("rectified " + s1 in r.out, "rectify output", r.out)
    after = show(cx, s1)
    eq(after["email"], "z.q.new@example.com", "rectified email")
    eq(after["nhs_number"], NHS_UNUSED, "rectified nhs number")
    eq(item_by_field(after, "diagnosis")["value"], "Resolved: no bandersnatch after all",
       "rectified item")
    eq(item_by_field(after, "diagnosis")["id"], dx["id"], "item id kept")
    eq(item_by_field(after, "diagnosis")["category"], "health", "item category kept")
    eq(after["name"], before["name"], "unrectified field")
    eq(after["field_item_ids"]["email"], before["field_item_ids"]["email"],
       "rectified field keeps its item id")
    # search keys follow the rectification
    eq(cx.ok("subject", "find", "--email", "z.q.new@example.com").out, s1 + "\n",
       "find by the new email")
    cx.fails(1, "subject", "find", "--email", EMAIL1_NORM, says="no subject")
    eq(cx.ok("subject", "find", "--nhs-number", NHS_UNUSED).out, s1 + "\n",
       "find by the new nhs number")
    cx.fails(1, "subject", "find", "--nhs-number", NHS1)
    # the previous values are in the audit trail, readable only with --with-values
    evs = cx.ok("audit", "show", "--subject", s1, "--with-values", "--json").json_lines()
    upd = [e for e in evs if e["action"] == "update"]
    eq(len(upd), 1, "one update event")
    prev = {p["field"]: p for p in upd[0]["previous_values"]}
    eq(prev["email"]["old"], EMAIL1_NORM, "previous email")
    eq(prev["email"]["item"], before["field_item_ids"]["email"], "previous email item")
    eq(prev["nhs_number"]["old"], NHS1, "previous nhs number")
    eq(prev["diagnosis"]["old"], "Chronic vorpal bandersnatch syndrome", "previous diagnosis")
    eq(prev["diagnosis"]["item"], dx["id"], "previous diagnosis item id")
    eq(upd[0]["subject"], s1, "update event subject")
    for e in evs:
        eq(e["subject"], s1, "audit show --subject filters")
    plain = cx.ok("audit", "show", "--subject", s1, "--json").out
    check("bandersnatch" not in plain and EMAIL1_NORM not in plain,
          "audit show without --with-values reveals previous values", plain)
    txt = cx.ok("audit", "show", "--subject", s1, "--with-values").out
    check("Chronic vorpal bandersnatch syndrome" in txt, "text --with-values", txt)
    # rectify an item of another subject: refused, nothing changes
    other_dx = item_by_field(show(cx, ids["s2"]), "diagnosis")
    cx.fails(1, "subject", "rectify", s1, stdin=doc({
        "items": [{"id": other_dx["id"], "value": "hijack"}]}))
    eq(item_by_field(show(cx, ids["s2"]), "diagnosis")["value"],
       "Acute snark-hunting fatigue", "other subject's item after a refused rectify")
    cx.ok("audit", "verify")


@case("subject erase: show exits 1 saying erased and when; --json has erased_at")
def t_erase(ctx):
    cx, ids = populated(ctx)
    s1 = ids["s1"]
    r = cx.ok("subject", "erase", s1)
    m = re.search(r"erased %s at (\S+?):? " % s1, r.out)
    check(m, "erase output does not say when", r.out)
    when = m.group(1)
    check(TIME_RE.match(when), "erase time format", when)
    r = cx.fails(1, "subject", "show", s1, says=("erased", when))
    eq(r.out, "", "stdout of show of an erased subject")
    r = cx.run("--json", "subject", "show", s1)
    eq(r.rc, 1, "show --json erased exit")
    j = r.json()
    eq(j["erased_at"], when, "erased_at")
    eq(j["id"], s1, "erased id")
    eq(j["error"]["type"], "erased", "error type")
    for k in ("name", "email", "nhs_number", "items"):
        check(k not in j, "erased subject still shows %s" % k, j)
    # nothing of the subject can be found, changed or erased again
    cx.fails(1, "subject", "find", "--nhs-number", NHS1, says="no subject")
    cx.fails(1, "subject", "find", "--email", EMAIL1_NORM)
    cx.fails(1, "subject", "add-items", s1, stdin=doc(
        {"items": [{"category": "health", "field": "x", "value": "y"}]}), says="erased")
    cx.fails(1, "subject", "rectify", s1, stdin=doc({"name": "Someone Else"}), says="erased")
    cx.fails(1, "subject", "erase", s1, says="erased")
    eq(sql(cx.db, "SELECT count(*) FROM items WHERE subject_id = ?", (s1,))[0][0], 0,
       "items left after erase")
    eq(sql(cx.db, "SELECT count(*) FROM identifiers WHERE subject_id = ?", (s1,))[0][0], 0,
       "blind indexes left after erase")
    eq(sql(cx.db, "SELECT count(*) FROM subject_keys WHERE subject_id = ?", (s1,))[0][0], 0,
       "data key left after erase")
    # the other subject is untouched; the chain still verifies
    eq(show(cx, ids["s2"])["name"], PERSON2["name"], "other subject after erase")
    cx.ok("audit", "verify")
    evs = cx.ok("audit", "show", "--subject", s1, "--json").json_lines()
    erases = [e for e in evs if e["action"] == "erase"]
    # the erasure, then the refused second erase
    eq([(e["outcome"], e["via"]) for e in erases],
       [("ok", "cli subject erase"), ("erased", "cli subject erase")],
       "the erase events in the audit trail")


@case("erase after rectify: previous values in the audit trail are no longer readable")
def t_erase_shreds_history(ctx):
    cx, ids = populated(ctx)
    s1 = ids["s1"]
    cx.ok("subject", "rectify", s1, stdin=doc({"name": "Zeb Q. Fotheringay"}))
    evs = cx.ok("audit", "show", "--subject", s1, "--with-values", "--json").json_lines()
    check(any(e.get("previous_values") for e in evs), "no previous values before erase", evs)
    cx.ok("subject", "erase", s1)
    r = cx.ok("audit", "show", "--subject", s1, "--with-values", "--json")
    check(PERSON1["name"] not in r.out, "erased subject's previous value still readable",
          r.out)
    for e in r.json_lines():
        check(not e.get("previous_values"), "previous_values after erase", e)
    cx.ok("audit", "verify")


@case("status and status --tour describe the store; status --json counts")
def t_status(ctx):
    cx, ids = populated(ctx)
    out = cx.ok("status").out
    for s in ("controllers:   2", "subjects:      2 (and 0 erased)", "North Riding NHS Trust",
              "chain verified"):
        check(s in out, "status lacks %r" % s, out)
    cx.ok("subject", "erase", ids["s2"])
    j = cx.okj("status")
    eq(j["counts"]["subjects"], 1, "live subjects")
    eq(j["counts"]["erased_subjects"], 1, "erased subjects")
    eq(j["counts"]["items"], 11, "items of the live subject")
    eq(j["audit"]["verified"], True, "status audit verified")
    eq(len(j["controllers"]), 2, "status controllers")
    tour = cx.ok("status", "--tour").out
    check("tour" in tour.lower() and ids["s1"] in tour and ids["ctl1"] in tour,
          "status --tour does not use this store's ids", tour)
    check(ids["s2"] not in tour, "the tour suggests an erased subject", tour)
    check("custos --store %s" % cx.store in tour, "tour commands name the store", tour)
    # an empty store
    cy = new_store(ctx)
    j = cy.okj("status")
    eq(j["counts"]["subjects"], 0, "empty store subjects")
    eq(j["controllers"], [], "empty store controllers")
    check("CONTROLLER_ID" in cy.ok("status", "--tour").out, "tour on an empty store")


HELP = [
    [], ["init"], ["status"], ["controller"], ["controller", "add"], ["controller", "list"],
    ["subject"], ["subject", "add"], ["subject", "add-items"], ["subject", "show"],
    ["subject", "find"], ["subject", "list"], ["subject", "rectify"], ["subject", "erase"],
    ["audit"], ["audit", "verify"], ["audit", "show"], ["audit", "head"], ["key"],
    ["key", "rotate"],
]


@case("--help on every command and subcommand exits 0, prints usage, touches nothing")
def t_help(ctx):
    cx = ctx.custos()
    for words in HELP:
        r = cx.ok(*(words + ["--help"]))
        check(r.out.startswith("usage: custos"), "%s --help is not usage" % words, r.out[:200])
        if words:
            check(("custos " + words[0]) in r.out, "%s --help is not its own help" % words,
                  r.out[:200])
        # the store was not created by asking for help
        check(not os.path.exists(cx.store), "--help created the store")
    eq(cx.ok("help").out, cx.ok("--help").out, "custos help")
    r = cx.ok("--version")
    check(r.out.startswith("custos "), "--version", r.out)
    # help works even with a store that does not exist or is unusable
    r = cx.ok("--store", "/nonexistent/custos/store", "subject", "show", "--help", store=False)
    check(r.out.startswith("usage: custos subject"), "subject show --help", r.out)


@case("unknown commands, options and missing arguments exit 2 with one line, touch nothing")
def t_usage_errors(ctx):
    cx = ctx.custos()
    bad = [
        ["frobnicate"], ["--frobnicate", "status"], ["status", "--frobnicate"],
        ["subject", "frobnicate"], ["controller", "frobnicate"], ["audit", "frobnicate"],
        ["key", "frobnicate"], ["subject", "show"], ["subject", "show", "a", "b"],
        ["subject", "show", "--bogus", "x"], ["subject", "add", "--kind", "patient"],
        ["subject", "add", "--controller", "x"], ["subject", "find"],
        ["subject", "find", "--nhs-number", NHS1, "--email", "a@b.org"],
        ["subject", "find", "--nhs-number"], ["subject", "list", "extra"],
        ["controller", "add"], ["controller", "add", "--name"], ["init", "extra"],
        ["status", "extra"], ["audit", "show", "--limit", "0"],
        ["audit", "show", "--since", "yesterday"], ["audit", "show", "extra"],
        ["subject", "erase"], ["subject", "rectify"], ["subject", "add-items"],
        ["--store"],
    ]
    for words in bad:
        r = cx.run(*words, store=words != ["--store"])
        expect_error(r, 2)
        check(not os.path.exists(cx.store), "usage error %s created the store" % words)
    # no command at all: usage on stderr, exit 2
    r = cx.run(store=False)
    eq(r.rc, 2, "no command exit status")
    check("usage: custos" in r.err, "no command prints usage on stderr", r.describe())
    # a usage error on an existing store leaves it as it was
    cy = new_store(ctx)
    n = audit_count(cy)
    for words in (["subject", "show"], ["subject", "frob"], ["status", "--bogus"]):
        expect_error(cy.run(*words), 2)
    eq(audit_count(cy), n, "audit events after usage errors")
