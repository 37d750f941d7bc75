/* store_pg_sql.c - the PostgreSQL backend's schema and the text of every
 * statement (store_backend.h's store_query) in PostgreSQL's dialect: ON
 * CONFLICT for SQLite's INSERT OR REPLACE, jsonb_set for json_set, a `seq`
 * column (bigserial) for SQLite's rowid as the tie-breaker of equal times.
 * Every parameter carries its type ($1::text), since a parameter compared
 * with NULL or '' alone gives PostgreSQL nothing to infer it from.
 *
 * Key columns use the "C" collation: package ranges ("pkg/" <= name <
 * "pkg0") and listings by name compare bytes, as SQLite does, whatever
 * locale the cluster was created with. */
#include "host/store/store_pg.h"
#include "host/util/stringify.h"

#define T "text COLLATE \"C\""
#define LIMIT(n) " LIMIT CASE WHEN $" #n "::bigint < 0 THEN NULL ELSE $" #n "::bigint END"

/* Version 1: the tables of SQLite's schema version 6 (store_sqlite_schema.c)
 * with the same columns and keys. Changes to the tables this store caches
 * (namespaces, actions, packages) are announced on the channel
 * STORE_PG_CHANNEL when their transaction commits, for every other
 * connection's read cache (store_cache.c). Activations have no foreign key,
 * as in SQLite: a group commit must not fail for a namespace deleted
 * meanwhile; store_namespace_delete removes them. */
static const char SCHEMA_V1[] =
    "CREATE TABLE namespaces ("
    "  name " T " PRIMARY KEY,"
    "  uuid " T " NOT NULL UNIQUE,"
    "  key_hash bytea NOT NULL,"
    "  created bigint NOT NULL,"
    "  ns_id " T " NOT NULL"
    ");"
    "CREATE TABLE actions ("
    "  namespace " T " NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
    "  name " T " NOT NULL,"
    "  version text NOT NULL,"
    "  updated bigint NOT NULL,"
    "  seq bigserial NOT NULL,"
    "  doc text NOT NULL,"
    "  PRIMARY KEY (namespace, name)"
    ");"
    "CREATE INDEX actions_by_updated ON actions(namespace, updated DESC, seq DESC);"
    "CREATE TABLE activations ("
    "  activation_id " T " PRIMARY KEY,"
    "  seq bigserial NOT NULL UNIQUE,"
    "  namespace " T " NOT NULL,"
    "  name " T " NOT NULL,"
    "  \"start\" bigint NOT NULL,"
    "  \"end\" bigint NOT NULL,"
    "  status_code integer,"
    "  bytes bigint NOT NULL,"
    "  summary text NOT NULL,"
    "  doc text NOT NULL"
    ");"
    "CREATE INDEX activations_by_start ON activations(namespace, \"start\" DESC, seq DESC) INCLUDE (bytes);"
    "CREATE INDEX activations_by_name ON activations(namespace, name, \"start\" DESC);"
    "CREATE INDEX activations_by_age ON activations(\"start\");"
    "CREATE TABLE packages ("
    "  namespace " T " NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
    "  name " T " NOT NULL,"
    "  publish integer NOT NULL,"
    "  is_binding integer NOT NULL,"
    "  version text NOT NULL,"
    "  updated bigint NOT NULL,"
    "  seq bigserial NOT NULL,"
    "  doc text NOT NULL,"
    "  PRIMARY KEY (namespace, name)"
    ");"
    "CREATE TABLE entities ("
    "  namespace " T " NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
    "  kind integer NOT NULL,"
    "  name " T " NOT NULL,"
    "  version text NOT NULL,"
    "  updated bigint NOT NULL,"
    "  ref " T ","
    "  doc text NOT NULL,"
    "  PRIMARY KEY (namespace, kind, name)"
    ");"
    "CREATE INDEX entities_by_updated ON entities(namespace, kind, updated DESC);"
    "CREATE INDEX entities_by_ref ON entities(namespace, kind, ref);"
    "CREATE TABLE alarms ("
    "  namespace " T " NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
    "  \"trigger\" " T " NOT NULL,"
    "  next_fire bigint,"
    "  doc text NOT NULL,"
    "  PRIMARY KEY (namespace, \"trigger\")"
    ");"
    "CREATE INDEX alarms_by_next ON alarms(next_fire);"
    "CREATE TABLE api_routes ("
    "  namespace " T " NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
    "  basepath " T " NOT NULL,"
    "  relpath " T " NOT NULL,"
    "  verb " T " NOT NULL,"
    "  doc text NOT NULL,"
    "  PRIMARY KEY (namespace, basepath, relpath, verb)"
    ");"
    "CREATE FUNCTION tfaas_announce() RETURNS trigger LANGUAGE plpgsql AS $f$"
    " BEGIN PERFORM pg_notify('" STORE_PG_CHANNEL "', TG_TABLE_NAME); RETURN NULL; END $f$;"
    "CREATE TRIGGER namespaces_announce AFTER INSERT OR UPDATE OR DELETE ON namespaces"
    "  FOR EACH STATEMENT EXECUTE FUNCTION tfaas_announce();"
    "CREATE TRIGGER actions_announce AFTER INSERT OR UPDATE OR DELETE ON actions"
    "  FOR EACH STATEMENT EXECUTE FUNCTION tfaas_announce();"
    "CREATE TRIGGER packages_announce AFTER INSERT OR UPDATE OR DELETE ON packages"
    "  FOR EACH STATEMENT EXECUTE FUNCTION tfaas_announce();";

