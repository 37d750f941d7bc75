/* tee_tsm.c - the configfs-tsm TEE backend ("tsm"): evidence from Linux's
 * report interface of confidential guests (Intel TDX, AMD SEV-SNP), a
 * directory of files under configfs:
 *
 *   ROOT/tfaas/            the report entry (ROOT: --tee-root, default
 *                          /sys/kernel/config/tsm/report); made with mkdir
 *                          when absent, shared by the guest's tfaas enclaves
 *   ROOT/tfaas/provider    "tdx_guest" or "sev_guest": which TEE makes it
 *   ROOT/tfaas/inblob      write: the 64 bytes of report data
 *   ROOT/tfaas/outblob     read: the TDX quote or SNP report over them
 *   ROOT/tfaas/generation  read: counts the writes to the entry
 *   ROOT/tfaas/auxblob     read (SEV-SNP, optional): the host's certificate
 *                          table; its VCEK or VLEK becomes tee_key_cert
 *
 * A quote is: read generation (g), write inblob, read outblob, read
 * generation again. Anything but g + 1 means another process wrote the
 * entry in between (the outblob may be over its data): the quote is made
 * again, at most TSM_ATTEMPTS times. The outblob must then parse as the
 * provider's evidence and carry the report data written (tee_hw.h).
 *
 * Evidence text is the base64url of the outblob (docs/protocol.md §5.5).
 * No sealing: a TD or SNP guest has no sealing key through this interface
 * (the key service stays on sim or Gramine). The 32-byte tee.h measurement
 * is zero: MRTD and MEASUREMENT are 48 bytes, in the evidence's claims.
 * Every file operation happens in tee_init and in the quotes made before
 * tee_quoting_done, before the sandbox closes the file system. */
#include "trusted/tee.h"
#include "trusted/tee_hw.h"

#include "common/errmsg.h"
#include "common/p256.h"
#include "common/snp_cert_table.h"

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TSM_DEFAULT_ROOT "/sys/kernel/config/tsm/report"
#define TSM_ENTRY "tfaas"
#define TSM_ATTEMPTS 3
#define TSM_MAX_SMALL 64u /* provider and generation: short text */

/* Providers the kernel names and the evidence each makes. */
static const struct {
    const char *provider, *tee;
} PROVIDERS[] = {{"tdx_guest", "tdx"}, {"sev_guest", "sev-snp"}};

/* Set by tsm_init, read-only afterwards; quoting stops at quoting_done. */
static char entry[4096];
static const char *tee_kind;
static EVP_PKEY *sim_root; /* --platform-root: the sim key service's platform key, if any */
static int quoting;
static char *key_cert_pem; /* sev_guest: the VCEK or VLEK from auxblob, or NULL */

static int entry_file(char *out, size_t cap, const char *name) {
    return snprintf(out, cap, "%s/%s", entry, name) < (int)cap ? 0 : -1;
}

/* The entry's small text attribute name, without its newline. */
static int read_text(const char *name, char *out, size_t cap, char **err) {
    char p[sizeof entry + 16];
    uint8_t *buf = NULL;
    size_t n = 0;
    if (entry_file(p, sizeof p, name) < 0) return errmsg(err, "configfs-tsm: path too long");
    char *e = NULL;
    if (tee_hw_read(p, TSM_MAX_SMALL, &buf, &n, &e) < 0) {
        errmsg(err, "configfs-tsm: %s", e ? e : "read failed");
        free(e);
        return -1;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) n--;
    int ok = n < cap && !memchr(buf, 0, n);
    if (ok) {
        memcpy(out, buf, n);
        out[n] = 0;
    }
    free(buf);
    return ok ? 0 : errmsg(err, "configfs-tsm: %s/%s is not a short text", entry, name);
}

static int read_generation(uint64_t *g, char **err) {
    char text[TSM_MAX_SMALL], *end;
    if (read_text("generation", text, sizeof text, err) < 0) return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-')
        return errmsg(err, "configfs-tsm: %s/generation is not a number: '%s'", entry, text);
    *g = v;
    return 0;
}

