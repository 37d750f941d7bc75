/* test_engine.c - an engine behind engine.h: loading styles, params,
 * results, logs and every limit (time, memory, stack, result, logs). One
 * suite for every engine: CMakeLists.txt builds it once per engine
 * (test_engine_duktape, test_engine_v8) with TFAAS_TEST_ENGINE_<name>
 * defined; the few engine-specific checks are marked. Runs on a thread with
 * the stack a real enclave worker gets. */
#include "check.h"
#include "engine_under_test.h"
#include "trusted/engine.h"
#if defined(TFAAS_TEST_ENGINE_v8)
#include "trusted/engine_v8.h"
#endif

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MB (1024u * 1024u)

/* The timeout is a backstop for the tests that are not about time (they set
 * their own): a loaded machine running ASan must not turn a memory test into
 * a timeout. */
static const engine_limits LIM = {.timeout_ms = 60000, .max_result_bytes = MB, .max_log_bytes = 10 * MB};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Loads code into a fresh 64 MiB heap; NULL (and a failed CHECK) on failure. */
static engine_heap *loaded(const char *code, const char *main_name) {
    engine_heap *h = engine_heap_create(64 * MB);
    CHECK(h != NULL);
    if (!h) return NULL;
    engine_outcome o;
    int rc = engine_heap_load(h, code, strlen(code), main_name, "guest", &LIM, &o);
    CHECK(rc == 0);
    if (rc != 0) {
        fprintf(stderr, "load failed: %s\n", o.result);
        engine_outcome_free(&o);
        engine_heap_destroy(h);
        return NULL;
    }
    return h;
}

/* Loads as `tenant` and calls once; returns the outcome (caller frees). */
static engine_outcome run_as(const char *tenant, const char *code, const char *main_name, const char *params,
                             const engine_limits *lim, size_t mem) {
    engine_outcome o;
    memset(&o, 0, sizeof o);
    engine_heap *h = engine_heap_create(mem);
    CHECK(h != NULL);
    if (!h) return o;
    if (engine_heap_load(h, code, strlen(code), main_name, tenant, lim, &o) == 0)
        engine_heap_call(h, params, strlen(params), lim, &o);
    engine_heap_destroy(h);
    return o;
}

static engine_outcome run_lim(const char *code, const char *main_name, const char *params,
                              const engine_limits *lim, size_t mem) {
    return run_as("guest", code, main_name, params, lim, mem);
}

static engine_outcome run(const char *code, const char *params) {
    return run_lim(code, "main", params, &LIM, 64 * MB);
}

static void expect(const char *code, const char *params, tfaas_status st, const char *result) {
    engine_outcome o = run(code, params);
    CHECK(o.status == st);
    CHECK_STR(o.result, result);
    engine_outcome_free(&o);
}

static void test_basics(void) {
    CHECK(strncmp(engine_identity(), ENGINE_PREFIX, strlen(ENGINE_PREFIX)) == 0);
    expect("function main(p) { return {greeting: 'Hello ' + p.name}; }", "{\"name\":\"tfaas\"}",
           TFAAS_STATUS_SUCCESS, "{\"greeting\":\"Hello tfaas\"}");
    expect("exports.main = function (p) { return {a: p.a + 1}; };", "{\"a\":1}", TFAAS_STATUS_SUCCESS, "{\"a\":2}");
    expect("module.exports.main = function () { return {m: 1}; };", "{}", TFAAS_STATUS_SUCCESS, "{\"m\":1}");
    expect("module.exports = function () { return {f: 1}; };", "{}", TFAAS_STATUS_SUCCESS, "{\"f\":1}");
    engine_outcome o = run_lim("function handler(p) { return {h: p.x}; }", "handler", "{\"x\":[1,2]}", &LIM, 64 * MB);
    CHECK(o.status == TFAAS_STATUS_SUCCESS);
    CHECK_STR(o.result, "{\"h\":[1,2]}");
    CHECK_STR(o.logs, "");
    engine_outcome_free(&o);
}

