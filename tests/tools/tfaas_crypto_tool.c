/* tfaas_crypto_tool.c - a test driver for the node cross-tests
 * (tests/compat/hpke-ohttp.test.mjs): reads one JSON request on stdin, runs
 * one operation of src/common's HPKE, BHTTP or OHTTP code and prints one
 * JSON result on stdout. Binary values are lowercase hex. Exit 0 on success,
 * 1 with {"error": "..."} when the operation is refused.
 *
 *   hpke_seal   {aead, pk, info, aad, pt}           -> {enc, ct}
 *   hpke_open   {aead, sk, enc, info, aad, ct}      -> {pt}
 *   bhttp_request_encode  {method, scheme, authority, path, headers, content} -> {msg}
 *   bhttp_request_decode  {msg}  -> {method, scheme, authority, path, headers, content}
 *   bhttp_response_encode {status, headers, content} -> {msg}
 *   bhttp_response_decode {msg}  -> {status, headers, content}
 *   ohttp_keys    {sk, key_id}   -> {keys}   (application/ohttp-keys, both AEADs)
 *   ohttp_gateway {sk, key_id, req, response: {status, headers, content}}
 *                 -> {request: {...decoded bhttp request...}, res}
 *   ohttp_client_batch {keys, aead, msg, count, out}  -> {count, bytes}
 *                 encapsulates the Binary HTTP request msg `count` times to the
 *                 first configuration of keys (application/ohttp-keys), each
 *                 with a fresh HPKE context, and writes them to the file `out`
 *                 as u32 big-endian length + message (bench/confidential.mjs)
 *   jws_sign    {payload (text), typ}  -> {jws, jwk}   (a fresh P-256 key)
 *   jws_verify  {jws, jwk: {x, y}, typ?}  -> {payload, typ, kid}
 *   invoker_sign   {target, date, content}  -> {jws, jwk}   (invoker_sig.c, a fresh key)
 *   invoker_verify {jws, jwk, target, date, content}  -> {result} (invoker_sig_result_name)
 * headers are [[name, value], ...] strings; content is hex. */
#include "common/bhttp.h"
#include "common/invoker_sig.h"
#include "common/jws.h"
#include "common/p256.h"
#include "common/hpke.h"
#include "common/ohttp.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hex of a JSON member into a fresh buffer; NULL when absent or not hex. */
static uint8_t *get_hex(json_t *obj, const char *key, size_t *len) {
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s || strlen(s) % 2) return NULL;
    size_t n = strlen(s) / 2;
    uint8_t *out = malloc(n + 1);
    for (size_t i = 0; out && i < n; i++) {
        unsigned v = 0;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)v;
    }
    *len = n;
    return out;
}

static json_t *hex_json(const uint8_t *b, size_t len) {
    char *s = malloc(2 * len + 1);
    for (size_t i = 0; i < len; i++) sprintf(s + 2 * i, "%02x", b[i]);
    s[2 * len] = 0;
    json_t *j = json_string(s);
    free(s);
    return j;
}

static int fail(const char *what) {
    printf("{\"error\": \"%s\"}\n", what);
    return 1;
}

static int emit(json_t *out) {
    char *s = json_dumps(out, JSON_COMPACT);
    puts(s);
    free(s);
    json_decref(out);
    return 0;
}

static bhttp_bytes json_bytes(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return bhttp_str(s ? s : "");
}

/* Fills m's headers and content from {headers, content}; *content is owned by the caller. */
static int message_from_json(json_t *in, bhttp_message *m, uint8_t **content) {
    json_t *headers = json_object_get(in, "headers");
    size_t i;
    json_t *h;
    json_array_foreach(headers, i, h) {
        if (i >= BHTTP_MAX_FIELDS) return -1;
        m->fields[i].name = bhttp_str(json_string_value(json_array_get(h, 0)));
        m->fields[i].value = bhttp_str(json_string_value(json_array_get(h, 1)));
        m->nheaders = i + 1;
    }
    size_t len = 0;
    *content = get_hex(in, "content", &len);
    m->content = (bhttp_bytes){*content, *content ? len : 0};
    return 0;
}

