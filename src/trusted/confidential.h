/* confidential.h - the worker enclave's side of confidential functions
 * (docs/protocol.md §6.4): its own attested keys, installing a key release
 * from the KMS, opening OHTTP requests, refusing replays, and sealing the
 * response, the receipt and the logs.
 *
 * A worker makes one ES256 key (receipts) and one X25519 key (releases are
 * wrapped to it) at start-up and quotes both: report_data =
 * evidence_bind(LABEL_WORKER_REPORT, ES256 point || X25519 pk). A function's
 * keys arrive from the host as the KMS's release bundle; the worker checks
 * the KMS's evidence (same platform root, and the measurement of the
 * tfaas-kms it was built with, compiled into the worker), the
 * worker certificate the KMS signed, and opens the keys wrapped to it.
 * A release also gives a replay lease: the range of request Dates this
 * worker may accept, disjoint from every other release of the function, so
 * a request accepted by one worker is never accepted by another (or by a
 * restarted one); within its range the worker remembers what it opened.
 * Thread-safe: worker threads share one conf_state. */
#ifndef TFAAS_TRUSTED_CONFIDENTIAL_H
#define TFAAS_TRUSTED_CONFIDENTIAL_H

#include "common/ipc.h"
#include "common/ohttp.h"
#include "common/invoker_sig.h"
#include "trusted/engine.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Refusals of code the host altered in storage (docs/protocol.md §6.4). */
#define CONF_MSG_CODE_TAMPERED "The function's stored code does not decrypt with its code key: it was altered in storage."
#define CONF_MSG_CODE_NOT_CERTIFIED "The function's stored code is not the code its certificate names (code_hash): it was altered in storage."

#define CONF_MAX_FUNCTIONS 1024u   /* functions with keys held at once (LRU beyond) */
/* Requests remembered within the replay window. An entry lives about 61 s
 * (its Date plus the window), so this caps what one worker enclave accepts
 * at about 34,000 confidential requests per second (beyond: 503); 40 bytes
 * each, allocated as they come (80 MiB when full). */
#define CONF_REPLAY_SLOTS (1u << 21)

typedef struct conf_state conf_state;

/* Only in an enclave with a TEE, after tee_init and before sandbox_prepare
 * (it quotes once, and a sim quote client can quote only while starting:
 * enclave_main.c). NULL on failure, with *err unless memory ran out. */
conf_state *conf_create(char **err);
void conf_destroy(conf_state *c);

typedef enum {
    CONF_READY,     /* run the function with call->params (and call->code if set) */
    CONF_NEED_KEYS, /* answer TFAAS_STATUS_NEED_KEYS with *reply (the identity) */
    CONF_REFUSED,   /* answer TFAAS_STATUS_APPLICATION_ERR with *reply {"error","status"} */
} conf_step;

/* One confidential invocation between conf_begin and conf_batch_add. */
typedef struct {
    char *code;            /* plaintext code if the host sent code, else NULL */
    size_t code_len;
    char *params;          /* the parameters: the defaults merged with the request body, a JSON object text */
    size_t params_len;
    hpke_keypair ohttp;    /* the function's OHTTP key pair */
    EVP_PKEY *ohttp_key;   /* the same as a key object (a reference to the function's) */
    uint8_t key_id;
    ohttp_ctx ctx;         /* the request's context, for the response */
    uint8_t request_sha256[32];
    char *ns, *name, *code_hash, *worker_cert;
    char *defaults;        /* the function's confidential default parameters (secrets), JSON object text */
    invoker_keys invokers; /* its invoker keys (thumbprints made once); n 0: none required */
    json_int_t version;    /* the deploy version the KMS certified */
    int64_t accept_from, accept_until; /* the release's replay lease (Dates) */
    int fresh_keys;        /* the keys came with this INVOKE (no second renewal) */
} conf_call;

/* First step of one INVOKE of a confidential function: the function's keys
 * (installing a release the host sent) and, when the host sent code, the
 * decrypted code checked against the certified hash. *reply is malloc'd for
 * NEED_KEYS and REFUSED. Nothing of the request is touched yet, so an
 * INVOKE that must be resent (keys, code) is not taken for a replay. */
conf_step conf_begin(conf_state *c, const char *fn_key, const ipc_field *code, const ipc_field *keys,
                     conf_call *call, char **reply);
/* Second step, once the function is loadable: decapsulates the OHTTP
 * request, decodes Binary HTTP, checks Date, the replay lease and replays,
 * and sets params. READY, NEED_KEYS (a Date past the lease: the KMS renews
 * it; *reply is the identity) or REFUSED (*reply malloc'd). */
conf_step conf_open(conf_state *c, conf_call *call, const ipc_field *request, char **reply);

/* Receipts signed in batches (docs/protocol.md §6.5): a worker keeps the
 * finished calls of one lane while the next call of that lane is ready to
 * run (endpoint.c), then signs one Merkle root over their claims and seals
 * each response with its own claims, the root and its audit path. A batch
 * holds at most CONF_BATCH_MAX calls, and a worker starts another call for
 * it only while the oldest held answer has waited less than
 * CONF_BATCH_WINDOW_US, counting the last call's run as what the next one
 * will take. */
#define CONF_BATCH_MAX 8u
#define CONF_BATCH_WINDOW_US 1000u
#define CONF_NONCE_LEN 16u /* random bytes in each leaf's claims */

/* One finished call waiting for its batch's root. */
typedef struct {
    uint64_t id;            /* the caller's (the INVOKE's IPC id) */
    conf_call call;
    engine_outcome o;
    char *claims;           /* the leaf: the claims' exact bytes */
    size_t claims_len;
    uint8_t leaf[32];       /* its leaf hash */
} conf_pending;

typedef struct {
    size_t n;
    uint64_t first_us;      /* when the oldest held call finished (the caller's clock) */
    conf_pending items[CONF_BATCH_MAX];
} conf_batch;

/* Adds a finished call (outcome o, run by activation_id, cpu_us of CPU) to
 * b, taking call and o (left zeroed). 0, or -1 (b full, a bad activation id,
 * no memory): then call and o are still the caller's, who answers with an
 * error. */
int conf_batch_add(conf_state *c, conf_batch *b, uint64_t id, conf_call *call, engine_outcome *o,
                   const char *activation_id, uint64_t cpu_us);

/* Signs b's root and seals each call's response, in the order added:
 * sent(arg, id, sealed, sealed_len, logs) for each, sealed being the OHTTP
 * response (the receipt and the worker certificate are header fields of the
 * encrypted Binary HTTP response inside it) and logs b64url(logs box) or "";
 * sealed is NULL when that call could not be sealed. Empties b. */
typedef void (*conf_sent_fn)(void *arg, uint64_t id, const uint8_t *sealed, size_t sealed_len, const char *logs);
void conf_batch_flush(conf_state *c, conf_batch *b, conf_sent_fn sent, void *arg);
void conf_call_free(conf_call *call);

#endif
