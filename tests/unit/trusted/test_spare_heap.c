/* test_spare_heap.c - the enclave's blank spare heap: nothing before a take
 * has told its limit; the maker thread (at SCHED_IDLE) makes one after a
 * take, which goes to one lease only and only to a lease with the limit it
 * was made with, and is replaced when the limit asked for changes; a heap
 * that cannot be made is not tried in a loop and the maker goes on
 * afterwards; none at all when disabled;
 * destroyed while one is being made; and a taken spare loads and runs code
 * as a new heap does, within its own limit, with nothing of the function
 * that ran in the spare before it; and the maker makes none while takes or
 * answers keep coming less than SPARE_QUIET_US apart, nor sooner than that
 * after the last one (the host is still answering then). */
#include "check.h"
#include "trusted/spare_heap.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MB (1024u * 1024u)

/* The maker runs at idle priority: on a machine busy with other work it gets
 * the CPU late, so waits for it are generous (a heap is about 1 ms of CPU). */
#define WAIT_S 60

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

static int wait_ready(spare_heap *s, size_t limit, int seconds) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    return spare_heap_wait(s, limit, &until);
}

static void test_take_and_make(void) {
    spare_heap *s = spare_heap_create(1);
    CHECK(s != NULL);
    CHECK(spare_heap_idle_priority(s));
    spare_heap_refill(s); /* no take yet: no limit to make one with */
    CHECK(spare_heap_take(s, 8 * MB) == NULL);
    CHECK(wait_ready(s, 8 * MB, WAIT_S)); /* the maker made one after that take */
    engine_heap *h = spare_heap_take(s, 8 * MB);
    CHECK(h != NULL);
    engine_heap *h2 = spare_heap_take(s, 8 * MB);
    CHECK(h2 != h); /* handed out once (a new one may already be ready) */
    engine_heap_destroy(h2);
    char *result = NULL;
    CHECK(run(h, "function main(p) { globalThis.leaked = 1; Object.prototype.x = 2; return {x: typeof leaked}; }",
              &result) == TFAAS_STATUS_SUCCESS);
    CHECK_STR(result, "{\"x\":\"number\"}");
    free(result);
    engine_heap_destroy(h);
    /* the next spare holds nothing of the function that ran before */
    CHECK(wait_ready(s, 8 * MB, WAIT_S));
    h = spare_heap_take(s, 8 * MB);
    CHECK(h != NULL);
    CHECK(run(h, "function main(p) { return {x: typeof leaked, y: typeof ({}).x}; }", &result) ==
          TFAAS_STATUS_SUCCESS);
    CHECK_STR(result, "{\"x\":\"undefined\",\"y\":\"undefined\"}");
    free(result);
    engine_heap_destroy(h);

    CHECK(wait_ready(s, 8 * MB, WAIT_S));
    CHECK(spare_heap_take(s, 4 * MB) == NULL); /* made for 8 MiB: not for 4 */
    CHECK(wait_ready(s, 4 * MB, WAIT_S));      /* replaced by one of 4 MiB */
    h = spare_heap_take(s, 4 * MB);
    CHECK(h != NULL);
    /* its limit is the 4 MiB it was made with: 6 MiB of strings fail */
    CHECK(run(h,
              "function main() { var a = []; for (var i = 0; i < 96; i++) a.push(new Array(65537).join('x') + i);"
              " return {n: a.length}; }",
              &result) != TFAAS_STATUS_SUCCESS);
    free(result);
    engine_heap_destroy(h);
    CHECK(wait_ready(s, 4 * MB, WAIT_S));
    spare_heap_destroy(s); /* with a spare ready: freed (ASan) */
}

/* A limit no heap fits in: tried once per take, and the maker still makes
 * the next spare a take asks for. */
static void test_unmakeable(void) {
    spare_heap *s = spare_heap_create(1);
    CHECK(spare_heap_take(s, 1024) == NULL);
    CHECK(!wait_ready(s, 1024, 1));
    CHECK(spare_heap_take(s, 8 * MB) == NULL);
    CHECK(wait_ready(s, 8 * MB, WAIT_S));
    spare_heap_destroy(s);
}

static void test_disabled(void) {
    spare_heap *s = spare_heap_create(0);
    CHECK(s != NULL);
    CHECK(!spare_heap_idle_priority(s));
    CHECK(spare_heap_take(s, 8 * MB) == NULL);
    spare_heap_refill(s);
    CHECK(spare_heap_take(s, 8 * MB) == NULL);
    spare_heap_destroy(s);
}

