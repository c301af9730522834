"""Encryption at rest, ciphertexts bound to their subject and item, master key
rotation, and a master key kept outside the store."""

import os
import shutil
import stat

from harness import (registry, check, eq, expect_error, sql, sql_exec, store_files, read_bytes,
                     audit_count, dump, diff_dumps, is_pg, db_bytes)
from fixtures import (TEST_POLICY, PERSON1, PERSON2, NHS1, EMAIL1_NORM, doc, new_store, populated, show,
                      item_by_field, expect_person1, secrets_of_person1, secrets_of_person2)

CASES, case = registry()


def assert_no_plaintext(cx, secrets, when):
    files = store_files(cx.store)
    blobs = [(os.path.basename(p), read_bytes(p)) for p in files]
    if is_pg(cx.db):
        blobs.append(("the database", db_bytes(cx.db)))
    else:
        check(any(f.endswith("custos.db") for f in files), "no custos.db in the store", files)
    for name, data in blobs:
        for s in secrets:
            for form in {s, s.lower(), s.upper()}:
                b = form.encode("utf-8")
                check(b not in data, "%s: plaintext %r found in %s (%d bytes)" % (
                    when, form, name, len(data)))


@case("encryption at rest: no plaintext value in custos.db, -wal or -shm; modes 0700/0600")
def t_at_rest(ctx):
    cx, ids = populated(ctx)
    secrets = secrets_of_person1() + secrets_of_person2()
    # sanity: the values really are in the store (decryptable), so absence means encryption
    expect_person1(show(cx, ids["s1"]))
    assert_no_plaintext(cx, secrets, "after add")
    eq(stat.S_IMODE(os.stat(cx.store).st_mode), 0o700, "store directory mode")
    eq(stat.S_IMODE(os.stat(cx.master_key).st_mode), 0o600, "master key mode")
    # more commands: finds, add-items, rectify (old values kept in the trail)
    cx.ok("subject", "find", "--nhs-number", NHS1)
    cx.ok("subject", "find", "--email", EMAIL1_NORM)
    cx.ok("subject", "add-items", ids["s1"], stdin=doc({"items": [
        {"category": "health", "field": "medication", "value": "Jabberwocky inhibitor 40mg"}]}))
    dx = item_by_field(show(cx, ids["s1"]), "diagnosis")
    cx.ok("subject", "rectify", ids["s1"], stdin=doc({
        "email": "quagmire.renamed@example.org",
        "items": [{"id": dx["id"], "value": "Remission from tulgey wood disorder"}]}))
    cx.ok("audit", "show", "--with-values")
    secrets += ["Jabberwocky inhibitor", "quagmire.renamed@example.org", "tulgey wood"]
    assert_no_plaintext(cx, secrets, "after find, add-items and rectify")
    # while a long-lived reader holds the WAL open, the WAL and SHM exist: check them too
    # (SQLite's own files; on PostgreSQL the same commands, and the database checked)
    if is_pg(cx.db):
        cx.ok("subject", "add-items", ids["s2"], stdin=doc({"items": [
            {"category": "health", "field": "allergy", "value": "Borogove dander"}]}))
        cx.ok("subject", "rectify", ids["s2"], stdin=doc({"name": "Philippa Mimsy-Oxtoby"}))
        secrets += ["Borogove dander", "Mimsy-Oxtoby"]
        assert_no_plaintext(cx, secrets, "after more writes")
        hold = None
    else:
        import sqlite3
        hold = sqlite3.connect(cx.db)
    try:
        if hold is not None:
            hold.execute("PRAGMA wal_autocheckpoint=0")
            hold.execute("BEGIN")
            hold.execute("SELECT count(*) FROM items").fetchall()
            cx.ok("subject", "add-items", ids["s2"], stdin=doc({"items": [
                {"category": "health", "field": "allergy", "value": "Borogove dander"}]}))
            cx.ok("subject", "rectify", ids["s2"], stdin=doc({"name": "Philippa Mimsy-Oxtoby"}))
            secrets += ["Borogove dander", "Mimsy-Oxtoby"]
            names = [os.path.basename(f) for f in store_files(cx.store)]
            check("custos.db-wal" in names, "no WAL while a reader holds the database", names)
            assert_no_plaintext(cx, secrets, "with a WAL present")
    finally:
        if hold is not None:
            hold.close()
    cx.ok("key", "rotate")
    cx.ok("subject", "erase", ids["s2"])
    assert_no_plaintext(cx, secrets, "after key rotate and erase")


