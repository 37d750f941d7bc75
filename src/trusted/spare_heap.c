/* spare_heap.c - the enclave's one blank heap kept ready (spare_heap.h). */
#include "trusted/spare_heap.h"

#include <pthread.h>
#include <stdlib.h>

/* Every field under lock. */
struct spare_heap {
    pthread_mutex_t lock;
    pthread_cond_t made;  /* a refill ended */
    int enabled;
    engine_heap *heap;    /* the ready spare, or NULL */
    size_t heap_limit;    /* its memory limit */
    size_t want_limit;    /* the limit of the last take: the next spare's; 0 before any */
    int making;           /* a refill is making one with making_limit, outside the lock */
    size_t making_limit;
};

spare_heap *spare_heap_create(int enabled) {
    spare_heap *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (pthread_mutex_init(&s->lock, NULL) != 0) goto err_free;
    if (pthread_cond_init(&s->made, NULL) != 0) goto err_lock;
    s->enabled = enabled;
    return s;
err_lock:
    pthread_mutex_destroy(&s->lock);
err_free:
    free(s);
    return NULL;
}

void spare_heap_destroy(spare_heap *s) {
    if (!s) return;
    engine_heap_destroy(s->heap);
    pthread_cond_destroy(&s->made);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

engine_heap *spare_heap_take(spare_heap *s, size_t memory_limit) {
    if (!s->enabled) return NULL;
    pthread_mutex_lock(&s->lock);
    s->want_limit = memory_limit;
    /* One being made for this limit is further along than a new one would
     * be, and making both at once would only share the CPU between them. */
    while (s->making && s->making_limit == memory_limit) pthread_cond_wait(&s->made, &s->lock);
    engine_heap *h = NULL;
    if (s->heap && s->heap_limit == memory_limit) {
        h = s->heap;
        s->heap = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    return h;
}

void spare_heap_refill(spare_heap *s) {
    if (!s->enabled) return;
    pthread_mutex_lock(&s->lock);
    if (s->making || !s->want_limit || (s->heap && s->heap_limit == s->want_limit)) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    engine_heap *stale = s->heap; /* made for a limit no longer asked for */
    s->heap = NULL;
    s->making = 1;
    s->making_limit = s->want_limit;
    size_t limit = s->making_limit;
    pthread_mutex_unlock(&s->lock);
    engine_heap_destroy(stale);
    engine_heap *h = engine_heap_create(limit); /* NULL: out of memory, the next lease makes its own */
    pthread_mutex_lock(&s->lock);
    s->making = 0;
    s->heap = h; /* nobody else sets it while making */
    s->heap_limit = limit;
    pthread_cond_broadcast(&s->made);
    pthread_mutex_unlock(&s->lock);
}
