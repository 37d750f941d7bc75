/* test_gateway_web.c - the pure parts of web actions, sequences and API
 * routes: the web path, the request's parameters, the result's answer, the
 * route definitions and their matching, sequence component names and the
 * web route, each on hostile input too. */
#include "check.h"

#include "host/gateway/action_doc.h"
#include "host/gateway/api_route.h"
#include "host/gateway/route.h"
#include "host/gateway/web_request.h"
#include "host/gateway/web_response.h"
#include "host/util/json.h"

#include <stdlib.h>
#include <string.h>

static void test_web_path(void) {
    web_path p;
    CHECK(web_path_parse("guest/default/hello", &p) == WEB_PATH_OK);
    CHECK_STR(p.ns, "guest");
    CHECK_STR(p.pkg, "");
    CHECK_STR(p.name, "hello");
    CHECK(p.ext == WEB_EXT_HTTP);
    CHECK_STR(p.extra, "");
    CHECK(web_path_parse("guest/default/hello.json/a/b/", &p) == WEB_PATH_OK);
    CHECK_STR(p.name, "hello");
    CHECK(p.ext == WEB_EXT_JSON);
    CHECK_STR(p.extra, "/a/b/");
    CHECK(web_path_parse("guest/pkg/a.b", &p) == WEB_PATH_OK);
    CHECK_STR(p.pkg, "pkg");
    CHECK_STR(p.name, "a.b"); /* no known extension: the name keeps its dot */
    CHECK(p.ext == WEB_EXT_HTTP);
    CHECK(web_path_parse("guest/default/a.text", &p) == WEB_PATH_OK && p.ext == WEB_EXT_TEXT);
    CHECK(web_path_parse("guest/default/a.svg", &p) == WEB_PATH_OK && p.ext == WEB_EXT_SVG);
    CHECK(web_path_parse("guest/default/a.html", &p) == WEB_PATH_OK && p.ext == WEB_EXT_HTML);
    CHECK(web_path_parse("guest/default/a.http", &p) == WEB_PATH_OK && p.ext == WEB_EXT_HTTP);
    CHECK(web_path_parse("guest/default/a.json.json", &p) == WEB_PATH_OK && !strcmp(p.name, "a.json"));
    /* hostile */
    CHECK(web_path_parse(NULL, &p) == WEB_PATH_SHORT);
    CHECK(web_path_parse("", &p) == WEB_PATH_SHORT);
    CHECK(web_path_parse("guest", &p) == WEB_PATH_SHORT);
    CHECK(web_path_parse("guest/default", &p) == WEB_PATH_SHORT);
    CHECK(web_path_parse("guest/default/", &p) == WEB_PATH_SHORT);
    CHECK(web_path_parse("guest/default/.json", &p) == WEB_PATH_BAD_NAME);
    CHECK(web_path_parse("guest/default/-x", &p) == WEB_PATH_BAD_NAME);
    CHECK(web_path_parse("-g/default/x", &p) == WEB_PATH_BAD_NAMESPACE);
    CHECK(web_path_parse("guest/p%kg/x", &p) == WEB_PATH_BAD_PACKAGE);
    CHECK(web_path_parse("guest/default/a\nb", &p) == WEB_PATH_BAD_NAME);
    char long_name[600];
    memset(long_name, 'a', sizeof long_name);
    memcpy(long_name, "guest/default/", 14);
    long_name[sizeof long_name - 1] = '\0';
    CHECK(web_path_parse(long_name, &p) == WEB_PATH_BAD_NAME);
    CHECK(strlen(web_path_result_name(WEB_PATH_SHORT)) > 0);
    /* the route keeps the web path whole */
    route r;
    CHECK(route_match("/api/v1/web/guest/default/x.json//a", &r) == ROUTE_WEB);
    CHECK_STR(r.name, "guest/default/x.json//a");
    CHECK(route_match("/apigw/guest/b/c", &r) == ROUTE_APIGW);
    CHECK_STR(r.name, "guest/b/c");
    CHECK(route_match("/api/v1/webx", &r) == ROUTE_NONE);
}

