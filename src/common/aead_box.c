/* aead_box.c - nonce-prefixed one-shot AEAD; see aead_box.h. Runs the AEAD
 * through a one-message HPKE context (sequence 0, base nonce = the box's
 * nonce), as OHTTP responses do, so the cipher code exists once. */
#include "common/aead_box.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

static hpke_result box_ctx(hpke_ctx *ctx, uint16_t aead_id, const uint8_t *key, const uint8_t *nonce) {
    memset(ctx, 0, sizeof *ctx);
    if (!hpke_aead_supported(aead_id, &ctx->nk)) return HPKE_ERR_SUITE;
    ctx->aead_id = aead_id;
    memcpy(ctx->key, key, ctx->nk);
    memcpy(ctx->base_nonce, nonce, HPKE_NN);
    return HPKE_OK;
}

hpke_result aead_box_seal(uint16_t aead_id, const uint8_t *key, const uint8_t *aad, size_t aad_len,
                          const uint8_t *pt, size_t len, uint8_t **out, size_t *out_len) {
    *out = NULL;
    if (len > AEAD_BOX_MAX - AEAD_BOX_OVERHEAD) return HPKE_ERR_LENGTH;
    uint8_t *buf = malloc(AEAD_BOX_OVERHEAD + len);
    if (!buf) return HPKE_ERR_CRYPTO;
    hpke_ctx ctx;
    size_t ct_len = 0;
    hpke_result r = RAND_bytes(buf, HPKE_NN) == 1 ? box_ctx(&ctx, aead_id, key, buf) : HPKE_ERR_CRYPTO;
    if (r == HPKE_OK) r = hpke_seal(&ctx, aad, aad_len, pt, len, buf + HPKE_NN, len + HPKE_NT, &ct_len);
    hpke_ctx_wipe(&ctx);
    if (r != HPKE_OK) {
        free(buf);
        return r;
    }
    *out = buf;
    *out_len = HPKE_NN + ct_len;
    return HPKE_OK;
}

hpke_result aead_box_open(uint16_t aead_id, const uint8_t *key, const uint8_t *aad, size_t aad_len,
                          const uint8_t *box, size_t len, uint8_t **pt, size_t *pt_len) {
    *pt = NULL;
    if (len < AEAD_BOX_OVERHEAD || len > AEAD_BOX_MAX) return HPKE_ERR_LENGTH;
    size_t n = len - AEAD_BOX_OVERHEAD;
    uint8_t *buf = malloc(n + 1);
    if (!buf) return HPKE_ERR_CRYPTO;
    hpke_ctx ctx;
    hpke_result r = box_ctx(&ctx, aead_id, key, box);
    if (r == HPKE_OK) r = hpke_open(&ctx, aad, aad_len, box + HPKE_NN, len - HPKE_NN, buf, n + 1, pt_len);
    hpke_ctx_wipe(&ctx);
    if (r != HPKE_OK) {
        free(buf);
        return r;
    }
    buf[*pt_len] = 0;
    *pt = buf;
    return HPKE_OK;
}
