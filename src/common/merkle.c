/* merkle.c - RFC 9162 §2.1 Merkle tree hashing; see merkle.h. */
#include "common/merkle.h"

#include "common/sha256.h"

#include <string.h>

/* SHA-256(prefix || a || b); b may be NULL. */
static void hash2(uint8_t prefix, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                  uint8_t out[MERKLE_HASH_LEN]) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok = md && sha256_md() && EVP_DigestInit_ex(md, sha256_md(), NULL) == 1 &&
             EVP_DigestUpdate(md, &prefix, 1) == 1 && EVP_DigestUpdate(md, a, alen) == 1 &&
             (!b || EVP_DigestUpdate(md, b, blen) == 1) && EVP_DigestFinal_ex(md, out, &n) == 1;
    EVP_MD_CTX_free(md);
    /* Out of memory: a hash no input has (all zero is as unlikely as any
     * other), so a proof made from it fails verification, never passes. */
    if (!ok) memset(out, 0, MERKLE_HASH_LEN);
}

static void node(const uint8_t l[MERKLE_HASH_LEN], const uint8_t r[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN]) {
    hash2(0x01, l, MERKLE_HASH_LEN, r, MERKLE_HASH_LEN, out);
}

const char *merkle_result_name(merkle_result r) {
    switch (r) {
    case MERKLE_OK: return "ok";
    case MERKLE_ERR_SIZE: return "the tree size is 0";
    case MERKLE_ERR_INDEX: return "the leaf index is not below the tree size";
    case MERKLE_ERR_PATH: return "the proof's length does not fit the leaf index and tree size";
    case MERKLE_ERR_ROOT: return "the claims and the proof do not lead to the signed root";
    }
    return "unknown";
}

void merkle_leaf(const uint8_t *data, size_t len, uint8_t out[MERKLE_HASH_LEN]) {
    hash2(0x00, data, len, NULL, 0, out);
}

/* The largest power of two below n (n >= 2). */
static size_t split(size_t n) {
    size_t k = 1;
    while (k << 1 < n) k <<= 1;
    return k;
}

static void mth(const uint8_t (*d)[MERKLE_HASH_LEN], size_t n, uint8_t out[MERKLE_HASH_LEN]) {
    if (n == 1) {
        memcpy(out, d[0], MERKLE_HASH_LEN);
        return;
    }
    size_t k = split(n);
    uint8_t l[MERKLE_HASH_LEN], r[MERKLE_HASH_LEN];
    mth(d, k, l);
    mth(d + k, n - k, r);
    node(l, r, out);
}

int merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, uint8_t out[MERKLE_HASH_LEN]) {
    if (n < 1 || n > MERKLE_MAX_LEAVES) return -1;
    mth(leaves, n, out);
    return 0;
}

/* PATH(m, D[n]) appended at path[len...]; the new length. */
static int path_of(const uint8_t (*d)[MERKLE_HASH_LEN], size_t n, size_t m, uint8_t (*path)[MERKLE_HASH_LEN], int len) {
    if (n <= 1) return len;
    size_t k = split(n);
    if (m < k) {
        len = path_of(d, k, m, path, len);
        mth(d + k, n - k, path[len]);
    } else {
        len = path_of(d + k, n - k, m - k, path, len);
        mth(d, k, path[len]);
    }
    return len + 1;
}

int merkle_path(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, size_t m, uint8_t (*path)[MERKLE_HASH_LEN]) {
    if (n < 1 || n > MERKLE_MAX_LEAVES || m >= n) return -1;
    return path_of(leaves, n, m, path, 0);
}

merkle_result merkle_verify(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index, uint64_t size,
                            const uint8_t (*path)[MERKLE_HASH_LEN], size_t path_len,
                            const uint8_t root[MERKLE_HASH_LEN]) {
    if (size == 0) return MERKLE_ERR_SIZE;
    if (index >= size) return MERKLE_ERR_INDEX;
    if (path_len > MERKLE_MAX_PATH) return MERKLE_ERR_PATH;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[MERKLE_HASH_LEN];
    memcpy(r, leaf, MERKLE_HASH_LEN);
    for (size_t i = 0; i < path_len; i++) {
        if (sn == 0) return MERKLE_ERR_PATH;
        if ((fn & 1) || fn == sn) {
            node(path[i], r, r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            node(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) return MERKLE_ERR_PATH;
    return memcmp(r, root, MERKLE_HASH_LEN) == 0 ? MERKLE_OK : MERKLE_ERR_ROOT;
}
