/* policy.h - a confidential function's release policy: which worker
 * enclaves may receive its keys. JSON form (docs/protocol.md §6):
 *   {"measurements": ["<64 or 96 hex>", ...], "engine": "duktape",
 *    "tee": ["sgx", "tdx", ...], "min_tcb_status": "SWHardeningNeeded", "max_vmpl": 0,
 *    "invokers": [{"crv": "P-256", "kty": "EC", "x": .., "y": ..}, ...]}
 * A worker is accepted when its evidence's measurement is in the list (64
 * hex: sim or SGX MRENCLAVE; 96 hex: TDX MRTD or SNP MEASUREMENT), its
 * engine identity is the named engine ("duktape" accepts "duktape/2.7.0"),
 * its TEE is one of `tee` (optional; without it any) and, with
 * `min_tcb_status`, its TCB status is that Intel status or a better one
 * (evidence without a TCB status, sim and SNP, is then refused) and, with
 * `max_vmpl` (0..3), its SEV-SNP report was made at that VMPL or a more
 * privileged one (evidence without a VMPL, all but SNP, is then refused). Hardware
 * evidence carries no engine identity yet, so no hardware worker is
 * accepted until one is attested. The KMS applies it at key release; the CLI checks that a
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
#define POLICY_MEASUREMENT_MAX 48u
#define POLICY_MAX_TEES 4u

/* TEE kinds a policy names, as evidence_claims.tee spells them. */
typedef enum { POLICY_TEE_SIM, POLICY_TEE_SGX, POLICY_TEE_TDX, POLICY_TEE_SNP } policy_tee;

typedef struct {
    uint8_t measurements[POLICY_MAX_MEASUREMENTS][POLICY_MEASUREMENT_MAX];
    size_t measurement_lens[POLICY_MAX_MEASUREMENTS]; /* EVIDENCE_MEASUREMENT_LEN (32) or 48 */
    size_t nmeasurements;
    policy_tee tees[POLICY_MAX_TEES];   /* in the order given */
    size_t ntees;                       /* 0: any TEE */
    int min_tcb;                        /* index into policy_tcb_statuses; -1: no minimum */
    int vmpl_bound;                     /* SEV-SNP: 1 + max_vmpl; 0 (a zeroed policy): any VMPL */
    char engine[POLICY_MAX_ENGINE + 1];
    uint8_t invokers[POLICY_MAX_INVOKERS][P256_POINT_LEN]; /* SEC1 points of the invoker keys */
    size_t ninvokers;      /* 0: any request the function's OHTTP key opens is accepted */
} policy;

/* Intel's TCB statuses from best to worst; a minimum accepts its own
 * index and lower ones. Revoked is never accepted (evidence_check refuses it). */
extern const char *const policy_tcb_statuses[];
#define POLICY_NTCB_STATUSES 6

/* 0, or -1 with a reason in err: not an object, no or too many
 * measurements, a measurement that is not 64 or 96 hex digits, no engine,
 * tee not 1..4 distinct known kinds, min_tcb_status not a known status,
 * max_vmpl not an integer 0..3,
 * invokers that are not 1..16 P-256 JWKs of exactly crv, kty, x, y, or
 * members other than these three. */
int policy_parse(const json_t *j, policy *out, char *err, size_t errlen);
/* The canonical JSON (lower-case hex, given order; tee, min_tcb_status,
 * max_vmpl and invokers only when set, invokers as JWKs of crv, kty, x, y); new
 * reference. */
json_t *policy_json(const policy *p);
/* Does the policy accept a worker with these (verified) claims? */
int policy_accepts(const policy *p, const evidence_claims *c);

#endif
