/* framing.c - Content-Length / Transfer-Encoding judgement; see framing.h. */
#include "host/gateway/framing.h"

#include <string.h>
#include <strings.h>

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* Counts the codings of one Transfer-Encoding value (a comma list whose
 * empty elements do not count, RFC 9110 §5.6.1), noting which they are. */
static void add_codings(framing *f, const char *v) {
    while (*v) {
        while (is_ows(*v) || *v == ',') v++;
        const char *start = v;
        while (*v && *v != ',') v++;
        const char *end = v;
        while (end > start && is_ows(end[-1])) end--;
        if (end == start) continue;
        int chunked = end - start == 7 && strncasecmp(start, "chunked", 7) == 0;
        /* chunked twice, or anything before the last chunked, is a coding
         * this server does not implement (parameters included). */
        if (f->te_chunked_last || !chunked) f->te_other = 1;
        f->te_chunked_last = chunked;
        f->te_codings++;
    }
}

/* RFC 9110 §5.6.2: a header name is a token of tchar, at least one. */
static int is_token(const char *s) {
    if (!*s) return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr("!#$%&'*+-.^_`|~", c)))
            return 0;
    }
    return 1;
}

void framing_add(framing *f, const char *name, const char *value) {
    if (!name) return;
    if (!value) value = "";
    if (!is_token(name)) f->bad_name = 1;
    if (strcasecmp(name, "Content-Length") == 0) {
        if (!f->content_length) f->content_length = value;
        else if (strcmp(f->content_length, value) != 0) f->cl_conflict = 1;
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        f->te_seen = 1;
        add_codings(f, value);
    }
}

framing_result framing_check(const framing *f, int http10) {
    if (f->bad_name) return FRAMING_BAD_NAME;
    if (f->cl_conflict) return FRAMING_CL_CONFLICT;
    if (!f->te_seen) return FRAMING_OK;
    if (f->content_length) return FRAMING_CL_AND_TE;
    if (http10) return FRAMING_TE_HTTP10;
    if (!f->te_chunked_last) return FRAMING_TE_NOT_CHUNKED;
    if (f->te_other) return FRAMING_TE_UNSUPPORTED;
    return FRAMING_OK;
}

unsigned framing_status(framing_result r) {
    switch (r) {
    case FRAMING_OK: return 0;
    case FRAMING_TE_UNSUPPORTED: return 501;
    default: return 400;
    }
}

const char *framing_name(framing_result r) {
    switch (r) {
    case FRAMING_OK: return "the framing is unambiguous";
    case FRAMING_BAD_NAME: return "a header name is not a token (whitespace before the colon?)";
    case FRAMING_CL_CONFLICT: return "the request has conflicting Content-Length headers";
    case FRAMING_CL_AND_TE: return "the request has both Content-Length and Transfer-Encoding";
    case FRAMING_TE_NOT_CHUNKED: return "the request's Transfer-Encoding does not end with chunked";
    case FRAMING_TE_HTTP10: return "an HTTP/1.0 request cannot have a Transfer-Encoding";
    case FRAMING_TE_UNSUPPORTED: return "the request uses a transfer coding other than chunked";
    }
    return "unknown framing result";
}
