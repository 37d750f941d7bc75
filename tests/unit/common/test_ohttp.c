/* test_ohttp.c - OHTTP key configurations and encapsulation against the
 * RFC 9458 Appendix A worked example, plus refusals of unknown key ids,
 * unsupported suites, truncated and tampered messages. */
#include "check.h"
#include "hex.h"
#include "common/ohttp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* RFC 9458 Appendix A: key id 1, X25519, suites (HKDF-SHA256, AES-128-GCM)
 * and (HKDF-SHA256, ChaCha20-Poly1305); the request is a BHTTP
 * "GET https://example.com/", the response a BHTTP 200. */
static const char *SK_R = "3c168975674b2fa8e465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a";
static const char *KEY_CONFIG =
    "01002031e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e79815500080001000100010003";
static const char *REQUEST = "00034745540568747470730b6578616d706c652e636f6d012f";
static const char *SK_E = "bc51d5e930bda26589890ac7032f70ad12e4ecb37abb1b65b1256c9c48999c73";
static const char *ENC_REQUEST =
    "010020000100014b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad19dec96c208b472"
    "6374e469135906992e1268c594d2a10c695d858c40a026e7965e7d86b83dd440b2c0185204b4d63525";
static const char *RESPONSE = "0140c8";
static const char *RESPONSE_NONCE = "c789e7151fcba46158ca84b04464910d";
static const char *ENC_RESPONSE = "c789e7151fcba46158ca84b04464910d86f9013e404feea014e7be4a441f234f857fbd";

