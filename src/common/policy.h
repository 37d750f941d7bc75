/* policy.h - a confidential function's release policy: which worker
 * enclaves may receive its keys. JSON form (docs/protocol.md §6):
 *   {"measurements": ["<64 hex>", ...], "engine": "duktape",
 *    "invokers": [{"crv": "P-256", "kty": "EC", "x": .., "y": ..}, ...]}
 * A worker is accepted when its evidence's measurement is in the list and
 * its engine identity is the named engine ("duktape" accepts
 * "duktape/2.7.0"). The KMS applies it at key release; the CLI checks that a
 * certificate states the policy it asked for. `invokers` (optional, ES256
 * public keys) makes the worker enclave accept only requests signed by one
 * of them (docs/protocol.md §6.7). */
#ifndef TFAAS_COMMON_POLICY_H
#define TFAAS_COMMON_POLICY_H

#include "common/evidence.h"
#include "common/p256.h"

#include <jansson.h>

#define POLICY_MAX_MEASUREMENTS 16u
#define POLICY_MAX_ENGINE 32u
#define POLICY_MAX_INVOKERS 16u

typedef struct {
    uint8_t measurements[POLICY_MAX_MEASUREMENTS][EVIDENCE_MEASUREMENT_LEN];
    size_t nmeasurements;
    char engine[POLICY_MAX_ENGINE + 1];
    uint8_t invokers[POLICY_MAX_INVOKERS][P256_POINT_LEN]; /* SEC1 points of the invoker keys */
    size_t ninvokers;      /* 0: any request the function's OHTTP key opens is accepted */
} policy;

/* 0, or -1 with a reason in err: not an object, no or too many
 * measurements, a measurement that is not 64 hex digits, no engine,
 * invokers that are not 1..16 P-256 JWKs of exactly crv, kty, x, y, or
 * members other than these three. */
int policy_parse(const json_t *j, policy *out, char *err, size_t errlen);
/* The canonical JSON (lower-case hex, given order; invokers only when
 * there are some, as JWKs of crv, kty, x, y); new reference. */
json_t *policy_json(const policy *p);
/* Does the policy accept a worker with these (verified) claims? */
int policy_accepts(const policy *p, const evidence_claims *c);

#endif
