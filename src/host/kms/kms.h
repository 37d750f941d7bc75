/* kms.h - the host's side of the key service: launches the KMS enclave
 * (tfaas-kms, an enclave binary of its own with no JavaScript engine),
 * keeps its sealed key blob in the state directory and relays requests to
 * it over the IPC codec.
 *
 * The host never sees a KMS private key: it stores STATE/kms-keys.sealed
 * and STATE/kms-state.sealed (the latest deploy version of each confidential
 * function), which only an enclave with the KMS's measurement on the same
 * platform can open (not a worker enclave: those measure differently). If the
 * KMS process dies, the next request starts a new one from the same blob, so
 * no key is lost. Requests are serialised (one mutex, held until a reply's new
 * sealed state is written): the KMS is used on deploys and key releases (a
 * worker's first call of a function, and a lease renewal every REPLAY_LEASE_S
 * or so), not on every invocation.
 *
 * Several nodes: a KMS without keys can join a running node's (kms_peer.h,
 * docs/protocol.md §5.6), and deploys and releases go through the state
 * shared in the store (kms_shared_store, a compare-and-swap per request). */
#ifndef TFAAS_HOST_KMS_H
#define TFAAS_HOST_KMS_H

#include "common/ipc.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KMS_SEALED_FILE "kms-keys.sealed"
/* The KMS's sealed deploy versions and replay leases (docs/protocol.md
 * §5.3), replaced after every confidential deploy and key release. */
#define KMS_STATE_FILE "kms-state.sealed"
#define KMS_STATE_MAX (16u << 20) /* what the KMS can seal (TEE_MAX_SEALED) */

typedef struct kms_service kms_service;

/* A worker enclave binary whose measurement the attestation document lists
 * (docs/protocol.md §5.1), e.g. {"duktape", ".../tfaas-enclave"}. */
typedef struct {
    const char *engine;
    const char *path;
} kms_worker_binary;

#define KMS_MAX_WORKER_BINARIES 4u

/* Where the key service's state shared by all nodes is kept (the store's
 * kms_state row, docs/architecture.md "The key service on several nodes").
 * get: 0 with *blob (malloc'd; NULL and *generation 0 when none is kept)
 * or -1 with *err. put: 0 when stored as generation expect + 1, 1 when the
 * kept generation is no longer expect (another node wrote first), -1 with
 * *err. */
typedef struct {
    void *ud;
    int (*get)(void *ud, int64_t *generation, uint8_t **blob, size_t *len, char **err);
    int (*put)(void *ud, int64_t expect, const uint8_t *blob, size_t len, char **err);
} kms_shared_store;

/* Rounds of read, sync, request and compare-and-swap before a deploy or
 * release that keeps losing the race to other nodes gives up (503). */
#define KMS_SHARED_ROUNDS 8

typedef struct {
    const char *kms_path;     /* tfaas-kms */
    const char *state_dir;    /* the sim platform's public key and the sealed KMS keys live here */
    const char *platform_key; /* the sim platform's private key file (sim_platform_ensure made it) */
    const kms_worker_binary *workers; /* at most KMS_MAX_WORKER_BINARIES; path NULL = not built */
    size_t nworkers;
    /* Base URL of a running node whose KMS hands this one its keys and state
     * (docs/protocol.md §5.6) when STATE/kms-keys.sealed does not exist yet;
     * NULL: make new keys then. */
    const char *peer;
    const kms_shared_store *shared; /* NULL: this node's state only */
} kms_config;

/* Starts the KMS and initialises it. NULL with *err malloc'd. */
kms_service *kms_service_start(const kms_config *cfg, char **err);
void kms_service_stop(kms_service *k);

/* The attestation document (GET /tfaas/v1/attestation; docs/protocol.md §5).
 * New reference; NULL with *err when the KMS cannot be (re)started. */
json_t *kms_service_attestation(kms_service *k, char **err);

/* What the KMS returns for a confidential deploy (owned; kms_deployed_free). */
typedef struct {
    char *certificate;          /* function certificate, compact JWS */
    uint8_t *record;            /* function record sealed by the KMS to itself */
    size_t record_len;
    uint8_t *ohttp_keys;        /* application/ohttp-keys */
    size_t ohttp_keys_len;
} kms_deployed;

/* Hands a tenant's sealed deploy package for ns/name to the KMS. 0, or -1
 * with *err (malloc'd) and *status: the KMS's refusal (KMS_ERR_OPEN,
 * KMS_ERR_POLICY, KMS_ERR_REQUEST: the tenant's fault; KMS_ERR_STALE: the
 * package's deploy version is not above the function's latest) or
 * KMS_ERR_INTERNAL when the KMS is unreachable or its new sealed state
 * could not be stored (STATE/kms-state.sealed, written before returning). */
int kms_service_deploy(kms_service *k, const char *ns, const char *name, const uint8_t *sealed,
                       size_t sealed_len, kms_deployed *out, kms_status *status, char **err);
void kms_deployed_free(kms_deployed *d);

/* Asks the KMS to release a function's keys (its sealed record) to a
 * worker enclave (its identity from a NEED_KEYS answer). 0 with *bundle
 * (malloc'd, for the worker) once the KMS's new state (holding the
 * release's replay lease) is stored, or -1 with *err and *status as for
 * deploy (KMS_ERR_POLICY: the worker is not accepted). */
int kms_service_release(kms_service *k, const uint8_t *record, size_t record_len, const char *worker,
                        size_t worker_len, char **bundle, size_t *bundle_len, kms_status *status, char **err);

/* A transfer hello from a joining node (docs/protocol.md §5.6): the
 * joiner's evidence and X25519 transfer key. 0 with *evidence and *wrapped
 * (malloc'd) to relay back, or -1 with *err and *status (KMS_ERR_POLICY:
 * the joiner's evidence is refused; KMS_ERR_REQUEST: malformed;
 * KMS_ERR_INTERNAL: the KMS is down). */
int kms_service_give(kms_service *k, const char *hello_ev, size_t hello_ev_len, const uint8_t *key, size_t key_len,
                     char **evidence, size_t *evidence_len, uint8_t **wrapped, size_t *wrapped_len,
                     kms_status *status, char **err);

/* pid of the KMS process (0 when none runs). For tests and fault injection. */
pid_t kms_service_pid(kms_service *k);

#endif
