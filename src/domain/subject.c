#include "domain/subject.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/disclosure.h"
#include "domain/pathway.h"
#include "domain/portal.h"
#include "domain/responses.h"
#include "domain/name_key.h"
#include "domain/subject_rows.h"
#include "domain/tasks.h"
#include "domain/vault_impl.h"
#include "util/clock.h"
#include "util/jsonw.h"

void cu_subject_view_release(cu_subject_view *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        cu_buf_release(&sv->items[i].value);
    free(sv->items);
    memset(sv, 0, sizeof *sv);
}

typedef struct dup_ctx {
    const char *self;
    bool found;
} dup_ctx;

static int dup_cb(void *ctx, const char *subject_id, const char *item_id)
{
    (void)item_id;
    dup_ctx *d = ctx;
    if (strcmp(subject_id, d->self) != 0)
        d->found = true;
    return 0;
}

/* Records the blind index of an identifier value. An NHS number identifies one
 * subject per controller: a second subject with it is refused. */
static int index_value(cu_vault *v, const cu_subject_rec *rec, const char *kind,
                       const char *item_id, const char *value, size_t n, cu_err *err)
{
    unsigned char bidx[CU_HASH_BYTES];
    cu_vault_blind_index(v, rec->controller_id, kind, value, n, bidx);
    int rc = CU_OK;
    if (strcmp(kind, "nhs_number") == 0) {
        dup_ctx d = {.self = rec->id};
        rc = cu_store_ident_find(v->store, kind, bidx, sizeof bidx, dup_cb, &d, err);
        if (!rc && d.found)
            rc = cu_err_set(err, CU_ECONFLICT,
                            "another subject of this controller has that NHS number");
    }
    return rc ? rc : cu_store_ident_insert(v->store, kind, bidx, sizeof bidx, rec->id, item_id,
                                           err);
}

static int seal_value(const cu_subject_rec *rec, const cu_key *dek, const char *item_id,
                      const char *field, const char *category, int64_t version,
                      const void *value, size_t n, cu_buf *out, cu_err *err)
{
    unsigned char ad[CU_AD_MAX];
    size_t adlen = cu_ad_value(ad, rec->controller_id, rec->id, item_id, field, rec->key_version,
                               category, version);
    int rc = cu_aead_seal(dek, ad, adlen, value, n, out);
    return rc ? cu_err_set(err, rc, "cannot seal a value") : CU_OK;
}

/* Seals one value and inserts it as a new item (and its blind index); rec's
 * item count and digest take it in (the caller saves rec). */
static int insert_value(cu_vault *v, cu_subject_rec *rec, const cu_key *dek,
                        const cu_value_in *in, const char *recorded_by, int64_t now,
                        char id_out[CU_ID_STRLEN], cu_err *err)
{
    char id[CU_ID_STRLEN];
    cu_time_id(now, id);
    /* Heap-backed: cu_buf_reserve frees the old storage when it grows, so a
     * stack array must never be handed to a cu_buf. */
    cu_buf sealed;
    cu_buf_init(&sealed, CU_MAX_VALUE_BYTES * 2);
    const char *category = cu_category_name(in->category);
    int rc = seal_value(rec, dek, id, in->field, category, 1, in->value, in->value_len, &sealed,
                        err);
    if (!rc) {
        cu_item_row row = {
            .id = id, .subject_id = rec->id, .category = category,
            .field = in->field, .source = in->source, .recorded_by = recorded_by,
            .collected_at = in->collected_at ? in->collected_at : now, .recorded_at = now,
            .updated_at = now, .value = sealed.data, .value_len = sealed.len, .version = 1,
        };
        rc = cu_store_item_insert(v->store, &row, err);
    }
    if (!rc)
        cu_subject_item_added(v, rec, id, 1, category, in->field);
    cu_buf_release(&sealed);
    if (!rc && in->ident_kind)
        rc = index_value(v, rec, in->ident_kind, id, in->value, in->value_len, err);
    if (!rc && id_out)
        memcpy(id_out, id, CU_ID_STRLEN);
    return rc;
}

int cu_subject_insert_item(cu_vault *v, cu_subject_rec *rec, const cu_key *dek,
                           const cu_value_in *in, const char *recorded_by,
                           char id_out[CU_ID_STRLEN], cu_err *err)
{
    int64_t now = cu_now_us();
    int rc = insert_value(v, rec, dek, in, recorded_by, now, id_out, err);
    if (!rc) {
        rec->updated_at = now;
        rc = cu_subject_save(v, rec, false, err);
    }
    return rc;
}

/* ---- the (family name, date of birth) index (name_key.h) ---- */

#define NAME_BIRTH_KIND "name_birth"

/* A subject's name items (their ids: the index rows hang on the latest) and
 * the sealed values of its latest name and date of birth. */
typedef struct nb_ctx {
    char (*names)[CU_ID_STRLEN];
    size_t nnames, cap;
    struct nb_item {
        bool found;
        char id[CU_ID_STRLEN];
        char category[40];
        int64_t version;
        cu_buf sealed;
    } name, birth;
} nb_ctx;

static int nb_item(void *ctx, const cu_item_row *r)
{
    nb_ctx *c = ctx;
    struct nb_item *it = strcmp(r->field, "name") == 0         ? &c->name
                         : strcmp(r->field, "birth_date") == 0 ? &c->birth
                                                               : NULL;
    if (!it)
        return 0;
    if (it == &c->name) {
        if (c->nnames == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 4;
            char(*p)[CU_ID_STRLEN] = realloc(c->names, cap * sizeof *p);
            if (!p)
                return CU_ENOMEM;
            c->names = p;
            c->cap = cap;
        }
        cu_strlcpy(c->names[c->nnames++], r->id, CU_ID_STRLEN);
    }
    /* Item ids are time-ordered: the last seen is the latest. */
    it->found = true;
    cu_strlcpy(it->id, r->id, sizeof it->id);
    cu_strlcpy(it->category, r->category, sizeof it->category);
    it->version = r->version;
    cu_buf_reset(&it->sealed);
    return cu_buf_append(&it->sealed, r->value, r->value_len) ? CU_ENOMEM : 0;
}

static int nb_open(const cu_subject_rec *rec, const cu_key *dek, const struct nb_item *it,
                   const char *field, cu_buf *plain, cu_err *err)
{
    unsigned char ad[CU_AD_MAX];
    size_t adlen = cu_ad_value(ad, rec->controller_id, rec->id, it->id, field, rec->key_version,
                               it->category, it->version);
    if (cu_aead_open(dek, ad, adlen, it->sealed.data, it->sealed.len, plain))
        return cu_err_set(err, CU_ECORRUPT, "item %s of subject %s fails authentication",
                          it->id, rec->id);
    return CU_OK;
}

/* The index keys of rec's current name and date of birth, as blind indexes,
 * into bidx (CU_FAMILY_KEYS of them at most): *n of them, 0 when either is
 * missing. When write is set, the subject's rows of the index are replaced
 * by these. */
