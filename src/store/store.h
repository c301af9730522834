/*
 * store.h — persistence. This is the only module that speaks SQL.
 *
 * The store holds rows whose personal values are already sealed by the layers
 * above: it never sees plaintext personal data, only ciphertexts, blind indexes
 * and non-personal metadata (ids, categories, field names, times, actor names).
 *
 * One cu_store is one connection, used by one thread at a time. Writes happen
 * inside cu_store_begin()/cu_store_commit(); SQLite's WAL mode with
 * synchronous=FULL makes a commit durable when it returns. Savepoints let one
 * operation inside a larger batch be undone on its own.
 *
 * Strings and blobs in row structs passed to callbacks point into the current
 * statement and are valid only for the duration of the callback.
 *
 * Errors: CU_ECORRUPT for a damaged or foreign database file, CU_EVERSION for a
 * schema newer than this build, CU_EIO for other database failures; messages
 * name the operation, never a value.
 */
#ifndef CUSTOS_STORE_STORE_H
#define CUSTOS_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

typedef struct cu_store cu_store;

/* The schema version this build writes. */
int cu_store_schema_version(void);

/* Opens (create=false) or creates (create=true, file must not exist) the
 * database at path and applies pending migrations. */
CU_MUST_USE int cu_store_open(const char *path, bool create, cu_store **out, cu_err *err);
void cu_store_close(cu_store *s);

CU_MUST_USE int cu_store_begin(cu_store *s, cu_err *err);
CU_MUST_USE int cu_store_commit(cu_store *s, cu_err *err);
void cu_store_rollback(cu_store *s);
bool cu_store_in_tx(const cu_store *s);
/* A number that changes whenever what a session or API token stands for may
 * have changed: when this connection is about to write the users, sessions or
 * api_tokens tables (other than a session's last_seen), when it undoes a
 * transaction that wrote them, and when cu_store_begin finds that another
 * connection has committed anything since the last transaction. While a
 * transaction is open and the number is unchanged, rows of those tables read
 * earlier in it are still what the database holds. */
uint64_t cu_store_auth_epoch(const cu_store *s);
CU_MUST_USE int cu_store_savepoint(cu_store *s, cu_err *err);
CU_MUST_USE int cu_store_release(cu_store *s, cu_err *err);
void cu_store_rollback_to(cu_store *s);
/* Moves WAL content into the main file and truncates the WAL. */
CU_MUST_USE int cu_store_checkpoint_wal(cu_store *s, cu_err *err);

/* meta: small named values (store id, master key id). */
CU_MUST_USE int cu_store_meta_get(cu_store *s, const char *key, cu_buf *out, cu_err *err);
CU_MUST_USE int cu_store_meta_put(cu_store *s, const char *key, const void *v, size_t n,
                                  cu_err *err);

/* keyring: wrapped store-wide keys (blind-index root, audit signing seed). */
CU_MUST_USE int cu_store_keyring_get(cu_store *s, const char *name, cu_buf *out, cu_err *err);
CU_MUST_USE int cu_store_keyring_put(cu_store *s, const char *name, const void *wrapped,
                                     size_t n, cu_err *err);
typedef int (*cu_keyring_cb)(void *ctx, const char *name, const void *wrapped, size_t n);
CU_MUST_USE int cu_store_keyring_each(cu_store *s, cu_keyring_cb cb, void *ctx, cu_err *err);

/* controllers */
CU_MUST_USE int cu_store_controller_insert(cu_store *s, const char *id, const char *name,
                                           int64_t created_at, cu_err *err);
/* CU_ENOTFOUND when absent; name may be NULL. */
CU_MUST_USE int cu_store_controller_get(cu_store *s, const char *id, cu_buf *name,
                                        cu_err *err);
typedef int (*cu_controller_cb)(void *ctx, const char *id, const char *name,
                                int64_t created_at);
CU_MUST_USE int cu_store_controller_each(cu_store *s, cu_controller_cb cb, void *ctx,
                                         cu_err *err);

