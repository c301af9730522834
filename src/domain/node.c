#include "domain/node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/integrity.h"
#include "domain/vault_impl.h"
#include "util/clock.h"

bool cu_node_name_valid(const char *name)
{
    if (!name || !name[0])
        return false;
    size_t n = strlen(name);
    if (n >= CU_NODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')))
            return false;
    }
    return true;
}

const char *cu_vault_node(const cu_vault *v)
{
    return v->node;
}

void cu_node_release(cu_vault *v)
{
    cu_signer_free(v->node_signer);
    cu_key_free(v->node_seed);
    v->node_signer = NULL;
    v->node_seed = NULL;
    free(v->node_keys);
    v->node_keys = NULL;
    v->nnode_keys = 0;
}

static void node_mac(cu_vault *v, const cu_node_key_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "node_keys");
    cu_mac_str(m, r->node);
    cu_mac_bytes(m, r->public_key, sizeof r->public_key);
    cu_mac_i64(m, r->created_at);
}

static bool node_row_ok(cu_vault *v, const cu_node_key_row *r)
{
    if (!r->mac_len || !cu_vault_sealed(v))
        return false;
    cu_mac m;
    node_mac(v, r, &m);
    return cu_mac_check(&m, r->mac, r->mac_len);
}

static int remember(cu_vault *v, const char *node, const unsigned char pk[CU_PUBKEY_BYTES])
{
    struct cu_node_pk *n = realloc(v->node_keys, (v->nnode_keys + 1) * sizeof *n);
    if (!n)
        return CU_ENOMEM;
    v->node_keys = n;
    memcpy(n[v->nnode_keys].node, node, strlen(node) + 1);
    memcpy(n[v->nnode_keys].pk, pk, CU_PUBKEY_BYTES);
    v->nnode_keys++;
    return CU_OK;
}

int cu_node_public_key(cu_vault *v, const char *node, unsigned char pk[CU_PUBKEY_BYTES],
                       cu_err *err)
{
    if (!node || !node[0]) {
        memcpy(pk, v->pubkey, CU_PUBKEY_BYTES);
        return CU_OK;
    }
    for (size_t i = 0; i < v->nnode_keys; i++) {
        if (strcmp(v->node_keys[i].node, node) == 0) {
            memcpy(pk, v->node_keys[i].pk, CU_PUBKEY_BYTES);
            return CU_OK;
        }
    }
    if (!cu_node_name_valid(node))
        return cu_err_set(err, CU_ETAMPER, "a signature names a node whose name is malformed");
    if (!cu_vault_sealed(v)) {
        /* No integrity key (opened only for checking): the node's key comes
         * from its seed in the keyring, which only the master key opens. */
        char kname[64];
        snprintf(kname, sizeof kname, "node/%s", node);
        cu_key *seed = NULL;
        int krc = cu_vault_keyring_load(v, kname, &seed, err);
        if (krc == CU_ENOTFOUND) {
            cu_err_clear(err);
            return cu_err_set(err, CU_ETAMPER, "node %s has no key in the keyring", node);
        }
        if (krc)
            return krc;
        cu_sign_public(seed, pk);
        cu_key_free(seed);
        return remember(v, node, pk) ? cu_err_set(err, CU_ENOMEM, "out of memory") : CU_OK;
    }
    cu_node_key_row r;
    int rc = cu_store_node_key_get(v->store, node, &r, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        return cu_err_set(err, CU_ETAMPER, "node %s has no recorded key", node);
    }
    if (rc)
        return rc;
    if (!node_row_ok(v, &r))
        return cu_err_set(err, CU_ETAMPER, "node_keys %s has been %s", node,
                          r.mac_len ? "altered" : "forged (no row code)");
    memcpy(pk, r.public_key, CU_PUBKEY_BYTES);
    if (remember(v, node, r.public_key))
        return cu_err_set(err, CU_ENOMEM, "out of memory");
    return CU_OK;
}

typedef struct each_ctx {
    cu_vault *v;
    cu_node_cb cb;
    void *ctx;
    cu_err *err;
} each_ctx;

static int each_row(void *ctx, const cu_node_key_row *r)
{
    each_ctx *e = ctx;
    if (!node_row_ok(e->v, r))
        return cu_err_set(e->err, CU_ETAMPER, "node_keys %s has been %s", r->node,
                          r->mac_len ? "altered" : "forged (no row code)");
    return e->cb(e->ctx, r->node, r->public_key);
}

int cu_node_each(cu_vault *v, cu_node_cb cb, void *ctx, cu_err *err)
{
    each_ctx e = {.v = v, .cb = cb, .ctx = ctx, .err = err};
    return cu_store_node_key_each(v->store, each_row, &e, err);
}

int cu_node_checkpoint_check(cu_vault *v, const cu_checkpoint *c, cu_err *err)
{
    unsigned char pk[CU_PUBKEY_BYTES];
    int rc = cu_node_public_key(v, c->node, pk, err);
    if (rc)
        return rc;
    unsigned char msg[CU_AUDIT_SIGMSG_MAX];
    size_t n = cu_audit_sigmsg(v->store_id, c, msg);
    if (!cu_sign_verify(pk, msg, n, c->sig)) {
        if (c->node[0])
            return cu_err_set(err, CU_ETAMPER, "its signature is not node %s's", c->node);
        return cu_err_set(err, CU_ETAMPER, "its signature is not the store's");
    }
    return CU_OK;
}

