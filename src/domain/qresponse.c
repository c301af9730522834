/* qresponse.c — the strict QuestionnaireResponse parser (qresponse.h). */
#include "domain/qresponse.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/jpath.h"

#define PATH_LEN CU_JPATH_LEN

typedef struct rctx {
    cu_qresponse *r;
    size_t cap;
    size_t items; /* items seen, nested ones too */
    cu_err *err;
} rctx;

static int bad(rctx *c, const char *path, const char *what)
{
    return cu_jpath_error(c->err, path, what);
}

/* Text without control characters (tabs and line breaks allowed when lines). */
static bool text_ok(const char *s, size_t n, bool lines)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == 0 || ch == 0x7f || (ch < 0x20 && !(lines && (ch == '\n' || ch == '\t' ||
                                                               ch == '\r'))))
            return false;
    }
    return true;
}

/* A string member: CU_OK with *out NULL when absent and optional. */
static int get_str(rctx *c, json_t *o, const char *key, const char *base, bool required,
                   size_t max, bool lines, const char **out)
{
    char p[PATH_LEN];
    cu_jpath_key(p, base, key);
    *out = NULL;
    json_t *v = json_object_get(o, key);
    if (!v)
        return required ? bad(c, p, "required") : CU_OK;
    if (!json_is_string(v))
        return bad(c, p, "must be a string");
    size_t n = json_string_length(v);
    if (n == 0 || n > max) {
        char what[64];
        snprintf(what, sizeof what, "must be 1-%zu characters", max);
        return bad(c, p, what);
    }
    if (!text_ok(json_string_value(v), n, lines))
        return bad(c, p, "holds a control character");
    *out = json_string_value(v);
    return CU_OK;
}

static bool link_id_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* FHIR date: YYYY, YYYY-MM or YYYY-MM-DD, with a real month and day. */
static bool date_ok(const char *s)
{
    size_t n = strlen(s);
    if (!(n == 4 || n == 7 || n == 10) || !digits(s, 4))
        return false;
    if (n == 4)
        return true;
    if (s[4] != '-' || !digits(s + 5, 2))
        return false;
    int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0');
    if (m < 1 || m > 12)
        return false;
    if (n == 7)
        return true;
    if (s[7] != '-' || !digits(s + 8, 2))
        return false;
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int max = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    return d >= 1 && d <= max;
}

static int add_answer(rctx *c, const cu_q_answer *a, const char *path)
{
    if (c->r->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        cu_q_answer *np = realloc(c->r->answers, cap * sizeof *np);
        if (!np)
            return cu_err_set(c->err, CU_ENOMEM, "%s: out of memory", path);
        c->r->answers = np;
        c->cap = cap;
    }
    c->r->answers[c->r->n++] = *a;
    return CU_OK;
}

static int parse_answer(rctx *c, json_t *ans, const char *link_id, const char *path)
{
    static const char *const keys[] = {"valueCoding", "valueInteger", "valueDecimal",
                                       "valueBoolean", "valueString", "valueDate", NULL};
    if (!json_is_object(ans))
        return bad(c, path, "must be an object");
    int rc = cu_jpath_members(c->err, ans, keys, path);
    if (rc)
        return rc;
    if (json_object_size(ans) != 1)
        return bad(c, path, "must hold exactly one value[x]");
    const char *key = json_object_iter_key(json_object_iter(ans));
    json_t *v = json_object_get(ans, key);
    char p[PATH_LEN];
    cu_jpath_key(p, path, key);
    cu_q_answer a = {.link_id = link_id};
    if (strcmp(key, "valueCoding") == 0) {
        static const char *const ck[] = {"system", "code", "display", NULL};
        if (!json_is_object(v))
            return bad(c, p, "must be an object");
        const char *sys, *disp;
        if ((rc = cu_jpath_members(c->err, v, ck, p)) ||
            (rc = get_str(c, v, "system", p, false, CU_Q_MAX_URL, false, &sys)) ||
            (rc = get_str(c, v, "code", p, true, CU_Q_MAX_SHORT, false, &a.s)) ||
            (rc = get_str(c, v, "display", p, false, CU_Q_MAX_TEXT, false, &disp)))
            return rc;
        a.kind = CU_QV_CODE;
    } else if (strcmp(key, "valueInteger") == 0) {
        /* FHIR integers are 32-bit. */
        if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
            json_integer_value(v) > INT32_MAX)
            return bad(c, p, "must be a whole number within 32 bits");
        a.kind = CU_QV_INT;
        a.i = json_integer_value(v);
    } else if (strcmp(key, "valueDecimal") == 0) {
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return bad(c, p, "must be a number");
        a.kind = CU_QV_DECIMAL;
        a.d = json_number_value(v);
    } else if (strcmp(key, "valueBoolean") == 0) {
        if (!json_is_boolean(v))
            return bad(c, p, "must be true or false");
        a.kind = CU_QV_BOOL;
        a.b = json_is_true(v);
    } else if (strcmp(key, "valueString") == 0) {
        if ((rc = get_str(c, ans, key, path, true, CU_Q_MAX_TEXT, true, &a.s)))
            return rc;
        a.kind = CU_QV_STRING;
    } else {
        if ((rc = get_str(c, ans, key, path, true, 10, false, &a.s)))
            return rc;
        if (!date_ok(a.s))
            return bad(c, p, "must be a date YYYY, YYYY-MM or YYYY-MM-DD");
        a.kind = CU_QV_STRING;
    }
    return add_answer(c, &a, path);
}

