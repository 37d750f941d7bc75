/* test_cli_args.c - the client's argument parsing: options in any order,
 * wsk's JSON-or-string parameter values, -P files, limits, usage errors. */
#include "check.h"
#include "host/cli/cli_args.h"
#include "host/cli/cli_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ALL 0xffffffffu
#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

static char err[512];

static char *write_temp(const char *content, size_t len) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/tfaas-test-cli-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    if (write(fd, content, len) != (ssize_t)len) { close(fd); return NULL; }
    close(fd);
    return path;
}

static void test_param_values(void) {
    json_t *v = cli_param_value("42");
    CHECK(json_is_integer(v) && json_integer_value(v) == 42);
    json_decref(v);
    v = cli_param_value("true");
    CHECK(json_is_true(v));
    json_decref(v);
    v = cli_param_value("{\"a\": [1, 2]}");
    CHECK(json_is_object(v) && json_array_size(json_object_get(v, "a")) == 2);
    json_decref(v);
    v = cli_param_value("\"quoted\"");
    CHECK_STR(json_string_value(v), "quoted");
    json_decref(v);
    v = cli_param_value("hello world"); /* not JSON: a string */
    CHECK_STR(json_string_value(v), "hello world");
    json_decref(v);
    v = cli_param_value("{broken");
    CHECK_STR(json_string_value(v), "{broken");
    json_decref(v);
    v = cli_param_value("");
    CHECK_STR(json_string_value(v), "");
    json_decref(v);
    v = cli_param_value("\xff\xfe"); /* neither JSON nor UTF-8 */
    CHECK(v == NULL);
}

static void test_mixed_order(void) {
    char *argv[] = {"-p", "n", "5", "hello", "--kind", "js:v8", "file.js", "-p", "s", "x y",
                    "--timeout=3000", "--memory", "128", "-a", "web", "true", "--json"};
    struct cli_args a;
    CHECK(cli_args_parse(ARGC(argv), argv, ALL, 2, &a, err, sizeof err) == 0);
    CHECK(a.npos == 2);
    CHECK_STR(a.pos[0], "hello");
    CHECK_STR(a.pos[1], "file.js");
    CHECK_STR(a.kind, "js:v8");
    CHECK(a.timeout_ms == 3000 && a.memory_mb == 128);
    CHECK(a.logsize_mb == CLI_UNSET && a.concurrency == CLI_UNSET);
    CHECK(a.json && !a.help && a.params_given && a.annotations_given);
    CHECK(json_integer_value(json_object_get(a.params, "n")) == 5);
    CHECK_STR(json_string_value(json_object_get(a.params, "s")), "x y");
    CHECK(json_is_true(json_object_get(a.annotations, "web")));
    json_t *kv = cli_keyvalue_array(a.params);
    CHECK(json_array_size(kv) == 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(kv, 0), "key")), "n");
    CHECK(json_integer_value(json_object_get(json_array_get(kv, 0), "value")) == 5);
    json_decref(kv);
    cli_args_free(&a);
}

static void test_usage_errors(void) {
    struct cli_args a;
    char *unknown[] = {"hello", "--frobnicate"};
    CHECK(cli_args_parse(2, unknown, ALL, 1, &a, err, sizeof err) == -1);
    CHECK(strstr(err, "--frobnicate") != NULL);
    char *not_allowed[] = {"hello", "--kind", "js:v8"}; /* e.g. `action get` */
    CHECK(cli_args_parse(3, not_allowed, CLI_OPT_COMMON, 1, &a, err, sizeof err) == -1);
    CHECK(strstr(err, "--kind") != NULL);
    char *too_many[] = {"a", "b"};
    CHECK(cli_args_parse(2, too_many, ALL, 1, &a, err, sizeof err) == -1);
    CHECK(strstr(err, "'b'") != NULL);
    char *missing_value[] = {"hello", "-p", "k"};
    CHECK(cli_args_parse(3, missing_value, ALL, 1, &a, err, sizeof err) == -1);
    CHECK(strstr(err, "KEY and VALUE") != NULL);
    char *bad_number[] = {"--timeout", "-5"};
    CHECK(cli_args_parse(2, bad_number, ALL, 1, &a, err, sizeof err) == -1);
    char *bad_number2[] = {"--limit", "12abc"};
    CHECK(cli_args_parse(2, bad_number2, ALL, 1, &a, err, sizeof err) == -1);
    char *huge[] = {"--limit", "99999999999999999999999"};
    CHECK(cli_args_parse(2, huge, ALL, 1, &a, err, sizeof err) == -1);
    char *empty_key[] = {"-p", "", "v"};
    CHECK(cli_args_parse(3, empty_key, ALL, 1, &a, err, sizeof err) == -1);
    char *flag_eq[] = {"--json=yes"};
    CHECK(cli_args_parse(1, flag_eq, ALL, 1, &a, err, sizeof err) == -1);
}

