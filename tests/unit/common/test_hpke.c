/* test_hpke.c - HPKE against the RFC 9180 Appendix A test vectors for the
 * implemented suites, HKDF-SHA256 (its building block) against RFC 5869
 * Appendix A, and hostile input (wrong lengths, tampering, wrong aad,
 * low-order keys, nonce overflow). */
#include "check.h"
#include "hex.h"
#include "common/hkdf.h"
#include "common/hpke.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* RFC 9180 Appendix A.1.1 (AES-128-GCM) and A.2.1 (ChaCha20-Poly1305), base
 * mode with DHKEM(X25519, HKDF-SHA256) and HKDF-SHA256: published values.
 * pt and info are the same in both: "Beauty is truth, truth beauty" and
 * "Ode on a Grecian Urn". Sequence 0 and 1 encryptions, aad "Count-0"/"Count-1". */
typedef struct {
    uint16_t aead;
    const char *ikm_e, *pk_em, *ikm_r, *pk_rm, *key, *base_nonce, *exporter_secret;
    const char *ct0, *ct1;
    const char *export_empty, *export_00, *export_testctx;
} vector;

static const char *INFO = "4f6465206f6e2061204772656369616e2055726e";
static const char *PT = "4265617574792069732074727574682c20747275746820626561757479";
static const char *AAD0 = "436f756e742d30", *AAD1 = "436f756e742d31";

static const vector vectors[] = {
    {HPKE_AEAD_AES_128_GCM,
     "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
     "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
     "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
     "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
     "4531685d41d65f03dc48f6b8302c05b0", "56d890e5accaaf011cff4b7d",
     "45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8",
     "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
     "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab251c03d0c22a56b8ca42c2063b84",
     "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee",
     "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5",
     "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931"},
    {HPKE_AEAD_CHACHA20_POLY1305,
     "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
     "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
     "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df",
     "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
     NULL, NULL, NULL,
     "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
     NULL, NULL, NULL, NULL},
};

static void test_vector(const vector *v) {
    size_t n_ikm_e, n_ikm_r, n_info, n_pt, n_aad0, n_aad1;
    uint8_t *ikm_e = unhex(v->ikm_e, &n_ikm_e), *ikm_r = unhex(v->ikm_r, &n_ikm_r);
    uint8_t *info = unhex(INFO, &n_info), *pt = unhex(PT, &n_pt);
    uint8_t *aad0 = unhex(AAD0, &n_aad0), *aad1 = unhex(AAD1, &n_aad1);
    hpke_keypair e, r;
    CHECK(hpke_keypair_derive(&e, ikm_e, n_ikm_e) == HPKE_OK);
    CHECK(hpke_keypair_derive(&r, ikm_r, n_ikm_r) == HPKE_OK);
    CHECK(eq_hex(e.pk, HPKE_NPK, v->pk_em));
    CHECK(eq_hex(r.pk, HPKE_NPK, v->pk_rm));

    hpke_ctx s, o;
    uint8_t enc[HPKE_NENC];
    CHECK(hpke_setup_sender(&s, v->aead, r.pk, HPKE_NPK, info, n_info, &e, enc) == HPKE_OK);
    CHECK(eq_hex(enc, HPKE_NENC, v->pk_em));
    if (v->key) {
        CHECK(eq_hex(s.key, s.nk, v->key));
        CHECK(eq_hex(s.base_nonce, HPKE_NN, v->base_nonce));
        CHECK(eq_hex(s.exporter_secret, HPKE_NH, v->exporter_secret));
    }
    CHECK(hpke_setup_receiver(&o, v->aead, enc, sizeof enc, &r, info, n_info) == HPKE_OK);

    uint8_t ct[128], back[128];
    size_t ct_len = 0, back_len = 0;
    CHECK(hpke_seal(&s, aad0, n_aad0, pt, n_pt, ct, sizeof ct, &ct_len) == HPKE_OK);
    CHECK(eq_hex(ct, ct_len, v->ct0));
    CHECK(hpke_open(&o, aad0, n_aad0, ct, ct_len, back, sizeof back, &back_len) == HPKE_OK);
    CHECK(back_len == n_pt && memcmp(back, pt, n_pt) == 0);
    if (v->ct1) {
        CHECK(hpke_seal(&s, aad1, n_aad1, pt, n_pt, ct, sizeof ct, &ct_len) == HPKE_OK);
        CHECK(eq_hex(ct, ct_len, v->ct1));
        CHECK(hpke_open(&o, aad1, n_aad1, ct, ct_len, back, sizeof back, &back_len) == HPKE_OK);
        CHECK(back_len == n_pt && memcmp(back, pt, n_pt) == 0);
    }
    if (v->export_empty) {
        uint8_t out[32];
        const uint8_t zero = 0;
        const char *test_ctx = "TestContext";
        CHECK(hpke_export(&o, NULL, 0, out, 32) == HPKE_OK && eq_hex(out, 32, v->export_empty));
        CHECK(hpke_export(&o, &zero, 1, out, 32) == HPKE_OK && eq_hex(out, 32, v->export_00));
        CHECK(hpke_export(&s, (const uint8_t *)test_ctx, strlen(test_ctx), out, 32) == HPKE_OK &&
              eq_hex(out, 32, v->export_testctx));
    }
    hpke_ctx_wipe(&s);
    hpke_ctx_wipe(&o);
    hpke_keypair_wipe(&e);
    hpke_keypair_wipe(&r);
    free(ikm_e); free(ikm_r); free(info); free(pt); free(aad0); free(aad1);
}

