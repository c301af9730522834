/*
 * portal.c — the patient portal's invitations and accounts (portal.h).
 */
#include "domain/portal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secrets.h"
#include "domain/integrity.h"
#include "domain/op.h"
#include "domain/op_impl.h"
#include "domain/policy.h"
#include "domain/staff.h"
#include "domain/subject.h"
#include "domain/subject_rows.h"
#include "domain/vault_impl.h"
#include "store/store_portal.h"
#include "util/clock.h"

#define DAY_US ((int64_t)86400 * 1000000)
#define INVITATION_ACTOR "portal-invitation"
#define CODE_CHARS 20
#define NAME_CHARS 12
#define MINUTE_US ((int64_t)60 * 1000000)

/* Crockford's base32: no I, L, O or U, so a code read aloud or off a letter
 * is not misread. */
static const char B32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void b32_random(char *out, size_t nchars)
{
    unsigned char r[32];
    cu_random(r, nchars);
    for (size_t i = 0; i < nchars; i++)
        out[i] = B32[r[i] & 31];
    cu_wipe(r, sizeof r);
}

/* "AAAAABBBBB..." grouped by group characters with dashes. */
static void grouped(const char *raw, size_t nchars, size_t group, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < nchars; i++) {
        if (i && i % group == 0)
            out[o++] = '-';
        out[o++] = raw[i];
    }
    out[o] = '\0';
}

bool cu_portal_code_normalise(const char *code, size_t n, char out[21])
{
    size_t o = 0;
    if (!code || n > 40)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = code[i];
        if (ch == '-')
            continue;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (!strchr(B32, ch) || ch == '\0' || o == CODE_CHARS)
            return false;
        out[o++] = ch;
    }
    out[o] = '\0';
    return o == CODE_CHARS;
}

/* ---- rows ---- */

static void pi_mac(cu_vault *v, const cu_pinv_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "portal_invitations");
    cu_mac_bytes(m, r->hash, r->hash_len);
    cu_mac_str(m, r->id);
    cu_mac_str(m, r->controller_id);
    cu_mac_str(m, r->subject_id);
    cu_mac_str(m, r->issued_by);
    cu_mac_i64(m, r->issued_at);
    cu_mac_i64(m, r->expires_at);
    cu_mac_i64(m, r->used_at);
}

static void pi_sign(cu_vault *v, cu_pinv_row *r)
{
    cu_mac m;
    pi_mac(v, r, &m);
    cu_mac_final(&m, r->mac);
    r->mac_len = CU_HASH_BYTES;
}

static bool pi_ok(cu_vault *v, const cu_pinv_row *r)
{
    cu_mac m;
    pi_mac(v, r, &m);
    return cu_mac_check(&m, r->mac, r->mac_len) && r->hash_len == CU_HASH_BYTES;
}

static const char *pi_name(const cu_pinv_row *r)
{
    return cu_id_valid(r->id) ? r->id : "(malformed id)";
}

static void pa_mac(cu_vault *v, const cu_pacct_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "portal_accounts");
    cu_mac_str(m, r->subject_id);
    cu_mac_str(m, r->controller_id);
    cu_mac_str(m, r->name);
    cu_mac_str(m, r->pwhash);
    cu_mac_i64(m, r->failures);
    cu_mac_i64(m, r->locked_until);
    cu_mac_i64(m, r->created_at);
    cu_mac_i64(m, r->updated_at);
}

static void pa_sign(cu_vault *v, cu_pacct_row *r)
{
    cu_mac m;
    pa_mac(v, r, &m);
    cu_mac_final(&m, r->mac);
    r->mac_len = CU_HASH_BYTES;
}

static bool pa_ok(cu_vault *v, const cu_pacct_row *r)
{
    cu_mac m;
    pa_mac(v, r, &m);
    return cu_mac_check(&m, r->mac, r->mac_len);
}

static const char *pa_name(const cu_pacct_row *r)
{
    return cu_id_valid(r->subject_id) ? r->subject_id : "(malformed id)";
}

static int code_hash(cu_vault *v, const char *code, size_t n, unsigned char h[CU_HASH_BYTES],
                     cu_err *err)
{
    char norm[CODE_CHARS + 1];
    if (!cu_portal_code_normalise(code, n, norm))
        return cu_err_set(err, CU_ENOTFOUND, "no such invitation");
    cu_token_keyed_hash(v, "portal-invitation", norm, CODE_CHARS, h);
    cu_wipe(norm, sizeof norm);
    return CU_OK;
}

