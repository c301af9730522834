"""Test data: distinctive, fictitious people with NHS numbers from the 999 test
range, and a helper that builds a populated store through the CLI."""

import json
import os

from harness import check, eq, nhs_valid, nhs_display, sql

# A policy whose purposes (direct_care, administration, care_administration,
# reporting) cover every category and kind: tests of other rules run under it.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_POLICY = os.path.join(ROOT, "tests", "data", "test-policy.json")

NHS1 = nhs_valid("999000001")          # 999 000 0018, the number in the help text
NHS2 = nhs_valid("999123457")
NHS_UNUSED = nhs_valid("999765432")

PERSON1 = {
    "name": "Zebulon Quagmire-Fotheringay",
    "birth_date": "1971-03-14",
    "nhs_number": nhs_display(NHS1),
    "email": "  Zebulon.Quagmire@Example-Clinic.ORG ",
    "phone": "+44 7700 900461",
    "address": "17 Xylophone Terrace, Llanfairpwllgwyngyll",
    "postcode": "QX9 7ZW",
    "local_ref": "MRN-ZQF-448811",
    "source": "staff",
    "items": [
        {"category": "health", "field": "diagnosis",
         "value": "Chronic vorpal bandersnatch syndrome", "source": "nhs_organisation",
         "collected_at": "2025-11-30"},
        {"category": "family", "field": "next_of_kin",
         "value": "Wilhelmina Quagmire (sister)"},
        {"category": "genetic", "field": "genotype",
         "value": "BRCA-frobnicated variant c.9999zz", "collected_at": "2024-02-29T13:45:00Z"},
    ],
}
EMAIL1_NORM = "zebulon.quagmire@example-clinic.org"
PHONE1_NORM = "+447700900461"

PERSON2 = {
    "name": "Philippa Wrenfield-Oxtoby",
    "birth_date": "1988-12-01",
    "nhs_number": NHS2,
    "email": "pip.wrenfield@example.net",
    "address": "2 Quillon Mews, Ambridgeshire",
    "postcode": "KQ4 2JJ",
    "items": [
        {"category": "health", "field": "diagnosis",
         "value": "Acute snark-hunting fatigue", "source": "nhs_organisation"},
    ],
}

# Plaintext that must never appear in the store's files.
def secrets_of_person1():
    return [
        PERSON1["name"], "Quagmire-Fotheringay", "Zebulon",
        NHS1, nhs_display(NHS1), EMAIL1_NORM, PERSON1["email"].strip(),
        PERSON1["address"], "Xylophone Terrace", PERSON1["postcode"], PHONE1_NORM,
        PERSON1["local_ref"], "vorpal bandersnatch", "Wilhelmina", "frobnicated",
    ]


def secrets_of_person2():
    return [PERSON2["name"], NHS2, nhs_display(NHS2), PERSON2["email"], "Quillon Mews",
            "snark-hunting"]


def doc(d):
    return json.dumps(d)


def new_store(ctx, **kw):
    cx = ctx.custos(**kw)
    cx.ok("init")
    return cx


def populated(ctx, **kw):
    """A store with two controllers and one subject under each of them.
    Returns (cx, ids) where ids has ctl1, ctl2, s1, s2."""
    cx = new_store(ctx, **kw)
    ids = {}
    ids["ctl1"] = cx.ok("controller", "add", "--name", "North Riding NHS Trust",
                        "--policy", TEST_POLICY).out.strip()
    ids["ctl2"] = cx.okj("controller", "add", "--name", "Borsetshire GP Practice",
                         "--policy", TEST_POLICY)["id"]
    ids["s1"] = cx.ok("subject", "add", "--controller", ids["ctl1"], "--kind", "patient",
                      stdin=doc(PERSON1)).out.strip()
    ids["s2"] = cx.okj("subject", "add", "--controller", ids["ctl2"], "--kind", "patient",
                       stdin=doc(PERSON2))["id"]
    for k in ("ctl1", "ctl2", "s1", "s2"):
        check(len(ids[k]) == 36 and ids[k].count("-") == 4, "%s is not an id: %r" % (k, ids[k]))
    return cx, ids


def show(cx, sid):
    return cx.okj("subject", "show", sid)


def item_by_field(view, field):
    for it in view["items"]:
        if it["field"] == field:
            return it
    raise AssertionError("no item %s in %r" % (field, view))


def expect_person1(view):
    eq(view["name"], PERSON1["name"], "name")
    eq(view["birth_date"], PERSON1["birth_date"], "birth_date")
    eq(view["nhs_number"], NHS1, "nhs_number")
    eq(view["nhs_number_test"], True, "nhs_number_test")
    eq(view["email"], EMAIL1_NORM, "email")
    eq(view["phone"], PHONE1_NORM, "phone")
    eq(view["address"], PERSON1["address"], "address")
    eq(view["postcode"], PERSON1["postcode"], "postcode")
    eq(view["local_ref"], PERSON1["local_ref"], "local_ref")
    eq(len(view["items"]), 3, "number of items")
    for want in PERSON1["items"]:
        got = item_by_field(view, want["field"])
        eq(got["value"], want["value"], want["field"])
        eq(got["category"], want["category"], want["field"] + " category")
        eq(got["source"], want.get("source", "staff"), want["field"] + " source")


def sql_value(db, query, params=()):
    """The first column of the first row a query on custos.db returns."""
    return sql(db, query, params)[0][0]


def no_plaintext_in(data, strings, where):
    """Checks that none of strings (str, as UTF-8) is in data (bytes)."""
    for s in strings:
        check(s.encode() not in data, "plaintext %r in %s" % (s, where))


def write(ctx, name, obj):
    """Writes obj (text as it is, anything else as JSON) to a new file name in
    a fresh directory of the case's; returns its path."""
    path = os.path.join(ctx.tmp.make(), name)
    with open(path, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def erasing_policy(ctx):
    """The test policy with every retention rule erasing its records when
    their subject asks: the path of a file holding it."""
    with open(TEST_POLICY) as f:
        pol = json.load(f)
    for r in pol["retention"]:
        r["erase_on_request"] = True
    return write(ctx, "policy-erasing.json", pol)
