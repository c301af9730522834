"""Subject access packages (JSON, HTML letter, FHIR R4 Bundle), withholding
under the serious-harm exemption, portability and its transmission, and the
disclosure log, through the CLI and over HTTP. Runs under the shipped
therapyaudit profile (profiles/therapyaudit.json).

FHIR Bundles are validated against the official FHIR R4 JSON schema, which
scripts/fhir-schema.sh puts at BUILD_DIR/fhir/fhir.schema.json (make test runs
it); CUSTOS_FHIR_SCHEMA names another copy. Without the schema or Python's
jsonschema module the validation cases fail: they never pass silently."""

import json
import os
import stat
import time

from harness import registry, check, eq, sql, diff_dumps, Fail, db_bytes
from fixtures import ROOT, sql_value
from browser import run_chromium
from http_client import (Server, Staff, expect_status, expect_problem, audit_seq,
                         events_after, stable_dump)

CASES, case = registry()

PROFILE = os.path.join(ROOT, "profiles", "therapyaudit.json")

ANN = {"name": "Ann <b>Oakhurst</b> & Co", "birth_date": "1970-01-31",
       "nhs_number": "999 000 0018", "email": "ann.oakhurst@example.org",
       "phone": "07700 900123", "address": "1 Quillfeather Row, Lintwhite",
       "postcode": "LW1 2QR", "local_ref": "TA-4471",
       "items": [{"category": "health", "field": "phq9_total", "value": "14",
                  "source": "nhs_organisation", "collected_at": "2026-03-01"},
                 {"category": "health", "field": "clinical_note",
                  "value": "Ruminates about the Hendricks incident", "source": "staff"},
                 {"category": "family", "field": "next_of_kin",
                  "value": "Bertram Oakhurst", "source": "subject"}]}
BOB = {"name": "Bob Vantablack-Pyle", "birth_date": "1981-07-04",
       "nhs_number": "999 000 0026", "email": "bob.pyle@example.net",
       "items": [{"category": "health", "field": "phq9_total", "value": "zebra-27",
                  "source": "nhs_organisation"}]}
BOB_VALUES = ["Vantablack", "bob.pyle@example.net", "9990000026", "zebra-27", "1981-07-04"]


def store(ctx):
    """One controller under the therapyaudit profile, subjects Ann and Bob, a
    dpo token, and a clinician with Ann on their care list."""
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controllers["T"] = cx.ok("controller", "add", "--name", "Therapy Audit Ltd",
                                "--policy", PROFILE).out.strip()
    st.token("dpo", "T", "dpo")
    st.user("clin", "T", "clinician")
    st.user("clin2", "T", "clinician")
    for label, doc in (("ann", ANN), ("bob", BOB)):
        sid = cx.ok("--purpose", "direct_care", "subject", "add", "--controller",
                    st.controllers["T"], "--kind", "patient",
                    stdin=json.dumps(doc)).out.strip()
        st.subjects[label] = {"id": sid, "controller": st.controllers["T"], "doc": doc}
    st.care("clin", "ann")
    return cx, st


def items_of(cx, sid):
    return {r[0]: (r[1], r[2]) for r in
            sql(cx.db, "SELECT id, field, category FROM items WHERE subject_id = ?", (sid,))}


def item_id(cx, sid, field):
    return [i for i, (f, _) in items_of(cx, sid).items() if f == field][0]


def fhir_validator(binary):
    path = os.environ.get("CUSTOS_FHIR_SCHEMA") or os.path.join(
        os.path.dirname(binary), "fhir", "fhir.schema.json")
    check(os.path.isfile(path), "no FHIR R4 schema at %s: run scripts/fhir-schema.sh BUILD_DIR "
                                "(make test does)" % path)
    try:
        import jsonschema
    except ImportError:
        raise AssertionError("Python's jsonschema module is missing "
                             "(Debian: python3-jsonschema)")
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    eq(schema.get("id"), "http://hl7.org/fhir/json-schema/4.0", "the schema's id")
    return jsonschema, schema


def validate_fhir(cx, bundle):
    """The whole Bundle against the R4 schema, then each resource against its
    own definition (for a message that names the resource)."""
    jsonschema, schema = fhir_validator(cx.binary)
    for e in bundle.get("entry", []):
        res = e["resource"]
        sub = {"$ref": "#/definitions/" + res["resourceType"],
               "definitions": schema["definitions"]}
        errs = list(jsonschema.Draft6Validator(sub).iter_errors(res))
        check(not errs, "%s %s does not validate: %s" % (
            res["resourceType"], res.get("id"),
            "; ".join("%s: %s" % (list(x.absolute_path), x.message[:200]) for x in errs[:3])))
    errs = list(jsonschema.Draft6Validator(schema).iter_errors(bundle))
    check(not errs, "the Bundle does not validate against the FHIR R4 schema: %s" %
          "; ".join(x.message[:300] for x in errs[:3]))


