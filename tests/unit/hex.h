/* hex.h - hex helpers for C unit tests that check published test vectors. */
#ifndef TFAAS_TESTS_HEX_H
#define TFAAS_TESTS_HEX_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes a hex string into a fresh buffer the caller frees; *len gets its size. */
static inline uint8_t *unhex(const char *hex, size_t *len) {
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n ? n : 1);
    for (size_t i = 0; out && i < n; i++) {
        unsigned v = 0;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) v = 0;
        out[i] = (uint8_t)v;
    }
    *len = n;
    return out;
}

/* Are the len bytes at b the bytes the hex string spells? */
static inline int eq_hex(const uint8_t *b, size_t len, const char *hex) {
    size_t n = 0;
    uint8_t *want = unhex(hex, &n);
    int ok = want && n == len && memcmp(b, want, n) == 0;
    free(want);
    return ok;
}
#endif
