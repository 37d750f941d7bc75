/* test_gateway_action_doc.c - action PUT validation: entity names, kinds,
 * limits and their bounds, the isolation annotation, and the stored document's shape, plus the
 * shared util/json helpers it is built on. */
#include "check.h"

#include "host/gateway/action_doc.h"
#include "host/util/json.h"

#include <stdlib.h>
#include <string.h>

static json_t *parse(const char *text) {
    json_error_t e;
    json_t *v = json_loads(text, JSON_ALLOW_NUL, &e); /* as the gateway parses bodies */
    if (!v) fprintf(stderr, "bad test json: %s\n", e.text);
    return v;
}

/* Builds from text; returns the doc (or NULL) and the error in err. */
static json_t *build(const char *text, const json_t *old, char *err, size_t n) {
    json_t *body = parse(text);
    err[0] = '\0';
    json_t *doc = action_doc_build(body, old, err, n);
    json_decref(body);
    return doc;
}

static void test_names(void) {
    CHECK(action_name_valid("hello"));
    CHECK(action_name_valid("_x"));
    CHECK(action_name_valid("a b.c-d@e_1"));
    CHECK(action_name_valid("9lives"));
    CHECK(!action_name_valid(""));
    CHECK(!action_name_valid(NULL));
    CHECK(!action_name_valid(" a"));
    CHECK(!action_name_valid("a "));
    CHECK(!action_name_valid("-a"));
    CHECK(!action_name_valid("@a"));
    CHECK(!action_name_valid(".a"));
    CHECK(!action_name_valid("a/b"));
    CHECK(!action_name_valid("a\nb"));
    CHECK(!action_name_valid("caf\xc3\xa9"));
    char n[300];
    memset(n, 'a', sizeof n);
    n[256] = '\0';
    CHECK(action_name_valid(n));
    n[256] = 'a';
    n[257] = '\0';
    CHECK(!action_name_valid(n));
}

static void test_kinds(void) {
    CHECK(action_kind_supported("js:duktape"));
    CHECK(action_kind_supported("nodejs:default"));
    CHECK(action_kind_supported("nodejs:20"));
    CHECK(!action_kind_supported("nodejs:"));
    CHECK(!action_kind_supported("nodejs"));
    CHECK(!action_kind_supported("python:3"));
    CHECK(!action_kind_supported("sequence"));
    CHECK(!action_kind_supported("blackbox"));
    CHECK(!action_kind_supported("js:v9"));
    CHECK(!action_kind_supported("nodejs:20/../x"));
    CHECK(!action_kind_supported(NULL));
}

static void test_build(void) {
    char err[512];
    json_t *doc = build("{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){return {}}\"}}", NULL, err,
                        sizeof err);
    CHECK(doc != NULL);
    const json_t *exec = json_object_get(doc, "exec");
    CHECK_STR(json_get_str(exec, "kind", NULL), "nodejs:20");
    CHECK_STR(json_get_str(exec, "code", NULL), "function main(){return {}}");
    CHECK(json_is_false(json_object_get(exec, "binary")));
    CHECK(json_object_get(exec, "main") == NULL);
    const json_t *lim = json_object_get(doc, "limits");
    CHECK(json_get_int(lim, "timeout", 0) == 60000);
    CHECK(json_get_int(lim, "memory", 0) == 256);
    CHECK(json_get_int(lim, "logs", 0) == 10);
    CHECK(json_get_int(lim, "concurrency", 0) == 1);
    CHECK(json_array_size(json_object_get(doc, "parameters")) == 0);
    CHECK_STR(json_string_value(json_kv_find(json_object_get(doc, "annotations"), "exec")), "nodejs:20");
    json_decref(doc);

    /* parameters, annotations, main and limits carried through */
    doc = build("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\",\"main\":\"go\"},"
                "\"parameters\":[{\"key\":\"a\",\"value\":1}],"
                "\"annotations\":[{\"key\":\"web\",\"value\":true},{\"key\":\"exec\",\"value\":\"old\"}],"
                "\"limits\":{\"timeout\":100,\"memory\":512,\"logs\":0,\"concurrency\":500}}",
                NULL, err, sizeof err);
    CHECK(doc != NULL);
    CHECK_STR(json_get_str(json_object_get(doc, "exec"), "main", NULL), "go");
    CHECK(json_integer_value(json_kv_find(json_object_get(doc, "parameters"), "a")) == 1);
    json_t *ann = json_object_get(doc, "annotations");
    CHECK(json_array_size(ann) == 2); /* the exec entry is replaced, not duplicated */
    CHECK_STR(json_string_value(json_kv_find(ann, "exec")), "js:duktape");
    CHECK(json_is_true(json_kv_find(ann, "web")));
    action_limits l;
    action_limits_get(doc, &l);
    CHECK(l.timeout_ms == 100 && l.memory_mb == 512 && l.logs_mb == 0 && l.concurrency == 500);

    /* update: missing members kept from the old document, limits per field */
    json_t *upd = build("{\"parameters\":[{\"key\":\"b\",\"value\":2}],\"limits\":{\"timeout\":5000}}", doc, err,
                        sizeof err);
    CHECK(upd != NULL);
    CHECK_STR(json_get_str(json_object_get(upd, "exec"), "code", NULL), "x");
    CHECK(json_kv_find(json_object_get(upd, "parameters"), "a") == NULL);
    CHECK(json_integer_value(json_kv_find(json_object_get(upd, "parameters"), "b")) == 2);
    action_limits_get(upd, &l);
    CHECK(l.timeout_ms == 5000 && l.memory_mb == 512 && l.concurrency == 500);
    json_decref(upd);
    json_decref(doc);
}

