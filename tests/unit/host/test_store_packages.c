/* test_store_packages.c - package documents in the store: versions, the
 * binding kind fixed at creation, published-only lists, actions kept under
 * "pkg/name" only in a package that exists and is not a binding, and the
 * refusal to delete a package that holds actions. */
#include "check.h"

#include "host/store/store_packages.h"
#include "host/util/json.h"
#include "scratch.h"
#include "test_store_helpers.h"

#include <stdlib.h>
#include <string.h>

static json_t *action(void) { return json_pack("{s{ss ss}}", "exec", "kind", "js:duktape", "code", "x"); }

static json_t *package(int publish, const char *bound) {
    json_t *p = json_pack("{s{} s[] s[] sb}", "binding", "parameters", "annotations", "publish", publish);
    if (bound) json_object_set_new(p, "binding", json_pack("{ss ss}", "namespace", "t", "name", bound));
    return p;
}

static void test_packages(store *s) {
    json_t *p = package(0, NULL), *got = NULL;
    CHECK(store_package_put(s, "t", "pkg", p, 0, 0, &got) == STORE_OK);
    CHECK_STR(json_get_str(got, "version", ""), "0.0.1");
    CHECK_STR(json_get_str(got, "namespace", ""), "t");
    json_decref(got);
    CHECK(store_package_put(s, "t", "pkg", p, 0, 0, NULL) == STORE_CONFLICT);
    CHECK(store_package_put(s, "t", "pkg", p, 0, 1, &got) == STORE_OK);
    CHECK_STR(json_get_str(got, "version", ""), "0.0.2");
    json_decref(got);
    CHECK(store_package_put(s, "t", "pkg", p, 1, 1, NULL) == STORE_CONFLICT); /* not into a binding */
    CHECK(store_package_put(s, "nobody", "pkg", p, 0, 0, NULL) == STORE_NOT_FOUND);
    json_decref(p);
    p = package(1, NULL);
    CHECK(store_package_put(s, "t", "pub", p, 0, 0, NULL) == STORE_OK);
    json_decref(p);
    p = package(0, "pub");
    CHECK(store_package_put(s, "t", "bnd", p, 1, 0, NULL) == STORE_OK);
    json_decref(p);
    json_t *list = NULL;
    CHECK(store_package_list(s, "t", 0, 0, 0, &list) == STORE_OK && json_array_size(list) == 3);
    json_decref(list);
    CHECK(store_package_list(s, "t", 1, 0, 0, &list) == STORE_OK && json_array_size(list) == 1);
    CHECK_STR(json_get_str(json_array_get(list, 0), "name", ""), "pub");
    json_decref(list);

    /* actions: only in a package that exists and is not a binding */
    json_t *a = action();
    CHECK(store_action_put(s, "t", "pkg/a", a, 0, &got) == STORE_OK);
    CHECK_STR(json_get_str(got, "namespace", ""), "t/pkg");
    CHECK_STR(json_get_str(got, "name", ""), "a");
    json_decref(got);
    CHECK(store_action_put(s, "t", "none/a", a, 0, NULL) == STORE_NOT_FOUND);
    CHECK(store_action_put(s, "t", "bnd/a", a, 0, NULL) == STORE_NOT_FOUND);
    /* "pkg0" sorts right after "pkg/": not one of pkg's actions */
    p = package(0, NULL);
    CHECK(store_package_put(s, "t", "pkg0", p, 0, 0, NULL) == STORE_OK);
    json_decref(p);
    CHECK(store_action_put(s, "t", "pkg0/b", a, 0, NULL) == STORE_OK);
    CHECK(store_action_put(s, "t", "pkg", a, 0, NULL) == STORE_OK); /* an action named like the package */
    json_decref(a);
    CHECK(store_package_actions(s, "t", "pkg", 0, 0, &list) == STORE_OK && json_array_size(list) == 1);
    CHECK(json_object_get(json_object_get(json_array_get(list, 0), "exec"), "code") == NULL);
    json_decref(list);
    size_t held = 0;
    CHECK(store_package_delete(s, "t", "pkg", NULL, &held) == STORE_CONFLICT && held == 1);
    CHECK(store_package_get(s, "t", "pkg", &got) == STORE_OK);
    json_decref(got);
    CHECK(store_action_delete(s, "t", "pkg/a", NULL) == STORE_OK);
    CHECK(store_package_delete(s, "t", "pkg", &got, &held) == STORE_OK && held == 0);
    CHECK_STR(json_get_str(got, "name", ""), "pkg");
    json_decref(got);
    CHECK(store_package_delete(s, "t", "pkg", NULL, NULL) == STORE_NOT_FOUND);
    CHECK(store_action_get(s, "t", "pkg", &got) == STORE_OK); /* untouched */
    json_decref(got);
    /* the namespace's deletion takes its packages along */
    CHECK(store_namespace_delete(s, "t") == STORE_OK);
    CHECK(store_package_get(s, "t", "pub", &got) == STORE_NOT_FOUND);
}

int main(void) {
    char *dir = scratch_dir("packages");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    free(err);
    if (s) {
        CHECK(store_namespace_create(s, "t", NULL, NULL, NULL, NULL) == STORE_OK);
        test_packages(s);
        store_close(s);
    }
    scratch_remove(dir);
    return CHECK_DONE();
}
