/* spare_heap.c - the enclave's one blank heap kept ready (spare_heap.h).
 *
 * The spare is made by a thread of its own at SCHED_IDLE: it runs only on
 * CPU time nothing else in the machine wants, so making a heap never delays
 * an answer, a commit or the next request (made on a worker right after an
 * answer, at the priority of the host threads that must still send that
 * answer, it did: docs/benchmarks.md, "First invoke after create"). The
 * thread is started, and its policy set, by spare_heap_create: the enclave
 * calls it before its seccomp filter forbids new threads. For the same
 * reason a take never waits for a spare being made: at idle priority it may
 * not get the CPU for a while; the lease makes its own heap instead. */
#include "trusted/spare_heap.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

/* Every field under lock. */
struct spare_heap {
    pthread_mutex_t lock;
    pthread_cond_t wanted; /* for the maker: a take emptied the spare, or stop */
    pthread_cond_t made;   /* a refill ended */
    int enabled;
    engine_heap *heap;    /* the ready spare, or NULL */
    size_t heap_limit;    /* its memory limit */
    size_t want_limit;    /* the limit of the last take: the next spare's; 0 before any */
    int making;           /* a refill is making one with making_limit, outside the lock */
    size_t making_limit;
    unsigned long takes;  /* takes so far: the maker serves each at most once */
    int stop;             /* the maker ends */
    int has_maker;        /* maker is running (joined by destroy) */
    int maker_state;      /* 0 starting, 1 running at idle priority, -1 at the normal one */
    int maker_waiting;    /* the maker waits for a take (holds no lock, makes nothing) */
    pthread_t maker;
};

/* Whether a refill has anything to make; lock held. */
static int needs_refill(const spare_heap *s) {
    return !s->making && s->want_limit && !(s->heap && s->heap_limit == s->want_limit);
}

static void *maker_main(void *arg) {
    spare_heap *s = arg;
    pthread_setname_np(pthread_self(), "spare-heap"); /* its CPU apart in /proc (bench/lib.mjs) */
    struct sched_param p = {.sched_priority = 0};
    int idle = sched_setscheduler(0, SCHED_IDLE, &p) == 0; /* this thread only (Linux: 0 is the caller's tid) */
    pthread_mutex_lock(&s->lock);
    s->maker_state = idle ? 1 : -1;
    /* Once per take at most: a heap that could not be made (out of memory)
     * is tried again after the next take, not in a loop. */
    unsigned long served = 0;
    for (;;) {
        while (!s->stop && !(needs_refill(s) && s->takes != served)) {
            s->maker_waiting = 1;
            pthread_cond_broadcast(&s->made); /* spare_heap_create, spare_heap_wait */
            pthread_cond_wait(&s->wanted, &s->lock);
            s->maker_waiting = 0;
        }
        if (s->stop) break;
        served = s->takes;
        pthread_mutex_unlock(&s->lock);
        spare_heap_refill(s);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

spare_heap *spare_heap_create(int enabled) {
    spare_heap *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (pthread_mutex_init(&s->lock, NULL) != 0) goto err_free;
    if (pthread_cond_init(&s->made, NULL) != 0) goto err_lock;
    if (pthread_cond_init(&s->wanted, NULL) != 0) goto err_made;
    s->enabled = enabled;
    if (!enabled) return s;
    if (pthread_create(&s->maker, NULL, maker_main, s) != 0) goto err_wanted;
    s->has_maker = 1;
    /* Its policy is set before the caller goes on (and seals the sandbox),
     * and it has let go of the lock: the first take finds it free. */
    pthread_mutex_lock(&s->lock);
    while (!s->maker_waiting) pthread_cond_wait(&s->made, &s->lock);
    pthread_mutex_unlock(&s->lock);
    return s;
err_wanted:
    pthread_cond_destroy(&s->wanted);
err_made:
    pthread_cond_destroy(&s->made);
err_lock:
    pthread_mutex_destroy(&s->lock);
err_free:
    free(s);
    return NULL;
}

void spare_heap_destroy(spare_heap *s) {
    if (!s) return;
    if (s->has_maker) {
        pthread_mutex_lock(&s->lock);
        s->stop = 1;
        pthread_cond_signal(&s->wanted);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->maker, NULL);
    }
    engine_heap_destroy(s->heap);
    pthread_cond_destroy(&s->wanted);
    pthread_cond_destroy(&s->made);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int spare_heap_idle_priority(spare_heap *s) {
    pthread_mutex_lock(&s->lock);
    int idle = s->maker_state == 1;
    pthread_mutex_unlock(&s->lock);
    return idle;
}

engine_heap *spare_heap_take(spare_heap *s, size_t memory_limit) {
    if (!s->enabled) return NULL;
    /* The maker holds the lock for a few instructions, but at idle priority
     * it may be preempted there and wait long for the CPU again: a worker
     * that blocked on it would wait as long (priority inversion). So a busy
     * lock means no spare this time; the lease makes its own heap. */
    if (pthread_mutex_trylock(&s->lock) != 0) return NULL;
    s->want_limit = memory_limit;
    s->takes++;
    engine_heap *h = NULL;
    if (s->heap && s->heap_limit == memory_limit) {
        h = s->heap;
        s->heap = NULL;
    }
    if (needs_refill(s)) pthread_cond_signal(&s->wanted);
    pthread_mutex_unlock(&s->lock);
    return h;
}

int spare_heap_wait(spare_heap *s, size_t memory_limit, const struct timespec *until) {
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    while (!(s->heap && s->heap_limit == memory_limit && s->maker_waiting) && rc == 0)
        rc = pthread_cond_timedwait(&s->made, &s->lock, until);
    int ready = s->heap && s->heap_limit == memory_limit && s->maker_waiting;
    pthread_mutex_unlock(&s->lock);
    return ready;
}

void spare_heap_refill(spare_heap *s) {
    if (!s->enabled) return;
    pthread_mutex_lock(&s->lock);
    if (!needs_refill(s)) {
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