def sar(cx, sid, fmt, *extra):
    return cx.ok("sar", sid, "--format", fmt, *extra).out


# ---------------------------------------------------------------- access package

@case("sar completeness: every stored item of the subject appears decrypted in the JSON, "
      "HTML and FHIR packages; nothing of another subject appears; one export event each")
def t_sar_complete(ctx):
    cx, st = store(ctx)
    ann, bob = st.subjects["ann"]["id"], st.subjects["bob"]["id"]
    cx.ok("--purpose", "direct_care", "subject", "add-items", ann, stdin=json.dumps(
        {"items": [{"category": "health", "field": "gad7_total", "value": "9"}]}))
    shown = cx.okj("--purpose", "direct_care", "subject", "show", ann)
    stored = items_of(cx, ann)
    seq = audit_seq(cx.db)
    j = json.loads(sar(cx, ann, "json"))
    eq(j["format"], "custos-access-package/1", "format")
    eq(j["subject"]["id"], ann, "subject id")
    eq(sorted(i["id"] for i in j["items"]), sorted(stored), "items in the package vs the store")
    values = {i["field"]: i["value"] for i in j["items"]}
    for f in ("name", "email", "address", "postcode", "local_ref", "birth_date"):
        eq(values[f], shown[f], "value of " + f)
    eq(values["nhs_number"], "9990000018", "NHS number")
    eq(values["gad7_total"], "9", "an item added later")
    eq(values["next_of_kin"], "Bertram Oakhurst", "family item")
    for i in j["items"]:
        check(i["source"] and i["collected_at"], "item without source or time", i)
    evs = events_after(cx.db, seq)
    eq([(e["action"], e["outcome"], e["purpose"], e["subject"]) for e in evs],
       [("export", "ok", "subject_rights", ann)], "audit events of one package")
    check(len(j["access_log"]) >= 3, "the access log lists the earlier events", j["access_log"])
    check(all("actor" not in e for e in j["access_log"]), "the access log names staff")
    html = sar(cx, ann, "html")
    fhir = sar(cx, ann, "fhir")
    for out, what in ((json.dumps(j), "json"), (html, "html"), (fhir, "fhir")):
        for v in BOB_VALUES + [bob]:
            check(v not in out, "the %s package of Ann holds Bob's %s" % (what, v))
    for v in ("Bertram Oakhurst", "Hendricks incident", "ann.oakhurst@example.org",
              "Quillfeather"):
        check(v in html, "the letter lacks " + v)
    b = json.loads(fhir)
    obs = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Observation"]
    eq(sorted(o["id"] for o in obs),
       sorted(i for i, (f, _) in stored.items() if f not in
              ("name", "birth_date", "address", "postcode", "email", "phone", "nhs_number",
               "local_ref")), "Observations are the non-demographic items")


@case("sar FHIR Bundle validates against the official FHIR R4 JSON schema: Patient with the "
      "NHS number system, Observations, Consent per record, AuditEvents, Provenance")
def t_sar_fhir_valid(ctx):
    cx, st = store(ctx)
    ann = st.subjects["ann"]["id"]
    r = cx.run("--purpose", "direct_care", "consent", "give", ann, "stakeholder_engagement",
               "--method", "web_form", "--evidence", "form 12")
    check(r.rc == 0, "consent give failed", r.describe())
    cx.ok("--purpose", "direct_care", "consent", "withdraw", ann, "stakeholder_engagement",
          "--method", "email")
    b = json.loads(sar(cx, ann, "fhir"))
    validate_fhir(cx, b)
    eq((b["resourceType"], b["type"]), ("Bundle", "collection"), "bundle type")
    kinds = [e["resource"]["resourceType"] for e in b["entry"]]
    for k in ("Patient", "Observation", "Consent", "AuditEvent", "Provenance"):
        check(k in kinds, "the Bundle has no " + k, kinds)
    eq(kinds.count("Consent"), 2, "one Consent per consent record")
    p = b["entry"][0]["resource"]
    eq(p["resourceType"], "Patient", "first entry")
    eq([i for i in p["identifier"] if i["system"] == "https://fhir.nhs.uk/Id/nhs-number"],
       [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}],
       "NHS number identifier")
    eq(p["birthDate"], "1970-01-31", "birthDate")
    eq(p["name"], [{"text": ANN["name"]}], "name")
    eq(sorted(t["system"] for t in p["telecom"]), ["email", "phone"], "telecom")
    eq(p["address"][0]["postalCode"], "LW1 2QR", "postcode")
    prov = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Provenance"]
    eq(len(prov), len(items_of(cx, ann)), "one Provenance per item")
    # the portability export validates too
    validate_fhir(cx, json.loads(cx.ok("sar", ann, "--portable", "--format", "fhir").out))