static int name_birth_index(cu_vault *v, const cu_subject_rec *rec, const cu_key *dek,
                            bool write, unsigned char bidx[CU_FAMILY_KEYS][CU_HASH_BYTES],
                            size_t *n, cu_err *err)
{
    nb_ctx c = {0};
    cu_buf_init(&c.name.sealed, 4096);
    cu_buf_init(&c.birth.sealed, 64);
    cu_buf name, birth;
    cu_buf_init(&name, 4096);
    cu_buf_init(&birth, 64);
    *n = 0;
    int rc = cu_store_item_each(v->store, rec->id, nb_item, &c, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory indexing");
    /* Written after the walk: no writes while a statement walks the items. */
    for (size_t i = 0; !rc && write && i < c.nnames; i++)
        rc = cu_store_ident_delete_item(v->store, rec->id, c.names[i], err);
    if (!rc && c.name.found && c.birth.found &&
        !(rc = nb_open(rec, dek, &c.name, "name", &name, err)) &&
        !(rc = nb_open(rec, dek, &c.birth, "birth_date", &birth, err)) && birth.len == 10) {
        char keys[CU_FAMILY_KEYS][CU_FAMILY_MAX + 1], date[11], key[CU_NAME_BIRTH_KEY_MAX];
        memcpy(date, birth.data, 10);
        date[10] = '\0';
        size_t k = cu_family_keys((const char *)name.data, name.len, keys);
        for (size_t i = 0; !rc && i < k; i++) {
            size_t len = cu_name_birth_key(keys[i], date, key);
            cu_vault_blind_index(v, rec->controller_id, NAME_BIRTH_KIND, key, len, bidx[i]);
            if (write)
                rc = cu_store_ident_insert(v->store, NAME_BIRTH_KIND, bidx[i], CU_HASH_BYTES,
                                           rec->id, c.name.id, err);
        }
        if (!rc)
            *n = k;
        cu_wipe(keys, sizeof keys);
        cu_wipe(key, sizeof key);
    }
    free(c.names);
    cu_buf_release(&c.name.sealed);
    cu_buf_release(&c.birth.sealed);
    cu_buf_release(&name);
    cu_buf_release(&birth);
    return rc;
}

static int name_birth_write(cu_vault *v, const cu_subject_rec *rec, const cu_key *dek,
                            cu_err *err)
{
    unsigned char bidx[CU_FAMILY_KEYS][CU_HASH_BYTES];
    size_t n;
    return name_birth_index(v, rec, dek, true, bidx, &n, err);
}

/* Whether doc holds a name or a date of birth (or, rectifying, an item by
 * id, which may be either). */
static bool doc_names(const cu_doc *doc)
{
    for (size_t i = 0; i < doc->n; i++) {
        const char *f = doc->values[i].field;
        if (!f || doc->values[i].item_id || strcmp(f, "name") == 0 ||
            strcmp(f, "birth_date") == 0)
            return true;
    }
    return false;
}

static unsigned doc_categories(const cu_doc *doc)
{
    unsigned mask = 0;
    for (size_t i = 0; i < doc->n; i++)
        if (doc->values[i].category >= 0)
            mask |= 1u << doc->values[i].category;
    return mask;
}

int cu_subject_add(cu_vault *v, const cu_actor *a, const char *controller_id, const char *kind,
                   const cu_doc *doc, char id_out[CU_ID_STRLEN], cu_err *err)
{
    if (!cu_subject_kind_valid(kind))
        return cu_err_set(err, CU_EINVAL,
                          "kind must be one of: patient, web_user, employee, other");
    if (!cu_id_valid(controller_id))
        return cu_err_set(err, CU_EINVAL, "controller must be a controller id");
    for (size_t i = 0; i < doc->n; i++)
        if (doc->values[i].item_id)
            return cu_err_set(err, CU_EINVAL, "a new subject's items cannot carry ids");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_CREATE, "create", err);
    if (rc)
        return rc;
    memcpy(op.controller_id, controller_id, CU_ID_STRLEN);
    op.categories = doc_categories(doc);
    op.kind = kind;
    rc = cu_controller_load(v, controller_id, NULL, err);
    if (rc == CU_ENOTFOUND)
        rc = cu_err_set(err, CU_ENOTFOUND, "no controller %s", controller_id);
    if (!rc)
        rc = cu_op_authorise(v, &op, err);
    cu_subject_rec rec = {.key_version = 1};
    cu_key dek;
    cu_key_random(&dek);
    int64_t now = cu_now_us();
    if (!rc) {
        cu_random_id(rec.id);
        memcpy(op.subject_id, rec.id, CU_ID_STRLEN);
        memcpy(rec.controller_id, controller_id, CU_ID_STRLEN);
        cu_strlcpy(rec.kind, kind, sizeof rec.kind);
        rec.created_at = rec.updated_at = now;
        cu_vault_pseudonym(v, controller_id, rec.id, rec.pseudonym);
        rc = cu_subject_save(v, &rec, true, err);
    }
    /* A clinician who registers a patient is caring for them. */
    if (!rc && a->user_id && (op.decision.basis && strcmp(op.decision.basis, "role") == 0) &&
        ((a->roles ? a->roles : cu_roles_parse(a->role ? a->role : "")) & CU_ROLE_CLINICIAN))
        rc = cu_care_add_row(v, a->user_id, rec.id, now, a->name, err);
    if (!rc) {
        unsigned char w[CU_WRAPPED_KEY_BYTES];
        cu_vault_wrap_subject_key(v, rec.id, rec.key_version, &dek, w);
        rc = cu_store_subject_key_put(v->store, rec.id, rec.key_version, w, sizeof w, err);
    }
    for (size_t i = 0; !rc && i < doc->n; i++)
        rc = insert_value(v, &rec, &dek, &doc->values[i], a->name, now, NULL, err);
    if (!rc && doc_names(doc))
        rc = name_birth_write(v, &rec, &dek, err);
    if (!rc && doc->n) /* the items' count and digest */
        rc = cu_subject_save(v, &rec, false, err);
    cu_key_wipe(&dek);
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc)
        memcpy(id_out, rec.id, CU_ID_STRLEN);
    return rc;
}

int cu_subject_add_items(cu_vault *v, const cu_actor *a, const char *subject_id,
                         const cu_doc *doc, char (*ids_out)[CU_ID_STRLEN], cu_err *err)
{
    for (size_t i = 0; i < doc->n; i++)
        if (doc->values[i].item_id)
            return cu_err_set(err, CU_EINVAL, "new items cannot carry ids");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_ITEMS_ADD, "create", err);
    if (rc)
        return rc;
    op.categories = doc_categories(doc);
    cu_subject_rec rec;
    cu_key dek;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc)
        subject_id = rec.id; /* when named by pseudonym */
    if (!rc)
        rc = cu_op_subject_key(v, &op, subject_id, &dek, NULL, err);
    if (!rc) {
        int64_t now = cu_now_us();
        for (size_t i = 0; !rc && i < doc->n; i++)
            rc = insert_value(v, &rec, &dek, &doc->values[i], a->name, now,
                              ids_out ? ids_out[i] : NULL, err);
        if (!rc && doc_names(doc))
            rc = name_birth_write(v, &rec, &dek, err);
        if (!rc) {
            rec.updated_at = now;
            rc = cu_subject_save(v, &rec, false, err);
        }
        cu_key_wipe(&dek);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct read_ctx {
    cu_vault *v;
    cu_items_sum sum; /* every item read, permitted or not */
    const cu_subject_rec *rec;
    const cu_key *dek;
    cu_subject_view *sv;
    unsigned allowed;    /* categories the actor may see */
    unsigned categories; /* categories actually read */
    size_t cap;
    cu_err *err;
} read_ctx;

static int read_item(void *ctx, const cu_item_row *r)
{
    read_ctx *c = ctx;
    cu_subject_view *sv = c->sv;
    cu_items_sum_add(c->v, &c->sum, c->rec->id, r);
    int cat = cu_category_from_name(r->category);
    if (cat < 0 || !(c->allowed & (1u << cat)))
        return 0; /* need to know: never decrypted for this actor */
    if (sv->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        cu_item_view *n = realloc(sv->items, cap * sizeof *n);
        if (!n)
            return cu_err_set(c->err, CU_ENOMEM, "out of memory reading items");
        sv->items = n;
        c->cap = cap;
    }
    cu_item_view *iv = &sv->items[sv->n];
    memset(iv, 0, sizeof *iv);
    cu_buf_init(&iv->value, CU_MAX_VALUE_BYTES + 1);
    cu_strlcpy(iv->id, r->id, sizeof iv->id);
    cu_strlcpy(iv->field, r->field, sizeof iv->field);
    cu_strlcpy(iv->source, r->source, sizeof iv->source);
    cu_strlcpy(iv->recorded_by, r->recorded_by, sizeof iv->recorded_by);
    iv->category = cu_category_from_name(r->category);
    iv->collected_at = r->collected_at;
    iv->recorded_at = r->recorded_at;
    iv->updated_at = r->updated_at;
    sv->n++;
    unsigned char ad[CU_AD_MAX];
    size_t adlen = cu_ad_value(ad, c->rec->controller_id, c->rec->id, r->id, r->field,
                               c->rec->key_version, r->category, r->version);
    if (cu_aead_open(c->dek, ad, adlen, r->value, r->value_len, &iv->value))
        return cu_err_set(c->err, CU_ECORRUPT,
                          "item %s of subject %s fails authentication (moved or altered)",
                          r->id, c->rec->id);
    if (iv->category >= 0)
        c->categories |= 1u << iv->category;
    return 0;
}

static int item_order(const void *pa, const void *pb)
{
    const cu_item_view *x = pa, *y = pb;
    if (x->recorded_at != y->recorded_at)
        return x->recorded_at < y->recorded_at ? -1 : 1;
    return strcmp(x->id, y->id);
}

int64_t cu_time_month_start(int64_t us)
{
    if (!us)
        return 0;
    cu_date d = cu_date_of_us(us);
    d.day = 1;
    return cu_date_to_days(d) * 86400000000LL;
}

/* What an analyst may see of a view: the subject by pseudonym, each item by
 * its item pseudonym (a real item id is time-ordered and joins the analyst's
 * view to the identified one), times to the month, and not who recorded an
 * item (a member of staff is named in the audit trail with the exact time). */
static void pseudonymise_view(cu_vault *v, cu_subject_view *sv)
{
    for (size_t i = 0; i < sv->n; i++) {
        cu_item_view *it = &sv->items[i];
        char psi[CU_PSEUDONYM_STRLEN];
        cu_vault_item_pseudonym(v, sv->rec.controller_id, it->id, psi);
        cu_strlcpy(it->id, psi, sizeof it->id);
        it->recorded_by[0] = '\0';
        it->collected_at = cu_time_month_start(it->collected_at);
        it->recorded_at = cu_time_month_start(it->recorded_at);
        it->updated_at = cu_time_month_start(it->updated_at);
    }
    cu_strlcpy(sv->rec.id, sv->rec.pseudonym, sizeof sv->rec.id);
    sv->rec.created_at = cu_time_month_start(sv->rec.created_at);
    sv->rec.updated_at = cu_time_month_start(sv->rec.updated_at);
    sv->rec.erased_at = cu_time_month_start(sv->rec.erased_at);
    sv->rec.restricted_at = cu_time_month_start(sv->rec.restricted_at);
    sv->pseudonymised = true;
}

/* Ends a read's operation; a failed read leaves no items in sv, only (for an
 * erased subject) its record, to say when it was erased. */
static int view_op_end(cu_vault *v, cu_op *op, int rc, cu_subject_view *sv, cu_err *err)
{
    rc = cu_op_end(v, op, rc, NULL, NULL, err);
    if (rc) {
        cu_subject_rec keep = sv->rec;
        cu_subject_view_release(sv);
        if (rc == CU_EERASED)
            sv->rec = keep;
    }
    return rc;
}

int cu_subject_get(cu_vault *v, const cu_actor *a, const char *subject_id, cu_subject_view *sv,
                   cu_err *err)
{
    memset(sv, 0, sizeof *sv);
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_READ, "read", err);
    if (rc)
        return rc;
    rc = cu_op_open_subject(v, &op, subject_id, &sv->rec, err);
    if (!rc) {
        cu_key dek;
        rc = cu_op_subject_key(v, &op, sv->rec.id, &dek, NULL, err);
        if (!rc) {
            read_ctx c = {.v = v, .rec = &sv->rec, .dek = &dek, .sv = sv,
                          .allowed = op.decision.categories, .err = err};
            rc = cu_store_item_each(v->store, sv->rec.id, read_item, &c, err);
            /* Nothing removed, added, relabelled or rolled back. */
            if (!rc)
                rc = cu_items_sum_check(v, &sv->rec, &c.sum, err);
            op.categories = c.categories;
            cu_key_wipe(&dek);
        }
        /* Oldest first, as recorded. */
        if (!rc && sv->n > 1)
            qsort(sv->items, sv->n, sizeof *sv->items, item_order);
        if (!rc && op.decision.pseudonymise)
            pseudonymise_view(v, sv);
    }
    return view_op_end(v, &op, rc, sv, err);
}

