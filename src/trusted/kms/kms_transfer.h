/* kms_transfer.h - the key service's side of the KMS-to-KMS key transfer
 * (docs/protocol.md §5.6): how a new node's KMS gets the keys and state of
 * a running one through a host that relays the bytes but can neither read
 * nor alter them.
 *
 *   joiner: hello = its evidence over a fresh X25519 transfer key
 *           (report_data LABEL_KMS_JOIN_REPORT), and that key;
 *   giver:  checks the hello's evidence against its OWN measurement, wraps
 *           the payload to the transfer key (HPKE, info
 *           LABEL_KMS_TRANSFER_INFO) and quotes report_data
 *           LABEL_KMS_GIVE_REPORT over SHA-256(hello) || SHA-256(wrapped);
 *   joiner: checks that evidence against its own measurement and its own
 *           hello, then opens the payload.
 * Only the evidence and HPKE calls are used, so a hardware TEE backend
 * slots in through tee_quote/tee_verify. Nothing here knows the payload's
 * layout (kms.c makes and reads it). */
#ifndef TFAAS_TRUSTED_KMS_TRANSFER_H
#define TFAAS_TRUSTED_KMS_TRANSFER_H

#include "common/evidence.h"
#include "common/hpke.h"

#include <stddef.h>
#include <stdint.h>

/* The joiner's side between its hello and the answer. */
typedef struct {
    hpke_keypair key;     /* the transfer key, used for one transfer */
    char *evidence;       /* the hello's evidence (malloc'd) */
    size_t evidence_len;
    int pending;          /* a hello was made and not yet answered */
} kms_join;

typedef enum {
    KT_OK = 0,
    KT_MALFORMED,   /* a field of the wrong size or shape */
    KT_EVIDENCE,    /* the peer's evidence does not verify or bind this transfer (see *er) */
    KT_OPEN,        /* the wrapped payload does not open: altered on the way */
    KT_INTERNAL,    /* crypto or memory failure */
} kt_result;

const char *kt_result_name(kt_result r);

/* Makes the transfer key and the hello's evidence into *j (wiped first). */
kt_result kms_join_hello(kms_join *j);
void kms_join_wipe(kms_join *j);

/* The giver: checks the hello (evidence, key) and wraps payload to it.
 * *evidence and *wrapped are malloc'd. *er says why evidence failed. */
kt_result kms_transfer_give(const uint8_t *hello_ev, size_t hello_ev_len, const uint8_t *hello_key, size_t key_len,
                            const uint8_t *payload, size_t payload_len, char **evidence, size_t *evidence_len,
                            uint8_t **wrapped, size_t *wrapped_len, evidence_result *er);

/* The joiner: checks the giver's evidence against j's hello and opens the
 * wrapped payload (*payload malloc'd; the caller wipes it). */
kt_result kms_transfer_adopt(const kms_join *j, const uint8_t *ev, size_t ev_len, const uint8_t *wrapped,
                             size_t wrapped_len, uint8_t **payload, size_t *payload_len, evidence_result *er);

#endif
