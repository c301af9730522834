/*
 * api_impl.h — shared by the files that implement the HTTP API's routes
 * (api.c, api_policy.c, api_requests.c, api_sar.c, api_util.c). Not for
 * other modules.
 */
#ifndef CUSTOS_HTTP_API_IMPL_H
#define CUSTOS_HTTP_API_IMPL_H

#include "http/api.h"
#include "util/jsonw.h"

cu_vault *cu_api_vault(cu_api *api);
/* resp becomes the problem for err (internal detail withheld). */
void cu_api_fail(cu_http_resp *resp, const cu_err *err);
void cu_api_ok(cu_http_resp *resp, int status, json_t *body);
/* False, with resp set to 415, unless the body is declared JSON. */
bool cu_api_json_body(const cu_http_req *req, cu_http_resp *resp);

/* resp answers status with body, which it takes over (body is left empty);
 * content_type is a static string, NULL for JSON. */
void cu_api_raw(cu_http_resp *resp, int status, cu_buf *body, const char *content_type);
/* Writes one JSON item per record of a subject's list into w. */
typedef int (*cu_api_list_fn)(cu_vault *v, const cu_actor *a, const char *subject_id,
                              cu_jw *w, cu_err *err);
/* resp becomes {"subject": ID, key: [...]} with the items list writes for
 * the route's subject, or the problem for its error. */
void cu_api_subject_list(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                         cu_http_resp *resp, const char *key, cu_api_list_fn list);

/* The routes that need no sign-in (the notice, unsubscribe links); false
 * when req is not one of them. */
bool cu_api_public_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp);
/* The questionnaire a patient opens from a link, GET and POST /q/{qtoken}
 * (pages_q.c); false when req is not one of them. */
/* The staff console's pages (console.c and its pages): every route under /staff but
 * the sign-in form's POST (cu_pages_signin_prepare, _finish). */
bool cu_pages_staff_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp);
/* Sign-in's steps shared by POST /v1/sessions and the sign-in page, once
 * st->body is filled: the source's throttle (a throttled attempt is an
 * audited refusal) and the account's read. 0 to go on, the seconds to wait
 * when throttled, -1 on an error (err). */
int cu_api_signin_account(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                          cu_err *err);
/* Records the attempt (cu_signin_finish, the throttle, a rehash): CU_OK with
 * *res, and on CU_SIGNIN_OK the session's token and principal. */
CU_MUST_USE int cu_api_signin_record(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                                     cu_signin_result *res, char token[CU_TOKEN_STRLEN],
                                     cu_principal *p, cu_err *err);
/* The sign-in throttle by source address, for the portal's sign-in: the
 * seconds to wait (a refusal recorded) or 0; and an attempt's outcome. */
int cu_api_signin_throttle(cu_api *api, const cu_http_req *req);
void cu_api_signin_note(cu_api *api, const cu_http_req *req, bool failed);
/* A sign-in's via: "http POST /portal/sign-in from 192.0.2.7". */
void cu_api_signin_via(const cu_http_req *req, char *out, size_t n);
int64_t cu_api_session_idle_us(const cu_api *api);
int64_t cu_api_session_absolute_us(const cu_api *api);
bool cu_pages_q_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp);
/* The authenticated policy, consent and rights routes; false when req is not
 * one of them. */
bool cu_api_policy_route(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                         const cu_principal *who, cu_http_resp *resp);
/* The rights-request routes (api_requests.c); false when req is not one of
 * them. */
bool cu_api_requests_route(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                           const cu_principal *who, cu_http_resp *resp);

/* The subject access, portability and disclosure routes (api_sar.c); false
 * when req is not one of them. */
bool cu_api_sar_route(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                      cu_http_resp *resp);

/* api_questionnaire.c: questionnaire links and responses. */
bool cu_api_questionnaire_route(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                                cu_http_resp *resp);
/* The clinical task list and follow-up pathway routes (api_tasks.c); false
 * when req is not one of them. */
bool cu_api_tasks_route(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                        cu_http_resp *resp);

/* pages_portal.c: the patient portal's pages, which need no bearer token
 * (an invitation's code is their authority); false when req is not one of
 * them. */
bool cu_pages_portal_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp);
/* pages_portal.c: the authenticated JSON route that invites a subject to the
 * portal; false when req is not it. */
bool cu_api_portal_route(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                         cu_http_resp *resp);

#endif
