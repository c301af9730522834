/* questionnaire.c — FHIR R4 Questionnaire documents: the strict parser and
 * the scoring function (questionnaire.h, docs/questionnaires.md). */
#include "domain/questionnaire.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/jpath.h"

#define PATH_MAX_LEN CU_JPATH_LEN

typedef struct pctx {
    cu_questionnaire *q;
    cu_err *err;
} pctx;

static int bad(pctx *c, const char *path, const char *what)
{
    return cu_jpath_error(c->err, path, what);
}

static bool charset_ok(const char *s, const char *extra)
{
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              (extra && strchr(extra, ch))))
            return false;
    }
    return true;
}

enum { S_PLAIN = 0, S_LINES = 1 };

/* A string member. Missing: CU_OK with *out NULL unless required. */
static int get_str(pctx *c, json_t *o, const char *key, const char *base, bool required,
                   size_t max, int flags, const char **out)
{
    char p[PATH_MAX_LEN];
    cu_jpath_key(p, base, key);
    *out = NULL;
    json_t *v = json_object_get(o, key);
    if (!v)
        return required ? bad(c, p, "required") : CU_OK;
    if (!json_is_string(v))
        return bad(c, p, "must be a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0)
        return bad(c, p, "must not be empty");
    if (strlen(s) != n)
        return bad(c, p, "must not contain NUL characters");
    if (n > max)
        return cu_err_set(c->err, CU_EINVAL, "%s: longer than %zu bytes", p, max);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && !(flags == S_LINES && ch == '\n')) || ch == 0x7f)
            return bad(c, p, "must not contain control characters");
    }
    *out = s;
    return CU_OK;
}

static int get_bool(pctx *c, json_t *o, const char *key, const char *base, bool *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return CU_OK;
    if (!json_is_boolean(v)) {
        char p[PATH_MAX_LEN];
        cu_jpath_key(p, base, key);
        return bad(c, p, "must be true or false");
    }
    *out = json_is_true(v);
    return CU_OK;
}

/* A whole number (an integer, or a decimal with no fraction) in [lo, hi]. */
static int whole(pctx *c, json_t *v, const char *p, int64_t lo, int64_t hi, int64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < lo || i > hi)
            return cu_err_set(c->err, CU_EINVAL, "%s: must be from %lld to %lld", p,
                              (long long)lo, (long long)hi);
        *out = i;
        return CU_OK;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= (double)lo && d <= (double)hi))
            return cu_err_set(c->err, CU_EINVAL, "%s: must be from %lld to %lld", p,
                              (long long)lo, (long long)hi);
        if ((double)(int64_t)d != d)
            return bad(c, p, "must be a whole number");
        *out = (int64_t)d;
        return CU_OK;
    }
    return bad(c, p, "must be a number");
}

static bool url_ok(const char *s)
{
    /* scheme ":" then at least one character, no spaces. */
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return false;
    const char *p = s + 1;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '+' || *p == '-' || *p == '.')
        p++;
    if (*p != ':' || !p[1])
        return false;
    for (p++; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("<>\"{}|\\^`", *p))
            return false;
    return true;
}

/* A Coding: system, code, display. loinc: the system must be LOINC's. */
static int coding(pctx *c, json_t *o, const char *p, bool loinc, bool need_system,
                  cu_q_option *out)
{
    static const char *const keys[] = {"system", "code", "display", NULL};
    if (!json_is_object(o))
        return bad(c, p, "must be an object");
    int rc = cu_jpath_members(c->err, o, keys, p);
    if (!rc)
        rc = get_str(c, o, "system", p, need_system || loinc, CU_Q_MAX_URL, S_PLAIN,
                     &out->system);
    if (!rc && out->system && !url_ok(out->system)) {
        char q[PATH_MAX_LEN];
        cu_jpath_key(q, p, "system");
        rc = bad(c, q, "must be an absolute URI");
    }
    if (!rc && loinc && strcmp(out->system, "http://loinc.org") != 0) {
        char q[PATH_MAX_LEN];
        cu_jpath_key(q, p, "system");
        rc = bad(c, q, "must be http://loinc.org");
    }
    if (!rc)
        rc = get_str(c, o, "code", p, true, CU_Q_MAX_SHORT, S_PLAIN, &out->code);
    if (!rc && !charset_ok(out->code, "-._:/")) {
        char q[PATH_MAX_LEN];
        cu_jpath_key(q, p, "code");
        rc = bad(c, q, "may hold only letters, digits and - . _ : /");
    }
    if (!rc)
        rc = get_str(c, o, "display", p, false, CU_Q_MAX_TEXT, S_PLAIN, &out->display);
    return rc;
}

/* code[]: LOINC codings. */
static int codes(pctx *c, json_t *o, const char *base)
{
    json_t *a = json_object_get(o, "code");
    if (!a)
        return CU_OK;
    char p[PATH_MAX_LEN];
    cu_jpath_key(p, base, "code");
    if (!json_is_array(a) || json_array_size(a) == 0)
        return bad(c, p, "must be a non-empty array");
    if (json_array_size(a) > CU_Q_MAX_CODES)
        return cu_err_set(c->err, CU_EINVAL, "%s: more than %d codes", p, CU_Q_MAX_CODES);
    for (size_t i = 0; i < json_array_size(a); i++) {
        char q[PATH_MAX_LEN];
        cu_jpath_idx(q, base, "code", i);
        cu_q_option tmp = {0};
        int rc = coding(c, json_array_get(a, i), q, true, true, &tmp);
        if (rc)
            return rc;
    }
    return CU_OK;
}

static int type_of(const char *s, cu_q_type *t)
{
    static const char *const names[] = {"group",  "display", "choice", "integer", "decimal",
                                        "string", "text",    "boolean", "date"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0) {
            *t = (cu_q_type)i;
            return 0;
        }
    return -1;
}

static int op_of(const char *s, cu_q_op *o)
{
    static const char *const names[] = {"exists", "=", "!=", ">", "<", ">=", "<="};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0) {
            *o = (cu_q_op)i;
            return 0;
        }
    return -1;
}

size_t cu_questionnaire_find(const cu_questionnaire *q, const char *link_id)
{
    for (size_t i = 0; link_id && i < q->nitems; i++)
        if (strcmp(q->items[i].link_id, link_id) == 0)
            return i;
    return SIZE_MAX;
}

