/* host_frame.c - validation of frames from the host; see host_frame.h. */
#include "trusted/host_frame.h"

#include <stdint.h>
#include <string.h>

/* A field that is text without NUL bytes, non-empty unless may_be_empty. */
static int text_field_ok(const ipc_msg *m, unsigned idx, int may_be_empty) {
    const ipc_field *f = &m->fields[idx];
    if (!may_be_empty && f->len == 0) return 0;
    return f->len == 0 || memchr(f->ptr, '\0', f->len) == NULL;
}

static const char *invoke_problem(const ipc_msg *m) {
    uint64_t v;
    if (m->nfields != INV_NFIELDS) return "INVOKE with the wrong number of fields";
    if (!text_field_ok(m, INV_FN_KEY, 0)) return "INVOKE with an empty or binary function key";
    if (!text_field_ok(m, INV_MAIN, 1)) return "INVOKE with a binary entry-point name";
    if (!text_field_ok(m, INV_ACTION, 1)) return "INVOKE with a binary action description";
    static const unsigned u64s[] = {INV_TIMEOUT_MS, INV_MEMORY_BYTES, INV_MAX_RESULT_BYTES,
                                    INV_MAX_LOG_BYTES, INV_CONCURRENCY, INV_CONFIDENTIAL};
    for (size_t i = 0; i < sizeof u64s / sizeof *u64s; i++)
        if (ipc_get_u64(m, u64s[i], &v) < 0) return "INVOKE with a malformed integer field";
    ipc_get_u64(m, INV_TIMEOUT_MS, &v);
    if (v == 0) return "INVOKE with a zero timeout";
    ipc_get_u64(m, INV_MEMORY_BYTES, &v);
    if (v == 0 || v > SIZE_MAX / 2) return "INVOKE with an impossible memory limit";
    ipc_get_u64(m, INV_CONFIDENTIAL, &v);
    if (v > 1) return "INVOKE with a confidential flag other than 0 or 1";
    if (v == 0 && m->fields[INV_KEYS].len) return "INVOKE with keys for a function that is not confidential";
    if (!text_field_ok(m, INV_EGRESS, 1)) return "INVOKE with a binary egress policy";
    return NULL;
}

const char *host_frame_problem(const ipc_msg *m) {
    switch (m->type) {
    case IPC_INVOKE: return invoke_problem(m);
    case IPC_DROP:
        if (m->nfields != DROP_NFIELDS || !text_field_ok(m, DROP_FN_KEY, 0)) return "malformed DROP";
        return NULL;
    case IPC_SHUTDOWN: return NULL;
    case IPC_CANCEL: return m->nfields == 0 ? NULL : "malformed CANCEL";
    default: return "unexpected message type";
    }
}
