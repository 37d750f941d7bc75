/* info.c - GET /api/v1 (what this API offers: paths, runtimes, limits; no
 * authentication, as in OpenWhisk) and GET /api/v1/namespaces (the caller's). */
#include "host/gateway/action_doc.h"
#include "host/gateway/gateway_internal.h"

enum MHD_Result info_handle(http_req *r) {
    json_t *body = json_pack(
        "{s[s] ss s{s[{ss sb ss} {ss sb ss}] s[{ss sb ss}]} s{sI sI sI sI sI sI sI sI si si} s{ss ss}"
        " s{si}}",
        "api_paths", "/api/v1",
        "description", "tfaas: confidential functions behind an OpenWhisk-compatible API",
        "runtimes",
        "js", "kind", "js:duktape", "default", 1, "engine", "duktape",
        "kind", "js:v8", "default", 0, "engine", "v8",
        /* every nodejs:<version> is accepted and runs on V8; nodejs:default
         * is stored as this one (action_kind_resolve) */
        "nodejs", "kind", ACTION_NODEJS_DEFAULT, "default", 1, "engine", "v8",
        "limits",
        "min_action_duration", (json_int_t)LIMIT_TIMEOUT_MIN, "max_action_duration", (json_int_t)LIMIT_TIMEOUT_MAX,
        "min_action_memory", (json_int_t)LIMIT_MEMORY_MIN << 20, "max_action_memory", (json_int_t)LIMIT_MEMORY_MAX << 20,
        "min_action_logs", (json_int_t)LIMIT_LOGS_MIN << 20, "max_action_logs", (json_int_t)LIMIT_LOGS_MAX << 20,
        "min_action_concurrency", (json_int_t)LIMIT_CONCURRENCY_MIN,
        "max_action_concurrency", (json_int_t)LIMIT_CONCURRENCY_MAX,
        "max_action_code_size", (int)GATEWAY_MAX_BODY_ACTION, "max_request_size", (int)GATEWAY_MAX_BODY,
        /* the server's mode; actions may ask for a stricter one by annotation */
        "isolation", "mode", isolation_name(scheduler_isolation(r->gw->scheduler)), "annotation",
        ISOLATION_ANNOTATION,
        /* 0: long activations keep their CPU priority (shared mode, no autogroups) */
        "cpu", "background_after_ms", (int)scheduler_background_after_ms(r->gw->scheduler));
    return http_reply_json(r->conn, MHD_HTTP_OK, body, NULL);
}

enum MHD_Result namespaces_handle(http_req *r) {
    return http_reply_json(r->conn, MHD_HTTP_OK, json_pack("[s]", r->ns), NULL);
}
