/* budget.c - the per-namespace admission table of budget.h: a small chained
 * hash table of {namespace, count, bytes}. */
#include "host/scheduler/budget.h"

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
    unsigned max_count;
    uint64_t max_bytes;
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

budget_usage budget_get(const budget *b, const char *key) {
    for (const entry *e = b->buckets[bucket_of(key)]; e; e = e->next)
        if (strcmp(e->key, key) == 0) return (budget_usage){e->count, e->bytes};
    return (budget_usage){0, 0};
}

budget *budget_new(unsigned max_count, uint64_t max_bytes) {
    budget *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->max_count = max_count;
    b->max_bytes = max_bytes;
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
    free(b);
}

budget_result budget_take(budget *b, const char *key, unsigned count, uint64_t bytes, budget_usage *now) {
    entry **p = find(b, key);
    entry *e = *p;
    budget_usage u = {e ? e->count : 0, e ? e->bytes : 0};
    if (now) *now = u;
    /* Compared without adding first, so huge requests cannot wrap around. */
    if (b->max_count && count && (u.count >= b->max_count || count > b->max_count - u.count)) return BUDGET_COUNT;
    if (b->max_bytes && (u.bytes > b->max_bytes || bytes > b->max_bytes - u.bytes)) return BUDGET_BYTES;
    if (!e) {
        size_t n = strlen(key) + 1;
        e = calloc(1, sizeof *e + n);
        if (!e) return BUDGET_NOMEM;
        memcpy(e->key, key, n);
        *p = e;
    }
    e->count += count;
    e->bytes += bytes;
    if (now) *now = (budget_usage){e->count, e->bytes};
    return BUDGET_OK;
}

void budget_give(budget *b, const char *key, unsigned count, uint64_t bytes) {
    entry **p = find(b, key);
    entry *e = *p;
    if (!e) return;
    e->count -= count < e->count ? count : e->count;
    e->bytes -= bytes < e->bytes ? bytes : e->bytes;
    if (e->count == 0 && e->bytes == 0) {
        *p = e->next;
        free(e);
    }
}

unsigned budget_max_count(const budget *b) { return b->max_count; }
uint64_t budget_max_bytes(const budget *b) { return b->max_bytes; }
