/* test_runtime_proto.c - the OpenWhisk action-runtime protocol's pure part
 * (ow_proto.h): which /init and /run bodies are accepted, the activation
 * context that becomes process.env, the wrapper's text and the streams of
 * log lines. */
#include "check.h"

#include "host/runtime/ow_proto.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static ow_status init_status(const char *body) {
    ow_init in;
    ow_status st = ow_init_parse(body, strlen(body), &in, NULL, 0);
    if (st == OW_OK) ow_init_clear(&in);
    return st;
}

static void test_init(void) {
    ow_init in;
    const char *ok = "{\"value\": {\"name\": \"/ns/hello\", \"main\": \"niam\", \"code\": \"function niam(){}\","
                     " \"binary\": false, \"env\": {\"A\": \"x\", \"N\": 3, \"O\": {\"k\": [1]}, \"Z\": null}}}";
    CHECK(ow_init_parse(ok, strlen(ok), &in, NULL, 0) == OW_OK);
    CHECK_STR(in.name, "/ns/hello");
    CHECK_STR(in.main, "niam");
    CHECK_STR(in.code, "function niam(){}");
    CHECK(in.code_len == strlen("function niam(){}"));
    CHECK_STR(json_string_value(json_object_get(in.env, "A")), "x");
    CHECK_STR(json_string_value(json_object_get(in.env, "N")), "3");
    CHECK_STR(json_string_value(json_object_get(in.env, "O")), "{\"k\":[1]}");
    CHECK_STR(json_string_value(json_object_get(in.env, "Z")), "");
    ow_init_clear(&in);

    const char *dflt = "{\"value\": {\"code\": \"function main(){}\"}}";
    CHECK(ow_init_parse(dflt, strlen(dflt), &in, NULL, 0) == OW_OK);
    CHECK_STR(in.main, "main");
    CHECK(json_object_size(in.env) == 0);
    ow_init_clear(&in);

    char jerr[64];
    CHECK(ow_init_parse("{\"value\":", 9, &in, jerr, sizeof jerr) == OW_BAD_JSON && jerr[0]);
    CHECK(ow_init_parse("", 0, &in, jerr, sizeof jerr) == OW_BAD_JSON);
    CHECK(init_status("[1]") == OW_NOT_OBJECT);
    CHECK(init_status("{}") == OW_BAD_VALUE);
    CHECK(init_status("{\"value\": 1}") == OW_BAD_VALUE);
    CHECK(init_status("{\"value\": {}}") == OW_NO_CODE);
    CHECK(init_status("{\"value\": {\"code\": \"\"}}") == OW_NO_CODE);
    CHECK(init_status("{\"value\": {\"code\": 7}}") == OW_NO_CODE);
    /* a zip action: its code is taken as it is (the archive is checked by
     * ow_runtime.c); an env the enclave would not pass on is refused */
    const char *zip = "{\"value\": {\"code\": \"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\", \"binary\": true, \"main\": \"go\","
                      " \"env\": {\"__OW_X\": \"1\"}}}";
    CHECK(ow_init_parse(zip, strlen(zip), &in, NULL, 0) == OW_OK);
    CHECK(in.binary && !strcmp(in.main, "go") && in.code_len == 32);
    ow_init_clear(&in);
    CHECK(init_status("{\"value\": {\"code\": \"x\", \"binary\": false}}") == OW_OK);
    CHECK(init_status("{\"value\": {\"code\": \"x\", \"binary\": true, \"env\": {\"A\": \"1\"}}}") == OW_ZIP_ENV);
    CHECK(init_status("{\"value\": {\"code\": \"x\", \"env\": {\"A\": \"1\"}}}") == OW_OK);
    CHECK(init_status("{\"value\": {\"binary\": true}}") == OW_NO_CODE);
    CHECK(init_status("{\"value\": {\"code\": \"x\", \"main\": 1}}") == OW_BAD_MAIN);
    CHECK(init_status("{\"value\": {\"code\": \"x\", \"main\": \"\"}}") == OW_BAD_MAIN);
    CHECK(init_status("{\"value\": {\"code\": \"x\", \"main\": \"1a\"}}") == OW_BAD_MAIN);
    /* a name that would break out of the wrapper's text */
    CHECK(init_status("{\"value\": {\"code\": \"x\", \"main\": \"a']);evil();//\"}}") == OW_BAD_MAIN);
    CHECK(init_status("{\"value\": {\"code\": \"x\", \"main\": \"$_ok9\"}}") == OW_OK);
    CHECK(init_status("{\"value\": {\"code\": \"x\", \"name\": 5}}") == OW_BAD_NAME);
    CHECK(init_status("{\"value\": {\"code\": \"x\", \"env\": []}}") == OW_BAD_ENV);
    char name[OW_MAX_MAIN + 2], body[OW_MAX_MAIN + 64];
    memset(name, 'm', sizeof name - 1);
    name[OW_MAX_MAIN] = '\0'; /* exactly the limit */
    snprintf(body, sizeof body, "{\"value\": {\"code\": \"x\", \"main\": \"%s\"}}", name);
    CHECK(init_status(body) == OW_OK);
    name[OW_MAX_MAIN] = 'm';
    name[OW_MAX_MAIN + 1] = '\0'; /* one character too long */
    snprintf(body, sizeof body, "{\"value\": {\"code\": \"x\", \"main\": \"%s\"}}", name);
    CHECK(init_status(body) == OW_BAD_MAIN);
    /* nesting beyond what the engines take */
    size_t depth = 1200, n = 0;
    char *deep = malloc(2 * depth + 64);
    n += (size_t)sprintf(deep, "{\"value\": {\"code\": \"x\", \"env\": {\"a\": ");
    for (size_t i = 0; i < depth; i++) deep[n++] = '[';
    for (size_t i = 0; i < depth; i++) deep[n++] = ']';
    n += (size_t)sprintf(deep + n, "}}}");
    CHECK(ow_init_parse(deep, n, &in, NULL, 0) == OW_BAD_JSON);
    free(deep);
    for (int s = OW_OK; s <= OW_BAD_DEADLINE; s++) CHECK(ow_status_name((ow_status)s)[0] || s == OW_OK);
}

