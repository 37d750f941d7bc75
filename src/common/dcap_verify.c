/* dcap_verify.c - Intel DCAP quote verification (SGX and TDX), following
 * Intel's Quote Verification Library's order of checks:
 *   1. the collateral (dcap_collateral.c): signed by Intel, current at the
 *      verification time;
 *   2. the PCK certificate chain from the quote to the trusted root, with
 *      the root CA and PCK CRLs;
 *   3. the QE report: signed by the PCK key, binding the attestation key
 *      and QE authentication data (SHA-256 in its report data), and of the
 *      QE the QE identity names;
 *   4. the quote signature by the attestation key over header and body;
 *   5. TCB status: the first TCB info level the platform's PCK TCB (and,
 *      for TDX, TEE_TCB_SVN) reaches, then the QE's and, for TDX, the TDX
 *      module's own levels, merged as Intel merges them;
 *   6. Revoked is refused, debug is refused unless allowed.
 * Before all of them, the header's QE vendor id must be Intel's (once the
 * collateral is known to be there, so that a quote without it is always
 * refused for that). */
#include "common/dcap_collateral.h"
#include "common/dcap_pck.h"
#include "common/dcap_quote.h"
#include "common/evidence_hw.h"
#include "common/p256.h"
#include "common/tee_bytes.h"
#include "common/tee_x509.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Hex member of a JSON object into exactly n bytes. */
static int jhex(const json_t *o, const char *key, uint8_t *out, size_t n) {
    return evidence_unhex(json_string_value(json_object_get(o, key)), out, n);
}

/* (value & mask) == expected, over n bytes of JSON hex. */
static int masked_equal(const json_t *o, const char *vkey, const char *mkey, const uint8_t *actual, size_t n) {
    uint8_t want[16], mask[16];
    if (n > sizeof want || jhex(o, vkey, want, n) < 0 || jhex(o, mkey, mask, n) < 0) return 0;
    for (size_t i = 0; i < n; i++)
        if ((actual[i] & mask[i]) != want[i]) return 0;
    return 1;
}

/* The first level of `levels` whose tcb.isvsvn the given SVN reaches (QE
 * identity and TDX module identity levels). */
static const json_t *isvsvn_level(const json_t *levels, uint32_t svn) {
    size_t i;
    const json_t *l;
    json_array_foreach(levels, i, l) {
        json_t *v = json_object_get(json_object_get(l, "tcb"), "isvsvn");
        if (json_is_integer(v) && json_integer_value(v) <= (json_int_t)svn) return l;
    }
    return NULL;
}

/* Does every component's svn stay at or below have[i]? */
static int components_reached(const json_t *comps, const uint8_t have[16]) {
    if (json_array_size(comps) != 16) return 0;
    for (size_t i = 0; i < 16; i++) {
        json_t *v = json_object_get(json_array_get(comps, i), "svn");
        if (!json_is_integer(v) || json_integer_value(v) > have[i]) return 0;
    }
    return 1;
}

/* The platform's TCB level: the first (levels are ordered newest first)
 * that the PCK TCB, and for TDX the TEE_TCB_SVN, reach. */
static const json_t *platform_level(const json_t *tcb_info, const dcap_pck_info *pck, const uint8_t *tee_tcb_svn) {
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(tcb_info, "tcbLevels"), i, l) {
        json_t *t = json_object_get(l, "tcb");
        json_t *pcesvn = json_object_get(t, "pcesvn");
        if (!components_reached(json_object_get(t, "sgxtcbcomponents"), pck->cpu_svn) || !json_is_integer(pcesvn) ||
            json_integer_value(pcesvn) > (json_int_t)pck->pce_svn)
            continue;
        if (tee_tcb_svn && !components_reached(json_object_get(t, "tdxtcbcomponents"), tee_tcb_svn)) continue;
        return l;
    }
    return NULL;
}

/* Intel's merge of a platform status with the QE's or the TDX module's:
 * an out-of-date component makes the whole OutOfDate (keeping the
 * configuration part), a revoked one Revoked. */
