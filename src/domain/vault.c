#include "domain/vault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/keyfile.h"
#include "domain/audit.h"
#include "domain/keysched.h"
#include "domain/model.h"
#include "domain/questionnaire.h"
#include "domain/subject_rows.h"
#include "domain/vault_impl.h"
#include "util/clock.h"
#include "util/file.h"

#define KEY_NAME "master.key"
#define WRAP_CTX "custwrap"
#define KEYRING_INDEX "index_root"
#define KEYRING_SIGNING "audit_signing"
#define KEYRING_PSEUDONYM "pseudonym_root"
#define KEYRING_TOTP "totp"
#define KEYRING_REQUESTS "requests"
#define KEYRING_INTEGRITY "integrity"

static int paths(cu_vault *v, const char *dir, const char *key_path, cu_err *err)
{
    if (cu_strlcpy(v->dir, dir, sizeof v->dir))
        return cu_err_set(err, CU_EINVAL, "store path too long");
    if (key_path && *key_path) {
        if (cu_strlcpy(v->key_path, key_path, sizeof v->key_path))
            return cu_err_set(err, CU_EINVAL, "key path too long");
    } else if (snprintf(v->key_path, sizeof v->key_path, "%s/%s", dir, KEY_NAME) >=
               (int)sizeof v->key_path) {
        return cu_err_set(err, CU_EINVAL, "store path too long");
    }
    return CU_OK;
}

/* See cu_vault_set_database: "" for the SQLite file. */
static char database[4096];

int cu_vault_set_database(const char *url, cu_err *err)
{
    if (!url || !*url) {
        database[0] = '\0';
        return CU_OK;
    }
    if (!cu_store_is_database_url(url))
        return cu_err_set(err, CU_EINVAL,
                          "the database must be a postgresql:// or postgres:// URL");
    if (cu_strlcpy(database, url, sizeof database)) {
        cu_wipe(database, sizeof database);
        return cu_err_set(err, CU_EINVAL, "the database URL is too long");
    }
    return CU_OK;
}

const char *cu_vault_database(void)
{
    return database[0] ? database : NULL;
}

static int db_path(const cu_vault *v, char *out, size_t n, cu_err *err)
{
    return cu_store_location(v->dir, cu_vault_database(), out, n, err);
}

static size_t keyring_ad(const char *name, unsigned char out[64])
{
    size_t n = (size_t)snprintf((char *)out, 64, "custos/v1/keyring/%s", name);
    return n < 64 ? n : 63;
}

size_t cu_vault_dek_ad(const char *subject_id, int64_t version, unsigned char out[96])
{
    size_t n = (size_t)snprintf((char *)out, 96, "custos/v1/dek/%s/%lld", subject_id,
                                (long long)version);
    return n < 96 ? n : 95;
}

static void free_keys(cu_vault *v)
{
    cu_key_free(v->master);
    cu_key_free(v->wrap);
    cu_key_free(v->index_root);
    cu_key_free(v->signing_seed);
    cu_signer_free(v->signer);
    v->signer = NULL;
    cu_key_free(v->pseudonym_root);
    cu_key_free(v->totp_key);
    cu_key_free(v->requests_key);
    cu_key_free(v->integrity_key);
    v->integrity_key = NULL;
    v->master = v->wrap = v->index_root = v->signing_seed = NULL;
    v->pseudonym_root = v->totp_key = v->requests_key = NULL;
}

static void drop_policies(cu_vault *v)
{
    for (size_t i = 0; i < v->npolicies; i++)
        cu_policy_free(v->policies[i].policy);
    v->npolicies = 0;
    v->policies_stale = false;
}

void cu_vault_close(cu_vault *v)
{
    if (!v)
        return;
    if (v->batch)
        cu_vault_batch_abort(v);
    cu_auth_cache_free(v->auth_cache);
    cu_qcache_free(v->qcache);
    cu_pwcache_free(v->pwcache);
    cu_node_release(v);
    free(v->verified);
    free(v->qtitles);
    free(v->pin);
    cu_store_close(v->store);
    free_keys(v);
    drop_policies(v);
    free(v->policies);
    cu_holidays_release(&v->holidays);
    cu_wipe(v, sizeof *v);
    free(v);
}

/* Derives the wrapping key from master into locked memory. */
static cu_key *derive_wrap(const cu_key *master)
{
    cu_key tmp;
    cu_key_derive(master, 1, WRAP_CTX, &tmp);
    cu_key *k = cu_key_new_locked(&tmp);
    cu_key_wipe(&tmp);
    return k;
}

static void key_id_hex(const cu_key *k, char out[2 * CU_KEYID_BYTES + 1])
{
    unsigned char id[CU_KEYID_BYTES];
    cu_key_id(k, id);
    cu_hex(id, sizeof id, out);
}

static int keyring_store(cu_vault *v, const char *name, const cu_key *kek, const cu_key *key,
                         cu_err *err)
{
    unsigned char ad[64], w[CU_WRAPPED_KEY_BYTES];
    size_t adlen = keyring_ad(name, ad);
    cu_key_wrap(kek, ad, adlen, key, w);
    return cu_store_keyring_put(v->store, name, w, sizeof w, err);
}

/* Loads a keyring entry wrapped under kek; a missing one is CU_ENOTFOUND
 * when missing_ok. */
static int keyring_load_with(cu_vault *v, const cu_key *kek, const char *name, bool missing_ok,
                             cu_key **out, cu_err *err)
{
    cu_buf w;
    cu_buf_init(&w, 256);
    int rc = cu_store_keyring_get(v->store, name, &w, err);
    if (rc == CU_ENOTFOUND && !missing_ok)
        rc = cu_err_set(err, CU_ECORRUPT, "the store's keyring has no %s key", name);
    if (rc) {
        cu_buf_release(&w);
        return rc;
    }
    unsigned char ad[64];
    size_t adlen = keyring_ad(name, ad);
    cu_key tmp;
    rc = cu_key_unwrap(kek, ad, adlen, w.data, w.len, &tmp);
    cu_buf_release(&w);
    if (rc)
        return cu_err_set(err, CU_ECORRUPT, "the store's %s key does not open", name);
    *out = cu_key_new_locked(&tmp);
    cu_key_wipe(&tmp);
    return *out ? CU_OK : cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
}

