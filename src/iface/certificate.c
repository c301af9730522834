/* The erasure plan and the certificate of erasure, as JSON and Markdown. */
#include "iface/certificate.h"

#include "iface/render.h"
#include "util/clock.h"

static json_t *line_json(const cu_erasure_line *l)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o}", "item", l->id, "field", l->field,
                          "category", l->category, "reason", l->reason, "collected_at",
                          cu_json_time(l->collected_at));
    if (l->rule[0]) {
        json_object_set_new(j, "rule", json_string(l->rule));
        json_object_set_new(j, "trigger", json_string(l->trigger));
        json_object_set_new(j, "trigger_date",
                            l->trigger_at ? cu_json_time(l->trigger_at) : json_null());
    }
    if (!l->granted)
        json_object_set_new(j, "earliest_erasure",
                            l->earliest ? cu_json_time(l->earliest) : json_null());
    else
        json_object_set_new(j, "needs_approval", json_boolean(l->needs_approval));
    return j;
}

json_t *cu_erasure_json(const cu_erasure_result *r)
{
    json_t *erased = json_array(), *kept = json_array();
    for (size_t i = 0; i < r->n; i++)
        json_array_append_new(r->lines[i].granted ? erased : kept, line_json(&r->lines[i]));
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:o, s:s, s:b, s:o, s:o}", "format",
        r->executed ? "custos-erasure-certificate/1" : "custos-erasure-plan/1", "subject",
        r->subject_id, "controller", r->controller_id, "kind", r->kind, "policy_version",
        (json_int_t)r->policy_version, "decided_at", cu_json_time(r->decided_at),
        "plan_digest", r->digest, "executed", r->executed,
        r->executed ? "erased" : "to_erase", erased, r->executed ? "kept" : "to_keep", kept);
    json_object_set_new(j, "health_approval_needed", json_boolean(r->napproval > 0));
    if (r->executed) {
        json_object_set_new(j, "executed_at", cu_json_time(r->executed_at));
        json_object_set_new(j, "method",
                            json_string(r->whole_subject
                                            ? "whole-subject crypto-shredding: data key "
                                              "destroyed, items and blind indexes deleted"
                                            : "item-level crypto-shredding: kept items "
                                              "re-encrypted under a new data key, old key "
                                              "destroyed, erased items and blind indexes "
                                              "deleted"));
        if (!r->whole_subject)
            json_object_set_new(j, "key_version", json_integer(r->key_version));
        json_object_set_new(j, "ledger_entry", json_integer(r->ledger_seq));
        json_object_set_new(j, "health_approval",
                            r->health_approved
                                ? json_pack("{s:s, s:s}", "approved_by", r->approved_by,
                                            "plan_digest", r->digest)
                                : json_null());
        /* Art 19: the recipients of earlier disclosures of what was erased,
         * from the disclosure log, to be told of the erasure. */
        json_t *rs = json_array();
        for (size_t i = 0; i < r->nrecipients; i++) {
            const struct cu_erasure_recipient *x = &r->recipients[i];
            json_array_append_new(
                rs, json_pack("{s:s?, s:s?, s:s, s:o, s:I}", "recipient_id",
                              x->recipient_id[0] ? x->recipient_id : NULL, "organisation",
                              x->name[0] ? x->name : NULL, "channel", x->channel,
                              "disclosed_at", cu_json_time(x->disclosed_at), "items_erased",
                              (json_int_t)x->items_erased));
        }
        json_object_set_new(j, "recipients_to_notify", rs);
    }
    return j;
}

static void md_time(FILE *f, int64_t us)
{
    char t[CU_TIME_STRLEN];
    cu_time_format(us, t);
    fprintf(f, "%.10s", t);
}

void cu_erasure_md(FILE *f, const cu_erasure_result *r)
{
    char t[CU_TIME_STRLEN];
    fprintf(f, "# %s\n\n", r->executed ? "Certificate of erasure" : "Erasure plan");
    fprintf(f, "- Subject: `%s` (%s)\n- Controller: `%s`\n- Policy version: %lld\n",
            r->subject_id, r->kind, r->controller_id, (long long)r->policy_version);
    cu_time_format(r->decided_at, t);
    fprintf(f, "- Decided: %s\n- Plan digest: `%s`\n", t, r->digest);
    if (r->executed) {
        cu_time_format(r->executed_at, t);
        fprintf(f, "- Executed: %s (erasure ledger entry %lld)\n", t, (long long)r->ledger_seq);
        fprintf(f, "- Method: %s\n",
                r->whole_subject ? "whole-subject crypto-shredding (data key destroyed)"
                                 : "item-level crypto-shredding (kept items re-encrypted "
                                   "under a new data key; the old key destroyed)");
        if (r->health_approved)
            fprintf(f, "- Health data erasure approved by: %s\n", r->approved_by);
    } else if (r->napproval) {
        fprintf(f, "- Health or genetic items would be erased: the DPO approves with "
                   "`custos erasure execute %s --approve-health %s`\n",
                r->subject_id, r->digest);
    }
    for (int pass = 0; pass < 2; pass++) {
        fprintf(f, "\n## %s\n\n", pass == 0 ? (r->executed ? "Erased" : "To erase")
                                            : (r->executed ? "Kept" : "To keep"));
        bool any = false;
        for (size_t i = 0; i < r->n; i++) {
            const cu_erasure_line *l = &r->lines[i];
            if (l->granted != (pass == 0))
                continue;
            any = true;
            fprintf(f, "- `%s` %s (%s): %s", l->id, l->field, l->category, l->reason);
            if (l->rule[0])
                fprintf(f, ", rule %s (trigger %s)", l->rule, l->trigger);
            if (!l->granted && l->earliest) {
                fputs(", erasure possible from ", f);
                md_time(f, l->earliest);
            }
            fputc('\n', f);
        }
        if (!any)
            fputs("- none\n", f);
    }
    if (r->executed) {
        fputs("\n## Recipients to notify (Art 19)\n\n", f);
        for (size_t i = 0; i < r->nrecipients; i++) {
            const struct cu_erasure_recipient *x = &r->recipients[i];
            fprintf(f, "- %s (by %s, ", x->name[0] ? x->name : x->recipient_id, x->channel);
            md_time(f, x->disclosed_at);
            if (x->items_erased)
                fprintf(f, "): %zu erased item(s) disclosed\n", x->items_erased);
            else
                fputs("): erased categories disclosed\n", f);
        }
        if (!r->nrecipients)
            fputs("- none: no disclosure of what was erased is recorded\n", f);
    }
}

