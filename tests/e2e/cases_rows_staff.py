"""Row authentication of the staff and policy tables, tried as an insider who
can write custos.db but cannot read the master key: on a COPY of a store,
forge or alter users, sessions, API tokens, care lists, break-glass grants,
policies and unsubscribe links with python's sqlite3, then use the copy. Each
forgery must be refused where it is used and named by `custos verify`."""

import hashlib
import json
import base64
import os
import secrets

from harness import registry, check, eq, sql, sql_exec
from fixtures import PERSON1, PERSON2, TEST_POLICY
from http_client import Server, Staff, expect_status, expect_problem

CASES, case = registry()

WEB_NAME = "Ottoline Quarrendon"  # the web user of cases_policy.healthya_store


def unkeyed_token_hash(token):
    """The hash custos stored for a token before rows were authenticated: an
    attacker can compute it for a token of their own choosing."""
    return hashlib.blake2b(b"custos token v1\x00" + token.encode(), digest_size=32).digest()


def new_token(prefix):
    raw = secrets.token_bytes(32)
    return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def build(ctx):
    """A store with a controller, two clinicians (one on S1's care list), a
    DPO with a one-time code, an API token, a live session and a
    break-glass grant. Returns (cx, st, sessions)."""
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Rows Trust")
    st.subject("S1", "A", PERSON1)
    st.subject("S2", "A", PERSON2)
    st.user("carer", "A", "clinician")
    st.user("outsider", "A", "clinician")
    st.user("helper", "A", "care_admin")
    st.token("feed", "A", "analyst")
    st.care("carer", "S1")
    sessions = {}
    with Server(cx) as srv:
        sessions["carer"] = st.signin(srv, "carer")
        sessions["outsider"] = st.signin(srv, "outsider")
        sessions["helper"] = st.signin(srv, "helper")
        r = srv.call("POST", "/v1/subjects/%s/break-glass" % st.subjects["S2"]["id"],
                     {"reason": "Unconscious in A&E, no care team reachable", "minutes": 240},
                     token=sessions["carer"])
        expect_status(r, 201, "break-glass grant")
    return cx, st, sessions


def copy_of(ctx, cx):
    """A copy of the store (database and key), as the insider would take it."""
    return ctx.copy_store(cx, key_file=cx.key_file)


def verify_names(cx, table, row, what):
    """custos verify exits 1 and names the row."""
    r = cx.run("verify")
    eq(r.rc, 1, "custos verify exit status after " + what)
    want = "custos: %s %s:" % (table, row)
    check(want in r.err, "custos verify does not name %s %s after %s" % (table, row, what),
          r.describe())
    j = cx.run("verify", "--json")
    eq(j.rc, 1, "custos verify --json exit status after " + what)
    bad = json.loads(j.out)["rows"]
    check(bad["failed"] >= 1, "verify --json reports no failed row after " + what, j.out)
    return r


def subject_get(srv, st, label, token):
    return srv.call("GET", "/v1/subjects/" + st.subjects[label]["id"], token=token)


@case("rows: an untampered store verifies clean; every staff table has row codes")
def t_clean(ctx):
    cx, st, _ = build(ctx)
    r = cx.ok("verify")
    check("rows verified" in r.out, "verify output", r.describe())
    j = cx.okj("verify", "--json")
    eq(j["ok"], True, "verify ok")
    eq(j["rows"]["failed"], 0, "failed rows")
    check(j["rows"]["checked"] >= 10, "too few rows checked", j)
    for table in ("users", "sessions", "api_tokens", "care_list", "break_glass", "policies"):
        n = sql(cx.db, "SELECT count(*) FROM %s WHERE mac IS NULL OR length(mac) != 32" % table)
        eq(n[0][0], 0, "rows of %s without a code" % table)
    # stored token hashes are keyed: not the hash anyone could compute
    sess = sql(cx.db, "SELECT token_hash FROM sessions")
    for tok in [st.tokens["feed"]["token"]]:
        check(unkeyed_token_hash(tok) not in [h for (h,) in
                                              sql(cx.db, "SELECT token_hash FROM api_tokens")],
              "an API token's stored hash is the unkeyed hash")
    check(len(sess) == 3, "three sessions", sess)


@case("rows: a session row forged with a computable token hash, or with another "
      "row's code, gives no session; verify names it")