static json_t *params_of(web_request *q, const char *action_params, int final, web_params_result *res) {
    json_t *ap = json_loads(action_params ? action_params : "{}", 0, NULL);
    json_t *out = NULL;
    *res = web_params_build(q, ap, final, &out);
    json_decref(ap);
    return out;
}

static void test_web_params(void) {
    json_t *headers = json_pack("{ss}", "x-a", "1");
    json_t *query = json_pack("{ss ss}", "q", "1", "b", "query");
    web_request q = {.method = "POST", .headers = headers, .query = query, .query_raw = "q=1&b=query",
                     .content_type = "application/json; charset=utf-8", .body = "{\"b\":\"body\",\"n\":2}",
                     .path = "/x"};
    q.body_len = strlen(q.body);
    web_params_result res;
    json_t *p = params_of(&q, NULL, 0, &res);
    CHECK(res == WEB_PARAMS_OK);
    CHECK_STR(json_get_str(p, "q", NULL), "1");
    CHECK_STR(json_get_str(p, "b", NULL), "body");
    CHECK(json_get_int(p, "n", 0) == 2);
    CHECK_STR(json_get_str(p, "__ow_method", NULL), "post");
    CHECK_STR(json_get_str(p, "__ow_path", NULL), "/x");
    CHECK_STR(json_get_str(json_object_get(p, "__ow_headers"), "x-a", NULL), "1");
    CHECK(json_object_get(p, "__ow_user") == NULL);
    json_decref(p);

    /* final: the action's parameters cannot be named; others can */
    p = params_of(&q, "{\"b\": 1}", 1, &res);
    CHECK(res == WEB_PARAMS_FINAL && p == NULL);
    p = params_of(&q, "{\"zz\": 1}", 1, &res);
    CHECK(res == WEB_PARAMS_OK);
    json_decref(p);

    /* reserved names, from the query or the body */
    json_t *bad = json_pack("{ss}", "__ow_user", "admin");
    web_request qb = q;
    qb.query = bad;
    p = params_of(&qb, NULL, 0, &res);
    CHECK(res == WEB_PARAMS_RESERVED && !p);
    json_decref(bad);
    qb = q;
    qb.body = "{\"__ow_headers\":{}}";
    qb.body_len = strlen(qb.body);
    p = params_of(&qb, NULL, 0, &res);
    CHECK(res == WEB_PARAMS_RESERVED);

    /* bodies: bad JSON, JSON that is not an object, form, text, binary */
    qb.body = "{\"a\":";
    qb.body_len = strlen(qb.body);
    p = params_of(&qb, NULL, 0, &res);
    CHECK(res == WEB_PARAMS_BAD_JSON && !p);
    char deep[2 * 1100 + 1];
    memset(deep, '[', 1100);
    memset(deep + 1100, ']', 1100);
    deep[2200] = '\0';
    qb.body = deep;
    qb.body_len = 2200;
    p = params_of(&qb, NULL, 0, &res);
    CHECK(res == WEB_PARAMS_TOO_DEEP && !p);
    qb.body = "[1,2]";
    qb.body_len = 5;
    p = params_of(&qb, NULL, 0, &res);
    CHECK(res == WEB_PARAMS_OK && json_array_size(json_object_get(p, "__ow_body")) == 2);
    json_decref(p);
    qb.content_type = "application/x-www-form-urlencoded";
    qb.body = "a=x+y&b=%41%42&c&=e";
    qb.body_len = strlen(qb.body);
    p = params_of(&qb, NULL, 0, &res);
    CHECK(res == WEB_PARAMS_OK);
    CHECK_STR(json_get_str(p, "a", NULL), "x y");
    CHECK_STR(json_get_str(p, "b", NULL), "AB");
    CHECK_STR(json_get_str(p, "c", NULL), "");
    json_decref(p);
    const char *bad_forms[] = {"a=%", "a=%4", "a=%zz", "a=%ff", "%00=%"};
    for (size_t i = 0; i < sizeof bad_forms / sizeof *bad_forms; i++) {
        qb.body = bad_forms[i];
        qb.body_len = strlen(qb.body);
        p = params_of(&qb, NULL, 0, &res);
        CHECK(res == WEB_PARAMS_BAD_FORM && !p);
    }
    qb.content_type = "text/plain";
    qb.body = "hello";
    qb.body_len = 5;
    p = params_of(&qb, NULL, 0, &res);
    CHECK_STR(json_get_str(p, "__ow_body", NULL), "hello");
    json_decref(p);
    qb.content_type = NULL;
    qb.body = "\x00\x01\xff";
    qb.body_len = 3;
    p = params_of(&qb, NULL, 0, &res);
    CHECK_STR(json_get_str(p, "__ow_body", NULL), "AAH/");
    json_decref(p);
    qb.content_type = "text/plain"; /* text that is not UTF-8 is binary */
    p = params_of(&qb, NULL, 0, &res);
    CHECK_STR(json_get_str(p, "__ow_body", NULL), "AAH/");
    json_decref(p);

    /* raw-http: nothing parsed or merged */
    qb = q;
    qb.raw = 1;
    qb.user = "guest";
    p = params_of(&qb, NULL, 0, &res);
    CHECK(res == WEB_PARAMS_OK);
    CHECK_STR(json_get_str(p, "__ow_body", NULL), "{\"b\":\"body\",\"n\":2}");
    CHECK_STR(json_get_str(p, "__ow_query", NULL), "q=1&b=query");
    CHECK_STR(json_get_str(p, "__ow_user", NULL), "guest");
    CHECK(json_object_get(p, "q") == NULL && json_object_get(p, "n") == NULL);
    json_decref(p);
    json_decref(headers);
    json_decref(query);
    CHECK(web_content_is_text("application/vnd.api+json"));
    CHECK(web_content_is_text("TEXT/CSV; charset=x"));
    CHECK(!web_content_is_text("image/png"));
    CHECK(!web_content_is_text(NULL));
}

