/*
 * ropa.c — the record of processing activities (UK GDPR Article 30) generated
 * from the controllers' policies, as JSON or CSV.
 *
 * JSON: {"format": "custos-ropa/1", "controllers": [ {
 *   "controller_id", "policy_version", "applied_at", "policy_digest", "role",
 *   "controller_form": {                                   Art 30(1)
 *     "name_and_contact": {"controller", "joint_controllers",
 *                          "representative", "dpo"},         (a)
 *     "purposes": [...],                                     (b)
 *     "categories_of_data_subjects": [...],                  (c)
 *     "categories_of_personal_data": [...],                  (c)
 *     "categories_of_recipients": [...],                     (d) incl. third countries
 *     "transfers": [...],                                    (e)
 *     "erasure_time_limits": [...],                          (f)
 *     "security_measures": [...] },                          (g)
 *   "processor_form": {                                      Art 30(2), only for
 *     "name_and_contact": {"processor", "controllers",        processors
 *                          "representative", "dpo"},         (a)
 *     "categories_of_processing": [...],                     (b) per controller
 *     "transfers": [...],                                    (c) per controller
 *     "security_measures": [...] } } ] }                     (d)
 * The built-in purpose (answering the subject's own requests) is listed with
 * the declared ones, marked "built_in", over the categories the controller
 * collects.
 *
 * CSV (RFC 4180): a header row, then one row per purpose per controller
 * (form "controller"), then one row per controller processed for (form
 * "processor"); every row has the same columns; lines end in CRLF; a field
 * holding a comma, a double quote, CR or LF is quoted, with its double quotes
 * doubled; lists inside a cell are joined with "; ".
 *
 * Spreadsheet formula injection: a cell that would start with = + - @, a tab
 * or CR — characters a spreadsheet may read as the start of a formula — is
 * written with a single quote (') in front, so it is shown as text. The quote
 * is part of the cell's value: a program reading the CSV back must remove a
 * leading ' from such cells itself.
 *
 * Output depends on the policies alone, so it is deterministic.
 */
#include "iface/notice.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "iface/wording.h"
#include "util/clock.h"
#include "util/jsonw.h"

static const char *role_name(cu_pol_role r)
{
    switch (r) {
    case CU_POL_CONTROLLER: return "controller";
    case CU_POL_PROCESSOR: return "processor";
    case CU_POL_BOTH: return "controller_and_processor";
    }
    return "unknown";
}

static bool acts_as_processor(const cu_policy *p)
{
    return p->role == CU_POL_PROCESSOR || p->role == CU_POL_BOTH;
}

/* "8 years after last_contact", "until the 25th birthday", "until erasure is
 * requested", with "; erased at once on request" when that applies. */
static void retention_summary(const cu_pol_retention *r, char *out, size_t outsz)
{
    char per[96];
    size_t used = cu_wording_period(r, CU_WORDING_COMPACT, per, sizeof per);
    if (r->trigger == CU_TRIGGER_BIRTHDAY)
        snprintf(out, outsz, "%s%s the %d%s birthday", per, used ? " after" : "until", r->age,
                 cu_wording_ordinal_suffix(r->age));
    else if (r->trigger == CU_TRIGGER_REQUEST)
        snprintf(out, outsz, "%s%s erasure is requested", per, used ? " after" : "until");
    else
        snprintf(out, outsz, "%s after %s", used ? per : "0 days", cu_pol_trigger_name(r->trigger));
    if (r->erase_on_request && r->trigger != CU_TRIGGER_REQUEST) {
        size_t n = strlen(out);
        snprintf(out + n, outsz - n, "; erased at once on request");
    }
}

/* ------------------------------------------------------------------ JSON */

static void jw_opt(cu_jw *w, const char *key, const char *v)
{
    cu_jw_key(w, key);
    cu_jw_str(w, v);
}

/* The name and contact members of a party (every one, null when absent). */
static void jw_party_members(cu_jw *w, const cu_pol_party *pt)
{
    jw_opt(w, "name", pt->name);
    jw_opt(w, "address", pt->address);
    jw_opt(w, "email", pt->email);
    jw_opt(w, "phone", pt->phone);
    jw_opt(w, "website", pt->website);
}

/* A party, as member key (NULL: an array element); null when it has no name. */
static void jw_party(cu_jw *w, const char *key, const cu_pol_party *pt)
{
    if (key)
        cu_jw_key(w, key);
    if (!pt->name) {
        cu_jw_null(w);
        return;
    }
    cu_jw_begin_object(w);
    jw_party_members(w, pt);
    cu_jw_end_object(w);
}