static int inv_load(cu_vault *v, const unsigned char h[CU_HASH_BYTES], cu_pinv_row *r,
                    cu_err *err)
{
    int rc = cu_store_pinv_get(v->store, h, CU_HASH_BYTES, r, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        return cu_err_set(err, CU_ENOTFOUND, "no such invitation");
    }
    if (rc)
        return rc;
    if (r->hash_len != CU_HASH_BYTES || !cu_ct_equal(r->hash, h, CU_HASH_BYTES))
        return cu_err_set(err, CU_ENOTFOUND, "no such invitation");
    if (!pi_ok(v, r))
        return cu_err_set(err, CU_ETAMPER, "portal_invitations %s has been altered",
                          pi_name(r));
    return CU_OK;
}

static cu_pinv_state inv_state(const cu_pinv_row *r, int64_t now)
{
    if (r->used_at)
        return CU_PINV_USED;
    return now >= r->expires_at ? CU_PINV_EXPIRED : CU_PINV_OPEN;
}

static int inv_usable(const cu_pinv_row *r, cu_err *err)
{
    switch (inv_state(r, cu_now_us())) {
    case CU_PINV_USED:
        return cu_err_set(err, CU_ECONFLICT, "this invitation has been used already");
    case CU_PINV_EXPIRED:
        return cu_err_set(err, CU_EDENIED, "this invitation has expired");
    default:
        return CU_OK;
    }
}

/* The subject's account, authenticated: *found false when it has none. */
static int acct_load(cu_vault *v, const char *subject_id, cu_pacct_row *r, bool *found,
                     cu_err *err)
{
    *found = false;
    int rc = cu_store_pacct_get(v->store, subject_id, r, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        return CU_OK;
    }
    if (rc)
        return rc;
    if (!pa_ok(v, r) || strcmp(r->subject_id, subject_id) != 0)
        return cu_err_set(err, CU_ETAMPER, "portal_accounts %s has been altered", pa_name(r));
    *found = true;
    return CU_OK;
}

static void info_of(cu_vault *v, const cu_pinv_row *r, bool has_account,
                    cu_portal_invitation *i)
{
    memset(i, 0, sizeof *i);
    cu_strlcpy(i->id, r->id, sizeof i->id);
    i->issued_at = r->issued_at;
    i->expires_at = r->expires_at;
    i->used_at = r->used_at;
    i->state = inv_state(r, cu_now_us());
    i->has_account = has_account;
    cu_strlcpy(i->controller_id, r->controller_id, sizeof i->controller_id);
    const cu_policy *pol = NULL;
    cu_err e = {0};
    if (cu_vault_policy(v, r->controller_id, &pol, &e) == CU_OK && pol && pol->controller.name)
        cu_strlcpy(i->controller_name, pol->controller.name, sizeof i->controller_name);
}

/* ---- inviting ---- */

int cu_portal_invite(cu_vault *v, const cu_actor *a, const char *subject_id, int days,
                     char code_out[CU_PORTAL_CODE_STRLEN], cu_portal_invitation *out,
                     cu_err *err)
{
    if (days == 0)
        days = CU_PORTAL_DAYS_DEFAULT;
    if (days < 1 || days > CU_PORTAL_DAYS_MAX)
        return cu_err_set(err, CU_EINVAL, "days must be 1-%d", CU_PORTAL_DAYS_MAX);
    if (!a)
        return cu_err_set(err, CU_EDENIED, "no authenticated actor");
    cu_op op;
    int rc = cu_op_begin(v, &op, a, CU_ACT_PORTAL_INVITE, "portal.invite", err);
    if (rc)
        return rc;
    cu_subject_rec rec;
    rc = cu_op_open_subject(v, &op, subject_id, &rec, err);
    cu_pacct_row acct;
    bool has_account = false;
    if (!rc)
        rc = acct_load(v, rec.id, &acct, &has_account, err);
    cu_wipe(acct.pwhash, sizeof acct.pwhash);
    char raw[CODE_CHARS + 1];
    b32_random(raw, CODE_CHARS);
    raw[CODE_CHARS] = '\0';
    cu_pinv_row r;
    memset(&r, 0, sizeof r);
    if (!rc) {
        cu_token_keyed_hash(v, "portal-invitation", raw, CODE_CHARS, r.hash);
        r.hash_len = CU_HASH_BYTES;
        cu_random_id(r.id);
        cu_strlcpy(r.controller_id, rec.controller_id, sizeof r.controller_id);
        cu_strlcpy(r.subject_id, rec.id, sizeof r.subject_id);
        cu_strlcpy(r.issued_by, a->name, sizeof r.issued_by);
        r.issued_at = cu_now_us();
        r.expires_at = r.issued_at + (int64_t)days * DAY_US;
        pi_sign(v, &r);
        rc = cu_store_pinv_insert(v->store, &r, err);
    }
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc) {
        grouped(raw, CODE_CHARS, 5, code_out);
        if (out)
            info_of(v, &r, has_account, out);
    }
    cu_wipe(raw, sizeof raw);
    return rc;
}

