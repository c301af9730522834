/*
 * store.h — persistence: the contract every database backend keeps.
 *
 * The store is the only module that speaks to a database. Two backends keep
 * this contract, with the same behaviour for every declaration below: SQLite
 * (a file in the vault directory) and PostgreSQL (a database named by a
 * postgresql:// URL). The table families (src/store/<family>.c) implement it
 * once, for both, by running numbered statements through the backend in use
 * (driver.h); tests/unit/test_store.c runs its table tests on either.
 *
 * The store holds rows whose personal values are already sealed by the layers
 * above: it never sees plaintext personal data, only ciphertexts, blind indexes
 * and non-personal metadata (ids, categories, field names, times, actor names).
 *
 * One cu_store is one connection, used by one thread at a time. Writes happen
 * inside cu_store_begin()/cu_store_commit(), which holds the store's single
 * writer lock (every connection of every process); a commit is durable when
 * it returns (SQLite: WAL with synchronous=FULL). Savepoints let one
 * operation inside a larger batch be undone on its own.
 *
 * Ownership: strings and byte strings in row structs passed to callbacks
 * point into the backend's current row and are valid only for the duration
 * of the callback; the caller copies what it keeps. Structs filled in (a
 * cu_subject_rec, a cu_buf) belong to the caller. A callback's non-zero
 * return stops a listing and is what the listing returns.
 *
 * Errors (cu_err, never naming a value): CU_ENOTFOUND where a declaration
 * says so (without a message unless it says otherwise), CU_ECONFLICT for a
 * row that would duplicate a unique one or name a missing one, CU_ECORRUPT
 * for a damaged or foreign database, CU_EVERSION for a schema newer than
 * this build, CU_ERETRY for a transaction the database aborted to keep
 * concurrent ones serialisable (run the whole transaction again),
 * CU_EUNAVAILABLE for a database that cannot be reached, CU_EIO for other
 * database failures, CU_ENOMEM when memory runs out, CU_EINTERNAL for a
 * statement called against its declaration (a bug).
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

/* Where the store of a vault lives, in out (n bytes): the PostgreSQL
 * database named by database (a postgresql:// or postgres:// URL) when it is
 * non-NULL and not empty, else the SQLite file in the vault directory dir.
 * An opaque string for every caller: pass it to cu_store_open,
 * cu_store_exists and cu_store_remove, and show it only through
 * cu_store_redact. CU_EINVAL when database is not such a URL or the
 * location does not fit. */
CU_MUST_USE int cu_store_location(const char *dir, const char *database, char *out, size_t n,
                                  cu_err *err);
/* Whether location names a PostgreSQL database (a postgresql:// or
 * postgres:// URL) rather than a SQLite file. */
bool cu_store_is_database_url(const char *location);
/* A location fit for a message or a log line, in out (n bytes, truncated
 * to fit): a URL without its password (user:***@) and without its query
 * parameters (?***), which may hold one; a file path as it is. */
void cu_store_redact(const char *location, char *out, size_t n);
/* Whether a custos store exists at location: the SQLite file exists, or the
 * PostgreSQL database holds a custos schema. */
bool cu_store_exists(const char *location);
/* Removes the store at location and everything the backend keeps beside it
 * (SQLite: the file, its log and index; PostgreSQL: custos's tables), for a
 * store this process has just created and must undo; no connection may be
 * open on it. Best effort: what cannot be removed stays. */
void cu_store_remove(const char *location);
/* The ending of the name of a file cu_store_backup writes for a SQLite
 * store (what the caller names its copies with, so that it can recognise
 * them). */
const char *cu_store_copy_suffix(void);

/* Opens (create=false: CU_ENOTFOUND when there is no store, CU_ECORRUPT when
 * what is there holds no custos schema) or creates (create=true: CU_ECONFLICT
 * when a store exists there) the store at location (cu_store_location) and
 * applies pending migrations (CU_EVERSION when the schema is newer than this
 * build). *out is the caller's, to close with cu_store_close. */
CU_MUST_USE int cu_store_open(const char *location, bool create, cu_store **out, cu_err *err);
/* Closes s (NULL: nothing), rolling back an open transaction. */
void cu_store_close(cu_store *s);
/* "sqlite" or "postgresql". */
const char *cu_store_backend_name(const cu_store *s);

/* Starts a write transaction, waiting for the single writer lock (CU_EIO
 * when it cannot be had in time), and reads the change counter. */
CU_MUST_USE int cu_store_begin(cu_store *s, cu_err *err);
/* Starts a read-only transaction: everything read until the commit or
 * rollback sees one consistent snapshot; takes no writer lock. */
CU_MUST_USE int cu_store_begin_read(cu_store *s, cu_err *err);
/* Commits the open transaction; on failure it is rolled back. */
CU_MUST_USE int cu_store_commit(cu_store *s, cu_err *err);
/* Undoes the open transaction (nothing when there is none). */
void cu_store_rollback(cu_store *s);
/* Whether a transaction is open. */
bool cu_store_in_tx(const cu_store *s);
/* A number that changes whenever what a session or API token stands for may
 * have changed: when this connection is about to write the users, sessions or
 * api_tokens tables (other than a session's last_seen), when it undoes a
 * transaction that wrote them, and when cu_store_begin finds that another
 * connection has committed anything since the last transaction. While a
 * transaction is open and the number is unchanged, rows of those tables read
 * earlier in it are still what the database holds. */
uint64_t cu_store_auth_epoch(const cu_store *s);
/* One nested savepoint at a time inside a write transaction: start it,
 * keep what was done since (release), or undo it (rollback_to, which also
 * ends it). A backend may send these with the next statement instead of
 * on their own (PostgreSQL does, in one round trip): a failure of one is
 * then reported by that next call and by every call until the rollback, and
 * the transaction cannot commit. A backend may likewise hold back some of
 * the writes made inside the savepoint (PostgreSQL: an item's insert, a
 * subject's update) and send them with the next statement or the release:
 * a failure of one is then what that call returns (the release, too), and
 * every call until rollback_to, which undoes the savepoint's work and lets
 * the transaction go on. */
CU_MUST_USE int cu_store_savepoint(cu_store *s, cu_err *err);
CU_MUST_USE int cu_store_release(cu_store *s, cu_err *err);
void cu_store_rollback_to(cu_store *s);
/* Whether a store call (a statement, begin, savepoint, release or commit)
 * has failed CU_ERETRY since the last call of this: the database aborted a
 * transaction to keep concurrent ones apart, and the whole transaction may
 * be run again once it is undone. Clears the note. A caller that swallows
 * the failure of one call (and later gets another error, PostgreSQL refusing
 * every command of an aborted transaction) still learns why. */