static int keyring_load_opt(cu_vault *v, const char *name, bool missing_ok, cu_key **out,
                            cu_err *err)
{
    return keyring_load_with(v, v->wrap, name, missing_ok, out, err);
}

static int keyring_load(cu_vault *v, const char *name, cu_key **out, cu_err *err)
{
    return keyring_load_opt(v, name, false, out, err);
}

int cu_vault_keyring_store(cu_vault *v, const char *name, const cu_key *key, cu_err *err)
{
    return keyring_store(v, name, v->wrap, key, err);
}

int cu_vault_keyring_load(cu_vault *v, const char *name, cu_key **out, cu_err *err)
{
    return keyring_load_opt(v, name, true, out, err);
}

int cu_vault_init(const char *store_dir, const char *key_path, cu_err *err)
{
    cu_vault *v = calloc(1, sizeof *v);
    if (!v)
        return cu_err_set(err, CU_ENOMEM, "out of memory");
    char db[PATH_MAX + 16];
    int rc = paths(v, store_dir, key_path, err);
    if (!rc)
        rc = db_path(v, db, sizeof db, err);
    if (!rc && cu_store_exists(db))
        rc = cu_err_set(err, CU_ECONFLICT, "a store already exists in %s", store_dir);
    if (!rc)
        rc = cu_mkdir_p(store_dir, err);
    bool made_key = false, made_db = false;
    if (!rc) {
        rc = cu_keyfile_create(v->key_path, &v->master, err);
        if (rc == CU_ECONFLICT) {
            /* An operator-provided key: use it rather than overwrite it. */
            cu_err_clear(err);
            rc = cu_keyfile_load(v->key_path, &v->master, err);
        } else {
            made_key = rc == CU_OK;
        }
    }
    if (!rc && !(v->wrap = derive_wrap(v->master)))
        rc = cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
    if (!rc && !(rc = cu_store_open(db, true, &v->store, err)))
        made_db = true;
    if (!rc)
        rc = cu_store_begin(v->store, err);
    if (!rc) {
        char id[CU_ID_STRLEN], kid[2 * CU_KEYID_BYTES + 1];
        cu_random_id(id);
        key_id_hex(v->master, kid);
        cu_key idx, sig, mac;
        cu_key_random(&idx);
        cu_key_random(&sig);
        cu_key_random(&mac);
        char now[CU_TIME_STRLEN];
        int64_t now_us = cu_now_us();
        cu_time_format(now_us, now);
        rc = cu_store_meta_put(v->store, "store_id", id, strlen(id), err);
        if (!rc)
            rc = cu_store_meta_put(v->store, "master_key_id", kid, strlen(kid), err);
        if (!rc)
            rc = cu_store_meta_put(v->store, "created_at", now, strlen(now), err);
        if (!rc)
            rc = cu_key_schedule_mark(v, now_us, err);
        if (!rc)
            rc = keyring_store(v, KEYRING_INDEX, v->wrap, &idx, err);
        if (!rc)
            rc = keyring_store(v, KEYRING_SIGNING, v->wrap, &sig, err);
        if (!rc)
            rc = keyring_store(v, KEYRING_INTEGRITY, v->wrap, &mac, err);
        if (!rc) {
            unsigned char pk[CU_PUBKEY_BYTES];
            cu_sign_public(&sig, pk);
            rc = cu_store_meta_put(v->store, "audit_public_key", pk, sizeof pk, err);
        }
        /* The trail is pinned to its genesis from the start (audit.h). */
        if (!rc) {
            cu_audit_pin pin = {.start = 1};
            cu_audit_genesis(id, pin.prev);
            rc = cu_audit_pin_put(v->store, id, &sig, NULL, &pin, err);
        }
        cu_key_wipe(&idx);
        cu_key_wipe(&sig);
        cu_key_wipe(&mac);
        rc = rc ? rc : cu_store_commit(v->store, err);
    }
    if (rc) {
        cu_store_close(v->store);
        v->store = NULL;
        if (made_db)
            cu_store_remove(db);
        if (made_key)
            unlink(v->key_path);
    }
    cu_vault_close(v);
    return rc;
}

/* Loads the key file at path when it holds the key with id want_id;
 * CU_ENOTFOUND (err untouched) when it is absent, unreadable or another key. */
static int load_if_id(const char *path, const char *want_id, cu_key **out)
{
    cu_key *k = NULL;
    if (cu_keyfile_load(path, &k, NULL))
        return CU_ENOTFOUND;
    char kid[2 * CU_KEYID_BYTES + 1];
    key_id_hex(k, kid);
    if (strlen(want_id) != sizeof kid - 1 || !cu_ct_equal(kid, want_id, sizeof kid - 1)) {
        cu_key_free(k);
        return CU_ENOTFOUND;
    }
    *out = k;
    return CU_OK;
}

/* Finds the master key the store records (want_id): in the key file, or in
 * <key>.next, where a rotation puts the new key before it commits and from
 * where it renames it over the key file once committed. Another process may
 * be renaming it at this very moment, so the key file is tried again after
 * <key>.next. *from_next says where it was found. CU_ENOTFOUND when neither
 * holds it. */
static int find_master(const cu_vault *v, const char *want_id, cu_key **out, bool *from_next)
{
    char next[PATH_MAX + 8];
    snprintf(next, sizeof next, "%s.next", v->key_path);
    *from_next = false;
    if (load_if_id(v->key_path, want_id, out) == CU_OK)
        return CU_OK;
    if (load_if_id(next, want_id, out) == CU_OK) {
        *from_next = true;
        return CU_OK;
    }
    return load_if_id(v->key_path, want_id, out);
}

