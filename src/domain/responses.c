/*
 * responses.c — questionnaire links and responses (responses.h).
 */
#include "domain/responses.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/integrity.h"
#include "domain/op.h"
#include "domain/op_impl.h"
#include "domain/pathway.h"
#include "domain/policy.h"
#include "domain/subject.h"
#include "domain/subject_rows.h"
#include "domain/tasks.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

#define DAY_US ((int64_t)86400 * 1000000)
#define LINK_ACTOR "questionnaire-link"

/* ---- link rows ---- */

static void ql_mac(cu_vault *v, const cu_qlink_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "questionnaire_links");
    cu_mac_bytes(m, r->hash, r->hash_len);
    cu_mac_str(m, r->id);
    cu_mac_str(m, r->controller_id);
    cu_mac_str(m, r->subject_id);
    cu_mac_str(m, r->url);
    cu_mac_str(m, r->version);
    cu_mac_str(m, r->purpose);
    cu_mac_str(m, r->issued_by);
    cu_mac_i64(m, r->issued_at);
    cu_mac_i64(m, r->expires_at);
    cu_mac_i64(m, r->used_at);
    cu_mac_str(m, r->response_id);
}

static void ql_sign(cu_vault *v, cu_qlink_row *r)
{
    cu_mac m;
    ql_mac(v, r, &m);
    cu_mac_final(&m, r->mac);
    r->mac_len = CU_HASH_BYTES;
}

static bool ql_ok(cu_vault *v, const cu_qlink_row *r)
{
    cu_mac m;
    ql_mac(v, r, &m);
    return cu_mac_check(&m, r->mac, r->mac_len) && r->hash_len == CU_HASH_BYTES;
}

/* The row's name in messages: its id when it is one, else a placeholder. */
static const char *ql_name(const cu_qlink_row *r)
{
    return cu_id_valid(r->id) ? r->id : "(malformed id)";
}

static int token_hash(cu_vault *v, const char *token, size_t n, unsigned char h[CU_HASH_BYTES],
                      cu_err *err)
{
    if (!token || !cu_token_wellformed(token, n, CU_QLINK_PREFIX))
        return cu_err_set(err, CU_ENOTFOUND, "no such questionnaire link");
    cu_token_keyed_hash(v, "questionnaire", token, n, h);
    return CU_OK;
}

/* The link with token hash h, authenticated: CU_ENOTFOUND, CU_ETAMPER. */
static int link_load(cu_vault *v, const unsigned char h[CU_HASH_BYTES], cu_qlink_row *r,
                     cu_err *err)
{
    int rc = cu_store_qlink_get(v->store, h, CU_HASH_BYTES, r, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        return cu_err_set(err, CU_ENOTFOUND, "no such questionnaire link");
    }
    if (rc)
        return rc;
    /* Found by the hash's index; compared again in constant time. */
    if (r->hash_len != CU_HASH_BYTES || !cu_ct_equal(r->hash, h, CU_HASH_BYTES))
        return cu_err_set(err, CU_ENOTFOUND, "no such questionnaire link");
    if (!ql_ok(v, r))
        return cu_err_set(err, CU_ETAMPER, "questionnaire_links %s has been altered",
                          ql_name(r));
    return CU_OK;
}

static cu_qlink_state link_state(const cu_qlink_row *r, int64_t now)
{
    if (r->used_at)
        return r->response_id[0] ? CU_QLINK_USED : CU_QLINK_RETIRED;
    return now >= r->expires_at ? CU_QLINK_EXPIRED : CU_QLINK_OPEN;
}

/* CU_OK for an open link; the distinct refusals of a used or expired one. */
static int link_usable(const cu_qlink_row *r, cu_err *err)
{
    switch (link_state(r, cu_now_us())) {
    case CU_QLINK_USED:
        return cu_err_set(err, CU_ECONFLICT, "this questionnaire link has been used already");
    case CU_QLINK_EXPIRED:
        return cu_err_set(err, CU_EDENIED, "this questionnaire link has expired");
    case CU_QLINK_RETIRED:
        return cu_err_set(err, CU_EDENIED, "this questionnaire link is no longer valid");
    default:
        return CU_OK;
    }
}

static void info_of(cu_vault *v, const cu_qlink_row *r, cu_qlink_info *i)
{
    memset(i, 0, sizeof *i);
    cu_strlcpy(i->url, r->url, sizeof i->url);
    cu_strlcpy(i->version, r->version, sizeof i->version);
    cu_strlcpy(i->purpose, r->purpose, sizeof i->purpose);
    i->issued_at = r->issued_at;
    i->expires_at = r->expires_at;
    i->used_at = r->used_at;
    i->state = link_state(r, cu_now_us());
    const cu_policy *pol = NULL;
    cu_err e = {0};
    if (cu_vault_policy(v, r->controller_id, &pol, &e) == CU_OK && pol && pol->controller.name)
        cu_strlcpy(i->controller_name, pol->controller.name, sizeof i->controller_name);
}

/* ---- issuing ---- */

int cu_qlink_issue(cu_vault *v, const cu_actor *a, const char *subject_id, const char *url,
                   const char *version, const char *purpose, int days,
                   char token_out[CU_TOKEN_STRLEN], cu_qlink_info *out, cu_err *err)
{
    if (days == 0)
        days = CU_QLINK_DAYS_DEFAULT;
    if (days < 1 || days > CU_QLINK_DAYS_MAX)
        return cu_err_set(err, CU_EINVAL, "days must be 1-%d", CU_QLINK_DAYS_MAX);
    if (!purpose || !cu_name_valid(purpose))
        return cu_err_set(err, CU_EINVAL, "purpose must be a purpose id");
    if (!a)
        return cu_err_set(err, CU_EDENIED, "no authenticated actor");
    cu_questionnaire *q = NULL;
    int rc = cu_questionnaire_load(v, url, version, &q, err);
    if (rc)
        return rc;
    /* The link's purpose is the operation's: the policy decides on it. */
    cu_actor as = *a;
    as.purpose = purpose;
    cu_op op;
    if ((rc = cu_op_begin(v, &op, &as, CU_ACT_QUESTIONNAIRE_SEND, "questionnaire.send", err))) {
        cu_questionnaire_free(q);
        return rc;
    }
    op.categories = 1u << CU_CAT_HEALTH;
    cu_subject_rec rec;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    const cu_policy *pol = NULL;
    if (!rc)
        rc = cu_vault_policy(v, rec.controller_id, &pol, err);
    const cu_pol_purpose *p = rc ? NULL : cu_policy_purpose(pol, purpose);
    if (!rc && (!p || p->builtin || !(p->categories & (1u << CU_CAT_HEALTH))))
        rc = cu_err_set(err, CU_EINVAL, "purpose %s is not a purpose of the controller's "
                                        "policy that covers health data", purpose);
    char token[CU_TOKEN_STRLEN];
    cu_token_new(CU_QLINK_PREFIX, token);
    cu_qlink_row r;
    memset(&r, 0, sizeof r);
    if (!rc) {
        cu_token_keyed_hash(v, "questionnaire", token, strlen(token), r.hash);
        r.hash_len = CU_HASH_BYTES;
        cu_random_id(r.id);
        cu_strlcpy(r.controller_id, rec.controller_id, sizeof r.controller_id);
        cu_strlcpy(r.subject_id, rec.id, sizeof r.subject_id);
        cu_strlcpy(r.url, q->url, sizeof r.url);
        cu_strlcpy(r.version, q->version, sizeof r.version);
        cu_strlcpy(r.purpose, purpose, sizeof r.purpose);
        cu_strlcpy(r.issued_by, a->name, sizeof r.issued_by);
        r.issued_at = cu_now_us();
        r.expires_at = r.issued_at + (int64_t)days * DAY_US;
        ql_sign(v, &r);
        rc = cu_store_qlink_insert(v->store, &r, err);
        bool moved = false;
        if (!rc)
            rc = cu_pathway_note(v, r.subject_id, r.url, "sent", r.id, r.issued_at, &moved, err);
    }
    cu_questionnaire_free(q);
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc) {
        memcpy(token_out, token, CU_TOKEN_STRLEN);
        if (out)
            info_of(v, &r, out);
    }
    cu_wipe(token, sizeof token);
    return rc;
}

