/* test_merkle.c - RFC 9162 §2.1 Merkle tree hashing: the roots of the
 * eight-leaf test tree of Certificate Transparency's reference tests, the
 * audit path of every leaf of every tree up to 8 leaves verifying, and each
 * refusal (size 0, index out of range, a wrong index or size, a proof too
 * long or too short, a changed sibling or leaf). */
#include "check.h"

#include "common/merkle.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const ROOTS[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void to_hex(const uint8_t *b, char out[65]) {
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

int main(void) {
    static const uint8_t d1[] = {0x00}, d2[] = {0x10}, d3[] = {0x20, 0x21}, d4[] = {0x30, 0x31},
                         d5[] = {0x40, 0x41, 0x42, 0x43}, d6[] = {0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57},
                         d7[] = {0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
                                 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f};
    const uint8_t *data[8] = {(const uint8_t *)"", d1, d2, d3, d4, d5, d6, d7};
    const size_t lens[8] = {0, sizeof d1, sizeof d2, sizeof d3, sizeof d4, sizeof d5, sizeof d6, sizeof d7};
    uint8_t leaves[8][32], root[32], path[MERKLE_MAX_PATH + 1][32];
    for (int i = 0; i < 8; i++) merkle_leaf(data[i], lens[i], leaves[i]);
    const uint8_t (*lv)[32] = (const uint8_t (*)[32])leaves;
    const uint8_t (*pv)[32] = (const uint8_t (*)[32])path;

    for (size_t n = 1; n <= 8; n++) {
        char hex[65];
        CHECK(merkle_root(lv, n, root) == 0);
        to_hex(root, hex);
        CHECK_STR(hex, ROOTS[n - 1]);
        for (size_t m = 0; m < n; m++) {
            int np = merkle_path(lv, n, m, path);
            CHECK(np >= 0 && (n > 1 || np == 0));
            CHECK(merkle_verify(leaves[m], m, n, pv, (size_t)np, root) == MERKLE_OK);
            /* another leaf or index with this path (the size is not bound by
             * the path alone: the root's signature states it) */
            CHECK(merkle_verify(leaves[(m + 1) % 8], m, n, pv, (size_t)np, root) != MERKLE_OK);
            if (n > 1) CHECK(merkle_verify(leaves[m], (m + 1) % n, n, pv, (size_t)np, root) != MERKLE_OK);
            CHECK(merkle_verify(leaves[m], m, 2 * n + 1, pv, (size_t)np, root) != MERKLE_OK);
            CHECK(merkle_verify(leaves[m], n, n, pv, (size_t)np, root) == MERKLE_ERR_INDEX);
            /* a proof one hash too long, one too short, a sibling changed */
            memset(path[np], 0xab, 32);
            CHECK(merkle_verify(leaves[m], m, n, pv, (size_t)np + 1, root) == MERKLE_ERR_PATH);
            if (np > 0) {
                CHECK(merkle_verify(leaves[m], m, n, pv, (size_t)np - 1, root) != MERKLE_OK);
                path[np - 1][5] ^= 1;
                CHECK(merkle_verify(leaves[m], m, n, pv, (size_t)np, root) == MERKLE_ERR_ROOT);
            }
        }
    }
    CHECK(merkle_path(lv, 8, 8, path) < 0);
    CHECK(merkle_path(lv, 0, 0, path) < 0);
    CHECK(merkle_root(lv, 0, root) < 0);
    CHECK(merkle_verify(leaves[0], 0, 0, pv, 0, root) == MERKLE_ERR_SIZE);
    /* a huge tree: a path of the right length verifies against nothing, and
     * one longer than any tree's path is refused before hashing */
    memset(path, 7, sizeof path);
    CHECK(merkle_verify(leaves[0], (1ull << 40) - 1, 1ull << 40, pv, 40, root) == MERKLE_ERR_ROOT);
    CHECK(merkle_verify(leaves[0], 0, UINT64_MAX, pv, MERKLE_MAX_PATH + 1, root) == MERKLE_ERR_PATH);
    CHECK(merkle_verify(leaves[0], UINT64_MAX - 1, UINT64_MAX, pv, MERKLE_MAX_PATH, root) != MERKLE_OK);
    return CHECK_DONE();
}