/* Completes an interrupted rotation: the store records the key at <key>.next,
 * which is renamed over the key file. Another process completing the same
 * rotation first is not a failure. */
static int finish_rotation(cu_vault *v, cu_err *err)
{
    char next[PATH_MAX + 8];
    snprintf(next, sizeof next, "%s.next", v->key_path);
    if (rename(next, v->key_path) == 0)
        return cu_fsync_parent(v->key_path, err);
    cu_key *k = NULL;
    if (errno == ENOENT && load_if_id(v->key_path, v->key_id, &k) == CU_OK) {
        cu_key_free(k);
        return CU_OK;
    }
    return cu_err_set(err, CU_EIO, "cannot complete key rotation: rename %s to %s: %s", next,
                      v->key_path, strerror(errno));
}

typedef struct backfill {
    cu_vault *v;
    char (*ids)[2][CU_ID_STRLEN];
    size_t n, cap;
} backfill;

static int collect_unnamed(void *ctx, const char *subject_id, const char *controller_id)
{
    backfill *b = ctx;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char (*n)[2][CU_ID_STRLEN] = realloc(b->ids, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        b->ids = n;
        b->cap = cap;
    }
    cu_strlcpy(b->ids[b->n][0], subject_id, CU_ID_STRLEN);
    cu_strlcpy(b->ids[b->n][1], controller_id, CU_ID_STRLEN);
    b->n++;
    return 0;
}

/* Stores made before schema 2 lack the pseudonym and one-time-code keys and
 * their subjects lack pseudonyms: add them once, in one transaction. */
static int ensure_migration2_keys(cu_vault *v, cu_err *err)
{
    int rc = keyring_load_opt(v, KEYRING_PSEUDONYM, true, &v->pseudonym_root, err);
    if (!rc || rc == CU_ENOTFOUND) {
        int rc2 = keyring_load_opt(v, KEYRING_TOTP, true, &v->totp_key, err);
        rc = rc2 ? rc2 : rc;
    }
    if (rc && rc != CU_ENOTFOUND)
        return rc;
    backfill b = {.v = v};
    if (!rc) {
        /* A failure to look is the store's error, not a reason to write. */
        rc = cu_store_subject_without_pseudonym(v->store, collect_unnamed, &b, err);
        if (rc == CU_ENOMEM)
            rc = cu_err_set(err, rc, "out of memory assigning pseudonyms");
        if (rc || b.n == 0) {
            free(b.ids);
            return rc;
        }
    }
    cu_err_clear(err);
    if ((rc = cu_store_begin(v->store, err)))
        goto out;
    const char *names[] = {KEYRING_PSEUDONYM, KEYRING_TOTP};
    cu_key **slots[] = {&v->pseudonym_root, &v->totp_key};
    for (size_t i = 0; !rc && i < 2; i++) {
        if (*slots[i])
            continue;
        cu_key k;
        cu_key_random(&k);
        rc = keyring_store(v, names[i], v->wrap, &k, err);
        if (!rc && !(*slots[i] = cu_key_new_locked(&k)))
            rc = cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
        cu_key_wipe(&k);
    }
    b.n = 0;
    if (!rc)
        rc = cu_store_subject_without_pseudonym(v->store, collect_unnamed, &b, err);
    if (rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "out of memory assigning pseudonyms");
    for (size_t i = 0; !rc && i < b.n; i++) {
        char psn[CU_PSEUDONYM_STRLEN];
        cu_vault_pseudonym(v, b.ids[i][1], b.ids[i][0], psn);
        rc = cu_store_subject_set_pseudonym(v->store, b.ids[i][0], psn, err);
    }
    if (!rc)
        rc = cu_store_commit(v->store, err);
    else
        cu_store_rollback(v->store);
out:
    free(b.ids);
    return rc;
}

/* The requests key (migration 4) seals what staff record about a rights
 * request before its subject is known; a store made before it gets one. */
static int ensure_requests_key(cu_vault *v, cu_err *err)
{
    int rc = keyring_load_opt(v, KEYRING_REQUESTS, true, &v->requests_key, err);
    if (rc != CU_ENOTFOUND)
        return rc;
    cu_err_clear(err);
    if ((rc = cu_store_begin(v->store, err)))
        return rc;
    cu_key k;
    cu_key_random(&k);
    rc = keyring_store(v, KEYRING_REQUESTS, v->wrap, &k, err);
    if (!rc && !(v->requests_key = cu_key_new_locked(&k)))
        rc = cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
    cu_key_wipe(&k);
    if (!rc)
        rc = cu_store_commit(v->store, err);
    else
        cu_store_rollback(v->store);
    return rc;
}

void cu_vault_pseudonym(cu_vault *v, const char *controller_id, const char *subject_id,
                        char out[CU_PSEUDONYM_STRLEN])
{
    unsigned char h[CU_HASH_BYTES];
    char msg[2 * CU_ID_STRLEN + 2];
    int n = snprintf(msg, sizeof msg, "%s/%s", controller_id, subject_id);
    cu_blind_index(v->pseudonym_root, "custos/v1/pseudonym", msg, n > 0 ? (size_t)n : 0, h);
    memcpy(out, "psn_", 4);
    cu_hex(h, 16, out + 4);
}

void cu_vault_item_pseudonym(cu_vault *v, const char *controller_id, const char *item_id,
                             char out[CU_PSEUDONYM_STRLEN])
{
    unsigned char h[CU_HASH_BYTES];
    char msg[2 * CU_ID_STRLEN + 2];
    int n = snprintf(msg, sizeof msg, "%s/%s", controller_id, item_id);
    cu_blind_index(v->pseudonym_root, "custos/v1/item-pseudonym", msg, n > 0 ? (size_t)n : 0,
                   h);
    memcpy(out, "psi_", 4);
    cu_hex(h, 16, out + 4);
}

