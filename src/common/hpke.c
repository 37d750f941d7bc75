/* hpke.c - RFC 9180 HPKE mode_base over X25519, HKDF-SHA256 and the two
 * AEADs, composed from OpenSSL 3.0 EVP primitives (see hpke.h). */
#include "common/hpke.h"
#include "common/hkdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define HPKE_MODE_BASE 0x00u
static const uint8_t version_label[] = {'H', 'P', 'K', 'E', '-', 'v', '1'};
static const uint8_t kem_suite[] = {'K', 'E', 'M', 0x00, 0x20};

/* suite_id of the key schedule: "HPKE" || kem_id || kdf_id || aead_id. */
#define HPKE_SUITE_ID_LEN 10u
static void hpke_suite_id(uint16_t aead_id, uint8_t out[HPKE_SUITE_ID_LEN]) {
    const uint8_t id[HPKE_SUITE_ID_LEN] = {'H', 'P', 'K', 'E', 0x00, 0x20, 0x00, 0x01,
                                           (uint8_t)(aead_id >> 8), (uint8_t)aead_id};
    memcpy(out, id, sizeof id);
}

const char *hpke_result_name(hpke_result r) {
    switch (r) {
    case HPKE_OK: return "ok";
    case HPKE_ERR_SUITE: return "unsupported suite";
    case HPKE_ERR_LENGTH: return "bad length";
    case HPKE_ERR_KEY: return "unusable key";
    case HPKE_ERR_OPEN: return "authentication failed";
    case HPKE_ERR_SEQ_OVERFLOW: return "sequence number overflow";
    case HPKE_ERR_CRYPTO: return "crypto library failure";
    }
    return "unknown";
}

int hpke_aead_supported(uint16_t aead_id, size_t *nk) {
    size_t n = aead_id == HPKE_AEAD_AES_128_GCM ? 16u
             : aead_id == HPKE_AEAD_CHACHA20_POLY1305 ? 32u : 0u;
    if (nk) *nk = n;
    return n != 0;
}

/* Concatenates "HPKE-v1" || suite || label || data (with a 2-byte length
 * prefix L first when l_prefix is nonzero) into a fresh buffer. */
static uint8_t *labeled_input(const uint8_t *suite, size_t suite_len, const char *label,
                              const uint8_t *data, size_t data_len, size_t l_prefix, size_t *len) {
    size_t label_len = strlen(label);
    if (data_len > HPKE_MAX_LABELED) return NULL;
    size_t n = (l_prefix ? 2u : 0u) + sizeof version_label + suite_len + label_len + data_len;
    uint8_t *buf = malloc(n), *p = buf;
    if (!buf) return NULL;
    if (l_prefix) {
        *p++ = (uint8_t)(l_prefix >> 8);
        *p++ = (uint8_t)l_prefix;
    }
    memcpy(p, version_label, sizeof version_label);
    p += sizeof version_label;
    memcpy(p, suite, suite_len);
    p += suite_len;
    memcpy(p, label, label_len);
    p += label_len;
    if (data_len) memcpy(p, data, data_len);
    *len = n;
    return buf;
}

static hpke_result labeled_extract(const uint8_t *suite, size_t suite_len, const uint8_t *salt,
                                   size_t salt_len, const char *label, const uint8_t *ikm,
                                   size_t ikm_len, uint8_t prk[HPKE_NH]) {
    size_t n = 0;
    uint8_t *in = labeled_input(suite, suite_len, label, ikm, ikm_len, 0, &n);
    if (!in) return ikm_len > HPKE_MAX_LABELED ? HPKE_ERR_LENGTH : HPKE_ERR_CRYPTO;
    hkdf_result r = hkdf_extract(salt, salt_len, in, n, prk);
    OPENSSL_cleanse(in, n);
    free(in);
    return r == HKDF_OK ? HPKE_OK : HPKE_ERR_CRYPTO;
}

static hpke_result labeled_expand(const uint8_t *suite, size_t suite_len, const uint8_t prk[HPKE_NH],
                                  const char *label, const uint8_t *info, size_t info_len,
                                  uint8_t *out, size_t out_len) {
    if (out_len == 0 || out_len > HPKE_MAX_EXPORT) return HPKE_ERR_LENGTH;
    size_t n = 0;
    uint8_t *in = labeled_input(suite, suite_len, label, info, info_len, out_len, &n);
    if (!in) return info_len > HPKE_MAX_LABELED ? HPKE_ERR_LENGTH : HPKE_ERR_CRYPTO;
    hkdf_result r = hkdf_expand(prk, in, n, out, out_len);
    free(in);
    return r == HKDF_OK ? HPKE_OK : HPKE_ERR_CRYPTO;
}