bool cu_store_take_retry(cu_store *s);
/* How many operations (savepoints) one batch may hold on this backend:
 * PostgreSQL keeps the subtransactions of a transaction in a per-session
 * cache of 64, and more slow down every other session; SQLite has no such
 * limit. */
unsigned cu_store_batch_limit(const cu_store *s);
/* Compacts the store's write log: what committed transactions wrote is moved
 * into the store proper and the log is emptied, so that no old copy of an
 * overwritten (erased) value stays in the log. CU_OK too when another
 * connection is reading and the log cannot be emptied now (a later compaction
 * does it: not a failure of the caller's change); CU_EIO otherwise. */
CU_MUST_USE int cu_store_compact_log(cu_store *s, cu_err *err);

/* meta: small named values (store id, master key id). */
CU_MUST_USE int cu_store_meta_get(cu_store *s, const char *key, cu_buf *out, cu_err *err);
/* Sets (inserts or replaces) the value of key. */
CU_MUST_USE int cu_store_meta_put(cu_store *s, const char *key, const void *v, size_t n,
                                  cu_err *err);

/* keyring: wrapped store-wide keys (blind-index root, audit signing seed). */
CU_MUST_USE int cu_store_keyring_get(cu_store *s, const char *name, cu_buf *out, cu_err *err);
/* Sets (inserts or replaces) the wrapped key called name. */
CU_MUST_USE int cu_store_keyring_put(cu_store *s, const char *name, const void *wrapped,
                                     size_t n, cu_err *err);
typedef int (*cu_keyring_cb)(void *ctx, const char *name, const void *wrapped, size_t n);
/* Every keyring entry, by name. */
CU_MUST_USE int cu_store_keyring_each(cu_store *s, cu_keyring_cb cb, void *ctx, cu_err *err);

/* controllers */
CU_MUST_USE int cu_store_controller_insert(cu_store *s, const char *id, const char *name,
                                           int64_t created_at, cu_err *err);
/* CU_ENOTFOUND when absent; name may be NULL. */
CU_MUST_USE int cu_store_controller_get(cu_store *s, const char *id, cu_buf *name,
                                        cu_err *err);
typedef int (*cu_controller_cb)(void *ctx, const char *id, const char *name,
                                int64_t created_at);
/* Every controller, oldest first. */
CU_MUST_USE int cu_store_controller_each(cu_store *s, cu_controller_cb cb, void *ctx,
                                         cu_err *err);
/* Controller rows with their row code (migration 6), for the vault to check. */
typedef struct cu_controller_row {
    const char *id, *name;
    int64_t created_at;
    const unsigned char *mac; /* NULL when the row has none */
    size_t mac_len;
} cu_controller_row;
typedef int (*cu_controller_row_cb)(void *ctx, const cu_controller_row *r);
/* One controller (CU_ENOTFOUND when absent), or every one when id is NULL. */
CU_MUST_USE int cu_store_controller_rows(cu_store *s, const char *id, cu_controller_row_cb cb,
                                         void *ctx, cu_err *err);
/* Sets a controller's row code; CU_ENOTFOUND (with a message) when no
 * controller has id. */
CU_MUST_USE int cu_store_controller_set_mac(cu_store *s, const char *id,
                                            const unsigned char mac[32], cu_err *err);

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
    int64_t restricted_at; /* Art 18 restriction in force since; 0: none (migration 3) */
    int64_t objecting;     /* active objections (migration 3) */
    /* migration 6: the number of the subject's items and the XOR of a keyed
     * hash of each (the vault's, see subject_rows.h), and the row's code */
    int64_t item_count;
    unsigned char item_digest[32]; /* zeros when the column is NULL */
    unsigned char mac[32];
    bool has_mac; /* false: the column is NULL */
    int64_t consents; /* the number of its consent records (migration 6) */
} cu_subject_rec;

/* Inserts every column of r, its code (r->mac when r->has_mac) included. */
CU_MUST_USE int cu_store_subject_insert(cu_store *s, const cu_subject_rec *r, cu_err *err);
/* Writes every mutable column of r (key version, updated, erased, pseudonym,
 * restriction, objections, item count and digest, code); CU_ENOTFOUND when
 * no subject has r->id. */
CU_MUST_USE int cu_store_subject_update(cu_store *s, const cu_subject_rec *r, cu_err *err);
/* CU_ENOTFOUND when absent. */
CU_MUST_USE int cu_store_subject_get(cu_store *s, const char *id, cu_subject_rec *out,
                                     cu_err *err);
/* Sets a subject's updated_at (nothing when no subject has id). */
CU_MUST_USE int cu_store_subject_touch(cu_store *s, const char *id, int64_t updated_at,
                                       cu_err *err);
/* Marks a subject erased at erased_at (also its updated_at). */
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
/* Destroys a subject's data key (nothing when it has none). */
CU_MUST_USE int cu_store_subject_key_delete(cu_store *s, const char *subject_id, cu_err *err);
typedef int (*cu_subject_key_cb)(void *ctx, const char *subject_id, int64_t version,
                                 const void *wrapped, size_t n);
/* Every subject data key, in no particular order. */
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
    int64_t version; /* 1 at insert, +1 at each new value or re-encryption (migration 6) */
} cu_item_row;

/* Inserts every column of r (version 1 when r->version is 0);
 * CU_ECONFLICT when the subject already has an item with r->id or has no
 * row. */
CU_MUST_USE int cu_store_item_insert(cu_store *s, const cu_item_row *r, cu_err *err);
typedef int (*cu_item_cb)(void *ctx, const cu_item_row *r);
/* A subject's items, in item-id order. */
CU_MUST_USE int cu_store_item_each(cu_store *s, const char *subject_id, cu_item_cb cb,
                                   void *ctx, cu_err *err);
/* One page of a subject's items: at most limit (1 to CU_STORE_PAGE_MAX) with
 * ids after after_id (NULL or "": from the first), in item-id order; *more
 * says whether further items follow. Keyset pagination on the primary key,
 * so a page costs the same wherever it starts. */
#define CU_STORE_PAGE_MAX 1000
CU_MUST_USE int cu_store_item_page(cu_store *s, const char *subject_id, const char *after_id,
                                   size_t limit, cu_item_cb cb, void *ctx, bool *more,
                                   cu_err *err);