def t_forged_session(ctx):
    cx, st, sessions = build(ctx)
    cp = copy_of(ctx, cx)
    mine = new_token("cus_")
    uid = st.users["carer"]["id"]
    (hash0, mac0, created, seen) = sql(cp.db, "SELECT token_hash, mac, created_at, last_seen "
                                              "FROM sessions WHERE user_id = ?", (uid,))[0]
    forged = unkeyed_token_hash(mine)
    sql_exec(cp.db, ("INSERT INTO sessions(token_hash, user_id, created_at, last_seen, mac) "
                     "VALUES (?, ?, ?, ?, ?)", (forged, uid, created, seen, mac0)))
    other = new_token("cus_")
    with Server(cp) as srv:
        for tok, what in ((mine, "a forged session"), (other, "an unknown token")):
            r = subject_get(srv, st, "S1", tok)
            expect_status(r, 401, what)
            check(PERSON1["name"] not in r.body.decode("utf-8", "replace"),
                  "forged session read the subject")
        expect_status(subject_get(srv, st, "S1", sessions["carer"]), 200, "the real session")
    verify_names(cp, "sessions", forged[:8].hex(), "a forged session")
    # the same row with its real hash replaced: the code no longer matches
    cp2 = copy_of(ctx, cx)
    sql_exec(cp2.db, ("UPDATE sessions SET token_hash = ? WHERE token_hash = ?",
                      (forged, hash0)))
    with Server(cp2) as srv:
        expect_status(subject_get(srv, st, "S1", mine), 401, "a re-keyed session row")
    verify_names(cp2, "sessions", forged[:8].hex(), "a re-keyed session row")
    # a signed-out session brought back
    cp3 = copy_of(ctx, cx)
    with Server(cp3) as srv:
        expect_status(srv.call("DELETE", "/v1/sessions/current", token=sessions["carer"]),
                      204, "sign-out")
    sql_exec(cp3.db, ("UPDATE sessions SET revoked_at = NULL WHERE user_id = ?", (uid,)))
    with Server(cp3) as srv:
        r = subject_get(srv, st, "S1", sessions["carer"])
        expect_status(r, 401, "a signed-out session brought back")
    verify_names(cp3, "sessions", hash0[:8].hex(), "an un-revoked session")


@case("rows: a user's roles raised in the database sign nobody in and end the user's "
      "session; verify names the user")
def t_roles(ctx):
    cx, st, sessions = build(ctx)
    cp = copy_of(ctx, cx)
    uid = st.users["helper"]["id"]
    sql_exec(cp.db, ("UPDATE users SET roles = 'dpo,admin,clinician' WHERE id = ?", (uid,)))
    with Server(cp) as srv:
        r = srv.signin("helper")
        expect_status(r, 401, "sign-in of a user with forged roles")
        check("token" not in r.body.decode("utf-8", "replace"), "a token was issued", r.describe())
        r = subject_get(srv, st, "S1", sessions["helper"])
        expect_status(r, 401, "a session of a user with forged roles")
        r = srv.call("GET", "/v1/audit", token=sessions["helper"])
        expect_status(r, 401, "the audit trail with forged roles")
        expect_status(subject_get(srv, st, "S1", sessions["carer"]), 200, "another user")
        srv.stop()
        check("users %s has been altered" % uid in srv.stderr(), "no log line naming the row",
              srv.stderr()[-2000:])
    verify_names(cp, "users", uid, "raised roles")
    # a user row inserted outright (a new DPO account with a known password)
    cp2 = copy_of(ctx, cx)
    row = sql(cp2.db, "SELECT controller_id, pwhash, created_at FROM users WHERE id = ?", (uid,))[0]
    sql_exec(cp2.db, ("INSERT INTO users(id, controller_id, username, roles, pwhash, created_at) "
                      "VALUES ('00000000-0000-4000-8000-00000000dead', ?, 'mallory', 'dpo', ?, ?)",
                      row))
    with Server(cp2) as srv:
        expect_status(srv.signin("mallory"), 401, "sign-in to a forged account")
    verify_names(cp2, "users", "00000000-0000-4000-8000-00000000dead", "a forged account")


