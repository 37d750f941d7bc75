/* numbers.c - the numbers a JSON echo reads and writes, converted with one
 * exact IEEE operation instead of Duktape's bignum algorithms (issue 14:
 * reading 0.618 and writing it back were a tenth of the enclave's echo).
 *
 * Both rest on the same fact (Clinger's fast path): an integer below 2^53
 * and a power of ten up to 10^22 are exact doubles, so one multiplication
 * or division of the two is rounded once, correctly, to the double nearest
 * the decimal they stand for, exactly what Duktape's bignum conversion
 * computes. Anything outside those bounds is left to Duktape. */
#include "trusted/duktape/numbers.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* 10^0..10^22, all exact */
static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Most of a JSON echo's parameter decoding was Duktape interning each
 * number's text and converting it with bignums. At most 15 digits keep
 * the digits below 2^53 and the divisor at most 10^15. Anything else
 * (exponents, more digits, "01", "1.2.3", "-") is left to Duktape, whose
 * scan reports the errors. */
int tfaas_duk_json_number(const unsigned char *p, const unsigned char **end, double *out) {
    int negative = *p == '-';
    if (negative) p++;
    uint64_t m = 0;
    int digits = 0, frac = 0;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        for (; *p >= '0' && *p <= '9'; p++) {
            if (++digits > 15) return 0;
            m = m * 10 + (uint64_t)(*p - '0');
        }
    } else {
        return 0;
    }
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9')) return 0;
        for (; *p >= '0' && *p <= '9'; p++, frac++) {
            if (++digits > 15) return 0;
            m = m * 10 + (uint64_t)(*p - '0');
        }
    }
    /* where Duktape's own scan would go on (an exponent, "01", "1.2.3") */
    if ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-') return 0;
    double v = (double)m / pow10[frac];
    *out = negative ? -v : v; /* "-0" is -0, as JSON.parse reads it */
    *end = p;
    return 1;
}

/* The decimal digits of v > 0, at the end of d; returns how many. */
static int digits(char d[16], uint64_t v) {
    int count = 0;
    for (; v; v /= 10) d[15 - count++] = (char)('0' + v % 10);
    return count;
}

/* ECMAScript's layout of the digits d[0..k-1] of a number d.ddd x 10^(n-1)
 * (Number::toString, steps 6-10). */
static int layout(char *o, const char *d, int k, int n) {
    char *start = o;
    if (k <= n && n <= 21) { /* an integer: the digits, then n-k zeros */
        for (int i = 0; i < k; i++) *o++ = d[i];
        for (int i = k; i < n; i++) *o++ = '0';
    } else if (0 < n && n <= 21) { /* the point inside the digits */
        for (int i = 0; i < n; i++) *o++ = d[i];
        *o++ = '.';
        for (int i = n; i < k; i++) *o++ = d[i];
    } else if (-6 < n && n <= 0) { /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (int i = n; i < 0; i++) *o++ = '0';
        for (int i = 0; i < k; i++) *o++ = d[i];
    } else { /* d.ddde+x */
        *o++ = d[0];
        if (k > 1) {
            *o++ = '.';
            for (int i = 1; i < k; i++) *o++ = d[i];
        }
        *o++ = 'e';
        int x = n - 1;
        *o++ = x < 0 ? '-' : '+';
        if (x < 0) x = -x;
        if (x >= 100) *o++ = (char)('0' + x / 100);
        if (x >= 10) *o++ = (char)('0' + x / 10 % 10);
        *o++ = (char)('0' + x % 10);
    }
    return (int)(o - start);
}

/* Why rounding to 15 digits finds the answer whenever it has at most 15:
 * two decimals of at most 15 significant digits and the same magnitude are
 * at least 10^-15 of it apart, several times the spacing of doubles
 * (2^-52), so at most one of them rounds to x; if a shorter one does, it is
 * that one with zeros appended. So x rounded to a multiple of 10^-e, where
 * x * 10^e < 10^15, is either that decimal or proof there is none, and the
 * check divides (or multiplies) back exactly. ECMAScript's choice among
 * equally short decimals, the nearest to x, never arises: there is only
 * one. Longer answers (0.1 + 0.2) are left to Duktape. */
int tfaas_duk_number_string(double x, char *out) {
    char *o = out;
    double a = x;
    if (x < 0) {
        *o++ = '-';
        a = -x;
    }
    if (!(a >= 1e-30 && a <= 1e40)) return 0; /* also NaN, zero, infinities */
    char d[16];
    if (a < 1e15 && a == (double)(uint64_t)a) {
        /* An integer below 10^15 (JSON.parse makes doubles, not fastints):
         * its own digits, since a decimal of fewer significant digits is
         * another integer, 1 or more away, and doubles here are at most
         * 1/8 apart. */
        int count = digits(d, (uint64_t)a);
        memcpy(o, d + 16 - count, (size_t)count);
        return (int)(o - out) + count;
    }
    int b;
    (void)frexp(a, &b); /* 2^(b-1) <= a < 2^b */
    /* 15 - e digits before the point: a * 10^e < 10^15, and from the binary
     * exponent's estimate of log10(a) at most one too many */
    int e = 15 - ((int)floor((b - 1) * 0.30102999566398120) + 1);
    double t = 0;
    for (int pass = 0; pass < 2; pass++, e--) {
        if (e > 22 || e < -22) return 0;
        t = e >= 0 ? a * pow10[e] : a / pow10[-e];
        if (t < 1e15) break;
    }
    if (!(t < 1e15)) return 0;
    uint64_t s = (uint64_t)(t + 0.5); /* t < 2^50: the sum is exact */
    double back = e >= 0 ? (double)s / pow10[e] : (double)s * pow10[-e];
    if (back != a) return 0;
    int count = digits(d, s);
    int k = count;
    while (d[16 - count + k - 1] == '0') k--;
    return (int)(o - out) + layout(o, d + 16 - count, k, count - e);
}
