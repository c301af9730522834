/* items.c — items and their blind-indexed identifiers (store.h). Statements
 * by id only: no SQL here. */
#include <string.h>

#include "store/store_impl.h"

int cu_store_item_insert(cu_store *s, const cu_item_row *r, cu_err *err)
{
    return cu_st_exec(s, ST_ITEM_INSERT, "adding an item",
                      CU_ARGS(cu_vt(r->subject_id), cu_vt(r->id), cu_vt(r->category),
                              cu_vt(r->field), cu_vt(r->source), cu_vi(r->collected_at),
                              cu_vt(r->recorded_by), cu_vi(r->recorded_at),
                              cu_vi(r->updated_at), cu_vb0(r->value, r->value_len),
                              cu_vi(r->version > 0 ? r->version : 1)),
                      err);
}

typedef struct item_ctx {
    cu_item_cb cb;
    void *ctx;
    size_t n, limit; /* item_page: rows seen, and the page's size */
    bool more;
} item_ctx;

/* The columns of ST_ITEM_EACH, _GET, _PAGE and _NAMED, in order. */
static int item_row(void *ctx, const cu_val *c)
{
    item_ctx *k = ctx;
    cu_item_row r = {
        .id = cu_ct(&c[0]),
        .subject_id = cu_ct(&c[1]),
        .category = cu_ct(&c[2]),
        .field = cu_ct(&c[3]),
        .source = cu_ct(&c[4]),
        .recorded_by = cu_ct(&c[5]),
        .collected_at = c[6].i,
        .recorded_at = c[7].i,
        .updated_at = c[8].i,
        .value = cu_cb(&c[9]),
        .value_len = c[9].n,
        .version = c[10].i,
    };
    return k->cb(k->ctx, &r);
}

int cu_store_item_each(cu_store *s, const char *subject_id, cu_item_cb cb, void *ctx,
                       cu_err *err)
{
    item_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_ITEM_EACH, "reading items", CU_ARGS(cu_vt(subject_id)), item_row,
                     &k, NULL, err);
}

/* A code no callback returns: the page is full and one more row exists. */
#define PAGE_MORE (-1)

static int page_row(void *ctx, const cu_val *c)
{
    item_ctx *k = ctx;
    if (k->n++ == k->limit) {
        k->more = true;
        return PAGE_MORE;
    }
    return item_row(ctx, c);
}

int cu_store_item_page(cu_store *s, const char *subject_id, const char *after_id, size_t limit,
                       cu_item_cb cb, void *ctx, bool *more, cu_err *err)
{
    *more = false;
    if (limit == 0 || limit > CU_STORE_PAGE_MAX)
        return cu_err_set(err, CU_EINVAL, "a page holds 1 to %d items", CU_STORE_PAGE_MAX);
    item_ctx k = {.cb = cb, .ctx = ctx, .limit = limit};
    /* One more than the page: are there more? */
    int rc = cu_st_run(s, ST_ITEM_PAGE, "reading items",
                       CU_ARGS(cu_vt(subject_id), cu_vt(after_id ? after_id : ""),
                               cu_vi((int64_t)limit + 1)),
                       page_row, &k, NULL, err);
    *more = k.more;
    return rc == PAGE_MORE ? CU_OK : rc;
}

int cu_store_subject_read_ahead(cu_store *s, const char *subject_id, const char *user_id,
                                size_t limit, cu_err *err)
{
    if (limit > CU_STORE_PAGE_MAX)
        return cu_err_set(err, CU_EINVAL, "a page holds 1 to %d items", CU_STORE_PAGE_MAX);
    /* The arguments exactly as cu_store_subject_get, cu_store_care_get,
     * cu_store_subject_key_get and cu_store_item_page bind them. */
    const cu_val subj[] = {cu_vt(subject_id)};
    const cu_val care[] = {cu_vt(user_id), cu_vt(subject_id)};
    const cu_val page[] = {cu_vt(subject_id), cu_vt(""), cu_vi((int64_t)limit + 1)};
    cu_stmt_call calls[4] = {{ST_SUBJ_GET, subj, 1}, {ST_SKEY_GET, subj, 1}};
    size_t n = 2;
    if (user_id && *user_id)
        calls[n++] = (cu_stmt_call){ST_CARE_HAS, care, 2};
    if (limit)
        calls[n++] = (cu_stmt_call){ST_ITEM_PAGE, page, 3};
    return cu_st_read_ahead(s, "reading a subject", calls, n, err);
}

