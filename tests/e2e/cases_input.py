"""Bad input and unusable stores: a clear one-line error, the right exit
status, no personal value echoed, and the store unchanged."""

import os
import sqlite3
import stat

from harness import (registry, Fail, check, eq, expect_error, snapshot, dump, diff_dumps, sql,
                     sql_exec, read_bytes, store_files, audit_count, nhs_with_check_10,
                     nhs_display, sqlite_only)
from fixtures import (PERSON1, NHS1, NHS_UNUSED, doc, new_store, populated, show,
                      item_by_field, expect_person1)

CASES, case = registry()


UNKNOWN_ID = "0badc0de-0000-4000-8000-00000000beef"


def unchanged(cx, before, what):
    after = snapshot(cx)
    if after[0] != before[0]:
        raise Fail("%s changed the store:\n%s" % (what, diff_dumps(before[0], after[0])))
    check(after[1] == before[1], "%s changed the master key file" % what)


def refused(cx, rc, args, stdin=b"", says=(), never=(), env=None):
    """Runs a command that must be refused and must leave the store as it was."""
    before = snapshot(cx)
    r = cx.run(*args, stdin=stdin, env=env)
    try:
        expect_error(r, rc, says=says, never=never)
    except Fail as e:
        raise Fail("%s\n(stdin: %r)" % (e, (stdin[:200] if stdin else b"")))
    unchanged(cx, before, " ".join(args))
    return r


def refused_json(cx, args, stdin, says=(), never=()):
    """Also checks the --json form: an error object on stdout."""
    r = refused(cx, 1, ["--json"] + list(args), stdin=stdin, says=says, never=never)
    j = r.json()
    check("error" in j and j["error"].get("type") and j["error"].get("message"),
          "--json error object", r.out)
    return r


def add_args(ids):
    return ["subject", "add", "--controller", ids["ctl1"], "--kind", "patient"]


@case("invalid NHS numbers (check digit, check value 10, 9/11 digits, letters) refused")
def t_bad_nhs(ctx):
    cx, ids = populated(ctx)
    ten = nhs_with_check_10()
    bad_check = NHS1[:9] + str((int(NHS1[9]) + 1) % 10)
    cases = [
        (bad_check, "check digit"), (nhs_display(bad_check), "check digit"),
        (ten, None), (NHS1[:9], "10 digits"), (NHS1 + "4", "10 digits"),
        ("999000001X", None), ("NHS9990000018", None), ("", "empty"),
    ]
    for value, say in cases:
        digits = "".join(ch for ch in value if ch.isdigit())
        never = [value, digits] if len(digits) >= 9 else [value] if value else []
        says = ["nhs_number"] + ([say] if say else [])
        refused(cx, 1, add_args(ids), stdin=doc({"name": "Nobody", "nhs_number": value}),
                says=says, never=never)
        refused(cx, 1, ["subject", "rectify", ids["s1"]], stdin=doc({"nhs_number": value}),
                says="nhs_number", never=never)
        refused(cx, 1, ["subject", "add-items", ids["s1"]], stdin=doc({"nhs_number": value}),
                says="nhs_number", never=never)
        if value:
            refused(cx, 1, ["subject", "find", "--nhs-number", value], never=never)
    refused_json(cx, add_args(ids), doc({"nhs_number": bad_check}), never=bad_check)
    # the valid one next to them is accepted, so the refusals are about the value
    cx.ok(*add_args(ids), stdin=doc({"nhs_number": NHS_UNUSED}))


