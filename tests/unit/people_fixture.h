/*
 * people_fixture.h — the patients and staff the unit tests of a vault
 * fixture (vault_fixture.h) add: add_subject(f, nhs, id) a patient "Test
 * Person" with that NHS number under f->ctl; staff(f, name, role, id) an
 * account with the password FIXTURE_PASSWORD, returned as the actor it
 * acts as (purpose direct_care). Both fail the test when the store refuses.
 * Include after cmocka.h and vault_fixture.h.
 */
#ifndef CUSTOS_TESTS_PEOPLE_FIXTURE_H
#define CUSTOS_TESTS_PEOPLE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "domain/input.h"
#include "domain/staff.h"
#include "domain/subject.h"

#define FIXTURE_PASSWORD "correct horse battery staple"

static inline int fixture_subject(cu_vault *v, const char *ctl, const char *nhs,
                                  char id[CU_ID_STRLEN], cu_err *err)
{
    char doc[128];
    snprintf(doc, sizeof doc, "{\"name\": \"Test Person\", \"nhs_number\": \"%s\"}", nhs);
    cu_doc d;
    int rc = cu_doc_parse(doc, strlen(doc), CU_DOC_SUBJECT, &d, err);
    if (rc)
        return rc;
    cu_actor care = OPERATOR;
    care.purpose = "direct_care";
    rc = cu_subject_add(v, &care, ctl, "patient", &d, id, err);
    cu_doc_release(&d);
    return rc;
}
#define add_subject(f, nhs, id) OK(f, fixture_subject((f)->v, (f)->ctl, (nhs), (id), &(f)->err))

static inline cu_actor fixture_staff(cu_vault *v, const char *ctl, const char *name,
                                     const char *role, char id[CU_ID_STRLEN], cu_err *err)
{
    char b32[CU_TOTP_B32_LEN];
    cu_err_clear(err);
    int rc = cu_user_add(v, &OPERATOR, ctl, name, role, FIXTURE_PASSWORD,
                         strlen(FIXTURE_PASSWORD), false, id, b32, err);
    CHECK(rc == CU_OK, "adding %s: %s (%d)", name, err->msg, rc);
    return (cu_actor){.name = name, .role = role, .purpose = "direct_care", .via = "unit test",
                      .controller_id = ctl, .user_id = id};
}
#define staff(f, name, role, id) fixture_staff((f)->v, (f)->ctl, (name), (role), (id), &(f)->err)

#endif
