/* json_writer.h - JSON text written straight into a growing buffer, for
 * the documents the hot path produces on every activation (its record, the
 * run description sent to the enclave), where building a jansson tree only
 * to serialise it cost more than the rest of the work. Writes after a
 * failed allocation do nothing and set `oom`, so a writer checks once at
 * the end. Strings must be UTF-8 (common/json_text.h). */
#ifndef TFAAS_HOST_UTIL_JSON_WRITER_H
#define TFAAS_HOST_UTIL_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data; /* malloc'd, NUL-terminated once anything was written; the caller frees it */
    size_t len, cap;
    int oom;
} json_writer;

void jw_raw(json_writer *w, const char *s, size_t n);      /* bytes as they are */
void jw_lit(json_writer *w, const char *s);                /* a C string as it is */
void jw_escaped(json_writer *w, const char *s, size_t n);  /* the inside of a JSON string */
void jw_string(json_writer *w, const char *s);             /* a quoted JSON string */
void jw_stringn(json_writer *w, const char *s, size_t n);
void jw_int(json_writer *w, int64_t v);

#endif