@case("invalid email, dates, phone and field names refused without echoing the value")
def t_bad_values(ctx):
    cx, ids = populated(ctx)
    bad = [
        ({"email": "zq-not-an-email-4471"}, "email", "zq-not-an-email-4471"),
        ({"email": "two@at@signs-4471.org"}, "email", "two@at@signs-4471.org"),
        ({"birth_date": "1971-02-30"}, "birth_date", "1971-02-30"),
        ({"birth_date": "14/03/1971"}, "birth_date", "14/03/1971"),
        ({"phone": "call me maybe 4471"}, "phone", "call me maybe"),
        ({"items": [{"category": "health", "field": "diagnosis", "value": "x",
                     "collected_at": "2999-01-01"}]}, "collected_at", "2999-01-01"),
        ({"items": [{"category": "health", "field": "diagnosis", "value": "x",
                     "collected_at": "last tuesday"}]}, "collected_at", "last tuesday"),
        ({"items": [{"category": "health", "field": "Bad Field!", "value": "x"}]},
         "field", None),
        ({"items": [{"category": "contact", "field": "email", "value": "a@b.org"}]},
         "top-level", None),
    ]
    for d, says, value in bad:
        refused(cx, 1, add_args(ids), stdin=doc(d), says=says,
                never=[value] if value else [])
    refused(cx, 1, ["subject", "rectify", ids["s1"]],
            stdin=doc({"email": "zq-not-an-email-4471"}), says="email",
            never="zq-not-an-email-4471")
    refused(cx, 1, ["subject", "find", "--email", "zq-not-an-email-4471"],
            never="zq-not-an-email-4471")


@case("unknown category, source, top-level key and item key refused (path named)")
def t_unknown_names(ctx):
    cx, ids = populated(ctx)
    item = {"category": "health", "field": "diagnosis", "value": "Gyre and gimble"}
    bad = [
        ({"items": [dict(item, category="medical")]}, ["$.items[0].category", "not one of"]),
        ({"items": [item, dict(item, source="hearsay")]}, ["$.items[1].source", "not one of"]),
        ({"name": "A", "source": "gossip"}, ["$.source", "not one of"]),
        ({"name": "A", "favourite_colour": "mauve"}, ["unknown key"]),
        ({"items": [dict(item, notes="secret note")]}, ["$.items[0]", "unknown key"]),
        ({"items": [{"field": "diagnosis", "value": "x"}]}, ["$.items[0].category"]),
        ({"items": [{"category": "health", "value": "x"}]}, ["$.items[0].field"]),
        ({"items": [{"category": "health", "field": "diagnosis"}]}, ["$.items[0].value"]),
    ]
    for d, says in bad:
        refused(cx, 1, add_args(ids), stdin=doc(d), says=says,
                never=["Gyre and gimble", "mauve", "secret note"])
        refused(cx, 1, ["subject", "add-items", ids["s1"]], stdin=doc(d), says=says)
    refused_json(cx, add_args(ids), doc({"items": [dict(item, category="medical")]}),
                 says="category")
    # unknown kind
    refused(cx, 1, ["subject", "add", "--controller", ids["ctl1"], "--kind", "alien"],
            stdin=doc({"name": "A"}), says="kind")


@case("malformed JSON, non-object documents, wrong types and empty values refused")
def t_malformed(ctx):
    cx, ids = populated(ctx)
    docs = [
        (b"{", "malformed JSON"), (b"", "malformed JSON"), (b'{"name": "Ann",}', "malformed"),
        (b'{"name": "Ann"} trailing', "malformed"), (b"\xff\xfe{}", "malformed"),
        (b'{"name": "Ann\x00Bob"}', None), (b'{"name": "\\u0000"}', None),
        (b"[]", "object"), (b'"a string"', None), (b"42", None), (b"null", None),
        (b'[{"name": "Ann"}]', "object"),
        (doc({"name": 5}), "$.name"), (doc({"name": None}), "$.name"),
        (doc({"name": ["Ann"]}), "$.name"), (doc({"name": {"first": "Ann"}}), "$.name"),
        (doc({"items": {}}), "$.items"), (doc({"items": "x"}), "$.items"),
        (doc({"items": [5]}), "$.items[0]"),
        (doc({"items": [{"category": "health", "field": "x", "value": 5}]}),
         "$.items[0].value"),
        (doc({"items": [{"category": ["health"], "field": "x", "value": "y"}]}),
         "$.items[0].category"),
        (doc({"name": ""}), "empty"),
        (doc({"items": [{"category": "health", "field": "x", "value": ""}]}), "empty"),
        (doc({}), "no values"), (doc({"items": []}), "no values"),
        (doc({"source": "staff"}), "no values"),
    ]
    for d, says in docs:
        if isinstance(d, str):
            d = d.encode()
        refused(cx, 1, add_args(ids), stdin=d, says=says or ())
        refused(cx, 1, ["subject", "rectify", ids["s1"]], stdin=d)
    refused_json(cx, add_args(ids), b"{", says="malformed")