/* A cursor hides the item id it continues after (an item id is time-ordered,
 * and an analyst must not learn it): "c1" + tag + (item id XOR pad), in hex,
 * where tag = the first 16 bytes of a keyed hash of subject and item, and pad
 * a keyed hash of subject and tag (a synthetic-IV construction: different
 * items have different tags, so their pads are unrelated). */
static void cursor_pad(cu_vault *v, const char *subject_id, const unsigned char tag[16],
                       unsigned char pad[16])
{
    char name[8 + 33];
    memcpy(name, "pad/", 4);
    cu_hex(tag, 16, name + 4);
    unsigned char h[CU_HASH_BYTES];
    cu_vault_cursor_tag(v, subject_id, name, h);
    memcpy(pad, h, 16);
    cu_wipe(h, sizeof h);
}

static bool id_bytes(const char *id, unsigned char out[16])
{
    char hex[33];
    size_t n = 0;
    for (const char *p = id; *p && n < 32; p++)
        if (*p != '-')
            hex[n++] = *p;
    hex[n] = '\0';
    return n == 32 && cu_unhex(hex, 32, out, 16);
}

/* "c1" + the keyed tag over (scope, what) + the 16 bytes of body hidden under
 * a pad derived from the tag: the shape of every cursor. */
static void cursor_seal(cu_vault *v, const char *scope, const char *what,
                        unsigned char body[16], char out[CU_CURSOR_STRLEN])
{
    unsigned char tag[CU_HASH_BYTES], pad[16];
    cu_vault_cursor_tag(v, scope, what, tag);
    cursor_pad(v, scope, tag, pad);
    for (int i = 0; i < 16; i++)
        body[i] ^= pad[i];
    out[0] = 'c';
    out[1] = '1';
    cu_hex(tag, 16, out + 2);
    cu_hex(body, 16, out + 34);
    cu_wipe(tag, sizeof tag);
    cu_wipe(pad, sizeof pad);
}

static void cursor_make(cu_vault *v, const char *subject_id, const char *item_id,
                        char out[CU_CURSOR_STRLEN])
{
    unsigned char id[16] = {0};
    (void)id_bytes(item_id, id);
    cursor_seal(v, subject_id, item_id, id, out);
}

static bool lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* ---- listing cursors: the same construction over a position ---- */

/* "L" + 32 hex digits naming the listing (an unkeyed digest: the tag is keyed). */
static void list_scope(const char *scope, char out[34])
{
    static const char dom[] = "custos/v1/list-cursor";
    unsigned char h[CU_HASH_BYTES];
    cu_hash2(dom, sizeof dom - 1, scope, strlen(scope), h);
    out[0] = 'L';
    cu_hex(h, 16, out + 1);
}

static void position_bytes(uint64_t position, unsigned char out[16], char hex[33])
{
    memset(out, 0, 16);
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(position >> (56 - 8 * i));
    cu_hex(out, 16, hex);
}

void cu_list_cursor_make(cu_vault *v, const char *scope, uint64_t position,
                         char out[CU_CURSOR_STRLEN])
{
    char sc[34], hex[33];
    unsigned char body[16];
    list_scope(scope, sc);
    position_bytes(position, body, hex);
    cursor_seal(v, sc, hex, body, out);
}

static bool lower_hex(const char *s, size_t n);

int cu_list_cursor_open(cu_vault *v, const char *scope, const char *cursor,
                        uint64_t *position, cu_err *err)
{
    *position = 0;
    if (strnlen(cursor, CU_CURSOR_STRLEN) != CU_CURSOR_STRLEN - 1 || cursor[0] != 'c' ||
        cursor[1] != '1' || !lower_hex(cursor + 2, CU_CURSOR_STRLEN - 3))
        return cu_err_set(err, CU_EINVAL, "cursor is not a cursor of this listing");
    char sc[34], hex[33];
    unsigned char tag[16], body[16], pad[16], want[CU_HASH_BYTES];
    bool ok = cu_unhex(cursor + 2, 32, tag, 16) && cu_unhex(cursor + 34, 32, body, 16);
    if (ok) {
        list_scope(scope, sc);
        cursor_pad(v, sc, tag, pad);
        for (int i = 0; i < 16; i++)
            body[i] ^= pad[i];
        cu_hex(body, 16, hex);
        cu_vault_cursor_tag(v, sc, hex, want);
        ok = cu_ct_equal(want, tag, sizeof tag);
        for (int i = 8; i < 16; i++)
            ok = ok && body[i] == 0;
        cu_wipe(want, sizeof want);
        cu_wipe(pad, sizeof pad);
    }
    if (!ok)
        return cu_err_set(err, CU_EINVAL, "cursor is not a cursor of this listing");
    uint64_t p = 0;
    for (int i = 0; i < 8; i++)
        p = p << 8 | body[i];
    *position = p;
    return CU_OK;
}