/* What an operation on subject_id will ask for, asked for at once inside
 * the open transaction: the subject (cu_store_subject_get), its key row
 * (cu_store_subject_key_get), with a user_id that user's care-list row
 * (cu_store_care_get) and, with a limit (0: none), the first page of that
 * many items (cu_store_item_page from the start). Those calls, made next
 * with the same arguments, get what was read here: on a backend that talks
 * to a server, one round trip instead of one each. Nothing is decrypted or
 * decided here: the rows are ciphertext and codes until the caller's
 * authorised operation uses them. A hint: nothing happens outside a
 * transaction or on a backend without round trips to save (SQLite). */
CU_MUST_USE int cu_store_subject_read_ahead(cu_store *s, const char *subject_id,
                                            const char *user_id, size_t limit, cu_err *err);
/* A subject's items whose field is one of fields (at most 8), in id order:
 * the values of the top-level fields without decrypting the other items. */
CU_MUST_USE int cu_store_item_each_named(cu_store *s, const char *subject_id,
                                         const char *const *fields, size_t n, cu_item_cb cb,
                                         void *ctx, cu_err *err);
/* One item of one subject; CU_ENOTFOUND when absent. */
CU_MUST_USE int cu_store_item_get(cu_store *s, const char *subject_id, const char *item_id,
                                  cu_item_cb cb, void *ctx, cu_err *err);
/* Replaces an item's sealed value, updated_at and version;
 * CU_ENOTFOUND (no message) when the subject has no such item. */
CU_MUST_USE int cu_store_item_update_value(cu_store *s, const char *subject_id,
                                           const char *item_id, const void *sealed, size_t n,
                                           int64_t updated_at, int64_t version, cu_err *err);
/* Deletes every item of a subject. */
CU_MUST_USE int cu_store_item_delete_subject(cu_store *s, const char *subject_id,
                                             cu_err *err);

/* identifiers: blind indexes for exact-match lookup */
CU_MUST_USE int cu_store_ident_insert(cu_store *s, const char *kind, const unsigned char *bidx,
                                      size_t n, const char *subject_id, const char *item_id,
                                      cu_err *err);
typedef int (*cu_ident_cb)(void *ctx, const char *subject_id, const char *item_id);
/* The (subject, item) pairs indexed under kind and blind index bidx, by
 * subject id. */
CU_MUST_USE int cu_store_ident_find(cu_store *s, const char *kind, const unsigned char *bidx,
                                    size_t n, cu_ident_cb cb, void *ctx, cu_err *err);
/* Removes the identifiers of one item. */
CU_MUST_USE int cu_store_ident_delete_item(cu_store *s, const char *subject_id,
                                           const char *item_id, cu_err *err);
/* Removes every identifier of a subject. */
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
/* Appends one event; CU_ECONFLICT when its seq is taken. Inside a
 * transaction a backend may send it with the next statement (PostgreSQL
 * does): its failure, CU_ECONFLICT included, is then reported by that next
 * call (the commit at the latest) and by every call until the rollback, and
 * the transaction cannot commit. A failed append fails its whole
 * transaction or batch anyway (src/domain/op.c). */
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
/* A node's name: 1 to 40 of [A-Za-z0-9._-], beginning with a letter or digit. */
#define CU_NODE_MAX 41
typedef struct cu_checkpoint {
    int64_t seq;
    int64_t signed_at;
    unsigned char hash[32];
    unsigned char sig[64];
    char node[CU_NODE_MAX]; /* the node whose key signed it; "" for the store's own key */
} cu_checkpoint;
/* The head is one row, replaced on every commit that appends events.
 * Inside a transaction, reported as cu_store_audit_insert is. */
CU_MUST_USE int cu_store_head_put(cu_store *s, const cu_checkpoint *c, cu_err *err);
/* CU_ENOTFOUND when there is none. */
CU_MUST_USE int cu_store_head_get(cu_store *s, cu_checkpoint *out, cu_err *err);
/* Kept checkpoints, one per 4096 events or so, for verification from the middle. */
CU_MUST_USE int cu_store_checkpoint_add(cu_store *s, const cu_checkpoint *c, cu_err *err);
/* The seq of the last kept checkpoint, 0 when there is none. */
CU_MUST_USE int cu_store_checkpoint_last_seq(cu_store *s, int64_t *seq, cu_err *err);
/* What loading the audit head asks for, asked for at once inside the open
 * transaction (as cu_store_subject_read_ahead): the last event
 * (cu_store_audit_last) and the signed head (cu_store_head_get). */
CU_MUST_USE int cu_store_head_read_ahead(cu_store *s, cu_err *err);
typedef int (*cu_checkpoint_cb)(void *ctx, const cu_checkpoint *c);
/* Kept checkpoints in seq order; CU_ETAMPER (with a message) at one
 * whose hash or signature has the wrong size. */
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

/* staff accounts. Rows of the tables below carry a keyed code (mac: 32
 * bytes, mac_len 0 when the column is NULL) that the vault computes and
 * checks (domain/integrity.h); the store only keeps it. */
typedef struct cu_user_rec {
    char id[40];
    char controller_id[40];
    char username[72];
    char roles[96];
    char pwhash[128];
    unsigned char totp[96]; /* sealed one-time-code secret */
    size_t totp_len;        /* 0: none */
    int64_t totp_last_step, failures, locked_until, created_at, disabled_at;
    unsigned char mac[32];
    size_t mac_len;
} cu_user_rec;
/* Inserts u (its one-time-code secret NULL when totp_len is 0);
 * CU_ECONFLICT (with a message) when the username is taken. */
CU_MUST_USE int cu_store_user_insert(cu_store *s, const cu_user_rec *u, cu_err *err);
/* By username, or by id when username is NULL. CU_ENOTFOUND when absent. */
CU_MUST_USE int cu_store_user_get(cu_store *s, const char *username, const char *id,
                                  cu_user_rec *out, cu_err *err);
/* Writes every mutable column of u (roles, password hash, one-time-code
 * secret and last step, failures, lock, disabled_at (0: NULL), mac). */
CU_MUST_USE int cu_store_user_update(cu_store *s, const cu_user_rec *u, cu_err *err);
typedef int (*cu_user_cb)(void *ctx, const cu_user_rec *u);
/* Every user, by id. */
CU_MUST_USE int cu_store_user_each(cu_store *s, cu_user_cb cb, void *ctx, cu_err *err);