int cu_vault_make_integrity_key(cu_vault *v, cu_err *err)
{
    if (v->integrity_key)
        return CU_OK;
    cu_key k;
    cu_key_random(&k);
    int rc = keyring_store(v, KEYRING_INTEGRITY, v->wrap, &k, err);
    if (!rc && !(v->integrity_key = cu_key_new_locked(&k)))
        rc = cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
    cu_key_wipe(&k);
    return rc;
}

int cu_vault_load(const char *store_dir, const char *key_path, bool unsealed_ok, cu_vault **out,
                  cu_err *err)
{
    cu_vault *v = calloc(1, sizeof *v);
    if (!v)
        return cu_err_set(err, CU_ENOMEM, "out of memory");
    char db[PATH_MAX + 16];
    cu_buf meta;
    cu_buf_init(&meta, 4096);
    int rc = paths(v, store_dir, key_path, err);
    if (!rc)
        rc = db_path(v, db, sizeof db, err);
    if (!rc && !cu_store_exists(db))
        rc = cu_err_set(err, CU_ENOTFOUND, "no store in %s (run: custos init)", store_dir);
    if (!rc)
        rc = cu_store_open(db, false, &v->store, err);
    if (!rc) {
        rc = cu_store_meta_get(v->store, "store_id", &meta, err);
        if (rc == CU_ENOTFOUND || (!rc && meta.len != CU_ID_STRLEN - 1))
            rc = cu_err_set(err, CU_ECORRUPT, "the store has no valid store id");
        if (!rc)
            memcpy(v->store_id, meta.data, CU_ID_STRLEN);
    }
    if (!rc) {
        cu_buf_reset(&meta);
        rc = cu_store_meta_get(v->store, "master_key_id", &meta, err);
        if (rc == CU_ENOTFOUND)
            rc = cu_err_set(err, CU_ECORRUPT, "the store records no master key id");
    }
    if (!rc && meta.len != 2 * CU_KEYID_BYTES)
        rc = cu_err_set(err, CU_ECORRUPT, "the store records no valid master key id");
    if (!rc) {
        bool from_next = false;
        memcpy(v->key_id, meta.data, 2 * CU_KEYID_BYTES);
        v->key_id[2 * CU_KEYID_BYTES] = '\0';
        if (find_master(v, v->key_id, &v->master, &from_next) == CU_OK) {
            if (from_next)
                rc = finish_rotation(v, err);
        } else {
            /* Say why the key file is not the store's key. */
            cu_key *k = NULL;
            char kid[2 * CU_KEYID_BYTES + 1] = "";
            rc = cu_keyfile_load(v->key_path, &k, err);
            if (!rc) {
                key_id_hex(k, kid);
                cu_key_free(k);
                rc = cu_err_set(err, CU_EKEY,
                                "master key %s (id %.16s) does not match this store "
                                "(needs key id %.16s)",
                                v->key_path, kid, v->key_id);
            }
        }
    }
    if (!rc && !(v->wrap = derive_wrap(v->master)))
        rc = cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
    if (!rc)
        rc = keyring_load(v, KEYRING_INDEX, &v->index_root, err);
    if (!rc)
        rc = keyring_load(v, KEYRING_SIGNING, &v->signing_seed, err);
    if (!rc && !(v->signer = cu_signer_new(v->signing_seed)))
        rc = cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
    if (!rc) {
        cu_signer_public(v->signer, v->pubkey);
        cu_buf_reset(&meta);
        rc = cu_store_meta_get(v->store, "audit_public_key", &meta, err);
        if (rc == CU_ENOTFOUND || (!rc && (meta.len != CU_PUBKEY_BYTES ||
                                           !cu_ct_equal(meta.data, v->pubkey, CU_PUBKEY_BYTES))))
            rc = cu_err_set(err, CU_ETAMPER, "the audit public key recorded in the store does "
                                             "not match the store's signing key");
    }
    if (!rc)
        rc = cu_audit_load_head(v, err);
    if (!rc)
        rc = ensure_migration2_keys(v, err);
    if (!rc)
        rc = ensure_requests_key(v, err);
    /* The integrity key is never made here: see integrity.h. */
    if (!rc) {
        rc = keyring_load_opt(v, KEYRING_INTEGRITY, true, &v->integrity_key, err);
        if (rc == CU_ENOTFOUND) {
            cu_err_clear(err);
            rc = unsealed_ok ? CU_OK
                             : cu_err_set(err, CU_ETAMPER,
                                          "the store's rows are not authenticated (no integrity "
                                          "key): check it with `custos verify`, then seal it "
                                          "with `custos verify --seal`");
        }
    }
    /* Recovery (re-applying the erasure ledger, removing what an interrupted
     * backup left) is the caller's: cu_vault_open in recover.c. */
    cu_buf_release(&meta);
    if (rc) {
        cu_vault_close(v);
        return rc;
    }
    *out = v;
    return CU_OK;
}

const char *cu_vault_key_path(const cu_vault *v)
{
    return v->key_path;
}

const char *cu_vault_store_id(const cu_vault *v)
{
    return v->store_id;
}

int64_t cu_vault_audit_seq(const cu_vault *v)
{
    return v->head_seq;
}

void cu_vault_public_key(const cu_vault *v, char out[2 * CU_PUBKEY_BYTES + 1])
{
    cu_hex(v->pubkey, CU_PUBKEY_BYTES, out);
}

/* ---- transactions ---- */

/* A transaction that appended to the erasure ledger was undone: the ledger
 * is ahead of the store until its entries are applied again. */
static void ledger_undone(cu_vault *v)
{
    if (v->ledger_in_tx)
        v->ledger_ahead = true;
    v->ledger_in_tx = false;
}

/* After a rollback the cached head is stale; every transaction reloads it at
 * its start, so a failure to reload here only delays that. */
static void reload_head(cu_vault *v)
{
    if (cu_audit_load_head(v, NULL) != CU_OK)
        v->signed_seq = v->head_seq;
}