static const cu_q_option *option_of(const cu_q_item *it, const char *code)
{
    for (size_t i = 0; i < it->noptions; i++)
        if (strcmp(it->options[i].code, code) == 0)
            return &it->options[i];
    return NULL;
}

/* answerOption[i]'s extensions: one weight. */
static int option_weight(pctx *c, json_t *a, const char *p, cu_q_option *o)
{
    if (!json_is_array(a) || json_array_size(a) == 0)
        return bad(c, p, "must be a non-empty array");
    for (size_t i = 0; i < json_array_size(a); i++) {
        char q[PATH_MAX_LEN], r[PATH_MAX_LEN];
        cu_jpath_idx(q, "", p, i);
        json_t *e = json_array_get(a, i);
        static const char *const keys[] = {"url", "valueDecimal", "valueInteger", NULL};
        if (!json_is_object(e))
            return bad(c, q, "must be an object");
        const char *url;
        int rc = cu_jpath_members(c->err, e, keys, q);
        if (!rc)
            rc = get_str(c, e, "url", q, true, CU_Q_MAX_URL, S_PLAIN, &url);
        if (rc)
            return rc;
        if (strcmp(url, CU_Q_ITEM_WEIGHT) != 0 && strcmp(url, CU_Q_ORDINAL_VALUE) != 0) {
            cu_jpath_key(r, q, "url");
            return bad(c, r, "not an extension custos knows (itemWeight or ordinalValue)");
        }
        if (o->weighted)
            return bad(c, q, "the option already has a weight");
        json_t *v = json_object_get(e, "valueDecimal");
        cu_jpath_key(r, q, "valueDecimal");
        if (!v) {
            v = json_object_get(e, "valueInteger");
            cu_jpath_key(r, q, "valueInteger");
        } else if (json_object_get(e, "valueInteger")) {
            return bad(c, q, "has two values");
        }
        if (!v)
            return bad(c, r, "required");
        if ((rc = whole(c, v, r, 0, CU_Q_MAX_WEIGHT, &o->weight)))
            return rc;
        o->weighted = true;
    }
    return CU_OK;
}

static int options(pctx *c, json_t *a, const char *base, cu_q_item *it)
{
    char p[PATH_MAX_LEN];
    cu_jpath_key(p, base, "answerOption");
    if (!json_is_array(a) || json_array_size(a) == 0)
        return bad(c, p, "must be a non-empty array");
    size_t n = json_array_size(a);
    if (n > CU_Q_MAX_OPTIONS)
        return cu_err_set(c->err, CU_EINVAL, "%s: more than %d options", p, CU_Q_MAX_OPTIONS);
    it->options = calloc(n, sizeof *it->options);
    if (!it->options)
        return cu_err_set(c->err, CU_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char q[PATH_MAX_LEN], r[PATH_MAX_LEN];
        cu_jpath_idx(q, base, "answerOption", i);
        json_t *o = json_array_get(a, i);
        static const char *const keys[] = {"valueCoding", "extension", NULL};
        if (!json_is_object(o))
            return bad(c, q, "must be an object");
        int rc = cu_jpath_members(c->err, o, keys, q);
        if (rc)
            return rc;
        cu_jpath_key(r, q, "valueCoding");
        json_t *vc = json_object_get(o, "valueCoding");
        if (!vc)
            return bad(c, r, "required");
        cu_q_option *opt = &it->options[i];
        if ((rc = coding(c, vc, r, false, false, opt)))
            return rc;
        it->noptions = i + 1;
        if (option_of(it, opt->code) != opt) {
            char s[PATH_MAX_LEN];
            cu_jpath_key(s, r, "code");
            return bad(c, s, "the same code as an earlier option");
        }
        json_t *ext = json_object_get(o, "extension");
        cu_jpath_key(r, q, "extension");
        if (ext && (rc = option_weight(c, ext, r, opt)))
            return rc;
    }
    return CU_OK;
}