/* ---- peeking ---- */

int cu_portal_peek(cu_vault *v, const char *code, size_t n, cu_portal_invitation *out,
                   cu_err *err)
{
    memset(out, 0, sizeof *out);
    unsigned char h[CU_HASH_BYTES];
    cu_pinv_row r;
    int rc = code_hash(v, code, n, h, err);
    if (!rc)
        rc = inv_load(v, h, &r, err);
    if (rc)
        return rc;
    cu_pacct_row acct;
    bool has_account = false;
    if ((rc = acct_load(v, r.subject_id, &acct, &has_account, err)))
        return rc;
    cu_wipe(acct.pwhash, sizeof acct.pwhash);
    info_of(v, &r, has_account, out);
    return inv_usable(&r, err);
}

/* ---- the password ---- */

_Static_assert(CU_PORTAL_PWHASH_MAX == CU_PWHASH_STRBYTES, "hash sizes");

int cu_portal_set_password(cu_vault *v, const char *code, size_t n, const char *pwhash,
                           const char *via, char name_out[CU_PORTAL_NAME_STRLEN], cu_err *err)
{
    name_out[0] = '\0';
    if (!pwhash || strncmp(pwhash, "$argon2id$", 10) != 0 ||
        strlen(pwhash) >= CU_PORTAL_PWHASH_MAX)
        return cu_err_set(err, CU_EINVAL, "the password's hash is not an Argon2id hash");
    unsigned char h[CU_HASH_BYTES];
    cu_pinv_row r;
    int rc = code_hash(v, code, n, h, err);
    if (!rc)
        rc = inv_load(v, h, &r, err);
    if (!rc)
        rc = inv_usable(&r, err);
    if (rc)
        return rc;
    /* The subject acts through the invitation: no staff member is involved. */
    cu_actor as = {.name = INVITATION_ACTOR, .role = "subject", .roles = CU_ROLE_OPERATOR,
                   .purpose = CU_PURPOSE_RIGHTS, .via = via ? via : INVITATION_ACTOR};
    cu_op op;
    if ((rc = cu_op_begin(v, &op, &as, CU_ACT_PORTAL_INVITE, "portal.account", err)))
        return rc;
    /* Read again inside the transaction: two uses race to one. */
    rc = inv_load(v, h, &r, err);
    if (!rc && inv_state(&r, cu_now_us()) != CU_PINV_OPEN)
        rc = cu_err_set(err, CU_ECONFLICT, "this invitation has been used already or has "
                                           "expired");
    cu_subject_rec rec;
    if (!rc)
        rc = cu_op_open_subject(v, &op, r.subject_id, &rec, err);
    if (!rc && strcmp(rec.controller_id, r.controller_id) != 0)
        rc = cu_err_set(err, CU_ETAMPER, "portal_invitations %s has been altered", pi_name(&r));
    cu_pacct_row acct;
    bool found = false;
    if (!rc)
        rc = acct_load(v, rec.id, &acct, &found, err);
    int64_t now = cu_now_us();
    if (!rc) {
        if (!found) {
            memset(&acct, 0, sizeof acct);
            cu_strlcpy(acct.subject_id, rec.id, sizeof acct.subject_id);
            char raw[NAME_CHARS + 1];
            b32_random(raw, NAME_CHARS);
            grouped(raw, NAME_CHARS, 4, acct.name);
            acct.created_at = now;
        }
        cu_strlcpy(acct.controller_id, rec.controller_id, sizeof acct.controller_id);
        cu_strlcpy(acct.pwhash, pwhash, sizeof acct.pwhash);
        acct.failures = 0;
        acct.locked_until = 0;
        acct.updated_at = now;
        pa_sign(v, &acct);
        rc = cu_store_pacct_put(v->store, &acct, err);
        /* A new password ends every session of the old one. */
        if (!rc)
            rc = cu_store_psess_delete_subject(v->store, rec.id, err);
    }
    if (!rc) {
        r.used_at = now;
        pi_sign(v, &r);
        rc = cu_store_pinv_use(v->store, &r, err);
        if (rc == CU_ENOTFOUND) {
            cu_err_clear(err);
            rc = cu_err_set(err, CU_ECONFLICT, "this invitation has been used already");
        }
    }
    rc = cu_op_end(v, &op, rc, NULL, NULL, err);
    if (!rc)
        cu_strlcpy(name_out, acct.name, CU_PORTAL_NAME_STRLEN);
    cu_wipe(acct.pwhash, sizeof acct.pwhash);
    return rc;
}