/* A rotation by another process (or another node on the same database) has
 * replaced the master key: load the key the store now records (want_id),
 * derive the wrapping key and reload every keyring key under it. Runs inside
 * a write transaction, so no further rotation can commit meanwhile; nothing
 * in memory changes unless everything loads. */
static int reload_master(cu_vault *v, const char *want_id, cu_err *err)
{
    static const char *const names[] = {KEYRING_INDEX, KEYRING_SIGNING,  KEYRING_PSEUDONYM,
                                        KEYRING_TOTP,  KEYRING_REQUESTS, KEYRING_INTEGRITY};
    enum { NKEYS = sizeof names / sizeof names[0] };
    cu_key *master = NULL, *wrap = NULL, *ks[NKEYS] = {0};
    cu_signer *signer = NULL;
    bool from_next = false;
    if (strlen(want_id) != 2 * CU_KEYID_BYTES || find_master(v, want_id, &master, &from_next))
        return cu_err_set(err, CU_EKEY,
                          "the store's master key has been rotated to key id %.16s, which "
                          "neither %s nor %s.next holds; nothing was done",
                          want_id, v->key_path, v->key_path);
    int rc = (wrap = derive_wrap(master)) ? CU_OK
                                          : cu_err_set(err, CU_ENOMEM,
                                                       "cannot allocate locked memory");
    /* The integrity key may be absent only from a store opened for checking. */
    for (size_t i = 0; !rc && i < NKEYS; i++) {
        bool optional = i == 5 && !v->integrity_key;
        rc = keyring_load_with(v, wrap, names[i], optional, &ks[i], err);
        if (rc == CU_ENOTFOUND && optional) {
            cu_err_clear(err);
            rc = CU_OK;
        }
    }
    if (!rc && !(signer = cu_signer_new(ks[1])))
        rc = cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
    if (!rc) {
        unsigned char pk[CU_PUBKEY_BYTES];
        cu_signer_public(signer, pk);
        if (!cu_ct_equal(pk, v->pubkey, sizeof pk))
            rc = cu_err_set(err, CU_ETAMPER, "the audit signing key under the new master key "
                                             "does not match the store's public key");
    }
    if (rc) {
        cu_key_free(master);
        cu_key_free(wrap);
        for (size_t i = 0; i < NKEYS; i++)
            cu_key_free(ks[i]);
        cu_signer_free(signer);
        return rc;
    }
    free_keys(v);
    v->master = master;
    v->wrap = wrap;
    v->index_root = ks[0];
    v->signing_seed = ks[1];
    v->signer = signer;
    v->pseudonym_root = ks[2];
    v->totp_key = ks[3];
    v->requests_key = ks[4];
    v->integrity_key = ks[5];
    memcpy(v->key_id, want_id, sizeof v->key_id);
    return CU_OK;
}

/* Whether the store still names the master key in memory; if another
 * process has rotated it, the new key is loaded before anything is wrapped
 * or unwrapped. */
static int check_master(cu_vault *v, cu_err *err)
{
    cu_buf meta;
    cu_buf_init(&meta, 256);
    int rc = cu_store_meta_get(v->store, "master_key_id", &meta, err);
    if (rc == CU_ENOTFOUND)
        rc = cu_err_set(err, CU_ECORRUPT, "the store records no master key id");
    if (!rc && (meta.len != 2 * CU_KEYID_BYTES ||
                memcmp(meta.data, v->key_id, 2 * CU_KEYID_BYTES) != 0))
        rc = reload_master(v, cu_buf_str(&meta), err);
    cu_buf_release(&meta);
    return rc;
}

int cu_vault_tx_begin(cu_vault *v, cu_err *err)
{
    bool fresh = v->head_fresh;
    v->head_fresh = false;
    int rc = cu_store_begin(v->store, err);
    /* The change counter cu_store_begin has just read changes when another
     * process has committed since: that commit may have rotated the master
     * key (checked before anything else in the transaction) or changed a
     * policy (the cached ones are dropped). A failed check leaves the
     * counter unrecorded, so the next transaction checks again. */
    int64_t dv = rc ? 0 : cu_store_change_counter(v->store);
    if (!rc && dv != v->changes && (rc = check_master(v, err)))
        cu_store_rollback(v->store);
    /* The audit head is loaded under the lock, so the next event chains on
     * from whatever any connection appended last; unless this is the very
     * next transaction on this handle after this vault's own commit, and no
     * other connection has committed since (neither counter has moved: the
     * trail counter also moves with another node's audited reads, which
     * leave the change counter, and so the other caches, alone): then the
     * head in memory is what the store holds (docs/design.md, Several
     * nodes). */
    int64_t tr = rc ? 0 : cu_store_trail_counter(v->store);
    fresh = fresh && cu_store_tx_seq(v->store) == v->head_tx + 1 && dv == v->changes &&
            tr == v->trail;
    if (!rc && !fresh && (rc = cu_audit_load_head(v, err)))
        cu_store_rollback(v->store);
    if (!rc)
        v->trail = tr;
    /* Likewise the tasks rows counted in that transaction (tasks.c): no
     * commit of any other connection or program since, so the rows are
     * still what they were, and the next raise need not count them again.
     * Only where the counter sees every commit (SQLite); elsewhere each
     * write transaction counts once. */
    if (!rc && fresh && v->tasks_seen.tx && v->tasks_seen.tx == v->head_tx &&
        cu_store_change_counter_complete(v->store))
        v->tasks_seen.tx = cu_store_tx_seq(v->store);
    if (!rc && dv != v->changes) {
        cu_items_verified_forget(v);
        cu_questionnaire_titles_forget(v);
    }
    if (!rc && (dv != v->changes || v->policies_stale)) {
        drop_policies(v);
        v->changes = dv;
    }
    return rc;
}