/* nodejs:default is stored as the concrete kind; base64 code without
 * exec.binary is a zip (OpenWhisk's rule); sequences keep their components. */
static void test_resolution(void) {
    char err[512];
    /* an empty zip archive: its end record only */
    json_t *doc = build("{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\"}}",
                        NULL, err, sizeof err);
    CHECK(doc != NULL);
    CHECK_STR(json_get_str(json_object_get(doc, "exec"), "kind", NULL), ACTION_NODEJS_DEFAULT);
    CHECK_STR(json_string_value(json_kv_find(json_object_get(doc, "annotations"), "exec")), ACTION_NODEJS_DEFAULT);
    CHECK(action_is_binary(doc));
    json_decref(doc);
    /* a zip that does not unzip, and a zip of a Duktape kind: refused when created */
    CHECK(build("{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"UEsDBBQAAAAIAA==\"}}", NULL, err, sizeof err) == NULL);
    CHECK_STR(err, "The zip archive of the action is refused: it is not a zip archive that can be read");
    CHECK(build("{\"exec\":{\"kind\":\"js:v8\",\"binary\":true,\"code\":\"not base64\"}}", NULL, err, sizeof err) ==
          NULL);
    CHECK_STR(err, "exec.code of a binary action must be a zip archive in base64");
    CHECK(build("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\"}}", NULL, err,
                sizeof err) == NULL);
    CHECK_STR(err, "A zip action runs on the V8 kinds (nodejs:*, js:v8), not on 'js:duktape'");
    doc = build("{\"exec\":{\"kind\":\"js:v8\",\"code\":\"function main(){}\"}}", NULL, err, sizeof err);
    CHECK(doc && !action_is_binary(doc) && !action_is_sequence(doc));
    json_decref(doc);
    doc = build("{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/guest/a\",\"b\"]}}", NULL, err, sizeof err);
    CHECK(doc && action_is_sequence(doc) && !action_is_binary(doc));
    CHECK(json_array_size(json_object_get(json_object_get(doc, "exec"), "components")) == 2);
    CHECK_STR(json_string_value(json_kv_find(json_object_get(doc, "annotations"), "exec")), "sequence");
    json_decref(doc);

    CHECK(action_code_is_binary("UEsDBA==", 8));
    CHECK(action_code_is_binary(" \nUEsD\n", 7));
    CHECK(action_code_is_binary("abcd", 4)); /* OpenWhisk's rule, however odd */
    CHECK(!action_code_is_binary("UEsDBA=", 7));
    CHECK(!action_code_is_binary("UE=DBA==", 8));
    CHECK(!action_code_is_binary("====", 4));
    CHECK(!action_code_is_binary("function main(){}", 17));
    CHECK(!action_code_is_binary("    ", 4));
    CHECK(!action_code_is_binary("", 0));
    CHECK(!action_code_is_binary(NULL, 0));
}

static void expect_error(const char *text, const char *needle) {
    char err[512];
    json_t *doc = build(text, NULL, err, sizeof err);
    CHECK(doc == NULL);
    if (!strstr(err, needle)) {
        fprintf(stderr, "error for %s was \"%s\", expected to mention \"%s\"\n", text, err, needle);
        CHECK(0);
    }
    json_decref(doc);
}

