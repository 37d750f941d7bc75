/* ow_proto.c - the bodies of OpenWhisk's /init and /run, the function's
 * wrapper and the log lines' streams (ow_proto.h). */
#include "host/runtime/ow_proto.h"

#include "common/json_depth.h"
#include "host/util/json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAMP_LEN 24 /* "2026-11-24T16:09:00.123Z", the enclave's log_buffer.c */
#define OW_MAX_KEY 64 /* characters of a /run member that becomes __OW_<KEY> */

const char *ow_status_name(ow_status s) {
    switch (s) {
    case OW_OK: return "";
    case OW_BAD_JSON: return "The request content was malformed";
    case OW_NOT_OBJECT: return "The request content was malformed: it must be a JSON object";
    case OW_BAD_VALUE: return "The request content was malformed: 'value' must be a JSON object";
    case OW_NO_CODE: return "Missing main/no code to execute: 'value.code' must be a non-empty string";
    case OW_BAD_MAIN:
        return "The request content was malformed: 'value.main' must name a JavaScript function (letters, digits, "
               "'_' and '$', not starting with a digit, at most 128 characters)";
    case OW_BAD_NAME: return "The request content was malformed: 'value.name' must be a string";
    case OW_BAD_ENV: return "The request content was malformed: 'value.env' must be a JSON object";
    case OW_ZIP_ENV:
        return "The request content was malformed: 'value.env' of a zip (binary) action may only hold names "
               "starting with __OW_ (tfaas passes no other environment to a zip action)";
    case OW_BAD_DEADLINE:
        return "The request content was malformed: 'deadline' must be a non-negative integer (epoch milliseconds)";
    }
    return "unknown";
}

/* Parses text as one JSON object, refusing nesting the engines would not
 * take (json_depth.h). */
static ow_status load_object(const char *body, size_t len, json_t **out, char *jerr, size_t jerr_size) {
    *out = NULL;
    if (jerr_size) jerr[0] = '\0';
    if (!body || len == 0) {
        if (jerr_size) snprintf(jerr, jerr_size, "the body is empty");
        return OW_BAD_JSON;
    }
    if (json_depth(body, len, JSON_MAX_DEPTH) > JSON_MAX_DEPTH) {
        if (jerr_size) snprintf(jerr, jerr_size, "nested deeper than %d levels", JSON_MAX_DEPTH);
        return OW_BAD_JSON;
    }
    json_error_t e;
    json_t *v = json_loadb(body, len, JSON_DECODE_ANY, &e);
    if (!v) {
        if (jerr_size) snprintf(jerr, jerr_size, "%s", e.text);
        return OW_BAD_JSON;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        return OW_NOT_OBJECT;
    }
    *out = v;
    return OW_OK;
}

static int is_identifier(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > OW_MAX_MAIN || isdigit((unsigned char)s[0])) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '$') return 0;
    return 1;
}

/* env's values as process.env holds them: strings as they are, anything
 * else as its JSON text (null as ""), as OpenWhisk's Node.js runtime does. */
static int env_set(json_t *env, const char *key, const json_t *v) {
    if (json_is_string(v)) return json_object_set(env, key, (json_t *)v);
    if (json_is_null(v)) return json_object_set_new(env, key, json_string(""));
    char *text = json_dump_compact(v);
    if (!text) return -1;
    int rc = json_object_set_new(env, key, json_string(text));
    free(text);
    return rc;
}