static void test_failures(void) {
    expect("function main() { throw new Error('boom'); }", "{}", TFAAS_STATUS_DEVELOPER_ERR,
           "{\"error\":\"An error has occurred: Error: boom\"}");
    expect("function main() { throw 'plain \"q\"'; }", "{}", TFAAS_STATUS_DEVELOPER_ERR,
           "{\"error\":\"An error has occurred: plain \\\"q\\\"\"}");
    const char *nondict[] = {"null", "[1]", "42", "undefined", "'s'", "new Date(0)", "function(){}"};
    for (size_t i = 0; i < sizeof nondict / sizeof *nondict; i++) {
        char code[128];
        snprintf(code, sizeof code, "function main() { return %s; }", nondict[i]);
        expect(code, "{}", TFAAS_STATUS_DEVELOPER_ERR, "{\"error\":\"The action did not return a dictionary.\"}");
    }
    expect("function main() { return {error: 'nope', n: 1}; }", "{}", TFAAS_STATUS_APPLICATION_ERR,
           "{\"error\":\"nope\",\"n\":1}");
    /* "error" inside a value is not an error member */
    expect("function main() { return {msg: '\"error\"'}; }", "{}", TFAAS_STATUS_SUCCESS, "{\"msg\":\"\\\"error\\\"\"}");
    /* Found by fuzz_engine: an "error" on Object.prototype made every result
     * that mentions "error" an application error; only an own member counts. */
    expect("Object.prototype.error = 1; function main() { return {a: 'error'}; }", "{}", TFAAS_STATUS_SUCCESS,
           "{\"a\":\"error\"}");
    expect("Object.defineProperty(Object.prototype, 'error', {get: function () { throw 1; }});"
           "function main() { return {a: 'error', error: 'own'}; }", "{}", TFAAS_STATUS_APPLICATION_ERR,
           "{\"a\":\"error\",\"error\":\"own\"}");
    engine_outcome o = run("function main( { return {}; }", "{}");
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK(o.result && strstr(o.result, "{\"error\":\"Initialization has failed due to: SyntaxError") == o.result);
    engine_outcome_free(&o);
    o = run("var x = 1;", "{}");
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK(o.result && strstr(o.result, "Initialization has failed due to: ") != NULL);
    engine_outcome_free(&o);
    o = run("throw new TypeError('at load');", "{}");
    CHECK_STR(o.result, "{\"error\":\"Initialization has failed due to: TypeError: at load\"}");
    engine_outcome_free(&o);
    /* no require, no I/O */
    o = run("function main() { return {r: typeof require, p: typeof print, f: typeof fs}; }", "{}");
    CHECK_STR(o.result, "{\"r\":\"undefined\",\"p\":\"undefined\",\"f\":\"undefined\"}");
    engine_outcome_free(&o);
    /* a zip (an empty archive's end record after the local-header magic: no
     * valid archive) is never run as JavaScript: V8 unzips and refuses it,
     * Duktape runs no zip actions */
    o = run("PK\3\4PK\5\6", "{}");
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR);
#if defined(TFAAS_TEST_ENGINE_v8)
    CHECK_STR(o.result, "{\"error\":\"Initialization has failed due to: The zip archive of the action is refused: it is not "
                        "a zip archive that can be read\"}");
#else
    CHECK_STR(o.result,
              "{\"error\":\"Initialization has failed due to: zip actions run on the V8 kinds (nodejs:*, js:v8)\"}");
#endif
    engine_outcome_free(&o);
}

