"""HTTP routes: the route table (src/http/routes.c, printed by `custos routes
--markdown` and shown in docs/api.md) names how each route's caller
authenticates; the server asks exactly that: a bearer route refuses a request
without a token (401, recording nothing), a console page without the console's
cookie redirects to its sign-in (a bearer token is no console session), a
portal page without the portal's cookie never answers 200, and an open route
(public, or a link's token) never asks for a token."""

import json

from harness import registry, check, eq
from fixtures import PERSON1
from http_client import Server, Staff, audit_seq, random_id

CASES, case = registry()

KINDS = ("public", "link", "bearer", "staff cookie", "portal cookie")


def table(cx):
    """(method, path template, auth kind) rows of `custos routes --markdown`."""
    rows = []
    for line in cx.ok("routes", "--markdown").out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("Method", "---"):
            continue
        kind = cells[2].split(":")[0]
        check(kind in KINDS, "unknown authentication %r in %r" % (kind, line))
        rows.append((cells[0], cells[1].strip("`"), kind))
    return rows


def concrete(path):
    return (path.replace("{id}", random_id()).replace("{user}", "clinician")
            .replace("{purpose}", "all").replace("{pathway}", "pathway-a")
            .replace("{token}", "cuu_" + "A" * 43).replace("{qtoken}", "cuq_" + "A" * 43)
            .replace("{pcode}", "cup_" + "A" * 43))


def send(srv, method, path, token=None, cookie=None):
    headers = {"Cookie": cookie} if cookie else None
    body = "{}" if method in ("POST", "PUT", "PATCH") else None
    return srv.call(method, path, body, token=token, headers=headers)


@case("http routes: every route asks for the credential its row in the route table names; "
      "a request without it records nothing")
def t_route_auth(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Routes Trust")
    st.user("clinician", "A", "clinician")
    st.subject("S1", "A", PERSON1)
    rows = table(cx)
    routes = json.loads(cx.ok("--json", "routes").out)
    eq(sorted((r[0], r[1]) for r in rows),
       sorted((r["method"], r["path"]) for r in routes), "the table's routes are the router's")
    by_kind = {k: [r for r in rows if r[2] == k] for k in KINDS}
    for k in ("public", "link", "bearer", "staff cookie", "portal cookie"):
        check(by_kind[k], "no %s route in the table" % k)
    with Server(cx) as srv:
        token = st.signin(srv, "clinician")
        seq = audit_seq(cx.db)
        for method, tpl, _ in by_kind["bearer"]:
            r = send(srv, method, concrete(tpl))
            eq(r.status, 401, "%s %s without a token" % (method, tpl))
            check((r.header("www-authenticate") or "").startswith("Bearer"),
                  "%s %s: 401 without a Bearer challenge" % (method, tpl), r.describe())
            # a console cookie is no bearer credential
            r = send(srv, method, concrete(tpl), cookie="__Host-custos=" + token)
            eq(r.status, 401, "%s %s with the token as a cookie" % (method, tpl))
        eq(audit_seq(cx.db), seq, "audit events recorded by requests without a credential")
        for method, tpl, _ in by_kind["staff cookie"]:
            for tok in (None, token):  # a bearer token is no console session
                r = send(srv, method, concrete(tpl), token=tok)
                eq(r.status, 303, "%s %s without the console's cookie%s" %
                   (method, tpl, " (bearer given)" if tok else ""))
                check((r.header("location") or "").endswith("sign-in"),
                      "%s %s: not sent to the console's sign-in" % (method, tpl), r.describe())
        for method, tpl, _ in by_kind["portal cookie"]:
            for tok, cookie in ((None, None), (token, None), (None, "__Host-custos=" + token)):
                r = send(srv, method, concrete(tpl), token=tok, cookie=cookie)
                check(r.status != 200 and r.status < 500 and r.status != 401,
                      "%s %s: a staff credential or none opened a portal page" % (method, tpl),
                      r.describe())
        for method, tpl, _ in by_kind["public"] + by_kind["link"]:
            if tpl.startswith("/assets/"):
                continue
            r = send(srv, method, concrete(tpl))
            check(r.status != 401 and not r.header("www-authenticate"),
                  "%s %s: an open route asked for a token" % (method, tpl), r.describe())
            check(r.status < 500, "%s %s: %d" % (method, tpl, r.status), r.describe())
