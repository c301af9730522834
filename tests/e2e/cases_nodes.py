"""Several nodes: two to four `custos serve` processes on one store. A write
on one node is read on another at once; a policy change and a revoked session
on one node take effect on the others at the next request; nodes appending
concurrently leave one audit chain that verifies, each head signed by the
recorded key of the node it names; kill -9 of a node under write load loses
no acknowledged write while the others keep serving; the session purge runs
once per cluster per period.

Everything goes through the CLI and HTTP (no database file access), except
the case that forges a node key, which writes the store as an insider would.

CUSTOS_NODES_WRITES sets the writes per node of the concurrent case (default
300; the benchmark figure is 10000)."""

import json
import os
import threading
import time

from harness import registry, check, eq, sql_exec, sqlite_only, connect, is_pg
from fixtures import PERSON1
from http_client import Server, Staff, expect_status, expect_problem

CASES, case = registry()

WRITES = int(os.environ.get("CUSTOS_NODES_WRITES", "300"))
CLIENTS_PER_NODE = 3


def staffed(ctx, users):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Nodeshire Health Trust")
    st.subject("S1", "A", PERSON1)
    for u in users:
        st.user(u, "A", "clinician")
        st.care(u, "S1")
    return cx, st


def nodes(cx, names, env=None):
    return [Server(cx, "--node", n, env=env) for n in names]


def events(cx, *args):
    r = cx.ok("audit", "show", "--limit", "100000000", "--json", *args)
    return [json.loads(line) for line in r.out.splitlines() if line.strip()]


def verify_all(cx, what):
    r = cx.run("audit", "verify")
    check(r.rc == 0 and "intact" in r.out, "%s: audit verify fails" % what, r.describe())
    head = cx.okj("audit", "head")
    eq(head["verified"], True, "%s: the head verifies" % what)
    check(head.get("node") and len(head.get("public_key", "")) == 64,
          "%s: the head names its node and that node's key" % what, head)
    return head


def new_subject(srv, token, name):
    return srv.call("POST", "/v1/subjects", {"kind": "patient", "name": name}, token=token)


@case("nodes: a write on one node is read on the other at once; a revoked session and a "
      "policy change on one node take effect on the other at the next request")
def t_two_nodes(ctx):
    cx, st = staffed(ctx, ["ada", "bob"])
    st.user("dora.dpo", "A", "dpo")
    s1 = st.subjects["S1"]["id"]
    a, b = nodes(cx, ["alpha", "beta"])
    with a, b:
        ta = st.signin(a, "ada")
        tb = st.signin(b, "bob")
        # read on beta first, so its caches hold the subject and the session
        r = b.call("GET", "/v1/subjects/" + s1, token=tb)
        expect_status(r, 200, "read on beta")
        before = json.dumps(r.json())
        item = {"category": "health", "field": "observation",
                "value": "Seen on the alpha node, ward 7"}
        r = a.call("POST", "/v1/subjects/%s/items" % s1, {"items": [item]}, token=ta)
        expect_status(r, 201, "an item added on alpha")
        r = b.call("GET", "/v1/subjects/" + s1, token=tb)
        expect_status(r, 200, "read on beta after the write on alpha")
        check("Seen on the alpha node, ward 7" in json.dumps(r.json()),
              "beta does not see the item alpha wrote", before, r.json())
        # a session signed in on alpha works on beta; signed out on beta, alpha refuses it
        expect_status(b.call("GET", "/v1/subjects/" + s1, token=ta), 200,
                      "alpha's session on beta")
        expect_status(a.call("GET", "/v1/subjects/" + s1, token=ta), 200,
                      "alpha's session on alpha (now cached there)")
        expect_status(b.call("DELETE", "/v1/sessions/current", token=ta), 204,
                      "sign-out on beta")
        expect_problem(a.call("GET", "/v1/subjects/" + s1, token=ta), 401, "unauthenticated",
                       "the session signed out on beta, used on alpha")
        expect_status(a.call("GET", "/v1/subjects/" + s1, token=tb), 200,
                      "an unrelated session on alpha")
        # a policy applied on alpha is the current one on beta at once
        dora_a = st.signin(a, "dora.dpo")
        dora_b = st.signin(b, "dora.dpo")
        r = b.call("GET", "/v1/policy", token=dora_b)
        expect_status(r, 200, "policy on beta")
        p1 = r.json()
        eq(p1["version"], 1, "the policy's version before")
        doc = p1["policy"]
        doc["security_measures"] = list(doc.get("security_measures") or []) + [
            "Several nodes share one signed audit trail"]
        r = a.call("PUT", "/v1/policy", doc, token=dora_a)
        check(r.status in (200, 201), "PUT /v1/policy on alpha", r.describe())
        check(r.json().get("version") == 2, "alpha applied version 2", r.json())
        r = b.call("GET", "/v1/policy", token=dora_b)
        expect_status(r, 200, "policy on beta after the change on alpha")
        eq(r.json()["version"], 2, "the version beta serves after alpha applied one")
        check(r.json()["digest"] != "" and r.json()["version"] != p1["version"],
              "beta still serves the old policy", r.json())
    head = verify_all(cx, "after two nodes")
    check(head["public_key"] != head["store_public_key"], "the head is signed by a node key")