/* sessions, keyed by the (keyed) hash of their token */
typedef struct cu_session_rec {
    unsigned char hash[32];
    size_t hash_len;
    char user_id[40];
    int64_t created_at, last_seen, revoked_at;
    unsigned char mac[32];
    size_t mac_len;
} cu_session_rec;
/* Inserts hash, user_id, created_at (also the first last_seen) and mac. */
CU_MUST_USE int cu_store_session_insert(cu_store *s, const cu_session_rec *r, cu_err *err);
/* The session whose token hash is hash; CU_ENOTFOUND when none. */
CU_MUST_USE int cu_store_session_get(cu_store *s, const unsigned char *hash, size_t n,
                                     cu_session_rec *out, cu_err *err);
/* Writes r's last_seen and mac. */
CU_MUST_USE int cu_store_session_touch(cu_store *s, const cu_session_rec *r, cu_err *err);
/* Writes r's revoked_at and mac, unless the session was already revoked. */
CU_MUST_USE int cu_store_session_revoke(cu_store *s, const cu_session_rec *r, cu_err *err);
typedef int (*cu_session_cb)(void *ctx, const cu_session_rec *r);
/* The sessions of one user (every session when user_id is NULL). */
CU_MUST_USE int cu_store_session_each(cu_store *s, const char *user_id, cu_session_cb cb,
                                      void *ctx, cu_err *err);

/* API tokens, keyed by the (keyed) hash of their secret */
typedef struct cu_token_rec {
    char id[40];
    unsigned char hash[32];
    size_t hash_len;
    char controller_id[40];
    char roles[96];
    char name[72];
    int64_t created_at, revoked_at;
    unsigned char mac[32];
    size_t mac_len;
} cu_token_rec;
/* Inserts t; CU_ECONFLICT when its id or hash is taken. */
CU_MUST_USE int cu_store_token_insert(cu_store *s, const cu_token_rec *t, cu_err *err);
/* By hash, or by id when hash is NULL; CU_ENOTFOUND when absent. */
CU_MUST_USE int cu_store_token_get(cu_store *s, const unsigned char *hash, size_t n,
                                   const char *id, cu_token_rec *out, cu_err *err);
/* Writes t's revoked_at and mac; CU_ENOTFOUND when no unrevoked token has
 * t's id. */
CU_MUST_USE int cu_store_token_revoke(cu_store *s, const cu_token_rec *t, cu_err *err);
typedef int (*cu_token_cb)(void *ctx, const cu_token_rec *t);
/* Every API token, by id. */
CU_MUST_USE int cu_store_token_each(cu_store *s, cu_token_cb cb, void *ctx, cu_err *err);

/* care relationships and break-glass grants */
typedef struct cu_care_row {
    const char *user_id, *subject_id, *added_by;
    int64_t added_at;
    const unsigned char *mac; /* NULL when none */
    size_t mac_len;
} cu_care_row;
typedef int (*cu_care_cb)(void *ctx, const cu_care_row *r);
/* Adds r (kept as it is when the pair is already listed) or removes the
 * pair (on false: only user_id and subject_id are read). */
CU_MUST_USE int cu_store_care_set(cu_store *s, const cu_care_row *r, bool on, cu_err *err);
/* The row of one pair; CU_ENOTFOUND when absent. */
CU_MUST_USE int cu_store_care_get(cu_store *s, const char *user_id, const char *subject_id,
                                  cu_care_cb cb, void *ctx, cu_err *err);
/* Every care-list row, by user then subject. */
CU_MUST_USE int cu_store_care_each(cu_store *s, cu_care_cb cb, void *ctx, cu_err *err);
typedef struct cu_break_glass_row {
    const char *id, *user_id, *username, *subject_id; /* username: review listing only */
    const unsigned char *reason; /* sealed under the subject's key */
    size_t reason_len;
    int64_t granted_at, expires_at;
    const unsigned char *mac; /* NULL when none */
    size_t mac_len;
} cu_break_glass_row;
typedef int (*cu_break_glass_cb)(void *ctx, const cu_break_glass_row *b);
/* Records a grant (username is not read). */
CU_MUST_USE int cu_store_break_glass_insert(cu_store *s, const cu_break_glass_row *b,
                                            cu_err *err);
/* The grants of user to subject still in force at now, latest expiry first. */
CU_MUST_USE int cu_store_break_glass_active(cu_store *s, const char *user_id,
                                            const char *subject_id, int64_t now,
                                            cu_break_glass_cb cb, void *ctx, cu_err *err);
/* Grants of one controller's staff since a time (with usernames), or every
 * grant (controller_id NULL; no usernames). */
CU_MUST_USE int cu_store_break_glass_each(cu_store *s, const char *controller_id,
                                          int64_t since, cu_break_glass_cb cb, void *ctx,
                                          cu_err *err);

/* Sets the code of one row of an authenticated table (for sealing), the row
 * named by its key: key is text (key_len 0) or a blob of key_len bytes
 * (a token hash); care_list's second key is key2 (subject id), policies'
 * num (version); objections are named by num (seq) alone (key ""). */
typedef enum cu_mac_table {
    CU_MT_USERS, CU_MT_SESSIONS, CU_MT_TOKENS, CU_MT_CARE, CU_MT_BREAK_GLASS,
    CU_MT_POLICIES, CU_MT_UNSUBSCRIBE, CU_MT_CONSENTS, CU_MT_OBJECTIONS, CU_MT_REQUESTS,
} cu_mac_table;
CU_MUST_USE int cu_store_row_mac_set(cu_store *s, cu_mac_table t, const void *key,
                                     size_t key_len, const char *key2, int64_t num,
                                     const unsigned char *mac, size_t mac_len, cu_err *err);

/* policies (migration 3): every applied version of each controller's policy */
typedef struct cu_policy_row {
    const char *controller_id;
    int64_t version, applied_at;
    const char *applied_by;
    const unsigned char *digest;
    size_t digest_len;
    const void *document;
    size_t document_len;
    const unsigned char *mac; /* NULL when none */
    size_t mac_len;
} cu_policy_row;
typedef int (*cu_policy_row_cb)(void *ctx, const cu_policy_row *r);
/* Records one applied version; CU_ECONFLICT (with a message) when the
 * controller already has that version. */
CU_MUST_USE int cu_store_policy_insert(cu_store *s, const cu_policy_row *r, cu_err *err);
/* One version, or the current one (the highest) when version is 0.
 * CU_ENOTFOUND when there is none. */
CU_MUST_USE int cu_store_policy_get(cu_store *s, const char *controller_id, int64_t version,
                                    cu_policy_row_cb cb, void *ctx, cu_err *err);
