#!/usr/bin/env python3
"""Tests `meson install` and the manual page, and prints TAP.

    python3 tests/install_test.py BUILD_DIR

Installs BUILD_DIR into a temporary DESTDIR (--no-rebuild: the build is
made already) and checks what lands where: the binary, the systemd unit with
its ExecStart naming the installed binary, the example configuration files and
custos.1. The page must be exactly what the installed binary's --help-man
writes, render with groff without a warning, and hold, for every command, the
very text `custos COMMAND --help` prints, and every command, global option and
CUSTOS_* environment variable `custos --help` and the sources name. A second
build directory, only configured, checks that another prefix and
-Dsystemdsystemunitdir reach the unit and the install paths.
"""

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SHIPPED_EXEC = "/usr/local/bin/custos"

results = []


def tap(ok, name, diag=""):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), name))
    if not ok and diag:
        for line in str(diag).splitlines()[:40]:
            print("# " + line)
    sys.stdout.flush()


def run(cmd, **kw):
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)


def installed_map(build):
    """{source or build path: destination} from meson's introspection."""
    p = run(["meson", "introspect", build, "--installed"])
    if p.returncode:
        raise RuntimeError("meson introspect: " + p.stderr)
    return json.loads(p.stdout)


def dest_of(installed, basename, source_dir=None):
    """The one destination of a file named basename (from source_dir, when
    two installed files share the name)."""
    hits = [d for s, d in installed.items() if os.path.basename(d) == basename and
            (source_dir is None or os.path.basename(os.path.dirname(s)) == source_dir)]
    return hits[0] if len(hits) == 1 else None


def render(page, device):
    """groff's rendering of the page: (status, text, warnings)."""
    # No SGR escapes and no overstriking for bold and underline: plain text.
    args = ["groff", "-man", "-T" + device, "-ww", "-P-c", "-P-b", "-P-o", "-P-u"]
    p = subprocess.run(args + [page], capture_output=True, timeout=60,
                       env=dict(os.environ, LC_ALL="C.UTF-8"))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def sections(text):
    """{SECTION: [lines]} of a rendered page; subsections stay in the lines."""
    out, cur = {}, None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]+$", line):
            cur = line.strip()
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return out


def subsections(lines):
    """{name: [lines, dedented]} of the rendered subsections (3-space titles)."""
    out, cur = {}, None
    for line in lines:
        m = re.match(r"^   (\S.*)$", line)
        if m:
            cur = m.group(1).strip()
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    for name, body in out.items():
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        indent = min((len(l) - len(l.lstrip(" ")) for l in body if l.strip()), default=0)
        out[name] = [l[indent:].rstrip() for l in body]
    return out


def help_block(usage, heading):
    """The lines under `heading` in `custos --help`, up to the next blank line."""
    lines = usage.splitlines()
    i = next(n for n, l in enumerate(lines) if l.startswith(heading))
    block = []
    for l in lines[i + 1:]:
        if not l.strip() or not l.startswith(" "):
            break
        block.append(l)
    return block