void cu_vault_policies_changed(cu_vault *v)
{
    drop_policies(v);
    v->policies_stale = true; /* and again when this transaction ends */
}

typedef struct load_ctx {
    cu_vault *v;
    cu_policy *p;
    cu_err *err;
} load_ctx;

static int load_policy(void *ctx, const cu_policy_row *r)
{
    load_ctx *c = ctx;
    /* The row, its document and that it is the latest version (consent.c). */
    int rc = cu_policy_row_check(c->v, r, true, c->err);
    if (rc)
        return rc;
    rc = cu_policy_parse(r->document, r->document_len, &c->p, NULL, c->err);
    if (rc)
        return cu_err_set(c->err, CU_ECORRUPT, "policy version %lld of controller %s does not "
                                               "parse", (long long)r->version, r->controller_id);
    c->p->version = r->version;
    c->p->applied_at = r->applied_at;
    if (r->digest_len * 2 < sizeof c->p->digest)
        cu_hex(r->digest, r->digest_len, c->p->digest);
    return CU_OK;
}

int cu_vault_policy(cu_vault *v, const char *controller_id, const cu_policy **out, cu_err *err)
{
    *out = NULL;
    for (size_t i = 0; i < v->npolicies; i++)
        if (strcmp(v->policies[i].controller_id, controller_id) == 0) {
            *out = v->policies[i].policy;
            return CU_OK;
        }
    load_ctx c = {.v = v, .err = err};
    int rc = cu_store_policy_get(v->store, controller_id, 0, load_policy, &c, err);
    if (rc && rc != CU_ENOTFOUND)
        return rc;
    if (v->npolicies == v->policies_cap) {
        size_t cap = v->policies_cap ? v->policies_cap * 2 : 8;
        struct cu_policy_slot *n = realloc(v->policies, cap * sizeof *n);
        if (!n) {
            cu_policy_free(c.p);
            return cu_err_set(err, CU_ENOMEM, "out of memory caching a policy");
        }
        v->policies = n;
        v->policies_cap = cap;
    }
    struct cu_policy_slot *slot = &v->policies[v->npolicies++];
    cu_strlcpy(slot->controller_id, controller_id, sizeof slot->controller_id);
    slot->policy = c.p;
    *out = c.p;
    return CU_OK;
}

int cu_vault_tx_commit(cu_vault *v, cu_err *err)
{
    int rc = cu_audit_seal_head(v, err);
    if (!rc)
        rc = cu_store_commit(v->store, err);
    if (rc) {
        cu_store_rollback(v->store);
        reload_head(v);
        ledger_undone(v);
    } else {
        v->head_fresh = true;
        v->head_tx = cu_store_tx_seq(v->store);
    }
    v->ledger_in_tx = false;
    v->signed_seq = v->head_seq;
    return rc;
}

int cu_vault_write(cu_vault *v, cu_vault_write_fn write, void *ctx, cu_err *err)
{
    int rc;
    if (v->batch) {
        if (v->batch_failed)
            return cu_err_set(err, CU_EIO, "an earlier operation of this batch could not be "
                                           "written; nothing of the batch is stored");
        if ((rc = cu_store_savepoint(v->store, err)))
            return rc;
        if ((rc = write(v, ctx, err))) {
            cu_store_rollback_to(v->store);
            return rc;
        }
        return cu_store_release(v->store, err);
    }
    if (cu_store_in_tx(v->store))
        return write(v, ctx, err);
    if ((rc = cu_vault_tx_begin(v, err)))
        return rc;
    rc = write(v, ctx, err);
    return rc ? (cu_store_rollback(v->store), rc) : cu_vault_tx_commit(v, err);
}

int cu_vault_batch_begin(cu_vault *v, cu_err *err)
{
    if (v->batch)
        return cu_err_set(err, CU_EINTERNAL, "a batch is already open");
    int rc = cu_vault_tx_begin(v, err);
    if (!rc)
        v->batch = true;
    return rc;
}

int cu_vault_batch_commit(cu_vault *v, cu_err *err)
{
    if (!v->batch)
        return cu_err_set(err, CU_EINTERNAL, "no batch is open");
    if (v->batch_failed) {
        cu_vault_batch_abort(v);
        return cu_err_set(err, CU_EIO, "an operation of the batch could not be written; "
                                       "nothing of the batch was stored");
    }
    v->batch = false;
    int rc = cu_vault_tx_commit(v, err);
    if (!rc && v->shred_pending && cu_store_compact_log(v->store, NULL) != CU_OK) {
        /* see cu_subject_erase: a later compaction does it */
    }
    v->shred_pending = false;
    return rc;
}

void cu_vault_batch_abort(cu_vault *v)
{
    v->batch = false;
    v->batch_failed = false;
    v->shred_pending = false;
    cu_store_rollback(v->store);
    reload_head(v);
    ledger_undone(v);
}

void cu_vault_batch_fail(cu_vault *v)
{
    cu_store_rollback(v->store);
    reload_head(v);
    ledger_undone(v);
    v->shred_pending = false;
    v->batch_failed = true;
    /* Whatever the batch's later requests write without an operation (a
     * session's last use) goes into a transaction its commit undoes, not
     * straight to disk. If even that cannot begin, they write nothing: every
     * operation is refused. */
    cu_err e = {0};
    if (cu_vault_tx_begin(v, &e) != CU_OK)
        cu_err_clear(&e);
}

unsigned cu_vault_batch_limit(const cu_vault *v)
{
    return cu_store_batch_limit(v->store);
}

bool cu_vault_take_retry(cu_vault *v)
{
    return cu_store_take_retry(v->store);
}

