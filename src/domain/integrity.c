#include "domain/integrity.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/subject_rows.h"
#include "domain/vault_impl.h"

/* Every family of authenticated rows. A table whose rows matter for who may
 * see what, or for what a read returns, has an entry here. */
static const cu_row_family *const families[] = {
    &cu_family_controllers,
    &cu_family_subjects,
    &cu_staff_rows,
    &cu_policy_rows,
    &cu_consent_rows,
    &cu_request_rows,
    &cu_node_rows,
    &cu_questionnaire_rows,
    &cu_qlink_rows,
    &cu_pathway_rows,
    &cu_task_rows,
    &cu_portal_rows,
    &cu_pcookie_rows,
    NULL, /* end */
};

bool cu_vault_sealed(const cu_vault *v)
{
    return v->integrity_key != NULL;
}

int cu_vault_csrf_key(const cu_vault *v, cu_key *out, cu_err *err)
{
    if (!v->integrity_key)
        return cu_err_set(err, CU_EKEY, "the store has no integrity key (custos verify --seal)");
    cu_key_derive(v->integrity_key, 1, "custcsrf", out);
    return CU_OK;
}

void cu_row_mac_begin(cu_vault *v, cu_mac *m, const char *table)
{
    assert(v->integrity_key);
    char domain[64];
    size_t n = strlen(table);
    if (n > sizeof domain - 20)
        n = sizeof domain - 20;
    memcpy(domain, "custos/v1/row/", 14);
    memcpy(domain + 14, table, n);
    domain[14 + n] = '\0';
    cu_mac_init(m, v->integrity_key, domain);
}

void cu_meta_counter_key(const char *name, const char *controller_id,
                         char key[CU_META_COUNTER_KEY])
{
    snprintf(key, CU_META_COUNTER_KEY, "%s/%s", name, controller_id);
}

static void counter_mac(cu_vault *v, const char *name, const char *controller_id, int64_t n,
                        unsigned char out[CU_HASH_BYTES])
{
    cu_mac m;
    cu_row_mac_begin(v, &m, name);
    cu_mac_str(&m, controller_id);
    cu_mac_i64(&m, n);
    cu_mac_final(&m, out);
}

int cu_meta_counter_put(cu_vault *v, const char *name, const char *controller_id, int64_t n,
                        cu_err *err)
{
    unsigned char val[8 + CU_HASH_BYTES];
    for (int i = 0; i < 8; i++)
        val[i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    counter_mac(v, name, controller_id, n, val + 8);
    char key[CU_META_COUNTER_KEY];
    cu_meta_counter_key(name, controller_id, key);
    return cu_store_meta_put(v->store, key, val, sizeof val, err);
}

int cu_meta_counter_get(cu_vault *v, const char *name, const char *controller_id, int64_t *n,
                        cu_err *err)
{
    *n = 0;
    char key[CU_META_COUNTER_KEY];
    cu_meta_counter_key(name, controller_id, key);
    cu_buf b;
    cu_buf_init(&b, 64);
    int rc = cu_store_meta_get(v->store, key, &b, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        rc = CU_OK;
    } else if (!rc) {
        unsigned char mac[CU_HASH_BYTES];
        uint64_t u = 0;
        for (int i = 0; b.len == sizeof mac + 8 && i < 8; i++)
            u = u << 8 | b.data[i];
        counter_mac(v, name, controller_id, (int64_t)u, mac);
        if (b.len != sizeof mac + 8 || !cu_ct_equal(mac, b.data + 8, sizeof mac))
            rc = cu_err_set(err, CU_ETAMPER, "meta %s has been altered", key);
        else
            *n = (int64_t)u;
    }
    cu_buf_release(&b);
    return rc;
}

typedef struct count_ctx {
    cu_row_report_cb report;
    void *ctx;
    int64_t bad;
    char first[160];
} count_ctx;

static int count_bad(void *ctx, const char *table, const char *row, const char *problem)
{
    count_ctx *c = ctx;
    if (c->bad++ == 0)
        snprintf(c->first, sizeof c->first, "%s %s: %s", table, row, problem);
    return c->report ? c->report(c->ctx, table, row, problem) : 0;
}

int cu_integrity_verify(cu_vault *v, cu_row_report_cb report, void *ctx, int64_t *rows,
                        int64_t *bad, cu_err *err)
{
    *rows = *bad = 0;
    if (!cu_vault_sealed(v))
        return cu_err_set(err, CU_ETAMPER,
                          "the store's rows are not authenticated (no integrity key)");
    int rc = cu_store_begin(v->store, err);
    if (rc)
        return rc;
    count_ctx c = {.report = report, .ctx = ctx};
    v->integrity_walk = true; /* cu_op_check_subject_key, for the walk only */
    for (size_t i = 0; !rc && families[i]; i++) {
        int64_t n = 0;
        rc = families[i]->walk(v, false, count_bad, &c, &n, err);
        *rows += n;
    }
    v->integrity_walk = false;
    cu_store_rollback(v->store);
    *bad = c.bad;
    if (!rc && c.bad)
        rc = cu_err_set(err, CU_ETAMPER, "%lld row%s failed authentication; first: %s",
                        (long long)c.bad, c.bad == 1 ? "" : "s", c.first);
    return rc;
}

int cu_integrity_seal(cu_vault *v, const cu_actor *a, int64_t *rows, cu_err *err)
{
    *rows = 0;
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, "key", err);
    if (rc)
        return rc;
    rc = cu_op_authorise(v, &op, err);
    bool made = !rc && !v->integrity_key;
    if (!rc)
        rc = cu_vault_make_integrity_key(v, err);
    if (!rc) /* a trail made before trails were pinned is pinned once it verifies */
        rc = cu_audit_pin_legacy(v, err);
    v->integrity_walk = true; /* cu_op_check_subject_key, for the walk only */
    for (size_t i = 0; !rc && families[i]; i++) {
        int64_t n = 0;
        rc = families[i]->walk(v, true, NULL, NULL, &n, err);
        *rows += n;
    }
    v->integrity_walk = false;
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (rc && made) { /* the key was rolled back with the rest */
        cu_key_free(v->integrity_key);
        v->integrity_key = NULL;
    }
    return rc;
}
