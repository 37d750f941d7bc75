/* web_response.c - a web action's result as an HTTP answer; see
 * web_response.h. */
#include "host/gateway/web_response.h"

#include "host/util/json.h"
#include "host/util/stringify.h"

#include "common/base64.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *web_result_name(web_result r) {
    switch (r) {
    case WEB_RESULT_OK: return "ok";
    case WEB_RESULT_NO_PROPERTY: return "Response does not include requested property.";
    case WEB_RESULT_BAD_MEDIA: return "Response type in header did not match generated content type.";
    case WEB_RESULT_BAD_STATUS: return "Response has an invalid statusCode: it must be an integer from 100 to 599.";
    case WEB_RESULT_BAD_HEADERS:
        return "Response has invalid headers: they must be an object of header names to single-line strings, "
               "numbers or booleans.";
    case WEB_RESULT_BAD_BODY: return "Response did not specify a known content-type.";
    case WEB_RESULT_HEADERS_TOO_LARGE:
        return "The action did not produce a response the server can send: its headers take more than "
               STR(WEB_MAX_HEADER_BYTES) " bytes in all.";
    case WEB_RESULT_NOMEM: return "The server ran out of memory";
    }
    return "unknown";
}

void web_answer_free(web_answer *a) {
    json_decref(a->headers);
    free(a->content_type);
    free(a->body);
    memset(a, 0, sizeof *a);
}

/* value at the '/'-separated path under v (empty segments skipped); NULL
 * when a step is missing. Array steps are decimal indexes. */
static const json_t *project(const json_t *v, const char *path) {
    char seg[ACTION_MAX_NAME + 1];
    const char *p = path ? path : "";
    while (v) {
        while (*p == '/') p++;
        if (!*p) return v;
        size_t len = strcspn(p, "/");
        if (len >= sizeof seg) return NULL;
        memcpy(seg, p, len);
        seg[len] = '\0';
        p += len;
        if (json_is_object(v)) {
            v = json_object_get(v, seg);
        } else if (json_is_array(v)) {
            char *end;
            unsigned long i = strtoul(seg, &end, 10);
            v = *end || seg[0] < '0' || seg[0] > '9' ? NULL : json_array_get(v, i);
        } else {
            return NULL;
        }
    }
    return NULL;
}

static int set_text(web_answer *a, const char *ct, const char *data, size_t len) {
    a->content_type = strdup(ct);
    a->body = len ? malloc(len) : NULL;
    if (!a->content_type || (len && !a->body)) return -1;
    if (len) memcpy(a->body, data, len);
    a->len = len;
    return 0;
}

static int set_json(web_answer *a, const json_t *v) {
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) return -1;
    a->content_type = strdup("application/json");
    a->body = text;
    a->len = strlen(text);
    return a->content_type ? 0 : -1;
}

/* Header names are RFC 9110 tokens; values are one line without NUL. */
static int token(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s)))
            return 0;
    return 1;
}

/* Headers the server sets itself: the action cannot send them. */
static int hop_by_hop(const char *name) {
    static const char *const SKIP[] = {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
                                       "trailer", "te"};
    for (size_t i = 0; i < sizeof SKIP / sizeof *SKIP; i++)
        if (!strcasecmp(name, SKIP[i])) return 1;
    return 0;
}

/* -1 for a value that is not a single line, -2 for one of size bytes or
 * more (then it is past WEB_MAX_HEADER_BYTES). */
static int header_value(const json_t *v, char *out, size_t size) {
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strlen(s) != json_string_length(v) || strpbrk(s, "\r\n")) return -1;
        if (json_string_length(v) >= size) return -2;
        memcpy(out, s, json_string_length(v) + 1);
    } else if (json_is_integer(v)) {
        snprintf(out, size, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(out, size, "%.17g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
    } else {
        return -1;
    }
    return 0;
}

/* headers object -> [[name, value]...]; an array value gives one header
 * per element. Content-Type is taken out into *ct (malloc'd). */
static web_result headers_build(const json_t *h, web_answer *a, char **ct) {
    a->headers = json_array();
    if (!a->headers) return WEB_RESULT_NOMEM;
    if (!h || json_is_null(h)) return WEB_RESULT_OK;
    if (!json_is_object(h)) return WEB_RESULT_BAD_HEADERS;
    const char *name;
    json_t *v;
    char value[WEB_MAX_HEADER_BYTES + 1];
    size_t total = 0; /* bytes of the head so far, WEB_MAX_HEADER_BYTES at most */
    json_object_foreach((json_t *)h, name, v) {
        if (!token(name)) return WEB_RESULT_BAD_HEADERS;
        size_t n = json_is_array(v) ? json_array_size(v) : 1;
        for (size_t i = 0; i < n; i++) {
            int hv = header_value(json_is_array(v) ? json_array_get(v, i) : v, value, sizeof value);
            if (hv < 0) return hv == -2 ? WEB_RESULT_HEADERS_TOO_LARGE : WEB_RESULT_BAD_HEADERS;
            /* every header counts, dropped ones too: the limit is on what the action sent */
            total += strlen(name) + strlen(value) + 4; /* ": ", CRLF */
            if (total > WEB_MAX_HEADER_BYTES) return WEB_RESULT_HEADERS_TOO_LARGE;
            if (!strcasecmp(name, "content-type")) {
                free(*ct);
                if (!(*ct = strdup(value))) return WEB_RESULT_NOMEM;
                continue;
            }
            if (hop_by_hop(name)) continue;
            if (json_array_append_new(a->headers, json_pack("[ss]", name, value)) < 0) return WEB_RESULT_NOMEM;
        }
    }
    return WEB_RESULT_OK;
}

/* Standard base64 (base64.h) into a->body; -1 when it is not base64. An
 * empty text is an empty body. */
static int base64_body(const char *s, size_t len, web_answer *a) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t';
    if (n == 0) {
        a->body = calloc(1, 1);
        a->len = 0;
        return a->body ? 0 : -1;
    }
    a->body = (char *)base64_decode_alloc(s, len, &a->len);
    return a->body ? 0 : -1;
}

