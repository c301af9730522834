"""Questionnaire definitions through the CLI: the shipped PHQ-9, GAD-7 and
example follow-up added, listed and shown; the same content again changes
nothing; other content under a stored version, and malformed documents, are
refused with nothing stored; a definition changed in the database (its
weights) is refused wherever it is read. Runs on both backends."""

import copy
import hashlib
import json
import os

from harness import (registry, check, eq, dump, sql, sql_exec, diff_dumps,
                     changed_besides_audit)
from fixtures import ROOT, new_store, write
from http_client import events_after, audit_seq

CASES, case = registry()

QDIR = os.path.join(ROOT, "questionnaires")
SHIPPED = {"phq-9.json": "urn:custos:questionnaire:phq-9",
           "gad-7.json": "urn:custos:questionnaire:gad-7",
           "psfu-example.json": "urn:custos:questionnaire:psfu-example"}
WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"


def load(name):
    with open(os.path.join(QDIR, name)) as f:
        return json.load(f)


def rows(cx):
    return sql(cx.db, "SELECT url, version FROM questionnaires ORDER BY url, version")


@case("questionnaire: the shipped ones are added, listed, shown; again is a no-op")
def t_shipped(ctx):
    cx = new_store(ctx)
    for name, url in SHIPPED.items():
        r = cx.ok("questionnaire", "add", os.path.join(QDIR, name))
        eq(r.out, "added: questionnaire %s version 1 (%s)\n" % (url, load(name)["status"]),
           "add output")
    listed = cx.okj("questionnaire", "list")["questionnaires"]
    eq(sorted((q["url"], q["version"]) for q in listed),
       sorted((u, "1") for u in SHIPPED.values()), "listed")
    for q in listed:
        check(len(q["hash"]) == 64 and q["added_by"], "a listing without hash or author", q)
    for name, url in SHIPPED.items():
        shown = json.loads(cx.ok("questionnaire", "show", url).out)
        eq(shown, load(name), "%s shown as stored" % name)
        eq(json.loads(cx.ok("questionnaire", "show", url, "--version", "1").out), load(name),
           "%s version 1" % name)
    # The same content again (even laid out differently) stores nothing new.
    before = dump(cx.db)
    seq = audit_seq(cx.db)
    for name, url in SHIPPED.items():
        compact = write(ctx, name, json.dumps(load(name), separators=(",", ":"),
                                              sort_keys=False))
        r = cx.ok("questionnaire", "add", compact)
        check(r.out.startswith("unchanged: "), "a no-op add says otherwise", r.describe())
        j = cx.okj("questionnaire", "add", os.path.join(QDIR, name))
        check(j["added"] is False and j["url"] == url, "json of a no-op add", j)
    eq(rows(cx), sorted((u, "1") for u in SHIPPED.values()), "rows after the no-op adds")
    diff = changed_besides_audit(before, dump(cx.db))
    check(not diff, "a no-op add changed the store", diff)
    evs = events_after(cx.db, seq)
    eq([e["action"] for e in evs], ["questionnaire.add"] * 6, "each add audited")
    check(all(e["outcome"] == "ok" for e in evs), "outcomes", evs)
    # An unknown url or version is not found (exit 1), and audited.
    cx.fails(1, "questionnaire", "show", "urn:custos:questionnaire:nope", says="no questionnaire")
    cx.fails(1, "questionnaire", "show", SHIPPED["phq-9.json"], "--version", "2",
             says="no questionnaire urn:custos:questionnaire:phq-9 version 2")
    cx.fails(2, "questionnaire", "add")
    cx.fails(2, "questionnaire", "show")


@case("questionnaire: other content under a stored version is refused, a new version added")
def t_changed(ctx):
    cx = new_store(ctx)
    cx.ok("questionnaire", "add", os.path.join(QDIR, "gad-7.json"))
    url = SHIPPED["gad-7.json"]
    changed = load("gad-7.json")
    # An insider's aim: the same version, item 1's "Nearly every day" worth 0.
    changed["item"][1]["answerOption"][3]["extension"][0]["valueDecimal"] = 0
    changed["extension"][0]["extension"][-1]["extension"][1]["valueInteger"] = 20
    path = write(ctx, "gad-7.json", changed)
    before = dump(cx.db)
    cx.fails(1, "questionnaire", "add", path,
             says=("questionnaire %s version 1 already exists with different content" % url,
                   "give it a new version"))
    diff = changed_besides_audit(before, dump(cx.db))
    check(not diff, "a refused add changed the store", diff)
    eq(json.loads(cx.ok("questionnaire", "show", url).out), load("gad-7.json"),
       "the stored version is untouched")
    # As version 2 it is a new definition; version 1 stays as it was.
    changed["version"] = "2"
    path = write(ctx, "gad-7-v2.json", changed)
    cx.ok("questionnaire", "add", path)
    eq(rows(cx), [(url, "1"), (url, "2")], "two versions")
    eq(json.loads(cx.ok("questionnaire", "show", url).out), changed, "latest is version 2")
    eq(json.loads(cx.ok("questionnaire", "show", url, "--version", "1").out),
       load("gad-7.json"), "version 1 kept")


def mutated(path, value):
    doc = load("phq-9.json")
    at = doc
    keys = path.split(".")
    for k in keys[:-1]:
        at = at[int(k)] if k.isdigit() else at[k]
    last = keys[-1]
    if value is DELETE:
        if last.isdigit():
            del at[int(last)]
        else:
            del at[last]
    elif last.isdigit():
        at[int(last)] = value
    else:
        at[last] = value
    return doc


