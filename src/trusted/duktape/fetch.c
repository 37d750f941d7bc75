/* fetch.c - the Duktape enclave's synchronous fetch(); see fetch.h. A
 * native request function (trusted/fetch/fetch.h does the work) under a
 * small JavaScript wrapper that shapes its answer like a WHATWG Response. */
#include "trusted/duktape/fetch.h"

#include "trusted/fetch/fetch.h"

#include <stdlib.h>
#include <string.h>

/* __fetch(method, url, [name, value, ...], body|undefined, redirect)
 * -> [status, statusText, url, redirected, [name, value, ...], buffer] */
static duk_ret_t native_fetch(duk_context *ctx) {
    fetch_activation *act = duk_heap_fetch(ctx);
    const char *method = duk_require_string(ctx, 0), *url = duk_require_string(ctx, 1);
    const char *redirect = duk_require_string(ctx, 4);
    duk_require_object(ctx, 2);
    duk_size_t n = duk_get_length(ctx, 2);
    if (n > 2 * 1024) return duk_error(ctx, DUK_ERR_TYPE_ERROR, "fetch: too many headers");
    fetch_header hs[1024];
    for (duk_size_t i = 0; i + 1 < n; i += 2) {
        duk_get_prop_index(ctx, 2, (duk_uarridx_t)i);
        duk_get_prop_index(ctx, 2, (duk_uarridx_t)i + 1);
        /* the strings stay on the value stack while the request runs */
        hs[i / 2].name = (char *)duk_to_string(ctx, -2);
        hs[i / 2].value = (char *)duk_to_string(ctx, -1);
    }
    fetch_request req = {.method = method, .url = url, .headers = hs, .nheaders = n / 2,
                         .redirect = strcmp(redirect, "manual") == 0  ? FETCH_REDIRECT_MANUAL
                                     : strcmp(redirect, "error") == 0 ? FETCH_REDIRECT_ERROR
                                                                      : FETCH_REDIRECT_FOLLOW};
    if (duk_is_string(ctx, 3)) {
        duk_size_t len;
        req.body = (const uint8_t *)duk_get_lstring(ctx, 3, &len);
        req.body_len = len;
    } else if (duk_is_buffer_data(ctx, 3)) {
        duk_size_t len;
        req.body = duk_get_buffer_data(ctx, 3, &len);
        req.body_len = len;
        if (!req.body) req.body = (const uint8_t *)"";
    }
    fetch_response res;
    char *err = NULL;
    if (fetch_run(act, &req, &res, &err) < 0) {
        duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "%s", err ? err : "fetch: out of memory");
        free(err);
        return duk_throw(ctx);
    }
    /* Built in the heap's accounted memory; a refused allocation throws
     * (and the response is then leaked no further: freed below first). */
    duk_idx_t arr = duk_push_array(ctx);
    duk_push_int(ctx, res.status);
    duk_put_prop_index(ctx, arr, 0);
    duk_push_string(ctx, res.status_text);
    duk_put_prop_index(ctx, arr, 1);
    duk_push_string(ctx, res.url);
    duk_put_prop_index(ctx, arr, 2);
    duk_push_boolean(ctx, res.redirected);
    duk_put_prop_index(ctx, arr, 3);
    duk_push_array(ctx);
    for (size_t i = 0; i < res.nheaders; i++) {
        duk_push_string(ctx, res.headers[i].name);
        duk_put_prop_index(ctx, -2, (duk_uarridx_t)(2 * i));
        duk_push_string(ctx, res.headers[i].value);
        duk_put_prop_index(ctx, -2, (duk_uarridx_t)(2 * i + 1));
    }
    duk_put_prop_index(ctx, arr, 4);
    void *buf = duk_push_fixed_buffer(ctx, res.body_len);
    if (res.body_len) memcpy(buf, res.body, res.body_len);
    duk_push_buffer_object(ctx, -1, 0, res.body_len, DUK_BUFOBJ_ARRAYBUFFER);
    duk_remove(ctx, -2);
    duk_put_prop_index(ctx, arr, 5);
    fetch_response_free(&res);
    return 1;
}