/* The item id a cursor continues after, once its tag is checked. */
static int cursor_open(cu_vault *v, const char *subject_id, const char *cursor,
                       char item_id[CU_ID_STRLEN], cu_err *err)
{
    if (strnlen(cursor, CU_CURSOR_STRLEN) != CU_CURSOR_STRLEN - 1 || cursor[0] != 'c' ||
        cursor[1] != '1' || !lower_hex(cursor + 2, CU_CURSOR_STRLEN - 3))
        return cu_err_set(err, CU_EINVAL, "cursor is not a cursor of this listing");
    unsigned char tag[16], id[16], pad[16], want[CU_HASH_BYTES];
    bool ok = cu_unhex(cursor + 2, 32, tag, 16) && cu_unhex(cursor + 34, 32, id, 16);
    if (ok) {
        cursor_pad(v, subject_id, tag, pad);
        for (int i = 0; i < 16; i++)
            id[i] ^= pad[i];
        char h[33];
        cu_hex(id, 16, h);
        size_t n = 0;
        for (size_t i = 0; i < 32; i++) {
            if (i == 8 || i == 12 || i == 16 || i == 20)
                item_id[n++] = '-';
            item_id[n++] = h[i];
        }
        item_id[n] = '\0';
        cu_vault_cursor_tag(v, subject_id, item_id, want);
        ok = cu_ct_equal(want, tag, sizeof tag);
        cu_wipe(want, sizeof want);
        cu_wipe(pad, sizeof pad);
    }
    if (!ok)
        return cu_err_set(err, CU_EINVAL, "cursor is not a cursor of this listing");
    return CU_OK;
}

typedef struct page_ctx {
    read_ctx rc;
    bool skip_known;
    char last[CU_ID_STRLEN];
} page_ctx;

static int page_item(void *ctx, const cu_item_row *r)
{
    page_ctx *c = ctx;
    cu_strlcpy(c->last, r->id, sizeof c->last);
    if (c->skip_known && cu_known_field_find(r->field))
        return 0; /* read with the top-level fields */
    return read_item(&c->rc, r);
}

/* What a page's read also reads inside its operation (the record page's
 * tasks), or none. */
typedef struct page_also {
    int (*task_cb)(void *ctx, const cu_task_view *t);
    void *task_ctx;
    bool *tasks_read;
} page_also;

static int get_page(cu_vault *v, const cu_actor *a, const char *subject_id, const char *cursor,
                    size_t limit, bool top_level, cu_subject_view *sv, const page_also *also,
                    cu_err *err)
{
    memset(sv, 0, sizeof *sv);
    if (limit < 1 || limit > CU_ITEMS_PAGE_MAX)
        return cu_err_set(err, CU_EINVAL, "limit must be 1 to %d", CU_ITEMS_PAGE_MAX);
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_READ, "read", err);
    if (rc)
        return rc;
    if (!cursor)
        op.page_ahead = limit; /* read with the subject */
    rc = cu_op_open_subject(v, &op, subject_id, &sv->rec, err);
    char after[CU_ID_STRLEN] = "";
    if (!rc && cursor)
        rc = cursor_open(v, sv->rec.id, cursor, after, err);
    if (!rc) {
        cu_key dek;
        rc = cu_op_subject_key(v, &op, sv->rec.id, &dek, NULL, err);
        if (!rc) {
            page_ctx c = {.rc = {.v = v, .rec = &sv->rec, .dek = &dek, .sv = sv,
                                 .allowed = op.decision.categories, .err = err}};
            bool more = false, whole = false;
            /* The first page of a subject with no more items than the page
             * holds is the whole subject: one query, whose rows also give
             * the item digest. Otherwise start again the long way. */
            if (!cursor) {
                rc = cu_store_item_page(v->store, sv->rec.id, "", limit, page_item, &c, &more,
                                        err);
                whole = !rc && !more;
                if (!rc && more) {
                    for (size_t i = 0; i < sv->n; i++)
                        cu_buf_release(&sv->items[i].value);
                    sv->n = 0;
                    c = (page_ctx){.rc = {.v = v, .rec = &sv->rec, .dek = &dek, .sv = sv,
                                          .allowed = op.decision.categories, .err = err,
                                          .cap = c.rc.cap}};
                    more = false;
                }
            }
            c.skip_known = top_level;
            if (!rc && !whole && top_level) {
                const char *names[8];
                size_t n = 0;
                const cu_known_field *kf;
                for (size_t k = 0; n < 8 && (kf = cu_known_field_at(k)) != NULL; k++)
                    names[n++] = kf->field;
                rc = cu_store_item_each_named(v->store, sv->rec.id, names, n, read_item, &c.rc,
                                              err);
            }
            if (!rc && !whole)
                rc = cu_store_item_page(v->store, sv->rec.id, after, limit, page_item, &c, &more,
                                        err);
            if (!rc && more)
                cursor_make(v, sv->rec.id, c.last, sv->next);
            /* Nothing removed, added, relabelled or rolled back, on this page
             * or any other: the subject's item digest over every item row
             * (ids, versions, categories and fields; no value is decrypted
             * for it). */
            if (!rc && whole) {
                rc = cu_items_sum_check(v, &sv->rec, &c.rc.sum, err);
            } else if (!rc) {
                rc = cu_subject_items_check(v, &sv->rec, err);
            }
            op.categories = c.rc.categories;
            cu_key_wipe(&dek);
        }
        if (!rc && op.decision.pseudonymise)
            pseudonymise_view(v, sv);
        if (!rc && also && !sv->pseudonymised)
            rc = cu_task_walk_subject(v, &op, &sv->rec, also->task_cb, also->task_ctx,
                                      also->tasks_read, err);
    }
    return view_op_end(v, &op, rc, sv, err);
}

int cu_subject_get_page(cu_vault *v, const cu_actor *a, const char *subject_id,
                        const char *cursor, size_t limit, bool top_level, cu_subject_view *sv,
                        cu_err *err)
{
    return get_page(v, a, subject_id, cursor, limit, top_level, sv, NULL, err);
}

int cu_subject_get_record(cu_vault *v, const cu_actor *a, const char *subject_id, size_t limit,
                          bool top_level, cu_subject_view *sv,
                          int (*task_cb)(void *ctx, const struct cu_task_view *t),
                          void *task_ctx, bool *tasks_read, cu_err *err)
{
    *tasks_read = false;
    page_also also = {task_cb, task_ctx, tasks_read};
    return get_page(v, a, subject_id, NULL, limit, top_level, sv, &also, err);
}

typedef struct find_ctx {
    char (*ids)[CU_ID_STRLEN];
    size_t n, cap;
    /* every index row found: subject id, then item id */
    char (*hits)[2][CU_ID_STRLEN];
    size_t nhits, caphits;
} find_ctx;

static int found_cb(void *ctx, const char *subject_id, const char *item_id)
{
    find_ctx *f = ctx;
    if (f->nhits == f->caphits) {
        size_t cap = f->caphits ? f->caphits * 2 : 8;
        char(*n)[2][CU_ID_STRLEN] = realloc(f->hits, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        f->hits = n;
        f->caphits = cap;
    }
    cu_strlcpy(f->hits[f->nhits][0], subject_id, CU_ID_STRLEN);
    cu_strlcpy(f->hits[f->nhits++][1], item_id, CU_ID_STRLEN);
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->ids[i], subject_id) == 0)
            return 0;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        char (*n)[CU_ID_STRLEN] = realloc(f->ids, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        f->ids = n;
        f->cap = cap;
    }
    cu_strlcpy(f->ids[f->n++], subject_id, CU_ID_STRLEN);
    return 0;
}

/* An index row is only a pointer a writer of the store could aim anywhere
 * (its blind index is a copy of another row's): before a search answers
 * with a subject, the item the row names must be one of the subject's items
 * as its record counts them, of a field indexed as kind, and its value must
 * have the blind index searched for. */
typedef struct hit_ctx {
    cu_vault *v;
    const char *item_id;
    cu_items_sum sum;
    bool found;
    char field[CU_MAX_NAME_BYTES + 1];
    char category[40];
    int64_t version;
    cu_buf *sealed;
} hit_ctx;

static int hit_item(void *ctx, const cu_item_row *r)
{
    hit_ctx *h = ctx;
    cu_items_sum_add(h->v, &h->sum, r->subject_id, r);
    if (strcmp(r->id, h->item_id) != 0)
        return 0;
    h->found = true;
    cu_strlcpy(h->field, r->field, sizeof h->field);
    cu_strlcpy(h->category, r->category, sizeof h->category);
    h->version = r->version;
    cu_buf_reset(h->sealed);
    return cu_buf_append(h->sealed, r->value, r->value_len) ? CU_ENOMEM : 0;
}

