"""The auditor's and the administrator's pages of the staff console: an
auditor searches the trail (and the search is recorded), finds a clinician's
refused read of a patient off their list, verifies the chain, and after an
event is altered in the database the same button reports where it broke; an
administrator lists the accounts, adds one (the one-time code secret shown
once), the new member of staff signs in, the administrator disables the
account and its session stops working, sets a password, creates an API token
(shown once) and revokes it, each behind a confirmation step; a clinician is
refused both pages (recorded); a POST without its CSRF token changes nothing;
every page axe-core clean. Runs on both backends."""

import os
import re
import threading
import time

from harness import registry, check, eq, sql, sql_exec
from http_client import PASSWORD, Server, Staff, audit_seq, events_after, totp_code, fresh_step
from browser import no_violations, screenshot
from cases_staff_pages import Browser, csrf

CASES, case = registry()


def words(page):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", page))


def sign_in(b, st, username):
    u = st.users[username]
    fields = {"username": username, "password": u["password"]}
    if u["totp_secret"]:
        fields["code"] = st.code_for(username)
    r = b.req("POST", "/staff/sign-in", fields)
    eq(r.status, 303, "sign-in of " + username)
    check(b.cookie, "no cookie for " + username)


def setup(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("c", "North Riding NHS Trust")
    st.user("dr.jones", "c", "clinician")
    st.user("ann.audit", "c", "auditor")
    st.user("root.admin", "c", "admin", totp=True)
    st.subject("mine", "c", {"name": "Ada Lovelace", "nhs_number": "9434765919"})
    st.subject("other", "c", {"name": "Bertram Other", "nhs_number": "9434765870"})
    st.care("dr.jones", "mine")
    return cx, st


@case("audit page: an auditor finds a clinician's refused read, the search is recorded, "
      "verify passes then names the altered event; a clinician is refused; CSRF; axe clean")
def t_audit_page(ctx):
    cx, st = setup(ctx)
    other = st.subjects["other"]["id"]
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        clin = Browser(srv)
        sign_in(clin, st, "dr.jones")
        r = clin.req("GET", "/staff/patients/" + other)
        eq(r.status, 403, "a patient off the list")
        # the clinician: no navigation entry, both pages refused and recorded
        r = clin.req("GET", "/staff")
        check("Audit trail" not in r.text and "Staff accounts" not in r.text,
              "a clinician sees the auditor's or admin's navigation")
        for path, action in (("/staff/audit", "audit"), ("/staff/accounts", "user.list")):
            seq = audit_seq(cx.db)
            r = clin.req("GET", path)
            eq(r.status, 403, "a clinician on " + path)
            check("Ada" not in r.text and "Bertram" not in r.text, "personal data", r.text[:2000])
            evs = events_after(cx.db, seq)
            check(any(e["action"] == action and e["outcome"] == "denied" and e["actor"] == "dr.jones"
                      for e in evs), "the refusal of %s is not recorded" % path, evs)
            no_violations(cx.binary, d, "refused-%s.html" % action, r.text, base)

        aud = Browser(srv)
        sign_in(aud, st, "ann.audit")
        r = aud.req("GET", "/staff/audit")
        check("Audit trail" in r.text and "Staff accounts" not in r.text, "the auditor's navigation",
              r.text[:3000])
        seq = audit_seq(cx.db)
        r = aud.req("GET", "/staff/audit?actor=dr.jones&outcome=refused&action=read&since=&until=")
        eq(r.status, 200, "the search")
        w = words(r.text)
        check("1 event match" in w, "one refused read by dr.jones", w[:4000])
        check(other in r.text and "Refused" in w and "dr.jones, a clinician" in w,
              "the refused read in words", w[:4000])
        check("care team" in w, "why it was refused", w[:4000])
        check("Ada" not in w and "Bertram" not in w, "personal data on the audit page")
        for ident in ("not-on-care-list", "direct_care", "denied"):
            check(ident not in w, "an internal identifier on the page: " + ident)
        evs = events_after(cx.db, seq)
        check(len(evs) == 1 and evs[0]["action"] == "audit" and evs[0]["actor"] == "ann.audit"
              and evs[0]["outcome"] == "ok", "the search is not recorded once", evs)
        no_violations(cx.binary, d, "audit.html", r.text, base)
        screenshot(d, "staff-audit", r.text, base, height=1800)
        # the whole trail, newest first (the auditor's own searches are the
        # store's events, not the controller's, as in GET /v1/audit): the
        # clinician's task lists are enough events for a second page
        for _ in range(15):
            eq(clin.req("GET", "/staff/tasks").status, 200, "the task list")
        r = aud.req("GET", "/staff/audit")
        eq(r.status, 200, "the whole trail")
        r2 = aud.req("GET", "/staff/audit?page=2")
        eq(r2.status, 200, "page 2")
        body = r.text.split("<tbody", 1)[1]
        rows = re.findall(r'<tr class="nhsuk-table__row">(.*?)</tr>', body, re.S)
        check(len(rows) == 25, "a page of 25 events", len(rows))
        check("dr.jones" in rows[0] and "Look at the list of clinical tasks" in words(rows[0]),
              "newest first", words(rows[0]))
        check("Update our privacy policy" in words(r2.text.split("<tbody", 1)[1]) and
              "Update our privacy policy" not in words(body),
              "the oldest on the last page")
        check("page=2" in r.text, "no link to the next page", r.text[-3000:])
        # bad fields: errors by the field, nothing listed, nothing recorded
        seq = audit_seq(cx.db)
        r = aud.req("GET", "/staff/audit?since=2026-13-45&actor=%3Cb%3E&subject=x&action=nope"
                           "&outcome=maybe")
        eq(r.status, 400, "bad search fields")
        for f in ("since", "actor", "subject", "action", "outcome"):
            check('href="#%s"' % f in r.text, "no error for " + f, r.text[:4000])
        check("<b>" not in r.text, "markup unescaped")
        eq(events_after(cx.db, seq), [], "a refused search was recorded")
        no_violations(cx.binary, d, "audit-error.html", r.text, base)
        r = aud.req("GET", "/staff/audit?page=999")
        check(r.status in (400, 404), "a page past the end", r.status)
        r = aud.req("GET", "/staff/audit?colour=red")
        eq(r.status, 400, "an unknown query parameter")

        # verify: CSRF first, then a pass
        token = csrf(aud.req("GET", "/staff/audit").text)
        seq = audit_seq(cx.db)
        for forged in ({}, {"csrf_token": "A" * 43}):
            r = aud.req("POST", "/staff/audit/verify", forged)
            eq(r.status, 403, "verify with a forged CSRF token")
        eq(events_after(cx.db, seq), [], "a forged verify ran")
        r = aud.req("POST", "/staff/audit/verify", {"csrf_token": token})
        eq(r.status, 200, "verify")
        w = words(r.text)
        check("The audit trail is intact" in w and "Passed" in w and "Events checked" in w and
              "Signatures checked" in w and "Event 1 to event" in w, "the pass in words", w[:3000])
        check(any(e["action"] == "audit" and e["outcome"] == "ok" for e in events_after(cx.db, seq)),
              "the verification is not recorded")
        no_violations(cx.binary, d, "audit-verify.html", r.text, base)
        screenshot(d, "staff-audit-verify", r.text, base)
        r = clin.req("POST", "/staff/audit/verify", {"csrf_token": csrf(clin.req("GET", "/staff").text)})
        eq(r.status, 403, "a clinician's verify")

        # an event altered in the database: the page names where it broke
        target = 3
        b = bytearray(sql(cx.db, "SELECT body FROM audit_events WHERE seq = ?", (target,))[0][0])
        b[-1] ^= 0x01
        sql_exec(cx.db, ("UPDATE audit_events SET body = ? WHERE seq = ?", (bytes(b), target)))
        r = aud.req("POST", "/staff/audit/verify", {"csrf_token": token})
        eq(r.status, 200, "verify after tampering")
        w = words(r.text)
        check("The audit trail has been changed" in w and "Failed at event %d" % target in w,
              "the break in words", w[:3000])
        check("intact" not in w, "a tampered trail called intact")
        no_violations(cx.binary, d, "audit-verify-broken.html", r.text, base)
        screenshot(d, "staff-audit-verify-broken", r.text, base)


@case("accounts page: an admin adds an account (secret once), the user signs in, is disabled "
      "and their session stops; a password set; a token created and revoked; CSRF; axe clean")
def t_accounts_page(ctx):
    cx, st = setup(ctx)
    st.controller("d", "South Downs Health")
    st.user("far.away", "d", "clinician")
    d = ctx.tmp.make()
    with Server(cx) as srv:
        base = "http://127.0.0.1:%d" % srv.port
        adm = Browser(srv)
        sign_in(adm, st, "root.admin")
        seq = audit_seq(cx.db)
        r = adm.req("GET", "/staff/accounts")
        eq(r.status, 200, "accounts")
        w = words(r.text)
        check("dr.jones" in w and "Clinician" in w and "Auditor" in w and "Administrator" in w,
              "the accounts with roles in words", w[:4000])
        check("care_admin" not in w, "a role identifier on the page")
        check("far.away" not in w, "another controller's account listed")
        acts = [e["action"] for e in events_after(cx.db, seq)]
        check("user.list" in acts and "token.list" in acts, "the listing is not recorded", acts)
        check(("Audit trail" not in r.text) and "Staff accounts" in r.text, "the admin's navigation")
        no_violations(cx.binary, d, "accounts.html", r.text, base)
        token = csrf(r.text)

        # errors by the field, nothing added
        r = adm.req("POST", "/staff/accounts", {"csrf_token": token, "username": "Bad Name",
                                                "password": "short"})
        eq(r.status, 400, "a bad account")
        for f in ("username", "password", "account-roles"):
            check('href="#%s"' % f in r.text, "no error for " + f, r.text[:4000])
        no_violations(cx.binary, d, "accounts-error.html", r.text, base)
        r = adm.req("POST", "/staff/accounts", {"csrf_token": token, "username": "x.y",
                                                "password": "p" * 14, "roles": "operator"})
        eq(r.status, 400, "the operator role from a form")
        # CSRF missing: nothing added
        r = adm.req("POST", "/staff/accounts", {"username": "eve", "password": PASSWORD,
                                                "roles": "admin"})
        eq(r.status, 403, "add without CSRF")
        eq(sql(cx.db, "SELECT count(*) FROM users WHERE username = 'eve'")[0][0], 0,
           "an account added without CSRF")

        # added, with a one-time code: the secret shown once
        seq = audit_seq(cx.db)
        r = adm.req("POST", "/staff/accounts", [("csrf_token", token), ("username", "nurse.kay"),
                                                ("password", PASSWORD), ("roles", "clinician"),
                                                ("roles", "auditor"), ("totp", "yes")])
        eq(r.status, 200, "added")
        m = re.search(r"secret=([A-Z2-7]{32})", r.text)
        check(m and "otpauth://totp/custos:nurse.kay" in r.text, "the secret and URI", r.text[:4000])
        secret = m.group(1)
        check(secret in words(r.text), "the secret as text")
        evs = events_after(cx.db, seq)
        eq([e["action"] for e in evs], ["user.add"], "one audited call")
        no_violations(cx.binary, d, "account-added.html", r.text, base)
        screenshot(d, "staff-account-added", r.text, base)
        r = adm.req("GET", "/staff/accounts")
        check(secret not in r.text, "the secret shown again")
        check("nurse.kay" in r.text, "the new account listed")
        screenshot(d, "staff-accounts", r.text, base, height=2600)
        r = adm.req("POST", "/staff/accounts", {"csrf_token": token, "username": "nurse.kay",
                                                "password": PASSWORD, "roles": "clinician"})
        eq(r.status, 409, "a username taken")
        check("This username is taken" in r.text, "the error by the field")

        # the new member of staff signs in
        nurse = Browser(srv)
        r = nurse.req("POST", "/staff/sign-in", {"username": "nurse.kay", "password": PASSWORD,
                                                 "code": totp_code(secret, fresh_step())})
        eq(r.status, 303, "the new account signs in")
        r = nurse.req("GET", "/staff")
        eq(r.status, 200, "the new account's home")
        check("Audit trail" in r.text, "the new auditor's navigation")

        # disable: a confirmation step first (nothing changed), then done
        r = adm.req("POST", "/staff/accounts/nurse.kay/disable", {"csrf_token": token})
        eq(r.status, 200, "the confirmation")
        check("Disable nurse.kay" in r.text and 'name="confirm"' in r.text, "asks first", r.text[:3000])
        no_violations(cx.binary, d, "account-disable-confirm.html", r.text, base)
        eq(nurse.req("GET", "/staff").status, 200, "disabled before confirming")
        r = adm.req("POST", "/staff/accounts/nurse.kay/disable", {"confirm": "yes"})
        eq(r.status, 403, "confirm without CSRF")
        eq(nurse.req("GET", "/staff").status, 200, "disabled without CSRF")
        seq = audit_seq(cx.db)
        r = adm.req("POST", "/staff/accounts/nurse.kay/disable", {"csrf_token": token,
                                                                  "confirm": "yes"})
        eq(r.status, 200, "disabled")
        eq([e["action"] for e in events_after(cx.db, seq)], ["user.disable"], "one audited call")
        r = nurse.req("GET", "/staff")
        eq(r.status, 303, "a disabled account's session still works")
        r = adm.req("GET", "/staff/accounts")
        check("Disabled on" in r.text, "the account shown disabled")
        r = adm.req("POST", "/staff/accounts/nobody/disable", {"csrf_token": token, "confirm": "yes"})
        eq(r.status, 404, "an unknown account")
        # not one's own account: no button for it, and a post refused
        check("accounts/root.admin/disable" not in r.text and
              "accounts/root.admin/disable" not in adm.req("GET", "/staff/accounts").text,
              "a button to disable one's own account")
        seq = audit_seq(cx.db)
        r = adm.req("POST", "/staff/accounts/root.admin/disable", {"csrf_token": token,
                                                                   "confirm": "yes"})
        eq(r.status, 409, "one's own account disabled")
        check("You cannot disable your own account" in r.text, "says why", r.text[:3000])
        eq(sql(cx.db, "SELECT disabled_at FROM users WHERE username = 'root.admin'")[0][0], None,
           "one's own account disabled")
        eq(events_after(cx.db, seq), [], "a refusal of bad input records nothing")
        eq(adm.req("GET", "/staff/accounts").status, 200, "still signed in")
        r = adm.req("POST", "/staff/accounts/far.away/disable", {"csrf_token": token, "confirm": "yes"})
        check(r.status in (403, 404), "another controller's account disabled", r.status)
        eq(sql(cx.db, "SELECT disabled_at FROM users WHERE username = 'far.away'")[0][0], None,
           "another controller's account disabled")

        # a new password, set by the admin: the old one stops working
        r = adm.req("POST", "/staff/accounts/dr.jones/password", {"csrf_token": token})
        eq(r.status, 200, "the password form")
        no_violations(cx.binary, d, "account-password.html", r.text, base)
        r = adm.req("POST", "/staff/accounts/dr.jones/password", {"csrf_token": token,
                                                                  "confirm": "yes",
                                                                  "password": "aaaa"})
        eq(r.status, 400, "a short password")
        check('href="#password"' in r.text, "the error by the field")
        r = adm.req("POST", "/staff/accounts/dr.jones/password", {"csrf_token": token,
                                                                  "confirm": "yes",
                                                                  "password": "a new pass phrase"})
        eq(r.status, 200, "password set")
        jones = Browser(srv)
        r = jones.req("POST", "/staff/sign-in", {"username": "dr.jones", "password": PASSWORD})
        eq(r.status, 401, "the old password")
        r = jones.req("POST", "/staff/sign-in", {"username": "dr.jones",
                                                 "password": "a new pass phrase"})
        eq(r.status, 303, "the new password")

        # an API token: created (shown once), used, revoked after a confirmation
        r = adm.req("POST", "/staff/tokens", {"csrf_token": token, "name": "lab-feed"})
        eq(r.status, 400, "a token without a scope")
        check('href="#token-roles"' in r.text, "the error by the field")
        seq = audit_seq(cx.db)
        r = adm.req("POST", "/staff/tokens", {"csrf_token": token, "name": "lab-feed",
                                              "roles": "auditor"})
        eq(r.status, 200, "token created")
        eq([e["action"] for e in events_after(cx.db, seq)], ["token.create"], "one audited call")
        m = re.search(r"(cut_[A-Za-z0-9_-]+)", r.text)
        check(m, "the token shown", r.text[:3000])
        api_token = m.group(1)
        no_violations(cx.binary, d, "token-created.html", r.text, base)
        r = srv.call("GET", "/v1/audit", headers={"Authorization": "Bearer " + api_token})
        eq(r.status, 200, "the token works")
        r = adm.req("GET", "/staff/accounts")
        check(api_token not in r.text and "lab-feed" in r.text and "In use" in r.text,
              "the token listed, its secret not", r.text[-5000:])
        tid = re.search(r'action="[^"]*tokens/([0-9a-f-]{36})/revoke"', r.text).group(1)
        r = adm.req("POST", "/staff/tokens/%s/revoke" % tid, {"csrf_token": token})
        eq(r.status, 200, "the confirmation")
        check("Revoke this API token" in r.text, "asks first")
        r = srv.call("GET", "/v1/audit", headers={"Authorization": "Bearer " + api_token})
        eq(r.status, 200, "revoked before confirming")
        seq = audit_seq(cx.db)
        r = adm.req("POST", "/staff/tokens/%s/revoke" % tid, {"csrf_token": token,
                                                              "confirm": "yes"})
        eq(r.status, 200, "revoked")
        eq([e["action"] for e in events_after(cx.db, seq)], ["token.revoke"], "one audited call")
        r = srv.call("GET", "/v1/audit", headers={"Authorization": "Bearer " + api_token})
        eq(r.status, 401, "a revoked token")
        r = adm.req("GET", "/staff/accounts")
        check("Revoked on" in r.text, "the token shown revoked")
        no_violations(cx.binary, d, "accounts-after.html", r.text, base)

        # an auditor is refused the admin's pages and actions
        aud = Browser(srv)
        sign_in(aud, st, "ann.audit")
        t2 = csrf(aud.req("GET", "/staff/audit").text)
        seq = audit_seq(cx.db)
        r = aud.req("POST", "/staff/accounts/dr.jones/disable", {"csrf_token": t2, "confirm": "yes"})
        eq(r.status, 403, "an auditor disabling")
        check(any(e["action"] == "user.disable" and e["outcome"] == "denied"
                  for e in events_after(cx.db, seq)), "the refusal is not recorded")


@case("accounts page: a new password is hashed off the store's thread: other pages are served "
      "while it is made, and the account is added (or the password set) once it is")
def t_accounts_hash_off_store_thread(ctx):
    cx, st = setup(ctx)
    d = ctx.tmp.make()
    gate = os.path.join(d, "gate")
    with Server(cx, env={"CUSTOS_FAULT_HOLD": gate}) as srv:
        adm = Browser(srv)
        sign_in(adm, st, "root.admin")
        token = csrf(adm.req("GET", "/staff/accounts").text)
        other = Browser(srv)
        sign_in(other, st, "dr.jones")
        for label, path, fields, done in (
                ("add", "/staff/accounts",
                 {"csrf_token": token, "username": "nurse.lee", "password": PASSWORD,
                  "roles": "clinician"}, "user.add"),
                ("password", "/staff/accounts/dr.jones/password",
                 {"csrf_token": token, "confirm": "yes", "password": "another pass phrase"},
                 "user.reset_password")):
            open(gate, "w").close()
            seq = audit_seq(cx.db)
            out = {}
            t = threading.Thread(target=lambda: out.update(r=adm.req("POST", path, fields)))
            t.start()
            try:
                for _ in range(3000):
                    if os.path.exists(gate + ".held"):
                        break
                    time.sleep(0.01)
                check(os.path.exists(gate + ".held"),
                      label + ": the password was not hashed on an HTTP thread")
                # the store's thread is free: another member of staff is served
                r = other.req("GET", "/staff")
                eq(r.status, 200, label + ": a page while the hash is made")
                eq([e["action"] for e in events_after(cx.db, seq)
                    if e["action"] == done], [], label + ": stored before its hash")
            finally:
                os.unlink(gate)
                t.join(60)
            eq(out["r"].status, 200, label + " done once the hash is made")
            eq([e["action"] for e in events_after(cx.db, seq) if e["action"] == done], [done],
               label + ": one audited call")
            os.unlink(gate + ".held")
        eq(sql(cx.db, "SELECT count(*) FROM users WHERE username = 'nurse.lee'")[0][0], 1,
           "the account added")
        jones = Browser(srv)
        r = jones.req("POST", "/staff/sign-in", {"username": "dr.jones",
                                                 "password": "another pass phrase"})
        eq(r.status, 303, "the new password")
