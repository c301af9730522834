/*
 * testdir.h — scratch directories for unit tests: made under /tmp, removed
 * with everything in them.
 */
#ifndef CUSTOS_TESTS_TESTDIR_H
#define CUSTOS_TESTS_TESTDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int testdir_rm_one(const char *p, const struct stat *sb, int flag,
                                 struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Removes dir and everything below it. */
static inline void testdir_remove(const char *dir)
{
    nftw(dir, testdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new directory /tmp/custos-test-NAME-XXXXXX (malloc'd), or NULL. */
static inline char *testdir_make(const char *name)
{
    char tmpl[128];
    snprintf(tmpl, sizeof tmpl, "/tmp/custos-test-%s-XXXXXX", name);
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

/* cmocka fixtures: *state is a new scratch directory (a malloc'd path). */
static inline int testdir_setup(void **state)
{
    *state = testdir_make("unit");
    return *state ? 0 : -1;
}

static inline int testdir_teardown(void **state)
{
    testdir_remove(*state);
    free(*state);
    return 0;
}

/* dir/name into out, which must be large enough. */
static inline void testdir_path(char *out, size_t n, const char *dir, const char *name)
{
    int w = snprintf(out, n, "%s/%s", dir, name);
    assert_true(w > 0 && (size_t)w < n);
}

#endif
