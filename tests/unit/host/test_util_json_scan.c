/* test_util_json_scan.c - the allocation-free object check (json_scan.h):
 * it says yes to the objects functions return, and never says yes to text
 * jansson would refuse or read as something other than an object; every
 * case is also given to jansson, so a yes that jansson contradicts fails. */
#include "check.h"
#include "common/json_depth.h"
#include "host/util/json_scan.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* What jansson says the activation record's check would say. */
static int jansson_object(const char *text) {
    json_t *v = json_loads(text, JSON_ALLOW_NUL, NULL);
    int ok = json_is_object(v);
    json_decref(v);
    return ok;
}

/* want: 1 the scan must say yes, 0 it must not. Either way a yes must be
 * jansson's yes too. */
static void check_scan(const char *text, int want) {
    int got = json_scan_object(text);
    if (got != want) fprintf(stderr, "json_scan_object(%s) = %d, expected %d\n", text, got, want);
    CHECK(got == want);
    if (got) CHECK(jansson_object(text));
}

static void test_objects_accepted(void) {
    check_scan("{}", 1);
    check_scan(" \t\r\n{ } \n", 1);
    check_scan("{\"greeting\":\"Hello, bench!\"}", 1);
    check_scan("{\"id\":4217,\"name\":\"Ada Lovelace\",\"active\":true,\"ratio\":0.618,"
               "\"tags\":[\"analytical\",\"engine\",\"notes\"],\"address\":{\"city\":\"London\",\"zip\":\"W1\"},"
               "\"history\":[1815,1843,1852],\"comment\":null}", 1);
    check_scan("{\"a\":[],\"b\":{},\"c\":[[],[{}]],\"d\":false,\"e\":-0,\"f\":-1.5e-7,\"g\":2E+3,\"h\":0.0}", 1);
    check_scan("{\"esc\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\"}", 1);
    check_scan("{\"pair\":\"\\ud83d\\ude00\",\"nul\":\"a\\u0000b\"}", 1); /* JSON_ALLOW_NUL: in a value */
    check_scan("{\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", 1);
    check_scan("{\"dup\":1,\"dup\":2}", 1); /* jansson keeps the last; the text stays as sent */
    check_scan("{\"big\":999999999999999999,\"neg\":-999999999999999999}", 1); /* 18 digits */
    check_scan("{\"tiny\":1e-99999}", 1);                                       /* underflows to 0 */
}

static void test_not_objects(void) {
    check_scan("", 0);
    check_scan("   ", 0);
    check_scan("[]", 0);
    check_scan("[{}]", 0);
    check_scan("\"{}\"", 0);
    check_scan("null", 0);
    check_scan("42", 0);
    check_scan("{}{}", 0);
    check_scan("{} x", 0);
    check_scan("{}]", 0);
}

static void test_malformed(void) {
    const char *bad[] = {
        "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\":1 \"b\":2}", "{a:1}", "{'a':1}",
        "{\"a\":[1,]}", "{\"a\":[1 2]}", "{\"a\":[}", "{\"a\":]}", "{\"a\":{]}", "{\"a\":[1}", "{\"a\":1]",
        "{\"a\":tru}", "{\"a\":truee}", "{\"a\":nul}", "{\"a\":True}", "{\"a\":NaN}", "{\"a\":Infinity}",
        "{\"a\":01}", "{\"a\":+1}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":-}",
        "{\"a\":0x10}", "{\"a\":\"x}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}",
        "{\"a\":\"\\",
        "{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}",                       /* raw control characters */
        "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}", /* unpaired surrogates */
        "{\"a\":\"\\ud800x\"}",
        "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xff\"}", "{\"a\":\"cut \xe2\x82\"}",
        "{\"\xc3\"}", "{\"a\":1}\xc3\xa9",
        "{\"a\\u0000b\":1}", /* jansson refuses a NUL in a key even with JSON_ALLOW_NUL */
        "{/*c*/}", "\xef\xbb\xbf{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) check_scan(bad[i], 0);
}

/* Valid JSON that jansson may refuse: the scan leaves it to jansson. */
static void test_left_to_jansson(void) {
    check_scan("{\"a\":9223372036854775807}", 0); /* 19 digits: jansson takes it, the scan does not know */
    check_scan("{\"a\":9223372036854775808}", 0); /* beyond json_int_t: jansson refuses */
    CHECK(!jansson_object("{\"a\":9223372036854775808}"));
    check_scan("{\"a\":1e400}", 0);
    CHECK(!jansson_object("{\"a\":1e400}"));
    check_scan("{\"a\":1e300}", 0);
    check_scan("{\"a\":1e299}", 1);
    char big[400] = "{\"a\":";
    memset(big + 5, '9', 310);
    strcpy(big + 315, ".5}");
    check_scan(big, 0);
    CHECK(!jansson_object(big));
}

/* {"a":[[...]]}: an object holding `arrays` nested arrays (malloc'd). */
static char *nested(size_t arrays) {
    char *t = malloc(2 * arrays + 16);
    if (!t) return NULL;
    size_t at = (size_t)sprintf(t, "{\"a\":");
    memset(t + at, '[', arrays);
    memset(t + at + arrays, ']', arrays);
    strcpy(t + at + 2 * arrays, "}");
    return t;
}

/* Nesting: JSON_MAX_DEPTH levels are scanned, one more is left to jansson;
 * hostile depth costs one pass and no stack. */
static void test_depth(void) {
    char *t = nested(JSON_MAX_DEPTH - 1);
    CHECK(t != NULL);
    if (t) check_scan(t, 1);
    free(t);
    t = nested(JSON_MAX_DEPTH);
    CHECK(t != NULL);
    if (t) check_scan(t, 0);
    free(t);
    t = nested(100000);
    CHECK(t != NULL);
    if (t) CHECK(!json_scan_object(t));
    free(t);
}

/* Every prefix of a valid object is not one: the scan never reads past the
 * NUL that ends it, whatever state it is in (ASan would see it). */
static void test_prefixes(void) {
    const char *full = "{\"k\":[1,-2.5e3,true,false,null,\"s\\u00e9\\ud83d\\ude00\xc3\xa9\",{\"x\":{}}]}";
    size_t len = strlen(full);
    for (size_t i = 0; i < len; i++) {
        char *p = malloc(i + 1);
        CHECK(p != NULL);
        if (!p) return;
        memcpy(p, full, i);
        p[i] = '\0';
        check_scan(p, 0);
        free(p);
    }
    check_scan(full, 1);
}

int main(void) {
    test_objects_accepted();
    test_not_objects();
    test_malformed();
    test_left_to_jansson();
    test_depth();
    test_prefixes();
    return CHECK_DONE();
}
