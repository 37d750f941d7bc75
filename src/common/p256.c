/* p256.c - P-256 key helpers over OpenSSL 3; see p256.h. */
#include "common/p256.h"

#include "common/b64url.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int p256_is_key(EVP_PKEY *key) {
    char group[32];
    size_t len = 0;
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1)
        return 0;
    return strcmp(group, "prime256v1") == 0;
}

EVP_PKEY *p256_generate(void) {
    return EVP_EC_gen("prime256v1");
}

int p256_public_point(EVP_PKEY *key, uint8_t out[P256_POINT_LEN]) {
    size_t len = 0;
    if (!p256_is_key(key)) return -1;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, out, P256_POINT_LEN, &len) != 1 ||
        len != P256_POINT_LEN || out[0] != 0x04)
        return -1;
    return 0;
}

/* key when OpenSSL's check passes on it; otherwise (or for NULL) frees it
 * and returns NULL. */
static EVP_PKEY *passes(EVP_PKEY *key, int (*check)(EVP_PKEY_CTX *)) {
    if (!key) return NULL;
    EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok = chk && check(chk) == 1;
    EVP_PKEY_CTX_free(chk);
    if (ok) return key;
    EVP_PKEY_free(key);
    return NULL;
}

EVP_PKEY *p256_from_point(const uint8_t *point, size_t len) {
    if (len != P256_POINT_LEN || point[0] != 0x04) return NULL;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, len),
        OSSL_PARAM_construct_end(),
    };
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    /* fromdata decodes the point; an explicit check refuses points off the curve. */
    return passes(key, EVP_PKEY_public_check);
}

EVP_PKEY *p256_from_private_scalar(const uint8_t d[P256_COORD_LEN], const uint8_t point[P256_POINT_LEN]) {
    EVP_PKEY *key = NULL;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    BIGNUM *bn = BN_secure_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!b || !bn || !ctx || !BN_bin2bn(d, P256_COORD_LEN, bn) ||
        OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, bn) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point, P256_POINT_LEN) != 1 ||
        !(params = OSSL_PARAM_BLD_to_param(b)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    BN_clear_free(bn);
    /* The point on the curve, d in range and d·G = point. */
    return passes(passes(key, EVP_PKEY_public_check), EVP_PKEY_pairwise_check);
}

/* x and y of the key as base64url strings. */
static int coords_b64(EVP_PKEY *key, char x[P256_THUMBPRINT_LEN + 1], char y[P256_THUMBPRINT_LEN + 1]) {
    uint8_t pt[P256_POINT_LEN];
    if (p256_public_point(key, pt) < 0) return -1;
    b64url_encode(pt + 1, P256_COORD_LEN, x);
    b64url_encode(pt + 1 + P256_COORD_LEN, P256_COORD_LEN, y);
    return 0;
}

char *p256_public_jwk(EVP_PKEY *key) {
    char x[P256_THUMBPRINT_LEN + 1], y[P256_THUMBPRINT_LEN + 1], *out = NULL;
    if (coords_b64(key, x, y) < 0) return NULL;
    if (asprintf(&out, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y) < 0) return NULL;
    return out;
}

EVP_PKEY *p256_from_jwk(const json_t *jwk) {
    const char *x = json_string_value(json_object_get(jwk, "x"));
    const char *y = json_string_value(json_object_get(jwk, "y"));
    uint8_t pt[P256_POINT_LEN];
    pt[0] = 0x04;
    if (!x || !y || b64url_decode(x, strlen(x), pt + 1, P256_COORD_LEN) != P256_COORD_LEN ||
        b64url_decode(y, strlen(y), pt + 1 + P256_COORD_LEN, P256_COORD_LEN) != P256_COORD_LEN)
        return NULL;
    return p256_from_point(pt, sizeof pt);
}