static web_result answer(const char *result, web_ext ext, const char *path, web_answer *a) {
    json_t *v = json_loads(result, JSON_DECODE_ANY, NULL);
    web_result r = web_response_build(v, ext, path, a);
    json_decref(v);
    return r;
}

static void test_web_response(void) {
    web_answer a;
    CHECK(answer("{\"statusCode\":201,\"headers\":{\"X-A\":[1,true],\"Content-Type\":\"image/png\"},"
                 "\"body\":\"iVBO\\nRw==\"}",
                 WEB_EXT_HTTP, "", &a) == WEB_RESULT_OK);
    CHECK(a.status == 201);
    CHECK_STR(a.content_type, "image/png");
    CHECK(a.len == 4 && !memcmp(a.body, "\x89PNG", 4));
    CHECK(json_array_size(a.headers) == 2);
    web_answer_free(&a);
    CHECK(answer("{}", WEB_EXT_HTTP, "", &a) == WEB_RESULT_OK && a.status == 204 && a.len == 0);
    web_answer_free(&a);
    CHECK(answer("{\"body\":{\"k\":1}}", WEB_EXT_HTTP, "", &a) == WEB_RESULT_OK);
    CHECK_STR(a.content_type, "application/json");
    CHECK(a.len == 7 && !memcmp(a.body, "{\"k\":1}", 7));
    web_answer_free(&a);
    CHECK(answer("{\"body\":\"<b>\"}", WEB_EXT_HTTP, "", &a) == WEB_RESULT_OK);
    CHECK_STR(a.content_type, "text/html");
    web_answer_free(&a);
    CHECK(answer("{\"headers\":{\"Content-Length\":\"99\",\"Connection\":\"close\"},\"body\":\"x\"}", WEB_EXT_HTTP, "",
                 &a) == WEB_RESULT_OK);
    CHECK(json_array_size(a.headers) == 0); /* the server's own headers are not the action's to set */
    web_answer_free(&a);
    /* hostile results */
    const char *bad[] = {
        "[1]", "\"x\"",
        "{\"statusCode\":99}", "{\"statusCode\":600}", "{\"statusCode\":\"200\"}", "{\"statusCode\":1.5}",
        "{\"headers\":[]}", "{\"headers\":{\"a b\":\"x\"}}", "{\"headers\":{\"\":\"x\"}}",
        "{\"headers\":{\"x\":\"a\\r\\nb: c\"}}", "{\"headers\":{\"x\":\"a\\u0000b\"}}", "{\"headers\":{\"x\":{}}}",
        "{\"headers\":{\"x\":[[1]]}}",
        "{\"headers\":{\"content-type\":\"application/octet-stream\"},\"body\":\"***\"}",
        "{\"headers\":{\"content-type\":\"image/png\"},\"body\":\"ab=c\"}",
        "{\"headers\":{\"content-type\":\"image/png\"},\"body\":\"abc\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        web_result r = answer(bad[i], WEB_EXT_HTTP, "", &a);
        if (r == WEB_RESULT_OK) fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(r != WEB_RESULT_OK && a.body == NULL && a.headers == NULL);
    }
    /* projections */
    const char *res = "{\"html\":\"<p/>\",\"text\":\"t\",\"svg\":\"<svg/>\",\"d\":{\"a\":[0,{\"b\":\"c\"}]}}";
    CHECK(answer(res, WEB_EXT_HTML, "", &a) == WEB_RESULT_OK && a.len == 4);
    CHECK(!strncmp(a.content_type, "text/html", 9));
    web_answer_free(&a);
    CHECK(answer(res, WEB_EXT_TEXT, "", &a) == WEB_RESULT_OK && a.len == 1);
    web_answer_free(&a);
    CHECK(answer(res, WEB_EXT_SVG, "", &a) == WEB_RESULT_OK);
    CHECK_STR(a.content_type, "image/svg+xml");
    web_answer_free(&a);
    CHECK(answer(res, WEB_EXT_JSON, "/d/a/1/b", &a) == WEB_RESULT_OK && a.len == 3);
    web_answer_free(&a);
    CHECK(answer(res, WEB_EXT_TEXT, "/d/a/1/b", &a) == WEB_RESULT_OK && a.len == 1);
    web_answer_free(&a);
    CHECK(answer(res, WEB_EXT_JSON, "/d/a/9", &a) == WEB_RESULT_NO_PROPERTY);
    CHECK(answer(res, WEB_EXT_JSON, "/d/a/-1", &a) == WEB_RESULT_NO_PROPERTY);
    CHECK(answer(res, WEB_EXT_JSON, "/d/a/1x", &a) == WEB_RESULT_NO_PROPERTY);
    CHECK(answer(res, WEB_EXT_JSON, "/html/x", &a) == WEB_RESULT_NO_PROPERTY);
    CHECK(answer(res, WEB_EXT_HTML, "/d", &a) == WEB_RESULT_BAD_MEDIA);
    CHECK(answer("{}", WEB_EXT_HTML, "", &a) == WEB_RESULT_NO_PROPERTY);
    CHECK(strstr(web_result_name(WEB_RESULT_NO_PROPERTY), "property") != NULL);
}

