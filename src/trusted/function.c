/* function.c - function table and warm-heap pools (function.h).
 *
 * One mutex guards everything. Two intrusive lists per idle heap: its
 * function's pool and the enclave-wide LRU list, both most-recent-first, so
 * the oldest idle heap is always at a tail. Heaps that leave the table are
 * collected in a local "graveyard" and destroyed after the lock is dropped:
 * tearing down a large heap takes time and must not stall other workers. */
#include "trusted/function.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct idle_heap idle_heap;
struct idle_heap {
    engine_heap *heap;
    fn_entry *fn;
    uint64_t since_ms;
    idle_heap *fn_prev, *fn_next;
    idle_heap *lru_prev, *lru_next;
};

struct fn_entry {
    char *key, *code, *main;
    size_t code_len;
    size_t memory_bytes;
    unsigned concurrency;
    unsigned leases;     /* invocations holding this entry */
    int dropped;         /* no longer in the table; freed with its last lease */
    uint64_t last_used_ms;
    idle_heap *idle_head, *idle_tail;
    size_t n_idle;
    fn_entry *prev, *next; /* table list, most recently used first */
};

struct fn_table {
    pthread_mutex_t lock;
    fn_table_config cfg;
    fn_entry *fns;
    size_t n_fns;
    idle_heap *lru_head, *lru_tail;
    size_t n_idle;
};

/* Heaps waiting to be destroyed once the lock is released. */
typedef struct {
    engine_heap **v;
    size_t n, cap;
} graveyard;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Queues a heap for destruction; when the list cannot grow the heap is
 * destroyed on the spot (still correct, only slower under the lock). */
static void bury(graveyard *g, engine_heap *h) {
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        engine_heap **v = realloc(g->v, cap * sizeof *v);
        if (!v) { engine_heap_destroy(h); return; }
        g->v = v;
        g->cap = cap;
    }
    g->v[g->n++] = h;
}

static void graveyard_empty(graveyard *g) {
    for (size_t i = 0; i < g->n; i++) engine_heap_destroy(g->v[i]);
    free(g->v);
}

fn_table *fn_table_create(const fn_table_config *cfg) {
    fn_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (pthread_mutex_init(&t->lock, NULL) != 0) { free(t); return NULL; }
    t->cfg = *cfg;
    return t;
}

static void entry_free(fn_entry *f) {
    free(f->key);
    free(f->code);
    free(f->main);
    free(f);
}

/* Unlinks one idle heap from both lists and queues its heap. */
static void idle_remove(fn_table *t, idle_heap *ih, graveyard *g) {
    fn_entry *f = ih->fn;
    if (ih->fn_prev) ih->fn_prev->fn_next = ih->fn_next; else f->idle_head = ih->fn_next;
    if (ih->fn_next) ih->fn_next->fn_prev = ih->fn_prev; else f->idle_tail = ih->fn_prev;
    if (ih->lru_prev) ih->lru_prev->lru_next = ih->lru_next; else t->lru_head = ih->lru_next;
    if (ih->lru_next) ih->lru_next->lru_prev = ih->lru_prev; else t->lru_tail = ih->lru_prev;
    f->n_idle--;
    t->n_idle--;
    if (g) bury(g, ih->heap); else engine_heap_destroy(ih->heap);
    free(ih);
}

/* Takes a function out of the table; it is freed now or by its last lease. */
static void entry_unlink(fn_table *t, fn_entry *f, graveyard *g) {
    while (f->idle_head) idle_remove(t, f->idle_head, g);
    if (f->prev) f->prev->next = f->next; else t->fns = f->next;
    if (f->next) f->next->prev = f->prev;
    f->prev = f->next = NULL;
    t->n_fns--;
    f->dropped = 1;
    if (f->leases == 0) entry_free(f);
}

