/* labels.h - every label and JWS type of the confidential protocol in one
 * place (docs/protocol.md §5-§6 lists the same). Both sides and the CLI use
 * these constants, so a label is never spelt twice. */
#ifndef TFAAS_COMMON_LABELS_H
#define TFAAS_COMMON_LABELS_H

/* report_data = evidence_bind(label, ...) (SHA-512(label || 0x00 || data)) */
#define LABEL_KMS_REPORT "tfaas kms keys v1"        /* data: ES256 point (65) || X25519 pk (32) */

/* tee_seal purposes */
#define LABEL_SEAL_KMS_KEYS "tfaas kms keys v1"

#endif