static int parse_items(rctx *c, json_t *items, const char *base, unsigned depth)
{
    char p[PATH_LEN];
    cu_jpath_key(p, base, "item");
    if (!json_is_array(items))
        return bad(c, p, "must be an array");
    if (json_array_size(items) == 0)
        return bad(c, p, "must not be empty");
    if (depth > CU_Q_MAX_DEPTH)
        return bad(c, p, "items nest too deep");
    static const char *const keys[] = {"linkId", "text", "answer", "item", NULL};
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        char ip[PATH_LEN];
        cu_jpath_idx(ip, base, "item", i);
        if (!json_is_object(it))
            return bad(c, ip, "must be an object");
        if (++c->items > CU_Q_MAX_ITEMS)
            return bad(c, ip, "too many items");
        int rc = cu_jpath_members(c->err, it, keys, ip);
        const char *link_id, *text;
        if (rc || (rc = get_str(c, it, "linkId", ip, true, CU_Q_MAX_LINKID, false, &link_id)) ||
            (rc = get_str(c, it, "text", ip, false, CU_Q_MAX_TEXT, true, &text)))
            return rc;
        if (!link_id_ok(link_id)) {
            char lp[PATH_LEN];
            cu_jpath_key(lp, ip, "linkId");
            return bad(c, lp, "may hold only A-Z a-z 0-9 . _ -");
        }
        json_t *ans = json_object_get(it, "answer"), *sub_items = json_object_get(it, "item");
        if (ans && sub_items)
            return bad(c, ip, "has both answer and item (a group has no answer)");
        if (ans) {
            char ap[PATH_LEN];
            cu_jpath_key(ap, ip, "answer");
            if (!json_is_array(ans))
                return bad(c, ap, "must be an array");
            if (json_array_size(ans) == 0)
                return bad(c, ap, "must not be empty");
            if (json_array_size(ans) > 1) {
                cu_jpath_idx(ap, ip, "answer", 1);
                return bad(c, ap, "only one answer per item is taken");
            }
            cu_jpath_idx(ap, ip, "answer", 0);
            if ((rc = parse_answer(c, json_array_get(ans, 0), link_id, ap)))
                return rc;
        } else if (sub_items && (rc = parse_items(c, sub_items, ip, depth + 1))) {
            return rc;
        }
    }
    return CU_OK;
}

