/* api_route.c - API route definitions and matching; see api_route.h. */
#include "host/gateway/api_route.h"

#include <stdio.h>
#include <string.h>

const char *api_route_result_name(api_route_result r) {
    switch (r) {
    case API_ROUTE_OK: return "ok";
    case API_ROUTE_BAD_BASEPATH:
        return "The base path must be '/' followed by at most 256 characters of letters, digits and '-._~' "
               "between '/'s (no '.' or '..' segment)";
    case API_ROUTE_BAD_RELPATH:
        return "The relative path must be '/' followed by at most 512 characters: segments of letters, digits and "
               "'-._~' (not '.' or '..'), or a path parameter {name} (letters, digits, '_'; each name once)";
    case API_ROUTE_BAD_VERB: return "The operation must be one of GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS";
    case API_ROUTE_BAD_TYPE: return "The response type must be one of http, json, html, svg, text";
    }
    return "unknown";
}

static int literal_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/* Checks a path ('/' then segments) and copies it without a trailing '/'.
 * params: whether {name} segments are allowed. 0 or -1. */
static int path_check(const char *in, size_t max, int params, char *out) {
    size_t len = in ? strlen(in) : 0;
    if (len == 0 || len > max || in[0] != '/') return -1;
    while (len > 1 && in[len - 1] == '/') len--;
    const char *names[API_PATH_SEGMENTS];
    size_t name_len[API_PATH_SEGMENTS];
    int nnames = 0, nseg = 0;
    for (size_t i = 1; i < len;) {
        size_t j = i;
        while (j < len && in[j] != '/') j++;
        if (j == i || ++nseg > API_PATH_SEGMENTS) return -1; /* "//" or too deep */
        if (in[i] == '{') {
            if (!params || j - i < 3 || in[j - 1] != '}') return -1;
            for (size_t k = i + 1; k < j - 1; k++)
                if (!((in[k] >= 'a' && in[k] <= 'z') || (in[k] >= 'A' && in[k] <= 'Z') ||
                      (in[k] >= '0' && in[k] <= '9') || in[k] == '_'))
                    return -1;
            for (int n = 0; n < nnames; n++)
                if (name_len[n] == j - i - 2 && !memcmp(names[n], in + i + 1, j - i - 2)) return -1;
            names[nnames] = in + i + 1;
            name_len[nnames++] = j - i - 2;
        } else {
            for (size_t k = i; k < j; k++)
                if (!literal_char(in[k])) return -1;
            /* "." and "..": a proxy in front would resolve them away */
            if (in[i] == '.' && (j - i == 1 || (j - i == 2 && in[i + 1] == '.'))) return -1;
        }
        i = j + 1;
    }
    memcpy(out, in, len);
    out[len] = '\0';
    return 0;
}

api_route_result api_route_check(const char *basepath, const char *relpath, const char *verb, const char *type,
                                 char base_out[API_BASEPATH_MAX + 1], char rel_out[API_RELPATH_MAX + 1],
                                 char verb_out[8], web_ext *ext) {
    if (path_check(basepath, API_BASEPATH_MAX, 0, base_out) < 0) return API_ROUTE_BAD_BASEPATH;
    if (path_check(relpath, API_RELPATH_MAX, 1, rel_out) < 0) return API_ROUTE_BAD_RELPATH;
    static const char *const VERBS[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
    size_t vl = verb ? strlen(verb) : 0;
    int found = 0;
    if (vl > 0 && vl < 8) {
        for (size_t i = 0; i < vl; i++)
            verb_out[i] = (char)((verb[i] >= 'a' && verb[i] <= 'z') ? verb[i] - 32 : verb[i]);
        verb_out[vl] = '\0';
        for (size_t i = 0; i < sizeof VERBS / sizeof *VERBS; i++) found |= !strcmp(verb_out, VERBS[i]);
    }
    if (!found) return API_ROUTE_BAD_VERB;
    static const char *const TYPES[] = {"http", "json", "html", "svg", "text"};
    *ext = WEB_EXT_JSON;
    if (type) {
        found = 0;
        for (size_t i = 0; i < sizeof TYPES / sizeof *TYPES; i++)
            if (!strcmp(type, TYPES[i])) { *ext = (web_ext)i; found = 1; }
        if (!found) return API_ROUTE_BAD_TYPE;
    }
    return API_ROUTE_OK;
}

/* Next segment of *p ("" at the end): start and length; *p moves past it. */
static size_t segment(const char **p, const char **start) {
    while (**p == '/') (*p)++;
    *start = *p;
    size_t n = strcspn(*p, "/");
    *p += n;
    return n;
}

int api_route_match(const char *basepath, const char *relpath, const char *path, json_t *params) {
    if (!basepath || !relpath || !path) return 0;
    const char *pp = path;
    const char *defs[2] = {basepath, relpath};
    for (int d = 0; d < 2; d++) {
        const char *dp = defs[d];
        for (;;) {
            const char *ds, *ps;
            size_t dl = segment(&dp, &ds);
            if (dl == 0) break;
            size_t pl = segment(&pp, &ps);
            if (pl == 0) return 0;
            if (d == 1 && ds[0] == '{') {
                if (params) {
                    char name[API_RELPATH_MAX + 1];
                    snprintf(name, sizeof name, "%.*s", (int)(dl - 2), ds + 1);
                    json_t *v = json_stringn(ps, pl); /* NULL when not UTF-8: no match */
                    if (!v || json_object_set_new(params, name, v) < 0) return 0;
                }
            } else if (dl != pl || memcmp(ds, ps, dl) != 0) {
                return 0;
            }
        }
    }
    const char *rest;
    return segment(&pp, &rest) == 0; /* nothing left over */
}
