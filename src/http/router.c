#include "http/router.h"

#include <string.h>

#include "crypto/crypto.h"
#include "domain/model.h"
#include "domain/portal.h"
#include "util/buf.h"

static const cu_route_def routes[] = {
    {CU_R_HEALTHZ, "GET", "/healthz", "healthz", false},
    {CU_R_METRICS, "GET", "/metrics", "metrics", false},
    {CU_R_SESSION_CREATE, "POST", "/v1/sessions", "session.create", false},
    {CU_R_SESSION_DELETE, "DELETE", "/v1/sessions/current", "session.delete", false},
    {CU_R_SESSION_DELETE_ALL, "DELETE", "/v1/sessions", "session.delete_all", false},
    {CU_R_SUBJECT_CREATE, "POST", "/v1/subjects", "subject.create", true},
    {CU_R_SUBJECT_LIST, "GET", "/v1/subjects", "subject.list", true},
    {CU_R_SUBJECT_SEARCH, "POST", "/v1/subjects/search", "subject.search", true},
    {CU_R_SUBJECT_GET, "GET", "/v1/subjects/{id}", "subject.get", true},
    {CU_R_SUBJECT_PATCH, "PATCH", "/v1/subjects/{id}", "subject.patch", true},
    {CU_R_ITEMS_CREATE, "POST", "/v1/subjects/{id}/items", "items.create", true},
    {CU_R_ITEMS_LIST, "GET", "/v1/subjects/{id}/items", "items.list", true},
    {CU_R_ACCESS_LOG, "GET", "/v1/subjects/{id}/access-log", "access_log.get", true},
    {CU_R_BREAK_GLASS_CREATE, "POST", "/v1/subjects/{id}/break-glass", "break_glass.create",
     true},
    {CU_R_BREAK_GLASS_LIST, "GET", "/v1/break-glass", "break_glass.list", true},
    {CU_R_CARE_PUT, "PUT", "/v1/subjects/{id}/care-team/{user}", "care_team.put", true},
    {CU_R_CARE_DELETE, "DELETE", "/v1/subjects/{id}/care-team/{user}", "care_team.delete",
     true},
    {CU_R_AUDIT_LIST, "GET", "/v1/audit", "audit.list", true},
    {CU_R_AUDIT_VERIFY, "GET", "/v1/audit/verify", "audit.verify", true},
    {CU_R_NOTICE, "GET", "/v1/controllers/{id}/notice", "notice.get", false},
    {CU_R_POLICY_GET, "GET", "/v1/policy", "policy.get", false},
    {CU_R_POLICY_PUT, "PUT", "/v1/policy", "policy.put", false},
    {CU_R_POLICY_CHECK, "POST", "/v1/policy/check", "policy.check", false},
    {CU_R_POLICY_VERSIONS, "GET", "/v1/policy/versions", "policy.versions", false},
    {CU_R_ROPA, "GET", "/v1/ropa", "ropa.get", false},
    {CU_R_CONSENT_CREATE, "POST", "/v1/subjects/{id}/consents", "consent.create", true},
    {CU_R_CONSENT_LIST, "GET", "/v1/subjects/{id}/consents", "consent.list", true},
    {CU_R_UNSUBSCRIBE_LINK, "POST", "/v1/subjects/{id}/unsubscribe-links",
     "unsubscribe_link.create", true},
    {CU_R_UNSUBSCRIBE_GET, "GET", "/v1/unsubscribe/{token}", "unsubscribe.get", false},
    /* The link is its own credential: no sign-in; the withdrawal is audited. */
    {CU_R_UNSUBSCRIBE_POST, "POST", "/v1/unsubscribe/{token}", "unsubscribe.post", false},
    {CU_R_QFORM_GET, "GET", "/q/{qtoken}", "questionnaire_form.get", false},
    {CU_R_QFORM_POST, "POST", "/q/{qtoken}", "questionnaire_form.post", false},
    {CU_R_RESTRICT_PUT, "PUT", "/v1/subjects/{id}/restriction", "restriction.put", true},
    {CU_R_RESTRICT_DELETE, "DELETE", "/v1/subjects/{id}/restriction", "restriction.delete",
     true},
    {CU_R_OBJECTION_CREATE, "POST", "/v1/subjects/{id}/objections", "objection.create", true},
    {CU_R_OBJECTION_DELETE, "DELETE", "/v1/subjects/{id}/objections/{purpose}",
     "objection.delete", true},
    {CU_R_RIGHTS_GET, "GET", "/v1/subjects/{id}/rights", "rights.get", true},
    {CU_R_REQUEST_CREATE, "POST", "/v1/requests", "request.create", true},
    {CU_R_REQUEST_LIST, "GET", "/v1/requests", "request.list", true},
    {CU_R_REQUEST_DUE, "GET", "/v1/requests/due", "request.due", true},
    {CU_R_REQUEST_GET, "GET", "/v1/requests/{id}", "request.get", true},
    {CU_R_REQUEST_TRANSITION, "POST", "/v1/requests/{id}/transitions", "request.transition",
     true},
    {CU_R_ERASURE_PLAN, "POST", "/v1/subjects/{id}/erasure/plan", "erasure.plan", true},
    {CU_R_ERASURE_EXECUTE, "POST", "/v1/subjects/{id}/erasure", "erasure.execute", true},
    {CU_R_SAR_GET, "GET", "/v1/subjects/{id}/sar", "sar.get", true},
    {CU_R_SAR_POST, "POST", "/v1/subjects/{id}/sar", "sar.post", true},
    {CU_R_PORTABILITY_GET, "GET", "/v1/subjects/{id}/portability", "portability.get", true},
    {CU_R_DISCLOSURE_CREATE, "POST", "/v1/subjects/{id}/disclosures", "disclosure.create",
     true},
    {CU_R_DISCLOSURE_LIST, "GET", "/v1/subjects/{id}/disclosures", "disclosure.list", true},
    {CU_R_QLINK_CREATE, "POST", "/v1/subjects/{id}/questionnaire-links",
     "questionnaire_link.create", true},
    {CU_R_QRESPONSE_CREATE, "POST", "/v1/subjects/{id}/questionnaire-responses",
     "questionnaire_response.create", true},
    {CU_R_QRESPONSE_LIST, "GET", "/v1/subjects/{id}/questionnaire-responses",
     "questionnaire_response.list", true},
    {CU_R_TASK_LIST, "GET", "/v1/tasks", "task.list", true},
    {CU_R_TASK_DUE, "GET", "/v1/tasks/due", "task.due", true},
    {CU_R_TASK_ACK, "POST", "/v1/tasks/{id}/ack", "task.ack", true},
    {CU_R_TASK_DONE, "POST", "/v1/tasks/{id}/done", "task.done", true},
    {CU_R_PATHWAY_ENROL, "POST", "/v1/subjects/{id}/pathways", "pathway.enrol", true},
    {CU_R_PATHWAY_DISCHARGE, "POST", "/v1/subjects/{id}/pathways/{pathway}/discharge",
     "pathway.discharge", true},
    /* The staff console: a session by its cookie; each view of personal
     * data is audited like the API's reads. */
    {CU_R_STAFF_SIGNIN_GET, "GET", "/staff/sign-in", "staff.sign_in.get", false},
    {CU_R_STAFF_SIGNIN_POST, "POST", "/staff/sign-in", "staff.sign_in.post", false},
    {CU_R_STAFF_SIGNOUT, "POST", "/staff/sign-out", "staff.sign_out", false},
    {CU_R_STAFF_SIGNOUT_ALL, "POST", "/staff/sign-out-everywhere", "staff.sign_out_everywhere",
     false},
    {CU_R_STAFF_HOME, "GET", "/staff", "staff.home", true},
    {CU_R_STAFF_TASKS, "GET", "/staff/tasks", "staff.tasks", true},
    {CU_R_STAFF_TASK_ACK, "POST", "/staff/tasks/{id}/acknowledge", "staff.task.ack", true},
    {CU_R_STAFF_TASK_DONE, "POST", "/staff/tasks/{id}/done", "staff.task.done", true},
    {CU_R_STAFF_PATIENTS, "GET", "/staff/patients", "staff.patients", true},
    {CU_R_STAFF_PATIENTS_SEARCH, "POST", "/staff/patients", "staff.patients.search", true},
    {CU_R_STAFF_PATIENT, "GET", "/staff/patients/{id}", "staff.patient", true},
    {CU_R_STAFF_REQUESTS, "GET", "/staff/requests", "staff.requests", true},
    {CU_R_STAFF_REQUEST, "GET", "/staff/requests/{id}", "staff.request", true},
    {CU_R_STAFF_REQUEST_CHANGE, "POST", "/staff/requests/{id}", "staff.request.change", true},
    {CU_R_STAFF_ACCESS_PACKAGE, "GET", "/staff/patients/{id}/access-package",
     "staff.access_package", true},
    {CU_R_STAFF_PORTABLE_COPY, "GET", "/staff/patients/{id}/portable-copy",
     "staff.portable_copy", true},
    {CU_R_STAFF_ERASURE, "GET", "/staff/patients/{id}/erasure", "staff.erasure", true},
    {CU_R_STAFF_ERASURE_EXECUTE, "POST", "/staff/patients/{id}/erasure",
     "staff.erasure.execute", true},
    {CU_R_STAFF_POLICY, "GET", "/staff/policy", "staff.policy", true},
    {CU_R_STAFF_POLICY_NOTICE, "GET", "/staff/policy/notice", "staff.policy.notice", true},
    {CU_R_STAFF_POLICY_RECORD, "GET", "/staff/policy/record", "staff.policy.record", true},
    /* The patient portal: an invitation is made by staff (JSON API); its
     * page needs no sign-in, the invitation's code is the authority. */
    {CU_R_PORTAL_INVITE, "POST", "/v1/subjects/{id}/portal-invitations", "portal.invite",
     true},
    {CU_R_PORTAL_INVITATION_GET, "GET", "/portal/invitation/{pcode}", "portal.invitation.get",
     false},
    {CU_R_PORTAL_INVITATION_POST, "POST", "/portal/invitation/{pcode}",
     "portal.invitation.post", false},
    /* A patient's pages: their own session cookie (pages_portal.c), never
     * a bearer token or a staff session. */
    {CU_R_PORTAL_SIGNIN_GET, "GET", "/portal/sign-in", "portal.sign_in.get", false},
    {CU_R_PORTAL_SIGNIN_POST, "POST", "/portal/sign-in", "portal.sign_in.post", false},
    {CU_R_PORTAL_SIGNOUT, "POST", "/portal/sign-out", "portal.sign_out", true},
    {CU_R_PORTAL_HOME, "GET", "/portal", "portal.home", true},
    {CU_R_PORTAL_DATA, "GET", "/portal/data", "portal.data", true},
    {CU_R_PORTAL_ACCESS, "GET", "/portal/access", "portal.access", true},
    {CU_R_PORTAL_DOWNLOAD, "GET", "/portal/download", "portal.download", true},
    {CU_R_PORTAL_QUESTIONNAIRES, "GET", "/portal/questionnaires", "portal.questionnaires", true},
    {CU_R_PORTAL_QUESTIONNAIRE_GET, "GET", "/portal/questionnaires/{id}",
     "portal.questionnaire.get", true},
    {CU_R_PORTAL_QUESTIONNAIRE_POST, "POST", "/portal/questionnaires/{id}",
     "portal.questionnaire.post", true},
    /* The portal's cookies: a visitor signed in or not (pages_portal_cookies.c). */
    {CU_R_PORTAL_COOKIES_GET, "GET", "/portal/cookies", "portal.cookies.get", false},
    {CU_R_PORTAL_COOKIES_POST, "POST", "/portal/cookies", "portal.cookies.post", false},
    {CU_R_PORTAL_CONSENTS, "GET", "/portal/consents", "portal.consents", true},
    {CU_R_PORTAL_CONSENTS_POST, "POST", "/portal/consents", "portal.consents.post", true},
    {CU_R_PORTAL_REQUESTS, "GET", "/portal/requests", "portal.requests", true},
    {CU_R_PORTAL_REQUESTS_POST, "POST", "/portal/requests", "portal.requests.post", true},
    /* An invitation's code typed from a letter: no sign-in, throttled by
     * address. */
    {CU_R_PORTAL_CODE_GET, "GET", "/portal/invitation", "portal.code.get", false},
    {CU_R_PORTAL_CODE_POST, "POST", "/portal/invitation", "portal.code.post", false},
    {CU_R_STAFF_BREAK_GLASS, "POST", "/staff/patients/{id}/break-glass",
     "staff.patient.break_glass", true},
    {CU_R_STAFF_ITEMS_ADD, "POST", "/staff/patients/{id}/items", "staff.patient.items", true},
    {CU_R_STAFF_AUDIT, "GET", "/staff/audit", "staff.audit", true},
    {CU_R_STAFF_AUDIT_VERIFY, "POST", "/staff/audit/verify", "staff.audit.verify", true},
    {CU_R_STAFF_ACCOUNTS, "GET", "/staff/accounts", "staff.accounts", true},
    {CU_R_STAFF_ACCOUNT_ADD, "POST", "/staff/accounts", "staff.account.add", true},
    {CU_R_STAFF_ACCOUNT_DISABLE, "POST", "/staff/accounts/{user}/disable",
     "staff.account.disable", true},
    {CU_R_STAFF_ACCOUNT_PASSWORD, "POST", "/staff/accounts/{user}/password",
     "staff.account.password", true},
    {CU_R_STAFF_TOKEN_CREATE, "POST", "/staff/tokens", "staff.token.create", true},
    {CU_R_STAFF_TOKEN_REVOKE, "POST", "/staff/tokens/{id}/revoke", "staff.token.revoke", true},
    /* The pages' static files: no sign-in, nothing personal (cu_route matches
     * it by its prefix: {asset} may have several segments). */
    {CU_R_ASSET, "GET", "/assets/{version}/{asset}", "asset.get", false},
};
#define NROUTES (sizeof routes / sizeof routes[0])