/* ---- peeking ---- */

/* The link a patient reaches on the portal: by its row id among the links of
 * subject_id, authenticated. CU_ENOTFOUND for an unknown id and for another
 * subject's link alike; CU_ETAMPER. */
typedef struct own_ctx {
    const char *id;
    cu_qlink_row *r;
    bool found;
} own_ctx;

static int own_row(void *ctx, const cu_qlink_row *r)
{
    own_ctx *o = ctx;
    if (!o->found && strcmp(r->id, o->id) == 0) {
        *o->r = *r;
        o->found = true;
    }
    return CU_OK;
}

static int link_load_own(cu_vault *v, const char *subject_id, const char *link_id,
                         cu_qlink_row *r, cu_err *err)
{
    memset(r, 0, sizeof *r);
    if (!subject_id || !cu_id_valid(subject_id) || !link_id || !cu_id_valid(link_id))
        return cu_err_set(err, CU_ENOTFOUND, "no such questionnaire link");
    own_ctx o = {.id = link_id, .r = r};
    int rc = cu_store_qlink_of_subject(v->store, subject_id, own_row, &o, err);
    if (rc)
        return rc;
    if (!o.found || strcmp(r->subject_id, subject_id) != 0)
        return cu_err_set(err, CU_ENOTFOUND, "no such questionnaire link");
    if (!ql_ok(v, r))
        return cu_err_set(err, CU_ETAMPER, "questionnaire_links %s has been altered",
                          ql_name(r));
    return CU_OK;
}

/* How a link is reached: by its token's keyed hash (the public form), or by
 * its row id among one subject's links (the portal). */
typedef struct link_key {
    unsigned char hash[CU_HASH_BYTES];
    const char *subject_id, *id; /* set: by row id */
} link_key;

static int key_load(cu_vault *v, const link_key *k, cu_qlink_row *r, cu_err *err)
{
    return k->id ? link_load_own(v, k->subject_id, k->id, r, err) : link_load(v, k->hash, r, err);
}

static int peek_key(cu_vault *v, const link_key *k, cu_qlink_info *out, cu_questionnaire **q,
                    cu_err *err)
{
    memset(out, 0, sizeof *out);
    *q = NULL;
    cu_qlink_row r;
    int rc = key_load(v, k, &r, err);
    if (rc)
        return rc;
    info_of(v, &r, out);
    if ((rc = link_usable(&r, err)))
        return rc;
    /* A link of a subject erased before erasures retired links. */
    cu_subject_rec subj;
    rc = cu_store_subject_get(v->store, r.subject_id, &subj, err);
    if (rc == CU_ENOTFOUND || (!rc && subj.erased_at)) {
        cu_err_clear(err);
        out->state = CU_QLINK_RETIRED;
        return cu_err_set(err, CU_EDENIED, "this questionnaire link is no longer valid");
    }
    if (rc)
        return rc;
    return cu_questionnaire_load(v, r.url, r.version, q, err);
}

int cu_qlink_peek(cu_vault *v, const char *token, size_t n, cu_qlink_info *out,
                  cu_questionnaire **q, cu_err *err)
{
    memset(out, 0, sizeof *out);
    *q = NULL;
    link_key k = {0};
    int rc = token_hash(v, token, n, k.hash, err);
    return rc ? rc : peek_key(v, &k, out, q, err);
}

int cu_qlink_peek_own(cu_vault *v, const char *subject_id, const char *link_id,
                      cu_qlink_info *out, cu_questionnaire **q, cu_err *err)
{
    link_key k = {.subject_id = subject_id, .id = link_id};
    return peek_key(v, &k, out, q, err);
}

/* ---- a patient's open links (the portal) ---- */

typedef struct open_ctx {
    cu_qlink_row *p;
    size_t n;
    int64_t now;
    bool oom;
} open_ctx;

static int open_collect(void *ctx, const cu_qlink_row *r)
{
    open_ctx *c = ctx;
    if (link_state(r, c->now) != CU_QLINK_OPEN)
        return CU_OK;
    cu_qlink_row *np = realloc(c->p, (c->n + 1) * sizeof *np);
    if (!np) {
        c->oom = true;
        return CU_ENOMEM;
    }
    c->p = np;
    c->p[c->n++] = *r;
    return CU_OK;
}

int cu_qlink_open_list(cu_vault *v, const cu_actor *a, const char *subject_id,
                       const char *action, cu_qlink_open_cb cb, void *ctx, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_PORTAL_VIEW, action, err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    open_ctx c = {.now = cu_now_us()};
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc) {
        rc = cu_store_qlink_of_subject(v->store, rec.id, open_collect, &c, err);
        if (c.oom) {
            cu_err_clear(err);
            rc = cu_err_set(err, CU_ENOMEM, "out of memory");
        }
    }
    for (size_t i = 0; !rc && i < c.n; i++) {
        const cu_qlink_row *r = &c.p[i];
        if (!ql_ok(v, r) || strcmp(r->subject_id, rec.id) != 0 ||
            strcmp(r->controller_id, rec.controller_id) != 0) {
            rc = cu_err_set(err, CU_ETAMPER, "questionnaire_links %s has been altered",
                            ql_name(r));
            break;
        }
        cu_questionnaire *q = NULL;
        if ((rc = cu_questionnaire_load(v, r->url, r->version, &q, err)))
            break;
        op.categories |= 1u << CU_CAT_HEALTH;
        cu_qlink_open one = {.title = q->title ? q->title : q->name ? q->name : "Questionnaire",
                             .issued_at = r->issued_at, .expires_at = r->expires_at};
        cu_strlcpy(one.id, r->id, sizeof one.id);
        rc = cb(ctx, &one, err);
        cu_questionnaire_free(q);
    }
    free(c.p);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct retire_ctx {
    cu_vault *v;
    cu_err *err;
    cu_qlink_row *p;
    size_t n;
} retire_ctx;

static int retire_collect(void *ctx, const cu_qlink_row *r)
{
    retire_ctx *c = ctx;
    if (!ql_ok(c->v, r))
        return cu_err_set(c->err, CU_ETAMPER, "questionnaire_links %s has been altered",
                          ql_name(r));
    cu_qlink_row *np = realloc(c->p, (c->n + 1) * sizeof *np);
    if (!np)
        return cu_err_set(c->err, CU_ENOMEM, "out of memory reading questionnaire links");
    c->p = np;
    c->p[c->n++] = *r;
    return CU_OK;
}

int cu_qlink_retire_subject(cu_vault *v, const char *subject_id, int64_t at, int *retired,
                            cu_err *err)
{
    if (retired)
        *retired = 0;
    if (!subject_id || !cu_id_valid(subject_id))
        return cu_err_set(err, CU_EINVAL, "a subject id is required");
    retire_ctx c = {.v = v, .err = err};
    int rc = cu_store_qlink_unused_of_subject(v->store, subject_id, retire_collect, &c, err);
    for (size_t i = 0; !rc && i < c.n; i++) {
        cu_qlink_row *r = &c.p[i];
        r->used_at = at ? at : cu_now_us();
        r->response_id[0] = '\0';
        ql_sign(v, r);
        rc = cu_store_qlink_use(v->store, r, err);
        if (!rc && retired)
            (*retired)++;
    }
    free(c.p);
    return rc;
}

/* ---- the stored document ---- */

/* The stored document is written straight into a buffer, byte for byte as
 * jansson's json_dumps writes it with JSON_COMPACT | JSON_SORT_KEYS |
 * JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17) (members below are written in
 * sorted order), without building a tree first. */
typedef struct doc_w {
    cu_buf *b;
    int rc;       /* the first failure, sticky */
    bool too_big; /* it failed at the buffer's limit */
} doc_w;

static void dw_put(doc_w *w, const char *s, size_t n)
{
    if (!w->rc && cu_buf_append(w->b, s, n)) {
        w->rc = CU_ENOMEM;
        w->too_big = n > w->b->limit - w->b->len;
    }
}

