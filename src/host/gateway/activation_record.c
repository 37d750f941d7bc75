/* activation_record.c - a finished activation as OpenWhisk's activation
 * record, written once as JSON text; see activation_record.h.
 *
 * Why text and not a jansson tree: every record is stored (the whole text
 * and its list entry) and most are answered at once (the whole text or its
 * result). Built as a tree, it was serialised three times per activation
 * on the hot path; written here, the enclave's result goes in verbatim
 * once it has been checked, and the list entry is the same text without
 * its response and logs. */
#include "host/gateway/activation_record.h"

#include "host/util/json_scan.h"
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
    if (!sealed && !json_scan_object(result)) {
        /* The scan (json_scan.h) passes what the enclave sends in practice
         * without allocating; for anything else jansson decides whether the
         * result is one JSON object, and says what is wrong with it. The
         * text itself goes into the record unchanged. */
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

    /* One text; the list entry is the same without [resp_at, resp_end):
     * response and logs. */
    json_writer w = {0};
    jw_lit(&w, "{\"namespace\":");
    jw_string(&w, info->ns);
    jw_lit(&w, ",\"name\":");
    jw_string(&w, info->name);
    jw_lit(&w, ",\"version\":");
    jw_string(&w, info->version);
    jw_lit(&w, ",\"subject\":");
    jw_string(&w, info->ns);
    jw_lit(&w, ",\"activationId\":");
    jw_string(&w, info->id);
    jw_lit(&w, ",\"start\":");
    jw_int(&w, start);
    jw_lit(&w, ",\"end\":");
    jw_int(&w, end_ms);
    jw_lit(&w, ",\"duration\":");
    jw_int(&w, duration);
    jw_lit(&w, ",\"statusCode\":");
    jw_int(&w, status);

    size_t resp_at = w.len;
    jw_lit(&w, ",\"response\":{\"status\":");
    jw_string(&w, status_text(status));
    jw_lit(&w, ",\"statusCode\":");
    jw_int(&w, status);
    jw_lit(&w, status == TFAAS_STATUS_SUCCESS ? ",\"success\":true,\"result\":" : ",\"success\":false,\"result\":");
    size_t result_at = w.len;
    jw_lit(&w, result);
    size_t result_len = w.len - result_at;
    jw_lit(&w, "},\"logs\":");
    put_log_lines(&w, res->logs);
    size_t resp_end = w.len;

    jw_lit(&w, ",\"annotations\":[{\"key\":\"path\",\"value\":");
    if (info->path) {
        jw_string(&w, info->path);
    } else { /* "ns/name" */
        jw_lit(&w, "\"");
        jw_escaped(&w, info->ns, strlen(info->ns));
        jw_lit(&w, "/");
        jw_escaped(&w, info->name, strlen(info->name));
        jw_lit(&w, "\"");
    }
    jw_lit(&w, "}");
    put_annotation(&w, "kind");
    jw_string(&w, info->kind);
    jw_lit(&w, "}");
    put_annotation(&w, "limits");
    char limits[160];
    jw_raw(&w, limits, action_limits_text(info->limits, limits, sizeof limits));
    jw_lit(&w, "}");
    put_annotation(&w, "waitTime");
    jw_int(&w, (int64_t)(res->wait_us / 1000));
    jw_lit(&w, "}");
    if (res->init_us > 0) {
        put_annotation(&w, "initTime");
        jw_int(&w, (int64_t)(res->init_us / 1000));
        jw_lit(&w, "}");
    }
    put_annotation(&w, "timeout");
    jw_lit(&w, timed_out ? "true}" : "false}");
    if (info->binding) {
        put_annotation(&w, "binding");
        jw_string(&w, info->binding);
        jw_lit(&w, "}");
    }
    if (info->sequence) {
        put_annotation(&w, "topmost");
        jw_lit(&w, info->by_sequence ? "false}" : "true}");
    }
    if (info->by_sequence) jw_lit(&w, ",{\"key\":\"causedBy\",\"value\":\"sequence\"}");
    if (info->confidential) jw_lit(&w, ",{\"key\":\"confidential\",\"value\":true}");
    jw_lit(&w, "],\"publish\":false");
    if (info->cause) {
        jw_lit(&w, ",\"cause\":");
        jw_string(&w, info->cause);
    }
    jw_lit(&w, "}");

    size_t resp_len = resp_end - resp_at, summary_len = w.len - resp_len;
    char *summary = w.oom ? NULL : malloc(summary_len + 1);
    if (!summary) {
        free(w.data);
        return -1;
    }
    memcpy(summary, w.data, resp_at);
    memcpy(summary + resp_at, w.data + resp_end, w.len - resp_end + 1); /* with the NUL */
    out->text = w.data;
    out->len = w.len;
    out->summary = summary;
    out->cut_at = resp_at;
    out->cut_len = resp_len;
    out->result_off = result_at;
    out->result_len = result_len;
    out->status_code = status;
    out->start = start;
    out->end = end_ms;
    return 0;
}

json_t *activation_text_result(const activation_text *t) {
    return json_loadb(t->text + t->result_off, t->result_len, JSON_ALLOW_NUL, NULL);
}

json_t *activation_record_build(const activation_info *info, const sched_result *res, int64_t end_ms,
                                const char **malformed) {
    activation_text t;
    if (activation_record_write(info, res, end_ms, &t, malformed) < 0) return NULL;
    json_t *rec = json_loadb(t.text, t.len, JSON_ALLOW_NUL, NULL);
    activation_text_free(&t);
    return rec;
}