static const char *cat_at(unsigned i)
{
    return cu_category_name((cu_category)i);
}

/* The names of the bits of mask, name(i) naming bit i of count. */
static void jw_mask(cu_jw *w, unsigned mask, unsigned count, const char *(*name)(unsigned))
{
    cu_jw_begin_array(w);
    for (unsigned i = 0; i < count; i++)
        if (mask & (1u << i))
            cu_jw_str(w, name(i));
    cu_jw_end_array(w);
}

static void jw_strings(cu_jw *w, const char *const *v, size_t n)
{
    cu_jw_begin_array(w);
    for (size_t i = 0; i < n; i++)
        cu_jw_str(w, v[i]);
    cu_jw_end_array(w);
}

static void jw_transfer(cu_jw *w, const cu_policy *p, const cu_pol_transfer *x)
{
    cu_jw_begin_object(w);
    jw_opt(w, "id", x->id);
    jw_opt(w, "recipient", x->recipient < p->nrecipients ? p->recipients[x->recipient].id : NULL);
    jw_opt(w, "country", x->country);
    jw_opt(w, "safeguard", x->safeguard);
    jw_opt(w, "description", x->description);
    cu_jw_end_object(w);
}

static void jw_purpose(cu_jw *w, const cu_policy *p, const cu_pol_purpose *u)
{
    char ref[CU_WORDING_REF_LEN];
    cu_jw_begin_object(w);
    jw_opt(w, "id", u->id);
    jw_opt(w, "description", u->description);
    cu_jw_key(w, "built_in");
    cu_jw_bool(w, u->builtin);
    snprintf(ref, sizeof ref, "%c", u->basis);
    jw_opt(w, "basis", ref);
    jw_opt(w, "basis_name", cu_wording_basis(u->basis));
    jw_opt(w, "basis_reference", cu_wording_basis_ref(u->basis, ref));
    jw_opt(w, "basis_detail", u->basis_detail);
    jw_opt(w, "legitimate_interests", u->legitimate_interests);
    if (u->special_condition) {
        snprintf(ref, sizeof ref, "%c", u->special_condition);
        jw_opt(w, "special_condition", ref);
        jw_opt(w, "special_condition_name", cu_wording_special_formal(u->special_condition));
        jw_opt(w, "special_condition_reference", cu_wording_special_ref(u->special_condition, ref));
    } else {
        jw_opt(w, "special_condition", NULL);
        jw_opt(w, "special_condition_name", NULL);
        jw_opt(w, "special_condition_reference", NULL);
    }
    jw_opt(w, "schedule1", u->schedule1);
    cu_jw_key(w, "categories");
    jw_mask(w, cu_wording_purpose_categories(p, u), CU_CAT_COUNT, cat_at);
    cu_jw_key(w, "subject_kinds");
    jw_mask(w, cu_wording_purpose_kinds(p, u), CU_KIND_COUNT, cu_subject_kind_at);
    cu_jw_key(w, "consent_required");
    cu_jw_bool(w, u->consent_required);
    cu_jw_key(w, "required_for_service");
    cu_jw_bool(w, u->required_for_service);
    cu_jw_key(w, "direct_marketing");
    cu_jw_bool(w, u->direct_marketing);
    cu_jw_key(w, "legal_claims");
    cu_jw_bool(w, u->legal_claims);
    cu_jw_key(w, "automated_decision");
    if (u->adm_logic) {
        cu_jw_begin_object(w);
        jw_opt(w, "logic", u->adm_logic);
        jw_opt(w, "significance", u->adm_significance);
        cu_jw_end_object(w);
    } else {
        cu_jw_null(w);
    }
    cu_jw_key(w, "recipients");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < u->nrecipients; i++)
        if (u->recipients[i] < p->nrecipients)
            cu_jw_str(w, p->recipients[u->recipients[i]].id);
    cu_jw_end_array(w);
    cu_jw_key(w, "transfers");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < u->ntransfers; i++)
        if (u->transfers[i] < p->ntransfers)
            cu_jw_str(w, p->transfers[u->transfers[i]].id);
    cu_jw_end_array(w);
    cu_jw_key(w, "retention");
    cu_jw_str(w, !u->builtin && u->retention < p->nretention ? p->retention[u->retention].id
                                                             : NULL);
    cu_jw_end_object(w);
}

