/* gateway.h - the OpenWhisk-compatible HTTP API of `tfaas serve`, on
 * libmicrohttpd. Threading: `http_threads` epoll threads serve all
 * connections (up to an explicit limit); a blocking invoke suspends its
 * connection until the activation is done, so it holds no thread. */
#ifndef TFAAS_HOST_GATEWAY_GATEWAY_H
#define TFAAS_HOST_GATEWAY_GATEWAY_H

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

typedef struct gateway gateway;

typedef struct {
    const struct sockaddr *addr; /* where to listen; port 0 picks a free one */
    socklen_t addr_len;
    unsigned max_connections;      /* concurrent connections before refusing */
    unsigned max_blocking_wait_ms; /* blocking invoke answers 202 after this */
    unsigned http_threads;         /* event threads; 0 means 1 */
    store *store;                  /* borrowed; outlives the gateway */
    scheduler *scheduler;          /* borrowed; outlives the gateway */
    budget *budget;                /* the scheduler's per-namespace budget, borrowed; outlives the
                                    * gateway and the store's callbacks; NULL = none */
    kms_service *kms;              /* borrowed; NULL when the key service is down */
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
