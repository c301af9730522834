/* pathway_doc.c — the strict parser of pathway documents and their schedule
 * (pathway.h, docs/pathways.md). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/jpath.h"
#include "domain/pathway.h"

#define PATH_LEN CU_JPATH_LEN



enum { ANY_TEXT, CODE, VERSION };

static bool chars_ok(const char *s, size_t n, int kind)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        switch (kind) {
        case CODE:
            if (!alnum && !(i > 0 && (ch == '-' || ch == '_')))
                return false;
            break;
        case VERSION:
            if (!alnum && !(ch >= 'A' && ch <= 'Z') && !(i > 0 && (ch == '-' || ch == '.')))
                return false;
            break;
        default:
            if (ch < 0x20 || ch == 0x7f)
                return false;
        }
    }
    return true;
}

/* A string member into out (size max + 1). */
static int get_str(json_t *o, const char *key, const char *base, bool required, size_t max,
                   int kind, char *out, cu_err *err)
{
    char p[PATH_LEN];
    cu_jpath_key(p, base, key);
    json_t *v = json_object_get(o, key);
    if (!v)
        return required ? cu_jpath_error(err, p, "required") : CU_OK;
    if (!json_is_string(v))
        return cu_jpath_error(err, p, "must be a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0)
        return cu_jpath_error(err, p, "must not be empty");
    if (strlen(s) != n)
        return cu_jpath_error(err, p, "must not contain NUL characters");
    if (n > max)
        return cu_err_set(err, CU_EINVAL, "%s: longer than %zu bytes", p, max);
    if (!chars_ok(s, n, kind))
        return cu_jpath_error(err, p, kind == CODE      ? "must be lower-case letters, digits, - and _"
                           : kind == VERSION ? "must be letters, digits, - and ."
                                             : "must not contain control characters");
    memcpy(out, s, n + 1);
    return CU_OK;
}

static int get_int(json_t *v, const char *p, int64_t lo, int64_t hi, int64_t *out, cu_err *err)
{
    if (!json_is_integer(v))
        return cu_jpath_error(err, p, "must be a whole number");
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi)
        return cu_err_set(err, CU_EINVAL, "%s: must be from %lld to %lld", p, (long long)lo,
                          (long long)hi);
    *out = i;
    return CU_OK;
}

static int get_int_key(json_t *o, const char *key, const char *base, int64_t lo, int64_t hi,
                       int64_t *out, cu_err *err)
{
    char p[PATH_LEN];
    cu_jpath_key(p, base, key);
    json_t *v = json_object_get(o, key);
    if (!v)
        return cu_jpath_error(err, p, "required");
    return get_int(v, p, lo, hi, out, err);
}

static const struct {
    const char *code;
    unsigned bit;
} end_codes[] = {
    {"duration", CU_PW_END_DURATION},   {"discharge", CU_PW_END_DISCHARGE},
    {"recurrence", CU_PW_END_RECURRENCE}, {"death", CU_PW_END_DEATH},
    {"withdrawn", CU_PW_END_WITHDRAWN},
};

unsigned cu_pathway_end_code(const char *s)
{
    for (size_t i = 0; s && i < sizeof end_codes / sizeof end_codes[0]; i++)
        if (strcmp(s, end_codes[i].code) == 0)
            return end_codes[i].bit;
    return 0;
}

static int parse_questionnaire(json_t *root, cu_pathway *p, cu_err *err)
{
    json_t *q = json_object_get(root, "questionnaire");
    if (!q)
        return cu_jpath_error(err, "questionnaire", "required");
    if (!json_is_object(q))
        return cu_jpath_error(err, "questionnaire", "must be an object");
    static const char *const keys[] = {"url", "version", NULL};
    int rc = cu_jpath_members(err, q, keys, "questionnaire");
    if (!rc)
        rc = get_str(q, "url", "questionnaire", true, CU_Q_MAX_URL, ANY_TEXT,
                     p->questionnaire_url, err);
    if (!rc && strchr(p->questionnaire_url, ' '))
        rc = cu_jpath_error(err, "questionnaire.url", "must not contain spaces");
    if (!rc)
        rc = get_str(q, "version", "questionnaire", false, 64, VERSION,
                     p->questionnaire_version, err);
    return rc;
}

