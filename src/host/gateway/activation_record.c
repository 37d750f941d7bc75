/* activation_record.c - a finished activation as OpenWhisk's activation
 * record, written once as JSON text; see activation_record.h.
 *
 * Why text and not a jansson tree: every record is stored (the whole text
 * and its list entry) and most are answered at once (the whole text or its
 * result). Built as a tree, it was serialised three times per activation
 * on the hot path; written here, the enclave's result goes in verbatim
 * once jansson has checked it, and the list entry is the same text without
 * its response and logs. */
#include "host/gateway/activation_record.h"

#include "host/util/json_writer.h"

#include <stdlib.h>
#include <string.h>

static const char *status_text(tfaas_status s) {
    switch (s) {
    case TFAAS_STATUS_SUCCESS: return "success";
    case TFAAS_STATUS_APPLICATION_ERR: return "application error";
    case TFAAS_STATUS_DEVELOPER_ERR: return "action developer error";
    default: return "whisk internal error";
    }
}

/* ,{"key":"K","value": — the opening of an annotation. */
static void put_annotation(json_writer *t, const char *key) {
    jw_lit(t, ",{\"key\":\"");
    jw_lit(t, key);
    jw_lit(t, "\",\"value\":");
}

/* '\n'-joined lines -> a JSON array of strings. */
static void put_log_lines(json_writer *t, const char *logs) {
    jw_lit(t, "[");
    for (const char *p = logs ? logs : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (p != logs) jw_lit(t, ",");
        jw_stringn(t, p, len);
        p += len + (nl ? 1 : 0);
    }
    jw_lit(t, "]");
}

void activation_text_free(activation_text *a) {
    if (!a) return;
    free(a->text);
    free(a->summary);
    memset(a, 0, sizeof *a);
}