static void test_dashes(void) {
    struct cli_args a;
    /* "-" is a positional (stdin); after "--" everything is positional;
     * a value that looks like an option is still the value. */
    char *argv[] = {"name", "-", "-p", "n", "-3", "--", "--json"};
    CHECK(cli_args_parse(ARGC(argv), argv, ALL, 3, &a, err, sizeof err) == 0);
    CHECK(a.npos == 3);
    CHECK_STR(a.pos[1], "-");
    CHECK_STR(a.pos[2], "--json");
    CHECK(!a.json);
    CHECK(json_integer_value(json_object_get(a.params, "n")) == -3);
    cli_args_free(&a);
    char *help[] = {"-h"};
    CHECK(cli_args_parse(1, help, CLI_OPT_COMMON, 0, &a, err, sizeof err) == 0 && a.help);
    cli_args_free(&a);
}

static void test_param_file(void) {
    const char *text = "{\"a\": 1, \"b\": \"two\", \"nested\": {\"x\": [true]}}";
    char *path = write_temp(text, strlen(text));
    CHECK(path != NULL);
    if (!path) return;
    char pathcopy[64];
    snprintf(pathcopy, sizeof pathcopy, "%s", path);
    /* -p after -P overrides; -P after -p overrides: command-line order wins. */
    char *argv[] = {"n", "-p", "a", "0", "-P", pathcopy, "-p", "b", "three"};
    struct cli_args a;
    CHECK(cli_args_parse(ARGC(argv), argv, ALL, 1, &a, err, sizeof err) == 0);
    CHECK(json_integer_value(json_object_get(a.params, "a")) == 1);
    CHECK_STR(json_string_value(json_object_get(a.params, "b")), "three");
    CHECK(json_is_object(json_object_get(a.params, "nested")));
    cli_args_free(&a);
    unlink(pathcopy);

    json_t *obj = json_object();
    CHECK(cli_params_merge_file(obj, "/nonexistent/params.json", err, sizeof err) == -1);
    CHECK(strstr(err, "/nonexistent/params.json") != NULL);
    path = write_temp("[1, 2]", 6);
    CHECK(cli_params_merge_file(obj, path, err, sizeof err) == -1);
    CHECK(strstr(err, "JSON object") != NULL);
    unlink(path);
    path = write_temp("{\"a\": ", 6);
    CHECK(cli_params_merge_file(obj, path, err, sizeof err) == -1);
    CHECK(strstr(err, "not valid JSON") != NULL);
    unlink(path);
    CHECK(cli_params_merge_file(obj, "/tmp", err, sizeof err) == -1); /* a directory */
    CHECK(json_object_size(obj) == 0);
    json_decref(obj);
}

static void test_file_limit(void) {
    char *path = write_temp("0123456789", 10);
    CHECK(path != NULL);
    if (!path) return;
    char *data = NULL;
    size_t len = 0;
    CHECK(cli_file_read(path, 10, &data, &len, err, sizeof err) == 0);
    CHECK(len == 10 && data && data[10] == '\0' && memcmp(data, "0123456789", 10) == 0);
    free(data);
    CHECK(cli_file_read(path, 9, &data, &len, err, sizeof err) == -1);
    CHECK(data == NULL && strstr(err, "larger than") != NULL);
    unlink(path);
    path = write_temp("", 0);
    CHECK(cli_file_read(path, 10, &data, &len, err, sizeof err) == 0);
    CHECK(len == 0 && data && data[0] == '\0');
    free(data);
    unlink(path);
    /* /dev/zero never ends: the cap must stop it. */
    CHECK(cli_file_read("/dev/zero", 1 << 20, &data, &len, err, sizeof err) == -1);
    CHECK(data == NULL);
}

int main(void) {
    test_param_values();
    test_mixed_order();
    test_usage_errors();
    test_dashes();
    test_param_file();
    test_file_limit();
    return CHECK_DONE();
}