static void dw_lit(doc_w *w, const char *s)
{
    dw_put(w, s, strlen(s));
}

/* The next code point of well-formed UTF-8 (no overlongs, surrogates or code
 * points past U+10FFFF), or -1. */
static long utf8_next(const unsigned char *s, size_t n, size_t *used)
{
    unsigned char c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                                                  : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!len || len > n)
        return -1;
    long cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const long least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *used = len;
    return cp;
}

static void dw_str(doc_w *w, const char *str)
{
    if (!str) {
        if (!w->rc)
            w->rc = CU_EINVAL;
        return;
    }
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), run = 0;
    dw_put(w, "\"", 1);
    for (size_t i = 0; i < n && !w->rc;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        dw_put(w, str + run, i - run);
        size_t used = 1;
        long cp = utf8_next(s + i, n - i, &used);
        char e[24];
        switch (cp) {
        case -1: w->rc = CU_EINVAL; return;
        case '"': dw_lit(w, "\\\""); break;
        case '\\': dw_lit(w, "\\\\"); break;
        case '\b': dw_lit(w, "\\b"); break;
        case '\f': dw_lit(w, "\\f"); break;
        case '\n': dw_lit(w, "\\n"); break;
        case '\r': dw_lit(w, "\\r"); break;
        case '\t': dw_lit(w, "\\t"); break;
        default:
            if (cp < 0x10000) {
                snprintf(e, sizeof e, "\\u%04X", (unsigned)cp);
            } else {
                long v = cp - 0x10000;
                snprintf(e, sizeof e, "\\u%04X\\u%04X", (unsigned)(0xd800 | (v >> 10)),
                         (unsigned)(0xdc00 | (v & 0x3ff)));
            }
            dw_lit(w, e);
        }
        i += used;
        run = i;
    }
    dw_put(w, str + run, n - run);
    dw_put(w, "\"", 1);
}

static void dw_int(doc_w *w, int64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%lld", (long long)v);
    dw_lit(w, b);
}

/* As jansson: %.17g, ".0" added when it reads as an integer, the exponent
 * without '+' or leading zeros; a value that is not finite fails. */
static void dw_real(doc_w *w, double v)
{
    char b[40];
    int n = isfinite(v) ? snprintf(b, sizeof b, "%.17g", v) : -1;
    if (n <= 0 || (size_t)n + 3 > sizeof b) {
        if (!w->rc)
            w->rc = CU_EINVAL;
        return;
    }
    size_t len = (size_t)n;
    if (!strchr(b, '.') && !strchr(b, 'e')) {
        memcpy(b + len, ".0", 3);
        len += 2;
    }
    char *e = strchr(b, 'e');
    if (e) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - b) + 1);
            len -= (size_t)(end - start);
        }
    }
    dw_put(w, b, len);
}

/* {"code":...,"display":...,"system":...}, the last two when there. */
static void dw_coding(doc_w *w, const char *code, const char *display, const char *system)
{
    dw_lit(w, "{\"code\":");
    dw_str(w, code);
    if (display) {
        dw_lit(w, ",\"display\":");
        dw_str(w, display);
    }
    if (system) {
        dw_lit(w, ",\"system\":");
        dw_str(w, system);
    }
    dw_lit(w, "}");
}

/* {"url":url,"<key>":, the value written by the caller, then "}". */
static void dw_ext(doc_w *w, const char *url, const char *key)
{
    dw_lit(w, ",{\"url\":");
    dw_str(w, url);
    dw_lit(w, ",\"");
    dw_lit(w, key);
    dw_lit(w, "\":");
}

static const cu_q_answer *answer_of(const cu_q_answer *a, size_t na, const char *link_id)
{
    for (size_t i = 0; i < na; i++)
        if (a[i].link_id && strcmp(a[i].link_id, link_id) == 0)
            return &a[i];
    return NULL;
}

/* The answer's value object; false (nothing written) for a kind with none. */
static bool dw_answer(doc_w *w, const cu_q_item *it, const cu_q_answer *a)
{
    switch (a->kind) {
    case CU_QV_CODE: {
        const cu_q_option *o = NULL;
        for (size_t i = 0; i < it->noptions && !o; i++)
            if (it->options[i].code && strcmp(it->options[i].code, a->s) == 0)
                o = &it->options[i];
        dw_lit(w, "{\"valueCoding\":");
        dw_coding(w, a->s, o ? o->display : NULL, o ? o->system : NULL);
        break;
    }
    case CU_QV_INT:
        dw_lit(w, "{\"valueInteger\":");
        dw_int(w, a->i);
        break;
    case CU_QV_DECIMAL:
        dw_lit(w, "{\"valueDecimal\":");
        dw_real(w, a->d);
        break;
    case CU_QV_BOOL: dw_lit(w, a->b ? "{\"valueBoolean\":true" : "{\"valueBoolean\":false"); break;
    case CU_QV_STRING:
        if (!a->s)
            return false;
        dw_lit(w, it->type == CU_QT_DATE ? "{\"valueDate\":" : "{\"valueString\":");
        dw_str(w, a->s);
        break;
    default: return false;
    }
    dw_lit(w, "}");
    return true;
}

/* The items under parent (SIZE_MAX: the top level) that hold an answer, as
 * the questionnaire nests them, each after a comma; how many. */
static size_t dw_items(doc_w *w, const cu_questionnaire *q, size_t parent, const cu_q_answer *a,
                       size_t na)
{
    size_t written = 0;
    for (size_t i = 0; !w->rc && i < q->nitems; i++) {
        const cu_q_item *it = &q->items[i];
        if (it->parent != parent)
            continue;
        size_t mark = w->b->len;
        bool any = false;
        if (it->type == CU_QT_GROUP) {
            dw_lit(w, ",{\"item\":[");
            size_t inner = w->b->len;
            if (dw_items(w, q, i, a, na) && !w->rc) {
                /* the first nested item's comma goes */
                memmove(w->b->data + inner, w->b->data + inner + 1, w->b->len - inner - 1);
                w->b->len--;
                any = true;
            }
            dw_lit(w, "]");
        } else {
            const cu_q_answer *an = answer_of(a, na, it->link_id);
            dw_lit(w, ",{\"answer\":[");
            any = an && dw_answer(w, it, an);
            dw_lit(w, "]");
        }
        if (!any || w->rc) {
            if (!w->rc) {
                w->b->len = mark;
                w->b->data[mark] = '\0';
            }
            continue;
        }
        dw_lit(w, ",\"linkId\":");
        dw_str(w, it->link_id);
        if (it->text) {
            dw_lit(w, ",\"text\":");
            dw_str(w, it->text);
        }
        dw_lit(w, "}");
        written++;
    }
    return written;
}

