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

/* Members shared by the JSON shapes of consent records, receipts and access
 * packages: a string (NULL: null); a time (cu_jw_time); a decrypted value
 * (empty: null); the names of the categories set in mask, as an array. */
void cu_jw_member(cu_jw *w, const char *key, const char *s);
void cu_jw_member_time(cu_jw *w, const char *key, int64_t us);
void cu_jw_member_buf(cu_jw *w, const char *key, const cu_buf *b);
void cu_jw_member_categories(cu_jw *w, const char *key, unsigned mask);
/* A purpose's "legal_basis" ("UK GDPR Article 6(1)(a)") and
 * "special_category_condition" ("UK GDPR Article 9(2)(h)", or null). */
void cu_jw_member_bases(cu_jw *w, const cu_pol_purpose *p);

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
