/* test_store_retention.c - activation retention and byte-bounded pages:
 * the count and byte quotas trim the oldest records of the namespaces a
 * commit wrote (the newest always stays, other namespaces keep theirs), the
 * age sweep deletes what started before the TTL, a page stops before the
 * document that would pass its byte bound (but holds one), and a list of
 * summaries never carries response or logs; a schema-1 database is
 * upgraded with each record's size and list entry. The trims are the
 * writer's (issue 14): a commit that takes a namespace over its quota does
 * not trim it itself, the writer brings it back under its quota plus one
 * slack in small transactions while commits go on, and the totals kept in
 * memory are summed again when another process has deleted records. A
 * schema-8 database loses its index on start alone. */
#include "check.h"
#include "host/store/store.h"
#include "host/store/store_internal.h"
#include "host/util/clock.h"
#include "test_store_helpers.h"

#include <stdatomic.h>
#include <unistd.h>

static atomic_int committed;

static void on_committed(void *ud, store_status st) {
    (void)ud;
    if (st == STORE_OK) atomic_fetch_add(&committed, 1);
}

/* Puts one record and waits for its commit (and so the retention after it,
 * which runs on the writer before the next batch: a second put waits it). */
static void put(store *s, json_t *rec) {
    int before = atomic_load(&committed);
    store_activation_put(s, rec, NULL, on_committed, NULL);
    for (int i = 0; i < 2000 && atomic_load(&committed) == before; i++) usleep(1000);
}

static size_t count_of(store *s, const char *ns) {
    json_t *list = NULL;
    CHECK(store_activation_list(s, ns, NULL, 0, 0, 0, 0, 0, &list) == STORE_OK);
    size_t n = json_array_size(list);
    json_decref(list);
    return n;
}

/* Waits until the writer has done the trims queued by the commits so far
 * (queued before each commit's callback; bounded well past what a few
 * small trims take). */
static void trims_done(store *s) {
    for (int i = 0; i < 60000 && store_test_trims_queued(s); i++) usleep(1000);
    CHECK(store_test_trims_queued(s) == 0);
}

/* Waits until the writer has run the retention after the last commit. */
static void settle(store *s) {
    put(s, make_activation("settle", "x", "settle", 1, "success"));
    trims_done(s);
}

/* The bytes namespace ns holds (the whole documents). */
static size_t bytes_of(store *s, const char *ns) {
    store_page p;
    CHECK(store_activation_page(s, ns, NULL, 0, 0, 0, 0, 1, 0, &p) == STORE_OK);
    size_t bytes = p.bytes;
    store_page_free(&p);
    return bytes;
}

/* A namespace far over its byte quota: the commits that take it there (on
 * this thread, as an enclave's reader commits) return with every record
 * kept while the writer is held off its trims, so none trimmed on the
 * committing thread; once the writer goes on, commits keep completing while
 * it trims (each waits one small trim transaction at most), and the
 * namespace ends under its quota plus one slack, not far under it. */
static void test_trim_off_commit(store *s) {
    enum { RECORD = 10 * 1000, RECORDS = 800 };
    const size_t quota = 2u << 20; /* about 200 records: 600 over, several trim transactions */
    store_set_retention(s, &(store_retention){.max_bytes = (int64_t)quota});
    static char blob[RECORD];
    memset(blob, 'q', sizeof blob - 1);
    store_test_pause_trims(s, 1);
    char id[32];
    int k = 0;
    for (int burst = 0; burst < RECORDS / 100; burst++) {
        store_activation_section_begin(s);
        for (int i = 0; i < 100; i++, k++) {
            json_t *r = make_activation("quota", "q", (snprintf(id, sizeof id, "q-%04d", k), id), 10000 + k, "success");
            json_object_set_new(r, "logs", json_pack("[s]", blob));
            store_activation_put(s, r, NULL, on_committed, NULL);
        }
        store_activation_section_end(s);
        CHECK(count_of(s, "quota") == (size_t)k); /* the commit trimmed nothing */
    }
    CHECK(store_test_trims_queued(s) == 1);
    CHECK(bytes_of(s, "quota") > 3 * quota);
    /* the writer trims; commits of the same namespace go on meanwhile */
    store_test_pause_trims(s, 0);
    for (int burst = 0; burst < 10; burst++, k++) {
        store_activation_section_begin(s);
        json_t *r = make_activation("quota", "q", (snprintf(id, sizeof id, "q-%04d", k), id), 10000 + k, "success");
        json_object_set_new(r, "logs", json_pack("[s]", blob));
        store_activation_put(s, r, NULL, on_committed, NULL);
        store_activation_section_end(s);
    }
    trims_done(s);
    size_t bytes = bytes_of(s, "quota");
    CHECK(bytes < quota + quota / STORE_TRIM_SLACK);
    CHECK(bytes > quota - 2 * RECORD);
    json_t *rec = NULL;
    snprintf(id, sizeof id, "q-%04d", k - 1);
    CHECK(store_activation_get(s, "quota", id, &rec) == STORE_OK); /* the newest stay */
    json_decref(rec);
    CHECK(store_activation_get(s, "quota", "q-0000", &rec) == STORE_NOT_FOUND);
    store_set_retention(s, &(store_retention){0});
}