@case("sar HTML letter: self-contained, escaped, no scripts; states purposes, lawful bases, "
      "sources, recipients, disclosures, retention, automated decisions, rights, the ICO and "
      "the access log by role")
def t_sar_letter(ctx):
    cx, st = store(ctx)
    ann = st.subjects["ann"]["id"]
    cx.ok("--purpose", "direct_care", "disclose", ann, "--organisation", "Lintwhite Surgery",
          "--basis", "e", "--channel", "letter", "--categories", "health")
    html = sar(cx, ann, "html")
    check(html.startswith("<!DOCTYPE html>"), "not a complete page")
    low = html.lower()
    for bad in ("<script", "<link", "src=", "javascript:", "<b>oakhurst"):
        check(bad not in low, "the letter contains " + bad)
    check("Ann &lt;b&gt;Oakhurst&lt;/b&gt; &amp; Co" in html, "the name is not escaped")
    for text in ("Article 6(1)(e)", "Public task", "Where it came from", "An NHS organisation",
                 "Lintwhite Surgery", "Who has accessed your record", "operator",
                 "Information Commissioner", "0303 123 1113", "Automated decision-making",
                 "Kept for", "Your rights", "Disclosures of your data"):
        check(text in html, "the letter does not say " + text)


@case("sar withholding: a clinician with the subject on their care list withholds an item "
      "with a reason (POST); the letter lists it as withheld without its value; the reason is "
      "sealed in the one audit event; the dpo cannot withhold; an unknown item changes nothing")
def t_sar_withhold(ctx):
    cx, st = store(ctx)
    ann, bob = st.subjects["ann"]["id"], st.subjects["bob"]["id"]
    note = item_id(cx, ann, "clinical_note")
    reason = "Disclosure would likely cause serious harm (Dr Quince, 2026-11-02)"
    with Server(cx) as srv:
        clin = st.signin(srv, "clin")
        seq = audit_seq(cx.db)
        r = srv.call("POST", "/v1/subjects/%s/sar" % ann,
                     {"format": "html", "withhold": [{"item": note, "reason": reason}]},
                     token=clin)
        expect_status(r, 200, "withholding by the clinician")
        check(r.header("content-type").startswith("text/html"), "content type", r.describe())
        check("Hendricks" not in r.text, "the withheld value is in the letter")
        check("Clinical note" in r.text and "clinical_note" not in r.text and
              "Schedule 3" in r.text,
              "the letter does not state the withheld item and the exemption")
        evs = events_after(cx.db, seq)
        eq([(e["action"], e["outcome"]) for e in evs], [("export", "ok")], "one export event")
        check(len(evs[0]["payload"]) > 0, "no sealed withholding record in the event")
        check(reason.encode() not in bytes(evs[0]["payload"]), "the reason is in clear")
        raw = db_bytes(cx.db)
        check(reason.encode() not in raw, "the reason is stored in clear")
        r = srv.call("POST", "/v1/subjects/%s/sar" % ann,
                     {"format": "json", "withhold": [{"item": note, "reason": reason}]},
                     token=clin)
        j = r.json()
        eq([w["id"] for w in j["withheld"]], [note], "withheld list")
        check(note not in [i["id"] for i in j["items"]], "withheld item in items")
        # the dpo may not withhold
        seq = audit_seq(cx.db)
        r = srv.call("POST", "/v1/subjects/%s/sar" % ann,
                     {"withhold": [{"item": note, "reason": reason}]},
                     token=st.tokens["dpo"]["token"])
        expect_problem(r, 403, "forbidden", "withholding by the dpo")
        eq([(e["outcome"], e["rule"]) for e in events_after(cx.db, seq)],
           [("denied", "withholding-needs-clinician")], "the refusal's event")
        # a clinician without the subject on the care list: refused
        clin2 = st.signin(srv, "clin2")
        r = srv.call("POST", "/v1/subjects/%s/sar" % ann, {"format": "json"}, token=clin2)
        expect_problem(r, 403, None, "a clinician without a care relationship")
        # an item of another subject, a bad body: 400 and nothing but the audit
        before = [(n, rows) for n, rows in stable_dump(cx.db) if not n.startswith("audit")]
        for body, says in (({"withhold": [{"item": item_id(cx, bob, "phq9_total"),
                                           "reason": "x"}]}, "no item"),
                           ({"withhold": [{"item": note}]}, "reason"),
                           ({"format": "pdf"}, "format"),
                           ({"withhold": "all"}, "array"),
                           ({"withhold": [{"item": note, "reason": "a\nb"}]}, "control")):
            r = srv.call("POST", "/v1/subjects/%s/sar" % ann, body, token=clin)
            j = expect_problem(r, 400, None, "bad body %r" % (body,))
            check(says in j.get("detail", ""), "the detail does not say %s" % says, r.describe())
            check("\n" not in j.get("detail", ""), "a multi-line detail")
        after = [(n, rows) for n, rows in stable_dump(cx.db) if not n.startswith("audit")]
        check(before == after, "a refused package changed the store", diff_dumps(before, after))
    # the CLI: --withhold ITEM=REASON
    out = cx.ok("sar", ann, "--format", "html", "--withhold", "%s=%s" % (note, reason)).out
    check("Hendricks" not in out and "Clinical note" in out, "CLI withholding")
    r = cx.run("sar", ann, "--withhold", "nonsense")
    eq(r.rc, 2, "exit status of a bad --withhold")


