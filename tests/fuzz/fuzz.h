/* fuzz.h - helpers the libFuzzer targets of tests/fuzz share: a checked
 * invariant that aborts (so libFuzzer saves the input as a crash), a
 * NUL-terminated copy of the fuzzer's bytes for parsers that take C strings,
 * and a little-endian integer read from them. */
#ifndef TFAAS_TESTS_FUZZ_H
#define TFAAS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An invariant of the parser under test; a violation is a bug, not bad input. */
#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* The input as a C string (cut at its first NUL, as a C caller would see
 * it); the caller frees it. Aborts when out of memory, which libFuzzer's
 * -rss_limit_mb makes impossible for sane inputs. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A malloc'd copy of exactly size bytes (at least one allocated), so that
 * ASan reports any read past the input; the caller (or the decoder it is
 * handed to) frees it. Aborts when out of memory, as fuzz_cstr. */
static inline uint8_t *fuzz_bytes(const uint8_t *data, size_t size) {
    uint8_t *b = malloc(size ? size : 1);
    FUZZ_CHECK(b != NULL);
    if (size) memcpy(b, data, size);
    return b;
}

/* The 8 little-endian bytes at p, as the IPC codec writes integers. */
static inline uint64_t fuzz_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
