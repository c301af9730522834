/*
 * api_subjects.c — the HTTP routes of subjects and their items: POST
 * /v1/subjects, GET /v1/subjects (also ?nhs_number= ...), POST
 * /v1/subjects/search, GET and PATCH /v1/subjects/{id}, POST and GET
 * /v1/subjects/{id}/items.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/input.h"
#include "domain/model.h"
#include "domain/subject.h"
#include "http/api_impl.h"
#include "iface/render.h"

static int collect_ids(void *ctx, const char *id)
{
    json_array_append_new(ctx, json_string(id));
    return 0;
}

static int collect_subjects(void *ctx, const cu_subject_rec *r)
{
    /* Listed by pseudonym (to those who see subjects only so): times to the
     * month, as cu_subject_list made them. */
    json_t *(*when)(int64_t) = cu_pseudonym_valid(r->id) ? cu_json_month : cu_json_time;
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:o, s:o}", "id", r->id, "kind", r->kind,
                                         "created_at", when(r->created_at), "erased_at",
                                         when(r->erased_at)));
    return 0;
}

static bool parse_doc(cu_call *c, cu_doc_kind kind, cu_doc *doc)
{
    if (!cu_api_json_body(c->req, c->resp))
        return false;
    cu_err err = {0};
    if (cu_doc_parse(c->req->body, c->req->body_len, kind, doc, &err)) {
        cu_api_problem(c->resp, CU_P_INVALID, err.msg);
        return false;
    }
    return true;
}

static void subject_create(cu_call *c)
{
    cu_doc doc;
    if (!parse_doc(c, CU_DOC_SUBJECT, &doc))
        return;
    cu_err err = {0};
    char id[CU_ID_STRLEN];
    if (!doc.kind) {
        cu_doc_release(&doc);
        cu_api_problem(c->resp, CU_P_INVALID, "$.kind is required");
        return;
    }
    int rc = cu_subject_add(cu_api_vault(c->api), &c->actor, c->who.controller_id, doc.kind, &doc, id,
                            &err);
    cu_doc_release(&doc);
    if (rc) {
        cu_api_fail(c->resp, &err);
        return;
    }
    snprintf(c->resp->location, sizeof c->resp->location, "/v1/subjects/%s", id);
    cu_api_ok(c->resp, 201, json_pack("{s:s}", "id", id));
}

static void subject_search(cu_call *c, const char *field, const char *value, size_t n)
{
    cu_err err = {0};
    json_t *ids = json_array();
    int rc = cu_subject_find(cu_api_vault(c->api), &c->actor, c->who.controller_id, field, value, n,
                             collect_ids, ids, &err);
    if (rc == CU_ENOTFOUND) /* a search that finds nothing is an empty answer */
        {
            cu_api_ok(c->resp, 200, json_pack("{s:o}", "ids", ids));
            return;
        }
    if (rc) {
        json_decref(ids);
        {
            cu_api_fail(c->resp, &err);
            return;
        }
    }
    cu_api_ok(c->resp, 200, json_pack("{s:o}", "ids", ids));
}

static void subject_list(cu_call *c)
{
    cu_err err = {0};
    json_t *arr = json_array();
    if (cu_subject_list(cu_api_vault(c->api), &c->actor, c->who.controller_id, collect_subjects, arr,
                        &err)) {
        json_decref(arr);
        {
            cu_api_fail(c->resp, &err);
            return;
        }
    }
    cu_api_ok(c->resp, 200, json_pack("{s:o}", "subjects", arr));
}

