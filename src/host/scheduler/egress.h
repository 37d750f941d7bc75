/* egress.h - the host's side of fetch(): it opens the TCP connections a
 * worker enclave asks for, after checking every resolved address against
 * the activation's egress policy (common/egress_policy.h), and passes the
 * connected socket into the enclave, which runs TLS over it: the host
 * never holds a plaintext byte of it (src/trusted/fetch/). */
#ifndef TFAAS_HOST_SCHEDULER_EGRESS_H
#define TFAAS_HOST_SCHEDULER_EGRESS_H

#define EGRESS_CONNECT_TIMEOUT_MS 10000u /* per connection attempt, within the activation's time */
#define EGRESS_MAX_PENDING 256u          /* connection requests in progress, all enclaves together */

/* Makes an enclave's egress channel: *enclave_end goes to the enclave
 * (--egress-fd; the caller closes its copy once the enclave has it); the
 * other end is served by a detached thread until the enclave closes its
 * end (exits). 0, or -1 with *err. */
int egress_channel_open(int *enclave_end, char **err);

#endif