void cu_vault_backoff(unsigned attempts)
{
    /* A few milliseconds, random, so that two writers that collided do not
     * collide again in step: 1-4 ms after the first attempt, 2-7 after the
     * second. */
    uint32_t r = 0;
    cu_random(&r, sizeof r);
    unsigned shift = attempts > 1 && attempts < 8 ? attempts - 1 : 0;
    long us = (long)(1000u << shift) * (1 + (long)(r % 3000u) / 1000) + (long)(r % 1000u);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

bool cu_vault_rerun(cu_vault *v, int rc, unsigned attempts)
{
    bool noted = cu_store_take_retry(v->store);
    /* An I/O failure after a retryable one: PostgreSQL refuses every later
     * command of a transaction it aborted, and fails its commit. */
    if (rc != CU_ERETRY && !(rc == CU_EIO && noted))
        return false;
    if (attempts >= CU_TX_ATTEMPTS || cu_store_in_tx(v->store) || v->batch)
        return false;
    /* An erasure of the undone attempt reached the erasure ledger: it is
     * completed from the ledger (cu_erasure_catch_up, or the next open), as
     * after any failure, not run again (it would find the ledger ahead of
     * the store and refuse to write). */
    if (v->ledger_ahead)
        return false;
    cu_vault_backoff(attempts);
    return true;
}

int cu_vault_health_probe(cu_vault *v, cu_err *err)
{
    if (!v->batch)
        return cu_err_set(err, CU_EINTERNAL, "no batch is open");
    unsigned char t[8];
    uint64_t now = (uint64_t)cu_now_us();
    for (int i = 0; i < 8; i++)
        t[i] = (unsigned char)(now >> (56 - 8 * i));
    return cu_store_meta_put(v->store, "health_probe", t, sizeof t, err);
}

/* ---- keys ---- */

void cu_vault_wrap_subject_key(cu_vault *v, const char *subject_id, int64_t version,
                               const cu_key *dek, unsigned char out[CU_WRAPPED_KEY_BYTES])
{
    unsigned char ad[96];
    size_t adlen = cu_vault_dek_ad(subject_id, version, ad);
    cu_key_wrap(v->wrap, ad, adlen, dek, out);
}

void cu_vault_blind_index(cu_vault *v, const char *controller_id, const char *kind,
                          const char *value, size_t n, unsigned char out[CU_HASH_BYTES])
{
    cu_key ck;
    cu_blind_index(v->index_root, "custos/v1/bidx-controller", controller_id,
                   strlen(controller_id), ck.k);
    cu_blind_index(&ck, kind, value, n, out);
    cu_key_wipe(&ck);
}

void cu_vault_cursor_tag(cu_vault *v, const char *subject_id, const char *item_id,
                         unsigned char out[CU_HASH_BYTES])
{
    char msg[2 * CU_ID_STRLEN + 2];
    int n = snprintf(msg, sizeof msg, "%s/%s", subject_id, item_id);
    cu_blind_index(v->index_root, "custos/v1/items-cursor", msg,
                   n > 0 && (size_t)n < sizeof msg ? (size_t)n : 0, out);
}

/* The decimal digits of value (0 when negative), without a NUL. */
static size_t ad_digits(unsigned char *out, int64_t value)
{
    char digits[24];
    size_t d = 0, n = 0;
    uint64_t v = value < 0 ? 0 : (uint64_t)value;
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (d)
        out[n++] = (unsigned char)digits[--d];
    return n;
}

size_t cu_ad_item(unsigned char out[CU_AD_MAX], const char *controller_id,
                  const char *subject_id, const char *item_id, const char *field,
                  int64_t key_version)
{
    /* "custos/v1/item" US controller US subject US item US field US version,
     * truncated to CU_AD_MAX - 1 bytes (ids and names are bounded well below). */
    static const char tag[] = "custos/v1/item";
    enum { LIMIT = 256 - 24 }; /* as when CU_AD_MAX was 256: stored values keep their AD */
    const char *parts[] = {controller_id, subject_id, item_id, field};
    size_t n = sizeof tag - 1;
    memcpy(out, tag, n);
    for (size_t i = 0; i < 4; i++) {
        size_t len = strnlen(parts[i], CU_AD_MAX);
        if (n + 1 + len >= LIMIT)
            len = LIMIT - n - 1;
        out[n++] = 0x1f;
        memcpy(out + n, parts[i], len);
        n += len;
    }
    out[n++] = 0x1f;
    n += ad_digits(out + n, key_version);
    out[n] = '\0';
    return n;
}


size_t cu_ad_value(unsigned char out[CU_AD_MAX], const char *controller_id,
                   const char *subject_id, const char *item_id, const char *field,
                   int64_t key_version, const char *category, int64_t version)
{
    /* cu_ad_item's at most 256 - 1 bytes, then US category (at most 32) US
     * version (at most 20 digits): below CU_AD_MAX. */
    _Static_assert(CU_AD_MAX >= 256 + 1 + 32 + 1 + 20 + 1, "room for category and version");
    size_t n = cu_ad_item(out, controller_id, subject_id, item_id, field, key_version);
    size_t len = strnlen(category, 32);
    out[n++] = 0x1f;
    memcpy(out + n, category, len);
    n += len;
    out[n++] = 0x1f;
    n += ad_digits(out + n, version);
    out[n] = '\0';
    return n;
}

/* ---- controllers ---- */

int cu_controller_add(cu_vault *v, const cu_actor *a, const char *name,
                      char id_out[CU_ID_STRLEN], cu_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > CU_MAX_CONTROLLER_NAME)
        return cu_err_set(err, CU_EINVAL, "controller name must be 1 to %d bytes",
                          CU_MAX_CONTROLLER_NAME);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return cu_err_set(err, CU_EINVAL, "controller name contains control characters");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, "create", err);
    if (rc)
        return rc;
    cu_random_id(id_out);
    memcpy(op.controller_id, id_out, CU_ID_STRLEN);
    rc = cu_op_authorise(v, &op, err);
    int64_t now = cu_now_us();
    if (!rc)
        rc = cu_store_controller_insert(v->store, id_out, name, now, err);
    if (!rc)
        rc = cu_controller_seal_row(v, id_out, name, now, err);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

/* ---- master key rotation ---- */

