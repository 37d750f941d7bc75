/* fetch.h - outbound HTTP(S) for functions, TLS ended inside the enclave.
 *
 * The engines' fetch() (V8: a Promise, Duktape: synchronous) calls
 * fetch_run with one request; it checks the URL against the activation's
 * egress policy (common/egress_policy.h), asks the host for a TCP
 * connection (egress_conn.h: the host resolves, checks every address,
 * connects and passes the socket), runs TLS over it with the enclave's
 * compiled-in CA set (tls.h) and speaks HTTP/1.1, following redirects.
 * The host only ever holds the socket's ciphertext.
 *
 * One fetch_activation per activation, used by the one thread that runs
 * it: it counts the connections and bytes the policy allows and holds the
 * deadline (the activation's). */
#ifndef TFAAS_TRUSTED_FETCH_FETCH_H
#define TFAAS_TRUSTED_FETCH_FETCH_H

#include "common/egress_policy.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FETCH_MAX_REDIRECTS 20
#define FETCH_MAX_HEADER_BYTES (64u << 10) /* a response's status line and headers */
#define FETCH_MAX_HEADERS 128u
#define FETCH_MAX_URL 8192u

typedef struct fetch_activation {
    egress_policies pol;      /* parsed from policy_text at the first fetch (most calls make none); first:
                                 fetch_activation_begin zeroes the fields after it, not its 37 KiB */
    const char *policy_text;  /* the INVOKE's egress field (borrowed), sent on with each connection request */
    size_t policy_len;
    int have_policy;          /* 0: the host sent none, or a malformed one (fetch is refused) */
    int parsed;               /* pol holds policy_text parsed */
    int confidential;         /* the policy's "ca" is not trusted then */
    uint64_t deadline_ns;     /* CLOCK_MONOTONIC; every wait ends by it */
    uint64_t connections;     /* opened so far */
    uint64_t bytes;           /* sent plus received so far */
} fetch_activation;

typedef enum { FETCH_REDIRECT_FOLLOW, FETCH_REDIRECT_MANUAL, FETCH_REDIRECT_ERROR } fetch_redirect;

typedef struct {
    char *name, *value;
} fetch_header;

typedef struct {
    const char *method; /* upper-cased by the caller where the spec says so */
    const char *url;
    const fetch_header *headers;
    size_t nheaders;
    const uint8_t *body; /* NULL: none */
    size_t body_len;
    fetch_redirect redirect;
} fetch_request;

typedef struct {
    int status;
    char *status_text;
    char *url;      /* the final URL, after redirects */
    int redirected;
    fetch_header *headers; /* names lower-cased, in arrival order */
    size_t nheaders;
    uint8_t *body;
    size_t body_len;
} fetch_response;

/* Begins an activation's egress: policy_json is the INVOKE's egress field
 * (a JSON array of policies; empty: fetch refused), borrowed until
 * fetch_activation_end. It is parsed at the first fetch, which a malformed
 * one fails with a message saying so. */
void fetch_activation_begin(fetch_activation *a, const char *policy_json, size_t len, int confidential,
                            uint64_t deadline_ns);
void fetch_activation_end(fetch_activation *a);

/* Runs one request. 0 with *res filled (free with fetch_response_free), or
 * -1 with *err: a message for the function's TypeError ("fetch: ..."). */
int fetch_run(fetch_activation *a, const fetch_request *req, fetch_response *res, char **err);
void fetch_response_free(fetch_response *res);

/* The process's egress channel to the host (enclave_main: --egress-fd),
 * -1 when the enclave has none. Set before any worker runs. */
void fetch_set_channel(int fd);

/* Initialises OpenSSL; call before the sandbox. 0 or -1. */
int fetch_init(void);

#ifdef __cplusplus
}
#endif

#endif
