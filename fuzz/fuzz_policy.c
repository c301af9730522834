/*
 * fuzz_policy.c — cu_policy_parse (src/domain/policy.h) on arbitrary bytes.
 *
 * On success the policy must satisfy every rule the validator enforces
 * (docs/policy.md): indices in range, masks within the collected categories
 * and the known kinds and sources, ids valid and unique, strings non-empty, and
 * the lawful-basis rules (consent, special categories, marketing, public
 * authority, retention, cookies, roles) hold; the report then holds warnings
 * only. On failure the error must be CU_EINVAL/CU_ENOMEM with a non-empty
 * one-line message naming a JSON path, nothing is returned, and the report
 * holds at least one error. With and without a report the outcome is the same.
 */
#include <stdbool.h>
#include <string.h>

#include "domain/model.h"
#include "domain/policy.h"
#include "fuzz.h"

#define SPECIAL ((1u << CU_CAT_HEALTH) | (1u << CU_CAT_GENETIC) | (1u << CU_CAT_SPECIAL))
#define ALL_KINDS ((1u << CU_KIND_COUNT) - 1)
#define ALL_SOURCES ((1u << CU_SOURCE_COUNT) - 1)
#define CAP 256

/* NULL, or a non-empty string (reading it lets ASan catch a dangling one). */
static void opt_str(const char *s)
{
    if (s)
        CHECK(strlen(s) > 0);
}

static void req_str(const char *s)
{
    CHECK(s != NULL);
    opt_str(s);
}

static void one_line(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    CHECK(n > 0 && n < cap);
    for (size_t i = 0; i < n; i++)
        CHECK(s[i] >= 0x20 && s[i] < 0x7f);
}

static void check_party(const cu_pol_party *p, bool present)
{
    if (!present) {
        CHECK(!p->name && !p->address && !p->email && !p->phone && !p->website);
        return;
    }
    req_str(p->name);
    opt_str(p->address);
    opt_str(p->email);
    opt_str(p->phone);
    opt_str(p->website);
    CHECK(p->address || p->email || p->phone);
    CHECK(!p->email || strchr(p->email, '@'));
}

static void check_ids(const char *id, size_t i, const char *(*at)(const cu_policy *, size_t),
                      const cu_policy *p)
{
    CHECK(id && cu_name_valid(id));
    for (size_t k = 0; k < i; k++)
        CHECK(strcmp(at(p, k), id) != 0);
}

static const char *recipient_id(const cu_policy *p, size_t i) { return p->recipients[i].id; }
static const char *transfer_id(const cu_policy *p, size_t i) { return p->transfers[i].id; }
static const char *retention_id(const cu_policy *p, size_t i) { return p->retention[i].id; }
static const char *purpose_id(const cu_policy *p, size_t i) { return p->purposes[i].id; }

static void check_purpose(const cu_policy *p, size_t i)
{
    const cu_pol_purpose *pp = &p->purposes[i];
    check_ids(pp->id, i, purpose_id, p);
    CHECK(strcmp(pp->id, CU_PURPOSE_RIGHTS) != 0);
    CHECK(cu_policy_purpose(p, pp->id) == pp);
    CHECK(!pp->builtin);
    req_str(pp->description);
    CHECK(pp->basis >= 'a' && pp->basis <= 'f');
    char sc = pp->special_condition;
    CHECK(sc == 0 || (sc >= 'a' && sc <= 'j'));
    opt_str(pp->basis_detail);
    opt_str(pp->legitimate_interests);
    opt_str(pp->schedule1);
    CHECK(pp->categories != 0 && (pp->categories & ~p->collected) == 0);
    CHECK(pp->kinds != 0 && (pp->kinds & ~ALL_KINDS) == 0);
    /* The rules of lawful processing. */
    if (pp->categories & SPECIAL)
        CHECK(sc != 0);
    if (sc && strchr("bghij", sc))
        CHECK(pp->schedule1 != NULL);
    CHECK(pp->consent_required == (pp->basis == 'a' || sc == 'a'));
    CHECK(!(pp->consent_required && pp->required_for_service));
    if (pp->basis == 'f') {
        CHECK(pp->legitimate_interests != NULL);
        CHECK(!p->public_authority || pp->outside_public_tasks);
    }
    if (pp->direct_marketing)
        CHECK(pp->basis == 'a' || pp->basis == 'f');
    CHECK((pp->adm_logic == NULL) == (pp->adm_significance == NULL));
    opt_str(pp->adm_logic);
    opt_str(pp->adm_significance);
    CHECK(pp->nrecipients <= CAP && (pp->nrecipients == 0 || pp->recipients));
    for (size_t k = 0; k < pp->nrecipients; k++) {
        CHECK(pp->recipients[k] < p->nrecipients);
        for (size_t j = 0; j < k; j++)
            CHECK(pp->recipients[j] != pp->recipients[k]);
    }
    CHECK(pp->ntransfers <= CAP && (pp->ntransfers == 0 || pp->transfers));
    for (size_t k = 0; k < pp->ntransfers; k++)
        CHECK(pp->transfers[k] < p->ntransfers);
    CHECK(pp->retention < p->nretention);
}

