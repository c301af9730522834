/*
 * staff.h — staff accounts, sign-in, sessions, API tokens, care lists and
 * break-glass grants. Each change is an audited operation through the vault's
 * choke point.
 *
 * Accounts: a username ([a-z][a-z0-9_.-]{0,63}), one controller, one or more
 * roles (access.h), an Argon2id password hash (at least CU_PASSWORD_MIN
 * characters), and for the admin and dpo roles (optional for others) a TOTP
 * secret sealed under the store's one-time-code key.
 *
 * Sign-in is two steps so that the deliberately slow password hash never runs
 * on the thread that owns the vault: cu_signin_prepare reads the account,
 * the caller checks the password with cu_pwhash_verify, and cu_signin_finish
 * checks lock-out, the one-time code (no replay), records the outcome (failure
 * counts, lock-out after CU_SIGNIN_MAX_FAILURES: 15 minutes, doubling) and the
 * audit event, and on success creates a session. Only the hash of a session or
 * API token is stored.
 *
 * Sessions expire after idle_us without use and absolute_us after sign-in; a
 * session of a disabled account, or one revoked by sign-out or a password
 * reset, is refused. Inside a batch, credentials already accepted are
 * remembered, so a request costs no query; any change to accounts, sessions or
 * tokens (by this process at once, by another at the start of the next batch)
 * forgets them all. A session's last use is written at most once a minute.
 */
#ifndef CUSTOS_DOMAIN_STAFF_H
#define CUSTOS_DOMAIN_STAFF_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/secrets.h"
#include "domain/access.h"
#include "domain/vault.h"
#include "store/store.h"

#define CU_SIGNIN_MAX_FAILURES 5
#define CU_SESSION_IDLE_DEFAULT_US (30LL * 60 * 1000000)
#define CU_SESSION_ABSOLUTE_DEFAULT_US (12LL * 3600 * 1000000)

/* Who a request is from, once authenticated. */
typedef struct cu_principal {
    char id[40];            /* user id or API token id */
    char name[80];          /* username, or "token:<name>" */
    char controller_id[40];
    char roles_text[96];
    unsigned roles;
    bool token;
    unsigned char session_hash[CU_HASH_BYTES]; /* for sign-out; zero for tokens */
} cu_principal;

/* The actor for an operation by p, stating purpose through via. */
void cu_principal_actor(const cu_principal *p, const char *purpose, const char *via,
                        cu_actor *out);

CU_MUST_USE int cu_user_add(cu_vault *v, const cu_actor *a, const char *controller_id,
                            const char *username, const char *roles, const char *password,
                            size_t n, bool want_totp, char id_out[CU_ID_STRLEN],
                            char totp_b32_out[CU_TOTP_B32_LEN], cu_err *err);
/* The same with the password's hash already made by cu_password_hash, so
 * that the slow hash can run off the store's thread. */
CU_MUST_USE int cu_user_add_hashed(cu_vault *v, const cu_actor *a, const char *controller_id,
                                   const char *username, const char *roles,
                                   const char *pwhash, bool want_totp,
                                   char id_out[CU_ID_STRLEN],
                                   char totp_b32_out[CU_TOTP_B32_LEN], cu_err *err);
/* Disables an account and revokes its sessions; CU_ECONFLICT, nothing
 * changed, for the actor's own account. */
CU_MUST_USE int cu_user_disable(cu_vault *v, const cu_actor *a, const char *username,
                                cu_err *err);
/* Ends every session of an account (a lost device, a shared computer): the
 * account stays usable; one audited operation, "user.signout". */
CU_MUST_USE int cu_user_signout(cu_vault *v, const cu_actor *a, const char *username,
                                cu_err *err);
/* Sets a new password, clears lock-out, revokes the account's sessions. */
CU_MUST_USE int cu_user_reset_password(cu_vault *v, const cu_actor *a, const char *username,
                                       const char *password, size_t n, cu_err *err);
