/* test_store_rowsplit.c - records stored once (schema 8 / PostgreSQL 3): a
 * record put as text keeps in `doc` only what its list entry lacks, and
 * every read rebuilds the very bytes that were put: GET, pages with and
 * without docs, by name, skip/limit and byte bounds, for records kept split,
 * records kept whole (JSON trees, a summary that is not the text with its
 * cut taken out) and rows of a database written before the split (schema
 * 7), opened and upgraded here. Quotas count the whole document. */
#include "check.h"
#include "host/store/store.h"
#include "test_store_helpers.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_int done;
static atomic_int failed;
static void on_committed(void *ud, store_status st) {
    (void)ud;
    if (st != STORE_OK) atomic_fetch_add(&failed, 1);
    atomic_fetch_add(&done, 1);
}

/* Waits (bounded: the writer commits within milliseconds) for n callbacks. */
static void wait_done(int n) {
    for (int i = 0; i < 10000 && atomic_load(&done) < n; i++) usleep(1000);
    CHECK(atomic_load(&done) == n);
}

/* A record as the gateway writes one (activation_record.c): prefix, the
 * cut (response and logs), suffix; the summary is prefix + suffix. */
typedef struct {
    char *text, *summary;
    size_t len, cut_at, cut_len;
} rec;

static char *cat3(const char *a, const char *b, const char *c) {
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *out = malloc(la + lb + lc + 1);
    memcpy(out, a, la);
    memcpy(out + la, b, lb);
    memcpy(out + la + lb, c, lc + 1);
    return out;
}

/* name_json: the name as it appears in the JSON text (quoted, escaped). */
static rec make_rec(const char *ns, const char *name_json, const char *id, long long start, const char *result,
                    const char *logs_json) {
    char prefix[1024], suffix[512];
    snprintf(prefix, sizeof prefix,
             "{\"namespace\":\"%s\",\"name\":%s,\"version\":\"0.0.1\",\"subject\":\"%s\",\"activationId\":\"%s\","
             "\"start\":%lld,\"end\":%lld,\"duration\":1,\"statusCode\":0",
             ns, name_json, ns, id, start, start + 1);
    snprintf(suffix, sizeof suffix,
             ",\"annotations\":[{\"key\":\"path\",\"value\":\"%s/x\"},{\"key\":\"timeout\",\"value\":false}],"
             "\"publish\":false}",
             ns);
    const char *mid_a = ",\"response\":{\"status\":\"success\",\"statusCode\":0,\"success\":true,\"result\":";
    char *mid_b = cat3(result, "},\"logs\":", logs_json);
    char *mid = cat3(mid_a, mid_b, "");
    rec r = {cat3(prefix, mid, suffix), cat3(prefix, suffix, ""), 0, strlen(prefix), strlen(mid)};
    r.len = strlen(r.text);
    free(mid_b);
    free(mid);
    return r;
}

/* Puts a copy of r as text (the store takes the copy). */
static void put_text(store *s, const rec *r, const char *ns, const char *name, const char *id, long long start,
                     size_t cut_at, size_t cut_len, const char *summary) {
    store_record_text *t = calloc(1, sizeof *t);
    t->text = strdup(r->text);
    t->summary = strdup(summary ? summary : r->summary);
    t->text_len = r->len;
    t->cut_at = cut_at;
    t->cut_len = cut_len;
    t->id = strdup(id);
    t->ns = strdup(ns);
    t->name = strdup(name);
    t->start = start;
    t->end = start + 1;
    store_activation_put_text(s, t, NULL, on_committed, NULL);
}

/* The page's document i is exactly want. */
static int page_is(const store_page *p, size_t i, const char *want) {
    if (i >= p->n) return 0;
    size_t n = strlen(want);
    if (p->lens[i] == n && !memcmp(p->docs[i], want, n)) return 1;
    fprintf(stderr, "page doc %zu differs:\n  got  %.*s\n  want %s\n", i, (int)(p->lens[i] > 300 ? 300 : p->lens[i]),
            p->docs[i], n > 300 ? "(long)" : want);
    return 0;
}

