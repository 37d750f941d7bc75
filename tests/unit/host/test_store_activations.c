/* test_store_activations.c - activation records: group commit under many
 * concurrent producers (more records than the queue holds, so back-pressure
 * is exercised), callbacks fire exactly once on the writer thread, namespace
 * isolation, list filters/paging/summary shape, bad records, close drains. */
#include "check.h"
#include "host/store/store.h"
#include "test_store_helpers.h"

#include <pthread.h>
#include <stdatomic.h>

#define PRODUCERS 8
#define PER_PRODUCER 9000 /* 72000 in all: more than the 65536-record queue */

typedef struct {
    atomic_int calls;
    atomic_int status;
    atomic_int on_producer_thread;
} slot;

static slot slots[PRODUCERS * PER_PRODUCER];
static pthread_t producer_threads[PRODUCERS];
static atomic_int done_count;

static void on_committed(void *ud, store_status st) {
    slot *sl = ud;
    atomic_fetch_add(&sl->calls, 1);
    atomic_store(&sl->status, (int)st);
    for (int i = 0; i < PRODUCERS; i++)
        if (pthread_equal(pthread_self(), producer_threads[i])) atomic_store(&sl->on_producer_thread, 1);
    atomic_fetch_add(&done_count, 1);
}

typedef struct {
    store *s;
    int index;
} producer_arg;

static void *producer(void *p) {
    producer_arg *a = p;
    for (int i = 0; i < PER_PRODUCER; i++) {
        int k = a->index * PER_PRODUCER + i;
        char id[40];
        snprintf(id, sizeof id, "id-%06d", k);
        const char *ns = (k % 2) ? "odd" : "even";
        store_activation_put(a->s, make_activation(ns, "load", id, 1000000 + k, "success"), NULL, on_committed, &slots[k]);
    }
    return NULL;
}

/* Every callback is promised, not a rate: the bound is only a backstop below
 * ctest's TIMEOUT (120 s, 600 s under TSan, where 72000 commits took over a
 * minute on a loaded 2-core machine). */
static void wait_for(int n) {
    for (int i = 0; i < 54000 && atomic_load(&done_count) < n; i++) usleep(10000);
}

static void test_concurrent_group_commit(store *s) {
    producer_arg args[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        args[i] = (producer_arg){s, i};
        pthread_create(&producer_threads[i], NULL, producer, &args[i]);
    }
    for (int i = 0; i < PRODUCERS; i++) pthread_join(producer_threads[i], NULL);
    wait_for(PRODUCERS * PER_PRODUCER);
    int once = 1, ok = 1, on_writer = 1;
    for (int k = 0; k < PRODUCERS * PER_PRODUCER; k++) {
        once &= atomic_load(&slots[k].calls) == 1;
        ok &= atomic_load(&slots[k].status) == STORE_OK;
        on_writer &= !atomic_load(&slots[k].on_producer_thread);
    }
    CHECK(once);
    CHECK(ok);
    CHECK(on_writer);
    json_t *list = NULL;
    CHECK(store_activation_list(s, "even", NULL, 0, 0, 0, 0, 0, &list) == STORE_OK);
    CHECK(json_array_size(list) == PRODUCERS * PER_PRODUCER / 2);
    json_decref(list);
    CHECK(store_activation_list(s, "odd", "load", 0, 0, 0, 0, 1, &list) == STORE_OK);
    CHECK(json_array_size(list) == PRODUCERS * PER_PRODUCER / 2);
    json_decref(list);
    json_t *got = NULL;
    CHECK(store_activation_get(s, "even", "id-000000", &got) == STORE_OK);
    json_decref(got);
    CHECK(store_activation_get(s, "odd", "id-071999", &got) == STORE_OK);
    json_decref(got);
    /* Isolation: the id exists, but in the other namespace. */
    CHECK(store_activation_get(s, "odd", "id-000000", &got) == STORE_NOT_FOUND && !got);
    CHECK(store_activation_get(s, "even", "id-071999", &got) == STORE_NOT_FOUND);
}

static store_status last_status;
static char last_message[256];
static atomic_int small_done;
static void on_small(void *ud, store_status st) {
    (void)ud;
    last_status = st;
    snprintf(last_message, sizeof last_message, "%s", st == STORE_OK ? "" : store_last_error());
    atomic_fetch_add(&small_done, 1);
}

/* Puts one record and waits for its callback; returns its status. */
static store_status put_wait(store *s, json_t *rec) {
    int before = atomic_load(&small_done);
    store_activation_put(s, rec, NULL, on_small, NULL);
    for (int i = 0; i < 3000 && atomic_load(&small_done) == before; i++) usleep(1000);
    return atomic_load(&small_done) == before ? (store_status)-1 : last_status;
}

