/*
 * routes.c — the route table (routes.h): for each route of the router, how
 * its caller authenticates, the domain actions that decide who may call it,
 * and its handler. One row per route, in the router's order; cu_api_handle
 * serves a request by its row.
 *
 * Rows whose handler is an area's entry (the patient portal's pages, the
 * questionnaire form) name the function that still dispatches that area's
 * routes itself (server.c runs the portal's two POSTs that hash a password
 * in steps, as it does the sign-ins); rows marked server are served by
 * server.c (a sign-in's steps, health, metrics, the assets) and answer 404
 * from cu_api_handle.
 */
#include "http/routes.h"

#include <stdio.h>
#include <string.h>

#include "http/api_impl.h"
#include "http/console.h"

/* POST /v1/subjects/{id}/portal-invitations: the portal's entry for it
 * (pages_portal.c) takes the actor rather than a cu_call. */
static void portal_invite(cu_call *c)
{
    if (!cu_api_portal_route(c->api, c->req, &c->actor, c->resp))
        cu_api_problem(c->resp, CU_P_NOT_FOUND, NULL);
}

#define A(x) CU_ACT_BIT(CU_ACT_##x)
#define CALL(id, auth, acts, fn, file) {id, CU_AUTH_##auth, acts, fn, NULL, NULL, false, #fn, file}
#define PAGE(id, acts, fn, file) {id, CU_AUTH_STAFF, acts, NULL, fn, NULL, false, #fn, file}
#define AREA(id, auth, acts, fn, file) {id, CU_AUTH_##auth, acts, NULL, NULL, fn, false, #fn, file}
#define SERVER(id, auth, acts, fn, file) {id, CU_AUTH_##auth, acts, NULL, NULL, NULL, true, fn, file}

