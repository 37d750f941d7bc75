/* fuzz_jws.c - libFuzzer target for compact JWS decoding and ES256
 * verification (src/common/jws.c) and the strict base64url underneath it:
 * every certificate, receipt and piece of evidence tfaas reads from outside
 * goes through these.
 *
 * Invariants: a decoded JWS has a NUL-terminated payload and a signing input
 * that is a prefix of the input; whatever verifies decodes again to the same
 * payload; base64url that decodes re-encodes to exactly the same text (one
 * encoding per byte string). The same bytes as a receipt of a batch
 * (cli_receipt_open: JSON, base64url claims and proof, the signed root, the
 * Merkle proof check): refused with a reason, or claims that are an object. */
#include "fuzz.h"
#include "fuzz_key.h"

#include "common/b64url.h"
#include "common/jws.h"
#include "host/cli/cli_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    EVP_PKEY *key = fuzz_key();
    FUZZ_CHECK(key != NULL);
    const char *text = (const char *)data;

    jws_parts p;
    jws_result r = jws_decode(text, size, &p);
    if (r == JWS_OK) {
        FUZZ_CHECK(p.payload != NULL && p.payload[p.payload_len] == '\0');
        FUZZ_CHECK(p.signing_input_len < size && memcmp(p.signing_input, text, p.signing_input_len) == 0);
        if (jws_verify(&p, key) == JWS_OK) {
            jws_parts again;
            FUZZ_CHECK(jws_open(text, size, NULL, key, &again) == JWS_OK);
            FUZZ_CHECK(again.payload_len == p.payload_len &&
                       memcmp(again.payload, p.payload, p.payload_len) == 0);
            jws_parts_free(&again);
        }
        jws_parts_free(&p);
    } else {
        FUZZ_CHECK(p.payload == NULL && p.signing_input == NULL);
    }

    char *cstr = fuzz_cstr(data, size), err[512] = "";
    json_t *claims = cli_receipt_open(cstr, key, err, sizeof err);
    FUZZ_CHECK(claims ? json_is_object(claims) : err[0] != '\0');
    json_decref(claims);
    free(cstr);

    size_t n = 0;
    uint8_t *raw = b64url_decode_alloc(text, size, &n);
    if (raw) {
        char *back = b64url_encode_alloc(raw, n);
        FUZZ_CHECK(back && strlen(back) == size && memcmp(back, text, size) == 0);
        free(back);
        free(raw);
    }
    return 0;
}
