/* bhttp.c - RFC 9292 known-length Binary HTTP encode and decode (see bhttp.h). */
#include "common/bhttp.h"
#include "common/varint.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FRAMING_REQUEST  0u
#define FRAMING_RESPONSE 1u
#define FRAMING_REQUEST_INDETERMINATE  2u
#define FRAMING_RESPONSE_INDETERMINATE 3u

const char *bhttp_result_name(bhttp_result r) {
    switch (r) {
    case BHTTP_OK: return "ok";
    case BHTTP_ERR_TRUNCATED: return "truncated";
    case BHTTP_ERR_FRAMING: return "wrong framing indicator";
    case BHTTP_ERR_INDETERMINATE: return "indeterminate-length framing not supported";
    case BHTTP_ERR_CONTROL: return "bad control data";
    case BHTTP_ERR_STATUS: return "bad status code";
    case BHTTP_ERR_SECTION: return "bad field section";
    case BHTTP_ERR_FIELD: return "bad field line";
    case BHTTP_ERR_TOO_MANY: return "too many fields or informational responses";
    case BHTTP_ERR_CONTENT: return "content too large";
    case BHTTP_ERR_PADDING: return "non-zero padding";
    case BHTTP_ERR_MEMORY: return "out of memory";
    }
    return "unknown";
}

const bhttp_field *bhttp_header(const bhttp_message *m, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < m->nheaders; i++) {
        const bhttp_field *f = &m->fields[i];
        if (f->name.len == n && strncasecmp((const char *)f->name.ptr, name, n) == 0) return f;
    }
    return NULL;
}

bhttp_bytes bhttp_str(const char *s) {
    return (bhttp_bytes){(const uint8_t *)s, s ? strlen(s) : 0};
}

/* --- decoding: a cursor over the input */
typedef struct {
    const uint8_t *p;
    size_t left;
} reader;

static bhttp_result read_varint(reader *r, uint64_t *v) {
    size_t n = varint_decode(r->p, r->left, v);
    if (!n) return BHTTP_ERR_TRUNCATED;
    r->p += n;
    r->left -= n;
    return BHTTP_OK;
}

/* A varint length then that many bytes, at most max (else err). */
static bhttp_result read_bytes(reader *r, uint64_t max, bhttp_result err, bhttp_bytes *out) {
    uint64_t n = 0;
    bhttp_result res = read_varint(r, &n);
    if (res != BHTTP_OK) return res;
    if (n > max) return err;
    if (n > r->left) return BHTTP_ERR_TRUNCATED;
    out->ptr = r->p;
    out->len = (size_t)n;
    r->p += n;
    r->left -= (size_t)n;
    return BHTTP_OK;
}

/* One known-length field section into m->fields from *used on; *count lines. */
static bhttp_result read_section(reader *r, bhttp_message *m, size_t *used, size_t *count) {
    bhttp_bytes sec;
    bhttp_result res = read_bytes(r, BHTTP_MAX_SECTION, BHTTP_ERR_SECTION, &sec);
    if (res != BHTTP_OK) return res;
    reader s = {sec.ptr, sec.len};
    *count = 0;
    while (s.left) {
        if (*used >= BHTTP_MAX_FIELDS) return BHTTP_ERR_TOO_MANY;
        bhttp_field *f = &m->fields[*used];
        /* A line cut by the section's end is a section that does not match its lines. */
        res = read_bytes(&s, BHTTP_MAX_SECTION, BHTTP_ERR_SECTION, &f->name);
        if (res == BHTTP_OK) res = read_bytes(&s, BHTTP_MAX_SECTION, BHTTP_ERR_SECTION, &f->value);
        if (res == BHTTP_ERR_TRUNCATED) return BHTTP_ERR_SECTION;
        if (res != BHTTP_OK) return res;
        if (f->name.len == 0) return BHTTP_ERR_FIELD;
        (*used)++;
        (*count)++;
    }
    return BHTTP_OK;
}

/* Header section, content, trailers and padding: each may be absent at the end. */
static bhttp_result read_rest(reader *r, bhttp_message *m) {
    size_t used = 0;
    bhttp_result res = BHTTP_OK;
    if (r->left) res = read_section(r, m, &used, &m->nheaders);
    if (res == BHTTP_OK && r->left) res = read_bytes(r, BHTTP_MAX_CONTENT, BHTTP_ERR_CONTENT, &m->content);
    if (res == BHTTP_OK && r->left) res = read_section(r, m, &used, &m->ntrailers);
    if (res != BHTTP_OK) return res;
    for (size_t i = 0; i < r->left; i++)
        if (r->p[i] != 0) return BHTTP_ERR_PADDING;
    return BHTTP_OK;
}

/* Framing indicator: want for known length, refusing indeterminate and others. */
static bhttp_result read_framing(reader *r, uint64_t want, uint64_t indeterminate) {
    uint64_t f = 0;
    bhttp_result res = read_varint(r, &f);
    if (res != BHTTP_OK) return res;
    if (f == indeterminate) return BHTTP_ERR_INDETERMINATE;
    return f == want ? BHTTP_OK : BHTTP_ERR_FRAMING;
}

