/* store_pg.h - what the PostgreSQL backend's files share (store_pg.c,
 * store_pg_sql.c). Nothing outside the backend includes it. */
#ifndef TFAAS_HOST_STORE_PG_H
#define TFAAS_HOST_STORE_PG_H

#include "host/store/store_backend.h"

/* The LISTEN/NOTIFY channel on which commits to the cached tables are
 * announced (store_cache.c's invalidation across processes and nodes). */
#define STORE_PG_CHANNEL "tfaas_store"

/* The first key of the namespace write locks (pg_advisory_xact_lock(int4,
 * int4), second key the hash of the name): "tf" in ASCII. Two-key advisory
 * locks never collide with the one-key lock of schema creation. */
#define STORE_PG_NS_LOCK_CLASS 29798

typedef struct {
    int to;          /* tfaas_schema.version after this step */
    const char *sql; /* statements run in one transaction */
} store_pg_migration;

extern const store_pg_migration STORE_PG_MIGRATIONS[];
extern const size_t STORE_PG_MIGRATION_COUNT;
extern const char *const STORE_PG_SQL[Q_COUNT];
/* For a statement that does nothing on a conflict: run with its first
 * parameter when it changed no row, a row means "it conflicted"
 * (SB_PRIMARY_KEY). NULL for the others. */
extern const char *const STORE_PG_CONFLICT_PROBE[Q_COUNT];

#endif