static int conditions(pctx *c, json_t *a, const char *base, size_t self, cu_q_item *it)
{
    char p[PATH_MAX_LEN];
    cu_jpath_key(p, base, "enableWhen");
    if (!json_is_array(a) || json_array_size(a) == 0)
        return bad(c, p, "must be a non-empty array");
    size_t n = json_array_size(a);
    if (n > CU_Q_MAX_WHEN)
        return cu_err_set(c->err, CU_EINVAL, "%s: more than %d conditions", p, CU_Q_MAX_WHEN);
    it->when = calloc(n, sizeof *it->when);
    if (!it->when)
        return cu_err_set(c->err, CU_ENOMEM, "out of memory");
    cu_questionnaire *q = c->q;
    for (size_t i = 0; i < n; i++) {
        char w[PATH_MAX_LEN], r[PATH_MAX_LEN];
        cu_jpath_idx(w, base, "enableWhen", i);
        json_t *o = json_array_get(a, i);
        static const char *const keys[] = {"question",      "operator",     "answerBoolean",
                                           "answerInteger", "answerDecimal", "answerString",
                                           "answerCoding",  NULL};
        if (!json_is_object(o))
            return bad(c, w, "must be an object");
        const char *question, *op;
        int rc = cu_jpath_members(c->err, o, keys, w);
        if (!rc)
            rc = get_str(c, o, "question", w, true, CU_Q_MAX_LINKID, S_PLAIN, &question);
        if (!rc)
            rc = get_str(c, o, "operator", w, true, 8, S_PLAIN, &op);
        if (rc)
            return rc;
        cu_q_when *cw = &it->when[i];
        size_t qi = cu_questionnaire_find(q, question);
        cu_jpath_key(r, w, "question");
        if (qi == SIZE_MAX || qi >= self)
            return bad(c, r, "must name an earlier item");
        const cu_q_item *qt = &q->items[qi];
        if (qt->type == CU_QT_GROUP || qt->type == CU_QT_DISPLAY)
            return bad(c, r, "names an item that takes no answer");
        cw->question = qi;
        cu_jpath_key(r, w, "operator");
        if (op_of(op, &cw->op))
            return bad(c, r, "must be exists, =, !=, >, <, >= or <=");
        static const char *const answers[] = {"answerBoolean", "answerInteger", "answerDecimal",
                                              "answerString", "answerCoding"};
        const char *which = NULL;
        for (size_t k = 0; k < 5; k++)
            if (json_object_get(o, answers[k])) {
                if (which)
                    return bad(c, w, "has more than one answer[x]");
                which = answers[k];
            }
        if (!which) {
            cu_jpath_key(r, w, "answer[x]");
            return bad(c, r, "required");
        }
        cu_jpath_key(r, w, which);
        json_t *v = json_object_get(o, which);
        bool ordered = cw->op == CU_QO_GT || cw->op == CU_QO_LT || cw->op == CU_QO_GE ||
                       cw->op == CU_QO_LE;
        if (cw->op == CU_QO_EXISTS) {
            if (strcmp(which, "answerBoolean") != 0 || !json_is_boolean(v))
                return bad(c, r, "exists takes answerBoolean");
            cw->kind = CU_QV_BOOL;
            cw->b = json_is_true(v);
            continue;
        }
        switch (qt->type) {
        case CU_QT_CHOICE:
            if (strcmp(which, "answerCoding") != 0)
                return bad(c, r, "the question is a choice: use answerCoding");
            if (ordered)
                return bad(c, w, "a coding compares only with = or !=");
            {
                cu_q_option tmp = {0};
                if ((rc = coding(c, v, r, false, false, &tmp)))
                    return rc;
                if (!option_of(qt, tmp.code)) {
                    char s[PATH_MAX_LEN];
                    cu_jpath_key(s, r, "code");
                    return bad(c, s, "not one of the question's options");
                }
                cw->kind = CU_QV_CODE;
                cw->code = tmp.code;
            }
            break;
        case CU_QT_INTEGER:
            if (strcmp(which, "answerInteger") != 0 || !json_is_integer(v))
                return bad(c, r, "the question is an integer: use answerInteger");
            cw->kind = CU_QV_INT;
            cw->i = json_integer_value(v);
            break;
        case CU_QT_DECIMAL:
            if (strcmp(which, "answerDecimal") != 0 || !json_is_number(v))
                return bad(c, r, "the question is a decimal: use answerDecimal");
            cw->kind = CU_QV_DECIMAL;
            cw->d = json_number_value(v);
            break;
        case CU_QT_BOOLEAN:
            if (strcmp(which, "answerBoolean") != 0 || !json_is_boolean(v))
                return bad(c, r, "the question is a boolean: use answerBoolean");
            if (ordered)
                return bad(c, w, "a boolean compares only with = or !=");
            cw->kind = CU_QV_BOOL;
            cw->b = json_is_true(v);
            break;
        default:
            if (strcmp(which, "answerString") != 0)
                return bad(c, r, "the question takes text: use answerString");
            if (ordered)
                return bad(c, w, "text compares only with = or !=");
            if ((rc = get_str(c, o, "answerString", w, true, CU_Q_MAX_TEXT, S_PLAIN,
                              &cw->code)))
                return rc;
            cw->kind = CU_QV_STRING;
            break;
        }
    }
    it->nwhen = n;
    return CU_OK;
}

static int items(pctx *c, json_t *a, const char *base, size_t parent, int depth);

static int item(pctx *c, json_t *o, const char *p, size_t parent, int depth)
{
    static const char *const keys[] = {"linkId",     "text",         "type",       "required",
                                       "repeats",    "prefix",       "code",       "answerOption",
                                       "enableWhen", "enableBehavior", "item",     NULL};
    cu_questionnaire *q = c->q;
    if (!json_is_object(o))
        return bad(c, p, "must be an object");
    if (q->nitems >= CU_Q_MAX_ITEMS)
        return cu_err_set(c->err, CU_EINVAL, "%s: more than %d items in all", p, CU_Q_MAX_ITEMS);
    size_t self = q->nitems++;
    cu_q_item *it = &q->items[self];
    it->parent = parent;
    it->when_all = true;
    char r[PATH_MAX_LEN];
    const char *type, *prefix, *behavior;
    bool repeats = false;
    int rc = cu_jpath_members(c->err, o, keys, p);
    if (!rc)
        rc = get_str(c, o, "linkId", p, true, CU_Q_MAX_LINKID, S_PLAIN, &it->link_id);
    cu_jpath_key(r, p, "linkId");
    if (!rc && !charset_ok(it->link_id, "._-"))
        rc = bad(c, r, "may hold only letters, digits and . _ -");
    if (!rc && cu_questionnaire_find(q, it->link_id) != self)
        rc = bad(c, r, "the same linkId as an earlier item");
    if (!rc)
        rc = get_str(c, o, "type", p, true, 16, S_PLAIN, &type);
    cu_jpath_key(r, p, "type");
    if (!rc && type_of(type, &it->type))
        rc = bad(c, r, "must be group, display, choice, integer, decimal, string, text, "
                       "boolean or date");
    if (!rc)
        rc = get_str(c, o, "text", p, it->type == CU_QT_DISPLAY, CU_Q_MAX_TEXT, S_LINES,
                     &it->text);
    if (!rc)
        rc = get_str(c, o, "prefix", p, false, CU_Q_MAX_SHORT, S_PLAIN, &prefix);
    if (!rc)
        rc = get_bool(c, o, "required", p, &it->required);
    if (!rc)
        rc = get_bool(c, o, "repeats", p, &repeats);
    cu_jpath_key(r, p, "repeats");
    if (!rc && repeats)
        rc = bad(c, r, "must be false: custos takes one answer per item");
    cu_jpath_key(r, p, "required");
    if (!rc && it->required && it->type == CU_QT_DISPLAY)
        rc = bad(c, r, "a display item takes no answer");
    if (!rc)
        rc = codes(c, o, p);
    if (rc)
        return rc;
    json_t *ao = json_object_get(o, "answerOption");
    cu_jpath_key(r, p, "answerOption");
    if (it->type == CU_QT_CHOICE && !ao)
        return bad(c, r, "required for a choice item");
    if (it->type != CU_QT_CHOICE && ao)
        return bad(c, r, "only a choice item has options");
    if (ao && (rc = options(c, ao, p, it)))
        return rc;
    json_t *ew = json_object_get(o, "enableWhen");
    if (ew && (rc = conditions(c, ew, p, self, it)))
        return rc;
    if ((rc = get_str(c, o, "enableBehavior", p, false, 8, S_PLAIN, &behavior)))
        return rc;
    cu_jpath_key(r, p, "enableBehavior");
    if (behavior && !ew)
        return bad(c, r, "only with enableWhen");
    if (behavior && strcmp(behavior, "all") != 0 && strcmp(behavior, "any") != 0)
        return bad(c, r, "must be all or any");
    if (!behavior && it->nwhen > 1)
        return bad(c, r, "required with more than one enableWhen");
    it->when_all = !behavior || strcmp(behavior, "all") == 0;
    json_t *sub = json_object_get(o, "item");
    cu_jpath_key(r, p, "item");
    if (it->type == CU_QT_GROUP && !sub)
        return bad(c, r, "required for a group");
    if (it->type != CU_QT_GROUP && sub)
        return bad(c, r, "only a group has nested items");
    if (sub) {
        if (depth + 1 >= CU_Q_MAX_DEPTH)
            return cu_err_set(c->err, CU_EINVAL, "%s: items nested more than %d levels deep", r,
                              CU_Q_MAX_DEPTH);
        return items(c, sub, p, self, depth + 1);
    }
    return CU_OK;
}

