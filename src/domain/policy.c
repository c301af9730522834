/*
 * policy.c — parsing and validating a policy document (policy.h; the schema and
 * every rule name are in docs/policy.md).
 *
 * The document is untrusted. It is parsed with jansson (duplicate keys
 * rejected), then walked once, strictly typed: every key of every object is
 * known or reported. Validation never stops at the first problem: each finding
 * goes into the report with its JSON path, a stable rule name and one line of
 * plain English, and the caller gets CU_EINVAL and nothing else when any
 * finding is an error. Messages name paths, rules, schema names and limits,
 * never free text from the document.
 *
 * The cu_policy points into the JSON tree it keeps (p->owner). Arrays of
 * entries are indexed like the document's arrays, so $.purposes[3] is
 * p->purposes[3].
 */
#include "domain/policy.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

#define MAX_ENTRIES 256          /* entries of any one array */
#define MAX_FINDINGS 1000        /* findings kept in a report; all are counted */
#define SHORT_TEXT 256           /* one-line values: names, emails, countries */
#define LONG_TEXT 8192           /* descriptions and paragraphs */
#define MAX_YEARS 200
#define MAX_PERIOD_DAYS 73050    /* 200 years of 365.25 days */
#define MAX_AGE 130

#define SPECIAL_CATEGORIES                                                              \
    ((1u << CU_CAT_HEALTH) | (1u << CU_CAT_GENETIC) | (1u << CU_CAT_SPECIAL))

typedef struct ctx {
    cu_pol_report *rep;
    cu_policy *p;
    char path[256];
    size_t plen;
    size_t nerrors;
    bool oom;
    bool role_ok;         /* $.controller.role was valid */
    /* Sections that parsed with every id valid: only then is a reference to
     * an id they lack reported (otherwise it would repeat the section's error). */
    bool categories_ok, recipients_ok, transfers_ok, retention_ok;
    cu_pol_finding first; /* the first error, kept even when the report is full */
} ctx;

typedef enum text_kind { SHORT, LONG } text_kind;

/* ---- paths and findings ---- */

static size_t push_key(ctx *c, const char *key)
{
    size_t old = c->plen;
    int n = snprintf(c->path + c->plen, sizeof c->path - c->plen, ".%s", key);
    if (n > 0)
        c->plen = old + (size_t)n < sizeof c->path ? old + (size_t)n : sizeof c->path - 1;
    return old;
}

static size_t push_idx(ctx *c, size_t i)
{
    size_t old = c->plen;
    int n = snprintf(c->path + c->plen, sizeof c->path - c->plen, "[%zu]", i);
    if (n > 0)
        c->plen = old + (size_t)n < sizeof c->path ? old + (size_t)n : sizeof c->path - 1;
    return old;
}

static void pop(ctx *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

__attribute__((format(printf, 5, 0))) static void vfinding(ctx *c, const char *key,
                                                          bool error, const char *rule,
                                                          const char *fmt, va_list ap)
{
    size_t old = key ? push_key(c, key) : c->plen;
    cu_pol_finding f = {.error = error};
    (void)cu_strlcpy(f.path, c->path, sizeof f.path); /* a long path is cut short */
    (void)cu_strlcpy(f.rule, rule, sizeof f.rule);
    vsnprintf(f.msg, sizeof f.msg, fmt, ap);
    pop(c, old);
    cu_pol_report *r = c->rep;
    if (error) {
        if (c->nerrors++ == 0)
            c->first = f;
        r->nerrors++;
    } else {
        r->nwarnings++;
    }
    if (r->n >= MAX_FINDINGS)
        return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        cu_pol_finding *v = realloc(r->v, cap * sizeof *v);
        if (!v) {
            c->oom = true;
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = f;
}

/* An error at the current path, or at path.key when key is not NULL. */
__attribute__((format(printf, 4, 5))) static void fail(ctx *c, const char *key,
                                                       const char *rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfinding(c, key, true, rule, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 4, 5))) static void warn(ctx *c, const char *key,
                                                       const char *rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfinding(c, key, false, rule, fmt, ap);
    va_end(ap);
}

/* A string from the document shown in a message only when it is a schema name. */
static const char *shown(const char *s)
{
    return s && cu_name_valid(s) ? s : "(not shown)";
}

static void *alloc(ctx *c, size_t n, size_t size)
{
    if (n == 0)
        return NULL;
    void *v = calloc(n, size);
    if (!v)
        c->oom = true;
    return v;
}

/* ---- typed access ---- */

/* Reports every key of obj that is not in allowed (NULL-terminated). */
static void check_keys(ctx *c, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(key, *a) == 0;
        if (ok)
            continue;
        char list[160];
        size_t used = 0;
        bool fits = true;
        for (const char *const *a = allowed; *a && fits; a++) {
            int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *a);
            fits = n > 0 && used + (size_t)n < sizeof list;
            if (fits)
                used += (size_t)n;
        }
        if (cu_name_valid(key))
            fail(c, key, "unknown-key", fits ? "unknown key; allowed here: %s" : "unknown key%s",
                 fits ? list : "");
        else
            fail(c, NULL, "unknown-key", "unknown key (not shown)%s%s",
                 fits ? "; allowed here: " : "", fits ? list : "");
    }
}

static bool bad_chars(const char *s, size_t n, text_kind kind)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == 0x7f || (ch < 0x20 && !(kind == LONG && (ch == '\n' || ch == '\t'))))
            return true;
    }
    return false;
}

/* Checks a string value v at path.key (key NULL: the current path). */
static const char *text_value(ctx *c, json_t *v, const char *key, text_kind kind,
                              const char *empty_rule, const char *empty_msg)
{
    if (!json_is_string(v)) {
        fail(c, key, "wrong-type", "must be a string");
        return NULL;
    }
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    size_t max = kind == SHORT ? SHORT_TEXT : LONG_TEXT;
    if (n == 0)
        fail(c, key, empty_rule ? empty_rule : "empty-string", "%s",
             empty_msg ? empty_msg : "must not be empty");
    else if (n > max)
        fail(c, key, "bad-text", "is longer than %zu bytes", max);
    else if (bad_chars(s, n, kind))
        fail(c, key, "bad-text", kind == SHORT ? "must be one line without control characters"
                                               : "must not contain control characters other "
                                                 "than newline and tab");
    else
        return s;
    return NULL;
}

