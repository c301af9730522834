"""deploy/: the systemd unit passes `systemd-analyze verify` without a warning
and keeps its hardening; the nginx site, with only its documented @NAME@
placeholders replaced, passes `nginx -t` and serves custos (started with the
unit's own ExecStart options) over HTTPS: sign-in, a read, a write, 413 for an
oversized body, problems passing through, the redirect from plain HTTP, and an
access log that never holds a query string."""

import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import time
import warnings

from harness import registry, check, eq, Fail
from fixtures import PERSON1
from http_client import Server, Staff, PASSWORD, Response, expect_status, expect_problem

CASES, case = registry()

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
UNIT = os.path.join(DEPLOY, "custos.service")
ENV_FILE = os.path.join(DEPLOY, "custos.env")
SITE = os.path.join(DEPLOY, "nginx-custos.conf")
INSTALLED_BINARY = "/usr/local/bin/custos"
HOST = "custos.test"


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def run(argv, timeout=60, **kw):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, **kw)


def tool(name):
    """A tool the test needs: missing is a failure (make test installs it)."""
    for d in (os.environ.get("PATH", "").split(os.pathsep) + ["/usr/sbin", "/sbin"]):
        p = os.path.join(d, name)
        if d and os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise Fail("%s is not installed (make test installs it: Makefile DEB_PKGS)" % name)


# ---------------------------------------------------------------- the unit