static void jw_controller_form(cu_jw *w, const cu_policy *p)
{
    cu_jw_begin_object(w);

    cu_jw_key(w, "name_and_contact");
    cu_jw_begin_object(w);
    cu_jw_key(w, "controller");
    cu_jw_begin_object(w);
    jw_party_members(w, &p->controller);
    jw_opt(w, "company_number", p->company_number);
    jw_opt(w, "ico_registration", p->ico_registration);
    cu_jw_key(w, "public_authority");
    cu_jw_bool(w, p->public_authority);
    cu_jw_end_object(w);
    cu_jw_key(w, "joint_controllers");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < p->njoint; i++)
        jw_party(w, NULL, &p->joint_controllers[i]);
    cu_jw_end_array(w);
    jw_party(w, "representative", &p->representative);
    jw_party(w, "dpo", &p->dpo);
    cu_jw_end_object(w);

    cu_jw_key(w, "purposes");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < p->npurposes; i++)
        jw_purpose(w, p, &p->purposes[i]);
    jw_purpose(w, p, cu_policy_rights_purpose());
    cu_jw_end_array(w);

    cu_jw_key(w, "categories_of_data_subjects");
    jw_mask(w, cu_wording_declared_kinds(p), CU_KIND_COUNT, cu_subject_kind_at);

    cu_jw_key(w, "categories_of_personal_data");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < p->ncategories; i++) {
        const cu_pol_category *c = &p->categories[i];
        cu_jw_begin_object(w);
        jw_opt(w, "id", c->id);
        jw_opt(w, "description", c->description);
        cu_jw_key(w, "special_category");
        cu_jw_bool(w, cu_wording_category_special(c->category));
        cu_jw_key(w, "sources");
        jw_mask(w, c->sources, CU_SOURCE_COUNT, cu_source_at);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);

    cu_jw_key(w, "categories_of_recipients");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < p->nrecipients; i++) {
        const cu_pol_recipient *r = &p->recipients[i];
        cu_jw_begin_object(w);
        jw_opt(w, "id", r->id);
        jw_opt(w, "category", r->category);
        jw_opt(w, "description", r->description);
        cu_jw_key(w, "names");
        jw_strings(w, r->names, r->nnames);
        cu_jw_key(w, "third_countries");
        cu_jw_begin_array(w);
        for (size_t j = 0; j < p->ntransfers; j++)
            if (p->transfers[j].recipient == i)
                cu_jw_str(w, p->transfers[j].country);
        cu_jw_end_array(w);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);

    cu_jw_key(w, "transfers");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < p->ntransfers; i++)
        jw_transfer(w, p, &p->transfers[i]);
    cu_jw_end_array(w);

    cu_jw_key(w, "erasure_time_limits");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < p->nretention; i++) {
        const cu_pol_retention *r = &p->retention[i];
        char sum[256];
        retention_summary(r, sum, sizeof sum);
        cu_jw_begin_object(w);
        jw_opt(w, "id", r->id);
        jw_opt(w, "description", r->description);
        jw_opt(w, "summary", sum);
        cu_jw_key(w, "years");
        cu_jw_int(w, r->years);
        cu_jw_key(w, "months");
        cu_jw_int(w, r->months);
        cu_jw_key(w, "days");
        cu_jw_int(w, r->days);
        jw_opt(w, "trigger", cu_pol_trigger_name(r->trigger));
        cu_jw_key(w, "age");
        if (r->trigger == CU_TRIGGER_BIRTHDAY)
            cu_jw_int(w, r->age);
        else
            cu_jw_null(w);
        cu_jw_key(w, "erase_on_request");
        cu_jw_bool(w, r->erase_on_request);
        jw_opt(w, "legal_source", r->legal_source);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);

    cu_jw_key(w, "security_measures");
    jw_strings(w, p->security, p->nsecurity);

    cu_jw_end_object(w);
}

