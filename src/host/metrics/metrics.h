/* metrics.h - the server's counters and histograms for GET /metrics
 * (Prometheus text format, docs/api.md "Metrics"). One registry per process:
 * the hooks are called where the events happen (the gateway's completion
 * callback and its admission refusals, the store writer and its checkpoints,
 * the key release)
 * and must stay cheap there, so
 * every counter is a relaxed atomic, nothing on a hook's path takes a lock or
 * allocates, and the renderer (a scrape) only reads.
 *
 * Cardinality: one series set per (namespace, action) for the first
 * METRICS_MAX_ACTIONS pairs seen since the start; later pairs are counted
 * under namespace="_other",action="_other" (near the cap, two new pairs
 * racing for the last slot may both land there). Histograms carry no labels.
 *
 * Confidentiality: a confidential activation is counted (its arrival is what
 * the host sees anyway) but its status and its durations are not recorded;
 * callers pass it to metrics_confidential only. */
#ifndef TFAAS_HOST_METRICS_METRICS_H
#define TFAAS_HOST_METRICS_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_MAX_ACTIONS 500 /* labelled (namespace, action) pairs; docs/api.md */
#define METRICS_OTHER "_other"  /* the label values of every pair beyond the cap */

/* A finished, non-confidential activation: status is a TFAAS_STATUS_*
 * (0..3; others count as whisk internal errors), durations in µs. An
 * activation that never ran (not_run) passes ran = 0: it is counted by
 * status but adds nothing to the histograms. */
void metrics_activation(const char *ns, const char *action, int status, int ran, uint64_t wait_us, uint64_t init_us,
                        uint64_t run_us);
/* A finished confidential activation: counted, nothing else. */
void metrics_confidential(const char *ns, const char *action);
/* The store writer committed a batch of n activation records in us. */
void metrics_store_commit(uint64_t us, size_t n);
/* A checkpoint of the SQLite store's WAL (store_sqlite.c, "Checkpoints"):
 * the writer thread's, in the background; a commit's copy of the last few
 * frames; or a commit that copied the whole WAL itself and stalled the
 * commits behind it, which only a writer thread that fell behind makes
 * necessary. Only checkpoints that copied are counted. */
typedef enum {
    METRICS_CHECKPOINT_BACKGROUND = 0,
    METRICS_CHECKPOINT_TAIL,
    METRICS_CHECKPOINT_BLOCKING,
    METRICS_CHECKPOINT_KINDS
} metrics_checkpoint_kind;
void metrics_store_checkpoint(metrics_checkpoint_kind kind);
/* How many of that kind so far. */
uint64_t metrics_store_checkpoints(metrics_checkpoint_kind kind);
/* A key release for a confidential worker: kms_status is KMS_OK (released)
 * or the KMS_ERR_* of the refusal or failure (common/ipc.h). */
void metrics_key_release(int kms_status_code);

/* Why an invocation was refused before it ran (the scheduler's admission;
 * the gateway's invoke_refusal maps its errno here). */
typedef enum {
    METRICS_REFUSED_QUEUE = 0,       /* the action's queue is full (--max-queue) */
    METRICS_REFUSED_NS_ACTIVATIONS,  /* the namespace's --tenant-max-activations */
    METRICS_REFUSED_NS_MEMORY,       /* the namespace's --tenant-max-memory */
    METRICS_REFUSED_NS_ENCLAVES,     /* the namespace's share of enclaves, all busy */
    METRICS_REFUSED_ENCLAVES,        /* --max-enclaves, all busy */
    METRICS_REFUSED_SHUTDOWN,        /* the server is stopping */
    METRICS_REFUSED_OTHER,
    METRICS_REFUSALS
} metrics_refusal_reason;
void metrics_refusal(metrics_refusal_reason why);

/* Writes every counter and histogram above in the text exposition format
 * (HELP and TYPE lines included). Reads only; safe beside the hooks. */
void metrics_render(FILE *out);
/* Writes one label value, escaped as the format asks (\\, \", \n). */
void metrics_put_label(FILE *out, const char *value);

/* Forgets everything: for unit tests only (not safe beside the hooks). */
void metrics_reset(void);

#endif