static int items(pctx *c, json_t *a, const char *base, size_t parent, int depth)
{
    char p[PATH_MAX_LEN];
    cu_jpath_key(p, base, "item");
    if (!json_is_array(a) || json_array_size(a) == 0)
        return bad(c, p, "must be a non-empty array");
    for (size_t i = 0; i < json_array_size(a); i++) {
        cu_jpath_idx(p, base, "item", i);
        int rc = item(c, json_array_get(a, i), p, parent, depth);
        if (rc)
            return rc;
    }
    return CU_OK;
}

/* ---- the project's extensions ---- */

/* Checks one sub-extension's shape: {"url": U, <one value or extension>}. */
static int sub_ext(pctx *c, json_t *e, const char *p, const char **url, const char **vkey,
                   json_t **v)
{
    if (!json_is_object(e))
        return bad(c, p, "must be an object");
    int rc = get_str(c, e, "url", p, true, CU_Q_MAX_URL, S_PLAIN, url);
    if (rc)
        return rc;
    if (json_object_size(e) != 2)
        return bad(c, p, "needs url and exactly one value");
    const char *k;
    json_t *x;
    json_object_foreach(e, k, x) {
        if (strcmp(k, "url") != 0) {
            *vkey = k;
            *v = x;
        }
    }
    return CU_OK;
}

/* The value of a sub-extension as a string of the given key. */
static int sub_str(pctx *c, json_t *e, const char *p, const char *vkey, const char *want,
                   size_t max, const char **out)
{
    char r[PATH_MAX_LEN];
    cu_jpath_key(r, p, want);
    if (strcmp(vkey, want) != 0)
        return bad(c, r, "required (this part takes this value type)");
    return get_str(c, e, want, p, true, max, S_PLAIN, out);
}

static int sub_int(pctx *c, json_t *v, const char *p, const char *vkey, int64_t *out)
{
    char r[PATH_MAX_LEN];
    cu_jpath_key(r, p, "valueInteger");
    if (strcmp(vkey, "valueInteger") != 0 || !json_is_integer(v))
        return bad(c, r, "required, a whole number");
    return whole(c, v, r, 0, (int64_t)CU_Q_MAX_WEIGHT * CU_Q_MAX_ITEMS, out);
}

/* A scored item may not depend on other answers: the total is over a fixed
 * set of items. */
static bool conditional(const cu_questionnaire *q, size_t i)
{
    for (; i != SIZE_MAX; i = q->items[i].parent)
        if (q->items[i].nwhen)
            return true;
    return false;
}

static int band(pctx *c, json_t *e, const char *p, cu_q_band *b)
{
    json_t *subs = json_object_get(e, "extension");
    char r[PATH_MAX_LEN];
    cu_jpath_key(r, p, "extension");
    if (!json_is_array(subs))
        return bad(c, r, "must be an array");
    bool lo = false, hi = false;
    for (size_t i = 0; i < json_array_size(subs); i++) {
        char s[PATH_MAX_LEN];
        cu_jpath_idx(s, p, "extension", i);
        json_t *x = json_array_get(subs, i), *v = NULL;
        const char *url, *vkey = "";
        int rc = sub_ext(c, x, s, &url, &vkey, &v);
        if (rc)
            return rc;
        bool *seen = NULL;
        if (strcmp(url, "low") == 0) {
            seen = &lo;
            rc = sub_int(c, v, s, vkey, &b->low);
        } else if (strcmp(url, "high") == 0) {
            seen = &hi;
            rc = sub_int(c, v, s, vkey, &b->high);
        } else if (strcmp(url, "code") == 0) {
            if (b->code)
                return bad(c, s, "a second code");
            rc = sub_str(c, x, s, vkey, "valueCode", CU_Q_MAX_SHORT, &b->code);
            if (!rc && !charset_ok(b->code, "-._")) {
                char t[PATH_MAX_LEN];
                cu_jpath_key(t, s, "valueCode");
                rc = bad(c, t, "may hold only letters, digits and - . _");
            }
        } else if (strcmp(url, "display") == 0) {
            if (b->display)
                return bad(c, s, "a second display");
            rc = sub_str(c, x, s, vkey, "valueString", CU_Q_MAX_TEXT, &b->display);
        } else {
            cu_jpath_key(r, s, "url");
            return bad(c, r, "must be low, high, code or display");
        }
        if (rc)
            return rc;
        if (seen && *seen)
            return bad(c, s, "repeated");
        if (seen)
            *seen = true;
    }
    if (!lo || !hi || !b->code)
        return bad(c, p, "a band needs low, high and code");
    if (b->low > b->high)
        return bad(c, p, "low is above high");
    return CU_OK;
}

