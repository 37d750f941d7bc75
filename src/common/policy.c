/* policy.c - release policies of confidential functions; see policy.h. */
#include "common/policy.h"

#include "common/snp_report.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const policy_tcb_statuses[POLICY_NTCB_STATUSES] = {
    "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded", "OutOfDate",
    "OutOfDateConfigurationNeeded",
};

static const char *const TEE_NAMES[POLICY_MAX_TEES] = {"sim", "sgx", "tdx", "sev-snp"};

/* The index of a whole JSON string (no NUL inside) in names, or -1. */
static int name_index(const json_t *v, const char *const *names, size_t n) {
    const char *s = json_string_value(v);
    if (!s || strlen(s) != json_string_length(v)) return -1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, names[i])) return (int)i;
    return -1;
}

/* tee, min_tcb_status and max_vmpl, all optional. */
static int parse_tee(const json_t *j, policy *out, char *err, size_t errlen) {
    out->min_tcb = -1;
    const json_t *tees = json_object_get(j, "tee"), *min = json_object_get(j, "min_tcb_status"),
                 *vmpl = json_object_get(j, "max_vmpl");
    if (vmpl) {
        if (!json_is_integer(vmpl) || json_integer_value(vmpl) < 0 || json_integer_value(vmpl) > SNP_MAX_VMPL)
            return snprintf(err, errlen, "the policy's max_vmpl must be an integer 0..3"), -1;
        out->vmpl_bound = 1 + (int)json_integer_value(vmpl);
    }
    size_t i;
    const json_t *v;
    if (tees && (!json_is_array(tees) || json_array_size(tees) == 0 || json_array_size(tees) > POLICY_MAX_TEES))
        return snprintf(err, errlen, "the policy's tee must be 1..%u of \"sim\", \"sgx\", \"tdx\", \"sev-snp\"",
                        POLICY_MAX_TEES), -1;
    json_array_foreach(tees, i, v) {
        int t = name_index(v, TEE_NAMES, POLICY_MAX_TEES);
        for (size_t k = 0; t >= 0 && k < i; k++)
            if (out->tees[k] == (policy_tee)t) t = -1;
        if (t < 0) return snprintf(err, errlen, "policy tee %zu is not a TEE kind named once", i), -1;
        out->tees[i] = (policy_tee)t;
    }
    out->ntees = json_array_size(tees);
    if (min && (out->min_tcb = name_index(min, policy_tcb_statuses, POLICY_NTCB_STATUSES)) < 0)
        return snprintf(err, errlen, "the policy's min_tcb_status is not one of Intel's TCB statuses "
                        "(UpToDate ... OutOfDateConfigurationNeeded)"), -1;
    return 0;
}

int policy_parse(const json_t *j, policy *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!json_is_object(j)) return snprintf(err, errlen, "the policy is not a JSON object"), -1;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        if (strcmp(key, "measurements") && strcmp(key, "engine") && strcmp(key, "invokers") && strcmp(key, "tee") &&
            strcmp(key, "min_tcb_status") && strcmp(key, "max_vmpl"))
            return snprintf(err, errlen, "the policy has an unknown member '%.64s'", key), -1;
    }
    json_t *ms = json_object_get(j, "measurements");
    if (!json_is_array(ms) || json_array_size(ms) == 0 || json_array_size(ms) > POLICY_MAX_MEASUREMENTS)
        return snprintf(err, errlen, "the policy needs 1..%u measurements", POLICY_MAX_MEASUREMENTS), -1;
    size_t i;
    /* By length: a JSON string may hold a NUL, which would end the C string
     * early and leave what follows it unchecked. */
    json_array_foreach(ms, i, v) {
        size_t n = json_string_length(v) / 2;
        if ((n != EVIDENCE_MEASUREMENT_LEN && n != POLICY_MEASUREMENT_MAX) || json_string_length(v) != 2 * n ||
            evidence_unhex(json_string_value(v), out->measurements[i], n) < 0)
            return snprintf(err, errlen, "policy measurement %zu is not 64 or 96 hex digits", i), -1;
        out->measurement_lens[i] = n;
    }
    out->nmeasurements = json_array_size(ms);
    if (parse_tee(j, out, err, errlen) < 0) return -1;
    const json_t *ev = json_object_get(j, "engine");
    const char *engine = json_string_value(ev);
    if (!engine || !*engine || strlen(engine) != json_string_length(ev) || strlen(engine) > POLICY_MAX_ENGINE ||
        strchr(engine, '/'))
        return snprintf(err, errlen, "the policy needs an engine name such as \"duktape\""), -1;
    strcpy(out->engine, engine);
    /* Invoker keys: exactly the JWK members a canonical key has, so the
     * canonical policy equals the one given as a JSON value. */
    const json_t *inv = json_object_get(j, "invokers");
    if (!inv) return 0;
    if (!json_is_array(inv) || json_array_size(inv) == 0 || json_array_size(inv) > POLICY_MAX_INVOKERS)
        return snprintf(err, errlen, "the policy's invokers must be 1..%u keys", POLICY_MAX_INVOKERS), -1;
    json_array_foreach(inv, i, v) {
        /* By length, as for measurements: a NUL must not cut a member short
         * (43 characters: 32 bytes, base64url unpadded). */
        const json_t *crv = json_object_get(v, "crv"), *kty = json_object_get(v, "kty"), *x = json_object_get(v, "x"),
                     *y = json_object_get(v, "y");
        int form = json_object_size(v) == 4 && json_string_length(crv) == 5 && json_string_length(kty) == 2 &&
                   !strcmp(json_string_value(crv), "P-256") && !strcmp(json_string_value(kty), "EC") &&
                   json_string_length(x) == 43 && strlen(json_string_value(x)) == 43 &&
                   json_string_length(y) == 43 && strlen(json_string_value(y)) == 43;
        EVP_PKEY *k = form ? p256_from_jwk(v) : NULL;
        int ok = k && p256_public_point(k, out->invokers[i]) == 0;
        EVP_PKEY_free(k);
        if (!ok)
            return snprintf(err, errlen, "policy invoker %zu is not a P-256 public key as a JWK of exactly crv, "
                            "kty, x and y", i), -1;
    }
    out->ninvokers = json_array_size(inv);
    return 0;
}

