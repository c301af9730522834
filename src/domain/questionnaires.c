/* questionnaires.c — stored, versioned questionnaire definitions
 * (questionnaire.h): add, list, show, load, each through the choke point and
 * each row checked by its code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/integrity.h"
#include "domain/op.h"
#include "domain/questionnaire.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

/* The row code covers url, version, hash, status, time and author; the
 * document is bound by its hash, checked whenever the document is read. */
static void qn_mac(cu_vault *v, const cu_questionnaire_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "questionnaires");
    cu_mac_str(m, r->url);
    cu_mac_str(m, r->version);
    cu_mac_bytes(m, r->hash, r->hash_len);
    cu_mac_str(m, r->status);
    cu_mac_i64(m, r->added_at);
    cu_mac_str(m, r->added_by);
}

/* A url or version read from the database, for a one-line message: as it
 * is when plain, else a placeholder (the row may have been written by
 * anyone). */
static const char *plain(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f || n >= max)
            return "(unprintable)";
    return n ? s : "(empty)";
}

static int qn_check(cu_vault *v, const cu_questionnaire_row *r, cu_err *err)
{
    cu_mac m;
    qn_mac(v, r, &m);
    bool ok = cu_mac_check(&m, r->mac, r->mac_len) && r->hash_len == CU_HASH_BYTES;
    if (ok && r->document) {
        unsigned char d[CU_HASH_BYTES];
        cu_hash2(r->document, r->document_len, NULL, 0, d);
        ok = cu_ct_equal(d, r->hash, CU_HASH_BYTES);
    }
    if (!ok)
        return cu_err_set(err, CU_ETAMPER, "questionnaires %.200s|%.64s has been altered",
                          plain(r->url, CU_Q_MAX_URL), plain(r->version, 64));
    return CU_OK;
}

static void info_of(const cu_questionnaire_row *r, cu_questionnaire_info *i)
{
    memset(i, 0, sizeof *i);
    cu_strlcpy(i->url, r->url, sizeof i->url);
    cu_strlcpy(i->version, r->version, sizeof i->version);
    cu_strlcpy(i->status, r->status, sizeof i->status);
    cu_strlcpy(i->added_by, r->added_by, sizeof i->added_by);
    if (r->hash_len == CU_HASH_BYTES)
        cu_hex(r->hash, CU_HASH_BYTES, i->hash);
    i->added_at = r->added_at;
}

typedef struct one_ctx {
    cu_vault *v;
    cu_err *err;
    bool found;
    unsigned char hash[CU_HASH_BYTES];
    cu_buf *doc;                  /* where to copy the document, or NULL */
    cu_questionnaire_info *info;  /* or NULL */
} one_ctx;

static int take_one(void *ctx, const cu_questionnaire_row *r)
{
    one_ctx *o = ctx;
    int rc = qn_check(o->v, r, o->err);
    if (rc)
        return rc;
    o->found = true;
    memcpy(o->hash, r->hash, CU_HASH_BYTES);
    if (o->info)
        info_of(r, o->info);
    if (o->doc && cu_buf_append(o->doc, r->document, r->document_len))
        return cu_err_set(o->err, CU_ENOMEM, "the questionnaire is too large");
    return CU_OK;
}