static const char *merge_status(const char *platform, const char *other) {
    if (!strcmp(other, "Revoked")) return "Revoked";
    if (strcmp(other, "OutOfDate") != 0) return platform;
    if (!strcmp(platform, "UpToDate") || !strcmp(platform, "SWHardeningNeeded")) return "OutOfDate";
    if (!strcmp(platform, "ConfigurationNeeded") || !strcmp(platform, "ConfigurationAndSWHardeningNeeded"))
        return "OutOfDateConfigurationNeeded";
    return platform;
}

static const char *level_status(const json_t *level) {
    const char *s = json_string_value(json_object_get(level, "tcbStatus"));
    return s ? s : "";
}

/* The QE report against the QE identity: which QE it is and its TCB level. */
static evidence_result check_qe(const dcap_quote *q, const json_t *qe_id, const json_t **level, char *why,
                                size_t whylen) {
    const char *id = json_string_value(json_object_get(qe_id, "id"));
    const char *want_id = q->tee_type == DCAP_TEE_TDX ? "TD_QE" : "QE";
    json_t *version = json_object_get(qe_id, "version");
    if (!id || strcmp(id, want_id) != 0 || json_integer_value(version) != 2)
        return evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "collateral qe_identity is not a version 2 %s identity",
                               want_id);
    uint8_t mrsigner[32];
    json_t *prod = json_object_get(qe_id, "isvprodid");
    const uint8_t *r = q->qe_report;
    if (jhex(qe_id, "mrsigner", mrsigner, sizeof mrsigner) < 0 || !json_is_integer(prod))
        return evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "collateral qe_identity lacks mrsigner or isvprodid");
    if (memcmp(mrsigner, r + SGX_RB_MRSIGNER, 32) != 0 || json_integer_value(prod) != tee_le16(r + SGX_RB_ISVPRODID) ||
        !masked_equal(qe_id, "miscselect", "miscselectMask", r + SGX_RB_MISCSELECT, 4) ||
        !masked_equal(qe_id, "attributes", "attributesMask", r + SGX_RB_ATTRIBUTES, 16))
        return evidence_refuse(why, whylen, EVIDENCE_QE_MISMATCH, "the quoting enclave is not the one the QE identity names");
    if (!(*level = isvsvn_level(json_object_get(qe_id, "tcbLevels"), tee_le16(r + SGX_RB_ISVSVN))))
        return evidence_refuse(why, whylen, EVIDENCE_TCB_UNSUPPORTED, "QE ISVSVN %u is below every QE identity TCB level",
                               tee_le16(r + SGX_RB_ISVSVN));
    return EVIDENCE_OK;
}

/* The TDX module's identity and level: TDX 1.0 modules (TEE_TCB_SVN[1] 0)
 * must match tdxModule; later ones the tdxModuleIdentities entry
 * "TDX_<major>", whose levels give a status of their own (*level). */
static evidence_result check_tdx_module(const uint8_t *body, const json_t *tcb_info, const json_t **level, char *why,
                                        size_t whylen) {
    *level = NULL;
    const uint8_t *svn = body + TD_RB_TEE_TCB_SVN;
    const json_t *m = json_object_get(tcb_info, "tdxModule");
    if (svn[1] > 0) {
        char id[16];
        snprintf(id, sizeof id, "TDX_%02X", svn[1]);
        size_t i;
        const json_t *e;
        m = NULL;
        json_array_foreach(json_object_get(tcb_info, "tdxModuleIdentities"), i, e) {
            const char *eid = json_string_value(json_object_get(e, "id"));
            if (eid && !strcasecmp(eid, id)) m = e;
        }
        if (!m)
            return evidence_refuse(why, whylen, EVIDENCE_TCB_UNSUPPORTED, "TCB info has no identity for TDX module %s", id);
        if (!(*level = isvsvn_level(json_object_get(m, "tcbLevels"), svn[0])))
            return evidence_refuse(why, whylen, EVIDENCE_TCB_UNSUPPORTED,
                                   "TDX module %s SVN %u is below every TCB level of its identity", id, svn[0]);
    }
    uint8_t mrsigner[48];
    if (!m || jhex(m, "mrsigner", mrsigner, sizeof mrsigner) < 0)
        return evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "TDX TCB info lacks the TDX module identity");
    if (memcmp(mrsigner, body + TD_RB_MRSIGNERSEAM, 48) != 0 ||
        !masked_equal(m, "attributes", "attributesMask", body + TD_RB_SEAM_ATTRIBUTES, 8))
        return evidence_refuse(why, whylen, EVIDENCE_TCB_UNSUPPORTED, "the TDX module is not the one the TCB info names");
    return EVIDENCE_OK;
}