def swap_values(cx, a, b):
    """Copies the ciphertext of item a=(subject, item) over item b."""
    blob = sql(cx.db, "SELECT value FROM items WHERE subject_id = ? AND id = ?", a)[0][0]
    sql_exec(cx.db, ("UPDATE items SET value = ? WHERE subject_id = ? AND id = ?",
                     (blob, b[0], b[1])))


@case("a ciphertext copied from another subject fails authentication (exit 3)")
def t_move_between_subjects(ctx):
    cx, ids = populated(ctx)
    v1, v2 = show(cx, ids["s1"]), show(cx, ids["s2"])
    # s1's name ciphertext over s2's name
    swap_values(cx, (ids["s1"], v1["field_item_ids"]["name"]),
                (ids["s2"], v2["field_item_ids"]["name"]))
    r = cx.fails(3, "subject", "show", ids["s2"], says="fails authentication",
                 never=PERSON1["name"])
    eq(r.out, "", "stdout when a value fails authentication")
    r = cx.run("--json", "subject", "show", ids["s2"])
    eq(r.rc, 3, "show --json exit")
    check(PERSON1["name"] not in r.out, "moved value shown", r.out)
    # the victim's own data is intact
    expect_person1(show(cx, ids["s1"]))
    # the same with an item (diagnosis) rather than a field
    cy, idy = populated(ctx)
    w1, w2 = show(cy, idy["s1"]), show(cy, idy["s2"])
    swap_values(cy, (idy["s1"], item_by_field(w1, "diagnosis")["id"]),
                (idy["s2"], item_by_field(w2, "diagnosis")["id"]))
    cy.fails(3, "subject", "show", idy["s2"], says="fails authentication",
             never="bandersnatch")


@case("a ciphertext copied between two items of one subject fails authentication (exit 3)")
def t_move_within_subject(ctx):
    cx, ids = populated(ctx)
    v = show(cx, ids["s1"])
    dx = item_by_field(v, "diagnosis")
    swap_values(cx, (ids["s1"], dx["id"]), (ids["s1"], item_by_field(v, "next_of_kin")["id"]))
    cx.fails(3, "subject", "show", ids["s1"], says="fails authentication",
             never="bandersnatch")
    # a field's ciphertext over another field (email <- name)
    cy, idy = populated(ctx)
    w = show(cy, idy["s1"])
    swap_values(cy, (idy["s1"], w["field_item_ids"]["name"]),
                (idy["s1"], w["field_item_ids"]["email"]))
    cy.fails(3, "subject", "show", idy["s1"], says="fails authentication",
             never=PERSON1["name"])