static void test_params(void) {
    expect("function main(p) { return {n: Object.keys(p).length}; }", "{}", TFAAS_STATUS_SUCCESS, "{\"n\":0}");
    const char *bad[] = {"", "[1,2]", "42", "{\"a\":", "null", "\"s\"", "{\"a\":1}garbage"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect("function main(p) { return {}; }", bad[i], TFAAS_STATUS_INTERNAL_ERR,
               "{\"error\":\"The action parameters are not a JSON object.\"}");
    /* Strings with and without escapes (Duktape interns the latter straight
     * from the text, scripts/duk-source.sh) read the same; a raw control
     * character or a string the text ends in is refused either way. */
    static const char codes[] = "function main(p) { var c = []; for (var i = 0; i < p.s.length; i++) "
                                "c.push(p.s.charCodeAt(i)); return {c: c, k: Object.keys(p).join('|')}; }";
    expect(codes, "{\"s\":\"ab\xc3\xa9\",\"\":1}", TFAAS_STATUS_SUCCESS, "{\"c\":[97,98,233],\"k\":\"s|\"}");
    expect(codes, "{\"s\":\"a\\\"b\\u00e9\xc3\xa9\\n\"}", TFAAS_STATUS_SUCCESS, "{\"c\":[97,34,98,233,233,10],\"k\":\"s\"}");
    expect(codes, "{\"s\":\"\"}", TFAAS_STATUS_SUCCESS, "{\"c\":[],\"k\":\"s\"}");
    const char *bad_strings[] = {"{\"s\":\"a\tb\"}", "{\"s\":\"abc", "{\"s\":\"abc\\", "{\"s\nx\":1}"};
    for (size_t i = 0; i < sizeof bad_strings / sizeof *bad_strings; i++)
        expect(codes, bad_strings[i], TFAAS_STATUS_INTERNAL_ERR,
               "{\"error\":\"The action parameters are not a JSON object.\"}");
    char long_plain[600];
    strcpy(long_plain, "{\"s\":\"");
    memset(long_plain + 6, 'x', 500);
    strcpy(long_plain + 506, "\"}");
    engine_outcome lo = run("function main(p) { return {n: p.s.length, x: p.s === new Array(501).join('x')}; }",
                            long_plain);
    CHECK(lo.status == TFAAS_STATUS_SUCCESS);
    CHECK_STR(lo.result, "{\"n\":500,\"x\":true}");
    engine_outcome_free(&lo);
    /* Numbers: the plain ones Duktape reads without its bignums
     * (tfaas_duk_json_number) come out as the nearest double (written back
     * shortest), -0 stays -0; exponents and 16+ digits take Duktape's path;
     * malformed ones are refused either way. */
    expect("function main(p) { return {a: p.a, z: 1 / p.z, s: p.a.map(String).join(' ')}; }",
           "{\"a\":[0,7,-42,4217,0.618,0.1,0.3,123.456,-0.5,999999999999999,0.000000000000001,"
           "1.5e3,2E-2,1234567890123456789,0.1234567890123456789],\"z\":-0}",
           TFAAS_STATUS_SUCCESS,
           "{\"a\":[0,7,-42,4217,0.618,0.1,0.3,123.456,-0.5,999999999999999,1e-15,1500,0.02,1234567890123456800,"
           "0.12345678901234568],\"z\":null,\"s\":\"0 7 -42 4217 0.618 0.1 0.3 123.456 -0.5 999999999999999 "
           "1e-15 1500 0.02 1234567890123456800 0.12345678901234568\"}");
    expect("function main(p) { return {neg: 1 / p.z === -Infinity}; }", "{\"z\":-0}", TFAAS_STATUS_SUCCESS,
           "{\"neg\":true}");
    const char *bad_numbers[] = {"{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":1.2.3}", "{\"a\":.5}",
                                 "{\"a\":1e}", "{\"a\":--1}", "{\"a\":1-2}"};
    for (size_t i = 0; i < sizeof bad_numbers / sizeof *bad_numbers; i++)
        expect(codes, bad_numbers[i], TFAAS_STATUS_INTERNAL_ERR,
               "{\"error\":\"The action parameters are not a JSON object.\"}");
    /* 100k nested arrays: no crash. Duktape's JSON recursion limit refuses
     * them; V8's JSON parser is not recursive and accepts them. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 16);
    strcpy(deep, "{\"a\":");
    size_t n = strlen(deep);
    for (size_t i = 0; i < depth; i++) deep[n++] = '[';
    for (size_t i = 0; i < depth; i++) deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    engine_outcome o = run("function main(p) { return {}; }", deep);
#if defined(TFAAS_TEST_ENGINE_v8)
    CHECK(o.status == TFAAS_STATUS_SUCCESS);
#else
    CHECK(o.status == TFAAS_STATUS_INTERNAL_ERR);
#endif
    engine_outcome_free(&o);
    free(deep);
}

static void test_logs(void) {
    engine_outcome o = run("console.log('at load');\n"
                           "function main() { console.log('a', 1, {b: [2]}, null, undefined);"
                           " console.error('e1\\ne2'); console.warn('w'); console.info('i'); console.debug('d');"
                           " var c = {}; c.c = c; console.log(c); return {}; }", "{}");
    CHECK(o.status == TFAAS_STATUS_SUCCESS);
    const char *want[] = {"stdout: at load", "stdout: a 1 {\"b\":[2]} null undefined", "stderr: e1", "stderr: e2",
                          "stderr: w", "stdout: i", "stdout: d", "stdout: [object Object]"};
    char *save = NULL, *line = o.logs ? strtok_r(o.logs, "\n", &save) : NULL;
    size_t i = 0;
    for (; line; line = strtok_r(NULL, "\n", &save), i++) {
        /* 2026-11-24T16:09:00.123Z + space */
        CHECK(strlen(line) > 25 && line[4] == '-' && line[10] == 'T' && line[19] == '.' && line[23] == 'Z' && line[24] == ' ');
        if (i < 8) CHECK_STR(line + 25, want[i]);
    }
    CHECK(i == 8);
    engine_outcome_free(&o);

    /* 1000 lines of 100 bytes into a 10 kB limit: cut with one truncation line */
    engine_limits lim = LIM;
    lim.max_log_bytes = 10000;
    o = run_lim("function main() { var s = new Array(101).join('x');"
                " for (var i = 0; i < 1000; i++) console.log(s); return {ok: true}; }",
                "main", "{}", &lim, 64 * MB);
    CHECK(o.status == TFAAS_STATUS_SUCCESS);
    CHECK(o.logs != NULL);
    if (o.logs) {
        const char *last = strrchr(o.logs, '\n');
        CHECK(last && strstr(last, "stderr: Logs were truncated because the total bytes size exceeds the limit of 10000 bytes.") != NULL);
        CHECK(last && (size_t)(last - o.logs) <= 10000);
        CHECK((size_t)(last - o.logs) > 9000);
    }
    engine_outcome_free(&o);
}

