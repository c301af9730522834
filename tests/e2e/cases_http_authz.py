"""HTTP API: the authorisation matrix. Every role x every route of
src/http/router.c x (own controller / other controller / missing id / on or
off the care list / under break-glass), with the expected answer derived from
the rules of src/domain/access.c (ported below), and exactly one audit event
per authenticated request that reaches a record decision."""

import os
import re

from harness import registry, Fail, check, eq, sql
from fixtures import PERSON1, PERSON2, NHS1, NHS2, EMAIL1_NORM
from http_client import (Server, Staff, expect_status, expect_problem, events_after,
                         audit_seq, random_id, random_pseudonym)

CASES, case = registry()


# ---------------------------------------------------------------- access.c, in Python

ALL = {"contact", "identifying", "health", "genetic", "special_category", "family",
       "workplace_education_financial", "online_identifier"}
DEMOGRAPHIC = {"contact", "identifying"}
CLINICAL = {"health", "genetic", "special_category", "family", "workplace_education_financial"}
IDENTIFYING_KEYS = ("name", "nhs_number", "nhs_number_test", "email", "phone", "address",
                    "birth_date", "postcode", "local_ref", "controller")


# What a clinician may do for a patient under break-glass (reading and recording
# care), and what needs the patient on their care list.
CARE_OR_GLASS = ("subject.read", "subject.update", "items.add")
CARE_ONLY = ("subject.access_log", "consent.change", "subject.export", "subject.disclose")


def decide_role(role, act, care, glass=False):
    """One role's answer (decide_role in access.c): (categories, pseudonymise) or None.
    care: on the care list; glass: under an active break-glass grant."""
    if role == "clinician":
        if act in ("subject.create", "subject.search", "break_glass.request"):
            return ALL, False
        if act in CARE_OR_GLASS:
            return (ALL, False) if care or glass else None
        if act in CARE_ONLY:
            return (ALL, False) if care else None
    elif role == "care_admin":
        if act in ("subject.create", "subject.read", "subject.update", "items.add",
                   "subject.search", "subject.list", "care_list.change", "consent.change",
                   "request.receive"):
            return DEMOGRAPHIC, False
    elif role == "dpo":
        if act in ("subject.read", "subject.update", "subject.erase", "subject.search",
                   "subject.list", "subject.access_log", "audit.read", "audit.verify",
                   "break_glass.review", "consent.change", "rights.change", "policy.apply",
                   "request.receive", "request.manage", "subject.export",
                   "subject.disclose"):
            return ALL, False
    elif role == "analyst":
        if act in ("subject.read", "subject.list"):
            return CLINICAL, True
    elif role == "auditor":
        if act in ("subject.access_log", "audit.read", "audit.verify", "break_glass.review"):
            return set(), False
    elif role == "admin":
        if act in ("admin", "audit.verify", "policy.apply"):
            return set(), False
    return None


def pseudonymous(roles):
    """cu_roles_pseudonymous: subjects seen only by pseudonym."""
    return "analyst" in roles and not set(roles) & {"operator", "clinician", "care_admin",
                                                    "dpo", "auditor"}


def deny_rule(roles, act, care, glass):
    """The rule recorded when every role refuses (the first role's, as access.c)."""
    order = ["operator", "clinician", "care_admin", "dpo", "analyst", "auditor", "admin"]
    first = sorted(roles, key=order.index)[0]
    if first == "clinician" and act in CARE_OR_GLASS + CARE_ONLY:
        return "break-glass-not-permitted" if glass and act in CARE_ONLY else \
            "not-on-care-list"
    return "role-not-permitted"


def decide(roles, actor_ctl, act, target_ctl, care, written=(), glass=False):
    """cu_access_decide plus cu_op_authorise's category check for writes:
    ("conceal"|"deny"|"allow", categories, pseudonymise)."""
    if target_ctl and target_ctl != actor_ctl:
        return "conceal", set(), False
    got = [d for d in (decide_role(r, act, care, glass) for r in roles) if d is not None]
    if not got:
        return "deny", set(), False
    cats = set().union(*[d[0] for d in got])
    pseudo = all(d[1] for d in got)
    if set(written) - cats:
        return "deny", cats, pseudo
    return "allow", cats, pseudo


# ---------------------------------------------------------------- the routes

HEALTH_ITEM = {"category": "health", "field": "observation",
               "value": "Mild borogove allergy, noted in clinic"}
CONTACT_ITEM = {"category": "contact", "field": "alternate_contact",
                "value": "Reception desk, ext. 4471"}


class Route:
    def __init__(self, name, method, tpl, act, action, ok, body=None, written=(),
                 targeted=True, by_pseudonym=False, query=""):
        self.name, self.method, self.tpl, self.act, self.action = name, method, tpl, act, action
        self.ok, self.body, self.written, self.targeted = ok, body, set(written), targeted
        self.by_pseudonym = by_pseudonym  # {id} may be a pseudonym (open_subject)
        self.query = query

    def path(self, sid=None, user=None):
        p = self.tpl
        if sid is not None:
            p = p.replace("{id}", sid)
        if user is not None:
            p = p.replace("{user}", user)
        return p + self.query


