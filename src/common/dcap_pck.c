/* dcap_pck.c - the SGX extension of a PCK certificate; see dcap_pck.h.
 * Layout (Intel SGX PCK Certificate and CRL Profile):
 *   SEQUENCE { SEQUENCE { OID .1 PPID, OCTET STRING },
 *              SEQUENCE { OID .2 TCB, SEQUENCE { SEQUENCE { OID .2.1 .. .2.16, INTEGER } ...,
 *                                                SEQUENCE { OID .2.17, INTEGER pcesvn },
 *                                                SEQUENCE { OID .2.18, OCTET STRING cpusvn } } },
 *              SEQUENCE { OID .3 PCE-ID, OCTET STRING(2) },
 *              SEQUENCE { OID .4 FMSPC, OCTET STRING(6) }, ... } */
#include "common/dcap_pck.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <string.h>

#define SGX_EXT_OID "1.2.840.113741.1.13.1"

/* The {OID, value} pairs of a DER SEQUENCE OF SEQUENCE. */
static STACK_OF(ASN1_TYPE) *pairs(const unsigned char *der, long len) {
    const unsigned char *p = der;
    STACK_OF(ASN1_TYPE) *sk = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len);
    if (sk && p != der + len) {
        sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
        return NULL;
    }
    return sk;
}

/* The OID text and value of one pair (a SEQUENCE of exactly two). */
static int pair(const ASN1_TYPE *t, char *oid, size_t oidlen, ASN1_TYPE **value, STACK_OF(ASN1_TYPE) **hold) {
    *hold = NULL;
    if (t->type != V_ASN1_SEQUENCE) return -1;
    STACK_OF(ASN1_TYPE) *two = pairs(t->value.sequence->data, t->value.sequence->length);
    if (!two || sk_ASN1_TYPE_num(two) != 2 || sk_ASN1_TYPE_value(two, 0)->type != V_ASN1_OBJECT ||
        OBJ_obj2txt(oid, (int)oidlen, sk_ASN1_TYPE_value(two, 0)->value.object, 1) <= 0) {
        sk_ASN1_TYPE_pop_free(two, ASN1_TYPE_free);
        return -1;
    }
    *value = sk_ASN1_TYPE_value(two, 1);
    *hold = two;
    return 0;
}

static int octets(const ASN1_TYPE *v, uint8_t *out, int n) {
    if (v->type != V_ASN1_OCTET_STRING || v->value.octet_string->length != n) return -1;
    memcpy(out, v->value.octet_string->data, (size_t)n);
    return 0;
}

static int small_int(const ASN1_TYPE *v, uint32_t max, uint32_t *out) {
    int64_t x;
    if (v->type != V_ASN1_INTEGER || ASN1_INTEGER_get_int64(&x, v->value.integer) != 1 || x < 0 || x > max) return -1;
    *out = (uint32_t)x;
    return 0;
}

/* Calls fn on each {OID, value} pair of a DER SEQUENCE OF SEQUENCE until
 * fn fails; 0, or -1 when the DER is not such a sequence or fn failed. */
static int each_pair(const unsigned char *der, long len, int (*fn)(const char *oid, const ASN1_TYPE *v, void *ctx),
                     void *ctx) {
    STACK_OF(ASN1_TYPE) *sk = pairs(der, len);
    int rc = sk ? 0 : -1;
    for (int k = 0; rc == 0 && k < sk_ASN1_TYPE_num(sk); k++) {
        char oid[64];
        ASN1_TYPE *val;
        STACK_OF(ASN1_TYPE) *hold;
        rc = pair(sk_ASN1_TYPE_value(sk, k), oid, sizeof oid, &val, &hold) < 0 ? -1 : fn(oid, val, ctx);
        sk_ASN1_TYPE_pop_free(hold, ASN1_TYPE_free);
    }
    sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
    return rc;
}

typedef struct {
    dcap_pck_info *out;
    unsigned seen;  /* bits 0..15 CPU SVN components, 16 PCE SVN, 17 PCE-ID, 18 FMSPC */
} pck_walk;

#define PCK_SEEN_ALL ((1u << 19) - 1)

/* One member of the TCB sequence: components .2.1 .. .2.16 and the PCE SVN .2.17. */
static int tcb_member(const char *oid, const ASN1_TYPE *v, void *ctx) {
    pck_walk *w = ctx;
    unsigned comp = 0;
    int n = 0;
    uint32_t x;
    if (sscanf(oid, SGX_EXT_OID ".2.%u%n", &comp, &n) != 1 || oid[n] != '\0') return 0;
    if (comp >= 1 && comp <= 16) {
        if (small_int(v, 255, &x) < 0) return -1;
        w->out->cpu_svn[comp - 1] = (uint8_t)x;
        w->seen |= 1u << (comp - 1);
    } else if (comp == 17) {
        if (small_int(v, 65535, &w->out->pce_svn) < 0) return -1;
        w->seen |= 1u << 16;
    }
    return 0;
}

/* One member of the SGX extension: TCB .2, PCE-ID .3, FMSPC .4 (others ignored). */
static int ext_member(const char *oid, const ASN1_TYPE *v, void *ctx) {
    pck_walk *w = ctx;
    if (!strcmp(oid, SGX_EXT_OID ".2"))
        return v->type == V_ASN1_SEQUENCE
                   ? each_pair(v->value.sequence->data, v->value.sequence->length, tcb_member, w) : -1;
    if (!strcmp(oid, SGX_EXT_OID ".3")) {
        w->seen |= 1u << 17;
        return octets(v, w->out->pce_id, 2);
    }
    if (!strcmp(oid, SGX_EXT_OID ".4")) {
        w->seen |= 1u << 18;
        return octets(v, w->out->fmspc, 6);
    }
    return 0;
}

int dcap_pck_info_get(X509 *pck, dcap_pck_info *out) {
    memset(out, 0, sizeof *out);
    ASN1_OBJECT *oid = OBJ_txt2obj(SGX_EXT_OID, 1);
    int idx = oid ? X509_get_ext_by_OBJ(pck, oid, -1) : -1;
    ASN1_OBJECT_free(oid);
    X509_EXTENSION *ext = idx >= 0 ? X509_get_ext(pck, idx) : NULL;
    ASN1_OCTET_STRING *data = ext ? X509_EXTENSION_get_data(ext) : NULL;
    pck_walk w = {out, 0};
    int rc = data ? each_pair(data->data, data->length, ext_member, &w) : -1;
    ERR_clear_error();
    return rc == 0 && w.seen == PCK_SEEN_ALL ? 0 : -1;
}