static void test_limits(void) {
    /* Without the timeout check the endless loops below would hang the test. */
    int interrupts = engine_self_test() == 0;
    CHECK(interrupts);
    if (!interrupts) {
        fprintf(stderr, "the engine cannot interrupt code: is duktape built with tfaas's duk_config.h?\n");
        return;
    }
    engine_limits lim = LIM;
    lim.timeout_ms = 500;
    double t0 = now_s();
    engine_outcome o = run_lim("function main() { while (true) {} }", "main", "{}", &lim, 64 * MB);
    double took = now_s() - t0;
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK_STR(o.result, "{\"error\":\"The action exceeded its time limits of 500 milliseconds.\"}");
    CHECK(o.discard);
    /* stopped at its deadline, not by anything later: the upper bound is
     * loose because a loaded machine running ASan may not schedule the
     * thread for a while (seen: 1.5 s); the message says which limit hit */
    CHECK(took >= 0.5 && took < 5);
    engine_outcome_free(&o);

    /* a call gets what its load left of the time limit (spent_ms); the
     * message still names the whole limit */
    engine_limits rest = LIM;
    rest.timeout_ms = 10000;
    rest.spent_ms = 9800;
    t0 = now_s();
    o = run_lim("function main() { while (true) {} }", "main", "{}", &rest, 64 * MB);
    took = now_s() - t0;
    CHECK_STR(o.result, "{\"error\":\"The action exceeded its time limits of 10000 milliseconds.\"}");
    CHECK(took >= 0.2 && took < 5); /* 10 s if the spent part were given again */
    engine_outcome_free(&o);
    rest.spent_ms = 20000; /* more than the limit: nothing left */
    o = run_lim("function main() { while (true) {} }", "main", "{}", &rest, 64 * MB);
    CHECK_STR(o.result, "{\"error\":\"The action exceeded its time limits of 10000 milliseconds.\"}");
    engine_outcome_free(&o);

    /* catching the timeout does not help */
    t0 = now_s();
    o = run_lim("function main() { for (;;) { try { for (;;) {} } catch (e) {} } }", "main", "{}", &lim, 64 * MB);
    CHECK(now_s() - t0 < 5);
    CHECK_STR(o.result, "{\"error\":\"The action exceeded its time limits of 500 milliseconds.\"}");
    engine_outcome_free(&o);

    /* an error whose toString never returns: still bounded by the deadline */
    o = run_lim("function main() { throw {toString: function () { for (;;) {} }}; }", "main", "{}", &lim, 64 * MB);
    CHECK_STR(o.result, "{\"error\":\"The action exceeded its time limits of 500 milliseconds.\"}");
    engine_outcome_free(&o);
    o = run_lim("throw {toString: function () { for (;;) {} }};", "main", "{}", &lim, 64 * MB);
    CHECK_STR(o.result, "{\"error\":\"The action exceeded its time limits of 500 milliseconds.\"}");
    engine_outcome_free(&o);

    /* endless loop while loading */
    o = run_lim("for (;;) {}", "main", "{}", &lim, 64 * MB);
    CHECK_STR(o.result, "{\"error\":\"The action exceeded its time limits of 500 milliseconds.\"}");
    CHECK(o.discard);
    engine_outcome_free(&o);

    o = run_lim("function main() { var a = []; for (;;) { var b = []; for (var i = 0; i < 1000; i++) b.push(i);"
                " a.push(b); } }", "main", "{}", &LIM, 32 * MB);
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK_STR(o.result, "{\"error\":\"The action exhausted its memory and was aborted.\"}");
    CHECK(o.discard);
#if defined(TFAAS_TEST_ENGINE_v8)
    /* V8 measures the live heap after collections: it may have grown past
     * the limit by what one collection cycle lets it grow. */
    if (!(o.peak_memory <= 96 * MB && o.peak_memory > 16 * MB)) fprintf(stderr, "peak %llu\n", (unsigned long long)o.peak_memory);
    CHECK(o.peak_memory <= 96 * MB && o.peak_memory > 16 * MB);
#else
    CHECK(o.peak_memory <= 32 * MB && o.peak_memory > 16 * MB);
#endif
    engine_outcome_free(&o);
    /* churning garbage past the limit is fine: only live memory counts */
    o = run_lim("function main() { var keep = 'k'; while (keep.length < (1 << 20)) keep += keep;"
                " var n = 0; for (var i = 0; i < 64; i++) n += (keep + i).length; return {n: n, k: keep.length}; }",
                "main", "{}", &LIM, 32 * MB);
    CHECK_STR(o.result, "{\"n\":67108982,\"k\":1048576}");
    CHECK(!o.discard);
    engine_outcome_free(&o);
#if defined(TFAAS_TEST_ENGINE_v8)
    /* one array far past the limit in one allocation: V8 cannot refuse it,
     * the shim notices it at the end of the call */
    o = run_lim("var keep; function main() { keep = new Array(3e7).fill(0); return {n: keep.length}; }", "main", "{}",
                &LIM, 32 * MB);
    CHECK_STR(o.result, "{\"error\":\"The action exhausted its memory and was aborted.\"}");
    CHECK(o.discard);
    engine_outcome_free(&o);
#endif
    /* one huge allocation, and catching the failure does not help */
    o = run_lim("function main() { try { var b = new Uint8Array(1e9); } catch (e) {} return {ok: 1}; }",
                "main", "{}", &LIM, 32 * MB);
    CHECK_STR(o.result, "{\"error\":\"The action exhausted its memory and was aborted.\"}");
    CHECK(o.discard);
    engine_outcome_free(&o);

    o = run("function main() { function f(n) { return f(n + 1) + 1; } return {v: f(0)}; }", "{}");
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK(o.result && strstr(o.result, "An error has occurred: RangeError") != NULL);
    engine_outcome_free(&o);
    /* recursion through native calls uses the C stack */
    o = run("function main() { function f() { return [1].map(f); } return {v: f()}; }", "{}");
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK(o.result && strstr(o.result, "An error has occurred: RangeError") != NULL);
    engine_outcome_free(&o);
    o = run("function main() { var o = {}; o.toString = function () { return String(o); }; return {s: String(o)}; }", "{}");
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR);
    engine_outcome_free(&o);
    /* deeply nested source: the compiler's recursion limit */
    size_t depth = 50000;
    char *src = malloc(2 * depth + 64);
    strcpy(src, "function main() { return {v: ");
    size_t n = strlen(src);
    for (size_t i = 0; i < depth; i++) src[n++] = '(';
    src[n++] = '1';
    for (size_t i = 0; i < depth; i++) src[n++] = ')';
    strcpy(src + n, "}; }");
    o = run(src, "{}");
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK(o.result && strstr(o.result, "Initialization has failed due to: ") != NULL);
    engine_outcome_free(&o);
    free(src);

    lim = LIM;
    lim.max_result_bytes = 1000;
    o = run_lim("function main() { return {s: new Array(2000).join('y')}; }", "main", "{}", &lim, 64 * MB);
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK_STR(o.result, "{\"error\":\"The action produced a response that exceeded the allowed length: 2007 > 1000 bytes.\"}");
    CHECK(!o.discard);
    engine_outcome_free(&o);

    /* a heap too small for the engine itself */
    CHECK(engine_heap_create(1000) == NULL);
}