/* Another process (`tfaas admin`, a script) deletes records behind the
 * store's back: its count in memory is then too high, and trimming by it
 * would delete records the quota allows. The writer sees the other commit
 * (data_version) and sums the namespace again first. */
static void test_outside_delete(const char *dir, store *s) {
    store_set_retention(s, &(store_retention){.max_count = 10});
    char id[32];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "x-%d", i);
        put(s, make_activation("outside", "a", id, 500 + i, "success"));
    }
    trims_done(s);
    CHECK(count_of(s, "outside") == 10);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path_join(dir, "tfaas.db"), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    const char *sql = "DELETE FROM activations WHERE namespace = 'outside' AND \"start\" < 505";
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    put(s, make_activation("outside", "a", "x-10", 510, "success")); /* 11 by the stale count: due */
    trims_done(s);
    CHECK(count_of(s, "outside") == 6);
    store_set_retention(s, &(store_retention){0});
}

static void test_count_and_bytes(store *s) {
    store_set_retention(s, &(store_retention){.max_count = 3});
    char id[32];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "c-%d", i);
        put(s, make_activation("counted", "a", id, 1000 + i, "success"));
    }
    put(s, make_activation("other", "a", "o-1", 1000, "success"));
    settle(s);
    CHECK(count_of(s, "counted") == 3);
    CHECK(count_of(s, "other") == 1);
    json_t *rec = NULL;
    CHECK(store_activation_get(s, "counted", "c-5", &rec) == STORE_OK); /* the newest stay */
    json_decref(rec);
    CHECK(store_activation_get(s, "counted", "c-2", &rec) == STORE_NOT_FOUND);

    /* bytes: records of ~100 KB under a 250 KB quota keep two; one record
     * larger than the quota is still kept as the newest */
    store_set_retention(s, &(store_retention){.max_bytes = 250 * 1000});
    static char blob[100 * 1000];
    memset(blob, 'b', sizeof blob - 1);
    for (int i = 0; i < 4; i++) {
        json_t *r = make_activation("bytes", "a", (snprintf(id, sizeof id, "b-%d", i), id), 2000 + i, "success");
        json_object_set_new(r, "logs", json_pack("[s]", blob));
        put(s, r);
    }
    settle(s);
    CHECK(count_of(s, "bytes") == 2);
    static char huge[400 * 1000];
    memset(huge, 'h', sizeof huge - 1);
    json_t *r = make_activation("bytes", "a", "b-huge", 3000, "success");
    json_object_set_new(r, "logs", json_pack("[s]", huge));
    put(s, r);
    settle(s);
    CHECK(count_of(s, "bytes") == 1);
    CHECK(store_activation_get(s, "bytes", "b-huge", &rec) == STORE_OK);
    json_decref(rec);
}