/* subjects */
typedef struct cu_subject_rec {
    char id[40];
    char controller_id[40];
    char kind[16];
    int64_t key_version;
    int64_t created_at;
    int64_t updated_at;
    int64_t erased_at; /* 0 while not erased */
    char pseudonym[40]; /* per-controller pseudonym, "" until assigned */
} cu_subject_rec;

CU_MUST_USE int cu_store_subject_insert(cu_store *s, const cu_subject_rec *r, cu_err *err);
/* CU_ENOTFOUND when absent. */
CU_MUST_USE int cu_store_subject_get(cu_store *s, const char *id, cu_subject_rec *out,
                                     cu_err *err);
CU_MUST_USE int cu_store_subject_touch(cu_store *s, const char *id, int64_t updated_at,
                                       cu_err *err);
CU_MUST_USE int cu_store_subject_mark_erased(cu_store *s, const char *id, int64_t erased_at,
                                             cu_err *err);
typedef int (*cu_subject_cb)(void *ctx, const cu_subject_rec *r);
/* Every subject of one controller (all controllers when controller_id is NULL). */
CU_MUST_USE int cu_store_subject_each(cu_store *s, const char *controller_id,
                                      cu_subject_cb cb, void *ctx, cu_err *err);

/* subject data keys, wrapped by the master key */
CU_MUST_USE int cu_store_subject_key_put(cu_store *s, const char *subject_id, int64_t version,
                                         const void *wrapped, size_t n, cu_err *err);
/* CU_ENOTFOUND when absent (erased). */
CU_MUST_USE int cu_store_subject_key_get(cu_store *s, const char *subject_id,
                                         int64_t *version, unsigned char *wrapped,
                                         size_t cap, size_t *n, cu_err *err);
CU_MUST_USE int cu_store_subject_key_delete(cu_store *s, const char *subject_id, cu_err *err);
typedef int (*cu_subject_key_cb)(void *ctx, const char *subject_id, int64_t version,
                                 const void *wrapped, size_t n);
CU_MUST_USE int cu_store_subject_key_each(cu_store *s, cu_subject_key_cb cb, void *ctx,
                                          cu_err *err);

/* items */
typedef struct cu_item_row {
    const char *id;
    const char *subject_id;
    const char *category;
    const char *field;
    const char *source;
    const char *recorded_by;
    int64_t collected_at;
    int64_t recorded_at;
    int64_t updated_at;
    const unsigned char *value; /* sealed */
    size_t value_len;
} cu_item_row;

CU_MUST_USE int cu_store_item_insert(cu_store *s, const cu_item_row *r, cu_err *err);
typedef int (*cu_item_cb)(void *ctx, const cu_item_row *r);
/* A subject's items, in item-id order. */
CU_MUST_USE int cu_store_item_each(cu_store *s, const char *subject_id, cu_item_cb cb,
                                   void *ctx, cu_err *err);
/* One item of one subject; CU_ENOTFOUND when absent. */
CU_MUST_USE int cu_store_item_get(cu_store *s, const char *subject_id, const char *item_id,
                                  cu_item_cb cb, void *ctx, cu_err *err);
CU_MUST_USE int cu_store_item_update_value(cu_store *s, const char *subject_id,
                                           const char *item_id, const void *sealed, size_t n,
                                           int64_t updated_at, cu_err *err);
CU_MUST_USE int cu_store_item_delete_subject(cu_store *s, const char *subject_id,
                                             cu_err *err);

/* identifiers: blind indexes for exact-match lookup */
CU_MUST_USE int cu_store_ident_insert(cu_store *s, const char *kind, const unsigned char *bidx,
                                      size_t n, const char *subject_id, const char *item_id,
                                      cu_err *err);
typedef int (*cu_ident_cb)(void *ctx, const char *subject_id, const char *item_id);
CU_MUST_USE int cu_store_ident_find(cu_store *s, const char *kind, const unsigned char *bidx,
                                    size_t n, cu_ident_cb cb, void *ctx, cu_err *err);