static void test_list_and_shapes(store *s) {
    /* ns "g": start times 100..109; names alternate f/h; one failure. */
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "g-%d", i);
        CHECK(put_wait(s, make_activation("g", i % 2 ? "h" : "f", id, 100 + i,
                                          i == 4 ? "action developer error" : "success")) == STORE_OK);
    }
    json_t *list = NULL;
    CHECK(store_activation_list(s, "g", NULL, 0, 0, 0, 0, 0, &list) == STORE_OK && json_array_size(list) == 10);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "activationId")), "g-9"); /* newest first */
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 9), "activationId")), "g-0");
    /* Summary shape: no response or logs, a statusCode, annotations kept. */
    json_t *e = json_array_get(list, 5); /* g-4 */
    CHECK_STR(json_string_value(json_object_get(e, "activationId")), "g-4");
    CHECK(!json_object_get(e, "response") && !json_object_get(e, "logs"));
    CHECK(json_integer_value(json_object_get(e, "statusCode")) == 2);
    CHECK(json_integer_value(json_object_get(json_array_get(list, 0), "statusCode")) == 0);
    CHECK(json_is_array(json_object_get(e, "annotations")));
    CHECK_STR(json_string_value(json_object_get(e, "name")), "f");
    CHECK_STR(json_string_value(json_object_get(e, "namespace")), "g");
    CHECK(json_integer_value(json_object_get(e, "start")) == 104 && json_integer_value(json_object_get(e, "end")) == 109);
    CHECK(json_integer_value(json_object_get(e, "duration")) == 5);
    CHECK(json_is_false(json_object_get(e, "publish")));
    json_decref(list);

    /* docs=1: the full records. */
    CHECK(store_activation_list(s, "g", NULL, 1, 0, 0, 0, 1, &list) == STORE_OK && json_array_size(list) == 1);
    e = json_array_get(list, 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(e, "response"), "result"), "payload")),
              "big result");
    CHECK(json_array_size(json_object_get(e, "logs")) == 1);
    json_decref(list);

    /* limit/skip, since/upto (inclusive bounds on start), name filter. */
    CHECK(store_activation_list(s, "g", NULL, 3, 2, 0, 0, 0, &list) == STORE_OK && json_array_size(list) == 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "activationId")), "g-7");
    json_decref(list);
    CHECK(store_activation_list(s, "g", NULL, 0, 0, 103, 106, 0, &list) == STORE_OK && json_array_size(list) == 4);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "activationId")), "g-6");
    json_decref(list);
    CHECK(store_activation_list(s, "g", "h", 0, 0, 0, 0, 0, &list) == STORE_OK && json_array_size(list) == 5);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "activationId")), "g-9");
    json_decref(list);
    CHECK(store_activation_list(s, "g", "h", 2, 0, 104, 0, 0, &list) == STORE_OK && json_array_size(list) == 2);
    json_decref(list);
    CHECK(store_activation_list(s, "g", "nope", 0, 0, 0, 0, 0, &list) == STORE_OK && json_array_size(list) == 0);
    json_decref(list);
    CHECK(store_activation_list(s, "other", NULL, 0, 0, 0, 0, 0, &list) == STORE_OK && json_array_size(list) == 0);
    json_decref(list);

    json_t *got = NULL;
    CHECK(store_activation_get(s, "g", "g-4", &got) == STORE_OK);
    CHECK_STR(json_string_value(json_object_get(json_object_get(got, "response"), "status")), "action developer error");
    json_decref(got);

    /* Bad records fail alone, with a reason, and do not poison the batch. */
    CHECK(put_wait(s, NULL) == STORE_ERROR);
    json_t *no_start = make_activation("g", "f", "g-nostart", 1, "success");
    json_object_del(no_start, "start");
    CHECK(put_wait(s, no_start) == STORE_ERROR);
    CHECK(strstr(last_message, "start") != NULL);
    CHECK(put_wait(s, make_activation("g", "f", "g-0", 555, "success")) == STORE_ERROR); /* duplicate id */
    CHECK(strstr(last_message, "exists") != NULL);
    CHECK(store_activation_get(s, "g", "g-0", &got) == STORE_OK);
    CHECK(json_integer_value(json_object_get(got, "start")) == 100); /* the original is untouched */
    json_decref(got);
    /* A hostile id and name are stored as given. */
    CHECK(put_wait(s, make_activation("g", "'); DROP TABLE activations; --", "x' OR '1'='1", 50, "success")) ==
          STORE_OK);
    CHECK(store_activation_get(s, "g", "x' OR '1'='1", &got) == STORE_OK);
    CHECK_STR(json_string_value(json_object_get(got, "name")), "'); DROP TABLE activations; --");
    json_decref(got);
    CHECK(store_activation_get(s, "g", "x' OR '1'='2", &got) == STORE_NOT_FOUND);
    /* NULL callback is allowed. */
    store_activation_put(s, make_activation("g", "f", "g-nocb", 1, "success"), NULL, NULL, NULL);
}

static atomic_int drained;
static void on_drain(void *ud, store_status st) {
    (void)ud;
    if (st == STORE_OK) atomic_fetch_add(&drained, 1);
}

