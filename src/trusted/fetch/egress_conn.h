/* egress_conn.h - asking the host for an outbound TCP connection.
 *
 * The enclave cannot open sockets to the network (the seccomp filter
 * refuses socket(2) for anything but AF_UNIX pairs). For each connection it
 * makes a socketpair, passes one end to the host over the egress channel
 * and sends IPC_EGRESS_CONNECT on it; the host resolves the name, checks
 * every address against the policy, connects, and passes back the
 * connected socket (or says why not). A private pair per request lets
 * several workers wait at once without matching replies to requests. */
#ifndef TFAAS_TRUSTED_FETCH_EGRESS_CONN_H
#define TFAAS_TRUSTED_FETCH_EGRESS_CONN_H

#include <stddef.h>
#include <stdint.h>

/* The socket, non-blocking, in *sock: 0. -1 with *err (malloc'd, the
 * function's message) when the host refused or failed, or the deadline
 * (CLOCK_MONOTONIC ns) passed. */
int egress_connect(int chan, const char *host, int port, int https, const char *policy, size_t policy_len,
                   uint64_t deadline_ns, int *sock, char **err);

/* Milliseconds from now until deadline_ns, 0 when past. */
uint64_t egress_ms_left(uint64_t deadline_ns);

#endif