/* The PCK chain and key, the QE report's signature and binding. */
static evidence_result check_pck_and_qe(const dcap_quote *q, STACK_OF(X509) *roots, STACK_OF(X509) *intermediates,
                                        STACK_OF(X509_CRL) *crls, int64_t at, dcap_pck_info *pck, char *why,
                                        size_t whylen) {
    X509 *leaf = NULL;
    evidence_result r = EVIDENCE_OK;
    char detail[256];
    int rc = tee_chain_leaf(q->pck_chain, q->pck_chain_len, roots, intermediates, crls, at, &leaf, detail,
                            sizeof detail);
    EVP_PKEY *pub = leaf ? X509_get0_pubkey(leaf) : NULL;
    if (rc == -1)
        r = evidence_refuse(why, whylen, EVIDENCE_MALFORMED, "quote's PCK certificate chain does not parse");
    else if (rc == -2)
        r = evidence_refuse(why, whylen, EVIDENCE_BAD_CHAIN, "PCK certificate chain: %s", detail);
    else if (dcap_pck_info_get(leaf, pck) < 0)
        r = evidence_refuse(why, whylen, EVIDENCE_MALFORMED, "PCK certificate has no well-formed SGX extension");
    else if (!pub || !tee_ecdsa_verify(pub, EVP_sha256(), q->qe_report_sig, q->qe_report_sig + 32, 32, 0, q->qe_report,
                                       DCAP_SGX_BODY_LEN))
        r = evidence_refuse(why, whylen, EVIDENCE_BAD_SIGNATURE, "QE report signature does not verify with the PCK key");
    X509_free(leaf);
    if (r != EVIDENCE_OK) return r;
    /* report_data = SHA-256(attestation key || QE authentication data) || 32 zero bytes */
    uint8_t digest[SHA256_DIGEST_LENGTH], zero[32] = {0};
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int hashed = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
                 EVP_DigestUpdate(md, q->attest_key, 64) == 1 &&
                 (!q->qe_auth_len || EVP_DigestUpdate(md, q->qe_auth, q->qe_auth_len) == 1) &&
                 EVP_DigestFinal_ex(md, digest, NULL) == 1;
    EVP_MD_CTX_free(md);
    if (!hashed) return evidence_refuse(why, whylen, EVIDENCE_QE_MISMATCH, "out of memory");
    const uint8_t *rd = q->qe_report + SGX_RB_REPORTDATA;
    if (CRYPTO_memcmp(rd, digest, 32) != 0 || memcmp(rd + 32, zero, 32) != 0)
        return evidence_refuse(why, whylen, EVIDENCE_QE_MISMATCH, "QE report does not bind the attestation key");
    uint8_t point[P256_POINT_LEN] = {0x04};
    memcpy(point + 1, q->attest_key, 64);
    EVP_PKEY *ak = p256_from_point(point, sizeof point);
    int ok = ak && tee_ecdsa_verify(ak, EVP_sha256(), q->signature, q->signature + 32, 32, 0, q->signed_part,
                                    q->signed_len);
    EVP_PKEY_free(ak);
    if (!ok) return evidence_refuse(why, whylen, EVIDENCE_BAD_SIGNATURE, "quote signature does not verify");
    return EVIDENCE_OK;
}

