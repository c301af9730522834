"""The web foundation: the NHS.UK frontend's assets under /assets/<version>/
(cache headers, content types, no sign-in, no way out of the table by any
path), --assets, the Content-Security-Policy with a fresh nonce and the other
browser headers on every HTML response (the notice, the unsubscribe page, the
access letter), and --public-url making the links given to people absolute."""

import base64
import json
import os
import re
import shutil

from harness import registry, check, eq
from fixtures import ROOT
from http_client import Server, expect_status, expect_problem
import cases_http_policy as hp
import cases_sar

CASES, case = registry()

CACHE = "public, max-age=31536000, immutable"
CSP_RE = re.compile(
    r"^default-src 'self'; script-src 'self' 'nonce-([A-Za-z0-9+/]{22}==)'; "
    r"style-src 'self'( 'nonce-([A-Za-z0-9+/]{22}==)')?; img-src 'self' data:; "
    r"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'$")


def pinned_version():
    with open(os.path.join(ROOT, "web", "package-lock.json")) as f:
        return json.load(f)["packages"]["node_modules/nhsuk-frontend"]["version"]


def assets_dir(cx):
    return os.path.join(os.path.dirname(os.path.abspath(cx.binary)), "assets")


def check_html_headers(r, what):
    """The browser headers of an HTML response; returns the nonce."""
    csp = r.header("content-security-policy") or ""
    m = CSP_RE.match(csp)
    check(m is not None, "%s: the Content-Security-Policy is not custos's" % what, csp)
    eq(r.header("x-content-type-options"), "nosniff", "X-Content-Type-Options of " + what)
    eq(r.header("referrer-policy"), "no-referrer", "Referrer-Policy of " + what)
    nonce = m.group(1)
    eq(len(base64.b64decode(nonce)), 16, "bytes of the nonce of " + what)
    styles = re.findall(r"<style[^>]*>", r.text)
    if styles:
        eq(m.group(3), nonce, "%s: style-src names the response's nonce" % what)
        eq(styles, ['<style nonce="%s">' % nonce] * len(styles),
           "%s: every <style> carries the nonce" % what)
    else:
        check(m.group(2) is None, "%s: style-src allows a nonce with no <style>" % what, csp)
    check("<script" not in r.text.lower(), "%s has a script" % what)
    return nonce


@case("web assets: /assets/<pinned version>/ serves the NHS.UK frontend's CSS, JS and "
      "images with their content types, a year's immutable cache and nosniff, byte for "
      "byte, without sign-in, GET and HEAD only; another version, an unknown name, the "
      "VERSION file and every traversal are 404 problems")
def t_assets(ctx):
    cx = ctx.custos()
    cx.ok("init")
    version = pinned_version()
    adir = assets_dir(cx)
    with open(os.path.join(adir, "VERSION")) as f:
        eq(f.read().strip(), version, "the build's assets are of the pinned version")
    base = "/assets/%s/" % version
    with Server(cx) as srv:
        for name, ctype in (("nhsuk.min.css", "text/css; charset=utf-8"),
                            ("nhsuk.min.js", "text/javascript; charset=utf-8"),
                            ("icons/icon-tick.svg", "image/svg+xml"),
                            ("logos/nhs-logo.png", "image/png"),
                            ("favicons/favicon.ico", "image/x-icon")):
            # a bogus token is neither needed nor looked at
            r = srv.call("GET", base + name, token="cus_not-a-real-token")
            eq(r.status, 200, "GET " + name)
            eq(r.header("content-type"), ctype, "Content-Type of " + name)
            eq(r.header("cache-control"), CACHE, "Cache-Control of " + name)
            eq(r.header("x-content-type-options"), "nosniff", "nosniff on " + name)
            with open(os.path.join(adir, name), "rb") as f:
                check(r.body == f.read(), "%s is not the file of the package" % name)
            h = srv.call("HEAD", base + name)
            eq((h.status, h.header("content-length"), h.body),
               (200, str(len(r.body)), b""), "HEAD " + name)
        check(b"nhsuk-header" in srv.call("GET", base + "nhsuk.min.css").body,
              "the stylesheet is not the NHS.UK frontend's")
        r = srv.call("POST", base + "nhsuk.min.css", {})
        expect_problem(r, 405, None, "POST an asset")
        eq(r.header("allow"), "GET, HEAD", "Allow of an asset")
        for path in (base + "no-such.css", "/assets/0.0.1/nhsuk.min.css",
                     "/assets/%s/nhsuk.min.css.map" % version, base + "VERSION",
                     base + "LICENSE", base + ".VERSION", base + "icons",
                     base + "icons/", "/assets/" + version, "/assets/",
                     base + "../VERSION", base + "icons/../nhsuk.min.css",
                     base + "%2e%2e/VERSION", base + "..%2fVERSION",
                     base + "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                     base + "..%5c..%5cetc%5cpasswd", base + "/etc/passwd",
                     base + "%2fetc%2fpasswd", base + "nhsuk.min.css%00.png",
                     base + "nhsuk.min.css/", "/assets/%s/../../../../etc/passwd" % version,
                     "/assets/../" + version + "/nhsuk.min.css", base + "a" * 200 + ".css"):
            r = srv.call("GET", path)
            expect_problem(r, 404, None, "GET " + path)
            check(b"root:" not in r.body and b"nhsuk" not in r.body,
                  "%s answered a file" % path, r.describe())
        r = srv.call("GET", base + "nhsuk.min.css?v=1")
        expect_problem(r, 400, None, "an asset with a query")


