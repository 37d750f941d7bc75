/* test_scheduler_result.c - reading an enclave's RESULT frame
 * (src/host/scheduler/result_frame.c): final outcomes, NEED_CODE and
 * NEED_KEYS, every refusal (type, fields, status, empty or NUL-holding
 * result, results and logs over their caps, plain and confidential), the
 * sealed response of a confidential call and where it does not belong, and
 * the UTF-8 and NUL repair of the kept text. */
#include "check.h"

#include "host/scheduler/result_frame.h"

#include <stdlib.h>
#include <string.h>

/* The SEALED field the next frame() carries (empty unless a test sets it). */
static const char *sealed_bytes;
static size_t sealed_len;

/* A RESULT frame as the enclave writes it, decoded as the reader gets it.
 * The writer keeps the bytes m points into; the caller frees it. */
static ipc_msg frame(ipc_writer *w, uint8_t type, uint64_t status, const char *result, size_t result_len,
                     const char *logs, size_t logs_len, unsigned nfields) {
    memset(w, 0, sizeof *w);
    ipc_writer_begin(w, type, 7);
    const unsigned all = RES_NFIELDS;
    for (unsigned i = 0; i < nfields && i < all; i++) {
        if (i == RES_STATUS) ipc_put_u64(w, status);
        else if (i == RES_RESULT) ipc_put_bytes(w, result, result_len);
        else if (i == RES_LOGS) ipc_put_bytes(w, logs, logs_len);
        else if (i == RES_SEALED) ipc_put_bytes(w, sealed_bytes, sealed_len);
        else ipc_put_u64(w, 1000u * i);
    }
    for (unsigned i = all; i < nfields; i++) ipc_put_u64(w, 0);
    ipc_msg m;
    memset(&m, 0, sizeof m);
    CHECK(ipc_writer_finish(w) == IPC_OK);
    /* the writer's buffer holds the 4-byte length, then the body */
    CHECK(ipc_decode(w->data + 4, w->len - 4, &m) == IPC_OK);
    return m;
}

static result_frame_kind read_one(uint64_t status, const char *result, size_t result_len, const char *logs,
                                  size_t logs_len, const result_frame_limits *lim, result_frame *rf) {
    ipc_writer w;
    ipc_msg m = frame(&w, IPC_RESULT, status, result, result_len, logs, logs_len, RES_NFIELDS);
    result_frame_kind k = result_frame_read(&m, lim, rf);
    ipc_writer_free(&w);
    return k;
}

static const result_frame_limits PLAIN = {1u << 20, 10u << 20, 0};