json_t *policy_json(const policy *p) {
    json_t *ms = json_array();
    for (size_t i = 0; ms && i < p->nmeasurements; i++) {
        char hex[2 * POLICY_MEASUREMENT_MAX + 1];
        size_t n = p->measurement_lens[i] == POLICY_MEASUREMENT_MAX ? POLICY_MEASUREMENT_MAX : EVIDENCE_MEASUREMENT_LEN;
        evidence_hex(p->measurements[i], n, hex);
        json_array_append_new(ms, json_string(hex));
    }
    json_t *j = ms ? json_pack("{s:o, s:s}", "measurements", ms, "engine", p->engine) : NULL;
    json_t *tees = p->ntees ? json_array() : NULL;
    for (size_t i = 0; tees && i < p->ntees; i++) json_array_append_new(tees, json_string(TEE_NAMES[p->tees[i]]));
    if (j && ((p->ntees && json_object_set_new(j, "tee", tees) < 0) ||
              (p->min_tcb >= 0 && p->min_tcb < POLICY_NTCB_STATUSES &&
               json_object_set_new(j, "min_tcb_status", json_string(policy_tcb_statuses[p->min_tcb])) < 0) ||
              (p->vmpl_bound > 0 && json_object_set_new(j, "max_vmpl", json_integer(p->vmpl_bound - 1)) < 0))) {
        json_decref(j);
        return NULL;
    }
    if (!j || !p->ninvokers) return j;
    json_t *inv = json_array();
    for (size_t i = 0; inv && i < p->ninvokers; i++) {
        EVP_PKEY *k = p256_from_point(p->invokers[i], P256_POINT_LEN);
        char *jwk = k ? p256_public_jwk(k) : NULL;
        json_t *v = jwk ? json_loads(jwk, 0, NULL) : NULL;
        EVP_PKEY_free(k);
        free(jwk);
        if (!v || json_array_append_new(inv, v) < 0) {
            json_decref(inv);
            inv = NULL;
        }
    }
    if (!inv || json_object_set_new(j, "invokers", inv) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int policy_accepts(const policy *p, const evidence_claims *c) {
    size_t n = strlen(p->engine);
    if (strncmp(c->engine, p->engine, n) != 0 || (c->engine[n] != '\0' && c->engine[n] != '/')) return 0;
    if (p->ntees) {
        int listed = 0;
        for (size_t i = 0; i < p->ntees && !listed; i++) listed = !strcmp(c->tee, TEE_NAMES[p->tees[i]]);
        if (!listed) return 0;
    }
    if (p->min_tcb >= 0) {
        int rank = -1;
        for (int i = 0; i < POLICY_NTCB_STATUSES && rank < 0; i++)
            if (!strcmp(c->tcb_status, policy_tcb_statuses[i])) rank = i;
        if (rank < 0 || rank > p->min_tcb) return 0;
    }
    if (p->vmpl_bound > 0) {
        const evidence_field *v = evidence_field_get(c, "vmpl");
        if (!v || v->len != 1 || v->value[0] >= p->vmpl_bound) return 0;
    }
    for (size_t i = 0; i < p->nmeasurements; i++) {
        size_t len;
        const uint8_t *m = evidence_claims_measurement(c, &len);
        if (m && len == p->measurement_lens[i] && CRYPTO_memcmp(p->measurements[i], m, len) == 0) return 1;
    }
    return 0;
}
