/*
 * pages_admin.c — the administrator's pages of the staff console: the staff
 * accounts of the administrator's controller (roles in words, enabled or
 * disabled, one-time code or not; a page at a time) and its API tokens, with
 * the forms that add an account, disable one, set a new password, create a
 * token and revoke one.
 *
 * Each listing and each change is one audited domain call (user.list,
 * token.list, user.add, user.disable, user.reset_password, token.create,
 * token.revoke), refused and recorded for anyone but an administrator.
 * Disabling and revoking take a confirmation step: the first POST shows what
 * will happen and a button that posts again with confirm=yes. A new
 * password is set by the administrator, as `custos user reset` does, and the
 * account's sessions end. A new one-time code secret and a new token are
 * shown once, on the page that answers the POST, and never again.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/secrets.h"
#include "domain/model.h"
#include "domain/staff.h"
#include "http/api_impl.h"
#include "http/console.h"
#include "http/form.h"
#include "http/pages_util.h"
#include "iface/html.h"
#include "util/clock.h"

#define PER_PAGE 20
#define MAX_ACCOUNTS 5000

static const struct {
    const char *name, *label;
} ROLES[] = {
    {"clinician", "Clinician"},         {"care_admin", "Care administrator"},
    {"dpo", "Data Protection Officer"}, {"analyst", "Analyst"},
    {"auditor", "Auditor"},             {"admin", "Administrator"},
};
#define NROLES (sizeof ROLES / sizeof ROLES[0])

/* "Clinician and Auditor" for "clinician,auditor". */
static void roles_words(const char *roles, char *out, size_t cap)
{
    unsigned mask = cu_roles_parse(roles);
    size_t n = 0, k = 0;
    for (size_t i = 0; i < NROLES; i++)
        if (mask & cu_role_from_name(ROLES[i].name))
            n++;
    out[0] = '\0';
    for (size_t i = 0; i < NROLES; i++) {
        if (!(mask & cu_role_from_name(ROLES[i].name)))
            continue;
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s", k == 0 ? "" : k + 1 == n ? " and " : ", ",
                 ROLES[i].label);
        k++;
    }
    if (!out[0])
        cu_strlcpy(out, "No role", cap);
}

typedef struct acct {
    char username[72], roles[96];
    bool totp;
    int64_t created_at, disabled_at, locked_until;
} acct;

typedef struct tok {
    char id[40], name[72], roles[96];
    int64_t created_at, revoked_at;
} tok;

typedef struct lists {
    acct *a;
    size_t na, capa;
    tok *t;
    size_t nt, capt;
} lists;