def terms(block):
    """The entries' terms of a help list: a line indented two spaces, up to two spaces."""
    return [re.split(r"  +", l[2:])[0] for l in block if re.match(r"^  \S", l)]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: install_test.py BUILD_DIR")
    build = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="custos-install-")
    try:
        check_install(build, tmp)
        check_other_prefix(tmp)
        check_unit_script(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


def check_install(build, tmp):
    dest = os.path.join(tmp, "dest")
    p = run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild"])
    tap(p.returncode == 0, "meson install --destdir --no-rebuild succeeds", p.stdout + p.stderr)
    installed = installed_map(build)

    def there(basename, source_dir=None):
        d = dest_of(installed, basename, source_dir)
        return d, (os.path.join(dest, d.lstrip("/")) if d else None)

    binary, binary_at = there("custos")
    page, page_at = there("custos.1")
    unit, unit_at = there("custos.service")
    env, env_at = there("custos.env")
    nginx, nginx_at = there("nginx-custos.conf")
    tap(binary is not None and binary.endswith("/bin/custos") and os.access(binary_at, os.X_OK),
        "the binary is installed in bin/ and executable", binary)
    tap(page is not None and page.endswith("/share/man/man1/custos.1") and os.path.isfile(page_at),
        "custos.1 is installed in share/man/man1", page)
    tap(unit is not None and unit.endswith("/systemd/system/custos.service")
        and os.path.isfile(unit_at), "custos.service is installed in a systemd system unit dir",
        unit)
    ok = True
    for d, at, src in ((env, env_at, "custos.env"), (nginx, nginx_at, "nginx-custos.conf")):
        ok = ok and d is not None and d.endswith("/share/doc/custos/examples/" + src) \
            and os.path.isfile(at) and filecmp.cmp(at, os.path.join(ROOT, "deploy", src), False)
    tap(ok, "custos.env and nginx-custos.conf are installed as examples, unchanged",
        "%s %s" % (env, nginx))
    ok, got = True, []
    for src in ("phq-9.json", "gad-7.json", "psfu-example.json"):
        d, at = there(src, "questionnaires")
        got.append(d)
        ok = ok and d is not None \
            and d.endswith("/share/doc/custos/examples/questionnaires/" + src) \
            and os.path.isfile(at) \
            and filecmp.cmp(at, os.path.join(ROOT, "questionnaires", src), False)
    tap(ok, "the shipped questionnaires are installed as examples, unchanged", " ".join(map(str, got)))
    d, at = there("psfu-example.json", "pathways")
    tap(d is not None and d.endswith("/share/doc/custos/examples/pathways/psfu-example.json")
        and os.path.isfile(at)
        and filecmp.cmp(at, os.path.join(ROOT, "pathways", "psfu-example.json"), False),
        "the example pathway is installed as an example, unchanged", d)
    # The pages' assets: the build's directory, whole, in DATADIR/custos/assets.
    assets, assets_at = there("assets")
    ok = assets is not None and assets.endswith("/share/custos/assets")
    for name in ("VERSION", "nhsuk.min.css", "nhsuk.min.js", "icons/icon-tick.svg",
                 "logos/nhs-logo.png", "favicons/favicon.ico", "LICENSE"):
        ok = ok and os.path.isfile(os.path.join(assets_at, name)) and filecmp.cmp(
            os.path.join(assets_at, name), os.path.join(build, "assets", name), False)
    tap(ok, "the assets are installed in share/custos/assets, as the build made them", assets)
    if not (binary and page and unit and os.path.isfile(page_at or "")):
        return

    # The unit: the shipped file but for ExecStart, which names the binary.
    with open(unit_at, encoding="utf-8") as f:
        unit_text = f.read()
    with open(os.path.join(ROOT, "deploy", "custos.service"), encoding="utf-8") as f:
        shipped = f.read()
    execs = re.findall(r"^ExecStart=(\S+)", unit_text, re.M)
    tap(execs == [binary] and unit_text == shipped.replace(SHIPPED_EXEC, binary),
        "the installed unit starts the installed binary and is otherwise the shipped one",
        "ExecStart=%s, binary %s" % (execs, binary))

    # The page is the binary's own output, not a stale or hand-made copy.
    p = run([binary_at, "--help-man"])
    with open(page_at, encoding="utf-8") as f:
        page_text = f.read()
    tap(p.returncode == 0 and p.stdout == page_text,
        "the installed custos.1 is exactly what the installed binary's --help-man writes",
        p.stderr)

    # It is the same whatever the environment, and touches no store.
    store = os.path.join(tmp, "no-store")
    p2 = run([binary_at, "--store", store, "--help-man"],
             env=dict(os.environ, CUSTOS_STORE=store, CUSTOS_MASTER_KEY_FILE=store + "/k"))
    tap(p2.returncode == 0 and p2.stdout == page_text and not os.path.exists(store),
        "--help-man writes the same page with a store named and creates nothing", p2.stderr)

    rc, utf8, warnings = render(page_at, "utf8")
    tap(rc == 0 and not warnings.strip() and "COMMANDS" in utf8,
        "groff -man -Tutf8 -ww renders the page without a warning", warnings)
    rc, text, warnings = render(page_at, "ascii")
    tap(rc == 0 and not warnings.strip(), "groff -man -Tascii -ww renders it too", warnings)
    secs = sections(text)
    want = ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "ENVIRONMENT",
            "EXIT STATUS", "FILES", "SEE ALSO"]
    tap([s for s in secs if s in want] == want, "the page has its sections, in order",
        list(secs))

    usage = run([binary_at, "--help"]).stdout
    commands_text = "\n".join(secs.get("COMMANDS", []))
    def flat(s):  # a long term may break after a |
        return re.sub(r"\|\s+", "|", " ".join(s.split()))

    listed = terms(help_block(usage, "commands:"))
    missing = [t for t in listed if flat(t) not in flat(commands_text)]
    tap(listed and not missing, "every command `custos --help` lists is in COMMANDS", missing)

    # Each command's help, rendered, is the text `custos COMMAND --help` prints.
    subs = subsections(secs.get("COMMANDS", []))
    names = sorted({t.split()[0] for t in listed})
    bad = []
    for name in names:
        h = run([binary_at, name, "--help"])
        expect = [l.rstrip() for l in h.stdout.rstrip("\n").splitlines()]
        got = subs.get(name)
        if h.returncode != 0 or got != expect:
            first = next((i for i, (a, b) in enumerate(zip(got or [], expect)) if a != b),
                         min(len(got or []), len(expect)))
            bad.append("%s: line %d: page %r, --help %r" % (
                name, first + 1, (got or [""] * (first + 1) + [""])[first:first + 1],
                expect[first:first + 1]))
        elif not expect or expect[0] not in commands_text:
            bad.append("%s: first line %r not in the page" % (name, expect[:1]))
    tap(names and not bad,
        "each command's section is, line for line, its `custos COMMAND --help`", bad)
    tap(set(subs) == set(names), "COMMANDS has one section per command and no other",
        sorted(set(subs) ^ set(names)))

    options_text = flat("\n".join(secs.get("OPTIONS", [])))
    opts = terms(help_block(usage, "options"))
    missing = [o for o in opts if flat(o) not in options_text]
    tap(opts and not missing, "every global option of `custos --help` is in OPTIONS", missing)

    # Every CUSTOS_* variable the sources read; the test clock's only where
    # the binary has one.
    names_read = set()
    for d, _, files in os.walk(os.path.join(ROOT, "src")):
        for fn in files:
            if fn.endswith(".c"):
                with open(os.path.join(d, fn), encoding="utf-8") as f:
                    names_read |= set(re.findall(r'getenv\("(CUSTOS_[A-Z_]+)"\)', f.read()))
    test_build = "test build" in run([binary_at, "--version"]).stdout
    if not test_build:
        names_read.discard("CUSTOS_FAKE_NOW")
    # The fault-injection variables: only in a build configured with them.
    fault_vars = {"CUSTOS_FAULT_AT", "CUSTOS_FAULT_KIND", "CUSTOS_FAULT_COUNT"}
    with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as f:
        fault_build = any(o["name"] == "fault_injection" and o["value"] is True
                          for o in json.load(f))
    if not fault_build:
        names_read -= fault_vars
    env_text = "\n".join(secs.get("ENVIRONMENT", []))
    missing = sorted(v for v in names_read if v not in env_text)
    tap(len(names_read) >= 3 and not missing,
        "every CUSTOS_* variable the sources read is in ENVIRONMENT", missing)
    tap(("CUSTOS_FAKE_NOW" in env_text) == test_build,
        "the test clock's variable is named only by a test build")
    tap(all((v in env_text) == fault_build for v in fault_vars),
        "the fault-injection variables are named only by a build with them")
    exits = "\n".join(secs.get("EXIT STATUS", []))
    tap(all(re.search(r"^\s+%d\s+\S" % n, exits, re.M) for n in range(4)),
        "EXIT STATUS gives 0 to 3", exits)

    # Hyphens are \- (options copy as ASCII), and no help line turns into a
    # request: nothing of the text is lost or executed.
    with open(page_at, encoding="utf-8") as f:
        raw = f.read().splitlines()
    requests = {l.split()[0] for l in raw if l.startswith((".", "'"))}
    tap(requests <= {".\\\"", ".TH", ".nh", ".ad", ".SH", ".SS", ".TP", ".PP", ".nf", ".fi",
                     ".sp", ".B"},
        "the page uses only the requests and macros it means to", sorted(requests))
    body = [l for l in raw if not l.startswith(".")]
    tap(not any(re.search(r"(?<!\\)-", l.replace("\\-", "")) for l in body)
        and "--store" in utf8 and "\u2010" not in utf8.split("SEE ALSO")[0],
        "hyphens are written \\- and render as ASCII hyphens")