static const cu_route_handler rows[] = {
    SERVER(CU_R_HEALTHZ, PUBLIC, 0, "run_one", "server.c"),
    SERVER(CU_R_METRICS, PUBLIC, 0, "run_metrics", "server.c"),
    SERVER(CU_R_SESSION_CREATE, PUBLIC, 0, "cu_api_signin_prepare, _check, _finish",
           "api_sessions.c"),
    CALL(CU_R_SESSION_DELETE, BEARER, 0, cu_api_session_delete, "api_sessions.c"),
    CALL(CU_R_SESSION_DELETE_ALL, BEARER, 0, cu_api_session_delete_all, "api_sessions.c"),
    CALL(CU_R_SUBJECT_CREATE, BEARER, A(SUBJECT_CREATE), cu_api_subject_create,
         "api_subjects.c"),
    CALL(CU_R_SUBJECT_LIST, BEARER, A(LIST) | A(SEARCH), cu_api_subject_list, "api_subjects.c"),
    CALL(CU_R_SUBJECT_SEARCH, BEARER, A(SEARCH), cu_api_subject_search, "api_subjects.c"),
    CALL(CU_R_SUBJECT_GET, BEARER, A(SUBJECT_READ), cu_api_subject_get, "api_subjects.c"),
    CALL(CU_R_SUBJECT_PATCH, BEARER, A(SUBJECT_UPDATE), cu_api_subject_patch, "api_subjects.c"),
    CALL(CU_R_ITEMS_CREATE, BEARER, A(ITEMS_ADD), cu_api_items_create, "api_subjects.c"),
    CALL(CU_R_ITEMS_LIST, BEARER, A(SUBJECT_READ), cu_api_items_list, "api_subjects.c"),
    CALL(CU_R_ACCESS_LOG, BEARER, A(ACCESS_LOG), cu_api_access_log, "api_care.c"),
    CALL(CU_R_BREAK_GLASS_CREATE, BEARER, A(BREAK_GLASS), cu_api_break_glass_create,
         "api_care.c"),
    CALL(CU_R_BREAK_GLASS_LIST, BEARER, A(BREAK_GLASS_REVIEW), cu_api_break_glass_list,
         "api_care.c"),
    CALL(CU_R_CARE_PUT, BEARER, A(CARE_LIST), cu_api_care_put, "api_care.c"),
    CALL(CU_R_CARE_DELETE, BEARER, A(CARE_LIST), cu_api_care_delete, "api_care.c"),
    CALL(CU_R_AUDIT_LIST, BEARER, A(AUDIT_READ), cu_api_audit_list, "api_audit.c"),
    CALL(CU_R_AUDIT_VERIFY, BEARER, A(AUDIT_VERIFY), cu_api_audit_verify, "api_audit.c"),
    CALL(CU_R_NOTICE, PUBLIC, 0, cu_api_notice, "api_policy.c"),
    CALL(CU_R_POLICY_GET, BEARER, 0, cu_api_policy_get, "api_policy.c"),
    CALL(CU_R_POLICY_PUT, BEARER, A(POLICY), cu_api_policy_put, "api_policy.c"),
    CALL(CU_R_POLICY_CHECK, BEARER, 0, cu_api_policy_check, "api_policy.c"),
    CALL(CU_R_POLICY_VERSIONS, BEARER, 0, cu_api_policy_versions, "api_policy.c"),
    CALL(CU_R_ROPA, BEARER, 0, cu_api_ropa, "api_policy.c"),
    CALL(CU_R_CONSENT_CREATE, BEARER, A(CONSENT), cu_api_consent_create, "api_consents.c"),
    CALL(CU_R_CONSENT_LIST, BEARER, A(CONSENT), cu_api_consent_list, "api_consents.c"),
    CALL(CU_R_UNSUBSCRIBE_LINK, BEARER, A(CONSENT), cu_api_unsubscribe_link, "api_consents.c"),
    CALL(CU_R_UNSUBSCRIBE_GET, LINK, 0, cu_api_unsubscribe_get, "api_consents.c"),
    CALL(CU_R_UNSUBSCRIBE_POST, LINK, 0, cu_api_unsubscribe_post, "api_consents.c"),
    CALL(CU_R_RESTRICT_PUT, BEARER, A(RIGHTS), cu_api_restrict_put, "api_rights.c"),
    CALL(CU_R_RESTRICT_DELETE, BEARER, A(RIGHTS), cu_api_restrict_delete, "api_rights.c"),
    CALL(CU_R_OBJECTION_CREATE, BEARER, A(RIGHTS), cu_api_objection_create, "api_rights.c"),
    CALL(CU_R_OBJECTION_DELETE, BEARER, A(RIGHTS), cu_api_objection_delete, "api_rights.c"),
    CALL(CU_R_RIGHTS_GET, BEARER, A(RIGHTS), cu_api_rights_get, "api_rights.c"),
    CALL(CU_R_REQUEST_CREATE, BEARER, A(REQUEST_RECEIVE), cu_api_request_create,
         "api_requests.c"),
    CALL(CU_R_REQUEST_LIST, BEARER, A(REQUESTS), cu_api_request_list, "api_requests.c"),
    CALL(CU_R_REQUEST_DUE, BEARER, A(REQUESTS), cu_api_request_due, "api_requests.c"),
    CALL(CU_R_REQUEST_GET, BEARER, A(REQUESTS), cu_api_request_get, "api_requests.c"),
    CALL(CU_R_REQUEST_TRANSITION, BEARER, A(REQUESTS), cu_api_request_transition,
         "api_requests.c"),
    CALL(CU_R_ERASURE_PLAN, BEARER, A(SUBJECT_ERASE), cu_api_erasure_plan, "api_erasure.c"),
    CALL(CU_R_ERASURE_EXECUTE, BEARER, A(SUBJECT_ERASE), cu_api_erasure_execute,
         "api_erasure.c"),
    CALL(CU_R_SAR_GET, BEARER, A(EXPORT), cu_api_sar_get, "api_sar.c"),
    CALL(CU_R_SAR_POST, BEARER, A(EXPORT), cu_api_sar_post, "api_sar.c"),
    CALL(CU_R_PORTABILITY_GET, BEARER, A(EXPORT), cu_api_portability_get, "api_sar.c"),
    CALL(CU_R_DISCLOSURE_CREATE, BEARER, A(DISCLOSE), cu_api_disclosure_create, "api_sar.c"),
    CALL(CU_R_DISCLOSURE_LIST, BEARER, A(DISCLOSE), cu_api_disclosure_list, "api_sar.c"),
    CALL(CU_R_QLINK_CREATE, BEARER, A(QUESTIONNAIRE_SEND), cu_api_qlink_create,
         "api_questionnaire.c"),
    CALL(CU_R_QRESPONSE_CREATE, BEARER, A(ITEMS_ADD), cu_api_qresponse_create,
         "api_questionnaire.c"),
    CALL(CU_R_QRESPONSE_LIST, BEARER, A(SUBJECT_READ), cu_api_qresponse_list,
         "api_questionnaire.c"),
    /* an area's entry, until its pages have rows of their own */
    AREA(CU_R_QFORM_GET, LINK, 0, cu_pages_q_route, "pages_q.c"),
    AREA(CU_R_QFORM_POST, LINK, 0, cu_pages_q_route, "pages_q.c"),
    CALL(CU_R_TASK_LIST, BEARER, A(TASK_LIST), cu_api_task_list, "api_tasks.c"),
    CALL(CU_R_TASK_DUE, BEARER, A(TASK_LIST), cu_api_task_due, "api_tasks.c"),
    CALL(CU_R_TASK_ACK, BEARER, A(TASK), cu_api_task_ack, "api_tasks.c"),
    CALL(CU_R_TASK_DONE, BEARER, A(TASK), cu_api_task_done, "api_tasks.c"),
    CALL(CU_R_PATHWAY_ENROL, BEARER, A(PATHWAY_ENROL), cu_api_pathway_enrol, "api_tasks.c"),
    CALL(CU_R_PATHWAY_DISCHARGE, BEARER, A(PATHWAY_DISCHARGE), cu_api_pathway_discharge,
         "api_tasks.c"),
    /* the staff console */
    CALL(CU_R_STAFF_SIGNIN_GET, PUBLIC, 0, cu_console_signin_get, "console.c"),
    SERVER(CU_R_STAFF_SIGNIN_POST, PUBLIC, 0, "cu_pages_signin_prepare, _finish", "console.c"),
    PAGE(CU_R_STAFF_SIGNOUT, 0, cu_console_signout, "console.c"),
    PAGE(CU_R_STAFF_SIGNOUT_ALL, 0, cu_console_signout_all, "console.c"),
    PAGE(CU_R_STAFF_HOME, 0, cu_console_start, "console.c"),
    PAGE(CU_R_STAFF_TASKS, A(TASK_LIST), cu_console_tasks, "pages_staff.c"),
    PAGE(CU_R_STAFF_TASK_ACK, A(TASK), cu_console_task_ack, "pages_staff.c"),
    PAGE(CU_R_STAFF_TASK_DONE, A(TASK), cu_console_task_done, "pages_staff.c"),
    PAGE(CU_R_STAFF_PATIENTS, A(SUBJECT_READ), cu_console_patients, "pages_staff.c"),
    PAGE(CU_R_STAFF_PATIENTS_SEARCH, A(SEARCH), cu_console_patients_search, "pages_staff.c"),
    PAGE(CU_R_STAFF_PATIENT, A(SUBJECT_READ), cu_console_patient, "pages_staff.c"),
    PAGE(CU_R_STAFF_REQUESTS, A(REQUESTS), cu_console_requests, "pages_dpo.c"),
    PAGE(CU_R_STAFF_REQUEST, A(REQUESTS), cu_console_request, "pages_dpo.c"),
    PAGE(CU_R_STAFF_REQUEST_CHANGE, A(REQUESTS), cu_console_request_change, "pages_dpo.c"),
    PAGE(CU_R_STAFF_ACCESS_PACKAGE, A(EXPORT), cu_console_access_package, "pages_dpo.c"),
    PAGE(CU_R_STAFF_PORTABLE_COPY, A(EXPORT), cu_console_portable_copy, "pages_dpo.c"),
    PAGE(CU_R_STAFF_ERASURE, A(SUBJECT_ERASE), cu_console_erasure, "pages_dpo.c"),
    PAGE(CU_R_STAFF_ERASURE_EXECUTE, A(SUBJECT_ERASE), cu_console_erasure_execute,
         "pages_dpo.c"),
    PAGE(CU_R_STAFF_POLICY, 0, cu_console_policy, "pages_dpo.c"),
    PAGE(CU_R_STAFF_POLICY_NOTICE, 0, cu_console_policy_notice, "pages_dpo.c"),
    PAGE(CU_R_STAFF_POLICY_RECORD, 0, cu_console_policy_record, "pages_dpo.c"),
    /* the patient portal: the area's entries, until its pages have rows of
     * their own */
    CALL(CU_R_PORTAL_INVITE, BEARER, A(PORTAL_INVITE), portal_invite, "pages_portal.c"),
    AREA(CU_R_PORTAL_INVITATION_GET, LINK, 0, cu_pages_portal_route, "pages_portal.c"),
    AREA(CU_R_PORTAL_INVITATION_POST, LINK, 0, cu_pages_portal_route, "pages_portal.c"),
    AREA(CU_R_PORTAL_SIGNIN_GET, PUBLIC, 0, cu_pages_portal_route, "pages_portal.c"),
    AREA(CU_R_PORTAL_SIGNIN_POST, PUBLIC, 0, cu_pages_portal_route, "pages_portal.c"),
    AREA(CU_R_PORTAL_SIGNOUT, PORTAL, 0, cu_pages_portal_route, "pages_portal.c"),
    AREA(CU_R_PORTAL_HOME, PORTAL, A(PORTAL_VIEW), cu_pages_portal_route, "pages_portal.c"),
    AREA(CU_R_PORTAL_DATA, PORTAL, A(PORTAL_VIEW), cu_pages_portal_route, "pages_portal.c"),
    AREA(CU_R_PORTAL_ACCESS, PORTAL, A(PORTAL_VIEW), cu_pages_portal_route, "pages_portal.c"),
    AREA(CU_R_PORTAL_DOWNLOAD, PORTAL, A(PORTAL_VIEW), cu_pages_portal_route,
         "pages_portal_files.c"),
    AREA(CU_R_PORTAL_QUESTIONNAIRES, PORTAL, A(PORTAL_VIEW), cu_pages_portal_route,
         "pages_portal_files.c"),
    AREA(CU_R_PORTAL_QUESTIONNAIRE_GET, PORTAL, A(PORTAL_VIEW), cu_pages_portal_route,
         "pages_portal_files.c"),
    AREA(CU_R_PORTAL_QUESTIONNAIRE_POST, PORTAL, A(PORTAL_VIEW), cu_pages_portal_route,
         "pages_portal_files.c"),
    AREA(CU_R_PORTAL_COOKIES_GET, PUBLIC, 0, cu_pages_portal_route, "pages_portal_cookies.c"),
    AREA(CU_R_PORTAL_COOKIES_POST, PUBLIC, 0, cu_pages_portal_route, "pages_portal_cookies.c"),
    AREA(CU_R_PORTAL_CONSENTS, PORTAL, A(CONSENT), cu_pages_portal_route,
         "pages_portal_rights.c"),
    AREA(CU_R_PORTAL_CONSENTS_POST, PORTAL, A(CONSENT), cu_pages_portal_route,
         "pages_portal_rights.c"),
    AREA(CU_R_PORTAL_REQUESTS, PORTAL, A(PORTAL_VIEW), cu_pages_portal_route,
         "pages_portal_rights.c"),
    AREA(CU_R_PORTAL_REQUESTS_POST, PORTAL, A(REQUEST_RECEIVE), cu_pages_portal_route,
         "pages_portal_rights.c"),
    AREA(CU_R_PORTAL_CODE_GET, PUBLIC, 0, cu_pages_portal_route, "pages_portal_rights.c"),
    AREA(CU_R_PORTAL_CODE_POST, PUBLIC, 0, cu_pages_portal_route, "pages_portal_rights.c"),
    /* the staff console, continued */
    PAGE(CU_R_STAFF_BREAK_GLASS, A(BREAK_GLASS), cu_console_break_glass, "pages_clinical.c"),
    PAGE(CU_R_STAFF_ITEMS_ADD, A(ITEMS_ADD), cu_console_items_add, "pages_clinical.c"),
    PAGE(CU_R_STAFF_AUDIT, A(AUDIT_READ), cu_console_audit, "pages_audit.c"),
    PAGE(CU_R_STAFF_AUDIT_VERIFY, A(AUDIT_VERIFY), cu_console_audit_verify, "pages_audit.c"),
    PAGE(CU_R_STAFF_ACCOUNTS, A(ADMIN), cu_console_accounts, "pages_admin.c"),
    PAGE(CU_R_STAFF_ACCOUNT_ADD, A(ADMIN), cu_console_account_add, "pages_admin.c"),
    PAGE(CU_R_STAFF_ACCOUNT_DISABLE, A(ADMIN), cu_console_account_disable, "pages_admin.c"),
    PAGE(CU_R_STAFF_ACCOUNT_PASSWORD, A(ADMIN), cu_console_account_password, "pages_admin.c"),
    PAGE(CU_R_STAFF_TOKEN_CREATE, A(ADMIN), cu_console_token_create, "pages_admin.c"),
    PAGE(CU_R_STAFF_TOKEN_REVOKE, A(ADMIN), cu_console_token_revoke, "pages_admin.c"),
    SERVER(CU_R_ASSET, PUBLIC, 0, "cu_assets_find", "assets.c"),
};
#define NROWS (sizeof rows / sizeof rows[0])