@case("sar over HTTP: GET by the dpo in json, html and fhir (validates); 400 for a bad format; "
      "404 for an unknown subject; refused for roles without export")
def t_sar_http(ctx):
    cx, st = store(ctx)
    ann = st.subjects["ann"]["id"]
    dpo = st.tokens["dpo"]["token"]
    st.token("crm", "T", "care_admin")
    with Server(cx) as srv:
        for fmt, ctype in (("json", "application/json"), ("html", "text/html"),
                           ("fhir", "application/fhir+json")):
            r = srv.call("GET", "/v1/subjects/%s/sar?format=%s" % (ann, fmt), token=dpo)
            expect_status(r, 200, "sar " + fmt)
            check(r.header("content-type").startswith(ctype), "content type of " + fmt,
                  r.describe())
            check("ann.oakhurst@example.org" in r.text, "the email is missing from " + fmt)
        validate_fhir(cx, r.json())
        r = srv.call("GET", "/v1/subjects/%s/sar?format=pdf" % ann, token=dpo)
        expect_problem(r, 400, None, "bad format")
        r = srv.call("GET", "/v1/subjects/7d4b2f0e-1111-4111-8111-111111111111/sar",
                     token=dpo)
        expect_problem(r, 404, None, "unknown subject")
        r = srv.call("GET", "/v1/subjects/%s/sar" % ann, token=st.tokens["crm"]["token"])
        expect_problem(r, 403, None, "care_admin")


# ---------------------------------------------------------------- portability

@case("portability: only data the subject provided under consent or contract; transmission to "
      "a recipient writes the FHIR Bundle (0600) and records a disclosure in the same "
      "operation; an existing file is refused and nothing is recorded")
def t_portability(ctx):
    cx, st = store(ctx)
    ann = st.subjects["ann"]["id"]
    j = json.loads(cx.ok("sar", ann, "--portable").out)
    eq(j["format"], "custos-portability/1", "format")
    # therapyaudit: stakeholder_engagement (consent) covers contact data of patients
    got = sorted(i["field"] for i in j["items"])
    eq(got, ["address", "email", "name", "phone", "postcode"],
       "portable items: contact data the subject gave")
    check(j["items_not_portable"] >= 5, "items left out are counted", j)
    for v in ("Hendricks", "9990000018", "Bertram"):
        check(v not in json.dumps(j), "a non-portable value was exported: " + v)
    out = os.path.join(os.path.dirname(cx.store), "to-gp.fhir.json")
    seq = audit_seq(cx.db)
    cx.ok("sar", ann, "--portable", "--format", "fhir", "--recipient", "nhs_organisations",
          "--out", out)
    eq(stat.S_IMODE(os.stat(out).st_mode), 0o600, "mode of the transmitted file")
    validate_fhir(cx, json.load(open(out, encoding="utf-8")))
    evs = events_after(cx.db, seq)
    eq([(e["action"], e["outcome"]) for e in evs], [("export", "ok")], "one operation")
    d = cx.okj("disclosures", ann)
    eq((d["recipient_id"], d["basis"], d["channel"], d["purpose"]),
       ("nhs_organisations", "c", "file", "subject_rights"), "the transmission's disclosure")
    eq(sorted(d["items"].split(",")), sorted(i["id"] for i in j["items"]),
       "the disclosure names the items sent")
    # again to the same path: refused, nothing recorded
    n = sql_value(cx.db, "SELECT count(*) FROM disclosures")
    r = cx.run("sar", ann, "--portable", "--format", "fhir", "--recipient",
               "nhs_organisations", "--out", out)
    check(r.rc != 0, "an existing file was overwritten")
    eq(sql_value(cx.db, "SELECT count(*) FROM disclosures"), n, "disclosures after a failure")
    check("\n" not in r.err.strip(), "a multi-line error", r.err)
    r = cx.run("sar", ann, "--portable", "--format", "html")
    eq(r.rc, 2, "html is not a portability format")
    r = cx.run("sar", ann, "--recipient", "nhs_organisations", "--out", out + "2")
    eq(r.rc, 2, "a recipient without --portable")


