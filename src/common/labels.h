/* labels.h - every label and JWS type of the confidential protocol in one
 * place (docs/protocol.md §5-§6 lists the same). Both sides and the CLI use
 * these constants, so a label is never spelt twice. */
#ifndef TFAAS_COMMON_LABELS_H
#define TFAAS_COMMON_LABELS_H

/* report_data = evidence_bind(label, ...) (SHA-512(label || 0x00 || data)) */
#define LABEL_KMS_REPORT "tfaas kms keys v1"        /* data: ES256 point (65) || X25519 pk (32) */
#define LABEL_WORKER_REPORT "tfaas worker keys v1"  /* data: ES256 point (65) || X25519 pk (32) */
/* KMS-to-KMS key transfer (docs/protocol.md §5.6) */
#define LABEL_KMS_JOIN_REPORT "tfaas kms join v1"   /* data: the joiner's X25519 transfer key (32) */
#define LABEL_KMS_GIVE_REPORT "tfaas kms give v1"   /* data: SHA-256(hello) (32) || SHA-256(enc || ct) (32) */
/* HPKE info of the key material a KMS wraps to a joining KMS */
#define LABEL_KMS_TRANSFER_INFO "tfaas kms transfer v1"

/* HPKE info of a key release wrapped to a worker's X25519 key */
#define LABEL_RELEASE_INFO "tfaas release v1"
/* OHTTP request context export and aead_box aad of a confidential
 * function's logs (only the requester can derive the key) */
#define LABEL_LOGS "tfaas logs v1"

/* tee_seal purposes */
#define LABEL_SEAL_KMS_KEYS "tfaas kms keys v1"
#define LABEL_SEAL_FUNCTION "tfaas function record v1"
/* HKDF salt of the key function records are sealed under since records
 * must open on every KMS holding the same keys (kms.c, record_key), and
 * the aad of those records is LABEL_SEAL_FUNCTION */
#define LABEL_RECORD_KEY "tfaas function record key v1"
/* aead_box aad of the key service's state shared through the store (under
 * the record key) */
#define LABEL_KMS_SHARED_STATE "tfaas kms shared state v1"
/* the KMS's deploy-version table (kms.c): survives KMS restarts */
#define LABEL_SEAL_KMS_STATE "tfaas kms state v1"

/* HPKE info of a deploy package sealed to the KMS */
#define LABEL_DEPLOY_INFO "tfaas deploy v1"
/* AEAD aad of confidential function code (aead_box under the code key) */
#define LABEL_CODE_AAD "tfaas code v1"

/* JWS typ of certificates and receipts */
#define JWS_TYP_FUNCTION_CERT "tfaas-function+jwt"
#define JWS_TYP_WORKER_CERT "tfaas-worker+jwt"
/* A receipt is a Merkle root over a batch of calls' claims, signed once
 * (docs/protocol.md §6.5); each call's claims come with their proof. */
#define JWS_TYP_RECEIPT_ROOT "tfaas-receipt-root+jwt"
/* JWS typ of an invoker's signature over one request (invoker_sig.h) */
#define JWS_TYP_INVOKE "tfaas-invoke+jwt"

/* Certificate lifetimes: function certificates are renewed by redeploying,
 * worker certificates by a new key release (a new enclave, or after expiry). */
#define FUNCTION_CERT_LIFETIME_S (365 * 24 * 3600)
#define WORKER_CERT_LIFETIME_S (24 * 3600)

/* Header fields of the Binary HTTP response inside a confidential
 * response: the receipt and the worker certificate travel encrypted, so
 * the host never reads the status or resource figures they state. */
#define RECEIPT_FIELD "tfaas-receipt"
#define WORKER_CERT_FIELD "tfaas-worker-certificate"
/* Header field of the Binary HTTP request inside a confidential request:
 * the invoker's signature, for functions whose policy names invoker keys. */
#define INVOKER_SIG_FIELD "tfaas-signature"

/* Deploy versions are JSON integers 1..2^53-1 (exact in every JSON
 * implementation, JavaScript's included). */
#define DEPLOY_VERSION_MAX 9007199254740991LL

/* Replay window of confidential requests: the inner Date header must be
 * within this many seconds of the enclave's clock, and an enclave remembers
 * every request's enc for that long. */
#define REPLAY_WINDOW_S 60
/* Replay leases (docs/protocol.md §6.6): the KMS gives each key release of
 * a function a range of Dates [accept_from, accept_until] that never
 * overlaps the ranges of earlier releases of that function; a worker
 * accepts only requests dated within its range. A range reaches this many
 * seconds past the time of its release, which is also the longest a new
 * worker waits for a dead one's range to run out. */
#define REPLAY_LEASE_S 10

#endif
