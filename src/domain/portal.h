/*
 * portal.h — the patient portal's accounts (portal.c): invitations and the
 * password a subject sets with one.
 *
 * An invitation is made by staff who may contact the subject (action
 * portal.invite, CU_ACT_PORTAL_INVITE: a clinician with the subject on their
 * care list, never under break-glass; the care_admin; the dpo; the
 * operator). It carries a code of 100 random bits, written as four groups of
 * five Crockford base32 characters ("K7QDM-3MZPX-2RA9T-0BC4E"), short enough
 * for a letter and long enough that it cannot be guessed; only its keyed
 * hash is stored, under a row code (custos verify walks both tables). It is
 * single-use and expires (default 14 days, at most 90).
 *
 * Opening it, the subject sets the password of their account (action
 * portal.account, the subject acting through the invitation: actor
 * portal-invitation, role subject), which uses the invitation up. A subject
 * has one account; an invitation for a subject who has one resets its
 * password. The account's sign-in name is random (12 Crockford base32
 * characters in three groups), made when the account is, kept across
 * resets, and shown once the password is set.
 */
#ifndef CUSTOS_DOMAIN_PORTAL_H
#define CUSTOS_DOMAIN_PORTAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/vault.h"
#include "util/err.h"

#define CU_PORTAL_DAYS_DEFAULT 14
#define CU_PORTAL_DAYS_MAX 90
/* "XXXXX-XXXXX-XXXXX-XXXXX" and NUL */
#define CU_PORTAL_CODE_STRLEN 24
/* "XXXX-XXXX-XXXX" and NUL */
#define CU_PORTAL_NAME_STRLEN 15

typedef enum cu_pinv_state {
    CU_PINV_OPEN,
    CU_PINV_USED,
    CU_PINV_EXPIRED
} cu_pinv_state;

/* What an invitation may tell whoever holds it: never which subject. */
typedef struct cu_portal_invitation {
    char id[CU_ID_STRLEN];
    int64_t issued_at, expires_at, used_at;
    cu_pinv_state state;
    bool has_account; /* the subject has an account: the invitation resets it */
    char controller_name[128]; /* the controller's name in its policy ("" when none) */
} cu_portal_invitation;

/* Makes an invitation for subject_id (an id or a pseudonym) valid for days
 * (0: 14; 1 to 90). code_out receives the code (shown once); out (may be
 * NULL) what the invitation says. CU_EDENIED, CU_ECONCEALED, CU_ENOTFOUND,
 * CU_EERASED as for any operation on a subject; CU_EINVAL for days. */
CU_MUST_USE int cu_portal_invite(cu_vault *v, const cu_actor *a, const char *subject_id,
                                 int days, char code_out[CU_PORTAL_CODE_STRLEN],
                                 cu_portal_invitation *out, cu_err *err);

/* For the invitation's page, with no sign-in: CU_ENOTFOUND for an unknown,
 * malformed or forged code ("no such invitation"); CU_ECONFLICT for a used
 * one and CU_EDENIED for an expired one, with out filled; CU_ETAMPER for an
 * altered row. Nothing is recorded. */
CU_MUST_USE int cu_portal_peek(cu_vault *v, const char *code, size_t n,
                               cu_portal_invitation *out, cu_err *err);

/* Sets the password of the invited subject's account (created when it has
 * none) and uses the invitation up, in one audited operation. The password
 * follows cu_password_check's rules (CU_EINVAL, nothing recorded); pwhash is
 * its Argon2id hash (cu_portal_hash_password), made before this call so
 * that the slow hash runs off the store's thread. name_out receives the
 * account's sign-in name. The refusals of cu_portal_peek, CU_ECONFLICT when
 * another call used it first, CU_EERASED for an erased subject. */
CU_MUST_USE int cu_portal_set_password(cu_vault *v, const char *code, size_t n,
                                       const char *pwhash, const char *via,
                                       char name_out[CU_PORTAL_NAME_STRLEN], cu_err *err);

/* Checks a password's rules and hashes it (Argon2id) into out. */
#define CU_PORTAL_PWHASH_MAX 128
CU_MUST_USE int cu_portal_hash_password(const char *password, size_t n,
                                        char out[CU_PORTAL_PWHASH_MAX], cu_err *err);

/* Normalises a code as typed (either case, with or without the dashes) to
 * its 20 characters; false when it cannot be a code. */
bool cu_portal_code_normalise(const char *code, size_t n, char out[21]);

#endif