/* The same with the hash already made (cu_password_hash). */
CU_MUST_USE int cu_user_reset_password_hashed(cu_vault *v, const cu_actor *a,
                                              const char *username, const char *pwhash,
                                              cu_err *err);
/* Checks a password's rules (length, not all one character). */
CU_MUST_USE int cu_password_check(const char *password, size_t n, cu_err *err);
/* Checks a password's rules and makes its Argon2id hash (tens to hundreds of
 * milliseconds: on a server, off the store's thread). */
CU_MUST_USE int cu_password_hash(const char *password, size_t n,
                                 char out[CU_PWHASH_STRBYTES], cu_err *err);

CU_MUST_USE int cu_api_token_create(cu_vault *v, const cu_actor *a, const char *controller_id,
                                    const char *roles, const char *name,
                                    char token_out[CU_TOKEN_STRLEN], char id_out[CU_ID_STRLEN],
                                    cu_err *err);
CU_MUST_USE int cu_api_token_revoke(cu_vault *v, const cu_actor *a, const char *token_id,
                                    cu_err *err);

/* An account as an administrator sees it: no password hash, no secret. */
typedef struct cu_account_view {
    const char *id, *username, *roles;
    bool totp;                 /* has a one-time code */
    int64_t created_at, disabled_at, locked_until;
} cu_account_view;
typedef int (*cu_account_cb)(void *ctx, const cu_account_view *u);
/* The accounts of the actor's controller, by id: one audited operation
 * (user.list, admin only). CU_ETAMPER when a row fails its code. */
CU_MUST_USE int cu_user_list(cu_vault *v, const cu_actor *a, cu_account_cb cb, void *ctx,
                             cu_err *err);
/* An API token as an administrator sees it: no secret. */
typedef struct cu_token_view {
    const char *id, *name, *roles;
    int64_t created_at, revoked_at;
} cu_token_view;
typedef int (*cu_token_view_cb)(void *ctx, const cu_token_view *t);
/* The API tokens of the actor's controller, by id: one audited operation
 * (token.list, admin only). */
CU_MUST_USE int cu_api_token_list(cu_vault *v, const cu_actor *a, cu_token_view_cb cb,
                                  void *ctx, cu_err *err);

typedef struct cu_signin {
    char username[72];
    bool found;
    bool tampered; /* the account row failed authentication: refused as unknown */
    cu_user_rec user;
} cu_signin;

typedef enum cu_signin_result {
    CU_SIGNIN_OK,
    CU_SIGNIN_BAD_CREDENTIALS, /* unknown user or wrong password */
    CU_SIGNIN_CODE_REQUIRED,   /* the account needs a one-time code */
    CU_SIGNIN_BAD_CODE,
    CU_SIGNIN_LOCKED,
    CU_SIGNIN_DISABLED,
} cu_signin_result;

/* Reads the account (not audited: cu_signin_finish records the attempt). */
CU_MUST_USE int cu_signin_prepare(cu_vault *v, const char *username, cu_signin *s,
                                  cu_err *err);
/* Records the attempt; on CU_SIGNIN_OK fills token_out and principal. Returns
 * CU_OK when the attempt was recorded (see *result), else an error. */
CU_MUST_USE int cu_signin_finish(cu_vault *v, const cu_signin *s, bool password_ok,
                                 const char *code, const char *via, cu_signin_result *result,
                                 char token_out[CU_TOKEN_STRLEN], cu_principal *principal,
                                 cu_err *err);
/* Replaces a hash made under older limits (after a successful sign-in). */
CU_MUST_USE int cu_user_rehash(cu_vault *v, const char *user_id, const char *pwhash,
                               cu_err *err);

/* Authenticates a bearer token: a session ("cus_") or an API token ("cut_").
 * CU_EDENIED with a reason (unknown, expired, revoked, disabled) otherwise. */
CU_MUST_USE int cu_authenticate(cu_vault *v, const char *token, size_t n, int64_t idle_us,
                                int64_t absolute_us, cu_principal *out, cu_err *err);