/* A required string member whose absence or emptiness is the finding rule
 * with message msg (rather than "missing-key"/"empty-string"). */
static const char *text_rule(ctx *c, json_t *obj, const char *key, text_kind kind,
                             const char *rule, const char *msg)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        fail(c, key, rule, "%s", msg);
        return NULL;
    }
    return text_value(c, v, key, kind, rule, msg);
}

static const char *text(ctx *c, json_t *obj, const char *key, bool required, text_kind kind)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            fail(c, key, "missing-key", "is required");
        return NULL;
    }
    return text_value(c, v, key, kind, NULL, NULL);
}

static const char *email(ctx *c, json_t *obj, const char *key, bool required)
{
    const char *s = text(c, obj, key, required, SHORT);
    if (!s)
        return NULL;
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.') || strchr(s, ' ')) {
        fail(c, key, "bad-email", "must be an email address: one '@', a domain with a dot, "
                                  "no spaces");
        return NULL;
    }
    return s;
}

static const char *name(ctx *c, json_t *obj, const char *key)
{
    const char *s = text(c, obj, key, true, SHORT);
    if (s && !cu_name_valid(s)) {
        fail(c, key, "bad-name",
             "must be a name of 1-64 characters a-z 0-9 _ . - starting with a letter");
        return NULL;
    }
    return s;
}

static bool boolean(ctx *c, json_t *obj, const char *key, bool required)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            fail(c, key, "missing-key", "is required (true or false)");
        return false;
    }
    if (!json_is_boolean(v)) {
        fail(c, key, "wrong-type", "must be true or false");
        return false;
    }
    return json_is_true(v);
}

/* An optional integer in lo..hi; false when absent or invalid (*out 0). */
static bool integer(ctx *c, json_t *obj, const char *key, int lo, int hi, int *out)
{
    *out = 0;
    json_t *v = json_object_get(obj, key);
    if (!v)
        return false;
    if (!json_is_integer(v)) {
        fail(c, key, "wrong-type", "must be a whole number");
        return false;
    }
    json_int_t n = json_integer_value(v);
    if (n < lo || n > hi) {
        fail(c, key, "out-of-range", "must be between %d and %d", lo, hi);
        return false;
    }
    *out = (int)n;
    return true;
}

static json_t *object(ctx *c, json_t *obj, const char *key, bool required)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            fail(c, key, "missing-key", "is required");
        return NULL;
    }
    if (!json_is_object(v)) {
        fail(c, key, "wrong-type", "must be an object");
        return NULL;
    }
    return v;
}

/* An array member of at most MAX_ENTRIES entries (at least one if nonempty);
 * NULL when absent or invalid, its contents then unchecked. */
static json_t *array(ctx *c, json_t *obj, const char *key, bool required, bool nonempty)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            fail(c, key, "missing-key", nonempty ? "is required (a list of at least one entry)"
                                                 : "is required (a list; [] for none)");
        return NULL;
    }
    if (!json_is_array(v)) {
        fail(c, key, "wrong-type", "must be a list");
        return NULL;
    }
    if (json_array_size(v) > MAX_ENTRIES) {
        fail(c, key, "too-many", "has more than %d entries", MAX_ENTRIES);
        return NULL;
    }
    if (nonempty && json_array_size(v) == 0) {
        fail(c, key, "empty-list", "must list at least one entry");
        return NULL;
    }
    return v;
}

/* An array of strings; the pointers go into *out. */
static void strings(ctx *c, json_t *obj, const char *key, bool required, bool nonempty,
                    text_kind kind, const char ***out, size_t *n)
{
    json_t *arr = array(c, obj, key, required, nonempty);
    *out = NULL;
    *n = 0;
    if (!arr || !(*out = alloc(c, json_array_size(arr), sizeof **out)))
        return;
    *n = json_array_size(arr);
    size_t o = push_key(c, key);
    for (size_t i = 0; i < *n; i++) {
        size_t oi = push_idx(c, i);
        (*out)[i] = text_value(c, json_array_get(arr, i), NULL, kind, NULL, NULL);
        pop(c, oi);
    }
    pop(c, o);
}

/* Entry i of an array of objects (path already at [i]); NULL if not an object. */
static json_t *entry(ctx *c, json_t *arr, size_t i)
{
    json_t *v = json_array_get(arr, i);
    if (!json_is_object(v)) {
        fail(c, NULL, "wrong-type", "must be an object");
        return NULL;
    }
    return v;
}

/* The letter of a one-letter code in first..last; 0 when absent or invalid. */
static char letter(ctx *c, json_t *obj, const char *key, bool required, char last,
                   const char *rule, const char *what)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            fail(c, key, "missing-key", "is required (%s)", what);
        return 0;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (!s || json_string_length(v) != 1 || s[0] < 'a' || s[0] > last) {
        fail(c, key, rule, "must be one letter, %s", what);
        return 0;
    }
    return s[0];
}

/* The category named by v (path at the entry); -1 when invalid. */
static int category_value(ctx *c, json_t *v)
{
    if (!json_is_string(v)) {
        fail(c, NULL, "wrong-type", "must be a string");
        return -1;
    }
    int cat = cu_category_from_name(json_string_value(v));
    if (cat < 0)
        fail(c, NULL, "unknown-category", "is not one of: %s", cu_category_list());
    return cat;
}

/* Reports v at the current path when it already appears in arr before index i. */
static bool duplicate_in(ctx *c, json_t *arr, size_t i)
{
    json_t *v = json_array_get(arr, i);
    for (size_t k = 0; k < i; k++)
        if (json_equal(json_array_get(arr, k), v)) {
            fail(c, NULL, "duplicate-entry", "repeats entry [%zu]", k);
            return true;
        }
    return false;
}

/* ---- lookups by id ---- */

static bool find_recipient(const cu_policy *p, const char *id, size_t *at)
{
    for (size_t i = 0; i < p->nrecipients; i++)
        if (p->recipients[i].id && strcmp(p->recipients[i].id, id) == 0) {
            *at = i;
            return true;
        }
    return false;
}

