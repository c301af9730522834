/*
 * receipt.h — JSON shapes for consent records and for the findings of a
 * policy check, shared by the CLI and the HTTP API, and the consent receipt
 * given to the subject.
 *
 * The receipt follows the structure of ISO/IEC TS 27560:2023 (consent record
 * information structure): a header (schema, record id, the PII principal, the
 * notice and policy version the subject saw), the PII processing the consent
 * covers (purpose, lawful basis, categories of data, recipients, transfers,
 * retention), the parties (PII controller and DPO contacts), and the events
 * (every give and withdraw for this purpose, with time and method), plus how
 * to withdraw. docs/api.md lists the fields.
 */
#ifndef CUSTOS_IFACE_RECEIPT_H
#define CUSTOS_IFACE_RECEIPT_H

#include <jansson.h>
#include <stddef.h>

#include "domain/consent.h"
#include "domain/policy.h"
#include "util/jsonw.h"

/* One consent record: {"id", "purpose", "state", "method", "at",
 * "policy_version", "recorded_by", "evidence"}. */
void cu_jw_consent(cu_jw *w, const cu_consent_view *c);

/* The receipt for record c, whose history for the same purpose (oldest
 * first, c included) is events[0..n). p is the policy version the subject saw
 * when it is still available, else the current one, else NULL. */
void cu_jw_consent_receipt(cu_jw *w, const cu_consent_view *c, const cu_consent_view *events,
                           size_t n, const cu_policy *p);

/* The findings of a policy check: [{"severity", "path", "rule", "message"}]. */
json_t *cu_json_policy_findings(const cu_pol_report *rep);
/* The answer to a policy check: {"valid", "errors", "warnings", "findings"}. */
json_t *cu_json_policy_check(const cu_pol_report *rep);

#endif