static json_t *str_json(bhttp_bytes b) {
    return json_stringn((const char *)b.ptr, b.len);
}

static json_t *message_to_json(const bhttp_message *m, int request) {
    json_t *out = json_object(), *headers = json_array();
    for (size_t i = 0; i < m->nheaders; i++)
        json_array_append_new(headers, json_pack("[oo]", str_json(m->fields[i].name), str_json(m->fields[i].value)));
    json_object_set_new(out, "headers", headers);
    json_object_set_new(out, "content", hex_json(m->content.ptr, m->content.len));
    if (request) {
        json_object_set_new(out, "method", str_json(m->method));
        json_object_set_new(out, "scheme", str_json(m->scheme));
        json_object_set_new(out, "authority", str_json(m->authority));
        json_object_set_new(out, "path", str_json(m->path));
    } else {
        json_object_set_new(out, "status", json_integer((json_int_t)m->status));
    }
    return out;
}

static int op_hpke(json_t *in, int seal) {
    uint16_t aead = (uint16_t)json_integer_value(json_object_get(in, "aead"));
    size_t key_len = 0, info_len = 0, aad_len = 0, data_len = 0, enc_len = 0;
    uint8_t *key = get_hex(in, seal ? "pk" : "sk", &key_len), *info = get_hex(in, "info", &info_len);
    uint8_t *aad = get_hex(in, "aad", &aad_len), *data = get_hex(in, seal ? "pt" : "ct", &data_len);
    uint8_t *enc = seal ? NULL : get_hex(in, "enc", &enc_len);
    int rc = 1;
    hpke_ctx ctx;
    hpke_keypair kp;
    uint8_t enc_out[HPKE_NENC];
    uint8_t *out = malloc(data_len + HPKE_NT);
    size_t out_len = 0;
    hpke_result r = HPKE_ERR_LENGTH;
    if (key && info && aad && data && out && (seal || enc)) {
        if (seal) {
            r = hpke_setup_sender(&ctx, aead, key, key_len, info, info_len, NULL, enc_out);
            if (r == HPKE_OK) r = hpke_seal(&ctx, aad, aad_len, data, data_len, out, data_len + HPKE_NT, &out_len);
        } else if (key_len != HPKE_NSK) {
            r = HPKE_ERR_LENGTH;
        } else if ((r = hpke_keypair_from_private(&kp, key)) == HPKE_OK) {
            r = hpke_setup_receiver(&ctx, aead, enc, enc_len, &kp, info, info_len);
            if (r == HPKE_OK) r = hpke_open(&ctx, aad, aad_len, data, data_len, out, data_len, &out_len);
            hpke_keypair_wipe(&kp);
        }
        hpke_ctx_wipe(&ctx);
    }
    if (r == HPKE_OK) {
        json_t *o = json_object();
        if (seal) json_object_set_new(o, "enc", hex_json(enc_out, HPKE_NENC));
        json_object_set_new(o, seal ? "ct" : "pt", hex_json(out, out_len));
        rc = emit(o);
    } else {
        rc = fail(hpke_result_name(r));
    }
    free(key); free(info); free(aad); free(data); free(enc); free(out);
    return rc;
}

static int op_bhttp_encode(json_t *in, int request) {
    bhttp_message m;
    memset(&m, 0, sizeof m);
    uint8_t *content = NULL, *msg = NULL;
    size_t len = 0;
    if (message_from_json(in, &m, &content) != 0) return fail("too many headers");
    bhttp_result r;
    if (request) {
        m.method = json_bytes(in, "method");
        m.scheme = json_bytes(in, "scheme");
        m.authority = json_bytes(in, "authority");
        m.path = json_bytes(in, "path");
        r = bhttp_request_encode(&m, &msg, &len);
    } else {
        m.status = (uint64_t)json_integer_value(json_object_get(in, "status"));
        r = bhttp_response_encode(&m, &msg, &len);
    }
    free(content);
    if (r != BHTTP_OK) return fail(bhttp_result_name(r));
    json_t *o = json_object();
    json_object_set_new(o, "msg", hex_json(msg, len));
    free(msg);
    return emit(o);
}

