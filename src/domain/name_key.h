/*
 * name_key.h — the normalised family name of the blind index of (family
 * name, date of birth): the search a clinician makes when they have no NHS
 * number. Pure functions; subject.c keeps the index.
 *
 * The rules, applied to the stored name and to a search alike:
 *   - letters are compared without case, and the accented Latin letters of
 *     Latin-1 and Latin Extended-A (U+00C0-U+017F) as their base letters:
 *     "Zoë" is "zoe", "Łukasz" "lukasz"; "ß" is "ss", "Æ" "ae", "Œ" "oe",
 *     "Þ" "th", "Ĳ" "ij";
 *   - apostrophes (' U+2018 U+2019 U+02BC) are dropped: "O'Brien" is "obrien";
 *   - hyphens and dashes (- U+2010-U+2015), full stops, white space and
 *     no-break spaces separate words, one space however many: "Smith-Jones"
 *     and "Smith  Jones" are "smith jones"; spaces at either end go;
 *   - letters of other scripts (U+0180 and above) are kept as they are;
 *     digits, other punctuation and control characters are dropped.
 * A stored name's family name is its last word, and its last two and last
 * three words when it has more words than that ("Ludwig van Beethoven":
 * "beethoven" and "van beethoven"); a name of one word is its own family
 * name. So a search for a family name with a particle or a double-barrelled
 * one finds it, as does a search for its last part.
 */
#ifndef CUSTOS_DOMAIN_NAME_KEY_H
#define CUSTOS_DOMAIN_NAME_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* The longest normalised family name (bytes, without the NUL). */
#define CU_FAMILY_MAX 200
/* Family names one stored name gives (the last one, two and three words). */
#define CU_FAMILY_KEYS 3
/* A key of the index: a normalised family name, '|', and a date of birth. */
#define CU_NAME_BIRTH_KEY_MAX (CU_FAMILY_MAX + 12)

/* Normalises s (n bytes of UTF-8) by the rules above into out (cap bytes,
 * NUL-terminated). CU_EINVAL when nothing is left, it is not UTF-8, it is
 * longer than CU_FAMILY_MAX once normalised, or (search) it has more than
 * CU_FAMILY_KEYS words. */
CU_MUST_USE int cu_family_normalise(const char *s, size_t n, char *out, size_t cap,
                                    cu_err *err);

/* The family names of a whole stored name (n bytes) into keys; their
 * number (0 when the name normalises to nothing). */
size_t cu_family_keys(const char *name, size_t n, char keys[CU_FAMILY_KEYS][CU_FAMILY_MAX + 1]);

/* The index key of family (normalised) and birth (YYYY-MM-DD) into out;
 * its length. */
size_t cu_name_birth_key(const char *family, const char *birth, char out[CU_NAME_BIRTH_KEY_MAX]);

#endif