/* GET gives the document that was put (as JSON: GET parses). */
static int get_is(store *s, const char *ns, const char *id, const char *want) {
    json_t *got = NULL, *exp = json_loads(want, 0, NULL);
    int ok = store_activation_get(s, ns, id, &got) == STORE_OK && exp && json_equal(got, exp);
    json_decref(got);
    json_decref(exp);
    return ok;
}

/* Runs sql on the test's database, outside the store (SQLite or PostgreSQL). */
static int raw_exec(const char *dir, const char *sql) {
    if (test_store_pg()) {
        PGconn *c = PQconnectdb(test_store_target(dir));
        PGresult *r = PQexec(c, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok) fprintf(stderr, "raw_exec: %s\n", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return ok;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/tfaas.db", dir);
    sqlite3 *db = NULL;
    char *err = NULL;
    int ok = sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK;
    if (!ok) fprintf(stderr, "raw_exec: %s\n", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    sqlite3_close(db);
    return ok;
}

/* An old row, as schema 7 wrote it: doc the whole document. */
static int raw_insert_old(const char *dir, const rec *r, const char *id, const char *name, long long start) {
    char *sql = sqlite3_mprintf("INSERT INTO activations(activation_id, namespace, name, \"start\", \"end\", "
                                "status_code, bytes, summary, doc) VALUES(%Q, 'n', %Q, %lld, %lld, 0, %lld, %Q, %Q)",
                                id, name, start, start + 1, (long long)r->len, r->summary, r->text);
    int ok = raw_exec(dir, sql); /* %Q doubles quotes: valid in both dialects */
    sqlite3_free(sql);
    return ok;
}

static void free_rec(rec *r) {
    free(r->text);
    free(r->summary);
}

static store *open_store(const char *dir) {
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    if (err) fprintf(stderr, "store_open: %s\n", err);
    free(err);
    return s;
}

/* Split and whole records side by side read back byte-identical. */
static void test_round_trip(const char *dir) {
    store *s = open_store(dir);
    if (!s) return;
    /* Multi-byte UTF-8 before the cut: its byte offset is not its
     * character offset (SQL substr would count characters). */
    size_t big_n = 3u << 20;
    char *big = malloc(big_n + 32);
    strcpy(big, "{\"big\":\"");
    memset(big + 8, 'x', big_n);
    strcpy(big + 8 + big_n, "\"}");
    rec r[6] = {
        make_rec("a", "\"f\"", "a-0", 100, "{\"payload\":\"hello\"}", "[\"line 1\",\"line 2\"]"),
        make_rec("a", "\"f\\u00e9-\xc3\xa9\xe5\x87\xbd\xe6\x95\xb0\"", "a-1", 101, "{\"s\":\"\xf0\x9f\x98\x80\"}", "[]"),
        make_rec("a", "\"g\"", "a-2", 102, big, "[]"),
        make_rec("a", "\"f\"", "a-3", 103, "{}", "[\"\"]"),
        make_rec("a", "\"g\"", "a-4", 104, "{\"k\":[1,2,3]}", "[\"x\"]"), /* put whole: no cut given */
        make_rec("a", "\"f\"", "a-5", 105, "{\"k\":1}", "[\"y\"]"),       /* a summary that is not the cut text */
    };
    const char *names[6] = {"f", "f\xc3\xa9-\xc3\xa9\xe5\x87\xbd\xe6\x95\xb0", "g", "f", "g", "f"};
    atomic_store(&done, 0);
    const char *ids[4] = {"a-0", "a-1", "a-2", "a-3"};
    for (int i = 0; i < 4; i++) put_text(s, &r[i], "a", names[i], ids[i], 100 + i, r[i].cut_at, r[i].cut_len, NULL);
    put_text(s, &r[4], "a", "g", "a-4", 104, 0, 0, NULL);
    char *odd = strdup(r[5].summary);
    odd[1] = 'N'; /* {"Namespace"...: not the text with its cut out */
    put_text(s, &r[5], "a", "f", "a-5", 105, r[5].cut_at, r[5].cut_len, odd);
    /* And a JSON tree (prepare_row), kept whole. */
    store_activation_put(s, make_activation("a", "t", "a-6", 106, "success"), NULL, on_committed, NULL);
    wait_done(7);
    CHECK(atomic_load(&failed) == 0);

    /* docs=1: every document as it was put, newest first. */
    store_page p;
    CHECK(store_activation_page(s, "a", NULL, 0, 0, 0, 0, 1, 0, &p) == STORE_OK && p.n == 7);
    for (int i = 0; i < 6; i++) CHECK(page_is(&p, 6 - (size_t)i, r[i].text));
    store_page_free(&p);
    /* docs=0: the list entries; the odd one as it was given. */
    CHECK(store_activation_page(s, "a", NULL, 0, 0, 0, 0, 0, 0, &p) == STORE_OK && p.n == 7);
    for (int i = 0; i < 5; i++) CHECK(page_is(&p, 6 - (size_t)i, r[i].summary));
    CHECK(page_is(&p, 1, odd));
    CHECK(p.bytes < 4096); /* the 3 MiB response was not read */
    store_page_free(&p);
    /* By name (UTF-8), and skip/limit. */
    CHECK(store_activation_page(s, "a", names[1], 0, 0, 0, 0, 1, 0, &p) == STORE_OK && p.n == 1);
    CHECK(page_is(&p, 0, r[1].text));
    store_page_free(&p);
    CHECK(store_activation_page(s, "a", "f", 2, 1, 0, 0, 1, 0, &p) == STORE_OK && p.n == 2);
    CHECK(page_is(&p, 0, r[3].text) && page_is(&p, 1, r[0].text)); /* f: a-5, a-3, a-0; skip 1 */
    store_page_free(&p);
    CHECK(store_activation_page(s, "a", "g", 0, 0, 0, 0, 0, 0, &p) == STORE_OK && p.n == 2);
    CHECK(page_is(&p, 0, r[4].summary) && page_is(&p, 1, r[2].summary));
    store_page_free(&p);
    /* The byte bound counts whole documents: a-3 and a-2 do not fit in
     * a-3's size plus a byte, the 3 MiB of a-2 are never read. */
    CHECK(store_activation_page(s, "a", NULL, 0, 3, 0, 0, 1, r[3].len + 1, &p) == STORE_OK && p.n == 1);
    CHECK(p.truncated && page_is(&p, 0, r[3].text));
    store_page_free(&p);
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof id, "a-%d", i);
        CHECK(get_is(s, "a", id, r[i].text));
    }
    json_t *got = NULL;
    CHECK(store_activation_get(s, "b", "a-1", &got) == STORE_NOT_FOUND);

    /* Quota: bytes is the whole document's length, split or not. Five
     * records of one size under a quota of three of them keep three. */
    rec q[5];
    store_retention keep = {.max_bytes = 0};
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "q-%d", i);
        q[i] = make_rec("q", "\"f\"", id, 200 + i, "{\"v\":\"0123456789\"}", "[\"log\"]");
    }
    keep.max_bytes = (int64_t)(3 * q[0].len);
    store_set_retention(s, &keep);
    atomic_store(&done, 0);
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "q-%d", i);
        put_text(s, &q[i], "q", "f", id, 200 + i, q[i].cut_at, q[i].cut_len, NULL);
        wait_done(i + 1);
    }
    /* The trim runs after the callbacks: wait for it (bounded). */
    for (int i = 0; i < 5000; i++) {
        CHECK(store_activation_page(s, "q", NULL, 0, 0, 0, 0, 1, 0, &p) == STORE_OK);
        if (p.n <= 3) break;
        store_page_free(&p);
        usleep(1000);
    }
    CHECK(p.n == 3);
    CHECK(page_is(&p, 0, q[4].text) && page_is(&p, 2, q[2].text));
    store_page_free(&p);
    keep.max_bytes = 0;
    store_set_retention(s, &keep);
    for (int i = 0; i < 5; i++) free_rec(&q[i]);
    store_close(s);

    if (!test_store_pg()) { /* what SQLite keeps: the split rows hold only their cut */
        char path[1024];
        snprintf(path, sizeof path, "%s/tfaas.db", dir);
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
              sqlite3_prepare_v2(db, "SELECT activation_id, bytes, length(CAST(doc AS BLOB)), rest_at FROM activations "
                                     "WHERE namespace = 'a' ORDER BY activation_id", -1, &st, NULL) == SQLITE_OK);
        for (int i = 0; st && sqlite3_step(st) == SQLITE_ROW; i++) {
            CHECK(i > 5 || (size_t)sqlite3_column_int64(st, 1) == r[i].len);
            int split = i < 4;
            CHECK(split ? (size_t)sqlite3_column_int64(st, 2) == r[i].cut_len
                        : sqlite3_column_int64(st, 2) == sqlite3_column_int64(st, 1));
            CHECK(split ? (size_t)sqlite3_column_int64(st, 3) == r[i].cut_at : sqlite3_column_type(st, 3) == SQLITE_NULL);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        CHECK(db_integrity_ok(dir));
    }
    free(odd);
    free(big);
    for (int i = 0; i < 6; i++) free_rec(&r[i]);
}

