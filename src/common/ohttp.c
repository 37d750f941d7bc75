/* ohttp.c - RFC 9458 key configurations and request/response encapsulation
 * (see ohttp.h). */
#include "common/ohttp.h"
#include "common/hkdf.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

const char *ohttp_result_name(ohttp_result r) {
    switch (r) {
    case OHTTP_OK: return "ok";
    case OHTTP_ERR_TRUNCATED: return "truncated";
    case OHTTP_ERR_MALFORMED: return "malformed";
    case OHTTP_ERR_KEY_ID: return "unknown key id";
    case OHTTP_ERR_SUITE: return "unsupported suite";
    case OHTTP_ERR_TOO_LARGE: return "too large";
    case OHTTP_ERR_OPEN: return "authentication failed";
    case OHTTP_ERR_KEY: return "unusable key";
    case OHTTP_ERR_CRYPTO: return "crypto library failure";
    }
    return "unknown";
}

static ohttp_result from_hpke(hpke_result r) {
    switch (r) {
    case HPKE_OK: return OHTTP_OK;
    case HPKE_ERR_SUITE: return OHTTP_ERR_SUITE;
    case HPKE_ERR_LENGTH: return OHTTP_ERR_MALFORMED;
    case HPKE_ERR_KEY: return OHTTP_ERR_KEY;
    case HPKE_ERR_OPEN: return OHTTP_ERR_OPEN;
    case HPKE_ERR_SEQ_OVERFLOW:
    case HPKE_ERR_CRYPTO: return OHTTP_ERR_CRYPTO;
    }
    return OHTTP_ERR_CRYPTO;
}

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p) {
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* key_id(1) kem_id(2) pk(32) suites_len(2) suites(4 each) */
#define KEY_CONFIG_FIXED (1u + 2u + HPKE_NPK + 2u)

ohttp_result ohttp_key_config_encode(const ohttp_key_config *cfg, uint8_t *out, size_t cap,
                                     size_t *len) {
    if (cfg->kem_id != HPKE_KEM_X25519_SHA256) return OHTTP_ERR_SUITE;
    if (cfg->nsuites == 0 || cfg->nsuites > OHTTP_MAX_SUITES) return OHTTP_ERR_MALFORMED;
    size_t n = KEY_CONFIG_FIXED + 4u * cfg->nsuites;
    if (cap < n) return OHTTP_ERR_TOO_LARGE;
    out[0] = cfg->key_id;
    put16(out + 1, cfg->kem_id);
    memcpy(out + 3, cfg->pk, HPKE_NPK);
    put16(out + 3 + HPKE_NPK, (uint16_t)(4u * cfg->nsuites));
    for (size_t i = 0; i < cfg->nsuites; i++) {
        put16(out + KEY_CONFIG_FIXED + 4 * i, cfg->suites[i].kdf_id);
        put16(out + KEY_CONFIG_FIXED + 4 * i + 2, cfg->suites[i].aead_id);
    }
    *len = n;
    return OHTTP_OK;
}

ohttp_result ohttp_key_config_parse(ohttp_key_config *cfg, const uint8_t *in, size_t len) {
    if (len < 3) return OHTTP_ERR_TRUNCATED;
    memset(cfg, 0, sizeof *cfg);
    cfg->key_id = in[0];
    cfg->kem_id = get16(in + 1);
    if (cfg->kem_id != HPKE_KEM_X25519_SHA256) return OHTTP_ERR_SUITE;
    if (len < KEY_CONFIG_FIXED) return OHTTP_ERR_TRUNCATED;
    memcpy(cfg->pk, in + 3, HPKE_NPK);
    size_t slen = get16(in + 3 + HPKE_NPK);
    if (slen < 4 || slen % 4 != 0) return OHTTP_ERR_MALFORMED;
    if (len - KEY_CONFIG_FIXED < slen) return OHTTP_ERR_TRUNCATED;
    if (len - KEY_CONFIG_FIXED > slen) return OHTTP_ERR_MALFORMED;
    /* Keeps the supported suites, in the server's order of preference. */
    for (size_t off = KEY_CONFIG_FIXED; off < len; off += 4) {
        ohttp_suite s = {get16(in + off), get16(in + off + 2)};
        if (s.kdf_id != HPKE_KDF_HKDF_SHA256 || !hpke_aead_supported(s.aead_id, NULL)) continue;
        if (cfg->nsuites < OHTTP_MAX_SUITES) cfg->suites[cfg->nsuites++] = s;
    }
    return cfg->nsuites ? OHTTP_OK : OHTTP_ERR_SUITE;
}

ohttp_result ohttp_keys_encode(const ohttp_key_config *cfgs, size_t n, uint8_t *out, size_t cap,
                               size_t *len) {
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (cap - off < 2) return OHTTP_ERR_TOO_LARGE;
        size_t one = 0;
        ohttp_result r = ohttp_key_config_encode(&cfgs[i], out + off + 2, cap - off - 2, &one);
        if (r != OHTTP_OK) return r;
        put16(out + off, (uint16_t)one);
        off += 2 + one;
    }
    *len = off;
    return OHTTP_OK;
}