static int check_hit(cu_vault *v, const cu_op *op, const cu_subject_rec *rec,
                     const char *item_id, const char *kind, const char *value, size_t n,
                     cu_err *err)
{
    if (!cu_vault_sealed(v))
        return CU_OK;
    cu_buf sealed, plain;
    cu_buf_init(&sealed, CU_MAX_VALUE_BYTES * 2);
    cu_buf_init(&plain, CU_MAX_VALUE_BYTES + 1);
    hit_ctx h = {.v = v, .item_id = item_id, .sealed = &sealed};
    int rc = cu_store_item_each(v->store, rec->id, hit_item, &h, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory searching");
    if (!rc)
        rc = cu_items_sum_check(v, rec, &h.sum, err);
    const cu_known_field *kf = h.found ? cu_known_field_find(h.field) : NULL;
    if (!rc && (!kf || !kf->ident_kind || strcmp(kf->ident_kind, kind) != 0))
        rc = cu_err_set(err, CU_ETAMPER, "identifiers %s/%s has been altered", rec->id,
                        item_id);
    cu_key dek;
    if (!rc && !(rc = cu_op_subject_key(v, op, rec->id, &dek, NULL, err))) {
        unsigned char ad[CU_AD_MAX], want[CU_HASH_BYTES], got[CU_HASH_BYTES];
        size_t adlen = cu_ad_value(ad, rec->controller_id, rec->id, item_id, h.field,
                                   rec->key_version, h.category, h.version);
        if (cu_aead_open(&dek, ad, adlen, sealed.data, sealed.len, &plain))
            rc = cu_err_set(err, CU_ECORRUPT, "item %s of subject %s fails authentication",
                            item_id, rec->id);
        cu_key_wipe(&dek);
        if (!rc) {
            cu_vault_blind_index(v, rec->controller_id, kind, value, n, want);
            cu_vault_blind_index(v, rec->controller_id, kind, (const char *)plain.data,
                                 plain.len, got);
            if (!cu_ct_equal(want, got, sizeof want))
                rc = cu_err_set(err, CU_ETAMPER, "identifiers %s/%s has been altered",
                                rec->id, item_id);
        }
    }
    cu_buf_release(&sealed);
    cu_buf_release(&plain);
    return rc;
}

typedef struct search_ctx {
    cu_vault *v;
    const char *kind;
    const char *value;
    size_t n;
    find_ctx *found;
    const cu_op *op; /* searching every controller: the op whose purpose applies */
    cu_err *err;
} search_ctx;

static int search_controller(void *ctx, const char *id, const char *name, int64_t created)
{
    (void)name;
    (void)created;
    search_ctx *s = ctx;
    if (s->op) {
        /* A search across controllers looks only where the purpose applies. */
        const cu_policy *pol;
        int rc = cu_vault_policy(s->v, id, &pol, s->err);
        if (rc)
            return rc;
        cu_pol_facts f = {.policy = pol, .purpose = cu_policy_purpose(pol, s->op->actor->purpose),
                          .write = true, .categories = s->op->categories};
        if (!cu_policy_decide(&f).allow)
            return CU_OK;
    }
    unsigned char bidx[CU_HASH_BYTES];
    cu_vault_blind_index(s->v, id, s->kind, s->value, s->n, bidx);
    return cu_store_ident_find(s->v->store, s->kind, bidx, sizeof bidx, found_cb, s->found,
                               s->err);
}

/* What a search makes of one subject its index rows named: pass over it,
 * weigh it against the purpose but leave it out, or answer with it if the
 * purpose allows. */
enum { SEARCH_SKIP, SEARCH_NO_MATCH, SEARCH_MATCH };

typedef int (*search_check_fn)(cu_vault *v, const cu_op *op, const search_ctx *s,
                               const cu_subject_rec *rec, int *verdict, cu_err *err);

/* The search both finders share, inside one search operation for actor a
 * over the categories given: looks up s's blind index under controller_id
 * (or every controller the purpose applies to), loads and verifies each
 * subject found, keeps those check and the purpose allow, and answers them
 * through cb; "no subject has that <what>" when none is kept. */
static int search_run(cu_vault *v, const cu_actor *a, const char *controller_id,
                      unsigned categories, search_ctx *s, search_check_fn check,
                      const char *what, cu_found_cb cb, void *ctx, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_SEARCH, "search", err);
    if (rc)
        return rc;
    op.categories = categories;
    find_ctx found = {0};
    s->v = v;
    s->found = &found;
    s->err = err;
    if (controller_id) {
        memcpy(op.controller_id, controller_id, CU_ID_STRLEN);
        rc = cu_controller_load(v, controller_id, NULL, err);
        if (rc == CU_ENOTFOUND)
            rc = cu_err_set(err, CU_ENOTFOUND, "no controller %s", controller_id);
    }
    if (!rc)
        rc = cu_op_authorise(v, &op, err);
    if (!rc)
        rc = controller_id ? search_controller(s, controller_id, NULL, 0)
                           : (s->op = &op, cu_controller_each_checked(v, search_controller, s,
                                                                       err));
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory searching");
    /* Like a listing, a search finds only subjects the purpose may be used
     * for; and only subjects whose rows verify, through index rows that do. */
    size_t kept = 0;
    char first_controller[CU_ID_STRLEN] = "";
    for (size_t i = 0; !rc && i < found.n; i++) {
        cu_subject_rec rec;
        bool allowed = false;
        int verdict = SEARCH_SKIP;
        rc = cu_subject_load(v, found.ids[i], &rec, err);
        if (rc == CU_ENOTFOUND)
            rc = cu_err_set(err, CU_ETAMPER, "identifiers of %s name no subject",
                            found.ids[i]);
        if (!rc)
            rc = check(v, &op, s, &rec, &verdict, err);
        if (!rc && verdict == SEARCH_SKIP)
            continue;
        if (!rc)
            rc = cu_op_policy_allows(v, &op, &rec, &allowed, err);
        if (!rc && allowed && verdict == SEARCH_MATCH) {
            if (!kept)
                memcpy(first_controller, rec.controller_id, CU_ID_STRLEN);
            memmove(found.ids[kept++], found.ids[i], CU_ID_STRLEN);
        }
    }
    free(found.hits);
    if (!rc)
        found.n = kept;
    if (!rc && found.n == 0)
        rc = cu_err_set(err, CU_ENOTFOUND, "no subject has that %s", what);
    if (!rc && found.n == 1) {
        memcpy(op.subject_id, found.ids[0], CU_ID_STRLEN);
        memcpy(op.controller_id, first_controller, CU_ID_STRLEN);
    }
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    for (size_t i = 0; !rc && i < found.n; i++)
        rc = cb(ctx, found.ids[i]);
    free(found.ids);
    return rc;
}

/* A search by identifier: every index row naming rec (while it stands
 * unerased) must verify; the purpose decides the rest. */
static int ident_check(cu_vault *v, const cu_op *op, const search_ctx *s,
                       const cu_subject_rec *rec, int *verdict, cu_err *err)
{
    *verdict = SEARCH_MATCH;
    int rc = CU_OK;
    for (size_t k = 0; !rc && k < s->found->nhits; k++)
        if (strcmp(s->found->hits[k][0], rec->id) == 0 && !rec->erased_at)
            rc = check_hit(v, op, rec, s->found->hits[k][1], s->kind, s->value, s->n, err);
    return rc;
}

int cu_subject_find(cu_vault *v, const cu_actor *a, const char *controller_id,
                    const char *field, const char *value, size_t n, cu_found_cb cb, void *ctx,
                    cu_err *err)
{
    const cu_known_field *kf = cu_known_field_find(field);
    if (!kf || !kf->ident_kind)
        return cu_err_set(err, CU_EINVAL, "search by nhs_number, email, phone or local_ref");
    if (controller_id && !cu_id_valid(controller_id))
        return cu_err_set(err, CU_EINVAL, "controller must be a controller id");
    char norm[1025];
    if (n > 1024)
        return cu_err_set(err, CU_EINVAL, "%s is longer than 1024 bytes", field);
    int rc = cu_normalise_field(field, value, n, norm, sizeof norm, NULL, err);
    if (!rc) {
        search_ctx s = {.kind = kf->ident_kind, .value = norm, .n = strlen(norm)};
        rc = search_run(v, a, controller_id, 1u << kf->category, &s, ident_check, field, cb,
                        ctx, err);
    }
    cu_wipe(norm, sizeof norm);
    return rc;
}

/* Whether rec's current name and date of birth give bidx (the index key
 * searched for, blind under rec's controller). */
static int name_birth_verify(cu_vault *v, const cu_op *op, const cu_subject_rec *rec,
                             const char *key, size_t klen, bool *match, cu_err *err)
{
    *match = false;
    cu_key dek;
    int rc = cu_op_subject_key(v, op, rec->id, &dek, NULL, err);
    if (rc)
        return rc;
    unsigned char have[CU_FAMILY_KEYS][CU_HASH_BYTES], want[CU_HASH_BYTES];
    size_t n = 0;
    rc = name_birth_index(v, rec, &dek, false, have, &n, err);
    cu_key_wipe(&dek);
    cu_vault_blind_index(v, rec->controller_id, NAME_BIRTH_KIND, key, klen, want);
    for (size_t i = 0; !rc && i < n; i++)
        if (cu_ct_equal(have[i], want, sizeof want))
            *match = true;
    return rc;
}