/* ---- sign-in and sessions ---- */

bool cu_portal_name_normalise(const char *name, size_t n, char out[CU_PORTAL_NAME_STRLEN])
{
    char raw[NAME_CHARS + 1];
    size_t o = 0;
    if (!name || n > 40)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (ch == '-' || ch == ' ')
            continue;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch == '\0' || !strchr(B32, ch) || o == NAME_CHARS)
            return false;
        raw[o++] = ch;
    }
    if (o != NAME_CHARS)
        return false;
    grouped(raw, NAME_CHARS, 4, out);
    return true;
}

static void ps_mac(cu_vault *v, const cu_psess_row *r, cu_mac *m)
{
    cu_row_mac_begin(v, m, "portal_sessions");
    cu_mac_bytes(m, r->hash, r->hash_len);
    cu_mac_str(m, r->subject_id);
    cu_mac_i64(m, r->created_at);
    cu_mac_i64(m, r->last_seen);
}

static void ps_sign(cu_vault *v, cu_psess_row *r)
{
    cu_mac m;
    ps_mac(v, r, &m);
    cu_mac_final(&m, r->mac);
    r->mac_len = CU_HASH_BYTES;
}

static bool ps_ok(cu_vault *v, const cu_psess_row *r)
{
    cu_mac m;
    ps_mac(v, r, &m);
    return r->hash_len == CU_HASH_BYTES && cu_mac_check(&m, r->mac, r->mac_len);
}

static int64_t lockout_us(int64_t failures)
{
    int64_t extra = failures - CU_SIGNIN_MAX_FAILURES;
    int64_t us = 15LL * 60 * 1000000;
    for (int64_t i = 0; i < extra && us < 24LL * 3600 * 1000000; i++)
        us *= 2;
    return us < 24LL * 3600 * 1000000 ? us : 24LL * 3600 * 1000000;
}

/* The account with this sign-in name, authenticated: *found false when none
 * (or its row fails its code, which is logged by custos verify). */
static int acct_by_name(cu_vault *v, const char *name, cu_pacct_row *r, bool *found,
                        cu_err *err)
{
    *found = false;
    int rc = cu_store_pacct_by_name(v->store, name, r, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        return CU_OK;
    }
    if (rc)
        return rc;
    *found = pa_ok(v, r) && strcmp(r->name, name) == 0 && cu_id_valid(r->subject_id);
    return CU_OK;
}

int cu_portal_signin_prepare(cu_vault *v, const char *name, bool *found,
                             char pwhash[CU_PORTAL_PWHASH_MAX], cu_err *err)
{
    pwhash[0] = '\0';
    cu_pacct_row r;
    int rc = acct_by_name(v, name, &r, found, err);
    if (!rc && *found)
        cu_strlcpy(pwhash, r.pwhash, CU_PORTAL_PWHASH_MAX);
    cu_wipe(r.pwhash, sizeof r.pwhash);
    return rc;
}