static void test_done(void) {
    result_frame rf;
    const char *res = "{\"greeting\":\"Hello\"}", *logs = "2026-11-24T16:09:00.123Z stdout: hi";
    CHECK(read_one(0, res, strlen(res), logs, strlen(logs), &PLAIN, &rf) == RESULT_FRAME_DONE);
    CHECK(rf.status == TFAAS_STATUS_SUCCESS && rf.result_len == strlen(res));
    CHECK_STR(rf.result, res);
    CHECK_STR(rf.logs, logs);
    CHECK(rf.duration_us == 3000 && rf.init_us == 4000 && rf.peak_memory == 5000);
    result_frame_free(&rf);
    CHECK(rf.result == NULL && rf.logs == NULL);
    CHECK(read_one(2, "{\"error\":\"x\"}", 13, "", 0, &PLAIN, &rf) == RESULT_FRAME_DONE);
    CHECK(rf.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK_STR(rf.logs, "");
    result_frame_free(&rf);

    /* Bytes tenant code chose become valid text: a lone surrogate as Duktape
     * writes it (CESU-8), a NUL and a stray byte in the logs. */
    CHECK(read_one(0, "{\"s\":\"\xed\xa0\x80\"}", 11, "a\0b\xff", 4, &PLAIN, &rf) == RESULT_FRAME_DONE);
    CHECK_STR(rf.result, "{\"s\":\"???\"}");
    CHECK(memcmp(rf.logs, "a?b?", 5) == 0);
    result_frame_free(&rf);
}

static void test_requests(void) {
    result_frame rf;
    CHECK(read_one(TFAAS_STATUS_NEED_CODE, "{}", 2, "", 0, &PLAIN, &rf) == RESULT_FRAME_NEED_CODE);
    CHECK(read_one(TFAAS_STATUS_NOT_RUN, "{}", 2, "", 0, &PLAIN, &rf) == RESULT_FRAME_NOT_RUN);
    CHECK(rf.result == NULL);
    result_frame_free(&rf);
    const char *who = "{\"evidence\":\"e\",\"keys\":{}}";
    CHECK(read_one(TFAAS_STATUS_NEED_KEYS, who, strlen(who), "", 0, &PLAIN, &rf) == RESULT_FRAME_NEED_KEYS);
    CHECK_STR(rf.result, who);
    CHECK(rf.result_len == strlen(who));
    result_frame_free(&rf);
}

static void expect_malformed(ipc_msg *m, const result_frame_limits *lim, const char *what) {
    result_frame rf;
    CHECK(result_frame_read(m, lim, &rf) == RESULT_FRAME_MALFORMED);
    CHECK(rf.problem && strstr(rf.problem, what) != NULL);
    CHECK(rf.result == NULL && rf.logs == NULL);
}

static void test_refusals(void) {
    ipc_writer w;
    ipc_msg m = frame(&w, IPC_HELLO, 0, "{}", 2, "", 0, RES_NFIELDS);
    expect_malformed(&m, &PLAIN, "unexpected message type");
    ipc_writer_free(&w);
    m = frame(&w, IPC_RESULT, 0, "{}", 2, "", 0, RES_NFIELDS - 1);
    expect_malformed(&m, &PLAIN, "malformed result");
    ipc_writer_free(&w);
    m = frame(&w, IPC_RESULT, 0, "{}", 2, "", 0, RES_NFIELDS + 1);
    expect_malformed(&m, &PLAIN, "malformed result");
    ipc_writer_free(&w);
    const uint64_t bad_status[] = {4, 99, 103, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad_status / sizeof *bad_status; i++) {
        m = frame(&w, IPC_RESULT, bad_status[i], "{}", 2, "", 0, RES_NFIELDS);
        expect_malformed(&m, &PLAIN, "unknown status");
        ipc_writer_free(&w);
    }
    m = frame(&w, IPC_RESULT, 0, "", 0, "", 0, RES_NFIELDS);
    expect_malformed(&m, &PLAIN, "empty result");
    ipc_writer_free(&w);
    /* "{}\0..." would read as {} where it is cut */
    m = frame(&w, IPC_RESULT, 0, "{}\0{\"x\":1}", 10, "", 0, RES_NFIELDS);
    expect_malformed(&m, &PLAIN, "NUL byte");
    ipc_writer_free(&w);
}

static void test_caps(void) {
    result_frame_limits small = {64, 0, 0};
    size_t over = 64 + RESULT_FRAME_SLACK + 1;
    char *big = malloc(4 * over);
    memset(big, 'a', 4 * over);
    big[0] = '{';
    result_frame rf;
    /* an error text in place of a small result fits in the slack */
    CHECK(read_one(2, big, 64 + RESULT_FRAME_SLACK, big, RESULT_FRAME_SLACK, &small, &rf) == RESULT_FRAME_DONE);
    result_frame_free(&rf);
    CHECK(read_one(0, big, over, "", 0, &small, &rf) == RESULT_FRAME_MALFORMED);
    CHECK(strstr(rf.problem, "result over") != NULL);
    CHECK(read_one(0, "{}", 2, big, RESULT_FRAME_SLACK + 1, &small, &rf) == RESULT_FRAME_MALFORMED);
    CHECK(strstr(rf.problem, "logs over") != NULL);
    /* confidential logs are base64url of their box */
    small.confidential = 1;
    CHECK(result_frame_cap(64, 1) > 4 * over);
    CHECK(read_one(2, big, 4 * over, big, 4 * over, &small, &rf) == RESULT_FRAME_DONE);
    result_frame_free(&rf);
    CHECK(result_frame_cap(UINT64_MAX, 0) >= UINT64_MAX / 2);
    free(big);
}

/* A confidential call that ran answers with its OHTTP response as raw bytes
 * beside the result "{}"; anywhere else those bytes are a violation. */
static void test_sealed(void) {
    result_frame_limits conf = {64, 64, 1};
    result_frame rf;
    sealed_bytes = "\x01\x00sealed";
    sealed_len = 8;
    CHECK(read_one(0, "{}", 2, "bG9n", 4, &conf, &rf) == RESULT_FRAME_DONE);
    CHECK(rf.sealed && rf.sealed_len == 8 && memcmp(rf.sealed, "\x01\x00sealed", 8) == 0);
    result_frame_free(&rf);
    CHECK(rf.sealed == NULL && rf.sealed_len == 0);
    CHECK(read_one(0, "{}", 2, "", 0, &PLAIN, &rf) == RESULT_FRAME_MALFORMED);
    CHECK(strstr(rf.problem, "sealed response where none belongs") != NULL);
    CHECK(read_one(1, "{}", 2, "", 0, &conf, &rf) == RESULT_FRAME_MALFORMED);
    CHECK(read_one(0, "{\"a\":1}", 7, "", 0, &conf, &rf) == RESULT_FRAME_MALFORMED);
    CHECK(read_one(TFAAS_STATUS_NEED_KEYS, "{}", 2, "", 0, &conf, &rf) == RESULT_FRAME_MALFORMED);
    sealed_bytes = NULL;
    sealed_len = 0;
    CHECK(read_one(0, "{}", 2, "", 0, &conf, &rf) == RESULT_FRAME_MALFORMED);
    CHECK(strstr(rf.problem, "without its sealed response") != NULL);
    size_t over = result_frame_cap(64, 1) + 1;
    char *big = calloc(1, over);
    sealed_bytes = big;
    sealed_len = over;
    CHECK(read_one(0, "{}", 2, "", 0, &conf, &rf) == RESULT_FRAME_MALFORMED);
    CHECK(strstr(rf.problem, "sealed response over") != NULL);
    sealed_len = over - 1;
    CHECK(read_one(0, "{}", 2, "", 0, &conf, &rf) == RESULT_FRAME_DONE);
    result_frame_free(&rf);
    free(big);
    sealed_bytes = NULL;
    sealed_len = 0;
    /* a refusal (no sealed bytes) is an ordinary result */
    CHECK(read_one(1, "{\"error\":\"no\",\"status\":403}", 27, "", 0, &conf, &rf) == RESULT_FRAME_DONE);
    CHECK(rf.sealed == NULL);
    result_frame_free(&rf);
}

int main(void) {
    test_done();
    test_requests();
    test_refusals();
    test_caps();
    test_sealed();
    return CHECK_DONE();
}