/* The measurements of the quote's body, in the TEE's own names. */
static int add_fields(const dcap_quote *q, evidence_claims *c) {
    const uint8_t *b = q->body;
    int rc = 0;
    if (q->tee_type == DCAP_TEE_SGX) {
        strcpy(c->tee, "sgx");
        memcpy(c->measurement, b + SGX_RB_MRENCLAVE, 32);
        memcpy(c->signer, b + SGX_RB_MRSIGNER, 32);
        memcpy(c->report_data, b + SGX_RB_REPORTDATA, 64);
        c->debug = (b[SGX_RB_ATTRIBUTES] & SGX_ATTR_DEBUG) != 0;
        rc |= evidence_field_add(c, "mr_enclave", b + SGX_RB_MRENCLAVE, 32);
        rc |= evidence_field_add(c, "mr_signer", b + SGX_RB_MRSIGNER, 32);
        rc |= evidence_field_add(c, "attributes", b + SGX_RB_ATTRIBUTES, 16);
        return rc;
    }
    strcpy(c->tee, "tdx");
    memcpy(c->report_data, b + TD_RB_REPORTDATA, 64);
    c->debug = (b[TD_RB_TD_ATTRIBUTES] & TD_ATTR_DEBUG) != 0;
    static const struct { const char *name; size_t off, len; } TD[] = {
        {"mr_td", TD_RB_MRTD, 48},           {"rtmr0", TD_RB_RTMR0, 48},
        {"rtmr1", TD_RB_RTMR0 + 48, 48},     {"rtmr2", TD_RB_RTMR0 + 96, 48},
        {"rtmr3", TD_RB_RTMR0 + 144, 48},    {"mr_config_id", TD_RB_MRCONFIGID, 48},
        {"mr_owner", TD_RB_MROWNER, 48},     {"mr_owner_config", TD_RB_MROWNERCONFIG, 48},
        {"mr_seam", TD_RB_MRSEAM, 48},       {"mr_signer_seam", TD_RB_MRSIGNERSEAM, 48},
        {"td_attributes", TD_RB_TD_ATTRIBUTES, 8}, {"xfam", TD_RB_XFAM, 8},
        {"tee_tcb_svn", TD_RB_TEE_TCB_SVN, 16},
    };
    for (size_t i = 0; i < sizeof TD / sizeof TD[0]; i++) rc |= evidence_field_add(c, TD[i].name, b + TD[i].off, TD[i].len);
    if (q->body_type == 3) rc |= evidence_field_add(c, "mr_service_td", b + TD_RB_MRSERVICETD, 48);
    return rc;
}

/* TCB info for this quote's TEE and platform, and the platform's level. */
static evidence_result check_tcb_info(const dcap_quote *q, const json_t *tcb_info, const dcap_pck_info *pck,
                                      const json_t **level, char *why, size_t whylen) {
    const char *id = json_string_value(json_object_get(tcb_info, "id"));
    const char *want = q->tee_type == DCAP_TEE_TDX ? "TDX" : "SGX";
    uint8_t fmspc[6], pce_id[2];
    if (!id || strcmp(id, want) != 0 || json_integer_value(json_object_get(tcb_info, "version")) != 3 ||
        jhex(tcb_info, "fmspc", fmspc, 6) < 0 || jhex(tcb_info, "pceId", pce_id, 2) < 0)
        return evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "collateral tcb_info is not version 3 %s TCB info",
                               want);
    if (memcmp(fmspc, pck->fmspc, 6) != 0 || memcmp(pce_id, pck->pce_id, 2) != 0) {
        char have[13];
        evidence_hex(pck->fmspc, 6, have);
        return evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL,
                               "collateral tcb_info is for FMSPC %s, the PCK certificate for %s",
                               json_string_value(json_object_get(tcb_info, "fmspc")), have);
    }
    const uint8_t *tee_svn = q->tee_type == DCAP_TEE_TDX ? q->body + TD_RB_TEE_TCB_SVN : NULL;
    if (!(*level = platform_level(tcb_info, pck, tee_svn)))
        return evidence_refuse(why, whylen, EVIDENCE_TCB_UNSUPPORTED, "TCB level not supported: the platform's TCB is "
                               "below every level of the TCB info");
    return EVIDENCE_OK;
}

