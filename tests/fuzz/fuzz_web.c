/* fuzz_web.c - libFuzzer target for the parsers of web actions and API
 * routes, which take a stranger's bytes (no credentials are needed):
 * the web path (web_request.c), a request's parameters from its content
 * type and body, the answer a function's result becomes (web_response.c),
 * and route definitions and matching (api_route.c).
 *
 * The first byte picks the parser. Invariants: a parsed path's parts are
 * valid names and its extra part is a suffix of the input; parameters are
 * an object holding __ow_method and never a reserved name the request set;
 * an answer has a status in 100..599, single-line token headers within
 * WEB_MAX_HEADER_BYTES in all and a body of the length it says; a checked route definition matches the path it
 * spells (parameters filled in). */
#include "fuzz.h"

#include "host/gateway/api_route.h"
#include "host/gateway/web_request.h"
#include "host/gateway/web_response.h"

static void fuzz_path(const char *s) {
    web_path p;
    if (web_path_parse(s, &p) != WEB_PATH_OK) return;
    FUZZ_CHECK(action_name_valid(p.ns) && action_name_valid(p.name));
    FUZZ_CHECK(!p.pkg[0] || action_name_valid(p.pkg));
    FUZZ_CHECK(p.extra >= s && p.extra <= s + strlen(s) && (!*p.extra || *p.extra == '/'));
    FUZZ_CHECK((unsigned)p.ext <= WEB_EXT_TEXT);
}

static void fuzz_params(const uint8_t *data, size_t size) {
    if (size < 2) return;
    static const char *const TYPES[] = {"application/json", "application/x-www-form-urlencoded", "text/plain",
                                        "image/png", NULL, "application/ld+json; x=y"};
    web_request q = {.method = "PATCH", .content_type = TYPES[data[0] % 6], .raw = data[1] & 1,
                     .body = (const char *)data + 2, .body_len = size - 2, .path = "/p", .query_raw = ""};
    json_t *ap = json_pack("{si}", "a", 1);
    json_t *out = NULL;
    web_params_result r = web_params_build(&q, ap, data[1] & 2, &out);
    FUZZ_CHECK((r == WEB_PARAMS_OK) == (out != NULL));
    if (out) {
        FUZZ_CHECK(json_is_object(out) && json_is_string(json_object_get(out, "__ow_method")));
        FUZZ_CHECK(!(data[1] & 2) || q.raw || !json_object_get(out, "a"));
        char *text = json_dumps(out, JSON_COMPACT); /* every string is UTF-8: it serialises */
        FUZZ_CHECK(text != NULL);
        free(text);
    }
    json_decref(out);
    json_decref(ap);
}

static void fuzz_answer(const uint8_t *data, size_t size) {
    if (size < 1) return;
    json_t *v = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, NULL);
    if (!v) return;
    web_answer a;
    web_ext ext = (web_ext)(data[0] % 5);
    if (web_response_build(v, ext, data[0] & 0x80 ? "/a/0" : "", &a) == WEB_RESULT_OK) {
        FUZZ_CHECK(a.status >= 100 && a.status <= 599);
        FUZZ_CHECK(a.len == 0 || a.body != NULL);
        size_t i, total = 0;
        json_t *h;
        json_array_foreach(a.headers, i, h) {
            const char *name = json_string_value(json_array_get(h, 0));
            const char *value = json_string_value(json_array_get(h, 1));
            FUZZ_CHECK(name && value && *name && !strpbrk(name, " \r\n:") && !strpbrk(value, "\r\n"));
            total += strlen(name) + strlen(value) + 4;
        }
        FUZZ_CHECK(total <= WEB_MAX_HEADER_BYTES);
        FUZZ_CHECK(!a.content_type || !strpbrk(a.content_type, "\r\n"));
        web_answer_free(&a);
    }
    json_decref(v);
}

static void fuzz_route_def(const char *s) {
    /* "basepath relpath" */
    char *sp = strchr(s, ' ');
    if (!sp) return;
    *sp = '\0';
    char b[API_BASEPATH_MAX + 1], r[API_RELPATH_MAX + 1], v[8];
    web_ext e;
    if (api_route_check(s, sp + 1, "get", NULL, b, r, v, &e) != API_ROUTE_OK) return;
    FUZZ_CHECK(!strcmp(v, "GET") && e == WEB_EXT_JSON);
    /* the path the definition spells, each {param} replaced by "x" */
    char path[API_BASEPATH_MAX + API_RELPATH_MAX + 2];
    size_t n = 0;
    for (const char *p = b; *p; p++) path[n++] = *p;
    for (const char *p = r; *p; p++) {
        if (*p == '{') {
            path[n++] = 'x';
            p = strchr(p, '}');
        } else {
            path[n++] = *p;
        }
    }
    path[n] = '\0';
    json_t *params = json_object();
    FUZZ_CHECK(api_route_match(b, r, path, params));
    const char *k;
    json_t *val;
    json_object_foreach(params, k, val) FUZZ_CHECK(!strcmp(json_string_value(val), "x"));
    json_decref(params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char *s = fuzz_cstr(data + 1, size - 1);
    switch (data[0] % 4) {
    case 0: fuzz_path(s); break;
    case 1: fuzz_params(data + 1, size - 1); break;
    case 2: fuzz_answer(data + 1, size - 1); break;
    default: fuzz_route_def(s); break;
    }
    free(s);
    return 0;
}