hpke_result hpke_keypair_from_private(hpke_keypair *kp, const uint8_t sk[HPKE_NSK]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, HPKE_NSK);
    if (!key) return HPKE_ERR_CRYPTO;
    size_t pk_len = HPKE_NPK;
    int ok = EVP_PKEY_get_raw_public_key(key, kp->pk, &pk_len) == 1 && pk_len == HPKE_NPK;
    EVP_PKEY_free(key);
    if (!ok) return HPKE_ERR_CRYPTO;
    if (kp->sk != sk) memcpy(kp->sk, sk, HPKE_NSK);
    return HPKE_OK;
}

hpke_result hpke_keypair_derive(hpke_keypair *kp, const uint8_t *ikm, size_t ikm_len) {
    if (!ikm || ikm_len < HPKE_NSK) return HPKE_ERR_LENGTH;
    uint8_t prk[HPKE_NH], sk[HPKE_NSK];
    hpke_result r = labeled_extract(kem_suite, sizeof kem_suite, NULL, 0, "dkp_prk", ikm, ikm_len, prk);
    if (r == HPKE_OK)
        r = labeled_expand(kem_suite, sizeof kem_suite, prk, "sk", NULL, 0, sk, HPKE_NSK);
    if (r == HPKE_OK) r = hpke_keypair_from_private(kp, sk);
    OPENSSL_cleanse(prk, sizeof prk);
    OPENSSL_cleanse(sk, sizeof sk);
    return r;
}

hpke_result hpke_keypair_generate(hpke_keypair *kp) {
    uint8_t ikm[HPKE_NSK];
    if (RAND_priv_bytes(ikm, sizeof ikm) != 1) return HPKE_ERR_CRYPTO;
    hpke_result r = hpke_keypair_derive(kp, ikm, sizeof ikm);
    OPENSSL_cleanse(ikm, sizeof ikm);
    return r;
}

void hpke_keypair_wipe(hpke_keypair *kp) {
    OPENSSL_cleanse(kp, sizeof *kp);
}

/* Our key pair as an EVP_PKEY. Both halves are given: with the private half
 * alone OpenSSL computes the public one, a scalar multiplication as costly
 * as the exchange itself (it doubled the cost of every decapsulation). */
EVP_PKEY *hpke_keypair_pkey(const hpke_keypair *kp) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)kp->sk, HPKE_NSK),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)kp->pk, HPKE_NPK),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    return key;
}

/* dh = X25519(kp.sk, pk); refuses a peer key whose result is all zeros.
 * key: kp as a key object already made, or NULL. */
static hpke_result x25519(const hpke_keypair *kp, EVP_PKEY *key, const uint8_t pk[HPKE_NPK], uint8_t dh[32]) {
    EVP_PKEY *priv = key ? key : hpke_keypair_pkey(kp);
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pk, HPKE_NPK);
    EVP_PKEY_CTX *pctx = priv ? EVP_PKEY_CTX_new(priv, NULL) : NULL;
    hpke_result r = HPKE_ERR_CRYPTO;
    size_t len = 32;
    if (priv && peer && pctx && EVP_PKEY_derive_init(pctx) == 1) {
        if (EVP_PKEY_derive_set_peer(pctx, peer) != 1 || EVP_PKEY_derive(pctx, dh, &len) != 1 ||
            len != 32)
            r = HPKE_ERR_KEY;
        else
            r = HPKE_OK;
    }
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(peer);
    if (priv != key) EVP_PKEY_free(priv);
    return r;
}

/* ExtractAndExpand(dh, enc || pkRm) of DHKEM. */
static hpke_result kem_shared_secret(const uint8_t dh[32], const uint8_t enc[HPKE_NENC],
                                     const uint8_t pk_r[HPKE_NPK], uint8_t ss[HPKE_NH]) {
    uint8_t kem_context[HPKE_NENC + HPKE_NPK], prk[HPKE_NH];
    memcpy(kem_context, enc, HPKE_NENC);
    memcpy(kem_context + HPKE_NENC, pk_r, HPKE_NPK);
    hpke_result r = labeled_extract(kem_suite, sizeof kem_suite, NULL, 0, "eae_prk", dh, 32, prk);
    if (r == HPKE_OK)
        r = labeled_expand(kem_suite, sizeof kem_suite, prk, "shared_secret", kem_context,
                           sizeof kem_context, ss, HPKE_NH);
    OPENSSL_cleanse(prk, sizeof prk);
    return r;
}

