/* bhttp.h - Binary HTTP messages (RFC 9292), known-length framing: the
 * plaintext inside OHTTP (ohttp.h).
 *
 *   request  = varint 0, method, scheme, authority, path (each varint length
 *              + bytes), header section, content, trailer section, padding
 *   response = varint 1, informational responses (status 100..199 + section),
 *              final status 200..599, header section, content, trailers, padding
 *   section  = varint byte length, then lines of (name length, name,
 *              value length, value); content = varint length + bytes;
 *   padding  = zero bytes to the end.
 * A message may end early at a section boundary (RFC 9292 §3.8): what is
 * missing is empty. Indeterminate-length framing (2, 3) is refused.
 *
 * Decoding borrows: every bhttp_bytes of a decoded message points into the
 * input buffer, which must outlive it. Encoding returns a malloc'd buffer
 * the caller frees. */
#ifndef TFAAS_COMMON_BHTTP_H
#define TFAAS_COMMON_BHTTP_H

#include <stddef.h>
#include <stdint.h>

#define BHTTP_MAX_FIELDS        128u          /* header + trailer lines in one message */
#define BHTTP_MAX_SECTION       (64u << 10)   /* bytes of one field section */
#define BHTTP_MAX_CONTROL       (8u << 10)    /* bytes of one of method/scheme/authority/path */
#define BHTTP_MAX_CONTENT       (16u << 20)   /* bytes of content */
#define BHTTP_MAX_INFORMATIONAL 8u            /* 1xx responses before the final one */

typedef enum {
    BHTTP_OK = 0,
    BHTTP_ERR_TRUNCATED,      /* ends inside a field, a varint or a length it announced */
    BHTTP_ERR_FRAMING,        /* framing indicator not 0 (request) / 1 (response) */
    BHTTP_ERR_INDETERMINATE,  /* indeterminate-length framing, not supported */
    BHTTP_ERR_CONTROL,        /* empty method, or a control field past BHTTP_MAX_CONTROL */
    BHTTP_ERR_STATUS,         /* status out of 100..599, or a final one below 200 */
    BHTTP_ERR_SECTION,        /* section length past BHTTP_MAX_SECTION or not matching its lines */
    BHTTP_ERR_FIELD,          /* empty field name */
    BHTTP_ERR_TOO_MANY,       /* past BHTTP_MAX_FIELDS or BHTTP_MAX_INFORMATIONAL */
    BHTTP_ERR_CONTENT,        /* content past BHTTP_MAX_CONTENT */
    BHTTP_ERR_PADDING,        /* non-zero bytes after the trailers */
    BHTTP_ERR_MEMORY,
} bhttp_result;

typedef struct {
    const uint8_t *ptr;
    size_t len;
} bhttp_bytes;

typedef struct {
    bhttp_bytes name, value;
} bhttp_field;

/* One message. Requests use method..path, responses status; headers are
 * fields[0..nheaders), trailers fields[nheaders..nheaders+ntrailers). */
typedef struct {
    bhttp_bytes method, scheme, authority, path;
    uint64_t status;
    size_t nheaders, ntrailers;
    bhttp_field fields[BHTTP_MAX_FIELDS];
    bhttp_bytes content;
} bhttp_message;

const char *bhttp_result_name(bhttp_result r);

bhttp_result bhttp_request_decode(bhttp_message *m, const uint8_t *in, size_t len);
bhttp_result bhttp_response_decode(bhttp_message *m, const uint8_t *in, size_t len);
bhttp_result bhttp_request_encode(const bhttp_message *m, uint8_t **out, size_t *len);
bhttp_result bhttp_response_encode(const bhttp_message *m, uint8_t **out, size_t *len);

/* The first header field (not trailer) named `name`, compared without
 * case (RFC 9110 §5.1), or NULL. */
const bhttp_field *bhttp_header(const bhttp_message *m, const char *name);

/* A bhttp_bytes over a NUL-terminated string (for building messages). */
bhttp_bytes bhttp_str(const char *s);

#endif