/* Version 2: the key service's state shared by every node (store_kms.c),
 * one row. */
static const char SCHEMA_V2[] =
    "CREATE TABLE kms_state ("
    "  id integer PRIMARY KEY CHECK (id = 1),"
    "  generation bigint NOT NULL,"
    "  blob bytea NOT NULL"
    ");";

/* Version 3: each record's bytes stored once, as in SQLite's version 8
 * (store_sqlite_schema.c): rest_at not NULL means doc holds only what
 * summary lacks, to go in at that byte offset. A nullable column without a
 * default: a catalog change, no table rewrite. */
static const char SCHEMA_V3[] = "ALTER TABLE activations ADD COLUMN rest_at bigint;";

/* Version 4: no index on start alone, as SQLite's version 9: the age sweep
 * walks activations_by_start namespace by namespace (Q_ACTV_EXPIRE), and
 * each insert updates one index fewer. */
static const char SCHEMA_V4[] = "DROP INDEX IF EXISTS activations_by_age;";

const store_pg_migration STORE_PG_MIGRATIONS[] = {
    {1, SCHEMA_V1},
    {2, SCHEMA_V2},
    {3, SCHEMA_V3},
    {4, SCHEMA_V4},
};
const size_t STORE_PG_MIGRATION_COUNT = sizeof STORE_PG_MIGRATIONS / sizeof STORE_PG_MIGRATIONS[0];

/* A duplicate activation id must not abort the group commit's transaction
 * (PostgreSQL aborts it on any error), so the insert does nothing on a
 * conflict, and only when it changed nothing does this probe (given the
 * insert's first parameter) tell a duplicate from a deleted namespace: one
 * round trip per record, not a savepoint's three. */
const char *const STORE_PG_CONFLICT_PROBE[Q_COUNT] = {
    [Q_ACTV_INSERT] = "SELECT 1 FROM activations WHERE activation_id = $1::text",
};

#define ACTV_LIST_COLS                                                                                            \
    "SELECT CASE WHEN $6::int <> 0 THEN bytes ELSE 0 END, CASE WHEN $6::int <> 0 THEN doc ELSE summary END, "     \
    "CASE WHEN $6::int <> 0 THEN rest_at END, CASE WHEN $6::int <> 0 AND rest_at IS NOT NULL THEN summary END "   \
    "FROM activations WHERE namespace = $1::text AND \"start\" >= $2::bigint AND \"start\" <= $3::bigint "

