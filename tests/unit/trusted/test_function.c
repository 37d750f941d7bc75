/* test_function.c - the function table and its warm-heap pools: NEED_CODE,
 * warm reuse, the per-function and enclave-wide idle caps, TTL expiry, DROP
 * by key and by prefix (also while a heap is in use), and the function cap. */
#include "check.h"
#include "trusted/function.h"

#include <string.h>
#include <unistd.h>

#define MB (1024u * 1024u)
static const char CODE[] = "function main() { return {}; }";

/* Leases key; when cold, creates a heap as the endpoint would (no load: the
 * table does not care what the heap holds). */
static fn_acquire_status lease(fn_table *t, const char *key, const char *code, unsigned conc, fn_lease *l) {
    fn_acquire_status st = fn_table_acquire(t, key, code, code ? strlen(code) : 0, "main", 8 * MB, conc, l);
    if (st == FN_LEASED && !l->heap) l->heap = engine_heap_create(l->memory_bytes);
    return st;
}

static void test_basics(void) {
    fn_table_config cfg = {.max_functions = 8, .max_idle_heaps = 3, .idle_ttl_ms = 60000};
    fn_table *t = fn_table_create(&cfg);
    fn_lease a, b, c;
    size_t fns, idle;
    CHECK(lease(t, "ns/f@1", "", 1, &a) == FN_NEED_CODE);
    CHECK(lease(t, "ns/f@1", NULL, 1, &a) == FN_NEED_CODE);
    CHECK(fn_table_acquire(t, "ns/f@1", CODE, strlen(CODE), "", 8 * MB, 2, &a) == FN_LEASED);
    CHECK(a.heap == NULL && a.code_len == strlen(CODE) && strcmp(a.code, CODE) == 0);
    CHECK_STR(a.main, "main"); /* empty entry-point name means main */
    a.heap = engine_heap_create(8 * MB);
    engine_heap *first = a.heap;
    /* a second activation while the first runs gets no heap: it makes one */
    CHECK(lease(t, "ns/f@1", "", 2, &b) == FN_LEASED);
    CHECK(b.heap != first);
    fn_table_release(t, &a, first, 0);
    fn_table_release(t, &b, b.heap, 0);
    fn_table_counts(t, &fns, &idle);
    CHECK(fns == 1 && idle == 2);
    /* warm reuse; a known key keeps its code even if other code is sent */
    CHECK(fn_table_acquire(t, "ns/f@1", "other", 5, "main", 8 * MB, 2, &a) == FN_LEASED);
    CHECK(a.heap != NULL && strcmp(a.code, CODE) == 0);
    fn_table_release(t, &a, a.heap, 1); /* discarded: destroyed, not pooled */
    fn_table_counts(t, &fns, &idle);
    CHECK(idle == 1);
    /* concurrency lowered to 1: only one idle heap kept */
    CHECK(lease(t, "ns/f@1", "", 1, &a) == FN_LEASED && a.heap);
    CHECK(lease(t, "ns/f@1", "", 1, &b) == FN_LEASED && b.heap);
    fn_table_release(t, &a, a.heap, 0);
    fn_table_release(t, &b, b.heap, 0);
    fn_table_counts(t, &fns, &idle);
    CHECK(idle == 1);
    /* enclave-wide cap of 3: the least recently used goes */
    const char *keys[] = {"ns/g@1", "ns/h@1", "ns/i@1"};
    for (int i = 0; i < 3; i++) {
        CHECK(lease(t, keys[i], CODE, 1, &c) == FN_LEASED);
        fn_table_release(t, &c, c.heap, 0);
    }
    fn_table_counts(t, &fns, &idle);
    CHECK(fns == 4 && idle == 3);
    /* f's heap was the oldest: evicted, so f starts cold */
    CHECK(fn_table_acquire(t, "ns/f@1", "", 0, "main", 8 * MB, 1, &a) == FN_LEASED);
    CHECK(a.heap == NULL);
    fn_table_release(t, &a, NULL, 0);

    /* drop by prefix while a heap is in use: the heap goes when returned */
    CHECK(lease(t, "ns/f@2", CODE, 1, &b) == FN_LEASED);
    CHECK(fn_table_drop(t, "ns/f@") == 2);
    CHECK(lease(t, "ns/f@1", "", 1, &a) == FN_NEED_CODE);
    CHECK(strcmp(b.code, CODE) == 0); /* still valid for the running lease */
    fn_table_release(t, &b, b.heap, 0);
    fn_table_counts(t, &fns, &idle);
    CHECK(fns == 3);
    CHECK(fn_table_drop(t, "ns/g@1") == 1);
    CHECK(fn_table_drop(t, "ns/g@1") == 0);
    CHECK(fn_table_drop(t, "ns/h") == 0); /* no '@': exact match only */
    fn_table_destroy(t);
}

static void test_limits(void) {
    fn_table_config cfg = {.max_functions = 2, .max_idle_heaps = 10, .idle_ttl_ms = 50};
    fn_table *t = fn_table_create(&cfg);
    fn_lease a, b, c;
    size_t fns, idle;
    CHECK(lease(t, "ns/a@1", CODE, 1, &a) == FN_LEASED);
    CHECK(lease(t, "ns/b@1", CODE, 1, &b) == FN_LEASED);
    CHECK(lease(t, "ns/c@1", CODE, 1, &c) == FN_FULL); /* both running */
    fn_table_release(t, &a, a.heap, 0);
    CHECK(lease(t, "ns/c@1", CODE, 1, &c) == FN_LEASED); /* a forgotten to make room */
    CHECK(lease(t, "ns/a@1", "", 1, &a) == FN_NEED_CODE);
    fn_table_release(t, &b, b.heap, 0);
    fn_table_release(t, &c, c.heap, 0);
    fn_table_counts(t, &fns, &idle);
    CHECK(fns == 2 && idle == 2);
    usleep(80 * 1000);
    fn_table_sweep(t);
    fn_table_counts(t, &fns, &idle);
    CHECK(fns == 0 && idle == 0);
    fn_table_destroy(t);
}

int main(void) {
    test_basics();
    test_limits();
    return CHECK_DONE();
}