static int parse_schedule(json_t *root, cu_pathway *p, cu_err *err)
{
    json_t *s = json_object_get(root, "schedule");
    if (!s)
        return cu_jpath_error(err, "schedule", "required");
    if (!json_is_object(s))
        return cu_jpath_error(err, "schedule", "must be an object");
    static const char *const keys[] = {"days", "every", "until", NULL};
    int rc = cu_jpath_members(err, s, keys, "schedule");
    if (rc)
        return rc;
    json_t *days = json_object_get(s, "days");
    bool every = json_object_get(s, "every") || json_object_get(s, "until");
    if (days && every)
        return cu_jpath_error(err, "schedule", "give either days or every and until, not both");
    if (!days && !every)
        return cu_jpath_error(err, "schedule", "give days, or every and until");
    if (days) {
        if (!json_is_array(days))
            return cu_jpath_error(err, "schedule.days", "must be an array");
        size_t n = json_array_size(days);
        if (n == 0)
            return cu_jpath_error(err, "schedule.days", "must not be empty");
        if (n > CU_PW_MAX_OCCURRENCES)
            return cu_err_set(err, CU_EINVAL, "schedule.days: at most %d entries",
                              CU_PW_MAX_OCCURRENCES);
        for (size_t i = 0; i < n; i++) {
            char path[PATH_LEN];
            snprintf(path, sizeof path, "schedule.days[%zu]", i);
            int64_t d = 0;
            if ((rc = get_int(json_array_get(days, i), path, 1, CU_PW_MAX_DAYS, &d, err)))
                return rc;
            if (i && d <= p->offsets[i - 1])
                return cu_jpath_error(err, path, "must be greater than the one before");
            p->offsets[i] = (int)d;
        }
        p->noffsets = n;
        return CU_OK;
    }
    int64_t e = 0, u = 0;
    if ((rc = get_int_key(s, "every", "schedule", 1, CU_PW_MAX_DAYS, &e, err)) ||
        (rc = get_int_key(s, "until", "schedule", 1, CU_PW_MAX_DAYS, &u, err)))
        return rc;
    if (u < e)
        return cu_jpath_error(err, "schedule.until", "must be at least every");
    if (u / e > CU_PW_MAX_OCCURRENCES)
        return cu_err_set(err, CU_EINVAL, "schedule: gives more than %d occurrences",
                          CU_PW_MAX_OCCURRENCES);
    p->every = (int)e;
    p->until = (int)u;
    for (int64_t d = e; d <= u; d += e)
        p->offsets[p->noffsets++] = (int)d;
    return CU_OK;
}

static int parse_reviews(json_t *root, cu_pathway *p, cu_err *err)
{
    json_t *r = json_object_get(root, "review");
    if (!r)
        return CU_OK;
    if (!json_is_array(r))
        return cu_jpath_error(err, "review", "must be an array");
    size_t n = json_array_size(r);
    if (n > CU_PW_MAX_REVIEWS)
        return cu_err_set(err, CU_EINVAL, "review: at most %d rules", CU_PW_MAX_REVIEWS);
    static const char *const keys[] = {"id", "score", "at_least", "level", NULL};
    for (size_t i = 0; i < n; i++) {
        char path[PATH_LEN];
        snprintf(path, sizeof path, "review[%zu]", i);
        json_t *o = json_array_get(r, i);
        if (!json_is_object(o))
            return cu_jpath_error(err, path, "must be an object");
        cu_pw_review *rv = &p->reviews[i];
        int rc = cu_jpath_members(err, o, keys, path);
        if (!rc)
            rc = get_str(o, "id", path, true, CU_PW_MAX_ID, CODE, rv->id, err);
        if (!rc)
            rc = get_str(o, "score", path, true, CU_PW_MAX_ID, CODE, rv->score, err);
        if (!rc)
            rc = get_int_key(o, "at_least", path, 0, CU_PW_MAX_SCORE, &rv->at_least, err);
        if (!rc && json_object_get(o, "level"))
            rc = get_str(o, "level", path, false, 7, CODE, rv->level, err);
        else if (!rc)
            memcpy(rv->level, "review", 7);
        char sub[PATH_LEN];
        if (!rc && strcmp(rv->level, "review") && strcmp(rv->level, "urgent")) {
            cu_jpath_key(sub, path, "level");
            rc = cu_jpath_error(err, sub, "must be review or urgent");
        }
        for (size_t k = 0; !rc && k < i; k++)
            if (strcmp(p->reviews[k].id, rv->id) == 0) {
                cu_jpath_key(sub, path, "id");
                rc = cu_jpath_error(err, sub, "is used twice");
            }
        if (rc)
            return rc;
        p->nreviews = i + 1;
    }
    return CU_OK;
}

static int parse_ends(json_t *root, cu_pathway *p, cu_err *err)
{
    json_t *e = json_object_get(root, "ends");
    if (!e)
        return cu_jpath_error(err, "ends", "required");
    if (!json_is_array(e))
        return cu_jpath_error(err, "ends", "must be an array");
    if (json_array_size(e) == 0)
        return cu_jpath_error(err, "ends", "must not be empty");
    size_t i;
    json_t *x;
    json_array_foreach(e, i, x) {
        char path[PATH_LEN];
        snprintf(path, sizeof path, "ends[%zu]", i);
        unsigned bit = json_is_string(x) ? cu_pathway_end_code(json_string_value(x)) : 0;
        if (!bit)
            return cu_jpath_error(err, path,
                       "must be one of duration, discharge, recurrence, death, withdrawn");
        if (p->ends & bit)
            return cu_jpath_error(err, path, "is given twice");
        p->ends |= bit;
    }
    if ((p->ends & (CU_PW_END_DURATION | CU_PW_END_DISCHARGE)) !=
        (CU_PW_END_DURATION | CU_PW_END_DISCHARGE))
        return cu_jpath_error(err, "ends", "must include duration and discharge");
    return CU_OK;
}