const char *const STORE_PG_SQL[Q_COUNT] = {
    [Q_NS_INSERT] = "INSERT INTO namespaces(name, uuid, key_hash, created, ns_id) "
                    "VALUES($1::text, $2::text, $3::bytea, $4::bigint, $5::text)",
    [Q_NS_SET_CRED] = "UPDATE namespaces SET uuid = $2::text, key_hash = $3::bytea WHERE name = $1::text",
    [Q_NS_DELETE] = "DELETE FROM namespaces WHERE name = $1::text",
    [Q_NS_DELETE_ACTIVATIONS] = "DELETE FROM activations WHERE namespace = $1::text",
    [Q_NS_LIST] = "SELECT name, uuid FROM namespaces ORDER BY name",
    [Q_NS_BY_UUID] = "SELECT name, key_hash, ns_id FROM namespaces WHERE uuid = $1::text",
    [Q_NS_ID] = "SELECT ns_id FROM namespaces WHERE name = $1::text",
    [Q_ACT_GET] = "SELECT doc, version FROM actions WHERE namespace = $1::text AND name = $2::text",
    /* An update takes a fresh seq, as SQLite's REPLACE takes a fresh rowid. */
    [Q_ACT_PUT] = "INSERT INTO actions(namespace, name, version, updated, doc) "
                  "VALUES($1::text, $2::text, $3::text, $4::bigint, $5::text) ON CONFLICT (namespace, name) DO UPDATE "
                  "SET version = EXCLUDED.version, updated = EXCLUDED.updated, doc = EXCLUDED.doc, "
                  "seq = nextval(pg_get_serial_sequence('actions', 'seq'))",
    /* exec.code is removed by the domain layer (store_collect_docs): jsonb
     * would refuse a "\u0000" that json text keeps. */
    [Q_ACT_LIST] = "SELECT doc FROM actions WHERE namespace = $1::text ORDER BY updated DESC, seq DESC" LIMIT(2)
                   " OFFSET $3::bigint",
    [Q_ACT_DELETE] = "DELETE FROM actions WHERE namespace = $1::text AND name = $2::text",
    [Q_ACTV_INSERT] = "INSERT INTO activations(activation_id, namespace, name, \"start\", \"end\", status_code, bytes, "
                      "summary, doc, rest_at) SELECT $1::text, $2::text, $3::text, $4::bigint, $5::bigint, $6::int, "
                      "$7::bigint, $8::text, $9::text, $11::bigint WHERE $10::text IS NULL OR EXISTS (SELECT 1 FROM namespaces "
                      "WHERE name = $2::text AND ns_id = $10::text) ON CONFLICT (activation_id) DO NOTHING",
    /* As SQLite's (store_sqlite.c): the oldest until $2 bytes, at most $3,
     * never the newest, with the size of each deleted. */
    [Q_ACTV_TRIM] = "DELETE FROM activations WHERE seq IN (SELECT seq FROM ("
                    "SELECT seq, sum(bytes) OVER (ORDER BY \"start\", seq ROWS UNBOUNDED PRECEDING) - bytes AS before "
                    "FROM (SELECT seq, \"start\", bytes FROM activations WHERE namespace = $1::text "
                    "AND seq <> (SELECT seq FROM activations WHERE namespace = $1::text "
                    "ORDER BY \"start\" DESC, seq DESC LIMIT 1) "
                    "ORDER BY \"start\", seq LIMIT $3::bigint) o) t WHERE before < $2::bigint) RETURNING bytes",
    [Q_ACTV_TOTALS] = "SELECT count(*)::bigint, coalesce(sum(bytes), 0)::bigint FROM activations "
                      "WHERE namespace = $1::text",
    /* As SQLite's: the namespaces holding records one index seek each, then
     * the old end of each one's range in activations_by_start. LATERAL:
     * with a plain join the planner, counting on few old records, scanned
     * the whole table. */
    [Q_ACTV_EXPIRE] = "DELETE FROM activations WHERE seq IN (WITH RECURSIVE ns(n) AS ("
                      "SELECT min(namespace) FROM activations UNION ALL "
                      "SELECT (SELECT min(namespace) FROM activations WHERE namespace > ns.n) FROM ns "
                      "WHERE ns.n IS NOT NULL) "
                      "SELECT o.seq FROM ns CROSS JOIN LATERAL (SELECT seq FROM activations a "
                      "WHERE a.namespace = ns.n AND a.\"start\" < $1::bigint LIMIT $2::bigint) o LIMIT $2::bigint)",
    [Q_ACTV_GET] = "SELECT doc, rest_at, CASE WHEN rest_at IS NOT NULL THEN summary END FROM activations "
                   "WHERE namespace = $1::text AND activation_id = $2::text",
    [Q_ACTV_LIST] = ACTV_LIST_COLS "ORDER BY \"start\" DESC, seq DESC" LIMIT(4) " OFFSET $5::bigint",
    [Q_ACTV_LIST_NAME] = ACTV_LIST_COLS "AND name = $7::text ORDER BY \"start\" DESC, seq DESC" LIMIT(4)
                         " OFFSET $5::bigint",
    [Q_ROUTE_PUT] = "INSERT INTO api_routes(namespace, basepath, relpath, verb, doc) "
                    "SELECT $1::text, $2::text, $3::text, $4::text, $5::text WHERE (SELECT count(*) FROM api_routes "
                    "WHERE namespace = $1::text) < " STR(STORE_ROUTES_MAX) " OR EXISTS (SELECT 1 FROM api_routes "
                    "WHERE namespace = $1::text AND basepath = $2::text AND relpath = $3::text AND verb = $4::text) "
                    "ON CONFLICT (namespace, basepath, relpath, verb) DO UPDATE SET doc = EXCLUDED.doc",
    [Q_ROUTE_LIST] = "SELECT doc FROM api_routes WHERE namespace = $1::text ORDER BY basepath, relpath, verb",
    [Q_ROUTE_LIST_BASE] = "SELECT doc FROM api_routes WHERE namespace = $1::text AND basepath = $2::text "
                          "ORDER BY basepath, relpath, verb",
    [Q_KMS_STATE_GET] = "SELECT generation, blob FROM kms_state WHERE id = 1",
    [Q_KMS_STATE_INSERT] = "INSERT INTO kms_state(id, generation, blob) VALUES (1, $1::bigint, $2::bytea) "
                           "ON CONFLICT (id) DO NOTHING",
    [Q_KMS_STATE_CAS] = "UPDATE kms_state SET generation = $2::bigint, blob = $3::bytea "
                        "WHERE id = 1 AND generation = $1::bigint",
    [Q_ROUTE_DELETE] = "DELETE FROM api_routes WHERE namespace = $1::text AND basepath = $2::text "
                       "AND ($3::text = '' OR relpath = $3::text) AND ($4::text = '' OR verb = $4::text)",
    [Q_ENT_GET] = "SELECT doc, version FROM entities WHERE namespace = $1::text AND kind = $2::int AND name = $3::text",
    [Q_ENT_PUT] = "INSERT INTO entities(namespace, kind, name, version, updated, ref, doc) "
                  "VALUES($1::text, $2::int, $3::text, $4::text, $5::bigint, $6::text, $7::text) "
                  "ON CONFLICT (namespace, kind, name) DO UPDATE SET version = EXCLUDED.version, "
                  "updated = EXCLUDED.updated, ref = EXCLUDED.ref, doc = EXCLUDED.doc",
    [Q_ENT_LIST] = "SELECT doc FROM entities WHERE namespace = $1::text AND kind = $2::int "
                   "ORDER BY updated DESC, name" LIMIT(3) " OFFSET $4::bigint",
    [Q_ENT_COUNT] = "SELECT count(*) FROM entities WHERE namespace = $1::text AND kind = $2::int",
    [Q_ENT_BY_REF] = "SELECT doc FROM entities WHERE namespace = $1::text AND kind = $2::int AND ref = $3::text "
                     "ORDER BY name",
    [Q_ENT_DELETE] = "DELETE FROM entities WHERE namespace = $1::text AND name = $2::text AND kind = $3::int",
    [Q_RULES_DEACTIVATE] = "UPDATE entities SET doc = jsonb_set(doc::jsonb, '{status}', '\"inactive\"')::text "
                           "WHERE namespace = $1::text AND ref = $2::text AND kind = $3::int",
    [Q_ALARM_INSERT] = "INSERT INTO alarms(namespace, \"trigger\", next_fire, doc) "
                       "VALUES($1::text, $2::text, $3::bigint, $4::text)",
    [Q_ALARM_REPLACE] = "UPDATE alarms SET next_fire = $3::bigint, doc = $4::text WHERE namespace = $1::text "
                        "AND \"trigger\" = $2::text",
    [Q_ALARM_GET] = "SELECT doc, next_fire FROM alarms WHERE namespace = $1::text AND \"trigger\" = $2::text",
    [Q_ALARM_DELETE] = "DELETE FROM alarms WHERE namespace = $1::text AND \"trigger\" = $2::text",
    [Q_ALARM_DUE] = "SELECT json_build_object('namespace', namespace, 'trigger', \"trigger\", 'next_fire', next_fire, "
                    "'doc', doc::json)::text FROM alarms WHERE next_fire IS NOT NULL AND next_fire <= $1::bigint "
                    "ORDER BY next_fire LIMIT $2::bigint",
    [Q_ALARM_EARLIEST] = "SELECT min(next_fire) FROM alarms WHERE next_fire IS NOT NULL",
    [Q_ALARM_ADVANCE] = "UPDATE alarms SET next_fire = $3::bigint WHERE namespace = $1::text "
                        "AND \"trigger\" = $2::text AND next_fire = $4::bigint",
    [Q_PKG_KIND] = "SELECT is_binding FROM packages WHERE namespace = $1::text AND name = $2::text",
    [Q_PKG_GET] = "SELECT doc, version, is_binding FROM packages WHERE namespace = $1::text AND name = $2::text",
    [Q_PKG_PUT] = "INSERT INTO packages(namespace, name, publish, is_binding, version, updated, doc) "
                  "VALUES($1::text, $2::text, $3::int, $4::int, $5::text, $6::bigint, $7::text) "
                  "ON CONFLICT (namespace, name) DO UPDATE SET publish = EXCLUDED.publish, "
                  "is_binding = EXCLUDED.is_binding, version = EXCLUDED.version, updated = EXCLUDED.updated, "
                  "doc = EXCLUDED.doc, seq = nextval(pg_get_serial_sequence('packages', 'seq'))",
    [Q_PKG_LIST] = "SELECT doc FROM packages WHERE namespace = $1::text AND ($2::int = 0 OR publish = 1) "
                   "ORDER BY updated DESC, seq DESC" LIMIT(3) " OFFSET $4::bigint",
    [Q_PKG_DELETE] = "DELETE FROM packages WHERE namespace = $1::text AND name = $2::text",
    [Q_PKG_COUNT_ACTIONS] = "SELECT count(*) FROM actions WHERE namespace = $1::text AND name >= $2::text "
                            "AND name < $3::text",
    [Q_PKG_ACTIONS] = "SELECT doc FROM actions WHERE namespace = $1::text AND name >= $2::text AND name < $3::text "
                      "ORDER BY updated DESC, seq DESC" LIMIT(4) " OFFSET $5::bigint",
    /* store_cluster.c. Created on first use, not by a schema version: only
     * nodes started with --node need them. Times are the server's clock, so
     * nodes' clocks never disagree about a lease. */
#define PG_NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
    [Q_CL_NODES_TABLE] = "CREATE TABLE IF NOT EXISTS tfaas_nodes (node text PRIMARY KEY, expires bigint NOT NULL)",
    [Q_CL_INFLIGHT_TABLE] = "CREATE TABLE IF NOT EXISTS tfaas_inflight (activation_id text PRIMARY KEY, "
                            "node text NOT NULL, ns_id text, doc text NOT NULL)",
    [Q_CL_LEASE] = "INSERT INTO tfaas_nodes(node, expires) VALUES($1::text, " PG_NOW_MS " + $2::bigint) "
                   "ON CONFLICT (node) DO UPDATE SET expires = EXCLUDED.expires",
    [Q_CL_ACCEPT] = "INSERT INTO tfaas_inflight(activation_id, node, ns_id, doc) "
                    "VALUES($1::text, $2::text, $3::text, $4::text) ON CONFLICT (activation_id) DO NOTHING",
    [Q_CL_UNACCEPT] = "DELETE FROM tfaas_inflight WHERE activation_id = $1::text",
    /* accepted by a node whose lease is gone or expired, and still without a record */
    [Q_CL_ORPHANS] = "SELECT i.doc, i.ns_id FROM tfaas_inflight i WHERE NOT EXISTS (SELECT 1 FROM tfaas_nodes n "
                     "WHERE n.node = i.node AND n.expires >= " PG_NOW_MS ") AND NOT EXISTS (SELECT 1 FROM "
                     "activations a WHERE a.activation_id = i.activation_id) LIMIT $1::bigint",
    /* recorded (by its node or as lost), or its namespace is gone */
    [Q_CL_CLEAN] = "DELETE FROM tfaas_inflight i WHERE EXISTS (SELECT 1 FROM activations a WHERE a.activation_id = "
                   "i.activation_id) OR (i.ns_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM namespaces s "
                   "WHERE s.ns_id = i.ns_id))",
    [Q_CL_EXPIRE] = "DELETE FROM tfaas_nodes n WHERE n.expires < " PG_NOW_MS " AND NOT EXISTS (SELECT 1 FROM "
                    "tfaas_inflight i WHERE i.node = n.node)",
#undef PG_NOW_MS
    /* Released at commit or rollback. Names whose hashes collide share a
     * lock: they only wait for each other. */
    [Q_NS_WRITE_LOCK] = "SELECT pg_advisory_xact_lock(" STR(STORE_PG_NS_LOCK_CLASS) ", hashtext($1::text))",
};
