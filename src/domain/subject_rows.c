#include "domain/subject_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/vault_impl.h"

/* ---- codes ---- */

static void subject_code(cu_vault *v, const cu_subject_rec *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "subjects");
    cu_mac_str(m, r->id);
    cu_mac_str(m, r->controller_id);
    cu_mac_str(m, r->kind);
    cu_mac_i64(m, r->key_version);
    cu_mac_i64(m, r->created_at);
    cu_mac_i64(m, r->updated_at);
    cu_mac_i64(m, r->erased_at);
    cu_mac_str(m, r->pseudonym);
    cu_mac_i64(m, r->restricted_at);
    cu_mac_i64(m, r->objecting);
    cu_mac_i64(m, r->item_count);
    cu_mac_bytes(m, r->item_digest, sizeof r->item_digest);
    cu_mac_i64(m, r->consents);
}

static void controller_code(cu_vault *v, const char *id, const char *name, int64_t created_at,
                            cu_mac *m)
{
    cu_row_mac_begin(v, m, "controllers");
    cu_mac_str(m, id);
    cu_mac_str(m, name);
    cu_mac_i64(m, created_at);
}

static void item_term(cu_vault *v, const char *subject_id, const char *item_id,
                      int64_t version, const char *category, const char *field,
                      unsigned char out[CU_HASH_BYTES])
{
    cu_mac m;
    cu_row_mac_begin(v, &m, "items");
    cu_mac_str(&m, subject_id);
    cu_mac_str(&m, item_id);
    cu_mac_i64(&m, version);
    cu_mac_str(&m, category);
    cu_mac_str(&m, field);
    cu_mac_final(&m, out);
}

static void digest_xor(unsigned char d[32], const unsigned char t[32])
{
    for (int i = 0; i < 32; i++)
        d[i] ^= t[i];
}

/* ---- subjects ---- */

static bool subject_ok(cu_vault *v, const cu_subject_rec *r)
{
    cu_mac m;
    subject_code(v, r, &m);
    return cu_mac_check(&m, r->has_mac ? r->mac : NULL, sizeof r->mac);
}

int cu_subject_row_check(cu_vault *v, const cu_subject_rec *rec, cu_err *err)
{
    if (!cu_vault_sealed(v) || subject_ok(v, rec))
        return CU_OK;
    return cu_err_set(err, CU_ETAMPER, "subjects %s has been altered", rec->id);
}

int cu_subject_load(cu_vault *v, const char *id, cu_subject_rec *rec, cu_err *err)
{
    int rc = cu_store_subject_get(v->store, id, rec, err);
    return rc ? rc : cu_subject_row_check(v, rec, err);
}

/* ---- subjects whose items were checked ---- */

#define VERIFIED_SLOTS 256

struct cu_verified_items {
    struct {
        char id[CU_ID_STRLEN];
        unsigned char mac[32];
    } slot[VERIFIED_SLOTS];
};