int cu_questionnaire_add(cu_vault *v, const cu_actor *a, const void *doc, size_t n,
                         cu_questionnaire_info *out, bool *added, cu_err *err)
{
    *added = false;
    memset(out, 0, sizeof *out);
    cu_questionnaire *q = NULL;
    int rc = cu_questionnaire_parse(doc, n, &q, err);
    if (rc)
        return rc;
    cu_buf canon;
    cu_buf_init(&canon, CU_Q_MAX_BYTES * 2);
    rc = cu_questionnaire_canonical(q, &canon, err);
    unsigned char hash[CU_HASH_BYTES];
    cu_hash2(canon.data, canon.len, NULL, 0, hash);
    cu_op op;
    if (!rc && (rc = cu_op_begin(v, &op, a, CU_ACT_QUESTIONNAIRE, "questionnaire.add", err))) {
        cu_buf_release(&canon);
        cu_questionnaire_free(q);
        return rc;
    }
    if (rc) {
        cu_buf_release(&canon);
        cu_questionnaire_free(q);
        return rc;
    }
    rc = cu_op_authorise(v, &op, err);
    one_ctx cur = {.v = v, .err = err, .info = out};
    if (!rc) {
        rc = cu_store_questionnaire_get(v->store, q->url, q->version, take_one, &cur, err);
        if (rc == CU_ENOTFOUND) {
            cu_err_clear(err);
            rc = CU_OK;
        }
    }
    if (!rc && cur.found && !cu_ct_equal(cur.hash, hash, CU_HASH_BYTES))
        rc = cu_err_set(err, CU_ECONFLICT,
                        "questionnaire %.200s version %.64s already exists with different "
                        "content; give it a new version",
                        q->url, q->version);
    if (!rc && !cur.found) {
        cu_questionnaire_row row = {
            .url = q->url, .version = q->version, .hash = hash, .hash_len = sizeof hash,
            .document = canon.data, .document_len = canon.len, .status = q->status,
            .added_at = cu_now_us(), .added_by = a->name ? a->name : "",
        };
        unsigned char mac[CU_HASH_BYTES];
        cu_mac m;
        qn_mac(v, &row, &m);
        cu_mac_final(&m, mac);
        row.mac = mac;
        row.mac_len = sizeof mac;
        rc = cu_store_questionnaire_insert(v->store, &row, err);
        if (!rc) {
            info_of(&row, out);
            *added = true;
        }
    }
    cu_buf_release(&canon);
    cu_questionnaire_free(q);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct list_ctx {
    cu_vault *v;
    cu_err *err;
    cu_questionnaire_info_cb cb;
    void *ctx;
} list_ctx;

static int list_one(void *ctx, const cu_questionnaire_row *r)
{
    list_ctx *l = ctx;
    int rc = qn_check(l->v, r, l->err);
    if (rc)
        return rc;
    cu_questionnaire_info i;
    info_of(r, &i);
    return l->cb(l->ctx, &i);
}

int cu_questionnaire_list(cu_vault *v, const cu_actor *a, cu_questionnaire_info_cb cb, void *ctx,
                          cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_QUESTIONNAIRE_READ, "questionnaire.list", err);
    if (rc)
        return rc;
    rc = cu_op_authorise(v, &op, err);
    list_ctx l = {.v = v, .err = err, .cb = cb, .ctx = ctx};
    /* Every document is read so that its hash is checked too. */
    if (!rc)
        rc = cu_store_questionnaire_each(v->store, true, list_one, &l, err);
    if (rc && !err->code)
        rc = cu_err_set(err, rc, "cannot list the questionnaires");
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

static int get_checked(cu_vault *v, const char *url, const char *version, one_ctx *o,
                       cu_err *err)
{
    if (!url || !*url || strlen(url) > CU_Q_MAX_URL)
        return cu_err_set(err, CU_EINVAL, "a questionnaire URL of 1-%d characters is required",
                          CU_Q_MAX_URL);
    if (version && (!*version || strlen(version) > 64))
        return cu_err_set(err, CU_EINVAL, "a version is 1-64 characters");
    int rc = cu_store_questionnaire_get(v->store, url, version, take_one, o, err);
    if (rc == CU_ENOTFOUND)
        return version ? cu_err_set(err, rc, "no questionnaire %.200s version %.64s", url,
                                    version)
                       : cu_err_set(err, rc, "no questionnaire %.200s", url);
    return rc;
}

int cu_questionnaire_show(cu_vault *v, const cu_actor *a, const char *url, const char *version,
                          cu_buf *out, cu_questionnaire_info *info, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_QUESTIONNAIRE_READ, "questionnaire.read", err);
    if (rc)
        return rc;
    rc = cu_op_authorise(v, &op, err);
    one_ctx o = {.v = v, .err = err, .doc = out, .info = info};
    if (!rc)
        rc = get_checked(v, url, version, &o, err);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

/* Parsed models by their document's hash, with the document itself: a few,
 * the oldest replaced. */
#define QCACHE_SIZE 8
struct cu_qcache {
    struct {
        unsigned char hash[CU_HASH_BYTES];
        unsigned char *doc; /* the document whose hash is hash */
        size_t doc_len;
        cu_questionnaire *q;
    } e[QCACHE_SIZE];
    size_t next;
};

void cu_qcache_free(struct cu_qcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < QCACHE_SIZE; i++) {
        cu_questionnaire_free(c->e[i].q);
        free(c->e[i].doc);
    }
    free(c);
}

