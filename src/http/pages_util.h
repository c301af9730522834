/*
 * pages_util.h — pure helpers of the staff console's pages (console.c).
 */
#ifndef CUSTOS_HTTP_PAGES_UTIL_H
#define CUSTOS_HTTP_PAGES_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* A relative reference from the page at from_path (an absolute path such as
 * "/staff/tasks") to the absolute path to ("/staff/patients/X"): one "../"
 * for each segment of from_path but the last, then to without its leading
 * '/' ("../staff/patients/X"). So links, form actions and redirects work
 * under a proxy that serves custos below a path. False (out "") when either
 * is not an absolute path, from_path has more than 16 segments or out is too
 * small. */
bool cu_path_relative(const char *from_path, const char *to, char *out, size_t cap);

/* A page number of a listing: 1 to max, digits only, no leading zero; NULL
 * is page 1. False for anything else. */
bool cu_page_number(const char *s, long max, long *out);

#endif
