#include "iface/sar_render.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "domain/responses.h"
#include "iface/html.h"
#include "iface/receipt.h"
#include "iface/wording.h"
#include "util/clock.h"
#include "util/jsonw.h"

#define NHS_NUMBER_SYSTEM "https://fhir.nhs.uk/Id/nhs-number"
#define LOCAL_REF_SYSTEM "urn:custos:local-ref"
#define PURPOSE_SYSTEM "urn:custos:purpose"
#define CATEGORY_SYSTEM "urn:custos:category"

int cu_sar_format_from_name(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "json") == 0)
        return CU_SAR_JSON;
    if (strcmp(s, "html") == 0)
        return CU_SAR_HTML;
    if (strcmp(s, "fhir") == 0)
        return CU_SAR_FHIR;
    return -1;
}

const char *cu_sar_content_type(cu_sar_format f)
{
    switch (f) {
    case CU_SAR_HTML: return "text/html; charset=utf-8";
    case CU_SAR_FHIR: return "application/fhir+json";
    case CU_SAR_JSON: break;
    }
    return "application/json";
}

static const char *cat_name(int c)
{
    return c >= 0 && c < CU_CAT_COUNT ? cu_category_name((cu_category)c) : "unknown";
}


static const char *recipient_label(const cu_policy *p, const char *id)
{
    for (size_t i = 0; p && i < p->nrecipients; i++)
        if (strcmp(p->recipients[i].id, id) == 0)
            return p->recipients[i].category;
    return id;
}

/* Whether a purpose of the policy applies to this subject's kind. */
static bool purpose_applies(const cu_pol_purpose *u, const char *kind)
{
    return (u->kinds & cu_subject_kind_bit(kind)) != 0;
}

/* ---------------------------------------------------------------- JSON */

static void jw_item(cu_jw *w, const cu_item_view *iv)
{
    cu_jw_begin_object(w);
    cu_jw_member(w, "id", iv->id);
    cu_jw_member(w, "category", cat_name(iv->category));
    cu_jw_member(w, "field", iv->field);
    cu_jw_key(w, "value");
    cu_jw_string(w, (const char *)iv->value.data, iv->value.len);
    cu_jw_member(w, "source", iv->source);
    cu_jw_member_time(w, "collected_at", iv->collected_at);
    cu_jw_member_time(w, "recorded_at", iv->recorded_at);
    cu_jw_member_time(w, "updated_at", iv->updated_at);
    cu_jw_end_object(w);
}

static void jw_processing(cu_jw *w, const cu_sar *s)
{
    const cu_policy *p = s->policy;
    cu_jw_key(w, "processing");
    if (!p) {
        cu_jw_null(w);
        return;
    }
    cu_jw_begin_object(w);
    cu_jw_key(w, "policy_version");
    cu_jw_int(w, p->version);
    cu_jw_key(w, "purposes");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < p->npurposes; i++) {
        const cu_pol_purpose *u = &p->purposes[i];
        if (!purpose_applies(u, s->sv.rec.kind))
            continue;
        cu_jw_begin_object(w);
        cu_jw_member(w, "id", u->id);
        cu_jw_member(w, "description", u->description);
        cu_jw_member_bases(w, u);
        cu_jw_member_categories(w, "categories", u->categories);
        cu_jw_key(w, "recipients");
        cu_jw_begin_array(w);
        for (size_t r = 0; r < u->nrecipients; r++)
            cu_jw_str(w, p->recipients[u->recipients[r]].id);
        cu_jw_end_array(w);
        cu_jw_member(w, "retention", p->retention[u->retention].description);
        cu_jw_key(w, "automated_decision");
        if (u->adm_logic) {
            cu_jw_begin_object(w);
            cu_jw_member(w, "logic", u->adm_logic);
            cu_jw_member(w, "significance", u->adm_significance);
            cu_jw_end_object(w);
        } else {
            cu_jw_null(w);
        }
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);
    cu_jw_end_object(w);
}

static void render_json(const cu_sar *s, cu_jw *w)
{
    cu_jw_begin_object(w);
    cu_jw_member(w, "format", s->portable ? "custos-portability/1" : "custos-access-package/1");
    cu_jw_member(w, "package_id", s->package_id);
    cu_jw_member_time(w, "generated_at", s->generated_at);
    cu_jw_key(w, "controller");
    cu_jw_begin_object(w);
    cu_jw_member(w, "id", s->sv.rec.controller_id);
    cu_jw_member(w, "name", s->controller_name);
    cu_jw_end_object(w);
    cu_jw_key(w, "subject");
    cu_jw_begin_object(w);
    cu_jw_member(w, "id", s->sv.rec.id);
    cu_jw_member(w, "kind", s->sv.rec.kind);
    cu_jw_member_time(w, "created_at", s->sv.rec.created_at);
    cu_jw_member_time(w, "restricted_at", s->sv.rec.restricted_at);
    cu_jw_end_object(w);
    cu_jw_key(w, "items");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < s->sv.n; i++)
        jw_item(w, &s->sv.items[i]);
    cu_jw_end_array(w);
    if (s->portable) {
        cu_jw_key(w, "items_not_portable");
        cu_jw_int(w, (int64_t)s->nexcluded);
        cu_jw_end_object(w);
        return;
    }
    cu_jw_key(w, "withheld");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < s->nwithheld; i++) {
        const cu_sar_withheld *x = &s->withheld[i];
        cu_jw_begin_object(w);
        cu_jw_member(w, "id", x->id);
        cu_jw_member(w, "category", cat_name(x->category));
        cu_jw_member(w, "field", x->field);
        cu_jw_member(w, "source", x->source);
        cu_jw_member_time(w, "collected_at", x->collected_at);
        cu_jw_member(w, "exemption", "serious_harm");
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);
    cu_jw_key(w, "consents");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < s->nconsents; i++) {
        const cu_sar_consent *c = &s->consents[i];
        cu_jw_begin_object(w);
        cu_jw_member(w, "id", c->id);
        cu_jw_member(w, "purpose", c->purpose);
        cu_jw_member(w, "state", c->given ? "given" : "withdrawn");
        cu_jw_member(w, "method", c->method);
        cu_jw_member_time(w, "at", c->at);
        cu_jw_key(w, "policy_version");
        cu_jw_int(w, c->policy_version);
        cu_jw_member_buf(w, "evidence", &c->evidence);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);
    cu_jw_key(w, "disclosures");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < s->ndisclosures; i++) {
        const cu_sar_disclosure *d = &s->disclosures[i];
        char b[2] = {d->basis, 0};
        cu_jw_begin_object(w);
        cu_jw_member(w, "id", d->id);
        cu_jw_member(w, "recipient_id", d->recipient_id[0] ? d->recipient_id : NULL);
        cu_jw_key(w, "recipient");
        if (d->recipient_name.len)
            cu_jw_string(w, (const char *)d->recipient_name.data, d->recipient_name.len);
        else
            cu_jw_str(w, recipient_label(s->policy, d->recipient_id));
        cu_jw_member(w, "basis", b);
        cu_jw_member(w, "purpose", d->purpose);
        cu_jw_member(w, "channel", d->channel);
        cu_jw_member(w, "categories", d->categories);
        cu_jw_member(w, "items", d->items);
        cu_jw_member_time(w, "disclosed_at", d->disclosed_at);
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);
    cu_jw_key(w, "access_log");
    cu_jw_begin_array(w);
    for (size_t i = 0; i < s->nevents; i++) {
        const cu_sar_event *e = &s->events[i];
        cu_jw_begin_object(w);
        cu_jw_member_time(w, "at", e->ts);
        cu_jw_member(w, "role", e->role);
        cu_jw_member(w, "action", e->action);
        cu_jw_member(w, "purpose", e->purpose);
        cu_jw_member(w, "outcome", e->outcome);
        cu_jw_member(w, "categories", e->categories);
        if (e->tasks_raised) {
            cu_jw_key(w, "tasks_raised");
            cu_jw_int(w, e->tasks_raised);
        }
        cu_jw_end_object(w);
    }
    cu_jw_end_array(w);
    jw_processing(w, s);
    cu_jw_end_object(w);
}

