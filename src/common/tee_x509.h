/* tee_x509.h - the X.509 and signature steps hardware evidence shares
 * (OpenSSL does the work): loading certificates and CRLs, verifying a chain
 * to trusted roots at a given time with CRLs, raw ECDSA signatures as TEEs
 * write them (r || s, big- or little-endian), and the pinned vendor roots.
 * dcap_verify.c and snp_verify.c build on it. */
#ifndef TFAAS_COMMON_TEE_X509_H
#define TFAAS_COMMON_TEE_X509_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* Every certificate of a PEM text, or the one certificate of a DER blob.
 * NULL when there is none or any of them does not parse. */
STACK_OF(X509) *tee_certs_load(const void *data, size_t len);
/* A CRL from hex of its DER (the DCAP collateral's form) or PEM; NULL if bad. */
X509_CRL *tee_crl_load(const char *text);

/* Trusted roots and intermediates from a PEM text: self-signed
 * certificates go to *roots, the others to *intermediates. With pem NULL,
 * the pinned vendor roots of tee_roots.c. 0, or -1 when the text has no
 * self-signed certificate or does not parse. */
int tee_trust_load(const char *pem, size_t len, STACK_OF(X509) **roots, STACK_OF(X509) **intermediates);

/* Verifies leaf to one of roots through untrusted, at time `at` (certificate
 * and CRL validity), with every CRL given checked for every certificate
 * when crls is not NULL (a certificate whose issuer has no CRL there is
 * refused). 0, or -1 with OpenSSL's reason in why. */
int tee_chain_verify(X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls,
                     int64_t at, char *why, size_t whylen);

/* The leaf (first certificate) of a PEM chain, verified as tee_chain_verify
 * does through the chain's other certificates and intermediates. 0 with
 * *leaf (the caller's), -1 when the text is not certificates, -2 when the
 * chain does not verify (reason in why). */
int tee_chain_leaf(const void *pem, size_t len, STACK_OF(X509) *roots, STACK_OF(X509) *intermediates,
                   STACK_OF(X509_CRL) *crls, int64_t at, X509 **leaf, char *why, size_t whylen);

/* ECDSA over msg with md, signature as r and s of n bytes each, big-endian
 * (Intel) or little-endian (AMD). 1 valid, 0 not. */
int tee_ecdsa_verify(EVP_PKEY *key, const EVP_MD *md, const uint8_t *r, const uint8_t *s, size_t n,
                     int little_endian, const void *msg, size_t len);

/* "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339 in UTC, optional fraction) to seconds
 * since the epoch; 0 or -1. */
int tee_time_parse(const char *text, int64_t *out);

/* The pinned roots (PEM, tee_roots.c): Intel SGX Root CA, AMD ARK/ASK
 * (Milan, Genoa, Turin) and ARK/ASVK (Milan). */
extern const char TEE_PINNED_ROOTS_PEM[];

#endif
