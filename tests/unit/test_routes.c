/*
 * test_routes.c — the route table (http/routes.h) against the router and the
 * domain: one row per route; its authentication agrees with what the route
 * touches and its path; the roles it names are the ones cu_access_decide
 * allows, found by asking it every case; docs/api.md's table is the binary's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/access.h"
#include "http/router.h"
#include "http/routes.h"

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond))                                                                       \
            fail_msg(__VA_ARGS__);                                                         \
    } while (0)

/* The portal's pages for a visitor, signed in or not: the cookies page (a
 * signed-in patient's choice is theirs, on their own record) and the form
 * that takes an invitation's code typed from a letter. */
static bool cookies_page(cu_route_id id)
{
    return id == CU_R_PORTAL_COOKIES_GET || id == CU_R_PORTAL_COOKIES_POST ||
           id == CU_R_PORTAL_CODE_GET || id == CU_R_PORTAL_CODE_POST;
}

static void test_one_row_per_route(void **state)
{
    (void)state;
    size_t n = 0, nroutes = 0;
    const cu_route_handler *rows = cu_route_handlers(&n);
    const cu_route_def *defs = cu_route_table(&nroutes);
    assert_true(n > 0);
    int seen[CU_R_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        const cu_route_handler *h = &rows[i];
        CHECK(h->id > CU_R_NONE && h->id < CU_R_COUNT, "row %zu: route id %d", i, (int)h->id);
        CHECK(cu_route_get(h->id) != NULL, "row %zu: no router entry", i);
        seen[h->id]++;
        int kinds = (h->call != NULL) + (h->page != NULL) + (h->area != NULL) + h->server;
        CHECK(kinds == 1, "%s: %d handlers, not exactly one", cu_route_get(h->id)->name, kinds);
        CHECK(h->handler && h->handler[0] && h->file && h->file[0], "%s: handler unnamed",
              cu_route_get(h->id)->name);
        CHECK(cu_route_handler_get(h->id) == h, "%s: lookup finds another row",
              cu_route_get(h->id)->name);
        /* a page is a console page, and a console cookie serves only pages */
        CHECK((h->page != NULL) == (h->auth == CU_AUTH_STAFF), "%s: page vs staff cookie",
              cu_route_get(h->id)->name);
        CHECK(h->acts >> CU_ACT_COUNT == 0, "%s: an action beyond CU_ACT_COUNT",
              cu_route_get(h->id)->name);
    }
    for (size_t i = 0; i < nroutes; i++)
        CHECK(seen[defs[i].id] == 1, "%s %s (%s): %d rows, not one", defs[i].method,
              defs[i].path, defs[i].name, seen[defs[i].id]);
    for (int id = CU_R_NONE + 1; id < CU_R_COUNT; id++)
        CHECK(seen[id] == 1, "route id %d: %d rows", id, seen[id]);
    assert_null(cu_route_handler_get(CU_R_NONE));
    assert_null(cu_route_handler_get(CU_R_COUNT));
}

/* What a caller must show agrees with what the route touches and where it
 * is: a route with personal data is never open; a token in the path is the
 * link's credential and nothing else is; the console and the portal take
 * their own cookies only. */
static void test_auth_agrees_with_router(void **state)
{
    (void)state;
    size_t n = 0;
    const cu_route_def *d = cu_route_table(&n);
    for (size_t i = 0; i < n; i++) {
        const cu_route_handler *h = cu_route_handler_get(d[i].id);
        assert_non_null(h);
        const char *p = d[i].path;
        bool open = h->auth == CU_AUTH_PUBLIC || h->auth == CU_AUTH_LINK;
        if (d[i].personal)
            CHECK(!open, "%s: personal, yet %s", d[i].name, cu_route_auth_name(h->auth));
        bool token = strstr(p, "{token}") || strstr(p, "{qtoken}") || strstr(p, "{pcode}");
        CHECK(token == (h->auth == CU_AUTH_LINK), "%s: a link's token %s, auth %s", d[i].name,
              token ? "in the path" : "not in the path", cu_route_auth_name(h->auth));
        bool signin = strstr(p, "/sign-in") != NULL;
        if (strncmp(p, "/staff", 6) == 0)
            CHECK(signin ? h->auth == CU_AUTH_PUBLIC : h->auth == CU_AUTH_STAFF,
                  "%s: a console route with %s", d[i].name, cu_route_auth_name(h->auth));
        else
            CHECK(h->auth != CU_AUTH_STAFF, "%s: the console's cookie off /staff", d[i].name);
        if (cookies_page(d[i].id))
            CHECK(h->auth == CU_AUTH_PUBLIC, "%s: a visitor's portal page with %s", d[i].name,
                  cu_route_auth_name(h->auth));
        else if (strncmp(p, "/portal", 7) == 0 && !signin && !token)
            CHECK(h->auth == CU_AUTH_PORTAL, "%s: a portal page with %s", d[i].name,
                  cu_route_auth_name(h->auth));
        else
            CHECK(h->auth != CU_AUTH_PORTAL, "%s: the portal's cookie off /portal", d[i].name);
        if (strncmp(p, "/v1/", 4) == 0 && d[i].personal)
            CHECK(h->auth == CU_AUTH_BEARER, "%s: an API route with personal data, %s",
                  d[i].name, cu_route_auth_name(h->auth));
        /* a route that names an action reaches the choke point as someone */
        if (h->acts)
            CHECK(!open, "%s: names actions but authenticates nobody", d[i].name);
    }
}

