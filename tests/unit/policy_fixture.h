/*
 * policy_fixture.h — applies tests/data/test-policy.json (purposes
 * direct_care, administration, care_administration and reporting over every
 * category and kind) to a controller, so tests about other rules run under a
 * policy that allows them.
 */
#ifndef CUSTOS_TESTS_POLICY_FIXTURE_H
#define CUSTOS_TESTS_POLICY_FIXTURE_H

#include <stdio.h>

#include "domain/consent.h"
#include "util/file.h"

static inline int test_policy_apply(cu_vault *v, const cu_actor *a, const char *controller_id,
                                    cu_err *err)
{
    FILE *f = fopen(CUSTOS_SOURCE_ROOT "/tests/data/test-policy.json", "rb");
    if (!f)
        return cu_err_set(err, CU_EIO, "cannot open tests/data/test-policy.json");
    cu_buf doc;
    cu_buf_init(&doc, CU_POLICY_MAX_BYTES + 1);
    int rc = cu_read_stream(f, CU_POLICY_MAX_BYTES, &doc, err);
    fclose(f);
    int64_t version;
    bool changed;
    if (!rc)
        rc = cu_policy_apply(v, a, controller_id, doc.data, doc.len, NULL, &version, &changed,
                             err);
    cu_buf_release(&doc);
    return rc;
}

#endif