class Load:
    """CLIENTS_PER_NODE threads per node, each creating subjects over HTTP and
    recording every id the node acknowledged (201)."""

    def __init__(self, srv, token, label, count):
        self.srv, self.token, self.label = srv, token, label
        self.count = count
        self.acked = []
        self.failed = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(CLIENTS_PER_NODE)]
        self.next = 0

    def take(self):
        with self.lock:
            if self.next >= self.count or self.stop.is_set():
                return None
            self.next += 1
            return self.next

    def run(self, i):
        while True:
            n = self.take()
            if n is None:
                return
            try:
                r = new_subject(self.srv, self.token, "Load %s %d" % (self.label, n))
            except Exception as e:  # a connection the node dropped (killed)
                with self.lock:
                    self.failed.append(repr(e))
                continue
            with self.lock:
                if r.status == 201:
                    self.acked.append(r.json()["id"])
                else:
                    self.failed.append(r.status)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        check(not any(t.is_alive() for t in self.threads),
              "load on %s did not finish within %d s" % (self.label, timeout))


def batch_metrics(srv):
    """(count, sum) of custos_commit_batch_size from /metrics."""
    r = expect_status(srv.call("GET", "/metrics"), 200, "/metrics")
    got = {}
    for line in r.body.decode().splitlines():
        if line.startswith(("custos_commit_batch_size_count ", "custos_commit_batch_size_sum ")):
            name, value = line.split()
            got[name] = int(value)
    return got["custos_commit_batch_size_count"], got["custos_commit_batch_size_sum"]


@case("nodes: requests that arrive while a batch waits for the writer lock (another node's "
      "transaction holds it) join that batch: one group commit for all of them")
def t_batch_joins_while_waiting(ctx):
    cx, st = staffed(ctx, ["ada"])
    s1 = st.subjects["S1"]["id"]
    k = 6
    with Server(cx, "--node", "alpha") as srv:
        tok = st.signin(srv, "ada")
        expect_status(srv.call("GET", "/v1/subjects/" + s1, token=tok), 200, "a first read")
        count0, sum0 = batch_metrics(srv)
        # Another writer (as another node would) holds the writer lock.
        holder = connect(cx.db)
        if is_pg(cx.db):
            holder.execute("SELECT pg_advisory_lock(7166488076457902081)")
        else:
            holder.execute("BEGIN IMMEDIATE")
        results = [None] * k

        def read(i):
            results[i] = srv.call("GET", "/v1/subjects/" + s1, token=tok)

        threads = [threading.Thread(target=read, args=(i,)) for i in range(k)]
        try:
            threads[0].start()
            time.sleep(0.5)  # the first is taken into a batch, which waits at its begin
            for t in threads[1:]:
                t.start()
            time.sleep(1.0)  # the others are queued meanwhile
            check(all(r is None for r in results), "a read was answered while the writer "
                  "lock was held by another", results)
        finally:
            if is_pg(cx.db):
                holder.execute("SELECT pg_advisory_unlock(7166488076457902081)")
            else:
                holder.execute("ROLLBACK")
            holder.close()
        for t in threads:
            t.join(30)
        for i, r in enumerate(results):
            expect_status(r, 200, "read %d" % i)
        count1, sum1 = batch_metrics(srv)
        # the first /metrics request's own batch (counted once it has
        # committed), then one batch of the k reads
        eq((count1 - count0, sum1 - sum0), (2, k + 1), "batches and their requests")


@case("nodes: four nodes appending concurrently leave one chain that audit verify passes, "
      "with every node's events in it and every node's key recorded")
