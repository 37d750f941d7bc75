/* test_store_routes.c - API routes in the store (store_routes.c): put
 * replaces the route of the same basepath, relpath and verb; list orders and
 * filters by basepath; delete narrows by relpath and verb; a namespace holds
 * at most STORE_ROUTES_MAX routes; a deleted namespace takes its routes. */
#include "check.h"
#include "test_store_helpers.h"

#include "host/store/store.h"
#include "host/util/json.h"

static json_t *route_doc(const char *base, const char *rel, const char *verb, const char *action) {
    return json_pack("{ss ss ss ss}", "basepath", base, "relpath", rel, "verb", verb, "action", action);
}

static void put(store *s, const char *ns, const char *base, const char *rel, const char *verb, const char *action,
                store_status want) {
    json_t *d = route_doc(base, rel, verb, action);
    CHECK(store_route_put(s, ns, d) == want);
    json_decref(d);
}

static size_t count(store *s, const char *ns, const char *base) {
    json_t *l = NULL;
    CHECK(store_route_list(s, ns, base, &l) == STORE_OK);
    size_t n = json_array_size(l);
    json_decref(l);
    return n;
}

int main(void) {
    char *dir = scratch_dir("routes");
    store *s = NULL;
    char *err = NULL;
    char u[STORE_UUID_LEN + 1], k[STORE_KEY_LEN + 1];
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    CHECK(store_namespace_create(s, "alice", NULL, NULL, u, k) == STORE_OK);
    CHECK(store_namespace_create(s, "bob", NULL, NULL, u, k) == STORE_OK);

    put(s, "alice", "/b", "/x", "GET", "a1", STORE_OK);
    put(s, "alice", "/b", "/x", "GET", "a2", STORE_OK); /* replaces */
    put(s, "alice", "/b", "/x", "POST", "a3", STORE_OK);
    put(s, "alice", "/a", "/y", "GET", "a4", STORE_OK);
    put(s, "bob", "/b", "/x", "GET", "b1", STORE_OK);
    CHECK(count(s, "alice", NULL) == 3);
    CHECK(count(s, "alice", "/b") == 2);
    CHECK(count(s, "bob", NULL) == 1);
    json_t *l = NULL;
    CHECK(store_route_list(s, "alice", NULL, &l) == STORE_OK);
    CHECK_STR(json_get_str(json_array_get(l, 0), "basepath", ""), "/a"); /* ordered */
    CHECK_STR(json_get_str(json_array_get(l, 1), "action", ""), "a2");
    json_decref(l);
    json_t *bad = json_pack("{ss}", "basepath", "/b");
    CHECK(store_route_put(s, "alice", bad) == STORE_ERROR); /* missing relpath and verb */
    json_decref(bad);

    int n = -1;
    CHECK(store_route_delete(s, "alice", "/b", NULL, "POST", &n) == STORE_OK && n == 1);
    CHECK(store_route_delete(s, "alice", "/b", "/nothere", NULL, &n) == STORE_OK && n == 0);
    CHECK(store_route_delete(s, "alice", "/b", NULL, NULL, &n) == STORE_OK && n == 1);
    CHECK(count(s, "alice", NULL) == 1 && count(s, "bob", NULL) == 1); /* bob untouched */

    /* the bound: a new key past it is refused, a replacement is not */
    char rel[32];
    for (int i = (int)count(s, "alice", NULL); i < STORE_ROUTES_MAX; i++) {
        snprintf(rel, sizeof rel, "/r%d", i);
        put(s, "alice", "/many", rel, "GET", "x", STORE_OK);
    }
    CHECK(count(s, "alice", NULL) == STORE_ROUTES_MAX);
    put(s, "alice", "/many", "/one-more", "GET", "x", STORE_CONFLICT);
    put(s, "alice", "/many", "/r5", "GET", "y", STORE_OK);
    put(s, "bob", "/many", "/one-more", "GET", "x", STORE_OK); /* per namespace */

    /* a deleted namespace takes its routes with it */
    CHECK(store_namespace_delete(s, "bob") == STORE_OK);
    CHECK(count(s, "bob", NULL) == 0);
    store_close(s);
    scratch_remove(dir);
    return CHECK_DONE();
}
