/* framing.h - whether a request's body framing is unambiguous (RFC 9112
 * §6): the Content-Length and Transfer-Encoding headers it carries are
 * collected one by one and then judged. Pure string work, unit-tested.
 *
 * Why: libmicrohttpd 0.9.75 lets Transfer-Encoding: chunked win over a
 * Content-Length and ignores any other Transfer-Encoding (then reading the
 * body by Content-Length, or as empty), and keeps a header whose name has
 * whitespace before the colon ("Content-Length : 5") as a different header;
 * a proxy in front may frame the same bytes differently, so the rest of the
 * body would be read here as a second request (request smuggling). Every
 * such request is refused and its connection closed. (A folded header line,
 * obs-fold, is joined to the previous value by libmicrohttpd, which RFC 9112
 * §5.2 permits: it never starts a header of its own.) */
#ifndef TFAAS_HOST_GATEWAY_FRAMING_H
#define TFAAS_HOST_GATEWAY_FRAMING_H

typedef enum {
    FRAMING_OK = 0,
    FRAMING_BAD_NAME,       /* a header name that is not a token (whitespace before ':'): 400 */
    FRAMING_CL_CONFLICT,    /* Content-Length headers with different values: 400 */
    FRAMING_CL_AND_TE,      /* both Content-Length and Transfer-Encoding: 400 */
    FRAMING_TE_NOT_CHUNKED, /* Transfer-Encoding whose last coding is not chunked: 400 */
    FRAMING_TE_HTTP10,      /* Transfer-Encoding in an HTTP/1.0 request: 400 */
    FRAMING_TE_UNSUPPORTED, /* a transfer coding before chunked (gzip, chunked): 501 */
} framing_result;

/* What the headers said so far. Zero-initialise before the first header. */
typedef struct {
    const char *content_length; /* the first value; borrowed from the request */
    int cl_conflict;            /* a later Content-Length differed */
    int te_seen;                /* any Transfer-Encoding header */
    int te_codings;             /* codings listed, over all its headers */
    int te_chunked_last;        /* the last coding listed is chunked */
    int te_other;               /* a coding other than chunked, or chunked twice */
    int bad_name;               /* a header name with a character outside tchar */
} framing;

/* Notes one request header; headers other than the two are ignored. */
void framing_add(framing *f, const char *name, const char *value);
/* The verdict, once every header was added. http10: the request line said
 * HTTP/1.0, where Transfer-Encoding is not defined (RFC 9112 §6.1). */
framing_result framing_check(const framing *f, int http10);
/* The status to answer (400, 501; 0 for FRAMING_OK) and why, for the body. */
unsigned framing_status(framing_result r);
const char *framing_name(framing_result r);

#endif
