/* test_gateway_record.c - the activation record built from a scheduler
 * outcome (src/host/gateway/activation_record.c): OpenWhisk's shape, status
 * texts, log lines, durations and the timeout flag, results that are not a
 * JSON object, IPC-only statuses, enclave durations that would wrap, the
 * confidential record that keeps only the receipt, and the text form the
 * store keeps and blocking invokes answer: its list entry, its result slice,
 * escapes, and the enclave's result kept byte for byte. */
#include "check.h"

#include "host/gateway/activation_record.h"
#include "host/util/json.h"

#include <stdlib.h>
#include <string.h>

static const action_limits LIMITS = {.timeout_ms = 1000, .memory_mb = 256, .logs_mb = 10, .concurrency = 1};
static const activation_info INFO = {"guest", "hello", "0.0.2", "nodejs:default", "0123456789abcdef0123456789abcdef",
                                     &LIMITS, 0, NULL, NULL, 0, NULL, 0};

static json_t *build(const activation_info *info, tfaas_status st, const char *result, const char *logs,
                     uint64_t duration_us, uint64_t init_us, const char **malformed) {
    sched_result res = {.status = st, .result_json = (char *)result, .logs = (char *)logs,
                        .duration_us = duration_us, .init_us = init_us, .wait_us = 7000};
    return activation_record_build(info, &res, 1000000, malformed);
}

static json_t *response(json_t *rec) { return json_object_get(rec, "response"); }

static void test_success(void) {
    const char *bad;
    json_t *rec = build(&INFO, TFAAS_STATUS_SUCCESS, "{\"greeting\":\"Hello\"}", "l1\n\nl3\n", 1499, 2000, &bad);
    CHECK(rec && bad == NULL);
    CHECK_STR(json_get_str(rec, "namespace", ""), "guest");
    CHECK_STR(json_get_str(rec, "name", ""), "hello");
    CHECK_STR(json_get_str(rec, "version", ""), "0.0.2");
    CHECK_STR(json_get_str(rec, "activationId", ""), INFO.id);
    CHECK(json_get_int(rec, "end", 0) == 1000000);
    CHECK(json_get_int(rec, "duration", -1) == 3); /* 3.499 ms, rounded */
    CHECK(json_get_int(rec, "start", 0) == 1000000 - 3);
    CHECK(json_get_int(rec, "statusCode", -1) == 0);
    CHECK_STR(json_get_str(response(rec), "status", ""), "success");
    CHECK(json_get_bool(response(rec), "success", 0) == 1);
    CHECK_STR(json_get_str(json_object_get(response(rec), "result"), "greeting", ""), "Hello");
    json_t *logs = json_object_get(rec, "logs");
    CHECK(json_array_size(logs) == 3);
    CHECK_STR(json_string_value(json_array_get(logs, 1)), "");
    CHECK_STR(json_string_value(json_array_get(logs, 2)), "l3");
    json_t *ann = json_object_get(rec, "annotations");
    CHECK_STR(json_string_value(json_kv_find(ann, "path")), "guest/hello");
    CHECK(json_integer_value(json_kv_find(ann, "waitTime")) == 7);
    CHECK(json_integer_value(json_kv_find(ann, "initTime")) == 2);
    CHECK(json_is_false(json_kv_find(ann, "timeout")));
    CHECK(json_kv_find(ann, "confidential") == NULL);
    json_decref(rec);
}

