#include "domain/disclosure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/subject.h"
#include "domain/subject_rows.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

static const char *const channels[] = {"letter", "email", "phone", "portal",
                                       "file",   "https", "other"};
#define NCHANNELS (sizeof channels / sizeof channels[0])

bool cu_disclosure_channel_valid(const char *s)
{
    for (size_t i = 0; s && i < NCHANNELS; i++)
        if (strcmp(s, channels[i]) == 0)
            return true;
    return false;
}

const char *cu_disclosure_channel_list(void)
{
    return "letter, email, phone, portal, file, https, other";
}

/* Printable text without control characters (UTF-8 is passed through). */
static bool text_ok(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

typedef struct find_item {
    const char *want;
    int category;
} find_item;

static int item_found(void *ctx, const cu_item_row *r)
{
    find_item *f = ctx;
    f->category = cu_category_from_name(r->category);
    return 0;
}

static int seal_text(const cu_subject_rec *rec, const cu_key *dek, const char *id,
                     const char *what, const char *s, cu_buf *out, cu_err *err)
{
    unsigned char ad[CU_AD_MAX];
    size_t adlen = cu_ad_item(ad, rec->controller_id, rec->id, id, what, rec->key_version);
    return cu_aead_seal(dek, ad, adlen, s, strlen(s), out)
               ? cu_err_set(err, CU_ENOMEM, "cannot seal the disclosure")
               : CU_OK;
}

int cu_disclosure_add(cu_vault *v, cu_op *op, const cu_subject_rec *rec, const cu_key *dek,
                      const cu_disclosure_in *in, char id_out[CU_ID_STRLEN], cu_err *err)
{
    const char *purpose = in->purpose ? in->purpose : op->actor->purpose;
    if (!in->recipient_id == !in->recipient_name)
        return cu_err_set(err, CU_EINVAL, "a disclosure names one recipient: a recipient id "
                                          "of the policy or an organisation's name");
    if (in->recipient_id && !cu_name_valid(in->recipient_id))
        return cu_err_set(err, CU_EINVAL, "recipient must be a recipient id of the policy");
    if (in->recipient_name && !text_ok(in->recipient_name, CU_MAX_RECIPIENT_BYTES))
        return cu_err_set(err, CU_EINVAL,
                          "organisation must be 1-%d bytes of text without control characters",
                          CU_MAX_RECIPIENT_BYTES);
    if (in->basis < 'a' || in->basis > 'f')
        return cu_err_set(err, CU_EINVAL, "basis must be a lawful basis of Art 6(1): a-f");
    if (!purpose || !cu_name_valid(purpose))
        return cu_err_set(err, CU_EINVAL, "purpose must be a purpose name");
    if (!cu_disclosure_channel_valid(in->channel))
        return cu_err_set(err, CU_EINVAL, "channel must be one of: %s",
                          cu_disclosure_channel_list());
    if (in->note && !text_ok(in->note, CU_MAX_DISCLOSURE_NOTE))
        return cu_err_set(err, CU_EINVAL,
                          "note must be 1-%d bytes of text without control characters",
                          CU_MAX_DISCLOSURE_NOTE);
    if (in->nitems > CU_MAX_DISCLOSURE_ITEMS)
        return cu_err_set(err, CU_EINVAL, "at most %d items per disclosure",
                          CU_MAX_DISCLOSURE_ITEMS);
    if (!in->nitems && !in->categories)
        return cu_err_set(err, CU_EINVAL, "a disclosure names its items or its categories");
    int64_t now = cu_now_us();
    int64_t at = in->disclosed_at ? in->disclosed_at : now;
    if (at > now + 60 * INT64_C(1000000))
        return cu_err_set(err, CU_EINVAL, "a disclosure cannot be dated in the future");
    if (at < rec->created_at - 366 * 86400 * INT64_C(1000000) * 100)
        return cu_err_set(err, CU_EINVAL, "disclosed_at is out of range");
    if (in->recipient_id) {
        const cu_policy *pol;
        int rc = cu_vault_policy(v, rec->controller_id, &pol, err);
        if (rc)
            return rc;
        bool known = false;
        for (size_t i = 0; pol && i < pol->nrecipients; i++)
            if (strcmp(pol->recipients[i].id, in->recipient_id) == 0)
                known = true;
        if (!known)
            return cu_err_set(err, CU_EINVAL, "the controller's policy has no recipient %s",
                              in->recipient_id);
    }
    /* Items: each an item of this subject, listed once. */
    unsigned cats = in->categories;
    size_t idlen = in->nitems * CU_ID_STRLEN + 1;
    char *ids = calloc(1, idlen);
    if (!ids)
        return cu_err_set(err, CU_ENOMEM, "out of memory");
    /* The items named are the subject's current ones, in their categories. */
    int rc = in->nitems ? cu_subject_items_check(v, rec, err) : CU_OK;
    for (size_t i = 0; !rc && i < in->nitems; i++) {
        if (!in->items[i] || !cu_id_valid(in->items[i])) {
            rc = cu_err_set(err, CU_EINVAL, "items[%zu] is not an item id", i);
            break;
        }
        if (strstr(ids, in->items[i])) {
            rc = cu_err_set(err, CU_EINVAL, "item %s is listed twice", in->items[i]);
            break;
        }
        find_item f = {.want = in->items[i], .category = -1};
        rc = cu_store_item_get(v->store, rec->id, in->items[i], item_found, &f, err);
        if (rc == CU_ENOTFOUND)
            rc = cu_err_set(err, CU_EINVAL, "subject %s has no item %s", rec->id, in->items[i]);
        if (rc)
            break;
        if (f.category >= 0)
            cats |= 1u << f.category;
        /* ids holds nitems ids of CU_ID_STRLEN - 1 characters and their commas */
        size_t used = strlen(ids);
        snprintf(ids + used, idlen - used, "%s%s", i ? "," : "", in->items[i]);
    }
    char catnames[256];
    cu_category_mask_names(cats, catnames, sizeof catnames);
    char id[CU_ID_STRLEN];
    cu_random_id(id);
    cu_buf name, note;
    cu_buf_init(&name, 4096);
    cu_buf_init(&note, 8192);
    if (!rc && in->recipient_name)
        rc = seal_text(rec, dek, id, "disclosure.recipient", in->recipient_name, &name, err);
    if (!rc && in->note)
        rc = seal_text(rec, dek, id, "disclosure.note", in->note, &note, err);
    char basis[2] = {in->basis, 0};
    if (!rc) {
        cu_disclosure_row row = {
            .id = id, .subject_id = rec->id, .recipient_id = in->recipient_id,
            .recipient = in->recipient_name ? name.data : NULL, .recipient_len = name.len,
            .basis = basis, .purpose = purpose, .channel = in->channel, .items = ids,
            .categories = catnames, .disclosed_at = at, .recorded_at = now,
            .recorded_by = op->actor->name, .note = in->note ? note.data : NULL,
            .note_len = note.len,
        };
        rc = cu_store_disclosure_insert(v->store, &row, err);
    }
    if (!rc) {
        op->categories |= cats;
        if (id_out)
            memcpy(id_out, id, CU_ID_STRLEN);
    }
    cu_buf_release(&name);
    cu_buf_release(&note);
    free(ids);
    return rc;
}

/* One audited operation on a subject's disclosures: opens the subject and
 * its key, then fn(v, op, rec, dek, ctx, err). */
typedef int (*keyed_fn)(cu_vault *v, cu_op *op, const cu_subject_rec *rec, const cu_key *dek,
                        void *ctx, cu_err *err);

static int with_subject_key(cu_vault *v, const cu_actor *a, const char *subject_id,
                            const char *action, keyed_fn fn, void *ctx, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_DISCLOSE, action, err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    cu_key dek;
    bool have_key = false;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc && !(rc = cu_op_subject_key(v, &op, rec.id, &dek, NULL, err)))
        have_key = true;
    if (!rc)
        rc = fn(v, &op, &rec, &dek, ctx, err);
    if (have_key)
        cu_key_wipe(&dek);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct record_ctx {
    const cu_disclosure_in *in;
    char *id_out;
} record_ctx;

static int record_keyed(cu_vault *v, cu_op *op, const cu_subject_rec *rec, const cu_key *dek,
                        void *ctx, cu_err *err)
{
    const record_ctx *c = ctx;
    return cu_disclosure_add(v, op, rec, dek, c->in, c->id_out, err);
}

int cu_disclosure_record(cu_vault *v, const cu_actor *a, const char *subject_id,
                         const cu_disclosure_in *in, char id_out[CU_ID_STRLEN], cu_err *err)
{
    record_ctx c = {.in = in, .id_out = id_out};
    return with_subject_key(v, a, subject_id, "disclose", record_keyed, &c, err);
}

typedef struct view_ctx {
    const cu_subject_rec *rec;
    const cu_key *dek;
    int (*cb)(void *ctx, const cu_disclosure_view *d);
    void *ctx;
    cu_err *err;
} view_ctx;

static int open_text(const view_ctx *c, const char *id, const char *what,
                     const unsigned char *sealed, size_t n, cu_buf *out)
{
    unsigned char ad[CU_AD_MAX];
    size_t adlen = cu_ad_item(ad, c->rec->controller_id, c->rec->id, id, what,
                              c->rec->key_version);
    if (cu_aead_open(c->dek, ad, adlen, sealed, n, out))
        return cu_err_set(c->err, CU_ECORRUPT,
                          "disclosure %s of subject %s fails authentication", id, c->rec->id);
    return CU_OK;
}

static int view_one(void *ctx, const cu_disclosure_row *r)
{
    view_ctx *c = ctx;
    cu_disclosure_view d;
    memset(&d, 0, sizeof d);
    cu_buf_init(&d.recipient_name, CU_MAX_RECIPIENT_BYTES + 1);
    cu_buf_init(&d.note, CU_MAX_DISCLOSURE_NOTE + 1);
    cu_strlcpy(d.id, r->id, sizeof d.id);
    if (r->recipient_id)
        cu_strlcpy(d.recipient_id, r->recipient_id, sizeof d.recipient_id);
    d.basis = r->basis[0];
    cu_strlcpy(d.purpose, r->purpose, sizeof d.purpose);
    cu_strlcpy(d.channel, r->channel, sizeof d.channel);
    cu_strlcpy(d.recorded_by, r->recorded_by, sizeof d.recorded_by);
    d.items = r->items;
    d.categories = r->categories;
    d.disclosed_at = r->disclosed_at;
    d.recorded_at = r->recorded_at;
    int rc = CU_OK;
    if (!c->dek) {
        d.unreadable = r->recipient != NULL || r->note != NULL;
    } else {
        if (r->recipient)
            rc = open_text(c, r->id, "disclosure.recipient", r->recipient, r->recipient_len,
                           &d.recipient_name);
        if (!rc && r->note)
            rc = open_text(c, r->id, "disclosure.note", r->note, r->note_len, &d.note);
    }
    if (!rc)
        rc = c->cb(c->ctx, &d);
    cu_buf_release(&d.recipient_name);
    cu_buf_release(&d.note);
    return rc;
}

int cu_disclosure_each_view(cu_vault *v, const cu_subject_rec *rec, const cu_key *dek,
                            int (*cb)(void *ctx, const cu_disclosure_view *d), void *ctx,
                            cu_err *err)
{
    view_ctx c = {.rec = rec, .dek = dek, .cb = cb, .ctx = ctx, .err = err};
    return cu_store_disclosure_each(v->store, rec->id, view_one, &c, err);
}

typedef struct list_ctx {
    cu_disclosure_view_cb cb;
    void *ctx;
} list_ctx;

static int list_keyed(cu_vault *v, cu_op *op, const cu_subject_rec *rec, const cu_key *dek,
                      void *ctx, cu_err *err)
{
    (void)op;
    const list_ctx *c = ctx;
    return cu_disclosure_each_view(v, rec, dek, c->cb, c->ctx, err);
}

int cu_disclosure_list(cu_vault *v, const cu_actor *a, const char *subject_id,
                       cu_disclosure_view_cb cb, void *ctx, cu_err *err)
{
    list_ctx c = {.cb = cb, .ctx = ctx};
    return with_subject_key(v, a, subject_id, "read", list_keyed, &c, err);
}

static bool csv_has(const char *csv, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = csv; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, name, n) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

bool cu_disclosure_has_item(const cu_disclosure_view *d, const char *item_id)
{
    return csv_has(d->items, item_id);
}

bool cu_disclosure_has_category(const cu_disclosure_view *d, cu_category c)
{
    /* Only a disclosure recorded by category alone: one that names its items
     * is matched by them (its categories are theirs). */
    return !(d->items && *d->items) && csv_has(d->categories, cu_category_name(c));
}
