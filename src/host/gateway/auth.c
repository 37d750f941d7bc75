/* auth.c - Basic authentication header parsing; see auth.h. */
#include "host/gateway/auth.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

static int b64_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Decodes strict, padded base64 (what every client sends). EVP_DecodeBlock
 * does not reject stray characters in every position nor report padding,
 * so the text is checked here first. Returns the decoded length or -1. */
static int b64_decode(const char *in, size_t len, unsigned char *out, size_t out_size) {
    if (len == 0 || len % 4 != 0) return -1;
    size_t pad = 0;
    if (in[len - 1] == '=') pad++;
    if (in[len - 2] == '=') pad++;
    for (size_t i = 0; i < len - pad; i++)
        if (!b64_char((unsigned char)in[i])) return -1;
    if (len / 4 * 3 > out_size) return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    if (n < 0 || (size_t)n < pad) return -1;
    return n - (int)pad;
}

auth_status auth_parse_basic(const char *header, char uuid[AUTH_MAX_PART + 1], char key[AUTH_MAX_PART + 1]) {
    uuid[0] = key[0] = '\0';
    if (!header) return AUTH_MISSING;
    size_t hlen = strlen(header);
    if (hlen > AUTH_MAX_HEADER) return AUTH_MALFORMED;
    if (hlen < 6 || strncasecmp(header, "Basic ", 6) != 0) return AUTH_MALFORMED;
    const char *b64 = header + 6;
    while (*b64 == ' ') b64++;
    size_t blen = strlen(b64);
    while (blen && b64[blen - 1] == ' ') blen--;

    unsigned char raw[AUTH_MAX_HEADER];
    int n = b64_decode(b64, blen, raw, sizeof raw);
    if (n <= 0) return AUTH_MALFORMED;
    if (memchr(raw, '\0', (size_t)n)) return AUTH_MALFORMED;
    unsigned char *colon = memchr(raw, ':', (size_t)n);
    if (!colon) return AUTH_MALFORMED;
    size_t ulen = (size_t)(colon - raw), klen = (size_t)n - ulen - 1;
    if (ulen == 0 || klen == 0 || ulen > AUTH_MAX_PART || klen > AUTH_MAX_PART) return AUTH_MALFORMED;
    memcpy(uuid, raw, ulen);
    uuid[ulen] = '\0';
    memcpy(key, colon + 1, klen);
    key[klen] = '\0';
    return AUTH_OK;
}