static int op_bhttp_decode(json_t *in, int request) {
    size_t len = 0;
    uint8_t *msg = get_hex(in, "msg", &len);
    if (!msg) return fail("msg");
    bhttp_message *m = malloc(sizeof *m);
    bhttp_result r = request ? bhttp_request_decode(m, msg, len) : bhttp_response_decode(m, msg, len);
    int rc = r == BHTTP_OK ? emit(message_to_json(m, request)) : fail(bhttp_result_name(r));
    free(m);
    free(msg);
    return rc;
}

/* The gateway's key pair from {sk}, and the configuration it publishes. */
static int gateway_key(json_t *in, hpke_keypair *kp, ohttp_key_config *cfg) {
    size_t len = 0;
    uint8_t *sk = get_hex(in, "sk", &len);
    int ok = sk && len == HPKE_NSK && hpke_keypair_from_private(kp, sk) == HPKE_OK;
    free(sk);
    if (!ok) return -1;
    *cfg = (ohttp_key_config){.key_id = (uint8_t)json_integer_value(json_object_get(in, "key_id")),
                              .kem_id = HPKE_KEM_X25519_SHA256, .nsuites = 2,
                              .suites = {{HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM},
                                         {HPKE_KDF_HKDF_SHA256, HPKE_AEAD_CHACHA20_POLY1305}}};
    memcpy(cfg->pk, kp->pk, HPKE_NPK);
    return 0;
}

static int op_ohttp_keys(json_t *in) {
    hpke_keypair kp;
    ohttp_key_config cfg;
    if (gateway_key(in, &kp, &cfg) != 0) return fail("sk");
    hpke_keypair_wipe(&kp);
    uint8_t buf[128];
    size_t len = 0;
    ohttp_result r = ohttp_keys_encode(&cfg, 1, buf, sizeof buf, &len);
    if (r != OHTTP_OK) return fail(ohttp_result_name(r));
    json_t *o = json_object();
    json_object_set_new(o, "keys", hex_json(buf, len));
    return emit(o);
}

static int op_ohttp_gateway(json_t *in) {
    hpke_keypair kp;
    ohttp_key_config cfg;
    if (gateway_key(in, &kp, &cfg) != 0) return fail("sk");
    size_t req_len = 0, bin_len = 0, res_len = 0, enc_res_len = 0;
    uint8_t *req = get_hex(in, "req", &req_len), *bin = NULL, *res = NULL, *enc_res = NULL, *content = NULL;
    ohttp_ctx ctx;
    ohttp_result r = req ? ohttp_request_decapsulate(&ctx, cfg.key_id, &kp, req, req_len, &bin, &bin_len)
                         : OHTTP_ERR_TRUNCATED;
    hpke_keypair_wipe(&kp);
    free(req);
    if (r != OHTTP_OK) return fail(ohttp_result_name(r));
    bhttp_message *m = malloc(sizeof *m);
    bhttp_result b = bhttp_request_decode(m, bin, bin_len);
    json_t *o = json_object();
    if (b == BHTTP_OK) json_object_set_new(o, "request", message_to_json(m, 1));
    json_t *resp = json_object_get(in, "response");
    memset(m, 0, sizeof *m);
    if (b == BHTTP_OK && message_from_json(resp, m, &content) != 0) b = BHTTP_ERR_TOO_MANY;
    m->status = (uint64_t)json_integer_value(json_object_get(resp, "status"));
    if (b == BHTTP_OK) b = bhttp_response_encode(m, &res, &res_len);
    if (b == BHTTP_OK) r = ohttp_response_encapsulate(&ctx, res, res_len, NULL, &enc_res, &enc_res_len);
    ohttp_ctx_wipe(&ctx);
    free(m); free(bin); free(res); free(content);
    if (b != BHTTP_OK || r != OHTTP_OK) {
        json_decref(o);
        free(enc_res);
        return fail(b != BHTTP_OK ? bhttp_result_name(b) : ohttp_result_name(r));
    }
    json_object_set_new(o, "res", hex_json(enc_res, enc_res_len));
    free(enc_res);
    return emit(o);
}