@case("web --assets: a directory of its own is served (only known types, no hidden file); "
      "a missing directory, one of another version or without the stylesheet is refused "
      "at start (exit 1)")
def t_assets_dir(ctx):
    cx = ctx.custos()
    cx.ok("init")
    version = pinned_version()
    own = os.path.join(os.path.dirname(cx.store), "own-assets")
    shutil.copytree(assets_dir(cx), own)
    with open(os.path.join(own, "nhsuk.min.css"), "w") as f:
        f.write("body{color:#123456}")
    for name in (".hidden.css", "secret.txt", "custos.db"):
        with open(os.path.join(own, name), "w") as f:
            f.write("not for anyone")
    with Server(cx, "--assets", own) as srv:
        r = srv.call("GET", "/assets/%s/nhsuk.min.css" % version)
        eq((r.status, r.body), (200, b"body{color:#123456}"), "the stylesheet of --assets")
        for name in (".hidden.css", "secret.txt", "custos.db"):
            expect_problem(srv.call("GET", "/assets/%s/%s" % (version, name)), 404, None,
                           name)
    cx.fails(1, "serve", "--listen", "127.0.0.1:0", "--assets",
             os.path.join(own, "missing"), says="not an asset directory")
    with open(os.path.join(own, "VERSION"), "w") as f:
        f.write("1.2.3\n")
    cx.fails(1, "serve", "--listen", "127.0.0.1:0", "--assets", own,
             says="holds the assets of 1.2.3, not " + version)
    with open(os.path.join(own, "VERSION"), "w") as f:
        f.write(version + "\n")
    os.unlink(os.path.join(own, "nhsuk.min.css"))
    cx.fails(1, "serve", "--listen", "127.0.0.1:0", "--assets", own, says="has no nhsuk.min.css")


@case("web headers: the HTML notice, the unsubscribe page (GET and POST) and the access "
      "letter carry custos's Content-Security-Policy with a fresh 16-byte nonce per "
      "response, which any <style> element carries; nosniff; no-referrer")
def t_html_headers(ctx):
    cx, st = hp.healthya(ctx)
    ctl = st.controllers["H"]
    sid = hp.add_subject(cx, st, "web", hp.WEB_USER, "web_user", "service_contract")
    crm = hp.tok(st, "crm")
    with Server(cx) as srv:
        nonces = set()
        for i in range(3):
            r = srv.call("GET", "/v1/controllers/%s/notice" % ctl)
            expect_status(r, 200, "the notice")
            nonces.add(check_html_headers(r, "the notice"))
            # the notice is a page of the shell: the frontend's stylesheet, linked
            # relative to the page, and no inline style
            check("<style" not in r.text, "the notice has an inline <style>")
            check('href="../../../assets/' in r.text and "/nhsuk.min.css" in r.text,
                  "the notice does not link the frontend's stylesheet", r.text[:1500])
        eq(len(nonces), 3, "distinct nonces of three responses")
        r = srv.call("GET", "/v1/controllers/%s/notice?format=md" % ctl)
        check(r.header("content-security-policy") is None,
              "a Markdown notice carries an HTML policy", r.headers)
        r = hp.allowed(srv, "POST", "/v1/subjects/%s/consents" % sid, crm, "newsletters",
                       status=201, body={"purpose": "newsletters", "method": "web_form"})
        link = hp.allowed(srv, "POST", "/v1/subjects/%s/unsubscribe-links" % sid, crm,
                          "newsletters", body={"purpose": "newsletters"}, status=201).json()
        r = srv.call("GET", link["path"])
        expect_status(r, 200, "the unsubscribe page")
        nonces.add(check_html_headers(r, "the unsubscribe page"))
        r = srv.call("POST", link["path"], "", ctype="application/x-www-form-urlencoded")
        expect_status(r, 200, "the unsubscribe confirmation")
        nonces.add(check_html_headers(r, "the unsubscribe confirmation"))
        eq(len(nonces), 5, "distinct nonces of five responses")
        # a problem is JSON: no HTML policy
        r = srv.call("GET", "/v1/controllers/%s/notice?format=pdf" % ctl)
        check(r.header("content-security-policy") is None, "a problem carries an HTML policy",
              r.headers)