static void test_hostile(uint16_t aead) {
    hpke_keypair r, other;
    CHECK(hpke_keypair_generate(&r) == HPKE_OK);
    CHECK(hpke_keypair_generate(&other) == HPKE_OK);
    const uint8_t info[] = "info", aad[] = "aad", msg[] = "attack at dawn";
    hpke_ctx s, o;
    uint8_t enc[HPKE_NENC], ct[64], pt[64];
    size_t ct_len = 0, pt_len = 0;

    /* Suite and length refusals. */
    CHECK(hpke_setup_sender(&s, 0x0002, r.pk, HPKE_NPK, info, 4, NULL, enc) == HPKE_ERR_SUITE);
    CHECK(hpke_setup_sender(&s, aead, r.pk, HPKE_NPK - 1, info, 4, NULL, enc) == HPKE_ERR_LENGTH);
    CHECK(hpke_setup_sender(&s, aead, r.pk, HPKE_NPK, info, 4, NULL, enc) == HPKE_OK);
    CHECK(hpke_setup_receiver(&o, aead, enc, HPKE_NENC - 1, &r, info, 4) == HPKE_ERR_LENGTH);
    CHECK(hpke_setup_receiver(&o, aead, enc, HPKE_NENC + 1, &r, info, 4) == HPKE_ERR_LENGTH);
    CHECK(hpke_setup_receiver(&o, 0xffff, enc, HPKE_NENC, &r, info, 4) == HPKE_ERR_SUITE);
    uint8_t low_order[HPKE_NENC] = {0};  /* the all-zero point: DH result is zero */
    CHECK(hpke_setup_receiver(&o, aead, low_order, HPKE_NENC, &r, info, 4) == HPKE_ERR_KEY);
    CHECK(hpke_setup_sender(&o, aead, low_order, HPKE_NPK, info, 4, NULL, enc) == HPKE_ERR_KEY);
    CHECK(hpke_keypair_derive(&other, info, 4) == HPKE_ERR_LENGTH);

    CHECK(hpke_seal(&s, aad, 3, msg, sizeof msg, ct, sizeof msg + HPKE_NT - 1, &ct_len) == HPKE_ERR_LENGTH);
    CHECK(hpke_seal(&s, aad, 3, msg, sizeof msg, ct, sizeof ct, &ct_len) == HPKE_OK);
    CHECK(ct_len == sizeof msg + HPKE_NT);

    /* Wrong aad, tampered body and tag, truncated, wrong key, wrong info: all refused,
     * and a refusal does not move the sequence number. */
    CHECK(hpke_setup_receiver(&o, aead, enc, HPKE_NENC, &r, info, 4) == HPKE_OK);
    CHECK(hpke_open(&o, aad, 2, ct, ct_len, pt, sizeof pt, &pt_len) == HPKE_ERR_OPEN);
    ct[0] ^= 1;
    CHECK(hpke_open(&o, aad, 3, ct, ct_len, pt, sizeof pt, &pt_len) == HPKE_ERR_OPEN);
    ct[0] ^= 1;
    ct[ct_len - 1] ^= 0x80;
    CHECK(hpke_open(&o, aad, 3, ct, ct_len, pt, sizeof pt, &pt_len) == HPKE_ERR_OPEN);
    ct[ct_len - 1] ^= 0x80;
    CHECK(hpke_open(&o, aad, 3, ct, ct_len - 1, pt, sizeof pt, &pt_len) == HPKE_ERR_OPEN);
    CHECK(hpke_open(&o, aad, 3, ct, HPKE_NT - 1, pt, sizeof pt, &pt_len) == HPKE_ERR_LENGTH);
    CHECK(hpke_open(&o, aad, 3, ct, ct_len, pt, 3, &pt_len) == HPKE_ERR_LENGTH);
    CHECK(o.seq == 0);
    CHECK(hpke_open(&o, aad, 3, ct, ct_len, pt, sizeof pt, &pt_len) == HPKE_OK);
    CHECK(pt_len == sizeof msg && memcmp(pt, msg, sizeof msg) == 0);
    /* Replaying the same ciphertext at the next sequence number fails. */
    CHECK(hpke_open(&o, aad, 3, ct, ct_len, pt, sizeof pt, &pt_len) == HPKE_ERR_OPEN);
    hpke_ctx wrong;
    CHECK(hpke_setup_receiver(&wrong, aead, enc, HPKE_NENC, &other, info, 4) == HPKE_OK);
    CHECK(hpke_open(&wrong, aad, 3, ct, ct_len, pt, sizeof pt, &pt_len) == HPKE_ERR_OPEN);
    CHECK(hpke_setup_receiver(&wrong, aead, enc, HPKE_NENC, &r, info, 3) == HPKE_OK);
    CHECK(hpke_open(&wrong, aad, 3, ct, ct_len, pt, sizeof pt, &pt_len) == HPKE_ERR_OPEN);

    /* Nonce overflow is refused, not wrapped. */
    s.seq = UINT64_MAX;
    CHECK(hpke_seal(&s, aad, 3, msg, sizeof msg, ct, sizeof ct, &ct_len) == HPKE_ERR_SEQ_OVERFLOW);
    o.seq = UINT64_MAX;
    CHECK(hpke_open(&o, aad, 3, ct, ct_len, pt, sizeof pt, &pt_len) == HPKE_ERR_SEQ_OVERFLOW);

    uint8_t out[8];
    CHECK(hpke_export(&s, NULL, 0, out, 0) == HPKE_ERR_LENGTH);
    CHECK(hpke_export(&s, NULL, 0, out, HPKE_MAX_EXPORT + 1) == HPKE_ERR_LENGTH);
    hpke_ctx_wipe(&s);
    hpke_ctx_wipe(&o);
    hpke_ctx_wipe(&wrong);
    hpke_keypair_wipe(&r);
    hpke_keypair_wipe(&other);
}

