/* result_frame.c - an enclave's RESULT frame to the values the host keeps;
 * see result_frame.h. */
#include "host/scheduler/result_frame.h"

#include "host/util/utf8.h"

#include <stdlib.h>
#include <string.h>

uint64_t result_frame_cap(uint64_t max, int confidential) {
    uint64_t cap = max > UINT64_MAX / 2 ? UINT64_MAX / 2 : max + RESULT_FRAME_SLACK;
    /* the logs are base64url (4 characters per 3 bytes, rounded up); the
     * sealed response is raw, so this also bounds it */
    if (confidential) cap = cap / 3 * 4 + 4 + RESULT_FRAME_CONFIDENTIAL_EXTRA;
    return cap;
}

static result_frame_kind malformed(result_frame *out, const char *problem) {
    result_frame_free(out);
    out->problem = problem;
    return RESULT_FRAME_MALFORMED;
}

result_frame_kind result_frame_read(const ipc_msg *m, const result_frame_limits *lim, result_frame *out) {
    memset(out, 0, sizeof *out);
    if (m->type != IPC_RESULT) return malformed(out, "unexpected message type");
    uint64_t st;
    if (m->nfields != RES_NFIELDS || ipc_get_u64(m, RES_STATUS, &st) < 0 ||
        ipc_get_u64(m, RES_DURATION_US, &out->duration_us) < 0 || ipc_get_u64(m, RES_INIT_US, &out->init_us) < 0 ||
        ipc_get_u64(m, RES_PEAK_MEMORY, &out->peak_memory) < 0)
        return malformed(out, "malformed result");
    if (st > TFAAS_STATUS_INTERNAL_ERR && st != TFAAS_STATUS_NEED_CODE && st != TFAAS_STATUS_NEED_KEYS &&
        st != TFAAS_STATUS_NOT_RUN)
        return malformed(out, "malformed result: unknown status");
    out->status = (tfaas_status)st;
    const ipc_field *res = &m->fields[RES_RESULT], *logs = &m->fields[RES_LOGS], *sealed = &m->fields[RES_SEALED];
    if (res->len == 0) return malformed(out, "malformed result: empty result");
    /* A confidential call succeeds only as its sealed response (the record
     * keeps nothing of its result), and only such a call has one. */
    int sealed_call = lim->confidential && st == TFAAS_STATUS_SUCCESS;
    if (sealed->len && (!sealed_call || res->len != 2 || memcmp(res->ptr, "{}", 2) != 0))
        return malformed(out, "malformed result: a sealed response where none belongs");
    if (sealed_call && !sealed->len) return malformed(out, "malformed result: a confidential success without its sealed response");
    if (st == TFAAS_STATUS_NEED_CODE) return RESULT_FRAME_NEED_CODE;
    if (st == TFAAS_STATUS_NOT_RUN) return RESULT_FRAME_NOT_RUN;
    /* JSON text: a NUL is always escaped, and a raw one would cut it short */
    if (memchr(res->ptr, '\0', res->len)) return malformed(out, "malformed result: NUL byte in the result");
    if (st == TFAAS_STATUS_NEED_KEYS) {
        /* the worker's evidence and keys, as sent: the KMS checks them */
        if (!(out->result = ipc_get_str(m, RES_RESULT))) return RESULT_FRAME_NOMEM;
        out->result_len = res->len;
        return RESULT_FRAME_NEED_KEYS;
    }
    if (res->len > result_frame_cap(lim->max_result_bytes, lim->confidential))
        return malformed(out, "malformed result: result over its limit");
    if (logs->len > result_frame_cap(lim->max_log_bytes, lim->confidential))
        return malformed(out, "malformed result: logs over their limit");
    if (sealed->len > result_frame_cap(lim->max_result_bytes, lim->confidential))
        return malformed(out, "malformed result: sealed response over its limit");
    out->result = ipc_get_str(m, RES_RESULT);
    out->logs = ipc_get_str(m, RES_LOGS);
    if (sealed->len && (out->sealed = malloc(sealed->len))) {
        memcpy(out->sealed, sealed->ptr, sealed->len);
        out->sealed_len = sealed->len;
    }
    if (!out->result || !out->logs || (sealed->len && !out->sealed)) {
        result_frame_free(out);
        return RESULT_FRAME_NOMEM;
    }
    out->result_len = res->len;
    /* Tenant code chose these bytes (a lone surrogate is not UTF-8); the
     * record is JSON, so they must become valid text here. A NUL would cut
     * the log text short wherever it is read as a C string. */
    for (size_t i = 0; i < logs->len; i++)
        if (out->logs[i] == '\0') out->logs[i] = '?';
    utf8_sanitize(out->result);
    utf8_sanitize(out->logs);
    return RESULT_FRAME_DONE;
}

void result_frame_free(result_frame *f) {
    free(f->result);
    free(f->logs);
    free(f->sealed);
    f->result = f->logs = NULL;
    f->sealed = NULL;
    f->result_len = f->sealed_len = 0;
}
