/* test_duk_numbers.c - the number conversions duk-source.sh wires into
 * Duktape (src/trusted/duktape/numbers.c) against Duktape's own: every
 * double here is turned into a string by our patched Duktape (whose
 * ToString takes tfaas_duk_number_string where it can) and by Debian's
 * unmodified libduktape, loaded with dlopen, and the two must be the same
 * bytes. Random bit patterns, random short decimals (what the fast path is
 * for), powers of ten and of two with their neighbours, the layout
 * boundaries 1e-7, 1e-6 and 1e21, subnormals and the extremes.
 * TFAAS_NUMBERS_N sets how many random short decimals (default 50000; a
 * tenth as many random bit patterns, which are slow for the bignums of both
 * sides: most have exponents far from zero). */
#include "check.h"
#include "trusted/duktape/numbers.h"

#include "duktape.h"

#include <dlfcn.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Debian's libduktape: the reference */
static struct {
    duk_context *(*create_heap)(duk_alloc_function, duk_realloc_function, duk_free_function, void *,
                                duk_fatal_function);
    void (*push_number)(duk_context *, duk_double_t);
    const char *(*to_lstring)(duk_context *, duk_idx_t, duk_size_t *);
    const char *(*json_encode)(duk_context *, duk_idx_t);
    void (*pop)(duk_context *);
    void (*destroy_heap)(duk_context *);
    duk_context *ctx;
} ref;

static duk_context *ours;
static long fast_taken; /* how many went through tfaas_duk_number_string */

static int load_reference(void) {
    void *h = dlopen("libduktape.so.207", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "test_duk_numbers: %s (duktape-dev's libduktape207 is the reference)\n", dlerror());
        return -1;
    }
    *(void **)&ref.create_heap = dlsym(h, "duk_create_heap");
    *(void **)&ref.push_number = dlsym(h, "duk_push_number");
    *(void **)&ref.to_lstring = dlsym(h, "duk_to_lstring");
    *(void **)&ref.json_encode = dlsym(h, "duk_json_encode");
    *(void **)&ref.pop = dlsym(h, "duk_pop");
    *(void **)&ref.destroy_heap = dlsym(h, "duk_destroy_heap");
    if (!ref.create_heap || !ref.push_number || !ref.to_lstring || !ref.json_encode || !ref.pop || !ref.destroy_heap)
        return -1;
    /* the library's own code, not ours under its name */
    if ((void *)ref.push_number == (void *)duk_push_number) return -1;
    ref.ctx = ref.create_heap(NULL, NULL, NULL, NULL, NULL);
    return ref.ctx ? 0 : -1;
}

static long mismatches;

/* One double through both engines' ToString and JSON.stringify. */
static void compare(double x) {
    char a[64], b[64], fast[TFAAS_DUK_NUMBER_MAX];
    duk_size_t n;
    duk_push_number(ours, x);
    const char *s = duk_to_lstring(ours, -1, &n);
    snprintf(a, sizeof a, "%.*s", (int)n, s);
    duk_pop(ours);
    ref.push_number(ref.ctx, x);
    s = ref.to_lstring(ref.ctx, -1, &n);
    snprintf(b, sizeof b, "%.*s", (int)n, s);
    ref.pop(ref.ctx);
    if (tfaas_duk_number_string(x, fast) > 0) fast_taken++;
    if (strcmp(a, b) != 0) {
        if (mismatches++ < 10) fprintf(stderr, "ToString(%a): ours \"%s\", Duktape's \"%s\"\n", x, a, b);
        CHECK(0);
        return;
    }
    /* JSON.stringify writes numbers through its own path (and -0 as 0) */
    duk_push_number(ours, x);
    snprintf(a, sizeof a, "%s", duk_json_encode(ours, -1));
    duk_pop(ours);
    ref.push_number(ref.ctx, x);
    snprintf(b, sizeof b, "%s", ref.json_encode(ref.ctx, -1));
    ref.pop(ref.ctx);
    if (strcmp(a, b) != 0) {
        if (mismatches++ < 10) fprintf(stderr, "JSON.stringify(%a): ours \"%s\", Duktape's \"%s\"\n", x, a, b);
        CHECK(0);
    }
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void) { /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717u;
}

