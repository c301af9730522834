"""HTTP API under a controller's policy: every access names a purpose of the
policy (Custos-Purpose) and is refused, with its rule audited, when the policy
does not allow it; consent records and receipts, single-use unsubscribe links
that need no sign-in, restriction and objection, the public privacy notice,
and the policy, its versions and the record of processing over HTTP. Runs
under the shipped healthya profile (profiles/healthya.json)."""

import contextlib
import copy
import csv
import io
import json
import os

from harness import registry, check, eq, diff_dumps, sql
from fixtures import ROOT
from http_client import (Server, Staff, expect_status, expect_problem, audit_seq,
                         audit_count, events_after, stable_dump, random_id)

CASES, case = registry()

HEALTHYA = os.path.join(ROOT, "profiles", "healthya.json")
AUDIT_TABLES = ("audit_events", "audit_head", "audit_checkpoints")

WEB_USER = {"name": "Ysolde Marchbanks-Quell", "email": "ysolde.quell@example.org",
            "items": [{"category": "online_identifier", "field": "ip_address",
                       "value": "198.51.100.77"}]}
WEB_USER2 = {"name": "Tobiah Fenwick-Orrell", "email": "tobiah.orrell@example.net"}
EMPLOYEE = {"name": "Marisol Underhay", "email": "marisol.underhay@example.com"}


def load_policy():
    with open(HEALTHYA, encoding="utf-8") as f:
        return json.load(f)


def purpose_of(policy, pid):
    for p in policy["purposes"]:
        if p["id"] == pid:
            return p
    raise AssertionError("no purpose %s in the healthya profile" % pid)


def healthya(ctx):
    """A store with one controller under the healthya profile and a care_admin
    API token ("crm": may read and write contact data) and a dpo token."""
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controllers["H"] = cx.ok("controller", "add", "--name", "healthya", "--policy",
                                HEALTHYA).out.strip()
    st.token("crm", "H", "care_admin")
    st.token("dpo", "H", "dpo")
    return cx, st


def add_subject(cx, st, label, doc, kind, purpose):
    """A subject registered by the operator under a purpose of the policy."""
    sid = cx.ok("--purpose", purpose, "subject", "add", "--controller", st.controllers["H"],
                "--kind", kind, stdin=json.dumps(doc)).out.strip()
    st.subjects[label] = {"id": sid, "controller": st.controllers["H"], "doc": doc}
    return sid


def tok(st, name):
    return st.tokens[name]["token"]


def purpose_header(purpose):
    return {"Custos-Purpose": purpose} if purpose else None


def data_dump(db):
    """The store without the audit trail (and without session bookkeeping)."""
    return [(n, rows) for n, rows in stable_dump(db) if n not in AUDIT_TABLES]


@contextlib.contextmanager
def unchanged(cx, what):
    """Neither the store nor the audit trail changes inside the block."""
    before, n_audit = data_dump(cx.db), audit_count(cx.db)
    yield
    eq(data_dump(cx.db), before, "the store after " + what)
    eq(audit_count(cx.db), n_audit, "audit events after " + what)


def allowed(srv, method, path, token, purpose=None, body=None, status=200):
    r = srv.call(method, path, body, token=token, headers=purpose_header(purpose))
    expect_status(r, status, "%s %s for %s" % (method, path, purpose or "the default purpose"))
    return r


def refused(srv, cx, rule, method, path, token, purpose=None, body=None, action=None,
            subject=""):
    """A policy refusal: 403 forbidden whose detail names the rule, exactly one
    audit event (denied, with that rule, purpose and subject), and nothing else
    in the store changed."""
    what = "%s %s for %s" % (method, path, purpose or "the default purpose")
    before, seq = data_dump(cx.db), audit_seq(cx.db)
    r = srv.call(method, path, body, token=token, headers=purpose_header(purpose))
    j = expect_problem(r, 403, "forbidden", what)
    check(j.get("detail", "").startswith("refused (%s)" % rule),
          "%s: the detail does not name the rule %s" % (what, rule), r.describe())
    evs = events_after(cx.db, seq)
    eq(len(evs), 1, "audit events appended by the refusal of " + what)
    e = evs[0]
    eq((e["outcome"], e["rule"]), ("denied", rule), "outcome and rule of the event of " + what)
    eq(e["subject"], subject, "subject of the event of " + what)
    if purpose:
        eq(e["purpose"], purpose, "purpose of the event of " + what)
    if action:
        eq(e["action"], action, "action of the event of " + what)
    after = data_dump(cx.db)
    check(after == before, "the refusal of %s changed the store" % what,
          diff_dumps(before, after))
    return e


