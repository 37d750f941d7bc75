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

#include "common/bytebuf.h"
#include "common/json_text.h"

#include <inttypes.h>
#include <stdio.h>
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

/* A growing text; after the first failed allocation every write is a no-op
 * and `oom` says so, so the writer below checks once at the end. */
typedef struct {
    char *data;
    size_t len, cap;
    int oom;
} text;

static char *room(text *t, size_t n) {
    if (t->oom || bytebuf_reserve(&t->data, &t->cap, t->len, n) < 0) {
        t->oom = 1;
        return NULL;
    }
    return t->data + t->len;
}

static void put(text *t, const char *s, size_t n) {
    char *d = room(t, n);
    if (!d) return;
    memcpy(d, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void put_lit(text *t, const char *s) { put(t, s, strlen(s)); }

/* s (UTF-8, len bytes) escaped as the inside of a JSON string. */
static void put_escaped(text *t, const char *s, size_t len) {
    char *d = room(t, JSON_TEXT_ESCAPED_MAX(len));
    if (d) t->len += json_text_escape(d, s, len);
}

/* s (UTF-8, len bytes) as a quoted JSON string. */
static void put_strn(text *t, const char *s, size_t len) {
    put_lit(t, "\"");
    put_escaped(t, s, len);
    put_lit(t, "\"");
}

static void put_str(text *t, const char *s) { put_strn(t, s, strlen(s)); }

static void put_int(text *t, int64_t v) {
    char buf[24];
    put(t, buf, (size_t)snprintf(buf, sizeof buf, "%" PRId64, v));
}

/* ,{"key":"K","value": — the opening of an annotation. */
static void put_annotation(text *t, const char *key) {
    put_lit(t, ",{\"key\":\"");
    put_lit(t, key);
    put_lit(t, "\",\"value\":");
}

/* '\n'-joined lines -> a JSON array of strings. */
static void put_log_lines(text *t, const char *logs) {
    put_lit(t, "[");
    for (const char *p = logs ? logs : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (p != logs) put_lit(t, ",");
        put_strn(t, p, len);
        p += len + (nl ? 1 : 0);
    }
    put_lit(t, "]");
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
    text head = {0}, resp = {0}, tail = {0};
    put_lit(&head, "{\"namespace\":");
    put_str(&head, info->ns);
    put_lit(&head, ",\"name\":");
    put_str(&head, info->name);
    put_lit(&head, ",\"version\":");
    put_str(&head, info->version);
    put_lit(&head, ",\"subject\":");
    put_str(&head, info->ns);
    put_lit(&head, ",\"activationId\":");
    put_str(&head, info->id);
    put_lit(&head, ",\"start\":");
    put_int(&head, start);
    put_lit(&head, ",\"end\":");
    put_int(&head, end_ms);
    put_lit(&head, ",\"duration\":");
    put_int(&head, duration);
    put_lit(&head, ",\"statusCode\":");
    put_int(&head, status);

    put_lit(&resp, ",\"response\":{\"status\":");
    put_str(&resp, status_text(status));
    put_lit(&resp, ",\"statusCode\":");
    put_int(&resp, status);
    put_lit(&resp, status == TFAAS_STATUS_SUCCESS ? ",\"success\":true,\"result\":" : ",\"success\":false,\"result\":");
    size_t result_at = resp.len;
    put_lit(&resp, result);
    size_t result_len = resp.len - result_at;
    put_lit(&resp, "},\"logs\":");
    put_log_lines(&resp, res->logs);

    put_lit(&tail, ",\"annotations\":[{\"key\":\"path\",\"value\":");
    if (info->path) {
        put_str(&tail, info->path);
    } else { /* "ns/name" */
        put_lit(&tail, "\"");
        put_escaped(&tail, info->ns, strlen(info->ns));
        put_lit(&tail, "/");
        put_escaped(&tail, info->name, strlen(info->name));
        put_lit(&tail, "\"");
    }
    put_lit(&tail, "}");
    put_annotation(&tail, "kind");
    put_str(&tail, info->kind);
    put_lit(&tail, "}");
    put_annotation(&tail, "limits");
    char limits[160];
    put(&tail, limits, action_limits_text(info->limits, limits, sizeof limits));
    put_lit(&tail, "}");
    put_annotation(&tail, "waitTime");
    put_int(&tail, (int64_t)(res->wait_us / 1000));
    put_lit(&tail, "}");
    if (res->init_us > 0) {
        put_annotation(&tail, "initTime");
        put_int(&tail, (int64_t)(res->init_us / 1000));
        put_lit(&tail, "}");
    }
    put_annotation(&tail, "timeout");
    put_lit(&tail, timed_out ? "true}" : "false}");
    if (info->binding) {
        put_annotation(&tail, "binding");
        put_str(&tail, info->binding);
        put_lit(&tail, "}");
    }
    if (info->sequence) {
        put_annotation(&tail, "topmost");
        put_lit(&tail, info->by_sequence ? "false}" : "true}");
    }
    if (info->by_sequence) put_lit(&tail, ",{\"key\":\"causedBy\",\"value\":\"sequence\"}");
    if (info->confidential) put_lit(&tail, ",{\"key\":\"confidential\",\"value\":true}");
    put_lit(&tail, "],\"publish\":false");
    if (info->cause) {
        put_lit(&tail, ",\"cause\":");
        put_str(&tail, info->cause);
    }
    put_lit(&tail, "}");

    text whole = {0}, summary = {0};
    if (!head.oom && !resp.oom && !tail.oom) {
        put(&whole, head.data, head.len);
        put(&whole, resp.data, resp.len);
        put(&whole, tail.data, tail.len);
        put(&summary, head.data, head.len);
        put(&summary, tail.data, tail.len);
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
