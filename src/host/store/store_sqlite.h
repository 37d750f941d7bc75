/* store_sqlite.h - what the SQLite backend's files share (store_sqlite.c,
 * store_sqlite_schema.c). Nothing outside the backend includes it. */
#ifndef TFAAS_HOST_STORE_SQLITE_H
#define TFAAS_HOST_STORE_SQLITE_H

#include "host/store/store_backend.h"

#include <sqlite3.h>

/* Newest schema this build knows; PRAGMA user_version holds the file's. */
#define STORE_SQLITE_SCHEMA_VERSION 9

/* Creates or upgrades the schema of db. 0, or -1 and a malloc'd message. */
int store_sqlite_migrate(sqlite3 *db, char **err);

#endif