ow_status ow_init_parse(const char *body, size_t len, ow_init *out, char *jerr, size_t jerr_size) {
    memset(out, 0, sizeof *out);
    json_t *doc;
    ow_status st = load_object(body, len, &doc, jerr, jerr_size);
    if (st != OW_OK) return st;
    const json_t *value = json_object_get(doc, "value");
    const json_t *code = json_object_get(value, "code"), *main = json_object_get(value, "main"),
                 *name = json_object_get(value, "name"), *env = json_object_get(value, "env"),
                 *binary = json_object_get(value, "binary");
    if (!json_is_object(value)) st = OW_BAD_VALUE;
    else if (!json_is_string(code) || json_string_length(code) == 0) st = OW_NO_CODE;
    else if (main && !json_is_null(main) && (!json_is_string(main) || !is_identifier(json_string_value(main))))
        st = OW_BAD_MAIN;
    else if (name && !json_is_null(name) && !json_is_string(name)) st = OW_BAD_NAME;
    else if (env && !json_is_null(env) && !json_is_object(env)) st = OW_BAD_ENV;
    else if (json_is_true(binary)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)env, k, v) if (strncmp(k, "__OW_", 5) != 0) st = OW_ZIP_ENV;
    }
    if (st != OW_OK) {
        json_decref(doc);
        return st;
    }
    out->code_len = json_string_length(code);
    out->binary = json_is_true(binary);
    out->code = malloc(out->code_len + 1);
    out->main = strdup(json_is_string(main) ? json_string_value(main) : "main");
    out->name = strdup(json_is_string(name) ? json_string_value(name) : "");
    out->env = json_object();
    int bad = !out->code || !out->main || !out->name || !out->env;
    if (!bad) {
        memcpy(out->code, json_string_value(code), out->code_len);
        out->code[out->code_len] = '\0';
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)env, k, v) if (env_set(out->env, k, v) < 0) bad = 1;
    }
    json_decref(doc);
    if (bad) {
        ow_init_clear(out);
        return OW_BAD_JSON;
    }
    return OW_OK;
}

void ow_init_clear(ow_init *in) {
    free(in->name);
    free(in->main);
    free(in->code);
    json_decref(in->env);
    memset(in, 0, sizeof *in);
}

/* Runs after the user's code, in the same script: `typeof MAIN` there sees
 * a top-level const/let/function binding; the IIFE's own names cannot
 * shadow it (it is resolved outside). ES5, for Duktape too. */
static const char WRAP_FMT[] =
    "\n;(function (g, top) {\n"
    "  var m = g.module, e = m && m.exports;\n"
    "  var f = typeof e === 'function' ? e : e && typeof e['%s'] === 'function' ? e['%s'] : top;\n"
    "  if (typeof f !== 'function') throw new Error(\"Action entrypoint '%s' is not a function.\");\n"
    "  if (!m || typeof m !== 'object') g.module = m = {};\n"
    "  m.exports = function (p) {\n"
    "    if (!g.process || typeof g.process !== 'object') g.process = {};\n"
    "    g.process.env = p.env;\n"
    "    return p.init ? {} : f(p.value);\n"
    "  };\n"
    "})(typeof globalThis !== 'undefined' ? globalThis : this, typeof %s === 'function' ? %s : undefined);\n";

char *ow_proto_wrap(const char *code, size_t code_len, const char *main, size_t *len) {
    char suffix[sizeof WRAP_FMT + 5 * OW_MAX_MAIN];
    int n = snprintf(suffix, sizeof suffix, WRAP_FMT, main, main, main, main, main);
    if (n < 0 || (size_t)n >= sizeof suffix) return NULL;
    char *out = malloc(code_len + (size_t)n + 1);
    if (!out) return NULL;
    memcpy(out, code, code_len);
    memcpy(out + code_len, suffix, (size_t)n + 1);
    *len = code_len + (size_t)n;
    return out;
}

static int key_ok(const char *k) {
    size_t n = strlen(k);
    if (n == 0 || n > OW_MAX_KEY) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)k[i]) && k[i] != '_') return 0;
    return 1;
}

/* deadline: an integer, or (as some invokers send it) its digits as a string. */
static int parse_deadline(const json_t *d, int64_t *out) {
    if (!d || json_is_null(d)) { *out = 0; return 0; }
    if (json_is_integer(d) && json_integer_value(d) >= 0) { *out = json_integer_value(d); return 0; }
    const char *s = json_string_value(d);
    if (!s || !*s || strlen(s) > 18) return -1;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

static void copy_activation_id(const json_t *id, char out[33]) {
    out[0] = '\0';
    const char *s = json_string_value(id);
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 32) return;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i])) return;
    memcpy(out, s, n + 1);
}

/* The checks of a /run body and its two parts: the environment (base_env
 * overlaid with __OW_<KEY> for the body's other members) and the value
 * ({} when absent), new references both. */