/* ---------------------------------------------------------------- FHIR */

static void ref(cu_jw *w, const char *key, const char *id)
{
    char r[64];
    snprintf(r, sizeof r, "urn:uuid:%s", id);
    cu_jw_key(w, key);
    cu_jw_begin_object(w);
    cu_jw_member(w, "reference", r);
    cu_jw_end_object(w);
}

static void entry_open(cu_jw *w, const char *type, const char *id)
{
    char url[80];
    snprintf(url, sizeof url, "urn:uuid:%s", id);
    cu_jw_begin_object(w);
    cu_jw_member(w, "fullUrl", url);
    cu_jw_key(w, "resource");
    cu_jw_begin_object(w);
    cu_jw_member(w, "resourceType", type);
    cu_jw_member(w, "id", id);
}

static void entry_close(cu_jw *w)
{
    cu_jw_end_object(w);
    cu_jw_end_object(w);
}

/* [{"system": system, "code": code}] */
static void coding_array(cu_jw *w, const char *system, const char *code)
{
    cu_jw_begin_array(w);
    cu_jw_begin_object(w);
    cu_jw_member(w, "system", system);
    cu_jw_member(w, "code", code);
    cu_jw_end_object(w);
    cu_jw_end_array(w);
}

/* A CodeableConcept: {"coding": [...]} when system is set, "text" when text is. */
static void coding_text(cu_jw *w, const char *key, const char *system, const char *code,
                        const char *text)
{
    cu_jw_key(w, key);
    cu_jw_begin_object(w);
    if (system) {
        cu_jw_key(w, "coding");
        coding_array(w, system, code);
    }
    if (text)
        cu_jw_member(w, "text", text);
    cu_jw_end_object(w);
}

/* A list of one CodeableConcept of one coding. */
static void coding_list(cu_jw *w, const char *key, const char *system, const char *code)
{
    cu_jw_key(w, key);
    cu_jw_begin_array(w);
    cu_jw_begin_object(w);
    cu_jw_key(w, "coding");
    coding_array(w, system, code);
    cu_jw_end_object(w);
    cu_jw_end_array(w);
}

static bool is_patient_field(const char *f)
{
    static const char *const pf[] = {"name",  "birth_date", "address",  "postcode",
                                     "email", "phone",      "nhs_number", "local_ref"};
    for (size_t i = 0; i < sizeof pf / sizeof pf[0]; i++)
        if (strcmp(f, pf[i]) == 0)
            return true;
    return false;
}

static void val(cu_jw *w, const cu_item_view *iv)
{
    cu_jw_string(w, (const char *)iv->value.data, iv->value.len);
}

static void fhir_patient(cu_jw *w, const cu_sar *s)
{
    const cu_subject_view *sv = &s->sv;
    entry_open(w, "Patient", sv->rec.id);
    size_t nid = 0, nname = 0, ntel = 0, naddr = 0, npc = 0;
    const cu_item_view *birth = NULL;
    for (size_t i = 0; i < sv->n; i++) {
        const char *f = sv->items[i].field;
        nid += strcmp(f, "nhs_number") == 0 || strcmp(f, "local_ref") == 0;
        nname += strcmp(f, "name") == 0;
        ntel += strcmp(f, "email") == 0 || strcmp(f, "phone") == 0;
        naddr += strcmp(f, "address") == 0;
        npc += strcmp(f, "postcode") == 0;
        if (strcmp(f, "birth_date") == 0)
            birth = &sv->items[i];
    }
    if (nid) {
        cu_jw_key(w, "identifier");
        cu_jw_begin_array(w);
        for (size_t i = 0; i < sv->n; i++) {
            const char *f = sv->items[i].field;
            bool nhs = strcmp(f, "nhs_number") == 0;
            if (!nhs && strcmp(f, "local_ref") != 0)
                continue;
            cu_jw_begin_object(w);
            cu_jw_member(w, "system", nhs ? NHS_NUMBER_SYSTEM : LOCAL_REF_SYSTEM);
            cu_jw_key(w, "value");
            val(w, &sv->items[i]);
            cu_jw_end_object(w);
        }
        cu_jw_end_array(w);
    }
    if (nname) {
        cu_jw_key(w, "name");
        cu_jw_begin_array(w);
        for (size_t i = 0; i < sv->n; i++)
            if (strcmp(sv->items[i].field, "name") == 0) {
                cu_jw_begin_object(w);
                cu_jw_key(w, "text");
                val(w, &sv->items[i]);
                cu_jw_end_object(w);
            }
        cu_jw_end_array(w);
    }
    if (ntel) {
        cu_jw_key(w, "telecom");
        cu_jw_begin_array(w);
        for (size_t i = 0; i < sv->n; i++) {
            const char *f = sv->items[i].field;
            if (strcmp(f, "email") != 0 && strcmp(f, "phone") != 0)
                continue;
            cu_jw_begin_object(w);
            cu_jw_member(w, "system", f);
            cu_jw_key(w, "value");
            val(w, &sv->items[i]);
            cu_jw_end_object(w);
        }
        cu_jw_end_array(w);
    }
    if (birth && birth->value.len == 10) {
        cu_jw_key(w, "birthDate");
        val(w, birth);
    }
    if (naddr || npc) {
        /* One address per address item; postcodes go with the first, or
         * stand alone when there is no address. */
        cu_jw_key(w, "address");
        cu_jw_begin_array(w);
        size_t a = 0;
        for (size_t i = 0; i < sv->n; i++) {
            if (strcmp(sv->items[i].field, "address") != 0)
                continue;
            cu_jw_begin_object(w);
            cu_jw_key(w, "text");
            val(w, &sv->items[i]);
            if (a++ == 0)
                for (size_t j = 0; j < sv->n; j++)
                    if (strcmp(sv->items[j].field, "postcode") == 0) {
                        cu_jw_key(w, "postalCode");
                        val(w, &sv->items[j]);
                        break;
                    }
            cu_jw_end_object(w);
        }
        if (!naddr)
            for (size_t j = 0; j < sv->n; j++)
                if (strcmp(sv->items[j].field, "postcode") == 0) {
                    cu_jw_begin_object(w);
                    cu_jw_key(w, "postalCode");
                    val(w, &sv->items[j]);
                    cu_jw_end_object(w);
                }
        cu_jw_end_array(w);
    }
    entry_close(w);
}

