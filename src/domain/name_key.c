#include "domain/name_key.h"

#include <stdio.h>
#include <string.h>

/* The base letters of U+00C0-U+017F, in runs: NULL for a code point that is
 * not a letter (U+00D7, U+00F7). */
static const struct {
    unsigned from, to;
    const char *base;
} FOLD[] = {
    {0xC0, 0xC5, "a"}, {0xC6, 0xC6, "ae"}, {0xC7, 0xC7, "c"}, {0xC8, 0xCB, "e"},
    {0xCC, 0xCF, "i"}, {0xD0, 0xD0, "d"},  {0xD1, 0xD1, "n"}, {0xD2, 0xD6, "o"},
    {0xD7, 0xD7, NULL}, {0xD8, 0xD8, "o"}, {0xD9, 0xDC, "u"}, {0xDD, 0xDD, "y"},
    {0xDE, 0xDE, "th"}, {0xDF, 0xDF, "ss"}, {0xE0, 0xE5, "a"}, {0xE6, 0xE6, "ae"},
    {0xE7, 0xE7, "c"}, {0xE8, 0xEB, "e"},  {0xEC, 0xEF, "i"}, {0xF0, 0xF0, "d"},
    {0xF1, 0xF1, "n"}, {0xF2, 0xF6, "o"},  {0xF7, 0xF7, NULL}, {0xF8, 0xF8, "o"},
    {0xF9, 0xFC, "u"}, {0xFD, 0xFD, "y"},  {0xFE, 0xFE, "th"}, {0xFF, 0xFF, "y"},
    {0x100, 0x105, "a"}, {0x106, 0x10D, "c"}, {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},
    {0x11C, 0x123, "g"}, {0x124, 0x127, "h"}, {0x128, 0x131, "i"}, {0x132, 0x133, "ij"},
    {0x134, 0x135, "j"}, {0x136, 0x138, "k"}, {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},
    {0x14C, 0x151, "o"}, {0x152, 0x153, "oe"}, {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},
    {0x162, 0x167, "t"}, {0x168, 0x173, "u"}, {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
    {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
};

/* Decodes one UTF-8 code point at s (n bytes left): its length, 0 when the
 * bytes are not UTF-8 (overlong forms, surrogates and values past U+10FFFF
 * included). */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                           : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    unsigned v = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

typedef enum { K_DROP, K_SEP, K_KEEP, K_FOLD } cp_kind;

static cp_kind classify(unsigned cp, const char **fold)
{
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
        return K_KEEP;
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '-' || cp == '.' ||
        cp == 0xA0 || (cp >= 0x2010 && cp <= 0x2015))
        return K_SEP;
    if (cp == '\'' || cp == 0x2018 || cp == 0x2019 || cp == 0x2BC)
        return K_DROP;
    if (cp >= 0xC0 && cp <= 0x17F) {
        for (size_t i = 0; i < sizeof FOLD / sizeof FOLD[0]; i++)
            if (cp >= FOLD[i].from && cp <= FOLD[i].to) {
                *fold = FOLD[i].base;
                return FOLD[i].base ? K_FOLD : K_DROP;
            }
    }
    if (cp >= 0x180 && !(cp >= 0x2000 && cp <= 0x206F) && cp != 0xFEFF)
        return K_KEEP; /* other scripts' letters, as they are */
    return K_DROP;     /* digits, punctuation, symbols, controls, format characters */
}

/* Normalises s into out; words counted into *words. False when it is not
 * UTF-8 or does not fit. */
static bool normalise(const char *s, size_t n, char *out, size_t cap, size_t *words)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, i = 0;
    bool pending = false; /* a separator seen after a word */
    *words = 0;
    while (i < n) {
        unsigned cp;
        size_t len = utf8_next(p + i, n - i, &cp);
        if (!len)
            return false;
        const char *fold = NULL;
        cp_kind k = classify(cp, &fold);
        if (k == K_SEP) {
            pending = o > 0;
        } else if (k != K_DROP) {
            char one[4];
            const char *add = one;
            size_t alen = 1;
            if (k == K_FOLD) {
                add = fold;
                alen = strlen(fold);
            } else if (cp < 0x80) {
                one[0] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
            } else {
                add = (const char *)p + i;
                alen = len;
            }
            if (o == 0 || pending)
                (*words)++;
            if (o + (pending ? 1 : 0) + alen + 1 > cap)
                return false;
            if (pending)
                out[o++] = ' ';
            pending = false;
            memcpy(out + o, add, alen);
            o += alen;
        }
        i += len;
    }
    out[o] = '\0';
    return true;
}

int cu_family_normalise(const char *s, size_t n, char *out, size_t cap, cu_err *err)
{
    size_t words = 0;
    if (cap > CU_FAMILY_MAX + 1)
        cap = CU_FAMILY_MAX + 1;
    if (!normalise(s, n, out, cap, &words)) {
        out[0] = '\0';
        return cu_err_set(err, CU_EINVAL, "a family name is UTF-8 of at most %d letters",
                          CU_FAMILY_MAX);
    }
    if (words == 0)
        return cu_err_set(err, CU_EINVAL, "a family name needs letters");
    if (words > CU_FAMILY_KEYS)
        return cu_err_set(err, CU_EINVAL, "a family name has at most %d words",
                          CU_FAMILY_KEYS);
    return CU_OK;
}

size_t cu_family_keys(const char *name, size_t n, char keys[CU_FAMILY_KEYS][CU_FAMILY_MAX + 1])
{
    char all[4 * CU_FAMILY_MAX + 1];
    size_t words = 0;
    if (!normalise(name, n, all, sizeof all, &words) || words == 0)
        return 0;
    size_t most = words == 1 ? 1 : words - 1;
    if (most > CU_FAMILY_KEYS)
        most = CU_FAMILY_KEYS;
    size_t len = strlen(all), k = 0;
    for (size_t w = 1; w <= most; w++) {
        /* the start of the last w words */
        size_t start = len, seen = 0;
        while (start > 0) {
            if (all[start - 1] == ' ' && ++seen == w)
                break;
            start--;
        }
        if (len - start > CU_FAMILY_MAX)
            break;
        memcpy(keys[k], all + start, len - start);
        keys[k][len - start] = '\0';
        k++;
    }
    return k;
}

size_t cu_name_birth_key(const char *family, const char *birth, char out[CU_NAME_BIRTH_KEY_MAX])
{
    int n = snprintf(out, CU_NAME_BIRTH_KEY_MAX, "%s|%s", family, birth);
    return n < 0 ? 0 : (size_t)n < CU_NAME_BIRTH_KEY_MAX ? (size_t)n : CU_NAME_BIRTH_KEY_MAX - 1;
}