static void test_page_bound(store *s) {
    store_set_retention(s, &(store_retention){0});
    static char blob[100 * 1000];
    memset(blob, 'p', sizeof blob - 1);
    char id[32];
    for (int i = 0; i < 5; i++) {
        json_t *r = make_activation("paged", "a", (snprintf(id, sizeof id, "p-%d", i), id), 4000 + i, "success");
        json_object_set_new(r, "logs", json_pack("[s]", blob));
        put(s, r);
    }
    store_page p;
    CHECK(store_activation_page(s, "paged", NULL, 200, 0, 0, 0, 1, 250 * 1000, &p) == STORE_OK);
    CHECK(p.n == 2 && p.truncated && p.bytes <= 250 * 1000);
    CHECK(p.n == 2 && strstr(p.docs[0], "\"p-4\"") && strstr(p.docs[1], "\"p-3\""));
    store_page_free(&p);
    /* a bound below one document still gives that document */
    CHECK(store_activation_page(s, "paged", NULL, 200, 4, 0, 0, 1, 10, &p) == STORE_OK);
    CHECK(p.n == 1 && !p.truncated);
    store_page_free(&p);
    /* summaries: no logs, no response, a statusCode; all five fit */
    CHECK(store_activation_page(s, "paged", NULL, 200, 0, 0, 0, 0, 250 * 1000, &p) == STORE_OK);
    CHECK(p.n == 5 && !p.truncated);
    for (size_t i = 0; i < p.n; i++) {
        json_t *doc = json_loadb(p.docs[i], p.lens[i], 0, NULL);
        CHECK(doc && !json_object_get(doc, "logs") && !json_object_get(doc, "response") &&
              json_integer_value(json_object_get(doc, "statusCode")) == 0);
        json_decref(doc);
    }
    store_page_free(&p);
}

/* Old and new records in several namespaces, one of them with more old
 * records than a sweep deletes per transaction (STORE_EXPIRE_BATCH, 256):
 * the sweep walks the namespaces one by one (store_sqlite.c). */
static void test_age(store *s) {
    int64_t now = clock_wall_ms(), old = now - 3 * 3600 * 1000;
    put(s, make_activation("aged", "a", "old", old, "success"));
    put(s, make_activation("aged", "a", "new", now, "success"));
    put(s, make_activation("aged-b", "a", "b-old", old - 1, "success"));
    put(s, make_activation("aged-c", "a", "c-new", now + 1, "success"));
    store_activation_section_begin(s);
    for (int i = 0; i < 600; i++) {
        char id[32];
        snprintf(id, sizeof id, "m-%d", i);
        store_activation_put(s, make_activation("aged-many", "a", id, old + i, "success"), NULL, on_committed, NULL);
    }
    store_activation_section_end(s);
    put(s, make_activation("aged-many", "a", "m-new", now, "success"));
    CHECK(count_of(s, "aged") == 2 && count_of(s, "aged-many") == 601);
    store_close(s); /* the sweep runs first after a start, then once a minute */
}

/* A database of schema 8, which had an index on start alone for the age
 * sweep, upgrades to 9 without it: its records read back, the sweep still
 * deletes the old ones. */
static void test_upgrade_from_v8(void) {
    char *dir = scratch_dir("retention-v8");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(dir, &s, &err) == STORE_OK);
    if (!s) return;
    int64_t now = clock_wall_ms();
    put(s, make_activation("v8", "f", "v8-old", now - 3 * 3600 * 1000, "success"));
    put(s, make_activation("v8", "f", "v8-new", now, "success"));
    store_close(s);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path_join(dir, "tfaas.db"), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE INDEX activations_by_age ON activations(\"start\"); PRAGMA user_version=8", NULL,
                       NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(store_open(dir, &s, &err) == STORE_OK);
    if (!s) return;
    CHECK(count_of(s, "v8") == 2);
    store_set_retention(s, &(store_retention){.max_age_ms = 3600 * 1000});
    settle(s);
    json_t *rec = NULL;
    CHECK(store_activation_get(s, "v8", "v8-old", &rec) == STORE_NOT_FOUND);
    CHECK(store_activation_get(s, "v8", "v8-new", &rec) == STORE_OK);
    json_decref(rec);
    store_close(s);
    CHECK(sqlite3_open(path_join(dir, "tfaas.db"), &db) == SQLITE_OK);
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'activations_by_age'), "
                                 "(SELECT user_version FROM pragma_user_version)", -1, &st, NULL) == SQLITE_OK);
    CHECK(st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0 && sqlite3_column_int(st, 1) == 9);
    sqlite3_finalize(st);
    sqlite3_close(db);
    CHECK(db_integrity_ok(dir));
    scratch_remove(dir);
}