static void fhir_observation(cu_jw *w, const cu_sar *s, const cu_item_view *iv)
{
    entry_open(w, "Observation", iv->id);
    cu_jw_member(w, "status", "final");
    coding_list(w, "category", CATEGORY_SYSTEM, cat_name(iv->category));
    coding_text(w, "code", NULL, NULL, iv->field);
    ref(w, "subject", s->sv.rec.id);
    cu_jw_member_time(w, "effectiveDateTime", iv->collected_at);
    cu_jw_member_time(w, "issued", iv->recorded_at);
    cu_jw_key(w, "valueString");
    val(w, iv);
    entry_close(w);
}

/* ---- a stored questionnaire response: the QuestionnaireResponse itself and
 * the Observation of its total, derived from it ---- */

/* Writes a parsed JSON value (a stored document) through the writer. */
static void jw_json(cu_jw *w, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *m;
        cu_jw_begin_object(w);
        json_object_foreach((json_t *)v, k, m) {
            cu_jw_key(w, k);
            jw_json(w, m);
        }
        cu_jw_end_object(w);
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *m;
        cu_jw_begin_array(w);
        json_array_foreach(v, i, m)
            jw_json(w, m);
        cu_jw_end_array(w);
        break;
    }
    case JSON_STRING: cu_jw_string(w, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: cu_jw_int(w, json_integer_value(v)); break;
    case JSON_REAL: cu_jw_real(w, json_real_value(v)); break;
    case JSON_TRUE: cu_jw_bool(w, true); break;
    case JSON_FALSE: cu_jw_bool(w, false); break;
    default: cu_jw_null(w); break;
    }
}

/* The part of custos's result extension called name, or NULL. */
static json_t *result_part(json_t *doc, const char *name)
{
    size_t i, j;
    json_t *e, *p;
    json_array_foreach(json_object_get(doc, "extension"), i, e) {
        const char *url = json_string_value(json_object_get(e, "url"));
        if (!url || strcmp(url, CU_Q_EXT_RESULT) != 0)
            continue;
        json_array_foreach(json_object_get(e, "extension"), j, p) {
            const char *u = json_string_value(json_object_get(p, "url"));
            if (u && strcmp(u, name) == 0)
                return p;
        }
    }
    return NULL;
}

/* A stored response parsed, or NULL when it is not one (then it is shown
 * like any other item). */
