/*
 * pg.h — the PostgreSQL backend's own declarations. Inside src/store only.
 *
 * The statement lists of its table families (sql_*.c), the migrations
 * embedded from migrations/NNNN_name.sql, and a few entry points the backend's unit
 * test uses to reach what the driver interface (driver.h) does not expose.
 */
#ifndef CUSTOS_STORE_PG_PG_H
#define CUSTOS_STORE_PG_PG_H

#include "store/driver.h"

/* Each ends with {ST_COUNT}. */
extern const cu_stmt_entry cu_pg_sql_meta[];
extern const cu_stmt_entry cu_pg_sql_subjects[];
extern const cu_stmt_entry cu_pg_sql_items[];
extern const cu_stmt_entry cu_pg_sql_audit[];
extern const cu_stmt_entry cu_pg_sql_staff[];
extern const cu_stmt_entry cu_pg_sql_policy[];
extern const cu_stmt_entry cu_pg_sql_questionnaires[];
extern const cu_stmt_entry cu_pg_sql_consent[];
extern const cu_stmt_entry cu_pg_sql_requests[];
extern const cu_stmt_entry cu_pg_sql_disclosures[];
extern const cu_stmt_entry cu_pg_sql_tasks[];
extern const cu_stmt_entry cu_pg_sql_qlinks[];
extern const cu_stmt_entry cu_pg_sql_pathways[];
extern const cu_stmt_entry cu_pg_sql_portal[];
extern const cu_stmt_entry cu_pg_sql_nodes[];

/* Generated from migrations/NNNN_*.sql: migration n at index n - 1. */
extern const char *const cu_pg_migrations[];
extern const int cu_pg_migration_count;

/* Indexes nlists statement lists by id into out[ST_COUNT]: CU_EINTERNAL
 * when an id is declared twice, unknown or not at all, or has a bad shape. */
int cu_pg_index(const cu_stmt_entry *const *lists, size_t nlists, cu_stmt_decl *out,
                cu_err *err);
/* Prepares statement id on conn now (run prepares on first use). */
int cu_pg_prepare(void *conn, enum cu_stmt_id id, cu_err *err);
/* Runs one SQL command that takes no parameters on conn, with the driver's
 * error mapping (what names the operation in a message). */
int cu_pg_exec(void *conn, const char *sql, const char *what, cu_err *err);

#endif