# ---------------------------------------------------------------- disclosures

@case("disclosure log: CLI disclose by policy recipient and by named organisation (sealed), "
      "HTTP POST/GET; listed in the access package; bad input refused with one line and "
      "nothing written")
def t_disclosures(ctx):
    cx, st = store(ctx)
    ann = st.subjects["ann"]["id"]
    phq = item_id(cx, ann, "phq9_total")
    d1 = cx.ok("--purpose", "direct_care", "disclose", ann, "--recipient", "nhs_organisations",
               "--basis", "e", "--channel", "letter", "--items", phq, "--at",
               "2026-10-01").out.strip()
    d2 = cx.ok("--purpose", "direct_care", "disclose", ann, "--organisation",
               "Gorsemoor Medical Centre", "--basis", "e", "--channel", "email",
               "--categories", "health,contact", "--note", "referral letter").out.strip()
    raw = db_bytes(cx.db)
    for secret in (b"Gorsemoor", b"referral letter"):
        check(secret not in raw, "a disclosure's %r is stored in clear" % secret)
    before = stable_dump(cx.db)
    for args, says in ((["--recipient", "nobody", "--basis", "e", "--channel", "letter",
                         "--categories", "health"], "no recipient nobody"),
                       (["--recipient", "nhs_organisations", "--basis", "e", "--channel",
                         "pigeon", "--categories", "health"], "channel"),
                       (["--recipient", "nhs_organisations", "--basis", "e", "--channel",
                         "letter", "--items", st.subjects["bob"]["id"]], "no item"),
                       (["--recipient", "nhs_organisations", "--basis", "e", "--channel",
                         "letter", "--categories", "health", "--at", "2099-01-01"], "future")):
        r = cx.run("--purpose", "direct_care", "disclose", ann, *args)
        eq(r.rc, 1, "exit status for %s" % says)
        check(says in r.err and r.err.count("\n") == 1, "the error does not say %s" % says,
              r.err)
    after = stable_dump(cx.db)
    data = lambda d: [(n, rows) for n, rows in d if not n.startswith("audit")]  # noqa: E731
    check(data(before) == data(after), "a refused disclosure changed the store",
          diff_dumps(data(before), data(after)))
    r = cx.run("disclose", ann, "--basis", "e")
    eq(r.rc, 2, "usage error")
    lines = cx.ok("--json", "disclosures", ann).json_lines()
    eq([l["id"] for l in lines], [d1, d2], "disclosures listed oldest first")
    eq(lines[1]["organisation"], "Gorsemoor Medical Centre", "the organisation, decrypted")
    eq(lines[0]["disclosed_at"], "2026-10-01T00:00:00.000000Z", "disclosed_at")
    j = json.loads(sar(cx, ann, "json"))
    eq([d["id"] for d in j["disclosures"]], [d1, d2], "disclosures in the package")
    with Server(cx) as srv:
        dpo = st.tokens["dpo"]["token"]
        path = "/v1/subjects/%s/disclosures" % ann
        r = srv.call("POST", path, {"organisation": "Brackenfield Hospice", "basis": "d",
                                    "channel": "phone", "categories": ["health"]},
                     token=dpo, headers={"Custos-Purpose": "direct_care"})
        expect_status(r, 201, "POST disclosure")
        new = r.json()["id"]
        r = srv.call("POST", path, {"organisation": "X", "recipient_id": "nhs_organisations",
                                    "basis": "d", "channel": "phone",
                                    "categories": ["health"]}, token=dpo)
        expect_problem(r, 400, None, "two recipients")
        r = srv.call("POST", path, {"organisation": "X", "basis": "z", "channel": "phone",
                                    "categories": ["health"]}, token=dpo)
        expect_problem(r, 400, None, "bad basis")
        r = srv.call("GET", path, token=dpo)
        expect_status(r, 200, "GET disclosures")
        got = r.json()["disclosures"]
        eq([d["id"] for d in got], [d1, d2, new], "disclosures over HTTP")
        eq((got[2]["organisation"], got[2]["basis"], got[2]["categories"]),
           ("Brackenfield Hospice", "d", ["health"]), "the new disclosure")
        eq(got[0]["items"], [phq], "items of the first")