@case("rows: an API token row forged or given more roles is refused; verify names it")
def t_api_token(ctx):
    cx, st, _ = build(ctx)
    tid = st.tokens["feed"]["id"]
    cp = copy_of(ctx, cx)
    sql_exec(cp.db, ("UPDATE api_tokens SET roles = 'dpo' WHERE id = ?", (tid,)))
    mine = new_token("cut_")
    ctl = st.controllers["A"]
    sql_exec(cp.db, ("INSERT INTO api_tokens(id, token_hash, controller_id, roles, name, "
                     "created_at) VALUES ('00000000-0000-4000-8000-0000000000aa', ?, ?, "
                     "'dpo', 'mine', 1)", (unkeyed_token_hash(mine), ctl)))
    with Server(cp) as srv:
        for tok, what in ((st.tokens["feed"]["token"], "a token with forged roles"),
                          (mine, "a forged token")):
            r = srv.call("GET", "/v1/audit", token=tok)
            expect_status(r, 401, what)
    verify_names(cp, "api_tokens", tid, "forged roles")
    verify_names(cp, "api_tokens", "00000000-0000-4000-8000-0000000000aa", "a forged token")
    with Server(cx) as srv:  # the original still works
        r = srv.call("GET", "/v1/subjects?limit=1", token=st.tokens["feed"]["token"])
        check(r.status != 401, "the real token was refused", r.describe())


@case("rows: a care-list or break-glass row added in the database gives no access; "
      "verify names it")
def t_care_and_break_glass(ctx):
    cx, st, sessions = build(ctx)
    out_id = st.users["outsider"]["id"]
    s1, s2 = st.subjects["S1"]["id"], st.subjects["S2"]["id"]
    with Server(cx) as srv:
        r = subject_get(srv, st, "S1", sessions["outsider"])
        expect_problem(r, 403, "forbidden", "outsider read S1 before any forgery")
    cp = copy_of(ctx, cx)
    sql_exec(cp.db, ("INSERT INTO care_list(user_id, subject_id, added_at, added_by) "
                     "VALUES (?, ?, 1, 'admin')", (out_id, s1)))
    with Server(cp) as srv:
        r = subject_get(srv, st, "S1", sessions["outsider"])
        check(r.status >= 500, "a forged care-list row was used", r.describe())
        check(PERSON1["name"] not in r.body.decode("utf-8", "replace"), "S1 was read")
        j = r.json()
        check("detail" not in j, "the problem leaks detail", j)
    verify_names(cp, "care_list", "%s/%s" % (out_id, s1), "a forged care-list row")
    # a break-glass grant copied to another user
    cp2 = copy_of(ctx, cx)
    (gid, reason, granted, expires, mac) = sql(
        cp2.db, "SELECT id, reason, granted_at, expires_at, mac FROM break_glass")[0]
    sql_exec(cp2.db, ("INSERT INTO break_glass(id, user_id, subject_id, reason, granted_at, "
                      "expires_at, mac) VALUES ('00000000-0000-4000-8000-0000000000bb', ?, ?, "
                      "?, ?, ?, ?)", (out_id, s2, reason, granted, expires, mac)))
    with Server(cp2) as srv:
        r = subject_get(srv, st, "S2", sessions["outsider"])
        check(r.status >= 500, "a forged break-glass grant was used", r.describe())
        check(PERSON2["name"] not in r.body.decode("utf-8", "replace"), "S2 was read")
    verify_names(cp2, "break_glass", "00000000-0000-4000-8000-0000000000bb",
                 "a forged break-glass grant")
    # the genuine grant lengthened
    cp3 = copy_of(ctx, cx)
    sql_exec(cp3.db, ("UPDATE break_glass SET expires_at = expires_at + 86400000000", ()))
    verify_names(cp3, "break_glass", gid, "a lengthened grant")


@case("rows: a policy document edited in place (digest recomputed), or its latest "
      "version deleted, is refused at use; verify names it")