/* The result {"headers": {...}} whose n headers x-<i> have values of len
 * bytes each (a JSON text, malloc'd). */
static web_result headers_of(size_t n, size_t len, web_answer *a) {
    json_t *h = json_object();
    char *value = malloc(len + 1);
    memset(value, 'v', len);
    value[len] = '\0';
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "x-%05zu", i);
        json_object_set_new(h, name, json_string(value));
    }
    free(value);
    json_t *v = json_pack("{so ss}", "headers", h, "body", "x");
    web_result r = web_response_build(v, WEB_EXT_HTTP, "", a);
    json_decref(v);
    return r;
}

/* WEB_MAX_HEADER_BYTES: each header counts "x-00000: " value CRLF (11
 * bytes and its value); at the limit the answer is built, one byte past
 * it (by one large value or by many small headers) it is not. */
static void test_web_header_limit(void) {
    web_answer a;
    size_t each = WEB_MAX_HEADER_BYTES / 16 - 11; /* 16 headers fill it exactly */
    CHECK(headers_of(16, each, &a) == WEB_RESULT_OK && json_array_size(a.headers) == 16);
    web_answer_free(&a);
    CHECK(headers_of(16, each + 1, &a) == WEB_RESULT_HEADERS_TOO_LARGE && a.headers == NULL);
    CHECK(headers_of(1, WEB_MAX_HEADER_BYTES - 11, &a) == WEB_RESULT_OK);
    web_answer_free(&a);
    CHECK(headers_of(1, WEB_MAX_HEADER_BYTES - 10, &a) == WEB_RESULT_HEADERS_TOO_LARGE);
    CHECK(headers_of(1, 1 << 20, &a) == WEB_RESULT_HEADERS_TOO_LARGE); /* one huge header */
    CHECK(headers_of(WEB_MAX_HEADER_BYTES / 12 + 1, 1, &a) == WEB_RESULT_HEADERS_TOO_LARGE); /* many small ones */
    /* array values count each element; dropped (hop-by-hop) headers count too */
    CHECK(answer("{\"headers\":{\"x\":[\"a\",\"b\"]}}", WEB_EXT_HTTP, "", &a) == WEB_RESULT_OK &&
          json_array_size(a.headers) == 2);
    web_answer_free(&a);
    char *big = malloc(WEB_MAX_HEADER_BYTES + 64);
    snprintf(big, WEB_MAX_HEADER_BYTES + 64, "{\"headers\":{\"connection\":\"%0*d\"}}", WEB_MAX_HEADER_BYTES, 0);
    CHECK(answer(big, WEB_EXT_HTTP, "", &a) == WEB_RESULT_HEADERS_TOO_LARGE);
    free(big);
    CHECK(strstr(web_result_name(WEB_RESULT_HEADERS_TOO_LARGE), "16384 bytes") != NULL);
    /* a line break is still refused as invalid, whatever its size */
    CHECK(answer("{\"headers\":{\"x\":\"a\\nb\"}}", WEB_EXT_HTTP, "", &a) == WEB_RESULT_BAD_HEADERS);
    CHECK(answer("{\"headers\":{\"x\\r\\ny\":\"a\"}}", WEB_EXT_HTTP, "", &a) == WEB_RESULT_BAD_HEADERS);
}