static void test_errors(void) {
    expect_error("[]", "JSON object");
    expect_error("{}", "exec");
    expect_error("{\"exec\":\"x\"}", "exec");
    expect_error("{\"exec\":{\"code\":\"x\"}}", "exec.kind");
    expect_error("{\"exec\":{\"kind\":\"python:3\",\"code\":\"x\"}}", "python:3");
    expect_error("{\"exec\":{\"kind\":\"sequence\",\"components\":[]}}", "sequence");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\"}}", "exec.code");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":5}}", "exec.code");
    expect_error("{\"exec\":{\"kind\":\"sequence\",\"components\":[5]}}", "components[0]");
    expect_error("{\"exec\":{\"kind\":\"sequence\"}}", "components");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\",\"binary\":1}}", "binary");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\",\"main\":\"\"}}", "exec.main");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\\u0000x\",\"code\":\"x\"}}", "not supported");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\",\"main\":\"m\\u0000x\"}}", "exec.main");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":{\"timeout\":99}}", "timeout");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":{\"timeout\":300001}}", "timeout");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":{\"memory\":127}}", "memory");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":{\"memory\":513}}", "memory");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":{\"logs\":11}}", "logs");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":{\"logs\":-1}}", "logs");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":{\"concurrency\":0}}", "concurrency");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":{\"concurrency\":501}}", "concurrency");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":{\"timeout\":\"1000\"}}", "timeout");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":{\"timeout\":1.5}}", "timeout");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"limits\":7}", "limits");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"parameters\":{\"a\":1}}", "parameters");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"parameters\":[{\"value\":1}]}", "parameters");
    expect_error("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"annotations\":[1]}", "annotations");
#define ISO_BODY(v) "{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"x\"},\"annotations\":[" v "]}"
    expect_error(ISO_BODY("{\"key\":\"tfaas-isolation\",\"value\":\"per-function\"}"), "enclave-per-function, ");
    expect_error(ISO_BODY("{\"key\":\"tfaas-isolation\",\"value\":3}"), "tfaas-isolation");
    expect_error(ISO_BODY("{\"key\":\"tfaas-isolation\",\"value\":\"shared-enclave\\u0000x\"}"), "must be one of");
    expect_error(ISO_BODY("{\"key\":\"tfaas-isolation\",\"value\":\"shared-enclave\"},"
                          "{\"key\":\"tfaas-isolation\",\"value\":\"enclave-per-function\"}"), "only once");
}

static void test_isolation_annotation(void) {
    char err[512];
    isolation_mode m = ISOLATION_FUNCTION;
    CHECK(action_isolation_request(NULL, &m, err, sizeof err) == 0 && m == ISOLATION_UNSET);
    json_t *doc = build(ISO_BODY("{\"key\":\"x\",\"value\":1},{\"key\":\"tfaas-isolation\",\"value\":\"enclave-per-function\"}"),
                        NULL, err, sizeof err);
    CHECK(doc != NULL);
    CHECK(action_isolation_request(json_object_get(doc, "annotations"), &m, err, sizeof err) == 0 &&
          m == ISOLATION_FUNCTION);
    /* an update that leaves the annotations out keeps the request */
    json_t *upd = build("{\"exec\":{\"kind\":\"js:duktape\",\"code\":\"y\"}}", doc, err, sizeof err);
    CHECK(upd && action_isolation_request(json_object_get(upd, "annotations"), &m, err, sizeof err) == 0 &&
          m == ISOLATION_FUNCTION);
    json_decref(upd);
    json_decref(doc);
}

static void test_json_helpers(void) {
    json_t *o = parse("{\"s\":\"v\",\"i\":7,\"b\":true,\"n\":null}");
    CHECK_STR(json_get_str(o, "s", "d"), "v");
    CHECK_STR(json_get_str(o, "i", "d"), "d");
    CHECK(json_get_int(o, "i", -1) == 7);
    CHECK(json_get_int(o, "s", -1) == -1);
    CHECK(json_get_bool(o, "b", 0) == 1);
    CHECK(json_get_bool(o, "n", 0) == 0);
    CHECK(json_get_int(NULL, "i", 3) == 3);
    json_decref(o);

    json_t *list = json_array();
    CHECK(json_kv_set(list, "a", json_integer(1)) == 0);
    CHECK(json_kv_set(list, "b", json_string("x")) == 0);
    CHECK(json_kv_set(list, "a", json_integer(2)) == 0);
    CHECK(json_array_size(list) == 2);
    CHECK(json_integer_value(json_kv_find(list, "a")) == 2);
    CHECK(json_kv_find(list, "zz") == NULL);
    CHECK(json_kv_set(NULL, "a", json_integer(1)) < 0);
    json_t *obj = json_kv_to_object(list);
    char *text = json_dump_compact(obj);
    CHECK_STR(text, "{\"a\":2,\"b\":\"x\"}");
    free(text);
    json_decref(obj);
    json_decref(list);
}

int main(void) {
    test_names();
    test_kinds();
    test_build();
    test_errors();
    test_resolution();
    test_isolation_annotation();
    test_json_helpers();
    return CHECK_DONE();
}