static void who_of(const cu_pacct_row *r, const unsigned char *hash, cu_portal_who *who)
{
    memset(who, 0, sizeof *who);
    cu_strlcpy(who->subject_id, r->subject_id, sizeof who->subject_id);
    cu_strlcpy(who->controller_id, r->controller_id, sizeof who->controller_id);
    cu_strlcpy(who->name, r->name, sizeof who->name);
    snprintf(who->actor_name, sizeof who->actor_name, "portal:%.32s", r->name);
    memcpy(who->session_hash, hash, CU_HASH_BYTES);
}

int cu_portal_signin_finish(cu_vault *v, const char *name, bool password_ok, const char *via,
                            cu_portal_signin_result *result, char token_out[CU_TOKEN_STRLEN],
                            cu_portal_who *who, cu_err *err)
{
    *result = CU_PSIGNIN_BAD_CREDENTIALS;
    cu_pacct_row acct;
    bool found = false;
    int rc = acct_by_name(v, name, &acct, &found, err);
    if (rc)
        return rc;
    char actor_name[48];
    snprintf(actor_name, sizeof actor_name, "portal:%.32s", found ? acct.name : "unknown");
    /* The attempt is always recorded; about the subject when the name is one. */
    cu_actor a = {.name = actor_name, .role = "subject", .purpose = "authentication",
                  .via = via, .roles = CU_ROLE_OPERATOR,
                  .controller_id = found ? acct.controller_id : NULL};
    cu_op op;
    if ((rc = cu_op_begin(v, &op, &a, CU_ACT_ADMIN, "portal.signin", err))) {
        cu_wipe(acct.pwhash, sizeof acct.pwhash);
        return rc;
    }
    if (found) {
        memcpy(op.controller_id, acct.controller_id, CU_ID_STRLEN);
        memcpy(op.subject_id, acct.subject_id, CU_ID_STRLEN);
    }
    if ((rc = cu_op_authorise(v, &op, err))) {
        cu_wipe(acct.pwhash, sizeof acct.pwhash);
        return cu_op_end(v, &op, rc, NULL, NULL, err);
    }
    int64_t now = cu_now_us();
    cu_portal_signin_result res = CU_PSIGNIN_OK;
    /* Read again inside the transaction: counts from before may be stale. */
    if (found && (rc = acct_by_name(v, name, &acct, &found, err)) == CU_OK && found) {
        cu_subject_rec rec;
        rc = cu_subject_load(v, acct.subject_id, &rec, err);
        if (rc == CU_ENOTFOUND) {
            cu_err_clear(err);
            rc = CU_OK;
            found = false;
        } else if (!rc && rec.erased_at) {
            found = false; /* erasure deletes the account; a restored copy may not */
        }
    }
    if (!rc) {
        if (!found) {
            res = CU_PSIGNIN_BAD_CREDENTIALS;
            op.rule = "wrong-password";
        } else if (acct.locked_until > now) {
            res = CU_PSIGNIN_LOCKED;
            op.rule = "account-locked";
        } else if (!password_ok) {
            res = CU_PSIGNIN_BAD_CREDENTIALS;
            op.rule = "wrong-password";
            acct.failures++;
            if (acct.failures >= CU_SIGNIN_MAX_FAILURES)
                acct.locked_until = now + lockout_us(acct.failures);
        } else {
            acct.failures = 0;
            acct.locked_until = 0;
        }
    }
    if (!rc && found && (res != CU_PSIGNIN_LOCKED)) {
        pa_sign(v, &acct);
        rc = cu_store_pacct_put(v->store, &acct, err);
    }
    char token[CU_TOKEN_STRLEN] = "";
    cu_psess_row sr;
    memset(&sr, 0, sizeof sr);
    if (!rc && res == CU_PSIGNIN_OK) {
        cu_token_new("cup_", token);
        sr.hash_len = CU_HASH_BYTES;
        cu_token_keyed_hash(v, "portal-session", token, strlen(token), sr.hash);
        cu_strlcpy(sr.subject_id, acct.subject_id, sizeof sr.subject_id);
        sr.created_at = sr.last_seen = now;
        ps_sign(v, &sr);
        rc = cu_store_psess_insert(v->store, &sr, err);
    }
    /* A refused sign-in keeps its failure count: it is the outcome. */
    op.keep_on_refusal = true;
    int status = rc ? rc : res == CU_PSIGNIN_OK ? CU_OK : CU_EDENIED;
    if (status == CU_EDENIED)
        op.decision.allow = false;
    rc = cu_op_end(v, &op, status, NULL, NULL, err);
    if (rc == CU_EDENIED) {
        cu_err_clear(err);
        rc = CU_OK;
    }
    if (!rc) {
        *result = res;
        if (res == CU_PSIGNIN_OK) {
            memcpy(token_out, token, CU_TOKEN_STRLEN);
            who_of(&acct, sr.hash, who);
        }
    }
    cu_wipe(token, sizeof token);
    cu_wipe(acct.pwhash, sizeof acct.pwhash);
    return rc;
}

