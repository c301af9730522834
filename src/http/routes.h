/*
 * routes.h — what serves each route of the router's table (router.h): how its
 * caller authenticates, the domain actions that decide who may call it, and
 * its handler. cu_api_handle (api.c) authenticates a request by its row's
 * kind and calls the row's handler; nothing else dispatches on a route id
 * but server.c, for the routes whose work runs in steps off the store's
 * thread (sign-ins) or on the HTTP thread (health, metrics, assets).
 *
 * Who may call a route is the domain's answer, never decided here: the row
 * names the actions (CU_ACT_*), and cu_access_roles (domain/access.h) says
 * which roles the choke point allows for them. The handler still asks the
 * choke point, which decides and audits every refusal; the table is for
 * readers, the documentation (`custos routes --markdown`, docs/api.md) and
 * the tests.
 *
 * The router is kept free of these dependencies (it is fuzzed alone): a
 * route without a row here is served as a bearer route with no handler (401
 * without a credential, else 404), so rows may be added in any order.
 */
#ifndef CUSTOS_HTTP_ROUTES_H
#define CUSTOS_HTTP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/access.h"
#include "http/api.h"
#include "http/router.h"
#include "util/buf.h"

typedef enum cu_route_auth {
    CU_AUTH_PUBLIC = 1, /* no credential (credentials in the body, if any) */
    CU_AUTH_LINK,       /* the link's token in the path is the credential */
    CU_AUTH_BEARER,     /* Authorization: Bearer, a session or an API token */
    CU_AUTH_STAFF,      /* the staff console's __Host-custos cookie */
    CU_AUTH_PORTAL,     /* the patient portal's cookie */
} cu_route_auth;

/* One request to a route, as its handler sees it: the caller once
 * authenticated (who, actor; empty for public and link routes). */
typedef struct cu_call {
    cu_api *api;
    const cu_http_req *req;
    cu_http_resp *resp;
    cu_principal who;
    cu_actor actor;
    char via[96]; /* "http METHOD PATH" of the route */
    char purpose[72];
    /* a listing's page: the position it starts at and its length */
    uint64_t page_at;
    long long page_limit;
} cu_call;

typedef struct cu_console cu_console;

typedef void (*cu_call_fn)(cu_call *c);
typedef void (*cu_page_fn)(cu_console *c);
/* An area that still dispatches its own routes (the patient portal, the
 * questionnaire form): its entry, false when the route is not its. */
typedef bool (*cu_area_fn)(cu_api *api, const cu_http_req *req, cu_http_resp *resp);

#define CU_ACT_BIT(a) (UINT64_C(1) << (a))

typedef struct cu_route_handler {
    cu_route_id id;
    cu_route_auth auth;
    uint64_t acts;      /* CU_ACT_BIT of each action deciding who may call; 0: none */
    cu_call_fn call;    /* public, link and bearer routes */
    cu_page_fn page;    /* the staff console's pages (CU_AUTH_STAFF) */
    cu_area_fn area;    /* or the entry of an area serving it itself */
    bool server;        /* or served by server.c (no handler here) */
    const char *handler; /* the handler's name, for the documentation */
    const char *file;    /* the file it is in, under src/http/ */
} cu_route_handler;

/* The row of id, NULL when it has none. */
const cu_route_handler *cu_route_handler_get(cu_route_id id);
/* The whole table, in router order: *n rows. */
const cu_route_handler *cu_route_handlers(size_t *n);
const char *cu_route_auth_name(cu_route_auth a);

/* The roles that may call a row: the union of cu_access_roles over its
 * actions (operator excluded: the CLI, never an HTTP caller); *cond the
 * roles among them that may only for some subjects (their care list, their
 * own record). 0 when the row names no action. */
unsigned cu_route_roles(const cu_route_handler *h, unsigned *cond);

/* The Markdown table of the routes (docs/api.md's "Routes"): method, path,
 * who calls, handler file. */
int cu_routes_markdown(cu_buf *out);

#endif