def check_other_prefix(tmp):
    """Only configured: another prefix and unit dir reach the unit and paths."""
    b = os.path.join(tmp, "prefix-build")
    p = run(["meson", "setup", b, ROOT, "--prefix=/opt/custos",
             "-Dsystemdsystemunitdir=/opt/custos/units"], timeout=600)
    tap(p.returncode == 0, "meson setup with --prefix and -Dsystemdsystemunitdir", p.stdout[-2000:]
        + p.stderr)
    if p.returncode:
        return
    with open(os.path.join(b, "custos.service"), encoding="utf-8") as f:
        execs = re.findall(r"^ExecStart=(\S+)", f.read(), re.M)
    tap(execs == ["/opt/custos/bin/custos"], "ExecStart names PREFIX/bin/custos", execs)
    installed = installed_map(b)
    got = {os.path.basename(d): d for d in installed.values()}
    expect = {"custos": "/opt/custos/bin/custos",
              "custos.1": "/opt/custos/share/man/man1/custos.1",
              "custos.service": "/opt/custos/units/custos.service",
              "custos.env": "/opt/custos/share/doc/custos/examples/custos.env"}
    tap(all(got.get(k) == v for k, v in expect.items()),
        "the install paths follow the prefix and -Dsystemdsystemunitdir",
        json.dumps({k: got.get(k) for k in expect}))


def check_unit_script(tmp):
    """The unit is never installed with an ExecStart left unsubstituted."""
    script = os.path.join(ROOT, "scripts", "unit-bindir.py")
    unit = os.path.join(tmp, "edited.service")
    out = os.path.join(tmp, "out.service")
    with open(os.path.join(ROOT, "deploy", "custos.service"), encoding="utf-8") as f:
        shipped = f.read()
    with open(unit, "w", encoding="utf-8") as f:
        f.write(shipped.replace("ExecStart=/usr/local/bin/custos", "ExecStart=/usr/bin/custos"))
    p = run([sys.executable, script, unit, "/opt/custos/bin/custos", out])
    tap(p.returncode != 0 and not os.path.exists(out) and "ExecStart" in p.stderr,
        "a unit whose ExecStart moved is refused, not installed unchanged", p.stderr)
    p = run([sys.executable, script, os.path.join(ROOT, "deploy", "custos.service"),
             "/opt/my custos/bin/custos", out])
    tap(p.returncode != 0 and not os.path.exists(out),
        "a binary path with a space (a second argument to systemd) is refused", p.stderr)


if __name__ == "__main__":
    sys.exit(main())