const cu_route_def *cu_route_table(size_t *n)
{
    *n = NROUTES;
    return routes;
}

const cu_route_def *cu_route_get(cu_route_id id)
{
    for (size_t i = 0; i < NROUTES; i++)
        if (routes[i].id == id)
            return &routes[i];
    return NULL;
}

static bool seg_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '~' || c == '-';
}

/* Matches one template against the path's segments, capturing parameters. */
static bool match_template(const char *tpl, const char *const *segs, const size_t *lens,
                           size_t nseg, cu_route_match *m)
{
    size_t i = 0;
    const char *t = tpl;
    while (*t) {
        if (*t != '/')
            return false;
        t++;
        size_t tn = strcspn(t, "/");
        if (i >= nseg)
            return false;
        if (tn == 4 && memcmp(t, "{id}", 4) == 0) {
            if (lens[i] >= sizeof m->subject)
                return false;
            char tmp[40];
            memcpy(tmp, segs[i], lens[i]);
            tmp[lens[i]] = '\0';
            if (!cu_id_valid(tmp) && !cu_pseudonym_valid(tmp))
                return false;
            memcpy(m->subject, tmp, lens[i] + 1);
        } else if (tn == 6 && memcmp(t, "{user}", 6) == 0) {
            if (lens[i] >= sizeof m->user)
                return false;
            char tmp[72];
            memcpy(tmp, segs[i], lens[i]);
            tmp[lens[i]] = '\0';
            if (!cu_name_valid(tmp))
                return false;
            memcpy(m->user, tmp, lens[i] + 1);
        } else if (tn == 9 && memcmp(t, "{purpose}", 9) == 0) {
            if (lens[i] >= sizeof m->purpose)
                return false;
            char tmp[72];
            memcpy(tmp, segs[i], lens[i]);
            tmp[lens[i]] = '\0';
            if (!cu_name_valid(tmp))
                return false;
            memcpy(m->purpose, tmp, lens[i] + 1);
        } else if (tn == 9 && memcmp(t, "{pathway}", 9) == 0) {
            if (lens[i] >= sizeof m->pathway)
                return false;
            char tmp[72];
            memcpy(tmp, segs[i], lens[i]);
            tmp[lens[i]] = '\0';
            if (!cu_name_valid(tmp))
                return false;
            memcpy(m->pathway, tmp, lens[i] + 1);
        } else if (tn == 7 && memcmp(t, "{token}", 7) == 0) {
            if (lens[i] >= sizeof m->token || lens[i] < 5 || memcmp(segs[i], "cuu_", 4) != 0)
                return false;
            memcpy(m->token, segs[i], lens[i]);
            m->token[lens[i]] = '\0';
        } else if (tn == 8 && memcmp(t, "{qtoken}", 8) == 0) {
            if (lens[i] >= sizeof m->token || lens[i] < 5 || memcmp(segs[i], "cuq_", 4) != 0)
                return false;
            memcpy(m->token, segs[i], lens[i]);
            m->token[lens[i]] = '\0';
        } else if (tn == 7 && memcmp(t, "{pcode}", 7) == 0) {
            char norm[21];
            if (lens[i] >= sizeof m->token || !cu_portal_code_normalise(segs[i], lens[i], norm))
                return false;
            memcpy(m->token, segs[i], lens[i]);
            m->token[lens[i]] = '\0';
        } else if (tn != lens[i] || memcmp(t, segs[i], tn) != 0) {
            return false;
        }
        t += tn;
        i++;
    }
    return i == nseg;
}