def routes_phase1():
    """Every personal route of router.c but break-glass requests (phase 2)."""
    return [
        Route("subject.create", "POST", "/v1/subjects", "subject.create", "create", 201,
              body={"kind": "patient", "name": "Hieronymus Matrixworth",
                    "items": [HEALTH_ITEM]}, written={"contact", "health"}, targeted=False),
        Route("subject.create-demographic", "POST", "/v1/subjects", "subject.create", "create",
              201, body={"kind": "patient", "name": "Perpetua Registerfield",
                         "postcode": "QQ1 2ZZ"}, written={"contact"}, targeted=False),
        Route("subject.list", "GET", "/v1/subjects", "subject.list", "search", 200,
              targeted=False),
        Route("subject.search-nhs1", "POST", "/v1/subjects/search", "subject.search", "search",
              200, body={"nhs_number": NHS1}, targeted=False, written={"identifying"}),
        Route("subject.search-nhs2", "POST", "/v1/subjects/search", "subject.search", "search",
              200, body={"nhs_number": NHS2}, targeted=False, written={"identifying"}),
        Route("subject.search-post", "POST", "/v1/subjects/search", "subject.search", "search",
              200, body={"email": EMAIL1_NORM}, targeted=False, written={"contact"}),
        Route("subject.get", "GET", "/v1/subjects/{id}", "subject.read", "read", 200,
              by_pseudonym=True),
        Route("items.list", "GET", "/v1/subjects/{id}/items", "subject.read", "read", 200,
              by_pseudonym=True),
        Route("subject.patch", "PATCH", "/v1/subjects/{id}", "subject.update", "update", 200,
              body={"postcode": "QX9 1AB"}, written={"contact"}, by_pseudonym=True),
        Route("items.create-health", "POST", "/v1/subjects/{id}/items", "items.add", "create",
              201, body={"items": [HEALTH_ITEM]}, written={"health"}, by_pseudonym=True),
        Route("items.create-contact", "POST", "/v1/subjects/{id}/items", "items.add", "create",
              201, body={"items": [CONTACT_ITEM]}, written={"contact"}, by_pseudonym=True),
        Route("access_log.get", "GET", "/v1/subjects/{id}/access-log", "subject.access_log",
              "audit", 200),
        Route("consent.create", "POST", "/v1/subjects/{id}/consents", "consent.change",
              "consent.give", 201, body={"purpose": "newsletter", "method": "staff"},
              by_pseudonym=True),
        Route("consent.list", "GET", "/v1/subjects/{id}/consents", "consent.change",
              "consent.read", 200, by_pseudonym=True),
        Route("unsubscribe_link.create", "POST", "/v1/subjects/{id}/unsubscribe-links",
              "consent.change", "consent.link", 201, body={"purpose": "newsletter"},
              by_pseudonym=True),
        Route("rights.get", "GET", "/v1/subjects/{id}/rights", "rights.change", "rights.read",
              200, by_pseudonym=True),
        Route("sar.get", "GET", "/v1/subjects/{id}/sar", "subject.export", "export", 200,
              by_pseudonym=True),
        Route("sar.post", "POST", "/v1/subjects/{id}/sar", "subject.export", "export", 200,
              body={"format": "json"}, by_pseudonym=True),
        Route("portability.get", "GET", "/v1/subjects/{id}/portability", "subject.export",
              "export", 200, by_pseudonym=True),
        Route("disclosure.create", "POST", "/v1/subjects/{id}/disclosures",
              "subject.disclose", "disclose", 201,
              body={"organisation": "Ambridge Matrix Surgery", "basis": "e",
                    "channel": "letter", "categories": ["health"]}, by_pseudonym=True),
        Route("disclosure.list", "GET", "/v1/subjects/{id}/disclosures", "subject.disclose",
              "read", 200, by_pseudonym=True),
        Route("care_team.put", "PUT", "/v1/subjects/{id}/care-team/{user}",
              "care_list.change", "care_list.add", 204),
        Route("care_team.delete", "DELETE", "/v1/subjects/{id}/care-team/{user}",
              "care_list.change", "care_list.remove", 204),
        Route("break_glass.list", "GET", "/v1/break-glass", "break_glass.review", "audit", 200,
              targeted=False),
        Route("audit.list", "GET", "/v1/audit", "audit.read", "audit", 200, targeted=False),
        Route("audit.list-subject", "GET", "/v1/audit", "audit.read", "audit", 200,
              query="?subject={id}"),
        Route("audit.verify", "GET", "/v1/audit/verify", "audit.verify", "audit", 200,
              targeted=False),
    ]


BREAK_GLASS = Route("break_glass.create", "POST", "/v1/subjects/{id}/break-glass",
                    "break_glass.request", "break_glass", 201,
                    body={"reason": "Unconscious in A&E, no care team reachable",
                          "minutes": 1})