static void test_wrap(void) {
    size_t len = 0;
    char *w = ow_proto_wrap("function main(p){return p}", 26, "main", &len);
    CHECK(w && len == strlen(w));
    CHECK(w && !strncmp(w, "function main(p){return p}\n", 27)); /* a trailing // comment cannot swallow it */
    CHECK(w && strstr(w, "typeof main === 'function' ? main : undefined"));
    CHECK(w && strstr(w, "Action entrypoint 'main' is not a function."));
    free(w);
}

static json_t *run(const char *body, const json_t *base, ow_status *st, int64_t *deadline, char id[33]) {
    char *params = NULL;
    *st = ow_run_params(body, strlen(body), base, &params, deadline, id, NULL, 0);
    json_t *v = params ? json_loads(params, 0, NULL) : NULL;
    free(params);
    return v;
}

static void test_run(void) {
    json_t *base = json_pack("{ss ss}", "__OW_API_HOST", "https://ow", "FROM_INIT", "1");
    ow_status st;
    int64_t dl;
    char id[33];
    json_t *p = run("{\"value\": {\"x\": 1}, \"namespace\": \"ns\", \"action_name\": \"/ns/a\", \"activation_id\": "
                    "\"0123abc\", \"deadline\": 1700000000000, \"api_key\": \"u:k\", \"transaction_id\": \"t\", "
                    "\"bad-key\": \"skipped\", \"obj\": {\"a\": 1}}",
                    base, &st, &dl, id);
    CHECK(st == OW_OK && p);
    json_t *env = json_object_get(p, "env");
    CHECK_STR(json_string_value(json_object_get(env, "__OW_NAMESPACE")), "ns");
    CHECK_STR(json_string_value(json_object_get(env, "__OW_ACTION_NAME")), "/ns/a");
    CHECK_STR(json_string_value(json_object_get(env, "__OW_ACTIVATION_ID")), "0123abc");
    CHECK_STR(json_string_value(json_object_get(env, "__OW_DEADLINE")), "1700000000000");
    CHECK_STR(json_string_value(json_object_get(env, "__OW_API_KEY")), "u:k");
    CHECK_STR(json_string_value(json_object_get(env, "__OW_TRANSACTION_ID")), "t");
    CHECK_STR(json_string_value(json_object_get(env, "__OW_OBJ")), "{\"a\":1}");
    CHECK_STR(json_string_value(json_object_get(env, "__OW_API_HOST")), "https://ow");
    CHECK_STR(json_string_value(json_object_get(env, "FROM_INIT")), "1");
    CHECK(!json_object_get(env, "__OW_VALUE") && !json_object_get(env, "__OW_BAD-KEY"));
    CHECK(json_integer_value(json_object_get(json_object_get(p, "value"), "x")) == 1);
    CHECK(dl == 1700000000000LL);
    CHECK_STR(id, "0123abc");
    CHECK(json_object_size(base) == 2); /* the base is not changed */
    json_decref(p);

    p = run("{}", base, &st, &dl, id); /* no value: {} */
    CHECK(st == OW_OK && json_is_object(json_object_get(p, "value")) && dl == 0 && id[0] == '\0');
    json_decref(p);
    p = run("{\"deadline\": \"1700000000001\", \"activation_id\": \"../etc\"}", base, &st, &dl, id);
    CHECK(st == OW_OK && dl == 1700000000001LL && id[0] == '\0');
    json_decref(p);
    CHECK(!run("{\"value\": [1]}", base, &st, &dl, id) && st == OW_BAD_VALUE);
    CHECK(!run("{\"value\": \"x\"}", base, &st, &dl, id) && st == OW_BAD_VALUE);
    CHECK(!run("{\"deadline\": -1}", base, &st, &dl, id) && st == OW_BAD_DEADLINE);
    CHECK(!run("{\"deadline\": \"12x\"}", base, &st, &dl, id) && st == OW_BAD_DEADLINE);
    CHECK(!run("{\"deadline\": 1.5}", base, &st, &dl, id) && st == OW_BAD_DEADLINE);
    CHECK(!run("not json", base, &st, &dl, id) && st == OW_BAD_JSON);
    CHECK(!run("\"str\"", base, &st, &dl, id) && st == OW_NOT_OBJECT);

    /* a zip action's run: the value alone, the environment in ACTION */
    char *zp = NULL, *za = NULL;
    const char *zrun = "{\"value\": {\"x\": 2}, \"activation_id\": \"abc\", \"namespace\": \"ns\"}";
    st = ow_run_zip(zrun, strlen(zrun), base, 1, &zp, &za, &dl, id, NULL, 0);
    json_t *zv = zp ? json_loads(zp, 0, NULL) : NULL, *zd = za ? json_loads(za, 0, NULL) : NULL;
    CHECK(st == OW_OK && json_integer_value(json_object_get(zv, "x")) == 2 && json_object_size(zv) == 1);
    CHECK(json_is_true(json_object_get(zd, "binary")) && json_is_true(json_object_get(zd, "node")));
    CHECK_STR(json_string_value(json_object_get(json_object_get(zd, "env"), "__OW_NAMESPACE")), "ns");
    CHECK_STR(json_string_value(json_object_get(json_object_get(zd, "env"), "__OW_API_HOST")), "https://ow");
    CHECK_STR(id, "abc");
    json_decref(zv);
    json_decref(zd);
    free(zp);
    free(za);
    CHECK(ow_run_zip("{\"value\": 1}", 12, base, 0, &zp, &za, &dl, id, NULL, 0) == OW_BAD_VALUE && !zp && !za);

    char *ip = ow_init_params(base);
    json_t *iv = ip ? json_loads(ip, 0, NULL) : NULL;
    CHECK(json_is_true(json_object_get(iv, "init")));
    CHECK_STR(json_string_value(json_object_get(json_object_get(iv, "env"), "FROM_INIT")), "1");
    json_decref(iv);
    free(ip);
    json_decref(base);
}