/* Single-shot seal/open in tfaas's enc || ct form: round trip, NUL after
 * the plaintext, and refusals of a flipped bit, a wrong info, a wrong key
 * and inputs shorter than enc + tag. */
static void test_single_shot(uint16_t aead) {
    hpke_keypair kp, other;
    CHECK(hpke_keypair_generate(&kp) == HPKE_OK && hpke_keypair_generate(&other) == HPKE_OK);
    static const char msg[] = "{\"secret\":1}";
    uint8_t *ct = NULL, *pt = NULL;
    size_t ct_len = 0, pt_len = 0;
    CHECK(hpke_seal_base(aead, kp.pk, "test info", (const uint8_t *)msg, strlen(msg), &ct, &ct_len) == HPKE_OK);
    CHECK(ct && ct_len == HPKE_NENC + strlen(msg) + HPKE_NT);
    CHECK(hpke_open_base(aead, &kp, "test info", ct, ct_len, &pt, &pt_len) == HPKE_OK);
    CHECK(pt && pt_len == strlen(msg) && memcmp(pt, msg, pt_len) == 0 && pt[pt_len] == 0);
    free(pt);
    CHECK(hpke_open_base(aead, &kp, "other info", ct, ct_len, &pt, &pt_len) == HPKE_ERR_OPEN && !pt);
    CHECK(hpke_open_base(aead, &other, "test info", ct, ct_len, &pt, &pt_len) == HPKE_ERR_OPEN && !pt);
    ct[ct_len - 1] ^= 1;
    CHECK(hpke_open_base(aead, &kp, "test info", ct, ct_len, &pt, &pt_len) == HPKE_ERR_OPEN && !pt);
    CHECK(hpke_open_base(aead, &kp, "test info", ct, HPKE_NENC + HPKE_NT - 1, &pt, &pt_len) == HPKE_ERR_LENGTH && !pt);
    free(ct);
}

/* RFC 5869 Appendix A.1-A.3 (the SHA-256 cases): ikm, salt, info as
 * generated ranges, then PRK and OKM. */
static void fill(uint8_t *b, size_t n, uint8_t from) {
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(from + i);
}