/* KeySchedule for mode_base (empty psk and psk_id). */
static hpke_result key_schedule(hpke_ctx *ctx, uint16_t aead_id, size_t nk, const uint8_t ss[HPKE_NH],
                                const uint8_t *info, size_t info_len) {
    uint8_t suite[HPKE_SUITE_ID_LEN];
    hpke_suite_id(aead_id, suite);
    uint8_t ksc[1 + 2 * HPKE_NH], secret[HPKE_NH];
    ksc[0] = HPKE_MODE_BASE;
    hpke_result r = labeled_extract(suite, sizeof suite, NULL, 0, "psk_id_hash", NULL, 0, ksc + 1);
    if (r == HPKE_OK)
        r = labeled_extract(suite, sizeof suite, NULL, 0, "info_hash", info, info_len, ksc + 1 + HPKE_NH);
    if (r == HPKE_OK) r = labeled_extract(suite, sizeof suite, ss, HPKE_NH, "secret", NULL, 0, secret);
    if (r == HPKE_OK) r = labeled_expand(suite, sizeof suite, secret, "key", ksc, sizeof ksc, ctx->key, nk);
    if (r == HPKE_OK)
        r = labeled_expand(suite, sizeof suite, secret, "base_nonce", ksc, sizeof ksc, ctx->base_nonce, HPKE_NN);
    if (r == HPKE_OK)
        r = labeled_expand(suite, sizeof suite, secret, "exp", ksc, sizeof ksc, ctx->exporter_secret, HPKE_NH);
    OPENSSL_cleanse(secret, sizeof secret);
    ctx->aead_id = aead_id;
    ctx->nk = nk;
    ctx->seq = 0;
    if (r != HPKE_OK) hpke_ctx_wipe(ctx);
    return r;
}

/* The checks both setups share: suite and info size. */
static hpke_result setup_check(uint16_t aead_id, size_t *nk, const uint8_t *info, size_t info_len) {
    if (!hpke_aead_supported(aead_id, nk)) return HPKE_ERR_SUITE;
    if (info_len > HPKE_MAX_LABELED || (info_len && !info)) return HPKE_ERR_LENGTH;
    return HPKE_OK;
}

hpke_result hpke_setup_sender(hpke_ctx *ctx, uint16_t aead_id, const uint8_t *pk_r, size_t pk_r_len,
                              const uint8_t *info, size_t info_len, const hpke_keypair *eph,
                              uint8_t enc[HPKE_NENC]) {
    size_t nk = 0;
    hpke_result r = setup_check(aead_id, &nk, info, info_len);
    if (r != HPKE_OK) return r;
    if (!pk_r || pk_r_len != HPKE_NPK) return HPKE_ERR_LENGTH;
    hpke_keypair fresh;
    if (!eph) {
        if ((r = hpke_keypair_generate(&fresh)) != HPKE_OK) return r;
        eph = &fresh;
    }
    uint8_t dh[32], ss[HPKE_NH];
    r = x25519(eph, NULL, pk_r, dh);
    if (r == HPKE_OK) r = kem_shared_secret(dh, eph->pk, pk_r, ss);
    if (r == HPKE_OK) r = key_schedule(ctx, aead_id, nk, ss, info, info_len);
    if (r == HPKE_OK) memcpy(enc, eph->pk, HPKE_NENC);
    OPENSSL_cleanse(dh, sizeof dh);
    OPENSSL_cleanse(ss, sizeof ss);
    hpke_keypair_wipe(&fresh);
    return r;
}

hpke_result hpke_setup_receiver(hpke_ctx *ctx, uint16_t aead_id, const uint8_t *enc, size_t enc_len,
                                const hpke_keypair *kp_r, const uint8_t *info, size_t info_len) {
    return hpke_setup_receiver_key(ctx, aead_id, enc, enc_len, kp_r, NULL, info, info_len);
}

