/*
 * vault_impl.h — the vault's insides, shared by the domain modules that
 * implement operations (audit.c, subject.c, vault.c, op.c). Not for
 * interfaces. The operation itself is op.h; its private part op_impl.h.
 */
#ifndef CUSTOS_DOMAIN_VAULT_IMPL_H
#define CUSTOS_DOMAIN_VAULT_IMPL_H

#include <limits.h>

#include "domain/access.h"
#include "domain/deadline.h"
#include "domain/policy.h"
#include "domain/op_impl.h"
#include "domain/vault.h"
#include "store/store.h"

struct cu_vault {
    cu_store *store;
    cu_key *master;
    cu_key *wrap;         /* derived from master: wraps data keys and the keyring */
    cu_key *index_root;   /* keyring: roots the per-controller blind-index keys */
    cu_key *signing_seed; /* keyring: Ed25519 seed for chain heads */
    cu_signer *signer;    /* the same key, expanded once */
    cu_key *pseudonym_root; /* keyring: roots per-controller subject pseudonyms */
    cu_key *totp_key;       /* keyring: seals staff one-time-code secrets */
    cu_key *requests_key;   /* keyring: seals notes on requests not yet linked to a subject */
    cu_key *integrity_key;  /* keyring: authenticates security-relevant rows (integrity.h);
                             * NULL for a store not yet sealed (opened for checking only) */
    /* The bank-holiday calendar the statutory clocks run on (requests.c):
     * loaded on first use, from the embedded data unless one was chosen. */
    cu_holidays holidays;
    bool holidays_loaded;
    char holidays_source[PATH_MAX + 16];
    unsigned char pubkey[CU_PUBKEY_BYTES];
    char store_id[CU_ID_STRLEN];
    char dir[PATH_MAX];
    char key_path[PATH_MAX];
    /* The id (hex) of the master key in memory. Every transaction that starts
     * after another process has committed compares it with the store's
     * meta master_key_id and reloads the keys when a rotation replaced it. */
    char key_id[2 * CU_KEYID_BYTES + 1];
    /* audit chain state: the last appended event, and what is signed */
    int64_t head_seq;
    unsigned char head_hash[CU_HASH_BYTES];
    int64_t signed_seq;
    bool tail_signed; /* the trail's end at load is covered by a genuine signed head */
    cu_checkpoint last_signed; /* the head this process signed last, to skip re-verifying it */
    /* The head in memory is what this vault's last transaction committed
     * (cu_vault_tx_commit), whose handle's cu_store_tx_seq was head_tx:
     * the next transaction need not load it again unless another connection
     * has committed since (cu_vault_tx_begin). */
    bool head_fresh;
    uint64_t head_tx;
    /* The seq of the last audit checkpoint, known since the head was last
     * loaded (cu_audit_seal_head). */
    bool ckpt_known;
    int64_t ckpt_last;
    struct cu_audit_pin *pin;  /* where the trail begins (audit.h); NULL: none found */
    bool batch;
    bool batch_failed; /* an operation of the open batch failed to write: it commits nothing */
    bool integrity_walk; /* integrity.c is walking the rows: cu_op_check_subject_key */
    bool shred_pending; /* an erase in the open batch: compact the store's log at commit */
    /* Erasures this process appended to the ledger; whether one is in the
     * open transaction; and whether one was undone in the store (its
     * operation or its transaction failed), which cu_erasure_catch_up or the
     * next open re-applies from the ledger. */
    uint64_t ledger_appends;
    bool ledger_in_tx;
    bool ledger_ahead;
    /* Each controller's current policy, parsed once (policy NULL: none). The
     * cache is dropped when another connection has committed since it was
     * filled (checked at the start of every transaction) and after this
     * process applies a policy. */
    struct cu_policy_slot {
        char controller_id[CU_ID_STRLEN];
        cu_policy *policy;
    } *policies;
    size_t npolicies, policies_cap;
    int64_t changes; /* cu_store_change_counter when the caches were last checked */
    int64_t trail;   /* cu_store_trail_counter when the audit head was last loaded */
    bool policies_stale;
    int64_t replayed; /* erasures re-applied from the ledger when opened (recover.c) */
    struct cu_auth_cache *auth_cache; /* staff.c: credentials recently accepted */
    struct cu_verified_items *verified; /* subject_rows.c: subjects whose items were checked */
    struct cu_qtitles *qtitles; /* questionnaires.c: titles of questionnaire versions read */
    /* node.c: this process's node, its signing key (NULL: sign with the
     * store's key) and the recorded keys of nodes already checked */
    char node[CU_NODE_MAX];
    cu_key *node_seed;
    cu_signer *node_signer;
    struct cu_node_pk {
        char node[CU_NODE_MAX];
        unsigned char pk[CU_PUBKEY_BYTES];
    } *node_keys;
    size_t nnode_keys;
    /* parsed questionnaires by their document's hash (questionnaires.c) */
    struct cu_qcache *qcache;
    /* parsed pathway definitions by their document's hash (pathway.c) */
    struct cu_pwcache *pwcache;
    /* The tasks head of one controller whose rows were counted in this
     * write transaction (tasks.c): while the transaction (cu_store_tx_seq
     * tx) is open and the head still reads head, the rows are known to
     * number head, since this vault changes rows and head together. Carried
     * into the next transaction when the audit head is (cu_vault_tx_begin:
     * this vault committed it, and no other connection or program has
     * committed since) and the store's change counter sees every commit. */
    struct cu_tasks_seen {
        uint64_t tx;
        char controller_id[CU_ID_STRLEN];
        int64_t head;
    } tasks_seen;
};