static int op_jws_sign(json_t *in) {
    const char *payload = json_string_value(json_object_get(in, "payload"));
    const char *typ = json_string_value(json_object_get(in, "typ"));
    if (!payload) return fail("no payload");
    EVP_PKEY *k = p256_generate();
    char *jws = NULL, *jwk = k ? p256_public_jwk(k) : NULL;
    jws_result r = jws_sign(k, typ, NULL, (const uint8_t *)payload, strlen(payload), &jws);
    EVP_PKEY_free(k);
    if (r != JWS_OK || !jwk) {
        free(jwk);
        return fail(jws_result_name(r));
    }
    json_t *out = json_pack("{s:s, s:o}", "jws", jws, "jwk", json_loads(jwk, 0, NULL));
    free(jws);
    free(jwk);
    return emit(out);
}

static int op_jws_verify(json_t *in) {
    const char *jws = json_string_value(json_object_get(in, "jws"));
    json_t *jwk = json_object_get(in, "jwk");
    EVP_PKEY *k = p256_from_jwk(jwk);
    if (!jws || !k) {
        EVP_PKEY_free(k);
        return fail("need jws and a P-256 jwk");
    }
    jws_parts p;
    jws_result r = jws_open(jws, strlen(jws), json_string_value(json_object_get(in, "typ")), k, &p);
    EVP_PKEY_free(k);
    if (r != JWS_OK) return fail(jws_result_name(r));
    json_t *out = json_pack("{s:s%, s:s, s:s}", "payload", (const char *)p.payload, p.payload_len,
                            "typ", p.typ, "kid", p.kid);
    jws_parts_free(&p);
    return emit(out);
}

/* {target, date, content}: an invoker signature (invoker_sig.c) by a fresh
 * key -> {jws, jwk}. */
static int op_invoker_sign(json_t *in) {
    const char *target = json_string_value(json_object_get(in, "target"));
    const char *date = json_string_value(json_object_get(in, "date"));
    const char *content = json_string_value(json_object_get(in, "content"));
    if (!target || !date || !content) return fail("need target, date and content");
    EVP_PKEY *k = p256_generate();
    char *jws = k ? invoker_sig_sign(k, target, date, (const uint8_t *)content, strlen(content)) : NULL;
    char *jwk = k ? p256_public_jwk(k) : NULL;
    EVP_PKEY_free(k);
    json_t *out = jws && jwk ? json_pack("{s:s, s:o}", "jws", jws, "jwk", json_loads(jwk, 0, NULL)) : NULL;
    free(jws);
    free(jwk);
    return out ? emit(out) : fail("cannot sign");
}

/* {jws, jwk, target, date, content} -> {result: invoker_sig_result_name}. */
static int op_invoker_verify(json_t *in) {
    const char *jws = json_string_value(json_object_get(in, "jws"));
    const char *target = json_string_value(json_object_get(in, "target"));
    const char *date = json_string_value(json_object_get(in, "date"));
    const char *content = json_string_value(json_object_get(in, "content"));
    EVP_PKEY *k = p256_from_jwk(json_object_get(in, "jwk"));
    uint8_t point[P256_POINT_LEN];
    invoker_keys ks = {0};
    int ok = k && p256_public_point(k, point) == 0 && invoker_keys_add(&ks, point) == 0;
    EVP_PKEY_free(k);
    if (!ok || !jws || !target || !date || !content) return fail("need jws, a P-256 jwk, target, date and content");
    invoker_sig_result r = invoker_sig_verify(jws, strlen(jws), &ks, target, date, (const uint8_t *)content,
                                              strlen(content));
    return emit(json_pack("{s:s}", "result", invoker_sig_result_name(r)));
}

