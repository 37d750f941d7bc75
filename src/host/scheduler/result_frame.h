/* result_frame.h - reading an enclave's RESULT frame (ipc.h, RES_*): the one
 * place where the host turns what an enclave sent back for an activation into
 * values it keeps. Pure (no I/O, no scheduler state), so the reader thread
 * and the fuzz_result target run the same checks.
 *
 * The enclave runs tenant code, and its answer ends up in an activation
 * record (JSON) that the store keeps and clients read; so a frame must have
 * every field, a known status, a non-empty result without NUL bytes, and a
 * result and logs within the limits the INVOKE gave (plus the slack of the
 * enclave's own error texts and truncation line); the text it keeps is made
 * valid UTF-8. A confidential activation succeeds only with sealed bytes
 * (its OHTTP response, within the result's cap) and the result "{}", and
 * nothing else carries sealed bytes. Anything else is a protocol violation. */
#ifndef TFAAS_HOST_SCHEDULER_RESULT_FRAME_H
#define TFAAS_HOST_SCHEDULER_RESULT_FRAME_H

#include "common/ipc.h"

#include <stddef.h>
#include <stdint.h>

/* What an enclave may add to a limit: an error text in place of a result, the
 * truncation line after the logs. */
#define RESULT_FRAME_SLACK (8u << 10)
/* A confidential answer's sealed bytes hold the Binary HTTP response with
 * the receipt and the worker certificate beside the result; its logs are
 * base64url of their box. */
#define RESULT_FRAME_CONFIDENTIAL_EXTRA (64u << 10)

typedef enum {
    RESULT_FRAME_DONE,      /* the activation's outcome: status, result, logs, durations */
    RESULT_FRAME_NEED_CODE, /* resend the INVOKE with the code */
    RESULT_FRAME_NEED_KEYS, /* result holds the worker's identity (JSON text, as sent) */
    RESULT_FRAME_NOT_RUN,   /* a cancelled activation that never ran (IPC_CANCEL) */
    RESULT_FRAME_MALFORMED, /* a protocol violation; problem says which */
    RESULT_FRAME_NOMEM,
} result_frame_kind;

/* The limits of the activation the frame answers. */
typedef struct {
    uint64_t max_result_bytes;
    uint64_t max_log_bytes;
    int confidential;
} result_frame_limits;

typedef struct {
    tfaas_status status;   /* DONE: SUCCESS .. INTERNAL_ERR */
    uint64_t duration_us, init_us, peak_memory;
    char *result;          /* DONE and NEED_KEYS: malloc'd, NUL-terminated */
    size_t result_len;
    char *logs;            /* DONE: malloc'd, NUL-terminated, may be "" */
    uint8_t *sealed;       /* DONE of a confidential call that ran: the OHTTP response, malloc'd; else NULL */
    size_t sealed_len;
    const char *problem;   /* MALFORMED: static text */
} result_frame;

/* Reads m (any type) into out; the strings are the caller's (result_frame_free)
 * for every kind. DONE texts are valid UTF-8: other bytes, and NUL bytes in
 * the logs (a console.log of "\0"), become '?'. */
result_frame_kind result_frame_read(const ipc_msg *m, const result_frame_limits *lim, result_frame *out);
/* The longest result, sealed response or log text accepted for a limit of
 * max bytes. */
uint64_t result_frame_cap(uint64_t max, int confidential);
void result_frame_free(result_frame *f);

#endif