/* A search by family name and date of birth: an erased subject is passed
 * over; and an index row answers only while the subject's current name and
 * date of birth still give the key searched for (a row altered, or left
 * behind by a partial erasure, is no answer). */
static int name_birth_check(cu_vault *v, const cu_op *op, const search_ctx *s,
                            const cu_subject_rec *rec, int *verdict, cu_err *err)
{
    bool match = false;
    *verdict = SEARCH_SKIP;
    if (rec->erased_at)
        return CU_OK;
    int rc = cu_subject_items_check(v, rec, err);
    if (!rc && cu_vault_sealed(v))
        rc = name_birth_verify(v, op, rec, s->value, s->n, &match, err);
    *verdict = match ? SEARCH_MATCH : SEARCH_NO_MATCH;
    return rc;
}

int cu_subject_find_name_birth(cu_vault *v, const cu_actor *a, const char *controller_id,
                               const char *family, size_t n, const char *birth,
                               cu_found_cb cb, void *ctx, cu_err *err)
{
    if (controller_id && !cu_id_valid(controller_id))
        return cu_err_set(err, CU_EINVAL, "controller must be a controller id");
    char fam[CU_FAMILY_MAX + 1], key[CU_NAME_BIRTH_KEY_MAX];
    int rc = cu_family_normalise(family, n, fam, sizeof fam, err);
    if (rc) {
        cu_wipe(fam, sizeof fam);
        return rc;
    }
    cu_date d;
    if (!birth || strlen(birth) != 10 || !cu_date_parse(birth, 10, &d)) {
        cu_wipe(fam, sizeof fam);
        return cu_err_set(err, CU_EINVAL, "a date of birth is a date YYYY-MM-DD");
    }
    size_t klen = cu_name_birth_key(fam, birth, key);
    cu_wipe(fam, sizeof fam);
    search_ctx s = {.kind = NAME_BIRTH_KIND, .value = key, .n = klen};
    rc = search_run(v, a, controller_id, 1u << CU_CAT_IDENTIFYING, &s, name_birth_check,
                    "family name and date of birth", cb, ctx, err);
    cu_wipe(key, sizeof key);
    return rc;
}

/* Builds the index for one subject from its current values, within an
 * update operation of its own. */
static int reindex_one(cu_vault *v, const cu_actor *a, const char *subject_id, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_UPDATE, "update", err);
    if (rc)
        return rc;
    op.categories = 1u << CU_CAT_IDENTIFYING;
    cu_subject_rec rec;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    cu_key dek;
    if (!rc && !(rc = cu_op_subject_key(v, &op, rec.id, &dek, NULL, err))) {
        rc = cu_subject_items_check(v, &rec, err);
        if (!rc)
            rc = name_birth_write(v, &rec, &dek, err);
        cu_key_wipe(&dek);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

typedef struct reindex_ctx {
    char (*ids)[CU_ID_STRLEN];
    size_t n, cap;
} reindex_ctx;

static int reindex_collect(void *ctx, const cu_subject_rec *r)
{
    reindex_ctx *c = ctx;
    if (r->erased_at)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        char(*p)[CU_ID_STRLEN] = realloc(c->ids, cap * sizeof *p);
        if (!p)
            return CU_ENOMEM;
        c->ids = p;
        c->cap = cap;
    }
    cu_strlcpy(c->ids[c->n++], r->id, CU_ID_STRLEN);
    return 0;
}

