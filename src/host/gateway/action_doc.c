/* action_doc.c - action PUT validation and stored-document building; see
 * action_doc.h. Error texts name the offending member so a client can fix it. */
#include "host/gateway/action_doc.h"
#include "host/gateway/egress_config.h"

#include "common/base64.h"
#include "common/code_archive.h"

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

const char *action_kind_resolve(const char *kind) {
    return kind && !strcmp(kind, "nodejs:default") ? ACTION_NODEJS_DEFAULT : kind;
}

static int b64_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int action_code_is_binary(const char *code, size_t len) {
    if (!code) return 0;
    /* trimmed as Java's String.trim does: bytes up to ' ' at both ends */
    while (len > 0 && (unsigned char)code[0] <= ' ') { code++; len--; }
    while (len > 0 && (unsigned char)code[len - 1] <= ' ') len--;
    if (len == 0 || len % 4 != 0) return 0;
    size_t pad = code[len - 1] == '=' ? (code[len - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < len - pad; i++)
        if (!b64_char((unsigned char)code[i])) return 0;
    return 1;
}

const char *action_fqn_name(action_fqn_result r) {
    switch (r) {
    case ACTION_FQN_OK: return "ok";
    case ACTION_FQN_EMPTY: return "the name is empty or has an empty segment";
    case ACTION_FQN_SHAPE: return "the name must be name, package/name, /namespace/name or /namespace/package/name";
    case ACTION_FQN_BAD_NAMESPACE: return "the namespace is not a valid name";
    case ACTION_FQN_BAD_PACKAGE: return "the package is not a valid name";
    case ACTION_FQN_BAD_NAME: return "the action name is not valid";
    }
    return "unknown";
}

/* Copies segment [p, p+len) into out (ACTION_MAX_NAME + 1 bytes); 0 or -1
 * when empty or too long. */
static int fqn_segment(const char *p, size_t len, char *out) {
    if (len == 0 || len > ACTION_MAX_NAME) return -1;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

action_fqn_result action_fqn_parse(const char *s, const char *own_ns, action_fqn *out) {
    memset(out, 0, sizeof *out);
    if (!s || !*s) return ACTION_FQN_EMPTY;
    int qualified = s[0] == '/';
    const char *p = s + qualified;
    const char *seg[4];
    size_t len[4];
    int n = 0;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (l == 0) return ACTION_FQN_EMPTY;
        if (n == 3) return ACTION_FQN_SHAPE;
        seg[n] = p;
        len[n++] = l;
        if (!slash) break;
        p = slash + 1;
    }
    /* qualified: ns/name or ns/pkg/name; else name or pkg/name */
    if (qualified ? n < 2 : n > 2) return ACTION_FQN_SHAPE;
    int i = 0;
    if (qualified) {
        if (fqn_segment(seg[0], len[0], out->ns) < 0) return ACTION_FQN_BAD_NAMESPACE;
        i = 1;
    }
    if (!qualified || !strcmp(out->ns, "_")) {
        if (!own_ns || strlen(own_ns) > ACTION_MAX_NAME) return ACTION_FQN_BAD_NAMESPACE;
        snprintf(out->ns, sizeof out->ns, "%s", own_ns);
    } else if (!action_name_valid(out->ns)) {
        return ACTION_FQN_BAD_NAMESPACE;
    }
    if (n - i == 2) {
        if (fqn_segment(seg[i], len[i], out->pkg) < 0 || !action_name_valid(out->pkg)) return ACTION_FQN_BAD_PACKAGE;
        i++;
    }
    if (fqn_segment(seg[i], len[i], out->name) < 0 || !action_name_valid(out->name)) return ACTION_FQN_BAD_NAME;
    return ACTION_FQN_OK;
}

int action_is_binary(const json_t *doc) {
    return json_is_true(json_object_get(json_object_get(doc, "exec"), "binary"));
}

int action_is_sequence(const json_t *doc) {
    const char *kind = json_get_str(json_object_get(doc, "exec"), "kind", "");
    return !strcmp(kind, ACTION_KIND_SEQUENCE);
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

size_t action_limits_text(const action_limits *l, char *buf, size_t size) {
    int n = snprintf(buf, size, "{\"timeout\":%lld,\"memory\":%lld,\"logs\":%lld,\"concurrency\":%lld}",
                     (long long)l->timeout_ms, (long long)l->memory_mb, (long long)l->logs_mb,
                     (long long)l->concurrency);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
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

/* {kind: "sequence", components: [...]}: the shape only (action_doc.h). */
static json_t *sequence_exec_build(const json_t *exec, char *err, size_t errsize) {
    const json_t *comps = json_object_get(exec, "components");
    if (!json_is_array(comps) || json_array_size(comps) == 0 || json_array_size(comps) > ACTION_SEQUENCE_MAX) {
        snprintf(err, errsize,
                 "exec.components of a sequence must be an array of 1 to %d action names (\"/namespace/name\")",
                 ACTION_SEQUENCE_MAX);
        return NULL;
    }
    size_t i;
    json_t *c;
    json_array_foreach(comps, i, c) {
        if (!json_is_string(c) || json_string_length(c) == 0 || json_string_length(c) > ACTION_COMPONENT_MAX ||
            strlen(json_string_value(c)) != json_string_length(c)) {
            snprintf(err, errsize, "exec.components[%zu] must be an action name of 1 to %d characters", i,
                     ACTION_COMPONENT_MAX);
            return NULL;
        }
    }
    json_t *out = json_pack("{ss sO}", "kind", ACTION_KIND_SEQUENCE, "components", comps);
    if (!out) snprintf(err, errsize, "out of memory");
    return out;
}

/* A zip action is checked as the enclave will check it (code_archive.h),
 * so a bad archive is a 400 now rather than a failure at each invocation.
 * The enclave checks again: it trusts nothing the host did. */
int action_zip_check(const char *kind, const char *code, size_t code_len, char *err, size_t errsize) {
    if (action_kind_engine(kind) != SCHED_ENGINE_V8) {
        snprintf(err, errsize, "A zip action runs on the V8 kinds (nodejs:*, js:v8), not on '%.64s'", kind);
        return -1;
    }
    size_t len;
    uint8_t *zip = base64_decode_alloc(code, code_len, &len);
    if (!zip) {
        snprintf(err, errsize, "exec.code of a binary action must be a zip archive in base64");
        return -1;
    }
    code_archive *a;
    char entry[CODE_ARCHIVE_MAX_PATH + 1];
    code_archive_status st = code_archive_open(zip, len, &a, entry, sizeof entry);
    free(zip);
    if (st != CODE_ARCHIVE_OK) {
        code_archive_message(st, entry, err, errsize);
        return -1;
    }
    code_archive_free(a);
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
    if (!strcmp(kind, ACTION_KIND_SEQUENCE) && strlen(kind) == json_string_length(kindv))
        return sequence_exec_build(exec, err, errsize);
    /* a NUL inside would hide a suffix from the C-string check */
    if (!action_kind_supported(kind) || strlen(kind) != json_string_length(kindv)) {
        snprintf(err, errsize,
                 "The action kind '%.64s' is not supported: use js:duktape, js:v8, nodejs:* or sequence", kind);
        return NULL;
    }
    const json_t *binary = json_object_get(exec, "binary");
    if (binary && !json_is_boolean(binary)) {
        snprintf(err, errsize, "exec.binary must be a boolean");
        return NULL;
    }
    const json_t *code = json_object_get(exec, "code");
    if (!json_is_string(code)) {
        snprintf(err, errsize, "exec.code is required (the function's source text)");
        return NULL;
    }
    /* Without exec.binary, OpenWhisk decides by the code itself: base64
     * text is a zip archive (the openwhisk client sends zips so). */
    int is_binary = binary ? json_is_true(binary)
                           : action_code_is_binary(json_string_value(code), json_string_length(code));
    if (is_binary && action_zip_check(kind, json_string_value(code), json_string_length(code), err, errsize) < 0)
        return NULL;
    const json_t *mainv = json_object_get(exec, "main");
    if (mainv && !json_is_null(mainv) &&
        (!json_is_string(mainv) || json_string_length(mainv) == 0 || json_string_length(mainv) > 256 ||
         strlen(json_string_value(mainv)) != json_string_length(mainv))) {
        snprintf(err, errsize, "exec.main must be a non-empty string (the entry function's name)");
        return NULL;
    }
    json_t *out = json_pack("{ss sO sb}", "kind", action_kind_resolve(kind), "code", code, "binary", is_binary);
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
    if (action_isolation_request(annots, &requested, err, errsize) < 0 ||
        egress_annotation_check(annots, err, errsize) < 0) {
        json_decref(exec);
        return NULL;
    }

    action_limits lim;
    action_limits_get(old, &lim); /* old NULL: all defaults */
    if (limits_from(json_object_get(body, "limits"), &lim, err, errsize) < 0) {
        json_decref(exec);
        return NULL;
    }

    /* OpenWhisk records the stored (resolved) kind as the "exec"
     * annotation: "nodejs:20", "sequence". */
    const char *kind = json_string_value(json_object_get(exec, "kind"));
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
    int bad = json_kv_set(annotations, "exec", json_string(kind)) < 0;
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