# Every route of the router table must be exercised: checked against router.c.
ROUTER_NAMES = {"healthz", "metrics", "session.create", "session.delete",
                "session.delete_all", "subject.create",
                "subject.list", "subject.search", "subject.get", "subject.patch",
                "items.create", "items.list", "access_log.get", "break_glass.create",
                "break_glass.list", "care_team.put", "care_team.delete", "audit.list",
                "audit.verify", "consent.create", "consent.list", "unsubscribe_link.create",
                "rights.get", "notice.get", "policy.get", "policy.put", "policy.check",
                "policy.versions", "ropa.get", "unsubscribe.get", "unsubscribe.post",
                "restriction.put", "restriction.delete", "objection.create",
                "objection.delete", "request.create", "request.list", "request.due",
                "request.get", "request.transition", "erasure.plan", "erasure.execute",
                "sar.get", "sar.post", "portability.get", "disclosure.create",
                "disclosure.list", "task.list", "task.due", "task.ack", "task.done",
                "pathway.enrol", "pathway.discharge", "asset.get",
                "questionnaire_link.create", "questionnaire_response.create",
                "questionnaire_response.list", "questionnaire_form.get",
                "questionnaire_form.post", "staff.sign_in.get", "staff.sign_in.post",
                "staff.sign_out", "staff.sign_out_everywhere", "staff.home", "staff.tasks",
                "staff.task.ack", "staff.task.done", "staff.patients", "staff.patients.search", "staff.patient",
                "staff.requests", "staff.request", "staff.request.change",
                "staff.access_package", "staff.portable_copy", "staff.erasure",
                "staff.erasure.execute", "staff.policy", "staff.policy.notice",
                "staff.policy.record",
                "portal.invite",
                "portal.invitation.get", "portal.invitation.post",
                "portal.sign_in.get", "portal.sign_in.post", "portal.sign_out",
                "portal.home", "portal.data", "portal.access",
                "portal.download", "portal.questionnaires", "portal.questionnaire.get",
                "portal.questionnaire.post",
                "portal.cookies.get", "portal.cookies.post",
                "portal.consents", "portal.consents.post", "portal.requests",
                "portal.requests.post", "portal.code.get", "portal.code.post",
                "staff.patient.break_glass", "staff.patient.items",
                "staff.audit",
                "staff.audit.verify", "staff.accounts", "staff.account.add",
                "staff.account.disable", "staff.account.password", "staff.token.create",
                "staff.token.revoke"}