def t_policy(ctx):
    cx, st, sessions = build(ctx)
    ctl = st.controllers["A"]
    s1 = st.subjects["S1"]["id"]
    (doc,) = sql(cx.db, "SELECT document FROM policies WHERE controller_id = ?", (ctl,))[0]
    cp = copy_of(ctx, cx)
    edited = bytes(doc).replace(b"Pseudonymised reports", b"Anything at all, named")
    check(edited != bytes(doc), "test set-up: the document was not edited")
    digest = hashlib.blake2b(edited, digest_size=32).digest()
    sql_exec(cp.db, ("UPDATE policies SET document = ?, digest = ? WHERE controller_id = ?",
                     (edited, digest, ctl)))
    cp.fails(1, "subject", "show", s1, says="has been altered")
    with Server(cp) as srv:
        r = srv.call("GET", "/v1/policy", token=st.tokens["feed"]["token"])
        check(r.status >= 500, "an edited policy was shown", r.describe())
        check(b"Anything at all" not in r.body, "the edited document was returned")
    verify_names(cp, "policies", "%s/1" % ctl, "an edited policy")
    # a second version applied, then deleted: the controller must not roll back
    path = os.path.join(ctx.tmp.make(), "policy-v2.json")
    with open(path, "wb") as f:
        f.write(edited)
    cx.ok("policy", "apply", "--controller", ctl, path)
    eq(sql(cx.db, "SELECT max(version) FROM policies WHERE controller_id = ?", (ctl,))[0][0], 2,
       "policy versions")
    cp2 = copy_of(ctx, cx)
    sql_exec(cp2.db, ("DELETE FROM policies WHERE controller_id = ? AND version = 2", (ctl,)))
    cp2.fails(1, "subject", "show", s1, says="latest version")
    verify_names(cp2, "meta", "policy_head/%s" % ctl, "a deleted policy version")
    cx.ok("verify")


@case("rows: an unsubscribe link forged with a computable hash is refused; verify names it")
def t_unsubscribe(ctx):
    cx = ctx.custos()
    cx.ok("init")
    ctl = cx.ok("controller", "add", "--name", "Links Trust", "--policy", TEST_POLICY).out.strip()
    sid = cx.ok("subject", "add", "--controller", ctl, "--kind", "patient",
                stdin=json.dumps(PERSON1)).out.strip()
    cx.ok("consent", "give", sid, "newsletter", "--method", "web_form")
    link = cx.ok("consent", "link", sid, "newsletter").out.strip()
    real = link.rsplit("/", 1)[1]
    check(unkeyed_token_hash(real) not in [h for (h,) in
                                           sql(cx.db, "SELECT token_hash FROM unsubscribe_links")],
          "the link's stored hash is the unkeyed hash")
    cp = copy_of(ctx, cx)
    mine = new_token("cuu_")
    forged = unkeyed_token_hash(mine)
    sql_exec(cp.db, ("INSERT INTO unsubscribe_links(token_hash, subject_id, purpose, created_at) "
                     "VALUES (?, ?, 'newsletter', 1)", (forged, sid)))
    with Server(cp) as srv:
        r = srv.call("POST", "/v1/unsubscribe/" + mine)
        check(r.status >= 400, "a forged unsubscribe link was used", r.describe())
    eq(cp.okj("consent", "show", sid)["consents"][-1]["state"], "given", "consent after forgery")
    verify_names(cp, "unsubscribe_links", forged[:8].hex(), "a forged link")


@case("rows: a store whose integrity key is deleted refuses to open; verify reports it; "
      "verify --seal authenticates it (audited), after which old sessions are refused")
def t_seal(ctx):
    cx, st, sessions = build(ctx)
    s1 = st.subjects["S1"]["id"]
    sql_exec(cx.db, ("DELETE FROM keyring WHERE name = 'integrity'", ()))
    cx.fails(1, "subject", "show", s1, says="custos verify --seal")
    r = cx.run("verify")
    eq(r.rc, 1, "verify of an unsealed store")
    check("verify --seal" in r.err, "verify does not say how to seal", r.describe())
    before = sql(cx.db, "SELECT count(*) FROM audit_events")[0][0]
    j = cx.okj("verify", "--seal", "--json")
    eq(j["sealed"], True, "sealed")
    check(j["rows"] >= 10, "rows sealed", j)
    after = sql(cx.db, "SELECT count(*) FROM audit_events")[0][0]
    eq(after, before + 1, "audit events added by --seal")
    cx.ok("verify")
    cx.ok("subject", "show", s1)
    with Server(cx) as srv:
        # the sessions were hashed under the deleted key: they are gone
        expect_status(subject_get(srv, st, "S1", sessions["carer"]), 401, "an old session")
        expect_status(subject_get(srv, st, "S1", st.signin(srv, "carer")), 200,
                      "a new session after sealing")


