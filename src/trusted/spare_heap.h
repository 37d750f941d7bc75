/* spare_heap.h - one blank heap an enclave keeps ready for the next
 * function it has not run yet.
 *
 * Making a Duktape heap (its built-in objects decoded, the globals set up) is
 * most of a new function's first invocation: about 0.5 ms of CPU against
 * 15 us to compile a hello and 3 us to run it (docs/benchmarks.md, "First
 * invoke after create"). A blank heap holds no tenant's code or data (no
 * JavaScript has run in it but the engine's own set-up), so the enclave
 * makes one when a worker has nothing to do, and the next heap a lease
 * needs is that one, with the function's code loaded into it then.
 *
 * A heap's memory limit is fixed when it is made, so the spare is made with
 * the limit of the last lease that needed a heap, and handed only to a lease
 * with that same limit (others make their own, as without a spare).
 * The spare is made by a thread of its own at idle priority (SCHED_IDLE),
 * started by spare_heap_create, so only CPU time nothing else wants goes
 * into it, and only once the enclave has neither taken a spare nor answered
 * an activation for a moment (SPARE_QUIET_US), so not while the host still
 * commits and sends an answer (spare_heap.c). Thread-safe: one mutex guards
 * every field. */
#ifndef TFAAS_TRUSTED_SPARE_HEAP_H
#define TFAAS_TRUSTED_SPARE_HEAP_H

#include "trusted/engine.h"

#include <stddef.h>
#include <time.h>

typedef struct spare_heap spare_heap;

/* enabled 0: take always answers NULL and refill does nothing (an enclave
 * of one function, --no-spare-heap). Enabled, it starts the
 * maker thread and sets its policy before it returns: call it before the
 * sandbox forbids new threads. NULL when out of memory or no thread. */
spare_heap *spare_heap_create(int enabled);
/* Stops and joins the maker, destroys the spare if one is ready. No other
 * thread may be in a refill. */
void spare_heap_destroy(spare_heap *s);

/* The ready spare if it was made with memory_limit (the caller owns it and
 * loads its code), else NULL at once: it never waits for one being made,
 * nor for the lock (a lock held by the maker, which may be preempted at idle
 * priority while it holds it, means NULL, and nothing else happens).
 * Unless the lock was busy, memory_limit becomes the limit the next spare
 * is made with, and the maker is woken to make it if none with that limit
 * is ready. */
engine_heap *spare_heap_take(spare_heap *s, size_t memory_limit);

/* How long the maker waits after the enclave's last take or answer before
 * it makes the spare: on the 2-core AMD VM of docs/benchmarks.md the host
 * needs about 0.15-0.25 ms after a result to commit its record and send the
 * HTTP answer. */
#define SPARE_QUIET_US 300u

/* A worker has answered an activation: the maker makes no spare until
 * SPARE_QUIET_US after the last such answer or take. Never waits: 1 when
 * noted, 0 when the maker held the lock (nothing noted this time) or the
 * spare is disabled. */
int spare_heap_answered(spare_heap *s);

/* Makes the spare on the calling thread if a take has emptied it (or asked
 * for another limit); the maker thread's step, callable directly (tests).
 * Does nothing when a spare is ready, or another thread is making one. */
void spare_heap_refill(spare_heap *s);

/* Waits until a spare made with memory_limit is ready and the maker waits
 * for the next take (so that take finds the lock free), or the
 * CLOCK_REALTIME time until passes: 1 if one is ready (for tests; the
 * enclave never waits). */
int spare_heap_wait(spare_heap *s, size_t memory_limit, const struct timespec *until);

/* 1 if the maker thread runs at SCHED_IDLE (0: disabled, or the system
 * refused the policy and it runs at the normal one). */
int spare_heap_idle_priority(spare_heap *s);

#endif