static void jw_processor_form(cu_jw *w, const cu_policy *p)
{
    cu_jw_begin_object(w);

    cu_jw_key(w, "name_and_contact");
    cu_jw_begin_object(w);
    jw_party(w, "processor", &p->controller);
    cu_jw_key(w, "controllers");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < p->non_behalf; i++) {
        cu_jw_begin_object(w);
        jw_opt(w, "name", p->on_behalf[i].controller);
        jw_opt(w, "contact", p->on_behalf[i].contact);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);
    jw_party(w, "representative", &p->representative);
    jw_party(w, "dpo", &p->dpo);
    cu_jw_end_object(w);

    cu_jw_key(w, "categories_of_processing");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < p->non_behalf; i++) {
        const cu_pol_on_behalf *o = &p->on_behalf[i];
        cu_jw_begin_object(w);
        jw_opt(w, "controller", o->controller);
        cu_jw_key(w, "activities");
        jw_strings(w, o->activities, o->nactivities);
        cu_jw_key(w, "categories");
        jw_mask(w, o->categories, CU_CAT_COUNT, cat_at);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);

    cu_jw_key(w, "transfers");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < p->non_behalf; i++) {
        const cu_pol_on_behalf *o = &p->on_behalf[i];
        cu_jw_begin_object(w);
        jw_opt(w, "controller", o->controller);
        cu_jw_key(w, "transfers");
        cu_jw_begin_array(w);
        for (size_t j = 0; j < o->ntransfers; j++)
            if (o->transfers[j] < p->ntransfers)
                jw_transfer(w, p, &p->transfers[o->transfers[j]]);
        cu_jw_end_array(w);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);

    cu_jw_key(w, "security_measures");
    jw_strings(w, p->security, p->nsecurity);

    cu_jw_end_object(w);
}

static int render_json(const cu_policy *const *pols, const char *const *ids, size_t n,
                       cu_buf *out)
{
    cu_jw w;
    cu_jw_init(&w, out);
    cu_jw_begin_object(&w);
    jw_opt(&w, "format", "custos-ropa/1");
    cu_jw_key(&w, "controllers");
    cu_jw_begin_array(&w);
    for (size_t i = 0; i < n; i++) {
        const cu_policy *p = pols[i];
        cu_jw_begin_object(&w);
        jw_opt(&w, "controller_id", ids ? ids[i] : NULL);
        cu_jw_key(&w, "policy_version");
        cu_jw_int(&w, p->version);
        cu_jw_key(&w, "applied_at");
        cu_jw_time(&w, p->version > 0 ? p->applied_at : 0);
        jw_opt(&w, "policy_digest", p->digest[0] ? p->digest : NULL);
        jw_opt(&w, "role", role_name(p->role));
        cu_jw_key(&w, "controller_form");
        jw_controller_form(&w, p);
        if (acts_as_processor(p)) {
            cu_jw_key(&w, "processor_form");
            jw_processor_form(&w, p);
        }
        cu_jw_end_object(&w);
    }
    cu_jw_end_array(&w);
    cu_jw_end_object(&w);
    if (!w.rc)
        w.rc = cu_buf_append(out, "\n", 1);
    return w.rc;
}

/* ------------------------------------------------------------------ CSV */

enum {
    COL_FORM,
    COL_CONTROLLER_ID,
    COL_POLICY_VERSION,
    COL_APPLIED_AT,
    COL_NAME,
    COL_CONTACT,
    COL_COMPANY_NUMBER,
    COL_ICO_REGISTRATION,
    COL_JOINT,
    COL_REPRESENTATIVE,
    COL_DPO,
    COL_PROCESSED_FOR,
    COL_PURPOSE_ID,
    COL_PURPOSE,
    COL_PROCESSING,
    COL_BASIS,
    COL_BASIS_DETAIL,
    COL_LEGIT,
    COL_SPECIAL,
    COL_SCHEDULE1,
    COL_CONSENT,
    COL_ADM,
    COL_SUBJECTS,
    COL_DATA,
    COL_RECIPIENTS,
    COL_TRANSFERS,
    COL_ERASURE,
    COL_SECURITY,
    NCOLS
};