# Routes whose roles and audit events other cases check instead:
# tests/e2e/cases_http_policy.py the public notice and unsubscribe pages, the
# policy and record of processing (no subject), and restriction and objection,
# which change what later requests may do; tests/e2e/cases_http_requests.py the
# rights requests; tests/e2e/cases_erasure.py erasure (dpo only) over HTTP;
# tests/e2e/cases_web.py the pages' assets (public, nothing personal); and those
# named below.
ELSEWHERE = {("GET", "/v1/controllers/{id}/notice"), ("GET", "/v1/policy"),
             ("PUT", "/v1/policy"), ("POST", "/v1/policy/check"),
             ("GET", "/v1/policy/versions"), ("GET", "/v1/ropa"),
             ("GET", "/v1/unsubscribe/{token}"), ("POST", "/v1/unsubscribe/{token}"),
             ("PUT", "/v1/subjects/{id}/restriction"),
             ("DELETE", "/v1/subjects/{id}/restriction"),
             ("POST", "/v1/subjects/{id}/objections"),
             ("DELETE", "/v1/subjects/{id}/objections/{purpose}"),
             # rights requests: roles, concealment and one audit event per call in
             # tests/e2e/cases_http_requests.py
             ("POST", "/v1/requests"), ("GET", "/v1/requests"), ("GET", "/v1/requests/due"),
             ("GET", "/v1/requests/{id}"), ("POST", "/v1/requests/{id}/transitions"),
             ("POST", "/v1/subjects/{id}/erasure/plan"),
             ("POST", "/v1/subjects/{id}/erasure"),
             # the task list and follow-up pathways (clinicians only): every role,
             # the care list and concealment in tests/e2e/cases_pathways.py
             ("GET", "/v1/tasks"), ("GET", "/v1/tasks/due"), ("POST", "/v1/tasks/{id}/ack"),
             ("POST", "/v1/tasks/{id}/done"), ("POST", "/v1/subjects/{id}/pathways"),
             ("POST", "/v1/subjects/{id}/pathways/{pathway}/discharge"),
             ("GET", "/assets/{version}/{asset}"),
             # questionnaire links and responses: roles, refusals and one audit event
             # in tests/e2e/cases_responses.py; the public form (the link is the
             # credential) in tests/e2e/cases_qform.py
             ("POST", "/v1/subjects/{id}/questionnaire-links"),
             ("POST", "/v1/subjects/{id}/questionnaire-responses"),
             ("GET", "/v1/subjects/{id}/questionnaire-responses"),
             ("GET", "/q/{qtoken}"), ("POST", "/q/{qtoken}"),
             # the staff console's pages (a cookie session, not a bearer token): the
             # care list, refusals, CSRF and the audit in tests/e2e/cases_staff_pages.py
             ("GET", "/staff/sign-in"), ("POST", "/staff/sign-in"), ("POST", "/staff/sign-out"),
             ("GET", "/staff"), ("GET", "/staff/tasks"),
             ("POST", "/staff/tasks/{id}/acknowledge"), ("POST", "/staff/tasks/{id}/done"),
             ("GET", "/staff/patients"), ("POST", "/staff/patients"),
             ("GET", "/staff/patients/{id}"),
             # signing out everywhere (every session of the caller's own account):
             # tests/e2e/cases_signout.py
             ("DELETE", "/v1/sessions"), ("POST", "/staff/sign-out-everywhere"),
             # the DPO's pages: tests/e2e/cases_dpo_pages.py
             ("GET", "/staff/requests"), ("GET", "/staff/requests/{id}"),
             ("POST", "/staff/requests/{id}"), ("GET", "/staff/patients/{id}/access-package"),
             ("GET", "/staff/patients/{id}/portable-copy"),
             ("GET", "/staff/patients/{id}/erasure"), ("POST", "/staff/patients/{id}/erasure"),
             ("GET", "/staff/policy"),
             ("GET", "/staff/policy/notice"), ("GET", "/staff/policy/record"),
             # the patient portal: who may invite, refusals and one audit event per
             # call, and the invitation's pages, in tests/e2e/cases_portal.py
             ("POST", "/v1/subjects/{id}/portal-invitations"),
             ("GET", "/portal/invitation/{pcode}"), ("POST", "/portal/invitation/{pcode}"),
             # a patient's sign-in, session and pages (their own cookie), in
             # tests/e2e/cases_portal.py
             ("GET", "/portal/sign-in"), ("POST", "/portal/sign-in"),
             ("POST", "/portal/sign-out"), ("GET", "/portal"), ("GET", "/portal/data"),
             ("GET", "/portal/access"),
             # a patient's downloads and questionnaires, in
             # tests/e2e/cases_portal_files.py
             ("GET", "/portal/download"), ("GET", "/portal/questionnaires"),
             ("GET", "/portal/questionnaires/{id}"), ("POST", "/portal/questionnaires/{id}"),
             # the portal's cookie banner and cookies page (a visitor signed in
             # or not), in tests/e2e/cases_cookies.py
             ("GET", "/portal/cookies"), ("POST", "/portal/cookies"),
             # a patient's consents, rights requests and a typed invitation code,
             # in tests/e2e/cases_portal_rights.py
             ("GET", "/portal/consents"), ("POST", "/portal/consents"),
             ("GET", "/portal/requests"), ("POST", "/portal/requests"),
             ("GET", "/portal/invitation"), ("POST", "/portal/invitation"),
             # break glass and adding to a record from the console: the grant, the
             # entry, CSRF and the audit in tests/e2e/cases_clinician_pages.py
             ("POST", "/staff/patients/{id}/break-glass"), ("POST", "/staff/patients/{id}/items"),
             # the auditor's and the administrator's pages: roles, refusals, CSRF
             # and the audit in tests/e2e/cases_audit_pages.py
             ("GET", "/staff/audit"), ("POST", "/staff/audit/verify"),
             ("GET", "/staff/accounts"), ("POST", "/staff/accounts"),
             ("POST", "/staff/accounts/{user}/disable"),
             ("POST", "/staff/accounts/{user}/password"), ("POST", "/staff/tokens"),
             ("POST", "/staff/tokens/{id}/revoke")}


def router_table():
    """(method, path, name, personal) rows parsed from src/http/router.c."""
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(here, "..", "..", "src", "http", "router.c")
    text = open(src).read()
    rows = re.findall(r'\{CU_R_\w+,\s*"(\w+)",\s*"([^"]+)",\s*"([^"]+)",\s*(true|false)\}',
                      text)
    return [(m, p, n, pers == "true") for m, p, n, pers in rows]


# ---------------------------------------------------------------- the matrix

class Principal:
    def __init__(self, label, name, roles, controller, token, care=(), bg=()):
        self.label, self.name, self.roles = label, name, roles.split(",")
        self.roles_text = roles
        self.controller, self.token = controller, token
        self.care, self.bg = set(care), set(bg)


