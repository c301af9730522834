/*
 * wording.h — the words the documents generated from a policy share (the
 * privacy notice, the record of processing and the consent receipt), so a
 * lawful basis or an Article 9(2) condition is named in one place:
 *   - the lawful bases of UK GDPR Article 6(1), a to f;
 *   - the conditions of Article 9(2), a to j, in plain words (the notice) and
 *     in the terms of the Article (the record of processing);
 *   - the references to both Articles, as "UK GDPR Article 6(1)(a)";
 *   - a retention period in words, and what a purpose covers.
 * Every function depends on its arguments alone.
 */
#ifndef CUSTOS_IFACE_WORDING_H
#define CUSTOS_IFACE_WORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/policy.h"
#include "util/clock.h"

/* "consent", "contract", ... for basis a to f; "unknown" otherwise. */
const char *cu_wording_basis(char basis);
/* The basis explained to the subject, a full sentence ("" when unknown). */
const char *cu_wording_basis_explained(char basis);

/* An Article 9(2) condition, a to j ("unknown" otherwise): plain words for
 * the subject ("information you have made public") ... */
const char *cu_wording_special(char condition);
/* ... or close to the Article's own ("made public by the data subject"). */
const char *cu_wording_special_formal(char condition);

/* "UK GDPR Article 6(1)(a)" and "UK GDPR Article 9(2)(h)", written into ref,
 * which is returned. */
#define CU_WORDING_REF_LEN 32
const char *cu_wording_basis_ref(char basis, char ref[CU_WORDING_REF_LEN]);
const char *cu_wording_special_ref(char condition, char ref[CU_WORDING_REF_LEN]);

/* "st", "nd", "rd" or "th", for "25th". */
const char *cu_wording_ordinal_suffix(int n);

/* A retention rule's period (years, months, days; the parts that are not
 * zero): listed, "1 year, 6 months and 2 days", or compact, "1 year 6 months
 * 2 days". Returns the length written, 0 for a period of zero (out ""). */
typedef enum cu_wording_style { CU_WORDING_LISTED, CU_WORDING_COMPACT } cu_wording_style;
size_t cu_wording_period(const cu_pol_retention *r, cu_wording_style style, char *out,
                         size_t outsz);

/* True for the special categories of data (health, genetic, special). */
bool cu_wording_category_special(cu_category c);

/* The subject kinds of every declared purpose. */
unsigned cu_wording_declared_kinds(const cu_policy *p);
/* The categories and subject kinds a purpose covers: for the built-in one,
 * everything the controller collects and every kind it declares. */
unsigned cu_wording_purpose_categories(const cu_policy *p, const cu_pol_purpose *u);
unsigned cu_wording_purpose_kinds(const cu_policy *p, const cu_pol_purpose *u);

/* ---- the words a subject reads (the access letter, the certificate) ----
 * Every identifier the store can hold in these places has words here; the
 * functions that take a name return NULL for a name they do not know, so a
 * caller chooses the fallback and no identifier reaches a reader (the unit
 * tests walk every registered name). */

/* The words of id in a table of n pairs; NULL when id (or NULL) is not in
 * it. CU_WORDING_LOOKUP takes an array, its size counted. */
typedef struct cu_wording_pair {
    const char *id, *words;
} cu_wording_pair;
const char *cu_wording_lookup(const cu_wording_pair *t, size_t n, const char *id);
#define CU_WORDING_LOOKUP(t, id) cu_wording_lookup(t, sizeof(t) / sizeof((t)[0]), id)

/* "contact details", "health information", ... (lower case); NULL when
 * c is not a category. */
const char *cu_wording_category(int c);
/* The categories of a mask in words: "contact details, identifying details
 * and health information"; 0 (out "") for none. */
size_t cu_wording_categories(unsigned mask, char *out, size_t outsz);
/* A comma-separated list of category names ("contact,identifying") as a
 * mask; unknown names are skipped. */
unsigned cu_wording_category_mask(const char *csv);
/* "you", "our staff", ...: who supplied a value; NULL when unknown. */
const char *cu_wording_source(const char *source);
/* A field name in words: the well-known fields from a table ("birth_date":
 * "Date of birth", "nhs_number": "NHS number"), any other name with its
 * separators as spaces and a capital first letter ("next_of_kin": "Next of
 * kin"). Returns the length written. */
size_t cu_wording_field(const char *field, char *out, size_t outsz);
/* What an audit action did, as a phrase after "tried to" or as a column
 * ("look at your record"); NULL for an action that is not registered. */
const char *cu_wording_action(const char *action);
/* A role (or "clinician,dpo") with its article: "a clinician", "our Data
 * Protection Officer", "a clinician who is also our Data Protection Officer";
 * 0 and out "" when a name is unknown. */
size_t cu_wording_role(const char *roles, char *out, size_t outsz);
/* An access log outcome in words ("allowed", "refused", ...); NULL when
 * unknown. */
const char *cu_wording_outcome(const char *outcome);
/* Why an access was refused, a clause after "because": "they are not on
 * your care team's list"; NULL for a rule that is not registered. */
const char *cu_wording_rule(const char *rule);
/* A purpose the staff's roles state without a policy purpose of that name
 * ("direct_care": "your care"); NULL when unknown. */
const char *cu_wording_builtin_purpose(const char *purpose);
/* How a consent was given or withdrawn ("web_form": "on a web form"),
 * and how data was disclosed ("letter": "by letter"); NULL when unknown. */
const char *cu_wording_consent_method(const char *method);
const char *cu_wording_channel(const char *channel);
/* A rights request's kind ("access": "a copy of your data") and state
 * ("awaiting_identity": "waiting for proof of your identity"); NULL when
 * unknown. */
const char *cu_wording_request_kind(const char *kind);
const char *cu_wording_request_state(const char *state);
/* The retention rule's period in words: "kept for 8 years after your last
 * contact with the service". */
void cu_wording_retention(const cu_pol_retention *r, char *out, size_t outsz);

/* UK civil time (Europe/London): GMT, and BST (UTC+1) from 01:00 UTC on the
 * last Sunday of March to 01:00 UTC on the last Sunday of October. */
typedef struct cu_uk_time {
    int year, month, day, hour, minute;
    bool bst;
} cu_uk_time;
cu_uk_time cu_wording_uk_time(int64_t us);
/* "6 December 2026" for a calendar date; "an unknown date" for a month out
 * of range. */
void cu_wording_day(cu_date d, char *out, size_t outsz);
/* "6 December 2026" (the UK date); "-" for 0. */
void cu_wording_date(int64_t us, char *out, size_t outsz);
/* "6 December 2026, 14:05" (UK time); "-" for 0. */
void cu_wording_time(int64_t us, char *out, size_t outsz);
/* "943 476 5919" for a valid NHS number (cu_nhs_parse: spaces and hyphens
 * ignored); 0 otherwise. */
size_t cu_wording_nhs_number(const char *value, char *out, size_t outsz);

#endif