def t_four_nodes(ctx):
    names = ["n1", "n2", "n3", "n4"]
    cx, st = staffed(ctx, names)
    servers = nodes(cx, names)
    for s in servers:
        s.start()
    try:
        loads = [Load(s, st.signin(s, n), n, WRITES) for s, n in zip(servers, names)]
        seq0 = cx.okj("audit", "head")["seq"]
        t0 = time.monotonic()
        for ld in loads:
            ld.start()
        for ld in loads:
            ld.join(900)
        took = time.monotonic() - t0
        print("# 4 nodes x %d audited writes (%d clients each) in %.1f s: %.0f writes/s" %
              (WRITES, CLIENTS_PER_NODE, took, 4 * WRITES / took))
        for ld in loads:
            eq(ld.failed, [], "failed writes on %s" % ld.label)
            eq(len(ld.acked), WRITES, "acknowledged writes on %s" % ld.label)
    finally:
        for s in servers:
            s.stop()
    t0 = time.monotonic()
    verify_all(cx, "after four nodes")
    print("# audit verify and head over the whole chain: %.1f s" % (time.monotonic() - t0))
    for n, ld in zip(names, loads):
        evs = [e for e in events(cx, "--actor", n) if e["action"] == "create"]
        eq(len(evs), WRITES, "create events of %s in the chain" % n)
        eq(sorted(e["subject"] for e in evs), sorted(ld.acked),
           "the subjects %s acknowledged are those its events name" % n)
    seqs = [e["seq"] for e in events(cx)]
    eq(seqs, list(range(1, len(seqs) + 1)), "one chain: no gap, no duplicate")
    check(len(seqs) >= seq0 + 4 * WRITES, "events missing from the chain")
    recorded = cx.okj("audit", "head")["nodes"]
    check(set(names) <= {k["node"] for k in recorded}, "every node's key is recorded",
          recorded)
    check(all(len(k["public_key"]) == 64 for k in recorded), "recorded keys", recorded)
    eq(len({k["public_key"] for k in recorded}), len(recorded), "one key per node")


@case("nodes: kill -9 of one node under write load loses no acknowledged write; the other "
      "nodes keep serving")
def t_kill9(ctx):
    names = ["k1", "k2", "k3"]
    cx, st = staffed(ctx, names)
    servers = nodes(cx, names)
    for s in servers:
        s.start()
    try:
        count = max(WRITES, 150)
        loads = [Load(s, st.signin(s, n), n, count) for s, n in zip(servers, names)]
        for ld in loads:
            ld.start()
        victim = loads[1]
        deadline = time.monotonic() + 120
        while len(victim.acked) < count // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        check(len(victim.acked) >= count // 3, "the victim acknowledged too little to test")
        servers[1].kill9()
        victim.stop.set()
        victim.join(60)
        for ld in (loads[0], loads[2]):
            ld.join(900)
            eq(ld.failed, [], "failed writes on %s, which was not killed" % ld.label)
            eq(len(ld.acked), count, "acknowledged writes on %s" % ld.label)
        # the survivors still serve reads and writes
        for s, ld in ((servers[0], loads[0]), (servers[2], loads[2])):
            expect_status(new_subject(s, ld.token, "After the kill"), 201,
                          "a write on %s after the kill" % ld.label)
    finally:
        for i, s in enumerate(servers):
            if i != 1:
                s.stop()
    verify_all(cx, "after kill -9")
    for n, ld in zip(names, loads):
        got = {e["subject"] for e in events(cx, "--actor", n) if e["action"] == "create"}
        lost = [sid for sid in ld.acked if sid not in got]
        eq(lost, [], "acknowledged writes of %s missing from the trail" % n)
    for sid in victim.acked[-3:]:
        cx.ok("--purpose", "direct_care", "subject", "show", sid)
    # the killed node starts again and serves
    with Server(cx, "--node", "k2") as again:
        expect_status(new_subject(again, st.signin(again, "k2"), "Back again"), 201,
                      "a write on the restarted node")
    verify_all(cx, "after the restart")


