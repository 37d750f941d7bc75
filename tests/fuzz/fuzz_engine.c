/* fuzz_engine.c - libFuzzer target with the engine in the loop: the input is
 * a function's source, which the Duktape engine (engine.h, as the enclave's
 * workers use it) loads into a fresh heap with a small memory limit and a
 * short timeout, then calls with a small params object; a heap that is not
 * discarded is called a second time, as a warm heap would be. Each input runs
 * on a thread with the stack an enclave worker gets. tests/fuzz/engine.dict
 * gives libFuzzer JavaScript tokens to splice in.
 *
 * Invariants: every input ends as an outcome, never a crash, a leak or a
 * hang: a failed load is a developer error {"error": "..."}; a call has a
 * known status and a JSON object result (bytes Duktape writes for lone
 * surrogates aside, which the host sanitises) with an "error" member exactly
 * when it is not a success, within the result limit when the function
 * returned it; logs stay within their limit and the truncation line; the
 * heap's peak stays under its limit; load and calls end within a bounded
 * multiple of their timeout. */
#include "fuzz.h"

#include "trusted/engine.h"

#include <jansson.h>
#include <pthread.h>
#include <time.h>

#define TIMEOUT_MS 50u
#define MEMORY_BYTES (8u << 20)
/* Past the timeout: the interrupt check's granularity, the heap's teardown
 * and a loaded machine, under ASan. A hang would take seconds. */
#define ELAPSED_MAX_MS 2000u
#define PARAMS "{\"name\":\"fuzz\",\"n\":3,\"list\":[1,\"two\",null,2.5],\"nested\":{\"ok\":true}}"

static const engine_limits LIM = {.timeout_ms = TIMEOUT_MS, .max_result_bytes = 64u << 10, .max_log_bytes = 4u << 10};

typedef struct {
    const uint8_t *code;
    size_t size;
} job;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The outcome's result and logs are what engine.h promises. */
static void check_outcome(const engine_outcome *o, int loaded) {
    FUZZ_CHECK(o->result != NULL && o->logs != NULL);
    FUZZ_CHECK(o->status <= TFAAS_STATUS_INTERNAL_ERR);
    FUZZ_CHECK(loaded || o->status == TFAAS_STATUS_DEVELOPER_ERR || o->status == TFAAS_STATUS_INTERNAL_ERR);
    FUZZ_CHECK(o->result[0] == '{');
    FUZZ_CHECK(strlen(o->logs) <= LIM.max_log_bytes + 256);
    FUZZ_CHECK(o->peak_memory <= MEMORY_BYTES);
    if (o->status <= TFAAS_STATUS_APPLICATION_ERR) FUZZ_CHECK(strlen(o->result) <= LIM.max_result_bytes);
    json_error_t e;
    json_t *r = json_loads(o->result, JSON_ALLOW_NUL, &e);
    if (!r) {
        /* A lone surrogate in a string: Duktape writes it as CESU-8. */
        FUZZ_CHECK(json_error_code(&e) == json_error_invalid_utf8);
        FUZZ_CHECK(o->status <= TFAAS_STATUS_APPLICATION_ERR);
        return;
    }
    FUZZ_CHECK(json_is_object(r));
    int has_error = json_object_get(r, "error") != NULL;
    FUZZ_CHECK(has_error == (o->status != TFAAS_STATUS_SUCCESS));
    if (o->status >= TFAAS_STATUS_DEVELOPER_ERR) FUZZ_CHECK(json_is_string(json_object_get(r, "error")));
    json_decref(r);
}

static void *run(void *arg) {
    const job *j = arg;
    uint64_t t0 = now_ms();
    engine_heap *h = engine_heap_create(MEMORY_BYTES);
    FUZZ_CHECK(h != NULL);
    engine_outcome o;
    if (engine_heap_load(h, (const char *)j->code, j->size, "main", "fuzz", &LIM, &o) < 0) {
        check_outcome(&o, 0);
        engine_outcome_free(&o);
    } else {
        for (int call = 0; call < 2; call++) {
            engine_heap_call(h, PARAMS, strlen(PARAMS), &LIM, &o);
            check_outcome(&o, 1);
            int discard = o.discard;
            engine_outcome_free(&o);
            if (discard) break;
        }
    }
    engine_heap_destroy(h);
    FUZZ_CHECK(now_ms() - t0 <= 3 * TIMEOUT_MS + ELAPSED_MAX_MS);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    job j = {data, size};
    pthread_attr_t attr;
    pthread_t t;
    FUZZ_CHECK(pthread_attr_init(&attr) == 0);
    FUZZ_CHECK(pthread_attr_setstacksize(&attr, ENGINE_STACK_BYTES) == 0);
    FUZZ_CHECK(pthread_create(&t, &attr, run, &j) == 0);
    pthread_attr_destroy(&attr);
    FUZZ_CHECK(pthread_join(t, NULL) == 0);
    return 0;
}
