/* invoker_sig.h - end-to-end authorization of confidential invocations
 * (docs/protocol.md §6.7): a function whose policy names invoker keys runs
 * only requests signed by one of them. The signature travels inside the
 * encapsulated request (Binary HTTP header `tfaas-signature`), so the host,
 * which routes the request, neither sees it nor can make one: a compact
 * JWS (ES256, typ "tfaas-invoke+jwt", kid the key's RFC 7638 thumbprint,
 * required: it picks the one key tried)
 * over {"target": "ns/name", "date": <the request's date header>,
 * "content_sha256": <hex SHA-256 of the request content>}.
 * The CLI signs with invoker_sig_sign, a worker enclave checks with
 * invoker_sig_verify. */
#ifndef TFAAS_COMMON_INVOKER_SIG_H
#define TFAAS_COMMON_INVOKER_SIG_H

#include "common/p256.h"
#include "common/policy.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    INVOKER_SIG_OK = 0,
    INVOKER_SIG_MISSING,       /* no signature where one is required */
    INVOKER_SIG_MALFORMED,     /* not an ES256 JWS of typ tfaas-invoke+jwt with a kid and the three claims */
    INVOKER_SIG_UNKNOWN_KEY,   /* kid names none of the function's invoker keys, or that key did not sign it */
    INVOKER_SIG_OTHER_REQUEST, /* signed for another function, Date or content */
    INVOKER_SIG_ERROR,         /* memory or OpenSSL failure */
} invoker_sig_result;

const char *invoker_sig_result_name(invoker_sig_result r);

/* The signature of one request by key; malloc'd JWS text, or NULL. */
char *invoker_sig_sign(EVP_PKEY *key, const char *target, const char *date, const uint8_t *content,
                       size_t content_len);

/* The invoker keys of a function: SEC1 points and their RFC 7638
 * thumbprints, made once (invoker_keys_add) and matched by kid. */
typedef struct {
    uint8_t points[POLICY_MAX_INVOKERS][P256_POINT_LEN];
    char kids[POLICY_MAX_INVOKERS][P256_THUMBPRINT_LEN + 1];
    size_t n;
} invoker_keys;

/* Adds a key (its SEC1 point); 0, or -1 when full or not a P-256 point. */
int invoker_keys_add(invoker_keys *ks, const uint8_t point[P256_POINT_LEN]);

/* Checks sig (sig_len bytes; NULL when the request has none) against the
 * invoker keys for this target, date and content. */
invoker_sig_result invoker_sig_verify(const char *sig, size_t sig_len, const invoker_keys *ks, const char *target,
                                      const char *date, const uint8_t *content, size_t content_len);

#endif
