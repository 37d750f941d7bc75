/* quote_proto.h - the channel between a worker enclave (the sim TEE's
 * quote client, tee_sim.c) and the quoting service (tfaas-qe, qe/qe.c).
 *
 * The host makes one AF_UNIX stream socketpair per confidential worker: one
 * end goes to the worker as --quote-fd, the other to tfaas-qe (SCM_RIGHTS
 * over its control channel), which sets SO_PASSCRED on it so that the
 * kernel names the sending process in each request. The service measures
 * that process's executable (/proc/PID/exe) itself: the worker never says
 * what it is, only which engine identity is compiled into it, which is part
 * of the measurement (a false one yields a measurement no policy names).
 *
 * Request (fixed size): QUOTE_MAGIC (4) || engine length (1) || engine,
 * zero-padded to QUOTE_MAX_ENGINE || report_data (64).
 * Reply: status (1: QUOTE_OK or QUOTE_REFUSED) || length (4, little endian)
 * || that many bytes: the evidence (a JWS) or a reason. */
#ifndef TFAAS_TRUSTED_QUOTE_PROTO_H
#define TFAAS_TRUSTED_QUOTE_PROTO_H

#include "common/evidence.h"

#include <stddef.h>
#include <stdint.h>

#define QUOTE_MAGIC "TQR1"
#define QUOTE_MAX_ENGINE 64u
#define QUOTE_REQUEST_LEN (4u + 1u + QUOTE_MAX_ENGINE + EVIDENCE_REPORT_DATA_LEN)
#define QUOTE_MAX_REPLY (64u << 10)

enum { QUOTE_OK = 0, QUOTE_REFUSED = 1 };

/* Whole buffers over a blocking stream socket, retrying EINTR. 0, or -1
 * (errno set; EPIPE-free: MSG_NOSIGNAL). */
int quote_send_all(int fd, const void *p, size_t n);
int quote_recv_all(int fd, void *p, size_t n);

/* The request for engine and report_data; -1 when engine is too long. */
int quote_request_encode(const char *engine, const uint8_t rd[EVIDENCE_REPORT_DATA_LEN],
                         uint8_t out[QUOTE_REQUEST_LEN]);
/* The other way: 0 with engine (NUL-terminated, QUOTE_MAX_ENGINE + 1) and
 * rd, or -1 when the request is malformed. */
int quote_request_decode(const uint8_t in[QUOTE_REQUEST_LEN], char engine[QUOTE_MAX_ENGINE + 1],
                         uint8_t rd[EVIDENCE_REPORT_DATA_LEN]);

/* Sends a reply: status and body. 0 or -1. */
int quote_reply_send(int fd, uint8_t status, const void *body, size_t len);

#endif
