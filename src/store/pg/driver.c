/*
 * driver.c — the PostgreSQL backend's place in a build without it: every
 * open fails, and it declares no statement (an empty table).
 */
#include "store/driver.h"

static const cu_stmt_decl none[ST_COUNT];

static const cu_stmt_decl *pg_stmts(void)
{
    return none;
}

static int pg_schema_version(void)
{
    return 0;
}

static bool pg_exists(const char *location)
{
    (void)location;
    return false;
}

static void pg_remove(const char *location)
{
    (void)location;
}

static int pg_open(const char *location, bool create, void **conn, cu_err *err)
{
    (void)location;
    (void)create;
    (void)conn;
    return cu_err_set(err, CU_EUNAVAILABLE, "this build has no PostgreSQL backend");
}

const cu_backend cu_backend_pg = {
    .name = "postgresql",
    .stmts = pg_stmts,
    .schema_version = pg_schema_version,
    .exists = pg_exists,
    .remove = pg_remove,
    .copy_suffix = ".pgdump",
    .open = pg_open,
};