@case("duplicate keys refused, at the top level and inside an item")
def t_duplicates(ctx):
    cx, ids = populated(ctx)
    refused(cx, 1, add_args(ids), stdin=b'{"name": "Ann Smith", "name": "Bob Jones"}',
            says="duplicate", never=("Ann Smith", "Bob Jones"))
    refused(cx, 1, add_args(ids), stdin=(
        b'{"items": [{"category": "health", "field": "dx", "value": "one", '
        b'"value": "two"}]}'), says="duplicate")
    refused(cx, 1, ["subject", "rectify", ids["s1"]],
            stdin=b'{"email": "a@example.org", "email": "b@example.org"}', says="duplicate")


def big_items(n, size=8):
    return [{"category": "health", "field": "f%d" % i, "value": "v" * size} for i in range(n)]


@case("limits: documents over 1 MiB, values over 64 KiB, more than 1000 values refused")
def t_limits(ctx):
    cx, ids = populated(ctx)
    mib = 1 << 20
    small = doc({"name": "Padded Person"}).encode()
    refused(cx, 1, add_args(ids), stdin=small + b" " * (mib + 1 - len(small)),
            says=("larger than", str(mib)))
    refused(cx, 1, add_args(ids), stdin=doc({"items": big_items(20, 60000)}),
            says="larger than")
    refused(cx, 1, add_args(ids), stdin=doc({"name": "N" * (64 * 1024 + 1)}),
            says=("$.name", "longer than"))
    refused(cx, 1, add_args(ids), stdin=doc({"name": "N" * 1025}),
            says=("$.name", "longer than 1024"))
    refused(cx, 1, add_args(ids), stdin=doc({"items": big_items(1, 64 * 1024 + 1)}),
            says=("$.items[0].value", "longer than"))
    refused(cx, 1, add_args(ids), stdin=doc({"items": big_items(1001)}),
            says=("more than", "1000"))
    refused(cx, 1, add_args(ids), stdin=doc({"name": "A", "items": big_items(1000)}),
            says=("more than", "1000"))
    refused(cx, 1, ["subject", "add-items", ids["s1"]], stdin=doc({"items": big_items(1001)}),
            says="1000")
    refused(cx, 1, ["subject", "rectify", ids["s1"]],
            stdin=doc({"name": "N" * (64 * 1024 + 1)}), says="longer than")


@case("limits are inclusive: exactly 1 MiB, 64 KiB per value and 1000 values accepted")
def t_limits_inclusive(ctx):
    cx, ids = populated(ctx)
    mib = 1 << 20
    small = doc({"name": "Padded Person"}).encode()
    sid = cx.ok(*add_args(ids), stdin=small + b" " * (mib - len(small))).out.strip()
    eq(show(cx, sid)["name"], "Padded Person", "a 1 MiB document")
    big = "\u00e9" * (32 * 1024)  # 64 KiB of UTF-8
    sid = cx.okj(*add_args(ids), stdin=doc({
        "name": "B" * 1024,  # top-level fields are limited to 1 KiB
        "items": [{"category": "health", "field": "note", "value": big},
                  {"category": "health", "field": "note2", "value": "C" * (64 * 1024)}]}))["id"]
    v = show(cx, sid)
    eq(len(v["name"]), 1024, "a 1 KiB name")
    eq(item_by_field(v, "note")["value"], big, "a 64 KiB UTF-8 item value")
    eq(item_by_field(v, "note2")["value"], "C" * (64 * 1024), "a 64 KiB item value")
    # rectify a 64 KiB value: the previous value is kept, sealed, in the audit trail
    note2 = item_by_field(v, "note2")["id"]
    cx.ok("subject", "rectify", sid, stdin=doc({"items": [
        {"id": note2, "value": "D" * (64 * 1024)}]}))
    eq(item_by_field(show(cx, sid), "note2")["value"], "D" * (64 * 1024), "rectified 64 KiB")
    evs = cx.ok("audit", "show", "--subject", sid, "--with-values", "--json").json_lines()
    prev = [p for e in evs for p in (e.get("previous_values") or [])]
    eq([p["old"] for p in prev], ["C" * (64 * 1024)], "previous 64 KiB value")
    # values of a few hundred bytes to a few KiB (any size between the small
    # and the largest must work too)
    for size in (400, 471, 472, 473, 600, 1500, 5000):
        sid = cx.ok(*add_args(ids), stdin=doc({"items": [
            {"category": "health", "field": "note", "value": "E" * size}]})).out.strip()
        eq(item_by_field(show(cx, sid), "note")["value"], "E" * size, "a %d-byte value" % size)
    # 1000 values in one document: the documented limit
    r = cx.run(*add_args(ids), stdin=doc({"items": big_items(1000)}))
    check(r.rc == 0, "a document of exactly 1000 values (items) is refused", r.describe())
    eq(len(show(cx, r.out.strip())["items"]), 1000, "items stored")
    r = cx.run(*add_args(ids), stdin=doc({"name": "Nine Hundred", "source": "staff",
                                          "items": big_items(999)}))
    check(r.rc == 0, "a document of exactly 1000 values (1 field + 999 items) is refused",
          r.describe())


