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
"""
import html
import json
import os
import re
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