/* The cached entry for a row that names hash and holds doc: only when the
 * document is, byte for byte, the one that was hashed to it. */
static int qcache_find(cu_vault *v, const unsigned char *hash, const unsigned char *doc,
                       size_t n)
{
    for (size_t i = 0; v->qcache && i < QCACHE_SIZE; i++)
        if (v->qcache->e[i].q && cu_ct_equal(v->qcache->e[i].hash, hash, CU_HASH_BYTES) &&
            v->qcache->e[i].doc_len == n && memcmp(v->qcache->e[i].doc, doc, n) == 0)
            return (int)i;
    return -1;
}

static void qcache_put(cu_vault *v, const unsigned char *hash, const unsigned char *doc,
                       size_t n, cu_questionnaire *q)
{
    if (!v->qcache && !(v->qcache = calloc(1, sizeof *v->qcache)))
        return; /* no room to keep it: parsed again next time */
    unsigned char *copy = malloc(n ? n : 1);
    if (!copy)
        return;
    memcpy(copy, doc, n);
    struct cu_qcache *c = v->qcache;
    size_t i = c->next;
    c->next = (i + 1) % QCACHE_SIZE;
    cu_questionnaire_free(c->e[i].q);
    free(c->e[i].doc);
    memcpy(c->e[i].hash, hash, CU_HASH_BYTES);
    c->e[i].doc = copy;
    c->e[i].doc_len = n;
    c->e[i].q = cu_questionnaire_ref(q);
}

typedef struct load_ctx {
    cu_vault *v;
    cu_err *err;
    const char *url;
    cu_questionnaire *q;
} load_ctx;

/* The row's code is checked every time, and its document against the hash
 * the code covers: by hashing it, or, for a document seen before, by
 * comparing it byte for byte with the one that was hashed (and parsed). */
static int load_one(void *ctx, const cu_questionnaire_row *r)
{
    load_ctx *l = ctx;
    if (l->q)
        return CU_OK;
    cu_questionnaire_row head = *r;
    head.document = NULL; /* the code alone; the document below */
    int rc = qn_check(l->v, &head, l->err);
    if (rc)
        return rc;
    if (!r->document)
        return cu_err_set(l->err, CU_ECORRUPT, "the stored questionnaire %.200s has no "
                                               "document", l->url);
    int i = qcache_find(l->v, r->hash, r->document, r->document_len);
    if (i >= 0) {
        l->q = cu_questionnaire_ref(l->v->qcache->e[i].q);
        return CU_OK;
    }
    if ((rc = qn_check(l->v, r, l->err)))
        return rc;
    if (cu_questionnaire_parse(r->document, r->document_len, &l->q, NULL) != CU_OK) {
        l->q = NULL;
        return cu_err_set(l->err, CU_ECORRUPT, "the stored questionnaire %.200s does not parse",
                          l->url);
    }
    qcache_put(l->v, r->hash, r->document, r->document_len, l->q);
    return CU_OK;
}

int cu_questionnaire_load(cu_vault *v, const char *url, const char *version,
                          cu_questionnaire **out, cu_err *err)
{
    *out = NULL;
    if (!url || !*url || strlen(url) > CU_Q_MAX_URL)
        return cu_err_set(err, CU_EINVAL, "a questionnaire URL of 1-%d characters is required",
                          CU_Q_MAX_URL);
    if (version && (!*version || strlen(version) > 64))
        return cu_err_set(err, CU_EINVAL, "a version is 1-64 characters");
    load_ctx l = {.v = v, .err = err, .url = url};
    int rc = cu_store_questionnaire_get(v->store, url, version, load_one, &l, err);
    if (rc == CU_ENOTFOUND)
        return version ? cu_err_set(err, rc, "no questionnaire %.200s version %.64s", url,
                                    version)
                       : cu_err_set(err, rc, "no questionnaire %.200s", url);
    if (rc) {
        cu_questionnaire_free(l.q);
        return rc;
    }
    if (!l.q)
        return cu_err_set(err, CU_ENOTFOUND, "no questionnaire %.200s", url);
    *out = l.q;
    return CU_OK;
}