static int score_ext(pctx *c, json_t *e, const char *p)
{
    cu_questionnaire *q = c->q;
    if (q->scored)
        return bad(c, p, "a second score extension");
    q->scored = true;
    static const char *const keys[] = {"url", "extension", NULL};
    int rc = cu_jpath_members(c->err, e, keys, p);
    if (rc)
        return rc;
    json_t *subs = json_object_get(e, "extension");
    char r[PATH_MAX_LEN], whole_path[PATH_MAX_LEN];
    cu_jpath_key(whole_path, p, "extension");
    if (!json_is_array(subs) || json_array_size(subs) == 0)
        return bad(c, whole_path, "must be a non-empty array");
    bool have_code = false;
    size_t nscored = 0;
    for (size_t i = 0; i < json_array_size(subs); i++) {
        char s[PATH_MAX_LEN];
        cu_jpath_idx(s, p, "extension", i);
        json_t *x = json_array_get(subs, i), *v = NULL;
        const char *url, *vkey = "";
        if ((rc = sub_ext(c, x, s, &url, &vkey, &v)))
            return rc;
        if (strcmp(url, "code") == 0) {
            cu_jpath_key(r, s, "valueCoding");
            if (have_code)
                return bad(c, s, "a second code");
            if (strcmp(vkey, "valueCoding") != 0)
                return bad(c, r, "required");
            cu_q_option co = {0};
            if ((rc = coding(c, v, r, false, true, &co)))
                return rc;
            q->score_system = co.system;
            q->score_code = co.code;
            q->score_display = co.display;
            have_code = true;
        } else if (strcmp(url, "item") == 0) {
            const char *link;
            if ((rc = sub_str(c, x, s, vkey, "valueString", CU_Q_MAX_LINKID, &link)))
                return rc;
            cu_jpath_key(r, s, "valueString");
            size_t k = cu_questionnaire_find(q, link);
            if (k == SIZE_MAX)
                return bad(c, r, "names no item");
            cu_q_item *it = &q->items[k];
            if (it->scored)
                return bad(c, r, "names an item already scored");
            if (it->type != CU_QT_CHOICE)
                return bad(c, r, "a scored item must be a choice");
            if (!it->required)
                return bad(c, r, "a scored item must be required");
            if (conditional(q, k))
                return bad(c, r, "a scored item must not depend on enableWhen");
            int64_t lo = INT64_MAX, hi = 0;
            for (size_t j = 0; j < it->noptions; j++) {
                if (!it->options[j].weighted)
                    return cu_err_set(c->err, CU_EINVAL,
                                      "%s: option %s of a scored item has no weight", r,
                                      it->options[j].code);
                if (it->options[j].weight < lo)
                    lo = it->options[j].weight;
                if (it->options[j].weight > hi)
                    hi = it->options[j].weight;
            }
            it->scored = true;
            q->score_min += lo;
            q->score_max += hi;
            nscored++;
        } else if (strcmp(url, "band") == 0) {
            if (q->nbands == CU_Q_MAX_BANDS)
                return cu_err_set(c->err, CU_EINVAL, "%s: more than %d bands", s,
                                  CU_Q_MAX_BANDS);
            if (strcmp(vkey, "extension") != 0)
                return bad(c, s, "a band is a complex extension");
            if ((rc = band(c, x, s, &q->bands[q->nbands])))
                return rc;
            q->nbands++;
        } else {
            cu_jpath_key(r, s, "url");
            return bad(c, r, "must be code, item or band");
        }
    }
    if (!have_code)
        return bad(c, whole_path, "the score needs a code");
    if (!nscored)
        return bad(c, whole_path, "the score needs at least one item");
    if (!q->nbands)
        return bad(c, whole_path, "the score needs bands");
    /* The bands, in order, cover min..max with no gap and no overlap. */
    for (size_t i = 0; i < q->nbands; i++) {
        const cu_q_band *b = &q->bands[i];
        int64_t want = i ? q->bands[i - 1].high + 1 : q->score_min;
        if (b->low != want)
            return cu_err_set(c->err, CU_EINVAL,
                              "%s: band %s starts at %lld, not %lld: the bands must cover "
                              "%lld-%lld in order without gap or overlap",
                              whole_path, b->code, (long long)b->low, (long long)want,
                              (long long)q->score_min, (long long)q->score_max);
        for (size_t j = 0; j < i; j++)
            if (strcmp(q->bands[j].code, b->code) == 0)
                return cu_err_set(c->err, CU_EINVAL, "%s: band %s appears twice", whole_path, b->code);
    }
    if (q->bands[q->nbands - 1].high != q->score_max)
        return cu_err_set(c->err, CU_EINVAL,
                          "%s: the last band ends at %lld, not at the highest score %lld", whole_path,
                          (long long)q->bands[q->nbands - 1].high, (long long)q->score_max);
    return CU_OK;
}

