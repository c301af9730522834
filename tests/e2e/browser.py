"""Pages in Debian's chromium, headless: render a page, measure it, print it,
take its picture, and check it with axe-core against WCAG 2.2 AA.

A page fetched from custos is written to a file with a <base> naming the
server, so its stylesheet and images load from custos as in a browser, and
with the probe script appended (the page itself has none). chromium runs the
probe with --dump-dom and a virtual-time budget; the probe leaves its answer
in an attribute of <body>.

axe-core comes from npm, pinned with its checksum in tests/browser/ and
installed into BUILD_DIR/browser by scripts/browser-deps.sh (make test runs
it). A missing chromium or axe-core is a failure, never a skip.

Driver runs a real browser instead: Debian's chromium driven by puppeteer-core
(tests/browser/drive.js, installed with axe-core) so a case signs in, follows
links, fills and posts forms, presses the back button and reads cookies as a
user's browser holds them.
"""
import html
import json
import os
import re
import selectors
import shutil
import subprocess
import tempfile

from harness import Fail, check

# The rules checked: WCAG 2.0, 2.1 and 2.2, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise Fail("chromium is not installed (make test installs it): pages cannot be checked "
               "in a browser")


def run_chromium(args, timeout=120):
    home = tempfile.mkdtemp(prefix="custos-chromium-")
    try:
        argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                "--user-data-dir=" + os.path.join(home, "profile")] + args
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=dict(os.environ, HOME=home))
        if r.returncode != 0:
            raise Fail("chromium failed (%d): %s" % (r.returncode, r.stderr[-2000:]))
        return r.stdout.decode("utf-8", "replace")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def axe_path(binary):
    path = os.path.join(os.path.dirname(os.path.abspath(binary)), "browser", "node_modules",
                        "axe-core", "axe.min.js")
    if not os.path.isfile(path):
        raise Fail("axe-core is not installed at %s: run scripts/browser-deps.sh BUILD_DIR "
                   "(make test does)" % path)
    return path


def _with_base(page, base):
    if not base:
        return page
    tag = '<base href="%s/">' % html.escape(base.rstrip("/"), quote=True)
    return re.sub(r"<head>", "<head>" + tag, page, count=1)