class Matrix:
    def __init__(self, srv, st, db):
        self.srv, self.st, self.db = srv, st, db
        self.problems = []
        self.unauthorised_successes = []
        self.requests = 0
        self.bodies_404 = {}   # (principal, route, kind) -> (response, id)
        self.responses = {}    # (principal, route, target) -> response

    def fail(self, msg):
        self.problems.append(msg)

    def target_info(self, target):
        """(id to put in the path, real subject id or None, its controller or None)."""
        subj = self.st.subjects
        if target in ("S1", "S2", "S3"):
            return subj[target]["id"], subj[target]["id"], subj[target]["controller"]
        if target in ("P1", "P2"):
            real = subj["S" + target[1]]
            return real["pseudonym"], real["id"], real["controller"]
        if target == "missing":
            return random_id(), None, None
        if target == "missing-psn":
            return random_pseudonym(), None, None
        raise AssertionError(target)

    def expected(self, p, route, target_ctl, real_id, missing, sid=None):
        """(kind, status, outcome, rule) expected for one request."""
        on_care = real_id is not None and real_id in p.care
        glass = real_id is not None and real_id in p.bg and not on_care
        # those who see subjects only by pseudonym may name them no other way,
        # whether or not the id exists
        if route.targeted and pseudonymous(p.roles) and not sid.startswith("psn_"):
            return "deny", 403, "denied", "pseudonym-required"
        if route.targeted and missing:
            return "notfound", 404, "not_found", ""
        tctl = target_ctl if route.targeted else p.controller
        d, cats, pseudo = decide(p.roles, p.controller, route.act, tctl, on_care,
                                 route.written if route.act in (
                                     "subject.create", "items.add", "subject.update") else (),
                                 glass)
        if d == "conceal":
            return "conceal", 404, "denied", "other-controller"
        if d == "deny":
            if cats:
                return "deny", 403, "denied", "category-not-permitted"
            return "deny", 403, "denied", deny_rule(p.roles, route.act, on_care, glass)
        return "allow", route.ok, "ok", ""

    def run(self, p, route, target=None, user="clinician3"):
        sid = real_id = tctl = None
        if route.targeted:
            sid, real_id, tctl = self.target_info(target)
        missing = route.targeted and real_id is None
        path = route.path(sid, user)
        if "{id}" in route.query:
            path = path.replace("{id}", sid)
        kind, status, outcome, rule = self.expected(p, route, tctl, real_id, missing, sid)
        seq0 = audit_seq(self.db)
        r = self.srv.call(route.method, path, route.body, token=p.token,
                          ctype="application/merge-patch+json" if route.method == "PATCH"
                          else "application/json")
        self.requests += 1
        evs = events_after(self.db, seq0)
        what = "%s %s %s [%s]" % (p.label, route.name, target or "-", path)
        self.responses[(p.label, route.name, target)] = r
        if 200 <= r.status < 300 and kind in ("deny", "conceal"):
            self.unauthorised_successes.append("%s -> %d (expected %d %s)" % (
                what, r.status, status, kind))
        if r.status != status:
            self.fail("%s: got %d, expected %d (%s): %s" % (what, r.status, status, kind,
                                                             r.text[:200]))
            return r
        if r.header("cache-control") != "no-store":
            self.fail("%s: no Cache-Control: no-store" % what)
        if status >= 400:
            try:
                expect_problem(r, status, {403: "forbidden", 404: "not-found"}[status])
            except Fail as e:
                self.fail("%s: %s" % (what, e))
        if kind in ("conceal", "notfound"):
            psn = bool(sid) and sid.startswith("psn_")
            self.bodies_404[(p.label, route.name, kind, psn)] = (r, sid)
        # exactly one audit event, with the right actor, role and outcome
        if len(evs) != 1:
            self.fail("%s: %d audit events appended, expected 1: %r" % (
                what, len(evs), [(e["actor"], e["action"], e["outcome"]) for e in evs]))
            return r
        e = evs[0]
        if route.name.startswith("subject.search") and kind == "allow" and not self.found(
                p, route):
            outcome = "not_found"  # an empty search is recorded as such, answered 200 []
        want = {"actor": p.name, "role": p.roles_text, "outcome": outcome,
                "action": route.action, "rule": rule,
                "via": "http %s %s" % (route.method, route.tpl)}
        if route.targeted and target not in ("missing-psn",) and real_id is not None:
            want["subject"] = real_id
        elif route.targeted and target == "missing":
            want["subject"] = sid
        for k, v in want.items():
            if e[k] != v:
                self.fail("%s: audit event %s is %r, expected %r" % (what, k, e[k], v))
        if kind == "allow":
            try:
                self.check_body(p, route, target, real_id, r, e, sid)
            except Fail as ex:
                self.fail("%s: %s" % (what, ex))
        return r

    def found(self, p, route):
        """Whether a search by p finds a subject (only within p's controller)."""
        if route.name == "subject.search-nhs2":
            return self.st.subjects["S2"]["controller"] == p.controller
        return self.st.subjects["S1"]["controller"] == p.controller

    def check_body(self, p, route, target, real_id, r, ev, sid=None):
        subj = self.st.subjects
        if route.ok == 204:
            eq(r.body, b"", "204 body")
            return
        j = r.json()
        n = route.name
        if n.startswith("subject.create"):
            check(re.match(r"^[0-9a-f-]{36}$", j.get("id", "")), "create: no id", j)
            eq(r.header("location"), "/v1/subjects/" + j["id"], "Location")
            eq(ev["subject"], j["id"], "audit subject of a create")
        elif n.startswith("subject.search"):
            want = []
            if self.found(p, route):
                want = [subj["S2" if n == "subject.search-nhs2" else "S1"]["id"]]
            eq(j, {"ids": want}, "search answer")
        elif n == "subject.list":
            ids = [s["id"] for s in j["subjects"]]
            ours = sql(self.db, "SELECT id, pseudonym FROM subjects WHERE controller_id = ?",
                       (p.controller,))
            if "analyst" in p.roles and len(p.roles) == 1:
                check(all(i.startswith("psn_") for i in ids), "analyst list shows ids", ids)
                for x in j["subjects"]:
                    check(re.match(r"^\d{4}-\d{2}$", x["created_at"]), "analyst list time", x)
                eq(sorted(ids), sorted(ps for _, ps in ours), "analyst list (pseudonyms)")
            else:
                eq(sorted(ids), sorted(i for i, _ in ours), "subject list")
            others = [s["id"] for s in subj.values() if s["controller"] != p.controller]
            for o in others:
                check(o not in r.text, "list shows another controller's subject", o)
        elif n in ("subject.get", "items.list"):
            self.check_view(p, target, real_id, j, n == "items.list", r.text)
        elif n == "subject.patch":
            eq(j.get("rectified"), True, "patch answer")
        elif n.startswith("items.create"):
            check(isinstance(j.get("items"), list) and len(j["items"]) == 1, "items answer", j)
        elif n == "access_log.get":
            eq(j.get("subject"), real_id, "access-log subject")
            for e in j["events"]:
                eq(e["subject"], real_id, "access-log event subject")
        elif n == "audit.list-subject":
            for e in j["events"]:
                eq(e["subject"], real_id, "audit ?subject= event subject")
        elif n == "audit.list":
            check(len(j["events"]) > 0, "audit list empty", j)
            # a staff member acts within their own controller: another controller's
            # trail (its subjects, its staff) is not theirs to read
            foreign = [e for e in j["events"] if e["controller"] not in (None, "",
                                                                         p.controller)]
            check(not foreign, "GET /v1/audit shows %d events of another controller, e.g. %r"
                  % (len(foreign), foreign[:1]))
        elif n == "audit.verify":
            eq(j.get("ok"), True, "audit verify ok")
        elif n == "consent.create":
            eq(j.get("pii_principal_id"), real_id, "receipt principal")
            eq(j.get("state"), "given", "receipt state")
            eq(j["events"][-1]["record_id"], j["record_id"], "receipt's last event")
        elif n == "consent.list":
            # the subject as the caller named it (an id, or a pseudonym)
            eq(j.get("subject"), sid, "consent list subject")
            check(isinstance(j.get("consents"), list), "consent list", j)
        elif n == "unsubscribe_link.create":
            check(j.get("token", "").startswith("cuu_"), "unsubscribe token", j)
        elif n == "rights.get":
            check(isinstance(j.get("objections"), list), "rights answer", j)
        elif n in ("sar.get", "sar.post", "portability.get"):
            eq(j["subject"]["id"], real_id, "package subject")
            check(isinstance(j.get("items"), list), "package items", j)
        elif n == "disclosure.create":
            check(re.match(r"^[0-9a-f-]{36}$", j.get("id", "")), "disclosure: no id", j)
        elif n == "disclosure.list":
            check(isinstance(j.get("disclosures"), list), "disclosure list", j)
        elif n == "break_glass.list":
            check(isinstance(j.get("grants"), list), "grants", j)

    def check_view(self, p, target, real_id, j, items_only, text):
        s1 = self.st.subjects["S1"] if real_id == self.st.subjects["S1"]["id"] else \
            self.st.subjects["S2"] if real_id == self.st.subjects["S2"]["id"] else None
        _, cats, pseudo = decide(p.roles, p.controller, "subject.read", s1["controller"], True)
        items = j["items"]
        for it in items:
            check(it["category"] in cats, "%s sees a %s item" % (p.label, it["category"]), it)
        doc = s1["doc"]
        if pseudo:
            if not items_only:
                eq(j.get("pseudonymised"), True, "analyst view: pseudonymised")
                check(j["id"].startswith("psn_"), "analyst view id is not a pseudonym", j["id"])
                eq(j["id"], s1["pseudonym"], "analyst view pseudonym")
                for k in IDENTIFYING_KEYS:
                    check(k not in j, "analyst view has key %s" % k, sorted(j))
                eq(j.get("field_item_ids"), {}, "analyst field_item_ids")
            for secret in (doc["name"], NHS1, NHS2, doc.get("email", "").strip().lower(),
                           real_id):
                if secret:
                    check(secret not in text, "analyst view leaks %r" % secret)
            check(any(it["category"] == "health" for it in items),
                  "analyst sees no clinical item")
            # items by item pseudonym, times to the month, no recorded_by
            real_items = {r[0] for r in sql(self.db, "SELECT id FROM items WHERE subject_id = ?",
                                            (real_id,))}
            for it in items:
                check(re.match(r"^psi_[0-9a-f]{32}$", it["id"]), "analyst item id", it)
                check(it["id"] not in real_items, "analyst sees a real item id", it)
                check("recorded_by" not in it, "analyst sees recorded_by", it)
                for k in ("collected_at", "recorded_at", "updated_at"):
                    check(re.match(r"^\d{4}-\d{2}$", it[k] or ""), "analyst %s" % k, it)
            if not items_only:
                for k in ("created_at", "updated_at"):
                    check(re.match(r"^\d{4}-\d{2}$", j[k] or ""), "analyst %s" % k, j)
        elif cats == DEMOGRAPHIC:
            check(not items_only and j.get("name") == doc["name"] or items_only,
                  "care_admin view has no name", j)
            for it in doc.get("items", []):
                if it["category"] not in DEMOGRAPHIC:
                    check(it["value"] not in text, "care_admin sees a %s value" %
                          it["category"])
            check(HEALTH_ITEM["value"] not in text, "care_admin sees a health value")
        else:
            if not items_only:
                eq(j.get("id"), real_id, "view id")
                eq(j.get("name"), doc["name"], "view name")
            for it in doc.get("items", []):
                check(it["value"] in text, "%s does not see %s" % (p.label, it["field"]))


