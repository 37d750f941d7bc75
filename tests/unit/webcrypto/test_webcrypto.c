/* test_webcrypto.c - the native primitives under the V8 enclave's Web Crypto
 * (src/trusted/crypto/webcrypto.c) against published vectors (FIPS 180-4,
 * RFC 4231, RFC 5869, the GCM specification, RFC 8032) and their refusals:
 * unknown hashes, bad lengths, forged tags, points off the curve, keys that
 * do not pair, malformed SPKI. The JavaScript shapes above them are tested
 * through the real server (tests/integration/webapi.test.mjs). */
#include "check.h"
#include "hex.h"

#include "trusted/crypto/webcrypto.h"

#include <stdlib.h>
#include <string.h>

static void test_digest_hmac(void) {
    uint8_t out[WC_MAX_DIGEST];
    CHECK(wc_digest("SHA256", (const uint8_t *)"abc", 3, out) == WC_OK);
    CHECK(eq_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK(wc_digest("SHA1", (const uint8_t *)"abc", 3, out) == WC_OK);
    CHECK(eq_hex(out, 20, "a9993e364706816aba3e25717850c26c9cd0d89d"));
    CHECK(wc_digest("SHA512", NULL, 0, out) == WC_OK); /* the empty message, no buffer */
    CHECK(eq_hex(out, 8, "cf83e1357eefb8bd"));
    CHECK(wc_digest_len("SHA384") == 48 && wc_digest_len("MD5") == 16);
    CHECK(wc_digest_len("SHA3-256") == 0 && wc_digest_len("") == 0 && wc_digest_len(NULL) == 0);
    CHECK(wc_digest("SHA3-256", (const uint8_t *)"abc", 3, out) == WC_ERR_HASH);
    CHECK(wc_digest("sha256", (const uint8_t *)"abc", 3, out) == WC_ERR_HASH); /* names are exact */
    /* RFC 4231 test case 2 */
    CHECK(wc_hmac("SHA256", (const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28, out) ==
          WC_OK);
    CHECK(eq_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    /* an empty key is HMAC with a zero block */
    CHECK(wc_hmac("SHA256", NULL, 0, (const uint8_t *)"x", 1, out) == WC_OK);
    CHECK(wc_hmac("MD4", (const uint8_t *)"k", 1, (const uint8_t *)"x", 1, out) == WC_ERR_HASH);
    CHECK_STR(wc_result_name(WC_ERR_AUTH), "authentication failed");
}

static void test_hkdf(void) {
    size_t ikm_len, salt_len, info_len;
    uint8_t *ikm = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", &ikm_len);
    uint8_t *salt = unhex("000102030405060708090a0b0c", &salt_len);
    uint8_t *info = unhex("f0f1f2f3f4f5f6f7f8f9", &info_len);
    uint8_t okm[42];
    /* RFC 5869 A.1 */
    CHECK(wc_hkdf("SHA256", ikm, ikm_len, salt, salt_len, info, info_len, okm, 42) == WC_OK);
    CHECK(eq_hex(okm, 42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));
    /* A.3: no salt, no info */
    CHECK(wc_hkdf("SHA256", ikm, ikm_len, NULL, 0, NULL, 0, okm, 42) == WC_OK);
    CHECK(eq_hex(okm, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"));
    /* A.7 (SHA-1, no salt): the first bytes */
    uint8_t *ikm7 = unhex("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", &ikm_len);
    CHECK(wc_hkdf("SHA1", ikm7, ikm_len, NULL, 0, NULL, 0, okm, 42) == WC_OK);
    CHECK(eq_hex(okm, 8, "2c91117204d745f3"));
    uint8_t *big = malloc(255 * 32 + 1);
    CHECK(wc_hkdf("SHA256", ikm, 22, NULL, 0, NULL, 0, big, 255 * 32) == WC_OK);
    CHECK(wc_hkdf("SHA256", ikm, 22, NULL, 0, NULL, 0, big, 255 * 32 + 1) == WC_ERR_PARAM);
    CHECK(wc_hkdf("SHA256", ikm, 22, NULL, 0, NULL, 0, big, 0) == WC_ERR_PARAM);
    CHECK(wc_hkdf("MD5", ikm, 22, NULL, 0, NULL, 0, okm, 16) == WC_ERR_HASH);
    free(big);
    free(ikm7);
    free(ikm);
    free(salt);
    free(info);
}

static void test_aes_gcm(void) {
    /* The GCM specification's test case 4 (AES-128, 60 bytes, 20 bytes of AAD). */
    size_t kl, ivl, pl, al;
    uint8_t *k = unhex("feffe9928665731c6d6a8f9467308308", &kl);
    uint8_t *iv = unhex("cafebabefacedbaddecaf888", &ivl);
    uint8_t *p = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
                       "b525b16aedf5aa0de657ba637b39",
                       &pl);
    uint8_t *a = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", &al);
    uint8_t c[128], back[128];
    size_t cl = 0, bl = 0;
    CHECK(wc_aes_gcm(1, k, kl, iv, ivl, a, al, 16, p, pl, c, &cl) == WC_OK && cl == pl + 16);
    CHECK(eq_hex(c, cl, "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
                        "1ba30b396a0aac973d58e0915bc94fbc3221a5db94fae95ae7121a47"));
    CHECK(wc_aes_gcm(0, k, kl, iv, ivl, a, al, 16, c, cl, back, &bl) == WC_OK && bl == pl && memcmp(back, p, pl) == 0);
    c[cl - 1] ^= 1; /* a forged tag */
    CHECK(wc_aes_gcm(0, k, kl, iv, ivl, a, al, 16, c, cl, back, &bl) == WC_ERR_AUTH);
    c[cl - 1] ^= 1;
    CHECK(wc_aes_gcm(0, k, kl, iv, ivl, a, al - 1, 16, c, cl, back, &bl) == WC_ERR_AUTH); /* other AAD */
    CHECK(wc_aes_gcm(0, k, kl, iv, ivl, a, al, 16, c, 15, back, &bl) == WC_ERR_AUTH);     /* shorter than a tag */
    CHECK(wc_aes_gcm(1, k, 17, iv, ivl, NULL, 0, 16, p, pl, c, &cl) == WC_ERR_KEY);
    CHECK(wc_aes_gcm(1, k, kl, iv, 0, NULL, 0, 16, p, pl, c, &cl) == WC_ERR_PARAM);
    CHECK(wc_aes_gcm(1, k, kl, iv, ivl, NULL, 0, 10, p, pl, c, &cl) == WC_ERR_PARAM);
    /* a 96-bit tag is a prefix of the full one */
    uint8_t t12[128], t16[128];
    size_t l12, l16;
    CHECK(wc_aes_gcm(1, k, kl, iv, ivl, NULL, 0, 12, NULL, 0, t12, &l12) == WC_OK && l12 == 12);
    CHECK(wc_aes_gcm(1, k, kl, iv, ivl, NULL, 0, 16, NULL, 0, t16, &l16) == WC_OK && memcmp(t12, t16, 12) == 0);
    free(k);
    free(iv);
    free(p);
    free(a);
}

static void test_p256(void) {
    uint8_t d[WC_P256_SCALAR], pub[WC_P256_POINT], sig[WC_P256_SIG];
    CHECK(wc_p256_generate(d, pub) == WC_OK && pub[0] == 0x04);
    CHECK(wc_p256_check_public(pub, sizeof pub) == WC_OK);
    CHECK(wc_p256_check_pair(d, pub) == WC_OK);
    CHECK(wc_ecdsa_sign("SHA256", d, pub, (const uint8_t *)"msg", 3, sig) == WC_OK);
    int valid = -1;
    CHECK(wc_ecdsa_verify("SHA256", pub, sig, sizeof sig, (const uint8_t *)"msg", 3, &valid) == WC_OK && valid == 1);
    CHECK(wc_ecdsa_verify("SHA384", pub, sig, sizeof sig, (const uint8_t *)"msg", 3, &valid) == WC_OK && valid == 0);
    CHECK(wc_ecdsa_verify("SHA256", pub, sig, 63, (const uint8_t *)"msg", 3, &valid) == WC_OK && valid == 0);
    uint8_t zero[WC_P256_SIG] = {0};
    CHECK(wc_ecdsa_verify("SHA256", pub, zero, sizeof zero, (const uint8_t *)"msg", 3, &valid) == WC_OK && valid == 0);
    CHECK(wc_ecdsa_sign("MD5", d, pub, (const uint8_t *)"msg", 3, sig) == WC_ERR_HASH);
    /* a point off the curve, a compressed point, a scalar of another key */
    uint8_t off[WC_P256_POINT];
    memcpy(off, pub, sizeof off);
    off[64] ^= 1;
    CHECK(wc_p256_check_public(off, sizeof off) == WC_ERR_KEY);
    CHECK(wc_p256_check_public(pub, 33) == WC_ERR_KEY);
    uint8_t d2[WC_P256_SCALAR], pub2[WC_P256_POINT];
    CHECK(wc_p256_generate(d2, pub2) == WC_OK);
    CHECK(wc_p256_check_pair(d2, pub) == WC_ERR_KEY);
    CHECK(wc_ecdsa_sign("SHA256", d2, pub, (const uint8_t *)"msg", 3, sig) == WC_ERR_KEY);
    uint8_t zero_d[WC_P256_SCALAR] = {0};
    CHECK(wc_p256_check_pair(zero_d, pub) == WC_ERR_KEY);
    /* SPKI round trip; junk, trailing bytes and an Ed25519 SPKI refused */
    uint8_t spki[WC_P256_SPKI + 1], back[WC_P256_POINT];
    CHECK(wc_p256_spki(pub, spki) == WC_OK);
    CHECK(wc_p256_from_spki(spki, WC_P256_SPKI, back) == WC_OK && memcmp(back, pub, sizeof pub) == 0);
    spki[WC_P256_SPKI] = 0;
    CHECK(wc_p256_from_spki(spki, WC_P256_SPKI + 1, back) == WC_ERR_KEY);
    CHECK(wc_p256_from_spki((const uint8_t *)"junk", 4, back) == WC_ERR_KEY);
    size_t el;
    uint8_t *ed = unhex("302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", &el);
    CHECK(wc_p256_from_spki(ed, el, back) == WC_ERR_KEY);
    free(ed);
}

static void test_ed25519(void) {
    /* RFC 8032 §7.1 test 1 and test 2 */
    size_t n, mn;
    uint8_t *seed = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", &n);
    uint8_t pub[WC_ED25519_KEY], sig[WC_ED25519_SIG];
    CHECK(wc_ed25519_public(seed, pub) == WC_OK);
    CHECK(eq_hex(pub, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
    CHECK(wc_ed25519_sign(seed, NULL, 0, sig) == WC_OK);
    CHECK(eq_hex(sig, 64, "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd"
                          "25bf5f0595bbe24655141438e7a100b"));
    int valid = -1;
    CHECK(wc_ed25519_verify(pub, sig, sizeof sig, NULL, 0, &valid) == WC_OK && valid == 1);
    CHECK(wc_ed25519_verify(pub, sig, sizeof sig, (const uint8_t *)"x", 1, &valid) == WC_OK && valid == 0);
    CHECK(wc_ed25519_verify(pub, sig, 63, NULL, 0, &valid) == WC_OK && valid == 0);
    uint8_t *seed2 = unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", &n);
    uint8_t *m2 = unhex("72", &mn);
    CHECK(wc_ed25519_sign(seed2, m2, mn, sig) == WC_OK);
    CHECK(eq_hex(sig, 64, "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8"
                          "c387b2eaeb4302aeeb00d291612bb0c00"));
    uint8_t s3[WC_ED25519_KEY], p3[WC_ED25519_KEY], again[WC_ED25519_KEY];
    CHECK(wc_ed25519_generate(s3, p3) == WC_OK && wc_ed25519_public(s3, again) == WC_OK && memcmp(p3, again, 32) == 0);
    free(seed);
    free(seed2);
    free(m2);
}

static void test_random(void) {
    uint8_t a[64] = {0}, b[64] = {0};
    CHECK(wc_random(a, sizeof a) == WC_OK && wc_random(b, sizeof b) == WC_OK && memcmp(a, b, sizeof a) != 0);
    CHECK(wc_random(NULL, 0) == WC_OK);
}

int main(void) {
    test_digest_hmac();
    test_hkdf();
    test_aes_gcm();
    test_p256();
    test_ed25519();
    test_random();
    return CHECK_DONE();
}
