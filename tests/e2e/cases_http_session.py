"""HTTP API: sessions (idle and absolute expiry, sign-out, disable, password
reset, revoked API tokens), sign-in throttling (per account and per source
address) and one-time codes (required, wrong, right, replayed)."""

import time

from harness import registry, check, eq, sql, db_bytes
from fixtures import PERSON1
from http_client import (Server, Staff, PASSWORD, expect_status, expect_problem,
                         audit_seq, events_after, totp_code, totp_step, fresh_step)

CASES, case = registry()
ALONE = "idle and absolute session expiry measured in seconds"  # --jobs: one by one


def staffed(ctx, users, roles="clinician"):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Session Trust")
    st.subject("S1", "A", PERSON1)
    for u in users:
        st.user(u, "A", roles)
        st.care(u, "S1")
    return cx, st


def get_s1(srv, st, token, **kw):
    return srv.call("GET", "/v1/subjects/" + st.subjects["S1"]["id"], token=token, **kw)


def expect_401(r, what):
    j = expect_problem(r, 401, "unauthenticated", what)
    check((r.header("www-authenticate") or "").startswith("Bearer"),
          "%s: no WWW-Authenticate: Bearer" % what, r.describe())
    return j


@case("http sessions: --session-idle 2 ends an unused session; activity keeps one alive "
      "until --session-max 6 ends it")
def t_expiry(ctx):
    cx, st = staffed(ctx, ["idler", "busy"])
    with Server(cx, "--session-idle", "2", "--session-max", "6") as srv:
        t_busy = time.monotonic()  # the busy session starts between these two
        busy = st.signin(srv, "busy")
        t_busy_after = time.monotonic()
        r = srv.signin("idler")
        expect_status(r, 201, "sign-in")
        eq(r.json()["idle_timeout_seconds"], 2, "idle_timeout_seconds")
        idler = r.json()["token"]
        expect_status(get_s1(srv, st, idler), 200, "a fresh session")
        t_idle = time.monotonic()
        # the busy session is used every 0.4 s: never idle for 2 s, and it outlives
        # the idle timeout (at least 2.6 s since its sign-in and since the idler's
        # last use); a slow sign-in only moves the end of this loop
        log = []
        while (time.monotonic() - t_idle < 2.6 or time.monotonic() - t_busy < 2.6):
            r = get_s1(srv, st, busy)
            log.append((round(time.monotonic() - t_busy, 2), r.status))
            time.sleep(0.4)
        bad = [x for x in log if x[1] != 200]
        check(not bad, "an active session was refused before --session-max (idle 2 s, "
                       "used every 0.4 s): (seconds since sign-in, status) %r" % log)
        check(time.monotonic() - t_busy_after < 5.5,
              "test timing: sign-ins took too long to test --session-max 6 (%.1f s)"
              % (time.monotonic() - t_busy_after))
        seq0 = audit_seq(cx.db)
        j = expect_401(get_s1(srv, st, idler), "a session unused for 2 s")
        check("inactiv" in j.get("detail", ""), "the reason is not inactivity", j)
        eq(events_after(cx.db, seq0), [], "audit events for an expired session")
        # past the absolute limit, even an active session ends: used every 0.2 s, it
        # is accepted while younger than 6 s and refused, for its age, from then on
        while True:
            sent = time.monotonic()
            r = get_s1(srv, st, busy)
            if r.status == 200:
                check(sent < t_busy_after + 6.0, "a session older than --session-max 6 "
                      "was accepted (%.2f s after sign-in)" % (sent - t_busy_after))
                time.sleep(0.2)
                continue
            check(time.monotonic() >= t_busy + 6.0, "the busy session ended before "
                  "--session-max (%.2f s)" % (time.monotonic() - t_busy))
            j = expect_401(r, "a session older than --session-max")
            eq(j.get("detail"), "the session reached its maximum age",
               "the reason a session older than --session-max ends")
            break
        # a new sign-in works again
        expect_status(get_s1(srv, st, st.signin(srv, "busy")), 200, "after a new sign-in")


@case("http sessions: sign-out, user disable and reset-password end sessions; a revoked "
      "API token is refused")
