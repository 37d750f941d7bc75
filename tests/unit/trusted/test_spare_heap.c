/* test_spare_heap.c - the enclave's blank spare heap: nothing before a take
 * has told its limit, one made per refill and handed out once, only to a
 * lease with the limit it was made with, replaced when the limit asked for
 * changes, a take waiting for the refill of its limit under way, none at
 * all when disabled; and a taken spare loads and runs code as a new heap
 * does, within its own limit. */
#include "check.h"
#include "trusted/spare_heap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MB (1024u * 1024u)

static const engine_limits LIM = {.timeout_ms = 5000, .max_result_bytes = 1u << 20, .max_log_bytes = 4096};

/* Loads code into h and calls it with {}: the outcome's status. */
static tfaas_status run(engine_heap *h, const char *code, char **result) {
    engine_outcome o;
    if (engine_heap_load(h, code, strlen(code), "main", "ns", &LIM, &o) != 0) {
        *result = o.result;
        o.result = NULL;
        tfaas_status st = o.status;
        engine_outcome_free(&o);
        return st;
    }
    engine_outcome c = {0};
    engine_heap_call(h, "{}", 2, &LIM, &c);
    *result = c.result;
    c.result = NULL;
    tfaas_status st = c.status;
    engine_outcome_free(&c);
    return st;
}

static void test_take_and_refill(void) {
    spare_heap *s = spare_heap_create(1);
    CHECK(s != NULL);
    spare_heap_refill(s); /* no take yet: no limit to make one with */
    CHECK(spare_heap_take(s, 8 * MB) == NULL);
    spare_heap_refill(s);
    engine_heap *h = spare_heap_take(s, 8 * MB);
    CHECK(h != NULL);
    CHECK(spare_heap_take(s, 8 * MB) == NULL); /* handed out once */
    char *result = NULL;
    CHECK(run(h, "function main(p) { return {x: typeof leaked}; }", &result) == TFAAS_STATUS_SUCCESS);
    CHECK_STR(result, "{\"x\":\"undefined\"}");
    free(result);
    engine_heap_destroy(h);

    spare_heap_refill(s);
    CHECK(spare_heap_take(s, 4 * MB) == NULL); /* made for 8 MiB: not for 4 */
    spare_heap_refill(s);                       /* replaced by one of 4 MiB */
    h = spare_heap_take(s, 4 * MB);
    CHECK(h != NULL);
    /* its limit is the 4 MiB it was made with: 6 MiB of strings fail */
    CHECK(run(h,
              "function main() { var a = []; for (var i = 0; i < 96; i++) a.push(new Array(65537).join('x') + i);"
              " return {n: a.length}; }",
              &result) != TFAAS_STATUS_SUCCESS);
    free(result);
    engine_heap_destroy(h);
    spare_heap_refill(s);
    spare_heap_destroy(s); /* with a spare ready: freed (ASan) */
}

static void test_disabled(void) {
    spare_heap *s = spare_heap_create(0);
    CHECK(s != NULL);
    CHECK(spare_heap_take(s, 8 * MB) == NULL);
    spare_heap_refill(s);
    CHECK(spare_heap_take(s, 8 * MB) == NULL);
    spare_heap_destroy(s);
}

typedef struct {
    spare_heap *s;
    engine_heap *got;
} taker;

static void *take_main(void *arg) {
    taker *t = arg;
    t->got = spare_heap_take(t->s, 8 * MB);
    return NULL;
}

static void *refill_main(void *arg) {
    spare_heap_refill(arg);
    return NULL;
}

/* Takes racing refills: each spare goes to exactly one of them, whatever
 * the order (a take that finds a refill of its limit under way waits for
 * it; one that comes before it gets nothing). */
static void test_concurrent(void) {
    spare_heap *s = spare_heap_create(1);
    CHECK(spare_heap_take(s, 8 * MB) == NULL);
    unsigned got = 0;
    for (int round = 0; round < 20; round++) {
        taker a = {s, NULL}, b = {s, NULL};
        pthread_t r, ta, tb;
        CHECK(pthread_create(&r, NULL, refill_main, s) == 0);
        CHECK(pthread_create(&ta, NULL, take_main, &a) == 0);
        CHECK(pthread_create(&tb, NULL, take_main, &b) == 0);
        pthread_join(r, NULL);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        CHECK(!(a.got && b.got)); /* one spare, at most one taker */
        got += (a.got != NULL) + (b.got != NULL);
        engine_heap_destroy(a.got);
        engine_heap_destroy(b.got);
        engine_heap *left = spare_heap_take(s, 8 * MB); /* the one nobody took, if so */
        got += left != NULL;
        engine_heap_destroy(left);
    }
    CHECK(got == 20); /* every refill made one, and it went to exactly one take */
    spare_heap_destroy(s);
}

int main(void) {
    test_take_and_refill();
    test_disabled();
    test_concurrent();
    return CHECK_DONE();
}
