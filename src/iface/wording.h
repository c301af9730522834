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

#include <stddef.h>

#include "domain/policy.h"

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

#endif
