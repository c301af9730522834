/*
 * jpath.h — JSON paths for the strict document parsers' one-line errors
 * ("item[3].answerOption[1].valueCoding.code: required"): the questionnaire,
 * the questionnaire response and the follow-up pathway.
 *
 * A path longer than CU_JPATH_LEN - 1 bytes ends in "...". A member's name
 * from the document goes into a path only when it is plain (printable ASCII,
 * at most 64 bytes), since the path goes into a message.
 */
#ifndef CUSTOS_DOMAIN_JPATH_H
#define CUSTOS_DOMAIN_JPATH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define CU_JPATH_LEN 256

/* base.key ("key" when base is ""). */
void cu_jpath_key(char out[CU_JPATH_LEN], const char *base, const char *key);
/* base.key[i]. */
void cu_jpath_idx(char out[CU_JPATH_LEN], const char *base, const char *key, size_t i);
/* The first member of the object o whose name is not in allowed
 * (NULL-terminated): true, with its path under path in out (the name, or
 * "(a member with an unusual name)"); false when every member is allowed. */
bool cu_jpath_unknown(json_t *o, const char *const *allowed, const char *path,
                      char out[CU_JPATH_LEN]);
/* The parsers' one-line error: CU_EINVAL, "PATH: what" ("(document)" for the
 * empty path). */
int cu_jpath_error(cu_err *err, const char *path, const char *what);
/* CU_OK when every member of o is in allowed, else CU_EINVAL
 * "PATH.member: not allowed here" (cu_jpath_unknown). */
int cu_jpath_members(cu_err *err, json_t *o, const char *const *allowed, const char *path);

#endif