static bool find_transfer(const cu_policy *p, const char *id, size_t *at)
{
    for (size_t i = 0; i < p->ntransfers; i++)
        if (p->transfers[i].id && strcmp(p->transfers[i].id, id) == 0) {
            *at = i;
            return true;
        }
    return false;
}

static bool find_retention(const cu_policy *p, const char *id, size_t *at)
{
    for (size_t i = 0; i < p->nretention; i++)
        if (p->retention[i].id && strcmp(p->retention[i].id, id) == 0) {
            *at = i;
            return true;
        }
    return false;
}

typedef bool (*finder)(const cu_policy *, const char *, size_t *);

/* A reference to an id (path at the reference); false when unknown. */
static bool reference(ctx *c, json_t *v, finder find, const char *rule, const char *section,
                      bool section_ok, size_t *at)
{
    if (!json_is_string(v)) {
        fail(c, NULL, "wrong-type", "must be a string (an id from $.%s)", section);
        return false;
    }
    const char *id = json_string_value(v);
    if (!find(c->p, id, at)) {
        if (section_ok)
            fail(c, NULL, rule, "%s is not an id in $.%s", shown(id), section);
        return false;
    }
    return true;
}

/* A list of references into *out (indices). */
static void references(ctx *c, json_t *obj, const char *key, finder find, const char *rule,
                       const char *section, bool section_ok, size_t **out, size_t *n)
{
    json_t *arr = array(c, obj, key, false, false);
    *out = NULL;
    *n = 0;
    if (!arr || !(*out = alloc(c, json_array_size(arr), sizeof **out)))
        return;
    size_t o = push_key(c, key);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t oi = push_idx(c, i);
        size_t at;
        if (!duplicate_in(c, arr, i) &&
            reference(c, json_array_get(arr, i), find, rule, section, section_ok, &at))
            (*out)[(*n)++] = at;
        pop(c, oi);
    }
    pop(c, o);
}

/* A required reference member key of obj into *at: left as it is when the
 * member is absent, SIZE_MAX when it names no id of the section. */
static void reference_member(ctx *c, json_t *obj, const char *key, finder find,
                             const char *rule, const char *section, bool section_ok, size_t *at)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        fail(c, key, "missing-key", "is required (an id from $.%s)", section);
        return;
    }
    size_t o = push_key(c, key);
    if (!reference(c, v, find, rule, section, section_ok, at))
        *at = SIZE_MAX; /* the error is reported; skip later checks */
    pop(c, o);
}

/* Reports a duplicate of id among the first i entries (path at entry i). */
#define CHECK_DUPLICATE_ID(c, arr, i, id_, section)                                      \
    do {                                                                                 \
        for (size_t k_ = 0; (id_) && k_ < (i); k_++)                                     \
            if ((arr)[k_].id && strcmp((arr)[k_].id, (id_)) == 0) {                      \
                fail((c), "id", "duplicate-id", "%s is already the id of $.%s[%zu]",     \
                     shown(id_), (section), k_);                                         \
                break;                                                                   \
            }                                                                            \
    } while (0)

/* Clears ok unless every entry of arr[0..n) has an id. */
#define ALL_IDS(ok, arr, n)                                                              \
    do {                                                                                 \
        for (size_t k_ = 0; k_ < (n); k_++)                                              \
            (ok) = (ok) && (arr)[k_].id != NULL;                                         \
    } while (0)

/* A list member whose entries are objects, and how one entry is checked:
 * one(c, e, items, i) for entry i (an object, the path at it), where items is
 * the array of parsed entries (typed by one). */
typedef void (*entry_fn)(ctx *c, json_t *e, void *items, size_t i);
typedef struct list_of {
    const char *key;
    bool required, nonempty;
    bool until_oom; /* stop at the first allocation failure */
    entry_fn one;
} list_of;

/* The entries of list l of obj: an array of *n entries of size bytes, each
 * checked; NULL (*n 0) when the list is absent, invalid or empty, or memory
 * runs out. *valid (may be NULL) says whether the member is a valid list. */
static void *entries(ctx *c, json_t *obj, const list_of *l, size_t size, size_t *n, bool *valid)
{
    json_t *arr = array(c, obj, l->key, l->required, l->nonempty);
    if (valid)
        *valid = arr != NULL;
    *n = 0;
    void *items = arr ? alloc(c, json_array_size(arr), size) : NULL;
    if (!items)
        return NULL;
    *n = json_array_size(arr);
    size_t o = push_key(c, l->key);
    for (size_t i = 0; i < *n && !(l->until_oom && c->oom); i++) {
        size_t oi = push_idx(c, i);
        json_t *e = entry(c, arr, i);
        if (e)
            l->one(c, e, items, i);
        pop(c, oi);
    }
    pop(c, o);
    return items;
}

/* A required, nonempty list member key of names, as the bits bit() gives
 * them; a name it does not know is finding rule ("is not one of: names"). */
static unsigned name_bits(ctx *c, json_t *obj, const char *key, unsigned (*bit)(const char *),
                          const char *rule, const char *names)
{
    json_t *arr = array(c, obj, key, true, true);
    if (!arr)
        return 0;
    unsigned bits = 0;
    size_t o = push_key(c, key);
    for (size_t j = 0; j < json_array_size(arr); j++) {
        size_t oj = push_idx(c, j);
        json_t *v = json_array_get(arr, j);
        if (!json_is_string(v))
            fail(c, NULL, "wrong-type", "must be a string");
        else if (!bit(json_string_value(v)))
            fail(c, NULL, rule, "is not one of: %s", names);
        else if (!duplicate_in(c, arr, j))
            bits |= bit(json_string_value(v));
        pop(c, oj);
    }
    pop(c, o);
    return bits;
}

/* The list member "categories" of obj (required and nonempty, or neither):
 * the bits of the categories it names, each one the controller must
 * collect. *first_special (may be NULL) is the index of the first special
 * category, SIZE_MAX when there is none. */
