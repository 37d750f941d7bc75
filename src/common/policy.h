/* policy.h - a confidential function's release policy: which worker
 * enclaves may receive its keys. JSON form (docs/protocol.md §6):
 *   {"measurements": ["<64 hex>", ...], "engine": "duktape"}
 * A worker is accepted when its evidence's measurement is in the list and
 * its engine identity is the named engine ("duktape" accepts
 * "duktape/2.7.0"). The KMS applies it at key release; the CLI checks that a
 * certificate states the policy it asked for. */
#ifndef TFAAS_COMMON_POLICY_H
#define TFAAS_COMMON_POLICY_H

#include "common/evidence.h"

#include <jansson.h>

#define POLICY_MAX_MEASUREMENTS 16u
#define POLICY_MAX_ENGINE 32u

typedef struct {
    uint8_t measurements[POLICY_MAX_MEASUREMENTS][EVIDENCE_MEASUREMENT_LEN];
    size_t nmeasurements;
    char engine[POLICY_MAX_ENGINE + 1];
} policy;

/* 0, or -1 with a reason in err: not an object, no or too many
 * measurements, a measurement that is not 64 hex digits, no engine, or
 * members other than these two. */
int policy_parse(const json_t *j, policy *out, char *err, size_t errlen);
/* The canonical JSON (lower-case hex, given order); new reference. */
json_t *policy_json(const policy *p);
/* Does the policy accept a worker with these (verified) claims? */
int policy_accepts(const policy *p, const evidence_claims *c);

#endif