@case("a swapped data key, or an altered ciphertext byte, is refused, not shown")
def t_wrapped_key_swap(ctx):
    cx, ids = populated(ctx)
    k1 = sql(cx.db, "SELECT wrapped FROM subject_keys WHERE subject_id = ?", (ids["s1"],))[0][0]
    sql_exec(cx.db, ("UPDATE subject_keys SET wrapped = ? WHERE subject_id = ?",
                     (k1, ids["s2"])))
    r = cx.run("subject", "show", ids["s2"])
    expect_error(r, 3, never=PERSON1["name"])
    check(PERSON2["name"] not in r.out and PERSON1["name"] not in r.out, "value shown", r.out)
    # flip one byte in the middle of a ciphertext
    cy, idy = populated(ctx)
    iid = show(cy, idy["s1"])["field_item_ids"]["name"]
    blob = bytearray(sql(cy.db, "SELECT value FROM items WHERE id = ?", (iid,))[0][0])
    blob[len(blob) // 2] ^= 0x01
    sql_exec(cy.db, ("UPDATE items SET value = ? WHERE id = ?", (bytes(blob), iid)))
    cy.fails(3, "subject", "show", idy["s1"], says="fails authentication")
    # a truncated ciphertext
    sql_exec(cy.db, ("UPDATE items SET value = ? WHERE id = ?", (bytes(blob[:5]), iid)))
    r = cy.run("subject", "show", idy["s1"])
    expect_error(r, 3)


@case("key rotate: values still readable, the old key no longer opens the store")
def t_key_rotate(ctx):
    cx, ids = populated(ctx)
    cx.ok("subject", "rectify", ids["s1"], stdin=doc({"postcode": "QX9 8AA"}))
    before1, before2 = show(cx, ids["s1"]), show(cx, ids["s2"])
    old_copy = os.path.join(ctx.tmp.make(), "old-master.key")
    shutil.copy2(cx.master_key, old_copy)
    os.chmod(old_copy, 0o600)
    old = read_bytes(cx.master_key)
    wrapped_before = sql(cx.db, "SELECT subject_id, wrapped FROM subject_keys ORDER BY 1")
    items_before = sql(cx.db, "SELECT subject_id, id, value FROM items ORDER BY 1, 2")
    j = cx.okj("key", "rotate")
    eq(j["master_key_file"], cx.master_key, "rotate --json master_key_file")
    check(read_bytes(cx.master_key) != old, "master key file unchanged by rotate")
    eq(stat.S_IMODE(os.stat(cx.master_key).st_mode), 0o600, "rotated key mode")
    leftovers = [f for f in os.listdir(cx.store) if f not in (
        "master.key", "custos.db", "custos.db-wal", "custos.db-shm")]
    eq(leftovers, [], "files left in the store by rotate")
    wrapped_after = sql(cx.db, "SELECT subject_id, wrapped FROM subject_keys ORDER BY 1")
    eq([w[0] for w in wrapped_after], [w[0] for w in wrapped_before], "subjects with keys")
    for a, b in zip(wrapped_before, wrapped_after):
        check(a[1] != b[1], "data key of %s not rewrapped" % a[0])
    eq(sql(cx.db, "SELECT subject_id, id, value FROM items ORDER BY 1, 2"), items_before,
       "item ciphertexts (rotate must not touch them)")
    after1, after2 = show(cx, ids["s1"]), show(cx, ids["s2"])
    for k in ("name", "email", "nhs_number", "postcode", "items", "address"):
        eq(after1.get(k), before1.get(k), "s1 %s after rotate" % k)
        eq(after2.get(k), before2.get(k), "s2 %s after rotate" % k)
    eq(cx.ok("subject", "find", "--nhs-number", NHS1).out, ids["s1"] + "\n",
       "find after rotate (blind index key survives)")
    # the previous values sealed under data keys are still readable
    evs = cx.ok("audit", "show", "--subject", ids["s1"], "--with-values", "--json").json_lines()
    prev = [p for e in evs for p in (e.get("previous_values") or [])]
    eq([p["old"] for p in prev], [PERSON1["postcode"]], "previous values after rotate")
    # the old key copy no longer opens the store
    n = audit_count(cx)
    snap = dump(cx.db)
    r = cx.run("subject", "show", ids["s1"], env=cx.env({"CUSTOS_MASTER_KEY_FILE": old_copy}))
    expect_error(r, 1, says=("does not match", old_copy), never=PERSON1["name"])
    eq(r.out, "", "stdout with the old key")
    r = cx.run("status", env=cx.env({"CUSTOS_MASTER_KEY_FILE": old_copy}))
    expect_error(r, 1)
    d = dump(cx.db)
    check(d == snap, "a refused old key changed the store", diff_dumps(snap, d))
    eq(audit_count(cx), n, "audit events after a refused old key")
    # the trail verifies and records the rotation
    r = cx.ok("audit", "verify")
    check("intact" in r.out, "audit verify after rotate", r.out)
    evs = cx.ok("audit", "show", "--json").json_lines()
    keys = [e for e in evs if e["action"] == "key"]
    eq(len(keys), 1, "key events in the audit trail")
    eq(keys[0]["outcome"], "ok", "key event outcome")
    # a second rotation works too, and the store still reads
    cx.ok("key", "rotate")
    expect_person1(dict(show(cx, ids["s1"]), postcode=PERSON1["postcode"]))
    cx.ok("audit", "verify")
    r = cx.ok("audit", "head")
    check(r.json()["verified"] is True, "audit head after rotations", r.out)


@case("CUSTOS_MASTER_KEY_FILE outside the store: init creates it there, commands use it")
def t_external_key(ctx):
    keydir = ctx.tmp.make()
    key = os.path.join(keydir, "vault.key")
    cx = ctx.custos(key_file=key)
    r = cx.ok("init")
    check(key in r.out, "init does not name the external key", r.out)
    check(os.path.isfile(key), "init did not create the external key")
    eq(stat.S_IMODE(os.stat(key).st_mode), 0o600, "external key mode")
    check(not os.path.exists(os.path.join(cx.store, "master.key")),
          "init wrote master.key into the store despite CUSTOS_MASTER_KEY_FILE")
    ctl = cx.ok("controller", "add", "--name", "Offsite Key Trust", "--policy", TEST_POLICY).out.strip()
    sid = cx.ok("subject", "add", "--controller", ctl, "--kind", "patient",
                stdin=doc(PERSON1)).out.strip()
    expect_person1(show(cx, sid))
    cx.ok("audit", "verify")
    # without the variable the store's default key path is missing: exit 1, named
    default = os.path.join(cx.store, "master.key")
    r = cx.run("subject", "show", sid, env=cx.env(drop_key=True))
    expect_error(r, 1, says=default, never=PERSON1["name"])
    # rotation replaces the external key file, not one in the store
    old = read_bytes(key)
    cx.ok("key", "rotate")
    check(read_bytes(key) != old, "rotate did not replace the external key")
    check(not os.path.exists(default), "rotate wrote master.key into the store")
    expect_person1(show(cx, sid))
    # an operator-provided existing key file is used by init, not overwritten
    k2 = os.path.join(keydir, "provided.key")
    shutil.copy2(key, k2)
    os.chmod(k2, 0o600)
    provided = read_bytes(k2)
    cy = ctx.custos(key_file=k2)
    cy.ok("init")
    eq(read_bytes(k2), provided, "init overwrote a provided key")
    cid = cy.okj("controller", "add", "--name", "Provided Key Trust", "--policy", TEST_POLICY)["id"]
    sid2 = cy.okj("subject", "add", "--controller", cid, "--kind", "employee",
                  stdin=doc(PERSON2))["id"]
    eq(show(cy, sid2)["name"], PERSON2["name"], "store with a provided key")
    # a key made for another store does not open it
    cz = new_store(ctx)
    r = cy.run("status", env=cy.env({"CUSTOS_MASTER_KEY_FILE": cz.master_key}))
    expect_error(r, 1, says="does not match")


@case("custos.conf: master_key_file names the key for init and later commands; the "
      "environment variable wins; an unknown setting is refused")
def t_config_file(ctx):
    base = ctx.tmp.make()
    store = os.path.join(base, "store")
    keys = os.path.join(base, "keys")
    os.makedirs(store, mode=0o700)
    os.makedirs(keys, mode=0o700)
    key = os.path.join(keys, "master.key")
    conf = os.path.join(store, "custos.conf")
    with open(conf, "w") as f:
        f.write("# where the key lives\nmaster_key_file = %s\n" % key)
    cx = ctx.custos(store)
    cx.ok("init")
    check(os.path.exists(key), "init did not create the configured key")
    check(not os.path.exists(os.path.join(store, "master.key")),
          "init created a key in the store despite the configuration")
    eq(stat.S_IMODE(os.stat(key).st_mode), 0o600, "key mode")
    cx.ok("controller", "add", "--name", "Configured Trust", "--policy", TEST_POLICY)
    # the environment variable takes precedence: another key is refused as wrong
    other = ctx.custos()
    other.ok("init")
    cx.fails(1, "controller", "list", env=cx.env({"CUSTOS_MASTER_KEY_FILE": other.master_key}),
             says="does not match")
    # without the configured key, the store cannot be opened
    shutil.move(key, key + ".away")
    cx.fails(1, "controller", "list", says="not found")
    shutil.move(key + ".away", key)
    with open(conf, "a") as f:
        f.write("mastr_key_file = /tmp/typo\n")
    cx.fails(1, "controller", "list", says="unknown setting")
