/* fuzz_policy.c - libFuzzer target for confidential functions' release
 * policies (src/common/policy.c): the KMS enclave parses the policy of every
 * package a deployer sends and of every sealed record the host hands back,
 * and the CLI the one a certificate states. The bytes are JSON text, read
 * with jansson's most permissive flags (NULs allowed in strings; the KMS and
 * the CLI load without them today), so the parser holds whatever its callers
 * choose.
 *
 * Invariants: a refusal says why; an accepted policy has 1..16 measurements
 * of 32 or 48 bytes and an engine name of 1..32 bytes without '/' that is
 * the whole JSON string (a NUL cannot cut it short), and each measurement
 * is the whole string too; policy_json gives the canonical form, which
 * parses back to the same policy and differs from the input only in the
 * case of hex digits (tee, min_tcb_status and invoker keys: not at all, and
 * absent when the input had none); policy_accepts takes a worker of a
 * listed TEE kind (sim or SGX for a 32-byte measurement, TDX for a 48-byte
 * one) with a listed measurement, the engine (bare or "engine/version") and
 * the minimum TCB status, and refuses another engine, an unlisted
 * measurement, another TEE kind or a worse TCB status. */
#include "fuzz.h"

#include "common/policy.h"

#include <ctype.h>
#include <strings.h>

static int listed(const policy *p, const uint8_t *m, size_t len) {
    for (size_t i = 0; i < p->nmeasurements; i++)
        if (p->measurement_lens[i] == len && memcmp(p->measurements[i], m, len) == 0) return 1;
    return 0;
}

static int tee_listed(const policy *p, policy_tee t) {
    for (size_t i = 0; i < p->ntees; i++)
        if (p->tees[i] == t) return 1;
    return p->ntees == 0;
}

/* The canonical JSON says what the input said, up to hex case. */
static void check_canonical(const json_t *in, const json_t *canon) {
    const json_t *e_in = json_object_get(in, "engine"), *e_out = json_object_get(canon, "engine");
    FUZZ_CHECK(json_is_string(e_out) && json_equal((json_t *)e_in, (json_t *)e_out));
    const json_t *m_in = json_object_get(in, "measurements"), *m_out = json_object_get(canon, "measurements");
    FUZZ_CHECK(json_array_size(m_in) == json_array_size(m_out));
    for (size_t i = 0; i < json_array_size(m_in); i++) {
        const json_t *a = json_array_get(m_in, i), *b = json_array_get(m_out, i);
        FUZZ_CHECK(json_string_length(a) == 2 * EVIDENCE_MEASUREMENT_LEN ||
                   json_string_length(a) == 2 * POLICY_MEASUREMENT_MAX);
        FUZZ_CHECK(json_string_length(b) == json_string_length(a));
        FUZZ_CHECK(strcasecmp(json_string_value(a), json_string_value(b)) == 0);
        for (const char *c = json_string_value(b); *c; c++) FUZZ_CHECK(isxdigit((unsigned char)*c) && !isupper((unsigned char)*c));
    }
    const json_t *i_in = json_object_get(in, "invokers"), *i_out = json_object_get(canon, "invokers");
    FUZZ_CHECK(i_in ? i_out && json_equal((json_t *)i_in, (json_t *)i_out) : !i_out);
    static const char *const exact[] = {"tee", "min_tcb_status"};
    for (size_t k = 0; k < 2; k++) {
        const json_t *a = json_object_get(in, exact[k]), *b = json_object_get(canon, exact[k]);
        FUZZ_CHECK(a ? b && json_equal((json_t *)a, (json_t *)b) : !b);
    }
}

static void check_accepts(const policy *p) {
    evidence_claims c;
    memset(&c, 0, sizeof c);
    size_t last = p->nmeasurements - 1, len = p->measurement_lens[last];
    /* A worker that fits the policy, if one can: the TEE kind that carries
     * a measurement of that length and that the policy lists. */
    policy_tee t = len == POLICY_MEASUREMENT_MAX ? POLICY_TEE_TDX : tee_listed(p, POLICY_TEE_SIM) ? POLICY_TEE_SIM
                                                                                                  : POLICY_TEE_SGX;
    int fits = tee_listed(p, t);
    strcpy(c.tee, t == POLICY_TEE_TDX ? "tdx" : t == POLICY_TEE_SIM ? "sim" : "sgx");
    uint8_t *m = c.measurement;
    if (t == POLICY_TEE_TDX) {
        strcpy(c.fields[0].name, "mr_td");
        c.fields[0].len = POLICY_MEASUREMENT_MAX;
        c.nfields = 1;
        m = c.fields[0].value;
    }
    memcpy(m, p->measurements[last], len);
    if (p->min_tcb >= 0) strcpy(c.tcb_status, policy_tcb_statuses[p->min_tcb]);
    snprintf(c.engine, sizeof c.engine, "%s", p->engine);
    FUZZ_CHECK(policy_accepts(p, &c) == fits);
    if (!fits) return;
    snprintf(c.engine, sizeof c.engine, "%s/2.7.0", p->engine);
    FUZZ_CHECK(policy_accepts(p, &c));
    snprintf(c.engine, sizeof c.engine, "%sx", p->engine);
    FUZZ_CHECK(!policy_accepts(p, &c));
    c.engine[strlen(c.engine) - 1] = '\0';
    if (c.engine[0]) {
        c.engine[strlen(c.engine) - 1] = '\0'; /* a prefix of the engine's name */
        FUZZ_CHECK(!policy_accepts(p, &c));
    }
    snprintf(c.engine, sizeof c.engine, "%s", p->engine);
    if (p->min_tcb >= 0) {
        strcpy(c.tcb_status, p->min_tcb + 1 < POLICY_NTCB_STATUSES ? policy_tcb_statuses[p->min_tcb + 1] : "Revoked");
        FUZZ_CHECK(!policy_accepts(p, &c));
        strcpy(c.tcb_status, policy_tcb_statuses[0]);
        FUZZ_CHECK(policy_accepts(p, &c));
    }
    m[0] ^= 0x80;
    FUZZ_CHECK(policy_accepts(p, &c) == listed(p, m, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *in = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    policy p;
    char err[160] = "";
    if (policy_parse(in, &p, err, sizeof err) < 0) {
        FUZZ_CHECK(err[0] != '\0');
        json_decref(in);
        return 0;
    }
    FUZZ_CHECK(p.nmeasurements >= 1 && p.nmeasurements <= POLICY_MAX_MEASUREMENTS);
    size_t n = strlen(p.engine);
    FUZZ_CHECK(n >= 1 && n <= POLICY_MAX_ENGINE && !strchr(p.engine, '/'));

    json_t *canon = policy_json(&p);
    FUZZ_CHECK(canon != NULL);
    check_canonical(in, canon);
    policy again;
    FUZZ_CHECK(policy_parse(canon, &again, err, sizeof err) == 0);
    FUZZ_CHECK(memcmp(&p, &again, sizeof p) == 0);
    check_accepts(&p);
    json_decref(canon);
    json_decref(in);
    return 0;
}