static web_result http_answer(const json_t *v, web_answer *a) {
    if (!json_is_object(v)) return WEB_RESULT_BAD_MEDIA;
    char *ct = NULL;
    web_result r = headers_build(json_object_get(v, "headers"), a, &ct);
    const json_t *code = json_object_get(v, "statusCode");
    const json_t *body = json_object_get(v, "body");
    if (r == WEB_RESULT_OK && code && !json_is_null(code) &&
        (!json_is_integer(code) || json_integer_value(code) < 100 || json_integer_value(code) > 599))
        r = WEB_RESULT_BAD_STATUS;
    int empty = !body || json_is_null(body) || (json_is_string(body) && json_string_length(body) == 0);
    a->status = code && json_is_integer(code) ? (unsigned)json_integer_value(code) : empty ? 204 : 200;
    if (r == WEB_RESULT_OK && !empty) {
        if (json_is_object(body) || json_is_array(body)) {
            /* a JSON body: sent as JSON whatever the declared type's parameters */
            if (set_json(a, body) < 0) r = WEB_RESULT_NOMEM;
            else if (ct) { free(a->content_type); a->content_type = ct; ct = NULL; }
        } else if (json_is_string(body)) {
            const char *type = ct ? ct : "text/html";
            if (web_content_is_text(type) || !strncasecmp(type, "image/svg+xml", 13)) {
                if (set_text(a, type, json_string_value(body), json_string_length(body)) < 0) r = WEB_RESULT_NOMEM;
            } else if (base64_body(json_string_value(body), json_string_length(body), a) < 0) {
                r = WEB_RESULT_BAD_BODY;
            } else if (!(a->content_type = strdup(type))) {
                r = WEB_RESULT_NOMEM;
            }
        } else {
            /* numbers and booleans as their JSON text */
            char *text = json_dumps(body, JSON_ENCODE_ANY);
            if (!text || set_text(a, ct ? ct : "text/html", text, strlen(text)) < 0) r = WEB_RESULT_NOMEM;
            free(text);
        }
    } else if (r == WEB_RESULT_OK && ct) {
        a->content_type = ct;
        ct = NULL;
    }
    free(ct);
    return r;
}

web_result web_response_build(const json_t *value, web_ext ext, const char *path, web_answer *out) {
    memset(out, 0, sizeof *out);
    web_result r;
    if (ext == WEB_EXT_HTTP) {
        r = http_answer(value, out);
    } else {
        static const char *const FIELD[] = {NULL, NULL, "html", "svg", "text"};
        static const char *const TYPE[] = {NULL, "application/json", "text/html; charset=UTF-8", "image/svg+xml",
                                           "text/plain; charset=UTF-8"};
        int has_path = path && path[strspn(path, "/")] != '\0';
        const json_t *v = has_path ? project(value, path) : FIELD[ext] ? json_object_get(value, FIELD[ext]) : value;
        out->status = 200;
        out->headers = json_array();
        if (!v) r = WEB_RESULT_NO_PROPERTY;
        else if (!out->headers) r = WEB_RESULT_NOMEM;
        else if (ext == WEB_EXT_JSON) r = set_json(out, v) < 0 ? WEB_RESULT_NOMEM : WEB_RESULT_OK;
        else if (!json_is_string(v)) r = WEB_RESULT_BAD_MEDIA;
        else r = set_text(out, TYPE[ext], json_string_value(v), json_string_length(v)) < 0 ? WEB_RESULT_NOMEM
                                                                                            : WEB_RESULT_OK;
    }
    if (r != WEB_RESULT_OK) web_answer_free(out);
    return r;
}
