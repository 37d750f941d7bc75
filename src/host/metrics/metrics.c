/* metrics.c - the process's counters and histograms and their text format;
 * see metrics.h. The (namespace, action) table is open-addressed and never
 * shrinks: a slot, once claimed (CAS on its state), keeps its key until the
 * process ends, so a hook finds its series without a lock and a scrape reads
 * the keys of ready slots without one either. */
#include "host/metrics/metrics.h"

#include "common/ipc.h"

#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#define TABLE_SIZE 1024 /* a power of two above METRICS_MAX_ACTIONS: probes stay short */
#define KEY_MAX 528     /* "ns\0action\0": OpenWhisk names are at most 256 bytes each */
#define STATUSES 4      /* TFAAS_STATUS_SUCCESS .. TFAAS_STATUS_INTERNAL_ERR */

enum { SLOT_EMPTY, SLOT_CLAIMED, SLOT_READY };

typedef struct {
    atomic_uint_fast64_t by_status[STATUSES];
    atomic_uint_fast64_t confidential;
} series;

typedef struct {
    atomic_int state;
    char key[KEY_MAX]; /* written once while CLAIMED, read-only once READY */
    series counts;
} slot;

/* A histogram's bounds are in the unit it observes (µs or records); scale
 * turns them and the sum into the exposed base unit (seconds, records). */
#define MAX_BUCKETS 20
typedef struct {
    const char *name, *help;
    const uint64_t *bounds;
    size_t nbounds;
    double scale;
    atomic_uint_fast64_t bucket[MAX_BUCKETS + 1]; /* not cumulative; the last is +Inf */
    atomic_uint_fast64_t sum;
} histogram;

static const uint64_t LATENCY_US[] = {100,    250,    500,     1000,    2500,    5000,     10000,
                                      25000,  50000,  100000,  250000,  500000,  1000000,  2500000,
                                      5000000, 10000000, 30000000, 60000000, 300000000};
