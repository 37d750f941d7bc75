/* labels.h - every label and JWS type of the confidential protocol in one
 * place (docs/protocol.md §5-§6 lists the same). Both sides and the CLI use
 * these constants, so a label is never spelt twice. */
#ifndef TFAAS_COMMON_LABELS_H
#define TFAAS_COMMON_LABELS_H

/* report_data = evidence_bind(label, ...) (SHA-512(label || 0x00 || data)) */
#define LABEL_KMS_REPORT "tfaas kms keys v1"        /* data: ES256 point (65) || X25519 pk (32) */

/* tee_seal purposes */
#define LABEL_SEAL_KMS_KEYS "tfaas kms keys v1"
#define LABEL_SEAL_FUNCTION "tfaas function record v1"

/* HPKE info of a deploy package sealed to the KMS */
#define LABEL_DEPLOY_INFO "tfaas deploy v1"
/* AEAD aad of confidential function code (aead_box under the code key) */
#define LABEL_CODE_AAD "tfaas code v1"

/* JWS typ of certificates and receipts */
#define JWS_TYP_FUNCTION_CERT "tfaas-function+jwt"
#define JWS_TYP_WORKER_CERT "tfaas-worker+jwt"
#define JWS_TYP_RECEIPT "tfaas-receipt+jwt"

/* Certificate lifetime: function certificates are renewed by redeploying. */
#define FUNCTION_CERT_LIFETIME_S (365 * 24 * 3600)

#endif
