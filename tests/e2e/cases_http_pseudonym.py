"""HTTP API: what an analyst sees. Analysts read subjects by pseudonym only: no
answer to them (any route of the route table, any status, body or header)
carries a real subject id, a real item id or a record's exact time; item ids
become item pseudonyms and times are shown to the month. The audit trail still
records the real ids, and the analyst cannot read it."""

import datetime
import json
import re

from harness import registry, check, eq, sql, columns
from fixtures import PERSON1, PERSON2, NHS1
from http_client import (Server, Staff, expect_status, expect_problem, events_after,
                         audit_seq, random_id, random_pseudonym)

CASES, case = registry()

HEALTH = {"category": "health", "field": "observation", "value": "Wheeze on exertion, mild",
          "collected_at": "2025-06-17T09:12:44Z"}
MONTH = re.compile(r"^\d{4}-\d{2}$")


def doc(name, *extra):
    return {"name": name, "source": "staff",
            "items": [dict(HEALTH)] + [dict(x) for x in extra]}


def fmt_time(us):
    """A stored time as custos renders it (cu_time_format)."""
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%06dZ" % t.microsecond


def build(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Pseudonym Trust")
    st.controller("B", "Borchester Pseudonym Practice")
    st.user("analyst", "A", "analyst")
    st.user("clinician", "A", "clinician")
    st.user("analyst_b", "B", "analyst")
    st.subject("OK", "A", PERSON1)
    st.subject("ERASED", "A", doc("Ermintrude Vanishwell",
                                  {"category": "genetic", "field": "marker",
                                   "value": "Gone-gene variant"}))
    st.subject("RESTRICTED", "A", doc("Reginald Holdfast"))
    st.subject("OBJECTING", "A", doc("Octavia Naysayer"))
    st.subject("OTHER", "B", PERSON2)
    st.care("clinician", "OK")
    ok = st.subjects["OK"]["id"]
    # more records with ids and times: consent, a disclosure, later items
    cx.ok("consent", "give", ok, "newsletter", "--method", "staff")
    cx.ok("subject", "add-items", ok, stdin=json.dumps({"items": [
        {"category": "special_category", "field": "ethnicity", "value": "Not stated"}]}))
    item = sql(cx.db, "SELECT id FROM items WHERE subject_id = ? AND category = 'health'",
               (ok,))[0][0]
    cx.ok("--purpose", "direct_care", "disclose", ok, "--organisation", "Ambridge Surgery",
          "--basis", "e", "--channel", "letter", "--items", item)
    cx.ok("subject", "restrict", st.subjects["RESTRICTED"]["id"])
    cx.ok("subject", "object", st.subjects["OBJECTING"]["id"], "reporting")
    # every id and time of the store, taken before the erasure deletes some
    secrets = collect_secrets(cx.db)
    cx.ok("subject", "erase", st.subjects["ERASED"]["id"])
    more = collect_secrets(cx.db)
    for k in secrets:
        secrets[k] |= more[k]
    for label, s in st.subjects.items():
        s["pseudonym"] = sql(cx.db, "SELECT pseudonym FROM subjects WHERE id = ?",
                             (s["id"],))[0][0]
        check(s["pseudonym"].startswith("psn_"), "no pseudonym for " + label)
    link = cx.okj("consent", "link", ok, "newsletter")
    return cx, st, secrets, link


def collect_secrets(db):
    """Real subject ids, real record ids (items, consents, disclosures) and every
    exact time a subject, item, consent, objection or disclosure carries."""
    ids = {r[0] for r in sql(db, "SELECT id FROM subjects")}
    records = {r[0] for r in sql(db, "SELECT id FROM items")}
    times = set()
    for table, cols in (("subjects", ("created_at", "updated_at", "erased_at",
                                      "restricted_at")),
                        ("items", ("collected_at", "recorded_at", "updated_at"))):
        for row in sql(db, "SELECT %s FROM %s" % (", ".join(cols), table)):
            times |= {v for v in row if v}
    for table in ("consents", "objections", "disclosures"):
        cols = columns(db, table)
        if "id" in cols:
            records |= {r[0] for r in sql(db, "SELECT id FROM %s" % table)}
        for c in cols:
            if c.endswith("_at"):
                times |= {r[0] for r in sql(db, "SELECT %s FROM %s" % (c, table))
                          if isinstance(r[0], int) and r[0]}
    # Public times that may share a second with a record's: a policy's
    # application is shown to anyone who may read the policy.
    public = {r[0] for r in sql(db, "SELECT applied_at FROM policies")}
    return {"subject_ids": ids, "record_ids": records, "times": times,
            "public_seconds": {fmt_time(us)[:19] for us in public}}


def needles(secrets):
    """(what, string) pairs that must appear in no answer to an analyst."""
    out = [("real subject id", s) for s in secrets["subject_ids"]]
    out += [("real record id", s) for s in secrets["record_ids"]]
    for us in secrets["times"]:
        full = fmt_time(us)
        out += [("exact time", full), ("exact time (microseconds)", str(us))]
        if full[:19] not in secrets.get("public_seconds", ()):
            out.append(("exact time (to the second)", full[:19]))
    return out


def day_needles(secrets):
    """Dates of records: no subject answer shows a record's day."""
    return {fmt_time(us)[:10] for us in secrets["times"]}


def route_bodies(name, target, item_id, today):
    """Bodies to send to a route: a plausible one, an empty object, not JSON."""
    good = {
        "subject.create": {"kind": "patient", "items": [HEALTH]},
        "subject.search": {"nhs_number": NHS1},
        "subject.patch": {"items": [{"id": item_id, "value": "changed"}]},
        "items.create": {"items": [HEALTH]},
        "break_glass.create": {"reason": "Collapsed in the waiting room, no answer",
                               "minutes": 5},
        "consent.create": {"purpose": "newsletter", "method": "staff"},
        "unsubscribe_link.create": {"purpose": "newsletter"},
        "objection.create": {"purpose": "reporting"},
        "request.create": {"kind": "access", "channel": "email", "received_on": today,
                           "details": "asked at the desk"},
        "request.transition": {"action": "verify", "why": "passport seen",
                               "subject": target},
        "erasure.plan": {}, "erasure.execute": {},
        "sar.post": {"format": "json", "withhold": [{"item": item_id, "reason": "harm"}]},
        "disclosure.create": {"organisation": "Borsetshire Council", "basis": "e",
                              "channel": "letter", "items": [item_id]},
        "policy.put": {"controller": "x"}, "policy.check": {"controller": "x"},
        "session.create": {"username": "analyst", "password": "wrong password here"},
    }.get(name, {})
    return [good, {}, "{not json"]


def fill(path, target, link_token):
    return (path.replace("{id}", target).replace("{user}", "clinician")
            .replace("{purpose}", "reporting").replace("{token}", link_token))


def walk(srv, token, routes, targets, item_id, link_token, secrets):
    """Every route x every target x every body: [(label, response)]."""
    today = datetime.date.today().isoformat()
    out = []
    for r in routes:
        if r["path"] in ("/v1/sessions/current", "/v1/sessions") and r["method"] == "DELETE":
            continue  # signing out would end the walk; walked last
        tgts = targets if "{id}" in r["path"] else ["-"]
        queries = [""]
        if r["name"] == "subject.list":
            queries += ["?nhs_number=" + NHS1, "?email=zebulon.quagmire@example-clinic.org"]
        if r["name"] == "audit.list":
            queries += ["?subject=" + t for t in targets] + ["?actor=clinician"]
        for t in tgts:
            path = fill(r["path"], t, link_token)
            bodies = route_bodies(r["name"], t, item_id, today) \
                if r["method"] in ("POST", "PUT", "PATCH") else [None]
            for q in queries:
                for b in bodies:
                    ctype = "application/merge-patch+json" if r["method"] == "PATCH" \
                        else "application/json"
                    resp = srv.call(r["method"], path + q, b, token=token, ctype=ctype)
                    out.append(("%s %s%s body=%s" % (r["method"], path, q,
                                                     json.dumps(b)[:40]), resp))
    return out


def leaks(responses, secrets):
    found = []
    ns = needles(secrets)
    days = day_needles(secrets)
    for label, r in responses:
        hay = r.text + "\n" + "\n".join("%s: %s" % kv for kv in r.headers.items())
        for what, s in ns:
            if s in hay:
                found.append("%s: %s %s in %s" % (label, what, s, hay[:300]))
        if r.path.startswith("/v1/subjects") and r.status < 300:
            for d in days:
                if d in hay:
                    found.append("%s: a record's day %s in %s" % (label, d, hay[:300]))
    return found


@case("http pseudonyms: an analyst walks every route of the route table (existing, erased, "
      "restricted, objecting, other controller's, unknown and real-id subjects; good and bad "
      "bodies): no real subject id, record id or exact time in any body or header")
def t_analyst_walk(ctx):
    cx, st, secrets, link = build(ctx)
    routes = cx.okj("routes")
    check(len(routes) >= 40, "the route table is short", routes)
    subj = st.subjects
    targets = [subj[k]["pseudonym"] for k in ("OK", "ERASED", "RESTRICTED", "OBJECTING",
                                              "OTHER")]
    targets += [random_pseudonym(), subj["OK"]["id"], subj["OTHER"]["id"], random_id(),
                st.controllers["A"]]
    item_id = sorted(secrets["record_ids"])[0]
    with Server(cx) as srv:
        token = st.signin(srv, "analyst")
        seq0 = audit_seq(cx.db)
        got = walk(srv, token, routes, targets, item_id, link["token"], secrets)
        check(len(got) > 300, "only %d requests in the walk" % len(got))
        # sign-out last
        r = srv.call("DELETE", "/v1/sessions/current", token=token)
        expect_status(r, 204, "analyst sign-out")
        got.append(("DELETE /v1/sessions/current", r))
        # and everywhere, with a new session
        r = srv.call("DELETE", "/v1/sessions", token=st.signin(srv, "analyst"))
        expect_status(r, 204, "analyst signs out everywhere")
        got.append(("DELETE /v1/sessions", r))
        found = leaks(got, secrets)
        check(not found, "%d answers to an analyst carry a real id or an exact time:\n%s" % (
            len(found), "\n".join(found[:30])))
        # the walk did reach data: reads answered, refusals for the right reasons
        byname = {}
        for label, resp in got:
            byname.setdefault(label, resp)
        ok_psn = subj["OK"]["pseudonym"]
        view = byname["GET /v1/subjects/%s body=null" % ok_psn]
        expect_status(view, 200, "analyst read")
        # the audit trail records the real ids of what the analyst did
        evs = events_after(cx.db, seq0)
        reads = [e for e in evs if e["actor"] == "analyst" and e["action"] == "read" and
                 e["outcome"] == "ok"]
        check(reads and all(e["subject"] == subj["OK"]["id"] for e in reads),
              "analyst reads not recorded with the real subject id",
              [(e["subject"], e["outcome"]) for e in reads])
        named = [e for e in evs if e["rule"] == "pseudonym-required"]
        check(named, "no refusal recorded for a subject named by id")
        for e in named:
            eq(e["controller"], st.controllers["A"], "controller of a pseudonym-required event")
            eq(e["outcome"], "denied", "outcome of a pseudonym-required event")
        check(any(e["subject"] == subj["OK"]["id"] for e in named),
              "the id an analyst tried is not recorded")


@case("http pseudonyms: the analyst's view: item pseudonyms (stable, not item ids), times to "
      "the month, no recorded_by; refusals name the pseudonym asked for; id-named subjects "
      "refused alike; no audit trail, access log or export")
def t_analyst_view(ctx):
    cx, st, secrets, _ = build(ctx)
    subj = st.subjects
    ok, ok_psn = subj["OK"]["id"], subj["OK"]["pseudonym"]
    with Server(cx) as srv:
        token = st.signin(srv, "analyst")
        tok_b = st.signin(srv, "analyst_b")
        v1 = expect_status(srv.call("GET", "/v1/subjects/" + ok_psn, token=token), 200).json()
        v2 = expect_status(srv.call("GET", "/v1/subjects/%s/items" % ok_psn, token=token),
                           200).json()
        eq(v1["id"], ok_psn, "view id")
        eq(v1["pseudonymised"], True, "pseudonymised")
        real_items = {r[0] for r in sql(cx.db, "SELECT id FROM items WHERE subject_id = ?",
                                        (ok,))}
        ids1 = [i["id"] for i in v1["items"]]
        ids2 = [i["id"] for i in v2["items"]]
        check(ids1 and all(re.match(r"^psi_[0-9a-f]{32}$", i) for i in ids1),
              "item ids are not item pseudonyms", ids1)
        eq(ids1, ids2, "item pseudonyms are stable across reads")
        eq(len(set(ids1)), len(ids1), "item pseudonyms are distinct")
        check(not set(ids1) & real_items, "a real item id shown")
        for it in v1["items"]:
            check("recorded_by" not in it, "recorded_by shown to an analyst", it)
            for k in ("collected_at", "recorded_at", "updated_at"):
                check(MONTH.match(it[k] or ""), "%s not to the month" % k, it)
        diag = [i for i in v1["items"] if i["field"] == "diagnosis"][0]
        eq(diag["collected_at"], "2025-11", "collected_at to the month")
        geno = [i for i in v1["items"] if i["field"] == "genotype"][0]
        eq(geno["collected_at"], "2024-02", "collected_at to the month")
        for k in ("created_at", "updated_at"):
            check(MONTH.match(v1[k]), "subject %s not to the month" % k, v1)
        # a pseudonym is not a subject pseudonym of an item: the two differ in kind
        check(not any(i.startswith("psn_") for i in ids1), "item named like a subject")
        # the listing: pseudonyms, months, the erased subject as erased (to the month)
        lst = expect_status(srv.call("GET", "/v1/subjects", token=token), 200).json()
        rows = {x["id"]: x for x in lst["subjects"]}
        check(subj["ERASED"]["pseudonym"] in rows, "erased subject not listed", rows)
        check(MONTH.match(rows[subj["ERASED"]["pseudonym"]]["erased_at"] or ""),
              "erased_at not to the month", rows)
        # refusals name the pseudonym asked for, never the id
        for label, status, kind, words in (
                ("ERASED", 410, None, "was erased"),
                ("RESTRICTED", 403, "forbidden", "restricted"),
                ("OBJECTING", 403, "forbidden", "objection"),
                ("OTHER", 404, "not-found", "no subject")):
            psn = subj[label]["pseudonym"]
            r = srv.call("GET", "/v1/subjects/" + psn, token=token)
            check(r.status == status, "%s: expected %d" % (label, status), r.describe())
            j = expect_problem(r, status, kind)
            check(words in j["detail"] and psn in j["detail"],
                  "%s: the refusal does not name the pseudonym asked for" % label, j)
            check(subj[label]["id"] not in r.text, "%s: the real id in a refusal" % label)
        # another controller's analyst: the same subject is unknown to them
        r = srv.call("GET", "/v1/subjects/" + ok_psn, token=tok_b)
        expect_problem(r, 404, "not-found")
        check(ok not in r.text, "another controller's analyst sees the id")
        # naming by id: the same refusal for an id of this controller, another's, or none
        answers = set()
        for sid in (ok, subj["OTHER"]["id"], random_id()):
            seq0 = audit_seq(cx.db)
            r = srv.call("GET", "/v1/subjects/" + sid, token=token)
            j = expect_problem(r, 403, "forbidden")
            check("pseudonym-required" in j["detail"], "refusal of an id", j)
            check(sid not in r.text, "the id asked for is echoed", r.text)
            answers.add(r.text)
            evs = events_after(cx.db, seq0)
            eq([(e["rule"], e["subject"], e["controller"]) for e in evs],
               [("pseudonym-required", sid, st.controllers["A"])], "event of an id refusal")
        eq(len(answers), 1, "id refusals differ (an existence oracle)")
        # no audit trail, access log, export, disclosure log or consent receipt
        for method, path in (("GET", "/v1/audit"), ("GET", "/v1/audit/verify"),
                             ("GET", "/v1/subjects/%s/access-log" % ok_psn),
                             ("GET", "/v1/subjects/%s/sar" % ok_psn),
                             ("GET", "/v1/subjects/%s/portability" % ok_psn),
                             ("GET", "/v1/subjects/%s/disclosures" % ok_psn),
                             ("GET", "/v1/subjects/%s/consents" % ok_psn),
                             ("GET", "/v1/break-glass")):
            expect_problem(srv.call(method, path, token=token), 403, "forbidden", path)
        # a clinician with the patient on the care list still sees the real ids and times
        clin = st.signin(srv, "clinician")
        cv = expect_status(srv.call("GET", "/v1/subjects/" + ok, token=clin), 200).json()
        eq(cv["id"], ok, "clinician view id")
        check(all(i["id"] in real_items for i in cv["items"]), "clinician sees item ids")
        check(all("recorded_by" in i for i in cv["items"]), "clinician sees recorded_by")