static void test_warm(void) {
    engine_heap *h = loaded("var n = 0; console.log('init'); function main(p) { n++; return {n: n, p: p.v}; }", NULL);
    if (!h) return;
    for (int i = 1; i <= 3; i++) {
        engine_outcome o;
        char params[32], want[64];
        snprintf(params, sizeof params, "{\"v\":%d}", i * 10);
        engine_heap_call(h, params, strlen(params), &LIM, &o);
        snprintf(want, sizeof want, "{\"n\":%d,\"p\":%d}", i, i * 10);
        CHECK_STR(o.result, want);
        CHECK(!o.discard);
        CHECK(o.peak_memory > 0);
        /* load logs show up once, with the first call */
        CHECK(o.logs && (i == 1) == (strstr(o.logs, "stdout: init") != NULL));
        engine_outcome_free(&o);
    }
    /* an error leaves the heap usable */
    engine_heap_destroy(h);
    h = loaded("function main(p) { if (p.fail) throw new Error('x'); return {ok: 1}; }", "main");
    if (!h) return;
    engine_outcome o;
    engine_heap_call(h, "{\"fail\":true}", 13, &LIM, &o);
    CHECK(o.status == TFAAS_STATUS_DEVELOPER_ERR && !o.discard);
    engine_outcome_free(&o);
    engine_heap_call(h, "{}", 2, &LIM, &o);
    CHECK_STR(o.result, "{\"ok\":1}");
    engine_outcome_free(&o);
    engine_heap_destroy(h);
}

#if defined(TFAAS_TEST_ENGINE_v8)
/* A zip action (tests/lib/zip.mjs wrote it, entries stored): index.js
 * requires lazy.js only when main runs and counts its calls in a global. */
