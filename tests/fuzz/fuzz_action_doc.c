/* fuzz_action_doc.c - libFuzzer target for the action PUT body: the JSON
 * text as the gateway loads it (server.c's flags) and the validation that
 * turns it into the stored document (src/host/gateway/action_doc.c).
 *
 * Invariants: a refused body comes with a message; an accepted one gives a
 * document that is a sequence of 1 to ACTION_SEQUENCE_MAX components or
 * whose kind is supported, whose code is a string and binary a boolean, whose limits are
 * all present and in bounds and whose annotations carry the "exec" family;
 * building from that document again gives the same document (validation is
 * idempotent), so does an update with the same body, and so does the
 * store's text round trip (json_dumps then the store's load flags). */
#include "fuzz.h"

#include "host/gateway/action_doc.h"
#include "host/util/json.h"

static void check_doc(const json_t *doc) {
    const json_t *exec = json_object_get(doc, "exec");
    FUZZ_CHECK(json_is_object(exec));
    if (action_is_sequence(doc)) { /* components instead of code */
        const json_t *comps = json_object_get(exec, "components");
        FUZZ_CHECK(json_is_array(comps) && json_array_size(comps) >= 1 &&
                   json_array_size(comps) <= ACTION_SEQUENCE_MAX);
    } else {
        FUZZ_CHECK(action_kind_supported(json_string_value(json_object_get(exec, "kind"))));
        FUZZ_CHECK(json_is_string(json_object_get(exec, "code")));
        /* a zip (binary) action is stored, marked; running it is refused */
        FUZZ_CHECK(json_is_boolean(json_object_get(exec, "binary")));
        FUZZ_CHECK(json_is_true(json_object_get(exec, "binary")) == (action_is_binary(doc) != 0));
    }
    FUZZ_CHECK(json_is_array(json_object_get(doc, "parameters")));
    FUZZ_CHECK(json_is_string(json_kv_find(json_object_get(doc, "annotations"), "exec")));

    const json_t *lim = json_object_get(doc, "limits");
    FUZZ_CHECK(json_is_integer(json_object_get(lim, "timeout")) && json_is_integer(json_object_get(lim, "memory")) &&
               json_is_integer(json_object_get(lim, "logs")) && json_is_integer(json_object_get(lim, "concurrency")));
    action_limits l;
    action_limits_get(doc, &l);
    FUZZ_CHECK(l.timeout_ms >= LIMIT_TIMEOUT_MIN && l.timeout_ms <= LIMIT_TIMEOUT_MAX);
    FUZZ_CHECK(l.memory_mb >= LIMIT_MEMORY_MIN && l.memory_mb <= LIMIT_MEMORY_MAX);
    FUZZ_CHECK(l.logs_mb >= LIMIT_LOGS_MIN && l.logs_mb <= LIMIT_LOGS_MAX);
    FUZZ_CHECK(l.concurrency >= LIMIT_CONCURRENCY_MIN && l.concurrency <= LIMIT_CONCURRENCY_MAX);
}

/* build(body, old) must succeed and equal want. */
static void check_same(const json_t *body, const json_t *old, const json_t *want) {
    char err[512] = "";
    json_t *again = action_doc_build(body, old, err, sizeof err);
    if (!again) fprintf(stderr, "rebuild refused: %s\n", err);
    FUZZ_CHECK(again != NULL);
    FUZZ_CHECK(json_equal(again, want));
    json_decref(again);
}

static void check_store_text(const json_t *doc) {
    char *text = json_dumps(doc, JSON_COMPACT);
    FUZZ_CHECK(text != NULL);
    json_error_t e;
    json_t *back = json_loadb(text, strlen(text), JSON_ALLOW_NUL, &e);
    if (!back) fprintf(stderr, "stored text does not load: %s\n", e.text);
    FUZZ_CHECK(back != NULL && json_equal(back, doc));
    json_decref(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_error_t e;
    json_t *body = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!body) return 0;
    char err[512] = "";
    json_t *doc = action_doc_build(body, NULL, err, sizeof err);
    if (!doc) {
        FUZZ_CHECK(err[0] != '\0');
    } else {
        check_doc(doc);
        check_same(doc, NULL, doc);
        check_same(body, doc, doc);
        check_store_text(doc);
        json_decref(doc);
    }
    json_decref(body);

    /* the action name from the URL is outside bytes too */
    char *name = fuzz_cstr(data, size);
    if (action_name_valid(name)) FUZZ_CHECK(strlen(name) >= 1 && strlen(name) <= ACTION_MAX_NAME);
    free(name);
    return 0;
}