/* Every role the domain's decision allows act to, and those it allows only
 * for some subjects, found by asking cu_access_decide every case. */
static void decided_roles(cu_act act, unsigned *some, unsigned *always)
{
    *some = *always = 0;
    for (unsigned bit = 1; bit <= CU_ROLE_SUBJECT; bit <<= 1) {
        for (int k = 0; k < 8; k++) {
            cu_access_req r = {.roles = bit, .actor_controller = "c1", .act = act,
                               .target_controller = "c1", .on_care_list = k & 1,
                               .break_glass = (k >> 1) & 1, .self = (k >> 2) & 1};
            cu_access_decision dec = cu_access_decide(&r);
            if (dec.allow)
                *some |= bit;
            if (k == 0 && dec.allow)
                *always |= bit;
            /* another controller's subject: never, whatever the role says */
            r.target_controller = "c2";
            if (bit != CU_ROLE_OPERATOR)
                CHECK(!cu_access_decide(&r).allow, "%s allowed across controllers",
                      cu_act_name(act));
        }
    }
}

static void test_roles_match_access(void **state)
{
    (void)state;
    for (int a = 0; a < CU_ACT_COUNT; a++) {
        unsigned some, always, cond = 0;
        decided_roles((cu_act)a, &some, &always);
        unsigned roles = cu_access_roles((cu_act)a, &cond);
        CHECK(roles == some, "%s: cu_access_roles %#x, the decision %#x", cu_act_name(a), roles,
              some);
        CHECK(cond == (some & ~always), "%s: conditional %#x, the decision %#x",
              cu_act_name(a), cond, some & ~always);
    }
    size_t n = 0;
    const cu_route_handler *rows = cu_route_handlers(&n);
    for (size_t i = 0; i < n; i++) {
        const cu_route_handler *h = &rows[i];
        const char *name = cu_route_get(h->id)->name;
        unsigned want = 0, want_always = 0;
        for (int a = 0; a < CU_ACT_COUNT; a++) {
            if (!(h->acts & CU_ACT_BIT(a)))
                continue;
            unsigned some, always;
            decided_roles((cu_act)a, &some, &always);
            want |= some;
            want_always |= always;
        }
        want &= ~(unsigned)CU_ROLE_OPERATOR;
        /* a patient presents only the portal's cookie, staff never it */
        want &= h->auth == CU_AUTH_PORTAL ? (unsigned)CU_ROLE_SUBJECT
                                          : ~(unsigned)CU_ROLE_SUBJECT;
        want_always &= want;
        unsigned cond = 0, roles = cu_route_roles(h, &cond);
        CHECK(roles == want, "%s: roles %#x, the decision allows %#x", name, roles, want);
        CHECK(cond == (want & ~want_always), "%s: conditional roles %#x, want %#x", name, cond,
              want & ~want_always);
        /* an action no staff role may take is no route's */
        if (h->acts)
            CHECK(roles, "%s: its actions allow no role", name);
        /* the patient reaches only the portal's pages, staff never them */
        if ((h->auth == CU_AUTH_PORTAL || cookies_page(h->id)) && h->acts)
            CHECK(roles == CU_ROLE_SUBJECT, "%s: portal roles %#x", name, roles);
        else
            CHECK(!(roles & CU_ROLE_SUBJECT), "%s: a patient's role off the portal", name);
    }
}

/* docs/api.md's route table is what the binary prints (custos routes
 * --markdown), between its two markers. */
static void test_docs_table(void **state)
{
    (void)state;
    const char *root = getenv("CUSTOS_SOURCE_ROOT");
    if (!root || !*root)
        root = CUSTOS_SOURCE_ROOT;
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/api.md", root);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "cannot open %s", path);
    static char doc[1 << 20];
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[len] = '\0';
    const char *begin_mark = "<!-- routes:begin (custos routes --markdown) -->\n";
    const char *end_mark = "<!-- routes:end -->";
    char *b = strstr(doc, begin_mark);
    CHECK(b != NULL, "docs/api.md has no %s", begin_mark);
    b += strlen(begin_mark);
    char *e = strstr(b, end_mark);
    CHECK(e != NULL, "docs/api.md has no %s", end_mark);
    *e = '\0';
    cu_buf want;
    cu_buf_init(&want, 0);
    assert_int_equal(cu_routes_markdown(&want), CU_OK);
    if (strcmp(b, cu_buf_str(&want)) != 0) {
        print_message("docs/api.md's route table should read:\n%s", cu_buf_str(&want));
        cu_buf_release(&want);
        fail_msg("docs/api.md's route table differs from custos routes --markdown");
    }
    cu_buf_release(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_row_per_route),
        cmocka_unit_test(test_auth_agrees_with_router),
        cmocka_unit_test(test_roles_match_access),
        cmocka_unit_test(test_docs_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