CU_MUST_USE int cu_store_ident_delete_item(cu_store *s, const char *subject_id,
                                           const char *item_id, cu_err *err);
CU_MUST_USE int cu_store_ident_delete_subject(cu_store *s, const char *subject_id,
                                              cu_err *err);

/* audit events */
typedef struct cu_audit_row {
    int64_t seq;
    int64_t ts;
    const char *actor;
    const char *subject_id; /* NULL when the event concerns no subject */
    const unsigned char *body;
    size_t body_len;
    const unsigned char *hash;
    size_t hash_len;
} cu_audit_row;

/* The last event's seq and hash; seq 0 and hash untouched for an empty trail. */
CU_MUST_USE int cu_store_audit_last(cu_store *s, int64_t *seq, unsigned char *hash,
                                    size_t hashlen, cu_err *err);
CU_MUST_USE int cu_store_audit_insert(cu_store *s, const cu_audit_row *r, cu_err *err);
typedef int (*cu_audit_cb)(void *ctx, const cu_audit_row *r);
/* Events in seq order; filters are optional (NULL / 0). */
typedef struct cu_audit_filter {
    const char *subject_id;
    const char *actor;
    int64_t since_us, until_us; /* inclusive bounds on ts, 0 = open */
    int64_t after_seq;          /* only events with seq > after_seq */
    int64_t limit;              /* 0 = no limit */
} cu_audit_filter;
CU_MUST_USE int cu_store_audit_each(cu_store *s, const cu_audit_filter *f, cu_audit_cb cb,
                                    void *ctx, cu_err *err);

/* signed chain heads */
typedef struct cu_checkpoint {
    int64_t seq;
    int64_t signed_at;
    unsigned char hash[32];
    unsigned char sig[64];
} cu_checkpoint;
/* The head is one row, replaced on every commit that appends events. */
CU_MUST_USE int cu_store_head_put(cu_store *s, const cu_checkpoint *c, cu_err *err);
/* CU_ENOTFOUND when there is none. */
CU_MUST_USE int cu_store_head_get(cu_store *s, cu_checkpoint *out, cu_err *err);
/* Kept checkpoints, one per 4096 events or so, for verification from the middle. */
CU_MUST_USE int cu_store_checkpoint_add(cu_store *s, const cu_checkpoint *c, cu_err *err);
CU_MUST_USE int cu_store_checkpoint_last_seq(cu_store *s, int64_t *seq, cu_err *err);
typedef int (*cu_checkpoint_cb)(void *ctx, const cu_checkpoint *c);
CU_MUST_USE int cu_store_checkpoint_each(cu_store *s, cu_checkpoint_cb cb, void *ctx,
                                         cu_err *err);

/* pseudonyms (migration 2) */
CU_MUST_USE int cu_store_subject_set_pseudonym(cu_store *s, const char *id,
                                               const char *pseudonym, cu_err *err);
/* CU_ENOTFOUND when no subject has it. */
CU_MUST_USE int cu_store_subject_by_pseudonym(cu_store *s, const char *pseudonym, char id[40],
                                              cu_err *err);
/* Calls cb(ctx, subject_id, controller_id) for subjects still without one. */
CU_MUST_USE int cu_store_subject_without_pseudonym(cu_store *s, cu_ident_cb cb, void *ctx,
                                                   cu_err *err);

/* staff accounts */
typedef struct cu_user_rec {
    char id[40];
    char controller_id[40];
    char username[72];
    char roles[96];
    char pwhash[128];
    unsigned char totp[96]; /* sealed one-time-code secret */
    size_t totp_len;        /* 0: none */
    int64_t totp_last_step, failures, locked_until, created_at, disabled_at;
} cu_user_rec;
CU_MUST_USE int cu_store_user_insert(cu_store *s, const cu_user_rec *u, cu_err *err);
/* By username, or by id when username is NULL. CU_ENOTFOUND when absent. */
CU_MUST_USE int cu_store_user_get(cu_store *s, const char *username, const char *id,
                                  cu_user_rec *out, cu_err *err);