/* __decode(buffer) -> string of its bytes (UTF-8) */
static duk_ret_t native_decode(duk_context *ctx) {
    duk_size_t len;
    const void *p = duk_require_buffer_data(ctx, 0, &len);
    duk_push_lstring(ctx, p ? p : "", len);
    return 1;
}

/* The Response-like shape around __fetch. */
static const char wrapper[] =
    "(function (nfetch, decode) {\n"
    "  function lower(n) { return String(n).toLowerCase(); }\n"
    "  function Headers(flat) {\n"
    "    var list = [];\n"
    "    for (var i = 0; i + 1 < flat.length; i += 2) list.push([flat[i], flat[i + 1]]);\n"
    "    this.get = function (n) { n = lower(n); var v = [];\n"
    "      for (var i = 0; i < list.length; i++) if (list[i][0] === n) v.push(list[i][1]);\n"
    "      return v.length ? v.join(', ') : null; };\n"
    "    this.has = function (n) { return this.get(n) !== null; };\n"
    "    this.entries = function () { return list.map(function (p) { return [p[0], p[1]]; }); };\n"
    "    this.forEach = function (fn, t) { list.forEach(function (p) { fn.call(t, p[1], p[0], this); }, this); };\n"
    "  }\n"
    "  function flatten(h) {\n"
    "    var out = [];\n"
    "    if (h == null) return out;\n"
    "    if (Array.isArray(h)) { h.forEach(function (p) { out.push(String(p[0]), String(p[1])); }); return out; }\n"
    "    if (typeof h.entries === 'function') { h.entries().forEach(function (p) { out.push(p[0], p[1]); }); return out; }\n"
    "    Object.keys(h).forEach(function (k) { out.push(k, String(h[k])); });\n"
    "    return out;\n"
    "  }\n"
    "  return function fetch(input, init) {\n"
    "    if (input !== null && typeof input === 'object' && !init) { init = input; input = input.url; }\n"
    "    init = init || {};\n"
    "    var method = init.method === undefined ? 'GET' : String(init.method);\n"
    "    if (/^(get|head|post|put|delete|options|patch)$/i.test(method)) method = method.toUpperCase();\n"
    "    var body = init.body, headers = flatten(init.headers);\n"
    "    if (body != null && typeof body !== 'string' && !(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body))\n"
    "      body = String(body);\n"
    "    if (body != null && (method === 'GET' || method === 'HEAD'))\n"
    "      throw new TypeError('Request with GET/HEAD method cannot have body.');\n"
    "    if (typeof body === 'string' && !headers.some(function (h, i) { return i % 2 === 0 && lower(h) === 'content-type'; }))\n"
    "      headers.push('content-type', 'text/plain;charset=UTF-8');\n"
    "    var r = nfetch(method, String(input), headers, body == null ? undefined : body,\n"
    "                   init.redirect === undefined ? 'follow' : String(init.redirect));\n"
    "    var used = false, buf = r[5];\n"
    "    function take() { if (used) throw new TypeError('Body has already been used'); used = true; return buf; }\n"
    "    return {\n"
    "      status: r[0], statusText: r[1], url: r[2], redirected: r[3], ok: r[0] >= 200 && r[0] <= 299,\n"
    "      headers: new Headers(r[4]),\n"
    "      get bodyUsed() { return used; },\n"
    "      text: function () { return decode(take()); },\n"
    "      json: function () { return JSON.parse(decode(take())); },\n"
    "      arrayBuffer: function () { return take(); }\n"
    "    };\n"
    "  };\n"
    "})";

/* Compiling the wrapper is a third of a blank heap's cost (docs/benchmarks.md,
 * "First invoke after create"), and few functions fetch: so the global
 * `fetch` starts as an accessor whose getter makes the function on first use
 * and puts it in place as the plain data property it always was (writable,
 * enumerable, configurable); a setter makes assigning to it, before any use,
 * do what it did. Until then only Object.getOwnPropertyDescriptor can tell.
 * The compiled function is kept in the heap stash (out of JavaScript's
 * reach), so a getter taken out of the descriptor and called again hands out
 * the same function and compiles nothing twice. Whatever the function does to
 * its globals meanwhile, the wrapper looks nothing up when it is made (only
 * when it is called, as before), and each function has its own heap. */
