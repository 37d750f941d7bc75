/* dcap_collateral.c - loading and verifying DCAP collateral; see
 * dcap_collateral.h. */
#include "common/dcap_collateral.h"

#include "common/evidence_hw.h"
#include "common/tee_x509.h"

#include <string.h>

void dcap_collateral_free(dcap_collateral *c) {
    json_decref(c->tcb_info);
    json_decref(c->qe_identity);
    sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
    memset(c, 0, sizeof *c);
}

/* The leaf of an issuer chain (PEM in member `key`), verified to a root
 * with the CRLs. NULL with *r and why on failure. */
static X509 *issuer_leaf(const json_t *doc, const char *key, STACK_OF(X509) *roots, STACK_OF(X509) *intermediates,
                         STACK_OF(X509_CRL) *crls, int64_t at, evidence_result *r, char *why, size_t whylen) {
    const char *pem = json_string_value(json_object_get(doc, key));
    X509 *leaf = NULL;
    char detail[256];
    int rc = pem ? tee_chain_leaf(pem, strlen(pem), roots, intermediates, crls, at, &leaf, detail, sizeof detail) : -1;
    if (rc == -1)
        *r = evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "collateral %s is missing or not PEM certificates",
                             key);
    else if (rc == -2)
        *r = evidence_refuse(why, whylen, EVIDENCE_BAD_CHAIN, "collateral %s: %s", key, detail);
    return leaf;
}

/* A signed JSON member (tcb_info, qe_identity): its chain, its ECDSA
 * P-256 signature over the exact text, then the text parsed, and its
 * validity window. */
static evidence_result signed_json(const json_t *doc, const char *key, STACK_OF(X509) *roots,
                                   STACK_OF(X509) *intermediates, STACK_OF(X509_CRL) *crls, int64_t at, json_t **out,
                                   char *why, size_t whylen) {
    char chain_key[64], sig_key[64];
    snprintf(chain_key, sizeof chain_key, "%s_issuer_chain", key);
    snprintf(sig_key, sizeof sig_key, "%s_signature", key);
    const char *text = json_string_value(json_object_get(doc, key));
    uint8_t sig[64];
    if (!text || evidence_unhex(json_string_value(json_object_get(doc, sig_key)), sig, sizeof sig) < 0)
        return evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "collateral %s or %s missing or malformed", key,
                               sig_key);
    evidence_result r = EVIDENCE_OK;
    X509 *leaf = issuer_leaf(doc, chain_key, roots, intermediates, crls, at, &r, why, whylen);
    if (!leaf) return r;
    EVP_PKEY *pub = X509_get0_pubkey(leaf);
    int ok = pub && tee_ecdsa_verify(pub, EVP_sha256(), sig, sig + 32, 32, 0, text, strlen(text));
    X509_free(leaf);
    if (!ok) return evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "collateral %s: signature does not verify", key);
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    int64_t issued, next;
    if (!json_is_object(j) || tee_time_parse(json_string_value(json_object_get(j, "issueDate")), &issued) < 0 ||
        tee_time_parse(json_string_value(json_object_get(j, "nextUpdate")), &next) < 0) {
        json_decref(j);
        return evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "collateral %s is not a dated JSON object", key);
    }
    if (at < issued || at > next) {
        r = evidence_refuse(why, whylen, EVIDENCE_COLLATERAL_EXPIRED, "collateral %s is valid from %s to %s only", key,
                            json_string_value(json_object_get(j, "issueDate")),
                            json_string_value(json_object_get(j, "nextUpdate")));
        json_decref(j);
        return r;
    }
    *out = j;
    return EVIDENCE_OK;
}

evidence_result dcap_collateral_load(const char *text, size_t len, STACK_OF(X509) *roots,
                                     STACK_OF(X509) *intermediates, int64_t at, dcap_collateral *out, char *why,
                                     size_t whylen) {
    memset(out, 0, sizeof *out);
    if (len > DCAP_COLLATERAL_MAX_LEN)
        return evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "collateral larger than %u bytes",
                               DCAP_COLLATERAL_MAX_LEN);
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    evidence_result r = EVIDENCE_OK;
    X509 *pck_crl_issuer = NULL;
    out->crls = sk_X509_CRL_new_null();
    X509_CRL *root_crl = tee_crl_load(json_string_value(json_object_get(doc, "root_ca_crl")));
    X509_CRL *pck_crl = tee_crl_load(json_string_value(json_object_get(doc, "pck_crl")));
    if (!json_is_object(doc) || !root_crl || !pck_crl || !out->crls) {
        r = evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL,
                            "collateral is not JSON with root_ca_crl and pck_crl (hex DER or PEM)");
        goto out;
    }
    if (!sk_X509_CRL_push(out->crls, root_crl)) goto oom;
    root_crl = NULL;
    /* The PCK CRL joins the set only once its issuer chain and signature
     * hold; the chain itself is checked against the root CA CRL. */
    if (!(pck_crl_issuer = issuer_leaf(doc, "pck_crl_issuer_chain", roots, intermediates, out->crls, at, &r, why,
                                       whylen)))
        goto out;
    if (X509_CRL_verify(pck_crl, X509_get0_pubkey(pck_crl_issuer)) != 1) {
        r = evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "collateral pck_crl: signature does not verify");
        goto out;
    }
    if (!sk_X509_CRL_push(out->crls, pck_crl)) goto oom;
    pck_crl = NULL;
    if ((r = signed_json(doc, "tcb_info", roots, intermediates, out->crls, at, &out->tcb_info, why, whylen)) !=
        EVIDENCE_OK)
        goto out;
    r = signed_json(doc, "qe_identity", roots, intermediates, out->crls, at, &out->qe_identity, why, whylen);
    goto out;
oom:
    r = evidence_refuse(why, whylen, EVIDENCE_BAD_COLLATERAL, "out of memory");
out:
    X509_free(pck_crl_issuer);
    X509_CRL_free(root_crl);
    X509_CRL_free(pck_crl);
    json_decref(doc);
    if (r != EVIDENCE_OK) dcap_collateral_free(out);
    return r;
}
