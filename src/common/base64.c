/* base64.c - standard base64 decoding over OpenSSL's EVP_DecodeBlock, with
 * the padding and white-space rules of base64.h. */
#include "common/base64.h"

#include <openssl/evp.h>
#include <stdlib.h>

uint8_t *base64_decode_alloc(const char *text, size_t len, size_t *out_len) {
    char *clean = malloc(len + 1);
    if (!clean) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') clean[n++] = text[i];
    clean[n] = '\0';
    uint8_t *out = n > 0 && n % 4 == 0 && n <= (size_t)INT32_MAX ? malloc(n / 4 * 3 + 1) : NULL;
    int got = out ? EVP_DecodeBlock(out, (const unsigned char *)clean, (int)n) : -1;
    size_t pad = n >= 1 && clean[n - 1] == '=' ? (n >= 2 && clean[n - 2] == '=' ? 2 : 1) : 0;
    /* EVP_DecodeBlock takes '=' only at the end, and counts it as zero bytes */
    for (size_t i = 0; got >= 0 && i + pad < n; i++)
        if (clean[i] == '=') got = -1;
    free(clean);
    if (got < 0) {
        free(out);
        return NULL;
    }
    *out_len = (size_t)got - pad;
    out[*out_len] = 0;
    return out;
}
