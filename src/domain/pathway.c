/* pathway.c — stored follow-up pathways, enrolments, occurrences and what is
 * due (pathway.h, docs/pathways.md). */
#include "domain/pathway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/integrity.h"
#include "domain/op.h"
#include "domain/tasks.h"
#include "domain/vault_impl.h"

/* ---- row codes ---- */

static void pw_mac(cu_vault *v, const cu_pathway_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "pathways");
    cu_mac_str(m, r->id);
    cu_mac_str(m, r->version);
    cu_mac_bytes(m, r->hash, r->hash_len);
    cu_mac_i64(m, r->added_at);
    cu_mac_str(m, r->added_by);
}

/* A value read from the database, for a one-line message. */
static const char *plain(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f || n >= max)
            return "(unprintable)";
    return n ? s : "(empty)";
}

static int pw_check(cu_vault *v, const cu_pathway_row *r, cu_err *err)
{
    cu_mac m;
    pw_mac(v, r, &m);
    bool ok = cu_mac_check(&m, r->mac, r->mac_len) && r->hash_len == CU_HASH_BYTES;
    if (ok) {
        unsigned char d[CU_HASH_BYTES];
        cu_hash2(r->document, r->document_len, NULL, 0, d);
        ok = cu_ct_equal(d, r->hash, CU_HASH_BYTES);
    }
    if (!ok)
        return cu_err_set(err, CU_ETAMPER, "pathways %.64s|%.64s has been altered",
                          plain(r->id, CU_PW_MAX_ID), plain(r->version, CU_PW_MAX_VERSION));
    return CU_OK;
}

static void enr_mac(cu_vault *v, const cu_enrolment_rec *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "enrolments");
    cu_mac_str(m, r->id);
    cu_mac_str(m, r->controller_id);
    cu_mac_str(m, r->subject_id);
    cu_mac_str(m, r->pathway_id);
    cu_mac_str(m, r->pathway_version);
    cu_mac_str(m, r->start_date);
    cu_mac_str(m, r->purpose);
    cu_mac_i64(m, r->occurrences);
    cu_mac_str(m, r->enrolled_by);
    cu_mac_i64(m, r->enrolled_at);
    cu_mac_str(m, r->discharged_by);
    cu_mac_i64(m, r->discharged_at);
}

static void enr_sign(cu_vault *v, cu_enrolment_rec *r)
{
    cu_mac m;
    enr_mac(v, r, &m);
    cu_mac_final(&m, r->mac);
    r->mac_len = CU_HASH_BYTES;
}

static int enr_check(cu_vault *v, const cu_enrolment_rec *r, cu_err *err)
{
    cu_mac m;
    enr_mac(v, r, &m);
    if (cu_mac_check(&m, r->mac, r->mac_len))
        return CU_OK;
    return cu_err_set(err, CU_ETAMPER, "enrolments %s has been altered", plain(r->id, 36));
}

static void occ_mac(cu_vault *v, const cu_occurrence_rec *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "pathway_occurrences");
    cu_mac_str(m, r->enrolment_id);
    cu_mac_i64(m, r->n);
    cu_mac_str(m, r->due_date);
    cu_mac_str(m, r->state);
    cu_mac_str(m, r->ref);
    cu_mac_i64(m, r->changed_at);
}

static void occ_sign(cu_vault *v, cu_occurrence_rec *r)
{
    cu_mac m;
    occ_mac(v, r, &m);
    cu_mac_final(&m, r->mac);
    r->mac_len = CU_HASH_BYTES;
}

static int occ_check(cu_vault *v, const cu_occurrence_rec *r, cu_err *err)
{
    cu_mac m;
    occ_mac(v, r, &m);
    if (cu_mac_check(&m, r->mac, r->mac_len))
        return CU_OK;
    return cu_err_set(err, CU_ETAMPER, "pathway_occurrences %s/%lld has been altered",
                      plain(r->enrolment_id, 36), (long long)r->n);
}

/* The controller's number of enrolments, checked against the rows. */
static int head_check(cu_vault *v, const char *controller_id, int64_t *out, cu_err *err)
{
    *out = 0;
    int64_t head = 0, rows = 0;
    int rc = cu_meta_counter_get(v, "enrolments_head", controller_id, &head, err);
    if (!rc)
        rc = cu_store_enrolment_count(v->store, controller_id, &rows, err);
    if (!rc && rows != head)
        rc = cu_err_set(err, CU_ETAMPER,
                        "enrolments of controller %s have been altered: %lld rows, %lld made",
                        controller_id, (long long)rows, (long long)head);
    if (!rc)
        *out = head;
    return rc;
}

/* ---- definitions ---- */

static void info_of(const cu_pathway_row *r, cu_pathway_info *i)
{
    memset(i, 0, sizeof *i);
    cu_strlcpy(i->id, r->id, sizeof i->id);
    cu_strlcpy(i->version, r->version, sizeof i->version);
    cu_strlcpy(i->added_by, r->added_by, sizeof i->added_by);
    if (r->hash_len == CU_HASH_BYTES)
        cu_hex(r->hash, CU_HASH_BYTES, i->hash);
    i->added_at = r->added_at;
}

/* Parsed definitions by their document's hash, with the document itself: a
 * few, the oldest replaced (like the questionnaires' cache). A load hands
 * out a copy of the cached model, so callers free what they get. */
#define PWCACHE_SIZE 8
struct cu_pwcache {
    struct {
        unsigned char hash[CU_HASH_BYTES];
        unsigned char *doc; /* the document whose hash is hash */
        size_t doc_len;
        cu_pathway *p;
    } e[PWCACHE_SIZE];
    size_t next;
};

void cu_pwcache_free(struct cu_pwcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < PWCACHE_SIZE; i++) {
        cu_pathway_free(c->e[i].p);
        free(c->e[i].doc);
    }
    free(c);
}

/* The cached entry for a row that names hash and holds doc: only when the
 * document is, byte for byte, the one that was hashed to it. */