/* Keyring entries (vault.c): stores key wrapped under the wrapping key, and
 * loads one (CU_ENOTFOUND when missing). */
CU_MUST_USE int cu_vault_keyring_store(cu_vault *v, const char *name, const cu_key *key,
                                       cu_err *err);
CU_MUST_USE int cu_vault_keyring_load(cu_vault *v, const char *name, cu_key **out,
                                      cu_err *err);
/* Releases node.c's state (cu_vault_close). */
void cu_node_release(cu_vault *v);

/* The controller's current policy, from the cache or the store; *out is NULL
 * when the controller has none. The policy stays valid until the next
 * transaction begins. */
CU_MUST_USE int cu_vault_policy(cu_vault *v, const char *controller_id, const cu_policy **out,
                                cu_err *err);
/* Marks the cached policies stale (after applying one). */
void cu_vault_policies_changed(cu_vault *v);

/* Transactions of the vault (op.c opens and ends an operation's with them):
 * begin reloads what another process may have changed (master key, audit
 * head, caches); commit signs the audit head and commits. */
CU_MUST_USE int cu_vault_tx_begin(cu_vault *v, cu_err *err);
CU_MUST_USE int cu_vault_tx_commit(cu_vault *v, cu_err *err);
/* Runs write(v, ctx, err), a few store writes outside any operation (a
 * session's last use, a rehashed password, a cookie choice), where they
 * belong: in the server's group commit under a savepoint of its own (undone
 * alone when it fails); inside a caller's transaction, in it; else in a
 * transaction of its own. */
typedef int (*cu_vault_write_fn)(cu_vault *v, void *ctx, cu_err *err);
CU_MUST_USE int cu_vault_write(cu_vault *v, cu_vault_write_fn write, void *ctx, cu_err *err);
/* Inside a batch, after an operation failed to write: undoes the batch so far
 * and marks it failed. The batch stays open (in a transaction of its own, so
 * nothing written after lands either): later operations of it are refused and
 * its commit fails, so no request of the batch reports a change as stored. */
void cu_vault_batch_fail(cu_vault *v);

/* Makes and stores the integrity key when the store has none (inside the
 * caller's transaction): only cu_integrity_seal, the operator's decision. */
CU_MUST_USE int cu_vault_make_integrity_key(cu_vault *v, cu_err *err);

