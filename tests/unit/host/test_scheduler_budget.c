/* test_scheduler_budget.c - the per-namespace admission budget (budget.h):
 * takes within both limits, refusals by count and by bytes that change
 * nothing, adds past the limits, gives that never underflow, namespaces
 * apart, no wrap-around on huge requests, unlimited dimensions. */
#include "check.h"
#include "host/scheduler/budget.h"

#include <stdint.h>

static void test_limits(void) {
    budget *b = budget_new(3, 1000);
    budget_usage u;
    CHECK(budget_take(b, "alice", 1, 400, &u) == BUDGET_OK && u.count == 1 && u.bytes == 400);
    CHECK(budget_take(b, "alice", 1, 400, &u) == BUDGET_OK && u.count == 2 && u.bytes == 800);
    /* bytes: 800 + 201 > 1000, nothing taken */
    CHECK(budget_take(b, "alice", 1, 201, &u) == BUDGET_BYTES && u.count == 2 && u.bytes == 800);
    CHECK(budget_take(b, "alice", 1, 200, &u) == BUDGET_OK && u.count == 3 && u.bytes == 1000);
    /* count: the fourth is refused even with no bytes */
    CHECK(budget_take(b, "alice", 1, 0, &u) == BUDGET_COUNT && u.count == 3);
    /* a bytes-only take (a code copy) is checked against bytes only */
    CHECK(budget_take(b, "alice", 0, 1, NULL) == BUDGET_BYTES);
    /* another namespace has its own budget */
    CHECK(budget_take(b, "bob", 3, 1000, &u) == BUDGET_OK && u.count == 3);
    budget_usage a = budget_get(b, "alice");
    CHECK(a.count == 3 && a.bytes == 1000);
    /* add never refuses: what is held already (a record awaiting the store) */
    CHECK(budget_add(b, "alice", 1, 5000) == 0);
    a = budget_get(b, "alice");
    CHECK(a.count == 4 && a.bytes == 6000);
    CHECK(budget_take(b, "alice", 0, 1, NULL) == BUDGET_BYTES); /* over by the add: refused */
    CHECK(budget_take(b, "alice", 1, 0, NULL) == BUDGET_COUNT);
    /* give back; never below zero */
    budget_give(b, "alice", 1, 5000);
    budget_give(b, "alice", 3, 1000);
    a = budget_get(b, "alice");
    CHECK(a.count == 0 && a.bytes == 0);
    budget_give(b, "alice", 7, 7);
    a = budget_get(b, "alice");
    CHECK(a.count == 0 && a.bytes == 0);
    budget_give(b, "nobody", 1, 1);
    CHECK(budget_take(b, "alice", 3, 1000, NULL) == BUDGET_OK);
    CHECK(budget_max_count(b) == 3 && budget_max_bytes(b) == 1000);
    budget_free(b);
}

static void test_no_wraparound(void) {
    budget *b = budget_new(UINT32_MAX, UINT64_MAX - 10);
    CHECK(budget_take(b, "n", 1, UINT64_MAX - 20, NULL) == BUDGET_OK);
    CHECK(budget_take(b, "n", 1, 100, NULL) == BUDGET_BYTES); /* would wrap past the limit */
    CHECK(budget_take(b, "n", UINT32_MAX, 0, NULL) == BUDGET_COUNT);
    budget_free(b);
}

static void test_unlimited(void) {
    budget *b = budget_new(0, 0);
    for (int i = 0; i < 10000; i++) CHECK(budget_take(b, "n", 1, 1u << 30, NULL) == BUDGET_OK);
    budget_usage u = budget_get(b, "n");
    CHECK(u.count == 10000 && u.bytes == 10000ull << 30);
    budget_free(b);
}

static void test_names(void) {
    CHECK_STR(budget_result_name(BUDGET_OK), "ok");
    CHECK_STR(budget_result_name(BUDGET_COUNT), "too many activations");
    CHECK_STR(budget_result_name(BUDGET_BYTES), "too many bytes");
    CHECK_STR(budget_result_name(BUDGET_NOMEM), "out of memory");
    CHECK_STR(budget_result_name((budget_result)99), "unknown");
}

int main(void) {
    test_limits();
    test_no_wraparound();
    test_unlimited();
    test_names();
    return CHECK_DONE();
}