static unsigned category_list(ctx *c, json_t *obj, bool required, size_t *first_special)
{
    json_t *arr = array(c, obj, "categories", required, required);
    if (first_special)
        *first_special = SIZE_MAX;
    if (!arr)
        return 0;
    unsigned bits = 0;
    size_t o = push_key(c, "categories");
    for (size_t j = 0; j < json_array_size(arr); j++) {
        size_t oj = push_idx(c, j);
        int k = category_value(c, json_array_get(arr, j));
        if (k >= 0 && !duplicate_in(c, arr, j)) {
            if (c->categories_ok && !(c->p->collected & (1u << k)))
                fail(c, NULL, "category-not-collected",
                     "%s is not collected: add it to $.categories or remove it here",
                     cu_category_name((cu_category)k));
            bits |= 1u << k;
            if (first_special && (SPECIAL_CATEGORIES & (1u << k)) && *first_special == SIZE_MAX)
                *first_special = j;
        }
        pop(c, oj);
    }
    pop(c, o);
    return bits;
}

/* ---- sections ---- */

static const char *const party_keys[] = {"name", "address", "email", "phone", "website", NULL};

static void party(ctx *c, json_t *obj, cu_pol_party *out)
{
    check_keys(c, obj, party_keys);
    out->name = text(c, obj, "name", true, SHORT);
    out->address = text(c, obj, "address", false, LONG);
    out->email = email(c, obj, "email", false);
    out->phone = text(c, obj, "phone", false, SHORT);
    out->website = text(c, obj, "website", false, SHORT);
    if (!json_object_get(obj, "address") && !json_object_get(obj, "email") &&
        !json_object_get(obj, "phone"))
        fail(c, NULL, "party-without-contact",
             "give at least one of address, email or phone (UK GDPR Art 13(1)(a) and (b))");
}

static const char *role_name(cu_pol_role r)
{
    return r == CU_POL_PROCESSOR ? "processor"
         : r == CU_POL_BOTH      ? "controller_and_processor"
                                 : "controller";
}

static void controller(ctx *c, json_t *root)
{
    static const char *const keys[] = {"name", "address", "email", "phone", "website",
                                       "company_number", "ico_registration",
                                       "public_authority", "role", NULL};
    cu_policy *p = c->p;
    json_t *obj = object(c, root, "controller", true);
    if (!obj)
        return;
    size_t o = push_key(c, "controller");
    check_keys(c, obj, keys);
    p->controller.name = text(c, obj, "name", true, SHORT);
    p->controller.address = text(c, obj, "address", true, LONG);
    p->controller.email = email(c, obj, "email", true);
    p->controller.phone = text(c, obj, "phone", false, SHORT);
    p->controller.website = text(c, obj, "website", false, SHORT);
    p->company_number = text(c, obj, "company_number", false, SHORT);
    p->ico_registration = text(c, obj, "ico_registration", true, SHORT);
    p->public_authority = boolean(c, obj, "public_authority", true);
    json_t *role = json_object_get(obj, "role");
    const char *r = json_is_string(role) ? json_string_value(role) : "";
    c->role_ok = false;
    for (cu_pol_role k = CU_POL_CONTROLLER; k <= CU_POL_BOTH && role && !c->role_ok; k++)
        if (strcmp(r, role_name(k)) == 0) {
            p->role = k;
            c->role_ok = true;
        }
    if (!role)
        fail(c, "role", "missing-key", "is required (controller, processor or "
                                       "controller_and_processor)");
    else if (!c->role_ok)
        fail(c, "role", "invalid-role",
             "must be one of: controller, processor, controller_and_processor");
    pop(c, o);
}

/* The party member key of root, when it is there. */
static void party_member(ctx *c, json_t *root, const char *key, bool required, cu_pol_party *out)
{
    json_t *obj = object(c, root, key, required);
    if (!obj)
        return;
    size_t o = push_key(c, key);
    party(c, obj, out);
    pop(c, o);
}

static void joint_controller(ctx *c, json_t *e, void *items, size_t i)
{
    party(c, e, (cu_pol_party *)items + i);
}

static void parties(ctx *c, json_t *root)
{
    static const list_of joint = {.key = "joint_controllers", .one = joint_controller};
    cu_policy *p = c->p;
    party_member(c, root, "dpo", true, &p->dpo);
    party_member(c, root, "representative", false, &p->representative);
    p->joint_controllers = entries(c, root, &joint, sizeof *p->joint_controllers, &p->njoint,
                                   NULL);
}

static void category(ctx *c, json_t *e, void *items, size_t i)
{
    static const char *const keys[] = {"id", "description", "sources", NULL};
    cu_policy *p = c->p;
    cu_pol_category *all = items, *cat = &all[i];
    check_keys(c, e, keys);
    json_t *id = json_object_get(e, "id");
    if (!id) {
        fail(c, "id", "missing-key", "is required (one of: %s)", cu_category_list());
    } else {
        size_t oid = push_key(c, "id");
        int k = category_value(c, id);
        pop(c, oid);
        if (k >= 0) {
            cat->id = json_string_value(id);
            cat->category = (cu_category)k;
            if (p->collected & (1u << k)) {
                for (size_t j = 0; j < i; j++)
                    if (all[j].id && (int)all[j].category == k) {
                        fail(c, "id", "duplicate-id",
                             "%s is already the id of $.categories[%zu]", cat->id, j);
                        break;
                    }
            }
            p->collected |= 1u << k;
        }
    }
    cat->description = text(c, e, "description", true, LONG);
    cat->sources = name_bits(c, e, "sources", cu_source_bit, "unknown-source", cu_source_list());
}

static void categories(ctx *c, json_t *root)
{
    static const list_of list = {.key = "categories", .required = true, .nonempty = true,
                                 .one = category};
    cu_policy *p = c->p;
    p->categories = entries(c, root, &list, sizeof *p->categories, &p->ncategories,
                            &c->categories_ok);
    ALL_IDS(c->categories_ok, p->categories, p->ncategories);
}

static void recipient(ctx *c, json_t *e, void *items, size_t i)
{
    static const char *const keys[] = {"id", "category", "description", "names", NULL};
    cu_pol_recipient *all = items, *r = &all[i];
    check_keys(c, e, keys);
    r->id = name(c, e, "id");
    CHECK_DUPLICATE_ID(c, all, i, r->id, "recipients");
    r->category = text(c, e, "category", true, SHORT);
    r->description = text(c, e, "description", false, LONG);
    strings(c, e, "names", false, true, SHORT, &r->names, &r->nnames);
}