const cu_route_handler *cu_route_handler_get(cu_route_id id)
{
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].id == id)
            return &rows[i];
    return NULL;
}

const cu_route_handler *cu_route_handlers(size_t *n)
{
    *n = NROWS;
    return rows;
}

const char *cu_route_auth_name(cu_route_auth a)
{
    switch (a) {
    case CU_AUTH_PUBLIC: return "public";
    case CU_AUTH_LINK: return "link";
    case CU_AUTH_BEARER: return "bearer";
    case CU_AUTH_STAFF: return "staff cookie";
    case CU_AUTH_PORTAL: return "portal cookie";
    }
    return "unknown";
}

unsigned cu_route_roles(const cu_route_handler *h, unsigned *cond)
{
    unsigned roles = 0, some_only = 0;
    for (int a = 0; a < CU_ACT_COUNT; a++) {
        if (!(h->acts & CU_ACT_BIT(a)))
            continue;
        unsigned c = 0;
        roles |= cu_access_roles((cu_act)a, &c);
        some_only |= c;
    }
    roles &= ~(unsigned)CU_ROLE_OPERATOR;
    /* who can present the row's credential: a patient only the portal's
     * cookie, staff never it */
    roles &= h->auth == CU_AUTH_PORTAL ? (unsigned)CU_ROLE_SUBJECT : ~(unsigned)CU_ROLE_SUBJECT;
    /* a role that may for every subject under one action is not conditional */
    unsigned always = 0;
    for (int a = 0; a < CU_ACT_COUNT; a++) {
        if (!(h->acts & CU_ACT_BIT(a)))
            continue;
        unsigned c = 0;
        always |= cu_access_roles((cu_act)a, &c) & ~c;
    }
    if (cond)
        *cond = some_only & roles & ~always;
    return roles;
}

