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
    char controller_id[CU_ID_STRLEN]; /* whose portal it opens (its cookie banner) */
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
 * its Argon2id hash (staff.h: cu_password_hash), made before this call so
 * that the slow hash runs off the store's thread. name_out receives the
 * account's sign-in name. The refusals of cu_portal_peek, CU_ECONFLICT when
 * another call used it first, CU_EERASED for an erased subject. */
CU_MUST_USE int cu_portal_set_password(cu_vault *v, const char *code, size_t n,
                                       const char *pwhash, const char *via,
                                       char name_out[CU_PORTAL_NAME_STRLEN], cu_err *err);

/* Room for a password's hash (staff.h: cu_password_hash). */
#define CU_PORTAL_PWHASH_MAX 128

/* Normalises a code as typed (either case, with or without the dashes) to
 * its 20 characters; false when it cannot be a code. */
bool cu_portal_code_normalise(const char *code, size_t n, char out[21]);

/* ---- sign-in and sessions ----
 *
 * A patient signs in with the account's sign-in name and password, in two
 * steps like staff (staff.h) so that the slow hash runs off the store's
 * thread: cu_portal_signin_prepare reads the account's hash, the caller
 * checks the password, and cu_portal_signin_finish records the attempt (one
 * audit event about the subject, action portal.signin, actor
 * "portal:NAME", role subject; a refusal names the rule wrong-password or
 * account-locked), counts failures (lock-out after CU_SIGNIN_MAX_FAILURES:
 * 15 minutes, doubling) and on success makes a session. Only the keyed hash
 * of a session's token is stored. A session ends after idle_us without use
 * or absolute_us after sign-in, on sign-out, when a new password is set and
 * when the subject is erased (which deletes the account). */
typedef struct cu_portal_who {
    char subject_id[CU_ID_STRLEN];
    char controller_id[CU_ID_STRLEN];
    char name[CU_PORTAL_NAME_STRLEN];
    char actor_name[48]; /* "portal:NAME" */
    unsigned char session_hash[32];
} cu_portal_who;

typedef enum cu_portal_signin_result {
    CU_PSIGNIN_OK,
    CU_PSIGNIN_BAD_CREDENTIALS, /* unknown name, wrong password, erased subject */
    CU_PSIGNIN_LOCKED,
} cu_portal_signin_result;

/* Normalises a sign-in name as typed (either case, with or without the
 * dashes) to "XXXX-XXXX-XXXX"; false when it cannot be one. */
bool cu_portal_name_normalise(const char *name, size_t n, char out[CU_PORTAL_NAME_STRLEN]);

/* Reads the account's password hash (not audited): *found false when no
 * account has the name (or its row fails its code). */
CU_MUST_USE int cu_portal_signin_prepare(cu_vault *v, const char *name, bool *found,
                                         char pwhash[CU_PORTAL_PWHASH_MAX], cu_err *err);
/* Records the attempt; on CU_PSIGNIN_OK fills token_out and who. CU_OK when
 * the attempt was recorded (see *result). */
CU_MUST_USE int cu_portal_signin_finish(cu_vault *v, const char *name, bool password_ok,
                                        const char *via, cu_portal_signin_result *result,
                                        char token_out[48], cu_portal_who *who, cu_err *err);
/* The session a token names: CU_EDENIED when unknown, expired, altered or
 * its account is gone. Touches last use at most once a minute. */
CU_MUST_USE int cu_portal_session(cu_vault *v, const char *token, size_t n, int64_t idle_us,
                                  int64_t absolute_us, cu_portal_who *who, cu_err *err);
/* Signs out: deletes who's session (audited: portal.signout). */
CU_MUST_USE int cu_portal_signout(cu_vault *v, const cu_portal_who *who, const char *via,
                                  cu_err *err);
/* The actor of a signed-in patient: role subject, their own subject only. */
void cu_portal_actor(const cu_portal_who *who, const char *via, cu_actor *out);
/* The session-purge job (jobs.c): deletes the sessions last used before
 * seen_before or made before created_before, inside the caller's
 * transaction; *deleted says how many. */
CU_MUST_USE int cu_portal_sessions_purge(cu_vault *v, int64_t seen_before,
                                         int64_t created_before, int64_t *deleted,
                                         cu_err *err);
/* Erasure (erasure.c, and the ledger's replay): the subject's account,
 * sessions, invitations and cookie choices deleted, inside the caller's
 * transaction. */
CU_MUST_USE int cu_portal_forget_subject(cu_vault *v, const char *subject_id, cu_err *err);

#endif
