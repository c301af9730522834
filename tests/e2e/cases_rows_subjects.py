"""Row authentication of controllers, subjects and their items, tried the way
an insider who can write custos.db (but not read the master key) would: on a
copy of a store, alter one row with sqlite3, then use the copy through the
CLI and the HTTP API. Every alteration must be refused where it is used (the
forged access never succeeds) and named by `custos verify`."""

from harness import registry, check, eq, sql, sql_exec
from fixtures import PERSON1, PERSON2, NHS1, NHS2, doc, secrets_of_person1
from http_client import Server, Staff, expect_status

CASES, case = registry()


def template(ctx):
    """A store with one controller, a care administrator and a clinician
    caring for both subjects; S2 restricted (Art 18)."""
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Rows Trust")
    st.subject("S1", "A", PERSON1)
    st.subject("S2", "A", PERSON2)
    st.user("front", "A", "care_admin")
    st.user("doc", "A", "clinician")
    st.care("doc", "S1")
    st.care("doc", "S2")
    cx.ok("subject", "restrict", st.subjects["S2"]["id"])
    return cx, st


def item_id(db, sid, field):
    return sql(db, "SELECT id FROM items WHERE subject_id = ? AND field = ?", (sid, field))[0][0]


def verify_names(cx, table, row, what):
    """custos verify fails (exit 1) and names table and row on stderr."""
    r = cx.run("verify")
    eq(r.rc, 1, "%s: exit of custos verify" % what)
    want = "custos: %s %s: " % (table, row)
    check(want in r.err, "%s: custos verify does not name %s %s" % (what, table, row),
          r.describe())
    for s in secrets_of_person1():
        check(s not in r.err and s not in r.out, "%s: custos verify shows %r" % (what, s))
    j = cx.run("--json", "verify").json()
    eq(j["ok"], False, "%s: verify --json ok" % what)
    check(any(f["table"] == table and f["row"] == row for f in j["rows"]["failures"]),
          "%s: verify --json does not list %s %s" % (what, table, row), j)


def read_refused(srv, token, sid, what, secrets=()):
    """A read that must fail without detail (500) and show nothing."""
    r = srv.call("GET", "/v1/subjects/" + sid, token=token)
    expect_status(r, 500, what)
    for s in secrets:
        check(s.encode() not in r.body, "%s: the response shows %r" % (what, s))
    return r


@case("rows (subjects): an untampered store verifies clean, through the CLI and over HTTP "
      "reads work")
def t_clean(ctx):
    cx, st = template(ctx)
    r = cx.ok("verify")
    check("store intact" in r.out and "rows verified" in r.out, "verify output", r.describe())
    j = cx.okj("verify")
    eq(j["ok"], True, "verify --json ok")
    eq(j["rows"]["failed"], 0, "rows failed")
    check(j["rows"]["checked"] >= 2 + 2 + 8 + 4, "rows checked", j)
    with Server(cx) as srv:
        tok = st.signin(srv, "doc")
        r = srv.call("GET", "/v1/subjects/" + st.subjects["S1"]["id"], token=tok)
        expect_status(r, 200, "clinician reads S1")


@case("rows (subjects): a health item relabelled as contact is not shown to a care "
      "administrator; the copy's verify names the subject and the item")
def t_relabel(ctx):
    cx, st = template(ctx)
    s1 = st.subjects["S1"]["id"]
    cp = ctx.copy_store(cx)
    diag = item_id(cp.db, s1, "diagnosis")
    sql_exec(cp.db, ("UPDATE items SET category = 'contact' WHERE id = ?", (diag,)))
    with Server(cp) as srv:
        tok = st.signin(srv, "front")
        read_refused(srv, tok, s1, "care admin reads relabelled S1", ["vorpal bandersnatch"])
        # The clinician, who may see health, is refused too: the subject's
        # items are not what its record says.
        read_refused(srv, st.signin(srv, "doc"), s1, "clinician reads relabelled S1")
        # The other subject's row still verifies: S2 is refused for its
        # restriction (403), not as altered.
        r = srv.call("GET", "/v1/subjects/" + st.subjects["S2"]["id"], token=st.sessions["doc"])
        expect_status(r, 403, "S2 refused for its restriction")
        check(b"restricted" in r.body, "S2 refused for its restriction", r.describe())
    r = cp.run("subject", "show", s1)
    check(r.rc != 0 and "vorpal" not in r.out, "CLI show of relabelled S1", r.describe())
    verify_names(cp, "subjects", s1, "relabelled")
    verify_names(cp, "items", s1 + "/" + diag, "relabelled")