int cu_store_item_each_named(cu_store *s, const char *subject_id, const char *const *fields,
                             size_t n, cu_item_cb cb, void *ctx, cu_err *err)
{
    if (n > 8)
        return cu_err_set(err, CU_EINVAL, "at most 8 field names at a time");
    cu_val args[9] = {cu_vt(subject_id)};
    for (size_t i = 0; i < 8; i++)
        args[i + 1] = cu_vt(i < n ? fields[i] : NULL);
    item_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_run(s, ST_ITEM_NAMED, "reading items", args, 9, item_row, &k, NULL, err);
}

int cu_store_item_get(cu_store *s, const char *subject_id, const char *item_id, cu_item_cb cb,
                      void *ctx, cu_err *err)
{
    item_ctx k = {.cb = cb, .ctx = ctx};
    return cu_st_one(s, ST_ITEM_GET, "reading an item",
                     CU_ARGS(cu_vt(subject_id), cu_vt(item_id)), item_row, &k, err);
}

int cu_store_item_update_value(cu_store *s, const char *subject_id, const char *item_id,
                               const void *sealed, size_t n, int64_t updated_at,
                               int64_t version, cu_err *err)
{
    return cu_st_exec1(s, ST_ITEM_UPDATE, "updating an item",
                       CU_ARGS(cu_vt(subject_id), cu_vt(item_id), cu_vb0(sealed, n),
                               cu_vi(updated_at), cu_vi(version)),
                       err);
}

int cu_store_item_delete_subject(cu_store *s, const char *subject_id, cu_err *err)
{
    return cu_st_exec(s, ST_ITEM_DELETE_SUBJ, "deleting items", CU_ARGS(cu_vt(subject_id)),
                      err);
}

int cu_store_item_delete(cu_store *s, const char *subject_id, const char *item_id, cu_err *err)
{
    int rc = cu_st_exec1(s, ST_ITEM_DELETE, "deleting an item",
                         CU_ARGS(cu_vt(subject_id), cu_vt(item_id)), err);
    return rc == CU_ENOTFOUND ? cu_err_set(err, CU_ENOTFOUND, "no item %s", item_id) : rc;
}

int cu_store_item_reseal(cu_store *s, const char *subject_id, const char *item_id,
                         const void *sealed, size_t n, int64_t version, cu_err *err)
{
    return cu_st_exec(s, ST_ITEM_RESEAL, "re-encrypting an item",
                      CU_ARGS(cu_vt(subject_id), cu_vt(item_id), cu_vb0(sealed, n),
                              cu_vi(version)),
                      err);
}

/* ---- identifiers ---- */

int cu_store_ident_insert(cu_store *s, const char *kind, const unsigned char *bidx, size_t n,
                          const char *subject_id, const char *item_id, cu_err *err)
{
    return cu_st_exec(s, ST_IDENT_INSERT, "indexing an identifier",
                      CU_ARGS(cu_vt(kind), cu_vb0(bidx, n), cu_vt(subject_id), cu_vt(item_id)),
                      err);
}

typedef struct ident_ctx {
    cu_ident_cb cb;
    void *ctx;
} ident_ctx;

static int ident_row(void *ctx, const cu_val *c)
{
    ident_ctx *k = ctx;
    return k->cb(k->ctx, cu_ct(&c[0]), cu_ct(&c[1]));
}

int cu_store_ident_find(cu_store *s, const char *kind, const unsigned char *bidx, size_t n,
                        cu_ident_cb cb, void *ctx, cu_err *err)
{
    ident_ctx k = {cb, ctx};
    return cu_st_run(s, ST_IDENT_FIND, "searching identifiers",
                     CU_ARGS(cu_vt(kind), cu_vb0(bidx, n)), ident_row, &k, NULL, err);
}

int cu_store_ident_delete_item(cu_store *s, const char *subject_id, const char *item_id,
                               cu_err *err)
{
    return cu_st_exec(s, ST_IDENT_DELETE_ITEM, "removing an identifier",
                      CU_ARGS(cu_vt(subject_id), cu_vt(item_id)), err);
}

int cu_store_ident_delete_subject(cu_store *s, const char *subject_id, cu_err *err)
{
    return cu_st_exec(s, ST_IDENT_DELETE_SUBJ, "removing identifiers",
                      CU_ARGS(cu_vt(subject_id)), err);
}
