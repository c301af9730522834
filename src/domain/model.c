#include "domain/model.h"

#include <string.h>

static const char *const categories[CU_CAT_COUNT] = {
    [CU_CAT_CONTACT] = "contact",
    [CU_CAT_IDENTIFYING] = "identifying",
    [CU_CAT_HEALTH] = "health",
    [CU_CAT_GENETIC] = "genetic",
    [CU_CAT_SPECIAL] = "special_category",
    [CU_CAT_FAMILY] = "family",
    [CU_CAT_WORK_EDU_FIN] = "workplace_education_financial",
    [CU_CAT_ONLINE_ID] = "online_identifier",
};

int cu_category_from_name(const char *s)
{
    for (int i = 0; i < CU_CAT_COUNT; i++)
        if (strcmp(s, categories[i]) == 0)
            return i;
    return -1;
}

const char *cu_category_name(cu_category c)
{
    return (unsigned)c < CU_CAT_COUNT ? categories[c] : "unknown";
}

const char *cu_category_list(void)
{
    return "contact, identifying, health, genetic, special_category, family, "
           "workplace_education_financial, online_identifier";
}

void cu_category_mask_names(unsigned mask, char *out, size_t outsz)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < CU_CAT_COUNT; i++) {
        if (!(mask & (1u << i)))
            continue;
        size_t n = strlen(categories[i]);
        if (used + n + 2 > outsz)
            break;
        if (used)
            out[used++] = ',';
        memcpy(out + used, categories[i], n + 1);
        used += n;
    }
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static const char *const kinds[] = {"patient", "web_user", "employee", "other", NULL};

bool cu_subject_kind_valid(const char *s)
{
    return in_list(s, kinds);
}

static unsigned bit_in_list(const char *s, const char *const *list)
{
    for (unsigned i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return 1u << i;
    return 0;
}

unsigned cu_subject_kind_bit(const char *s)
{
    return bit_in_list(s, kinds);
}

const char *cu_subject_kind_at(unsigned i)
{
    return i < CU_KIND_COUNT ? kinds[i] : NULL;
}

static const char *const sources[] = {"subject",         "staff",
                                      "nhs_organisation", "local_authority",
                                      "other_organisation", "national_source", NULL};

bool cu_source_valid(const char *s)
{
    return in_list(s, sources);
}

unsigned cu_source_bit(const char *s)
{
    return bit_in_list(s, sources);
}

const char *cu_source_at(unsigned i)
{
    return i < CU_SOURCE_COUNT ? sources[i] : NULL;
}

const char *cu_source_list(void)
{
    return "subject, staff, nhs_organisation, local_authority, other_organisation, "
           "national_source";
}

bool cu_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CU_MAX_NAME_BYTES || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return false;
    }
    return true;
}

bool cu_pseudonym_valid(const char *s)
{
    if (strncmp(s, "psn_", 4) != 0 || strlen(s) != 36)
        return false;
    for (size_t i = 4; i < 36; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool cu_actor_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CU_MAX_NAME_BYTES)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

static const cu_known_field known[] = {
    {"name", CU_CAT_CONTACT, NULL},
    {"birth_date", CU_CAT_IDENTIFYING, NULL},
    {"address", CU_CAT_CONTACT, NULL},
    {"postcode", CU_CAT_CONTACT, NULL},
    {"nhs_number", CU_CAT_IDENTIFYING, "nhs_number"},
    {"email", CU_CAT_CONTACT, "email"},
    {"phone", CU_CAT_CONTACT, "phone"},
    {"local_ref", CU_CAT_IDENTIFYING, "local_ref"},
};

const cu_known_field *cu_known_field_find(const char *field)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(field, known[i].field) == 0)
            return &known[i];
    return NULL;
}

const cu_known_field *cu_known_field_at(size_t i)
{
    return i < sizeof known / sizeof known[0] ? &known[i] : NULL;
}
