/* test_store_cache.c - the store's read cache never serves what this store
 * has changed, forgets no more than a write changed, and notices changes another process (another connection to
 * the same file, like `tfaas admin`) committed within its bound. */
#include "check.h"
#include "test_store_helpers.h"

#include "host/store/store.h"

#include <time.h>

#define UUID "0a1b2c3d-0000-4000-8000-000000000001"
#define KEY "k3y0000000000000000000000000000000000000000000000000000000000000"

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static json_t *action(const char *code) {
    return json_pack("{s{ss ss}}", "exec", "kind", "js:duktape", "code", code);
}

static const char *code_of(json_t *doc) {
    return json_string_value(json_object_get(json_object_get(doc, "exec"), "code"));
}

/* This store's own writes: seen at once. */
static void test_own_writes(store *s) {
    char ns[300];
    CHECK(store_authenticate(s, UUID, KEY, ns, sizeof ns, NULL) == STORE_OK); /* fills the cache */
    CHECK(store_authenticate(s, UUID, KEY, ns, sizeof ns, NULL) == STORE_OK && !strcmp(ns, "t"));
    CHECK(store_authenticate(s, UUID, "wrong", ns, sizeof ns, NULL) == STORE_NOT_FOUND); /* the key is still checked */

    json_t *doc = action("function main(){return {v:1}}");
    CHECK(store_action_put(s, "t", "f", doc, 0, NULL) == STORE_OK);
    json_decref(doc);
    json_t *got = NULL;
    CHECK(store_action_peek(s, "t", "f", &got) == STORE_OK && strstr(code_of(got), "v:1"));
    json_decref(got);
    CHECK(store_action_peek(s, "t", "f", &got) == STORE_OK && strstr(code_of(got), "v:1")); /* cached */
    json_decref(got);

    doc = action("function main(){return {v:2}}");
    CHECK(store_action_put(s, "t", "f", doc, 1, NULL) == STORE_OK);
    json_decref(doc);
    CHECK(store_action_peek(s, "t", "f", &got) == STORE_OK && strstr(code_of(got), "v:2"));
    json_decref(got);

    CHECK(store_action_delete(s, "t", "f", NULL) == STORE_OK);
    CHECK(store_action_peek(s, "t", "f", &got) == STORE_NOT_FOUND && got == NULL);

    CHECK(store_namespace_set_credential(s, "t", UUID, "newkey000000000000000000000000000000000000000000000000000000000") ==
          STORE_OK);
    CHECK(store_authenticate(s, UUID, KEY, ns, sizeof ns, NULL) == STORE_NOT_FOUND);
    CHECK(store_authenticate(s, UUID, "newkey000000000000000000000000000000000000000000000000000000000", ns,
                             sizeof ns, NULL) == STORE_OK);
    CHECK(store_namespace_set_credential(s, "t", UUID, KEY) == STORE_OK);
}

/* A write to one action forgets that action only: another's cached document
 * stays (the same object comes back: `kept` is held, so a new read could not
 * reuse its memory), and the written one is read anew. */
static void test_action_write_keeps_others(store *s) {
    json_t *doc = action("function main(){return {k:1}}");
    CHECK(store_action_put(s, "t", "keep", doc, 0, NULL) == STORE_OK);
    CHECK(store_action_put(s, "t", "other", doc, 0, NULL) == STORE_OK);
    json_decref(doc);
    json_t *kept = NULL, *got = NULL;
    CHECK(store_action_peek(s, "t", "keep", &kept) == STORE_OK);
    CHECK(store_action_peek(s, "t", "keep", &got) == STORE_OK && got == kept);
    json_decref(got);
    doc = action("function main(){return {o:2}}");
    CHECK(store_action_put(s, "t", "other", doc, 1, NULL) == STORE_OK);
    CHECK(store_action_peek(s, "t", "keep", &got) == STORE_OK && got == kept);
    json_decref(got);
    CHECK(store_action_peek(s, "t", "other", &got) == STORE_OK && strstr(code_of(got), "o:2"));
    json_decref(got);
    CHECK(store_action_delete(s, "t", "other", NULL) == STORE_OK);
    CHECK(store_action_peek(s, "t", "keep", &got) == STORE_OK && got == kept);
    json_decref(got);
    CHECK(store_action_put(s, "t", "keep", doc, 1, NULL) == STORE_OK);
    json_decref(doc);
    CHECK(store_action_peek(s, "t", "keep", &got) == STORE_OK && got != kept && strstr(code_of(got), "o:2"));
    json_decref(got);
    json_decref(kept);
    CHECK(store_action_delete(s, "t", "keep", NULL) == STORE_OK);
}

/* Another connection's writes: seen within the bound (50 ms; 1 s allowed here). */
static void test_other_process(store *s, const char *dir) {
    char ns[300];
    uint64_t epoch = store_namespace_epoch(s);
    json_t *doc = action("function main(){return {w:1}}");
    CHECK(store_action_put(s, "t", "g", doc, 0, NULL) == STORE_OK);
    json_decref(doc);
    CHECK(store_namespace_epoch(s) == epoch); /* an action write cannot end a namespace */
    json_t *got = NULL;
    CHECK(store_authenticate(s, UUID, KEY, ns, sizeof ns, NULL) == STORE_OK);
    CHECK(store_action_peek(s, "t", "g", &got) == STORE_OK);
    json_decref(got);

    store *other = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &other, &err) == STORE_OK);
    free(err);
    if (!other) return;
    doc = action("function main(){return {w:2}}");
    CHECK(store_action_put(other, "t", "g", doc, 1, NULL) == STORE_OK);
    json_decref(doc);
    CHECK(store_namespace_delete(other, "t") == STORE_OK);
    store_close(other);

    int revoked = 0;
    for (int i = 0; i < 100 && !revoked; i++) {
        revoked = store_authenticate(s, UUID, KEY, ns, sizeof ns, NULL) == STORE_NOT_FOUND;
        if (!revoked) sleep_ms(10);
    }
    CHECK(revoked);
    CHECK(store_action_peek(s, "t", "g", &got) == STORE_NOT_FOUND); /* the namespace took it along */
    CHECK(store_namespace_epoch(s) != epoch); /* the other process's delete moved it */
    epoch = store_namespace_epoch(s);
    CHECK(store_namespace_create(s, "t2", NULL, NULL, NULL, NULL) == STORE_OK);
    CHECK(store_namespace_epoch(s) != epoch); /* and so does this store's own */
}

int main(void) {
    char *dir = scratch_dir("cache");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    free(err);
    if (s) {
        CHECK(store_namespace_create(s, "t", UUID, KEY, NULL, NULL) == STORE_OK);
        test_own_writes(s);
        test_action_write_keeps_others(s);
        test_other_process(s, dir);
        store_close(s);
    }
    scratch_remove(dir);
    return CHECK_DONE();
}