/* Every version of one controller's policy, oldest first, without documents;
 * every version of every controller's, with documents, when controller_id
 * is NULL. */
CU_MUST_USE int cu_store_policy_each(cu_store *s, const char *controller_id,
                                     cu_policy_row_cb cb, void *ctx, cu_err *err);
/* ---- questionnaires (store/questionnaires.c) ----
 * Versioned questionnaire definitions, store-wide: url + version is unique.
 * The document is the canonical JSON, bound by its hash; the row code covers
 * url, version, hash, status, time and author. */
typedef struct cu_questionnaire_row {
    const char *url, *version;
    const unsigned char *hash;
    size_t hash_len;
    const void *document;      /* NULL in listings */
    size_t document_len;
    const char *status;
    int64_t added_at;
    const char *added_by;
    const unsigned char *mac;  /* NULL when none */
    size_t mac_len;
} cu_questionnaire_row;
typedef int (*cu_questionnaire_row_cb)(void *ctx, const cu_questionnaire_row *r);
/* CU_ECONFLICT when url + version exists. */
CU_MUST_USE int cu_store_questionnaire_insert(cu_store *s, const cu_questionnaire_row *r,
                                              cu_err *err);
/* One version, or the one added last when version is NULL; CU_ENOTFOUND. */
CU_MUST_USE int cu_store_questionnaire_get(cu_store *s, const char *url, const char *version,
                                           cu_questionnaire_row_cb cb, void *ctx, cu_err *err);
/* Every stored version, by url then time added; with documents when
 * with_documents. */
CU_MUST_USE int cu_store_questionnaire_each(cu_store *s, bool with_documents,
                                            cu_questionnaire_row_cb cb, void *ctx, cu_err *err);

/* Sets one row's code (custos verify --seal). */
CU_MUST_USE int cu_store_questionnaire_set_mac(cu_store *s, const char *url, const char *version,
                                               const unsigned char *mac, size_t n, cu_err *err);

/* An opaque change counter as cu_store_begin last read it: a number that
 * changes whenever another connection has committed a change to anything
 * but the audit trail, so cached state (parsed policies, the master key in
 * use, accepted credentials) may be stale. Only equality means anything:
 * callers compare it with a value they kept. Read once per transaction, by
 * cu_store_begin. */
int64_t cu_store_change_counter(const cu_store *s);
/* Likewise, a number that changes whenever another connection has committed
 * anything at all, appending to the audit trail included: the audit head in
 * memory may then be behind. On SQLite the two are the same number; on
 * PostgreSQL another node's audited reads move only this one, so they cost
 * this node a reload of the head, not of every cache. */
int64_t cu_store_trail_counter(const cu_store *s);
/* Whether that counter moves with every commit of any other connection or
 * program (SQLite), not only with custos's own writers' (PostgreSQL, where a
 * database writer's own statements leave it as it is). */
bool cu_store_change_counter_complete(const cu_store *s);
/* A number that moves with every transaction this handle starts (begin,
 * begin_read, a write run outside any transaction): equal to what it was
 * right after a commit, plus one, means the transaction just begun is the
 * next one on this handle, with none in between. */
uint64_t cu_store_tx_seq(const cu_store *s);

/* consent records: append-only history per subject and purpose */
typedef struct cu_consent_row {
    const char *id, *subject_id, *purpose, *state, *method, *recorded_by;
    int64_t policy_version, at;
    const unsigned char *evidence; /* sealed under the subject's key; NULL when none */
    size_t evidence_len;
    const unsigned char *mac; /* NULL when none */
    size_t mac_len;
} cu_consent_row;
typedef int (*cu_consent_cb)(void *ctx, const cu_consent_row *r);
/* Appends one consent record (evidence NULL when none). */
CU_MUST_USE int cu_store_consent_insert(cu_store *s, const cu_consent_row *r, cu_err *err);
/* The number of a subject's consent records. */
CU_MUST_USE int cu_store_consent_count(cu_store *s, const char *subject_id, int64_t *out,
                                       cu_err *err);
/* The latest record for subject x purpose; CU_ENOTFOUND when none. */
CU_MUST_USE int cu_store_consent_latest(cu_store *s, const char *subject_id,
                                        const char *purpose, cu_consent_cb cb, void *ctx,
                                        cu_err *err);
/* A subject's records (every record when subject_id is NULL), oldest first. */
CU_MUST_USE int cu_store_consent_each(cu_store *s, const char *subject_id, cu_consent_cb cb,
                                      void *ctx, cu_err *err);
/* One record by id; CU_ENOTFOUND when absent. */
CU_MUST_USE int cu_store_consent_get(cu_store *s, const char *id, cu_consent_cb cb, void *ctx,
                                     cu_err *err);

/* objections (Art 21) and restriction (Art 18); subjects.objecting counts the
 * active objections so that most reads need no lookup */
typedef struct cu_objection_row {
    const char *subject_id, *purpose, *recorded_by, *lifted_by;
    int64_t made_at, lifted_at, seq;
    const unsigned char *mac; /* NULL when none */
    size_t mac_len;
} cu_objection_row;
typedef int (*cu_objection_cb)(void *ctx, const cu_objection_row *r);
/* Records an objection (no code yet: the caller sets it by *seq). */
CU_MUST_USE int cu_store_objection_add(cu_store *s, const char *subject_id, const char *purpose,
                                       int64_t now, const char *by, int64_t *seq, cu_err *err);
/* Lifts one active objection, writing its new code. */
CU_MUST_USE int cu_store_objection_lift(cu_store *s, int64_t seq, int64_t now, const char *by,
                                        const unsigned char *mac, size_t mac_len, cu_err *err);
/* Sets subjects.objecting to the subject's active objections. */
CU_MUST_USE int cu_store_objection_recount(cu_store *s, const char *subject_id, cu_err *err);
/* A subject's objections (every objection when subject_id is NULL), oldest first. */
CU_MUST_USE int cu_store_objection_each(cu_store *s, const char *subject_id,
                                        cu_objection_cb cb, void *ctx, cu_err *err);
/* Sets (at > 0) or lifts (at == 0) a restriction. */
CU_MUST_USE int cu_store_subject_set_restricted(cu_store *s, const char *id, int64_t at,
                                                cu_err *err);

