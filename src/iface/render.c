#include "iface/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/model.h"
#include "domain/nhs.h"
#include "util/jsonw.h"
#include "util/clock.h"

json_t *cu_json_time(int64_t us)
{
    if (!us)
        return json_null();
    char t[CU_TIME_STRLEN];
    cu_time_format(us, t);
    return json_string(t);
}

/* "2026-11" for a time shown to the month (pseudonymised views). */
static void month_str(int64_t us, char out[8])
{
    cu_date d = cu_date_of_us(us);
    unsigned y = (unsigned)d.year % 10000u, m = (unsigned)d.month % 13u;
    snprintf(out, 8, "%04u-%02u", y, m);
}

json_t *cu_json_month(int64_t us)
{
    if (!us)
        return json_null();
    char m[8];
    month_str(us, m);
    return json_string(m);
}

/* A time of a view: exact, or the month for a pseudonymised one. */
static void view_time(cu_jw *w, const cu_subject_view *sv, int64_t us)
{
    if (!sv->pseudonymised || !us) {
        cu_jw_time(w, us);
        return;
    }
    char m[8];
    month_str(us, m);
    cu_jw_str(w, m);
}

static void item_write(cu_jw *w, const cu_subject_view *sv, const cu_item_view *it)
{
    cu_jw_begin_object(w);
    cu_jw_key(w, "id");
    cu_jw_str(w, it->id);
    cu_jw_key(w, "category");
    cu_jw_str(w, it->category >= 0 ? cu_category_name(it->category) : "unknown");
    cu_jw_key(w, "field");
    cu_jw_str(w, it->field);
    cu_jw_key(w, "value");
    cu_jw_string(w, (const char *)it->value.data, it->value.len);
    cu_jw_key(w, "source");
    cu_jw_str(w, it->source);
    cu_jw_key(w, "collected_at");
    view_time(w, sv, it->collected_at);
    if (!sv->pseudonymised) {
        cu_jw_key(w, "recorded_by");
        cu_jw_str(w, it->recorded_by);
    }
    cu_jw_key(w, "recorded_at");
    view_time(w, sv, it->recorded_at);
    cu_jw_key(w, "updated_at");
    view_time(w, sv, it->updated_at);
    cu_jw_end_object(w);
}

/* Room for the whole document at once, so it is not copied as it grows: a
 * generous guess (a value may need escapes, and the guess is only a start). */
static void reserve(cu_buf *out, const cu_subject_view *sv)
{
    size_t need = 512;
    for (size_t i = 0; i < sv->n; i++)
        need += 384 + sv->items[i].value.len + sv->items[i].value.len / 8;
    if (cu_buf_reserve(out, need < out->limit ? need : out->limit) != CU_OK) {
        /* only a hint: the appends below find out for themselves */
    }
}

int cu_render_items(cu_buf *out, const cu_subject_view *sv)
{
    cu_jw w;
    reserve(out, sv);
    cu_jw_init(&w, out);
    cu_jw_begin_object(&w);
    cu_jw_key(&w, "items");
    cu_jw_begin_array(&w);
    for (size_t i = 0; i < sv->n; i++)
        item_write(&w, sv, &sv->items[i]);
    cu_jw_end_array(&w);
    if (sv->next[0]) {
        cu_jw_key(&w, "next");
        cu_jw_str(&w, sv->next);
    }
    cu_jw_end_object(&w);
    return w.rc;
}

int cu_render_subject(cu_buf *out, const cu_subject_view *sv)
{
    /* Which well-known field each item is, looked up once. */
    const cu_known_field *small[64], **known = small;
    if (sv->n > sizeof small / sizeof small[0] && !(known = malloc(sv->n * sizeof *known)))
        return CU_ENOMEM;
    for (size_t i = 0; i < sv->n; i++)
        known[i] = cu_known_field_find(sv->items[i].field);
    cu_jw w;
    reserve(out, sv);
    cu_jw_init(&w, out);
    cu_jw_begin_object(&w);
    cu_jw_key(&w, "id");
    cu_jw_str(&w, sv->rec.id);
    cu_jw_key(&w, "kind");
    cu_jw_str(&w, sv->rec.kind);
    cu_jw_key(&w, "created_at");
    view_time(&w, sv, sv->rec.created_at);
    cu_jw_key(&w, "updated_at");
    view_time(&w, sv, sv->rec.updated_at);
    if (sv->pseudonymised) {
        cu_jw_key(&w, "pseudonymised");
        cu_jw_bool(&w, true);
    } else {
        cu_jw_key(&w, "controller");
        cu_jw_str(&w, sv->rec.controller_id);
    }
    /* Well-known fields as members of their own, in a fixed order. */
    const cu_known_field *kf;
    for (size_t k = 0; (kf = cu_known_field_at(k)) != NULL; k++) {
        for (size_t i = 0; i < sv->n; i++) {
            const cu_item_view *it = &sv->items[i];
            if (known[i] != kf)
                continue;
            cu_jw_key(&w, it->field);
            cu_jw_string(&w, (const char *)it->value.data, it->value.len);
            cu_nhs nhs;
            if (strcmp(it->field, "nhs_number") == 0 &&
                cu_nhs_parse((const char *)it->value.data, it->value.len, &nhs) == CU_NHS_OK) {
                cu_jw_key(&w, "nhs_number_test");
                cu_jw_bool(&w, nhs.test_number);
            }
        }
    }
    cu_jw_key(&w, "field_item_ids");
    cu_jw_begin_object(&w);
    for (size_t i = 0; i < sv->n; i++)
        if (known[i]) {
            cu_jw_key(&w, sv->items[i].field);
            cu_jw_str(&w, sv->items[i].id);
        }
    cu_jw_end_object(&w);
    cu_jw_key(&w, "items");
    cu_jw_begin_array(&w);
    for (size_t i = 0; i < sv->n; i++)
        if (!known[i])
            item_write(&w, sv, &sv->items[i]);
    cu_jw_end_array(&w);
    if (sv->next[0]) {
        cu_jw_key(&w, "next");
        cu_jw_str(&w, sv->next);
    }
    cu_jw_end_object(&w);
    if (known != small)
        free(known);
    return w.rc;
}

