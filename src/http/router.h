/*
 * router.h — the HTTP API's routes: one table, matched by method and path.
 * Pure and allocation-free; fuzzed with the body parsers (fuzz/fuzz_http.c).
 *
 * Paths are matched segment by segment against templates such as
 * /v1/subjects/{id}/items. A path longer than CU_PATH_MAX, with an empty, "."
 * or ".." segment, or with a byte outside [A-Za-z0-9._~-] in a segment matches
 * nothing (404). {id} accepts a subject, controller or request id (UUID) or a
 * pseudonym (psn_...); {user} a username; {purpose} a purpose id or "all";
 * {token} an unsubscribe token (cuu_...); {qtoken} a questionnaire link's
 * token (cuq_...); {pathway} a pathway id. A path that matches a template
 * under another method is
 * CU_ROUTE_METHOD (405, with the allowed methods).
 *
 * /assets/{version}/{asset}: {asset} is one or more segments (the same
 * rules), at most 159 bytes with the version; GET and HEAD match it.
 */
#ifndef CUSTOS_HTTP_ROUTER_H
#define CUSTOS_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#define CU_PATH_MAX 512

typedef enum cu_route_id {
    CU_R_NONE = 0,
    CU_R_HEALTHZ,
    CU_R_METRICS,
    CU_R_SESSION_CREATE,
    CU_R_SESSION_DELETE,
    CU_R_SESSION_DELETE_ALL, /* every session of the caller's account */
    CU_R_SUBJECT_CREATE,
    CU_R_SUBJECT_LIST,   /* GET /v1/subjects, also ?nhs_number= / ?email= */
    CU_R_SUBJECT_SEARCH, /* POST /v1/subjects/search: identifiers in the body */
    CU_R_SUBJECT_GET,
    CU_R_SUBJECT_PATCH,
    CU_R_ITEMS_CREATE,
    CU_R_ITEMS_LIST,
    CU_R_ACCESS_LOG,
    CU_R_BREAK_GLASS_CREATE,
    CU_R_BREAK_GLASS_LIST,
    CU_R_CARE_PUT,
    CU_R_CARE_DELETE,
    CU_R_AUDIT_LIST,
    CU_R_AUDIT_VERIFY,
    CU_R_NOTICE,          /* public: GET /v1/controllers/{id}/notice */
    CU_R_POLICY_GET,
    CU_R_POLICY_PUT,
    CU_R_POLICY_CHECK,
    CU_R_POLICY_VERSIONS,
    CU_R_ROPA,
    CU_R_CONSENT_CREATE,
    CU_R_CONSENT_LIST,
    CU_R_UNSUBSCRIBE_LINK,
    CU_R_UNSUBSCRIBE_GET, /* public */
    CU_R_UNSUBSCRIBE_POST, /* public */
    CU_R_RESTRICT_PUT,
    CU_R_RESTRICT_DELETE,
    CU_R_OBJECTION_CREATE,
    CU_R_OBJECTION_DELETE,
    CU_R_RIGHTS_GET,
    CU_R_REQUEST_CREATE,     /* POST /v1/requests */
    CU_R_REQUEST_LIST,       /* GET /v1/requests */
    CU_R_REQUEST_DUE,        /* GET /v1/requests/due */
    CU_R_REQUEST_GET,        /* GET /v1/requests/{id} */
    CU_R_REQUEST_TRANSITION, /* POST /v1/requests/{id}/transitions */
    CU_R_ERASURE_PLAN,
    CU_R_ERASURE_EXECUTE,
    CU_R_SAR_GET,
    CU_R_SAR_POST,
    CU_R_PORTABILITY_GET,
    CU_R_DISCLOSURE_CREATE,
    CU_R_DISCLOSURE_LIST,
    CU_R_QLINK_CREATE,     /* POST /v1/subjects/{id}/questionnaire-links */
    CU_R_QRESPONSE_CREATE, /* POST /v1/subjects/{id}/questionnaire-responses */
    CU_R_QRESPONSE_LIST,   /* GET /v1/subjects/{id}/questionnaire-responses */
    CU_R_QFORM_GET,  /* public: GET /q/{qtoken}, the questionnaire's form */
    CU_R_QFORM_POST, /* public: POST /q/{qtoken}, the answers */
    CU_R_TASK_LIST,        /* GET /v1/tasks[?state=] */
    CU_R_TASK_DUE,         /* GET /v1/tasks/due */
    CU_R_TASK_ACK,         /* POST /v1/tasks/{id}/ack */
    CU_R_TASK_DONE,        /* POST /v1/tasks/{id}/done */
    CU_R_PATHWAY_ENROL,    /* POST /v1/subjects/{id}/pathways */
    CU_R_PATHWAY_DISCHARGE, /* POST /v1/subjects/{id}/pathways/{pathway}/discharge */
    /* the staff console's pages (console.c): signed in by the
     * __Host-custos cookie, not a bearer token */
    CU_R_STAFF_SIGNIN_GET,  /* GET /staff/sign-in */
    CU_R_STAFF_SIGNIN_POST, /* POST /staff/sign-in */
    CU_R_STAFF_SIGNOUT,     /* POST /staff/sign-out */
    CU_R_STAFF_SIGNOUT_ALL, /* POST /staff/sign-out-everywhere */
    CU_R_STAFF_HOME,        /* GET /staff */
    CU_R_STAFF_TASKS,       /* GET /staff/tasks */
    CU_R_STAFF_TASK_ACK,    /* POST /staff/tasks/{id}/acknowledge */
    CU_R_STAFF_TASK_DONE,   /* POST /staff/tasks/{id}/done */
    CU_R_STAFF_PATIENTS,    /* GET /staff/patients[?page=] */
    CU_R_STAFF_PATIENTS_SEARCH, /* POST /staff/patients: a search (never in the URL) */
    CU_R_STAFF_PATIENT,     /* GET /staff/patients/{id} */
    CU_R_STAFF_REQUESTS,        /* GET /staff/requests[?state=&page=] */
    CU_R_STAFF_REQUEST,         /* GET /staff/requests/{id} */
    CU_R_STAFF_REQUEST_CHANGE,  /* POST /staff/requests/{id} */
    CU_R_STAFF_ACCESS_PACKAGE,  /* GET /staff/patients/{id}/access-package?format= */
    CU_R_STAFF_PORTABLE_COPY,   /* GET /staff/patients/{id}/portable-copy?format= */
    CU_R_STAFF_ERASURE,         /* GET /staff/patients/{id}/erasure */
    CU_R_STAFF_ERASURE_EXECUTE, /* POST /staff/patients/{id}/erasure */
    CU_R_STAFF_POLICY,          /* GET /staff/policy */
    CU_R_STAFF_POLICY_NOTICE,   /* GET /staff/policy/notice */
    CU_R_STAFF_POLICY_RECORD,   /* GET /staff/policy/record */
    /* the patient portal (pages_portal.c) */
    CU_R_PORTAL_INVITE,          /* POST /v1/subjects/{id}/portal-invitations */
    CU_R_PORTAL_INVITATION_GET,  /* public: GET /portal/invitation/{pcode} */
    CU_R_PORTAL_INVITATION_POST, /* public: POST /portal/invitation/{pcode} */
    CU_R_PORTAL_SIGNIN_GET,      /* public: GET /portal/sign-in */
    CU_R_PORTAL_SIGNIN_POST,     /* public: POST /portal/sign-in */
    CU_R_PORTAL_SIGNOUT,         /* POST /portal/sign-out (a patient's session) */
    CU_R_PORTAL_HOME,            /* GET /portal (a patient's session) */
    CU_R_PORTAL_DATA,            /* GET /portal/data (a patient's session) */
    CU_R_PORTAL_ACCESS,          /* GET /portal/access (a patient's session) */
    CU_R_PORTAL_DOWNLOAD,        /* GET /portal/download[?format=] (a patient's session) */
    CU_R_PORTAL_QUESTIONNAIRES,  /* GET /portal/questionnaires[?page=] (a patient's session) */
    CU_R_PORTAL_QUESTIONNAIRE_GET,  /* GET /portal/questionnaires/{id} (a patient's session) */
    CU_R_PORTAL_QUESTIONNAIRE_POST, /* POST /portal/questionnaires/{id} (a patient's session) */
    CU_R_PORTAL_COOKIES_GET,     /* public: GET /portal/cookies */
    CU_R_PORTAL_COOKIES_POST,    /* public: POST /portal/cookies (a cookie choice) */
    /* the portal's consents, rights requests and typed codes (pages_portal_rights.c) */
    CU_R_PORTAL_CONSENTS,        /* GET /portal/consents (a patient's session) */
    CU_R_PORTAL_CONSENTS_POST,   /* POST /portal/consents (a patient's session) */
    CU_R_PORTAL_REQUESTS,        /* GET /portal/requests[?page=] (a patient's session) */
    CU_R_PORTAL_REQUESTS_POST,   /* POST /portal/requests (a patient's session) */
    CU_R_PORTAL_CODE_GET,        /* public: GET /portal/invitation */
    CU_R_PORTAL_CODE_POST,       /* public: POST /portal/invitation */
    CU_R_STAFF_BREAK_GLASS, /* POST /staff/patients/{id}/break-glass */
    CU_R_STAFF_ITEMS_ADD,   /* POST /staff/patients/{id}/items */
    CU_R_STAFF_AUDIT,       /* GET /staff/audit[?since=&until=&actor=&subject=&action=&outcome=&page=] */
    CU_R_STAFF_AUDIT_VERIFY, /* POST /staff/audit/verify */
    CU_R_STAFF_ACCOUNTS,    /* GET /staff/accounts[?page=] */
    CU_R_STAFF_ACCOUNT_ADD, /* POST /staff/accounts */
    CU_R_STAFF_ACCOUNT_DISABLE,  /* POST /staff/accounts/{user}/disable */
    CU_R_STAFF_ACCOUNT_PASSWORD, /* POST /staff/accounts/{user}/password */
    CU_R_STAFF_TOKEN_CREATE, /* POST /staff/tokens */
    CU_R_STAFF_TOKEN_REVOKE, /* POST /staff/tokens/{id}/revoke */
    CU_R_ASSET, /* public: GET or HEAD /assets/{version}/{asset} (http/assets.h) */
    CU_R_COUNT
} cu_route_id;

typedef struct cu_route_def {
    cu_route_id id;
    const char *method;
    const char *path;   /* template */
    const char *name;   /* for metrics and the audit trail's "via" */
    bool personal;      /* touches personal data: authenticated and audited */
} cu_route_def;

typedef struct cu_route_match {
    cu_route_id id;       /* CU_R_NONE when nothing matched */
    bool method_mismatch; /* the path exists under other methods */
    char allow[64];       /* those methods, for the Allow header */
    char subject[40];     /* {id} */
    char user[72];        /* {user} */
    char purpose[72];     /* {purpose} */
    char token[64];       /* {token}, {qtoken}, {pcode} */
    char pathway[72];     /* {pathway} */
    char asset[160];      /* CU_R_ASSET: the path below /assets/ ("9.6.4/icons/x.svg") */
} cu_route_match;

/* Matches method and path (no query string). */
void cu_route(const char *method, const char *path, cu_route_match *m);
const cu_route_def *cu_route_get(cu_route_id id);
/* The whole table, for documentation checks: *n entries. */
const cu_route_def *cu_route_table(size_t *n);

#endif