@case("rectify: unknown or malformed item ids, subject-only keys refused; store unchanged")
def t_bad_rectify(ctx):
    cx, ids = populated(ctx)
    refused(cx, 1, ["subject", "rectify", ids["s1"]],
            stdin=doc({"items": [{"id": "not-an-id", "value": "x"}]}), says="$.items[0].id")
    refused(cx, 1, ["subject", "rectify", ids["s1"]], stdin=doc(
        {"items": [{"id": show(cx, ids["s1"])["items"][0]["id"], "value": "x",
                    "category": "health"}]}), says="unknown key")
    refused(cx, 1, ["subject", "rectify", ids["s1"]], stdin=doc(
        {"source": "staff", "name": "X"}), says="source")
    # a well-formed id that is not an item of this subject: refused as invalid
    # input, which is undone with its event (docs/design.md, "The choke point")
    n = audit_count(cx)
    before = dump(cx.db)
    r = cx.run("subject", "rectify", ids["s1"], stdin=doc(
        {"name": "Changed Name", "items": [{"id": UNKNOWN_ID, "value": "x"}]}))
    expect_error(r, 1, says="no item", never="Changed Name")
    assert_only_audit_grew(cx, before, n, 0, "rectify with an unknown item id")
    eq(show(cx, ids["s1"])["name"], PERSON1["name"], "name after a refused rectify")


def assert_only_audit_grew(cx, before, n_before, grew, what, outcome=None):
    after = dump(cx.db)
    ignore = ("audit_events", "audit_head", "audit_checkpoints")
    a = [(k, v) for k, v in before if k not in ignore]
    b = [(k, v) for k, v in after if k not in ignore]
    if a != b:
        raise Fail("%s changed data:\n%s" % (what, diff_dumps(a, b)))
    grown = audit_count(cx) - n_before
    eq(grown, grew, "audit events appended by %s" % what)
    if outcome and grown:
        last = cx.ok("audit", "show", "--json").json_lines()
        # audit show lists the trail before appending its own event
        eq(last[-1]["outcome"], outcome, "%s recorded outcome" % what)


