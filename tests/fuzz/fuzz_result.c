/* fuzz_result.c - libFuzzer target for the host's handling of what an
 * enclave sends back for an activation: the frame body goes through
 * ipc_decode, result_frame_read (src/host/scheduler/result_frame.c, the
 * checks the scheduler's reader applies) and, for a final outcome, into
 * activation_record_build (src/host/gateway/activation_record.c), the record
 * the store keeps and clients read. The frame's id picks the activation's
 * limits (bit 0: confidential, bit 1: a 64-byte result limit, bit 2: a zero
 * log limit, bit 3: the shortest timeout), so small inputs reach every cap.
 *
 * Invariants: frames that are not a whole RESULT with a known status are a
 * protocol violation with a reason and leave nothing allocated; a final
 * outcome has a known status, a result without NUL bytes and within its cap,
 * logs within theirs, both valid UTF-8, and sealed bytes (within the cap)
 * exactly when it is a confidential success, whose result is then "{}";
 * its record is built, dumps to JSON that parses back, is a success
 * exactly when the enclave said success and sent a JSON object (which the
 * record then holds unchanged; the allocation-free object check agrees
 * whenever it says yes), lists the log lines exactly, and stays
 * within a small factor of what the enclave sent; its text form's list
 * entry is the record without response and logs, and its result slice is
 * the record's result. */
#include "fuzz.h"

#include "host/gateway/activation_record.h"
#include "host/scheduler/result_frame.h"
#include "host/util/json_scan.h"