static int pwcache_find(cu_vault *v, const unsigned char *hash, const unsigned char *doc,
                        size_t n)
{
    for (size_t i = 0; v->pwcache && i < PWCACHE_SIZE; i++)
        if (v->pwcache->e[i].p && cu_ct_equal(v->pwcache->e[i].hash, hash, CU_HASH_BYTES) &&
            v->pwcache->e[i].doc_len == n && memcmp(v->pwcache->e[i].doc, doc, n) == 0)
            return (int)i;
    return -1;
}

/* A copy of a model (its canonical document duplicated); NULL: no memory. */
static cu_pathway *pw_copy(const cu_pathway *p)
{
    cu_pathway *c = malloc(sizeof *c);
    char *doc = malloc(p->canonical_len + 1);
    if (!c || !doc) {
        free(c);
        free(doc);
        return NULL;
    }
    *c = *p;
    memcpy(doc, p->canonical, p->canonical_len);
    doc[p->canonical_len] = '\0';
    c->canonical = doc;
    return c;
}

/* Keeps a copy of p for the document doc that hashed to hash. */
static void pwcache_put(cu_vault *v, const unsigned char *hash, const unsigned char *doc,
                        size_t n, const cu_pathway *p)
{
    if (!v->pwcache && !(v->pwcache = calloc(1, sizeof *v->pwcache)))
        return; /* no room to keep it: parsed again next time */
    unsigned char *copy = malloc(n ? n : 1);
    cu_pathway *pc = pw_copy(p);
    if (!copy || !pc) {
        free(copy);
        cu_pathway_free(pc);
        return;
    }
    memcpy(copy, doc, n);
    struct cu_pwcache *c = v->pwcache;
    size_t i = c->next;
    c->next = (i + 1) % PWCACHE_SIZE;
    cu_pathway_free(c->e[i].p);
    free(c->e[i].doc);
    memcpy(c->e[i].hash, hash, CU_HASH_BYTES);
    c->e[i].doc = copy;
    c->e[i].doc_len = n;
    c->e[i].p = pc;
}

typedef struct one_ctx {
    cu_vault *v;
    cu_err *err;
    bool found;
    unsigned char hash[CU_HASH_BYTES];
    cu_buf *doc;
    cu_pathway_info *info;
    cu_pathway **parsed;
} one_ctx;

/* The row's code is checked every time, and its document against the hash
 * the code covers: by hashing it, or, for a document parsed before, by
 * comparing it byte for byte with the one that was hashed and parsed. */
static int take_one(void *ctx, const cu_pathway_row *r)
{
    one_ctx *o = ctx;
    int hit = -1;
    if (o->parsed && r->hash_len == CU_HASH_BYTES) {
        cu_mac m;
        pw_mac(o->v, r, &m);
        if (cu_mac_check(&m, r->mac, r->mac_len))
            hit = pwcache_find(o->v, r->hash, r->document, r->document_len);
    }
    int rc = hit >= 0 ? CU_OK : pw_check(o->v, r, o->err);
    if (rc)
        return rc;
    o->found = true;
    memcpy(o->hash, r->hash, CU_HASH_BYTES);
    if (o->info)
        info_of(r, o->info);
    if (o->doc && cu_buf_append(o->doc, r->document, r->document_len))
        return cu_err_set(o->err, CU_ENOMEM, "the pathway is too large");
    if (o->parsed && hit >= 0) {
        if (!(*o->parsed = pw_copy(o->v->pwcache->e[hit].p)))
            return cu_err_set(o->err, CU_ENOMEM, "out of memory reading a pathway");
        return CU_OK;
    }
    if (o->parsed && cu_pathway_parse(r->document, r->document_len, o->parsed, NULL) != CU_OK)
        return cu_err_set(o->err, CU_ECORRUPT, "the stored pathway %.64s does not parse",
                          plain(r->id, CU_PW_MAX_ID));
    if (o->parsed)
        pwcache_put(o->v, r->hash, r->document, r->document_len, *o->parsed);
    return CU_OK;
}

static bool id_ok(const char *id)
{
    size_t n = id ? strnlen(id, CU_PW_MAX_ID + 1) : 0;
    if (n == 0 || n > CU_PW_MAX_ID || !(id[0] >= 'a' && id[0] <= 'z'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') ||
              (i && (id[i] == '-' || id[i] == '_'))))
            return false;
    return true;
}

/* One stored version (NULL: the latest), checked; parsed into *parsed when
 * parsed is not NULL. */
static int load(cu_vault *v, const char *id, const char *version, cu_buf *doc,
                cu_pathway_info *info, cu_pathway **parsed, cu_err *err)
{
    if (!id_ok(id))
        return cu_err_set(err, CU_EINVAL,
                          "a pathway id is 1-%d lower-case letters, digits, - and _, starting with a letter",
                          CU_PW_MAX_ID);
    if (version && (!*version || strlen(version) > CU_PW_MAX_VERSION))
        return cu_err_set(err, CU_EINVAL, "a version is 1-%d characters", CU_PW_MAX_VERSION);
    one_ctx o = {.v = v, .err = err, .doc = doc, .info = info, .parsed = parsed};
    int rc = cu_store_pathway_get(v->store, id, version, take_one, &o, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        return version ? cu_err_set(err, rc, "no pathway %s version %s", id, version)
                       : cu_err_set(err, rc, "no pathway %s", id);
    }
    return rc;
}

