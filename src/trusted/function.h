/* function.h - the enclave's function table and its pools of warm heaps.
 *
 * A function is one revision of one action, keyed "ns/name@version", holding
 * its code and entry-point name. Each function keeps a pool of idle heaps
 * with its code already loaded; an invocation leases one (or is told to
 * create one) and gives it back afterwards. Idle heaps are bounded three
 * ways: at most `concurrency` per function, at most max_idle_heaps in the
 * enclave (least recently used go first), and none older than idle_ttl_ms.
 * All calls are thread-safe; heaps are created, loaded and destroyed by the
 * caller or outside the table's lock, never while holding it. */
#ifndef TFAAS_TRUSTED_FUNCTION_H
#define TFAAS_TRUSTED_FUNCTION_H

#include "trusted/engine.h"

#include <stddef.h>
#include <stdint.h>

typedef struct fn_table fn_table;
typedef struct fn_entry fn_entry;

typedef struct {
    size_t max_functions;  /* revisions held at once; LRU unused ones are forgotten */
    size_t max_idle_heaps; /* warm heaps kept across all functions */
    uint64_t idle_ttl_ms;  /* an idle heap (or unused function) older than this goes */
} fn_table_config;

/* What an invocation holds while it runs. code/main/memory stay valid until
 * fn_table_release, even if the function is dropped meanwhile. */
typedef struct {
    fn_entry *fn;
    engine_heap *heap;     /* a warm heap, or NULL: create one and load the code */
    const char *code;
    size_t code_len;
    const char *main;
    size_t memory_bytes;   /* limit for a heap created for this lease */
} fn_lease;

typedef enum {
    FN_LEASED,     /* *out is valid */
    FN_NEED_CODE,  /* unknown key and no code given: ask the host for it */
    FN_FULL,       /* table full of functions that are all running */
    FN_NOMEM,
} fn_acquire_status;

fn_table *fn_table_create(const fn_table_config *cfg);
/* Destroys every function and idle heap. No lease may be outstanding. */
void fn_table_destroy(fn_table *t);

/* Finds or (when code is non-empty) adds the function and leases a warm heap
 * if one is idle. A known key keeps its code: the same key is the same
 * revision. memory_bytes and concurrency, the function's current limits,
 * apply to heaps created from now on and to the idle cap. */
fn_acquire_status fn_table_acquire(fn_table *t, const char *key, const char *code, size_t code_len,
                                   const char *main, size_t memory_bytes, unsigned concurrency,
                                   fn_lease *out);

/* Returns a lease. heap is the heap used (NULL if none could be made); it is
 * kept warm unless discard is set, the function was dropped, or a cap says
 * otherwise, in which case it is destroyed. */
void fn_table_release(fn_table *t, fn_lease *lease, engine_heap *heap, int discard);

/* Forgets a function: `key` exactly, or every key starting with `key` when
 * it ends in '@' ("ns/name@"). Heaps in use go when they are returned.
 * Returns the number of functions forgotten. */
size_t fn_table_drop(fn_table *t, const char *key);

/* Evicts what has been idle longer than the TTL. */
void fn_table_sweep(fn_table *t);

/* Counts for tests and diagnostics. */
void fn_table_counts(fn_table *t, size_t *functions, size_t *idle_heaps);

#endif