bhttp_result bhttp_request_decode(bhttp_message *m, const uint8_t *in, size_t len) {
    memset(m, 0, sizeof *m);
    reader r = {in, len};
    bhttp_result res = read_framing(&r, FRAMING_REQUEST, FRAMING_REQUEST_INDETERMINATE);
    bhttp_bytes *control[] = {&m->method, &m->scheme, &m->authority, &m->path};
    for (size_t i = 0; res == BHTTP_OK && i < 4; i++)
        res = read_bytes(&r, BHTTP_MAX_CONTROL, BHTTP_ERR_CONTROL, control[i]);
    if (res == BHTTP_OK && m->method.len == 0) res = BHTTP_ERR_CONTROL;
    return res == BHTTP_OK ? read_rest(&r, m) : res;
}

bhttp_result bhttp_response_decode(bhttp_message *m, const uint8_t *in, size_t len) {
    memset(m, 0, sizeof *m);
    reader r = {in, len};
    bhttp_result res = read_framing(&r, FRAMING_RESPONSE, FRAMING_RESPONSE_INDETERMINATE);
    /* Informational responses are checked and dropped. */
    for (size_t informational = 0; res == BHTTP_OK; informational++) {
        if ((res = read_varint(&r, &m->status)) != BHTTP_OK) break;
        if (m->status < 100 || m->status > 599) return BHTTP_ERR_STATUS;
        if (m->status >= 200) break;
        if (informational == BHTTP_MAX_INFORMATIONAL) return BHTTP_ERR_TOO_MANY;
        size_t used = 0, count = 0;
        res = read_section(&r, m, &used, &count);
    }
    return res == BHTTP_OK ? read_rest(&r, m) : res;
}

/* --- encoding: two passes, the first (out == NULL) counts */
typedef struct {
    uint8_t *out;
    size_t len;
} writer;

static void put_varint(writer *w, uint64_t v) {
    uint8_t tmp[8];
    size_t n = varint_encode(v, tmp);
    if (w->out) memcpy(w->out + w->len, tmp, n);
    w->len += n;
}

static void put_bytes(writer *w, bhttp_bytes b) {
    put_varint(w, b.len);
    if (w->out && b.len) memcpy(w->out + w->len, b.ptr, b.len);
    w->len += b.len;
}

/* Byte length of the lines of a section (without its own length prefix). */
static size_t section_len(const bhttp_field *f, size_t n) {
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += varint_size(f[i].name.len) + f[i].name.len + varint_size(f[i].value.len) + f[i].value.len;
    return len;
}

static void put_section(writer *w, const bhttp_field *f, size_t n) {
    put_varint(w, section_len(f, n));
    for (size_t i = 0; i < n; i++) {
        put_bytes(w, f[i].name);
        put_bytes(w, f[i].value);
    }
}

/* The checks an encoder applies so that it only writes what its decoder accepts. */
static bhttp_result check_message(const bhttp_message *m) {
    if (m->nheaders > BHTTP_MAX_FIELDS || m->ntrailers > BHTTP_MAX_FIELDS - m->nheaders)
        return BHTTP_ERR_TOO_MANY;
    if (section_len(m->fields, m->nheaders) > BHTTP_MAX_SECTION ||
        section_len(m->fields + m->nheaders, m->ntrailers) > BHTTP_MAX_SECTION)
        return BHTTP_ERR_SECTION;
    for (size_t i = 0; i < m->nheaders + m->ntrailers; i++)
        if (m->fields[i].name.len == 0) return BHTTP_ERR_FIELD;
    if (m->content.len > BHTTP_MAX_CONTENT) return BHTTP_ERR_CONTENT;
    return BHTTP_OK;
}

static void put_rest(writer *w, const bhttp_message *m) {
    put_section(w, m->fields, m->nheaders);
    put_bytes(w, m->content);
    put_section(w, m->fields + m->nheaders, m->ntrailers);
}

static void put_request(writer *w, const bhttp_message *m) {
    put_varint(w, FRAMING_REQUEST);
    put_bytes(w, m->method);
    put_bytes(w, m->scheme);
    put_bytes(w, m->authority);
    put_bytes(w, m->path);
    put_rest(w, m);
}

static void put_response(writer *w, const bhttp_message *m) {
    put_varint(w, FRAMING_RESPONSE);
    put_varint(w, m->status);
    put_rest(w, m);
}

/* Runs put twice: to size the buffer, then to fill it. */
static bhttp_result encode(const bhttp_message *m, void (*put)(writer *, const bhttp_message *),
                           uint8_t **out, size_t *len) {
    writer w = {NULL, 0};
    put(&w, m);
    w.out = malloc(w.len ? w.len : 1);
    if (!w.out) return BHTTP_ERR_MEMORY;
    size_t need = w.len;
    w.len = 0;
    put(&w, m);
    *out = w.out;
    *len = need;
    return BHTTP_OK;
}

bhttp_result bhttp_request_encode(const bhttp_message *m, uint8_t **out, size_t *len) {
    bhttp_result res = check_message(m);
    if (res != BHTTP_OK) return res;
    const bhttp_bytes *control[] = {&m->method, &m->scheme, &m->authority, &m->path};
    for (size_t i = 0; i < 4; i++)
        if (control[i]->len > BHTTP_MAX_CONTROL) return BHTTP_ERR_CONTROL;
    if (m->method.len == 0) return BHTTP_ERR_CONTROL;
    return encode(m, put_request, out, len);
}

bhttp_result bhttp_response_encode(const bhttp_message *m, uint8_t **out, size_t *len) {
    bhttp_result res = check_message(m);
    if (res != BHTTP_OK) return res;
    if (m->status < 200 || m->status > 599) return BHTTP_ERR_STATUS;
    return encode(m, put_response, out, len);
}
