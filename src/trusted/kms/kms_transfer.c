/* kms_transfer.c - the KMS-to-KMS key transfer's crypto; see kms_transfer.h. */
#include "trusted/kms/kms_transfer.h"

#include "common/labels.h"
#include "trusted/tee.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

const char *kt_result_name(kt_result r) {
    switch (r) {
    case KT_OK: return "ok";
    case KT_MALFORMED: return "malformed transfer message";
    case KT_EVIDENCE: return "the peer's evidence is refused";
    case KT_OPEN: return "the wrapped keys do not open (altered on the way)";
    case KT_INTERNAL: return "internal error";
    }
    return "unknown";
}

void kms_join_wipe(kms_join *j) {
    hpke_keypair_wipe(&j->key);
    free(j->evidence);
    memset(j, 0, sizeof *j);
}

/* SHA-256(key (32) || evidence): what the giver's evidence binds of the
 * hello, so a hello the host swapped gets an answer the joiner refuses. */
static int hello_hash(const uint8_t key[HPKE_NPK], const uint8_t *ev, size_t ev_len, uint8_t out[32]) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(md, key, HPKE_NPK) == 1 &&
             EVP_DigestUpdate(md, ev, ev_len) == 1 && EVP_DigestFinal_ex(md, out, NULL) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

/* report_data of the giver: LABEL_KMS_GIVE_REPORT over SHA-256(hello) ||
 * SHA-256(wrapped). */
static void give_report(const uint8_t hh[32], const uint8_t *wrapped, size_t wrapped_len,
                        uint8_t rd[EVIDENCE_REPORT_DATA_LEN]) {
    uint8_t data[64];
    memcpy(data, hh, 32);
    SHA256(wrapped, wrapped_len, data + 32);
    evidence_bind(LABEL_KMS_GIVE_REPORT, data, sizeof data, rd);
}

/* The peer must be a key service of this very build: the same measurement
 * this one has (the policy a worker applies to the KMS, §5.3). */
static kt_result check_peer(const uint8_t *ev, size_t ev_len, const uint8_t rd[EVIDENCE_REPORT_DATA_LEN],
                            evidence_result *er) {
    evidence_claims claims;
    *er = tee_verify((const char *)ev, ev_len, tee_measurement(), rd, &claims);
    return *er == EVIDENCE_OK ? KT_OK : KT_EVIDENCE;
}

kt_result kms_join_hello(kms_join *j) {
    kms_join_wipe(j);
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    if (hpke_keypair_generate(&j->key) != HPKE_OK) return KT_INTERNAL;
    evidence_bind(LABEL_KMS_JOIN_REPORT, j->key.pk, HPKE_NPK, rd);
    if (tee_quote(rd, &j->evidence, &j->evidence_len) < 0) {
        kms_join_wipe(j);
        return KT_INTERNAL;
    }
    j->pending = 1;
    return KT_OK;
}

kt_result kms_transfer_give(const uint8_t *hello_ev, size_t hello_ev_len, const uint8_t *hello_key, size_t key_len,
                            const uint8_t *payload, size_t payload_len, char **evidence, size_t *evidence_len,
                            uint8_t **wrapped, size_t *wrapped_len, evidence_result *er) {
    *evidence = NULL;
    *wrapped = NULL;
    *er = EVIDENCE_OK;
    if (key_len != HPKE_NPK || !hello_ev_len) return KT_MALFORMED;
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN], hh[32];
    evidence_bind(LABEL_KMS_JOIN_REPORT, hello_key, HPKE_NPK, rd);
    kt_result r = check_peer(hello_ev, hello_ev_len, rd, er);
    if (r != KT_OK) return r;
    if (hpke_seal_base(HPKE_AEAD_CHACHA20_POLY1305, hello_key, LABEL_KMS_TRANSFER_INFO, payload, payload_len, wrapped,
                       wrapped_len) != HPKE_OK)
        return KT_INTERNAL;
    if (hello_hash(hello_key, hello_ev, hello_ev_len, hh) < 0) {
        free(*wrapped);
        *wrapped = NULL;
        return KT_INTERNAL;
    }
    give_report(hh, *wrapped, *wrapped_len, rd);
    if (tee_quote(rd, evidence, evidence_len) < 0) {
        free(*wrapped);
        *wrapped = NULL;
        return KT_INTERNAL;
    }
    return KT_OK;
}

kt_result kms_transfer_adopt(const kms_join *j, const uint8_t *ev, size_t ev_len, const uint8_t *wrapped,
                             size_t wrapped_len, uint8_t **payload, size_t *payload_len, evidence_result *er) {
    *payload = NULL;
    *er = EVIDENCE_OK;
    if (!j->pending || !ev_len || wrapped_len < HPKE_NENC + HPKE_NT) return KT_MALFORMED;
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN], hh[32];
    if (hello_hash(j->key.pk, (const uint8_t *)j->evidence, j->evidence_len, hh) < 0) return KT_INTERNAL;
    give_report(hh, wrapped, wrapped_len, rd);
    kt_result r = check_peer(ev, ev_len, rd, er);
    if (r != KT_OK) return r;
    hpke_result hr = hpke_open_base(HPKE_AEAD_CHACHA20_POLY1305, &j->key, LABEL_KMS_TRANSFER_INFO, wrapped,
                                    wrapped_len, payload, payload_len);
    if (hr == HPKE_OK) return KT_OK;
    return hr == HPKE_ERR_OPEN ? KT_OPEN : KT_INTERNAL;
}