def listed(srv, token, purpose):
    r = allowed(srv, "GET", "/v1/subjects", token, purpose)
    return [s["id"] for s in r.json()["subjects"]]


# ---------------------------------------------------------------- the whole flow

@case("http policy flow: newsletters refused without consent (rule no-consent, audited), "
      "consent gives a 27560 receipt, then contact data only and listed; an unsubscribe link "
      "withdraws it without sign-in, once; refused again; the history shows both")
def t_consent_flow(ctx):
    cx, st = healthya(ctx)
    ctl = st.controllers["H"]
    policy = load_policy()
    sid = add_subject(cx, st, "web", WEB_USER, "web_user", "service_contract")
    other = add_subject(cx, st, "web2", WEB_USER2, "web_user", "service_contract")
    crm = tok(st, "crm")
    with Server(cx) as srv:
        path = "/v1/subjects/" + sid
        # without consent: refused, with the rule in the detail and the audit event
        e = refused(srv, cx, "no-consent", "GET", path, crm, "newsletters", action="read",
                    subject=sid)
        eq((e["actor"], e["via"]), ("token:crm", "http GET /v1/subjects/{id}"),
           "actor and via of the refusal")
        r = allowed(srv, "GET", "/v1/audit?subject=" + sid, tok(st, "dpo"))
        denied = [ev for ev in r.json()["events"] if ev["outcome"] == "denied"]
        eq([(ev.get("rule"), ev["purpose"]) for ev in denied], [("no-consent", "newsletters")],
           "the refusal in GET /v1/audit, with its rule")
        eq(listed(srv, crm, "newsletters"), [], "the newsletter list before any consent")

        # consent given through the web form: a receipt
        seq = audit_seq(cx.db)
        r = allowed(srv, "POST", path + "/consents", crm, "newsletters", status=201,
                    body={"purpose": "newsletters", "method": "web_form",
                          "evidence": "sign-up form v7, tick box 2"})
        eq(r.header("location"), path + "/consents", "Location of a consent")
        rc = r.json()
        check("27560" in rc["schema"], "the receipt does not name ISO/IEC TS 27560", rc)
        for key in ("record_id", "pii_principal_id", "jurisdiction", "notice", "processing",
                    "parties", "state", "events", "withdrawal"):
            check(key in rc, "the receipt has no %s" % key, rc)
        eq(rc["pii_principal_id"], sid, "receipt pii_principal_id")
        eq(rc["notice"], {"controller_id": ctl, "policy_version_seen": 1,
                          "location": "/v1/controllers/%s/notice" % ctl}, "receipt notice")
        pr = rc["processing"]
        eq(pr["purpose_id"], "newsletters", "receipt purpose_id")
        eq(pr["purpose"], purpose_of(policy, "newsletters")["description"], "receipt purpose")
        eq(pr["legal_basis"], "UK GDPR Article 6(1)(a)", "receipt legal basis")
        eq(pr["pii_categories"], ["contact"], "receipt categories")
        eq(pr["special_category_condition"], None, "receipt special-category condition")
        for key in ("consent_type", "recipients", "transfers", "retention",
                    "automated_decision_making"):
            check(key in pr, "the receipt's processing has no %s" % key, pr)
        eq(rc["parties"]["pii_controller"]["name"], policy["controller"]["name"],
           "receipt controller")
        eq(rc["parties"]["dpo"]["email"], policy["dpo"]["email"], "receipt DPO")
        eq(rc["state"], "given", "receipt state")
        eq([(ev["type"], ev["method"], ev["policy_version"]) for ev in rc["events"]],
           [("given", "web_form", 1)], "receipt events")
        eq(rc["events"][0]["record_id"], rc["record_id"], "the event is the record")
        check("tick box" not in r.text, "the receipt repeats the evidence", r.text)
        evs = events_after(cx.db, seq)
        eq([(ev["action"], ev["outcome"], ev["subject"]) for ev in evs],
           [("consent.give", "ok", sid)],
           "exactly one audit event for a consent, its receipt included")

        # now allowed, and only the categories of the purpose
        for who in ("crm", "dpo"):
            v = allowed(srv, "GET", path, tok(st, who), "newsletters").json()
            eq((v["name"], v["email"]), (WEB_USER["name"], WEB_USER["email"]),
               "contact values for " + who)
            eq(v["items"], [], "items other than contact for %s (the ip address is "
                               "online_identifier)" % who)
            eq(sorted(v["field_item_ids"]), ["email", "name"], "fields shown to " + who)
        ev = events_after(cx.db, audit_seq(cx.db) - 1)[0]
        eq((ev["categories"], ev["purpose"], ev["outcome"]), ("contact", "newsletters", "ok"),
           "the read's audit event")
        eq(listed(srv, crm, "newsletters"), [sid], "the newsletter list (not the subject "
                                                   "without consent)")
        check(other in listed(srv, crm, "service_contract"),
              "a purpose without consent lists every subject it covers")

        # an unsubscribe link
        r = allowed(srv, "POST", path + "/unsubscribe-links", crm, "newsletters",
                    body={"purpose": "newsletters"}, status=201)
        link = r.json()
        check(link["token"].startswith("cuu_"), "the link token does not start cuu_", link)
        eq(link["path"], "/v1/unsubscribe/" + link["token"], "the link's path")
        eq(link["url"], "http://localhost:%d%s" % (srv.port, link["path"]),
           "the link's URL (the default public URL: localhost and the port served)")
        eq(link["purpose"], "newsletters", "the link's purpose")
        rows = repr(sql(cx.db, "SELECT * FROM unsubscribe_links"))
        check(link["token"] not in rows, "the link token is stored in clear")

        # the page: no sign-in, changes nothing
        with unchanged(cx, "GET of the page"):
            r = srv.call("GET", link["path"])
            expect_status(r, 200, "GET the unsubscribe page")
            check((r.header("content-type") or "").startswith("text/html"), "the page is not HTML",
                  r.describe())
            csp = r.header("content-security-policy") or ""
            check("default-src 'self'" in csp and "frame-ancestors 'none'" in csp,
                  "the page has no Content-Security-Policy", r.headers)
            check('<form method="post" action="%s">' % link["token"] in r.text and
                  "Unsubscribe</button>" in r.text, "the page has no unsubscribe button", r.text)
            check(purpose_of(policy, "newsletters")["description"] in r.text,
                  "the page does not say what is withdrawn", r.text)
            check("<script" not in r.text.lower(), "the page has a script", r.text)
            for s in (WEB_USER["name"], WEB_USER["email"], sid):
                check(s not in r.text, "the page names %r" % s, r.text)

        # the button, posted as a browser posts the form: withdraws, audited as the
        # subject's own act
        seq = audit_seq(cx.db)
        r = srv.call("POST", link["path"], "", ctype="application/x-www-form-urlencoded")
        expect_status(r, 200, "POST the unsubscribe link")
        check((r.header("content-type") or "").startswith("text/html"), "not HTML", r.describe())
        check("You have unsubscribed" in r.text and "consent is withdrawn" in r.text,
              "the page does not confirm the withdrawal", r.text)
        evs = events_after(cx.db, seq)
        eq([(ev["action"], ev["outcome"], ev["subject"], ev["actor"], ev["via"])
            for ev in evs],
           [("consent.withdraw", "ok", sid, "unsubscribe-link",
             "http POST /v1/unsubscribe/{token}")], "audit events of the unsubscribe")

        refused(srv, cx, "no-consent", "GET", path, crm, "newsletters", action="read",
                subject=sid)
        eq(listed(srv, crm, "newsletters"), [], "the newsletter list after the unsubscribe")

        # single use: again is "already", and changes nothing
        with unchanged(cx, "using the link again"):
            for method in ("POST", "GET"):
                r = srv.call(method, link["path"])
                expect_status(r, 200, "%s the used link" % method)
                check("used already" in r.text, "%s of a used link does not say already" % method,
                      r.text)
                check("<form" not in r.text, "a used link still offers the button", r.text)
        # a link that never existed
        for method in ("GET", "POST"):
            expect_problem(srv.call(method, "/v1/unsubscribe/cuu_" + "Q" * 43), 404,
                           "not-found", "an unknown link")

        # the history: given, then withdrawn through the link
        r = allowed(srv, "GET", path + "/consents", crm)
        eq(r.json()["subject"], sid, "consent history subject")
        hist = r.json()["consents"]
        eq([(c["purpose"], c["state"], c["method"], c["recorded_by"], c["policy_version"])
            for c in hist],
           [("newsletters", "given", "web_form", "token:crm", 1),
            ("newsletters", "withdrawn", "unsubscribe_link", "subject", 1)],
           "the consent history")
        eq((hist[0]["evidence"], hist[1]["evidence"]), ("sign-up form v7, tick box 2", None),
           "evidence in the history")
        check(hist[0]["at"] <= hist[1]["at"], "history not oldest first", hist)
    check("tick box" not in repr(sql(cx.db, "SELECT evidence FROM consents")),
          "consent evidence is stored in clear")
    cx.ok("audit", "verify")