typedef struct {
    spare_heap *s;
    unsigned got, wrong; /* spares taken; of them, ones that ran wrongly */
} taker;

/* Takes in a loop, uses and frees what it gets: a spare handed to two
 * takers would be freed twice (ASan) or run twice (the leak check). The
 * checks are counted here and made by the main thread after the join
 * (check.h's counters are not for several threads). */
static void *take_main(void *arg) {
    taker *t = arg;
    for (int i = 0; i < 200; i++) {
        engine_heap *h = spare_heap_take(t->s, 8 * MB);
        if (!h) continue;
        t->got++;
        char *result = NULL;
        if (run(h, "var seen = typeof mark; var mark = 1; function main() { return {s: seen}; }", &result) !=
                TFAAS_STATUS_SUCCESS ||
            !result || strcmp(result, "{\"s\":\"undefined\"}") != 0)
            t->wrong++;
        free(result);
        engine_heap_destroy(h);
    }
    return NULL;
}

/* Takes racing each other, the maker and refills on the caller's thread. */
static void test_concurrent(void) {
    spare_heap *s = spare_heap_create(1);
    CHECK(spare_heap_take(s, 8 * MB) == NULL);
    CHECK(wait_ready(s, 8 * MB, WAIT_S));
    taker a = {s, 0, 0}, b = {s, 0, 0};
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, take_main, &a) == 0);
    CHECK(pthread_create(&tb, NULL, take_main, &b) == 0);
    for (int i = 0; i < 50; i++) spare_heap_refill(s);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.got + b.got >= 1); /* the one ready before they started, at least */
    CHECK(a.wrong == 0 && b.wrong == 0);
    spare_heap_destroy(s);     /* perhaps while the maker makes one: joined, freed */
}

static uint64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Whether a spare made with limit is ready now (spare_heap_wait that does
 * not wait). */
static int ready_now(spare_heap *s, size_t limit) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return spare_heap_wait(s, limit, &now);
}

/* The quiet moment: each check below asserts only while the promise holds
 * (less than SPARE_QUIET_US since the last take or noted answer, measured
 * after the check), so a test thread that the machine holds back longer
 * proves nothing but fails nothing either. */
static void test_quiet(void) {
    spare_heap *s = spare_heap_create(1);
    CHECK(spare_heap_take(s, 8 * MB) == NULL);
    CHECK(wait_ready(s, 8 * MB, WAIT_S));
    unsigned checked = 0;
    for (int round = 0; round < 20; round++) {
        uint64_t busy = mono_us(); /* before the take: the maker's window starts later */
        engine_heap *h = spare_heap_take(s, 8 * MB);
        if (!h) continue; /* the maker held the lock: nothing taken, nothing promised */
        /* Answers every 50 us for 3 ms: no spare while they keep coming. */
        uint64_t until = busy + 3000;
        int kept = 1; /* every gap so far under SPARE_QUIET_US */
        while (mono_us() < until) {
            int ready = ready_now(s, 8 * MB);
            if (mono_us() - busy >= SPARE_QUIET_US) { /* held back: the maker may have begun */
                kept = 0;
                break;
            }
            CHECK(!ready);
            checked++;
            uint64_t before = mono_us();
            if (spare_heap_answered(s)) busy = before;
            struct timespec pause = {0, 50 * 1000};
            nanosleep(&pause, NULL);
        }
        /* After the last answer: still none within the quiet moment, then one. */
        while (kept) {
            int ready = ready_now(s, 8 * MB);
            if (mono_us() - busy >= SPARE_QUIET_US) break;
            CHECK(!ready);
            checked++;
        }
        engine_heap_destroy(h); /* after the checks: freeing a heap is slow under the sanitizers */
        CHECK(wait_ready(s, 8 * MB, WAIT_S));
    }
    /* Each round asserted something unless the machine held this thread
     * back at every step; twenty such rounds in a row would be a broken
     * test, not a slow machine. */
    CHECK(checked > 0);
    spare_heap_destroy(s);

    spare_heap *off = spare_heap_create(0);
    CHECK(!spare_heap_answered(off)); /* disabled: nothing to note */
    spare_heap_destroy(off);
}

int main(void) {
    test_take_and_make();
    test_unmakeable();
    test_disabled();
    test_concurrent();
    test_quiet();
    return CHECK_DONE();
}