static void test_hkdf(void) {
    uint8_t ikm[80], salt[80], info[80], prk[HKDF_SHA256_LEN], okm[82];
    memset(ikm, 0x0b, 22);
    fill(salt, 13, 0x00);
    fill(info, 10, 0xf0);
    CHECK(hkdf_extract(salt, 13, ikm, 22, prk) == HKDF_OK);
    CHECK(eq_hex(prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"));
    CHECK(hkdf_expand(prk, info, 10, okm, 42) == HKDF_OK);
    CHECK(eq_hex(okm, 42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));

    fill(ikm, 80, 0x00);
    fill(salt, 80, 0x60);
    fill(info, 80, 0xb0);
    CHECK(hkdf_extract(salt, 80, ikm, 80, prk) == HKDF_OK);
    CHECK(eq_hex(prk, 32, "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244"));
    CHECK(hkdf_expand(prk, info, 80, okm, 82) == HKDF_OK);
    CHECK(eq_hex(okm, 82,
                 "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
                 "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"));

    memset(ikm, 0x0b, 22);
    CHECK(hkdf_extract(NULL, 0, ikm, 22, prk) == HKDF_OK); /* no salt: Nh zeros */
    CHECK(eq_hex(prk, 32, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"));
    CHECK(hkdf_expand(prk, NULL, 0, okm, 42) == HKDF_OK);
    CHECK(eq_hex(okm, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"));

    /* L outside 1..255*Nh */
    CHECK(hkdf_expand(prk, NULL, 0, okm, 0) == HKDF_ERR_LENGTH);
    CHECK(hkdf_expand(prk, NULL, 0, okm, HKDF_SHA256_MAX_EXPAND + 1) == HKDF_ERR_LENGTH);
    /* the longest L: the counter reaches 255 without wrapping; its last block
     * is T(255), which the shorter expansion's prefix must match */
    uint8_t *all = malloc(HKDF_SHA256_MAX_EXPAND);
    CHECK(all && hkdf_expand(prk, NULL, 0, all, HKDF_SHA256_MAX_EXPAND) == HKDF_OK);
    CHECK(all && memcmp(all, okm, 42) == 0);
    free(all);
}

/* The secrets of two contexts are the same. */
static int same_ctx(const hpke_ctx *x, const hpke_ctx *y) {
    return x->nk == y->nk && memcmp(x->key, y->key, x->nk) == 0 &&
           memcmp(x->base_nonce, y->base_nonce, HPKE_NN) == 0 &&
           memcmp(x->exporter_secret, y->exporter_secret, HPKE_NH) == 0;
}

/* A receiver key object made once (hpke_keypair_pkey) gives the context the
 * key pair gives, and refuses what it refuses. */
static void test_receiver_key(uint16_t aead) {
    hpke_keypair r, other;
    CHECK(hpke_keypair_generate(&r) == HPKE_OK);
    CHECK(hpke_keypair_generate(&other) == HPKE_OK);
    EVP_PKEY *key = hpke_keypair_pkey(&r), *wrong = hpke_keypair_pkey(&other);
    CHECK(key != NULL && wrong != NULL);
    const uint8_t info[] = "info";
    uint8_t enc[HPKE_NENC], low_order[HPKE_NENC] = {0};
    hpke_ctx s, a, b, c;
    for (int round = 0; round < 3; round++) { /* the same key object, again and again */
        CHECK(hpke_setup_sender(&s, aead, r.pk, HPKE_NPK, info, 4, NULL, enc) == HPKE_OK);
        CHECK(hpke_setup_receiver(&a, aead, enc, HPKE_NENC, &r, info, 4) == HPKE_OK);
        CHECK(hpke_setup_receiver_key(&b, aead, enc, HPKE_NENC, &r, key, info, 4) == HPKE_OK);
        CHECK(same_ctx(&a, &s) && same_ctx(&b, &s));
        /* another key's object: a different context, which would not open */
        CHECK(hpke_setup_receiver_key(&c, aead, enc, HPKE_NENC, &r, wrong, info, 4) == HPKE_OK);
        CHECK(!same_ctx(&c, &s));
    }
    CHECK(hpke_setup_receiver_key(&c, aead, low_order, HPKE_NENC, &r, key, info, 4) == HPKE_ERR_KEY);
    CHECK(hpke_setup_receiver_key(&c, aead, enc, HPKE_NENC - 1, &r, key, info, 4) == HPKE_ERR_LENGTH);
    EVP_PKEY_free(key);
    EVP_PKEY_free(wrong);
    hpke_keypair_wipe(&r);
    hpke_keypair_wipe(&other);
}

int main(void) {
    test_hkdf();
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) test_vector(&vectors[i]);
    test_hostile(HPKE_AEAD_AES_128_GCM);
    test_hostile(HPKE_AEAD_CHACHA20_POLY1305);
    test_single_shot(HPKE_AEAD_AES_128_GCM);
    test_single_shot(HPKE_AEAD_CHACHA20_POLY1305);
    test_receiver_key(HPKE_AEAD_AES_128_GCM);
    test_receiver_key(HPKE_AEAD_CHACHA20_POLY1305);
    return CHECK_DONE();
}