static void test_log_lines(void) {
    size_t off;
    const char *o = "2026-11-24T16:09:00.123Z stdout: hello";
    const char *e = "2026-11-24T16:09:00.123Z stderr: oops";
    CHECK(ow_log_line(o, strlen(o), 1, &off) == 0 && !strcmp(o + off, "hello"));
    CHECK(ow_log_line(e, strlen(e), 0, &off) == 1 && !strcmp(e + off, "oops"));
    /* a continuation (a message with a newline) stays on its stream, whole */
    CHECK(ow_log_line("second line", 11, 1, &off) == 1 && off == 0);
    CHECK(ow_log_line("second line", 11, 0, &off) == 0 && off == 0);
    CHECK(ow_log_line("", 0, 1, &off) == 1 && off == 0);
    /* a function cannot end its activation's logs early */
    CHECK(ow_log_forges_sentinel(OW_LOG_SENTINEL, strlen(OW_LOG_SENTINEL)));
    CHECK(ow_log_forges_sentinel("  " OW_LOG_SENTINEL "\t", strlen(OW_LOG_SENTINEL) + 3));
    CHECK(!ow_log_forges_sentinel("x" OW_LOG_SENTINEL, strlen(OW_LOG_SENTINEL) + 1));
    CHECK(!ow_log_forges_sentinel(OW_LOG_SENTINEL, strlen(OW_LOG_SENTINEL) - 1));
    CHECK(!ow_log_forges_sentinel("", 0));
}

int main(void) {
    test_init();
    test_wrap();
    test_run();
    test_log_lines();
    return CHECK_DONE();
}