/* single-use unsubscribe links, keyed by the (keyed) hash of their token */
typedef struct cu_unsub_row {
    const unsigned char *hash;
    size_t hash_len;
    const char *subject_id, *purpose;
    int64_t created_at, used_at; /* used_at 0: unused */
    const unsigned char *mac;    /* NULL when none */
    size_t mac_len;
} cu_unsub_row;
typedef int (*cu_unsub_cb)(void *ctx, const cu_unsub_row *r);
/* Inserts hash, subject_id, purpose, created_at and mac. */
CU_MUST_USE int cu_store_unsubscribe_insert(cu_store *s, const cu_unsub_row *r, cu_err *err);
/* One link; CU_ENOTFOUND when unknown. */
CU_MUST_USE int cu_store_unsubscribe_get(cu_store *s, const unsigned char *hash, size_t n,
                                         cu_unsub_cb cb, void *ctx, cu_err *err);
/* Writes r's used_at and mac; CU_ENOTFOUND when unknown or already used. */
CU_MUST_USE int cu_store_unsubscribe_use(cu_store *s, const cu_unsub_row *r, cu_err *err);
/* Every link, by hash. */
CU_MUST_USE int cu_store_unsubscribe_each(cu_store *s, cu_unsub_cb cb, void *ctx, cu_err *err);

/* data-subject rights requests (migration 4); dates are YYYY-MM-DD, "" when
 * unset */
typedef struct cu_request_rec {
    char id[40];
    char controller_id[40];
    char kind[24];
    char channel[16];
    char state[32];
    char paused_from[32];   /* the state clarification was asked from */
    char subject_id[40];    /* "" until identity is verified */
    char purpose[72];       /* an objection's purpose ("*": all), else "" */
    char received_on[11];
    char evidence_on[11];   /* requested identity evidence arrived */
    char told_on[11];       /* the subject was told of an extension */
    char grounds[32];       /* of a refusal */
    char complaint_route[256]; /* of a refusal: the ICO complaint route stated */
    char closed_on[11];     /* fulfilled, refused or withdrawn */
    bool extended;
    int64_t created_at, updated_at;
    unsigned char mac[32];
    size_t mac_len;
} cu_request_rec;
typedef int (*cu_request_cb)(void *ctx, const cu_request_rec *r);
/* Inserts every field of r (unset fields stored as NULL). */
CU_MUST_USE int cu_store_request_insert(cu_store *s, const cu_request_rec *r, cu_err *err);
/* Writes every mutable field of r (state, subject, dates, ...). */
CU_MUST_USE int cu_store_request_update(cu_store *s, const cu_request_rec *r, cu_err *err);
/* One request; CU_ENOTFOUND when absent. */
CU_MUST_USE int cu_store_request_get(cu_store *s, const char *id, cu_request_rec *out,
                                     cu_err *err);
/* Requests of one controller (NULL: all), oldest receipt first; open_only
 * leaves out fulfilled, refused and withdrawn ones. */
CU_MUST_USE int cu_store_request_each(cu_store *s, const char *controller_id, bool open_only,
                                      cu_request_cb cb, void *ctx, cu_err *err);
/* Clarification pauses, in order; resumed_on is "" while open. */
typedef int (*cu_request_pause_cb)(void *ctx, const char *paused_on, const char *resumed_on);
/* Opens a clarification pause on paused_on. */
CU_MUST_USE int cu_store_request_pause_open(cu_store *s, const char *request_id,
                                            const char *paused_on, cu_err *err);
/* Closes a request's open pause on resumed_on (nothing when none is
 * open). */
CU_MUST_USE int cu_store_request_pause_close(cu_store *s, const char *request_id,
                                             const char *resumed_on, cu_err *err);
CU_MUST_USE int cu_store_request_pauses(cu_store *s, const char *request_id,
                                        cu_request_pause_cb cb, void *ctx, cu_err *err);
/* The history of a request: one row per transition; why is sealed. */
typedef struct cu_request_event_row {
    const char *id, *request_id, *on_date, *actor, *action, *from_state, *to_state, *sealed_by;
    int64_t seq, at;
    const void *why;
    size_t why_len;
} cu_request_event_row;
typedef int (*cu_request_event_cb)(void *ctx, const cu_request_event_row *r);
/* Appends one transition (from_state NULL or "" for none). */
CU_MUST_USE int cu_store_request_event_insert(cu_store *s, const cu_request_event_row *r,
                                              cu_err *err);
/* A request's events, oldest first. */
CU_MUST_USE int cu_store_request_event_each(cu_store *s, const char *request_id,
                                            cu_request_event_cb cb, void *ctx, cu_err *err);
/* Replaces the sealed why of one event (resealing under another key). */
CU_MUST_USE int cu_store_request_event_reseal(cu_store *s, const char *event_id,
                                              const char *sealed_by, const void *why,
                                              size_t n, cu_err *err);
/* item-level erasure: one item, re-encryption under a new data key (the
 * item's updated_at is kept: re-keying is not a change of its value) */
CU_MUST_USE int cu_store_item_delete(cu_store *s, const char *subject_id, const char *item_id,
                                     cu_err *err);
CU_MUST_USE int cu_store_item_reseal(cu_store *s, const char *subject_id, const char *item_id,
                                     const void *sealed, size_t n, int64_t version,
                                     cu_err *err);
/* Sets the version of the data key a subject's values are sealed under. */
CU_MUST_USE int cu_store_subject_set_key_version(cu_store *s, const char *id, int64_t version,
                                                 cu_err *err);
/* Replaces a consent record's sealed evidence and its code. */
CU_MUST_USE int cu_store_consent_set_evidence(cu_store *s, const char *id, const void *sealed,
                                              size_t n, const unsigned char *mac,
                                              size_t mac_len, cu_err *err);
/* A subject's break-glass grants (no usernames). */
CU_MUST_USE int cu_store_break_glass_of_subject(cu_store *s, const char *subject_id,
                                                cu_break_glass_cb cb, void *ctx, cu_err *err);
/* Replaces a grant's sealed reason and its code. */
CU_MUST_USE int cu_store_break_glass_set_reason(cu_store *s, const char *id,
                                                const void *sealed, size_t n,
                                                const unsigned char *mac, size_t mac_len,
                                                cu_err *err);

/* Writes a consistent copy of the whole database to dest_path (which must
 * not exist; CU_EIO when it cannot be written); other connections may keep
 * writing meanwhile. For SQLite the copy is a plain SQLite file (rollback
 * journal), made with the online backup API. */