static int review_ext(pctx *c, json_t *e, const char *p)
{
    cu_questionnaire *q = c->q;
    if (q->nrules == CU_Q_MAX_RULES)
        return cu_err_set(c->err, CU_EINVAL, "%s: more than %d review rules", p, CU_Q_MAX_RULES);
    cu_q_rule *ru = &q->rules[q->nrules];
    static const char *const keys[] = {"url", "extension", NULL};
    int rc = cu_jpath_members(c->err, e, keys, p);
    if (rc)
        return rc;
    json_t *subs = json_object_get(e, "extension");
    char r[PATH_MAX_LEN];
    cu_jpath_key(r, p, "extension");
    if (!json_is_array(subs) || json_array_size(subs) == 0)
        return bad(c, r, "must be a non-empty array");
    bool item_seen = false, weight_seen = false, score_seen = false;
    for (size_t i = 0; i < json_array_size(subs); i++) {
        char s[PATH_MAX_LEN], t[PATH_MAX_LEN];
        cu_jpath_idx(s, p, "extension", i);
        json_t *x = json_array_get(subs, i), *v = NULL;
        const char *url, *vkey = "";
        if ((rc = sub_ext(c, x, s, &url, &vkey, &v)))
            return rc;
        if (strcmp(url, "id") == 0) {
            if (ru->id)
                return bad(c, s, "a second id");
            if ((rc = sub_str(c, x, s, vkey, "valueId", CU_Q_MAX_LINKID, &ru->id)))
                return rc;
            cu_jpath_key(t, s, "valueId");
            if (!charset_ok(ru->id, ".-"))
                return bad(c, t, "may hold only letters, digits and . -");
            for (size_t k = 0; k < q->nrules; k++)
                if (strcmp(q->rules[k].id, ru->id) == 0)
                    return bad(c, t, "the same id as an earlier rule");
        } else if (strcmp(url, "level") == 0) {
            if (ru->level)
                return bad(c, s, "a second level");
            if ((rc = sub_str(c, x, s, vkey, "valueCode", 16, &ru->level)))
                return rc;
            cu_jpath_key(t, s, "valueCode");
            if (strcmp(ru->level, "urgent") != 0 && strcmp(ru->level, "review") != 0)
                return bad(c, t, "must be urgent or review");
        } else if (strcmp(url, "reason") == 0) {
            if (ru->reason)
                return bad(c, s, "a second reason");
            if ((rc = sub_str(c, x, s, vkey, "valueString", CU_Q_MAX_TEXT, &ru->reason)))
                return rc;
        } else if (strcmp(url, "item") == 0) {
            const char *link;
            if (item_seen)
                return bad(c, s, "a second item");
            if ((rc = sub_str(c, x, s, vkey, "valueString", CU_Q_MAX_LINKID, &link)))
                return rc;
            cu_jpath_key(t, s, "valueString");
            ru->item = cu_questionnaire_find(q, link);
            if (ru->item == SIZE_MAX)
                return bad(c, t, "names no item");
            if (q->items[ru->item].type != CU_QT_CHOICE)
                return bad(c, t, "a review rule's item must be a choice");
            item_seen = true;
        } else if (strcmp(url, "answer") == 0) {
            if (ru->nanswers == CU_Q_MAX_RULE_ANSWERS)
                return cu_err_set(c->err, CU_EINVAL, "%s: more than %d answers", s,
                                  CU_Q_MAX_RULE_ANSWERS);
            if ((rc = sub_str(c, x, s, vkey, "valueCode", CU_Q_MAX_SHORT,
                              &ru->answers[ru->nanswers])))
                return rc;
            if (!item_seen)
                return bad(c, s, "the rule's item must come before its answers");
            cu_jpath_key(t, s, "valueCode");
            if (!option_of(&q->items[ru->item], ru->answers[ru->nanswers]))
                return bad(c, t, "not one of the item's options");
            ru->nanswers++;
        } else if (strcmp(url, "weightAbove") == 0) {
            if (weight_seen)
                return bad(c, s, "a second weightAbove");
            if ((rc = sub_int(c, v, s, vkey, &ru->n)))
                return rc;
            weight_seen = true;
        } else if (strcmp(url, "scoreAtLeast") == 0) {
            if (score_seen)
                return bad(c, s, "a second scoreAtLeast");
            if ((rc = sub_int(c, v, s, vkey, &ru->n)))
                return rc;
            score_seen = true;
        } else {
            cu_jpath_key(t, s, "url");
            return bad(c, t, "must be id, level, reason, item, answer, weightAbove or "
                             "scoreAtLeast");
        }
    }
    if (!ru->id)
        return bad(c, r, "a review rule needs an id");
    if (!ru->level)
        return bad(c, r, "a review rule needs a level");
    int conds = (item_seen && ru->nanswers) + weight_seen + score_seen;
    if (conds != 1 || (item_seen && !ru->nanswers && !weight_seen) ||
        (weight_seen && !item_seen) || (score_seen && item_seen))
        return bad(c, r, "a review rule needs exactly one condition: item with answers, item "
                         "with weightAbove, or scoreAtLeast");
    if (weight_seen) {
        const cu_q_item *it = &q->items[ru->item];
        for (size_t k = 0; k < it->noptions; k++)
            if (!it->options[k].weighted)
                return bad(c, r, "weightAbove needs an item whose options all have weights");
        ru->kind = CU_QR_WEIGHT_ABOVE;
    } else if (score_seen) {
        if (!q->scored)
            return bad(c, r, "scoreAtLeast needs the score extension before it");
        if (ru->n < q->score_min || ru->n > q->score_max)
            return cu_err_set(c->err, CU_EINVAL, "%s: scoreAtLeast must be from %lld to %lld",
                              r, (long long)q->score_min, (long long)q->score_max);
        ru->kind = CU_QR_SCORE_AT_LEAST;
    } else {
        ru->kind = CU_QR_ANSWER_IN;
    }
    q->nrules++;
    return CU_OK;
}