/* Signs out: revokes p's session, or the API token p used. */
CU_MUST_USE int cu_signout(cu_vault *v, const cu_principal *p, const char *via, cu_err *err);
/* Signs out everywhere: revokes every session of p's account, this one
 * included ("signout.everywhere"); CU_EINVAL for an API token. */
CU_MUST_USE int cu_signout_everywhere(cu_vault *v, const cu_principal *p, const char *via,
                                      cu_err *err);
/* Records a refused request that touched no record (unauthenticated, malformed
 * credentials): one audit event with outcome denied. */
CU_MUST_USE int cu_audit_refusal(cu_vault *v, const char *via, const char *purpose,
                                 cu_err *err);

/* The subjects on one staff member's care list, in subject id order: each
 * row's code checked (CU_ETAMPER naming the row when it was altered). Ids
 * only, no personal value: reading a subject is its own operation. */
typedef int (*cu_care_id_cb)(void *ctx, const char *subject_id);
CU_MUST_USE int cu_care_list_of(cu_vault *v, const char *user_id, cu_care_id_cb cb, void *ctx,
                                cu_err *err);
/* Adds (on) or removes a care relationship between a user and a subject. */
CU_MUST_USE int cu_care_set(cu_vault *v, const cu_actor *a, const char *username,
                            const char *subject_id, bool on, cu_err *err);

/* A break-glass reason is read by the DPO in review: it must say something.
 * After trimming Unicode white space at both ends (*start and *len give the
 * trimmed span of s), it must be valid UTF-8 and:
 *   reason-control-character    no control characters (C0, DEL, C1: line
 *                               breaks and tabs included) inside it
 *   reason-invisible-character  no invisible or format characters (soft
 *                               hyphen, U+200B-U+200F, U+202A-U+202E,
 *                               U+2060-U+2064, U+2066-U+2069, U+FEFF, ...)
 *   reason-too-short            at least 10 characters (code points)
 *   reason-too-long             at most 1000
 *   reason-too-few-letters      at least half of the characters other than
 *                               spaces are letters (of any script; digits,
 *                               punctuation, symbols and emoji are not)
 *   reason-too-few-words        at least two words (runs without white space
 *                               holding two letters or more)
 * CU_EINVAL naming the rule (also in *rule when not NULL) otherwise. Pure. */
#define CU_BREAK_GLASS_REASON_MIN 10
#define CU_BREAK_GLASS_REASON_MAX 1000
CU_MUST_USE int cu_break_glass_reason_check(const char *s, size_t n, size_t *start,
                                            size_t *len, const char **rule, cu_err *err);

/* Grants the actor (a clinician's staff account) access to a subject for
 * 1-240 minutes, with a reason (cu_break_glass_reason_check; stored trimmed,
 * sealed under the subject's key). */
CU_MUST_USE int cu_break_glass_grant(cu_vault *v, const cu_actor *a, const char *subject_id,
                                     const char *reason, size_t n, int minutes,
                                     char id_out[CU_ID_STRLEN], int64_t *expires_at,
                                     cu_err *err);
/* The actor's own break-glass grant to subject_id in force now (the one
 * lasting longest), for a page that shows the record read under it:
 * *expires_at is its expiry (0 when none is in force) and, when reason is not
 * NULL, the reason the actor gave is decrypted into it. With a grant in force
 * and reason wanted, the reason is read in one operation of its own (a read
 * of the subject: recorded, refused as a read would be); without one, nothing
 * is read or recorded. CU_ETAMPER when a grant fails authentication. */
CU_MUST_USE int cu_break_glass_own(cu_vault *v, const cu_actor *a, const char *subject_id,
                                   int64_t *expires_at, cu_buf *reason, cu_err *err);
/* Grants since `since` in the actor's controller, with the reason decrypted
 * when the actor may see every category (else reason is NULL). */
typedef int (*cu_grant_cb)(void *ctx, const cu_break_glass_row *g, const cu_buf *reason);
CU_MUST_USE int cu_break_glass_list(cu_vault *v, const cu_actor *a, int64_t since,
                                    cu_grant_cb cb, void *ctx, cu_err *err);

#endif