ohttp_result ohttp_keys_parse(const uint8_t *in, size_t len, ohttp_key_config *cfgs, size_t max,
                              size_t *n) {
    size_t off = 0, count = 0;
    while (off < len) {
        if (len - off < 2) return OHTTP_ERR_TRUNCATED;
        size_t one = get16(in + off);
        off += 2;
        if (len - off < one) return OHTTP_ERR_TRUNCATED;
        if (count < max) {
            ohttp_result r = ohttp_key_config_parse(&cfgs[count], in + off, one);
            if (r == OHTTP_OK) count++;
            else if (r != OHTTP_ERR_SUITE) return r;
        }
        off += one;
    }
    *n = count;
    return count ? OHTTP_OK : OHTTP_ERR_SUITE;
}

/* info = "message/bhttp request" || 0x00 || header */
static void request_info(const uint8_t hdr[OHTTP_HEADER_LEN], uint8_t *info, size_t *len) {
    size_t l = sizeof OHTTP_REQUEST_LABEL - 1;
    memcpy(info, OHTTP_REQUEST_LABEL, l);
    info[l] = 0;
    memcpy(info + l + 1, hdr, OHTTP_HEADER_LEN);
    *len = l + 1 + OHTTP_HEADER_LEN;
}

#define REQUEST_INFO_LEN (sizeof OHTTP_REQUEST_LABEL + OHTTP_HEADER_LEN)

ohttp_result ohttp_request_encapsulate(ohttp_ctx *ctx, const ohttp_key_config *cfg, uint16_t aead_id,
                                       const uint8_t *req, size_t req_len, const hpke_keypair *eph,
                                       uint8_t **out, size_t *out_len) {
    int offered = 0;
    for (size_t i = 0; i < cfg->nsuites; i++)
        offered |= cfg->suites[i].kdf_id == HPKE_KDF_HKDF_SHA256 && cfg->suites[i].aead_id == aead_id;
    if (cfg->kem_id != HPKE_KEM_X25519_SHA256 || !offered) return OHTTP_ERR_SUITE;
    if (req_len > OHTTP_MAX_MESSAGE) return OHTTP_ERR_TOO_LARGE;
    uint8_t hdr[OHTTP_HEADER_LEN] = {cfg->key_id};
    put16(hdr + 1, HPKE_KEM_X25519_SHA256);
    put16(hdr + 3, HPKE_KDF_HKDF_SHA256);
    put16(hdr + 5, aead_id);
    uint8_t info[REQUEST_INFO_LEN];
    size_t info_len = 0;
    request_info(hdr, info, &info_len);
    ctx->aead_id = aead_id;
    ohttp_result r = from_hpke(hpke_setup_sender(&ctx->hpke, aead_id, cfg->pk, HPKE_NPK, info,
                                                 info_len, eph, ctx->enc));
    if (r != OHTTP_OK) return r;
    size_t n = OHTTP_HEADER_LEN + HPKE_NENC + req_len + HPKE_NT, ct_len = 0;
    uint8_t *buf = malloc(n);
    if (!buf) {
        ohttp_ctx_wipe(ctx);
        return OHTTP_ERR_CRYPTO;
    }
    memcpy(buf, hdr, OHTTP_HEADER_LEN);
    memcpy(buf + OHTTP_HEADER_LEN, ctx->enc, HPKE_NENC);
    r = from_hpke(hpke_seal(&ctx->hpke, NULL, 0, req, req_len, buf + OHTTP_HEADER_LEN + HPKE_NENC,
                            req_len + HPKE_NT, &ct_len));
    if (r != OHTTP_OK) {
        free(buf);
        ohttp_ctx_wipe(ctx);
        return r;
    }
    *out = buf;
    *out_len = n;
    return OHTTP_OK;
}

