"""Refusals and answers at the edges of the CLI and the API: an unknown query
parameter is named (bounded, printable), API problems name API routes rather
than CLI commands, `custos serve` says why it cannot listen and accepts host
names and IPv6 literals, a consent withdrawn twice is answered without a
second record, identity evidence cannot predate its request."""

import json
import socket

from harness import registry, check, eq, expect_error
from fixtures import PERSON1
from http_client import (Server, Staff, expect_status, expect_problem, audit_seq,
                         events_after, stable_dump)

CASES, case = registry()


def staffed(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Edge Trust")
    st.user("clinician", "A", "clinician")
    st.user("dpo", "A", "dpo")
    st.subject("S1", "A", PERSON1)
    st.care("clinician", "S1")
    return cx, st


@case("an unknown query parameter is named in the problem, bounded and printable, and "
      "nothing is written")
def t_unknown_query_named(ctx):
    cx, st = staffed(ctx)
    sid = st.subjects["S1"]["id"]
    with Server(cx) as srv:
        tok = st.signin(srv, "clinician")
        before = stable_dump(cx.db)
        seq0 = audit_seq(cx.db)
        r = srv.call("GET", "/v1/subjects/%s/items?limitt=5" % sid, token=tok)
        j = expect_problem(r, 400, "invalid-input")
        eq(j.get("detail"), 'unknown query parameter "limitt"', "detail")
        # only the first unknown one, after known ones
        r = srv.call("GET", "/v1/subjects/%s/items?limit=5&debug=1&trace=2" % sid, token=tok)
        eq(expect_problem(r, 400, "invalid-input").get("detail"),
           'unknown query parameter "debug"', "detail naming the first unknown")
        # a long name is cut at 40 characters; odd bytes are shown as '?'
        r = srv.call("GET", "/v1/audit?" + "a" * 300 + "=1", token=tok)
        eq(expect_problem(r, 400, "invalid-input").get("detail"),
           'unknown query parameter "%s..."' % ("a" * 40), "detail of a long name")
        r = srv.call("GET", "/v1/audit?%3Cscript%3E%22%27=1", token=tok)
        d = expect_problem(r, 400, "invalid-input").get("detail")
        eq(d, 'unknown query parameter "?script???"',
           "detail of a name with markup")
        # a value is never echoed, only the name
        r = srv.call("GET", "/v1/subjects?nhs_numbr=9990000018", token=tok)
        d = expect_problem(r, 400, "invalid-input").get("detail")
        eq(d, 'unknown query parameter "nhs_numbr"', "detail of a misspelt search")
        check("9990000018" not in r.body.decode(), "the value is echoed", r.describe())
        eq(stable_dump(cx.db), before, "store after unknown query parameters")
        eq(audit_seq(cx.db), seq0, "audit events after unknown query parameters")