/* The canonical QuestionnaireResponse (compact JSON, sorted keys). */
static int response_doc(const cu_questionnaire *q, const cu_q_answer *a, size_t na,
                        const int64_t *submitted_total, const cu_q_result *res,
                        const char *source, int64_t now, cu_buf *out, cu_err *err)
{
    char when[CU_TIME_STRLEN];
    cu_time_format(now, when);
    char qref[CU_Q_MAX_URL + 66];
    snprintf(qref, sizeof qref, "%s|%s", q->url, q->version);
    doc_w w = {.b = out};
    size_t start = out->len;
    dw_lit(&w, "{\"authored\":");
    dw_str(&w, when);
    dw_lit(&w, ",\"extension\":[{\"extension\":[");
    /* the first extension without its comma */
    dw_lit(&w, "{\"url\":\"complete\",\"valueBoolean\":");
    dw_lit(&w, res->complete ? "true}" : "false}");
    if (!res->complete && res->missing) {
        dw_ext(&w, "missing", "valueString");
        dw_str(&w, res->missing);
        dw_lit(&w, "}");
    }
    if (res->has_total) {
        dw_ext(&w, "total", "valueInteger");
        dw_int(&w, res->total);
        dw_lit(&w, "}");
    }
    if (res->has_total && q->score_code) {
        /* what the total is (a LOINC code), for the Observation an export
         * derives from the response */
        dw_ext(&w, "scoreCode", "valueCoding");
        dw_coding(&w, q->score_code, q->score_display, q->score_system);
        dw_lit(&w, "}");
    }
    if (res->band) {
        dw_ext(&w, "band", "valueCoding");
        dw_coding(&w, res->band->code, res->band->display, NULL);
        dw_lit(&w, "}");
    }
    for (size_t i = 0; i < res->nflags; i++) {
        dw_lit(&w, ",{\"extension\":[{\"url\":\"rule\",\"valueId\":");
        dw_str(&w, res->flags[i].rule);
        dw_lit(&w, "},{\"url\":\"level\",\"valueCode\":");
        dw_str(&w, res->flags[i].level);
        dw_lit(&w, "}");
        if (res->flags[i].reason) {
            dw_ext(&w, "reason", "valueString");
            dw_str(&w, res->flags[i].reason);
            dw_lit(&w, "}");
        }
        dw_lit(&w, "],\"url\":\"flag\"}");
    }
    if (submitted_total) {
        dw_ext(&w, "submittedTotal", "valueInteger");
        dw_int(&w, *submitted_total);
        dw_lit(&w, "}");
    }
    dw_lit(&w, ",{\"url\":\"totalDisagrees\",\"valueBoolean\":");
    dw_lit(&w, res->total_disagrees ? "true}" : "false}");
    dw_ext(&w, "source", "valueCode");
    dw_str(&w, source);
    dw_lit(&w, "}],\"url\":");
    dw_str(&w, CU_Q_EXT_RESULT);
    dw_lit(&w, "}]");
    size_t mark = out->len;
    dw_lit(&w, ",\"item\":[");
    size_t inner = out->len;
    if (!w.rc && dw_items(&w, q, SIZE_MAX, a, na) && !w.rc) {
        memmove(out->data + inner, out->data + inner + 1, out->len - inner - 1);
        out->len--;
        dw_lit(&w, "]");
    } else if (!w.rc) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    dw_lit(&w, ",\"questionnaire\":");
    dw_str(&w, qref);
    dw_lit(&w, ",\"resourceType\":\"QuestionnaireResponse\",\"status\":");
    dw_lit(&w, res->complete ? "\"completed\"}" : "\"in-progress\"}");
    int rc = CU_OK;
    if (w.rc == CU_ENOMEM && w.too_big)
        rc = cu_err_set(err, CU_EINVAL, "the response is larger than an item may be "
                                        "(%zu bytes)", (size_t)CU_MAX_VALUE_BYTES);
    else if (w.rc)
        rc = cu_err_set(err, CU_ENOMEM, "cannot write the questionnaire response");
    else if (out->len - start > CU_MAX_VALUE_BYTES)
        rc = cu_err_set(err, CU_EINVAL, "the response is larger than an item may be "
                                        "(%zu bytes)", (size_t)CU_MAX_VALUE_BYTES);
    if (rc) {
        cu_wipe(out->data + start, out->len - start);
        out->len = start;
    }
    return rc;
}

/* The task a flag raises: PHQ-9's item 9 its own; any other urgent flag
 * answer_urgent; a review flag on a total score_review; any other review
 * flag psfu_out_of_range. */
static const char *flag_reason(const cu_questionnaire *q, const cu_q_flag *f)
{
    if (strcmp(f->rule, "phq9-item9") == 0)
        return "phq9_item9";
    if (strcmp(f->level, "urgent") == 0)
        return "answer_urgent";
    for (size_t r = 0; r < q->nrules; r++)
        if (strcmp(q->rules[r].id, f->rule) == 0)
            return q->rules[r].kind == CU_QR_SCORE_AT_LEAST ? "score_review"
                                                             : "psfu_out_of_range";
    return "score_review"; /* a follow-up pathway's rule: always on a score */
}

/* Stores a scored response as one item of rec and raises its tasks, inside
 * op (authorised, dek the subject's key). */
/* The review rules of the follow-up pathways the subject is on that ask q,
 * added to the flags of the result when the total reaches them. */
static int pathway_flags(cu_vault *v, const cu_subject_rec *rec, const cu_questionnaire *q,
                         cu_q_result *res, char (*ids)[CU_PW_MAX_ID + 1], cu_err *err)
{
    cu_pw_review rv[CU_PW_MAX_REVIEWS];
    size_t nrv = 0;
    int rc = cu_pathway_reviews(v, rec->id, q->url, rv, CU_PW_MAX_REVIEWS, &nrv, err);
    for (size_t i = 0; !rc && i < nrv && res->has_total && res->nflags < CU_Q_MAX_RULES; i++) {
        bool named = strcmp(rv[i].score, "total") == 0 ||
                     (q->score_code && strcmp(rv[i].score, q->score_code) == 0);
        if (!named || res->total < rv[i].at_least)
            continue;
        cu_strlcpy(ids[i], rv[i].id, sizeof ids[i]);
        bool urgent = strcmp(rv[i].level, "urgent") == 0;
        res->flags[res->nflags++] = (cu_q_flag){
            ids[i], urgent ? "urgent" : "review",
            "The total reached a follow-up pathway's threshold for clinical review."};
        res->urgent = res->urgent || urgent;
    }
    return rc;
}

static int store_response(cu_vault *v, cu_op *op, cu_subject_rec *rec, const cu_key *dek,
                          const cu_questionnaire *q, const cu_q_answer *a, size_t na,
                          const int64_t *submitted_total, const cu_q_result *scored,
                          const char *source, const char *recorded_by, cu_response_result *out,
                          cu_err *err)
{
    cu_q_result with = *scored, *res = &with;
    char ids[CU_PW_MAX_REVIEWS][CU_PW_MAX_ID + 1]; /* the flags' rule ids point here */
    int prc = pathway_flags(v, rec, q, res, ids, err);
    if (prc)
        return prc;
    cu_buf doc;
    cu_buf_init(&doc, CU_MAX_VALUE_BYTES + 1);
    int64_t now = cu_now_us();
    int rc = response_doc(q, a, na, submitted_total, res, source, now, &doc, err);
    if (!rc) {
        cu_value_in in = {.field = CU_RESPONSE_FIELD, .category = CU_CAT_HEALTH,
                          .source = source, .collected_at = now, .value = (const char *)doc.data,
                          .value_len = doc.len};
        rc = cu_subject_insert_item(v, rec, dek, &in, recorded_by, out->id, err);
    }
    cu_buf_release(&doc);
    out->complete = res->complete;
    if (res->missing)
        cu_strlcpy(out->missing, res->missing, sizeof out->missing);
    out->has_total = res->has_total;
    out->total = res->total;
    if (res->band)
        cu_strlcpy(out->band, res->band->code, sizeof out->band);
    out->total_disagrees = res->total_disagrees;
    for (size_t i = 0; !rc && i < res->nflags; i++) {
        struct cu_response_flag *f = &out->flags[out->nflags++];
        cu_strlcpy(f->rule, res->flags[i].rule, sizeof f->rule);
        cu_strlcpy(f->level, res->flags[i].level, sizeof f->level);
        char detail[CU_Q_MAX_URL + 64 + CU_Q_MAX_SHORT + 32];
        snprintf(detail, sizeof detail, "questionnaire %s|%s, rule %s", q->url, q->version,
                 res->flags[i].rule);
        cu_task_raise_in t = {.reason = flag_reason(q, &res->flags[i]), .source = out->id,
                              .detail = detail};
        rc = cu_task_raise_within(v, op, rec, dek, &t, f->task, err);
    }
    /* The occurrence of a follow-up pathway this answers. */
    bool moved = false;
    if (!rc)
        rc = cu_pathway_note(v, rec->id, q->url, "answered", out->id, now, &moved, err);
    return rc;
}

/* Loads the questionnaire and scores the answers: nothing is opened yet. */
static int load_and_score(cu_vault *v, const char *url, const char *version,
                          const cu_q_answer *a, size_t na, const int64_t *submitted_total,
                          cu_questionnaire **q, cu_q_result *res, cu_err *err)
{
    if (na && !a)
        return cu_err_set(err, CU_EINVAL, "answers are missing");
    int rc = cu_questionnaire_load(v, url, version, q, err);
    if (!rc)
        rc = cu_questionnaire_score(*q, a, na, submitted_total, res, err);
    if (rc) {
        cu_questionnaire_free(*q);
        *q = NULL;
    }
    return rc;
}