void fn_table_destroy(fn_table *t) {
    if (!t) return;
    while (t->fns) entry_unlink(t, t->fns, NULL);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static fn_entry *entry_find(fn_table *t, const char *key) {
    for (fn_entry *f = t->fns; f; f = f->next)
        if (strcmp(f->key, key) == 0) return f;
    return NULL;
}

static void entry_to_front(fn_table *t, fn_entry *f) {
    if (t->fns == f) return;
    if (f->prev) f->prev->next = f->next;
    if (f->next) f->next->prev = f->prev;
    f->prev = NULL;
    f->next = t->fns;
    if (t->fns) t->fns->prev = f;
    t->fns = f;
}

/* Makes room for one more function by forgetting the least recently used
 * one that nothing is running. -1 when every function is in use. */
static int make_room(fn_table *t, graveyard *g) {
    fn_entry *last = t->fns;
    while (last && last->next) last = last->next;
    for (fn_entry *f = last; f; f = f->prev) {
        if (f->leases == 0) {
            entry_unlink(t, f, g);
            return 0;
        }
    }
    return -1;
}

static fn_entry *entry_add(fn_table *t, const char *key, const char *code, size_t code_len, const char *main) {
    fn_entry *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->key = strdup(key);
    f->main = strdup(main && *main ? main : "main");
    f->code = malloc(code_len + 1);
    if (!f->key || !f->main || !f->code) { entry_free(f); return NULL; }
    memcpy(f->code, code, code_len);
    f->code[code_len] = '\0';
    f->code_len = code_len;
    f->next = t->fns;
    if (t->fns) t->fns->prev = f;
    t->fns = f;
    t->n_fns++;
    return f;
}

fn_acquire_status fn_table_acquire(fn_table *t, const char *key, const char *code, size_t code_len,
                                   const char *main, size_t memory_bytes, unsigned concurrency,
                                   fn_lease *out) {
    memset(out, 0, sizeof *out);
    graveyard g = {0};
    fn_acquire_status st = FN_LEASED;
    pthread_mutex_lock(&t->lock);
    fn_entry *f = entry_find(t, key);
    if (!f) {
        if (!code || code_len == 0) {
            st = FN_NEED_CODE;
            goto out;
        }
        if (t->n_fns >= t->cfg.max_functions && make_room(t, &g) < 0) {
            st = FN_FULL;
            goto out;
        }
        f = entry_add(t, key, code, code_len, main);
        if (!f) {
            st = FN_NOMEM;
            goto out;
        }
    }
    entry_to_front(t, f);
    f->memory_bytes = memory_bytes;
    f->concurrency = concurrency ? concurrency : 1;
    f->last_used_ms = now_ms();
    f->leases++;
    out->fn = f;
    out->code = f->code;
    out->code_len = f->code_len;
    out->main = f->main;
    out->memory_bytes = f->memory_bytes;
    idle_heap *ih = f->idle_head;
    if (ih) { /* most recently used: its caches are the warmest */
        out->heap = ih->heap;
        ih->heap = NULL;
        /* unlink without destroying: idle_remove buries ih->heap, now NULL */
        idle_remove(t, ih, NULL);
    }
out:
    pthread_mutex_unlock(&t->lock);
    graveyard_empty(&g);
    return st;
}

void fn_table_release(fn_table *t, fn_lease *lease, engine_heap *heap, int discard) {
    graveyard g = {0};
    fn_entry *f = lease->fn;
    if (!f) {
        engine_heap_destroy(heap);
        return;
    }
    pthread_mutex_lock(&t->lock);
    idle_heap *ih = NULL;
    if (heap && !discard && !f->dropped && t->cfg.max_idle_heaps > 0)
        ih = calloc(1, sizeof *ih);
    if (ih) {
        ih->heap = heap;
        ih->fn = f;
        ih->since_ms = now_ms();
        ih->fn_next = f->idle_head;
        if (f->idle_head) f->idle_head->fn_prev = ih; else f->idle_tail = ih;
        f->idle_head = ih;
        ih->lru_next = t->lru_head;
        if (t->lru_head) t->lru_head->lru_prev = ih; else t->lru_tail = ih;
        t->lru_head = ih;
        f->n_idle++;
        t->n_idle++;
        while (f->n_idle > f->concurrency) idle_remove(t, f->idle_tail, &g);
        while (t->n_idle > t->cfg.max_idle_heaps) idle_remove(t, t->lru_tail, &g);
    } else if (heap) {
        bury(&g, heap);
    }
    f->leases--;
    f->last_used_ms = now_ms();
    if (f->dropped && f->leases == 0) entry_free(f);
    pthread_mutex_unlock(&t->lock);
    graveyard_empty(&g);
    memset(lease, 0, sizeof *lease);
}

size_t fn_table_drop(fn_table *t, const char *key) {
    graveyard g = {0};
    size_t n = 0, klen = strlen(key);
    int prefix = klen > 0 && key[klen - 1] == '@';
    pthread_mutex_lock(&t->lock);
    for (fn_entry *f = t->fns, *next; f; f = next) {
        next = f->next;
        if (prefix ? strncmp(f->key, key, klen) == 0 : strcmp(f->key, key) == 0) {
            entry_unlink(t, f, &g);
            n++;
        }
    }
    pthread_mutex_unlock(&t->lock);
    graveyard_empty(&g);
    return n;
}

void fn_table_sweep(fn_table *t) {
    graveyard g = {0};
    pthread_mutex_lock(&t->lock);
    uint64_t now = now_ms();
    while (t->lru_tail && now - t->lru_tail->since_ms >= t->cfg.idle_ttl_ms)
        idle_remove(t, t->lru_tail, &g);
    /* Unused functions go too; the host resends code after NEED_CODE. */
    for (fn_entry *f = t->fns, *next; f; f = next) {
        next = f->next;
        if (f->leases == 0 && f->n_idle == 0 && now - f->last_used_ms >= t->cfg.idle_ttl_ms)
            entry_unlink(t, f, &g);
    }
    pthread_mutex_unlock(&t->lock);
    graveyard_empty(&g);
}

void fn_table_counts(fn_table *t, size_t *functions, size_t *idle_heaps) {
    pthread_mutex_lock(&t->lock);
    if (functions) *functions = t->n_fns;
    if (idle_heaps) *idle_heaps = t->n_idle;
    pthread_mutex_unlock(&t->lock);
}