/* Row authentication of the staff tables (staff.c; integrity.h). */
/* A token's stored hash, keyed under the integrity key; kind is "session",
 * "api" or "unsubscribe". */
void cu_token_keyed_hash(cu_vault *v, const char *kind, const char *token, size_t n,
                         unsigned char out[CU_HASH_BYTES]);
/* Puts user_id on subject_id's care list (an authenticated row). */
CU_MUST_USE int cu_care_add_row(cu_vault *v, const char *user_id, const char *subject_id,
                                int64_t now, const char *by, cu_err *err);
/* Whether user_id is on subject_id's care list; CU_ETAMPER when the row
 * fails authentication. */
CU_MUST_USE int cu_care_on_list(cu_vault *v, const char *user_id, const char *subject_id,
                                bool *out, cu_err *err);
/* Whether a break-glass grant of user_id to subject_id is in force at now;
 * CU_ETAMPER when one of the grants fails authentication. */
CU_MUST_USE int cu_break_glass_in_force(cu_vault *v, const char *user_id,
                                        const char *subject_id, int64_t now, bool *out,
                                        cu_err *err);
/* A grant's row code, and its check (CU_ETAMPER naming the grant). */
void cu_break_glass_sign(cu_vault *v, const cu_break_glass_row *b,
                         unsigned char out[CU_HASH_BYTES]);
CU_MUST_USE int cu_break_glass_check(cu_vault *v, const cu_break_glass_row *b, cu_err *err);

/* Checks one policy row (consent.c): its code, its document against its
 * digest (when the row has one), and, when it is taken as the current one,
 * that it is the latest version the controller's authenticated head
 * records. CU_ETAMPER naming the row otherwise. */
CU_MUST_USE int cu_policy_row_check(cu_vault *v, const cu_policy_row *r, bool current,
                                    cu_err *err);

/* Consent and objection rows (consent.c). A consent row's code and its
 * check (CU_ETAMPER naming the record). */
void cu_consent_row_sign(cu_vault *v, const cu_consent_row *r, unsigned char out[CU_HASH_BYTES]);
CU_MUST_USE int cu_consent_row_check(cu_vault *v, const cu_consent_row *r, cu_err *err);
/* A subject's consent records, each authenticated before cb sees it. */
CU_MUST_USE int cu_consent_each_checked(cu_vault *v, const char *subject_id, cu_consent_cb cb,
                                        void *ctx, cu_err *err);
/* Whether the latest (authenticated) record for subject x purpose says given. */
CU_MUST_USE int cu_consent_given(cu_vault *v, const char *subject_id, const char *purpose,
                                 bool *out, cu_err *err);
/* Whether an active objection of rec names purpose or "*"; every objection
 * row is authenticated and the active ones must be as many as rec->objecting
 * (CU_ETAMPER otherwise: a deleted or added objection row). */
CU_MUST_USE int cu_objection_active(cu_vault *v, const cu_subject_rec *rec, const char *purpose,
                                    bool *out, cu_err *err);
/* Records an objection (with its code) and recounts the subject's. */
CU_MUST_USE int cu_objection_add(cu_vault *v, const char *subject_id, const char *purpose,
                                 int64_t now, const char *by, cu_err *err);

typedef struct cu_auth_cache cu_auth_cache;
void cu_auth_cache_free(cu_auth_cache *c);

/* Keys of one subject and one controller. A subject's data key is obtained
 * only through an authorised operation: cu_op_subject_key (op_impl.h). The
 * associated data its wrapping is bound to: */
size_t cu_vault_dek_ad(const char *subject_id, int64_t version, unsigned char out[96]);
void cu_vault_wrap_subject_key(cu_vault *v, const char *subject_id, int64_t version,
                               const cu_key *dek, unsigned char out[CU_WRAPPED_KEY_BYTES]);
void cu_vault_blind_index(cu_vault *v, const char *controller_id, const char *kind,
                          const char *value, size_t n, unsigned char out[CU_HASH_BYTES]);