#define FETCH_STASH_KEY "tfaas:fetch"

/* Leaves the wrapped fetch function on the stack. */
static void push_fetch(duk_context *ctx) {
    duk_push_heap_stash(ctx);
    if (!duk_get_prop_string(ctx, -1, FETCH_STASH_KEY)) {
        duk_pop(ctx);
        duk_push_string(ctx, "tfaas:fetch");
        duk_compile_lstring_filename(ctx, DUK_COMPILE_EVAL, wrapper, sizeof wrapper - 1);
        duk_call(ctx, 0);
        duk_push_c_function(ctx, native_fetch, 5);
        duk_push_c_function(ctx, native_decode, 1);
        duk_call(ctx, 2);
        duk_dup_top(ctx);
        duk_put_prop_string(ctx, -3, FETCH_STASH_KEY);
    }
    duk_remove(ctx, -2); /* the stash */
}

/* Defines obj_idx.fetch as the data property (the value on top, popped). */
static void put_fetch_value(duk_context *ctx, duk_idx_t obj_idx) {
    obj_idx = duk_normalize_index(ctx, obj_idx);
    duk_push_string(ctx, "fetch");
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj_idx, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE |
                                   DUK_DEFPROP_SET_CONFIGURABLE);
}

/* Whether obj_idx's own fetch may be redefined: absent, or configurable
 * (not after Object.freeze or a non-configurable definition of the
 * function's own). *get_is_current: its getter is the running function. */
static int fetch_redefinable(duk_context *ctx, duk_idx_t obj_idx, int *get_is_current) {
    obj_idx = duk_normalize_index(ctx, obj_idx);
    duk_push_string(ctx, "fetch");
    duk_get_prop_desc(ctx, obj_idx, 0); /* the descriptor or undefined */
    int ok = 1;
    *get_is_current = 0;
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_string(ctx, -1, "configurable");
        ok = duk_to_boolean(ctx, -1);
        duk_pop(ctx);
        duk_get_prop_string(ctx, -1, "get");
        duk_push_current_function(ctx);
        *get_is_current = duk_strict_equals(ctx, -1, -2);
        duk_pop_2(ctx);
    }
    duk_pop(ctx);
    return ok;
}

/* The getter: the function, now in place of the accessor if the global's
 * fetch is still this accessor and may be redefined (a getter called again
 * after the property was replaced or deleted changes nothing; after
 * Object.freeze(globalThis) the accessor stays, handing out the same
 * function). */
static duk_ret_t lazy_fetch_get(duk_context *ctx) {
    push_fetch(ctx);                      /* 0: fetch */
    duk_push_global_object(ctx);          /* 1 */
    int ours = 0;
    int redefinable = fetch_redefinable(ctx, 1, &ours);
    ours = ours && redefinable;
    if (ours) {
        duk_dup(ctx, 0);
        put_fetch_value(ctx, 1);
    }
    duk_pop(ctx);
    return 1;
}

/* The setter: `fetch = v` before any use defines fetch as v on the object
 * assigned to, as assigning to the data property did; on a frozen global
 * it changes nothing, as sloppy-mode assignment to a frozen property did
 * not (strict-mode code got a TypeError there, and now gets none). */
static duk_ret_t lazy_fetch_set(duk_context *ctx) {
    duk_push_this(ctx); /* 1 */
    duk_to_object(ctx, 1);
    int ignored;
    if (!fetch_redefinable(ctx, 1, &ignored)) return 0;
    duk_dup(ctx, 0);
    put_fetch_value(ctx, 1);
    return 0;
}

void duk_fetch_install(duk_context *ctx) {
    duk_push_global_object(ctx);
    duk_push_string(ctx, "fetch");
    duk_push_c_function(ctx, lazy_fetch_get, 0);
    duk_push_c_function(ctx, lazy_fetch_set, 1);
    duk_def_prop(ctx, -4, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_HAVE_SETTER | DUK_DEFPROP_SET_ENUMERABLE |
                              DUK_DEFPROP_SET_CONFIGURABLE);
    duk_pop(ctx);
}