def t_end(ctx):
    cx, st = staffed(ctx, ["leaver", "disabled", "forgetful", "other"])
    st.token("feed", "A", "clinician")
    with Server(cx) as srv:
        tokens = {u: st.signin(srv, u) for u in ("leaver", "disabled", "forgetful", "other")}
        for u, t in tokens.items():
            expect_status(get_s1(srv, st, t), 200, "session of " + u)
        feed = st.tokens["feed"]["token"]
        expect_status(srv.call("GET", "/v1/subjects", token=feed), 403, "the token works "
                      "(authenticated; a clinician may not list)")
        # sign-out
        seq0 = audit_seq(cx.db)
        r = srv.call("DELETE", "/v1/sessions/current", token=tokens["leaver"])
        expect_status(r, 204, "sign-out")
        evs = events_after(cx.db, seq0)
        eq([(e["actor"], e["action"], e["outcome"]) for e in evs],
           [("leaver", "signout", "ok")], "sign-out audit event")
        expect_401(get_s1(srv, st, tokens["leaver"]), "after sign-out")
        expect_401(srv.call("DELETE", "/v1/sessions/current", token=tokens["leaver"]),
                   "a second sign-out")
        revoked = sql(cx.db, "SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL")
        eq(revoked[0][0], 1, "revoked sessions after one sign-out")
        # disable (CLI, while the server runs)
        cx.ok("user", "disable", "disabled")
        j = expect_401(get_s1(srv, st, tokens["disabled"]), "after user disable")
        r = srv.signin("disabled")
        expect_problem(r, 401, "unauthenticated", "sign-in of a disabled account")
        # reset-password (CLI, while the server runs)
        new_pw = "a brand new passphrase 42"
        cx.ok("user", "reset-password", "forgetful", stdin=new_pw + "\n")
        expect_401(get_s1(srv, st, tokens["forgetful"]), "after reset-password")
        expect_problem(srv.signin("forgetful", PASSWORD), 401, "unauthenticated",
                       "sign-in with the old password")
        r = srv.signin("forgetful", new_pw)
        expect_status(r, 201, "sign-in with the new password")
        expect_status(get_s1(srv, st, r.json()["token"]), 200, "the new session")
        # revoked API token
        cx.ok("user", "token", "revoke", st.tokens["feed"]["id"])
        expect_401(srv.call("GET", "/v1/subjects", token=feed), "a revoked API token")
        # nobody else was affected
        expect_status(get_s1(srv, st, tokens["other"]), 200, "an unrelated session")


def attempt(srv, cx, username, password, source, code=None):
    """One sign-in attempt from a source address: (response, the events it appended)."""
    seq0 = audit_seq(cx.db)
    r = srv.signin(username, password, code, source=source)
    evs = events_after(cx.db, seq0)
    for e in evs:
        e["_source"] = source
    return r, evs


def one_signin_event(evs, actor, outcome, what):
    """One sign-in event, naming the source address the attempt came from (never
    the attempted password, nor a user name that is not an account's)."""
    got = [(e["actor"], e["action"], e["outcome"], e["via"]) for e in evs]
    src = evs[0].get("_source") if evs else None
    check(src, "no source address known for " + what, evs)
    eq(got, [(actor, "signin", outcome, "http POST /v1/sessions from " + src)],
       "audit events of " + what)


@case("http throttling: 5 wrong passwords lock the account (429 + Retry-After even with the "
      "right one); 5 failures from one address lock the address; one audit event each")