int cu_subject_reindex(cu_vault *v, const cu_actor *a, const char *controller_id,
                       size_t *done, cu_err *err)
{
    *done = 0;
    reindex_ctx c = {0};
    int rc = cu_subject_list(v, a, controller_id, reindex_collect, &c, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory listing subjects");
    for (size_t i = 0; !rc && i < c.n; i++) {
        rc = reindex_one(v, a, c.ids[i], err);
        if (!rc)
            (*done)++;
    }
    free(c.ids);
    return rc;
}

/* ---- rectification ---- */

typedef struct item_ctx {
    bool found;
    char id[CU_ID_STRLEN];
    char field[CU_MAX_NAME_BYTES + 1];
    int category;
    char category_name[40];
    int64_t version;
    const unsigned char *sealed;
    cu_buf *sealed_copy;
    const char *want_field; /* when looking up by field: the newest such item */
} item_ctx;

static int item_cb(void *ctx, const cu_item_row *r)
{
    item_ctx *c = ctx;
    if (c->want_field && strcmp(r->field, c->want_field) != 0)
        return 0;
    c->found = true;
    cu_strlcpy(c->id, r->id, sizeof c->id);
    cu_strlcpy(c->field, r->field, sizeof c->field);
    c->category = cu_category_from_name(r->category);
    cu_strlcpy(c->category_name, r->category, sizeof c->category_name);
    c->version = r->version;
    cu_buf_reset(c->sealed_copy);
    return cu_buf_append(c->sealed_copy, r->value, r->value_len) ? CU_ENOMEM : 0;
}

/* The items a rectification changed, for the recipients to tell. */
typedef struct changed_items {
    char (*ids)[CU_ID_STRLEN];
    size_t n, cap;
    unsigned categories;
} changed_items;

static int note_changed(changed_items *ch, const char *id, int category)
{
    if (ch->n == ch->cap) {
        size_t cap = ch->cap ? ch->cap * 2 : 8;
        char(*n)[CU_ID_STRLEN] = realloc(ch->ids, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        ch->ids = n;
        ch->cap = cap;
    }
    cu_strlcpy(ch->ids[ch->n++], id, CU_ID_STRLEN);
    if (category >= 0)
        ch->categories |= 1u << category;
    return CU_OK;
}

static int rectify_one(cu_vault *v, cu_subject_rec *rec, const cu_key *dek,
                       const cu_value_in *in, const char *actor, int64_t now, cu_op *op,
                       cu_jw *old_log, changed_items *ch, cu_err *err)
{
    cu_buf sealed, plain, fresh;
    cu_buf_init(&sealed, CU_MAX_VALUE_BYTES * 2);
    cu_buf_init(&plain, CU_MAX_VALUE_BYTES + 1);
    cu_buf_init(&fresh, CU_MAX_VALUE_BYTES * 2);
    item_ctx c = {.sealed_copy = &sealed, .want_field = in->item_id ? NULL : in->field};
    int rc = in->item_id
                 ? cu_store_item_get(v->store, rec->id, in->item_id, item_cb, &c, err)
                 : cu_store_item_each(v->store, rec->id, item_cb, &c, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory rectifying");
    if (rc == CU_ENOTFOUND || (!rc && in->item_id && !c.found))
        rc = cu_err_set(err, CU_EINVAL, "subject %s has no item %s", rec->id, in->item_id);
    if (!rc && !c.found) {
        /* A well-known field the subject did not have yet: add it. */
        if (!(op->decision.categories & (1u << in->category))) {
            op->rule = "category-not-permitted";
            rc = cu_err_set(err, CU_EDENIED, "refused (category-not-permitted): %s", in->field);
            goto out;
        }
        op->categories |= 1u << in->category;
        rc = insert_value(v, rec, dek, in, actor, now, NULL, err);
        goto out;
    }
    if (rc)
        goto out;
    if (c.category < 0 || !(op->decision.categories & (1u << c.category))) {
        op->rule = "category-not-permitted";
        rc = cu_err_set(err, CU_EDENIED, "refused (category-not-permitted): item %s", c.id);
        goto out;
    }
    op->categories |= 1u << c.category;
    /* A rectified identifier is normalised and re-indexed like a new one. */
    const cu_known_field *kf = cu_known_field_find(c.field);
    const char *value = in->value;
    size_t vlen = in->value_len;
    char norm[1025];
    if (kf && in->item_id) {
        if (vlen > 1024) {
            rc = cu_err_set(err, CU_EINVAL, "%s is longer than 1024 bytes", c.field);
            goto out;
        }
        if ((rc = cu_normalise_field(c.field, value, vlen, norm, sizeof norm, NULL, err)))
            goto out;
        value = norm;
        vlen = strlen(norm);
    }
    unsigned char ad[CU_AD_MAX];
    size_t adlen = cu_ad_value(ad, rec->controller_id, rec->id, c.id, c.field, rec->key_version,
                               c.category_name, c.version);
    if (cu_aead_open(dek, ad, adlen, sealed.data, sealed.len, &plain)) {
        rc = cu_err_set(err, CU_ECORRUPT, "item %s fails authentication", c.id);
        goto out;
    }
    cu_jw_begin_object(old_log);
    cu_jw_key(old_log, "item");
    cu_jw_str(old_log, c.id);
    cu_jw_key(old_log, "field");
    cu_jw_str(old_log, c.field);
    cu_jw_key(old_log, "old");
    cu_jw_string(old_log, (const char *)plain.data, plain.len);
    cu_jw_key(old_log, "new");
    cu_jw_string(old_log, value, vlen);
    cu_jw_end_object(old_log);
    if ((rc = old_log->rc)) {
        rc = cu_err_set(err, CU_ENOMEM, "rectification too large");
        goto out;
    }
    if ((rc = seal_value(rec, dek, c.id, c.field, c.category_name, c.version + 1, value, vlen,
                         &fresh, err)))
        goto out;
    rc = cu_store_item_update_value(v->store, rec->id, c.id, fresh.data, fresh.len, now,
                                    c.version + 1, err);
    if (!rc)
        cu_subject_item_versioned(v, rec, c.id, c.version, c.version + 1, c.category_name,
                                  c.field);
    if (!rc && note_changed(ch, c.id, c.category))
        rc = cu_err_set(err, CU_ENOMEM, "out of memory rectifying");
    if (!rc && kf && kf->ident_kind) {
        rc = cu_store_ident_delete_item(v->store, rec->id, c.id, err);
        if (!rc)
            rc = index_value(v, rec, kf->ident_kind, c.id, value, vlen, err);
    }
    cu_wipe(norm, sizeof norm);
out:
    cu_buf_release(&sealed);
    cu_buf_release(&plain);
    cu_buf_release(&fresh);
    return rc;
}

typedef struct notify_match {
    const changed_items *ch;
    cu_notify_cb cb;
    void *ctx;
} notify_match;

static int notify_if_changed(void *ctx, const cu_disclosure_view *d)
{
    notify_match *m = ctx;
    bool hit = false;
    for (size_t i = 0; !hit && i < m->ch->n; i++)
        hit = cu_disclosure_has_item(d, m->ch->ids[i]);
    for (int k = 0; !hit && k < CU_CAT_COUNT; k++)
        hit = (m->ch->categories & (1u << k)) && cu_disclosure_has_category(d, (cu_category)k);
    if (!hit)
        return CU_OK;
    cu_notify_recipient r = {
        .recipient_id = d->recipient_id[0] ? d->recipient_id : NULL,
        .name = d->recipient_name.len ? (const char *)d->recipient_name.data : NULL,
        .name_len = d->recipient_name.len,
        .channel = d->channel,
        .disclosed_at = d->disclosed_at,
    };
    return m->cb(m->ctx, &r);
}

int cu_subject_rectify(cu_vault *v, const cu_actor *a, const char *subject_id,
                       const cu_doc *patch, cu_err *err)
{
    return cu_subject_rectify_notify(v, a, subject_id, patch, NULL, NULL, err);
}

int cu_subject_rectify_notify(cu_vault *v, const cu_actor *a, const char *subject_id,
                              const cu_doc *patch, cu_notify_cb notify, void *ctx, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_UPDATE, "update", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    cu_key dek;
    cu_buf old_log;
    cu_buf_init(&old_log, CU_MAX_INPUT_BYTES * 2);
    cu_jw log;
    cu_jw_init(&log, &old_log);
    cu_jw_begin_array(&log);
    bool have_key = false;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc)
        subject_id = rec.id; /* when named by pseudonym */
    if (!rc && !(rc = cu_op_subject_key(v, &op, subject_id, &dek, NULL, err)))
        have_key = true;
    /* The items read one at a time below are the subject's current ones. */
    if (!rc)
        rc = cu_subject_items_check(v, &rec, err);
    int64_t now = cu_now_us();
    changed_items ch = {0};
    for (size_t i = 0; !rc && i < patch->n; i++)
        rc = rectify_one(v, &rec, &dek, &patch->values[i], a->name, now, &op, &log, &ch, err);
    if (!rc && doc_names(patch))
        rc = name_birth_write(v, &rec, &dek, err);
    /* Art 19: the recipients of earlier disclosures of what changed. */
    if (!rc && notify && ch.n) {
        notify_match m = {.ch = &ch, .cb = notify, .ctx = ctx};
        rc = cu_disclosure_each_view(v, &rec, &dek, notify_if_changed, &m, err);
        if (rc == CU_ENOMEM)
            rc = cu_err_set(err, rc, "out of memory rectifying");
    }
    free(ch.ids);
    /* The payload is the list of previous values, or nothing when none changed. */
    cu_jw_end_array(&log);
    if (!rc && log.rc)
        rc = cu_err_set(err, CU_ENOMEM, "rectification too large");
    if (!rc && old_log.len == 2)
        cu_buf_reset(&old_log);
    if (!rc) {
        rec.updated_at = now;
        rc = cu_subject_save(v, &rec, false, err);
    }
    rc = cu_op_end(v, &op, rc, have_key ? &dek : NULL, &old_log, err);
    if (have_key)
        cu_key_wipe(&dek);
    cu_buf_release(&old_log);
    return rc;
}

/* ---- erasure ---- */

static int category_cb(void *ctx, const cu_item_row *r)
{
    int c = cu_category_from_name(r->category);
    if (c >= 0)
        *(unsigned *)ctx |= 1u << c;
    return 0;
}

int cu_subject_erase(cu_vault *v, const cu_actor *a, const char *subject_id, int64_t *erased_at,
                     cu_err *err)
{
    uint64_t appends = v->ledger_appends;
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_SUBJECT_ERASE, "erase", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    int64_t now = cu_now_us();
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    if (!rc)
        subject_id = rec.id; /* when named by pseudonym */
    if (!rc)
        rc = cu_store_item_each(v->store, subject_id, category_cb, &op.categories, err);
    /* Nothing more is asked of the subject: its follow-up pathways are
     * discharged, its unused questionnaire links retired and its portal
     * account, sessions and invitations deleted (as a replay of
     * the ledger entry does, erasure.c). */
    if (!rc)
        rc = cu_pathway_erased(v, subject_id, now, NULL, err);
    if (!rc)
        rc = cu_qlink_retire_subject(v, subject_id, now, NULL, err);
    if (!rc)
        rc = cu_portal_forget_subject(v, subject_id, err);
    if (!rc)
        rc = cu_store_ident_delete_subject(v->store, subject_id, err);
    if (!rc)
        rc = cu_store_item_delete_subject(v->store, subject_id, err);
    if (!rc)
        rc = cu_store_subject_key_delete(v->store, subject_id, err);
    if (!rc) {
        rec.erased_at = rec.updated_at = now;
        rec.item_count = 0;
        memset(rec.item_digest, 0, sizeof rec.item_digest);
        rc = cu_subject_save(v, &rec, false, err);
    }
    /* Recorded outside the data it erases, durably, before the commit. */
    if (!rc)
        rc = cu_erasure_ledger_subject(v, subject_id, now, err);
    rc = cu_erasure_failed(v, appends, cu_op_end(v, &op, rc, NULL, NULL, err), err);
    if (!rc) {
        if (erased_at)
            *erased_at = now;
        /* Push the overwritten values out of the store's log as well; if a
         * reader holds it, a later compaction does it. In a batch they are
         * written at its commit, which compacts then. */
        if (v->batch)
            v->shred_pending = true;
        else if (cu_store_compact_log(v->store, NULL) != CU_OK)
            rc = CU_OK;
    } else if (rc == CU_EERASED && erased_at) {
        *erased_at = rec.erased_at;
    }
    return rc;
}

typedef struct list_filter {
    cu_subject_cb cb;
    void *ctx;
    bool pseudonymise;
    cu_vault *v;
    const cu_op *op;
    cu_err *err;
} list_filter;

/* Lists only the subjects the purpose may be used for, and to those who may
 * not see ids by pseudonym only. */
static int list_one_subject(void *ctx, const cu_subject_rec *r)
{
    list_filter *f = ctx;
    bool allowed;
    int rc = cu_subject_row_check(f->v, r, f->err);
    if (!rc)
        rc = cu_op_policy_allows(f->v, f->op, r, &allowed, f->err);
    if (rc || !allowed)
        return rc;
    if (!f->pseudonymise)
        return f->cb(f->ctx, r);
    cu_subject_rec copy = *r;
    cu_strlcpy(copy.id, r->pseudonym, sizeof copy.id);
    copy.created_at = cu_time_month_start(r->created_at);
    copy.updated_at = cu_time_month_start(r->updated_at);
    copy.erased_at = cu_time_month_start(r->erased_at);
    copy.restricted_at = cu_time_month_start(r->restricted_at);
    return f->cb(f->ctx, &copy);
}

int cu_subject_list(cu_vault *v, const cu_actor *a, const char *controller_id, cu_subject_cb cb,
                    void *ctx, cu_err *err)
{
    if (controller_id && !cu_id_valid(controller_id))
        return cu_err_set(err, CU_EINVAL, "controller must be a controller id");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_LIST, "search", err);
    if (rc)
        return rc;
    if (controller_id)
        memcpy(op.controller_id, controller_id, CU_ID_STRLEN);
    else if (a->controller_id)
        rc = cu_err_set(err, CU_EINVAL, "staff list the subjects of their own controller");
    if (!rc)
        rc = cu_op_authorise(v, &op, err);
    if (!rc) {
        list_filter f = {.cb = cb, .ctx = ctx, .pseudonymise = op.decision.pseudonymise,
                         .v = v, .op = &op, .err = err};
        rc = cu_store_subject_each(v->store, controller_id, list_one_subject, &f, err);
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

/* ---- audit trail access ---- */

typedef struct list_ctx {
    const cu_op *op;
    cu_vault *v;
    const char *controller; /* staff: only this controller's events */
    bool with_values;
    int64_t limit;          /* events to show at most, after filtering; 0 = all */
    int64_t shown;
    cu_event_cb cb;
    void *ctx;
} list_ctx;

#define LIST_FULL (-2) /* stops a walk that has shown enough */

static int list_event(void *ctx, const cu_audit_row *r)
{
    list_ctx *c = ctx;
    cu_audit_decoded d;
    if (cu_audit_decode(r->body, r->body_len, &d))
        return CU_ETAMPER;
    if (c->controller && (d.controller.n != strlen(c->controller) ||
                          memcmp(d.controller.p, c->controller, d.controller.n) != 0))
        return 0; /* another controller's trail, or the store's own */
    if (c->limit && c->shown >= c->limit)
        return LIST_FULL;
    c->shown++;
    if (!c->with_values || d.payload.n == 0 || !r->subject_id)
        return c->cb(c->ctx, &d, NULL);
    cu_key dek;
    cu_buf plain;
    cu_buf_init(&plain, CU_MAX_INPUT_BYTES * 2);
    int shown = 0;
    if (cu_op_subject_key(c->v, c->op, r->subject_id, &dek, NULL, NULL) == CU_OK) {
        unsigned char ad[CU_AD_MAX];
        size_t n = cu_ad_audit(ad, d.controller.p, d.controller.n, d.subject.p, d.subject.n,
                               d.seq);
        if (cu_aead_open(&dek, ad, n, d.payload.p, d.payload.n, &plain) == CU_OK)
            shown = 1;
        cu_key_wipe(&dek);
    }
    int rc = c->cb(c->ctx, &d, shown ? &plain : NULL);
    cu_buf_release(&plain);
    return rc;
}

static int audit_list(cu_vault *v, const cu_actor *a, cu_act act, const cu_audit_filter *f,
                      bool with_values, cu_event_cb cb, void *ctx, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, act, "audit", err);
    if (rc)
        return rc;
    cu_audit_filter filter = f ? *f : (cu_audit_filter){0};
    char real[CU_ID_STRLEN];
    if (filter.subject_id && (rc = cu_op_name_subject(&op, filter.subject_id, err)))
        return cu_op_end(v, &op, rc, NULL, NULL, err);
    if (filter.subject_id && cu_pseudonym_valid(filter.subject_id)) {
        rc = cu_subject_resolve(v, filter.subject_id, real, err);
        if (rc == CU_ENOTFOUND && !a->controller_id)
            rc = CU_OK; /* the operator filters by what it asked for */
        else if (!rc)
            filter.subject_id = real;
    }
    f = &filter;
    if (!rc && f->subject_id) {
        cu_subject_rec rec;
        int got = CU_ENOTFOUND;
        if (!cu_id_valid(f->subject_id) && !cu_pseudonym_valid(f->subject_id))
            rc = cu_err_set(err, CU_EINVAL, "not a subject id");
        else if ((got = cu_subject_load(v, f->subject_id, &rec, err)) == CU_OK)
            memcpy(op.controller_id, rec.controller_id, CU_ID_STRLEN);
        else if (got != CU_ENOTFOUND) /* altered, or the store failed */
            rc = got;
        else if (a->controller_id) /* as for another controller's subject: no oracle */
            rc = cu_err_set(err, CU_ENOTFOUND, "no subject %s", f->subject_id);
        if (!rc || rc == CU_ENOTFOUND)
            memcpy(op.subject_id, f->subject_id, CU_ID_STRLEN);
    }
    if (!rc)
        rc = cu_op_authorise(v, &op, err);
    /* Previous values are personal data: only for those who may see them all. */
    if (!rc && with_values && op.decision.categories != (1u << CU_CAT_COUNT) - 1)
        rc = cu_err_set(err, CU_EDENIED, "refused (values-not-permitted): previous values are "
                                         "shown only to roles that see every category");
    if (!rc) {
        /* The limit counts what the caller may see, so it applies after the
         * controller filter, not in the query. */
        list_ctx c = {.op = &op, .v = v, .controller = a->controller_id, .with_values = with_values,
                      .limit = filter.limit, .cb = cb, .ctx = ctx};
        if (c.controller)
            filter.limit = 0;
        rc = cu_store_audit_each(v->store, &filter, list_event, &c, err);
        if (rc == LIST_FULL)
            rc = CU_OK;
        if (rc == CU_ETAMPER)
            rc = cu_err_set(err, rc, "an audit event is malformed; run: custos audit verify");
    }
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_audit_list(cu_vault *v, const cu_actor *a, const cu_audit_filter *f, bool with_values,
                  cu_event_cb cb, void *ctx, cu_err *err)
{
    return audit_list(v, a, CU_ACT_AUDIT_READ, f, with_values, cb, ctx, err);
}

int cu_subject_resolve(cu_vault *v, const char *id, char out[CU_ID_STRLEN], cu_err *err)
{
    if (cu_id_valid(id)) {
        cu_strlcpy(out, id, CU_ID_STRLEN);
        return CU_OK;
    }
    if (!cu_pseudonym_valid(id))
        return cu_err_set(err, CU_EINVAL, "not a subject id");
    char real[40];
    int rc = cu_store_subject_by_pseudonym(v->store, id, real, err);
    if (rc == CU_ENOTFOUND) /* name only what was asked for */
        return cu_err_set(err, CU_ENOTFOUND, "no subject %s", id);
    if (!rc)
        cu_strlcpy(out, real, CU_ID_STRLEN);
    return rc;
}

int cu_subject_access_log(cu_vault *v, const cu_actor *a, const char *subject_id,
                          cu_event_cb cb, void *ctx, cu_err *err)
{
    if (!cu_id_valid(subject_id) && !cu_pseudonym_valid(subject_id))
        return cu_err_set(err, CU_EINVAL, "not a subject id");
    cu_audit_filter f = {.subject_id = subject_id};
    return audit_list(v, a, CU_ACT_ACCESS_LOG, &f, false, cb, ctx, err);
}

int cu_audit_check(cu_vault *v, const cu_actor *a, cu_verify_report *rep, cu_err *err)
{
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_AUDIT_VERIFY, "audit", err);
    if (rc)
        return rc;
    rc = cu_op_authorise(v, &op, err);
    if (!rc)
        rc = cu_audit_verify(v, rep, err);
    if (rc)
        return cu_op_end(v, &op, rc, NULL, NULL, err);
    bool own = op.own_tx;
    cu_err rerr = {0};
    int erc = cu_op_end(v, &op, CU_OK, NULL, NULL, &rerr);
    rep->recorded = erc == CU_OK;
    rep->not_recorded[0] = '\0';
    if (erc && own) {
        cu_strlcpy(rep->not_recorded, rerr.msg, sizeof rep->not_recorded);
        return CU_OK;
    }
    if (erc && err)
        *err = rerr;
    return erc;
}

int cu_vault_counts(cu_vault *v, cu_store_counts *out, cu_err *err)
{
    return cu_store_counts_get(v->store, out, err);
}

int cu_controller_each(cu_vault *v, cu_controller_cb cb, void *ctx, cu_err *err)
{
    return cu_controller_each_checked(v, cb, ctx, err);
}

int cu_vault_head(cu_vault *v, cu_checkpoint *out, cu_err *err)
{
    int rc = cu_store_head_get(v->store, out, err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, rc, "the audit trail has no signed head yet") : rc;
}
