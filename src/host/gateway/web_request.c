/* web_request.c - the web action path and the parameters a request gives;
 * see web_request.h. */
#include "host/gateway/web_request.h"

#include "common/json_depth.h"
#include "host/util/json.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const EXT_NAMES[] = {"http", "json", "html", "svg", "text"};

const char *web_ext_name(web_ext e) {
    return (unsigned)e < sizeof EXT_NAMES / sizeof *EXT_NAMES ? EXT_NAMES[e] : "http";
}

const char *web_path_result_name(web_path_result r) {
    switch (r) {
    case WEB_PATH_OK: return "ok";
    case WEB_PATH_SHORT: return "the path must be /api/v1/web/{namespace}/{package or default}/{action}";
    case WEB_PATH_BAD_NAMESPACE: return "the namespace is not a valid name";
    case WEB_PATH_BAD_PACKAGE: return "the package is not a valid name";
    case WEB_PATH_BAD_NAME: return "the action name is not valid";
    }
    return "unknown";
}

/* Next '/'-separated segment of *p into out (ACTION_MAX_NAME + 1 bytes),
 * leading '/'s skipped; *p moves past it. -1 when none or too long. */
static int next_segment(const char **p, char *out) {
    while (**p == '/') (*p)++;
    size_t len = strcspn(*p, "/");
    if (len == 0 || len > ACTION_MAX_NAME) return -1;
    memcpy(out, *p, len);
    out[len] = '\0';
    *p += len;
    return 0;
}

web_path_result web_path_parse(const char *rest, web_path *out) {
    memset(out, 0, sizeof *out);
    out->extra = "";
    if (!rest) return WEB_PATH_SHORT;
    const char *p = rest;
    char seg[ACTION_MAX_NAME + 1];
    if (next_segment(&p, seg) < 0) return *p ? WEB_PATH_BAD_NAMESPACE : WEB_PATH_SHORT;
    if (!action_name_valid(seg)) return WEB_PATH_BAD_NAMESPACE;
    memcpy(out->ns, seg, sizeof seg);
    if (next_segment(&p, seg) < 0) return *p ? WEB_PATH_BAD_PACKAGE : WEB_PATH_SHORT;
    if (strcmp(seg, "default") != 0) {
        if (!action_name_valid(seg)) return WEB_PATH_BAD_PACKAGE;
        memcpy(out->pkg, seg, sizeof seg);
    }
    if (next_segment(&p, seg) < 0) return *p ? WEB_PATH_BAD_NAME : WEB_PATH_SHORT;
    out->extra = p; /* "" or "/..." */
    char *dot = strrchr(seg, '.');
    if (dot && dot != seg) {
        for (size_t i = 0; i < sizeof EXT_NAMES / sizeof *EXT_NAMES; i++) {
            if (strcmp(dot + 1, EXT_NAMES[i]) != 0) continue;
            *dot = '\0';
            if (action_name_valid(seg)) out->ext = (web_ext)i;
            else *dot = '.';
            break;
        }
    }
    if (!action_name_valid(seg)) return WEB_PATH_BAD_NAME;
    memcpy(out->name, seg, sizeof seg);
    return WEB_PATH_OK;
}

const char *web_params_result_name(web_params_result r) {
    switch (r) {
    case WEB_PARAMS_OK: return "ok";
    /* OpenWhisk's message for both */
    case WEB_PARAMS_RESERVED:
    case WEB_PARAMS_FINAL: return "Request defines parameters that are not allowed (e.g., reserved properties).";
    case WEB_PARAMS_BAD_JSON:
        return "The request content was malformed: the body is not the JSON its content type says";
    case WEB_PARAMS_TOO_DEEP:
        return "The request content is nested too deeply: at most " JSON_MAX_DEPTH_TEXT " levels of arrays and objects";
    case WEB_PARAMS_BAD_FORM:
        return "The request content was malformed: the form body has an invalid escape or is not UTF-8";
    case WEB_PARAMS_NOMEM: return "The server ran out of memory";
    }
    return "unknown";
}

/* The media type of a Content-Type value, lower-cased, without parameters. */
static void media_type(const char *ct, char *out, size_t size) {
    size_t n = 0;
    if (ct) {
        while (*ct == ' ' || *ct == '\t') ct++;
        for (; *ct && *ct != ';' && *ct != ' ' && *ct != '\t' && n + 1 < size; ct++)
            out[n++] = (char)((*ct >= 'A' && *ct <= 'Z') ? *ct + 32 : *ct);
    }
    out[n] = '\0';
}

static int is_json_type(const char *m) {
    size_t n = strlen(m);
    return !strcmp(m, "application/json") || (n > 5 && !strcmp(m + n - 5, "+json"));
}