hpke_result hpke_setup_receiver_key(hpke_ctx *ctx, uint16_t aead_id, const uint8_t *enc, size_t enc_len,
                                    const hpke_keypair *kp_r, EVP_PKEY *key, const uint8_t *info, size_t info_len) {
    size_t nk = 0;
    hpke_result r = setup_check(aead_id, &nk, info, info_len);
    if (r != HPKE_OK) return r;
    if (!enc || enc_len != HPKE_NENC) return HPKE_ERR_LENGTH;
    uint8_t dh[32], ss[HPKE_NH];
    r = x25519(kp_r, key, enc, dh);
    if (r == HPKE_OK) r = kem_shared_secret(dh, enc, kp_r->pk, ss);
    if (r == HPKE_OK) r = key_schedule(ctx, aead_id, nk, ss, info, info_len);
    OPENSSL_cleanse(dh, sizeof dh);
    OPENSSL_cleanse(ss, sizeof ss);
    return r;
}

/* nonce = base_nonce XOR I2OSP(seq, Nn). */
static void compute_nonce(const hpke_ctx *ctx, uint8_t nonce[HPKE_NN]) {
    memcpy(nonce, ctx->base_nonce, HPKE_NN);
    for (size_t i = 0; i < 8; i++) nonce[HPKE_NN - 1 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
}

/* The two AEADs, fetched once and read-only afterwards: EVP_aes_128_gcm()
 * and EVP_chacha20_poly1305() make every EVP_CipherInit_ex look the
 * cipher up again in the provider's tables (a confidential call seals and
 * opens twice). NULL where the fetch failed: that AEAD's operations then
 * fail with HPKE_ERR_CRYPTO. */
static EVP_CIPHER *aes_gcm, *chacha;
static pthread_once_t ciphers_once = PTHREAD_ONCE_INIT;

static void ciphers_fetch(void) {
    aes_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
}

/* One AEAD operation; on decrypt, tag is read from the end of in. */
static hpke_result aead_run(const hpke_ctx *ctx, int encrypt, const uint8_t *aad, size_t aad_len,
                            const uint8_t *in, size_t in_len, uint8_t *out, uint8_t tag[HPKE_NT]) {
    if (in_len > INT32_MAX || aad_len > INT32_MAX) return HPKE_ERR_LENGTH;
    if (pthread_once(&ciphers_once, ciphers_fetch) != 0) return HPKE_ERR_CRYPTO;
    const EVP_CIPHER *cipher = ctx->aead_id == HPKE_AEAD_AES_128_GCM ? aes_gcm
                             : ctx->aead_id == HPKE_AEAD_CHACHA20_POLY1305 ? chacha
                             : NULL;
    if (!cipher) return hpke_aead_supported(ctx->aead_id, NULL) ? HPKE_ERR_CRYPTO : HPKE_ERR_SUITE;
    uint8_t nonce[HPKE_NN];
    compute_nonce(ctx, nonce);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c) return HPKE_ERR_CRYPTO;
    hpke_result r = HPKE_ERR_CRYPTO;
    int len = 0;
    if (EVP_CipherInit_ex(c, cipher, NULL, NULL, NULL, encrypt) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, HPKE_NN, NULL) != 1 ||
        EVP_CipherInit_ex(c, NULL, NULL, ctx->key, nonce, encrypt) != 1)
        goto out;
    if (aad_len && EVP_CipherUpdate(c, NULL, &len, aad, (int)aad_len) != 1) goto out;
    if (in_len && EVP_CipherUpdate(c, out, &len, in, (int)in_len) != 1) goto out;
    if (encrypt) {
        if (EVP_CipherFinal_ex(c, out + in_len, &len) != 1 ||
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, HPKE_NT, tag) != 1)
            goto out;
    } else {
        if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, HPKE_NT, tag) != 1) goto out;
        if (EVP_CipherFinal_ex(c, out + in_len, &len) != 1) {
            r = HPKE_ERR_OPEN;
            goto out;
        }
    }
    r = HPKE_OK;
out:
    EVP_CIPHER_CTX_free(c);
    return r;
}

hpke_result hpke_seal(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                      size_t pt_len, uint8_t *ct, size_t ct_cap, size_t *ct_len) {
    if (ctx->seq == UINT64_MAX) return HPKE_ERR_SEQ_OVERFLOW;
    if (pt_len > SIZE_MAX - HPKE_NT || ct_cap < pt_len + HPKE_NT) return HPKE_ERR_LENGTH;
    if (!ct || (pt_len && !pt) || (aad_len && !aad)) return HPKE_ERR_LENGTH;
    hpke_result r = aead_run(ctx, 1, aad, aad_len, pt, pt_len, ct, ct + pt_len);
    if (r != HPKE_OK) return r;
    *ct_len = pt_len + HPKE_NT;
    ctx->seq++;
    return HPKE_OK;
}