static double from_bits(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* x and its neighbours, both signs */
static void around(double x, int steps) {
    double up = x, down = x;
    compare(x);
    compare(-x);
    for (int i = 0; i < steps; i++) {
        up = nextafter(up, INFINITY);
        down = nextafter(down, 0);
        compare(up);
        compare(down);
        compare(-up);
    }
}

/* What the fast path writes, by hand (ECMAScript's layout rules), and
 * where it must decline. */
static void test_known(void) {
    static const struct {
        double x;
        const char *want; /* NULL: left to Duktape */
    } cases[] = {
        {0.618, "0.618"},
        {-0.5, "-0.5"},
        {123.456, "123.456"},
        {1e-6, "0.000001"},
        {1.5e-6, "0.0000015"},
        {1e-7, "1e-7"},
        {-1.25e-7, "-1.25e-7"},
        {1e20, "100000000000000000000"},
        {123456789012345e6, "123456789012345000000"},
        {1e21, "1e+21"},
        {1.5e21, "1.5e+21"},
        {1e36, "1e+36"},
        {1e37, NULL}, /* 10^-23 is not an exact double */
        {4294967297.5, "4294967297.5"},
        {999999999999999, "999999999999999"},
        {4217, "4217"},
        {-4294967297.0, "-4294967297"},
        {1e15, "1000000000000000"},
        {123456789012345678.0, NULL}, /* 123456789012345680: 17 digits */
        {0.1 + 0.2, NULL}, /* 0.30000000000000004: 17 digits */
        {1.0 / 3, NULL},
        {1e-300, NULL},
        {1e300, NULL},
        {5e-324, NULL},
        {0.0, NULL},
        {-0.0, NULL},
        {NAN, NULL},
        {INFINITY, NULL},
        {-INFINITY, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[TFAAS_DUK_NUMBER_MAX + 1];
        int n = tfaas_duk_number_string(cases[i].x, out);
        if (!cases[i].want) {
            CHECK(n == 0);
            continue;
        }
        CHECK(n > 0 && n <= TFAAS_DUK_NUMBER_MAX);
        out[n > 0 ? n : 0] = '\0';
        CHECK_STR(out, cases[i].want);
    }
}

int main(void) {
    test_known();
    if (load_reference() < 0) {
        CHECK(!"Debian's libduktape could not be loaded as the reference");
        return CHECK_DONE();
    }
    /* outside any heap's call there is no deadline (this also links
     * engine_duktape.c, where duktape.c's other hooks live) */
    CHECK(tfaas_duk_exec_timeout_check(NULL) == 0);
    ours = duk_create_heap_default();
    CHECK(ours != NULL);
    long n = getenv("TFAAS_NUMBERS_N") ? atol(getenv("TFAAS_NUMBERS_N")) : 50000;

    /* random bit patterns (NaNs and infinities included) */
    for (long i = 0; i < n / 10; i++) compare(from_bits(next()));
    /* random short decimals: 1-17 digits, exponents -30..40 */
    for (long i = 0; i < n; i++) {
        uint64_t r = next();
        int digits = 1 + (int)(r % 17), exp10 = (int)((r >> 8) % 71) - 30;
        uint64_t m = next() % 100000000000000000u;
        uint64_t cut = 1;
        for (int d = digits; d < 17; d++) cut *= 10;
        char text[64];
        snprintf(text, sizeof text, "%llue%d", (unsigned long long)(m / cut), exp10);
        compare(strtod(text, NULL));
    }
    /* the shapes of a JSON echo's numbers: up to 6 decimals, under 10^6 */
    for (long i = 0; i < n / 5; i++) compare((double)(next() % 1000000000000u) / 1e6);
    for (int e = -330; e <= 310; e++) {
        char text[32];
        snprintf(text, sizeof text, "1e%d", e);
        around(strtod(text, NULL), 2);
        snprintf(text, sizeof text, "9.99999999999999e%d", e);
        around(strtod(text, NULL), 2);
    }
    for (int e = -1074; e <= 1023; e++) around(ldexp(1, e), 1);
    const double edges[] = {1e-7, 1e-6, 1e21, 1e15, 1e16, 1e17, 1e22, 1e23, 4294967295.0, 4294967296.0,
                            9007199254740992.0, DBL_MAX, DBL_MIN, DBL_TRUE_MIN, DBL_EPSILON, 0.1, 0.5, 0.618};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) around(edges[i], 50);
    for (int i = 0; i < 10000; i++) compare(from_bits(next() & 0x000fffffffffffffu)); /* subnormals */
    compare(0.0);
    compare(-0.0);
    compare(NAN);
    compare(INFINITY);
    compare(-INFINITY);
    printf("test_duk_numbers: %ld doubles took the fast path\n", fast_taken);
    CHECK(mismatches == 0);
    CHECK(fast_taken > n / 2); /* the short decimals, at least */
    duk_destroy_heap(ours);
    ref.destroy_heap(ref.ctx);
    return CHECK_DONE();
}
