/* dcap_quote.c - DCAP quote parsing; see dcap_quote.h. */
#include "common/dcap_quote.h"

#include "common/tee_bytes.h"

const char *dcap_parse_result_name(dcap_parse_result r) {
    switch (r) {
    case DCAP_OK: return "ok";
    case DCAP_NOT_A_QUOTE: return "not an ECDSA DCAP quote (v3, v4 or v5) of SGX or TDX";
    case DCAP_TRUNCATED: return "quote truncated";
    case DCAP_BAD_BODY: return "quote body of the wrong type or size";
    case DCAP_BAD_CERT_DATA: return "quote certification data is not a QE report with a PCK certificate chain";
    }
    return "unknown quote parse result";
}

int dcap_quote_sniff(const uint8_t *buf, size_t len) {
    if (len < DCAP_HEADER_LEN) return 0;
    uint16_t version = tee_le16(buf), key = tee_le16(buf + 2);
    uint32_t tee = tee_le32(buf + 4);
    if (version < 3 || version > 5 || key != DCAP_ATT_KEY_ECDSA_P256) return 0;
    return tee == DCAP_TEE_SGX || (tee == DCAP_TEE_TDX && version >= 4);
}

/* Certification data of type 5 (a PEM chain) at the cursor. */
static dcap_parse_result pck_chain(tee_cursor *c, dcap_quote *q) {
    uint16_t type = tee_u16(c);
    uint32_t size = tee_u32(c);
    const uint8_t *data = tee_take(c, size);
    if (c->bad) return DCAP_TRUNCATED;
    if (type != DCAP_CERT_PCK_CHAIN || size == 0) return DCAP_BAD_CERT_DATA;
    q->pck_chain = (const char *)data;
    q->pck_chain_len = size;
    return DCAP_OK;
}

/* QE report, its signature, QE authentication data and the PCK chain: the
 * whole of v3 signature data after the key, and the inside of a v4/v5
 * type-6 certification data. */
static dcap_parse_result qe_part(tee_cursor *c, dcap_quote *q) {
    q->qe_report = tee_take(c, DCAP_SGX_BODY_LEN);
    q->qe_report_sig = tee_take(c, 64);
    q->qe_auth_len = tee_u16(c);
    q->qe_auth = tee_take(c, q->qe_auth_len);
    if (c->bad) return DCAP_TRUNCATED;
    return pck_chain(c, q);
}

dcap_parse_result dcap_quote_parse(const uint8_t *buf, size_t len, dcap_quote *q) {
    memset(q, 0, sizeof *q);
    if (!dcap_quote_sniff(buf, len)) return DCAP_NOT_A_QUOTE;
    tee_cursor c = {buf, len, 0};
    q->version = tee_u16(&c);
    tee_take(&c, 2); /* attestation key type, checked by the sniff */
    q->tee_type = tee_u32(&c);
    tee_take(&c, DCAP_QE_VENDOR_OFFSET - 8); /* QE and PCE SVN: the QE report says them, signed */
    q->qe_vendor_id = tee_take(&c, 16);
    tee_take(&c, DCAP_HEADER_LEN - DCAP_QE_VENDOR_OFFSET - 16); /* user data */
    size_t body_len;
    if (q->version == 5) {
        q->body_type = tee_u16(&c);
        uint32_t size = tee_u32(&c);
        if (c.bad) return DCAP_TRUNCATED;
        size_t want = q->body_type == 1 ? DCAP_SGX_BODY_LEN : q->body_type == 2 ? DCAP_TD10_BODY_LEN
                    : q->body_type == 3 ? DCAP_TD15_BODY_LEN : 0;
        int tee_fits = (q->body_type == 1) == (q->tee_type == DCAP_TEE_SGX);
        if (!want || size != want || !tee_fits) return DCAP_BAD_BODY;
        body_len = want;
    } else {
        q->body_type = q->tee_type == DCAP_TEE_SGX ? 1 : 2;
        body_len = q->tee_type == DCAP_TEE_SGX ? DCAP_SGX_BODY_LEN : DCAP_TD10_BODY_LEN;
    }
    q->body = tee_take(&c, body_len);
    q->body_len = body_len;
    if (c.bad) return DCAP_TRUNCATED;
    q->signed_part = buf;
    q->signed_len = (size_t)(q->body + body_len - buf);
    uint32_t sig_len = tee_u32(&c);
    const uint8_t *sig = tee_take(&c, sig_len);
    if (c.bad) return DCAP_TRUNCATED;
    /* Everything below reads inside the signature data only. */
    tee_cursor s = {sig, sig_len, 0};
    q->signature = tee_take(&s, 64);
    q->attest_key = tee_take(&s, 64);
    if (s.bad) return DCAP_TRUNCATED;
    if (q->version == 3) return qe_part(&s, q);
    uint16_t type = tee_u16(&s);
    uint32_t size = tee_u32(&s);
    const uint8_t *inner = tee_take(&s, size);
    if (s.bad) return DCAP_TRUNCATED;
    if (type != DCAP_CERT_QE_REPORT) return DCAP_BAD_CERT_DATA;
    tee_cursor in = {inner, size, 0};
    return qe_part(&in, q);
}
