/* snp_verify.c - AMD SEV-SNP report verification:
 *   1. the VCEK or VLEK certificate (the one the report's flags name) to a
 *      trusted ARK through its ASK or ASVK at the verification time
 *      (OpenSSL verifies the RSA-PSS signatures of AMD's certificates);
 *   2. the key certificate's TCB (blSPL, teeSPL, snpSPL, ucodeSPL and on
 *      Turin fmcSPL extensions) equals the report's REPORTED_TCB, and a
 *      VCEK's hwID equals the report's CHIP_ID;
 *   3. the report signature: ECDSA P-384 with SHA-384 over bytes
 *      0..0x29F, r and s little-endian;
 *   4. a guest with the policy's DEBUG bit is refused unless allowed.
 * The report's VMPL (0..3, else malformed) is a claim, for policies.
 * AMD publishes no status levels like Intel's, so claims.tcb_status stays
 * empty; the TCB itself is the reported_tcb field. No CRL of the ASK is
 * checked (AMD's KDS serves one; the collateral format has no place for it
 * yet). */
#include "common/evidence_hw.h"
#include "common/snp_report.h"
#include "common/tee_x509.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <string.h>

#define AMD_OID "1.3.6.1.4.1.3704.1."

/* The raw value of an AMD extension (OID suffix after AMD_OID), or NULL. */
static const ASN1_OCTET_STRING *amd_ext(X509 *x, const char *suffix) {
    char oid[64];
    snprintf(oid, sizeof oid, AMD_OID "%s", suffix);
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    int idx = o ? X509_get_ext_by_OBJ(x, o, -1) : -1;
    ASN1_OBJECT_free(o);
    return idx >= 0 ? X509_EXTENSION_get_data(X509_get_ext(x, idx)) : NULL;
}

/* An SPL extension: a DER INTEGER 0..255. */
static int amd_spl(X509 *x, const char *suffix) {
    const ASN1_OCTET_STRING *d = amd_ext(x, suffix);
    if (!d) return -1;
    const unsigned char *p = d->data;
    ASN1_INTEGER *i = d2i_ASN1_INTEGER(NULL, &p, d->length);
    int64_t v = -1;
    if (!i || p != d->data + d->length || ASN1_INTEGER_get_int64(&v, i) != 1 || v < 0 || v > 255) v = -1;
    ASN1_INTEGER_free(i);
    return (int)v;
}

static int common_name_is(X509_NAME *n, const char *prefix) {
    char cn[64] = "";
    X509_NAME_get_text_by_NID(n, NID_commonName, cn, sizeof cn);
    return strncmp(cn, prefix, strlen(prefix)) == 0;
}

/* The key certificate's TCB, as a REPORTED_TCB would encode it: Milan and
 * Genoa put the boot loader, TEE, SNP and microcode SPLs in bytes 0, 1, 6
 * and 7; Turin puts FMC, boot loader, TEE, SNP in bytes 0..3, microcode in 7. */
static int cert_tcb(X509 *x, int turin, uint64_t *out) {
    int bl = amd_spl(x, "3.1"), tee = amd_spl(x, "3.2"), snp = amd_spl(x, "3.3"), uc = amd_spl(x, "3.8");
    int fmc = turin ? amd_spl(x, "3.9") : 0;
    if (bl < 0 || tee < 0 || snp < 0 || uc < 0 || fmc < 0) return -1;
    if (turin)
        *out = (uint64_t)fmc | (uint64_t)bl << 8 | (uint64_t)tee << 16 | (uint64_t)snp << 24 | (uint64_t)uc << 56;
    else
        *out = (uint64_t)bl | (uint64_t)tee << 8 | (uint64_t)snp << 48 | (uint64_t)uc << 56;
    return 0;
}

static int add_fields(const snp_report *r, evidence_claims *c) {
    uint8_t policy[8], tcb[8];
    memcpy(policy, r->raw + 0x08, 8);
    memcpy(tcb, r->raw + 0x180, 8);
    int rc = 0;
    rc |= evidence_field_add(c, "measurement", r->measurement, 48);
    rc |= evidence_field_add(c, "host_data", r->host_data, 32);
    rc |= evidence_field_add(c, "id_key_digest", r->id_key_digest, 48);
    rc |= evidence_field_add(c, "author_key_digest", r->author_key_digest, 48);
    rc |= evidence_field_add(c, "family_id", r->family_id, 16);
    rc |= evidence_field_add(c, "image_id", r->image_id, 16);
    rc |= evidence_field_add(c, "policy", policy, 8);
    rc |= evidence_field_add(c, "reported_tcb", tcb, 8);
    rc |= evidence_field_add(c, "chip_id", r->chip_id, 64);
    /* The VMPL the guest asked for the report at (0..3, one byte): a
     * guest under an SVSM or paravisor runs above 0; policies judge it
     * (max_vmpl, policy.h). */
    uint8_t vmpl = (uint8_t)r->vmpl;
    rc |= evidence_field_add(c, "vmpl", &vmpl, 1);
    return rc;
}

