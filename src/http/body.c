#include "http/body.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/model.h"
#include "util/clock.h"

/* Parses an object of at most limit bytes whose keys must all be in allowed.
 * With typed, each key must also map to a string, or for int_key (may be
 * NULL) an integer, or for bool_key (may be NULL) a boolean; without it any
 * type goes. */
static json_t *load_checked(const void *json, size_t len, size_t limit,
                            const char *const *allowed, bool typed, const char *int_key,
                            const char *bool_key, cu_err *err)
{
    if (len > limit) {
        cu_err_set(err, CU_EINVAL, "body larger than %zu bytes", limit);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) {
        cu_err_set(err, CU_EINVAL, "malformed JSON at line %d column %d", je.line, je.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        cu_err_set(err, CU_EINVAL, "the body must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(key, *a) == 0;
        if (!ok) {
            cu_err_set(err, CU_EINVAL, "$: unknown key %s",
                       cu_name_valid(key) ? key : "(not shown)");
            json_decref(root);
            return NULL;
        }
        if (!typed)
            continue;
        bool want_int = int_key && strcmp(key, int_key) == 0;
        if (bool_key && strcmp(key, bool_key) == 0) {
            if (!json_is_boolean(val)) {
                cu_err_set(err, CU_EINVAL, "$.%s must be true or false", key);
                json_decref(root);
                return NULL;
            }
            continue;
        }
        if (want_int ? !json_is_integer(val) : !json_is_string(val)) {
            cu_err_set(err, CU_EINVAL, "$.%s must be %s", key, want_int ? "an integer" : "a string");
            json_decref(root);
            return NULL;
        }
    }
    return root;
}

/* An object of at most 64 KiB whose keys must all be in allowed and map to
 * strings (or, for int_key, an integer; for bool_key, a boolean). */
static json_t *load_object_typed(const void *json, size_t len, const char *const *allowed,
                                 const char *int_key, const char *bool_key, cu_err *err)
{
    return load_checked(json, len, 64 * 1024, allowed, true, int_key, bool_key, err);
}

static json_t *load_object(const void *json, size_t len, const char *const *allowed,
                           const char *int_key, cu_err *err)
{
    return load_object_typed(json, len, allowed, int_key, NULL, err);
}

static int copy_str(json_t *root, const char *key, bool required, char *out, size_t cap,
                    size_t *len_out, cu_err *err)
{
    json_t *v = json_object_get(root, key);
    out[0] = '\0';
    if (len_out)
        *len_out = 0;
    if (!v)
        return required ? cu_err_set(err, CU_EINVAL, "$.%s is required", key) : CU_OK;
    size_t n = json_string_length(v);
    if (n == 0)
        return cu_err_set(err, CU_EINVAL, "$.%s must not be empty", key);
    if (n >= cap)
        return cu_err_set(err, CU_EINVAL, "$.%s is longer than %zu bytes", key, cap - 1);
    memcpy(out, json_string_value(v), n);
    out[n] = '\0';
    if (len_out)
        *len_out = n;
    return CU_OK;
}

int cu_body_signin(const void *json, size_t len, cu_signin_body *out, cu_err *err)
{
    static const char *const keys[] = {"username", "password", "code", NULL};
    memset(out, 0, sizeof *out);
    json_t *root = load_object(json, len, keys, NULL, err);
    if (!root)
        return CU_EINVAL;
    int rc = copy_str(root, "username", true, out->username, sizeof out->username, NULL, err);
    if (!rc)
        rc = copy_str(root, "password", true, out->password, sizeof out->password,
                      &out->password_len, err);
    if (!rc)
        rc = copy_str(root, "code", false, out->code, sizeof out->code, NULL, err);
    json_decref(root);
    return rc;
}

int cu_body_search(const void *json, size_t len, cu_search_body *out, cu_err *err)
{
    static const char *const keys[] = {"nhs_number", "email",      "phone",
                                       "local_ref",  "family_name", "birth_date", NULL};
    memset(out, 0, sizeof *out);
    json_t *root = load_object(json, len, keys, NULL, err);
    if (!root)
        return CU_EINVAL;
    int rc = CU_OK;
    bool by_name = json_object_get(root, "family_name") || json_object_get(root, "birth_date");
    if (by_name ? json_object_size(root) != 2 || !json_object_get(root, "family_name") ||
                      !json_object_get(root, "birth_date")
                : json_object_size(root) != 1)
        rc = cu_err_set(err, CU_EINVAL, "search by exactly one of nhs_number, email, phone, "
                                        "local_ref, or by family_name and birth_date together");
    if (!rc && by_name) {
        out->field = "family_name";
        rc = copy_str(root, "family_name", true, out->value, sizeof out->value,
                      &out->value_len, err);
        size_t n = 0;
        if (!rc)
            rc = copy_str(root, "birth_date", true, out->birth_date, sizeof out->birth_date, &n,
                          err);
    }
    for (const char *const *k = keys; !rc && !by_name && *k; k++)
        if (json_object_get(root, *k)) {
            out->field = *k;
            rc = copy_str(root, *k, true, out->value, sizeof out->value, &out->value_len, err);
        }
    json_decref(root);
    return rc;
}

int cu_body_break_glass(const void *json, size_t len, cu_break_glass_body *out, cu_err *err)
{
    static const char *const keys[] = {"reason", "minutes", NULL};
    memset(out, 0, sizeof *out);
    out->minutes = 60;
    json_t *root = load_object(json, len, keys, "minutes", err);
    if (!root)
        return CU_EINVAL;
    int rc = copy_str(root, "reason", true, out->reason, sizeof out->reason, &out->reason_len,
                      err);
    json_t *m = json_object_get(root, "minutes");
    if (!rc && m) {
        json_int_t v = json_integer_value(m);
        if (v < 1 || v > 240)
            rc = cu_err_set(err, CU_EINVAL, "$.minutes must be 1 to 240");
        else
            out->minutes = (int)v;
    }
    json_decref(root);
    return rc;
}

int cu_body_consent(const void *json, size_t len, cu_consent_body *out, cu_err *err)
{
    static const char *const keys[] = {"purpose", "state", "method", "evidence", NULL};
    memset(out, 0, sizeof *out);
    json_t *root = load_object(json, len, keys, NULL, err);
    if (!root)
        return CU_EINVAL;
    char state[16] = "";
    int rc = copy_str(root, "purpose", true, out->purpose, sizeof out->purpose, NULL, err);
    if (!rc && !cu_name_valid(out->purpose))
        rc = cu_err_set(err, CU_EINVAL, "$.purpose must be a purpose id");
    if (!rc)
        rc = copy_str(root, "state", false, state, sizeof state, NULL, err);
    if (!rc && state[0] && strcmp(state, "given") != 0 && strcmp(state, "withdrawn") != 0)
        rc = cu_err_set(err, CU_EINVAL, "$.state must be given or withdrawn");
    out->given = strcmp(state, "withdrawn") != 0;
    if (!rc)
        rc = copy_str(root, "method", true, out->method, sizeof out->method, NULL, err);
    if (!rc)
        rc = copy_str(root, "evidence", false, out->evidence, sizeof out->evidence,
                      &out->evidence_len, err);
    json_decref(root);
    return rc;
}

int cu_body_purpose(const void *json, size_t len, cu_purpose_body *out, cu_err *err)
{
    static const char *const keys[] = {"purpose", NULL};
    memset(out, 0, sizeof *out);
    json_t *root = load_object(json, len, keys, NULL, err);
    if (!root)
        return CU_EINVAL;
    int rc = copy_str(root, "purpose", true, out->purpose, sizeof out->purpose, NULL, err);
    if (!rc && !cu_name_valid(out->purpose))
        rc = cu_err_set(err, CU_EINVAL, "$.purpose must be a purpose id");
    json_decref(root);
    return rc;
}

int cu_body_request(const void *json, size_t len, cu_request_body *out, cu_err *err)
{
    static const char *const keys[] = {"kind", "channel", "received_on", "details", "purpose",
                                       NULL};
    memset(out, 0, sizeof *out);
    json_t *root = load_object(json, len, keys, NULL, err);
    if (!root)
        return CU_EINVAL;
    int rc = copy_str(root, "kind", true, out->kind, sizeof out->kind, NULL, err);
    if (!rc)
        rc = copy_str(root, "channel", true, out->channel, sizeof out->channel, NULL, err);
    if (!rc)
        rc = copy_str(root, "received_on", true, out->received_on, sizeof out->received_on,
                      NULL, err);
    if (!rc)
        rc = copy_str(root, "details", true, out->details, sizeof out->details,
                      &out->details_len, err);
    if (!rc)
        rc = copy_str(root, "purpose", false, out->purpose, sizeof out->purpose, NULL, err);
    if (!rc && out->purpose[0] && strcmp(out->purpose, "all") != 0 &&
        !cu_name_valid(out->purpose))
        rc = cu_err_set(err, CU_EINVAL, "$.purpose must be a purpose id, or all");
    json_decref(root);
    return rc;
}

int cu_body_request_change(const void *json, size_t len, cu_request_change_body *out,
                           cu_err *err)
{
    static const char *const keys[] = {"action",  "why",     "on", "subject", "told_on",
                                       "grounds", "ico_route_stated", NULL};
    memset(out, 0, sizeof *out);
    json_t *root = load_object_typed(json, len, keys, NULL, "ico_route_stated", err);
    if (!root)
        return CU_EINVAL;
    int rc = copy_str(root, "action", true, out->action, sizeof out->action, NULL, err);
    if (!rc)
        rc = copy_str(root, "why", true, out->why, sizeof out->why, &out->why_len, err);
    if (!rc)
        rc = copy_str(root, "on", false, out->on, sizeof out->on, NULL, err);
    if (!rc)
        rc = copy_str(root, "subject", false, out->subject, sizeof out->subject, NULL, err);
    if (!rc && out->subject[0] && !cu_id_valid(out->subject))
        rc = cu_err_set(err, CU_EINVAL, "$.subject must be a subject id");
    if (!rc)
        rc = copy_str(root, "told_on", false, out->told_on, sizeof out->told_on, NULL, err);
    if (!rc)
        rc = copy_str(root, "grounds", false, out->grounds, sizeof out->grounds, NULL, err);
    out->ico_route_stated = json_is_true(json_object_get(root, "ico_route_stated"));
    json_decref(root);
    return rc;
}

static int copy_date(json_t *root, const char *key, int64_t *out, cu_err *err)
{
    char d[16];
    int rc = copy_str(root, key, false, d, sizeof d, NULL, err);
    cu_date date;
    if (!rc && d[0]) {
        if (!cu_date_parse(d, strlen(d), &date))
            return cu_err_set(err, CU_EINVAL, "$.%s must be a date YYYY-MM-DD", key);
        *out = cu_date_to_days(date) * 86400000000LL;
    }
    return rc;
}

int cu_body_erasure(const void *json, size_t len, cu_erasure_body *out, cu_err *err)
{
    static const char *const keys[] = {"treatment_ended", "died", "approve_health", NULL};
    memset(out, 0, sizeof *out);
    json_t *root = load_object(json, len, keys, NULL, err);
    if (!root)
        return CU_EINVAL;
    int rc = copy_date(root, "treatment_ended", &out->treatment_ended, err);
    if (!rc)
        rc = copy_date(root, "died", &out->died, err);
    if (!rc)
        rc = copy_str(root, "approve_health", false, out->approve_health,
                      sizeof out->approve_health, NULL, err);
    if (!rc && out->approve_health[0]) {
        bool ok = strlen(out->approve_health) == 16;
        for (size_t i = 0; ok && i < 16; i++)
            ok = (out->approve_health[i] >= '0' && out->approve_health[i] <= '9') ||
                 (out->approve_health[i] >= 'a' && out->approve_health[i] <= 'f');
        if (!ok)
            rc = cu_err_set(err, CU_EINVAL, "$.approve_health must be a plan digest (16 "
                                            "hex digits)");
    }
    json_decref(root);
    return rc;
}

/* Parses an object and checks its keys against allowed (any types). */
static json_t *load_any(const void *json, size_t len, size_t limit, const char *const *allowed,
                        cu_err *err)
{
    return load_checked(json, len, limit, allowed, false, NULL, NULL, err);
}

/* Copies a string member that must be a string (when present). */
static int member_str(json_t *root, const char *key, bool required, char *out, size_t cap,
                      cu_err *err)
{
    json_t *v = json_object_get(root, key);
    if (v && !json_is_string(v))
        return cu_err_set(err, CU_EINVAL, "$.%s must be a string", key);
    return copy_str(root, key, required, out, cap, NULL, err);
}

/* Text without control characters and without NUL bytes. */
static bool plain_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int cu_body_sar(const void *json, size_t len, cu_sar_body *out, cu_err *err)
{
    static const char *const keys[] = {"format", "withhold", NULL};
    memset(out, 0, sizeof *out);
    json_t *root = load_any(json, len, 256 * 1024, keys, err);
    if (!root)
        return CU_EINVAL;
    int rc = member_str(root, "format", false, out->format, sizeof out->format, err);
    if (!rc && !out->format[0])
        cu_strlcpy(out->format, "json", sizeof out->format);
    if (!rc && strcmp(out->format, "json") != 0 && strcmp(out->format, "html") != 0 &&
        strcmp(out->format, "fhir") != 0)
        rc = cu_err_set(err, CU_EINVAL, "$.format must be json, html or fhir");
    json_t *w = json_object_get(root, "withhold");
    if (!rc && w && !json_is_array(w))
        rc = cu_err_set(err, CU_EINVAL, "$.withhold must be an array");
    if (!rc && w && json_array_size(w) > CU_BODY_MAX_WITHHOLD)
        rc = cu_err_set(err, CU_EINVAL, "$.withhold has more than %d entries",
                        CU_BODY_MAX_WITHHOLD);
    size_t i;
    json_t *e;
    static const char *const ekeys[] = {"item", "reason", NULL};
    if (!rc && w)
        json_array_foreach(w, i, e)
        {
            if (!json_is_object(e)) {
                rc = cu_err_set(err, CU_EINVAL, "$.withhold[%zu] must be an object", i);
                break;
            }
            const char *key;
            json_t *val;
            json_object_foreach(e, key, val)
            {
                bool ok = false;
                for (const char *const *a = ekeys; *a; a++)
                    ok = ok || strcmp(key, *a) == 0;
                if (!ok)
                    rc = cu_err_set(err, CU_EINVAL, "$.withhold[%zu]: unknown key %s", i,
                                    cu_name_valid(key) ? key : "(not shown)");
                else if (!json_is_string(val))
                    rc = cu_err_set(err, CU_EINVAL, "$.withhold[%zu].%s must be a string", i,
                                    key);
                if (rc)
                    break;
            }
            if (!rc && copy_str(e, "item", true, out->item[i], sizeof out->item[i], NULL, NULL))
                rc = cu_err_set(err, CU_EINVAL, "$.withhold[%zu].item must be an item id", i);
            if (!rc && !cu_id_valid(out->item[i]))
                rc = cu_err_set(err, CU_EINVAL, "$.withhold[%zu].item must be an item id", i);
            size_t n = 0;
            if (!rc && copy_str(e, "reason", true, out->reason[i], 1001, &n, NULL))
                rc = cu_err_set(err, CU_EINVAL,
                                "$.withhold[%zu].reason must be 1-1000 bytes of text", i);
            if (!rc && (strlen(out->reason[i]) != n || !plain_text(out->reason[i], n)))
                rc = cu_err_set(err, CU_EINVAL,
                                "$.withhold[%zu].reason must be text without control "
                                "characters", i);
            if (rc)
                break;
            out->nwithhold = i + 1;
        }
    json_decref(root);
    if (rc)
        cu_wipe(out, sizeof *out);
    return rc;
}

void cu_body_disclosure_release(cu_disclosure_body *b)
{
    free(b->items);
    b->items = NULL;
    cu_wipe(b, sizeof *b);
}

int cu_body_disclosure(const void *json, size_t len, cu_disclosure_body *out, cu_err *err)
{
    static const char *const keys[] = {"recipient_id", "organisation", "basis", "channel",
                                       "items", "categories", "disclosed_at", "note", NULL};
    memset(out, 0, sizeof *out);
    json_t *root = load_any(json, len, 128 * 1024, keys, err);
    if (!root)
        return CU_EINVAL;
    char basis[4], when[40];
    int rc = member_str(root, "recipient_id", false, out->recipient_id,
                        sizeof out->recipient_id, err);
    if (!rc && out->recipient_id[0] && !cu_name_valid(out->recipient_id))
        rc = cu_err_set(err, CU_EINVAL, "$.recipient_id must be a recipient id of the policy");
    if (!rc)
        rc = member_str(root, "organisation", false, out->organisation,
                        sizeof out->organisation - 3, err);
    if (!rc && !plain_text(out->organisation, strlen(out->organisation)))
        rc = cu_err_set(err, CU_EINVAL, "$.organisation must be text without control characters");
    if (!rc && !out->recipient_id[0] == !out->organisation[0])
        rc = cu_err_set(err, CU_EINVAL, "name exactly one of $.recipient_id and $.organisation");
    if (!rc)
        rc = member_str(root, "basis", true, basis, sizeof basis, err);
    if (!rc && (strlen(basis) != 1 || basis[0] < 'a' || basis[0] > 'f'))
        rc = cu_err_set(err, CU_EINVAL, "$.basis must be one of a, b, c, d, e, f (Art 6(1))");
    if (!rc)
        out->basis = basis[0];
    if (!rc)
        rc = member_str(root, "channel", true, out->channel, sizeof out->channel, err);
    if (!rc)
        rc = member_str(root, "disclosed_at", false, when, sizeof when, err);
    if (!rc && when[0] && !cu_time_parse(when, strlen(when), &out->disclosed_at))
        rc = cu_err_set(err, CU_EINVAL, "$.disclosed_at must be YYYY-MM-DD or an RFC 3339 UTC time");
    if (!rc)
        rc = member_str(root, "note", false, out->note, sizeof out->note - 3, err);
    if (!rc && !plain_text(out->note, strlen(out->note)))
        rc = cu_err_set(err, CU_EINVAL, "$.note must be text without control characters");
    json_t *a = json_object_get(root, "items");
    size_t i;
    json_t *e;
    if (!rc && a && (!json_is_array(a) || json_array_size(a) > CU_BODY_MAX_DISCLOSED_ITEMS))
        rc = cu_err_set(err, CU_EINVAL, "$.items must be an array of at most %d item ids",
                        CU_BODY_MAX_DISCLOSED_ITEMS);
    if (!rc && a && json_array_size(a)) {
        out->items = calloc(json_array_size(a), sizeof *out->items);
        if (!out->items)
            rc = cu_err_set(err, CU_ENOMEM, "out of memory");
        json_array_foreach(a, i, e)
        {
            if (rc)
                break;
            if (!json_is_string(e) || json_string_length(e) != 36 ||
                !cu_id_valid(json_string_value(e))) {
                rc = cu_err_set(err, CU_EINVAL, "$.items[%zu] must be an item id", i);
                break;
            }
            memcpy(out->items[i], json_string_value(e), 37);
            out->nitems = i + 1;
        }
    }
    a = json_object_get(root, "categories");
    if (!rc && a && (!json_is_array(a) || json_array_size(a) > CU_CAT_COUNT))
        rc = cu_err_set(err, CU_EINVAL, "$.categories must be an array of categories");
    if (!rc && a)
        json_array_foreach(a, i, e)
        {
            int c = json_is_string(e) ? cu_category_from_name(json_string_value(e)) : -1;
            if (c < 0) {
                rc = cu_err_set(err, CU_EINVAL, "$.categories[%zu] must be one of: %s", i,
                                cu_category_list());
                break;
            }
            out->categories |= 1u << c;
        }
    if (!rc && !out->nitems && !out->categories)
        rc = cu_err_set(err, CU_EINVAL, "name the data disclosed: $.items or $.categories");
    json_decref(root);
    if (rc)
        cu_body_disclosure_release(out);
    return rc;
}