static json_t *response_of(const cu_item_view *iv)
{
    if (strcmp(iv->field, CU_RESPONSE_FIELD) != 0)
        return NULL;
    json_t *doc = json_loadb((const char *)iv->value.data, iv->value.len, 0, NULL);
    const char *rt = json_string_value(json_object_get(doc, "resourceType"));
    if (!json_is_object(doc) || !rt || strcmp(rt, "QuestionnaireResponse") != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* An id derived from an item's, with the hex digit at position from the
 * end changed, so a package names the same resource the same way every
 * time (the provenance uses position 1, the derived Observation 2). */
static void derived_id(const char *item_id, size_t from_end, char out[CU_ID_STRLEN])
{
    snprintf(out, CU_ID_STRLEN, "%s", item_id);
    size_t n = strlen(out);
    if (n >= from_end) {
        char *c = &out[n - from_end];
        *c = *c == '0' ? '1' : '0';
    }
}

static void fhir_response(cu_jw *w, const cu_sar *s, const cu_item_view *iv, json_t *doc)
{
    entry_open(w, "QuestionnaireResponse", iv->id);
    const char *k;
    json_t *m;
    json_object_foreach(doc, k, m) {
        if (strcmp(k, "resourceType") == 0 || strcmp(k, "id") == 0 ||
            strcmp(k, "subject") == 0)
            continue;
        cu_jw_key(w, k);
        jw_json(w, m);
    }
    ref(w, "subject", s->sv.rec.id);
    entry_close(w);

    json_t *total = result_part(doc, "total"), *code = result_part(doc, "scoreCode");
    json_t *coding = json_object_get(code, "valueCoding");
    if (!json_is_integer(json_object_get(total, "valueInteger")) || !json_is_object(coding))
        return;
    char id[CU_ID_STRLEN];
    derived_id(iv->id, 2, id);
    entry_open(w, "Observation", id);
    cu_jw_member(w, "status", "final");
    coding_list(w, "category", "http://terminology.hl7.org/CodeSystem/observation-category",
                "survey");
    cu_jw_key(w, "code");
    cu_jw_begin_object(w);
    cu_jw_key(w, "coding");
    cu_jw_begin_array(w);
    jw_json(w, coding);
    cu_jw_end_array(w);
    cu_jw_end_object(w);
    ref(w, "subject", s->sv.rec.id);
    const char *authored = json_string_value(json_object_get(doc, "authored"));
    if (authored)
        cu_jw_member(w, "effectiveDateTime", authored);
    cu_jw_member_time(w, "issued", iv->recorded_at);
    cu_jw_key(w, "valueInteger");
    cu_jw_int(w, json_integer_value(json_object_get(total, "valueInteger")));
    json_t *band = json_object_get(result_part(doc, "band"), "valueCoding");
    const char *bd = json_string_value(json_object_get(band, "display"));
    const char *bc = json_string_value(json_object_get(band, "code"));
    if (bd || bc) {
        cu_jw_key(w, "interpretation");
        cu_jw_begin_array(w);
        cu_jw_begin_object(w);
        cu_jw_member(w, "text", bd ? bd : bc);
        cu_jw_end_object(w);
        cu_jw_end_array(w);
    }
    cu_jw_key(w, "derivedFrom");
    cu_jw_begin_array(w);
    cu_jw_begin_object(w);
    char r[64];
    snprintf(r, sizeof r, "urn:uuid:%s", iv->id);
    cu_jw_member(w, "reference", r);
    cu_jw_end_object(w);
    cu_jw_end_array(w);
    entry_close(w);
}

static void fhir_provenance(cu_jw *w, const cu_sar *s, const cu_item_view *iv)
{
    /* A provenance id of its own: the item id with its last digit changed. */
    char id[CU_ID_STRLEN];
    derived_id(iv->id, 1, id);
    entry_open(w, "Provenance", id);
    cu_jw_key(w, "target");
    cu_jw_begin_array(w);
    cu_jw_begin_object(w);
    char r[64];
    snprintf(r, sizeof r, "urn:uuid:%s", is_patient_field(iv->field) ? s->sv.rec.id : iv->id);
    cu_jw_member(w, "reference", r);
    if (is_patient_field(iv->field)) {
        cu_jw_member(w, "display", iv->field);
    }
    cu_jw_end_object(w);
    cu_jw_end_array(w);
    cu_jw_member_time(w, "occurredDateTime", iv->collected_at);
    cu_jw_member_time(w, "recorded", iv->recorded_at);
    cu_jw_key(w, "agent");
    cu_jw_begin_array(w);
    cu_jw_begin_object(w);
    coding_text(w, "type", "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                "author", NULL);
    cu_jw_key(w, "who");
    cu_jw_begin_object(w);
    cu_jw_member(w, "display", cu_wording_source(iv->source) ? cu_wording_source(iv->source) : iv->source);
    cu_jw_end_object(w);
    cu_jw_end_object(w);
    cu_jw_end_array(w);
    entry_close(w);
}

static void fhir_consent(cu_jw *w, const cu_sar *s, const cu_sar_consent *c)
{
    entry_open(w, "Consent", c->id);
    cu_jw_member(w, "status", c->given ? "active" : "inactive");
    coding_text(w, "scope", "http://terminology.hl7.org/CodeSystem/consentscope",
                "patient-privacy", NULL);
    coding_list(w, "category", "http://loinc.org", "59284-0");
    ref(w, "patient", s->sv.rec.id);
    cu_jw_member_time(w, "dateTime", c->at);
    cu_jw_key(w, "policy");
    cu_jw_begin_array(w);
    cu_jw_begin_object(w);
    char uri[128];
    snprintf(uri, sizeof uri, "urn:custos:policy:%s:%lld", s->sv.rec.controller_id,
             (long long)c->policy_version);
    cu_jw_member(w, "uri", uri);
    cu_jw_end_object(w);
    cu_jw_end_array(w);
    cu_jw_key(w, "provision");
    cu_jw_begin_object(w);
    cu_jw_member(w, "type", c->given ? "permit" : "deny");
    cu_jw_key(w, "purpose");
    coding_array(w, PURPOSE_SYSTEM, c->purpose);
    cu_jw_end_object(w);
    entry_close(w);
}

static const char *audit_action(const char *a)
{
    if (strcmp(a, "create") == 0)
        return "C";
    if (strcmp(a, "read") == 0 || strcmp(a, "search") == 0 || strcmp(a, "audit") == 0)
        return "R";
    if (strcmp(a, "update") == 0)
        return "U";
    if (strcmp(a, "erase") == 0)
        return "D";
    return "E";
}

static void fhir_audit(cu_jw *w, const cu_sar *s, const cu_sar_event *e)
{
    /* A stable id per event: the subject's id with the sequence number. */
    char id[64];
    snprintf(id, sizeof id, "audit-%lld", (long long)e->seq);
    cu_jw_begin_object(w);
    cu_jw_key(w, "resource");
    cu_jw_begin_object(w);
    cu_jw_member(w, "resourceType", "AuditEvent");
    cu_jw_member(w, "id", id);
    cu_jw_key(w, "type");
    cu_jw_begin_object(w);
    cu_jw_member(w, "system", "http://terminology.hl7.org/CodeSystem/audit-event-type");
    cu_jw_member(w, "code", "rest");
    cu_jw_member(w, "display", e->action);
    cu_jw_end_object(w);
    cu_jw_member(w, "action", audit_action(e->action));
    cu_jw_member_time(w, "recorded", e->ts);
    cu_jw_member(w, "outcome", strcmp(e->outcome, "ok") == 0 ? "0" : "4");
    cu_jw_member(w, "outcomeDesc", e->outcome);
    coding_list(w, "purposeOfEvent", PURPOSE_SYSTEM, e->purpose[0] ? e->purpose : "unspecified");
    cu_jw_key(w, "agent");
    cu_jw_begin_array(w);
    cu_jw_begin_object(w);
    cu_jw_key(w, "role");
    cu_jw_begin_array(w);
    cu_jw_begin_object(w);
    cu_jw_member(w, "text", e->role[0] ? e->role : "unknown");
    cu_jw_end_object(w);
    cu_jw_end_array(w);
    cu_jw_key(w, "requestor");
    cu_jw_bool(w, true);
    cu_jw_end_object(w);
    cu_jw_end_array(w);
    cu_jw_key(w, "source");
    cu_jw_begin_object(w);
    cu_jw_key(w, "observer");
    cu_jw_begin_object(w);
    cu_jw_member(w, "display", "custos");
    cu_jw_end_object(w);
    cu_jw_end_object(w);
    cu_jw_key(w, "entity");
    cu_jw_begin_array(w);
    cu_jw_begin_object(w);
    ref(w, "what", s->sv.rec.id);
    cu_jw_end_object(w);
    cu_jw_end_array(w);
    cu_jw_end_object(w);
    cu_jw_end_object(w);
}

static void render_fhir(const cu_sar *s, cu_jw *w)
{
    cu_jw_begin_object(w);
    cu_jw_member(w, "resourceType", "Bundle");
    cu_jw_member(w, "id", s->package_id);
    cu_jw_member(w, "type", "collection");
    cu_jw_member_time(w, "timestamp", s->generated_at);
    cu_jw_key(w, "entry");
    cu_jw_begin_array(w);
    fhir_patient(w, s);
    for (size_t i = 0; i < s->sv.n; i++) {
        const cu_item_view *iv = &s->sv.items[i];
        if (is_patient_field(iv->field))
            continue;
        json_t *doc = response_of(iv);
        if (doc)
            fhir_response(w, s, iv, doc);
        else
            fhir_observation(w, s, iv);
        json_decref(doc);
    }
    for (size_t i = 0; i < s->sv.n; i++)
        fhir_provenance(w, s, &s->sv.items[i]);
    for (size_t i = 0; i < s->nconsents; i++)
        fhir_consent(w, s, &s->consents[i]);
    for (size_t i = 0; i < s->nevents; i++)
        fhir_audit(w, s, &s->events[i]);
    cu_jw_end_array(w);
    cu_jw_end_object(w);
}

/* ---------------------------------------------------------------- HTML */

/* The letter is read by the subject: every word comes from wording.h (no
 * identifier of the store reaches it), every value is escaped, and it reads
 * on a phone 375 px wide (tables become stacked rows) and prints on A4. */

typedef struct hw {
    cu_html h;               /* every element and text goes through the writer */
    const char *const *cols; /* the open table's headings: each cell's label */
    size_t ncols, col;
    bool portal;             /* a section inside a page of the patient portal */
} hw;

static void esc(hw *h, const char *s)
{
    cu_html_text(&h->h, s);
}

static void el(hw *h, const char *tag, const char *s)
{
    cu_html_elem(&h->h, tag, s, NULL);
    cu_html_nl(&h->h);
}

/* Escapes a value that may hold NUL bytes: only up to the first. */
static void esc_buf(hw *h, const cu_buf *b)
{
    esc(h, cu_buf_str(b));
}

static void row_open(hw *h)
{
    h->col = 0;
    cu_html_open(&h->h, "tr", NULL);
}

static void row_close(hw *h)
{
    cu_html_close(&h->h, "tr");
    cu_html_nl(&h->h);
}

/* A cell labelled with its column's heading (shown above the value when the
 * rows are stacked on a narrow screen). */
static void td_open(hw *h)
{
    cu_html_open(&h->h, "td", "data-label", h->col < h->ncols ? h->cols[h->col] : "", NULL);
    h->col++;
}

static void td(hw *h, const char *s)
{
    td_open(h);
    esc(h, s);
    cu_html_close(&h->h, "td");
}

/* s with its first letter in capitals, into out. */
static const char *cap(const char *s, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s", s ? s : "");
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 32);
    return out;
}

/* s with its first letter in lower case, unless its second is a capital
 * ("NHS ..."), for use inside a sentence. */
static const char *uncap(const char *s, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s", s ? s : "");
    if (out[0] >= 'A' && out[0] <= 'Z' && !(out[1] >= 'A' && out[1] <= 'Z'))
        out[0] = (char)(out[0] + 32);
    return out;
}

/* A cell of s with its first letter in capitals, however long s is. */
static void td_cap(hw *h, const char *s)
{
    td_open(h);
    if (s && *s >= 'a' && *s <= 'z') {
        char first[2] = {(char)(*s - 32), '\0'};
        esc(h, first);
        s++;
    }
    esc(h, s);
    cu_html_close(&h->h, "td");
}

static void thead(hw *h, const char *const *cols, size_t n)
{
    h->cols = cols;
    h->ncols = n;
    cu_html_open(&h->h, "table", "class", h->portal ? "nhsuk-table" : NULL, NULL);
    cu_html_open(&h->h, "thead", "class", h->portal ? "nhsuk-table__head" : NULL, NULL);
    cu_html_open(&h->h, "tr", NULL);
    for (size_t i = 0; i < n; i++)
        cu_html_elem(&h->h, "th", cols[i], "scope", h->portal ? "col" : NULL, NULL);
    cu_html_close(&h->h, "tr");
    cu_html_close(&h->h, "thead");
    cu_html_nl(&h->h);
    cu_html_open(&h->h, "tbody", NULL);
}

static void tend(hw *h)
{
    cu_html_close(&h->h, "tbody");
    cu_html_close(&h->h, "table");
    cu_html_nl(&h->h);
    h->cols = NULL;
    h->ncols = 0;
}

static const char *category_words(int c)
{
    const char *w = cu_wording_category(c);
    return w ? w : "other information";
}

static const char *source_words(const char *s)
{
    const char *w = cu_wording_source(s);
    return w ? w : "another source";
}

/* What a purpose is, in the controller's words when the policy declares it. */
static const char *purpose_words(const cu_policy *p, const char *id)
{
    for (size_t i = 0; p && id && i < p->npurposes; i++)
        if (strcmp(p->purposes[i].id, id) == 0)
            return p->purposes[i].description;
    const char *w = cu_wording_builtin_purpose(id);
    if (w)
        return w;
    return id && id[0] ? "a purpose that is not in our privacy policy"
                       : "no stated purpose";
}

static void role_words(const char *role, char *out, size_t outsz)
{
    if (!role || !role[0])
        snprintf(out, outsz, "our system");
    else if (!cu_wording_role(role, out, outsz))
        snprintf(out, outsz, "a member of staff");
}

static const char *action_words(const char *a)
{
    const char *w = cu_wording_action(a);
    return w ? w : "do something else with your record";
}

static const char *rule_words(const char *r)
{
    const char *w = cu_wording_rule(r);
    return w ? w : cu_wording_rule("refused");
}

/* A questionnaire named as a patient knows it. */
static const char *questionnaire_words(const char *ref)
{
    static const struct {
        const char *url, *words;
    } known[] = {
        {CU_RESPONSE_PHQ9, "PHQ-9 (how you have been feeling over the last 2 weeks)"},
        {CU_RESPONSE_GAD7, "GAD-7 (anxiety over the last 2 weeks)"},
        {"urn:custos:questionnaire:psfu-example", "Your follow-up questionnaire after treatment"},
    };
    for (size_t i = 0; ref && i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i].url);
        if (strncmp(ref, known[i].url, n) == 0 && (ref[n] == '|' || ref[n] == '\0'))
            return known[i].words;
    }
    return "A questionnaire";
}