static void check_policy(const cu_policy *p)
{
    CHECK(p->owner != NULL);
    check_party(&p->controller, true);
    req_str(p->controller.address);
    req_str(p->controller.email);
    req_str(p->ico_registration);
    opt_str(p->company_number);
    CHECK(p->role == CU_POL_CONTROLLER || p->role == CU_POL_PROCESSOR || p->role == CU_POL_BOTH);
    check_party(&p->dpo, true);
    check_party(&p->representative, p->representative.name != NULL);
    CHECK(p->njoint <= CAP);
    for (size_t i = 0; i < p->njoint; i++)
        check_party(&p->joint_controllers[i], true);
    opt_str(p->introduction);
    opt_str(p->changes);

    CHECK(p->ncategories >= 1 && p->ncategories <= CU_CAT_COUNT);
    unsigned collected = 0;
    for (size_t i = 0; i < p->ncategories; i++) {
        const cu_pol_category *c = &p->categories[i];
        CHECK((unsigned)c->category < CU_CAT_COUNT);
        CHECK(c->id && strcmp(c->id, cu_category_name(c->category)) == 0);
        CHECK(!(collected & (1u << c->category)));
        collected |= 1u << c->category;
        req_str(c->description);
        CHECK(c->sources != 0 && (c->sources & ~ALL_SOURCES) == 0);
    }
    CHECK(collected == p->collected);

    CHECK(p->nrecipients <= CAP);
    for (size_t i = 0; i < p->nrecipients; i++) {
        const cu_pol_recipient *r = &p->recipients[i];
        check_ids(r->id, i, recipient_id, p);
        req_str(r->category);
        opt_str(r->description);
        CHECK(r->nnames <= CAP && (r->names != NULL) == (r->nnames > 0));
        for (size_t k = 0; k < r->nnames; k++)
            req_str(r->names[k]);
    }
    CHECK(p->ntransfers <= CAP);
    for (size_t i = 0; i < p->ntransfers; i++) {
        const cu_pol_transfer *t = &p->transfers[i];
        check_ids(t->id, i, transfer_id, p);
        CHECK(t->recipient < p->nrecipients);
        req_str(t->country);
        req_str(t->safeguard);
        opt_str(t->description);
    }
    CHECK(p->nprocessors <= CAP);
    for (size_t i = 0; i < p->nprocessors; i++) {
        req_str(p->processors[i].name);
        req_str(p->processors[i].service);
        opt_str(p->processors[i].country);
        opt_str(p->processors[i].contact);
    }
    CHECK(p->nretention <= CAP);
    for (size_t i = 0; i < p->nretention; i++) {
        const cu_pol_retention *r = &p->retention[i];
        check_ids(r->id, i, retention_id, p);
        req_str(r->description);
        opt_str(r->legal_source);
        CHECK(r->years >= 0 && r->years <= 200 && r->months >= 0 && r->months <= 2400 &&
              r->days >= 0 && r->days <= 73050);
        CHECK((long)r->years * 365 + (long)r->months * 30 + r->days <= 73050);
        CHECK(strcmp(cu_pol_trigger_name(r->trigger), "unknown") != 0);
        if (r->trigger == CU_TRIGGER_BIRTHDAY)
            CHECK(r->age >= 1 && r->age <= 130);
        else
            CHECK(r->age == 0);
        if (r->years + r->months + r->days == 0)
            CHECK(r->trigger == CU_TRIGGER_REQUEST || r->trigger == CU_TRIGGER_BIRTHDAY);
    }
    CHECK(p->ncookies <= CAP);
    for (size_t i = 0; i < p->ncookies; i++) {
        const cu_pol_cookie *k = &p->cookies[i];
        req_str(k->name);
        opt_str(k->provider);
        req_str(k->purpose);
        req_str(k->duration);
        CHECK(k->strictly_necessary || k->consent_required);
    }
    CHECK(p->npurposes <= CAP);
    CHECK(p->npurposes > 0 || p->role == CU_POL_PROCESSOR);
    for (size_t i = 0; i < p->npurposes; i++)
        check_purpose(p, i);
    CHECK(p->non_behalf <= CAP);
    CHECK((p->non_behalf > 0) == (p->role != CU_POL_CONTROLLER));
    for (size_t i = 0; i < p->non_behalf; i++) {
        const cu_pol_on_behalf *b = &p->on_behalf[i];
        req_str(b->controller);
        opt_str(b->contact);
        CHECK(b->nactivities >= 1 && b->nactivities <= CAP);
        for (size_t k = 0; k < b->nactivities; k++)
            req_str(b->activities[k]);
        CHECK((b->categories & ~p->collected) == 0);
        for (size_t k = 0; k < b->ntransfers; k++)
            CHECK(b->transfers[k] < p->ntransfers);
    }
    CHECK(p->nsecurity >= 1 && p->nsecurity <= CAP);
    for (size_t i = 0; i < p->nsecurity; i++)
        req_str(p->security[i]);
    CHECK(p->nundertakings <= CAP);
    for (size_t i = 0; i < p->nundertakings; i++)
        req_str(p->undertakings[i]);
    /* The built-in purpose is always there and never in the list. */
    CHECK(cu_policy_purpose(p, CU_PURPOSE_RIGHTS) == cu_policy_rights_purpose());
    CHECK(p->version == 0 && p->applied_at == 0 && p->digest[0] == '\0');
}