static size_t verified_slot(const char *id)
{
    size_t h = 5381;
    for (const char *p = id; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return h % VERIFIED_SLOTS;
}

bool cu_items_verified(cu_vault *v, const cu_subject_rec *rec)
{
    if (!v->verified || !rec->has_mac)
        return false;
    size_t i = verified_slot(rec->id);
    return strcmp(v->verified->slot[i].id, rec->id) == 0 &&
           memcmp(v->verified->slot[i].mac, rec->mac, 32) == 0;
}

void cu_items_mark_verified(cu_vault *v, const cu_subject_rec *rec)
{
    if (!rec->has_mac || !cu_vault_sealed(v))
        return;
    if (!v->verified && !(v->verified = calloc(1, sizeof *v->verified)))
        return; /* only a cache */
    size_t i = verified_slot(rec->id);
    cu_strlcpy(v->verified->slot[i].id, rec->id, CU_ID_STRLEN);
    memcpy(v->verified->slot[i].mac, rec->mac, 32);
}

void cu_items_verified_forget(cu_vault *v)
{
    if (v->verified)
        memset(v->verified, 0, sizeof *v->verified);
}

int cu_subject_save(cu_vault *v, cu_subject_rec *rec, bool insert, cu_err *err)
{
    /* Items checked against the old record match the new one: its count and
     * digest were computed from the old ones. A new subject has no items. */
    bool checked = insert ? rec->item_count == 0 : cu_items_verified(v, rec);
    rec->has_mac = cu_vault_sealed(v);
    if (rec->has_mac) {
        cu_mac m;
        subject_code(v, rec, &m);
        cu_mac_final(&m, rec->mac);
    }
    if (checked)
        cu_items_mark_verified(v, rec);
    return insert ? cu_store_subject_insert(v->store, rec, err)
                  : cu_store_subject_update(v->store, rec, err);
}

int cu_subject_consents_check(cu_vault *v, const cu_subject_rec *rec, cu_err *err)
{
    if (!cu_vault_sealed(v))
        return CU_OK;
    int64_t n = 0;
    int rc = cu_store_consent_count(v->store, rec->id, &n, err);
    if (!rc && n != rec->consents)
        rc = cu_err_set(err, CU_ETAMPER, "subject %s: its consent records do not match its "
                                         "record", rec->id);
    return rc;
}

int cu_subject_save_objections(cu_vault *v, cu_subject_rec *rec, cu_err *err)
{
    cu_subject_rec now;
    int rc = cu_store_subject_get(v->store, rec->id, &now, err);
    if (rc == CU_ENOTFOUND)
        rc = cu_err_set(err, rc, "no subject %s", rec->id);
    if (rc)
        return rc;
    rec->objecting = now.objecting;
    return cu_subject_save(v, rec, false, err);
}

void cu_items_sum_add(cu_vault *v, cu_items_sum *s, const char *subject_id,
                      const cu_item_row *r)
{
    s->n++;
    if (!cu_vault_sealed(v))
        return;
    unsigned char t[CU_HASH_BYTES];
    item_term(v, subject_id, r->id, r->version, r->category, r->field, t);
    digest_xor(s->d, t);
}

int cu_items_sum_check(cu_vault *v, const cu_subject_rec *rec, const cu_items_sum *s,
                       cu_err *err)
{
    if (!cu_vault_sealed(v))
        return CU_OK;
    if (s->n == rec->item_count && cu_ct_equal(s->d, rec->item_digest, sizeof s->d)) {
        cu_items_mark_verified(v, rec);
        return CU_OK;
    }
    return cu_err_set(err, CU_ETAMPER, "subject %s: its items do not match its record",
                      rec->id);
}

typedef struct sum_ctx {
    cu_vault *v;
    const char *subject_id;
    cu_items_sum sum;
} sum_ctx;

static int sum_item(void *ctx, const cu_item_row *r)
{
    sum_ctx *c = ctx;
    cu_items_sum_add(c->v, &c->sum, c->subject_id, r);
    return 0;
}

int cu_subject_items_check(cu_vault *v, const cu_subject_rec *rec, cu_err *err)
{
    if (!cu_vault_sealed(v) || cu_items_verified(v, rec))
        return CU_OK;
    sum_ctx c = {.v = v, .subject_id = rec->id};
    int rc = cu_store_item_each(v->store, rec->id, sum_item, &c, err);
    return rc ? rc : cu_items_sum_check(v, rec, &c.sum, err);
}

static void item_toggle(cu_vault *v, cu_subject_rec *rec, const char *item_id, int64_t version,
                        const char *category, const char *field)
{
    if (!cu_vault_sealed(v))
        return;
    unsigned char t[CU_HASH_BYTES];
    item_term(v, rec->id, item_id, version, category, field, t);
    digest_xor(rec->item_digest, t);
}

void cu_subject_item_added(cu_vault *v, cu_subject_rec *rec, const char *item_id,
                           int64_t version, const char *category, const char *field)
{
    rec->item_count++;
    item_toggle(v, rec, item_id, version, category, field);
}

void cu_subject_item_removed(cu_vault *v, cu_subject_rec *rec, const char *item_id,
                             int64_t version, const char *category, const char *field)
{
    rec->item_count--;
    item_toggle(v, rec, item_id, version, category, field);
}

void cu_subject_item_versioned(cu_vault *v, cu_subject_rec *rec, const char *item_id,
                               int64_t old_version, int64_t new_version, const char *category,
                               const char *field)
{
    item_toggle(v, rec, item_id, old_version, category, field);
    item_toggle(v, rec, item_id, new_version, category, field);
}

/* ---- controllers ---- */

typedef struct ctl_ctx {
    cu_vault *v;
    cu_buf *name;
    cu_controller_cb cb;
    void *ctx;
    cu_err *err;
} ctl_ctx;

static bool controller_ok(cu_vault *v, const cu_controller_row *r)
{
    cu_mac m;
    controller_code(v, r->id, r->name, r->created_at, &m);
    return cu_mac_check(&m, r->mac, r->mac_len);
}

static int ctl_check(ctl_ctx *c, const cu_controller_row *r)
{
    if (!cu_vault_sealed(c->v) || controller_ok(c->v, r))
        return CU_OK;
    return cu_err_set(c->err, CU_ETAMPER, "controllers %s has been altered", r->id);
}

static int ctl_one(void *ctx, const cu_controller_row *r)
{
    ctl_ctx *c = ctx;
    int rc = ctl_check(c, r);
    if (!rc && c->name) {
        cu_buf_reset(c->name);
        if (cu_buf_append(c->name, r->name, strlen(r->name)))
            rc = cu_err_set(c->err, CU_ENOMEM, "a controller name is too long");
    }
    return rc;
}

int cu_controller_load(cu_vault *v, const char *id, cu_buf *name, cu_err *err)
{
    ctl_ctx c = {.v = v, .name = name, .err = err};
    return cu_store_controller_rows(v->store, id, ctl_one, &c, err);
}

static int ctl_each(void *ctx, const cu_controller_row *r)
{
    ctl_ctx *c = ctx;
    int rc = ctl_check(c, r);
    return rc ? rc : c->cb(c->ctx, r->id, r->name, r->created_at);
}

int cu_controller_each_checked(cu_vault *v, cu_controller_cb cb, void *ctx, cu_err *err)
{
    ctl_ctx c = {.v = v, .cb = cb, .ctx = ctx, .err = err};
    return cu_store_controller_rows(v->store, NULL, ctl_each, &c, err);
}

int cu_controller_seal_row(cu_vault *v, const char *id, const char *name, int64_t created_at,
                           cu_err *err)
{
    if (!cu_vault_sealed(v))
        return CU_OK;
    cu_mac m;
    unsigned char code[CU_HASH_BYTES];
    controller_code(v, id, name, created_at, &m);
    cu_mac_final(&m, code);
    return cu_store_controller_set_mac(v->store, id, code, err);
}

/* ---- custos verify: controllers ---- */

typedef struct fam_ctx {
    cu_vault *v;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    /* seal: the rows collected first (nothing is written while reading) */
    struct ctl_copy {
        char id[CU_ID_STRLEN], *name;
        int64_t created_at;
    } *ctl;
    cu_subject_rec *subj;
    size_t n, cap;
} fam_ctx;

static int ctl_verify_one(void *ctx, const cu_controller_row *r)
{
    fam_ctx *c = ctx;
    c->rows++;
    if (controller_ok(c->v, r))
        return 0;
    return c->report(c->rctx, "controllers", r->id, r->mac ? "altered" : "forged (no row code)");
}

static int ctl_verify(cu_vault *v, cu_row_report_cb report, void *ctx, int64_t *rows,
                      cu_err *err)
{
    fam_ctx c = {.v = v, .report = report, .rctx = ctx};
    int rc = cu_store_controller_rows(v->store, NULL, ctl_verify_one, &c, err);
    *rows = c.rows;
    return rc;
}

static int ctl_collect(void *ctx, const cu_controller_row *r)
{
    fam_ctx *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct ctl_copy *n = realloc(c->ctl, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        c->ctl = n;
        c->cap = cap;
    }
    struct ctl_copy *e = &c->ctl[c->n];
    cu_strlcpy(e->id, r->id, sizeof e->id);
    e->created_at = r->created_at;
    if (!(e->name = strdup(r->name)))
        return CU_ENOMEM;
    c->n++;
    return 0;
}

static int ctl_seal(cu_vault *v, int64_t *rows, cu_err *err)
{
    fam_ctx c = {.v = v};
    int rc = cu_store_controller_rows(v->store, NULL, ctl_collect, &c, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory sealing controllers");
    for (size_t i = 0; !rc && i < c.n; i++)
        rc = cu_controller_seal_row(v, c.ctl[i].id, c.ctl[i].name, c.ctl[i].created_at, err);
    for (size_t i = 0; i < c.n; i++)
        free(c.ctl[i].name);
    free(c.ctl);
    *rows = rc ? 0 : (int64_t)c.n;
    return rc;
}

static int ctl_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *ctx, int64_t *rows,
                    cu_err *err)
{
    return seal ? ctl_seal(v, rows, err) : ctl_verify(v, report, ctx, rows, err);
}

const cu_row_family cu_family_controllers = {.name = "controllers", .walk = ctl_walk};

/* ---- custos verify: subjects and their items ---- */

static int subj_collect(void *ctx, const cu_subject_rec *r)
{
    fam_ctx *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        cu_subject_rec *n = realloc(c->subj, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        c->subj = n;
        c->cap = cap;
    }
    c->subj[c->n++] = *r;
    return 0;
}

/* One item as read, with a copy of its sealed value. */
typedef struct held_value {
    char id[CU_ID_STRLEN];
    char field[CU_MAX_NAME_BYTES + 1];
    char category[40];
    int64_t version;
    unsigned char *sealed;
    size_t sealed_len;
} held_value;

typedef struct held_values {
    cu_vault *v;
    const char *subject_id;
    cu_items_sum sum;
    held_value *e;
    size_t n, cap;
} held_values;

static int hold_value(void *ctx, const cu_item_row *r)
{
    held_values *h = ctx;
    cu_items_sum_add(h->v, &h->sum, h->subject_id, r);
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        held_value *n = realloc(h->e, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        h->e = n;
        h->cap = cap;
    }
    held_value *e = &h->e[h->n];
    memset(e, 0, sizeof *e);
    cu_strlcpy(e->id, r->id, sizeof e->id);
    cu_strlcpy(e->field, r->field, sizeof e->field);
    cu_strlcpy(e->category, r->category, sizeof e->category);
    e->version = r->version;
    if (!(e->sealed = malloc(r->value_len ? r->value_len : 1)))
        return CU_ENOMEM;
    memcpy(e->sealed, r->value, r->value_len);
    e->sealed_len = r->value_len;
    h->n++;
    return 0;
}

static void held_values_release(held_values *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->e[i].sealed);
    free(h->e);
    memset(h, 0, sizeof *h);
}