static int parse_extensions(rctx *c, json_t *ext)
{
    if (!json_is_array(ext))
        return bad(c, "extension", "must be an array");
    if (json_array_size(ext) != 1)
        return bad(c, "extension", "only the " CU_QR_EXT_TOTAL " extension, once, is taken");
    char p[PATH_LEN];
    cu_jpath_idx(p, "", "extension", 0);
    json_t *e = json_array_get(ext, 0);
    static const char *const keys[] = {"url", "valueInteger", NULL};
    if (!json_is_object(e))
        return bad(c, p, "must be an object");
    int rc = cu_jpath_members(c->err, e, keys, p);
    const char *url;
    if (rc || (rc = get_str(c, e, "url", p, true, CU_Q_MAX_URL, false, &url)))
        return rc;
    if (strcmp(url, CU_QR_EXT_TOTAL) != 0) {
        char up[PATH_LEN];
        cu_jpath_key(up, p, "url");
        return bad(c, up, "must be " CU_QR_EXT_TOTAL);
    }
    json_t *v = json_object_get(e, "valueInteger");
    char vp[PATH_LEN];
    cu_jpath_key(vp, p, "valueInteger");
    if (!v)
        return bad(c, vp, "required");
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)CU_Q_MAX_ITEMS * CU_Q_MAX_WEIGHT)
        return bad(c, vp, "must be a whole number from 0 to 200000");
    c->r->has_total = true;
    c->r->total = json_integer_value(v);
    return CU_OK;
}

static int parse_doc(rctx *c, json_t *doc)
{
    static const char *const keys[] = {"resourceType", "id", "questionnaire", "status",
                                       "authored", "item", "extension", NULL};
    if (!json_is_object(doc))
        return bad(c, "", "must be a JSON object");
    int rc = cu_jpath_members(c->err, doc, keys, "");
    const char *rt, *id, *qn, *status, *authored;
    if (rc || (rc = get_str(c, doc, "resourceType", "", true, 64, false, &rt)))
        return rc;
    if (strcmp(rt, "QuestionnaireResponse") != 0)
        return bad(c, "resourceType", "must be QuestionnaireResponse");
    if ((rc = get_str(c, doc, "id", "", false, 64, false, &id)) ||
        (rc = get_str(c, doc, "questionnaire", "", true, CU_Q_MAX_URL + 65, false, &qn)) ||
        (rc = get_str(c, doc, "status", "", true, 32, false, &status)) ||
        (rc = get_str(c, doc, "authored", "", false, 64, false, &authored)))
        return rc;
    const char *bar = strrchr(qn, '|');
    size_t ulen = bar ? (size_t)(bar - qn) : strlen(qn);
    if (ulen == 0 || ulen > CU_Q_MAX_URL || memchr(qn, ' ', ulen))
        return bad(c, "questionnaire", "must be a URL of 1-255 characters, optionally "
                                       "followed by |version");
    if (bar && (strlen(bar + 1) == 0 || strlen(bar + 1) > 64))
        return bad(c, "questionnaire", "the version after | must be 1-64 characters");
    memcpy(c->r->url, qn, ulen);
    c->r->url[ulen] = '\0';
    if (bar)
        cu_strlcpy(c->r->version, bar + 1, sizeof c->r->version);
    if (strcmp(status, "completed") == 0)
        c->r->in_progress = false;
    else if (strcmp(status, "in-progress") == 0)
        c->r->in_progress = true;
    else
        return bad(c, "status", "must be completed or in-progress");
    json_t *items = json_object_get(doc, "item");
    if (items && (rc = parse_items(c, items, "", 1)))
        return rc;
    json_t *ext = json_object_get(doc, "extension");
    if (ext && (rc = parse_extensions(c, ext)))
        return rc;
    return CU_OK;
}

int cu_qresponse_parse(const void *json, size_t len, cu_qresponse **out, cu_err *err)
{
    *out = NULL;
    if (len > CU_QR_MAX_BYTES)
        return cu_err_set(err, CU_EINVAL, "(document): larger than %d bytes", CU_QR_MAX_BYTES);
    json_error_t je;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!doc)
        return cu_err_set(err, CU_EINVAL, "(document): not valid JSON (line %d, column %d)",
                          je.line, je.column);
    cu_qresponse *r = calloc(1, sizeof *r);
    if (!r) {
        json_decref(doc);
        return cu_err_set(err, CU_ENOMEM, "out of memory");
    }
    r->owner = doc;
    rctx c = {.r = r, .err = err};
    int rc = parse_doc(&c, doc);
    if (rc) {
        cu_qresponse_free(r);
        return rc;
    }
    *out = r;
    return CU_OK;
}

void cu_qresponse_free(cu_qresponse *r)
{
    if (!r)
        return;
    json_decref(r->owner);
    free(r->answers);
    free(r);
}
