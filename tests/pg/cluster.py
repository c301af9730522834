#!/usr/bin/env python3
"""A throw-away PostgreSQL cluster for the tests (Python 3 standard library only).

    tests/pg/cluster.py start DIR          creates and starts a cluster in DIR;
                                           prints its admin URL
    tests/pg/cluster.py createdb DIR NAME  makes an empty database; prints its URL
    tests/pg/cluster.py stop DIR           stops the cluster (fast) and removes DIR

The cluster listens on 127.0.0.1 on a free port and on a unix socket in DIR,
trusts every local connection (it is private to one test run), keeps fsync
on, and uses small shared buffers. PostgreSQL will not run as root: as root
the server runs as the system user CUSTOS_PG_USER (default custospg), created
if missing, and DIR belongs to it. Binaries come from CUSTOS_PG_BIN (default
/usr/lib/postgresql/15/bin). A cluster that cannot start is an error, with the
tail of its log.
"""

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time

PG_BIN = os.environ.get("CUSTOS_PG_BIN", "/usr/lib/postgresql/15/bin")
PG_USER = os.environ.get("CUSTOS_PG_USER", "custospg")
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class ClusterError(Exception):
    pass


def is_root():
    return os.geteuid() == 0


def ensure_user():
    """As root: the unprivileged user the server runs as (created if missing)."""
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        pass
    r = subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", PG_USER],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise ClusterError("cannot create the system user %s: %s"
                           % (PG_USER, r.stdout.decode(errors="replace").strip()))
    return pwd.getpwnam(PG_USER)


def as_server_user(argv):
    if is_root():
        return ["runuser", "-u", PG_USER, "--"] + argv
    return argv


def run(argv, cwd, timeout=120):
    return subprocess.run(as_server_user(argv), cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                          env=dict(os.environ, LC_ALL="C", PGTZ="UTC"))


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def log_tail(d, n=30):
    try:
        with open(os.path.join(d, "server.log"), encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no server log)\n"


def url_of(port, db="postgres"):
    return "postgresql://postgres@127.0.0.1:%d/%s" % (port, db)


def read_port(d):
    try:
        with open(os.path.join(d, "port"), encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        raise ClusterError("no cluster in %s (no port file): run `start` first" % d)


def psql(port, db, command):
    r = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-A", "-t", "-q",
                        "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port),
                        "-U", "postgres", "-d", db, "-c", command],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace")


def start(d):
    d = os.path.abspath(d)
    if os.path.exists(d) and os.listdir(d):
        raise ClusterError("%s exists and is not empty" % d)
    for exe in ("initdb", "pg_ctl", "postgres", "psql"):
        if not os.access(os.path.join(PG_BIN, exe), os.X_OK):
            raise ClusterError("no %s in %s (install postgresql-15)" % (exe, PG_BIN))
    os.makedirs(d, mode=0o700, exist_ok=True)
    os.chmod(d, 0o700)
    if is_root():
        u = ensure_user()
        os.chown(d, u.pw_uid, u.pw_gid)
        # The server user must be able to reach DIR through its parents.
        r = subprocess.run(["runuser", "-u", PG_USER, "--", "test", "-w", d])
        if r.returncode != 0:
            raise ClusterError("%s cannot write %s (is a parent directory closed to "
                               "other users?)" % (PG_USER, d))
    data = os.path.join(d, "data")
    r = run([os.path.join(PG_BIN, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
             "-E", "UTF8", "--locale=C"], cwd=d)
    if r.returncode != 0:
        raise ClusterError("initdb failed:\n" + r.stdout.decode(errors="replace")[-3000:])
    last = ""
    for _attempt in range(3):   # another process may take the free port first
        port = free_port()
        with open(os.path.join(data, "postgresql.auto.conf"), "a", encoding="ascii") as f:
            f.write("listen_addresses = '127.0.0.1'\n"
                    "port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "fsync = on\n"
                    "synchronous_commit = on\n"
                    "full_page_writes = on\n"
                    "shared_buffers = 16MB\n"
                    "max_connections = 200\n"
                    "timezone = 'UTC'\n"
                    "log_min_messages = warning\n" % (port, d.replace("'", "''")))
        r = run([os.path.join(PG_BIN, "pg_ctl"), "start", "-w", "-t", "60", "-D", data,
                 "-l", os.path.join(d, "server.log")], cwd=d)
        if r.returncode == 0:
            break
        last = r.stdout.decode(errors="replace")
        if "could not bind" not in log_tail(d, 200):
            break
    else:
        r = None
    if r is None or r.returncode != 0:
        raise ClusterError("the PostgreSQL cluster in %s did not start:\n%s\n--- server.log "
                           "(tail) ---\n%s" % (d, last.strip(), log_tail(d)))
    # pg_ctl -w waits for the socket; check a real query over TCP too.
    deadline = time.monotonic() + 60
    while True:
        rc, out = psql(port, "postgres", "SELECT 1")
        if rc == 0 and out.strip() == "1":
            break
        if time.monotonic() > deadline:
            raise ClusterError("the cluster in %s does not answer on port %d: %s\n--- "
                               "server.log (tail) ---\n%s" % (d, port, out.strip(), log_tail(d)))
        time.sleep(0.2)
    with open(os.path.join(d, "port"), "w", encoding="ascii") as f:
        f.write("%d\n" % port)
    return url_of(port)


def createdb(d, name):
    if not NAME_RE.match(name):
        raise ClusterError("a database name is lower-case letters, digits and _: %r" % name)
    port = read_port(os.path.abspath(d))
    rc, out = psql(port, "postgres", 'CREATE DATABASE "%s"' % name)
    if rc != 0:
        raise ClusterError("CREATE DATABASE %s failed: %s" % (name, out.strip()))
    return url_of(port, name)


def stop(d):
    d = os.path.abspath(d)
    data = os.path.join(d, "data")
    err = None
    if os.path.isfile(os.path.join(data, "postmaster.pid")):
        r = run([os.path.join(PG_BIN, "pg_ctl"), "stop", "-m", "fast", "-w", "-t", "60",
                 "-D", data], cwd="/")
        if r.returncode != 0:
            err = "pg_ctl stop failed: " + r.stdout.decode(errors="replace").strip()
    shutil.rmtree(d, ignore_errors=True)
    if err:
        raise ClusterError(err)


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "start":
            print(start(argv[2]))
        elif len(argv) == 3 and argv[1] == "stop":
            stop(argv[2])
        elif len(argv) == 4 and argv[1] == "createdb":
            print(createdb(argv[2], argv[3]))
        else:
            print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
            return 2
    except (ClusterError, OSError, subprocess.SubprocessError) as e:
        print("cluster.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
