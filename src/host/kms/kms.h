/* kms.h - the host's side of the key service: launches the KMS enclave
 * (tfaas-enclave --role kms, measured like any enclave), keeps its sealed key
 * blob in the state directory and relays requests to it over the IPC codec.
 *
 * The host never sees a KMS private key: it stores STATE/kms-keys.sealed,
 * which only an enclave with the same measurement on the same platform can
 * open. If the KMS process dies, the next request starts a new one from the
 * same blob, so no key is lost. Requests are serialised (one mutex): the KMS
 * is used on deploys and key releases, not on every invocation. */
#ifndef TFAAS_HOST_KMS_H
#define TFAAS_HOST_KMS_H

#include <jansson.h>
#include <sys/types.h>

#define KMS_SEALED_FILE "kms-keys.sealed"

typedef struct kms_service kms_service;

typedef struct {
    const char *enclave_path; /* tfaas-enclave */
    const char *state_dir;    /* sim platform key and sealed KMS keys live here */
} kms_config;

/* Makes the sim platform key if needed, starts the KMS and initialises it.
 * NULL with *err malloc'd. */
kms_service *kms_service_start(const kms_config *cfg, char **err);
void kms_service_stop(kms_service *k);

/* The attestation document (GET /tfaas/v1/attestation; docs/protocol.md §5).
 * New reference; NULL with *err when the KMS cannot be (re)started. */
json_t *kms_service_attestation(kms_service *k, char **err);

/* pid of the KMS process (0 when none runs). For tests and fault injection. */
pid_t kms_service_pid(kms_service *k);

#endif
