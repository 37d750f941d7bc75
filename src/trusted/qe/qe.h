/* qe.h - the quoting service (tfaas-qe): the only process besides the key
 * service that holds the sim platform's private key. It signs evidence for
 * worker enclaves, for the measurement it takes of each calling process
 * itself (/proc/PID/exe of the pid the kernel names), never for one the
 * caller claims (quote_proto.h, docs/protocol.md §5.2).
 *
 * The host hands it one end of each worker's quoting channel over the
 * control socket (SCM_RIGHTS, one byte of payload each), with SO_PASSCRED
 * already set (a request sent before it was set carries no sender and is
 * refused). A worker uses its
 * channel only while it starts, before it accepts tenant code, and then
 * closes it. One thread serves every channel in turn (poll). */
#ifndef TFAAS_TRUSTED_QE_H
#define TFAAS_TRUSTED_QE_H

#include <openssl/evp.h>

#define QE_MAX_CLIENTS 256u        /* channels open at once; beyond, new ones are closed */
#define QE_REQUEST_TIMEOUT_MS 2000 /* a request must arrive whole within this */

/* Says hello on ctl, then serves until ctl closes. Returns the exit status. */
int qe_run(int ctl, EVP_PKEY *platform_key);

#endif