@case("rows: a forged 'given' consent, an objection deleted or altered, and a rights "
      "request moved to another state are refused at use; verify names them")
def t_consent_objection_request(ctx):
    from cases_policy import healthya_store
    cx, ctl, sid = healthya_store(ctx)
    cx.fails(1, "--purpose", "newsletters", "subject", "show", sid, says="consent")
    cp = copy_of(ctx, cx)
    forged = "00000000-0000-4000-8000-0000000000cc"
    sql_exec(cp.db, ("INSERT INTO consents(id, subject_id, purpose, policy_version, state, at, "
                     "method, recorded_by) VALUES (?, ?, 'newsletters', 1, 'given', 1, "
                     "'web_form', 'admin')", (forged, sid)))
    r = cp.run("--purpose", "newsletters", "subject", "show", sid)
    eq(r.rc, 1, "exit status with a forged consent")
    eq(r.err, "custos: subject %s: its consent records do not match its record\n" % sid,
       "a forged consent is named as tampering")
    check(WEB_NAME not in r.out, "a forged consent let the subject be read", r.describe())
    verify_names(cp, "consents", forged, "a forged consent")

    cx.ok("subject", "object", sid, "website_improvement")
    cx.fails(1, "--purpose", "website_improvement", "subject", "show", sid, says="objection")
    (seq,) = sql(cx.db, "SELECT seq FROM objections WHERE subject_id = ?", (sid,))[0]
    cp2 = copy_of(ctx, cx)
    sql_exec(cp2.db, ("DELETE FROM objections WHERE seq = ?", (seq,)))
    r = cp2.fails(1, "--purpose", "website_improvement", "subject", "show", sid,
                  says="objections of subject")
    check(WEB_NAME not in r.out, "a deleted objection let the subject be read", r.describe())
    verify_names(cp2, "objections", sid, "a deleted objection")
    cp3 = copy_of(ctx, cx)
    sql_exec(cp3.db, ("UPDATE objections SET purpose = 'newsletters' WHERE seq = ?", (seq,)))
    cp3.fails(1, "--purpose", "website_improvement", "subject", "show", sid,
              says="has been altered")
    verify_names(cp3, "objections", str(seq), "an altered objection")

    rid = cx.ok("requests", "receive", "--controller", ctl, "--kind", "access", "--channel",
                "email", "--received-on", "2026-01-05", "--details-file", "-",
                stdin="wants a copy").out.strip()
    cp4 = copy_of(ctx, cx)
    sql_exec(cp4.db, ("UPDATE requests SET state = 'fulfilled', closed_on = '2026-01-01' "
                      "WHERE id = ?", (rid,)))
    cp4.fails(1, "requests", "show", rid, says="has been altered")
    cp4.fails(1, "requests", "due", says="has been altered")
    verify_names(cp4, "requests", rid, "an altered request")
    cx.ok("verify")


@case("rows: a withdrawal deleted to bring back the consent before it is refused at use; "
      "verify names the subject")
def t_withdrawal_deleted(ctx):
    from cases_policy import healthya_store
    cx, ctl, sid = healthya_store(ctx)
    cx.ok("consent", "give", sid, "newsletters", "--method", "web_form")
    r = cx.ok("--purpose", "newsletters", "subject", "show", sid)
    check(WEB_NAME in r.out, "the consent given does not let the subject be read", r.describe())
    cx.ok("consent", "withdraw", sid, "newsletters", "--method", "web_form")
    cx.fails(1, "--purpose", "newsletters", "subject", "show", sid, says="consent")
    cp = copy_of(ctx, cx)
    (last,) = sql(cp.db, "SELECT id FROM consents WHERE subject_id = ? AND state = 'withdrawn' "
                         "ORDER BY seq DESC LIMIT 1", (sid,))[0]
    sql_exec(cp.db, ("DELETE FROM consents WHERE id = ?", (last,)))
    r = cp.fails(1, "--purpose", "newsletters", "subject", "show", sid,
                 says="consent records do not match")
    check(WEB_NAME not in r.out, "a deleted withdrawal let the subject be read", r.describe())
    verify_names(cp, "subjects", sid, "a deleted withdrawal")
    cx.ok("verify")