# ---------------------------------------------------------------- HTTPS transmission

class Receiver:
    """A local HTTPS server (self-signed certificate for 127.0.0.1, made with
    the openssl command) that keeps what is POSTed to it and answers with
    the status given."""

    def __init__(self, workdir, status=201):
        import http.server
        import ssl
        import subprocess
        import threading
        self.cert = os.path.join(workdir, "recv-cert.pem")
        key = os.path.join(workdir, "recv-key.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", self.cert, "-days", "1", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                           capture_output=True, timeout=60)
        check(r.returncode == 0, "openssl could not make a test certificate", r.stderr)
        self.received = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length", "0"))
                outer.received.append((self.path, self.headers.get("Content-Type"),
                                       self.rfile.read(n)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/inbox"):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@case("portability over HTTPS: the FHIR Bundle is POSTed to the other controller (certificate "
      "verified) and a disclosure (channel https) recorded in the same operation; an untrusted "
      "certificate records nothing; data a recipient received and refused is still recorded")
def t_portability_https(ctx):
    cx, st = store(ctx)
    ann = st.subjects["ann"]["id"]
    work = os.path.dirname(cx.store)
    rv = Receiver(work)
    try:
        seq = audit_seq(cx.db)
        # without --ca-file the self-signed certificate is not trusted: nothing recorded
        r = cx.run("sar", ann, "--portable", "--format", "fhir", "--organisation",
                   "Fenwick Health Ltd", "--url", rv.url())
        eq(r.rc, 3, "exit status of an untrusted certificate")
        check(r.err.count("\n") == 1 and "cannot deliver" in r.err, "one-line error", r.err)
        eq(rv.received, [], "nothing is received over an unverified connection")
        eq(sql_value(cx.db, "SELECT count(*) FROM disclosures"), 0,
           "no disclosure for a failed delivery")
        cx.ok("sar", ann, "--portable", "--format", "fhir", "--organisation",
              "Fenwick Health Ltd", "--url", rv.url(), "--ca-file", rv.cert)
        eq(len(rv.received), 1, "deliveries received")
        path, ctype, body = rv.received[0]
        eq((path, ctype), ("/inbox", "application/fhir+json"), "path and type of the POST")
        bundle = json.loads(body)
        validate_fhir(cx, bundle)
        check(b"ann.oakhurst@example.org" in body, "the Bundle lacks the email")
        check(b"Hendricks" not in body, "a non-portable value was transmitted")
        evs = events_after(cx.db, seq)
        eq([(e["action"], e["outcome"]) for e in evs],
           [("export", "ok")], "one audit event for the delivered export (none for the "
                                "failed one, which was undone)")
        d = cx.okj("disclosures", ann)
        eq((d["organisation"], d["channel"], d["basis"]), ("Fenwick Health Ltd", "https", "c"),
           "the transmission's disclosure")
    finally:
        rv.close()
    refusing = Receiver(work, status=500)
    try:
        r = cx.run("sar", ann, "--portable", "--organisation", "Fenwick Health Ltd",
                   "--url", refusing.url(), "--ca-file", refusing.cert)
        check(r.rc != 0 and "HTTP 500" in r.err and r.err.count("\n") == 1,
              "a refused delivery is a one-line error", r.err)
        eq(len(refusing.received), 1, "the refusing recipient received the data")
        eq(sql_value(cx.db, "SELECT count(*) FROM disclosures"), 2,
           "data that reached a recipient who then refused it is still a disclosure")
    finally:
        refusing.close()
    r = cx.run("sar", ann, "--portable", "--organisation", "X", "--url", "http://127.0.0.1:1/")
    eq(r.rc, 1, "plain http is refused")


@case("rectification: old and new values kept sealed in the audit event; the recipients of "
      "earlier disclosures of the rectified item (and only those) are listed to be told "
      "(Art 19), by CLI and over HTTP")
def t_rectify_notify(ctx):
    cx, st = store(ctx)
    ann = st.subjects["ann"]["id"]
    email = item_id(cx, ann, "email")
    phone = item_id(cx, ann, "phone")
    # the email went to a GP practice by letter; the phone number to a pharmacy
    cx.ok("--purpose", "direct_care", "disclose", ann, "--organisation",
          "Lintwhite Green Surgery", "--basis", "e", "--channel", "letter", "--items", email)
    cx.ok("--purpose", "direct_care", "disclose", ann, "--organisation",
          "Quillfeather Pharmacy", "--basis", "e", "--channel", "phone", "--items", phone)
    j = cx.okj("--purpose", "subject_rights", "subject", "rectify", ann,
               stdin=json.dumps({"items": [{"id": email,
                                            "value": "ann.o@example.org"}]}))
    eq([(r.get("organisation"), r["channel"]) for r in j["recipients_to_notify"]],
       [("Lintwhite Green Surgery", "letter")], "recipients of the rectified email")
    txt = cx.ok("--purpose", "subject_rights", "subject", "rectify", ann,
                stdin=json.dumps({"items": [{"id": email, "value": "ann.q@example.org"}]})).out
    check("tell Lintwhite Green Surgery" in txt and "Quillfeather" not in txt,
          "text output names whom to tell", txt)
    ev = [e for e in cx.ok("--json", "audit", "show", "--subject", ann,
                           "--with-values").json_lines() if e["action"] == "update"]
    eq([(v["old"], v["new"]) for v in ev[0]["previous_values"]],
       [("ann.oakhurst@example.org", "ann.o@example.org")], "old and new values")
    check(b"ann.o@example.org" not in db_bytes(cx.db), "a new value in plaintext")
    # over HTTP: the PATCH answer lists them too
    with Server(cx) as srv:
        r = srv.call("PATCH", "/v1/subjects/%s" % ann,
                     {"items": [{"id": phone, "value": "07700 900999"}]},
                     token=st.tokens["dpo"]["token"], ctype="application/merge-patch+json",
                     headers={"Custos-Purpose": "subject_rights"})
        expect_status(r, 200, "PATCH")
        eq([x.get("organisation") for x in r.json()["recipients_to_notify"]],
           ["Quillfeather Pharmacy"], "recipients over HTTP")


# ---------------------------------------------------------------- the letter a patient reads

import calendar  # noqa: E402
import html as htmllib  # noqa: E402
import re  # noqa: E402

MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
          "December")


def visible_text(page):
    """The words a reader sees: no head, style or tags; entities decoded; URLs
    and email addresses removed (they may hold dots and underscores)."""
    body = re.sub(r"(?s)<head>.*?</head>", " ", page)
    body = re.sub(r"(?s)<[^>]*>", " ", body)
    body = htmllib.unescape(body)
    body = re.sub(r"https?://\S+", " ", body)
    return re.sub(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", " ", body)


def at(y, mo, d, h, mi):
    return {"CUSTOS_FAKE_NOW": str(calendar.timegm((y, mo, d, h, mi, 0)))}


def letter_store(ctx):
    """The therapyaudit store made at 13:05 UTC on 1 July 2026 (14:05 BST): a
    patient with an NHS number stored without spaces, and a disclosure."""
    from cases_erasure import test_clock
    cx = ctx.custos()
    test_clock(cx)
    summer = cx.env(at(2026, 7, 1, 13, 5))
    cx.ok("init", env=summer)
    st = Staff(cx)
    st.controllers["T"] = cx.ok("controller", "add", "--name", "Therapy Audit Ltd",
                                "--policy", PROFILE, env=summer).out.strip()
    doc = dict(ANN, nhs_number="9434765919")
    sid = cx.ok("--purpose", "direct_care", "subject", "add", "--controller",
                st.controllers["T"], "--kind", "patient", stdin=json.dumps(doc),
                env=summer).out.strip()
    st.subjects["ann"] = {"id": sid, "controller": st.controllers["T"], "doc": doc}
    cx.ok("--purpose", "direct_care", "disclose", sid, "--organisation", "Lintwhite Surgery",
          "--basis", "e", "--channel", "letter", "--categories", "health,family", env=summer)
    return cx, st


def refused_read(cx, st):
    """A clinician not on the care list tries to read the record over HTTP (at
    the real time, after everything else)."""
    st.user("clin2", "T", "clinician")
    with Server(cx) as srv:
        tok = st.signin(srv, "clin2")
        r = srv.call("GET", "/v1/subjects/%s" % st.subjects["ann"]["id"], token=tok)
        check(r.status in (403, 404), "a clinician off the care list read the record",
              r.describe())
    return time.gmtime()


@case("sar letter in plain English: retention periods in words, no identifier of the store "
      "in the visible text, the NHS number 3-3-4, dates in words in UK time (BST in summer), "
      "each refused access explained in a sentence")
def t_sar_letter_words(ctx):
    cx, st = letter_store(ctx)
    ann = st.subjects["ann"]["id"]
    before = time.gmtime()
    refused_read(cx, st)
    page = sar(cx, ann, "html")
    text = visible_text(page)
    # the period of the policy's retention rule (8 years after last contact), not its name
    check("Kept for 8 years after your last contact with the service" in text,
          "the retention period in words", text)
    check("Personal health data" not in text, "the retention rule's name instead of its period")
    # no identifier: snake_case or dotted names (fields, actions, roles, purposes, categories)
    for pat in (r"\b[a-z]+_[a-z_]+\b", r"\b[a-z]+\.[a-z_]+\b"):
        found = sorted(set(re.findall(pat, text)))
        check(not found, "identifiers in the letter: %s" % found)
    for ident in ("birth_date", "next_of_kin", "care_list", "direct_care", "subject_rights",
                  "nhs_organisation", "contact,identifying", "operator,", "clinical_note"):
        check(ident not in text, "the letter shows %s" % ident)
    for words in ("Date of birth", "31 January 1970", "Next of kin", "NHS number",
                  "Contact details", "Health information", "An NHS organisation",
                  "Family and personal circumstances", "Health information and family and "
                  "personal circumstances", "By letter"):
        check(words in text, "the letter does not say %r" % words)
    # the NHS number as 3-3-4, and never as the ten digits run together
    check("943 476 5919" in text, "the NHS number is not shown 3-3-4")
    check("9434765919" not in text, "the NHS number run together")
    # dates in words; no ISO date or time anywhere a reader sees
    check(not re.search(r"\d{4}-\d{2}-\d{2}", text), "an ISO date in the letter",
          re.findall(r".{30}\d{4}-\d{2}-\d{2}.{10}", text))
    check(re.search(r"Date: \d{1,2} (%s) \d{4}" % MONTHS, text), "the letter's date", text[:300])
    # created at 13:05 UTC on 1 July 2026: 14:05 BST; the zone is named
    check("1 July 2026, 14:05" in text, "a summer time not shown in BST", text)
    check("UK time" in text and "British Summer Time" in text, "the letter names no time zone")
    # the refused attempt: who, in what role, when, what, why refused
    sentences = re.findall(r"On (\d{1,2} (?:%s) \d{4}, \d\d:\d\d), a clinician tried to "
                           r"look at your record, for this reason: ([^.]*)\. This was refused "
                           r"because they are not on your care team's list\." % MONTHS, text)
    eq(len(sentences), 1, "one refused read explained: %s" % text[text.find("Attempts"):])
    after = time.gmtime()
    whens = {time.strftime("%-d %B %Y, %H:%M", t) for t in (before, after)}
    check(sentences[0][0] in whens, "the refusal's time %s, not one of %s (GMT in December)" %
          (sentences[0][0], whens))
    check(sentences[0][1] and "_" not in sentences[0][1], "the refusal's purpose in words",
          sentences)
    check("Refused (explained below)" in text, "the access log's outcome column")


@case("sar letter in a browser: headless chromium at 375x800 shows it without sideways "
      "scrolling; it prints to an A4 PDF")
def t_sar_letter_browser(ctx):
    cx, st = letter_store(ctx)
    ann = st.subjects["ann"]["id"]
    refused_read(cx, st)
    page = sar(cx, ann, "html")
    d = ctx.tmp.make()
    probe = page.replace("</body>", "<script>document.body.setAttribute('data-width',"
                         "String(document.documentElement.scrollWidth));document.body."
                         "setAttribute('data-viewport',String(window.innerWidth));"
                         "</script></body>")
    path = os.path.join(d, "letter.html")
    with open(path, "w") as f:
        f.write(probe)
    dom = run_chromium(["--window-size=375,800", "--virtual-time-budget=2000", "--dump-dom",
                        "file://" + path])
    m = re.search(r'data-width="(\d+)"', dom)
    check(m, "chromium's DOM has no measured width: %s" % dom[:300])
    vp = re.search(r'data-viewport="(\d+)"', dom)
    width, viewport = int(m.group(1)), int(vp.group(1)) if vp else 375
    check(width <= viewport, "the letter is %d px wide in a %d px window (scrolls sideways)" %
          (width, viewport))
    # CUSTOS_SCREENSHOTS=DIR keeps pictures of the letter at 375 and 1000 px to look at
    shots = os.environ.get("CUSTOS_SCREENSHOTS")
    for w, h in ((375, 2400), (1000, 1600)) if shots else ():
        run_chromium(["--window-size=%d,%d" % (w, h),
                      "--screenshot=%s" % os.path.join(shots, "letter-%d.png" % w),
                      "file://" + path])
    pdf = os.path.join(d, "letter.pdf")
    run_chromium(["--no-pdf-header-footer", "--print-to-pdf=" + pdf, "file://" + path])
    with open(pdf, "rb") as f:
        data = f.read()
    check(data.startswith(b"%PDF-"), "chromium did not print a PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    check(pages >= 1, "the PDF has no page")
    # A4 is 595 x 842 points
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    check(boxes, "the PDF states no page size")
    for w, h in boxes:
        check(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2,
              "a page of %s x %s points, not A4" % (w.decode(), h.decode()))