def t_throttle(ctx):
    cx, st = staffed(ctx, ["target", "bystander", "u1", "u2", "u3", "u4", "u5", "u6"])
    with Server(cx) as srv:
        # -- the account: one wrong password from each of five addresses
        bodies = set()
        for i in range(5):
            r, evs = attempt(srv, cx, "target", "wrong password %d!" % i, "127.0.0.%d" % (i + 2))
            j = expect_problem(r, 401, "unauthenticated", "wrong password %d" % (i + 1))
            bodies.add(r.text)
            one_signin_event(evs, "target", "denied", "wrong password %d" % (i + 1))
        eq(len(bodies), 1, "distinct answers to wrong passwords")
        row = sql(cx.db, "SELECT failures, locked_until FROM users WHERE username = 'target'")
        eq(row[0][0], 5, "failures recorded")
        check(row[0][1] > time.time() * 1e6, "the account is not locked", row)
        # the sixth, with the right password, from a fresh address: locked
        r, evs = attempt(srv, cx, "target", PASSWORD, "127.0.0.7")
        expect_problem(r, 429, "too-many-requests", "the right password on a locked account")
        ra = r.header("retry-after")
        check(ra and ra.isdigit() and 60 <= int(ra) <= 24 * 3600,
              "no sensible Retry-After on 429", r.describe())
        one_signin_event(evs, "target", "denied", "a sign-in to a locked account")
        eq(sql(cx.db, "SELECT count(*) FROM sessions")[0][0], 0, "sessions of a locked account")
        # that address is not throttled: another account signs in from it
        r, evs = attempt(srv, cx, "bystander", PASSWORD, "127.0.0.7")
        expect_status(r, 201, "another account from the same address")
        one_signin_event(evs, "bystander", "ok", "a successful sign-in")
        # an unknown user, and SQL in the username, get the same answer as a wrong password
        for name in ("nobody-here", "target' OR '1'='1", "target'--"):
            r, evs = attempt(srv, cx, name, PASSWORD, "127.0.0.7")
            expect_problem(r, 401, "unauthenticated", "sign-in as %r" % name)
            check(r.text in bodies, "the answer for an unknown user differs", r.text, bodies)
            one_signin_event(evs, "unknown-user", "denied", "sign-in as %r" % name)

        # -- the address: five failures across five accounts from 127.0.0.8
        for i in range(5):
            r, evs = attempt(srv, cx, "u%d" % (i + 1), "wrong password!!", "127.0.0.8")
            expect_problem(r, 401, "unauthenticated", "address failure %d" % (i + 1))
            one_signin_event(evs, "u%d" % (i + 1), "denied", "address failure %d" % (i + 1))
        r, evs = attempt(srv, cx, "u6", PASSWORD, "127.0.0.8")
        expect_problem(r, 429, "too-many-requests", "the sixth attempt from the address")
        ra = r.header("retry-after")
        check(ra and ra.isdigit() and 1 <= int(ra) <= 901, "Retry-After for the address",
              r.describe())
        eq(len(evs), 1, "audit events for a throttled attempt")
        eq((evs[0]["outcome"], evs[0]["actor"], evs[0]["via"]),
           ("denied", "anonymous", "http POST /v1/sessions from 127.0.0.8"),
           "the throttled attempt's event")
        eq(sql(cx.db, "SELECT failures FROM users WHERE username = 'u6'")[0][0], 0,
           "failures of an account whose attempt was throttled")
        # the accounts themselves are not locked: from another address u1 and u6 sign in
        for u in ("u1", "u6"):
            r, evs = attempt(srv, cx, u, PASSWORD, "127.0.0.9")
            expect_status(r, 201, "%s from another address" % u)
            one_signin_event(evs, u, "ok", "%s signing in" % u)
        # the throttled address stays throttled, even for the right password
        r, evs = attempt(srv, cx, "u2", PASSWORD, "127.0.0.8")
        expect_problem(r, 429, "too-many-requests", "the throttled address again")
        eq(len(evs), 1, "audit events for a throttled attempt")
        # a malformed sign-in is refused before any attempt: no event, no count
        seq0 = audit_seq(cx.db)
        r = srv.call("POST", "/v1/sessions", {"username": "u3"}, source="127.0.0.10")
        expect_problem(r, 400, "invalid-input", "sign-in without a password")
        eq(events_after(cx.db, seq0), [], "audit events for a malformed sign-in")


@case("http behind a trusted proxy: sign-in failures count per address the proxy names last "
      "in X-Forwarded-For; from any other peer the header is ignored")
def t_trusted_proxy(ctx):
    cx, st = staffed(ctx, ["p1", "p2", "p3", "p4", "p5", "p6", "q1", "q2"])
    with Server(cx, "--trusted-proxy", "127.0.0.20") as srv:
        def signin(user, pw, forwarded, source="127.0.0.20"):
            seq0 = audit_seq(cx.db)
            r = srv.call("POST", "/v1/sessions", {"username": user, "password": pw},
                         source=source, headers={"X-Forwarded-For": forwarded})
            evs = events_after(cx.db, seq0)
            # the address the proxy appended, when it speaks for the client
            last = forwarded.split(",")[-1].strip()
            for e in evs:
                e["_source"] = last if source == "127.0.0.20" else source
            return r, evs

        # five failures from one client behind the proxy; what the client put
        # first in the header varies, the address the proxy appended does not
        for i in range(5):
            r, evs = signin("p%d" % (i + 1), "wrong password!!", "10.9.9.%d, 203.0.113.5" % i)
            expect_problem(r, 401, "unauthenticated", "failure %d behind the proxy" % (i + 1))
            one_signin_event(evs, "p%d" % (i + 1), "denied", "failure %d" % (i + 1))
        r, evs = signin("p6", PASSWORD, "203.0.113.5")
        expect_problem(r, 429, "too-many-requests", "that client's sixth attempt")
        eq(len(evs), 1, "audit events for a throttled attempt")
        # another client behind the same proxy is not throttled
        r, evs = signin("p6", PASSWORD, "203.0.113.6")
        expect_status(r, 201, "another client behind the proxy")
        one_signin_event(evs, "p6", "ok", "another client's sign-in")
        r, evs = signin("q1", PASSWORD, "2001:db8::7")
        expect_status(r, 201, "a client with an IPv6 address behind the proxy")
        one_signin_event(evs, "q1", "ok", "a sign-in from an IPv6 client")
        # a header that names no address leaves the proxy's own, which has no failures
        r, evs = signin("q1", PASSWORD, "203.0.113.5, not-an-address")
        expect_status(r, 201, "a malformed X-Forwarded-For from the proxy")
        for e in evs:
            e["_source"] = "127.0.0.20"
        one_signin_event(evs, "q1", "ok", "a sign-in with a malformed X-Forwarded-For")

        # from a peer that is not the proxy the header is ignored: its
        # failures count against the peer whatever address it claims
        for i in range(5):
            r, evs = signin("p%d" % (i + 1), "wrong password!!", "198.51.100.%d" % i,
                            source="127.0.0.21")
            expect_problem(r, 401, "unauthenticated", "failure %d from 127.0.0.21" % (i + 1))
            one_signin_event(evs, "p%d" % (i + 1), "denied",
                             "a failure from a peer claiming another address")
        r, _ = signin("q2", PASSWORD, "198.51.100.99", source="127.0.0.21")
        expect_problem(r, 429, "too-many-requests", "a peer claiming another address")