static void recipients(ctx *c, json_t *root)
{
    static const list_of list = {.key = "recipients", .required = true, .one = recipient};
    cu_policy *p = c->p;
    p->recipients = entries(c, root, &list, sizeof *p->recipients, &p->nrecipients,
                            &c->recipients_ok);
    ALL_IDS(c->recipients_ok, p->recipients, p->nrecipients);
}

static void transfer(ctx *c, json_t *e, void *items, size_t i)
{
    static const char *const keys[] = {"id", "recipient", "country", "safeguard", "description",
                                       NULL};
    cu_pol_transfer *all = items, *t = &all[i];
    check_keys(c, e, keys);
    t->id = name(c, e, "id");
    CHECK_DUPLICATE_ID(c, all, i, t->id, "transfers");
    reference_member(c, e, "recipient", find_recipient, "unknown-recipient", "recipients",
                     c->recipients_ok, &t->recipient);
    t->country = text(c, e, "country", true, SHORT);
    t->safeguard = text_rule(c, e, "safeguard", LONG, "transfer-without-safeguard",
                             "a transfer needs its safeguard: adequacy regulations, "
                             "the IDTA or Addendum, binding corporate rules or an "
                             "Art 49 exception (UK GDPR Art 46)");
    t->description = text(c, e, "description", false, LONG);
}

static void transfers(ctx *c, json_t *root)
{
    static const list_of list = {.key = "transfers", .required = true, .one = transfer};
    cu_policy *p = c->p;
    p->transfers = entries(c, root, &list, sizeof *p->transfers, &p->ntransfers,
                           &c->transfers_ok);
    ALL_IDS(c->transfers_ok, p->transfers, p->ntransfers);
}

static void processor(ctx *c, json_t *e, void *items, size_t i)
{
    static const char *const keys[] = {"name", "service", "country", "contact", NULL};
    cu_pol_processor *r = (cu_pol_processor *)items + i;
    check_keys(c, e, keys);
    r->name = text(c, e, "name", true, SHORT);
    r->service = text(c, e, "service", true, LONG);
    r->country = text(c, e, "country", false, SHORT);
    r->contact = text(c, e, "contact", false, LONG);
}

static void processors(ctx *c, json_t *root)
{
    static const list_of list = {.key = "processors", .required = true, .one = processor};
    cu_policy *p = c->p;
    p->processors = entries(c, root, &list, sizeof *p->processors, &p->nprocessors, NULL);
}

static void retention_rule(ctx *c, json_t *e, void *items, size_t i)
{
    static const char *const keys[] = {"id", "description", "years", "months", "days",
                                       "trigger", "age", "erase_on_request", "legal_source",
                                       NULL};
    cu_pol_retention *all = items, *r = &all[i];
    check_keys(c, e, keys);
    r->id = name(c, e, "id");
    CHECK_DUPLICATE_ID(c, all, i, r->id, "retention");
    r->description = text(c, e, "description", true, LONG);
    bool ok = true;
    ok &= integer(c, e, "years", 0, MAX_YEARS, &r->years) || !json_object_get(e, "years");
    ok &= integer(c, e, "months", 0, MAX_YEARS * 12, &r->months) ||
          !json_object_get(e, "months");
    ok &= integer(c, e, "days", 0, MAX_PERIOD_DAYS, &r->days) || !json_object_get(e, "days");
    long total = (long)r->years * 365 + (long)r->months * 30 + r->days;
    if (ok && total > MAX_PERIOD_DAYS)
        fail(c, NULL, "out-of-range", "the period (years, months and days) is longer than %d "
                                      "years", MAX_YEARS);
    json_t *tv = json_object_get(e, "trigger");
    bool have_trigger = false;
    if (!tv) {
        fail(c, "trigger", "missing-key", "is required (last_contact, conclusion_of_treatment, "
                                          "death, collection, birthday or request)");
    } else {
        const char *t = json_is_string(tv) ? json_string_value(tv) : "";
        for (cu_pol_trigger k = CU_TRIGGER_LAST_CONTACT; k <= CU_TRIGGER_REQUEST && !have_trigger;
             k++)
            if (strcmp(t, cu_pol_trigger_name(k)) == 0) {
                r->trigger = k;
                have_trigger = true;
            }
        if (!have_trigger)
            fail(c, "trigger", "invalid-trigger", "must be one of: last_contact, "
                                                  "conclusion_of_treatment, death, collection, "
                                                  "birthday, request");
    }
    bool has_age = json_object_get(e, "age") != NULL;
    integer(c, e, "age", 1, MAX_AGE, &r->age);
    if (have_trigger && r->trigger == CU_TRIGGER_BIRTHDAY && !has_age)
        fail(c, "age", "retention-age", "is required with trigger birthday (kept until the "
                                        "subject's age-th birthday, plus any period)");
    else if (have_trigger && r->trigger != CU_TRIGGER_BIRTHDAY && has_age)
        fail(c, "age", "retention-age", "is only allowed with trigger birthday");
    /* A zero period erases as soon as the trigger happens: meaningful for an
     * erasure request and for a birthday (the age is the period), not for
     * last contact, treatment, death or collection. */
    if (ok && have_trigger && total == 0 && r->trigger != CU_TRIGGER_REQUEST &&
        r->trigger != CU_TRIGGER_BIRTHDAY)
        fail(c, NULL, "retention-zero-period",
             "a period of zero (no years, months or days) is only allowed with trigger request "
             "or birthday");
    r->erase_on_request = boolean(c, e, "erase_on_request", true);
    r->legal_source = text(c, e, "legal_source", false, LONG);
}

static void retention(ctx *c, json_t *root)
{
    static const list_of list = {.key = "retention", .required = true, .one = retention_rule};
    cu_policy *p = c->p;
    p->retention = entries(c, root, &list, sizeof *p->retention, &p->nretention,
                           &c->retention_ok);
    ALL_IDS(c->retention_ok, p->retention, p->nretention);
}