def unit_settings(text):
    """{key: [values]} of the [Service] section."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def one(settings, key):
    vals = settings.get(key)
    check(vals is not None, "custos.service sets no %s=" % key)
    return vals[-1]


def verify_unit(ctx, text):
    """systemd-analyze verify over a copy whose ExecStart names the built
    binary; returns (rc, everything it printed)."""
    d = ctx.tmp.make("custos-unit-")
    path = os.path.join(d, "custos.service")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(INSTALLED_BINARY, ctx.binary))
    r = run([tool("systemd-analyze"), "verify", path])
    return r.returncode, (r.stdout + r.stderr).strip()


def exec_start(settings):
    """The ExecStart command line, split as systemd does for these words."""
    argv = shlex.split(one(settings, "ExecStart"))
    eq(argv[0], INSTALLED_BINARY, "ExecStart's binary (the meson install prefix)")
    eq(argv[1], "serve", "ExecStart's command")
    return argv[2:]


def serve_options(settings, env):
    """The unit's `custos serve` options, for a test server: $CUSTOS_SERVE_OPTIONS
    expanded from the shipped environment file, --listen checked and left out
    (the test server listens on a free port)."""
    args, out = exec_start(settings), []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "$CUSTOS_SERVE_OPTIONS":
            out.extend(env.get("CUSTOS_SERVE_OPTIONS", "").split())
        elif a == "--listen":
            check(args[i + 1].startswith("127.0.0.1:"),
                  "custos.service listens beyond loopback", args[i + 1])
            i += 1
        else:
            out.append(a)
        i += 1
    return out


def env_file():
    env = {}
    for line in read(ENV_FILE).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            check("=" in line, "custos.env: a line that is not KEY=value", line)
            k, v = line.split("=", 1)
            env[k] = v
    return env


@case("deploy: systemd-analyze verify accepts custos.service (ExecStart at the built "
      "binary) without a warning, and refuses a copy with an unknown setting")
def t_unit_verifies(ctx):
    text = read(UNIT)
    rc, out = verify_unit(ctx, text)
    eq(rc, 0, "systemd-analyze verify exit status (output: %s)" % out)
    eq(out, "", "systemd-analyze verify printed warnings")
    # The check can fail: a misspelt hardening option is only a warning to
    # systemd (the unit would run unprotected), and a warning fails here.
    rc, out = verify_unit(ctx, text.replace("ProtectHome=yes", "ProtectHom=yes"))
    check("ProtectHom" in out, "systemd-analyze verify did not flag an unknown key", out)
    rc, out = verify_unit(ctx, text.replace("ProtectSystem=strict", "ProtectSystem=stric"))
    check(out != "", "systemd-analyze verify did not flag a bad value")


@case("deploy: custos.service runs as the custos user with the store kept, stops "
      "within custos's drain, and keeps its hardening (exposure <= 2.0)")
def t_unit_hardening(ctx):
    s = unit_settings(read(UNIT))
    eq(one(s, "User"), "custos", "User=")
    eq(one(s, "Group"), "custos", "Group=")
    check(one(s, "DynamicUser") == "no" if "DynamicUser" in s else True,
          "DynamicUser= would give the store a new owner")
    eq(one(s, "CapabilityBoundingSet"), "", "CapabilityBoundingSet= (empty)")
    eq(one(s, "AmbientCapabilities"), "", "AmbientCapabilities= (empty)")
    for key, want in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                      ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                      ("PrivateDevices", "yes"), ("MemoryDenyWriteExecute", "yes"),
                      ("Restart", "on-failure"), ("KillSignal", "SIGTERM"),
                      ("StateDirectory", "custos"),
                      ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX")):
        eq(one(s, key), want, key + "=")
    check("@system-service" in s.get("SystemCallFilter", []), "no SystemCallFilter=@system-service")
    # custos waits up to 30 s for requests in flight after SIGTERM: the stop
    # timeout must leave it that and more, or systemd kills it mid-commit.
    m = re.fullmatch(r"(\d+)s?", one(s, "TimeoutStopSec"))
    check(m and int(m.group(1)) >= 40, "TimeoutStopSec= leaves custos less than its drain",
          one(s, "TimeoutStopSec"))
    env = env_file()
    store = env.get("CUSTOS_STORE") or dict(
        v.split("=", 1) for v in s.get("Environment", []))["CUSTOS_STORE"]
    eq(store, "/var/lib/" + one(s, "StateDirectory"), "the store is the StateDirectory")
    check(store in one(s, "ReadWritePaths").split(), "the store is not in ReadWritePaths=")
    check(one(s, "EnvironmentFile").startswith("/etc/custos/"), "EnvironmentFile= outside /etc/custos")
    check(env.get("CUSTOS_MASTER_KEY_FILE", "").startswith("/etc/custos/"),
          "custos.env names no master key file under /etc/custos", env)
    d = ctx.tmp.make("custos-unit-")
    path = os.path.join(d, "custos.service")
    with open(path, "w", encoding="utf-8") as f:
        f.write(read(UNIT).replace(INSTALLED_BINARY, ctx.binary))
    r = run([tool("systemd-analyze"), "security", "--offline=true", path])
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d)", r.stdout + r.stderr)
    check(m, "systemd-analyze security gave no exposure level", r.stdout[-2000:], r.stderr)
    check(float(m.group(1)) <= 2.0, "custos.service exposure %s > 2.0" % m.group(1),
          "\n".join(l for l in r.stdout.splitlines() if l.startswith("\u2717")))


# ---------------------------------------------------------------- nginx

PLACEHOLDER = re.compile(r"@([A-Z][A-Z_]*)@")


def documented_placeholders(text):
    """The placeholders the site's header documents ("#   @NAME@  ...")."""
    return set(re.findall(r"^#\s+@([A-Z][A-Z_]*)@\s", text, re.M))


def render_site(values):
    """deploy/nginx-custos.conf with each @NAME@ replaced, and nothing else."""
    text = read(SITE)
    used = set(PLACEHOLDER.findall("\n".join(
        l for l in text.splitlines() if not l.lstrip().startswith("#"))))
    eq(used, documented_placeholders(text), "placeholders used vs documented in the header")
    eq(used, set(values), "placeholders the test fills")
    out = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main_conf(d, site_path):
    """An nginx main configuration in d (pid, logs, temp files there) that
    includes the site inside http {}."""
    user = ""
    if os.geteuid() == 0:  # workers stay root, to use this test's 0700 directories
        user = "user root root;\n"
    temps = "".join("    %s_temp_path %s;\n" % (k, os.path.join(d, k))
                    for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = ("%sdaemon off;\nworker_processes 1;\npid %s;\nerror_log %s info;\n"
            "events { worker_connections 64; }\n"
            "http {\n    access_log %s;\n%s    include %s;\n}\n" % (
                user, os.path.join(d, "nginx.pid"), os.path.join(d, "error.log"),
                os.path.join(d, "other-access.log"), temps, site_path))
    path = os.path.join(d, "nginx.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def nginx_argv(d, conf):
    return [tool("nginx"), "-p", d + "/", "-e", os.path.join(d, "error.log"), "-c", conf]


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=" + HOST,
             "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % HOST,
             "-keyout", key, "-out", cert])
    eq(r.returncode, 0, "openssl req -x509 (%s)" % r.stderr[-500:])
    return cert, key