@case("rows (subjects): a rectified value's old ciphertext put back (with or without its "
      "version) is refused, never served as current")
def t_rollback(ctx):
    cx, st = template(ctx)
    s1 = st.subjects["S1"]["id"]
    cp = ctx.copy_store(cx)
    diag = item_id(cp.db, s1, "diagnosis")
    old = sql(cp.db, "SELECT value, version FROM items WHERE id = ?", (diag,))[0]
    cp.ok("subject", "rectify", s1,
          stdin=doc({"items": [{"id": diag, "value": "Corrected: no bandersnatch"}]}))
    eq(sql(cp.db, "SELECT version FROM items WHERE id = ?", (diag,))[0][0], old[1] + 1,
       "version after rectification")
    for with_version in (True, False):
        c2 = ctx.copy_store(cp)
        if with_version:
            sql_exec(c2.db, ("UPDATE items SET value = ?, version = ? WHERE id = ?",
                             (old[0], old[1], diag)))
        else:
            sql_exec(c2.db, ("UPDATE items SET value = ? WHERE id = ?", (old[0], diag)))
        what = "rolled back %s its version" % ("with" if with_version else "without")
        with Server(c2) as srv:
            read_refused(srv, st.signin(srv, "doc"), s1, what, ["vorpal bandersnatch"])
        r = c2.run("subject", "show", s1)
        check(r.rc != 0 and "vorpal" not in r.out, what + ": CLI show", r.describe())
        if with_version:
            verify_names(c2, "subjects", s1, what)
        else:
            verify_names(c2, "items", s1 + "/" + diag, what)


@case("rows (subjects): an item deleted, a subject's kind changed, its restriction lifted or "
      "its objections changed: refused at use and named by verify")
def t_subject_row(ctx):
    cx, st = template(ctx)
    s1, s2 = st.subjects["S1"]["id"], st.subjects["S2"]["id"]
    alterations = [
        ("item deleted", s1, ("DELETE FROM items WHERE subject_id = ? AND field = 'genotype'",
                              (s1,))),
        ("kind changed", s1, ("UPDATE subjects SET kind = 'employee' WHERE id = ?", (s1,))),
        ("creation time changed", s1, ("UPDATE subjects SET created_at = created_at + 1 "
                                       "WHERE id = ?", (s1,))),
        ("restriction lifted", s2, ("UPDATE subjects SET restricted_at = NULL WHERE id = ?",
                                    (s2,))),
        ("objection count changed", s1, ("UPDATE subjects SET objecting = 1 WHERE id = ?",
                                         (s1,))),
        ("row code removed", s1, ("UPDATE subjects SET mac = NULL WHERE id = ?", (s1,))),
        ("row code copied from another subject", s1,
         ("UPDATE subjects SET mac = (SELECT mac FROM subjects WHERE id = ?) WHERE id = ?",
          (s2, s1))),
    ]
    for what, sid, stmt in alterations:
        cp = ctx.copy_store(cx)
        sql_exec(cp.db, stmt)
        with Server(cp) as srv:
            tok = st.signin(srv, "doc")
            read_refused(srv, tok, sid, what, ["vorpal bandersnatch", "snark-hunting"])
            # Writes through an altered row are refused (nothing re-authenticates
            # it); an item added beside a deleted one does not hide the deletion.
            r = srv.call("POST", "/v1/subjects/%s/items" % sid, token=tok,
                         body={"items": [{"category": "health", "field": "note",
                                          "value": "added after tampering"}]})
            expect_status(r, 201 if what == "item deleted" else 500, what + ": add items")
            read_refused(srv, tok, sid, what + ", after adding", ["vorpal bandersnatch"])
            # A listing (which shows no items) refuses rather than showing or
            # silently skipping an altered subject row.
            r = srv.call("GET", "/v1/subjects", token=st.signin(srv, "front"))
            expect_status(r, 200 if what == "item deleted" else 500, what + ": list")
        r = cp.run("subject", "show", sid)
        eq(r.rc, 1, what + ": CLI show exit")
        check(sid in r.err, what + ": CLI names the subject", r.describe())
        verify_names(cp, "subjects", sid, what)