static void check_report(const cu_pol_report *rep, bool ok)
{
    CHECK(rep->n <= rep->nerrors + rep->nwarnings && rep->n <= rep->cap);
    size_t errors = 0;
    for (size_t i = 0; i < rep->n; i++) {
        const cu_pol_finding *f = &rep->v[i];
        CHECK(f->path[0] == '$');
        one_line(f->path, sizeof f->path);
        one_line(f->rule, sizeof f->rule);
        one_line(f->msg, sizeof f->msg);
        errors += f->error;
    }
    if (ok)
        CHECK(rep->nerrors == 0 && errors == 0);
    else
        CHECK(rep->nerrors >= 1 && (errors >= 1 || rep->n == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cu_policy *p = (cu_policy *)&p; /* must be set to NULL or a policy */
    cu_pol_report rep = {0};
    cu_err err;
    cu_err_clear(&err);
    int rc = cu_policy_parse(data, size, &p, &rep, &err);
    if (rc == CU_OK) {
        CHECK(err.code == CU_OK && p != NULL);
        check_policy(p);
        cu_policy_free(p);
    } else {
        CHECK(rc == CU_EINVAL || rc == CU_ENOMEM);
        CHECK(err.code == (cu_status)rc);
        one_line(err.msg, sizeof err.msg);
        CHECK(strncmp(err.msg, "policy: ", 8) == 0);
        CHECK(p == NULL);
    }
    check_report(&rep, rc == CU_OK);
    cu_pol_report_release(&rep);
    CHECK(rep.v == NULL && rep.n == 0);

    /* Without a report: the same outcome and the same first error. */
    cu_err err2;
    cu_err_clear(&err2);
    cu_policy *p2 = NULL;
    int rc2 = cu_policy_parse(data, size, &p2, NULL, &err2);
    CHECK(rc2 == rc || rc == CU_ENOMEM || rc2 == CU_ENOMEM);
    if (rc2 == rc)
        CHECK(strcmp(err.msg, err2.msg) == 0);
    cu_policy_free(p2);
    return 0;
}
