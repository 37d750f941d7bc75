/* tee_hw.c - file access, own-quote checks and verification shared by the
 * hardware TEE backends; see tee_hw.h. */
#include "trusted/tee_hw.h"

#include "common/b64url.h"
#include "common/dcap_quote.h"
#include "common/errmsg.h"
#include "common/snp_report.h"
#include "trusted/tee.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tee_hw_read(const char *path, size_t max, uint8_t **out, size_t *len, char **err) {
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errmsg(err, "cannot open %s: %s", path, strerror(errno));
    /* Reads to EOF: a configfs outblob or a FIFO has no useful size. */
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap > max) break;
            uint8_t *b = realloc(buf, 2 * cap + 1);
            if (!b) break;
            buf = b;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return errmsg(err, "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0) {
            close(fd);
            if (n > max) break;
            buf[n] = 0;
            *out = buf;
            *len = n;
            return 0;
        }
        n += (size_t)r;
    }
    close(fd);
    free(buf);
    return errmsg(err, "%s is larger than %zu bytes", path, max);
}

int tee_hw_write(const char *path, const uint8_t *data, size_t len, char **err) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errmsg(err, "cannot open %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            return errmsg(err, "cannot write %s: %s", path, strerror(e));
        }
        done += (size_t)w;
    }
    /* configfs applies a binary attribute's write when the file is released. */
    if (close(fd) < 0) return errmsg(err, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

int tee_hw_check_own(const char *tee, const uint8_t *raw, size_t len,
                     const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN],
                     uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], char **err) {
    const uint8_t *rd = NULL, *mr = NULL;
    if (!strcmp(tee, "sev-snp")) {
        snp_report r;
        snp_parse_result pr = snp_report_parse(raw, len, &r);
        if (pr != SNP_OK) return errmsg(err, "the platform's report is no SEV-SNP report: %s", snp_parse_result_name(pr));
        rd = r.report_data;
    } else {
        dcap_quote q;
        dcap_parse_result pr = dcap_quote_parse(raw, len, &q);
        if (pr != DCAP_OK) return errmsg(err, "the platform's quote is no DCAP quote: %s", dcap_parse_result_name(pr));
        int tdx = q.tee_type == DCAP_TEE_TDX;
        if (tdx != !strcmp(tee, "tdx"))
            return errmsg(err, "the platform's quote is of %s, not %s", tdx ? "a TDX guest" : "an SGX enclave", tee);
        rd = q.body + (tdx ? TD_RB_REPORTDATA : SGX_RB_REPORTDATA);
        if (!tdx) mr = q.body + SGX_RB_MRENCLAVE;
    }
    if (CRYPTO_memcmp(rd, report_data, EVIDENCE_REPORT_DATA_LEN) != 0)
        return errmsg(err, "the platform's %s evidence does not carry the report data written (a stale or "
                      "replayed quote, or not a TEE)", tee);
    if (measurement) {
        memset(measurement, 0, EVIDENCE_MEASUREMENT_LEN);
        if (mr) memcpy(measurement, mr, EVIDENCE_MEASUREMENT_LEN);
    }
    return 0;
}

int tee_hw_evidence_text(const uint8_t *raw, size_t len, char **text, size_t *text_len) {
    *text = b64url_encode_alloc(raw, len);
    if (!*text) return -1;
    *text_len = strlen(*text);
    return 0;
}

/* Evidence text (a sim JWS as it is, hardware evidence base64url) checked
 * against t. */
static evidence_result check_text(const evidence_trust *t, const char *evidence, size_t len,
                                  const uint8_t *expected_measurement, const uint8_t *expected_report_data,
                                  evidence_claims *out, char *why, size_t whylen) {
    if (memchr(evidence, '.', len))
        return evidence_check((const uint8_t *)evidence, len, t, expected_measurement, expected_report_data, out,
                              why, whylen);
    if (len > 2 * EVIDENCE_MAX_LEN) return EVIDENCE_TOO_LARGE;
    size_t raw_len = 0;
    uint8_t *raw = b64url_decode_alloc(evidence, len, &raw_len);
    if (!raw) return EVIDENCE_MALFORMED;
    evidence_result r = evidence_check(raw, raw_len, t, expected_measurement, expected_report_data, out, why, whylen);
    free(raw);
    return r;
}

evidence_result tee_hw_verify(EVP_PKEY *sim_root, const char *evidence, size_t len,
                              const uint8_t *expected_measurement, const uint8_t *expected_report_data,
                              evidence_claims *out) {
    evidence_trust t = {.sim_root = sim_root, .at = (int64_t)time(NULL)};
    return check_text(&t, evidence, len, expected_measurement, expected_report_data, out, NULL, 0);
}

evidence_result tee_verify_endorsed(const char *evidence, size_t len, const char *key_cert_pem,
                                    const char *collateral_json, const uint8_t *expected_measurement,
                                    const uint8_t *expected_report_data, evidence_claims *out, char *why,
                                    size_t whylen) {
    /* sim evidence: the active backend's platform root (the key service's). */
    if (memchr(evidence, '.', len))
        return tee_verify(evidence, len, expected_measurement, expected_report_data, out);
    evidence_trust t = {.at = (int64_t)time(NULL)};
    if (key_cert_pem) {
        t.key_cert = (const uint8_t *)key_cert_pem;
        t.key_cert_len = strlen(key_cert_pem);
    }
    if (collateral_json) {
        t.collateral = collateral_json;
        t.collateral_len = strlen(collateral_json);
    }
    return check_text(&t, evidence, len, expected_measurement, expected_report_data, out, why, whylen);
}
