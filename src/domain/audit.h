/*
 * audit.h — the tamper-evident audit trail.
 *
 * An event records who (actor, role) did what (action, outcome) to whom
 * (controller, subject id), touching which categories, why (purpose) and
 * through what (via: interface and command or route template). It never holds a
 * plaintext personal value; an optional payload (the old values of a
 * rectification) is sealed under the subject's data key, so erasing the subject
 * makes it unreadable while the chain stays verifiable.
 *
 * Canonical encoding (the body that is hashed), all integers big-endian:
 *   "CUA2" | u64 seq | u64 ts_us | field actor | field role | field action |
 *   field controller | field subject | field categories | field purpose |
 *   field outcome | field rule | field via | field payload
 * where field = u32 length | bytes, and rule names the access or policy rule
 * that refused a denied request ("" otherwise). Events written before rules
 * were recorded are "CUA1" bodies, the same without the rule field. An event
 * that carries a detail is a "CUA3" body: the CUA2 fields with
 * "field detail" after via (before payload). The detail names, without
 * personal data, what else the operation did in the same transaction:
 * "task.raise ID[ ID...]" for the tasks a stored questionnaire answer raised
 * (cu_op_note, op_impl.h). Events without one stay CUA2 bodies; all three
 * decode.
 *
 * Chain: hash(n) = BLAKE2b-256(hash(n-1) || body(n)); hash(0) =
 * BLAKE2b-256("custos audit genesis v1" || store id). The head (last seq and
 * hash) is signed with Ed25519 at every commit; a checkpoint is kept about
 * every CU_AUDIT_CHECKPOINT_EVERY events.
 */
#ifndef CUSTOS_DOMAIN_AUDIT_H
#define CUSTOS_DOMAIN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "domain/vault.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"

#define CU_AUDIT_CHECKPOINT_EVERY 4096

typedef struct cu_audit_event {
    int64_t seq;
    int64_t ts;
    const char *actor, *role, *action, *controller, *subject, *categories, *purpose,
        *outcome, *rule, *via;
    const char *detail; /* NULL or "": none (a CUA2 body) */
    const unsigned char *payload;
    size_t payload_len;
} cu_audit_event;

/* A decoded body: views into the bytes it was decoded from. */
typedef struct cu_view {
    const char *p;
    size_t n;
} cu_view;

typedef struct cu_audit_decoded {
    int64_t seq, ts;
    cu_view actor, role, action, controller, subject, categories, purpose, outcome, rule, via,
        detail, payload;
} cu_audit_decoded;

CU_MUST_USE int cu_audit_encode(const cu_audit_event *e, cu_buf *out);
/* Strict decoder for untrusted bytes: CU_ECORRUPT on any malformation. */
CU_MUST_USE int cu_audit_decode(const void *body, size_t n, cu_audit_decoded *out);

/* How many ids an event's detail names for action ("task.raise"): 0 when
 * the detail is empty or about another action. */
size_t cu_audit_detail_count(cu_view detail, const char *action);

void cu_audit_genesis(const char *store_id, unsigned char out[CU_HASH_BYTES]);
void cu_audit_chain(const unsigned char prev[CU_HASH_BYTES], const void *body, size_t n,
                    unsigned char out[CU_HASH_BYTES]);
/* The message a head or checkpoint signature covers. */
#define CU_AUDIT_SIGMSG_MAX 192
size_t cu_audit_sigmsg(const char *store_id, const cu_checkpoint *c,
                       unsigned char out[CU_AUDIT_SIGMSG_MAX]);

/* Appends one event to the open transaction, advancing the vault's head. */
CU_MUST_USE int cu_audit_append(cu_vault *v, cu_audit_event *e, cu_err *err);
/* Signs the head (and keeps a checkpoint when due) before a commit. */
CU_MUST_USE int cu_audit_seal_head(cu_vault *v, cu_err *err);
/* Reloads the head from the store (at the start of a transaction). */
CU_MUST_USE int cu_audit_load_head(cu_vault *v, cu_err *err);

