/* dcap_collateral.h - Intel DCAP collateral: the TCB info and QE identity
 * Intel's PCS signs, the CRLs of the root CA and the PCK CA, and the chains
 * that sign them. JSON form (docs/protocol.md §5.5), as the samples and
 * Intel's PCCS clients hold it:
 *   {"tcb_info": "<exact JSON text>", "tcb_info_signature": "<hex r||s>",
 *    "tcb_info_issuer_chain": "<PEM>", "qe_identity": "<exact JSON text>",
 *    "qe_identity_signature": "<hex>", "qe_identity_issuer_chain": "<PEM>",
 *    "root_ca_crl": "<hex DER>", "pck_crl": "<hex DER>",
 *    "pck_crl_issuer_chain": "<PEM>"}
 * The signatures cover the exact bytes of tcb_info and qe_identity, which is
 * why they are strings and not parsed objects. */
#ifndef TFAAS_COMMON_DCAP_COLLATERAL_H
#define TFAAS_COMMON_DCAP_COLLATERAL_H

#include "common/evidence.h"

#include <jansson.h>
#include <openssl/x509.h>

#define DCAP_COLLATERAL_MAX_LEN (1u << 20)

typedef struct {
    json_t *tcb_info;          /* parsed and verified */
    json_t *qe_identity;       /* parsed and verified */
    STACK_OF(X509_CRL) *crls;  /* root CA CRL and PCK CRL, signatures verified */
} dcap_collateral;

/* Loads and verifies collateral against roots (with intermediates) at time
 * at: each issuer chain to a root with the CRLs, each signature over the
 * exact JSON bytes, each issueDate..nextUpdate window containing at, the
 * PCK CRL signed by its issuer chain. EVIDENCE_OK or the refusal, with
 * detail in why. Release with dcap_collateral_free. */
evidence_result dcap_collateral_load(const char *text, size_t len, STACK_OF(X509) *roots,
                                     STACK_OF(X509) *intermediates, int64_t at, dcap_collateral *out, char *why,
                                     size_t whylen);
void dcap_collateral_free(dcap_collateral *c);

#endif