static void check_record(const result_frame *rf, const result_frame_limits *lim, const action_limits *al,
                         uint64_t id) {
    sched_result res = {.status = rf->status, .result_json = rf->result, .logs = rf->logs,
                        .duration_us = rf->duration_us, .init_us = rf->init_us, .wait_us = id,
                        .peak_memory = rf->peak_memory};
    activation_info info = {"guest", "fuzz", "0.0.1", "nodejs:default", "0123456789abcdef0123456789abcdef", al,
                            lim->confidential, NULL, NULL, 0, NULL, 0};
    const char *malformed;
    json_t *rec = activation_record_build(&info, &res, INT64_C(1764460800000), &malformed);
    FUZZ_CHECK(rec != NULL);
    char *text = json_dumps(rec, JSON_COMPACT);
    FUZZ_CHECK(text != NULL);
    size_t sent = rf->result_len + strlen(rf->logs);
    FUZZ_CHECK(strlen(text) <= 6 * sent + (16u << 10));
    json_error_t e;
    json_t *back = json_loads(text, JSON_ALLOW_NUL, &e);
    FUZZ_CHECK(back != NULL && json_equal(back, rec));

    json_t *response = json_object_get(rec, "response");
    json_t *result = json_object_get(response, "result");
    FUZZ_CHECK(json_is_object(result));
    json_t *given = json_loads(rf->result, JSON_ALLOW_NUL, NULL);
    /* the reader's allocation-free check only ever says yes for an object
     * jansson accepts (json_scan.h) */
    FUZZ_CHECK(!json_scan_object(rf->result) || json_is_object(given));
    int success = json_is_true(json_object_get(response, "success"));
    json_int_t code = json_integer_value(json_object_get(response, "statusCode"));
    FUZZ_CHECK(code >= TFAAS_STATUS_SUCCESS && code <= TFAAS_STATUS_INTERNAL_ERR);
    FUZZ_CHECK(code == json_integer_value(json_object_get(rec, "statusCode")));
    FUZZ_CHECK(success == (code == TFAAS_STATUS_SUCCESS));
    FUZZ_CHECK(success == (rf->status == TFAAS_STATUS_SUCCESS && json_is_object(given)));
    FUZZ_CHECK(!malformed == json_is_object(given));
    if (!json_is_object(given)) {
        FUZZ_CHECK(malformed[0] && code == TFAAS_STATUS_INTERNAL_ERR);
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(result, "error")), ACTIVATION_MALFORMED_RESULT) == 0);
    } else if (!lim->confidential || !success) {
        FUZZ_CHECK(code == (json_int_t)rf->status && json_equal(result, given));
    } else {
        FUZZ_CHECK(json_object_size(result) == 0); /* nothing of a confidential call's outcome */
    }

    /* The log lines, joined again, are the logs but for one final '\n'. */
    json_t *lines = json_object_get(rec, "logs");
    size_t len = strlen(rf->logs), at = 0;
    if (len && rf->logs[len - 1] == '\n') len--;
    for (size_t i = 0; i < json_array_size(lines); i++) {
        json_t *l = json_array_get(lines, i);
        size_t n = json_string_length(l);
        if (i) FUZZ_CHECK(at < len && rf->logs[at++] == '\n');
        FUZZ_CHECK(n <= len - at && memcmp(rf->logs + at, json_string_value(l), n) == 0);
        at += n;
    }
    FUZZ_CHECK(at == len);

    /* The text the store keeps: its list entry is the record without
     * response and logs, its result slice the record's result. */
    activation_text t;
    FUZZ_CHECK(activation_record_write(&info, &res, INT64_C(1764460800000), &t, &malformed) == 0);
    json_t *entry = json_loads(t.summary, JSON_ALLOW_NUL, NULL);
    json_t *expect = json_copy(rec);
    json_object_del(expect, "response");
    json_object_del(expect, "logs");
    FUZZ_CHECK(entry && json_equal(entry, expect));
    json_t *slice = json_loadb(t.text + t.result_off, t.result_len, JSON_ALLOW_NUL, NULL);
    FUZZ_CHECK(slice && json_equal(slice, result));
    FUZZ_CHECK(t.status_code == code);
    json_decref(slice);
    json_decref(expect);
    json_decref(entry);
    activation_text_free(&t);

    json_decref(given);
    json_decref(back);
    free(text);
    json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *body = fuzz_bytes(data, size);
    ipc_msg m;
    if (ipc_decode(body, size, &m) != IPC_OK) {
        free(body);
        return 0;
    }
    result_frame_limits lim = {(m.id & 2) ? 64 : 1u << 20, (m.id & 4) ? 0 : 10u << 20, (int)(m.id & 1)};
    action_limits al = {.timeout_ms = (m.id & 8) ? 100 : 60000, .memory_mb = 256, .logs_mb = (m.id & 4) ? 0 : 10,
                        .concurrency = 1};
    result_frame rf;
    result_frame_kind kind = result_frame_read(&m, &lim, &rf);
    switch (kind) {
    case RESULT_FRAME_MALFORMED:
        FUZZ_CHECK(rf.problem && rf.problem[0] && !rf.result && !rf.logs);
        break;
    case RESULT_FRAME_NEED_CODE:
        FUZZ_CHECK(m.type == IPC_RESULT && rf.status == TFAAS_STATUS_NEED_CODE && !rf.result);
        break;
    case RESULT_FRAME_NOT_RUN:
        FUZZ_CHECK(m.type == IPC_RESULT && rf.status == TFAAS_STATUS_NOT_RUN && !rf.result && !rf.logs);
        break;
    case RESULT_FRAME_NEED_KEYS:
        FUZZ_CHECK(m.type == IPC_RESULT && rf.status == TFAAS_STATUS_NEED_KEYS);
        FUZZ_CHECK(rf.result && rf.result_len > 0 && strlen(rf.result) == rf.result_len);
        break;
    case RESULT_FRAME_DONE:
        FUZZ_CHECK(m.type == IPC_RESULT && m.nfields == RES_NFIELDS);
        FUZZ_CHECK(rf.status <= TFAAS_STATUS_INTERNAL_ERR);
        FUZZ_CHECK(rf.result && rf.logs && rf.result_len > 0 && strlen(rf.result) == rf.result_len);
        FUZZ_CHECK(rf.result_len <= result_frame_cap(lim.max_result_bytes, lim.confidential));
        FUZZ_CHECK(strlen(rf.logs) <= result_frame_cap(lim.max_log_bytes, lim.confidential));
        FUZZ_CHECK(strlen(rf.logs) == m.fields[RES_LOGS].len);
        FUZZ_CHECK(!!rf.sealed == (lim.confidential && rf.status == TFAAS_STATUS_SUCCESS));
        FUZZ_CHECK(rf.sealed_len == m.fields[RES_SEALED].len &&
                   rf.sealed_len <= result_frame_cap(lim.max_result_bytes, lim.confidential));
        if (rf.sealed) FUZZ_CHECK(memcmp(rf.sealed, m.fields[RES_SEALED].ptr, rf.sealed_len) == 0 &&
                                  strcmp(rf.result, "{}") == 0);
        {
            json_t *r = json_string(rf.result), *l = json_string(rf.logs); /* NULL unless valid UTF-8 */
            FUZZ_CHECK(r && l);
            json_decref(r);
            json_decref(l);
        }
        check_record(&rf, &lim, &al, m.id);
        break;
    case RESULT_FRAME_NOMEM:
        FUZZ_CHECK(!"out of memory with libFuzzer's limits");
    }
    result_frame_free(&rf);
    free(body);
    return 0;
}