@case("web headers: the access letter (GET /v1/subjects/{id}/sar?format=html) carries the "
      "policy and its <style> the nonce")
def t_letter_headers(ctx):
    cx, st = cases_sar.store(ctx)
    ann = st.subjects["ann"]["id"]
    with Server(cx) as srv:
        r = srv.call("GET", "/v1/subjects/%s/sar?format=html" % ann,
                     token=st.tokens["dpo"]["token"])
        expect_status(r, 200, "the letter")
        check_html_headers(r, "the access letter")
        check('<style nonce="' in r.text, "the letter's <style> has no nonce")


@case("web --public-url: the unsubscribe link's url is absolute under it (the trailing "
      "slash dropped, scheme and host lower-cased); CUSTOS_PUBLIC_URL and custos.conf's "
      "public_url set it too, the option first; a URL with a query, a fragment, a user, "
      "another scheme, a bad port or a dot segment is refused")
def t_public_url(ctx):
    cx, st = hp.healthya(ctx)
    sid = hp.add_subject(cx, st, "web", hp.WEB_USER, "web_user", "service_contract")
    crm = hp.tok(st, "crm")
    cx.ok("consent", "give", sid, "newsletters", "--method", "web_form")

    def link_url(srv):
        r = hp.allowed(srv, "POST", "/v1/subjects/%s/unsubscribe-links" % sid, crm,
                       "newsletters", body={"purpose": "newsletters"}, status=201)
        j = r.json()
        return j["url"], j["path"]

    with Server(cx, "--public-url", "HTTPS://Care.Example.ORG/custos/") as srv:
        url, path = link_url(srv)
        eq(url, "https://care.example.org/custos" + path, "the link under --public-url")
        # the page's button posts back to the page itself, under the proxy's
        # path too: a relative reference, not a path from the root
        r = srv.call("GET", path)
        expect_status(r, 200, "the unsubscribe page")
        token = path.rsplit("/", 1)[1]
        check('<form method="post" action="%s">' % token in r.text,
              "the form does not post back to the page", r.text)
        check('action="/' not in r.text, "the form posts to a path from the root", r.text)
    with Server(cx, env={"CUSTOS_PUBLIC_URL": "https://env.example.org:8443"}) as srv:
        url, path = link_url(srv)
        eq(url, "https://env.example.org:8443" + path, "the link under CUSTOS_PUBLIC_URL")
    with open(os.path.join(cx.store, "custos.conf"), "a") as f:
        f.write("public_url = https://conf.example.org/\n")
    with Server(cx) as srv:
        url, path = link_url(srv)
        eq(url, "https://conf.example.org" + path, "the link under custos.conf")
    with Server(cx, "--public-url", "https://opt.example.org",
                env={"CUSTOS_PUBLIC_URL": "https://env.example.org"}) as srv:
        url, path = link_url(srv)
        eq(url, "https://opt.example.org" + path, "the option before the environment")
    out = cx.ok("consent", "link", sid, "newsletters", "--public-url",
                "https://cli.example.org/p/").out.strip()
    check(re.match(r"^https://cli\.example\.org/p/v1/unsubscribe/cuu_[A-Za-z0-9_-]+$", out),
          "the CLI's link under --public-url", out)
    j = cx.okj("consent", "link", sid, "newsletters")
    eq(j["url"], "https://conf.example.org" + j["path"], "the CLI's link under custos.conf")
    for bad, says in (("https://x.example.org/?a=1", "query"),
                      ("https://x.example.org/#top", "fragment"),
                      ("https://user:pw@x.example.org", "user name"),
                      ("ftp://x.example.org", "http or https"),
                      ("javascript:alert(1)", "http or https"),
                      ("https://x.example.org:0", "port"),
                      ("https://x.example.org:70000", "port"),
                      ("https://x.example.org:80a", "port"),
                      ("https://", "no host"),
                      ("https://x.example.org/a/../b", "'..'"),
                      ("https://x.example.org//b", "empty path segment"),
                      ("https://x.example.org/a b", "space"),
                      ("https://x.example.org/<script>", "may not hold"),
                      ("https://" + "a" * 250 + ".org", "longer than")):
        cx.fails(2, "serve", "--listen", "127.0.0.1:0", "--public-url", bad, says=says)
        cx.fails(2, "consent", "link", sid, "newsletters", "--public-url", bad, says=says)
    env = cx.env({"CUSTOS_PUBLIC_URL": "https://x.example.org/?q"})
    cx.fails(1, "consent", "link", sid, "newsletters", env=env,
             says="CUSTOS_PUBLIC_URL: the public URL has a query")