def build(ctx):
    cx = ctx.custos()
    cx.ok("init")
    st = Staff(cx)
    st.controller("A", "Ambridge Matrix Trust")
    st.controller("B", "Borchester Matrix Practice")
    for name, roles in (("clinician", "clinician"), ("clinician2", "clinician"),
                        ("clinician3", "clinician"), ("care_admin", "care_admin"),
                        ("dpo", "dpo"), ("analyst", "analyst"), ("auditor", "auditor"),
                        ("admin", "admin")):
        st.user(name, "A", roles)
    st.user("clinician_b", "B", "clinician")
    st.token("ehr-feed", "A", "clinician")
    st.subject("S1", "A", PERSON1)
    st.subject("S2", "B", PERSON2)
    st.care("clinician", "S1")
    st.care("clinician_b", "S2")
    for label in ("S1", "S2"):
        s = st.subjects[label]
        s["pseudonym"] = sql(cx.db, "SELECT pseudonym FROM subjects WHERE id = ?",
                             (s["id"],))[0][0]
        check(s["pseudonym"] and s["pseudonym"].startswith("psn_"), "no pseudonym", s)
    for u in ("dpo", "admin"):
        check(st.users[u]["totp_secret"], "%s has no one-time code secret" % u)
    return cx, st


def principals(st):
    A, B = st.controllers["A"], st.controllers["B"]
    s1, s2 = st.subjects["S1"]["id"], st.subjects["S2"]["id"]
    ps = []
    for name in ("clinician", "clinician2", "care_admin", "dpo", "analyst", "auditor",
                 "admin"):
        ps.append(Principal(name, name, st.users[name]["roles"], A, st.sessions[name],
                            care={s1} if name == "clinician" else ()))
    ps.append(Principal("clinician_b", "clinician_b", "clinician", B,
                        st.sessions["clinician_b"], care={s2}))
    ps.append(Principal("token", "token:ehr-feed", "clinician", A,
                        st.tokens["ehr-feed"]["token"]))
    return ps


