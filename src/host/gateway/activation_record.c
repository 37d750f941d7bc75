/* activation_record.c - a finished activation as OpenWhisk's activation
 * record; see activation_record.h. */
#include "host/gateway/activation_record.h"

#include "host/util/json.h"

#include <string.h>

static const char *status_text(tfaas_status s) {
    switch (s) {
    case TFAAS_STATUS_SUCCESS: return "success";
    case TFAAS_STATUS_APPLICATION_ERR: return "application error";
    case TFAAS_STATUS_DEVELOPER_ERR: return "action developer error";
    default: return "whisk internal error";
    }
}

/* '\n'-joined lines -> JSON array of strings. */
static json_t *log_lines(const char *logs) {
    json_t *arr = json_array();
    if (!arr || !logs) return arr;
    const char *p = logs;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (json_array_append_new(arr, json_stringn(p, len)) < 0) { json_decref(arr); return NULL; }
        p += len + (nl ? 1 : 0);
    }
    return arr;
}

json_t *activation_record_build(const activation_info *info, const sched_result *res, int64_t end_ms,
                                const char **malformed) {
    tfaas_status status = res->status;
    if (status > TFAAS_STATUS_INTERNAL_ERR) status = TFAAS_STATUS_INTERNAL_ERR; /* IPC-only statuses */
    static _Thread_local json_error_t e; /* its text outlives the call, for *malformed */
    /* A confidential call that ran keeps no result (below): nothing to parse. */
    int sealed = info->confidential && status == TFAAS_STATUS_SUCCESS;
    json_t *result = sealed ? json_object() : json_loads(res->result_json ? res->result_json : "", JSON_ALLOW_NUL, &e);
    *malformed = NULL;
    if (!json_is_object(result)) {
        /* The scheduler promises an object; if it broke that, say so honestly. */
        *malformed = result ? "another JSON type than an object" : e.text;
        json_decref(result);
        result = json_pack("{ss}", "error", ACTIVATION_MALFORMED_RESULT);
        status = TFAAS_STATUS_INTERNAL_ERR;
    }
    /* Durations are the enclave's word: saturate rather than wrap (any
     * u64 of microseconds, rounded to milliseconds, fits an int64). */
    uint64_t run_us = res->duration_us > UINT64_MAX - res->init_us ? UINT64_MAX : res->duration_us + res->init_us;
    int64_t duration = (int64_t)(run_us / 1000 + (run_us % 1000 >= 500));
    int64_t start = end_ms - duration;
    /* The scheduler does not flag timeouts separately: a developer error
     * that ran for the whole budget is one. */
    int timed_out = !info->sequence && status == TFAAS_STATUS_DEVELOPER_ERR &&
                    res->duration_us >= (uint64_t)info->limits->timeout_ms * 1000u;

    json_t *annotations = json_pack("[{ss so} {ss ss} {ss so} {ss sI}]", "key", "path", "value",
                                    info->path ? json_string(info->path) : json_sprintf("%s/%s", info->ns, info->name),
                                    "key", "kind", "value", info->kind,
                                    "key", "limits", "value", action_limits_json(info->limits), "key", "waitTime",
                                    "value", (json_int_t)(res->wait_us / 1000));
    if (annotations && res->init_us > 0)
        json_array_append_new(annotations, json_kv("initTime", json_integer((json_int_t)(res->init_us / 1000))));
    if (annotations) json_array_append_new(annotations, json_kv("timeout", json_boolean(timed_out)));
    if (annotations && info->binding) json_array_append_new(annotations, json_kv("binding", json_string(info->binding)));
    if (annotations && info->sequence)
        json_array_append_new(annotations, json_kv("topmost", json_boolean(!info->by_sequence)));
    if (annotations && info->by_sequence)
        json_array_append_new(annotations, json_kv("causedBy", json_string("sequence")));

    if (info->confidential && annotations) {
        json_array_append_new(annotations, json_kv("confidential", json_true()));
        if (status == TFAAS_STATUS_SUCCESS) {
            /* The sealed response is the client's, and the receipt inside
             * it: the host keeps no result, status or resource figure. */
            json_decref(result);
            result = json_object();
        }
    }
    json_t *logs = log_lines(res->logs);
    if (!result || !annotations || !logs) {
        json_decref(result); json_decref(annotations); json_decref(logs);
        return NULL;
    }
    json_t *rec = json_pack("{ss ss ss ss ss sI sI sI si s{ss si sb so} so so sb}",
                            "namespace", info->ns, "name", info->name, "version", info->version, "subject", info->ns,
                            "activationId", info->id, "start", (json_int_t)start, "end", (json_int_t)end_ms,
                            "duration", (json_int_t)duration, "statusCode", (int)status,
                            "response", "status", status_text(status), "statusCode", (int)status,
                            "success", status == TFAAS_STATUS_SUCCESS, "result", result,
                            "logs", logs, "annotations", annotations, "publish", 0);
    if (rec && info->cause && json_object_set_new(rec, "cause", json_string(info->cause)) < 0) {
        json_decref(rec);
        rec = NULL;
    }
    return rec;
}