hpke_result hpke_open(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                      size_t ct_len, uint8_t *pt, size_t pt_cap, size_t *pt_len) {
    if (ctx->seq == UINT64_MAX) return HPKE_ERR_SEQ_OVERFLOW;
    if (!ct || !pt || ct_len < HPKE_NT || pt_cap < ct_len - HPKE_NT) return HPKE_ERR_LENGTH;
    if (aad_len && !aad) return HPKE_ERR_LENGTH;
    size_t n = ct_len - HPKE_NT;
    uint8_t tag[HPKE_NT];
    memcpy(tag, ct + n, HPKE_NT);
    hpke_result r = aead_run(ctx, 0, aad, aad_len, ct, n, pt, tag);
    if (r != HPKE_OK) {
        if (n) OPENSSL_cleanse(pt, n);
        return r;
    }
    *pt_len = n;
    ctx->seq++;
    return HPKE_OK;
}

hpke_result hpke_export(const hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_ctx_len,
                        uint8_t *out, size_t out_len) {
    uint8_t suite[HPKE_SUITE_ID_LEN];
    hpke_suite_id(ctx->aead_id, suite);
    if (exp_ctx_len && !exp_ctx) return HPKE_ERR_LENGTH;
    if (exp_ctx_len > HPKE_MAX_LABELED) return HPKE_ERR_LENGTH;
    return labeled_expand(suite, sizeof suite, ctx->exporter_secret, "sec", exp_ctx, exp_ctx_len,
                          out, out_len);
}

void hpke_ctx_wipe(hpke_ctx *ctx) {
    OPENSSL_cleanse(ctx, sizeof *ctx);
}

hpke_result hpke_seal_base(uint16_t aead_id, const uint8_t pk_r[HPKE_NPK], const char *info, const uint8_t *pt,
                           size_t pt_len, uint8_t **out, size_t *out_len) {
    *out = NULL;
    if (pt_len > SIZE_MAX - HPKE_NENC - HPKE_NT) return HPKE_ERR_LENGTH;
    uint8_t *buf = malloc(HPKE_NENC + pt_len + HPKE_NT);
    if (!buf) return HPKE_ERR_CRYPTO;
    hpke_ctx ctx;
    size_t ct_len = 0;
    hpke_result r = hpke_setup_sender(&ctx, aead_id, pk_r, HPKE_NPK, (const uint8_t *)info, strlen(info), NULL, buf);
    if (r == HPKE_OK) r = hpke_seal(&ctx, NULL, 0, pt, pt_len, buf + HPKE_NENC, pt_len + HPKE_NT, &ct_len);
    hpke_ctx_wipe(&ctx);
    if (r != HPKE_OK) {
        free(buf);
        return r;
    }
    *out = buf;
    *out_len = HPKE_NENC + ct_len;
    return HPKE_OK;
}

hpke_result hpke_open_base(uint16_t aead_id, const hpke_keypair *kp_r, const char *info, const uint8_t *msg,
                           size_t msg_len, uint8_t **pt, size_t *pt_len) {
    *pt = NULL;
    if (msg_len < HPKE_NENC + HPKE_NT) return HPKE_ERR_LENGTH;
    size_t cap = msg_len - HPKE_NENC - HPKE_NT;
    uint8_t *buf = malloc(cap + 1);
    if (!buf) return HPKE_ERR_CRYPTO;
    hpke_ctx ctx;
    size_t len = 0;
    hpke_result r = hpke_setup_receiver(&ctx, aead_id, msg, HPKE_NENC, kp_r, (const uint8_t *)info, strlen(info));
    if (r == HPKE_OK) r = hpke_open(&ctx, NULL, 0, msg + HPKE_NENC, msg_len - HPKE_NENC, buf, cap, &len);
    hpke_ctx_wipe(&ctx);
    if (r != HPKE_OK) {
        OPENSSL_cleanse(buf, cap + 1);
        free(buf);
        return r;
    }
    buf[len] = 0;
    *pt = buf;
    *pt_len = len;
    return HPKE_OK;
}