static const uint64_t BATCH[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static slot table[TABLE_SIZE];
static atomic_size_t used; /* slots claimed, at most METRICS_MAX_ACTIONS */
static series other;       /* every pair beyond the cap, or with an oversized key */

enum { H_WAIT, H_INIT, H_RUN, H_COMMIT, H_BATCH, HISTOGRAMS };
static histogram hist[HISTOGRAMS] = {
    [H_WAIT] = {"tfaas_activation_wait_seconds", "Time from submission until an enclave took the activation.",
                LATENCY_US, N(LATENCY_US), 1e6, {0}, 0},
    [H_INIT] = {"tfaas_activation_init_seconds", "Heap creation and code load of cold activations (warm ones add 0).",
                LATENCY_US, N(LATENCY_US), 1e6, {0}, 0},
    [H_RUN] = {"tfaas_activation_run_seconds", "Time the function ran.", LATENCY_US, N(LATENCY_US), 1e6, {0}, 0},
    [H_COMMIT] = {"tfaas_store_commit_seconds", "Duration of one activation-record commit (a batch).", LATENCY_US,
                  N(LATENCY_US), 1e6, {0}, 0},
    [H_BATCH] = {"tfaas_store_commit_batch_size", "Activation records per commit.", BATCH, N(BATCH), 1, {0}, 0},
};

/* Key release outcomes by KMS status (common/ipc.h), the label each gets. */
static const char *const RELEASE_REASON[] = {
    [KMS_OK] = "released",           [KMS_ERR_REQUEST] = "request", [KMS_ERR_UNSEAL] = "unseal",
    [KMS_ERR_STATE] = "state",       [KMS_ERR_INTERNAL] = "unavailable", [KMS_ERR_OPEN] = "open",
    [KMS_ERR_POLICY] = "policy",     [KMS_ERR_STALE] = "stale",
};
#define RELEASE_OTHER N(RELEASE_REASON) /* a status this table does not know */
static atomic_uint_fast64_t releases[N(RELEASE_REASON) + 1];

static const char *const REFUSAL_NAME[METRICS_REFUSALS] = {
    [METRICS_REFUSED_QUEUE] = "queue_full",
    [METRICS_REFUSED_NS_ACTIVATIONS] = "namespace_activations",
    [METRICS_REFUSED_NS_MEMORY] = "namespace_memory",
    [METRICS_REFUSED_NS_ENCLAVES] = "namespace_enclaves",
    [METRICS_REFUSED_ENCLAVES] = "enclaves_busy",
    [METRICS_REFUSED_SHUTDOWN] = "shutting_down",
    [METRICS_REFUSED_OTHER] = "other",
};
static atomic_uint_fast64_t refusals[METRICS_REFUSALS];

static const char *const CHECKPOINT_KIND[METRICS_CHECKPOINT_KINDS] = {
    [METRICS_CHECKPOINT_BACKGROUND] = "background",
    [METRICS_CHECKPOINT_TAIL] = "tail",
    [METRICS_CHECKPOINT_BLOCKING] = "blocking",
};
static atomic_uint_fast64_t checkpoints[METRICS_CHECKPOINT_KINDS];

static const char *const STATUS_NAME[STATUSES] = {"success", "application_error", "developer_error",
                                                  "whisk_internal_error"};

static void observe(histogram *h, uint64_t v) {
    size_t i = 0;
    while (i < h->nbounds && v > h->bounds[i]) i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

static uint64_t hash(const char *key, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    return h;
}

/* The series of (ns, action), claiming a slot for a new pair while fewer
 * than METRICS_MAX_ACTIONS are; `other` beyond. */
static series *find(const char *ns, const char *action) {
    size_t nl = strlen(ns), al = strlen(action);
    if (nl + al + 2 > KEY_MAX) return &other;
    char key[KEY_MAX];
    memcpy(key, ns, nl + 1);
    memcpy(key + nl + 1, action, al + 1);
    size_t len = nl + al + 2;
    uint64_t h = hash(key, len);
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        slot *s = &table[(h + i) & (TABLE_SIZE - 1)];
        int st = atomic_load_explicit(&s->state, memory_order_acquire);
        while (st == SLOT_CLAIMED) { /* another thread is writing its key: a few stores */
            sched_yield();
            st = atomic_load_explicit(&s->state, memory_order_acquire);
        }
        if (st == SLOT_READY) {
            if (!memcmp(s->key, key, len)) return &s->counts;
            continue;
        }
        if (atomic_fetch_add(&used, 1) >= METRICS_MAX_ACTIONS) {
            atomic_fetch_sub(&used, 1);
            return &other;
        }
        int expect = SLOT_EMPTY;
        if (!atomic_compare_exchange_strong(&s->state, &expect, SLOT_CLAIMED)) {
            atomic_fetch_sub(&used, 1); /* lost the slot: look at it again */
            i--;
            continue;
        }
        memcpy(s->key, key, len);
        atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
        return &s->counts;
    }
    return &other;
}

void metrics_activation(const char *ns, const char *action, int status, int ran, uint64_t wait_us, uint64_t init_us,
                        uint64_t run_us) {
    if (status < 0 || status >= STATUSES) status = TFAAS_STATUS_INTERNAL_ERR;
    atomic_fetch_add_explicit(&find(ns, action)->by_status[status], 1, memory_order_relaxed);
    if (!ran) return;
    observe(&hist[H_WAIT], wait_us);
    observe(&hist[H_INIT], init_us);
    observe(&hist[H_RUN], run_us);
}

void metrics_confidential(const char *ns, const char *action) {
    atomic_fetch_add_explicit(&find(ns, action)->confidential, 1, memory_order_relaxed);
}

void metrics_store_commit(uint64_t us, size_t n) {
    observe(&hist[H_COMMIT], us);
    observe(&hist[H_BATCH], n);
}

void metrics_store_checkpoint(metrics_checkpoint_kind kind) {
    if ((unsigned)kind < METRICS_CHECKPOINT_KINDS) atomic_fetch_add_explicit(&checkpoints[kind], 1, memory_order_relaxed);
}

uint64_t metrics_store_checkpoints(metrics_checkpoint_kind kind) {
    return (unsigned)kind < METRICS_CHECKPOINT_KINDS ? atomic_load_explicit(&checkpoints[kind], memory_order_relaxed)
                                                     : 0;
}

void metrics_key_release(int st) {
    size_t i = st >= 0 && (size_t)st < N(RELEASE_REASON) && RELEASE_REASON[st]
                   ? (size_t)st
                   : RELEASE_OTHER;
    atomic_fetch_add_explicit(&releases[i], 1, memory_order_relaxed);
}

void metrics_refusal(metrics_refusal_reason why) {
    if ((unsigned)why >= METRICS_REFUSALS) why = METRICS_REFUSED_OTHER;
    atomic_fetch_add_explicit(&refusals[why], 1, memory_order_relaxed);
}

/* --- rendering -------------------------------------------------------------- */

void metrics_put_label(FILE *out, const char *value) {
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"') fputc('\\', out), fputc(*p, out);
        else if (*p == '\n') fputs("\\n", out);
        else fputc(*p, out);
    }
}

static uint64_t load(atomic_uint_fast64_t *v) { return atomic_load_explicit(v, memory_order_relaxed); }

static void put_pair(FILE *out, const char *ns, const char *action) {
    fputs("namespace=\"", out);
    metrics_put_label(out, ns);
    fputs("\",action=\"", out);
    metrics_put_label(out, action);
    fputc('"', out);
}