/* A database written before the split (SQLite schema 7, PostgreSQL 2)
 * opens, upgrades, and reads its rows and new ones alike. */
static void test_old_database(const char *dir) {
    store *s = open_store(dir);
    if (!s) return;
    store_close(s);
    CHECK(raw_exec(dir, test_store_pg() ? "ALTER TABLE activations DROP COLUMN rest_at; UPDATE tfaas_schema SET version = 2"
                                        : "ALTER TABLE activations DROP COLUMN rest_at; PRAGMA user_version=7"));
    rec r[4] = {
        make_rec("n", "\"f\"", "n-0", 10, "{\"old\":\"\xc3\xa9t\xc3\xa9\"}", "[\"l\"]"),
        make_rec("n", "\"f\"", "n-1", 11, "{\"old\":2}", "[]"),
        make_rec("n", "\"f\"", "n-2", 12, "{\"new\":\"\xc3\xa9\"}", "[\"l\",\"m\"]"),
        make_rec("n", "\"f\"", "n-3", 13, "{\"new\":4}", "[]"),
    };
    CHECK(raw_insert_old(dir, &r[0], "n-0", "f", 10) && raw_insert_old(dir, &r[1], "n-1", "f", 11));
    s = open_store(dir); /* upgrades */
    if (!s) return;
    atomic_store(&done, 0);
    atomic_store(&failed, 0);
    put_text(s, &r[2], "n", "f", "n-2", 12, r[2].cut_at, r[2].cut_len, NULL);
    put_text(s, &r[3], "n", "f", "n-3", 13, r[3].cut_at, r[3].cut_len, NULL);
    wait_done(2);
    CHECK(atomic_load(&failed) == 0);
    store_page p;
    CHECK(store_activation_page(s, "n", "f", 0, 0, 0, 0, 1, 0, &p) == STORE_OK && p.n == 4);
    for (int i = 0; i < 4; i++) CHECK(page_is(&p, 3 - (size_t)i, r[i].text));
    store_page_free(&p);
    CHECK(store_activation_page(s, "n", NULL, 2, 1, 0, 0, 0, 0, &p) == STORE_OK && p.n == 2);
    CHECK(page_is(&p, 0, r[2].summary) && page_is(&p, 1, r[1].summary));
    store_page_free(&p);
    CHECK(get_is(s, "n", "n-0", r[0].text) && get_is(s, "n", "n-3", r[3].text));
    store_close(s);
    for (int i = 0; i < 4; i++) free_rec(&r[i]);
}

int main(void) {
    char *dir = scratch_dir("rowsplit");
    test_round_trip(dir);
    scratch_remove(dir);
    dir = scratch_dir("rowsplit-old");
    test_old_database(dir);
    scratch_remove(dir);
    return CHECK_DONE();
}