/* A stored response in words: the questionnaire, its total and band, and
 * each answer after its question. */
static void response_cell(hw *h, json_t *doc)
{
    char b[160];
    cu_html_elem(&h->h, "strong",
                 questionnaire_words(json_string_value(json_object_get(doc, "questionnaire"))),
                 NULL);
    cu_html_void(&h->h, "br", NULL);
    json_t *total = json_object_get(result_part(doc, "total"), "valueInteger");
    json_t *band = json_object_get(result_part(doc, "band"), "valueCoding");
    const char *bd = json_string_value(json_object_get(band, "display"));
    if (json_is_integer(total)) {
        snprintf(b, sizeof b, "Score %lld%s%s", (long long)json_integer_value(total),
                 bd ? ": " : "", bd ? bd : "");
        esc(h, b);
    } else {
        esc(h, "Not every question was answered, so there is no score");
    }
    cu_html_open(&h->h, "ul", NULL);
    size_t i;
    json_t *it;
    /* one level of groups is enough for the shipped questionnaires; deeper
     * items are listed under their group's answers */
    json_array_foreach(json_object_get(doc, "item"), i, it) {
        json_t *list = json_object_get(it, "item");
        size_t j;
        json_t *x;
        json_t *one = json_array();
        if (!list) {
            json_array_append(one, it);
            list = one;
        }
        json_array_foreach(list, j, x) {
            json_t *ans = json_array_get(json_object_get(x, "answer"), 0);
            if (!ans)
                continue;
            const char *q = json_string_value(json_object_get(x, "text"));
            json_t *c = json_object_get(ans, "valueCoding");
            const char *a = c ? json_string_value(json_object_get(c, "display")) : NULL;
            if (c && !a)
                a = json_string_value(json_object_get(c, "code"));
            char num[32];
            if (!a) {
                json_t *v;
                if ((v = json_object_get(ans, "valueString")) ||
                    (v = json_object_get(ans, "valueDate")))
                    a = json_string_value(v);
                else if ((v = json_object_get(ans, "valueBoolean")))
                    a = json_is_true(v) ? "Yes" : "No";
                else if ((v = json_object_get(ans, "valueInteger")) ||
                         (v = json_object_get(ans, "valueDecimal"))) {
                    if (json_is_integer(v))
                        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
                    else
                        snprintf(num, sizeof num, "%g", json_number_value(v));
                    a = num;
                }
            }
            cu_html_open(&h->h, "li", NULL);
            esc(h, q ? q : "A question");
            esc(h, ": ");
            esc(h, a ? a : "");
            cu_html_close(&h->h, "li");
        }
        json_decref(one);
    }
    cu_html_close(&h->h, "ul");
}