int activation_record_write(const activation_info *info, const sched_result *res, int64_t end_ms,
                            activation_text *out, const char **malformed) {
    memset(out, 0, sizeof *out);
    tfaas_status status = res->status;
    if (status > TFAAS_STATUS_INTERNAL_ERR) status = TFAAS_STATUS_INTERNAL_ERR; /* IPC-only statuses */
    static _Thread_local json_error_t e; /* its text outlives the call, for *malformed */
    /* A confidential call that ran keeps no result: its response (and the
     * receipt inside it) is the client's; the host keeps no result, status
     * or resource figure of it. Nothing to check then. */
    int sealed = info->confidential && status == TFAAS_STATUS_SUCCESS;
    const char *result = sealed ? "{}" : res->result_json ? res->result_json : "";
    *malformed = NULL;
    if (!sealed) {
        /* jansson checks what the enclave sent (UTF-8, syntax, one value);
         * the text itself goes into the record unchanged. */
        json_t *parsed = json_loads(result, JSON_ALLOW_NUL, &e);
        if (!json_is_object(parsed)) {
            /* The scheduler promises an object; if it broke that, say so honestly. */
            *malformed = parsed ? "another JSON type than an object" : e.text;
            result = "{\"error\":\"" ACTIVATION_MALFORMED_RESULT "\"}";
            status = TFAAS_STATUS_INTERNAL_ERR;
        }
        json_decref(parsed);
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

    /* The record is head + response + tail; its list entry head + tail. */
    json_writer head = {0}, resp = {0}, tail = {0};
    jw_lit(&head, "{\"namespace\":");
    jw_string(&head, info->ns);
    jw_lit(&head, ",\"name\":");
    jw_string(&head, info->name);
    jw_lit(&head, ",\"version\":");
    jw_string(&head, info->version);
    jw_lit(&head, ",\"subject\":");
    jw_string(&head, info->ns);
    jw_lit(&head, ",\"activationId\":");
    jw_string(&head, info->id);
    jw_lit(&head, ",\"start\":");
    jw_int(&head, start);
    jw_lit(&head, ",\"end\":");
    jw_int(&head, end_ms);
    jw_lit(&head, ",\"duration\":");
    jw_int(&head, duration);
    jw_lit(&head, ",\"statusCode\":");
    jw_int(&head, status);

    jw_lit(&resp, ",\"response\":{\"status\":");
    jw_string(&resp, status_text(status));
    jw_lit(&resp, ",\"statusCode\":");
    jw_int(&resp, status);
    jw_lit(&resp, status == TFAAS_STATUS_SUCCESS ? ",\"success\":true,\"result\":" : ",\"success\":false,\"result\":");
    size_t result_at = resp.len;
    jw_lit(&resp, result);
    size_t result_len = resp.len - result_at;
    jw_lit(&resp, "},\"logs\":");
    put_log_lines(&resp, res->logs);

    jw_lit(&tail, ",\"annotations\":[{\"key\":\"path\",\"value\":");
    if (info->path) {
        jw_string(&tail, info->path);
    } else { /* "ns/name" */
        jw_lit(&tail, "\"");
        jw_escaped(&tail, info->ns, strlen(info->ns));
        jw_lit(&tail, "/");
        jw_escaped(&tail, info->name, strlen(info->name));
        jw_lit(&tail, "\"");
    }
    jw_lit(&tail, "}");
    put_annotation(&tail, "kind");
    jw_string(&tail, info->kind);
    jw_lit(&tail, "}");
    put_annotation(&tail, "limits");
    char limits[160];
    jw_raw(&tail, limits, action_limits_text(info->limits, limits, sizeof limits));
    jw_lit(&tail, "}");
    put_annotation(&tail, "waitTime");
    jw_int(&tail, (int64_t)(res->wait_us / 1000));
    jw_lit(&tail, "}");
    if (res->init_us > 0) {
        put_annotation(&tail, "initTime");
        jw_int(&tail, (int64_t)(res->init_us / 1000));
        jw_lit(&tail, "}");
    }
    put_annotation(&tail, "timeout");
    jw_lit(&tail, timed_out ? "true}" : "false}");
    if (info->binding) {
        put_annotation(&tail, "binding");
        jw_string(&tail, info->binding);
        jw_lit(&tail, "}");
    }
    if (info->sequence) {
        put_annotation(&tail, "topmost");
        jw_lit(&tail, info->by_sequence ? "false}" : "true}");
    }
    if (info->by_sequence) jw_lit(&tail, ",{\"key\":\"causedBy\",\"value\":\"sequence\"}");
    if (info->confidential) jw_lit(&tail, ",{\"key\":\"confidential\",\"value\":true}");
    jw_lit(&tail, "],\"publish\":false");
    if (info->cause) {
        jw_lit(&tail, ",\"cause\":");
        jw_string(&tail, info->cause);
    }
    jw_lit(&tail, "}");

    json_writer whole = {0}, summary = {0};
    if (!head.oom && !resp.oom && !tail.oom) {
        jw_raw(&whole, head.data, head.len);
        jw_raw(&whole, resp.data, resp.len);
        jw_raw(&whole, tail.data, tail.len);
        jw_raw(&summary, head.data, head.len);
        jw_raw(&summary, tail.data, tail.len);
    }
    int ok = !head.oom && !resp.oom && !tail.oom && !whole.oom && !summary.oom;
    free(head.data);
    free(resp.data);
    free(tail.data);
    if (!ok) {
        free(whole.data);
        free(summary.data);
        return -1;
    }
    out->text = whole.data;
    out->len = whole.len;
    out->summary = summary.data;
    out->result_off = head.len + result_at;
    out->result_len = result_len;
    out->status_code = status;
    out->start = start;
    out->end = end_ms;
    return 0;
}

json_t *activation_record_build(const activation_info *info, const sched_result *res, int64_t end_ms,
                                const char **malformed) {
    activation_text t;
    if (activation_record_write(info, res, end_ms, &t, malformed) < 0) return NULL;
    json_t *rec = json_loadb(t.text, t.len, JSON_ALLOW_NUL, NULL);
    activation_text_free(&t);
    return rec;
}
