/* embedded.h - the shapes of files compiled into a binary by
 * scripts/embed.cmake (the one mechanism: the console's files, the V8
 * enclave's JavaScript, the worker enclaves' CA set). A generated source
 * defines, for one file or several joined, `const unsigned char NAME[]`
 * (NUL-terminated) and `const size_t NAME_len`; for a set of files, an
 * array of embedded_file and its count. Users declare what they use with
 * EMBEDDED_BYTES / EMBEDDED_FILES. */
#ifndef TFAAS_COMMON_EMBEDDED_H
#define TFAAS_COMMON_EMBEDDED_H

#include <stddef.h>

#ifdef __cplusplus
#define EMBEDDED_EXTERN extern "C"
#else
#define EMBEDDED_EXTERN extern
#endif

typedef struct {
    const char *name;          /* the file's name in its directory: "index.html" */
    const unsigned char *data; /* data[len] is a NUL */
    size_t len;
} embedded_file;

/* Declares the bytes NAME, NAME_len (one file, or several joined). */
#define EMBEDDED_BYTES(name)                                                                                         \
    EMBEDDED_EXTERN const unsigned char name[];                                                                      \
    EMBEDDED_EXTERN const size_t name##_len
/* Declares the set NAME, NAME_count. */
#define EMBEDDED_FILES(name)                                                                                         \
    EMBEDDED_EXTERN const embedded_file name[];                                                                      \
    EMBEDDED_EXTERN const size_t name##_count

#endif
