/* test_store_sections.c - commit sections (store_activation_section_begin/end)
 * beside the writer thread, with retention trimming on: several threads
 * commit bursts of records themselves (as the scheduler's enclave readers
 * do), bursts longer than STORE_SECTION_MAX included, while others queue
 * records for the writer. Every record is called back exactly once, STORE_OK,
 * a section's on the thread that ran the section; each namespace ends within
 * its count quota plus one trim step (the writer, which does the trims,
 * finishes those queued before store_close returns). The TSan build runs
 * this to check the committers' shared state: db_lock, with the retention
 * totals under it, and trim_due under q_lock. */
#include "check.h"
#include "host/store/store.h"
#include "test_store_helpers.h"

#include <pthread.h>
#include <stdatomic.h>

#define SECTION_THREADS 4
#define QUEUE_THREADS 2
#define PER_THREAD 3000
#define THREADS (SECTION_THREADS + QUEUE_THREADS)
#define NAMESPACES 3
#define MAX_COUNT 640 /* trimmed back to 640 once 10 over (640 / STORE_TRIM_SLACK) */

typedef struct {
    atomic_int calls;
    atomic_int status;
    atomic_int elsewhere; /* a section's record called back on another thread */
} slot;

static slot slots[THREADS * PER_THREAD];
static atomic_int done_count;

typedef struct {
    store *s;
    int index;
    pthread_t self;
} worker;

typedef struct {
    slot *slot;
    worker *w; /* NULL: queued for the writer */
} put_ud;

static put_ud uds[THREADS * PER_THREAD];

static void on_committed(void *ud, store_status st) {
    put_ud *u = ud;
    atomic_fetch_add(&u->slot->calls, 1);
    atomic_store(&u->slot->status, (int)st);
    if (u->w && !pthread_equal(pthread_self(), u->w->self)) atomic_store(&u->slot->elsewhere, 1);
    atomic_fetch_add(&done_count, 1);
}

static void put_one(worker *w, int i) {
    int k = w->index * PER_THREAD + i;
    char id[40], ns[8];
    snprintf(id, sizeof id, "sec-%06d", k);
    snprintf(ns, sizeof ns, "ns%d", k % NAMESPACES);
    uds[k] = (put_ud){&slots[k], w->index < SECTION_THREADS ? w : NULL};
    store_activation_put(w->s, make_activation(ns, "burst", id, 1000000 + k, "success"), NULL, on_committed,
                         &uds[k]);
}

static void *section_thread(void *p) {
    worker *w = p;
    w->self = pthread_self();
    /* bursts of 1, 2, ... 200 records: some past STORE_SECTION_MAX (128) */
    for (int i = 0, burst = 1; i < PER_THREAD; burst = burst % 200 + 1) {
        store_activation_section_begin(w->s);
        for (int n = 0; n < burst && i < PER_THREAD; n++, i++) put_one(w, i);
        store_activation_section_end(w->s);
    }
    return NULL;
}

static void *queue_thread(void *p) {
    worker *w = p;
    w->self = pthread_self();
    for (int i = 0; i < PER_THREAD; i++) put_one(w, i);
    return NULL;
}

int main(void) {
    char *dir = scratch_dir("sections");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    free(err);
    if (!s) return CHECK_DONE();
    store_retention r = {.max_count = MAX_COUNT};
    store_set_retention(s, &r);

    worker ws[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        ws[i] = (worker){.s = s, .index = i};
        pthread_create(&t[i], NULL, i < SECTION_THREADS ? section_thread : queue_thread, &ws[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    /* Sections committed before their threads ended; the writer's records
     * are all called back once store_close has drained the queue. */
    store_close(s);
    CHECK(atomic_load(&done_count) == THREADS * PER_THREAD);
    int once = 1, ok = 1, own_thread = 1;
    for (int k = 0; k < THREADS * PER_THREAD; k++) {
        once &= atomic_load(&slots[k].calls) == 1;
        ok &= atomic_load(&slots[k].status) == STORE_OK;
        own_thread &= !atomic_load(&slots[k].elsewhere);
    }
    CHECK(once);
    CHECK(ok);
    CHECK(own_thread);

    s = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    free(err);
    if (!s) return CHECK_DONE();
    for (int n = 0; n < NAMESPACES; n++) {
        char ns[8];
        snprintf(ns, sizeof ns, "ns%d", n);
        json_t *list = NULL;
        CHECK(store_activation_list(s, ns, NULL, 0, 0, 0, 0, 0, &list) == STORE_OK);
        size_t kept = json_array_size(list);
        /* trimmed to MAX_COUNT once one step (10 records) over it; what came
         * after the last trim is under one step */
        CHECK(kept >= MAX_COUNT && kept < MAX_COUNT + MAX_COUNT / 64);
        if (kept < MAX_COUNT || kept >= MAX_COUNT + MAX_COUNT / 64) fprintf(stderr, "%s keeps %zu\n", ns, kept);
        json_decref(list);
    }
    store_close(s);
    CHECK(db_integrity_ok(dir));
    scratch_remove(dir);
    return CHECK_DONE();
}