typedef struct rewrap_entry {
    char id[CU_ID_STRLEN + 64];
    int64_t version;
    unsigned char w[CU_WRAPPED_KEY_BYTES];
} rewrap_entry;

typedef struct rewrap_list {
    rewrap_entry *e;
    size_t n, cap;
    bool bad;
} rewrap_list;

static int collect(rewrap_list *l, const char *id, int64_t version, const void *w, size_t n)
{
    if (n != CU_WRAPPED_KEY_BYTES) {
        l->bad = true;
        return CU_ECORRUPT;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        rewrap_entry *e = realloc(l->e, cap * sizeof *e);
        if (!e)
            return CU_ENOMEM;
        l->e = e;
        l->cap = cap;
    }
    rewrap_entry *e = &l->e[l->n++];
    cu_strlcpy(e->id, id, sizeof e->id);
    e->version = version;
    memcpy(e->w, w, CU_WRAPPED_KEY_BYTES);
    return 0;
}

static int collect_subject_key(void *ctx, const char *id, int64_t version, const void *w,
                               size_t n)
{
    return collect(ctx, id, version, w, n);
}

static int collect_keyring(void *ctx, const char *name, const void *w, size_t n)
{
    return collect(ctx, name, 0, w, n);
}

static int rewrap_all(cu_vault *v, const cu_key *new_wrap, cu_err *err)
{
    rewrap_list subj = {0}, ring = {0};
    int rc = cu_store_subject_key_each(v->store, collect_subject_key, &subj, err);
    if (!rc)
        rc = cu_store_keyring_each(v->store, collect_keyring, &ring, err);
    if (rc == CU_ECORRUPT || rc == CU_ENOMEM)
        rc = cu_err_set(err, rc, "cannot read the keys to rewrap");
    for (size_t i = 0; !rc && i < subj.n; i++) {
        cu_key dek;
        unsigned char ad[96];
        size_t adlen = cu_vault_dek_ad(subj.e[i].id, subj.e[i].version, ad);
        if (cu_key_unwrap(v->wrap, ad, adlen, subj.e[i].w, CU_WRAPPED_KEY_BYTES, &dek)) {
            rc = cu_err_set(err, CU_ECORRUPT, "the data key of subject %s does not open",
                            subj.e[i].id);
            break;
        }
        cu_key_wrap(new_wrap, ad, adlen, &dek, subj.e[i].w);
        cu_key_wipe(&dek);
        rc = cu_store_subject_key_put(v->store, subj.e[i].id, subj.e[i].version, subj.e[i].w,
                                      CU_WRAPPED_KEY_BYTES, err);
    }
    for (size_t i = 0; !rc && i < ring.n; i++) {
        cu_key k;
        unsigned char ad[64];
        size_t adlen = keyring_ad(ring.e[i].id, ad);
        if (cu_key_unwrap(v->wrap, ad, adlen, ring.e[i].w, CU_WRAPPED_KEY_BYTES, &k)) {
            rc = cu_err_set(err, CU_ECORRUPT, "the store's %s key does not open", ring.e[i].id);
            break;
        }
        rc = keyring_store(v, ring.e[i].id, new_wrap, &k, err);
        cu_key_wipe(&k);
    }
    free(subj.e);
    free(ring.e);
    return rc;
}

int cu_vault_rotate_master(cu_vault *v, const cu_actor *a,
                           char new_key_id[2 * CU_KEYID_BYTES + 1], cu_err *err)
{
    /* The key file is replaced once the rotation commits; inside a batch that
     * would happen before the batch is durable, and an abort would lose the key. */
    if (v->batch)
        return cu_err_set(err, CU_EINVAL, "key rotation cannot run inside a batch");
    char next[PATH_MAX + 8];
    if (snprintf(next, sizeof next, "%s.next", v->key_path) >= (int)sizeof next)
        return cu_err_set(err, CU_EINVAL, "key path too long");
    cu_key *nmaster = cu_key_new_locked(NULL);
    cu_key *nwrap = nmaster ? derive_wrap(nmaster) : NULL;
    if (!nwrap) {
        cu_key_free(nmaster);
        return cu_err_set(err, CU_ENOMEM, "cannot allocate locked memory");
    }
    key_id_hex(nmaster, new_key_id);
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_ADMIN, "key", err);
    if (rc) {
        cu_key_free(nmaster);
        cu_key_free(nwrap);
        return rc;
    }
    rc = cu_op_authorise(v, &op, err);
    /* A rotation another process committed may not have renamed its key
     * over the key file yet: complete it before <key>.next is reused. */
    cu_key *cur = NULL;
    if (!rc && load_if_id(v->key_path, v->key_id, &cur) == CU_OK)
        cu_key_free(cur);
    else if (!rc)
        rc = finish_rotation(v, err);
    if (!rc)
        rc = rewrap_all(v, nwrap, err);
    if (!rc)
        rc = cu_store_meta_put(v->store, "master_key_id", new_key_id, strlen(new_key_id), err);
    if (!rc)
        rc = cu_key_schedule_mark(v, cu_now_us(), err);
    /* The new key is on disk before the store that needs it is committed. */
    unlink(next);
    if (!rc)
        rc = cu_keyfile_write(next, nmaster, err);
    bool staged = rc == CU_OK;
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (rc) {
        if (staged)
            unlink(next);
        cu_key_free(nmaster);
        cu_key_free(nwrap);
        return rc;
    }
    cu_key_free(v->master);
    cu_key_free(v->wrap);
    v->master = nmaster;
    v->wrap = nwrap;
    memcpy(v->key_id, new_key_id, sizeof v->key_id);
    /* Another process that opened the store (or rotated again) since the
     * commit may have completed the rename already: finish_rotation accepts
     * that. */
    if (finish_rotation(v, NULL))
        rc = cu_err_set(err, CU_EIO, "the store now needs the key in %s; rename it to %s",
                        next, v->key_path);
    return rc;
}