/* A value as the subject reads it: an NHS number 3-3-4, a date of birth as
 * "1 May 1980", a questionnaire's answers in words; anything else as stored. */
static void value_cell(hw *h, const cu_item_view *iv)
{
    char b[64];
    const char *v = cu_buf_str(&iv->value);
    td_open(h);
    cu_date d;
    json_t *doc = response_of(iv);
    if (doc) {
        response_cell(h, doc);
        json_decref(doc);
    } else if (strcmp(iv->field, "nhs_number") == 0 && cu_wording_nhs_number(v, b, sizeof b)) {
        esc(h, b);
    } else if (strcmp(iv->field, "birth_date") == 0 && iv->value.len == 10 &&
               cu_date_parse(v, 10, &d)) {
        cu_wording_day(d, b, sizeof b);
        esc(h, b);
    } else {
        esc_buf(h, &iv->value);
    }
    cu_html_close(&h->h, "td");
}

static void basis_words(char basis, char special, char *out, size_t outsz)
{
    char ref[CU_WORDING_REF_LEN];
    int n = snprintf(out, outsz, "%s (%s)", cap(cu_wording_basis(basis), (char[32]){0}, 32),
                     cu_wording_basis_ref(basis, ref));
    if (special && n > 0 && (size_t)n < outsz)
        snprintf(out + n, outsz - (size_t)n, "; for sensitive data: %s (%s)",
                 cu_wording_special(special), cu_wording_special_ref(special, ref));
}

static void html_processing(hw *h, const cu_sar *s)
{
    const cu_policy *p = s->policy;
    char buf[1024];
    el(h, "h2", "Why we hold your data and on what lawful basis");
    if (!p) {
        el(h, "p", "The controller has not yet published a privacy policy in this system; "
                   "please contact us for details of our purposes.");
        return;
    }
    static const char *const cols[] = {"Purpose", "Lawful basis", "Data we use",
                                       "How long we keep it"};
    thead(h, cols, 4);
    for (size_t i = 0; i < p->npurposes; i++) {
        const cu_pol_purpose *u = &p->purposes[i];
        if (!purpose_applies(u, s->sv.rec.kind))
            continue;
        row_open(h);
        td(h, u->description);
        basis_words(u->basis, u->special_condition, buf, sizeof buf);
        td(h, buf);
        cu_wording_categories(u->categories, buf, sizeof buf);
        td_cap(h, buf);
        cu_wording_retention(&p->retention[u->retention], buf, sizeof buf);
        td_cap(h, buf);
        row_close(h);
    }
    tend(h);

    el(h, "h2", "Who we share your data with");
    el(h, "p", "Under our policy, your data may be shared with these recipients:");
    cu_html_open(&h->h, "ul", NULL);
    size_t shown = 0;
    for (size_t r = 0; r < p->nrecipients; r++) {
        bool used = false;
        for (size_t i = 0; i < p->npurposes; i++) {
            const cu_pol_purpose *u = &p->purposes[i];
            for (size_t k = 0; purpose_applies(u, s->sv.rec.kind) && k < u->nrecipients; k++)
                used |= u->recipients[k] == r;
        }
        if (!used)
            continue;
        shown++;
        cu_html_open(&h->h, "li", NULL);
        esc(h, p->recipients[r].category);
        if (p->recipients[r].description) {
            esc(h, ": ");
            esc(h, p->recipients[r].description);
        }
        cu_html_close(&h->h, "li");
        cu_html_nl(&h->h);
    }
    if (!shown)
        el(h, "li", "No recipients are named for the purposes that apply to you.");
    cu_html_close(&h->h, "ul");
    cu_html_nl(&h->h);

    el(h, "h2", "Automated decision-making");
    bool any = false;
    for (size_t i = 0; i < p->npurposes; i++) {
        const cu_pol_purpose *u = &p->purposes[i];
        if (!u->adm_logic || !purpose_applies(u, s->sv.rec.kind))
            continue;
        any = true;
        cu_html_open(&h->h, "p", NULL);
        cu_html_elem(&h->h, "strong", u->description, NULL);
        esc(h, ": ");
        esc(h, u->adm_logic);
        esc(h, " ");
        esc(h, u->adm_significance);
        cu_html_close(&h->h, "p");
        cu_html_nl(&h->h);
    }
    if (!any)
        el(h, "p", "We make no decisions about you based solely on automated processing, "
                   "including profiling.");
}

/* Screen: a readable column; below 40em the tables' rows stack, each cell
 * under its heading, so nothing scrolls sideways. Print: A4, headings
 * repeated on every page, no row cut between pages, no backgrounds. */