# ---------------------------------------------------------------- refusals

@case("http policy refusals: purpose-not-in-policy, subject-kind-not-covered, "
      "category-not-covered, restricted (not legal claims), objection (absolute for direct "
      "marketing); each one audit event with its rule and nothing else changed")
def t_refusals(ctx):
    cx, st = healthya(ctx)
    web = add_subject(cx, st, "web", WEB_USER, "web_user", "service_contract")
    emp = add_subject(cx, st, "emp", EMPLOYEE, "employee", "employment")
    crm, dpo = tok(st, "crm"), tok(st, "dpo")
    wp, ep = "/v1/subjects/" + web, "/v1/subjects/" + emp
    with Server(cx) as srv:
        allowed(srv, "GET", wp, crm, "service_contract")

        # a purpose the policy does not have (the role's default included)
        refused(srv, cx, "purpose-not-in-policy", "GET", wp, crm, "no_such_purpose",
                action="read", subject=web)
        e = refused(srv, cx, "purpose-not-in-policy", "GET", wp, crm, None, subject=web)
        eq(e["purpose"], "direct_care", "the default purpose of care_admin")
        refused(srv, cx, "purpose-not-in-policy", "GET", "/v1/subjects", crm, "no_such_purpose")
        refused(srv, cx, "purpose-not-in-policy", "POST", "/v1/subjects", crm, "no_such_purpose",
                body={"kind": "web_user", "email": "new.person@example.org"})

        # a purpose that does not cover the subject's kind
        refused(srv, cx, "subject-kind-not-covered", "GET", wp, crm, "employment", subject=web)
        refused(srv, cx, "subject-kind-not-covered", "GET", ep, crm, "newsletters", subject=emp)
        allowed(srv, "GET", ep, crm, "employment")

        # writing a category the purpose does not cover (care_admin may write identifying)
        refused(srv, cx, "category-not-covered", "POST", wp + "/items", crm, "service_contract",
                body={"local_ref": "WEB-000123"}, subject=web)
        refused(srv, cx, "category-not-covered", "POST", "/v1/subjects", crm, "newsletters",
                body={"kind": "web_user", "email": "new.person@example.org",
                      "local_ref": "WEB-000124"})
        # reading under a purpose whose categories the role sees none of
        refused(srv, cx, "category-not-covered", "GET", wp, crm, "website_statistics",
                subject=web)
        allowed(srv, "POST", wp + "/items", crm, "service_contract", status=201,
                body={"phone": "+44 7700 900123"})

        # restriction (Art 18): by a dpo; blocks all but legal claims and the built-in purpose
        seq = audit_seq(cx.db)
        r = allowed(srv, "PUT", wp + "/restriction", dpo, status=204)
        eq(r.body, b"", "body of 204")
        eq([(ev["action"], ev["outcome"], ev["subject"]) for ev in events_after(cx.db, seq)],
           [("restrict", "ok", web)], "audit of a restriction")
        expect_problem(srv.call("PUT", wp + "/restriction", token=dpo), 409, "conflict",
                       "restricting twice")
        expect_problem(srv.call("PUT", wp + "/restriction", token=crm), 403, "forbidden",
                       "a care_admin restricting")
        refused(srv, cx, "restricted", "GET", wp, crm, "service_contract", subject=web)
        refused(srv, cx, "restricted", "GET", wp, crm, "website_improvement", subject=web)
        check(web not in listed(srv, crm, "service_contract"), "a restricted subject listed")
        allowed(srv, "GET", wp, dpo)  # subject_rights, the dpo's default
        rights = allowed(srv, "GET", wp + "/rights", dpo).json()
        check(rights["restricted_at"] is not None, "rights do not show the restriction", rights)
        allowed(srv, "PUT", ep + "/restriction", dpo, status=204)
        refused(srv, cx, "restricted", "GET", ep, crm, "employment", subject=emp)
        allowed(srv, "GET", ep, crm, "employment_claims")  # legal claims: Art 18(2)
        allowed(srv, "DELETE", wp + "/restriction", dpo, status=204)
        expect_problem(srv.call("DELETE", wp + "/restriction", token=dpo), 409, "conflict",
                       "lifting a restriction twice")
        allowed(srv, "GET", wp, crm, "service_contract")
        eq(allowed(srv, "GET", wp + "/rights", dpo).json()["restricted_at"], None,
           "restricted_at after lifting")

        # objection (Art 21) to one legitimate-interests purpose
        r = allowed(srv, "POST", wp + "/objections", dpo, body={"purpose": "website_improvement"},
                    status=201)
        eq(r.json(), {"subject": web, "purpose": "website_improvement"}, "objection answer")
        eq(r.header("location"), wp + "/rights", "Location of an objection")
        refused(srv, cx, "objection", "GET", wp, crm, "website_improvement", subject=web)
        allowed(srv, "GET", wp, crm, "fraud_prevention")  # another purpose is not objected to
        allowed(srv, "GET", wp, crm, "service_contract")

        # to all: absolute for direct marketing, even with consent; not for a contract
        allowed(srv, "POST", wp + "/consents", crm, body={"purpose": "newsletters",
                                                         "method": "staff"}, status=201)
        allowed(srv, "GET", wp, crm, "newsletters")
        r = allowed(srv, "POST", wp + "/objections", dpo, body={"purpose": "all"}, status=201)
        eq(r.json()["purpose"], "all", "objection to all")
        refused(srv, cx, "objection", "GET", wp, crm, "newsletters", subject=web)
        refused(srv, cx, "objection", "GET", wp, crm, "fraud_prevention", subject=web)
        allowed(srv, "GET", wp, crm, "service_contract")
        check(web not in listed(srv, crm, "newsletters"), "an objector on the newsletter list")
        objs = allowed(srv, "GET", wp + "/rights", dpo).json()["objections"]
        eq([(o["purpose"], o["recorded_by"], o["lifted_at"]) for o in objs],
           [("website_improvement", "token:dpo", None), ("all", "token:dpo", None)],
           "objections in the rights")
        allowed(srv, "DELETE", wp + "/objections/all", dpo, status=204)
        allowed(srv, "GET", wp, crm, "newsletters")
        refused(srv, cx, "objection", "GET", wp, crm, "website_improvement", subject=web)
        allowed(srv, "DELETE", wp + "/objections/website_improvement", dpo, status=204)
        expect_problem(srv.call("DELETE", wp + "/objections/website_improvement", token=dpo),
                       409, "conflict", "lifting an objection twice")
        allowed(srv, "GET", wp, crm, "website_improvement")
        objs = allowed(srv, "GET", wp + "/rights", dpo).json()["objections"]
        check(all(o["lifted_at"] and o["lifted_by"] == "token:dpo" for o in objs),
              "lifted objections not shown as lifted", objs)

        # restriction with consent: the consented purpose only (Art 18(2))
        allowed(srv, "PUT", wp + "/restriction", dpo, status=204)
        allowed(srv, "GET", wp, crm, "newsletters")
        refused(srv, cx, "restricted", "GET", wp, crm, "service_contract", subject=web)
    cx.ok("audit", "verify")


