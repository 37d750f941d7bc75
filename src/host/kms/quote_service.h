/* quote_service.h - the host's side of the sim TEE's quoting service:
 * launches tfaas-qe (which alone, besides the KMS, reads the platform
 * private key) and makes each confidential worker's quoting channel.
 *
 * A channel is an AF_UNIX socketpair: one end goes to tfaas-qe over its
 * control socket (SCM_RIGHTS), the other to the worker enclave as fd 4
 * (--quote-fd 4). tfaas-qe measures whichever process sends on it, so the
 * host cannot obtain evidence for a worker measurement except from a
 * process that really runs that executable (docs/protocol.md §5.2 says
 * what the sim can and cannot promise). If tfaas-qe died, the next channel
 * starts a new one; like every enclave it dies with the thread that
 * launched it (launcher.h), and is then restarted on demand.
 * Thread-safe: one mutex guards the process and its control socket. */
#ifndef TFAAS_HOST_QUOTE_SERVICE_H
#define TFAAS_HOST_QUOTE_SERVICE_H

typedef struct quote_service quote_service;

/* Starts tfaas-qe at qe_path with the platform key file. NULL with *err. */
quote_service *quote_service_start(const char *qe_path, const char *platform_key, char **err);
void quote_service_stop(quote_service *q);

/* A new channel: 0 with *worker_fd (CLOEXEC, the caller closes it once the
 * worker has it), or -1 with *err. Matches sched_quote_fn. */
int quote_service_channel(void *q, int *worker_fd, char **err);

#endif