evidence_result dcap_verify(const uint8_t *buf, size_t len, const evidence_trust *t, evidence_claims *c, char *why,
                            size_t whylen) {
    dcap_quote q;
    dcap_parse_result pr = dcap_quote_parse(buf, len, &q);
    if (pr != DCAP_OK) return evidence_refuse(why, whylen, EVIDENCE_MALFORMED, "%s", dcap_parse_result_name(pr));
    if (!t->collateral)
        return evidence_refuse(why, whylen, EVIDENCE_NO_COLLATERAL, "a DCAP quote needs its collateral (TCB info, QE "
                               "identity, CRLs)");
    static const uint8_t INTEL_QE[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                         0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
    if (memcmp(q.qe_vendor_id, INTEL_QE, sizeof INTEL_QE) != 0)
        return evidence_refuse(why, whylen, EVIDENCE_QE_MISMATCH, "the quote is not from Intel's quoting enclave (QE vendor id)");
    STACK_OF(X509) *roots = NULL, *inter = NULL;
    dcap_collateral col = {0};
    dcap_pck_info pck;
    const json_t *plat = NULL, *qe = NULL, *module = NULL;
    evidence_result r;
    if (tee_trust_load(t->ca_pem, t->ca_pem_len, &roots, &inter) < 0) {
        r = evidence_refuse(why, whylen, EVIDENCE_UNKNOWN_ROOT, "the trusted CA file holds no self-signed root");
        goto out;
    }
    if ((r = dcap_collateral_load(t->collateral, t->collateral_len, roots, inter, t->at, &col, why, whylen)) ||
        (r = check_pck_and_qe(&q, roots, inter, col.crls, t->at, &pck, why, whylen)) ||
        (r = check_qe(&q, col.qe_identity, &qe, why, whylen)) ||
        (r = check_tcb_info(&q, col.tcb_info, &pck, &plat, why, whylen)))
        goto out;
    if (q.tee_type == DCAP_TEE_TDX && (r = check_tdx_module(q.body, col.tcb_info, &module, why, whylen))) goto out;
    const char *status = merge_status(level_status(plat), level_status(qe));
    if (module) status = merge_status(status, level_status(module));
    if (!*status || strlen(status) >= sizeof c->tcb_status) {
        r = evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "TCB level without a status");
        goto out;
    }
    strcpy(c->tcb_status, status);
    if (evidence_advisories_add(c, json_object_get(plat, "advisoryIDs")) < 0 ||
        evidence_advisories_add(c, json_object_get(qe, "advisoryIDs")) < 0 ||
        (module && evidence_advisories_add(c, json_object_get(module, "advisoryIDs")) < 0)) {
        r = evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "advisory ids malformed or more than %u",
                            EVIDENCE_MAX_ADVISORIES);
        goto out;
    }
    if (!strcmp(status, "Revoked")) {
        r = evidence_refuse(why, whylen, EVIDENCE_TCB_REVOKED, "the platform's TCB level is Revoked");
        goto out;
    }
    if (add_fields(&q, c) < 0) {
        r = evidence_refuse(why, whylen, EVIDENCE_MALFORMED, "too many measurement fields");
        goto out;
    }
    if (c->debug && !t->allow_debug)
        r = evidence_refuse(why, whylen, EVIDENCE_DEBUG, "a debug %s is refused",
                            q.tee_type == DCAP_TEE_TDX ? "TD" : "enclave");
out:
    dcap_collateral_free(&col);
    sk_X509_pop_free(roots, X509_free);
    sk_X509_pop_free(inter, X509_free);
    return r;
}