/* The tag that makes an item-listing cursor tamper-evident: keyed (a key of
 * the keyring, so every node of a store computes the same) over the subject
 * and the item the cursor continues after. */
void cu_vault_cursor_tag(cu_vault *v, const char *subject_id, const char *item_id,
                         unsigned char out[CU_HASH_BYTES]);

/* "psn_" + 32 hex digits: the subject's pseudonym within its controller. */
#define CU_PSEUDONYM_STRLEN 37
void cu_vault_pseudonym(cu_vault *v, const char *controller_id, const char *subject_id,
                        char out[CU_PSEUDONYM_STRLEN]);
/* "psi_" + 32 hex digits: an item's pseudonym within its controller, for
 * those who see subjects by pseudonym (a real item id is a UUID version 7,
 * whose first bits are the time it was recorded). Keyed by the pseudonym
 * root under its own domain: stable, unlinkable to the item id or across
 * controllers. */
void cu_vault_item_pseudonym(cu_vault *v, const char *controller_id, const char *item_id,
                             char out[CU_PSEUDONYM_STRLEN]);

/* Associated data binding a sealed value to where it belongs. */
#define CU_AD_MAX 320
/* Associated data of an audit event's sealed payload: controller, subject and
 * the event's seq (lengths given, as they come from decoded events). */
size_t cu_ad_audit(unsigned char out[CU_AD_MAX], const char *controller_id, size_t ncontroller,
                   const char *subject_id, size_t nsubject, int64_t seq);
size_t cu_ad_item(unsigned char out[CU_AD_MAX], const char *controller_id,
                  const char *subject_id, const char *item_id, const char *field,
                  int64_t key_version);
/* Associated data of an item's value: cu_ad_item's, then the item's category
 * and version, so a value relabelled under another category, or an older
 * value put back, fails authentication. (cu_ad_item alone is the AD of other
 * sealed values of a subject, and of item values sealed before items were
 * versioned: `custos verify --seal` reseals those.) */
size_t cu_ad_value(unsigned char out[CU_AD_MAX], const char *controller_id,
                   const char *subject_id, const char *item_id, const char *field,
                   int64_t key_version, const char *category, int64_t version);

/* Appends a whole-subject erasure to the erasure ledger and records the
 * ledger's end in the store (erasure.c): called inside the erasing
 * transaction, before it commits. */
CU_MUST_USE int cu_erasure_ledger_subject(cu_vault *v, const char *subject_id, int64_t now,
                                          cu_err *err);
/* For an erasure that failed (rc) after its ledger entry was appended (the
 * process's ledger_appends moved from appends_before): adds to err's message
 * that the ledger completes it. Returns rc. */
int cu_erasure_failed(cu_vault *v, uint64_t appends_before, int rc, cu_err *err);
/* ---- disclosures, for the modules that export (disclosure.c, sar.c) ---- */
struct cu_disclosure_in;
struct cu_disclosure_view;
/* Validates in and records one disclosure of rec inside the open operation
 * op (its categories are added to op->categories). */
CU_MUST_USE int cu_disclosure_add(cu_vault *v, cu_op *op, const cu_subject_rec *rec,
                                  const cu_key *dek, const struct cu_disclosure_in *in,
                                  char id_out[CU_ID_STRLEN], cu_err *err);
/* Every disclosure of rec, decrypted with dek (NULL: erased, names unreadable),
 * inside an open operation. */
CU_MUST_USE int cu_disclosure_each_view(cu_vault *v, const cu_subject_rec *rec,
                                        const cu_key *dek,
                                        int (*cb)(void *ctx, const struct cu_disclosure_view *d),
                                        void *ctx, cu_err *err);

/* Frees the parsed questionnaires a vault keeps (questionnaires.c). */
struct cu_qcache;
void cu_qcache_free(struct cu_qcache *c);
/* Frees the parsed pathway definitions a vault keeps (pathway.c). */
struct cu_pwcache;
void cu_pwcache_free(struct cu_pwcache *c);

#endif
