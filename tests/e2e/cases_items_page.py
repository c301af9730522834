"""Item listings are paginated: GET /v1/subjects/{id}/items?limit=N&cursor=C
(default 100, at most 500, keyset on the time-ordered item id), and the
subject read carries its top-level fields and the first page of the other
items. A cursor is opaque and tamper-checked: a bad one is a 400 problem."""

from harness import registry, check, eq, sql
from fixtures import PERSON1
from http_client import Server, Staff, expect_status, expect_problem, audit_seq, events_after

CASES, case = registry()

N_ITEMS = 2600


def heavy(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Paging Trust")
    st.user("clinician", "A", "clinician")
    st.user("care_admin", "A", "care_admin")
    st.subject("S1", "A", PERSON1)
    st.subject("S2", "A", {"name": "Second Person"})
    st.care("clinician", "S1")
    st.care("clinician", "S2")
    return cx, st


def fill(srv, tok, sid, n, tag="obs"):
    """Adds n health items obs-0 .. obs-(n-1) in documents of up to 1000."""
    ids = []
    for start in range(0, n, 1000):
        items = [{"category": "health", "field": "obs", "value": "%s-%d" % (tag, i)}
                 for i in range(start, min(n, start + 1000))]
        r = srv.call("POST", "/v1/subjects/%s/items" % sid, {"items": items}, token=tok)
        expect_status(r, 201, "adding items")
        ids += r.json()["items"]
    return ids


def walk(srv, tok, sid, limit=None, first=None):
    """Follows next from the first page; returns the pages."""
    pages = []
    q = "?limit=%d" % limit if limit else ""
    r = srv.call("GET", "/v1/subjects/%s/items%s" % (sid, q), token=tok)
    while True:
        expect_status(r, 200, "page %d" % len(pages))
        j = r.json()
        pages.append(j)
        check(set(j) <= {"items", "next"}, "unexpected members %r" % sorted(j))
        if "next" not in j:
            return pages
        check(len(pages) < 200, "more than 200 pages")
        sep = "&" if q else "?"
        r = srv.call("GET", "/v1/subjects/%s/items%s%scursor=%s" % (sid, q, sep, j["next"]),
                     token=tok)


@case("items paging: a subject with %d items lists in complete, disjoint pages in item-id "
      "order (default 100, limit 1..500); the subject read has its top-level fields and the "
      "first page" % N_ITEMS)
def t_pages(ctx):
    cx, st = heavy(ctx)
    sid = st.subjects["S1"]["id"]
    with Server(cx) as srv:
        tok = st.signin(srv, "clinician")
        added = fill(srv, tok, sid, N_ITEMS)
        every = sorted(r[0] for r in sql(cx.db, "SELECT id FROM items WHERE subject_id = ?",
                                          (sid,)))
        eq(len(every), N_ITEMS + 11, "items in the store")
        for limit, want_pages in ((None, -(-len(every) // 100)), (500, -(-len(every) // 500)),
                                  (7, None)):
            if limit == 7:
                # a short walk is enough for a small limit: the first pages
                r = srv.call("GET", "/v1/subjects/%s/items?limit=7" % sid, token=tok)
                j = expect_status(r, 200, "limit=7").json()
                eq([i["id"] for i in j["items"]], every[:7], "first page of 7")
                r = srv.call("GET", "/v1/subjects/%s/items?limit=7&cursor=%s" % (sid, j["next"]),
                             token=tok)
                eq([i["id"] for i in expect_status(r, 200, "second page").json()["items"]],
                   every[7:14], "second page of 7")
                continue
            pages = walk(srv, tok, sid, limit)
            eq(len(pages), want_pages, "pages at limit %r" % limit)
            got = [i["id"] for p in pages for i in p["items"]]
            eq(len(got), len(set(got)), "no item on two pages")
            eq(got, every, "every item once, in id order (limit %r)" % limit)
            for p in pages[:-1]:
                eq(len(p["items"]), limit or 100, "a full page")
        values = {}
        for p in walk(srv, tok, sid, 500):
            for i in p["items"]:
                values[i["id"]] = i["value"]
        for n, iid in enumerate(added):
            eq(values[iid], "obs-%d" % n, "value of item %d" % n)
        # the subject read: top-level fields complete, first page of the rest
        r = srv.call("GET", "/v1/subjects/" + sid, token=tok)
        j = expect_status(r, 200, "subject read").json()
        eq(j["name"], PERSON1["name"], "name")
        eq(j["postcode"], PERSON1["postcode"], "postcode")
        eq(len(j["field_item_ids"]), 8, "top-level fields")
        check(len(j["items"]) <= 100, "more than a page of items: %d" % len(j["items"]))
        check(all(i["field"] not in j["field_item_ids"] for i in j["items"]),
              "a top-level field among the items")
        check(j.get("next"), "no next cursor on a subject read with %d items" % N_ITEMS)
        r = srv.call("GET", "/v1/subjects/%s/items?cursor=%s" % (sid, j["next"]), token=tok)
        nxt = expect_status(r, 200, "items after the subject read").json()
        eq(nxt["items"][0]["id"], every[100], "the items route continues the subject read")
        r = srv.call("GET", "/v1/subjects/%s?limit=500" % sid, token=tok)
        j = expect_status(r, 200, "subject read, limit 500").json()
        eq(len(j["items"]), 500 - 8, "other items on a first page of 500")
        # a small subject: one page, no cursor, nothing changes for old clients
        s2 = st.subjects["S2"]["id"]
        j = expect_status(srv.call("GET", "/v1/subjects/" + s2, token=tok), 200, "S2").json()
        check("next" not in j, "a cursor on a one-page subject", j)
        j = expect_status(srv.call("GET", "/v1/subjects/%s/items" % s2, token=tok), 200,
                          "S2 items").json()
        eq([i["value"] for i in j["items"]], ["Second Person"], "S2 items")
        check("next" not in j, "a cursor on a one-page listing", j)
        # every page is one audited read
        seq = audit_seq(cx.db)
        pages = walk(srv, tok, sid, 500)
        ev = events_after(cx.db, seq)
        eq(len(ev), len(pages), "one audit event per page")
        check(all(e["action"] == "read" and e["outcome"] == "ok" for e in ev), "events", ev)


@case("items paging: limit out of range, a malformed, altered, truncated or foreign cursor "
      "are 400 problems that name no value; a cursor is refused on the subject read")
def t_bad_cursors(ctx):
    cx, st = heavy(ctx)
    sid, s2 = st.subjects["S1"]["id"], st.subjects["S2"]["id"]
    with Server(cx) as srv:
        tok = st.signin(srv, "clinician")
        fill(srv, tok, sid, 30)
        fill(srv, tok, s2, 30)
        j = srv.call("GET", "/v1/subjects/%s/items?limit=5" % sid, token=tok).json()
        good = j["next"]
        eq(len(good), 66, "cursor length")
        check(good.startswith("c1"), "cursor form %r" % good)
        j2 = srv.call("GET", "/v1/subjects/%s/items?limit=5" % s2, token=tok).json()
        base = "/v1/subjects/%s/items" % sid

        def flip(c, i):
            ch = "0" if c[i] != "0" else "1"
            return c[:i] + ch + c[i + 1:]

        bad = {
            "limit 0": base + "?limit=0",
            "limit 501": base + "?limit=501",
            "limit -1": base + "?limit=-1",
            "limit x": base + "?limit=x",
            "limit +5": base + "?limit=%2B5",
            "limit empty": base + "?limit=",
            "empty cursor": base + "?cursor=",
            "short cursor": base + "?cursor=" + good[:-1],
            "long cursor": base + "?cursor=" + good + "0",
            "upper-case": base + "?cursor=" + good.upper(),
            "other version": base + "?cursor=c2" + good[2:],
            "altered id": base + "?cursor=" + flip(good, 20),
            "altered tag": base + "?cursor=" + flip(good, 60),
            "another subject's": base + "?cursor=" + j2["next"],
            "cursor on subject read": "/v1/subjects/%s?cursor=%s" % (sid, good),
            "an item id": base + "?cursor=" + sql(cx.db, "SELECT id FROM items LIMIT 1")[0][0],
        }
        seq = audit_seq(cx.db)
        for what, path in bad.items():
            r = srv.call("GET", path, token=tok)
            pj = expect_problem(r, 400, "invalid-input", what)
            check("obs-" not in r.text and PERSON1["name"] not in r.text,
                  "%s: the problem names a value" % what, r.text)
            check("detail" in pj, "%s: no detail" % what, pj)
        eq(events_after(cx.db, seq), [], "an invalid listing request recorded an event")
        # the good cursor still works, and another subject's cursor is its own
        expect_status(srv.call("GET", base + "?limit=5&cursor=" + good, token=tok), 200, "good")
        expect_status(srv.call("GET", "/v1/subjects/%s/items?cursor=%s" % (s2, j2["next"]),
                               token=tok), 200, "S2 cursor on S2")


@case("items paging: a role that may see only some categories gets pages without the rest "
      "and still reaches the end; a cursor survives a master-key rotation")
def t_partial_pages(ctx):
    cx, st = heavy(ctx)
    sid = st.subjects["S1"]["id"]
    with Server(cx) as srv:
        tok = st.signin(srv, "clinician")
        fill(srv, tok, sid, 450)
        tca = st.signin(srv, "care_admin")
        pages = walk(srv, tca, sid, 100)
        got = [i for p in pages for i in p["items"]]
        check(all(i["category"] in ("contact", "identifying") for i in got),
              "care_admin sees another category")
        eq(len(got), 8, "care_admin's items")
        eq(len(pages), 5, "pages for 461 items")
        j = srv.call("GET", "/v1/subjects/%s/items?limit=10" % sid, token=tok).json()
        cx.ok("key", "rotate")
        r = srv.call("GET", "/v1/subjects/%s/items?limit=10&cursor=%s" % (sid, j["next"]),
                     token=tok)
        expect_status(r, 200, "cursor after a rotation")
        eq(len(r.json()["items"]), 10, "page after a rotation")
