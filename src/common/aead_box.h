/* aead_box.h - one-shot authenticated encryption with a fresh random nonce:
 *   box = nonce (12 bytes) || AEAD-Seal(key, nonce, aad, plaintext)
 * with one of HPKE's AEADs (AES-128-GCM, ChaCha20-Poly1305). Used for
 * confidential function code (the tenant's code key), sealed blobs (the TEE
 * sealing key) and anything else that needs a key, not a key exchange. */
#ifndef TFAAS_COMMON_AEAD_BOX_H
#define TFAAS_COMMON_AEAD_BOX_H

#include "common/hpke.h"

#include <stddef.h>
#include <stdint.h>

#define AEAD_BOX_OVERHEAD (HPKE_NN + HPKE_NT)
#define AEAD_BOX_MAX (64u << 20)

/* *out (malloc'd) = box of pt; key has the AEAD's Nk bytes. */
hpke_result aead_box_seal(uint16_t aead_id, const uint8_t *key, const uint8_t *aad, size_t aad_len,
                          const uint8_t *pt, size_t len, uint8_t **out, size_t *out_len);
/* *pt (malloc'd, one spare NUL byte) = the opened box. HPKE_ERR_OPEN when
 * the tag does not verify (tampered, wrong key or aad), HPKE_ERR_LENGTH when
 * the box is shorter than AEAD_BOX_OVERHEAD or past AEAD_BOX_MAX. */
hpke_result aead_box_open(uint16_t aead_id, const uint8_t *key, const uint8_t *aad, size_t aad_len,
                          const uint8_t *box, size_t len, uint8_t **pt, size_t *pt_len);

#endif