/* The key certificate: chain, kind (VCEK/VLEK as the report says), TCB, chip. */
static evidence_result check_key_cert(const snp_report *r, X509 *key, STACK_OF(X509) *untrusted,
                                      STACK_OF(X509) *roots, int64_t at, char *why, size_t whylen) {
    char detail[256];
    int vlek = r->signing_key == SNP_SIGNING_KEY_VLEK;
    if (tee_chain_verify(key, untrusted, roots, NULL, at, detail, sizeof detail) < 0)
        return evidence_refuse(why, whylen, EVIDENCE_BAD_CHAIN, "%s certificate chain: %s", vlek ? "VLEK" : "VCEK",
                               detail);
    /* A VLEK is issued by an ASVK ("SEV-VLEK-<product>"), a VCEK by an ASK. */
    if (!common_name_is(X509_get_subject_name(key), vlek ? "SEV-VLEK" : "SEV-VCEK") ||
        common_name_is(X509_get_issuer_name(key), "SEV-VLEK") != vlek)
        return evidence_refuse(why, whylen, EVIDENCE_BAD_CHAIN, "the report is signed by a %s; the certificate is not one",
                               vlek ? "VLEK" : "VCEK");
    const ASN1_OCTET_STRING *product = amd_ext(key, "2");
    int turin = product && product->length > 2 && memmem(product->data, (size_t)product->length, "Turin", 5);
    uint64_t tcb;
    if (cert_tcb(key, turin, &tcb) < 0)
        return evidence_refuse(why, whylen, EVIDENCE_BAD_CHAIN, "the key certificate lacks its TCB extensions");
    if (tcb != r->reported_tcb)
        return evidence_refuse(why, whylen, EVIDENCE_TCB_MISMATCH,
                               "the key certificate is for TCB %016llx, the report's REPORTED_TCB is %016llx",
                               (unsigned long long)tcb, (unsigned long long)r->reported_tcb);
    if (!vlek) {
        const ASN1_OCTET_STRING *hw = amd_ext(key, "4");
        if (!hw || hw->length < 8 || hw->length > 64 || memcmp(hw->data, r->chip_id, (size_t)hw->length) != 0)
            return evidence_refuse(why, whylen, EVIDENCE_TCB_MISMATCH, "the VCEK is for another chip than the report's CHIP_ID");
    }
    return EVIDENCE_OK;
}

evidence_result snp_verify(const uint8_t *buf, size_t len, const evidence_trust *t, evidence_claims *c, char *why,
                           size_t whylen) {
    snp_report rep;
    snp_parse_result pr = snp_report_parse(buf, len, &rep);
    if (pr != SNP_OK) return evidence_refuse(why, whylen, EVIDENCE_MALFORMED, "%s", snp_parse_result_name(pr));
    if (!t->key_cert)
        return evidence_refuse(why, whylen, EVIDENCE_NO_COLLATERAL, "an SEV-SNP report needs its VCEK or VLEK certificate");
    STACK_OF(X509) *roots = NULL, *inter = NULL, *keys = tee_certs_load(t->key_cert, t->key_cert_len);
    evidence_result r = EVIDENCE_OK;
    if (!keys || sk_X509_num(keys) != 1) {
        r = evidence_refuse(why, whylen, EVIDENCE_MALFORMED, "the key certificate is not one PEM or DER certificate");
        goto out;
    }
    if (tee_trust_load(t->ca_pem, t->ca_pem_len, &roots, &inter) < 0) {
        r = evidence_refuse(why, whylen, EVIDENCE_UNKNOWN_ROOT, "the trusted CA file holds no self-signed root");
        goto out;
    }
    X509 *key = sk_X509_value(keys, 0);
    if ((r = check_key_cert(&rep, key, inter, roots, t->at, why, whylen)) != EVIDENCE_OK) goto out;
    EVP_PKEY *pub = X509_get0_pubkey(key);
    if (!pub || EVP_PKEY_get_bits(pub) != 384 ||
        !tee_ecdsa_verify(pub, EVP_sha384(), rep.sig_r, rep.sig_s, 72, 1, buf, SNP_SIGNED_LEN)) {
        r = evidence_refuse(why, whylen, EVIDENCE_BAD_SIGNATURE, "report signature does not verify with the %s",
                            rep.signing_key == SNP_SIGNING_KEY_VLEK ? "VLEK" : "VCEK");
        goto out;
    }
    strcpy(c->tee, "sev-snp");
    memcpy(c->report_data, rep.report_data, EVIDENCE_REPORT_DATA_LEN);
    c->debug = (rep.policy & SNP_POLICY_DEBUG) != 0;
    if (add_fields(&rep, c) < 0) {
        r = evidence_refuse(why, whylen, EVIDENCE_MALFORMED, "too many measurement fields");
        goto out;
    }
    if (c->debug && !t->allow_debug) r = evidence_refuse(why, whylen, EVIDENCE_DEBUG, "a debug guest is refused");
out:
    sk_X509_pop_free(keys, X509_free);
    sk_X509_pop_free(roots, X509_free);
    sk_X509_pop_free(inter, X509_free);
    return r;
}