void cu_route(const char *method, const char *path, cu_route_match *m)
{
    memset(m, 0, sizeof *m);
    size_t len = strnlen(path, CU_PATH_MAX + 1);
    if (len == 0 || len > CU_PATH_MAX || path[0] != '/')
        return;
    const char *segs[32];
    size_t lens[32], nseg = 0;
    const char *p = path + 1;
    if (len > 1 && path[len - 1] == '/')
        return; /* no trailing slash */
    while (len > 1 && *p) {
        size_t n = strcspn(p, "/");
        if (n == 0 || nseg == 32)
            return;
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return;
        for (size_t i = 0; i < n; i++)
            if (!seg_char_ok(p[i]))
                return;
        segs[nseg] = p;
        lens[nseg++] = n;
        p += n;
        if (*p == '/')
            p++;
    }
    if (nseg >= 3 && lens[0] == 6 && memcmp(segs[0], "assets", 6) == 0) {
        size_t rest = len - 8; /* after "/assets/" */
        if (rest >= sizeof m->asset)
            return;
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            m->method_mismatch = true;
            memcpy(m->allow, "GET, HEAD", 10);
            return;
        }
        m->id = CU_R_ASSET;
        memcpy(m->asset, path + 8, rest);
        m->asset[rest] = '\0';
        return;
    }
    size_t used = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        cu_route_match tmp;
        memset(&tmp, 0, sizeof tmp);
        if (!match_template(routes[i].path, segs, lens, nseg, &tmp))
            continue;
        if (strcmp(method, routes[i].method) == 0) {
            tmp.id = routes[i].id;
            *m = tmp;
            return;
        }
        m->method_mismatch = true;
        size_t ml = strlen(routes[i].method);
        if (used + ml + 3 < sizeof m->allow && !strstr(m->allow, routes[i].method)) {
            if (used) {
                memcpy(m->allow + used, ", ", 2);
                used += 2;
            }
            memcpy(m->allow + used, routes[i].method, ml + 1);
            used += ml;
        }
    }
}