static void cookie(ctx *c, json_t *e, void *items, size_t i)
{
    static const char *const keys[] = {"name", "provider", "purpose", "duration",
                                       "strictly_necessary", "consent_required", NULL};
    cu_pol_cookie *k = (cu_pol_cookie *)items + i;
    check_keys(c, e, keys);
    k->name = text(c, e, "name", true, SHORT);
    k->provider = text(c, e, "provider", false, SHORT);
    k->purpose = text(c, e, "purpose", true, LONG);
    k->duration = text(c, e, "duration", true, SHORT);
    k->strictly_necessary = boolean(c, e, "strictly_necessary", true);
    k->consent_required = boolean(c, e, "consent_required", true);
    if (json_is_boolean(json_object_get(e, "strictly_necessary")) &&
        json_is_boolean(json_object_get(e, "consent_required")) && !k->strictly_necessary &&
        !k->consent_required)
        fail(c, "consent_required", "cookie-without-consent",
             "must be true for a cookie that is not strictly necessary (PECR regulation 6)");
}

static void cookies(ctx *c, json_t *root)
{
    static const list_of list = {.key = "cookies", .required = true, .one = cookie};
    cu_policy *p = c->p;
    p->cookies = entries(c, root, &list, sizeof *p->cookies, &p->ncookies, NULL);
}

static void purpose(ctx *c, json_t *e, void *items, size_t i)
{
    static const char *const keys[] = {
        "id", "description", "basis", "basis_detail", "legitimate_interests",
        "special_condition", "schedule1", "categories", "subject_kinds", "consent_required",
        "required_for_service", "direct_marketing", "legal_claims", "outside_public_tasks",
        "automated_decision", "recipients", "transfers", "retention", NULL};
    cu_policy *p = c->p;
    cu_pol_purpose *all = items, *pp = &all[i];
    check_keys(c, e, keys);
    pp->id = name(c, e, "id");
    if (pp->id && strcmp(pp->id, CU_PURPOSE_RIGHTS) == 0)
        fail(c, "id", "reserved-id", "subject_rights is the built-in purpose for answering "
                                     "rights requests; choose another id");
    CHECK_DUPLICATE_ID(c, all, i, pp->id, "purposes");
    pp->description = text(c, e, "description", true, LONG);
    pp->basis = letter(c, e, "basis", true, 'f', "invalid-basis",
                       "a to f (UK GDPR Art 6(1))");
    pp->basis_detail = text(c, e, "basis_detail", false, LONG);
    pp->legitimate_interests = text(c, e, "legitimate_interests", false, LONG);
    bool sc_given = json_object_get(e, "special_condition") != NULL;
    pp->special_condition = letter(c, e, "special_condition", false, 'j',
                                   "invalid-special-condition", "a to j (UK GDPR Art 9(2))");
    pp->schedule1 = text(c, e, "schedule1", false, LONG);
    size_t first_special;
    pp->categories = category_list(c, e, true, &first_special);
    pp->kinds = name_bits(c, e, "subject_kinds", cu_subject_kind_bit, "unknown-subject-kind",
                          "patient, web_user, employee, other");
    bool has_consent = json_is_boolean(json_object_get(e, "consent_required"));
    bool has_service = json_is_boolean(json_object_get(e, "required_for_service"));
    pp->consent_required = boolean(c, e, "consent_required", true);
    pp->required_for_service = boolean(c, e, "required_for_service", true);
    pp->direct_marketing = boolean(c, e, "direct_marketing", false);
    pp->legal_claims = boolean(c, e, "legal_claims", false);
    pp->outside_public_tasks = boolean(c, e, "outside_public_tasks", false);
    json_t *adm = object(c, e, "automated_decision", false);
    if (adm) {
        static const char *const adm_keys[] = {"logic", "significance", NULL};
        size_t oa = push_key(c, "automated_decision");
        check_keys(c, adm, adm_keys);
        static const char adm_msg[] = "automated decision-making needs both its logic and its "
                                      "significance for the subject (UK GDPR Art 13(2)(f))";
        pp->adm_logic = text_rule(c, adm, "logic", LONG, "automated-decision-incomplete",
                                  adm_msg);
        pp->adm_significance = text_rule(c, adm, "significance", LONG,
                                         "automated-decision-incomplete", adm_msg);
        pop(c, oa);
    }
    references(c, e, "recipients", find_recipient, "unknown-recipient", "recipients",
               c->recipients_ok, &pp->recipients, &pp->nrecipients);
    references(c, e, "transfers", find_transfer, "unknown-transfer", "transfers",
               c->transfers_ok, &pp->transfers, &pp->ntransfers);
    reference_member(c, e, "retention", find_retention, "unknown-retention", "retention",
                     c->retention_ok, &pp->retention);

    /* ---- the rules of lawful processing ---- */
    char sc = pp->special_condition;
    if (first_special != SIZE_MAX && !sc && !sc_given) {
        size_t o = push_key(c, "categories"), oj = push_idx(c, first_special);
        fail(c, NULL, "special-category-without-condition",
             "special-category data needs an Art 9(2) condition: set special_condition (a-j)");
        pop(c, oj);
        pop(c, o);
    }
    if (sc && strchr("bghij", sc) && !json_object_get(e, "schedule1"))
        fail(c, "schedule1", "condition-needs-schedule1",
             "special_condition %c needs a DPA 2018 Schedule 1 condition%s", sc,
             sc == 'h' ? " (health or social care: Part 1 paragraph 2)" : "");
    if (sc && first_special == SIZE_MAX && (pp->categories & ~SPECIAL_CATEGORIES))
        warn(c, "special_condition", "special-condition-unused",
             "the purpose uses no special-category data (health, genetic, special_category)");
    bool consent_basis = pp->basis == 'a' || sc == 'a';
    if (has_consent && pp->basis && consent_basis && !pp->consent_required)
        fail(c, "consent_required", "consent-basis-not-flagged",
             "must be true when the basis or the special condition is consent (a)");
    if (has_consent && pp->basis && pp->consent_required && !consent_basis &&
        !(sc_given && !sc))
        fail(c, "consent_required", "consent-not-the-basis",
             "consent is asked for but basis %c is relied on: make consent (a) the basis or do "
             "not ask for consent", pp->basis);
    if (has_service && pp->required_for_service && (pp->consent_required || consent_basis))
        fail(c, "required_for_service", "consent-required-for-service",
             "a purpose based on consent cannot be a condition of the service (UK GDPR Art 7(4))");
    if (pp->basis == 'f' && p->public_authority && !pp->outside_public_tasks)
        fail(c, "basis", "public-authority-legitimate-interests",
             "a public authority cannot rely on legitimate interests (f) for its tasks; mark the "
             "purpose outside_public_tasks if it is not one of them");
    if (pp->basis == 'f' && !json_object_get(e, "legitimate_interests"))
        fail(c, "legitimate_interests", "legitimate-interests-missing",
             "basis f needs the legitimate interests stated (UK GDPR Art 13(1)(d))");
    if (pp->direct_marketing && pp->basis && pp->basis != 'a' && pp->basis != 'f')
        fail(c, "basis", "direct-marketing-basis",
             "direct marketing must rely on consent (a) or legitimate interests (f), not %c",
             pp->basis);
    for (size_t t = 0; t < pp->ntransfers; t++) {
        size_t r = p->transfers[pp->transfers[t]].recipient, k = 0;
        if (r >= p->nrecipients || !p->transfers[pp->transfers[t]].id)
            continue;
        while (k < pp->nrecipients && pp->recipients[k] != r)
            k++;
        if (k == pp->nrecipients) {
            warn(c, "transfers", "transfer-recipient-not-listed",
                 "transfer %s goes to recipient %s, which this purpose does not list in "
                 "recipients", p->transfers[pp->transfers[t]].id, p->recipients[r].id);
        }
    }
}

