"""Policy as code through the CLI: checking and applying policies, versions,
enforcement of purposes (consent, objection, restriction, category, kind),
the generated notice and record of processing, and consent records."""

import csv
import io
import json
import os

from harness import registry, check, eq, snapshot, diff_dumps, Fail, sql, db_bytes
from fixtures import TEST_POLICY, ROOT, new_store, doc, write
from http_client import events_after, audit_seq

CASES, case = registry()

HEALTHYA = os.path.join(ROOT, "profiles", "healthya.json")
THERAPYAUDIT = os.path.join(ROOT, "profiles", "therapyaudit.json")

WEB_USER = {"name": "Ottoline Quarrendon", "email": "ottoline@example.org",
            "items": [{"category": "online_identifier", "field": "ip_address",
                       "value": "198.51.100.23"}]}


def load(path):
    with open(path) as f:
        return json.load(f)


def healthya_store(ctx):
    cx = new_store(ctx)
    ctl = cx.ok("controller", "add", "--name", "healthya", "--policy", HEALTHYA).out.strip()
    sid = cx.ok("--purpose", "service_contract", "subject", "add", "--controller", ctl,
                "--kind", "web_user", stdin=doc(WEB_USER)).out.strip()
    return cx, ctl, sid


def last_event(cx):
    return events_after(cx.db, audit_seq(cx.db) - 1)[0]


def listed(cx, ctl, purpose):
    """The ids of the controller's subjects listed under purpose."""
    return [s["id"] for s in cx.okj("--purpose", purpose, "subject", "list", "--controller",
                                    ctl)["subjects"]]


def refused_with(cx, rule, *args, stdin=b""):
    """A refusal: exit 1 naming the rule, exactly one audit event (denied, with
    the rule), and nothing else changed."""
    before_seq = audit_seq(cx.db)
    before = snapshot(cx)
    cx.fails(1, *args, stdin=stdin, says=rule)
    evs = events_after(cx.db, before_seq)
    eq(len(evs), 1, "audit events for a refusal of %s" % " ".join(args))
    eq(evs[0]["outcome"], "denied", "refusal outcome")
    eq(evs[0]["rule"], rule, "refusal rule")
    after = snapshot(cx)
    rows = lambda dumped: [t for t in dumped if not str(t[0]).startswith("audit")]  # noqa: E731
    if rows(after[0]) != rows(before[0]):
        raise Fail("a refusal changed the store:\n%s" % diff_dumps(before[0], after[0]))


@case("policy check: both shipped profiles are valid; an invalid policy lists every error by "
      "JSON path and exits 1; a collected but unused category is a warning")
def t_policy_check(ctx):
    cx = new_store(ctx)
    for p in (HEALTHYA, THERAPYAUDIT, TEST_POLICY):
        r = cx.ok("policy", "check", p, store=False)
        check("valid: 0 errors" in r.out, "%s is not valid" % p, r.out)
    bad = load(TEST_POLICY)
    bad["purposes"][0]["special_condition"] = None
    del bad["purposes"][0]["special_condition"]          # health without an Art 9 condition
    bad["purposes"][2]["consent_required"] = True        # consent-based ...
    bad["purposes"][2]["basis"] = "a"                    # ... marked required for the service
    bad["controller"]["public_authority"] = True
    bad["purposes"][1]["basis"] = "f"                    # public authority on 6(1)(f)
    path = write(ctx, "bad-policy.json", bad)
    r = cx.run("--json", "policy", "check", path, store=False)
    eq(r.rc, 1, "exit status of an invalid policy")
    j = r.json()
    eq(j["valid"], False, "valid")
    paths = [f["path"] for f in j["findings"] if f["severity"] == "error"]
    check(len(paths) >= 3, "every error listed", j)
    for p in ("$.purposes[0]", "$.purposes[2]", "$.purposes[1]"):
        check(any(x.startswith(p) for x in paths), "no error at %s" % p, paths)
    text = cx.run("policy", "check", path, store=False).out
    check("error $.purposes[0]" in text, "text findings name the path", text)
    # a category nobody uses: a data-minimisation warning, still valid
    warn = load(TEST_POLICY)
    for p in warn["purposes"]:
        p["categories"] = [c for c in p["categories"] if c != "genetic"]
    path = write(ctx, "warn-policy.json", warn)
    j = cx.okj("policy", "check", path)
    eq(j["valid"], True, "a warning does not invalidate")
    check(any(f["severity"] == "warning" and "categories" in f["path"] for f in j["findings"]),
          "unused category reported", j)


@case("policy apply: versions; the same policy again changes nothing; an invalid one applies "
      "nothing; a purpose removed in a new version is refused at once")