static void keep_status(void *ud, store_status st) { *(store_status *)ud = st; }

/* One commit section (so one transaction) holding records of a namespace
 * deleted and created again under its name (its old id and its new one,
 * each twice, interleaved), of another live namespace, one stored
 * unchecked (no id), and a duplicate id: the namespace is read once per
 * pair in the batch, and each record still gets its own answer. */
static void test_batch_namespace_check(store *s) {
    char u[STORE_UUID_LEN + 1], k[STORE_KEY_LEN + 1], old_id[STORE_NSID_LEN + 1], new_id[STORE_NSID_LEN + 1],
        other_id[STORE_NSID_LEN + 1];
    CHECK(store_namespace_create(s, "reborn", NULL, NULL, u, k) == STORE_OK);
    CHECK(store_namespace_id(s, "reborn", old_id) == STORE_OK);
    CHECK(store_namespace_delete(s, "reborn") == STORE_OK);
    CHECK(store_namespace_create(s, "reborn", NULL, NULL, u, k) == STORE_OK);
    CHECK(store_namespace_id(s, "reborn", new_id) == STORE_OK && strcmp(old_id, new_id) != 0);
    CHECK(store_namespace_create(s, "other", NULL, NULL, u, k) == STORE_OK);
    CHECK(store_namespace_id(s, "other", other_id) == STORE_OK);
    struct {
        const char *ns, *id, *ns_id;
        store_status want, got;
    } c[] = {
        {"reborn", "b-old-1", old_id, STORE_NOT_FOUND, STORE_ERROR},
        {"reborn", "b-new-1", new_id, STORE_OK, STORE_ERROR},
        {"other", "b-other-1", other_id, STORE_OK, STORE_ERROR},
        {"reborn", "b-old-2", old_id, STORE_NOT_FOUND, STORE_ERROR},
        {"reborn", "b-new-2", new_id, STORE_OK, STORE_ERROR},
        {"other", "b-other-1", other_id, STORE_ERROR, STORE_OK},  /* a duplicate id */
        {"nowhere", "b-nowhere", "0123456789abcdef", STORE_NOT_FOUND, STORE_ERROR},
        {"nowhere", "b-unchecked", NULL, STORE_OK, STORE_ERROR}, /* no id: stored under the name */
        {"other", "b-other-2", other_id, STORE_OK, STORE_ERROR},
    };
    size_t n = sizeof c / sizeof c[0];
    store_activation_section_begin(s);
    for (size_t i = 0; i < n; i++)
        store_activation_put(s, make_activation(c[i].ns, "f", c[i].id, 5000 + (long long)i, "success"), c[i].ns_id,
                             keep_status, &c[i].got);
    store_activation_section_end(s); /* the callbacks ran on this thread */
    for (size_t i = 0; i < n; i++) {
        CHECK(c[i].got == c[i].want);
        if (c[i].got != c[i].want) fprintf(stderr, "  record %zu (%s): %d, expected %d\n", i, c[i].id, c[i].got, c[i].want);
    }
    json_t *list = NULL;
    CHECK(store_activation_list(s, "reborn", NULL, 0, 0, 0, 0, 0, &list) == STORE_OK && json_array_size(list) == 2);
    json_decref(list);
    CHECK(store_activation_list(s, "other", NULL, 0, 0, 0, 0, 0, &list) == STORE_OK && json_array_size(list) == 2);
    json_decref(list);
    CHECK(store_activation_list(s, "nowhere", NULL, 0, 0, 0, 0, 0, &list) == STORE_OK && json_array_size(list) == 1);
    json_decref(list);
}

int main(void) {
    char *dir = scratch_dir("activations");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    free(err);
    if (!s) return CHECK_DONE();
    /* The store turned SQLite's memory statistics off before SQLite's
     * first use in this process (a global mutex per allocation). */
    CHECK(sqlite3_memory_used() == 0);
    test_concurrent_group_commit(s);
    test_list_and_shapes(s);
    test_batch_namespace_check(s);

    /* store_close drains: every queued record is committed and called back
     * before it returns, and is there after reopening. */
    for (int i = 0; i < 5000; i++) {
        char id[32];
        snprintf(id, sizeof id, "drain-%d", i);
        store_activation_put(s, make_activation("d", "f", id, i + 1, "success"), NULL, on_drain, NULL);
    }
    store_close(s);
    CHECK(atomic_load(&drained) == 5000);
    s = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    json_t *list = NULL, *got = NULL;
    CHECK(store_activation_list(s, "d", NULL, 0, 0, 0, 0, 0, &list) == STORE_OK && json_array_size(list) == 5000);
    json_decref(list);
    CHECK(store_activation_get(s, "g", "g-nocb", &got) == STORE_OK);
    json_decref(got);
    store_close(s);
    CHECK(db_integrity_ok(dir));
    scratch_remove(dir);
    return CHECK_DONE();
}
