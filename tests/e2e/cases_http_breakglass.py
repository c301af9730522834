"""HTTP API: break-glass does what docs/api.md says. An emergency grant lets a
clinician read the record, add items and rectify; exporting (subject access
package, portability), disclosing, consent and the access log are refused
(403, rule break-glass-not-permitted, recorded in the audit event) until the
same clinician has the patient on their care list. A reason must say
something: white space, control and invisible characters are refused."""

from harness import registry, check, eq, sql
from fixtures import PERSON1
from http_client import (Server, Staff, expect_status, expect_problem, events_after,
                         audit_seq)

CASES, case = registry()

REASON = "Collapsed in the car park, care team unreachable"

# (method, path under /v1/subjects/{id}, body, status when allowed)
CARE_ONLY = [
    ("GET", "/sar", None, 200),
    ("GET", "/sar?format=html", None, 200),
    ("GET", "/sar?format=fhir", None, 200),
    ("POST", "/sar", {"format": "json"}, 200),
    ("GET", "/portability", None, 200),
    ("GET", "/portability?format=fhir", None, 200),
    ("POST", "/disclosures", {"organisation": "Ambridge Walk-in Centre", "basis": "e",
                              "channel": "letter", "categories": ["health"]}, 201),
    ("GET", "/disclosures", None, 200),
    ("GET", "/access-log", None, 200),
    ("POST", "/consents", {"purpose": "newsletter", "method": "staff"}, 201),
    ("GET", "/consents", None, 200),
    ("POST", "/unsubscribe-links", {"purpose": "newsletter"}, 201),
]
# what an emergency grant allows
CARE = [
    ("GET", "", None, 200),
    ("GET", "/items", None, 200),
    ("POST", "/items", {"items": [{"category": "health", "field": "treatment",
                                   "value": "Adrenaline 0.5 mg IM given"}]}, 201),
    ("PATCH", "", {"postcode": "QX9 1AB"}, 200),
]