static const unsigned char ZIP_LAZY[] = {
    0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4f, 0x5b,
    0x4f, 0xc0, 0x5f, 0x00, 0x00, 0x00, 0x5f, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x69, 0x6e,
    0x64, 0x65, 0x78, 0x2e, 0x6a, 0x73, 0x65, 0x78, 0x70, 0x6f, 0x72, 0x74, 0x73, 0x2e, 0x6d, 0x61,
    0x69, 0x6e, 0x20, 0x3d, 0x20, 0x28, 0x29, 0x20, 0x3d, 0x3e, 0x20, 0x28, 0x7b, 0x20, 0x76, 0x3a,
    0x20, 0x72, 0x65, 0x71, 0x75, 0x69, 0x72, 0x65, 0x28, 0x22, 0x2e, 0x2f, 0x6c, 0x61, 0x7a, 0x79,
    0x22, 0x29, 0x2e, 0x76, 0x2c, 0x20, 0x6e, 0x3a, 0x20, 0x28, 0x67, 0x6c, 0x6f, 0x62, 0x61, 0x6c,
    0x54, 0x68, 0x69, 0x73, 0x2e, 0x6e, 0x20, 0x3d, 0x20, 0x28, 0x67, 0x6c, 0x6f, 0x62, 0x61, 0x6c,
    0x54, 0x68, 0x69, 0x73, 0x2e, 0x6e, 0x20, 0x7c, 0x7c, 0x20, 0x30, 0x29, 0x20, 0x2b, 0x20, 0x31,
    0x29, 0x20, 0x7d, 0x29, 0x3b, 0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x55, 0x54, 0x90, 0x9c, 0x13, 0x00, 0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x07,
    0x00, 0x00, 0x00, 0x6c, 0x61, 0x7a, 0x79, 0x2e, 0x6a, 0x73, 0x65, 0x78, 0x70, 0x6f, 0x72, 0x74,
    0x73, 0x2e, 0x76, 0x20, 0x3d, 0x20, 0x22, 0x6c, 0x61, 0x7a, 0x79, 0x22, 0x3b, 0x50, 0x4b, 0x01,
    0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4f, 0x5b, 0x4f,
    0xc0, 0x5f, 0x00, 0x00, 0x00, 0x5f, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xa4, 0x81, 0x00, 0x00, 0x00, 0x00, 0x69, 0x6e, 0x64, 0x65, 0x78,
    0x2e, 0x6a, 0x73, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x55, 0x54, 0x90, 0x9c, 0x13, 0x00, 0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x07,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa4, 0x81, 0x85, 0x00, 0x00,
    0x00, 0x6c, 0x61, 0x7a, 0x79, 0x2e, 0x6a, 0x73, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x02, 0x00, 0x6b, 0x00, 0x00, 0x00, 0xbd, 0x00, 0x00, 0x00, 0x00, 0x00
};

/* Heaps of one zip share its unzipped files (node_surface.cc) but nothing
 * of JavaScript; a heap outliving the one that unzipped reads them still. */
static void test_v8_zip_shared(void) {
    engine_heap *a = engine_heap_create(64 * MB), *b = engine_heap_create(64 * MB);
    CHECK(a && b);
    if (!a || !b) return;
    engine_outcome o;
    CHECK(engine_heap_load(a, (const char *)ZIP_LAZY, sizeof ZIP_LAZY, "main", "guest", &LIM, &o) == 0);
    CHECK(engine_heap_load(b, (const char *)ZIP_LAZY, sizeof ZIP_LAZY, "main", "guest", &LIM, &o) == 0);
    engine_heap_call(a, "{}", 2, &LIM, &o);
    CHECK_STR(o.result, "{\"v\":\"lazy\",\"n\":1}");
    engine_outcome_free(&o);
    engine_heap_destroy(a); /* the first holder goes; b's first require comes after */
    engine_heap_call(b, "{}", 2, &LIM, &o);
    CHECK_STR(o.result, "{\"v\":\"lazy\",\"n\":1}");
    engine_outcome_free(&o);
    engine_heap_destroy(b);
}