def t_policy_versions(ctx):
    cx = new_store(ctx)
    ctl = cx.ok("controller", "add", "--name", "Versioned Trust").out.strip()
    # no policy yet: no processing at all
    refused_with(cx, "no-policy", "--purpose", "direct_care", "subject", "add", "--controller",
                 ctl, "--kind", "patient", stdin=doc({"name": "A"}))
    j = cx.okj("policy", "apply", "--controller", ctl, TEST_POLICY)
    eq((j["version"], j["changed"]), (1, True), "first apply")
    j = cx.okj("policy", "apply", "--controller", ctl, TEST_POLICY)
    eq((j["version"], j["changed"]), (1, False), "same policy again")
    sid = cx.ok("--purpose", "reporting", "subject", "add", "--controller", ctl, "--kind",
                "patient", stdin=doc({"items": [{"category": "health", "field": "dx",
                                                 "value": "x"}]})).out.strip()
    cx.ok("--purpose", "reporting", "subject", "show", sid)
    bad = load(TEST_POLICY)
    bad["purposes"][0]["basis"] = "z"
    before = snapshot(cx)
    cx.fails(1, "policy", "apply", "--controller", ctl, write(ctx, "bad.json", bad),
             says="basis")
    eq(snapshot(cx)[0], before[0], "an invalid policy changed the store")
    v2 = load(TEST_POLICY)
    v2["purposes"] = [p for p in v2["purposes"] if p["id"] != "reporting"]
    j = cx.okj("policy", "apply", "--controller", ctl, write(ctx, "v2.json", v2))
    eq((j["version"], j["changed"]), (2, True), "changed policy")
    refused_with(cx, "purpose-not-in-policy", "--purpose", "reporting", "subject", "show", sid)
    hist = cx.okj("policy", "history", "--controller", ctl)["versions"]
    eq([h["version"] for h in hist], [1, 2], "history")
    shown = cx.okj("policy", "show", "--controller", ctl)
    eq([p["id"] for p in shown["purposes"]], [p["id"] for p in v2["purposes"]], "current")
    old = cx.okj("policy", "show", "--controller", ctl, "--version", "1")
    check("reporting" in [p["id"] for p in old["purposes"]], "version 1 kept", old)
    md = cx.ok("notice", "--controller", ctl).out
    check("Version 2" in md, "the notice shows its version", md[:400])


@case("enforcement: consent-based purpose refused without consent, allowed with it, refused "
      "again after withdrawal; listings return only subjects the purpose may be used for")
def t_consent_flow(ctx):
    cx, ctl, sid = healthya_store(ctx)
    refused_with(cx, "no-consent", "--purpose", "newsletters", "subject", "show", sid)
    eq(listed(cx, ctl, "newsletters"), [], "newsletter list before consent")
    r = cx.okj("consent", "give", sid, "newsletters", "--method", "web_form", "--evidence",
               "signup form 7")
    eq(r["state"], "given", "consent given")
    view = cx.okj("--purpose", "newsletters", "subject", "show", sid)
    eq(view["email"], WEB_USER["email"], "email readable for newsletters")
    check(all(i["category"] == "contact" for i in view["items"]),
          "only the purpose's categories are shown", view)
    eq(listed(cx, ctl, "newsletters"), [sid], "newsletter list after consent")
    hist = cx.okj("consent", "show", sid)["consents"]
    eq([(c["purpose"], c["state"], c["method"], c["evidence"]) for c in hist],
       [("newsletters", "given", "web_form", "signup form 7")], "history")
    receipt = cx.okj("consent", "show", sid, "--receipt", hist[0]["id"])
    for k in ("schema", "record_id", "pii_principal_id", "notice", "processing", "parties",
              "events", "state", "withdrawal"):
        check(k in receipt, "receipt lacks %s" % k, receipt)
    eq(receipt["processing"]["legal_basis"], "UK GDPR Article 6(1)(a)", "receipt basis")
    eq(receipt["notice"]["policy_version_seen"], 1, "version seen")
    check("ISO/IEC TS 27560" in receipt["schema"], "receipt schema", receipt)
    # evidence is sealed: not in the database file in plaintext
    check(b"signup form 7" not in db_bytes(cx.db), "consent evidence stored in plaintext")
    link = cx.ok("consent", "link", sid, "newsletters").out.strip()
    check(link.startswith("http://localhost:8080/v1/unsubscribe/cuu_"),
          "unsubscribe link (absolute, the default public URL)", link)
    cx.ok("consent", "withdraw", sid, "newsletters", "--method", "email")
    refused_with(cx, "no-consent", "--purpose", "newsletters", "subject", "show", sid)
    eq(listed(cx, ctl, "newsletters"), [], "newsletter list after withdrawal")
    hist = cx.okj("consent", "show", sid)["consents"]
    eq([c["state"] for c in hist], ["given", "withdrawn"], "full history kept")
    # consent only for consent-based purposes of the policy
    cx.fails(1, "consent", "give", sid, "fraud_prevention", "--method", "web_form",
             says="does not rely on consent")
    cx.fails(1, "consent", "give", sid, "no_such_purpose", "--method", "web_form",
             says="not in the controller's policy")
    cx.fails(1, "consent", "give", sid, "newsletters", "--method", "carrier_pigeon",
             says="method")