@case("nodes: the session purge runs once per cluster per day, whichever node is first")
def t_jobs(ctx):
    cx, st = staffed(ctx, ["jo"])
    t0 = 1893456000  # 2030-01-01
    day = 86400
    env0 = {"CUSTOS_FAKE_NOW": str(t0)}
    with Server(cx, "--node", "j1", env=env0) as srv:
        tok = st.signin(srv, "jo")
        expect_status(srv.call("DELETE", "/v1/sessions/current", token=tok), 204, "sign-out")
        st.signin(srv, "jo")  # a session still in use at t0 + 2 days (not revoked)
    eq(len([e for e in events(cx) if e["action"] == "session.purge"]), 1,
       "the first node to start ran the purge once (nothing to delete yet)")

    def period(t, what):
        env = {"CUSTOS_FAKE_NOW": str(t)}
        a, b, c = nodes(cx, ["j1", "j2", "j3"], env=env)
        with a, b, c:
            time.sleep(0.5)
        runs = [s for s in (a, b, c) if "session purge ran on this node" in s.stderr()]
        check(len(runs) <= 1, "%s: the purge ran on %d nodes" % (what, len(runs)))
        return runs

    runs = period(t0 + 3600, "an hour later")
    eq(runs, [], "the purge ran again within its period")
    runs = period(t0 + 2 * day, "two days later")
    eq(len(runs), 1, "the purge ran once two days later")
    check("2 session(s) deleted" in runs[0].stderr() or "1 session(s) deleted" in runs[0].stderr(),
          "the purge deleted the revoked session", runs[0].stderr()[-2000:])
    purges = [e for e in events(cx) if e["action"] == "session.purge"]
    eq(len(purges), 2, "purge events: one per period")
    eq({e["via"] for e in purges}, {"job session-purge"}, "the purge's via")
    runs = period(t0 + 2 * day + 60, "a minute after")
    eq(runs, [], "the purge ran twice in one period")
    verify_all(cx, "after the jobs")


def signed_by_honest(ctx):
    cx, st = staffed(ctx, ["fay"])
    cx.ok("--node", "honest", "status")
    eq(cx.okj("--node", "honest", "audit", "head")["node"], "honest", "the head's node")
    return cx


@case("nodes: a swapped or deleted node key is refused: audit verify fails naming the node")
def t_forged_node_key(ctx):
    # an insider who can write the database swaps the recorded key for one of
    # their own: they cannot compute its row code, so the row is refused
    cx = signed_by_honest(ctx)
    sql_exec(cx.db, ("UPDATE node_keys SET public_key = ? WHERE node = 'honest'", (bytes(32),)))
    r = cx.run("--node", "other", "audit", "verify")
    check(r.rc == 1 and "node_keys honest has been altered" in r.err,
          "verify after swapping honest's key", r.describe())
    # the row deleted: the head names a node with no recorded key
    cx = signed_by_honest(ctx)
    sql_exec(cx.db, "DELETE FROM node_keys WHERE node = 'honest'")
    r = cx.run("--node", "other", "audit", "verify")
    check(r.rc == 1 and "node honest has no recorded key" in r.err,
          "verify after deleting honest's key row", r.describe())
    # the head relabelled to another recorded node: its signature is not that node's
    cx = signed_by_honest(ctx)
    cx.ok("--node", "other", "status")
    sql_exec(cx.db, "UPDATE audit_head SET node = 'honest'")
    r = cx.run("--node", "third", "audit", "verify")
    check(r.rc == 1 and "its signature is not node honest's" in r.err,
          "verify after relabelling the head", r.describe())
    # a bad node name on the command line is a usage error, before anything is opened
    r = cx.run("--node", "-bad name", "status")
    check(r.rc != 0 and "node name" in r.err, "a bad --node", r.describe())


@sqlite_only("it restores a custos backup, a copy of the custos.db file")
@case("nodes: the erasure ledger is shared: an erasure on one node reaches another node's "
      "ledger file at its next open; a backup from before it, restored, re-applies it")
