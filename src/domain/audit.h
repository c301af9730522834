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
 * were recorded are "CUA1" bodies, the same without the rule field; both
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
        payload;
} cu_audit_decoded;

CU_MUST_USE int cu_audit_encode(const cu_audit_event *e, cu_buf *out);
/* Strict decoder for untrusted bytes: CU_ECORRUPT on any malformation. */
CU_MUST_USE int cu_audit_decode(const void *body, size_t n, cu_audit_decoded *out);

void cu_audit_genesis(const char *store_id, unsigned char out[CU_HASH_BYTES]);
void cu_audit_chain(const unsigned char prev[CU_HASH_BYTES], const void *body, size_t n,
                    unsigned char out[CU_HASH_BYTES]);
/* The message a head or checkpoint signature covers. */
#define CU_AUDIT_SIGMSG_MAX 128
size_t cu_audit_sigmsg(const char *store_id, const cu_checkpoint *c,
                       unsigned char out[CU_AUDIT_SIGMSG_MAX]);

/* Appends one event to the open transaction, advancing the vault's head. */
CU_MUST_USE int cu_audit_append(cu_vault *v, cu_audit_event *e, cu_err *err);
/* Signs the head (and keeps a checkpoint when due) before a commit. */
CU_MUST_USE int cu_audit_seal_head(cu_vault *v, cu_err *err);
/* Reloads the head from the store (at the start of a transaction). */
CU_MUST_USE int cu_audit_load_head(cu_vault *v, cu_err *err);

typedef struct cu_verify_report {
    bool ok;
    int64_t events;       /* events checked */
    int64_t checkpoints;  /* signatures checked, head included */
    int64_t first_bad;    /* seq of the first event that fails, 0 if none */
    char reason[200];     /* one line naming what failed */
} cu_verify_report;

/* Recomputes the chain and checks every signature. Returns CU_OK when the
 * verification ran (the report says whether the trail is intact). */
CU_MUST_USE int cu_audit_verify(cu_vault *v, cu_verify_report *rep, cu_err *err);

#endif
