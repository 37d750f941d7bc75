/* test_util_json.c - the shared jansson helpers: typed getters never mix
 * types, key/value lists behave like OpenWhisk's, compact dumps keep order. */
#include "check.h"
#include "host/util/json.h"

#include <stdlib.h>
#include <string.h>

static void test_getters(void) {
    json_t *o = json_pack("{ss sI sb sn}", "s", "text", "i", (json_int_t)42, "b", 1, "n");
    CHECK_STR(json_get_str(o, "s", "d"), "text");
    CHECK_STR(json_get_str(o, "i", "d"), "d");   /* an integer is not a string */
    CHECK_STR(json_get_str(o, "missing", "d"), "d");
    CHECK(json_get_int(o, "i", -1) == 42);
    CHECK(json_get_int(o, "s", -1) == -1);        /* a string is not an integer */
    CHECK(json_get_int(o, "b", -1) == -1);
    CHECK(json_get_bool(o, "b", 0) == 1);
    CHECK(json_get_bool(o, "n", 7) == 7);         /* null is not a boolean */
    json_t *arr = json_array();
    CHECK_STR(json_get_str(arr, "s", "d"), "d");  /* not an object */
    CHECK(json_get_int(NULL, "i", 3) == 3);
    json_decref(arr);
    json_decref(o);
}

static void test_kv_lists(void) {
    json_t *list = json_array();
    CHECK(json_kv_set(list, "a", json_integer(1)) == 0);
    CHECK(json_kv_set(list, "b", json_string("x")) == 0);
    CHECK(json_kv_set(list, "a", json_integer(2)) == 0); /* replaces, does not append */
    CHECK(json_array_size(list) == 2);
    CHECK(json_integer_value(json_kv_find(list, "a")) == 2);
    CHECK(json_kv_find(list, "zzz") == NULL);
    CHECK(json_kv_find(NULL, "a") == NULL);
    CHECK(json_kv_set(NULL, "a", json_integer(1)) == -1); /* steals even on failure: no leak under ASan */
    CHECK(json_kv_set(list, "a", NULL) == -1);

    /* malformed entries are skipped; later keys win */
    json_array_append_new(list, json_string("not an entry"));
    json_array_append_new(list, json_pack("{si}", "key", 5));
    json_array_append_new(list, json_pack("{ss}", "key", "novalue"));
    json_array_append_new(list, json_pack("{ss ss}", "key", "b", "value", "later"));
    json_t *obj = json_kv_to_object(list);
    CHECK(json_object_size(obj) == 2);
    CHECK_STR(json_get_str(obj, "b", NULL), "later");
    CHECK(json_get_int(obj, "a", 0) == 2);
    json_decref(obj);
    json_t *not_list = json_string("no list");
    obj = json_kv_to_object(not_list);
    CHECK(json_is_object(obj) && json_object_size(obj) == 0);
    json_decref(obj);
    json_decref(not_list);
    json_decref(list);
}

static void test_dump(void) {
    json_t *v = json_loads("{\"z\":1,\"a\":[true,null],\"s\":\"a\\u0000b\"}", JSON_ALLOW_NUL, NULL);
    char *text = json_dump_compact(v);
    /* order preserved, no spaces, NUL escaped so C strings stay whole */
    CHECK_STR(text, "{\"z\":1,\"a\":[true,null],\"s\":\"a\\u0000b\"}");
    free(text);
    json_decref(v);
    json_t *n = json_integer(5);
    text = json_dump_compact(n); /* not only objects */
    CHECK_STR(text, "5");
    free(text);
    json_decref(n);
}

int main(void) {
    test_getters();
    test_kv_lists();
    test_dump();
    return CHECK_DONE();
}