@case("unknown controller id and bad subject ids refused (exit 1); no data changed")
def t_bad_ids(ctx):
    cx, ids = populated(ctx)
    # malformed ids: refused before anything is touched
    refused(cx, 1, ["subject", "add", "--controller", "not-a-controller", "--kind", "patient"],
            stdin=doc({"name": "Ann"}), says="controller")
    for args in (["subject", "show", "bad-id"], ["subject", "erase", "bad-id"],
                 ["subject", "show", "../../etc/passwd"], ["subject", "show", "' OR 1=1 --"],
                 ["--purpose", "administration", "subject", "list", "--controller", "bad-id"],
                 ["subject", "find", "--email", "a@example.org", "--controller", "bad"]):
        refused(cx, 1, args, says="id")
    for args in (["subject", "rectify", "bad-id"], ["subject", "add-items", "bad-id"]):
        refused(cx, 1, args, stdin=doc({"name": "Ann"}), says="id")
    refused(cx, 1, ["subject", "show", ids["s1"].upper() + "0"], says="id")
    # well-formed but unknown ids: refused, and the attempt (only) is audited
    attempts = [
        (["subject", "add", "--controller", UNKNOWN_ID, "--kind", "patient"],
         doc({"name": "Ann Orphan"}), "no controller"),
        (["subject", "show", UNKNOWN_ID], b"", "no subject"),
        (["subject", "rectify", UNKNOWN_ID], doc({"name": "Ann"}), "no subject"),
        (["subject", "add-items", UNKNOWN_ID], doc({"name": "Ann"}), "no subject"),
        (["subject", "erase", UNKNOWN_ID], b"", "no subject"),
    ]
    for args, stdin, says in attempts:
        n = audit_count(cx)
        before = dump(cx.db)
        r = cx.run(*args, stdin=stdin)
        expect_error(r, 1, says=says, never="Ann")
        assert_only_audit_grew(cx, before, n, 1, " ".join(args), outcome="not_found")
    eq(len(cx.okj("--purpose", "administration", "subject", "list")["subjects"]), 2,
       "subjects after refused commands")


@case("missing master key file: exit 1, the message names the file; store unchanged")
def t_missing_key(ctx):
    cx, ids = populated(ctx)
    keep = read_bytes(cx.master_key)
    before = dump(cx.db)
    os.rename(cx.master_key, cx.master_key + ".away")
    for args in (["status"], ["subject", "show", ids["s1"]], ["--purpose", "administration", "subject", "list"],
                 ["audit", "verify"], ["key", "rotate"]):
        r = cx.run(*args)
        expect_error(r, 1, says=cx.master_key, never=PERSON1["name"])
        eq(r.out, "", "stdout without a key")
    check(not os.path.exists(cx.master_key), "a command created a new master key")
    d = dump(cx.db)
    check(d == before, "the store changed without its key", diff_dumps(before, d))
    os.rename(cx.master_key + ".away", cx.master_key)
    eq(read_bytes(cx.master_key), keep, "key")
    expect_person1(show(cx, ids["s1"]))
    # a key path named by the environment that does not exist
    missing = os.path.join(ctx.tmp.make(), "nowhere.key")
    r = cx.run("status", env=cx.env({"CUSTOS_MASTER_KEY_FILE": missing}))
    expect_error(r, 1, says=missing)
    check(not os.path.exists(missing), "status created a key file")


@case("wrong master key (another store's key file, or not a key): exit 1; store unchanged")
def t_wrong_key(ctx):
    cx, ids = populated(ctx)
    other = new_store(ctx)
    snap = snapshot(cx)
    for args in (["status"], ["subject", "show", ids["s1"]], ["subject", "find",
                                                               "--nhs-number", NHS1],
                 ["key", "rotate"], ["audit", "verify"]):
        r = cx.run(*args, env=cx.env({"CUSTOS_MASTER_KEY_FILE": other.master_key}))
        expect_error(r, 1, says="does not match", never=PERSON1["name"])
        eq(r.out, "", "stdout with a wrong key")
    unchanged(cx, snap, "a wrong key")
    # garbage in the key file itself
    garbage = os.path.join(ctx.tmp.make(), "garbage.key")
    for content in (b"", b"custos-master-key-v1\nzz\n", read_bytes(cx.master_key)[:30],
                    os.urandom(86)):
        with open(garbage, "wb") as f:
            f.write(content)
        os.chmod(garbage, 0o600)
        r = cx.run("status", env=cx.env({"CUSTOS_MASTER_KEY_FILE": garbage}))
        expect_error(r, 1, says=garbage)
    unchanged(cx, snap, "a garbage key")


