/* store_pg.c - the PostgreSQL backend (placeholder until its libpq code lands). */
#include "host/store/store_backend.h"

#include <stdlib.h>
#include <string.h>

static int pg_claims(const char *target) {
    return target && (!strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11));
}

static store_conn *pg_open(const char *target, int read_only, char **err) {
    (void)target, (void)read_only;
    *err = strdup("PostgreSQL is not supported yet");
    return NULL;
}

const store_backend store_pg_backend = {.name = "postgresql", .claims = pg_claims, .open = pg_open};
