#include "iface/render.h"

#include <string.h>

#include "domain/model.h"
#include "domain/nhs.h"
#include "util/clock.h"

json_t *cu_json_time(int64_t us)
{
    if (!us)
        return json_null();
    char t[CU_TIME_STRLEN];
    cu_time_format(us, t);
    return json_string(t);
}

static json_t *value_json(const cu_item_view *it)
{
    return json_stringn((const char *)it->value.data, it->value.len);
}

static json_t *item_json(const cu_item_view *it)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:o, s:o}", "id", it->id, "category",
                     it->category >= 0 ? cu_category_name(it->category) : "unknown", "field",
                     it->field, "value", value_json(it), "source", it->source, "collected_at",
                     cu_json_time(it->collected_at), "recorded_by", it->recorded_by,
                     "recorded_at", cu_json_time(it->recorded_at), "updated_at",
                     cu_json_time(it->updated_at));
}

json_t *cu_json_items(const cu_subject_view *sv)
{
    json_t *items = json_array();
    for (size_t i = 0; i < sv->n; i++)
        json_array_append_new(items, item_json(&sv->items[i]));
    return items;
}

json_t *cu_json_subject(const cu_subject_view *sv)
{
    json_t *items = json_array(), *ids = json_object();
    json_t *j = json_pack("{s:s, s:s, s:o, s:o}", "id", sv->rec.id, "kind", sv->rec.kind,
                          "created_at", cu_json_time(sv->rec.created_at), "updated_at",
                          cu_json_time(sv->rec.updated_at));
    if (sv->pseudonymised)
        json_object_set_new(j, "pseudonymised", json_true());
    else
        json_object_set_new(j, "controller", json_string(sv->rec.controller_id));
    for (size_t i = 0; i < sv->n; i++) {
        const cu_item_view *it = &sv->items[i];
        if (cu_known_field_find(it->field)) {
            json_object_set_new(j, it->field, value_json(it));
            json_object_set_new(ids, it->field, json_string(it->id));
            cu_nhs nhs;
            if (strcmp(it->field, "nhs_number") == 0 &&
                cu_nhs_parse((const char *)it->value.data, it->value.len, &nhs) == CU_NHS_OK)
                json_object_set_new(j, "nhs_number_test", json_boolean(nhs.test_number));
            continue;
        }
        json_array_append_new(items, item_json(it));
    }
    json_object_set_new(j, "field_item_ids", ids);
    json_object_set_new(j, "items", items);
    return j;
}

static json_t *view_json(cu_view v)
{
    return v.n ? json_stringn(v.p, v.n) : json_null();
}

json_t *cu_json_event(const cu_audit_decoded *e, const cu_buf *payload)
{
    json_t *j = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "seq",
                          (json_int_t)e->seq, "time", cu_json_time(e->ts), "actor",
                          view_json(e->actor), "role", view_json(e->role), "action",
                          view_json(e->action), "controller", view_json(e->controller),
                          "subject", view_json(e->subject), "categories",
                          view_json(e->categories), "purpose", view_json(e->purpose),
                          "outcome", view_json(e->outcome), "via", view_json(e->via));
    if (e->payload.n)
        json_object_set_new(j, "sealed_payload_bytes", json_integer((json_int_t)e->payload.n));
    if (payload) {
        json_error_t je;
        json_t *p = json_loadb((const char *)payload->data, payload->len, 0, &je);
        json_object_set_new(j, "previous_values", p ? p : json_null());
    }
    return j;
}
