/* tee_x509.c - certificates, chains, CRLs and raw ECDSA for hardware
 * evidence; see tee_x509.h. */
#include "common/tee_x509.h"

#include "common/evidence.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

STACK_OF(X509) *tee_certs_load(const void *data, size_t len) {
    if (!data || len == 0 || len > INT32_MAX) return NULL;
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (!sk) return NULL;
    if (memmem(data, len, "-----BEGIN", 10)) {
        BIO *b = BIO_new_mem_buf(data, (int)len);
        X509 *x;
        while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
            if (!sk_X509_push(sk, x)) X509_free(x);
        /* PEM_read_bio_X509 ends on "no start line"; any other error is a bad certificate. */
        unsigned long e = ERR_peek_last_error();
        if (e && ERR_GET_REASON(e) != PEM_R_NO_START_LINE) sk_X509_pop_free(sk, X509_free), sk = NULL;
        ERR_clear_error();
        BIO_free(b);
    } else {
        const unsigned char *p = data;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (x && p == (const unsigned char *)data + len && sk_X509_push(sk, x)) x = NULL;
        X509_free(x);
        ERR_clear_error();
    }
    if (sk && sk_X509_num(sk) == 0) sk_X509_free(sk), sk = NULL;
    return sk;
}

static int self_signed(X509 *x) { return X509_check_issued(x, x) == X509_V_OK; }

X509_CRL *tee_crl_load(const char *text) {
    if (!text) return NULL;
    size_t n = strlen(text);
    if (n > INT32_MAX) return NULL;
    X509_CRL *crl = NULL;
    if (strstr(text, "-----BEGIN")) {
        BIO *b = BIO_new_mem_buf(text, (int)n);
        crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else if (n % 2 == 0 && n > 0) {
        uint8_t *der = OPENSSL_malloc(n / 2);
        if (der && evidence_unhex(text, der, n / 2) == 0) {
            const unsigned char *p = der;
            crl = d2i_X509_CRL(NULL, &p, (long)(n / 2));
            if (crl && p != der + n / 2) X509_CRL_free(crl), crl = NULL;
        }
        OPENSSL_free(der);
    }
    ERR_clear_error();
    return crl;
}

int tee_trust_load(const char *pem, size_t len, STACK_OF(X509) **roots, STACK_OF(X509) **intermediates) {
    *roots = *intermediates = NULL;
    if (!pem) {
        pem = TEE_PINNED_ROOTS_PEM;
        len = strlen(pem);
    }
    STACK_OF(X509) *all = tee_certs_load(pem, len);
    STACK_OF(X509) *r = sk_X509_new_null(), *i = sk_X509_new_null();
    if (!all || !r || !i) goto fail;
    while (sk_X509_num(all) > 0) {
        X509 *x = sk_X509_shift(all);
        if (!sk_X509_push(self_signed(x) ? r : i, x)) {
            X509_free(x);
            goto fail;
        }
    }
    if (sk_X509_num(r) == 0) goto fail;
    sk_X509_free(all);
    *roots = r;
    *intermediates = i;
    return 0;
fail:
    sk_X509_pop_free(all, X509_free);
    sk_X509_pop_free(r, X509_free);
    sk_X509_pop_free(i, X509_free);
    return -1;
}

int tee_chain_verify(X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls,
                     int64_t at, char *why, size_t whylen) {
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = -1;
    snprintf(why, whylen, "out of memory");
    if (!store || !ctx) goto out;
    for (int k = 0; k < sk_X509_num(roots); k++)
        if (X509_STORE_add_cert(store, sk_X509_value(roots, k)) != 1) goto out;
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) goto out;
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    /* Not X509_V_FLAG_X509_STRICT: AMD's VCEKs have no authority key identifier. */
    unsigned long flags = X509_V_FLAG_USE_CHECK_TIME | X509_V_FLAG_CHECK_SS_SIGNATURE;
    if (crls) {
        X509_STORE_CTX_set0_crls(ctx, crls);
        flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    }
    X509_VERIFY_PARAM_set_flags(param, flags);
    X509_VERIFY_PARAM_set_time(param, (time_t)at);
    /* A chain's own copy of a root must be the trusted root itself, not a
     * look-alike OpenSSL would skip over. */
    for (int k = 0; k < sk_X509_num(untrusted); k++) {
        X509 *x = sk_X509_value(untrusted, k);
        int trusted = 0;
        for (int m = 0; m < sk_X509_num(roots) && !trusted; m++) trusted = X509_cmp(x, sk_X509_value(roots, m)) == 0;
        if (self_signed(x) && !trusted) {
            snprintf(why, whylen, "the chain presents a root that is not a trusted one");
            goto out;
        }
    }
    if (X509_verify_cert(ctx) == 1) {
        rc = 0;
        goto out;
    }
    int e = X509_STORE_CTX_get_error(ctx);
    X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
    char name[128] = "?";
    if (bad) X509_NAME_get_text_by_NID(X509_get_subject_name(bad), NID_commonName, name, sizeof name);
    snprintf(why, whylen, "%s (certificate \"%s\")", X509_verify_cert_error_string(e), name);
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return rc;
}

int tee_chain_leaf(const void *pem, size_t len, STACK_OF(X509) *roots, STACK_OF(X509) *intermediates,
                   STACK_OF(X509_CRL) *crls, int64_t at, X509 **leaf, char *why, size_t whylen) {
    *leaf = NULL;
    STACK_OF(X509) *chain = tee_certs_load(pem, len);
    if (!chain) return -1;
    int rc = -2;
    for (int k = 0; k < sk_X509_num(intermediates); k++) {
        X509 *dup = X509_dup(sk_X509_value(intermediates, k));
        if (!dup || !sk_X509_push(chain, dup)) {
            X509_free(dup);
            snprintf(why, whylen, "out of memory");
            goto out;
        }
    }
    if (tee_chain_verify(sk_X509_value(chain, 0), chain, roots, crls, at, why, whylen) == 0) {
        *leaf = sk_X509_value(chain, 0);
        X509_up_ref(*leaf);
        rc = 0;
    }
out:
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

int tee_ecdsa_verify(EVP_PKEY *key, const EVP_MD *md, const uint8_t *r, const uint8_t *s, size_t n,
                     int little_endian, const void *msg, size_t len) {
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = little_endian ? BN_lebin2bn(r, (int)n, NULL) : BN_bin2bn(r, (int)n, NULL);
    BIGNUM *bs = little_endian ? BN_lebin2bn(s, (int)n, NULL) : BN_bin2bn(s, (int)n, NULL);
    unsigned char *der = NULL;
    int ok = 0, derlen = 0;
    EVP_MD_CTX *c = NULL;
    if (!sig || !br || !bs || ECDSA_SIG_set0(sig, br, bs) != 1) {
        BN_free(br);
        BN_free(bs);
        goto out;
    }
    if ((derlen = i2d_ECDSA_SIG(sig, &der)) <= 0) goto out;
    c = EVP_MD_CTX_new();
    ok = c && EVP_DigestVerifyInit(c, NULL, md, NULL, key) == 1 &&
         EVP_DigestVerify(c, der, (size_t)derlen, msg, len) == 1;
out:
    EVP_MD_CTX_free(c);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return ok;
}

int tee_time_parse(const char *text, int64_t *out) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int n = 0;
    if (!text || sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                        &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
        return -1;
    const char *p = text + n;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return -1;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (strcmp(p, "Z") != 0) return -1;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return 0;
}