@case("http one-time codes: dpo without a code -> one-time-code-required; wrong -> 401; "
      "right -> 201; the same code again -> 401")
def t_totp(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Code Trust")
    st.user("dpo", "A", "dpo")
    st.user("admin", "A", "admin")
    st.user("careful", "A", "clinician", totp=True)
    st.user("plain", "A", "clinician")
    for u in ("dpo", "admin", "careful"):
        check(st.users[u]["totp_secret"], "%s has no one-time code secret" % u)
    check(not st.users["plain"]["totp_secret"], "a clinician got a one-time code secret")
    secret = st.users["dpo"]["totp_secret"]
    with Server(cx) as srv:
        src = "127.0.0.20"
        r, evs = attempt(srv, cx, "dpo", PASSWORD, src)
        expect_problem(r, 401, "one-time-code-required", "dpo without a code")
        one_signin_event(evs, "dpo", "denied", "a sign-in without the code")
        step = fresh_step()
        good = totp_code(secret, step)
        wrong = "%06d" % ((int(good) + 1) % 1000000)
        r, evs = attempt(srv, cx, "dpo", PASSWORD, src, code=wrong)
        expect_problem(r, 401, "unauthenticated", "a wrong code")
        one_signin_event(evs, "dpo", "denied", "a wrong code")
        r, evs = attempt(srv, cx, "dpo", "not the password!", src, code=good)
        expect_problem(r, 401, "unauthenticated", "the right code with a wrong password")
        one_signin_event(evs, "dpo", "denied", "a wrong password with a code")
        # (the account locks at 5 failures): a code of the wrong length is just a
        # wrong code; an empty one is a malformed body
        for bad, status, kind in (("12345", 401, "unauthenticated"), ("", 400, "invalid-input")):
            r, evs = attempt(srv, cx, "dpo", PASSWORD, "127.0.0.21", code=bad)
            expect_problem(r, status, kind, "malformed code %r" % bad)
        r, evs = attempt(srv, cx, "dpo", PASSWORD, src, code=good)
        expect_status(r, 201, "the right code")
        one_signin_event(evs, "dpo", "ok", "the right code")
        tok = r.json()["token"]
        expect_status(srv.call("GET", "/v1/audit/verify", token=tok), 200, "the dpo session")
        # replay: the same code, at once (same 30-second step)
        check(totp_step() <= step + 1, "test timing: the code is still in its window")
        r, evs = attempt(srv, cx, "dpo", PASSWORD, "127.0.0.22", code=good)
        expect_problem(r, 401, "unauthenticated", "a replayed code")
        one_signin_event(evs, "dpo", "denied", "a replayed code")
        # an old code (two steps back) is refused too
        r, evs = attempt(srv, cx, "dpo", PASSWORD, "127.0.0.22",
                         code=totp_code(secret, totp_step() - 3))
        expect_problem(r, 401, "unauthenticated", "a code from 90 s ago")
        # admin and an opted-in clinician need their codes; a plain clinician does not
        r, _ = attempt(srv, cx, "admin", PASSWORD, "127.0.0.23")
        expect_problem(r, 401, "one-time-code-required", "admin without a code")
        r, _ = attempt(srv, cx, "admin", PASSWORD, "127.0.0.23",
                       code=totp_code(st.users["admin"]["totp_secret"], fresh_step()))
        expect_status(r, 201, "admin with the right code")
        r, _ = attempt(srv, cx, "careful", PASSWORD, "127.0.0.24")
        expect_problem(r, 401, "one-time-code-required", "a --totp clinician without a code")
        r, _ = attempt(srv, cx, "plain", PASSWORD, "127.0.0.24")
        expect_status(r, 201, "a clinician without one-time codes")
        # the secret never appears in the store in the clear
        check(secret.encode() not in db_bytes(cx.db), "the TOTP secret is stored in the clear")