/* Checks that seed's public key is the one recorded for node name; when
 * made (a new seed, inside the transaction that stores it) records it. */
static int node_key_check(cu_vault *v, const char *name, const cu_key *seed, bool made,
                          cu_err *err)
{
    cu_node_key_row r = {.created_at = cu_now_us()};
    unsigned char pk[CU_PUBKEY_BYTES];
    cu_sign_public(seed, pk);
    int rc = cu_store_node_key_get(v->store, name, &r, err);
    if (rc == CU_ENOTFOUND && made) {
        cu_err_clear(err);
        memset(&r, 0, sizeof r);
        memcpy(r.node, name, strlen(name) + 1);
        memcpy(r.public_key, pk, sizeof pk);
        r.created_at = cu_now_us();
        cu_mac m;
        node_mac(v, &r, &m);
        cu_mac_final(&m, r.mac);
        r.mac_len = CU_HASH_BYTES;
        return cu_store_node_key_put(v->store, &r, err);
    }
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        return cu_err_set(err, CU_ETAMPER, "node %s has a key in the keyring but no recorded "
                                           "public key (node_keys)", name);
    }
    if (rc)
        return rc;
    if (!node_row_ok(v, &r))
        return cu_err_set(err, CU_ETAMPER, "node_keys %s has been %s", name,
                          r.mac_len ? "altered" : "forged (no row code)");
    if (!cu_ct_equal(r.public_key, pk, sizeof pk))
        return cu_err_set(err, CU_ETAMPER, "the recorded public key of node %s is not its key",
                          name);
    return CU_OK;
}

/* Inside the open transaction: loads the node's seed from the keyring, or
 * makes it, and checks (or records) its public key. */
static int node_key_in_tx(cu_vault *v, const char *name, cu_key **seed, cu_err *err)
{
    char kname[64];
    snprintf(kname, sizeof kname, "node/%s", name);
    int rc = cu_vault_keyring_load(v, kname, seed, err);
    bool made = false;
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        if (!(*seed = cu_key_new_locked(NULL)))
            return cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
        made = true;
        rc = cu_vault_keyring_store(v, kname, *seed, err);
    }
    return rc ? rc : node_key_check(v, name, *seed, made, err);
}

int cu_vault_set_node(cu_vault *v, const char *name, cu_err *err)
{
    if (!cu_node_name_valid(name))
        return cu_err_set(err, CU_EINVAL, "a node name is 1 to %d letters, digits, '.', '_' or "
                                          "'-', beginning with a letter or digit",
                          CU_NODE_MAX - 1);
    if (!cu_vault_sealed(v))
        return CU_OK; /* opened for checking: the store's key signs */
    cu_key *seed = NULL;
    /* A node that has a key needs no writer lock to load it: a look first. */
    char kname[64];
    snprintf(kname, sizeof kname, "node/%s", name);
    int rc = cu_vault_keyring_load(v, kname, &seed, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        rc = cu_vault_tx_begin(v, err);
        if (rc)
            return rc;
        rc = node_key_in_tx(v, name, &seed, err);
        if (!rc)
            rc = cu_vault_tx_commit(v, err);
        else
            cu_store_rollback(v->store);
    } else if (!rc) {
        rc = node_key_check(v, name, seed, false, err);
    }
    cu_signer *signer = rc ? NULL : cu_signer_new(seed);
    if (!rc && !signer)
        rc = cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
    if (rc) {
        cu_key_free(seed);
        return rc;
    }
    cu_node_release(v);
    v->node_seed = seed;
    v->node_signer = signer;
    memcpy(v->node, name, strlen(name) + 1);
    return CU_OK;
}

/* ---- the node_keys family (integrity.c) ---- */

typedef struct node_walk {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    cu_node_key_row *p;
    size_t n, cap;
} node_walk;

static int node_walk_row(void *ctx, const cu_node_key_row *r)
{
    node_walk *w = ctx;
    w->rows++;
    if (!w->seal)
        return node_row_ok(w->v, r) ? CU_OK
                                    : w->report(w->rctx, "node_keys", r->node,
                                                r->mac_len ? "altered" : "forged (no row code)");
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        cu_node_key_row *np = realloc(w->p, cap * sizeof *np);
        if (!np)
            return CU_ENOMEM;
        w->p = np;
        w->cap = cap;
    }
    w->p[w->n++] = *r;
    return CU_OK;
}

static int node_family_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                            int64_t *rows, cu_err *err)
{
    node_walk w = {.v = v, .seal = seal, .report = report, .rctx = rctx};
    int rc = cu_store_node_key_each(v->store, node_walk_row, &w, err);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the node keys");
    for (size_t i = 0; !rc && i < w.n; i++) {
        cu_mac m;
        node_mac(v, &w.p[i], &m);
        cu_mac_final(&m, w.p[i].mac);
        rc = cu_store_node_key_set_mac(v->store, w.p[i].node, w.p[i].mac, CU_HASH_BYTES, err);
    }
    free(w.p);
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_node_rows = {.name = "node keys", .walk = node_family_walk};