CU_MUST_USE int cu_store_backup(cu_store *s, const char *dest_path, cu_err *err);
/* disclosures (migration 5): data sent to a recipient, append-only. Exactly
 * one of recipient_id (a recipient id of the controller's policy) and
 * recipient (a named organisation, sealed under the subject's key) is usually
 * set; note is sealed too (NULL when none). items is a comma-separated list of
 * item ids, categories of category names; neither holds a value. */
typedef struct cu_disclosure_row {
    const char *id, *subject_id;
    const char *recipient_id;        /* NULL when the recipient is a named organisation */
    const unsigned char *recipient;  /* sealed organisation name; NULL when none */
    size_t recipient_len;
    const char *basis;               /* "a".."f": UK GDPR Art 6(1) */
    const char *purpose, *channel, *items, *categories, *recorded_by;
    int64_t disclosed_at, recorded_at;
    const unsigned char *note;       /* sealed; NULL when none */
    size_t note_len;
} cu_disclosure_row;
typedef int (*cu_disclosure_cb)(void *ctx, const cu_disclosure_row *r);
/* Appends one disclosure. */
CU_MUST_USE int cu_store_disclosure_insert(cu_store *s, const cu_disclosure_row *r,
                                           cu_err *err);
/* A subject's disclosures, oldest first. */
CU_MUST_USE int cu_store_disclosure_each(cu_store *s, const char *subject_id,
                                         cu_disclosure_cb cb, void *ctx, cu_err *err);

/* counts for `custos status` */
typedef struct cu_store_counts {
    int64_t controllers, subjects, erased, items, audit_events, checkpoints;
} cu_store_counts;
CU_MUST_USE int cu_store_counts_get(cu_store *s, cu_store_counts *out, cu_err *err);

/* ---- nodes (migration 7) ----
 * node_keys: every node's Ed25519 public key, an authenticated row (its code
 * covers node, public key and creation time). */
typedef struct cu_node_key_row {
    char node[CU_NODE_MAX];
    unsigned char public_key[32];
    int64_t created_at;
    unsigned char mac[32];
    size_t mac_len; /* 0: no code (a forged row) */
} cu_node_key_row;
typedef int (*cu_node_key_cb)(void *ctx, const cu_node_key_row *r);
CU_MUST_USE int cu_store_node_key_put(cu_store *s, const cu_node_key_row *r, cu_err *err);
/* CU_ENOTFOUND when the node has no recorded key. */
CU_MUST_USE int cu_store_node_key_get(cu_store *s, const char *node, cu_node_key_row *out,
                                      cu_err *err);
CU_MUST_USE int cu_store_node_key_each(cu_store *s, cu_node_key_cb cb, void *ctx, cu_err *err);
CU_MUST_USE int cu_store_node_key_set_mac(cu_store *s, const char *node,
                                          const unsigned char *mac, size_t mac_len,
                                          cu_err *err);
/* erasure_ledger: the erasure ledger's entries, each its signed line
 * (ledger.h) without the newline, append-only, by seq. */
typedef int (*cu_ledger_row_cb)(void *ctx, int64_t seq, const char *line, size_t n);
CU_MUST_USE int cu_store_ledger_add(cu_store *s, int64_t seq, const char *line, size_t n,
                                    cu_err *err);
CU_MUST_USE int cu_store_ledger_each(cu_store *s, cu_ledger_row_cb cb, void *ctx, cu_err *err);
/* jobs: when each once-per-cluster job is next due, when it last ran and on
 * which node; read and written inside the write transaction that runs it. */
typedef struct cu_job_row {
    int64_t due_at, last_run;
    char node[CU_NODE_MAX];
} cu_job_row;
/* CU_ENOTFOUND when the job never ran. */
CU_MUST_USE int cu_store_job_get(cu_store *s, const char *name, cu_job_row *out, cu_err *err);
CU_MUST_USE int cu_store_job_put(cu_store *s, const char *name, const cu_job_row *r,
                                 cu_err *err);
/* Deletes the sessions revoked before revoked_before, last seen before
 * seen_before or created before created_before; *deleted counts them. */
CU_MUST_USE int cu_store_session_purge(cu_store *s, int64_t revoked_before,
                                       int64_t seen_before, int64_t created_before,
                                       int64_t *deleted, cu_err *err);

/* ---- tasks (SQLite migration 10, PostgreSQL 9) ----
 * Clinical tasks raised for a subject's care team (domain/tasks.h). Never
 * deleted; only their state and who moved it change. detail is sealed under
 * the subject's key (NULL when none); owner_user_id "" is the care team. */
typedef struct cu_task_rec {
    char id[37];                  /* ids: a UUID and NUL */
    char controller_id[37];
    char subject_id[37];
    char kind[16];                /* urgent | review */
    char reason[48];              /* a code of the domain's table */
    unsigned char *detail;        /* sealed; NULL when none (owned by the caller
                                   * of cu_store_task_get: cu_task_rec_release) */
    size_t detail_len;
    char source[69]; /* the response it came from, opaque */
    char owner_user_id[37]; /* "": the care team */
    char state[16];               /* open | acknowledged | done */
    int64_t created_at;
    char acked_by[65];            /* actor names: at most 64 bytes */
    int64_t acked_at;
    char done_by[65];
    int64_t done_at;
    unsigned char mac[32];
    size_t mac_len;
} cu_task_rec;
typedef int (*cu_task_cb)(void *ctx, const cu_task_rec *r);
void cu_task_rec_release(cu_task_rec *r);
CU_MUST_USE int cu_store_task_insert(cu_store *s, const cu_task_rec *r, cu_err *err);
/* Writes r's state, acknowledgement, closure and code: CU_ENOTFOUND when no
 * such task. */
CU_MUST_USE int cu_store_task_update(cu_store *s, const cu_task_rec *r, cu_err *err);
/* One task (out->detail allocated: cu_task_rec_release); CU_ENOTFOUND. */
CU_MUST_USE int cu_store_task_get(cu_store *s, const char *id, cu_task_rec *out, cu_err *err);
/* A controller's tasks, urgent first, then oldest first (detail borrowed for
 * the callback only). */
CU_MUST_USE int cu_store_task_each(cu_store *s, const char *controller_id, cu_task_cb cb,
                                   void *ctx, cu_err *err);
/* How many tasks a controller has. */
CU_MUST_USE int cu_store_task_count(cu_store *s, const char *controller_id, int64_t *out,
                                    cu_err *err);

/* ---- questionnaire links (SQLite migration 11, PostgreSQL 10) ----
 * Single-use links asking one subject to answer one questionnaire
 * (domain/responses.h). Keyed by the keyed hash of the link's token; only
 * used_at, response_id and the code change, once (a link retired by an
 * erasure: used_at set, response_id ""). */
