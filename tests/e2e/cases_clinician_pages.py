"""A clinician's console beyond reading: emergency access (break glass) from
the refusal page of a patient off the care list, with the reason checked by
the field, the record then shown under a banner saying why and until when,
and the grant in the audit trail; adding a note to a record, with errors by
the field, shown on the record afterwards; a form without its CSRF token
changes nothing. Every new page axe-core clean. Runs on both backends."""

import re
import urllib.parse

from harness import registry, check, eq, sql
from http_client import Server, Staff, PASSWORD, audit_seq, events_after
from browser import no_violations, screenshot
from cases_staff_pages import Browser, csrf

CASES, case = registry()

EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def setup(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("c", "North Riding NHS Trust")
    st.user("dr.jones", "c", "clinician")
    st.subject("mine", "c", {"name": "Ada Lovelace", "birth_date": "1971-03-14",
                             "nhs_number": "9434765919"})
    st.subject("other", "c", {"name": "Bertram Other", "birth_date": "1980-01-02",
                              "nhs_number": "9434765870",
                              "items": [{"category": "health", "field": "allergy_notes",
                                         "value": "latex"}]})
    st.care("dr.jones", "mine")
    return cx, st


def signed_in(srv):
    b = Browser(srv)
    r = b.req("POST", "/staff/sign-in", {"username": "dr.jones", "password": PASSWORD})
    eq(r.status, 303, "signed in")
    return b


def text_of(page):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", page))


def grants(cx):
    return sql(cx.db, "SELECT count(*) FROM break_glass")[0][0]


@case("clinician pages: break glass from the refusal page; reason checked by the field; "
      "the record under a banner; the grant audited; CSRF refused; axe clean")
def t_break_glass(ctx):
    cx, st = setup(ctx)
    other = st.subjects["other"]["id"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        b = signed_in(srv)
        r = b.req("GET", "/staff/patients/" + other)
        eq(r.status, 403, "a patient off the list")
        check("Bertram" not in r.text and "latex" not in r.text, "the record leaks", r.text[:4000])
        check("Use emergency access" in r.text and 'name="reason"' in r.text,
              "no break-glass form on the refusal", r.text[:6000])
        no_violations(cx.binary, d, "break-glass.html", r.text, base)
        screenshot(d, "staff-break-glass", r.text, base)
        token = csrf(r.text)
        path = "/staff/patients/%s/break-glass" % other
        ok_reason = "Patient collapsed in the waiting room, needs allergy check"

        # no CSRF token, or a forged one: refused, no grant
        for forged in ({}, {"csrf_token": "A" * 43}):
            fields = dict(forged, reason=ok_reason, minutes="60")
            r = b.req("POST", path, fields)
            eq(r.status, 403, "break glass with a forged CSRF token %r" % (forged,))
            eq(grants(cx), 0, "a forged post granted access")

        # reasons the rules refuse: the form again, the error by the field, no grant
        for reason, words in (("", "Enter why you need to see this record now"),
                              ("   ", "Enter why you need to see this record now"),
                              ("urgent", "at least 10 characters"),
                              ("1234567890 12", "in words"),
                              ("emergency\ncare needed", "without line breaks"),
                              ("emergency\u200b care needed", "invisible")):
            seq = audit_seq(cx.db)
            r = b.req("POST", path, {"csrf_token": token, "reason": reason, "minutes": "60"})
            eq(r.status, 400, "reason %r" % reason)
            check("There is a problem" in r.text and 'href="#reason"' in r.text and
                  words in r.text and "reason-error" in r.text,
                  "no error by the reason field for %r" % reason, r.text[:6000])
            check("Bertram" not in r.text, "the record leaks on an error")
            eq(grants(cx), 0, "a refused reason granted access")
            check(not any(e.get("subject") == other and e["outcome"] == "ok"
                          for e in events_after(cx.db, seq)), "an ok event for a refused form")
        no_violations(cx.binary, d, "break-glass-error.html", r.text, base)
        screenshot(d, "staff-break-glass-error", r.text, base)
        # a duration the form does not offer
        r = b.req("POST", path, {"csrf_token": token, "reason": ok_reason, "minutes": "9999"})
        eq(r.status, 400, "a made-up duration")
        check('href="#minutes"' in r.text, "no error by the duration", r.text[:4000])
        eq(grants(cx), 0, "a made-up duration granted access")

        # a good reason: granted, audited, the record with the banner
        seq = audit_seq(cx.db)
        r = b.req("POST", path, {"csrf_token": token, "reason": ok_reason + " " + EVIL,
                                 "minutes": "60"})
        eq(r.status, 303, "break glass")
        check(r.header("location").endswith("patients/" + other), "to the record",
              r.header("location"))
        eq(grants(cx), 1, "the grant")
        evs = events_after(cx.db, seq)
        check(any(e["action"] == "break_glass" and e.get("subject") == other and
                  e["outcome"] == "ok" for e in evs), "the grant is not audited", evs)
        r = b.req("GET", "/staff/patients/" + other)
        eq(r.status, 200, "the record under emergency access")
        words = text_of(r.text)
        check("Bertram Other" in words and "latex" in words, "the record", words[:3000])
        check("Emergency access is in force" in words and ok_reason in words,
              "no banner with the reason", words[:3000])
        check(re.search(r"until \d\d:\d\d (today|tomorrow)", words), "no expiry time",
              words[:3000])
        check("<script>alert" not in r.text and "&lt;script&gt;" in r.text,
              "the reason not escaped")
        no_violations(cx.binary, d, "break-glass-record.html", r.text, base)
        screenshot(d, "staff-break-glass-record", r.text, base, height=2200)

        # a patient on the list: no banner
        r = b.req("GET", "/staff/patients/" + st.subjects["mine"]["id"])
        eq(r.status, 200, "own patient")
        check("Emergency access is in force" not in r.text, "a banner without a grant")


@case("clinician pages: add a note to a record; errors by the field; shown on the record; "
      "CSRF refused; audited; a patient off the list refused; axe clean")
def t_add_entry(ctx):
    cx, st = setup(ctx)
    sid = st.subjects["mine"]["id"]
    other = st.subjects["other"]["id"]
    d = ctx.tmp.make()
    items = lambda s: sql(cx.db, "SELECT count(*) FROM items WHERE subject_id = ?", (s,))[0][0]
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        b = signed_in(srv)
        r = b.req("GET", "/staff/patients/" + sid)
        eq(r.status, 200, "the record")
        check("Add to the record" in r.text and 'name="value"' in r.text, "no form",
              r.text[:8000])
        check("Providing care" in r.text and "Health information" in r.text, "purposes and categories in words",
              r.text[:8000])
        token = csrf(r.text)
        path = "/staff/patients/%s/items" % sid
        before = items(sid)
        good = {"kind": "note", "category": "health", "purpose": "direct_care",
                "value": "Seen in clinic. Wound healing well. " + EVIL}

        for forged in ({}, {"csrf_token": "A" * 43}):
            r = b.req("POST", path, dict(good, **forged))
            eq(r.status, 403, "add with a forged CSRF token %r" % (forged,))
            eq(items(sid), before, "a forged post added an item")

        for bad, field in (({"value": ""}, "value"), ({"value": "  \n "}, "value"),
                           ({"value": "x" * 5001}, "value"), ({"kind": "diagnosis"}, "kind"),
                           ({"category": "astrology"}, "category"),
                           ({"purpose": "Not A Name"}, "purpose"),
                           ({"purpose": "newsletter"}, "purpose")):
            fields = dict(good, csrf_token=token)
            fields.update(bad)
            r = b.req("POST", path, fields)
            eq(r.status, 400, "bad %r" % bad)
            check("There is a problem" in r.text and ('href="#%s"' % field) in r.text and
                  ("%s-error" % field) in r.text, "no error by %s for %r" % (field, bad),
                  r.text[:6000])
            eq(items(sid), before, "a bad form added an item")
        no_violations(cx.binary, d, "add-error.html", r.text, base)
        screenshot(d, "staff-add-error", r.text, base)

        seq = audit_seq(cx.db)
        r = b.req("POST", path, dict(good, csrf_token=token))
        eq(r.status, 303, "added")
        check(r.header("location").endswith("patients/" + sid), "back to the record",
              r.header("location"))
        eq(items(sid), before + 1, "one item added")
        evs = events_after(cx.db, seq)
        check(any(e.get("subject") == sid and e["outcome"] == "ok" for e in evs),
              "the addition is not audited", evs)
        r = b.req("GET", "/staff/patients/" + sid)
        words = text_of(r.text)
        check("Clinical note" in words and "Wound healing well" in words, "the note on the record",
              words[:4000])
        check("<script>alert" not in r.text, "the note not escaped")
        check("clinical_note" not in words, "a field name on the page")
        no_violations(cx.binary, d, "record-with-note.html", r.text, base)
        screenshot(d, "staff-record-add", r.text, base, height=2400)

        # a patient off the list: nothing added, nothing of the record shown
        before_other = items(other)
        r = b.req("POST", "/staff/patients/%s/items" % other, dict(good, csrf_token=token))
        check(r.status in (400, 403), "adding off the list", r.status)
        check("Bertram" not in r.text and "latex" not in r.text, "the record leaks")
        eq(items(other), before_other, "an item added off the list")


@case("clinician pages: search the care list by family name and date of birth; a patient "
      "off the list, a misspelt name or a wrong date finds nothing; errors by the field; "
      "audited; the CLI and the API search the same index; reindex; axe clean")
def t_name_search(ctx):
    cx, st = setup(ctx)
    sid = st.subjects["mine"]["id"]
    other = st.subjects["other"]["id"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        b = signed_in(srv)

        r = b.req("GET", "/staff/patients")
        tok = csrf(r.text)

        def search(family, day, month, year):
            return b.req("POST", "/staff/patients",
                         {"family": family, "birth_day": day, "birth_month": month,
                          "birth_year": year, "csrf_token": tok})

        check("Find a patient by name and date of birth" in r.text, "no name search form",
              r.text[:6000])
        seq = audit_seq(cx.db)
        r = search(" LOVELACE ", "14", "3", "1971")
        eq(r.status, 200, "search by name")
        words = text_of(r.text)
        check("Ada Lovelace" in words and "943 476 5919" in words and
              "Patients on your list with this family name" in words, "the patient found",
              words[:4000])
        check(any(e["action"] == "search" and e["outcome"] == "ok"
                  for e in events_after(cx.db, seq)), "the search is not audited",
              events_after(cx.db, seq))
        no_violations(cx.binary, d, "name-search.html", r.text, base)
        screenshot(d, "staff-name-search", r.text, base)
        # off the list: found by the index, but not shown
        r = search("Other", "2", "1", "1980")
        eq(r.status, 200, "search for a patient off the list")
        check("Bertram" not in r.text and "No patient on your list has this family name"
              in text_of(r.text), "a patient off the list shown", text_of(r.text)[:4000])
        for family, day, month, year in (("Lovelance", "14", "3", "1971"),
                                         ("Lovelace", "15", "3", "1971"),
                                         ("Lovelace", "14", "3", "1972"),
                                         ("Ada Lovelace", "14", "3", "1971")):
            r = search(family, day, month, year)
            eq(r.status, 200, "search %r" % family)
            check("Ada Lovelace" not in text_of(r.text) and
                  "No patient on your list" in text_of(r.text),
                  "found with %r %s/%s/%s" % (family, day, month, year), text_of(r.text)[:3000])
        # errors by the field, nothing searched
        for args, field, words_ in ((("", "14", "3", "1971"), "family", "Enter the patient"),
                                    (("1234", "14", "3", "1971"), "family", "in letters"),
                                    (("Lovelace", "", "", ""), "birth_day", "Enter the patient"),
                                    (("Lovelace", "30", "2", "1971"), "birth_day", "real date"),
                                    (("Lovelace", "14", "", "1971"), "birth_month", "a month"),
                                    (("Lovelace", "14", "3", "71"), "birth_year", "4 numbers"),
                                    (("Lovelace", "14", "3", "2999"), "birth_day", "in the past"),
                                    (("Lovelace", "x", "3", "1971"), "birth_day", "real date")):
            seq = audit_seq(cx.db)
            r = search(*args)
            eq(r.status, 200, "a bad search %r" % (args,))
            check("There is a problem" in r.text and ('href="#%s"' % field) in r.text and
                  words_ in r.text, "no error by %s for %r" % (field, args), r.text[:6000])
            check("Ada Lovelace" not in text_of(r.text), "a list shown with an error")
            if field != "family" or args[0] == "":
                eq(events_after(cx.db, seq), [], "a search made for %r" % (args,))
        no_violations(cx.binary, d, "name-search-error.html", r.text, base)
        screenshot(d, "staff-name-search-error", r.text, base)

        # the API's search: the same index, empty when nothing matches
        tok = st.token("desk", "c", "care_admin")["token"]
        r = srv.call("POST", "/v1/subjects/search",
                     {"family_name": "O'ther", "birth_date": "1980-01-02"}, token=tok)
        eq(r.status, 200, "API search by name")
        eq(r.json()["ids"], [other], "API search finds")
        r = srv.call("POST", "/v1/subjects/search",
                     {"family_name": "Othre", "birth_date": "1980-01-02"}, token=tok)
        eq(r.status, 200, "API search, misspelt")
        eq(r.json()["ids"], [], "API search, misspelt, finds nothing")
        for b in ({"family_name": "Other"}, {"birth_date": "1980-01-02"},
                  {"family_name": "Other", "birth_date": "1980-01-02",
                   "nhs_number": "9434765870"},
                  {"family_name": "12", "birth_date": "1980-01-02"},
                  {"family_name": "Other", "birth_date": "1980-02-30"}):
            r = srv.call("POST", "/v1/subjects/search", b, token=tok)
            eq(r.status, 400, "API search %r" % (b,))
        # never in a URL: the query string is refused
        r = srv.call("GET", "/v1/subjects?family_name=Other&birth_date=1980-01-02", token=tok)
        eq(r.status, 400, "a name search in a query string")

    # the CLI and the API: the same index
    r = cx.ok("--purpose", "direct_care", "subject", "find", "--name", "lovelace",
              "--birth-date", "1971-03-14")
    eq(r.out.split(), [sid], "subject find --name")
    cx.fails(1, "--purpose", "direct_care", "subject", "find", "--name", "Lovelace",
             "--birth-date", "1971-03-15", never=("Lovelace",))
    cx.fails(2, "subject", "find", "--name", "Lovelace")
    # subjects recorded before the index: none until reindexed
    sql(cx.db, "DELETE FROM identifiers WHERE kind = 'name_birth'")
    cx.fails(1, "--purpose", "direct_care", "subject", "find", "--name", "Other",
             "--birth-date", "1980-01-02")
    j = cx.okj("subject", "reindex")
    eq(j["reindexed"], 2, "reindexed")
    r = cx.ok("--purpose", "direct_care", "subject", "find", "--name", "OTHER",
              "--birth-date", "1980-01-02")
    eq(r.out.split(), [other], "found after reindex")