static ow_status run_parse(const char *body, size_t len, const json_t *base_env, json_t **env_out, json_t **value_out,
                           int64_t *deadline_ms, char activation_id[33], char *jerr, size_t jerr_size) {
    *env_out = *value_out = NULL;
    *deadline_ms = 0;
    activation_id[0] = '\0';
    json_t *doc;
    ow_status st = load_object(body, len, &doc, jerr, jerr_size);
    if (st != OW_OK) return st;
    json_t *value = json_object_get(doc, "value");
    if (value && !json_is_object(value)) st = OW_BAD_VALUE;
    else if (parse_deadline(json_object_get(doc, "deadline"), deadline_ms) < 0) st = OW_BAD_DEADLINE;
    if (st != OW_OK) {
        json_decref(doc);
        return st;
    }
    copy_activation_id(json_object_get(doc, "activation_id"), activation_id);
    json_t *env = json_deep_copy(base_env);
    int bad = !env;
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v) {
        if (bad || !strcmp(k, "value") || !key_ok(k)) continue;
        char name[sizeof "__OW_" + OW_MAX_KEY];
        size_t n = strlen(k);
        memcpy(name, "__OW_", 5);
        for (size_t i = 0; i < n; i++) name[5 + i] = (char)toupper((unsigned char)k[i]);
        name[5 + n] = '\0';
        if (env_set(env, name, v) < 0) bad = 1;
    }
    value = value ? json_incref(value) : json_object();
    json_decref(doc);
    if (bad || !value) {
        json_decref(env);
        json_decref(value);
        return OW_BAD_JSON;
    }
    *env_out = env;
    *value_out = value;
    return OW_OK;
}

ow_status ow_run_params(const char *body, size_t len, const json_t *base_env, char **params, int64_t *deadline_ms,
                        char activation_id[33], char *jerr, size_t jerr_size) {
    *params = NULL;
    json_t *env, *value;
    ow_status st = run_parse(body, len, base_env, &env, &value, deadline_ms, activation_id, jerr, jerr_size);
    if (st != OW_OK) return st;
    json_t *wrapped = json_pack("{so so}", "env", env, "value", value); /* takes both, also on failure */
    *params = wrapped ? json_dump_compact(wrapped) : NULL;
    json_decref(wrapped);
    return *params ? OW_OK : OW_BAD_JSON;
}

ow_status ow_run_zip(const char *body, size_t len, const json_t *base_env, int node, char **params, char **action,
                     int64_t *deadline_ms, char activation_id[33], char *jerr, size_t jerr_size) {
    *params = *action = NULL;
    json_t *env, *value;
    ow_status st = run_parse(body, len, base_env, &env, &value, deadline_ms, activation_id, jerr, jerr_size);
    if (st != OW_OK) return st;
    json_t *d = json_pack("{sb sb so}", "binary", 1, "node", node, "env", env); /* takes env */
    *params = json_dump_compact(value);
    *action = d ? json_dump_compact(d) : NULL;
    json_decref(d);
    json_decref(value);
    if (*params && *action) return OW_OK;
    free(*params);
    free(*action);
    *params = *action = NULL;
    return OW_BAD_JSON;
}

char *ow_init_params(const json_t *base_env) {
    json_t *p = json_pack("{sO sb}", "env", (json_t *)base_env, "init", 1);
    char *text = p ? json_dump_compact(p) : NULL;
    json_decref(p);
    return text;
}

int ow_log_line(const char *line, size_t len, int prev_stderr, size_t *text_off) {
    if (len >= STAMP_LEN + 9 && line[STAMP_LEN - 1] == 'Z') {
        if (!memcmp(line + STAMP_LEN, " stdout: ", 9)) { *text_off = STAMP_LEN + 9; return 0; }
        if (!memcmp(line + STAMP_LEN, " stderr: ", 9)) { *text_off = STAMP_LEN + 9; return 1; }
    }
    *text_off = 0;
    return prev_stderr;
}

int ow_log_forges_sentinel(const char *text, size_t len) {
    while (len && (unsigned char)text[0] <= ' ') { text++; len--; }
    while (len && (unsigned char)text[len - 1] <= ' ') len--;
    return len == sizeof OW_LOG_SENTINEL - 1 && !memcmp(text, OW_LOG_SENTINEL, len);
}