static int op_ohttp_client_batch(json_t *in) {
    size_t keys_len = 0, msg_len = 0;
    uint8_t *keys = get_hex(in, "keys", &keys_len), *msg = get_hex(in, "msg", &msg_len);
    json_int_t count = json_integer_value(json_object_get(in, "count"));
    uint16_t aead = (uint16_t)json_integer_value(json_object_get(in, "aead"));
    const char *path = json_string_value(json_object_get(in, "out"));
    ohttp_key_config cfg;
    size_t n = 0;
    int rc;
    FILE *f = NULL;
    if (!keys || !msg || !path || count < 1 || count > 10000000) {
        rc = fail("keys, msg, out and count (1..1e7) are required");
    } else if (ohttp_keys_parse(keys, keys_len, &cfg, 1, &n) != OHTTP_OK || n < 1) {
        rc = fail("keys do not parse");
    } else if (!(f = fopen(path, "wb"))) {
        rc = fail("cannot open out");
    } else {
        uint64_t bytes = 0;
        rc = 0;
        for (json_int_t i = 0; i < count && rc == 0; i++) {
            ohttp_ctx ctx;
            uint8_t *req = NULL;
            size_t req_len = 0;
            ohttp_result r = ohttp_request_encapsulate(&ctx, &cfg, aead, msg, msg_len, NULL, &req, &req_len);
            ohttp_ctx_wipe(&ctx);
            if (r != OHTTP_OK) { rc = fail(ohttp_result_name(r)); break; }
            uint8_t len_be[4] = {(uint8_t)(req_len >> 24), (uint8_t)(req_len >> 16), (uint8_t)(req_len >> 8),
                                 (uint8_t)req_len};
            if (fwrite(len_be, 1, 4, f) != 4 || fwrite(req, 1, req_len, f) != req_len) rc = fail("write failed");
            bytes += 4 + req_len;
            free(req);
        }
        if (fclose(f) != 0 && rc == 0) rc = fail("write failed");
        if (rc == 0) rc = emit(json_pack("{s:I, s:I}", "count", (json_int_t)count, "bytes", (json_int_t)bytes));
    }
    free(keys);
    free(msg);
    return rc;
}

int main(void) {
    json_error_t err;
    json_t *in = json_loadf(stdin, 0, &err);
    if (!in) return fail("stdin is not JSON");
    const char *op = json_string_value(json_object_get(in, "op"));
    int rc = !op ? fail("no op")
           : !strcmp(op, "hpke_seal") ? op_hpke(in, 1)
           : !strcmp(op, "hpke_open") ? op_hpke(in, 0)
           : !strcmp(op, "bhttp_request_encode") ? op_bhttp_encode(in, 1)
           : !strcmp(op, "bhttp_request_decode") ? op_bhttp_decode(in, 1)
           : !strcmp(op, "bhttp_response_encode") ? op_bhttp_encode(in, 0)
           : !strcmp(op, "bhttp_response_decode") ? op_bhttp_decode(in, 0)
           : !strcmp(op, "ohttp_keys") ? op_ohttp_keys(in)
           : !strcmp(op, "ohttp_gateway") ? op_ohttp_gateway(in)
           : !strcmp(op, "ohttp_client_batch") ? op_ohttp_client_batch(in)
           : !strcmp(op, "jws_sign") ? op_jws_sign(in)
           : !strcmp(op, "jws_verify") ? op_jws_verify(in)
           : !strcmp(op, "invoker_sign") ? op_invoker_sign(in)
           : !strcmp(op, "invoker_verify") ? op_invoker_verify(in)
           : fail("unknown op");
    json_decref(in);
    return rc;
}