CU_MUST_USE int cu_store_user_set_auth(cu_store *s, const char *id, int64_t failures,
                                       int64_t locked_until, int64_t totp_last_step,
                                       cu_err *err);
CU_MUST_USE int cu_store_user_set_password(cu_store *s, const char *id, const char *pwhash,
                                           cu_err *err);
CU_MUST_USE int cu_store_user_set_totp(cu_store *s, const char *id, const void *sealed,
                                       size_t n, cu_err *err);
CU_MUST_USE int cu_store_user_disable(cu_store *s, const char *id, int64_t at, cu_err *err);

/* sessions, keyed by the hash of their token */
typedef struct cu_session_rec {
    char user_id[40];
    int64_t created_at, last_seen, revoked_at;
} cu_session_rec;
CU_MUST_USE int cu_store_session_insert(cu_store *s, const unsigned char *hash, size_t n,
                                        const char *user_id, int64_t now, cu_err *err);
CU_MUST_USE int cu_store_session_get(cu_store *s, const unsigned char *hash, size_t n,
                                     cu_session_rec *out, cu_err *err);
CU_MUST_USE int cu_store_session_touch(cu_store *s, const unsigned char *hash, size_t n,
                                       int64_t now, cu_err *err);
/* Revokes one session (hash) or every session of a user (hash NULL). */
CU_MUST_USE int cu_store_session_revoke(cu_store *s, const unsigned char *hash, size_t n,
                                        const char *user_id, int64_t now, cu_err *err);

/* API tokens, keyed by the hash of their secret */
typedef struct cu_token_rec {
    char id[40];
    char controller_id[40];
    char roles[96];
    char name[72];
    int64_t created_at, revoked_at;
} cu_token_rec;
CU_MUST_USE int cu_store_token_insert(cu_store *s, const cu_token_rec *t,
                                      const unsigned char *hash, size_t n, cu_err *err);
CU_MUST_USE int cu_store_token_get(cu_store *s, const unsigned char *hash, size_t n,
                                   cu_token_rec *out, cu_err *err);
/* CU_ENOTFOUND when no unrevoked token has that id. */
CU_MUST_USE int cu_store_token_revoke(cu_store *s, const char *id, int64_t now, cu_err *err);

/* care relationships and break-glass grants */
CU_MUST_USE int cu_store_care_set(cu_store *s, const char *user_id, const char *subject_id,
                                  bool on, int64_t now, const char *by, cu_err *err);
CU_MUST_USE int cu_store_care_has(cu_store *s, const char *user_id, const char *subject_id,
                                  bool *out, cu_err *err);
typedef struct cu_break_glass_row {
    const char *id, *user_id, *username, *subject_id;
    const unsigned char *reason; /* sealed under the subject's key */
    size_t reason_len;
    int64_t granted_at, expires_at;
} cu_break_glass_row;
CU_MUST_USE int cu_store_break_glass_insert(cu_store *s, const cu_break_glass_row *b,
                                            cu_err *err);
CU_MUST_USE int cu_store_break_glass_active(cu_store *s, const char *user_id,
                                            const char *subject_id, int64_t now, bool *out,
                                            cu_err *err);
typedef int (*cu_break_glass_cb)(void *ctx, const cu_break_glass_row *b);
CU_MUST_USE int cu_store_break_glass_each(cu_store *s, const char *controller_id,
                                          int64_t since, cu_break_glass_cb cb, void *ctx,
                                          cu_err *err);

/* counts for `custos status` */
typedef struct cu_store_counts {
    int64_t controllers, subjects, erased, items, audit_events, checkpoints;
} cu_store_counts;
CU_MUST_USE int cu_store_counts_get(cu_store *s, cu_store_counts *out, cu_err *err);

#endif
