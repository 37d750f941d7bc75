/* json_scan.c - a one-pass, allocation-free check that JSON text is an
 * object jansson accepts; see json_scan.h. Iterative, so hostile nesting
 * costs a bit per level in a fixed array, never stack frames. */
#include "host/util/json_scan.h"

#include "common/json_depth.h"
#include "host/util/utf8.h"

#include <stddef.h>

/* Beyond these, jansson may refuse valid JSON (json_int_t holds every
 * integer of 18 digits; a double every real below 1e308), so the scan
 * leaves the answer to it. */
#define SCAN_INT_DIGITS 18
#define SCAN_REAL_MAGNITUDE 300

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) { /* stops at the NUL: it is not a hex digit */
        char c = p[i];
        unsigned d = is_digit(c) ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16u) return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

/* p just after the opening quote; the end of the string after its closing
 * quote, or NULL. jansson refuses raw control characters, text that is not
 * UTF-8, unknown escapes, unpaired surrogate escapes, and "\u0000" in a key
 * (even with JSON_ALLOW_NUL). */
static const char *scan_string(const char *p, int key) {
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL; /* also the text's end */
        if (c >= 0x80) {
            size_t n = utf8_seq((const unsigned char *)p);
            if (!n) return NULL;
            p += n;
            continue;
        }
        if (c != '\\') {
            p++;
            continue;
        }
        c = (unsigned char)p[1];
        if (c != 'u') {
            if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' && c != 't')
                return NULL;
            p += 2;
            continue;
        }
        unsigned u, low;
        if (!hex4(p + 2, &u) || (key && u == 0)) return NULL;
        p += 6;
        if (u >= 0xDC00 && u <= 0xDFFF) return NULL;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &low) || low < 0xDC00 || low > 0xDFFF) return NULL;
            p += 6;
        }
    }
}

/* The end of the number at p, or NULL when it is malformed or might be
 * beyond what jansson holds. */
static const char *scan_number(const char *p) {
    if (*p == '-') p++;
    const char *digits = p;
    if (*p == '0') p++;
    else if (is_digit(*p)) while (is_digit(*p)) p++;
    else return NULL;
    size_t int_digits = (size_t)(p - digits);
    int real = 0;
    if (*p == '.') {
        real = 1;
        if (!is_digit(*++p)) return NULL;
        while (is_digit(*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        real = 1;
        p++;
        int negative = *p == '-';
        if (*p == '+' || *p == '-') p++;
        if (!is_digit(*p)) return NULL;
        size_t exp = 0;
        for (; is_digit(*p); p++)
            if (exp <= SCAN_REAL_MAGNITUDE) exp = exp * 10 + (size_t)(*p - '0');
        /* a small real becomes 0 or a subnormal, which jansson takes */
        if (!negative && exp + int_digits > SCAN_REAL_MAGNITUDE) return NULL;
    }
    if (real ? int_digits > SCAN_REAL_MAGNITUDE : int_digits > SCAN_INT_DIGITS) return NULL;
    return p;
}

static const char *scan_literal(const char *p, const char *word) {
    for (; *word; word++, p++)
        if (*p != *word) return NULL;
    return p;
}

int json_scan_object(const char *text) {
    /* open[d] bit: level d+1 is an object (else an array) */
    unsigned char open[(JSON_MAX_DEPTH + 7) / 8];
    size_t depth = 0;
    const char *p = skip_ws(text);
    if (*p != '{') return 0;
    enum { VALUE, KEY, AFTER } want = VALUE;
    for (;;) {
        switch (want) {
        case VALUE:
            if (*p == '{' || *p == '[') {
                if (depth == JSON_MAX_DEPTH) return 0;
                int object = *p == '{';
                if (object) open[depth / 8] |= (unsigned char)(1u << depth % 8);
                else open[depth / 8] &= (unsigned char)~(1u << depth % 8);
                depth++;
                p = skip_ws(p + 1);
                if (*p == (object ? '}' : ']')) {
                    depth--;
                    p++;
                    want = AFTER;
                } else {
                    want = object ? KEY : VALUE;
                }
                continue;
            }
            if (*p == '"') p = scan_string(p + 1, 0);
            else if (*p == 't') p = scan_literal(p, "true");
            else if (*p == 'f') p = scan_literal(p, "false");
            else if (*p == 'n') p = scan_literal(p, "null");
            else p = scan_number(p);
            if (!p) return 0;
            want = AFTER;
            continue;
        case KEY:
            if (*p != '"' || !(p = scan_string(p + 1, 1))) return 0;
            p = skip_ws(p);
            if (*p != ':') return 0;
            p = skip_ws(p + 1);
            want = VALUE;
            continue;
        case AFTER: {
            p = skip_ws(p);
            if (depth == 0) return *p == '\0'; /* the outermost object closed */
            int object = open[(depth - 1) / 8] >> (depth - 1) % 8 & 1;
            if (*p == ',') {
                p = skip_ws(p + 1);
                want = object ? KEY : VALUE;
            } else if (*p == (object ? '}' : ']')) {
                depth--;
                p++;
            } else {
                return 0;
            }
            continue;
        }
        }
    }
}
