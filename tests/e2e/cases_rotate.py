"""Master-key rotation while `custos serve` runs: the server notices the new
key at the start of its next transaction (the store's master_key_id, read
whenever another process has committed), so no read fails and no subject is
wrapped under a key that no longer exists."""

import os
import threading
import time

from harness import registry, check, eq, sql
from fixtures import PERSON1
from http_client import Server, Staff, expect_status, expect_problem

CASES, case = registry()


def staffed(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Rotation Trust")
    st.user("clinician", "A", "clinician")
    st.subject("S1", "A", PERSON1)
    st.care("clinician", "S1")
    return cx, st


def person(tag, n):
    return {"kind": "patient", "name": "Rotation Person %s-%d" % (tag, n),
            "items": [{"category": "health", "field": "note",
                       "value": "value %s-%d of the rotation test" % (tag, n)}]}


def expect_values(srv, tok, sid, doc, what):
    r = srv.call("GET", "/v1/subjects/" + sid, token=tok)
    expect_status(r, 200, what)
    j = r.json()
    eq(j["name"], doc["name"], what + ": name")
    eq([i["value"] for i in j["items"]], [doc["items"][0]["value"]], what + ": items")


def key_id(cx):
    v = sql(cx.db, "SELECT value FROM meta WHERE key = 'master_key_id'")[0][0]
    return v.decode() if isinstance(v, bytes) else v


@case("key rotation under load: readers and writers over HTTP while key rotate runs 4 "
      "times; no request fails, every subject (before, during, after) reads back intact, "
      "the trail verifies and a further rotation succeeds")
def t_rotate_under_load(ctx):
    cx, st = staffed(ctx)
    with Server(cx) as srv:
        tok = st.signin(srv, "clinician")
        made = {}        # id -> document
        lock = threading.Lock()
        bad = []         # unexpected responses
        stop = threading.Event()
        counts = {"get": 0, "post": 0}

        def create(tag, n):
            doc = person(tag, n)
            r = srv.call("POST", "/v1/subjects", doc, token=tok)
            if r.status != 201:
                return r, None
            return r, r.json()["id"]

        before = []
        for n in range(5):
            r, sid = create("before", n)
            expect_status(r, 201, "create before the rotations")
            made[sid] = person("before", n)
            before.append(sid)

        def writer(w):
            n = 0
            while not stop.is_set():
                r, sid = create("w%d" % w, n)
                with lock:
                    counts["post"] += 1
                    if sid:
                        made[sid] = person("w%d" % w, n)
                    else:
                        bad.append(r.describe())
                n += 1

        def reader(k):
            i = 0
            while not stop.is_set():
                with lock:
                    ids = list(made)
                sid = ids[(i * 7 + k) % len(ids)]
                r = srv.call("GET", "/v1/subjects/" + sid, token=tok)
                with lock:
                    counts["get"] += 1
                    if r.status != 200:
                        bad.append(r.describe())
                i += 1

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
        threads += [threading.Thread(target=reader, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        ids_seen = [key_id(cx)]
        try:
            for _ in range(4):
                time.sleep(0.3)
                r = cx.ok("--json", "key", "rotate")
                ids_seen.append(r.json()["master_key_id"])
        finally:
            time.sleep(0.3)
            stop.set()
            for t in threads:
                t.join(60)
        check(not bad, "%d requests failed during the rotations; first: %s" % (
            len(bad), bad[0] if bad else ""))
        check(counts["get"] > 20 and counts["post"] > 10,
              "too little load to mean anything: %r" % counts)
        eq(len(set(ids_seen)), 5, "distinct master key ids after 4 rotations")
        eq(key_id(cx), ids_seen[-1], "the store's key id is the last rotation's")
        check(not os.path.exists(cx.master_key + ".next"), "a .next key file was left behind")

        after = []
        for n in range(3):
            r, sid = create("after", n)
            expect_status(r, 201, "create after the rotations")
            made[sid] = person("after", n)
            after.append(sid)
        # every subject reads back over HTTP, with its values
        for sid, doc in made.items():
            expect_values(srv, tok, sid, doc, "subject %s" % sid)
        # the server keeps working when the store moves on without it
        cx.ok("key", "rotate")
        r, sid = create("last", 0)
        expect_status(r, 201, "create after a rotation made while idle")
        made[sid] = person("last", 0)
        expect_values(srv, tok, sid, made[sid], "subject created after the last rotation")
    # ... and through a fresh process with the key file on disk (a sample:
    # every subject was read over HTTP above)
    ids = sorted(made)
    for sid in before[:2] + after[:2] + ids[::max(1, len(ids) // 6)]:
        doc = made[sid]
        j = cx.okj("--purpose", "direct_care", "subject", "show", sid)
        eq(j["name"], doc["name"], "name of %s read by the CLI" % sid)
    eq(cx.okj("audit", "verify")["ok"], True, "audit verify")
    cx.ok("key", "rotate")
    eq(cx.okj("audit", "verify")["ok"], True, "audit verify after a further rotation")


@case("key rotation: a server whose store names a key it cannot find refuses with 503 "
      "(retryable), wraps nothing under its old key, and recovers once the key is back")
def t_rotate_missing_key(ctx):
    cx, st = staffed(ctx)
    with Server(cx) as srv:
        tok = st.signin(srv, "clinician")
        sid = st.subjects["S1"]["id"]
        expect_status(srv.call("GET", "/v1/subjects/" + sid, token=tok), 200, "before")
        cx.ok("key", "rotate")
        # The new key is moved away, as if the rotation's key file had not
        # reached this node yet.
        aside = cx.master_key + ".aside"
        os.rename(cx.master_key, aside)
        nsubj = sql(cx.db, "SELECT count(*) FROM subjects")[0][0]
        r = srv.call("POST", "/v1/subjects", person("lost", 0), token=tok)
        expect_problem(r, 503, "unavailable", "create without the store's key")
        eq(r.header("retry-after"), "1", "Retry-After of the 503")
        expect_problem(srv.call("GET", "/v1/subjects/" + sid, token=tok), 503, "unavailable",
                       "read without the store's key")
        eq(sql(cx.db, "SELECT count(*) FROM subjects")[0][0], nsubj,
           "subjects stored while the key was missing")
        check("has been rotated" in srv.stderr(), "the server log does not say why",
              srv.stderr()[-2000:])
        os.rename(aside, cx.master_key)
        r = srv.call("POST", "/v1/subjects", person("back", 0), token=tok)
        expect_status(r, 201, "create once the key is back")
        expect_values(srv, tok, r.json()["id"], person("back", 0), "subject created after")
        expect_status(srv.call("GET", "/v1/subjects/" + sid, token=tok), 200, "read after")
    eq(cx.okj("audit", "verify")["ok"], True, "audit verify")
    cx.ok("key", "rotate")


@case("key rotation: between the rotation's commit and its rename the new key is read "
      "from master.key.next; an open completes the rename")
def t_rotate_next_file(ctx):
    cx, st = staffed(ctx)
    with Server(cx) as srv:
        tok = st.signin(srv, "clinician")
        sid = st.subjects["S1"]["id"]
        cx.ok("key", "rotate")
        # Put the store back in the state between commit and rename: the new
        # key only in .next, the key file holding an unrelated old key.
        nxt = cx.master_key + ".next"
        os.rename(cx.master_key, nxt)
        with open(cx.master_key, "w") as f:
            f.write("custos-master-key-v1\n" + "ab" * 32 + "\n")
        os.chmod(cx.master_key, 0o600)
        r = srv.call("POST", "/v1/subjects", person("next", 0), token=tok)
        expect_status(r, 201, "create with the key in .next")
        new = r.json()["id"]
        expect_values(srv, tok, new, person("next", 0), "read with the key in .next")
        check(os.path.exists(nxt), "the server renamed the key file itself")
        # a new process completes the rotation's rename
        j = cx.okj("--purpose", "direct_care", "subject", "show", new)
        eq(j["name"], person("next", 0)["name"], "name read by the CLI")
        check(not os.path.exists(nxt), ".next left after an open")
        expect_status(srv.call("GET", "/v1/subjects/" + sid, token=tok), 200, "read after")
    eq(cx.okj("audit", "verify")["ok"], True, "audit verify")


@case("key schedule: key status shows when the master key came into use; schedule --every "
      "sets the interval (audited, bounds refused with nothing written); past the interval "
      "status says overdue and serve logs a warning; a rotation starts the count again")
def t_key_schedule(ctx):
    cx = ctx.custos()
    cx.ok("init")
    now = int(time.time())
    st = cx.okj("key", "status")
    eq(st["since_recorded"], True, "a new store records when its key came into use")
    eq(st["rotation_days"], None, "no interval on a new store")
    eq(st["overdue"], False, "nothing due without an interval")
    check("no interval set" in cx.ok("key", "status").out, "status says no interval is set")
    for bad in ("400", "-1", "thirty", "", "30d"):
        cx.fails(2, "key", "schedule", "--every", bad, says="--every")
    cx.fails(2, "key", "schedule", says="--every")
    eq(cx.okj("key", "status")["rotation_days"], None, "a refused schedule wrote nothing")
    before = len(cx.ok("audit", "show", "--json").json_lines())
    cx.ok("key", "schedule", "--every", "30")
    evs = cx.ok("audit", "show", "--json").json_lines()
    eq(len(evs), before + 2, "one event for the schedule (and one for the audit show)")
    eq(evs[-1]["action"], "key", "the schedule is recorded as a key action")
    st = cx.okj("key", "status")
    eq(st["rotation_days"], 30, "interval set")
    eq(st["overdue"], False, "a new key is not overdue")

    late = {"CUSTOS_FAKE_NOW": str(now + 31 * 86400 + 60)}
    st = cx.okj("key", "status", env=cx.env(late))
    eq(st["overdue"], True, "31 days after, a 30-day interval is overdue")
    eq(st["age_days"], 31, "age in whole days")
    out = cx.ok("key", "status", env=cx.env(late)).out
    check("OVERDUE" in out and "custos key rotate" in out, "status says what to do", out)
    check("rotation OVERDUE" in cx.ok("status", env=cx.env(late)).out,
          "custos status says so too")
    with Server(cx, env=late) as srv:
        deadline = time.monotonic() + 20
        while "run custos key rotate" not in srv.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        check("run custos key rotate" in srv.stderr(),
              "serve warns about an overdue rotation", srv.stderr())
    with Server(cx) as srv:
        time.sleep(0.5)
        check("custos key rotate" not in srv.stderr(),
              "no warning while the rotation is not due", srv.stderr())

    cx.ok("key", "rotate", env=cx.env(late))
    st = cx.okj("key", "status", env=cx.env(late))
    eq(st["overdue"], False, "a rotation starts the count again")
    eq(st["age_days"], 0, "the new key is new")
    eq(st["rotation_days"], 30, "the interval stays")
    cx.ok("key", "schedule", "--every", "0")
    eq(cx.okj("key", "status")["rotation_days"], None, "0 clears the interval")
    cx.ok("audit", "verify")

    # A store made before the time was recorded: counted from its creation.
    sql(cx.db, "DELETE FROM meta WHERE key = 'master_key_since'")
    st = cx.okj("key", "status")
    eq(st["since_recorded"], False, "an older store says the time is not recorded")
    check("at least" in cx.ok("key", "status").out, "and that the key is at least that old")
