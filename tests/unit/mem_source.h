/* mem_source.h - a byte stream from memory, handed out `step` bytes per
 * read: the server side of http_response_read (http_read_fn) for
 * test_http_response and fuzz_enclave_http. */
#ifndef TFAAS_TESTS_MEM_SOURCE_H
#define TFAAS_TESTS_MEM_SOURCE_H

#include <string.h>
#include <sys/types.h>

typedef struct {
    const void *p;
    size_t left, step;
} mem_source;

static inline ssize_t mem_source_read(void *src, void *buf, size_t len, char **err) {
    (void)err;
    mem_source *s = src;
    size_t n = s->left < s->step ? s->left : s->step;
    if (n > len) n = len;
    memcpy(buf, s->p, n);
    s->p = (const char *)s->p + n;
    s->left -= n;
    return (ssize_t)n;
}

#endif