static const char css[] =
    "*{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
    "body{font-family:Arial,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;"
    "line-height:1.5;color:#0b0c0c;background:#fff;overflow-wrap:break-word}"
    "h1{font-size:1.8em;margin:.5em 0}h2{font-size:1.3em;margin-top:1.5em}"
    "table{border-collapse:collapse;width:100%;margin:1em 0}"
    "th,td{border:1px solid #b1b4b6;padding:.3em .5em;text-align:left;vertical-align:top;"
    "overflow-wrap:break-word}"
    "th{background:#f3f2f1}"
    ".withheld{color:#505a5f}.refused li{margin-bottom:.5em}"
    "@media screen and (max-width:40em){"
    "body{margin:1em auto;padding:0 .75em}"
    "table,tbody,tr,td{display:block;width:100%}"
    "thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}"
    "tr{border:1px solid #b1b4b6;margin:0 0 .75em}"
    "td{border:0;border-bottom:1px solid #e5e5e5;padding:.35em .6em;overflow-wrap:anywhere}"
    "td:last-child{border-bottom:0}"
    "td::before{content:attr(data-label);display:block;font-weight:bold;font-size:.85em;"
    "color:#505a5f}}"
    "@page{size:A4;margin:18mm 15mm}"
    "@media print{"
    "body{max-width:none;margin:0;padding:0;font-size:10pt;color:#000}"
    "thead{display:table-header-group}"
    "tr,li,p{break-inside:avoid;page-break-inside:avoid}"
    "h2{break-after:avoid;page-break-after:avoid}"
    "th{background:none;border-bottom:2px solid #000}"
    ".withheld{color:#000}}";

static void html_access_log(hw *w, const cu_sar *s)
{
    char when[64], who[160], why[512], b1[512];
    if (!w->portal)
        el(w, "h2", "Who has accessed your record");
    el(w, "p", "Every access to your record is recorded. Staff are shown by their role; names "
               "of individual staff are not included, but you may ask us about a particular "
               "access. All times are UK time (Greenwich Mean Time, or British Summer Time in "
               "summer).");
    if (!s->nevents) {
        el(w, "p", "No access is recorded.");
        return;
    }
    static const char *const cols[] = {"When", "Who", "What they asked to do", "Why",
                                       "Outcome"};
    thead(w, cols, 5);
    size_t refused = 0;
    for (size_t i = 0; i < s->nevents; i++) {
        const cu_sar_event *e = &s->events[i];
        bool denied = strcmp(e->outcome, "denied") == 0;
        refused += denied;
        row_open(w);
        cu_wording_time(e->ts, when, sizeof when);
        td(w, when);
        role_words(e->role, who, sizeof who);
        /* a refused sign-in is whoever typed the name, not necessarily you */
        if (denied && strcmp(e->action, "portal.signin") == 0)
            snprintf(who, sizeof who, "someone using your sign-in name");
        td_cap(w, who);
        if (e->tasks_raised) {
            /* the answers and the task they raised, recorded as one event */
            snprintf(b1, sizeof b1, "%s, and %s", action_words(e->action),
                     action_words("task.raise"));
            td_cap(w, b1);
        } else {
            td_cap(w, action_words(e->action));
        }
        td_cap(w, purpose_words(s->policy, e->purpose));
        const char *o = cu_wording_outcome(e->outcome);
        if (denied)
            snprintf(b1, sizeof b1, "Refused (explained below)");
        else
            cap(o ? o : "recorded", b1, sizeof b1);
        td(w, b1);
        row_close(w);
    }
    tend(w);
    if (!refused)
        return;
    el(w, "h3", "Attempts that were refused");
    cu_html_open(&w->h, "ul", "class", "refused", NULL);
    for (size_t i = 0; i < s->nevents; i++) {
        const cu_sar_event *e = &s->events[i];
        if (strcmp(e->outcome, "denied") != 0)
            continue;
        cu_wording_time(e->ts, when, sizeof when);
        role_words(e->role, who, sizeof who);
        uncap(purpose_words(s->policy, e->purpose), why, sizeof why);
        cu_html_open(&w->h, "li", NULL);
        if (strcmp(e->action, "portal.signin") == 0) {
            /* whoever typed the sign-in name: not necessarily you */
            esc(w, "On ");
            esc(w, when);
            esc(w, ", someone tried to sign in to your account on our patient portal. This "
                   "was refused because ");
            esc(w, rule_words(e->rule));
            esc(w, ". If this was not you, tell your care team.");
            cu_html_close(&w->h, "li");
            cu_html_nl(&w->h);
            continue;
        }
        esc(w, "On ");
        esc(w, when);
        esc(w, ", ");
        esc(w, who);
        esc(w, " tried to ");
        esc(w, action_words(e->action));
        esc(w, ", for this reason: ");
        esc(w, why);
        esc(w, ". This was refused because ");
        esc(w, rule_words(e->rule));
        esc(w, ". They saw none of your data.");
        cu_html_close(&w->h, "li");
        cu_html_nl(&w->h);
    }
    cu_html_close(&w->h, "ul");
    cu_html_nl(&w->h);
}