/* V8 only: modern JavaScript, Promises, the code cache. */
static void test_v8(void) {
    test_v8_zip_shared();
    /* ES2022: class fields and private methods, ?., ??, at(), Object.hasOwn, BigInt */
    expect("class C { #x = 40; static s = 2; #inc() { return this.#x + C.s; } get v() { return this.#inc(); } }\n"
           "const main = (p) => ({v: new C().v, o: p.a?.b ?? 'none', at: [1, 2, 3].at(-1),"
           " h: Object.hasOwn({k: 1}, 'k'), b: String(2n ** 64n)});",
           "{}", TFAAS_STATUS_SUCCESS, "{\"v\":42,\"o\":\"none\",\"at\":3,\"h\":true,\"b\":\"18446744073709551616\"}");
    /* async main, awaited chains and a returned Promise are settled first */
    expect("async function main(p) { const v = await Promise.resolve(p.n); await null; return {v: v * 2}; }",
           "{\"n\":21}", TFAAS_STATUS_SUCCESS, "{\"v\":42}");
    expect("exports.main = (p) => new Promise((res) => Promise.resolve().then(() => res({ok: true})));", "{}",
           TFAAS_STATUS_SUCCESS, "{\"ok\":true}");
    expect("async function main() { throw new TypeError('async boom'); }", "{}", TFAAS_STATUS_DEVELOPER_ERR,
           "{\"error\":\"An error has occurred: TypeError: async boom\"}");
    expect("async function main() { return [1]; }", "{}", TFAAS_STATUS_DEVELOPER_ERR,
           "{\"error\":\"The action did not return a dictionary.\"}");
    expect("async function main() { return {error: 'app'}; }", "{}", TFAAS_STATUS_APPLICATION_ERR,
           "{\"error\":\"app\"}");
    /* nothing can settle it once the jobs ran: no timers, no I/O */
    expect("function main() { return new Promise(() => {}); }", "{}", TFAAS_STATUS_DEVELOPER_ERR,
           "{\"error\":\"The action returned a promise that never settled.\"}");
    /* an endless job chain is still bounded by the deadline */
    engine_limits lim = LIM;
    lim.timeout_ms = 300;
    engine_outcome o = run_lim("async function main() { for (;;) await null; }", "main", "{}", &lim, 64 * MB);
    CHECK_STR(o.result, "{\"error\":\"The action exceeded its time limits of 300 milliseconds.\"}");
    CHECK(o.discard);
    engine_outcome_free(&o);
    /* no Node built-ins; the timers and fetch of the web platform (v8/fetch.js) */
    expect("function main() { return {p: typeof process, b: typeof Buffer, s: typeof setTimeout,"
           " q: typeof queueMicrotask, w: typeof WebAssembly}; }", "{}", TFAAS_STATUS_SUCCESS,
           "{\"p\":\"undefined\",\"b\":\"undefined\",\"s\":\"function\",\"q\":\"function\",\"w\":\"undefined\"}");
    /* a Promise settled by a timer; fetch without an egress policy (no
     * fetch_activation) is a TypeError the function catches */
    expect("function main() { return new Promise((r) => setTimeout(() => r({t: 1}), 20)); }", "{}",
           TFAAS_STATUS_SUCCESS, "{\"t\":1}");
    expect("async function main() { try { await fetch('https://example.com/'); } catch (e) {"
           " return {n: e.name, m: e.message}; } }", "{}", TFAAS_STATUS_SUCCESS,
           "{\"n\":\"TypeError\",\"m\":\"fetch: this activation may not make network requests\"}");
    /* a second heap of the same code uses the code cache instead of compiling */
    static const char code[] = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }"
                               " function main(p) { return {f: fib(p.n), t: 'code-cache-probe'}; }";
    unsigned long c0, h0, c1, h1, c2, h2;
    engine_v8_code_cache_counts(&c0, &h0);
    expect(code, "{\"n\":20}", TFAAS_STATUS_SUCCESS, "{\"f\":6765,\"t\":\"code-cache-probe\"}");
    engine_v8_code_cache_counts(&c1, &h1);
    CHECK(c1 == c0 + 1 && h1 == h0);
    expect(code, "{\"n\":20}", TFAAS_STATUS_SUCCESS, "{\"f\":6765,\"t\":\"code-cache-probe\"}");
    engine_v8_code_cache_counts(&c2, &h2);
    CHECK(c2 == c1 && h2 == h1 + 1);
    /* ... but only for the same tenant: another tenant's first load of the
     * same source compiles (a cache hit would tell it, by its load time,
     * that someone else runs this code), and its second load is a hit. */
    unsigned long c3, h3, c4, h4;
    for (int i = 0; i < 2; i++) {
        engine_outcome o2 = run_as("other-tenant", code, "main", "{\"n\":20}", &LIM, 64 * MB);
        CHECK_STR(o2.result, "{\"f\":6765,\"t\":\"code-cache-probe\"}");
        engine_outcome_free(&o2);
        engine_v8_code_cache_counts(i ? &c4 : &c3, i ? &h4 : &h3);
    }
    CHECK(c3 == c2 + 1 && h3 == h2);
    CHECK(c4 == c3 && h4 == h3 + 1);
}

/* The watchdog is signalled only for a deadline before the one it sleeps
 * towards: a short timeout right after calls with a long one (the watchdog
 * then sleeps for a minute) and one during a long call on another heap
 * still end on time. */
static void test_v8_watchdog(void) {
    engine_heap *slow = loaded("function main() { return {ok: 1}; }", "main");
    if (!slow) return;
    engine_outcome o;
    for (int i = 0; i < 3; i++) { /* 60 s deadlines */
        engine_heap_call(slow, "{}", 2, &LIM, &o);
        CHECK_STR(o.result, "{\"ok\":1}");
        engine_outcome_free(&o);
    }
    engine_limits lim = LIM;
    lim.timeout_ms = 200;
    double t0 = now_s();
    o = run_lim("function main() { for (;;) {} }", "main", "{}", &lim, 64 * MB);
    CHECK_STR(o.result, "{\"error\":\"The action exceeded its time limits of 200 milliseconds.\"}");
    CHECK(now_s() - t0 < 30); /* not the minute of the earlier deadline */
    engine_outcome_free(&o);
    engine_heap_destroy(slow);
}

#endif

#if defined(TFAAS_TEST_ENGINE_duktape)
/* Duktape's fetch is compiled on its first use (duktape/fetch.c): until then
 * the global is an accessor. Whatever a function does with it, fetch behaves
 * as the plain global it was: used, assigned, deleted, declared, and its
 * getter taken out and called again. Without an egress policy (no
 * fetch_activation) a call is the TypeError of every fetch. */