ohttp_result ohttp_request_decapsulate(ohttp_ctx *ctx, uint8_t key_id, const hpke_keypair *kp,
                                       const uint8_t *msg, size_t msg_len, uint8_t **req,
                                       size_t *req_len) {
    return ohttp_request_decapsulate_key(ctx, key_id, kp, NULL, msg, msg_len, req, req_len);
}

ohttp_result ohttp_request_decapsulate_key(ohttp_ctx *ctx, uint8_t key_id, const hpke_keypair *kp, EVP_PKEY *key,
                                           const uint8_t *msg, size_t msg_len, uint8_t **req, size_t *req_len) {
    if (msg_len > OHTTP_MAX_MESSAGE) return OHTTP_ERR_TOO_LARGE;
    if (msg_len < OHTTP_HEADER_LEN) return OHTTP_ERR_TRUNCATED;
    if (msg[0] != key_id) return OHTTP_ERR_KEY_ID;
    uint16_t aead_id = get16(msg + 5);
    if (get16(msg + 1) != HPKE_KEM_X25519_SHA256 || get16(msg + 3) != HPKE_KDF_HKDF_SHA256 ||
        !hpke_aead_supported(aead_id, NULL))
        return OHTTP_ERR_SUITE;
    if (msg_len < OHTTP_HEADER_LEN + HPKE_NENC + HPKE_NT) return OHTTP_ERR_TRUNCATED;
    uint8_t info[REQUEST_INFO_LEN];
    size_t info_len = 0;
    request_info(msg, info, &info_len);
    const uint8_t *enc = msg + OHTTP_HEADER_LEN;
    ctx->aead_id = aead_id;
    memcpy(ctx->enc, enc, HPKE_NENC);
    ohttp_result r = from_hpke(hpke_setup_receiver_key(&ctx->hpke, aead_id, enc, HPKE_NENC, kp, key, info, info_len));
    if (r != OHTTP_OK) {
        ohttp_ctx_wipe(ctx);
        return r;
    }
    const uint8_t *ct = enc + HPKE_NENC;
    size_t ct_len = msg_len - OHTTP_HEADER_LEN - HPKE_NENC;
    uint8_t *pt = malloc(ct_len - HPKE_NT + 1);
    if (!pt) {
        ohttp_ctx_wipe(ctx);
        return OHTTP_ERR_CRYPTO;
    }
    r = from_hpke(hpke_open(&ctx->hpke, NULL, 0, ct, ct_len, pt, ct_len - HPKE_NT, req_len));
    if (r != OHTTP_OK) {
        free(pt);
        ohttp_ctx_wipe(ctx);
        return r;
    }
    *req = pt;
    return OHTTP_OK;
}

/* The response AEAD (RFC 9458 §4.4) as a one-message HPKE-shaped context:
 * secret = Export("message/bhttp response", max(Nn, Nk)); prk = Extract(enc ||
 * response_nonce, secret); key = Expand(prk, "key", Nk); nonce = Expand(prk, "nonce", Nn). */