static int load_values(cu_vault *v, const cu_subject_rec *rec, held_values *h, cu_err *err)
{
    memset(h, 0, sizeof *h);
    h->v = v;
    h->subject_id = rec->id;
    int rc = cu_store_item_each(v->store, rec->id, hold_value, h, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory reading items");
    return rc;
}

/* Whether a value opens under the current associated data (1), only under
 * the one of values sealed before items were versioned (2), or neither (0). */
static int value_opens(const cu_subject_rec *rec, const cu_key *dek, const held_value *e,
                       cu_buf *plain)
{
    unsigned char ad[CU_AD_MAX];
    size_t n = cu_ad_value(ad, rec->controller_id, rec->id, e->id, e->field, rec->key_version,
                           e->category, e->version);
    cu_buf_reset(plain);
    if (cu_aead_open(dek, ad, n, e->sealed, e->sealed_len, plain) == CU_OK)
        return 1;
    n = cu_ad_item(ad, rec->controller_id, rec->id, e->id, e->field, rec->key_version);
    cu_buf_reset(plain);
    return cu_aead_open(dek, ad, n, e->sealed, e->sealed_len, plain) == CU_OK ? 2 : 0;
}

static int subj_verify(cu_vault *v, cu_row_report_cb report, void *ctx, int64_t *rows,
                       cu_err *err)
{
    fam_ctx c = {.v = v};
    int rc = cu_store_subject_each(v->store, NULL, subj_collect, &c, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory reading subjects");
    cu_buf plain;
    cu_buf_init(&plain, CU_MAX_VALUE_BYTES + 1);
    for (size_t i = 0; !rc && i < c.n; i++) {
        const cu_subject_rec *rec = &c.subj[i];
        (*rows)++;
        if (!subject_ok(v, rec))
            rc = report(ctx, "subjects", rec->id,
                        rec->has_mac ? "altered" : "forged (no row code)");
        held_values h;
        if (!rc)
            rc = load_values(v, rec, &h, err);
        if (rc)
            break;
        *rows += (int64_t)h.n;
        cu_err ignored = {0};
        if (cu_items_sum_check(v, rec, &h.sum, &ignored))
            rc = report(ctx, "subjects", rec->id, "its items do not match its record "
                                                  "(an item removed, added, relabelled or "
                                                  "rolled back)");
        int64_t consents = 0;
        if (!rc && (rc = cu_store_consent_count(v->store, rec->id, &consents, err))) {
            held_values_release(&h);
            break;
        }
        if (!rc && consents != rec->consents)
            rc = report(ctx, "subjects", rec->id, "its consent records do not match its record "
                                                  "(a record removed)");
        cu_key dek;
        if (!rc && h.n && cu_op_check_subject_key(v, rec->id, &dek, &ignored) == CU_OK) {
            for (size_t k = 0; !rc && k < h.n; k++)
                if (value_opens(rec, &dek, &h.e[k], &plain) != 1) {
                    char row[96];
                    snprintf(row, sizeof row, "%s/%s", rec->id, h.e[k].id);
                    rc = report(ctx, "items", row, "its value fails authentication");
                }
            cu_key_wipe(&dek);
        }
        held_values_release(&h);
    }
    cu_buf_release(&plain);
    free(c.subj);
    return rc;
}

/* Reseals values sealed before items were versioned under the current
 * associated data, then authenticates the subject's count, digest and row. */
static int seal_subject(cu_vault *v, cu_subject_rec *rec, cu_buf *plain, cu_buf *sealed,
                        cu_err *err)
{
    held_values h;
    int rc = load_values(v, rec, &h, err);
    cu_key dek;
    bool have_key = false;
    if (!rc && h.n) {
        cu_err ignored = {0};
        have_key = cu_op_check_subject_key(v, rec->id, &dek, &ignored) == CU_OK;
    }
    for (size_t k = 0; !rc && have_key && k < h.n; k++) {
        const held_value *e = &h.e[k];
        int how = value_opens(rec, &dek, e, plain);
        if (how == 0)
            rc = cu_err_set(err, CU_ECORRUPT,
                            "item %s of subject %s fails authentication: it cannot be sealed "
                            "as it stands",
                            e->id, rec->id);
        if (how != 2)
            continue;
        unsigned char ad[CU_AD_MAX];
        size_t n = cu_ad_value(ad, rec->controller_id, rec->id, e->id, e->field,
                               rec->key_version, e->category, e->version);
        cu_buf_reset(sealed);
        if (cu_aead_seal(&dek, ad, n, plain->data, plain->len, sealed))
            rc = cu_err_set(err, CU_ENOMEM, "cannot seal a value");
        if (!rc)
            rc = cu_store_item_reseal(v->store, rec->id, e->id, sealed->data, sealed->len,
                                      e->version, err);
    }
    if (have_key)
        cu_key_wipe(&dek);
    if (!rc)
        rc = cu_store_consent_count(v->store, rec->id, &rec->consents, err);
    if (!rc) {
        rec->item_count = h.sum.n;
        memcpy(rec->item_digest, h.sum.d, sizeof rec->item_digest);
        rc = cu_subject_save(v, rec, false, err);
    }
    held_values_release(&h);
    return rc;
}

static int subj_seal(cu_vault *v, int64_t *rows, cu_err *err)
{
    fam_ctx c = {.v = v};
    int rc = cu_store_subject_each(v->store, NULL, subj_collect, &c, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory reading subjects");
    cu_buf plain, sealed;
    cu_buf_init(&plain, CU_MAX_VALUE_BYTES + 1);
    cu_buf_init(&sealed, CU_MAX_VALUE_BYTES * 2);
    for (size_t i = 0; !rc && i < c.n; i++) {
        rc = seal_subject(v, &c.subj[i], &plain, &sealed, err);
        *rows += 1 + c.subj[i].item_count;
    }
    cu_buf_release(&plain);
    cu_buf_release(&sealed);
    free(c.subj);
    return rc;
}

static int subj_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *ctx, int64_t *rows,
                     cu_err *err)
{
    return seal ? subj_seal(v, rows, err) : subj_verify(v, report, ctx, rows, err);
}

const cu_row_family cu_family_subjects = {.name = "subjects", .walk = subj_walk};