static void test_duktape_lazy_fetch(void) {
    expect("function main() { var t = typeof fetch, n = fetch.name, f = fetch;"
           " var d = Object.getOwnPropertyDescriptor(globalThis, 'fetch');"
           " var m; try { fetch('https://example.com/'); } catch (e) { m = e.name + ': ' + e.message; }"
           " return {t: t, n: n, same: f === fetch, data: 'value' in d && d.value === f, w: d.writable,"
           " e: d.enumerable, c: d.configurable, k: Object.keys(globalThis).indexOf('fetch') >= 0, m: m}; }",
           "{}", TFAAS_STATUS_SUCCESS,
           "{\"t\":\"function\",\"n\":\"fetch\",\"same\":true,\"data\":true,\"w\":true,\"e\":true,\"c\":true,"
           "\"k\":true,\"m\":\"TypeError: fetch: this activation may not make network requests\"}");
    /* assigned before any use, in sloppy and in strict code */
    expect("fetch = 5; function main() { return {f: fetch}; }", "{}", TFAAS_STATUS_SUCCESS, "{\"f\":5}");
    expect("'use strict'; globalThis.fetch = 'x'; function main() { return {f: fetch,"
           " w: Object.getOwnPropertyDescriptor(globalThis, 'fetch').writable}; }",
           "{}", TFAAS_STATUS_SUCCESS, "{\"f\":\"x\",\"w\":true}");
    /* deleted before any use, and after */
    expect("delete globalThis.fetch; function main() { return {t: typeof fetch, in: 'fetch' in globalThis}; }", "{}",
           TFAAS_STATUS_SUCCESS, "{\"t\":\"undefined\",\"in\":false}");
    expect("var f = fetch; delete globalThis.fetch; function main() { return {t: typeof fetch, f: typeof f}; }", "{}",
           TFAAS_STATUS_SUCCESS, "{\"t\":\"undefined\",\"f\":\"function\"}");
    /* a declaration of its own */
    expect("function fetch() { return 7; } function main() { return {r: fetch()}; }", "{}", TFAAS_STATUS_SUCCESS,
           "{\"r\":7}");
    /* the getter taken out: the same function every time, and called after
     * the global was replaced or deleted it puts nothing back */
    expect("var g = Object.getOwnPropertyDescriptor(globalThis, 'fetch').get; var a = g();"
           " globalThis.fetch = 1; var b = g();"
           " function main() { var r = {same: a === b, f: fetch}; delete globalThis.fetch; g();"
           " r.after = typeof fetch; r.other = g.call({}) === a; return r; }",
           "{}", TFAAS_STATUS_SUCCESS, "{\"same\":true,\"f\":1,\"after\":\"undefined\",\"other\":true}");
    /* the setter taken out and called on another object: defines it there */
    expect("var s = Object.getOwnPropertyDescriptor(globalThis, 'fetch').set; var o = {}; s.call(o, 3);"
           " function main() { return {o: o.fetch, g: typeof fetch}; }",
           "{}", TFAAS_STATUS_SUCCESS, "{\"o\":3,\"g\":\"function\"}");
    /* globals it uses when called, tampered with before its first use: the
     * function's own heap only, and still a clean TypeError */
    expect("String = null; Object.keys = null; function main() {"
           " try { fetch('https://example.com/', {headers: {a: 'b'}}); } catch (e) { return {n: e.name}; } }",
           "{}", TFAAS_STATUS_SUCCESS, "{\"n\":\"TypeError\"}");
    /* a frozen global before any use: fetch still works, assignment is
     * ignored as it was for the frozen data property */
    expect("Object.freeze(globalThis); fetch = 5; function main() { var m;"
           " try { fetch('https://example.com/'); } catch (e) { m = e.message; }"
           " return {t: typeof fetch, same: fetch === fetch, m: m}; }",
           "{}", TFAAS_STATUS_SUCCESS,
           "{\"t\":\"function\",\"same\":true,\"m\":\"fetch: this activation may not make network requests\"}");
    /* the next heap has its own, untouched */
    expect("function main() { var d = typeof Object.getOwnPropertyDescriptor(globalThis, 'fetch').get;"
           " return {d: d, t: typeof fetch}; }", "{}", TFAAS_STATUS_SUCCESS, "{\"d\":\"function\",\"t\":\"function\"}");
}
#endif

static void *all_tests(void *arg) {
    (void)arg;
    test_basics();
    test_failures();
    test_params();
    test_logs();
    test_limits();
    test_warm();
#if defined(TFAAS_TEST_ENGINE_duktape)
    test_duktape_lazy_fetch();
#endif
#if defined(TFAAS_TEST_ENGINE_v8)
    test_v8();
    test_v8_watchdog();
#endif
    return NULL;
}

int main(void) {
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, ENGINE_STACK_BYTES);
    if (pthread_create(&t, &attr, all_tests, NULL) != 0) {
        fprintf(stderr, "cannot start the test thread\n");
        return 1;
    }
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    return CHECK_DONE();
}