@case("rows (subjects): an index row pointed at another subject does not make a search "
      "answer with it; a forged controller row is named")
def t_index_and_controller(ctx):
    cx, st = template(ctx)
    s1, s2 = st.subjects["S1"]["id"], st.subjects["S2"]["id"]
    cp = ctx.copy_store(cx)
    email1 = item_id(cp.db, s1, "email")
    # NHS2's index now names S1 and S1's email item (the blind index is copied as is).
    sql_exec(cp.db, ("UPDATE identifiers SET subject_id = ?, item_id = ? "
                     "WHERE kind = 'nhs_number' AND subject_id = ?", (s1, email1, s2)))
    with Server(cp) as srv:
        tok = st.signin(srv, "doc")
        r = srv.call("POST", "/v1/subjects/search", token=tok, body={"nhs_number": NHS2})
        expect_status(r, 500, "search through a redirected index")
        check(s1.encode() not in r.body, "the search names S1", r.describe())
        r = srv.call("POST", "/v1/subjects/search", token=tok, body={"nhs_number": NHS1})
        expect_status(r, 200, "search for S1's own number")
        check(s1.encode() in r.body, "S1 found by its own number", r.describe())
    r = cp.run("subject", "find", "--nhs-number", NHS2)
    check(r.rc != 0 and s1 not in r.out, "CLI find through a redirected index", r.describe())

    cp = ctx.copy_store(cx)
    forged = "0b6e7a4c-1c1e-4f4e-9d55-6d9a1f0c2b11"
    sql_exec(cp.db, ("INSERT INTO controllers(id, name, created_at) VALUES (?, ?, 1)",
                     (forged, "Forged Trust")))
    r = cp.run("controller", "list")
    eq(r.rc, 1, "controller list with a forged controller")
    check("controllers %s" % forged in r.err, "controller list names the row", r.describe())
    cp.fails(1, "subject", "add", "--controller", forged, "--kind", "patient",
             stdin=doc(PERSON2), says="controllers " + forged)
    verify_names(cp, "controllers", forged, "forged controller")
    cp = ctx.copy_store(cx)
    sql_exec(cp.db, ("UPDATE controllers SET name = 'Renamed Trust' WHERE id = ?",
                     (st.controllers["A"],)))
    verify_names(cp, "controllers", st.controllers["A"], "renamed controller")


@case("rows (subjects): a store whose integrity key was deleted opens for nothing but "
      "verify; verify --seal authenticates it, is audited, and reads work again")
def t_seal(ctx):
    cx, st = template(ctx)
    s1 = st.subjects["S1"]["id"]
    cp = ctx.copy_store(cx)
    sql_exec(cp.db, "DELETE FROM keyring WHERE name = 'integrity'")
    cp.fails(1, "subject", "show", s1, says="verify --seal")
    r = cp.run("verify")
    eq(r.rc, 1, "verify of an unsealed store")
    check("verify --seal" in r.err, "verify says how to seal", r.describe())
    events = sql(cp.db, "SELECT count(*) FROM audit_events")[0][0]
    r = cp.ok("verify", "--seal")
    check(r.out.startswith("sealed: "), "seal output", r.describe())
    eq(sql(cp.db, "SELECT count(*) FROM audit_events")[0][0], events + 1, "one audit event")
    cp.ok("audit", "verify")
    cp.ok("verify")
    view = cp.okj("subject", "show", s1)
    eq(view["name"], PERSON1["name"], "name after sealing")
    # Sealed under a new key: the old codes do not verify under it, and the
    # rows the seal authenticated do.
    eq(sql(cp.db, "SELECT count(*) FROM subjects WHERE mac IS NULL")[0][0], 0, "subjects sealed")