/* Calls put(out, ns, action, counts) for each labelled pair and `other`. */
static void each_series(FILE *out, void (*put)(FILE *, const char *, const char *, series *)) {
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        slot *s = &table[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY) continue;
        put(out, s->key, s->key + strlen(s->key) + 1, &s->counts);
    }
    put(out, METRICS_OTHER, METRICS_OTHER, &other);
}

static void put_invocations(FILE *out, const char *ns, const char *action, series *c) {
    for (int st = 0; st < STATUSES; st++) {
        uint64_t v = load(&c->by_status[st]);
        if (!v) continue;
        fputs("tfaas_activations_total{", out);
        put_pair(out, ns, action);
        fprintf(out, ",status=\"%s\"} %llu\n", STATUS_NAME[st], (unsigned long long)v);
    }
}

static void put_confidential(FILE *out, const char *ns, const char *action, series *c) {
    uint64_t v = load(&c->confidential);
    if (!v) return;
    fputs("tfaas_confidential_activations_total{", out);
    put_pair(out, ns, action);
    fprintf(out, "} %llu\n", (unsigned long long)v);
}

static void put_histogram(FILE *out, histogram *h) {
    fprintf(out, "# HELP %s %s\n# TYPE %s histogram\n", h->name, h->help, h->name);
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->nbounds; i++) {
        cum += load(&h->bucket[i]);
        if (i < h->nbounds) fprintf(out, "%s_bucket{le=\"%.9g\"} %llu\n", h->name, h->bounds[i] / h->scale,
                                    (unsigned long long)cum);
        else fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n", h->name, (unsigned long long)cum);
    }
    /* _count is the +Inf bucket, so the two agree even mid-update. */
    fprintf(out, "%s_sum %.9g\n%s_count %llu\n", h->name, load(&h->sum) / h->scale, h->name, (unsigned long long)cum);
}

void metrics_render(FILE *out) {
    fputs("# HELP tfaas_activations_total Finished activations of plain (not confidential) actions, by OpenWhisk "
          "status.\n# TYPE tfaas_activations_total counter\n",
          out);
    each_series(out, put_invocations);
    fputs("# HELP tfaas_confidential_activations_total Finished confidential activations (their status and "
          "durations are the client's).\n# TYPE tfaas_confidential_activations_total counter\n",
          out);
    each_series(out, put_confidential);
    fputs("# HELP tfaas_activations_refused_total Invocations refused before they ran (HTTP 429 or 503), by "
          "reason.\n# TYPE tfaas_activations_refused_total counter\n",
          out);
    for (int i = 0; i < METRICS_REFUSALS; i++)
        fprintf(out, "tfaas_activations_refused_total{reason=\"%s\"} %llu\n", REFUSAL_NAME[i],
                (unsigned long long)load(&refusals[i]));
    for (int i = 0; i < HISTOGRAMS; i++) put_histogram(out, &hist[i]);
    fputs("# HELP tfaas_store_checkpoints_total Checkpoints of the SQLite store's WAL, by who copied: the writer "
          "thread in the background, a commit's last few frames, or a commit that copied the whole WAL and stalled "
          "(the writer thread fell behind).\n# TYPE tfaas_store_checkpoints_total counter\n",
          out);
    for (int i = 0; i < METRICS_CHECKPOINT_KINDS; i++)
        fprintf(out, "tfaas_store_checkpoints_total{kind=\"%s\"} %llu\n", CHECKPOINT_KIND[i],
                (unsigned long long)load(&checkpoints[i]));
    fputs("# HELP tfaas_key_releases_total Key releases to confidential workers, by outcome (released, or why "
          "not).\n# TYPE tfaas_key_releases_total counter\n",
          out);
    for (size_t i = 0; i <= RELEASE_OTHER; i++)
        fprintf(out, "tfaas_key_releases_total{outcome=\"%s\"} %llu\n", i < RELEASE_OTHER ? RELEASE_REASON[i] : "other",
                (unsigned long long)load(&releases[i]));
}

void metrics_reset(void) {
    memset(table, 0, sizeof table);
    memset(&other, 0, sizeof other);
    atomic_store(&used, 0);
    for (int i = 0; i < HISTOGRAMS; i++) {
        for (size_t b = 0; b <= MAX_BUCKETS; b++) atomic_store(&hist[i].bucket[b], 0);
        atomic_store(&hist[i].sum, 0);
    }
    for (size_t i = 0; i <= RELEASE_OTHER; i++) atomic_store(&releases[i], 0);
    for (int i = 0; i < METRICS_REFUSALS; i++) atomic_store(&refusals[i], 0);
    for (int i = 0; i < METRICS_CHECKPOINT_KINDS; i++) atomic_store(&checkpoints[i], 0);
}
