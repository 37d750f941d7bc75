/* fuzz_key.h - the fixed P-256 key of the JWS and evidence fuzz targets, so
 * that their seed corpora hold inputs that really verify (and the fuzzer
 * explores the claim parsers behind the signature check). Test-only key. */
#ifndef TFAAS_TESTS_FUZZ_KEY_H
#define TFAAS_TESTS_FUZZ_KEY_H

#include "common/p256.h"

#include <string.h>

static const char FUZZ_KEY_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgLSMmCMaXwy0ZHzxM\n"
    "1/chNZZfYYXRBLGuJR65GlyVAOGhRANCAATKfKNJBBr0zq9RCRNe++pWhAnCc2t8\n"
    "RjBItM5ChBxsAtFf0oV8sinFl9fSls9MlueUy8gys/pK2FTWf73VL8vD\n"
    "-----END PRIVATE KEY-----\n";

/* The key, made once and kept for the whole run. */
static inline EVP_PKEY *fuzz_key(void) {
    static EVP_PKEY *key;
    if (!key) key = p256_private_from_pem(FUZZ_KEY_PEM, strlen(FUZZ_KEY_PEM));
    return key;
}

#endif