static void subject_search_post(cu_call *c)
{
    if (!cu_api_json_body(c->req, c->resp))
        return;
    cu_search_body b;
    cu_err err = {0};
    if (cu_body_search(c->req->body, c->req->body_len, &b, &err)) {
        cu_api_problem(c->resp, CU_P_INVALID, err.msg);
        return;
    }
    if (strcmp(b.field, "family_name") == 0) {
        json_t *ids = json_array();
        int rc = cu_subject_find_name_birth(cu_api_vault(c->api), &c->actor, c->who.controller_id,
                                            b.value, b.value_len, b.birth_date, collect_ids,
                                            ids, &err);
        if (rc && rc != CU_ENOTFOUND) { /* finding nothing is an empty answer */
            json_decref(ids);
            cu_api_fail(c->resp, &err);
        } else {
            cu_api_ok(c->resp, 200, json_pack("{s:o}", "ids", ids));
        }
    } else {
        subject_search(c, b.field, b.value, b.value_len);
    }
    cu_wipe(&b, sizeof b);
}

static void subject_get(cu_call *c, bool items_only)
{
    cu_err err = {0};
    cu_subject_view *sv = calloc(1, sizeof *sv);
    if (!sv) {
        cu_api_problem(c->resp, CU_P_UNAVAILABLE, NULL);
        return;
    }
    /* One page of items per request: a subject with thousands of them holds
     * the store's thread no longer than any other read. */
    long long limit = CU_ITEMS_PAGE_DEFAULT;
    if (c->req->q_limit && !cu_parse_count(c->req->q_limit, CU_ITEMS_PAGE_MAX, &limit)) {
        free(sv);
        cu_api_problem(c->resp, CU_P_INVALID, "limit must be 1 to 500");
        return;
    }
    if (cu_subject_get_page(cu_api_vault(c->api), &c->actor, c->req->route.subject,
                            items_only ? c->req->q_cursor : NULL, (size_t)limit, !items_only, sv,
                            &err)) {
        free(sv);
        cu_api_fail(c->resp, &err);
        return;
    }
    /* The hottest read path: the store's thread decrypts; the HTTP thread
     * renders the view straight into the response buffer. */
    c->resp->view = sv;
    c->resp->view_items_only = items_only;
    c->resp->status = 200;
}

static void subject_patch(cu_call *c)
{
    cu_doc doc;
    if (!parse_doc(c, CU_DOC_RECTIFY, &doc))
        return;
    cu_err err = {0};
    json_t *tell = json_array();
    int rc = cu_subject_rectify_notify(cu_api_vault(c->api), &c->actor, c->req->route.subject, &doc,
                                       cu_json_collect_recipient, tell, &err);
    cu_doc_release(&doc);
    if (rc) {
        json_decref(tell);
        cu_api_fail(c->resp, &err);
        return;
    }
    cu_api_ok(c->resp, 200, json_pack("{s:s, s:b, s:o}", "id", c->req->route.subject, "rectified", 1,
                               "recipients_to_notify", tell));
}

static void items_create(cu_call *c)
{
    cu_doc doc;
    if (!parse_doc(c, CU_DOC_SUBJECT, &doc))
        return;
    cu_err err = {0};
    char (*ids)[CU_ID_STRLEN] = calloc(doc.n, sizeof *ids);
    int rc = ids ? cu_subject_add_items(cu_api_vault(c->api), &c->actor, c->req->route.subject, &doc,
                                        ids, &err)
                 : cu_err_set(&err, CU_ENOMEM, "out of memory");
    json_t *arr = json_array();
    for (size_t i = 0; !rc && i < doc.n; i++)
        json_array_append_new(arr, json_string(ids[i]));
    free(ids);
    cu_doc_release(&doc);
    if (rc) {
        json_decref(arr);
        {
            cu_api_fail(c->resp, &err);
            return;
        }
    }
    cu_api_ok(c->resp, 201, json_pack("{s:o}", "items", arr));
}

void cu_api_subject_create(cu_call *c)
{
    subject_create(c);
}

void cu_api_subject_list(cu_call *c)
{
    subject_list(c);
}

void cu_api_subject_search(cu_call *c)
{
    subject_search_post(c);
}

void cu_api_subject_get(cu_call *c)
{
    subject_get(c, false);
}

void cu_api_subject_patch(cu_call *c)
{
    subject_patch(c);
}

void cu_api_items_create(cu_call *c)
{
    items_create(c);
}

void cu_api_items_list(cu_call *c)
{
    subject_get(c, true);
}
