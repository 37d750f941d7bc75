/* evidence_hw.h - what evidence.c and the hardware verifiers (dcap_*.c,
 * snp_verify.c) share; not for other callers (they use evidence.h). */
#ifndef TFAAS_COMMON_EVIDENCE_HW_H
#define TFAAS_COMMON_EVIDENCE_HW_H

#include "common/evidence.h"

#include <jansson.h>

/* Intel DCAP quote (sgx, tdx) and AMD SEV-SNP report verification. The
 * format is already recognised; claims are written as they are learnt and
 * only handed out by evidence_check on EVIDENCE_OK. */
evidence_result dcap_verify(const uint8_t *buf, size_t len, const evidence_trust *t, evidence_claims *c,
                            char *why, size_t whylen);
evidence_result snp_verify(const uint8_t *buf, size_t len, const evidence_trust *t, evidence_claims *c,
                           char *why, size_t whylen);

/* Formats the detail of a refusal into why (when not NULL) and returns r. */
__attribute__((format(printf, 4, 5)))
evidence_result evidence_refuse(char *why, size_t whylen, evidence_result r, const char *fmt, ...);
/* Appends a named field; -1 when the claims are full or value too long. */
int evidence_field_add(evidence_claims *c, const char *name, const uint8_t *value, size_t len);
/* Appends the strings of a JSON array of advisory ids (a missing array is
 * none) once each; -1 when one is not a string, too long, or too many. */
int evidence_advisories_add(evidence_claims *c, const json_t *ids);

#endif