/* The jansson forms, for callers that edit or pretty-print: parsed from the
 * rendered text, so there is one definition of each shape. */
static json_t *parse_rendered(int (*render)(cu_buf *, const cu_subject_view *),
                              const cu_subject_view *sv)
{
    cu_buf b;
    cu_buf_init(&b, 64 << 20);
    json_t *j = NULL;
    if (render(&b, sv) == CU_OK) {
        json_error_t je;
        j = json_loadb((const char *)b.data, b.len, 0, &je);
    }
    cu_buf_release(&b);
    return j;
}

json_t *cu_json_subject(const cu_subject_view *sv)
{
    return parse_rendered(cu_render_subject, sv);
}

json_t *cu_json_items(const cu_subject_view *sv)
{
    json_t *j = parse_rendered(cu_render_items, sv);
    json_t *items = json_incref(json_object_get(j, "items"));
    json_decref(j);
    return items;
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
    if (e->rule.n)
        json_object_set_new(j, "rule", view_json(e->rule));
    if (e->detail.n)
        json_object_set_new(j, "detail", view_json(e->detail));
    if (e->payload.n)
        json_object_set_new(j, "sealed_payload_bytes", json_integer((json_int_t)e->payload.n));
    if (payload) {
        json_error_t je;
        json_t *p = json_loadb((const char *)payload->data, payload->len, 0, &je);
        json_object_set_new(j, "previous_values", p ? p : json_null());
    }
    return j;
}

/* ---- rights requests ---- */

json_t *cu_json_request(const cu_request_view *v)
{
    const cu_request_rec *r = &v->rec;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "id", r->id, "controller",
                          r->controller_id, "kind", r->kind, "channel", r->channel, "state",
                          r->state, "received_on", r->received_on, "extended", r->extended,
                          "clock_started", v->clock_started);
    const struct {
        const char *k, *v;
    } opt[] = {{"subject", r->subject_id}, {"purpose", r->purpose},
               {"evidence_on", r->evidence_on}, {"told_on", r->told_on},
               {"grounds", r->grounds}, {"closed_on", r->closed_on}};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if (opt[i].v[0])
            json_object_set_new(j, opt[i].k, json_string(strcmp(opt[i].k, "purpose") == 0 &&
                                                                 strcmp(opt[i].v, "*") == 0
                                                             ? "all"
                                                             : opt[i].v));
    if (r->complaint_route[0])
        json_object_set_new(j, "complaint_route", json_string(r->complaint_route));
    if (v->has_clock) {
        char s[11], d1[11], d3[11], nb[11], due[11];
        cu_rq_date_str(v->dl.start, s);
        cu_rq_date_str(v->dl.due, due);
        cu_rq_date_str(v->dl.due_one_month, d1);
        cu_rq_date_str(v->dl.due_extended, d3);
        cu_rq_date_str(v->notice_by, nb);
        json_object_set_new(j, "clock",
                            json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:b}", "start", s,
                                      "due", due, "due_one_month", d1, "due_extended", d3,
                                      "extension_notice_by", nb, "paused_days",
                                      (json_int_t)v->dl.paused_days, "paused", v->dl.paused,
                                      "beyond_calendar", v->dl.beyond_calendar));
        json_t *clk = json_object_get(j, "clock");
        if (cu_rq_state_open((cu_rq_state)cu_rq_state_parse(r->state))) {
            json_object_set_new(clk, "days_left", json_integer(v->dl.days_left));
            json_object_set_new(clk, "overdue", json_boolean(v->clock_started &&
                                                             v->dl.days_left < 0));
        } else {
            json_object_set_new(clk, "on_time", json_boolean(v->on_time));
        }
    }
    return j;
}

json_t *cu_json_request_event(const cu_request_event_view *e)
{
    return json_pack("{s:I, s:o, s:s, s:s, s:s, s:s?, s:s, s:s?}", "seq", (json_int_t)e->seq,
                     "at", cu_json_time(e->at), "on", e->on_date, "actor", e->actor, "action",
                     e->action, "from", e->from_state[0] ? e->from_state : NULL, "to",
                     e->to_state, "why", e->why);
}

int cu_json_collect_recipient(void *ctx, const cu_notify_recipient *r)
{
    json_t *j = json_pack("{s:s, s:o}", "channel", r->channel, "disclosed_at",
                          cu_json_time(r->disclosed_at));
    if (!j)
        return CU_ENOMEM;
    json_object_set_new(j, r->recipient_id ? "recipient_id" : "organisation",
                        r->recipient_id ? json_string(r->recipient_id)
                                        : json_stringn(r->name ? r->name : "", r->name_len));
    return json_array_append_new(ctx, j) ? CU_ENOMEM : CU_OK;
}
