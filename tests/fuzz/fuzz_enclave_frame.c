/* fuzz_enclave_frame.c - libFuzzer target for the enclave's side of the
 * channel: a frame body from the host (outside the trust boundary) goes
 * through ipc_decode and then host_frame_problem (src/trusted/host_frame.c),
 * the only checks between the host's bytes and the enclave's workers.
 *
 * Invariants: a frame the checks pass is an INVOKE, DROP, CANCEL (no fields) or SHUTDOWN, and
 * everything the endpoint then reads from it without checking again is
 * there: the integer fields are 8 bytes, the timeout and memory limit are
 * in range, the function key is a non-empty C string of the whole field and
 * the entry-point name and the action description too, and the egress
 * policies text without a NUL; a DROP's key likewise. */
#include "fuzz.h"

#include "common/ipc.h"
#include "trusted/host_frame.h"

/* Field idx as a C string must be the whole field: no NUL cuts it short. */
static void check_text(const ipc_msg *m, unsigned idx, int may_be_empty) {
    char *s = ipc_get_str(m, idx);
    FUZZ_CHECK(s != NULL);
    FUZZ_CHECK(strlen(s) == m->fields[idx].len);
    FUZZ_CHECK(may_be_empty || s[0] != '\0');
    free(s);
}

static void check_invoke(const ipc_msg *m) {
    FUZZ_CHECK(m->nfields == INV_NFIELDS);
    check_text(m, INV_FN_KEY, 0);
    check_text(m, INV_MAIN, 1);
    check_text(m, INV_ACTION, 1);
    const unsigned u64s[] = {INV_TIMEOUT_MS, INV_MEMORY_BYTES, INV_MAX_RESULT_BYTES, INV_MAX_LOG_BYTES,
                             INV_CONCURRENCY, INV_CONFIDENTIAL};
    uint64_t v;
    for (size_t i = 0; i < sizeof u64s / sizeof *u64s; i++) FUZZ_CHECK(ipc_get_u64(m, u64s[i], &v) == 0);
    FUZZ_CHECK(ipc_get_u64(m, INV_TIMEOUT_MS, &v) == 0 && v > 0);
    FUZZ_CHECK(ipc_get_u64(m, INV_MEMORY_BYTES, &v) == 0 && v > 0 && v <= SIZE_MAX / 2);
    FUZZ_CHECK(ipc_get_u64(m, INV_CONFIDENTIAL, &v) == 0 && v <= 1);
    FUZZ_CHECK(v == 1 || m->fields[INV_KEYS].len == 0);
    check_text(m, INV_EGRESS, 1); /* the endpoint parses it as JSON text */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *body = fuzz_bytes(data, size);
    ipc_msg m;
    if (ipc_decode(body, size, &m) == IPC_OK) {
        const char *problem = host_frame_problem(&m);
        if (!problem) {
            FUZZ_CHECK(m.type == IPC_INVOKE || m.type == IPC_DROP || m.type == IPC_SHUTDOWN || m.type == IPC_CANCEL);
            if (m.type == IPC_CANCEL) FUZZ_CHECK(m.nfields == 0);
            if (m.type == IPC_INVOKE) check_invoke(&m);
            if (m.type == IPC_DROP) {
                FUZZ_CHECK(m.nfields == DROP_NFIELDS);
                check_text(&m, DROP_FN_KEY, 0);
            }
        } else {
            FUZZ_CHECK(problem[0] != '\0');
            FUZZ_CHECK(m.type != IPC_SHUTDOWN);
        }
    }
    free(body);
    return 0;
}
