/* hw_samples.h - reading the genuine hardware evidence samples
 * (../shared/hw-evidence/samples, TFAAS_HW_EVIDENCE set by CMake) in the C
 * unit tests. Only libc. */
#ifndef TFAAS_TESTS_HW_SAMPLES_H
#define TFAAS_TESTS_HW_SAMPLES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The file dir/rel, malloc'd with a NUL after it (*len without it), or NULL. */
static inline uint8_t *hw_sample_read(const char *dir, const char *rel, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = buf ? (size_t)n : 0;
    return buf;
}

#endif