static void test_failures(void) {
    const char *bad;
    json_t *rec = build(&INFO, TFAAS_STATUS_DEVELOPER_ERR, "{\"error\":\"slow\"}", "", 1000000, 0, &bad);
    CHECK(rec && !bad);
    CHECK_STR(json_get_str(response(rec), "status", ""), "action developer error");
    CHECK(json_is_true(json_kv_find(json_object_get(rec, "annotations"), "timeout")));
    CHECK(json_array_size(json_object_get(rec, "logs")) == 0);
    json_decref(rec);
    rec = build(&INFO, TFAAS_STATUS_APPLICATION_ERR, "{\"error\":\"no\"}", "", 10, 0, &bad);
    CHECK_STR(json_get_str(response(rec), "status", ""), "application error");
    CHECK(json_get_bool(response(rec), "success", 1) == 0);
    json_decref(rec);

    /* Not a JSON object, or an IPC-only status: never a success. */
    const char *not_objects[] = {"[1]", "\"s\"", "{", "", "{\"a\":1} x", "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof not_objects / sizeof *not_objects; i++) {
        rec = build(&INFO, TFAAS_STATUS_SUCCESS, not_objects[i], "", 10, 0, &bad);
        CHECK(rec && bad && bad[0]);
        CHECK(json_get_int(response(rec), "statusCode", -1) == TFAAS_STATUS_INTERNAL_ERR);
        CHECK_STR(json_get_str(json_object_get(response(rec), "result"), "error", ""), ACTIVATION_MALFORMED_RESULT);
        json_decref(rec);
    }
    rec = build(&INFO, TFAAS_STATUS_NEED_CODE, "{}", "", 10, 0, &bad);
    CHECK(json_get_int(rec, "statusCode", -1) == TFAAS_STATUS_INTERNAL_ERR);
    CHECK_STR(json_get_str(response(rec), "status", ""), "whisk internal error");
    json_decref(rec);

    /* The enclave's durations, however large, give a record (no wrap). */
    rec = build(&INFO, TFAAS_STATUS_SUCCESS, "{}", "", UINT64_MAX, UINT64_MAX, &bad);
    CHECK(rec && json_get_int(rec, "duration", -1) == (json_int_t)(UINT64_MAX / 1000 + 1));
    json_decref(rec);
}

static void test_confidential(void) {
    activation_info info = INFO;
    info.confidential = 1;
    const char *bad;
    json_t *rec = build(&info, TFAAS_STATUS_SUCCESS, "{\"ohttp_res\":\"AAAA\"}", "c2VhbGVk", 10, 0, &bad);
    /* The sealed response (with the receipt inside) is the client's: the
     * record keeps nothing of it. */
    json_t *result = json_object_get(response(rec), "result");
    CHECK(json_is_object(result) && json_object_size(result) == 0);
    CHECK(json_is_true(json_kv_find(json_object_get(rec, "annotations"), "confidential")));
    json_decref(rec);
    /* a refusal keeps its error */
    rec = build(&info, TFAAS_STATUS_APPLICATION_ERR, "{\"error\":\"refused\",\"status\":403}", "", 10, 0, &bad);
    CHECK_STR(json_get_str(json_object_get(response(rec), "result"), "error", ""), "refused");
    json_decref(rec);
}

/* An action in a package reached through a binding: 'path' names the
 * stored action, 'binding' the binding, as OpenWhisk records them. */
static void test_package_path(void) {
    activation_info info = INFO;
    const char *bad;
    json_t *rec = build(&info, TFAAS_STATUS_SUCCESS, "{}", "", 10, 0, &bad);
    CHECK_STR(json_string_value(json_kv_find(json_object_get(rec, "annotations"), "path")), "guest/hello");
    CHECK(json_kv_find(json_object_get(rec, "annotations"), "binding") == NULL);
    json_decref(rec);
    info.path = "whisk.system/utils/echo";
    info.binding = "guest/myutils";
    rec = build(&info, TFAAS_STATUS_SUCCESS, "{}", "", 10, 0, &bad);
    CHECK_STR(json_string_value(json_kv_find(json_object_get(rec, "annotations"), "path")), "whisk.system/utils/echo");
    CHECK_STR(json_string_value(json_kv_find(json_object_get(rec, "annotations"), "binding")), "guest/myutils");
    CHECK_STR(json_get_str(rec, "namespace", ""), "guest");
    json_decref(rec);
}

/* The text form: whole record, list entry and result slice agree with the
 * tree, whatever the strings hold. */
