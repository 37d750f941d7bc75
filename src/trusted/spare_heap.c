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
 * not get the CPU for a while; the lease makes its own heap instead.
 *
 * Idle priority alone did not keep the making off the invocation's path:
 * a take wakes the maker while the host still has to commit the record and
 * send the answer, and Linux's scheduler (EEVDF) picks a runnable idle
 * thread before host threads that are not yet "eligible" for the CPU
 * (they had more than their share of it lately, which the threads serving
 * requests always have). A `perf sched` trace of 50 create-invoke pairs
 * found the host's enclave reader waiting while the maker ran in 46 of
 * them, the whole ~0.33 ms of a heap each time (docs/benchmarks.md, "First
 * invoke after create: the spare made after a quiet moment"). The cause is
 * that each enclave is a session, so an autogroup, of its own (launcher.c):
 * SCHED_IDLE ranks the maker below its own process's threads only, while
 * the enclave's group as a whole competes with the host's as an equal. So
 * the maker waits until the enclave has neither taken a spare nor answered
 * anything for SPARE_QUIET_US, by when the host has sent a lone request's
 * answer, and makes the heap then, in the time the client needs to send
 * its next request. */
#include "trusted/spare_heap.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>


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
    uint64_t busy_us;     /* CLOCK_MONOTONIC of the last take or answer */
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

static uint64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Waits (lock held) until SPARE_QUIET_US have passed since the last take or
 * answer (each one meanwhile starts the wait over), or stop. */
static void wait_quiet(spare_heap *s) {
    for (;;) {
        uint64_t at = s->busy_us + SPARE_QUIET_US;
        if (s->stop || mono_us() >= at) return;
        struct timespec until = {.tv_sec = (time_t)(at / 1000000u), .tv_nsec = (long)(at % 1000000u) * 1000};
        pthread_cond_timedwait(&s->wanted, &s->lock, &until); /* `wanted` runs on CLOCK_MONOTONIC */
    }
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
        wait_quiet(s);
        if (s->stop) break;
        if (!needs_refill(s)) continue; /* made meanwhile (spare_heap_refill on another thread) */
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
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) goto err_made;
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait_quiet's clock: a wall-clock step cannot stretch it */
    if (rc == 0) rc = pthread_cond_init(&s->wanted, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) goto err_made;
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
    s->busy_us = mono_us();
    engine_heap *h = NULL;
    if (s->heap && s->heap_limit == memory_limit) {
        h = s->heap;
        s->heap = NULL;
    }
    if (needs_refill(s)) pthread_cond_signal(&s->wanted);
    pthread_mutex_unlock(&s->lock);
    return h;
}

int spare_heap_answered(spare_heap *s) {
    if (!s->enabled || pthread_mutex_trylock(&s->lock) != 0) return 0; /* never waits: see spare_heap_take */
    s->busy_us = mono_us();
    pthread_mutex_unlock(&s->lock);
    return 1;
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