static const char *const csv_header[NCOLS] = {
    [COL_FORM] = "form",
    [COL_CONTROLLER_ID] = "controller_id",
    [COL_POLICY_VERSION] = "policy_version",
    [COL_APPLIED_AT] = "applied_at",
    [COL_NAME] = "name",
    [COL_CONTACT] = "contact",
    [COL_COMPANY_NUMBER] = "company_number",
    [COL_ICO_REGISTRATION] = "ico_registration",
    [COL_JOINT] = "joint_controllers",
    [COL_REPRESENTATIVE] = "representative",
    [COL_DPO] = "dpo",
    [COL_PROCESSED_FOR] = "processing_on_behalf_of",
    [COL_PURPOSE_ID] = "purpose_id",
    [COL_PURPOSE] = "purpose",
    [COL_PROCESSING] = "categories_of_processing",
    [COL_BASIS] = "lawful_basis",
    [COL_BASIS_DETAIL] = "basis_detail",
    [COL_LEGIT] = "legitimate_interests",
    [COL_SPECIAL] = "special_category_condition",
    [COL_SCHEDULE1] = "schedule1_condition",
    [COL_CONSENT] = "consent_required",
    [COL_ADM] = "automated_decision_making",
    [COL_SUBJECTS] = "categories_of_data_subjects",
    [COL_DATA] = "categories_of_personal_data",
    [COL_RECIPIENTS] = "categories_of_recipients",
    [COL_TRANSFERS] = "third_country_transfers",
    [COL_ERASURE] = "erasure_time_limit",
    [COL_SECURITY] = "security_measures",
};

/* One row being built: each cell is a buffer. */
typedef struct csv_row {
    cu_buf cell[NCOLS];
    int rc;
} csv_row;

static void row_init(csv_row *r)
{
    for (int i = 0; i < NCOLS; i++)
        cu_buf_init(&r->cell[i], 0);
    r->rc = CU_OK;
}

static void row_release(csv_row *r)
{
    for (int i = 0; i < NCOLS; i++)
        cu_buf_release(&r->cell[i]);
}

static void row_clear(csv_row *r)
{
    for (int i = 0; i < NCOLS; i++)
        cu_buf_reset(&r->cell[i]);
}

static void cell_add(csv_row *r, int col, const char *s)
{
    if (!r->rc && s)
        r->rc = cu_buf_append_str(&r->cell[col], s);
}

/* Appends s to a cell as one more item of a "; "-separated list. */
static void cell_item(csv_row *r, int col, const char *s)
{
    if (!s)
        return;
    if (r->cell[col].len)
        cell_add(r, col, "; ");
    cell_add(r, col, s);
}

static void cell_set(csv_row *r, int col, const char *s)
{
    cu_buf_reset(&r->cell[col]);
    cell_add(r, col, s);
}

static int csv_field(cu_buf *out, const char *s, size_t n)
{
    int rc = CU_OK;
    bool guard = n > 0 && strchr("=+-@\t\r", s[0]) != NULL;
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (quote)
        rc = cu_buf_append(out, "\"", 1);
    if (!rc && guard)
        rc = cu_buf_append(out, "'", 1);
    size_t run = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (s[i] != '"')
            continue;
        rc = cu_buf_append(out, s + run, i + 1 - run); /* through the quote */
        if (!rc)
            rc = cu_buf_append(out, "\"", 1);      /* doubled */
        run = i + 1;
    }
    if (!rc)
        rc = cu_buf_append(out, s + run, n - run);
    if (!rc && quote)
        rc = cu_buf_append(out, "\"", 1);
    return rc;
}

static int csv_line(cu_buf *out, const char *const *cells, const size_t *lens)
{
    int rc = CU_OK;
    for (int i = 0; i < NCOLS && !rc; i++) {
        if (i)
            rc = cu_buf_append(out, ",", 1);
        if (!rc)
            rc = csv_field(out, cells[i], lens[i]);
    }
    if (!rc)
        rc = cu_buf_append(out, "\r\n", 2);
    return rc;
}

static int row_emit(csv_row *r, cu_buf *out)
{
    if (r->rc)
        return r->rc;
    const char *cells[NCOLS];
    size_t lens[NCOLS];
    for (int i = 0; i < NCOLS; i++) {
        cells[i] = cu_buf_str(&r->cell[i]);
        lens[i] = r->cell[i].len;
    }
    return csv_line(out, cells, lens);
}

/* Appends the parts[0..n) that are not NULL, joined by ", ". */
static void cell_join(csv_row *r, int col, const char *const *parts, int n)
{
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (!parts[i])
            continue;
        if (!first)
            cell_add(r, col, ", ");
        cell_add(r, col, parts[i]);
        first = false;
    }
}

/* A party's name and contact; nothing when it has no name. */
static void party_text(csv_row *r, int col, const cu_pol_party *pt)
{
    const char *parts[5] = {pt->name, pt->address, pt->email, pt->phone, pt->website};
    if (pt->name)
        cell_join(r, col, parts, 5);
}