static void render_html(const cu_sar *s, cu_buf *out, int *rc)
{
    hw h = {0};
    hw *w = &h;
    char buf[1024], f[256];
    cu_html_init(&w->h, out);
    cu_page pg = {.title = "Your personal data: subject access response",
                  .document = true, .style = css};
    cu_page_begin(&w->h, &pg);
    el(w, "h1", "Your personal data");
    cu_html_open(&w->h, "p", NULL);
    esc(w, "From: ");
    esc(w, s->controller_name);
    cu_wording_date(s->generated_at, buf, sizeof buf);
    cu_html_void(&w->h, "br", NULL);
    esc(w, "Date: ");
    esc(w, buf);
    cu_html_void(&w->h, "br", NULL);
    esc(w, "Reference: ");
    esc(w, s->package_id);
    cu_html_close(&w->h, "p");
    cu_html_nl(&w->h);
    el(w, "p", "You asked us for a copy of the personal data we hold about you (UK GDPR "
               "Article 15). This letter lists every item we hold, where it came from, why we "
               "use it, who we have shared it with, how long we keep it, who has looked at "
               "your record, and your rights.");

    el(w, "h2", "The data we hold about you");
    if (!s->sv.n) {
        el(w, "p", "We hold no items of data about you.");
    } else {
        static const char *const cols[] = {"Kind of data", "What", "Value",
                                           "Where it came from", "Collected"};
        thead(w, cols, 5);
        for (size_t i = 0; i < s->sv.n; i++) {
            const cu_item_view *iv = &s->sv.items[i];
            row_open(w);
            td_cap(w, category_words(iv->category));
            cu_wording_field(iv->field, f, sizeof f);
            td(w, f);
            value_cell(w, iv);
            td_cap(w, source_words(iv->source));
            cu_wording_date(iv->collected_at, buf, sizeof buf);
            td(w, buf);
            row_close(w);
        }
        tend(w);
    }
    if (s->nwithheld) {
        el(w, "h2", "Information we have not included");
        cu_html_elem(&w->h, "p",
                     "We have withheld the items below because a health professional has "
                     "judged that disclosing them would be likely to cause serious harm to your "
                     "physical or mental health, or to someone else's (Data Protection Act "
                     "2018, Schedule 3, Part 2, paragraph 5). You may complain to the "
                     "Information Commissioner about this decision (see below).",
                     "class", "withheld", NULL);
        cu_html_nl(&w->h);
        static const char *const cols[] = {"Kind of data", "What", "Where it came from",
                                           "Collected"};
        thead(w, cols, 4);
        for (size_t i = 0; i < s->nwithheld; i++) {
            const cu_sar_withheld *x = &s->withheld[i];
            row_open(w);
            td_cap(w, category_words(x->category));
            cu_wording_field(x->field, f, sizeof f);
            td(w, f);
            td_cap(w, source_words(x->source));
            cu_wording_date(x->collected_at, buf, sizeof buf);
            td(w, buf);
            row_close(w);
        }
        tend(w);
    }
    html_processing(w, s);

    el(w, "h2", "Disclosures of your data");
    if (!s->ndisclosures) {
        el(w, "p", "We have not disclosed your data to anyone outside our organisation.");
    } else {
        static const char *const cols[] = {"Date", "Recipient", "Lawful basis", "Data",
                                           "How"};
        thead(w, cols, 5);
        for (size_t i = 0; i < s->ndisclosures; i++) {
            const cu_sar_disclosure *d = &s->disclosures[i];
            row_open(w);
            cu_wording_date(d->disclosed_at, buf, sizeof buf);
            td(w, buf);
            td_open(w);
            if (d->recipient_name.len)
                esc_buf(w, &d->recipient_name);
            else
                esc(w, recipient_label(s->policy, d->recipient_id));
            cu_html_close(&w->h, "td");
            basis_words(d->basis, 0, buf, sizeof buf);
            td(w, buf);
            if (!cu_wording_categories(cu_wording_category_mask(d->categories), buf,
                                       sizeof buf))
                snprintf(buf, sizeof buf, "some of your data");
            td_cap(w, buf);
            const char *how = cu_wording_channel(d->channel);
            td_cap(w, how ? how : "by other means");
            row_close(w);
        }
        tend(w);
    }

    el(w, "h2", "Your consent");
    if (!s->nconsents) {
        el(w, "p", "We hold no record of consent from you.");
    } else {
        static const char *const cols[] = {"Date", "Purpose", "Decision", "How"};
        thead(w, cols, 4);
        for (size_t i = 0; i < s->nconsents; i++) {
            const cu_sar_consent *c = &s->consents[i];
            row_open(w);
            cu_wording_date(c->at, buf, sizeof buf);
            td(w, buf);
            td_cap(w, purpose_words(s->policy, c->purpose));
            td(w, c->given ? "Given" : "Withdrawn");
            const char *how = cu_wording_consent_method(c->method);
            td_cap(w, how ? how : "by other means");
            row_close(w);
        }
        tend(w);
    }

    html_access_log(w, s);

    el(w, "h2", "Your rights");
    static const char *const rights[] = {
        "to ask us to correct data that is wrong or incomplete (rectification);",
        "to ask us to delete your data (erasure): health records must usually be kept for a "
        "set time, so this may be refused;",
        "to ask us to restrict how we use your data;",
        "to object to our use of your data, and absolutely to direct marketing;",
        "to receive the data you gave us in a machine-readable form, or have it sent to "
        "another organisation (portability), where we rely on consent or a contract;",
        "to withdraw your consent at any time, where we rely on it;",
        "not to be subject to decisions based solely on automated processing that "
        "significantly affect you."};
    cu_html_open(&w->h, "ul", NULL);
    cu_html_nl(&w->h);
    for (size_t i = 0; i < sizeof rights / sizeof rights[0]; i++)
        el(w, "li", rights[i]);
    cu_html_close(&w->h, "ul");
    cu_html_nl(&w->h);
    if (s->policy && s->policy->dpo.name) {
        cu_html_open(&w->h, "p", NULL);
        esc(w, "To use these rights, contact our Data Protection Officer: ");
        esc(w, s->policy->dpo.name);
        if (s->policy->dpo.email) {
            esc(w, ", ");
            esc(w, s->policy->dpo.email);
        }
        if (s->policy->dpo.address) {
            esc(w, ", ");
            esc(w, s->policy->dpo.address);
        }
        esc(w, ".");
        cu_html_close(&w->h, "p");
        cu_html_nl(&w->h);
    }
    el(w, "h2", "How to complain");
    el(w, "p", "If you are unhappy with how we have handled your request or your data, please "
               "contact us first. You also have the right to complain to the Information "
               "Commissioner's Office (ICO), the UK's independent regulator for data "
               "protection: Information Commissioner's Office, Wycliffe House, Water Lane, "
               "Wilmslow, Cheshire SK9 5AF; telephone 0303 123 1113; "
               "https://ico.org.uk/make-a-complaint/");
    cu_page_end(&w->h);
    *rc = cu_html_done(&w->h);
}

/* The items held, as the letter lists them, inside a page of the portal. */
static void html_held(hw *w, const cu_sar *s)
{
    char buf[1024], f[256];
    if (!s->sv.n) {
        el(w, "p", "We hold no items of data about you.");
        return;
    }
    static const char *const cols[] = {"Kind of data", "What", "Value", "Where it came from",
                                       "Collected"};
    thead(w, cols, 5);
    for (size_t i = 0; i < s->sv.n; i++) {
        const cu_item_view *iv = &s->sv.items[i];
        row_open(w);
        td_cap(w, category_words(iv->category));
        cu_wording_field(iv->field, f, sizeof f);
        td(w, f);
        value_cell(w, iv);
        td_cap(w, source_words(iv->source));
        cu_wording_date(iv->collected_at, buf, sizeof buf);
        td(w, buf);
        row_close(w);
    }
    tend(w);
}

void cu_sar_html_held(cu_html *h, const cu_sar *s)
{
    hw w = {.h = *h, .portal = true};
    html_held(&w, s);
    *h = w.h;
}

void cu_sar_html_access_log(cu_html *h, const cu_sar *s)
{
    hw w = {.h = *h, .portal = true};
    html_access_log(&w, s);
    *h = w.h;
}

int cu_sar_render(const cu_sar *s, cu_sar_format f, cu_buf *out, cu_err *err)
{
    int rc = CU_OK;
    if (f == CU_SAR_HTML) {
        render_html(s, out, &rc);
    } else {
        cu_jw w;
        cu_jw_init(&w, out);
        if (f == CU_SAR_FHIR)
            render_fhir(s, &w);
        else
            render_json(s, &w);
        rc = w.rc;
    }
    return rc ? cu_err_set(err, CU_ENOMEM, "the access package is too large") : CU_OK;
}