static void tsm_shutdown(void) {
    free(key_cert_pem);
    key_cert_pem = NULL;
    EVP_PKEY_free(sim_root);
    sim_root = NULL;
    tee_kind = NULL;
    quoting = 0;
}

/* One attempt: 1 done, 0 another writer interfered (try again), -1 failed. */
static int quote_once(const uint8_t rd[EVIDENCE_REPORT_DATA_LEN], uint8_t **out, size_t *len, uint64_t *g0,
                      uint64_t *g1, char **err) {
    char p[sizeof entry + 16], *e = NULL;
    if (read_generation(g0, err) < 0) return -1;
    if (entry_file(p, sizeof p, "inblob") < 0 || tee_hw_write(p, rd, EVIDENCE_REPORT_DATA_LEN, &e) < 0 ||
        entry_file(p, sizeof p, "outblob") < 0 || tee_hw_read(p, EVIDENCE_MAX_LEN, out, len, &e) < 0) {
        errmsg(err, "configfs-tsm: %s", e ? e : "path too long");
        free(e);
        return -1;
    }
    if (read_generation(g1, err) < 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    if (*g1 == *g0 + 1) return 1;
    free(*out);
    *out = NULL;
    return 0;
}

/* SEV-SNP: the VCEK or VLEK in auxblob, as PEM, once. No auxblob, an
 * empty one or a table without the key is no error (the verifier then
 * needs the certificate from elsewhere); a malformed one is. */
static int read_key_cert(char **err) {
    char p[sizeof entry + 16], *e = NULL;
    uint8_t *blob = NULL;
    size_t n = 0;
    if (key_cert_pem || strcmp(tee_kind, "sev-snp") != 0 || entry_file(p, sizeof p, "auxblob") < 0) return 0;
    if (tee_hw_read(p, EVIDENCE_MAX_LEN, &blob, &n, &e) < 0) {
        free(e);
        return 0;
    }
    const uint8_t *der = NULL;
    size_t der_len = 0;
    snp_cert_table_result r = snp_cert_table_key_cert(blob, n, &der, &der_len);
    X509 *x = r == SNP_CERTS_OK ? d2i_X509(NULL, &der, (long)der_len) : NULL;
    BIO *bio = x ? BIO_new(BIO_s_mem()) : NULL;
    char *data = NULL;
    long len = bio && PEM_write_bio_X509(bio, x) == 1 ? BIO_get_mem_data(bio, &data) : 0;
    if (len > 0 && (key_cert_pem = malloc((size_t)len + 1))) {
        memcpy(key_cert_pem, data, (size_t)len);
        key_cert_pem[len] = 0;
    }
    BIO_free(bio);
    X509_free(x);
    free(blob);
    if (r == SNP_CERTS_NONE || key_cert_pem) return 0;
    return errmsg(err, "configfs-tsm: %s/auxblob: %s", entry,
                  r == SNP_CERTS_OK ? "the key certificate is not DER X.509" : snp_cert_table_result_name(r));
}

static int tsm_quote_checked(const uint8_t rd[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len, char **err) {
    if (!quoting) return errmsg(err, "configfs-tsm: quoting is over for this process");
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    uint64_t g0 = 0, g1 = 0;
    int r = 0;
    for (int i = 0; i < TSM_ATTEMPTS && r == 0; i++) r = quote_once(rd, &raw, &raw_len, &g0, &g1, err);
    if (r < 0) return -1;
    if (r == 0)
        return errmsg(err, "configfs-tsm: another process kept writing %s (generation %" PRIu64 " -> %" PRIu64
                      " around our write, %d times)", entry, g0, g1, TSM_ATTEMPTS);
    if (read_key_cert(err) < 0) {
        free(raw);
        return -1;
    }
    char *e = NULL;
    int rc = tee_hw_check_own(tee_kind, raw, raw_len, rd, NULL, &e) < 0 ? -1
             : tee_hw_evidence_text(raw, raw_len, evidence, len) < 0 ? errmsg(&e, "out of memory") : 0;
    if (rc < 0) {
        errmsg(err, "configfs-tsm: %s", e ? e : "cannot quote");
        free(e);
    }
    free(raw);
    return rc;
}

static int tsm_init(const tee_config *cfg, uint8_t measurement[EVIDENCE_MEASUREMENT_LEN], char **err) {
    tsm_shutdown();
    const char *root = cfg->root_path ? cfg->root_path : TSM_DEFAULT_ROOT;
    if (snprintf(entry, sizeof entry, "%s/%s", root, TSM_ENTRY) >= (int)sizeof entry)
        return errmsg(err, "configfs-tsm: --tee-root too long");
    /* configfs makes the entry's attributes as the directory is made; an
     * existing entry is shared (the generation check covers that). */
    if (mkdir(entry, 0700) < 0 && errno != EEXIST)
        return errmsg(err, "configfs-tsm: cannot make the report entry %s: %s (is configfs mounted and the "
                      "guest a TDX or SEV-SNP guest?)", entry, strerror(errno));
    char provider[TSM_MAX_SMALL];
    if (read_text("provider", provider, sizeof provider, err) < 0) return -1;
    for (size_t i = 0; i < sizeof PROVIDERS / sizeof *PROVIDERS; i++)
        if (!strcmp(provider, PROVIDERS[i].provider)) tee_kind = PROVIDERS[i].tee;
    if (!tee_kind)
        return errmsg(err, "configfs-tsm: provider '%s' is not supported (tdx_guest, sev_guest)", provider);
    if (cfg->platform_root_path && !(sim_root = p256_read_public_pem(cfg->platform_root_path)))
        return errmsg(err, "configfs-tsm: %s holds no P-256 public key", cfg->platform_root_path);
    memset(measurement, 0, EVIDENCE_MEASUREMENT_LEN);
    quoting = 1;
    /* One checked quote now, so a platform that cannot quote fails here
     * with its reason rather than at the first worker identity. */
    uint8_t zero[EVIDENCE_REPORT_DATA_LEN] = {0};
    char *ev = NULL;
    size_t len = 0;
    int rc = tsm_quote_checked(zero, &ev, &len, err);
    free(ev);
    if (rc < 0) tsm_shutdown();
    return rc;
}

static int tsm_quote(const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence, size_t *len) {
    char *err = NULL;
    int rc = tsm_quote_checked(report_data, evidence, len, &err);
    if (rc < 0) fprintf(stderr, "%s\n", err ? err : "configfs-tsm: cannot quote");
    free(err);
    return rc;
}

static int tsm_measure(const tee_config *cfg, uint8_t out[EVIDENCE_MEASUREMENT_LEN], char **err) {
    (void)cfg, (void)out;
    return errmsg(err, "configfs-tsm: a TD's MRTD or an SNP guest's MEASUREMENT is of the whole guest image "
                  "(48 bytes), not of this binary: read it from the guest's evidence with "
                  "`tfaas evidence verify --json`");
}

static evidence_result tsm_verify(const char *evidence, size_t len, const uint8_t *expected_measurement,
                                  const uint8_t *expected_report_data, evidence_claims *out) {
    return tee_hw_verify(sim_root, evidence, len, expected_measurement, expected_report_data, out);
}

static int tsm_seal_key(uint8_t key[32]) {
    (void)key;
    return -1;
}

static int tsm_can_seal(void) { return 0; }

static void tsm_quoting_done(void) { quoting = 0; }

static const char *tsm_key_cert(void) { return key_cert_pem; }

const tee_backend tee_tsm_backend = {
    .name = "tsm",
    .init = tsm_init,
    .measure = tsm_measure,
    .shutdown = tsm_shutdown,
    .quote = tsm_quote,
    .verify = tsm_verify,
    .seal_key = tsm_seal_key,
    .can_seal = tsm_can_seal,
    .quoting_done = tsm_quoting_done,
    .hardware = 1,
    .key_cert = tsm_key_cert,
};
