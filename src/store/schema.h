/*
 * schema.h — versioned migrations. Migration N takes the schema from version
 * N-1 to N; PRAGMA user_version records the version a store is at. Migrations
 * are append-only: a released one is never edited.
 */
#ifndef CUSTOS_STORE_SCHEMA_H
#define CUSTOS_STORE_SCHEMA_H

/* Number of migrations, which is the current schema version. */
int cu_schema_count(void);
/* SQL of migration n (1-based). */
const char *cu_schema_migration(int n);

#endif
