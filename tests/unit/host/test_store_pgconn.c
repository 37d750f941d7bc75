/* test_store_pgconn.c - the PostgreSQL backend when the server drops its
 * connections (pg_terminate_backend, as a restart or an idle timeout would):
 * the store reconnects, the activation writer's next group commit lands,
 * reads go on, and the read cache does not trust what it held while
 * announcements could not reach it. Only under scripts/pg-test.sh (ctest
 * pg/store-unit); a no-op on SQLite. */
#include "check.h"
#include "host/store/store.h"
#include "test_store_helpers.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <time.h>

#define UUID "11111111-2222-4333-8444-666666666666"
#define KEY "k000000000000000000000000000000000000000000000000000000000000000"

/* Terminates every other client connection of the database: the stores'. */
static void drop_connections(void) {
    PGconn *c = PQconnectdb(getenv("TFAAS_TEST_PG"));
    PGresult *r = PQexec(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                            "AND backend_type = 'client backend'");
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) >= 2);
    PQclear(r);
    PQfinish(c);
}

static store_status committed_st;
static int committed_calls;
static void on_committed(void *ud, store_status st) {
    (void)ud;
    committed_st = st;
    __atomic_add_fetch(&committed_calls, 1, __ATOMIC_SEQ_CST);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(void) {
    if (!test_store_pg()) {
        printf("skip: PostgreSQL only (scripts/pg-test.sh)\n");
        return CHECK_DONE();
    }
    char *dir = scratch_dir("pgconn");
    const char *target = test_store_target(dir);
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(target, &s, &err) == STORE_OK);
    if (!s) return CHECK_DONE();
    char ns[64];
    CHECK(store_namespace_create(s, "n", UUID, KEY, NULL, NULL) == STORE_OK);
    json_t *doc = json_pack("{s:{s:s, s:s}}", "exec", "kind", "js:duktape", "code", "x");
    CHECK(store_action_put(s, "n", "a", doc, 0, NULL) == STORE_OK);
    CHECK(store_authenticate(s, UUID, KEY, ns, sizeof ns, NULL) == STORE_OK); /* cached */

    /* The writer's next group commit begins on a dead connection. */
    drop_connections();
    store_activation_put(s, make_activation("n", "a", "after-drop", 1000, "success"), NULL, on_committed, NULL);
    for (int i = 0; i < 500 && !__atomic_load_n(&committed_calls, __ATOMIC_SEQ_CST); i++) sleep_ms(10);
    CHECK(committed_calls == 1 && committed_st == STORE_OK);
    json_t *got = NULL;
    CHECK(store_activation_get(s, "n", "after-drop", &got) == STORE_OK); /* the reader connection reconnects */
    json_decref(got);
    CHECK(store_action_get(s, "n", "a", &got) == STORE_OK);
    json_decref(got);
    CHECK(store_action_put(s, "n", "a", doc, 1, NULL) == STORE_OK);

    /* Deleted by another process while this one's connection was down: no
     * announcement reaches it, and the cache still lets go within its bound. */
    drop_connections();
    store *other = NULL;
    CHECK(store_open(target, &other, &err) == STORE_OK);
    if (other) CHECK(store_namespace_delete(other, "n") == STORE_OK);
    store_close(other);
    int revoked = 0;
    for (int i = 0; i < 100 && !revoked; i++) {
        revoked = store_authenticate(s, UUID, KEY, ns, sizeof ns, NULL) == STORE_NOT_FOUND;
        if (!revoked) sleep_ms(10);
    }
    CHECK(revoked);
    json_decref(doc);
    store_close(s);
    free(err);
    scratch_remove(dir);
    return CHECK_DONE();
}
