/*
 * model.h — the vocabulary of the data model (DESIGN.md glossary) as validated
 * names: subject kinds, item categories, sources, audit actions, well-known
 * fields. Everything here is pure and allocation-free.
 */
#ifndef CUSTOS_DOMAIN_MODEL_H
#define CUSTOS_DOMAIN_MODEL_H

#include <stdbool.h>
#include <stddef.h>

/* Limits on input, documented in docs/cli.md. */
#define CU_MAX_INPUT_BYTES ((size_t)1 << 20) /* one JSON document */
#define CU_MAX_VALUES 1000                   /* values in one document */
#define CU_MAX_VALUE_BYTES ((size_t)64 << 10) /* one value */
#define CU_MAX_NAME_BYTES 64                 /* field, purpose, actor names */
#define CU_MAX_CONTROLLER_NAME 200

typedef enum cu_category {
    CU_CAT_CONTACT,
    CU_CAT_IDENTIFYING,
    CU_CAT_HEALTH,
    CU_CAT_GENETIC,
    CU_CAT_SPECIAL,
    CU_CAT_FAMILY,
    CU_CAT_WORK_EDU_FIN,
    CU_CAT_ONLINE_ID,
    CU_CAT_COUNT
} cu_category;

/* "contact", "identifying", ...; -1 when unknown. */
int cu_category_from_name(const char *s);
const char *cu_category_name(cu_category c);
/* "contact, identifying, ..." — for error messages. */
const char *cu_category_list(void);
/* Writes the names of the categories in mask, comma-separated, into out. */
void cu_category_mask_names(unsigned mask, char *out, size_t outsz);

bool cu_subject_kind_valid(const char *s);
/* Subject kinds as bits (patient, web_user, employee, other): 1u << index;
 * 0 when unknown. cu_subject_kind_at(i) names bit i, NULL past the end. */
#define CU_KIND_COUNT 4u
unsigned cu_subject_kind_bit(const char *s);
const char *cu_subject_kind_at(unsigned i);
/* Who supplied a value: subject, staff, nhs_organisation, local_authority,
 * other_organisation, national_source. */
bool cu_source_valid(const char *s);
const char *cu_source_list(void);
/* Sources as bits, in the order listed above; 0 when unknown. */
#define CU_SOURCE_COUNT 6u
unsigned cu_source_bit(const char *s);
const char *cu_source_at(unsigned i);

/* [a-z][a-z0-9_.-]{0,63}: field names, purposes, roles. Names are schema and
 * must never carry personal data. */
bool cu_name_valid(const char *s);
/* "psn_" and 32 lower-case hex digits. */
bool cu_pseudonym_valid(const char *s);
/* Printable ASCII without spaces, 1-64 bytes: actor names. */
bool cu_actor_valid(const char *s);

/* A field with a fixed meaning: its category and, for identifiers, the kind
 * of blind index kept for exact-match search. */
typedef struct cu_known_field {
    const char *field;
    cu_category category;
    const char *ident_kind; /* NULL when not searchable */
} cu_known_field;

/* The well-known top-level fields of a subject document (name, birth_date,
 * address, postcode, nhs_number, email, phone, local_ref); NULL for others. */
const cu_known_field *cu_known_field_find(const char *field);
const cu_known_field *cu_known_field_at(size_t i);

#endif