@case("enforcement: objection blocks legitimate interests and (absolutely) direct marketing; "
      "restriction blocks all but legal claims, consent and subject_rights; kind and category "
      "rules; each refusal audited with its rule")
def t_objection_restriction(ctx):
    cx, ctl, sid = healthya_store(ctx)
    cx.ok("--purpose", "website_improvement", "subject", "show", sid)
    cx.ok("subject", "object", sid, "website_improvement")
    refused_with(cx, "objection", "--purpose", "website_improvement", "subject", "show", sid)
    rights = cx.okj("subject", "rights", sid)
    eq([o["purpose"] for o in rights["objections"]], ["website_improvement"], "objections")
    cx.ok("subject", "object", sid, "website_improvement", "--lift")
    cx.ok("--purpose", "website_improvement", "subject", "show", sid)
    # direct marketing: an objection wins over consent
    cx.ok("consent", "give", sid, "newsletters", "--method", "web_form")
    cx.ok("--purpose", "newsletters", "subject", "show", sid)
    cx.ok("subject", "object", sid, "all")
    refused_with(cx, "objection", "--purpose", "newsletters", "subject", "show", sid)
    # legal obligation (6(1)(c)) is not subject to objection
    cx.ok("--purpose", "legal_obligations", "subject", "show", sid)
    cx.ok("subject", "object", sid, "all", "--lift")
    # restriction: only storage, legal claims, consent, and the subject's own requests
    cx.ok("subject", "restrict", sid)
    refused_with(cx, "restricted", "--purpose", "website_improvement", "subject", "show", sid)
    cx.ok("--purpose", "newsletters", "subject", "show", sid)  # consented
    cx.ok("--purpose", "subject_rights", "subject", "show", sid)
    eq(cx.okj("subject", "rights", sid)["restricted_at"] is not None, True, "restricted_at")
    cx.fails(1, "subject", "restrict", sid, says="already")
    cx.ok("subject", "restrict", sid, "--lift")
    cx.ok("--purpose", "website_improvement", "subject", "show", sid)
    # kind: employment purposes cover employees only
    refused_with(cx, "subject-kind-not-covered", "--purpose", "employment", "subject", "show",
                 sid)
    # category: newsletters cover contact data only
    refused_with(cx, "category-not-covered", "--purpose", "newsletters", "subject", "add-items",
                 sid, stdin=doc({"items": [{"category": "health", "field": "dx",
                                            "value": "y"}]}))
    # the built-in purpose never collects new data
    refused_with(cx, "rights-purpose-not-permitted", "--purpose", "subject_rights", "subject",
                 "add", "--controller", ctl, "--kind", "web_user",
                 stdin=doc({"name": "New Person"}))
    shown = cx.ok("--json", "audit", "show", "--subject", sid).json_lines()
    rules = [e.get("rule") for e in shown if e.get("outcome") == "denied"]
    check("objection" in rules and "restricted" in rules, "audit show lists rules", rules)


@case("notice and ropa: generated from the applied policies (md, html, json, csv); a draft "
      "file renders before it is applied; unknown controller and bad format refused")
def t_notice_ropa(ctx):
    cx = new_store(ctx)
    a = cx.ok("controller", "add", "--name", "healthya", "--policy", HEALTHYA).out.strip()
    b = cx.ok("controller", "add", "--name", "TherapyAudit", "--policy",
              THERAPYAUDIT).out.strip()
    md = cx.ok("notice", "--controller", a, "--format", "md").out
    for s in ("ADDVantage Technologies Ltd", "10592069", "Information Commissioner",
              "one month", "7 years"):
        check(s in md, "notice lacks %r" % s, md[:300])
    html = cx.ok("notice", "--controller", b, "--format", "html").out
    check(html.lstrip().lower().startswith("<!doctype html>"), "html notice", html[:80])
    check("<script" not in html.lower(), "no scripts in the notice")
    check("8 years" in html, "therapyaudit retention in the notice")
    draft = cx.ok("notice", "--file", THERAPYAUDIT, store=False).out
    check("Draft" in draft, "a draft says so", draft[:300])
    cx.fails(1, "notice", "--controller", "0badc0de-0000-4000-8000-00000000beef",
             says="no policy")
    cx.fails(2, "notice", "--controller", a, "--format", "pdf")
    ropa = cx.okj("ropa")
    ids = [c["controller_id"] for c in ropa["controllers"]]
    eq(sorted(ids), sorted([a, b]), "ropa covers every controller with a policy")
    for c in ropa["controllers"]:
        for k in ("controller_form",):
            check(k in c, "ropa entry lacks %s" % k, c)
    out = cx.ok("ropa", "--format", "csv").out
    rows = list(csv.reader(io.StringIO(out)))
    check(len(rows) > 10 and len({len(r) for r in rows}) == 1, "csv rows", rows[:2])
    one = cx.okj("ropa", "--controller", a)
    eq([c["controller_id"] for c in one["controllers"]], [a], "ropa --controller")
