/* fuzz_auth.c - libFuzzer target for the gateway's Authorization header
 * parser (src/host/gateway/auth.c), which runs on every request before the
 * caller is known.
 *
 * Invariants: an accepted credential has a uuid and a key of 1..AUTH_MAX_PART
 * bytes, no NUL inside and no ':' in the uuid; encoding "uuid:key" again as a
 * Basic header parses back to the same two parts; a header over
 * AUTH_MAX_HEADER bytes or without the "Basic " scheme is refused. */
#include "fuzz.h"

#include "host/gateway/auth.h"

#include <openssl/evp.h>
#include <strings.h>

static void check_reencoded(const char *uuid, const char *key) {
    char plain[2 * AUTH_MAX_PART + 2];
    int n = snprintf(plain, sizeof plain, "%s:%s", uuid, key);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof plain);
    char header[6 + 4 * sizeof plain / 3 + 8] = "Basic ";
    EVP_EncodeBlock((unsigned char *)header + 6, (const unsigned char *)plain, n);
    char u2[AUTH_MAX_PART + 1], k2[AUTH_MAX_PART + 1];
    auth_status st = auth_parse_basic(header, u2, k2);
    /* a header this long is refused before decoding; nothing to compare */
    if (strlen(header) > AUTH_MAX_HEADER) return;
    FUZZ_CHECK(st == AUTH_OK);
    FUZZ_CHECK(strcmp(u2, uuid) == 0 && strcmp(k2, key) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *header = fuzz_cstr(data, size);
    char uuid[AUTH_MAX_PART + 1], key[AUTH_MAX_PART + 1];
    auth_status st = auth_parse_basic(header, uuid, key);
    if (st == AUTH_OK) {
        size_t ul = strlen(uuid), kl = strlen(key);
        FUZZ_CHECK(ul >= 1 && ul <= AUTH_MAX_PART && kl >= 1 && kl <= AUTH_MAX_PART);
        FUZZ_CHECK(strchr(uuid, ':') == NULL);
        FUZZ_CHECK(strlen(header) <= AUTH_MAX_HEADER && strncasecmp(header, "Basic ", 6) == 0);
        check_reencoded(uuid, key);
    } else {
        FUZZ_CHECK(st == AUTH_MALFORMED);
        FUZZ_CHECK(uuid[0] == '\0' && key[0] == '\0');
    }
    FUZZ_CHECK(auth_parse_basic(NULL, uuid, key) == AUTH_MISSING);
    free(header);
    return 0;
}
