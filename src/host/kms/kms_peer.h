/* kms_peer.h - the host's relay of a KMS-to-KMS key transfer (docs/protocol.md
 * §5.6): one HTTP exchange with the node named by `tfaas serve --kms-peer
 * URL`. The host only carries the two messages; what they hold is checked
 * by the two key services, never here. */
#ifndef TFAAS_HOST_KMS_PEER_H
#define TFAAS_HOST_KMS_PEER_H

#include <jansson.h>

/* The path a running node answers a transfer hello on (POST). */
#define KMS_PEER_PATH "/tfaas/v1/kms/transfer"
/* Bounds of one exchange: the peer's KMS makes one quote and one HPKE seal. */
#define KMS_PEER_TIMEOUT_S 30L
#define KMS_PEER_RESPONSE_MAX ((size_t)16 << 20) /* the state may reach TEE_MAX_SEALED */

/* POSTs hello (JSON) to base_url + KMS_PEER_PATH. The peer's 200 answer
 * (a new reference), or NULL with *err (malloc'd) naming the peer's refusal
 * (its OpenWhisk error text) or why no answer came. */
json_t *kms_peer_exchange(const char *base_url, const json_t *hello, char **err);

#endif