/* ---- titles for pages ---- */

#define QTITLES 16

struct cu_qtitles {
    size_t next; /* the slot taken next, round robin */
    struct qtitle {
        bool used;
        char url[CU_Q_MAX_URL + 1], version[65];
        char title[256];
    } e[QTITLES];
};

void cu_questionnaire_titles_forget(cu_vault *v)
{
    if (v->qtitles)
        memset(v->qtitles, 0, sizeof *v->qtitles);
}

void cu_questionnaire_title(cu_vault *v, const char *url, const char *version, char *out,
                            size_t cap)
{
    cu_strlcpy(out, "A questionnaire", cap);
    if (!url)
        return;
    struct cu_qtitles *t = version ? v->qtitles : NULL;
    for (size_t i = 0; t && i < QTITLES; i++)
        if (t->e[i].used && strcmp(t->e[i].url, url) == 0 &&
            strcmp(t->e[i].version, version) == 0) {
            cu_strlcpy(out, t->e[i].title, cap);
            return;
        }
    cu_questionnaire *q = NULL;
    cu_err err = {0};
    if (cu_questionnaire_load(v, url, version, &q, &err) != CU_OK || !q)
        return; /* not remembered: read again next time */
    if (q->title && *q->title)
        cu_strlcpy(out, q->title, cap);
    /* the latest version (version NULL) may change: not remembered */
    if (!version || (!t && (t = v->qtitles = calloc(1, sizeof *t)) == NULL)) {
        cu_questionnaire_free(q);
        return;
    }
    struct qtitle *e = &t->e[t->next++ % QTITLES];
    e->used = true;
    cu_strlcpy(e->url, url, sizeof e->url);
    cu_strlcpy(e->version, version, sizeof e->version);
    cu_strlcpy(e->title, q->title && *q->title ? q->title : "A questionnaire", sizeof e->title);
    cu_questionnaire_free(q);
}

/* ---- custos verify (integrity.h) ---- */

typedef struct qn_seal {
    char url[CU_Q_MAX_URL + 1], version[65];
    unsigned char mac[CU_HASH_BYTES];
} qn_seal;

typedef struct qn_walk {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    qn_seal *p;
    size_t n;
} qn_walk;

static int walk_row(void *ctx, const cu_questionnaire_row *r)
{
    qn_walk *w = ctx;
    w->rows++;
    char row[CU_Q_MAX_URL + 66];
    snprintf(row, sizeof row, "%.255s|%.64s", plain(r->url, CU_Q_MAX_URL),
             plain(r->version, 64));
    if (w->seal) {
        qn_seal *np = realloc(w->p, (w->n + 1) * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->p = np;
        cu_strlcpy(np[w->n].url, r->url, sizeof np[w->n].url);
        cu_strlcpy(np[w->n].version, r->version, sizeof np[w->n].version);
        cu_mac m;
        qn_mac(w->v, r, &m);
        cu_mac_final(&m, np[w->n].mac);
        w->n++;
        return CU_OK;
    }
    cu_err e = {0};
    if (qn_check(w->v, r, &e) == CU_OK)
        return CU_OK;
    return w->report(w->rctx, "questionnaires", row,
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int qn_family_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                          int64_t *rows, cu_err *err)
{
    qn_walk w = {.v = v, .seal = seal, .report = report, .rctx = rctx};
    int rc = cu_store_questionnaire_each(v->store, true, walk_row, &w, err);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the questionnaires");
    for (size_t i = 0; !rc && i < w.n; i++)
        rc = cu_store_questionnaire_set_mac(v->store, w.p[i].url, w.p[i].version, w.p[i].mac,
                                            CU_HASH_BYTES, err);
    free(w.p);
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_questionnaire_rows = {.name = "questionnaires", .walk = qn_family_walk};