/* The pin: where the trail begins, signed with the audit key and kept in the
 * store's meta table. `custos init` pins the trail to its genesis (start 1,
 * prev = hash(0)); the first event appended there is pinned too (first), so
 * a trail emptied or cut at its start never verifies again, even once new
 * events are chained on. Only the operator's decision (cu_audit_restart)
 * moves the pin, to a new event after whatever is left. A database writer
 * without the master key can neither forge nor move it; removing it makes
 * verification fail. */
typedef struct cu_audit_pin {
    int64_t start;                      /* seq of the first event verified */
    unsigned char prev[CU_HASH_BYTES];  /* the hash it chains from */
    unsigned char first[CU_HASH_BYTES]; /* its hash, once it exists */
    bool has_first;
    unsigned char sig[CU_SIG_BYTES];
} cu_audit_pin;

/* Signs pin (start, prev, first, has_first) with seed or signer (one of them
 * non-NULL) and stores it in the open transaction. */
CU_MUST_USE int cu_audit_pin_put(cu_store *s, const char *store_id, const cu_key *seed,
                                 const cu_signer *signer, cu_audit_pin *pin, cu_err *err);
/* Loads and checks the store's pin: CU_ENOTFOUND when there is none,
 * CU_ETAMPER when it is malformed or its signature is not the store's. */
CU_MUST_USE int cu_audit_pin_get(cu_vault *v, cu_audit_pin *out, cu_err *err);

/* A quick check that the trail begins where it is pinned, for `custos serve`
 * to refuse a store whose trail was emptied or cut at its start: the pin is
 * there and genuine, the pinned first event is there and chains from the
 * pin, the head is genuine when events exist, and a store that holds any
 * controller or subject has events. CU_ETAMPER naming what fails. */
CU_MUST_USE int cu_audit_check_start(cu_vault *v, cu_err *err);

/* The operator's decision to start a new trail on a store whose trail fails
 * verification: pins a new start after whatever events are left and appends
 * the decision as its first event. Refused (CU_EINVAL) when the trail
 * verifies. *restart_seq is the new first event. */
CU_MUST_USE int cu_audit_restart(cu_vault *v, const cu_actor *a, int64_t *restart_seq,
                                 cu_err *err);

/* For a store made before trails were pinned (`custos verify --seal`): pins
 * the trail at its genesis once the whole trail verifies from it; CU_ETAMPER
 * otherwise. Runs inside the caller's transaction; nothing when pinned. */
CU_MUST_USE int cu_audit_pin_legacy(cu_vault *v, cu_err *err);

typedef struct cu_verify_report {
    bool ok;
    int64_t events;       /* events checked */
    int64_t checkpoints;  /* signatures checked, head included */
    int64_t first_bad;    /* seq of the first event that fails, 0 if none */
    char reason[200];     /* one line naming what failed */
    int64_t start;        /* the pinned first event: 1 unless the trail was restarted */
    int64_t before_start; /* events before a restart, not verified */
    /* cu_audit_check: whether the verification's own audit event was stored;
     * when not (a full disk), why, in one line */
    bool recorded;
    char not_recorded[200];
} cu_verify_report;

/* Recomputes the chain and checks every signature. Returns CU_OK when the
 * verification ran (the report says whether the trail is intact). */
CU_MUST_USE int cu_audit_verify(cu_vault *v, cu_verify_report *rep, cu_err *err);

/* The vocabulary of events, so that everything a subject reads about their
 * record has words (iface/wording.c; its unit test walks these lists):
 *   - every action an operation may record; cu_op_begin refuses any other;
 *   - every rule that may refuse an operation ("refused" when none is named);
 *   - every outcome ("ok", "denied", "not_found", "erased").
 * Each *_at returns NULL past the end. */
const char *cu_audit_action_at(size_t i);
bool cu_audit_action_known(const char *action);
const char *cu_audit_rule_at(size_t i);
const char *cu_audit_outcome_at(size_t i);

#endif