int p256_thumbprint(EVP_PKEY *key, char out[P256_THUMBPRINT_LEN + 1]) {
    /* RFC 7638 §3.2: the required members in lexicographic order, no spaces:
     * exactly the text p256_public_jwk writes. */
    char *jwk = p256_public_jwk(key);
    if (!jwk) return -1;
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)jwk, strlen(jwk), digest);
    free(jwk);
    b64url_encode(digest, sizeof digest, out);
    return 0;
}

uint8_t *p256_private_der(EVP_PKEY *key, size_t *len) {
    if (!p256_is_key(key)) return NULL;
    uint8_t *der = NULL;
    int n = i2d_PrivateKey(key, &der);
    if (n <= 0) return NULL;
    /* Copy into malloc'd memory so the caller frees it like everything else. */
    uint8_t *out = malloc((size_t)n);
    if (out) memcpy(out, der, (size_t)n);
    OPENSSL_clear_free(der, (size_t)n);
    *len = (size_t)n;
    return out;
}

EVP_PKEY *p256_from_private_der(const uint8_t *der, size_t len) {
    if (!der || len == 0 || len > 4096) return NULL;
    const uint8_t *p = der;
    EVP_PKEY *key = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)len);
    if (key && (!p256_is_key(key) || p != der + len)) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    return key;
}

int p256_private_scalar(EVP_PKEY *key, uint8_t out[P256_COORD_LEN]) {
    BIGNUM *d = NULL;
    if (!p256_is_key(key) || EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) return -1;
    int rc = BN_bn2binpad(d, out, P256_COORD_LEN) == (int)P256_COORD_LEN ? 0 : -1;
    BN_clear_free(d);
    return rc;
}

static int write_pem(EVP_PKEY *key, const char *path, int private_key) {
    if (!p256_is_key(key)) return -1;
    /* O_NOFOLLOW: a link planted at path is refused, not written through. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, private_key ? 0600 : 0644);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    int ok = private_key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                         : PEM_write_PUBKEY(f, key);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) ok = 0;
    if (fclose(f) != 0) ok = 0;
    return ok == 1 ? 0 : -1;
}

int p256_write_public_pem(EVP_PKEY *key, const char *path) { return write_pem(key, path, 0); }
int p256_write_private_pem(EVP_PKEY *key, const char *path) { return write_pem(key, path, 1); }

static EVP_PKEY *checked(EVP_PKEY *key) {
    if (key && !p256_is_key(key)) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

static EVP_PKEY *read_pem(const char *path, int private_key) {
    FILE *f = fopen(path, "re");
    if (!f) return NULL;
    EVP_PKEY *key = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    return checked(key);
}

EVP_PKEY *p256_read_public_pem(const char *path) { return read_pem(path, 0); }
EVP_PKEY *p256_read_private_pem(const char *path) { return read_pem(path, 1); }

static EVP_PKEY *from_pem(const char *pem, size_t len, int private_key) {
    if (len > 1 << 16) return NULL;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b) return NULL;
    EVP_PKEY *key = private_key ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)
                                : PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    return checked(key);
}

EVP_PKEY *p256_public_from_pem(const char *pem, size_t len) { return from_pem(pem, len, 0); }
EVP_PKEY *p256_private_from_pem(const char *pem, size_t len) { return from_pem(pem, len, 1); }

/* PEM text of either half, malloc'd; the private one is cleansed from the
 * BIO's buffer before it is freed. */
static char *to_pem(EVP_PKEY *key, int private_key, size_t *len) {
    if (!p256_is_key(key)) return NULL;
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (b && (private_key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_bio_PUBKEY(b, key)) == 1) {
        char *data = NULL;
        long n = BIO_get_mem_data(b, &data);
        if (n > 0 && (out = malloc((size_t)n + 1))) {
            memcpy(out, data, (size_t)n);
            out[n] = '\0';
            if (len) *len = (size_t)n;
        }
        if (n > 0 && private_key) OPENSSL_cleanse(data, (size_t)n);
    }
    BIO_free(b);
    return out;
}

char *p256_public_pem(EVP_PKEY *key) { return to_pem(key, 0, NULL); }
char *p256_private_pem(EVP_PKEY *key, size_t *len) { return to_pem(key, 1, len); }