static void mask_cell(csv_row *r, int col, unsigned mask, unsigned count,
                      const char *(*name)(unsigned))
{
    for (unsigned i = 0; i < count; i++)
        if (mask & (1u << i))
            cell_item(r, col, name(i));
}

static void transfer_text(csv_row *r, int col, const cu_policy *p, const cu_pol_transfer *x)
{
    char tmp[768];
    const char *rec = x->recipient < p->nrecipients ? p->recipients[x->recipient].category : "";
    snprintf(tmp, sizeof tmp, "%s (to %s; safeguard: %s)", x->country, rec, x->safeguard);
    cell_item(r, col, tmp);
}

/* The columns every row of one controller shares. */
static void row_common(csv_row *r, const cu_policy *p, const char *id)
{
    char tmp[64];
    row_clear(r);
    cell_set(r, COL_CONTROLLER_ID, id);
    snprintf(tmp, sizeof tmp, "%lld", (long long)p->version);
    cell_set(r, COL_POLICY_VERSION, tmp);
    if (p->version > 0) {
        char ts[CU_TIME_STRLEN];
        cu_time_format(p->applied_at, ts);
        cell_set(r, COL_APPLIED_AT, ts);
    }
    cell_set(r, COL_NAME, p->controller.name);
    cu_buf_reset(&r->cell[COL_CONTACT]);
    const char *contact[4] = {p->controller.address, p->controller.email, p->controller.phone,
                              p->controller.website};
    cell_join(r, COL_CONTACT, contact, 4);
    cell_set(r, COL_COMPANY_NUMBER, p->company_number);
    cell_set(r, COL_ICO_REGISTRATION, p->ico_registration);
    for (size_t i = 0; i < p->njoint; i++) {
        if (r->cell[COL_JOINT].len)
            cell_add(r, COL_JOINT, "; ");
        party_text(r, COL_JOINT, &p->joint_controllers[i]);
    }
    party_text(r, COL_REPRESENTATIVE, &p->representative);
    party_text(r, COL_DPO, &p->dpo);
    for (size_t i = 0; i < p->nsecurity; i++)
        cell_item(r, COL_SECURITY, p->security[i]);
}

static void row_purpose(csv_row *r, const cu_policy *p, const cu_pol_purpose *u)
{
    char tmp[512], ref[CU_WORDING_REF_LEN];
    cell_set(r, COL_FORM, "controller");
    cell_set(r, COL_PURPOSE_ID, u->id);
    cell_set(r, COL_PURPOSE, u->description);
    snprintf(tmp, sizeof tmp, "%s (%s)", cu_wording_basis(u->basis),
             cu_wording_basis_ref(u->basis, ref));
    cell_set(r, COL_BASIS, tmp);
    cell_set(r, COL_BASIS_DETAIL, u->basis_detail);
    cell_set(r, COL_LEGIT, u->legitimate_interests);
    cu_buf_reset(&r->cell[COL_SPECIAL]);
    if (u->special_condition) {
        snprintf(tmp, sizeof tmp, "%s (%s)", cu_wording_special_formal(u->special_condition),
                 cu_wording_special_ref(u->special_condition, ref));
        cell_add(r, COL_SPECIAL, tmp);
    }
    cell_set(r, COL_SCHEDULE1, u->schedule1);
    cell_set(r, COL_CONSENT, u->consent_required ? "yes" : "no");
    cu_buf_reset(&r->cell[COL_ADM]);
    if (u->adm_logic) {
        cell_add(r, COL_ADM, u->adm_logic);
        if (u->adm_significance) {
            cell_add(r, COL_ADM, " Significance: ");
            cell_add(r, COL_ADM, u->adm_significance);
        }
    } else {
        cell_add(r, COL_ADM, "none");
    }
    cu_buf_reset(&r->cell[COL_SUBJECTS]);
    mask_cell(r, COL_SUBJECTS, cu_wording_purpose_kinds(p, u), CU_KIND_COUNT, cu_subject_kind_at);
    cu_buf_reset(&r->cell[COL_DATA]);
    mask_cell(r, COL_DATA, cu_wording_purpose_categories(p, u), CU_CAT_COUNT, cat_at);
    cu_buf_reset(&r->cell[COL_RECIPIENTS]);
    for (size_t i = 0; i < u->nrecipients; i++)
        if (u->recipients[i] < p->nrecipients)
            cell_item(r, COL_RECIPIENTS, p->recipients[u->recipients[i]].category);
    cu_buf_reset(&r->cell[COL_TRANSFERS]);
    for (size_t i = 0; i < u->ntransfers; i++)
        if (u->transfers[i] < p->ntransfers)
            transfer_text(r, COL_TRANSFERS, p, &p->transfers[u->transfers[i]]);
    cu_buf_reset(&r->cell[COL_ERASURE]);
    if (!u->builtin && u->retention < p->nretention) {
        const cu_pol_retention *rt = &p->retention[u->retention];
        retention_summary(rt, tmp, sizeof tmp);
        cell_add(r, COL_ERASURE, rt->description);
        cell_add(r, COL_ERASURE, ": ");
        cell_add(r, COL_ERASURE, tmp);
    } else if (u->builtin) {
        cell_add(r, COL_ERASURE, "as long as the data the request is about");
    }
}