@case("master key readable by group or others (0644, 0640, 0604): exit 1, says chmod 600")
def t_key_mode(ctx):
    cx, ids = populated(ctx)
    snap = snapshot(cx)
    for mode in (0o644, 0o640, 0o604):
        os.chmod(cx.master_key, mode)
        r = cx.run("subject", "show", ids["s1"])
        expect_error(r, 1, says=("chmod 600", cx.master_key), never=PERSON1["name"])
        eq(stat.S_IMODE(os.stat(cx.master_key).st_mode), mode, "the binary changed the mode")
    os.chmod(cx.master_key, 0o600)
    unchanged(cx, snap, "a key with a loose mode")
    expect_person1(show(cx, ids["s1"]))


@case("a database from a newer version (user_version 99): exit 1, says newer; unchanged")
@sqlite_only("the schema version is SQLite's PRAGMA user_version")
def t_newer(ctx):
    cx, ids = populated(ctx)
    sql_exec(cx.db, "PRAGMA user_version = 99")
    snap = snapshot(cx)
    for args in (["status"], ["subject", "show", ids["s1"]], ["audit", "verify"],
                 ["key", "rotate"]):
        r = cx.run(*args)
        expect_error(r, 1, says="newer", never=PERSON1["name"])
    unchanged(cx, snap, "a newer store")
    eq(sql(cx.db, "PRAGMA user_version")[0][0], 99, "user_version")
    r = cx.run("init")
    expect_error(r, 1, says="exists")
    unchanged(cx, snap, "init over a newer store")


def raw_files(store):
    return {f: read_bytes(f) for f in store_files(store) + [os.path.join(store, "master.key")]}


@case("a corrupted database (first 4 KiB random): exit 3, says damaged; files unchanged")
@sqlite_only("damage to the bytes of the custos.db file")
def t_corrupt(ctx):
    cx, ids = populated(ctx)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(cx.db + suffix):
            os.remove(cx.db + suffix)
    with open(cx.db, "r+b") as f:
        f.write(os.urandom(4096))
    before = raw_files(cx.store)
    for args in (["status"], ["subject", "show", ids["s1"]], ["--purpose", "administration", "subject", "list"],
                 ["audit", "verify"], ["controller", "list"], ["key", "rotate"]):
        r = cx.run(*args)
        expect_error(r, 3, says="damaged")
        eq(r.out, "", "stdout from a damaged store")
    r = cx.run("--json", "status")
    eq(r.rc, 3, "--json exit")
    check("error" in r.json(), "--json error object", r.out)
    after = raw_files(cx.store)
    eq(sorted(after), sorted(before), "files in the store")
    for f in before:
        check(before[f] == after[f], "%s changed by commands on a damaged store" % f)


@case("an empty (0-byte) custos.db is refused as damaged, and not written to")
@sqlite_only("an empty custos.db file")
def t_empty_db(ctx):
    cx, ids = populated(ctx)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(cx.db + suffix):
            os.remove(cx.db + suffix)
    open(cx.db, "wb").close()
    r = cx.run("status")
    expect_error(r, 3)
    eq(os.path.getsize(cx.db), 0, "size of the empty custos.db after a refused status "
                                  "(the schema was written into it)")


@case("another application's SQLite database is refused, not migrated into a store")
@sqlite_only("a foreign SQLite file in place of custos.db")
def t_foreign_db(ctx):
    cy = new_store(ctx)
    os.remove(cy.db)
    c = sqlite3.connect(cy.db)
    c.execute("CREATE TABLE appointments (who TEXT, at TEXT)")
    c.execute("INSERT INTO appointments VALUES ('someone', '2026-01-01')")
    c.commit()
    c.close()
    before = dump(cy.db)
    r = cy.run("status")
    expect_error(r, 3)
    d = dump(cy.db)
    check(d == before, "a foreign database was modified (custos tables were added)",
          diff_dumps(before, d))


@case("no store at the path: exit 1, says run custos init; nothing created")
def t_no_store(ctx):
    cx = ctx.custos()
    for args in (["status"], ["--purpose", "administration", "subject", "list"], ["controller", "add", "--name", "X"],
                 ["audit", "verify"]):
        expect_error(cx.run(*args), 1, says="init")
    check(not os.path.exists(cx.store), "a command without init created the store")
    # an existing empty directory is not a store either
    os.makedirs(cx.store, mode=0o700)
    expect_error(cx.run("status"), 1, says="init")
    eq(os.listdir(cx.store), [], "files created in an empty directory")