def t_ledger(ctx):
    from cases_erasure import therapy_store
    cx, ctl, pid, wid = therapy_store(ctx)
    ledger = os.path.join(cx.store, "erasure.ledger")
    bdir = ctx.tmp.make()
    backup = os.path.join(bdir, "before.backup")
    cx.okj("--node", "a", "backup", backup)
    before = open(ledger).read() if os.path.exists(ledger) else ""
    with Server(cx, "--node", "b") as b:
        cx.ok("--node", "a", "subject", "erase", wid)
        # the node that did not erase refuses the subject at once
        r = cx.run("--node", "b", "--purpose", "website_access", "subject", "show", wid)
        check(r.rc == 1 and "erased" in r.err, "node b still shows the erased subject",
              r.describe())
        check(b.alive(), "node b stopped")
    after = open(ledger).read()
    eq(len(after.splitlines()), len(before.splitlines()) + 1, "one ledger entry more")
    check(wid in after.splitlines()[-1], "the entry names the erased subject", after)
    # another node's own mirror, made before the erasure, catches up at its next open
    with open(ledger, "w") as f:
        f.write(before)
    cx.ok("--node", "c", "status")
    eq(open(ledger).read(), after, "node c's ledger file after its open")
    # a lost file is rebuilt from the store's table
    os.remove(ledger)
    cx.ok("--node", "c", "status")
    eq(open(ledger).read(), after, "the ledger file rebuilt from the store")
    eq(os.stat(ledger).st_mode & 0o777, 0o600, "the rebuilt file's mode")
    # an altered file is refused, as is a file from another history
    with open(ledger, "w") as f:
        f.write(after.replace(wid, pid))
    cx.fails(1, "--node", "c", "status", says="ledger")
    with open(ledger, "w") as f:
        f.write(after)
    # the backup from before the erasure, restored with the ledger: re-applied
    new = os.path.join(ctx.tmp.make(), "restored")
    rx = ctx.custos(store=new)
    r = rx.ok("--json", "--node", "a", "restore", "--key", cx.master_key, "--ledger", ledger,
              backup).json()
    eq(r["erasures_reapplied"], 1, "erasures re-applied")
    rx.fails(1, "--node", "a", "--purpose", "website_access", "subject", "show", wid,
             says="erased")
    rx.ok("--node", "a", "audit", "verify")
    # and the restored store's table took the entry: its file is rebuilt from it
    os.remove(os.path.join(new, "erasure.ledger"))
    rx.ok("--node", "a", "status")
    eq(open(os.path.join(new, "erasure.ledger")).read(), after, "the restored store's table")


@sqlite_only("it starts a PostgreSQL cluster of its own, as make run-nodes does")
@case("make run-nodes: the demo in a throw-away PostgreSQL cluster with two nodes; its "
      "printed tour (sign in on one node, read on the other, sign out on one and be refused "
      "on the other, audit verify) works as printed; Ctrl-C removes the cluster")
def t_run_nodes_demo(ctx):
    import signal
    import socket
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cx = ctx.custos()
    store = cx.store + "-nodes"
    port = None
    for _ in range(50):          # two free ports in a row, as the script takes
        with socket.socket() as s, socket.socket() as s2:
            s.bind(("127.0.0.1", 0))
            try:
                s2.bind(("127.0.0.1", s.getsockname()[1] + 1))
            except OSError:
                continue
            port = s.getsockname()[1]
            break
    check(port is not None, "no two free ports in a row")
    env = {k: v for k, v in cx.env().items() if k not in ("CUSTOS_STORE", "CUSTOS_DATABASE")}
    import tempfile
    cluster = tempfile.mkdtemp(prefix="custos-demo-pg-", dir="/tmp")
    os.rmdir(cluster)   # the script makes it; /tmp is open to the cluster's user
    env["CUSTOS_DEMO_CLUSTER"] = cluster
    out_path = store + ".out"
    with open(out_path, "wb") as out:
        p = subprocess.Popen([os.path.join(root, "scripts", "run-nodes-demo.sh"), cx.binary,
                              store, "127.0.0.1:%d" % port], cwd=root, env=env,
                             stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        text = ""
        while "Ctrl-C stops both" not in text:
            check(p.poll() is None, "run-nodes-demo.sh stopped", text[-3000:])
            check(time.monotonic() < deadline, "run-nodes-demo.sh never served", text[-3000:])
            time.sleep(0.5)
            with open(out_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        tour = text[text.index("audit chain:"):text.index("Ctrl-C stops both")]
        script = "\n".join(l[2:] for l in tour.split("\n") if l.startswith("  "))
        check("%d" % (port + 1) in script and "%d" % port in script,
              "the tour uses both nodes", script)
        r = subprocess.run(["bash", "-c", "set -e\n" + script], cwd=root, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        got = r.stdout.decode()
        eq(r.returncode, 0, "the printed tour fails: " + r.stderr.decode()[-2000:] + got[-2000:])
        check('"name":"Ada Testpatient"' in got, "node b reads what the demo wrote", got[-2000:])
        check('"status":401' in got and "signed out" in got,
              "a sign-out on node b refuses the token on node a", got[-2000:])
        check("audit trail intact" in got, "the shared chain verifies", got[-2000:])
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        left = os.path.exists(cluster)
        if left:   # never leave a running cluster behind, even when failing
            subprocess.run([os.path.join(root, "tests", "pg", "cluster.py"), "stop", cluster],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    check(not left, "Ctrl-C leaves the cluster behind")
    check(not os.path.exists(store), "Ctrl-C leaves the demo's store directory behind")