typedef struct cu_qlink_row {
    unsigned char hash[32];
    size_t hash_len;
    char id[37];
    char controller_id[37];
    char subject_id[37];
    char url[256];
    char version[65];
    char purpose[65];
    char issued_by[65];
    int64_t issued_at, expires_at, used_at; /* used_at 0: not used */
    char response_id[37];                   /* "": not used */
    unsigned char mac[32];
    size_t mac_len;
} cu_qlink_row;
typedef int (*cu_qlink_cb)(void *ctx, const cu_qlink_row *r);
CU_MUST_USE int cu_store_qlink_insert(cu_store *s, const cu_qlink_row *r, cu_err *err);
/* The link with this token hash; CU_ENOTFOUND. */
CU_MUST_USE int cu_store_qlink_get(cu_store *s, const unsigned char *hash, size_t n,
                                   cu_qlink_row *out, cu_err *err);
/* Marks an unused link used (r's used_at, response_id and code):
 * CU_ENOTFOUND when there is no such link or it was used already. */
CU_MUST_USE int cu_store_qlink_use(cu_store *s, const cu_qlink_row *r, cu_err *err);
/* The links of one subject not used yet (retired by an erasure). */
CU_MUST_USE int cu_store_qlink_unused_of_subject(cu_store *s, const char *subject_id,
                                                 cu_qlink_cb cb, void *ctx, cu_err *err);
/* Every link of one subject, used or not, oldest first (the portal). */
CU_MUST_USE int cu_store_qlink_of_subject(cu_store *s, const char *subject_id, cu_qlink_cb cb,
                                          void *ctx, cu_err *err);
/* Every link, by token hash (custos verify). */
CU_MUST_USE int cu_store_qlink_each(cu_store *s, cu_qlink_cb cb, void *ctx, cu_err *err);
/* custos verify --seal: one link's code. */
CU_MUST_USE int cu_store_qlink_set_mac(cu_store *s, const unsigned char *hash, size_t n,
                                       const unsigned char *mac, size_t mac_len, cu_err *err);
/* ---- pathways (SQLite migration 12, PostgreSQL 11; store/pathways.c) ----
 * Follow-up pathway definitions (store-wide, id + version unique, the
 * canonical document bound by its hash), enrolments of subjects on them and
 * each enrolment's occurrences (domain/pathway.h). */
typedef struct cu_pathway_row {
    const char *id, *version;
    const unsigned char *hash;
    size_t hash_len;
    const void *document;
    size_t document_len;
    int64_t added_at;
    const char *added_by;
    const unsigned char *mac; /* NULL when none */
    size_t mac_len;
} cu_pathway_row;
typedef int (*cu_pathway_row_cb)(void *ctx, const cu_pathway_row *r);
/* CU_ECONFLICT when id + version exists. */
CU_MUST_USE int cu_store_pathway_insert(cu_store *s, const cu_pathway_row *r, cu_err *err);
/* One version, or the one added last when version is NULL; CU_ENOTFOUND. */
CU_MUST_USE int cu_store_pathway_get(cu_store *s, const char *id, const char *version,
                                     cu_pathway_row_cb cb, void *ctx, cu_err *err);
/* Every stored version with its document, by id then time added. */
CU_MUST_USE int cu_store_pathway_each(cu_store *s, cu_pathway_row_cb cb, void *ctx,
                                      cu_err *err);
/* Sets one row's code (custos verify --seal). */
CU_MUST_USE int cu_store_pathway_set_mac(cu_store *s, const char *id, const char *version,
                                         const unsigned char *mac, size_t n, cu_err *err);

typedef struct cu_enrolment_rec {
    char id[37];
    char controller_id[37];
    char subject_id[37];
    char pathway_id[65];
    char pathway_version[65];
    char start_date[11]; /* YYYY-MM-DD */
    char purpose[65];
    int64_t occurrences; /* how many occurrence rows it has */
    char enrolled_by[65];
    int64_t enrolled_at;
    char discharged_by[65];
    int64_t discharged_at; /* 0 while it runs */
    unsigned char mac[32];
    size_t mac_len;
} cu_enrolment_rec;
typedef int (*cu_enrolment_cb)(void *ctx, const cu_enrolment_rec *r);
CU_MUST_USE int cu_store_enrolment_insert(cu_store *s, const cu_enrolment_rec *r, cu_err *err);
/* Writes r's discharge and code: CU_ENOTFOUND when no such enrolment. */
CU_MUST_USE int cu_store_enrolment_update(cu_store *s, const cu_enrolment_rec *r, cu_err *err);
/* A subject's enrolments, oldest first. */
CU_MUST_USE int cu_store_enrolment_of_subject(cu_store *s, const char *subject_id,
                                              cu_enrolment_cb cb, void *ctx, cu_err *err);
/* A controller's enrolments (every controller's when controller_id is NULL),
 * oldest first. */
CU_MUST_USE int cu_store_enrolment_each(cu_store *s, const char *controller_id,
                                        cu_enrolment_cb cb, void *ctx, cu_err *err);
/* How many enrolments a controller has. */
CU_MUST_USE int cu_store_enrolment_count(cu_store *s, const char *controller_id, int64_t *out,
                                         cu_err *err);

typedef struct cu_occurrence_rec {
    char enrolment_id[37];
    int64_t n;           /* 1-based */
    char due_date[11];   /* YYYY-MM-DD */
    char state[16];      /* scheduled | sent | answered | missed | stopped */
    char ref[69];        /* the link or response that moved it, "" when none */
    int64_t changed_at;
    unsigned char mac[32];
    size_t mac_len;
} cu_occurrence_rec;
typedef int (*cu_occurrence_cb)(void *ctx, const cu_occurrence_rec *r);
CU_MUST_USE int cu_store_occurrence_insert(cu_store *s, const cu_occurrence_rec *r,
                                           cu_err *err);
/* Writes r's state, ref, time and code: CU_ENOTFOUND when no such row. */
CU_MUST_USE int cu_store_occurrence_update(cu_store *s, const cu_occurrence_rec *r,
                                           cu_err *err);
/* An enrolment's occurrences by n (every enrolment's, by enrolment then n,
 * when enrolment_id is NULL). */
CU_MUST_USE int cu_store_occurrence_each(cu_store *s, const char *enrolment_id,
                                         cu_occurrence_cb cb, void *ctx, cu_err *err);

#endif
