/* test_run_spec.c - INVOKE's ACTION read by the enclave (run_spec.c): the
 * environment keeps only the host's __OW_* strings, never lets the host set
 * the enclave's own two fields, and a worker's cache of the last ACTION
 * gives the same environment as a fresh read, follows a changed ACTION, and
 * is not spoiled by a malformed one. */
#include "check.h"
#include "trusted/run_spec.h"

#include <jansson.h>
#include <stdlib.h>

/* Reads ACTION through cache and returns the environment as a tree (NULL
 * when refused); *binary and *node get the flags. */
static json_t *env_of(run_spec_cache *cache, const char *action, const char *aid, int *binary, int *node) {
    run_spec rs;
    char *err = NULL;
    if (run_spec_read(&rs, cache, action, strlen(action), aid, 1000, &err) < 0) {
        free(err);
        return NULL;
    }
    json_t *env = json_loadb(rs.env.env_json, rs.env.env_len, JSON_REJECT_DUPLICATES, NULL);
    if (binary) *binary = rs.binary;
    if (node) *node = rs.env.node;
    run_spec_free(&rs);
    return env;
}

static const char *str(json_t *env, const char *k) { return json_string_value(json_object_get(env, k)); }

static void test_fields(void) {
    run_spec_cache cache = {0};
    int binary = -1, node = -1;
    json_t *env = env_of(&cache,
                         "{\"binary\":true,\"node\":false,\"env\":{\"__OW_NAMESPACE\":\"ns\",\"__OW_X\":7,"
                         "\"PATH\":\"/bin\",\"__OW_ACTIVATION_ID\":\"forged\",\"__OW_DEADLINE\":\"1\"}}",
                         "abc\"\\\x01", &binary, &node);
    CHECK(env != NULL);
    CHECK(binary == 1 && node == 0);
    CHECK_STR(str(env, "__OW_NAMESPACE"), "ns");
    CHECK(json_object_get(env, "__OW_X") == NULL); /* not a string */
    CHECK(json_object_get(env, "PATH") == NULL);   /* not __OW_ */
    CHECK_STR(str(env, "__OW_ACTIVATION_ID"), "abc\"\\\x01");
    const char *deadline = str(env, "__OW_DEADLINE");
    CHECK(deadline && strcmp(deadline, "1") != 0 && strtoull(deadline, NULL, 10) > 1000);
    CHECK(json_object_size(env) == 3);
    json_decref(env);
    run_spec_cache_free(&cache);
}

static void test_cache(void) {
    run_spec_cache cache = {0};
    const char *a = "{\"env\":{\"__OW_ACTION_NAME\":\"/ns/a\"}}", *b = "{\"node\":true,\"env\":{}}";
    json_t *first = env_of(&cache, a, "id1", NULL, NULL), *again = env_of(&cache, a, "id2", NULL, NULL);
    CHECK(first && again);
    CHECK_STR(str(again, "__OW_ACTION_NAME"), "/ns/a");
    CHECK_STR(str(again, "__OW_ACTIVATION_ID"), "id2");
    CHECK(json_object_size(again) == 3);
    /* Another ACTION: its own fields, none of the cached one's. */
    int node = 0;
    json_t *other = env_of(&cache, b, "id3", NULL, &node);
    CHECK(other && node == 1);
    CHECK(json_object_get(other, "__OW_ACTION_NAME") == NULL);
    CHECK_STR(str(other, "__OW_ACTIVATION_ID"), "id3");
    CHECK(json_object_size(other) == 2);
    /* Refused: malformed, or env not an object; the next good one reads well. */
    CHECK(env_of(&cache, "{\"env\":[]}", "x", NULL, NULL) == NULL);
    CHECK(env_of(&cache, "{\"env\":{", "x", NULL, NULL) == NULL);
    CHECK(env_of(&cache, "[1]", "x", NULL, NULL) == NULL);
    json_t *after = env_of(&cache, a, "id4", NULL, NULL);
    CHECK(after && json_object_size(after) == 3);
    CHECK_STR(str(after, "__OW_ACTION_NAME"), "/ns/a");
    /* Empty ACTION: the enclave's two fields only. */
    json_t *empty = env_of(&cache, "", "id5", NULL, NULL);
    CHECK(empty && json_object_size(empty) == 2);
    json_decref(first);
    json_decref(again);
    json_decref(other);
    json_decref(after);
    json_decref(empty);
    run_spec_cache_free(&cache);
}

int main(void) {
    test_fields();
    test_cache();
    return CHECK_DONE();
}