static void purposes(ctx *c, json_t *root)
{
    static const list_of list = {.key = "purposes", .required = true, .until_oom = true,
                                 .one = purpose};
    cu_policy *p = c->p;
    p->purposes = entries(c, root, &list, sizeof *p->purposes, &p->npurposes, NULL);
}

static void on_behalf_entry(ctx *c, json_t *e, void *items, size_t i)
{
    static const char *const keys[] = {"controller", "contact", "activities", "categories",
                                       "transfers", NULL};
    cu_pol_on_behalf *b = (cu_pol_on_behalf *)items + i;
    check_keys(c, e, keys);
    b->controller = text(c, e, "controller", true, SHORT);
    b->contact = text(c, e, "contact", false, LONG);
    strings(c, e, "activities", true, true, LONG, &b->activities, &b->nactivities);
    b->categories = category_list(c, e, false, NULL);
    references(c, e, "transfers", find_transfer, "unknown-transfer", "transfers",
               c->transfers_ok, &b->transfers, &b->ntransfers);
}

static void on_behalf(ctx *c, json_t *root)
{
    static const list_of list = {.key = "processing_on_behalf", .one = on_behalf_entry};
    cu_policy *p = c->p;
    p->on_behalf = entries(c, root, &list, sizeof *p->on_behalf, &p->non_behalf, NULL);
}

static void cross_checks(ctx *c, json_t *root)
{
    cu_policy *p = c->p;
    json_t *pob = json_object_get(root, "processing_on_behalf");
    if (c->role_ok && p->role != CU_POL_CONTROLLER && (!pob || json_array_size(pob) == 0) &&
        (!pob || json_is_array(pob)))
        fail(c, "processing_on_behalf", "role-needs-processing-on-behalf",
             "$.controller.role %s needs at least one entry here (UK GDPR Art 30(2))",
             role_name(p->role));
    if (c->role_ok && p->role == CU_POL_CONTROLLER && json_array_size(pob) > 0)
        fail(c, "processing_on_behalf", "role-forbids-processing-on-behalf",
             "is only for $.controller.role processor or controller_and_processor");
    if (c->role_ok && p->role != CU_POL_PROCESSOR && json_is_array(json_object_get(root, "purposes")) &&
        json_array_size(json_object_get(root, "purposes")) == 0)
        fail(c, "purposes", "no-purposes", "a controller must declare at least one purpose");
    /* Data minimisation: every category collected is used by a purpose or by
     * processing on behalf of another controller. */
    unsigned used = 0;
    for (size_t i = 0; i < p->npurposes; i++)
        used |= p->purposes[i].categories;
    for (size_t i = 0; i < p->non_behalf; i++)
        used |= p->on_behalf[i].categories;
    size_t o = push_key(c, "categories");
    for (size_t i = 0; i < p->ncategories; i++) {
        const cu_pol_category *cat = &p->categories[i];
        if (!cat->id || (used & (1u << cat->category)))
            continue;
        size_t oi = push_idx(c, i);
        warn(c, NULL, "category-unused",
             "%s is collected but no purpose uses it (data minimisation, UK GDPR Art 5(1)(c))",
             cat->id);
        pop(c, oi);
    }
    pop(c, o);
}

/* ---- placeholders: values a notice must not publish ---- */

static bool ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0 &&
           (n == k || s[n - k - 1] == '.' || suffix[0] == '.');
}

/* Whether host (n bytes) is a name reserved for examples and tests (RFC 2606,
 * RFC 6761): never a real address. */
static bool reserved_host(const char *host, size_t n)
{
    static const char *const tlds[] = {".invalid", ".example", ".test", ".localhost", NULL};
    static const char *const names[] = {"example.com", "example.org", "example.net",
                                        "example.co.uk", "invalid", "example", "localhost",
                                        NULL};
    while (n && (host[n - 1] == '.' || host[n - 1] == '>' || host[n - 1] == ')' ||
                 host[n - 1] == ',' || host[n - 1] == ';'))
        n--;
    for (const char *const *t = tlds; *t; t++)
        if (ends_with_ci(host, n, *t))
            return true;
    for (const char *const *t = names; *t; t++)
        if (ends_with_ci(host, n, *t))
            return true;
    return false;
}

static bool contains_ci(const char *s, const char *needle)
{
    size_t k = strlen(needle);
    for (; *s; s++)
        if (strncasecmp(s, needle, k) == 0)
            return true;
    return false;
}