static int parse_root(json_t *root, cu_pathway *p, cu_err *err)
{
    if (!json_is_object(root))
        return cu_jpath_error(err, "", "must be a JSON object");
    static const char *const keys[] = {"id",       "version", "title", "example",
                                       "questionnaire", "start", "schedule", "window",
                                       "early",    "runs_for", "review", "ends",  NULL};
    int rc = cu_jpath_members(err, root, keys, "");
    if (!rc)
        rc = get_str(root, "id", "", true, CU_PW_MAX_ID, CODE, p->id, err);
    if (!rc && !(p->id[0] >= 'a' && p->id[0] <= 'z'))
        rc = cu_jpath_error(err, "id", "must start with a lower-case letter");
    if (!rc)
        rc = get_str(root, "version", "", true, CU_PW_MAX_VERSION, VERSION, p->version, err);
    if (!rc)
        rc = get_str(root, "title", "", true, CU_PW_MAX_TITLE, ANY_TEXT, p->title, err);
    json_t *ex = json_object_get(root, "example");
    if (!rc && ex) {
        if (!json_is_boolean(ex))
            rc = cu_jpath_error(err, "example", "must be true or false");
        p->example = json_is_true(ex);
    }
    if (!rc)
        rc = parse_questionnaire(root, p, err);
    if (!rc)
        rc = get_str(root, "start", "", true, CU_PW_MAX_START, ANY_TEXT, p->start_event, err);
    if (!rc)
        rc = parse_schedule(root, p, err);
    int64_t w = 0, r = 0;
    if (!rc)
        rc = get_int_key(root, "window", "", 0, CU_PW_MAX_WINDOW, &w, err);
    if (!rc)
        rc = get_int_key(root, "runs_for", "", 1, CU_PW_MAX_DAYS, &r, err);
    if (!rc && p->offsets[p->noffsets - 1] > r)
        rc = cu_jpath_error(err, "runs_for", "must be at least the last scheduled day");
    /* An answer given up to early days before a due date counts for it; less
     * than the shortest gap between two occurrences, so no answer is early
     * for one while it is due for the one before. */
    int64_t e = 0;
    if (!rc && json_object_get(root, "early"))
        rc = get_int_key(root, "early", "", 0, CU_PW_MAX_WINDOW, &e, err);
    for (size_t i = 0; !rc && i < p->noffsets; i++) {
        int gap = i ? p->offsets[i] - p->offsets[i - 1] : p->offsets[0];
        if (e >= gap)
            rc = cu_jpath_error(err, "early",
                                "must be less than the days from the start to the first "
                                "occurrence and between any two occurrences");
    }
    if (!rc) {
        p->window = (int)w;
        p->early = (int)e;
        p->runs_for = (int)r;
        rc = parse_reviews(root, p, err);
    }
    if (!rc)
        rc = parse_ends(root, p, err);
    return rc;
}

int cu_pathway_parse(const void *doc, size_t n, cu_pathway **out, cu_err *err)
{
    *out = NULL;
    if (n > CU_PW_MAX_BYTES)
        return cu_err_set(err, CU_EINVAL, "(document): larger than %d bytes", CU_PW_MAX_BYTES);
    json_error_t je;
    json_t *root = json_loadb(doc, n, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return cu_err_set(err, CU_EINVAL, "(document): not valid JSON (line %d, column %d)",
                          je.line, je.column);
    cu_pathway *p = calloc(1, sizeof *p);
    if (!p) {
        json_decref(root);
        return cu_err_set(err, CU_ENOMEM, "out of memory reading the pathway");
    }
    int rc = parse_root(root, p, err);
    if (!rc) {
        p->canonical = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        if (!p->canonical)
            rc = cu_err_set(err, CU_ENOMEM, "out of memory encoding the pathway");
        else
            p->canonical_len = strlen(p->canonical);
    }
    json_decref(root);
    if (rc) {
        cu_pathway_free(p);
        return rc;
    }
    *out = p;
    return CU_OK;
}

void cu_pathway_free(cu_pathway *p)
{
    if (!p)
        return;
    free(p->canonical);
    free(p);
}

cu_date cu_pathway_due_date(const cu_pathway *p, cu_date start, size_t i)
{
    return cu_date_of_days(cu_date_to_days(start) + (i < p->noffsets ? p->offsets[i] : 0));
}
