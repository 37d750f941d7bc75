/* endpoint.h - the enclave's end of the host IPC channel.
 *
 * The main thread reads frames and queues each IPC_INVOKE; worker threads run
 * them on warm heaps (function.h) and answer with one IPC_RESULT carrying the
 * same id. A function revision's jobs beyond the INVOKE's concurrency wait in
 * its lane and run in arrival order, each on the worker that finished the one
 * before (docs/architecture.md, Lanes); IPC_CANCEL takes a waiting one out
 * (RESULT with TFAAS_STATUS_NOT_RUN). IPC_DROP is applied at once. EOF or IPC_SHUTDOWN ends the loop
 * after in-flight work is answered. Anything malformed from the host is a
 * protocol violation: one line on stderr and exit status 1 (the host then
 * restarts the enclave), never a guess. */
#ifndef TFAAS_TRUSTED_ENDPOINT_H
#define TFAAS_TRUSTED_ENDPOINT_H

#include "trusted/function.h"

#define ENDPOINT_MAX_WORKERS 256
#include "trusted/confidential.h"

#define ENDPOINT_MAX_QUEUE   65536 /* queued invocations before it is a violation */
#define ENDPOINT_SWEEP_MS    10000 /* how often idle heaps are checked for expiry */

typedef struct endpoint endpoint;

/* Creates the worker threads (each with ENGINE_STACK_BYTES of stack). They
 * wait for work, so no tenant code runs before endpoint_run. spare: keep a
 * blank heap ready for the next function's first invocation (spare_heap.h;
 * a thread of its own makes it at idle priority). conf (NULL in
 * an enclave without a TEE) becomes the endpoint's: conf_create quotes,
 * which a sim quote client can do only before the sandbox, so the caller
 * makes it first. NULL on failure, with a reason on stderr. */
endpoint *endpoint_start(int fd, unsigned workers, const fn_table_config *cfg, int spare, conf_state *conf);

/* Sends IPC_HELLO and serves until EOF or IPC_SHUTDOWN; then stops the
 * workers and frees everything. Returns the process exit status: 0 on a
 * clean end; on a protocol violation it does not return (exit 1). */
int endpoint_run(endpoint *e);

#endif