static int extensions(pctx *c, json_t *a)
{
    if (!json_is_array(a) || json_array_size(a) == 0)
        return bad(c, "extension", "must be a non-empty array");
    /* The score first: review rules may refer to it. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < json_array_size(a); i++) {
            char p[PATH_MAX_LEN];
            cu_jpath_idx(p, "", "extension", i);
            json_t *e = json_array_get(a, i);
            if (!json_is_object(e))
                return bad(c, p, "must be an object");
            const char *url;
            int rc = get_str(c, e, "url", p, true, CU_Q_MAX_URL, S_PLAIN, &url);
            if (rc)
                return rc;
            if (strcmp(url, CU_Q_EXT_SCORE) == 0) {
                if (pass == 0 && (rc = score_ext(c, e, p)))
                    return rc;
            } else if (strcmp(url, CU_Q_EXT_REVIEW) == 0) {
                if (pass == 1 && (rc = review_ext(c, e, p)))
                    return rc;
            } else {
                char r[PATH_MAX_LEN];
                cu_jpath_key(r, p, "url");
                return bad(c, r, "not an extension custos knows");
            }
        }
    return CU_OK;
}

static int root(pctx *c, json_t *o)
{
    static const char *const keys[] = {
        "resourceType", "id",        "url",         "version",   "name",
        "title",        "status",    "experimental", "date",     "publisher",
        "description",  "copyright", "subjectType", "code",      "item",
        "extension",    NULL};
    cu_questionnaire *q = c->q;
    if (!json_is_object(o))
        return bad(c, "", "must be a JSON object");
    const char *rt, *s;
    bool b = false;
    int rc = cu_jpath_members(c->err, o, keys, "");
    if (!rc)
        rc = get_str(c, o, "resourceType", "", true, 32, S_PLAIN, &rt);
    if (!rc && strcmp(rt, "Questionnaire") != 0)
        rc = bad(c, "resourceType", "must be Questionnaire");
    if (!rc)
        rc = get_str(c, o, "id", "", false, 64, S_PLAIN, &s);
    if (!rc && s && !charset_ok(s, "-."))
        rc = bad(c, "id", "may hold only letters, digits and - .");
    if (!rc)
        rc = get_str(c, o, "url", "", true, CU_Q_MAX_URL, S_PLAIN, &q->url);
    if (!rc && !url_ok(q->url))
        rc = bad(c, "url", "must be an absolute URI");
    if (!rc)
        rc = get_str(c, o, "version", "", true, 64, S_PLAIN, &q->version);
    if (!rc && !charset_ok(q->version, "-._+"))
        rc = bad(c, "version", "may hold only letters, digits and - . _ +");
    if (!rc)
        rc = get_str(c, o, "name", "", false, CU_Q_MAX_SHORT, S_PLAIN, &q->name);
    if (!rc && q->name &&
        (!charset_ok(q->name, "_") || !((q->name[0] >= 'A' && q->name[0] <= 'Z'))))
        rc = bad(c, "name", "must start with a capital letter and hold only letters, digits "
                            "and _");
    if (!rc)
        rc = get_str(c, o, "title", "", false, CU_Q_MAX_TEXT, S_PLAIN, &q->title);
    if (!rc)
        rc = get_str(c, o, "status", "", true, 16, S_PLAIN, &q->status);
    if (!rc && strcmp(q->status, "draft") != 0 && strcmp(q->status, "active") != 0 &&
        strcmp(q->status, "retired") != 0)
        rc = bad(c, "status", "must be draft, active or retired");
    if (!rc)
        rc = get_bool(c, o, "experimental", "", &b);
    if (!rc)
        rc = get_str(c, o, "date", "", false, 32, S_PLAIN, &s);
    if (!rc && s && !charset_ok(s, "-:T.+Z"))
        rc = bad(c, "date", "must be a FHIR dateTime");
    if (!rc)
        rc = get_str(c, o, "publisher", "", false, CU_Q_MAX_TEXT, S_PLAIN, &s);
    if (!rc)
        rc = get_str(c, o, "description", "", false, CU_Q_MAX_TEXT, S_LINES, &s);
    if (!rc)
        rc = get_str(c, o, "copyright", "", false, CU_Q_MAX_TEXT, S_LINES, &s);
    if (rc)
        return rc;
    json_t *st = json_object_get(o, "subjectType");
    if (st) {
        if (!json_is_array(st) || json_array_size(st) != 1 ||
            !json_is_string(json_array_get(st, 0)) ||
            strcmp(json_string_value(json_array_get(st, 0)), "Patient") != 0)
            return bad(c, "subjectType", "must be [\"Patient\"]");
    }
    if ((rc = codes(c, o, "")))
        return rc;
    json_t *it = json_object_get(o, "item");
    if (!it)
        return bad(c, "item", "required");
    if ((rc = items(c, it, "", SIZE_MAX, 0)))
        return rc;
    json_t *ext = json_object_get(o, "extension");
    return ext ? extensions(c, ext) : CU_OK;
}

cu_questionnaire *cu_questionnaire_ref(cu_questionnaire *q)
{
    if (q)
        atomic_fetch_add(&q->refs, 1);
    return q;
}

void cu_questionnaire_free(cu_questionnaire *q)
{
    if (!q || atomic_fetch_sub(&q->refs, 1) > 1)
        return;
    for (size_t i = 0; q->items && i < CU_Q_MAX_ITEMS; i++) {
        free(q->items[i].options);
        free(q->items[i].when);
    }
    free(q->items);
    json_decref((json_t *)q->owner);
    free(q);
}

int cu_questionnaire_parse(const void *json, size_t len, cu_questionnaire **out, cu_err *err)
{
    *out = NULL;
    if (len > CU_Q_MAX_BYTES)
        return cu_err_set(err, CU_EINVAL, "the questionnaire is larger than %d bytes",
                          CU_Q_MAX_BYTES);
    json_error_t je;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!doc) {
        if (json_error_code(&je) == json_error_out_of_memory)
            return cu_err_set(err, CU_ENOMEM, "out of memory");
        if (json_error_code(&je) == json_error_duplicate_key)
            return cu_err_set(err, CU_EINVAL, "malformed JSON: duplicate key at line %d",
                              je.line);
        return cu_err_set(err, CU_EINVAL, "malformed JSON at line %d column %d", je.line,
                          je.column);
    }
    cu_questionnaire *q = calloc(1, sizeof *q);
    if (q)
        q->items = calloc(CU_Q_MAX_ITEMS, sizeof *q->items);
    if (!q || !q->items) {
        json_decref(doc);
        free(q);
        return cu_err_set(err, CU_ENOMEM, "out of memory");
    }
    atomic_init(&q->refs, 1);
    q->owner = doc;
    pctx c = {.q = q, .err = err};
    int rc = root(&c, doc);
    if (rc) {
        cu_questionnaire_free(q);
        return rc;
    }
    *out = q;
    return CU_OK;
}

int cu_questionnaire_canonical(const cu_questionnaire *q, cu_buf *out, cu_err *err)
{
    char *s = json_dumps((const json_t *)q->owner,
                         JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
    if (!s)
        return cu_err_set(err, CU_ENOMEM, "out of memory encoding the questionnaire");
    int rc = cu_buf_append(out, s, strlen(s));
    free(s);
    return rc ? cu_err_set(err, CU_ENOMEM, "the questionnaire is too large") : CU_OK;
}

/* ---- scoring ---- */

static int cmp_i(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_d(double a, double b)
{
    return a < b ? -1 : a > b;
}

static bool holds(cu_q_op op, int c)
{
    switch (op) {
    case CU_QO_EQ: return c == 0;
    case CU_QO_NE: return c != 0;
    case CU_QO_GT: return c > 0;
    case CU_QO_LT: return c < 0;
    case CU_QO_GE: return c >= 0;
    case CU_QO_LE: return c <= 0;
    default: return false;
    }
}

/* One condition, given the (enabled) answer to its question (NULL: none). */
static bool when_holds(const cu_q_when *w, const cu_q_answer *a)
{
    if (w->op == CU_QO_EXISTS)
        return (a != NULL) == w->b;
    if (!a)
        return false;
    switch (w->kind) {
    case CU_QV_CODE:
    case CU_QV_STRING: return holds(w->op, strcmp(a->s, w->code) != 0);
    case CU_QV_INT: return holds(w->op, cmp_i(a->i, w->i));
    case CU_QV_DECIMAL: return holds(w->op, cmp_d(a->d, w->d));
    case CU_QV_BOOL: return holds(w->op, a->b != w->b);
    default: return false;
    }
}

/* Which items are enabled, in document order: a condition names an earlier
 * item and a group comes before its items. A disabled item's answer does
 * not count. by[k] is the answer to item k or NULL. */
static void enabled_of(const cu_questionnaire *q, const cu_q_answer *const *by, bool *enabled)
{
    for (size_t k = 0; k < q->nitems; k++) {
        const cu_q_item *it = &q->items[k];
        bool on = it->parent == SIZE_MAX || enabled[it->parent];
        if (on && it->nwhen) {
            bool any = false, all = true;
            for (size_t j = 0; j < it->nwhen; j++) {
                size_t qi = it->when[j].question;
                bool h = when_holds(&it->when[j], enabled[qi] ? by[qi] : NULL);
                any = any || h;
                all = all && h;
            }
            on = it->when_all ? all : any;
        }
        enabled[k] = on;
    }
}

void cu_questionnaire_enabled(const cu_questionnaire *q, const cu_q_answer *a, size_t n,
                              bool enabled[CU_Q_MAX_ITEMS])
{
    const cu_q_answer *by[CU_Q_MAX_ITEMS] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t k = a[i].link_id ? cu_questionnaire_find(q, a[i].link_id) : SIZE_MAX;
        if (k != SIZE_MAX && !by[k])
            by[k] = &a[i];
    }
    enabled_of(q, by, enabled);
}

static cu_q_kind kind_for(cu_q_type t)
{
    switch (t) {
    case CU_QT_CHOICE: return CU_QV_CODE;
    case CU_QT_INTEGER: return CU_QV_INT;
    case CU_QT_DECIMAL: return CU_QV_DECIMAL;
    case CU_QT_BOOLEAN: return CU_QV_BOOL;
    case CU_QT_STRING:
    case CU_QT_TEXT:
    case CU_QT_DATE: return CU_QV_STRING;
    default: return CU_QV_NONE;
    }
}

static const char *kind_name(cu_q_kind k)
{
    switch (k) {
    case CU_QV_CODE: return "a coding";
    case CU_QV_INT: return "an integer";
    case CU_QV_DECIMAL: return "a decimal";
    case CU_QV_BOOL: return "true or false";
    default: return "text";
    }
}

int cu_questionnaire_score(const cu_questionnaire *q, const cu_q_answer *a, size_t n,
                           const int64_t *submitted_total, cu_q_result *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    if (n > CU_Q_MAX_ITEMS)
        return cu_err_set(err, CU_EINVAL, "more answers than the questionnaire has items");
    const cu_q_answer *by[CU_Q_MAX_ITEMS] = {0};
    bool enabled[CU_Q_MAX_ITEMS] = {0};
    for (size_t i = 0; i < n; i++) {
        if (!a[i].link_id)
            return cu_err_set(err, CU_EINVAL, "answers[%zu]: linkId required", i);
        size_t k = cu_questionnaire_find(q, a[i].link_id);
        if (k == SIZE_MAX)
            return cu_err_set(err, CU_EINVAL, "answers[%zu]: the questionnaire has no item %.64s",
                              i, strlen(a[i].link_id) <= CU_Q_MAX_LINKID &&
                                         charset_ok(a[i].link_id, "._-")
                                     ? a[i].link_id
                                     : "(an invalid linkId)");
        const cu_q_item *it = &q->items[k];
        if (by[k])
            return cu_err_set(err, CU_EINVAL, "answers[%zu]: item %s is answered twice", i,
                              it->link_id);
        cu_q_kind want = kind_for(it->type);
        if (want == CU_QV_NONE)
            return cu_err_set(err, CU_EINVAL, "answers[%zu]: item %s takes no answer", i,
                              it->link_id);
        if (a[i].kind != want)
            return cu_err_set(err, CU_EINVAL, "answers[%zu]: item %s takes %s", i, it->link_id,
                              kind_name(want));
        if ((want == CU_QV_CODE || want == CU_QV_STRING) && (!a[i].s || !*a[i].s))
            return cu_err_set(err, CU_EINVAL, "answers[%zu]: item %s: the answer is empty", i,
                              it->link_id);
        if (want == CU_QV_CODE && !option_of(it, a[i].s))
            return cu_err_set(err, CU_EINVAL,
                              "answers[%zu]: item %s: the answer is not one of its options", i,
                              it->link_id);
        by[k] = &a[i];
    }
    enabled_of(q, by, enabled);
    for (size_t k = 0; k < q->nitems; k++)
        if (by[k] && !enabled[k])
            return cu_err_set(err, CU_EINVAL,
                              "answers: item %s is not enabled by the other answers",
                              q->items[k].link_id);
    out->complete = true;
    for (size_t k = 0; k < q->nitems && out->complete; k++)
        if (enabled[k] && q->items[k].required && !by[k]) {
            out->complete = false;
            out->missing = q->items[k].link_id;
        }
    if (q->scored && out->complete) {
        int64_t total = 0;
        for (size_t k = 0; k < q->nitems; k++)
            if (q->items[k].scored)
                total += option_of(&q->items[k], by[k]->s)->weight;
        out->has_total = true;
        out->total = total;
        for (size_t b = 0; b < q->nbands; b++)
            if (total >= q->bands[b].low && total <= q->bands[b].high)
                out->band = &q->bands[b];
    }
    for (size_t r = 0; r < q->nrules; r++) {
        const cu_q_rule *ru = &q->rules[r];
        bool raise = false;
        const cu_q_answer *ans = ru->kind == CU_QR_SCORE_AT_LEAST ? NULL : by[ru->item];
        switch (ru->kind) {
        case CU_QR_ANSWER_IN:
            for (size_t j = 0; ans && j < ru->nanswers && !raise; j++)
                raise = strcmp(ans->s, ru->answers[j]) == 0;
            break;
        case CU_QR_WEIGHT_ABOVE:
            raise = ans && option_of(&q->items[ru->item], ans->s)->weight > ru->n;
            break;
        case CU_QR_SCORE_AT_LEAST:
            raise = out->has_total && out->total >= ru->n;
            break;
        }
        if (raise) {
            out->flags[out->nflags++] = (cu_q_flag){ru->id, ru->level, ru->reason};
            if (strcmp(ru->level, "urgent") == 0)
                out->urgent = true;
        }
    }
    if (submitted_total)
        out->total_disagrees = !out->has_total || *submitted_total != out->total;
    return CU_OK;
}