DELETE = object()

MALFORMED = [
    ("item.1.answerOption.1.valueCoding.code", DELETE,
     "item[1].answerOption[1].valueCoding.code: required"),
    ("item.3.linkId", "phq9-1", "item[3].linkId: the same linkId as an earlier item"),
    ("item.10.enableWhen.0.question", "phq9-10",
     "item[10].enableWhen[0].question: must name an earlier item"),
    ("item.1.answerOption.0.extension.0.valueDecimal", 0.5,
     "item[1].answerOption[0].extension[0].valueDecimal: must be a whole number"),
    ("extension.0.extension.11.extension.0.valueInteger", 6,
     "band mild starts at 6, not 5"),
    ("extension.0.extension.14.extension.1.valueInteger", 26,
     "the last band ends at 26, not at the highest score 27"),
    ("url", "phq 9", "url: must be an absolute URI"),
    ("version", DELETE, "version: required"),
    ("status", "unknown", "status: must be draft, active or retired"),
    ("item.1.type", "quantity", "item[1].type: must be group"),
    ("item.1.answerOption.0.extension.0.url", "http://example.org/weight",
     "item[1].answerOption[0].extension[0].url: not an extension custos knows"),
    ("extension.1.extension.1.valueCode", "later",
     "extension[1].extension[1].valueCode: must be urgent or review"),
]


@case("questionnaire: malformed documents are refused with their JSON path, nothing stored")
def t_malformed(ctx):
    cx = new_store(ctx)
    before = dump(cx.db)
    for path, value, says in MALFORMED:
        f = write(ctx, "bad.json", mutated(path, value))
        cx.fails(1, "questionnaire", "add", f, says=says)
    for text, says in (("{", "malformed JSON"), ("[]", "must be a JSON object"),
                       ('{"resourceType": "Questionnaire", "resourceType": "Patient"}',
                        "duplicate key"),
                       (" " * (256 * 1024 + 1), "larger than")):
        cx.fails(1, "questionnaire", "add", write(ctx, "bad.json", text), says=says)
    cx.fails(1, "questionnaire", "add", "-", stdin=b'{"resourceType": "Patient"}',
             says="resourceType: must be Questionnaire")
    eq(rows(cx), [], "nothing stored")
    diff = diff_dumps(before, dump(cx.db))
    check(not diff, "a refused document changed the store", diff)


def tamper_weights(cx, url):
    """Item 9's weights set to 0 in the stored document, as an insider who
    writes the database would, keeping everything else."""
    (docb,) = sql(cx.db, "SELECT document FROM questionnaires WHERE url = ?", (url,))[0]
    doc = json.loads(bytes(docb))
    for opt in doc["item"][9]["answerOption"]:
        opt["extension"][0]["valueDecimal"] = 0
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


@case("questionnaire: weights changed in the database are refused (hash, then row code)")
def t_tamper(ctx):
    cx = new_store(ctx)
    url = SHIPPED["phq-9.json"]
    cx.ok("questionnaire", "add", os.path.join(QDIR, "phq-9.json"))
    cx.ok("questionnaire", "add", os.path.join(QDIR, "gad-7.json"))
    original = sql(cx.db, "SELECT document, hash FROM questionnaires WHERE url = ?", (url,))[0]
    forged = tamper_weights(cx, url)
    altered = "questionnaires %s|1 has been altered" % url
    # The document alone: its hash no longer matches.
    sql_exec(cx.db, ("UPDATE questionnaires SET document = ? WHERE url = ?", (forged, url)))
    cx.fails(1, "questionnaire", "show", url, says=altered)
    cx.fails(1, "questionnaire", "list", says=altered)
    r = cx.run("verify")
    check(r.rc == 1 and "questionnaires %s|1: altered" % url in r.err, "verify", r.describe())
    # The document and its hash: the row code no longer matches.
    h = hashlib.blake2b(forged, digest_size=32).digest()
    sql_exec(cx.db, ("UPDATE questionnaires SET document = ?, hash = ? WHERE url = ?",
                     (forged, h, url)))
    cx.fails(1, "questionnaire", "show", url, says=altered)
    # Re-adding the genuine document does not launder the forged row.
    cx.fails(1, "questionnaire", "add", os.path.join(QDIR, "phq-9.json"), says=altered)
    # A row with no code is a forged row; a status changed is an altered one.
    sql_exec(cx.db, ("UPDATE questionnaires SET document = ?, hash = ?, mac = NULL "
                     "WHERE url = ?", (bytes(original[0]), bytes(original[1]), url)))
    cx.fails(1, "questionnaire", "show", url, says=altered)
    gad = SHIPPED["gad-7.json"]
    sql_exec(cx.db, ("UPDATE questionnaires SET status = ? WHERE url = ?", ("retired", gad)))
    cx.fails(1, "questionnaire", "show", gad, says="questionnaires %s|1 has been altered" % gad)
    r = cx.run("verify")
    check(r.rc == 1 and "questionnaires %s|1: altered" % gad in r.err
          and "questionnaires %s|1: forged (no row code)" % url in r.err, "verify", r.describe())
    # A url rewritten with a line break is named, but not echoed.
    sql_exec(cx.db, ("UPDATE questionnaires SET url = ? WHERE url = ?", (gad + "\nx", gad)))
    r = cx.run("verify")
    check(r.rc == 1 and "questionnaires (unprintable)|1: altered" in r.err
          and "\nx" not in r.err.replace("\ncustos:", ""), "verify", r.describe())