static void test_rfc9458_example(void) {
    size_t n_cfg, n_skr, n_ske, n_req, n_resp, n_nonce, n_encreq;
    uint8_t *cfg_bytes = unhex(KEY_CONFIG, &n_cfg), *sk_r = unhex(SK_R, &n_skr);
    uint8_t *sk_e = unhex(SK_E, &n_ske), *req = unhex(REQUEST, &n_req);
    uint8_t *resp = unhex(RESPONSE, &n_resp), *nonce = unhex(RESPONSE_NONCE, &n_nonce);
    uint8_t *enc_req = unhex(ENC_REQUEST, &n_encreq);

    ohttp_key_config cfg;
    CHECK(ohttp_key_config_parse(&cfg, cfg_bytes, n_cfg) == OHTTP_OK);
    CHECK(cfg.key_id == 1 && cfg.kem_id == HPKE_KEM_X25519_SHA256 && cfg.nsuites == 2);
    CHECK(cfg.suites[0].aead_id == HPKE_AEAD_AES_128_GCM);
    CHECK(cfg.suites[1].aead_id == HPKE_AEAD_CHACHA20_POLY1305);
    uint8_t out[256];
    size_t out_len = 0;
    CHECK(ohttp_key_config_encode(&cfg, out, sizeof out, &out_len) == OHTTP_OK);
    CHECK(out_len == n_cfg && memcmp(out, cfg_bytes, n_cfg) == 0);

    hpke_keypair kp_r, kp_e;
    CHECK(hpke_keypair_from_private(&kp_r, sk_r) == HPKE_OK);
    CHECK(memcmp(kp_r.pk, cfg.pk, HPKE_NPK) == 0);
    CHECK(hpke_keypair_from_private(&kp_e, sk_e) == HPKE_OK);

    /* Client side reproduces the request byte for byte. */
    ohttp_ctx client, gateway;
    uint8_t *msg = NULL, *got = NULL;
    size_t msg_len = 0, got_len = 0;
    CHECK(ohttp_request_encapsulate(&client, &cfg, HPKE_AEAD_AES_128_GCM, req, n_req, &kp_e, &msg,
                                    &msg_len) == OHTTP_OK);
    CHECK(eq_hex(msg, msg_len, ENC_REQUEST));
    free(msg);

    /* Gateway side opens it and reproduces the response byte for byte. */
    CHECK(ohttp_request_decapsulate(&gateway, 1, &kp_r, enc_req, n_encreq, &got, &got_len) == OHTTP_OK);
    CHECK(got_len == n_req && memcmp(got, req, n_req) == 0);
    free(got);
    CHECK(ohttp_response_encapsulate(&gateway, resp, n_resp, nonce, &msg, &msg_len) == OHTTP_OK);
    CHECK(eq_hex(msg, msg_len, ENC_RESPONSE));
    CHECK(ohttp_response_decapsulate(&client, msg, msg_len, &got, &got_len) == OHTTP_OK);
    CHECK(got_len == n_resp && memcmp(got, resp, n_resp) == 0);
    free(got);

    /* Tampered and truncated responses. */
    msg[msg_len - 1] ^= 1;
    CHECK(ohttp_response_decapsulate(&client, msg, msg_len, &got, &got_len) == OHTTP_ERR_OPEN);
    msg[msg_len - 1] ^= 1;
    msg[0] ^= 1; /* the nonce feeds the key */
    CHECK(ohttp_response_decapsulate(&client, msg, msg_len, &got, &got_len) == OHTTP_ERR_OPEN);
    CHECK(ohttp_response_decapsulate(&client, msg, n_nonce + HPKE_NT - 1, &got, &got_len) ==
          OHTTP_ERR_TRUNCATED);
    free(msg);

    /* Hostile requests. */
    CHECK(ohttp_request_decapsulate(&gateway, 2, &kp_r, enc_req, n_encreq, &got, &got_len) == OHTTP_ERR_KEY_ID);
    for (size_t cut = 0; cut < OHTTP_HEADER_LEN + HPKE_NENC + HPKE_NT; cut++) {
        ohttp_result r = ohttp_request_decapsulate(&gateway, 1, &kp_r, enc_req, cut, &got, &got_len);
        CHECK(r == OHTTP_ERR_TRUNCATED);
    }
    CHECK(ohttp_request_decapsulate(&gateway, 1, &kp_r, enc_req, n_encreq - 1, &got, &got_len) == OHTTP_ERR_OPEN);
    const size_t suite_bytes[] = {1, 2, 3, 4, 5, 6};
    for (size_t i = 0; i < sizeof suite_bytes / sizeof suite_bytes[0]; i++) {
        enc_req[suite_bytes[i]] ^= 0x40;
        CHECK(ohttp_request_decapsulate(&gateway, 1, &kp_r, enc_req, n_encreq, &got, &got_len) == OHTTP_ERR_SUITE);
        enc_req[suite_bytes[i]] ^= 0x40;
    }
    /* Another supported AEAD in the header: the info differs, so it fails to open. */
    enc_req[6] = 0x03;
    CHECK(ohttp_request_decapsulate(&gateway, 1, &kp_r, enc_req, n_encreq, &got, &got_len) == OHTTP_ERR_OPEN);
    enc_req[6] = 0x01;
    for (size_t i = OHTTP_HEADER_LEN + HPKE_NENC; i < n_encreq; i++) {
        enc_req[i] ^= 0x01;
        CHECK(ohttp_request_decapsulate(&gateway, 1, &kp_r, enc_req, n_encreq, &got, &got_len) == OHTTP_ERR_OPEN);
        enc_req[i] ^= 0x01;
    }
    ohttp_key_config only_aes = cfg;
    only_aes.nsuites = 1;
    CHECK(ohttp_request_encapsulate(&client, &only_aes, HPKE_AEAD_CHACHA20_POLY1305, req, n_req, NULL,
                                    &msg, &msg_len) == OHTTP_ERR_SUITE);

    ohttp_ctx_wipe(&client);
    ohttp_ctx_wipe(&gateway);
    hpke_keypair_wipe(&kp_r);
    hpke_keypair_wipe(&kp_e);
    free(cfg_bytes); free(sk_r); free(sk_e); free(req); free(resp); free(nonce); free(enc_req);
}

