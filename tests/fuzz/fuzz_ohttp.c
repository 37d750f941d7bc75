/* fuzz_ohttp.c - libFuzzer target for the OHTTP parsers (src/common/ohttp.c):
 * application/ohttp-keys lists (a client reads them from the host) and
 * encapsulated requests (the gateway reads them from anyone), the latter
 * against a fixed key pair.
 *
 * The first byte picks the parser. Invariants: an accepted key list has
 * 1..max configurations, each with supported suites only, and re-encodes to
 * something that parses again; a request decapsulates only with the fixed
 * key id and, since the fuzzer cannot forge the AEAD tag, fails otherwise
 * without leaving output behind. */
#include "fuzz.h"

#include "common/ohttp.h"

#define KEY_ID 0x01

static void check_keys(const uint8_t *in, size_t len) {
    ohttp_key_config cfgs[4];
    size_t n = 0;
    if (ohttp_keys_parse(in, len, cfgs, 4, &n) != OHTTP_OK) return;
    FUZZ_CHECK(n >= 1 && n <= 4);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(cfgs[i].kem_id == HPKE_KEM_X25519_SHA256);
        FUZZ_CHECK(cfgs[i].nsuites >= 1 && cfgs[i].nsuites <= OHTTP_MAX_SUITES);
        for (size_t s = 0; s < cfgs[i].nsuites; s++)
            FUZZ_CHECK(cfgs[i].suites[s].kdf_id == HPKE_KDF_HKDF_SHA256 &&
                       hpke_aead_supported(cfgs[i].suites[s].aead_id, NULL));
    }
    uint8_t buf[4 * (2 + 39 + 4 * OHTTP_MAX_SUITES)];
    size_t out_len = 0, again = 0;
    FUZZ_CHECK(ohttp_keys_encode(cfgs, n, buf, sizeof buf, &out_len) == OHTTP_OK);
    FUZZ_CHECK(ohttp_keys_parse(buf, out_len, cfgs, 4, &again) == OHTTP_OK && again == n);
}

static void check_request(const uint8_t *in, size_t len) {
    static const uint8_t ikm[32] = {1, 2, 3, 4, 5, 6, 7, 8};
    hpke_keypair kp;
    FUZZ_CHECK(hpke_keypair_derive(&kp, ikm, sizeof ikm) == HPKE_OK);
    ohttp_ctx ctx;
    uint8_t *req = NULL;
    size_t req_len = 0;
    ohttp_result r = ohttp_request_decapsulate(&ctx, KEY_ID, &kp, in, len, &req, &req_len);
    FUZZ_CHECK(r != OHTTP_OK);
    FUZZ_CHECK(req == NULL);
    if (len && in[0] != KEY_ID) FUZZ_CHECK(r == OHTTP_ERR_KEY_ID || r == OHTTP_ERR_TRUNCATED);
    hpke_keypair_wipe(&kp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    size_t len = size - 1;
    uint8_t *in = fuzz_bytes(data + 1, len);
    if (data[0] & 1) check_request(in, len);
    else check_keys(in, len);
    free(in);
    return 0;
}
