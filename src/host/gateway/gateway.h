/* gateway.h - the OpenWhisk-compatible HTTP API of `tfaas serve`, on
 * libmicrohttpd. Threading: `http_threads` epoll threads serve all
 * connections (up to explicit limits, in total and per client address); a
 * blocking invoke suspends its connection until the activation is done, so
 * it holds no thread. */
#ifndef TFAAS_HOST_GATEWAY_GATEWAY_H
#define TFAAS_HOST_GATEWAY_GATEWAY_H

#include <jansson.h>
#include "host/kms/kms.h"
#include "host/scheduler/scheduler.h"
#include "host/store/store.h"

#include <sys/socket.h>

#define GATEWAY_MAX_BODY_ACTION (48u << 20) /* PUT of an action (its code) */
#define GATEWAY_MAX_BODY        (1u << 20)  /* every other request body */
/* Bytes past the limit read and dropped before the 413, so that clients that
 * send the whole body first still read the answer; larger excesses (or
 * announced lengths) are answered at once and the connection closed. */
#define GATEWAY_MAX_DISCARD     (64u << 20)
/* Defaults of `serve --http-timeout` and `--max-connections-per-client`: a
 * client that opens connections and sends nothing (or stops halfway through
 * its first request's headers) loses each after HEAD_TIMEOUT seconds of
 * silence, and one address holds at most this many of --max-connections, so
 * other clients always find a free one. */
#define GATEWAY_HEAD_TIMEOUT_S  15u
#define GATEWAY_MAX_PER_CLIENT  128u
/* Once a connection has sent a whole request head, its silences (a body on
 * a slow link, reading a long answer, keep-alive between requests) may last
 * this long (or --http-timeout, if longer): a client reusing a kept-alive
 * connection must not often find it closed under its feet. */
#define GATEWAY_IDLE_TIMEOUT_S  60u

typedef struct gateway gateway;

/* Who may scrape GET /metrics (`serve --metrics-access`, docs/api.md). The
 * metrics name every namespace and action that ran, so by default only
 * clients on this host may read them. */
typedef enum {
    GATEWAY_METRICS_LOCAL = 0, /* clients on a loopback address (the default) */
    GATEWAY_METRICS_ANY,       /* any client that reaches the port */
    GATEWAY_METRICS_OFF,       /* nobody: 404 */
} gateway_metrics_access;
/* "local", "any", "off"; and back (-1 for anything else). */
const char *gateway_metrics_access_name(gateway_metrics_access a);
int gateway_metrics_access_parse(const char *s, gateway_metrics_access *out);

typedef struct {
    const struct sockaddr *addr; /* where to listen; port 0 picks a free one */
    socklen_t addr_len;
    unsigned max_connections;      /* concurrent connections before refusing */
    unsigned max_per_client;       /* of those from one IP address; 0 = no limit */
    unsigned head_timeout_s;       /* a new connection silent this long before its first
                                    * request head is complete is closed; 0 = never */
    unsigned max_blocking_wait_ms; /* blocking invoke answers 202 after this */
    unsigned http_threads;         /* event threads; 0 means 1 */
    store *store;                  /* borrowed; outlives the gateway */
    scheduler *scheduler;          /* borrowed; outlives the gateway */
    budget *budget;                /* the scheduler's per-namespace budget, borrowed; outlives the
                                    * gateway and the store's callbacks; NULL = none */
    kms_service *kms;              /* borrowed; NULL when the key service is down */
    json_t *egress;                /* egress policies per namespace (egress_config.h), borrowed;
                                    * outlives the gateway; NULL: the default policy */
    gateway_metrics_access metrics_access;
    const char *metrics_token;     /* copied; non-NULL: /metrics also needs
                                    * "Authorization: Bearer <token>" */
    struct cluster_node *cluster;  /* serve --node (cluster.h), borrowed; outlives the gateway; NULL: none */
} gateway_config;

/* The scheduler's key-release hook (sched_release_fn) for confidential
 * functions: asks the KMS (ud, a kms_service) to release a function's keys
 * to a worker enclave. */
int confidential_release(void *ud, const uint8_t *record, size_t record_len, const char *worker, size_t worker_len,
                         char **bundle, size_t *bundle_len, int *refused, char **err);

/* Starts listening and serving. NULL with a malloc'd message in *err. */
gateway *gateway_start(const gateway_config *cfg, char **err);
/* The port actually bound (useful with port 0). */
unsigned gateway_port(const gateway *g);
/* Retires (scheduler_retire) every namespace the scheduler holds work or
 * enclaves of that has been deleted, by this process or another (`tfaas
 * admin`), once the store's namespace epoch has moved from *seen (updated).
 * Cheap when nothing changed: serve calls it every GATEWAY_RETIRE_POLL_MS.
 * Returns how many were retired. tenants.c */
#define GATEWAY_RETIRE_POLL_MS 100
unsigned gateway_retire_deleted(gateway *g, uint64_t *seen);
/* Shutdown, step 1: stop accepting connections; new invocations get 503. */
void gateway_quiesce(gateway *g);
/* Step 2: wait until every accepted activation has a durable record and
 * every started request has been answered, at most timeout_ms. Returns how
 * many activations and requests are still pending. */
unsigned gateway_drain(gateway *g, unsigned timeout_ms);
/* Step 3 (after the scheduler has completed the rest): answer still parked
 * blocking invokes with 202, close all connections, join the threads, free.
 * NULL is a no-op. */
void gateway_stop(gateway *g);

#endif