static int psess_touch(cu_vault *v, void *ctx, cu_err *err)
{
    return cu_store_psess_touch(v->store, ctx, err);
}

int cu_portal_session(cu_vault *v, const char *token, size_t n, int64_t idle_us,
                      int64_t absolute_us, cu_portal_who *who, cu_err *err)
{
    memset(who, 0, sizeof *who);
    if (!token || n < 5 || n >= CU_TOKEN_STRLEN || strncmp(token, "cup_", 4) != 0)
        return cu_err_set(err, CU_EDENIED, "unknown session");
    unsigned char h[CU_HASH_BYTES];
    cu_token_keyed_hash(v, "portal-session", token, n, h);
    cu_psess_row sr;
    int rc = cu_store_psess_get(v->store, h, CU_HASH_BYTES, &sr, err);
    if (rc == CU_ENOTFOUND) {
        cu_err_clear(err);
        return cu_err_set(err, CU_EDENIED, "unknown session");
    }
    if (rc)
        return rc;
    if (!ps_ok(v, &sr) || !cu_ct_equal(sr.hash, h, CU_HASH_BYTES))
        return cu_err_set(err, CU_EDENIED, "unknown session");
    int64_t now = cu_now_us();
    if (now - sr.last_seen >= idle_us || now - sr.created_at >= absolute_us)
        return cu_err_set(err, CU_EDENIED, "expired session");
    cu_pacct_row acct;
    bool found = false;
    if ((rc = acct_load(v, sr.subject_id, &acct, &found, err))) {
        if (rc == CU_ETAMPER) {
            cu_err_clear(err);
            return cu_err_set(err, CU_EDENIED, "unknown session");
        }
        return rc;
    }
    cu_wipe(acct.pwhash, sizeof acct.pwhash);
    if (!found)
        return cu_err_set(err, CU_EDENIED, "unknown session");
    if (now - sr.last_seen >= MINUTE_US) {
        sr.last_seen = now;
        ps_sign(v, &sr);
        rc = cu_vault_write(v, psess_touch, &sr, err);
        if (rc == CU_ENOTFOUND) {
            cu_err_clear(err);
            return cu_err_set(err, CU_EDENIED, "unknown session");
        }
        if (rc)
            return rc;
    }
    who_of(&acct, h, who);
    return CU_OK;
}

void cu_portal_actor(const cu_portal_who *who, const char *via, cu_actor *out)
{
    *out = (cu_actor){.name = who->actor_name, .role = "subject", .roles = CU_ROLE_SUBJECT,
                      .purpose = CU_PURPOSE_RIGHTS, .via = via,
                      .controller_id = who->controller_id, .subject_id = who->subject_id};
}

int cu_portal_signout(cu_vault *v, const cu_portal_who *who, const char *via, cu_err *err)
{
    cu_actor a = {.name = who->actor_name, .role = "subject", .purpose = "authentication",
                  .via = via, .roles = CU_ROLE_OPERATOR, .controller_id = who->controller_id};
    cu_op op;
    int rc = cu_op_begin(v, &op, &a, CU_ACT_ADMIN, "portal.signout", err);
    if (rc)
        return rc;
    memcpy(op.controller_id, who->controller_id, CU_ID_STRLEN);
    memcpy(op.subject_id, who->subject_id, CU_ID_STRLEN);
    rc = cu_op_authorise(v, &op, err);
    if (!rc)
        rc = cu_store_psess_delete(v->store, who->session_hash, CU_HASH_BYTES, err);
    return cu_op_end(v, &op, rc, NULL, NULL, err);
}

int cu_portal_sessions_purge(cu_vault *v, int64_t seen_before, int64_t created_before,
                             int64_t *deleted, cu_err *err)
{
    return cu_store_psess_purge(v->store, seen_before, created_before, deleted, err);
}