/* ---- submitting through a link ---- */

int cu_qlink_submit(cu_vault *v, const char *token, size_t n, const cu_q_answer *a, size_t na,
                    const int64_t *submitted_total, cu_response_result *out, cu_err *err)
{
    return cu_qlink_submit_peeked(v, token, n, NULL, NULL, a, na, submitted_total, out, err);
}

/* Submits through the link k reaches; actor and via name who acts (NULL:
 * the link itself). */
static int submit_key(cu_vault *v, const link_key *k, const char *actor, const char *via,
                      cu_questionnaire *peeked, const cu_qlink_info *seen,
                      const cu_q_answer *a, size_t na, const int64_t *submitted_total,
                      cu_response_result *out, cu_err *err)
{
    cu_qlink_row r;
    memset(&r, 0, sizeof r);
    int rc = CU_OK;
    if (seen) {
        /* The peek read the link just before: its questionnaire and purpose
         * are taken from it, and the row is read once, inside the operation
         * that uses it, where it must still say the same. */
        if (seen->state != CU_QLINK_OPEN)
            return cu_err_set(err, CU_ECONFLICT, "this questionnaire link has been used "
                                                 "already or has expired");
        cu_strlcpy(r.url, seen->url, sizeof r.url);
        cu_strlcpy(r.version, seen->version, sizeof r.version);
        cu_strlcpy(r.purpose, seen->purpose, sizeof r.purpose);
    } else if ((rc = key_load(v, k, &r, err)) || (rc = link_usable(&r, err))) {
        return rc;
    }
    char url[sizeof r.url], version[sizeof r.version];
    cu_strlcpy(url, r.url, sizeof url);
    cu_strlcpy(version, r.version, sizeof version);
    cu_questionnaire *q = NULL;
    cu_q_result res;
    if (peeked && strcmp(peeked->url, r.url) == 0 && strcmp(peeked->version, r.version) == 0) {
        /* definitions are never changed in place: a url and version is one
         * document, read and checked by the peek */
        if (na && !a)
            return cu_err_set(err, CU_EINVAL, "answers are missing");
        if ((rc = cu_questionnaire_score(peeked, a, na, submitted_total, &res, err)))
            return rc;
        q = cu_questionnaire_ref(peeked);
    } else if ((rc = load_and_score(v, r.url, r.version, a, na, submitted_total, &q, &res,
                                    err))) {
        return rc;
    }
    char purpose[sizeof r.purpose];
    cu_strlcpy(purpose, r.purpose, sizeof purpose);
    /* The subject acts through the link (on the portal: signed in, by the
     * portal's name for them): no staff member is involved. */
    cu_actor as = {.name = actor ? actor : LINK_ACTOR, .role = "subject",
                   .roles = CU_ROLE_OPERATOR, .purpose = purpose, .via = via ? via : LINK_ACTOR};
    cu_op op;
    if ((rc = cu_op_begin(v, &op, &as, CU_ACT_ITEMS_ADD, "questionnaire.submit", err))) {
        cu_questionnaire_free(q);
        return rc;
    }
    op.categories = 1u << CU_CAT_HEALTH;
    /* Read inside the transaction that marks it used: two submits race to
     * one use. It must name what the answers were scored against. */
    rc = key_load(v, k, &r, err);
    if (!rc && link_state(&r, cu_now_us()) != CU_QLINK_OPEN)
        rc = cu_err_set(err, CU_ECONFLICT, "this questionnaire link has been used already or "
                                           "has expired");
    if (!rc && (strcmp(r.url, url) != 0 || strcmp(r.version, version) != 0 ||
                strcmp(r.purpose, purpose) != 0))
        rc = cu_err_set(err, CU_ECONFLICT, "this questionnaire link is not the one that was "
                                           "read; open it again");
    cu_subject_rec rec;
    if (!rc)
        rc = cu_op_open_subject(v, &op, r.subject_id, &rec, err);
    if (!rc && strcmp(rec.controller_id, r.controller_id) != 0)
        rc = cu_err_set(err, CU_ETAMPER, "questionnaire_links %s has been altered", ql_name(&r));
    cu_key dek;
    bool have_key = false;
    if (!rc && !(rc = cu_op_subject_key(v, &op, rec.id, &dek, NULL, err)))
        have_key = true;
    if (!rc)
        rc = store_response(v, &op, &rec, &dek, q, a, na, submitted_total, &res, "subject",
                            as.name, out, err);
    if (!rc) {
        r.used_at = cu_now_us();
        cu_strlcpy(r.response_id, out->id, sizeof r.response_id);
        ql_sign(v, &r);
        rc = cu_store_qlink_use(v->store, &r, err);
        if (rc == CU_ENOTFOUND) {
            cu_err_clear(err);
            rc = cu_err_set(err, CU_ECONFLICT, "this questionnaire link has been used already");
        }
    }
    if (have_key)
        cu_key_wipe(&dek);
    cu_questionnaire_free(q);
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (rc) {
        cu_err keep = *err;
        memset(out, 0, sizeof *out);
        *err = keep;
    }
    return rc;
}

int cu_qlink_submit_peeked(cu_vault *v, const char *token, size_t n, cu_questionnaire *peeked,
                           const cu_qlink_info *seen, const cu_q_answer *a, size_t na,
                           const int64_t *submitted_total, cu_response_result *out,
                           cu_err *err)
{
    memset(out, 0, sizeof *out);
    link_key k = {0};
    int rc = token_hash(v, token, n, k.hash, err);
    return rc ? rc
              : submit_key(v, &k, NULL, NULL, peeked, seen, a, na, submitted_total, out, err);
}

int cu_qlink_submit_own(cu_vault *v, const char *subject_id, const char *link_id,
                        const char *actor, const char *via, cu_questionnaire *peeked,
                        const cu_qlink_info *seen, const cu_q_answer *a, size_t na,
                        cu_response_result *out, cu_err *err)
{
    memset(out, 0, sizeof *out);
    if (!actor || !cu_actor_valid(actor) || !via)
        return cu_err_set(err, CU_EINTERNAL, "a portal submission names no patient");
    link_key k = {.subject_id = subject_id, .id = link_id};
    return submit_key(v, &k, actor, via, peeked, seen, a, na, NULL, out, err);
}

/* ---- entering on the subject's behalf ---- */

int cu_response_enter(cu_vault *v, const cu_actor *a, const char *subject_id, const char *url,
                      const char *version, const char *purpose, const cu_q_answer *ans,
                      size_t na, const int64_t *submitted_total, cu_response_result *out,
                      cu_err *err)
{
    memset(out, 0, sizeof *out);
    if (!a)
        return cu_err_set(err, CU_EDENIED, "no authenticated actor");
    if (purpose && !cu_name_valid(purpose))
        return cu_err_set(err, CU_EINVAL, "purpose must be a purpose id");
    cu_questionnaire *q = NULL;
    cu_q_result res;
    int rc = load_and_score(v, url, version, ans, na, submitted_total, &q, &res, err);
    if (rc)
        return rc;
    cu_actor as = *a;
    if (purpose)
        as.purpose = purpose;
    cu_op op;
    if ((rc = cu_op_begin(v, &op, &as, CU_ACT_ITEMS_ADD, "questionnaire.enter", err))) {
        cu_questionnaire_free(q);
        return rc;
    }
    op.categories = 1u << CU_CAT_HEALTH;
    cu_subject_rec rec;
    cu_key dek;
    bool have_key = false;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc && !(rc = cu_op_subject_key(v, &op, rec.id, &dek, NULL, err)))
        have_key = true;
    if (!rc)
        rc = store_response(v, &op, &rec, &dek, q, ans, na, submitted_total, &res, "staff",
                            a->name, out, err);
    if (have_key)
        cu_key_wipe(&dek);
    cu_questionnaire_free(q);
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (rc) {
        cu_err keep = *err;
        memset(out, 0, sizeof *out);
        *err = keep;
    }
    return rc;
}

