/* budget.c - the per-namespace admission table of budget.h: a small chained
 * hash table of {namespace, count, bytes}. */
#include "host/scheduler/budget.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUDGET_BUCKETS 256u

typedef struct entry {
    struct entry *next;
    unsigned count;
    uint64_t bytes;
    char key[];
} entry;

struct budget {
    unsigned max_count; /* fixed at creation */
    uint64_t max_bytes;
    pthread_mutex_t mu; /* guards buckets and every entry */
    entry *buckets[BUDGET_BUCKETS];
};

const char *budget_result_name(budget_result r) {
    switch (r) {
    case BUDGET_OK: return "ok";
    case BUDGET_COUNT: return "too many activations";
    case BUDGET_BYTES: return "too many bytes";
    case BUDGET_NOMEM: return "out of memory";
    }
    return "unknown";
}

static unsigned bucket_of(const char *k) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *k; k++) h = (h ^ (uint8_t)*k) * 16777619u;
    return h % BUDGET_BUCKETS;
}

static entry **find(budget *b, const char *key) {
    entry **p = &b->buckets[bucket_of(key)];
    while (*p && strcmp((*p)->key, key) != 0) p = &(*p)->next;
    return p;
}

static budget_usage get_locked(const budget *b, const char *key) {
    for (const entry *e = b->buckets[bucket_of(key)]; e; e = e->next)
        if (strcmp(e->key, key) == 0) return (budget_usage){e->count, e->bytes};
    return (budget_usage){0, 0};
}

static int add_locked(budget *b, const char *key, unsigned count, uint64_t bytes) {
    entry **p = find(b, key);
    entry *e = *p;
    if (!e) {
        size_t n = strlen(key) + 1;
        e = calloc(1, sizeof *e + n);
        if (!e) return -1;
        memcpy(e->key, key, n);
        *p = e;
    }
    e->count += count;
    e->bytes += bytes;
    return 0;
}

budget_usage budget_get(budget *b, const char *key) {
    pthread_mutex_lock(&b->mu);
    budget_usage u = get_locked(b, key);
    pthread_mutex_unlock(&b->mu);
    return u;
}

budget *budget_new(unsigned max_count, uint64_t max_bytes) {
    budget *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->max_count = max_count;
    b->max_bytes = max_bytes;
    pthread_mutex_init(&b->mu, NULL);
    return b;
}

void budget_free(budget *b) {
    if (!b) return;
    for (unsigned i = 0; i < BUDGET_BUCKETS; i++) {
        for (entry *e = b->buckets[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&b->mu);
    free(b);
}

budget_result budget_take(budget *b, const char *key, unsigned count, uint64_t bytes, budget_usage *now) {
    pthread_mutex_lock(&b->mu);
    budget_usage u = get_locked(b, key);
    budget_result r = BUDGET_OK;
    /* Compared without adding first, so huge requests cannot wrap around. */
    if (b->max_count && count && (u.count >= b->max_count || count > b->max_count - u.count)) r = BUDGET_COUNT;
    else if (b->max_bytes && (u.bytes > b->max_bytes || bytes > b->max_bytes - u.bytes)) r = BUDGET_BYTES;
    else if (add_locked(b, key, count, bytes) < 0) r = BUDGET_NOMEM;
    else u = get_locked(b, key);
    pthread_mutex_unlock(&b->mu);
    if (now) *now = u;
    return r;
}

int budget_add(budget *b, const char *key, unsigned count, uint64_t bytes) {
    pthread_mutex_lock(&b->mu);
    int rc = add_locked(b, key, count, bytes);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

void budget_give(budget *b, const char *key, unsigned count, uint64_t bytes) {
    pthread_mutex_lock(&b->mu);
    entry **p = find(b, key);
    entry *e = *p;
    if (e) {
        e->count -= count < e->count ? count : e->count;
        e->bytes -= bytes < e->bytes ? bytes : e->bytes;
        if (e->count == 0 && e->bytes == 0) {
            *p = e->next;
            free(e);
        }
    }
    pthread_mutex_unlock(&b->mu);
}

unsigned budget_max_count(const budget *b) { return b->max_count; }
uint64_t budget_max_bytes(const budget *b) { return b->max_bytes; }