/* Why s looks like a placeholder, or NULL. */
static const char *placeholder_reason(const char *s)
{
    /* an email address or URL at a reserved domain */
    for (const char *p = s; *p; p++) {
        const char *host = NULL;
        if (*p == '@')
            host = p + 1;
        else if (strncmp(p, "://", 3) == 0)
            host = p + 3;
        if (!host)
            continue;
        size_t n = strcspn(host, " \t\n/?#:\"'");
        if (n && reserved_host(host, n))
            return "an address at a domain reserved for examples (.invalid, .example, "
                   "example.com ...)";
    }
    /* a number of six or more digits, all zero (00000000, ZA000000) */
    for (const char *p = s; *p; p++) {
        if (*p != '0' || (p > s && isdigit((unsigned char)p[-1])))
            continue;
        size_t zeros = strspn(p, "0");
        if (zeros >= 6 && !isdigit((unsigned char)p[zeros]))
            return p > s + 1 && p[-2] == 'Z' && p[-1] == 'A'
                       ? "an ICO registration number of zeros (ZA000000)"
                       : "a number of all zeros";
    }
    static const char *const words[] = {"not stated", "not-stated", "placeholder", "lorem ipsum",
                                        "to be confirmed", "tbc", "todo", NULL};
    for (const char *const *w = words; *w; w++) {
        if (strlen(*w) <= 4) {
            /* a short word only on its own ("TBC", "TODO") */
            size_t k = strlen(*w);
            for (const char *p = s; *p; p++)
                if (strncasecmp(p, *w, k) == 0 && (p == s || !isalnum((unsigned char)p[-1])) &&
                    !isalnum((unsigned char)p[k]))
                    return "placeholder text (TBC, TODO)";
        } else if (contains_ci(s, *w)) {
            return "placeholder text (\"not stated\", \"placeholder\" ...)";
        }
    }
    return NULL;
}

/* Every string of the document is looked at: a warning per placeholder, at
 * its path. The value itself is not repeated. */
static void placeholders(ctx *c, json_t *v)
{
    if (json_is_string(v)) {
        const char *why = placeholder_reason(json_string_value(v));
        if (why)
            warn(c, NULL, "placeholder", "a placeholder, not a real value: %s", why);
    } else if (json_is_object(v)) {
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) {
            size_t old = push_key(c, key);
            placeholders(c, val);
            pop(c, old);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *val;
        json_array_foreach(v, i, val) {
            size_t old = push_idx(c, i);
            placeholders(c, val);
            pop(c, old);
        }
    }
}

static void document(ctx *c, json_t *root)
{
    static const char *const keys[] = {
        "format", "controller", "dpo", "representative", "joint_controllers",
        "processing_on_behalf", "introduction", "categories", "purposes", "recipients",
        "transfers", "processors", "retention", "cookies", "security_measures", "undertakings",
        "changes", NULL};
    cu_policy *p = c->p;
    check_keys(c, root, keys);
    json_t *format = json_object_get(root, "format");
    if (!format)
        fail(c, "format", "missing-key", "is required (\"%s\")", CU_POLICY_FORMAT);
    else if (!json_is_string(format) || strcmp(json_string_value(format), CU_POLICY_FORMAT) != 0)
        fail(c, "format", "unsupported-format", "must be \"%s\"", CU_POLICY_FORMAT);
    controller(c, root);
    parties(c, root);
    p->introduction = text(c, root, "introduction", false, LONG);
    p->changes = text(c, root, "changes", false, LONG);
    categories(c, root);
    recipients(c, root);
    transfers(c, root);
    processors(c, root);
    retention(c, root);
    cookies(c, root);
    purposes(c, root);
    on_behalf(c, root);
    strings(c, root, "security_measures", true, true, LONG, &p->security, &p->nsecurity);
    strings(c, root, "undertakings", false, false, LONG, &p->undertakings, &p->nundertakings);
    if (!c->oom)
        cross_checks(c, root);
    if (!c->oom)
        placeholders(c, root);
}

/* ---- entry points ---- */

void cu_pol_report_release(cu_pol_report *r)
{
    if (!r)
        return;
    free(r->v);
    memset(r, 0, sizeof *r);
}

void cu_policy_free(cu_policy *p)
{
    if (!p)
        return;
    free(p->joint_controllers);
    for (size_t i = 0; i < p->non_behalf; i++) {
        free(p->on_behalf[i].activities);
        free(p->on_behalf[i].transfers);
    }
    free(p->on_behalf);
    free(p->categories);
    for (size_t i = 0; i < p->npurposes; i++) {
        free(p->purposes[i].recipients);
        free(p->purposes[i].transfers);
    }
    free(p->purposes);
    for (size_t i = 0; i < p->nrecipients; i++)
        free(p->recipients[i].names);
    free(p->recipients);
    free(p->transfers);
    free(p->processors);
    free(p->retention);
    free(p->cookies);
    free(p->security);
    free(p->undertakings);
    if (p->owner)
        json_decref((json_t *)p->owner);
    free(p);
}

int cu_policy_parse(const void *json, size_t len, cu_policy **out, cu_pol_report *rep,
                    cu_err *err)
{
    *out = NULL;
    cu_pol_report local = {0};
    ctx c = {.rep = rep ? rep : &local, .path = "$", .plen = 1};
    cu_policy *p = NULL;
    if (len > CU_POLICY_MAX_BYTES) {
        fail(&c, NULL, "too-large", "the document is larger than %zu bytes",
             CU_POLICY_MAX_BYTES);
    } else if (len == 0 || !json) {
        fail(&c, NULL, "malformed-json", "the document is empty");
    } else if (memchr(json, '\0', len)) {
        fail(&c, NULL, "nul-byte", "the document contains a NUL byte");
    } else {
        json_error_t je;
        json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
        if (!root) {
            if (json_error_code(&je) == json_error_out_of_memory)
                c.oom = true;
            else if (json_error_code(&je) == json_error_duplicate_key)
                fail(&c, NULL, "duplicate-key", "malformed JSON: duplicate key at line %d",
                     je.line);
            else
                fail(&c, NULL, "malformed-json", "malformed JSON at line %d column %d",
                     je.line, je.column);
        } else if (!json_is_object(root)) {
            fail(&c, NULL, "not-an-object", "the document must be a JSON object");
            json_decref(root);
        } else if (!(p = calloc(1, sizeof *p))) {
            c.oom = true;
            json_decref(root);
        } else {
            p->owner = root;
            c.p = p;
            document(&c, root);
        }
    }
    int rc = CU_OK;
    if (c.oom)
        rc = cu_err_set(err, CU_ENOMEM, "policy: out of memory validating the document");
    else if (c.nerrors)
        rc = cu_err_set(err, CU_EINVAL, "policy: %s: %s", c.first.path, c.first.msg);
    cu_pol_report_release(&local);
    if (rc) {
        cu_policy_free(p);
        return rc;
    }
    *out = p;
    return CU_OK;
}