/* "clinician (care list), dpo": the roles of mask, cond marked. */
static int roles_text(cu_buf *out, unsigned roles, unsigned cond)
{
    int rc = CU_OK;
    bool first = true;
    for (unsigned bit = 1; bit <= CU_ROLE_SUBJECT && !rc; bit <<= 1) {
        if (!(roles & bit))
            continue;
        char name[32];
        if (bit == CU_ROLE_SUBJECT)
            cu_strlcpy(name, "patient", sizeof name);
        else
            cu_roles_format(bit, name, sizeof name);
        const char *when = !(cond & bit)           ? ""
                           : bit == CU_ROLE_SUBJECT ? " (own record)"
                                                    : " (care list)";
        rc = cu_buf_printf(out, "%s%s%s", first ? "" : ", ", name, when);
        first = false;
    }
    return rc;
}

int cu_routes_markdown(cu_buf *out)
{
    int rc = cu_buf_append_str(out, "| Method | Path | Who calls | Handler |\n"
                                    "|---|---|---|---|\n");
    size_t n = 0;
    const cu_route_def *r = cu_route_table(&n);
    for (size_t i = 0; i < n && !rc; i++) {
        const cu_route_handler *h = cu_route_handler_get(r[i].id);
        rc = cu_buf_printf(out, "| %s | `%s` | ", r[i].method, r[i].path);
        if (rc)
            break;
        if (!h) {
            rc = cu_buf_append_str(out, "(no row) | |\n");
            continue;
        }
        unsigned cond = 0, roles = cu_route_roles(h, &cond);
        rc = cu_buf_printf(out, "%s", cu_route_auth_name(h->auth));
        if (!rc && roles) {
            rc = cu_buf_append_str(out, ": ");
            if (!rc)
                rc = roles_text(out, roles, cond);
        }
        bool steps = h->server && strcmp(h->file, "server.c") != 0;
        if (!rc)
            rc = cu_buf_printf(out, " | %s `%s`%s |\n", h->file, h->handler,
                               h->area    ? " (area entry)"
                               : steps    ? " (steps run by server.c)"
                                          : "");
    }
    return rc;
}
