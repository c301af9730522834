/*
 * api_sessions.c — the HTTP routes of sessions: POST /v1/sessions (in the
 * steps server.c runs: cu_api_signin_prepare, _check, _finish), DELETE
 * /v1/sessions/current and DELETE /v1/sessions (every session of the
 * caller's account). The throttle and the audited record of a sign-in, which
 * the staff console and the portal share, are api.c's.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "http/api_impl.h"
#include "iface/render.h"
#include "util/clock.h"

bool cu_api_signin_prepare(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                           cu_http_resp *resp)
{
    memset(st, 0, sizeof *st);
    if (!cu_api_json_body(req, resp))
        return false;
    cu_err err = {0};
    if (cu_body_signin(req->body, req->body_len, &st->body, &err)) {
        cu_api_problem(resp, CU_P_INVALID, err.msg);
        return false;
    }
    int wait = cu_api_signin_account(api, req, st, &err);
    if (wait > 0) {
        cu_api_problem(resp, CU_P_THROTTLED, "too many failed sign-ins from this address");
        resp->retry_after = wait;
        return false;
    }
    if (wait < 0) {
        cu_api_fail(resp, &err);
        return false;
    }
    return true;
}

void cu_api_signin_check(cu_signin_state *st)
{
    /* A missing account still costs one hash, so timing does not tell. */
    static const char dummy[] =
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "qMbqMlnQGqXzlbwEfl4PRAUw3zSoHp5u5FKMq0bDpRk";
    const char *stored = st->acct.found ? st->acct.user.pwhash : dummy;
    st->password_ok = cu_pwhash_verify(stored, st->body.password, st->body.password_len) &&
                      st->acct.found;
    if (st->password_ok && cu_pwhash_needs_rehash(stored) &&
        cu_pwhash(st->body.password, st->body.password_len, st->new_hash) == CU_OK)
        st->rehash = true;
}

void cu_api_signin_finish(cu_api *api, const cu_http_req *req, cu_signin_state *st,
                          cu_http_resp *resp)
{
    char token[CU_TOKEN_STRLEN];
    cu_signin_result res;
    cu_principal p;
    if (!cu_api_signin_record(api, req, st, &res, token, &p, resp))
        return;
    int64_t now = cu_now_us();
    switch (res) {
    case CU_SIGNIN_OK:
        cu_api_ok(resp, 201,
           json_pack("{s:s, s:s, s:I, s:o, s:{s:s, s:s, s:s}}", "token", token, "token_type",
                     "Bearer", "idle_timeout_seconds",
                     (json_int_t)(cu_api_session_idle_us(api) / 1000000), "expires_at",
                     cu_json_time(now + cu_api_session_absolute_us(api)), "user", "username",
                     p.name, "roles", p.roles_text, "controller", p.controller_id));
        break;
    case CU_SIGNIN_CODE_REQUIRED:
        cu_api_problem(resp, CU_P_CODE_REQUIRED, "this account needs a one-time code (\"code\")");
        break;
    case CU_SIGNIN_LOCKED: {
        cu_api_problem(resp, CU_P_THROTTLED, "the account is locked after repeated failures");
        int64_t left = (st->acct.user.locked_until - now) / 1000000 + 1;
        resp->retry_after = left > 0 && left < 86401 ? (int)left : 900;
        break;
    }
    case CU_SIGNIN_BAD_CODE:
    case CU_SIGNIN_BAD_CREDENTIALS:
    case CU_SIGNIN_DISABLED:
        /* One answer for every refusal, so it does not tell which accounts exist. */
        cu_api_problem(resp, CU_P_UNAUTHENTICATED, "the username, password or code is wrong");
        resp->bearer_challenge = false;
        break;
    }
    cu_wipe(token, sizeof token);
}

void cu_api_session_delete(cu_call *c)
{
    cu_err err = {0};
    if (cu_signout(cu_api_vault(c->api), &c->who, c->via, &err)) {
        cu_api_fail(c->resp, &err);
        return;
    }
    c->resp->status = 204;
}

void cu_api_session_delete_all(cu_call *c)
{
    cu_err err = {0};
    if (cu_signout_everywhere(cu_api_vault(c->api), &c->who, c->via, &err)) {
        cu_api_fail(c->resp, &err);
        return;
    }
    c->resp->status = 204;
}