class Nginx:
    def __init__(self, d, conf):
        self.d, self.conf, self.proc = d, conf, None

    def error_log(self):
        try:
            return read(os.path.join(self.d, "error.log"))[-3000:]
        except OSError:
            return ""

    def start(self, port, timeout=20):
        self.proc = subprocess.Popen(nginx_argv(self.d, self.conf), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise Fail("nginx exited with status %d at start\n%s" % (
                    self.proc.returncode, self.error_log()))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise Fail("nginx did not listen on %d within %ds\n%s" % (
                        port, timeout, self.error_log()))
                time.sleep(0.1)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def https(port, ctx_ssl, method, path, body=None, token=None, headers=None):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx_ssl, timeout=30)
    try:
        h = {"Host": HOST}
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return Response(method, path, r.status, r.getheaders(), r.read())
    finally:
        c.close()


@case("deploy: nginx-custos.conf, placeholders filled, passes nginx -t and serves custos "
      "(the unit's serve options) over TLS: sign-in, read, write, 413, problems, "
      "redirect, no query string in the access log")
def t_nginx_site(ctx):
    d = ctx.tmp.make("custos-nginx-")
    cert, key = make_cert(d)
    access_log = os.path.join(d, "custos-access.log")
    env = env_file()

    # The shipped file as it is: nginx refuses it until the placeholders are
    # replaced, so an unedited copy cannot go live on a default certificate.
    raw = os.path.join(d, "unedited.conf")
    shutil.copy(SITE, raw)
    r = run(nginx_argv(d, main_conf(d, raw)) + ["-t"])
    check(r.returncode != 0, "nginx -t accepts the site with its placeholders", r.stderr)

    key_dir = ctx.tmp.make("custos-key-")
    cx = ctx.custos(key_file=os.path.join(key_dir, "master.key"))
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Deploy Trust")
    st.user("clinician", "A", "clinician")
    st.subject("S1", "A", PERSON1)
    st.care("clinician", "S1")
    s1 = st.subjects["S1"]["id"]

    opts = serve_options(unit_settings(read(UNIT)), env)
    with Server(cx, *opts) as srv:
        https_port, http_port = free_port(), free_port()
        site = os.path.join(d, "custos.conf")
        with open(site, "w", encoding="utf-8") as f:
            f.write(render_site({
                "SERVER_NAME": HOST,
                "HTTPS_LISTEN": "127.0.0.1:%d" % https_port,
                "HTTP_LISTEN": "127.0.0.1:%d" % http_port,
                "TLS_CERTIFICATE": cert,
                "TLS_CERTIFICATE_KEY": key,
                "CUSTOS_UPSTREAM": "127.0.0.1:%d" % srv.port,
                "ACCESS_LOG": access_log,
            }))
        conf = main_conf(d, site)
        r = run(nginx_argv(d, conf) + ["-t"])
        out = r.stdout + r.stderr
        eq(r.returncode, 0, "nginx -t exit status (%s)" % out)
        check("test is successful" in out, "nginx -t did not report success", out)
        check("[warn]" not in out and "[emerg]" not in out, "nginx -t warned", out)

        ng = Nginx(d, conf).start(https_port)
        try:
            tls = ssl.create_default_context(cafile=cert)
            tls.check_hostname = False  # the certificate names 127.0.0.1 too; Host is custos.test
            # TLS 1.2 and 1.3 are served; 1.1 is refused by nginx (the client
            # is allowed to offer it, so the refusal is the server's).
            for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                only = ssl.create_default_context(cafile=cert)
                only.check_hostname = False
                only.minimum_version = only.maximum_version = v
                expect_status(https(https_port, only, "GET", "/healthz"), 200, "over " + v.name)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                old.load_verify_locations(cert)
                old.check_hostname = False
                old.set_ciphers("DEFAULT:@SECLEVEL=0")
                old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
            try:
                https(https_port, old, "GET", "/healthz")
                raise Fail("nginx accepted TLS 1.1")
            except ssl.SSLError as e:
                check(e.reason not in ("NO_CIPHERS_AVAILABLE", "NO_PROTOCOLS_AVAILABLE"),
                      "the client could not offer TLS 1.1, so nothing was tested", e)

            # sign-in and a read
            r = https(https_port, tls, "POST", "/v1/sessions",
                      {"username": "clinician", "password": PASSWORD})
            expect_status(r, 201, "sign-in through nginx")
            tok = r.json()["token"]
            r = https(https_port, tls, "GET", "/v1/subjects/" + s1, token=tok)
            expect_status(r, 200, "read through nginx")
            eq(r.json()["id"], s1, "the subject read")
            check((r.header("strict-transport-security") or "").startswith("max-age="),
                  "no HSTS header", r.headers)
            eq(r.header("server"), "nginx", "Server header (no version)")
            check(re.fullmatch(r"[0-9a-f]{32}", r.header("x-request-id") or ""),
                  "no X-Request-Id", r.headers)

            # a write, read back
            note = "seen in clinic through the proxy"
            r = https(https_port, tls, "POST", "/v1/subjects/%s/items" % s1,
                      {"items": [{"category": "health", "field": "note", "value": note}]},
                      token=tok)
            expect_status(r, 201, "write through nginx")
            r = https(https_port, tls, "GET", "/v1/subjects/%s/items" % s1, token=tok)
            check(any(it.get("value") == note for it in r.json()["items"]),
                  "the item written through nginx is not there", r.text[:500])

            # over custos's body limit: nginx answers with custos's problem
            big = b'{"kind":"patient","name":"' + b"a" * (1 << 20) + b'"}'
            r = https(https_port, tls, "POST", "/v1/subjects", big, token=tok)
            j = expect_problem(r, 413, "payload-too-large")
            check("1048576" in j.get("detail", ""), "413 detail names no limit", j)
            check(r.header("strict-transport-security"), "no HSTS on the 413", r.headers)
            # custos's own problems pass through unchanged
            r = https(https_port, tls, "GET", "/v1/subjects/" + s1)
            expect_problem(r, 401, "unauthenticated")
            r = https(https_port, tls, "GET", "/v1/subjects/%s" % s1, token=tok,
                      headers={"Custos-Purpose": "no-such-purpose"})
            expect_problem(r, 403)
            r = https(https_port, tls, "POST", "/v1/subjects", "{not json", token=tok)
            expect_problem(r, 400, "invalid-input")

            # query strings never reach the access log
            secret_q = "?limit=3&nhs_number=9990000019&access_token=" + tok
            r = https(https_port, tls, "GET", "/v1/subjects" + secret_q, token=tok)
            check(r.status < 500, "listing with a query string", r.describe())
            listing = r.status

            # plain HTTP: a redirect to https, nothing served
            c = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
            try:
                c.request("GET", "/v1/subjects/%s?limit=1" % s1, headers={"Host": HOST})
                rr = c.getresponse()
                rr.read()
                eq(rr.status, 301, "plain HTTP status")
                eq(rr.getheader("Location"), "https://%s/v1/subjects/%s?limit=1" % (HOST, s1),
                   "redirect target")
            finally:
                c.close()
        finally:
            ng.stop()

        log = read(access_log)
        lines = log.splitlines()
        check(len(lines) >= 9, "the access log has fewer lines than requests", log)
        check(any(" /v1/subjects/%s " % s1 in l and " 200 " in l for l in lines),
              "the access log does not show the read", log)
        check(any('"GET /v1/subjects HTTP/1.1" %d ' % listing in l for l in lines),
              "the access log does not show the listing", log)
        check(any(" 301 " in l for l in lines), "the access log does not show the redirect", log)
        for bad in ("?", "limit=", "nhs_number", "9990000019", "access_token", tok):
            check(bad not in log, "the access log holds %r" % bad, log)