static void test_api_route(void) {
    char b[API_BASEPATH_MAX + 1], r[API_RELPATH_MAX + 1], v[8];
    web_ext e;
    CHECK(api_route_check("/api/", "/books/{id}/", "get", NULL, b, r, v, &e) == API_ROUTE_OK);
    CHECK_STR(b, "/api");
    CHECK_STR(r, "/books/{id}");
    CHECK_STR(v, "GET");
    CHECK(e == WEB_EXT_JSON);
    CHECK(api_route_check("/", "/", "POST", "http", b, r, v, &e) == API_ROUTE_OK && e == WEB_EXT_HTTP);
    CHECK_STR(b, "/");
    CHECK(api_route_check("/v1.2", "/.well-known/...x", "GET", NULL, b, r, v, &e) == API_ROUTE_OK);
    const struct { const char *b, *r, *v, *t; api_route_result want; } bad[] = {
        {"api", "/x", "GET", NULL, API_ROUTE_BAD_BASEPATH},
        {"/a//b", "/x", "GET", NULL, API_ROUTE_BAD_BASEPATH},
        {"/{p}", "/x", "GET", NULL, API_ROUTE_BAD_BASEPATH},
        {"/a b", "/x", "GET", NULL, API_ROUTE_BAD_BASEPATH},
        {"/a", "x", "GET", NULL, API_ROUTE_BAD_RELPATH},
        {"/a", "/{}", "GET", NULL, API_ROUTE_BAD_RELPATH},
        {"/a", "/{a}/{a}", "GET", NULL, API_ROUTE_BAD_RELPATH},
        {"/a", "/{a-b}", "GET", NULL, API_ROUTE_BAD_RELPATH},
        {"/a", "/x{a}", "GET", NULL, API_ROUTE_BAD_RELPATH},
        {"/a", "/%2e%2e", "GET", NULL, API_ROUTE_BAD_RELPATH},
        {"/a/../b", "/x", "GET", NULL, API_ROUTE_BAD_BASEPATH},
        {"/.", "/x", "GET", NULL, API_ROUTE_BAD_BASEPATH},
        {"/a", "/x/..", "GET", NULL, API_ROUTE_BAD_RELPATH},
        {"/a", NULL, "GET", NULL, API_ROUTE_BAD_RELPATH},
        {"/a", "/x", "TRACE", NULL, API_ROUTE_BAD_VERB},
        {"/a", "/x", "GETGETGET", NULL, API_ROUTE_BAD_VERB},
        {"/a", "/x", "", NULL, API_ROUTE_BAD_VERB},
        {"/a", "/x", "GET", "xml", API_ROUTE_BAD_TYPE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(api_route_check(bad[i].b, bad[i].r, bad[i].v, bad[i].t, b, r, v, &e) == bad[i].want);
    char deep[200] = "";
    for (int i = 0; i < 40; i++) strcat(deep, "/a");
    CHECK(api_route_check("/b", deep, "GET", NULL, b, r, v, &e) == API_ROUTE_BAD_RELPATH);

    json_t *params = json_object();
    CHECK(api_route_match("/api", "/books/{id}", "/api/books/42", params));
    CHECK_STR(json_get_str(params, "id", NULL), "42");
    CHECK(api_route_match("/api", "/books/{id}", "/api/books/42/", NULL));
    CHECK(!api_route_match("/api", "/books/{id}", "/api/books", NULL));
    CHECK(!api_route_match("/api", "/books/{id}", "/api/books/1/2", NULL));
    CHECK(!api_route_match("/api", "/books/{id}", "/apix/books/1", NULL));
    CHECK(api_route_match("/", "/", "/", NULL));
    CHECK(api_route_match("/", "/x", "/x", NULL));
    CHECK(!api_route_match("/api", "/{id}", "/api/\xff", params));
    json_decref(params);
}

static void test_fqn(void) {
    action_fqn f;
    CHECK(action_fqn_parse("a", "guest", &f) == ACTION_FQN_OK && !strcmp(f.ns, "guest") && !strcmp(f.name, "a"));
    CHECK(action_fqn_parse("p/a", "guest", &f) == ACTION_FQN_OK && !strcmp(f.pkg, "p"));
    CHECK(action_fqn_parse("/_/a", "guest", &f) == ACTION_FQN_OK && !strcmp(f.ns, "guest"));
    CHECK(action_fqn_parse("/other/p/a", "guest", &f) == ACTION_FQN_OK && !strcmp(f.ns, "other"));
    CHECK(action_fqn_parse("", "guest", &f) == ACTION_FQN_EMPTY);
    CHECK(action_fqn_parse("/", "guest", &f) == ACTION_FQN_EMPTY);
    CHECK(action_fqn_parse("//a", "guest", &f) == ACTION_FQN_EMPTY);
    CHECK(action_fqn_parse("a/", "guest", &f) == ACTION_FQN_EMPTY);
    CHECK(action_fqn_parse("/ns", "guest", &f) == ACTION_FQN_SHAPE);
    CHECK(action_fqn_parse("a/b/c", "guest", &f) == ACTION_FQN_SHAPE);
    CHECK(action_fqn_parse("/a/b/c/d", "guest", &f) == ACTION_FQN_SHAPE);
    CHECK(action_fqn_parse("/-x/a", "guest", &f) == ACTION_FQN_BAD_NAMESPACE);
    CHECK(action_fqn_parse("/x/-p/a", "guest", &f) == ACTION_FQN_BAD_PACKAGE);
    CHECK(action_fqn_parse("/x/a\n", "guest", &f) == ACTION_FQN_BAD_NAME);
    CHECK(strlen(action_fqn_name(ACTION_FQN_SHAPE)) > 0);
}

int main(void) {
    test_web_path();
    test_web_params();
    test_web_response();
    test_web_header_limit();
    test_api_route();
    test_fqn();
    return CHECK_DONE();
}