static int add_account(void *ctx, const cu_account_view *u)
{
    lists *l = ctx;
    if (l->na == l->capa) {
        size_t cap = l->capa ? l->capa * 2 : 32;
        if (cap > MAX_ACCOUNTS)
            return CU_OK;
        acct *n = realloc(l->a, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        l->a = n;
        l->capa = cap;
    }
    acct *r = &l->a[l->na++];
    memset(r, 0, sizeof *r);
    cu_strlcpy(r->username, u->username, sizeof r->username);
    cu_strlcpy(r->roles, u->roles, sizeof r->roles);
    r->totp = u->totp;
    r->created_at = u->created_at;
    r->disabled_at = u->disabled_at;
    r->locked_until = u->locked_until;
    return CU_OK;
}

static int add_token(void *ctx, const cu_token_view *t)
{
    lists *l = ctx;
    if (l->nt == l->capt) {
        size_t cap = l->capt ? l->capt * 2 : 16;
        if (cap > MAX_ACCOUNTS)
            return CU_OK;
        tok *n = realloc(l->t, cap * sizeof *n);
        if (!n)
            return CU_ENOMEM;
        l->t = n;
        l->capt = cap;
    }
    tok *r = &l->t[l->nt++];
    memset(r, 0, sizeof *r);
    cu_strlcpy(r->id, t->id, sizeof r->id);
    cu_strlcpy(r->name, t->name, sizeof r->name);
    cu_strlcpy(r->roles, t->roles, sizeof r->roles);
    r->created_at = t->created_at;
    r->revoked_at = t->revoked_at;
    return CU_OK;
}

static void lists_free(lists *l)
{
    free(l->a);
    free(l->t);
}

/* A refusal page for anyone but an administrator, or the failure. */
static void fail_page(cu_console *c, int rc, const cu_err *err)
{
    if (rc == CU_EDENIED)
        cu_console_message(c, 403, "You cannot manage staff accounts",
                           "Staff accounts are for administrators. Your attempt has been "
                           "recorded.",
                           NULL);
    else
        cu_api_fail(c->resp, err);
}

/* A new password's Argon2id hash, made off the store's thread: on the
 * request's first run the password goes to the server (which hashes it on an
 * HTTP thread and runs the request again, from the session check on) and
 * nothing is answered; on the second the hash is here. False: nothing to do
 * on this run, or the page is answered (the hash failed). Without the
 * server's state (a handler called directly) the hash is made here. */
static bool new_password(cu_console *c, const char *pw, char hash[CU_PWHASH_STRBYTES])
{
    cu_signin_state *st = c->req->pw;
    cu_err err = {0};
    size_t n = strlen(pw);
    if (!st) {
        int rc = cu_password_hash(pw, n, hash, &err);
        if (rc)
            fail_page(c, rc, &err);
        return rc == CU_OK;
    }
    if (!st->hashed) {
        if (n >= sizeof st->body.password) { /* refused by the form's check before */
            fail_page(c, CU_EINVAL, &err);
            return false;
        }
        memcpy(st->body.password, pw, n + 1);
        st->body.password_len = n;
        st->hash_due = true;
        return false;
    }
    if (!st->password_ok) {
        cu_err_set(&err, CU_ENOMEM, "not enough memory to hash the password");
        fail_page(c, CU_ENOMEM, &err);
        return false;
    }
    memcpy(hash, st->new_hash, CU_PWHASH_STRBYTES);
    return true;
}

/* What the add and create forms held, with their errors. */
typedef struct form_state {
    const char *which; /* "account" or "token": the form the errors belong to */
    const char *username, *name;
    unsigned roles;
    bool totp;
    cu_field_error e[4];
    size_t ne;
} form_state;

static void error_message(cu_html *h, const char *id, const char *msg)
{
    char err_id[48];
    int n = snprintf(err_id, sizeof err_id, "%s-error", id);
    if (n < 0 || (size_t)n >= sizeof err_id)
        err_id[0] = '\0'; /* ids are short names: never */
    cu_html_open(h, "span", "class", "nhsuk-error-message", "id", err_id, NULL);
    cu_html_elem(h, "span", "Error:", "class", "nhsuk-u-visually-hidden", NULL);
    cu_html_textf(h, " %s", msg);
    cu_html_close(h, "span");
}

static void input(cu_html *h, const cu_field_error *e, size_t ne, const char *id,
                  const char *name, const char *label, const char *hint, const char *type,
                  const char *autocomplete, const char *value)
{
    const char *msg = cu_field_error_for(e, ne, id);
    char hint_id[48], described[112];
    snprintf(hint_id, sizeof hint_id, "%s-hint", id);
    snprintf(described, sizeof described, "%s%s%s%s", hint ? hint_id : "",
             hint && msg ? " " : "", msg ? id : "", msg ? "-error" : "");
    cu_html_open(h, "div", "class",
                 msg ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_elem(h, "label", label, "class", "nhsuk-label", "for", id, NULL);
    if (hint)
        cu_html_elem(h, "div", hint, "class", "nhsuk-hint", "id", hint_id, NULL);
    if (msg)
        error_message(h, id, msg);
    cu_html_void(h, "input", "class",
                 msg ? "nhsuk-input nhsuk-input--error nhsuk-input--width-20"
                     : "nhsuk-input nhsuk-input--width-20",
                 "id", id, "name", name, "type", type, "spellcheck", "false", "autocomplete",
                 autocomplete, "aria-describedby", described[0] ? described : NULL, "value",
                 value, NULL);
    cu_html_close(h, "div");
}

static void role_boxes(cu_html *h, const form_state *f, const char *prefix, const char *legend)
{
    char first_id[48];
    snprintf(first_id, sizeof first_id, "%s-roles", prefix);
    const char *msg = cu_field_error_for(f->e, f->ne, first_id);
    cu_html_open(h, "div", "class",
                 msg ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group", NULL);
    cu_html_open(h, "fieldset", "class", "nhsuk-fieldset", NULL);
    cu_html_elem(h, "legend", legend, "class", "nhsuk-fieldset__legend nhsuk-fieldset__legend--s",
                 NULL);
    if (msg)
        error_message(h, first_id, msg);
    cu_html_open(h, "div", "class", "nhsuk-checkboxes nhsuk-checkboxes--small", NULL);
    for (size_t i = 0; i < NROLES; i++) {
        char id[48];
        if (i == 0)
            cu_strlcpy(id, first_id, sizeof id);
        else
            snprintf(id, sizeof id, "%s-roles-%s", prefix, ROLES[i].name);
        cu_html_open(h, "div", "class", "nhsuk-checkboxes__item", NULL);
        cu_html_void(h, "input", "class", "nhsuk-checkboxes__input", "id", id, "name", "roles",
                     "type", "checkbox", "value", ROLES[i].name, "checked",
                     f->roles & cu_role_from_name(ROLES[i].name) ? CU_HTML_ON : NULL, NULL);
        cu_html_elem(h, "label", ROLES[i].label, "class", "nhsuk-label nhsuk-checkboxes__label",
                     "for", id, NULL);
        cu_html_close(h, "div");
    }
    cu_html_close(h, "div");
    cu_html_close(h, "fieldset");
    cu_html_close(h, "div");
}

static void row_button(cu_html *h, const cu_console *c, const char *to, const char *label,
                       const char *hidden, bool secondary)
{
    char action[192];
    cu_console_link(c, to, action, sizeof action);
    cu_html_open(h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON,
                 "class", "nhsuk-u-margin-bottom-2", NULL);
    cu_console_csrf(h, c);
    cu_html_open(h, "button", "type", "submit", "class",
                 secondary ? "nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0"
                           : "nhsuk-button nhsuk-button--warning nhsuk-u-margin-bottom-0",
                 NULL);
    cu_html_text(h, label);
    cu_html_elem(h, "span", hidden, "class", "nhsuk-u-visually-hidden", NULL);
    cu_html_close(h, "button");
    cu_html_close(h, "form");
}

/* The accounts page: both listings (two audited calls), the forms, and the
 * errors of a form that was sent (f: NULL for none). */
static void accounts_page(cu_console *c, long pageno, const form_state *f, int status)
{
    static const form_state none = {0};
    const form_state *fa = f && strcmp(f->which, "account") == 0 ? f : &none;
    const form_state *ft = f && strcmp(f->which, "token") == 0 ? f : &none;
    cu_vault *v = cu_api_vault(c->api);
    lists l = {0};
    cu_err err = {0};
    int rc = cu_user_list(v, &c->actor, add_account, &l, &err);
    if (!rc)
        rc = cu_api_token_list(v, &c->actor, add_token, &l, &err);
    if (rc) {
        lists_free(&l);
        fail_page(c, rc, &err);
        return;
    }
    size_t pages = (l.na + PER_PAGE - 1) / PER_PAGE;
    if (pages == 0)
        pages = 1;
    if ((size_t)pageno > pages) {
        lists_free(&l);
        cu_console_message(c, 404, "This page does not exist",
                           "Go back to the first page of staff accounts.", "/staff/accounts");
        return;
    }
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    bool errors = f && f->ne;
    cu_console_begin(&h, c, errors ? "Error: Staff accounts" : "Staff accounts", true);
    if (errors)
        cu_html_error_summary(&h, f->e, f->ne);
    cu_html_elem(&h, "h1", "Staff accounts", NULL);
    cu_html_open(&h, "p", NULL);
    cu_html_textf(&h, "%zu %s.", l.na, l.na == 1 ? "account" : "accounts");
    cu_html_close(&h, "p");
    size_t first = (size_t)(pageno - 1) * PER_PAGE;
    size_t last = first + PER_PAGE < l.na ? first + PER_PAGE : l.na;
    char when[CU_HTML_DATE_LEN], words[200], hidden[120], to[160];
    if (first < last) {
        static const char *const heads[] = {"Username", "Roles", "Status", "One-time code",
                                            "Actions"};
        cu_html_table_open(&h, "Staff accounts", true, heads, 5);
        int64_t now = cu_now_us();
        for (size_t i = first; i < last; i++) {
            const acct *a = &l.a[i];
            cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
            cu_html_elem(&h, "td", a->username, "class", "nhsuk-table__cell", NULL);
            roles_words(a->roles, words, sizeof words);
            cu_html_elem(&h, "td", words, "class", "nhsuk-table__cell", NULL);
            cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
            if (a->disabled_at)
                cu_html_textf(&h, "Disabled on %s", cu_html_date(a->disabled_at, when));
            else if (a->locked_until > now)
                cu_html_text(&h, "Locked after failed sign-ins");
            else
                cu_html_text(&h, "Enabled");
            cu_html_close(&h, "td");
            cu_html_elem(&h, "td", a->totp ? "Yes" : "No", "class", "nhsuk-table__cell", NULL);
            cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
            if (!a->disabled_at) {
                snprintf(hidden, sizeof hidden, " for %s", a->username);
                snprintf(to, sizeof to, "/staff/accounts/%s/password", a->username);
                row_button(&h, c, to, "Set a new password", hidden, true);
                /* not one's own: cu_user_disable refuses it */
                if (strcmp(a->username, c->who.name) != 0) {
                    snprintf(to, sizeof to, "/staff/accounts/%s/disable", a->username);
                    row_button(&h, c, to, "Disable", hidden, false);
                }
            }
            cu_html_close(&h, "td");
            cu_html_close(&h, "tr");
        }
        cu_html_table_close(&h);
    }
    cu_console_pagination(&h, &(cu_pages_nav){.label = "Pages of staff accounts",
                                              .prefix = "accounts?", .page = pageno,
                                              .pages = pages});

    char action[128];
    cu_html_elem(&h, "h2", "Add an account", NULL);
    cu_console_link(c, "/staff/accounts", action, sizeof action);
    cu_html_open(&h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON, NULL);
    cu_console_csrf(&h, c);
    input(&h, fa->e, fa->ne, "username", "username", "Username",
          "Lower case letters, digits, dots, dashes and underscores, starting with a letter",
          "text", "off", fa->username);
    input(&h, fa->e, fa->ne, "password", "password", "Password",
          "At least 12 characters. Give it to the person in a safe way.", "password",
          "new-password", NULL);
    role_boxes(&h, fa, "account", "Roles");
    cu_html_open(&h, "div", "class", "nhsuk-form-group", NULL);
    cu_html_open(&h, "div", "class", "nhsuk-checkboxes nhsuk-checkboxes--small", NULL);
    cu_html_open(&h, "div", "class", "nhsuk-checkboxes__item", NULL);
    cu_html_void(&h, "input", "class", "nhsuk-checkboxes__input", "id", "totp", "name", "totp",
                 "type", "checkbox", "value", "yes", "aria-describedby", "totp-hint", "checked",
                 fa->totp ? CU_HTML_ON : NULL, NULL);
    cu_html_elem(&h, "label", "Needs a one-time code to sign in", "class",
                 "nhsuk-label nhsuk-checkboxes__label", "for", "totp", NULL);
    cu_html_elem(&h, "div",
                 "Always on for administrators and Data Protection Officers. The secret is "
                 "shown once, after the account is added.",
                 "class", "nhsuk-hint nhsuk-checkboxes__hint", "id", "totp-hint", NULL);
    cu_html_close(&h, "div");
    cu_html_close(&h, "div");
    cu_html_close(&h, "div");
    cu_html_elem(&h, "button", "Add the account", "type", "submit", "class", "nhsuk-button", NULL);
    cu_html_close(&h, "form");

    cu_html_elem(&h, "h2", "API tokens", NULL);
    if (l.nt == 0)
        cu_html_elem(&h, "p", "There are no API tokens.", NULL);
    else {
        static const char *const heads[] = {"Name", "Scope", "Created", "Status", "Actions"};
        cu_html_table_open(&h, "API tokens", true, heads, 5);
        for (size_t i = 0; i < l.nt; i++) {
            const tok *t = &l.t[i];
            cu_html_open(&h, "tr", "class", "nhsuk-table__row", NULL);
            cu_html_elem(&h, "td", t->name, "class", "nhsuk-table__cell", NULL);
            roles_words(t->roles, words, sizeof words);
            cu_html_elem(&h, "td", words, "class", "nhsuk-table__cell", NULL);
            cu_html_elem(&h, "td", cu_html_date(t->created_at, when), "class",
                         "nhsuk-table__cell", NULL);
            cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
            if (t->revoked_at)
                cu_html_textf(&h, "Revoked on %s", cu_html_date(t->revoked_at, when));
            else
                cu_html_text(&h, "In use");
            cu_html_close(&h, "td");
            cu_html_open(&h, "td", "class", "nhsuk-table__cell", NULL);
            if (!t->revoked_at) {
                snprintf(hidden, sizeof hidden, " the token %s", t->name);
                snprintf(to, sizeof to, "/staff/tokens/%s/revoke", t->id);
                row_button(&h, c, to, "Revoke", hidden, false);
            }
            cu_html_close(&h, "td");
            cu_html_close(&h, "tr");
        }
        cu_html_table_close(&h);
    }
    cu_html_elem(&h, "h2", "Create an API token", NULL);
    cu_console_link(c, "/staff/tokens", action, sizeof action);
    cu_html_open(&h, "form", "method", "post", "action", action, "novalidate", CU_HTML_ON, NULL);
    cu_console_csrf(&h, c);
    input(&h, ft->e, ft->ne, "token-name", "name", "Name",
          "What uses it, for example lab-feed: lower case letters, digits, dots, dashes and "
          "underscores",
          "text", "off", ft->name);
    role_boxes(&h, ft, "token", "Scope: the roles it acts with");
    cu_html_elem(&h, "button", "Create the token", "type", "submit", "class", "nhsuk-button",
                 NULL);
    cu_html_close(&h, "form");
    cu_page_end(&h);
    lists_free(&l);
    cu_console_finish(&h, c->resp, status, &page);
}

void cu_console_accounts(cu_console *c)
{
    long pageno;
    if (!cu_page_number(c->req->q_page, 100000, &pageno)) {
        cu_console_message(c, 400, "This page does not exist",
                           "Go back to the first page of staff accounts.", "/staff/accounts");
        return;
    }
    accounts_page(c, pageno, NULL, 200);
}

/* The roles ticked in a form ("clinician,auditor"), with the mask; false
 * when a value is not one of ROLES. */
static bool form_roles(const cu_form *form, char *out, size_t cap, unsigned *mask)
{
    *mask = 0;
    for (size_t i = 0; i < form->n; i++) {
        if (strcmp(form->f[i].name, "roles") != 0)
            continue;
        bool known = false;
        for (size_t r = 0; r < NROLES && !known; r++)
            known = strcmp(form->f[i].value, ROLES[r].name) == 0;
        if (!known)
            return false;
        *mask |= cu_role_from_name(form->f[i].value);
    }
    cu_roles_format(*mask, out, cap);
    return true;
}

/* A page that shows what was done, with a link back to the accounts. */
typedef struct done_line {
    const char *key, *value;
    bool code;
} done_line;

static void done_page(cu_console *c, const char *title, const char *para, const done_line *d,
                      size_t n)
{
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    cu_console_begin(&h, c, title, false);
    cu_html_open(&h, "div", "class", "nhsuk-panel", NULL);
    cu_html_elem(&h, "h1", title, "class", "nhsuk-panel__title", NULL);
    cu_html_close(&h, "div");
    cu_html_elem(&h, "p", para, NULL);
    if (n) {
        cu_html_open(&h, "dl", "class", "nhsuk-summary-list", NULL);
        for (size_t i = 0; i < n; i++) {
            cu_html_open(&h, "div", "class", "nhsuk-summary-list__row", NULL);
            cu_html_elem(&h, "dt", d[i].key, "class", "nhsuk-summary-list__key", NULL);
            cu_html_open(&h, "dd", "class", "nhsuk-summary-list__value", NULL);
            if (d[i].code)
                cu_html_elem(&h, "code", d[i].value, NULL);
            else
                cu_html_text(&h, d[i].value);
            cu_html_close(&h, "dd");
            cu_html_close(&h, "div");
        }
        cu_html_close(&h, "dl");
    }
    char back[128];
    cu_console_link(c, "/staff/accounts", back, sizeof back);
    cu_html_open(&h, "p", NULL);
    cu_html_elem(&h, "a", "Back to staff accounts", "href", back, NULL);
    cu_html_close(&h, "p");
    cu_page_end(&h);
    cu_console_finish(&h, c->resp, 200, &page);
}

void cu_console_account_add(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    form_state f = {.which = "account"};
    const char *user = cu_form_get(&form, "username");
    const char *pw = cu_form_get(&form, "password");
    char roles[96];
    f.totp = cu_form_get(&form, "totp") != NULL;
    bool roles_ok = form_roles(&form, roles, sizeof roles, &f.roles);
    if (!user || !*user)
        f.e[f.ne++] = (cu_field_error){"username", "Enter a username"};
    else if (strlen(user) > 64 || !cu_name_valid(user))
        f.e[f.ne++] = (cu_field_error){"username", "Enter a username of lower case letters, "
                                                   "digits, dots, dashes and underscores, "
                                                   "starting with a letter"};
    else
        f.username = user;
    cu_err err = {0};
    if (!pw || !*pw)
        f.e[f.ne++] = (cu_field_error){"password", "Enter a password"};
    else if (cu_password_check(pw, strlen(pw), &err))
        f.e[f.ne++] = (cu_field_error){"password", "Enter a password of at least 12 characters "
                                                   "that is not one character repeated"};
    if (!roles_ok || !f.roles)
        f.e[f.ne++] = (cu_field_error){"account-roles", "Choose at least one role"};
    if (f.ne) {
        accounts_page(c, 1, &f, 400);
        cu_form_free(&form);
        return;
    }
    char id[CU_ID_STRLEN], secret[CU_TOTP_B32_LEN] = "", hash[CU_PWHASH_STRBYTES];
    if (!new_password(c, pw, hash)) {
        cu_form_free(&form);
        return;
    }
    cu_err_clear(&err);
    int rc = cu_user_add_hashed(cu_api_vault(c->api), &c->actor, c->who.controller_id, user,
                                roles, hash, f.totp, id, secret, &err);
    cu_wipe(hash, sizeof hash);
    if (rc == CU_ECONFLICT) {
        f.e[f.ne++] = (cu_field_error){"username", "This username is taken: choose another"};
        accounts_page(c, 1, &f, 409);
    } else if (rc) {
        fail_page(c, rc, &err);
    } else {
        char uri[256] = "", para[200];
        snprintf(para, sizeof para, "%s can now sign in with the password you chose.", user);
        done_line d[2];
        size_t n = 0;
        if (secret[0]) {
            snprintf(uri, sizeof uri, "otpauth://totp/custos:%s?secret=%s&issuer=custos"
                                      "&algorithm=SHA1&digits=6&period=30",
                     user, secret);
            d[n++] = (done_line){"One-time code secret", secret, true};
            d[n++] = (done_line){"For an authenticator app", uri, true};
            snprintf(para, sizeof para,
                     "%s can now sign in with the password you chose and a one-time code. "
                     "Give them the secret below now: it is shown only once.",
                     user);
        }
        done_page(c, "Account added", para, d, n);
        cu_wipe(secret, sizeof secret);
        cu_wipe(uri, sizeof uri);
    }
    cu_form_free(&form);
}

/* A confirmation page: what will happen and a button that posts again with
 * confirm=yes (and the password field, for a new password). */
static void confirm_page(cu_console *c, int status, const char *title, const char *para,
                         const char *button, bool password, const cu_field_error *e, size_t ne)
{
    cu_buf page;
    cu_buf_init(&page, 0);
    cu_html h;
    cu_html_init(&h, &page);
    char t[160];
    snprintf(t, sizeof t, "%s%s", ne ? "Error: " : "", title);
    cu_console_begin(&h, c, t, false);
    cu_html_error_summary(&h, e, ne);
    cu_html_elem(&h, "h1", title, NULL);
    cu_html_elem(&h, "p", para, NULL);
    /* the form posts to this same page */
    const char *self = strrchr(c->req->path, '/');
    cu_html_open(&h, "form", "method", "post", "action", self ? self + 1 : "", "novalidate",
                 CU_HTML_ON, NULL);
    cu_console_csrf(&h, c);
    cu_html_void(&h, "input", "type", "hidden", "name", "confirm", "value", "yes", NULL);
    if (password)
        input(&h, e, ne, "password", "password", "New password", "At least 12 characters",
              "password", "new-password", NULL);
    cu_html_elem(&h, "button", button, "type", "submit", "class",
                 password ? "nhsuk-button" : "nhsuk-button nhsuk-button--warning", NULL);
    cu_html_close(&h, "form");
    char back[128];
    cu_console_link(c, "/staff/accounts", back, sizeof back);
    cu_html_open(&h, "p", NULL);
    cu_html_elem(&h, "a", "Cancel and go back to staff accounts", "href", back, NULL);
    cu_html_close(&h, "p");
    cu_page_end(&h);
    cu_console_finish(&h, c->resp, status, &page);
}

static bool confirmed(const cu_form *form)
{
    const char *v = cu_form_get(form, "confirm");
    return v && strcmp(v, "yes") == 0;
}

void cu_console_account_disable(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    const char *user = c->req->route.user;
    char title[128], para[256];
    if (!confirmed(&form)) {
        snprintf(title, sizeof title, "Disable %s's account?", user);
        snprintf(para, sizeof para,
                 "%s will be signed out everywhere and will not be able to sign in again.",
                 user);
        confirm_page(c, 200, title, para, "Disable the account", false, NULL, 0);
    } else {
        cu_err err = {0};
        int rc = cu_user_disable(cu_api_vault(c->api), &c->actor, user, &err);
        if (rc == CU_ENOTFOUND || rc == CU_EINVAL)
            cu_console_message(c, 404, "There is no such account",
                               "Nothing was changed.", "/staff/accounts");
        else if (rc == CU_ECONFLICT)
            cu_console_message(c, 409, "You cannot disable your own account",
                               "Another administrator can disable it. Nothing was changed.",
                               "/staff/accounts");
        else if (rc)
            fail_page(c, rc, &err);
        else {
            snprintf(para, sizeof para, "%s has been signed out and can no longer sign in.",
                     user);
            done_page(c, "Account disabled", para, NULL, 0);
        }
    }
    cu_form_free(&form);
}

void cu_console_account_password(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    const char *user = c->req->route.user;
    const char *pw = cu_form_get(&form, "password");
    char title[128], para[256], hash[CU_PWHASH_STRBYTES];
    snprintf(title, sizeof title, "Set a new password for %s", user);
    snprintf(para, sizeof para,
             "%s will be signed out everywhere and will sign in with the new password. Give "
             "it to them in a safe way.",
             user);
    cu_err err = {0};
    if (!confirmed(&form)) {
        confirm_page(c, 200, title, para, "Set the password", true, NULL, 0);
    } else if (!pw || !*pw) {
        cu_field_error e = {"password", "Enter a new password"};
        confirm_page(c, 400, title, para, "Set the password", true, &e, 1);
    } else if (cu_password_check(pw, strlen(pw), &err)) {
        cu_field_error e = {"password", "Enter a password of at least 12 characters that is "
                                        "not one character repeated"};
        confirm_page(c, 400, title, para, "Set the password", true, &e, 1);
    } else if (new_password(c, pw, hash)) {
        int rc = cu_user_reset_password_hashed(cu_api_vault(c->api), &c->actor, user, hash, &err);
        cu_wipe(hash, sizeof hash);
        if (rc == CU_ENOTFOUND || rc == CU_EINVAL)
            cu_console_message(c, 404, "There is no such account", "Nothing was changed.",
                               "/staff/accounts");
        else if (rc)
            fail_page(c, rc, &err);
        else {
            snprintf(para, sizeof para,
                     "%s has been signed out and signs in with the new password from now on.",
                     user);
            done_page(c, "Password changed", para, NULL, 0);
        }
    }
    cu_form_free(&form);
}

void cu_console_token_create(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    form_state f = {.which = "token"};
    const char *name = cu_form_get(&form, "name");
    char roles[96];
    bool roles_ok = form_roles(&form, roles, sizeof roles, &f.roles);
    if (!name || !*name)
        f.e[f.ne++] = (cu_field_error){"token-name", "Enter a name for the token"};
    else if (strlen(name) > 64 || !cu_name_valid(name))
        f.e[f.ne++] = (cu_field_error){"token-name", "Enter a name of lower case letters, "
                                                     "digits, dots, dashes and underscores, "
                                                     "starting with a letter"};
    else
        f.name = name;
    if (!roles_ok || !f.roles)
        f.e[f.ne++] = (cu_field_error){"token-roles", "Choose at least one role"};
    if (f.ne) {
        accounts_page(c, 1, &f, 400);
        cu_form_free(&form);
        return;
    }
    char token[CU_TOKEN_STRLEN], id[CU_ID_STRLEN];
    cu_err err = {0};
    int rc = cu_api_token_create(cu_api_vault(c->api), &c->actor, c->who.controller_id, roles,
                                 name, token, id, &err);
    if (rc)
        fail_page(c, rc, &err);
    else {
        char words[200];
        roles_words(roles, words, sizeof words);
        done_line d[] = {{"Name", name, false}, {"Scope", words, false}, {"Token", token, true}};
        done_page(c, "Token created",
                  "Copy the token now and keep it safe: it is shown only once. Send it in the "
                  "Authorization header as Bearer followed by the token.",
                  d, 3);
        cu_wipe(token, sizeof token);
    }
    cu_form_free(&form);
}

void cu_console_token_revoke(cu_console *c)
{
    cu_form form;
    if (!cu_console_form(c, &form))
        return;
    const char *id = c->req->route.subject;
    if (!confirmed(&form)) {
        confirm_page(c, 200, "Revoke this API token?",
                     "Whatever uses it will be refused from now on. This cannot be undone.",
                     "Revoke the token", false, NULL, 0);
    } else {
        cu_err err = {0};
        int rc = cu_api_token_revoke(cu_api_vault(c->api), &c->actor, id, &err);
        if (rc == CU_ENOTFOUND || rc == CU_EINVAL)
            cu_console_message(c, 404, "There is no such token in use", "Nothing was changed.",
                               "/staff/accounts");
        else if (rc)
            fail_page(c, rc, &err);
        else
            done_page(c, "Token revoked", "Whatever used it is refused from now on.", NULL, 0);
    }
    cu_form_free(&form);
}
