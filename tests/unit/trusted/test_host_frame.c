/* test_host_frame.c - the enclave's checks of frames from the host: a
 * well-formed INVOKE, DROP and SHUTDOWN pass; each way of breaking an
 * INVOKE or DROP, and every other message type, is refused with a reason. */
#include "check.h"
#include "trusted/host_frame.h"

#include <stdint.h>

/* Which INVOKE field to spoil, and how. */
enum spoil { NONE, FEW_FIELDS, EMPTY_KEY, NUL_KEY, NUL_MAIN, SHORT_INT, ZERO_TIMEOUT, ZERO_MEMORY, HUGE_MEMORY,
             BAD_CONFIDENTIAL, KEYS_NOT_CONFIDENTIAL, NUL_ACTION, NUL_EGRESS };

/* Seals w, decodes it as the enclave's reader would, and checks it. */
static const char *problem_of(ipc_writer *w) {
    CHECK(ipc_writer_finish(w) == IPC_OK);
    ipc_msg m;
    CHECK(ipc_decode(w->data + 4, w->len - 4, &m) == IPC_OK);
    const char *problem = host_frame_problem(&m);
    ipc_writer_free(w);
    return problem;
}

static const char *check_invoke(enum spoil how) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_INVOKE, 9);
    if (how == EMPTY_KEY) ipc_put_str(&w, "");
    else if (how == NUL_KEY) ipc_put_bytes(&w, "ns/a\0b@1", 8);
    else ipc_put_str(&w, "ns/a@0.0.1");
    ipc_put_str(&w, "function main() { return {}; }");
    if (how == NUL_MAIN) ipc_put_bytes(&w, "ma\0in", 5);
    else ipc_put_str(&w, "");
    ipc_put_str(&w, "{}");
    ipc_put_str(&w, "0123abcd");
    if (how == SHORT_INT) ipc_put_bytes(&w, "\x10\x27", 2);
    else ipc_put_u64(&w, how == ZERO_TIMEOUT ? 0 : 10000);
    ipc_put_u64(&w, how == ZERO_MEMORY ? 0 : how == HUGE_MEMORY ? UINT64_MAX : 128u << 20);
    ipc_put_u64(&w, 1u << 20);
    ipc_put_u64(&w, 1u << 20);
    if (how != FEW_FIELDS) ipc_put_u64(&w, 1);
    if (how != FEW_FIELDS) {
        ipc_put_u64(&w, how == BAD_CONFIDENTIAL ? 2 : 0);
        ipc_put_str(&w, how == KEYS_NOT_CONFIDENTIAL ? "keys" : "");
        if (how == NUL_ACTION) ipc_put_bytes(&w, "{\"node\":\0}", 10);
        else ipc_put_str(&w, "{\"node\":true}");
        if (how == NUL_EGRESS) ipc_put_bytes(&w, "[{}]\0", 5);
        else ipc_put_str(&w, "[{\"allow\": [\"*\"]}]");
    }
    return problem_of(&w);
}

static void test_invoke(void) {
    CHECK(check_invoke(NONE) == NULL);
    for (enum spoil how = FEW_FIELDS; how <= NUL_EGRESS; how++) CHECK(check_invoke(how) != NULL);
    CHECK_STR(check_invoke(ZERO_TIMEOUT), "INVOKE with a zero timeout");
    CHECK_STR(check_invoke(NUL_EGRESS), "INVOKE with a binary egress policy");
}

static const char *check_other(ipc_type type, const char *key, size_t keylen, int fields) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, type, 0);
    for (int i = 0; i < fields; i++) ipc_put_bytes(&w, key, keylen);
    return problem_of(&w);
}

static void test_drop_shutdown_others(void) {
    CHECK(check_other(IPC_DROP, "ns/a@", 5, 1) == NULL);
    CHECK_STR(check_other(IPC_DROP, "", 0, 1), "malformed DROP");
    CHECK_STR(check_other(IPC_DROP, "ns\0a@", 5, 1), "malformed DROP");
    CHECK_STR(check_other(IPC_DROP, "ns/a@", 5, 2), "malformed DROP");
    CHECK(check_other(IPC_SHUTDOWN, "", 0, 0) == NULL);
    CHECK(check_other(IPC_CANCEL, "", 0, 0) == NULL);
    CHECK_STR(check_other(IPC_CANCEL, "x", 1, 1), "malformed CANCEL");
    CHECK_STR(check_other(IPC_HELLO, "", 0, 0), "unexpected message type");
    CHECK_STR(check_other(IPC_RESULT, "x", 1, 6), "unexpected message type");
    CHECK_STR(check_other((ipc_type)77, "", 0, 0), "unexpected message type");
}

int main(void) {
    test_invoke();
    test_drop_shutdown_others();
    return CHECK_DONE();
}