static void row_processor(csv_row *r, const cu_policy *p, const cu_pol_on_behalf *o)
{
    static const int purpose_cols[] = {
        COL_PURPOSE_ID, COL_PURPOSE,  COL_PROCESSING, COL_BASIS,      COL_BASIS_DETAIL,
        COL_LEGIT,      COL_SPECIAL,  COL_SCHEDULE1,  COL_CONSENT,    COL_ADM,
        COL_SUBJECTS,   COL_RECIPIENTS, COL_ERASURE};
    for (size_t i = 0; i < sizeof purpose_cols / sizeof purpose_cols[0]; i++)
        cu_buf_reset(&r->cell[purpose_cols[i]]);
    cell_set(r, COL_FORM, "processor");
    cell_set(r, COL_PROCESSED_FOR, o->controller);
    if (o->contact) {
        cell_add(r, COL_PROCESSED_FOR, ", ");
        cell_add(r, COL_PROCESSED_FOR, o->contact);
    }
    for (size_t i = 0; i < o->nactivities; i++)
        cell_item(r, COL_PROCESSING, o->activities[i]);
    cu_buf_reset(&r->cell[COL_DATA]);
    mask_cell(r, COL_DATA, o->categories, CU_CAT_COUNT, cat_at);
    cu_buf_reset(&r->cell[COL_TRANSFERS]);
    for (size_t i = 0; i < o->ntransfers; i++)
        if (o->transfers[i] < p->ntransfers)
            transfer_text(r, COL_TRANSFERS, p, &p->transfers[o->transfers[i]]);
}

static int render_csv(const cu_policy *const *pols, const char *const *ids, size_t n,
                      cu_buf *out)
{
    size_t lens[NCOLS];
    for (int i = 0; i < NCOLS; i++)
        lens[i] = strlen(csv_header[i]);
    int rc = csv_line(out, csv_header, lens);
    csv_row r;
    row_init(&r);
    for (size_t i = 0; i < n && !rc; i++) {
        const cu_policy *p = pols[i];
        row_common(&r, p, ids ? ids[i] : NULL);
        for (size_t j = 0; j <= p->npurposes && !rc; j++) {
            row_purpose(&r, p, j < p->npurposes ? &p->purposes[j] : cu_policy_rights_purpose());
            rc = row_emit(&r, out);
        }
    }
    for (size_t i = 0; i < n && !rc; i++) {
        const cu_policy *p = pols[i];
        if (!acts_as_processor(p))
            continue;
        row_common(&r, p, ids ? ids[i] : NULL);
        for (size_t j = 0; j < p->non_behalf && !rc; j++) {
            row_processor(&r, p, &p->on_behalf[j]);
            rc = row_emit(&r, out);
        }
    }
    row_release(&r);
    return rc;
}

int cu_ropa_render(const cu_policy *const *pols, const char *const *ids, size_t n,
                   cu_ropa_format f, cu_buf *out, cu_err *err)
{
    if (!out || (n && !pols) || (f != CU_ROPA_JSON && f != CU_ROPA_CSV))
        return cu_err_set(err, CU_EINVAL, "nothing to render");
    for (size_t i = 0; i < n; i++)
        if (!pols[i])
            return cu_err_set(err, CU_EINVAL, "no policy for controller %zu", i);
    size_t start = out->len;
    int rc = f == CU_ROPA_JSON ? render_json(pols, ids, n, out) : render_csv(pols, ids, n, out);
    if (rc) {
        if (out->data) {
            out->len = start;
            out->data[start] = '\0';
        }
        return cu_err_set(err, rc, "record of processing larger than %zu bytes", out->limit);
    }
    return CU_OK;
}