def targets_for(route):
    if not route.targeted:
        return [None]
    t = ["S1", "S2", "missing"]
    if route.by_pseudonym:
        t += ["P1", "P2", "missing-psn"]
    return t


@case("http authz: every role x route x controller/care list/break-glass as access.c says; "
      "one audit event each; other controller's 404 = missing id's 404")
def t_matrix(ctx):
    cx, st = build(ctx)
    # the route list covers the router table exactly
    table = router_table()
    eq({n for _, _, n, _ in table}, ROUTER_NAMES, "routes in src/http/router.c")
    covered = {(r.method, r.tpl) for r in routes_phase1() + [BREAK_GLASS]} | {
        ("GET", "/healthz"), ("GET", "/metrics"), ("POST", "/v1/sessions"),
        ("DELETE", "/v1/sessions/current")} | ELSEWHERE
    eq(covered, {(m, p) for m, p, _, _ in table}, "routes of router.c the matrix exercises")
    with Server(cx) as srv:
        for name in ("clinician", "clinician2", "care_admin", "dpo", "analyst", "auditor",
                     "admin", "clinician_b"):
            st.signin(srv, name)
        m = Matrix(srv, st, cx.db)
        ps = principals(st)
        byname = {p.label: p for p in ps}
        # not personal: no sign-in, no audit event
        for path in ("/healthz", "/metrics"):
            for tok in (None, byname["dpo"].token):
                seq0 = audit_seq(cx.db)
                r = srv.call("GET", path, token=tok)
                try:
                    expect_status(r, 200, path)
                except Fail as e:
                    m.fail(str(e))
                eq(len(events_after(cx.db, seq0)), 0, "audit events appended by GET " + path)
        # phase 1: every personal route but break-glass requests
        for p in ps:
            for route in routes_phase1():
                for target in targets_for(route):
                    m.run(p, route, target)
        # the care-team PUT really put clinician3 on S1's care team, DELETE removed it:
        # nothing is left behind
        eq(sql(cx.db, "SELECT count(*) FROM care_list cl JOIN users u ON u.id = cl.user_id "
                      "WHERE u.username = 'clinician3'")[0][0], 0, "clinician3 care entries")
        # phase 2: break-glass requests (all but clinician2 on S1, who is next)
        for p in ps:
            for target in ("S1", "S2", "missing"):
                if p.label == "clinician2" and target == "S1":
                    continue
                if p.label == "token":
                    continue  # an API token is not a person: checked below
                r = m.run(p, BREAK_GLASS, target)
                if r.status == 201 and target in ("S1", "S2"):
                    p.bg.add(st.subjects[target]["id"])
        # an API token (not a staff account) cannot break the glass: refused as invalid
        # before any decision, for every target alike (no existence oracle)
        tok = byname["token"]
        for target in ("S1", "S2", "missing"):
            sid = m.target_info(target)[0]
            seq0 = audit_seq(cx.db)
            r = srv.call("POST", BREAK_GLASS.path(sid), BREAK_GLASS.body, token=tok.token)
            check(not (200 <= r.status < 300), "an API token got break-glass access",
                  r.describe())
            if r.status != 400:
                m.fail("token break-glass %s: got %d, expected 400: %s" % (
                    target, r.status, r.text[:200]))
            n = len(events_after(cx.db, seq0))
            if n != 0:
                m.fail("token break-glass %s: %d audit events for a request refused as "
                       "invalid" % (target, n))
        # clinician2 breaks the glass for S1, then reads it
        c2 = byname["clinician2"]
        s1 = st.subjects["S1"]["id"]
        r = m.run(c2, BREAK_GLASS, "S1")
        expect_status(r, 201, "clinician2 break-glass on S1")
        g = r.json()
        eq(g["subject"], s1, "break-glass answer subject")
        c2.bg.add(s1)
        for route in routes_phase1():
            if route.targeted and route.act != "care_list.change" and \
                    route.name != "audit.list-subject":
                m.run(c2, route, "S1")
        # the grant, and clinician2's reads, for the dpo (with the reason) and the auditor
        # (reason hidden); never another controller's grants
        reason = BREAK_GLASS.body["reason"]
        for who, shown in (("dpo", True), ("auditor", False)):
            r = srv.call("GET", "/v1/break-glass", token=byname[who].token)
            expect_status(r, 200, "GET /v1/break-glass as " + who)
            grants = r.json()["grants"]
            mine = [x for x in grants if x["user"] == "clinician2" and x["subject"] == s1]
            eq(len(mine), 1, "clinician2's grants listed for " + who)
            eq(mine[0]["id"], g["id"], "grant id")
            eq(mine[0]["reason"], reason if shown else None, "reason shown to " + who)
            check(st.subjects["S2"]["id"] not in r.text, "another controller's grant listed",
                  r.text[:500])
            if not shown:
                check(reason not in r.text, "the auditor sees the break-glass reason")
            # the whole log, page by page
            events, url = [], "/v1/subjects/%s/access-log?limit=500" % s1
            while url:
                r = srv.call("GET", url, token=byname[who].token)
                expect_status(r, 200, "access log as " + who)
                events += r.json()["events"]
                nxt = r.json().get("next")
                url = "/v1/subjects/%s/access-log?limit=500&cursor=%s" % (s1, nxt) if nxt \
                    else None
                check(len(events) < 100000, "an access log that never ends")
            reads = [e for e in events if e["actor"] == "clinician2" and
                     e["action"] == "read" and e["outcome"] == "ok"]
            check(reads, "clinician2's break-glass read not in the access log for " + who)
        bg_rows = sql(cx.db, "SELECT expires_at - granted_at FROM break_glass WHERE id = ?",
                      (g["id"],))
        eq(bg_rows, [(60 * 1000000,)], "break-glass lasts the minutes asked")
        # sign-out: one event each, then the session is refused
        for p in ps:
            if p.label == "token":
                continue
            seq0 = audit_seq(cx.db)
            r = srv.call("DELETE", "/v1/sessions/current", token=p.token)
            if r.status != 204:
                m.fail("sign-out of %s: %d %s" % (p.label, r.status, r.text[:200]))
            evs = events_after(cx.db, seq0)
            if [(e["actor"], e["action"], e["outcome"]) for e in evs] != [
                    (p.name, "signout", "ok")]:
                m.fail("sign-out of %s: audit events %r" % (p.label, evs))
            r = srv.call("GET", "/v1/audit/verify", token=p.token)
            if r.status != 401:
                m.fail("%s after sign-out: %d" % (p.label, r.status))
        # an other controller's 404 is the same answer as a missing id's
        compared = 0
        for (pl, rn, kind, psn), (r, sid) in list(m.bodies_404.items()):
            if kind != "conceal":
                continue
            other = m.bodies_404.get((pl, rn, "notfound", psn))
            if not other:
                m.fail("%s %s: no missing-id answer to compare with" % (pl, rn))
                continue
            r2, sid2 = other
            a = r.text.replace(sid, "<ID>") if sid else r.text
            b = r2.text.replace(sid2, "<ID>") if sid2 else r2.text
            if a != b or r.status != r2.status or \
                    r.header("content-type") != r2.header("content-type") or \
                    r.header("www-authenticate") != r2.header("www-authenticate"):
                m.fail("%s %s%s: other controller's 404 differs from a missing id's:\n"
                       "  %s\n  %s" % (pl, rn, " (by pseudonym)" if psn else "", a, b))
            compared += 1
    check(not m.unauthorised_successes and not m.problems,
          "%d unauthorised successes:\n%s" % (
              len(m.unauthorised_successes), "\n".join(m.unauthorised_successes[:40])),
          "%d of %d requests answered wrongly:\n%s" % (
              len(m.problems), m.requests, "\n".join(m.problems[:80])))
    check(not m.problems, "%d of %d requests answered wrongly:\n%s" % (
        len(m.problems), m.requests, "\n".join(m.problems[:60])))
    check(m.requests > 300, "only %d requests in the matrix" % m.requests)
    check(compared >= 60, "too few 404 comparisons: %d" % compared)
