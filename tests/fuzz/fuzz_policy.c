/* fuzz_policy.c - libFuzzer target for confidential functions' release
 * policies (src/common/policy.c): the KMS enclave parses the policy of every
 * package a deployer sends and of every sealed record the host hands back,
 * and the CLI the one a certificate states. The bytes are JSON text, read
 * with jansson's most permissive flags (NULs allowed in strings; the KMS and
 * the CLI load without them today), so the parser holds whatever its callers
 * choose.
 *
 * Invariants: a refusal says why; an accepted policy has 1..16 measurements
 * and an engine name of 1..32 bytes without '/' that is the whole JSON string
 * (a NUL cannot cut it short), and each measurement is the whole string too;
 * policy_json gives the canonical form, which parses back to the same policy
 * and differs from the input only in the case of hex digits (invoker keys:
 * not at all, and absent when the input had none); policy_accepts
 * takes a worker with a listed measurement and the engine (bare or
 * "engine/version") and refuses another engine or an unlisted measurement. */
#include "fuzz.h"

#include "common/policy.h"

#include <ctype.h>
#include <strings.h>

static int listed(const policy *p, const uint8_t *m) {
    for (size_t i = 0; i < p->nmeasurements; i++)
        if (memcmp(p->measurements[i], m, EVIDENCE_MEASUREMENT_LEN) == 0) return 1;
    return 0;
}

/* The canonical JSON says what the input said, up to hex case. */
static void check_canonical(const json_t *in, const json_t *canon) {
    const json_t *e_in = json_object_get(in, "engine"), *e_out = json_object_get(canon, "engine");
    FUZZ_CHECK(json_is_string(e_out) && json_equal((json_t *)e_in, (json_t *)e_out));
    const json_t *m_in = json_object_get(in, "measurements"), *m_out = json_object_get(canon, "measurements");
    FUZZ_CHECK(json_array_size(m_in) == json_array_size(m_out));
    for (size_t i = 0; i < json_array_size(m_in); i++) {
        const json_t *a = json_array_get(m_in, i), *b = json_array_get(m_out, i);
        FUZZ_CHECK(json_string_length(a) == 2 * EVIDENCE_MEASUREMENT_LEN);
        FUZZ_CHECK(json_string_length(b) == 2 * EVIDENCE_MEASUREMENT_LEN);
        FUZZ_CHECK(strcasecmp(json_string_value(a), json_string_value(b)) == 0);
        for (const char *c = json_string_value(b); *c; c++) FUZZ_CHECK(isxdigit((unsigned char)*c) && !isupper((unsigned char)*c));
    }
    const json_t *i_in = json_object_get(in, "invokers"), *i_out = json_object_get(canon, "invokers");
    FUZZ_CHECK(i_in ? i_out && json_equal((json_t *)i_in, (json_t *)i_out) : !i_out);
}

static void check_accepts(const policy *p) {
    evidence_claims c;
    memset(&c, 0, sizeof c);
    memcpy(c.measurement, p->measurements[p->nmeasurements - 1], EVIDENCE_MEASUREMENT_LEN);
    snprintf(c.engine, sizeof c.engine, "%s", p->engine);
    FUZZ_CHECK(policy_accepts(p, &c));
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
    c.measurement[0] ^= 0x80;
    FUZZ_CHECK(policy_accepts(p, &c) == listed(p, c.measurement));
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
