/*
 * api_impl.h — shared by the files that implement the HTTP API's routes
 * (api.c, api_*.c, one file per resource; the pages), and the handlers the
 * route table (routes.c) names. Not for other modules.
 */
#ifndef CUSTOS_HTTP_API_IMPL_H
#define CUSTOS_HTTP_API_IMPL_H

#include "http/api.h"
#include "http/routes.h"
#include "util/jsonw.h"

cu_vault *cu_api_vault(cu_api *api);
/* resp becomes the problem for err (internal detail withheld). */
void cu_api_fail(cu_http_resp *resp, const cu_err *err);
void cu_api_ok(cu_http_resp *resp, int status, json_t *body);
/* False, with resp set to 415, unless the body is declared JSON. */
bool cu_api_json_body(const cu_http_req *req, cu_http_resp *resp);
/* Content-Type is application/x-www-form-urlencoded (with parameters or
 * none), as the questionnaire's form posts it. */
bool cu_api_form_type(const char *ct);

/* resp answers status with body, which it takes over (body is left empty);
 * content_type is a static string, NULL for JSON. */
void cu_api_raw(cu_http_resp *resp, int status, cu_buf *body, const char *content_type);
/* Writes one JSON item per record of a subject's list into w. */
typedef int (*cu_api_list_fn)(cu_vault *v, const cu_actor *a, const char *subject_id,
                              cu_jw *w, cu_err *err);
/* resp becomes {"subject": ID, key: [...]} with the items list writes for
 * the route's subject, or the problem for its error. */
void cu_api_subject_listing(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                            cu_http_resp *resp, const char *key, cu_api_list_fn list);

/* Sign-in's steps shared by POST /v1/sessions and the sign-in page, once
 * st->body is filled: the source's throttle (a throttled attempt is an
 * audited refusal) and the account's read. 0 to go on, the seconds to wait
 * when throttled, -1 on an error (err). */
int cu_api_signin_account(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                          cu_err *err);
/* Records the attempt (cu_signin_finish, the throttle, a rehash): true with
 * *res, and on CU_SIGNIN_OK the session's token and principal, who becomes
 * resp's actor; false with resp set to the error's problem. */
CU_MUST_USE bool cu_api_signin_record(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                                      cu_signin_result *res, char token[CU_TOKEN_STRLEN],
                                      cu_principal *p, cu_http_resp *resp);
/* The sign-in throttle by source address, for the portal's sign-in: the
 * seconds to wait (a refusal recorded) or 0; and an attempt's outcome. */
int cu_api_signin_throttle(cu_api *api, const cu_http_req *req);
void cu_api_signin_note(cu_api *api, const cu_http_req *req, bool failed);
/* A sign-in's via: "http POST /portal/sign-in from 192.0.2.7". */
void cu_api_signin_via(const cu_http_req *req, char *out, size_t n);
int64_t cu_api_session_idle_us(const cu_api *api);
int64_t cu_api_session_absolute_us(const cu_api *api);
/* False with resp set to the 400 problem unless v (when given) is a date
 * (YYYY-MM-DD, its end when end) or a time (YYYY-MM-DDTHH:MM:SSZ), into *out. */
bool cu_api_time_param(cu_http_resp *resp, const char *name, const char *v, bool end,
                       int64_t *out);
/* Appends an audit event, as JSON, to the array ctx (a cu_audit_list callback). */
int cu_api_collect_event(void *ctx, const cu_audit_decoded *e, const cu_buf *payload);

/* ---- the handlers, one file per resource (routes.c names each route's) ---- */

/* api_sessions.c */
void cu_api_session_delete(cu_call *c);
void cu_api_session_delete_all(cu_call *c);
/* api_subjects.c */
void cu_api_subject_create(cu_call *c);
void cu_api_subject_list(cu_call *c);
void cu_api_subject_search(cu_call *c);
void cu_api_subject_get(cu_call *c);
void cu_api_subject_patch(cu_call *c);
void cu_api_items_create(cu_call *c);
void cu_api_items_list(cu_call *c);
/* api_care.c */
void cu_api_access_log(cu_call *c);
void cu_api_break_glass_create(cu_call *c);
void cu_api_break_glass_list(cu_call *c);
void cu_api_care_put(cu_call *c);
void cu_api_care_delete(cu_call *c);
/* api_audit.c */
void cu_api_audit_list(cu_call *c);
void cu_api_audit_verify(cu_call *c);
/* api_policy.c */
void cu_api_notice(cu_call *c);
void cu_api_policy_get(cu_call *c);
void cu_api_policy_put(cu_call *c);
void cu_api_policy_check(cu_call *c);
void cu_api_policy_versions(cu_call *c);
void cu_api_ropa(cu_call *c);
/* api_consents.c */
void cu_api_consent_create(cu_call *c);
void cu_api_consent_list(cu_call *c);
void cu_api_unsubscribe_link(cu_call *c);
void cu_api_unsubscribe_get(cu_call *c);
void cu_api_unsubscribe_post(cu_call *c);
/* api_rights.c */
void cu_api_restrict_put(cu_call *c);
void cu_api_restrict_delete(cu_call *c);
void cu_api_objection_create(cu_call *c);
void cu_api_objection_delete(cu_call *c);
void cu_api_rights_get(cu_call *c);
/* api_erasure.c */
void cu_api_erasure_plan(cu_call *c);
void cu_api_erasure_execute(cu_call *c);
/* api_requests.c */
void cu_api_request_create(cu_call *c);
void cu_api_request_list(cu_call *c);
void cu_api_request_due(cu_call *c);
void cu_api_request_get(cu_call *c);
void cu_api_request_transition(cu_call *c);
/* api_sar.c */
void cu_api_sar_get(cu_call *c);
void cu_api_sar_post(cu_call *c);
void cu_api_portability_get(cu_call *c);
void cu_api_disclosure_create(cu_call *c);
void cu_api_disclosure_list(cu_call *c);
/* api_questionnaire.c */
void cu_api_qlink_create(cu_call *c);
void cu_api_qresponse_create(cu_call *c);
void cu_api_qresponse_list(cu_call *c);
/* api_tasks.c */
void cu_api_task_list(cu_call *c);
void cu_api_task_due(cu_call *c);
void cu_api_task_ack(cu_call *c);
void cu_api_task_done(cu_call *c);
void cu_api_pathway_enrol(cu_call *c);
void cu_api_pathway_discharge(cu_call *c);

/* ---- areas that still dispatch their own routes (routes.c names their entry) ---- */

/* pages_q.c: the questionnaire a patient opens from a link, GET and POST
 * /q/{qtoken}; false when req is not one of them. */
bool cu_pages_q_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp);
/* pages_portal.c: the patient portal's pages, which need no bearer token
 * (an invitation's code is their authority); false when req is not one of
 * them. */
bool cu_pages_portal_route(cu_api *api, const cu_http_req *req, cu_http_resp *resp);
/* pages_portal.c: the authenticated JSON route that invites a subject to the
 * portal; false when req is not it. */
bool cu_api_portal_route(cu_api *api, const cu_http_req *req, const cu_actor *actor,
                         cu_http_resp *resp);

#endif