int web_content_is_text(const char *content_type) {
    char m[128];
    media_type(content_type, m, sizeof m);
    size_t n = strlen(m);
    return !strncmp(m, "text/", 5) || is_json_type(m) || !strcmp(m, "application/xml") ||
           (n > 4 && !strcmp(m + n - 4, "+xml")) || !strcmp(m, "application/javascript") ||
           !strcmp(m, "application/x-www-form-urlencoded");
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Form decoding of [p, p+len) ('+' is a space, %XX a byte) into a new
 * string; NULL on a malformed escape or text that is not UTF-8 (*bad set),
 * or no memory. */
static json_t *form_decode(const char *p, size_t len, int *bad) {
    char *buf = malloc(len + 1);
    if (!buf) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '+') {
            buf[n++] = ' ';
        } else if (p[i] == '%') {
            int hi = i + 2 < len ? hexval(p[i + 1]) : -1; /* two characters must follow */
            int lo = i + 2 < len ? hexval(p[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *bad = 1;
                free(buf);
                return NULL;
            }
            buf[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            buf[n++] = p[i];
        }
    }
    json_t *s = json_stringn(buf, n); /* NULL when not UTF-8: a bad form too */
    if (!s) *bad = 1;
    free(buf);
    return s;
}

/* Form fields of body into params (later fields win). -1 on a bad escape. */
static int form_merge(const char *body, size_t len, json_t *params, int *bad) {
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&') end++;
        size_t eq = i;
        while (eq < end && body[eq] != '=') eq++;
        if (end > i) {
            json_t *k = form_decode(body + i, eq - i, bad);
            json_t *v = eq < end ? form_decode(body + eq + 1, end - eq - 1, bad) : json_string("");
            if (!k || !v || json_object_setn_new_nocheck(params, json_string_value(k), json_string_length(k), v) < 0) {
                json_decref(k);
                if (!k || !v) json_decref(v);
                return -1;
            }
            json_decref(k);
        }
        i = end + 1;
    }
    return 0;
}

static json_t *base64_of(const char *data, size_t len) {
    if (len > (size_t)INT32_MAX / 2) return NULL;
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out) return NULL;
    int n = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    json_t *s = n >= 0 ? json_stringn(out, (size_t)n) : NULL;
    free(out);
    return s;
}

/* The body as __ow_body: text as a string (bytes that are not UTF-8 make
 * it binary), anything else base64. */
static json_t *body_value(const web_request *q) {
    if (web_content_is_text(q->content_type)) {
        json_t *s = json_stringn(q->body, q->body_len); /* NULL: not UTF-8 */
        if (s) return s;
    }
    return base64_of(q->body, q->body_len);
}

static char *lower_dup(const char *s) {
    char *d = strdup(s ? s : "");
    for (char *p = d; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    return d;
}

web_params_result web_params_build(const web_request *q, const json_t *action_params, int final, json_t **out) {
    *out = NULL;
    json_t *p = json_object();
    if (!p) return WEB_PARAMS_NOMEM;
    int nomem = 0;
    int has_body = q->body && q->body_len > 0;
    json_t *ow_body = NULL; /* a body that is not merged as parameters */
    if (q->raw) {
        if (has_body) nomem |= !(ow_body = body_value(q));
    } else {
        if (q->query && json_object_update(p, (json_t *)q->query) < 0) nomem = 1;
        char m[128];
        media_type(q->content_type, m, sizeof m);
        if (has_body && is_json_type(m)) {
            /* the gateway's one limit (req_body_json): deeper would fail
             * inside the engine as an internal error */
            if (json_depth(q->body, q->body_len, JSON_MAX_DEPTH) > JSON_MAX_DEPTH) {
                json_decref(p);
                return WEB_PARAMS_TOO_DEEP;
            }
            json_error_t e;
            json_t *v = json_loadb(q->body, q->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
            if (!v) { json_decref(p); return WEB_PARAMS_BAD_JSON; }
            if (json_is_object(v)) {
                nomem |= json_object_update(p, v) < 0; /* the body wins over the query */
                json_decref(v);
            } else {
                ow_body = v;
            }
        } else if (has_body && !strcmp(m, "application/x-www-form-urlencoded")) {
            int bad = 0;
            if (form_merge(q->body, q->body_len, p, &bad) < 0) {
                json_decref(p);
                return bad ? WEB_PARAMS_BAD_FORM : WEB_PARAMS_NOMEM;
            }
        } else if (has_body) {
            nomem |= !(ow_body = body_value(q));
        }
    }
    /* What the request named: none may be reserved, nor (final) the action's. */
    const char *k;
    json_t *v;
    web_params_result res = nomem ? WEB_PARAMS_NOMEM : WEB_PARAMS_OK;
    json_object_foreach(p, k, v) {
        if (res != WEB_PARAMS_OK) break;
        if (!strncmp(k, "__ow_", 5)) res = WEB_PARAMS_RESERVED;
        else if (final && json_object_get(action_params, k)) res = WEB_PARAMS_FINAL;
    }
    if (res != WEB_PARAMS_OK) {
        json_decref(p);
        json_decref(ow_body);
        return res;
    }
    if (ow_body) nomem |= json_object_set_new(p, "__ow_body", ow_body) < 0;
    if (q->raw) nomem |= json_object_set_new(p, "__ow_query", json_string(q->query_raw ? q->query_raw : "")) < 0;
    char *method = lower_dup(q->method);
    json_t *headers = q->headers ? json_deep_copy(q->headers) : json_object();
    nomem |= !method || !headers;
    nomem |= json_object_set_new(p, "__ow_method", json_string(method ? method : "")) < 0;
    nomem |= json_object_set_new(p, "__ow_headers", headers) < 0;
    nomem |= json_object_set_new(p, "__ow_path", json_string(q->path ? q->path : "")) < 0;
    if (q->user) nomem |= json_object_set_new(p, "__ow_user", json_string(q->user)) < 0;
    free(method);
    if (nomem) { json_decref(p); return WEB_PARAMS_NOMEM; }
    *out = p;
    return WEB_PARAMS_OK;
}