# ---------------------------------------------------------------- the notice

@case("http notice: GET /v1/controllers/{id}/notice without sign-in, HTML (with a "
      "Content-Security-Policy) or Markdown; an unknown controller 404, a bad format 400; "
      "not audited")
def t_notice(ctx):
    cx, st = healthya(ctx)
    ctl = st.controllers["H"]
    policy = load_policy()
    base = "/v1/controllers/%s/notice" % ctl
    n_audit = audit_count(cx.db)
    with Server(cx) as srv:
        for path in (base, base + "?format=html"):
            r = srv.call("GET", path)
            expect_status(r, 200, "GET " + path)
            eq(r.header("content-type"), "text/html; charset=utf-8", "type of " + path)
            csp = r.header("content-security-policy") or ""
            check("default-src 'self'" in csp and "frame-ancestors 'none'" in csp,
                  "no strict Content-Security-Policy on the HTML notice", r.headers)
            check(r.text.startswith("<!DOCTYPE html>"), "not an HTML page", r.text[:200])
            check("<script" not in r.text.lower(), "the notice has a script")
        html = r.text
        r = srv.call("GET", base + "?format=md")
        expect_status(r, 200, "the Markdown notice")
        eq(r.header("content-type"), "text/markdown; charset=utf-8", "type of the md notice")
        md = r.text
        check(md.startswith("# Privacy notice"), "the md notice does not start with its title",
              md[:200])
        check("Version 1" in md, "the md notice does not show its version", md[:600])
        for text in (md, html):
            check(policy["controller"]["ico_registration"] in text,
                  "the notice has no ICO registration")
            for pid in ("newsletters", "service_contract"):
                desc = purpose_of(policy, pid)["description"]
                check(desc in text, "the notice does not describe the purpose %s" % pid)
        # a bearer token is neither needed nor checked
        r = srv.call("GET", base, token="cus_not-a-real-token")
        expect_status(r, 200, "the notice with a bogus token")
        # refusals
        expect_problem(srv.call("GET", "/v1/controllers/%s/notice" % random_id()), 404,
                       "not-found", "an unknown controller")
        expect_problem(srv.call("GET", base + "?format=pdf"), 400, "invalid-input",
                       "an unknown format")
        expect_problem(srv.call("GET", base + "?lang=cy"), 400, "invalid-input",
                       "an unknown query parameter")
        expect_problem(srv.call("POST", base), 405, "method-not-allowed", "POST to the notice")
    eq(audit_count(cx.db), n_audit, "audit events after reading the public notice")