/* A state directory written by schema 1 (before sizes and summaries). */
static void test_upgrade_from_v1(void) {
    char *dir = scratch_dir("retention-v1");
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path_join(dir, "tfaas.db"), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "CREATE TABLE namespaces (name TEXT PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
                       "  key_hash BLOB NOT NULL, created INTEGER NOT NULL);"
                       "CREATE TABLE actions (namespace TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
                       "  name TEXT NOT NULL, version TEXT NOT NULL, updated INTEGER NOT NULL, doc TEXT NOT NULL,"
                       "  PRIMARY KEY (namespace, name));"
                       "CREATE INDEX actions_by_updated ON actions(namespace, updated DESC);"
                       "CREATE TABLE activations (activation_id TEXT PRIMARY KEY, namespace TEXT NOT NULL,"
                       "  name TEXT NOT NULL, \"start\" INTEGER NOT NULL, \"end\" INTEGER NOT NULL,"
                       "  status_code INTEGER, doc TEXT NOT NULL);"
                       "CREATE INDEX activations_by_start ON activations(namespace, \"start\" DESC);"
                       "CREATE INDEX activations_by_name ON activations(namespace, name, \"start\" DESC);"
                       "INSERT INTO activations VALUES('v1-a', 'old', 'f', 10, 15, 1,"
                       "  '{\"activationId\":\"v1-a\",\"namespace\":\"old\",\"name\":\"f\",\"start\":10,"
                       "\"end\":15,\"response\":{\"statusCode\":1,\"result\":{\"error\":\"x\"}},\"logs\":[\"l\"]}');"
                       "PRAGMA user_version=1;",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    store_page p;
    CHECK(store_activation_page(s, "old", NULL, 0, 0, 0, 0, 0, 0, &p) == STORE_OK && p.n == 1);
    json_t *entry = p.n ? json_loadb(p.docs[0], p.lens[0], 0, NULL) : NULL;
    CHECK(entry && !json_object_get(entry, "logs") && !json_object_get(entry, "response") &&
          json_integer_value(json_object_get(entry, "statusCode")) == 1);
    json_decref(entry);
    store_page_free(&p);
    json_t *rec = NULL;
    CHECK(store_activation_get(s, "old", "v1-a", &rec) == STORE_OK && json_object_get(rec, "logs"));
    json_decref(rec);
    /* the migrated row's size counts for the byte quota: a 1-byte quota keeps only the newest */
    store_set_retention(s, &(store_retention){.max_bytes = 1});
    put(s, make_activation("old", "f", "v2-b", 20, "success"));
    settle(s);
    CHECK(count_of(s, "old") == 1);
    CHECK(store_activation_get(s, "old", "v1-a", &rec) == STORE_NOT_FOUND);
    store_close(s);
    scratch_remove(dir);
}

int main(void) {
    if (test_store_pg()) printf("skip: SQLite schema 1 and 8 upgrades (PostgreSQL)\n");
    else test_upgrade_from_v1(), test_upgrade_from_v8();
    char *dir = scratch_dir("retention");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    test_count_and_bytes(s);
    test_trim_off_commit(s);
    if (test_store_pg()) printf("skip: another process's delete (SQLite's data_version)\n");
    else test_outside_delete(dir, s);
    test_page_bound(s);
    test_age(s);
    /* reopened with a one-hour TTL: the first commit's sweep deletes "old" */
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    store_set_retention(s, &(store_retention){.max_age_ms = 3600 * 1000});
    settle(s);
    CHECK(count_of(s, "aged") == 1);
    CHECK(count_of(s, "aged-b") == 0 && count_of(s, "aged-c") == 1 && count_of(s, "aged-many") == 1);
    CHECK(count_of(s, "counted") == 0 && count_of(s, "other") == 0); /* started at 1000 ms after the epoch */
    json_t *rec = NULL;
    CHECK(store_activation_get(s, "aged", "new", &rec) == STORE_OK);
    json_decref(rec);
    store_close(s);
    scratch_remove(dir);
    return CHECK_DONE();
}