/* ---- listing ---- */

typedef struct resp_item {
    cu_response_view v;
    cu_buf doc;
} resp_item;

typedef struct list_ctx {
    cu_vault *v;
    const cu_subject_rec *rec;
    const cu_key *dek;
    cu_items_sum sum;
    resp_item *items;
    size_t n, cap;
    cu_err *err;
} list_ctx;

static const char *ext_str(json_t *e, const char *key)
{
    return json_string_value(json_object_get(e, key));
}

/* Decodes a stored response (written by response_doc, sealed: trusted for
 * its shape, but read defensively) with jansson: the reference for
 * fast_decode below, and what a document it declines is read with. */
static void decode_full(const char *doc, size_t len, cu_response_view *rv)
{
    json_t *d = json_loadb(doc, len, 0, NULL);
    if (!d)
        return;
    const char *qref = json_string_value(json_object_get(d, "questionnaire"));
    if (qref) {
        const char *bar = strrchr(qref, '|');
        size_t ulen = bar ? (size_t)(bar - qref) : strlen(qref);
        if (ulen < sizeof rv->url) {
            memcpy(rv->url, qref, ulen);
            rv->url[ulen] = '\0';
        }
        if (bar)
            cu_strlcpy(rv->version, bar + 1, sizeof rv->version);
    }
    json_t *exts = json_object_get(d, "extension"), *e;
    size_t i;
    json_array_foreach(exts, i, e) {
        if (!ext_str(e, "url") || strcmp(ext_str(e, "url"), CU_Q_EXT_RESULT) != 0)
            continue;
        json_t *parts = json_object_get(e, "extension"), *p;
        size_t j;
        json_array_foreach(parts, j, p) {
            const char *u = ext_str(p, "url");
            if (!u)
                continue;
            if (strcmp(u, "complete") == 0)
                rv->complete = json_is_true(json_object_get(p, "valueBoolean"));
            else if (strcmp(u, "total") == 0) {
                rv->has_total = true;
                rv->total = json_integer_value(json_object_get(p, "valueInteger"));
            } else if (strcmp(u, "band") == 0) {
                const char *c = ext_str(json_object_get(p, "valueCoding"), "code");
                if (c)
                    cu_strlcpy(rv->band, c, sizeof rv->band);
            } else if (strcmp(u, "totalDisagrees") == 0) {
                rv->total_disagrees = json_is_true(json_object_get(p, "valueBoolean"));
            } else if (strcmp(u, "flag") == 0 && rv->nflags < CU_Q_MAX_RULES) {
                struct cu_response_view_flag *f = &rv->flags[rv->nflags++];
                json_t *fp;
                size_t k;
                json_array_foreach(json_object_get(p, "extension"), k, fp) {
                    const char *fu = ext_str(fp, "url");
                    if (fu && strcmp(fu, "rule") == 0 && ext_str(fp, "valueId"))
                        cu_strlcpy(f->rule, ext_str(fp, "valueId"), sizeof f->rule);
                    else if (fu && strcmp(fu, "level") == 0 && ext_str(fp, "valueCode"))
                        cu_strlcpy(f->level, ext_str(fp, "valueCode"), sizeof f->level);
                }
            }
        }
    }
    json_decref(d);
}

/* ---- the summary without a document tree ----
 * The page that lists a subject's responses needs only their summary (the
 * questionnaire, complete, total, band, flags, totalDisagrees), which
 * response_doc writes before the answers. fast_decode reads it in one pass
 * over the document without allocating: it checks the JSON grammar as it
 * goes and keeps the spans of the members it needs (the last of a repeated
 * name, as jansson does). It declines (false, rv untouched) whatever it
 * does not read exactly as jansson would: a document that is not valid
 * JSON, a top level that is not an object, an escape in a name or in a
 * value it keeps, \u0000 or a surrogate escape anywhere, a number with an
 * exponent or too many digits for an int64, nesting deeper than JMAX_DEPTH;
 * the caller then decodes with jansson (decode_full), so both always give
 * the same summary. */

#define JMAX_DEPTH 64

typedef struct jspan {
    const char *p; /* a string's bytes without the quotes; else the value's first byte */
    size_t n;
    char t;        /* 0 absent, '"' string, 'i' integer, 'r' other number, '{', '[', 't', 'f', 'n' */
    bool esc;      /* a string with an escape */
} jspan;

static const char *j_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int j_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A string at *pp (its opening quote); NULL when declined. */
static const char *j_str(const char *p, const char *e, jspan *out)
{
    const char *start = ++p;
    bool esc = false;
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *out = (jspan){start, (size_t)(p - start), '"', esc};
            return p + 1;
        }
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            esc = true;
            if (++p == e)
                return NULL;
            if (*p == 'u') {
                if (e - p < 5)
                    return NULL;
                long cp = 0;
                for (int i = 1; i <= 4; i++) {
                    int h = j_hex(p[i]);
                    if (h < 0)
                        return NULL;
                    cp = cp << 4 | h;
                }
                if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                    return NULL;
                p += 5;
            } else if (strchr("\"\\/bfnrt", *p) && *p) {
                p++;
            } else {
                return NULL;
            }
        } else if (c >= 0x80) {
            size_t used;
            if (utf8_next((const unsigned char *)p, (size_t)(e - p), &used) < 0)
                return NULL;
            p += used;
        } else {
            p++;
        }
    }
    return NULL;
}

