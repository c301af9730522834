/*
 * wording.c — the words shared by the generated documents (wording.h).
 */
#include "iface/wording.h"

#include <stdio.h>

/* UK GDPR Article 6(1), a to f. */
static const struct {
    const char *name, *explained;
} bases[6] = {
    {"consent", "you have given us your consent to use your personal data for this purpose."},
    {"contract", "we need to use your personal data for a contract we have with you, or "
                 "because you asked us to take steps before entering into one."},
    {"legal obligation", "we need to use your personal data to comply with the law."},
    {"vital interests", "we need to use your personal data to protect someone's life."},
    {"public task", "we need to use your personal data to perform a task in the public "
                    "interest or for our official functions, which have a clear basis in "
                    "law."},
    {"legitimate interests", "we need to use your personal data for our legitimate interests "
                             "(or those of others), and your interests and rights do not "
                             "override them."},
};

/* UK GDPR Article 9(2), a to j. */
static const struct {
    const char *plain, *formal;
} conditions[10] = {
    {"explicit consent", "explicit consent"},
    {"employment, social security and social protection law",
     "employment, social security and social protection"},
    {"vital interests", "vital interests"},
    {"the activities of a not-for-profit body", "not-for-profit bodies"},
    {"information you have made public", "made public by the data subject"},
    {"legal claims and the courts", "legal claims or judicial acts"},
    {"substantial public interest", "substantial public interest"},
    {"health or social care", "health or social care"},
    {"public health", "public health"},
    {"archiving, research and statistics", "archiving, research or statistics"},
};

#define IN(c, first, last) ((c) >= (first) && (c) <= (last))

const char *cu_wording_basis(char basis)
{
    return IN(basis, 'a', 'f') ? bases[basis - 'a'].name : "unknown";
}

const char *cu_wording_basis_explained(char basis)
{
    return IN(basis, 'a', 'f') ? bases[basis - 'a'].explained : "";
}

const char *cu_wording_special(char condition)
{
    return IN(condition, 'a', 'j') ? conditions[condition - 'a'].plain : "unknown";
}

const char *cu_wording_special_formal(char condition)
{
    return IN(condition, 'a', 'j') ? conditions[condition - 'a'].formal : "unknown";
}

const char *cu_wording_basis_ref(char basis, char ref[CU_WORDING_REF_LEN])
{
    snprintf(ref, CU_WORDING_REF_LEN, "UK GDPR Article 6(1)(%c)", basis);
    return ref;
}

const char *cu_wording_special_ref(char condition, char ref[CU_WORDING_REF_LEN])
{
    snprintf(ref, CU_WORDING_REF_LEN, "UK GDPR Article 9(2)(%c)", condition);
    return ref;
}

const char *cu_wording_ordinal_suffix(int n)
{
    int m100 = n % 100, m10 = n % 10;
    if (m100 >= 11 && m100 <= 13)
        return "th";
    return m10 == 1 ? "st" : m10 == 2 ? "nd" : m10 == 3 ? "rd" : "th";
}

size_t cu_wording_period(const cu_pol_retention *r, cu_wording_style style, char *out,
                         size_t outsz)
{
    const struct {
        int n;
        const char *one, *many;
    } parts[3] = {{r->years, "year", "years"},
                  {r->months, "month", "months"},
                  {r->days, "day", "days"}};
    int count = 0, total = 0;
    for (int i = 0; i < 3; i++)
        total += parts[i].n > 0;
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < 3; i++) {
        if (parts[i].n <= 0)
            continue;
        const char *sep = count == 0               ? ""
                        : style == CU_WORDING_COMPACT ? " "
                        : count == total - 1       ? " and "
                                                   : ", ";
        int k = snprintf(out + used, outsz - used, "%s%d %s", sep, parts[i].n,
                         parts[i].n == 1 ? parts[i].one : parts[i].many);
        if (k < 0 || (size_t)k >= outsz - used)
            break;
        used += (size_t)k;
        count++;
    }
    return used;
}

bool cu_wording_category_special(cu_category c)
{
    return c == CU_CAT_HEALTH || c == CU_CAT_GENETIC || c == CU_CAT_SPECIAL;
}

unsigned cu_wording_declared_kinds(const cu_policy *p)
{
    unsigned k = 0;
    for (size_t i = 0; i < p->npurposes; i++)
        k |= p->purposes[i].kinds;
    return k;
}

unsigned cu_wording_purpose_categories(const cu_policy *p, const cu_pol_purpose *u)
{
    return u->builtin ? p->collected : u->categories;
}

unsigned cu_wording_purpose_kinds(const cu_policy *p, const cu_pol_purpose *u)
{
    return u->builtin ? cu_wording_declared_kinds(p) : u->kinds;
}