static ohttp_result response_aead(const ohttp_ctx *ctx, const uint8_t *nonce, size_t nonce_len,
                                  hpke_ctx *aead) {
    uint8_t secret[OHTTP_RESPONSE_NONCE_MAX], salt[HPKE_NENC + OHTTP_RESPONSE_NONCE_MAX];
    uint8_t prk[HKDF_SHA256_LEN];
    ohttp_result r = from_hpke(hpke_export(&ctx->hpke, (const uint8_t *)OHTTP_RESPONSE_LABEL,
                                           sizeof OHTTP_RESPONSE_LABEL - 1, secret, nonce_len));
    memcpy(salt, ctx->enc, HPKE_NENC);
    memcpy(salt + HPKE_NENC, nonce, nonce_len);
    memset(aead, 0, sizeof *aead);
    aead->aead_id = ctx->aead_id;
    if (!hpke_aead_supported(ctx->aead_id, &aead->nk)) r = OHTTP_ERR_SUITE;
    if (r == OHTTP_OK && hkdf_extract(salt, HPKE_NENC + nonce_len, secret, nonce_len, prk) != HKDF_OK)
        r = OHTTP_ERR_CRYPTO;
    if (r == OHTTP_OK && (hkdf_expand(prk, (const uint8_t *)"key", 3, aead->key, aead->nk) != HKDF_OK ||
                          hkdf_expand(prk, (const uint8_t *)"nonce", 5, aead->base_nonce, HPKE_NN) != HKDF_OK))
        r = OHTTP_ERR_CRYPTO;
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(prk, sizeof prk);
    if (r != OHTTP_OK) hpke_ctx_wipe(aead);
    return r;
}

/* max(Nn, Nk) for the context's AEAD, or 0 if unsupported. */
static size_t response_nonce_len(const ohttp_ctx *ctx) {
    size_t nk = 0;
    if (!hpke_aead_supported(ctx->aead_id, &nk)) return 0;
    return nk > HPKE_NN ? nk : HPKE_NN;
}

ohttp_result ohttp_response_encapsulate(const ohttp_ctx *ctx, const uint8_t *resp, size_t resp_len,
                                        const uint8_t *nonce, uint8_t **out, size_t *out_len) {
    size_t nlen = response_nonce_len(ctx);
    if (!nlen) return OHTTP_ERR_SUITE;
    if (resp_len > OHTTP_MAX_MESSAGE) return OHTTP_ERR_TOO_LARGE;
    size_t n = nlen + resp_len + HPKE_NT, ct_len = 0;
    uint8_t *buf = malloc(n);
    if (!buf) return OHTTP_ERR_CRYPTO;
    if (nonce) memcpy(buf, nonce, nlen);
    else if (RAND_bytes(buf, (int)nlen) != 1) {
        free(buf);
        return OHTTP_ERR_CRYPTO;
    }
    hpke_ctx aead;
    ohttp_result r = response_aead(ctx, buf, nlen, &aead);
    if (r == OHTTP_OK)
        r = from_hpke(hpke_seal(&aead, NULL, 0, resp, resp_len, buf + nlen, resp_len + HPKE_NT, &ct_len));
    hpke_ctx_wipe(&aead);
    if (r != OHTTP_OK) {
        free(buf);
        return r;
    }
    *out = buf;
    *out_len = n;
    return OHTTP_OK;
}

ohttp_result ohttp_response_decapsulate(const ohttp_ctx *ctx, const uint8_t *msg, size_t msg_len,
                                        uint8_t **resp, size_t *resp_len) {
    size_t nlen = response_nonce_len(ctx);
    if (!nlen) return OHTTP_ERR_SUITE;
    if (msg_len > OHTTP_MAX_MESSAGE) return OHTTP_ERR_TOO_LARGE;
    if (msg_len < nlen + HPKE_NT) return OHTTP_ERR_TRUNCATED;
    hpke_ctx aead;
    ohttp_result r = response_aead(ctx, msg, nlen, &aead);
    if (r != OHTTP_OK) return r;
    size_t ct_len = msg_len - nlen;
    uint8_t *pt = malloc(ct_len - HPKE_NT + 1);
    if (!pt) r = OHTTP_ERR_CRYPTO;
    else r = from_hpke(hpke_open(&aead, NULL, 0, msg + nlen, ct_len, pt, ct_len - HPKE_NT, resp_len));
    hpke_ctx_wipe(&aead);
    if (r != OHTTP_OK) {
        free(pt);
        return r;
    }
    *resp = pt;
    return OHTTP_OK;
}

void ohttp_ctx_wipe(ohttp_ctx *ctx) {
    OPENSSL_cleanse(ctx, sizeof *ctx);
}
