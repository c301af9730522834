/*
 * store_portal.h — the store's contract for the patient portal (SQLite
 * migrations 13 and 14, PostgreSQL 12 and 13; store/portal.c), a part of store.h kept apart
 * so that only the portal's code includes it.
 *
 * Invitations are single-use and expiring, keyed by the keyed hash of the
 * invitation's code; only used_at and the row code change, once. Accounts
 * are one per subject (a new password replaces the row), found by subject or
 * by sign-in name. Sessions are keyed by the keyed hash of their token and
 * deleted on sign-out, a new password or erasure. Every row carries a code the domain computes and checks
 * (domain/portal.c).
 */
#ifndef CUSTOS_STORE_STORE_PORTAL_H
#define CUSTOS_STORE_STORE_PORTAL_H

#include "store/store.h"

typedef struct cu_pinv_row {
    unsigned char hash[32];
    size_t hash_len;
    char id[37];
    char controller_id[37];
    char subject_id[37];
    char issued_by[65];
    int64_t issued_at, expires_at, used_at; /* used_at 0: not used */
    unsigned char mac[32];
    size_t mac_len;
} cu_pinv_row;
typedef int (*cu_pinv_cb)(void *ctx, const cu_pinv_row *r);
CU_MUST_USE int cu_store_pinv_insert(cu_store *s, const cu_pinv_row *r, cu_err *err);
/* The invitation with this code hash; CU_ENOTFOUND. */
CU_MUST_USE int cu_store_pinv_get(cu_store *s, const unsigned char *hash, size_t n,
                                  cu_pinv_row *out, cu_err *err);
/* Marks an unused invitation used (r's used_at and code): CU_ENOTFOUND when
 * there is none or it was used already. */
CU_MUST_USE int cu_store_pinv_use(cu_store *s, const cu_pinv_row *r, cu_err *err);
/* Every invitation, by code hash (custos verify). */
CU_MUST_USE int cu_store_pinv_each(cu_store *s, cu_pinv_cb cb, void *ctx, cu_err *err);
/* custos verify --seal: one invitation's code. */
CU_MUST_USE int cu_store_pinv_set_mac(cu_store *s, const unsigned char *hash, size_t n,
                                      const unsigned char *mac, size_t mac_len, cu_err *err);

typedef struct cu_pacct_row {
    char subject_id[37];
    char controller_id[37];
    char name[32];
    char pwhash[128];
    int64_t failures, locked_until, created_at, updated_at;
    unsigned char mac[32];
    size_t mac_len;
} cu_pacct_row;
typedef int (*cu_pacct_cb)(void *ctx, const cu_pacct_row *r);
/* Writes the subject's account, replacing the one it had. CU_ECONFLICT when
 * another subject's account has the name. */
CU_MUST_USE int cu_store_pacct_put(cu_store *s, const cu_pacct_row *r, cu_err *err);
/* The subject's account; CU_ENOTFOUND. */
CU_MUST_USE int cu_store_pacct_get(cu_store *s, const char *subject_id, cu_pacct_row *out,
                                   cu_err *err);
/* The account with this sign-in name; CU_ENOTFOUND. */
CU_MUST_USE int cu_store_pacct_by_name(cu_store *s, const char *name, cu_pacct_row *out,
                                       cu_err *err);
/* Every account, by subject (custos verify). */
CU_MUST_USE int cu_store_pacct_each(cu_store *s, cu_pacct_cb cb, void *ctx, cu_err *err);
/* custos verify --seal: one account's code. */
CU_MUST_USE int cu_store_pacct_set_mac(cu_store *s, const char *subject_id,
                                       const unsigned char *mac, size_t mac_len, cu_err *err);

/* Erasure: every invitation of the subject, and its account. */
CU_MUST_USE int cu_store_pinv_delete_subject(cu_store *s, const char *subject_id, cu_err *err);
CU_MUST_USE int cu_store_pacct_delete(cu_store *s, const char *subject_id, cu_err *err);

/* A patient's session, by the keyed hash of its token. */
typedef struct cu_psess_row {
    unsigned char hash[32];
    size_t hash_len;
    char subject_id[37];
    int64_t created_at, last_seen;
    unsigned char mac[32];
    size_t mac_len;
} cu_psess_row;
CU_MUST_USE int cu_store_psess_insert(cu_store *s, const cu_psess_row *r, cu_err *err);
/* The session with this token hash; CU_ENOTFOUND. */
CU_MUST_USE int cu_store_psess_get(cu_store *s, const unsigned char *hash, size_t n,
                                   cu_psess_row *out, cu_err *err);
/* Writes r's last_seen and code: CU_ENOTFOUND when it is gone. */
CU_MUST_USE int cu_store_psess_touch(cu_store *s, const cu_psess_row *r, cu_err *err);
/* Deletes one session (no error when it is gone already). */
CU_MUST_USE int cu_store_psess_delete(cu_store *s, const unsigned char *hash, size_t n,
                                      cu_err *err);
/* Deletes the sessions last seen before seen_before or made before
 * created_before; *deleted says how many. */
CU_MUST_USE int cu_store_psess_purge(cu_store *s, int64_t seen_before, int64_t created_before,
                                     int64_t *deleted, cu_err *err);
/* Deletes every session of the subject. */
CU_MUST_USE int cu_store_psess_delete_subject(cu_store *s, const char *subject_id,
                                              cu_err *err);

/* A cookie choice on the portal (never updated: a new choice is a new row).
 * subject_id "" for a visitor not signed in; visitor_hash_len 0 when the
 * choice is a signed-in patient's. choice "accepted" or "rejected". */
typedef struct cu_pck_row {
    char id[37];
    char controller_id[37];
    char subject_id[37];
    unsigned char visitor_hash[32];
    size_t visitor_hash_len;
    char choice[12];
    int64_t policy_version, chosen_at;
    unsigned char mac[32];
    size_t mac_len;
} cu_pck_row;
typedef int (*cu_pck_cb)(void *ctx, const cu_pck_row *r);
CU_MUST_USE int cu_store_pck_insert(cu_store *s, const cu_pck_row *r, cu_err *err);
/* The latest choice of the subject (or of the visitor hash) about the
 * controller's cookies; CU_ENOTFOUND. */
CU_MUST_USE int cu_store_pck_latest_subject(cu_store *s, const char *subject_id,
                                            const char *controller_id, cu_pck_row *out,
                                            cu_err *err);
CU_MUST_USE int cu_store_pck_latest_visitor(cu_store *s, const unsigned char *hash, size_t n,
                                            const char *controller_id, cu_pck_row *out,
                                            cu_err *err);
/* Every choice, by id (custos verify). */
CU_MUST_USE int cu_store_pck_each(cu_store *s, cu_pck_cb cb, void *ctx, cu_err *err);
/* custos verify --seal: one choice's code. */
CU_MUST_USE int cu_store_pck_set_mac(cu_store *s, const char *id, const unsigned char *mac,
                                     size_t mac_len, cu_err *err);
/* Erasure: every choice of the subject. */
CU_MUST_USE int cu_store_pck_delete_subject(cu_store *s, const char *subject_id, cu_err *err);

#endif