int cu_pathway_add(cu_vault *v, const cu_actor *a, const void *doc, size_t n,
                   cu_pathway_info *out, bool *added, cu_err *err)
{
    *added = false;
    memset(out, 0, sizeof *out);
    cu_pathway *p = NULL;
    int rc = cu_pathway_parse(doc, n, &p, err);
    if (rc)
        return rc;
    unsigned char hash[CU_HASH_BYTES];
    cu_hash2(p->canonical, p->canonical_len, NULL, 0, hash);
    cu_op op;
    if ((rc = cu_op_begin(v, &op, a, CU_ACT_PATHWAY, "pathway.add", err))) {
        cu_pathway_free(p);
        return rc;
    }
    rc = cu_op_authorise(v, &op, err);
    /* The questionnaire it asks must be stored (and intact). */
    cu_questionnaire *q = NULL;
    if (!rc) {
        rc = cu_questionnaire_load(v, p->questionnaire_url,
                                   p->questionnaire_version[0] ? p->questionnaire_version : NULL,
                                   &q, err);
        if (rc == CU_ENOTFOUND) {
            cu_err_clear(err);
            rc = cu_err_set(err, CU_EINVAL,
                            "questionnaire.url: no questionnaire %.200s is stored; add it first",
                            p->questionnaire_url);
        }
        /* A review rule names a score the questionnaire has and can reach. */
        for (size_t i = 0; !rc && i < p->nreviews; i++) {
            const cu_pw_review *r = &p->reviews[i];
            if (!q->scored || (strcmp(r->score, "total") != 0 &&
                               (!q->score_code || strcmp(r->score, q->score_code) != 0)))
                rc = cu_err_set(err, CU_EINVAL,
                                "review[%zu].score: the questionnaire has no score %s", i,
                                r->score);
            else if (r->at_least > q->score_max)
                rc = cu_err_set(err, CU_EINVAL,
                                "review[%zu].at_least: above the questionnaire's highest score "
                                "(%lld)",
                                i, (long long)q->score_max);
        }
        cu_questionnaire_free(q);
    }
    one_ctx cur = {.v = v, .err = err, .info = out};
    if (!rc) {
        rc = cu_store_pathway_get(v->store, p->id, p->version, take_one, &cur, err);
        if (rc == CU_ENOTFOUND) {
            cu_err_clear(err);
            rc = CU_OK;
        }
    }
    if (!rc && cur.found && !cu_ct_equal(cur.hash, hash, CU_HASH_BYTES))
        rc = cu_err_set(err, CU_ECONFLICT,
                        "pathway %s version %s already exists with different content; give it "
                        "a new version",
                        p->id, p->version);
    if (!rc && !cur.found) {
        cu_pathway_row row = {
            .id = p->id, .version = p->version, .hash = hash, .hash_len = sizeof hash,
            .document = p->canonical, .document_len = p->canonical_len,
            .added_at = cu_now_us(), .added_by = a->name ? a->name : "",
        };
        unsigned char mac[CU_HASH_BYTES];
        cu_mac m;
        pw_mac(v, &row, &m);
        cu_mac_final(&m, mac);
        row.mac = mac;
        row.mac_len = sizeof mac;
        rc = cu_store_pathway_insert(v->store, &row, err);
        if (!rc) {
            info_of(&row, out);
            *added = true;
        }
    }
    cu_pathway_free(p);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct list_ctx {
    cu_vault *v;
    cu_err *err;
    cu_pathway_info_cb cb;
    void *ctx;
} list_ctx;

static int list_one(void *ctx, const cu_pathway_row *r)
{
    list_ctx *l = ctx;
    int rc = pw_check(l->v, r, l->err);
    if (rc)
        return rc;
    cu_pathway_info i;
    info_of(r, &i);
    return l->cb(l->ctx, &i);
}

int cu_pathway_list(cu_vault *v, const cu_actor *a, cu_pathway_info_cb cb, void *ctx,
                    cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_PATHWAY_READ, "pathway.list", err);
    if (rc)
        return rc;
    rc = cu_op_authorise(v, &op, err);
    list_ctx l = {.v = v, .err = err, .cb = cb, .ctx = ctx};
    if (!rc)
        rc = cu_store_pathway_each(v->store, list_one, &l, err);
    if (rc && !err->code)
        rc = cu_err_set(err, rc, "cannot list the pathways");
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_pathway_show(cu_vault *v, const cu_actor *a, const char *id, const char *version,
                    cu_buf *out, cu_pathway_info *info, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_PATHWAY_READ, "pathway.read", err);
    if (rc)
        return rc;
    rc = cu_op_authorise(v, &op, err);
    if (!rc)
        rc = load(v, id, version, out, info, NULL, err);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

/* ---- enrolments and their occurrences ---- */

typedef struct enr_list {
    cu_vault *v;
    cu_err *err;
    cu_enrolment_rec *p;
    size_t n;
} enr_list;

static int enr_collect(void *ctx, const cu_enrolment_rec *r)
{
    enr_list *l = ctx;
    int rc = enr_check(l->v, r, l->err);
    if (rc)
        return rc;
    cu_enrolment_rec *np = realloc(l->p, (l->n + 1) * sizeof *np);
    if (!np)
        return cu_err_set(l->err, CU_ENOMEM, "out of memory reading enrolments");
    l->p = np;
    l->p[l->n++] = *r;
    return CU_OK;
}

typedef struct occ_list {
    cu_vault *v;
    cu_err *err;
    cu_occurrence_rec p[CU_PW_MAX_OCCURRENCES];
    size_t n;
} occ_list;

static int occ_collect(void *ctx, const cu_occurrence_rec *r)
{
    occ_list *l = ctx;
    int rc = occ_check(l->v, r, l->err);
    if (rc)
        return rc;
    if (l->n >= CU_PW_MAX_OCCURRENCES || r->n != (int64_t)l->n + 1)
        return cu_err_set(l->err, CU_ETAMPER, "pathway_occurrences %s have been altered",
                          plain(r->enrolment_id, 36));
    l->p[l->n++] = *r;
    return CU_OK;
}

/* An enrolment's occurrences, each checked, and as many as it records. */
static int occ_load(cu_vault *v, const cu_enrolment_rec *e, occ_list *l, cu_err *err)
{
    memset(l, 0, sizeof *l);
    l->v = v;
    l->err = err;
    int rc = cu_store_occurrence_each(v->store, e->id, occ_collect, l, err);
    if (!rc && (int64_t)l->n != e->occurrences)
        rc = cu_err_set(err, CU_ETAMPER,
                        "pathway_occurrences %s have been altered: %zu rows, %lld made", e->id,
                        l->n, (long long)e->occurrences);
    return rc;
}

static void date_str(cu_date d, char out[11])
{
    unsigned y = (unsigned)d.year % 10000u, m = (unsigned)d.month % 100u,
             dd = (unsigned)d.day % 100u;
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%04u-%02u-%02u", y, m, dd);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

/* An occurrence that may still move: scheduled or sent. */
static bool occ_open(const cu_occurrence_rec *o)
{
    return strcmp(o->state, "scheduled") == 0 || strcmp(o->state, "sent") == 0;
}

/* The occurrence's due date in days. */
static int occ_due_days(const cu_occurrence_rec *o, int64_t *dd, cu_err *err)
{
    cu_date due;
    if (!cu_date_parse(o->due_date, strlen(o->due_date), &due))
        return cu_err_set(err, CU_ECORRUPT, "occurrence %s/%lld has no valid due date",
                          plain(o->enrolment_id, 36), (long long)o->n);
    *dd = cu_date_to_days(due);
    return CU_OK;
}

/* An open occurrence whose window ended before day t is missed: moved to
 * missed (its link, if any, kept in ref) at now, in the caller's
 * transaction. *missed says whether it was. */
static int occ_miss(cu_vault *v, const cu_pathway *p, cu_occurrence_rec *o, int64_t t,
                    int64_t now, bool *missed, cu_err *err)
{
    *missed = false;
    int64_t dd = 0;
    if (!occ_open(o))
        return CU_OK;
    int rc = occ_due_days(o, &dd, err);
    if (rc || t <= dd + p->window)
        return rc;
    cu_strlcpy(o->state, "missed", sizeof o->state);
    o->changed_at = now;
    occ_sign(v, o);
    rc = cu_store_occurrence_update(v->store, o, err);
    *missed = !rc;
    return rc;
}

static bool purpose_ok(const char *s)
{
    size_t n = s ? strnlen(s, CU_PW_MAX_PURPOSE + 1) : 0;
    if (n == 0 || n > CU_PW_MAX_PURPOSE)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

int cu_pathway_enrol(cu_vault *v, const cu_actor *a, const char *subject_id,
                     const char *pathway_id, const char *start_date, const char *purpose,
                     cu_enrolment_info *out, cu_err *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    cu_date start;
    if (!start_date || !cu_date_parse(start_date, strlen(start_date), &start) ||
        start.year < 1900 || start.year > 2200)
        return cu_err_set(err, CU_EINVAL, "the start date must be a date, YYYY-MM-DD");
    if (!purpose_ok(purpose))
        return cu_err_set(err, CU_EINVAL,
                          "the purpose must be a purpose of the policy (1-%d of a-z, 0-9, _ "
                          "and -)",
                          CU_PW_MAX_PURPOSE);
    if (!id_ok(pathway_id))
        return cu_err_set(err, CU_EINVAL,
                          "a pathway id is 1-%d lower-case letters, digits, - and _, starting with a letter",
                          CU_PW_MAX_ID);
    /* The enrolment is processing for the stated purpose: the policy decides
     * on it (with the subject's restriction and objections). */
    cu_actor for_purpose = *a;
    for_purpose.purpose = purpose;
    cu_op op;
    int rc = cu_op_begin(v, &op, &for_purpose, CU_ACT_PATHWAY_ENROL, "pathway.enrol", err);
    if (rc)
        return rc;
    op.categories = 1u << CU_CAT_HEALTH;
    cu_subject_rec subj;
    cu_pathway *p = NULL;
    cu_pathway_info info;
    enr_list el = {.v = v, .err = err};
    rc = cu_op_open_subject(v, &op, subject_id, &subj, err);
    if (!rc)
        rc = load(v, pathway_id, NULL, NULL, &info, &p, err);
    if (!rc)
        rc = cu_store_enrolment_of_subject(v->store, subj.id, enr_collect, &el, err);
    for (size_t i = 0; !rc && i < el.n; i++)
        if (strcmp(el.p[i].pathway_id, pathway_id) == 0 && !el.p[i].discharged_at)
            rc = cu_err_set(err, CU_ECONFLICT,
                            "subject %s is already enrolled on pathway %s since %s",
                            subject_id, pathway_id, el.p[i].start_date);
    int64_t head = 0;
    if (!rc)
        rc = head_check(v, subj.controller_id, &head, err);
    cu_enrolment_rec e;
    memset(&e, 0, sizeof e);
    int64_t now = cu_now_us();
    if (!rc) {
        cu_random_id(e.id);
        cu_strlcpy(e.controller_id, subj.controller_id, sizeof e.controller_id);
        cu_strlcpy(e.subject_id, subj.id, sizeof e.subject_id);
        cu_strlcpy(e.pathway_id, p->id, sizeof e.pathway_id);
        cu_strlcpy(e.pathway_version, p->version, sizeof e.pathway_version);
        date_str(start, e.start_date);
        cu_strlcpy(e.purpose, purpose, sizeof e.purpose);
        e.occurrences = (int64_t)p->noffsets;
        cu_strlcpy(e.enrolled_by, a->name ? a->name : "", sizeof e.enrolled_by);
        e.enrolled_at = now;
        enr_sign(v, &e);
        rc = cu_store_enrolment_insert(v->store, &e, err);
    }
    for (size_t i = 0; !rc && i < p->noffsets; i++) {
        cu_occurrence_rec o = {.n = (int64_t)i + 1, .changed_at = now};
        cu_strlcpy(o.enrolment_id, e.id, sizeof o.enrolment_id);
        date_str(cu_pathway_due_date(p, start, i), o.due_date);
        cu_strlcpy(o.state, "scheduled", sizeof o.state);
        occ_sign(v, &o);
        rc = cu_store_occurrence_insert(v->store, &o, err);
        if (!rc && i == 0 && out)
            cu_strlcpy(out->first_due, o.due_date, sizeof out->first_due);
    }
    if (!rc)
        rc = cu_meta_counter_put(v, "enrolments_head", subj.controller_id, head + 1, err);
    if (!rc && out) {
        cu_strlcpy(out->id, e.id, sizeof out->id);
        cu_strlcpy(out->subject_id, e.subject_id, sizeof out->subject_id);
        cu_strlcpy(out->pathway_id, e.pathway_id, sizeof out->pathway_id);
        cu_strlcpy(out->pathway_version, e.pathway_version, sizeof out->pathway_version);
        cu_strlcpy(out->start_date, e.start_date, sizeof out->start_date);
        out->occurrences = (int)e.occurrences;
    }
    free(el.p);
    cu_pathway_free(p);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

/* Ends a running enrolment at now: each open occurrence whose window has
 * ended becomes missed, every other open one stopped (*stopped counts
 * them), and the enrolment records who discharged it and when. */
static int end_enrolment(cu_vault *v, cu_enrolment_rec *e, occ_list *ol, const char *by,
                         int64_t now, int *stopped, cu_err *err)
{
    cu_pathway *p = NULL;
    int rc = load(v, e->pathway_id, e->pathway_version, NULL, NULL, &p, err);
    if (!rc)
        rc = occ_load(v, e, ol, err);
    int64_t t = cu_date_to_days(cu_date_of_us(now));
    for (size_t i = 0; !rc && i < ol->n; i++) {
        cu_occurrence_rec *o = &ol->p[i];
        bool missed = false;
        if (!occ_open(o) || (rc = occ_miss(v, p, o, t, now, &missed, err)) || missed)
            continue;
        cu_strlcpy(o->state, "stopped", sizeof o->state);
        o->changed_at = now;
        occ_sign(v, o);
        if (!(rc = cu_store_occurrence_update(v->store, o, err)))
            (*stopped)++;
    }
    cu_pathway_free(p);
    if (!rc) {
        cu_strlcpy(e->discharged_by, by, sizeof e->discharged_by);
        e->discharged_at = now;
        enr_sign(v, e);
        rc = cu_store_enrolment_update(v->store, e, err);
    }
    return rc;
}

int cu_pathway_discharge(cu_vault *v, const cu_actor *a, const char *subject_id,
                         const char *pathway_id, int *stopped, cu_err *err)
{
    *stopped = 0;
    if (!id_ok(pathway_id))
        return cu_err_set(err, CU_EINVAL,
                          "a pathway id is 1-%d lower-case letters, digits, - and _, starting with a letter",
                          CU_PW_MAX_ID);
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_PATHWAY_DISCHARGE, "pathway.discharge", err);
    if (rc)
        return rc;
    cu_subject_rec subj;
    enr_list el = {.v = v, .err = err};
    rc = cu_op_open_subject(v, &op, subject_id, &subj, err);
    if (!rc)
        rc = cu_store_enrolment_of_subject(v->store, subj.id, enr_collect, &el, err);
    if (!rc)
        rc = head_check(v, subj.controller_id, &(int64_t){0}, err);
    cu_enrolment_rec *e = NULL;
    for (size_t i = 0; !rc && i < el.n; i++)
        if (strcmp(el.p[i].pathway_id, pathway_id) == 0 && !el.p[i].discharged_at)
            e = &el.p[i];
    if (!rc && !e)
        rc = cu_err_set(err, CU_ENOTFOUND, "subject %s is not enrolled on pathway %s",
                        subject_id, pathway_id);
    occ_list *ol = NULL;
    if (!rc && !(ol = malloc(sizeof *ol)))
        rc = cu_err_set(err, CU_ENOMEM, "out of memory reading occurrences");
    int64_t now = cu_now_us();
    if (!rc)
        rc = end_enrolment(v, e, ol, a->name ? a->name : "", now, stopped, err);
    free(ol);
    free(el.p);
    if (rc)
        *stopped = 0;
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_pathway_erased(cu_vault *v, const char *subject_id, int64_t at, int *discharged,
                      cu_err *err)
{
    if (discharged)
        *discharged = 0;
    if (!subject_id || !cu_id_valid(subject_id))
        return cu_err_set(err, CU_EINVAL, "a subject id is required");
    enr_list el = {.v = v, .err = err};
    int rc = cu_store_enrolment_of_subject(v->store, subject_id, enr_collect, &el, err);
    occ_list *ol = NULL;
    for (size_t i = 0; !rc && i < el.n; i++) {
        if (el.p[i].discharged_at)
            continue;
        if (!ol && !(ol = malloc(sizeof *ol))) {
            rc = cu_err_set(err, CU_ENOMEM, "out of memory reading occurrences");
            break;
        }
        int stopped = 0;
        rc = end_enrolment(v, &el.p[i], ol, "erasure", at ? at : cu_now_us(), &stopped, err);
        if (!rc && discharged)
            (*discharged)++;
    }
    free(ol);
    free(el.p);
    return rc;
}

int cu_pathway_note(cu_vault *v, const char *subject_id, const char *questionnaire_url,
                    const char *event, const char *ref, int64_t at, bool *moved, cu_err *err)
{
    *moved = false;
    bool answered = event && strcmp(event, "answered") == 0;
    if (!event || (!answered && strcmp(event, "sent") != 0))
        return cu_err_set(err, CU_EINVAL, "the event must be sent or answered");
    size_t rn = ref ? strnlen(ref, 65) : 0;
    bool ref_ok = rn >= 1 && rn <= 64;
    for (size_t i = 0; ref_ok && i < rn; i++)
        ref_ok = (unsigned char)ref[i] > 0x20 && (unsigned char)ref[i] < 0x7f;
    if (!ref_ok)
        return cu_err_set(err, CU_EINVAL, "the link or response id must be 1-64 printable "
                                          "ASCII characters");
    if (!subject_id || !cu_id_valid(subject_id) || !questionnaire_url)
        return cu_err_set(err, CU_EINVAL, "a subject id and a questionnaire are required");
    enr_list el = {.v = v, .err = err};
    int rc = cu_store_enrolment_of_subject(v->store, subject_id, enr_collect, &el, err);
    occ_list *ol = malloc(sizeof *ol);
    cu_occurrence_rec best;
    bool have = false;
    if (!rc && !ol)
        rc = cu_err_set(err, CU_ENOMEM, "out of memory reading occurrences");
    int64_t when = at ? at : cu_now_us();
    int64_t t = cu_date_to_days(cu_date_of_us(when));
    for (size_t i = 0; !rc && i < el.n; i++) {
        if (el.p[i].discharged_at)
            continue;
        cu_pathway *p = NULL;
        rc = load(v, el.p[i].pathway_id, el.p[i].pathway_version, NULL, NULL, &p, err);
        bool asks = !rc && strcmp(p->questionnaire_url, questionnaire_url) == 0;
        if (!rc && asks)
            rc = occ_load(v, &el.p[i], ol, err);
        for (size_t k = 0; !rc && asks && k < ol->n; k++) {
            cu_occurrence_rec *o = &ol->p[k];
            bool missed = false;
            int64_t dd = 0;
            /* A window that has ended unanswered: missed, whatever comes. */
            if ((rc = occ_miss(v, p, o, t, when, &missed, err)) || missed || !occ_open(o))
                continue;
            if ((rc = occ_due_days(o, &dd, err)))
                break;
            bool sent = strcmp(o->state, "sent") == 0;
            /* A link may be sent ahead of the due date; an answer counts for
             * an occurrence asked (sent) or due, or due within the pathway's
             * early days, never one due later. */
            bool open = answered ? sent || t >= dd - p->early : !sent;
            if (open && (!have || strcmp(o->due_date, best.due_date) < 0)) {
                best = *o;
                have = true;
            }
            if (open)
                break;
        }
        cu_pathway_free(p);
    }
    if (!rc && have) {
        cu_strlcpy(best.state, answered ? "answered" : "sent", sizeof best.state);
        cu_strlcpy(best.ref, ref, sizeof best.ref);
        best.changed_at = when;
        occ_sign(v, &best);
        rc = cu_store_occurrence_update(v->store, &best, err);
        *moved = !rc;
    }
    free(ol);
    free(el.p);
    return rc;
}

int cu_pathway_reviews(cu_vault *v, const char *subject_id, const char *questionnaire_url,
                       cu_pw_review *out, size_t max, size_t *n, cu_err *err)
{
    *n = 0;
    if (!subject_id || !cu_id_valid(subject_id) || !questionnaire_url)
        return cu_err_set(err, CU_EINVAL, "a subject id and a questionnaire are required");
    enr_list el = {.v = v, .err = err};
    int rc = cu_store_enrolment_of_subject(v->store, subject_id, enr_collect, &el, err);
    for (size_t i = 0; !rc && i < el.n; i++) {
        if (el.p[i].discharged_at)
            continue;
        cu_pathway *p = NULL;
        rc = load(v, el.p[i].pathway_id, el.p[i].pathway_version, NULL, NULL, &p, err);
        if (!rc && strcmp(p->questionnaire_url, questionnaire_url) == 0)
            for (size_t k = 0; k < p->nreviews && *n < max; k++)
                out[(*n)++] = p->reviews[k];
        cu_pathway_free(p);
    }
    free(el.p);
    return rc;
}

/* ---- what is due ---- */

enum { R_MISSED, R_OVERDUE, R_DUE, R_HELD, R_FLAGGED };
static const char *const due_kinds[] = {"missed", "overdue", "due", "held", "flagged"};

typedef struct due_row {
    int rank; /* R_* */
    char sort[32];
    char subject_id[CU_ID_STRLEN];
    char enrolment_id[CU_ID_STRLEN];
    char pathway_id[CU_PW_MAX_ID + 1];
    char pathway_version[CU_PW_MAX_VERSION + 1];
    char questionnaire_url[CU_Q_MAX_URL + 1];
    int n;
    char due_date[11], window_ends[11];
    char state[16];
    const char *held; /* static: hold_of */
    char task_id[CU_ID_STRLEN];
    char task_kind[16], task_reason[48], task_state[16];
    int64_t task_created_at;
} due_row;

typedef struct due_ctx {
    cu_vault *v;
    const cu_actor *a;
    cu_err *err;
    due_row *p;
    size_t n;
    cu_pathway *pw; /* the definition loaded last, for the enrolments after it */
} due_ctx;

static due_row *due_push(due_ctx *d)
{
    due_row *np = realloc(d->p, (d->n + 1) * sizeof *np);
    if (!np)
        return NULL;
    d->p = np;
    memset(&np[d->n], 0, sizeof *np);
    return &np[d->n++];
}

static int due_task(void *ctx, const cu_task_view *t)
{
    due_ctx *d = ctx;
    if (strcmp(t->rec->state, "done") == 0)
        return CU_OK;
    due_row *r = due_push(d);
    if (!r)
        return cu_err_set(d->err, CU_ENOMEM, "out of memory listing what is due");
    r->rank = R_FLAGGED;
    /* Urgent first, then oldest first. */
    snprintf(r->sort, sizeof r->sort, "%d%020lld", strcmp(t->rec->kind, "urgent") != 0,
             (long long)t->rec->created_at);
    cu_strlcpy(r->subject_id, t->rec->subject_id, sizeof r->subject_id);
    cu_strlcpy(r->task_id, t->rec->id, sizeof r->task_id);
    cu_strlcpy(r->task_kind, t->rec->kind, sizeof r->task_kind);
    cu_strlcpy(r->task_reason, t->rec->reason, sizeof r->task_reason);
    cu_strlcpy(r->task_state, t->rec->state, sizeof r->task_state);
    r->task_created_at = t->rec->created_at;
    return CU_OK;
}

static int due_cmp(const void *x, const void *y)
{
    const due_row *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank - b->rank;
    int c = strcmp(a->sort, b->sort);
    if (c)
        return c;
    c = strcmp(a->subject_id, b->subject_id);
    return c ? c : a->n - b->n;
}

/* Why nothing may be sent now for an enrolment's purpose: NULL when a link
 * may be sent, else "objection", "restricted" or "policy" (the purpose no
 * longer allowed). The same decision as sending a link (questionnaire.send
 * of health data for that purpose). */
static int hold_of(cu_vault *v, const cu_actor *a, const cu_subject_rec *rec,
                   const char *purpose, const char **held, cu_err *err)
{
    *held = NULL;
    cu_actor as = *a;
    as.purpose = purpose;
    cu_op probe;
    memset(&probe, 0, sizeof probe);
    probe.actor = &as;
    probe.act = CU_ACT_QUESTIONNAIRE_SEND;
    probe.categories = 1u << CU_CAT_HEALTH;
    bool allowed = false, objected = false;
    int rc = cu_op_policy_allows(v, &probe, rec, &allowed, err);
    if (rc || allowed)
        return rc;
    if (rec->objecting && (rc = cu_objection_active(v, rec, purpose, &objected, err)))
        return rc;
    *held = objected ? "objection" : rec->restricted_at ? "restricted" : "policy";
    return CU_OK;
}

static const char *held_words(const char *held)
{
    if (!held)
        return NULL;
    if (strcmp(held, "objection") == 0)
        return "the patient has objected to the purpose of this pathway: nothing is sent "
               "while the objection stands";
    if (strcmp(held, "restricted") == 0)
        return "the patient's record is restricted: nothing is sent until the restriction is "
               "lifted";
    return "the policy no longer allows this pathway's purpose: nothing is sent";
}

/* The occurrences of one running enrolment to list on day t: missed (moved
 * to missed now when their window has just ended), overdue, due, or held
 * instead of overdue and due when held is not NULL. */
static int due_enrolment(due_ctx *d, const cu_enrolment_rec *e, int64_t t, int64_t now,
                         const char *held, occ_list *ol)
{
    int rc = CU_OK;
    if (!d->pw || strcmp(d->pw->id, e->pathway_id) || strcmp(d->pw->version, e->pathway_version)) {
        cu_pathway_free(d->pw);
        d->pw = NULL;
        rc = load(d->v, e->pathway_id, e->pathway_version, NULL, NULL, &d->pw, d->err);
    }
    const cu_pathway *p = d->pw;
    if (!rc)
        rc = occ_load(d->v, e, ol, d->err);
    for (size_t i = 0; !rc && i < ol->n; i++) {
        cu_occurrence_rec *o = &ol->p[i];
        int64_t dd = 0;
        bool missed = false;
        if ((rc = occ_due_days(o, &dd, d->err)) ||
            (rc = occ_miss(d->v, p, o, t, now, &missed, d->err)))
            break;
        bool scheduled = strcmp(o->state, "scheduled") == 0;
        int rank = -1;
        if (strcmp(o->state, "missed") == 0)
            rank = R_MISSED;
        else if (scheduled && t > dd)
            rank = held ? R_HELD : R_OVERDUE;
        else if (scheduled && t == dd)
            rank = held ? R_HELD : R_DUE;
        if (rank < 0)
            continue;
        due_row *r = due_push(d);
        if (!r) {
            rc = cu_err_set(d->err, CU_ENOMEM, "out of memory listing what is due");
            break;
        }
        r->rank = rank;
        r->held = rank == R_HELD ? held : NULL;
        cu_strlcpy(r->sort, o->due_date, sizeof r->sort);
        cu_strlcpy(r->subject_id, e->subject_id, sizeof r->subject_id);
        cu_strlcpy(r->enrolment_id, e->id, sizeof r->enrolment_id);
        cu_strlcpy(r->pathway_id, e->pathway_id, sizeof r->pathway_id);
        cu_strlcpy(r->pathway_version, e->pathway_version, sizeof r->pathway_version);
        cu_strlcpy(r->questionnaire_url, p->questionnaire_url, sizeof r->questionnaire_url);
        r->n = (int)o->n;
        cu_strlcpy(r->due_date, o->due_date, sizeof r->due_date);
        date_str(cu_date_of_days(dd + p->window), r->window_ends);
        cu_strlcpy(r->state, o->state, sizeof r->state);
    }
    return rc;
}

int cu_pathway_due(cu_vault *v, const cu_actor *a, const char *controller_id, int64_t at,
                   cu_due_cb cb, void *ctx, cu_err *err)
{
    const char *ctl = a->controller_id && *a->controller_id ? a->controller_id : controller_id;
    if (!ctl || !cu_id_valid(ctl))
        return cu_err_set(err, CU_EINVAL, "a controller id is required");
    int64_t now = cu_now_us();
    int64_t t = cu_date_to_days(cu_date_of_us(at ? at : now));
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_TASK_LIST, "pathway.due", err);
    if (rc)
        return rc;
    cu_strlcpy(op.controller_id, ctl, sizeof op.controller_id);
    enr_list el = {.v = v, .err = err};
    due_ctx d = {.v = v, .a = a, .err = err};
    occ_list *ol = malloc(sizeof *ol);
    rc = cu_op_authorise(v, &op, err);
    if (!rc && !ol)
        rc = cu_err_set(err, CU_ENOMEM, "out of memory listing what is due");
    if (!rc)
        rc = head_check(v, ctl, &(int64_t){0}, err);
    if (!rc)
        rc = cu_store_enrolment_each(v->store, ctl, enr_collect, &el, err);
    for (size_t i = 0; !rc && i < el.n; i++) {
        if (el.p[i].discharged_at)
            continue;
        if (a->user_id) {
            bool on = false;
            if ((rc = cu_care_on_list(v, a->user_id, el.p[i].subject_id, &on, err)) || !on)
                continue;
        }
        /* An erased subject is asked nothing more (an erasure discharges;
         * a store erased before it did is still left out). */
        cu_subject_rec subj;
        if ((rc = cu_store_subject_get(v->store, el.p[i].subject_id, &subj, err)))
            break;
        if (subj.erased_at)
            continue;
        const char *held = NULL;
        if (!(rc = hold_of(v, a, &subj, el.p[i].purpose, &held, err)))
            rc = due_enrolment(&d, &el.p[i], t, now, held, ol);
    }
    if (!rc)
        rc = cu_task_walk(v, a, ctl, due_task, &d, err);
    if (!rc && d.n)
        qsort(d.p, d.n, sizeof *d.p, due_cmp);
    for (size_t i = 0; !rc && i < d.n; i++) {
        const due_row *r = &d.p[i];
        cu_due_item it = {
            .kind = due_kinds[r->rank], .subject_id = r->subject_id,
        };
        if (r->rank != R_FLAGGED) {
            it.held = r->held;
            it.held_reason = held_words(r->held);
            it.enrolment_id = r->enrolment_id;
            it.pathway_id = r->pathway_id;
            it.pathway_version = r->pathway_version;
            it.questionnaire_url = r->questionnaire_url;
            it.n = r->n;
            it.due_date = r->due_date;
            it.window_ends = r->window_ends;
            it.state = r->state;
        } else {
            it.task_id = r->task_id;
            it.task_kind = r->task_kind;
            it.task_reason = r->task_reason;
            it.task_state = r->task_state;
            it.task_created_at = r->task_created_at;
        }
        rc = cb(ctx, &it);
    }
    if (rc && !err->code)
        rc = cu_err_set(err, rc, "cannot list what is due");
    cu_pathway_free(d.pw);
    free(d.p);
    free(el.p);
    free(ol);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

/* ---- custos verify (integrity.h) ---- */

typedef struct pw_seal {
    char id[CU_PW_MAX_ID + 1], version[CU_PW_MAX_VERSION + 1];
    unsigned char mac[CU_HASH_BYTES];
} pw_seal;

typedef struct walk {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    pw_seal *pw;
    size_t npw;
    cu_enrolment_rec *enr;
    size_t nenr;
    cu_occurrence_rec *occ;
    size_t nocc;
    /* verifying: each enrolment's recorded number of occurrences, and the
     * rows seen for it */
    struct enr_count {
        char id[CU_ID_STRLEN];
        int64_t want, seen;
    } *counts;
    size_t ncounts;
} walk;

static int walk_pw(void *ctx, const cu_pathway_row *r)
{
    walk *w = ctx;
    w->rows++;
    if (w->seal) {
        pw_seal *np = realloc(w->pw, (w->npw + 1) * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->pw = np;
        cu_strlcpy(np[w->npw].id, r->id, sizeof np[w->npw].id);
        cu_strlcpy(np[w->npw].version, r->version, sizeof np[w->npw].version);
        cu_mac m;
        pw_mac(w->v, r, &m);
        cu_mac_final(&m, np[w->npw].mac);
        w->npw++;
        return CU_OK;
    }
    cu_err e = {0};
    if (pw_check(w->v, r, &e) == CU_OK)
        return CU_OK;
    char row[CU_PW_MAX_ID + CU_PW_MAX_VERSION + 16];
    snprintf(row, sizeof row, "%s|%s", plain(r->id, CU_PW_MAX_ID),
             plain(r->version, CU_PW_MAX_VERSION));
    return w->report(w->rctx, "pathways", row, r->mac_len ? "altered" : "forged (no row code)");
}

static int walk_enr(void *ctx, const cu_enrolment_rec *r)
{
    walk *w = ctx;
    w->rows++;
    if (w->seal) {
        cu_enrolment_rec *np = realloc(w->enr, (w->nenr + 1) * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->enr = np;
        np[w->nenr] = *r;
        enr_sign(w->v, &np[w->nenr++]);
        return CU_OK;
    }
    struct enr_count *np = realloc(w->counts, (w->ncounts + 1) * sizeof *np);
    if (!np)
        return CU_ENOMEM;
    w->counts = np;
    cu_strlcpy(np[w->ncounts].id, r->id, sizeof np[w->ncounts].id);
    np[w->ncounts].want = r->occurrences;
    np[w->ncounts++].seen = 0;
    cu_err e = {0};
    if (enr_check(w->v, r, &e) == CU_OK)
        return CU_OK;
    return w->report(w->rctx, "enrolments", plain(r->id, 36),
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int count_cmp(const void *x, const void *y)
{
    return strcmp(((const struct enr_count *)x)->id, ((const struct enr_count *)y)->id);
}

static int walk_occ(void *ctx, const cu_occurrence_rec *r)
{
    walk *w = ctx;
    w->rows++;
    if (w->seal) {
        cu_occurrence_rec *np = realloc(w->occ, (w->nocc + 1) * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->occ = np;
        np[w->nocc] = *r;
        occ_sign(w->v, &np[w->nocc++]);
        return CU_OK;
    }
    struct enr_count key;
    cu_strlcpy(key.id, r->enrolment_id, sizeof key.id);
    struct enr_count *c = w->ncounts ? bsearch(&key, w->counts, w->ncounts, sizeof key,
                                               count_cmp)
                                     : NULL;
    if (c)
        c->seen++;
    cu_err e = {0};
    if (occ_check(w->v, r, &e) == CU_OK)
        return CU_OK;
    char row[64];
    snprintf(row, sizeof row, "%s/%lld", plain(r->enrolment_id, 36), (long long)r->n);
    return w->report(w->rctx, "pathway_occurrences", row,
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int pw_family_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                          int64_t *rows, cu_err *err)
{
    walk w = {.v = v, .seal = seal, .report = report, .rctx = rctx};
    int rc = cu_store_pathway_each(v->store, walk_pw, &w, err);
    if (!rc)
        rc = cu_store_enrolment_each(v->store, NULL, walk_enr, &w, err);
    if (!rc && w.ncounts)
        qsort(w.counts, w.ncounts, sizeof *w.counts, count_cmp);
    if (!rc)
        rc = cu_store_occurrence_each(v->store, NULL, walk_occ, &w, err);
    /* An enrolment whose occurrences were deleted (or added). */
    for (size_t i = 0; !rc && !seal && i < w.ncounts; i++)
        if (w.counts[i].seen != w.counts[i].want)
            rc = report(rctx, "enrolments", w.counts[i].id,
                        w.counts[i].seen < w.counts[i].want ? "occurrences missing"
                                                            : "occurrences added");
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the pathways");
    for (size_t i = 0; !rc && i < w.npw; i++)
        rc = cu_store_pathway_set_mac(v->store, w.pw[i].id, w.pw[i].version, w.pw[i].mac,
                                      CU_HASH_BYTES, err);
    for (size_t i = 0; !rc && i < w.nenr; i++)
        rc = cu_store_enrolment_update(v->store, &w.enr[i], err);
    for (size_t i = 0; !rc && i < w.nocc; i++)
        rc = cu_store_occurrence_update(v->store, &w.occ[i], err);
    free(w.pw);
    free(w.enr);
    free(w.occ);
    free(w.counts);
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_pathway_rows = {.name = "pathways", .walk = pw_family_walk};