static void test_round_trip_chacha(void) {
    hpke_keypair kp;
    CHECK(hpke_keypair_generate(&kp) == HPKE_OK);
    ohttp_key_config cfg = {.key_id = 7, .kem_id = HPKE_KEM_X25519_SHA256, .nsuites = 1,
                            .suites = {{HPKE_KDF_HKDF_SHA256, HPKE_AEAD_CHACHA20_POLY1305}}};
    memcpy(cfg.pk, kp.pk, HPKE_NPK);
    const uint8_t req[] = "request", resp[] = "response";
    ohttp_ctx c, g;
    uint8_t *m = NULL, *r = NULL, *m2 = NULL, *r2 = NULL;
    size_t m_len = 0, r_len = 0, m2_len = 0, r2_len = 0;
    CHECK(ohttp_request_encapsulate(&c, &cfg, HPKE_AEAD_CHACHA20_POLY1305, req, sizeof req, NULL, &m, &m_len) == OHTTP_OK);
    CHECK(ohttp_request_decapsulate(&g, 7, &kp, m, m_len, &r, &r_len) == OHTTP_OK);
    CHECK(r_len == sizeof req && memcmp(r, req, r_len) == 0);
    CHECK(ohttp_response_encapsulate(&g, resp, sizeof resp, NULL, &m2, &m2_len) == OHTTP_OK);
    CHECK(m2_len == 32 + sizeof resp + HPKE_NT); /* nonce is max(Nn, Nk) = 32 */
    CHECK(ohttp_response_decapsulate(&c, m2, m2_len, &r2, &r2_len) == OHTTP_OK);
    CHECK(r2_len == sizeof resp && memcmp(r2, resp, r2_len) == 0);
    free(m); free(r); free(m2); free(r2);
    ohttp_ctx_wipe(&c);
    ohttp_ctx_wipe(&g);
    hpke_keypair_wipe(&kp);
}

static void test_key_configs(void) {
    size_t n_cfg;
    uint8_t *one = unhex(KEY_CONFIG, &n_cfg);
    ohttp_key_config cfg;
    for (size_t cut = 0; cut < n_cfg; cut++) {
        ohttp_result r = ohttp_key_config_parse(&cfg, one, cut);
        CHECK(r == OHTTP_ERR_TRUNCATED || r == OHTTP_ERR_MALFORMED);
    }
    /* A list: our config, then one with an unknown KEM (skipped), then a truncated prefix. */
    uint8_t list[256];
    size_t len = 0;
    list[len++] = 0; list[len++] = (uint8_t)n_cfg;
    memcpy(list + len, one, n_cfg); len += n_cfg;
    const uint8_t p256[] = {0x00, 0x05, 0x02, 0x00, 0x10, 0xaa, 0xbb};
    memcpy(list + len, p256, sizeof p256); len += sizeof p256;
    ohttp_key_config cfgs[4];
    size_t n = 0;
    CHECK(ohttp_keys_parse(list, len, cfgs, 4, &n) == OHTTP_OK && n == 1 && cfgs[0].key_id == 1);
    list[len++] = 0x00;
    CHECK(ohttp_keys_parse(list, len, cfgs, 4, &n) == OHTTP_ERR_TRUNCATED);
    uint8_t enc[256];
    CHECK(ohttp_keys_encode(cfgs, 1, enc, sizeof enc, &len) == OHTTP_OK);
    CHECK(len == n_cfg + 2 && memcmp(enc + 2, one, n_cfg) == 0);
    CHECK(ohttp_keys_encode(cfgs, 1, enc, n_cfg, &len) == OHTTP_ERR_TOO_LARGE);
    /* Suites length not a multiple of 4, trailing bytes, only unknown suites. */
    one[3 + HPKE_NPK + 1] = 7;
    CHECK(ohttp_key_config_parse(&cfg, one, n_cfg) == OHTTP_ERR_MALFORMED);
    one[3 + HPKE_NPK + 1] = 4;
    CHECK(ohttp_key_config_parse(&cfg, one, n_cfg) == OHTTP_ERR_MALFORMED);
    one[3 + HPKE_NPK + 1] = 8;
    one[n_cfg - 1] = 0x02;
    one[n_cfg - 5] = 0x02;
    CHECK(ohttp_key_config_parse(&cfg, one, n_cfg) == OHTTP_ERR_SUITE);
    free(one);
}

int main(void) {
    test_rfc9458_example();
    test_round_trip_chacha();
    test_key_configs();
    return CHECK_DONE();
}