def page_file(d, name, page, base=None, script=None):
    """Writes page (with <base href=base> and script appended) to d/name."""
    text = _with_base(page, base)
    if script:
        check("</body>" in text, "the page has no </body>", text[-300:])
        text = text.replace("</body>", "<script>%s</script></body>" % script, 1)
    path = os.path.join(d, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def axe(binary, d, name, page, base=None, width=1000):
    """The axe-core violations of a page, as [(rule id, impact, help, targets)]."""
    with open(axe_path(binary), encoding="utf-8") as f:
        lib = f.read()
    probe = (lib + "\n;axe.run(document,{runOnly:{type:'tag',values:%s},resultTypes:"
             "['violations']}).then(function(r){document.body.setAttribute('data-axe',"
             "JSON.stringify(r.violations.map(function(v){return [v.id,v.impact,v.help,"
             "v.nodes.slice(0,5).map(function(n){return n.target.join(' ')})]})))},"
             "function(e){document.body.setAttribute('data-axe-error',String(e))});"
             % json.dumps(AXE_TAGS))
    path = page_file(d, name, page, base, probe)
    dom = run_chromium(["--window-size=%d,900" % width, "--virtual-time-budget=30000",
                        "--dump-dom", "file://" + path])
    err = re.search(r'data-axe-error="([^"]*)"', dom)
    check(not err, "axe-core failed on %s: %s" % (name, err and html.unescape(err.group(1))))
    m = re.search(r'data-axe="([^"]*)"', dom)
    check(m, "axe-core gave no result for %s (did it run?): %s" % (name, dom[-500:]))
    return [tuple(v) for v in json.loads(html.unescape(m.group(1)))]


def no_violations(binary, d, name, page, base=None):
    found = axe(binary, d, name, page, base)
    check(not found, "axe-core (WCAG 2.2 AA) finds %d problem(s) on %s: %s" %
          (len(found), name, "; ".join("%s (%s): %s at %s" % (i, imp, h, ", ".join(t))
                                       for i, imp, h, t in found)))


def screenshot(d, name, page, base=None, width=1000, height=1400):
    """When CUSTOS_SCREENSHOTS=DIR is set, keeps a picture of the page there."""
    shots = os.environ.get("CUSTOS_SCREENSHOTS")
    if not shots:
        return None
    path = page_file(d, name + ".html", page, base)
    out = os.path.join(shots, "%s-%d.png" % (name, width))
    run_chromium(["--window-size=%d,%d" % (width, height), "--screenshot=" + out,
                  "file://" + path])
    return out


# ---------------------------------------------------------------- a browser driven

def browser_modules(binary):
    """BUILD_DIR/browser/node_modules, with puppeteer-core and axe-core in it."""
    mods = os.path.join(os.path.dirname(os.path.abspath(binary)), "browser", "node_modules")
    for pkg in ("puppeteer-core/package.json", "axe-core/axe.min.js"):
        if not os.path.isfile(os.path.join(mods, pkg)):
            raise Fail("%s is not installed in %s: run scripts/browser-deps.sh BUILD_DIR "
                       "(make test does)" % (pkg.split("/")[0], mods))
    return mods


class Driver:
    """Debian's chromium driven by puppeteer-core (tests/browser/drive.js): one
    tab, as a user works it. Each call answers the page as it then stands
    (.url, .status, .title, .text, .html); a command the browser cannot carry
    out, or a page other than the one expected, is a Fail that shows the page's
    text. A browser that cannot start is a Fail, never a skip."""

    DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser",
                          "drive.js")

    def __init__(self, binary, base, timeout=120):
        node = shutil.which("node") or shutil.which("nodejs")
        if not node:
            raise Fail("node is not installed (make test installs it): the browser cannot "
                       "be driven")
        self.timeout = timeout
        self.home = tempfile.mkdtemp(prefix="custos-puppeteer-")
        self.proc = subprocess.Popen([node, self.DRIVER, chromium(), browser_modules(binary), base],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(self.home, "stderr"), "wb"),
                                     env=dict(os.environ, HOME=self.home))
        self.page = {}
        self.version = self.send("start").get("version")
        check(self.version and "Chrome" in self.version, "chromium did not start", self.version)

    def send(self, cmd, **args):
        args["cmd"] = cmd
        try:
            self.proc.stdin.write((json.dumps(args) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise Fail("the browser driver has stopped: %s" % self.stderr())
        line = self._readline()
        if not line:
            raise Fail("the browser driver gave no answer to %s: %s" % (cmd, self.stderr()))
        r = json.loads(line)
        if cmd != "close":
            self.page = r
        if not r.get("ok"):
            raise Fail("the browser could not %s %s: %s\n--- the page (%s, %s) ---\n%s" %
                       (cmd, json.dumps({k: v for k, v in args.items() if k != "cmd"})[:300],
                        r.get("error", "")[:1500], r.get("url"), r.get("status"),
                        r.get("text", "")[:3000]))
        return r

    def _readline(self):

        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(self.timeout):
                self.proc.kill()
                raise Fail("the browser took over %ds: %s" % (self.timeout, self.stderr()))
        finally:
            sel.close()
        return self.proc.stdout.readline()

    def stderr(self):
        try:
            with open(os.path.join(self.home, "stderr"), encoding="utf-8", errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    # what the user does
    def goto(self, path):
        return self.send("goto", path=path)

    def open_html(self, html_text):
        """A page of another site (an opaque origin) with this HTML."""
        return self.send("open_html", html=html_text)

    def fill(self, selector, value):
        return self.send("fill", selector=selector, value=value)

    def click(self, selector):
        """Presses a button or follows a link, and waits for the page it loads."""
        return self.send("click", selector=selector)

    def back(self):
        return self.send("back")

    def type_date(self, selector, value):
        """Types a date (YYYY-MM-DD) into a date field as a user does, in the
        order the browser's locale shows its parts."""
        return self.send("type_date", selector=selector, value=value)

    def press(self, selector):
        """Clicks what loads no page: opens a <details>, ticks a box."""
        return self.send("press", selector=selector)

    def eval(self, js):
        return self.send("eval", js=js).get("value")

    def cookies(self):
        return self.send("cookies")["cookies"]

    def inject_script(self, js):
        return self.send("inject_script", js=js)

    def screenshot(self, name, width=1000, height=900):
        """When CUSTOS_SCREENSHOTS=DIR is set, keeps a picture of the page as
        it stands there (DIR/NAME-WIDTH.png); otherwise nothing."""
        shots = os.environ.get("CUSTOS_SCREENSHOTS")
        if not shots:
            return None
        out = os.path.join(os.path.abspath(shots), "%s-%d.png" % (name, width))
        self.send("screenshot", path=out, width=width, height=height)
        return out

    def download(self, selector):
        """Presses what downloads a file and waits for it: (filename, text)."""
        r = self.send("download", selector=selector)
        return r.get("filename"), r.get("content")

    # what the test checks
    def expect(self, status, *texts, path=None):
        """The page has this status, shows every one of texts and (when given) is
        at a URL ending in path; otherwise a Fail with the page's text."""
        p = self.page
        bad = [t for t in texts if t not in p.get("text", "")]
        if p.get("status") != status or bad or (path and not p.get("url", "").split("?")[0].endswith(path)):
            raise Fail("expected %s%s showing %r; the browser is at %s (%s)\n--- the page ---\n%s"
                       % (status, " at " + path if path else "", bad or list(texts),
                          p.get("url"), p.get("status"), p.get("text", "")[:3000]))
        return p

    def axe_clean(self, name):
        found = self.send("axe", tags=AXE_TAGS)["violations"]
        check(not found, "axe-core (WCAG 2.2 AA) finds %d problem(s) on %s (%s): %s" %
              (len(found), name, self.page.get("url"),
               "; ".join("%s (%s): %s at %s" % (i, imp, h, ", ".join(t))
                         for i, imp, h, t in found)))

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("close")
            except Fail:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        self.close()
