/* test_gateway_catalog.c - the whisk.system catalog's installation: its
 * packages published, its actions present, a restart changing nothing, an
 * altered action restored, and any earlier credential of the namespace
 * revoked (nobody may write there). */
#include "check.h"

#include "host/gateway/catalog.h"
#include "host/util/json.h"
#include "scratch.h"

#include <stdlib.h>
#include <string.h>

#define OLD_UUID "11111111-2222-4333-8444-555555555555"
#define OLD_KEY "0123456789abcdefghijABCDEFGHIJ0123456789abcdefghijABCDEFGHIJ0123"

static void test_install(store *s) {
    /* a namespace of that name with a credential someone knows */
    CHECK(store_namespace_create(s, CATALOG_NAMESPACE, OLD_UUID, OLD_KEY, NULL, NULL) == STORE_OK);
    char *err = NULL;
    CHECK(catalog_install(s, &err) == 0);
    free(err);
    char ns[64], id[STORE_NSID_LEN + 1];
    CHECK(store_authenticate(s, OLD_UUID, OLD_KEY, ns, sizeof ns, id) == STORE_NOT_FOUND);

    json_t *list = NULL;
    CHECK(store_package_list(s, CATALOG_NAMESPACE, 1, 0, 0, &list) == STORE_OK && json_array_size(list) == 2);
    json_decref(list);
    const char *actions[] = {"echo", "cat", "sort", "split", "head", "date"};
    CHECK(store_package_actions(s, CATALOG_NAMESPACE, "utils", 0, 0, &list) == STORE_OK &&
          json_array_size(list) == sizeof actions / sizeof actions[0]);
    json_decref(list);

    /* a restart changes nothing */
    CHECK(catalog_install(s, &err) == 0);
    free(err);
    json_t *doc = NULL;
    CHECK(store_action_get(s, CATALOG_NAMESPACE, "utils/echo", &doc) == STORE_OK);
    CHECK_STR(json_get_str(doc, "version", ""), "0.0.1");
    json_decref(doc);
    CHECK(store_package_get(s, CATALOG_NAMESPACE, "utils", &doc) == STORE_OK);
    CHECK_STR(json_get_str(doc, "version", ""), "0.0.1");
    json_decref(doc);

    /* code that is not this build's is replaced */
    json_t *planted = json_pack("{s{ss ss}}", "exec", "kind", "js:duktape", "code", "function main() { return {}; }");
    CHECK(store_action_put(s, CATALOG_NAMESPACE, "utils/echo", planted, 1, NULL) == STORE_OK);
    json_decref(planted);
    CHECK(catalog_install(s, &err) == 0);
    free(err);
    CHECK(store_action_get(s, CATALOG_NAMESPACE, "utils/echo", &doc) == STORE_OK);
    CHECK_STR(json_get_str(json_object_get(doc, "exec"), "code", ""), "function main(params) { return params; }");
    json_decref(doc);
}

int main(void) {
    char *dir = scratch_dir("catalog");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(dir, &s, &err) == STORE_OK);
    free(err);
    if (s) {
        test_install(s);
        store_close(s);
    }
    scratch_remove(dir);
    return CHECK_DONE();
}