def build(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Glass Trust")
    for name, roles in (("clinician", "clinician"), ("locum", "clinician"),
                        ("care_admin", "care_admin")):
        st.user(name, "A", roles)
    st.subject("S", "A", PERSON1)
    st.care("clinician", "S")
    return cx, st


def send(srv, token, sid, method, suffix, body):
    path = "/v1/subjects/" + sid + suffix
    q = ""
    if "?" in path:
        path, q = path.split("?", 1)
        q = "?" + q
    return srv.call(method, path + q, body, token=token,
                    ctype="application/merge-patch+json" if method == "PATCH"
                    else "application/json")


@case("http break-glass: a grant allows read, add items and rectify; every export, "
      "disclosure, consent and access-log route is refused (403, rule in the audit event) "
      "until the same clinician is on the care list")
def t_break_glass_scope(ctx):
    cx, st = build(ctx)
    sid = st.subjects["S"]["id"]
    with Server(cx) as srv:
        locum = st.signin(srv, "locum")
        admin = st.signin(srv, "care_admin")
        # no grant, not on the care list: everything refused as not-on-care-list
        for method, suffix, body, _ in CARE_ONLY + CARE:
            r = send(srv, locum, sid, method, suffix, body)
            expect_problem(r, 403, "forbidden", "%s %s without a grant" % (method, suffix))
            check("not-on-care-list" in r.json()["detail"], "rule without a grant", r.text)
        r = srv.call("POST", "/v1/subjects/%s/break-glass" % sid,
                     {"reason": REASON, "minutes": 30}, token=locum)
        expect_status(r, 201, "break-glass")
        # under the grant: care is allowed
        for method, suffix, body, status in CARE:
            r = send(srv, locum, sid, method, suffix, body)
            expect_status(r, status, "%s %s under break-glass" % (method, suffix))
        # ... everything else refused, with the rule in the answer and the audit event
        for method, suffix, body, _ in CARE_ONLY:
            seq0 = audit_seq(cx.db)
            r = send(srv, locum, sid, method, suffix, body)
            j = expect_problem(r, 403, "forbidden", "%s %s under break-glass" % (method,
                                                                                suffix))
            check("break-glass-not-permitted" in j["detail"], "rule in the answer", j)
            evs = events_after(cx.db, seq0)
            eq([(e["actor"], e["subject"], e["outcome"], e["rule"]) for e in evs],
               [("locum", sid, "denied", "break-glass-not-permitted")],
               "audit of %s %s under break-glass" % (method, suffix))
        eq(sql(cx.db, "SELECT count(*) FROM disclosures")[0][0], 0,
           "a disclosure recorded under break-glass")
        # the same clinician, now on the care list: allowed
        expect_status(srv.call("PUT", "/v1/subjects/%s/care-team/locum" % sid, token=admin),
                      204, "care-team put")
        for method, suffix, body, status in CARE_ONLY:
            seq0 = audit_seq(cx.db)
            r = send(srv, locum, sid, method, suffix, body)
            expect_status(r, status, "%s %s on the care list" % (method, suffix))
            evs = events_after(cx.db, seq0)
            eq([(e["actor"], e["outcome"]) for e in evs], [("locum", "ok")],
               "audit of %s %s on the care list" % (method, suffix))


BAD_REASONS = [
    (" " * 40, "reason-too-short"),
    ("\t" * 20, "reason-too-short"),
    ("\n" * 20, "reason-too-short"),
    ("\r\n" * 10, "reason-too-short"),
    ("\u00a0" * 12 + "\u3000" * 4, "reason-too-short"),
    ("\u200b" * 20, "reason-invisible-character"),
    ("\u200b \u200c \u200d \u2060 \ufeff \u00ad " * 3, "reason-invisible-character"),
    ("Seizure\u200b on ward seven", "reason-invisible-character"),
    ("Unconscious in A&E\u202e, no care team", "reason-invisible-character"),
    ("Unconscious in A&E\nno care team", "reason-control-character"),
    ("Unconscious\tin A&E, no care team", "reason-control-character"),
    ("  Fell hurt ", "reason-too-short"),
    ("..........!!!!!!!!", "reason-too-few-letters"),
    ("1234567890 987654321", "reason-too-few-letters"),
    ("emergencyemergencyemergency", "reason-too-few-words"),
    ("a b c d e f g h i j k", "reason-too-few-words"),
    ("\U0001F691" * 12, "reason-too-few-letters"),
]


@case("http break-glass: reasons of white space, control or invisible characters, too few "
      "letters or words are refused (400 naming the rule), granting nothing and recording "
      "nothing; a good reason is kept trimmed")
def t_break_glass_reason(ctx):
    cx, st = build(ctx)
    sid = st.subjects["S"]["id"]
    with Server(cx) as srv:
        locum = st.signin(srv, "locum")
        for reason, rule in BAD_REASONS:
            seq0 = audit_seq(cx.db)
            r = srv.call("POST", "/v1/subjects/%s/break-glass" % sid,
                         {"reason": reason, "minutes": 5}, token=locum)
            j = expect_problem(r, 400, "invalid-input", "reason %r" % reason)
            check(rule in j["detail"], "reason %r: the answer does not name %s" % (
                reason, rule), j)
            eq(events_after(cx.db, seq0), [], "audit events for a refused reason %r" % reason)
        eq(sql(cx.db, "SELECT count(*) FROM break_glass")[0][0], 0, "grants after bad reasons")
        # still no access
        expect_problem(srv.call("GET", "/v1/subjects/" + sid, token=locum), 403, "forbidden")
        # a reason with white space around it is granted and kept trimmed
        r = srv.call("POST", "/v1/subjects/%s/break-glass" % sid,
                     {"reason": "\n\t  " + REASON + " \u00a0\r\n", "minutes": 5}, token=locum)
        expect_status(r, 201, "a good reason")
        gid = r.json()["id"]
        grants = [(e["actor"], e["subject"], e["outcome"]) for e in events_after(cx.db, 0)
                  if e["action"] == "break_glass"]
        eq(grants, [("locum", sid, "ok")], "break-glass audit events")
    st.user("dpo", "A", "dpo")
    with Server(cx) as srv:
        dpo = st.signin(srv, "dpo")
        grants = expect_status(srv.call("GET", "/v1/break-glass", token=dpo), 200).json()
        mine = [g for g in grants["grants"] if g["id"] == gid]
        eq(len(mine), 1, "the grant listed")
        eq(mine[0]["reason"], REASON, "the reason kept, trimmed")