int cu_portal_forget_subject(cu_vault *v, const char *subject_id, cu_err *err)
{
    int rc = cu_store_psess_delete_subject(v->store, subject_id, err);
    if (!rc)
        rc = cu_store_pacct_delete(v->store, subject_id, err);
    if (!rc)
        rc = cu_store_pinv_delete_subject(v->store, subject_id, err);
    if (!rc) /* their cookie choices (portal_cookies.h) */
        rc = cu_store_pck_delete_subject(v->store, subject_id, err);
    return rc;
}

/* ---- custos verify (integrity.h) ---- */

typedef struct pv_walk {
    cu_vault *v;
    bool seal;
    cu_row_report_cb report;
    void *rctx;
    int64_t rows;
    struct pv_seal {
        unsigned char key[CU_HASH_BYTES]; /* a code hash, or a subject id */
        unsigned char mac[CU_HASH_BYTES];
    } *p;
    size_t n;
} pv_walk;

static int pv_push(pv_walk *w, const void *key, size_t keylen, const unsigned char *mac)
{
    struct pv_seal *np = realloc(w->p, (w->n + 1) * sizeof *np);
    if (!np)
        return CU_ENOMEM;
    w->p = np;
    memset(&np[w->n], 0, sizeof np[w->n]);
    memcpy(np[w->n].key, key, keylen);
    memcpy(np[w->n].mac, mac, CU_HASH_BYTES);
    w->n++;
    return CU_OK;
}

static int pi_walk_row(void *ctx, const cu_pinv_row *r)
{
    pv_walk *w = ctx;
    w->rows++;
    if (r->hash_len != CU_HASH_BYTES)
        return w->seal ? CU_OK : w->report(w->rctx, "portal_invitations", "(malformed hash)",
                                           "forged");
    if (w->seal) {
        cu_pinv_row c = *r;
        pi_sign(w->v, &c);
        return pv_push(w, r->hash, CU_HASH_BYTES, c.mac);
    }
    if (pi_ok(w->v, r))
        return CU_OK;
    return w->report(w->rctx, "portal_invitations", pi_name(r),
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int pa_walk_row(void *ctx, const cu_pacct_row *r)
{
    pv_walk *w = ctx;
    w->rows++;
    if (!cu_id_valid(r->subject_id))
        return w->seal ? CU_OK : w->report(w->rctx, "portal_accounts", pa_name(r), "forged");
    if (w->seal) {
        cu_pacct_row c = *r;
        pa_sign(w->v, &c);
        cu_wipe(c.pwhash, sizeof c.pwhash);
        return pv_push(w, r->subject_id, CU_ID_STRLEN - 1, c.mac);
    }
    if (pa_ok(w->v, r))
        return CU_OK;
    return w->report(w->rctx, "portal_accounts", pa_name(r),
                     r->mac_len ? "altered" : "forged (no row code)");
}

static int portal_family_walk(cu_vault *v, bool seal, cu_row_report_cb report, void *rctx,
                              int64_t *rows, cu_err *err)
{
    pv_walk w = {.v = v, .seal = seal, .report = report, .rctx = rctx};
    int rc = cu_store_pinv_each(v->store, pi_walk_row, &w, err);
    for (size_t i = 0; !rc && i < w.n; i++)
        rc = cu_store_pinv_set_mac(v->store, w.p[i].key, CU_HASH_BYTES, w.p[i].mac,
                                   CU_HASH_BYTES, err);
    free(w.p);
    w.p = NULL;
    w.n = 0;
    if (!rc)
        rc = cu_store_pacct_each(v->store, pa_walk_row, &w, err);
    for (size_t i = 0; !rc && i < w.n; i++) {
        char id[CU_ID_STRLEN];
        memcpy(id, w.p[i].key, CU_ID_STRLEN - 1);
        id[CU_ID_STRLEN - 1] = '\0';
        rc = cu_store_pacct_set_mac(v->store, id, w.p[i].mac, CU_HASH_BYTES, err);
    }
    free(w.p);
    if (rc && !(err && err->code))
        rc = cu_err_set(err, rc, "cannot walk the portal's invitations and accounts");
    *rows = w.rows;
    return rc;
}

const cu_row_family cu_portal_rows = {.name = "portal", .walk = portal_family_walk};
