/* action_doc.c - action PUT validation and stored-document building; see
 * action_doc.h. Error texts name the offending member so a client can fix it. */
#include "host/gateway/action_doc.h"

#include "host/util/json.h"

#include <stdio.h>
#include <string.h>

int action_name_valid(const char *name) {
    if (!name) return 0;
    size_t len = strlen(name);
    if (len == 0 || len > ACTION_MAX_NAME) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        int word = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!word && !(i > 0 && (c == '@' || c == ' ' || c == '.' || c == '-'))) return 0;
    }
    return name[len - 1] != ' ';
}

int action_kind_supported(const char *kind) {
    if (!kind) return 0;
    if (!strcmp(kind, "js:duktape") || !strcmp(kind, "js:v8")) return 1;
    if (strncmp(kind, "nodejs:", 7) != 0 || kind[7] == '\0' || strlen(kind) > 64) return 0;
    for (const char *p = kind + 7; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_')) return 0;
    return 1;
}

sched_engine action_kind_engine(const char *kind) {
    return kind && !strcmp(kind, "js:duktape") ? SCHED_ENGINE_DUKTAPE : SCHED_ENGINE_V8;
}

int action_kv_list_valid(const json_t *list) {
    size_t i;
    json_t *e;
    if (!json_is_array(list)) return 0;
    json_array_foreach(list, i, e) {
        if (!json_is_object(e) || !json_is_string(json_object_get(e, "key")) || !json_object_get(e, "value"))
            return 0;
    }
    return 1;
}

int action_isolation_request(const json_t *annotations, isolation_mode *out, char *err, size_t errsize) {
    *out = ISOLATION_UNSET;
    size_t i, seen = 0;
    json_t *e;
    if (!json_is_array(annotations)) return 0;
    json_array_foreach(annotations, i, e) {
        const char *k = json_get_str(e, "key", NULL);
        if (!k || strcmp(k, ISOLATION_ANNOTATION) != 0) continue;
        const json_t *v = json_object_get(e, "value");
        const char *name = json_is_string(v) ? json_string_value(v) : NULL;
        /* a NUL inside would hide a suffix from the C-string comparison */
        if (++seen > 1 || !name || strlen(name) != json_string_length(v) || isolation_parse(name, out) < 0) {
            snprintf(err, errsize, seen > 1 ? "The annotation %s may appear only once"
                                            : "The annotation %s must be one of " ISOLATION_NAMES,
                     ISOLATION_ANNOTATION);
            *out = ISOLATION_UNSET;
            return -1;
        }
    }
    return 0;
}

typedef struct {
    const char *name, *unit;
    int64_t min, max;
} limit_rule;

static const limit_rule RULES[4] = {
    {"timeout", "ms", LIMIT_TIMEOUT_MIN, LIMIT_TIMEOUT_MAX},
    {"memory", "MB", LIMIT_MEMORY_MIN, LIMIT_MEMORY_MAX},
    {"logs", "MB", LIMIT_LOGS_MIN, LIMIT_LOGS_MAX},
    {"concurrency", "activations", LIMIT_CONCURRENCY_MIN, LIMIT_CONCURRENCY_MAX},
};

static int64_t *limit_slot(action_limits *l, int i) {
    switch (i) {
    case 0: return &l->timeout_ms;
    case 1: return &l->memory_mb;
    case 2: return &l->logs_mb;
    default: return &l->concurrency;
    }
}

void action_limits_get(const json_t *doc, action_limits *out) {
    const json_t *lim = json_is_object(doc) ? json_object_get(doc, "limits") : NULL;
    out->timeout_ms = json_get_int(lim, "timeout", LIMIT_TIMEOUT_DEFAULT);
    out->memory_mb = json_get_int(lim, "memory", LIMIT_MEMORY_DEFAULT);
    out->logs_mb = json_get_int(lim, "logs", LIMIT_LOGS_DEFAULT);
    out->concurrency = json_get_int(lim, "concurrency", LIMIT_CONCURRENCY_DEFAULT);
}

json_t *action_limits_json(const action_limits *l) {
    return json_pack("{sI sI sI sI}", "timeout", (json_int_t)l->timeout_ms, "memory", (json_int_t)l->memory_mb,
                     "logs", (json_int_t)l->logs_mb, "concurrency", (json_int_t)l->concurrency);
}

/* Fills l from body limits over base; 0, or -1 with err. */
static int limits_from(const json_t *given, action_limits *l, char *err, size_t errsize) {
    if (!given || json_is_null(given)) return 0;
    if (!json_is_object(given)) {
        snprintf(err, errsize, "The limits must be an object {timeout, memory, logs, concurrency}");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        const json_t *v = json_object_get(given, RULES[i].name);
        if (!v || json_is_null(v)) continue;
        if (!json_is_integer(v) || json_integer_value(v) < RULES[i].min || json_integer_value(v) > RULES[i].max) {
            char shown[64];
            if (json_is_integer(v)) snprintf(shown, sizeof shown, "%lld", (long long)json_integer_value(v));
            else snprintf(shown, sizeof shown, "(not an integer)");
            snprintf(err, errsize, "The %s limit %s is out of range: it must be an integer in [%lld, %lld] %s",
                     RULES[i].name, shown, (long long)RULES[i].min, (long long)RULES[i].max, RULES[i].unit);
            return -1;
        }
        *limit_slot(l, i) = json_integer_value(v);
    }
    return 0;
}

static json_t *exec_build(const json_t *exec, char *err, size_t errsize) {
    if (!json_is_object(exec)) {
        snprintf(err, errsize, "The action's exec is missing or not an object: it must be {kind, code}");
        return NULL;
    }
    const json_t *kindv = json_object_get(exec, "kind");
    if (!json_is_string(kindv)) {
        snprintf(err, errsize, "exec.kind is required (a string such as \"js:duktape\", \"js:v8\" or \"nodejs:20\")");
        return NULL;
    }
    const char *kind = json_string_value(kindv);
    /* a NUL inside would hide a suffix from the C-string check */
    if (!action_kind_supported(kind) || strlen(kind) != json_string_length(kindv)) {
        snprintf(err, errsize, "The action kind '%.64s' is not supported: use js:duktape, js:v8 or nodejs:*", kind);
        return NULL;
    }
    const json_t *binary = json_object_get(exec, "binary");
    if (binary && !json_is_boolean(binary)) {
        snprintf(err, errsize, "exec.binary must be a boolean");
        return NULL;
    }
    if (json_is_true(binary)) {
        snprintf(err, errsize, "Binary (zip) actions are not supported: send the code as text");
        return NULL;
    }
    const json_t *code = json_object_get(exec, "code");
    if (!json_is_string(code)) {
        snprintf(err, errsize, "exec.code is required (the function's source text)");
        return NULL;
    }
    const json_t *mainv = json_object_get(exec, "main");
    if (mainv && !json_is_null(mainv) &&
        (!json_is_string(mainv) || json_string_length(mainv) == 0 || json_string_length(mainv) > 256 ||
         strlen(json_string_value(mainv)) != json_string_length(mainv))) {
        snprintf(err, errsize, "exec.main must be a non-empty string (the entry function's name)");
        return NULL;
    }
    json_t *out = json_pack("{ss sO sb}", "kind", kind, "code", code, "binary", 0);
    if (out && json_is_string(mainv) && json_object_set(out, "main", (json_t *)mainv) < 0) {
        json_decref(out);
        out = NULL;
    }
    if (!out) snprintf(err, errsize, "out of memory");
    return out;
}

/* Member of body, or when absent of old (update keeps what it is not given). */
static const json_t *pick(const json_t *body, const json_t *old, const char *key) {
    const json_t *v = json_object_get(body, key);
    if ((!v || json_is_null(v)) && old) v = json_object_get(old, key);
    return v && !json_is_null(v) ? v : NULL;
}

json_t *action_doc_build(const json_t *body, const json_t *old, char *err, size_t errsize) {
    if (!json_is_object(body)) {
        snprintf(err, errsize, "The request content was malformed: the action must be a JSON object");
        return NULL;
    }
    json_t *exec = exec_build(pick(body, old, "exec"), err, errsize);
    if (!exec) return NULL;

    const json_t *params = pick(body, old, "parameters");
    const json_t *annots = pick(body, old, "annotations");
    if (params && !action_kv_list_valid(params)) {
        snprintf(err, errsize, "parameters must be an array of {\"key\": string, \"value\": any}");
        json_decref(exec);
        return NULL;
    }
    if (annots && !action_kv_list_valid(annots)) {
        snprintf(err, errsize, "annotations must be an array of {\"key\": string, \"value\": any}");
        json_decref(exec);
        return NULL;
    }
    isolation_mode requested;
    if (action_isolation_request(annots, &requested, err, errsize) < 0) {
        json_decref(exec);
        return NULL;
    }

    action_limits lim;
    action_limits_get(old, &lim); /* old NULL: all defaults */
    if (limits_from(json_object_get(body, "limits"), &lim, err, errsize) < 0) {
        json_decref(exec);
        return NULL;
    }

    /* OpenWhisk records the runtime family ("nodejs" for nodejs:20) as the
     * "exec" annotation; kinds are "family:variant". */
    const char *kind = json_string_value(json_object_get(exec, "kind"));
    size_t family_len = strcspn(kind, ":");
    json_t *annotations = annots ? json_deep_copy(annots) : json_array();
    json_t *params_copy = params ? json_deep_copy(params) : json_array();
    json_t *doc = json_object();
    json_t *limits = action_limits_json(&lim);
    if (!annotations || !params_copy || !doc || !limits) {
        json_decref(annotations); json_decref(params_copy); json_decref(doc); json_decref(limits);
        json_decref(exec);
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    /* set_new consumes its value even when it fails, so every step runs
     * (non-short-circuit |) and nothing leaks on a partial failure. */
    int bad = json_kv_set(annotations, "exec", json_stringn(kind, family_len)) < 0;
    bad |= json_object_set_new(doc, "exec", exec) < 0;
    bad |= json_object_set_new(doc, "parameters", params_copy) < 0;
    bad |= json_object_set_new(doc, "annotations", annotations) < 0;
    bad |= json_object_set_new(doc, "limits", limits) < 0;
    if (bad) {
        snprintf(err, errsize, "out of memory");
        json_decref(doc);
        return NULL;
    }
    return doc;
}