# ---------------------------------------------------------------- the policy

@case("http policy: GET/PUT /v1/policy, check, versions, record of processing; an invalid "
      "policy lists findings by JSON path and applies nothing; a removed purpose is refused "
      "at once; only dpo and admin change it")
def t_policy(ctx):
    cx, st = healthya(ctx)
    ctl = st.controllers["H"]
    st.user("dora.dpo", "H", "dpo")  # a staff dpo: signs in with a one-time code
    st.token("ward", "H", "clinician")
    web = add_subject(cx, st, "web", WEB_USER, "web_user", "service_contract")
    original = load_policy()
    crm, clin = tok(st, "crm"), tok(st, "ward")
    with Server(cx) as srv:
        dora = st.signin(srv, "dora.dpo")
        r = allowed(srv, "GET", "/v1/policy", dora)
        p1 = r.json()
        eq((p1["controller"], p1["version"]), (ctl, 1), "the applied policy")
        check(len(p1["digest"]) == 64, "the digest is not 64 hex digits", p1)
        eq([p["id"] for p in p1["policy"]["purposes"]], [p["id"] for p in original["purposes"]],
           "purposes of the applied policy")
        # policies are public documents: any role of the controller reads it
        eq(allowed(srv, "GET", "/v1/policy", clin).json()["version"], 1, "version for a "
                                                                          "clinician")
        versions = allowed(srv, "GET", "/v1/policy/versions", dora).json()["versions"]
        eq([(v["version"], v["applied_by"]) for v in versions], [(1, "root")], "versions")

        # an invalid policy: every finding by path, nothing applied
        bad = copy.deepcopy(original)
        i = [p["id"] for p in bad["purposes"]].index("newsletters")
        bad["purposes"][i]["required_for_service"] = True
        bad["purposes"][i]["categories"].append("genetic")
        want = {("$.purposes[%d].required_for_service" % i, "consent-required-for-service"),
                ("$.purposes[%d].categories[1]" % i, "category-not-collected"),
                ("$.purposes[%d].categories[1]" % i, "special-category-without-condition")}
        before = data_dump(cx.db)
        r = srv.call("PUT", "/v1/policy", bad, token=dora)
        j = expect_problem(r, 400, "invalid-input", "PUT an invalid policy")
        check(j.get("detail", "").startswith("policy: $."), "the detail names no path", j)
        findings = j.get("findings")
        check(isinstance(findings, list) and findings, "no findings array", j)
        got = {(f["path"], f["rule"]) for f in findings}
        check(want <= got, "findings missing", sorted(want - got), findings)
        check(all(f["message"] for f in findings), "findings without a message", findings)
        # the errors, and the profile's placeholders as warnings
        eq(sorted((f["path"], f["rule"]) for f in findings if f["severity"] != "error"),
           sorted([("$.controller.ico_registration", "placeholder"),
                   ("$.retention[3].legal_source", "placeholder"), ("$.changes", "placeholder")]),
           "the warnings among the findings")
        eq({f["severity"] for f in findings if f["rule"] != "placeholder"}, {"error"},
           "severity of the other findings")
        eq(data_dump(cx.db), before, "the store after an invalid PUT")
        eq(allowed(srv, "GET", "/v1/policy", dora).json()["version"], 1,
           "the version after an invalid PUT")
        r = srv.call("PUT", "/v1/policy", "{\"format\": ", token=dora)
        j = expect_problem(r, 400, "invalid-input", "PUT malformed JSON")
        eq([f["rule"] for f in j["findings"]], ["malformed-json"], "findings of malformed JSON")
        # the same through the dry run: 200 with the report, nothing applied
        r = allowed(srv, "POST", "/v1/policy/check", dora, body=bad)
        rep = r.json()
        eq((rep["valid"], rep["errors"], rep["warnings"]),
           (False, len(findings) - 3, 3), "check of the invalid policy")
        eq({(f["path"], f["rule"]) for f in rep["findings"]}, got, "check findings = PUT's")
        rep = allowed(srv, "POST", "/v1/policy/check", dora, body=original).json()
        eq((rep["valid"], rep["errors"]), (True, 0), "check of the profile")
        eq([(f["severity"], f["path"], f["rule"]) for f in rep["findings"]],
           [("warning", "$.controller.ico_registration", "placeholder"),
            ("warning", "$.retention[3].legal_source", "placeholder"),
            ("warning", "$.changes", "placeholder")],
           "findings of the profile: its placeholders")
        eq(data_dump(cx.db), before, "the store after the dry runs")

        # a changed policy: version 2; a removed purpose is refused at once
        allowed(srv, "GET", "/v1/subjects/" + web, crm, "website_improvement")
        changed = copy.deepcopy(original)
        changed["purposes"] = [p for p in changed["purposes"] if p["id"] != "website_improvement"]
        seq = audit_seq(cx.db)
        r = allowed(srv, "PUT", "/v1/policy", dora, body=changed)
        eq((r.json()["version"], r.json()["changed"]), (2, True), "PUT a changed policy")
        eq([(e["action"], e["outcome"], e["actor"]) for e in events_after(cx.db, seq)],
           [("policy.apply", "ok", "dora.dpo")], "audit of applying a policy")
        refused(srv, cx, "purpose-not-in-policy", "GET", "/v1/subjects/" + web, crm,
                "website_improvement", subject=web)
        r = allowed(srv, "PUT", "/v1/policy", dora, body=changed)
        eq((r.json()["version"], r.json()["changed"]), (2, False), "PUT the same policy again")
        versions = allowed(srv, "GET", "/v1/policy/versions", dora).json()["versions"]
        eq([(v["version"], v["applied_by"]) for v in versions],
           [(1, "root"), (2, "dora.dpo")], "versions after the change")
        check(versions[0]["digest"] != versions[1]["digest"], "versions with the same digest")
        p2 = allowed(srv, "GET", "/v1/policy", dora).json()
        eq(p2["version"], 2, "the current version")
        check("website_improvement" not in [p["id"] for p in p2["policy"]["purposes"]],
              "the removed purpose is still in the policy")
        md = srv.call("GET", "/v1/controllers/%s/notice?format=md" % ctl).text
        check("Version 2" in md, "the notice does not show version 2", md[:600])
        r = allowed(srv, "POST", "/v1/subjects/%s/consents" % web, crm, status=201,
                    body={"purpose": "newsletters", "method": "web_form"})
        eq(r.json()["notice"]["policy_version_seen"], 2, "a consent records the version seen")

        # only dpo and admin change the policy or read the record of processing
        for method, path, body in (("PUT", "/v1/policy", original),
                                   ("GET", "/v1/ropa", None)):
            seq = audit_seq(cx.db)
            r = srv.call(method, path, body, token=clin)
            j = expect_problem(r, 403, "forbidden", "%s %s as a clinician" % (method, path))
            check("role-not-permitted" in j.get("detail", ""), "no rule in the detail", j)
            # a refused apply is audited at the choke point; the record of
            # processing reads nothing about a subject
            eq([(e["action"], e["outcome"], e["rule"]) for e in events_after(cx.db, seq)],
               [("policy.apply", "denied", "role-not-permitted")] if method == "PUT" else [],
               "audit of a clinician's %s %s" % (method, path))
        eq(allowed(srv, "GET", "/v1/policy", dora).json()["version"], 2,
           "the version after a clinician's PUT")

        # the record of processing (Art 30)
        for path in ("/v1/ropa", "/v1/ropa?format=json"):
            r = allowed(srv, "GET", path, dora)
            eq(r.header("content-type"), "application/json", "type of " + path)
            ropa = r.json()
            eq(ropa["format"], "custos-ropa/1", "ropa format")
            c0 = ropa["controllers"][0]
            eq((c0["controller_id"], c0["policy_version"]), (ctl, 2), "ropa controller")
            ids = [p["id"] for p in c0["controller_form"]["purposes"]]
            check("newsletters" in ids and "website_improvement" not in ids,
                  "ropa purposes are not the current policy's", ids)
        r = allowed(srv, "GET", "/v1/ropa?format=csv", dora)
        eq(r.header("content-type"), "text/csv; charset=utf-8", "type of the csv record")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        check(rows and rows[0]["form"] == "controller" and rows[0]["controller_id"] == ctl,
              "the csv record has no controller rows", r.text[:500])
        purposes = {row["purpose_id"] for row in rows}
        check("newsletters" in purposes and "website_improvement" not in purposes,
              "csv purposes are not the current policy's", sorted(purposes))
        expect_problem(srv.call("GET", "/v1/ropa?format=xml", token=dora), 400,
                       "invalid-input", "an unknown ropa format")
    cx.ok("audit", "verify")
