/*
 * vault_fixture.h — what the unit tests of operations behind the vault's
 * choke point share: assertions that show the error message, the operator
 * they act as, and a fresh store under /tmp with one controller under the
 * test policy (policy_fixture.h).
 *
 * A fixture struct has at least: char root[64], store[PATH_MAX],
 * db[PATH_MAX + 16]; cu_vault *v; cu_err err; char ctl[CU_ID_STRLEN].
 */
#ifndef CUSTOS_TESTS_VAULT_FIXTURE_H
#define CUSTOS_TESTS_VAULT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/recover.h"
#include "domain/vault.h"
#include "policy_fixture.h"
#include "util/err.h"

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fail_msg(__VA_ARGS__);                                                          \
    } while (0)

/* Asserts a call returned CU_OK, showing the error message otherwise. */
#define OK(f, call)                                                                         \
    do {                                                                                    \
        cu_err_clear(&(f)->err);                                                            \
        int rc_ = (call);                                                                   \
        CHECK(rc_ == CU_OK, "%s: %s (%d)", #call, (f)->err.msg, rc_);                       \
    } while (0)

/* Asserts a call returned want_ and filled err as err.h promises. */
#define FAILS(f, want_, call)                                                               \
    do {                                                                                    \
        cu_err_clear(&(f)->err);                                                            \
        int rc_ = (call);                                                                   \
        CHECK(rc_ == (want_), "%s: got %s (%s), want %s", #call,                            \
              cu_status_name((cu_status)rc_), (f)->err.msg, cu_status_name(want_));         \
        /* err.h: a failure fills err with the same code and a one-line message. */         \
        CHECK((f)->err.code == (cu_status)(want_) && (f)->err.msg[0] &&                     \
                  !strchr((f)->err.msg, '\n'),                                              \
              "%s: err holds %s '%s'", #call, cu_status_name((f)->err.code), (f)->err.msg); \
    } while (0)

static const cu_actor OPERATOR = {.name = "tester", .role = "operator",
                                  .purpose = "administration", .via = "unit test"};

/* Makes root (/tmp/custos-test-NAME-XXXXXX), a store in root/store (its
 * database path in db), opens it into *v and adds the controller "Test NHS
 * Trust" (ctl) under the test policy. -1, with the message on stderr, when
 * any of it fails. */
static inline int vault_fixture_open(const char *name, char *root, size_t rootsz, char *store,
                                     size_t storesz, char *db, size_t dbsz, cu_vault **v,
                                     char ctl[CU_ID_STRLEN], cu_err *err)
{
    snprintf(root, rootsz, "/tmp/custos-test-%s-XXXXXX", name);
    if (!mkdtemp(root))
        return -1;
    snprintf(store, storesz, "%s/store", root);
    snprintf(db, dbsz, "%s/custos.db", store);
    cu_err_clear(err);
    if (cu_vault_init(store, NULL, err) != CU_OK || cu_vault_open(store, NULL, v, err) != CU_OK ||
        cu_controller_add(*v, &OPERATOR, "Test NHS Trust", ctl, err) != CU_OK ||
        test_policy_apply(*v, &OPERATOR, ctl, err) != CU_OK) {
        fprintf(stderr, "setup: %s\n", err->msg);
        return -1;
    }
    return 0;
}

/* vault_fixture_open for a fixture struct f. */
#define VAULT_FIXTURE_OPEN(f, name)                                                         \
    vault_fixture_open((name), (f)->root, sizeof(f)->root, (f)->store, sizeof(f)->store,    \
                       (f)->db, sizeof(f)->db, &(f)->v, (f)->ctl, &(f)->err)

#endif