static void test_text(void) {
    const char *bad;
    static const action_limits lim = {.timeout_ms = 60000, .memory_mb = 128, .logs_mb = 0, .concurrency = 4};
    activation_info info = {"guest", "hello", "0.0.2", "js:duktape", "0123456789abcdef0123456789abcdef", &lim, 0,
                            NULL, "guest/bound\"q", 1, "cafe\x01" "babe", 1};
    /* the enclave's own spacing and escapes, which the record keeps */
    const char *result = "{ \"a\" : \"\\u00e9\\n\\\"\", \"n\":1.5e3 }";
    sched_result res = {.status = TFAAS_STATUS_APPLICATION_ERR, .result_json = (char *)result,
                        .logs = (char *)"tab\there\nquote\" back\\slash \x1f ctl\nutf8 \xc3\xa9", .duration_us = 5000,
                        .wait_us = 1000};
    activation_text t;
    CHECK(activation_record_write(&info, &res, 2000000, &t, &bad) == 0 && bad == NULL);
    json_error_t e;
    json_t *rec = json_loadb(t.text, t.len, 0, &e);
    CHECK(rec != NULL);
    CHECK(strlen(t.text) == t.len);
    CHECK(t.status_code == TFAAS_STATUS_APPLICATION_ERR && t.start == 2000000 - 5 && t.end == 2000000);
    CHECK(json_get_int(rec, "statusCode", -1) == TFAAS_STATUS_APPLICATION_ERR);
    /* the result slice is the enclave's text, unchanged */
    CHECK(t.result_len == strlen(result) && memcmp(t.text + t.result_off, result, t.result_len) == 0);
    json_t *given = json_loads(result, 0, NULL);
    CHECK(json_equal(json_object_get(response(rec), "result"), given));
    json_t *logs = json_object_get(rec, "logs");
    CHECK(json_array_size(logs) == 3);
    CHECK_STR(json_string_value(json_array_get(logs, 0)), "tab\there");
    CHECK_STR(json_string_value(json_array_get(logs, 1)), "quote\" back\\slash \x1f ctl");
    CHECK_STR(json_string_value(json_array_get(logs, 2)), "utf8 \xc3\xa9");
    json_t *ann = json_object_get(rec, "annotations");
    CHECK_STR(json_string_value(json_kv_find(ann, "binding")), "guest/bound\"q");
    CHECK(json_is_false(json_kv_find(ann, "topmost")));
    CHECK_STR(json_string_value(json_kv_find(ann, "causedBy")), "sequence");
    CHECK(json_integer_value(json_object_get(json_kv_find(ann, "limits"), "concurrency")) == 4);
    CHECK_STR(json_get_str(rec, "cause", ""), "cafe\x01" "babe");
    CHECK(json_is_false(json_object_get(rec, "publish")));
    /* the list entry: the record without response and logs */
    json_t *entry = json_loads(t.summary, 0, NULL);
    json_t *expect = json_deep_copy(rec);
    json_object_del(expect, "response");
    json_object_del(expect, "logs");
    CHECK(entry && json_equal(entry, expect));
    /* ... byte for byte the text with [cut_at, cut_at + cut_len) taken out,
     * which is response and logs (the store keeps only that part besides
     * the summary, and splices it back on reads) */
    size_t slen = strlen(t.summary);
    CHECK(t.cut_len > 0 && t.cut_at + t.cut_len <= t.len && slen == t.len - t.cut_len);
    CHECK(!memcmp(t.summary, t.text, t.cut_at) &&
          !memcmp(t.summary + t.cut_at, t.text + t.cut_at + t.cut_len, slen - t.cut_at));
    CHECK(!strncmp(t.text + t.cut_at, ",\"response\":", 12) && t.text[t.cut_at + t.cut_len - 1] == ']');
    /* and the tree form is the text parsed */
    json_t *tree = activation_record_build(&info, &res, 2000000, &bad);
    CHECK(tree && json_equal(tree, rec));
    json_decref(tree); json_decref(entry); json_decref(expect); json_decref(given); json_decref(rec);
    activation_text_free(&t);
}

int main(void) {
    test_text();
    test_package_path();
    test_success();
    test_failures();
    test_confidential();
    return CHECK_DONE();
}
