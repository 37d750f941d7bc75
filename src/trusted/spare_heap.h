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
 * Thread-safe: one mutex guards every field (spare_heap.c). */
#ifndef TFAAS_TRUSTED_SPARE_HEAP_H
#define TFAAS_TRUSTED_SPARE_HEAP_H

#include "trusted/engine.h"

#include <stddef.h>

typedef struct spare_heap spare_heap;

/* enabled 0: take always answers NULL and refill does nothing (an engine
 * whose blank heaps are too big to keep one idle). NULL when out of memory. */
spare_heap *spare_heap_create(int enabled);
/* Destroys the spare, if one is ready. No refill may be running. */
void spare_heap_destroy(spare_heap *s);

/* The ready spare if it was made with memory_limit (the caller owns it and
 * loads its code), else NULL. Either way memory_limit becomes the limit
 * the next spare is made with, and a spare with another limit is kept. */
engine_heap *spare_heap_take(spare_heap *s, size_t memory_limit);

/* Makes the spare if a take has emptied it (or asked for another limit):
 * called by a worker with nothing queued, since making one takes the
 * worker for as long as a first load would. Does nothing when a spare is
 * ready, or another thread is making one. */
void spare_heap_refill(spare_heap *s);

#endif