static const char *j_num(const char *p, const char *e, jspan *out)
{
    const char *start = p;
    if (p < e && *p == '-')
        p++;
    if (p == e || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    size_t digits = (size_t)(p - start) - (*start == '-');
    char t = 'i';
    if (p < e && *p == '.') {
        t = 'r';
        if (++p == e || *p < '0' || *p > '9')
            return NULL;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if ((p < e && (*p == 'e' || *p == 'E')) || digits > 18 || p - start > 300)
        return NULL;
    *out = (jspan){start, (size_t)(p - start), t, false};
    return p;
}

static const char *j_value(const char *p, const char *e, int depth, jspan *out);

/* The members of the object at p ('{') named keys[0..nk), the last of each
 * name, into outs; the end of the object, or NULL when declined. */
static const char *j_members(const char *p, const char *e, int depth, const char *const *keys,
                             size_t nk, jspan *outs)
{
    for (size_t k = 0; k < nk; k++)
        outs[k].t = 0;
    if (depth > JMAX_DEPTH)
        return NULL;
    p = j_ws(p + 1, e);
    if (p < e && *p == '}')
        return p + 1;
    while (p < e && *p == '"') {
        jspan key, val;
        if (!(p = j_str(p, e, &key)))
            return NULL;
        p = j_ws(p, e);
        if (p == e || *p != ':')
            return NULL;
        if (!(p = j_value(j_ws(p + 1, e), e, depth + 1, &val)))
            return NULL;
        for (size_t k = 0; k < nk; k++) {
            if (key.n == strlen(keys[k]) && memcmp(key.p, keys[k], key.n) == 0) {
                if (key.esc)
                    return NULL;
                outs[k] = val;
            }
        }
        if (key.esc && nk)
            return NULL; /* an escaped name might spell one of keys */
        p = j_ws(p, e);
        if (p < e && *p == '}')
            return p + 1;
        if (p == e || *p != ',')
            return NULL;
        p = j_ws(p + 1, e);
    }
    return NULL;
}

/* The next element of an array: *pp is just after its '[' (first) or just
 * after the previous element. 1 with the element in out and *pp after it;
 * 0 at the end with *pp after the ']'; -1 declined. */
static int j_next(const char **pp, const char *e, bool first, int depth, jspan *out)
{
    const char *p = j_ws(*pp, e);
    if (p < e && *p == ']') {
        *pp = p + 1;
        return 0;
    }
    if (!first) {
        if (p == e || *p != ',')
            return -1;
        p = j_ws(p + 1, e);
    }
    if (!(p = j_value(p, e, depth + 1, out)))
        return -1;
    *pp = p;
    return 1;
}

static const char *j_value(const char *p, const char *e, int depth, jspan *out)
{
    if (p == e)
        return NULL;
    static const char *const lit[] = {"true", "false", "null"};
    switch (*p) {
    case '"':
        return j_str(p, e, out);
    case '{': {
        const char *end = j_members(p, e, depth, NULL, 0, NULL);
        if (end)
            *out = (jspan){p, (size_t)(end - p), '{', false};
        return end;
    }
    case '[': {
        if (depth > JMAX_DEPTH)
            return NULL;
        const char *q = p + 1;
        jspan el;
        int r;
        for (bool first = true; (r = j_next(&q, e, first, depth, &el)) == 1; first = false)
            ;
        if (r < 0)
            return NULL;
        *out = (jspan){p, (size_t)(q - p), '[', false};
        return q;
    }
    case 't':
    case 'f':
    case 'n':
        for (size_t i = 0; i < 3; i++) {
            size_t n = strlen(lit[i]);
            if (lit[i][0] == *p && (size_t)(e - p) >= n && memcmp(p, lit[i], n) == 0) {
                *out = (jspan){p, n, *p, false};
                return p + n;
            }
        }
        return NULL;
    default:
        return j_num(p, e, out);
    }
}

static bool j_is(const jspan *s, const char *lit)
{
    return s->t == '"' && !s->esc && s->n == strlen(lit) && memcmp(s->p, lit, s->n) == 0;
}

/* A kept string value into out (cap bytes, truncated as cu_strlcpy); false
 * for an escaped one (declined). */
static bool j_copy(const jspan *s, char *out, size_t cap)
{
    if (s->esc)
        return false;
    size_t n = s->n < cap - 1 ? s->n : cap - 1;
    memcpy(out, s->p, n);
    out[n] = '\0';
    return true;
}

static int64_t j_int(const jspan *s)
{
    if (s->t != 'i')
        return 0; /* json_integer_value of anything else */
    const char *p = s->p;
    bool neg = *p == '-';
    int64_t v = 0;
    for (p += neg; p < s->p + s->n; p++)
        v = v * 10 + (*p - '0');
    return neg ? -v : v;
}

/* The elements of the array span a (or none when it is not an array), one
 * at a time. */
typedef struct jiter {
    const char *p, *e;
    bool on, first;
} jiter;

static jiter j_iter(const jspan *a)
{
    return a->t == '[' ? (jiter){a->p + 1, a->p + a->n, true, true}
                       : (jiter){NULL, NULL, false, false};
}

static int j_each(jiter *it, jspan *el)
{
    if (!it->on)
        return 0;
    int r = j_next(&it->p, it->e, it->first, 0, el);
    it->first = false;
    return r;
}

/* One flag's parts (rule, level) into f; false when declined. */
static bool fast_flag(const jspan *parts, struct cu_response_view_flag *f)
{
    static const char *const keys[] = {"url", "valueId", "valueCode"};
    jiter it = j_iter(parts);
    jspan fp;
    int r;
    while ((r = j_each(&it, &fp)) == 1) {
        jspan m[3] = {0};
        if (fp.t != '{')
            continue;
        if (!j_members(fp.p, fp.p + fp.n, 0, keys, 3, m))
            return false;
        if (m[0].t == '"' && m[0].esc)
            return false;
        if (j_is(&m[0], "rule") && m[1].t == '"') {
            if (!j_copy(&m[1], f->rule, sizeof f->rule))
                return false;
        } else if (j_is(&m[0], "level") && m[2].t == '"') {
            if (!j_copy(&m[2], f->level, sizeof f->level))
                return false;
        }
    }
    return r == 0;
}

/* The result extension's parts into rv; false when declined. */
static bool fast_parts(const jspan *parts, cu_response_view *rv)
{
    static const char *const keys[] = {"url", "valueBoolean", "valueInteger", "valueCoding",
                                       "extension"};
    jiter it = j_iter(parts);
    jspan p;
    int r;
    while ((r = j_each(&it, &p)) == 1) {
        jspan m[5] = {0};
        if (p.t != '{')
            continue;
        if (!j_members(p.p, p.p + p.n, 0, keys, 5, m))
            return false;
        if (m[0].t != '"')
            continue;
        if (m[0].esc)
            return false;
        if (j_is(&m[0], "complete")) {
            rv->complete = m[1].t == 't';
        } else if (j_is(&m[0], "total")) {
            rv->has_total = true;
            rv->total = j_int(&m[2]);
        } else if (j_is(&m[0], "band")) {
            if (m[3].t == '{') {
                static const char *const code[] = {"code"};
                jspan c;
                if (!j_members(m[3].p, m[3].p + m[3].n, 0, code, 1, &c))
                    return false;
                if (c.t == '"' && !j_copy(&c, rv->band, sizeof rv->band))
                    return false;
            }
        } else if (j_is(&m[0], "totalDisagrees")) {
            rv->total_disagrees = m[1].t == 't';
        } else if (j_is(&m[0], "flag") && rv->nflags < CU_Q_MAX_RULES) {
            struct cu_response_view_flag *f = &rv->flags[rv->nflags++];
            if (!fast_flag(&m[4], f))
                return false;
        }
    }
    return r == 0;
}

static bool fast_decode(const char *doc, size_t len, cu_response_view *rv)
{
    static const char *const top[] = {"questionnaire", "extension"};
    static const char *const ext[] = {"url", "extension"};
    const char *e = doc + len, *p = j_ws(doc, e);
    jspan m[2] = {0};
    if (p == e || *p != '{' || !(p = j_members(p, e, 0, top, 2, m)) || j_ws(p, e) != e)
        return false;
    if (m[0].t == '"') {
        if (m[0].esc)
            return false;
        const char *bar = NULL;
        for (const char *q = m[0].p; q < m[0].p + m[0].n; q++)
            if (*q == '|')
                bar = q;
        size_t ulen = bar ? (size_t)(bar - m[0].p) : m[0].n;
        if (ulen < sizeof rv->url) {
            memcpy(rv->url, m[0].p, ulen);
            rv->url[ulen] = '\0';
        }
        if (bar) {
            jspan v = {bar + 1, (size_t)(m[0].p + m[0].n - bar - 1), '"', false};
            j_copy(&v, rv->version, sizeof rv->version);
        }
    }
    jiter it = j_iter(&m[1]);
    jspan x;
    int r;
    while ((r = j_each(&it, &x)) == 1) {
        jspan xm[2] = {0};
        if (x.t != '{')
            continue;
        if (!j_members(x.p, x.p + x.n, 0, ext, 2, xm))
            return false;
        if (xm[0].t == '"' && xm[0].esc)
            return false;
        if (j_is(&xm[0], CU_Q_EXT_RESULT) && !fast_parts(&xm[1], rv))
            return false;
    }
    return r == 0;
}

void cu_response_decode_full(const char *doc, size_t len, cu_response_view *rv)
{
    decode_full(doc, len, rv);
}

void cu_response_decode(const char *doc, size_t len, cu_response_view *rv)
{
    cu_response_view t = *rv;
    if (fast_decode(doc, len, &t))
        *rv = t;
    else
        decode_full(doc, len, rv);
}

static void decode(const cu_buf *doc, cu_response_view *rv)
{
    cu_response_decode((const char *)doc->data, doc->len, rv);
}

static int list_item(void *ctx, const cu_item_row *r)
{
    list_ctx *c = ctx;
    cu_items_sum_add(c->v, &c->sum, c->rec->id, r);
    if (strcmp(r->field, CU_RESPONSE_FIELD) != 0 ||
        cu_category_from_name(r->category) != CU_CAT_HEALTH)
        return CU_OK;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        resp_item *np = realloc(c->items, cap * sizeof *np);
        if (!np)
            return cu_err_set(c->err, CU_ENOMEM, "out of memory reading responses");
        c->items = np;
        c->cap = cap;
    }
    resp_item *it = &c->items[c->n++];
    memset(it, 0, sizeof *it);
    cu_buf_init(&it->doc, CU_MAX_VALUE_BYTES + 1);
    unsigned char ad[CU_AD_MAX];
    size_t adlen = cu_ad_value(ad, c->rec->controller_id, c->rec->id, r->id, r->field,
                               c->rec->key_version, r->category, r->version);
    if (cu_aead_open(c->dek, ad, adlen, r->value, r->value_len, &it->doc))
        return cu_err_set(c->err, CU_ECORRUPT,
                          "item %s of subject %s fails authentication (moved or altered)",
                          r->id, c->rec->id);
    cu_response_view *rv = &it->v;
    cu_strlcpy(rv->id, r->id, sizeof rv->id);
    cu_strlcpy(rv->via, r->source, sizeof rv->via);
    cu_strlcpy(rv->recorded_by, r->recorded_by, sizeof rv->recorded_by);
    rv->authored = r->recorded_at;
    decode(&it->doc, rv);
    return CU_OK;
}

static int by_time(const void *pa, const void *pb)
{
    const resp_item *a = pa, *b = pb;
    if (a->v.authored != b->v.authored)
        return a->v.authored < b->v.authored ? -1 : 1;
    return strcmp(a->v.id, b->v.id);
}

int cu_response_list(cu_vault *v, const cu_actor *a, const char *subject_id, cu_response_cb cb,
                     void *ctx, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_READ, "questionnaire.responses", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc && (op.decision.pseudonymise || !(op.decision.categories & (1u << CU_CAT_HEALTH)))) {
        op.rule = "category-not-permitted";
        rc = cu_err_set(err, CU_EDENIED, "refused (category-not-permitted): %s may not read "
                                         "questionnaire responses",
                        a->role && cu_actor_valid(a->role) ? a->role : "(no role)");
    }
    list_ctx c = {.v = v, .rec = &rec, .err = err};
    cu_key dek;
    if (!rc && !(rc = cu_op_subject_key(v, &op, rec.id, &dek, NULL, err))) {
        c.dek = &dek;
        rc = cu_store_item_each(v->store, rec.id, list_item, &c, err);
        if (rc && !err->code)
            rc = cu_err_set(err, rc, "cannot read the responses");
        if (!rc)
            rc = cu_items_sum_check(v, &rec, &c.sum, err);
        cu_key_wipe(&dek);
    }
    if (!rc && c.n) {
        op.categories = 1u << CU_CAT_HEALTH;
        qsort(c.items, c.n, sizeof *c.items, by_time);
    }
    for (size_t i = 0; !rc && i < c.n; i++) {
        c.items[i].v.document = (const char *)c.items[i].doc.data;
        c.items[i].v.document_len = c.items[i].doc.len;
        rc = cb(ctx, &c.items[i].v);
    }
    for (size_t i = 0; i < c.n; i++)
        cu_buf_release(&c.items[i].doc);
    free(c.items);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct view_item {
    cu_response_view v;
    const cu_buf *doc;
} view_item;

static int by_time_view(const void *pa, const void *pb)
{
    const view_item *a = pa, *b = pb;
    if (a->v.authored != b->v.authored)
        return a->v.authored < b->v.authored ? -1 : 1;
    return strcmp(a->v.id, b->v.id);
}

int cu_response_views(const cu_subject_view *sv, cu_response_cb cb, void *ctx, cu_err *err)
{
    if (sv->pseudonymised)
        return CU_OK;
    size_t n = 0;
    for (size_t i = 0; i < sv->n; i++)
        n += strcmp(sv->items[i].field, CU_RESPONSE_FIELD) == 0 &&
             sv->items[i].category == CU_CAT_HEALTH;
    if (!n)
        return CU_OK;
    view_item *it = calloc(n, sizeof *it);
    if (!it)
        return cu_err_set(err, CU_ENOMEM, "out of memory reading responses");
    size_t k = 0;
    for (size_t i = 0; i < sv->n; i++) {
        const cu_item_view *x = &sv->items[i];
        if (strcmp(x->field, CU_RESPONSE_FIELD) != 0 || x->category != CU_CAT_HEALTH)
            continue;
        cu_response_view *rv = &it[k].v;
        cu_strlcpy(rv->id, x->id, sizeof rv->id);
        cu_strlcpy(rv->via, x->source, sizeof rv->via);
        cu_strlcpy(rv->recorded_by, x->recorded_by, sizeof rv->recorded_by);
        rv->authored = x->recorded_at;
        decode(&x->value, rv);
        it[k++].doc = &x->value;
    }
    qsort(it, k, sizeof *it, by_time_view);
    int rc = CU_OK;
    for (size_t i = 0; !rc && i < k; i++) {
        it[i].v.document = (const char *)it[i].doc->data;
        it[i].v.document_len = it[i].doc->len;
        rc = cb(ctx, &it[i].v);
    }
    free(it);
    return rc;
}

/* ---- custos verify (integrity.h) ---- */

typedef struct ql_walk {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    struct ql_seal {
        unsigned char hash[CU_HASH_BYTES];
        unsigned char mac[CU_HASH_BYTES];
    } *p;
    size_t n;
} ql_walk;

static int walk_row(void *ctx, const cu_qlink_row *r)
{
    ql_walk *w = ctx;
    w->rows++;
    if (r->hash_len != CU_HASH_BYTES)
        return w->seal ? CU_OK : w->report(w->rctx, "questionnaire_links", "(malformed hash)",
                                           "forged");
    if (w->seal) {
        struct ql_seal *np = realloc(w->p, (w->n + 1) * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->p = np;
        memcpy(np[w->n].hash, r->hash, CU_HASH_BYTES);
        cu_qlink_row c = *r;
        ql_sign(w->v, &c);
        memcpy(np[w->n].mac, c.mac, CU_HASH_BYTES);
        w->n++;
        return CU_OK;
    }
    if (ql_ok(w->v, r))
        return CU_OK;
    return w->report(w->rctx, "questionnaire_links", ql_name(r),
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int ql_family_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                          int64_t *rows, cu_err *err)
{
    ql_walk w = {.v = v, .seal = seal, .report = report, .rctx = rctx};
    int rc = cu_store_qlink_each(v->store, walk_row, &w, err);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the questionnaire links");
    for (size_t i = 0; !rc && i < w.n; i++)
        rc = cu_store_qlink_set_mac(v->store, w.p[i].hash, CU_HASH_BYTES, w.p[i].mac,
                                    CU_HASH_BYTES, err);
    free(w.p);
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_qlink_rows = {.name = "questionnaire_links", .walk = ql_family_walk};

/* ---------------------------------------------------------------- an episode's outcome */

typedef struct outcome_ctx {
    int64_t since;
    cu_episode_scores *s;
    int64_t phq9_first_at, gad7_first_at;
} outcome_ctx;

static int outcome_one(void *ctx, const cu_response_view *r)
{
    outcome_ctx *o = ctx;
    if (!r->has_total || r->authored < o->since)
        return CU_OK;
    int *first, *last;
    if (strcmp(r->url, CU_RESPONSE_PHQ9) == 0) {
        first = &o->s->phq9_first, last = &o->s->phq9_last;
    } else if (strcmp(r->url, CU_RESPONSE_GAD7) == 0) {
        first = &o->s->gad7_first, last = &o->s->gad7_last;
    } else {
        return CU_OK;
    }
    /* responses come oldest first */
    if (*first == CU_SCORE_MISSING)
        *first = (int)r->total;
    *last = (int)r->total;
    return CU_OK;
}

int cu_response_outcome(cu_vault *v, const cu_actor *a, const char *subject_id, int64_t since,
                        unsigned sessions, bool ended, cu_episode_scores *scores, cu_outcome *out,
                        cu_err *err)
{
    *scores = (cu_episode_scores){CU_SCORE_MISSING, CU_SCORE_MISSING, CU_SCORE_MISSING,
                                  CU_SCORE_MISSING, sessions, ended};
    memset(out, 0, sizeof *out);
    outcome_ctx o = {.since = since, .s = scores};
    int rc = cu_response_list(v, a, subject_id, outcome_one, &o, err);
    if (rc)
        return rc;
    /* The first and last of a measure are two scores: one alone is not a
     * pair. */
    return cu_outcome_episode(scores, out, err);
}
